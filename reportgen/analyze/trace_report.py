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

import numpy as np

from reportgen import gocode
from reportgen.analyze import (trace_gc, trace_goroutines, trace_profiles, trace_regions,
                               trace_timeline)
from reportgen.analyze.trace_stacks import StackTable
from reportgen.analyze.trace_transitions import (Grouped, Reasons, Transitions, event_types,
                                                 first_per_run, unique_rows)
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


class WaitRecorder:
    """How long each goroutine waits with each reason on each stack, fed a generation's
    Transitions at a time: {(goroutine, reason, StackTable ID): ns}.

    A wait stretch for a reason begins at the first transition into Waiting
    with that reason and ends at the next transition out of Waiting; it is
    charged to the stack of the event that began it.
    """

    def __init__(self, stacks: StackTable, reasons: Reasons | None = None):
        self.stacks = stacks
        self.reasons = reasons or Reasons()
        self.ns: dict = {}
        self._carry = Transitions.empty()  # the transitions that began the open stretches

    def feed(self, tr: Transitions):
        G = Grouped(self._carry, tr)
        if not G.n:
            return
        run, closer = G.state_runs()
        rows = np.flatnonzero(G.state == S.GO_WAITING)
        begin = first_per_run(run, rows, sub_rows=G.take("reason", rows))
        end = closer[run[begin]]
        done = end >= 0
        self._carry = G.rows(begin[~done])
        b, e = begin[done], end[done]
        if not len(b):
            return
        uniq, inv = unique_rows(G.gid[b], G.take("reason", b), G.take("stack", b))
        total = np.zeros(len(uniq[0]), dtype=np.int64)
        np.add.at(total, inv, G.take("time", e) - G.take("time", b))
        ns = self.ns
        names = self.reasons.names
        for gid, r, sid, dt in zip(*(u.tolist() for u in uniq), total.tolist()):
            k = (gid, names[r], sid)
            ns[k] = ns.get(k, 0) + dt


def wait_site(waits: WaitRecorder, gids: set, reason: str, total_ns: int):
    """The stack location where `gids` spend most time waiting with `reason`, or None.

    Each stretch is charged to the stack of the event that began it, at its
    first frame in the program's own code (else the first outside the runtime).
    """
    per: dict = {}
    for (gid, r, sid), ns in waits.ns.items():
        if r == reason and gid in gids:
            per[sid] = per.get(sid, 0) + ns
    if not per:
        return None
    sites: dict = {}
    for sid, ns in per.items():
        frames = waits.stacks.frames[sid]
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


def group_verdicts(groups, waits: WaitRecorder, limit: int = 3) -> list:
    """For the program's goroutine groups with the most time, where that time goes."""
    out = []
    # Not the runtime's goroutines, nor runtime/trace's own reader (the capture
    # itself): the answer is about the program.
    candidates = [g for g in groups
                  if g.start and not trace_goroutines.is_system_goroutine(g.start)
                  and not g.start.startswith("runtime/trace.")]
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
            site = wait_site(waits, {x.id for x in g.goroutines}, reason, ns)
        out.append(GroupVerdict(g.start, g.count, total, state, ns, site))
    return out


def analyze_trace(parsed, timeline: bool = True) -> TraceReport:
    """Every analysis of a ParsedTrace (sources.trace.reader); the timeline only when asked."""
    segments = [(parsed.events, True)]
    if len(parsed.all_events) > len(parsed.events):
        segments.append((parsed.all_events[len(parsed.events):], False))
    return analyze_stream(parsed, segments, timeline)


