"""Views of a history: the answer sentences, the CI log text, and the history
site's index (trend charts, regressions and improvements, share history,
runs with links to their reports and diffs).

Views format the numbers reportgen.analyze.history produced; they never
compute new ones.
"""

from __future__ import annotations

import functools
import json
import math
import sys

from reportgen.analyze.history import is_time_unit, lower_is_better
from reportgen.render.bench_pages import fmt_value
from reportgen.render.charts import chart_class, clean_svg, shorten
from reportgen.render.names import one_line

# Band, median, regression, improvement: the diff flame graph's red, a green
# for better (the theme's), a light fill for the confidence band.
_TREND_STYLE = dict(
    background="transparent", plot_background="transparent",
    foreground="#7d8790", foreground_strong="#7d8790", foreground_subtle="#7d879055",
    colors=("#9ec3ee", "#3b7dd8", "#b2182b", "#1a7f37"), opacity=".55", opacity_hover=".7",
    font_family="system-ui, sans-serif", title_font_size=14, label_font_size=10,
    major_label_font_size=10, value_font_size=10, tooltip_font_size=11,
    legend_font_size=11)
# No legend (the page explains the marks once): pygal colours series by
# position, so every chart adds the same four, empty or not.
_TREND_CHART = dict(width=480, height=270, margin=8, show_legend=False, dots_size=2.5,
                    include_x_axis=False)
DOTS_UP_TO = 24     # runs on a trend chart that still get a dot each
MAX_SHOWN = 8        # answer sentences and culprits shown per line


# ---- words -------------------------------------------------------------------

def value_text(v: float | None, unit: str) -> str:
    """A value in its unit's words: 1.42µs for ns/op, 8.1% for shares, 3 goroutines."""
    if v is None:
        return "—"
    if unit.startswith("% of"):
        return f"{v:.1f}%"
    if unit == "goroutines":
        return f"{v:g}"
    if unit == "nanoseconds" or unit.endswith("-ns/op"):
        return fmt_value(v, "ns/op")
    if unit == "bytes":
        return fmt_value(v, "B/op")
    if unit in ("% CPU", "cycles/s", "MB", "ms", "MB/s"):   # GC figures
        return f"{v:.3g} {unit}"
    return fmt_value(v, unit)


def change_text(c, digits: int = 1) -> str:
    """+140.0% / +24.0 points; "from 0" for a change from nothing (0 -> 1 allocs/op)."""
    if math.isinf(c.change):
        return "from 0"
    return (f"{c.change:+.{digits}f} points" if c.change_unit == "points" else
            f"{c.change:+.{digits}f}%")


def p_text(p: float | None) -> str:
    if p is None:
        return ""
    return "p<0.001" if p < 0.001 else f"p={p:.3f}"


def evidence_text(c) -> str:
    """(p=0.002 n=30+10) for benchmarks; the window for shares and goroutines."""
    parts = []
    if c.p_value is not None:
        parts.append(p_text(c.p_value))
    if c.kind == "bench":
        parts.append(f"n={c.n[0]}+{c.n[1]}")
    else:
        parts.append(f"window of {len(c.window)} run{'s' if len(c.window) != 1 else ''}")
    return " ".join(parts)


def _profile_word(key: str) -> str:
    return "CPU" if key == "cpu" else key


def culprit_text(c) -> str:
    return ", ".join(f"{m.function} ({m.growth:+.0f} points of {_profile_word(m.profile)})"
                     for m in c.culprits)


def run_label(run) -> str:
    """The run's id, with its date and commit when run.yml gave them."""
    extra = [v for v in (run.meta.get("date"), run.meta.get("commit")) if v and v != run.id]
    return f"{run.id} ({', '.join(extra)})" if extra else run.id


def regression_sentence(changes: list, run) -> str:
    """Run 2026-11-05 (e90c3a1): BenchmarkQuote-2 ns/op +140% (p=0.002), CPU moved
    into main.canonicalSKU (+24 points)."""
    # Time first: it is what the benchmark is about; then by size of the change.
    bench = sorted((c for c in changes if c.kind == "bench"),
                   key=lambda c: (not is_time_unit(c.unit), -abs(c.change)))
    shares = [c for c in changes if c.kind == "share"]
    other = [c for c in changes if c.kind not in ("bench", "share")]
    parts = [f"{c.metric} {change_text(c, 0)} ({p_text(c.p_value)})" for c in bench[:3]]
    if len(bench) > 3:
        more = len(bench) - 3
        parts.append(f"{more} more benchmark unit{'s' if more > 1 else ''}")
    if shares:
        s = max(shares, key=lambda c: (c.profile == "cpu", c.change))
        parts.append(f"{_profile_word(s.profile)} moved into {s.function} "
                     f"({s.change:+.0f} points)")
    elif bench and bench[0].culprits:
        m = bench[0].culprits[0]
        parts.append(f"{_profile_word(m.profile)} moved into {m.function} "
                     f"({m.growth:+.0f} points)")
    parts += [f"{c.metric} {c.before:g} → {c.after:g}" for c in other[:2]]
    return f"Run {run_label(run)}: " + ", ".join(parts) + "."


