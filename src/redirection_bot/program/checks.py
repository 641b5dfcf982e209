"""Checks of the whole program, one function per rule, each adding located diagnostics."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from redirection_bot.diagnostics import Diagnostics, Span
from redirection_bot.dialogue.conditions import ConditionChecker
from redirection_bot.dialogue.graph import Edge, node_waits, program_edges
from redirection_bot.dialogue.lexicon import typed_word_keys
from redirection_bot.dialogue.model import (
    ELSEWHERE_SUFFIX,
    HERE_SUFFIX,
    REPEATED_SUFFIX,
    RUNTIME_SLOTS,
    SITUATION_SUFFIXES,
    Node,
    NodeKind,
    Place,
    PlaceRef,
    Program,
    SlotType,
    Transition,
)
from redirection_bot.engine.step import COMMAND_CHOICE_PREFIX, EngineKeys
from redirection_bot.language.i18n import (
    Catalog,
    Entry,
    FallbackPolicy,
    bare_placeholders,
    placeholders,
)
from redirection_bot.language.suggest import did_you_mean
from redirection_bot.translation.records import LocaleRecords
from redirection_bot.translation.status import TranslationStatus, translation_rows


@dataclass(frozen=True, slots=True)
class TextUse:
    """A place where the program uses a text, by key."""

    key: str
    span: Span
    shows_slots: bool = True
    """Whether the text's placeholders must be slots (false for texts an action fills)."""


def run_checks(
    program: Program,
    catalog: Catalog,
    registered_actions: Collection[str] | None,
    diagnostics: Diagnostics,
    extra_entry_flows: Iterable[str] = (),
    extra_text_uses: Iterable[TextUse] = (),
    translation_records: Mapping[str, LocaleRecords] | None = None,
) -> None:
    """Every whole-program check. ``registered_actions`` None skips the action registry check."""
    check_targets(program, diagnostics)
    check_safety_routes(program, diagnostics)
    check_choices(program, diagnostics)
    check_inputs(program, diagnostics)
    check_conditions(program, diagnostics)
    check_dead_ends(program, diagnostics)
    all_edges = program_edges(program)
    edges = [edge for edge in all_edges if edge.kind != "after_call"]
    summarised = [edge for edge in all_edges if edge.kind != "return"]
    check_reachability(program, edges, diagnostics, extra_entry_flows)
    check_waitless_loops(program, all_edges, diagnostics)
    check_actions(program, registered_actions, catalog, diagnostics)
    check_runtime_slots(program, diagnostics)
    check_slots_are_set(program, diagnostics)
    check_texts(program, catalog, diagnostics, extra_text_uses)
    check_slots_set_before_shown(program, catalog, summarised, diagnostics, extra_entry_flows)
    check_translations_up_to_date(program, catalog, translation_records or {}, diagnostics)


# --- targets and structure ---------------------------------------------------------------------


def _targets(program: Program) -> Iterable[tuple[PlaceRef, str]]:
    yield program.entry, "the entry"
    yield program.home, "home"
    if program.partner_entry is not None:
        yield program.partner_entry, "the partner entry"
    if program.return_entry is not None:
        yield program.return_entry, "the return entry"
    for flow_id in program.help_flows:
        yield PlaceRef(flow_id, None, program.span), "`help_flows`"
    for node in program.all_nodes():
        for transition in _node_transitions(node):
            if transition.goto is not None:
                yield transition.goto, "this target"


def _node_transitions(node: Node) -> list[Transition]:
    found = [choice.then for choice in node.choices]
    found += [branch.then for branch in node.branches]
    found += [t for t in (node.otherwise, node.then) if t is not None]
    return found


def _calls(program: Program) -> Iterable[tuple[str, Span]]:
    for node in program.all_nodes():
        for transition in _node_transitions(node):
            if transition.call is not None:
                yield transition.call, transition.call_span or node.span
    yield from program.command_calls()


