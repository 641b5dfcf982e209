"""A "leave now" or "erase" that met a failing store is finished in the background: tried
again until the conversation would have expired anyway, not abandoned after a minute (an
outage of two minutes left a person's conversation, and the copy their words open, for a day
after they were told it was gone)."""

from __future__ import annotations

import itertools

from redirection_bot_connectors.webchat.chat import leave_retry_delays

DAY = 24 * 3600.0


def test_an_ending_is_tried_again_soon_then_every_minute_for_the_conversation_s_lifetime() -> None:
    delays = list(leave_retry_delays(DAY))
    assert delays[:4] == [1.0, 2.0, 4.0, 8.0]  # a short blip: erased within seconds
    assert max(delays) == 60.0  # a long outage: within a minute of the store's return
    assert sum(delays) >= DAY  # never given up while the conversation could still be read
    assert len(delays) < 1500  # a small task asleep, not a busy loop


def test_a_short_lifetime_is_not_tried_past_its_end() -> None:
    delays = list(itertools.islice(leave_retry_delays(10.0), 100))
    assert sum(delays) < 10.0 + 8.0
