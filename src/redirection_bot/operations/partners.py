"""Partner platforms: the door a platform links to, and its k-anonymous funnel counts.

A platform that shows a warning to people searching for abusive material can link to the
web chat as ``/?from=<partner>`` (or send the partner in a REST or WebSocket start): the
conversation then opens at the program's ``partner_entry`` (a short deterrence-and-help
flow) and goes on into the welcome. Partners are declared by the operator (``partners:``
in the configuration); a value that is not one of them is ignored without a trace: the
normal welcome, nothing stored, logged or echoed (``Partners.known``).

For each partner, four plain counters per day (``FunnelStage``), kept in the anonymous
counts store beside the evaluation counts (``operations/evaluation.py``), under the module
``PARTNER_MODULE``: no session, person, time of day or referrer. ``funnel_rows`` sums them
by month for the operator, every count under ``suppress_below`` (k) shown as ``<k``.
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO

from redirection_bot.dialogue.model import NodeKind, Program
from redirection_bot.language.yaml_schema import LOCALE_PATTERN, SchemaReader
from redirection_bot.language.yaml_source import YNode, YScalar
from redirection_bot.operations.evaluation import OTHER_COUNTS, CountRow, EvaluationCounts

PARTNER_ID = re.compile(r"[a-z0-9][a-z0-9_]{0,31}\Z")
"""Short, lower-case: it is written in a link and used as a count's name."""
PARTNER_MODULE = OTHER_COUNTS + "partner"
"""The counts' module for funnel rows: not a flow id, so it never meets an evaluation row."""
DEFAULT_SUPPRESS_BELOW = 10
FUNNEL_COLUMNS = ("month", "partner", "stage", "count")


class FunnelStage(enum.StrEnum):
    """How far people sent by a partner went, each counted once per conversation."""

    SHOWN = "shown"
    """The entry page was served (the web chat's ``/?from=``)."""
    STARTED = "started"
    """The conversation opened through the partner's door."""
    REACHED_HELP = "reached_help"
    """The conversation reached one of the program's ``help_flows`` (services, the plan)."""
    ASKED_PERSON = "asked_person"
    """A person from a helpline was asked for."""


FOLLOWED = (FunnelStage.REACHED_HELP, FunnelStage.ASKED_PERSON)
"""The stages a conversation is followed for after it started; once both are counted, the
partner is dropped from it."""


@dataclass(frozen=True, slots=True)
class Partner:
    id: str
    locale: str | None = None
    """The language the door opens in when the person has not chosen one."""


@dataclass(frozen=True, slots=True)
class PartnerSettings:
    """The ``partners`` section: who may link to the door, and the counts' threshold."""

    platforms: tuple[Partner, ...] = ()
    suppress_below: int = DEFAULT_SUPPRESS_BELOW

    def known(self, value: object) -> Partner | None:
        """The partner ``value`` names exactly, or None: anything else is ignored, and must
        then be neither stored, logged nor shown."""
        if not isinstance(value, str) or not PARTNER_ID.match(value):
            return None
        return next((partner for partner in self.platforms if partner.id == value), None)


def read_partners(
    reader: SchemaReader, node: YNode | None, program_locales: Sequence[str] = ()
) -> PartnerSettings:
    """The ``partners`` section, each problem reported where it is written."""
    if node is None or (isinstance(node, YScalar) and node.kind == "null" and not node.quoted):
        return PartnerSettings()
    what = "the `partners` section"
    mapping = reader.mapping(node, what)
    if mapping is None:
        return PartnerSettings()
    reader.fields(mapping, ("platforms", "suppress_below"), what)
    suppress_below = DEFAULT_SUPPRESS_BELOW
    if mapping.get("suppress_below") is not None:
        found = reader.integer(mapping.get("suppress_below"), "`suppress_below`")
        if found is not None and found < 2:
            reader.error(
                reader.field_span(mapping, "suppress_below"),
                "`suppress_below` must be at least 2: a count of one is one person",
            )
        elif found is not None:
            suppress_below = found
    platforms: list[Partner] = []
    listed = reader.sequence(mapping.get("platforms"), "`partners.platforms`")
    for item in listed.items if listed is not None else ():
        partner = _partner(reader, item, program_locales)
        if partner is None:
            continue
        if any(p.id == partner.id for p in platforms):
            reader.error(item.span, f"the partner `{partner.id}` is listed twice")
            continue
        platforms.append(partner)
    return PartnerSettings(tuple(platforms), suppress_below)