def check_targets(program: Program, diagnostics: Diagnostics) -> None:
    """Every ``next``, ``goto``, ``call``, entry and start names something that exists."""
    for flow in program.flows.values():
        if flow.start not in flow.nodes:
            diagnostics.error(
                flow.start_span,
                f"the start node `{flow.start}` is not a node of `{flow.id}`{did_you_mean(flow.start, flow.nodes)}",
            )
    for target, what in _targets(program):
        target_flow = program.flows.get(target.flow)
        if target_flow is None:
            diagnostics.error(
                target.span,
                f"{what} goes to the flow `{target.flow}`, which does not exist"
                f"{did_you_mean(target.flow, program.flows)}",
            )
        elif target.node is not None and target.node not in target_flow.nodes:
            diagnostics.error(
                target.span,
                f"{what} goes to `{target.node}`, which is not a node of `{target_flow.id}`"
                f"{did_you_mean(target.node, target_flow.nodes)}",
            )
    for called, span in _calls(program):
        if called not in program.flows:
            diagnostics.error(
                span,
                f"`call` names the flow `{called}`, which does not exist{did_you_mean(called, program.flows)}",
            )


def check_safety_routes(program: Program, diagnostics: Diagnostics) -> None:
    """Each safety route names an existing flow (and nodes of it); safety flows can go back."""
    for route in program.safety:
        flow = program.flows.get(route.flow)
        if flow is None:
            diagnostics.error(
                route.span,
                f"the safety flow for `{route.category}` is `{route.flow}`, which does not exist"
                f"{did_you_mean(route.flow, program.flows)}",
            )
            continue
        named = (("check", route.check), ("again", route.again), ("answered_at", route.answered_at))
        for field_name, node_id in named:
            if node_id is not None and node_id not in flow.nodes:
                diagnostics.error(
                    route.span,
                    f"`{field_name}: {node_id}` is not a node of `{flow.id}`"
                    f"{did_you_mean(node_id, flow.nodes)}",
                )
        if route.answered_by and route.answered_at is None:
            diagnostics.error(
                route.span, "`answered_by` needs `answered_at`: the question answered"
            )
        question = flow.nodes.get(route.answered_at) if route.answered_at else None
        if question is not None:
            ids = {choice.id for choice in question.choices}
            for choice_id in route.answered_by:
                if choice_id not in ids:
                    diagnostics.error(
                        route.span,
                        f"`answered_by: {choice_id}` is not a choice of `{route.answered_at}`"
                        f"{did_you_mean(choice_id, ids)}",
                    )
        for node_id in route.settled_at:
            settled = flow.nodes.get(node_id)
            if settled is None or not settled.kind.waits:
                diagnostics.error(
                    route.span,
                    f"`settled_at: {node_id}` is not a question of `{flow.id}`"
                    f"{did_you_mean(node_id, flow.nodes) if settled is None else ''}",
                )
        for choice_id in route.about_another:
            if choice_id not in route.answered_by:
                diagnostics.error(
                    route.span,
                    f"`about_another: {choice_id}` is not one of `answered_by`"
                    f"{did_you_mean(choice_id, route.answered_by)}",
                )
        if route.about_another and (route.check is None or not route.settled_at):
            diagnostics.error(
                route.span,
                "`about_another` needs `check` (the question about the person) and `settled_at`"
                " (where it is asked)",
            )
        if not any(node.kind is NodeKind.RETURN for node in flow.nodes.values()):
            diagnostics.warning(
                flow.span,
                f"the safety flow `{flow.id}` has no `return`: it cannot offer to go back to "
                "where the person was",
            )


def check_choices(program: Program, diagnostics: Diagnostics) -> None:
    """Choice ids are unique within their node and do not clash with generated ones; a choice
    only typed has words, and leaves a button beside it."""
    for node in program.all_nodes():
        seen: dict[str, Span] = {}
        if node.input is not None and node.input.slot in program.slots:
            for generated in node.input.offered(program.slots[node.input.slot]):
                seen[generated] = node.input.span
        for choice in node.choices:
            if choice.id.startswith(COMMAND_CHOICE_PREFIX.rstrip(":")):
                diagnostics.error(
                    choice.span, "choice ids starting with `command` are kept for global commands"
                )
            if choice.id in seen:
                diagnostics.error(
                    choice.span,
                    f"two choices of `{node.id}` have the id `{choice.id}` (the other at line {seen[choice.id].line})",
                )
            seen[choice.id] = choice.span
            if choice.typed_only and choice.words is None:
                diagnostics.error(
                    choice.span,
                    f"the choice `{choice.id}` is `typed_only` but has no `words`: nothing can"
                    " take it",
                )
        if all(c.typed_only for c in node.choices) and node.choices and node.input is None:
            diagnostics.error(
                node.span, f"every choice of `{node.id}` is `typed_only`: no button is left"
            )
        if (
            node.kind is NodeKind.ASK
            and node.choices
            and all(c.when is not None for c in node.choices)
        ):
            diagnostics.warning(
                node.span, f"every choice of `{node.id}` has a `when`: at times none may show"
            )
        if node.kind is NodeKind.ASK and not node.choices:
            diagnostics.error(node.span, f"`{node.id}` has an empty list of choices")
        if not _is_checklist(program, node):
            _check_choice_targets(node, diagnostics)


