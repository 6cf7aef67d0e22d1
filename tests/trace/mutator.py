"""A plain model of system-wide mutator utilization and its MMU, for the MMU differential test.

`utilization(events, go_rules)` replays a trace's events one at a time with
the rules of go tool trace's MMU page at its default options (Go 1.27
internal/trace gc.go MutatorUtilizationV2, flags stw|background|assist, not
per-P): at every event, 1 - (Ps with a GC activity) / GOMAXPROCS, or 0
while a GC stop-the-world range is open. `go_rules` picks one of two
readings of that rule, which differ in exactly these places:

- counting: with go_rules, a goroutine labelled as a GC worker once stays
  one for good, and a P's GC count goes up at every such label and at
  every start of a worker or of a goroutine in an assist, and down at every
  stop (Go's counters; the runtime writes the label right after a worker's
  GoStart, so each restart adds one that no stop takes away), on the P of
  the event (Go panics where that event has none: GoPanic). Without, a
  label holds until the goroutine stops running (real workers are labelled
  again at every start; the label can also land on another goroutine, e.g.
  the trace reader, that starts on a P with a worker pending), and a
  goroutine counts once, on the P where it started, while it runs
  (reportgen).
- the end: with go_rules, the closing (last event, 0) point is dropped when
  the utilization is already 0 (Go's addUtil keeps no unchanged point), so
  the function ends at its last change. Without, it ends at the last event.

`utilization_at(times, util, t)` is its value at t; `mmu(times, util,
window)` is the lowest mean of that step function over any window inside
it, by brute force over every window that has an edge on a step (a window
longer than the function is cut to its length, as Go's MMUCurve does).
Written for clarity, not speed, and independently of
reportgen/analyze/trace_gc.py, whose results the tests compare to it.
"""

from __future__ import annotations

from bisect import bisect_right
from itertools import accumulate

from reportgen.sources.trace import events as E
from reportgen.sources.trace import spec as S

_EXECUTING = (S.GO_RUNNING, S.GO_SYSCALL)


class GoPanic(Exception):
    """Go's reading indexes its per-P table with a P out of range here (a GC goroutine
    starting or stopping on an event with no P): go tool trace's MutatorUtilizationV2
    panics (index out of range [-1]) and its /mmu page fails."""


def _gc_stw(name: str) -> bool:
    return name.startswith("stop-the-world") and "GC" in name


