"""Reading a trace a generation at a time gives what reading it whole gives.

The trace command and the trace page analyse a trace as TraceStream hands
it out (one generation, then the next, each dropped once consumed), so
memory follows the largest generation; the analyses carry per goroutine,
per P and per stack state across generations. These tests hold the
streamed result to the one computed over the whole event list at once.
"""

from __future__ import annotations

import gc
import json

import pytest

from reportgen.analyze.trace_report import analyze_trace, analyze_trace_file
from reportgen.sources.trace import TraceError, load_trace, open_trace
from reportgen.sources.trace import spec as S
from reportgen.sources.trace.reader import read_trace
from tests.test_trace_reader import DATA, TRACES, batch_bounds


def same_report(a, b):
    assert json.dumps(a.as_dict(), sort_keys=True) == json.dumps(b.as_dict(), sort_keys=True)
    assert a.profiles == b.profiles
    assert (a.timeline is None) == (b.timeline is None)
    if a.timeline is not None:
        assert vars(a.timeline) == vars(b.timeline)


@pytest.mark.parametrize("path", TRACES, ids=lambda p: p.name)
def test_streamed_analysis_equals_whole_trace(path):
    same_report(analyze_trace_file(path), analyze_trace(load_trace(path)))


def test_segments_hold_one_generation_each():
    stream = open_trace(DATA / "generations.trace")
    segments = list(stream.segments())
    whole = read_trace((DATA / "generations.trace").read_bytes())
    assert stream.generations == whole.generations == 2
    assert len(segments) >= 2 and all(complete for _, complete in segments)
    assert sum(len(seg) for seg, _ in segments) == len(whole.events) == stream.events
    for seg, _ in segments:
        assert seg[-1].typ == S.EV_SYNC_EVENT  # each ends with the sync after its generation
        tables = {id(e.table) for e in seg[:-1] if e.table is not None}
        assert len(tables) <= 1  # never two generations' events in one segment


def test_truncated_stream_keeps_complete_generations(tmp_path):
    data = (DATA / "generations.trace").read_bytes()
    bounds = batch_bounds(data)
    cut = tmp_path / "cut.trace"
    cut.write_bytes(data[:(bounds[-2] + bounds[-3]) // 2])  # inside the second generation
    streamed = analyze_trace_file(cut)
    same_report(streamed, analyze_trace(load_trace(cut)))
    assert "kept 1 complete generation" in streamed.truncated
    stream = open_trace(cut)
    segments = list(stream.segments())
    assert stream.error and stream.generations == 1
    assert segments[0][1] and all(complete for _, complete in segments[:-1])


def test_garbage_collector_is_restored(tmp_path):
    assert gc.isenabled()
    analyze_trace_file(DATA / "regions.trace", timeline=False)
    assert gc.isenabled()
    bad = tmp_path / "bad.trace"
    bad.write_bytes((DATA / "regions.trace").read_bytes()[:40])
    with pytest.raises(TraceError, match="bad.trace"):
        analyze_trace_file(bad)
    assert gc.isenabled()


def test_trace_command_skips_only_what_it_does_not_show():
    """`reportgen trace` makes no timeline and no heap series (only the page shows them);
    everything it prints or writes is the same."""
    path = DATA.parent / "tracegc" / "gcpressure.trace"
    full = analyze_trace_file(path)
    lean = analyze_trace_file(path, timeline=False, heap=False)
    assert full.gc.heap and lean.gc.heap == [] and lean.gc.heap_goal == []
    assert lean.timeline is None
    assert json.dumps(lean.as_dict()) == json.dumps(full.as_dict())
    assert lean.profiles == full.profiles
