"""The services directory: real organisations a person can turn to, with where each was seen.

``dialogues/services.yaml`` lists each service with its countries, languages, topics (its
kind: crisis line, youth service, ...) and contacts, the public page where those were published
and the date they were last checked; and each country's emergency numbers, sourced the same way.
Names, contacts and numbers are the same in every language; each service's description is a
text in the locale files (``services.<id>.description``), so that translators write it.

Phone numbers become tap-to-call links (``tel:``) wherever a channel can show one: the directory
gives the catalog the links of its texts (``Catalog.add_links``), and the renderer passes them on.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from redirection_bot.diagnostics import Diagnostics, Span
from redirection_bot.language.i18n import Catalog, TextLink
from redirection_bot.language.yaml_schema import ID_PATTERN, LOCALE_PATTERN, SchemaReader
from redirection_bot.language.yaml_source import YMapping, YNode, read_yaml_file

SERVICE_FIELDS = ("id", "name", "countries", "languages", "topics", "contacts", "source", "checked")
OPTIONAL_SERVICE_FIELDS = ("fallback",)
EMERGENCY_FIELDS = ("countries", "numbers", "source", "checked")
CONTACT_KINDS = ("phone", "text", "email", "web", "chat")
TOPICS = (
    "own_behaviour",
    "suicide",
    "crisis",
    "child_protection",
    "report_abuse_material",
    "youth",
)
CRISIS_TOPICS = ("suicide", "crisis")
"""The kinds of a crisis line: what a person in a suicidal crisis is offered, and only that."""
YOUTH_TOPIC = "youth"
NOT_FOR_A_CRISIS = ("own_behaviour",)
"""Kinds never offered as a crisis line: a service about one's sexual interest in children is
not help for a suicidal crisis, so no service may be both (checked on loading)."""
INTERNATIONAL = "INT"
STALE_AFTER_DAYS = 365
EMERGENCY_ELSEWHERE = ("112", "911")
"""Written out for a person in no listed country: "call 112 or 911 or your local number"."""
EMERGENCY_ELSEWHERE_KEY = "services.emergency_elsewhere"
EMERGENCY_HERE_KEY = "services.emergency_here"
_COUNTRY = re.compile(r"[A-Z]{2}\Z")
_KEYPAD = {
    letter: str(digit)
    for digit, letters in (
        (2, "ABC"),
        (3, "DEF"),
        (4, "GHI"),
        (5, "JKL"),
        (6, "MNO"),
        (7, "PQRS"),
        (8, "TUV"),
        (9, "WXYZ"),
    )
    for letter in letters
}


@dataclass(frozen=True, slots=True)
class Contact:
    kind: str
    value: str

    @property
    def digits(self) -> str:
        """What to dial, with letters as on a phone keypad: "1.888.PREVENT" -> "18887738368"."""
        plus = "+" if self.value.lstrip().startswith("+") else ""
        return plus + "".join(_KEYPAD.get(c, c) for c in self.value.upper() if c.isalnum())

    @property
    def shown(self) -> str:
        """The number as published, with its digits when it has letters:
        "1.888.PREVENT (1-888-773-8368)"."""
        if self.kind not in ("phone", "text") or not any(c.isalpha() for c in self.value):
            return self.value
        return f"{self.value} ({_grouped(self.digits)})"

    def links(self) -> tuple[TextLink, ...]:
        """Tap-to-call (``tel:``) or tap-to-text (``sms:``) for the number as shown."""
        scheme = {"phone": "tel", "text": "sms"}.get(self.kind)
        if scheme is None or not self.digits.lstrip("+").isdigit():
            return ()
        href = f"{scheme}:{self.digits}"
        found = [TextLink(self.value, href)]
        if self.shown != self.value:
            found.append(TextLink(_grouped(self.digits), href))
        return tuple(found)


def _grouped(digits: str) -> str:
    """Digits of a North American number as 1-888-773-8368; others as they are."""
    if len(digits) == 11 and digits.startswith("1"):
        return f"{digits[0]}-{digits[1:4]}-{digits[4:7]}-{digits[7:]}"
    return digits


@dataclass(frozen=True, slots=True)
class EmergencyNumbers:
    """A country's emergency numbers, as published at ``source`` and checked on ``checked``."""

    country: str
    numbers: tuple[str, ...]
    source: str
    checked: dt.date
    span: Span

    @property
    def key(self) -> str:
        return f"services.emergency_numbers.{self.country.lower()}"

    def text(self) -> str:
        return " · ".join(self.numbers)

    def links(self) -> tuple[TextLink, ...]:
        return tuple(TextLink(number, f"tel:{number}") for number in self.numbers)


