"""-focus/-ignore/-hide/-show/-show_from/-tag* against pprof.

Goldens: google/pprof's own expected outputs (synthetic/expected). Then a
differential test: the same filters through real `go tool pprof -top` on the
gateway example profiles and on a small profile built to hit the corners
(inlined lines, locations known only by their
mapping, string and numeric labels with and without units).
"""

import dataclasses
import difflib
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from profiles import ProfileBuilder
from reportgen.analyze.filters import active_filters, apply_filters, compile_regex, parse_tag_range
from reportgen.analyze.graph import Part
from reportgen.analyze.tags import sample_total
from reportgen.analyze.top import top
from reportgen.errors import UsageError
from reportgen.model import Function, Label, Line, Location, Mapping, Profile, ValueType
from reportgen.render.text import format_top
from reportgen.sources import load_profile
from tests.gotool import go_binary

ROOT = Path(__file__).resolve().parent.parent
GATEWAY = ROOT / "examples" / "gateway" / "profiles" / "before"


def filtered_top_text(path, filters, granularity="functions", cum_sort=False, unit="minimum",
                      sample_index=None, compact=False, **top_options):
    """What `go tool pprof -top` prints with these filters.

    pprof takes the report total before filtering, and prints the active
    filters between the profile header and the "Showing nodes" line;
    -compact_labels drops the header.
    """
    profile = load_profile(path)
    si = profile.sample_index(sample_index)
    filtered = apply_filters(profile, **filters)
    result = top([Part(filtered, si)], granularity=granularity, cum_sort=cum_sort, **top_options)
    total = sample_total(profile, si)
    result = dataclasses.replace(result, total=total, drop_cutoff=abs(int(
        float(total) * top_options.get("node_fraction", 0.005))))
    lines = format_top(filtered, result, unit=unit).split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("Showing nodes"))
    return "\n".join(([] if compact else lines[:at]) + active_filters(**filters) + lines[at:])


# --- pprof's goldens ---------------------------------------------------------

GOLDENS = [
    ("pprof.cpu.cum.lines.text.hide", "cpu.pb.gz", "lines", True, {"hide": "line[X3]0"}),
    ("pprof.cpu.cum.lines.text.show", "cpu.pb.gz", "lines", True, {"show": "[12]00"}),
    ("pprof.cpu.cum.lines.text.focus.hide", "cpu.pb.gz", "lines", True,
     {"focus": "[12]00", "hide": "line[X3]0"}),
    ("pprof.heap.flat.files.text.focus", "heap.pb.gz", "files", False,
     {"focus": "[12]00", "taghide": "[X3]00"}),
]


@pytest.mark.parametrize("golden,target,granularity,cum_sort,filters", GOLDENS,
                         ids=[g[0] for g in GOLDENS])
def test_text_goldens(testdata, golden, target, granularity, cum_sort, filters):
    # -symbolize=none -nodecount=20 -nodefraction=0.05 -edgefraction=0.01 -compact_labels
    synthetic = testdata / "synthetic"
    got = filtered_top_text(synthetic / target, filters, granularity, cum_sort, compact=True,
                            node_limit=20, node_fraction=0.05, edge_fraction=0.01)
    assert got == (synthetic / "expected" / golden).read_text()


# --- differential against go tool pprof ---------------------------------------

FLAG = {"show_from": "-show_from"}


def pprof_top_text(path, filters, granularity, unit):
    cmd = [go_binary(), "tool", "pprof", "-symbolize=none", "-top", "-nodefraction=0",
           "-edgefraction=0", "-nodecount=1000000", f"-unit={unit}", f"-{granularity}"]
    cmd += [f"{FLAG.get(k, '-' + k)}={v}" for k, v in filters.items()]
    return subprocess.run(cmd + [str(path)], capture_output=True, text=True, check=True).stdout


def assert_same_text(expected, got):
    if expected != got:
        diff = "\n".join(difflib.unified_diff(expected.split("\n"), got.split("\n"),
                                              "pprof", "reportgen", lineterm=""))
        pytest.fail("output differs from pprof:\n" + diff[:4000])


NAME_FILTERS = [
    {"focus": "net/http"},
    {"ignore": "runtime"},
    {"focus": r"main\.", "ignore": "json"},
    {"hide": r"runtime\."},
    {"show": "net/http|main"},
    {"show": "src/net/"},               # file names match too
    {"hide": "gateway"},                # the main binary's mapping: every Go frame
    {"focus": "libc"},                  # frames known only by their mapping
    {"focus": "(?i)JSON", "hide": "[[:digit:]]"},
    {"ignore": r"^runtime\.mallocgc$"},
    {"show_from": r"net/http\.\(\*conn\)\.serve"},
    {"focus": "nomatch-at-all"},
]
TAG_FILTERS = [
    {"tagfocus": "1kb:"},
    {"tagignore": "bytes=16b"},
    {"tagfocus": "bytes=:512", "hide": "bufio"},
    {"tagfocus": "32b:4kb", "focus": "http"},
    {"tagfocus": "16"},                 # unitless: never equals a bytes value
    {"taghide": "bytes", "show": "main"},
]


