"""The one YAML reader: every clinician-written file goes through here.

PyYAML's ``safe_load`` keeps the last of two duplicate keys and reads ``yes``, ``no``,
``on`` and ``off`` as booleans and ``1.0`` as a number. We ``compose`` instead: the
result keeps every scalar exactly as the author wrote it, with its position, and the
YAML 1.1 reading of a plain scalar is kept beside it so that a check can say where a
surprise lies. Interpreting a scalar (as an id, a number, a boolean) is the caller's job,
by what the place in the schema expects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from redirection_bot.diagnostics import Diagnostics, Span

# libyaml's parser keeps positions too, and is several times faster than the pure-Python one.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TAG_PREFIX = "tag:yaml.org,2002:"
_MAX_EXPANDED = 100_000
"""How many values aliases (``*name``) may repeat in one file: enough for any real reuse,
far below what an alias bomb (aliases of aliases) would make."""
_YAML_SUFFIXES = (".yaml", ".yml")
_STANDARD_TAGS = frozenset(
    _TAG_PREFIX + name
    for name in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq", "merge")
)


@dataclass(frozen=True, slots=True)
class YScalar:
    """A scalar as written. ``kind`` is what YAML 1.1 would make of it (str, bool, int, ...)."""

    text: str
    span: Span
    kind: str
    quoted: bool

    @property
    def value_span(self) -> Span:
        """Where the scalar's first character is (after an opening quote)."""
        return self.span.shifted(1) if self.quoted else self.span


@dataclass(frozen=True, slots=True)
class YMapping:
    """A mapping; keys are scalars, kept in the author's order."""

    items: tuple[tuple[YScalar, YNode], ...]
    span: Span

    def get(self, key: str) -> YNode | None:
        for item_key, value in self.items:
            if item_key.text == key:
                return value
        return None

    def key_node(self, key: str) -> YScalar | None:
        for item_key, _value in self.items:
            if item_key.text == key:
                return item_key
        return None

    def keys(self) -> list[str]:
        return [key.text for key, _value in self.items]

    def __iter__(self) -> Iterator[tuple[YScalar, YNode]]:
        return iter(self.items)


@dataclass(frozen=True, slots=True)
class YSequence:
    """A sequence of nodes."""

    items: tuple[YNode, ...]
    span: Span

    def __iter__(self) -> Iterator[YNode]:
        return iter(self.items)


YNode = YScalar | YMapping | YSequence


def describe(node: YNode) -> str:
    """A clinician's word for the kind of node, for messages like 'expected a list, found text'."""
    if isinstance(node, YMapping):
        return "a set of named fields"
    if isinstance(node, YSequence):
        return "a list"
    if node.kind == "null":
        return "nothing"
    if node.kind == "bool" and not node.quoted:
        return f"the yes/no value `{node.text}`"
    if node.kind in ("int", "float") and not node.quoted:
        return f"the number `{node.text}`"
    return f"the text `{node.text}`"


def report_unreadable_entries(
    folder: Path, diagnostics: Diagnostics, display: Callable[[Path], str]
) -> None:
    """Report what under ``folder`` looks like a YAML file but cannot be read as one: a link
    that leads nowhere (or loops), a link to a folder (not followed), a folder named
    ``x.yaml``, a device, pipe or socket (``/dev/zero`` would never end). Readers skip these;
    without this they would vanish silently."""
    if not folder.is_dir():
        return
    for path in sorted(folder.rglob("*")):
        if any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        named_yaml = path.suffix in _YAML_SUFFIXES
        if path.is_symlink() and (not path.exists() or path.is_dir()):
            if not path.exists():
                diagnostics.error(
                    Span(display(path), 1, 1),
                    "this link leads nowhere (its target is missing, or links lead back to "
                    "themselves); replace it with the file itself",
                )
            elif path.is_dir():
                diagnostics.error(
                    Span(display(path), 1, 1),
                    "this is a link to a folder, and links to folders are not followed; "
                    "move the files here instead",
                )
        elif named_yaml and path.is_dir():
            diagnostics.error(
                Span(display(path), 1, 1),
                f"this is a folder, not a file, although its name ends in `{path.suffix}`; "
                "its files are read, but rename the folder so nobody mistakes it for a file",
            )
        elif named_yaml and not path.is_file():
            diagnostics.error(
                Span(display(path), 1, 1),
                "this is not a file that can be read (a device, a pipe or a socket, or a link "
                "to one); put the file itself here",
            )


