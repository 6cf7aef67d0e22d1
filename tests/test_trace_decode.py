"""The trace decoder (reader.decode_cursors) against a walk one varint at a time.

decode_cursors finds where each event starts either one event at a time
or with every batch stepped side by side (numpy), and hands each thread's
events to the ordering a chunk at a time. These tests hold both walks to a
reference decode written with wire.uvarint, event by event, and the whole
reader with tiny chunks to the default, on every trace the tests have
(the committed ones, the example's, Go's own reader tests) and on cut and
corrupted copies of them.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from reportgen.sources.trace import spec as S
from reportgen.sources.trace.reader import _Cursor, decode_cursors, decode_varints, read_trace
from reportgen.sources.trace.wire import GenerationReader, TraceFormatError, read_header, uvarint
from tests.test_trace_reader import TRACES, goroot_tests
from tests.trace.textformat import read_test

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "alerts" / "trace.out"


def reference(gen) -> list:
    """[(m, [(typ, time ns, args)])] per thread, walking each batch varint by varint
    (batchcursor.go readTimedBaseEvent), or the error message."""
    out = []
    try:
        for m, batches in gen.batches.items():
            evs = []
            for b in batches:
                d, pos, t = b.data, 0, gen.to_ns(b.time)
                while pos < len(d):
                    typ = d[pos]
                    n = S.NARGS[typ]
                    if n < 0:
                        if typ >= S.NUM_EVENTS:
                            raise TraceFormatError(f"found invalid event type: {typ}")
                        raise TraceFormatError(f"found event without a timestamp: type={typ}")
                    pos += 1
                    if pos + n >= len(d):   # fewer tokens left than the event has
                        raise TraceFormatError("found invalid uvarint (an event runs past "
                                               "its batch)")
                    dt, pos = uvarint(d, pos)
                    args = []
                    for _ in range(n):
                        v, pos = uvarint(d, pos)
                        args.append(v)
                    t += int(float(dt) * gen.freq)
                    evs.append((typ, t, args + [0] * (4 - n)))
            if evs:
                out.append((m, evs))
    except TraceFormatError as e:
        return str(e)
    return out


def decoded(gen, lockstep: bool):
    try:
        cursors = decode_cursors(gen, lockstep=lockstep)
    except TraceFormatError as e:
        return str(e)
    out = []
    for c in cursors:
        evs = []
        while c.next_event():
            evs.append((c.typ, c.time, c.args))
        out.append((c.m, evs))
    return out


def generations(data: bytes):
    try:
        r = GenerationReader(data, read_header(data))
        while (g := r.next()) is not None:
            yield g
    except TraceFormatError:
        return


def variants(data: bytes, seed: str, n: int = 6):
    rnd = random.Random(seed)
    yield data
    for _ in range(n):
        b = bytearray(data)
        for _ in range(3):
            i = rnd.randrange(16, len(b))
            b[i] = rnd.choice((rnd.randrange(256), 0x80 | rnd.randrange(128), S.EV_STRING))
        yield bytes(b)


def all_traces():
    out = [(p.name, p.read_bytes()) for p in TRACES]
    if EXAMPLE.exists():
        out.append(("alerts", EXAMPLE.read_bytes()))
    for p in goroot_tests():
        out.append((p.name, read_test(p)[1]))
    return out


TRACE_DATA = all_traces()


@pytest.mark.parametrize("name,data", TRACE_DATA, ids=[n for n, _ in TRACE_DATA])
def test_both_walks_equal_the_reference_decode(name, data):
    seen = 0
    for v in variants(data, name):
        for gen in generations(v):
            want, got = reference(gen), decoded(gen, True)
            assert got == decoded(gen, False)
            # a bad varint: the decoder names the first by kind, the reference by position
            assert got == want or isinstance(got, str) and isinstance(want, str)
            seen += 1
    assert seen


def test_lockstep_finds_errors_where_the_walk_does():
    """Bad events (a type that takes no timestamp, an unknown type, arguments that run
    past the batch) at the end of several batches: the lockstep walk gives up and the
    error names the first in file order, as the walk one event at a time does."""
    data = next(d for n, d in TRACE_DATA if n == "generations.trace")
    tails = [bytes([100]), bytes([S.EV_STRING]), bytes([S.EV_GO_START, 1])]
    checked = 0
    for first in range(len(tails)):
        for gen in generations(data):
            batches = [b for bs in gen.batches.values() for b in bs]
            if len(batches) < 3:
                continue
            for i, b in enumerate(batches[1:]):
                b.data = b.data + tails[(first + i) % len(tails)]
            want = reference(gen)
            assert isinstance(want, str)
            assert decoded(gen, True) == decoded(gen, False) == want
            checked += 1
    assert checked >= 3


@pytest.mark.parametrize("chunk", [1, 3])
@pytest.mark.parametrize("name,data", [t for t in TRACE_DATA if not t[0].endswith(".test")],
                         ids=[n for n, _ in TRACE_DATA if not n.endswith(".test")])
def test_small_chunks_read_the_same(monkeypatch, name, data, chunk):
    """The ordering reads each thread's events a chunk at a time; chunk edges anywhere
    (in the inline run, at an advance, at the end) change nothing."""
    def outcome(d):
        try:
            p = read_trace(d)
        except TraceFormatError as e:
            return str(e)
        return ([(e.typ, e.time, e.g, e.p, e.m, list(e.args), e.st) for e in p.all_events],
                p.error, len(p.events), p.valid_bytes)

    for v in variants(data, name, 3):
        want = outcome(v)
        with monkeypatch.context() as mp:
            mp.setattr(_Cursor, "CHUNK", chunk)
            assert outcome(v) == want


def test_cursor_chunks_are_fresh_lists():
    """Each event's argument list is its own (the ordering rewrites some in place)."""
    c = _Cursor(1, np.array([S.EV_GO_START] * 5, dtype=np.uint8), np.arange(5),
                np.zeros((5, 4), dtype=np.uint64))
    seen = []
    while c.next_event():
        seen.append(c.args)
    assert len(seen) == 5 and len({id(a) for a in seen}) == 5


