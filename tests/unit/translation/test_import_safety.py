"""An import never silently undoes a newer translation, never takes an untranslated copy of
the source as done, and reads what spreadsheets and translation tools really write
(semicolons, a byte-order mark, placeholders as <ph>)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from redirection_bot.program.load import ProgramSources
from tests.unit.translation.conftest import I18n
from tests.unit.translation.test_exchange import FORMATS, statuses, text_of, translate


def export(i18n: I18n, fmt: str, *more: str) -> str:
    code, out, err = i18n("export", "--locale", "es", "--format", fmt, *more)
    assert code == 0, err
    return out


def change_in_repository(sources: ProgramSources, old: str, new: str) -> None:
    """What another translator's import (or a hand edit) does meanwhile."""
    spanish = sources.locales / "main.es.yml"
    spanish.write_text(spanish.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


def snapshot(sources: ProgramSources) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sources.locales.rglob("*") if p.is_file()}


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_older_file_keeps_the_newer_translations_it_did_not_touch(
    bilingual: ProgramSources, i18n: I18n, tmp_path: Path, fmt: str
) -> None:
    old = export(i18n, fmt)
    change_in_repository(bilingual, '"Mal"', '"Muy mal"')
    back = tmp_path / f"es.{fmt}"
    back.write_text(translate(old, fmt, "main.question", "¿Qué tal?"), encoding="utf-8")

    code, out, err = i18n("import", str(back), "--locale", "es")

    assert code == 0, err
    assert "wrote 1 text(s)" in out
    assert "kept: `main.mood_bad` was changed in the repository after the export" in out
    assert text_of(bilingual, "main.mood_bad") == "Muy mal"
    assert text_of(bilingual, "main.question") == "¿Qué tal?"


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_row_changed_on_both_sides_is_refused_naming_the_key_unless_forced(
    bilingual: ProgramSources, i18n: I18n, tmp_path: Path, fmt: str
) -> None:
    old = export(i18n, fmt)
    change_in_repository(bilingual, '"Mal"', '"Muy mal"')
    back = tmp_path / f"es.{fmt}"
    back.write_text(translate(old, fmt, "main.mood_bad", "Fatal"), encoding="utf-8")
    before = snapshot(bilingual)

    code, _out, err = i18n("import", str(back), "--locale", "es")

    assert code == 1
    assert "`main.mood_bad` was changed in the repository after this file was exported" in err
    assert f"changed in the repository since {back} was exported: main.mood_bad" in err
    assert "nothing was imported" in err
    assert snapshot(bilingual) == before

    code, out, err = i18n("import", str(back), "--locale", "es", "--force")
    assert code == 0, err
    assert "replaced (--force): `main.mood_bad`" in out
    assert text_of(bilingual, "main.mood_bad") == "Fatal"


@pytest.mark.parametrize("fmt", FORMATS)
def test_confirming_done_in_a_todo_export_cannot_undo_a_newer_translation(
    bilingual: ProgramSources, i18n: I18n, tmp_path: Path, fmt: str
) -> None:
    todo = export(i18n, fmt, "--todo")  # every Spanish text is untracked: all are listed
    change_in_repository(bilingual, "¿Cómo estás?", "¿Qué tal estás?")
    back = tmp_path / f"es.{fmt}"
    back.write_text(translate(todo, fmt, "main.question", "¿Cómo estás?", done=True))

    code, _out, err = i18n("import", str(back), "--locale", "es")

    assert code == 1
    assert "`main.question` was changed in the repository after this file was exported" in err
    assert text_of(bilingual, "main.question") == "¿Qué tal estás?"
    assert statuses(bilingual)["main.question"].value == "untracked"


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_untranslated_copy_of_the_source_is_not_imported_unless_marked_done(
    bilingual: ProgramSources, i18n: I18n, tmp_path: Path, fmt: str
) -> None:
    i18n("add-locale", "pt")
    code, exported, _err = i18n("export", "--locale", "pt", "--format", fmt)
    assert code == 0
    copied = translate(exported, fmt, "main.question", "How are you?")
    copied = translate(copied, fmt, "main.mood_good", "Bom")
    back = tmp_path / f"pt.{fmt}"
    back.write_text(copied, encoding="utf-8")

    code, out, err = i18n("import", str(back), "--locale", "pt")

    assert code == 0, err
    assert "pt: wrote 1 text(s), recorded 1 as done" in out
    assert "not imported: `main.question` is the same as the `en` text" in out
    assert statuses(bilingual, "pt")["main.question"].value == "missing"

    confirmed = tmp_path / f"pt-confirmed.{fmt}"
    confirmed.write_text(translate(exported, fmt, "main.question", "How are you?", done=True))
    assert i18n("import", str(confirmed), "--locale", "pt")[0] == 0
    assert statuses(bilingual, "pt")["main.question"].value == "done"


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def write_csv(
    path: Path, rows: list[dict[str, str]], delimiter: str = ",", bom: bool = False
) -> None:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), delimiter=delimiter)
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode("utf-8"))


