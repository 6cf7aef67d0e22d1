"""Goroutine analysis of an execution trace, as `go tool trace`'s goroutine pages.

Mirrors Go's internal/trace summary.go (Summarizer) and cmd/trace
goroutines.go: per goroutine the non-overlapping breakdown of its time —
execution, scheduler wait, syscall execution, syscall block, block time per
reason, unknown — and its special ranges (GC mark assist, STW ...);
goroutines grouped by start function (the outermost frame of the first
stack seen for them) with count and total execution time. All times are
integer nanoseconds. User regions and tasks are collected on the way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reportgen.sources.trace import events as E
from reportgen.sources.trace import spec as S


@dataclass(slots=True)
class ExecStats:
    exec_ns: int = 0
    sched_wait_ns: int = 0
    block_ns: dict = field(default_factory=dict)  # reason -> ns
    syscall_ns: int = 0
    syscall_block_ns: int = 0
    total_ns: int = 0
    range_ns: dict = field(default_factory=dict)  # range name -> ns

    def clone(self):
        return ExecStats(self.exec_ns, self.sched_wait_ns, dict(self.block_ns), self.syscall_ns,
                         self.syscall_block_ns, self.total_ns, dict(self.range_ns))

    def sub(self, v: "ExecStats") -> "ExecStats":
        r = self.clone()
        r.exec_ns -= v.exec_ns
        r.sched_wait_ns -= v.sched_wait_ns
        for k in self.block_ns:
            r.block_ns[k] -= v.block_ns.get(k, 0)
        r.syscall_ns -= v.syscall_ns
        r.syscall_block_ns -= v.syscall_block_ns
        r.total_ns -= v.total_ns
        for k in self.range_ns:
            r.range_ns[k] -= v.range_ns.get(k, 0)
        return r

    @property
    def unknown_ns(self) -> int:
        """UnknownTime: what the parts do not cover, never negative."""
        s = (self.exec_ns + self.sched_wait_ns + self.syscall_ns + self.syscall_block_ns
             + sum(self.block_ns.values()))
        return self.total_ns - s if s < self.total_ns else 0

    def non_overlapping(self) -> dict:
        """NonOverlappingStats: go tool trace's breakdown column names -> ns."""
        out = {"Execution time": self.exec_ns, "Sched wait time": self.sched_wait_ns,
               "Syscall execution time": self.syscall_ns,
               "Block time (syscall)": self.syscall_block_ns, "Unknown time": self.unknown_ns}
        for reason, dt in self.block_ns.items():
            key = "Block time (" + reason + ")"
            out[key] = out.get(key, 0) + dt
        return out


@dataclass(slots=True)
class RegionSummary:
    task: int
    name: str
    start_ns: int | None  # None: began before the trace
    end_ns: int | None  # None: still open at the end
    goroutine: int
    stats: ExecStats
    # the stand-in a goroutine created inside a region gets for the creator's task
    # (summary.go's fake region description), not a region of the program's own
    inherited: bool = False


@dataclass(slots=True)
class GoroutineSummary:
    id: int
    name: str = ""
    pc: int = 0
    creation_ns: int = 0
    start_ns: int = 0  # first time it ran; 0 if never
    end_ns: int = 0  # when it exited; 0 if it did not
    stats: ExecStats = field(default_factory=ExecStats)
    regions: list = field(default_factory=list)
    # pending state while events are fed (summary.go goroutineSummary)
    _start: int = 0
    _runnable: int = 0
    _block: int = 0
    _block_reason: str = ""
    _syscall: int = 0
    _syscall_block: int = 0
    _ranges: dict = field(default_factory=dict)
    _active_regions: list = field(default_factory=list)
    _final: bool = False

    def snapshot(self, last: int) -> ExecStats:
        r = self.stats.clone()
        if self._final:
            return r
        if self.stats.total_ns == 0:
            r.total_ns = last - self.creation_ns
        if self._start:
            r.exec_ns += last - self._start
        if self._runnable:
            r.sched_wait_ns += last - self._runnable
        if self._block:
            reason = self._block_reason
            r.block_ns[reason] = r.block_ns.get(reason, 0) + last - self._block
        if self._syscall:
            r.syscall_ns += last - self._syscall
        if self._syscall_block:
            r.sched_wait_ns += last - self._syscall_block
        for name, ts in self._ranges.items():
            r.range_ns[name] = r.range_ns.get(name, 0) + last - ts
        return r

    def finalize(self, last: int, trigger_ns: int | None):
        if trigger_ns is not None:
            self.end_ns = trigger_ns
        final = self.snapshot(last)
        self.stats = final
        if not is_system_goroutine(self.name):
            for r in self._active_regions:
                r.end_ns = trigger_ns
                r.stats = final.sub(r.stats)
                self.regions.append(r)
        self._start = self._runnable = self._block = self._syscall = self._syscall_block = 0
        self._block_reason = ""
        self._ranges = {}
        self._active_regions = []
        self._final = True


