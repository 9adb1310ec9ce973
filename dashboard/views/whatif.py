"""What if: edit key fields of the client's file and rescore at once; enter a new client through a validated form.

The fields, their units, ranges and choices come from the scorer (``editable_fields``), so the form can only
offer what the model was trained on. Values are checked here first, to give every error inline, in the session
language and with the allowed range; the scorer checks again (``WhatIfError``) as the last word.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html import escape
from typing import Any

import panel as pn
import polars as pl

from dashboard import charts
from dashboard.cockpit import Explanation, FieldSpec, WhatIfError
from dashboard.i18n import decision_text, format_number, format_percent, tr
from dashboard.views.base import ClientSession, SessionView, html_pane
from dashboard.views.letter import points_text

FORM_CSS = """
p.hint { color: #4a4a4a; margin: 0 0 0.25rem; font-size: 0.85rem; }
p.field-error { color: #1a1a1a; border-left: 5px solid #D55E00; background: #fbeee6; padding: 0.2rem 0.4rem; margin: 0; }
p.result { font-size: 1.1rem; font-weight: 600; }
"""
DIFF_ROWS = 12


_SPACES = str.maketrans({"\u202f": " ", "\u00a0": " "})
NUMBER_PATTERNS = {
    # French: comma decimal, spaces between thousands ("202 500", "10,5"); English: dot decimal, commas.
    "fr": re.compile(r"[+-]?(\d{1,3}( \d{3})+|\d+)(,\d+)?"),
    "en": re.compile(r"[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?"),
}


def parse_number(text: str | None, lang: str) -> float | None:
    """Read a number written the page language's way ("202 500", "10,5" / "202,500", "10.5"); None for empty.

    ValueError for anything else, including the other language's decimal mark, which would be ambiguous
    ("1,500" is one and a half in French, fifteen hundred in English).
    """
    cleaned = (text or "").translate(_SPACES).strip()
    if not cleaned:
        return None
    if not NUMBER_PATTERNS[lang].fullmatch(cleaned):
        raise ValueError(text)
    thousands, decimal = (" ", ",") if lang == "fr" else (",", ".")
    return float(cleaned.replace(thousands, "").replace(decimal, "."))


def shown_number(value: float, lang: str) -> str:
    """A value as the form shows it: the page language's decimal mark, no needless trailing zeros."""
    decimals = 4 if abs(value) < 10 else 2
    text = format_number(value, lang, decimals)
    mark = "," if lang == "fr" else "."
    return text.rstrip("0").rstrip(mark) if mark in text else text


def range_text(spec: FieldSpec, lang: str) -> str:
    """ "Valeurs autorisées : 25 650 à 4 500 000 €" for a numeric field."""
    decimals = 0 if spec.kind == "int" or (spec.maximum or 0) >= 100 else 2
    unit = f" {spec.unit}" if spec.unit else ""
    return tr(
        "whatif.range",
        lang,
        low=format_number(spec.minimum, lang, decimals),
        high=format_number(spec.maximum, lang, decimals) + unit,
    )


class FieldForm(pn.viewable.Viewer):
    """Inputs for the scorer's editable fields with their allowed ranges and inline errors."""

    def __init__(self, specs: list[FieldSpec], lang: str, empty_choices: bool = False, **params: Any) -> None:
        """``empty_choices``: drop-downs start on "to choose" (a new client), so nothing is picked by default."""
        super().__init__(**params)
        self.specs = {spec.name: spec for spec in specs}
        self.lang = lang
        self.inputs: dict[str, pn.widgets.Widget] = {}
        self._initial: dict[str, Any] = {}
        self.errors: dict[str, pn.pane.HTML] = {}
        cells = []
        for spec in specs:
            if spec.kind == "choice":
                options = dict(zip(spec.choice_labels, spec.choices, strict=True))
                if empty_choices:
                    options = {tr("whatif.choose", lang): "", **options}
                widget = pn.widgets.Select(label=spec.label, options=options, width=260)
                hint = ""
            else:
                unit = f" ({spec.unit})" if spec.unit and spec.unit not in spec.label else ""
                widget = pn.widgets.TextInput(label=spec.label + unit, width=260, max_length=30)
                hint = range_text(spec, lang)
            self.inputs[spec.name] = widget
            self.errors[spec.name] = html_pane(
                f'<p class="hint">{escape(hint)}</p>' if hint else "",
                stylesheets=[charts.TABLE_CSS, FORM_CSS],
                width=270,
            )
            cells.append(pn.Column(widget, self.errors[spec.name], width=280))
        self._layout = pn.FlexBox(*cells)

    def __panel__(self) -> pn.FlexBox:
        return self._layout

    def set_values(self, values: dict[str, Any]) -> None:
        """Fill the inputs (human units), e.g. with the client's current values."""
        for name, widget in self.inputs.items():
            value = values.get(name)
            if isinstance(widget, pn.widgets.Select):
                if value in widget.options.values():
                    widget.value = value
            else:
                widget.value = "" if value is None else shown_number(float(value), self.lang)
        self._initial = {name: widget.value for name, widget in self.inputs.items()}
        self.show_errors({})

    def read(self, only_changed: bool = False) -> tuple[dict[str, Any], dict[str, str]]:
        """The values typed, and an error message per invalid field (with the allowed range).

        With ``only_changed``, fields left as :meth:`set_values` filled them are skipped, so rescoring an
        unedited file gives exactly the client's score (no rounding of the displayed values creeps in).
        """
        values, errors = {}, {}
        for name, widget in self.inputs.items():
            spec = self.specs[name]
            if only_changed and name in self._initial and widget.value == self._initial[name]:
                continue
            if spec.kind == "choice":
                if widget.value in ("", None):
                    errors[name] = tr("whatif.choose_error", self.lang, field=spec.label)
                else:
                    values[name] = widget.value
                continue
            try:
                value = parse_number(widget.value, self.lang)
            except ValueError:
                errors[name] = (
                    f"{tr('whatif.not_number', self.lang, field=spec.label)} {range_text(spec, self.lang)}"
                )
                continue
            if value is None:
                if not spec.allow_missing:
                    errors[name] = (
                        f"{spec.label} : {range_text(spec, self.lang)}"
                        if self.lang == "fr"
                        else f"{spec.label}: {range_text(spec, self.lang)}"
                    )
                    continue
            elif not spec.minimum <= value <= spec.maximum or (spec.kind == "int" and value != int(value)):
                errors[name] = (
                    f"{spec.label} = {format_number(value, self.lang, 2)}. {range_text(spec, self.lang)}"
                )
                continue
            values[name] = None if value is None else (int(value) if spec.kind == "int" else value)
        return values, errors

    def show_errors(self, errors: dict[str, str]) -> None:
        """Inline errors under each field (role="alert"), the range hint otherwise."""
        for name, pane in self.errors.items():
            spec = self.specs[name]
            if name in errors:
                pane.object = f'<p class="field-error" role="alert">✗ {escape(errors[name])}</p>'
            elif spec.kind != "choice":
                pane.object = f'<p class="hint">{escape(range_text(spec, self.lang))}</p>'


def contribution_changes(
    before: pl.DataFrame, after: pl.DataFrame, lang: str, limit: int = DIFF_ROWS
) -> list[list[str]]:
    """Rows of the effects that moved most between two explanations, in percentage points of probability."""
    joined = before.select("feature", "label", pl.col("points").alias("before")).join(
        after.select("feature", pl.col("points").alias("after"), "display_value"), on="feature"
    )
    joined = (
        joined.with_columns((pl.col("after") - pl.col("before")).alias("change"))
        .sort(pl.col("change").abs(), descending=True)
        .head(limit)
    )
    return [
        [
            row["label"],
            row["display_value"],
            points_text(row["before"], lang),
            points_text(row["after"], lang),
            points_text(row["change"], lang),
        ]
        for row in joined.iter_rows(named=True)
    ]


class WhatIfView(SessionView):
    """Edit and rescore the client shown, or score a new client; the stored file is never changed.

    The new-client form works without a client shown, so the view does not require one.
    """

    needs_client = False

    def __init__(self, session: ClientSession, **params: Any) -> None:
        super().__init__(session, **params)
        lang = self.lang
        specs = self.cockpit.editable_fields(lang)
        self._heading = html_pane()
        self._intro = html_pane(f"<p>{escape(tr('whatif.intro', lang))}</p>")
        self.form = FieldForm(specs, lang)
        self._rescore = pn.widgets.Button(label=tr("whatif.rescore", lang), color="primary", width=260)
        self._reset = pn.widgets.Button(label=tr("whatif.reset", lang), width=260)
        self._result = html_pane(stylesheets=[charts.TABLE_CSS, FORM_CSS])
        self.new_form = FieldForm(specs, lang, empty_choices=True)
        self._score_new = pn.widgets.Button(label=tr("whatif.new_score", lang), color="primary", width=260)
        self._new_result = html_pane(stylesheets=[charts.TABLE_CSS, FORM_CSS])
        self._rescore.on_click(lambda _event: self.rescore())
        self._reset.on_click(lambda _event: self._update())
        self._score_new.on_click(lambda _event: self.score_new_client())
        new_heading = html_pane(
            f"<h3>{escape(tr('whatif.new_heading', lang))}</h3><p>{escape(tr('whatif.new_intro', lang))}</p>"
        )
        self._client_part = pn.Column(
            self._intro,
            self.form,
            pn.FlexBox(self._rescore, self._reset),
            self._result,
            sizing_mode="stretch_width",
        )
        self._content = pn.Column(
            self._heading,
            self._client_part,
            new_heading,
            self.new_form,
            self._score_new,
            self._new_result,
            sizing_mode="stretch_width",
        )

    def _update(self) -> None:
        snapshot = self.session.snapshot
        if snapshot is None:
            self._heading.object = (
                f"<h2>{escape(tr('nav.whatif', self.lang))}</h2>"
                f"<p>{escape(tr('status.pick_client', self.lang))}</p>"
            )
            self._client_part.visible = False
            return
        self._heading.object = f"<h2>{escape(tr('whatif.heading', self.lang, id=snapshot.sk_id))}</h2>"
        self._client_part.visible = True
        self.form.set_values(self.cockpit.field_values(snapshot))
        self._result.object = ""

    def rescore(self) -> Explanation | None:
        """Rescore the client with the edited values; returns the new explanation (None on invalid input)."""
        snapshot = self.session.snapshot
        if snapshot is None or not self.session.trace("whatif_run", snapshot.sk_id, "edit"):
            return None
        values, errors = self.form.read(only_changed=True)
        explanation = self._explain(
            self.form,
            errors,
            lambda: self.cockpit.what_if(snapshot, values, self.lang),
            self._result,
        )
        if explanation is None:
            return None
        before = snapshot.explanation
        delta = (explanation.probability - before.probability) * 100
        decision = decision_text(explanation.decision, self.lang)
        result = tr(
            "whatif.result",
            self.lang,
            before=format_percent(before.probability, self.lang),
            after=format_percent(explanation.probability, self.lang),
            delta=points_text(delta, self.lang),
            decision=decision,
        )
        table = charts.table(
            tr("whatif.diff_caption", self.lang),
            [
                tr("col.feature", self.lang),
                tr("col.value", self.lang),
                tr("col.before", self.lang),
                tr("col.after", self.lang),
                tr("col.change", self.lang),
            ],
            contribution_changes(before.contributions, explanation.contributions, self.lang),
            numeric_columns=(2, 3, 4),
        )
        self._result.object = (
            f'<p class="result">{escape(result)}</p><p>{escape(explanation.sentence)}</p>{table}'
        )
        self.session.announcement = tr(
            "status.rescored",
            self.lang,
            probability=format_percent(explanation.probability, self.lang),
            decision=decision,
            before=format_percent(before.probability, self.lang),
        )
        return explanation

    def score_new_client(self) -> Explanation | None:
        """Score the new-client form; returns the explanation (None on invalid input)."""
        if not self.session.trace("whatif_run", None, "new_client"):
            return None
        values, errors = self.new_form.read()
        explanation = self._explain(
            self.new_form,
            errors,
            lambda: self.cockpit.new_client(values, self.lang),
            self._new_result,
        )
        if explanation is None:
            return None
        message = tr(
            "whatif.new_result",
            self.lang,
            probability=format_percent(explanation.probability, self.lang),
            decision=decision_text(explanation.decision, self.lang),
        )
        self._new_result.object = (
            f'<p class="result">{escape(message)}</p><p>{escape(explanation.sentence)}</p>'
        )
        self.session.announcement = message
        return explanation

    def _rule_message(self, form: FieldForm, error: WhatIfError) -> str:
        """A broken cross-field rule in the page's language, naming the fields by their labels."""
        if not error.rule:
            return str(error)
        labels = {name: spec.label for name, spec in form.specs.items()}
        return tr(f"whatif.rule.{error.rule}", self.lang, **labels)

    def _explain(
        self,
        form: FieldForm,
        errors: dict[str, str],
        compute: Callable[[], Explanation],
        target: pn.pane.HTML,
    ) -> Explanation | None:
        """Run ``compute`` unless the form has errors; show errors inline (ours, or the scorer's WhatIfError)."""
        if not errors:
            try:
                explanation = compute()
            except WhatIfError as error:
                errors = {error.field: self._rule_message(form, error)}
            else:
                form.show_errors({})
                return explanation
        form.show_errors(errors)
        target.object = (
            f'<p class="field-error" role="alert">{escape(tr("whatif.fix_errors", self.lang))}</p>'
        )
        self.session.announcement = tr("whatif.fix_errors", self.lang)
        return None
