"""Helpers for tests that start real processes: free ports, polling with a deadline."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent


def sender_id(name: str) -> str:
    """A REST sender for ``name`` that the channel accepts (128 bits' worth of hexadecimal
    digits), the same in every run so that a failure reads the same."""
    return hashlib.sha256(name.encode()).hexdigest()[:32]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def bot_command() -> list[str]:
    """The installed console script, next to this interpreter."""
    script = Path(sys.executable).parent / "redirection-bot"
    if script.exists():
        return [str(script)]
    found = shutil.which("redirection-bot")
    assert found, "redirection-bot is not installed; run: pip install -e '.[test]'"
    return [found]


def wait_until(check: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise TimeoutError(f"{what} not met within {timeout} s")


async def async_wait_until(
    check: Callable[[], Awaitable[bool]], timeout: float = 20.0, what: str = "condition"
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(f"{what} not met within {timeout} s")


REQUIRE_COMPONENTS = "REDIRECTION_BOT_TESTS_REQUIRE_COMPONENTS"
"""Set it (CI sets ``CI``, which counts the same) and a missing real component fails its tests."""


def components_required() -> bool:
    """Whether a test of a real component (Redis, Synapse, Chromium, w3m) may not skip."""
    return bool(os.environ.get(REQUIRE_COMPONENTS) or os.environ.get("CI"))


def require_ci(reason: str) -> None:
    """Skip when a system component is missing; in CI, fail."""
    import pytest

    if components_required():
        pytest.fail(f"{reason} (scripts/install-test-components installs it)")
    pytest.skip(reason)