def answer(history) -> list[str]:
    """The sentences an on-call reader needs first, newest regression first."""
    result, runs = history.result, {r.id: r for r in history.runs}
    if not result.runs:
        return ["No runs."]
    newest = runs[result.newest]
    flagged = list(dict.fromkeys(c.run for c in result.regressions))
    if not flagged:
        if len(result.runs) == 1:   # not "within the noise": there is nothing before it
            return [f"One run so far, {run_label(newest)}: nothing to compare it with yet."]
        return [f"No regressions in {len(result.runs)} runs; the newest, {run_label(newest)}, "
                f"is within the noise of the runs before it."]
    out = []
    if result.newest in flagged:
        out.append("The newest run regressed. " + regression_sentence(
            result.of_run(result.newest), newest))
    else:
        out.append(f"The newest run, {run_label(newest)}, has no regression "
                   f"({len(flagged)} earlier run{'s' if len(flagged) != 1 else ''} had).")
    for run_id in reversed(flagged):
        if run_id == result.newest or len(out) > MAX_SHOWN:
            continue
        out.append(regression_sentence(result.of_run(run_id), runs[run_id])
                   + _recovery(result, run_id, runs))
    return out


def _recovery(result, run_id: str, runs: dict) -> str:
    """" Back at the earlier level by run X." once every benchmark unit that regressed in
    run_id is back at its level before (its median within min_change of the
    regression's before, or better) in some later run, X the last of them;
    while only some are, which and which not. By the medians, not by the
    flagged improvements: a spike's fix is no fix of the step before it, and
    a unit that came back over several nights never had one improvement."""
    changes = {c.series: c for c in result.of_run(run_id) if c.kind == "bench"}
    if not changes:
        return ""
    order = {r: i for i, r in enumerate(result.runs)}
    fixed: dict[str, str] = {}   # series -> the first later run back at the level
    for s in result.series:
        if s.key in changes:
            back = [p.run for p in s.points if order[p.run] > order[run_id]
                    and _back(changes[s.key], p.value, result.options.min_change)]
            if back:
                fixed[s.key] = back[0]
    if not fixed:
        return ""
    last = max(fixed.values(), key=order.__getitem__)
    if len(fixed) == len(changes):
        return f" Back at the earlier level by run {run_label(runs[last])}."
    came = [c.metric for k, c in changes.items() if k in fixed]
    still = [c.metric for k, c in changes.items() if k not in fixed]
    return (f" {_listed(came)} back at the earlier level by run {run_label(runs[last])}; "
            f"{_listed(still)} not yet.")


def _back(regression, value: float, tolerance: float) -> bool:
    """Whether `value` is back at the regression's before level (within
    `tolerance` percent, or better)."""
    lower = lower_is_better(regression.unit)
    if lower is None:
        return True
    limit = regression.before * (1 + (tolerance if lower else -tolerance) / 100)
    return value <= limit if lower else value >= limit


def _listed(metrics: list) -> str:
    shown = metrics[:MAX_SHOWN]
    return ", ".join(shown) + (f" and {len(metrics) - len(shown)} more" if len(metrics) > len(shown)
                               else "")


# ---- text for a CI log -------------------------------------------------------

def change_line(label: str, c) -> str:
    line = (f"{label} {c.run} {c.metric}: {value_text(c.before, c.unit)} → "
            f"{value_text(c.after, c.unit)} ({change_text(c)}, {evidence_text(c)})")
    if c.culprits:
        line += " culprits: " + ", ".join(c.culprit_names)
    return line


def note_lines(runs: list) -> list[str]:
    """A note once, with the runs it applies to (a skipped gctrace.log in every run
    is one line, not sixty)."""
    by_note: dict[str, list] = {}
    for r in runs:
        for n in r.notes:
            by_note.setdefault(n, []).append(r.id)
    out = []
    for n, ids in by_note.items():
        where = ids[0] if len(ids) == 1 else (f"{len(ids)} runs" if len(ids) == len(runs) and
                                               len(ids) > 2 else ", ".join(ids))
        out.append(f"note ({'every run' if where == f'{len(runs)} runs' else where}): {n}")
    return out


