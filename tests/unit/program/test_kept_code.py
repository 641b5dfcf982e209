"""The code dataclasses compile, kept between starts of ``serve`` (program/kept_code.py): a
restart runs the kept code, which behaves exactly as compiling gives, and anything odd about
the kept file only means compiling again."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import marshal
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from redirection_bot.program import kept_code, kept_folder
from redirection_bot.program.kept_folder import write_kept


@pytest.fixture(autouse=True)
def _finished() -> Iterator[None]:
    """Each test leaves the dataclasses module as Python made it."""
    yield
    kept_code.finish()
    assert "exec" not in vars(dataclasses)


def a_start(folder: Path) -> kept_code.KeptCode:
    """A start of ``serve`` that makes a few dataclasses: what served it."""
    kept_code.start(folder)

    @dataclasses.dataclass(frozen=True, slots=True)
    class Reason:
        text: str
        weight: int = 1

    @dataclasses.dataclass(order=True)
    class Step:
        number: int
        done: bool = False

    assert Reason("my family", 2) == Reason("my family", 2)
    assert repr(Reason("my family")) == "a_start.<locals>.Reason(text='my family', weight=1)"
    assert hash(Reason("a")) == hash(Reason("a"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        Reason("a").text = "b"  # type: ignore[misc]
    assert sorted([Step(2), Step(1, done=True)]) == [Step(1, True), Step(2)]
    served = kept_code.finish()
    assert served is not None
    return served


def test_a_restart_runs_every_method_from_the_kept_code(tmp_path: Path) -> None:
    first = a_start(tmp_path)
    assert first.compiled > 0 and (tmp_path / kept_code.FILE).exists()
    written = (tmp_path / kept_code.FILE).stat()
    again = a_start(tmp_path)
    assert again.compiled == 0
    assert again.used.keys() == first.used.keys()
    assert (tmp_path / kept_code.FILE).stat().st_ino == written.st_ino  # not written again


def test_kept_code_is_what_compiling_the_source_gives(tmp_path: Path) -> None:
    source = "def __create_fn__():\n def __init__(self, a):\n  self.a = a\n return __init__"
    kept_code.start(tmp_path)
    first = kept_code.finish()
    assert first is not None
    first.exec(source, {}, {})
    first.save()
    kept_code.start(tmp_path)
    again = kept_code.finish()
    assert again is not None
    key = hashlib.blake2b(source.encode(), digest_size=16).digest()
    fresh = compile(source, "<string>", "exec", dont_inherit=True)
    assert marshal.dumps(again.known[key]) == marshal.dumps(fresh)
    made: dict[str, object] = {}
    again.exec(source, {}, made)
    assert again.compiled == 0 and callable(made["__create_fn__"])


def test_the_kept_file_is_this_users_alone(tmp_path: Path) -> None:
    folder = tmp_path / "kept"
    a_start(folder)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / kept_code.FILE).stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("spoilt", "reason"),
    [
        ("cut short", "damaged"),
        ("a bit flipped", "damaged"),
        ("made by another Python", "another_program"),
        ("another user may write it", "permissions"),
        ("a folder in its place", "not_a_file"),
        ("not compiled code", "TypeError"),
        ("too large", "too_large"),
    ],
)
def test_a_kept_file_that_is_not_right_is_never_run_and_the_start_compiles(
    tmp_path: Path,
    spoilt: str,
    reason: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a_start(tmp_path)
    path = tmp_path / kept_code.FILE
    whole = bytearray(path.read_bytes())
    if spoilt == "cut short":
        path.write_bytes(whole[: len(whole) // 2])
    elif spoilt == "a bit flipped":  # it still reads as code: an outside tester's crash
        whole[len(whole) // 2] ^= 0x02
        path.write_bytes(whole)
    elif spoilt == "made by another Python":
        path.write_bytes(whole.replace(b"format 2, ", b"format 2, 2.7.18 ", 1))
    elif spoilt == "another user may write it":
        path.chmod(0o666)
    elif spoilt == "a folder in its place":
        path.unlink()
        path.mkdir()
    elif spoilt == "not compiled code":
        kept = marshal.dumps({b"key": "print('hello')"})
        assert write_kept(tmp_path, path, kept_code.HEADER, kept, kept_code.WHAT)
    else:
        monkeypatch.setattr(kept_folder, "MAX_BYTES", len(whole) // 2)
    with caplog.at_level(logging.INFO):
        again = a_start(tmp_path)
    assert f"compiled code ignored reason={reason}" in caplog.text
    assert again.compiled > 0 and not again.known
    if spoilt not in ("a folder in its place", "too large"):  # the next start finds it whole
        assert a_start(tmp_path).compiled == 0


def test_nothing_is_kept_without_a_folder() -> None:
    kept_code.start(None)
    assert "exec" not in vars(dataclasses)
    assert kept_code.finish() is None
