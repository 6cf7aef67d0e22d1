"""Flame graph trees: every stack as a root-to-leaf path in a prefix tree.

A node is one frame reached along one path; its `total` is the value of all
samples through it and its `self` the value of samples ending there. The tree
is built level by level with numpy (all samples' frames at depth d at once),
never a Python loop per sample, so 200k samples x 30 frames take well under
a second. Children are ordered by name, and the node arrays are in preorder,
so a subtree is the contiguous range [n, n + size) and the layout is stable.

Diffs: parts carry a sign (a negated base), so `total` and `self` are signed
sums and `weight` (the sum of |value|, the drawn width) stays positive.
`path_values` gives each node's value in other parts along the same path,
which is what a differential flame graph needs for its base.
`diff_flame_tree` builds that graph: one tree over the union of the paths of
a base and a target, with each side's values per node.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cached_property

import numpy as np

from reportgen.analyze.frames import NodeKey, clean_path, stack_frames
from reportgen.analyze.graph import Part, sample_values, total as report_total

ROOT_NAME = "root"
DEFAULT_MIN_FRACTION = 1 / 12000  # 0.1 px of a 1200 px wide graph


@dataclass
class FlameTree:
    """Node arrays in preorder; node 0 is the synthetic root (frame -1)."""
    frame: np.ndarray    # index into keys / frame_names, -1 for the root
    parent: np.ndarray   # -1 for the root
    depth: np.ndarray    # root 0, outermost frames 1
    total: np.ndarray    # signed value of all samples through the node
    self: np.ndarray     # signed value of samples ending at the node
    weight: np.ndarray   # sum of |value| through the node: the drawn width
    offset: np.ndarray   # left edge in weight units, children by name
    keys: list           # NodeKey per frame
    frame_names: list    # pprof's printable name per frame
    frame_files: list    # file per frame ("" when unknown)
    frame_lines: list    # line per frame (function start at coarse granularity)
    total_value: int     # pprof's report total (the diff base's with -diff_base)
    pruned_nodes: int = 0
    pruned_value: int = 0  # weight of the pruned subtrees
    sample_type: str = ""
    unit: str = ""
    granularity: str = "functions"
    reverse: bool = False

    def __len__(self) -> int:
        return len(self.frame)

    @cached_property
    def name(self) -> list:
        return [self.frame_names[f] if f >= 0 else ROOT_NAME for f in self.frame]

    @cached_property
    def file(self) -> list:
        return [self.frame_files[f] if f >= 0 else "" for f in self.frame]

    @cached_property
    def line(self) -> np.ndarray:
        lines = np.asarray(list(self.frame_lines) + [0], dtype=np.int64)
        return lines[self.frame]  # frame -1 picks the trailing 0

    def children(self, n: int) -> np.ndarray:
        return np.flatnonzero(self.parent == n)

    def subtree_end(self) -> np.ndarray:
        """end[n]: one past the last node of n's subtree (preorder)."""
        size = np.ones(len(self), dtype=np.int64)
        for d in range(int(self.depth.max(initial=0)), 0, -1):
            at = np.flatnonzero(self.depth == d)
            np.add.at(size, self.parent[at], size[at])
        return np.arange(len(self)) + size


class _Frames:
    """Global frame ids across parts, ranked by printable name for ordering."""

    def __init__(self):
        self.keys: list[NodeKey] = []
        self.index: dict[NodeKey, int] = {}
        self.files: list[str] = []
        self.lines: list[int] = []

    def map_part(self, part: Part, granularity: str) -> tuple[np.ndarray, object]:
        frames = stack_frames(part.profile, granularity)
        info = _frame_info(part.profile, frames.table)
        ids = np.empty(frames.table.num_nodes, dtype=np.int64)
        for local, key in enumerate(frames.table.keys):
            g = self.index.get(key)
            if g is None:
                g = self.index[key] = len(self.keys)
                self.keys.append(key)
                self.files.append(info[local][0])
                self.lines.append(info[local][1])
            ids[local] = g
        return ids, frames

    def names_and_rank(self) -> tuple[list, np.ndarray]:
        names = [k.printable() for k in self.keys]
        order = sorted(range(len(names)), key=lambda i: (names[i], self.keys[i]))
        rank = np.empty(len(names), dtype=np.int64)
        rank[order] = np.arange(len(names))
        return names, rank


