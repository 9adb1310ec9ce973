"""The client letter (one A4 page, French or English) and the spreadsheet export of an explanation.

The letter is what the manager hands over or sends after the conversation: the decision, the date, the main
reasons in points of probability, what it would take (for a refusal), information not provided, the right to
ask a person to review the decision (GDPR art. 22, Consumer Credit Directive 2023/2225 art. 18) and how, and who
to contact. It is plain HTML with print rules for A4, so the browser prints it as exactly one page; the Panel app
``dashboard/letter.py`` serves it at ``/letter?client=ID&lang=fr``.

The CSV export is written for French spreadsheet software: ``;`` separators, a UTF-8 byte-order mark, decimal
commas in French, no comment line, and any text cell starting with = + - @ (or a tab / carriage return)
prefixed with an apostrophe so that a spreadsheet never runs it as a formula.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from dashboard.cockpit import ClientSnapshot, Counterfactual
from dashboard.i18n import format_date, format_money, format_percent, format_signed, tr

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
DEFAULT_CONTACT = {
    "fr": "votre conseiller Prêt à dépenser, en agence ou par la messagerie de votre espace client",
    "en": "your Prêt à dépenser adviser, at your branch or through your online account's messages",
}

LETTER_CSS = """
@page { size: A4; margin: 14mm 16mm; }
* { box-sizing: border-box; }
body { font-family: system-ui, "Segoe UI", Arial, sans-serif; color: #1a1a1a; margin: 0; background: #f4f4f4; }
.toolbar { max-width: 50rem; margin: 0.75rem auto; display: flex; gap: 0.75rem; flex-wrap: wrap; align-items: center; }
.toolbar button, .toolbar a { font: inherit; padding: 0.45rem 0.9rem; min-height: 24px; border: 2px solid #0b5d91;
  background: #fff; color: #0b5d91; border-radius: 4px; text-decoration: underline; cursor: pointer; }
.toolbar button { background: #0b5d91; color: #fff; text-decoration: none; }
.toolbar :focus-visible { outline: 3px solid #1a1a1a; outline-offset: 2px; }
main.letter { max-width: 50rem; margin: 0 auto 2rem; background: #fff; padding: 2rem 2.5rem; font-size: 10.5pt;
  line-height: 1.38; }
.letter header { display: flex; justify-content: space-between; align-items: baseline; gap: 1rem; }
.letter .brand { font-weight: 700; font-size: 13pt; color: #0b5d91; margin: 0; }
.letter h1 { font-size: 12.5pt; margin: 0.9rem 0 0.5rem; }
.letter h2 { font-size: 11pt; margin: 0.75rem 0 0.25rem; }
.letter p { margin: 0.3rem 0; }
.letter ul { margin: 0.2rem 0 0.3rem; padding-left: 1.2rem; }
.letter li { margin: 0.1rem 0; }
.letter .decision { font-weight: 700; border-left: 6px solid #0072B2; padding: 0.2rem 0.6rem; background: #e8f1f8; }
.letter .decision.refused { border-left: 6px double #D55E00; background: #fbeee6; }
.letter .points { white-space: nowrap; color: #333; }
.letter .rights { border: 1px solid #767676; padding: 0.35rem 0.6rem; margin-top: 0.6rem; }
.letter .small { font-size: 9pt; color: #333; }
@media print {
  body { background: #fff; }
  .toolbar { display: none; }
  main.letter { max-width: none; margin: 0; padding: 0; font-size: 10pt; }
}
"""


@dataclass(frozen=True)
class LetterOptions:
    """What the letter needs besides the client: the day it is dated and who the client should contact."""

    day: dt.date
    contact: str | None = None
    manager: str | None = None


def points_text(points: float, lang: str, decimals: int = 1) -> str:
    """ "+3,2 pt" / "−0,8 pt": percentage points with their sign, so direction never depends on colour."""
    return f"{format_signed(points, lang, decimals)}\N{NARROW NO-BREAK SPACE}pt"


def _reason_items(reasons: Sequence, lang: str) -> str:
    return "".join(
        f"<li>{escape(reason.text(lang))} <span class='points'>({escape(points_text(reason.points, lang))})</span></li>"
        for reason in reasons
    )


def letter_title(snapshot: ClientSnapshot, lang: str) -> str:
    return tr("letter.title", lang, id=snapshot.sk_id)


def letter_body(
    snapshot: ClientSnapshot, counterfactual: Counterfactual | None, lang: str, options: LetterOptions
) -> str:
    """The letter itself (``<main>``), printable on one A4 page."""
    explanation = snapshot.explanation
    refused = explanation.decision == "refused"
    amount = snapshot.value("AMT_CREDIT")
    parts = [
        "<header>",
        f"<p class='brand'>{escape(tr('app.name', lang))}</p>",
        f"<p>{escape(tr('letter.dated', lang, date=format_date(options.day, lang)))}</p>",
        "</header>",
        f"<h1>{escape(tr('letter.subject', lang, id=snapshot.sk_id))}</h1>",
        f"<p>{escape(tr('letter.salutation', lang))}</p>",
        f"<p>{escape(tr('letter.studied', lang, amount=format_money(amount, lang)))}</p>",
        f"<p class='decision {'refused' if refused else 'granted'}'>"
        f"{escape(tr('letter.refused' if refused else 'letter.granted', lang))}</p>",
        f"<p>{escape(tr('letter.how', lang, probability=format_percent(explanation.probability, lang), threshold=format_percent(explanation.threshold, lang)))}</p>",
    ]
    main, other = (
        (explanation.reasons_against, explanation.reasons_for)
        if refused
        else (explanation.reasons_for, explanation.reasons_against)
    )
    heading_main, heading_other = (
        ("letter.reasons_against", "letter.reasons_for")
        if refused
        else ("letter.reasons_for", "letter.reasons_against")
    )
    parts.append(f"<h2>{escape(tr(heading_main, lang))}</h2>")
    parts.append(
        f"<ul>{_reason_items(main, lang)}</ul>" if main else f"<p>{escape(tr('letter.no_reason', lang))}</p>"
    )
    if other:
        parts.append(f"<h2>{escape(tr(heading_other, lang))}</h2><ul>{_reason_items(other, lang)}</ul>")
    parts.append(f"<p class='small'>{escape(tr('letter.points_note', lang))}</p>")
    if refused and counterfactual is not None and counterfactual.needed:
        parts.append(f"<h2>{escape(tr('letter.would_take', lang))}</h2>")
        if counterfactual.options:
            items = "".join(
                f"<li>{escape(_capitalised(option.text(lang)))} "
                f"<span class='points'>({escape(tr('letter.new_risk', lang, probability=format_percent(option.probability, lang)))})</span></li>"
                for option in counterfactual.options
            )
            parts.append(f"<p>{escape(counterfactual.summary(lang))}</p><ul>{items}</ul>")
        else:
            parts.append(f"<p>{escape(counterfactual.summary(lang))}</p>")
    if explanation.not_provided:
        parts.append(
            f"<p>{escape(tr('letter.not_provided', lang, items=', '.join(explanation.not_provided)))}</p>"
        )
    contact = options.contact or DEFAULT_CONTACT[lang]
    parts.append(
        f"<div class='rights'><h2>{escape(tr('letter.rights_heading', lang))}</h2>"
        f"<p>{escape(tr('letter.rights', lang, contact=contact, id=snapshot.sk_id))}</p></div>"
    )
    signature = options.manager or tr("letter.adviser", lang)
    parts.append(f"<p>{escape(tr('letter.closing', lang))}</p><p><strong>{escape(signature)}</strong></p>")
    return f"<main class='letter' id='main-content'>{''.join(parts)}</main>"


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def letter_link(sk_id: int, lang: str) -> str:
    """A link to the printable letter, a page of its own served next to the app (``/letter``)."""
    return (
        f'<p><a href="letter?client={sk_id}&amp;lang={lang}" target="_blank" rel="noopener">'
        f"{escape(tr('letter.open', lang))}</a></p>"
    )


def toolbar_html(sk_id: int, lang: str, csv_bytes: bytes) -> str:
    """Print, download the CSV (a data: link, so no second request) and go back; hidden when printing."""
    href = "data:text/csv;charset=utf-8;base64," + base64.b64encode(csv_bytes).decode("ascii")
    return (
        f"<nav class='toolbar' aria-label='{escape(tr('letter.toolbar', lang))}'>"
        f"<button type='button' onclick='window.print()'>{escape(tr('letter.print', lang))}</button>"
        f"<a href='{href}' download='explication_{sk_id}.csv'>{escape(tr('letter.csv', lang))}</a>"
        f"<a href='app?client={sk_id}&amp;lang={lang}'>{escape(tr('letter.back', lang))}</a></nav>"
    )


# ---------------------------------------------------------------------------------------------- CSV export
def safe_cell(value: object, lang: str) -> str:
    """One CSV cell: numbers with the language's decimal mark (no thousands separator, so a spreadsheet reads
    them as numbers), text neutralised when a spreadsheet would take it for a formula."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, int | float):
        text = f"{value:.4f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
        return text.replace(".", ",") if lang == "fr" else text
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def explanation_csv(snapshot: ClientSnapshot, lang: str) -> bytes:
    """The explanation as a CSV file (UTF-8 with BOM, ``;``): decision figures, reasons, then every feature."""
    explanation = snapshot.explanation
    rows: list[list[object]] = [
        [tr("csv.section", lang), tr("csv.item", lang), tr("csv.value", lang), tr("csv.points", lang)],
        [tr("csv.decision", lang), tr("csv.client", lang), snapshot.sk_id, None],
        [
            tr("csv.decision", lang),
            tr("csv.outcome", lang),
            tr(f"letter.outcome_{explanation.decision}", lang),
            None,
        ],
        [
            tr("csv.decision", lang),
            tr("csv.probability", lang),
            round(100 * explanation.probability, 2),
            None,
        ],
        [tr("csv.decision", lang), tr("csv.threshold", lang), round(100 * explanation.threshold, 2), None],
        [tr("csv.decision", lang), tr("csv.base", lang), round(100 * explanation.base_probability, 2), None],
    ]
    for key, reasons in (
        ("csv.against", explanation.reasons_against),
        ("csv.for", explanation.reasons_for),
    ):
        rows += [[tr(key, lang), reason.text(lang), None, round(reason.points, 2)] for reason in reasons]
    for row in explanation.contributions.iter_rows(named=True):
        rows.append([tr("csv.feature", lang), row["label"], row["display_value"], round(row["points"], 4)])
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    for row in rows:
        writer.writerow([safe_cell(cell, lang) for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
