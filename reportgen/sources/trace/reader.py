"""Reading a whole trace into one ordered list of events.

Mirrors Go's internal/trace reader.go and batchcursor.go: per generation,
one cursor per thread walks its batches; a min-heap on the next event's
time picks which thread goes next, and the ordering decides whether that
event may advance (if not, the others are tried in time order). Each
generation starts with a sync event; every event's time is made strictly
increasing as Go's reader does. A format error stops the read; what was
read up to the last sync (the last complete generation) is kept, as
`go tool trace` keeps it, and the error is returned with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reportgen.sources.trace import spec as S
from reportgen.sources.trace import events as E
from reportgen.sources.trace.events import Event, Transition
from reportgen.sources.trace.order import Ordering
from reportgen.sources.trace.wire import (HEADER_SIZE, GenerationReader, TraceFormatError,
                                          read_header)


@dataclass
class ParsedTrace:
    """A trace read as go tool trace reads it (cmd/trace main.go parseTrace).

    events: every event up to and including the last sync reached, in order
    (what go tool trace keeps); all_events: every event handed out before
    an error (what its goroutine summary saw); error: why reading stopped
    early ("" for a complete trace); valid_bytes / size: how much of the
    file the kept events cover; generations: complete generations read.
    """
    version: int
    events: list
    all_events: list
    error: str = ""
    valid_bytes: int = 0
    size: int = 0
    generations: int = 0
    clock_snapshot: tuple | None = None  # (seconds, nanoseconds) wall clock, Go 1.25+


class _Cursor:
    """One thread's events in a generation, decoded up front (batchcursor.go's walk).

    The thread's events are kept as numpy columns (type, time in ns, the
    four arguments zero-padded) cut into chunks of CHUNK events, each its
    own arrays; typs/times/argl are Python lists of the current chunk, made
    when the ordering reaches it, and a chunk's arrays are dropped then. So
    a generation's events are never held twice (as columns and as the
    Event objects made of them). Each argument list is fresh: the ordering
    may rewrite it.
    """
    __slots__ = ("m", "chunks", "next_chunk", "typs", "times", "argl", "k", "typ", "time",
                 "args", "n")

    CHUNK = 4096

    def __init__(self, m, typ_col, time_col, arg_col):
        self.m = m
        step = self.CHUNK
        # copies, so each chunk's memory goes when it is used up
        self.chunks = [(typ_col[i:i + step].copy(), time_col[i:i + step].copy(),
                        arg_col[i:i + step].copy()) for i in range(0, len(typ_col), step)]
        self.next_chunk = 0
        self.n = 0
        self.typs = self.times = self.argl = ()
        self.k = -1
        self.typ = 0
        self.time = 0
        self.args = None
        self.refill()

    def refill(self) -> bool:
        """Make the next chunk the current one (k = -1); False when no event is left."""
        i = self.next_chunk
        if i >= len(self.chunks):
            return False
        typs, times, args = self.chunks[i]
        self.chunks[i] = None
        self.next_chunk = i + 1
        self.n = len(typs)
        self.typs = typs.tolist()
        self.times = times.tolist()
        self.argl = args.tolist()
        self.k = -1
        return True

    def next_event(self, gen=None) -> bool:
        """batchCursor.nextEvent: step to this thread's next event; False when none is left."""
        k = self.k + 1
        if k >= self.n:
            if not self.refill():
                return False
            k = 0
        self.k = k
        self.typ = self.typs[k]
        self.time = self.times[k]
        self.args = self.argl[k]
        return True


_NARGS = np.array(S.NARGS, dtype=np.int64)
# tokens an event that starts with this type byte takes (0: no event starts so)
_STEP = np.array([n + 2 if n >= 0 else 0 for n in S.NARGS], dtype=np.uint8)
# from this many batches in a generation on, walk them side by side (vectorised): a
# vector step costs about as much as 25 Python steps, and a batch holds up to ~25k
# events; measured even at ~60 batches (0.2 s per 3 MB generation either way), the
# lockstep walk 10x faster at ~500 (a 32 MB generation: 0.2 s against 2.2 s)
LOCKSTEP_BATCHES = 64


