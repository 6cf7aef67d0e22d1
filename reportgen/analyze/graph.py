"""Flat and cum per node, computed the way pprof's graph package does.

A sample adds its value to the flat of its leaf frame and, once, to the cum
of every distinct node on its stack (recursion is not counted twice).
Samples whose value is zero are skipped. Several profiles can be combined
with a sign each, which is how pprof's -diff_base and -base work: the base
is merged in negated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reportgen.analyze.frames import FrameTable, NodeKey, stack_frames
from reportgen.analyze.merge import merged_abs_total


@dataclass
class Part:
    """One profile taking part in a graph, with its sample index and sign."""
    profile: object
    sample_index: int
    sign: int = 1
    diff_base: bool = False  # pprof -diff_base: this part's total is the report total


@dataclass
class Graph:
    keys: list          # NodeKey per node
    flat: np.ndarray    # int64 per node
    cum: np.ndarray     # int64 per node
    inline: np.ndarray  # bool: some call edge into the node is an inlined call
    called: np.ndarray  # bool: some call edge into the node is a real call

    def inline_label(self, n: int) -> str:
        if not self.inline[n]:
            return ""
        return "partial-inline" if self.called[n] else "inline"


class _KeySpace:
    """Global node ids shared by all parts of one graph."""

    def __init__(self):
        self.keys: list[NodeKey] = []
        self.index: dict[NodeKey, int] = {}

    def map_table(self, table: FrameTable) -> np.ndarray:
        ids = np.empty(table.num_nodes, dtype=np.int64)
        for local, key in enumerate(table.keys):
            g = self.index.get(key)
            if g is None:
                g = self.index[key] = len(self.keys)
                self.keys.append(key)
            ids[local] = g
        return ids


def sample_values(part: Part) -> np.ndarray:
    return part.profile.values[:, part.sample_index] * part.sign


def build_graph(parts: list[Part], granularity: str = "functions") -> Graph:
    space = _KeySpace()
    pieces = []
    for part in parts:
        frames = stack_frames(part.profile, granularity)
        pieces.append((part, frames, space.map_table(frames.table)))
    n = len(space.keys)
    flat = np.zeros(n, dtype=np.int64)
    cum = np.zeros(n, dtype=np.int64)
    called = np.zeros(n, dtype=bool)
    intra_pairs, inter_pairs = [], []
    for part, frames, gmap in pieces:
        values = sample_values(part)
        has_leaf = (frames.leaf >= 0) & (values != 0)
        np.add.at(flat, gmap[frames.occ.node[frames.leaf[has_leaf]]], values[has_leaf])
        np.add.at(cum, gmap[frames.pair_node], values[frames.pair_sample])
        # pprof skips zero-valued samples entirely, so they draw no call edges.
        live = values[frames.occ.sample] != 0
        _collect_edges(gmap[frames.occ.node], frames.occ.sample, frames.occ.outer, live, n,
                       called, intra_pairs, inter_pairs)
    inline = _inline_targets(intra_pairs, inter_pairs, n)
    return Graph(space.keys, flat, cum, inline, called)


def _collect_edges(node, sample, outer, live, n, called, intra_pairs, inter_pairs):
    """Record call edges (caller -> callee) between adjacent frames of a stack.

    An edge into a frame that is not the outermost line of its location is
    an inlined call; pprof marks a node "(inline)" when some edge into it is
    only ever inlined.
    """
    child, parent = node[:-1], node[1:]
    edge = (sample[:-1] == sample[1:]) & (parent != child) & live[:-1]
    real = edge & outer[:-1]
    inl = edge & ~outer[:-1]
    called[child[real]] = True
    if not inl.any():
        return
    intra_pairs.append(parent[inl] * n + child[inl])
    inline_child = np.zeros(n, dtype=bool)
    inline_child[child[inl]] = True
    keep = real & inline_child[child]
    inter_pairs.append(parent[keep] * n + child[keep])


def _inline_targets(intra_pairs, inter_pairs, n):
    inline = np.zeros(n, dtype=bool)
    if not intra_pairs:
        return inline
    intra = np.unique(np.concatenate(intra_pairs))
    inter = np.unique(np.concatenate(inter_pairs)) if inter_pairs else np.zeros(0, np.int64)
    only_inline = intra[~np.isin(intra, inter)]
    inline[only_inline % n] = True
    return inline


def total(parts: list[Part]) -> int:
    """pprof's report total: sum of |value|; with a diff base, the base's alone.

    With -base (a negated base that is not a diff base), equal samples
    cancel first, as pprof merges the two profiles before summing.
    """
    def abs_sum(group):
        return sum(int(np.abs(sample_values(p)).sum()) for p in group)
    base_total = abs_sum([p for p in parts if p.diff_base])
    if base_total > 0:
        return base_total
    if any(p.sign < 0 for p in parts):
        return merged_abs_total(parts)
    return abs_sum(parts)