def analyze_stream(meta, segments, timeline: bool = True, heap: bool = True) -> TraceReport:
    """Every analysis of a trace read in segments (TraceStream.segments()).

    Each segment is consumed and dropped: the analyses keep per goroutine,
    per P and per stack state, the stretches the profiles and the timeline
    need as integer arrays, and the results, never the events, so memory
    follows the largest generation rather than the trace. `meta` gives
    version, error, size, valid_bytes, generations (read once the segments
    are used up). timeline / heap: make the timeline lanes / the heap series
    (only the page shows them).
    """
    summarizer = trace_goroutines.Summarizer()
    stacks = StackTable()
    reasons = Reasons()
    blocking = trace_profiles.BlockingRecorder(stacks, reasons)
    waits = WaitRecorder(stacks, reasons)
    gc_acc = trace_gc.GCAnalysis(heap)
    lanes = trace_timeline.SegmentRecorder(stacks, reasons) if timeline else None
    start = end = None
    n_events = 0
    kept = _Kept(meta)
    for events, complete in segments:
        summarizer.feed(events)
        if not complete or not events:
            kept.add(events, complete)
            continue
        typs = event_types(events)  # one pass over the events, shared
        kept.add(events, complete, typs)
        if start is None:
            start = events[0].time
        end = events[-1].time
        n_events += len(events)
        transitions = Transitions.of_events(events, stacks, reasons, typs)
        blocking.feed(transitions)
        waits.feed(transitions)
        gc_acc.feed(events, typs, transitions)
        if lanes is not None:
            lanes.feed(transitions)
        del transitions, events
    summary = summarizer.finish()
    groups = trace_goroutines.group_goroutines(summary)
    end = end or 0
    start = start or 0
    spans = trace_profiles.goroutine_intervals(summary, end)
    profiles, totals = {}, {}
    for kind, recs in blocking.records(spans).items():
        profiles[kind] = trace_profiles.build_pprof(recs)
        totals[kind] = (sum(r[1] for r in recs), sum(r[2] for r in recs))
    gc = gc_acc.report()
    regions = trace_regions.region_types(summary, start, end)
    tasks = trace_regions.task_types(summary, start, end)
    verdicts = group_verdicts(groups, waits)
    answers = [v.sentence() for v in verdicts[:1]]
    n, delay = totals["sched"]
    if n:
        running = sum(g.execution_ns for g in groups)
        answers.append(f"Goroutines wait {_dur(delay // n)} on average to be scheduled "
                       f"({_dur(delay)} waiting for a P in all, against {_dur(running)} running)"
                       + (": the CPU is saturated, more goroutines are runnable than Ps run them"
                          if delay > running else ""))
    if gc.duration_ns:
        answers.append(_gc_sentence(gc))
    return TraceReport(meta.version, gc.duration_ns, groups, summary, profiles, totals, gc,
                       regions, tasks, summary.logs, verdicts, answers, kept.note(meta),
                       kept.generations, n_events,
                       lanes.timeline(groups, start, end) if lanes is not None and n_events
                       else None)


