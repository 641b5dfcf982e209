"""The runtime with a helpline connected: honest messages, a wait never silent, a fallback on
time, the bot silent while an operator has the conversation, and the way back."""

from __future__ import annotations

import logging

import pytest

from redirection_bot.authoring.testing import make_runtime
from redirection_bot.dialogue.model import CommandName
from redirection_bot.engine import ChoicePicked, CommandGiven, Start, Text, Waiting
from redirection_bot.handoff.desk import Operator, Outcome
from redirection_bot.handoff.machine import HandoffChoice, HandoffKeys
from redirection_bot.handoff.wire import (
    ConversationShared,
    PersonWrote,
    TicketChanged,
    TicketOpened,
)
from redirection_bot.operations.config import ServiceSettings
from redirection_bot.operations.hours import parse_hours
from redirection_bot.operations.metrics import Metrics
from redirection_bot.program.load import LoadedProgram
from redirection_bot.program.render import ShownHandoff, ShownMessage, ShownOperator
from redirection_bot.turn.runtime import Reply, RuntimeSettings
from tests.fixtures.handoff import Helpline, connected, helpline
from tests.helpers import async_wait_until

ANNA = Operator("@anna:helpline.example", "Anna")
BEN = Operator("@ben:helpline.example", "Ben")


def keys(reply: Reply) -> list[str]:
    return [item.key for item in reply.shown if isinstance(item, ShownMessage)]


async def ask_for_a_person(line: Helpline, session: str = "web:s1") -> Reply:
    """Start, answer a question (so there is a conversation to share), ask for a person."""
    runtime = line.runtime
    await runtime.handle(session, Start())
    await runtime.handle(session, ChoicePicked("go_on"))
    await runtime.handle(session, CommandGiven(CommandName.HELP))
    return await runtime.handle(session, ChoicePicked("person"))


async def claimed(line: Helpline, session: str = "web:s1") -> tuple[str, str]:
    """Ask, and let Anna claim: (ticket, feed)."""
    await line.service.duty(ANNA.ref, True)
    reply = await ask_for_a_person(line, session)
    assert reply.handoff is not None and reply.handoff.feed is not None
    (opened,) = await line.told(TicketOpened)
    assert isinstance(opened, TicketOpened)
    assert await line.service.claim(opened.ticket, ANNA) is Outcome.APPLIED
    return opened.ticket, reply.handoff.feed


async def test_someone_on_duty_is_said_honestly_and_the_operators_get_a_ticket(
    shipped: LoadedProgram,
) -> None:
    async with connected(shipped) as line:
        await line.service.duty(ANNA.ref, True)
        reply = await ask_for_a_person(line)
        shown = list(reply.shown)
        handoff_at = next(i for i, item in enumerate(shown) if isinstance(item, ShownHandoff))
        after = shown[handoff_at + 1]
        assert isinstance(after, ShownMessage) and after.key == HandoffKeys.AVAILABLE_NOW
        # The program goes on where the person was: its question stays the last, with choices.
        last = shown[-1]
        assert isinstance(last, ShownMessage) and last.choices
        assert reply.handoff is not None and reply.handoff.active
        (opened,) = await line.told(TicketOpened)
        assert isinstance(opened, TicketOpened)
        assert (opened.locale, opened.reason, opened.urgency) == ("en", "asked", "normal")
        assert opened.module == "welcome" and opened.asked_in == "support"
        assert opened.ticket.startswith("T-") and opened.position == 1
        assert "s1" not in repr(opened) and "web:" not in repr(opened)


async def test_nobody_on_duty_gives_the_services_and_a_safety_plan_at_once(
    shipped: LoadedProgram,
) -> None:
    async with connected(shipped) as line:
        reply = await ask_for_a_person(line)
        said = keys(reply)
        at = said.index(HandoffKeys.NOBODY_AVAILABLE)
        # The emergency number first (no country chosen: 112, 911 or the local one).
        assert said[at + 1 : at + 3] == ["services.emergency_elsewhere", "services.intro"]
        assert HandoffKeys.SAFETY_PLAN in said and HandoffKeys.KEEP_OR_GO in said
        keep_or_go = next(m for m in reply.messages if m.key == HandoffKeys.KEEP_OR_GO)
        assert keep_or_go.choices == ()  # the program's own question keeps the choices
        await line.told(TicketOpened)


async def test_the_wait_is_never_silent_and_the_fallback_comes_on_time(
    shipped: LoadedProgram,
) -> None:
    async with connected(shipped) as line:
        await line.service.duty(ANNA.ref, True)
        reply = await ask_for_a_person(line)
        assert reply.handoff is not None and reply.handoff.feed is not None
        line.clock.advance(60)
        await line.desk.tick_once(line.runtime)
        line.clock.advance(61)
        await line.desk.tick_once(line.runtime)
        line.clock.advance(180)
        await line.desk.tick_once(line.runtime)
        notice, fallback = await line.pushes(reply.handoff.feed, 2)
        assert [m.key for m in notice.shown if isinstance(m, ShownMessage)] == [
            HandoffKeys.QUEUE_POSITION
        ]
        fallback_keys = [m.key for m in fallback.shown if isinstance(m, ShownMessage)]
        assert fallback_keys[0] == HandoffKeys.FALLBACK
        assert "services.intro" in fallback_keys and HandoffKeys.SAFETY_PLAN in fallback_keys
        last = fallback.shown[-1]
        assert isinstance(last, ShownMessage) and [c.id for c in last.choices] == [
            HandoffChoice.KEEP.choice_id,
            HandoffChoice.BACK.choice_id,
        ]
        changes = await line.told(TicketChanged)
        assert [c.change for c in changes if isinstance(c, TicketChanged)] == ["fallback"]


