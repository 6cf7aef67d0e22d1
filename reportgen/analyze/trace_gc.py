"""GC in an execution trace: cycles, stop-the-world pauses, mutator utilization, MMU.

Mutator utilization follows Go's internal/trace gc.go MutatorUtilizationV2
with go tool trace's default MMU options (system view; STW, background
mark workers and mark assists count as GC, sweeping does not): at every
event the share of Ps free for the program, 0 during a GC stop-the-world.
The MMU for a window w is the lowest mean utilization over any w-long
stretch, computed exactly on that step function (the minimum of a step
function's window mean lies where a window edge meets a step).

Deliberate differences from Go, all checked against go tool trace by
tests/test_trace_mmu_differential.py (tests/trace/mutator.py models both
readings):

- The runtime labels a mark worker right after every GoStart, and Go
  counts both the start and the label but the stop once, so each P a
  worker restarts on (from its second start on) stays "in GC" for good;
  here a running worker counts once, from its label to its stop.
- Go keeps a labelled goroutine a worker for good, but the runtime labels
  whatever starts on a P that has a worker pending (seen: runtime/trace's
  reader goroutine, whose write syscall can then end with no P, where Go
  indexes P -1 and its MMU page fails). Here a label counts for one run,
  and a goroutine is uncounted on the P it was counted on.
- Go closes the function with a (last event, 0) point that its addUtil
  drops when the utilization is already 0. Once the double count has left
  every P "in GC" (often within the first tens of milliseconds), Go's
  function therefore ends there, and its MMU covers only that prefix: a
  later stop-the-world pause is not seen (a 5 ms window inside a 5.4 ms
  pause reads 0 here and more in go tool trace), and a window longer than
  the prefix is cut to it. Here the function always ends at the last event.
- Go's MMUCurve evaluates a window at the left edge of each band it refines
  without clamping it to the last start that fits, so it can count a window
  that overhangs the function's end (the overhang as 0) and read a little
  low. Here every window lies inside the function.
"""

from __future__ import annotations

from array import array
from operator import attrgetter, itemgetter
from dataclasses import dataclass, field

import numpy as np

from reportgen.sources.trace import events as E
from reportgen.sources.trace import spec as S


@dataclass
class Pause:
    start_ns: int  # from the trace start
    duration_ns: int
    kind: str  # the runtime's stop-the-world reason ("GC sweep termination" ...)
    gc: bool


@dataclass
class GCCycle:
    start_ns: int
    duration_ns: int  # concurrent mark phase, GCBegin to GCEnd


@dataclass
class GCReport:
    """All times in nanoseconds; starts are relative to the trace start."""
    duration_ns: int
    cycles: list = field(default_factory=list)
    pauses: list = field(default_factory=list)
    gc_cpu_fraction: float = 0.0  # 1 - mean mutator utilization
    mmu: list = field(default_factory=list)  # [(window ns, utilization 0..1)]
    heap: list = field(default_factory=list)  # [(ns, heap live bytes)]
    heap_goal: list = field(default_factory=list)

    @property
    def stw_ns(self) -> int:
        return sum(p.duration_ns for p in self.pauses)

    @property
    def gc_stw_ns(self) -> int:
        return sum(p.duration_ns for p in self.pauses if p.gc)

    def as_dict(self) -> dict:
        durations = sorted(p.duration_ns for p in self.pauses)
        return {
            "duration_ns": self.duration_ns,
            "cycles": len(self.cycles),
            "cycle_list": [{"start_ns": c.start_ns, "duration_ns": c.duration_ns}
                           for c in self.cycles],
            "stw_pauses": len(self.pauses),
            "stw_ns": self.stw_ns,
            "gc_stw_ns": self.gc_stw_ns,
            "stw_max_ns": durations[-1] if durations else 0,
            "stw_fraction": self.stw_ns / self.duration_ns if self.duration_ns else 0.0,
            "pauses": [{"start_ns": p.start_ns, "duration_ns": p.duration_ns, "kind": p.kind,
                        "gc": p.gc} for p in self.pauses],
            "gc_cpu_fraction": self.gc_cpu_fraction,
            "mmu": [{"window_ns": w, "utilization": u} for w, u in self.mmu],
        }