def _check_choice_targets(node: Node, diagnostics: Diagnostics) -> None:
    """A choice without ``next``/``goto``/``call`` asks the same question again: a person
    would press it and see nothing happen."""
    for choice in node.choices:
        if not choice.then.is_empty:
            continue
        message = (
            f"the choice `{choice.id}` leads nowhere: it asks `{node.id}` again; "
            "add `next` (a node here), `goto` (another flow) or `call`"
        )
        if choice.changes:
            diagnostics.warning(choice.span, message + " (if asking again is meant, ignore this)")
        else:
            diagnostics.error(choice.span, message)


def check_inputs(program: Program, diagnostics: Diagnostics) -> None:
    """Inputs into lists need a way out; inputs into choices need labels to show."""
    for node in program.all_nodes():
        if node.input is None or node.input.slot not in program.slots:
            continue
        declared = program.slots[node.input.slot]
        if declared.type in (SlotType.CHOICE, SlotType.LIST):
            unlabelled = [value for value in declared.values if value not in declared.labels]
            if unlabelled:
                diagnostics.error(
                    node.input.span,
                    f"`{declared.name}` is offered as choices here, so each of its values needs a label "
                    f"(in `slots`, write `values:` as `value: locale.key`); missing for: {', '.join(unlabelled)}",
                )
        if declared.type is SlotType.LIST and not any(not c.then.is_empty for c in node.choices):
            diagnostics.error(
                node.span,
                f"`{node.id}` is a checklist for `{declared.name}`: add a choice that moves on "
                "(for instance `id: done` with `next`)",
            )


def check_conditions(program: Program, diagnostics: Diagnostics) -> None:
    """Conditions name declared slots and compare them with values they can hold."""
    checker = ConditionChecker(program.slots, diagnostics)
    for node in program.all_nodes():
        for branch in node.branches:
            checker.check(branch.when)
        for choice in node.choices:
            if choice.when is not None:
                checker.check(choice.when)
    for route in program.safety:
        if route.keeps_answer_when is not None:
            checker.check(route.keeps_answer_when)


def check_dead_ends(program: Program, diagnostics: Diagnostics) -> None:
    """Every node that is not an end, a return or a handoff has a way on."""
    for node in program.all_nodes():
        if node.kind is NodeKind.INPUT and _is_checklist(program, node):
            continue  # a checklist asks again after each pick; its choices lead on
        if node.kind in (NodeKind.SAY, NodeKind.ACTION, NodeKind.INPUT):
            then = node.then
            if then is None or then.goto is None:
                what = "after `call`, " if then is not None and then.call else ""
                diagnostics.error(
                    node.span,
                    f"`{node.id}` is a dead end: {what}add `next` (a node here) or `goto` (another flow), "
                    "or make it an `end`",
                )
        elif node.kind is NodeKind.BRANCH and node.otherwise is None:
            diagnostics.error(
                node.span,
                f"`{node.id}` has no `else`: when no condition holds, the conversation would stop here",
            )


def _is_checklist(program: Program, node: Node) -> bool:
    declared = program.slots.get(node.input.slot) if node.input is not None else None
    return declared is not None and declared.type is SlotType.LIST


# --- the graph ---------------------------------------------------------------------------------


def _entry_places(program: Program, extra_entry_flows: Iterable[str]) -> list[Place]:
    entries = [program.resolve(program.entry), program.resolve(program.home)]
    if program.partner_entry is not None:
        entries.append(program.resolve(program.partner_entry))
    if program.return_entry is not None:
        entries.append(program.resolve(program.return_entry))
    flows = list(extra_entry_flows)
    flows.extend(call for call, _span in program.command_calls())
    for flow_id in flows:
        flow = program.flows.get(flow_id)
        if flow is not None and flow.start in flow.nodes:
            entries.append(Place(flow.id, flow.start))
    for route in program.safety:
        # Screening enters safety flows from anywhere: at the start, a check or an `again` node.
        flow = program.flows.get(route.flow)
        for node_id in (flow.start if flow else None, route.check, route.again):
            if flow is not None and node_id is not None and node_id in flow.nodes:
                entries.append(Place(flow.id, node_id))
    return [place for place in entries if place is not None]


