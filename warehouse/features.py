"""Model-ready features as DuckDB SQL, in the spirit of Aguiar's "LightGBM with simple features" kernel.

``APPLICATION_FEATURES_SQL`` is the single source of truth for application-level features: the warehouse build
runs it over every applicant and :func:`recompute_application_features` runs the very same text over edited or
new rows. Side-table aggregates are generated from small specs (prefix_COLUMN_STAT names) so that the dictionary
can label them by rule.
"""

from __future__ import annotations

import duckdb
import polars as pl

from warehouse import schema
from warehouse.arrow_exchange import register_frame, to_polars

# Application columns left out of ``features``: TARGET travels separately, the _MODE/_MEDI building columns
# are near-copies of _AVG, FLAG_MOBIL is constant and most document flags are almost always 0.
KEPT_DOCUMENTS = (3, 6, 8)
_DROPPED_APPLICATION = {
    "TARGET",
    "FLAG_MOBIL",
    *(f"{stem}_{suffix}" for stem in schema.BUILDING_STEMS for suffix in ("MODE", "MEDI")),
    *(f"FLAG_DOCUMENT_{n}" for n in schema.DOCUMENT_NUMBERS if n not in KEPT_DOCUMENTS),
}
_PLACEHOLDER_TO_NULL = {"CODE_GENDER": "XNA", "ORGANIZATION_TYPE": "XNA"}
ANOMALY = schema.DAYS_ANOMALY
_POLARS_TYPE = {schema.INT: pl.Int64, schema.FLOAT: pl.Float64, schema.TEXT: pl.String}

_EXT = ("EXT_SOURCE_1", "EXT_SOURCE_2", "EXT_SOURCE_3")
_EXT_PRESENT = " + ".join(f"({c} IS NOT NULL)::INTEGER" for c in _EXT)
_EXT_MEAN = f"({' + '.join(f'coalesce({c}, 0)' for c in _EXT)}) / NULLIF({_EXT_PRESENT}, 0)"
_DERIVED_APPLICATION = {
    "DAYS_EMPLOYED_ANOM": f"(DAYS_EMPLOYED = {ANOMALY})::INTEGER",
    "DAYS_EMPLOYED_PERC": f"CASE WHEN DAYS_EMPLOYED = {ANOMALY} THEN NULL "
    "ELSE DAYS_EMPLOYED::DOUBLE / NULLIF(DAYS_BIRTH, 0) END",
    "INCOME_CREDIT_PERC": "AMT_INCOME_TOTAL / NULLIF(AMT_CREDIT, 0)",
    "INCOME_PER_PERSON": "AMT_INCOME_TOTAL / NULLIF(CNT_FAM_MEMBERS, 0)",
    "ANNUITY_INCOME_PERC": "AMT_ANNUITY / NULLIF(AMT_INCOME_TOTAL, 0)",
    "PAYMENT_RATE": "AMT_ANNUITY / NULLIF(AMT_CREDIT, 0)",
    "CREDIT_TO_GOODS": "AMT_CREDIT / NULLIF(AMT_GOODS_PRICE, 0)",
    "GOODS_INCOME_PERC": "AMT_GOODS_PRICE / NULLIF(AMT_INCOME_TOTAL, 0)",
    "EXT_SOURCES_MEAN": _EXT_MEAN,
    "EXT_SOURCES_MIN": f"least({', '.join(_EXT)})",
    "EXT_SOURCES_MAX": f"greatest({', '.join(_EXT)})",
    "EXT_SOURCES_PROD": " * ".join(_EXT),
    "EXT_SOURCES_NAN": f"3 - ({_EXT_PRESENT})",
    "CAR_AGE_TO_AGE": "OWN_CAR_AGE / NULLIF(-DAYS_BIRTH / 365.25, 0)",
    "PHONE_CHANGE_TO_AGE": "DAYS_LAST_PHONE_CHANGE / NULLIF(DAYS_BIRTH, 0)",
    "DOCUMENT_COUNT": " + ".join(f"FLAG_DOCUMENT_{n}" for n in schema.DOCUMENT_NUMBERS),
}
_INTEGER_DERIVED = {"DAYS_EMPLOYED_ANOM", "EXT_SOURCES_NAN", "DOCUMENT_COUNT"}