def decode_varints(raw: np.ndarray):
    """(values as uint64, index of each varint's last byte) of the varints in `raw` (uint8),
    as encoding/binary.Uvarint reads them one after another.

    Vectorised from each varint's last byte back, one step per byte of the
    longest: most trace varints are one byte. The caller has checked that
    `raw` ends on a varint's last byte. Raises TraceFormatError for a
    varint longer than 10 bytes or past 64 bits (Go's Uvarint refuses both).
    """
    more = raw >= 0x80
    ends = np.flatnonzero(~more)
    values = raw[ends].astype(np.uint64)
    after_more = np.zeros(len(raw), dtype=bool)  # the byte before is not a varint's last
    after_more[1:] = more[:-1]
    idx = np.flatnonzero(after_more[ends])
    seven = np.uint64(7)
    back = 1
    ten = None
    while idx.size:
        if back == 10:
            raise TraceFormatError("found invalid uvarint (varint longer than 10 bytes)")
        at = ends[idx] - back
        values[idx] = (values[idx] << seven) | (raw[at] & 0x7F)
        if back == 9:
            ten = idx
        idx = idx[after_more[at]]
        back += 1
    if ten is not None and (raw[ends[ten]] > 1).any():
        raise TraceFormatError("found invalid uvarint (overflows 64 bits)")
    return values, ends


def _walk_scalar(step, values, t0s, t1s) -> np.ndarray:
    """Event start tokens of every batch (tokens t0s[b]..t1s[b]), one event at a time.

    Raises TraceFormatError at the first event (in batch order) that is not
    a known timed event or runs past its batch, as Go's batch cursor does.
    """
    step = step.tolist()
    starts: list = []
    append = starts.append
    for t0, t1 in zip(t0s, t1s):
        i = t0
        while i < t1:
            n = step[i]
            if not n:
                typ = int(values[i])
                if typ >= S.NUM_EVENTS:
                    raise TraceFormatError(f"found invalid event type: {typ}")
                raise TraceFormatError(f"found event without a timestamp: type={typ}")
            append(i)
            i += n
        if i > t1:
            raise TraceFormatError("found invalid uvarint (an event runs past its batch)")
    return np.array(starts, dtype=np.int64)


def _walk_lockstep(step, t0s, t1s, ntokens):
    """_walk_scalar's starts, all batches stepped side by side: one vector step per event
    of the longest batch instead of a Python step per event. None when some batch
    breaks the rules (the scalar walk then names the first such event)."""
    cur = t0s[t0s < t1s]
    end = t1s[t0s < t1s]
    is_start = np.zeros(ntokens, dtype=bool)
    while cur.size:
        is_start[cur] = True
        s = step[cur]
        if not s.all():
            return None
        cur = cur + s
        left = cur < end
        if not left.all():
            if (cur[~left] != end[~left]).any():
                return None
            cur = cur[left]
            end = end[left]
    return np.flatnonzero(is_start)


def decode_cursors(gen, lockstep: bool | None = None) -> list:
    """A _Cursor per thread with events, in the order threads first appear in the file.

    All event batches of the generation are varint streams (a type byte is a
    one-byte varint), so one vectorized decode serves them all; where each
    event starts follows from its type's argument count, a walk per batch
    (side by side over all batches when there are many; `lockstep` forces
    one way). Sets gen.values and gen.starts (every event's first token)
    for references_valid.
    """
    ms = list(gen.batches)
    blobs = [b.data for m in ms for b in gen.batches[m]]
    gen.values = gen.starts = None
    if not blobs:
        return []
    buf = b"".join(blobs)
    sizes = np.fromiter(map(len, blobs), dtype=np.int64, count=len(blobs))
    bends = np.cumsum(sizes)
    raw = np.frombuffer(buf, dtype=np.uint8)
    if (raw[bends[sizes > 0] - 1] >= 0x80).any():
        raise TraceFormatError("found invalid uvarint (a batch ends inside one)")
    del buf, blobs
    values, ends = decode_varints(raw)
    del raw
    # per token: how many tokens an event that starts there takes (0: it cannot start one)
    step = _STEP[np.minimum(values, 255).astype(np.intp)]
    t1s = np.searchsorted(ends, bends - 1, side="right")  # token end of each batch
    del ends
    t0s = np.concatenate(([0], t1s[:-1]))
    if lockstep is None:
        lockstep = len(sizes) >= LOCKSTEP_BATCHES
    starts = _walk_lockstep(step, t0s, t1s, len(values)) if lockstep else None
    if starts is None:
        starts = _walk_scalar(step, values, t0s.tolist(), t1s.tolist())
    del step
    gen.values, gen.starts = values, starts
    # per batch: its first event and base time; per thread: its first batch
    first_ev = np.searchsorted(starts, t0s)
    nb = [len(gen.batches[m]) for m in ms]
    typs = values[starts].astype(np.uint8)
    dts = (values[starts + 1].astype(np.float64) * gen.freq).astype(np.int64)
    nargs_of = _NARGS[typs]
    args = np.zeros((len(starts), 4), dtype=np.uint64)
    for a in range(4):
        has = np.flatnonzero(nargs_of > a)
        args[has, a] = values[starts[has] + 2 + a]
    out = []
    j = 0
    for m, k in zip(ms, nb):
        a = int(first_ev[j])
        b = int(first_ev[j + k]) if j + k < len(first_ev) else len(starts)
        if b > a:
            times = np.empty(b - a, dtype=np.int64)
            bounds = first_ev[j:j + k].tolist() + [b]
            for i, batch in enumerate(gen.batches[m]):
                lo, hi = bounds[i], bounds[i + 1]
                if hi > lo:
                    times[lo - a:hi - a] = np.cumsum(dts[lo:hi]) + gen.to_ns(batch.time)
            out.append(_Cursor(m, typs[a:b], times, args[a:b]))
        j += k
    return out


