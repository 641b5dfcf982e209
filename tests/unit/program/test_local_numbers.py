"""Where the person's country is known, no text says "call 112 or 911": each text that does
has a ``_here`` variant with the country's own numbers (``effects.with_local_numbers``), or is
said only where no country is known. The fifty-sixth retest met "call 112 or 911" right after
Australia's 000 (the help menu, the services' last line, the welcome said again)."""

from __future__ import annotations

from pathlib import Path

import yaml

LOCALES = Path(__file__).resolve().parents[3] / "locales"

SAID_WITHOUT_A_COUNTRY = {
    "safety.services.country_reask": "asks for the country",
    "safety.suicide.emergency": "the flow's branch where no country is known",
    "safety.suicide.emergency_taken": "the same, something taken",
    "safety.suicide.lines_intro_any": "the same, before the crisis lines",
    "services.emergency_elsewhere": "a country the directory does not list",
    "webchat.error": "an error, the conversation's country not read (the store away)",
}


def texts(locale: str) -> dict[str, str]:
    found: dict[str, str] = {}

    def walk(prefix: str, node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(f"{prefix}.{key}", value)
        elif isinstance(node, str):
            found[prefix] = node

    for path in LOCALES.glob(f"*.{locale}.yml"):
        walk(path.name.split(".")[0], yaml.safe_load(path.read_text())[locale])
    return found


def test_every_text_that_says_112_or_911_has_the_countrys_own_variant() -> None:
    english = texts("en")
    generic = {
        key
        for key, text in english.items()
        if "112 or 911" in text and not key.endswith("_here") and f"{key}_here" not in english
    }
    assert generic == set(SAID_WITHOUT_A_COUNTRY)
