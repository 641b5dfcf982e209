"""The crisis path through the runtime, as a person in danger meets it: with no support team
connected, with a team but nobody on duty, and with someone on duty. What the person reads,
in order: the emergency advice with the country question; then, before any number, whether
anyone can join; only crisis lines; a short plan about their own safety. And "are you a bot?"
answered honestly whatever became of a request for a person."""

from __future__ import annotations

import pytest

from redirection_bot.authoring.testing import make_runtime
from redirection_bot.engine import ChoicePicked, Start, Text
from redirection_bot.handoff.desk import Operator, Outcome
from redirection_bot.handoff.machine import HandoffChoice, HandoffKeys
from redirection_bot.handoff.wire import TicketChanged, TicketOpened
from redirection_bot.program.load import LoadedProgram
from redirection_bot.program.render import ShownHandoff, ShownMessage
from redirection_bot.turn.runtime import Reply, Runtime
from tests.fixtures.handoff import Helpline, connected

ANNA = Operator("@anna:helpline.example", "Anna")
SESSION = "web:crisis"
# locale: (a disclosure, the country chosen, a crisis line listed there)
CRISIS = {
    "en": ("i want to kill myself tonight", "us", "988"),
    "es": ("me quiero matar esta noche", "es", "024"),
    "fi": ("aion tappaa itseni tänään", "fi", "MIELI"),
}
ARE_YOU_A_BOT = {"en": "are you a bot?", "es": "eres un bot?", "fi": "oletko botti?"}
ASK_FOR_A_PERSON = {
    "en": "i want to talk to a real person",
    "es": "quiero hablar con una persona real",
    "fi": "haluan puhua oikean ihmisen kanssa",
}
PROMISES = ("will join", "se unirá", "liittyy")
"""A person promised (the handoff's own texts promise only where a request is open)."""
WHILE_THEY_ARE_FOUND = ("stay with me while", "mientras la buscamos", "kun häntä haetaan")
CHILDREN = ("child", "niño", "niña", "lapsi", "lapse")
NOBODY = (HandoffKeys.NO_TEAM, HandoffKeys.NOBODY_AVAILABLE)


def keys(reply: Reply) -> list[str]:
    return [item.key for item in reply.shown if isinstance(item, ShownMessage)]


def not_for_a_crisis(loaded: LoadedProgram) -> list[str]:
    """Names of the directory's services about one's own sexual thoughts or behaviour."""
    return [s.name for s in loaded.services.services if "own_behaviour" in s.topics] + [
        "troubled-desire"
    ]


async def in_danger_asked_the_country(runtime: Runtime, locale: str) -> Reply:
    """A disclosure, then "yes, I'm in danger now": the emergency advice and the country
    question."""
    disclosure, _country, _line = CRISIS[locale]
    await runtime.handle(SESSION, Start(locale=locale))
    asked = await runtime.handle(SESSION, Text(disclosure))
    assert keys(asked)[-1] == "safety.suicide.danger"
    return await runtime.handle(SESSION, ChoicePicked("in_danger"))


async def in_danger(runtime: Runtime, locale: str) -> tuple[Reply, Reply]:
    """A disclosure, "yes, I'm in danger now", then the country: the last two replies."""
    advice = await in_danger_asked_the_country(runtime, locale)
    return advice, await runtime.handle(SESSION, ChoicePicked(CRISIS[locale][1]))


def assert_advice_then_country(advice: Reply) -> None:
    """The emergency advice, then the country question in the same reply: nothing between
    them, no handoff yet, and only the question has choices."""
    assert keys(advice)[-2:] == ["safety.suicide.emergency", "safety.suicide.country"]
    assert not any(isinstance(item, ShownHandoff) for item in advice.shown)
    assert advice.messages[-1].choices and not any(m.choices for m in advice.messages[:-1])


def assert_nobody_first_then_crisis_lines(
    loaded: LoadedProgram, locale: str, reply: Reply, nobody: str
) -> None:
    said = keys(reply)
    texts = [m.text for m in reply.messages]
    # Whether anyone can join comes first, right after the request; nothing promised before.
    handoff_at = next(i for i, item in enumerate(reply.shown) if isinstance(item, ShownHandoff))
    assert not [m for m in reply.shown[:handoff_at] if isinstance(m, ShownMessage)]
    first = reply.shown[handoff_at + 1]
    assert isinstance(first, ShownMessage) and first.key == nobody
    assert said.index(nobody) < said.index("services.entry")
    assert not [t for t in texts if any(p in t.lower() for p in WHILE_THEY_ARE_FOUND)]
    # Only crisis lines, the local one among them.
    entries = [m.text for m in reply.messages if m.key == "services.entry"]
    assert any(CRISIS[locale][2] in text for text in entries)
    for name in not_for_a_crisis(loaded):
        assert not [t for t in texts if name.lower() in t.lower()], name
    # The plan is about the person's own safety.
    assert HandoffKeys.SAFETY_PLAN not in said
    plan = next(m for m in reply.messages if m.key.startswith("handoff.safety_plan_suicide"))
    assert not any(word in plan.text.lower() for word in CHILDREN)
    # The country is known by now: its own emergency number, never "112 or 911" (the
    # sixteenth retest: "112 or 911" two messages before "999 · 112").
    numbers = loaded.services.emergency_numbers(CRISIS[locale][1].upper())
    assert plan.key == "handoff.safety_plan_suicide_here"
    assert numbers is not None and numbers.numbers[0] in plan.text
    # The program's own question stays the last, with its choices; nothing before it has any.
    assert reply.messages[-1].key == "safety.common.offer"
    assert not any(m.choices for m in reply.messages[:-1])


