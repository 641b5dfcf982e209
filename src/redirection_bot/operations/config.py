"""Operator configuration: frozen settings from one YAML file and the environment.

The file (``redirection-bot serve --config FILE``) has seven sections, all optional::

    connectors:   # which channels run, each with its own options
      webchat: {port: 8080}
    store: {backend: memory, session_ttl_minutes: 1440}
    limits: {max_message_length: 2000, messages_per_minute: 30, max_sessions: 10000}
    handoff: {claim_timeout_seconds: 300, services: {helpline: {channel: matrix, ...}}}
    branding: {exit_url: /blank, accent_color: "#1f4e79"}
    admin: {host: 127.0.0.1, port: 9464}
    partners: {suppress_below: 10, platforms: [{id: example_site, locale: es}]}

Every section is a frozen dataclass below; a field's type and its ``check`` say how it is
read, so adding a section (or a field) is adding a dataclass (or a field) and a line in
``SECTIONS``. Every problem is reported at ``file:line:column`` with a did-you-mean, all at
once, in one ``ConfigError``.

The environment overrides the file: ``REDIRECTION_BOT_<SECTION>__<FIELD>`` (and
``REDIRECTION_BOT_CONNECTORS__<NAME>__<OPTION>``), with the value read as YAML, so that
``REDIRECTION_BOT_LIMITS__MAX_SESSIONS=500`` or a secret mounted by a container works
without editing the file. Problems in a variable are reported at ``$NAME:1:1``.

Plug-in options (connectors and operator channels): a plug-in class declares
``options_schema``, a frozen dataclass of its options; its section is read here into an
instance of it like any section, and a schema field named ``limits`` or ``branding``
receives that section (``program_locales``: the locales of the program the file is read for,
empty when it is read without one, so that an option naming a language can be checked here).
When the schema defines ``checked(self)``, it is called here: it raises ConfigError for what
the fields alone cannot say (a secret too short, a room id of the wrong shape), so that the
problem is reported at the plug-in's options with the rest, not when ``serve`` starts, and
returns the options the plug-in receives (itself, or a copy with secrets read from their
files). The plug-in gets that instance, parsed once, as ``context.options``. A plug-in
without a schema receives plain values (text, numbers, true/false, lists, mappings).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from redirection_bot.diagnostics import Diagnostic, Diagnostics, Span
from redirection_bot.errors import ConfigError, ConnectorError
from redirection_bot.language.suggest import did_you_mean
from redirection_bot.language.yaml_schema import SchemaReader
from redirection_bot.language.yaml_source import (
    YMapping,
    YNode,
    YScalar,
    YSequence,
    read_yaml_file,
    read_yaml_text,
)
from redirection_bot.operations.hours import (
    ALWAYS_OPEN,
    HoursError,
    OfficeHours,
    parse_hours,
    read_days,
    read_holiday,
    read_ranges,
    read_timezone,
)
from redirection_bot.operations.partners import PartnerSettings, read_partners
from redirection_bot.operations.plugins import (
    CONNECTORS,
    OPERATOR_CHANNELS,
    installed,
    installed_plugin,
)

CONFIG_ENV = "REDIRECTION_BOT_CONFIG"
ENV_PREFIX = "REDIRECTION_BOT_"
ENV_SEPARATOR = "__"
DEFAULT_CONNECTORS = ("webchat",)

Check = Callable[[Any], str | None]
"""A field's own rule: a problem (completing "`field` ...") or None."""


def _check(rule: Check) -> dict[str, Check]:
    return {"check": rule}


def at_least(minimum: int) -> dict[str, Check]:
    """Metadata for a number field that must be ``minimum`` or more."""
    return _check(lambda value: None if value >= minimum else f"must be {minimum} or more")


def between(low: int, high: int) -> dict[str, Check]:
    return _check(lambda value: None if low <= value <= high else f"must be from {low} to {high}")


def one_of(*choices: str) -> dict[str, Check]:
    def rule(value: str) -> str | None:
        if value in choices:
            return None
        return f"cannot be `{value}`{did_you_mean(value, choices)} (known: {', '.join(choices)})"

    return _check(rule)


# --- sections ---------------------------------------------------------------------------------