def references_valid(gen, values: np.ndarray, cursors) -> bool:
    """True when every stack and string ID the generation's events name is in its tables.

    The bulk form of _validate_ids: when it holds, the reader skips the
    per-event check (which stays, to fail at the right event, otherwise).
    """
    starts = gen.starts
    if not cursors or starts is None:
        return True
    typs = values[starts]
    stacks = np.fromiter(gen.stacks, dtype=np.uint64, count=len(gen.stacks))
    strings = np.fromiter(gen.strings, dtype=np.uint64, count=len(gen.strings))
    for t in _REFERENCES:
        at = starts[typs == t]
        if not len(at):
            continue
        sp = S.SPECS[t]
        for known, positions in ((stacks, sp.stacks), (strings, sp.strings)):
            for i in positions:
                ids = values[at + 1 + i]
                if not np.isin(ids[ids != 0], known).all():
                    return False
    return True


# The frontier heap, exactly as batchcursor.go's (ties resolve the same way).
def _sift_up(h, i):
    while i > 0 and h[(i - 1) // 2].time > h[i].time:
        j = (i - 1) // 2
        h[j], h[i] = h[i], h[j]
        i = j
    return i


def _sift_down(h, i):
    n = len(h)
    while True:
        m = i
        mt = h[i].time if i < n else None
        for c in (2 * i + 1, 2 * i + 2):
            if c < n and (mt is None or h[c].time < mt):
                m, mt = c, h[c].time
        if m == i:
            return i
        h[i], h[m] = h[m], h[i]
        i = m


def _heap_update(h, i):
    if _sift_up(h, i) != i:
        return
    _sift_down(h, i)


def _heap_remove(h, i):
    while i > 0:
        j = (i - 1) // 2
        h[j], h[i] = h[i], h[j]
        i = j
    h[0], h[-1] = h[-1], h[0]
    h.pop()
    if h:
        _sift_down(h, 0)


# wire types whose arguments name stacks or strings, which must be in the tables
_REFERENCES = frozenset(t for t, sp in S.SPECS.items() if sp.timed and (sp.stacks or sp.strings))


def _validate_ids(e: Event):
    if e.typ not in _REFERENCES or e.table is None:
        return
    sp = S.SPECS[e.typ]
    for i in sp.stacks:
        sid = e.args[i - 1]
        if sid != 0 and sid not in e.table.stacks:
            raise TraceFormatError(f"found invalid stack ID {sid} for event {sp.name}")
    for i in sp.strings:
        sid = e.args[i - 1]
        if sid != 0 and sid not in e.table.strings:
            raise TraceFormatError(f"found invalid string ID {sid} for event {sp.name}")


class _Reader:
    inline = True  # drain's inline ordering paths (False: every event through Ordering.advance)

    def __init__(self, data: bytes, ver: int):
        self.ver = ver
        self.gens = GenerationReader(data, ver)
        self.order = Ordering(ver)
        self.gen = None
        self.frontier = []
        self.cpu = []
        self.cpu_i = 0
        self.last_ts = 0
        self.syncs = 0
        self.done = False
        self.pending_error = None
        self.checked = False  # references_valid for the current generation

    def _sync(self, table, ts):
        self.syncs += 1
        return Event(S.EV_SYNC_EVENT, ts, S.NO_ID, S.NO_ID, S.NO_ID, [self.syncs, 0, 0, 0], table)

    def _install(self, gen):
        if gen is None:
            self.gen = None
            self.done = True
            return self._sync(None, self.last_ts)
        self.gen = gen
        self.cpu = gen.cpu_samples
        self.cpu_i = 0
        cursors = decode_cursors(gen)
        self.checked = references_valid(gen, gen.values, cursors)
        gen.values = gen.starts = None
        for c in cursors:
            if c.next_event():
                self.frontier.append(c)
                _sift_up(self.frontier, len(self.frontier) - 1)
        return self._sync(gen, gen.to_ns(gen.min_ts))

    def _next_gen(self):
        if self.pending_error is not None:
            raise self.pending_error
        try:
            gen = self.gens.next()
        except TraceFormatError as e:
            self.pending_error = e
            self.gen = None
            return self._sync(None, self.last_ts)
        return self._install(gen)

    def _try_advance(self, i) -> bool:
        c = self.frontier[i]
        gen = self.gen
        if not self.order.advance(c.typ, c.time, c.args, gen, c.m, gen.gen):
            return False
        if c.next_event(gen):
            _heap_update(self.frontier, i)
        else:
            _heap_remove(self.frontier, i)
        return True

    def read(self):
        """The next event, or None at the end; raises TraceFormatError."""
        if self.done:
            return None
        e = self.order.pop()
        if e is None:
            e = self._next_unqueued()
        if e.typ != S.EV_SYNC_EVENT:
            _validate_ids(e)
        if e.time <= self.last_ts:
            e.time = self.last_ts + 1
        self.last_ts = e.time
        return e

    def drain(self, out: list):
        """Append the current generation's remaining events to `out` (read()'s fast path).

        Returns when the generation is used up (the next read() gives a sync
        event or None); raises TraceFormatError as read() does, after
        appending everything handed out before the error.

        The most frequent event types (GoStart, GoStop/GoBlock/GoDestroy,
        GoUnblock, GoSyscallBegin/End, HeapAlloc/HeapGoal, GCSweepBegin/End:
        nine in ten events of a busy trace) take an inline copy of their
        Ordering handler's no-error path, which also makes their Transition;
        any event whose checks do not all pass goes through Ordering.advance,
        which decides (and raises) exactly as before. They run in an inner
        loop over the top thread's events for as long as it stays the heap's
        top. That saves the handler calls, the context tuples, the queue and
        the cursor's attribute traffic for most events. `inline = False`
        sends every event through Ordering.advance (the tests compare both).
        """
        order = self.order
        queue = order.queue
        popleft = queue.popleft
        advance = order.advance
        f = self.frontier
        gen = self.gen
        if gen is None:
            return
        g = gen.gen
        refs = frozenset() if self.checked else _REFERENCES
        append = out.append
        last = self.last_ts
        ncpu = len(self.cpu)
        cpu_done = self.cpu_i >= ncpu
        gs_get = order.gs.get
        ms_get = order.ms.get
        ps_get = order.ps.get
        strings_get = gen.strings.get
        NO = S.NO_ID
        new_tuple = tuple.__new__
        TR = Transition
        RG = E.RESOURCE_GOROUTINE
        (GO_START, GO_STOP, GO_BLOCK, GO_DESTROY, GO_UNBLOCK, SYS_BEGIN, SYS_END, HEAP_ALLOC,
         HEAP_GOAL, SWEEP_BEGIN, SWEEP_END) = (S.EV_GO_START, S.EV_GO_STOP, S.EV_GO_BLOCK,
                                               S.EV_GO_DESTROY, S.EV_GO_UNBLOCK,
                                               S.EV_GO_SYSCALL_BEGIN, S.EV_GO_SYSCALL_END,
                                               S.EV_HEAP_ALLOC, S.EV_HEAP_GOAL,
                                               S.EV_GC_SWEEP_BEGIN, S.EV_GC_SWEEP_END)
        W_RUNNABLE, W_RUNNING, W_WAITING, W_SYSCALL = (S.W_GO_RUNNABLE, S.W_GO_RUNNING,
                                                       S.W_GO_WAITING, S.W_GO_SYSCALL)
        WP_RUNNING, WP_SYSCALL = S.W_PROC_RUNNING, S.W_PROC_SYSCALL
        (G_NOT_EXIST, G_RUNNABLE, G_RUNNING, G_WAITING, G_SYSCALL) = (
            S.GO_NOT_EXIST, S.GO_RUNNABLE, S.GO_RUNNING, S.GO_WAITING, S.GO_SYSCALL)
        SWEEP_RANGE = (S.EV_GC_SWEEP_BEGIN, 0)  # order._range_type(GCSweepBegin)
        HALF, FULL = 1 << 63, 1 << 64
        # Transitions are tuples, so equal ones can be one object: per goroutine, the last
        # made for each inline type is reused while it stays the same (most events of a
        # busy trace repeat one), and a GoStop/GoBlock where the goroutine's last one was
        # shares that event's argument list too. This saves a tuple (and a list) per event
        # of the generation held. Keys: the goroutine's ID; one generation per call.
        started, stopped, blocked, unblocked, entered, left = {}, {}, {}, {}, {}, {}
        started_get, unblocked_get = started.get, unblocked.get
        entered_get, left_get = entered.get, left.get
        # the inline paths need the first generation known (Ordering.advance sets it)
        inline = self.inline
        fast = inline and order.initial_gen != 0
        try:
            while True:
                if queue:
                    e = popleft()
                elif not cpu_done or not f:
                    if not f and cpu_done:
                        return
                    e = self._next_unqueued()
                    cpu_done = self.cpu_i >= ncpu
                else:
                    c = f[0]
                    ms = ms_get(c.m) if fast else None
                    if ms is not None and ms.p != NO:
                        # A run of the top thread's events while it stays the heap's top
                        # (about a hundred in a row in a busy trace) with its cursor in
                        # locals; each branch is its Ordering handler's path when every
                        # check passes (ms.p stays the same on all of them).
                        p = ms.p
                        m = c.m
                        k = c.k
                        n = c.n
                        typs, times, argl = c.typs, c.times, c.argl
                        typ, ctime, args = c.typ, c.time, c.args
                        nf = len(f)
                        limit = f[1].time if nf > 1 else None
                        if nf > 2 and f[2].time < limit:
                            limit = f[2].time
                        while True:
                            e = None
                            if typ == GO_START:  # _go_start
                                gid = args[0]
                                if gid >= HALF:
                                    gid -= FULL
                                s = gs_get(gid)
                                if (ms.g == NO and s is not None and s.status == W_RUNNABLE
                                        and s.gen == g and args[1] == s.seq + 1):
                                    s.status = W_RUNNING
                                    s.seq = args[1]
                                    e = Event(typ, ctime, NO, p, m, args, gen)
                                    st = started_get(gid)
                                    if st is None:
                                        st = started[gid] = new_tuple(
                                            TR, (RG, args[0], G_RUNNABLE, G_RUNNING, "", 0))
                                    e.st = st
                                    ms.g = gid
                            elif typ == GO_STOP or typ == GO_BLOCK or typ == GO_DESTROY:
                                cg = ms.g  # _go_stop_exec
                                s = gs_get(cg)
                                if cg != NO and s is not None and s.status == W_RUNNING:
                                    if typ == GO_DESTROY:
                                        e = Event(typ, ctime, cg, p, m, args, gen)
                                        del order.gs[cg]
                                        e.st = new_tuple(TR, (RG, cg, G_RUNNING, G_NOT_EXIST,
                                                              "", 0))
                                    else:
                                        if typ == GO_STOP:
                                            s.status = W_RUNNABLE
                                            prev, new = stopped, G_RUNNABLE
                                        else:
                                            s.status = W_WAITING
                                            prev, new = blocked, G_WAITING
                                        hit = prev.get(cg)
                                        if (hit is not None and hit[0][0] == args[0]
                                                and hit[0][1] == args[1]):
                                            # where it stopped last time: that event's
                                            # arguments and transition (the same values)
                                            args, st = hit
                                            e = Event(typ, ctime, cg, p, m, args, gen)
                                            e.st = st
                                        else:
                                            e = Event(typ, ctime, cg, p, m, args, gen)
                                            why = args[0]
                                            why = "" if why == 0 else strings_get(why)
                                            if why is not None:
                                                st = e.st = new_tuple(
                                                    TR, (RG, cg, G_RUNNING, new, why, args[1]))
                                                prev[cg] = (args, st)
                                    ms.g = NO
                            elif typ == GO_UNBLOCK:  # _go_unblock
                                gid = args[0]
                                if gid >= HALF:
                                    gid -= FULL
                                s = gs_get(gid)
                                if (s is not None and s.status == W_WAITING and s.gen == g
                                        and args[1] == s.seq + 1):
                                    s.status = W_RUNNABLE
                                    s.seq = args[1]
                                    e = Event(typ, ctime, ms.g, p, m, args, gen)
                                    st = unblocked_get(gid)
                                    if st is None:
                                        st = unblocked[gid] = new_tuple(
                                            TR, (RG, args[0], G_WAITING, G_RUNNABLE, "", 0))
                                    e.st = st
                            elif typ == SYS_BEGIN:  # _syscall_begin
                                cg = ms.g
                                s = gs_get(cg)
                                ps = ps_get(p)
                                if (cg != NO and s is not None and s.status == W_RUNNING
                                        and ps is not None and ps.gen == g
                                        and args[0] == ps.seq + 1):
                                    s.status = W_SYSCALL
                                    ps.status = WP_SYSCALL
                                    ps.seq = args[0]
                                    e = Event(typ, ctime, cg, p, m, args, gen)
                                    st = entered_get(cg)
                                    if st is None or st[5] != args[1]:
                                        st = entered[cg] = new_tuple(
                                            TR, (RG, cg, G_RUNNING, G_SYSCALL, "", args[1]))
                                    e.st = st
                            elif typ == SYS_END:  # _syscall_end
                                cg = ms.g
                                s = gs_get(cg)
                                ps = ps_get(p)
                                if (cg != NO and s is not None and s.status == W_SYSCALL
                                        and ps is not None and ps.status == WP_SYSCALL):
                                    s.status = W_RUNNING
                                    ps.status = WP_RUNNING
                                    e = Event(typ, ctime, cg, p, m, args, gen)
                                    st = left_get(cg)
                                    if st is None:
                                        st = left[cg] = new_tuple(
                                            TR, (RG, cg, G_SYSCALL, G_RUNNING, "", 0))
                                    e.st = st
                            elif typ == HEAP_ALLOC or typ == HEAP_GOAL:  # _heap_metric
                                e = Event(typ, ctime, ms.g, p, m, args, gen)
                            elif typ == SWEEP_BEGIN:  # _sweep_begin
                                ps = ps_get(p)
                                if ps is not None and SWEEP_RANGE not in ps.ranges:
                                    ps.ranges.append(SWEEP_RANGE)
                                    e = Event(typ, ctime, ms.g, p, m, args, gen)
                            elif typ == SWEEP_END:  # _sweep_end (_end_range)
                                ps = ps_get(p)
                                if ps is not None:
                                    rs = ps.ranges
                                    for i, r in enumerate(rs):
                                        if r[0] == SWEEP_BEGIN:
                                            rs[i] = rs[-1]
                                            rs.pop()
                                            e = Event(typ, ctime, ms.g, p, m, args, gen)
                                            break
                            if e is None:  # not this way: Ordering.advance below decides
                                c.k, c.typ, c.time, c.args = k, typ, ctime, args
                                break
                            if typ in refs:
                                _validate_ids(e)
                            if ctime <= last:
                                e.time = last = last + 1
                            else:
                                last = ctime
                            append(e)
                            # batchCursor.nextEvent, and the heap's order
                            k += 1
                            if k >= n:
                                if not c.refill():
                                    _heap_remove(f, 0)
                                    break
                                typs, times, argl, n = c.typs, c.times, c.argl, c.n
                                k = 0
                            t = times[k]
                            typ, args = typs[k], argl[k]
                            if t > ctime and limit is not None and limit < t:
                                c.k, c.typ, c.time, c.args = k, typ, t, args
                                _sift_down(f, 0)
                                break
                            ctime = t
                        if e is not None:
                            continue
                    ctime = c.time
                    if advance(c.typ, ctime, c.args, gen, c.m, g):
                        e = popleft()
                        fast = inline
                        # batchCursor.nextEvent, inline
                        k = c.k + 1
                        if k >= c.n and c.refill():
                            k = 0
                        if k < c.n:
                            c.k = k
                            c.typ = c.typs[k]
                            t = c.time = c.times[k]
                            c.args = c.argl[k]
                            nf = len(f)
                            if t > ctime and (nf > 1 and f[1].time < t or
                                              nf > 2 and f[2].time < t):
                                _sift_down(f, 0)
                        else:
                            _heap_remove(f, 0)
                    else:
                        e = self._next_unqueued()
                        cpu_done = self.cpu_i >= ncpu
                if e.typ in refs:
                    _validate_ids(e)
                t = e.time
                if t <= last:
                    t = e.time = last + 1
                last = t
                append(e)
        finally:
            self.last_ts = last

    def _next_unqueued(self):
        f = self.frontier
        if not f and self.cpu_i >= len(self.cpu):
            return self._next_gen()
        if self.cpu_i < len(self.cpu):
            s = self.cpu[self.cpu_i]
            if not f or s[0] < f[0].time:
                self.cpu_i += 1
                return Event(S.EV_CPU_SAMPLE, s[0], s[3], s[2], s[1], [s[4], 0, 0, 0], self.gen)
        if not self._try_advance(0):
            f.sort(key=lambda c: c.time)
            for i in range(1, len(f)):
                if self._try_advance(i):
                    break
            else:
                raise TraceFormatError(f"broken trace: failed to advance: no thread's next event "
                                       f"can happen (generation {self.gen.gen})")
        e = self.order.pop()
        assert e is not None, "advance succeeded but the queue is empty"
        return e


class TraceStream:
    """A trace read generation by generation, so no more than one is held at a time.

    segments() yields (events, complete): the events handed out since the
    previous segment, in order. complete is True when they are followed by
    a sync (a whole generation and the sync after it, which go tool trace
    keeps: ParsedTrace.events) and False for the part of a generation read
    before a format error (which only its goroutine summary sees:
    ParsedTrace.all_events). Once segments() is used up, the fields say
    what was read: error ("" for a complete trace), valid_bytes, size,
    generations, clock_snapshot, events (how many complete events).
    segments() raises TraceFormatError at its end when no generation at
    all could be read, and at once for a bad header or an unknown version.
    """

    def __init__(self, data: bytes):
        ver = read_header(data)
        if ver in S.V1_VERSIONS:
            raise TraceFormatError(f"a Go 1.{ver} execution trace (the pre-1.22 format)")
        if ver not in S.VERSION_LAST_EVENT:
            raise TraceFormatError(f"unknown or unsupported trace version go 1.{ver}")
        self.version = ver
        self.size = len(data)
        self.error = ""
        self.valid_bytes = HEADER_SIZE
        self.generations = 0
        self.clock_snapshot = None
        self.events = 0
        self._reader = _Reader(data, ver)

    def segments(self):
        r = self._reader
        buf: list = []
        while True:
            try:
                r.drain(buf)
                e = r.read()
            except TraceFormatError as exc:
                self.error = str(exc)
                if buf:
                    yield buf, False
                break
            if e is None:
                self.events += len(buf)
                self.valid_bytes = r.gens.pos
                if buf:
                    yield buf, True
                break
            buf.append(e)
            if e.typ != S.EV_SYNC_EVENT:
                continue
            self.events += len(buf)
            if r.pending_error is None:
                self.valid_bytes = r.gens.pos
            if e.table is not None:
                self.generations += 1
                if self.clock_snapshot is None and e.table.snap_wall is not None:
                    self.clock_snapshot = e.table.snap_wall
            yield buf, True
            buf = []
        if self.events == 0 or self.generations == 0:
            raise TraceFormatError(f"no complete generation in the trace: "
                                   f"{self.error or 'it ends right after the header'}")


def read_trace(data: bytes) -> ParsedTrace:
    """Every event of a Go 1.22-1.26 format trace, as go tool trace reads it.

    Raises TraceFormatError for a bad header, a version reportgen does not
    read, or when no generation at all could be read; a trace that breaks
    off later comes back with `error` set and the complete part kept.
    TraceStream reads the same a generation at a time.
    """
    stream = TraceStream(data)
    events: list = []
    valid = 0
    for seg, complete in stream.segments():
        events.extend(seg)
        if complete:
            valid = len(events)
    return ParsedTrace(stream.version, events[:valid], events, stream.error, stream.valid_bytes,
                       stream.size, stream.generations, stream.clock_snapshot)
