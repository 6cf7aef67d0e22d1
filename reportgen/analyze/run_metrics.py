"""The numbers of one run, for its place in the history: pure, model in, plain data out.

The result is a JSON-ready dict (it is what the incremental cache keeps):

    {"bench":      [{"pkg", "name": "BenchmarkQuote-2", "unit": "ns/op", "values": [...]}],
     "profiles":   [{"key": "cpu", "file", "type", "sample_type", "unit", "total",
                     "duration_nanos", "functions": {name: [flat, cum]}}],
     "goroutines": {"file", "total", "groups": {signature: count}} or None,
     "scalars":    [{"key", "label", "unit", "value"}]}

Profiles are compared across runs as shares of their total (flat and cum,
per function), which do not depend on how long the profile ran; their raw
totals are kept as scalars, charted with each run's duration beside them.

EXTRACTORS maps an evidence kind (reportgen.sources.runs.READERS) to the
function that turns that kind's evidence into its part of the dict. GC
traces add scalars (GC CPU %, cycles a second, live heap, goal, longest
pause, allocation rate), which the history charts like the others.
"""

from __future__ import annotations

import math

import numpy as np

from reportgen.analyze.graph import Part
from reportgen.analyze.top import top

# A function whose cum is under this share of its profile in a run is left
# out of that run's numbers: it bounds the cache, and a function so small
# cannot move by the 5-point share threshold without crossing it.
MIN_SHARE = 0.005


def bench_metrics(evidence: list) -> dict:
    """Every benchmark result's values per (pkg, name with -PROCS, unit), files in order.

    Names and units are kept as the file wrote them (BenchmarkQuote-2, ns/op),
    not benchstat's tidied ones (Quote-2, sec/op): they are what the reader
    searches the code and the CI log for. A unit repeated on one line counts once.
    """
    series: dict[tuple, dict] = {}
    for ev in evidence:
        for r in ev.data.results:
            name = "Benchmark" + r.name
            seen = set()
            for value in r.values:
                unit = value.orig_unit or value.unit
                v = value.value if value.orig_value is None else value.orig_value
                if unit in seen or not math.isfinite(v):   # NaN/Inf: no median, no JSON
                    continue
                seen.add(unit)
                key = (r.pkg, name, unit)
                if key not in series:
                    series[key] = {"pkg": r.pkg, "name": name, "unit": unit, "values": []}
                series[key]["values"].append(v)
    return {"bench": list(series.values())}


def profile_key(profile_type: str, file: str, seen: dict) -> str:
    """The profile's kind (cpu, heap ...); a second one of a kind adds its file name."""
    n = seen.get(profile_type, 0)
    seen[profile_type] = n + 1
    return profile_type if n == 0 else f"{profile_type} ({file})"


# Heap and allocs profiles are compared by what was allocated, which is what
# B/op and allocs/op measure; in-use bytes depend on when the snapshot fell.
_SHARE_TYPE = {"heap": "alloc_space", "allocs": "alloc_space"}
# CPU profiles count samples of equal weight (one period each): a function's share
# of them is a binomial proportion, testable as such (reportgen.analyze.history);
# heap and allocs profiles get an effective count (heap_effective_samples).
_COUNTED = ("samples",)


def share_index(profile) -> int:
    """The sample type whose shares are compared: alloc_space for heap and allocs
    profiles, else the profile's default (pprof's: cpu for CPU profiles)."""
    names = [t.type for t in profile.sample_types]
    want = _SHARE_TYPE.get(profile.profile_type)
    return names.index(want) if want in names else profile.sample_index()


def sample_count(profile) -> int | None:
    """How many samples the profile counted (CPU: samples/count); for heap and
    allocs profiles the effective count of their byte-weighted samples
    (heap_effective_samples); else None."""
    for i, t in enumerate(profile.sample_types):
        if t.type in _COUNTED and t.unit == "count":
            return int(abs(profile.values[:, i]).sum())
    if profile.profile_type in _SHARE_TYPE:
        return heap_effective_samples(profile)
    return None


def heap_effective_samples(profile) -> int | None:
    """The number of equally weighted samples an allocation profile's alloc_space
    shares are as certain as (Kish's effective sample size, (sum w)^2 / sum w^2).

    The runtime samples about one allocation per `period` bytes (MemProfileRate)
    and scales each record up: count / (1 - exp(-size/period)) with size the
    record's bytes per object (runtime/pprof scaleHeapSample). Undoing that
    gives each record's raw sample count r; its samples weigh bytes/r each.
    A few large allocations weigh more than many small ones, so the count is
    below the raw one. None without alloc_objects/alloc_space or a period."""
    names = [t.type for t in profile.sample_types]
    if "alloc_objects" not in names or "alloc_space" not in names or profile.period <= 0:
        return None
    objects = np.abs(profile.values[:, names.index("alloc_objects")]).astype(float)
    space = np.abs(profile.values[:, names.index("alloc_space")]).astype(float)
    keep = (objects > 0) & (space > 0)
    objects, space = objects[keep], space[keep]
    if not len(space):
        return None
    raw = objects * -np.expm1(-(space / objects) / profile.period)
    weight_sq = float((space * space / np.maximum(raw, 1e-12)).sum())
    return int(space.sum() ** 2 / weight_sq) if weight_sq > 0 else None


