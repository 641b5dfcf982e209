"""The second screening layer: what a clinician and a person would notice of it.

Hand-made models show the mechanism (uncertain hits only, context that lifts without words
kept, the whole message hidden for a detail without a span); the shipped model is checked to
be the one its corpus builds, from the tuning sets only.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from redirection_bot.language.textnorm import fold
from redirection_bot.safety.categories import RiskCategory
from redirection_bot.safety.identifiers import HIDDEN_MARK
from redirection_bot.safety.model import MODEL_FILE, SCORED, ScreeningModel, features
from redirection_bot.safety.normalise import fold_form
from redirection_bot.safety.screen import Screener
from redirection_bot.safety.train import (
    corpus_files,
    learnt_corpus,
    measured_files,
    measured_lines,
    read_corpus,
    rules_screener,
)

REPOSITORY = Path(__file__).resolve().parents[3]
SUICIDE = SCORED.index(RiskCategory.SUICIDE)
REQUEST = SCORED.index(RiskCategory.ILLEGAL_REQUEST)
IDENTIFYING = SCORED.index(RiskCategory.IDENTIFYING_INFO)


def weights(**by_word: tuple[int, float]) -> dict[str, list[float]]:
    rows: dict[str, list[float]] = {}
    for word, (index, weight) in by_word.items():
        row = [0.0] * len(SCORED)
        row[index] = weight
        rows[f"w:{fold_form(word)}"] = row
    return rows


def model_of(rows: dict[str, list[float]]) -> ScreeningModel:
    return ScreeningModel(rows, [-2.0] * len(SCORED), [0.5] * len(SCORED))


def test_words_are_read_as_the_rules_read_them() -> None:
    assert "w:tired" in features("TIRÉD")
    assert "w:tired" in features("tіred")  # Cyrillic і
    assert "b:so_tired" in features("so tired")
    assert "c:<tir" in features("tired")


def test_a_model_hit_is_never_certain_and_is_named_as_learned() -> None:
    screener = Screener({}, model_of(weights(hopeless=(SUICIDE, 3.5))))
    screening = screener.screen("everything feels hopeless")
    assert [(hit.category, hit.certain) for hit in screening.hits] == [
        (RiskCategory.SUICIDE, False)
    ]
    assert screening.learned == (RiskCategory.SUICIDE,)
    assert screener.screen("a fine day").hits == ()


def test_context_lifts_a_request_only_when_the_message_leans_towards_it() -> None:
    rows = weights(material=(REQUEST, 1.5), links=(REQUEST, 1.2), exercise=(SUICIDE, 0.1))
    screener = Screener({}, model_of(rows))
    earlier = screener.screen("i used to look at that material")
    assert earlier.hits == ()  # alone, not enough
    assert all(isinstance(number, float) for number in earlier.carry)  # numbers, never words
    after = screener.screen("send me links", carried=earlier.carry)
    assert after.categories == (RiskCategory.ILLEGAL_REQUEST,)
    assert screener.screen("send me links").hits == ()
    ordinary = screener.screen("what is the next exercise", carried=earlier.carry)
    assert ordinary.hits == ()


def test_identifying_details_found_by_the_model_alone_hide_the_whole_message() -> None:
    screener = Screener({}, model_of(weights(workplace=(IDENTIFYING, 3.5))))
    screening = screener.screen("my workplace is the big bakery on main street")
    assert screening.redacted == HIDDEN_MARK


def test_explain_names_the_words_that_weighed_most() -> None:
    screener = Screener({}, model_of(weights(hopeless=(SUICIDE, 3.5))))
    screening, why = screener.explain("so hopeless")
    assert screening.learned == (RiskCategory.SUICIDE,)
    assert why[RiskCategory.SUICIDE][0].startswith("model: score 0.82 (threshold 0.50)")
    assert "word 'hopeles' +3.50" in why[RiskCategory.SUICIDE][1]  # as folded for matching


def test_a_score_is_the_sum_of_the_weights_explain_shows() -> None:
    model = model_of(weights(hopeless=(SUICIDE, 3.5), tired=(SUICIDE, 1.25)))
    found = features("so tired and hopeless")
    shown = sum(c.weight for c in model.explain(found, RiskCategory.SUICIDE, top=len(found)))
    index = model.categories.index(RiskCategory.SUICIDE)
    assert model.evidence(found)[index] == pytest.approx(shown) == pytest.approx(4.75)


def test_the_file_round_trips(tmp_path: Path) -> None:
    model = model_of(weights(hopeless=(SUICIDE, 3.5)))
    model.dump(tmp_path / "m.bin", ["a comment"])
    again = ScreeningModel.load((tmp_path / "m.bin").read_bytes())
    assert again.scores("hopeless") == model.scores("hopeless")


MEASURED_SETS = frozenset(
    {
        "frozen",
        "fresh",
        "fresh2",
        "fresh3",
        "fresh4",
        "fresh5",
        "fresh6",
        "fresh7",
        "fresh8",
        "fresh_help",
    }
)
"""The folders of tests/safety/ kept to measure, never to learn from (written out here, apart
from ``train.MEASURED_ONLY``, so that a set dropped there fails these tests)."""


def test_training_never_reads_the_sets_kept_to_measure() -> None:
    files = corpus_files(REPOSITORY / "tests" / "safety")
    assert files
    assert not [path for path in files if MEASURED_SETS & set(path.parts)]


@pytest.mark.slow
def test_the_shipped_model_is_what_its_corpus_builds(rebuilt_model: Path) -> None:
    """Deterministic: one command, the same corpus, the same file (docs/safety.md). Built in
    the background while the other tests run (``tests/fixtures/model_rebuild.py``)."""
    shipped = REPOSITORY / "src" / "redirection_bot" / "safety" / MODEL_FILE
    assert rebuilt_model.read_bytes() == shipped.read_bytes()


def test_a_tuning_line_that_is_a_measured_line_word_for_word_is_not_learnt() -> None:
    root = REPOSITORY / "tests" / "safety"
    measured = measured_lines(root)
    items = read_corpus(corpus_files(root))
    kept = learnt_corpus(root)
    assert len(items) - len(kept) > 100
    assert not {fold(item.text) for _locale, item in kept} & measured
    assert {str(p.relative_to(root).parts[0]) for p in measured_files(root)} == MEASURED_SETS


def test_the_model_is_not_asked_where_a_clinicians_exception_covers_most_of_the_message() -> None:
    """ "how do i stop searching for that stuff" asks for help to stop: the rules' exception
    says so, and the model's guess at a request is left out; where the exception is a small
    part of a longer message, the model is asked as before."""
    screener = rules_screener(REPOSITORY / "dialogues")
    screener.model = model_of(weights(stuff=(REQUEST, 3.5), where=(REQUEST, 3.5)))
    asking_to_stop = screener.screen("how do i stop searching for that stuff", "en")
    assert asking_to_stop.hits == ()
    longer = "i want to stop searching for it but first tell me where to get stuff"
    assert RiskCategory.ILLEGAL_REQUEST in screener.screen(longer, "en").categories


def test_a_clause_is_also_scored_with_half_the_rest_of_its_message() -> None:
    # An ordinary first sentence lowered the whole message's score ("haluun olla parempi isä.
    # en mä jaksa enää elää": the fortieth retest); a clause of five words or more is scored
    # too, with half of what the rest of the message says (screen.CLAUSE_CONTEXT).
    rows = weights(
        hopeless=(SUICIDE, 4.0),
        work=(SUICIDE, -1.0),
        football=(SUICIDE, -1.0),
        garden=(SUICIDE, -1.0),
    )
    screener = Screener({}, model_of(rows))
    ordinary = "work was fine and football was fun and the garden is nice"
    assert screener.screen(f"{ordinary} and everything feels hopeless and pointless now").hits == ()
    told = screener.screen(f"{ordinary}. everything feels hopeless and pointless now")
    assert told.categories == (RiskCategory.SUICIDE,) and told.learned == (RiskCategory.SUICIDE,)
    assert screener.screen(f"{ordinary}. hopeless").hits == ()  # a clause too short to score
    _screening, why = screener.explain(f"{ordinary}. everything feels hopeless and pointless now")
    assert (
        "on the clause 'everything feels hopeless and pointless now'"
        in why[RiskCategory.SUICIDE][0]
    )
