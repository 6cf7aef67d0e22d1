"""Property-based fuzzing of every reader (hypothesis): any input ends in a result or
in a ReportgenError of one line naming the file; never another exception, a hang or
a write outside the output directory.

Readers are called in-process for speed, and what they return is fed to the
analyses that read it (top, flame, tags, leaks, benchstat, escape hints); a few
whole `reportgen build` runs check the command line. Under a minute in all;
REPORTGEN_FUZZ_EXAMPLES=2000 (with random seeds: REPORTGEN_FUZZ_RANDOM=1) fuzzes longer.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from profiles import basic_builder, hostile_builder
from reportgen.analyze.benchstat import compare
from reportgen.analyze.escapes import escape_hints
from reportgen.analyze.flame import flame_tree
from reportgen.analyze.goroutines import as_snapshot
from reportgen.analyze.graph import Part
from reportgen.analyze.leaks import find_leaks
from reportgen.analyze.tags import tags
from reportgen.analyze.top import top
from reportgen.cli import main
from reportgen.errors import ReportgenError
from reportgen.manifest import load_manifest
from reportgen.sources.bench import parse_bench
from reportgen.sources.escapes import read_compiler_log
from reportgen.sources.goroutines import load_goroutines
from reportgen.sources.pprof import parse_pprof

EXAMPLES = int(os.environ.get("REPORTGEN_FUZZ_EXAMPLES", "100"))
FAST = settings(max_examples=EXAMPLES, deadline=None,
                derandomize=not os.environ.get("REPORTGEN_FUZZ_RANDOM"),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


def expect_result_or_one_line(fn, *args):
    """fn(*args), or a ReportgenError whose message is one line; anything else fails."""
    try:
        return fn(*args)
    except ReportgenError as e:
        text = str(e)
        assert "\n" not in text and text.strip(), repr(text)
        return None


# --- byte and line mutations ---------------------------------------------------

def _mutate(data: bytes, edits) -> bytes:
    b = bytearray(data)
    for op, pos, value in edits:
        if not b:
            b.append(value)
            continue
        i = pos % (len(b) + 1)
        if op == "flip":
            b[min(i, len(b) - 1)] ^= value or 1
        elif op == "insert":
            b[i:i] = bytes([value]) * (1 + value % 7)
        elif op == "delete":
            del b[i:i + 1 + value % 5]
        else:
            del b[i:]
    return bytes(b)


EDITS = st.lists(st.tuples(st.sampled_from(["flip", "insert", "delete", "truncate"]),
                           st.integers(0, 1 << 16), st.integers(0, 255)), max_size=6)

NUMBER = st.one_of(st.integers(-5, 10**6).map(str), st.integers(0, 1 << 70).map(str),
                   st.integers(1, 6000).map(lambda n: "9" * n), st.sampled_from(["", "-", "0x1f"]))
NAME = st.one_of(st.sampled_from(["main.main", "main.(*T).M", "net/http.(*conn).serve",
                                  "pkg.F[go.shape.func(int) error]", "Cache::Insert(int)"]),
                 st.text(min_size=0, max_size=30))


def _line_mutations(text: str, edits) -> str:
    lines = text.split("\n")
    for op, pos, extra in edits:
        i = pos % (len(lines) + 1)
        if op == "delete" and lines:
            del lines[min(i, len(lines) - 1)]
        elif op == "duplicate" and lines:
            lines.insert(i, lines[min(i, len(lines) - 1)])
        else:
            lines.insert(i, extra)
    return "\n".join(lines)


LINE_EDITS = st.lists(st.tuples(st.sampled_from(["delete", "duplicate", "insert"]),
                                st.integers(0, 200), st.text(max_size=40)), max_size=4)


# --- pprof ---------------------------------------------------------------------

SEEDS = [basic_builder().to_raw(), hostile_builder().to_raw(), basic_builder().to_raw(packed=False)]


def _analyse_profile(profile):
    for i in range(len(profile.sample_types)):
        parts = [Part(profile, i)]
        top(parts, node_fraction=0)
        flame_tree(parts)
    tags(profile)


@FAST
@given(seed=st.sampled_from(range(len(SEEDS))), edits=EDITS, gz=st.booleans())
def test_pprof_reader(seed, edits, gz):
    import gzip
    data = _mutate(SEEDS[seed], edits)
    data = gzip.compress(data, mtime=0) if gz else data
    profile = expect_result_or_one_line(parse_pprof, "p.pb.gz", data, 1 << 20, 10_000)
    if profile is not None:
        _analyse_profile(profile)


# --- goroutine dumps: debug=1, debug=2, panic -------------------------------------

@st.composite
def debug1(draw):
    lines = [f"goroutine profile: total {draw(NUMBER)}"]
    for _ in range(draw(st.integers(1, 3))):
        lines.append(f"{draw(NUMBER)} @ 0x{draw(st.integers(0, 1 << 64)):x}")
        lines.append(f'# labels: {{"{draw(st.text(max_size=8))}":"{draw(st.text(max_size=8))}"}}')
        lines.append(f"#\t0x1\t{draw(NAME)}+0x{draw(st.integers(0, 99))}\t/x.go:{draw(NUMBER)}")
        lines.append("")
    return _line_mutations("\n".join(lines), draw(LINE_EDITS))


ESCAPE = st.sampled_from([r"\U00110000", r"\ud800", r"\x41", r"\u00e9", r"\n", r"\q", "\\"])


@st.composite
def debug2(draw, panic=False):
    lines = [f"panic: {draw(st.text(max_size=20))}", ""] if panic else []
    for _ in range(draw(st.integers(1, 3))):
        labels = f' {{"{draw(ESCAPE)}{draw(st.text(max_size=5))}": "{draw(ESCAPE)}"}}'
        wait = draw(st.sampled_from(["", f", {draw(NUMBER)} minutes", ", locked to thread"]))
        lines.append(f"goroutine {draw(NUMBER)} [chan receive{wait}]"
                     f"{labels if draw(st.booleans()) else ''}:")
        for _ in range(draw(st.integers(0, 3))):
            lines.append(f"{draw(NAME)}({draw(st.text(max_size=10))})")
            lines.append(f"\t/src/{draw(st.text(max_size=8))}.go:{draw(NUMBER)} +0x1")
        if draw(st.booleans()):
            lines.append(f"created by main.main in goroutine {draw(NUMBER)}")
            lines.append(f"\t/src/main.go:{draw(NUMBER)} +0x2")
        if draw(st.booleans()):
            lines.append(f"...{draw(NUMBER)} frames elided...")
        lines.append("")
    return _line_mutations("\n".join(lines), draw(LINE_EDITS))


def _analyse_dump(text: str):
    profile = expect_result_or_one_line(load_goroutines, "d.txt", text.encode("utf-8", "replace"))
    if profile is not None:
        find_leaks([as_snapshot(profile)], ["d.txt"])
        _analyse_profile(profile)


@FAST
@given(text=debug1())
def test_goroutine_debug1_reader(text):
    _analyse_dump(text)


@FAST
@given(text=debug2())
def test_goroutine_debug2_reader(text):
    _analyse_dump(text)


@FAST
@given(text=debug2(panic=True))
def test_goroutine_panic_reader(text):
    _analyse_dump(text)


# --- benchmarks --------------------------------------------------------------------

@st.composite
def bench_text(draw):
    lines = ["goos: linux", f"pkg: {draw(st.text(max_size=10))}"]
    for _ in range(draw(st.integers(1, 8))):
        unit = draw(st.sampled_from(["ns/op", "B/op", "allocs/op", "MB/s", "x"]))
        value = draw(st.one_of(NUMBER, st.floats(allow_nan=True).map(repr),
                               st.sampled_from(["NaN", "+Inf", "1e309"])))
        lines.append(f"BenchmarkX/{draw(st.sampled_from(['a', 'b']))}-{draw(NUMBER)} "
                     f"{draw(NUMBER)} {value} {unit}")
    return _line_mutations("\n".join(lines), draw(LINE_EDITS))


@FAST
@given(old=bench_text(), new=bench_text())
def test_bench_reader(old, new):
    a = expect_result_or_one_line(parse_bench, old, "old.txt")
    b = expect_result_or_one_line(parse_bench, new, "new.txt")
    if a is not None and b is not None:
        compare(a, b)


# --- compiler logs: -m, -m=2, -json ---------------------------------------------------

POS = st.builds(lambda f, ln, col: f"./{f}.go:{ln}:{col}", st.sampled_from(["a", "b/c"]), NUMBER,
                NUMBER)


@st.composite
def m_log(draw):
    lines = ["# example.com/p"]
    for _ in range(draw(st.integers(1, 6))):
        pos = draw(POS)
        lines.append(draw(st.sampled_from([
            f"{pos}: moved to heap: x", f"{pos}: &T{{}} escapes to heap",
            f"{pos}: leaking param: p", f"{pos}: can inline F", f"{pos}: x does not escape",
            f"{pos}: x escapes to heap in F:", f"{pos}:   flow: {{heap}} ← &x:",
            f"{pos}:     from &x (address-of) at {draw(POS)}", f"{pos}: {draw(st.text(max_size=20))}"])))
    return _line_mutations("\n".join(lines), draw(LINE_EDITS))


JSON_VALUE = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-(1 << 70), 1 << 70),
                                    st.floats(), st.text(max_size=10)),
                          lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                  st.dictionaries(st.text(max_size=5), inner,
                                                                  max_size=3)), max_leaves=8)


@st.composite
def json_log(draw):
    import json
    lines = ['{"version":0,"package":"p","file":"a.go"}']
    for _ in range(draw(st.integers(1, 4))):
        d = {"range": {"start": {"line": draw(st.one_of(st.integers(0, 99), JSON_VALUE)),
                                 "character": 1}},
             "code": draw(st.one_of(st.sampled_from(["escape", "leak", "canInline"]), JSON_VALUE)),
             "message": draw(st.one_of(st.just("x escapes to heap"), JSON_VALUE))}
        if draw(st.booleans()):
            d["relatedInformation"] = draw(st.one_of(JSON_VALUE, st.just(
                [{"message": "escflow:    flow: {heap} ← &x:", "location": {"uri": "file:///a.go",
                  "range": {"start": {"line": 1, "character": 2}}}}])))
        lines.append(json.dumps(d))
    return _line_mutations("\n".join(lines), draw(LINE_EDITS))


def _read_log(name: str, text: str, directory: bool = False):
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(tmp) / "j" / "p" if directory else Path(tmp)
        where.mkdir(parents=True, exist_ok=True)
        (where / name).write_text(text, encoding="utf-8", errors="replace")
        log = expect_result_or_one_line(read_compiler_log, Path(tmp) / "j" if directory
                                        else where / name)
        if log is not None:
            escape_hints(None, log)


@FAST
@given(text=m_log())
def test_m_and_m2_log_reader(text):
    _read_log("m.txt", text)


@FAST
@given(text=json_log())
def test_json_log_reader(text):
    _read_log("a.json", text, directory=True)


# --- manifest ----------------------------------------------------------------------------

SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-(1 << 80), 1 << 80), st.floats(),
                   st.text(max_size=12), NUMBER, st.sampled_from(["p", "1G", "all", "/dev/zero",
                                                                  "(", "[[:alpha:]]", "x" * 300]))
YAML_VALUE = st.recursive(SCALAR, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=10)
KEYS = ["title", "notes", "theme", "output", "max_decompressed", "max_samples", "sources",
        "profiles", "analyses"]


@st.composite
def manifest_text(draw):
    doc = {k: draw(YAML_VALUE) for k in draw(st.lists(st.sampled_from(KEYS), max_size=4,
                                                      unique=True))}
    if draw(st.booleans()):
        doc["profiles"] = {"p": {"path": "p.pb.gz", "title": draw(SCALAR)}}
        doc["analyses"] = [{"kind": draw(st.sampled_from(["top", "flame", "peek", "diff", "tags"])),
                            "profile": "p", **draw(st.dictionaries(st.sampled_from(
                                ["nodes", "focus", "granularity", "pattern", "cum"]), SCALAR,
                                max_size=2))}]
    text = yaml.safe_dump(doc, allow_unicode=True)
    return _line_mutations(text, draw(LINE_EDITS))


@FAST
@given(text=manifest_text())
def test_manifest_reader(text):
    with tempfile.TemporaryDirectory() as tmp:
        basic_builder().write(Path(tmp) / "p.pb.gz")
        site = Path(tmp) / "s.yml"
        site.write_text(text, encoding="utf-8")
        expect_result_or_one_line(load_manifest, site)


@settings(max_examples=8, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(text=manifest_text(), edits=EDITS)
def test_build_writes_only_its_output(text, edits, capsys):
    """Whole `reportgen build` runs: exit 0 or one line on stderr, files only under -o."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "p.pb.gz").write_bytes(_mutate(basic_builder().to_bytes(), edits[:1]))
        (root / "s.yml").write_text(text, encoding="utf-8")
        before = set(os.listdir(tmp))
        cwd = os.getcwd()
        os.chdir(tmp)
        try:
            code = main(["build", "s.yml", "-o", "out"])
        finally:
            os.chdir(cwd)
        _, err = capsys.readouterr()
        assert code in (0, 2) and "Traceback" not in err
        if code == 2:
            assert err.count("\n") == 1 and err.startswith("reportgen: ")
        assert set(os.listdir(tmp)) - before <= {"out"}
