"""The events the reader hands out, in one consistent order, and what they mean.

Mirrors internal/trace's Event (event.go): a wire type, a time in
nanoseconds, the scheduling context (goroutine, P, thread; -1 for none),
up to four arguments (some rewritten by the ordering, as Go does) and the
generation whose tables resolve its strings and stacks.
"""

from __future__ import annotations

from typing import NamedTuple

from reportgen.sources.trace import spec as S

(KIND_BAD, KIND_SYNC, KIND_METRIC, KIND_LABEL, KIND_STACK_SAMPLE, KIND_RANGE_BEGIN,
 KIND_RANGE_ACTIVE, KIND_RANGE_END, KIND_TASK_BEGIN, KIND_TASK_END, KIND_REGION_BEGIN,
 KIND_REGION_END, KIND_LOG, KIND_STATE_TRANSITION, KIND_EXPERIMENTAL) = range(15)

KIND = [KIND_BAD] * 256
for _t in (S.EV_PROC_START, S.EV_PROC_STOP, S.EV_PROC_STEAL, S.EV_PROC_STATUS, S.EV_GO_CREATE,
           S.EV_GO_CREATE_SYSCALL, S.EV_GO_START, S.EV_GO_DESTROY, S.EV_GO_DESTROY_SYSCALL,
           S.EV_GO_STOP, S.EV_GO_BLOCK, S.EV_GO_UNBLOCK, S.EV_GO_SYSCALL_BEGIN,
           S.EV_GO_SYSCALL_END, S.EV_GO_SYSCALL_END_BLOCKED, S.EV_GO_STATUS, S.EV_GO_SWITCH,
           S.EV_GO_SWITCH_DESTROY, S.EV_GO_CREATE_BLOCKED, S.EV_GO_STATUS_STACK):
    KIND[_t] = KIND_STATE_TRANSITION
for _t, _k in ((S.EV_CPU_SAMPLE, KIND_STACK_SAMPLE), (S.EV_PROCS_CHANGE, KIND_METRIC),
               (S.EV_HEAP_ALLOC, KIND_METRIC), (S.EV_HEAP_GOAL, KIND_METRIC),
               (S.EV_STW_BEGIN, KIND_RANGE_BEGIN), (S.EV_STW_END, KIND_RANGE_END),
               (S.EV_GC_ACTIVE, KIND_RANGE_ACTIVE), (S.EV_GC_BEGIN, KIND_RANGE_BEGIN),
               (S.EV_GC_END, KIND_RANGE_END), (S.EV_GC_SWEEP_ACTIVE, KIND_RANGE_ACTIVE),
               (S.EV_GC_SWEEP_BEGIN, KIND_RANGE_BEGIN), (S.EV_GC_SWEEP_END, KIND_RANGE_END),
               (S.EV_GC_MARK_ASSIST_ACTIVE, KIND_RANGE_ACTIVE),
               (S.EV_GC_MARK_ASSIST_BEGIN, KIND_RANGE_BEGIN),
               (S.EV_GC_MARK_ASSIST_END, KIND_RANGE_END), (S.EV_GO_LABEL, KIND_LABEL),
               (S.EV_USER_TASK_BEGIN, KIND_TASK_BEGIN), (S.EV_USER_TASK_END, KIND_TASK_END),
               (S.EV_USER_REGION_BEGIN, KIND_REGION_BEGIN),
               (S.EV_USER_REGION_END, KIND_REGION_END), (S.EV_USER_LOG, KIND_LOG),
               (S.EV_SYNC_EVENT, KIND_SYNC)):
    KIND[_t] = _k

RESOURCE_NONE, RESOURCE_GOROUTINE, RESOURCE_PROC = range(3)


