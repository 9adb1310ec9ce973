"""A tiny Kaggle-format folder written by the tests: three applicants with side-table rows known by heart.

Client 100002 is the first row of the real application_train (same amounts and day offsets) with two bureau
credits, two previous applications, two instalments, two POS months and one credit-card month; client 100003 is a
pensioner (DAYS_EMPLOYED = 365243, ORGANIZATION_TYPE "XNA", CODE_GENDER "XNA") with no side-table rows; client
100004 is in application_test. Quoted fields with commas and empty values are included on purpose.
"""

from __future__ import annotations

import csv
from pathlib import Path

from warehouse import schema

_TEXT_DEFAULTS = {
    "NAME_CONTRACT_TYPE": "Cash loans",
    "CODE_GENDER": "M",
    "FLAG_OWN_CAR": "N",
    "FLAG_OWN_REALTY": "Y",
    "NAME_TYPE_SUITE": "Spouse, partner",
    "NAME_INCOME_TYPE": "Working",
    "NAME_EDUCATION_TYPE": "Secondary / secondary special",
    "NAME_FAMILY_STATUS": "Single / not married",
    "NAME_HOUSING_TYPE": "House / apartment",
    "OCCUPATION_TYPE": "Laborers",
    "WEEKDAY_APPR_PROCESS_START": "WED",
    "ORGANIZATION_TYPE": "Business Entity Type 3",
    "WALLSMATERIAL_MODE": "Stone, brick",
}

APPLICANT_100002 = {
    "SK_ID_CURR": 100002,
    "TARGET": 1,
    "AMT_INCOME_TOTAL": 202500.0,
    "AMT_CREDIT": 406597.5,
    "AMT_ANNUITY": 24700.5,
    "AMT_GOODS_PRICE": 351000.0,
    "DAYS_BIRTH": -9461,
    "DAYS_EMPLOYED": -637,
    "CNT_FAM_MEMBERS": 1.0,
    "EXT_SOURCE_1": 0.0830369673913225,
    "EXT_SOURCE_2": 0.2629485927471776,
    "EXT_SOURCE_3": 0.1393757800997895,
}
APPLICANT_100003 = {
    "SK_ID_CURR": 100003,
    "TARGET": 0,
    "CODE_GENDER": "XNA",
    "NAME_INCOME_TYPE": "Pensioner",
    "DAYS_EMPLOYED": 365243,
    "ORGANIZATION_TYPE": "XNA",
    "EXT_SOURCE_1": "",
    "AMT_INCOME_TOTAL": 270000.0,
    "AMT_CREDIT": 1293502.5,
    "AMT_ANNUITY": 35698.5,
    "AMT_GOODS_PRICE": 1129500.0,
    "DAYS_BIRTH": -23000,
    "CNT_FAM_MEMBERS": 2.0,
}
APPLICANT_100004 = {
    "SK_ID_CURR": 100004,
    "AMT_INCOME_TOTAL": 67500.0,
    "AMT_CREDIT": 135000.0,
    "AMT_ANNUITY": 6750.0,
    "AMT_GOODS_PRICE": 135000.0,
    "DAYS_BIRTH": -19046,
}

