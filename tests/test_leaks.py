"""Leak suspects: the example's true leaks first, no false alarm on the fixed program,
known signatures from single dumps, and the `reportgen leaks` command."""

import json
from pathlib import Path

import pytest

from reportgen.analyze.goroutines import as_snapshot, overview
from reportgen.analyze.leaks import THRESHOLD, find_leaks, heap_growth, pick_series
from reportgen.sources import load_profile

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "goroutines"
LEAKY = ROOT / "examples" / "leaky"

# What examples/leaky/main.go leaks (see its doc comment), by the frame naming each group.
TRUE_LEAKS = {
    "main.(*poller).resolve.func1",        # sender left behind by a timeout
    "net/http.(*persistConn).readLoop",     # a Transport per call ...
    "net/http.(*persistConn).writeLoop",    # ... and its second goroutine
    "main.(*poller).expireLater.func1",     # <-time.After per host per pass
    "main.(*alertLogger).send",             # a goroutine per log line
}
SYMPTOM = "net/http.(*conn).serve"          # the server end of those connections


def series(directory, pattern="goroutine-*.txt"):
    paths = sorted((LEAKY / directory).glob(pattern))
    return [load_profile(p) for p in paths], [p.name for p in paths]


def report_of(directory, heap=True):
    profiles, names = series(directory)
    heaps = series(directory, "heap-*.pb.gz")[0] if heap else []
    return find_leaks([p.snapshot for p in profiles], names, heaps=heaps)


def test_the_example_ranks_its_true_leaks_first():
    report = report_of("snapshots")
    heads = [s.group.headline for s in report.suspects]
    assert set(heads[:5]) == TRUE_LEAKS, heads
    assert heads[5:] == [SYMPTOM]
    for s in report.suspects:
        assert s.score >= THRESHOLD and s.growth > 0 and s.rising == s.steps == 4
        assert s.counts == sorted(s.counts) and len(s.counts) == 5
    first = report.suspects[0]
    assert first.group.headline == "main.(*poller).resolve.func1" and first.group.leaked > 0
    assert report.totals == sorted(report.totals) and report.totals[-1] > 3 * report.totals[0]


def test_each_true_leak_names_its_cause_and_code():
    by_head = {s.group.headline: s for s in report_of("snapshots").suspects}
    assert by_head["net/http.(*persistConn).readLoop"].known.id == "http-transport-per-call"
    assert by_head["main.(*poller).expireLater.func1"].known.id == "timer-waiter-per-item"
    alerts = by_head["main.(*alertLogger).send"]
    assert alerts.known.id == "goroutine-per-alert"
    assert alerts.group.created_by.func == "main.(*alertLogger).Errorf"
    assert (alerts.group.user_frame.func, alerts.group.user_tier) == (
        "main.(*alertLogger).send", "own")
    assert by_head["net/http.(*persistConn).readLoop"].group.user_frame is None
    assert "persistConn" in " ".join(by_head["net/http.(*persistConn).readLoop"].companions)
    for s in by_head.values():
        assert s.cause and s.fix and s.evidence and s.hint.endswith(".")


def test_heap_growth_points_at_the_leaked_connections_buffers():
    report = report_of("snapshots")
    sites = [h.func for h in report.heap_sites]
    assert sites[:2] == ["bufio.NewReaderSize", "bufio.NewWriterSize"]
    assert report.heap_totals[-1] > 2 * report.heap_totals[0]
    assert all(h.rising == h.steps for h in report.heap_sites[:2])


def test_no_false_alarm_on_the_fixed_program():
    report = report_of("healthy")
    assert report.suspects == []
    assert all(s.score < THRESHOLD for s in report.watch)
    assert max(report.totals) - min(report.totals) <= 3
    assert report.heap_sites == []


def test_no_false_alarm_on_a_repeated_healthy_dump():
    profile = series("healthy")[0][-1]
    report = find_leaks([profile.snapshot] * 4, ["a", "b", "c", "d"])
    assert report.suspects == [] and report.background > 0


def test_one_snapshot_is_enough_when_the_runtime_marked_leaks():
    profile = series("snapshots")[0][-1]
    report = find_leaks([profile.snapshot], ["last"])
    assert report.suspects[0].group.headline == "main.(*poller).resolve.func1"
    assert any("marked (leaked)" in e for e in report.suspects[0].evidence)


def test_grpc_clientconn_per_call_from_one_debug1_dump():
    snap = as_snapshot(load_profile(DATA / "grpc-clientconn-debug1.txt"))
    report = find_leaks([snap], ["incident"])
    top3 = report.suspects[:3]
    assert [s.counts for s in top3] == [[148], [107], [106]]
    assert {s.known.id for s in top3} == {"grpc-clientconn-per-call"}
    assert all(s.group.user_tier == "lib" for s in top3)  # grpc's code, not the program's
    assert len(report.suspects) == 3