async def test_a_whole_handoff_the_bot_silent_while_the_operator_has_it(
    shipped: LoadedProgram,
) -> None:
    async with connected(shipped) as line:
        runtime = line.runtime
        ticket, feed = await claimed(line)
        (joined,) = await line.pushes(feed, 1)
        joined_keys = [m.key for m in joined.shown if isinstance(m, ShownMessage)]
        assert joined_keys == [HandoffKeys.OPERATOR_JOINED, HandoffKeys.ASK_TO_SHARE]
        first = joined.shown[0]
        assert isinstance(first, ShownMessage) and "Anna" in first.text
        before = await runtime.state("web:s1")

        share = await runtime.handle("web:s1", ChoicePicked(HandoffChoice.SHARE.choice_id))
        assert keys(share) == [HandoffKeys.SHARED]
        (conversation,) = await line.told(ConversationShared)
        assert isinstance(conversation, ConversationShared)
        whos = [who for who, _text in conversation.lines]
        assert "program" in whos and "person" in whos

        said = await runtime.handle("web:s1", Text("I'm scared, write to me at sam@example.org"))
        assert said.shown == ()  # the bot says nothing: the words went to Anna only
        (wrote,) = await line.told(PersonWrote)
        assert isinstance(wrote, PersonWrote) and "sam@example.org" not in wrote.text
        assert wrote.risks == ("identifying_info",)
        command = await runtime.handle("web:s1", CommandGiven(CommandName.REPEAT))
        assert keys(command) == [HandoffKeys.WITH_OPERATOR]
        after = await runtime.state("web:s1")
        assert before is not None and after is not None and after.at == before.at

        assert await line.service.write(ticket, ANNA, "Hello, I'm here with you.", "m1") is (
            Outcome.APPLIED
        )
        assert await line.service.write(ticket, ANNA, "Hello, I'm here with you.", "m1") is (
            Outcome.DUPLICATE
        )
        assert await line.service.write(ticket, BEN, "Hi", "m2") is Outcome.NOT_YOURS
        assert await line.service.close(ticket, ANNA, "no_such_flow") is Outcome.BAD_TARGET
        assert await line.service.close(ticket, ANNA, "coping") is Outcome.APPLIED
        assert await line.service.close(ticket, ANNA) is Outcome.DUPLICATE
        _joined, hello, closed = await line.pushes(feed, 3)
        assert hello.shown == (ShownOperator("Anna", "Hello, I'm here with you."),)
        closed_keys = [m.key for m in closed.shown if isinstance(m, ShownMessage)]
        assert closed_keys[:2] == [HandoffKeys.OPERATOR_LEFT, "engine.handoff_ended"]
        assert not closed.active
        back = await runtime.state("web:s1")
        assert back is not None and back.at is not None and back.at.flow == "coping"
        changes = [c.change for c in line.seen if isinstance(c, TicketChanged)]
        assert changes == ["claimed", "shared", "risk", "closed"]  # risk: identifying_info
        assert await line.desk.queue("helpline") == []


async def test_details_typed_before_the_handoff_are_not_in_the_conversation_shared(
    shipped: LoadedProgram,
) -> None:
    async with connected(shipped) as line:
        runtime = line.runtime
        await line.service.duty(ANNA.ref, True)
        await runtime.handle("web:s1", Start())
        await runtime.handle("web:s1", Text("my name is Sam Brown, call me on 040 123 4567"))
        await runtime.handle("web:s1", ChoicePicked("go_on"))
        await runtime.handle("web:s1", CommandGiven(CommandName.HELP))
        await runtime.handle("web:s1", ChoicePicked("person"))
        (opened,) = await line.told(TicketOpened)
        assert isinstance(opened, TicketOpened)
        assert await line.service.claim(opened.ticket, ANNA) is Outcome.APPLIED
        await runtime.handle("web:s1", ChoicePicked(HandoffChoice.SHARE.choice_id))
        (conversation,) = await line.told(ConversationShared)
        assert isinstance(conversation, ConversationShared)
        shared = repr(conversation.lines)
        assert "Sam" not in shared and "Brown" not in shared and "4567" not in shared
        assert ("risk", "identifying_info") in conversation.lines  # said that something was


async def test_the_person_can_decline_to_share_and_end_the_chat(shipped: LoadedProgram) -> None:
    async with connected(shipped) as line:
        ticket, _feed = await claimed(line)
        runtime = line.runtime
        declined = await runtime.handle("web:s1", ChoicePicked(HandoffChoice.NO_SHARE.choice_id))
        assert keys(declined) == [HandoffKeys.NOT_SHARED]
        ended = await runtime.handle("web:s1", ChoicePicked(HandoffChoice.END.choice_id))
        assert keys(ended)[:2] == [HandoffKeys.ENDED_BY_PERSON, "engine.handoff_ended"]
        assert ended.handoff is not None and not ended.handoff.active
        assert not [e for e in line.seen if isinstance(e, ConversationShared)]
        assert await line.service.write(ticket, ANNA, "Are you there?", "m3") is Outcome.DUPLICATE
        # A late press of an old button shows where the person is, and changes nothing.
        late = await runtime.handle("web:s1", ChoicePicked(HandoffChoice.END.choice_id))
        assert late.messages and late.messages[-1].choices


