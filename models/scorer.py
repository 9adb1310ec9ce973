"""The serving scorer: probability, decision, exact contributions, plain-language reasons, what-if.

Contributions are LightGBM's own TreeSHAP (``pred_contrib``) in the raw model's log-odds: for every client,
base value + Σ contributions = raw score, exactly. The served probability is the Platt-calibrated
sigmoid(slope · raw score + intercept) with slope > 0, so refusing at probability ≥ threshold is the same as
refusing at raw score ≥ the raw threshold: the decision and its explanation always agree. What a manager reads
is the same split carried into percentage points of probability (``models.reasons.probability_points``), which
add up exactly to the probability minus the base probability.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from models import vocabulary
from models.artifact import Artifact, read_artifact
from models.calibration import PlattCalibration
from models.encoding import CATEGORICAL, NUMERIC, FeatureSchema, ScorerError
from models.evaluation import group_keys
from models.groups import group_of
from models.lean_lightgbm import import_lightgbm
from models.reasons import (
    FeatureEffect,
    Reason,
    build_reasons,
    check_lang,
    probability_points,
    summary_sentence,
)
from models.whatif import (
    FIELD_DEFINITIONS,
    FieldRange,
    FieldSpec,
    WhatIfError,
    check_consistency,
    to_human,
    to_raw,
    validate,
)
from warehouse import Warehouse, recompute_application_features

lgb = import_lightgbm()

ID = "SK_ID_CURR"
GRANTED, REFUSED = "granted", "refused"
TOP_CONTRIBUTIONS = 5
BATCH_ROWS = 50_000
NEW_CLIENT_ID = 0
NOT_EMPLOYED_FEATURES = frozenset({"DAYS_EMPLOYED", "DAYS_EMPLOYED_PERC"})
CONTRIBUTION_SCHEMA = {
    "feature": pl.String,
    "group": pl.String,
    "label": pl.String,
    "value": pl.String,
    "display_value": pl.String,
    "contribution": pl.Float64,
    "points": pl.Float64,
}
GROUPED_SCHEMA = {"group": pl.String, "label": pl.String, "contribution": pl.Float64, "points": pl.Float64}


@dataclass(frozen=True)
class Explanation:
    """Everything the dashboard shows for one client's score.

    ``contributions``: one row per model feature (``feature, group, label, value, display_value, contribution,
    points``), sorted by |contribution|; ``value`` is the raw value as text (null when missing), ``contribution``
    in log-odds, ``points`` in percentage points of probability. ``grouped``: the same summed per human group
    (every group, so the points add up to the probability minus ``base_probability``). ``reasons_against`` /
    ``reasons_for``: at most four each, what may be told to the client; ``not_provided``: labels of missing
    information that weighs on the score. ``margin_points``: probability − threshold in percentage points
    (positive: on the refused side).
    """

    sk_id: int | None
    probability: float
    decision: str
    threshold: float
    margin_points: float
    in_grey_zone: bool
    base_value: float
    raw_score: float
    contributions: pl.DataFrame
    grouped: pl.DataFrame
    reasons_against: list[Reason]
    reasons_for: list[Reason]
    sentence: str
    lang: str
    base_probability: float = 0.0
    not_provided: tuple[str, ...] = ()


class Scorer:
    """A loaded artifact, ready to score, explain and rescore clients."""

    def __init__(self, artifact: Artifact) -> None:
        metadata = artifact.metadata
        self.metadata = metadata
        self.metrics = artifact.metrics
        self.model_card = artifact.model_card
        self.fairness = artifact.tables["fairness"]
        self.global_importance = artifact.tables["importance"]
        self.group_importance = artifact.tables["group_importance"]
        self.cost_curve = artifact.tables["cost_curve"]
        self.schema = FeatureSchema.from_json(metadata["features"])
        self.calibration = PlattCalibration.from_json(metadata["calibration"])
        self.threshold = float(metadata["threshold"])
        self.grey_zone = float(metadata["grey_zone"])
        self.booster = lgb.Booster(model_str=artifact.model_text)
        if self.booster.feature_name() != list(self.schema.names):
            raise ScorerError("model.txt and metadata.json list different features: the artifact is corrupt")
        self._ranges = {f["name"]: FieldRange.from_json(f) for f in metadata["what_if_fields"]}
        self._groups = group_keys(list(self.schema.names))
        self._labels = {
            lang: [vocabulary.label(name, lang) for name in self.schema.names] for lang in ("fr", "en")
        }
        self._group_labels = {
            lang: [
                group.label(lang) if (group := group_of(name)) else label
                for name, label in zip(self.schema.names, labels, strict=True)
            ]
            for lang, labels in self._labels.items()
        }
        self._group_label = {
            lang: dict(zip(self._groups, labels, strict=True)) for lang, labels in self._group_labels.items()
        }

    @classmethod
    def load(cls, model_dir: Path) -> Scorer:
        return cls(read_artifact(Path(model_dir)))

    @property
    def feature_names(self) -> list[str]:
        return list(self.schema.names)

    @property
    def model_id(self) -> str:
        """Fingerprint of this model (see :func:`models.artifact.model_fingerprint`); ``scores`` records it."""
        return self.metadata["model_id"]

    @property
    def warehouse_build_id(self) -> str:
        """``build_info.build_id`` of the warehouse this model was trained on."""
        return self.metadata["warehouse_build_id"]

    @property
    def warehouse_fingerprint(self) -> str:
        """``build_info.data_fingerprint`` of that warehouse: a rebuild of the same data keeps the model valid."""
        return self.metadata["warehouse_fingerprint"]

    def check_against(self, warehouse: Warehouse) -> None:
        """ScorerError listing every model feature the warehouse lacks or types differently."""
        kinds = {
            row["name"]: CATEGORICAL if row["is_categorical"] else NUMERIC
            for row in warehouse.feature_catalog().iter_rows(named=True)
        }
        problems = self.schema.problems_with(kinds, "in the warehouse")
        if problems:
            raise ScorerError(
                "the warehouse does not match the scorer (retrain it on this warehouse): "
                + "; ".join(problems)
            )

    # ------------------------------------------------------------------ scoring
    def raw_scores(self, frame: pl.DataFrame) -> np.ndarray:
        return self.booster.predict(self.schema.encode(frame), raw_score=True)

    def probabilities(self, frame: pl.DataFrame) -> np.ndarray:
        return self.calibration.probability(self.raw_scores(frame))

    def decide(self, probability: float | np.ndarray) -> str | np.ndarray:
        refused = np.asarray(probability) >= self.threshold
        return np.where(refused, REFUSED, GRANTED) if refused.ndim else (REFUSED if refused else GRANTED)

    def score_frame(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``SK_ID_CURR, PROBABILITY, DECISION`` for every row of a features frame."""
        probability = self.probabilities(frame)
        return pl.DataFrame(
            {ID: frame.get_column(ID), "PROBABILITY": probability, "DECISION": self.decide(probability)}
        )

    def population_scores(self, frame: pl.DataFrame, top_k: int = TOP_CONTRIBUTIONS) -> pl.DataFrame:
        """The warehouse ``scores`` table: score_frame plus the top-k contributions as JSON text, by chunks."""
        parts = []
        for start in range(0, frame.height, BATCH_ROWS):
            chunk = frame.slice(start, BATCH_ROWS)
            contributions = self.booster.predict(self.schema.encode(chunk), pred_contrib=True)
            probability = self.calibration.probability(contributions.sum(axis=1))
            parts.append(
                pl.DataFrame(
                    {
                        ID: chunk.get_column(ID),
                        "PROBABILITY": probability,
                        "DECISION": self.decide(probability),
                        "TOP_CONTRIBUTIONS": self._top_contributions_json(contributions[:, :-1], top_k),
                    }
                )
            )
        return (
            pl.concat(parts)
            if parts
            else pl.DataFrame(
                schema={
                    ID: pl.Int64,
                    "PROBABILITY": pl.Float64,
                    "DECISION": pl.String,
                    "TOP_CONTRIBUTIONS": pl.String,
                }
            )
        )

    def _top_contributions_json(self, contributions: np.ndarray, top_k: int) -> list[str]:
        k = min(top_k, contributions.shape[1])
        top = np.argpartition(-np.abs(contributions), k - 1, axis=1)[:, :k]
        names = self.schema.names
        texts = []
        for row, indices in zip(contributions, top, strict=True):
            ordered = sorted(indices, key=lambda i: -abs(row[i]))
            texts.append(
                json.dumps([{"feature": names[i], "contribution": round(float(row[i]), 5)} for i in ordered])
            )
        return texts

    # ------------------------------------------------------------------ explaining
    def explain(self, features: pl.DataFrame, lang: str = "fr") -> Explanation:
        """Score and explain one client (a one-row features frame)."""
        if features.height != 1:
            raise ScorerError(f"explain() needs exactly one client row, got {features.height}")
        self.schema.check(features)
        return self._explain_values(features.row(0, named=True), check_lang(lang))

    def _explain_values(self, values: Mapping[str, object], lang: str) -> Explanation:
        contributions = self.booster.predict(
            self.schema.encode_values(values), pred_contrib=True, num_threads=1
        )[0]
        base_value, per_feature = float(contributions[-1]), contributions[:-1]
        raw_score = float(contributions.sum())
        points, base_probability, _ = probability_points(
            per_feature, base_value, self.calibration.slope, self.calibration.intercept
        )
        probability = float(self.calibration.probability(raw_score))
        names, labels = self.schema.names, self._labels[lang]
        raw_values = [values[name] for name in names]
        displays = [
            vocabulary.display(name, value, lang) for name, value in zip(names, raw_values, strict=True)
        ]
        # Without a job (pensioners, the unemployed) the job's length is empty by nature, not information the
        # client failed to give: it is said as such and may be a reason like any other fact.
        not_employed = values.get("DAYS_EMPLOYED_ANOM") == 1
        effects = []
        for name, label, value, c, pt in zip(names, labels, raw_values, per_feature, points, strict=True):
            structural = value is None and not_employed and name in NOT_EMPLOYED_FEATURES
            spoken = vocabulary.NOT_EMPLOYED[lang] if structural else vocabulary.spoken(name, value, lang)
            effects.append(
                FeatureEffect(name, label, spoken, float(c), float(pt), value is None and not structural)
            )
        against, favour, not_provided = build_reasons(self._groups, self._group_labels[lang], effects, lang)
        refused = probability >= self.threshold
        in_grey_zone = abs(probability - self.threshold) <= self.grey_zone
        order = np.argsort(-np.abs(per_feature), kind="stable").tolist()
        table = pl.DataFrame(
            {
                "feature": [names[i] for i in order],
                "group": [self._groups[i] for i in order],
                "label": [labels[i] for i in order],
                "value": [None if raw_values[i] is None else str(raw_values[i]) for i in order],
                "display_value": [displays[i] for i in order],
                "contribution": per_feature[order],
                "points": points[order],
            },
            schema=CONTRIBUTION_SCHEMA,
        )
        # Summed in plain Python: on one client's row, a DataFrame group-by costs more than the sums themselves.
        group_label = self._group_label[lang]
        sums: dict[str, list[float]] = {}  # group -> [contribution, points], in the order of the table
        for i in order:
            total = sums.setdefault(self._groups[i], [0.0, 0.0])
            total[0] += float(per_feature[i])
            total[1] += float(points[i])
        ranked = sorted(sums.items(), key=lambda item: -abs(item[1][1]))
        grouped = pl.DataFrame(
            {
                "group": [group for group, _ in ranked],
                "label": [group_label[group] for group, _ in ranked],
                "contribution": [total[0] for _, total in ranked],
                "points": [total[1] for _, total in ranked],
            },
            schema=GROUPED_SCHEMA,
        )
        sk_id = values.get(ID)
        return Explanation(
            sk_id=None if sk_id is None else int(sk_id),
            probability=probability,
            decision=REFUSED if refused else GRANTED,
            threshold=self.threshold,
            margin_points=100 * (probability - self.threshold),
            in_grey_zone=bool(in_grey_zone),
            base_value=base_value,
            raw_score=raw_score,
            contributions=table,
            grouped=grouped,
            reasons_against=against,
            reasons_for=favour,
            sentence=summary_sentence(
                probability, self.threshold, refused, in_grey_zone, against, favour, lang
            ),
            lang=lang,
            base_probability=base_probability,
            not_provided=tuple(not_provided),
        )

    # ------------------------------------------------------------------ what-if
    def editable_fields(self, lang: str = "fr") -> list[FieldSpec]:
        """The fields a what-if form or a new-client form offers, with their allowed ranges or choices."""
        check_lang(lang)
        specs = []
        for definition in FIELD_DEFINITIONS:
            allowed = self._ranges.get(definition.name)
            if allowed is None:
                continue
            label = (definition.label_fr if lang == "fr" else definition.label_en) or vocabulary.label(
                definition.column, lang
            )
            unit = (
                ("ans" if lang == "fr" else "years")
                if definition.days_in_years
                else ("€" if definition.column.startswith("AMT_") else "")
            )
            specs.append(
                FieldSpec(
                    name=definition.name,
                    column=definition.column,
                    label=label,
                    kind=definition.kind,
                    unit=unit,
                    minimum=allowed.minimum,
                    maximum=allowed.maximum,
                    choices=allowed.choices,
                    choice_labels=tuple(
                        vocabulary.level_label(definition.column, c, lang) for c in allowed.choices
                    ),
                    allow_missing=definition.allow_missing,
                )
            )
        return specs

    def field_values(self, application: pl.DataFrame) -> dict[str, object]:
        """Current values of the editable fields, in the fields' human units, from a raw application row."""
        if application.height != 1:
            raise WhatIfError("application", f"expected one application row, got {application.height}")
        row = application.row(0, named=True)
        definitions = {d.name: d for d in FIELD_DEFINITIONS}
        return {
            spec.name: to_human(definitions[spec.name], row.get(spec.column))
            for spec in self.editable_fields()
        }

    def _raw_changes(self, changes: Mapping[str, object], lang: str) -> dict[str, object]:
        """Validated changes keyed by raw application column, in raw units."""
        specs = {spec.name: spec for spec in self.editable_fields(lang)}
        definitions = {d.name: d for d in FIELD_DEFINITIONS}
        raw = {}
        for name, value in changes.items():
            if name not in specs:
                raise WhatIfError(name, f"{name} is not an editable field; editable: {', '.join(specs)}")
            raw[specs[name].column] = to_raw(definitions[name], validate(specs[name], value))
        return raw

    def what_if(
        self,
        application: pl.DataFrame,
        features: pl.DataFrame,
        changes: Mapping[str, object],
        lang: str = "fr",
    ) -> Explanation:
        """Rescore a client after editing raw application values (human units, validated).

        Derived application features are recomputed by the warehouse's own SQL; side-table features are kept.
        """
        if application.height != 1 or features.height != 1:
            raise WhatIfError("client", "what_if needs the client's one application row and one features row")
        raw = self._raw_changes(changes, lang)
        check_consistency({**self.field_values(application), **changes})
        edited = _with_values(application, raw)
        recomputed = recompute_application_features(edited)
        updates = [
            recomputed.get_column(c).cast(features.schema[c])
            for c in recomputed.columns
            if c in features.columns and c != ID
        ]
        return self.explain(features.with_columns(updates), lang)

    def new_client(self, values: Mapping[str, object], lang: str = "fr") -> Explanation:
        """Score a client entered through the editable fields; side-table features (history) are missing."""
        required = [
            s.name for s in self.editable_fields(lang) if not s.allow_missing and s.name not in values
        ]
        if required:
            raise WhatIfError(required[0], f"a new client needs a value for {', '.join(required)}")
        check_consistency(values)
        template = pl.DataFrame(
            {name: [None] for name in self.metadata["application_schema"]},
            schema={name: _dtype(text) for name, text in self.metadata["application_schema"].items()},
        )
        application = _with_values(template, {ID: NEW_CLIENT_ID, **self._raw_changes(values, lang)})
        recomputed = recompute_application_features(application)
        side_tables = [
            pl.lit(None, dtype).alias(name)
            for name, dtype in self._feature_polars_schema().items()
            if name not in recomputed.columns
        ]
        return self.explain(recomputed.with_columns(side_tables), lang)

    def _feature_polars_schema(self) -> dict[str, pl.DataType]:
        return {
            name: pl.String if kind == CATEGORICAL else pl.Float64
            for name, kind in zip(self.schema.names, self.schema.kinds, strict=True)
        }


def _with_values(frame: pl.DataFrame, values: Mapping[str, object]) -> pl.DataFrame:
    """``frame`` with some columns set to constants, each cast to the column's own dtype."""
    return frame.with_columns(
        [pl.lit(value).cast(frame.schema[column]).alias(column) for column, value in values.items()]
    )


def _dtype(text: str) -> pl.DataType:
    """A Polars dtype from its name as stored in metadata (``Int64``, ``Float64``, ``String``, ...)."""
    dtype = getattr(pl, text, None)
    if dtype is None:
        raise ScorerError(f"unknown column dtype {text!r} in the artifact metadata")
    return dtype
