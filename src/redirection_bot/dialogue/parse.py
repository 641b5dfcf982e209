"""From located YAML to the dialogue model: the program file and one flow per file.

Parsing checks the shape of each file (fields, types, ids). Checks that need the whole
program (targets, reachability, locales) live in ``checks``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import replace

from redirection_bot.diagnostics import Diagnostics, Span
from redirection_bot.dialogue.conditions import Condition, ConditionSyntaxError, parse_condition
from redirection_bot.dialogue.model import (
    RESERVED_PARAMETER_NAMES,
    ActionDecl,
    Branch,
    Choice,
    CommandName,
    CommandSpec,
    Flow,
    HandoffReason,
    HandoffSpec,
    HandoffUrgency,
    InputSpec,
    MessageRef,
    Node,
    NodeKind,
    PlaceRef,
    Program,
    ProgramSettings,
    SafetyRoute,
    SlotChange,
    SlotDecl,
    SlotType,
    SlotValue,
    Transition,
)
from redirection_bot.language.suggest import did_you_mean
from redirection_bot.language.yaml_schema import (
    ID_PATTERN,
    LOCALE_PATTERN,
    VALUE_PATTERN,
    SchemaReader,
)
from redirection_bot.language.yaml_source import YMapping, YNode, YScalar, YSequence
from redirection_bot.safety.categories import RiskCategory, category_named, not_a_category

PROGRAM_FIELDS = (
    "program",
    "version",
    "title",
    "default_locale",
    "locales",
    "entry",
    "home",
    "partner_entry",
    "return_entry",
    "help_flows",
    "settings",
    "slots",
    "actions",
    "commands",
    "interface_texts",
    "safety",
)
SAFETY_ROUTE_FIELDS = (
    "flow",
    "check",
    "again",
    "after_others",
    "answered_at",
    "answered_by",
    "defers_to",
    "set",
    "keeps_answer",
    "gives_way",
    "check_at_once",
    "settled_at",
    "about_another",
)
FLOW_FIELDS = ("flow", "title", "start", "nodes")
NODE_FIELDS = (
    "say",
    "choices",
    "input",
    "offer",
    "reask",
    "if",
    "else",
    "action",
    "handoff",
    "return",
    "end",
    "next",
    "goto",
    "call",
    "set",
    "add",
    "remove",
)
TRANSITION_FIELDS = ("next", "goto", "call")
CHOICE_FIELDS = (
    "id",
    "label",
    "words",
    "typed_only",
    "now_only",
    "when",
    "set",
    "add",
    "remove",
    *TRANSITION_FIELDS,
)
SLOT_FIELDS = (
    "type",
    "values",
    "words",
    "min",
    "max",
    "max_length",
    "default",
    "progress",
    "heard",
    "typed_only",
)
SETTINGS_FIELDS = ("misses_before_offering_person", "history_size", "missing_translation")
NUMBER_SETTINGS = ("misses_before_offering_person", "history_size")
DEFAULT_TEXT_MAX_LENGTH = 500


_OPTIONAL_COMMANDS = (CommandName.ERASE, CommandName.ABOUT, CommandName.PAUSE)
"""Commands a program may leave out without a warning."""
_CALLED_FLOW = {
    CommandName.HELP: "offers a person",
    CommandName.ABOUT: "says what is kept",
    CommandName.PAUSE: "offers words to come back with",
}
"""What the flow a command calls does, for the error when ``call`` is missing."""


class ProgramParser(SchemaReader):
    """Reads ``program.yaml`` into a ``Program`` whose flows the loader adds."""

    _known_slots: Mapping[str, SlotDecl] | None = None
    """The program's slots, once read: what ``set`` may name."""

    def parse(self, root: YNode | None, path: str) -> Program | None:
        top = self.mapping(root, "the program file")
        if top is None:
            if root is None:
                self.error(Span(path, 1, 1), "the program file is empty")
            return None
        self.fields(
            top, PROGRAM_FIELDS, "the program", required=("program", "version", "entry", "locales")
        )
        program_id = self.identifier(top.get("program"), "the program id")
        version_node = self.scalar(top.get("version"), "the version")
        version = version_node.text if version_node else None
        if version_node is not None:
            self.note_yaml11_surprise(version_node, "the version")
        locales = self._locales(top)
        default_locale = self._default_locale(top, locales)
        entry = self.target(top.get("entry"), None, "the entry")
        home = self.target(top.get("home"), None, "home") if top.get("home") else entry
        partner_entry = (
            self.target(top.get("partner_entry"), None, "the partner entry")
            if top.get("partner_entry")
            else None
        )
        return_entry = (
            self.target(top.get("return_entry"), None, "the return entry")
            if top.get("return_entry")
            else None
        )
        slots = self._slots(top.get("slots"))
        self._known_slots = slots
        actions = self._actions(top.get("actions"))
        commands = self._commands(top.get("commands"), top.span)
        settings = self._settings(top.get("settings"))
        title = self.key(top.get("title"), "the title") if top.get("title") else None
        if program_id is None or version is None or entry is None or home is None:
            return None
        if not locales or default_locale is None:
            return None
        return Program(
            id=program_id,
            version=version,
            span=top.span,
            locales_span=self.field_span(top, "locales"),
            default_locale=default_locale,
            locales=locales,
            entry=entry,
            home=home,
            partner_entry=partner_entry,
            return_entry=return_entry,
            help_flows=self._names(top.get("help_flows"), "a flow id"),
            slots=slots,
            actions=actions,
            commands=commands,
            flows={},
            settings=settings,
            title=title,
            interface_texts=self._names(top.get("interface_texts"), "a locale namespace"),
            safety=self._safety(top),
        )

    def _locales(self, top: YMapping) -> tuple[str, ...]:
        found: list[str] = []
        for item in self.one_or_many(top.get("locales"), "a locale"):
            if not LOCALE_PATTERN.match(item.text):
                self.error(
                    item.value_span,
                    f"`{item.text}` is not a locale code such as `en`, `es` or `fi`",
                )
            elif item.text in found:
                self.error(item.span, f"the locale `{item.text}` is listed twice")
            else:
                found.append(item.text)
        return tuple(found)

    def _default_locale(self, top: YMapping, locales: tuple[str, ...]) -> str | None:
        node = top.get("default_locale")
        if node is None:
            return locales[0] if locales else None
        found = self.scalar(node, "the default locale")
        if found is None:
            return None
        if found.text not in locales:
            self.error(found.value_span, f"the default locale `{found.text}` is not in `locales`")
            return None
        return found.text

    def _slots(self, node: YNode | None) -> dict[str, SlotDecl]:
        slots: dict[str, SlotDecl] = {}
        mapping = self.mapping(node, "`slots`")
        if mapping is None:
            return slots
        for key, value in mapping:
            name = self.identifier(key, "a slot name")
            if name is None:
                continue
            if name in RESERVED_PARAMETER_NAMES:
                self.error(
                    key.span, f"`{name}` cannot be a slot name: the translation library reserves it"
                )
                continue
            declared = self._slot(name, key.span, value)
            if declared is not None:
                slots[name] = declared
        return slots

    def _slot(self, name: str, span: Span, node: YNode) -> SlotDecl | None:
        what = f"the slot `{name}`"
        mapping = self.mapping(node, what)
        if mapping is None:
            return None
        self.fields(mapping, SLOT_FIELDS, what, required=("type",))
        type_node = self.scalar(mapping.get("type"), "the slot type")
        if type_node is None:
            return None
        try:
            slot_type = SlotType(type_node.text)
        except ValueError:
            self.error(
                type_node.value_span,
                f"`{type_node.text}` is not a slot type{did_you_mean(type_node.text, list(SlotType))} "
                f"(types: {', '.join(SlotType)})",
            )
            return None
        values: tuple[str, ...] = ()
        labels: dict[str, str] = {}
        if slot_type in (SlotType.CHOICE, SlotType.LIST):
            values, labels = self._slot_values(mapping.get("values"), what)
            if not values:
                self.error(mapping.span, f"{what} needs `values`")
        minimum = self.integer(mapping.get("min"), "`min`") if mapping.get("min") else None
        maximum = self.integer(mapping.get("max"), "`max`") if mapping.get("max") else None
        if slot_type is SlotType.INTEGER and (minimum is None or maximum is None):
            self.error(mapping.span, f"{what} is a number: give it `min` and `max`")
        if minimum is not None and maximum is not None and minimum > maximum:
            self.error(mapping.span, f"{what}: `min` is greater than `max`")
        max_length = None
        if slot_type is SlotType.TEXT:
            max_length = DEFAULT_TEXT_MAX_LENGTH
            if mapping.get("max_length") is not None:
                max_length = self.integer(mapping.get("max_length"), "`max_length`")
        for extra, allowed_for in (
            ("values", "choice and list"),
            ("words", "choice and list"),
            ("typed_only", "choice and list"),
            ("min", "integer"),
            ("max", "integer"),
            ("max_length", "text"),
            ("heard", "boolean"),
        ):
            if mapping.get(extra) is not None and slot_type.value not in allowed_for:
                self.error(
                    self.field_span(mapping, extra), f"`{extra}` is only for {allowed_for} slots"
                )
        declared = SlotDecl(name, slot_type, span, values, labels, minimum, maximum, max_length)
        default_node = mapping.get("default")
        if default_node is not None:
            default = self.slot_value(declared, default_node, operation="set")
            if default is not None:
                declared = SlotDecl(
                    name, slot_type, span, values, labels, minimum, maximum, max_length, default
                )
        if mapping.get("progress") is not None:
            progress = self.boolean(mapping.get("progress"), "`progress`")
            if progress and slot_type not in (SlotType.INTEGER, SlotType.CHOICE):
                self.error(
                    self.field_span(mapping, "progress"),
                    "`progress` compares a rating with last time's: only for integer and "
                    "choice slots (a person's own words or a list are never compared)",
                )
            declared = dataclasses.replace(declared, progress=bool(progress))
        heard_node = mapping.get("heard")
        if heard_node is not None and slot_type is SlotType.BOOLEAN:
            heard = self.key(heard_node, f"the words that set `{name}`")
            declared = dataclasses.replace(declared, heard=heard)
        words_node = mapping.get("words")
        if words_node is not None and values:
            declared = dataclasses.replace(declared, words=self._slot_words(words_node, declared))
        typed_node = mapping.get("typed_only")
        if typed_node is not None and values:
            declared = dataclasses.replace(
                declared, typed_only=self._typed_only(typed_node, declared)
            )
        return declared

    def _typed_only(self, node: YNode, declared: SlotDecl) -> tuple[str, ...]:
        """``typed_only``: some of the slot's values, never offered as quick replies; each
        needs words to be typed by."""
        found: list[str] = []
        for item in self.one_or_many(node, f"a value of the slot `{declared.name}`"):
            value = self.identifier(item, f"a value of the slot `{declared.name}`", VALUE_PATTERN)
            if value is None:
                continue
            if value not in declared.values:
                self.error(
                    item.span,
                    f"`{value}` is not one of the values of `{declared.name}`"
                    f"{did_you_mean(value, declared.values)}",
                )
            elif value not in declared.words:
                self.error(
                    item.span,
                    f"`{value}` is only typed but has no `words` in `{declared.name}`: nobody"
                    " could choose it",
                )
            else:
                found.append(value)
        return tuple(found)

    def _slot_words(self, node: YNode, declared: SlotDecl) -> dict[str, str]:
        """``words``: a mapping of some of the slot's values to the text of words a person may
        type for them."""
        words: dict[str, str] = {}
        mapping = self.mapping(node, f"the words of the slot `{declared.name}`")
        for key, text in mapping or ():
            value = self.identifier(key, f"a value of the slot `{declared.name}`", VALUE_PATTERN)
            words_key = self.key(text, f"the words of `{key.text}`")
            if value is None or words_key is None:
                continue
            if value not in declared.values:
                self.error(
                    key.span,
                    f"`{value}` is not one of the values of `{declared.name}`"
                    f"{did_you_mean(value, declared.values)}",
                )
                continue
            words[value] = words_key
        return words

    def _slot_values(self, node: YNode | None, what: str) -> tuple[tuple[str, ...], dict[str, str]]:
        """``values`` is a list of values, or a mapping of value to label key."""
        labels: dict[str, str] = {}
        if node is None:
            return (), labels
        if isinstance(node, YMapping):
            values = []
            for key, label in node:
                value = self.identifier(key, f"a value of {what}", VALUE_PATTERN)
                label_key = self.key(label, f"the label of `{key.text}`")
                if value is not None:
                    values.append(value)
                    if label_key is not None:
                        labels[value] = label_key
            return tuple(values), labels
        found: list[str] = []
        for item in self.one_or_many(node, f"a value of {what}"):
            value = self.identifier(item, f"a value of {what}", VALUE_PATTERN)
            if value is not None:
                if value in found:
                    self.error(item.span, f"the value `{value}` is listed twice")
                found.append(value)
        return tuple(found), labels

    def _actions(self, node: YNode | None) -> dict[str, ActionDecl]:
        actions: dict[str, ActionDecl] = {}
        mapping = self.mapping(node, "`actions`")
        if mapping is None:
            return actions
        for key, value in mapping:
            name = self.identifier(key, "an action name")
            if name is None:
                continue
            fields = self.mapping(value, f"the action `{name}`") if not _is_empty(value) else None
            texts = None
            params: tuple[str, ...] = ()
            sets: tuple[str, ...] = ()
            if fields is not None:
                self.fields(fields, ("texts", "params", "sets"), f"the action `{name}`")
                texts = (
                    self.identifier(fields.get("texts"), "a locale namespace")
                    if fields.get("texts")
                    else None
                )
                params = self._names(fields.get("params"), "a parameter name")
                sets = self._names(fields.get("sets"), "a slot name")
            actions[name] = ActionDecl(name, key.span, texts, params, sets)
        return actions

    def _names(self, node: YNode | None, what: str) -> tuple[str, ...]:
        names = [self.identifier(item, what) for item in self.one_or_many(node, what)]
        return tuple(name for name in names if name is not None)

    def _commands(self, node: YNode | None, program_span: Span) -> dict[CommandName, CommandSpec]:
        commands: dict[CommandName, CommandSpec] = {}
        mapping = self.mapping(node, "`commands`")
        if mapping is None:
            self.warning(
                program_span, "no `commands`: people cannot ask for help, go back or leave quickly"
            )
            return commands
        for key, value in mapping:
            try:
                name = CommandName(key.text)
            except ValueError:
                self.error(
                    key.span,
                    f"`{key.text}` is not a command{did_you_mean(key.text, list(CommandName))} "
                    f"(commands: {', '.join(CommandName)})",
                )
                continue
            call = None
            fields = self.mapping(value, f"the command `{name}`") if not _is_empty(value) else None
            if fields is not None:
                self.fields(fields, ("call",) if name.calls_a_flow else (), f"the command `{name}`")
                call = (
                    self.identifier(fields.get("call"), "a flow id") if fields.get("call") else None
                )
            if name.calls_a_flow and call is None:
                what = _CALLED_FLOW[name]
                self.error(
                    key.span, f"the `{name}` command needs `call: <flow>`: the flow that {what}"
                )
            commands[name] = CommandSpec(name, key.span, call)
        for name in CommandName:
            # `erase` is optional: the web chat's own button erases everything without it;
            # `about` too: a program may say what it keeps in its own welcome; `pause` too:
            # a program may offer its resume words only where a part ends
            if name not in commands and name not in _OPTIONAL_COMMANDS:
                self.warning(mapping.span, f"the global command `{name}` is not enabled")
        return commands

    def _safety(self, top: YMapping) -> tuple[SafetyRoute, ...]:
        """The ``safety`` section: a flow for every risk category, highest priority first."""
        node = top.get("safety")
        if node is None:
            # Small programs (tests, demos) may have none: messages are still screened and
            # identifying details hidden, but nothing pre-empts the flow.
            return ()
        mapping = self.mapping(node, "`safety`")
        if mapping is None:
            return ()
        routes: list[SafetyRoute] = []
        for key, value in mapping:
            category = category_named(key.text)
            if category is None:
                self.error(key.span, not_a_category(key.text))
                continue
            route = self._safety_route(category, key.span, value)
            if route is not None:
                routes.append(route)
        missing = [c.value for c in RiskCategory if c not in {r.category for r in routes}]
        if missing:
            self.error(
                self.field_span(top, "safety"),
                "every risk category needs a safety flow; missing: "
                + ", ".join(f"`{name}`" for name in missing),
            )
        return tuple(routes)

    def _safety_route(self, category: RiskCategory, span: Span, node: YNode) -> SafetyRoute | None:
        what = f"the safety route for `{category}`"
        if isinstance(node, YScalar):
            flow = self.identifier(node, "a flow id")
            return None if flow is None else SafetyRoute(category, flow, node.value_span)
        mapping = self.mapping(node, what)
        if mapping is None:
            return None
        self.fields(mapping, SAFETY_ROUTE_FIELDS, what, required=("flow",))
        flow_node = self.scalar(mapping.get("flow"), "a flow id")
        flow = self.identifier(flow_node, "a flow id")
        check, again, answered_at = (
            self._node_id(mapping, name) for name in ("check", "again", "answered_at")
        )
        after_others = self._flag(mapping, "after_others")
        defers_to = self._categories(mapping.get("defers_to"))
        answered_by = self._names(mapping.get("answered_by"), "a choice id")
        changes = self._changes(mapping) if mapping.get("set") is not None else []
        keeps = mapping.get("keeps_answer")
        keeps_when = None
        if isinstance(keeps, YScalar) and keeps.text.strip().lower() not in ("true", "false"):
            keeps_when = self.condition(keeps)  # `keeps_answer: not suicide_declined`
        keeps_answer = (
            keeps is None or keeps_when is not None or self._flag(mapping, "keeps_answer")
        )
        if flow is None or flow_node is None:
            return None
        return SafetyRoute(
            category,
            flow,
            flow_node.value_span,
            check,
            again,
            after_others,
            answered_at,
            answered_by,
            defers_to,
            keeps_answer,
            tuple(change for change in changes if change.operation == "set"),
            self._flag(mapping, "gives_way"),
            self._flag(mapping, "check_at_once"),
            settled_at=self._names(mapping.get("settled_at"), "a node id"),
            about_another=self._names(mapping.get("about_another"), "a choice id"),
            keeps_answer_when=keeps_when,
        )

    def _changes(self, mapping: YMapping) -> list[SlotChange]:
        changes: list[SlotChange] = []
        for operation in ("set", "add", "remove"):
            fields = self.mapping(mapping.get(operation), f"`{operation}`")
            if fields is None:
                continue
            for key, value in fields:
                declared = self._declared_slot(key)
                if declared is None:
                    continue
                if operation != "set" and declared.type is not SlotType.LIST:
                    self.error(
                        key.span,
                        f"`{operation}` is for list slots; `{declared.name}` is a {declared.type} slot",
                    )
                    continue
                parsed = self.slot_value(declared, value, operation)
                if parsed is not None:
                    changes.append(SlotChange(operation, declared.name, parsed, key.span))
        return changes

    def _declared_slot(self, key: YScalar) -> SlotDecl | None:
        if self._known_slots is None:
            return None
        declared = self._known_slots.get(key.text)
        if declared is None:
            self.error(
                key.span,
                f"`{key.text}` is not a declared slot{did_you_mean(key.text, self._known_slots)}",
            )
        return declared

    def _node_id(self, mapping: YMapping, name: str) -> str | None:
        return self.identifier(mapping.get(name), "a node id") if mapping.get(name) else None

    def condition(self, node: YNode | None) -> Condition | None:
        found = self.scalar(node, "the condition")
        if found is None:
            return None
        try:
            return parse_condition(found.text, found.value_span)
        except ConditionSyntaxError as error:
            self.error(
                found.value_span.shifted(error.offset), f"in this condition: {error.message}"
            )
            return None

    def _flag(self, mapping: YMapping, name: str) -> bool:
        value = mapping.get(name)
        return value is not None and self.boolean(value, f"`{name}`") is True

    def _categories(self, node: YNode | None) -> tuple[RiskCategory, ...]:
        found = []
        for named in self.one_or_many(node, "a risk category"):
            category = category_named(named.text)
            if category is None:
                self.error(named.value_span, not_a_category(named.text))
            else:
                found.append(category)
        return tuple(found)

    def _settings(self, node: YNode | None) -> ProgramSettings:
        mapping = self.mapping(node, "`settings`")
        if mapping is None:
            return ProgramSettings()
        self.fields(mapping, SETTINGS_FIELDS, "`settings`")
        values: dict[str, int | str] = {}
        missing = mapping.get("missing_translation")
        if missing is not None:
            policy = self.scalar(missing, "`missing_translation`")
            if policy is not None and policy.text not in ("error", "use_default_locale"):
                self.error(
                    policy.value_span, "`missing_translation` is `error` or `use_default_locale`"
                )
            elif policy is not None:
                values["missing_translation"] = policy.text
        for name in NUMBER_SETTINGS:
            if mapping.get(name) is not None:
                number = self.integer(mapping.get(name), f"`{name}`")
                if number is not None and number < 1:
                    self.error(mapping.get(name).span, f"`{name}` must be at least 1")  # type: ignore[union-attr]
                elif number is not None:
                    values[name] = number
        return ProgramSettings(**values)  # type: ignore[arg-type]

    # --- shared with flows ------------------------------------------------------------------

    def target(self, node: YNode | None, current_flow: str | None, what: str) -> PlaceRef | None:
        """``flow`` or ``flow.node`` (or, with a current flow, a bare node id for ``next``)."""
        found = self.scalar(node, what)
        if found is None:
            return None
        parts = found.text.split(".")
        if len(parts) > 2 or not all(ID_PATTERN.match(part) for part in parts):
            self.error(
                found.value_span, f"{what} `{found.text}` should be a flow id or `flow.node`"
            )
            return None
        if current_flow is not None:
            if len(parts) == 2:
                self.error(
                    found.value_span,
                    f"`next` names a node of this flow; use `goto: {found.text}` for another flow",
                )
                return None
            return PlaceRef(current_flow, parts[0], found.value_span)
        return PlaceRef(parts[0], parts[1] if len(parts) == 2 else None, found.value_span)

    def slot_value(self, declared: SlotDecl, node: YNode, operation: str) -> SlotValue | None:
        """A constant for a slot, read by the slot's type, as the author wrote it."""
        what = f"the value for `{declared.name}`"
        if declared.type is SlotType.BOOLEAN:
            return self.boolean(node, what)
        if declared.type is SlotType.INTEGER:
            number = self.integer(node, what)
            if number is not None and not declared.accepts(number):
                self.error(
                    node.span,
                    f"{number} is outside {declared.minimum}..{declared.maximum} for `{declared.name}`",
                )
                return None
            return number
        if declared.type is SlotType.LIST and operation == "set":
            return self._list_value(declared, node)
        found = self.scalar(node, what)
        if found is None:
            return None
        if declared.type is SlotType.TEXT:
            return found.text
        if found.text not in declared.values:
            self.error(
                found.value_span,
                f"`{found.text}` is not one of the values of `{declared.name}`"
                f"{did_you_mean(found.text, declared.values)}",
            )
            return None
        return found.text

    def _list_value(self, declared: SlotDecl, node: YNode) -> tuple[str, ...] | None:
        """``set`` on a list slot: the whole list, ``[a, b]`` (``[]`` empties it)."""
        if not isinstance(node, YSequence):
            self.error(
                node.span,
                f"`{declared.name}` is a list: `set` it to a list such as [a, b] ([] empties it), "
                "or use `add` or `remove` for one value",
            )
            return None
        values: list[str] = []
        for item in node:
            found = self.scalar(item, f"a value of `{declared.name}`")
            if found is None:
                continue
            if found.text not in declared.values:
                self.error(
                    found.value_span,
                    f"`{found.text}` is not one of the values of `{declared.name}`"
                    f"{did_you_mean(found.text, declared.values)}",
                )
                continue
            if found.text not in values:
                values.append(found.text)
        return tuple(values)