def _application_select() -> str:
    columns = []
    for name in schema.APPLICATION_TRAIN:
        if name in _DROPPED_APPLICATION:
            continue
        if name == "DAYS_EMPLOYED":
            columns.append(
                f"CASE WHEN DAYS_EMPLOYED = {ANOMALY} THEN NULL ELSE DAYS_EMPLOYED END AS DAYS_EMPLOYED"
            )
        elif name in _PLACEHOLDER_TO_NULL:
            columns.append(f"NULLIF({name}, '{_PLACEHOLDER_TO_NULL[name]}') AS {name}")
        else:
            columns.append(name)
    columns += [
        f"({expression})::{'INTEGER' if name in _INTEGER_DERIVED else 'DOUBLE'} AS {name}"
        for name, expression in _DERIVED_APPLICATION.items()
    ]
    return "SELECT\n    " + ",\n    ".join(columns) + "\nFROM application_raw"


APPLICATION_FEATURES_SQL = _application_select()

_SEP = ",\n    "
_STAT_SQL = {"MIN": "min", "MAX": "max", "MEAN": "avg", "SUM": "sum", "VAR": "var_samp"}


def _aggregates(prefix: str, spec: dict[str, tuple[str, ...]], where: str | None = None) -> list[str]:
    """``min(COL) AS PREFIX_COL_MIN`` ... plus ``PREFIX_COUNT``, optionally restricted with FILTER."""
    condition = f" FILTER (WHERE {where})" if where else ""
    lines = [f"count(*){condition} AS {prefix}_COUNT"]
    for column, stats in spec.items():
        # sum() of integers is a 128-bit HUGEINT in DuckDB: keep every aggregate a plain DOUBLE or BIGINT
        lines += [
            f"{_STAT_SQL[stat]}({column}){condition}{'::DOUBLE' if stat == 'SUM' else ''} "
            f"AS {prefix}_{column}_{stat}"
            for stat in stats
        ]
    return lines


_BUREAU_ALL = {
    "DAYS_CREDIT": ("MIN", "MAX", "MEAN", "VAR"),
    "DAYS_CREDIT_ENDDATE": ("MIN", "MAX", "MEAN"),
    "DAYS_CREDIT_UPDATE": ("MEAN",),
    "CREDIT_DAY_OVERDUE": ("MAX", "MEAN"),
    "AMT_CREDIT_MAX_OVERDUE": ("MEAN", "MAX"),
    "AMT_CREDIT_SUM": ("MAX", "MEAN", "SUM"),
    "AMT_CREDIT_SUM_DEBT": ("MAX", "MEAN", "SUM"),
    "AMT_CREDIT_SUM_OVERDUE": ("MEAN",),
    "AMT_CREDIT_SUM_LIMIT": ("MEAN", "SUM"),
    "AMT_ANNUITY": ("MAX", "MEAN"),
    "CNT_CREDIT_PROLONG": ("SUM",),
    "MONTHS_BALANCE": ("MIN",),
    "STATUS_LATE": ("SUM", "MEAN"),
}
_BUREAU_SUBSET = {
    "DAYS_CREDIT": ("MIN", "MAX", "MEAN"),
    "DAYS_CREDIT_ENDDATE": ("MAX",),
    "AMT_CREDIT_SUM": ("SUM", "MEAN"),
    "AMT_CREDIT_SUM_DEBT": ("SUM",),
    "CREDIT_DAY_OVERDUE": ("MAX",),
    "STATUS_LATE": ("MEAN",),
}
BUREAU_FEATURES_SQL = f"""
WITH monthly AS (
    SELECT SK_ID_BUREAU, min(MONTHS_BALANCE) AS MONTHS_BALANCE,
           sum((STATUS IN ('1', '2', '3', '4', '5'))::INTEGER) AS STATUS_LATE
    FROM bureau_balance GROUP BY SK_ID_BUREAU
), credits AS (
    SELECT bureau.*, monthly.MONTHS_BALANCE, monthly.STATUS_LATE
    FROM bureau LEFT JOIN monthly USING (SK_ID_BUREAU)
)
SELECT SK_ID_CURR,
    {
    _SEP.join(
        _aggregates("BURO", _BUREAU_ALL)
        + _aggregates("ACTIVE", _BUREAU_SUBSET, "CREDIT_ACTIVE = 'Active'")
        + _aggregates("CLOSED", _BUREAU_SUBSET, "CREDIT_ACTIVE = 'Closed'")
    )
}
FROM credits GROUP BY SK_ID_CURR
"""

