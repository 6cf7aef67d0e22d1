"""The source view's numbers against `go tool pprof -list`, and source lookup."""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from profiles import ProfileBuilder
from reportgen.analyze.graph import Part
from reportgen.analyze.source import candidates, list_source, resolve
from reportgen.analyze.top import resolve_sample_index
from reportgen.sources import load_profile
from tests.gotool import go_binary

ROOT = Path(__file__).resolve().parent.parent
GATEWAY = ROOT / "examples" / "gateway"
GATEWAY_ROOTS = [{"root": str(GATEWAY), "strip": "example.com/gateway"}]
ROUTINE = re.compile(r"^ROUTINE =+ (.*) in (.*)$")
LINE = re.compile(r"^\s*(\S+)\s+(\S+)\s+(\d+):(.*)$")


def number(text):
    return 0 if text == "." else int(re.sub(r"[a-zA-Z]+$", "", text))


def pprof_list(regex, target, unit, sample_index=None):
    """{(function, file): (flat, cum, [(line, flat, cum, text)] or None)} from -list.

    Run from the example's directory: pprof finds example.com/gateway/x.go
    there by its basename heuristic.
    """
    cmd = [go_binary(), "tool", "pprof", "-symbolize=none", f"-list={regex}", f"-unit={unit}"]
    if sample_index:
        cmd.append(f"-sample_index={sample_index}")
    out = subprocess.run(cmd + [str(target)], cwd=GATEWAY, capture_output=True, text=True,
                         check=True).stdout
    routines, current = {}, None
    lines = out.splitlines()
    for i, line in enumerate(lines):
        m = ROUTINE.match(line)
        if m:
            flat, cum = lines[i + 1].split()[:2]
            current = routines[(m.group(1), m.group(2))] = (number(flat), number(cum), [])
        elif line.startswith(" Error: "):
            routines[key_of(current, routines)] = current[:2] + (None,)
        elif current and (lm := LINE.match(line)) and "(flat, cum)" not in line:
            current[2].append((int(lm.group(3)), number(lm.group(1)), number(lm.group(2)),
                               lm.group(4)))
    return routines


def key_of(value, table):
    return next(k for k, v in table.items() if v is value)


def ours(target, regex, sample_index=None, roots=GATEWAY_ROOTS):
    profile = load_profile(target)
    parts = [Part(profile, resolve_sample_index(profile, sample_index))]
    listing = list_source(parts, regex, roots)
    table = {}
    for f in listing.files:
        lines = None if f.path is None else [(ln.number, ln.flat, ln.cum, ln.text)
                                             for ln in f.lines]
        table[(f.function, f.file)] = (f.flat, f.cum, lines)
    return listing, table


CASES = [("before/cpu.pb.gz", "ns", None, r"^main\."),
         ("before/cpu.pb.gz", "ns", None, r"json\.(Unm|M)arshal$"),
         ("after/cpu.pb.gz", "ns", None, r"^main\."),
         ("before/heap.pb.gz", "B", None, r"^main\."),
         ("before/heap.pb.gz", "B", "alloc_space", r"main|bufio"),
         ("before/allocs.pb.gz", "B", None, r"^main\.")]


@pytest.mark.skipif(not (GATEWAY / "profiles").is_dir(), reason="no example profiles")
@pytest.mark.parametrize("target,unit,sample_index,regex", CASES,
                         ids=[f"{c[0]}:{c[2] or ''}:{c[3]}" for c in CASES])
def test_list_numbers_equal_go_tool_pprof(target, unit, sample_index, regex):
    path = GATEWAY / "profiles" / target
    expected = pprof_list(regex, path, unit, sample_index)
    listing, got = ours(path, regex, sample_index)
    assert expected and got == expected
    assert list(got) == list(expected)  # pprof's order: function name, then file
    json.dumps(listing.as_dict())


@pytest.mark.skipif(not (GATEWAY / "profiles").is_dir(), reason="no example profiles")
def test_missing_source_is_reported_not_raised():
    path = GATEWAY / "profiles" / "before" / "cpu.pb.gz"
    listing, _ = ours(path, r"^main\.handleBefore$", roots=[{"root": "/nonexistent"}])
    (f,) = listing.files
    assert f.path is None and f.reason.startswith("source not found: tried ")
    assert "/nonexistent/gateway/handler.go" in f.reason
    assert f.lines and all(ln.text is None for ln in f.lines)
    assert sum(ln.cum for ln in f.lines) == f.cum
    listing, _ = ours(path, r"^main\.handleBefore$", roots=[])
    assert listing.files[0].reason == "source not found: no source roots given"


def test_strip_prefix_and_trailing_components(tmp_path):
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "f.go").write_text("package pkg\n")
    root = str(tmp_path / "src")
    assert resolve("/build/ci/src/pkg/f.go", [{"root": root, "strip": "/build/ci/src/"}])[0] \
        == os.path.join(root, "pkg", "f.go")
    # A -trimpath module path: found by its trailing components.
    found, tried = resolve("example.com/mod/pkg/f.go", [{"root": root}])
    assert found == os.path.join(root, "pkg", "f.go")
    assert tried[0] == os.path.join(root, "example.com", "mod", "pkg", "f.go")
    # The strip prefix must match whole components.
    assert candidates("/build/ci/srcx/f.go", [{"root": root, "strip": "/build/ci/src"}])[0] \
        != os.path.join(root, "x", "f.go")
    # Windows paths from the profile.
    assert resolve("C:\\work\\src\\pkg\\f.go", [{"root": root}])[0] \
        == os.path.join(root, "pkg", "f.go")


def test_profile_cannot_escape_the_roots(tmp_path):
    (tmp_path / "root").mkdir()
    (tmp_path / "secret.go").write_text("secret\n")
    os.symlink(tmp_path / "secret.go", tmp_path / "root" / "link.go")
    roots = [{"root": str(tmp_path / "root")}]
    assert resolve(str(tmp_path / "secret.go"), roots)[0] is None
    assert resolve("../secret.go", roots)[0] is None
    assert resolve("a/link.go", roots)[0] is None
    assert resolve("/etc/passwd", roots)[0] is None


def profile_with_source(tmp_path, text: bytes):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "w.go").write_bytes(text)
    b = ProfileBuilder(sample_types=[("samples", "count"), ("cpu", "nanoseconds")])
    fn = b.function("main.work", "/home/ci/app/w.go", start_line=2)
    b.sample([b.location((fn, 4))], [1, 10])
    b.sample([b.location((fn, 3))], [1, 5])
    path = b.write(tmp_path / "p.pb.gz")
    profile = load_profile(path)
    return list_source([Part(profile, 1)], "work", [{"root": str(tmp_path / "src"),
                                                     "strip": "/home/ci/app"}]).files[0]


def test_line_numbers_split_like_go(tmp_path):
    # \r\n endings, a form feed and a lone \r must not shift line numbers;
    # bad UTF-8 is replaced, not fatal.
    f = profile_with_source(tmp_path, b"package main\r\nfunc work() {\f\r\n\tx := 1\rq\n"
                                      b"\ty := \xff\xfe\n}\n")
    assert [(ln.number, ln.flat, ln.cum) for ln in f.lines] == \
        [(2, 0, 0), (3, 5, 5), (4, 10, 10), (5, 0, 0)]
    assert f.lines[0].text == "func work() {\f"
    assert f.lines[1].text == "\tx := 1\rq"
    assert "\ufffd" in f.lines[2].text
    assert (f.flat, f.cum, f.samples) == (15, 15, {3: (5, 5), 4: (10, 10)})
