"""What a gctrace/schedtrace log says: per-cycle figures, a summary, and answers.

Pure: a GCLog (reportgen.sources.gctrace) in, plain results out. Times are
seconds (`_s`) or milliseconds (`_ms`), heap sizes MiB as the runtime prints
them (whole MiB, rounded down), rates MiB/s.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from reportgen.sources.gctrace import GCLog
from reportgen.units import plural
from reportgen.units import signed_percent

# When the answers call something out. GC below ~5% of CPU is what the default
# GOGC=100 costs a typical service; above 10% it is worth tuning.
GC_CPU_HIGH = 10
GC_CPU_NOTICE = 5
CYCLES_PER_S_HIGH = 10
PAUSE_FINE_MS = 1.0
PAUSE_LONG_MS = 10.0
# A live heap that grows by at least this much over the run, steadily (r²), is a leak suspect.
LEAK_MIN_GROWTH_MB = 2
LEAK_MIN_GROWTH_SHARE = 0.2
LEAK_MIN_R2 = 0.6
# Time slices for the cycles-per-second and GC CPU charts: about this many over the run.
BUCKETS = 100


@dataclass
class CycleStats:
    """One cycle with what follows from it and the cycle before."""
    n: int
    at_s: float
    stw_ms: float                 # sweep termination + mark termination (wall)
    mark_ms: float                # concurrent phases (wall)
    gc_cpu_ms: float              # all CPU the cycle cost, idle-time marking included
    stw_cpu_ms: float             # CPU of the two STW phases (and 1.5's scan and sync)
    assist_ms: float              # marking done by allocating goroutines
    background_ms: float          # dedicated and fractional mark workers
    idle_ms: float                # marking on otherwise idle Ps
    heap_start_mb: int
    heap_end_mb: int
    live_mb: int
    goal_mb: int
    cpu_percent: int              # cumulative, as printed
    procs: int
    forced: bool
    markers: list[str]
    interval_s: float | None      # since the previous cycle started
    allocated_mb: int | None      # allocated since the previous cycle started (estimate)
    alloc_mb_per_s: float | None
    line: int


@dataclass
class Bucket:
    """A slice of the run's time: cycles started in it and the GC CPU they cost."""
    start_s: float
    cycles: int
    gc_cpu_share: float           # (STW + assist + background CPU) / (bucket wall × GOMAXPROCS)


@dataclass
class GCSummary:
    cycles: int
    forced: int
    duration_s: float             # start time of the last cycle
    stw_ms_total: float
    stw_ms_max: float
    stw_max_cycle: int | None
    live_mb_max: int
    live_mb_median: float
    goal_mb_max: int
    goal_mb_median: float
    gc_cpu_percent: int           # the last cycle's cumulative value
    cycles_per_s: float | None
    alloc_mb_per_s: float | None  # mean over the run
    live_slope_mb_per_min: float | None
    live_r2: float | None
    live_returns: bool | None     # does the live heap come back down to its early level?
    assist_share: float | None    # assist CPU / (assist + background CPU)
    procs: int | None


@dataclass
class SchedSummary:
    samples: int
    gomaxprocs: int
    runnable_max: int
    runnable_mean: float
    idle_p_share: float           # mean idleprocs / gomaxprocs
    saturated_ms: int             # the longest stretch with no idle P and a goroutine queued per P
    saturated_from_ms: int | None
    saturated_min_runnable: int | None
    threads_max: int


@dataclass
class GCAnalysis:
    path: str
    form: str
    cycles: list[CycleStats]
    buckets: list[Bucket]
    summary: GCSummary | None
    sched: list[dict]
    sched_summary: SchedSummary | None
    scav: list[dict]
    answers: list[str]
    skipped: list[tuple[int, str]] = field(default_factory=list)
    other_lines: int = 0

    def as_dict(self) -> dict:
        return {"path": self.path, "form": self.form, "answers": self.answers,
                "summary": asdict(self.summary) if self.summary else None,
                "cycles": [asdict(c) for c in self.cycles],
                "sched_summary": asdict(self.sched_summary) if self.sched_summary else None,
                "sched": self.sched, "scavenger": self.scav,
                "skipped_lines": [{"line": n, "reason": r} for n, r in self.skipped],
                "other_lines": self.other_lines}


