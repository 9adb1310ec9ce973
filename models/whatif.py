"""Editable application fields for what-if and new clients: human units, allowed ranges, strict validation.

A relationship manager edits values in human units (age in years, amounts in euros); each field maps to one raw
application column. Allowed ranges are the ones seen in training: trees cannot extrapolate, so a value outside
them would be scored as if it were the extreme seen, silently. Category choices leave out levels too rare to have
been learnt (train-only oddities such as gender "XNA", "Maternity leave", family status "Unknown").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np
import polars as pl

from models.evaluation import DAYS_PER_YEAR
from warehouse.dictionary import format_number

MIN_LEVEL_COUNT = 10
DAYS_EMPLOYED_NOT_EMPLOYED = 365243  # Home Credit's sentinel for pensioners and the unemployed


class WhatIfError(ValueError):
    """A what-if value is not acceptable; the message names the field and its allowed range or choices."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class FieldDefinition:
    """How a human field maps onto a raw application column."""

    name: str
    column: str
    kind: str  # "int", "float" or "choice"
    days_in_years: bool = False  # human value in years, raw value in negative days
    allow_missing: bool = False
    label_fr: str | None = None  # None: the dictionary label of the column
    label_en: str | None = None


FIELD_DEFINITIONS: tuple[FieldDefinition, ...] = (
    FieldDefinition("AMT_INCOME_TOTAL", "AMT_INCOME_TOTAL", "float"),
    FieldDefinition("AMT_CREDIT", "AMT_CREDIT", "float"),
    FieldDefinition("AMT_ANNUITY", "AMT_ANNUITY", "float"),
    FieldDefinition("AMT_GOODS_PRICE", "AMT_GOODS_PRICE", "float"),
    FieldDefinition(
        "AGE_YEARS",
        "DAYS_BIRTH",
        "float",
        days_in_years=True,
        label_fr="Âge (années)",
        label_en="Age (years)",
    ),
    FieldDefinition(
        "YEARS_EMPLOYED",
        "DAYS_EMPLOYED",
        "float",
        days_in_years=True,
        allow_missing=True,
        label_fr="Ancienneté dans l'emploi (années ; vide : sans emploi ou retraité)",
        label_en="Years in current job (empty: not employed or retired)",
    ),
    FieldDefinition("CNT_CHILDREN", "CNT_CHILDREN", "int"),
    FieldDefinition("CNT_FAM_MEMBERS", "CNT_FAM_MEMBERS", "int"),
    FieldDefinition("EXT_SOURCE_1", "EXT_SOURCE_1", "float", allow_missing=True),
    FieldDefinition("EXT_SOURCE_2", "EXT_SOURCE_2", "float", allow_missing=True),
    FieldDefinition("EXT_SOURCE_3", "EXT_SOURCE_3", "float", allow_missing=True),
    FieldDefinition("NAME_CONTRACT_TYPE", "NAME_CONTRACT_TYPE", "choice"),
    FieldDefinition("CODE_GENDER", "CODE_GENDER", "choice"),
    FieldDefinition("NAME_EDUCATION_TYPE", "NAME_EDUCATION_TYPE", "choice"),
    FieldDefinition("NAME_FAMILY_STATUS", "NAME_FAMILY_STATUS", "choice"),
    FieldDefinition("NAME_INCOME_TYPE", "NAME_INCOME_TYPE", "choice"),
    FieldDefinition("NAME_HOUSING_TYPE", "NAME_HOUSING_TYPE", "choice"),
    FieldDefinition("FLAG_OWN_CAR", "FLAG_OWN_CAR", "choice"),
    FieldDefinition("FLAG_OWN_REALTY", "FLAG_OWN_REALTY", "choice"),
)


@dataclass(frozen=True)
class FieldRange:
    """What training saw for one field, in human units (stored in the artifact metadata)."""

    name: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {**asdict(self), "choices": list(self.choices)}

    @classmethod
    def from_json(cls, data: Mapping) -> FieldRange:
        return cls(data["name"], data["minimum"], data["maximum"], tuple(data["choices"]))