@pytest.mark.parametrize("locale", ["en", "es", "fi"])
async def test_with_no_team_the_person_in_danger_is_told_so_first_then_given_crisis_lines(
    shipped: LoadedProgram, locale: str
) -> None:
    advice, reply = await in_danger(make_runtime(shipped), locale)
    assert_advice_then_country(advice)
    assert_nobody_first_then_crisis_lines(shipped, locale, reply, HandoffKeys.NO_TEAM)
    assert reply.handoff is None
    # Told nobody can join, the person is not offered one again (an outside tester's loop).
    assert "person" not in offered(reply)


@pytest.mark.parametrize("locale", ["en", "es", "fi"])
async def test_with_nobody_on_duty_the_person_in_danger_is_told_so_first_then_given_crisis_lines(
    shipped: LoadedProgram, locale: str
) -> None:
    """A helpline connected: the request goes out with the emergency advice, before the
    country (the nineteenth retest: a waiting request moved up only once a country was
    named); nobody on duty is said at once, with crisis help only; the country's own lines
    follow once it is named."""
    async with connected(shipped) as line:
        advice, reply = await in_danger(line.runtime, locale)
        said = keys(advice)
        assert said[0] == "safety.suicide.emergency" and said[-1] == "safety.suicide.country"
        handoff_at = next(i for i, x in enumerate(advice.shown) if isinstance(x, ShownHandoff))
        first = advice.shown[handoff_at + 1]
        assert isinstance(first, ShownMessage) and first.key == HandoffKeys.NOBODY_AVAILABLE
        texts = [m.text for m in advice.messages + reply.messages]
        for name in not_for_a_crisis(shipped):
            assert not [t for t in texts if name.lower() in t.lower()], name
        assert not [t for t in texts if any(p in t.lower() for p in WHILE_THEY_ARE_FOUND)]
        plan = next(m for m in advice.messages if m.key.startswith("handoff.safety_plan"))
        assert plan.key == "handoff.safety_plan_suicide"
        assert not any(word in plan.text.lower() for word in CHILDREN)
        assert advice.messages[-1].choices and not any(m.choices for m in advice.messages[:-1])
        # The country named: its own crisis lines, and the program's question last.
        entries = [m.text for m in reply.messages if m.key == "services.entry"]
        assert any(CRISIS[locale][2] in text for text in entries)
        assert reply.messages[-1].key == "safety.common.offer"
        # A team is connected: someone may come on duty, and the request stays open; asking
        # again is not offered meanwhile (the twenty-seventh retest: it looped).
        assert reply.handoff is not None and reply.handoff.active
        assert "person" not in offered(reply)
        (opened,) = await line.told(TicketOpened)
        assert isinstance(opened, TicketOpened)
        assert (opened.reason, opened.urgency) == ("suicide", "immediate")


async def test_with_someone_on_duty_the_person_in_danger_hears_so_and_still_gets_crisis_lines(
    shipped: LoadedProgram,
) -> None:
    async with connected(shipped) as line:
        await line.service.duty(ANNA.ref, True)
        advice, reply = await in_danger(line.runtime, "en")
        said = keys(advice)
        assert HandoffKeys.AVAILABLE_NOW in said and not set(NOBODY) & set(said)
        assert said.index("safety.suicide.emergency") < said.index(HandoffKeys.AVAILABLE_NOW)
        assert any("988" in m.text for m in reply.messages if m.key == "services.entry")
        assert reply.messages[-1].key == "safety.common.offer"


def assert_honest(reply: Reply) -> None:
    said = keys(reply)
    assert said[0] in ("safety.human.again", "safety.human.check", "safety.human.no_team"), said
    assert not [m.text for m in reply.messages if any(p in m.text.lower() for p in PROMISES)]
    assert not set(said) & {HandoffKeys.ALREADY_WAITING, HandoffKeys.STILL_WAITING}


def offered(reply: Reply) -> list[str]:
    """The ids of the choices the reply's last message offers."""
    return [choice.id for choice in reply.messages[-1].choices]


async def ask(runtime: Runtime, text: str) -> Reply:
    return await runtime.handle(SESSION, Text(text))


