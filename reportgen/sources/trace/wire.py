"""Framing of a Go 1.22+ trace: the header, batches, and one generation's tables.

Mirrors Go's internal/trace (version/version.go ReadHeader, batch.go
readBatch, generation.go readGeneration / readGenerationWithSpill): a
generation is every batch carrying one generation number; Go 1.26 ends each
with an EndOfGeneration marker, earlier versions by the next generation's
first batch. Strings, stacks, CPU samples and the sync (frequency, clock
snapshot) batches are read into tables; the other batches are kept per
thread (M) in file order for the ordering step.
"""

from __future__ import annotations

import re

from reportgen.sources.trace import spec as S


class TraceFormatError(Exception):
    """The bytes break the trace format; the message says how (Go's wording where it has one)."""


_HEADER = re.compile(rb"go 1\.(\d+) trace\x00\x00\x00")
HEADER_SIZE = 16


def read_header(data: bytes) -> int:
    """The minor Go version of the header `go 1.N trace\\0\\0\\0`, as version.ReadHeader.

    Raises TraceFormatError for a missing header or an unknown version.
    """
    m = _HEADER.match(data[:HEADER_SIZE + 4])
    if not m:
        raise TraceFormatError("bad file format: not a Go execution trace?")
    return int(m.group(1))


def is_trace(data: bytes) -> bool:
    return data[:5] == b"go 1." and _HEADER.match(data[:HEADER_SIZE + 4]) is not None


def uvarint(data, pos: int):
    """(value, next position) of the unsigned LEB128 varint at pos, as encoding/binary.Uvarint.

    Raises TraceFormatError when it runs off the end or overflows 64 bits.
    """
    x = 0
    shift = 0
    n = len(data)
    i = pos
    while True:
        if i >= n:
            raise TraceFormatError("found invalid uvarint (data ends inside it)")
        b = data[i]
        i += 1
        if b < 0x80:
            if shift == 63 and b > 1 or shift > 63:
                raise TraceFormatError("found invalid uvarint (overflows 64 bits)")
            return x | (b << shift), i
        x |= (b & 0x7F) << shift
        shift += 7
        if shift > 63:
            raise TraceFormatError("found invalid uvarint (overflows 64 bits)")


class Batch:
    __slots__ = ("m", "time", "data", "exp")

    def __init__(self, m, time, data, exp):
        self.m = m
        self.time = time
        self.data = data
        self.exp = exp

    def first(self):
        return self.data[0] if self.exp == 0 and len(self.data) > 0 else -1


class EndOfInput(Exception):
    pass


def read_batch(data: bytes, pos: int):
    """(batch, generation, next position) at pos, as readBatch; EndOfInput at a clean end."""
    if pos >= len(data):
        raise EndOfInput
    typ = data[pos]
    pos += 1
    if typ == S.EV_END_OF_GENERATION:
        return Batch(S.NO_ID, 0, bytes([typ]), 0), 0, pos
    if typ not in (S.EV_EVENT_BATCH, S.EV_EXPERIMENTAL_BATCH):
        raise TraceFormatError(f"expected batch event, got event {typ}")
    exp = 0
    if typ == S.EV_EXPERIMENTAL_BATCH:
        if pos >= len(data):
            raise TraceFormatError("error reading experimental batch: unexpected EOF")
        exp = data[pos]
        pos += 1
    try:
        gen, pos = uvarint(data, pos)
        m, pos = uvarint(data, pos)
        ts, pos = uvarint(data, pos)
        size, pos = uvarint(data, pos)
    except TraceFormatError as e:
        raise TraceFormatError(f"error reading batch header: {e}") from None
    if size > S.MAX_BATCH_SIZE:
        raise TraceFormatError(f"invalid batch size {size}, maximum is {S.MAX_BATCH_SIZE}")
    if pos + size > len(data):
        raise TraceFormatError(f"failed to read full batch: read {len(data) - pos} but wanted "
                               f"{size}")
    return Batch(signed(m), ts, data[pos:pos + size], exp), gen, pos + size


def signed(x: int) -> int:
    """A uint64 ID as Go's int64 ThreadID/ProcID/GoID (so ^0 is -1, the "none" value)."""
    return x - (1 << 64) if x >= (1 << 63) else x