# the event types behind the cycle, pause and heap tables
_TABLE_TYPES = frozenset((S.EV_GC_BEGIN, S.EV_GC_ACTIVE, S.EV_GC_END, S.EV_STW_BEGIN,
                          S.EV_STW_END, S.EV_HEAP_ALLOC, S.EV_HEAP_GOAL))


# the event types that can change what GCAnalysis records, besides goroutine transitions
# and HeapAlloc (sweeping, logs, regions, P transitions ... cannot)
_GC_EVENT = np.zeros(256, dtype=bool)
_GC_EVENT[[S.EV_GC_BEGIN, S.EV_GC_ACTIVE, S.EV_GC_END, S.EV_STW_BEGIN, S.EV_STW_END,
           S.EV_HEAP_GOAL, S.EV_PROCS_CHANGE, S.EV_SYNC_EVENT, S.EV_GC_MARK_ASSIST_BEGIN,
           S.EV_GC_MARK_ASSIST_END, S.EV_GC_MARK_ASSIST_ACTIVE, S.EV_GO_LABEL]] = True
# ... and those that can make a goroutine a GC goroutine (ev.g; an active assist's args[0])
_MAYBE_GC = [t in (S.EV_GC_MARK_ASSIST_BEGIN, S.EV_GC_MARK_ASSIST_END,
                   S.EV_GC_MARK_ASSIST_ACTIVE, S.EV_GO_LABEL) for t in range(256)]


_time, _args, _first = attrgetter("time"), attrgetter("args"), itemgetter(0)


def _fits(ids: np.ndarray) -> bool:
    """Whether goroutine IDs can be keyed with an event index in one int64 (real ones can)."""
    return not len(ids) or (int(ids.min()) >= -1 and int(ids.max()) < 1 << 31)


def _ids(goroutines) -> np.ndarray:
    """Goroutine IDs as int64 (an ID past int64, only in a hostile trace, matches none)."""
    return np.array([g for g in goroutines if -1 << 63 <= g < 1 << 63], dtype=np.int64)


def _is_gc_stw(name: str) -> bool:
    return name.startswith("stop-the-world") and "GC" in name


def mutator_utilization(events) -> tuple:
    """(times ns, utilization) of the system-wide mutator utilization step function.

    Two numpy arrays: utilization[i] (0..1) holds from times[i] to times[i+1]; the
    last point is the last event's time and marks the function's end. Empty arrays
    when no GOMAXPROCS was seen.
    """
    a = GCAnalysis()
    a.feed(events)
    return a.utilization()