@pytest.mark.parametrize("locale", ["en", "es", "fi"])
async def test_are_you_a_bot_is_answered_honestly_where_no_team_is_connected(
    shipped: LoadedProgram, locale: str
) -> None:
    runtime = make_runtime(shipped)
    await runtime.handle(SESSION, Start(locale=locale))
    asked = await ask(runtime, ASK_FOR_A_PERSON[locale])
    assert HandoffKeys.NO_TEAM in keys(asked)
    answer = await ask(runtime, ARE_YOU_A_BOT[locale])
    assert_honest(answer)
    assert keys(answer)[0] == "safety.human.no_team"
    assert offered(answer) == ["services", "back"]


@pytest.mark.parametrize("locale", ["en", "es", "fi"])
async def test_are_you_a_bot_is_answered_honestly_in_every_state_of_a_request(
    shipped: LoadedProgram, locale: str
) -> None:
    async with connected(shipped) as line:
        runtime = line.runtime
        await runtime.handle(SESSION, Start(locale=locale))
        # Unanswered: nobody on duty, the request stays open.
        asked = await ask(runtime, ASK_FOR_A_PERSON[locale])
        assert HandoffKeys.NOBODY_AVAILABLE in keys(asked)
        assert_honest(await ask(runtime, ARE_YOU_A_BOT[locale]))
        # Kept waiting, then asked again from there.
        kept = await runtime.handle(SESSION, ChoicePicked(HandoffChoice.KEEP.choice_id))
        assert HandoffKeys.KEPT_WAITING in keys(kept)
        assert_honest(await ask(runtime, ARE_YOU_A_BOT[locale]))
        # Withdrawn by the person.
        await runtime.handle(SESSION, ChoicePicked(HandoffChoice.BACK.choice_id))
        assert_honest(await ask(runtime, ARE_YOU_A_BOT[locale]))


async def test_are_you_a_bot_is_answered_honestly_after_the_team_closed_the_request(
    shipped: LoadedProgram,
) -> None:
    async with connected(shipped) as line:
        runtime = line.runtime
        await line.service.duty(ANNA.ref, True)
        await runtime.handle(SESSION, Start(locale="en"))
        await ask(runtime, ASK_FOR_A_PERSON["en"])
        (opened,) = await line.told(TicketOpened)
        assert isinstance(opened, TicketOpened)
        assert await line.service.close(opened.ticket, ANNA) is Outcome.APPLIED
        assert_honest(await ask(runtime, ARE_YOU_A_BOT["en"]))


@pytest.mark.parametrize("locale", ["en", "es", "fi"])
async def test_somewhere_else_still_gets_emergency_numbers_and_crisis_lines_never_nothing(
    shipped: LoadedProgram, locale: str
) -> None:
    """The audience is worldwide (often in Tor Browser): no country is no reason for no help.
    The forty-second retest: the answer said the country was not listed nowhere, and told to
    call 112 or 911 twice (before the list and after it)."""
    runtime = make_runtime(shipped)
    await in_danger_asked_the_country(runtime, locale)
    reply = await runtime.handle(SESSION, ChoicePicked("other"))
    texts = " ".join(m.text for m in reply.messages)
    assert "112" in texts and "911" in texts
    listed = [m for m in reply.messages if m.key.startswith(("services.", "safety.services."))]
    assert len([m for m in listed if "112" in m.text]) == 1, keys(reply)
    assert "services.intro_unlisted" in keys(reply)
    assert [m for m in reply.messages if m.key == "services.entry"], keys(reply)
    for name in not_for_a_crisis(shipped):
        assert name.lower() not in texts.lower(), name


@pytest.mark.parametrize("locale", ["en", "es", "fi"])
async def test_asking_for_a_person_after_a_disclosure_gives_the_plan_about_ones_own_safety(
    shipped: LoadedProgram, locale: str
) -> None:
    """An outside tester's finding: after "i want to die" and "not right now", asking for a
    person (nobody could join) gave the general short plan, about urges and a child nearby."""
    runtime = make_runtime(shipped)
    disclosure, _country, _line = CRISIS[locale]
    await runtime.handle(SESSION, Start(locale=locale))
    await runtime.handle(SESSION, Text(disclosure))
    await runtime.handle(SESSION, ChoicePicked("not_now"))
    asked = await ask(runtime, ASK_FOR_A_PERSON[locale])
    said = keys(asked)
    assert HandoffKeys.NO_TEAM in said
    assert HandoffKeys.SAFETY_PLAN not in said
    plan = next(m.text for m in asked.messages if m.key == "handoff.safety_plan_suicide")
    assert not any(word in plan.lower() for word in CHILDREN)


@pytest.mark.parametrize("locale", ["en", "es", "fi"])
async def test_a_person_asked_for_at_the_danger_question_gets_crisis_lines_only(
    shipped: LoadedProgram, locale: str
) -> None:
    """An outside tester's finding: typed at the danger question (no button pressed), a
    request for a person listed every kind of service, a site about sexual interest in
    children first."""
    runtime = make_runtime(shipped)
    await runtime.handle(SESSION, Start(locale=locale))
    await runtime.handle(SESSION, Text(CRISIS[locale][0]))
    reply = await ask(runtime, ASK_FOR_A_PERSON[locale])
    said = keys(reply)
    assert HandoffKeys.NO_TEAM in said and "handoff.safety_plan_suicide" in said
    texts = " ".join(m.text for m in reply.messages).lower()
    assert "112" in texts
    for name in not_for_a_crisis(shipped):
        assert name.lower() not in texts, name


