"""Reading `go test -bench` output (reportgen.sources.bench)."""

from __future__ import annotations

import json
import math
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


def vals(result):
    return [(v.value, v.unit) for v in result.values]


def test_result_lines_and_tidied_units(mixed):
    assert [r.line for r in mixed.results] == [6, 7, 8, 11, 16, 19, 20]
    first = mixed.results[0]
    assert first.name == "Encode/format=json/size=1k-8"     # benchfmt: no "Benchmark"
    assert first.procs == 8 and first.iterations == 120000
    # benchunit.Tidy: ns/op -> sec/op, MB/s -> B/s; the original is kept.
    assert vals(first) == [(9876 * 1 * 1e-9, "sec/op"), (103.68 * 1e6, "B/s"), (2048, "B/op"),
                           (12, "allocs/op")]
    assert (first.values[0].orig_value, first.values[0].orig_unit) == (9876, "ns/op")


def test_sub_benchmarks_and_procs(mixed):
    names = [(r.display, r.procs) for r in mixed.results]
    assert names[:4] == [("Encode/format=json/size=1k-8", 8), ("Encode/format=json/size=1k-8", 8),
                         ("Encode/format=gob/size=1k-8", 8), ("Decode-8", 8)]
    no_procs = by_line(mixed, 16)
    assert (no_procs.name, no_procs.procs) == ("NoProcs", None)
    assert vals(no_procs) == [(1.25 * 1e-9, "sec/op")]


def test_custom_units(mixed):
    assert vals(by_line(mixed, 11)) == [(21000 * 1 * 1e-9, "sec/op"), (3.5, "widgets/op")]
    assert "widgets/op" in mixed.units() and "B/s" in mixed.units()


def test_config_applies_to_later_results(mixed):
    first, last = mixed.results[0], mixed.results[-1]
    assert first.config == {"goos": "linux", "goarch": "amd64", "pkg": "example.com/codec",
                            "cpu": "Intel(R) Xeon(R) CPU @ 2.20GHz"}
    # `cpu:` with no value clears the key; a new pkg replaces the old one.
    assert last.config == {"goos": "linux", "goarch": "amd64", "pkg": "example.com/other"}
    assert mixed.config["pkg"] == ["example.com/codec", "example.com/other"]


def test_config_order_is_benchfmts():
    # A deleted key's slot is taken by the last key (benchfmt deleteConfig swaps).
    b = parse_bench("a: 1\nb: 2\nc: 3\na:\nBenchmarkX 1 1 x\n")
    assert list(b.results[0].config.items()) == [("c", "3"), ("b", "2")]
    # The value keeps trailing blanks; "key:value" without a blank is not configuration.
    b = parse_bench("k: v  \nj:w\nBenchmarkX 1 1 x\n")
    assert b.results[0].config == {"k": "v  "}


def test_repeats_group_by_package_and_name(mixed):
    s = mixed.samples()
    assert s[("example.com/codec", "Encode/format=json/size=1k-8")]["sec/op"] == [
        9876 * 1e-9, 9901 * 1e-9]
    # The same name under another pkg is another benchmark.
    assert s[("example.com/other", "Encode/format=json/size=1k-8")] == {"sec/op": [11000 * 1e-9]}


def test_lower_case_names_are_results(mixed):
    # Benchmarkfoo and the bent tools' Benchmarkuber_zap_total are benchmarks too.
    assert by_line(mixed, 19).name == "foo-8"
    b = parse_bench("Benchmarkuber_zap_total 1 10149055 total-bytes\n")
    assert b.results[0].name == "uber_zap_total" and vals(b.results[0]) == [
        (10149055, "total-bytes")]


def test_syntax_errors_are_kept_per_line(mixed):
    # The bare name (go test -v), log lines, --- BENCH and PASS/ok are skipped silently;
    # what starts like a result but does not parse is benchfmt's syntax error.
    assert [(e.line, e.message) for e in mixed.errors] == [
        (5, "parsing iteration count: invalid syntax"),
        (14, "parsing measurement: invalid syntax"), (15, "missing units")]


def test_count_repeats():
    text = "".join(f"BenchmarkX-4  100  {v} ns/op\n" for v in (10, 11, 12))
    assert parse_bench(text).samples() == {
        ("", "X-4"): {"sec/op": [10 * 1e-9, 11 * 1e-9, 12 * 1e-9]}}


def test_crlf_and_windows_style_lines():
    b = parse_bench("pkg: p\r\nBenchmarkY-2 \t 10 \t 5.5 ns/op\r\n")
    assert vals(b.results[0]) == [(5.5 * 1e-9, "sec/op")] and b.results[0].pkg == "p"


def test_repeated_unit_keeps_every_value():
    b = parse_bench("BenchmarkZ 10 1 ns/op 2 ns/op\n")
    assert b.samples()[("", "Z")] == {"sec/op": [1 * 1e-9, 2 * 1e-9]}


