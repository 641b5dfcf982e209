"""Root cause first: a file that cannot be read is reported once, with how many follow-on
problems are hidden until it parses; hints fit the mistake; places are the right lines."""

from __future__ import annotations

from redirection_bot.authoring.testing import MINIMAL_PROGRAM
from redirection_bot.program.load import ProgramSources
from tests.conftest import WriteProgram
from tests.unit.program.test_validator import MAIN_HEAD, Problems, one

SPANISH = MINIMAL_PROGRAM.replace("locales: [en]", "locales: [en, es]")


def test_an_unclosed_quote_in_a_locale_file_is_the_one_error_shown(
    write: WriteProgram, problems: Problems
) -> None:
    sources = write(locales={"main.en.yml": 'en:\n  question: "How are you?\n  bye: "Bye."\n'})
    found = problems(sources)
    errors = [line for line in found if ": error: " in line]
    assert len(errors) == 2, found
    assert all(line.startswith("locales/main.en.yml:") for line in errors)
    assert "YAML syntax error" in one(errors, "YAML")
    assert "problem(s) found across the program are hidden until this file" in one(errors, "more")
    assert not [line for line in found if "missing" in line or "never used" in line]


def test_a_syntax_error_in_a_flow_file_is_not_also_empty_or_unknown(
    write: WriteProgram, problems: Problems
) -> None:
    sources = write(flows={"main": MAIN_HEAD + "  bye:\n    say: [main.bye\n    end: true\n"})
    found = problems(sources)
    assert one(found, "YAML syntax error").startswith("dialogues/flows/main.yaml:")
    assert not [line for line in found if "is empty" in line or "never used" in line]
    assert not [line for line in found if "no flow" in line or "unknown" in line]
    assert "hidden until this file can be read" in one(found, "hidden")


def test_bad_indentation_gets_an_indentation_hint(write: WriteProgram, problems: Problems) -> None:
    for text in (
        'en:\n  offer: "A person will come."\n    bye: "x"\n',
        "en:\n  offer: A\n   bye: x\n",
    ):
        line = one(problems(write(locales={"helpdesk.en.yml": text})), "YAML syntax error")
        assert "check the indentation" in line and "needs quotes" not in line


def test_texts_for_a_locale_not_in_locales_are_reported_at_the_locales_line(
    write: WriteProgram, problems: Problems
) -> None:
    sources = write(locales={"helpdesk.es.yml": 'es:\n  offer: "Vendrá una persona."\n'})
    line = one(problems(sources), "which is not in the program's `locales`")
    assert line.startswith("dialogues/program.yaml:4:1:")


def test_a_listed_locale_without_files_is_reported_at_the_locales_line(
    write: WriteProgram, problems: Problems
) -> None:
    line = one(problems(write(program=SPANISH)), "has no locale files at all")
    assert line.startswith("dialogues/program.yaml:4:1:")
    assert not [line for line in problems(write(program=SPANISH)) if "missing in `es`" in line]


def test_a_locales_folder_that_does_not_exist_is_not_followed_by_every_text_missing(
    write: WriteProgram, problems: Problems
) -> None:
    sources = write()
    found = problems(ProgramSources(sources.dialogues, sources.dialogues.parent / "no-such-folder"))
    assert "the locales folder does not exist" in found[0]
    assert not [line for line in found if "is missing in" in line]
    assert len(found) < 10, found
