"""A small program in English and Spanish, written to a temporary folder, and the i18n command."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from redirection_bot.cli import main
from redirection_bot.program.load import ProgramSources
from tests.bilingual import write_bilingual

I18n = Callable[..., tuple[int, str, str]]


@pytest.fixture
def bilingual(tmp_path: Path) -> ProgramSources:
    return write_bilingual(tmp_path)


@pytest.fixture
def i18n(
    bilingual: ProgramSources, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> I18n:
    """Run ``redirection-bot i18n ACTION ...`` on the bilingual program: (status, out, err)."""
    monkeypatch.chdir(bilingual.dialogues.parent)

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["i18n", *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