async def test_leave_now_with_an_operator_erases_and_tells_the_operator(
    shipped: LoadedProgram,
) -> None:
    async with connected(shipped) as line:
        ticket, _feed = await claimed(line)
        left = await line.runtime.handle("web:s1", Text("leave now"))
        assert left.state is None
        await line.told(TicketChanged, 2)
        assert [c.change for c in line.seen if isinstance(c, TicketChanged)][-1] == "left"
        assert await line.service.write(ticket, ANNA, "Hello?", "m4") is Outcome.UNKNOWN


async def test_a_colleague_can_take_over_or_the_ticket_goes_back_to_the_queue(
    shipped: LoadedProgram,
) -> None:
    async with connected(shipped) as line:
        ticket, feed = await claimed(line)
        assert await line.service.transfer(ticket, ANNA, BEN) is Outcome.APPLIED
        assert await line.service.write(ticket, ANNA, "Still me", "m5") is Outcome.NOT_YOURS
        assert await line.service.transfer(ticket, BEN, None) is Outcome.APPLIED
        assert await line.desk.queue("helpline") == [ticket]
        assert await line.service.claim(ticket, ANNA) is Outcome.APPLIED
        pushes = await line.pushes(feed, 4)
        said = [m.key for p in pushes for m in p.shown if isinstance(m, ShownMessage)]
        assert HandoffKeys.TRANSFERRED in said and HandoffKeys.REQUEUED in said


async def test_risks_during_the_chat_annotate_what_the_operator_sees(
    shipped: LoadedProgram,
) -> None:
    async with connected(shipped) as line:
        await claimed(line)
        reply = await line.runtime.handle("web:s1", Text("I want to kill myself"))
        # no safety flow talks over the operator: only the emergency number, at once
        assert keys(reply) == [HandoffKeys.DANGER_WITH_OPERATOR]
        (wrote,) = await line.told(PersonWrote)
        assert isinstance(wrote, PersonWrote) and wrote.risks == ("suicide",)
        risk = [c for c in line.seen if isinstance(c, TicketChanged) and c.change == "risk"]
        assert risk and "suicide" in risk[0].risks


async def test_a_crisis_the_ticket_carried_from_the_start_is_no_new_risk_to_the_operator(
    shipped: LoadedProgram,
) -> None:
    """The fifty-second retest: "suicide" on the ticket when it opened, written again to the
    operator, went out as `change: risk` ("screening found a new risk category")."""
    async with connected(shipped) as line:
        await line.service.duty(ANNA.ref, True)
        await line.runtime.handle("web:s1", Start(locale="en"))
        await line.runtime.handle("web:s1", Text("I want to kill myself"))
        await line.runtime.handle("web:s1", Text("i want to talk to a real person"))
        (opened,) = await line.told(TicketOpened)
        assert isinstance(opened, TicketOpened) and "suicide" in opened.risks
        assert await line.service.claim(opened.ticket, ANNA) is Outcome.APPLIED
        reply = await line.runtime.handle("web:s1", Text("i still want to die"))
        assert keys(reply) == [HandoffKeys.DANGER_WITH_OPERATOR]  # the number, every time
        await line.told(PersonWrote)
        assert not [c for c in line.seen if isinstance(c, TicketChanged) and c.change == "risk"]


async def test_risks_raised_while_waiting_reach_the_ticket_before_anyone_claims(
    shipped: LoadedProgram,
) -> None:
    async with connected(shipped) as line:
        await line.service.duty(ANNA.ref, True)
        await ask_for_a_person(line)
        await line.told(TicketOpened)
        reply = await line.runtime.handle("web:s1", Text("I want to kill myself"))
        assert any(isinstance(m, ShownMessage) for m in reply.shown)  # the safety flow answers

        def risk_changes() -> list[TicketChanged]:
            return [c for c in line.seen if isinstance(c, TicketChanged) and c.risks]

        async def risk_told() -> bool:
            return bool(risk_changes())

        await async_wait_until(risk_told, 10, "the risk on the ticket")
        # A crisis moves the request up in line as it reaches the ticket.
        assert [(c.change, c.urgency, c.risks) for c in risk_changes()] == [
            ("escalated", "high", ("suicide",))
        ]


async def test_a_command_typed_to_the_operator_reaches_them_and_reminds_how_to_end(
    shipped: LoadedProgram,
) -> None:
    async with connected(shipped) as line:
        await claimed(line)
        reply = await line.runtime.handle("web:s1", Text("help"))
        (wrote,) = await line.told(PersonWrote)
        assert isinstance(wrote, PersonWrote) and wrote.text == "help"  # their words, still
        (reminder,) = reply.messages
        assert reminder.key == HandoffKeys.WITH_OPERATOR
        assert [c.id for c in reminder.choices] == [HandoffChoice.END.choice_id]
        ordinary = await line.runtime.handle("web:s1", Text("I need help with this"))
        assert ordinary.shown == ()  # a sentence is just words for the operator


