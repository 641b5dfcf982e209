"""The program kept between starts of ``serve`` (program/kept.py): read back only when it is the
same program, from a folder nobody else can write, and then it behaves exactly as loaded."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import io
import logging
import os
import pickle
import shutil
from pathlib import Path

import pytest

from redirection_bot.authoring import conversation_tests
from redirection_bot.diagnostics import Diagnostics
from redirection_bot.errors import AuthoringError
from redirection_bot.program import kept as kept_module
from redirection_bot.program.kept import CACHE_ENV, cache_folder, load_kept
from redirection_bot.program.load import LoadedProgram, ProgramSources
from redirection_bot.safety.train import read_corpus
from redirection_bot.turn.actions import registered_action_names
from tests.conftest import REPOSITORY, SHIPPED

TODAY = dt.date(2026, 12, 7)
KEPT = "program loaded from its kept copy"


def kept(sources: ProgramSources, folder: Path) -> LoadedProgram:
    return load_kept(sources, registered_action_names(), TODAY, folder)


def logged_start(folder: Path, caplog: pytest.LogCaptureFixture) -> tuple[LoadedProgram, str]:
    """A start of ``serve`` with ``folder``: the program, and what it logged."""
    caplog.clear()
    with caplog.at_level(logging.INFO):
        loaded = kept(SHIPPED, folder)
    return loaded, caplog.text


def first_start(tmp_path: Path) -> tuple[Path, Path]:
    """A first start that kept the shipped program: the folder, and the one copy in it."""
    folder = tmp_path / "kept"
    kept(SHIPPED, folder)
    (copy,) = copies(folder)
    return folder, copy


def copies(folder: Path) -> list[Path]:
    return sorted(folder.glob("program-*.pickle"))


@pytest.fixture(scope="module")
def shipped_twice(tmp_path_factory: pytest.TempPathFactory) -> tuple[LoadedProgram, LoadedProgram]:
    """The shipped program as loaded from its files, and as read back from its kept copy."""
    folder = tmp_path_factory.mktemp("kept")
    loaded = kept(SHIPPED, folder)
    again = kept(SHIPPED, folder)
    assert again is not loaded
    return loaded, again


def test_the_shipped_conversation_tests_all_pass_on_the_kept_copy(
    shipped_twice: tuple[LoadedProgram, LoadedProgram],
) -> None:
    _, again = shipped_twice
    diagnostics = Diagnostics()
    files = conversation_tests.find_test_files([REPOSITORY / "tests" / "conversations"])
    scripts = [
        script for path in files for script in conversation_tests.load_scripts(path, diagnostics)
    ]
    assert scripts and not diagnostics.has_errors()
    runtime = conversation_tests.tests_runtime(again, scripts)

    async def run_all() -> list[str]:
        results = [await conversation_tests.run_script(runtime, script) for script in scripts]
        return [
            f"{script.name}: {result.failure}"
            for script, result in zip(scripts, results, strict=True)
            if result.failure
        ]

    assert asyncio.run(run_all()) == []


def test_the_kept_copy_reads_back_equal_to_the_loaded_program(
    shipped_twice: tuple[LoadedProgram, LoadedProgram],
) -> None:
    """Its dataclasses are written as constructor calls (quicker to read): they must come
    back equal, field for field, to what was loaded."""
    loaded, again = shipped_twice
    assert again.program == loaded.program
    assert again.services == loaded.services
    assert again.sources == loaded.sources
    assert again.warnings == loaded.warnings
    for locale in loaded.program.locales:
        assert list(again.catalog.entries(locale)) == list(loaded.catalog.entries(locale))


def test_the_kept_copy_screens_every_corpus_line_as_the_loaded_program_does(
    shipped_twice: tuple[LoadedProgram, LoadedProgram],
) -> None:
    loaded, again = shipped_twice
    corpus = REPOSITORY / "tests" / "safety" / "frozen"
    items = read_corpus(sorted(corpus.glob("*.yaml")))
    assert len(items) > 1000
    for item in items:
        assert again.screener.screen(item.text) == loaded.screener.screen(item.text), item.span


def test_texts_render_from_the_kept_copy_in_a_process_that_never_loaded_the_files(
    tmp_path: Path,
) -> None:
    loaded = kept(SHIPPED, tmp_path)
    plain = [
        (entry.key, locale)
        for locale in loaded.program.locales
        for entry in loaded.catalog.entries(locale)
        if "%{" not in entry.text
    ]
    expected = [loaded.catalog.render(key, locale) for key, locale in plain]
    loaded.catalog.close()  # as in a new process: python-i18n holds none of its texts
    again = kept(SHIPPED, tmp_path)
    assert [again.catalog.render(key, locale) for key, locale in plain] == expected


def test_a_changed_file_is_loaded_afresh_not_from_the_old_copy(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    program = tmp_path / "program"
    shutil.copytree(SHIPPED.dialogues, program / "dialogues")
    shutil.copytree(SHIPPED.locales, program / "locales")
    sources = ProgramSources(program / "dialogues", program / "locales")
    folder = tmp_path / "kept"
    first = kept(sources, folder)
    texts = program / "locales" / "welcome.en.yml"
    assert texts.is_file()
    text = texts.read_text(encoding="utf-8")
    key = next(e.key for e in first.catalog.entries("en") if e.key.startswith("welcome."))
    old = first.catalog.render(key, "en")
    texts.write_text(text.replace(old, "A new greeting, written today."), encoding="utf-8")
    with caplog.at_level(logging.INFO):
        second = kept(sources, folder)
    assert KEPT not in caplog.text
    assert second.catalog.render(key, "en") == "A new greeting, written today."
    assert len(copies(folder)) == 2  # the old one is kept too (an edit may be undone)


def shipped_copy(tmp_path: Path) -> ProgramSources:
    program = tmp_path / "program"
    shutil.copytree(SHIPPED.dialogues, program / "dialogues")
    shutil.copytree(SHIPPED.locales, program / "locales")
    return ProgramSources(program / "dialogues", program / "locales")


def edit_keeping_size_and_time(path: Path, old: str, new: str) -> None:
    """An edit that leaves the file's size and modification time as they were (a one-digit
    fix of a phone number, files from an image with fixed times)."""
    assert len(old.encode()) == len(new.encode())
    before = path.stat()
    path.write_text(path.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size


def test_an_edit_that_keeps_size_and_time_is_still_read_afresh(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sources = shipped_copy(tmp_path)
    folder = tmp_path / "kept"
    first = kept(sources, folder)
    old = first.catalog.render("welcome.hello", "en")
    edit_keeping_size_and_time(sources.locales / "welcome.en.yml", old[:5], "HELLO"[: len(old[:5])])
    with caplog.at_level(logging.INFO):
        second = kept(sources, folder)
    assert KEPT not in caplog.text
    assert second.catalog.render("welcome.hello", "en") != old


def test_a_broken_edit_that_keeps_size_and_time_still_stops_the_start(tmp_path: Path) -> None:
    sources = shipped_copy(tmp_path)
    folder = tmp_path / "kept"
    kept(sources, folder)
    edit_keeping_size_and_time(sources.locales / "welcome.en.yml", '  hello: "', '  hello  "')
    with pytest.raises(AuthoringError) as raised:
        kept(sources, folder)
    assert any("welcome.en.yml" in d.format() for d in raised.value.diagnostics)


def test_a_copy_of_another_program_put_in_its_place_is_never_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sources = shipped_copy(tmp_path)
    folder, copy = first_start(tmp_path)  # the shipped program's copy
    (sources.locales / "welcome.en.yml").write_text(
        (sources.locales / "welcome.en.yml").read_text(encoding="utf-8") + "\n",
        encoding="utf-8",
    )
    kept(sources, folder)
    (other,) = [path for path in copies(folder) if path != copy]
    other.write_bytes(copy.read_bytes())  # the shipped program's copy under the other's name
    with caplog.at_level(logging.INFO):
        kept(sources, folder)
    assert "program copy ignored reason=another_program" in caplog.text


def test_a_folder_on_a_path_others_can_change_is_never_used(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)  # anyone may rename what is in it: not sticky
    folder = shared / "kept"
    with caplog.at_level(logging.INFO):
        kept(SHIPPED, folder)
        kept(SHIPPED, folder)
    assert "program copy not kept reason=permissions" in caplog.text
    assert KEPT not in caplog.text
    shared.chmod(0o1777)  # sticky, as /tmp: others cannot replace this user's folder
    caplog.clear()
    with caplog.at_level(logging.INFO):
        kept(SHIPPED, folder)
        kept(SHIPPED, folder)
    assert KEPT in caplog.text


def test_a_broken_edit_behind_a_link_to_a_folder_still_stops_the_start(tmp_path: Path) -> None:
    sources = shipped_copy(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    (sources.dialogues / "flows").rename(elsewhere)
    (sources.dialogues / "flows").symlink_to(elsewhere)  # the loader follows it
    folder = tmp_path / "kept"
    kept(sources, folder)
    edit_keeping_size_and_time(elsewhere / "about.yaml", "flow: about", "flxw: about")
    with pytest.raises(AuthoringError) as raised:
        kept(sources, folder)
    assert any("about.yaml" in d.format() for d in raised.value.diagnostics)


def test_a_program_that_changed_while_it_was_loading_is_not_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    sources = shipped_copy(tmp_path)
    texts = sources.locales / "welcome.en.yml"
    load = kept_module.load_program

    def deploy_during_the_load(*arguments: object) -> LoadedProgram:
        loaded = load(*arguments)  # type: ignore[arg-type]
        texts.write_text(texts.read_text(encoding="utf-8") + "\n", encoding="utf-8")
        return loaded

    monkeypatch.setattr(kept_module, "load_program", deploy_during_the_load)
    folder = tmp_path / "kept"
    with caplog.at_level(logging.INFO):
        kept(sources, folder)
    assert "program copy not kept reason=changed_while_loading" in caplog.text
    assert copies(folder) == []


@pytest.mark.skipif(os.getuid() != 0, reason="giving a link or a folder to another user needs root")
@pytest.mark.parametrize("theirs", ["the link", "the folder it leads to"])
def test_a_path_through_someone_elses_link_or_folder_is_never_used(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, theirs: str
) -> None:
    target = tmp_path / "target"
    target.mkdir(mode=0o755)
    link = tmp_path / "link"
    link.symlink_to(target)
    if theirs == "the link":
        os.lchown(link, 65534, 65534)  # they chose where it leads
    else:
        os.chown(target, 65534, 65534)  # they may rename what is in it
    _, logged = logged_start(link / "kept", caplog)
    assert "program copy not kept reason=permissions" in logged
    assert list(target.iterdir()) == []


def test_what_a_killed_start_left_half_written_is_cleared(tmp_path: Path) -> None:
    folder, _copy = first_start(tmp_path)
    left = folder / ".writing-abandoned"
    left.write_bytes(b"half a copy")
    os.utime(left, (0, 0))
    recent = folder / ".writing-now"  # another start writing at this moment
    recent.write_bytes(b"being written")
    kept(shipped_copy(tmp_path), folder)  # another program: a copy is written
    assert not left.exists() and recent.exists()


@pytest.mark.parametrize("odd", ["a link that leads nowhere", "a pipe"])
def test_files_that_cannot_be_read_are_still_reported_where_they_are(
    tmp_path: Path, odd: str
) -> None:
    sources = shipped_copy(tmp_path)
    path = sources.locales / "extra.en.yml"
    if odd == "a pipe":
        os.mkfifo(path)  # reading it would never end
    else:
        path.symlink_to(tmp_path / "gone.yml")
    with pytest.raises(AuthoringError) as raised:
        kept(sources, tmp_path / "kept")
    assert any("extra.en.yml" in d.format() for d in raised.value.diagnostics)


@pytest.mark.parametrize("mode", [0o770, 0o777])
def test_a_copy_in_a_folder_others_can_write_is_never_read(
    tmp_path: Path, mode: int, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "kept"
    kept(SHIPPED, folder)
    folder.chmod(mode)
    _, logged = logged_start(folder, caplog)
    assert KEPT not in logged
    assert "program copy ignored reason=permissions" in logged


def test_a_copy_others_can_write_or_a_link_is_never_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder, copy = first_start(tmp_path)
    copy.chmod(0o666)
    assert KEPT not in logged_start(folder, caplog)[1]
    elsewhere = tmp_path / "elsewhere.pickle"
    copy.chmod(0o600)
    copy.rename(elsewhere)
    copy.symlink_to(elsewhere)
    assert KEPT not in logged_start(folder, caplog)[1]


@pytest.mark.parametrize("damage", ["cut short", "a word changed"])
def test_a_damaged_copy_is_loaded_afresh_and_replaced(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: str
) -> None:
    folder, copy = first_start(tmp_path)
    whole = copy.read_bytes()
    if damage == "cut short":
        copy.write_bytes(whole[:1000])
    else:  # it still unpickles: an outside tester's bot said "takes COURAGE." ever after
        assert b"takes courage." in whole
        copy.write_bytes(whole.replace(b"takes courage.", b"takes COURAGE.", 1))
    loaded, logged = logged_start(folder, caplog)
    assert "program copy ignored reason=damaged" in logged
    assert loaded.catalog.render("welcome.hello", "en")
    assert b"takes COURAGE." not in copy.read_bytes()  # kept again, whole
    assert KEPT in logged_start(folder, caplog)[1]


def test_the_copy_is_private_and_holds_no_configuration(tmp_path: Path) -> None:
    folder, copy = first_start(tmp_path)
    assert folder.stat().st_mode & 0o777 == 0o700
    assert copy.stat().st_mode & 0o777 == 0o600


def test_where_it_is_kept() -> None:
    assert cache_folder({CACHE_ENV: "off", "HOME": "/home/a"}) is None
    assert cache_folder({CACHE_ENV: "/srv/bot/cache"}) == Path("/srv/bot/cache")
    assert cache_folder({CACHE_ENV: "~/bot"}) == Path.home() / "bot"
    assert cache_folder({"XDG_CACHE_HOME": "/c", "HOME": "/home/a"}) == Path("/c/redirection-bot")
    assert cache_folder({"HOME": "/home/a"}) == Path("/home/a/.cache/redirection-bot")
    assert cache_folder({}) is None
    assert os.environ.get(CACHE_ENV)  # the test suite keeps its copies in a folder of its own


@dataclasses.dataclass(frozen=True)
class _Worked:
    """A value whose constructor works out one field from the others."""

    word: str
    long: bool = dataclasses.field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "long", len(self.word) >= 6)


@dataclasses.dataclass
class _Changed:
    """A value changed after it was made: its constructor would not make it again."""

    word: str
    count: int = dataclasses.field(init=False, default=0)


def test_a_copy_is_made_again_by_its_constructor_only_when_that_gives_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[str] = []
    original = _Worked.__post_init__
    monkeypatch.setattr(
        _Worked, "__post_init__", lambda self: made.append(self.word) or original(self)
    )
    changed = _Changed("hope")
    changed.count = 3
    written = io.BytesIO()
    kept_module.dump_kept([_Worked("suicide"), changed], written)
    made.clear()
    worked, again = pickle.loads(written.getvalue())
    assert made == ["suicide"] and worked.long  # its constructor ran, and worked it out
    assert again == changed and again.count == 3  # field by field, as it was
