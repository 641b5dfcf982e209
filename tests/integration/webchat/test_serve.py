"""``redirection-bot serve`` as a real process: the README's run command, a configuration
file, located configuration errors, and a clean stop."""

from __future__ import annotations

import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.helpers import REPOSITORY, bot_command, free_port, wait_until
from tests.integration.webchat.process import (
    fetch,
    serve_until_it_ends,
    server_environment,
    status_of,
)


def answers(url: str) -> bool:
    return status_of(url) == 200


class Server:
    def __init__(self, *args: str, environment: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [*bot_command(), *args],
            cwd=REPOSITORY,
            env=environment or server_environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def stop(self) -> tuple[int, str]:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        _out, err = self.process.communicate(timeout=30)
        return self.process.returncode, err


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:
        server.stop()


def test_serve_answers_and_stops_cleanly(servers: list[Server]) -> None:
    port = free_port()
    server = Server("serve", "--port", str(port))
    servers.append(server)
    wait_until(lambda: answers(f"http://127.0.0.1:{port}/"), what="the web chat to answer")
    status, html = fetch(f"http://127.0.0.1:{port}/")
    assert status == 200 and 'action="/start"' in html
    code, err = server.stop()
    assert code == 0, err
    assert f"web chat: http://127.0.0.1:{port}/" in err


def test_the_readme_command_serves_on_127_0_0_1_port_8080(servers: list[Server]) -> None:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", 8080)) == 0:
            pytest.skip("something else listens on port 8080")
    server = Server("serve")
    servers.append(server)
    wait_until(lambda: answers("http://127.0.0.1:8080/"), what="the web chat on port 8080")
    assert server.stop()[0] == 0


def test_a_configuration_file_is_applied(servers: list[Server], tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "bot.yaml"
    config.write_text(
        f"connectors:\n  webchat:\n    port: {port}\n    rest: false\nlimits:\n  max_sessions: 1\n",
        encoding="utf-8",
    )
    server = Server("serve", "--config", str(config))
    servers.append(server)
    base = f"http://127.0.0.1:{port}"
    wait_until(lambda: answers(base + "/"), what="the configured web chat")
    assert fetch(base + "/start", b"locale=en")[0] == 200
    assert fetch(base + "/start", b"locale=en")[0] == 200  # max_sessions: 1 makes room
    assert fetch(base + "/webhooks/rest/webhook", b"{}")[0] == 404  # rest: false


def test_configuration_errors_are_located_and_nothing_starts(tmp_path: Path) -> None:
    config = tmp_path / "bot.yaml"
    config.write_text("limits:\n  max_sesions: 5\n", encoding="utf-8")
    done = serve_until_it_ends("--config", str(config))
    assert done.returncode == 2
    assert (
        f"{config}:2:3: error: `max_sesions` is not a field of the `limits` section "
        "(did you mean `max_sessions`?)" in done.stderr
    )


def test_a_port_in_use_is_said_plainly_and_metrics_give_way(tmp_path: Path) -> None:
    with socket.socket() as taken, socket.socket() as admin_taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        admin_taken.bind(("127.0.0.1", 0))
        admin_taken.listen()
        port, admin_port = taken.getsockname()[1], admin_taken.getsockname()[1]
        done = serve_until_it_ends("--port", str(port), REDIRECTION_BOT_ADMIN__PORT=str(admin_port))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert f"the web chat cannot listen on 127.0.0.1:{port}: address already in use" in (
        done.stderr
    )
    assert "choose another with --port" in done.stderr
    assert "web chat: http" not in done.stderr  # no address is given that nothing listens on
    # The admin listener's port was taken too: a warning, and the chat would have run.
    assert f"the admin listener (metrics) cannot listen on 127.0.0.1:{admin_port}" in done.stderr


def test_the_chat_runs_when_the_metrics_port_is_taken(servers: list[Server]) -> None:
    with socket.socket() as admin_taken:
        admin_taken.bind(("127.0.0.1", 0))
        admin_taken.listen()
        admin_port = admin_taken.getsockname()[1]
        port = free_port()
        environment = {**server_environment(), "REDIRECTION_BOT_ADMIN__PORT": str(admin_port)}
        server = Server("serve", "--port", str(port), environment=environment)
        servers.append(server)
        wait_until(lambda: answers(f"http://127.0.0.1:{port}/"), what="the web chat to answer")
        code, err = server.stop()
    assert code == 0 and "The chat runs without metrics." in err


def test_a_restart_reads_the_kept_program_and_a_conversation_works(
    servers: list[Server], tmp_path: Path
) -> None:
    environment = {**server_environment(), "REDIRECTION_BOT_PROGRAM_CACHE": str(tmp_path)}
    said, files = [], []
    for _ in range(2):
        port = free_port()
        server = Server("-v", "serve", "--port", str(port), environment=environment)
        page = f"http://127.0.0.1:{port}/"
        wait_until(lambda page=page: answers(page), what="the web chat to answer")
        status, html = fetch(f"{page}start", data=b"locale=es")
        assert status == 200 and "Hola" in html
        code, err = server.stop()
        assert code == 0, err
        said.append(err)
        files.append({path.name: path.stat().st_ino for path in tmp_path.iterdir()})
    assert "program loaded from its kept copy" not in said[0]
    assert "program loaded from its kept copy" in said[1]
    kinds = sorted(name.partition("-")[0] for name in files[0])
    # the program, its dataclasses' code, and the templates of the three pages drawn
    assert kinds == ["dataclass", "program", "template", "template", "template"]
    # The restart found everything it needed kept: nothing new to keep, nothing written.
    assert files[0] == files[1]


def test_with_the_kept_copy_off_nothing_is_written(servers: list[Server], tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    environment = {
        **server_environment(),
        "REDIRECTION_BOT_PROGRAM_CACHE": "off",
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / ".cache"),
    }
    port = free_port()
    server = Server("serve", "--port", str(port), environment=environment)
    servers.append(server)
    wait_until(lambda: answers(f"http://127.0.0.1:{port}/"), what="the web chat to answer")
    assert list(home.iterdir()) == []
