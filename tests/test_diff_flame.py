"""Differential flame graphs: reportgen.analyze.flame.diff_flame_tree and its SVG.

Each side's values along the union tree must be exactly what a flame graph
of that side alone has on the same path, and after - before exactly what a
flame graph of pprof's -diff_base merge has there; per function, they add up
to the before/after numbers of the diff page (reportgen.analyze.diff).
"""

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from reportgen.analyze.diff import compare
from reportgen.analyze.flame import diff_flame_tree, flame_tree
from reportgen.analyze.graph import Part
from reportgen.analyze.top import diff_parts
from reportgen.render.flamegraph import (DIFF_LABELS, DIFF_PALETTE, change_bins,
                                         flame_svg)
from reportgen.sources import load_profile
from tests.profiles import HOSTILE, hostile_builder
from tests.test_flame import assert_hostile_svg_safe, paths

PROFILES = Path(__file__).resolve().parent.parent / "examples" / "gateway" / "profiles"


def load(when, name="cpu.pb.gz"):
    return load_profile(PROFILES / when / name)


def adds_up(tree, total, self_):
    sums = np.zeros(len(tree), dtype=np.int64)
    np.add.at(sums, tree.parent[1:], total[1:])
    return np.array_equal(sums + self_, total)


def topmost(tree, values):
    """Per frame name: `values` of its occurrences with no ancestor of the same name."""
    names, out, path = tree.name, {}, []
    for n in range(len(tree)):
        del path[tree.depth[n]:]
        if n and names[n] not in path:
            out[names[n]] = out.get(names[n], 0) + int(values[n])
        path.append(names[n])
    return out


@pytest.fixture(scope="module")
def cpu():
    before, after = load("before"), load("after")
    parts = diff_parts(after, before, "cpu")
    return before, after, parts, diff_flame_tree(parts[:1], parts[1:], min_fraction=0)


def test_sides_follow_their_own_paths(cpu):
    before, after, parts, tree = cpu
    assert adds_up(tree, tree.after_total, tree.after_self)
    assert adds_up(tree, tree.before_total, tree.before_self)
    assert adds_up(tree, tree.total, tree.self)
    assert int(tree.after_total[0]) == int(after.values[:, 1].sum())
    assert int(tree.before_total[0]) == int(before.values[:, 1].sum())
    assert np.array_equal(tree.total, tree.after_total - tree.before_total)
    assert np.array_equal(tree.self, tree.after_self - tree.before_self)
    # each side alone, on the same path (0 where that side never goes)
    mine = paths(tree)
    for side, total, self_ in ((parts[0], tree.after_total, tree.after_self),
                               (Part(before, 1), tree.before_total, tree.before_self)):
        alone = flame_tree([side], min_fraction=0)
        theirs = paths(alone)
        for path, n in mine.items():
            m = theirs.get(path)
            want = (0, 0) if m is None else (int(alone.total[m]), int(alone.self[m]))
            assert (int(total[n]), int(self_[n])) == want, path
    # the union of both sides' paths, nothing else
    union = set(paths(flame_tree(parts[:1], min_fraction=0))) | set(
        paths(flame_tree([Part(before, 1)], min_fraction=0)))
    assert set(mine) == union
    # after - before is the -diff_base flame graph's value on every path
    merged = flame_tree(parts, min_fraction=0)
    by_path = paths(merged)
    assert set(by_path) == set(mine)
    for path, n in mine.items():
        m = by_path[path]
        assert (tree.total[n], tree.self[n]) == (merged.total[m], merged.self[m]), path


def test_adds_up_to_the_diff_page_numbers(cpu):
    before, after, _, tree = cpu
    diff = compare(before, after, "before", "after", "cpu")
    after_cum, before_cum = topmost(tree, tree.after_total), topmost(tree, tree.before_total)
    names = tree.name
    for m in diff.movers:
        assert (after_cum.get(m.name, 0), before_cum.get(m.name, 0)) == \
            (m.target_cum, m.base_cum), m.name
        flat = [n for n in range(1, len(tree)) if names[n] == m.name]
        assert int(tree.after_self[flat].sum()) == m.target_flat
        assert int(tree.before_self[flat].sum()) == m.base_flat
    assert after_cum.keys() == {m.name for m in diff.movers}  # every function, either side