@dataclass(frozen=True, slots=True)
class Service:
    """One organisation, as published at ``source`` and checked on ``checked``."""

    id: str
    name: str
    countries: tuple[str, ...]
    languages: tuple[str, ...]
    topics: tuple[str, ...]
    contacts: tuple[Contact, ...]
    source: str
    checked: dt.date
    span: Span
    fallback: bool = False
    """Shown only to people whose country has no service of the kind asked for (international
    directories: never in place of a country's own crisis line)."""

    @property
    def is_crisis_line(self) -> bool:
        return any(t in CRISIS_TOPICS for t in self.topics) and not any(
            t in NOT_FOR_A_CRISIS for t in self.topics
        )

    @property
    def name_key(self) -> str:
        return f"services.{self.id}.name"

    @property
    def contact_key(self) -> str:
        return f"services.{self.id}.contact"

    @property
    def description_key(self) -> str:
        return f"services.{self.id}.description"

    def contact_line(self) -> str:
        """The contacts as shown, each once: a number one can call or text is written once
        (the description says "call or text")."""
        shown: list[str] = []
        phones = {c.value for c in self.contacts if c.kind == "phone"}
        for contact in self.contacts:
            if contact.kind == "text" and contact.value in phones:
                continue
            if contact.shown not in shown:
                shown.append(contact.shown)
        return " · ".join(shown)

    def links(self) -> tuple[TextLink, ...]:
        phones = {c.value for c in self.contacts if c.kind == "phone"}
        return tuple(
            link
            for contact in self.contacts
            if not (contact.kind == "text" and contact.value in phones)
            for link in contact.links()
        )


@dataclass(frozen=True, slots=True)
class ServicesDirectory:
    services: tuple[Service, ...]
    emergency: tuple[EmergencyNumbers, ...] = ()

    def find(
        self, language: str, country: str | None = None, topics: Sequence[str] = ()
    ) -> list[Service]:
        """Services for a person: in their country and language first, then open to every
        country in their language, then their country's services in other languages (each
        description says which language a service answers in), so that nobody in a country
        with services is left with nothing. Where the country has no service of the kinds
        asked for (or no country was given), services open to every country in other languages,
        then the international directories (``fallback``), in any language."""
        language_base = language.split("-", maxsplit=1)[0]

        def topical(service: Service) -> bool:
            return not topics or any(topic in service.topics for topic in topics)

        def speaks(service: Service) -> bool:
            return language_base in service.languages

        local = [s for s in self.services if country and country in s.countries and topical(s)]
        everywhere = [s for s in self.services if INTERNATIONAL in s.countries and topical(s)]
        regular = [s for s in everywhere if not s.fallback]
        ordered = [s for s in local if speaks(s)] + [s for s in regular if speaks(s)]
        ordered += [s for s in local if not speaks(s)]
        if not local:
            # Nothing in the country: what is open to everyone, in any language, rather than nothing.
            fallbacks = [s for s in everywhere if s.fallback]
            ordered += [s for s in regular if not speaks(s)]
            ordered += [s for s in fallbacks if speaks(s)] + [s for s in fallbacks if not speaks(s)]
        return list(dict.fromkeys(ordered))

    def crisis_lines(self, language: str, country: str | None = None) -> list[Service]:
        """Crisis lines only (suicide, emotional crisis), for a person in a crisis: never a
        service about sexual interest in children. Never empty: where the country has none,
        the international directories of crisis lines."""
        return [s for s in self.find(language, country, CRISIS_TOPICS) if s.is_crisis_line]

    def youth_services(self, language: str, country: str | None = None) -> list[Service]:
        """Services for young people (under 18): youth crisis lines, child helplines."""
        return self.find(language, country, (YOUTH_TOPIC,))

    def emergency_numbers(self, country: str | None) -> EmergencyNumbers | None:
        """The country's emergency numbers; None where no country (or an unlisted one) was
        given: then say "call 112 or 911 or your local emergency number"."""
        return next((e for e in self.emergency if e.country == country), None)

    def gaps(self, countries: Iterable[str]) -> list[str]:
        """What each country lacks of what every listed country must have: its emergency
        numbers, a crisis line of its own and a youth service of its own."""
        missing: list[str] = []
        for country in countries:
            own = [s for s in self.services if country in s.countries]
            if self.emergency_numbers(country) is None:
                missing.append(f"{country} has no emergency number")
            if not any(s.is_crisis_line for s in own):
                missing.append(f"{country} has no crisis line")
            if not any(YOUTH_TOPIC in s.topics for s in own):
                missing.append(f"{country} has no youth service")
        return missing

    def register_texts(self, catalog: Catalog) -> None:
        """Names, contacts and emergency numbers become texts that are the same in every
        locale, with their numbers as links."""
        for service in self.services:
            catalog.add_invariant(service.name_key, service.name, service.span)
            catalog.add_invariant(service.contact_key, service.contact_line(), service.span)
            catalog.add_links(service.contact_key, service.links())
        for numbers in self.emergency:
            catalog.add_invariant(numbers.key, numbers.text(), numbers.span)
            catalog.add_links(numbers.key, numbers.links())
        catalog.add_links(
            EMERGENCY_ELSEWHERE_KEY,
            tuple(TextLink(number, f"tel:{number}") for number in EMERGENCY_ELSEWHERE),
        )
        self._link_emergency_numbers(catalog)

    def _link_emergency_numbers(self, catalog: Catalog) -> None:
        """An emergency number written in any text ("Please call 112 or 911 ... now", "123 en
        Colombia") is tap-to-call too, wherever it stands alone: the most urgent advice is the
        one a person must not have to copy."""
        numbers = {n for entry in self.emergency for n in entry.numbers} | set(EMERGENCY_ELSEWHERE)
        if not numbers:
            return
        alone = re.compile(
            r"(?<![\w+])("
            + "|".join(map(re.escape, sorted(numbers, key=len, reverse=True)))
            + r")(?![\w])"
        )
        for locale in catalog.locales_present():
            for key in catalog.keys(locale):
                entry = catalog.entry(key, locale)
                found = set(alone.findall(entry.text)) if entry is not None else set()
                known = catalog.links(key)
                new = [n for n in sorted(found) if all(link.text != n for link in known)]
                if new:
                    catalog.add_links(key, (*known, *(TextLink(n, f"tel:{n}") for n in new)))

    def text_keys(self) -> Iterable[tuple[str, Span]]:
        for service in self.services:
            yield service.description_key, service.span


