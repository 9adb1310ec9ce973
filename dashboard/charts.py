"""Charts as small inline SVG, and HTML tables as their text alternatives.

Why SVG rather than Bokeh canvases: a canvas is opaque to assistive technology and Bokeh's toolbar is not in the
tab order (bokeh/bokeh#10299, #12259, #11266). These charts are static pictures of small aggregates computed in
DuckDB, so an SVG with ``role="img"``, an ``aria-label`` summary, Okabe–Ito colours with a second cue (hatching,
dashes, markers, text) and a companion ``<table>`` serves everyone, weighs a few kB and renders in a millisecond.

Every function returns an HTML string; every piece of text that comes from data is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from bokeh.palettes import Cividis256

BLUE = "#0072B2"  # Okabe–Ito blue: 5.2:1 on white
VERMILLION = "#D55E00"  # Okabe–Ito vermillion: 3.9:1 on white (graphics need 3:1)
INK = "#1a1a1a"
MUTED_INK = "#4a4a4a"
GRID = "#767676"

_DEFS = f"""<defs>
<pattern id="hatch" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)">
<rect width="6" height="6" fill="{VERMILLION}"/><line x1="0" y1="0" x2="0" y2="6" stroke="#ffffff" stroke-width="2"/></pattern>
<pattern id="grey-zone" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(-45)">
<rect width="6" height="6" fill="#d9d9d9"/><line x1="0" y1="0" x2="0" y2="6" stroke="#595959" stroke-width="1.5"/></pattern>
</defs>"""


_TITLE_HEIGHT = 26


def _svg(width: int, height: int, label: str, body: str, title: str = "") -> str:
    """The chart as an accessible image; a ``title`` is drawn above the plot, which is moved down to make room."""
    if title:
        body = (
            _text(8, 18, title, size=14, weight="700")
            + f'<g transform="translate(0 {_TITLE_HEIGHT})">{body}</g>'
        )
        height += _TITLE_HEIGHT
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(label)}" '
        f'viewBox="0 0 {width} {height}" width="100%" style="max-width:{width}px;height:auto;display:block" '
        f'font-family="system-ui, sans-serif" font-size="13">{_DEFS}{body}</svg>'
    )


def _axis_titles(x_title: str, y_title: str, *, centre_x: float, x_y: float, centre_y: float) -> str:
    """The words saying what each axis measures: under the horizontal axis, turned along the vertical one."""
    parts = []
    if x_title:
        parts.append(_text(centre_x, x_y, x_title, anchor="middle", weight="600"))
    if y_title:
        parts.append(
            f'<text x="14" y="{centre_y:.1f}" font-weight="600" fill="{INK}" text-anchor="middle" '
            f'transform="rotate(-90 14 {centre_y:.1f})">{escape(_shorten(y_title, 32))}</text>'
        )
    return "".join(parts)


def _x_axis(
    x_of,
    x_min: float,
    x_max: float,
    x_format,
    box: tuple[float, float, float, float],
    x_title: str,
    y_title: str,
) -> str:
    """Three ticks under the horizontal axis (ends and middle) and both axis titles, for the charts over a
    continuous range; ``box`` is (left, right, top, bottom)."""
    left, right, top, bottom = box
    ticks = [
        _text(x_of(tick), bottom + 18, x_format(tick), anchor="middle", size=12, fill=MUTED_INK)
        for tick in (x_min, (x_min + x_max) / 2, x_max)
    ]
    titles = _axis_titles(
        x_title, y_title, centre_x=(left + right) / 2, x_y=bottom + 38, centre_y=(top + bottom) / 2
    )
    return "".join(ticks) + titles


def _text(
    x: float,
    y: float,
    content: str,
    *,
    anchor: str = "start",
    size: int = 13,
    weight: str = "normal",
    fill: str = INK,
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" font-weight="{weight}" '
        f'fill="{fill}">{escape(content)}</text>'
    )


def gauge(
    probability: float,
    threshold: float,
    grey_zone: float,
    *,
    label: str,
    scale_max: float,
    granted_text: str,
    refused_text: str,
    threshold_text: str,
    client_text: str,
) -> str:
    """A horizontal bar from 0 to ``scale_max``: solid blue "granted" side, hatched vermillion "refused" side,
    a hatched grey band for the grey zone, a dashed threshold line and a black triangle for the client.

    Meaning is carried by position, hatching, the ✓/✗ words and the labels, never by colour alone.
    """
    width, left, right = 640, 16, 624
    span = right - left

    def x_of(p: float) -> float:
        return left + span * min(max(p, 0.0), scale_max) / scale_max

    x_threshold, x_client = x_of(threshold), x_of(probability)
    x_low, x_high = x_of(threshold - grey_zone), x_of(threshold + grey_zone)
    body = [
        f'<rect x="{left}" y="34" width="{x_threshold - left:.1f}" height="26" fill="{BLUE}"/>',
        f'<rect x="{x_threshold:.1f}" y="34" width="{right - x_threshold:.1f}" height="26" fill="url(#hatch)"/>',
        f'<rect x="{x_low:.1f}" y="34" width="{x_high - x_low:.1f}" height="26" fill="url(#grey-zone)" '
        f'stroke="{INK}" stroke-width="1"/>',
        f'<line x1="{x_threshold:.1f}" y1="24" x2="{x_threshold:.1f}" y2="70" stroke="{INK}" stroke-width="2.5" '
        'stroke-dasharray="5 3"/>',
        _text(x_threshold, 84, threshold_text, anchor="middle", weight="600"),
        f'<path d="M {x_client - 9:.1f} 8 L {x_client + 9:.1f} 8 L {x_client:.1f} 30 Z" fill="{INK}"/>',
        _text(min(max(x_client, left + 60), right - 60), 100, client_text, anchor="middle", weight="700"),
        _text(left, 120, granted_text, weight="600"),
        _text(right, 120, refused_text, anchor="end", weight="600"),
    ]
    return _svg(width, 128, label, "".join(body))


def horizontal_bars(
    rows: Sequence[tuple[str, float]],
    *,
    label: str,
    value_format,
    signed: bool = False,
    title: str = "",
    x_title: str = "",
) -> str:
    """Horizontal bars, one per (label, value): used for global importance and contribution waterfalls.

    With ``signed``, positive bars are hatched vermillion and point right ("▲ increases the risk"), negative bars
    are solid blue and point left; the signed value is printed at the end of each bar.
    """
    if not rows:
        return ""
    row_height, label_width, width = 26, 250, 720
    plot_left, plot_right = label_width + 10, width - 80
    top = 8
    extent = max(abs(value) for _, value in rows) or 1.0
    zero = (plot_left + plot_right) / 2 if signed else plot_left
    half = (plot_right - plot_left) / 2 if signed else plot_right - plot_left
    body = []
    for index, (name, value) in enumerate(rows):
        y = top + index * row_height
        length = half * abs(value) / extent
        x = zero if value >= 0 else zero - length
        fill = ("url(#hatch)" if value > 0 else BLUE) if signed else BLUE
        body.append(_text(label_width, y + 17, _shorten(name, 36), anchor="end"))
        body.append(
            f'<rect x="{x:.1f}" y="{y + 4}" width="{max(length, 1):.1f}" height="{row_height - 8}" fill="{fill}"/>'
        )
        text_x = x + length + 4 if value >= 0 else x - 4
        body.append(
            _text(text_x, y + 17, value_format(value), anchor="start" if value >= 0 else "end", size=12)
        )
    height = top + len(rows) * row_height + 8
    body.append(
        f'<line x1="{zero:.1f}" y1="{top}" x2="{zero:.1f}" y2="{height - 8}" stroke="{INK}" stroke-width="1.5"/>'
    )
    if x_title:
        body.append(
            _axis_titles(x_title, "", centre_x=(plot_left + plot_right) / 2, x_y=height + 10, centre_y=0)
        )
        height += 20
    return _svg(width, height, label, "".join(body), title)


def waterfall(
    base: float,
    steps: Sequence[tuple[str, float]],
    final: float,
    *,
    label: str,
    base_text: str,
    final_text: str,
    value_format,
    threshold: float | None = None,
    threshold_text: str = "",
    axis_format=None,
) -> str:
    """A waterfall from the base value through each step to the client's value.

    Rising steps are hatched vermillion with a ▲, falling steps solid blue with a ▼, so the direction is read from
    the shape and the sign as well as the colour. Labels wrap on two lines instead of being cut; with
    ``axis_format`` an x axis with ticks is drawn, with ``threshold`` a dashed line marks it.
    """
    wrapped = [_wrap(name, 34) for name in (base_text, *(name for name, _ in steps), final_text)]
    row_height = 38 if any(len(lines) > 1 for lines in wrapped) else 26
    label_width, width = 270, 740
    plot_left, plot_right = label_width + 10, width - 90
    levels = [base]
    for _, value in steps:
        levels.append(levels[-1] + value)
    extra = [] if threshold is None else [threshold]
    low, high = min([*levels, final, 0.0, *extra]), max([*levels, final, 0.0, *extra])
    scale = (plot_right - plot_left) / ((high - low) or 1.0)

    def x_of(value: float) -> float:
        return plot_left + (value - low) * scale

    body = []
    rows = [
        (base_text, None, base),
        *[(name, value, None) for name, value in steps],
        (final_text, None, final),
    ]
    running = base
    for index, ((_, delta, total), lines) in enumerate(zip(rows, wrapped, strict=True)):
        y = 8 + index * row_height
        middle = y + row_height / 2 + 4
        first = middle - 7 * (len(lines) - 1)
        body += [
            _text(label_width, first + 14 * i, line, anchor="end", size=12) for i, line in enumerate(lines)
        ]
        if delta is None:
            body.append(
                f'<rect x="{min(x_of(0), x_of(total)):.1f}" y="{y + 4}" width="{max(abs(x_of(total) - x_of(0)), 1):.1f}" '
                f'height="{row_height - 8}" fill="#595959"/>'
            )
            body.append(_text(max(x_of(0), x_of(total)) + 4, middle, value_format(total), size=12))
            continue
        start, end = running, running + delta
        running = end
        fill, arrow = ("url(#hatch)", "▲ ") if delta > 0 else (BLUE, "▼ ")
        x0, x1 = sorted((x_of(start), x_of(end)))
        body.append(
            f'<rect x="{x0:.1f}" y="{y + 4}" width="{max(x1 - x0, 1):.1f}" height="{row_height - 8}" fill="{fill}"/>'
        )
        body.append(_text(x1 + 4, middle, arrow + value_format(delta), size=12))
    bottom = 8 + len(rows) * row_height
    height = bottom + (34 if axis_format else 8)
    body.append(
        f'<line x1="{x_of(0):.1f}" y1="4" x2="{x_of(0):.1f}" y2="{bottom}" stroke="{INK}" stroke-width="1" '
        'stroke-dasharray="2 2"/>'
    )
    if axis_format is not None:
        body.append(f'<line x1="{plot_left}" y1="{bottom}" x2="{plot_right}" y2="{bottom}" stroke="{GRID}"/>')
        for tick in _ticks(low, high):
            body.append(
                f'<line x1="{x_of(tick):.1f}" y1="{bottom}" x2="{x_of(tick):.1f}" y2="{bottom + 5}" stroke="{GRID}"/>'
            )
            body.append(_text(x_of(tick), bottom + 18, axis_format(tick), anchor="middle", size=11))
    if threshold is not None:
        x = x_of(threshold)
        body.append(
            f'<line x1="{x:.1f}" y1="4" x2="{x:.1f}" y2="{bottom}" stroke="{VERMILLION}" stroke-width="2" '
            'stroke-dasharray="6 3"/>'
        )
        body.append(
            _text(x, bottom + 30 if axis_format else bottom + 4, threshold_text, anchor="middle", size=11)
        )
        height += 6
    return _svg(width, height, label, "".join(body))


def _wrap(text: str, limit: int) -> list[str]:
    """Words on lines of at most ``limit`` characters (a longer single word stays whole): nothing is cut."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= limit:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values covering [low, high]."""
    span = (high - low) or 1.0
    raw = span / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.ceil(low / step) * step
    return [start + i * step for i in range(int((high - start) / step) + 1)]