@pytest.mark.parametrize("text, iters, values", [
    ("BenchmarkA +10 3 x", 10, [(3, "x")]),
    ("BenchmarkA 1 NaN x +Inf y -inf z", 1, [(math.nan, "x"), (math.inf, "y"), (-math.inf, "z")]),
    ("BenchmarkA 1 1_000 x .5 y 0x1p-2 z", 1, [(1000, "x"), (0.5, "y"), (0.25, "z")]),
    # A value tidying leaves unchanged keeps its unit (benchunit): 0 ns/op stays ns/op.
    ("BenchmarkA 1 0 ns/op +Inf MB/s", 1, [(0, "ns/op"), (math.inf, "MB/s")]),
    ("BenchmarkA 1 5 MB*ns/op", 1, [(5 * 1e6 / 1e9, "B*sec/op")]),
])
def test_go_number_syntax(text, iters, values):
    r = parse_bench(text + "\n").results[0]
    assert r.iterations == iters
    got = [(v.value, v.unit) for v in r.values]
    assert [u for _, u in got] == [u for _, u in values]
    for (a, _), (b, _) in zip(got, values):
        assert a == pytest.approx(b) or (math.isnan(a) and math.isnan(b))


@pytest.mark.parametrize("line, message", [
    ("BenchmarkA 99999999999999999999 1 x", "parsing iteration count: value out of range"),
    ("BenchmarkA " + "9" * 5000 + " 1 x", "parsing iteration count: value out of range"),
    ("BenchmarkA 1 1e999 x", "parsing measurement: value out of range"),
    ("BenchmarkA 1 1__0 x", "parsing measurement: invalid syntax"),
    ("BenchmarkA 1 0x1 x", "parsing measurement: invalid syntax"),
    ("BenchmarkA 1", "missing measurements"),
    ("BenchmarkA ", "missing iteration count"),
])
def test_syntax_errors(line, message):
    b = parse_bench(f"{line}\nBenchmarkOK 1 1 x\n")
    assert [(e.line, e.message) for e in b.errors] == [(1, message)]


def test_unit_metadata_lines():
    b = parse_bench("Unit ns/op assume=exact better=lower\nUnit x =y\n"
                    "Unit sec/op assume=nothing\nBenchmarkA 1 1 ns/op\n")
    # Keyed by the tidied unit; a conflicting value is an error, the first one stays.
    assert b.assumption("sec/op") == b.assumption("ns/op") == "exact"
    assert b.assumption("x") == "nothing"
    assert [(e.line, e.message) for e in b.errors] == [
        (2, "expected key=value"), (3, "metadata assume of unit sec/op already set to exact")]


def test_long_line_stops_like_bufio_scanner():
    with pytest.raises(BenchError, match=r"line 2: longer than 64 KiB"):
        parse_bench("BenchmarkA 1 1 x\n" + "#" * 70000 + "\n", "big.txt")


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
    assert vals(load_bench(p).results[0]) == [(3 * 1e-9, "sec/op")]


def test_unit_lines_carry_into_the_next_file():
    first = parse_bench("Unit x assume=exact\nBenchmarkA 1 1 x\n", "a.txt")
    second = parse_bench("Unit x assume=nothing\nBenchmarkA 1 2 x\n", "b.txt", first.unit_meta)
    assert second.assumption("x") == "exact"          # benchfmt keeps the first setting
    assert [e.message for e in second.errors] == ["metadata assume of unit x already set to exact"]


def test_split_by_a_configuration_key():
    from reportgen.sources.bench import split_by
    b = parse_bench("note: old\nBenchmarkA 1 1 x\nnote: new\nBenchmarkA 1 2 x\nnote:\n"
                    "BenchmarkA 1 3 x\n", "f.txt")
    old, new = split_by(b, "note")
    assert (old.path, new.path) == ("f.txt (note: old)", "f.txt (note: new)")
    assert [vals(r) for r in old.results] == [[(1, "x")]]
    assert [vals(r) for r in new.results] == [[(2, "x")]]     # the note-less run is left out


SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "benchstat-testdata"
# What golang.org/x/perf/benchfmt reads from each file there (a Go program linked with
# benchfmt at x/perf 712aea8b dumped every record): results, distinct names, syntax
# errors, values per unit (count and sum), the configuration of each result, Unit lines.
BENCHFMT = json.loads((DATA / "benchfmt-shared.json").read_text())


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/benchstat-testdata absent")
@pytest.mark.parametrize("name", sorted(BENCHFMT))
def test_reads_benchstats_testdata_as_benchfmt_does(name):
    want = BENCHFMT[name]
    b = load_bench(SHARED / name)
    assert len(b.results) == want["results"]
    assert sorted({r.name for r in b.results}) == want["names"]
    assert [[e.line, e.message] for e in b.errors] == want["errors"]
    units: dict = {}
    for r in b.results:
        for v in r.values:
            count, total = units.get(v.unit, (0, 0.0))
            units[v.unit] = (count + 1, total + v.value)
    assert set(units) == set(want["units"])
    for unit, (count, total) in units.items():
        assert count == want["units"][unit][0]
        assert total == pytest.approx(want["units"][unit][1], rel=1e-11)
    configs = []
    for r in b.results:
        c = [list(kv) for kv in r.config.items()]
        if c not in configs:
            configs.append(c)
    assert configs == want["configs"]
    assert sorted([m.unit, m.key, m.value] for m in b.unit_meta.values()) == want["unit_meta"]