class FlowParser(ProgramParser):
    """Reads one flow file, given the program's slots (or None when the program is broken)."""

    def __init__(self, diagnostics: Diagnostics, slots: Mapping[str, SlotDecl] | None) -> None:
        super().__init__(diagnostics)
        self._known_slots = slots

    def parse_flow(self, root: YNode | None, path: str) -> Flow | None:
        top = self.mapping(root, "a flow file")
        if top is None:
            if root is None:
                self.error(Span(path, 1, 1), "this flow file is empty")
            return None
        self.fields(top, FLOW_FIELDS, "a flow", required=("flow", "start", "nodes"))
        flow_id = self.identifier(top.get("flow"), "the flow id")
        start_node = self.scalar(top.get("start"), "the start node")
        title = self.key(top.get("title"), "the title") if top.get("title") else None
        title_node = top.get("title")
        nodes_map = self.mapping(top.get("nodes"), "`nodes`")
        if flow_id is None or start_node is None or nodes_map is None:
            return None
        nodes: dict[str, Node] = {}
        for key, value in nodes_map:
            node_id = self.identifier(key, "a node id")
            if node_id is None:
                continue
            parsed = self._node(flow_id, node_id, key.span, value)
            if parsed is not None:
                nodes[node_id] = parsed
        return Flow(
            flow_id,
            top.span,
            start_node.text,
            start_node.value_span,
            nodes,
            title,
            title_node.span if title_node is not None else None,
        )

    def _node(self, flow: str, node_id: str, span: Span, value: YNode) -> Node | None:
        what = f"the node `{node_id}`"
        mapping = self.mapping(value, what)
        if mapping is None:
            return None
        self.fields(mapping, NODE_FIELDS, what)
        say = tuple(
            MessageRef(key, item.value_span)
            for item in self.one_or_many(mapping.get("say"), "a message")
            if (key := self.key(item, "a message")) is not None
        )
        reask = self._message(mapping.get("reask"), "the re-ask message")
        kind = self._kind(mapping, what, span)
        if kind is None:
            # Reported; keep the id so that what leads here is not reported a second time.
            return Node(flow, node_id, NodeKind.END, span)
        changes = tuple(self._changes(mapping))
        node = Node(flow, node_id, kind, span, say=say, reask=reask, changes=changes)
        if changes and kind.waits:
            self.error(
                self.field_span(
                    mapping, next(f for f in ("set", "add", "remove") if mapping.get(f) is not None)
                ),
                f"{what} asks something: set slots on its choices instead",
            )
        if kind in (NodeKind.ASK, NodeKind.INPUT):
            choices = self._choices(flow, mapping.get("choices"))
            input_spec = self._input(mapping.get("input"), mapping.get("offer"))
            if not say:
                self.error(span, f"{what} asks something: give it a `say` with the question")
            then = self._transition(mapping, flow) if kind is NodeKind.INPUT else None
            if kind is NodeKind.ASK and not _transition_fields_absent(mapping):
                self.error(span, f"{what} asks with choices; put `next` on each choice instead")
            return _replace(node, choices=choices, input=input_spec, then=then)
        if kind is NodeKind.BRANCH:
            return _replace(
                node,
                branches=self._branches(flow, mapping.get("if")),
                otherwise=self._else(flow, mapping.get("else"), what),
            )
        if kind is NodeKind.ACTION:
            action_node = self.scalar(mapping.get("action"), "the action")
            action = self.identifier(action_node, "the action name")
            return _replace(
                node,
                action=action,
                action_span=action_node.value_span if action_node else None,
                then=self._transition(mapping, flow),
            )
        if kind is NodeKind.HANDOFF:
            return _replace(
                node,
                handoff=self._handoff(mapping.get("handoff"), span),
                then=self._transition(mapping, flow),
            )
        if kind in (NodeKind.RETURN, NodeKind.END):
            field_name = "return" if kind is NodeKind.RETURN else "end"
            if self.boolean(mapping.get(field_name), f"`{field_name}`") is False:
                self.error(
                    self.field_span(mapping, field_name),
                    f"`{field_name}: false` means nothing; remove it",
                )
            if not _transition_fields_absent(mapping):
                self.error(span, f"{what} is an `{field_name}`: nothing comes after it")
            return node
        return _replace(node, then=self._transition(mapping, flow))

    def _kind(self, mapping: YMapping, what: str, span: Span) -> NodeKind | None:
        present = [
            name
            for name in ("choices", "input", "if", "action", "handoff", "return", "end")
            if mapping.get(name) is not None
        ]
        body = [name for name in present if name not in ("choices", "input")]
        if body and len(present) > 1:
            self.error(
                span,
                f"{what} has {' and '.join(f'`{p}`' for p in present)}; a node does one of these",
            )
            return None
        if mapping.get("offer") is not None and mapping.get("input") is None:
            self.error(mapping.key_node("offer").span, "`offer` belongs to an `input`")  # type: ignore[union-attr]
        if mapping.get("else") is not None and mapping.get("if") is None:
            self.error(mapping.key_node("else").span, "`else` belongs to an `if`")  # type: ignore[union-attr]
        if mapping.get("input") is not None:
            return NodeKind.INPUT
        if mapping.get("choices") is not None:
            return NodeKind.ASK
        if not body:
            return NodeKind.SAY
        return {
            "if": NodeKind.BRANCH,
            "action": NodeKind.ACTION,
            "handoff": NodeKind.HANDOFF,
            "return": NodeKind.RETURN,
            "end": NodeKind.END,
        }[body[0]]

    def _message(self, node: YNode | None, what: str) -> MessageRef | None:
        if node is None:
            return None
        found = self.scalar(node, what)
        key = self.key(found, what)
        return MessageRef(key, found.value_span) if key is not None and found is not None else None

    def _transition(self, mapping: YMapping, flow: str) -> Transition:
        has_next = mapping.get("next") is not None
        has_goto = mapping.get("goto") is not None
        if has_next and has_goto:
            self.error(
                self.field_span(mapping, "goto"),
                "use either `next` (a node here) or `goto` (another flow), not both",
            )
        goto = None
        if has_next:
            goto = self.target(mapping.get("next"), flow, "`next`")
        elif has_goto:
            goto = self.target(mapping.get("goto"), None, "`goto`")
        call_node = self.scalar(mapping.get("call"), "`call`") if mapping.get("call") else None
        call = self.identifier(call_node, "the flow to call") if call_node else None
        # A missing way on is reported by the dead-end check, which sees the whole picture.
        return Transition(goto, call, call_node.value_span if call_node else None)

    def _choices(self, flow: str, node: YNode | None) -> tuple[Choice, ...]:
        sequence = self.sequence(node, "`choices`")
        if sequence is None:
            return ()
        choices: list[Choice] = []
        for item in sequence:
            mapping = self.mapping(item, "a choice")
            if mapping is None:
                continue
            self.fields(mapping, CHOICE_FIELDS, "a choice", required=("id", "label"))
            choice_id = self.identifier(mapping.get("id"), "the choice id", VALUE_PATTERN)
            label_node = self.scalar(mapping.get("label"), "the label")
            label = self.key(label_node, "the label")
            words = self.key(mapping.get("words"), "the words") if mapping.get("words") else None
            when = self.condition(mapping.get("when")) if mapping.get("when") else None
            if choice_id is None or label is None or label_node is None:
                continue
            changes = tuple(self._changes(mapping))
            choices.append(
                Choice(
                    choice_id,
                    label,
                    mapping.span,
                    label_node.value_span,
                    words,
                    when,
                    changes,
                    self._transition(mapping, flow),
                    self._flag(mapping, "typed_only"),
                    self._flag(mapping, "now_only"),
                )
            )
        return tuple(choices)

    def _input(self, node: YNode | None, offer_node: YNode | None = None) -> InputSpec | None:
        found = self.scalar(node, "the input slot")
        if found is None:
            return None
        declared = self._declared_slot(found)
        if declared is None:
            return None
        offer = self._offer(offer_node, declared) if offer_node is not None else None
        return InputSpec(declared.name, found.value_span, offer=offer)

    def _offer(self, node: YNode, declared: SlotDecl) -> tuple[str, ...]:
        """``offer``: some of a choice or list slot's values, the only ones offered here (none:
        ``[]``, where the value is only typed)."""
        if declared.type not in (SlotType.CHOICE, SlotType.LIST):
            self.error(
                node.span,
                f"`offer` picks some of a choice or list slot's values; `{declared.name}` is "
                f"a {declared.type.value} slot",
            )
            return ()
        offered: list[str] = []
        for item in self.one_or_many(node, "an offered value"):
            if item.text not in declared.values:
                self.error(
                    item.value_span,
                    f"`{item.text}` is not a value of `{declared.name}`"
                    f"{did_you_mean(item.text, list(declared.values))}",
                )
            elif item.text in offered:
                self.error(item.value_span, f"`{item.text}` is offered twice")
            else:
                offered.append(item.text)
        return tuple(offered)

    def _branches(self, flow: str, node: YNode | None) -> tuple[Branch, ...]:
        sequence = self.sequence(node, "`if`")
        if sequence is None:
            return ()
        branches: list[Branch] = []
        for item in sequence:
            mapping = self.mapping(item, "a branch of `if`")
            if mapping is None:
                continue
            self.fields(
                mapping, ("when", *TRANSITION_FIELDS), "a branch of `if`", required=("when",)
            )
            when = self.condition(mapping.get("when"))
            then = self._transition(mapping, flow)
            if then.goto is None:
                self.error(mapping.span, "each branch of `if` needs `next` or `goto`")
            if when is not None:
                branches.append(Branch(when, then, mapping.span))
        return tuple(branches)

    def _else(self, flow: str, node: YNode | None, what: str) -> Transition | None:
        mapping = self.mapping(node, "`else`")
        if mapping is None:
            return None
        self.fields(mapping, TRANSITION_FIELDS, "`else`")
        then = self._transition(mapping, flow)
        if then.goto is None:
            self.error(mapping.span, "`else` needs `next` or `goto`")
        return then

    def _handoff(self, node: YNode | None, span: Span) -> HandoffSpec | None:
        mapping = self.mapping(node, "`handoff`")
        if mapping is None:
            return None
        self.fields(mapping, ("reason", "urgency"), "`handoff`", required=("reason",))
        reason_node = self.scalar(mapping.get("reason"), "the reason")
        reason: HandoffReason | None = None
        if reason_node is not None:
            try:
                reason = HandoffReason(reason_node.text)
            except ValueError:
                self.error(
                    reason_node.value_span,
                    f"`{reason_node.text}` is not a handoff reason"
                    f"{did_you_mean(reason_node.text, HandoffReason)} "
                    f"(reasons: {', '.join(sorted(HandoffReason))})",
                )
                return None
        urgency = HandoffUrgency.NORMAL
        urgency_node = (
            self.scalar(mapping.get("urgency"), "the urgency") if mapping.get("urgency") else None
        )
        if urgency_node is not None:
            try:
                urgency = HandoffUrgency(urgency_node.text)
            except ValueError:
                self.error(
                    urgency_node.value_span,
                    f"`{urgency_node.text}` is not an urgency (urgencies: {', '.join(HandoffUrgency)})",
                )
        if reason is None:
            return None
        return HandoffSpec(reason, urgency, mapping.span)


def _is_empty(node: YNode) -> bool:
    return isinstance(node, YScalar) and node.kind == "null" and not node.quoted


def _transition_fields_absent(mapping: YMapping) -> bool:
    return all(mapping.get(name) is None for name in TRANSITION_FIELDS)


def _replace(node: Node, **changes: object) -> Node:
    return replace(node, **changes)  # type: ignore[arg-type]