_EV_GC_SWEEP_BEGIN = S.EV_GC_SWEEP_BEGIN
_SWEEP = frozenset((S.EV_GC_SWEEP_BEGIN, S.EV_GC_SWEEP_END))
_SWEEP_NAME = "GC incremental sweep"  # range_name of both


def is_system_goroutine(entry: str) -> bool:
    """IsSystemGoroutine: runtime.* start functions other than runtime.main."""
    return entry == "" or (entry != "runtime.main" and entry.startswith("runtime."))


@dataclass(slots=True)
class TaskSummary:
    id: int
    name: str = ""
    parent: int | None = None
    start_ns: int | None = None
    end_ns: int | None = None
    logs: list = field(default_factory=list)  # (ns, goroutine, category, message)
    regions: list = field(default_factory=list)
    goroutines: set = field(default_factory=set)


@dataclass(slots=True)
class Summary:
    goroutines: dict  # id -> GoroutineSummary
    tasks: dict  # id -> TaskSummary
    logs: list  # (ns, goroutine, task, category, message), in order


def summarize(events) -> Summary:
    """Summarizer.Event over the events, then Finalize."""
    s = Summarizer()
    s.feed(events)
    return s.finish()


class Summarizer:
    """summary.go's Summarizer fed a generation at a time: feed(events) as often as needed,
    then finish() -> Summary. Keeps per goroutine and task state only, no events."""

    def __init__(self):
        self.gs: dict = {}
        self.tasks: dict = {}
        self.logs: list = []
        self.syscalling_p: dict = {}
        self.syscalling_g: dict = {}
        self.ranges_p: dict = {}
        self.last = 0
        self.sync_ts = 0

    def _task(self, tid):
        t = self.tasks.get(tid)
        if t is None:
            t = self.tasks[tid] = TaskSummary(tid)
        return t

    def feed(self, events):
        transition, range_name = E.transition, E.range_name
        # module constants as locals: the loop below runs once per event
        (_KIND, _KIND_LOG, _KIND_RANGE_ACTIVE, _KIND_RANGE_BEGIN, _KIND_RANGE_END,
         _KIND_REGION_BEGIN, _KIND_REGION_END, _KIND_STATE_TRANSITION, _KIND_SYNC,
         _KIND_TASK_BEGIN, _KIND_TASK_END, _RESOURCE_GOROUTINE, _RESOURCE_PROC,
         _EV_USER_TASK_BEGIN, _GO_NOT_EXIST, _GO_RUNNABLE, _GO_RUNNING, _GO_SYSCALL,
         _GO_UNDETERMINED, _GO_WAITING, _NO_ID, _NO_TASK, _PROC_IDLE) = (E.KIND, E.KIND_LOG,
         E.KIND_RANGE_ACTIVE, E.KIND_RANGE_BEGIN, E.KIND_RANGE_END, E.KIND_REGION_BEGIN,
         E.KIND_REGION_END, E.KIND_STATE_TRANSITION, E.KIND_SYNC, E.KIND_TASK_BEGIN,
         E.KIND_TASK_END, E.RESOURCE_GOROUTINE, E.RESOURCE_PROC, S.EV_USER_TASK_BEGIN,
         S.GO_NOT_EXIST, S.GO_RUNNABLE, S.GO_RUNNING, S.GO_SYSCALL, S.GO_UNDETERMINED,
         S.GO_WAITING, S.NO_ID, S.NO_TASK, S.PROC_IDLE)
        gs = self.gs
        logs = self.logs
        syscalling_p = self.syscalling_p
        syscalling_g = self.syscalling_g
        ranges_p = self.ranges_p
        last = self.last
        sync_ts = self.sync_ts
        task = self._task
        sweep = _SWEEP
        for ev in events:
            t = ev.time
            if sync_ts == 0:
                sync_ts = t
            typ = ev.typ
            kind = _KIND[typ]
            if kind == _KIND_STATE_TRANSITION:  # the most frequent first
                resource, gid, old, new, reason, stack_id = ev.st or transition(ev)
                if resource == _RESOURCE_GOROUTINE:
                    if old == new:
                        continue
                    g = gs.get(gid)
                    if old == _GO_RUNNING:
                        g.stats.exec_ns += t - g._start
                        g._start = 0
                    elif old == _GO_RUNNABLE:
                        if g._runnable:
                            g.stats.sched_wait_ns += t - g._runnable
                            g._runnable = 0
                    elif old == _GO_WAITING:
                        if g._block:
                            r = g._block_reason
                            g.stats.block_ns[r] = g.stats.block_ns.get(r, 0) + t - g._block
                            g._block = 0
                    elif old == _GO_SYSCALL:
                        if g._syscall:
                            if g._syscall_block:
                                g.stats.syscall_block_ns += t - g._syscall_block
                                g.stats.syscall_ns += g._syscall_block - g._syscall
                            else:
                                g.stats.syscall_ns += t - g._syscall
                            g._syscall = 0
                            g._syscall_block = 0
                            syscalling_p.pop(syscalling_g.get(gid, _NO_ID), None)
                            syscalling_g.pop(gid, None)
                    elif old == _GO_NOT_EXIST:
                        g = GoroutineSummary(gid, creation_ns=t)
                        creator = gs.get(ev.g)
                        if creator is not None and creator._active_regions:
                            r = creator._active_regions[-1]
                            g._active_regions = [RegionSummary(r.task, "", t, None, gid,
                                                               ExecStats(), True)]
                        gs[gid] = g
                    elif old == _GO_UNDETERMINED:
                        g = GoroutineSummary(gid, creation_ns=sync_ts)
                        d = t - sync_ts
                        if new == _GO_RUNNING:
                            g.stats.exec_ns += d
                        elif new == _GO_WAITING:
                            g.stats.block_ns[reason] = g.stats.block_ns.get(reason, 0) + d
                        elif new == _GO_RUNNABLE:
                            g.stats.sched_wait_ns += d
                        elif new == _GO_SYSCALL:
                            if ev.p == _NO_ID:
                                g.stats.syscall_block_ns += d
                            else:
                                g.stats.syscall_ns += d
                        gs[gid] = g
                    if stack_id and g.name == "":
                        frames = ev.table.frames(stack_id)
                        if frames:
                            g.pc, g.name = frames[-1][0], frames[-1][1]
                    if new == _GO_RUNNING:
                        g._start = t
                        if g.start_ns == 0:
                            g.start_ns = t
                    elif new == _GO_RUNNABLE:
                        g._runnable = t
                    elif new == _GO_WAITING:
                        if reason != "forever":
                            g._block = t
                            g._block_reason = reason
                        else:
                            g.finalize(t, t)
                    elif new == _GO_NOT_EXIST:
                        g.finalize(t, t)
                    elif new == _GO_SYSCALL:
                        syscalling_p[ev.p] = gid
                        syscalling_g[gid] = ev.p
                        g._syscall = t
                elif resource == _RESOURCE_PROC:
                    if old != new and new == _PROC_IDLE:
                        goid = syscalling_p.pop(gid, None)
                        if goid is not None:
                            gs[goid]._syscall_block = t
            elif typ in sweep:
                # GCSweepBegin/End, inline (a busy trace has hundreds of thousands): the
                # P-scoped range of range_name(ev), the only one, so ranges_p is keyed by
                # (P, its name) as below
                if typ == _EV_GC_SWEEP_BEGIN:
                    g = gs.get(ev.g)
                    if g is not None:
                        ranges_p[(ev.p, _SWEEP_NAME)] = ev.g
                        g._ranges[_SWEEP_NAME] = t
                else:
                    goid = ranges_p.pop((ev.p, _SWEEP_NAME), None)
                    if goid is not None and goid == ev.g:
                        g = gs.get(goid)
                        if g is not None:
                            ts = g._ranges.get(_SWEEP_NAME, 0)
                            if ts:
                                rn = g.stats.range_ns
                                rn[_SWEEP_NAME] = rn.get(_SWEEP_NAME, 0) + t - ts
                                del g._ranges[_SWEEP_NAME]
            elif kind == _KIND_SYNC:
                sync_ts = t
            elif kind == _KIND_RANGE_BEGIN or kind == _KIND_RANGE_ACTIVE:
                name, scope, sid = range_name(ev)
                g = None
                if scope == _RESOURCE_GOROUTINE:
                    g = gs.get(sid)
                elif scope == _RESOURCE_PROC:
                    g = gs.get(ev.g)
                    if g is not None:
                        ranges_p[(sid, name)] = ev.g
                if g is None:
                    continue
                if kind == _KIND_RANGE_ACTIVE:
                    ts = g._ranges.get(name, 0)
                    if ts:
                        g.stats.range_ns[name] = g.stats.range_ns.get(name, 0) + sync_ts - ts
                    g._ranges[name] = sync_ts
                else:
                    g._ranges[name] = t
            elif kind == _KIND_RANGE_END:
                name, scope, sid = range_name(ev)
                g = None
                if scope == _RESOURCE_GOROUTINE:
                    g = gs.get(sid)
                elif scope == _RESOURCE_PROC:
                    goid = ranges_p.pop((sid, name), None)
                    if goid is not None and goid == ev.g:
                        g = gs.get(goid)
                if g is None:
                    continue
                ts = g._ranges.get(name, 0)
                if ts == 0:
                    continue
                g.stats.range_ns[name] = g.stats.range_ns.get(name, 0) + t - ts
                del g._ranges[name]
            elif kind == _KIND_REGION_BEGIN:
                g = gs[ev.g]
                tid, rname = ev.args[0], ev.table.string(ev.args[1])
                region = RegionSummary(tid, rname, t, None, g.id, g.snapshot(t))
                g._active_regions.append(region)
                tk = task(tid)
                tk.regions.append(region)
                tk.goroutines.add(g.id)
            elif kind == _KIND_REGION_END:
                g = gs[ev.g]
                tid, rname = ev.args[0], ev.table.string(ev.args[1])
                if g._active_regions:
                    sd = g._active_regions.pop()
                else:
                    sd = RegionSummary(tid, rname, None, None, g.id, ExecStats())
                    tk = task(tid)
                    tk.goroutines.add(g.id)
                    tk.regions.append(sd)
                sd.stats = g.snapshot(t).sub(sd.stats)
                sd.end_ns = t
                g.regions.append(sd)
            elif kind == _KIND_TASK_BEGIN or kind == _KIND_TASK_END:
                a = ev.args
                if ev.typ == _EV_USER_TASK_BEGIN:
                    parent, tname = a[1], ev.table.string(a[2])
                else:
                    parent, tname = a[2], ev.table.extra_string(a[3])
                tk = task(a[0])
                tk.name = tname
                tk.goroutines.add(ev.g)
                if kind == _KIND_TASK_BEGIN:
                    tk.start_ns = t
                else:
                    tk.end_ns = t
                if parent != _NO_TASK and tk.parent is None:
                    task(parent)
                    tk.parent = parent
            elif kind == _KIND_LOG:
                a = ev.args
                tk = task(a[0])
                tk.goroutines.add(ev.g)
                entry = (t, ev.g, a[0], ev.table.string(a[1]), ev.table.string(a[2]))
                tk.logs.append(entry)
                logs.append(entry)
        self.last = events[-1].time if events else last
        self.sync_ts = sync_ts

    def finish(self) -> Summary:
        for g in self.gs.values():
            g.finalize(self.last, None)
            g.regions.sort(key=lambda r: (r.start_ns is not None, r.start_ns or 0))
        return Summary(self.gs, self.tasks, self.logs)


