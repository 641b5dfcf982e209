"""Locale files and rendering: python-i18n behind one ``Catalog``.

Layout: ``locales/<namespace>.<locale>.yml`` with the locale as the root key, which is
python-i18n's own layout (a file ``welcome.en.yml`` holding ``en: {hello: ...}`` gives the
key ``welcome.hello``). We read the files ourselves, eagerly and with positions, so that a
missing key or a placeholder problem is reported at ``file:line:column`` before the bot
starts; python-i18n then holds the texts and renders them.

python-i18n keeps its settings and texts in module globals. We never switch its global
locale (every call passes ``locale=``), we check that a key exists before asking for it
(so its silent fallback never runs), and each catalog stores its texts under a prefix of
its own so that two catalogs in one process (a reload, the studio, tests) never mix.
"""

from __future__ import annotations

import enum
import itertools
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import i18n as python_i18n
from i18n import translations as i18n_translations

from redirection_bot.diagnostics import Diagnostics, Span
from redirection_bot.errors import RedirectionBotError
from redirection_bot.language.yaml_schema import LOCALE_PATTERN, SchemaReader
from redirection_bot.language.yaml_source import (
    YMapping,
    YNode,
    YScalar,
    read_yaml_file,
    report_unreadable_entries,
)

python_i18n.set("error_on_missing_translation", True)
python_i18n.set("error_on_missing_placeholder", True)
python_i18n.set("enable_memoization", False)

_FILE_NAME = re.compile(r"(?P<namespace>[a-z0-9_]+)\.(?P<locale>[A-Za-z0-9-]+)\.ya?ml\Z")
_catalog_ids = itertools.count(1)


class MissingTranslation(RedirectionBotError):
    """A text was asked for in a locale that lacks it, and the policy forbids falling back."""


class FallbackPolicy(enum.StrEnum):
    """What to do when a text is missing in a locale."""

    NEVER = "never"
    """Missing texts are errors: the program does not start (the default)."""
    DEFAULT_LOCALE = "default_locale"
    """Show the default locale's text instead; validation warns about each missing text."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One text in one locale, where it was written."""

    key: str
    locale: str
    text: str
    span: Span


class _Placeholders(string.Template):
    delimiter = "%"


PLACEHOLDER_PATTERN = _Placeholders.pattern
"""Matches ``%{name}`` (group ``braced``), ``%%`` and the mistakes; for those who split a text."""


def placeholders(text: str) -> tuple[frozenset[str], list[tuple[int, str]]]:
    """The ``%{name}`` placeholders of a text, and problems as (offset, message)."""
    names: set[str] = set()
    problems: list[tuple[int, str]] = []
    for match in _Placeholders.pattern.finditer(text):
        if match.group("braced"):
            names.add(match.group("braced"))
        elif match.group("named"):
            problems.append(
                (
                    match.start(),
                    f"write `%{{{match.group('named')}}}` for a slot, or `%%` for a percent sign",
                )
            )
        elif match.group("invalid") is not None:
            problems.append((match.start(), "a percent sign must be written `%%`"))
    return frozenset(names), problems


_BARE_BRACES = re.compile(r"(?<!%)\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)\}")


def bare_placeholders(text: str) -> list[tuple[int, str]]:
    """``{name}`` without its ``%``, which the person would see as it is written: (offset,
    message) for each."""
    return [
        (
            match.start(),
            f"`{match.group()}` is shown as it is written: write `%{{{match.group('name')}}}` for a slot",
        )
        for match in _BARE_BRACES.finditer(text)
    ]


