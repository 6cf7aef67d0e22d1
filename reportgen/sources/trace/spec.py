"""The Go 1.22+ execution trace wire format: event types and their arguments.

Mirrors Go's internal/trace/tracev2 (events.go, spec.go): one row per event
type with its argument names, which arguments are stack or string IDs, and
which event starts the range an event ends. Numbers are the wire values.
"""

from __future__ import annotations

from typing import NamedTuple


class Spec(NamedTuple):
    name: str
    args: tuple  # argument names; timed events start with "dt"
    stacks: tuple = ()  # 1-based positions in args of stack IDs (first: the event's stack)
    strings: tuple = ()  # 1-based positions in args of string IDs
    start: int = 0  # the begin event of the range this event ends or reports active
    timed: bool = False


(EV_NONE, EV_EVENT_BATCH, EV_STACKS, EV_STACK, EV_STRINGS, EV_STRING, EV_CPU_SAMPLES, EV_CPU_SAMPLE,
 EV_FREQUENCY, EV_PROCS_CHANGE, EV_PROC_START, EV_PROC_STOP, EV_PROC_STEAL, EV_PROC_STATUS,
 EV_GO_CREATE, EV_GO_CREATE_SYSCALL, EV_GO_START, EV_GO_DESTROY, EV_GO_DESTROY_SYSCALL, EV_GO_STOP,
 EV_GO_BLOCK, EV_GO_UNBLOCK, EV_GO_SYSCALL_BEGIN, EV_GO_SYSCALL_END, EV_GO_SYSCALL_END_BLOCKED,
 EV_GO_STATUS, EV_STW_BEGIN, EV_STW_END, EV_GC_ACTIVE, EV_GC_BEGIN, EV_GC_END, EV_GC_SWEEP_ACTIVE,
 EV_GC_SWEEP_BEGIN, EV_GC_SWEEP_END, EV_GC_MARK_ASSIST_ACTIVE, EV_GC_MARK_ASSIST_BEGIN,
 EV_GC_MARK_ASSIST_END, EV_HEAP_ALLOC, EV_HEAP_GOAL, EV_GO_LABEL, EV_USER_TASK_BEGIN,
 EV_USER_TASK_END, EV_USER_REGION_BEGIN, EV_USER_REGION_END, EV_USER_LOG, EV_GO_SWITCH,
 EV_GO_SWITCH_DESTROY, EV_GO_CREATE_BLOCKED, EV_GO_STATUS_STACK, EV_EXPERIMENTAL_BATCH, EV_SYNC,
 EV_CLOCK_SNAPSHOT, EV_END_OF_GENERATION) = range(53)

EV_SYNC_EVENT = 255  # the reader's own "sync" event between generations (not on the wire)


def _t(name, args, stacks=(), strings=(), start=0):
    return Spec(name, ("dt",) + tuple(args), tuple(stacks), tuple(strings), start, True)