def _partner(reader: SchemaReader, item: YNode, program_locales: Sequence[str]) -> Partner | None:
    what = "a partner"
    id_node: YNode | None
    locale_node: YNode | None
    if isinstance(item, YScalar):
        id_node, locale_node = item, None
    else:
        body = reader.mapping(item, what)
        if body is None:
            return None
        reader.fields(body, ("id", "locale"), what, required=("id",))
        id_node, locale_node = body.get("id"), body.get("locale")
    partner_id = reader.text(id_node, "a partner id")
    if partner_id is None or id_node is None:
        return None
    if not PARTNER_ID.match(partner_id):
        reader.error(
            id_node.span,
            f"`{partner_id}`: a partner id is lower-case letters, digits and `_` (at most 32)",
        )
        return None
    locale = reader.text(locale_node, "`locale`") if locale_node is not None else None
    if locale is not None and locale_node is not None:
        unknown = program_locales and locale not in program_locales
        if not LOCALE_PATTERN.match(locale) or unknown:
            known = ", ".join(program_locales) or "a locale code such as `en`"
            reader.error(locale_node.span, f"`{locale}` is not a language of the program ({known})")
            return None
    return Partner(partner_id, locale)


def stages_reached(program: Program, trace: Sequence[str]) -> set[FunnelStage]:
    """The followed stages a turn reached, read from the nodes it passed through."""
    reached: set[FunnelStage] = set()
    for qualified in trace:
        flow, _, node_id = qualified.partition(".")
        if flow in program.help_flows:
            reached.add(FunnelStage.REACHED_HELP)
        declared = program.flows.get(flow)
        node = declared.nodes.get(node_id) if declared is not None else None
        if node is not None and node.kind is NodeKind.HANDOFF:
            reached.add(FunnelStage.ASKED_PERSON)
    return reached


# --- counting ----------------------------------------------------------------------------------


class Funnel:
    """The partners' funnel in the anonymous counts store: a stage adds one to today's (UTC)
    counter, no more; the operator reads it by month, small counts suppressed."""

    def __init__(self, counts: EvaluationCounts, suppress_below: int = DEFAULT_SUPPRESS_BELOW):
        self._counts = counts
        self.suppress_below = suppress_below

    async def count(self, partner: Partner, stage: FunnelStage, day: dt.date | None = None) -> None:
        today = day or dt.datetime.now(dt.UTC).date()
        await self._counts.add(today, PARTNER_MODULE, partner.id, stage.value)

    async def export(self) -> str:
        """The funnel as CSV (``FUNNEL_COLUMNS``), counts under k suppressed."""
        out = io.StringIO()
        export_funnel_csv(funnel_rows(await self._counts.rows()), self.suppress_below, out)
        return out.getvalue()


@dataclass(frozen=True, slots=True, order=True)
class FunnelRow:
    month: str
    partner: str
    stage: str
    count: int


def funnel_rows(rows: Iterable[CountRow]) -> list[FunnelRow]:
    """The partner counts summed by month (days are never shown: a day's few visits from one
    platform could point at a person), in funnel order."""
    order = {stage.value: n for n, stage in enumerate(FunnelStage)}
    totals: dict[tuple[str, str, str], int] = {}
    for row in rows:
        if row.module != PARTNER_MODULE:
            continue
        key = (row.day[:7], row.question, row.answer)
        totals[key] = totals.get(key, 0) + row.count
    return sorted(
        (
            FunnelRow(month, partner, stage, count)
            for (month, partner, stage), count in totals.items()
        ),
        key=lambda r: (r.month, r.partner, order.get(r.stage, len(order))),
    )


def suppressed(count: int, k: int) -> str:
    """A count as the operator may see it: under ``k`` it is ``<k``."""
    return str(count) if count >= k else f"<{k}"


def export_funnel_csv(rows: Iterable[FunnelRow], k: int, out: IO[str]) -> int:
    """Write the funnel as CSV, counts under ``k`` suppressed; return the rows written."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FUNNEL_COLUMNS)
    written = 0
    for row in rows:
        writer.writerow((row.month, row.partner, row.stage, suppressed(row.count, k)))
        written += 1
    return written
