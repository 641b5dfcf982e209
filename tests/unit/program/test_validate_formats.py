"""``validate --format json|sarif``: the same diagnostics, for scripts and for CI pages."""

from __future__ import annotations

import json

import pytest

from redirection_bot.cli import main
from tests.conftest import WriteProgram
from tests.unit.program.test_validator import MAIN_HEAD

BROKEN = MAIN_HEAD + "  bye:\n    say: main.byee\n    end: true\n"


def run_validate(
    write: WriteProgram, capsys: pytest.CaptureFixture[str], form: str
) -> tuple[int, dict[str, object]]:
    sources = write(flows={"main": BROKEN})
    folders = ["--dialogues", str(sources.dialogues), "--locales", str(sources.locales)]
    code = main(["validate", *folders, "--format", form])
    return code, json.loads(capsys.readouterr().out)


def test_json_lists_each_problem_with_its_place(
    write: WriteProgram, capsys: pytest.CaptureFixture[str]
) -> None:
    code, found = run_validate(write, capsys, "json")
    assert code == 1
    items = found["diagnostics"]
    assert isinstance(items, list)
    missing = next(d for d in items if "main.byee" in d["message"])
    assert missing["file"].endswith("dialogues/flows/main.yaml")
    assert (missing["line"], missing["column"], missing["severity"]) == (9, 10, "error")
    assert found["errors"] == sum(1 for d in items if d["severity"] == "error") >= 1


def test_sarif_is_version_2_1_0_with_regions(
    write: WriteProgram, capsys: pytest.CaptureFixture[str]
) -> None:
    code, found = run_validate(write, capsys, "sarif")
    assert code == 1
    assert found["version"] == "2.1.0" and "sarif-2.1.0" in str(found["$schema"])
    run = found["runs"][0]  # type: ignore[index]
    assert run["tool"]["driver"]["name"] == "redirection-bot"
    result = next(r for r in run["results"] if "main.byee" in r["message"]["text"])
    assert result["level"] == "error"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"].endswith("dialogues/flows/main.yaml")
    assert location["region"] == {"startLine": 9, "startColumn": 10}
