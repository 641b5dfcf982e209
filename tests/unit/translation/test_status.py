"""Stale translations: a recorded translation whose source text changed is marked needs update,
by the validator (per key, per locale, at the translation) and by `i18n status`."""

from __future__ import annotations

from pathlib import Path

import i18n as python_i18n

from redirection_bot.authoring.testing import diagnose, load
from redirection_bot.diagnostics import Diagnostics
from redirection_bot.language.i18n import load_locale_files
from redirection_bot.program.load import ProgramSources
from redirection_bot.translation.records import RECORDS_FOLDER, load_translation_records
from redirection_bot.translation.status import TranslationStatus, translation_rows
from tests.unit.translation.conftest import I18n


def change_english(sources: ProgramSources, old: str, new: str) -> None:
    path = sources.locales / "main.en.yml"
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


def statuses(sources: ProgramSources) -> dict[str, TranslationStatus]:
    loaded = load(sources)
    records = load_translation_records(sources.locales, Diagnostics())
    return {row.key: row.status for row in translation_rows(loaded.catalog, records, "es", "en")}


def test_a_translation_without_a_record_is_untracked_and_validates_clean(
    bilingual: ProgramSources,
) -> None:
    assert statuses(bilingual)["main.question"] is TranslationStatus.UNTRACKED
    assert [d.format() for d in diagnose(bilingual, bilingual.dialogues.parent).items] == []


def test_changing_the_source_marks_the_recorded_translation_needs_update(
    bilingual: ProgramSources, i18n: I18n
) -> None:
    assert i18n("mark-done", "--locale", "es", "main")[0] == 0
    assert statuses(bilingual)["main.question"] is TranslationStatus.DONE

    change_english(bilingual, "How are you?", "How are you today?")

    assert statuses(bilingual)["main.question"] is TranslationStatus.NEEDS_UPDATE
    assert statuses(bilingual)["main.bye"] is TranslationStatus.DONE
    warnings = [d.format() for d in diagnose(bilingual, bilingual.dialogues.parent).items]
    assert warnings == [
        "locales/main.es.yml:2:14: warning: needs update: the `en` text of `main.question` has "
        "changed since this `es` translation was made (`redirection-bot i18n export --locale es`)"
    ]


def test_status_lists_each_locale_and_the_keys_to_work_on(
    bilingual: ProgramSources, i18n: I18n
) -> None:
    i18n("mark-done", "--locale", "es", "--all")
    change_english(bilingual, "Good", "Fine")
    (bilingual.locales / "helpdesk.es.yml").unlink()

    code, out, _err = i18n("status", "--list")

    assert code == 0
    assert "es: 1 missing, 1 needs update, 0 untracked," in out
    assert "  needs update  main.mood_good" in out
    assert "  missing       helpdesk.offer" in out


def test_marking_done_again_after_checking_clears_needs_update(
    bilingual: ProgramSources, i18n: I18n
) -> None:
    i18n("mark-done", "--locale", "es", "--all")
    change_english(bilingual, "Good", "Fine")
    assert statuses(bilingual)["main.mood_good"] is TranslationStatus.NEEDS_UPDATE

    code, out, _err = i18n("mark-done", "--locale", "es", "main.mood_good")

    assert code == 0 and "1 translation(s) marked done" in out
    assert statuses(bilingual)["main.mood_good"] is TranslationStatus.DONE


def test_mark_done_needs_keys_or_all_and_refuses_unknown_keys(i18n: I18n) -> None:
    assert i18n("mark-done", "--locale", "es")[0] == 2
    code, _out, err = i18n("mark-done", "--locale", "es", "main.nothing")
    assert code == 1 and "`main.nothing` names no translated text in `es`" in err


def test_add_locale_starts_a_locale_with_every_text_missing(
    bilingual: ProgramSources, i18n: I18n
) -> None:
    code, out, _err = i18n("add-locale", "pt")
    assert code == 0 and "pt: " in out

    code, out, _err = i18n("status", "--locale", "pt")
    total = len(list(load(bilingual).catalog.entries("en")))
    assert f"pt: {total} missing, 0 needs update, 0 untracked, 0 done" in out
    assert "not yet in the program's locales" in out
    assert i18n("add-locale", "pt")[0] == 2
    assert i18n("add-locale", "pt_BR")[0] == 2
    assert diagnose(bilingual).errors == []


def test_the_locale_loader_skips_the_records_folder(bilingual: ProgramSources, i18n: I18n) -> None:
    i18n("mark-done", "--locale", "es", "--all")
    assert (bilingual.locales / RECORDS_FOLDER / "es.yml").is_file()
    found = Diagnostics()
    entries = load_locale_files(bilingual.locales, found)
    assert found.items == [] and set(entries) == {"en", "es"}


def test_python_i18n_still_loads_the_locales_folder_natively(
    bilingual: ProgramSources, i18n: I18n, tmp_path: Path
) -> None:
    i18n("mark-done", "--locale", "es", "--all")
    saved = list(python_i18n.load_path)
    python_i18n.load_path.append(str(bilingual.locales))
    try:
        assert python_i18n.t("main.question", locale="es") == "¿Cómo estás?"
    finally:
        python_i18n.load_path[:] = saved


def test_records_made_against_another_source_locale_are_not_checked(
    bilingual: ProgramSources, i18n: I18n
) -> None:
    i18n("mark-done", "--locale", "es", "--all")
    path = bilingual.locales / RECORDS_FOLDER / "es.yml"
    path.write_text(path.read_text().replace('source_locale: "en"', 'source_locale: "fi"'))
    found = [d.message for d in diagnose(bilingual).warnings]
    assert found == [
        "these records were made against `fi`, but the program's default locale is `en`: "
        "they are not checked"
    ]