def load_services(
    path: Path, shown: str, today: dt.date, diagnostics: Diagnostics
) -> ServicesDirectory:
    """Read the directory; an entry that cannot be read whole is left out and reported."""
    root = read_yaml_file(path, shown, diagnostics)
    reader = SchemaReader(diagnostics)
    top = reader.mapping(root, "the services file")
    if top is None:
        return ServicesDirectory(())
    reader.fields(top, ("services", "emergency"), "the services file", required=("services",))
    listed = reader.sequence(top.get("services"), "`services`")
    services: list[Service] = []
    seen: set[str] = set()
    for item in listed or ():
        service = _service(item, reader, today)
        if service is None:
            continue
        if service.id in seen:
            reader.error(service.span, f"the service id `{service.id}` is used twice")
            continue
        seen.add(service.id)
        services.append(service)
    emergency: list[EmergencyNumbers] = []
    for item in reader.sequence(top.get("emergency"), "`emergency`") or ():
        for numbers in _emergency(item, reader, today):
            if any(e.country == numbers.country for e in emergency):
                reader.error(numbers.span, f"{numbers.country}'s emergency numbers are given twice")
                continue
            emergency.append(numbers)
    return ServicesDirectory(tuple(services), tuple(emergency))


def _emergency(node: YNode, reader: SchemaReader, today: dt.date) -> list[EmergencyNumbers]:
    mapping = reader.mapping(node, "a country's emergency numbers")
    if mapping is None:
        return []
    what = "a country's emergency numbers"
    reader.fields(mapping, EMERGENCY_FIELDS, what, required=EMERGENCY_FIELDS)
    countries = _codes(reader, mapping.get("countries"), "a country", _COUNTRY, None)
    numbers = tuple(n.text for n in reader.one_or_many(mapping.get("numbers"), "a number"))
    for number in reader.one_or_many(mapping.get("numbers"), "a number"):
        if not number.text.isdigit():
            reader.error(
                number.value_span, f"an emergency number is digits only, not `{number.text}`"
            )
    source = _source(reader, mapping)
    checked = _checked(reader, mapping, today, "emergency numbers were")
    if source is None or checked is None or not numbers:
        return []
    return [EmergencyNumbers(c, numbers, source, checked, mapping.span) for c in countries]


