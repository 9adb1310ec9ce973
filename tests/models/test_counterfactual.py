"""What it would take, on the small synthetic warehouse and its scorer: proposals that flip, on allowed levers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from models import Scorer
from models.counterfactual import LEVER_COLUMNS, Counterfactual, what_it_would_take
from warehouse import Warehouse


@pytest.fixture(scope="module")
def scorer(small_model_dir: Path) -> Scorer:
    return Scorer.load(small_model_dir)


@pytest.fixture(scope="module")
def store(scored_warehouse: Path) -> Warehouse:
    with Warehouse(scored_warehouse) as warehouse:
        yield warehouse


@pytest.fixture(scope="module")
def answers(scorer: Scorer, store: Warehouse) -> list[tuple[int, Counterfactual]]:
    """What it would take for 30 refused or grey-zone clients spread over the probability range."""
    frame = store.model_frame(split=None)
    probability = scorer.probabilities(frame)
    concerned = np.flatnonzero(probability >= scorer.threshold - scorer.grey_zone)
    picked = concerned[np.argsort(probability[concerned])][:: max(1, len(concerned) // 30)]
    out = []
    for i in picked.tolist():
        sk_id = int(frame[i, "SK_ID_CURR"])
        out.append((sk_id, what_it_would_take(scorer, store.application_row(sk_id), frame.slice(i, 1))))
    return out


def test_proposals_flip_the_decision_in_a_what_if(scorer: Scorer, store: Warehouse, answers) -> None:
    flipped = 0
    for sk_id, answer in answers:
        assert answer.needed
        for option in answer.options:
            changes = {c.column: c.after for c in option.changes}
            replay = scorer.what_if(store.application_row(sk_id), store.client_features(sk_id), changes)
            assert replay.probability == pytest.approx(option.probability, abs=1e-9)
            assert replay.probability < answer.target <= scorer.threshold
            assert replay.decision == "granted"
            flipped += 1
    assert flipped, "on this data some refused clients can be brought under the limit by the loan's structure"
    assert any(not a.options for _, a in answers), "and some cannot: the answer then says so"


def test_only_levers_the_client_controls_are_moved(answers) -> None:
    for _, answer in answers:
        for option in answer.options:
            assert {c.column for c in option.changes} <= LEVER_COLUMNS
            assert not {c.column for c in option.changes} & {
                "DAYS_BIRTH",
                "CODE_GENDER",
                "NAME_FAMILY_STATUS",
                "EXT_SOURCE_1",
                "EXT_SOURCE_2",
                "EXT_SOURCE_3",
            }
            for change in option.changes:
                if change.column == "AMT_INCOME_TOTAL":
                    assert change.after > change.before  # a co-borrower adds income, never less of it
                else:
                    assert change.after < change.before  # borrowing less or repaying more slowly


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_proposals_and_refusals_are_said_in_words(answers, lang: str) -> None:
    with_options = next(a for _, a in answers if a.options)
    without = next(a for _, a in answers if not a.options)
    text = with_options.options[0].text(lang)
    assert "€" in text and not any(code in text for code in ("AMT_", "_"))
    assert ("Aucun changement réaliste" if lang == "fr" else "No realistic change") in without.summary(lang)


def test_a_clearly_granted_client_needs_nothing(scorer: Scorer, store: Warehouse) -> None:
    frame = store.model_frame(split=None)
    i = int(np.argmin(scorer.probabilities(frame)))
    sk_id = int(frame[i, "SK_ID_CURR"])
    answer = what_it_would_take(scorer, store.application_row(sk_id), frame.slice(i, 1))
    assert not answer.needed and answer.options == ()


def test_one_client_at_a_time(scorer: Scorer, store: Warehouse) -> None:
    frame = store.model_frame(split=None).head(2)
    with pytest.raises(ValueError, match="one application row"):
        what_it_would_take(scorer, pl.concat([store.application_row(int(frame[0, "SK_ID_CURR"]))] * 2), frame)
