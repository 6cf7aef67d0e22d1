"""The fast forms of the trace reader and analyses against their plain definitions.

- the reader's inline ordering paths (_Reader.drain) against every event
  going through Ordering.advance, on committed traces, cut and corrupted;
- the recorders that work on numpy columns of goroutine transitions
  (blocking profiles, wait sites, timeline segments) against a loop over
  the transitions one at a time that states what each records, on random
  transition sequences fed in random chunks (what is still open at the end
  of a chunk is carried into the next) and on real traces;
- the column helpers (unique_rows, state_runs, first_per_run) on edge cases.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reportgen.analyze.trace_profiles import _TRACKED, PROFILE_KINDS, BlockingRecorder
from reportgen.analyze.trace_report import WaitRecorder
from reportgen.analyze.trace_stacks import StackTable
from reportgen.analyze.trace_timeline import STATE_CODES, SegmentRecorder
from reportgen.analyze.trace_transitions import (Grouped, Reasons, Transitions, first_per_run,
                                                 unique_rows)
from reportgen.sources.trace import events as E
from reportgen.sources.trace import spec as S
from reportgen.sources.trace.reader import TraceStream, _Reader, read_trace
from reportgen.sources.trace.wire import TraceFormatError

DATA = Path(__file__).resolve().parent / "data" / "trace"
TRACES = sorted(DATA.glob("*.trace"))
STATES = (S.GO_NOT_EXIST, S.GO_RUNNABLE, S.GO_RUNNING, S.GO_WAITING, S.GO_SYSCALL)
REASONS = ("", "chan receive", "sync", "network", "select", "sleep", "forever", "preempted")


# -- the reader's inline ordering paths ---------------------------------------------------

def _stream(data: bytes, inline: bool):
    """Every event (with its transition) and the outcome of reading `data`."""
    old = _Reader.inline
    _Reader.inline = inline
    try:
        parsed = read_trace(data)
    except TraceFormatError as e:
        return [], f"error: {e}"
    finally:
        _Reader.inline = old
    out = []
    for e in parsed.all_events:
        tr = E.transition(e) if E.KIND[e.typ] == E.KIND_STATE_TRANSITION else None
        out.append((e.typ, e.time, e.g, e.p, e.m, list(e.args), tr))
    return out, (parsed.error, len(parsed.events), parsed.valid_bytes, parsed.generations)


def _variants(data: bytes, rnd: random.Random, n: int):
    yield data
    for cut in sorted(rnd.sample(range(17, len(data)), min(n, len(data) - 17))):
        yield data[:cut]
    for _ in range(n):
        b = bytearray(data)
        i = rnd.randrange(16, len(b))
        b[i] = rnd.randrange(256)
        yield bytes(b)


@pytest.mark.parametrize("path", TRACES, ids=lambda p: p.name)
def test_inline_ordering_equals_ordering_advance(path):
    rnd = random.Random(path.name)
    for data in _variants(path.read_bytes(), rnd, 12):
        assert _stream(data, True) == _stream(data, False)


# -- the recorders: definitions one transition at a time ------------------------------------

def blocking_reference(chunks, kinds=PROFILE_KINDS) -> dict:
    """makeComputePprofFunc per kind: {kind: [(goroutine, begin, end, stack)] in end order}."""
    open_: dict = {}
    out = {k: [] for k in kinds}
    for chunk in chunks:
        for gid, t, new, reason, sid in chunk:
            cur = open_.get(gid)
            if cur is not None and cur[0] != new:
                del open_[gid]
                for kind, (b, s) in cur[1].items():
                    out[kind].append((gid, b, t, s))
                cur = None
            ks = [k for k in kinds if _TRACKED[k][0] == new and _TRACKED[k][1](reason)]
            if ks:
                if cur is None:
                    cur = open_[gid] = (new, {})
                for k in ks:
                    cur[1].setdefault(k, (t, sid))
    return out


def waits_reference(chunks) -> dict:
    open_: dict = {}
    ns: dict = {}
    for chunk in chunks:
        for gid, t, new, reason, sid in chunk:
            if new != S.GO_WAITING:
                for r, (b, s) in open_.pop(gid, {}).items():
                    ns[(gid, r, s)] = ns.get((gid, r, s), 0) + t - b
                continue
            open_.setdefault(gid, {}).setdefault(reason, (t, sid))
    return ns


def segments_reference(chunks) -> tuple:
    """({goroutine: [(begin, end, (state, reason, stack))]}, {goroutine: (begin, kind)})."""
    cur: dict = {}
    segs: dict = {}
    for chunk in chunks:
        for gid, t, new, reason, sid in chunk:
            prev = cur.pop(gid, None)
            if prev is not None:
                segs.setdefault(gid, []).append((prev[0], t, prev[1]))
            if new in STATE_CODES:
                cur[gid] = (t, (new, reason, sid))
    return segs, cur


def _columns(chunk, reasons: Reasons) -> Transitions:
    cols = list(zip(*chunk)) if chunk else [[]] * 5
    return Transitions(np.array(cols[0], dtype=np.int64), np.array(cols[1], dtype=np.int64),
                       np.array(cols[2], dtype=np.int64), reasons.codes(list(cols[3])),
                       np.array(cols[4], dtype=np.int64))


def _recorded(chunks):
    stacks, reasons = StackTable(), Reasons()
    blocking = BlockingRecorder(stacks, reasons)
    waits = WaitRecorder(stacks, reasons)
    lanes = SegmentRecorder(stacks, reasons)
    for chunk in chunks:
        tr = _columns(chunk, reasons)
        blocking.feed(tr)
        waits.feed(tr)
        lanes.feed(tr)
    rows = {k: [tuple(r) for a in blocking._rows[k] for r in a.tolist()] for k in PROFILE_KINDS}
    kinds = list(lanes._kinds)
    segs: dict = {}
    for a in lanes._rows:
        for gid, b, e, k in a.tolist():
            segs.setdefault(gid, []).append((b, e, kinds[k]))
    c = lanes._carry
    open_kinds = lanes._kind_of(c.state, c.reason, c.stack).tolist()
    kinds = list(lanes._kinds)
    cur = {gid: (t, kinds[k]) for gid, t, k in zip(c.gid.tolist(), c.time.tolist(), open_kinds)}
    return rows, waits.ns, (segs, cur)


def _check(chunks):
    rows, ns, lanes = _recorded(chunks)
    assert rows == blocking_reference(chunks)
    assert ns == waits_reference(chunks)
    assert lanes == segments_reference(chunks)


_transition = st.tuples(st.integers(1, 6), st.sampled_from(STATES), st.sampled_from(REASONS),
                        st.integers(0, 4))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_transition, max_size=80), st.lists(st.integers(0, 80), max_size=6))
def test_recorders_equal_their_definitions(transitions, cuts):
    rows = [(gid, 10 * (i + 1), state, reason, stack)
            for i, (gid, state, reason, stack) in enumerate(transitions)]
    bounds = [0] + sorted(c for c in cuts if c <= len(rows)) + [len(rows)]
    _check([rows[a:b] for a, b in zip(bounds, bounds[1:])])


@pytest.mark.parametrize("path", TRACES, ids=lambda p: p.name)
def test_recorders_equal_their_definitions_on_traces(path):
    stacks, reasons = StackTable(), Reasons()
    chunks = []
    for events, complete in TraceStream(path.read_bytes()).segments():
        tr = Transitions.of_events(events, stacks, reasons)
        chunks.append(list(zip(tr.gid.tolist(), tr.time.tolist(), tr.state.tolist(),
                               [reasons.names[r] for r in tr.reason.tolist()],
                               tr.stack.tolist())))
    assert sum(map(len, chunks)) > 0
    _check(chunks)


def test_transitions_of_events_are_the_goroutine_transitions():
    parsed = read_trace((DATA / "channels.trace").read_bytes())
    stacks, reasons = StackTable(), Reasons()
    tr = Transitions.of_events(parsed.all_events, stacks, reasons)  # every generation at once
    want = [(ev, E.transition(ev)) for ev in parsed.all_events
            if E.KIND[ev.typ] == E.KIND_STATE_TRANSITION
            and E.transition(ev).resource == E.RESOURCE_GOROUTINE]
    assert tr.gid.tolist() == [t.id for _, t in want]
    assert tr.time.tolist() == [ev.time for ev, _ in want]
    assert tr.state.tolist() == [t.new for _, t in want]
    assert [reasons.names[r] for r in tr.reason.tolist()] == [t.reason for _, t in want]
    assert [stacks.frames[s] for s in tr.stack.tolist()] == \
        [tuple(ev.stack()) for ev, _ in want]
    assert [parsed.all_events[i] for i in tr.at.tolist()] == [ev for ev, _ in want]


# -- the helpers -----------------------------------------------------------------------------

def test_unique_rows():
    a = np.array([3, 1, 3, 1, 2], dtype=np.int64)
    b = np.array([0, 5, 0, 4, 9], dtype=np.int64)
    uniq, inv = unique_rows(a, b)
    assert [u.tolist() for u in uniq] == [[1, 1, 2, 3], [4, 5, 9, 0]]
    assert inv.tolist() == [3, 1, 3, 0, 2]
    empty = np.zeros(0, dtype=np.int64)
    uniq, inv = unique_rows(empty, empty)
    assert [len(u) for u in uniq] == [0, 0] and len(inv) == 0


def test_unique_rows_packed_and_lexsorted_agree():
    """Rows packed into one int64 (small non-negative columns) and the lexsort path (a
    negative or wide value) give the same distinct rows in the same order."""
    rng = np.random.default_rng(1)
    for trial in range(200):
        n = int(rng.integers(1, 100))
        cols = [rng.integers(0, int(rng.choice([2, 5, 1000, 2 ** 20])), n).astype(np.int64)
                for _ in range(int(rng.integers(1, 4)))]
        if trial % 3 == 0:
            cols[0][0] = -3
        if trial % 7 == 0:
            cols[-1][0] = 2 ** 40
        uniq, inv = unique_rows(*cols)
        rows = sorted(set(zip(*(c.tolist() for c in cols))))
        assert list(zip(*(u.tolist() for u in uniq))) == rows
        assert [rows[i] for i in inv.tolist()] == list(zip(*(c.tolist() for c in cols)))


def test_state_runs_and_first_per_run():
    reasons = Reasons()
    carry = _columns([(7, 1, S.GO_WAITING, "sync", 1)], reasons)
    batch = _columns([(5, 2, S.GO_RUNNING, "", 0), (7, 3, S.GO_WAITING, "chan receive", 2),
                      (5, 4, S.GO_RUNNING, "", 0), (7, 5, S.GO_RUNNABLE, "", 0),
                      (5, 6, S.GO_WAITING, "select", 3)], reasons)
    g = Grouped(carry, batch)
    assert g.gid.tolist() == [5, 5, 5, 7, 7, 7]  # carried rows first in their goroutine
    assert g.order.tolist() == [0, 2, 4, -1, 1, 3]
    assert g.first.tolist() == [True, False, False, True, False, False]
    assert g.last.tolist() == [False, False, True, False, False, True]
    run, closer = g.state_runs()
    assert run.tolist() == [0, 0, 1, 2, 2, 3]
    assert closer.tolist() == [2, -1, 5, -1]  # the row that ends each run, -1: still open
    rows = np.flatnonzero(g.state == S.GO_WAITING)
    assert first_per_run(run, rows).tolist() == [2, 3]
    assert first_per_run(run, rows, g.reason).tolist() == [2, 3, 4]



def test_a_sweep_on_a_proc_never_seen_is_a_format_error():
    """Go's order.go would dereference a nil P state here; a mutated trace did
    that to us as a KeyError (a traceback). Now: TraceFormatError, exit 2."""
    from reportgen.sources.trace import spec as S
    from reportgen.sources.trace.order import Ordering, _M
    from reportgen.sources.trace.wire import TraceFormatError
    for typ in (S.EV_GC_SWEEP_BEGIN, S.EV_GC_SWEEP_END):
        order = Ordering(26)
        order.ms[1] = _M(p=7)   # thread 1 runs on P 7, whose state the trace never gave
        with pytest.raises(TraceFormatError, match="unknown proc 7"):
            order.advance(typ, 20, [0, 0, 0, 0], None, 1, 1)


# -- the GC analysis: only the events that can change it, against every event ----------------

def _gc_state(a) -> tuple:
    t, u = a.utilization()
    rep = a.report()
    return (t.tolist(), u.tolist(), rep.as_dict(), rep.heap, rep.heap_goal, a.states)


# the `gc` scenario of tests/trace/scenarios (26 GC cycles, mark assists, workers): kept
# apart from data/trace, whose every trace the reader tests cut at every batch
GC_TRACE = DATA.parent / "tracegc" / "gcpressure.trace"


@pytest.mark.parametrize("path", TRACES + [GC_TRACE], ids=lambda p: p.name)
def test_gc_fed_columns_equals_every_event(path):
    from reportgen.analyze.trace_gc import GCAnalysis
    from reportgen.analyze.trace_transitions import event_types

    rnd = random.Random(path.name)
    for data in _variants(path.read_bytes(), rnd, 6):
        try:
            segments = [seg for seg, complete in TraceStream(data).segments() if complete]
        except TraceFormatError:
            continue
        fast, plain = GCAnalysis(), GCAnalysis()
        stacks, reasons = StackTable(), Reasons()
        for seg in segments:
            typs = event_types(seg)
            fast.feed(seg, typs, Transitions.of_events(seg, stacks, reasons, typs))
            plain.feed(seg)
        assert _gc_state(fast) == _gc_state(plain)
        if data is not None and path == GC_TRACE and len(segments) > 2:
            assert len(plain.report().cycles) > 0


# -- the timeline's lanes: merged with numpy, against a loop over each lane's segments -----

def lanes_reference(rec, groups, start, end, max_lanes=120, budget=40000) -> tuple:
    """Each shown lane's segments as a loop states it: a segment at least a bin long is
    drawn as it is; shorter ones are merged into a stretch that takes those beginning less
    than a bin after its first (up to the next drawn one), in the state with the most time
    (ties: the later name); neighbouring merged stretches in the same state are joined.
    Returns (lanes, how many segments were merged)."""
    from reportgen.analyze.trace_timeline import _join_merged

    gs = sorted((x for g in groups for x in g.goroutines),
                key=lambda x: (x.name.startswith("runtime.") and x.name != "runtime.main",
                               -x.stats.total_ns, x.id))[:max_lanes]
    c = rec._carry
    open_kinds = rec._kind_of(c.state, c.reason, c.stack).tolist()
    kinds = list(rec._kinds)
    raw = {x.id: [] for x in gs}
    for gid, s, e, k in (np.concatenate(rec._rows).tolist() if rec._rows else []):
        if gid in raw:
            raw[gid].append((s, e, k))
    for gid, t, k in zip(c.gid.tolist(), c.time.tolist(), open_kinds):
        if gid in raw:
            raw[gid].append((t, end, k))
    step = max(1, (end - start) // max(400, budget // max(1, len(gs))))
    out, merged = [], 0
    for x in gs:
        segs, pending = [], None  # [start, end, {state: ns}]
        for s, e, k in raw[x.id]:
            state = STATE_CODES[kinds[k][0]]
            if e - s >= step:
                if pending:
                    segs.append(_flush_reference(pending, start))
                    pending = None
                segs.append([s - start, e - start, state])
                continue
            merged += 1
            if pending is None or s - pending[0] >= step:
                if pending:
                    segs.append(_flush_reference(pending, start))
                pending = [s, e, {}]
            pending[1] = e
            pending[2][state] = pending[2].get(state, 0) + e - s
        if pending:
            segs.append(_flush_reference(pending, start))
        out.append(_join_merged([seg + [0, 0] for seg in segs]))
    return out, merged


def _flush_reference(p, start) -> list:
    state = max(p[2].items(), key=lambda kv: (kv[1], kv[0]))[0]
    return [p[0] - start, p[1] - start, "~" + state]


@pytest.mark.parametrize("budget", [1, 5000, 40000])
@pytest.mark.parametrize("path", TRACES, ids=lambda p: p.name)
def test_timeline_lanes_equal_the_loop(path, budget):
    from reportgen.analyze.trace_goroutines import group_goroutines, summarize

    parsed = read_trace(path.read_bytes())
    groups = group_goroutines(summarize(parsed.all_events))
    rec = SegmentRecorder(StackTable())
    rec.feed(Transitions.of_events(parsed.events, rec.stacks, rec.reasons))
    start, end = parsed.events[0].time, parsed.events[-1].time
    got = rec.timeline(groups, start, end, budget=budget)
    want, want_merged = lanes_reference(rec, groups, start, end, budget=budget)
    assert [[s[:3] for s in lane["segs"]] for lane in got.lanes] == \
        [[s[:3] for s in lane] for lane in want]
    assert got.merged == want_merged