class _Kept:
    """What of a trace the analyses kept, counted from the segments they are fed.

    A complete segment ends with a sync event (the one after its generation, or the
    closing one), so the complete generations are the syncs seen in complete segments,
    less one. The events of a generation cut short by an error come in a segment that
    is not complete: only the goroutine summary reads them (as go tool trace's does).
    The bytes kept are the reader's `valid_bytes` as it stood when it handed out the
    sync that opened the last complete generation (the reader reads a generation whole
    before that sync), so a generation that breaks off mid-way is counted as dropped
    even though its bytes were read. `meta` is a TraceStream read as the segments come,
    or a ParsedTrace, whose `valid_bytes` is final: when the reader counted more
    generations than were complete, that figure covers the broken one too and is
    not used.
    """

    def __init__(self, meta):
        self.meta = meta
        self.syncs = 0
        self.events = 0
        self.read_after = 0  # events of the broken generation, read before the error
        self._bytes_at = []  # (syncs so far, meta.valid_bytes) after each complete segment

    def add(self, events, complete: bool, typs=None):
        if not complete:
            self.read_after += len(events)
            return
        if typs is None:
            typs = event_types(events)
        self.syncs += int(np.count_nonzero(typs == S.EV_SYNC_EVENT))
        self.events += len(events)
        self._bytes_at.append((self.syncs, self.meta.valid_bytes))

    @property
    def generations(self) -> int:
        return max(0, self.syncs - 1)

    def kept_bytes(self) -> int | None:
        """How many bytes of the file the complete generations take (None: not known)."""
        from reportgen.sources.trace.wire import HEADER_SIZE

        k = self.generations
        if k == 0:
            return HEADER_SIZE
        if not hasattr(self.meta, "segments") and self.meta.generations != k:
            return None  # a ParsedTrace's final figure, covering the broken generation
        return min(next(b for n, b in self._bytes_at if n >= k), self.meta.size)

    def note(self, meta) -> str:
        """"" for a complete trace, else what was kept and dropped, and why."""
        if not meta.error:
            return ""
        kept = self.kept_bytes()
        text = (f"the trace breaks off: {meta.error}; kept {self.generations} complete "
                f"generation(s) ({self.events} events")
        text += (f", the first {kept} of {meta.size} bytes), dropped the remaining "
                 f"{meta.size - kept} bytes" if kept is not None else
                 f"), dropped what follows them of its {meta.size} bytes")
        if self.read_after:
            text += (f", of which {self.read_after} events were read before the error (only "
                     f"the goroutine breakdown counts them, as go tool trace's does)")
        return text


def _gc_sentence(gc) -> str:
    """The GC's stop-the-world share and CPU; pauses the GC did not ask for (start
    trace, read mem stats ...) said apart, not counted as the GC's."""
    own = [p for p in gc.pauses if p.gc]
    other = [p for p in gc.pauses if not p.gc]
    if gc.cycles or own:
        longest = max((p.duration_ns for p in own), default=0)
        text = (f"GC stop-the-world {gc.gc_stw_ns / gc.duration_ns:.1%} of wall time "
                f"({_count(len(own), 'pause')}, longest {_dur(longest)}); GC used "
                f"{gc.gc_cpu_fraction:.1%} of the CPU over {_count(len(gc.cycles), 'cycle')}")
    else:
        text = "No GC cycle in the trace"
    other_ns = sum(p.duration_ns for p in other)
    if other and (not own or other_ns / gc.duration_ns >= 0.0005):   # not "0.0%"
        kinds = ", ".join(sorted({p.kind for p in other}))
        share = other_ns / gc.duration_ns
        text += (f"; other stop-the-world pauses {share:.1%} of wall time "
                 f"({_count(len(other), 'pause')}: {kinds})")
    return text


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _dur(ns: int) -> str:
    for unit, div in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= div:
            return f"{ns / div:.3g} {unit}"
    return f"{ns} ns"


def run_trace(options: dict, profiles: dict, defaults: dict,
              max_decompressed: int | None = None) -> TraceReport:
    """The manifest's `trace` kind: read options["path"] and analyze it."""
    return analyze_trace_file(options["path"], timeline=options.get("timeline", True),
                              max_decompressed=max_decompressed)


def analyze_trace_file(path, timeline: bool = True, max_decompressed: int | None = None,
                       heap: bool = True) -> TraceReport:
    """analyze_trace of the file at `path` (gzip-compressed or not: read_trace_bytes),
    read a generation at a time (bounded memory).

    The cyclic garbage collector is paused meanwhile: the analyses make
    millions of short-lived, acyclic objects, and its full scans of them cost
    more than the analyses. Raises TraceError as load_trace.
    """
    import gc as _gc

    from reportgen.sources.trace import read_trace_bytes, stream_trace
    stream = stream_trace(path, read_trace_bytes(path, max_decompressed))
    was = _gc.isenabled()
    _gc.disable()
    try:
        return analyze_stream(stream, stream.segments(), timeline, heap)
    finally:
        if was:
            _gc.enable()
