"""The command line as an operator meets it: every command documented, every option's default said."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from redirection_bot.cli import COMMANDS, build_parser
from tests.helpers import REPOSITORY


def test_every_command_has_a_row_in_the_operators_guide() -> None:
    guide = (REPOSITORY / "docs" / "operators.md").read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `redirection-bot ([a-z0-9-]+)", guide, flags=re.MULTILINE))
    assert {module.replace("_", "-") for module in COMMANDS} <= rows


@pytest.mark.parametrize("command", ["actions", "serve", "studio"])
def test_a_listening_commands_help_says_its_port(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        build_parser(command).parse_args([command, "--help"])
    said = " ".join(capsys.readouterr().out.split())
    assert re.search(r"--port PORT .*\(default:? [^)]*\)", said), said


def test_help_lists_every_command_without_importing_one() -> None:
    probe = (
        "import contextlib, io, sys\n"
        "from redirection_bot.cli import main\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    main(['--help'])\n"
        "print(out.getvalue())\n"
        "print(sorted(m for m in sys.modules if m.startswith('redirection_bot.commands.')))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    *shown, imported = done.stdout.strip().splitlines()
    assert imported == "[]"
    for name in COMMANDS:
        assert any(line.split()[:1] == [name] for line in shown), name