def histogram(
    edges: Sequence[tuple[float, float]],
    shares: Sequence[float],
    *,
    label: str,
    overlay: Sequence[float] | None = None,
    marker: float | None = None,
    marker_text: str = "",
    axis_format=str,
    threshold: float | None = None,
    threshold_text: str = "",
    title: str = "",
    x_title: str = "",
    y_title: str = "",
    y_format=None,
) -> str:
    """Bars of ``shares`` over ``edges``; optional dashed vermillion outline ``overlay`` (a second group), a black
    client marker line with its label, or a dashed threshold line splitting solid and hatched bars. ``y_format``
    writes the height scale (zero and the tallest bar) beside a vertical axis."""
    if not edges:
        return ""
    width, height, left, right, top, bottom = 720, 240, 80 if y_format or y_title else 50, 700, 28, 200
    x_min, x_max = edges[0][0], edges[-1][1]
    peak = max([*shares, *(overlay or [])]) or 1.0

    def x_of(value: float) -> float:
        return left + (right - left) * (value - x_min) / ((x_max - x_min) or 1.0)

    def y_of(share: float) -> float:
        return bottom - (bottom - top) * share / peak

    body = [f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="{GRID}" stroke-width="1"/>']
    for (start, end), share in zip(edges, shares, strict=True):
        fill = "url(#hatch)" if threshold is not None and start >= threshold else BLUE
        body.append(
            f'<rect x="{x_of(start) + 0.5:.1f}" y="{y_of(share):.1f}" width="{max(x_of(end) - x_of(start) - 1, 0.5):.1f}" '
            f'height="{bottom - y_of(share):.1f}" fill="{fill}"/>'
        )
    if overlay is not None:
        points = []
        for (start, end), share in zip(edges, overlay, strict=True):
            points += [f"{x_of(start):.1f},{y_of(share):.1f}", f"{x_of(end):.1f},{y_of(share):.1f}"]
        body.append(
            f'<polyline points="{" ".join(points)}" fill="none" stroke="{VERMILLION}" stroke-width="3" '
            'stroke-dasharray="7 4"/>'
        )
    for value, text, dash in (
        (marker, marker_text, ""),
        (threshold, threshold_text, ' stroke-dasharray="5 3"'),
    ):
        if value is None or not math.isfinite(value):
            continue
        x = x_of(min(max(value, x_min), x_max))
        body.append(
            f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{bottom}" stroke="{INK}" stroke-width="3"{dash}/>'
        )
        body.append(_text(min(max(x, left + 70), right - 70), top - 10, text, anchor="middle", weight="700"))
    if y_format is not None:
        body.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="{GRID}"/>')
        body.append(_text(left - 6, top + 4, y_format(peak), anchor="end", size=12, fill=MUTED_INK))
        body.append(_text(left - 6, bottom, y_format(0.0), anchor="end", size=12, fill=MUTED_INK))
    body.append(_x_axis(x_of, x_min, x_max, axis_format, (left, right, top, bottom), x_title, y_title))
    height += 20 if x_title else 0
    return _svg(width, height, label, "".join(body), title)


def line_chart(
    xs: Sequence[float],
    ys: Sequence[float],
    *,
    label: str,
    marker_x: float,
    marker_text: str,
    x_format=str,
    y_format=str,
    title: str = "",
    x_title: str = "",
    y_title: str = "",
) -> str:
    """A blue line (e.g. cost over thresholds) with a dashed vertical marker and its label (e.g. the policy)."""
    if not xs:
        return ""
    width, height, left, right, top, bottom = 720, 240, 80, 700, 28, 200
    x_min, x_max, y_min, y_max = min(xs), max(xs), min(ys), max(ys)

    def x_of(value: float) -> float:
        return left + (right - left) * (value - x_min) / ((x_max - x_min) or 1.0)

    def y_of(value: float) -> float:
        return bottom - (bottom - top) * (value - y_min) / ((y_max - y_min) or 1.0)

    points = " ".join(f"{x_of(x):.1f},{y_of(y):.1f}" for x, y in zip(xs, ys, strict=True))
    x_marker = x_of(marker_x)
    body = [
        f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="{GRID}"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="{GRID}"/>',
        f'<polyline points="{points}" fill="none" stroke="{BLUE}" stroke-width="3"/>',
        f'<line x1="{x_marker:.1f}" y1="{top - 6}" x2="{x_marker:.1f}" y2="{bottom}" stroke="{INK}" stroke-width="2.5" '
        'stroke-dasharray="5 3"/>',
        _text(
            min(max(x_marker, left + 80), right - 80), top - 10, marker_text, anchor="middle", weight="700"
        ),
        _text(left - 6, top + 4, y_format(y_max), anchor="end", size=12, fill=MUTED_INK),
        _text(left - 6, bottom, y_format(y_min), anchor="end", size=12, fill=MUTED_INK),
    ]
    body.append(_x_axis(x_of, x_min, x_max, x_format, (left, right, top, bottom), x_title, y_title))
    height += 20 if x_title else 0
    return _svg(width, height, label, "".join(body), title)


def heatmap(
    x_edges: Sequence[float],
    y_edges: Sequence[float],
    cells: Sequence[tuple[int, int, float]],
    *,
    label: str,
    highlight: tuple[int, int] | None,
    x_title: str,
    y_title: str,
    legend: tuple[str, str],
    x_format=str,
    y_format=str,
) -> str:
    """A value per (x bin, y bin) (a count or a rate) as a cividis heat map (darker = higher), the client's cell
    framed twice (black then white) so it stands out on any shade; ``legend`` gives the texts at the light and
    dark ends of the shade key drawn under the chart, since a shade means nothing without it."""
    width, height, left, right, top, bottom = 720, 460, 80, 700, 10, 360
    nx, ny = max(len(x_edges) - 1, 1), max(len(y_edges) - 1, 1)
    cell_w, cell_h = (right - left) / nx, (bottom - top) / ny
    peak = max((count for _, _, count in cells), default=1) or 1
    body = []
    for ix, iy, count in cells:
        shade = Cividis256[255 - int(255 * math.sqrt(count / peak))]
        body.append(
            f'<rect x="{left + ix * cell_w:.1f}" y="{bottom - (iy + 1) * cell_h:.1f}" width="{cell_w:.1f}" '
            f'height="{cell_h:.1f}" fill="{shade}"/>'
        )
    if highlight is not None:
        ix, iy = highlight
        x, y = left + ix * cell_w, bottom - (iy + 1) * cell_h
        body.append(
            f'<rect x="{x - 2:.1f}" y="{y - 2:.1f}" width="{cell_w + 4:.1f}" height="{cell_h + 4:.1f}" fill="none" '
            f'stroke="{INK}" stroke-width="4"/>'
        )
        body.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{cell_w:.1f}" height="{cell_h:.1f}" fill="none" stroke="#ffffff" '
            'stroke-width="1.5"/>'
        )
    body.append(
        f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top}" fill="none" stroke="{GRID}"/>'
    )
    body.append(_text(left, bottom + 18, x_format(x_edges[0]), size=12, fill=MUTED_INK))
    body.append(_text(right, bottom + 18, x_format(x_edges[-1]), anchor="end", size=12, fill=MUTED_INK))
    body.append(_text(left - 6, bottom, y_format(y_edges[0]), anchor="end", size=12, fill=MUTED_INK))
    body.append(_text(left - 6, top + 12, y_format(y_edges[-1]), anchor="end", size=12, fill=MUTED_INK))
    body.append(_text((left + right) / 2, bottom + 40, x_title, anchor="middle", weight="600"))
    body.append(
        f'<text x="16" y="{(top + bottom) / 2:.1f}" font-weight="600" fill="{INK}" text-anchor="middle" '
        f'transform="rotate(-90 16 {(top + bottom) / 2:.1f})">{escape(_shorten(y_title, 40))}</text>'
    )
    key_left, key_top, swatch = left + 150, bottom + 62, 32
    for step in range(10):
        shade = Cividis256[255 - int(255 * math.sqrt(step / 9))]
        body.append(
            f'<rect x="{key_left + step * swatch}" y="{key_top}" width="{swatch}" height="16" fill="{shade}" '
            f'stroke="{GRID}" stroke-width="0.5"/>'
        )
    body.append(_text(key_left - 8, key_top + 13, legend[0], anchor="end", size=12, fill=MUTED_INK))
    body.append(_text(key_left + 10 * swatch + 8, key_top + 13, legend[1], size=12, fill=MUTED_INK))
    return _svg(width, height, label, "".join(body))