def analyze_gc(log: GCLog, name: str | None = None) -> GCAnalysis:
    """Per-cycle figures, time buckets, the summary and the answers for one log."""
    cycles = cycle_stats(log)
    summary = summarize(cycles) if cycles else None
    sched = [{"ms": s.ms, "gomaxprocs": s.gomaxprocs, "idleprocs": s.idleprocs,
              "threads": s.threads, "spinning": s.spinning, "runqueue": s.runqueue,
              "local": list(s.local), "runnable": s.runnable, "g_states": s.g_states,
              "line": s.line} for s in log.sched]
    sched_sum = sched_summary(log) if log.sched else None
    scav = [asdict(s) for s in log.scav]
    answers = gc_answers(summary, sched_sum)
    return GCAnalysis(name or log.path, log.form, cycles, buckets(cycles), summary, sched,
                      sched_sum, scav, answers, log.skipped, log.other_lines)


def cycle_stats(log: GCLog) -> list[CycleStats]:
    """Each cycle with its interval and allocation since the previous one.

    Allocation between the starts of cycles i-1 and i is estimated from the
    printed heaps: what was allocated while i-1 marked (heap at its end minus at
    its start) plus what was allocated after it (heap at i's start minus i-1's
    live heap, which is what survived the sweep).
    """
    out, prev = [], None
    for c in log.cycles:
        interval = allocated = rate = None
        if prev is not None and c.n == prev.n + 1 and c.at_s > prev.at_s:
            interval = round(c.at_s - prev.at_s, 6)
            allocated = max(0, (prev.heap_end_mb - prev.heap_start_mb)
                            + (c.heap_start_mb - prev.live_mb))
            rate = allocated / interval
        out.append(CycleStats(
            c.n, c.at_s, round(c.stw_ms, 6), round(c.mark_ms, 6), round(c.gc_cpu_ms, 6),
            round(c.gc_cpu_ms - c.assist_ms - c.background_ms - c.idle_ms, 6), c.assist_ms,
            c.background_ms, c.idle_ms, c.heap_start_mb, c.heap_end_mb, c.live_mb, c.goal_mb,
            c.cpu_percent, c.procs, c.forced, list(c.markers), interval, allocated, rate, c.line))
        prev = c
    return out


def buckets(cycles: list[CycleStats]) -> list[Bucket]:
    """The run cut into about BUCKETS equal slices (whole milliseconds, at least 1 ms)."""
    if not cycles:
        return []
    # min/max, not first/last: a log may hold a restarted program (time starts again)
    start, end = min(c.at_s for c in cycles), max(c.at_s for c in cycles)
    width = max(round((end - start) / BUCKETS, 3), 0.001)
    count = int((end - start) / width) + 1
    n, cpu = [0] * count, [0.0] * count
    for c in cycles:
        i = min(int((c.at_s - start) / width), count - 1)
        n[i] += 1
        # idle-time marking runs on CPUs nothing else wanted: not a cost to the program
        cpu[i] += c.gc_cpu_ms - c.idle_ms
    procs = cycles[-1].procs or 1
    return [Bucket(round(start + i * width, 6), n[i], cpu[i] / (width * 1000 * procs))
            for i in range(count)]


def summarize(cycles: list[CycleStats]) -> GCSummary:
    duration = cycles[-1].at_s
    stw = [c.stw_ms for c in cycles]
    worst = max(range(len(cycles)), key=lambda i: (stw[i], -i))
    span = cycles[-1].at_s - cycles[0].at_s
    allocated = [c.allocated_mb for c in cycles if c.allocated_mb is not None]
    alloc_span = sum(c.interval_s for c in cycles if c.allocated_mb is not None)
    slope, r2 = _trend([c.at_s for c in cycles], [c.live_mb for c in cycles])
    assist, background = sum(c.assist_ms for c in cycles), sum(c.background_ms for c in cycles)
    return GCSummary(
        cycles=len(cycles), forced=sum(c.forced for c in cycles), duration_s=duration,
        stw_ms_total=round(sum(stw), 6), stw_ms_max=stw[worst], stw_max_cycle=cycles[worst].n,
        live_mb_max=max(c.live_mb for c in cycles),
        live_mb_median=_median([c.live_mb for c in cycles]),
        goal_mb_max=max(c.goal_mb for c in cycles),
        goal_mb_median=_median([c.goal_mb for c in cycles]),
        gc_cpu_percent=cycles[-1].cpu_percent,
        cycles_per_s=(len(cycles) - 1) / span if span > 0 else None,
        alloc_mb_per_s=sum(allocated) / alloc_span if alloc_span > 0 else None,
        live_slope_mb_per_min=None if slope is None else slope * 60, live_r2=r2,
        live_returns=_returns([c.live_mb for c in cycles]),
        assist_share=assist / (assist + background) if assist + background else None,
        procs=cycles[-1].procs)


def _median(xs: list[float]) -> float:
    s = sorted(xs)
    mid = len(s) // 2
    return float(s[mid]) if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