def profile_metrics(evidence: list) -> dict:
    """Per profile: its total of the compared sample type (and of inuse_space for
    heap profiles), and flat and cum per function.

    flat/cum are pprof's (functions granularity, as `go tool pprof -top`) of
    the share_index sample type.
    """
    out, scalars, seen = [], [], {}
    for ev in evidence:
        p = ev.data
        index = share_index(p)
        result = top([Part(p, index)], "functions", node_limit=None, node_fraction=0.0)
        total = result.total
        keep = abs(total) * MIN_SHARE
        functions = {r.name: [int(r.flat), int(r.cum)] for r in result.rows
                     if abs(r.cum) >= keep and (r.flat or r.cum)}
        key = profile_key(p.profile_type, ev.name, seen)
        out.append({"key": key, "file": ev.name, "type": p.profile_type,
                    "sample_type": result.sample_index, "unit": result.unit, "total": int(total),
                    "samples": sample_count(p) if p.profile_type in ("cpu", *_SHARE_TYPE)
                    else None,
                    "duration_nanos": int(p.duration_nanos),
                    "functions": functions})
        for i, t in enumerate(p.sample_types):
            if i != index and t.type != "inuse_space":  # the compared type, and heap in use
                continue
            scalars.append({"key": f"total:{key}:{t.type}", "label": f"{key} profile: {t.type}",
                            "unit": t.unit, "value": int(abs(p.values[:, i]).sum()),
                            "duration_nanos": int(p.duration_nanos)})
    return {"profiles": out, "scalars": scalars}


def goroutine_metrics(evidence: list) -> dict:
    """Goroutines in the first dump (by file name), in all and per group of identical stacks.

    Groups are reportgen.analyze.goroutines' (same frames, state and creator),
    named by their signature.
    """
    from reportgen.analyze.goroutines import as_snapshot, group_goroutines
    first = evidence[0]
    snap = as_snapshot(first.data)
    groups: dict[str, int] = {}
    for g in group_goroutines(snap):
        groups[g.signature] = groups.get(g.signature, 0) + g.count
    total = snap.total or sum(groups.values())
    return {"goroutines": {"file": first.name, "total": int(total),
                           "groups": dict(sorted(groups.items()))},
            "scalars": [{"key": "goroutines", "label": "goroutines", "unit": "goroutines",
                         "value": int(total)}]}


# GC figures of a run, from reportgen.analyze.gc's summary: (field, label, unit).
GC_FIGURES = (("gc_cpu_percent", "GC CPU share (gctrace)", "% CPU"),
              ("cycles_per_s", "GC cycles per second", "cycles/s"),
              ("live_mb_median", "live heap after GC, median", "MB"),
              ("goal_mb_median", "heap goal, median", "MB"),
              ("stw_ms_max", "longest stop-the-world pause", "ms"),
              ("alloc_mb_per_s", "allocation rate (from gctrace)", "MB/s"))


def gc_metrics(evidence: list) -> dict:
    """GC figures of the first GC log (by file name) with gc cycles in it: the
    summary reportgen.analyze.gc computes (the same numbers `reportgen gc` prints)."""
    from reportgen.analyze.gc import analyze_gc
    for ev in evidence:
        summary = analyze_gc(ev.data, ev.name).summary
        if summary is None:
            continue
        return {"scalars": [{"key": f"gc:{field}", "label": label, "unit": unit,
                             "value": float(getattr(summary, field))}
                            for field, label, unit in GC_FIGURES
                            if getattr(summary, field) is not None]}
    return {}


EXTRACTORS = {
    "bench": bench_metrics,
    "profile": profile_metrics,
    "goroutines": goroutine_metrics,
    "gctrace": gc_metrics,
}


def run_metrics(evidence: list) -> dict:
    """The run's numbers from its evidence (reportgen.sources.runs.Evidence list)."""
    out: dict = {"bench": [], "profiles": [], "goroutines": None, "scalars": []}
    by_kind: dict[str, list] = {}
    for ev in evidence:
        by_kind.setdefault(ev.kind, []).append(ev)
    for kind, extract in EXTRACTORS.items():
        if kind in by_kind:
            part = extract(by_kind[kind])
            for key, value in part.items():
                if isinstance(out.get(key), list):
                    out[key] = out[key] + value
                else:
                    out[key] = value
    return out
