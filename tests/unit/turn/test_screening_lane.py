"""The lane for long screenings: short ones where they arrive, long ones off the event loop,
one at a time, the shortest first."""

from __future__ import annotations

import asyncio
import threading

import pytest

from redirection_bot.turn.screening_lane import ScreeningLane


async def test_a_short_message_is_screened_where_it_arrives() -> None:
    lane = ScreeningLane(inline_characters=10)
    assert await lane.run(10, threading.get_ident) == threading.get_ident()


async def test_a_long_message_is_screened_in_a_worker_thread() -> None:
    lane = ScreeningLane(inline_characters=10)
    assert await lane.run(11, threading.get_ident) != threading.get_ident()


async def test_long_messages_take_turns_and_the_shortest_waiting_goes_first() -> None:
    lane = ScreeningLane(inline_characters=10)
    release = threading.Event()
    done: list[int] = []
    at_once = 0
    most_at_once = 0
    lock = threading.Lock()

    def work(size: int) -> int:
        nonlocal at_once, most_at_once
        with lock:
            at_once += 1
            most_at_once = max(most_at_once, at_once)
        if size == 20_000:
            release.wait(5)
        with lock:
            at_once -= 1
            done.append(size)
        return size

    first = asyncio.create_task(lane.run(20_000, lambda: work(20_000)))
    await asyncio.sleep(0.05)  # the lane is busy with the longest
    later = [
        asyncio.create_task(lane.run(size, lambda s=size: work(s))) for size in (5000, 400, 900)
    ]
    await asyncio.sleep(0.05)
    assert lane.waiting == 3
    release.set()
    assert await asyncio.gather(first, *later) == [20_000, 5000, 400, 900]
    assert done == [20_000, 400, 900, 5000]
    assert most_at_once == 1


async def test_a_waiter_that_gives_up_passes_its_turn_on() -> None:
    lane = ScreeningLane(inline_characters=10)
    release = threading.Event()
    first = asyncio.create_task(lane.run(1000, lambda: release.wait(5)))
    await asyncio.sleep(0.05)
    gives_up = asyncio.create_task(lane.run(100, lambda: "never"))
    then = asyncio.create_task(lane.run(200, lambda: "screened"))
    await asyncio.sleep(0.05)
    gives_up.cancel()
    release.set()
    assert await first is True
    assert await then == "screened"
    with pytest.raises(asyncio.CancelledError):
        await gives_up
    assert await lane.run(300, lambda: "free again") == "free again"


async def test_an_error_in_a_screening_frees_the_lane() -> None:
    lane = ScreeningLane(inline_characters=10)

    def fails() -> None:
        raise ValueError("broken")

    with pytest.raises(ValueError, match="broken"):
        await lane.run(100, fails)
    assert await lane.run(100, lambda: "next") == "next"


async def test_a_long_message_is_never_left_waiting_for_good_behind_shorter_ones_arriving_later() -> (
    None
):
    """The fifteenth attack: 301-character messages, 55 a second, kept a 600-character
    message waiting for as long as they came when the shortest always went first. A
    message's turn is its arrival plus a millisecond a character: a shorter one arriving more
    than the difference later goes after it."""
    now = [100.0]
    lane = ScreeningLane(inline_characters=10, clock=lambda: now[0])
    release = threading.Event()
    done: list[str] = []

    def work(name: str) -> str:
        if name == "busy":
            release.wait(5)
        done.append(name)
        return name

    busy = asyncio.create_task(lane.run(20_000, lambda: work("busy")))
    await asyncio.sleep(0.05)
    person = asyncio.create_task(lane.run(600, lambda: work("person")))
    await asyncio.sleep(0)  # each arrives (and reads the clock) in its turn
    now[0] += 0.2  # a shorter one 0.2 s later still goes first (deadline 100.501 < 100.6)
    sooner = asyncio.create_task(lane.run(301, lambda: work("sooner")))
    await asyncio.sleep(0)
    now[0] += 0.2  # 0.4 s later: after the person's (100.701 > 100.6)
    later = [asyncio.create_task(lane.run(301, lambda i=i: work(f"later{i}"))) for i in range(3)]
    await asyncio.sleep(0.05)
    release.set()
    await asyncio.gather(busy, person, sooner, *later)
    assert done == ["busy", "sooner", "person", "later0", "later1", "later2"]