def test_a_file_without_fingerprints_may_fill_in_but_not_replace(
    bilingual: ProgramSources, i18n: I18n, tmp_path: Path
) -> None:
    rows = [
        {"key": "main.mood_bad", "source": "Bad", "translation": "Fatal"},
        {"key": "main.question", "source": "How are you?", "translation": "¿Qué tal?"},
    ]
    by_hand = tmp_path / "by-hand.csv"
    write_csv(by_hand, rows)

    code, _out, err = i18n("import", str(by_hand), "--locale", "es")

    assert code == 1
    assert "row 2: this row does not say what `main.mood_bad` was when it was exported" in err
    assert "row 3: this row does not say what `main.question`" in err
    assert text_of(bilingual, "main.mood_bad") == "Mal"
    assert i18n("import", str(by_hand), "--locale", "es", "--force")[0] == 0
    assert text_of(bilingual, "main.mood_bad") == "Fatal"

    i18n("add-locale", "pt")
    assert i18n("import", str(by_hand), "--locale", "pt")[0] == 0  # nothing to undo
    assert text_of(bilingual, "main.mood_bad", "pt") == "Fatal"


def test_a_source_text_edited_in_the_spreadsheet_is_refused(i18n: I18n, tmp_path: Path) -> None:
    rows = csv_rows(export(i18n, "csv"))
    for row in rows:
        if row["key"] == "main.question":
            row["source"], row["translation"] = "How are you doing?", "¿Qué tal?"
    edited = tmp_path / "edited.csv"
    write_csv(edited, rows)
    code, _out, err = i18n("import", str(edited), "--locale", "es")
    assert code == 1
    assert "the source text of `main.question` is not the one exported" in err


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_csv_saved_with_semicolons_and_a_byte_order_mark_is_read(
    bilingual: ProgramSources, i18n: I18n, tmp_path: Path, delimiter: str
) -> None:
    rows = csv_rows(export(i18n, "csv"))
    for row in rows:
        if row["key"] == "main.question":
            row["translation"], row["status"] = "¿Qué tal, amigo; cómo va?", "done"
    excel = tmp_path / "es.csv"
    write_csv(excel, rows, delimiter=delimiter, bom=True)

    code, out, err = i18n("import", str(excel), "--locale", "es")

    assert code == 0, err
    assert "wrote 1 text(s)" in out
    assert text_of(bilingual, "main.question") == "¿Qué tal, amigo; cómo va?"


@pytest.mark.parametrize("fmt", ["xliff12", "xliff20"])
def test_xliff_placeholders_are_ph_elements_and_read_back(
    bilingual: ProgramSources, i18n: I18n, tmp_path: Path, fmt: str
) -> None:
    exported = export(i18n, fmt)
    unit = exported[exported.index('id="main.bye"') :]
    source = unit[unit.index("<source") : unit.index("</source>")]
    ph = source[source.index("<ph") :]
    ph = ph[: ph.index("</ph>") + 5] if fmt == "xliff12" else ph[: ph.index("/>") + 2]
    assert "Bye, you said " in source and "%{mood}" in ph
    assert "%{mood}" not in source.replace(ph, "")  # the placeholder is only inside <ph>

    back = tmp_path / "es.xlf"
    back.write_text(translate(exported, fmt, "main.bye", f"Hasta luego ({ph})."), encoding="utf-8")
    code, _out, err = i18n("import", str(back))

    assert code == 0, err
    assert text_of(bilingual, "main.bye", "es") == "Hasta luego (%{mood})."


def test_a_ph_that_stands_for_no_placeholder_is_refused(i18n: I18n, tmp_path: Path) -> None:
    exported = export(i18n, "xliff12")
    back = tmp_path / "es.xlf"
    back.write_text(translate(exported, "xliff12", "main.bye", 'Adiós <ph id="9">{b}</ph>'))
    code, _out, err = i18n("import", str(back))
    assert code == 1 and "unit `main.bye`: this <ph> is not a placeholder of the text" in err


def test_add_locale_of_the_source_locale_says_so(i18n: I18n) -> None:
    code, _out, err = i18n("add-locale", "en")
    assert code == 2
    assert "`en` is the source locale" in err and "already" not in err
    assert i18n("add-locale", "pt")[0] == 0
    code, _out, err = i18n("add-locale", "pt")
    assert code == 2 and "`pt` is already being translated" in err
