"""Flat and cum per node, computed the way pprof's graph package does.

A sample adds its value to the flat of its leaf frame and, once, to the cum
of every distinct node on its stack (recursion is not counted twice).
Samples whose value is zero are skipped. Several profiles can be combined
with a sign each, which is how pprof's -diff_base and -base work: the base
is merged in negated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from reportgen.analyze.frames import FrameTable, NodeKey, stack_frames
from reportgen.analyze.merge import cancelled_samples, merged_abs_total


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
    pieces: list = field(default_factory=list, repr=False)  # (part, frames, global ids)

    def trim(self, kept: np.ndarray | None, edge_cutoff: int):
        """Redraw the call edges as pprof does after dropping nodes and weak edges.

        A dropped frame is skipped, so its caller and callee become adjacent,
        and edges lighter than the cutoff are removed; both can change which
        edges into a node are inlined, and so its (inline) mark.
        """
        edges = call_edges(self.pieces, len(self.keys), kept)
        self.inline, self.called = _inline_marks(edges, len(self.keys), edge_cutoff)

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
    for part, frames, gmap in pieces:
        values = sample_values(part)
        has_leaf = (frames.leaf >= 0) & (values != 0)
        np.add.at(flat, gmap[frames.occ.node[frames.leaf[has_leaf]]], values[has_leaf])
        np.add.at(cum, gmap[frames.pair_node], values[frames.pair_sample])
    inline, called = _inline_marks(call_edges(pieces, n), n)
    return Graph(space.keys, flat, cum, inline, called, pieces)


class Edges(NamedTuple):
    """Call edges caller -> callee, one entry per distinct pair, as pprof's graph."""
    src: np.ndarray     # caller node id
    dst: np.ndarray     # callee node id
    weight: np.ndarray  # int64: each sample's value once
    inline: np.ndarray  # bool: every counted occurrence is a call within one location


def call_edges(pieces, n, kept=None) -> Edges:
    """The edges between adjacent frames of every stack.

    pprof walks each sample root to leaf and counts a (caller, callee) pair
    once per sample, at its occurrence nearest the root; that occurrence
    also decides whether the call was inlined. Zero-valued samples, samples
    that a -base merge cancels, and self-calls draw no edge; frames of
    dropped nodes (`kept` False) are skipped, joining their neighbours.
    """
    cancelled = cancelled_samples([piece[0] for piece in pieces])
    codes, weights, reals = [], [], []
    for (part, frames, gmap), gone in zip(pieces, cancelled):
        values = sample_values(part)
        occ = frames.occ
        node = gmap[occ.node]
        keep = ((values != 0) & ~gone)[occ.sample]
        if kept is not None:
            keep &= kept[node]
        node, sample, outer = node[keep], occ.sample[keep], occ.outer[keep]
        at = np.flatnonzero((sample[:-1] == sample[1:]) & (node[1:] != node[:-1]))
        at = _first_from_root(at, node, sample, frames, n)
        codes.append(node[at + 1] * n + node[at])
        weights.append(values[sample[at]])
        reals.append(outer[at])
    code, inverse = np.unique(np.concatenate(codes), return_inverse=True)
    weight = np.zeros(len(code), dtype=np.int64)
    np.add.at(weight, inverse.reshape(-1), np.concatenate(weights))
    real = np.zeros(len(code), dtype=bool)
    real[inverse.reshape(-1)[np.concatenate(reals)]] = True
    return Edges(code // n, code % n, weight, ~real)


def _first_from_root(at, node, sample, frames, n):
    """Of edge positions `at`, one per (sample, pair): the one nearest the root.

    A pair repeats within a sample only if a node does (recursion), so only
    those samples need the sort.
    """
    nsamples = len(frames.leaf)
    repeats = (np.bincount(frames.pair_sample, minlength=nsamples)
               < np.bincount(frames.occ.sample, minlength=nsamples))
    in_repeat = repeats[sample[at]]
    if not in_repeat.any():
        return at
    rec = at[in_repeat]
    key = sample[rec] * (n * n) + node[rec + 1] * n + node[rec]
    # Frames are leaf first: the last position of a key is the root-most.
    _, last = np.unique(key[::-1], return_index=True)
    return np.sort(np.concatenate([at[~in_repeat], rec[len(rec) - 1 - last]]))


def _inline_marks(edges: Edges, n: int, cutoff: int = 0):
    """pprof's (inline) marks, from the edges that survive the edge cutoff."""
    strong = np.abs(edges.weight) >= cutoff
    inline = np.zeros(n, dtype=bool)
    called = np.zeros(n, dtype=bool)
    inline[edges.dst[strong & edges.inline]] = True
    called[edges.dst[strong & ~edges.inline]] = True
    return inline, called


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