def table(
    caption: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    numeric_columns: Sequence[int] = (),
) -> str:
    """A plain HTML table with a caption and column headers (``th scope="col"``); the first cell of each row is a
    row header. Values are escaped; numeric columns are right-aligned."""
    head = "".join(f'<th scope="col">{escape(str(h))}</th>' for h in headers)
    body = []
    for row in rows:
        cells = []
        for index, value in enumerate(row):
            style = ' class="num"' if index in numeric_columns else ""
            tag = 'th scope="row"' if index == 0 else "td"
            cells.append(f"<{tag}{style}>{escape(str(value))}</{tag.split()[0]}>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<div class="table-wrap"><table><caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def details(summary: str, content: str) -> str:
    """A native disclosure (keyboard operable, announced as expanded/collapsed) holding a table alternative."""
    return f"<details><summary>{escape(summary)}</summary>{content}</details>"


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


TABLE_CSS = """
:host { font-size: 1rem; color: #1a1a1a; max-width: 100%; min-width: 0; }
.table-wrap { overflow-x: auto; max-width: 100%; }
th, caption, code { overflow-wrap: anywhere; }
pre { overflow-x: auto; max-width: 100%; white-space: pre-wrap; }
table { border-collapse: collapse; margin: 0.5rem 0; font-size: 0.95rem; }
caption { text-align: left; font-weight: 600; padding: 0.25rem 0; color: #1a1a1a; }
th, td { border: 1px solid #767676; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; color: #1a1a1a; }
thead th { background: #eef2f5; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
details { margin: 0.5rem 0; }
summary { cursor: pointer; color: #0b5d91; font-weight: 600; padding: 0.25rem 0; min-height: 24px; }
summary:focus-visible { outline: 3px solid #0b5d91; outline-offset: 2px; }
p { max-width: 70ch; }
"""
"""CSS for HTML panes that hold tables and disclosures (shadow DOM: page CSS does not reach them)."""