def _keys_problem(keys: tuple[str, ...]) -> str | None:
    from redirection_bot.operations.crypto import parse_key  # noqa: PLC0415

    for index, key in enumerate(keys):
        try:
            parse_key(key, f"store.keys[{index}]")
        except ConfigError as error:
            return f"has a key that is not valid ({error})"
    return None


def above_zero() -> dict[str, Check]:
    """Metadata for a number of seconds (or hours) that must be above 0."""
    return _check(lambda value: None if value > 0 else "must be above 0")


@dataclass(frozen=True, slots=True)
class StoreSettings:
    """Where conversations are kept between turns (docs/operators.md, "stores")."""

    backend: str = field(default="memory", metadata=one_of("memory", "sqlite", "redis"))
    session_ttl_minutes: int = field(default=24 * 60, metadata=at_least(1))
    """A conversation left alone this long is erased."""
    untouched_minutes: int = field(default=30, metadata=at_least(1))
    """A conversation the person has only opened (nothing typed or picked yet) is erased after
    this long (at most ``session_ttl_minutes``): conversations cost nothing to open, and a
    script opening them by the thousand should not fill the store for a day."""
    path: str = "sessions.sqlite3"
    """sqlite: the database file."""
    url: str = "redis://127.0.0.1:6379/0"
    """redis: the server (``rediss://`` for TLS)."""
    prefix: str = "rb:"
    """redis: the prefix of every key, so that one Redis can serve several deployments."""
    keys: tuple[str, ...] = field(default=(), repr=False, metadata=_check(_keys_problem))
    """Encryption keys, newest first (``redirection-bot store-key`` makes one); better given
    as ``REDIRECTION_BOT_STORE__KEYS='["..."]'`` than in the file."""
    resume_ttl_days: int = field(default=30, metadata=at_least(1))
    """How long a resume phrase keeps working."""
    redis_connections: int = field(default=200, metadata=at_least(1))
    """redis: connections one instance opens at most; a turn that finds them all busy waits
    for one (up to ``redis_wait_seconds``) instead of failing."""
    redis_wait_seconds: float = field(default=10.0, metadata=above_zero())
    """redis: how long a turn waits for a free connection before "try again in a moment"."""
    lease_seconds: float = field(default=5.0, metadata=above_zero())
    """redis: how long a conversation's turn lock lasts unless renewed; it is renewed while a
    turn runs, so this is how soon a dead instance's conversations are free again."""


@dataclass(frozen=True, slots=True)
class LimitSettings:
    """Limits that keep one process healthy; each is met with a polite, localised reply."""

    max_message_length: int = field(default=2000, metadata=at_least(1))
    messages_per_minute: int = field(default=30, metadata=at_least(1))
    """Per conversation; a short burst up to this many is allowed."""
    max_sessions: int = field(default=10_000, metadata=at_least(1))
    """Conversations one process keeps at once; new ones are asked to come back later."""
    resume_tries_at_once: int = field(default=2, metadata=at_least(1))
    """Resume words (and new words) one process works out at once: each is a scrypt of about
    a tenth of a second of a core and 32 MiB."""
    resume_tries_waiting: int = field(default=32, metadata=at_least(0))
    """Resume words that may wait for their turn (about 0.05 s each); more are answered
    "many people are trying their words, try again in a minute", without being tried or
    counted."""


@dataclass(frozen=True, slots=True)
class AdminSettings:
    """The admin listener: Prometheus metrics at ``/metrics``, on localhost by default."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = field(default=9464, metadata=between(0, 65535))
    """0: any free port."""


SERVICE_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}\Z")


@dataclass(frozen=True, slots=True)
class ServiceSettings:
    """One human service: the channel its operators use, the people it serves, its hours."""

    name: str
    channel: str
    """An operator channel plug-in (``matrix``, ``webhook``, ...)."""
    locales: tuple[str, ...] = ()
    """People in these languages go to this service (none listed: every language)."""
    hours: OfficeHours = ALWAYS_OPEN
    options: Any = field(default_factory=dict, repr=False)
    """The channel's own options: an instance of its ``options_schema``."""

    def serves(self, locale: str) -> bool:
        return not self.locales or locale in self.locales


