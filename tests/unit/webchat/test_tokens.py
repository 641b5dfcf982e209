"""A conversation's token says when it was issued, to whoever holds it (connectors/webchat/
sessions.py): so that an instance that never had a conversation can tell one the store lost
from a new one (docs/protocol.md, "A lost conversation")."""

from __future__ import annotations

import secrets

from redirection_bot_connectors.webchat.rest import MIN_SENDER_BITS, sender_bits
from redirection_bot_connectors.webchat.sessions import TOKEN_PATTERN, issued_at, new_token


def test_a_token_says_when_it_was_issued_to_the_millisecond() -> None:
    token = new_token(now=1_796_254_904.8752)
    assert TOKEN_PATTERN.match(token) and len(token) == 43
    assert issued_at(token) == 1_796_254_904.875


def test_tokens_stay_unguessable() -> None:
    tokens = {new_token(now=1_796_254_904.0) for _ in range(1000)}
    assert len(tokens) == 1000  # 192 random bits each, the same instant
    assert all(sender_bits(token) >= MIN_SENDER_BITS for token in tokens)  # a REST sender too


def test_a_token_the_server_did_not_issue_says_nothing() -> None:
    # REST clients' own senders, of the same length: one in 65,536 passes the check
    own = [secrets.token_urlsafe(32) for _ in range(2000)]
    assert sum(issued_at(sender) is not None for sender in own) <= 2
    older = secrets.token_urlsafe(24)  # a token from before tokens said when
    assert len(older) == 32 and TOKEN_PATTERN.match(older)
    assert issued_at(older) is None
    assert issued_at("!" * 43) is None


def test_a_changed_token_is_not_taken_for_one_issued() -> None:
    token = "jZ-5_QIVYRBTB69fzyWV1Kv4V0IemkLuAaI5Iq7AsAw"  # new_token(now=1_796_254_904.0)
    assert issued_at(token) == 1_796_254_904.0
    for at in range(43):
        changed = token[:at] + ("A" if token[at] != "A" else "B") + token[at + 1 :]
        assert issued_at(changed) is None
