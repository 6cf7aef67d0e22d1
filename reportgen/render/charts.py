"""pygal charts as inline SVG that is deterministic and self-contained.

pygal always writes a <script> with its config (which would carry
unescaped names into the page) and a random chart id and a dated comment;
we drop the script and comments and give the chart a stable id.
"""

from __future__ import annotations

import functools
import math
import re

from markupsafe import Markup, escape

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


_get = object.__getattribute__


def _state_first(self, name):
    """pygal's BaseGraph.__getattribute__ without its nested lookups (it calls
    itself for `state` on every access, ~100k times a trend chart): while a
    chart renders, a value in its state (config, chart and render options)
    wins over the chart's own attribute; otherwise the usual lookup."""
    state = _get(self, "__dict__").get("state")
    if state is not None and name != "state" and name[:2] != "__":
        values = state.__dict__
        if name in values:
            return values[name]
    return _get(self, name)


@functools.lru_cache(maxsize=None)
def chart_class(kind: str):
    """pygal's chart class `kind` ("XY", "Line", "StackedBar"), with _state_first's
    cheaper attribute lookup: the same chart, byte for byte (a trend chart
    draws in ~30% less CPU). It keeps pygal's class name, which pygal writes
    into the SVG ("xy-graph")."""
    import pygal
    base = getattr(pygal, kind)
    return type(base.__name__, (base,), {"__getattribute__": _state_first,
                                         "__qualname__": base.__qualname__,
                                         "__module__": base.__module__})


LABEL_CHARS = 40       # the longest axis label of the pygal charts; fit_name shortens to it
BAR_FONT = 14          # labels and values, px (the pygal charts' label size)
TITLE_FONT = 17
ROW = 30               # px per bar
LABEL_SHARE = 0.42     # the most of the chart's width the name column takes

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


def count_ticks(top: float, most: int = 6) -> list[int]:
    """Whole-number axis ticks from 0 covering `top` (goroutines, snapshots): at
    most `most`+1 of them, so their labels never crowd into each other (pygal's
    own labels every unit overlap beyond about 12)."""
    ticks = nice_ticks(0, max(top, 1), most=most)
    step = max(1, int(round(ticks[1] - ticks[0])) if len(ticks) > 1 else 1)
    return list(range(0, int(math.ceil(max(top, 1) / step)) * step + 1, step))


def rotated_label_room(labels: list[str], degrees: float, size: float = BAR_FONT) -> tuple:
    """(right, bottom) px beyond pygal's own estimate (0.6 em a character) that
    x labels rotated by `degrees` need, so the last label is not clipped at the
    right edge nor any at the bottom (text_width's widths, not pygal's)."""
    if not labels:
        return 0, 0
    ours = max(text_width(t, size) for t in labels)
    theirs = max(len(t) for t in labels) * 0.6 * size
    extra = max(0.0, ours - theirs)
    rad = math.radians(degrees)
    last = text_width(labels[-1], size) * math.cos(rad)
    return int(math.ceil(max(extra * math.cos(rad), last - theirs * math.cos(rad), 0))) + 4, \
        int(math.ceil(extra * math.sin(rad))) + 4


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


def text_width(text: str, size: float) -> float:
    """An upper bound of `text`'s width in px at font size `size`, for laying out
    labels without a browser: per character the widest of its class in the
    usual system-ui fonts (DejaVu Sans, the widest of them, for Latin: W and m
    about 1 em, capitals 0.8, lower case and digits 0.64, i l . , 0.34; East
    Asian wide characters 1 em). Overestimates: labels never overlap or run
    off the chart, at the cost of a few spare pixels."""
    import unicodedata

    em = 0.0
    for c in text:
        if c in _NARROW:
            em += 0.34
        elif c in _WIDE or unicodedata.east_asian_width(c) in "WF":
            em += 1.0
        elif c.isascii() and (c.islower() or c.isdigit()):
            em += 0.64
        else:
            em += 0.8
    return em * size


_NARROW = set("iljI.,:;'|!` ")
_WIDE = set("MWmw@%…—−")


def fit_label(name: str, px: float, size: float) -> str:
    """`name` in at most `px` at font size `size`: the longest of shorten's forms
    (import path, then package dropped; then cut at the end) that fits."""
    if text_width(name, size) <= px:
        return name
    for chars in range(min(len(name), 200), 1, -1):
        short = shorten(name, chars)
        if text_width(short, size) <= px:
            return short
    return "…"


def distinct_labels(names: list[str], px: float, size: float) -> list[str]:
    """fit_label of each name, with a number added to a label that an earlier,
    different name already shortened to ("pkg.F", "pkg.F (2)"): two bars of
    one chart never carry the same label. The full names stay in the tooltips."""
    out, seen = [], {}
    for name in names:
        label = fit_label(name, px, size)
        if label in seen and seen[label] != name:
            n = 2
            while True:
                tag = f" ({n})"
                numbered = fit_label(name, px - text_width(tag, size), size) + tag
                if numbered not in seen:
                    label = numbered
                    break
                n += 1
        seen.setdefault(label, name)
        out.append(label)
    return out


