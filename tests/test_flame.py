"""Flame graph trees (reportgen.analyze.flame) and their SVG (reportgen.render.flamegraph).

The tree is checked against pprof's own numbers: the topmost occurrences of
a function add up to its cum and the self values to its flat, both against
reportgen's top and against a real `go tool pprof -top`.
"""

import json
import re
import subprocess
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from reportgen.analyze.flame import flame_tree, path_values
from reportgen.analyze.frames import stack_frames
from reportgen.analyze.graph import Part
from reportgen.analyze.top import diff_parts, top
from reportgen.render import flamegraph as fg
from reportgen.render.flamegraph import fit_name, flame_svg
from reportgen.sources import load_profile
from tests.gotool import go_binary
from tests.packed import unvlq
from tests.profiles import HOSTILE, ProfileBuilder, hostile_builder

ROOT = Path(__file__).resolve().parent.parent
PROFILES = ROOT / "examples" / "gateway" / "profiles"
LARGE = ROOT / "benchmarks" / "data" / "large.heap.pb.gz"
CASES = [(f"{when}/{name}", index) for when in ("before", "after") for name, index in (
    ("cpu.pb.gz", "cpu"), ("heap.pb.gz", "alloc_space"), ("heap.pb.gz", "inuse_space"),
    ("goroutine.pb.gz", "goroutine"), ("block.pb.gz", "delay"))]
PPROF_ROW = re.compile(r"^\s*(-?[\d.]+)[a-zA-Z]*\s+\S+\s+\S+\s+(-?[\d.]+)[a-zA-Z]*\s+\S+\s+(.*)$")


def parts_of(rel, index):
    profile = load_profile(PROFILES / rel)
    return [Part(profile, profile.sample_index(index))]


def child_sums(tree):
    sums = np.zeros(len(tree), dtype=np.int64)
    np.add.at(sums, tree.parent[1:], tree.total[1:])
    return sums


def topmost_by_name(tree):
    """Per frame name: total of its occurrences with no ancestor of the same name."""
    names, cum, flat = tree.name, defaultdict(int), defaultdict(int)
    path = []
    for n in range(len(tree)):
        del path[tree.depth[n]:]
        if n and names[n] not in path:
            cum[names[n]] += int(tree.total[n])
        if n:
            flat[names[n]] += int(tree.self[n])
        path.append(names[n])
    return cum, flat


def paths(tree):
    """Node per root-to-node path of frame names."""
    names, out, path = tree.name, {}, []
    for n in range(len(tree)):
        del path[tree.depth[n]:]
        path.append(names[n])
        out[tuple(path)] = n
    return out


@pytest.mark.parametrize("rel,index", CASES, ids=[f"{r}:{i}" for r, i in CASES])
def test_tree_invariants_and_pprof_numbers(rel, index):
    parts = parts_of(rel, index)
    tree = flame_tree(parts, min_fraction=0)
    values = parts[0].profile.values[:, parts[0].sample_index]
    assert tree.pruned_nodes == 0 and tree.pruned_value == 0
    assert np.array_equal(child_sums(tree) + tree.self, tree.total)
    assert int(tree.total[0]) == int(values.sum()) == tree.total_value
    assert int(tree.total[tree.parent == 0].sum()) + int(tree.self[0]) == tree.total_value
    assert np.all(tree.depth[1:] == tree.depth[tree.parent[1:]] + 1)
    assert np.all(np.diff(tree.parent[1:]) >= -len(tree))  # parents precede children
    assert np.all(tree.parent[1:] < np.arange(1, len(tree)))
    # children ordered by name
    names = tree.name
    for p in np.unique(tree.parent[1:])[:200]:
        kids = [names[c] for c in tree.children(p)]
        assert kids == sorted(kids)
    cum, flat = topmost_by_name(tree)
    rows = top(parts, node_fraction=0).rows
    assert {r.name: r.cum for r in rows} == {k: v for k, v in cum.items() if v}
    assert {r.name: r.flat for r in rows if r.flat} == {k: v for k, v in flat.items() if v}


