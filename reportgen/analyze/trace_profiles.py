"""The four blocking profiles of an execution trace (`go tool trace -pprof=...`).

Mirrors cmd/trace pprof.go and internal/trace/traceviewer BuildProfile:
for every goroutine, each stretch spent in one state — waiting on the
network (net), blocked on a channel, select or sync primitive (sync), in a
syscall (syscall), runnable but not running (sched) — counts as one
contention with its duration as delay, on the stack of the event that
began it, clipped to the goroutine's life [first run, exit or trace end].
The result is a pprof protobuf (sample types contentions/count and
delay/nanoseconds, one location per PC) and, read back, our Profile model.
"""

from __future__ import annotations

import gzip
import numpy as np

from reportgen.analyze.trace_stacks import StackTable
from reportgen.analyze.trace_transitions import (EMPTY, Grouped, Reasons, Transitions,
                                                 first_per_run)
from reportgen.sources.trace import spec as S

PROFILE_KINDS = ("net", "sync", "syscall", "sched")
PPROF_MAX_STACK = 128

# which state each profile tracks, and which wait reasons count (computePprofIO ...)
_TRACKED = {
    "net": (S.GO_WAITING, lambda r: r == "network"),
    "sync": (S.GO_WAITING, lambda r: "chan" in r or "sync" in r or "select" in r),
    "syscall": (S.GO_SYSCALL, lambda r: True),
    "sched": (S.GO_RUNNABLE, lambda r: True),
}

TITLES = {"net": "network wait", "sync": "synchronization blocking",
          "syscall": "syscall", "sched": "scheduler wait"}


def goroutine_intervals(summary, end_ns: int) -> dict:
    """pprofMatchingGoroutines with no name: goroutine -> (first run, exit or trace end)."""
    return {g.id: (g.start_ns, g.end_ns if g.end_ns else end_ns)
            for g in summary.goroutines.values()}


