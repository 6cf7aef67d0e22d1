"""Views of a benchmark comparison: benchstat-like text, and a report page.

Views format the numbers reportgen.analyze.benchstat produced; they never
compute new ones.
"""

from __future__ import annotations

import math

import pygal

from reportgen.analyze.benchstat import BenchComparison, Row, runs_for_ci, runs_for_test
from reportgen.render.charts import _STYLE, clean_svg, shorten
from reportgen.render.site import anchor

MAX_CHARTS = 48           # one per benchmark and unit; a big suite would bury the page
_SI = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1, ""), (1e-3, "m"), (1e-6, "µ"),
       (1e-9, "n"), (1e-12, "p")]
_BINARY = [(1 << 40, "Ti"), (1 << 30, "Gi"), (1 << 20, "Mi"), (1 << 10, "Ki"), (1, "")]
# For units Go's testing package prints: (word when it went down, word when up, lower is better)
_TIME = ("faster", "slower", True)
_WORDS = {"B/op": ("fewer bytes", "more bytes", True),
          "allocs/op": ("fewer allocations", "more allocations", True)}
_RATE = ("less throughput", "more throughput", False)


def _four(x: float) -> str:
    """Four significant digits, like benchstat."""
    if x == 0:
        return "0"
    return f"{x:.{max(0, 3 - math.floor(math.log10(abs(x))))}f}"


def fmt_value(v: float, unit: str) -> str:
    """62.66µs for ns/op, 15.13KiB for B/op, 15.50k for other units."""
    if unit.startswith("ns/"):
        v, suffix, table = v * 1e-9, "s", _SI
    elif unit.startswith("B/"):
        suffix, table = "B", _BINARY
    else:
        suffix, table = "", [s for s in _SI if s[0] >= 1]
    for factor, prefix in table:
        if abs(v) >= factor:
            return _four(v / factor) + prefix + suffix
    factor, prefix = table[-1]
    return _four(v / factor) + (prefix + suffix if v else suffix)


def _words(unit: str):
    if unit.startswith("ns/"):
        return _TIME
    if unit.endswith("/s"):
        return _RATE
    return _WORDS.get(unit, ("lower", "higher", None))  # a custom unit: no judgement


def better(row: Row) -> bool | None:
    """True when a significant change is an improvement; None when we cannot say."""
    lower_better = _words(row.unit)[2]
    if not row.significant or lower_better is None or not row.delta_pct:
        return None
    return (row.delta_pct < 0) == lower_better


def change_class(row: Row) -> str:
    # The theme colours .neg green and .pos red: here they mean better and worse.
    good = better(row)
    return "" if good is None else " neg" if good else " pos"


def n_text(row: Row, short: bool = False) -> str:
    """n=6+6; with short (benchstat's column) n=6 when both sides ran as often."""
    a, b = row.base.n, row.target.n
    return f"n={a}" if a == b and short else f"n={a}+{b}"


def change_text(row: Row) -> str:
    """The change of the median; ~ when not significant, ? when it cannot be."""
    if row.base is None or row.target is None:
        return "only " + ("after" if row.base is None else "before")
    if not row.detectable:
        return "?"
    if not row.significant:
        return "~"
    return "n/a" if row.delta_pct is None else f"{row.delta_pct:+.2f}%"


def delta_text(row: Row) -> str:
    """benchstat's last column: -60.23% (p=0.002 n=6)."""
    if row.test is None:
        return change_text(row)
    mark = "²" if not row.detectable else ""
    return f"{change_text(row)} (p={row.test.p:.3f} {n_text(row, short=True)}){mark}"


def cell(s, unit: str) -> str:
    """A median with benchstat's "± x%" (the farther end of its interval)."""
    if s is None:
        return "—"
    spread = s.spread_pct
    pm = "∞ ¹" if s.lo is None else "∞" if spread is None else f"{spread:.0f}%"
    return f"{fmt_value(s.median, unit)} ± {pm}"