def filled(text: str, values: Mapping[str, str]) -> str | None:
    """``text`` with its ``%{name}`` placeholders filled from ``values``, as ``placeholders``
    reads them (None when a value is missing or the text is malformed)."""
    try:
        return _Placeholders(text).substitute(values)
    except (KeyError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class TextLink:
    """A part of a text that opens ``href`` where a channel can show links: a phone number
    in a service's contacts becomes ``tel:...``, tap-to-call."""

    text: str
    href: str


class Catalog:
    """Every text of every locale, rendered through python-i18n with a per-call locale."""

    def __init__(
        self,
        entries: Mapping[str, Mapping[str, Entry]],
        default_locale: str,
        fallback: FallbackPolicy = FallbackPolicy.NEVER,
    ) -> None:
        self._entries = {locale: dict(keys) for locale, keys in entries.items()}
        self.default_locale = default_locale
        self.fallback = fallback
        self._prefix = f"rb{next(_catalog_ids)}"
        self._plain: dict[tuple[str, str], str] = {}
        self._invariant: dict[str, Entry] = {}
        self._links: dict[str, tuple[TextLink, ...]] = {}
        self._register()

    def _register(self) -> None:
        """Give python-i18n (one store for the whole process) this catalog's texts."""
        for locale, keys in self._entries.items():
            for key, entry in keys.items():
                i18n_translations.add(f"{self._prefix}.{key}", entry.text, locale=locale)
            for key, entry in self._invariant.items():
                i18n_translations.add(f"{self._prefix}.{key}", entry.text, locale=locale)

    def __getstate__(self) -> dict[str, object]:
        return {**self.__dict__, "_plain": {}}

    def __setstate__(self, state: dict[str, object]) -> None:
        """A catalog read back (``program/kept.py``): its texts go to python-i18n again, under a
        prefix of this process."""
        self.__dict__.update(state)
        self._prefix = f"rb{next(_catalog_ids)}"
        self._register()

    def close(self) -> None:
        """Remove this catalog's texts from python-i18n (for reloads)."""
        for locale in list(i18n_translations.container):
            keys = i18n_translations.container[locale]
            for key in [k for k in keys if k.startswith(self._prefix + ".")]:
                del keys[key]

    def add_invariant(self, key: str, text: str, span: Span) -> None:
        """A text that is the same in every locale (a name, a phone number from the services directory)."""
        self._invariant[key] = Entry(key, "*", text, span)
        for locale in self.locales_present():
            i18n_translations.add(f"{self._prefix}.{key}", text, locale=locale)

    def add_links(self, key: str, links: tuple[TextLink, ...]) -> None:
        """Parts of the text ``key`` (in every locale) that are links: phone numbers."""
        if links:
            self._links[key] = links

    def links(self, key: str) -> tuple[TextLink, ...]:
        return self._links.get(key, ())

    # --- questions -----------------------------------------------------------------------------

    def locales_present(self) -> list[str]:
        return sorted(self._entries)

    def keys(self, locale: str) -> set[str]:
        return set(self._entries.get(locale, {})) | set(self._invariant)

    def entry(self, key: str, locale: str) -> Entry | None:
        found = self._entries.get(locale, {}).get(key)
        return found if found is not None else self._invariant.get(key)

    def entries(self, locale: str) -> Iterable[Entry]:
        return self._entries.get(locale, {}).values()

    def has(self, key: str, locale: str) -> bool:
        return self.entry(key, locale) is not None

    def resolve_locale(self, key: str, locale: str) -> str:
        """The locale whose text will be shown for ``key``, by the fallback policy."""
        if self.has(key, locale):
            return locale
        if self.fallback is FallbackPolicy.DEFAULT_LOCALE and self.has(key, self.default_locale):
            return self.default_locale
        raise MissingTranslation(f"the text `{key}` is missing in the locale `{locale}`")

    def can_show(self, key: str, locale: str) -> bool:
        """Whether ``key`` can be shown in ``locale``, by the fallback policy."""
        if self.has(key, locale):
            return True
        return self.fallback is FallbackPolicy.DEFAULT_LOCALE and self.has(key, self.default_locale)

    def text(self, key: str, locale: str) -> str:
        """The raw text (placeholders not filled)."""
        found = self.entry(key, self.resolve_locale(key, locale))
        assert found is not None
        return found.text

    def render(self, key: str, locale: str, params: Mapping[str, str] | None = None) -> str:
        """The text for ``key`` in ``locale`` with its placeholders filled from ``params``."""
        if not params:
            # A text without parameters renders the same every time: labels, most messages.
            cached = self._plain.get((key, locale))
            if cached is not None:
                return cached
        shown_locale = self.resolve_locale(key, locale)
        rendered = str(
            python_i18n.t(f"{self._prefix}.{key}", locale=shown_locale, **(params or {}))
        )
        if not params:
            self._plain[(key, locale)] = rendered
        return rendered


@dataclass(frozen=True, slots=True)
class LocaleFile:
    """A file of texts: ``<folders>/<namespace>.<locale>.yml`` (``namespace`` None: misnamed)."""

    path: Path
    namespace: str | None
    locale: str | None


def locale_files(directory: Path) -> list[LocaleFile]:
    """The YAML files under ``directory``, sorted. Hidden folders and files (a name starting
    with ``.``) are not texts: they hold tools' data, such as translation records."""
    found = []
    for path in sorted(directory.rglob("*")):
        if path.suffix not in (".yml", ".yaml") or not path.is_file():
            continue
        parts = path.relative_to(directory).parts
        if any(part.startswith(".") for part in parts):
            continue
        match = _FILE_NAME.match(path.name)
        if match is None or not LOCALE_PATTERN.match(match.group("locale")):
            found.append(LocaleFile(path, None, None))
            continue
        namespace = ".".join((*parts[:-1], match.group("namespace")))
        found.append(LocaleFile(path, namespace, match.group("locale")))
    return found


def load_locale_files(
    directory: Path, diagnostics: Diagnostics, display_root: Path | None = None
) -> dict[str, dict[str, Entry]]:
    """Read every locale file under ``directory``: locale -> key -> entry; problems become diagnostics."""
    entries: dict[str, dict[str, Entry]] = {}
    reader = SchemaReader(diagnostics)
    if not directory.is_dir():
        diagnostics.error(Span(str(directory), 1, 1), "the locales folder does not exist")
        return entries
    report_unreadable_entries(directory, diagnostics, lambda path: display_path(path, display_root))
    for file in locale_files(directory):
        shown = display_path(file.path, display_root)
        if file.namespace is None or file.locale is None:
            diagnostics.error(
                Span(shown, 1, 1),
                "a locale file is named `<namespace>.<locale>.yml`, for example `welcome.en.yml`",
            )
            continue
        _read_locale_file(file.path, shown, file.namespace, file.locale, reader, entries)
    return entries


def _read_locale_file(
    path: Path,
    shown: str,
    namespace: str,
    locale: str,
    reader: SchemaReader,
    entries: dict[str, dict[str, Entry]],
) -> None:
    root = read_yaml_file(path, shown, reader.diagnostics)
    if root is None:
        return
    top = reader.mapping(root, "a locale file")
    if top is None:
        return
    if top.keys() != [locale]:
        reader.error(
            top.span, f"this file holds the `{locale}` texts: it must start with `{locale}:`"
        )
        return
    body = reader.mapping(top.get(locale), f"the `{locale}` texts")
    if body is None:
        return
    into = entries.setdefault(locale, {})
    for key, scalar in _flatten(namespace, body, reader):
        earlier = into.get(key)
        if earlier is not None:
            reader.error(
                scalar.span, f"the text `{key}` is already written at {earlier.span.format()}"
            )
            continue
        into[key] = Entry(key, locale, scalar.text, scalar.value_span)
        reader.note_yaml11_surprise(scalar, "the text")


def _flatten(prefix: str, mapping: YMapping, reader: SchemaReader) -> Iterable[tuple[str, YScalar]]:
    for key, value in mapping:
        if not re.fullmatch(r"[a-z0-9_]+", key.text):
            reader.error(
                key.span, f"`{key.text}` should use only lower-case letters, digits and `_`"
            )
            continue
        if not key.quoted and key.kind == "bool":
            reader.warning(
                key.span,
                f"the key `{key.text}` is kept as a name here, but most YAML and translation "
                f'tools read it as a yes/no value; write it in quotes: "{key.text}"',
            )
        full = f"{prefix}.{key.text}"
        if isinstance(value, YMapping):
            yield from _flatten(full, value, reader)
            continue
        scalar = _text_scalar(value, full, reader)
        if scalar is not None:
            yield full, scalar


def _text_scalar(value: YNode, key: str, reader: SchemaReader) -> YScalar | None:
    if not isinstance(value, YScalar):
        reader.error(value.span, f"the text `{key}` should be text, not a list")
        return None
    if (value.kind == "null" and not value.quoted) or value.text.strip() == "":
        reader.error(value.span, f"the text `{key}` is empty")
        return None
    return value


def display_path(path: Path, root: Path | None = None) -> str:
    """A path as an author should see it in a message: relative to the project where possible."""
    base = root if root is not None else Path.cwd()
    # A link is named as itself (the author's name for it), not as where it leads.
    resolved = path.parent.resolve() / path.name if path.is_symlink() else path.resolve()
    try:
        return str(resolved.relative_to(base.resolve()))
    except ValueError:
        return str(path)