class Event:
    """One event: wire type, time (ns), goroutine/P/thread (-1: none), args (the four
    arguments as a list), table (its Generation), st (its Transition once made).

    Read-only for consumers: events may share one args list or Transition (the reader
    reuses equal ones of a goroutine to save memory in large generations).
    """
    __slots__ = ("typ", "time", "g", "p", "m", "args", "table", "st")

    def __init__(self, typ, time, g, p, m, args, table):
        self.st = None  # the Transition, computed once on first use
        self.typ = typ
        self.time = time
        self.g = g
        self.p = p
        self.m = m
        self.args = args
        self.table = table

    @property
    def kind(self) -> int:
        return KIND[self.typ]

    @property
    def name(self) -> str:
        if self.typ == S.EV_SYNC_EVENT:
            return "Sync"
        return S.SPECS[self.typ].name

    def stack_id(self) -> int:
        """Event.Stack(): the stack of the event itself (0: none)."""
        if self.typ == S.EV_CPU_SAMPLE:
            return self.args[0]
        i = S.STACK_ARG[self.typ]
        return self.args[i] if i >= 0 else 0

    def stack(self):
        """[(pc, function, file, line)] leaf first."""
        return self.table.frames(self.stack_id()) if self.table is not None else []


class Transition(NamedTuple):
    """A state transition (internal/trace StateTransition).

    resource: RESOURCE_GOROUTINE or RESOURCE_PROC; id: the goroutine or P;
    old, new: GO_* or PROC_* states; reason: the wire's block/stop reason;
    stack_id: the stack that describes the resource (the new goroutine's
    start for GoCreate, the goroutine's own for GoStop/GoBlock/GoSyscallBegin).
    A tuple: one is made per state-changing event, and tuple.__new__ is the
    cheapest way to make one.
    """
    resource: int
    id: int
    old: int
    new: int
    reason: str = ""
    stack_id: int = 0


def transition(e: Event) -> Transition:
    """Event.StateTransition() for an event of KIND_STATE_TRANSITION (cached on the event)."""
    st = e.st
    if st is None:
        st = e.st = _TRANSITION_OF[e.typ](e)
    return st


_new = tuple.__new__
_T = Transition
_G, _P = RESOURCE_GOROUTINE, RESOURCE_PROC
(_NOT_EXIST, _RUNNABLE, _RUNNING, _WAITING, _SYSCALL) = (S.GO_NOT_EXIST, S.GO_RUNNABLE,
                                                        S.GO_RUNNING, S.GO_WAITING, S.GO_SYSCALL)


def _go_status(e):
    packed = e.args[2]
    return _new(_T, (_G, e.args[0], packed >> 32, S.WIRE_GO_STATE[packed & 0xFFFFFFFF], "",
                     e.args[3] if e.typ == S.EV_GO_STATUS_STACK else 0))


def _proc_steal(e):
    a = e.args
    before = S.PROC_IDLE if a[3] == S.W_PROC_SYSCALL_ABANDONED else S.PROC_RUNNING
    return _new(_T, (_P, a[0], before, S.PROC_IDLE, "", 0))


