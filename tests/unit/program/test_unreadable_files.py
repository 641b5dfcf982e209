"""Files the validator cannot read are reported where they are, never skipped, and never
crash it: an alias bomb, a large flat file, links that lead nowhere, a folder named like a
file, a closed pipe; and two silent traps (a choice that leads nowhere, `no:` as a key)."""

from __future__ import annotations

import subprocess
import sys
import time

from tests.conftest import WriteProgram
from tests.unit.program.test_validator import MAIN_HEAD, Problems, one


def alias_bomb() -> str:
    lines = ["en:", "  a: &a {" + ", ".join(f"t{i}: 'word'" for i in range(9)) + "}"]
    previous = "a"
    for name in "bcdefghi":
        lines.append(
            f"  {name}: &{name} {{" + ", ".join(f"k{i}: *{previous}" for i in range(9)) + "}"
        )
        previous = name
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_a_located_error_not_memory_exhaustion(
    write: WriteProgram, problems: Problems
) -> None:
    sources = write(locales={"helpdesk.en.yml": alias_bomb()})
    started = time.monotonic()
    found = problems(sources)
    assert time.monotonic() - started < 10
    line = one(found, "aliases (`*name`)")
    assert line.startswith("locales/helpdesk.en.yml:") and ": error: " in line


def test_a_large_flat_file_is_read_not_called_nested(
    write: WriteProgram, problems: Problems
) -> None:
    many = "".join(f'  extra_{i}: "Text number {i}."\n' for i in range(110_000))
    sources = write(locales={"many.en.yml": "en:\n" + many})
    found = problems(sources)
    assert not [line for line in found if "nested too deeply" in line]
    assert one(found, "many.extra_0").startswith("locales/many.en.yml:2:")  # never used


def test_links_that_lead_nowhere_and_folders_named_like_files_are_reported(
    write: WriteProgram, problems: Problems
) -> None:
    sources = write()
    flows = sources.dialogues / "flows"
    (flows / "gone.yaml").symlink_to(flows / "missing.yaml")
    (flows / "loop_a.yaml").symlink_to(flows / "loop_b.yaml")
    (flows / "loop_b.yaml").symlink_to(flows / "loop_a.yaml")
    (sources.locales / "texts.yaml").mkdir()
    found = problems(sources)
    for name in ("gone.yaml", "loop_a.yaml", "loop_b.yaml"):
        assert one(found, f"flows/{name}:1:1").endswith(
            "this link leads nowhere (its target is missing, or links lead back to themselves); "
            "replace it with the file itself"
        )
    assert "is a folder, not a file" in one(found, "locales/texts.yaml:1:1")


def test_a_link_to_a_device_is_reported_not_skipped(
    write: WriteProgram, problems: Problems
) -> None:
    sources = write()
    (sources.locales / "extra.en.yml").symlink_to("/dev/zero")
    (sources.dialogues / "flows" / "pipe.yaml").symlink_to("/dev/null")
    found = problems(sources)
    for name in ("locales/extra.en.yml", "flows/pipe.yaml"):
        assert "this is not a file that can be read" in one(found, f"{name}:1:1")


def test_a_choice_that_leads_nowhere_is_an_error_at_its_line(
    write: WriteProgram, problems: Problems
) -> None:
    flow = MAIN_HEAD + (
        "    choices:\n      - id: later\n        label: main.question\n"
        "  bye:\n    say: main.bye\n    end: true\n"
    )
    found = problems(write(flows={"main": flow}))
    assert one(found, "leads nowhere").startswith(
        "dialogues/flows/main.yaml:9:9: error: the choice `later` leads nowhere: it asks `ask` again"
    )


def test_no_as_a_key_in_a_locale_file_is_reported(write: WriteProgram, problems: Problems) -> None:
    sources = write(
        locales={"helpdesk.en.yml": 'en:\n  offer: "A person will come."\n  no: "No"\n'}
    )
    line = one(problems(sources), "the key `no`")
    assert line.startswith("locales/helpdesk.en.yml:3:3: warning:") and 'quotes: "no"' in line


def test_validate_into_a_closed_pipe_ends_quietly(write: WriteProgram) -> None:
    sources = write(flows={"main": MAIN_HEAD + "  bye:\n    say: main.nope\n    end: true\n"})
    many = "".join(f'  unused_{i}: "Text {i}."\n' for i in range(5000))
    (sources.locales / "many.en.yml").write_text("en:\n" + many, encoding="utf-8")
    command = (
        f"{sys.executable} -m redirection_bot.cli validate --dialogues {sources.dialogues} "
        f"--locales {sources.locales} | head -1"
    )
    done = subprocess.run(
        command, check=False, shell=True, capture_output=True, text=True, timeout=60
    )
    assert done.stdout.count("\n") == 1
    assert done.stderr == ""
