"""pygal charts as inline SVG that is deterministic and self-contained.

pygal always writes a <script> with its config (which would carry
unescaped names into the page) and a random chart id and a dated comment;
we drop the script and comments and give the chart a stable id.
"""

from __future__ import annotations

import functools
import math
import re

from markupsafe import Markup

from reportgen import units
from reportgen.render.names import show_controls


@functools.lru_cache(maxsize=1)
def _style():
    """The charts' pygal Style. Charts are drawn 640 px wide and shown at 460-700 px:
    fonts sized so the smallest text stays at 11 px or more on screen."""
    from pygal.style import Style  # pygal only when a chart is drawn (~50 ms to import)

    return Style(
        background="transparent", plot_background="transparent",
        foreground="#7d8790", foreground_strong="#7d8790", foreground_subtle="#7d879055",
        colors=("#d9534f", "#3b7dd8", "#f0ad4e", "#5cb85c"),
        font_family="system-ui, sans-serif", title_font_size=17, label_font_size=14,
        major_label_font_size=14, value_font_size=14, value_label_font_size=14,
        tooltip_font_size=14)


LABEL_CHARS = 40       # the longest axis label; fit_name shortens a name to it
VALUE_ROOM = 0.35      # the axis runs this much past the longest bar: room for its value

_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)


def shorten(name: str, limit: int = 48) -> str:
    """A function name short enough for a chart axis: the flame graph's short
    forms (without import path, then without package), then cut at the end,
    so the name's start, which says whose code it is, survives."""
    from reportgen.render.flamegraph import fit_name
    return fit_name(name, limit) if len(name) > limit else name


def nice_ticks(low: float, high: float, binary: bool = False, most: int = 6) -> list[float]:
    """Round axis ticks covering [low, high]: steps of 1, 2 or 5 x 10^k, or for
    bytes powers of two (8 KiB, 16 KiB ... rather than 9.766 KiB)."""
    low, high = min(low, 0.0), max(high, 0.0)
    span = high - low
    if span <= 0:
        return [0.0]
    steps = []
    for k in range(-12, 64):
        steps += [2.0 ** k] if binary else [m * 10.0 ** k for m in (1, 2, 5)]
    step = next(st for st in sorted(steps) if span / st <= most)
    first = math.floor(low / step) * step
    ticks, t = [], first
    while t <= high + step * 1e-9:
        ticks.append(t)
        t += step
    if ticks[-1] < high:
        ticks.append(ticks[-1] + step)
    return ticks


def clean_svg(svg: str, uuid: str, chart_id: str) -> Markup:
    """pygal's SVG minus its script and comments, with a stable id.

    pygal built it with an XML serializer, so every name in it is escaped;
    bidi controls in names are shown as escapes (render.names).
    """
    svg = show_controls(_SCRIPT.sub("", svg))
    svg = _COMMENT.sub("", svg)
    return Markup(svg.replace(uuid, chart_id))


# Shrank / grew, the same colour-blind-safe red/blue as the diff flame graph.
SHRANK, GREW = "#2166ac", "#b2182b"


def horizontal_bars(chart_id: str, title: str, names: list[str], values: list[int],
                    unit: str, out_unit: str, diverging: bool = False) -> Markup:
    """A bar per name, largest on top, each value labelled in its own unit
    (units.human: 80.6 ms, 1.01 GB); `out_unit` is accepted for callers that
    pass pprof's table unit and is not used.

    The value axis runs past the longest bar (both ways for a diverging
    chart) so each value label fits inside the chart next to its bar."""
    top = max([abs(v) for v in values] + [1])
    low = -top if min(values, default=0) < 0 else 0
    high = top if max(values, default=0) > 0 or not low else 0
    import pygal

    chart = pygal.HorizontalBar(
        js=[], disable_xml_declaration=True, style=_style(), width=640,
        height=90 + 30 * max(len(names), 1), show_legend=False, print_values=True,
        print_values_position="top", truncate_label=-1, show_y_guides=False,
        value_formatter=lambda v: units.human(int(v), unit), margin=8,
        x_label_rotation=0, show_x_labels=False,
        range=(low * (1 + VALUE_ROOM), high * (1 + VALUE_ROOM)))
    chart.title = title
    # pygal draws the first value at the bottom: reverse so the largest is on top.
    chart.x_labels = [shorten(n, LABEL_CHARS) for n in reversed(names)]
    points = [{"value": v, "label": n} for n, v in zip(reversed(names), reversed(values))]
    if diverging:
        for point in points:
            point["color"] = SHRANK if point["value"] < 0 else GREW
    chart.add("", points)
    svg = _VALUE.sub(_value_beside_bar, chart.render(is_unicode=True))
    return clean_svg(svg, chart.uuid, chart_id)


def xy_lines(chart_id: str, title: str, series: list[tuple[str, list[tuple[float, float]]]],
             x_title: str, y_title: str, fmt=lambda v: f"{v:g}", dots: bool = False,
             stroke: bool = True) -> Markup:
    """Lines over a numeric x axis (time), one per (name, [(x, y)]); empty series are left out."""
    import pygal

    chart = pygal.XY(js=[], disable_xml_declaration=True, style=_style(), width=640, height=300,
                     legend_at_bottom=True, truncate_legend=-1, show_dots=dots, dots_size=2,
                     stroke=stroke, margin=8, x_title=x_title, y_title=y_title,
                     value_formatter=fmt, x_value_formatter=lambda v: f"{v:g}",
                     include_x_axis=True, show_x_guides=False)
    chart.title = title
    for name, points in series:
        if points:
            chart.add(name, points)
    return clean_svg(chart.render(is_unicode=True), chart.uuid, chart_id)


_VALUE = re.compile(r'<text text-anchor="middle" x="([-\d.]+)"( y="[-\d.]+" class="value[^"]*">)'
                    r'([^<]*)<')


def _value_beside_bar(m) -> str:
    """pygal centres a value on its bar's end, half over the bar: put it beside."""
    x, rest, text = float(m.group(1)), m.group(2), m.group(3)
    if text.startswith(("-", "\u2212")):
        return f'<text text-anchor="end" x="{x - 4:.1f}"{rest}{text}<'
    return f'<text text-anchor="start" x="{x + 4:.1f}"{rest}{text}<'
