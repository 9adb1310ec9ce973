"""Features computed by the DuckDB SQL against values worked out by hand from tests/warehouse/kaggle_folder.py."""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import polars as pl
import pytest

from tests.warehouse.kaggle_folder import APPLICANT_100002, write_kaggle_folder
from warehouse import Warehouse, build_warehouse, recompute_application_features


@pytest.fixture(scope="module")
def kaggle_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = write_kaggle_folder(tmp_path_factory.mktemp("kaggle"))
    return build_warehouse(folder.parent / "kaggle.duckdb", source=folder, progress=False)


@pytest.fixture(scope="module")
def features(kaggle_warehouse: Path) -> dict[int, dict]:
    with duckdb.connect(str(kaggle_warehouse), read_only=True) as con:
        frame = pl.DataFrame(con.sql("SELECT * FROM features"))
    return {row["SK_ID_CURR"]: row for row in frame.iter_rows(named=True)}


def test_one_row_per_client_with_split_and_target(features: dict[int, dict]) -> None:
    assert sorted(features) == [100002, 100003, 100004]
    assert [(features[i]["split"], features[i]["TARGET"]) for i in sorted(features)] == [
        ("train", 1),
        ("train", 0),
        ("test", None),
    ]


def test_application_ratios(features: dict[int, dict]) -> None:
    row, raw = features[100002], APPLICANT_100002
    assert row["PAYMENT_RATE"] == pytest.approx(24700.5 / 406597.5)
    assert row["INCOME_CREDIT_PERC"] == pytest.approx(202500 / 406597.5)
    assert row["ANNUITY_INCOME_PERC"] == pytest.approx(24700.5 / 202500)
    assert row["INCOME_PER_PERSON"] == pytest.approx(202500.0)
    assert row["DAYS_EMPLOYED_PERC"] == pytest.approx(637 / 9461)
    assert row["CREDIT_TO_GOODS"] == pytest.approx(406597.5 / 351000)
    ext = [raw["EXT_SOURCE_1"], raw["EXT_SOURCE_2"], raw["EXT_SOURCE_3"]]
    assert row["EXT_SOURCES_MEAN"] == pytest.approx(sum(ext) / 3)
    assert row["EXT_SOURCES_MIN"] == pytest.approx(min(ext))
    assert row["DAYS_EMPLOYED_ANOM"] == 0


def test_anomaly_and_placeholders_become_null(features: dict[int, dict]) -> None:
    pensioner = features[100003]
    assert pensioner["DAYS_EMPLOYED"] is None and pensioner["DAYS_EMPLOYED_PERC"] is None
    assert pensioner["DAYS_EMPLOYED_ANOM"] == 1
    assert pensioner["ORGANIZATION_TYPE"] is None and pensioner["CODE_GENDER"] is None
    assert pensioner["EXT_SOURCE_1"] is None  # empty CSV value
    assert pensioner["EXT_SOURCES_NAN"] == 3  # EXT_SOURCE_2 and _3 are empty too


def test_quoted_fields_with_commas_survive(kaggle_warehouse: Path) -> None:
    with duckdb.connect(str(kaggle_warehouse), read_only=True) as con:
        suites = con.sql(
            "SELECT DISTINCT NAME_TYPE_SUITE, WALLSMATERIAL_MODE FROM application_train"
        ).fetchall()
    assert suites == [("Spouse, partner", "Stone, brick")]


def test_bureau_aggregates(features: dict[int, dict]) -> None:
    row = features[100002]
    assert row["BURO_COUNT"] == 2
    assert (row["BURO_DAYS_CREDIT_MIN"], row["BURO_DAYS_CREDIT_MAX"]) == (-500, -100)
    assert row["BURO_DAYS_CREDIT_MEAN"] == pytest.approx(-300)
    assert row["ACTIVE_COUNT"] == 1 and row["CLOSED_COUNT"] == 1
    assert row["ACTIVE_AMT_CREDIT_SUM_SUM"] == 1000 and row["CLOSED_AMT_CREDIT_SUM_SUM"] == 3000
    assert row["BURO_AMT_CREDIT_SUM_DEBT_SUM"] == 500
    assert row["BURO_MONTHS_BALANCE_MIN"] == -2  # via bureau_balance and SK_ID_BUREAU
    assert row["BURO_STATUS_LATE_SUM"] == 1 and row["ACTIVE_STATUS_LATE_MEAN"] == 1


def test_previous_application_aggregates(features: dict[int, dict]) -> None:
    row = features[100002]
    assert (row["PREV_COUNT"], row["APPROVED_COUNT"], row["REFUSED_COUNT"]) == (2, 1, 1)
    assert row["PREV_APP_CREDIT_PERC_MEAN"] == pytest.approx((9000 / 10000 + 5000 / 4000) / 2)
    assert row["PREV_REFUSED_MEAN"] == pytest.approx(0.5)
    assert row["REFUSED_AMT_CREDIT_MEAN"] == 4000 and row["APPROVED_AMT_CREDIT_MAX"] == 10000
    assert row["PREV_DAYS_DECISION_MAX"] == -50


def test_instalment_pos_and_card_aggregates(features: dict[int, dict]) -> None:
    row = features[100002]
    assert row["INSTAL_COUNT"] == 2
    assert (row["INSTAL_DPD_MAX"], row["INSTAL_DPD_MEAN"], row["INSTAL_DBD_SUM"]) == (5, 2.5, 5)
    assert row["INSTAL_LATE_MEAN"] == pytest.approx(0.5)
    assert row["INSTAL_PAYMENT_PERC_MEAN"] == pytest.approx(0.8)
    assert row["INSTAL_PAYMENT_DIFF_SUM"] == pytest.approx(40)
    assert (row["POS_COUNT"], row["POS_SK_DPD_MAX"], row["POS_SK_DPD_MEAN"]) == (2, 4, 2)
    assert row["POS_STATUS_COMPLETED_MEAN"] == pytest.approx(0.5)
    assert row["CC_UTILISATION_MEAN"] == pytest.approx(0.5)


def test_client_without_side_rows_has_null_aggregates(features: dict[int, dict]) -> None:
    row = features[100003]
    for name in ("BURO_COUNT", "PREV_COUNT", "INSTAL_DPD_MEAN", "POS_COUNT", "CC_COUNT"):
        assert row[name] is None, name


def test_recompute_matches_the_warehouse(kaggle_warehouse: Path) -> None:
    with Warehouse(kaggle_warehouse) as warehouse:
        for sk_id in (100002, 100003, 100004):
            recomputed = recompute_application_features(warehouse.application_row(sk_id))
            stored = warehouse.client_features(sk_id).select(recomputed.columns)
            assert recomputed.equals(stored), sk_id


def test_recompute_accepts_partial_and_edited_rows() -> None:
    rows = pl.DataFrame(
        {
            "SK_ID_CURR": [1, 2],
            "AMT_ANNUITY": ["100", "50"],
            "AMT_CREDIT": [2000.0, 0.0],
            "DAYS_EMPLOYED": [365243, -10],
        }
    )
    out = recompute_application_features(rows)
    assert out["PAYMENT_RATE"][0] == pytest.approx(0.05)
    assert out["PAYMENT_RATE"][1] is None  # no division by zero
    assert out["DAYS_EMPLOYED_ANOM"].to_list() == [1, 0]
    assert math.isclose(out.height, 2)