def test_repeated_transitions_are_one_object():
    """A goroutine's GoStarts in a generation share one Transition: a tuple per event
    held is what a large generation's memory was made of."""
    parsed = read_trace(next(d for n, d in TRACE_DATA if n == "channels.trace"))
    first: dict = {}
    shared = 0
    for e in parsed.events:
        if e.typ == S.EV_GO_START and e.st is not None:   # made by the inline path
            key = (id(e.table), e.st)
            if key in first:
                assert first[key] is e.st
                shared += 1
            else:
                first[key] = e.st
    assert shared > len(first)
    # a goroutine's blocks where it blocked last time share that event's argument list
    last: dict = {}
    same_args = 0
    for e in parsed.events:
        if e.typ == S.EV_GO_BLOCK and e.st is not None:
            before = last.get((id(e.table), e.g))
            if before is not None and before[:2] == e.args[:2]:
                assert before is e.args
                same_args += 1
            last[(id(e.table), e.g)] = e.args
    assert same_args


def _varints_one_by_one(buf: bytes):
    values, ends, pos = [], [], 0
    while pos < len(buf):
        v, pos = uvarint(buf, pos)
        if pos - 1 - (ends[-1] if ends else -1) > 10:   # Go's Uvarint: at most 10 bytes
            raise TraceFormatError("longer")
        values.append(v)
        ends.append(pos - 1)
    return values, ends


@pytest.mark.parametrize("seed", range(40))
def test_varints_decode_as_one_by_one(seed):
    rnd = random.Random(seed)
    parts = []
    for _ in range(rnd.randrange(1, 300)):   # valid: up to 10 bytes, the 10th at most 1
        n = rnd.choice((1, 1, 1, 2, 3, 5, 9, 10))
        last = rnd.randrange(2) if n == 10 else rnd.randrange(128)
        parts.append(bytes([0x80 | rnd.randrange(128) for _ in range(n - 1)] + [last]))
    if seed % 2:   # one bad varint somewhere: 11 or 12 bytes, or 10 past 64 bits
        n = rnd.choice((10, 11, 12))
        bad = bytes([0x80 | rnd.randrange(128) for _ in range(n - 1)] + [rnd.randrange(2, 128)])
        parts.insert(rnd.randrange(len(parts) + 1), bad)
    buf = b"".join(parts)
    try:
        want = _varints_one_by_one(buf)
    except TraceFormatError:
        want = None
    try:
        values, ends = decode_varints(np.frombuffer(buf, dtype=np.uint8))
        got = (values.tolist(), ends.tolist())
    except TraceFormatError:
        got = None
    assert got == want and (want is None) == bool(seed % 2)