@dataclass(frozen=True, slots=True)
class HandoffSettings:
    """Handing a conversation to a person from a helpline (docs/operators.md, "Human handoff")."""

    enabled: bool = True
    """Whether the services below take conversations (false: no handoff, as with none)."""
    claim_timeout_seconds: float = field(default=300.0, metadata=above_zero())
    """Nobody claimed a request by then: the person gets the services and a safety plan."""
    notice_interval_seconds: float = field(default=120.0, metadata=above_zero())
    """While a person waits, a message at least this often."""
    tick_seconds: float = field(default=5.0, metadata=above_zero())
    """How often waiting conversations are looked at."""
    max_waiting: int = field(default=200, metadata=at_least(1))
    """Requests waiting at once in one service's line: a request beyond it is not queued; the
    person is told the line is full and given the services that help now (one client's
    thousands of requests made the line thousands long, and every request cost more). An
    urgent request (a crisis's) has as many places again."""
    duty_hours: float = field(default=12.0, metadata=above_zero())
    """An operator's "on duty" lasts this long unless they say it again."""
    conversation_lines: int = field(default=20, metadata=at_least(0))
    """Lines of the conversation kept so that an operator can read how the person got here,
    if the person agrees when asked (0: nothing kept, and nobody is asked)."""
    run_channels: bool = True
    """Run the operator channels here (with several instances, on one of them only)."""
    services: tuple[ServiceSettings, ...] = ()

    @property
    def active(self) -> bool:
        return self.enabled and bool(self.services)


def _exit_url_problem(value: str) -> str | None:
    parts = urlsplit(value)
    if value.startswith("/") and not value.startswith("//") and not parts.scheme:
        return None
    if parts.scheme in ("http", "https") and parts.netloc:
        return None
    return "must be a path on this site (`/blank`) or a full http(s) address"


_HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}\Z")
MIN_CONTRAST = 4.5


def contrast_with_white(colour: str) -> float:
    """WCAG contrast ratio of white text on ``colour`` (``#rrggbb``)."""

    def channel(hex_pair: str) -> float:
        value = int(hex_pair, 16) / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(colour[i : i + 2]) for i in (1, 3, 5))
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    return 1.05 / (luminance + 0.05)


def _accent_problem(value: str) -> str | None:
    if not _HEX_COLOUR.match(value):
        return 'must be a colour written `"#rrggbb"` (in quotes)'
    ratio = contrast_with_white(value)
    if ratio < MIN_CONTRAST:
        return (
            f"gives white text a contrast of {ratio:.1f}:1; at least {MIN_CONTRAST}:1 is needed "
            "(WCAG AA): choose a darker colour"
        )
    return None


@dataclass(frozen=True, slots=True)
class BrandingSettings:
    """How pages look and where "leave now" goes."""

    exit_url: str = field(default="/blank", metadata=_check(_exit_url_problem))
    """The neutral page a person lands on after "leave now" (a path here, or another site)."""
    accent_color: str = field(default="#1f4e79", metadata=_check(_accent_problem))


@dataclass(frozen=True, slots=True)
class ConnectorSettings:
    """One connector named in the configuration."""

    name: str
    enabled: bool = True
    options: Any = field(default_factory=dict, repr=False)
    """An instance of the connector's ``options_schema`` (plain values without one)."""


SLOT_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}\Z")


def slot_id_problem(value: str) -> str | None:
    if SLOT_ID.match(value):
        return None
    return "should be lower-case letters, digits, `-` or `_` (at most 32)"


def utc_time_problem(value: str) -> str | None:
    """Why ``value`` is not an ISO-8601 time in UTC (None when it is one)."""
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return "should be an ISO-8601 time in UTC, like 2025-03-04T15:00:00Z"
    if parsed.utcoffset() != dt.timedelta(0):
        return "should be in UTC (end it with Z or +00:00)"
    return None


