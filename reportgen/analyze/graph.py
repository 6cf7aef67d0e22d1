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
    pieces: list = field(default_factory=list, repr=False)  # (part, frames, global ids)
    memo: dict = field(default_factory=dict, repr=False)    # results derived from this graph

    def edges(self, focus, kept=None) -> "Edges":
        """Call edges into or out of the nodes in `focus` (see call_edges)."""
        mask = np.zeros(len(self.keys), dtype=bool)
        mask[list(focus)] = True
        return call_edges(self.pieces, len(self.keys), kept, mask)

    def inline_labels(self, nodes, kept=None, edge_cutoff: int = 0) -> dict:
        """pprof's "(inline)" / "(partial-inline)" mark for each of `nodes`.

        A node is inline when some edge into it is only ever an inlined call.
        pprof decides this after dropping nodes (`kept`; a dropped frame is
        skipped, joining its neighbours) and edges lighter than the cutoff.
        """
        edges = self.edges(nodes, kept)
        strong = np.abs(edges.weight) >= edge_cutoff
        inline = set(edges.dst[strong & edges.inline].tolist())
        called = set(edges.dst[strong & ~edges.inline].tolist())
        return {n: ("" if n not in inline else "partial-inline" if n in called else "inline")
                for n in nodes}


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
    """Flat and cum per node; cached for a single profile."""
    if len(parts) == 1:
        part = parts[0]
        key = ("graph", part.sample_index, part.sign, granularity)
        cache = part.profile.cache
        if key not in cache:
            cache[key] = _build_graph(parts, granularity)
        return cache[key]
    return _build_graph(parts, granularity)


def _build_graph(parts: list[Part], granularity: str) -> Graph:
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
    return Graph(space.keys, flat, cum, pieces)


class Edges(NamedTuple):
    """Call edges caller -> callee, one entry per distinct pair, as pprof's graph."""
    src: np.ndarray     # caller node id
    dst: np.ndarray     # callee node id
    weight: np.ndarray  # int64: each sample's value once
    inline: np.ndarray  # bool: every counted occurrence is a call within one location


def call_edges(pieces, n, kept=None, focus=None) -> Edges:
    """The edges between adjacent frames of every stack.

    pprof walks each sample root to leaf and counts a (caller, callee) pair
    once per sample, at its occurrence nearest the root; that occurrence
    also decides whether the call was inlined. Zero-valued samples, samples
    that a -base merge cancels, and self-calls draw no edge; frames of
    dropped nodes (`kept` False) are skipped, joining their neighbours.
    With `focus`, only edges into or out of those nodes are computed.
    """
    cancelled = cancelled_samples([piece[0] for piece in pieces])
    codes, weights, reals = [], [], []
    for (part, frames, gmap), gone in zip(pieces, cancelled):
        values = sample_values(part)
        pairs = _count_pairs(part.profile, frames, None if kept is None else kept[gmap],
                             None if focus is None else focus[gmap])
        live = ((values != 0) & ~gone)[pairs.sample]
        npairs = len(pairs.src)
        weight = np.zeros(npairs, dtype=np.int64)
        np.add.at(weight, pairs.pair[live], values[pairs.sample[live]])
        exists = np.bincount(pairs.pair[live], minlength=npairs) > 0
        real = np.bincount(pairs.pair[live & pairs.real], minlength=npairs) > 0
        codes.append(gmap[pairs.src[exists]] * n + gmap[pairs.dst[exists]])
        weights.append(weight[exists])
        reals.append(real[exists])
    code, inverse = np.unique(np.concatenate(codes), return_inverse=True)
    inverse = inverse.reshape(-1)
    weight = np.zeros(len(code), dtype=np.int64)
    np.add.at(weight, inverse, np.concatenate(weights))
    real = np.zeros(len(code), dtype=bool)
    real[inverse[np.concatenate(reals)]] = True
    return Edges(code // n, code % n, weight, ~real)


class _Pairs(NamedTuple):
    """One profile's counted call occurrences; values are applied per Part."""
    src: np.ndarray     # per distinct (caller, callee) pair, local node ids
    dst: np.ndarray
    pair: np.ndarray    # per counted occurrence: its pair
    sample: np.ndarray  # per counted occurrence: its sample
    real: np.ndarray    # per counted occurrence: a real call, not an inlined one


def _count_pairs(profile, frames, kept_local=None, focus_local=None) -> _Pairs:
    occ = frames.occ
    node, sample, outer = occ.node, occ.sample, occ.outer
    if kept_local is None:
        at = _adjacent(profile, frames)
    else:
        keep = kept_local[node]
        node, sample, outer = node[keep], sample[keep], outer[keep]
        at = np.flatnonzero((sample[:-1] == sample[1:]) & (node[1:] != node[:-1]))
    if focus_local is not None and not focus_local.all():
        # Counting is per (sample, pair), so other pairs can be left out.
        at = at[focus_local[node[at]] | focus_local[node[at + 1]]]
    width = max(frames.table.num_nodes, 1)
    code = node[at + 1].astype(np.int64)   # in place from here: one entry per call occurrence
    code *= width
    code += node[at]
    distinct, pair = _distinct(code, width * width)
    del code
    sample_at = sample[at]
    first = _first_from_root(pair, sample_at, len(distinct), frames)
    return _Pairs(distinct // width, distinct % width, pair[first], sample_at[first],
                  outer[at[first]])


def _adjacent(profile, frames) -> np.ndarray:
    """Cached: positions of frames whose caller is the next frame of the same stack."""
    key = ("adjacent", frames.table.granularity)
    if key not in profile.cache:
        occ = frames.occ
        # int32 positions: one per frame, kept for the profile's lifetime.
        profile.cache[key] = np.flatnonzero((occ.sample[:-1] == occ.sample[1:])
                                            & (occ.node[1:] != occ.node[:-1])).astype(np.int32)
    return profile.cache[key]


def _distinct(code: np.ndarray, size: int):
    """(sorted distinct codes, index of each code among them), for codes < size."""
    if size > 1 << 24:
        # Sorting values and searching beats np.unique(return_inverse), which argsorts.
        distinct = np.unique(code)
        return distinct, np.searchsorted(distinct, code).astype(np.int32)
    # A small code space: a dense table beats sorting millions of codes.
    # int32 indices: one per call occurrence, tens of millions in a big profile.
    seen = np.zeros(size, dtype=bool)
    seen[code] = True
    distinct = np.flatnonzero(seen)
    lookup = np.zeros(size, dtype=np.int32)
    lookup[distinct] = np.arange(len(distinct))
    return distinct, lookup[code]


def _first_from_root(pair, sample, npairs, frames) -> np.ndarray:
    """Positions to count: per (sample, pair), the occurrence nearest the root.

    A pair repeats within a sample only if a node does (recursion), so only
    those samples need the sort. Frames are leaf first, so the root-most
    occurrence of a key is its last position.
    """
    nsamples = len(frames.leaf)
    repeats = (np.bincount(frames.pair_sample, minlength=nsamples)
               < np.bincount(frames.occ.sample, minlength=nsamples))
    in_repeat = repeats[sample]
    keep = ~in_repeat
    rec = np.flatnonzero(in_repeat)
    if len(rec):
        # Sort (key, reversed position) packed in one int64: the first of each key wins.
        span = len(rec)
        key = ((sample[rec].astype(np.int64) * npairs + pair[rec]) * span
               + (span - 1 - np.arange(span)))
        key.sort()
        group = key // span
        first = np.concatenate(([True], group[1:] != group[:-1]))
        keep[rec[span - 1 - key[first] % span]] = True
    return np.flatnonzero(keep).astype(np.int32)


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