async def test_an_answer_pressed_as_the_operator_claims_reaches_them_with_its_crisis(
    shipped: LoadedProgram,
) -> None:
    # The forty-fourth retest: "Yes, I'm in danger now", pressed as the operator claimed the
    # chat, got only "a person is here"; the operator never saw it.
    async with connected(shipped) as line:
        await line.service.duty(ANNA.ref, True)
        await ask_for_a_person(line)
        (opened,) = await line.told(TicketOpened)
        assert isinstance(opened, TicketOpened)
        asked = await line.runtime.handle("web:s1", Text("I want to kill myself"))
        assert "safety.suicide.danger" in keys(asked)
        assert await line.service.claim(opened.ticket, ANNA) is Outcome.APPLIED
        line.seen.clear()
        reply = await line.runtime.handle("web:s1", ChoicePicked("in_danger"))
        assert keys(reply) == [HandoffKeys.DANGER_WITH_OPERATOR]
        (wrote,) = await line.told(PersonWrote)
        assert isinstance(wrote, PersonWrote)
        assert (wrote.text, wrote.risks) == ("Yes, I'm in danger now", ("suicide",))
        # Its number typed (the forty-seventh retest: a bare "6"): the number and what it names.
        line.seen.clear()
        await line.runtime.handle("web:s1", Text("1"))
        (typed,) = await line.told(PersonWrote)
        assert isinstance(typed, PersonWrote)
        assert (typed.text, typed.risks) == ("1 (Yes, I'm in danger now)", ("suicide",))
        # A button of the crisis's flow from another of its questions: still its words.
        line.seen.clear()
        await line.runtime.handle("web:s1", ChoicePicked("stay"))  # of its menu, not this question
        (stale,) = await line.told(PersonWrote)
        assert isinstance(stale, PersonWrote) and stale.risks == ("suicide",)
        # Not one of the program's answers: the reminder only.
        menu = await line.runtime.handle("web:s1", ChoicePicked("no_such_answer"))
        assert keys(menu) == [HandoffKeys.WITH_OPERATOR]


async def test_duplicate_claims_and_unknown_tickets_change_nothing(shipped: LoadedProgram) -> None:
    async with connected(shipped) as line:
        ticket, feed = await claimed(line)
        assert await line.service.claim(ticket, ANNA) is Outcome.DUPLICATE
        assert await line.service.claim(ticket, BEN) is Outcome.NOT_YOURS
        assert await line.service.claim("T-NOSUCHXX", ANNA) is Outcome.UNKNOWN
        (joined,) = await line.pushes(feed, 1)
        assert joined.active


async def test_an_expired_conversation_leaves_the_queue(shipped: LoadedProgram) -> None:
    async with connected(shipped) as line:
        await ask_for_a_person(line)
        (opened,) = await line.told(TicketOpened)
        await line.runtime.erase("web:s1")
        assert await line.desk.queue("helpline") == []
        assert isinstance(opened, TicketOpened)
        assert await line.service.claim(opened.ticket, ANNA) is Outcome.UNKNOWN


