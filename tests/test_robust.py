"""Hostile input, one test per kind (issue 9, items 8-12): absurd numbers, wrong shapes,
special files, unbounded work, int64 overflow; plus legacy CPU profiles and empty labels.

Every input here is made by the test; ../shared/cases/fuzz is covered by test_fuzz_cases.py.
"""

from __future__ import annotations

import gzip
import os
import socket
import struct
from pathlib import Path

import numpy as np
import pytest

from profiles import ProfileBuilder
from reportgen.analyze.flame import flame_tree
from reportgen.analyze.graph import Part
from reportgen.analyze.overflow import INT64_MAX, exact_abs_total, exact_sum, overflow_warnings
from reportgen.analyze.tags import tags
from reportgen.analyze.top import top
from reportgen.cli import main
from reportgen.errors import ManifestError, ProfileError, ReportgenError
from reportgen.manifest import MAX_DEPTH, load_manifest
from reportgen.sources import load_profile
from reportgen.sources import files
from reportgen.sources.bench import BenchError, parse_bench
from reportgen.sources.escapes import CompilerLogError, read_compiler_log
from reportgen.sources.goroutines import load_goroutines
from reportgen.sources.numbers import UINT64_MAX, parse_int
from reportgen.sources.pprof import count_samples, parse_pprof
from reportgen.proto import profile_pb2

HUGE = "1" * 5000   # beyond Python's 4300-digit int conversion limit


def one_line(e: ReportgenError, *needles):
    text = str(e)
    assert "\n" not in text and len(text) < 600, text
    for n in needles:
        assert n in text, text
    return text