class BlockingRecorder:
    """The four blocking profiles' records, fed a generation's Transitions at a time.

    go tool trace's makeComputePprofFunc per kind: for each goroutine, a
    stretch of a kind begins at the first transition into the kind's state
    with a reason the kind counts, and ends at the next transition into any
    other state (a run of transitions into the same state is one stretch).
    Records whose stacks have the same PCs are one record
    (stackMap.getOrAdd), described by the latest such stack; order is by
    first appearance.

    Each finished stretch is kept as four integers (goroutine, begin, end,
    StackTable ID) per kind, in the order the stretches end; records() clips
    them to the goroutines' lives, known only once the whole trace is read,
    and merges them by stack. Stretches still open at the end of a feed are
    carried into the next as rows (trace_transitions.Grouped).
    """

    def __init__(self, stacks: StackTable, reasons: Reasons | None = None, kinds=PROFILE_KINDS):
        self.stacks = stacks
        self.reasons = reasons or Reasons()
        self.kinds = tuple(kinds)
        self._rows = {k: [] for k in self.kinds}  # arrays of (goroutine, begin, end, stack ID)
        # the transitions that began the stretches still open, in order
        self._carry = Transitions.empty()

    def feed(self, tr: Transitions):
        G = Grouped(self._carry, tr)
        if not G.n:
            return
        run, closer = G.state_runs()
        names = self.reasons.names
        still_open = []
        for kind in self.kinds:
            state, counts = _TRACKED[kind]
            want = np.fromiter(map(counts, names), dtype=bool, count=len(names))
            rows = np.flatnonzero(G.state == state)
            rows = rows[want[G.take("reason", rows)]]
            if not len(rows):
                continue
            begin = first_per_run(run, rows)  # the first transition of its run that counts
            end = closer[run[begin]]
            done = end >= 0
            still_open.append(begin[~done])
            b, e = begin[done], end[done]
            by_end = np.argsort(G.take("order", e), kind="stable")
            b, e = b[by_end], e[by_end]
            self._rows[kind].append(np.stack((G.gid[b], G.take("time", b), G.take("time", e),
                                              G.take("stack", b)), axis=1))
        self._carry = G.rows(np.unique(np.concatenate(still_open)) if still_open else EMPTY)

    def records(self, intervals: dict) -> dict:
        """{kind: [(frames, count, delay_ns)]}, frames leaf first (pc, func, file, line),
        with the goroutines' final (first run, exit or trace end) intervals."""
        n = len(intervals)
        keys = np.fromiter(intervals.keys(), dtype=np.int64, count=n)
        spans = np.array(list(intervals.values()), dtype=np.int64).reshape(n, 2)
        order = np.argsort(keys, kind="stable")
        keys, lo, hi = keys[order], spans[order, 0], spans[order, 1]
        frames = self.stacks.frames
        # stackMap keys records by a zero-padded [128]uint64 of PCs: trailing zero PCs do
        # not tell stacks apart
        pcs_ids: dict = {}
        pcs_of = np.empty(len(frames), dtype=np.int64)
        for i, fr in enumerate(frames):
            p = [f[0] for f in fr[:PPROF_MAX_STACK]]
            while p and p[-1] == 0:
                p.pop()
            pcs_of[i] = pcs_ids.setdefault(tuple(p), len(pcs_ids))
        out = {}
        for kind in self.kinds:
            rows = self._rows[kind]
            rows = np.concatenate(rows) if rows else np.zeros((0, 4), np.int64)
            g, s0, s1, sid = rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3]
            if not len(g) or not n:
                out[kind] = []
                continue
            at = np.minimum(np.searchsorted(keys, g), n - 1)
            a, b = lo[at], hi[at]
            dt = np.minimum(b, s1) - np.maximum(a, s0)
            ok = (keys[at] == g) & (b >= s0) & (s1 >= a) & (dt > 0)
            sel = np.flatnonzero(ok)
            pid = pcs_of[sid[sel]]
            uniq, first, inv = np.unique(pid, return_index=True, return_inverse=True)
            count = np.bincount(inv, minlength=len(uniq))
            delay = np.zeros(len(uniq), dtype=np.int64)
            np.add.at(delay, inv, dt[sel])
            # the latest stretch's stack describes the record
            last = len(sel) - 1 - np.unique(pid[::-1], return_index=True)[1]
            described = sid[sel][last]
            out[kind] = [(list(frames[described[j]][:PPROF_MAX_STACK]), int(count[j]),
                          int(delay[j])) for j in np.argsort(first, kind="stable")]
        return out


def build_pprof(records) -> bytes:
    """The pprof protobuf of BuildProfile(records) (uncompressed)."""
    from reportgen.proto import profile_pb2

    p = profile_pb2.Profile()
    strings = {"": 0}

    def sid(s):
        i = strings.get(s)
        if i is None:
            i = strings[s] = len(strings)
        return i

    p.period_type.type = sid("trace")
    p.period_type.unit = sid("count")
    p.period = 1
    for t, u in (("contentions", "count"), ("delay", "nanoseconds")):
        vt = p.sample_type.add()
        vt.type, vt.unit = sid(t), sid(u)
    locs: dict = {}
    funcs: dict = {}
    for frames, count, delay in records:
        sample = p.sample.add()
        for pc, func, file, line in frames:
            loc = locs.get(pc)
            if loc is None:
                fn = funcs.get((file, func))
                if fn is None:
                    f = p.function.add()
                    f.id = len(p.function)
                    f.name = f.system_name = sid(func)
                    f.filename = sid(file)
                    fn = funcs[(file, func)] = f.id
                lo = p.location.add()
                lo.id = len(p.location)
                lo.address = pc
                ln = lo.line.add()
                ln.function_id = fn
                ln.line = line
                loc = locs[pc] = lo.id
            sample.location_id.append(loc)
        sample.value.extend([count, delay])
    p.string_table.extend(strings)
    return p.SerializeToString()


def profile_model(kind: str, data: bytes, path: str):
    """Our Profile model of one blocking profile (read back as any pprof file)."""
    from reportgen.sources.pprof import parse_pprof

    prof = parse_pprof(path, data)
    prof.kind = "trace"
    return prof


def gzipped(data: bytes) -> bytes:
    """gzip with a fixed mtime, so the same trace gives byte-identical files."""
    return gzip.compress(data, mtime=0)
