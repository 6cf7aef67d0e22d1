"""Views for goroutine dumps: the overview of one snapshot and the leak report.

Like render.pages, these only lay out numbers the analyzers produced.
"""

from __future__ import annotations

import functools
import os

from reportgen import units
from reportgen.analyze.leaks import WATCH
from reportgen.render.charts import (BAR_FONT, chart_class, clean_svg, count_ticks,
                                     fit_label, horizontal_bars, rotated_label_room, shorten)

LEGEND_PX = 680   # a legend line of the 760 px leak charts, past its colour box

# More colours than render.charts' palette: a line per group.
@functools.lru_cache(maxsize=1)
def _style():
    from pygal.style import Style  # pygal only when a chart is drawn

    # drawn 760 wide, shown at 560+: never under ~10 px
    return Style(
        background="transparent", plot_background="transparent",
        foreground="#7d8790", foreground_strong="#7d8790", foreground_subtle="#7d879055",
        colors=("#d9534f", "#3b7dd8", "#f0ad4e", "#5cb85c", "#8e6cc4", "#1fa2a8", "#c46c9a",
                "#7d8790"),
        font_family="system-ui, sans-serif", title_font_size=17, label_font_size=14,
        major_label_font_size=14, value_font_size=14, value_label_font_size=14,
        tooltip_font_size=14, legend_font_size=14)


def _titles(names: list, manifest) -> list:
    """Snapshot labels for tables and axes: the manifest's titles without the words
    they all share ("Leaky: Goroutines 10:15:00Z" ... -> "10:15:00Z" ...)."""
    profiles = getattr(manifest, "profiles", None) or {}
    titles = [profiles[n].title if n in profiles else n for n in names]
    if len(titles) < 2:
        return titles
    common = os.path.commonprefix(titles)
    cut = common.rfind(" ") + 1
    short = [t[cut:] for t in titles]
    return short if cut and all(short) else titles


def group_lines(chart_id: str, labels: list, series: list) -> object:
    """Goroutines per group across the snapshots: a line per (name, counts). The
    total is the height of each bar in state_bars."""
    xs = [shorten(t, 24) for t in labels]
    right, bottom = rotated_label_room(xs, 20)
    Line = chart_class("Line")
    chart = Line(js=[], disable_xml_declaration=True, style=_style(), width=760,
                 height=300 + 22 * len(series),
                 legend_at_bottom=True, legend_at_bottom_columns=1, truncate_legend=-1,
                 x_label_rotation=20, truncate_label=-1, dots_size=3, margin=8,
                 margin_right=8 + right, margin_bottom=8 + bottom,
                 show_minor_x_labels=True, value_formatter=lambda v: f"{int(v)}",
                 include_x_axis=True,
                 y_labels=count_ticks(max((max(c, default=0) for _n, c in series),
                                          default=0)))
    chart.title = "Goroutines per group, snapshot by snapshot"
    chart.x_labels = xs
    for name, counts in series:
        chart.add(fit_label(name, LEGEND_PX, BAR_FONT), list(counts))
    return clean_svg(chart.render(is_unicode=True), chart.uuid, chart_id)


def state_bars(chart_id: str, labels: list, states: list) -> object:
    """Goroutines by state in each snapshot, stacked."""
    names = sorted({s for st in states for s in st},
                   key=lambda s: (-sum(st.get(s, 0) for st in states), s))
    shown, rest = names[:7], names[7:]
    xs = [shorten(t, 24) for t in labels]
    right, bottom = rotated_label_room(xs, 20)
    StackedBar = chart_class("StackedBar")
    chart = StackedBar(js=[], disable_xml_declaration=True, style=_style(), width=760,
                       height=360, legend_at_bottom=True, x_label_rotation=20,
                       truncate_label=-1, truncate_legend=-1, margin=8,
                       margin_right=8 + right, margin_bottom=8 + bottom,
                       value_formatter=lambda v: f"{int(v)}",
                       y_labels=count_ticks(max((sum(st.values()) for st in states),
                                                default=0)))
    chart.title = "Goroutines by state"
    chart.x_labels = xs
    for s in shown:
        chart.add(s, [st.get(s, 0) for st in states])
    if rest:
        chart.add("other", [sum(st.get(s, 0) for s in rest) for st in states])
    return clean_svg(chart.render(is_unicode=True), chart.uuid, chart_id)


