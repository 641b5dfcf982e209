"""The web chat's templates kept compiled between starts (webchat/kept_templates.py): a
restart renders its pages from the kept code, and a kept file that is not right only means
compiling again."""

from __future__ import annotations

import logging
from pathlib import Path

import jinja2
import pytest

from redirection_bot_connectors.webchat.kept_templates import PREFIX
from redirection_bot_connectors.webchat.pages import template_environment

PAGE = {"name": "blank.html"}


def compiled_on_render(folder: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, int]:
    """A start's first render of a page: its HTML, and how many templates were compiled."""
    compiled = []
    original = jinja2.Environment.compile

    def counting(self: jinja2.Environment, *args: object, **kwargs: object) -> object:
        compiled.append(args)
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    html = template_environment(folder).get_template(PAGE["name"]).render()
    monkeypatch.undo()
    return html, len(compiled)


def test_a_restart_renders_from_the_kept_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, compiled = compiled_on_render(tmp_path, monkeypatch)
    assert compiled == 1 and len(list(tmp_path.glob(f"{PREFIX}*"))) == 1
    again, compiled = compiled_on_render(tmp_path, monkeypatch)
    assert compiled == 0
    assert again == first == template_environment().get_template(PAGE["name"]).render()


@pytest.mark.parametrize("spoilt", ["a bit flipped", "another user may write it"])
def test_a_kept_template_that_is_not_right_is_compiled_again(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    spoilt: str,
) -> None:
    first, _compiled = compiled_on_render(tmp_path, monkeypatch)
    (kept,) = tmp_path.glob(f"{PREFIX}*")
    if spoilt == "a bit flipped":
        whole = bytearray(kept.read_bytes())
        whole[-10] ^= 0x04
        kept.write_bytes(whole)
    else:
        kept.chmod(0o666)
    with caplog.at_level(logging.INFO):
        again, compiled = compiled_on_render(tmp_path, monkeypatch)
    assert "template code ignored" in caplog.text
    assert compiled == 1 and again == first
