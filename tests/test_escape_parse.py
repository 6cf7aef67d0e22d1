"""Reading the compiler's escape diagnostics: -m, -m=2 and -json, as Go 1.27 writes them.

The inputs are real compiler output, captured by tests/data/escapes/cases/capture.sh
from one tiny Go file per hint category (plus inlined.go, whose verdicts the
compiler repeats once per inlined copy).
"""

import gzip
import shutil
import subprocess
from pathlib import Path

import pytest

from reportgen.sources.escapes import (CompilerLogError, SourceTree, parse_pos,
                                       read_compiler_log)
from tests.gotool import go_binary

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "data" / "escapes" / "cases"
CAPTURED = CASES / "captured"
GATEWAY_LOG = ROOT / "examples" / "gateway" / "profiles" / "escape.txt"

# Every escaping verdict of the cases package: (file, line, col, kind, value), as -m prints it.
ESCAPES = {
    ("addr.go", 15, 2, "moved", "r"), ("addr.go", 23, 2, "moved", "r"),
    ("closure.go", 7, 2, "moved", "n"), ("closure.go", 8, 9, "escapes", "func literal"),
    ("concat.go", 9, 10, "escapes", 'w + ","'),
    ("convert.go", 9, 14, "escapes", "([]byte)(s)"), ("convert.go", 16, 16, "escapes", "string(b)"),
    ("grow.go", 7, 13, "escapes", "make([]int, 0, 2)"), ("grow.go", 10, 16, "escapes", "append"),
    ("iface.go", 7, 20, "escapes", '"item "'), ("iface.go", 7, 29, "escapes", "id"),
    ("iface.go", 7, 33, "escapes", '" size "'), ("iface.go", 7, 43, "escapes", "size"),
    ("inlined.go", 7, 16, "escapes", "prefix + ~r0"),
    ("inlined.go", 12, 14, "escapes", "prefix + ~r0"),
    ("inlined.go", 12, 30, "escapes", "prefix + ~r0"),
    ("inlined.go", 19, 13, "escapes", "make([]map[string]any, n)"),
    ("inlined.go", 21, 26, "escapes", "map[string]any{...}"),
    ("inlined.go", 22, 18, "escapes", '"eu-" + ~r0'),
    ("inlined.go", 23, 20, "escapes", "[]string{...}"),
    ("maps.go", 6, 12, "leak", "keys"), ("maps.go", 7, 21, "escapes", "map[string]int{}"),
    ("size.go", 16, 6, "moved", "table"),
}


def escapes_of(log, append_value="append"):
    out = set()
    for v in log.escapes:
        value = append_value if v.value.startswith("append(") else v.value
        out.add((Path(v.file).name, v.line, v.col, v.kind, value))
    return out


def whys(v, chain=0):
    return [s.why for f in v.chains[chain] for s in f.steps]


def find(log, name, line, col=None):
    found = [v for v in log.verdicts if Path(v.file).name == name and v.line == line
             and (col is None or v.col == col) and v.escaping]
    assert len(found) == 1, found
    return found[0]


def test_m_verdicts_noise_and_inlined_duplicates():
    log = read_compiler_log(CAPTURED / "m.txt")
    assert log.format == "m"
    assert log.packages == ["example.com/cases"]
    assert escapes_of(log) == ESCAPES
    # inlined.go:22:18 and 23:20 are printed twice; can inline / inlining call lines are noise.
    assert log.duplicates == 2
    assert len(log.noise) == 13
    assert log.noise[0] == "./closure.go:8:9: can inline Counter.func1"
    assert all(v.file.startswith("./") for v in log.verdicts)
    assert not any(v.chains for v in log.verdicts)
    no_escape = {(Path(v.file).name, v.line, v.value)
                 for v in log.verdicts if v.kind == "no_escape"}
    assert ("size.go", 7, "make([]byte, n)") in no_escape


def test_m2_adds_flow_chains_and_functions():
    log = read_compiler_log(CAPTURED / "m2.txt")
    assert log.format == "m2"
    assert escapes_of(log) == ESCAPES
    table = find(log, "size.go", 16)
    assert (table.kind, table.function) == ("moved", "Big")
    [[flow]] = table.chains
    assert (flow.dst, flow.src) == ("{heap}", "&table")
    assert [(s.where, s.why, s.pos) for s in flow.steps] == [
        ("table", "too large for stack", "./size.go:16:6")]
    assert whys(find(log, "closure.go", 7)) == ["captured by a closure", "reference"]
    assert whys(find(log, "addr.go", 23)) == ["address-of", "assign"]
    assert whys(find(log, "iface.go", 7, 29)) == ["spill", "slice-literal-element", "spill",
                                                   "call parameter"]
    leak = find(log, "maps.go", 6)
    assert leak.function == "Index" and [f.dst for f in leak.chains[0]] == ["{temp}", "k", "{heap}"]
    assert find(log, "grow.go", 10).value == "append"


def test_m2_inlined_copies_keep_each_distinct_explanation():
    log = read_compiler_log(CAPTURED / "m2.txt")
    for line, col in ((22, 18), (23, 20)):
        v = find(log, "inlined.go", line, col)
        assert len(v.chains) == 2
        assert {whys(v, 0)[-1], whys(v, 1)[-1]} == {"map literal value", "interface-converted"}


