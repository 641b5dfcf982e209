"""``redirection-bot serve`` as a process, for the serve and browser tests."""

from __future__ import annotations

import os
import subprocess
import urllib.error
import urllib.request

from tests.helpers import REPOSITORY, bot_command


def server_environment() -> dict[str, str]:
    """The environment for a test server: the admin listener (metrics) on any free port, so
    that servers started by several tests never collide."""
    return {**os.environ, "REDIRECTION_BOT_ADMIN__PORT": "0"}


def fetch(url: str, data: bytes | None = None) -> tuple[int, str]:
    """Status and body of a GET (or a form POST with ``data``), whatever the status."""
    try:
        with urllib.request.urlopen(url, data=data, timeout=5) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def status_of(url: str) -> int:
    """The status of a GET, 0 while nothing answers."""
    try:
        return fetch(url)[0]
    except OSError:
        return 0


def serve_until_it_ends(*arguments: str, **environment: str) -> subprocess.CompletedProcess[str]:
    """``redirection-bot serve`` with ``arguments`` that make it stop by itself (a mistake in
    its configuration, a port in use): its exit status and what it said."""
    return subprocess.run(
        [*bot_command(), "serve", *arguments],
        cwd=REPOSITORY,
        env={**server_environment(), **environment},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
