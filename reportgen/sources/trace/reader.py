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

from dataclasses import dataclass, field

from reportgen.sources.trace import spec as S
from reportgen.sources.trace.events import Event
from reportgen.sources.trace.order import Ordering
from reportgen.sources.trace.wire import (HEADER_SIZE, GenerationReader, TraceFormatError,
                                          read_header, uvarint)


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
    clock_snapshot: tuple | None = None
    notes: list = field(default_factory=list)


class _Cursor:
    __slots__ = ("m", "batches", "idx", "off", "last", "typ", "time", "args")

    def __init__(self, m, batches):
        self.m = m
        self.batches = batches
        self.idx = 0
        self.off = 0
        self.last = 0
        self.typ = 0
        self.time = 0
        self.args = None

    def next_event(self, gen) -> bool:
        """batchCursor.nextEvent: read the next event of this thread; False when none is left."""
        batches = self.batches
        while self.idx < len(batches) and len(batches[self.idx].data) == self.off:
            self.idx += 1
            self.off = 0
            self.last = 0
        if self.idx == len(batches):
            return False
        b = batches[self.idx]
        if self.last == 0:
            self.last = gen.to_ns(b.time)
        d = b.data
        pos = self.off
        typ = d[pos]
        nargs = S.NARGS[typ] if typ < S.NUM_EVENTS else -2
        if nargs == -2:
            raise TraceFormatError(f"found invalid event type: {typ}")
        if nargs < 0:
            raise TraceFormatError(f"found event without a timestamp: type={typ}")
        ts, pos = uvarint(d, pos + 1)
        args = [0, 0, 0, 0]
        for i in range(nargs):
            args[i], pos = uvarint(d, pos)
        self.typ = typ
        self.args = args
        self.time = self.last + gen.to_ns(ts)
        self.last = self.time
        self.off = pos
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


def _validate_ids(e: Event):
    sp = S.SPECS.get(e.typ)
    if sp is None or e.table is None:
        return
    for i in sp.stacks:
        sid = e.args[i - 1]
        if sid != 0 and sid not in e.table.stacks:
            raise TraceFormatError(f"found invalid stack ID {sid} for event {sp.name}")
    for i in sp.strings:
        sid = e.args[i - 1]
        if sid != 0 and sid not in e.table.strings:
            raise TraceFormatError(f"found invalid string ID {sid} for event {sp.name}")


class _Reader:
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
        for m, batches in gen.batches.items():
            c = _Cursor(m, batches)
            if c.next_event(gen):
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


def read_trace(data: bytes) -> ParsedTrace:
    """Every event of a Go 1.22-1.26 format trace, as go tool trace reads it.

    Raises TraceFormatError for a bad header, a version reportgen does not
    read, or when no generation at all could be read; a trace that breaks
    off later comes back with `error` set and the complete part kept.
    """
    ver = read_header(data)
    if ver in S.V1_VERSIONS:
        raise TraceFormatError(f"a Go 1.{ver} execution trace (the pre-1.22 format)")
    if ver not in S.VERSION_LAST_EVENT:
        raise TraceFormatError(f"unknown or unsupported trace version go 1.{ver}")
    r = _Reader(data, ver)
    events = []
    valid_events = 0
    valid_bytes = HEADER_SIZE
    error = ""
    gens = 0
    snapshot = None
    while True:
        try:
            e = r.read()
        except TraceFormatError as exc:
            error = str(exc)
            break
        if e is None:
            valid_events = len(events)
            valid_bytes = r.gens.pos
            break
        events.append(e)
        if e.typ == S.EV_SYNC_EVENT:
            valid_events = len(events)
            valid_bytes = r.gens.pos if r.pending_error is None else valid_bytes
            if e.table is not None:
                gens += 1
                if snapshot is None and e.table.snap_wall is not None:
                    snapshot = e.table.snap_wall
    if valid_events == 0 or gens == 0:
        raise TraceFormatError(f"no complete generation in the trace: "
                               f"{error or 'it ends right after the header'}")
    return ParsedTrace(ver, events[:valid_events], events, error, valid_bytes, len(data),
                       gens, snapshot)
