"""Go (RE2) regular expressions for every pattern from a user or a profile (reportgen/regex.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from profiles import ProfileBuilder
from reportgen.analyze.graph import Part
from reportgen.analyze.peek import peek
from reportgen.analyze.top import top
from reportgen.errors import ProfileError, UsageError
from reportgen.regex import compile_go, valid_go
from reportgen.render.peek_text import format_peek
from reportgen.sources import load_profile
from tests.gotool import go_binary
from tests.test_differential_pprof import pprof_top

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT.parent / "shared" / "cases"


@pytest.mark.parametrize("pattern,matches,misses", [
    ("[[:alpha:]]+_alloc", "tc_alloc", "1_alloc"),
    (r"\Q(*T).M\E", "pkg.(*T).M", "pkg.T.M"),
    (r"^\pL+$", "straße", "a1"),
    (r"\p{Greek}+", "λ", "l"),
    ("(?i)json", "encoding/JSON.Marshal", "jsn"),
    ("(?s)a.b", "a\nb", "ab"),
])
def test_go_syntax(pattern, matches, misses):
    rx = compile_go(pattern, "focus")
    assert rx.search(matches) and not rx.search(misses)


def test_anchored_like_pprofs_drop_frames():
    rx = compile_go("malloc|free", "drop_frames", anchored=True)
    assert rx.match("malloc") and rx.match("free")
    assert not rx.match("xmalloc") and not rx.match("malloc_usable_size")


@pytest.mark.parametrize("pattern", ["(a", "a{1001}", r"\8", "(?<", "[z-a]", "x**"])
def test_rejected_patterns_name_the_option_and_reason(pattern):
    with pytest.raises(UsageError) as e:
        compile_go(pattern, "focus", path="-focus")
    message = str(e.value)
    assert message.startswith("-focus: parsing focus regexp") and "\n" not in message
    assert valid_go(pattern)


def test_backtracking_pattern_is_linear():
    # (a+)+$ on "aaaa...b" takes exponential time in Python's re; RE2 is linear.
    rx = compile_go("(a+)+$", "focus")
    assert rx.search("a" * 100_000 + "b") is None


def _allocator_profile(drop_frames: str, keep_frames: str = "") -> ProfileBuilder:
    b = ProfileBuilder(sample_types=[("objects", "count"), ("space", "bytes")],
                       drop_frames=drop_frames, keep_frames=keep_frames,
                       time_nanos=1_700_000_000_000_000_000)
    exe = b.mapping("server", start=0x1000, limit=0x9000)

    def loc(name, line):
        return b.location((b.function(name, system_name=name), line), mapping=exe,
                          address=0x1000 + line)
    new, tc, page = loc("operator new(unsigned long)", 1), loc("tc_alloc", 2), \
        loc("PageHeap::New(unsigned long)", 3)
    insert, lookup, main = loc("Cache::Insert(int)", 4), loc("Cache::Lookup(int)", 5), loc("main", 6)
    b.sample([page, tc, insert, main], [10, 1000])
    b.sample([new, lookup, main], [3, 300])
    b.sample([insert, main], [1, 100])
    b.sample([tc, new, insert, main], [2, 20])
    return b


RE2_ONLY = ["[[:alpha:]]+_alloc|malloc", r"\Qoperator new\E|tc_alloc", r"\pL+::New|tc_\pL+",
            "tc_alloc|operator new", "(?i)TC_ALLOC"]


@pytest.mark.slow
@pytest.mark.parametrize("drop", RE2_ONLY)
def test_drop_frames_equal_go_tool_pprof(tmp_path, drop):
    path = _allocator_profile(drop).write(tmp_path / "heap.pb.gz")
    expected = pprof_top(go_binary(), path, "space", "B", "functions")
    result = top([Part(load_profile(path), 1)], node_fraction=0)
    assert (result.total, [(r.name, r.flat, r.cum) for r in result.rows]) == expected


def test_drop_and_keep_frames(tmp_path):
    path = _allocator_profile("[[:alpha:]]+_alloc", keep_frames="tc_alloc").write(tmp_path / "k.pb.gz")
    kept = {r.name for r in top([Part(load_profile(path), 1)], node_fraction=0).rows}
    assert "tc_alloc" in kept   # keep_frames wins over drop_frames
    path = _allocator_profile("[[:alpha:]]+_alloc").write(tmp_path / "d.pb.gz")
    rows = {r.name: r.flat for r in top([Part(load_profile(path), 1)], node_fraction=0).rows}
    assert "tc_alloc" not in rows and "PageHeap::New" not in rows
    assert rows["Cache::Insert"] == 1000 + 100 and rows["operator new(unsigned long)"] == 300 + 20


def test_bad_drop_frames_is_a_profile_error(tmp_path):
    path = _allocator_profile("(unclosed").write(tmp_path / "bad.pb.gz")
    with pytest.raises(ProfileError) as e:
        load_profile(path)
    assert "drop_frames" in str(e.value) and "missing )" in str(e.value)


@pytest.mark.parametrize("args,option", [
    (["peek", "{p}", "a{2000}"], "argument"),
    (["leaks", "{p}", "--ignore", "(?<"], "ignore"),
])
def test_cli_rejects_bad_patterns_in_one_line(run_cli, tmp_path, args, option):
    p = _allocator_profile("malloc").write(tmp_path / "p.pb.gz")
    r = run_cli(*[str(p) if a == "{p}" else a for a in args])
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert f"parsing {option} regexp" in r.stderr


def test_manifest_rejects_patterns_go_rejects(tmp_path):
    from reportgen.errors import ManifestError
    from reportgen.manifest import load_manifest
    _allocator_profile("malloc").write(tmp_path / "p.pb.gz")
    site = tmp_path / "site.yml"
    site.write_text("profiles:\n  p: {path: p.pb.gz}\nanalyses:\n"
                    "  - {kind: top, profile: p, focus: '[[:alpha:]]+'}\n"
                    "  - {kind: top, profile: p, hide: '(?P<x'}\n")
    with pytest.raises(ManifestError) as e:
        load_manifest(site)
    assert str(e.value).startswith(f"{site}:5: analyses[1].hide: expected a regular expression")


def _case(name):
    path = CASES / name
    if not path.exists():
        pytest.skip("../shared/cases not present")
    return path


def test_handed_posix_drop_frames_case():
    result = top([Part(load_profile(_case("re2-dropframes-posix.pb.gz")), 1)], node_fraction=0)
    # pprof -symbolize=none prints Cache::Insert(int); by default it simplifies the name.
    assert [(r.name, r.flat, r.cum) for r in result.rows] == [
        ("Cache::Insert", 1100, 1100), ("main", 0, 1100)]


@pytest.mark.slow
def test_handed_quoted_method_case_equals_go_tool_pprof():
    path, rx = _case("re2-quoted-method.pb.gz"), r"\Q(*encodeState).marshal\E"
    cmd = [go_binary(), "tool", "pprof", f"-peek={rx}", "-nodefraction=0", "-edgefraction=0",
           str(path)]
    expected = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    profile = load_profile(path)
    result = peek([Part(profile, 1)], rx)
    assert result.nodes[0].callers[0].name == "main.(*Server).handle"
    assert result.nodes[0].callers[0].value == 800_000_000
    got = format_peek(profile, result)
    assert got.split("Showing nodes")[1] == expected.split("Showing nodes")[1]