_PREVIOUS_DAYS = (
    "DAYS_FIRST_DRAWING",
    "DAYS_FIRST_DUE",
    "DAYS_LAST_DUE_1ST_VERSION",
    "DAYS_LAST_DUE",
    "DAYS_TERMINATION",
)
_PREVIOUS_ALL = {
    "AMT_ANNUITY": ("MIN", "MAX", "MEAN"),
    "AMT_APPLICATION": ("MAX", "MEAN"),
    "AMT_CREDIT": ("MAX", "MEAN", "SUM"),
    "APP_CREDIT_PERC": ("MIN", "MAX", "MEAN"),
    "AMT_DOWN_PAYMENT": ("MAX", "MEAN"),
    "AMT_GOODS_PRICE": ("MEAN",),
    "HOUR_APPR_PROCESS_START": ("MEAN",),
    "RATE_DOWN_PAYMENT": ("MEAN",),
    "DAYS_DECISION": ("MIN", "MAX", "MEAN"),
    "CNT_PAYMENT": ("MEAN", "SUM"),
    "REFUSED": ("MEAN",),
}
_PREVIOUS_APPROVED = {
    "AMT_ANNUITY": ("MEAN",),
    "AMT_CREDIT": ("MAX", "MEAN"),
    "APP_CREDIT_PERC": ("MEAN",),
    "CNT_PAYMENT": ("MEAN",),
    "DAYS_DECISION": ("MAX",),
    "DAYS_LAST_DUE_1ST_VERSION": ("MAX",),
    "DAYS_TERMINATION": ("MAX",),
}
_PREVIOUS_REFUSED = {"AMT_CREDIT": ("MEAN",), "APP_CREDIT_PERC": ("MEAN",), "DAYS_DECISION": ("MAX",)}
PREVIOUS_FEATURES_SQL = f"""
WITH applications AS (
    SELECT * REPLACE ({", ".join(f"NULLIF({c}, {ANOMALY}) AS {c}" for c in _PREVIOUS_DAYS)}),
           AMT_APPLICATION / NULLIF(AMT_CREDIT, 0) AS APP_CREDIT_PERC,
           (NAME_CONTRACT_STATUS = 'Refused')::INTEGER AS REFUSED
    FROM previous_application
)
SELECT SK_ID_CURR,
    {
    _SEP.join(
        _aggregates("PREV", _PREVIOUS_ALL)
        + _aggregates("APPROVED", _PREVIOUS_APPROVED, "NAME_CONTRACT_STATUS = 'Approved'")
        + _aggregates("REFUSED", _PREVIOUS_REFUSED, "NAME_CONTRACT_STATUS = 'Refused'")
    )
}
FROM applications GROUP BY SK_ID_CURR
"""

_POS = {
    "MONTHS_BALANCE": ("MAX", "MEAN"),
    "CNT_INSTALMENT_FUTURE": ("MEAN",),
    "SK_DPD": ("MAX", "MEAN"),
    "SK_DPD_DEF": ("MAX", "MEAN"),
    "STATUS_COMPLETED": ("MEAN",),
}
POS_FEATURES_SQL = f"""
SELECT SK_ID_CURR,
    {_SEP.join(_aggregates("POS", _POS))}
FROM (SELECT *, (NAME_CONTRACT_STATUS = 'Completed')::INTEGER AS STATUS_COMPLETED FROM POS_CASH_balance)
GROUP BY SK_ID_CURR
"""

_INSTALMENTS = {
    "DPD": ("MAX", "MEAN", "SUM"),
    "DBD": ("MAX", "MEAN", "SUM"),
    "LATE": ("MEAN", "SUM"),
    "PAYMENT_PERC": ("MIN", "MEAN"),
    "PAYMENT_DIFF": ("MAX", "MEAN", "SUM"),
    "AMT_INSTALMENT": ("MAX", "MEAN", "SUM"),
    "AMT_PAYMENT": ("MIN", "MAX", "MEAN", "SUM"),
    "DAYS_ENTRY_PAYMENT": ("MAX", "MEAN"),
}
INSTALMENTS_FEATURES_SQL = f"""
WITH payments AS (
    SELECT *,
           greatest(DAYS_ENTRY_PAYMENT - DAYS_INSTALMENT, 0) AS DPD,
           greatest(DAYS_INSTALMENT - DAYS_ENTRY_PAYMENT, 0) AS DBD,
           (DAYS_ENTRY_PAYMENT > DAYS_INSTALMENT)::INTEGER AS LATE,
           AMT_PAYMENT / NULLIF(AMT_INSTALMENT, 0) AS PAYMENT_PERC,
           AMT_INSTALMENT - AMT_PAYMENT AS PAYMENT_DIFF
    FROM installments_payments
)
SELECT SK_ID_CURR,
    {_SEP.join(_aggregates("INSTAL", _INSTALMENTS))}
FROM payments GROUP BY SK_ID_CURR
"""

