"""A conversation's token tells the server, and only the server, when it was issued
(connectors/webchat/sessions.py: TokenIssuer): so that an instance that never had a
conversation can tell one the store lost from a new one (docs/protocol.md, "A lost
conversation"), while anyone else who sees a token learns nothing from it."""

from __future__ import annotations

import base64
import secrets

from redirection_bot_connectors.webchat.rest import MIN_SENDER_BITS, sender_bits
from redirection_bot_connectors.webchat.sessions import TOKEN_BYTES, TOKEN_PATTERN, TokenIssuer

KEY = bytes(range(32))
ISSUER = TokenIssuer((KEY,))
AT = 1_796_254_904.8752


def test_a_token_tells_its_server_when_it_was_issued_to_the_millisecond() -> None:
    token = ISSUER.new(now=AT)
    assert TOKEN_PATTERN.match(token) and len(token) == 43
    assert ISSUER.issued_at(token) == 1_796_254_904.875
    # Another instance sharing the store derives the same key: it reads the same time.
    assert TokenIssuer((KEY,)).issued_at(token) == 1_796_254_904.875


def test_nobody_without_the_key_can_read_when_a_token_was_issued() -> None:
    """An outside tester's finding: the token's bytes 24 to 30 were the Unix time in
    milliseconds when the conversation began, readable by anyone who saw its address."""
    issued_ms = round(AT * 1000).to_bytes(6, "big")
    tokens = [ISSUER.new(now=AT) for _ in range(200)]
    raw = [base64.urlsafe_b64decode(token + "=") for token in tokens]
    assert not any(issued_ms in body for body in raw)
    # Issued in the same millisecond, the sealed times differ: nothing in common to match.
    assert len({body[TOKEN_BYTES : TOKEN_BYTES + 6] for body in raw}) == 200
    other = TokenIssuer((secrets.token_bytes(32),))
    assert sum(other.issued_at(token) is not None for token in tokens) <= 1


def test_a_token_sealed_with_a_key_since_rotated_out_is_still_read() -> None:
    newer = secrets.token_bytes(32)
    token = ISSUER.new(now=AT)
    assert TokenIssuer((newer, KEY)).issued_at(token) == 1_796_254_904.875
    assert TokenIssuer((newer, KEY)).new(now=AT) != token


def test_tokens_stay_unguessable() -> None:
    tokens = {ISSUER.new(now=1_796_254_904.0) for _ in range(1000)}
    assert len(tokens) == 1000  # 192 random bits each, the same instant
    assert all(sender_bits(token) >= MIN_SENDER_BITS for token in tokens)  # a REST sender too


def test_a_token_the_server_did_not_issue_says_nothing() -> None:
    # REST clients' own senders, of the same length: one in 65,536 passes the check
    own = [secrets.token_urlsafe(32) for _ in range(2000)]
    assert sum(ISSUER.issued_at(sender) is not None for sender in own) <= 2
    older = secrets.token_urlsafe(24)  # a token from before tokens said when
    assert len(older) == 32 and TOKEN_PATTERN.match(older)
    assert ISSUER.issued_at(older) is None
    assert ISSUER.issued_at("!" * 43) is None


def test_a_changed_token_is_not_taken_for_one_issued() -> None:
    token = ISSUER.new(now=1_796_254_904.0)
    assert ISSUER.issued_at(token) == 1_796_254_904.0
    for at in range(43):
        # "Q" and "g" end in two zero bits: changed at the last place too, not only where
        # base64 pads (the token is random).
        changed = token[:at] + ("Q" if token[at] != "Q" else "g") + token[at + 1 :]
        assert ISSUER.issued_at(changed) is None