def check_reachability(
    program: Program,
    edges: list[Edge],
    diagnostics: Diagnostics,
    extra_entry_flows: Iterable[str] = (),
) -> None:
    """Every flow and node can be reached from the entry (or a command or safety flow)."""
    following: dict[Place, list[Place]] = defaultdict(list)
    for edge in edges:
        following[edge.source].append(edge.target)
    reached: set[Place] = set()
    queue = deque(_entry_places(program, extra_entry_flows))
    while queue:
        place = queue.popleft()
        if place in reached:
            continue
        reached.add(place)
        queue.extend(following[place])
    for flow in program.flows.values():
        if not any(Place(flow.id, node_id) in reached for node_id in flow.nodes):
            diagnostics.error(
                flow.span, f"the flow `{flow.id}` can never be reached: nothing goes to it"
            )
            continue
        for node in flow.nodes.values():
            if node.place not in reached:
                diagnostics.error(
                    node.span, f"the node `{node.id}` can never be reached: nothing leads to it"
                )
    called = {called for called, _span in _calls(program)}
    for flow_id in called:
        called_flow = program.flows.get(flow_id)
        if called_flow is not None and not any(
            n.kind is NodeKind.RETURN for n in called_flow.nodes.values()
        ):
            diagnostics.warning(
                called_flow.span, f"the flow `{flow_id}` is called but has no `return`"
            )


def check_waitless_loops(program: Program, edges: list[Edge], diagnostics: Diagnostics) -> None:
    """No loop of nodes that never waits for the person (it would spin for ever).

    A called flow's return goes back to its own caller only: a return edge, which leads to
    every caller's continuation at once, would make a loop of two calls of one flow in a row
    (the country asked before a handoff and again before the services list); the caller
    goes on to its continuation directly instead, where the called flow can come back
    without waiting."""
    waits = {node.place: node_waits(node) for node in program.all_nodes()}
    quick = _flows_returning_without_waiting(program, edges, waits)
    following: dict[Place, list[Place]] = defaultdict(list)
    for edge in edges:
        if edge.kind == "return" or (
            edge.kind == "after_call" and _callee(program, edge.source) not in quick
        ):
            continue
        if not waits.get(edge.source, True) and not waits.get(edge.target, True):
            following[edge.source].append(edge.target)
    for component in _strongly_connected(list(following), following):
        looping = len(component) > 1 or component[0] in following[component[0]]
        if not looping:
            continue
        nodes = sorted((program.node(p.flow, p.node) for p in component), key=lambda n: n.span)
        path = " → ".join(str(n.place) for n in nodes)
        diagnostics.error(
            nodes[0].span,
            f"these nodes go round in a loop without ever waiting for the person: {path} → "
            f"{nodes[0].place}; add a question or an `end` on the way",
        )


def _callee(program: Program, place: Place) -> str | None:
    node = program.flows[place.flow].nodes.get(place.node) if place.flow in program.flows else None
    return node.then.call if node is not None and node.then is not None else None


def _flows_returning_without_waiting(
    program: Program, edges: list[Edge], waits: Mapping[Place, bool]
) -> set[str]:
    """The flows that can return to their caller without waiting for the person on the way."""
    within: dict[Place, list[Edge]] = defaultdict(list)
    for edge in edges:
        if edge.kind != "return" and edge.source.flow == edge.target.flow:
            within[edge.source].append(edge)
    quick: set[str] = set()
    changed = True
    while changed:
        changed = False
        for flow in program.flows.values():
            if flow.id in quick:
                continue
            seen: set[Place] = set()
            queue = deque([Place(flow.id, flow.start)])
            while queue:
                place = queue.popleft()
                if place in seen or waits.get(place, True):
                    continue
                seen.add(place)
                if program.node(place.flow, place.node).kind is NodeKind.RETURN:
                    quick.add(flow.id)
                    changed = True
                    break
                for edge in within[place]:
                    if edge.kind != "after_call" or _callee(program, place) in quick:
                        queue.append(edge.target)
    return quick


