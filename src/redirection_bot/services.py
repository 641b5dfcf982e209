"""The services directory: real organisations a person can turn to, with where each was seen.

``dialogues/services.yaml`` lists each service with its countries, languages, topics and
contacts, the public page where those were published and the date they were last checked.
Names and contacts are the same in every language; each service's description is a text in
the locale files (``services.<id>.description``), so that translators write it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from redirection_bot.diagnostics import Diagnostics, Span
from redirection_bot.i18n import Catalog
from redirection_bot.yaml_schema import ID_PATTERN, LOCALE_PATTERN, SchemaReader
from redirection_bot.yaml_source import YNode, read_yaml_file

SERVICE_FIELDS = ("id", "name", "countries", "languages", "topics", "contacts", "source", "checked")
CONTACT_KINDS = ("phone", "text", "email", "web", "chat")
TOPICS = (
    "own_behaviour",
    "suicide",
    "crisis",
    "child_protection",
    "report_abuse_material",
    "youth",
)
INTERNATIONAL = "INT"
STALE_AFTER_DAYS = 365
_COUNTRY = re.compile(r"[A-Z]{2}\Z")


@dataclass(frozen=True, slots=True)
class Contact:
    kind: str
    value: str


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
        return " · ".join(contact.value for contact in self.contacts)


@dataclass(frozen=True, slots=True)
class ServicesDirectory:
    services: tuple[Service, ...]

    def find(
        self, language: str, country: str | None = None, topics: Sequence[str] = ()
    ) -> list[Service]:
        """Services for a person: in their country and language first, then open to every
        country in their language, then their country's services in other languages (each
        description says which language a service answers in), so that nobody in a country
        with services is left with nothing."""
        language_base = language.split("-", maxsplit=1)[0]

        def topical(service: Service) -> bool:
            return not topics or any(topic in service.topics for topic in topics)

        def speaks(service: Service) -> bool:
            return language_base in service.languages

        local = [s for s in self.services if country and country in s.countries and topical(s)]
        everywhere = [s for s in self.services if INTERNATIONAL in s.countries and topical(s)]
        ordered = [s for s in local if speaks(s)] + [s for s in everywhere if speaks(s)]
        ordered += [s for s in local if not speaks(s)]
        return list(dict.fromkeys(ordered))

    def register_texts(self, catalog: Catalog) -> None:
        """Names and contacts become texts that are the same in every locale."""
        for service in self.services:
            catalog.add_invariant(service.name_key, service.name, service.span)
            catalog.add_invariant(service.contact_key, service.contact_line(), service.span)

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
    reader.fields(top, ("services",), "the services file", required=("services",))
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
    return ServicesDirectory(tuple(services))


def _service(node: YNode, reader: SchemaReader, today: dt.date) -> Service | None:
    mapping = reader.mapping(node, "a service")
    if mapping is None:
        return None
    reader.fields(mapping, SERVICE_FIELDS, "a service", required=SERVICE_FIELDS)
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
    contacts = _contacts(reader, mapping.get("contacts"))
    source = reader.text(mapping.get("source"), "the source")
    if source is not None and not source.startswith(("https://", "http://")):
        reader.error(
            reader.field_span(mapping, "source"),
            "the source is the address of the public page it was seen on",
        )
    checked = _date(reader, mapping.get("checked"))
    if service_id is None or name is None or source is None or checked is None or not contacts:
        return None
    if (today - checked).days > STALE_AFTER_DAYS:
        reader.warning(
            reader.field_span(mapping, "checked"),
            f"`{service_id}` was last checked on {checked.isoformat()}, over a year ago: check it again",
        )
    if checked > today:
        reader.error(reader.field_span(mapping, "checked"), "the date checked is in the future")
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