@pytest.mark.parametrize("locale", ["en", "es", "fi"])
async def test_saying_it_again_at_the_danger_question_brings_the_emergency_advice(
    shipped: LoadedProgram, locale: str
) -> None:
    """An outside tester's finding: "i already took pills" at the danger question was
    answered with the same question, again and again, and no number."""
    took = {
        "en": "i already took pills",
        "es": "ya me tome las pastillas",
        "fi": "otin jo pillereitä",
    }
    runtime = make_runtime(shipped)
    await runtime.handle(SESSION, Start(locale=locale))
    asked = await runtime.handle(SESSION, Text(CRISIS[locale][0]))
    assert keys(asked)[-1] == "safety.suicide.danger"
    reply = await ask(runtime, took[locale])
    assert keys(reply)[-2:] == ["safety.suicide.emergency_taken", "safety.suicide.country"]


@pytest.mark.parametrize("locale", ["en", "es", "fi"])
async def test_where_no_team_is_connected_a_second_request_is_answered_briefly_without_the_plan_again(
    shipped: LoadedProgram, locale: str
) -> None:
    runtime = make_runtime(shipped)
    await runtime.handle(SESSION, Start(locale=locale))
    first = keys(await ask(runtime, ASK_FOR_A_PERSON[locale]))
    assert HandoffKeys.NO_TEAM in first and HandoffKeys.SAFETY_PLAN in first
    await runtime.handle(SESSION, ChoicePicked("other"))  # the country, asked after the answer
    await runtime.handle(SESSION, ChoicePicked("back"))
    second = keys(await ask(runtime, ASK_FOR_A_PERSON[locale]))
    assert HandoffKeys.NO_TEAM_AGAIN in second and HandoffKeys.NO_TEAM not in second
    assert not any(key.startswith(HandoffKeys.SAFETY_PLAN) for key in second)
    assert "services.entry" in second  # the services still come


# locale: a child's disclosure, where screening hears a child at risk (never graphic)
A_CHILD_HURT = {
    "en": "my dad hurts me",
    "es": "mi padrastro me pega",
    "fi": "setä koskettelee mua",
}


@pytest.mark.parametrize("locale", ["en", "es", "fi"])
async def test_a_child_who_says_someone_hurts_them_is_answered_as_that_child_first(
    shipped: LoadedProgram, locale: str
) -> None:
    """An outside tester's finding: "my dad hurts me" was first told that a child could be
    harmed and to put distance between them and the child. The child hears that it is not
    their fault and the emergency number, and nothing written for a person who might harm."""
    runtime = make_runtime(shipped)
    await runtime.handle(SESSION, Start(locale=locale))
    said = keys(await runtime.handle(SESSION, Text(A_CHILD_HURT[locale])))
    assert said[:2] == ["safety.minor.hurt_1", "safety.minor.hurt_2"], said
    assert not [key for key in said if key.startswith("safety.child_at_risk.")], said


@pytest.mark.parametrize("locale", ["en", "es", "fi"])
async def test_help_during_a_suicidal_crisis_does_not_ask_the_country_again(
    shipped: LoadedProgram, locale: str
) -> None:
    """An outside tester's finding: "help", then "show me helplines", asked the country the
    crisis flow had just asked, before any crisis line."""
    runtime = make_runtime(shipped)
    disclosure, country, line = CRISIS[locale]
    await runtime.handle(SESSION, Start(locale=locale))
    await runtime.handle(SESSION, Text(disclosure))
    await runtime.handle(SESSION, ChoicePicked("not_now"))
    await runtime.handle(SESSION, ChoicePicked(country))
    await runtime.handle(SESSION, ChoicePicked("command:help"))
    reply = await runtime.handle(SESSION, ChoicePicked("crisis_lines"))
    said = keys(reply)
    assert "safety.services.country" not in said and "find_help.country" not in said, said
    assert line in " ".join(m.text for m in reply.messages)


@pytest.mark.parametrize("locale", ["en", "es", "fi"])
async def test_a_young_person_pressing_help_later_is_shown_services_for_young_people_only(
    shipped: LoadedProgram, locale: str
) -> None:
    """An outside tester's finding: a 13-year-old who said someone hurts them, then pressed
    help and "show me helplines", was shown services for adults worried about their own
    sexual thoughts, and Troubled Desire."""
    runtime = make_runtime(shipped)
    await runtime.handle(SESSION, Start(locale=locale))
    await runtime.handle(SESSION, Text(A_CHILD_HURT[locale]))
    await runtime.handle(SESSION, ChoicePicked("us"))
    await runtime.handle(SESSION, ChoicePicked("command:help"))
    reply = await runtime.handle(SESSION, ChoicePicked("youth_services"))
    texts = " ".join(m.text for m in reply.messages).lower()
    assert [m for m in reply.messages if m.key == "services.entry"], keys(reply)
    for name in not_for_a_crisis(shipped):
        assert name.lower() not in texts, name