class Generation:
    """One generation: its tables and its per-thread event batches.

    strings: {id: str}; stacks: {id: tuple of pcs, leaf first}; pcs: {pc:
    (func string id, file string id, line)}; batches: {m: [Batch]} with ms in
    order of first appearance; cpu_samples: [(time ns, m, p, g, stack id)];
    freq: nanoseconds per tick (float); min_ts: the earliest batch time (ticks).
    """

    def __init__(self):
        self.gen = 0
        self.strings = {}
        self.stacks = {}
        self.pcs = {}
        self.batches = {}
        self.cpu_samples = []
        self.freq = 0.0
        self.has_clock_snapshot = False
        self.snap_wall = None  # (sec, nsec) of the clock snapshot
        self.min_ts = 0
        self.extra_strings = []
        self.extra_string_ids = {}
        self.exp_batches = 0

    def to_ns(self, ticks: int) -> int:
        """frequency.mul: float64 multiply, truncated to int64."""
        return int(float(ticks) * self.freq)

    def add_extra_string(self, s: str) -> int:
        if s == "":
            return 0
        i = self.extra_string_ids.get(s)
        if i is None:
            self.extra_strings.append(s)
            i = self.extra_string_ids[s] = len(self.extra_strings)
        return i

    def extra_string(self, i: int) -> str:
        return "" if i == 0 else self.extra_strings[i - 1]

    def string(self, i: int) -> str:
        if i == 0:
            return ""
        return self.strings[i]

    def frames(self, stack_id: int):
        """[(pc, function, file, line)], leaf first; [] for stack 0."""
        if stack_id == 0:
            return []
        out = []
        for pc in self.stacks[stack_id]:
            f = self.pcs[pc]
            out.append((pc, self.string(f[0]), self.string(f[1]), f[2]))
        return out


def _process_batch(g: Generation, b: Batch, ver: int):
    first = b.first()
    if first == S.EV_STRINGS:
        _add_strings(g, b)
    elif first == S.EV_STACKS:
        _add_stacks(g, b)
    elif first == S.EV_CPU_SAMPLES:
        _add_cpu_samples(g, b)
    elif (first == S.EV_FREQUENCY and ver < 25) or (first == S.EV_SYNC and ver >= 25):
        _set_sync(g, b, ver)
    elif b.exp != 0:
        g.exp_batches += 1  # experimental data (alloc/free): not used by any analysis
    elif first == S.EV_END_OF_GENERATION:
        raise TraceFormatError("unexpected EndOfGeneration; broken trace?")
    else:
        g.batches.setdefault(b.m, []).append(b)


def _add_strings(g, b):
    d = b.data
    pos = 1
    while pos < len(d):
        if d[pos] != S.EV_STRING:
            raise TraceFormatError(f"expected string event, got {d[pos]}")
        sid, pos = uvarint(d, pos + 1)
        n, pos = uvarint(d, pos)
        if n > S.MAX_STRING_SIZE:
            raise TraceFormatError(f"invalid string size {n}, maximum is {S.MAX_STRING_SIZE}")
        if pos + n > len(d):
            raise TraceFormatError(f"failed to read full string: read {len(d) - pos} but "
                                   f"wanted {n}")
        if sid in g.strings or sid == 0:
            raise TraceFormatError(f"multiple strings with the same ID: id={sid}")
        g.strings[sid] = d[pos:pos + n].decode("utf-8", "replace")
        pos += n


def _add_stacks(g, b):
    d = b.data
    pos = 1
    pcs = g.pcs
    while pos < len(d):
        if d[pos] != S.EV_STACK:
            raise TraceFormatError(f"expected stack event, got {d[pos]}")
        sid, pos = uvarint(d, pos + 1)
        nframes, pos = uvarint(d, pos)
        if nframes > S.MAX_FRAMES_PER_STACK:
            raise TraceFormatError(f"invalid stack size {nframes}, maximum is "
                                   f"{S.MAX_FRAMES_PER_STACK}")
        frames = []
        for _ in range(nframes):
            pc, pos = uvarint(d, pos)
            func, pos = uvarint(d, pos)
            file, pos = uvarint(d, pos)
            line, pos = uvarint(d, pos)
            frames.append(pc)
            if pc not in pcs:
                pcs[pc] = (func, file, line)
        if sid in g.stacks or sid == 0:
            raise TraceFormatError(f"multiple stacks with the same ID: id={sid}")
        g.stacks[sid] = tuple(frames)


def _add_cpu_samples(g, b):
    d = b.data
    pos = 1
    while pos < len(d):
        if d[pos] != S.EV_CPU_SAMPLE:
            raise TraceFormatError(f"expected CPU sample event, got {d[pos]}")
        ts, pos = uvarint(d, pos + 1)
        m, pos = uvarint(d, pos)
        p, pos = uvarint(d, pos)
        gid, pos = uvarint(d, pos)
        st, pos = uvarint(d, pos)
        g.cpu_samples.append([ts, signed(m), signed(p), S.NO_ID if gid == 0 else signed(gid), st])


