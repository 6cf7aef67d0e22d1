"""Views of a benchmark comparison: benchstat-like text, and a report page.

Views format the numbers reportgen.analyze.benchstat produced; they never
compute new ones.
"""

from __future__ import annotations

import math

from reportgen.analyze.benchstat import (BenchComparison, Geomean, Row, go_fixed, runs_for_ci,
                                         runs_for_test)
from reportgen.render.site import anchor
from reportgen.sources.bench import unit_class

MAX_CHARTS = 48           # one per benchmark and unit; a big suite would bury the page
_SI = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1, ""), (1e-3, "m"), (1e-6, "µ"),
       (1e-9, "n"), (1e-12, "p")]
_BINARY = [(1 << 40, "Ti"), (1 << 30, "Gi"), (1 << 20, "Mi"), (1 << 10, "Ki"), (1, "")]
# For units Go's testing package prints: (word when it went down, word when up, lower is better)
_TIME = ("faster", "slower", True)
_WORDS = {"B/op": ("fewer bytes", "more bytes", True),
          "allocs/op": ("fewer allocations", "more allocations", True)}
_RATE = ("less throughput", "more throughput", False)
_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


# ---- benchstat's number format (benchunit.CommonScale / Scaler.Format) ---------------

def _factors(kind: str):
    """(factor, prefix, >=99.995, >=9.9995, >=.99995 thresholds), largest first."""
    if kind == "binary":
        return [(float(1 << e), p, float.fromhex(f"0x1.8ffae147ae148p{6 + e}"),
                 float.fromhex(f"0x1.3ffbe76c8b439p{3 + e}"),
                 float.fromhex(f"0x1.fff972474538fp{e - 1}"))
                for e, p in zip((40, 30, 20, 10, 0), ("Ti", "Gi", "Mi", "Ki", ""))]
    return [(10.0 ** e, p, float(f"99.995e{e}"), float(f"9.9995e{e}"), float(f".99995e{e}"))
            for e, p in zip(range(12, -10, -3), ("T", "G", "M", "k", "", "m", "µ", "n"))]


_SCALES = {"decimal": _factors("decimal"), "binary": _factors("binary")}
_SIGFIGS = [float(f"9.9995e{e}") for e in range(-1, -9, -1)]


def common_scale(values, kind: str) -> tuple[int, float, str]:
    """(digits after the point, factor, prefix) shared by `values` (benchunit.CommonScale)."""
    low = 0.0
    for v in values:
        v = abs(v)
        if v != 0 and (low == 0 or v < low):
            low = v
    if low == 0:
        return 3, 1.0, ""
    factors = _SCALES[kind]
    for factor, prefix, t100, t10, t1 in factors:
        if low >= t100:
            return 1, factor, prefix
        if low >= t10:
            return 2, factor, prefix
        if low >= t1:
            return 3, factor, prefix
    factor, prefix = factors[-1][:2]
    val = low / factor
    for i, thresh in enumerate(_SIGFIGS):
        if val >= thresh or i == len(_SIGFIGS) - 1:
            return i + 3, factor, prefix
    raise AssertionError("not reached")


def scaled(value: float, scale: tuple[int, float, str]) -> str:
    prec, factor, prefix = scale
    return go_fixed(value / factor, prec) + prefix


def scale_one(value: float, unit: str) -> str:
    """One number alone, as benchstat prints a geomean (benchunit.Scale)."""
    return scaled(value, common_scale([value], unit_class(unit)))


# ---- human units for the sentences --------------------------------------------------

def _four(x: float) -> str:
    """Four significant digits, like benchstat."""
    if x == 0 or not math.isfinite(x):
        return go_fixed(x, 0)
    return f"{x:.{max(0, 3 - math.floor(math.log10(abs(x))))}f}"