def test_json_directory_matches_text():
    log = read_compiler_log(CAPTURED / "json")
    assert log.format == "json"
    assert log.packages == ["example.com/cases"]
    # JSON has no `does not escape` records and spells append's argument out.
    assert escapes_of(log) == ESCAPES
    assert all(v.file.startswith("example.com/cases/") for v in log.verdicts)
    # The bare `escape` records that repeat an explained one are folded in.
    assert all(v.value for v in log.escapes)
    assert log.noise and all("nline" in n for n in log.noise)
    table = find(log, "size.go", 16)
    assert table.kind == "moved"
    [[flow]] = table.chains
    assert flow.steps[0].why == "too large for stack"
    assert flow.steps[0].pos == "example.com/cases/size.go:16:6"
    assert len(find(log, "inlined.go", 22, 18).chains) == 2


def test_json_single_file_and_uri_forms(tmp_path):
    src = next((CAPTURED / "json").rglob("addr.json"))
    text = src.read_text().replace("file://example.com/cases/", "file:///home/u/My%20Code/")
    one = tmp_path / "addr.json"
    one.write_text(text)
    log = read_compiler_log(one)
    v = find(log, "addr.go", 15)
    assert v.chains[0][0].steps[0].pos == "/home/u/My Code/addr.go:16:9"


def test_gateway_trimpath_m2():
    log = read_compiler_log(GATEWAY_LOG)
    assert log.format == "m2" and log.packages == ["example.com/gateway"]
    req = find(log, "handler.go", 83)
    assert (req.file, req.kind, req.value, req.function) == (
        "example.com/gateway/handler.go", "moved", "req", "handleBefore")
    assert whys(req) == ["address-of", "interface-converted", "assign-pair", "call parameter"]
    assert req.chains[0][-1].steps[0].where.startswith("json.Unmarshal(")
    # Headers naming functions from other packages and generated closures still parse.
    b = [v for v in log.escapes if v.file == "log/log.go" and v.line == 259]
    assert b and b[0].kind == "leak" and b[0].function.startswith("(*Logger).Print.func1")
    texts = [(v.pos, v.text) for v in log.verdicts]
    assert len(texts) == len(set(texts))


@pytest.mark.parametrize("content,message", [
    (b"", "no compiler diagnostics"),
    (b"hello\nworld\n", "no compiler diagnostics"),
    (b"\x00\x01\x02binary", "binary data"),
    (gzip.compress(b"x"), "binary data"),
    (b'{"version":0}\n', "log.txt:1: expected a header object with a string 'file'"),
    (b'{"version":0,"file":"f.go"}\n{"range": 3}\n', "log.txt:2: not a diagnostic object: range: expected an object"),
    (b"{not json\n", "log.txt:1: not JSON"),
])
def test_bad_logs_are_one_line_errors(tmp_path, content, message):
    path = tmp_path / "log.txt"
    path.write_bytes(content)
    with pytest.raises(CompilerLogError) as e:
        read_compiler_log(path)
    assert message in str(e.value) and "\n" not in str(e.value)


def test_missing_log_and_empty_json_directory(tmp_path):
    with pytest.raises(CompilerLogError, match="no such file"):
        read_compiler_log(tmp_path / "nope.txt")
    with pytest.raises(CompilerLogError, match="no .json files"):
        read_compiler_log(tmp_path)


def test_parse_pos():
    assert parse_pos("./f.go:13:9") == ("./f.go", 13, 9)
    assert parse_pos("<autogenerated>:1") == ("<autogenerated>", 1, 0)
    assert parse_pos("C:/src/f.go:3:4") == ("C:/src/f.go", 3, 4)
    assert parse_pos("nonsense") is None


def test_source_tree_lookup(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "f.go").write_text("".join(f"line {i}\n" for i in range(1, 11)))
    (tmp_path / "outside.go").write_text("secret\n")
    plain = SourceTree([tmp_path])
    s = plain.snippet("example.com/mod/pkg/f.go", 5, context=2)
    assert s.path == str(tmp_path / "pkg" / "f.go")
    assert s.lines == [(3, "line 3"), (4, "line 4"), (5, "line 5"), (6, "line 6"), (7, "line 7")]
    assert plain.snippet("/abs/build/dir/pkg/f.go", 1).lines[0] == (1, "line 1")
    assert plain.snippet("pkg/f.go", 99) is None
    assert plain.snippet("nowhere/g.go", 1) is None
    prefixed = SourceTree([f"example.com/mod/={tmp_path / 'pkg'}"])
    assert prefixed.snippet("example.com/mod/f.go", 2).lines[1] == (2, "line 2")
    # A hostile file name cannot climb out of a root.
    inner = SourceTree([tmp_path / "pkg"])
    assert inner.snippet("../outside.go", 1) is None
    assert inner.snippet("pkg/../../outside.go", 1) is None


def test_fresh_compiler_output_parses_the_same(tmp_path):
    """The committed output is what today's compiler prints: capture it again and compare."""
    go = go_binary()
    work = tmp_path / "cases"
    shutil.copytree(CASES, work, ignore=shutil.ignore_patterns("captured", "*.sh"))
    run = dict(cwd=work, capture_output=True, text=True, check=True)
    m2 = subprocess.run([go, "build", "-gcflags=-m=2", "-o", "/dev/null", "."], **run).stderr
    (tmp_path / "m2.txt").write_text(m2)
    subprocess.run([go, "build", "-trimpath", f"-gcflags=-json=0,{tmp_path / 'json'}",
                    "-o", "/dev/null", "."], **run)
    for fresh in (tmp_path / "m2.txt", tmp_path / "json"):
        assert escapes_of(read_compiler_log(fresh)) == ESCAPES
