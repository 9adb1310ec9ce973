"""What it would take: the smallest realistic changes to the loan that bring the probability under the limit.

Only levers the client controls are ever moved: borrow less, repay over a longer time, put in a down payment,
add a co-borrower's income (only for a client in a couple, whose partner can co-sign). Age, gender, family
status, external ratings, history and everything else stay as they are: a counterfactual that asks someone to be
younger or to have another rating is not advice, and gender is not a model input at all.

Every candidate is a raw application row, turned into features by the warehouse's own SQL
(``warehouse.recompute_application_features``) and scored by the live scorer, all candidates in one batch; so
what this module says flips the decision does flip it in a what-if. Candidate values stay inside the ranges the
model was trained on (trees cannot extrapolate), and steps are coarse on purpose: "borrow 10 % less" is a proposal
a manager can make, "borrow 7.3 % less" is not.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from models.reasons import check_lang
from models.scorer import ID, REFUSED, Scorer, _with_values
from models.whatif import WhatIfError
from warehouse import dictionary, recompute_application_features

CREDIT, ANNUITY, GOODS, INCOME = "AMT_CREDIT", "AMT_ANNUITY", "AMT_GOODS_PRICE", "AMT_INCOME_TOTAL"
LEVER_COLUMNS = frozenset({CREDIT, ANNUITY, GOODS, INCOME})
STEPS = tuple(round(0.05 * k, 2) for k in range(1, 13))  # 5 % ... 60 %
MAX_AMOUNT_CUT = 0.5  # a project half as large is still the same project; beyond, it is another one
MAX_DOWN_PAYMENT = 0.3  # of the goods price: what households commonly put in
MIN_PAYMENT_RATE = 0.022  # the shortest annuity per unit of credit seen in the real data: no longer terms
COUPLE = frozenset({"Married", "Civil marriage"})
MAX_OPTIONS = 3


@dataclass(frozen=True)
class Change:
    column: str
    before: float
    after: float


@dataclass(frozen=True)
class Option:
    """One proposal: the lever(s), the new values, and the probability the live scorer gives them."""

    levers: tuple[str, ...]  # "amount", "duration", "down_payment", "co_borrower"
    changes: tuple[Change, ...]
    probability: float
    cost: float  # the relative size of the change, to rank proposals

    def value(self, column: str) -> float | None:
        return next((c.after for c in self.changes if c.column == column), None)

    def text(self, lang: str) -> str:
        """ "Emprunter 360 000 € au lieu de 400 000 €", one clause per lever joined by "et"."""
        clauses = [_clause(lever, self.changes, lang) for lever in self.levers]
        return (" et " if lang == "fr" else " and ").join(clauses)


@dataclass(frozen=True)
class Counterfactual:
    """``needed`` is False for a client granted outside the grey zone; ``options`` is empty when nothing
    realistic brings the probability under ``target``."""

    needed: bool
    probability: float
    target: float
    options: tuple[Option, ...]

    def summary(self, lang: str) -> str:
        check_lang(lang)
        fr = lang == "fr"
        if not self.needed:
            return "Aucun changement nécessaire." if fr else "No change needed."
        if not self.options:
            return (
                "Aucun changement réaliste du montant, de la durée, de l'apport ou d'un co-emprunteur ne suffit "
                "à passer sous la limite : la décision tient à d'autres éléments du dossier."
                if fr
                else "No realistic change of amount, duration, down payment or co-borrower brings the risk under "
                "the limit: the decision rests on other parts of the file."
            )
        return "Il suffirait par exemple de :" if fr else "For example, it would take:"


def _money(value: float, lang: str) -> str:
    return dictionary.humanize(CREDIT, value, lang)


def _clause(lever: str, changes: tuple[Change, ...], lang: str) -> str:
    by = {c.column: c for c in changes}
    fr = lang == "fr"
    if lever == "amount":
        c = by[CREDIT]
        return (
            f"emprunter {_money(c.after, lang)} au lieu de {_money(c.before, lang)}"
            if fr
            else f"borrow {_money(c.after, lang)} instead of {_money(c.before, lang)}"
        )
    if lever == "down_payment":
        c = by[CREDIT]
        own = c.before - c.after
        return (
            f"apporter {_money(own, lang)} personnellement (crédit de {_money(c.after, lang)})"
            if fr
            else f"put in a down payment of {_money(own, lang)} (credit of {_money(c.after, lang)})"
        )
    if lever == "duration":
        c = by[ANNUITY]
        return (
            f"rembourser sur une durée plus longue : annuité de {_money(c.after, lang)} "
            f"au lieu de {_money(c.before, lang)}"
            if fr
            else f"repay over a longer term: an annuity of {_money(c.after, lang)} "
            f"instead of {_money(c.before, lang)}"
        )
    c = by[INCOME]
    extra = c.after - c.before
    return (
        f"ajouter un co-emprunteur disposant de {_money(extra, lang)} de revenus annuels"
        if fr
        else f"add a co-borrower with an annual income of {_money(extra, lang)}"
    )


def _lever_changes(row: dict, lever: str, step: float) -> dict[str, float] | None:
    """New raw values of one lever at one step (a fraction), or None when the lever does not apply."""
    credit, annuity, goods, income = row[CREDIT], row[ANNUITY], row[GOODS], row[INCOME]
    if credit is None or annuity is None:
        return None
    revolving = row.get("NAME_CONTRACT_TYPE") == "Revolving loans"
    if lever == "amount":
        if step > MAX_AMOUNT_CUT:
            return None
        values = {CREDIT: credit * (1 - step), ANNUITY: annuity * (1 - step)}
        if goods is not None:
            values[GOODS] = goods * (1 - step)
        return values
    if lever == "down_payment":
        if goods is None or revolving:
            return None
        own = step * goods
        if step > MAX_DOWN_PAYMENT or own >= credit:
            return None
        return {CREDIT: credit - own, ANNUITY: annuity * (credit - own) / credit}
    if lever == "duration":
        new_annuity = annuity * (1 - step)
        if revolving or new_annuity / credit < MIN_PAYMENT_RATE or step > 0.5:
            return None
        return {ANNUITY: new_annuity}
    if lever == "co_borrower":
        if income is None or row.get("NAME_FAMILY_STATUS") not in COUPLE:
            return None
        return {INCOME: income * (1 + 2 * step)}  # partner income from 10 % to 120 % of the client's
    raise ValueError(f"unknown lever {lever!r}")


LEVERS = ("amount", "duration", "down_payment", "co_borrower")
PAIRS = (
    ("amount", "duration"),
    ("down_payment", "duration"),
    ("amount", "co_borrower"),
    ("duration", "co_borrower"),
)
PAIR_STEPS = STEPS[1::2]  # 10 %, 20 %, ... : coarser, as the grid is square


def _candidates(row: dict) -> Iterable[tuple[tuple[str, ...], float, dict[str, float]]]:
    """(levers, cost, new raw values) of every single-lever step, then every pair of steps."""
    for lever in LEVERS:
        for step in STEPS:
            values = _lever_changes(row, lever, step)
            if values is not None:
                yield (lever,), step, values
    for first, second in PAIRS:
        for a in PAIR_STEPS:
            one = _lever_changes(row, first, a)
            if one is None:
                break
            for b in PAIR_STEPS:
                other = _lever_changes({**row, **one}, second, b)
                if other is None:
                    break
                yield (first, second), a + b, {**one, **other}


def _rounded(row: dict, values: dict[str, float]) -> dict[str, float]:
    """Changes as a manager would word them: by steps of 500 € (annuities by 50 €), never to nothing."""
    rounded = {}
    for column, value in values.items():
        unit = 50 if column == ANNUITY else 500
        delta = round((value - row[column]) / unit) * unit
        rounded[column] = float(row[column] + (delta or (unit if value > row[column] else -unit)))
    return rounded


def what_it_would_take(scorer: Scorer, application: pl.DataFrame, features: pl.DataFrame) -> Counterfactual:
    """The cheapest flipping proposals (at most three, different levers first) for one client."""
    if application.height != 1 or features.height != 1:
        raise WhatIfError(
            "client", "what it would take needs the client's one application row and features row"
        )
    probability = float(scorer.probabilities(features)[0])
    refused = scorer.decide(probability) == REFUSED
    in_grey = abs(probability - scorer.threshold) <= scorer.grey_zone
    target = scorer.threshold if refused else scorer.threshold - scorer.grey_zone
    if not refused and not in_grey:
        return Counterfactual(False, probability, target, ())
    row = application.row(0, named=True)
    ranges = {spec.column: spec for spec in scorer.editable_fields() if spec.column in LEVER_COLUMNS}
    candidates = []
    for levers, cost, values in _candidates(row):
        values = _rounded(row, values)
        if all(ranges[c].minimum <= v <= ranges[c].maximum for c, v in values.items() if c in ranges):
            candidates.append((levers, cost, values))
    if not candidates:
        return Counterfactual(True, probability, target, ())
    edited = pl.concat([_with_values(application, values) for _, _, values in candidates])
    recomputed = recompute_application_features(edited)
    shared = [c for c in recomputed.columns if c in features.columns and c != ID]
    scored = pl.concat([features] * len(candidates)).with_columns(
        [recomputed.get_column(c).cast(features.schema[c]) for c in shared]
    )
    new = scorer.probabilities(scored)
    flipping = sorted((cost, i) for i, (_, cost, _) in enumerate(candidates) if new[i] < target)
    options: list[Option] = []
    used: set[tuple[str, ...]] = set()
    for cost, i in flipping:
        levers, _, values = candidates[i]
        if levers in used or any((lever,) in used for lever in levers):
            continue  # a pair is only worth proposing when neither of its levers is enough alone
        used.add(levers)
        changes = tuple(Change(c, float(row[c]), v) for c, v in values.items())
        options.append(Option(levers, changes, float(new[i]), cost))
        if len(options) == MAX_OPTIONS:
            break
    return Counterfactual(True, probability, target, tuple(options))
