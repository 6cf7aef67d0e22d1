"""One hint category per tiny Go file (tests/data/escapes/cases), from real output.

Each case is checked with every form of compiler log and, where the profile
and the source line are enough, with no log at all.
"""

from pathlib import Path

import pytest

from reportgen.analyze.escapes import LogIndex, attach_sources, escape_hints
from reportgen.render.escape_pages import hint_dict
from reportgen.sources import load_profile
from reportgen.sources.escapes import CompilerLog, SourceTree, Verdict, read_compiler_log

CASES = Path(__file__).resolve().parent / "data" / "escapes" / "cases"
PROFILE = CASES / "captured" / "mem.pb.gz"
LOGS = {"m": CASES / "captured" / "m.txt", "m2": CASES / "captured" / "m2.txt",
        "json": CASES / "captured" / "json"}
LOGGED, ALL = ("m", "m2", "json"), ("m", "m2", "json", None)
# Plain -m says only "moved to heap: n": the reason (closure, too large) is in the flow.
EXPLAINED = ("m2", "json")

# category, file, line, logs it must be found with (source root given), words in the fix
CATEGORY_CASES = [
    ("interface", "iface.go", 7, ALL, "strconv.Append"),
    ("address", "addr.go", 15, LOGGED, "Return it by value"),
    ("address", "addr.go", 23, LOGGED, "Return it by value"),
    ("closure", "closure.go", 7, EXPLAINED, "closure"),
    ("closure", "closure.go", 8, ALL, "closure"),
    ("size", "size.go", 16, EXPLAINED, "Reuse a buffer"),
    ("size", "size.go", 7, ALL, "Reuse a buffer"),
    ("growth", "grow.go", 10, ALL, "make([]"),
    ("concat", "concat.go", 9, ALL, "strings.Builder"),
    ("conversion", "convert.go", 9, ALL, "one representation"),
    ("conversion", "convert.go", 16, ALL, "one representation"),
    ("map", "maps.go", 9, ALL, "size hint"),
    ("map", "maps.go", 7, ALL, "size hint"),
]


def hints(log_name, source=True):
    log = read_compiler_log(LOGS[log_name]) if log_name else None
    result = escape_hints(load_profile(PROFILE), log, "alloc_space",
                          SourceTree([CASES]) if source else None, limit=None)
    return {(Path(h.file).name, h.line): h for h in result.hints}


def params():
    for category, file, line, logs, words in CATEGORY_CASES:
        for log in logs:
            yield pytest.param(category, file, line, log, words,
                               id=f"{category}-{file}:{line}-{log or 'no-log'}")


@pytest.mark.parametrize("category,file,line,log,words", list(params()))
def test_category(category, file, line, log, words):
    h = hints(log)[(file, line)]
    assert h.category == category
    d = hint_dict(h, 1)
    assert words in d["suggestion"]
    if log and h.verdicts:
        assert d["reason"].startswith("The compiler says “")
        assert d["compiler"], d


def test_plain_m_moved_to_heap_without_a_reason_reads_as_an_address():
    got = hints("m")
    assert got[("closure.go", 7)].category == got[("size.go", 16)].category == "address"


@pytest.mark.parametrize("log", LOGGED)
def test_compiler_reasons_in_plain_words(log):
    got = hints(log)
    reason = {key: hint_dict(h, 1)["reason"] for key, h in got.items()}
    assert "moved to heap: table" in reason[("size.go", 16)]
    assert "moved to heap: r" in reason[("addr.go", 15)]
    if log != "m":   # -m has verdicts only; -m=2 and -json explain them
        assert "it is too large for the stack" in reason[("size.go", 16)]
        assert "a closure captures it" in reason[("closure.go", 7)]
        assert "its address is taken (&r), it is returned" in reason[("addr.go", 15)]
        assert "it is passed to fmt.Sprint" in reason[("iface.go", 7)]


def test_slice_growth_names_the_small_make():
    for log in LOGGED:
        h = hints(log)[("grow.go", 10)]
        assert h.start is not None and h.start.value == "make([]int, 0, 2)"
        assert "make([]int, 0, 2) (grow.go:7:13)" in hint_dict(h, 1)["suggestion"]
        assert "make([]int, 0, n)" in hint_dict(h, 1)["suggestion"]


def test_boxing_hint_prefers_a_value_over_a_constant():
    h = hints("m2")[("iface.go", 7)]
    assert h.primary.value in ("id", "size")
    assert h.via == {"fmt.Sprint": h.value - h.flat}


def test_without_log_or_source_the_numbers_still_rank():
    got = hints(None, source=False)
    ranked = sorted(got.values(), key=lambda h: -h.value)
    assert [(Path(h.file).name, h.line) for h in ranked[:3]] == [
        ("size.go", 16), ("grow.go", 10), ("concat.go", 9)]
    assert got[("iface.go", 7)].category == "interface"   # from the fmt.Sprint call
    assert got[("size.go", 16)].category == "other"


def test_log_only_lists_escapes_in_file_order():
    result = escape_hints(None, read_compiler_log(LOGS["m2"]), sources=SourceTree([CASES]))
    keys = [(Path(h.file).name, h.line) for h in result.hints]
    assert keys == sorted(keys)
    assert all(h.share is None and h.value == 0 for h in result.hints)
    kinds = {k: h.category for k, h in zip(keys, result.hints)}
    assert kinds[("size.go", 16)] == "size" and kinds[("grow.go", 10)] == "growth"
    assert ("maps.go", 6) not in kinds            # a leaking parameter is not an allocation
    assert result.hints[0].snippet is not None


def verdict(file, line, package=""):
    return Verdict(file, line, 2, "moved", "x", "moved to heap: x", package=package)


def test_positions_match_by_trailing_components():
    log = CompilerLog("log", "m", [
        verdict("./grow.go", 10), verdict("a/util.go", 3), verdict("../b/util.go", 3),
        verdict("./h.go", 5, "example.com/m/a"), verdict("./h.go", 5, "example.com/m/b")])
    index = LogIndex(log)
    for name in ("example.com/cases/grow.go", "/home/u/src/cases/grow.go", "grow.go"):
        assert [v.file for v in index.verdicts(name, 10)] == ["./grow.go"]
    assert index.verdicts("example.com/cases/grow.go", 11) == []
    assert [v.file for v in index.verdicts("example.com/m/b/util.go", 3)] == ["../b/util.go"]
    # ./h.go is relative to its package's directory: the package tells them apart.
    assert [v.package for v in index.verdicts("example.com/m/a/h.go", 5)] == ["example.com/m/a"]
    assert [v.package for v in index.verdicts("/work/m/b/h.go", 5)] == ["example.com/m/b"]


def test_path_map_rewrites_log_prefixes():
    log = CompilerLog("log", "m", [verdict("./util.go", 3), verdict("../b/util.go", 3)])
    assert len(LogIndex(log).verdicts("example.com/m/a/util.go", 3)) == 2
    mapped = LogIndex(log, [("./", "a/")]).verdicts("example.com/m/a/util.go", 3)
    assert [v.file for v in mapped] == ["./util.go"]


def test_sources_attached_later_give_the_same_hints():
    log = read_compiler_log(LOGS["m"])
    early = escape_hints(load_profile(PROFILE), log, sources=SourceTree([CASES]), limit=None)
    late = attach_sources(escape_hints(load_profile(PROFILE), log, limit=None),
                          SourceTree([CASES]))
    assert [hint_dict(h, 1) for h in late.hints] == [hint_dict(h, 1) for h in early.hints]