def pprof_rows(path, index, unit):
    cmd = [go_binary(), "tool", "pprof", "-top", "-nodecount=1000000", "-nodefraction=0",
           "-edgefraction=0", f"-unit={unit}", f"-sample_index={index}", str(path)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.split()[:2] == ["flat", "flat%"])
    rows = {}
    for line in lines[start + 1:]:
        m = PPROF_ROW.match(line)
        assert m, line
        name = re.sub(r" \((partial-)?inline\)$", "", m.group(3))
        rows[name] = (int(float(m.group(1))), int(float(m.group(2))))
    return rows


@pytest.mark.parametrize("rel,index", CASES[:5], ids=[f"{r}:{i}" for r, i in CASES[:5]])
def test_tree_matches_go_tool_pprof(rel, index):
    parts = parts_of(rel, index)
    unit = "ns" if parts[0].profile.sample_types[parts[0].sample_index].unit == "nanoseconds" \
        else "B"
    expected = pprof_rows(PROFILES / rel, index, unit)
    cum, flat = topmost_by_name(flame_tree(parts, min_fraction=0))
    assert {k: (flat[k], v) for k, v in cum.items() if v} == expected


def test_lines_granularity_and_testdata(testdata):
    for path in sorted(testdata.glob("*.cpu"))[:4] + sorted(testdata.glob("synthetic/*.pb.gz")):
        profile = load_profile(path)
        for granularity in ("functions", "lines"):
            parts = [Part(profile, profile.sample_index())]
            tree = flame_tree(parts, granularity=granularity, min_fraction=0)
            assert np.array_equal(child_sums(tree) + tree.self, tree.total), path
            cum, flat = topmost_by_name(tree)
            rows = top(parts, granularity=granularity, node_fraction=0).rows
            assert {r.name: r.cum for r in rows} == {k: v for k, v in cum.items() if v}, path


def test_pruning_accounting():
    parts = parts_of("before/cpu.pb.gz", "cpu")
    full = flame_tree(parts, min_fraction=0)
    fraction = 0.01
    pruned = flame_tree(parts, min_fraction=fraction)
    assert 0 < len(pruned) < len(full)
    assert pruned.pruned_nodes == len(full) - len(pruned)
    assert np.all(pruned.weight >= fraction * pruned.weight[0])
    full_paths, kept_paths = paths(full), paths(pruned)
    assert set(kept_paths) <= set(full_paths)
    for path, n in kept_paths.items():
        m = full_paths[path]
        assert (pruned.total[n], pruned.self[n]) == (full.total[m], full.self[m])
    cut = [m for path, m in full_paths.items()
           if path not in kept_paths and path[:-1] in kept_paths]
    assert pruned.pruned_value == int(full.weight[cut].sum())
    # offsets: children sit side by side inside their parent
    for n in range(1, len(pruned)):
        p = pruned.parent[n]
        assert pruned.offset[p] <= pruned.offset[n]
        assert pruned.offset[n] + pruned.weight[n] <= pruned.offset[p] + pruned.weight[p]


def test_reverse_tree_lists_callers():
    parts = parts_of("before/heap.pb.gz", "alloc_space")
    tree = flame_tree(parts, reverse=True, min_fraction=0)
    profile = parts[0].profile
    frames = stack_frames(profile)
    names = [k.printable() for k in frames.table.keys]
    values = profile.values[:, parts[0].sample_index]
    expected = defaultdict(lambda: defaultdict(int))
    for s in range(profile.num_samples):
        stack = frames.occ.node[frames.occ.sample == s]
        if len(stack) and values[s]:
            expected[names[stack[0]]][names[stack[1]] if len(stack) > 1 else None] += values[s]
    assert np.array_equal(child_sums(tree) + tree.self, tree.total)
    tnames = tree.name
    leaves = {tnames[c]: c for c in tree.children(0)}
    assert {k: int(tree.total[c]) for k, c in leaves.items()} == \
        {k: sum(v.values()) for k, v in expected.items()}
    hot = max(leaves, key=lambda k: tree.total[leaves[k]])
    callers = {tnames[c]: int(tree.total[c]) for c in tree.children(leaves[hot])}
    want = {k: v for k, v in expected[hot].items() if k is not None}
    assert callers == want and len(callers) > 0
    flat = {r.name: r.flat for r in top(parts, node_fraction=0).rows if r.flat}
    assert {k: int(tree.total[c]) for k, c in leaves.items()} == flat