def horizontal_bars(chart_id: str, title: str, names: list[str], values: list[int],
                    unit: str, out_unit: str, diverging: bool = False,
                    width: int = 640) -> Markup:
    """A bar per name, in the order given (largest first), each value labelled
    beside its bar in its own unit (units.human: 80.6 ms, 1.01 GB); `out_unit`
    is accepted for callers that pass pprof's table unit and is not used.

    Laid out here rather than by pygal, whose text widths are estimates that
    long or wide names exceed: the name column is as wide as its widest name
    (text_width) up to LABEL_SHARE of the chart, names shortened to fit and
    kept distinct (distinct_labels); the bars' scale leaves room on each side for the widest value
    label there. So no two texts overlap and none leaves the viewBox. Each bar
    has a tooltip with the full name and value. Negative values (a diverging
    chart: SHRANK blue, GREW red) grow left of a zero line."""
    margin, gap = 8, 6
    shown = [show_controls(t) for t in distinct_labels(names, width * LABEL_SHARE, BAR_FONT)]
    texts = [units.human(int(v), unit) for v in values]
    label_w = max([text_width(t, BAR_FONT) for t in shown] + [0])
    room_pos = max([text_width(t, BAR_FONT) for t, v in zip(texts, values) if v >= 0] + [0])
    room_neg = max([text_width(t, BAR_FONT) for t, v in zip(texts, values) if v < 0] + [0])
    left = margin + label_w + gap + (room_neg + gap if room_neg else 0)
    right = width - margin - (room_pos + gap if room_pos else 0)
    high = max([v for v in values if v > 0] + [0])
    low = min([v for v in values if v < 0] + [0])
    span = (high - low) or 1
    zero = left + (right - left) * (-low) / span
    top = margin + TITLE_FONT + 16
    height = int(top + ROW * max(len(names), 1) + margin)
    style = _style()
    fg = style.foreground
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" id="chart-{escape(chart_id)}" class="bars" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
           f'font-family="{escape(style.font_family)}">',
           f'<text x="{width / 2:.1f}" y="{margin + TITLE_FONT:.1f}" text-anchor="middle" '
           f'font-size="{TITLE_FONT}" fill="{fg}" class="title">{escape(title)}</text>']
    if low < 0:
        out.append(f'<path d="M{zero:.1f} {top - 4:.1f}V{height - margin:.1f}" stroke="{fg}" '
                   f'stroke-opacity="0.5"/>')
    for i, (name, label, text, v) in enumerate(zip(names, shown, texts, values)):
        y = top + ROW * i
        mid = y + ROW / 2
        x0, x1 = sorted((zero, zero + (right - left) * v / span))
        color = (SHRANK if v < 0 else GREW) if diverging else style.colors[0]
        full = escape(f"{show_controls(name)}: {text}")
        out.append(f'<g class="bar"><title>{full}</title>'
                   f'<text x="{margin + label_w:.1f}" y="{mid:.1f}" text-anchor="end" '
                   f'dominant-baseline="central" font-size="{BAR_FONT}" fill="{fg}" '
                   f'class="label">{escape(label)}</text>'
                   f'<rect x="{x0:.1f}" y="{y + 4:.1f}" width="{max(x1 - x0, 1):.1f}" '
                   f'height="{ROW - 8}" fill="{color}" fill-opacity="0.45" stroke="{color}"/>')
        if v < 0:
            out.append(f'<text text-anchor="end" x="{x0 - 4:.1f}" y="{mid:.1f}" '
                       f'class="value" dominant-baseline="central" font-size="{BAR_FONT}" '
                       f'fill="currentColor">{escape(text)}</text></g>')
        else:
            out.append(f'<text text-anchor="start" x="{x1 + 4:.1f}" y="{mid:.1f}" '
                       f'class="value" dominant-baseline="central" font-size="{BAR_FONT}" '
                       f'fill="currentColor">{escape(text)}</text></g>')
    out.append("</svg>")
    return Markup("".join(out))


def xy_lines(chart_id: str, title: str, series: list[tuple[str, list[tuple[float, float]]]],
             x_title: str, y_title: str, fmt=lambda v: f"{v:g}", dots: bool = False,
             stroke: bool = True) -> Markup:
    """Lines over a numeric x axis (time), one per (name, [(x, y)]); empty series are left out."""
    XY = chart_class("XY")
    chart = XY(js=[], disable_xml_declaration=True, style=_style(), width=640, height=300,
               legend_at_bottom=True, truncate_legend=-1, show_dots=dots, dots_size=2,
               stroke=stroke, margin=8, x_title=x_title, y_title=y_title,
               value_formatter=fmt, x_value_formatter=lambda v: f"{v:g}",
               include_x_axis=True, show_x_guides=False)
    chart.title = title
    for name, points in series:
        if points:
            chart.add(name, points)
    return clean_svg(chart.render(is_unicode=True), chart.uuid, chart_id)