def leaks_answer(report) -> str:
    """The first sentence a reader needs."""
    parts = []
    t = report.totals
    if len(t) > 1:
        steps = len(t) - 1
        rising = sum(b > a for a, b in zip(t, t[1:]))
        parts.append(f"Goroutines {t[0]} → {t[-1]} over {len(t)} snapshots "
                     f"({(t[-1] - t[0]) / steps:+.1f} per snapshot, rising in {rising} of "
                     f"{units.plural(steps, 'step')}).")
    elif t:
        parts.append(f"{units.plural(t[0], 'goroutine')} in one snapshot.")
    if not report.suspects:
        parts.append(f"No leak suspect (nothing scored {report.threshold} or more).")
        return " ".join(parts)
    top = report.suspects[0]
    n = len(report.suspects)
    counts = " → ".join(str(c) for c in top.counts)
    text = (f"{units.plural(n, 'suspect')}. First (score {top.score}): "
            f"{top.known.title + ': ' if top.known else ''}{top.group.signature}, "
            f"{counts} goroutine{'' if top.counts[-1] == 1 else 's'}.")
    where = top.group.user_frame
    if where and top.group.user_tier == "own":
        text += f" Code: {where.func} ({where.file}:{where.line})."
    parts.append(text + f" Fix: {top.fix}.")
    return " ".join(parts)


def overview_answer(ov) -> str:
    """The largest group by its program frame and state (analyze.answer)."""
    from reportgen.analyze.answer import overview_answer as answer_of_overview  # numpy: lazily
    if not ov.groups or ov.kind == "goroutineleak":   # its sentence counts them itself
        return answer_of_overview(ov).text
    return (f"{units.plural(ov.total, 'goroutine')} in {units.plural(len(ov.groups), 'group')}. "
            + answer_of_overview(ov).text)


def goroutines_page(writer, slug: str, title: str, analysis, manifest=None) -> str:
    ov = analysis.overview
    entry = getattr(manifest, "profiles", {}).get(analysis.profile) if manifest else None
    data = writer.add_data(f"{slug}.json", {"kind": "goroutines", "profile": analysis.profile,
                                            **overview_dict(ov)})
    info = [("Dump", entry.title if entry else analysis.profile), ("Format", ov.format),
            ("Kind", ov.kind), ("Goroutines", str(ov.total)), ("Groups", str(len(ov.groups)))]
    if ov.message:
        info.append(("Message", ov.message))
    charts = []
    if ov.states:
        charts.append(horizontal_bars(f"{slug}-states", "Goroutines by state",
                                      [s for s, _ in ov.states[:12]],
                                      [n for _, n in ov.states[:12]], "count", "auto"))
    writer.add_page(f"pages/{slug}.html", "goroutines.html.j2", title, info=info,
                    answer=overview_answer(ov), ov=ov, charts=charts, data=data)
    return f"{units.plural(ov.total, 'goroutine')}, {units.plural(len(ov.groups), 'group')}"


def overview_dict(ov) -> dict:
    return {
        "path": ov.path.rsplit("/", 1)[-1], "format": ov.format, "dump_kind": ov.kind,
        "total": ov.total, "states": dict(ov.states), "warnings": ov.warnings,
        "message": ov.message,
        "groups": [{
            "count": g.count, "state": g.state, "tier": g.tier, "background": g.background,
            "signature": g.signature, "frames": [list(f) for f in g.frames],
            "created_by": list(g.created_by) if g.created_by else None,
            "user_code": list(g.user_frame) if g.user_frame else None,
            "max_wait_minutes": g.max_wait, "min_wait_minutes": g.min_wait,
            "leaked": g.leaked, "locked": g.locked, "ids": g.ids,
            "labels": sorted([k, v, n] for (k, v), n in g.labels.items())}
            for g in ov.groups],
    }


def leaks_page(writer, slug: str, title: str, analysis, manifest=None) -> str:
    report = analysis.report
    labels = _titles(report.names, manifest)
    data = writer.add_data(f"{slug}.json", report.as_dict())
    charts = []
    if len(report.names) > 1 and report.series:  # no suspect: no empty "No data" chart
        series = [(f"#{s.rank} {s.group.headline} [{s.group.state or '?'}]", c)
                  for s, c in report.series]
        charts.append(group_lines(f"{slug}-groups", labels, series))
    if any(report.states):
        charts.append(state_bars(f"{slug}-states", labels, report.states))
    heap_labels = _titles(report.heap_names, manifest)
    info = [("Snapshots", str(len(report.names))), ("Formats", ", ".join(dict.fromkeys(
        report.formats))), ("Goroutines", " → ".join(str(t) for t in report.totals)),
        ("Suspects", str(len(report.suspects))), ("Threshold", f"score ≥ {report.threshold}")]
    warnings = [f"{n}: {w}" for n, w in report.warnings] + list(analysis.notes)
    writer.add_page(f"pages/{slug}.html", "leaks.html.j2", title, info=info,
                    answer=leaks_answer(report), report=report, labels=labels,
                    heap_labels=heap_labels, charts=charts, warnings=warnings, watch_min=WATCH,
                    data=data)
    if not report.suspects:
        return "no leak suspect"
    top = report.suspects[0]
    return (f"{units.plural(len(report.suspects), 'suspect')}; first: {top.group.headline} "
            f"({' → '.join(str(c) for c in top.counts)})")
