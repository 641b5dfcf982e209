"""Export and import round trips (CSV, XLIFF 1.2, XLIFF 2.0), and files with bad rows refused
whole, each problem reported at its row."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from redirection_bot.authoring.testing import diagnose, load
from redirection_bot.diagnostics import Diagnostics
from redirection_bot.program.load import ProgramSources
from redirection_bot.translation.records import load_translation_records
from redirection_bot.translation.status import TranslationStatus, translation_rows
from tests.unit.translation.conftest import I18n

FORMATS = ("csv", "xliff12", "xliff20")


def statuses(sources: ProgramSources, locale: str = "es") -> dict[str, TranslationStatus]:
    loaded = load(sources)
    records = load_translation_records(sources.locales, Diagnostics())
    return {row.key: row.status for row in translation_rows(loaded.catalog, records, locale, "en")}


def text_of(sources: ProgramSources, key: str, locale: str = "es") -> str:
    return load(sources).catalog.text(key, locale)


def translate(exported: str, fmt: str, key: str, translation: str, done: bool = False) -> str:
    """What a translator's tool would do: fill in one text (and maybe mark it done)."""
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(exported, newline="")))
        for row in rows:
            if row["key"] == key:
                row["translation"] = translation
                row["status"] = "done" if done else row["status"]
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue()
    start = exported.index(f'id="{key}"')
    end = exported.index("</trans-unit>" if fmt == "xliff12" else "</unit>", start)
    unit = exported[start:end]
    if fmt == "xliff12":
        head, _sep, rest = unit.partition("<target")
        rest = rest[rest.index(">") + 1 :] if not rest.lstrip().startswith("state") else rest
        state = "translated" if done else "needs-review-translation"
        tail = (
            rest[rest.index("</target>") + 9 :] if "</target>" in rest else rest.partition("/>")[2]
        )
        unit = f'{head}<target state="{state}">{translation}</target>{tail}'
    else:
        head, _sep, rest = unit.partition("</source>")
        rest = rest.split("</target>")[-1] if "</target>" in rest else rest
        unit = f"{head}</source><target>{translation}</target>{rest}"
        if done:
            unit = unit.replace('state="initial"', 'state="translated"', 1)
    return exported[:start] + unit + exported[end:]


@pytest.fixture
def exported(i18n: I18n, tmp_path: Path) -> dict[str, str]:
    files = {}
    for fmt in FORMATS:
        code, out, _err = i18n("export", "--locale", "es", "--format", fmt)
        assert code == 0
        files[fmt] = out
    return files


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_lists_key_source_translation_and_status(exported: dict[str, str], fmt: str) -> None:
    text = exported[fmt]
    assert "main.question" in text and "How are you?" in text and "¿Cómo estás?" in text
    if fmt == "csv":
        header = text.splitlines()[0]
        assert header == "key,source,translation,status,previous_source,note,fingerprint"
        assert "main.question,How are you?,¿Cómo estás?,untracked,,used at main.ask,src:" in text
    else:
        assert "used at main.ask" in text


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_translated_file_comes_back_as_texts_marked_done(
    bilingual: ProgramSources, i18n: I18n, exported: dict[str, str], tmp_path: Path, fmt: str
) -> None:
    back = tmp_path / f"es.{fmt}"
    back.write_text(translate(exported[fmt], fmt, "main.question", "¿Qué tal?"), encoding="utf-8")

    code, out, err = i18n("import", str(back), "--locale", "es")

    assert code == 0, err
    assert "es: wrote 1 text(s), recorded 1 as done" in out
    assert text_of(bilingual, "main.question") == "¿Qué tal?"
    assert statuses(bilingual)["main.question"] is TranslationStatus.DONE
    assert statuses(bilingual)["main.bye"] is TranslationStatus.UNTRACKED
    assert diagnose(bilingual).items == []
    written = (bilingual.locales / "main.es.yml").read_text(encoding="utf-8")
    assert written.startswith('es:\n  question: "¿Qué tal?"\n  mood_good: "Bien"\n')


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_unchanged_translation_is_recorded_only_when_marked_done(
    bilingual: ProgramSources, i18n: I18n, exported: dict[str, str], tmp_path: Path, fmt: str
) -> None:
    untouched = tmp_path / f"untouched.{fmt}"
    untouched.write_text(exported[fmt], encoding="utf-8")
    assert i18n("import", str(untouched), "--locale", "es")[0] == 0
    assert statuses(bilingual)["main.mood_bad"] is TranslationStatus.UNTRACKED

    confirmed = tmp_path / f"confirmed.{fmt}"
    confirmed.write_text(translate(exported[fmt], fmt, "main.mood_bad", "Mal", done=True))
    code, out, _err = i18n("import", str(confirmed), "--locale", "es")

    assert code == 0 and "wrote 0 text(s), recorded 1 as done" in out
    assert statuses(bilingual)["main.mood_bad"] is TranslationStatus.DONE


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_translation_of_an_older_source_stays_marked_needs_update(
    bilingual: ProgramSources, i18n: I18n, exported: dict[str, str], tmp_path: Path, fmt: str
) -> None:
    english = bilingual.locales / "main.en.yml"
    english.write_text(english.read_text().replace("How are you?", "How do you feel?"))
    back = tmp_path / f"es.{fmt}"
    back.write_text(translate(exported[fmt], fmt, "main.question", "¿Qué tal?"), encoding="utf-8")

    code, out, _err = i18n("import", str(back), "--locale", "es")

    assert code == 0
    assert "needs update: `main.question` was translated from an older `en` text" in out
    assert statuses(bilingual)["main.question"] is TranslationStatus.NEEDS_UPDATE
    again = i18n("export", "--locale", "es", "--format", fmt, "--todo")[1]
    assert "How are you?" in again  # the source the translation was made from, for comparison
    assert "How do you feel?" in again


