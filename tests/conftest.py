"""Fixtures shared by every test: small programs written to a temporary folder."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from redirection_bot.authoring.testing import diagnose, load, write_program
from redirection_bot.program.load import LoadedProgram, ProgramSources

pytest_plugins = [
    "pytester",
    "tests.fixtures.components",
    "tests.fixtures.synapse",
    "tests.fixtures.redis",
    "tests.fixtures.browser",
    "tests.fixtures.model_rebuild",
]

# `serve` processes the tests start keep their loaded program here, not in the user's cache.
os.environ.setdefault("REDIRECTION_BOT_PROGRAM_CACHE", tempfile.mkdtemp(prefix="rb-program-"))

REPOSITORY = Path(__file__).resolve().parent.parent
SHIPPED = ProgramSources(REPOSITORY / "dialogues", REPOSITORY / "locales")

WriteProgram = Callable[..., ProgramSources]


@pytest.fixture
def write(tmp_path: Path) -> WriteProgram:
    """Write the minimal program with some files replaced; returns its sources."""

    def writer(**files: object) -> ProgramSources:
        return write_program(tmp_path, **files)  # type: ignore[arg-type]

    return writer


@pytest.fixture
def problems(tmp_path: Path) -> Callable[[ProgramSources], list[str]]:
    """Every diagnostic of a program, formatted as an author sees it."""

    def formatted(sources: ProgramSources) -> list[str]:
        return [d.format() for d in diagnose(sources, tmp_path).items]

    return formatted


@pytest.fixture
def loaded_minimal(tmp_path: Path) -> LoadedProgram:
    return load(write_program(tmp_path), tmp_path)


@pytest.fixture(scope="session")
def shipped() -> LoadedProgram:
    return load(SHIPPED, REPOSITORY)