def format_text(history, gated: list | None = None) -> str:
    """One line per regression and improvement, then the answer."""
    result = history.result
    lines = [change_line("REGRESSION", c) for c in result.regressions]
    lines += [change_line("improvement", c) for c in result.improvements]
    lines += [change_line("change", c) for c in result.changes]
    lines += note_lines(history.runs)
    if lines:
        lines.append("")
    lines += answer(history)
    # One line per finding whatever the names hold (a run named "x\ngate: passed").
    lines = [one_line(line) for line in lines]
    if gated is not None:
        lines.append(f"gate: {len(gated)} regression{'s' if len(gated) != 1 else ''} "
                     f"fail{'s' if len(gated) == 1 else ''} the check" if gated else
                     "gate: passed")
    return "\n".join(lines) + "\n"


# ---- charts ------------------------------------------------------------------

def _axis(ids: list) -> dict:
    every = max(1, math.ceil(len(ids) / 10))
    return dict(x_labels=list(range(len(ids))), x_labels_major_every=every,
                show_minor_x_labels=False, x_label_rotation=30, truncate_label=-1,
                x_value_formatter=lambda x: ids[int(x)] if float(x).is_integer()
                and 0 <= x < len(ids) else "",
                xrange=(-0.3, max(len(ids) - 0.7, 0.7)))


@functools.lru_cache(maxsize=1)
def _trend_style():
    from pygal.style import Style   # pygal only when a chart is drawn, not found cached
    return Style(**_TREND_STYLE)


def trend_key(chart_id: str, series, ids: list, regressed: set, improved: set) -> str:
    """The cache key of a trend chart: exactly what trend_chart draws (the series,
    the runs on the axis, the marks, the chart's options), with reportgen's
    version (reportgen.history_cache.digest)."""
    from reportgen.history_cache import digest
    return digest("trend", chart_id, json.dumps(
        [series.as_dict(), ids, sorted(regressed), sorted(improved), _TREND_CHART,
         _TREND_STYLE], sort_keys=True, ensure_ascii=False))


def trend_chart(chart_id: str, series, ids: list, regressed: set, improved: set):
    """Median per run with the band of its confidence interval; regressions
    and improvements marked on their runs."""
    index = {run: i for i, run in enumerate(ids)}
    XY = chart_class("XY")
    chart = XY(js=[], disable_xml_declaration=True, style=_trend_style(), **_TREND_CHART,
               value_formatter=lambda v: value_text(v, series.unit), **_axis(ids))
    chart.title = shorten(series.metric, 60)
    band = [p for p in series.points if p.lo is not None]
    chart.add("95% CI", [(index[p.run], p.hi) for p in band] +
              [(index[p.run], p.lo) for p in reversed(band)] if band else [],
              fill=True, show_dots=False, stroke_style={"width": 0})
    line = [{"value": (index[p.run], p.value), "label": p.run} for p in series.points]
    # A dot per run while they stand apart; beyond that the line alone (a
    # year of nights would be thousands of dots, each pygal's slowest part).
    chart.add("median" if series.kind == "bench" else "value", line,
              show_dots=len(ids) <= DOTS_UP_TO)
    for label, runs in (("regression", regressed), ("improvement", improved)):
        marks = [{"value": (index[p.run], p.value), "label": p.run} for p in series.points
                 if p.run in runs]
        chart.add(label, marks, stroke=False, dots_size=6)
    return clean_svg(chart.render(is_unicode=True), chart.uuid, chart_id)


def sparkline(values: list, flagged: list, width: int = 200, height: int = 36):
    """A share history as a small inline SVG line (runs without the profile
    leave a gap), with dots on the flagged runs. Drawn by hand: one per top
    function, and pygal's setup would cost more than everything else here."""
    from markupsafe import Markup
    top = max([v for v in values if v is not None] + [1.0])
    step = (width - 4) / max(len(values) - 1, 1)

    def xy(i, v):
        return f"{2 + i * step:.1f},{height - 2 - v / top * (height - 4):.1f}"
    runs, current = [], []
    for i, v in enumerate(values):
        if v is None:
            runs, current = runs + [current] if current else runs, []
        else:
            current.append(xy(i, v))
    runs += [current] if current else []
    lines = "".join(f'<polyline points="{" ".join(r)}"/>' for r in runs)
    dots = "".join(f'<circle cx="{xy(i, values[i]).split(",")[0]}" '
                   f'cy="{xy(i, values[i]).split(",")[1]}" r="2.5"/>'
                   for i in flagged if values[i] is not None)
    return Markup(f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" '
                  f'height="{height}" role="img"><g class="line">{lines}</g>'
                  f'<g class="flag">{dots}</g></svg>')