@dataclass(frozen=True, slots=True)
class AppointmentSlotSettings:
    """One time a counsellor keeps free for anonymous appointments (``appointments.slots``)."""

    id: str = field(default="", metadata=_check(slot_id_problem))
    start: str = field(default="", metadata=_check(utc_time_problem))
    """When it starts, in UTC, ISO-8601: ``2025-03-04T15:00:00Z``."""
    minutes: int = field(default=45, metadata=between(5, 240))
    locale: str = "en"
    """The language of the chat: only people in this language are offered it."""
    capacity: int = field(default=1, metadata=between(1, 50))
    """How many people may book it (a team's slot may take several)."""
    team: str | None = None
    """The service (``handoff.services``) whose operators take it; default: the language's."""
    operator: str | None = None
    """The operator's reference in their channel, for their own listing (never shown to the
    person)."""


@dataclass(frozen=True, slots=True)
class AppointmentSettings:
    """Anonymous appointments with a counsellor (docs/operators.md, "Appointments")."""

    enabled: bool = True
    early_minutes: int = field(default=10, metadata=between(0, 120))
    """How early before the slot the person's words already bring them to the counsellor."""
    late_minutes: int = field(default=15, metadata=between(0, 240))
    """How long after the start the words still do (at most until the slot ends)."""
    retention_days: int = field(default=7, metadata=between(1, 366))
    """How long a booking (its slot, booking id, status: nothing about the person) is kept
    after its slot ends."""
    lead_minutes: int = field(default=30, metadata=between(0, 1440))
    """Slots starting sooner than this are not offered."""
    offered: int = field(default=6, metadata=between(1, 6))
    """Free slots shown at once, soonest first."""
    slots: tuple[AppointmentSlotSettings, ...] = ()


SECTIONS: dict[str, type] = {
    "store": StoreSettings,
    "limits": LimitSettings,
    "handoff": HandoffSettings,
    "branding": BrandingSettings,
    "admin": AdminSettings,
    "appointments": AppointmentSettings,
}
"""Sections read by their dataclass; ``connectors`` is read on its own."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything an operator configured, checked."""

    connectors: tuple[ConnectorSettings, ...] = tuple(
        ConnectorSettings(name) for name in DEFAULT_CONNECTORS
    )
    store: StoreSettings = StoreSettings()
    limits: LimitSettings = LimitSettings()
    handoff: HandoffSettings = HandoffSettings()
    branding: BrandingSettings = BrandingSettings()
    admin: AdminSettings = AdminSettings()
    appointments: AppointmentSettings = AppointmentSettings()
    partners: PartnerSettings = field(default_factory=PartnerSettings)
    """Platforms that link to the door (operations/partners.py)."""
    warnings: tuple[Diagnostic, ...] = ()
    source: str | None = None
    """The file read (None: defaults and the environment only)."""

    def enabled_connectors(self) -> list[ConnectorSettings]:
        return [c for c in self.connectors if c.enabled]

    def connector(self, name: str) -> ConnectorSettings | None:
        return next((c for c in self.connectors if c.name == name), None)

    def with_options(self, name: str, **changes: Any) -> Settings:
        """The same settings with some of one connector's options replaced (for ``--port``)."""
        connectors = tuple(
            dataclasses.replace(c, options=_replace_options(c.options, changes))
            if c.name == name
            else c
            for c in self.connectors
        )
        return dataclasses.replace(self, connectors=connectors)


def _replace_options(options: Any, changes: Mapping[str, Any]) -> Any:
    if dataclasses.is_dataclass(options) and not isinstance(options, type):
        return dataclasses.replace(options, **changes)
    return {**options, **changes}


# --- reading ----------------------------------------------------------------------------------


def read_settings(
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    connector_classes: Callable[[str], type | None] | None = None,
    channel_classes: Callable[[str], type | None] | None = None,
    program_locales: tuple[str, ...] = (),
) -> Settings:
    """Settings from a file (or none) and the environment; raises ConfigError listing every
    problem. ``connector_classes`` and ``channel_classes`` find a connector or an operator
    channel class by name (default: installed ones); ``program_locales``, those of the
    program served, for plug-in options that name a language."""
    diagnostics = Diagnostics()
    root: YNode | None = None
    shown = str(path) if path is not None else None
    if path is not None:
        root = read_yaml_file(path, str(path), diagnostics)
    root = _apply_environment(root, environ or {}, diagnostics, shown or "(no file)")
    reader = SchemaReader(diagnostics)
    settings = _SettingsReader(
        reader, connector_classes or _installed_connector, channel_classes, program_locales
    ).read(root)
    if diagnostics.has_errors():
        raise ConfigError("\n".join(d.format() for d in diagnostics.items))
    return dataclasses.replace(settings, warnings=tuple(diagnostics.warnings), source=shown)