def gateway_cases():
    for name in ("cpu", "heap", "allocs"):
        filters = NAME_FILTERS + (TAG_FILTERS if name != "cpu" else [])
        for i, f in enumerate(filters):
            granularity = "lines" if i % 3 == 2 else "functions"
            yield pytest.param(name, f, granularity, id=f"{name}:{granularity}:{f}")


@pytest.mark.skipif(not GATEWAY.is_dir(), reason="no gateway example profiles")
@pytest.mark.parametrize("name,filters,granularity", list(gateway_cases()))
def test_gateway_top_equals_pprof(name, filters, granularity):
    path = GATEWAY / f"{name}.pb.gz"
    unit = "ns" if name == "cpu" else "B"
    assert_same_text(pprof_top_text(path, filters, granularity, unit),
                     filtered_top_text(path, filters, granularity, unit=unit, node_fraction=0))


def labeled_builder() -> ProfileBuilder:
    """Inlined lines, mapping-only locations, labels of all kinds (pprof rejects lines
    without a function, so there are none)."""
    b = ProfileBuilder()
    app = b.mapping("/bin/app", build_id="b1", start=0x1000, limit=0x9000)
    lib = b.mapping("/lib/libfoo.so", start=0x10000, limit=0x20000)
    main = b.function("main.main", "/src/app/main.go")
    handle = b.function("app.handle", "/src/app/handler.go")
    helper = b.function("app.helper", "/src/app/handler.go")
    malloc = b.function("runtime.malloc", "/go/src/runtime/malloc.go")
    work = b.function("foo_work", "foo.c")
    l_main = b.location((main, 10), address=0x1100, mapping=app)
    l_handle = b.location((helper, 21), (handle, 40), address=0x1200, mapping=app)
    l_malloc = b.location((malloc, 3), address=0x1300, mapping=app)
    l_lib = b.location(address=0x10100, mapping=lib)
    l_work = b.location((work, 5), address=0x10200, mapping=lib)
    l_bare = b.location(address=0x5000)
    b.sample([l_malloc, l_handle, l_main], [3, 3072],
             {"handler": "/api", "bytes": (1024, "bytes"), "lat": (1500000, "nanoseconds")})
    b.sample([l_handle, l_main], [1, 512], {"handler": "/health", "region": "eu"})
    b.sample([l_work, l_lib, l_handle, l_main], [2, 8192],
             [("handler", "/api"), ("handler", "/x"), ("request", 4096)])
    b.sample([l_lib, l_main], [0, 0], {"count": 7, "region": "us"})
    b.sample([l_bare, l_malloc, l_main], [5, 40960], {"lat": (2, "ms"), "bytes": 64})
    b.sample([l_main], [1, 100], {})
    return b


LABELED_FILTERS = [
    {"focus": "handler"},               # a file name
    {"focus": "app", "ignore": "libfoo"},
    {"hide": "helper"},                 # one inlined line of a location
    {"hide": r"app\.handle$"},          # the line the other one is inlined into
    {"hide": "app"},                    # mapping /bin/app: whole locations
    {"show": "app"},
    {"show": "malloc"},
    {"show": "libfoo"},                 # a mapping: keeps its locations, lines and all
    {"show_from": "handle"},
    {"show_from": "libfoo"},
    {"tagfocus": "handler=/api"},
    {"tagfocus": "/api,region"},        # bare regexps: each must match some key:value
    {"tagfocus": "health,region:e"},
    {"tagfocus": "handler:/x"},
    {"tagignore": "region=e.", "tagfocus": "handler=^/"},
    {"tagfocus": "lat=1ms:"},
    {"tagfocus": "1ms:2ms"},
    {"tagfocus": "request=4kb"},
    {"tagfocus": "count=7"},
    {"tagfocus": ":1kb"},
    {"tagshow": "handler", "tagignore": "bytes=1kb"},
]


@pytest.mark.parametrize("filters", LABELED_FILTERS, ids=[str(f) for f in LABELED_FILTERS])
@pytest.mark.parametrize("granularity", ["functions", "lines"])
def test_labeled_top_equals_pprof(tmp_path, filters, granularity):
    path = labeled_builder().write(tmp_path / "labeled.pb.gz")
    assert_same_text(pprof_top_text(path, filters, granularity, "B"),
                     filtered_top_text(path, filters, granularity, unit="B", node_fraction=0))


# --- the API -------------------------------------------------------------------

