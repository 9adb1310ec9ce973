"""Labels for every column and feature, French category levels, human display of values, COMMENT ON coverage."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from warehouse import Warehouse, dictionary, schema

THIN = "\u202f"


def test_every_application_column_has_labels() -> None:
    for name in schema.APPLICATION_TRAIN:
        entry = dictionary.describe(name)
        assert entry.fr and entry.en and entry.unit, name
        assert entry.fr != name and entry.en != name


def test_every_feature_has_labels(small_warehouse: Path) -> None:
    with Warehouse(small_warehouse) as warehouse:
        names = warehouse.feature_catalog()["name"].to_list()
    assert 150 <= len(names) <= 250
    labels = {
        name: (dictionary.label_fr(name), dictionary.label_en(name), dictionary.unit(name)) for name in names
    }
    assert all(all(parts) for parts in labels.values())
    assert len({fr for fr, _, _ in labels.values()}) == len(names)  # no two features share a French label


def test_aggregate_labels_follow_the_rule() -> None:
    assert dictionary.label_fr("BURO_DAYS_CREDIT_MAX") == "Autres crédits : ancienneté des crédits (max)"
    assert dictionary.label_en("BURO_DAYS_CREDIT_MAX") == "Other credits: credit age (max)"
    assert dictionary.unit("INSTAL_DPD_MEAN") == "day_count"
    assert dictionary.label("REFUSED_COUNT", "en") == "Refused previous applications: count"
    with pytest.raises(KeyError):
        dictionary.describe("BURO_NOT_A_COLUMN_MAX")


@pytest.mark.parametrize(
    ("name", "value", "french", "english"),
    [
        ("DAYS_BIRTH", -15_750, "43 ans", "43 years"),
        ("DAYS_EMPLOYED", -1_213, "3,3 ans", "3.3 years"),
        ("AMT_INCOME_TOTAL", 202_500.0, f"202{THIN}500{THIN}€", "€202,500"),
        ("PAYMENT_RATE", 0.05, f"5,0{THIN}%", "5.0%"),
        ("EXT_SOURCE_2", 0.5659, "0,57", "0.57"),
        ("CNT_CHILDREN", 2, "2", "2"),
        ("FLAG_EMAIL", 1, "oui", "yes"),
        ("INSTAL_DPD_MAX", 12, "12 jours", "12 days"),
        ("INSTAL_LATE_SUM", 3, "3", "3"),  # a summed 0/1 flag is a count, not "300 %"
        ("INSTAL_LATE_MEAN", 0.25, f"25,0{THIN}%", "25.0%"),
        ("NAME_CONTRACT_TYPE", "Cash loans", "Prêt personnel", "Cash loan"),
        ("NAME_TYPE_SUITE", "Unaccompanied", "Seul(e)", "Alone"),
        ("WEEKDAY_APPR_PROCESS_START", "MON", "lundi", "Monday"),
        ("WALLSMATERIAL_MODE", "Stone, brick", "Pierre, brique", "Stone or brick"),
        ("ORGANIZATION_TYPE", "Industry: type 8", "Industrie (type 8)", "Industry (type 8)"),
        ("DAYS_BIRTH", 1_000_000, f"2{THIN}738 ans", "2,738 years"),
        ("NAME_FAMILY_STATUS", "Married", "Marié(e)", "Married"),
        ("AMT_CREDIT", None, "manquant", "missing"),
        ("EXT_SOURCE_1", float("nan"), "manquant", "missing"),
    ],
)
def test_humanize(name: str, value: object, french: str, english: str) -> None:
    assert dictionary.humanize(name, value, "fr") == french
    assert dictionary.humanize(name, value, "en") == english


# Levels of the Kaggle files that the small generated warehouse may not draw (see docs home_credit.md).
KAGGLE_ONLY_LEVELS = {
    "CODE_GENDER": {"XNA"},
    "NAME_INCOME_TYPE": {"Student", "Businessman", "Maternity leave"},
    "NAME_FAMILY_STATUS": {"Unknown"},
    "WEEKDAY_APPR_PROCESS_START": {"MONDAY", "SUNDAY"},
    "ORGANIZATION_TYPE": {"XNA", "Religion", "Industry: type 8", "Trade: type 4", "Trade: type 5"},
}


def test_every_level_of_every_categorical_column_has_french_and_english_words(small_warehouse: Path) -> None:
    with duckdb.connect(str(small_warehouse), read_only=True) as con:
        categorical = [
            row[0]
            for row in con.sql(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = 'features' "
                "AND data_type = 'VARCHAR' AND column_name <> 'split'"
            ).fetchall()
        ]
        assert len(categorical) >= 16
        for column in categorical:
            levels = {
                row[0]
                for row in con.sql(
                    f'SELECT DISTINCT "{column}" FROM features WHERE "{column}" IS NOT NULL'
                ).fetchall()
            }
            known = dictionary.LEVELS[column]
            assert levels | KAGGLE_ONLY_LEVELS.get(column, set()) <= set(known), column
            for level in known:
                french, english = (dictionary.level_label(column, level, lang) for lang in ("fr", "en"))
                assert french and english and english != level.upper(), (column, level)
    assert len(dictionary.LEVELS["ORGANIZATION_TYPE"]) == 58  # every Kaggle employer sector


def test_french_levels_cover_the_generated_levels(small_warehouse: Path) -> None:
    with duckdb.connect(str(small_warehouse), read_only=True) as con:
        for column, labels in dictionary.LEVELS_FR.items():
            levels = {
                row[0]
                for row in con.sql(
                    f"SELECT DISTINCT {column} FROM application_train WHERE {column} IS NOT NULL"
                ).fetchall()
            }
            assert levels <= set(labels), column


def test_every_table_and_column_has_a_comment(small_warehouse: Path) -> None:
    with duckdb.connect(str(small_warehouse), read_only=True) as con:
        tables = con.sql("SELECT table_name, comment FROM duckdb_tables()").fetchall()
        views = con.sql("SELECT view_name, comment FROM duckdb_views() WHERE NOT internal").fetchall()
        uncommented = con.sql(
            "SELECT table_name, column_name FROM duckdb_columns() "
            "WHERE NOT internal AND (comment IS NULL OR comment = '')"
        ).fetchall()
    assert {name for name, _ in tables} == {*schema.TABLES, "features", "build_info"}
    assert [name for name, _ in views] == ["clients"]
    assert all(comment for _, comment in tables + views)
    assert uncommented == []