def _frame_info(profile, table) -> list:
    """(file, line) per frame of `table`: the key's own, else the first seen.

    Walks the lines in the order FrameTable numbered them. At coarse
    granularity the line is the function's start line, where it is defined.
    """
    key = ("flame_frame_info", table.granularity)
    cached = profile.cache.get(key)
    if cached is not None:
        return cached
    info = [None] * table.num_nodes
    pos = 0
    for loc in profile.locations:
        for ln in loc.lines or (None,):
            node = int(table.frames[pos])
            pos += 1
            if info[node] is not None:
                continue
            k = table.keys[node]
            if ln is None or ln.function < 0:
                info[node] = (k.file, k.line)
                continue
            fn = profile.functions[ln.function]
            file = k.file or (clean_path(fn.filename) if fn.filename else "")
            info[node] = (file, k.line or fn.start_line or ln.line)
    info = [i or ("", 0) for i in info]
    profile.cache[key] = info
    return info


def _stacks(parts, granularity, space):
    """Concatenated live samples: (frame ids, start, length, value)."""
    nodes, starts, lens, vals = [], [], [], []
    base = 0
    for part in parts:
        ids, frames = space.map_part(part, granularity)
        values = sample_values(part)
        counts = frames.counts
        first = np.cumsum(counts) - counts
        live = values != 0  # pprof skips zero-valued samples entirely
        # One per frame: keep it narrow, and the profile's own when ids are its node ids.
        same = np.array_equal(ids, np.arange(len(ids)))
        nodes.append(frames.occ.node if same else ids.astype(np.int32)[frames.occ.node])
        starts.append(first[live] + base)
        lens.append(counts[live])
        vals.append(values[live])
        base += len(frames.occ.node)
    def cat(xs):   # one part (the usual case): no copy of its per-frame array
        return xs[0] if len(xs) == 1 else np.concatenate(xs) if xs else np.zeros(0, np.int64)
    return cat(nodes), cat(starts), cat(lens), cat(vals).astype(np.int64)


def _frame_at(start, length, d, reverse):
    """Index of the depth-d frame (root first; leaf first when reversed)."""
    return start + d if reverse else start + length - 1 - d