# ---- the site ----------------------------------------------------------------

def _links(history, c) -> list:
    from reportgen.history_site import diff_href, flagged_diffs
    out = []
    for run, _base, key in flagged_diffs(history):
        if run == c.run and key in (c.profile, *(m.profile for m in c.culprits[:1])):
            out.append({"href": diff_href(run, key), "title": f"{_profile_word(key)} diff"})
    return out


def _change_rows(history, changes) -> list:
    return [{"c": c, "before": value_text(c.before, c.unit), "after": value_text(c.after, c.unit),
             "change": change_text(c), "change_value": c.change if math.isfinite(c.change)
             else sys.float_info.max,   # sorts above every finite change
             "evidence": evidence_text(c), "links": _links(history, c),
             "culprits": culprit_text(c)} for c in changes]


def _trend_svg(cache, chart_id: str, series, ids: list, regressed: set, improved: set):
    """A trend chart's SVG: from the earlier site's cache when it draws the same,
    else drawn (and cached)."""
    from markupsafe import Markup
    if cache is None:
        return trend_chart(chart_id, series, ids, regressed, improved)
    key = trend_key(chart_id, series, ids, regressed, improved)
    return Markup(cache.cached(key, key, lambda: str(
        trend_chart(chart_id, series, ids, regressed, improved))))


def history_pages(writer, history, notes: str | None = None, charts=None):
    """index.html (the history) and data/history.json. `charts`: a
    reportgen.history_cache.EntryCache of trend charts (None: draw them all)."""
    from markupsafe import Markup

    from reportgen.history_site import diff_href, flagged_diffs
    from reportgen.render.site import anchor, render_notes
    result = history.result
    ids = result.runs
    data = writer.add_data("history.json", history.as_dict())
    regressed: dict[str, set] = {}
    improved: dict[str, set] = {}
    for c in result.regressions:
        regressed.setdefault(c.series, set()).add(c.run)
    for c in result.improvements:
        improved.setdefault(c.series, set()).add(c.run)
    charts = [{"id": f"trend-{anchor(s.key)}", "series": s, "note": s.note,
               "svg": _trend_svg(charts, f"trend-{i}", s, ids, regressed.get(s.key, set()),
                                 improved.get(s.key, set()))}
              for i, s in enumerate(result.series)]
    flagged_by_fn = {}
    for c in result.regressions:
        for prof, fn in [(c.profile, c.function)] + [(m.profile, m.function) for m in c.culprits]:
            if fn:
                flagged_by_fn.setdefault((prof, fn), set()).add(ids.index(c.run))
    shares: dict[str, list] = {}
    for s in result.shares:
        known = [v for v in s.cum if v is not None]
        shares.setdefault(f"{_profile_word(s.profile)} ({s.sample_type})", []).append({
            "s": s, "spark": sparkline(s.cum, sorted(flagged_by_fn.get((s.profile, s.function),
                                                                      ()))),
            "first": known[0] if known else None, "last": known[-1] if known else None,
            "peak": max(known) if known else None,
            "flagged": (s.profile, s.function) in flagged_by_fn})
    diffs = {}
    for run, base, key in flagged_diffs(history):
        diffs.setdefault(run, []).append({"href": diff_href(run, key),
                                          "title": f"{_profile_word(key)} vs {base}"})
    runs = [{"r": r, "label": run_label(r), "anchor": f"run-{anchor(r.id)}",
             "regressions": len(result.of_run(r.id)),
             "improvements": sum(c.run == r.id for c in result.improvements),
             "evidence": ", ".join(f"{e['file']} ({e['kind']})" for e in r.evidence),
             "diffs": diffs.get(r.id, [])} for r in reversed(history.runs)]
    groups = [{"s": s, "counts": [value_text(p.value, "goroutines") for p in s.points]}
              for s in result.groups]
    o = result.options
    writer.add_page(
        "index.html", "history.html.j2", writer.title, answer=answer(history),
        notes=Markup(render_notes(notes)) if notes else "",
        regressions=_change_rows(history, result.regressions),
        improvements=_change_rows(history, result.improvements),
        changes=_change_rows(history, result.changes), charts=charts, shares=shares,
        runs=runs, groups=groups, options=o, data=data, run_count=len(ids))