def _source(reader: SchemaReader, mapping: YMapping) -> str | None:
    source = reader.text(mapping.get("source"), "the source")
    if source is not None and not source.startswith(("https://", "http://")):
        reader.error(
            reader.field_span(mapping, "source"),
            "the source is the address of the public page it was seen on",
        )
    return source


def _checked(reader: SchemaReader, mapping: YMapping, today: dt.date, what: str) -> dt.date | None:
    checked = _date(reader, mapping.get("checked"))
    if checked is None:
        return None
    if (today - checked).days > STALE_AFTER_DAYS:
        reader.warning(
            reader.field_span(mapping, "checked"),
            f"{what} last checked on {checked.isoformat()}, over a year ago: check it again",
        )
    if checked > today:
        reader.error(reader.field_span(mapping, "checked"), "the date checked is in the future")
    return checked


def _service(node: YNode, reader: SchemaReader, today: dt.date) -> Service | None:
    mapping = reader.mapping(node, "a service")
    if mapping is None:
        return None
    reader.fields(
        mapping, SERVICE_FIELDS + OPTIONAL_SERVICE_FIELDS, "a service", required=SERVICE_FIELDS
    )
    service_id = reader.identifier(mapping.get("id"), "the service id", ID_PATTERN)
    name = reader.text(mapping.get("name"), "the name")
    countries = _codes(reader, mapping.get("countries"), "a country", _COUNTRY, INTERNATIONAL)
    languages = _codes(reader, mapping.get("languages"), "a language", LOCALE_PATTERN, None)
    topics = tuple(t.text for t in reader.one_or_many(mapping.get("topics"), "a topic"))
    for topic in reader.one_or_many(mapping.get("topics"), "a topic"):
        if topic.text not in TOPICS:
            reader.error(
                topic.value_span, f"`{topic.text}` is not a topic (topics: {', '.join(TOPICS)})"
            )
    if any(t in CRISIS_TOPICS for t in topics) and any(t in NOT_FOR_A_CRISIS for t in topics):
        reader.error(
            reader.field_span(mapping, "topics"),
            "a service about one's own sexual thoughts is never also a crisis line: "
            "give it either `own_behaviour` or `suicide`/`crisis`",
        )
    contacts = _contacts(reader, mapping.get("contacts"))
    source = _source(reader, mapping)
    checked = _checked(reader, mapping, today, f"`{service_id}` was")
    fallback_node = mapping.get("fallback")
    fallback = reader.boolean(fallback_node, "`fallback`") if fallback_node is not None else False
    if service_id is None or name is None or source is None or checked is None or not contacts:
        return None
    if fallback and INTERNATIONAL not in countries:
        reader.error(mapping.span, "only a service open to every country (INT) can be a fallback")
    return Service(
        service_id,
        name,
        countries,
        languages,
        topics,
        tuple(contacts),
        source,
        checked,
        mapping.span,
        bool(fallback),
    )


def _codes(
    reader: SchemaReader, node: YNode | None, what: str, pattern: re.Pattern[str], extra: str | None
) -> tuple[str, ...]:
    codes = []
    for item in reader.one_or_many(node, what):
        if item.text == extra or pattern.match(item.text):
            codes.append(item.text)
        else:
            reader.error(item.value_span, f"`{item.text}` is not {what} code")
    return tuple(codes)


def _contacts(reader: SchemaReader, node: YNode | None) -> list[Contact]:
    contacts: list[Contact] = []
    for item in reader.sequence(node, "`contacts`") or ():
        mapping = reader.mapping(item, "a contact")
        if mapping is None:
            continue
        reader.fields(mapping, CONTACT_KINDS, "a contact")
        for key, value in mapping:
            text = reader.text(value, f"the {key.text}")
            if key.text in CONTACT_KINDS and text is not None:
                contacts.append(Contact(key.text, text))
    return contacts


def _date(reader: SchemaReader, node: YNode | None) -> dt.date | None:
    found = reader.scalar(node, "the date checked")
    if found is None:
        return None
    try:
        return dt.date.fromisoformat(found.text)
    except ValueError:
        reader.error(found.value_span, f"write the date as YYYY-MM-DD, not `{found.text}`")
        return None