SIDE_ROWS: dict[str, list[dict[str, object]]] = {
    "bureau": [
        {
            "SK_ID_CURR": 100002,
            "SK_ID_BUREAU": 6000001,
            "CREDIT_ACTIVE": "Active",
            "DAYS_CREDIT": -100,
            "AMT_CREDIT_SUM": 1000.0,
            "AMT_CREDIT_SUM_DEBT": 500.0,
            "CREDIT_DAY_OVERDUE": 0,
        },
        {
            "SK_ID_CURR": 100002,
            "SK_ID_BUREAU": 6000002,
            "CREDIT_ACTIVE": "Closed",
            "DAYS_CREDIT": -500,
            "AMT_CREDIT_SUM": 3000.0,
            "AMT_CREDIT_SUM_DEBT": 0.0,
            "CREDIT_DAY_OVERDUE": 0,
        },
    ],
    "bureau_balance": [
        {"SK_ID_BUREAU": 6000001, "MONTHS_BALANCE": 0, "STATUS": "0"},
        {"SK_ID_BUREAU": 6000001, "MONTHS_BALANCE": -1, "STATUS": "1"},
        {"SK_ID_BUREAU": 6000001, "MONTHS_BALANCE": -2, "STATUS": "X"},
    ],
    "previous_application": [
        {
            "SK_ID_PREV": 1000001,
            "SK_ID_CURR": 100002,
            "NAME_CONTRACT_STATUS": "Approved",
            "AMT_APPLICATION": 9000.0,
            "AMT_CREDIT": 10000.0,
            "DAYS_DECISION": -300,
            "DAYS_FIRST_DRAWING": 365243.0,
            "NAME_GOODS_CATEGORY": "Audio/Video",
        },
        {
            "SK_ID_PREV": 1000002,
            "SK_ID_CURR": 100002,
            "NAME_CONTRACT_STATUS": "Refused",
            "AMT_APPLICATION": 5000.0,
            "AMT_CREDIT": 4000.0,
            "DAYS_DECISION": -50,
            "NAME_GOODS_CATEGORY": "",
        },
    ],
    "installments_payments": [
        {
            "SK_ID_PREV": 1000001,
            "SK_ID_CURR": 100002,
            "NUM_INSTALMENT_NUMBER": 1,
            "DAYS_INSTALMENT": -100.0,
            "DAYS_ENTRY_PAYMENT": -95.0,
            "AMT_INSTALMENT": 100.0,
            "AMT_PAYMENT": 100.0,
        },
        {
            "SK_ID_PREV": 1000001,
            "SK_ID_CURR": 100002,
            "NUM_INSTALMENT_NUMBER": 2,
            "DAYS_INSTALMENT": -70.0,
            "DAYS_ENTRY_PAYMENT": -75.0,
            "AMT_INSTALMENT": 100.0,
            "AMT_PAYMENT": 60.0,
        },
    ],
    "POS_CASH_balance": [
        {
            "SK_ID_PREV": 1000001,
            "SK_ID_CURR": 100002,
            "MONTHS_BALANCE": -2,
            "SK_DPD": 0,
            "SK_DPD_DEF": 0,
            "NAME_CONTRACT_STATUS": "Active",
        },
        {
            "SK_ID_PREV": 1000001,
            "SK_ID_CURR": 100002,
            "MONTHS_BALANCE": -1,
            "SK_DPD": 4,
            "SK_DPD_DEF": 0,
            "NAME_CONTRACT_STATUS": "Completed",
        },
    ],
    "credit_card_balance": [
        {
            "SK_ID_PREV": 1000003,
            "SK_ID_CURR": 100002,
            "MONTHS_BALANCE": -1,
            "AMT_BALANCE": 500.0,
            "AMT_CREDIT_LIMIT_ACTUAL": 1000,
            "NAME_CONTRACT_STATUS": "Active",
            "SK_DPD": 0,
            "SK_DPD_DEF": 0,
        },
    ],
}


def _default(dtype: str) -> object:
    return {schema.INT: 0, schema.FLOAT: "", schema.TEXT: ""}[dtype]


def _application_rows(
    applicants: list[dict[str, object]], columns: dict[str, str]
) -> list[dict[str, object]]:
    rows = []
    for applicant in applicants:
        row = {name: _TEXT_DEFAULTS.get(name, _default(dtype)) for name, dtype in columns.items()}
        row.update({"REGION_RATING_CLIENT": 2, "REGION_RATING_CLIENT_W_CITY": 2, "DAYS_EMPLOYED": -1000})
        row.update({k: v for k, v in applicant.items() if k in columns})
        rows.append(row)
    return rows


def write_csv(path: Path, columns: list[str], rows: list[dict[str, object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_kaggle_folder(folder: Path, tables: tuple[str, ...] = tuple(schema.TABLES)) -> Path:
    """Write the chosen Kaggle CSV files (all by default) into ``folder`` and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    for table in tables:
        columns = schema.TABLES[table]
        if table == "application_train":
            rows = _application_rows([APPLICANT_100002, APPLICANT_100003], columns)
        elif table == "application_test":
            rows = _application_rows([APPLICANT_100004], columns)
        else:
            rows = [
                {name: row.get(name, _default(dtype)) for name, dtype in columns.items()}
                for row in SIDE_ROWS[table]
            ]
        write_csv(folder / f"{table}.csv", list(columns), rows)
    return folder
