"""Mutator utilization and MMU of analyze/trace_gc.py against the plain model in
tests/trace/mutator.py, on event sequences written here and on Go's own GC
stress trace; the two places where go tool trace reads the rule differently
are pinned by hand-made sequences (the slow tests/test_trace_mmu_differential.py
checks both readings against a real go tool trace)."""

from __future__ import annotations

import numpy as np
import pytest

from reportgen.analyze.trace_gc import GCAnalysis, default_windows, gc_report, mmu_curve
from reportgen.sources.trace import spec as S
from reportgen.sources.trace.events import Event
from reportgen.sources.trace.reader import read_trace
from tests.test_trace_reader import goroot_tests
from tests.trace import mutator
from tests.trace.textformat import read_test


class Strings:
    """The string table of a hand-made event sequence."""

    def __init__(self, *strings):
        self.strings = strings

    def string(self, i):
        return self.strings[i]


TABLE = Strings("GC mark termination", "GC (dedicated)", "preempted")
STW, WORKER, PREEMPTED = range(3)


def ev(typ, time, g, p, *args):
    return Event(typ, time, g, p, 1, list(args) + [0] * (4 - len(args)), TABLE)


def utilization(events):
    a = GCAnalysis()
    a.feed(events)
    t, u = a.utilization()
    return t.tolist(), u.tolist()


def test_trace_ending_inside_a_pause_keeps_the_pause():
    # GOMAXPROCS=2, a GC stop-the-world from 2 µs, still open at the last event (10 µs)
    events = [ev(S.EV_PROCS_CHANGE, 1_000, 1, 0, 2), ev(S.EV_STW_BEGIN, 2_000, 1, 0, STW),
              ev(S.EV_HEAP_ALLOC, 10_000, 1, 0, 4096)]
    assert utilization(events) == ([1_000, 2_000, 10_000], [1.0, 0.0, 0.0])
    rep = gc_report(events)
    assert dict(rep.mmu)[5_000] == 0.0  # a 5 µs window inside the 8 µs pause
    assert rep.gc_cpu_fraction == pytest.approx(8 / 9)
    # go tool trace's function ends at the pause's start (no closing point at 0), so
    # its windows never reach into the pause
    assert mutator.utilization(events, go_rules=True) == ([1_000, 2_000], [1.0, 0.0])


def test_restarted_mark_worker_counts_once():
    # worker goroutine 5 runs on P 0 twice; the runtime labels it at each GoStart
    events = [ev(S.EV_PROCS_CHANGE, 1_000, 1, 0, 2)]
    for start in (2_000, 4_000):
        events += [ev(S.EV_GO_START, start, -1, 0, 5, 1),
                   ev(S.EV_GO_LABEL, start + 1, 5, 0, WORKER),
                   ev(S.EV_GO_STOP, start + 1_000, 5, 0, PREEMPTED, 0)]
    events.append(ev(S.EV_HEAP_ALLOC, 9_000, 1, 0, 4096))
    # each run counts from its label to the stop
    ours = ([1_000, 2_001, 3_000, 4_001, 5_000, 9_000], [1.0, 0.5, 1.0, 0.5, 1.0, 0.0])
    assert utilization(events) == ours
    assert mutator.utilization(events, go_rules=False) == ours
    # Go counts the second start and its label, uncounts the stop once: P 0 stays in GC
    assert mutator.utilization(events, go_rules=True) == ([1_000, 2_001, 3_000, 4_000, 9_000],
                                                          [1.0, 0.5, 1.0, 0.5, 0.0])


def test_label_on_the_trace_reader_counts_for_its_run_only():
    # The runtime labels whatever starts on a P with a mark worker pending: here
    # goroutine 7 (the trace reader) runs on P 0, enters a write, and its syscall ends
    # without a P, then it runs again on P 1.
    events = [ev(S.EV_PROCS_CHANGE, 1_000, 1, 0, 2),
              ev(S.EV_GO_START, 2_000, -1, 0, 7, 1), ev(S.EV_GO_LABEL, 2_001, 7, 0, WORKER),
              ev(S.EV_GO_SYSCALL_BEGIN, 2_500, 7, 0, 2, 0),
              ev(S.EV_GO_SYSCALL_END_BLOCKED, 6_000, 7, -1),
              ev(S.EV_GO_START, 7_000, -1, 1, 7, 3),
              ev(S.EV_GO_STOP, 7_500, 7, 1, PREEMPTED, 0),
              ev(S.EV_HEAP_ALLOC, 9_000, 1, 0, 4096)]
    ours = ([1_000, 2_001, 2_500, 9_000], [1.0, 0.5, 1.0, 0.0])
    assert utilization(events) == ours
    assert mutator.utilization(events, go_rules=False) == ours
    # Go keeps it a worker, still running through the syscall, and its end with no P
    # indexes Go's per-P table at -1: go tool trace's MMU page fails on such a trace
    with pytest.raises(mutator.GoPanic):
        mutator.utilization(events, go_rules=True)


def gc_stress():
    found = [p for p in goroot_tests() if p.name == "go122-gc-stress.test"]
    if not found:
        pytest.skip("Go's internal/trace testdata not found")
    return read_trace(read_test(found[0])[1]).all_events


def test_go_gc_stress_trace_equals_the_model():
    events = gc_stress()
    times, util = utilization(events)
    assert len(times) > 1000 and 0.0 in util  # GC workers, assists and pauses
    assert (times, util) == mutator.utilization(events, go_rules=False)
    windows = default_windows(times[-1] - times[0])
    for w, u in mmu_curve(np.array(times), np.array(util), windows):
        assert u == pytest.approx(mutator.mmu(times, util, w), abs=1e-12), w


def test_the_answer_counts_only_the_gcs_own_pauses_as_the_gcs():
    """"GC stop-the-world" is the GC's pauses; a start-trace (or read-mem-stats)
    pause is said apart, and a trace with no GC cycle says so."""
    from reportgen.analyze.trace_gc import GCCycle, GCReport, Pause
    from reportgen.analyze.trace_report import _gc_sentence
    start = Pause(0, 18_000, "start trace", False)
    quiet = GCReport(1_000_000, pauses=[start])
    assert _gc_sentence(quiet) == ("No GC cycle in the trace; other stop-the-world pauses "
                                   "1.8% of wall time (1 pause: start trace)")
    busy = GCReport(1_000_000, cycles=[GCCycle(100, 5000)], gc_cpu_fraction=0.25,
                    pauses=[start, Pause(200, 40_000, "GC sweep termination", True),
                            Pause(9000, 10_000, "GC mark termination", True)])
    assert _gc_sentence(busy) == (
        "GC stop-the-world 5.0% of wall time (2 pauses, longest 40 µs); GC used 25.0% of "
        "the CPU over 1 cycle; other stop-the-world pauses 1.8% of wall time (1 pause: "
        "start trace)")
    busy.pauses[0] = Pause(0, 100, "start trace", False)   # 0.01%: not worth a clause
    assert _gc_sentence(busy).endswith("over 1 cycle")
