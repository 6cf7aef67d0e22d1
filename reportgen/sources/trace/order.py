"""The ordering of per-thread events into one timeline that respects causality.

Mirrors Go's internal/trace order.go: each thread's batches are read in
order; an event may only advance when the goroutine, P and GC state it
acts on is in the state it expects (sequence numbers tie a GoStart to the
GoUnblock before it, a ProcStart to the ProcStop ...). An event that cannot
advance yet waits while another thread's event goes first. Advancing
returns False for "not yet" and raises TraceFormatError for a trace that
breaks the rules.
"""

from __future__ import annotations

from collections import deque

from reportgen.sources.trace import spec as S
from reportgen.sources.trace.events import Event
from reportgen.sources.trace.wire import TraceFormatError, signed

NO = S.NO_ID
MUST_NOT, MAY, MUST = 0, 1, 2
_NO_CTX = (NO, NO, NO)
_HALF, _FULL = 1 << 63, 1 << 64  # signed(): uint64 IDs as int64
_W_GO_RUNNABLE, _W_GO_RUNNING, _W_GO_WAITING = S.W_GO_RUNNABLE, S.W_GO_RUNNING, S.W_GO_WAITING
GC_UNDETERMINED, GC_NOT_RUNNING, GC_RUNNING = range(3)


class _G:
    __slots__ = ("id", "status", "gen", "seq", "regions", "ranges")

    def __init__(self, gid, status, gen):
        self.id = gid
        self.status = status
        self.gen = gen
        self.seq = 0
        self.regions = []
        self.ranges = []


class _P:
    __slots__ = ("id", "status", "gen", "seq", "ranges")

    def __init__(self, pid, status, gen):
        self.id = pid
        self.status = status
        self.gen = gen
        self.seq = 0
        self.ranges = []


class _M:
    __slots__ = ("g", "p")

    def __init__(self, g=NO, p=NO):
        self.g = g
        self.p = p


def _check(ctx, m, p, g):
    cm, cp, cg = ctx
    if m == MUST and cm == NO:
        raise TraceFormatError("expected a thread but didn't have one")
    if p == MUST and cp == NO:
        raise TraceFormatError("expected a proc but didn't have one")
    if p == MUST_NOT and cp != NO:
        raise TraceFormatError("expected no proc but had one")
    if g == MUST and cg == NO:
        raise TraceFormatError("expected a goroutine but didn't have one")
    if g == MUST_NOT and cg != NO:
        raise TraceFormatError("expected no goroutine but had one")


def _range_type(typ, desc=0):
    start = S.SPECS[typ].start
    return (start or typ, desc)


def _begin_range(state, rt):
    if rt in state.ranges:
        raise TraceFormatError(f"discovered event already in-flight when starting "
                               f"{S.SPECS[rt[0]].name}")
    state.ranges.append(rt)


def _active_range(state, rt, initial):
    if initial:
        if rt in state.ranges:
            raise TraceFormatError(f"found named active range already in first gen: "
                                   f"{S.SPECS[rt[0]].name}")
        state.ranges.append(rt)
    elif rt not in state.ranges:
        raise TraceFormatError(f"resource is missing active range: {S.SPECS[rt[0]].name}")


def _end_range(state, typ):
    start = S.SPECS[typ].start
    for i, r in enumerate(state.ranges):
        if r[0] == start:
            desc = r[1]
            state.ranges[i] = state.ranges[-1]
            state.ranges.pop()
            return desc
    raise TraceFormatError(f"tried to end event {S.SPECS[start].name}, but not in-flight")


