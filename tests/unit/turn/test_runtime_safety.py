"""Safety in the runtime: every message is screened before the dialogue sees it, a risk
pre-empts in every locale, and nothing flagged as identifying reaches storage or logs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from redirection_bot.authoring.testing import load, make_runtime, write_program
from redirection_bot.dialogue.model import RUNTIME_SLOTS
from redirection_bot.engine import ChoicePicked, Start, Text
from redirection_bot.operations.metrics import Metrics
from redirection_bot.program.load import LoadedProgram
from redirection_bot.store.memory import MemoryStore
from redirection_bot.turn.actions import RasaActionRunner
from redirection_bot.turn.runtime import Runtime, RuntimeSettings
from tests.unit.engine.test_preemption import FLOWS, LOCALES, MAIN, PROGRAM, RULES

FIRST_TEXT = {
    "suicide": "safety.suicide.acknowledge",
    "child_at_risk": "safety.child_at_risk.acknowledge",
    "illegal_request": "safety.illegal_request.refuse",
    "human": "handoff.no_team",  # no helpline is connected here: told so at once
    "distress": "safety.distress.acknowledge",
    "minor": "safety.minor.thanks",
    "identifying_info": "safety.identifying_info.note",
}
TYPED = {
    "en": {
        "suicide": "i just wanna die",
        "child_at_risk": "im meeting a 14 year old i met online tomorrow",
        "illegal_request": "where can i find cp",
        "human": "can i talk to a real person",
        "distress": "im freaking out right now",
        "minor": "im only 14",
        "identifying_info": "my email is sam@example.com",
    },
    "es": {
        "suicide": "me quiero matar",
        "child_at_risk": "estoy chateando con una niña de 13 años",
        "illegal_request": "donde consigo eso en tor",
        "human": "necesito hablar con alguien",
        "distress": "estoy desesperado",
        "minor": "tengo 15 años",
        "identifying_info": "me llamo Carlos Ramirez",
    },
    "fi": {
        "suicide": "haluan tappaa itseni",
        "child_at_risk": "pelkään että satutan lasta",
        "illegal_request": "mistä löydän lapsipornoa",
        "human": "tarvitsen jonkun jolle puhua",
        "distress": "olen epätoivoinen",
        "minor": "olen 15",
        "identifying_info": "nimeni on Matti Virtanen",
    },
}
SECRETS = ("Jane", "Doe", "jane.doe", "07700", "900123", "Baker", "janedoe77")
DETAILS = (
    "my name is Jane Doe, mail jane.doe@example.com or call 07700 900123, "
    "I live at 12 Baker Street, insta @janedoe77"
)


class RecordingStore(MemoryStore):
    """The in-memory store, keeping a copy of every byte written to it."""

    def __init__(self) -> None:
        super().__init__()
        self.written: list[bytes] = []

    async def save(
        self,
        key: str,
        data: bytes,
        expected_version: int | None,
        ttl_seconds: float,
        *,
        final: bool = False,
    ) -> int:
        self.written.append(data)
        return await super().save(key, data, expected_version, ttl_seconds, final=final)


@pytest.mark.parametrize("locale", ["en", "es", "fi"])
@pytest.mark.parametrize("category", list(FIRST_TEXT))
async def test_every_category_pre_empts_the_first_question_in_every_locale(
    shipped: LoadedProgram, locale: str, category: str
) -> None:
    runtime = make_runtime(shipped)
    first = await runtime.handle("s", Start(locale))
    reply = await runtime.handle("s", Text(TYPED[locale][category]))
    assert reply.messages[0].key == FIRST_TEXT[category]
    assert reply.locale == locale
    assert reply.state is not None and category in reply.state.risks
    assert first.state is not None
    comes_back_to = reply.state.stack[0] if reply.state.stack else reply.state.at
    assert comes_back_to == first.state.at


async def test_nothing_identifying_reaches_storage_or_logs_in_the_shipped_program(
    shipped: LoadedProgram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    store = RecordingStore()
    runtime = Runtime(shipped, store, RasaActionRunner(shipped))
    await runtime.handle("s", Start("en"))
    for choice in ("go_on", "go_on", "stop", "no_thanks"):
        await runtime.handle("s", ChoicePicked(choice))
    reply = await runtime.handle("s", Text(DETAILS))
    assert reply.messages[0].key == "safety.identifying_info.note"
    reply = await runtime.handle("s", Text("for my kids"))
    assert reply.state is not None and reply.state.slots["reasons"] == "for my kids"
    written = b"".join(store.written).decode()
    logged = caplog.text
    assert "category=" not in logged  # no line ties a risk to a conversation
    for secret in SECRETS:
        assert secret not in written
        assert secret not in logged


async def test_without_a_safety_flow_details_are_still_hidden_before_they_are_stored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    plain = PROGRAM.split("safety:\n")[0]
    loaded = load(write_program(tmp_path, plain, {"main": MAIN}, LOCALES), tmp_path)
    store = RecordingStore()
    runtime = Runtime(loaded, store, RasaActionRunner(loaded), RuntimeSettings())
    await runtime.handle("s", Start())
    await runtime.handle("s", ChoicePicked("good"))
    await runtime.handle("s", Text("7"))
    reply = await runtime.handle("s", Text("Jane Doe 07700 900123"))
    assert reply.state is not None and reply.state.slots["reasons"] == "Jane Doe […]"
    await runtime.handle("s", Text("my name is Jane, call 07700900123"))
    assert "07700" not in b"".join(store.written).decode()
    assert "07700" not in caplog.text


async def test_a_long_message_with_a_risk_pre_empts_instead_of_being_refused(
    shipped: LoadedProgram,
) -> None:
    runtime = make_runtime(shipped, RuntimeSettings(max_text_length=40))
    await runtime.handle("s", Start("en"))
    long_story = "I have been thinking about this for weeks and weeks, and i want to die."
    reply = await runtime.handle("s", Text(long_story))
    assert reply.messages[0].key == "safety.suicide.acknowledge"
    calm = await runtime.handle("s2", Text("x" * 41))
    assert calm.messages[0].key == "engine.too_long"


async def test_a_huge_message_is_screened_up_to_a_limit_and_never_stored(
    shipped: LoadedProgram,
) -> None:
    runtime = make_runtime(shipped, RuntimeSettings(max_text_length=2000))
    await runtime.handle("s", Start("en"))
    early = "i want to die. " + "words " * 10_000
    assert (await runtime.handle("s", Text(early))).messages[0].key == "safety.suicide.acknowledge"
    late = "words " * 10_000 + "i want to die."
    reply = await runtime.handle("s2", Text(late))
    assert reply.messages[0].key == "engine.too_long"
    assert reply.state is not None
    declared = shipped.program.slots
    assert {
        name: v
        for name, v in reply.state.slots.items()
        if name not in RUNTIME_SLOTS and v != declared[name].default
    } == {}


async def test_screening_is_counted_without_words(shipped: LoadedProgram) -> None:
    metrics = Metrics()
    runtime = Runtime(shipped, MemoryStore(), RasaActionRunner(shipped), metrics=metrics)
    await runtime.handle("s", Start("fi"))
    await runtime.handle("s", Text("olen 15 ja haluan kuolla"))
    exposition = metrics.exposition().decode()
    assert 'redirection_bot_safety_hits_total{category="suicide"} 1.0' in exposition
    assert 'redirection_bot_safety_hits_total{category="minor"} 1.0' in exposition
    assert "kuolla" not in exposition


async def test_a_program_with_safety_rules_screens_with_them(tmp_path: Path) -> None:
    loaded = load(write_program(tmp_path, PROGRAM, FLOWS, LOCALES, RULES), tmp_path)
    runtime = make_runtime(loaded)
    await runtime.handle("s", Start())
    reply = await runtime.handle("s", Text("a message about distress"))
    assert [m.key for m in reply.messages] == ["s.distress_hello", "s.distress_ask"]


UNSURE_REASON = "i'm not going to kill myself, i just want to stop for my kids"
"""A hedged mention: screening is unsure, so the check question comes before anything."""


async def _at_reasons(runtime: Runtime) -> None:
    await runtime.handle("p", Start())
    for choice in ("go_on", "go_on", "stop", "no_thanks"):
        await runtime.handle("p", ChoicePicked(choice))


async def test_an_unsure_answer_is_kept_only_after_the_person_says_no(
    shipped: LoadedProgram,
) -> None:
    runtime = make_runtime(shipped)
    await _at_reasons(runtime)
    checked = await runtime.handle("p", Text(UNSURE_REASON))
    assert [m.key for m in checked.messages] == ["safety.suicide.check"]
    plan = await runtime.plan_text("p")
    assert plan is None or "kill" not in plan
    said_no = await runtime.handle("p", ChoicePicked("no_thoughts"))
    assert [m.key for m in said_no.messages] == [
        "safety.suicide.check_no_reply",
        "motivation.reasons.thanks",  # "Thank you. You wrote: ..." : the answer, kept now
        "motivation.importance.question",
    ]
    assert UNSURE_REASON in (await runtime.plan_text("p") or "")


async def test_an_unsure_answer_is_never_kept_when_the_risk_is_real(
    shipped: LoadedProgram,
) -> None:
    runtime = make_runtime(shipped)
    await _at_reasons(runtime)
    await runtime.handle("p", Text(UNSURE_REASON))
    confirmed = await runtime.handle("p", ChoicePicked("yes_thoughts"))
    assert confirmed.messages[0].key == "safety.suicide.acknowledge"
    assert UNSURE_REASON not in (await runtime.plan_text("p") or "")


def _with_model(shipped: LoadedProgram, **by_word: tuple[int, float]) -> LoadedProgram:
    """The shipped program with a hand-made second layer (tests/unit/safety/test_model.py)."""
    from dataclasses import replace

    from redirection_bot.safety.screen import Screener
    from tests.unit.safety.test_model import model_of, weights

    rules = {locale: shipped.screener.rules(locale) for locale in shipped.screener.locales}
    screener = Screener(
        {k: v for k, v in rules.items() if v is not None}, model_of(weights(**by_word))
    )
    return replace(shipped, screener=screener)


async def test_a_request_is_read_with_what_the_person_said_before(shipped: LoadedProgram) -> None:
    from tests.unit.safety.test_model import REQUEST

    loaded = _with_model(shipped, pictures=(REQUEST, 1.5), share=(REQUEST, 1.2))
    runtime = make_runtime(loaded)
    await _at_reasons(runtime)
    answered = await runtime.handle("p", Text("those pictures i used to look at"))
    assert answered.messages[-1].key == "motivation.importance.question"  # alone: nothing
    asked = await runtime.handle("p", Text("share a few with me"))
    assert asked.messages[0].key == "safety.illegal_request.check"
    fresh = make_runtime(loaded)
    await _at_reasons(fresh)
    await fresh.handle("p", Text("for my family"))
    alone = await fresh.handle("p", Text("share a few with me"))
    assert alone.messages[0].key != "safety.illegal_request.check"


async def test_an_answer_the_program_offers_is_left_to_the_rules(shipped: LoadedProgram) -> None:
    from tests.unit.safety.test_model import SUICIDE

    runtime = make_runtime(_with_model(shipped, go=(SUICIDE, 3.5)))
    await runtime.handle("p", Start())
    offered = await runtime.handle("p", Text("Okay, go on"))  # the button's own words
    assert offered.messages[0].key == "welcome.anonymity"
    other = await runtime.handle("p", Text("go go go, i cannot go on"))
    assert other.messages[0].key == "safety.suicide.check"


@pytest.mark.parametrize(
    ("locale", "typed"),
    [
        ("en", "i'm not okay i want to die"),
        ("en", "im not ok i wanna die"),
        ("es", "no estoy bien quiero morir"),
        ("fi", "en ole kunnossa haluan kuolla"),
    ],
)
async def test_not_okay_before_a_wish_to_die_does_not_soften_it(
    shipped: LoadedProgram, locale: str, typed: str
) -> None:
    """An outside tester's finding: "not" in "not okay" made the wish that followed it
    uncertain, so the breathing exercise for distress came first and the question about
    suicide only after it. A state the negation is about ends its reach (the rules' breaks)."""
    runtime = make_runtime(shipped)
    await runtime.handle("s", Start(locale))
    reply = await runtime.handle("s", Text(typed))
    assert reply.messages[0].key == "safety.suicide.acknowledge"


@pytest.mark.parametrize(
    ("locale", "first", "then"),
    [("en", "i want to", "die"), ("es", "quiero", "morir"), ("fi", "haluan", "kuolla")],
)
async def test_a_wish_typed_over_two_messages_is_asked_about(
    shipped: LoadedProgram, locale: str, first: str, then: str
) -> None:
    """An outside tester's finding: "die" alone, after "i want to", was answered "Sorry, I
    didn't understand that". A message of that one word now starts the gentle question."""
    runtime = make_runtime(shipped)
    await runtime.handle("s", Start(locale))
    await runtime.handle("s", Text(first))
    reply = await runtime.handle("s", Text(then))
    assert reply.messages[0].key == "safety.suicide.check"