@pytest.mark.parametrize("locale", ["en", "es", "fi"])
async def test_the_first_answer_to_a_suicidal_message_already_has_a_number_to_call(
    shipped: LoadedProgram, locale: str
) -> None:
    """An outside tester's finding: the first answer, and "not right now", had no digits; a
    number came only after a country was chosen."""
    runtime = make_runtime(shipped)
    disclosure, _country, _line = CRISIS[locale]
    await runtime.handle(SESSION, Start(locale=locale))
    first = await runtime.handle(SESSION, Text(disclosure))
    assert "112" in " ".join(m.text for m in first.messages), keys(first)


async def test_a_childs_disclosure_typed_as_a_reason_is_never_stored_after_the_young_persons_path(
    shipped: LoadedProgram,
) -> None:
    """Typed at "your reasons", "what if someone is hurting me" is held while it is checked;
    the check answered "someone is hurting me" (here by the message itself) is the young
    person's path, and carrying on afterwards asks for the reasons again: the words are
    never kept as the person's reasons (they were, when the path ended with a return)."""
    runtime = make_runtime(shipped)
    await runtime.handle(SESSION, Start(locale="en"))
    for pressed in ("go_on", "go_on", "stop", "no_thanks"):
        reply = await runtime.handle(SESSION, ChoicePicked(pressed))
    assert keys(reply)[-1] == "motivation.reasons.question"
    said = keys(await runtime.handle(SESSION, Text("what if someone is hurting me")))
    assert said[0] == "safety.minor.hurt_1", said
    await runtime.handle(SESSION, ChoicePicked("us"))
    back = keys(await runtime.handle(SESSION, ChoicePicked("carry_on")))
    assert back[-1] == "motivation.reasons.question" and "motivation.reasons.thanks" not in back


@pytest.mark.parametrize("locale", ["en", "es", "fi"])
async def test_a_young_persons_plan_lists_services_for_young_people_never_for_sexual_thoughts(
    shipped: LoadedProgram, locale: str
) -> None:
    """An outside tester's finding: the plan downloaded by a 12-year-old who said someone
    hurts them read "For help with my own sexual thoughts and behaviour, I can contact: Stop
    It Now... Troubled Desire", with no line for young people."""
    runtime = make_runtime(shipped)
    await runtime.handle(SESSION, Start(locale=locale))
    await runtime.handle(SESSION, Text(A_CHILD_HURT[locale]))
    await runtime.handle(SESSION, ChoicePicked("gb"))
    plan = await runtime.plan_text(SESSION)
    assert plan is not None
    heading = shipped.catalog.render("plan.youth", locale)
    assert heading in plan
    assert shipped.catalog.render("plan.own_behaviour", locale) not in plan
    for name in not_for_a_crisis(shipped):
        assert name.lower() not in plan.lower(), name


@pytest.mark.parametrize("locale", ["en", "es", "fi"])
async def test_back_after_are_you_a_bot_in_the_crisis_returns_to_the_country_question(
    shipped: LoadedProgram, locale: str
) -> None:
    """An outside tester's finding: "are you a bot?" at the crisis flow's country question,
    then "back" (offered as "Go back to where I was"), said there was nothing to go back to,
    and the country question was lost."""
    runtime = make_runtime(shipped)
    await in_danger_asked_the_country(runtime, locale)
    await runtime.handle(SESSION, Text(ARE_YOU_A_BOT[locale]))
    typed_back = {"en": "back", "es": "volver", "fi": "takaisin"}[locale]
    back = await runtime.handle(SESSION, Text(typed_back))
    assert keys(back)[-1] == "safety.suicide.country", keys(back)


YOUNG = {"en": ("im 14", "Childline"), "es": ("tengo 14", "ANAR"), "fi": ("oon 14", "MLL")}


@pytest.mark.parametrize("locale", ["en", "es", "fi"])
async def test_a_suicidal_young_person_gets_the_lines_for_young_people_too(
    shipped: LoadedProgram, locale: str
) -> None:
    """An outside tester's finding: a 14-year-old in a suicidal crisis got adult crisis lines
    only (MIELI, not MLL's line for young people)."""
    said_age, youth_line = YOUNG[locale]
    country = {"en": "gb", "es": "es", "fi": "fi"}[locale]
    runtime = make_runtime(shipped)
    await runtime.handle(SESSION, Start(locale=locale))
    await runtime.handle(SESSION, Text(said_age))
    await runtime.handle(SESSION, ChoicePicked("carry_on"))
    await runtime.handle(SESSION, Text(CRISIS[locale][0]))
    await runtime.handle(SESSION, ChoicePicked("not_now"))
    reply = await runtime.handle(SESSION, ChoicePicked(country))
    texts = " ".join(m.text for m in reply.messages)
    assert youth_line in texts, keys(reply)
    for name in not_for_a_crisis(shipped):
        assert name.lower() not in texts.lower(), name


