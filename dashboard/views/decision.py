"""The decision card: probability, accord/refus against the policy threshold, margin in points, grey zone, gauge.

The threshold is policy: it is shown and not editable, except in an explicit, clearly labelled simulation mode
whose result is marked as not official.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape
from typing import Any

import panel as pn
import param

from dashboard import charts
from dashboard.cockpit import Explanation
from dashboard.i18n import format_percent, format_points, tr
from dashboard.views.base import ClientSession, SessionView, ToggleButton, html_pane
from dashboard.views.letter import letter_link

CARD_CSS = """
.verdict { font-size: 1.35rem; font-weight: 700; margin: 0.25rem 0; padding: 0.4rem 0.75rem; border-left: 8px solid; }
.verdict.granted { border-color: #0072B2; background: #e8f1f8; color: #1a1a1a; }
.verdict.refused { border-color: #D55E00; border-left-style: double; border-left-width: 10px; background: #fbeee6; color: #1a1a1a; }
dl.figures { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; margin: 0.5rem 0; }
dl.figures dt { font-weight: 600; } dl.figures dd { margin: 0; }
.simulation { border: 3px dashed #1a1a1a; padding: 0.4rem 0.75rem; font-weight: 700; }
.note { color: #4a4a4a; }
"""


@dataclass(frozen=True)
class DecisionFigures:
    """The numbers shown on the card, recomputed against a simulated threshold when simulation is on."""

    probability: float
    threshold: float
    grey_zone: float
    decision: str
    margin_points: float
    in_grey_zone: bool
    simulated: bool


def decision_figures(
    explanation: Explanation, grey_zone: float, simulated_threshold: float | None
) -> DecisionFigures:
    """Figures from the scorer's explanation, or against ``simulated_threshold`` (the same rule: refuse at or
    above the threshold)."""
    if simulated_threshold is None:
        return DecisionFigures(
            explanation.probability,
            explanation.threshold,
            grey_zone,
            explanation.decision,
            explanation.margin_points,
            explanation.in_grey_zone,
            simulated=False,
        )
    probability = explanation.probability
    decision = "refused" if probability >= simulated_threshold else "granted"
    margin = (probability - simulated_threshold) * 100
    return DecisionFigures(
        probability,
        simulated_threshold,
        grey_zone,
        decision,
        margin,
        abs(probability - simulated_threshold) <= grey_zone,
        simulated=True,
    )


def gauge_scale_max(figures: DecisionFigures) -> float:
    """Upper end of the gauge: room for the client and the grey zone, rounded to 10 %, at least 50 %."""
    needed = max(figures.probability, figures.threshold + figures.grey_zone) * 1.15
    return min(1.0, max(0.5, math.ceil(needed * 10) / 10))


def render_card(sk_id: int, figures: DecisionFigures, lang: str, policy_threshold: float) -> str:
    """The card's HTML: heading, verdict with icon and words, figures as a description list, grey zone, gauge."""
    granted = figures.decision == "granted"
    icon = "✓" if granted else "✗"
    verdict = tr("decision.granted" if granted else "decision.refused", lang)
    long_verdict = tr("decision.granted_long" if granted else "decision.refused_long", lang)
    points = format_points(figures.margin_points, lang)
    margin = tr(
        "decision.margin_above" if figures.margin_points >= 0 else "decision.margin_below",
        lang,
        points=points,
    )
    width = format_points(figures.grey_zone * 100, lang)
    zone = tr("decision.grey_zone" if figures.in_grey_zone else "decision.clear_zone", lang, width=width)
    scale_max = gauge_scale_max(figures)
    percent = {
        name: format_percent(value, lang)
        for name, value in (
            ("probability", figures.probability),
            ("threshold", figures.threshold),
            ("low", max(figures.threshold - figures.grey_zone, 0)),
            ("high", figures.threshold + figures.grey_zone),
            ("scale_max", scale_max),
        )
    }
    gauge = charts.gauge(
        figures.probability,
        figures.threshold,
        figures.grey_zone,
        scale_max=scale_max,
        label=tr("gauge.label", lang, decision=f"{verdict} ({long_verdict})", **percent),
        granted_text=tr("gauge.granted_side", lang),
        refused_text=tr("gauge.refused_side", lang),
        threshold_text=tr("gauge.threshold", lang, value=percent["threshold"]),
        client_text=tr("gauge.client", lang, value=percent["probability"]),
    )
    banner = ""
    if figures.simulated:
        banner = f'<p class="simulation">{escape(tr("decision.simulation_banner", lang, simulated=percent["threshold"], policy=format_percent(policy_threshold, lang)))}</p>'
    return (
        f"<h2>{escape(tr('decision.heading', lang, id=sk_id))}</h2>{banner}"
        f'<p class="verdict {figures.decision}"><span aria-hidden="true">{icon}</span> {escape(verdict)} – '
        f"{escape(long_verdict)}</p>"
        '<dl class="figures">'
        f"<dt>{escape(tr('decision.probability', lang))}</dt><dd>{percent['probability']}</dd>"
        f"<dt>{escape(tr('decision.simulated_threshold_label' if figures.simulated else 'decision.threshold', lang))}</dt>"
        f"<dd>{percent['threshold']}</dd>"
        f"<dt>{escape(tr('decision.margin', lang))}</dt><dd>{escape(margin)}</dd></dl>"
        f"<p>{escape(zone)}</p>{gauge}"
        f'<p class="note">{escape(tr("decision.policy_note", lang))}</p>'
    )


class DecisionCard(SessionView):
    """Always visible above the client views: the decision and how far it is from the threshold.

    Without a client it stays empty: the view below already asks for one (the text is said once).
    """

    says_pick_client = param.Boolean(default=False, constant=True)

    simulate = param.Boolean(default=False, doc="Explicit simulation mode: the threshold becomes editable.")
    simulated_threshold_percent = param.Number(
        default=None, allow_None=True, doc="Threshold used in simulation mode, in percent."
    )

    def __init__(self, session: ClientSession, **params: Any) -> None:
        params.setdefault("simulated_threshold_percent", round(session.cockpit.threshold * 100, 1))
        super().__init__(session, **params)

    def _build(self) -> pn.Column:
        self._card = html_pane(stylesheets=[charts.TABLE_CSS, CARD_CSS])
        self._toggle = ToggleButton(
            label=tr("decision.simulation", self.lang), value=self.simulate, width=260, align="end"
        )
        self._toggle.param.watch(lambda event: setattr(self, "simulate", event.new), "value")
        # The threshold input (with its help tooltip) is created when simulation is first switched on: most
        # pages never simulate, and every component is a model each page pays for.
        self._threshold_input: pn.widgets.FloatInput | None = None
        self._controls = pn.Row(self._toggle)
        self._show_simulation_controls()
        return pn.Column(self._card, self._controls, sizing_mode="stretch_width")

    def _show_simulation_controls(self) -> None:
        self._toggle.value = self.simulate
        if self.simulate and self._threshold_input is None:
            self._threshold_input = pn.widgets.FloatInput.from_param(
                self.param.simulated_threshold_percent,
                label=tr("decision.simulated_threshold", self.lang),
                start=1.0,
                end=99.0,
                step=0.5,
                width=220,
            )
            self._controls.append(self._threshold_input)
        if self._threshold_input is not None:
            self._threshold_input.visible = self.simulate

    @param.depends("simulate", "simulated_threshold_percent", watch=True)
    def _simulation_changed(self) -> None:
        if self.built:
            self._show_simulation_controls()
        self.refresh()

    def threshold_is_valid(self) -> bool:
        """A simulated threshold must be a number from 1 to 99 %; anything else is refused out loud, not clamped."""
        value = self.simulated_threshold_percent
        return value is not None and math.isfinite(value) and 1.0 <= value <= 99.0

    def figures(self) -> DecisionFigures:
        """The figures currently shown: simulated only when simulation is on and its threshold is valid."""
        explanation = self.session.snapshot.explanation
        simulated = (
            self.simulated_threshold_percent / 100 if self.simulate and self.threshold_is_valid() else None
        )
        return decision_figures(explanation, self.cockpit.grey_zone, simulated)

    def _update(self) -> None:
        snapshot = self.session.snapshot
        card = render_card(snapshot.sk_id, self.figures(), self.lang, self.cockpit.threshold)
        if self.simulate and not self.threshold_is_valid():
            card += (
                f'<p role="alert" class="simulation">{escape(tr("decision.simulation_error", self.lang))}</p>'
            )
        self._card.object = card + letter_link(snapshot.sk_id, self.lang)
