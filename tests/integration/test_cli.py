"""The command line, run as a real process, as an author or operator would."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from redirection_bot.authoring.testing import write_program
from tests.helpers import REPOSITORY, bot_command


def run(*args: str, cwd: Path = REPOSITORY, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*bot_command(), *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_validate_the_shipped_program() -> None:
    done = run("validate")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 error(s)" in done.stdout


def test_validate_reports_located_errors_and_exits_1(tmp_path: Path) -> None:
    write_program(
        tmp_path,
        flows={
            "main": "flow: main\nstart: ask\nnodes:\n  ask:\n    say: main.qestion\n    end: true\n"
        },
    )
    done = run("validate", cwd=tmp_path)
    assert done.returncode == 1
    assert (
        "dialogues/flows/main.yaml:5:10: error: the text `main.qestion` is missing in `en` (did you mean "
        "`main.question`?)" in done.stdout
    )


def test_other_commands_refuse_an_invalid_program(tmp_path: Path) -> None:
    write_program(tmp_path, flows={"main": "flow: main\nstart: nowhere\nnodes: {}\n"})
    done = run("chat", cwd=tmp_path)
    assert done.returncode == 1
    assert "error:" in done.stderr and "run `redirection-bot validate`" in done.stderr


def test_chat_json_protocol() -> None:
    lines = [
        '{"choice": "go_on"}',
        '{"choice": "go_on"}',
        '{"choice": "stop"}',
        '{"choice": "no_thanks"}',
        "this is not json",
        '{"choice": "skip"}',
        '{"text": "9"}',
        '{"command": "back"}',
        '{"command": "dance"}',
        '{"plan": true}',
        '{"command": "stop"}',
    ]
    done = run("chat", "--json", stdin="\n".join(lines) + "\n")
    assert done.returncode == 0, done.stderr
    outputs = [json.loads(line) for line in done.stdout.splitlines()]
    assert outputs[0] == {
        "type": "message",
        "key": "welcome.hello",
        "choices": [],
        "text": "Hello, and thank you for being here. Reaching out about this takes courage.",
    }
    errors = [o for o in outputs if o["type"] == "error"]
    assert errors[0]["message"].startswith("that line is not JSON")
    assert errors[1]["message"].startswith("unknown command")
    keys = [o.get("key") for o in outputs]
    high = keys.index("motivation.importance.high")
    assert "motivation.importance.question" in keys[high:]  # `back` asked again
    plan = [o for o in outputs if o["type"] == "plan"][0]
    assert plan["text"].startswith("My plan\n")
    assert outputs[-1] == {"type": "end", "erase": True}


def test_chat_for_people_numbers_the_choices() -> None:
    done = run("chat", stdin="1\n1\n3\n2\nskip\n9\n/quit\n")
    assert done.returncode == 0
    assert "  3) I want to stop" in done.stdout
    assert "You chose 9." in done.stdout
    assert "\x1b[" not in done.stdout  # no colours when not a terminal


def test_chat_refuses_an_unknown_locale() -> None:
    done = run("chat", "--locale", "xx")
    assert done.returncode == 2
    assert "no locale 'xx'" in done.stderr


def test_conversation_tests_pass_and_cover_every_node() -> None:
    done = run("test", "--coverage")
    assert done.returncode == 0, done.stdout
    assert "0 failed" in done.stdout
    coverage = [line for line in done.stdout.splitlines() if line.startswith("  ")]
    flows = [line for line in coverage if not line.startswith("    ") and " nodes, " in line]
    assert flows and all(" nodes, 100%;" in line for line in flows), coverage


def test_a_failing_conversation_test_names_its_line(tmp_path: Path) -> None:
    script = tmp_path / "fails.yaml"
    script.write_text(
        "tests:\n  - name: wrong expectation\n    steps:\n      - choose: go_on\n      - bot: menu.question\n"
    )
    done = run("test", str(script))
    assert done.returncode == 1
    assert (
        f"FAIL {script}:5:9: wrong expectation: expected the bot to say `menu.question`, but it said: "
        "`welcome.anonymity`, `welcome.limits`" in done.stdout
    )


def test_graph_mermaid_and_dot() -> None:
    mermaid = run("graph", "motivation")
    assert mermaid.returncode == 0
    assert mermaid.stdout.startswith("flowchart TD")
    assert (
        'motivation__importance_reflect -- "importance >= 7" --> motivation__importance_high'
        in mermaid.stdout
    )
    dot = run("graph", "motivation", "--format", "dot")
    assert dot.stdout.startswith('digraph "motivation"')
    assert '"motivation.summary" -> "menu.choose" [label="menu"];' in dot.stdout
    assert run("graph", "motivaton").returncode == 2


def test_counts_from_a_sqlite_file_that_cannot_be_opened_say_so(tmp_path: Path) -> None:
    """`evaluation` and `outcomes` before `serve` ever made the store's folder: one clear
    line naming the setting, not a traceback."""
    key = run("store-key").stdout.strip().splitlines()[-1]
    config = tmp_path / "bot.yaml"
    config.write_text(
        f"store:\n  backend: sqlite\n  path: {tmp_path / 'none' / 'db.sqlite3'}\n  keys: [{key}]\n"
    )
    for command in ("evaluation", "outcomes"):
        done = run(command, "--config", str(config))
        assert done.returncode == 1
        assert "Traceback" not in done.stderr
        assert "store.path: cannot open the SQLite file" in done.stderr


def test_counts_with_a_broken_configuration_are_refused_as_serve_refuses_it(
    tmp_path: Path,
) -> None:
    config = tmp_path / "bot.yaml"
    config.write_text("store:\n  backend: sqlite\n  keyz: []\n")
    for command in ("evaluation", "outcomes", "serve"):
        done = run(command, "--config", str(config))
        assert done.returncode == 2, command
        assert "bot.yaml:3:3: error: `keyz` is not a field" in done.stderr
        assert "error: error" not in done.stderr.replace(str(tmp_path), "")
