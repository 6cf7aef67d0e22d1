"""Categories from the compiler's verdicts for the line and the allocating call.

tests/data/escapes/calls holds small Go files compiled with -m, -m=2 and -json
and profiled (capture.sh): readers made per call (bufio.NewReaderSize,
bytes.NewReader) and go/defer statements with arguments next to a real
closure. The categories must not follow package names: a bufio or bytes call
is "Slice growth" only where append/growslice allocates.
"""

from pathlib import Path

import pytest

from reportgen.analyze.escapes import escape_hints, library_category
from reportgen.render.escape_pages import format_text, hint_dict
from reportgen.sources import load_profile
from reportgen.sources.escapes import SourceTree, read_compiler_log

CALLS = Path(__file__).resolve().parent / "data" / "escapes" / "calls"
CAPTURED = CALLS / "captured"
LOGS = {"m": CAPTURED / "m.txt", "m2": CAPTURED / "m2.txt", "json": CAPTURED / "json"}
SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "cases"


def hints(log_name, source=True):
    result = escape_hints(load_profile(CAPTURED / "mem.pb.gz"), read_compiler_log(LOGS[log_name]),
                          "alloc_space", SourceTree([CALLS]) if source else None, limit=None)
    return {(Path(h.file).name, h.line): hint_dict(h, 1) for h in result.hints}


@pytest.mark.parametrize("log", list(LOGS))
@pytest.mark.parametrize("source", [True, False])
def test_reader_per_call_is_a_buffer_to_reuse(log, source):
    h = hints(log, source)[("readers.go", 21)]       # bufio.NewReaderSize(bytes.NewReader(p))
    assert h["category"] == "buffer" and h["title"] == "Buffer made per call"
    assert "make([]byte, max(bufio.size, 16)) escapes to heap" in h["reason"]
    # The size is the heap profile's: each object's "bytes" label.
    assert "bufio.NewReaderSize allocates a new 64 KiB buffer every time" in h["suggestion"]
    assert "bufio.Reader" in h["suggestion"] and "Reset" in h["suggestion"]
    assert "sync.Pool" in h["suggestion"]
    assert "append" not in h["suggestion"] and "make([]T, 0, n)" not in h["suggestion"]


@pytest.mark.parametrize("log, category", [("m2", "interface"), ("json", "interface"),
                                           ("m", "address")])  # -m gives no reasons
def test_bytes_reader_escaping_is_reused_not_presized(log, category):
    h = hints(log)[("readers.go", 20)]                 # consume(bytes.NewReader(payload))
    assert h["category"] == category
    assert h["value_name"] == "&bytes.Reader{...}"
    assert "bytes.NewReader creates a new bytes.Reader on every call" in h["suggestion"]
    assert "Reset" in h["suggestion"] and "sync.Pool" in h["suggestion"]


@pytest.mark.parametrize("log", list(LOGS))
def test_no_slice_growth_without_append(log):
    got = hints(log)
    assert all(h["category"] != "growth" for h in got.values()), \
        {k: h["category"] for k, h in got.items()}


@pytest.mark.parametrize("log", list(LOGS))
@pytest.mark.parametrize("line", [21, 39])     # go logf("…", i, name); defer fmt.Sprint("…", i)
def test_go_and_defer_arguments_boxed_into_any_are_interface_conversions(log, line):
    h = hints(log)[("gowrap.go", line)]
    assert h["category"] == "interface"
    assert h["value_name"] in ("i", "name", '"done "')
    assert "closure" not in h["suggestion"]


@pytest.mark.parametrize("log", list(LOGS))
def test_go_statement_wrapper_is_its_arguments(log):
    h = hints(log)[("gowrap.go", 22)]                  # go record(i, name)
    assert h["category"] == "wrapper"
    assert h["title"] == "Arguments held for a go or defer statement"
    assert "The go statement keeps the call and its arguments (i, name)" in h["suggestion"]
    assert "worker" in h["suggestion"]


@pytest.mark.parametrize("log", ["m2", "json"])
def test_go_statement_wrapper_from_the_log_alone(log):
    h = hints(log, source=False)[("gowrap.go", 22)]
    assert h["category"] == "wrapper" and "func literal" in h["reason"]
    assert "closure it makes for this go" in h["reason"]


@pytest.mark.parametrize("log", list(LOGS))
def test_closure_wording_names_captured_variables(log):
    h = hints(log)[("gowrap.go", 23)]                  # go func() { ... count++ ... }()
    assert h["category"] == "closure"
    if log != "m":     # only -m=2 and -json say what a closure captured
        assert "The closure captures `wg`, `count` by reference" in h["suggestion"]
    for other in hints(log).values():
        assert "`func literal`" not in other["suggestion"]


def test_library_calls_by_what_they_do():
    assert library_category("bytes.(*Buffer).grow") == "growth"
    assert library_category("io.ReadAll") == "growth"
    assert library_category("bufio.NewReaderSize") == "buffer"
    assert library_category("bytes.NewReader") == "other"
    assert library_category("bufio.(*Reader).Read") == "other"
    assert library_category("fmt.Sprintf") == "interface"


def test_wrappers_marked_in_every_log_form():
    for name in ("m2", "json"):
        log = read_compiler_log(LOGS[name])
        wrappers = {(v.line, v.col): v.wrapper for v in log.verdicts
                    if v.value == "func literal" and v.file.endswith("gowrap.go")}
        assert wrappers[(23, 6)] == ""               # the program's own closure
        assert wrappers[(21, 3)] and wrappers[(22, 3)] and wrappers[(39, 3)]
    m2 = read_compiler_log(LOGS["m2"])
    kinds = {v.line: v.wrapper for v in m2.verdicts if v.value == "func literal"}
    assert kinds[21] == kinds[22] == "go" and kinds[39] == "defer"


@pytest.mark.skipif(not (SHARED / "escape-bufio-m2.txt").exists(), reason="../shared/cases absent")
def test_handed_case_bufio_and_bytes_readers():
    result = escape_hints(load_profile(SHARED / "escape-bufio-allocs.pb.gz"),
                          read_compiler_log(SHARED / "escape-bufio-m2.txt"), "alloc_space")
    got = {h.line: hint_dict(h, 1) for h in result.hints}
    assert got[23]["category"] == "buffer"
    assert "bufio.NewReaderSize allocates a new 64 KiB buffer" in got[23]["suggestion"]
    for line in (22, 24):
        assert got[line]["category"] == "interface"
        assert "bytes.NewReader creates a new bytes.Reader" in got[line]["suggestion"]
    text = format_text(result)
    assert "Slice growth" not in text and "make([]T, 0, n)" not in text
    assert text.count("sync.Pool") >= 3


@pytest.mark.parametrize("log", ["m2", "json"])
def test_log_alone_tells_wrappers_from_closures(log):
    result = escape_hints(None, read_compiler_log(LOGS[log]), None, SourceTree([CALLS]))
    got = {(Path(h.file).name, h.line): hint_dict(h, 1) for h in result.hints}
    assert got[("gowrap.go", 22)]["category"] == "wrapper"
    closure = got[("gowrap.go", 23)]
    assert closure["category"] == "closure" and closure["captured"] == ["wg", "count"]