def test_diff_parts_and_path_values():
    before = load_profile(PROFILES / "before/cpu.pb.gz")
    after = load_profile(PROFILES / "after/cpu.pb.gz")
    parts = diff_parts(after, before)
    tree = flame_tree(parts, min_fraction=0)
    assert np.array_equal(child_sums(tree) + tree.self, tree.total)
    assert np.all(tree.weight >= np.abs(tree.total))
    assert tree.total_value == int(before.values[:, 1].sum())
    assert int(tree.total[0]) == int(after.values[:, 1].sum() - before.values[:, 1].sum())
    # base along the same paths: the target tree's own values come back exactly
    target = flame_tree([Part(after, 1)], min_fraction=0)
    tot, slf = path_values(target, [Part(after, 1)])
    assert np.array_equal(tot, target.total) and np.array_equal(slf, target.self)
    base_tot, _ = path_values(target, [Part(before, 1)])
    assert base_tot[0] == int(before.values[:, 1].sum())
    by_path = paths(tree)
    for path, n in paths(target).items():
        # target - base on a shared path equals the diff tree's node there
        if base_tot[n] and path in by_path:
            assert target.total[n] - base_tot[n] == tree.total[by_path[path]]


def test_fit_name_shortens_step_by_step():
    name = "github.com/acme/svc/store.(*Cache).Get"
    assert fit_name(name, 100) == name
    assert fit_name(name, 20) == "store.(*Cache).Get"
    assert fit_name(name, 14) == "(*Cache).Get"
    assert fit_name(name, 8) == "(*Cache…"
    assert fit_name(name, 2) == ""
    assert fit_name("cmp.Less[go.shape.string]", 20) == "Less[go.shape.string]"[:19] + "…"
    assert fit_name("main.f /src/a/b.go:12", 12) == "f /src/a/b.…"


def test_packages_families_and_stable_colours():
    assert fg.package_of("github.com/a/b.(*T).M") == "github.com/a/b"
    assert fg.package_of("net/http.(*conn).serve") == "net/http"
    assert fg.package_of("example.com/m.F[go.shape.*example.com/x.T]") == "example.com/m"
    assert fg.package_of("gogo", "/go/src/runtime/asm_amd64.s") == "runtime"
    assert fg.family("internal/runtime/maps") == "runtime"
    assert fg.family("runtime") == "runtime"
    assert fg.family("encoding/json") == "std"
    assert fg.family("main") == "app"
    assert fg.family("github.com/a/b") == "app"
    assert fg.family("") == "other"
    # Pinned: the same package must keep its colour across nights and versions.
    assert fg.colour("net/http", "std") == "#84acd7"
    assert fg.colour("main", "app") == "#e69853"
    assert fg.colour("net/http", "std") != fg.colour("net/url", "std")


def test_vlq_round_trip():
    values = np.array([0, 1, 31, 32, 1023, 1024, 2**40 + 7, 2**53 - 1], dtype=np.uint64)
    assert unvlq(fg.vlq(values)) == [int(v) for v in values]


def svg_data(svg, gid):
    m = re.search(rf'<script type="application/json" id="{gid}-data">(.*?)</script>', svg, re.S)
    return json.loads(m.group(1))