_Section = typing.TypeVar("_Section", AppointmentSettings, HandoffSettings)


def read_appointment_settings(reader: SchemaReader, node: YNode | None) -> AppointmentSettings:
    """An `appointments` section read as the configuration reads it (conversation tests give
    their own); problems go to ``reader``'s diagnostics, at file:line:column."""
    return _SettingsReader(reader, _installed_connector).appointments(node)


def _installed_connector(name: str) -> type | None:
    found: type | None = installed_plugin(CONNECTORS, name, "connector", ConnectorError)
    return found


def known_connector_names() -> list[str]:
    return sorted(installed(CONNECTORS))


SERVICE_FIELDS = ("channel", "locales", "timezone", "hours", "holidays", "options")


def _installed_channel(name: str) -> type | None:
    found: type | None = installed_plugin(OPERATOR_CHANNELS, name, "operator channel", ConfigError)
    return found


def known_channel_names() -> list[str]:
    return sorted(installed(OPERATOR_CHANNELS))


class _SettingsReader:
    def __init__(
        self,
        reader: SchemaReader,
        connector_classes: Callable[[str], type | None],
        channel_classes: Callable[[str], type | None] | None = None,
        program_locales: tuple[str, ...] = (),
    ):
        self.reader = reader
        self.connector_classes = connector_classes
        self.channel_classes = channel_classes or _installed_channel
        self.program_locales = program_locales

    def read(self, root: YNode | None) -> Settings:
        if root is None:
            root = YMapping((), Span("(defaults)", 1, 1))
        top = self.reader.mapping(root, "the configuration")
        if top is None:
            return Settings()
        self.reader.fields(top, ["connectors", *SECTIONS, "partners"], "the configuration")
        sections: dict[str, Any] = {
            name: read_dataclass(self.reader, top.get(name), cls, f"the `{name}` section")
            for name, cls in SECTIONS.items()
            if name not in ("handoff", "appointments")
        }
        sections["appointments"] = self.appointments(top.get("appointments"))
        partners = read_partners(self.reader, top.get("partners"), self.program_locales)
        settings = Settings(**sections, partners=partners)
        settings = dataclasses.replace(settings, handoff=self.handoff(top.get("handoff"), settings))
        connectors_node = top.get("connectors")
        if connectors_node is not None:
            connectors = self.connectors(connectors_node, settings)
            settings = dataclasses.replace(settings, connectors=connectors)
        else:
            settings = dataclasses.replace(
                settings,
                connectors=tuple(
                    ConnectorSettings(name, True, options)
                    for name in DEFAULT_CONNECTORS
                    if (options := self.options(name, None, settings, top.span)) is not None
                ),
            )
        return settings

    def connectors(self, node: YNode, settings: Settings) -> tuple[ConnectorSettings, ...]:
        mapping = self.reader.mapping(node, "`connectors`")
        if mapping is None:
            return ()
        found: list[ConnectorSettings] = []
        for key, value in mapping:
            body = None
            if not (isinstance(value, YScalar) and value.kind == "null" and not value.quoted):
                body = self.reader.mapping(value, f"the `{key.text}` connector's options")
                if body is None:
                    continue
            enabled = True
            if body is not None and body.get("enabled") is not None:
                enabled = bool(self.reader.boolean(body.get("enabled"), "`enabled`"))
                body = YMapping(tuple(i for i in body.items if i[0].text != "enabled"), body.span)
            options = self.options(key.text, body, settings, key.span)
            if options is not None:
                found.append(ConnectorSettings(key.text, enabled, options))
        if found and not any(c.enabled for c in found):
            self.reader.error(mapping.span, "no connector is enabled, so nothing would run")
        return tuple(found)

    def appointments(self, node: YNode | None) -> AppointmentSettings:
        """The `appointments` section: its own fields, and its slots (a list of mappings)."""
        settings, slots_node = self._section(node, AppointmentSettings, "appointments", "slots")
        if slots_node is None:
            return settings
        found: list[AppointmentSlotSettings] = []
        seen: set[str] = set()
        sequence = self.reader.sequence(slots_node, "`appointments.slots`")
        for item in sequence.items if sequence is not None else ():
            body = self.reader.mapping(item, "an appointment slot")
            if body is None:
                continue
            slot = read_dataclass(self.reader, body, AppointmentSlotSettings, "an appointment slot")
            if body.get("id") is None or body.get("start") is None:
                self.reader.error(body.span, "an appointment slot needs an `id` and a `start`")
                continue
            if slot.id in seen:
                self.reader.error(body.span, f"slot `{slot.id}` is declared twice")
            seen.add(slot.id)
            if slot.id and slot.start:
                found.append(slot)
        return dataclasses.replace(settings, slots=tuple(found))

    def handoff(self, node: YNode | None, settings: Settings) -> HandoffSettings:
        """The `handoff` section: its own fields, and the services with their channels."""
        handoff, services_node = self._section(node, HandoffSettings, "handoff", "services")
        if services_node is None:
            return handoff
        return dataclasses.replace(handoff, services=self.services(services_node, settings))

    def _section(
        self, node: YNode | None, cls: type[_Section], name: str, nested: str
    ) -> tuple[_Section, YNode | None]:
        """A section read into ``cls`` from its own fields, and its ``nested`` list (read by
        the caller); defaults when the section is absent, empty or not a mapping."""
        what = f"the `{name}` section"
        if node is None or (isinstance(node, YScalar) and node.kind == "null" and not node.quoted):
            return cls(), None
        mapping = self.reader.mapping(node, what)
        if mapping is None:
            return cls(), None
        own = YMapping(tuple(i for i in mapping.items if i[0].text != nested), mapping.span)
        return read_dataclass(self.reader, own, cls, what), mapping.get(nested)

    def services(self, node: YNode, settings: Settings) -> tuple[ServiceSettings, ...]:
        mapping = self.reader.mapping(node, "`handoff.services`")
        if mapping is None:
            return ()
        found: list[ServiceSettings] = []
        for key, value in mapping:
            what = f"the `{key.text}` service"
            if not SERVICE_NAME.match(key.text):
                self.reader.error(
                    key.span,
                    f"`{key.text}`: name a service with lower-case letters, digits and `_`, "
                    "starting with a letter (at most 32)",
                )
                continue
            body = self.reader.mapping(value, what)
            if body is None:
                continue
            self.reader.fields(body, SERVICE_FIELDS, what, required=["channel"])
            channel = self.reader.text(body.get("channel"), "`channel`")
            if channel is None:
                continue
            options_node = body.get("options")
            options_body = (
                self.reader.mapping(options_node, f"{what}'s channel options")
                if options_node is not None
                else None
            )
            options = self.options(
                channel,
                options_body,
                settings,
                self.reader.field_span(body, "channel"),
                self.channel_classes,
                "operator channel",
                self.reader.field_span(body, "options") if options_node is not None else None,
                key.text,
            )
            locales = tuple(
                s.text for s in self.reader.one_or_many(body.get("locales"), "`locales`")
            )
            hours = self.hours(body, what)
            if options is not None and hours is not None:
                found.append(ServiceSettings(key.text, channel, locales, hours, options))
        return tuple(found)

    def hours(self, body: YMapping, what: str) -> OfficeHours | None:
        """A service's office hours (always open when none are given); each problem is
        reported where it is written."""
        timezone_node = body.get("timezone")
        timezone = self.reader.text(timezone_node, "`timezone`") or "UTC"
        hours_node = body.get("hours")
        holiday_nodes = self.reader.one_or_many(body.get("holidays"), "`holidays`")
        holidays = [node.text for node in holiday_nodes]
        if hours_node is None and timezone_node is None and not holidays:
            return ALWAYS_OPEN
        parts: list[tuple[YNode, Callable[[str], object], str]] = []
        if timezone_node is not None:
            parts.append((timezone_node, read_timezone, timezone))
        parts += [(node, read_holiday, node.text) for node in holiday_nodes]
        weekly: dict[str, str] = {"every day": "00:00-24:00"}
        if hours_node is not None:
            hours_mapping = self.reader.mapping(hours_node, f"{what}'s `hours`")
            if hours_mapping is None:
                return None
            weekly = {}
            for day, ranges in hours_mapping:
                text = self.reader.text(ranges, f"`{day.text}`")
                if text is not None:
                    weekly[day.text] = text
                    parts += [(day, read_days, day.text), (ranges, read_ranges, text)]
        problems = 0
        for node, read, text in parts:
            try:
                read(text)
            except HoursError as error:
                self.reader.error(_value_span(node), f"{what}: {error}")
                problems += 1
        if problems:
            return None
        try:
            return parse_hours(timezone, weekly, holidays)
        except HoursError as error:
            self.reader.error(self.reader.field_span(body, "hours"), f"{what}: {error}")
            return None

    def options(
        self,
        name: str,
        body: YMapping | None,
        settings: Settings,
        span: Span,
        find: Callable[[str], type | None] | None = None,
        kind: str = "connector",
        body_span: Span | None = None,
        label: str | None = None,
    ) -> Any:
        """A plug-in's options: an instance of its ``options_schema``, finished by the
        schema's ``checked()`` (problems located at ``body_span``, else ``span``; ``label``
        names the service in the plug-in's messages); None after a problem."""
        try:
            cls = (find or self.connector_classes)(name)
        except (ConnectorError, ConfigError) as error:
            self.reader.error(span, str(error))
            return None
        if cls is None:
            names = known_connector_names() if find is None else known_channel_names()
            self.reader.error(
                span,
                f"there is no {kind} called `{name}`{did_you_mean(name, names)} "
                f"(installed: {', '.join(names) or 'none'})",
            )
            return None
        schema = getattr(cls, "options_schema", None)
        if schema is None or not dataclasses.is_dataclass(schema):
            return plain(body) if body is not None else {}
        shared = {
            "limits": settings.limits,
            "branding": settings.branding,
            "program_locales": self.program_locales,
        }
        fed = {f.name: shared[f.name] for f in dataclasses.fields(schema) if f.name in shared}
        errors_before = len(self.reader.diagnostics.errors)
        own = read_dataclass(
            self.reader,
            body,
            schema,  # type: ignore[arg-type]
            f"the `{name}` {kind}'s options",
            skip=set(fed) | {"enabled"},
        )
        options = dataclasses.replace(own, **fed)
        checked = getattr(options, "checked", None)
        # after a mistake above, defaults stand in: checking them would only add confusion
        if checked is not None and len(self.reader.diagnostics.errors) == errors_before:
            try:
                options = checked()
            except ConfigError as error:
                message = str(error).replace("<name>", label) if label else str(error)
                self.reader.error(body_span or span, message)
                return None
        return options


