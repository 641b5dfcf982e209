"""The one YAML reader keeps what authors wrote, where they wrote it, and never crashes."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redirection_bot.authoring.testing import load, write_program
from redirection_bot.diagnostics import Diagnostics
from redirection_bot.errors import AuthoringError
from redirection_bot.language.yaml_source import (
    YMapping,
    YScalar,
    YSequence,
    read_yaml_file,
    read_yaml_text,
)
from redirection_bot.program.load import ProgramSources


def read(text: str) -> tuple[object, list[str]]:
    diagnostics = Diagnostics()
    node = read_yaml_text(text, "f.yaml", diagnostics)
    return node, [d.format() for d in diagnostics.items]


def test_scalars_keep_the_authors_text_and_the_yaml11_reading() -> None:
    node, found = read("a: yes\nb: 1.0\nc: 'no'\nd: 010\n")
    assert found == []
    assert isinstance(node, YMapping)
    values = {key.text: value for key, value in node}
    assert values["a"] == YScalar("yes", values["a"].span, "bool", False)
    assert isinstance(values["b"], YScalar) and (values["b"].text, values["b"].kind) == (
        "1.0",
        "float",
    )
    assert isinstance(values["c"], YScalar) and (values["c"].text, values["c"].quoted) == (
        "no",
        True,
    )
    assert isinstance(values["d"], YScalar) and values["d"].text == "010"


def test_positions_are_one_based() -> None:
    node, _found = read("top:\n  - first\n  - second\n")
    assert isinstance(node, YMapping)
    sequence = node.get("top")
    assert isinstance(sequence, YSequence)
    assert [(item.span.line, item.span.column) for item in sequence] == [(2, 5), (3, 5)]


def test_duplicate_keys_are_errors_not_silently_dropped() -> None:
    _node, found = read("a: 1\nb: 2\na: 3\n")
    assert found == [
        "f.yaml:3:1: error: `a` appears twice here (first at line 1); YAML would silently keep only the last one"
    ]


def test_syntax_error_is_located() -> None:
    node, found = read("a:\n  - [b, c\n")
    assert node is None
    assert found[0].startswith("f.yaml:3:1: error: YAML syntax error")


def test_tabs_get_a_hint() -> None:
    _node, found = read("a:\n\tb: 1\n")
    assert "use spaces, not tabs" in found[0]


def test_recursive_alias_is_refused() -> None:
    _node, found = read("a: &x [1, *x]\n")
    assert any("refers to itself" in line for line in found)


def test_alias_bombs_do_not_explode() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n"
    for level in range(ord("b"), ord("k")):
        previous = chr(level - 1)
        bomb += f"{chr(level)}: &{chr(level)} [*{previous}, *{previous}, *{previous}, *{previous}, *{previous}]\n"
    node, found = read(bomb)
    # Shared nodes keep reading cheap, but anything that walks the result would unfold
    # millions of values: a located error at the anchor instead.
    assert node is None
    assert len(found) == 1 and "aliases (`*name`) of this anchor repeat more than" in found[0]
    _node, found = read("a: &a [x, y]\nb: [*a, *a]\n")
    assert found == []  # ordinary reuse is fine


def test_custom_tags_and_merge_keys_are_refused() -> None:
    _node, found = read("a: !!python/object:os.system echo\n")
    assert any("YAML tags such as" in line for line in found)
    _node, found = read("base: &b {x: 1}\nderived:\n  <<: *b\n")
    assert any("merge keys are not used here" in line for line in found)


def test_second_document_is_an_error() -> None:
    _node, found = read("a: 1\n---\nb: 2\n")
    assert found == ["f.yaml:3:1: error: a file holds one document; this `---` starts a second one"]


def test_invalid_utf8_is_located(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"a: fine\nb: caf\xe9\n")
    diagnostics = Diagnostics()
    assert read_yaml_file(path, "bad.yaml", diagnostics) is None
    assert [d.format() for d in diagnostics.items] == [
        "bad.yaml:2:7: error: this file is not valid UTF-8 text; save it as UTF-8 in your editor"
    ]


def test_deep_nesting_is_reported_not_crashing() -> None:
    _node, found = read("[" * 5000 + "]" * 5000)
    assert found and "error" in found[0]


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_reader_never_raises(text: str) -> None:
    read(text)


yaml_fragments = st.sampled_from(
    [
        "flow: main\n",
        "start: ask\n",
        "nodes:\n",
        "  ask:\n",
        "    say: main.question\n",
        "    input: mood\n",
        "    next: bye\n",
        "  bye:\n",
        "    end: true\n",
        "    end: yes\n",
        "  - x\n",
        "- [\n",
        "{a: 1}\n",
        "a: *b\n",
        "    choices:\n      - id: a\n",
        "\t",
        ": :\n",
        "!!str\n",
        "&x\n",
        "'\n",
        "   \n",
        "    if:\n      - when: (\n",
    ]
)


@given(st.lists(yaml_fragments, max_size=14), st.sampled_from(["main", "helpdesk"]))
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_loader_raises_only_its_own_located_error(
    tmp_path: Path, parts: list[str], flow_name: str
) -> None:
    sources: ProgramSources = write_program(tmp_path, flows={flow_name: "".join(parts)})
    try:
        load(sources)
    except AuthoringError as error:
        assert error.diagnostics
        assert all(d.span.line >= 1 and d.span.column >= 1 for d in error.diagnostics)


@given(st.binary(max_size=200))
@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_loader_survives_any_bytes_in_a_locale_file(tmp_path: Path, data: bytes) -> None:
    sources = write_program(tmp_path)
    (sources.locales / "main.en.yml").write_bytes(data)
    try:
        load(sources)
    except AuthoringError as error:
        assert error.diagnostics
