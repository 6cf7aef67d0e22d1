"""A trace's goroutine state transitions as integer columns, and each goroutine's runs.

The blocking profiles, the wait sites and the timeline lanes all look at
the same thing: for each goroutine, the stretches between its successive
state transitions (go tool trace's pprof.go and the summarizer walk them
event by event). Here a generation's transitions become numpy columns
once, and each recorder works on them grouped by goroutine, with what it
still had open at the end of the previous generation carried in as rows
that sort first in their goroutine's group (carry_sorted). A busy trace
has millions of transitions; this replaces a Python loop per recorder and
transition by a few array operations per generation.
"""

from __future__ import annotations

from operator import attrgetter, getitem, itemgetter

import numpy as np

from reportgen.analyze.trace_stacks import StackTable
from reportgen.sources.trace import events as E
from reportgen.sources.trace import spec as S

COLUMNS = ("gid", "time", "state", "reason", "stack")
EMPTY = np.zeros(0, dtype=np.int64)
_time = attrgetter("time")
_typ = attrgetter("typ")
_args = attrgetter("args")
_table = attrgetter("table")
_st = attrgetter("st")
_id, _new, _reason = itemgetter(1), itemgetter(3), itemgetter(4)  # Transition fields
# per wire type: where its own stack is among the args (0 when it has none), and whether none
_STACK_AT = np.array([max(i, 0) for i in S.STACK_ARG], dtype=np.int64)
_NO_STACK = np.array([i < 0 for i in S.STACK_ARG], dtype=bool)
# per wire type: a goroutine's state transition (the resource is told by the type: the
# Proc* events are the P's), and the types whose transition can carry a reason
IS_GOROUTINE_TRANSITION = np.array(
    [E.KIND[t] == E.KIND_STATE_TRANSITION and t not in (S.EV_PROC_START, S.EV_PROC_STOP,
                                                        S.EV_PROC_STEAL, S.EV_PROC_STATUS)
     for t in range(256)], dtype=bool)
_HAS_REASON = np.zeros(256, dtype=bool)
_HAS_REASON[[S.EV_GO_STOP, S.EV_GO_BLOCK]] = True


def event_types(events) -> np.ndarray:
    """The wire type of each event, as an int64 column (one pass the analyses share)."""
    return np.fromiter(map(_typ, events), dtype=np.int64, count=len(events))


class Reasons:
    """Wait and stop reasons (strings) numbered in order of first appearance; "" is 0."""

    def __init__(self):
        self.names: list = [""]
        self._code: dict = {"": 0}

    def codes(self, names) -> np.ndarray:
        code = self._code
        for name in dict.fromkeys(names):
            if name not in code:
                code[name] = len(self.names)
                self.names.append(name)
        return np.fromiter(map(code.__getitem__, names), dtype=np.int64, count=len(names))


class Transitions:
    """One batch of goroutine transitions in trace order, as int64 columns of equal length.

    gid: the goroutine (Transition.id); time: ns; state: the new GO_* state;
    reason: code in the shared Reasons; stack: StackTable ID of the event's
    own stack (Event.stack_id(), what a stretch that begins there is
    charged to).
    """

    __slots__ = COLUMNS + ("n", "_by_gid", "_sorted", "at")

    def __init__(self, gid, time, state, reason, stack, at=None):
        self.gid, self.time, self.state, self.reason, self.stack = gid, time, state, reason, stack
        self.n = len(gid)
        self._by_gid = None
        self._sorted = {}
        self.at = at  # of_events: each transition's index in the event list it came from

    def by_gid(self) -> np.ndarray:
        """Row indices sorted by goroutine, trace order within one (computed once: every
        recorder groups the same batch)."""
        if self._by_gid is None:
            self._by_gid = np.argsort(self.gid, kind="stable")
        return self._by_gid

    def sorted(self, column: str) -> np.ndarray:
        """The column in by_gid() order (computed once, shared by the recorders)."""
        out = self._sorted.get(column)
        if out is None:
            out = self._sorted[column] = getattr(self, column)[self.by_gid()]
        return out

    @classmethod
    def empty(cls) -> "Transitions":
        return cls(EMPTY, EMPTY, EMPTY, EMPTY, EMPTY)

    @classmethod
    def of_events(cls, events, stacks: StackTable, reasons: Reasons,
                  typs: np.ndarray | None = None) -> "Transitions":
        """The goroutine transitions among `events` (any generations), in order.

        typs: event_types(events), if already made. The goroutine transitions are
        picked by wire type; only the columns that vary are read from the events (a
        reason only where the type can carry one, a stack only where it has one).
        """
        if typs is None:
            typs = event_types(events)
        at = np.flatnonzero(IS_GOROUTINE_TRANSITION[typs])
        n = len(at)
        if not n:
            return cls.empty()
        evs = list(map(events.__getitem__, at.tolist()))
        sts = list(map(_st, evs))
        if None in sts:  # not made by the reader's fast path: made (and cached) here
            transition = E.transition
            sts = [st or transition(ev) for st, ev in zip(sts, evs)]
        typs = typs[at]
        # the event's own stack argument (0 for types without one); args are uint64
        local = np.zeros(n, dtype=np.uint64)
        rows = np.flatnonzero(~_NO_STACK[typs])
        if len(rows):
            local[rows] = np.fromiter(map(getitem, map(_args, map(evs.__getitem__,
                                                                   rows.tolist())),
                                          _STACK_AT[typs[rows]].tolist()),
                                      dtype=np.uint64, count=len(rows))
        first, last = evs[0].table, evs[-1].table
        if first is last:  # one generation (events come a generation after another)
            uniq, inv = np.unique(local, return_inverse=True)
            ids = np.fromiter((stacks.id_for(first, s) for s in uniq.tolist()),
                              dtype=np.int64, count=len(uniq))
            stack = ids[inv.reshape(-1)]
        else:
            stack = np.fromiter(map(stacks.id_for, map(_table, evs), local.tolist()),
                                dtype=np.int64, count=n)
        # only GoStop and GoBlock carry a reason: the rest are "" (code 0)
        reason = np.zeros(n, dtype=np.int64)
        rows = np.flatnonzero(_HAS_REASON[typs])
        if len(rows):
            reason[rows] = reasons.codes(list(map(_reason, map(sts.__getitem__,
                                                               rows.tolist()))))
        return cls(np.fromiter(map(_id, sts), dtype=np.int64, count=n),
                   np.fromiter(map(_time, evs), dtype=np.int64, count=n),
                   np.fromiter(map(_new, sts), dtype=np.int64, count=n),
                   reason, stack, at)

    def take(self, idx) -> "Transitions":
        return Transitions(*(getattr(self, c)[idx] for c in COLUMNS))