def _strongly_connected(
    places: list[Place], following: dict[Place, list[Place]]
) -> list[list[Place]]:
    """Tarjan's algorithm, iterative (programs can be large)."""
    index: dict[Place, int] = {}
    low: dict[Place, int] = {}
    on_stack: set[Place] = set()
    stack: list[Place] = []
    components: list[list[Place]] = []
    counter = 0
    for root in places:
        if root in index:
            continue
        work: list[tuple[Place, int]] = [(root, 0)]
        while work:
            place, child = work.pop()
            if child == 0:
                index[place] = low[place] = counter
                counter += 1
                stack.append(place)
                on_stack.add(place)
            successors = following.get(place, [])
            if child < len(successors):
                work.append((place, child + 1))
                successor = successors[child]
                if successor not in index:
                    work.append((successor, 0))
                elif successor in on_stack:
                    low[place] = min(low[place], index[successor])
                continue
            if low[place] == index[place]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == place:
                        break
                components.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[place])
    return components


# --- actions and slots -------------------------------------------------------------------------


def check_actions(
    program: Program, registered: Collection[str] | None, catalog: Catalog, diagnostics: Diagnostics
) -> None:
    """Action nodes name declared actions; declared actions exist and set declared slots."""
    for node in program.all_nodes():
        if node.action is not None and node.action not in program.actions:
            diagnostics.error(
                node.action_span or node.span,
                f"the action `{node.action}` is not declared under `actions` in the program file"
                f"{did_you_mean(node.action, program.actions)}",
            )
    for action in program.actions.values():
        if registered is not None and action.name not in registered:
            diagnostics.error(
                action.span,
                f"there is no custom action called `{action.name}`{did_you_mean(action.name, registered)}"
                f" (known: {', '.join(sorted(registered)) or 'none'})",
            )
        for slot in action.sets:
            if slot not in program.slots:
                diagnostics.error(
                    action.span, f"`{action.name}` sets `{slot}`, which is not a declared slot"
                )
        if action.texts is not None and not any(
            key.startswith(action.texts + ".") for key in catalog.keys(program.default_locale)
        ):
            diagnostics.error(
                action.span, f"`{action.name}` says texts from `{action.texts}`, but there are none"
            )


def check_runtime_slots(program: Program, diagnostics: Diagnostics) -> None:
    """A slot the runtime or the engine sets itself (``RUNTIME_SLOTS``) is declared with the
    type it sets."""
    for name, kind in RUNTIME_SLOTS.items():
        declared = program.slots.get(name)
        if declared is not None and declared.type is not kind:
            diagnostics.error(
                declared.span,
                f"`{name}` is set by the program itself and must be a {kind.value}",
            )


def check_slots_are_set(program: Program, diagnostics: Diagnostics) -> None:
    """A slot used in a condition is set somewhere (a choice, an input, an action) or has a default."""
    assigned = {
        change.slot for node in program.all_nodes() for c in node.choices for change in c.changes
    }
    assigned |= {change.slot for node in program.all_nodes() for change in node.changes}
    assigned |= {node.input.slot for node in program.all_nodes() if node.input is not None}
    assigned |= {slot for action in program.actions.values() for slot in action.sets}
    assigned |= {name for name, slot in program.slots.items() if slot.default is not None}
    assigned |= {name for name, slot in program.slots.items() if slot.heard is not None}
    assigned |= set(RUNTIME_SLOTS)
    for node in program.all_nodes():
        conditions = [b.when for b in node.branches] + [
            c.when for c in node.choices if c.when is not None
        ]
        for condition in conditions:
            for name in sorted(condition.slot_names()):
                if name in program.slots and name not in assigned:
                    diagnostics.error(
                        condition.span,
                        f"`{name}` is never set by any choice, input or action, and has no default",
                    )


# --- texts -------------------------------------------------------------------------------------