def utilization(events, go_rules: bool, notes: set | None = None) -> tuple:
    """([times ns], [utilization]) of the step function; the last point marks its end.

    With go_rules, "negative" is added to `notes` when a P's count goes below 0 (a
    goroutine stopping on another P than the one it was counted on).
    """
    times: list = []
    utils: list = []

    def add(t, u):
        if utils and utils[-1] == u:
            return
        if times and times[-1] == t:
            utils[-1] = min(utils[-1], u)
            return
        times.append(t)
        utils.append(u)

    ps: list = []  # GC count per P
    procs: list = []  # (time, GOMAXPROCS)
    stw = n_sync = 0
    in_assist: set = set()
    workers: set = set()
    states: dict = {}
    counted: dict = {}  # goroutine -> the P it is counted on (reportgen's reading)

    def up(g, p):
        if go_rules:
            if not 0 <= p < len(ps):
                raise GoPanic(f"GC goroutine {g} starts with P {p}")
            ps[p] += 1
        elif g not in counted and 0 <= p < len(ps):
            counted[g] = p
            ps[p] += 1

    def down(g, p):
        if go_rules:
            if not 0 <= p < len(ps):
                raise GoPanic(f"GC goroutine {g} stops with P {p}")
            ps[p] -= 1
            if ps[p] < 0 and notes is not None:
                notes.add("negative")
        elif g in counted:
            ps[counted.pop(g)] -= 1

    for ev in events:
        kind = E.KIND[ev.typ]
        if kind == E.KIND_SYNC:
            n_sync = ev.args[0]
        elif ev.typ == S.EV_PROCS_CHANGE:
            n = ev.args[0]
            del ps[n:]
            for g in [g for g, p in counted.items() if p >= n]:
                del counted[g]
            while len(ps) < n:
                if not times:
                    times.append(ev.time)
                    utils.append(1.0)
                ps.append(0)
            if not procs or procs[-1][1] != n:
                procs.append((ev.time, n))
        if not ps:
            continue
        if kind == E.KIND_RANGE_ACTIVE and n_sync > 1:
            pass  # a range still open from an earlier generation: already known
        elif kind in (E.KIND_RANGE_ACTIVE, E.KIND_RANGE_BEGIN):
            name, _, sid = E.range_name(ev)
            if (kind == E.KIND_RANGE_ACTIVE and name == "GC mark assist"
                    and states.get(ev.g) in _EXECUTING):
                # an assist running since before the trace began: it had this P all along
                pi = 0
                for i, t in enumerate(times):
                    while pi + 1 < len(procs) and procs[pi + 1][0] < t:
                        pi += 1
                    utils[i] = max(0.0, utils[i] - 1.0 / procs[pi][1])
            if _gc_stw(name):
                stw += 1
            elif name == "GC mark assist":
                in_assist.add(sid)
                if go_rules or kind == E.KIND_RANGE_BEGIN or states.get(sid) in _EXECUTING:
                    up(sid, ev.p)
        elif kind == E.KIND_RANGE_END:
            name, _, sid = E.range_name(ev)
            if _gc_stw(name):
                stw -= 1
            elif name == "GC mark assist":
                down(sid, ev.p)
                in_assist.discard(sid)
        elif kind == E.KIND_STATE_TRANSITION:
            st = E.transition(ev)
            if st.resource == E.RESOURCE_GOROUTINE:
                if st.id in in_assist or st.id in workers:
                    was, now = st.old in _EXECUTING, st.new in _EXECUTING
                    if (not go_rules and st.id in workers and st.old == S.GO_RUNNING
                            and st.new != S.GO_RUNNING):
                        workers.discard(st.id)  # a label holds for one run
                        now = now and st.id in in_assist
                    if now and not was:
                        up(st.id, ev.p)
                    elif was and not now:
                        down(st.id, ev.p)
                states[st.id] = st.new
        elif kind == E.KIND_LABEL:
            label = ev.table.string(ev.args[0])
            if label.startswith("GC ") and label != "GC (idle)":
                workers.add(ev.g)
                up(ev.g, ev.p)
        busy = len(ps) if stw else sum(1 for c in ps if c > 0)
        add(ev.time, 1.0 - busy / len(ps))
    if not times:
        return [], []
    end = events[-1].time
    if go_rules or times[-1] == end:
        add(end, 0.0)
    else:
        times.append(end)
        utils.append(0.0)
    return times, utils


def utilization_at(times, utils, t) -> float:
    """The step function's value at time t (inside it)."""
    return utils[bisect_right(times, t) - 1]


def mmu(times, utils, window: int, go_bands: bool = False) -> float:
    """The lowest mean utilization over any `window`-long stretch of the function.

    With go_bands, also the windows Go's MMUCurve evaluates that reach past the
    function's end (counting that part as 0): it splits the function into
    min(1000, points) bands and evaluates a window at the left edge of each band
    it refines, even where that edge lies past the last window that fits.
    """
    span = times[-1] - times[0]
    window = min(window, span)
    area = [0.0] + list(accumulate((times[i + 1] - times[i]) * utils[i]
                                   for i in range(len(times) - 1)))

    def integral(t):  # from times[0] to t; 0 past the end (the last value)
        i = bisect_right(times, t) - 1
        if i >= len(times) - 1:
            return area[-1]
        return area[i] + (t - times[i]) * utils[i]

    starts = {times[0], times[-1] - window}
    starts.update(t for t in times if t + window <= times[-1])
    starts.update(t - window for t in times if t - window >= times[0])
    if go_bands and window > 0:
        n_bands = min(1000, len(times))
        band = max(1, (span + n_bands - 1) // n_bands)
        max_bands = (window + 2 * (band - 1)) // band
        starts.update(times[0] + i * band for i in range(n_bands + 2 - max_bands))
    return max(0.0, min((integral(s + window) - integral(s)) / window for s in starts))