def test_blocks_that_never_end_and_runtime_marks_in_one_dump():
    report = find_leaks([as_snapshot(load_profile(DATA / "states-go127-debug2.txt"))], ["x"])
    states = {s.group.state for s in report.suspects}
    assert states == {"chan send", "chan receive (nil chan)", "select (no cases)"}
    # main.main in select {} is how many programs wait forever: background.
    assert all(s.group.funcs != ("main.main",) for s in report.suspects + report.watch)


def test_background_goroutines_are_never_suspects():
    ov = overview(as_snapshot(load_profile(DATA / "go1.20-waiters-debug2.txt")))
    why = {g.headline: g.background for g in ov.groups}
    assert why["os/signal.loop"] == "signal handling"
    assert why["main.serveDebug"] == "HTTP accept loop"
    assert why["main.main"] == "the main goroutine"
    assert ov.groups[-1].background  # background last
    assert [g.tier for g in ov.groups if not g.background] == ["own"] * 3


def test_manifest_style_ignore_patterns():
    profiles, names = series("snapshots")
    snaps = [p.snapshot for p in profiles]
    report = find_leaks(snaps, names, ignore=[r"resolve\.func1$", r"^net/http\.\(\*conn\)"])
    heads = [s.group.headline for s in report.suspects]
    assert "main.(*poller).resolve.func1" not in heads and SYMPTOM not in heads
    assert len(heads) == 4


def test_mixed_formats_use_the_richest_series():
    paths = sorted((LEAKY / "snapshots").glob("goroutine-*"))  # .txt and .pb.gz
    named = {p.name: load_profile(p) for p in paths}
    snaps, heaps, notes = pick_series(named)
    assert all(n.endswith(".txt") for n in snaps) and len(snaps) == 5
    assert heaps == [] and notes and "debug=0" in notes[0]


def test_debug0_series_finds_the_same_leaks():
    profiles, names = series("snapshots", "goroutine-*.pb.gz")
    report = find_leaks([as_snapshot(p) for p in profiles], names)
    heads = {s.group.headline for s in report.suspects[:5]}
    assert len(heads & TRUE_LEAKS) >= 4, heads


def test_heap_growth_needs_a_growing_heap():
    heaps = series("healthy", "heap-*.pb.gz")[0]
    totals, sites = heap_growth(heaps)
    assert len(totals) == 5 and sites == []