T = typing.TypeVar("T")


def read_dataclass(
    reader: SchemaReader,
    node: YNode | None,
    cls: type[T],
    what: str,
    skip: set[str] | None = None,
) -> T:
    """A frozen dataclass from a YAML mapping: unknown fields, wrong types and broken rules
    become located errors, and the defaults stand in for whatever is missing or wrong."""
    if node is None or (isinstance(node, YScalar) and node.kind == "null" and not node.quoted):
        return cls()
    mapping = reader.mapping(node, what)
    if mapping is None:
        return cls()
    skipped = skip or set()
    fields = [f for f in dataclasses.fields(cls) if f.name not in skipped]  # type: ignore[arg-type]
    allowed = [f.name for f in fields]
    if allowed:
        reader.fields(mapping, allowed, what)
    else:
        for key, _value in mapping:
            reader.error(key.span, f"`{key.text}` is not a field of {what} (it has no fields yet)")
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for spec in fields:
        value_node = mapping.get(spec.name)
        if value_node is None:
            continue
        value = _read_value(reader, value_node, hints[spec.name], f"`{spec.name}`")
        if value is _MISSING:
            continue
        rule = spec.metadata.get("check")
        problem = rule(value) if rule is not None and value is not None else None
        if problem is not None:
            reader.error(_value_span(value_node), f"`{spec.name}` {problem}")
            continue
        values[spec.name] = value
    return cls(**values)