def text_uses(program: Program) -> list[TextUse]:
    """Every text the program can show, where it is used."""
    uses: list[TextUse] = []
    for flow in program.flows.values():
        if flow.title is not None:
            uses.append(TextUse(flow.title, flow.title_span or flow.span))
        for node in flow.nodes.values():
            uses.extend(TextUse(m.key, m.span) for m in node.say)
            if node.reask is not None:
                uses.append(TextUse(node.reask.key, node.reask.span))
            for choice in node.choices:
                uses.append(TextUse(choice.label, choice.label_span))
                if choice.words is not None:
                    uses.append(TextUse(choice.words, choice.span, shows_slots=False))
    for slot in program.slots.values():
        uses.extend(TextUse(label, slot.span) for label in slot.labels.values())
        uses.extend(TextUse(words, slot.span, shows_slots=False) for words in slot.words.values())
        if slot.heard is not None:
            uses.append(TextUse(slot.heard, slot.span, shows_slots=False))
    for command in program.commands.values():
        uses.append(TextUse(command.name.words_key, command.span, shows_slots=False))
        uses.append(TextUse(command.name.label_key, command.span))
    if program.title is not None:
        uses.append(TextUse(program.title, program.span))
    uses.extend(TextUse(key, program.span) for key in EngineKeys.all())
    return uses


def interface_text_uses(program: Program, catalog: Catalog) -> list[TextUse]:
    """Texts of the ``interface_texts`` namespaces, as written in the default locale."""
    namespaces = set(program.interface_texts)
    return [
        TextUse(entry.key, entry.span, shows_slots=False)
        for entry in catalog.entries(program.default_locale)
        if entry.key.split(".", 1)[0] in namespaces
    ]


def typed_word_uses(program: Program, catalog: Catalog) -> list[TextUse]:
    """The engine's optional typed words (``language.words``, ``numbers.<n>``) that the
    default locale has: then every locale must have them too."""
    entries = {entry.key: entry for entry in catalog.entries(program.default_locale)}
    return [TextUse(key, entries[key].span, shows_slots=False) for key in typed_word_keys(entries)]


def check_texts(
    program: Program, catalog: Catalog, diagnostics: Diagnostics, extra_uses: Iterable[TextUse] = ()
) -> None:
    """Texts exist in every locale, agree on placeholders, show only slots, and are all used."""
    present = set(catalog.locales_present())
    for locale in program.locales:
        if locale not in present:
            diagnostics.error(
                program.locales_span or program.span,
                f"the locale `{locale}` has no locale files at all",
            )
    for locale in sorted(present - set(program.locales)):
        diagnostics.warning(
            program.locales_span or program.span,
            f"there are texts for `{locale}`, which is not in the program's `locales`; "
            f"add it here, or remove its files",
        )
    for namespace in program.interface_texts:
        if not any(key.startswith(namespace + ".") for key in catalog.keys(program.default_locale)):
            diagnostics.error(
                program.span, f"`interface_texts` names `{namespace}`, which has no texts"
            )
    uses = text_uses(program) + interface_text_uses(program, catalog) + list(extra_uses)
    uses += typed_word_uses(program, catalog)
    _check_missing(program, catalog, uses, diagnostics)
    _check_placeholder_syntax(program, catalog, diagnostics)
    _check_placeholders_agree(program, catalog, diagnostics)
    _check_placeholders_are_slots(program, catalog, uses, diagnostics)
    _check_unused(program, catalog, uses, diagnostics)


def _check_missing(
    program: Program, catalog: Catalog, uses: list[TextUse], diagnostics: Diagnostics
) -> None:
    policy = (
        FallbackPolicy.DEFAULT_LOCALE
        if program.settings.missing_translation == "use_default_locale"
        else FallbackPolicy.NEVER
    )
    reported: set[tuple[str, str]] = set()
    present = catalog.locales_present()
    # A locale without files is said once (``check_texts``), not once per text it lacks.
    empty = [locale for locale in program.locales if locale not in present]
    for use in uses:
        for locale in program.locales:
            if locale in empty or catalog.has(use.key, locale) or (use.key, locale) in reported:
                continue
            reported.add((use.key, locale))
            if policy is FallbackPolicy.DEFAULT_LOCALE and catalog.has(
                use.key, program.default_locale
            ):
                diagnostics.warning(
                    use.span,
                    f"the text `{use.key}` is missing in `{locale}`; the `{program.default_locale}` text will be shown",
                )
            else:
                diagnostics.error(
                    use.span,
                    f"the text `{use.key}` is missing in `{locale}`{_near(catalog, use.key, locale)}",
                )


