"""The page's own words in a locale: ``locales/webchat.<locale>.yml`` and the command labels.

The program lists ``webchat`` in ``interface_texts``, so the validator has already made sure
every text exists in every locale before the server starts.
"""

from __future__ import annotations

from dataclasses import dataclass

from redirection_bot.api import CommandName, EngineKeys, Runtime

NAMESPACE = "webchat"
PAGE_KEYS = (
    "title",
    "intro",
    "privacy",
    "start",
    "languages",
    "skip_to_latest",
    "conversation",
    "bot",
    "you",
    "notice",
    "operator",
    "choices",
    "message",
    "send",
    "tools",
    "language",
    "download_plan",
    "erase",
    "erased",
    "erased_booking",
    "leave",
    "leave_keeps_words",
    "typing",
    "quick_exit_hint",
    "reconnecting",
    "rate_limited",
    "unreadable",
    "stale_form",
    "words_shown_once",
    "busy",
    "no_plan",
    "gone",
    "lost",
    "start_again",
    "waiting_refresh",
    "waiting_frame",
    "waiting_show",
    "error",
)
RIGHT_TO_LEFT = frozenset({"ar", "he", "fa", "ur", "ps", "yi", "dv", "ckb"})


@dataclass(frozen=True, slots=True)
class Language:
    locale: str
    name: str
    """The language's own name for itself ("Suomi", "Español")."""


class PageTexts:
    """Texts for pages and for the live page's labels, by locale (read from the runtime's
    current program, so that a reload brings new words)."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._cached_for: object = None
        self._cache: dict[str, dict[str, str]] = {}

    def locales(self) -> tuple[str, ...]:
        return self._runtime.loaded.program.locales

    def default_locale(self) -> str:
        return self._runtime.loaded.program.default_locale

    def known(self, locale: str | None) -> str:
        """``locale`` if the program has it, else the default."""
        return locale if locale in self.locales() else self.default_locale()

    def page(self, locale: str) -> dict[str, str]:
        """Every text a page shows, by short name (``send``, ``leave``, ``help``...)."""
        loaded = self._runtime.loaded
        catalog, program = loaded.catalog, loaded.program
        if self._cached_for is not catalog:
            self._cached_for, self._cache = catalog, {}
        cached = self._cache.get(locale)
        if cached is not None:
            return cached
        texts = {key: catalog.render(f"{NAMESPACE}.{key}", locale) for key in PAGE_KEYS}
        if program.title is not None:
            texts["title"] = catalog.render(program.title, locale)
        for command in program.commands:
            texts[f"command_{command.value}"] = catalog.render(command.label_key, locale)
        self._cache[locale] = texts
        return texts

    def text(self, key: str, locale: str) -> str:
        return self.page(locale)[key]

    def command_label(self, command: CommandName, locale: str) -> str:
        return self._runtime.loaded.catalog.render(command.label_key, locale)

    def enabled(self, command: CommandName) -> bool:
        return command in self._runtime.loaded.program.commands

    def languages(self) -> list[Language]:
        catalog = self._runtime.loaded.catalog
        return [
            Language(locale, catalog.render(EngineKeys.LANGUAGE_NAME, locale))
            for locale in self.locales()
        ]

    def from_accept_language(self, header: str | None) -> str:
        """The best program locale for an ``Accept-Language`` header (else the default)."""
        wanted: list[tuple[float, int, str]] = []
        for index, part in enumerate((header or "").split(",")):
            tag, _, params = part.strip().partition(";")
            quality = 1.0
            if params.strip().startswith("q="):
                try:
                    quality = float(params.strip()[2:])
                except ValueError:
                    continue
            if tag:
                wanted.append((-quality, index, tag.strip().lower()))
        locales = {locale.lower(): locale for locale in self.locales()}
        for _quality, _index, tag in sorted(wanted):
            for candidate in (tag, tag.split("-")[0]):
                if candidate in locales:
                    return locales[candidate]
        return self.default_locale()


def direction(locale: str) -> str:
    return "rtl" if locale.split("-", maxsplit=1)[0].lower() in RIGHT_TO_LEFT else "ltr"