@dataclass(frozen=True)
class FieldSpec:
    """One editable field as a form shows it: label, kind, unit, allowed range or choices (raw level values
    with their human labels), and whether it may be left empty."""

    name: str
    column: str
    label: str
    kind: str
    unit: str
    minimum: float | None
    maximum: float | None
    choices: tuple[str, ...]
    choice_labels: tuple[str, ...]
    allow_missing: bool

    def describe_range(self) -> str:
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        unit = f" {self.unit}" if self.unit else ""
        missing = " (or empty)" if self.allow_missing else ""
        return f"{_number(self.minimum)} to {_number(self.maximum)}{unit}{missing}"


def _number(value: float | None) -> str:
    """A range bound for the (English) error message, through the project's one number formatter."""
    return "?" if value is None else format_number(value, "en", 0 if value == round(value) else 2)


def to_human(definition: FieldDefinition, raw: object) -> object:
    """Raw application value → the value a form shows (None for missing or the not-employed sentinel)."""
    if raw is None or (isinstance(raw, float) and math.isnan(raw)):
        return None
    if definition.days_in_years:
        if raw == DAYS_EMPLOYED_NOT_EMPLOYED:
            return None
        return round(-float(raw) / DAYS_PER_YEAR, 2)
    return raw


def to_raw(definition: FieldDefinition, human: object) -> object:
    if human is None:
        return DAYS_EMPLOYED_NOT_EMPLOYED if definition.column == "DAYS_EMPLOYED" else None
    if definition.days_in_years:
        return -round(float(human) * DAYS_PER_YEAR)
    return human


def learn_ranges(train: pl.DataFrame) -> list[FieldRange]:
    """Allowed ranges and choices per field from the training rows (fields whose column is absent are skipped)."""
    ranges = []
    for definition in FIELD_DEFINITIONS:
        if definition.column not in train.columns:
            continue
        column = train.get_column(definition.column)
        if definition.kind == "choice":
            counts = column.cast(pl.String).drop_nulls().value_counts()
            common = counts.filter(pl.col("count") >= MIN_LEVEL_COUNT).get_column(definition.column)
            ranges.append(FieldRange(definition.name, choices=tuple(sorted(common.to_list()))))
            continue
        values = column.cast(pl.Float64).fill_nan(None).drop_nulls()
        if definition.column == "DAYS_EMPLOYED":
            values = values.filter(values != DAYS_EMPLOYED_NOT_EMPLOYED)
        if values.is_empty():
            continue
        bounds = [to_human(definition, values.min()), to_human(definition, values.max())]
        # Outward to the cent (or hundredth of a year) so every training value, once rounded, is accepted.
        low, high = math.floor(min(bounds) * 100) / 100, math.ceil(max(bounds) * 100) / 100
        if definition.days_in_years:
            low, high = max(0.0, round(low - 0.01, 2)), round(high + 0.01, 2)
        ranges.append(FieldRange(definition.name, low, high))
    return ranges


def validate(spec: FieldSpec, value: object) -> object:
    """The value, checked against the field's type and range; WhatIfError otherwise."""
    where = f"{spec.name} ({spec.label})"
    if value is None or (isinstance(value, float) and math.isnan(value)):
        if spec.allow_missing:
            return None
        raise WhatIfError(spec.name, f"{where} cannot be empty; allowed: {spec.describe_range()}")
    if spec.kind == "choice":
        if str(value) not in spec.choices:
            raise WhatIfError(
                spec.name, f"{where} = {value!r} is not allowed; allowed: {spec.describe_range()}"
            )
        return str(value)
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise WhatIfError(
            spec.name, f"{where} must be a number, got {value!r}; allowed: {spec.describe_range()}"
        )
    if not math.isfinite(float(value)):
        raise WhatIfError(
            spec.name, f"{where} must be finite, got {value!r}; allowed: {spec.describe_range()}"
        )
    if spec.kind == "int" and float(value) != int(value):
        raise WhatIfError(spec.name, f"{where} must be a whole number, got {value!r}")
    if not spec.minimum <= float(value) <= spec.maximum:
        raise WhatIfError(
            spec.name, f"{where} = {value!r} is outside the allowed range {spec.describe_range()}"
        )
    return int(value) if spec.kind == "int" else float(value)