def _near(catalog: Catalog, key: str, locale: str) -> str:
    """A did-you-mean, only where the key looks misspelt (it exists in no locale at all)."""
    if any(catalog.has(key, other) for other in catalog.locales_present()):
        return ""
    return did_you_mean(key, catalog.keys(locale))


def _within(entry: Entry, offset: int) -> Span:
    """Where a character of a text is (exact for a text written on one line)."""
    return entry.span.shifted(offset) if "\n" not in entry.text else entry.span


def _check_placeholder_syntax(program: Program, catalog: Catalog, diagnostics: Diagnostics) -> None:
    for locale in program.locales:
        for entry in catalog.entries(locale):
            for offset, message in placeholders(entry.text)[1]:
                diagnostics.error(_within(entry, offset), message)
            for offset, message in bare_placeholders(entry.text):
                diagnostics.warning(_within(entry, offset), message)


def _check_placeholders_agree(program: Program, catalog: Catalog, diagnostics: Diagnostics) -> None:
    reference = program.default_locale
    for entry in catalog.entries(reference):
        expected = placeholders(entry.text)[0]
        for locale in program.locales:
            other = catalog.entry(entry.key, locale)
            if locale == reference or other is None or other.locale != locale:
                continue
            found = placeholders(other.text)[0]
            if found != expected:
                diagnostics.error(
                    other.span,
                    f"the placeholders of `{entry.key}` differ from the `{reference}` text: "
                    f"here {_names(found)}, in `{reference}` {_names(expected)}",
                )


def _names(names: frozenset[str]) -> str:
    return ", ".join(f"%{{{n}}}" for n in sorted(names)) or "none"


def _check_placeholders_are_slots(
    program: Program, catalog: Catalog, uses: list[TextUse], diagnostics: Diagnostics
) -> None:
    action_params: dict[str, set[str]] = {}
    for action in program.actions.values():
        if action.texts is not None:
            action_params.setdefault(action.texts, set()).update(action.params)
    used_keys = {use.key for use in uses if use.shows_slots}
    # a button's label is filled by the engine, from slots only, even in an action's namespace
    choice_labels = {choice.label for node in program.all_nodes() for choice in node.choices}
    for entry in catalog.entries(program.default_locale):
        namespace = entry.key.split(".", 1)[0]
        label = entry.key in choice_labels
        allowed = set() if label else action_params.get(namespace, set())
        if entry.key not in used_keys and namespace not in action_params:
            continue
        for name in sorted(placeholders(entry.text)[0]):
            declared = program.slots.get(name)
            at = _within(entry, entry.text.find(f"%{{{name}}}"))
            if declared is None:
                if name not in allowed:
                    diagnostics.error(
                        at,
                        f"`%{{{name}}}` is not a declared slot{did_you_mean(name, program.slots)}; "
                        + ("a button's label" if label else "a text")
                        + " can only show slots",
                    )
            elif declared.type is SlotType.BOOLEAN:
                diagnostics.error(at, f"`{name}` is a yes/no slot and cannot be shown in a text")
            elif declared.type in (SlotType.CHOICE, SlotType.LIST) and len(declared.labels) < len(
                declared.values
            ):
                diagnostics.error(
                    at,
                    f"to show `{name}` in a text, give each of its values a label (`value: locale.key`)",
                )


def _check_unused(
    program: Program, catalog: Catalog, uses: list[TextUse], diagnostics: Diagnostics
) -> None:
    used = {use.key for use in uses}
    namespaces = {action.texts for action in program.actions.values() if action.texts is not None}
    for locale in program.locales:
        entries = {entry.key: entry for entry in catalog.entries(locale)}
        for entry in entries.values():
            if entry.key in used or entry.key.split(".", 1)[0] in namespaces:
                continue
            varied = next(
                (
                    entries.get(entry.key.removesuffix(suffix))
                    for suffix in (HERE_SUFFIX, ELSEWHERE_SUFFIX)
                    if entry.key.endswith(suffix)
                ),
                None,
            )
            situation = _situation_suffix(varied.key if varied is not None else entry.key)
            if varied is not None and situation is not None:
                _check_country_variant(varied, entry, diagnostics)
                varied = entries.get(varied.key.removesuffix(situation))
            elif varied is None and situation is not None:
                varied = entries.get(entry.key.removesuffix(situation))
            elif varied is not None and varied.key in used:
                _check_country_variant(varied, entry, diagnostics)  # said instead of `varied`
                continue
            if varied is not None and varied.key in used:
                continue  # a `_taken` variant (or its country's), said instead of `varied`
            diagnostics.warning(entry.span, f"the text `{entry.key}` is never used")