_MISSING = object()


def _value_span(node: YNode) -> Span:
    return node.value_span if isinstance(node, YScalar) else node.span


def _read_value(reader: SchemaReader, node: YNode, hint: Any, what: str) -> Any:
    optional = False
    if isinstance(hint, types.UnionType) and type(None) in hint.__args__:
        optional = True
        others = [a for a in hint.__args__ if a is not type(None)]
        hint = others[0]
    if optional and isinstance(node, YScalar) and node.kind == "null" and not node.quoted:
        return None
    found: Any
    if hint is bool:
        found = reader.boolean(node, what)
    elif hint is int:
        found = reader.integer(node, what)
    elif hint is float:
        found = _number(reader, node, what)
    elif hint is str:
        found = reader.text(node, what)
    elif typing.get_origin(hint) is tuple:
        items = [reader.text(item, what) for item in reader.one_or_many(node, what)]
        return tuple(item for item in items if item is not None)
    else:
        reader.error(node.span, f"{what} cannot be set in the file")
        return _MISSING
    return _MISSING if found is None else found


def _number(reader: SchemaReader, node: YNode, what: str) -> float | None:
    found = reader.scalar(node, what)
    if found is None:
        return None
    try:
        if found.quoted:
            raise ValueError
        return float(found.text)
    except ValueError:
        reader.error(found.value_span, f"{what} should be a number, not `{found.text}`")
        return None


