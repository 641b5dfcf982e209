"""The lane for costly work (long screenings, resume words' scrypt): a few at a time, the rest
in order, and with a bound on waiting, the one too many refused at once."""

from __future__ import annotations

import asyncio
import threading

import pytest

from redirection_bot.work_lane import LaneFull, WorkLane


async def test_no_more_than_its_width_run_at_once_and_each_waiter_gets_its_turn() -> None:
    lane = WorkLane(width=2)
    lock = threading.Lock()
    at_once = most = 0

    def work() -> None:
        nonlocal at_once, most
        with lock:
            at_once += 1
            most = max(most, at_once)
        threading.Event().wait(0.01)
        with lock:
            at_once -= 1

    await asyncio.gather(*(lane.run(work) for _ in range(10)))
    assert most == 2 and lane.running == 0 and lane.waiting == 0


async def test_one_more_than_may_wait_is_refused_at_once_and_the_others_run() -> None:
    lane = WorkLane(width=1, max_waiting=2)
    release = threading.Event()
    first = asyncio.create_task(lane.run(lambda: release.wait(5)))
    waiters = [asyncio.create_task(lane.run(lambda: "done")) for _ in range(2)]
    await asyncio.sleep(0.05)
    assert lane.running == 1 and lane.waiting == 2
    with pytest.raises(LaneFull):
        await lane.run(lambda: "too many")
    release.set()
    assert await first is True
    assert [await waiter for waiter in waiters] == ["done", "done"]


async def test_a_waiter_that_gives_up_frees_its_place_in_the_queue() -> None:
    lane = WorkLane(width=1, max_waiting=1)
    release = threading.Event()
    first = asyncio.create_task(lane.run(lambda: release.wait(5)))
    await asyncio.sleep(0.02)
    impatient = asyncio.create_task(lane.run(lambda: "never"))
    await asyncio.sleep(0.02)
    impatient.cancel()
    await asyncio.sleep(0)
    waiting = asyncio.create_task(lane.run(lambda: "in turn"))  # the place is free again
    release.set()
    await first
    assert await waiting == "in turn"
    assert lane.running == 0


async def test_a_full_queue_of_later_ranks_makes_room_for_an_earlier_one() -> None:
    """A person's words to come back (rank 0) never wait behind a full queue of new words
    being made (rank 1): the last of those is refused instead (attack 10)."""
    lane = WorkLane(width=1, max_waiting=2)
    release = threading.Event()
    first = asyncio.create_task(lane.run(lambda: release.wait(5), rank=1))
    bulk = [asyncio.create_task(lane.run(lambda: "made", rank=1)) for _ in range(2)]
    await asyncio.sleep(0.05)
    person = asyncio.create_task(lane.run(lambda: "back", rank=0))
    await asyncio.sleep(0.02)
    with pytest.raises(LaneFull):
        await lane.run(lambda: "one more", rank=1)  # a later rank still finds it full
    release.set()
    assert await person == "back"
    results = await asyncio.gather(*bulk, return_exceptions=True)
    assert results[0] == "made" and isinstance(results[1], LaneFull)  # the last one gave way
    await first
    assert lane.running == 0 and lane.waiting == 0
