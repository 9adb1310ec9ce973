"""Charts are labelled SVG pictures with escaped text; tables have captions and header cells."""

from __future__ import annotations

from dashboard import charts


def test_every_chart_is_a_labelled_image_and_escapes_data():
    hostile = '<script>alert("x")</script>'
    pictures = [
        charts.gauge(
            0.12,
            0.09,
            0.02,
            label=hostile,
            scale_max=0.5,
            granted_text="✓",
            refused_text="✗",
            threshold_text=hostile,
            client_text=hostile,
        ),
        charts.horizontal_bars([(hostile, 0.3), ("b", -0.1)], label=hostile, value_format=str, signed=True),
        charts.waterfall(
            -2.0,
            [(hostile, 0.5), ("b", -0.2)],
            -1.7,
            label=hostile,
            base_text="base",
            final_text="score",
            value_format=str,
        ),
        charts.histogram(
            [(0, 1), (1, 2)], [0.4, 0.6], overlay=[0.5, 0.5], marker=1.5, marker_text=hostile, label=hostile
        ),
        charts.line_chart([0, 0.5, 1], [3, 1, 2], marker_x=0.5, marker_text=hostile, label=hostile),
        charts.heatmap(
            [0, 1, 2],
            [0, 1, 2],
            [(0, 0, 5), (1, 1, 2)],
            highlight=(1, 1),
            label=hostile,
            x_title=hostile,
            y_title=hostile,
            legend=(hostile, hostile),
        ),
    ]
    for svg in pictures:
        assert svg.startswith("<svg") and 'role="img"' in svg and 'aria-label="&lt;script&gt;' in svg
        assert "<script>" not in svg


def test_signed_bars_use_hatching_for_risk_up_and_solid_for_risk_down():
    svg = charts.horizontal_bars([("up", 0.3), ("down", -0.1)], label="x", value_format=str, signed=True)
    assert 'fill="url(#hatch)"' in svg and f'fill="{charts.BLUE}"' in svg


def test_table_has_caption_column_and_row_headers():
    html = charts.table("Caption <b>", ["A", "B"], [["x", 1], ["<y>", 2]], numeric_columns=(1,))
    assert "<caption>Caption &lt;b&gt;</caption>" in html
    assert html.count('<th scope="col">') == 2 and html.count('<th scope="row">') == 2
    assert "&lt;y&gt;" in html and '<td class="num">1</td>' in html


def test_empty_inputs_draw_nothing():
    assert charts.histogram([], [], label="x") == ""
    assert charts.horizontal_bars([], label="x", value_format=str) == ""


def test_heatmap_has_a_shade_key_from_light_to_dark():
    svg = charts.heatmap(
        [0, 1, 2],
        [0, 1, 2],
        [(0, 0, 5), (1, 1, 2)],
        highlight=None,
        label="density",
        x_title="x",
        y_title="y",
        legend=("few clients", "5 clients per cell"),
    )
    assert "few clients" in svg and "5 clients per cell" in svg
    key = svg.split("few clients")[0]
    assert key.count('height="16"') == 10  # ten swatches, lightest first
    assert charts.Cividis256[255] in key and charts.Cividis256[0] in key
