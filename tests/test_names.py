"""pprof's name simplification (sources/names.py) against its rule and a real go tool pprof.

The expected names in the unit cases are written out by hand from the rule in
google/pprof's internal/symbolizer (looksLikeDemangledCPlusPlus, removeMatching);
the differential tests build profiles with such names and compare every row of
`go tool pprof -top` and `-peek` with ours.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from profiles import ProfileBuilder
from reportgen.analyze.graph import Part
from reportgen.analyze.peek import peek
from reportgen.analyze.top import top
from reportgen.render.peek_text import format_peek
from reportgen.sources import load_profile
from reportgen.sources.names import simplify_name
from tests.gotool import go_binary
from tests.test_differential_pprof import pprof_top

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT.parent / "shared" / "cases"


@pytest.mark.parametrize("stored,shown", [
    # Go generics: brackets make the name look like C++, so (...) groups go.
    ("reflect.TypeAssert[go.shape.interface { UnmarshalJSON([]uint8) error }]",
     "reflect.TypeAssert[go.shape.interface { UnmarshalJSON error }]"),
    ("codec.decode[go.shape.map[string]func(int) bool]", "codec.decode[go.shape.map[string]func bool]"),
    ("slices.SortFunc[go.shape.[]int,go.shape.int]", "slices.SortFunc[go.shape.[]int,go.shape.int]"),
    # A method of a generic type ("]).") is left alone, parentheses and all.
    ("cache.(*LRU[go.shape.struct { F func(int) error }]).Get",
     "cache.(*LRU[go.shape.struct { F func(int) error }]).Get"),
    # Plain Go names have none of < > [ ] ::
    ("main.(*Server).handle", "main.(*Server).handle"),
    ("main.main.func1", "main.main.func1"),
    # Java's class.<init> is skipped.
    ("java.util.HashMap.<init>(int)", "java.util.HashMap.<init>(int)"),
    # Demangled C++: parameters, then template arguments; nested groups go whole.
    ("Cache::Insert(int)", "Cache::Insert"),
    ("std::vector<std::pair<int, int> >::push_back(std::pair<int, int> const&)",
     "std::vector::push_back"),
    ("ns::f(void (*)(int))", "ns::f"),
    # Unbalanced: a stray closer stops the removal where it is; an opener never closed stays.
    ("a::b(x) y)z(w)", "a::b y)z(w)"),
    ("a::b(x (y", "a::b(x (y"),
    ("a::b<int(c)", "a::b<int"),
    ("", ""),
])
def test_simplify_name_follows_pprofs_rule(stored, shown):
    assert simplify_name(stored) == shown


def _builder_with(names, system_names=None) -> ProfileBuilder:
    b = ProfileBuilder(sample_types=[("samples", "count"), ("cpu", "nanoseconds")],
                       period_type=("cpu", "nanoseconds"), period=10_000_000,
                       time_nanos=1_700_000_000_000_000_000, duration_nanos=5_000_000_000)
    main = b.location((b.function("main.main", system_name="main.main"), 1))
    for i, name in enumerate(names):
        system = name if system_names is None else system_names[i]
        loc = b.location((b.function(name, system_name=system), 10 + i))
        b.sample([loc, main], [i + 1, (i + 1) * 10_000_000])
    return b


def test_only_names_equal_to_their_system_name_change(tmp_path):
    names = ["pkg.F[go.shape.func(int) error]", "ns::g(int)", "ns::h(int)", ""]
    systems = ["pkg.F[go.shape.func(int) error]", "_ZN2ns1gEi", "", "ns::k(long)"]
    profile = load_profile(_builder_with(names, systems).write(tmp_path / "p.pb.gz"))
    got = {f.system_name: f.name for f in profile.functions if f.system_name != "main.main"}
    # equal -> simplified; already demangled (differs) -> kept; no name -> from system_name.
    assert got == {"pkg.F[go.shape.func(int) error]": "pkg.F[go.shape.func error]",
                   "_ZN2ns1gEi": "ns::g(int)", "": "ns::h(int)", "ns::k(long)": "ns::k"}


GENERIC_NAMES = [
    "example.com/codec.decode[go.shape.map[string]func(int) bool]",
    "example.com/codec.decode[go.shape.map[string]func(string) bool]",  # same once simplified
    "reflect.TypeAssert[go.shape.interface { UnmarshalJSON([]uint8) error }]",
    "example.com/cache.(*LRU[go.shape.string,go.shape.struct { Load func(context.Context) "
    "([]uint8, error) }]).Get",
    "example.com/x.Map[go.shape.int,go.shape.func(int) (int, error)]",
    "Cache::Insert(int)",
    "std::map<int, std::string>::find(int const&)",
    "odd::name(unbalanced",
    "main.(*Server).handle",
]


@pytest.mark.slow
@pytest.mark.parametrize("granularity", ["functions", "lines"])
def test_top_with_generic_names_equals_go_tool_pprof(tmp_path, granularity):
    path = _builder_with(GENERIC_NAMES).write(tmp_path / "generic.pb.gz")
    expected = pprof_top(go_binary(), path, "cpu", "ns", granularity)
    profile = load_profile(path)
    result = top([Part(profile, 1)], granularity, node_fraction=0)
    rows = [(r.name + (f" ({r.inline})" if r.inline else ""), r.flat, r.cum) for r in result.rows]
    assert (result.total, rows) == expected
    # The two decode instantiations merge into one function node, as in pprof.
    assert sum("codec.decode[" in r[0] for r in rows) == (1 if granularity == "functions" else 2)


@pytest.mark.slow
@pytest.mark.parametrize("regex", [r"decode\[go\.shape\.map\[string\]func bool\]", "Cache::Insert$",
                                   "TypeAssert", r"\(\*LRU"])
def test_peek_with_generic_names_equals_go_tool_pprof(tmp_path, regex):
    path = _builder_with(GENERIC_NAMES).write(tmp_path / "generic.pb.gz")
    cmd = [go_binary(), "tool", "pprof", f"-peek={regex}", "-unit=ms", "-nodefraction=0",
           "-edgefraction=0", str(path)]
    expected = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    profile = load_profile(path)
    got = format_peek(profile, peek([Part(profile, 1)], regex), unit="ms")
    assert got.split("Showing nodes")[1] == expected.split("Showing nodes")[1]


def test_handed_generic_paren_names_case():
    path, golden = CASES / "generic-paren-names.pb.gz", CASES / "generic-paren-names.pprof-top.txt"
    if not golden.exists():
        pytest.skip("../shared/cases not present")
    result = top([Part(load_profile(path), 1)], node_fraction=0)
    rows = [(r.name, r.flat, r.cum) for r in result.rows]
    expected = []
    for line in golden.read_text().splitlines()[3:]:
        flat, _, _, cum, _, name = line.split(None, 5)
        expected.append((name, int(flat.rstrip("ns") or 0), int(cum.rstrip("ns") or 0)))
    assert rows == expected
    decode = result.rows[0].as_dict("functions")
    assert decode["system_name"] == "example.com/codec.decode[go.shape.map[string]func(int) bool]"


@pytest.mark.slow
@pytest.mark.parametrize("focus", [r"func bool\]", r"Fetch|::find$"])
def test_filters_match_simplified_names_as_go_tool_pprof(tmp_path, focus):
    from reportgen.analyze.filters import apply_filters
    from tests.test_differential_pprof import ROW, TOTAL
    path = _builder_with(GENERIC_NAMES + ["x.loadAll[go.shape.interface { Fetch(string) }]"]) \
        .write(tmp_path / "generic.pb.gz")
    cmd = [go_binary(), "tool", "pprof", "-top", "-nodefraction=0", "-unit=ns", f"-focus={focus}",
           str(path)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["flat", "flat%"])
    expected = [(m[3], int(float(m[1])), int(float(m[2])))
                for m in map(ROW.match, lines[header + 1:])]
    profile = load_profile(path)
    result = top([Part(apply_filters(profile, focus=focus), 1)], node_fraction=0,
                 total=top([Part(profile, 1)]).total)
    assert [(r.name, r.flat, r.cum) for r in result.rows] == expected
    assert result.total == int(float(TOTAL.search(out).group(1)))