def verdict(row: Row, alpha: float) -> str:
    """One plain sentence for one benchmark in one unit."""
    if row.base is None or row.target is None:
        return f"{row.unit}: only {'after' if row.base is None else 'before'} the change"
    n, p = n_text(row), "p<0.001" if row.test.p < 0.001 else f"p={row.test.p:.3f}"
    if row.delta_pct is None:
        return f"{row.unit}: 0 before, {fmt_value(row.target.median, row.unit)} after ({p}, {n})"
    change = f"{row.delta_pct:+.1f}%"
    if not row.detectable:
        return (f"{row.unit}: {change}, but too few runs to tell ({n}; it takes at least "
                f"{runs_for_test(alpha)} runs each to reach p < {alpha:g})")
    if not row.significant:
        return f"{row.unit}: no significant change ({change}, {p}, {n})"
    down, up, _ = _words(row.unit)
    moved = (f"{fmt_value(row.base.median, row.unit)} → "
             f"{fmt_value(row.target.median, row.unit)}")
    return (f"{row.unit}: {abs(row.delta_pct):.1f}% {down if row.delta_pct < 0 else up} "
            f"({moved}, {p}, {n})")


def verdicts(cmp: BenchComparison) -> list[str]:
    """The answer first: one line per unit (per benchmark when there is only one)."""
    out = []
    for unit in cmp.units:
        rows = cmp.rows.get(unit, [])
        if len(rows) == 1:
            out.append(verdict(rows[0], cmp.alpha))
            continue
        sig = [r for r in rows if r.significant]
        good = sum(better(r) is True for r in sig)
        bad = sum(better(r) is False for r in sig)
        parts = [f"{len(sig)} of {len(rows)} benchmarks changed significantly"]
        if good or bad:
            parts[0] += f" ({good} better, {bad} worse)"
        # Name the extremes: the reader's next question is "which one?".
        for label, want in (("worst", False), ("best", True)):
            moved = [r for r in sig if better(r) is want]
            if moved:
                r = max(moved, key=lambda r: abs(r.delta_pct))
                parts.append(f"{label}: {r.name} {r.delta_pct:+.1f}%")
        few = sum(not r.detectable for r in rows if r.base and r.target)
        if few:
            parts.append(f"{few} had too few runs to tell")
        g = cmp.geomeans.get(unit)
        lead = f"{unit}: geomean {g.delta_pct:+.1f}% over {g.count}; " if g else f"{unit}: "
        out.append(lead + "; ".join(parts))
    return out


def footnotes(cmp: BenchComparison) -> list[str]:
    rows = [r for rs in cmp.rows.values() for r in rs]
    notes = []
    if any(s is not None and s.lo is None for r in rows for s in (r.base, r.target)):
        notes.append(f"¹ need >= {runs_for_ci(cmp.confidence)} runs for a "
                     f"{cmp.confidence:.0%} confidence interval of the median")
    if any(r.test and not r.detectable for r in rows):
        notes.append(f"² need >= {runs_for_test(cmp.alpha)} runs each to detect a "
                     f"difference at alpha {cmp.alpha:g}")
    for side, path in (("base", cmp.base), ("target", cmp.target)):
        if bad := cmp.malformed.get(side):
            shown = ", ".join(map(str, bad[:10])) + (" ..." if len(bad) > 10 else "")
            notes.append(f"{_file(path)}: skipped {len(bad)} result line(s) with a missing or "
                         f"unreadable value (line {shown})")
    return notes


def config_lines(cmp: BenchComparison) -> list[tuple[str, str]]:
    """goos, pkg, cpu ...: one value, or before → after when the files disagree."""
    keys = list(dict.fromkeys(list(cmp.base_config) + list(cmp.target_config)))
    out = []
    for k in keys:
        a, b = ", ".join(cmp.base_config.get(k, [])), ", ".join(cmp.target_config.get(k, []))
        out.append((k, a if a == b else f"{a or '(none)'} → {b or '(none)'}"))
    return out


def row_label(row: Row, many_pkgs: bool) -> str:
    return f"{row.pkg}.{row.name}" if many_pkgs and row.pkg else row.name


def _many_pkgs(cmp: BenchComparison) -> bool:
    return len({r.pkg for rs in cmp.rows.values() for r in rs}) > 1


