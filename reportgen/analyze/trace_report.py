"""The whole analysis of one execution trace, and the conclusions it supports.

analyze_trace(parsed) runs the pure analyzers (goroutine summary, blocking
profiles, GC and MMU, user regions) over a ParsedTrace and derives the
sentences the trace page opens with: which goroutine group spends its
time where (and at which line), how long goroutines wait for a P, how much
of the wall time the GC stopped the world. No I/O, no HTML.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from reportgen import gocode
from reportgen.analyze import (trace_gc, trace_goroutines, trace_profiles, trace_regions,
                               trace_timeline)
from reportgen.sources.trace import spec as S

@dataclass
class WaitSite:
    function: str
    file: str
    line: int
    ns: int
    share: float  # of the group's time in this state

    @property
    def where(self) -> str:
        return f"{os.path.basename(self.file)}:{self.line}" if self.file else self.function


@dataclass
class GroupVerdict:
    """Where one goroutine group's time goes: its largest non-overlapping part."""
    start: str
    count: int
    total_ns: int
    state: str  # go tool trace's column name ("Block time (chan send)" ...)
    state_ns: int
    site: WaitSite | None

    @property
    def share(self) -> float:
        return self.state_ns / self.total_ns if self.total_ns else 0.0

    def sentence(self) -> str:
        who = (f"{self.count} goroutines started at {self.start} spend"
               if self.count != 1 else f"1 goroutine started at {self.start} spends")
        return f"{who} {self.share:.0%} of their time {_phrase(self.state)}" + (
            f" at {self.site.where} ({self.site.function})" if self.site else "")


def _phrase(state: str) -> str:
    if state == "Block time ()":  # waiting since before the trace began: no reason recorded
        return "blocked, already waiting when the trace began,"
    if state.startswith("Block time ("):
        return "blocked in " + state[len("Block time ("):-1]
    return {"Execution time": "running", "Sched wait time": "waiting to be scheduled",
            "Syscall execution time": "in system calls",
            "Unknown time": "in no state the trace recorded"}.get(state, state)


@dataclass
class TraceReport:
    version: int
    duration_ns: int
    groups: list  # trace_goroutines.GoroutineGroup, by execution time
    summary: object
    profiles: dict  # kind -> pprof bytes (uncompressed)
    profile_totals: dict  # kind -> (contentions, delay ns)
    gc: trace_gc.GCReport
    regions: list  # trace_regions.RegionType
    tasks: list
    logs: list
    verdicts: list  # GroupVerdict, most time first
    answers: list  # sentences, the most telling first
    truncated: str = ""  # what was dropped, "" for a complete trace
    generations: int = 0
    events: int = 0
    timeline: object = None  # trace_timeline.Timeline

    def as_dict(self) -> dict:
        return {
            "version": f"go 1.{self.version}",
            "duration_ns": self.duration_ns,
            "events": self.events,
            "generations": self.generations,
            "truncated": self.truncated,
            "answers": self.answers,
            "groups": [{"start": g.start, "count": g.count, "execution_ns": g.execution_ns,
                        "goroutines": [trace_goroutines.goroutine_dict(x) for x in g.goroutines]}
                       for g in self.groups],
            "profiles": {k: {"contentions": c, "delay_ns": d}
                         for k, (c, d) in self.profile_totals.items()},
            "gc": self.gc.as_dict(),
            "regions": [r.as_dict() for r in self.regions],
            "tasks": self.tasks,
            "logs": [{"time_ns": t, "goroutine": g, "task": k, "category": c, "message": m}
                     for t, g, k, c, m in self.logs],
        }


def _state_of(name: str):
    """(go state, reason or None) that go tool trace's breakdown column counts."""
    if name.startswith("Block time ("):
        return S.GO_WAITING, name[len("Block time ("):-1]
    return {"Sched wait time": (S.GO_RUNNABLE, None),
            "Syscall execution time": (S.GO_SYSCALL, None)}.get(name, (None, None))


def wait_site(transitions, gids: set, state: int, reason, total_ns: int):
    """The stack location where `gids` spend most time in `state` (with `reason`), or None.

    Each stretch is charged to the stack of the event that began it, at its
    first frame in the program's own code (else the first outside the runtime).
    """
    open_: dict = {}
    per: dict = {}
    for ev, st in transitions:
        if st.id not in gids:
            continue
        b = open_.get(st.id)
        if b is not None and st.new != state:
            del open_[st.id]
            key = (id(b.table), b.stack_id())
            prev = per.get(key)
            per[key] = (b, (prev[1] if prev else 0) + ev.time - b.time)
        if st.new == state and (reason is None or st.reason == reason) and st.id not in open_:
            open_[st.id] = ev
    if not per:
        return None
    sites: dict = {}
    for b, ns in per.values():
        frames = b.stack()
        pick = next((f for f in frames if gocode.is_program_code(f[1], f[2])), None) or \
            next((f for f in frames if gocode.family(gocode.package_of(f[1], f[2])) != "runtime"),
                 None) or (frames[0] if frames else None)
        if pick is None:
            continue
        k = (pick[1], pick[2], pick[3])
        sites[k] = sites.get(k, 0) + ns
    if not sites:
        return None
    (fn, file, line), ns = max(sites.items(), key=lambda kv: (kv[1], kv[0]))
    return WaitSite(fn, file, line, ns, ns / total_ns if total_ns else 0.0)