_CREDIT_CARD = {
    "MONTHS_BALANCE": ("MIN",),
    "AMT_BALANCE": ("MAX", "MEAN"),
    "AMT_CREDIT_LIMIT_ACTUAL": ("MAX", "MEAN"),
    "UTILISATION": ("MAX", "MEAN"),
    "AMT_DRAWINGS_CURRENT": ("MAX", "MEAN", "SUM"),
    "AMT_DRAWINGS_ATM_CURRENT": ("MEAN",),
    "AMT_PAYMENT_TOTAL_CURRENT": ("MEAN", "SUM"),
    "AMT_INST_MIN_REGULARITY": ("MEAN",),
    "CNT_DRAWINGS_CURRENT": ("MAX", "MEAN"),
    "SK_DPD": ("MAX", "MEAN"),
    "SK_DPD_DEF": ("MAX",),
}
CREDIT_CARD_FEATURES_SQL = f"""
SELECT SK_ID_CURR,
    {_SEP.join(_aggregates("CC", _CREDIT_CARD))}
FROM (SELECT *, AMT_BALANCE / NULLIF(AMT_CREDIT_LIMIT_ACTUAL, 0) AS UTILISATION FROM credit_card_balance)
GROUP BY SK_ID_CURR
"""

SIDE_FEATURES_SQL = {
    "bureau": BUREAU_FEATURES_SQL,
    "previous_application": PREVIOUS_FEATURES_SQL,
    "POS_CASH_balance": POS_FEATURES_SQL,
    "installments_payments": INSTALMENTS_FEATURES_SQL,
    "credit_card_balance": CREDIT_CARD_FEATURES_SQL,
}

# Builds ``features`` from the raw tables; ``application_raw`` and ``labels`` are temporary views of the build.
FEATURES_TABLE_SQL = f"""
CREATE TABLE features AS
SELECT labels.SK_ID_CURR, labels.split, labels.TARGET,
       app.* EXCLUDE (SK_ID_CURR),
       {", ".join(f"{alias}.* EXCLUDE (SK_ID_CURR)" for alias in ("bureau_f", "previous_f", "pos_f", "instal_f", "cc_f"))}
FROM labels
JOIN ({APPLICATION_FEATURES_SQL}) AS app USING (SK_ID_CURR)
LEFT JOIN ({BUREAU_FEATURES_SQL}) AS bureau_f USING (SK_ID_CURR)
LEFT JOIN ({PREVIOUS_FEATURES_SQL}) AS previous_f USING (SK_ID_CURR)
LEFT JOIN ({POS_FEATURES_SQL}) AS pos_f USING (SK_ID_CURR)
LEFT JOIN ({INSTALMENTS_FEATURES_SQL}) AS instal_f USING (SK_ID_CURR)
LEFT JOIN ({CREDIT_CARD_FEATURES_SQL}) AS cc_f USING (SK_ID_CURR)
ORDER BY labels.SK_ID_CURR
"""

PREPARE_VIEWS_SQL = """
CREATE OR REPLACE TEMP VIEW application_raw AS
    SELECT * EXCLUDE (TARGET) FROM application_train
    UNION ALL BY NAME SELECT * FROM application_test;
CREATE OR REPLACE TEMP VIEW labels AS
    SELECT SK_ID_CURR, 'train' AS split, TARGET FROM application_train
    UNION ALL SELECT SK_ID_CURR, 'test' AS split, NULL::BIGINT AS TARGET FROM application_test;
"""


def create_features(con: duckdb.DuckDBPyConnection) -> None:
    """Create the ``features`` table from the raw tables already in ``con``."""
    con.execute(PREPARE_VIEWS_SQL)
    con.execute(FEATURES_TABLE_SQL)


def recompute_application_features(rows: pl.DataFrame) -> pl.DataFrame:
    """Application-level features of raw application rows (what-if edits, new clients), with the warehouse SQL.

    Columns absent from ``rows`` (TARGET, or fields a form does not ask for) are treated as missing; present
    columns are cast to their Kaggle types first, so ``"3"`` and ``3`` give the same result.
    """
    typed = rows.select(
        pl.col(name).cast(_POLARS_TYPE[dtype])
        if name in rows.columns
        else pl.lit(None, _POLARS_TYPE[dtype]).alias(name)
        for name, dtype in schema.APPLICATION_TRAIN.items()
    )
    with duckdb.connect() as con:
        register_frame(con, "application_raw", typed)
        return to_polars(con.sql(APPLICATION_FEATURES_SQL))
