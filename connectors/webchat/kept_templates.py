"""The web chat's page templates, kept compiled between starts.

jinja2 compiles a template to Python code the first time a page needs it: the first page after
a restart waited for its two templates (about 20 ms here) and the first chat page for its own
(about 30 ms). ``KeptTemplates`` is jinja2's bytecode cache over the folder where ``serve``
keeps what it made (``redirection_bot.api.cache_folder``): the same folder, the same trust
(this user's alone), each file checked whole before it is read (``read_kept``). jinja2 itself
checks that the kept code was made from the same template, by the same jinja2 and Python, and
compiles it again when not.
"""

from __future__ import annotations

from pathlib import Path

import jinja2
from jinja2.bccache import Bucket

from redirection_bot.api import read_kept, write_kept

WHAT = "template code"
HEADER = b"redirection-bot template code, format 1\n"
PREFIX = "template-"


class KeptTemplates(jinja2.BytecodeCache):
    """jinja2's compiled templates, one file each in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def load_bytecode(self, bucket: Bucket) -> None:
        kept = read_kept(self.folder, self._path(bucket), HEADER, bytes, WHAT)
        if kept is not None:
            bucket.bytecode_from_string(kept)  # left empty unless jinja2 finds it its own

    def dump_bytecode(self, bucket: Bucket) -> None:
        write_kept(self.folder, self._path(bucket), HEADER, bucket.bytecode_to_string(), WHAT)

    def _path(self, bucket: Bucket) -> Path:
        return self.folder / f"{PREFIX}{bucket.key}.jinja"
