"""Plain-language reasons from exact contributions: grouped, labelled, with the client's values, FR and EN.

Contributions are TreeSHAP values in the raw model's log-odds. They are summed per human group (see
``models.groups``); a positive sum pushes towards default (a reason against the client), a negative one towards
repayment (a reason in the client's favour). Sizes are given in words, because log-odds are not percentage points.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from warehouse.dictionary import format_percent

LANGS = ("fr", "en")
STRONG_EFFECT = 0.5
MODERATE_EFFECT = 0.2
FEATURES_SHOWN_PER_REASON = 2
REASONS_IN_SENTENCE = 2


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")
    return lang


@dataclass(frozen=True)
class FeatureEffect:
    feature: str
    label: str
    display_value: str
    contribution: float


@dataclass(frozen=True)
class Reason:
    """One human group's combined effect on this client's score."""

    group: str
    label: str
    contribution: float
    direction: str  # "against" (raises the risk) or "for" (lowers it)
    strength: str  # words: strong / moderate / slight, in the requested language
    features: tuple[FeatureEffect, ...]

    def text(self, lang: str) -> str:
        """ "the external scores (External score 3: 0.21; External score 2: 0.35)"."""
        separator, colon = (" ; ", " :") if lang == "fr" else ("; ", ":")
        shown = separator.join(f"{effect.label}{colon} {effect.display_value}" for effect in self.features)
        return f"{self.label} ({shown})" if shown else self.label


_STRENGTH = {"fr": ("fort", "modéré", "faible"), "en": ("strong", "moderate", "slight")}


def strength_word(contribution: float, lang: str) -> str:
    size = abs(contribution)
    words = _STRENGTH[lang]
    return words[0] if size >= STRONG_EFFECT else words[1] if size >= MODERATE_EFFECT else words[2]


def build_reasons(
    group_keys: Sequence[str],
    group_labels: Sequence[str],
    feature_effects: Sequence[FeatureEffect],
    lang: str,
) -> tuple[list[Reason], list[Reason]]:
    """(reasons against, reasons for), each sorted by size; one entry per group, zero-effect groups dropped.

    ``group_keys``, ``group_labels`` and ``feature_effects`` are aligned per feature.
    """
    totals: dict[str, float] = {}
    members: dict[str, list[FeatureEffect]] = {}
    labels: dict[str, str] = {}
    for key, label, effect in zip(group_keys, group_labels, feature_effects, strict=True):
        totals[key] = totals.get(key, 0.0) + effect.contribution
        members.setdefault(key, []).append(effect)
        labels[key] = label
    against, favour = [], []
    for key, total in totals.items():
        if total == 0.0:
            continue
        same_side = [e for e in members[key] if (e.contribution > 0) == (total > 0) and e.contribution != 0]
        same_side.sort(key=lambda e: abs(e.contribution), reverse=True)
        reason = Reason(
            key,
            labels[key],
            total,
            "against" if total > 0 else "for",
            strength_word(total, lang),
            tuple(same_side[:FEATURES_SHOWN_PER_REASON]),
        )
        (against if total > 0 else favour).append(reason)
    against.sort(key=lambda r: r.contribution, reverse=True)
    favour.sort(key=lambda r: r.contribution)
    return against, favour


_FRENCH_DE = (("les ", "des "), ("le ", "du "), ("la ", "de la "), ("l'", "de l'"))
_FRENCH_A = (("les ", "aux "), ("le ", "au "), ("la ", "à la "), ("l'", "à l'"))


def _with_preposition(text: str, table: tuple[tuple[str, str], ...], default: str) -> str:
    """French contraction: "de" + "les scores" → "des scores", "à" + "le montant" → "au montant"."""
    for article, contracted in table:
        if text.startswith(article):
            return contracted + text[len(article) :]
    return f"{default} {text}"


def _join(
    items: list[str], lang: str, table: tuple[tuple[str, str], ...] | None = None, default: str = ""
) -> str:
    if lang == "fr" and table is not None:
        items = [_with_preposition(item, table, default) for item in items]
    conjunction = " et " if lang == "fr" else " and "
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + conjunction + items[-1]


def summary_sentence(
    probability: float,
    threshold: float,
    refused: bool,
    in_grey_zone: bool,
    against: Sequence[Reason],
    favour: Sequence[Reason],
    lang: str,
) -> str:
    """One or two sentences a client can read: probability vs threshold, decision, main reasons both ways."""
    main, other = (against, favour) if refused else (favour, against)
    main_texts = [reason.text(lang) for reason in main[:REASONS_IN_SENTENCE]]
    other_texts = [reason.text(lang) for reason in other[:REASONS_IN_SENTENCE]]
    p, t = format_percent(probability, lang), format_percent(threshold, lang)
    if lang == "fr":
        sentence = f"Probabilité de défaut {p} (seuil {t}) : crédit {'refusé' if refused else 'accordé'}"
        if main_texts:
            if refused:
                sentence += ", principalement à cause " + _join(main_texts, lang, _FRENCH_DE, "de")
            else:
                sentence += ", principalement grâce " + _join(main_texts, lang, _FRENCH_A, "à")
        if other_texts:
            side = "en faveur du client" if refused else "en défaveur du client"
            sentence += f" ; {side} : " + _join(other_texts, lang)
        sentence += "."
        if in_grey_zone:
            sentence += " Dossier en zone grise, proche du seuil : à examiner par un conseiller."
        return sentence
    sentence = f"Default probability {p} (threshold {t}): credit {'refused' if refused else 'granted'}"
    if main_texts:
        sentence += ", mainly because of " + _join(main_texts, lang)
    if other_texts:
        side = "in the client's favour" if refused else "against the client"
        sentence += f"; {side}: " + _join(other_texts, lang)
    sentence += "."
    if in_grey_zone:
        sentence += " Grey zone, close to the threshold: an adviser should review the case."
    return sentence