def test_no_filter_returns_the_same_profile(tmp_path):
    profile = load_profile(labeled_builder().write(tmp_path / "p.pb.gz"))
    assert apply_filters(profile) is profile
    assert apply_filters(profile, focus="", tagfocus=None) is profile


def test_derived_profile_has_fresh_cache(tmp_path):
    profile = load_profile(labeled_builder().write(tmp_path / "p.pb.gz"))
    top([Part(profile, 1)])
    assert profile.cache
    filtered = apply_filters(profile, hide="helper")
    assert filtered.cache == {} and filtered is not profile
    assert filtered.num_samples == profile.num_samples
    assert len(filtered.stack_locations) == len(profile.stack_locations)
    handle = next(loc for loc in filtered.locations if len(loc.lines) == 1
                  and filtered.functions[loc.lines[0].function].name == "app.handle")
    assert handle.address == 0x1200
    # the original is untouched
    assert any(len(loc.lines) == 2 for loc in profile.locations)


def test_warnings_like_pprof(tmp_path):
    profile = load_profile(labeled_builder().write(tmp_path / "p.pb.gz"))
    warnings = []
    apply_filters(profile, focus="zzz", hide="zzz", tagfocus="k=zzz", warnings=warnings)
    assert warnings == ["Focus expression matched no samples", "Hide expression matched no samples",
                        "TagFocus expression matched no samples"]


def test_bad_regexp_is_a_usage_error(tmp_path):
    profile = load_profile(labeled_builder().write(tmp_path / "p.pb.gz"))
    with pytest.raises(UsageError, match="focus"):
        apply_filters(profile, focus="a(")


@pytest.mark.parametrize("pattern,matches,misses", [
    ("[[:digit:]]+", "a12", "abc"),                 # POSIX class
    ("^[^[:space:]x]$", "y", "x"),
    ("\\Qa.b\\E+", "a.bbb", "axb"),               # quoting
    ("end\\z", "the end", "end\n"),
    ("(?P<name>x)", "x", "y"),
    ("^[]a]$", "]", "b"),
    ("^\\pL+$", "héllo", "h3llo"),                  # Unicode classes
    ("\\p{Greek}", "αβ", "ab"),
    ("(?i)MAIN", "main.main", "mian"),
])
def test_filters_use_go_regexps(pattern, matches, misses):
    rx = compile_regex("focus", pattern)
    assert rx.search(matches) and not rx.search(misses)


@pytest.mark.parametrize("text,value,unit,want", [
    ("32kb", 32768, "bytes", True), ("32kb", 32767, "bytes", False),
    (":64kb", 65536, "bytes", True), ("4mb:", 4 << 20, "B", True), ("4mb:", 100, "B", False),
    ("12kb:64mb", 1 << 20, "bytes", True), ("1ms:2ms", 1500000, "nanoseconds", True),
    ("16", 16, "bytes", False), ("16", 16, "count", True), ("1kb:", 4096, "ms", False),
])
def test_tag_ranges(text, value, unit, want):
    assert parse_tag_range(text)(value, unit) is want


@pytest.mark.parametrize("text", ["tag[13]", "1:2:3", "1kb:2ms", "a1", "1kb:x"])
def test_tag_range_or_regexp(text):
    assert parse_tag_range(text) is None


def test_active_filters_legend():
    assert active_filters() == []
    assert active_filters(taghide="t", focus="f", tagfocus=None) == [
        "Active filters:", "   focus=f", "   taghide=t"]
    long = active_filters(focus="x" * 100)[1]
    assert long == "   focus=" + "x" * 74 + "…"


def test_a_million_frames_is_fast():
    rng = np.random.default_rng(7)
    nf, ns, depth = 5000, 100_000, 10
    functions = [Function(f"pkg{i % 50}.fn{i}", "", f"/src/pkg{i % 50}/f.go", 0) for i in range(nf)]
    locations = [Location(i, 0, (Line(i, 1, 0), Line((i * 7) % nf, 2, 0)) if i % 5 == 0
                          else (Line(i, 1, 0),), False) for i in range(nf)]
    profile = Profile(
        "big", [ValueType("samples", "count")], functions, locations,
        [Mapping(0, 0, 0, "/bin/x", "", True, True, True, True)],
        rng.integers(0, 100, (ns, 1)), np.arange(ns + 1, dtype=np.int64) * depth,
        rng.integers(0, nf, ns * depth).astype(np.int32), rng.integers(0, 3, ns).astype(np.int32),
        [(), (Label("bytes", "", 100, "bytes"),), (Label("k", "v", 0, ""),)])
    start = time.perf_counter()
    for filters in ({"focus": r"pkg1\."}, {"ignore": r"pkg2\."}, {"hide": "pkg3"},
                    {"show": r"pkg[0-4]\."}, {"show_from": r"pkg7\."}, {"tagfocus": "k=v"}):
        apply_filters(profile, **filters)
    assert time.perf_counter() - start < 3.0