SPECS: dict = {
    EV_EVENT_BATCH: Spec("EventBatch", ("gen", "m", "time", "size")),
    EV_STACKS: Spec("Stacks", ()),
    EV_STACK: Spec("Stack", ("id", "nframes")),
    EV_STRINGS: Spec("Strings", ()),
    EV_STRING: Spec("String", ("id",)),
    EV_CPU_SAMPLES: Spec("CPUSamples", ()),
    EV_CPU_SAMPLE: Spec("CPUSample", ("time", "m", "p", "g", "stack")),
    EV_FREQUENCY: Spec("Frequency", ("freq",)),
    EV_PROCS_CHANGE: _t("ProcsChange", ("procs_value", "stack"), (2,)),
    EV_PROC_START: _t("ProcStart", ("p", "p_seq")),
    EV_PROC_STOP: _t("ProcStop", ()),
    EV_PROC_STEAL: _t("ProcSteal", ("p", "p_seq", "m")),
    EV_PROC_STATUS: _t("ProcStatus", ("p", "pstatus")),
    EV_GO_CREATE: _t("GoCreate", ("new_g", "new_stack", "stack"), (3, 2)),
    EV_GO_CREATE_SYSCALL: _t("GoCreateSyscall", ("new_g",)),
    EV_GO_START: _t("GoStart", ("g", "g_seq")),
    EV_GO_DESTROY: _t("GoDestroy", ()),
    EV_GO_DESTROY_SYSCALL: _t("GoDestroySyscall", ()),
    EV_GO_STOP: _t("GoStop", ("reason_string", "stack"), (2,), (1,)),
    EV_GO_BLOCK: _t("GoBlock", ("reason_string", "stack"), (2,), (1,)),
    EV_GO_UNBLOCK: _t("GoUnblock", ("g", "g_seq", "stack"), (3,)),
    EV_GO_SYSCALL_BEGIN: _t("GoSyscallBegin", ("p_seq", "stack"), (2,)),
    EV_GO_SYSCALL_END: _t("GoSyscallEnd", (), start=EV_GO_SYSCALL_BEGIN),
    EV_GO_SYSCALL_END_BLOCKED: _t("GoSyscallEndBlocked", (), start=EV_GO_SYSCALL_BEGIN),
    EV_GO_STATUS: _t("GoStatus", ("g", "m", "gstatus")),
    EV_STW_BEGIN: _t("STWBegin", ("kind_string", "stack"), (2,), (1,)),
    EV_STW_END: _t("STWEnd", (), start=EV_STW_BEGIN),
    EV_GC_ACTIVE: _t("GCActive", ("gc_seq",), start=EV_GC_BEGIN),
    EV_GC_BEGIN: _t("GCBegin", ("gc_seq", "stack"), (2,)),
    EV_GC_END: _t("GCEnd", ("gc_seq",), start=EV_GC_BEGIN),
    EV_GC_SWEEP_ACTIVE: _t("GCSweepActive", ("p",), start=EV_GC_SWEEP_BEGIN),
    EV_GC_SWEEP_BEGIN: _t("GCSweepBegin", ("stack",), (1,)),
    EV_GC_SWEEP_END: _t("GCSweepEnd", ("swept_value", "reclaimed_value"), start=EV_GC_SWEEP_BEGIN),
    EV_GC_MARK_ASSIST_ACTIVE: _t("GCMarkAssistActive", ("g",), start=EV_GC_MARK_ASSIST_BEGIN),
    EV_GC_MARK_ASSIST_BEGIN: _t("GCMarkAssistBegin", ("stack",), (1,)),
    EV_GC_MARK_ASSIST_END: _t("GCMarkAssistEnd", (), start=EV_GC_MARK_ASSIST_BEGIN),
    EV_HEAP_ALLOC: _t("HeapAlloc", ("heapalloc_value",)),
    EV_HEAP_GOAL: _t("HeapGoal", ("heapgoal_value",)),
    EV_GO_LABEL: _t("GoLabel", ("label_string",), (), (1,)),
    EV_USER_TASK_BEGIN: _t("UserTaskBegin", ("task", "parent_task", "name_string", "stack"), (4,),
                           (3,)),
    EV_USER_TASK_END: _t("UserTaskEnd", ("task", "stack"), (2,)),
    EV_USER_REGION_BEGIN: _t("UserRegionBegin", ("task", "name_string", "stack"), (3,), (2,)),
    EV_USER_REGION_END: _t("UserRegionEnd", ("task", "name_string", "stack"), (3,), (2,),
                           start=EV_USER_REGION_BEGIN),
    EV_USER_LOG: _t("UserLog", ("task", "key_string", "value_string", "stack"), (4,), (2, 3)),
    EV_GO_SWITCH: _t("GoSwitch", ("g", "g_seq")),
    EV_GO_SWITCH_DESTROY: _t("GoSwitchDestroy", ("g", "g_seq")),
    EV_GO_CREATE_BLOCKED: _t("GoCreateBlocked", ("new_g", "new_stack", "stack"), (3, 2)),
    EV_GO_STATUS_STACK: _t("GoStatusStack", ("g", "m", "gstatus", "stack"), (4,)),
    EV_EXPERIMENTAL_BATCH: Spec("ExperimentalBatch", ("exp", "gen", "m", "time")),
    EV_SYNC: Spec("Sync", ()),
    EV_CLOCK_SNAPSHOT: _t("ClockSnapshot", ("mono", "sec", "nsec")),
    EV_END_OF_GENERATION: Spec("EndOfGeneration", ()),
}
NUM_EVENTS = EV_END_OF_GENERATION + 1

# Per wire type: number of varint arguments after the timestamp (-1: not a timed event).
NARGS = [-1] * 256
for _typ, _spec in SPECS.items():
    if _spec.timed:
        NARGS[_typ] = len(_spec.args) - 1

# The event's own stack: index into args (0-based, after dt), or -1.
STACK_ARG = [-1] * 256
for _typ, _spec in SPECS.items():
    if _spec.timed and _spec.stacks:
        STACK_ARG[_typ] = _spec.stacks[0] - 1

# Which wire types each format version knows (version.go: Go122 ends at UserLog ...).
VERSION_LAST_EVENT = {22: EV_USER_LOG, 23: EV_EXPERIMENTAL_BATCH, 25: EV_CLOCK_SNAPSHOT,
                      26: EV_END_OF_GENERATION}
V1_VERSIONS = (11, 19, 21)

# Goroutine states (internal/trace resources.go) and the wire statuses.
GO_UNDETERMINED, GO_NOT_EXIST, GO_RUNNABLE, GO_RUNNING, GO_WAITING, GO_SYSCALL = range(6)
GO_STATE_NAMES = ("Undetermined", "NotExist", "Runnable", "Running", "Waiting", "Syscall")
W_GO_BAD, W_GO_RUNNABLE, W_GO_RUNNING, W_GO_SYSCALL, W_GO_WAITING = range(5)
WIRE_GO_STATE = (GO_UNDETERMINED, GO_RUNNABLE, GO_RUNNING, GO_SYSCALL, GO_WAITING)

PROC_UNDETERMINED, PROC_NOT_EXIST, PROC_RUNNING, PROC_IDLE = range(4)
W_PROC_BAD, W_PROC_RUNNING, W_PROC_IDLE, W_PROC_SYSCALL, W_PROC_SYSCALL_ABANDONED = range(5)
WIRE_PROC_STATE = (PROC_UNDETERMINED, PROC_RUNNING, PROC_IDLE, PROC_RUNNING, PROC_IDLE)

NO_ID = -1  # NoGoroutine, NoProc, NoThread
NO_TASK = (1 << 64) - 1  # NoTask
BACKGROUND_TASK = 0

MAX_BATCH_SIZE = 64 << 10
MAX_FRAMES_PER_STACK = 128
MAX_STRING_SIZE = 1 << 10