def _trend(xs: list[float], ys: list[float]) -> tuple[float | None, float | None]:
    """Least-squares slope of ys over xs (units of y per unit of x) and r²."""
    n = len(xs)
    if n < 3:
        return None, None
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0:
        return None, None
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    slope = sxy / sxx
    return slope, (sxy * sxy / (sxx * syy) if syy else 1.0)


def _returns(live: list[int]) -> bool | None:
    """Whether the live heap of the last quarter of the cycles ever comes back to
    the highest level of the first quarter; None with fewer than 8 cycles."""
    if len(live) < 8:
        return None
    q = len(live) // 4
    return min(live[-q:]) <= max(live[:q])


def sched_summary(log: GCLog) -> SchedSummary:
    """Run queues and idle Ps over the schedtrace samples.

    A sample is saturated when no P is idle and at least one goroutine per P
    waits to run; the longest run of consecutive saturated samples is reported.
    """
    samples = log.sched
    procs = samples[-1].gomaxprocs or 1
    best = (0, None, None)
    start = low = None
    for i, s in enumerate(samples):
        saturated = s.idleprocs == 0 and s.runnable >= max(s.gomaxprocs, 1)
        if saturated:
            if start is None:
                start, low = s.ms, s.runnable
            low = min(low, s.runnable)
            end = samples[i + 1].ms if i + 1 < len(samples) else s.ms
            if end - start > best[0] or best[1] is None:
                best = (end - start, start, low)
        else:
            start = None
    return SchedSummary(
        samples=len(samples), gomaxprocs=procs, runnable_max=max(s.runnable for s in samples),
        runnable_mean=sum(s.runnable for s in samples) / len(samples),
        idle_p_share=sum(s.idleprocs / max(s.gomaxprocs, 1) for s in samples) / len(samples),
        saturated_ms=best[0], saturated_from_ms=best[1], saturated_min_runnable=best[2],
        threads_max=max(s.threads for s in samples))


def gc_answers(s: GCSummary | None, sched: SchedSummary | None) -> list[str]:
    """The sentences an on-call engineer needs, most serious first, each with its numbers."""
    found: list[tuple[int, str]] = []
    if s:
        found += _heap_answers(s)
    if sched:
        found.append(_sched_answer(sched))
    return [text for _, text in sorted(found, key=lambda f: f[0])]


def _heap_answers(s: GCSummary) -> list[tuple[int, str]]:
    out = []
    if _leaking(s):
        grown = s.live_slope_mb_per_min * s.duration_s / 60
        out.append((0, f"The live heap grows {num(s.live_slope_mb_per_min)} MB/min across "
                       f"{duration(s.duration_s)} (+{num(grown)} MB) and never comes back down: "
                       f"a leak — see the heap profiles (inuse_space) for what holds it."))
    rate = (f"{num(s.alloc_mb_per_s)} MB/s" if s.alloc_mb_per_s is not None
            else "a high rate")
    if pressured(s):
        out.append((1, f"GC runs {num(s.cycles_per_s)} times a second and takes "
                       f"{s.gc_cpu_percent}% of CPU: the live heap is {mb(s.live_mb_median)} "
                       f"against a {num(s.goal_mb_median)} MB goal — GOGC or GOMEMLIMIT is too "
                       f"tight, or the program allocates short-lived garbage at {rate} "
                       f"(see the allocs profile)."))
    else:
        per_s = f"{num(s.cycles_per_s)} cycles a second, " if s.cycles_per_s else ""
        out.append((4, f"GC is light: {s.cycles} cycles ({per_s}{s.gc_cpu_percent}% of CPU), "
                       f"live heap {mb(s.live_mb_median)} against a "
                       f"{num(s.goal_mb_median)} MB goal."))
    where = f" (cycle {s.stw_max_cycle})"
    if s.stw_ms_max > PAUSE_LONG_MS:
        out.append((2, f"Stop-the-world pauses are long: up to {num(s.stw_ms_max)} ms{where}, "
                       f"{num(s.stw_ms_total)} ms in all over {duration(s.duration_s)}."))
    elif s.stw_ms_max > PAUSE_FINE_MS:
        out.append((3, f"Pauses reach {num(s.stw_ms_max)} ms{where}: noticeable for "
                       f"latency-sensitive requests, not alarming."))
    else:
        out.append((5, f"Pauses are fine (max {num(s.stw_ms_max)} ms)."))
    return out


def pressured(s: GCSummary) -> bool:
    """GC takes ≥ 10% of CPU, or runs ≥ 10 times a second at ≥ 5% of CPU."""
    frequent = s.cycles_per_s is not None and s.cycles_per_s >= CYCLES_PER_S_HIGH
    return s.gc_cpu_percent >= GC_CPU_HIGH or (frequent and s.gc_cpu_percent >= GC_CPU_NOTICE)


