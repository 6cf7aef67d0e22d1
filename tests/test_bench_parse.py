"""Reading `go test -bench` output (reportgen.sources.bench)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reportgen.errors import ReportgenError
from reportgen.sources.bench import BenchError, load_bench, parse_bench

DATA = Path(__file__).resolve().parent / "data" / "bench"


@pytest.fixture(scope="module")
def mixed():
    return load_bench(DATA / "mixed.txt")


def by_line(bench, line):
    return next(r for r in bench.results if r.line == line)


def test_result_lines_and_units(mixed):
    assert [r.line for r in mixed.results] == [6, 7, 8, 11, 16, 20]
    first = mixed.results[0]
    assert first.name == "BenchmarkEncode/format=json/size=1k"
    assert first.procs == 8 and first.iterations == 120000
    assert first.values == {"ns/op": 9876, "MB/s": 103.68, "B/op": 2048, "allocs/op": 12}
    assert list(first.values) == ["ns/op", "MB/s", "B/op", "allocs/op"]  # file order


def test_sub_benchmarks_and_procs(mixed):
    names = [(r.display, r.procs) for r in mixed.results]
    assert names[:4] == [("Encode/format=json/size=1k-8", 8), ("Encode/format=json/size=1k-8", 8),
                         ("Encode/format=gob/size=1k-8", 8), ("Decode-8", 8)]
    no_procs = by_line(mixed, 16)
    assert (no_procs.name, no_procs.procs) == ("BenchmarkNoProcs", None)
    assert no_procs.display == "NoProcs"
    assert no_procs.values == {"ns/op": 1.25}


def test_custom_units(mixed):
    assert by_line(mixed, 11).values == {"ns/op": 21000, "widgets/op": 3.5}
    assert "widgets/op" in mixed.units() and "MB/s" in mixed.units()


def test_config_applies_to_later_results(mixed):
    first, last = mixed.results[0], mixed.results[-1]
    assert first.config == {"goos": "linux", "goarch": "amd64", "pkg": "example.com/codec",
                            "cpu": "Intel(R) Xeon(R) CPU @ 2.20GHz"}
    # `cpu:` with no value clears the key; a new pkg replaces the old one.
    assert last.config == {"goos": "linux", "goarch": "amd64", "pkg": "example.com/other"}
    assert mixed.config["pkg"] == ["example.com/codec", "example.com/other"]


def test_repeats_group_by_package_and_name(mixed):
    s = mixed.samples()
    assert s[("example.com/codec", "Encode/format=json/size=1k-8")]["ns/op"] == [9876, 9901]
    # The same name under another pkg is another benchmark.
    assert s[("example.com/other", "Encode/format=json/size=1k-8")] == {"ns/op": [11000]}


def test_garbage_lines_ignored_and_cut_results_noted(mixed):
    # The bare name, log lines, --- BENCH, "Benchmarking ...", "Benchmarkfoo" and PASS/ok
    # are not results; a result line with a bad value or a missing unit is noted.
    assert mixed.malformed == [14, 15]
    assert all(not r.name.startswith("Benchmarkfoo") for r in mixed.results)


def test_count_repeats():
    text = "".join(f"BenchmarkX-4  100  {v} ns/op\n" for v in (10, 11, 12))
    assert parse_bench(text).samples() == {("", "X-4"): {"ns/op": [10, 11, 12]}}


def test_crlf_and_windows_style_lines():
    b = parse_bench("pkg: p\r\nBenchmarkY-2 \t 10 \t 5.5 ns/op\r\n")
    assert b.results[0].values == {"ns/op": 5.5} and b.results[0].pkg == "p"


def test_duplicate_unit_keeps_first():
    b = parse_bench("BenchmarkZ 10 1 ns/op 2 ns/op\n")
    assert b.results[0].values == {"ns/op": 1}


@pytest.mark.parametrize("name, reason", [
    ("empty.txt", "no benchmark results"),
    ("garbage.txt", "no benchmark results"),
])
def test_no_results_is_one_clear_error(name, reason):
    with pytest.raises(BenchError) as e:
        load_bench(DATA / name)
    assert isinstance(e.value, ReportgenError)
    msg = str(e.value)
    assert msg.startswith(str(DATA / name) + ": ") and reason in msg and "\n" not in msg


def test_unreadable_inputs(tmp_path):
    with pytest.raises(BenchError, match="no such file"):
        load_bench(tmp_path / "missing.txt")
    with pytest.raises(BenchError, match="is a directory"):
        load_bench(tmp_path)
    binary = tmp_path / "cpu.pb.gz"
    binary.write_bytes(b"\x1f\x8b\x08\x00\x00\x00\x00\x00BenchmarkX 1 1 ns/op")
    with pytest.raises(BenchError, match="binary data"):
        load_bench(binary)


def test_invalid_utf8_does_not_lose_results(tmp_path):
    p = tmp_path / "b.txt"
    p.write_bytes(b"log \xff\xfe junk\nBenchmarkA-8 10 3 ns/op\n")
    assert load_bench(p).results[0].values == {"ns/op": 3}


def test_non_finite_values_are_not_results():
    with pytest.raises(BenchError):
        parse_bench("BenchmarkA-8 10 NaN ns/op\nBenchmarkB-8 10 +Inf ns/op\n", "x.txt")
