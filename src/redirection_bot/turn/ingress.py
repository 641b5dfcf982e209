"""The door every typed message comes in by, once: what arrived -> the text the program sees.

Every channel hands what a person typed (and an operator's words) to ``admit`` before anything
else reads it. Screening, the slot, the echo, the plan, the transcript and the operator then
all get the same text: Unicode-normalised (NFC), without invisible characters (zero-width
characters, soft hyphens, word joiners, direction and other format controls, tag and
interlinear annotation characters; ``textnorm.clean_user_text``). Matching additionally reads
look-alike letters from other scripts as Latin ones (``lookalikes``), inside screening and
the matching of typed choices, never in the text kept or shown.

What cannot be taken as it is is still admitted, with its ``problem`` named, so that it can be
screened first (a risk in it is never ignored) and then answered politely: text longer than
the limit, and text that is not Unicode (bytes that are not UTF-8, or half a character, as
JavaScript's ``slice()`` leaves of an emoji), whose broken parts read as U+FFFD.

Requests that carry those messages come in as JSON on every channel (REST, WebSocket, the
operators' webhook): ``read_json`` is the one reader, and refuses (``UnreadableJson``) what is
not UTF-8, not JSON, or nested deeper than ``MAX_JSON_DEPTH``, before Python's decoder would
recurse into it (1,000 levels raise ``RecursionError``), so that each channel can answer politely.
An object with one key twice (``{"message": "hi", "message": "/stop"}``) is refused too: Python
keeps the last, a proxy or a log in front of the service may read the first, and what one reads
as harmless the other would apply (an outside attack: taken silently).
"""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass

from redirection_bot.language.textnorm import clean_user_text, has_broken_characters

MAX_JSON_DEPTH = 32
"""No request of ours nests beyond three levels; far deeper is an attack on the decoder."""
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))


class Problem(enum.StrEnum):
    """Why an admitted message cannot be taken as the person's answer."""

    TOO_LONG = "too_long"
    UNREADABLE = "unreadable"


@dataclass(frozen=True, slots=True)
class Admitted:
    """A message as the rest of the program sees it."""

    text: str
    problem: Problem | None = None


def admit(raw: str | bytes, max_length: int | None = None) -> Admitted:
    """``raw`` cleaned once (see the module's description), with what is wrong with it
    (``max_length`` None: any length)."""
    if isinstance(raw, bytes):
        try:
            typed = raw.decode("utf-8")
        except UnicodeDecodeError:
            typed = raw.decode("utf-8", errors="replace")
            return Admitted(clean_user_text(typed), Problem.UNREADABLE)
    else:
        typed = raw
    broken = has_broken_characters(typed)
    text = clean_user_text(typed)
    if broken:
        return Admitted(text, Problem.UNREADABLE)
    if max_length is not None and len(text) > max_length:
        return Admitted(text, Problem.TOO_LONG)
    return Admitted(text)


class UnreadableJson(ValueError):
    """A request that is not JSON in UTF-8, or is nested too deeply to be read safely."""


def read_json(data: bytes, max_depth: int = MAX_JSON_DEPTH) -> object:
    """The JSON value in ``data``, or ``UnreadableJson``."""
    # Nesting is at most the number of opening brackets: an ordinary message is not walked.
    opening = data.count(b"[") + data.count(b"{")
    if opening > max_depth and json_depth(data) > max_depth:
        raise UnreadableJson(f"nested deeper than {max_depth} levels")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UnreadableJson("not UTF-8") from error
    if text.startswith("\ufeff"):
        raise UnreadableJson("preceded by a byte order mark")
    try:
        return json.loads(text, object_pairs_hook=_object_once)
    except _RepeatedKey as error:
        raise UnreadableJson("JSON with one key twice in an object") from error
    except RecursionError as error:
        raise UnreadableJson(f"nested deeper than {max_depth} levels") from error
    except ValueError as error:  # malformed, trailing data, a number of thousands of digits
        raise UnreadableJson(f"not JSON ({str(error).split(':', 1)[0]})") from error


class _RepeatedKey(ValueError):
    """An object in the request names one key twice."""


def _object_once(pairs: list[tuple[str, object]]) -> dict[str, object]:
    found = dict(pairs)
    if len(found) != len(pairs):
        raise _RepeatedKey
    return found


def json_depth(data: bytes) -> int:
    """How deeply the brackets in ``data`` nest, outside strings (malformed JSON included:
    the decoder refuses that later)."""
    brackets = _JSON_STRING.sub(b"", data).translate(None, _NOT_BRACKETS)
    depth = deepest = 0
    for byte in brackets:
        if byte in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth = max(0, depth - 1)
    return deepest