def fmt_value(v: float, unit: str) -> str:
    """62.66µs for sec/op, 15.13KiB for B/op, 15.50k for other units."""
    if unit.startswith("sec/"):
        suffix, table = "s", _SI
    elif unit.startswith("ns/"):
        v, suffix, table = v * 1e-9, "s", _SI
    elif unit.startswith("B/"):
        suffix, table = ("B/s" if unit == "B/s" else "B"), _BINARY   # a rate keeps its /s
    else:
        suffix, table = "", [s for s in _SI if s[0] >= 1]
    for factor, prefix in table:
        if abs(v) >= factor:
            return _four(v / factor) + prefix + suffix
    factor, prefix = table[-1]
    return _four(v / factor) + (prefix + suffix if v else suffix)


def _words(unit: str):
    if unit.startswith(("sec/", "ns/")):
        return _TIME
    if unit.endswith("/s"):
        return _RATE
    return _WORDS.get(unit, ("lower", "higher", None))  # a custom unit: no judgement


def better(row: Row) -> bool | None:
    """True when a significant change is an improvement; None when we cannot say."""
    lower_better = _words(row.unit)[2]
    delta = row.delta_pct
    if not row.significant or lower_better is None or not delta:
        return None
    return (delta < 0) == lower_better


def change_class(row: Row) -> str:
    # The theme colours .neg green and .pos red: here they mean better and worse.
    good = better(row)
    return "" if good is None else " neg" if good else " pos"


def n_text(row: Row) -> str:
    return f"n={row.base.n}+{row.target.n}"


def change_text(row: Row) -> str:
    """benchstat's verdict: ~, -4.62%, ? (x -> 0), or which file the benchmark is in."""
    if row.base is None or row.target is None:
        return "only " + ("after" if row.base is None else "before")
    return row.delta


# ---- benchstat's table --------------------------------------------------------------

class _Notes:
    """Footnotes numbered in order of first use, per table (benchstat's warn)."""

    def __init__(self):
        self.messages: list[str] = []

    def marks(self, *groups) -> str:
        out = []
        for group in groups:
            for msg in group:
                if msg not in self.messages:
                    self.messages.append(msg)
                out.append(str(self.messages.index(msg) + 1).translate(_SUPERSCRIPT))
        return " ".join(out)

    def lines(self) -> list[str]:
        return [f"{str(i).translate(_SUPERSCRIPT)} {m}" for i, m in enumerate(self.messages, 1)]


def unit_table(rows: list[Row], g: Geomean | None, unit: str):
    """benchstat's cells for one unit: [(label, base, target, delta, test)], footnotes.

    Cells hold benchstat's strings: "46.55n ± 9%", "-4.62%", "(p=0.008 n=10)",
    with footnote marks; the geomean row comes last when there are two rows or more.
    """
    kind, notes, out = unit_class(unit), _Notes(), []
    for r in rows:
        scale = common_scale([s.center for s in (r.base, r.target) if s], kind)
        cells, extra = [], r.warnings
        for s in (r.base, r.target):
            if s is None:
                cells.append("")
                continue
            marks = notes.marks(extra, s.warnings)
            extra = []
            cells.append(f"{scaled(s.center, scale)} ± {s.range_text()}" +
                         (f" {marks}" if marks else ""))
        delta = test = ""
        if r.test is not None:
            marks = notes.marks(r.test.warnings)
            delta, test = r.delta, f"({r.test.text()})" + (f" {marks}" if marks else "")
        out.append((r.name, cells[0], cells[1], delta, test))
    if g is not None and len(rows) > 1:
        base = scale_one(g.base, unit) if g.base is not None else ""
        target = scale_one(g.target, unit) if g.target is not None else ""
        bm, tm = notes.marks(g.base_warnings), notes.marks(g.target_warnings)
        out.append(("geomean", base + (f" {bm}" if bm else ""), target,
                    g.delta_text() if any(r.base and r.target for r in rows) else "",
                    tm))
    return out, notes.lines()