def flame_tree(parts: list[Part], granularity: str = "functions", reverse: bool = False,
               min_fraction: float = DEFAULT_MIN_FRACTION) -> FlameTree:
    """The prefix tree of all stacks of `parts` (root first, or leaf first if reverse)."""
    space = _Frames()
    node_of, start, length, value = _stacks(parts, granularity, space)
    names, rank = space.names_and_rank()
    width = max(len(names), 1)
    by_rank = np.argsort(rank)  # rank -> frame id

    # BFS ids: level by level; inside a level sorted by (parent, name rank),
    # which is also left-to-right order because parents are already sorted.
    parent, frame, depth = [np.array([-1])], [np.array([-1])], [np.array([0])]
    total, weight = [np.array([int(value.sum())])], [np.array([int(np.abs(value).sum())])]
    threshold = min_fraction * float(weight[0][0])
    cur = np.zeros(len(value), dtype=np.int64)
    act = np.flatnonzero(length > 0)
    level_start, next_id, d, dropped = 0, 1, 0, 0
    while len(act):
        f = node_of[_frame_at(start[act], length[act], d, reverse)]
        key = (cur[act] - level_start) * width + rank[f]
        if int(key.max()) < 2**32:  # a narrower sort is about twice as fast
            key = key.astype(np.uint32)
        uniq, inv = np.unique(key, return_inverse=True)
        uniq = uniq.astype(np.int64)
        parent.append(uniq // width + level_start)
        frame.append(by_rank[uniq % width])
        depth.append(np.full(len(uniq), d + 1))
        total.append(_sum_by(inv, value[act], len(uniq)))
        weight.append(_sum_by(inv, np.abs(value[act]), len(uniq)))
        cur[act] = next_id + inv
        level_start, next_id, d = next_id, next_id + len(uniq), d + 1
        # A sample alone in a pruned node makes one pruned node per frame
        # left: count them instead of building them (most of a big profile).
        alone = (weight[-1] < threshold) & (np.bincount(inv) == 1)
        gone = alone[inv]
        dropped += int((length[act[gone]] - d).sum())
        act = act[~gone]
        act = act[length[act] > d]
    parent, frame, depth = map(np.concatenate, (parent, frame, depth))
    total, weight = np.concatenate(total), np.concatenate(weight)
    self_ = _sum_by(cur, value, len(parent))

    keep = weight >= min_fraction * weight[0]
    keep[0] = True
    # weight never grows from parent to child, so `keep` is closed upwards -- unless
    # values wrapped around int64 (see analyze/overflow.py): then close it explicitly,
    # level by level (BFS ids: every level after its parents), so no kept node is orphaned.
    if (weight > weight[np.maximum(parent, 0)]).any():
        for d in range(1, int(depth.max(initial=0)) + 1):
            at = np.flatnonzero(depth == d)
            keep[at] &= keep[parent[at]]
    cut = ~keep & keep[np.maximum(parent, 0)]
    pruned_value = int(weight[cut].sum())
    pruned_nodes = int((~keep).sum()) + dropped

    first = parts[0]
    st = first.profile.sample_types[first.sample_index]
    tree = FlameTree(frame=frame, parent=parent, depth=depth, total=total, self=self_,
                     weight=weight, offset=np.zeros(len(parent), dtype=np.int64),
                     keys=space.keys, frame_names=names, frame_files=space.files,
                     frame_lines=space.lines, total_value=report_total(parts),
                     pruned_nodes=pruned_nodes, pruned_value=pruned_value,
                     sample_type=st.type, unit=st.unit, granularity=granularity,
                     reverse=reverse)
    return _preorder(tree, np.flatnonzero(keep))


def _sum_by(groups, values, n):
    out = np.zeros(n, dtype=np.int64)
    np.add.at(out, groups, values)
    return out


def _excl_within(groups_parent, amounts):
    """Exclusive running sum of `amounts` restarting at each new parent group."""
    cs = np.cumsum(amounts) - amounts
    new_group = np.ones(len(groups_parent), dtype=bool)
    new_group[1:] = groups_parent[1:] != groups_parent[:-1]
    group_start = np.maximum.accumulate(np.where(new_group, np.arange(len(cs)), 0))
    return cs - cs[group_start]


def _preorder(tree: FlameTree, kept: np.ndarray) -> FlameTree:
    """Keep only `kept` (BFS ids, sorted) and renumber in preorder; lay out offsets."""
    new_id = np.full(len(tree.parent), -1, dtype=np.int64)
    new_id[kept] = np.arange(len(kept))
    parent = np.where(tree.parent[kept] >= 0, new_id[np.maximum(tree.parent[kept], 0)], -1)
    depth, weight = tree.depth[kept], tree.weight[kept]
    n = len(kept)
    size = np.ones(n, dtype=np.int64)
    max_depth = int(depth.max(initial=0))
    levels = [np.flatnonzero(depth == d) for d in range(max_depth + 1)]
    for at in reversed(levels[1:]):
        np.add.at(size, parent[at], size[at])
    pre = np.zeros(n, dtype=np.int64)
    offset = np.zeros(n, dtype=np.int64)
    for at in levels[1:]:  # each level is grouped by parent, children by name
        p = parent[at]
        pre[at] = pre[p] + 1 + _excl_within(p, size[at])
        offset[at] = offset[p] + _excl_within(p, weight[at])
    order = np.full(n, -1, dtype=np.int64)
    order[pre] = np.arange(n)
    if n and order.min() < 0:   # two nodes on one preorder slot: never read garbage
        raise AssertionError("flame tree: preorder numbering is not a permutation")
    src = kept[order]
    tree.frame, tree.depth = tree.frame[src], tree.depth[src]
    tree.total, tree.self, tree.weight = tree.total[src], tree.self[src], tree.weight[src]
    tree.parent = np.where(parent[order] >= 0, pre[np.maximum(parent[order], 0)], -1)
    tree.offset = offset[order]
    return tree


def path_values(tree: FlameTree, parts: list[Part]) -> tuple[np.ndarray, np.ndarray]:
    """(total, self) per node of `tree` for the samples of `parts` that follow
    the same path of frames (a diff's base, another period ...).

    Samples leaving the tree (a frame it does not have, or pruned) count up
    to the last node they share with it.
    """
    index = {k: i for i, k in enumerate(tree.keys)}
    width = len(tree.keys) + 1
    child_key = tree.parent[1:] * width + tree.frame[1:]
    order = np.argsort(child_key)
    sorted_keys, sorted_nodes = child_key[order], order + 1
    tot = np.zeros(len(tree), dtype=np.int64)
    slf = np.zeros(len(tree), dtype=np.int64)
    for part in parts:
        frames = stack_frames(part.profile, tree.granularity)
        ids = np.array([index.get(k, width - 1) for k in frames.table.keys] or [0],
                       dtype=np.int64)
        values = sample_values(part)
        counts = frames.counts
        first = np.cumsum(counts) - counts
        live = np.flatnonzero(values != 0)
        tot[0] += int(values[live].sum())
        cur = np.zeros(len(values), dtype=np.int64)
        act, d = live[counts[live] > 0], 0
        ended = live[counts[live] == 0]  # empty stacks end at the root
        while len(act):
            f = ids[frames.occ.node[_frame_at(first[act], counts[act], d, tree.reverse)]]
            key = cur[act] * width + f
            pos = np.minimum(np.searchsorted(sorted_keys, key), max(len(sorted_keys) - 1, 0))
            found = (sorted_keys[pos] == key) if len(sorted_keys) else np.zeros(len(act), bool)
            act = act[found]
            cur[act] = sorted_nodes[pos[found]]
            np.add.at(tot, cur[act], values[act])
            d += 1
            done = counts[act] <= d
            ended = np.concatenate([ended, act[done]])
            act = act[~done]
        np.add.at(slf, cur[ended], values[ended])
    return tot, slf


@dataclass
class DiffFlameTree(FlameTree):
    """A FlameTree over the paths of both sides: `total`/`self` are after - before,
    `weight`/`offset` the drawn side's (`widths`: "target" or "base")."""
    before_total: np.ndarray = None
    before_self: np.ndarray = None
    after_total: np.ndarray = None
    after_self: np.ndarray = None
    widths: str = "target"
    pruned_before: int = 0  # value of each side in the pruned subtrees
    pruned_after: int = 0

    @cached_property
    def change(self) -> np.ndarray:
        """(after - before) / max(before, after) per node: -1 gone ... 0 same ... +1 new."""
        big = np.maximum(np.abs(self.before_total), np.abs(self.after_total))
        return np.divide((self.after_total - self.before_total).astype(float), big,
                         out=np.zeros(len(big)), where=big > 0)


def diff_flame_tree(target_parts: list[Part], base_parts: list[Part],
                    granularity: str = "functions", reverse: bool = False,
                    widths: str = "target",
                    min_fraction: float = DEFAULT_MIN_FRACTION) -> DiffFlameTree:
    """A differential flame graph: every path of the target or the base, with
    before (base) and after (target) values per node, drawn with `widths`.

    Pass the parts diff_parts returned (its target is already scaled when it
    normalizes); the base's sign is dropped here, each side is summed alone.
    """
    if widths not in ("target", "base"):
        raise ValueError(f"widths must be 'target' or 'base': {widths!r}")
    target = [Part(p.profile, p.sample_index) for p in target_parts]
    base = [Part(p.profile, p.sample_index) for p in base_parts]
    # Both sides positive: a path of either side has weight, so the tree holds
    # the union (pruning sees before + after); then each side along its paths.
    union = flame_tree(target + base, granularity, reverse, min_fraction)
    after_total, after_self = path_values(union, target)
    before_total, before_self = path_values(union, base)
    tree = DiffFlameTree(**{f.name: getattr(union, f.name) for f in fields(FlameTree)},
                         before_total=before_total, before_self=before_self,
                         after_total=after_total, after_self=after_self, widths=widths,
                         pruned_before=_leaving(union, before_total, before_self),
                         pruned_after=_leaving(union, after_total, after_self))
    tree.total = after_total - before_total
    tree.self = after_self - before_self
    tree.total_value = report_total(base)  # pprof -diff_base: percentages of the base
    # Go profiles hold no negative values; clipping keeps a width drawable anyway.
    tree.weight = np.maximum(after_total if widths == "target" else before_total, 0)
    tree.offset = _offsets(tree.parent, tree.depth, tree.weight)
    tree.pruned_value = tree.pruned_after if widths == "target" else tree.pruned_before
    return tree


def _leaving(tree: FlameTree, total: np.ndarray, self_: np.ndarray) -> int:
    """Value of the samples that go on past the tree's nodes: the pruned part."""
    through_children = np.zeros(len(tree), dtype=np.int64)
    np.add.at(through_children, tree.parent[1:], total[1:])
    return int((total - self_ - through_children).sum())


def _offsets(parent: np.ndarray, depth: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Left edges of a preorder tree: children side by side from the parent's edge."""
    offset = np.zeros(len(parent), dtype=np.int64)
    for d in range(1, int(depth.max(initial=0)) + 1):
        at = np.flatnonzero(depth == d)  # preorder: grouped by parent, siblings in order
        offset[at] = offset[parent[at]] + _excl_within(parent[at], weight[at])
    return offset