@dataclass(slots=True)
class GoroutineGroup:
    start: str  # start function as go tool trace shows it ("" : no stack sampled)
    count: int
    execution_ns: int
    goroutines: list  # GoroutineSummary, longest total first


def group_goroutines(summary: Summary) -> list:
    """Groups by start function, by total execution time descending (GoroutinesHandlerFunc).

    Ties are broken by name so the order is deterministic; within a group
    goroutines come by total time descending, then id (GoroutineHandler's order).
    """
    by_name: dict = {}
    for g in summary.goroutines.values():
        by_name.setdefault(g.name, []).append(g)
    groups = []
    for name, members in by_name.items():
        members.sort(key=lambda g: (-g.stats.total_ns, g.id))
        groups.append(GoroutineGroup(name, len(members), sum(g.stats.exec_ns for g in members),
                                     members))
    groups.sort(key=lambda gr: (-gr.execution_ns, gr.start))
    return groups


def goroutine_dict(g: GoroutineSummary) -> dict:
    """The JSON shape of one goroutine (nanosecond integers)."""
    s = g.stats
    block, ranges = s.block_ns, s.range_ns
    known = s.exec_ns + s.sched_wait_ns + s.syscall_ns + s.syscall_block_ns + sum(block.values())
    return {"id": g.id, "total_ns": s.total_ns, "execution_ns": s.exec_ns,
            "sched_wait_ns": s.sched_wait_ns, "syscall_ns": s.syscall_ns,
            "syscall_block_ns": s.syscall_block_ns,
            "block_ns": dict(sorted(block.items())) if len(block) > 1 else dict(block),
            "unknown_ns": s.total_ns - known if known < s.total_ns else 0,  # unknown_ns
            "range_ns": dict(sorted(ranges.items())) if len(ranges) > 1 else dict(ranges),
            "creation_ns": g.creation_ns, "start_ns": g.start_ns, "end_ns": g.end_ns}
