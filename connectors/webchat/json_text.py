"""JSON as the web chat sends it: what ``json.dumps(value, ensure_ascii=False)`` writes.

Parts that are the same in many answers (a message's frame, its buttons) are encoded once and
joined into the array sent (``json_array``), byte for byte as encoding the whole would write.
"""

from __future__ import annotations

import json

to_json = json.JSONEncoder(ensure_ascii=False).encode
"""``json.dumps(value, ensure_ascii=False)``, with one encoder made once, not one a call."""


def json_array(parts: list[str]) -> str:
    """The array of the JSON texts ``parts``, with ``json.dumps``'s separator."""
    return "[" + ", ".join(parts) + "]"