DESPAIR = {
    "en": ("everyone would be better off without me", "i cant take it anymore"),
    "es": ("todos estarian mejor sin mi la verdad", "ya no aguanto mas"),
    "fi": ("kaikki ois parempi ilman mua", "en jaksa enää"),
}


@pytest.mark.parametrize("locale", ["en", "es", "fi"])
async def test_waiting_for_a_person_after_a_disclosure_the_request_is_urgent_and_despair_answered(
    shipped: LoadedProgram, locale: str
) -> None:
    """The eighteenth retest: after a suicide disclosure, "i want to talk to a real person"
    went out as a `normal` request, and "i cant take it anymore" typed while waiting for the
    person got "Sorry, I didn't understand that"."""
    disclosure, worse = DESPAIR[locale]
    async with connected(shipped) as line:
        await line.service.duty(ANNA.ref, True)
        runtime = line.runtime
        await runtime.handle(SESSION, Start(locale=locale))
        assert keys(await runtime.handle(SESSION, Text(disclosure)))[-1] == "safety.suicide.danger"
        await runtime.handle(SESSION, ChoicePicked("not_now"))
        await runtime.handle(SESSION, ChoicePicked(CRISIS[locale][1]))
        await runtime.handle(SESSION, Text(ASK_FOR_A_PERSON[locale]))
        (opened,) = await line.told(TicketOpened)
        assert isinstance(opened, TicketOpened)
        assert (opened.reason, opened.urgency) == ("asked", "high")
        answered = keys(await runtime.handle(SESSION, Text(worse)))
        assert answered[0].startswith("safety.suicide.") and "engine.not_understood" not in answered


async def written_while_waiting(line: Helpline, locale: str, words: str) -> tuple[str, Reply]:
    """Someone on duty; the person asks for a person, then writes ``words`` while waiting:
    their feed, and the answer to ``words``."""
    await line.service.duty(ANNA.ref, True)
    await line.runtime.handle(SESSION, Start(locale=locale))
    waiting = await line.runtime.handle(SESSION, Text(ASK_FOR_A_PERSON[locale]))
    assert waiting.handoff is not None and waiting.handoff.feed is not None
    return waiting.handoff.feed, await line.runtime.handle(SESSION, Text(words))


async def timed_fallback(line: Helpline, feed: str) -> list[ShownMessage]:
    """What the person is shown when nobody has claimed their request in time."""
    line.clock.advance(400)
    await line.desk.tick_once(line.runtime)
    (fallback,) = await line.pushes(feed, 1)
    return [m for m in fallback.shown if isinstance(m, ShownMessage)]


TONIGHT = {
    "en": "i cant keep doing this, i think tonight might be it",
    "es": "ya no puedo seguir asi, creo q esta noche es la ultima",
    "fi": "en mä pysty tähän enää, taitaa olla tänään se ilta",
}


@pytest.mark.parametrize("locale", ["en", "es", "fi"])
async def test_the_timed_fallback_over_a_suicide_question_keeps_to_it_and_moves_the_request_up(
    shipped: LoadedProgram, locale: str
) -> None:
    """The nineteenth retest: waiting for a person, "i cant keep doing this, i think tonight
    might be it" got the suicide check question; the timed fallback then replaced its buttons
    with "keep waiting", the general services (a self-help site for sexual interest in
    children among them) and the general plan, and the ticket stayed `normal`."""
    async with connected(shipped) as line:
        feed, asked = await written_while_waiting(line, locale, TONIGHT[locale])
        assert keys(asked)[-1] in ("safety.suicide.check", "safety.suicide.danger"), keys(asked)
        question = keys(asked)[-1]
        changes = [c for c in await line.told(TicketChanged) if isinstance(c, TicketChanged)]
        assert (changes[-1].change, changes[-1].urgency) == ("escalated", "high")
        said = await timed_fallback(line, feed)
        assert [m.key for m in said] == [
            HandoffKeys.FALLBACK_CRISIS,
            "handoff.safety_plan_suicide",
            question,
        ]
        assert said[-1].choices, "the question keeps its buttons"
        texts = " ".join(m.text for m in said).lower()
        assert not any(word in texts for word in CHILDREN)
        for name in not_for_a_crisis(shipped):
            assert name.lower() not in texts


KILL_MYSELF = {"en": "i want to kill myself", "es": "me quiero matar", "fi": "haluan tappaa itseni"}


@pytest.mark.parametrize("locale", ["en", "es", "fi"])
async def test_the_timed_fallback_in_the_suicide_flow_names_the_crisis_lines(
    shipped: LoadedProgram, locale: str
) -> None:
    """The twenty-third retest: waiting for a person in the suicide flow, the timed fallback's
    plan said "call the emergency number, or a crisis line" and named none (the crisis lines
    were shown turns before). Where the flow has chosen its services (crisis lines only), the
    fallback lists them again, with their numbers; never a service of another kind."""
    async with connected(shipped) as line:
        feed, asked = await written_while_waiting(line, locale, KILL_MYSELF[locale])
        question = keys(asked)[-1]
        assert question == "safety.suicide.danger", keys(asked)
        said = await timed_fallback(line, feed)
        said_keys = [m.key for m in said]
        assert said_keys[0] == HandoffKeys.FALLBACK_CRISIS and said_keys[-1] == question
        assert "services.entry" in said_keys, said_keys  # the crisis lines, with their numbers
        texts = " ".join(m.text for m in said).lower()
        for name in not_for_a_crisis(shipped):
            assert name.lower() not in texts


