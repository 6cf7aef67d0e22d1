"""The trace reader on committed traces, Go's own reader tests, and bad input.

Bad input of every kind — truncated at each batch boundary and inside
batches, corrupted varints, unknown event types, a Go 1.21 header, random
bytes — ends in a TraceError (exit 2, one line) or in a result that keeps
the complete generations and says what was dropped; never anything else.
"""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reportgen.analyze.trace_report import analyze_trace
from reportgen.sources.trace import TraceError, parse_trace
from reportgen.sources.trace import spec as S
from reportgen.sources.trace.reader import read_trace
from reportgen.sources.trace.wire import HEADER_SIZE, EndOfInput, read_batch
from tests.trace.textformat import read_test

DATA = Path(__file__).resolve().parent / "data" / "trace"
TRACES = sorted(DATA.glob("*.trace"))


def batch_bounds(data: bytes) -> list:
    """Offsets where each batch starts, and the end."""
    out, pos = [], HEADER_SIZE
    while True:
        out.append(pos)
        try:
            _, _, pos = read_batch(data, pos)
        except EndOfInput:
            return out


def outcome(data: bytes) -> str:
    """"error" (a TraceError), "truncated" (kept part, note) or "complete"; anything else fails."""
    try:
        parsed = parse_trace("t.trace", data)
    except TraceError as e:
        assert "\n" not in str(e) and str(e).startswith("t.trace: ")
        return "error"
    report = analyze_trace(parsed)
    if parsed.error:
        assert report.truncated and "dropped" in report.truncated
        return "truncated"
    return "complete"


@pytest.mark.parametrize("path", TRACES, ids=lambda p: p.name)
def test_committed_traces_read_whole(path):
    parsed = read_trace(path.read_bytes())
    assert parsed.version == 26 and parsed.error == "" and parsed.generations >= 1
    assert parsed.events[0].typ == S.EV_SYNC_EVENT and parsed.events[-1].typ == S.EV_SYNC_EVENT
    times = [e.time for e in parsed.events]
    assert all(a < b for a, b in zip(times, times[1:]))  # strictly increasing, as Go's reader


def goroot_tests():
    try:
        from tests.gotool import go_binary
        go = go_binary()
    except BaseException:  # noqa: BLE001 - pytest.skip raises
        return []
    root = subprocess.run([go, "env", "GOROOT"], capture_output=True, text=True).stdout.strip()
    return sorted((Path(root) / "src/internal/trace/testdata/tests").glob("*.test"))


@pytest.mark.parametrize("path", goroot_tests(), ids=lambda p: p.name)
def test_go_reader_tests(path):
    """Go's internal/trace tests (Go 1.22, 1.23, 1.25 formats): succeed or fail as Go's reader."""
    fails, data = read_test(path)
    try:
        parsed = read_trace(data)
        failed = bool(parsed.error)
        analyze_trace(parsed)
    except Exception as e:  # noqa: BLE001 - what matters is that it is a format error
        assert type(e).__name__ == "TraceFormatError", e
        failed = True
    assert failed == fails


@pytest.mark.parametrize("path", TRACES, ids=lambda p: p.name)
def test_truncated_at_every_batch_boundary_and_inside(path):
    data = path.read_bytes()
    bounds = batch_bounds(data)
    seen = set()
    for i, b in enumerate(bounds):
        cuts = {b, b + 1, b + 3}
        if i + 1 < len(bounds):
            cuts.add((b + bounds[i + 1]) // 2)
        for cut in sorted(c for c in cuts if c <= len(data)):
            got = outcome(data[:cut])
            seen.add(got)
            assert got == "complete" if cut == len(data) else got != "complete" or \
                data[cut - 1] == S.EV_END_OF_GENERATION, cut
    assert {"error", "truncated", "complete"} <= seen | {"truncated"}


def test_header_only_and_old_versions():
    assert outcome(b"go 1.26 trace\x00\x00\x00") == "error"
    with pytest.raises(TraceError, match=r"Go 1\.21 execution trace .*1\.22"):
        parse_trace("old.trace", b"go 1.21 trace\x00\x00\x00" + bytes(100))
    with pytest.raises(TraceError, match="unsupported trace version go 1.24"):
        parse_trace("x.trace", b"go 1.24 trace\x00\x00\x00")
    with pytest.raises(TraceError, match="not a Go execution trace"):
        parse_trace("r.bin", random.Random(1).randbytes(4096))


def test_unknown_event_type_and_bad_varints():
    data = bytearray(TRACES[0].read_bytes())
    bounds = batch_bounds(bytes(data))
    # the first event of each event batch: replace its type with one no version defines
    changed = 0
    for b in bounds[:-1]:
        batch, _, end = read_batch(bytes(data), b)
        if batch.first() in (S.EV_PROC_STATUS, S.EV_GO_STATUS, S.EV_PROC_START, S.EV_GO_START):
            first = end - len(batch.data)
            data[first] = 99
            changed += 1
            break
    assert changed
    with pytest.raises(TraceError, match="invalid event type: 99"):
        parse_trace("t.trace", bytes(data))
    data = bytearray(TRACES[0].read_bytes())
    data[HEADER_SIZE + 1:HEADER_SIZE + 12] = b"\xff" * 11  # the first batch's varints overflow
    assert outcome(bytes(data)) == "error"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_corruption_never_crashes(data):
    raw = bytearray(TRACES[0].read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(HEADER_SIZE, len(raw) - 1))
        raw[pos] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        raw = raw[:data.draw(st.integers(0, len(raw)))]
    outcome(bytes(raw))


def test_cli_bad_input_is_one_line(run_cli, tmp_path):
    bad = tmp_path / "old.trace"
    bad.write_bytes(b"go 1.21 trace\x00\x00\x00" + bytes(64))
    proc = run_cli("trace", bad)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "old.trace" in proc.stderr and "1.22" in proc.stderr
    proc = run_cli("build", bad, "-o", tmp_path / "site")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1


def test_cli_truncated_trace_keeps_complete_generations(run_cli, tmp_path):
    data = (DATA / "generations.trace").read_bytes()
    full = json.loads(run_cli("trace", DATA / "generations.trace", "--format", "json").stdout)
    assert full["generations"] == 2 and full["truncated"] == ""
    bounds = batch_bounds(data)
    cut = tmp_path / "cut.trace"
    cut.write_bytes(data[:(bounds[-2] + bounds[-3]) // 2])  # inside the second generation
    proc = run_cli("trace", cut, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["generations"] == 1 and "truncated" in proc.stderr
    assert "dropped" in out["truncated"] and out["events"] < full["events"]
    site = tmp_path / "site"
    assert run_cli("build", cut, "-o", site).returncode == 0
    page = (site / "pages" / "01-trace.html").read_text()
    assert "Truncated:" in page and "kept 1 complete generation" in page


def test_profile_commands_point_to_reportgen_trace(run_cli):
    proc = run_cli("top", DATA / "regions.trace")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "execution trace" in proc.stderr and "reportgen trace" in proc.stderr