def _situation_suffix(key: str) -> str | None:
    """The variant's suffix ``key`` ends with, if any: a situation's (``_taken``,
    ``_suicidal``) or a text said again (``_repeated``)."""
    return next(
        (suffix for suffix in (*SITUATION_SUFFIXES, REPEATED_SUFFIX) if key.endswith(suffix)), None
    )


def check_slots_set_before_shown(
    program: Program,
    catalog: Catalog,
    edges: list[Edge],
    diagnostics: Diagnostics,
    extra_entry_flows: Iterable[str] = (),
) -> None:
    """Warn where a text shows a slot that may not have been answered yet on some way there."""
    universe = frozenset(program.slots)
    defaults = frozenset(name for name, slot in program.slots.items() if slot.default is not None)
    incoming: dict[Place, list[Edge]] = defaultdict(list)
    for edge in edges:
        incoming[edge.target].append(edge)
    entries = set(_entry_places(program, extra_entry_flows))
    surely: dict[Place, frozenset[str]] = {n.place: universe for n in program.all_nodes()}
    for place in entries:
        surely[place] = defaults
    changed = True
    while changed:
        changed = False
        for place, current in surely.items():
            if place in entries:
                continue
            preds = incoming.get(place, [])
            if not preds:
                continue
            new = frozenset.intersection(*(surely.get(e.source, universe) | e.sets for e in preds))
            if new != current:
                surely[place] = new
                changed = True
    for node in program.all_nodes():
        known = surely[node.place]
        for message in node.say:
            entry = catalog.entry(message.key, program.default_locale)
            if entry is None:
                continue
            for name in sorted(placeholders(entry.text)[0]):
                if name in program.slots and name not in known:
                    diagnostics.warning(
                        message.span,
                        f"`{message.key}` shows `{name}`, which may not be answered yet when `{node.id}` is reached"
                        " (it will show as not answered)",
                    )


def check_translations_up_to_date(
    program: Program,
    catalog: Catalog,
    records: Mapping[str, LocaleRecords],
    diagnostics: Diagnostics,
) -> None:
    """Warn where a translation was made from a source text that has changed since (needs update).

    Only recorded translations are judged: one with no record is "untracked", which
    ``redirection-bot i18n status`` lists (docs/translating.md).
    """
    source_locale = program.default_locale
    for locale, locale_records in sorted(records.items()):
        if locale_records.source_locale != source_locale:
            diagnostics.warning(
                locale_records.span,
                f"these records were made against `{locale_records.source_locale}`, but the "
                f"program's default locale is `{source_locale}`: they are not checked",
            )
            continue
        for row in translation_rows(catalog, records, locale, source_locale):
            if row.status is TranslationStatus.NEEDS_UPDATE and row.translation is not None:
                diagnostics.warning(
                    row.translation.span,
                    f"needs update: the `{source_locale}` text of `{row.key}` has changed since "
                    f"this `{locale}` translation was made (`redirection-bot i18n export --locale {locale}`)",
                )


def _check_country_variant(varied: Entry, entry: Entry, diagnostics: Diagnostics) -> None:
    """A ``_here`` or ``_elsewhere`` variant is said instead of the text it varies where the
    person's country is known: a ``_here`` one writes the country's numbers, and neither
    shows anything the other does not."""
    here = entry.key.endswith(HERE_SUFFIX)
    have = placeholders(entry.text)[0]
    if here and "numbers" not in have:
        diagnostics.error(
            entry.span,
            f"`{entry.key}` is said where the person's country is known, instead of "
            f"`{varied.key}`: write the country's emergency numbers in it as `%{{numbers}}`",
        )
    for name in sorted(have - placeholders(varied.text)[0] - ({"numbers"} if here else set())):
        diagnostics.error(
            _within(entry, entry.text.find(f"%{{{name}}}")),
            f"`%{{{name}}}` is not in `{varied.key}`, which this text varies: a `_here` text "
            "can only add `%{numbers}`, an `_elsewhere` text nothing",
        )
