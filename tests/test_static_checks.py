"""The code base stays ruff-clean and passes mypy --strict (run here, so that the one test
command checks everything CI checks)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers import REPOSITORY


@pytest.mark.slow
def test_ruff_is_clean() -> None:
    lint = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "src", "connectors", "tests", "bench"],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    formatting = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "src", "connectors", "tests", "bench"],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=False,
    )
    assert formatting.returncode == 0, formatting.stdout + formatting.stderr


@pytest.mark.slow
def test_mypy_strict_passes_on_the_core_and_connectors() -> None:
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "src/redirection_bot", "connectors"],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