def verdict(row: Row, alpha: float) -> str:
    """One plain sentence for one benchmark in one unit."""
    if row.base is None or row.target is None:
        return f"{row.unit}: only {'after' if row.base is None else 'before'} the change"
    test = row.test
    n = n_text(row)
    if test.method == "assume-exact":
        p = "exact values"
    else:
        p = "p<0.001" if test.p < 0.001 else f"p={test.p:.3f}"
    delta = row.delta_pct
    if delta is None:
        return f"{row.unit}: 0 before, {fmt_value(row.target.center, row.unit)} after ({p}, {n})"
    change = f"{delta:+.1f}%"
    if not row.significant and not row.detectable:
        return (f"{row.unit}: {change}, but too few runs to tell ({n}; it takes at least "
                f"{runs_for_test_text(alpha)} runs each to reach p <= {alpha:g})")
    if not row.significant:
        why = "all runs equal" if any("all samples are equal" in w for w in test.warnings) \
            else p
        return f"{row.unit}: no significant change ({change}, {why}, {n})"
    if delta == 0:
        return f"{row.unit}: unchanged ({p}, {n})"
    down, up, _ = _words(row.unit)
    moved = (f"{fmt_value(row.base.center, row.unit)} → "
             f"{fmt_value(row.target.center, row.unit)}")
    return f"{row.unit}: {abs(delta):.1f}% {down if delta < 0 else up} ({moved}, {p}, {n})"


def runs_for_test_text(alpha: float) -> str:
    return str(runs_for_test(alpha)[1])


def verdicts(cmp: BenchComparison) -> list[str]:
    """The answer first: one line per unit (per benchmark when there is only one)."""
    if cmp.base == cmp.target:  # one file given (a bare build): describe, do not compare
        return [f"{unit}: one set of runs, nothing to compare; " + ", ".join(
            f"{r.name} {fmt_value(r.target.center, unit)}" for r in cmp.rows.get(unit, [])[:3]
            if r.target)
            for unit in cmp.units]
    out, many = [], _many_pkgs(cmp)
    for unit in cmp.units:
        rows = cmp.rows.get(unit, [])
        if len(rows) == 1:
            out.append(verdict(rows[0], cmp.alpha))
            continue
        sig = [r for r in rows if r.significant and r.delta_pct]
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
                parts.append(f"{label}: {row_label(r, many)} {r.delta_pct:+.1f}%")
        few = sum(not r.detectable for r in rows if r.test)
        if few:
            parts.append(f"{few} had too few runs to tell")
        g = cmp.geomeans.get(unit)
        lead = (f"{unit}: geomean {g.delta_pct:+.1f}% over {g.count}; "
                if g and g.ratio is not None and g.count else f"{unit}: ")
        out.append(lead + "; ".join(parts))
    return out


def footnotes(cmp: BenchComparison) -> list[str]:
    """Lines the reader of the file needs: syntax errors benchfmt skipped."""
    notes = []
    for side, path in (("base", cmp.base), ("target", cmp.target)):
        if bad := cmp.errors.get(side):
            shown = ", ".join(f"{line} ({msg})" for line, msg in bad[:5])
            notes.append(f"{_file(path)}: skipped {len(bad)} line(s) benchstat cannot read: "
                         f"line {shown}{' ...' if len(bad) > 5 else ''}")
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
    """The verdicts first (the answer), then benchstat's tables (one per package and
    unit: its numbers, footnotes and geomean)."""
    lines = [*verdicts(cmp), "", f"before: {cmp.base}", f"after: {cmp.target}"]
    lines += [f"{k}: {v}" for k, v in config_lines(cmp)]
    many, pkg = _many_pkgs(cmp), None
    for t in cmp.tables:
        body, notes = unit_table(t.rows, t.geomean, t.unit)
        table = [("", "before", "after", "", ""), ("", t.unit, t.unit, "vs base", "")]
        table += [tuple(cells) for cells in body]
        widths = [max(len(row[i]) for row in table) for i in range(5)]
        lines.append("")
        if many and t.pkg != pkg:
            lines.append(f"pkg: {t.pkg}")
            pkg = t.pkg
        for row in table:
            lines.append("  ".join([row[0].ljust(widths[0]), row[1].rjust(widths[1]),
                                    row[2].rjust(widths[2]), row[3].rjust(widths[3]),
                                    row[4]]).rstrip())
        lines += notes
    notes = footnotes(cmp)
    lines += [""] + notes if notes else []
    return "\n".join(lines).lstrip("\n") + "\n"


