"""The GC page: a gctrace/scavtrace/schedtrace log (or two, before and after) as
answers, charts and tables. Numbers come from reportgen.analyze.gc."""

from __future__ import annotations

from pathlib import Path

from reportgen.analyze.gc import GCAnalysis, GCComparison, num
from reportgen.render.charts import xy_lines

MAX_POINTS = 400   # per series; beyond it cycles are merged (the page says so)


def _thin(points: list[tuple[float, float]], pick=max) -> list[tuple[float, float]]:
    """At most MAX_POINTS points: runs of k consecutive points become one at the
    first x with pick(ys) (max keeps every spike visible)."""
    if len(points) <= MAX_POINTS:
        return points
    k = -(-len(points) // MAX_POINTS)
    return [(points[i][0], pick(y for _, y in points[i:i + k])) for i in range(0, len(points), k)]


def gc_charts(slug: str, runs: list[tuple[str, GCAnalysis]]) -> list:
    """Charts of one log, or of two logs on one time axis (before, after)."""
    two = len(runs) > 1
    tag = (lambda label, name: f"{label}: {name}") if two else (lambda label, name: name)
    charts, heap, pause, cpu, rate, scav, util, queue, idle = [], [], [], [], [], [], [], [], []
    for label, a in runs:
        cyc = a.cycles
        if not two:
            heap.append((tag(label, "heap at start"), _thin([(c.at_s, c.heap_start_mb) for c in cyc])))
            heap.append((tag(label, "heap at end"), _thin([(c.at_s, c.heap_end_mb) for c in cyc])))
        heap.append((tag(label, "live"), _thin([(c.at_s, c.live_mb) for c in cyc])))
        heap.append((tag(label, "goal"), _thin([(c.at_s, c.goal_mb) for c in cyc])))
        pause.append((tag(label, "STW pause"), _thin([(c.at_s, c.stw_ms) for c in cyc])))
        width = (a.buckets[1].start_s - a.buckets[0].start_s) if len(a.buckets) > 1 else 1
        cpu.append((tag(label, "GC CPU, per slice"),
                    [(b.start_s, round(b.gc_cpu_share * 100, 2)) for b in a.buckets]))
        cpu.append((tag(label, "GC CPU, cumulative (as printed)"),
                    _thin([(c.at_s, c.cpu_percent) for c in cyc])))
        rate.append((tag(label, "cycles per second"),
                     [(b.start_s, round(b.cycles / width, 2)) for b in a.buckets]))
        timed = [s for s in a.scav if s["at_s"] is not None]
        scav.append((tag(label, "released to the OS so far (MB)"),
                     _thin([(s["at_s"], round(s["now_released_kib"] / 1024, 2)) for s in timed
                            if s["now_released_kib"] is not None])))
        scav.append((tag(label, "released by this pass (MB)"),
                     _thin([(s["at_s"], round(s["released_kib"] / 1024, 2)) for s in timed])))
        util.append((tag(label, "heap in use / retained (%)"),
                     _thin([(s["at_s"], s["util_pct"]) for s in timed if s["util_pct"] is not None],
                           min)))
        queue.append((tag(label, "runnable, waiting for a P"),
                       _thin([(s["ms"] / 1000, s["runnable"]) for s in a.sched])))
        idle.append((tag(label, "idle Ps"), _thin([(s["ms"] / 1000, s["idleprocs"]) for s in a.sched])))
    # MB as gctrace and pprof print it: 2^20 bytes
    mb, ms = (lambda v: f"{v:g} MB"), (lambda v: f"{v:g} ms")
    pct, count = (lambda v: f"{v:g}%"), (lambda v: f"{v:g}")
    for key, title, series, y, fmt in (
            ("heap", "Heap per cycle: live and goal" + ("" if two else ", start and end"), heap,
             "MB", mb),
            ("stw", "Stop-the-world pause per cycle", pause, "ms", ms),
            ("cpu", "GC CPU share over time", cpu, "% of GOMAXPROCS", pct),
            ("rate", "GC cycles per second", rate, "cycles/s", count),
            ("scav", "Scavenger: memory returned to the OS", scav, "MB", mb),
            ("util", "Scavenger: heap utilisation", util, "%", pct),
            ("queue", "Scheduler: run queues (global + per P)", queue, "goroutines", count),
            ("idle", "Scheduler: idle Ps", idle, "Ps", count)):
        if any(points for _, points in series):
            charts.append(xy_lines(f"{slug}-{key}", title, series, "seconds", y, fmt))
    return charts


def _facts(a: GCAnalysis, label: str | None = None) -> list[tuple[str, str]]:
    s, pre = a.summary, f"{label} " if label else ""
    facts = [(f"{pre}log", Path(a.path).name)]
    if s:
        facts += [(f"{pre}format", a.form), (f"{pre}cycles", f"{s.cycles} ({s.forced} forced)"),
                  (f"{pre}duration", f"{num(s.duration_s)} s"), (f"{pre}GOMAXPROCS", str(s.procs))]
    if a.sched_summary:
        facts.append((f"{pre}schedtrace samples", str(a.sched_summary.samples)))
    if a.scav:
        facts.append((f"{pre}scavenger lines", str(len(a.scav))))
    return facts


def summary_rows(a: GCAnalysis) -> list[tuple[str, str]]:
    s = a.summary
    if not s:
        return []
    rows = [("GC cycles per second", num(s.cycles_per_s)),
            ("GC CPU (cumulative, as printed)", f"{s.gc_cpu_percent}%"),
            ("Allocation rate (estimate)", f"{num(s.alloc_mb_per_s)} MB/s"),
            ("STW pauses: longest / all", f"{num(s.stw_ms_max)} ms / {num(s.stw_ms_total)} ms"),
            ("Live heap: median / max", f"{num(s.live_mb_median)} / {s.live_mb_max} MB"),
            ("Heap goal: median / max", f"{num(s.goal_mb_median)} / {s.goal_mb_max} MB"),
            ("Live heap trend", "n/a" if s.live_slope_mb_per_min is None else
             f"{s.live_slope_mb_per_min:+.3g} MB/min (r² {s.live_r2:.2f})"),
            ("Assist share of mark CPU", "n/a" if s.assist_share is None
             else f"{s.assist_share:.0%}")]
    return rows


def longest_pauses(a: GCAnalysis, n: int = 10) -> list:
    return sorted(a.cycles, key=lambda c: (-c.stw_ms, c.n))[:n]


def _notes(a: GCAnalysis, label: str = "") -> list[str]:
    out, pre = [], f"{label}: " if label else ""
    if a.skipped:
        lines = ", ".join(str(n) for n, _ in a.skipped[:8]) + (" …" if len(a.skipped) > 8 else "")
        out.append(f"{pre}{len(a.skipped)} trace lines could not be read and are left out "
                   f"(line {lines}: {a.skipped[0][1]}).")
    if len(a.cycles) > MAX_POINTS:
        out.append(f"{pre}{len(a.cycles)} cycles are drawn as at most {MAX_POINTS} points per "
                   f"line (the largest value of each run of cycles); every cycle is in the JSON.")
    return out


def gc_page(writer, slug: str, title: str, result, manifest=None) -> str:
    """One log (GCAnalysis) or a comparison (GCComparison); returns the index summary."""
    if isinstance(result, GCComparison):
        runs = [("before", result.base), ("after", result.target)]
        answers = [result.answer] + [f"After: {t}" for t in result.target.answers]
        facts = _facts(result.base, "before") + _facts(result.target, "after")
        data = result.as_dict()
        for side in ("base", "target"):   # as the manifest names them, not absolute
            data[side]["path"] = writer.shown(data[side]["path"])
        data = writer.add_data(f"{slug}.json", {"kind": "gc", **data})
        main = result.target
        notes = _notes(result.base, "before") + _notes(result.target, "after")
    else:
        runs, answers, main = [("", result)], result.answers, result
        facts, notes = _facts(result), _notes(result)
        data = writer.add_data(f"{slug}.json", {"kind": "gc", **result.as_dict(),
                                                "path": writer.shown(result.path)})
    writer.add_page(f"pages/{slug}.html", "gc.html.j2", title, info=facts, answers=answers,
                    charts=gc_charts(slug, runs), deltas=getattr(result, "deltas", None),
                    summary=summary_rows(main), pauses=longest_pauses(main), notes=notes,
                    data=data, num=num)
    return answers[0] if answers else "no GC line"