class GCAnalysis:
    """GC cycles, stop-the-world pauses, heap metrics and mutator utilization, fed a
    generation's events at a time; report() -> GCReport. The utilization step function
    is kept as two compact arrays, the rest as per-P and per-goroutine state."""

    def __init__(self, heap: bool = True):
        self.keep_heap = heap  # the heap series (HeapAlloc/HeapGoal): only the page charts it
        self.out_t = array("q")
        self.out_u = array("d")
        self.stw = 0
        self.ps: list = []  # per P: count of GC activities running on it
        self.in_gc: set = set()
        self.bg_mark: set = set()  # GC workers labelled at their current start
        self.counted: dict = {}  # GC goroutine -> the P it is counted on
        self.states: dict = {}
        self.n_sync = 0
        self.procs: list = []  # [(time, gomaxprocs)]
        self.busy = 0  # Ps with a GC activity
        self.first = None  # the first and last event's time
        self.last = None
        self.cycles: list = []
        self.pauses: list = []  # (begin ns, end ns, name)
        self.heap: list = []  # (ns, bytes), absolute times
        self.heap_goal: list = []
        self._open_stw: dict = {}  # goroutine -> (begin ns, name)
        self._gc_start = None

    def feed(self, events, typs=None, transitions=None):
        """Take the next events in trace order (a generation, or all of them).

        With typs (trace_transitions.event_types(events)) and transitions (their
        Transitions.of_events, with `at`), only the events that can change what is
        recorded go through the loop below: the GC's own events (cycles, pauses,
        assists, labels, GOMAXPROCS, syncs, heap goal) and the transitions of
        goroutines that are, or in this feed may become, GC goroutines (mark assists,
        labelled workers). Every other event leaves the Ps' GC counts, the
        stop-the-world depth and so the utilization as they were, and after each
        event the last point of the utilization is its current value, so skipping
        them adds no point. The heap series is cut out by type, and the state each
        goroutine was last seen in (read at a GC event for an assist already running)
        is brought up to date from the columns at the end.
        """
        if not events:
            return
        if self.first is None:
            self.first = events[0].time
        if typs is None or transitions is None or transitions.at is None:
            self._loop(events)
        else:
            self._feed_columns(events, typs, transitions)
        self.last = events[-1].time

    def _feed_columns(self, events, typs, tr):
        rows = np.flatnonzero(_GC_EVENT[typs])
        picked = list(map(events.__getitem__, rows.tolist()))
        if self.keep_heap:
            heap = list(map(events.__getitem__,
                            np.flatnonzero(typs == S.EV_HEAP_ALLOC).tolist()))
            self.heap.extend(zip(map(_time, heap), map(_first, map(_args, heap))))
        if tr.n:
            mine = self._gc_transitions(picked, rows, tr)
            if len(mine):
                rows = np.union1d(rows, mine)
                picked = list(map(events.__getitem__, rows.tolist()))
        was = bool(self.ps)
        toggles = self._loop(picked, heap=False)
        if not tr.n:
            return
        # each goroutine's last state, from its transitions made while some P existed
        seen = np.full(tr.n, was)
        for t, now in toggles:
            if now != was:  # GOMAXPROCS changes often; whether a P exists, hardly ever
                seen[tr.time > t] = was = now
        by = tr.by_gid()  # by goroutine, in trace order within one (shared with the recorders)
        if not seen.all():
            by = by[seen[by]]
        if len(by):
            g = tr.gid[by]
            last = by[np.flatnonzero(np.append(g[1:] != g[:-1], True))]
            self.states.update(zip(tr.gid[last].tolist(), tr.state[last].tolist()))

    def _gc_transitions(self, picked, rows, tr) -> np.ndarray:
        """Event indices of the transitions that may change a P's GC count: those of a
        goroutine inside a mark assist (from its begin to its end, or since before this
        feed), and every transition of a goroutine labelled here or a worker already,
        or named by an assist already running (whose state the loop reads)."""
        whole = set(self.bg_mark)
        assist_at, assist_g, assist_open = [], [], []
        for i, ev in zip(rows.tolist(), picked):
            typ = ev.typ
            if typ == S.EV_GO_LABEL:
                whole.add(ev.g)
            elif typ == S.EV_GC_MARK_ASSIST_ACTIVE:
                whole.add(ev.g)
                whole.add(ev.args[0])
            elif typ == S.EV_GC_MARK_ASSIST_BEGIN or typ == S.EV_GC_MARK_ASSIST_END:
                assist_at.append(i)
                assist_g.append(ev.g)
                assist_open.append(typ == S.EV_GC_MARK_ASSIST_BEGIN)
        out = [tr.at[np.isin(tr.gid, _ids(whole))]]
        carried = _ids(self.in_gc)
        g = np.concatenate((_ids(assist_g), carried))
        if len(g) != len(assist_g) + len(self.in_gc) or not _fits(g) or not _fits(tr.gid):
            # IDs past 2^31 (a hostile trace): every transition of an assisting goroutine
            out.append(tr.at[np.isin(tr.gid, g)])
        elif len(g):
            # each transition is in if its goroutine's last assist event before it began one
            # (one still assisting when this feed began: as if it began before it); keyed
            # (goroutine, event index + 1) in one int64, carried assists at index 0
            at = np.concatenate((np.array(assist_at, dtype=np.int64) + 1,
                                 np.zeros(len(carried), dtype=np.int64)))
            opens = np.concatenate((np.array(assist_open, dtype=bool),
                                    np.ones(len(carried), dtype=bool)))
            keys = (g << 32) | at
            order = np.argsort(keys, kind="stable")
            keys, g, opens = keys[order], g[order], opens[order]
            i = np.searchsorted(keys, (tr.gid << 32) | (tr.at + 1), side="right") - 1
            j = np.maximum(i, 0)
            inside = (i >= 0) & (g[j] == tr.gid) & opens[j]
            out.append(tr.at[inside])
        return np.concatenate(out)

    def _loop(self, events, heap: bool = True) -> list:
        """The definition: every event in turn. Returns [(time, whether a P exists)] at
        each GOMAXPROCS change."""
        transition, range_name = E.transition, E.range_name
        # module constants as locals: the loop below runs once per event
        (_KIND, _KIND_LABEL, _KIND_RANGE_ACTIVE, _KIND_RANGE_BEGIN, _KIND_RANGE_END,
         _KIND_STATE_TRANSITION, _KIND_SYNC, _RESOURCE_GOROUTINE, _EV_GC_ACTIVE,
         _EV_GC_BEGIN, _EV_GC_END, _EV_HEAP_ALLOC, _EV_HEAP_GOAL, _EV_PROCS_CHANGE,
         _EV_STW_BEGIN, _EV_STW_END, _GO_RUNNING, _GO_SYSCALL, _GO_UNDETERMINED) = (E.KIND,
         E.KIND_LABEL, E.KIND_RANGE_ACTIVE, E.KIND_RANGE_BEGIN, E.KIND_RANGE_END,
         E.KIND_STATE_TRANSITION, E.KIND_SYNC, E.RESOURCE_GOROUTINE, S.EV_GC_ACTIVE,
         S.EV_GC_BEGIN, S.EV_GC_END, S.EV_HEAP_ALLOC, S.EV_HEAP_GOAL, S.EV_PROCS_CHANGE,
         S.EV_STW_BEGIN, S.EV_STW_END, S.GO_RUNNING, S.GO_SYSCALL, S.GO_UNDETERMINED)
        out_t, out_u = self.out_t, self.out_u
        toggles = []
        ps = self.ps
        in_gc, bg_mark, counted, states, procs = (self.in_gc, self.bg_mark, self.counted,
                                                  self.states, self.procs)
        stw, n_sync, busy = self.stw, self.n_sync, self.busy
        open_stw = self._open_stw
        gc_start = self._gc_start
        t0 = self.first
        KIND = _KIND
        table_types = _TABLE_TYPES
        for ev in events:
            typ = ev.typ
            kind = KIND[typ]
            if kind == _KIND_STATE_TRANSITION:  # the most frequent: first
                if not ps:
                    continue
                st = ev.st or transition(ev)
                if st.resource == _RESOURCE_GOROUTINE:
                    g = st.id
                    if g in in_gc or g in bg_mark:
                        was = st.old in (_GO_RUNNING, _GO_SYSCALL)
                        now = st.new in (_GO_RUNNING, _GO_SYSCALL)
                        if g in bg_mark and st.old == _GO_RUNNING and st.new != _GO_RUNNING:
                            # A worker's run ends: the runtime labels it again at its next
                            # start, and a label can also land on a goroutine that starts
                            # on a P with a worker pending (the trace reader), so a label
                            # counts for one run only.
                            bg_mark.discard(g)
                            now = now and g in in_gc
                        if not was and now and g not in counted and 0 <= ev.p < len(ps):
                            old = ps[ev.p]
                            ps[ev.p] = old + 1
                            busy += (old + 1 > 0) - (old > 0)
                            counted[g] = ev.p
                        elif was and not now and g in counted:
                            p = counted.pop(g)
                            old = ps[p]
                            ps[p] = old - 1
                            busy += (old - 1 > 0) - (old > 0)
                    states[g] = st.new
            else:
                # cycles, pauses and heap metrics (the GC page's tables)
                if typ not in table_types:
                    pass
                elif typ == _EV_GC_BEGIN or (typ == _EV_GC_ACTIVE and gc_start is None):
                    gc_start = ev.time if typ == _EV_GC_BEGIN else t0
                elif typ == _EV_GC_END and gc_start is not None:
                    self.cycles.append(GCCycle(gc_start - t0, ev.time - gc_start))
                    gc_start = None
                elif typ == _EV_STW_BEGIN:
                    open_stw[ev.g] = (ev.time, range_name(ev)[0])
                elif typ == _EV_STW_END:
                    b = open_stw.pop(ev.g, None)
                    if b is not None:
                        self.pauses.append((b[0], ev.time, b[1]))
                elif typ == _EV_HEAP_ALLOC:
                    if heap and self.keep_heap:
                        self.heap.append((ev.time, ev.args[0]))
                elif typ == _EV_HEAP_GOAL:
                    if self.keep_heap:
                        self.heap_goal.append((ev.time, ev.args[0]))
                # mutator utilization
                if kind == _KIND_SYNC:
                    n_sync = ev.args[0]
                elif typ == _EV_PROCS_CHANGE:
                    n = ev.args[0]
                    if len(ps) > n:
                        del ps[n:]
                        for g in [g for g, p in counted.items() if p >= n]:
                            del counted[g]  # its P is gone
                    while len(ps) < n:
                        if not out_t:
                            out_t.append(ev.time)
                            out_u.append(1.0)
                        ps.append(0)
                    busy = sum(1 for c in ps if c > 0)
                    if not procs or procs[-1][1] != n:
                        procs.append((ev.time, n))
                    toggles.append((ev.time, bool(ps)))
                if not ps:
                    continue
                if kind == _KIND_RANGE_ACTIVE or kind == _KIND_RANGE_BEGIN:
                    name, scope, sid = range_name(ev)
                    if (kind == _KIND_RANGE_ACTIVE and n_sync <= 1 and name == "GC mark assist"
                            and states.get(ev.g, _GO_UNDETERMINED) in (_GO_RUNNING,
                                                                        _GO_SYSCALL)):
                        # an assist already running when the trace began: take it off
                        # everything so far
                        pi = 0
                        for mi in range(len(out_t)):
                            while pi < len(procs) - 1 and procs[pi + 1][0] < out_t[mi]:
                                pi += 1
                            out_u[mi] = max(0.0, out_u[mi] - 1.0 / procs[pi][1])
                    if _is_gc_stw(name):
                        stw += 1
                    elif name == "GC mark assist":
                        in_gc.add(sid)
                        running = kind == _KIND_RANGE_BEGIN or \
                            states.get(sid) in (_GO_RUNNING, _GO_SYSCALL)
                        if running and sid not in counted and 0 <= ev.p < len(ps):
                            old = ps[ev.p]
                            ps[ev.p] = old + 1
                            busy += (old + 1 > 0) - (old > 0)
                            counted[sid] = ev.p
                elif kind == _KIND_RANGE_END:
                    name, scope, sid = range_name(ev)
                    if _is_gc_stw(name):
                        stw -= 1
                    elif name == "GC mark assist":
                        if sid in counted:
                            p = counted.pop(sid)
                            old = ps[p]
                            ps[p] = old - 1
                            busy += (old - 1 > 0) - (old > 0)
                        in_gc.discard(sid)
                elif kind == _KIND_LABEL:
                    label = ev.table.string(ev.args[0])
                    if label.startswith("GC ") and label != "GC (idle)":
                        bg_mark.add(ev.g)
                        if ev.g not in counted and 0 <= ev.p < len(ps):
                            old = ps[ev.p]
                            ps[ev.p] = old + 1
                            busy += (old + 1 > 0) - (old > 0)
                            counted[ev.g] = ev.p
            u = 1.0 - (len(ps) if stw > 0 else busy) / len(ps)
            if out_u:
                if u == out_u[-1]:
                    continue
                if ev.time == out_t[-1]:
                    if u < out_u[-1]:
                        out_u[-1] = u
                    continue
            out_t.append(ev.time)
            out_u.append(u)
        self.stw, self.n_sync, self.busy = stw, n_sync, busy
        self._gc_start = gc_start
        return toggles

    def utilization(self) -> tuple:
        """(times ns, utilization) of everything fed (mutator_utilization)."""
        if self.last is None or not self.out_t:
            return np.zeros(0, np.int64), np.zeros(0)
        t = np.frombuffer(self.out_t, dtype=np.int64).copy()
        u = np.frombuffer(self.out_u, dtype=np.float64).copy()
        # The closing step marks where the trace ends, always. (Go's add(last, 0) is a
        # no-op when the utilization is already 0, so its function then ends at the
        # last change and a trailing stretch at 0 falls out of every window.)
        if t[-1] == self.last:
            u[-1] = 0.0
        else:
            t = np.append(t, self.last)
            u = np.append(u, 0.0)
        return t, u

    def report(self) -> GCReport:
        """The GCReport of everything fed (gc_report)."""
        if self.first is None:
            return GCReport(0)
        t0 = self.first
        rep = GCReport(self.last - t0)
        rep.cycles = self.cycles
        for b, e, name in self.pauses:
            rep.pauses.append(Pause(b - t0, e - b, name[len("stop-the-world ("):-1],
                                    _is_gc_stw(name)))
        rep.heap = [(t - t0, v) for t, v in self.heap]
        rep.heap_goal = [(t - t0, v) for t, v in self.heap_goal]
        times, util = self.utilization()
        if len(times) >= 2 and times[-1] > times[0]:
            area = float(np.sum(np.diff(times) * util[:-1]))
            rep.gc_cpu_fraction = max(0.0, 1.0 - area / float(times[-1] - times[0]))
            rep.mmu = mmu_curve(times, util, default_windows(int(times[-1] - times[0])))
        return rep


