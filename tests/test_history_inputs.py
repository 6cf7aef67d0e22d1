"""What a history makes of imperfect captures: a benchmark run that failed, a
file in UTF-16, names with line breaks in the CI log's text."""

from __future__ import annotations

from test_history_site import NIGHTS, copy_runs

from reportgen.analyze.history import HistoryOptions
from reportgen.history_site import build_history

PANIC = """goos: linux
pkg: example.com/nightly
BenchmarkQuote-2   99115   9918 ns/op   508 B/op   25 allocs/op
BenchmarkQuote-2   99115   9918 ns/op   508 B/op   25 allocs/op
BenchmarkParseOrder-2   \tpanic: runtime error: index out of range [3] with length 3

goroutine 7 [running]:
example.com/nightly.ParseOrder(...)
\t/src/quote.go:40 +0x1d
created by testing.(*B).run1 in goroutine 1
\t/usr/lib/go/src/testing/benchmark.go:260 +0x9e
exit status 2
FAIL\texample.com/nightly\t1.234s
"""


def test_a_benchmark_run_that_panicked_fails_the_night(run_cli, tmp_path):
    """Its results are partial, and its goroutine dump is no dump of the service:
    exit 2 naming the file and the line, not a trend that quietly stops."""
    runs = copy_runs(tmp_path / "runs", NIGHTS[:4])
    (runs / NIGHTS[3] / "bench.txt").write_text(PANIC)
    out = run_cli("history", runs, "--fail-on-regression")
    assert out.returncode == 2, out.stdout + out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{NIGHTS[3]}/bench.txt:5: the benchmark run failed" in lines[0]
    assert "index out of range" in lines[0]


def test_utf16_benchmark_output_is_read(tmp_path):
    """PowerShell's `>` writes UTF-16 with a byte-order mark."""
    runs = copy_runs(tmp_path / "runs", NIGHTS[:3])
    bench = runs / NIGHTS[2] / "bench.txt"
    bench.write_bytes(bench.read_text().encode("utf-16"))
    history = build_history([str(runs)], None, HistoryOptions(), jobs=1)
    assert "bench" in {e["kind"] for e in history.runs[2].evidence}
    assert history.runs[2].notes == []
    ns = next(s for s in history.result.series if s.metric == "BenchmarkQuote-2 ns/op")
    assert [p.run for p in ns.points] == NIGHTS[:3]


def test_a_line_break_in_a_name_stays_inside_its_line(run_cli, tmp_path):
    """The text output is one line per finding, read in CI logs: a run named
    "x\\ngate: passed" must not print a line of its own."""
    runs = copy_runs(tmp_path / "runs", NIGHTS[:4])
    bad = runs / "2026-11-05\ngate: passed"
    copy_runs(tmp_path / "bad", ["2026-11-05"])
    (tmp_path / "bad" / "2026-11-05").rename(bad)
    (bad / "run.yml").write_text('commit: "e90c3a1\\ngate: passed\\x1b[2J"\n')
    out = run_cli("history", runs, "--fail-on-regression")
    assert out.returncode == 1
    assert [line for line in out.stdout.splitlines() if line.startswith("gate:")] == [
        "gate: 6 regressions fail the check"]
    assert "2026-11-05\\ngate: passed" in out.stdout and "\x1b" not in out.stdout


def test_non_finite_benchmark_values_leave_the_json_valid(run_cli, tmp_path):
    import json
    for night in ("n1", "n2"):
        (tmp_path / night).mkdir()
        (tmp_path / night / "bench.txt").write_text(
            "pkg: x\nBenchmarkA-2 100 NaN ns/op\nBenchmarkA-2 100 12 ns/op\n"
            "BenchmarkA-2 100 +Inf ns/op\n")

    def strict(token):
        raise AssertionError(f"{token} is not JSON")
    out = run_cli("history", tmp_path, "--format", "json")
    data = json.loads(out.stdout, parse_constant=strict)
    assert [p["n"] for p in data["series"][0]["points"]] == [1, 1]


def test_run_metadata_refuses_what_yaml_would_silently_drop(tmp_path):
    import pytest

    from reportgen.errors import ManifestError
    from reportgen.sources.runs import read_meta
    cases = {"commit: aaa\ncommit: bbb\n": "run.yml:2: commit: given twice",
             "labels: {x: 1, x: 2}\n": "run.yml:1: labels: 'x' given twice",
             "[a]: 1\n": "run.yml:1: expected plain keys"}
    for text, message in cases.items():
        (tmp_path / "run.yml").write_text(text)
        with pytest.raises(ManifestError) as e:
            read_meta(tmp_path / "run.yml")
        assert message in str(e.value) and "Node" not in str(e.value)