def _leaking(s: GCSummary) -> bool:
    """Live heap grows steadily (r² ≥ 0.6) by a real amount and never returns."""
    if s.live_slope_mb_per_min is None or s.live_slope_mb_per_min <= 0 or s.live_returns is not False:
        return False
    grown = s.live_slope_mb_per_min * s.duration_s / 60
    floor = max(LEAK_MIN_GROWTH_MB, LEAK_MIN_GROWTH_SHARE * s.live_mb_median)
    return s.live_r2 is not None and s.live_r2 >= LEAK_MIN_R2 and grown >= floor


def _sched_answer(s: SchedSummary) -> tuple[int, str]:
    if s.saturated_from_ms is not None and s.saturated_ms >= 1000:
        return (1, f"Run queues hold {s.saturated_min_runnable}+ goroutines with no idle P for "
                   f"{duration(s.saturated_ms / 1000)} (from {num(s.saturated_from_ms / 1000)} s): "
                   f"CPU saturated — more runnable work than {s.gomaxprocs} Ps can run.")
    return (4, f"Scheduler: Ps idle {s.idle_p_share:.0%} of the time, at most "
               f"{plural(s.runnable_max, 'goroutine')} waiting for a P "
               f"({plural(s.samples, 'sample')}, GOMAXPROCS {s.gomaxprocs}).")


# Summary fields compared between two logs: (field, label, unit).
COMPARED = [("cycles_per_s", "GC cycles per second", "/s"),
            ("gc_cpu_percent", "GC CPU (cumulative)", "%"),
            ("alloc_mb_per_s", "Allocation rate", "MB/s"),
            ("stw_ms_max", "Longest STW pause", "ms"),
            ("stw_ms_total", "STW pauses in all", "ms"),
            ("live_mb_median", "Live heap (median)", "MB"),
            ("live_mb_max", "Live heap (max)", "MB"),
            ("goal_mb_max", "Heap goal (max)", "MB"),
            ("cycles", "Cycles", ""),
            ("duration_s", "Duration", "s")]


@dataclass
class GCComparison:
    base: GCAnalysis
    target: GCAnalysis
    deltas: list[dict]            # {"field", "label", "unit", "base", "target", "change", "change_pct"}
    answer: str

    def as_dict(self) -> dict:
        return {"base": self.base.as_dict(), "target": self.target.as_dict(),
                "differences": self.deltas, "answer": self.answer}


def compare_gc(base: GCAnalysis, target: GCAnalysis) -> GCComparison:
    """Two logs of one program (before, after a change): the summaries' differences."""
    deltas = []
    if base.summary and target.summary:
        for name, label, unit in COMPARED:
            a, b = getattr(base.summary, name), getattr(target.summary, name)
            if a is None or b is None:
                continue
            deltas.append({"field": name, "label": label, "unit": unit, "base": a, "target": b,
                           "change": b - a,
                           # a change of a percentage is in points, not a percent of it
                           "change_pct": (b - a) / a * 100 if a and unit != "%" else None})
    return GCComparison(base, target, deltas, _compare_answer(deltas))


def _compare_answer(deltas: list[dict]) -> str:
    if not deltas:
        return "One of the logs has no gc line: only the scheduler and scavenger are shown."
    by = {d["field"]: d for d in deltas}
    parts = []
    for name, what in (("cycles_per_s", "GC runs {t} times a second instead of {b}"),
                       ("gc_cpu_percent", "takes {t}% of CPU instead of {b}%"),
                       ("alloc_mb_per_s", "the program allocates {t} MB/s instead of {b}"),
                       ("stw_ms_max", "the longest pause is {t} ms instead of {b}")):
        d = by.get(name)
        if d:
            pct = f" ({signed_percent(d['change_pct'], 0)})" if d["change_pct"] is not None else ""
            parts.append(what.format(t=num(d["target"]), b=num(d["base"])) + pct)
    return "After the change " + ", ".join(parts) + "."


def num(x: float | None) -> str:
    """A figure for a sentence: whole numbers from 10 up, else two significant digits."""
    if x is None:
        return "?"
    if abs(x) >= 10 or x == int(x):
        return f"{x:,.0f}"
    return f"{x:.2g}" if abs(x) < 1 else f"{x:.1f}"


def mb(x: float) -> str:
    """A heap size the runtime printed in whole MiB (rounded down): 0 means under 1 MB."""
    return "under 1 MB" if x < 1 else f"~{num(x)} MB"


def duration(seconds: float) -> str:
    """12 s, 4.5 minutes, 3.2 hours."""
    if seconds < 120:
        return f"{num(seconds)} s"
    if seconds < 7200:
        return f"{num(seconds / 60)} minutes"
    return f"{num(seconds / 3600)} hours"
