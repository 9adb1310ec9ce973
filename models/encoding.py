"""One encoding of warehouse feature rows into the float matrix LightGBM sees, shared by training and serving.

Categorical features are VARCHAR in the warehouse. They become the index of the level in the list stored in the
artifact metadata (learnt on the training split), so serving maps exactly as training did; a missing or unseen
level becomes NaN, which LightGBM treats as missing. Numeric columns are cast to float; NULL becomes NaN.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import polars as pl


class ScorerError(Exception):
    """The scorer cannot run on the data it was given (missing or mistyped features, bad artifact)."""


NUMERIC = "numeric"
CATEGORICAL = "categorical"


@cache
def kind_of(dtype: pl.DataType) -> str | None:
    """The model kind of a Polars dtype: numeric, categorical, or None when the model cannot use it."""
    if dtype.is_numeric() or dtype == pl.Boolean:
        return NUMERIC
    if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum | pl.Categorical):
        return CATEGORICAL
    return None


@dataclass(frozen=True)
class FeatureSchema:
    """Ordered features, their kind and, for categorical ones, the training levels."""

    names: tuple[str, ...]
    kinds: tuple[str, ...]
    levels: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    codes: Mapping[str, dict[str, float]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        lookup = {
            name: {level: float(i) for i, level in enumerate(self.levels.get(name, ()))}
            for name, kind in zip(self.names, self.kinds, strict=True)
            if kind == CATEGORICAL
        }
        object.__setattr__(self, "codes", lookup)  # derived once; the dataclass stays frozen

    @property
    def categorical_indices(self) -> list[int]:
        return [i for i, kind in enumerate(self.kinds) if kind == CATEGORICAL]

    @classmethod
    def learn(cls, frame: pl.DataFrame, names: Sequence[str]) -> FeatureSchema:
        """Kinds from the dtypes of ``frame``; categorical levels = sorted distinct non-null training values."""
        kinds, levels = [], {}
        for name in names:
            kind = kind_of(frame.schema[name])
            if kind is None:
                raise ScorerError(
                    f"feature {name!r} has dtype {frame.schema[name]} which the model cannot use"
                )
            kinds.append(kind)
            if kind == CATEGORICAL:
                values = frame.get_column(name).cast(pl.String).drop_nulls().unique().sort()
                levels[name] = tuple(values.to_list())
        return cls(tuple(names), tuple(kinds), levels)

    def to_json(self) -> dict:
        return {
            "names": list(self.names),
            "kinds": list(self.kinds),
            "levels": {name: list(values) for name, values in self.levels.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping) -> FeatureSchema:
        return cls(
            tuple(data["names"]),
            tuple(data["kinds"]),
            {name: tuple(values) for name, values in data["levels"].items()},
        )

    def problems_with(self, kinds: Mapping[str, str | None], where: str) -> list[str]:
        """Human-readable list of missing or mistyped features, given the kind of each available column."""
        problems = []
        for name, kind in zip(self.names, self.kinds, strict=True):
            if name not in kinds:
                problems.append(f"missing feature {name!r}")
            elif kinds[name] != kind:
                problems.append(
                    f"feature {name!r} is {kinds[name] or 'of an unusable type'} {where},"
                    f" the model expects {kind}"
                )
        return problems

    def check(self, frame: pl.DataFrame) -> None:
        schema = frame.schema
        problems = self.problems_with(
            {name: kind_of(schema[name]) for name in self.names if name in schema}, "here"
        )
        if problems:
            raise ScorerError("features do not match the model: " + "; ".join(problems))

    def encode(self, frame: pl.DataFrame) -> np.ndarray:
        """(n_rows, n_features) float64 matrix in model order; raises ScorerError on a schema mismatch."""
        self.check(frame)
        columns = []
        for name, kind in zip(self.names, self.kinds, strict=True):
            column = pl.col(name)
            if kind == CATEGORICAL:
                codes = self.codes[name]
                column = column.cast(pl.String).replace_strict(
                    list(codes), list(codes.values()), default=None, return_dtype=pl.Float64
                )
            columns.append(column.cast(pl.Float64).alias(name))
        matrix = frame.select(columns).to_numpy(order="c")
        return np.asarray(matrix, dtype=np.float64)

    def encode_values(self, values: Mapping[str, object]) -> np.ndarray:
        """One row from a plain mapping (the fast path for a single client: no DataFrame work)."""
        row = np.empty((1, len(self.names)), dtype=np.float64)
        for i, (name, kind) in enumerate(zip(self.names, self.kinds, strict=True)):
            value = values[name]
            if value is None:
                row[0, i] = np.nan
            elif kind == CATEGORICAL:
                row[0, i] = self.codes[name].get(str(value), np.nan)
            else:
                row[0, i] = float(value)
        return row