async def test_state_changes_are_counted_and_nothing_is_logged_but_events(
    shipped: LoadedProgram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    metrics = Metrics()
    async with connected(shipped, metrics=metrics) as line:
        ticket, _feed = await claimed(line)
        await line.runtime.handle("web:s1", Text("my name is Sam Doe"))
        await line.service.close(ticket, ANNA)
        text = metrics.exposition().decode()
        for state in ("waiting", "claimed", "closed"):
            assert f'redirection_bot_handoffs_total{{reason="asked",state="{state}"}} 1.0' in text
    assert "Sam" not in caplog.text and "@anna" not in caplog.text and "web:s1" not in caplog.text
    # Nothing of the risk beside a session tag (the forty-seventh attack), nor in the same
    # millisecond as one (the fifty-sixth): the reason and urgency are counted, never logged.
    requested = [r.getMessage() for r in caplog.records if "handoff requested" in r.getMessage()]
    assert requested and not any("session=" in line for line in requested)
    assert not any(w in line for line in requested for w in ("reason=", "urgency=", "safety_"))


async def test_the_conversation_is_not_kept_when_the_helpline_asks_for_none(
    shipped: LoadedProgram,
) -> None:
    async with connected(shipped, helpline(conversation_lines=0)) as line:
        _ticket, feed = await claimed(line)
        (joined,) = await line.pushes(feed, 1)
        assert [m.key for m in joined.shown if isinstance(m, ShownMessage)] == [
            HandoffKeys.OPERATOR_JOINED
        ]


async def test_a_person_waiting_at_a_handoff_node_can_go_back(shipped: LoadedProgram) -> None:
    async with connected(shipped) as line:
        await ask_for_a_person(line)
        back = await line.runtime.handle("web:s1", ChoicePicked(HandoffChoice.BACK.choice_id))
        assert keys(back)[:2] == [HandoffKeys.WITHDRAWN, "engine.handoff_ended"]
        state = await line.runtime.state("web:s1")
        assert state is not None and state.waiting is Waiting.ANSWER
        assert await line.desk.queue("helpline") == []


@pytest.mark.parametrize("locale", ["en", "es", "fi"])
async def test_without_a_helpline_nobody_is_promised_and_help_comes_at_once(
    shipped: LoadedProgram, locale: str
) -> None:
    runtime = make_runtime(shipped)
    await runtime.handle("web:s1", Start(locale=locale))
    await runtime.handle("web:s1", ChoicePicked("go_on"))
    # No button offers a person here (nobody could come); a person asked for in words is
    # answered at once.
    asking = {
        "en": "can i talk to a real person",
        "es": "puedo hablar con una persona real",
        "fi": "voinko puhua oikean ihmisen kanssa",
    }
    reply = await runtime.handle("web:s1", Text(asking[locale]))
    said = keys(reply)
    at = said.index(HandoffKeys.NO_TEAM)
    assert said[at + 1].startswith("services.") and HandoffKeys.SAFETY_PLAN in said[at:]
    assert reply.handoff is None
    promises = ("will join", "se unirá", "liittyy")
    assert not [m.text for m in reply.messages if any(p in m.text for p in promises)]
    # The program's own question stays the last, with its choices; nothing before it has any.
    assert reply.messages[-1].choices and not any(m.choices for m in reply.messages[:-1])


async def test_outside_office_hours_nobody_is_promised_even_with_someone_on_duty(
    shipped: LoadedProgram,
) -> None:
    # The test clock stands at Friday 2027-01-15, 10:00 in Helsinki: a holiday for this desk.
    hours = parse_hours("Europe/Helsinki", {"mon-fri": "09:00-17:00"}, ["2027-01-15"])
    settings = helpline(services=(ServiceSettings("helpline", "test", hours=hours),))
    async with connected(shipped, settings) as line:
        await line.service.duty(ANNA.ref, True)
        said = keys(await ask_for_a_person(line))
        assert HandoffKeys.NOBODY_AVAILABLE in said and HandoffKeys.AVAILABLE_NOW not in said
        assert HandoffKeys.SAFETY_PLAN in said


async def test_disguised_and_broken_text_comes_in_by_the_same_door_for_both_sides(
    shipped: LoadedProgram,
) -> None:
    async with connected(shipped) as line:
        runtime = line.runtime
        ticket, feed = await claimed(line)
        await line.pushes(feed, 1)
        await runtime.handle("web:s1", Text("I want to k\u200bill my\u00adself"))
        (wrote,) = await line.told(PersonWrote)
        assert isinstance(wrote, PersonWrote)
        assert wrote.text == "I want to kill myself" and "suicide" in wrote.risks
        half = await runtime.handle("web:s1", Text("thank you \ud83d"))
        assert keys(half) == ["engine.unreadable"]  # nothing goes to Anna, the chat goes on
        assert len(await line.told(PersonWrote)) == 1
        said = "Take your time.\u202e \ud83d"
        assert await line.service.write(ticket, ANNA, said, "m1") is Outcome.APPLIED
        _joined, words = await line.pushes(feed, 2)
        assert words.shown == (ShownOperator("Anna", "Take your time. \ufffd"),)


async def test_a_risk_in_a_message_too_long_reaches_the_operator(shipped: LoadedProgram) -> None:
    async with connected(shipped, runtime_settings=RuntimeSettings(max_text_length=40)) as line:
        await claimed(line)
        long_and_plain = "I am thinking about what you said. " * 3
        assert keys(await line.runtime.handle("web:s1", Text(long_and_plain))) == [
            "engine.too_long"
        ]
        long_and_risky = "I cannot go on like this any longer. I want to kill myself."
        reply = await line.runtime.handle("web:s1", Text(long_and_risky))
        # the operator has it: no "too long", no safety flow; the emergency number at once
        assert keys(reply) == [HandoffKeys.DANGER_WITH_OPERATOR]
        (wrote,) = await line.told(PersonWrote)
        assert isinstance(wrote, PersonWrote)
        assert wrote.text == long_and_risky and wrote.risks == ("suicide",)


async def test_a_crisis_written_to_the_operator_is_asked_about_when_they_close(
    shipped: LoadedProgram,
) -> None:
    """The nineteenth retest: "I feel awful, I don't know if I can go on" was the person's
    last message to the operator, who closed without a word; the twenty-first: "i have pills
    here", the operator "please call 112 now", then closed. Both times the program carried on
    where it was, with no question. Nothing risky written: nothing asked."""
    for operator_writes in (False, True):
        async with connected(shipped) as line:
            ticket, feed = await claimed(line)
            await line.runtime.handle("web:s1", Text("i feel awful, i want to end my life"))
            if operator_writes:
                written = await line.service.write(ticket, ANNA, "Please call 911 now.", "op-1")
                assert written is Outcome.APPLIED
            assert await line.service.close(ticket, ANNA) is Outcome.APPLIED
            *_before, closed = await line.pushes(feed, 3 if operator_writes else 2)
            said = [m.key for m in closed.shown if isinstance(m, ShownMessage)]
            assert said[:2] == [HandoffKeys.OPERATOR_LEFT, "engine.handoff_ended"]
            assert said[-1] in ("safety.suicide.check", "safety.suicide.danger"), said

    async with connected(shipped) as line:
        ticket, feed = await claimed(line)
        await line.runtime.handle("web:s1", Text("thank you, that helped"))
        assert await line.service.close(ticket, ANNA) is Outcome.APPLIED
        _joined, closed = await line.pushes(feed, 2)
        said = [m.key for m in closed.shown if isinstance(m, ShownMessage)]
        assert not any(key.startswith("safety.") for key in said), said


async def suicidal_then_claimed(line: Helpline) -> tuple[str, str]:
    """A suicidal crisis confirmed (not in danger now, in Canada), then a person asked for and
    claimed by Anna: (the person's feed, the ticket)."""
    await line.service.duty(ANNA.ref, True)
    runtime = line.runtime
    await runtime.handle("web:s1", Text("i want to end my life"))
    await runtime.handle("web:s1", Text("no not right now"))
    await runtime.handle("web:s1", Text("canada"))
    asked = await runtime.handle("web:s1", Text("talk to a person"))
    assert asked.handoff is not None and asked.handoff.feed is not None, keys(asked)
    (opened,) = await line.told(TicketOpened)
    assert isinstance(opened, TicketOpened)
    assert await line.service.claim(opened.ticket, ANNA) is Outcome.APPLIED
    return asked.handoff.feed, opened.ticket


async def test_after_a_suicidal_crisis_the_operators_close_gives_the_number_again(
    shipped: LoadedProgram,
) -> None:
    """The thirty-second retest: a person whose suicidal crisis was confirmed talked to an
    operator, who closed; the close said only "Thank you for talking with them". Where the
    crisis was confirmed and nothing is known to be taken, the close says not to wait and
    gives the emergency number of the person's country; a conversation with no crisis keeps
    the plain close (`test_a_crisis_written_to_the_operator_is_asked_about_when_they_close`)."""
    async with connected(shipped) as line:
        feed, ticket = await suicidal_then_claimed(line)
        assert await line.service.close(ticket, ANNA) is Outcome.APPLIED
        *_before, closed = await line.pushes(feed, 2)
        said = [m for m in closed.shown if isinstance(m, ShownMessage)]
        assert said[0].key == HandoffKeys.OPERATOR_LEFT + "_suicidal_here", [m.key for m in said]
        assert "911" in said[0].text


async def test_pills_taken_are_remembered_when_the_crisis_is_asked_about_again(
    shipped: LoadedProgram,
) -> None:
    """The twenty-fifth retest: "i swallowed what was left in the cabinet" and then, to the
    operator, "i took pills an hour ago"; the operator closed, and the program asked "Are you
    in danger right now: have you hurt yourself?". Something taken and no help called yet:
    the emergency advice at once when the crisis flow starts again (`taken_before`). The
    retest's way to a flow started over was not found again here: this holds the outcome."""
    async with connected(shipped) as line:
        await line.service.duty(ANNA.ref, True)
        first = await line.runtime.handle("web:s1", Text("i already took all my pills"))
        assert "safety.suicide.danger" not in keys(first)
        await line.runtime.handle("web:s1", Text("colombia"))
        (opened,) = await line.told(TicketOpened)
        assert isinstance(opened, TicketOpened)
        assert await line.service.claim(opened.ticket, ANNA) is Outcome.APPLIED
        await line.runtime.handle("web:s1", Text("i took pills an hour ago, i want to die"))
        assert await line.service.close(opened.ticket, ANNA) is Outcome.APPLIED
        assert first.handoff is not None and first.handoff.feed is not None
        *_before, closed = await line.pushes(first.handoff.feed, 2)
        said = [m.key for m in closed.shown if isinstance(m, ShownMessage)]
        assert "safety.suicide.danger" not in said, said
        taken = {"safety.suicide.emergency_taken", "safety.suicide.emergency_now_taken"}
        assert taken & set(said), said


async def test_a_crisis_written_to_the_operator_is_answered_with_the_number_at_once(
    shipped: LoadedProgram,
) -> None:
    """The twenty-fourth retest: an operator took the conversation and went quiet; "mul on naru
    valmiina" ("I have the rope ready") and "is anyone there??" got nothing for minutes. A
    crisis written to the operator is answered at once with the emergency number, each time;
    the operator still reads the message; nothing is said for other words."""
    async with connected(shipped) as line:
        ticket, _feed = await claimed(line)
        quiet = await line.runtime.handle("web:s1", Text("is anyone there??"))
        assert not [m for m in quiet.messages if m.key.startswith(HandoffKeys.DANGER_WITH_OPERATOR)]
        for crisis in ("i have the rope ready, i want to end my life", "i want to kill myself"):
            told = await line.runtime.handle("web:s1", Text(crisis))
            keys = [m.key for m in told.messages]
            assert keys == [HandoffKeys.DANGER_WITH_OPERATOR], keys
            assert any(number in told.messages[0].text for number in ("112", "911"))
            # the way to end the chat stays on the page (the twenty-fifth retest: no buttons)
            assert [c.id for c in told.messages[0].choices] == ["handoff:end"]
        assert len(await line.told(PersonWrote, 3)) == 3  # every message reached the operator
        assert await line.service.close(ticket, ANNA) is Outcome.APPLIED


async def test_two_crises_in_one_message_to_the_operator_bring_one_notice(
    shipped: LoadedProgram,
) -> None:
    """The forty-third retest: "i swallowed 5 of them. feeling dizzy" written to the operator
    (suicide and distress read in it) brought the emergency notice twice in one answer."""
    async with connected(shipped) as line:
        ticket, _feed = await claimed(line)
        told = await line.runtime.handle("web:s1", Text("i swallowed 5 of them. feeling dizzy"))
        notices = [
            m.key for m in told.messages if m.key.startswith(HandoffKeys.DANGER_WITH_OPERATOR)
        ]
        assert len(notices) == 1, keys(told)
        assert await line.service.close(ticket, ANNA) is Outcome.APPLIED


async def test_after_something_taken_dizziness_and_the_close_say_to_get_help_now(
    shipped: LoadedProgram,
) -> None:
    """The twenty-seventh retest: *otin just ison kasan mun lääkkeitä*, then to the operator
    *oon yks. mua vähän huimaa* ("I'm alone, a bit dizzy"): no notice; the operator closed
    with "Thank you for talking with them"; *otin vielä pari lisää* ("I took a couple more")
    and *mikä numero? maksaaks se?* were a plain "I didn't understand". Something taken: the
    dizziness gets the emergency notice, the close and what is not understood say to get
    medical help now, with the number."""
    async with connected(shipped) as line:
        await line.service.duty(ANNA.ref, True)
        runtime = line.runtime
        await runtime.handle("web:s1", Start(locale="fi"))
        first = await runtime.handle(
            "web:s1", Text("en jaksa enää. otin just ison kasan mun lääkkeitä")
        )
        await runtime.handle("web:s1", Text("suomessa"))
        (opened,) = await line.told(TicketOpened)
        assert isinstance(opened, TicketOpened)
        assert await line.service.claim(opened.ticket, ANNA) is Outcome.APPLIED
        dizzy = await runtime.handle("web:s1", Text("oon yks. mua vähän huimaa"))
        assert keys(dizzy) == [HandoffKeys.DANGER_WITH_OPERATOR + "_taken_here"], keys(dizzy)
        assert "112" in dizzy.messages[0].text
        assert await line.service.close(opened.ticket, ANNA) is Outcome.APPLIED
        assert first.handoff is not None and first.handoff.feed is not None
        *_before, closed = await line.pushes(first.handoff.feed, 2)
        said = [m.key for m in closed.shown if isinstance(m, ShownMessage)]
        assert said[0] == HandoffKeys.OPERATOR_LEFT + "_taken_here", said
        more = await runtime.handle("web:s1", Text("otin vielä pari lisää"))
        assert keys(more)[0] == "safety.common.reask_number_taken_here", keys(more)
        assert "112" in more.messages[0].text
        # two questions at once: the one asked first ("what number?"), with the number
        number = await runtime.handle("web:s1", Text("mikä numero? maksaaks se?"))
        assert keys(number)[:2] == ["safety.suicide.lines_intro", "services.emergency_here"]
        assert "112" in number.messages[1].text


async def test_something_taken_told_only_to_the_operator_and_its_signs_say_to_get_help_now(
    shipped: LoadedProgram,
) -> None:
    """The thirtieth retest: *otin äsken unilääkkeitä ja viinaa päälle*, told only to the
    operator, was forgotten when they closed ("are you in danger?" again); "i feel really
    sleepy now" and "me cuesta respirar" to an operator had no notice, and "no puedo respirar
    bien" after the close got a panic breathing exercise. Something taken, told to the
    operator: the notice says so; its signs get the notice too; the close says it; and
    trouble breathing afterwards is the suicide crisis's emergency advice, never breathing."""
    async with connected(shipped) as line:
        ticket, feed = await claimed(line)
        runtime = line.runtime
        taken = await runtime.handle(
            "web:s1", Text("not really. i took all my sleeping pills with vodka, i want to die")
        )
        assert keys(taken) == [HandoffKeys.DANGER_WITH_OPERATOR + "_taken"], keys(taken)
        sleepy = await runtime.handle("web:s1", Text("i feel really sleepy now"))
        assert keys(sleepy) == [HandoffKeys.DANGER_WITH_OPERATOR + "_taken"], keys(sleepy)
        assert len(await line.told(PersonWrote, 2)) == 2  # both reached the operator
        assert await line.service.close(ticket, ANNA) is Outcome.APPLIED
        *_before, closed = await line.pushes(feed, 2)
        said = [m.key for m in closed.shown if isinstance(m, ShownMessage)]
        assert said[0] == HandoffKeys.OPERATOR_LEFT + "_taken", said
        breath = await runtime.handle("web:s1", Text("please dont go, i cant breathe properly"))
        assert "safety.suicide.again" in keys(breath), keys(breath)
        assert not [key for key in keys(breath) if key.startswith("safety.distress")]


async def test_after_an_operator_the_check_asked_again_says_to_get_help_for_what_was_taken(
    shipped: LoadedProgram,
) -> None:
    """The thirty-first retest: asked "are you having thoughts ...?", the person asked for a
    person and told the operator they had taken a jar of sleeping pills; when the operator
    closed, the same check came back word for word. It now says first to get help for what was
    taken, with the number, then asks."""
    async with connected(shipped) as line:
        await line.service.duty(ANNA.ref, True)
        runtime = line.runtime
        await runtime.handle("web:s1", Start())
        check = await runtime.handle("web:s1", Text("whats the point of any of this anymore"))
        assert "safety.suicide.check" in keys(check), keys(check)
        await runtime.handle("web:s1", CommandGiven(CommandName.HELP))
        asked = await runtime.handle("web:s1", ChoicePicked("person"))
        assert asked.handoff is not None and asked.handoff.feed is not None
        (opened,) = await line.told(TicketOpened)
        assert isinstance(opened, TicketOpened)
        assert await line.service.claim(opened.ticket, ANNA) is Outcome.APPLIED
        await runtime.handle(
            "web:s1", Text("i took all my sleeping pills an hour ago, i want to die")
        )
        assert await line.service.close(opened.ticket, ANNA) is Outcome.APPLIED
        *_before, closed = await line.pushes(asked.handoff.feed, 2)
        said = [m.key for m in closed.shown if isinstance(m, ShownMessage)]
        assert said[0] == HandoffKeys.OPERATOR_LEFT + "_taken", said
        assert "safety.suicide.check_taken" in said and "safety.suicide.check" not in said, said


async def test_a_country_written_to_the_operator_with_a_crisis_gives_its_own_number(
    shipped: LoadedProgram,
) -> None:
    """The thirty-fourth retest: "uk. my hands r shaking, i want to die" written to the
    operator, and the notice said "call 112 or 911 or the emergency number where you are".
    The country told with a crisis is kept: the notice gives its own number; a country named
    without a crisis is the operator's to read, not kept."""
    async with connected(shipped) as line:
        ticket, feed = await claimed(line)
        runtime = line.runtime
        plain = await runtime.handle("web:s1", Text("i was in spain for work last year"))
        assert not keys(plain), keys(plain)
        told = await runtime.handle("web:s1", Text("uk. my hands r shaking, i want to die"))
        assert keys(told) == [HandoffKeys.DANGER_WITH_OPERATOR + "_here"], keys(told)
        assert "999" in told.messages[0].text
        again = await runtime.handle("web:s1", Text("i cant stop shaking"))
        assert not keys(again) or "999" in again.messages[0].text, keys(again)
        assert await line.service.close(ticket, ANNA) is Outcome.APPLIED
        *_before, closed = await line.pushes(feed, 2)
        said = [m.key for m in closed.shown if isinstance(m, ShownMessage)]
        assert "safety.suicide.check" in said, said  # the crisis told is asked about after


async def test_a_crisis_confirmed_before_the_chat_and_written_again_is_asked_about_from_its_question(
    shipped: LoadedProgram,
) -> None:
    """The thirty-sixth retest: a suicidal crisis confirmed, a person asked for, and "i still
    want to die" written to the operator; when they closed, the whole suicide flow ran again
    (its acknowledgement, "are you in danger?", the services list: the number two or three
    times in one answer). Confirmed before: its first question, not its opening words."""
    async with connected(shipped) as line:
        runtime = line.runtime
        feed, ticket = await suicidal_then_claimed(line)
        await runtime.handle("web:s1", Text("i still want to die tbh"))
        assert await line.service.close(ticket, ANNA) is Outcome.APPLIED
        *_before, closed = await line.pushes(feed, 2)
        said = [m.key for m in closed.shown if isinstance(m, ShownMessage)]
        assert "safety.suicide.acknowledge" not in said, said
        assert any(key.startswith("safety.suicide.danger") for key in said), said


async def test_after_a_child_at_risk_the_operators_close_gives_the_number_again(
    shipped: LoadedProgram,
) -> None:
    """The thirty-eighth retest: after a chat about a child in danger, the operator's close
    said only "Thank you for talking with them". Where a child at risk was confirmed, the
    close says not to wait if a child is in danger now, with the emergency number of the
    person's country (`_child_risk_here`)."""
    async with connected(shipped) as line:
        await line.service.duty(ANNA.ref, True)
        runtime = line.runtime
        worry = "im alone with my niece tonight and im scared i might hurt her"
        await runtime.handle("web:s1", Text(worry))
        asked = await runtime.handle("web:s1", Text("no i cant get away, im the only adult here"))
        assert asked.handoff is not None and asked.handoff.feed is not None, keys(asked)
        (opened,) = await line.told(TicketOpened)  # a child in danger: asked for at once
        assert isinstance(opened, TicketOpened)
        await runtime.handle("web:s1", Text("canada"))
        assert await line.service.claim(opened.ticket, ANNA) is Outcome.APPLIED
        assert await line.service.close(opened.ticket, ANNA) is Outcome.APPLIED
        *_before, closed = await line.pushes(asked.handoff.feed, 2)
        said = [m for m in closed.shown if isinstance(m, ShownMessage)]
        assert said[0].key == HandoffKeys.OPERATOR_LEFT + "_child_risk_here", [m.key for m in said]
        assert "911" in said[0].text


async def test_every_crisis_written_to_the_operator_is_asked_about_after_the_close(
    shipped: LoadedProgram,
) -> None:
    """The forty-third retest: a young person wrote to the operator that they no longer want
    to live and that their father hits them; after the close only the child's question came,
    and the suicide was never asked about again. Each is asked, the highest first."""
    async with connected(shipped) as line:
        ticket, feed = await claimed(line)
        await line.runtime.handle(
            "web:s1", Text("im 17 and i dont want to live anymore, my dad hits me and locked me in")
        )
        assert await line.service.close(ticket, ANNA) is Outcome.APPLIED
        *_before, closed = await line.pushes(feed, 2)
        said = [m.key for m in closed.shown if isinstance(m, ShownMessage)]
        assert said[-1].startswith("safety.child_at_risk."), said
        answered = await line.runtime.handle("web:s1", Text("no"))
        later = [m.key for m in answered.messages]
        assert any(key.startswith("safety.suicide.") for key in later), later