def assert_hostile_svg_safe(svg: str):
    """Well-formed XML, only our two scripts, no handler attributes, names kept as data."""
    root = ET.fromstring(svg.encode("utf-8"))
    assert svg.count("<script") == 2
    for bad in ("</script><script>", "<img", "alert(1)</", "{{ 7*7 }}</"):
        assert bad not in svg.replace("\\u003c", "?")
    for elem in root.iter():
        assert not any(a.lower().startswith("on") for a in elem.attrib), elem.attrib
    data = svg_data(svg, "hostile")
    for h in HOSTILE[:4]:
        assert any(h in name for name in data["names"]), h
    return root, data


@pytest.mark.parametrize("standalone", [True, False])
def test_hostile_names_are_escaped(tmp_path, standalone):
    profile = load_profile(hostile_builder().write(tmp_path / "h.pb.gz"))
    tree = flame_tree([Part(profile, 1)], granularity="lines", min_fraction=0)
    svg = flame_svg(tree, "hostile", HOSTILE[2], standalone=standalone)
    root, data = assert_hostile_svg_safe(svg)
    for h in HOSTILE[:4]:
        assert any(h in f for f in data["files"]) or h == HOSTILE[3] or h == HOSTILE[0]
    texts = "".join(e.text or "" for e in root.iter() if e.tag.endswith("text"))
    assert HOSTILE[2] in texts  # the title, as text


def test_deterministic_and_self_contained():
    parts = parts_of("before/cpu.pb.gz", "cpu")
    a = flame_svg(flame_tree(parts), "cpu", "CPU", standalone=True)
    b = flame_svg(flame_tree(parts_of("before/cpu.pb.gz", "cpu")), "cpu", "CPU", standalone=True)
    assert a == b
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", a))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xhtml"}
    assert not re.search(r"\b(href|src)\s*=|url\(|@import|@font-face", a)
    ET.fromstring(a.encode("utf-8"))
    with pytest.raises(ValueError):
        flame_svg(flame_tree(parts), 'x" onload="alert(1)', "t")


def test_empty_profile_renders(tmp_path):
    b = ProfileBuilder(sample_types=[("samples", "count")])
    profile = load_profile(b.write(tmp_path / "empty.pb.gz"))
    tree = flame_tree([Part(profile, 0)])
    assert len(tree) == 1 and tree.total_value == 0
    ET.fromstring(flame_svg(tree, "empty", "nothing", standalone=True).encode())


@pytest.fixture(scope="session")
def large_profile():
    if not LARGE.exists():
        proc = subprocess.run(["bash", str(ROOT / "benchmarks" / "make_large_profile.sh")],
                              capture_output=True, text=True)
        if proc.returncode != 0 or not LARGE.exists():
            pytest.skip(f"could not make the large profile: {proc.stderr[-500:]}")
    return load_profile(LARGE)


def test_large_profile_size_and_time(large_profile):
    parts = [Part(large_profile, large_profile.sample_index("alloc_space"))]
    stack_frames(large_profile)  # shared with top; not the flame graph's cost
    t0 = time.perf_counter()
    tree = flame_tree(parts)
    t1 = time.perf_counter()
    svg = flame_svg(tree, "large", "large heap", standalone=True)
    t2 = time.perf_counter()
    rev = flame_tree(parts, reverse=True)
    t3 = time.perf_counter()
    size = len(svg.encode("utf-8"))
    print(f"\nlarge heap: {large_profile.num_samples} samples, {len(tree)} nodes kept, "
          f"{tree.pruned_nodes} pruned; tree {t1 - t0:.2f}s, svg {t2 - t1:.2f}s, "
          f"reverse tree {t3 - t2:.2f}s ({len(rev)} nodes); svg {size / 1e6:.2f} MB")
    assert size < 2_000_000
    ET.fromstring(svg.encode("utf-8"))
    # pruning counts what it skipped building, too
    full = flame_tree(parts, min_fraction=0)
    assert tree.pruned_nodes == len(full) - len(tree)
    assert np.array_equal(child_sums(full) + full.self, full.total)
