"""What the word under the cursor names, read from the line as typed (it may not parse yet).

Lines and columns here count from 0 in characters, as the editor's position does once the
server has converted it.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

_FIELD = re.compile(r"^(?P<indent>\s*)(?:-\s+)?(?P<field>[A-Za-z_][A-Za-z0-9_]*)\s*:(?:\s|$)")
_ITEM = re.compile(r"^(?P<indent>\s*)-\s")
_WORD = re.compile(r"[A-Za-z0-9_.\-]+")


class NameKind(enum.Enum):
    """What a name in a dialogue file refers to."""

    NODE = "node"  # next:, start: a node of this flow
    PLACE = "place"  # goto: a flow, or flow.node
    FLOW = "flow"  # call:, entry:, home:, flow: (in the program's safety section)
    TEXT = "text"  # say:, label:, reask:, title:, words: and any known text key


_FIELD_KINDS = {
    "next": NameKind.NODE,
    "start": NameKind.NODE,
    "goto": NameKind.PLACE,
    "call": NameKind.FLOW,
    "entry": NameKind.FLOW,
    "home": NameKind.FLOW,
    "flow": NameKind.FLOW,
    "say": NameKind.TEXT,
    "label": NameKind.TEXT,
    "reask": NameKind.TEXT,
    "title": NameKind.TEXT,
    "words": NameKind.TEXT,
}


@dataclass(frozen=True, slots=True)
class Word:
    """A name on a line, the field it is the value of (if any) and its columns [start, end)."""

    text: str
    kind: NameKind | None
    start: int
    end: int


def field_kind(lines: list[str], line: int) -> NameKind | None:
    """What the value on ``line`` names, from its field, or the field of the list it is in."""
    if line >= len(lines):
        return None
    match = _FIELD.match(lines[line])
    if match is not None:
        return _FIELD_KINDS.get(match.group("field"))
    item = _ITEM.match(lines[line])
    if item is None:
        return None
    indent = len(item.group("indent"))
    for above in range(line - 1, -1, -1):
        owner = _FIELD.match(lines[above])
        if owner is not None and len(owner.group("indent")) < indent:
            return _FIELD_KINDS.get(owner.group("field"))
        if lines[above].strip() and _ITEM.match(lines[above]) is None and owner is None:
            return None
    return None


def word_at(lines: list[str], line: int, character: int) -> Word | None:
    """The name at (or just before) the cursor, if it is a value rather than a field name."""
    if line >= len(lines):
        return None
    text = lines[line]
    match = _FIELD.match(text)
    values_from = match.end("field") + 1 if match is not None else 0
    for found in _WORD.finditer(text, values_from):
        if found.start() <= character <= found.end():
            if text[: found.start()].rstrip().endswith("#") or "#" in text[: found.start()]:
                return None
            return Word(found.group(), field_kind(lines, line), found.start(), found.end())
    return None


def typing_at(lines: list[str], line: int, character: int) -> Word | None:
    """The partial name being typed at the cursor (possibly empty) and what it should name."""
    if line >= len(lines):
        return None
    text = lines[line][:character]
    kind = field_kind(lines, line)
    if kind is None:
        return None
    match = _FIELD.match(text)
    if match is None and _ITEM.match(text) is None:
        return None
    start = character
    while start > 0 and _WORD.fullmatch(text[start - 1]):
        start -= 1
    if match is not None and start < match.end():
        return None  # still typing the field's name
    end = character
    rest = lines[line]
    while end < len(rest) and _WORD.fullmatch(rest[end]):
        end += 1
    return Word(text[start:], kind, start, end)


def token_end(text: str, column: int) -> int:
    """Where the word or quoted text starting at ``column`` ends (for a diagnostic's range)."""
    if column >= len(text):
        return column
    if text[column] in "\"'":
        closing = text.find(text[column], column + 1)
        return closing + 1 if closing > 0 else len(text)
    found = _WORD.match(text, column)
    if found is not None and found.end() > column:
        return found.end()
    return column + 1