def mmu_curve(times, util, windows) -> list:
    """[(window, MMU)]: the lowest mean utilization over any window of each length (ns)."""
    if len(times) < 2:
        return []
    t0, t1 = int(times[0]), int(times[-1])
    dur = t1 - t0
    # F(t): integral of utilization from t0, piecewise linear between steps
    seg = np.diff(times).astype(np.float64) * util[:-1]
    F = np.concatenate(([0.0], np.cumsum(seg)))
    tf = times.astype(np.float64)
    out = []
    for w in windows:
        if w <= 0:
            continue
        if w >= dur:
            out.append((int(w), float(F[-1] / dur) if dur else 1.0))
            continue
        starts = np.concatenate((tf, tf - w))
        starts = starts[(starts >= t0) & (starts <= t1 - w)]
        starts = np.concatenate((starts, [t0, t1 - w]))
        vals = (np.interp(starts + w, tf, F) - np.interp(starts, tf, F)) / w
        out.append((int(w), float(max(0.0, min(1.0, vals.min())))))
    return out


def default_windows(duration_ns: int) -> list:
    """Window sizes from 1 µs up to the trace's length, three per decade."""
    out = []
    w = 1000
    while w < duration_ns:
        for f in (1, 2, 5):
            if w * f < duration_ns:
                out.append(w * f)
        w *= 10
    if duration_ns > 0:
        out.append(duration_ns)
    return out


def gc_report(events) -> GCReport:
    """Cycles, pauses, GC CPU fraction and the MMU curve of an event list."""
    a = GCAnalysis()
    a.feed(events)
    return a.report()