def cli(capsys, *argv):
    """reportgen in-process: (exit status, stdout, stderr)."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# --- 8. numbers --------------------------------------------------------------

@pytest.mark.parametrize("text,kw,value", [
    ("42", {}, 42), ("-7", {}, -7), ("+0009", {}, 9), ("ff", {"base": 16}, 255),
    (str(INT64_MAX), {}, INT64_MAX), (str(UINT64_MAX), {"hi": UINT64_MAX}, UINT64_MAX),
])
def test_parse_int_accepts(text, kw, value):
    assert parse_int(text, "f", 1, **kw) == value


@pytest.mark.parametrize("text,needle", [
    (HUGE, "5000-digit number"), ("9" * 20, "out of range"), (str(INT64_MAX + 1), "out of range"),
    ("1_000", "expected an integer"), ("١٢", "expected an integer"), ("", "expected an integer"),
    ("-1", "out of range"),
])
def test_parse_int_refuses_with_file_and_line(text, needle):
    with pytest.raises(ProfileError) as e:
        parse_int(text, "dump.txt", 12, what="count", lo=0)
    assert one_line(e.value, needle).startswith("dump.txt:12: count")


DEBUG2 = "goroutine 1 [running]:\nmain.f()\n\t/x.go:{line} +0x1\n"


@pytest.mark.parametrize("text,where", [
    (f"goroutine profile: total {HUGE}\n1 @ 0x1\n#\t0x1\tmain.f+0x1\t/x.go:1\n", ":1:"),
    ("goroutine profile: total 1\n" + "9" * 20 + " @ 0x1\n#\t0x1\tmain.f+0x1\t/x.go:1\n", ":2:"),
    (f"goroutine {HUGE} [running]:\nmain.f()\n\t/x.go:1 +0x1\n", ":1:"),
    (DEBUG2.format(line=HUGE), ":3:"),
    ("panic: boom\n\n" + DEBUG2.format(line="9" * 30), ":5:"),
    (f"goroutine 1 [chan receive, {HUGE} minutes]:\nmain.f()\n\t/x.go:1 +0x1\n", ":1:"),
])
def test_goroutine_dumps_with_absurd_numbers(text, where):
    with pytest.raises(ProfileError) as e:
        load_goroutines("d.txt", text.encode())
    assert one_line(e.value, "out of range").startswith("d.txt" + where)


def test_bench_with_absurd_iterations():
    # benchfmt's rule (sources/bench.py): a count out of range is a syntax error on its line.
    with pytest.raises(BenchError) as e:
        parse_bench(f"BenchmarkX-8 {HUGE} 10 ns/op\n", "b.txt")
    one_line(e.value, "b.txt: no benchmark results")
    ok = parse_bench(f"BenchmarkX-8 {HUGE} 10 ns/op\nBenchmarkX-8 5 10 ns/op\n", "b.txt")
    assert len(ok.results) == 1 and ok.malformed == [1]


@pytest.mark.parametrize("text,line", [
    (f"./a.go:{HUGE}:2: moved to heap: x\n", 1),
    (f"./a.go:1:{HUGE}: moved to heap: x\n", 1),
    ("./a.go:1:2: x escapes to heap in F:\n./a.go:1:2:   flow: {heap} ← &x:\n"
     f"./a.go:1:2:     from &x (address-of) at ./a.go:{HUGE}:3\n", 3),
])
def test_compiler_logs_with_absurd_positions(tmp_path, text, line):
    path = tmp_path / "m.txt"
    path.write_text(text)
    with pytest.raises(CompilerLogError) as e:
        read_compiler_log(path)
    assert one_line(e.value, "out of range").startswith(f"{path}:{line}:")


@pytest.mark.parametrize("yaml_text", [f"max_decompressed: {HUGE}\n",
                                       f"max_decompressed: {HUGE}M\n",
                                       f"max_samples: {HUGE}\n",
                                       f"analyses:\n  - {{kind: top, profile: p, nodes: {HUGE}}}\n"])
def test_manifest_with_absurd_numbers(tmp_path, yaml_text):
    (tmp_path / "p.pb.gz").write_bytes(b"x")
    site = tmp_path / "s.yml"
    site.write_text("profiles: {p: {path: p.pb.gz}}\n" + yaml_text)
    with pytest.raises(ManifestError) as e:
        load_manifest(site)
    one_line(e.value, str(site))


# --- 9. shapes -----------------------------------------------------------------

HEADER = '{"version":0,"package":"p","file":"a.go"}\n'


@pytest.mark.parametrize("line,needle", [
    ('{"range":{"start":{"line":1,"character":2}},"code":7,"message":"x"}', "code: expected a string"),
    ('{"range":{"start":{"line":1e999,"character":2}},"code":"escape"}', "line: expected an integer"),
    ('{"range":{"start":{"line":true,"character":2}},"code":"escape"}', "got a boolean"),
    ('{"range":{"start":{"line":-1,"character":2}},"code":"escape"}', "expected 0 to"),
    ('{"range":"x"}', "range: expected an object"),
    ('{"range":{"start":{"line":1,"character":2}},"code":"escape","message":"x escapes to heap",'
     '"relatedInformation":[{"message":"escflow: x","location":7}]}', "location: expected an object"),
    ('{"range":{"start":{"line":1,"character":2}},"relatedInformation":[3]}', "expected an object"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ("[1, 2]", "expected an object"),
    ("1" * 5000, "not JSON"),
])
def test_json_compiler_logs_with_wrong_shapes(tmp_path, line, needle):
    d = tmp_path / "j" / "p"
    d.mkdir(parents=True)
    (d / "a.json").write_text(HEADER + line + "\n")
    with pytest.raises(CompilerLogError) as e:
        read_compiler_log(tmp_path / "j")
    assert one_line(e.value, needle).startswith(f"{d / 'a.json'}:2:")


@pytest.mark.parametrize("escape,want", [(r"\U00110000", "\ufffd"), (r"\U0010ffff", "\U0010ffff"),
                                         (r"\ud800", "\ufffd"), (r"\u00e9", "é")])
def test_label_escapes_out_of_range_read_as_replacement(escape, want):
    text = f'goroutine 1 [select] {{"{escape}": "v"}}:\nmain.f()\n\t/x.go:1 +0x1\n'
    g = load_goroutines("d.txt", text.encode()).snapshot.goroutines[0]
    assert g.labels == {want: "v"}


def test_manifest_nesting_is_bounded(tmp_path):
    site = tmp_path / "s.yml"
    site.write_text("title: " + "[" * 2000 + "]" * 2000 + "\n")
    with pytest.raises(ManifestError) as e:
        load_manifest(site)
    one_line(e.value, f"nested more than {MAX_DEPTH} levels")
    site.write_text("notes: {a: {b: [[[1]]]}}\n")   # shallow but wrong: the usual error
    with pytest.raises(ManifestError) as e:
        load_manifest(site)
    one_line(e.value, "notes: expected a string")


def test_paths_longer_than_the_os_allows(tmp_path, capsys):
    long = "x" * 300
    site = tmp_path / "s.yml"
    site.write_text(f"profiles: {{p: {{path: {long}}}}}\n")
    with pytest.raises(ManifestError) as e:
        load_manifest(site)
    one_line(e.value, "File name too long")
    code, _, err = cli(capsys, "top", tmp_path / long)
    assert code == 2 and err.count("\n") == 1 and "File name too long" in err


@pytest.mark.parametrize("value", ["99999999999999999999G", "0", "2T", "x", "1" * 5000, "-5M"])
def test_max_decompressed_out_of_range_on_the_command_line(capsys, value):
    with pytest.raises(SystemExit) as e:
        main(["top", "p.pb.gz", "--max-decompressed", value])
    _, err = capsys.readouterr()
    assert e.value.code == 2 and "--max-decompressed" in err and len(err) < 1000


@pytest.mark.parametrize("value", ["99999999999999999999999", "2T", "0", "-1", "1.5G"])
def test_max_decompressed_out_of_range_in_the_manifest(tmp_path, value):
    site = tmp_path / "s.yml"
    site.write_text(f"max_decompressed: {value}\n")
    with pytest.raises(ManifestError) as e:
        load_manifest(site)
    assert one_line(e.value, "max_decompressed: expected").startswith(f"{site}:1:")


def test_max_decompressed_accepts_up_to_a_terabyte(tmp_path):
    site = tmp_path / "s.yml"
    site.write_text("max_decompressed: 1T\nmax_samples: 5000\n")
    m = load_manifest(site)
    assert (m.max_decompressed, m.max_samples) == (1 << 40, 5000)


# --- 10. special files ---------------------------------------------------------

@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "fifo"
    os.mkfifo(path)
    return path


def test_special_files_are_refused_before_reading(fifo, capsys):
    for path, kind in ((fifo, "a FIFO"), ("/dev/zero", "a character device")):
        code, out, err = cli(capsys, "top", path)
        assert (code, out) == (2, "") and err == (f"reportgen: {path}: is not a regular file "
                                                  f"({kind}); only regular files are read\n")
        code, _, err = cli(capsys, "escapes", "--compiler-log", path)
        assert code == 2 and kind in err and err.count("\n") == 1
        code, _, err = cli(capsys, "bench", path, path)
        assert code == 2 and kind in err and err.count("\n") == 1


def test_socket_is_refused(tmp_path):
    path = tmp_path / "s.sock"
    s = socket.socket(socket.AF_UNIX)
    try:
        s.bind(str(path))
        assert files.input_problem(path) == "is not a regular file (a socket)"
    finally:
        s.close()


def test_manifest_names_special_files_accurately(tmp_path, fifo):
    (tmp_path / "p.pb.gz").write_bytes(b"x")
    for key, value in (("profiles: {p: {path: %s}}", "/dev/zero"),
                       ("profiles: {p: {path: p.pb.gz}}\nanalyses:\n"
                        "  - {kind: escapes, profile: p, compiler_log: %s}", fifo),
                       ("notes_file: %s", fifo)):
        site = tmp_path / "s.yml"
        site.write_text(key % value + "\n")
        with pytest.raises(ManifestError) as e:
            load_manifest(site)
        text = one_line(e.value, "is not a regular file")
        assert "does not exist" not in text


def test_a_file_swapped_for_a_fifo_after_the_check_is_refused(fifo, monkeypatch):
    # The path passed the stat() check, then became a FIFO: the opened descriptor is
    # checked again (and opening does not block, O_NONBLOCK).
    monkeypatch.setattr(files, "input_problem", lambda path, allow_dir=False: None)
    with pytest.raises(files.NotRegularFile, match="a FIFO"):
        files.read_regular(fifo)
    with pytest.raises(ProfileError, match="not a regular file"):
        load_profile(fifo)


def test_manifest_size_is_bounded(tmp_path):
    site = tmp_path / "s.yml"
    site.write_bytes(b"title: x\n" + b"#" * (5 << 20))
    with pytest.raises(ManifestError) as e:
        load_manifest(site)
    one_line(e.value, "allowed")


# --- 11. bounded work ------------------------------------------------------------

def _many_samples(n: int) -> bytes:
    b = ProfileBuilder(sample_types=[("samples", "count")])
    loc = b.location((b.function("main.main"), 1))
    head = b.to_raw()
    one = profile_pb2.Profile(sample=[profile_pb2.Sample(location_id=[loc], value=[1])])
    return gzip.compress(head + one.SerializeToString() * n, compresslevel=9)


def test_small_gzip_with_many_samples_is_refused_with_the_numbers(tmp_path, capsys):
    path = tmp_path / "bomb.pb.gz"
    path.write_bytes(_many_samples(300_000))
    code, _, err = cli(capsys, "top", path, "--max-samples", "100000")
    assert code == 2 and err.count("\n") == 1
    assert "more than 100000 samples" in err and "--max-samples" in err
    assert f"inflated from {path.stat().st_size}" in err
    code, out, _ = cli(capsys, "top", path, "--max-samples", "300000")
    assert code == 0 and "main.main" in out


def test_count_samples_agrees_with_the_decoder(testdata):
    for path in sorted(testdata.glob("*")) + sorted((testdata / "synthetic").glob("*.pb.gz")):
        if not path.is_file() or path.suffix in (".txt", ".md"):
            continue
        try:
            if load_profile(path).kind != "pprof":
                continue   # a text dump
        except ProfileError:
            continue
        data = path.read_bytes()
        data = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
        msg = profile_pb2.PackedProfile.FromString(data)
        assert count_samples(data, 1 << 40) == len(msg.sample), path.name
        assert count_samples(data, 2) == min(len(msg.sample), 3), path.name


def test_count_samples_reads_one_two_and_three_byte_sample_lengths():
    b = ProfileBuilder(sample_types=[("samples", "count")])
    loc = b.location((b.function("f"), 1))
    for depth in (3, 100, 20_000, 1, 70, 9_000):   # records of <128, <16384 and more bytes
        b.sample([loc] * depth, [depth])
    data = b.to_bytes(gzip=False)
    assert count_samples(data, 1 << 40) == 6
    assert count_samples(data, 3) == 4


def test_profile_drop_frames_cannot_backtrack(tmp_path):
    b = ProfileBuilder(sample_types=[("samples", "count")], drop_frames="(a+)+$")
    f = b.location((b.function("a" * 50_000 + "b"), 1))
    b.sample([f], [1])
    profile = load_profile(b.write(tmp_path / "p.pb.gz"))   # Python's re would never return
    assert profile.num_samples == 1


# --- 12. overflow ------------------------------------------------------------------

@pytest.mark.parametrize("values", [[INT64_MAX, INT64_MAX, 5], [-(1 << 63), -(1 << 63)],
                                    [INT64_MAX, -(1 << 63), 3, -1], []])
def test_exact_sums(values):
    a = np.array(values, dtype=np.int64)
    assert exact_sum(a) == sum(values)
    assert exact_abs_total(a) == sum(abs(v) for v in values)


def _overflowing(tmp_path):
    b = ProfileBuilder(sample_types=[("contentions", "count"), ("delay", "nanoseconds")])
    main_, a, c = (b.function(n) for n in ("main.main", "main.a", "main.c"))
    lm, la, lc = b.location((main_, 1)), b.location((a, 2)), b.location((c, 3))
    b.sample([la, lm], [1, INT64_MAX]).sample([lc, la, lm], [1, INT64_MAX]).sample([lm], [1, 300])
    return load_profile(b.write(tmp_path / "over.pb.gz"))


def test_overflowing_totals_warn_in_text_and_pages(tmp_path, capsys):
    profile = _overflowing(tmp_path)
    warnings = overflow_warnings([Part(profile, 1)])
    assert len(warnings) == 1 and str(2 * INT64_MAX + 300) in warnings[0]
    assert overflow_warnings([Part(profile, 0)]) == []
    code, out, _ = cli(capsys, "top", tmp_path / "over.pb.gz")
    assert code == 0 and f"Warning: over.pb.gz: the delay values sum to {2 * INT64_MAX + 300}" in out
    from reportgen.analyze.answer import profile_answer
    assert profile_answer(Part(profile, 1)).text.startswith("Warning: over.pb.gz:")


def test_flame_tree_with_wrapped_values_keeps_every_parent(tmp_path):
    tree = flame_tree([Part(_overflowing(tmp_path), 1)])
    assert tree.parent[0] == -1 and (tree.parent[1:] >= 0).all()
    assert (tree.parent[1:] < np.arange(1, len(tree.parent))).all()   # preorder: parents first


# --- legacy CPU profiles, empty labels ---------------------------------------------

@pytest.mark.parametrize("fmt", ["<5Q", ">5Q", "<5I", ">5I"])
def test_legacy_cpu_profile_is_refused_by_name(tmp_path, fmt, capsys):
    header = struct.pack(fmt, 0, 3, 0, 10000, 0)
    record = struct.pack(fmt[0] + "3" + fmt[-1], 1, 1, 0x401000)
    trailer = struct.pack(fmt[0] + "3" + fmt[-1], 0, 1, 0)
    for name, data in (("cpu.prof", header + record + trailer),
                       ("cpu.prof.gz", gzip.compress(header + record + trailer))):
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(ProfileError) as e:
            parse_pprof(path, data)
        one_line(e.value, "legacy (pre-protobuf) CPU profile")


def test_empty_label_values_are_not_zero():
    text = ('goroutine 1 [select] {empty: "", k: "v"}:\nmain.f()\n\t/x.go:1 +0x1\n\n'
            'goroutine 2 [select] {empty: ""}:\nmain.f()\n\t/x.go:1 +0x1\n')
    profile = load_goroutines("d.txt", text.encode())
    shown = {t.key: [v.name for v in t.values] for t in tags(profile).keys}
    assert shown == {"k": ["v"]}   # dropped like pprof -tags drops labels with no value


def test_handed_empty_label_case():
    path = Path(__file__).resolve().parent.parent.parent / "shared" / "cases" / \
        "labels-empty-value.debug2.txt"
    if not path.exists():
        pytest.skip("../shared/cases not present")
    keys = {t.key: [(v.name, v.value) for v in t.values] for t in tags(load_profile(path)).keys}
    assert "empty" not in keys and keys["worker"] == [("pool-1", 10)]
    assert all(name != "0" for values in keys.values() for name, _ in values)