def read_yaml_file(path: Path, display_path: str, diagnostics: Diagnostics) -> YNode | None:
    """Read one YAML file; on any problem, add a located diagnostic and return None."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        diagnostics.cannot_read(
            Span(display_path, 1, 1), f"cannot read this file: {error.strerror}"
        )
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line, column = _line_column(raw[: error.start].decode("utf-8", "replace"))
        diagnostics.cannot_read(
            Span(display_path, line, column),
            "this file is not valid UTF-8 text; save it as UTF-8 in your editor",
        )
        return None
    return read_yaml_text(text, display_path, diagnostics)


def read_yaml_text(text: str, display_path: str, diagnostics: Diagnostics) -> YNode | None:
    """Compose YAML text into located nodes; problems become diagnostics, never exceptions."""
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        documents = list(yaml.compose_all(text, Loader=_LOADER))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        span = _mark_span(display_path, mark) if mark else Span(display_path, 1, 1)
        problem = error.problem or error.context or "this is not valid YAML"
        hint = _syntax_hint(problem, _char_at(text, mark), _line_before(text, mark))
        diagnostics.cannot_read(span, f"YAML syntax error: {problem}{hint}")
        return None
    except yaml.YAMLError as error:
        position = getattr(error, "position", 0) or 0
        line, column = _line_column(text[:position])
        diagnostics.cannot_read(Span(display_path, line, column), f"YAML error: {error}")
        return None
    except RecursionError:
        diagnostics.cannot_read(Span(display_path, 1, 1), "this file is nested too deeply to read")
        return None
    documents = [document for document in documents if document is not None]
    if not documents:
        return None
    if len(documents) > 1:
        second = documents[1]
        diagnostics.error(
            _mark_span(display_path, second.start_mark),
            "a file holds one document; this `---` starts a second one",
        )
    converter = _Converter(display_path, diagnostics)
    try:
        return converter.convert(documents[0])
    except AliasBomb as bomb:
        diagnostics.cannot_read(
            bomb.anchor,
            f"aliases (`*name`) of this anchor repeat more than {_MAX_EXPANDED} values, more "
            "than any program needs; write the texts out instead of repeating them by alias",
        )
        return None
    except RecursionError:
        diagnostics.cannot_read(Span(display_path, 1, 1), "this file is nested too deeply to read")
        return None


def _syntax_hint(problem: str, char: str, before: str) -> str:
    if "mapping values are not allowed" in problem:
        if ": " in before or before.rstrip().endswith(":"):
            return " (a text containing `: ` needs quotes around it)"
        return (
            " (check the indentation: this line is indented more or less than the lines "
            "around it that belong with it)"
        )
    if "did not find expected key" in problem or "expected <block end>" in problem:
        return " (check the indentation: fields that belong together start in the same column)"
    if char == "\t" or "'\\t'" in problem:
        return " (use spaces, not tabs, to indent)"
    return ""


def _line_before(text: str, mark: yaml.Mark | None) -> str:
    """The text of the mark's line before the mark."""
    if mark is None:
        return ""
    lines = text.split("\n")
    return lines[mark.line][: mark.column] if mark.line < len(lines) else ""


def _char_at(text: str, mark: yaml.Mark | None) -> str:
    if mark is None:
        return ""
    lines = text.split("\n")
    if mark.line >= len(lines) or mark.column >= len(lines[mark.line]):
        return ""
    return lines[mark.line][mark.column]


def _line_column(prefix: str) -> tuple[int, int]:
    line = prefix.count("\n") + 1
    column = len(prefix) - (prefix.rfind("\n") + 1) + 1
    return line, column


def _mark_span(path: str, mark: yaml.Mark) -> Span:
    return Span(path, mark.line + 1, mark.column + 1)


class AliasBomb(Exception):
    """Aliases in a file repeat more values than any program needs."""

    def __init__(self, anchor: Span) -> None:
        super().__init__(anchor.format())
        self.anchor = anchor


class _Converter:
    """Turns composed PyYAML nodes into located, immutable nodes, checking as it goes."""

    def __init__(self, path: str, diagnostics: Diagnostics) -> None:
        self._path = path
        self._diagnostics = diagnostics
        self._done: dict[int, YNode] = {}
        self._sizes: dict[int, int] = {}
        self._active: set[int] = set()
        self._repeated = 0

    def convert(self, node: yaml.Node) -> YNode:
        known = self._done.get(id(node))
        if known is not None:
            # An alias: the same node again. Count what it repeats, so that aliases of
            # aliases cannot make a small file unfold into millions of values.
            self._repeated += self._expanded_size(node)
            if self._repeated > _MAX_EXPANDED:
                raise AliasBomb(_mark_span(self._path, node.start_mark))
            return known
        span = _mark_span(self._path, node.start_mark)
        if id(node) in self._active:
            self._diagnostics.error(span, "this alias refers to itself; remove the loop")
            return YScalar("", span, "null", False)
        if node.tag not in _STANDARD_TAGS:
            self._diagnostics.error(span, f"YAML tags such as `{node.tag}` are not used here")
        self._active.add(id(node))
        try:
            result = self._convert_new(node, span)
        finally:
            self._active.discard(id(node))
        self._done[id(node)] = result
        return result

    def _expanded_size(self, node: yaml.Node) -> int:
        """How many values a node stands for, counting each alias as what it repeats: worked
        out once a node is repeated (most files repeat none), each node's once."""
        known = self._sizes.get(id(node))
        if known is not None:
            return known
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        else:
            return 1
        size = self._sizes[id(node)] = 1 + sum(self._expanded_size(child) for child in children)
        return size

    def _convert_new(self, node: yaml.Node, span: Span) -> YNode:
        if isinstance(node, yaml.ScalarNode):
            kind = node.tag.removeprefix(_TAG_PREFIX) if node.tag.startswith(_TAG_PREFIX) else "str"
            return YScalar(str(node.value), span, kind, node.style in ("'", '"'))
        if isinstance(node, yaml.SequenceNode):
            return YSequence(tuple(self.convert(item) for item in node.value), span)
        assert isinstance(node, yaml.MappingNode)
        return self._convert_mapping(node, span)

    def _convert_mapping(self, node: yaml.MappingNode, span: Span) -> YMapping:
        items: list[tuple[YScalar, YNode]] = []
        seen: dict[str, YScalar] = {}
        for key_node, value_node in node.value:
            key = self.convert(key_node)
            if not isinstance(key, YScalar):
                self._diagnostics.error(key.span, "a field name must be a plain word, not a list")
                continue
            if key.kind == "merge" and not key.quoted:
                self._diagnostics.error(key.span, "`<<` merge keys are not used here")
                continue
            earlier = seen.get(key.text)
            if earlier is not None:
                self._diagnostics.error(
                    key.span,
                    f"`{key.text}` appears twice here (first at line {earlier.span.line}); "
                    "YAML would silently keep only the last one",
                )
                continue
            seen[key.text] = key
            items.append((key, self.convert(value_node)))
        return YMapping(tuple(items), span)