def plain(node: YNode) -> Any:
    """A node as plain Python values, for connectors that check their own options."""
    if isinstance(node, YMapping):
        return {key.text: plain(value) for key, value in node}
    if isinstance(node, YSequence):
        return [plain(item) for item in node]
    if node.quoted:
        return node.text
    if node.kind == "null":
        return None
    if node.kind == "int" and re.fullmatch(r"[-+]?\d+", node.text):
        return int(node.text)
    if node.kind == "float":
        try:
            return float(node.text)
        except ValueError:
            return node.text
    if node.kind == "bool" and node.text.lower() in ("true", "false"):
        return node.text.lower() == "true"
    return node.text


def read_secret(inline: str | None, path: str | None, name: str, prefix: str) -> str | None:
    """A plug-in's secret option ``name``: given ``inline``, or as ``<name>_file``, the
    ``path`` of a file holding it (as container secrets are mounted); never both. For a
    schema's ``checked()``; ``prefix`` starts its messages (``connectors.matrix``)."""
    if inline and path:
        raise ConfigError(f"{prefix}: give {name} or {name}_file, not both")
    if not path:
        return inline or None
    try:
        return Path(path).read_text(encoding="utf-8").strip() or None
    except OSError as error:
        raise ConfigError(f"{prefix}.{name}_file: cannot read {path}: {error.strerror}") from error


# --- the environment --------------------------------------------------------------------------


def _apply_environment(
    root: YNode | None, environ: Mapping[str, str], diagnostics: Diagnostics, shown: str
) -> YNode | None:
    """Lay ``REDIRECTION_BOT_<SECTION>__<FIELD>`` variables over the file's nodes."""
    for name in sorted(environ):
        if not name.startswith(ENV_PREFIX) or ENV_SEPARATOR not in name:
            continue
        path = [part.lower() for part in name.removeprefix(ENV_PREFIX).split(ENV_SEPARATOR)]
        span = Span(f"${name}", 1, 1)
        if any(not part for part in path):
            diagnostics.error(span, "this variable's name has an empty part (`____`)")
            continue
        value = read_yaml_text(environ[name], f"${name}", diagnostics)
        if value is None:
            value = YScalar("", span, "null", False)
        if root is not None and not isinstance(root, YMapping):
            return root  # the file's own error is reported when it is read
        root = _overlay(root, path, value, span)
    return root


def _overlay(node: YMapping | None, path: list[str], value: YNode, span: Span) -> YMapping:
    head, rest = path[0], path[1:]
    items = list(node.items) if node is not None else []
    existing = node.get(head) if node is not None else None
    if rest:
        inner = existing if isinstance(existing, YMapping) else None
        replacement: YNode = _overlay(inner, rest, value, span)
    else:
        replacement = value
    key = YScalar(head, span, "str", False)
    for index, (item_key, _item) in enumerate(items):
        if item_key.text == head:
            items[index] = (item_key, replacement)
            break
    else:
        items.append((key, replacement))
    return YMapping(tuple(items), node.span if node is not None else span)