class Ordering:
    """The goroutine, P, thread and GC state machines; `queue` holds events ready to hand out."""

    def __init__(self, ver: int):
        self.ver = ver
        self.gs = {}
        self.ps = {}
        self.ms = {}
        self.tasks = {}
        self.gc_seq = 0
        self.gc_state = GC_UNDETERMINED
        self.initial_gen = 0
        self.queue = deque()
        self._dispatch = {
            S.EV_PROCS_CHANGE: self._annotation, S.EV_PROC_START: self._proc_start,
            S.EV_PROC_STOP: self._proc_stop, S.EV_PROC_STEAL: self._proc_steal,
            S.EV_PROC_STATUS: self._proc_status, S.EV_GO_CREATE: self._go_create,
            S.EV_GO_CREATE_SYSCALL: self._go_create_syscall, S.EV_GO_START: self._go_start,
            S.EV_GO_DESTROY: self._go_stop_exec, S.EV_GO_DESTROY_SYSCALL: self._go_destroy_syscall,
            S.EV_GO_STOP: self._go_stop_exec, S.EV_GO_BLOCK: self._go_stop_exec,
            S.EV_GO_UNBLOCK: self._go_unblock, S.EV_GO_SYSCALL_BEGIN: self._syscall_begin,
            S.EV_GO_SYSCALL_END: self._syscall_end,
            S.EV_GO_SYSCALL_END_BLOCKED: self._syscall_end_blocked,
            S.EV_GO_STATUS: self._go_status, S.EV_STW_BEGIN: self._go_range_begin,
            S.EV_STW_END: self._go_range_end, S.EV_GC_ACTIVE: self._gc_active,
            S.EV_GC_BEGIN: self._gc_begin, S.EV_GC_END: self._gc_end,
            S.EV_GC_SWEEP_ACTIVE: self._sweep_active, S.EV_GC_SWEEP_BEGIN: self._sweep_begin,
            S.EV_GC_SWEEP_END: self._sweep_end, S.EV_GC_MARK_ASSIST_ACTIVE: self._go_range_active,
            S.EV_GC_MARK_ASSIST_BEGIN: self._go_range_begin,
            S.EV_GC_MARK_ASSIST_END: self._go_range_end, S.EV_HEAP_ALLOC: self._heap_metric,
            S.EV_HEAP_GOAL: self._heap_metric, S.EV_GO_LABEL: self._annotation,
            S.EV_USER_TASK_BEGIN: self._task_begin, S.EV_USER_TASK_END: self._task_end,
            S.EV_USER_REGION_BEGIN: self._region_begin, S.EV_USER_REGION_END: self._region_end,
            S.EV_USER_LOG: self._annotation, S.EV_GO_SWITCH: self._go_switch,
            S.EV_GO_SWITCH_DESTROY: self._go_switch, S.EV_GO_CREATE_BLOCKED: self._go_create,
            S.EV_GO_STATUS_STACK: self._go_status,
        }
        # the same as a list by wire type, and the queue's append: looked up once per event
        self._handlers = [self._dispatch.get(t) for t in range(256)]
        self._append = self.queue.append

    # -- the entry point ---------------------------------------------------------------------

    def advance(self, typ, time, args, table, m, gen) -> bool:
        """Try to advance the event; True when it (and any synthesized events) was queued."""
        if self.initial_gen == 0:
            self.initial_gen = gen
        f = self._handlers[typ]
        if f is None:
            raise TraceFormatError(f"bad event type found while ordering: {typ}")
        if m == NO:
            return f(typ, time, args, table, gen, _NO_CTX) is not None
        ms = self.ms.get(m)
        if ms is None:
            ms = self.ms[m] = _M()
        new = f(typ, time, args, table, gen, (m, ms.p, ms.g))
        if new is None:
            return False
        ms.p = new[1]
        ms.g = new[2]
        return True

    def _push(self, typ, time, args, table, ctx):
        self._append(Event(typ, time, ctx[2], ctx[1], ctx[0], args, table))

    def pop(self):
        return self.queue.popleft() if self.queue else None

    # -- Ps --------------------------------------------------------------------------------------

    def _proc_status(self, typ, time, args, table, gen, ctx):
        pid = signed(args[0])
        status = args[1]
        if status >= len(S.WIRE_PROC_STATE):
            raise TraceFormatError(f"invalid status for proc {pid}: {status}")
        old = S.WIRE_PROC_STATE[status]
        s = self.ps.get(pid)
        if s is not None:
            if status == S.W_PROC_SYSCALL_ABANDONED and s.status == S.W_PROC_SYSCALL:
                old = S.PROC_RUNNING
                args[1] = S.W_PROC_SYSCALL
            elif status == S.W_PROC_SYSCALL_ABANDONED and s.status == S.W_PROC_SYSCALL_ABANDONED:
                old = S.PROC_IDLE
                args[1] = S.W_PROC_SYSCALL_ABANDONED
            elif s.status != status:
                raise TraceFormatError(f"inconsistent status for proc {pid}: old {s.status} vs. "
                                       f"new {status}")
            s.gen, s.seq = gen, 0
        else:
            self.ps[pid] = _P(pid, status, gen)
            old = S.PROC_UNDETERMINED if gen == self.initial_gen else S.PROC_NOT_EXIST
        args[2] = old
        new = ctx
        if status in (S.W_PROC_RUNNING, S.W_PROC_SYSCALL):
            new = (ctx[0], pid, ctx[2])
        if status == S.W_PROC_SYSCALL_ABANDONED and old == S.PROC_RUNNING:
            found = None
            for mid, ms in self.ms.items():
                if ms.p == pid:
                    found = (mid, pid, ms.g)
            if found is None:
                raise TraceFormatError(f"failed to find sched context for proc {pid} that's "
                                       f"about to be stolen")
            ctx = found
        self._append(Event(typ, time, ctx[2], ctx[1], ctx[0], args, table))
        return new

    def _proc_start(self, typ, time, args, table, gen, ctx):
        pid = signed(args[0])
        s = self.ps.get(pid)
        if (s is None or s.status != S.W_PROC_IDLE or not (s.gen == gen and args[1] == s.seq + 1)
                or ctx[1] != NO):
            return None
        if ctx[0] == NO:
            _check(ctx, MUST, MUST_NOT, MAY)
        s.status = S.W_PROC_RUNNING
        s.gen, s.seq = gen, args[1]
        self._append(Event(typ, time, ctx[2], ctx[1], ctx[0], args, table))
        return (ctx[0], pid, ctx[2])

    def _proc_stop(self, typ, time, args, table, gen, ctx):
        s = self.ps.get(ctx[1])
        if s is None:
            raise TraceFormatError(f"event ProcStop for proc ({ctx[1]}) that doesn't exist")
        if s.status not in (S.W_PROC_RUNNING, S.W_PROC_SYSCALL):
            raise TraceFormatError("ProcStop event for proc that's not Running or Syscall")
        if ctx[0] == NO or ctx[1] == NO:
            _check(ctx, MUST, MUST, MAY)
        s.status = S.W_PROC_IDLE
        self._append(Event(typ, time, ctx[2], ctx[1], ctx[0], args, table))
        return (ctx[0], NO, ctx[2])

    def _proc_steal(self, typ, time, args, table, gen, ctx):
        pid = signed(args[0])
        s = self.ps.get(pid)
        if (s is None or s.status not in (S.W_PROC_SYSCALL, S.W_PROC_SYSCALL_ABANDONED)
                or not (s.gen == gen and args[1] == s.seq + 1)):
            return None
        _check(ctx, MUST, MAY, MAY)
        old = s.status
        args[3] = old
        s.status = S.W_PROC_IDLE
        s.gen, s.seq = gen, args[1]
        if old == S.W_PROC_SYSCALL_ABANDONED:
            self._append(Event(typ, time, ctx[2], ctx[1], ctx[0], args, table))
            return ctx
        mid = signed(args[2])
        if mid == ctx[0]:
            if ctx[1] != pid:
                raise TraceFormatError(f"tried to self-steal proc {pid} (thread {mid}), but got "
                                       f"proc {ctx[1]} instead")
            self._append(Event(typ, time, ctx[2], ctx[1], ctx[0], args, table))
            return (ctx[0], NO, ctx[2])
        ms = self.ms.get(mid)
        if ms is None:
            raise TraceFormatError(f"stole proc from non-existent thread {mid}")
        if ms.p != pid:
            raise TraceFormatError(f"tried to steal proc {pid} from thread {mid}, but got proc "
                                   f"{ms.p} instead")
        ms.p = NO
        self._append(Event(typ, time, ctx[2], ctx[1], ctx[0], args, table))
        return ctx

    # -- goroutines ---------------------------------------------------------------------------

    def _go_status(self, typ, time, args, table, gen, ctx):
        gid = signed(args[0])
        mid = signed(args[1])
        status = args[2]
        if status >= len(S.WIRE_GO_STATE):
            raise TraceFormatError(f"invalid status for goroutine {gid}: {status}")
        old = S.WIRE_GO_STATE[status]
        s = self.gs.get(gid)
        if s is not None:
            if s.status != status:
                raise TraceFormatError(f"inconsistent status for goroutine {gid}: old "
                                       f"{s.status} vs. new {status}")
            s.gen, s.seq = gen, 0
        elif gen == self.initial_gen:
            self.gs[gid] = _G(gid, status, gen)
            old = S.GO_UNDETERMINED
        else:
            raise TraceFormatError(f"found goroutine status for new goroutine after the first "
                                   f"generation: id={gid} status={status}")
        args[2] = old << 32 | status
        new = ctx
        if status == S.W_GO_RUNNING:
            new = (ctx[0], ctx[1], gid)
        elif status == S.W_GO_SYSCALL:
            if mid == NO:
                raise TraceFormatError(f"found goroutine {gid} in syscall without a thread")
            if mid == ctx[0]:
                if gen != self.initial_gen and ctx[2] != gid:
                    raise TraceFormatError(f"inconsistent thread for syscalling goroutine {gid}: "
                                           f"thread has goroutine {ctx[2]}")
                new = (ctx[0], ctx[1], gid)
            else:
                ms = self.ms.get(mid)
                cg = ctx[2]
                if ms is not None:
                    if ms.g != gid:
                        raise TraceFormatError(f"inconsistent thread for syscalling goroutine "
                                               f"{gid}: thread has goroutine {ms.g}")
                    cg = ms.g
                else:
                    self.ms[mid] = _M(gid, NO)
                ctx = (mid, ctx[1], cg)
        self._append(Event(typ, time, ctx[2], ctx[1], ctx[0], args, table))
        return new

    def _go_create(self, typ, time, args, table, gen, ctx):
        if ctx[0] == NO or ctx[1] == NO:
            _check(ctx, MUST, MUST, MAY)
        s = self.gs.get(ctx[2])
        if s is not None and s.status != S.W_GO_RUNNING:
            raise TraceFormatError(f"{S.SPECS[typ].name} event for goroutine that's not Running")
        newg = signed(args[0])
        if newg in self.gs:
            raise TraceFormatError(f"tried to create goroutine ({newg}) that already exists")
        status = S.W_GO_WAITING if typ == S.EV_GO_CREATE_BLOCKED else S.W_GO_RUNNABLE
        self.gs[newg] = _G(newg, status, gen)
        self._append(Event(typ, time, ctx[2], ctx[1], ctx[0], args, table))
        return ctx

    def _running_g(self, typ, ctx, want=S.W_GO_RUNNING):
        s = self.gs.get(ctx[2])
        if s is None:
            raise TraceFormatError(f"event {S.SPECS[typ].name} for goroutine ({ctx[2]}) that "
                                   f"doesn't exist")
        if s.status != want:
            raise TraceFormatError(f"{S.SPECS[typ].name} event for goroutine that's not "
                                   f"{'Running' if want == S.W_GO_RUNNING else 'Syscall'}")
        return s

    def _go_stop_exec(self, typ, time, args, table, gen, ctx):
        if ctx[0] == NO or ctx[1] == NO or ctx[2] == NO:
            _check(ctx, MUST, MUST, MUST)
        s = self.gs.get(ctx[2])
        if s is None or s.status != _W_GO_RUNNING:
            self._running_g(typ, ctx)  # raises the error
        if typ == S.EV_GO_DESTROY:
            del self.gs[ctx[2]]
        elif typ == S.EV_GO_STOP:
            s.status = _W_GO_RUNNABLE
        else:
            s.status = _W_GO_WAITING
        self._append(Event(typ, time, ctx[2], ctx[1], ctx[0], args, table))
        return (ctx[0], ctx[1], NO)

    def _go_start(self, typ, time, args, table, gen, ctx):
        gid = args[0]
        if gid >= _HALF:
            gid -= _FULL  # signed(), inline: the most frequent event
        s = self.gs.get(gid)
        if s is None or s.status != _W_GO_RUNNABLE or not (s.gen == gen and args[1] == s.seq + 1):
            return None
        if ctx[0] == NO or ctx[1] == NO or ctx[2] != NO:
            _check(ctx, MUST, MUST, MUST_NOT)
        s.status = _W_GO_RUNNING
        s.gen, s.seq = gen, args[1]
        self._append(Event(typ, time, ctx[2], ctx[1], ctx[0], args, table))
        return (ctx[0], ctx[1], gid)

    def _go_unblock(self, typ, time, args, table, gen, ctx):
        gid = args[0]
        if gid >= _HALF:
            gid -= _FULL
        s = self.gs.get(gid)
        if s is None or s.status != _W_GO_WAITING or not (s.gen == gen and args[1] == s.seq + 1):
            return None
        s.status = _W_GO_RUNNABLE
        s.gen, s.seq = gen, args[1]
        self._append(Event(typ, time, ctx[2], ctx[1], ctx[0], args, table))
        return ctx

    def _go_switch(self, typ, time, args, table, gen, ctx):
        if ctx[0] == NO or ctx[1] == NO or ctx[2] == NO:
            _check(ctx, MUST, MUST, MUST)
        cur = self._running_g(typ, ctx)
        nextg = signed(args[0])
        nxt = self.gs.get(nextg)
        if nxt is None or nxt.status != S.W_GO_WAITING or not (nxt.gen == gen and
                                                                 args[1] == nxt.seq + 1):
            return None
        self._append(Event(typ, time, ctx[2], ctx[1], ctx[0], args, table))
        if typ == S.EV_GO_SWITCH:
            cur.status = S.W_GO_WAITING
            self._push(S.EV_GO_BLOCK, time, [0, 0, 0, 0], table, ctx)
        else:
            del self.gs[ctx[2]]
            self._push(S.EV_GO_DESTROY, time, [0, 0, 0, 0], table, ctx)
        nxt.status = S.W_GO_RUNNING
        nxt.gen, nxt.seq = gen, args[1]
        self._push(S.EV_GO_START, time, [nextg, args[1], 0, 0], table, (ctx[0], ctx[1], NO))
        return (ctx[0], ctx[1], nextg)

    def _syscall_begin(self, typ, time, args, table, gen, ctx):
        if ctx[0] == NO or ctx[1] == NO or ctx[2] == NO:
            _check(ctx, MUST, MUST, MUST)
        s = self._running_g(typ, ctx)
        s.status = S.W_GO_SYSCALL
        p = self.ps.get(ctx[1])
        if p is None:
            raise TraceFormatError(f"uninitialized proc {ctx[1]} found during GoSyscallBegin")
        p.status = S.W_PROC_SYSCALL
        if not (p.gen == gen and args[0] == p.seq + 1):
            raise TraceFormatError(f"failed to advance GoSyscallBegin: can't make sequence: "
                                   f"{p.seq} -> {args[0]}")
        p.gen, p.seq = gen, args[0]
        self._append(Event(typ, time, ctx[2], ctx[1], ctx[0], args, table))
        return ctx

    def _syscall_end(self, typ, time, args, table, gen, ctx):
        if ctx[0] == NO or ctx[1] == NO or ctx[2] == NO:
            _check(ctx, MUST, MUST, MUST)
        s = self._running_g(typ, ctx, S.W_GO_SYSCALL)
        s.status = S.W_GO_RUNNING
        p = self.ps.get(ctx[1])
        if p is None:
            raise TraceFormatError(f"uninitialized proc {ctx[1]} found during GoSyscallEnd")
        if p.status != S.W_PROC_SYSCALL:
            raise TraceFormatError(f"expected proc {ctx[1]} in state Syscall")
        p.status = S.W_PROC_RUNNING
        self._append(Event(typ, time, ctx[2], ctx[1], ctx[0], args, table))
        return ctx

    def _syscall_end_blocked(self, typ, time, args, table, gen, ctx):
        if ctx[1] != NO:
            p = self.ps.get(ctx[1])
            if p is None:
                raise TraceFormatError(f"uninitialized proc {ctx[1]} found during "
                                       f"GoSyscallEndBlocked")
            if p.status == S.W_PROC_SYSCALL:
                return None
        _check(ctx, MUST, MAY, MUST)
        s = self._running_g(typ, ctx, S.W_GO_SYSCALL)
        s.status = S.W_GO_RUNNABLE
        self._append(Event(typ, time, ctx[2], ctx[1], ctx[0], args, table))
        return (ctx[0], ctx[1], NO)

    def _go_create_syscall(self, typ, time, args, table, gen, ctx):
        _check(ctx, MUST, MAY, MUST_NOT)
        newg = signed(args[0])
        if newg in self.gs:
            raise TraceFormatError(f"tried to create goroutine ({newg}) in syscall that already "
                                   f"exists")
        self.gs[newg] = _G(newg, S.W_GO_SYSCALL, gen)
        self._append(Event(typ, time, ctx[2], ctx[1], ctx[0], args, table))
        return (ctx[0], ctx[1], newg)

    def _go_destroy_syscall(self, typ, time, args, table, gen, ctx):
        _check(ctx, MUST, MAY, MUST)
        self._running_g(typ, ctx, S.W_GO_SYSCALL)
        del self.gs[ctx[2]]
        new = (ctx[0], ctx[1], NO)
        if ctx[1] != NO:
            p = self.ps.get(ctx[1])
            if p is None:
                raise TraceFormatError(f"found invalid proc {ctx[1]} during GoDestroySyscall")
            if p.status != S.W_PROC_SYSCALL:
                raise TraceFormatError(f"proc {ctx[1]} in unexpected state during "
                                       f"GoDestroySyscall")
            p.status = S.W_PROC_SYSCALL_ABANDONED
            new = (ctx[0], NO, NO)
            self._push(S.EV_PROC_STEAL, time, [ctx[1], 0, 0, S.W_PROC_SYSCALL], table, ctx)
        self._append(Event(typ, time, ctx[2], ctx[1], ctx[0], args, table))
        return new

    # -- tasks and regions -----------------------------------------------------------------

    def _task_begin(self, typ, time, args, table, gen, ctx):
        tid = args[0]
        if tid in self.tasks:
            raise TraceFormatError(f"task ID conflict: {tid}")
        if args[1] == S.BACKGROUND_TASK:
            args[1] = S.NO_TASK
        if args[2] != 0 and args[2] not in table.strings:
            raise TraceFormatError(f"invalid string ID {args[2]} for UserTaskBegin event")
        self.tasks[tid] = (table.string(args[2]), args[1])
        if ctx[0] == NO or ctx[1] == NO or ctx[2] == NO:
            _check(ctx, MUST, MUST, MUST)
        self._append(Event(typ, time, ctx[2], ctx[1], ctx[0], args, table))
        return ctx

    def _task_end(self, typ, time, args, table, gen, ctx):
        t = self.tasks.pop(args[0], None)
        if t is not None:
            args[2] = t[1]
            args[3] = table.add_extra_string(t[0])
        else:
            args[2] = S.NO_TASK
            args[3] = 0
        if ctx[0] == NO or ctx[1] == NO or ctx[2] == NO:
            _check(ctx, MUST, MUST, MUST)
        self._append(Event(typ, time, ctx[2], ctx[1], ctx[0], args, table))
        return ctx

    def _region(self, typ, args, table, ctx):
        if ctx[0] == NO or ctx[1] == NO or ctx[2] == NO:
            _check(ctx, MUST, MUST, MUST)
        if args[1] != 0 and args[1] not in table.strings:
            raise TraceFormatError(f"invalid string ID {args[1]} for {S.SPECS[typ].name} event")
        s = self.gs.get(ctx[2])
        if s is None:
            raise TraceFormatError(f"encountered {S.SPECS[typ].name} without known state for "
                                   f"current goroutine {ctx[2]}")
        return s, (args[0], table.string(args[1]))

    def _region_begin(self, typ, time, args, table, gen, ctx):
        s, r = self._region(typ, args, table, ctx)
        s.regions.append(r)
        self._append(Event(typ, time, ctx[2], ctx[1], ctx[0], args, table))
        return ctx

    def _region_end(self, typ, time, args, table, gen, ctx):
        s, r = self._region(typ, args, table, ctx)
        if s.regions:
            if s.regions[-1] != r:
                raise TraceFormatError(f"misuse of region in goroutine {s.id}: region end {r} "
                                       f"when the inner-most active region start event is "
                                       f"{s.regions[-1]}")
            s.regions.pop()
        self._append(Event(typ, time, ctx[2], ctx[1], ctx[0], args, table))
        return ctx

    # -- GC ---------------------------------------------------------------------------------

    def _gc_active(self, typ, time, args, table, gen, ctx):
        seq = args[0]
        if gen == self.initial_gen:
            if self.gc_state != GC_UNDETERMINED:
                raise TraceFormatError("GCActive in the first generation isn't first GC event")
            self.gc_seq = seq
            self.gc_state = GC_RUNNING
            self._append(Event(typ, time, ctx[2], ctx[1], ctx[0], args, table))
            return ctx
        if seq != self.gc_seq + 1:
            return None
        if self.gc_state != GC_RUNNING:
            raise TraceFormatError("encountered GCActive while GC was not in progress")
        self.gc_seq = seq
        if ctx[0] == NO or ctx[1] == NO or ctx[2] == NO:
            _check(ctx, MUST, MUST, MUST)
        self._append(Event(typ, time, ctx[2], ctx[1], ctx[0], args, table))
        return ctx

    def _gc_begin(self, typ, time, args, table, gen, ctx):
        seq = args[0]
        if self.gc_state == GC_UNDETERMINED:
            self.gc_seq = seq
            self.gc_state = GC_RUNNING
            self._append(Event(typ, time, ctx[2], ctx[1], ctx[0], args, table))
            return ctx
        if seq != self.gc_seq + 1:
            return None
        if self.gc_state == GC_RUNNING:
            raise TraceFormatError("encountered GCBegin while GC was already in progress")
        self.gc_seq = seq
        self.gc_state = GC_RUNNING
        if ctx[0] == NO or ctx[1] == NO or ctx[2] == NO:
            _check(ctx, MUST, MUST, MUST)
        self._append(Event(typ, time, ctx[2], ctx[1], ctx[0], args, table))
        return ctx

    def _gc_end(self, typ, time, args, table, gen, ctx):
        seq = args[0]
        if seq != self.gc_seq + 1:
            return None
        if self.gc_state == GC_NOT_RUNNING:
            raise TraceFormatError("encountered GCEnd when GC was not in progress")
        if self.gc_state == GC_UNDETERMINED:
            raise TraceFormatError("encountered GCEnd when GC was in an undetermined state")
        self.gc_seq = seq
        self.gc_state = GC_NOT_RUNNING
        if ctx[0] == NO or ctx[1] == NO or ctx[2] == NO:
            _check(ctx, MUST, MUST, MUST)
        self._append(Event(typ, time, ctx[2], ctx[1], ctx[0], args, table))
        return ctx

    def _annotation(self, typ, time, args, table, gen, ctx):
        if ctx[0] == NO or ctx[1] == NO or ctx[2] == NO:
            _check(ctx, MUST, MUST, MUST)
        self._append(Event(typ, time, ctx[2], ctx[1], ctx[0], args, table))
        return ctx

    def _heap_metric(self, typ, time, args, table, gen, ctx):
        if ctx[0] == NO or ctx[1] == NO:
            _check(ctx, MUST, MUST, MAY)
        self._append(Event(typ, time, ctx[2], ctx[1], ctx[0], args, table))
        return ctx

    def _proc(self, pid, what):
        """The state of the P an event runs on. Go's order.go indexes its map and
        would dereference nil for a P it never saw: a broken trace here."""
        p = self.ps.get(pid)
        if p is None:
            raise TraceFormatError(f"encountered {what} on unknown proc {pid}")
        return p

    def _sweep_begin(self, typ, time, args, table, gen, ctx):
        if ctx[0] == NO or ctx[1] == NO:
            _check(ctx, MUST, MUST, MAY)
        _begin_range(self._proc(ctx[1], "GCSweepBegin"), _range_type(typ))
        self._append(Event(typ, time, ctx[2], ctx[1], ctx[0], args, table))
        return ctx

    def _sweep_active(self, typ, time, args, table, gen, ctx):
        pid = signed(args[0])
        p = self.ps.get(pid)
        if p is None:
            raise TraceFormatError(f"encountered GCSweepActive for unknown proc {pid}")
        _active_range(p, _range_type(typ), gen == self.initial_gen)
        self._append(Event(typ, time, ctx[2], ctx[1], ctx[0], args, table))
        return ctx

    def _sweep_end(self, typ, time, args, table, gen, ctx):
        if ctx[0] == NO or ctx[1] == NO:
            _check(ctx, MUST, MUST, MAY)
        _end_range(self._proc(ctx[1], "GCSweepEnd"), typ)
        self._append(Event(typ, time, ctx[2], ctx[1], ctx[0], args, table))
        return ctx

    def _go_range_begin(self, typ, time, args, table, gen, ctx):
        if ctx[0] == NO or ctx[1] == NO or ctx[2] == NO:
            _check(ctx, MUST, MUST, MUST)
        desc = args[0] if typ == S.EV_STW_BEGIN else 0
        s = self.gs.get(ctx[2])
        if s is None:
            raise TraceFormatError(f"encountered event of type {typ} without known state for "
                                   f"current goroutine {ctx[2]}")
        _begin_range(s, _range_type(typ, desc))
        self._append(Event(typ, time, ctx[2], ctx[1], ctx[0], args, table))
        return ctx

    def _go_range_active(self, typ, time, args, table, gen, ctx):
        gid = signed(args[0])
        s = self.gs.get(gid)
        if s is None:
            raise TraceFormatError(f"uninitialized goroutine {gid} found during "
                                   f"{S.SPECS[typ].name}")
        _active_range(s, _range_type(typ), gen == self.initial_gen)
        self._append(Event(typ, time, ctx[2], ctx[1], ctx[0], args, table))
        return ctx

    def _go_range_end(self, typ, time, args, table, gen, ctx):
        if ctx[0] == NO or ctx[1] == NO or ctx[2] == NO:
            _check(ctx, MUST, MUST, MUST)
        s = self.gs.get(ctx[2])
        if s is None:
            raise TraceFormatError(f"encountered event of type {typ} without known state for "
                                   f"current goroutine {ctx[2]}")
        desc = _end_range(s, typ)
        if typ == S.EV_STW_END:
            args[0] = desc
        self._append(Event(typ, time, ctx[2], ctx[1], ctx[0], args, table))
        return ctx