def test_widths_and_layout(cpu):
    _, _, parts, target = cpu
    base = diff_flame_tree(parts[:1], parts[1:], widths="base", min_fraction=0)
    assert np.array_equal(target.weight, target.after_total)
    assert np.array_equal(base.weight, base.before_total)
    for tree in (target, base):
        for n in range(1, len(tree)):  # children side by side inside their parent
            p = tree.parent[n]
            assert tree.offset[p] <= tree.offset[n]
            assert tree.offset[n] + tree.weight[n] <= tree.offset[p] + tree.weight[p]
    with pytest.raises(ValueError):
        diff_flame_tree(parts[:1], parts[1:], widths="after")


def test_a_path_only_in_the_base_shows_with_base_widths(cpu):
    _, _, parts, target = cpu
    base = diff_flame_tree(parts[:1], parts[1:], widths="base", min_fraction=0)
    gone = [n for n in range(len(base)) if base.name[n] == "main.handleBefore"]
    new = [n for n in range(len(base)) if base.name[n] == "main.handleAfter"]
    assert gone and new
    for n in gone:  # the fix removed it: only the base has it
        assert base.after_total[n] == 0 and base.before_total[n] > 0
        assert base.weight[n] == base.before_total[n] and target.weight[n] == 0
        assert base.change[n] == -1 and change_bins(base.change[[n]])[0] == 0
    for n in new:
        assert target.weight[n] > 0 and base.weight[n] == 0
        assert base.change[n] == 1 and change_bins(base.change[[n]])[0] == 8


def test_synthetic_base_only_path(tmp_path):
    """A function only the base calls, with hostile names, drawn only with base widths."""
    base = hostile_builder()
    gone = base.function(f"main.gone{HOSTILE[0]}", "/src/gone.go", 50)
    base.sample([base.location((gone, 51)), 1], [7, 7 * 4096])  # location 1 is main.main
    target = load_profile(hostile_builder().write(tmp_path / "t.pb.gz"))
    base = load_profile(base.write(tmp_path / "b.pb.gz"))
    parts = diff_parts(target, base, "alloc_space")
    for widths in ("target", "base"):
        tree = diff_flame_tree(parts[:1], parts[1:], widths=widths, min_fraction=0)
        n = tree.name.index(f"main.gone{HOSTILE[0]}")
        assert (tree.before_total[n], tree.after_total[n]) == (7 * 4096, 0)
        assert tree.weight[n] == (7 * 4096 if widths == "base" else 0)
        unchanged = [m for m in range(1, len(tree)) if m != n and tree.parent[m] != n
                     and tree.depth[m] > 1]
        assert all(tree.total[m] == 0 for m in unchanged)  # the rest is the same profile
        svg = flame_svg(tree, "gone", "gone", standalone=True)
        drawn = 'class="c0"' in svg  # the static picture draws the gone frame in dark blue
        assert drawn == (widths == "base")


def test_normalize_uses_the_scaled_target():
    before, after = load("before"), load("after")
    parts = diff_parts(after, before, "cpu", normalize=True)
    tree = diff_flame_tree(parts[:1], parts[1:], min_fraction=0)
    scaled = int(parts[0].profile.values[:, 1].sum())
    assert scaled != int(after.values[:, 1].sum())
    assert int(tree.after_total[0]) == scaled
    assert abs(scaled - int(before.values[:, 1].sum())) <= before.num_samples
    alone = flame_tree(parts[:1], min_fraction=0)
    theirs = paths(alone)
    for path, n in paths(tree).items():
        if path in theirs:
            assert tree.after_total[n] == alone.total[theirs[path]]