NO = {"en": "no", "es": "no", "fi": "ei"}


@pytest.mark.parametrize("locale", ["en", "es", "fi"])
async def test_are_you_a_bot_over_a_question_asked_while_waiting_never_offers_a_person_again(
    shipped: LoadedProgram, locale: str
) -> None:
    """The nineteenth retest: waiting for a person, at the suicide check question, "is this
    a real person" offered a person again ("Would you like that?"), and the yes/no that
    followed took nothing else, with no number."""
    async with connected(shipped) as line:
        runtime = line.runtime
        _feed, asked = await written_while_waiting(line, locale, TONIGHT[locale])
        question = keys(asked)[-1]
        answered = keys(await runtime.handle(SESSION, Text(ARE_YOU_A_BOT[locale])))
        assert answered[0] == "safety.human.again" and "safety.human.check" not in answered
        unclear = await runtime.handle(SESSION, Text("kenya"))
        assert keys(unclear) == ["safety.common.reask_number"]
        assert any(n in unclear.messages[0].text for n in ("112", "911"))
        assert keys(await runtime.handle(SESSION, Text(NO[locale])))[-1] == question


CANNOT_GET_AWAY = {
    "en": "im alone with my niece tonight and im scared of what i might do",
    "es": "estoy solo con mi sobrina esta noche y tengo miedo de lo que pueda hacer",
    "fi": "olen yksin siskontytön kanssa tänä yönä ja pelkään mitä voin tehdä",
}


@pytest.mark.parametrize("locale", ["en", "es", "fi"])
async def test_a_child_at_risk_reaches_the_person_on_duty_before_any_country_is_named(
    shipped: LoadedProgram, locale: str
) -> None:
    """The nineteenth retest: "i cant leave" at the country question, and the person on duty
    never heard of a child in danger (no ticket at all)."""
    async with connected(shipped) as line:
        await line.service.duty(ANNA.ref, True)
        runtime = line.runtime
        await runtime.handle(SESSION, Start(locale=locale))
        asked = keys(await runtime.handle(SESSION, Text(CANNOT_GET_AWAY[locale])))
        assert asked[-1] == "safety.child_at_risk.away_question", asked
        reply = await runtime.handle(SESSION, ChoicePicked("cannot"))
        (opened,) = await line.told(TicketOpened)
        assert isinstance(opened, TicketOpened)
        assert (opened.reason, opened.urgency) == ("child_at_risk", "immediate")
        assert keys(reply)[-1] == "safety.services.country"
        state = await runtime.state(SESSION)
        assert state is not None and "country" not in {k for k, v in state.slots.items() if v}


async def test_a_person_is_not_offered_again_while_the_request_is_open(
    shipped: LoadedProgram,
) -> None:
    """The twenty-seventh retest: with the request open, "Talk to a person now" stayed on the
    crisis menu; each press said "let me see whether a person can join" and "your request is
    already open". While it is open the menu does not offer it; once it is over, it does."""
    async with connected(shipped) as line:
        await line.service.duty(ANNA.ref, True)
        _advice, reply = await in_danger(line.runtime, "en")
        assert reply.messages[-1].key == "safety.common.offer"
        assert "person" not in offered(reply), offered(reply)
        again = await line.runtime.handle(SESSION, Text("what happens when i call?"))
        assert again.messages[-1].key == "safety.common.offer"
        assert "person" not in offered(again), offered(again)
        stopped = await line.runtime.handle(SESSION, ChoicePicked(HandoffChoice.BACK.choice_id))
        assert stopped.handoff is None or not stopped.handoff.active
        later = await line.runtime.handle(SESSION, Text("what happens when i call?"))
        assert later.messages[-1].key == "safety.common.offer"
        assert "person" in offered(later), offered(later)


async def test_nobody_available_a_second_time_is_said_briefly_without_the_plan_again(
    shipped: LoadedProgram,
) -> None:
    """The twenty-eighth retest: with nobody on duty, a second request in the conversation
    brought the whole block again (nobody available, the services, the short plan). The
    second time it is said briefly, with the services, and the plan is not repeated."""
    async with connected(shipped) as line:
        advice = await in_danger_asked_the_country(line.runtime, "en")
        assert HandoffKeys.NOBODY_AVAILABLE in keys(advice)
        stopped = await line.runtime.handle(SESSION, ChoicePicked(HandoffChoice.BACK.choice_id))
        assert stopped.handoff is None or not stopped.handoff.active
        again = keys(await ask(line.runtime, ASK_FOR_A_PERSON["en"]))
        assert HandoffKeys.NOBODY_AVAILABLE_AGAIN in again, again
        assert HandoffKeys.NOBODY_AVAILABLE not in again
        assert not [key for key in again if key.startswith("handoff.safety_plan")], again