def test_csv_with_bad_rows_is_refused_whole_with_each_row_reported(
    bilingual: ProgramSources, i18n: I18n, exported: dict[str, str], tmp_path: Path
) -> None:
    rows = list(csv.reader(io.StringIO(exported["csv"], newline="")))
    keys = [row[0] for row in rows]
    question, bye, good = (
        keys.index("main.question"),
        keys.index("main.bye"),
        keys.index("main.mood_good"),
    )
    rows[question][2] = "¿Qué tal, %{name}?"
    rows[bye][2] = "Adiós, dijiste %{mood} al 100%"
    rows[good][0] = "main.mood_god"
    rows[good][2] = "Muy bien"
    rows.append(list(rows[question]))
    rows.append(["main.bye", "x", "y", "finished", "", ""])
    bad = tmp_path / "bad.csv"
    with bad.open("w", newline="", encoding="utf-8") as stream:
        csv.writer(stream).writerows(rows)
    before = {p.name: p.read_bytes() for p in bilingual.locales.rglob("*") if p.is_file()}

    code, _out, err = i18n("import", str(bad), "--locale", "es")

    assert code == 1
    shown = str(bad)
    n = len(rows)
    assert (
        f"{shown}:{question + 1}:1: error: row {question + 1}: the translation has the "
        "placeholder %{name}, but the `en` text has no placeholders" in err
    )
    assert f"{shown}:{bye + 1}:1: error: row {bye + 1}: a percent sign must be written `%%`" in err
    assert (
        f"row {good + 1}: there is no text `main.mood_god` in `en` (did you mean `main.mood_good`?)"
        in err
    )
    assert f"row {n - 1}: `main.question` is already in row {question + 1}" in err
    assert (
        f"row {n}: the status `finished` is not one of: missing, needs update, untracked, done"
        in err
    )
    assert "nothing was imported: 5 problem(s)" in err
    after = {p.name: p.read_bytes() for p in bilingual.locales.rglob("*") if p.is_file()}
    assert after == before