def test_pruning_counts_each_side():
    before, after = load("before", "heap.pb.gz"), load("after", "heap.pb.gz")
    parts = diff_parts(after, before, "alloc_space")
    full = diff_flame_tree(parts[:1], parts[1:], min_fraction=0)
    pruned = diff_flame_tree(parts[:1], parts[1:], min_fraction=0.01)
    assert 0 < len(pruned) < len(full) and full.pruned_nodes == 0
    assert pruned.pruned_nodes == len(full) - len(pruned)
    kept, every = paths(pruned), paths(full)
    cut = [m for path, m in every.items() if path not in kept and path[:-1] in kept]
    assert pruned.pruned_after == int(full.after_total[cut].sum())
    assert pruned.pruned_before == int(full.before_total[cut].sum())
    assert pruned.pruned_value == pruned.pruned_after
    for path, n in kept.items():
        m = every[path]
        assert (pruned.before_total[n], pruned.after_total[n]) == \
            (full.before_total[m], full.after_total[m])


def test_change_and_colour_bins():
    change = np.array([-1, -0.75, -0.6, -0.3, -0.1, -0.019, 0, 0.019, 0.1, 0.3, 0.6, 0.75, 1])
    assert change_bins(change).tolist() == [0, 0, 1, 2, 3, 4, 4, 4, 5, 6, 7, 8, 8]
    assert len(DIFF_PALETTE) == len(DIFF_LABELS) == 9
    # diverging red/blue, white in the middle: no green anywhere
    assert DIFF_PALETTE[4] == "#f7f7f7"
    for c in DIFF_PALETTE[:4]:
        assert int(c[5:7], 16) > int(c[1:3], 16)  # blue side
    for c in DIFF_PALETTE[5:]:
        assert int(c[1:3], 16) > int(c[5:7], 16)  # red side


def svg_data(svg, gid):
    m = re.search(rf'<script type="application/json" id="{gid}-data">(.*?)</script>', svg, re.S)
    return json.loads(m.group(1))


def test_svg_data_legend_and_buttons(cpu):
    _, _, parts, tree = cpu
    svg = flame_svg(tree, "d", "CPU diff", standalone=True)
    root = ET.fromstring(svg.encode("utf-8"))
    assert 'class="rgflame rgdiff"' in svg
    data = svg_data(svg, "d")
    assert data["diff"] is True and data["widths"] == "target" and data["fields"] == 7
    assert data["n"] == len(tree)
    for label in DIFF_LABELS:
        assert label in svg
    ids = {e.get("id") for e in root.iter()}
    assert {"d-widths", "d-legend", "d-wnote", "d-q", "d-reset", "d-orient"} <= ids
    assert "before 2.81s → after 2.76s (-1.8%)" in svg
    base = flame_svg(diff_flame_tree(parts[:1], parts[1:], widths="base"), "d", "CPU diff")
    assert svg_data(base, "d")["widths"] == "base" and ">Target widths</text>" in base


def test_hostile_names_are_escaped(tmp_path):
    base = hostile_builder()
    gone = base.function(f"main.gone{HOSTILE[2]}", f"/src/{HOSTILE[1]}.go", 50)
    base.sample([base.location((gone, 51)), 1], [7, 7 * 4096])
    target = load_profile(hostile_builder().write(tmp_path / "t.pb.gz"))
    base = load_profile(base.write(tmp_path / "b.pb.gz"))
    parts = diff_parts(target, base, "alloc_space")
    tree = diff_flame_tree(parts[:1], parts[1:], granularity="lines", widths="base",
                           min_fraction=0)
    for standalone in (True, False):
        svg = flame_svg(tree, "hostile", HOSTILE[2], standalone=standalone)
        _root, data = assert_hostile_svg_safe(svg)
        assert any(HOSTILE[1] in f for f in data["files"])


def test_deterministic_and_self_contained():
    def build():
        parts = diff_parts(load("after"), load("before"), "cpu")
        return flame_svg(diff_flame_tree(parts[:1], parts[1:]), "cpu", "CPU", standalone=True)
    a, b = build(), build()
    assert a == b
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", a))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xhtml"}
    assert not re.search(r"\b(href|src)\s*=|url\(|@import|@font-face", a)