def runs_chart(chart_id: str, row: Row):
    """Every run as a dot, in run order: spread, outliers and drift (warm-up) at a glance."""
    # Only pages draw charts: `reportgen bench` prints text without loading pygal.
    from reportgen.render.charts import _style, chart_class, clean_svg, nice_ticks, shorten

    finite = [v for s in (row.base, row.target) for v in s.values if math.isfinite(v)] or [0]
    top, low = max(max(finite), 0), min(min(finite), 0)
    XY = chart_class("XY")
    chart = XY(js=[], disable_xml_declaration=True, style=_style(), width=460, height=300,
               stroke=False, dots_size=4, margin=8, legend_at_bottom=True,
               truncate_legend=-1, range=(low, top * 1.05 or 1), xrange=(0.5, max(
                   row.base.n, row.target.n) + 0.5), x_title="run",
               value_formatter=lambda v: fmt_value(v, row.unit),
               y_labels=nice_ticks(low, top * 1.05, binary=row.unit.startswith("B/")),
               x_value_formatter=lambda x: f"{x:g}")
    chart.title = shorten(f"{row.name} — {row.unit}", 60)
    for label, s in (("before", row.base), ("after", row.target)):
        chart.add(f"{label} (n={s.n})",
                  [(i, v) for i, v in enumerate(s.values, 1) if math.isfinite(v)])
    return clean_svg(chart.render(is_unicode=True), chart.uuid, chart_id)


def _interval(s, unit: str) -> str:
    if s is None or not s.bounded:
        return ""
    return f"interval {fmt_value(s.lo, unit)} … {fmt_value(s.hi, unit)}"


def bench_page(writer, slug: str, title: str, cmp: BenchComparison, profiles=None,
               manifest=None, analysis=None) -> str:
    """The comparison page; returns the one-line summary for the index.

    Fits build.PAGE_BUILDERS as is; profiles, manifest and analysis are unused.
    """
    data = writer.add_data(f"{slug}.json", {**cmp.as_dict(), "base": writer.shown(cmp.base),
                                            "target": writer.shown(cmp.target)})
    many = _many_pkgs(cmp)
    tables = []
    for t in cmp.tables:
        body, notes = unit_table(t.rows, t.geomean, t.unit)
        tables.append({
            "unit": t.unit, "caption": f"{t.pkg} — {t.unit}" if many else t.unit,
            "id": f"{slug}-{anchor(t.pkg + '-' + t.unit if many else t.unit)}", "notes": notes,
            "geomean": body[-1] if len(body) > len(t.rows) else None,
            "geomean_count": t.geomean.count,
            "rows": [{"row": r, "label": r.name, "base": cells[1] or "—",
                      "target": cells[2] or "—", "change": change_text(r), "test": cells[4],
                      "base_title": _interval(r.base, t.unit),
                      "target_title": _interval(r.target, t.unit),
                      "cls": change_class(r), "verdict": verdict(r, cmp.alpha)}
                     for r, cells in zip(t.rows, body)]})
    pairs = [r for rs in cmp.rows.values() for r in rs if r.base and r.target]
    charts = [runs_chart(f"{slug}-runs-{i}", r) for i, r in enumerate(pairs[:MAX_CHARTS])]
    info = [("Before", _file(cmp.base)), ("After", _file(cmp.target)), *config_lines(cmp)]
    answer = verdicts(cmp)
    writer.add_page(f"pages/{slug}.html", "bench.html.j2", title, info=info, answer=answer,
                    tables=tables, charts=charts, charts_left=len(pairs) - len(charts),
                    notes=footnotes(cmp), cmp=cmp, data=data,
                    runs_ci=runs_for_ci(cmp.confidence)[1])
    return "; ".join(answer) if answer else "no benchmarks"


def _file(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]