def test_csv_without_the_needed_columns_is_refused(i18n: I18n, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("id,text\nmain.question,Hola\n", encoding="utf-8")
    code, _out, err = i18n("import", str(bad), "--locale", "es")
    assert code == 1
    assert (
        "bad.csv:1:1: error: the first row must name the columns; missing: key, source, translation"
        in err
    )


def test_csv_import_needs_the_locale(i18n: I18n, exported: dict[str, str], tmp_path: Path) -> None:
    file = tmp_path / "es.csv"
    file.write_text(exported["csv"], encoding="utf-8")
    code, _out, err = i18n("import", str(file))
    assert code == 2 and "--locale es" in err


@pytest.mark.parametrize("fmt", ["xliff12", "xliff20"])
def test_xliff_says_its_own_locale_and_a_mismatch_is_refused(
    i18n: I18n, exported: dict[str, str], tmp_path: Path, fmt: str
) -> None:
    file = tmp_path / "es.xlf"
    file.write_text(translate(exported[fmt], fmt, "main.question", "¿Qué tal?"), encoding="utf-8")
    i18n("add-locale", "pt")
    code, _out, err = i18n("import", str(file), "--locale", "pt")
    assert code == 1 and "error: this file translates into `es`, not `pt`" in err
    assert i18n("import", str(file))[0] == 0


@pytest.mark.parametrize("fmt", ["xliff12", "xliff20"])
def test_xliff_with_inline_markup_or_bad_placeholders_is_refused_at_its_line(
    bilingual: ProgramSources, i18n: I18n, exported: dict[str, str], tmp_path: Path, fmt: str
) -> None:
    text = translate(exported[fmt], fmt, "main.question", "¿Qué <g id='1'>tal</g>?")
    text = translate(text, fmt, "main.bye", "Adiós, %{humor}")
    file = tmp_path / "es.xlf"
    file.write_text(text, encoding="utf-8")

    code, _out, err = i18n("import", str(file))

    assert code == 1
    markup_line = text[: text.index("<g id")].count("\n") + 1
    assert f"es.xlf:{markup_line}:" in err
    assert "unit `main.question`: <g> inside <target> is not supported" in err
    assert (
        "unit `main.bye`: the translation has the placeholder %{humor}, but the `en` text has the "
        "placeholder %{mood}" in err
    )
    assert text_of(bilingual, "main.question") == "¿Cómo estás?"


def test_xml_that_is_not_well_formed_is_reported_where_it_breaks(
    i18n: I18n, tmp_path: Path
) -> None:
    file = tmp_path / "es.xlf"
    file.write_text('<?xml version="1.0"?>\n<xliff version="2.0">\n  <file>\n</xliff>\n')
    code, _out, err = i18n("import", str(file), "--locale", "es")
    assert code == 1 and "es.xlf:4:3: error: this is not well-formed XML: mismatched tag" in err


def test_a_doctype_is_refused(i18n: I18n, tmp_path: Path) -> None:
    file = tmp_path / "es.xlf"
    file.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "aaaa">]>\n'
        '<xliff version="2.0" xmlns="urn:oasis:names:tc:xliff:document:2.0"/>\n'
    )
    code, _out, err = i18n("import", str(file), "--locale", "es")
    assert code == 1 and "a translation file must not have a DOCTYPE" in err


def test_a_new_locale_is_exported_empty_and_imported_into_new_files(
    bilingual: ProgramSources, i18n: I18n, tmp_path: Path
) -> None:
    i18n("add-locale", "pt")
    code, exported, _err = i18n("export", "--locale", "pt", "--format", "xliff20")
    assert code == 0 and "redirection-bot:missing" in exported
    file = tmp_path / "pt.xlf"
    file.write_text(translate(exported, "xliff20", "main.question", "Como você está?"))

    code, _out, err = i18n("import", str(file))

    assert code == 0, err
    assert (bilingual.locales / "main.pt.yml").read_text() == 'pt:\n  question: "Como você está?"\n'
    assert statuses(bilingual, "pt")["main.question"] is TranslationStatus.DONE
    assert statuses(bilingual, "pt")["main.bye"] is TranslationStatus.MISSING


def test_export_writes_to_a_file_with_output(i18n: I18n, tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    code, out, err = i18n(
        "export", "--locale", "es", "--format", "xliff12", "--output", str(target / "es.xlf")
    )
    assert code == 0 and out == "" and "wrote" in err
    assert (target / "es.xlf").read_text().startswith('<?xml version="1.0" encoding="UTF-8"?>')