async def test_a_service_for_a_crisis_and_for_young_people_is_listed_once_in_the_plan(
    shipped: LoadedProgram,
) -> None:
    """The fortieth retest: Mexico's Línea de la Vida (a crisis line and a service for young
    people) was listed twice in a young person's plan, once in each section."""
    runtime = make_runtime(shipped)
    await runtime.handle(SESSION, Start(locale="es"))
    await runtime.handle(SESSION, Text(A_CHILD_HURT["es"]))
    await runtime.handle(SESSION, ChoicePicked("mx"))
    plan = await runtime.plan_text(SESSION)
    assert plan is not None
    assert plan.count("Línea de la Vida") == 1, plan


YOUNG_AND_HURT = {
    "en": "im 15 and my dad hits me",
    "es": "tengo 15 y mi papá me pega",
    "fi": "oon 15 ja isä lyö mua",
}


@pytest.mark.parametrize("locale", ["en", "es", "fi"])
async def test_a_young_person_asking_for_a_person_no_one_can_be_gets_a_young_persons_plan(
    shipped: LoadedProgram, locale: str
) -> None:
    """The forty-fifth retest: a 16-year-old hurt at home, handed back with nobody free, got
    the adult plan ("if a child is near you and your thoughts worry you")."""
    runtime = make_runtime(shipped)
    await runtime.handle(SESSION, Start(locale=locale))
    await runtime.handle(SESSION, Text(YOUNG_AND_HURT[locale]))
    asked = await ask(runtime, ASK_FOR_A_PERSON[locale])
    said = keys(asked)
    assert HandoffKeys.NO_TEAM in said
    assert "handoff.safety_plan_minor" in said, said
    assert HandoffKeys.SAFETY_PLAN not in said


UNSURE_SAFE = {
    "en": "i dont feel safe with myself tonight",
    "es": "no me siento seguro conmigo mismo esta noche",
    "fi": "en tunne oloani turvalliseksi itseni kanssa tänä iltana",
}


@pytest.mark.parametrize("locale", ["en", "es", "fi"])
async def test_a_person_asked_for_at_the_suicide_check_is_urgent_and_the_question_asked_again(
    shipped: LoadedProgram, locale: str
) -> None:
    """The fifty-first retest: "no quiero botones, quiero que me hable alguien ya" typed at
    "are you having thoughts of ending your life?" went out as a `normal` request, and the
    question came back only behind "Go back to where I was"."""
    async with connected(shipped) as line:
        await line.service.duty(ANNA.ref, True)
        runtime = line.runtime
        await runtime.handle(SESSION, Start(locale=locale))
        assert keys(await runtime.handle(SESSION, Text(UNSURE_SAFE[locale])))[-1] == (
            "safety.suicide.check"
        )
        asked = await runtime.handle(SESSION, Text(ASK_FOR_A_PERSON[locale]))
        (opened,) = await line.told(TicketOpened)
        assert isinstance(opened, TicketOpened)
        assert opened.urgency == "high"
        assert keys(asked)[-1] == "safety.suicide.check"


@pytest.mark.parametrize("locale", ["en", "es", "fi"])
async def test_with_no_team_a_person_asked_for_at_the_suicide_check_gets_only_crisis_lines(
    shipped: LoadedProgram, locale: str
) -> None:
    """The same, where no team is connected: the services listed because nobody can join are
    crisis lines and the plan is about the person's own safety (the general list, with a
    service about one's sexual thoughts, and the plan about children nearby, before)."""
    runtime = make_runtime(shipped)
    await runtime.handle(SESSION, Start(locale=locale))
    await runtime.handle(SESSION, Text(UNSURE_SAFE[locale]))
    reply = await runtime.handle(SESSION, Text(ASK_FOR_A_PERSON[locale]))
    said = keys(reply)
    assert HandoffKeys.NO_TEAM in said and "handoff.safety_plan_suicide" in said
    assert said[-1] == "safety.suicide.check"
    texts = " ".join(m.text for m in reply.messages).lower()
    for name in not_for_a_crisis(shipped):
        assert name.lower() not in texts, name


STILL_THERE = {
    "en": "hello? where did they go",
    "es": "hola? a donde se fue",
    "fi": "haloo? minne se meni",
}


@pytest.mark.parametrize("locale", ["en", "es", "fi"])
async def test_asking_whether_anyone_is_there_while_waiting_for_a_person_is_answered(
    shipped: LoadedProgram, locale: str
) -> None:
    """The fifty-third retest: "haloo? minne se meni" while waiting for a person (after the
    operator handed the conversation back) got "didn't understand" and only "Go back"."""
    async with connected(shipped) as line:
        await line.service.duty(ANNA.ref, True)
        runtime = line.runtime
        await runtime.handle(SESSION, Start(locale=locale))
        await runtime.handle(SESSION, Text(ASK_FOR_A_PERSON[locale]))
        said = keys(await runtime.handle(SESSION, Text(STILL_THERE[locale])))
        assert "safety.human.again" in said and "engine.not_understood" not in said