def format_text(cmp: BenchComparison) -> str:
    """A benchstat-like report: config, then a table per unit, then footnotes."""
    lines = [f"before: {cmp.base}", f"after: {cmp.target}"]
    lines += [f"{k}: {v}" for k, v in config_lines(cmp)]
    many = _many_pkgs(cmp)
    for unit in cmp.units:
        rows = cmp.rows.get(unit, [])
        table = [(unit, "before", "after", "vs before")]
        table += [(row_label(r, many), cell(r.base, unit), cell(r.target, unit), delta_text(r))
                  for r in rows]
        g = cmp.geomeans.get(unit)
        if g and len(rows) > 1:
            table.append(("geomean", fmt_value(g.base, unit), fmt_value(g.target, unit),
                          f"{g.delta_pct:+.2f}%"))
        widths = [max(len(t[i]) for t in table) for i in range(4)]
        lines.append("")
        for t in table:
            lines.append("  ".join([t[0].ljust(widths[0])] +
                                   [c.rjust(w) for c, w in zip(t[1:3], widths[1:3])] +
                                   [t[3]]).rstrip())
    notes = footnotes(cmp)
    lines += [""] + notes if notes else []
    lines += ["", *verdicts(cmp)]
    return "\n".join(lines).lstrip("\n") + "\n"


def runs_chart(chart_id: str, row: Row):
    """Every run as a dot, in run order: spread, outliers and drift (warm-up) at a glance."""
    top = max(max(row.base.values), max(row.target.values), 0)
    low = min(min(row.base.values), min(row.target.values), 0)
    chart = pygal.XY(js=[], disable_xml_declaration=True, style=_STYLE, width=460, height=300,
                     stroke=False, dots_size=4, margin=8, legend_at_bottom=True,
                     truncate_legend=-1, range=(low, top * 1.05 or 1), xrange=(0.5, max(
                         row.base.n, row.target.n) + 0.5), x_title="run",
                     value_formatter=lambda v: fmt_value(v, row.unit),
                     x_value_formatter=lambda x: f"{x:g}")
    chart.title = shorten(f"{row.name} — {row.unit}", 60)
    for label, s in (("before", row.base), ("after", row.target)):
        chart.add(f"{label} (n={s.n})", [(i, v) for i, v in enumerate(s.values, 1)])
    return clean_svg(chart.render(is_unicode=True), chart.uuid, chart_id)


def bench_page(writer, slug: str, title: str, cmp: BenchComparison, profiles=None,
               manifest=None, analysis=None) -> str:
    """The comparison page; returns the one-line summary for the index.

    Fits build.PAGE_BUILDERS as is; profiles, manifest and analysis are unused.
    """
    data = writer.add_data(f"{slug}.json", {**cmp.as_dict(), "base": writer.shown(cmp.base),
                                            "target": writer.shown(cmp.target)})
    many = _many_pkgs(cmp)
    tables = []
    for unit in cmp.units:
        rows = cmp.rows.get(unit, [])
        g = cmp.geomeans.get(unit)
        tables.append({
            "unit": unit, "id": f"{slug}-{anchor(unit)}", "geomean": g if len(rows) > 1 else None,
            "rows": [{"row": r, "label": row_label(r, many), "base": cell(r.base, unit),
                      "target": cell(r.target, unit), "change": change_text(r),
                      "cls": change_class(r), "verdict": verdict(r, cmp.alpha)} for r in rows]})
    pairs = [r for rs in cmp.rows.values() for r in rs if r.base and r.target]
    charts = [runs_chart(f"{slug}-runs-{i}", r) for i, r in enumerate(pairs[:MAX_CHARTS])]
    info = [("Before", _file(cmp.base)), ("After", _file(cmp.target)), *config_lines(cmp)]
    answer = verdicts(cmp)
    writer.add_page(f"pages/{slug}.html", "bench.html.j2", title, info=info, answer=answer,
                    tables=tables, charts=charts, charts_left=len(pairs) - len(charts),
                    notes=footnotes(cmp), cmp=cmp, data=data,
                    fmt=fmt_value, runs_ci=runs_for_ci(cmp.confidence))
    return "; ".join(answer) if answer else "no benchmarks"


def _file(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]