def group_verdicts(groups, transitions, limit: int = 3) -> list:
    """For the program's goroutine groups with the most time, where that time goes."""
    out = []
    candidates = [g for g in groups
                  if g.start and not trace_goroutines.is_system_goroutine(g.start)]
    candidates.sort(key=lambda g: (-sum(x.stats.total_ns for x in g.goroutines), g.start))
    for g in candidates[:limit]:
        parts: dict = {}
        for x in g.goroutines:
            for k, v in x.stats.non_overlapping().items():
                parts[k] = parts.get(k, 0) + v
        total = sum(x.stats.total_ns for x in g.goroutines)
        if total <= 0:
            continue
        state, ns = max(parts.items(), key=lambda kv: (kv[1], kv[0]))
        go_state, reason = _state_of(state)
        site = None
        if go_state == S.GO_WAITING and state != "Block time (syscall)":
            site = wait_site(transitions, {x.id for x in g.goroutines}, go_state, reason, ns)
        out.append(GroupVerdict(g.start, g.count, total, state, ns, site))
    return out


def analyze_trace(parsed, timeline: bool = True) -> TraceReport:
    """Every analysis of a ParsedTrace (sources.trace.reader); the timeline only when asked."""
    summary = trace_goroutines.summarize(parsed.all_events)
    groups = trace_goroutines.group_goroutines(summary)
    events = parsed.events
    end = events[-1].time if events else 0
    spans = trace_profiles.goroutine_intervals(summary, end)
    transitions = trace_profiles.goroutine_transitions(events)
    profiles, totals = {}, {}
    for kind, recs in trace_profiles.blocking_records(transitions, spans).items():
        profiles[kind] = trace_profiles.build_pprof(recs)
        totals[kind] = (sum(r[1] for r in recs), sum(r[2] for r in recs))
    gc = trace_gc.gc_report(events)
    start = events[0].time if events else 0
    regions = trace_regions.region_types(summary, start, end)
    tasks = trace_regions.task_types(summary, start, end)
    verdicts = group_verdicts(groups, transitions)
    answers = [v.sentence() for v in verdicts[:1]]
    n, delay = totals["sched"]
    if n:
        running = sum(g.execution_ns for g in groups)
        answers.append(f"Goroutines wait {_dur(delay // n)} on average to be scheduled "
                       f"({_dur(delay)} waiting for a P in all, against {_dur(running)} running)"
                       + (": the CPU is saturated, more goroutines are runnable than Ps run them"
                          if delay > running else ""))
    if gc.duration_ns:
        longest = max((p.duration_ns for p in gc.pauses), default=0)
        answers.append(f"GC stop-the-world {gc.stw_ns / gc.duration_ns:.1%} of wall time "
                       f"({_count(len(gc.pauses), 'pause')}, longest {_dur(longest)}); "
                       f"GC used {gc.gc_cpu_fraction:.1%} of the CPU over "
                       f"{_count(len(gc.cycles), 'cycle')}")
    truncated = ""
    if parsed.error:
        lost = parsed.size - parsed.valid_bytes
        truncated = (f"the trace breaks off: {parsed.error}; kept {parsed.generations} complete "
                     f"generation(s), dropped {lost} of {parsed.size} bytes after them")
    return TraceReport(parsed.version, gc.duration_ns, groups, summary, profiles, totals, gc,
                       regions, tasks, summary.logs, verdicts, answers, truncated,
                       parsed.generations, len(events),
                       trace_timeline.goroutine_timeline(transitions, groups, events[0].time, end)
                       if timeline and events else None)


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _dur(ns: int) -> str:
    for unit, div in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= div:
            return f"{ns / div:.3g} {unit}"
    return f"{ns} ns"


def run_trace(options: dict, profiles: dict, defaults: dict) -> TraceReport:
    """The manifest's `trace` kind: read options["path"] and analyze it."""
    from reportgen.sources.trace import load_trace
    return analyze_trace(load_trace(options["path"]), timeline=options.get("timeline", True))