def _set_sync(g, b, ver):
    d = b.data
    pos = 1 if ver >= 25 else 0
    last = b.time
    while pos < len(d):
        et = d[pos]
        pos += 1
        if et == S.EV_FREQUENCY:
            if g.freq != 0:
                raise TraceFormatError("found multiple frequency events")
            f, pos = uvarint(d, pos)
            if f == 0:
                raise TraceFormatError("found a frequency of zero")
            g.freq = 1.0 / (float(f) / 1e9)
        elif et == S.EV_CLOCK_SNAPSHOT and ver >= 25:
            if g.has_clock_snapshot:
                raise TraceFormatError("found multiple clock snapshot events")
            g.has_clock_snapshot = True
            dt, pos = uvarint(d, pos)
            last += dt
            _mono, pos = uvarint(d, pos)
            sec, pos = uvarint(d, pos)
            nsec, pos = uvarint(d, pos)
            g.snap_wall = (sec, nsec)
        else:
            raise TraceFormatError(f"expected frequency or clock snapshot event, got {et}")


def _finish(g: Generation, ver: int):
    if g.freq == 0:
        raise TraceFormatError("no frequency event found")
    if ver >= 25 and not g.has_clock_snapshot:
        raise TraceFormatError("no clock snapshot event found")
    for sid, frames in g.stacks.items():
        for pc in frames:
            f = g.pcs.get(pc)
            if f is None:
                raise TraceFormatError(f"found unknown pc {pc:x} for stack {sid}")
            if f[0] != 0 and f[0] not in g.strings:
                raise TraceFormatError(f"found invalid func string ID {f[0]} for stack {sid}")
            if f[1] != 0 and f[1] not in g.strings:
                raise TraceFormatError(f"found invalid file string ID {f[1]} for stack {sid}")
    for s in g.cpu_samples:
        s[0] = g.to_ns(s[0])
    g.cpu_samples.sort(key=lambda s: s[0])  # fixUpCPUSamples (a stable sort by time)


class GenerationReader:
    """Generations of one trace in file order, as Go's Reader pulls them.

    next() returns a Generation, None at the clean end, or raises
    TraceFormatError. For Go < 1.26 a read error after a generation started
    still yields the batches read so far, and the error comes on the next
    call (readGenerationWithSpill). `pos` is how far the input was read.
    """

    def __init__(self, data: bytes, ver: int):
        self.data = data
        self.ver = ver
        self.pos = HEADER_SIZE
        self._spill = None
        self._pending_error = None
        self._started = False

    def next(self):
        if self.ver >= 26:
            return self._next_marked()
        return self._next_spilled()

    def _next_marked(self):
        g = Generation()
        started = self.pos
        while True:
            try:
                b, gen, self.pos = read_batch(self.data, self.pos)
            except EndOfInput:
                # Go's reader ends quietly when only table batches of a generation were read;
                # they are still a cut-off generation, and the report says so
                if self.pos != started:
                    raise TraceFormatError("incomplete generation found; trace likely truncated")
                return None
            if g.gen == 0:
                g.gen = gen
            if b.first() == S.EV_END_OF_GENERATION:
                break
            if gen == 0:
                raise TraceFormatError(f"invalid generation number {gen}")
            if gen != g.gen:
                raise TraceFormatError("broken trace: missing end-of-generation event, or "
                                       "generations are interleaved")
            if g.min_ts == 0 or b.time < g.min_ts:
                g.min_ts = b.time
            _process_batch(g, b, self.ver)
        _finish(g, self.ver)
        return g

    def _next_spilled(self):
        if self._pending_error is not None:
            e, self._pending_error = self._pending_error, None
            raise e
        if self._started and self._spill is None:
            return None
        self._started = True
        g = Generation()
        if self._spill is not None:
            gen, b = self._spill
            g.gen = gen
            g.min_ts = b.time
            _process_batch(g, b, self.ver)
            self._spill = None
        while True:
            try:
                b, gen, self.pos = read_batch(self.data, self.pos)
            except EndOfInput:
                break
            except TraceFormatError as e:
                if g.gen != 0:
                    self._pending_error = e
                    break
                raise
            if gen == 0:
                raise TraceFormatError(f"invalid generation number {gen}")
            if g.gen == 0:
                g.gen = gen
            if gen == g.gen + 1:
                self._spill = (gen, b)
                break
            if gen != g.gen:
                raise TraceFormatError("generations out of order")
            if g.min_ts == 0 or b.time < g.min_ts:
                g.min_ts = b.time
            _process_batch(g, b, self.ver)
        _finish(g, self.ver)
        return g  # a pending read error comes on the next call, after this generation
