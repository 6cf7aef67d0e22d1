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

from reportgen.sources.trace import events as E
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


def goroutine_transitions(events) -> list:
    """[(event, Transition)] for every goroutine state change, in order."""
    KIND = E.KIND
    is_st = E.KIND_STATE_TRANSITION
    transition = E.transition
    out = []
    for ev in events:
        if KIND[ev.typ] == is_st:
            st = transition(ev)
            if st.resource == E.RESOURCE_GOROUTINE:
                out.append((ev, st))
    return out


def blocking_records(transitions, intervals: dict, kinds=PROFILE_KINDS) -> dict:
    """{kind: [(frames, count, delay_ns)]}; frames leaf first (pc, func, file, line).

    One pass of makeComputePprofFunc per kind over goroutine_transitions().
    Records whose stacks have the same PCs are one record (stackMap.getOrAdd),
    described by the latest such stack; order is by first appearance.
    """
    tracked = [(k,) + _TRACKED[k] for k in kinds]
    tracking = {k: {} for k in kinds}
    records = {k: {} for k in kinds}  # pcs -> [frames, count, delay, stack key]
    stack_pcs: dict = {}  # (table id, stack id) -> (pcs, frames)
    for ev, st in transitions:
        gid = st.id
        new = st.new
        for kind, state, wanted in tracked:
            tr = tracking[kind]
            start = tr.get(gid)
            if start is None:
                if new == state and wanted(st.reason):
                    tr[gid] = ev
                continue
            if new == state:
                continue
            del tr[gid]
            span = intervals.get(gid)
            if span is None:
                continue
            s0, s1 = start.time, ev.time
            if span[1] < s0 or s1 < span[0]:
                continue
            dt = min(span[1], s1) - max(span[0], s0)
            if dt <= 0:
                continue
            sid = start.stack_id()
            key = (id(start.table), sid)
            pcs = stack_pcs.get(key)
            if pcs is None:
                frames = start.table.frames(sid)[:PPROF_MAX_STACK] if sid else []
                # stackMap keys records by a zero-padded [128]uint64 of PCs: trailing zero
                # PCs do not tell stacks apart
                p = [f[0] for f in frames]
                while p and p[-1] == 0:
                    p.pop()
                pcs = stack_pcs[key] = (tuple(p), frames)
            recs = records[kind]
            rec = recs.get(pcs[0])
            if rec is None:
                rec = recs[pcs[0]] = [pcs[1], 0, 0, key]
            elif rec[3] != key:
                rec[0], rec[3] = pcs[1], key  # the latest stack with these PCs describes it
            rec[1] += 1
            rec[2] += dt
    return {k: [(r[0], r[1], r[2]) for r in records[k].values()] for k in kinds}


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


def blocking_profiles(parsed, summary) -> dict:
    """{kind: pprof bytes} for net, sync, syscall and sched (go tool trace -pprof=kind)."""
    events = parsed.events
    spans = goroutine_intervals(summary, events[-1].time if events else 0)
    recs = blocking_records(goroutine_transitions(events), spans)
    return {k: build_pprof(r) for k, r in recs.items()}


def profile_model(kind: str, data: bytes, path: str):
    """Our Profile model of one blocking profile (read back as any pprof file)."""
    from reportgen.sources.pprof import parse_pprof

    prof = parse_pprof(path, data)
    prof.kind = "trace"
    return prof


def gzipped(data: bytes) -> bytes:
    """gzip with a fixed mtime, so the same trace gives byte-identical files."""
    return gzip.compress(data, mtime=0)