# wire type -> the StateTransition it describes (event.go StateTransition)
_TRANSITIONS = {
    S.EV_GO_START: lambda e: _new(_T, (_G, e.args[0], _RUNNABLE, _RUNNING, "", 0)),
    S.EV_GO_UNBLOCK: lambda e: _new(_T, (_G, e.args[0], _WAITING, _RUNNABLE, "", 0)),
    S.EV_GO_SWITCH: lambda e: _new(_T, (_G, e.args[0], _WAITING, _RUNNABLE, "", 0)),
    S.EV_GO_SWITCH_DESTROY: lambda e: _new(_T, (_G, e.args[0], _WAITING, _RUNNABLE, "", 0)),
    S.EV_GO_BLOCK: lambda e: _new(_T, (_G, e.g, _RUNNING, _WAITING, e.table.string(e.args[0]),
                                       e.args[1])),
    S.EV_GO_STOP: lambda e: _new(_T, (_G, e.g, _RUNNING, _RUNNABLE, e.table.string(e.args[0]),
                                      e.args[1])),
    S.EV_GO_SYSCALL_BEGIN: lambda e: _new(_T, (_G, e.g, _RUNNING, _SYSCALL, "", e.args[1])),
    S.EV_GO_SYSCALL_END: lambda e: _new(_T, (_G, e.g, _SYSCALL, _RUNNING, "", 0)),
    S.EV_GO_SYSCALL_END_BLOCKED: lambda e: _new(_T, (_G, e.g, _SYSCALL, _RUNNABLE, "", 0)),
    S.EV_GO_CREATE: lambda e: _new(_T, (_G, e.args[0], _NOT_EXIST, _RUNNABLE, "", e.args[1])),
    S.EV_GO_CREATE_BLOCKED: lambda e: _new(_T, (_G, e.args[0], _NOT_EXIST, _WAITING, "",
                                                e.args[1])),
    S.EV_GO_CREATE_SYSCALL: lambda e: _new(_T, (_G, e.args[0], _NOT_EXIST, _SYSCALL, "", 0)),
    S.EV_GO_DESTROY: lambda e: _new(_T, (_G, e.g, _RUNNING, _NOT_EXIST, "", 0)),
    S.EV_GO_DESTROY_SYSCALL: lambda e: _new(_T, (_G, e.g, _SYSCALL, _NOT_EXIST, "", 0)),
    S.EV_GO_STATUS: _go_status,
    S.EV_GO_STATUS_STACK: _go_status,
    S.EV_PROC_START: lambda e: _new(_T, (_P, e.args[0], S.PROC_IDLE, S.PROC_RUNNING, "", 0)),
    S.EV_PROC_STOP: lambda e: _new(_T, (_P, e.p, S.PROC_RUNNING, S.PROC_IDLE, "", 0)),
    S.EV_PROC_STEAL: _proc_steal,
    S.EV_PROC_STATUS: lambda e: _new(_T, (_P, e.args[0], e.args[2],
                                          S.WIRE_PROC_STATE[e.args[1]], "", 0)),
}


# the same, indexed by wire type (a list index is the cheapest lookup per event)
_TRANSITION_OF = [None] * 256
for _t, _f in _TRANSITIONS.items():
    _TRANSITION_OF[_t] = _f


# wire type -> (name, or None for a stop-the-world's own, scope kind, scope id source:
# _FROM_G, _FROM_P, _FROM_ARG0 or _FROM_NONE), as Event.Range() switches on the type
_FROM_NONE, _FROM_G, _FROM_P, _FROM_ARG0 = range(4)
_RANGES = [None] * 256
for _ts, _r in (((S.EV_STW_BEGIN, S.EV_STW_END), (None, RESOURCE_GOROUTINE, _FROM_G)),
                ((S.EV_GC_BEGIN, S.EV_GC_ACTIVE, S.EV_GC_END),
                 ("GC concurrent mark phase", RESOURCE_NONE, _FROM_NONE)),
                ((S.EV_GC_SWEEP_BEGIN, S.EV_GC_SWEEP_END),
                 ("GC incremental sweep", RESOURCE_PROC, _FROM_P)),
                ((S.EV_GC_SWEEP_ACTIVE,), ("GC incremental sweep", RESOURCE_PROC, _FROM_ARG0)),
                ((S.EV_GC_MARK_ASSIST_BEGIN, S.EV_GC_MARK_ASSIST_END),
                 ("GC mark assist", RESOURCE_GOROUTINE, _FROM_G)),
                ((S.EV_GC_MARK_ASSIST_ACTIVE,),
                 ("GC mark assist", RESOURCE_GOROUTINE, _FROM_ARG0))):
    for _t in _ts:
        _RANGES[_t] = _r


def range_name(e: Event) -> tuple:
    """(name, scope kind, scope id) of a range event, as Event.Range()."""
    r = _RANGES[e.typ]
    if r is None:
        raise AssertionError(f"not a range event: {e.typ}")
    name, scope, src = r
    if name is None:
        name = "stop-the-world (" + e.table.string(e.args[0]) + ")"
    return (name, scope, e.g if src == _FROM_G else e.p if src == _FROM_P else
            e.args[0] if src == _FROM_ARG0 else 0)