def test_leaks_command_json(run_cli):
    files = sorted((LEAKY / "snapshots").glob("goroutine-*.txt"))
    heaps = sorted((LEAKY / "snapshots").glob("heap-*.pb.gz"))
    r = run_cli("leaks", *files, *heaps, "--format", "json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    first = out["suspects"][0]
    for key in ("signature", "frames", "created_by", "counts", "state", "score", "hint"):
        assert key in first
    assert first["frames"][0] == "main.(*poller).resolve.func1"
    assert first["created_by"] == "main.(*poller).resolve"
    assert len(first["counts"]) == 5 and first["state"] == "chan send"
    assert [s["rank"] for s in out["suspects"]] == list(range(1, len(out["suspects"]) + 1))
    assert [s["score"] for s in out["suspects"]] == sorted(
        [s["score"] for s in out["suspects"]], reverse=True)
    assert out["heap"]["sites"][0]["function"] == "bufio.NewReaderSize"


def test_leaks_command_text_and_fail_flag(run_cli):
    files = sorted((LEAKY / "healthy").glob("goroutine-*.txt"))
    r = run_cli("leaks", *files, "--fail")
    assert r.returncode == 0 and "No leak suspect" in r.stdout
    r = run_cli("leaks", DATA / "states-go127-debug2.txt", "--fail")
    assert r.returncode == 1 and "Suspects:" in r.stdout


@pytest.mark.parametrize("args, message", [
    (["examples/leaky/snapshots/heap-01-*.pb.gz"], "no such file"),
    (["--ignore", "(", "tests/data/goroutines/states-go127-debug2.txt"], "parsing ignore regexp"),
])
def test_leaks_command_errors(run_cli, args, message):
    r = run_cli("leaks", *args)
    assert r.returncode == 2 and message in r.stderr and len(r.stderr.splitlines()) == 1


def test_leaks_command_refuses_inputs_without_a_dump(run_cli):
    heap = sorted((LEAKY / "snapshots").glob("heap-*.pb.gz"))[0]
    r = run_cli("leaks", heap)
    assert r.returncode == 2 and "no goroutine dump" in r.stderr


# Known signatures scale with instances: one gRPC ClientConn is healthy.

def _clientconn(first_id: int) -> str:
    mod = "/go/pkg/mod/google.golang.org/grpc@v1.60.1"
    return (f"goroutine {first_id} [select]:\n"
            f"google.golang.org/grpc.(*ccBalancerWrapper).watcher(0xc0001a8000)\n"
            f"\t{mod}/balancer_wrapper.go:118 +0x156\n"
            f"created by google.golang.org/grpc.newCCBalancerWrapper in goroutine 1\n"
            f"\t{mod}/balancer_wrapper.go:74 +0x4bb\n\n"
            f"goroutine {first_id + 1} [select]:\n"
            f"google.golang.org/grpc/internal/transport.(*loopyWriter).run(0xc0002a0000)\n"
            f"\t{mod}/internal/transport/controlbuf.go:552 +0x124\n"
            f"created by google.golang.org/grpc/internal/transport.newHTTP2Client in goroutine 1\n"
            f"\t{mod}/internal/transport/http2_client.go:465 +0x2e6a\n\n"
            f"goroutine {first_id + 2} [IO wait]:\n"
            f"google.golang.org/grpc/internal/transport.(*http2Client).reader(0xc0002a0000)\n"
            f"\t{mod}/internal/transport/http2_client.go:1590 +0x22d\n"
            f"created by google.golang.org/grpc/internal/transport.newHTTP2Client in goroutine 1\n"
            f"\t{mod}/internal/transport/http2_client.go:407 +0x1e6a\n\n")


def _dump(clientconns: int, waiters: int, minutes: int = 6) -> str:
    out = ["goroutine 1 [select, 40 minutes]:\nmain.main()\n\t/src/agent/cmd/agent/main.go:88"
           " +0x3d5\n\n"]
    out += [_clientconn(100 + 3 * i) for i in range(clientconns)]
    out += [f"goroutine {5000 + i} [chan receive, {minutes} minutes]:\n"
            "example.com/agent/internal/probe.Sweep.func2.1()\n"
            "\t/src/agent/internal/probe/sweep.go:84 +0x185\n"
            "created by example.com/agent/internal/probe.Sweep.func2 in goroutine 21\n"
            "\t/src/agent/internal/probe/sweep.go:82 +0x145\n\n" for i in range(waiters)]
    return "".join(out)


def _leaks_of(text):
    from reportgen.sources.goroutines import parse_goroutines
    return find_leaks([parse_goroutines("d.txt", text)], ["d"])


def test_one_clientconn_does_not_outrank_parked_program_waiters():
    report = _leaks_of(_dump(clientconns=1, waiters=32))
    first = report.suspects[0]
    assert first.group.headline == "example.com/agent/internal/probe.Sweep.func2.1"
    assert first.counts == [32] and first.known.id == "timer-waiter-per-item"
    assert first.group.tier == "own"  # the module's own package, beside cmd/agent
    listed = report.suspects + report.watch
    assert not any("grpc" in s.group.headline for s in listed)


def test_a_known_signature_scales_with_instances():
    one = _leaks_of(_dump(clientconns=1, waiters=0))
    assert one.suspects == [] and one.watch == []
    many = _leaks_of(_dump(clientconns=40, waiters=0))
    assert {s.known.id for s in many.suspects} == {"grpc-clientconn-per-call"}
    assert len(many.suspects) == 3 and all(s.counts == [40] for s in many.suspects)


def test_waiters_count_only_beyond_a_healthy_few_and_with_their_wait():
    assert _leaks_of(_dump(clientconns=1, waiters=2)).suspects == []
    brief = _leaks_of(_dump(clientconns=1, waiters=32, minutes=0)).suspects[0]
    long = _leaks_of(_dump(clientconns=1, waiters=32, minutes=6)).suspects[0]
    assert long.score > brief.score


def test_handed_case_one_clientconn_vs_waiters():
    path = ROOT.parent / "shared" / "cases" / "leak-one-clientconn-vs-waiters.debug2.txt"
    if not path.exists():
        pytest.skip(f"{path} is not here")
    report = find_leaks([as_snapshot(load_profile(path))], [path.name])
    first = report.suspects[0]
    assert first.group.headline == "example.com/inventory/internal/probe.Sweep.func2.1"
    assert first.counts == [32] and first.group.state == "chan receive"
    grpc = [s for s in report.suspects + report.watch
            if any("grpc" in f for f in s.group.funcs)]
    assert grpc == []