class Grouped:
    """Carried rows and a batch's transitions sorted by goroutine, each goroutine's carried
    rows first and its transitions in trace order.

    gid and state are whole columns in that order; the others (Transitions' columns, and
    `order`: the transition's index in the batch, -1 for a carried row) are gathered
    where asked, by take(column, rows) (a recorder needs them only at the rows that begin
    or end its stretches), or whole as attributes. `first`/`last`: whether a row
    begins/ends its goroutine's group.
    """

    def __init__(self, carry: Transitions, batch: Transitions):
        self._carry, self._batch = carry, batch
        self._cols: dict = {}
        by = batch.by_gid() + carry.n
        gid, state = batch.sorted("gid"), batch.sorted("state")
        if carry.n:  # merge the carried rows in, before their goroutine's transitions
            co = carry.by_gid()
            at = np.searchsorted(gid, carry.gid[co])
            by = np.insert(by, at, co)
            gid = np.insert(gid, at, carry.gid[co])
            state = np.insert(state, at, carry.state[co])
        self._by = by
        self.gid, self.state = gid, state
        self.n = n = len(by)
        self.first = np.ones(n, dtype=bool)
        self.last = np.ones(n, dtype=bool)
        if n > 1:
            same = gid[1:] == gid[:-1]
            self.first[1:] = ~same
            self.last[:-1] = ~same

    def take(self, column: str, idx=None) -> np.ndarray:
        """A column at rows `idx` (all rows when None), in this order."""
        by = self._by if idx is None else self._by[idx]
        if column == "order":
            return np.where(by >= self._carry.n, by - self._carry.n, -1)
        col = self._cols.get(column)
        if col is None:  # by indexes carried rows, then the batch's
            carried = getattr(self._carry, column)
            col = self._cols[column] = (np.concatenate((carried, getattr(self._batch, column)))
                                        if len(carried) else getattr(self._batch, column))
        return col[by]

    def __getattr__(self, column):
        if column in ("time", "reason", "stack", "order"):
            return self.take(column)
        raise AttributeError(column)

    def rows(self, idx) -> Transitions:
        return Transitions(*(self.take(c, idx) for c in COLUMNS))

    def state_runs(self):
        """Each goroutine's runs: maximal stretches of consecutive rows in the same state.

        Returns (run index per row, and per run the row right after its last one: the
        transition that ends it, or -1 when the run is still open at the end).
        """
        n = self.n
        if not n:
            return EMPTY, EMPTY
        s = self.state
        begins = self.first.copy()
        begins[1:] |= s[1:] != s[:-1]
        run = np.cumsum(begins) - 1
        ends = np.flatnonzero(np.concatenate((begins[1:], [True])))  # last row of each run
        closer = np.where(self.last[ends], -1, ends + 1)
        return run, closer


def unique_rows(*cols):
    """(the distinct rows of equal-length int64 columns, as columns in sorted order; each
    row's index among them)."""
    n = len(cols[0])
    if not n:
        return [c[:0] for c in cols], EMPTY
    widths = [int(c.max()).bit_length() if int(c.min()) >= 0 else 64 for c in cols]
    if sum(widths) <= 62:  # the usual case: each row packed into one int64, in row order
        key = np.zeros(n, dtype=np.int64)
        for c, w in zip(cols, widths):
            key = (key << w) | c
        keys, inv = np.unique(key, return_inverse=True)
        out = []
        for w in reversed(widths):
            out.append(keys & ((1 << w) - 1))
            keys = keys >> w
        return out[::-1], inv.reshape(-1)
    order = np.lexsort(cols[::-1])
    sc = [c[order] for c in cols]
    starts = np.zeros(n, dtype=bool)
    starts[0] = True
    for c in sc:
        starts[1:] |= c[1:] != c[:-1]
    inv = np.empty(n, dtype=np.int64)
    inv[order] = np.cumsum(starts) - 1
    return [c[starts] for c in sc], inv


def first_per_run(run: np.ndarray, rows: np.ndarray, sub: np.ndarray | None = None,
                  sub_rows: np.ndarray | None = None) -> np.ndarray:
    """For each distinct (run, sub) among `rows` (indices with run >= 0), its first row.
    sub_rows: sub[rows] given instead of sub."""
    r = run[rows]
    if sub is not None:
        sub_rows = sub[rows]
    key = r if sub_rows is None else r * (int(sub_rows.max(initial=0)) + 1) + sub_rows
    _, first = np.unique(key, return_index=True)
    return rows[np.sort(first)]
