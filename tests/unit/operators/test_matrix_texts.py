"""The Matrix operator room in the helpline's own language: tickets, changes, the help and
refusals read in Spanish or Finnish with every placeholder filled and no English left; a
locale that lacks one of the room's texts does not validate; and a `language` the program
does not have is refused where it is written, before anything starts."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from redirection_bot.authoring.testing import diagnose
from redirection_bot.errors import ConfigError, ConnectorError
from redirection_bot.handoff.channel import ChannelContext
from redirection_bot.handoff.desk import HandoffDesk, Outcome
from redirection_bot.handoff.wire import (
    ConversationShared,
    DeskEvent,
    PersonWrote,
    TicketChanged,
    TicketOpened,
)
from redirection_bot.language.i18n import Catalog
from redirection_bot.program.load import LoadedProgram, ProgramSources
from redirection_bot.store.memory import MemoryStore
from redirection_bot.store.relay import MemoryRelay
from redirection_bot.turn.actions import RasaActionRunner
from redirection_bot.turn.runtime import Runtime
from redirection_bot_connectors.operators.matrix import MatrixOperatorChannel
from redirection_bot_connectors.operators.matrix.commands import CLAIM_REACTIONS, Verb
from redirection_bot_connectors.operators.matrix.options import MatrixOperatorOptions
from redirection_bot_connectors.operators.matrix.posts import event_lines, post_content
from redirection_bot_connectors.operators.matrix.texts import (
    OperatorTexts,
    check_operator_texts,
    operator_text_keys,
)
from tests.conftest import REPOSITORY
from tests.fixtures.handoff import helpline
from tests.unit.handoff.test_config_handoff import MATRIX
from tests.unit.operations.test_config import write

TRANSLATED = ("es", "fi")
NAMES = {"@anna:helpline.example": "Anna", "@ben:helpline.example": "Ben"}
TICKET = TicketOpened(
    ticket="T-WRFXKFXI",
    service="helpline",
    locale="en",
    reason="child_at_risk",
    urgency="high",
    module="motivation",
    asked_in="safety_child_at_risk",
    risks=("child_at_risk", "identifying_info"),
    requested_at=1_800_000_000.0,  # 08:00 UTC
    fallback_given=True,
    position=3,
)
INVARIANT = ("T-WRFXKFXI", "motivation", "safety_child_at_risk", "UTC", "Anna", "helpline")
"""What rightly reads the same in every language: names, codes, flows, the time zone."""


SAME_WORDS = {"plan", "chat"}
"""Words Spanish rightly shares with English."""


def english_words(text: str, params: tuple[str, ...] = ()) -> set[str]:
    """The words of an English text that a translation should not keep (commands, names,
    the flows' names and what was filled in are the same in every language)."""
    text = re.sub(r"[!@][\w.:\[\]]+", " ", text)
    for name in (*params, *INVARIANT):
        text = text.replace(name, " ")
    return {word.casefold() for word in re.findall(r"[^\W\d_]{3,}", text)} - SAME_WORDS


def lines_in(loaded: LoadedProgram, language: str, event: DeskEvent) -> list[str]:
    return event_lines(event, NAMES, OperatorTexts(loaded.catalog, language))


def assert_no_english(english: str, translated: str, *params: str) -> None:
    left = english_words(english, params) & english_words(translated, params)
    assert not left, f"English left in {translated!r}: {sorted(left)}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_a_ticket_reads_in_the_rooms_language(shipped: LoadedProgram, language: str) -> None:
    english = "\n".join(lines_in(shipped, "en", TICKET))
    assert english.splitlines()[0] == (
        "New request T-WRFXKFXI · urgency: high · reason: child at risk"
    )
    translated = lines_in(shipped, language, TICKET)
    text = "\n".join(translated)
    assert len(translated) == 5
    for filled in ("T-WRFXKFXI", "motivation", "safety_child_at_risk", "08:00 UTC", ": 3."):
        assert filled in text
    assert "%{" not in text and "✋" in text and "!claim" in text
    assert_no_english(english, text)
    catalog = shipped.catalog
    assert catalog.render("operators.urgency.high", language) in translated[0]
    assert catalog.render("operators.reason.child_at_risk", language) in translated[0]
    assert catalog.render("operators.risk.identifying_info", language) in translated[2]
    assert catalog.render("operators.ticket.fallback_given", language) in translated[3]


@pytest.mark.parametrize("language", TRANSLATED)
@pytest.mark.parametrize(
    "change",
    [
        TicketChanged("T-WRFXKFXI", "claimed", "high", (), "@anna:helpline.example"),
        TicketChanged("T-WRFXKFXI", "risk", "high", ("suicide", "distress"), None),
        TicketChanged("T-WRFXKFXI", "escalated", "immediate", (), None),
        TicketChanged("T-WRFXKFXI", "fallback", "normal", (), None),
    ],
)
def test_a_change_reads_in_the_rooms_language(
    shipped: LoadedProgram, language: str, change: TicketChanged
) -> None:
    [english] = lines_in(shipped, "en", change)
    [translated] = lines_in(shipped, language, change)
    assert "%{" not in translated
    assert_no_english(english, translated)
    if change.change == "claimed":
        assert "Anna (@anna:helpline.example)" in translated
    for risk in change.risks:
        assert shipped.catalog.render(f"operators.risk.{risk}", language) in translated


def test_a_change_this_version_does_not_know_is_still_told(shipped: LoadedProgram) -> None:
    later = TicketChanged("T-WRFXKFXI", "snoozed", "low", (), None)
    assert lines_in(shipped, "es", later) == ["Cambio: snoozed."]


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_persons_words_and_the_conversation_so_far(
    shipped: LoadedProgram, language: str
) -> None:
    wrote = PersonWrote("T-WRFXKFXI", "<b>is this ok?</b> & more", ("suicide",))
    [line] = lines_in(shipped, language, wrote)
    assert "<b>is this ok?</b> & more" in line
    assert shipped.catalog.render("operators.risk.suicide", language) in line
    content = post_content([line], "$root")
    assert "&lt;b&gt;is this ok?&lt;/b&gt; &amp; more" in content["formatted_body"]
    assert "<b>" not in content["formatted_body"]

    shared = ConversationShared(
        "T-WRFXKFXI",
        (
            ("program", "Where would you like to start?"),
            ("person", "not sure"),
            ("risk", "suicide"),
        ),
    )
    english = lines_in(shipped, "en", shared)
    translated = lines_in(shipped, language, shared)
    assert translated[1].endswith(": Where would you like to start?")
    assert translated[2].endswith(": not sure")
    assert shipped.catalog.render("operators.risk.suicide", language) in translated[3]
    assert_no_english(
        "\n".join(english), "\n".join(translated), "Where would you like to start?", "not sure"
    )


@pytest.mark.parametrize("language", ["en", *TRANSLATED])
def test_the_help_names_every_command_in_every_language(
    shipped: LoadedProgram, language: str
) -> None:
    # With appointments offered, the help goes on with their commands.
    help_text = "\n".join(
        shipped.catalog.render(key, language)
        for key in ("operators.help", "operators.appointments.help")
    )
    for verb in Verb:
        if verb is not Verb.HELP:
            assert f"!{verb.value}" in help_text, (language, verb)
    assert "✋" in help_text and "✋" in CLAIM_REACTIONS
    if language != "en":
        english = "\n".join(
            shipped.catalog.render(key, "en")
            for key in ("operators.help", "operators.appointments.help")
        )
        assert_no_english(english, help_text)


@pytest.mark.parametrize("language", TRANSLATED)
def test_refusals_and_notices_read_in_the_rooms_language(
    shipped: LoadedProgram, language: str
) -> None:
    english, translated = (OperatorTexts(shipped.catalog, lang) for lang in ("en", language))
    for outcome in (Outcome.NOT_CLAIMED, Outcome.NOT_YOURS, Outcome.DUPLICATE, Outcome.UNKNOWN):
        assert_no_english(english.refusal(outcome), translated.refusal(outcome))
    pairs = [
        (text.say("on_duty", operator="Anna", number="2") for text in (english, translated)),
        (
            text.say("not_an_operator", user="@eve:elsewhere.example")
            for text in (english, translated)
        ),
        (text.say("no_such_place", target="copin") for text in (english, translated)),
        (text.say("queue", tickets="T-WRFXKFXI") for text in (english, translated)),
        (text.say("note_kept") for text in (english, translated)),
    ]
    for english_text, text in pairs:
        assert "%{" not in text
        assert_no_english(english_text, text, "copin")
    assert "Anna" in translated.say("on_duty", operator="Anna", number="2")
    assert "2" in translated.say("on_duty", operator="Anna", number="2")
    assert "'copin'" in translated.say("no_such_place", target="copin")


# --- a locale without the room's texts ----------------------------------------------------------


def shipped_copy(tmp_path: Path) -> ProgramSources:
    shutil.copytree(REPOSITORY / "dialogues", tmp_path / "dialogues")
    shutil.copytree(REPOSITORY / "locales", tmp_path / "locales")
    return ProgramSources(tmp_path / "dialogues", tmp_path / "locales")


def test_a_locale_missing_an_operator_room_text_does_not_validate(tmp_path: Path) -> None:
    sources = shipped_copy(tmp_path)
    spanish = sources.locales / "operators.es.yml"
    text = spanish.read_text(encoding="utf-8")
    spanish.write_text(re.sub(r"\n  note_kept: .*", "", text), encoding="utf-8")
    found = [d.format() for d in diagnose(sources, tmp_path).errors]
    english = (sources.locales / "operators.en.yml").read_text(encoding="utf-8").splitlines()
    line = english.index('  note_kept: "Note kept in this thread; not sent."') + 1
    assert found == [
        f"locales/operators.en.yml:{line}:15: error: the text `operators.note_kept` is missing "
        "in `es`"
    ]


def test_the_channel_refuses_to_start_without_its_texts(shipped: LoadedProgram) -> None:
    catalog = Catalog({"en": {}}, "en")
    with pytest.raises(ConnectorError) as raised:
        check_operator_texts(catalog, "en")
    assert "operators.ticket.opened" in str(raised.value)
    assert "add `operators` to interface_texts" in str(raised.value)
    check_operator_texts(shipped.catalog, "fi")
    assert all(shipped.catalog.has(key, "es") for key in operator_text_keys())


# --- the `language` option -------------------------------------------------------------------


def matrix_config(tmp_path: Path, language: str) -> Path:
    text = MATRIX.format(room="!operators:helpline.example", operator="@anna:h.example = Anna")
    return write(tmp_path, text + f"        language: {language}\n")


def config_problems(tmp_path: Path, language: str, locales: tuple[str, ...]) -> list[str]:
    from redirection_bot.operations.config import read_settings

    with pytest.raises(ConfigError) as raised:
        read_settings(matrix_config(tmp_path, language), {}, program_locales=locales)
    return str(raised.value).replace(str(tmp_path) + "/", "").splitlines()


def test_a_language_the_program_does_not_have_is_a_located_error(tmp_path: Path) -> None:
    assert config_problems(tmp_path, "xx", ("en", "es", "fi")) == [
        "config.yaml:5:7: error: handoff.services.helpline.options.language: the program has "
        "no language `xx`; it has en, es, fi"
    ]
    assert config_problems(tmp_path, "fr", ("en", "es", "fi"))[0].endswith(
        "the program has no language `fr`; it has en, es, fi"
    )
    assert config_problems(tmp_path, "Spanish", ()) == [
        "config.yaml:5:7: error: handoff.services.helpline.options.language: give a language "
        "code such as en, es or fi"
    ]


def test_a_language_the_program_has_is_read(tmp_path: Path) -> None:
    from redirection_bot.operations.config import read_settings

    settings = read_settings(matrix_config(tmp_path, "es"), {}, program_locales=("en", "es"))
    [service] = settings.handoff.services
    assert service.options.language == "es"


def channel(loaded: LoadedProgram, **options: Any) -> MatrixOperatorChannel:
    store = MemoryStore()
    desk = HandoffDesk(helpline(), store, MemoryRelay())
    runtime = Runtime(loaded, store, RasaActionRunner(loaded), desk=desk)
    base = {
        "homeserver": "https://matrix.helpline.example",
        "user_id": "@desk:helpline.example",
        "access_token": "syt_desk_token",
        "room": "!operators:helpline.example",
        "operators": ("@anna:helpline.example = Anna",),
        "encryption": False,
    }
    checked = MatrixOperatorOptions(**{**base, **options}).checked()
    return MatrixOperatorChannel(ChannelContext(desk.service("helpline", runtime), checked))


def test_the_room_is_in_the_programs_default_language_unless_told(shipped: LoadedProgram) -> None:
    assert channel(shipped).language == shipped.program.default_locale == "en"
    spanish = channel(shipped, language="es")
    assert spanish.texts.say("note_kept") == "Nota guardada en este hilo; no se envió."
    with pytest.raises(ConfigError) as raised:
        channel(shipped, language="pt")  # read without the program: checked at start
    assert str(raised.value) == (
        "handoff.services.helpline.options.language: the program has no language `pt`; "
        "it has en, es, fi"
    )
