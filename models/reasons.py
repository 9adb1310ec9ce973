"""Reasons a client can hear: at most four each way, grouped by meaning, in probability points, FR and EN.

Each feature's effect arrives in percentage points of default probability (see ``probability_points``). Effects
are summed per human group (``models.groups``); a group whose total raises the probability is a reason against
the client, one that lowers it a reason in the client's favour. What is not a reason is left out on purpose:

- a missing value: the model does route missing values somewhere, but "you did not tell us" is not something
  about the client; such effects are listed apart as information not provided, never as a reason;
- the calendar of the application (weekday, hour) and gender (see ``models.groups.NOT_REASONS``);
- a group whose total is below ``MIN_POINTS`` percentage points: too small to change a conversation, and too
  small to be stable from one model training to the next.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from models.groups import group_of
from warehouse.dictionary import format_percent

LANGS = ("fr", "en")
MIN_POINTS = 0.5  # percentage points of default probability below which a group is not cited as a reason
MAX_REASONS = 4  # per direction, as in adverse-action practice (four principal reasons)
STRONG_POINTS = 5.0
MODERATE_POINTS = 2.0
FEATURES_SHOWN_PER_REASON = 1
REASONS_IN_SENTENCE = 1
MAX_NOT_PROVIDED = 3


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")
    return lang


def probability_points(
    contributions: np.ndarray, base_value: float, slope: float, intercept: float
) -> tuple[np.ndarray, float, float]:
    """(points per feature, base probability, probability) from exact TreeSHAP log-odds contributions.

    The served probability is sigmoid(slope · raw + intercept). TreeSHAP splits raw − base exactly (path-wise
    over the trees); the sigmoid is then crossed with the rescale rule (DeepLIFT): every contribution is
    multiplied by Δprobability / Δlog-odds of this client. The points therefore add up exactly to
    100 · (probability − base probability), keep each feature's sign and the ratio between features, and need no
    background sample (unlike interventional SHAP), so a what-if answer is as fast and exact as a stored client.
    """
    contributions = np.asarray(contributions, dtype=np.float64)
    start = slope * base_value + intercept
    delta = slope * float(contributions.sum())
    base_probability = float(1 / (1 + np.exp(-start)))
    probability = float(1 / (1 + np.exp(-(start + delta))))
    if abs(delta) > 1e-12:
        rate = (probability - base_probability) / delta
    else:  # no movement at all: the local slope of the sigmoid
        rate = base_probability * (1 - base_probability)
    return 100 * rate * slope * contributions, base_probability, probability


@dataclass(frozen=True)
class FeatureEffect:
    feature: str
    label: str
    display_value: str
    contribution: float  # raw log-odds (TreeSHAP)
    points: float = 0.0  # percentage points of default probability
    missing: bool = False


@dataclass(frozen=True)
class Reason:
    """One human group's combined effect on this client's probability, told with the client's own value."""

    group: str
    label: str  # noun phrase ("les revenus"), for sentences
    headline: str  # addressed to the client ("Vos revenus")
    contribution: float  # log-odds, summed over the group's provided features
    points: float  # percentage points, same features
    direction: str  # "against" (raises the risk) or "for" (lowers it)
    strength: str  # strong / moderate / slight, in the requested language
    features: tuple[FeatureEffect, ...]

    def text(self, lang: str) -> str:
        """ "Vos revenus — Revenu annuel : 135 000 €": one short sentence, the value in human words."""
        if not self.features:
            return self.headline
        effect = self.features[0]
        colon = " :" if lang == "fr" else ":"
        return f"{self.headline} — {effect.label}{colon} {effect.display_value}"


_STRENGTH = {"fr": ("fort", "modéré", "faible"), "en": ("strong", "moderate", "slight")}


def strength_word(points: float, lang: str) -> str:
    size = abs(points)
    words = _STRENGTH[lang]
    return words[0] if size >= STRONG_POINTS else words[1] if size >= MODERATE_POINTS else words[2]


def build_reasons(
    group_keys: Sequence[str],
    group_labels: Sequence[str],
    feature_effects: Sequence[FeatureEffect],
    lang: str,
) -> tuple[list[Reason], list[Reason], list[str]]:
    """(reasons against, reasons for, labels of information not provided), reasons sorted by size.

    ``group_keys``, ``group_labels`` and ``feature_effects`` are aligned per feature.
    """
    points: dict[str, float] = {}
    log_odds: dict[str, float] = {}
    members: dict[str, list[FeatureEffect]] = {}
    labels: dict[str, str] = {}
    not_provided: list[FeatureEffect] = []
    for key, label, effect in zip(group_keys, group_labels, feature_effects, strict=True):
        group = group_of(effect.feature)
        if group is not None and not group.is_reason:
            continue
        if effect.missing:
            not_provided.append(effect)
            continue
        points[key] = points.get(key, 0.0) + effect.points
        log_odds[key] = log_odds.get(key, 0.0) + effect.contribution
        members.setdefault(key, []).append(effect)
        labels[key] = label
    against, favour = [], []
    for key, total in points.items():
        if abs(total) < MIN_POINTS:
            continue
        same_side = [e for e in members[key] if (e.points > 0) == (total > 0) and e.points != 0]
        same_side.sort(key=lambda e: abs(e.points), reverse=True)
        group = group_of(same_side[0].feature) if same_side else None
        reason = Reason(
            group=key,
            label=labels[key],
            headline=group.headline(lang) if group else labels[key],
            contribution=log_odds[key],
            points=total,
            direction="against" if total > 0 else "for",
            strength=strength_word(total, lang),
            features=tuple(same_side[:FEATURES_SHOWN_PER_REASON]),
        )
        (against if total > 0 else favour).append(reason)
    against.sort(key=lambda r: r.points, reverse=True)
    favour.sort(key=lambda r: r.points)
    unknown = [e for e in not_provided if abs(e.points) >= MIN_POINTS]
    unknown.sort(key=lambda e: abs(e.points), reverse=True)
    return against[:MAX_REASONS], favour[:MAX_REASONS], [e.label for e in unknown[:MAX_NOT_PROVIDED]]


def summary_sentence(
    probability: float,
    threshold: float,
    refused: bool,
    in_grey_zone: bool,
    against: Sequence[Reason],
    favour: Sequence[Reason],
    lang: str,
) -> str:
    """Two short sentences: probability against the limit and the decision, then the main reason."""
    main = (against if refused else favour)[:REASONS_IN_SENTENCE]
    p, t = format_percent(probability, lang), format_percent(threshold, lang)
    if lang == "fr":
        sentence = f"Risque de défaut estimé : {p}, pour une limite de {t} : crédit {'refusé' if refused else 'accordé'}."
        if main:
            sentence += f" Raison principale : {main[0].text(lang)}."
        if in_grey_zone:
            sentence += " Dossier proche de la limite : à examiner par un conseiller."
        return sentence
    sentence = (
        f"Estimated default risk: {p}, against a limit of {t}: credit {'refused' if refused else 'granted'}."
    )
    if main:
        sentence += f" Main reason: {main[0].text(lang)}."
    if in_grey_zone:
        sentence += " Close to the limit: an adviser should review the case."
    return sentence
