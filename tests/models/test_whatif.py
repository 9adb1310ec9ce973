"""What-if and new clients: derived features recomputed by the warehouse, every value validated with its range."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from models import Scorer, WhatIfError
from warehouse import Warehouse


@pytest.fixture(scope="module")
def scorer(small_model_dir: Path) -> Scorer:
    return Scorer.load(small_model_dir)


@pytest.fixture(scope="module")
def client(small_warehouse: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    with Warehouse(small_warehouse) as store:
        sk_id = (
            store.model_frame("train", columns=["DAYS_EMPLOYED"])
            .filter(pl.col("DAYS_EMPLOYED").is_not_null())
            .get_column("SK_ID_CURR")[0]
        )
        return store.application_row(sk_id), store.client_features(sk_id)


def test_fields_offer_only_learnt_levels_and_training_ranges(scorer: Scorer) -> None:
    specs = {spec.name: spec for spec in scorer.editable_fields("fr")}
    assert {"AMT_CREDIT", "AMT_INCOME_TOTAL", "AGE_YEARS", "YEARS_EMPLOYED", "CNT_CHILDREN"} <= set(specs)
    assert "CODE_GENDER" not in specs  # not a model input, never editable
    assert (
        specs["AGE_YEARS"].unit == "ans" and 18 < specs["AGE_YEARS"].minimum < specs["AGE_YEARS"].maximum < 75
    )
    assert specs["AMT_CREDIT"].unit == "€"
    assert len(specs["NAME_EDUCATION_TYPE"].choice_labels) == len(specs["NAME_EDUCATION_TYPE"].choices)
    assert {spec.label for spec in scorer.editable_fields("en")} != {spec.label for spec in specs.values()}


def test_unchanged_what_if_reproduces_the_score(scorer: Scorer, client) -> None:
    application, features = client
    assert scorer.what_if(application, features, {}).raw_score == pytest.approx(
        scorer.explain(features).raw_score
    )


def test_editing_the_credit_recomputes_the_derived_ratios(scorer: Scorer, client) -> None:
    application, features = client
    income = application.get_column("AMT_INCOME_TOTAL")[0]
    annuity = application.get_column("AMT_ANNUITY")[0]
    edited = scorer.what_if(application, features, {"AMT_CREDIT": 1_000_000.0}, lang="en")
    values = dict(
        zip(edited.contributions.get_column("feature"), edited.contributions.get_column("value"), strict=True)
    )
    assert float(values["AMT_CREDIT"]) == 1_000_000.0
    assert float(values["PAYMENT_RATE"]) == pytest.approx(annuity / 1_000_000.0)
    assert float(values["INCOME_CREDIT_PERC"]) == pytest.approx(income / 1_000_000.0)


def test_age_is_edited_in_years(scorer: Scorer, client) -> None:
    application, features = client
    edited = scorer.what_if(application, features, {"AGE_YEARS": 30})
    days = edited.contributions.filter(pl.col("feature") == "DAYS_BIRTH").get_column("value")[0]
    assert int(float(days)) == -round(30 * 365.25)
    assert scorer.field_values(application)["AGE_YEARS"] == pytest.approx(
        -application.get_column("DAYS_BIRTH")[0] / 365.25, abs=0.01
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"AMT_CREDIT": -5.0}, r"AMT_CREDIT \(Montant du crédit\) = -5.0 is outside the allowed range"),
        ({"AMT_CREDIT": "beaucoup"}, "AMT_CREDIT .* must be a number"),
        ({"CNT_CHILDREN": 1.5}, "CNT_CHILDREN .* must be a whole number"),
        ({"AGE_YEARS": None}, "AGE_YEARS .* cannot be empty"),
        ({"CODE_GENDER": "M"}, "CODE_GENDER is not an editable field"),
        ({"NAME_FAMILY_STATUS": "XNA"}, r"NAME_FAMILY_STATUS .* 'XNA' is not allowed"),
        ({"AGE_YEARS": 30, "YEARS_EMPLOYED": 20}, "more than age .* minus 14 years"),
        ({"AMT_CREDIT": 100_000.0, "AMT_ANNUITY": 150_000.0}, "larger than the credit"),
        ({"CNT_CHILDREN": 3, "CNT_FAM_MEMBERS": 2}, "cannot be less than the children"),
        ({"SALARY": 1}, "SALARY is not an editable field"),
        ({"AMT_INCOME_TOTAL": float("inf")}, "must be finite"),
    ],
)
def test_bad_values_name_the_field_and_its_range(scorer: Scorer, client, changes: dict, message: str) -> None:
    application, features = client
    with pytest.raises(WhatIfError, match=message) as caught:
        scorer.what_if(application, features, changes)
    assert caught.value.field in changes


def test_new_client_is_scored_without_history(scorer: Scorer, client) -> None:
    application, _ = client
    values = scorer.field_values(application)
    explanation = scorer.new_client(values, lang="en")
    assert 0 < explanation.probability < 1
    history = explanation.contributions.filter(pl.col("group") == "bureau")
    assert history.get_column("value").is_null().all()
    with pytest.raises(WhatIfError, match="a new client needs a value for AMT_CREDIT"):
        scorer.new_client({k: v for k, v in values.items() if k != "AMT_CREDIT"})
