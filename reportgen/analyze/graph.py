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

from reportgen.analyze.frames import (FrameTable, NodeKey, last_of_each, sample_chunks,
                                       stack_frames)
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

    def all_edges(self) -> "Edges":
        """Every call edge of the graph, counted once and remembered (`memo`):
        top's inline marks, peek, the hot path and the callers/callees tables
        of one profile all filter these rather than count again."""
        edges = self.memo.get("edges")
        if edges is None:
            edges = self.memo["edges"] = call_edges(self.pieces, len(self.keys))
        return edges

    def edges(self, focus, kept=None) -> "Edges":
        """Call edges into or out of the nodes in `focus` (see call_edges).

        Without `kept`, a filter of all_edges: a pair is counted on its own,
        whatever other pairs a sample has, so the counts are the same.
        """
        mask = np.zeros(len(self.keys), dtype=bool)
        mask[list(focus)] = True
        if kept is not None:
            return call_edges(self.pieces, len(self.keys), kept, mask)
        edges = self.all_edges()
        sel = mask[edges.src] | mask[edges.dst]
        return Edges(edges.src[sel], edges.dst[sel], edges.weight[sel], edges.inline[sel])

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
        occ = frames.occ
        has_leaf = (frames.leaf >= 0) & (values != 0)
        np.add.at(flat, gmap[occ.node[frames.leaf[has_leaf]]], values[has_leaf])
        # cum: every frame's sample value, less the frames that repeat a node in
        # their sample (recursion counts once). int64 sums wrap as pprof's do,
        # so adding all and subtracting the repeats equals adding each once.
        same = np.array_equal(gmap, np.arange(len(gmap)))
        for lo, hi in sample_chunks(occ.sample):
            nodes = occ.node[lo:hi]
            np.add.at(cum, nodes if same else gmap[nodes], values[occ.sample[lo:hi]])
        np.subtract.at(cum, gmap[occ.node[frames.dup]], values[occ.sample[frames.dup]])
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
    Frames are taken a chunk of samples at a time (frames.sample_chunks), so
    the temporaries stay bounded on big profiles.
    """
    cancelled = cancelled_samples([piece[0] for piece in pieces])
    codes, weights, reals = [], [], []
    for (part, frames, gmap), gone in zip(pieces, cancelled):
        values = sample_values(part)
        live = (values != 0) & ~gone
        kept_local = None if kept is None else kept[gmap]
        focus_local = None if focus is None else focus[gmap]
        width = max(frames.table.num_nodes, 1)
        for lo, hi in sample_chunks(frames.occ.sample):
            code, weight, real = _chunk_edges(frames, lo, hi, values, live,
                                              kept_local, focus_local)
            codes.append(gmap[code // width] * n + gmap[code % width])
            weights.append(weight)
            reals.append(real)
    if not codes:
        empty = np.zeros(0, dtype=np.int64)
        return Edges(empty, empty, empty, np.zeros(0, dtype=bool))
    code, inverse = np.unique(np.concatenate(codes), return_inverse=True)
    inverse = inverse.reshape(-1)
    weight = np.zeros(len(code), dtype=np.int64)
    np.add.at(weight, inverse, np.concatenate(weights))
    real = np.zeros(len(code), dtype=bool)
    real[inverse[np.concatenate(reals)]] = True
    return Edges(code // n, code % n, weight, ~real)


def _chunk_edges(frames, lo, hi, values, live, kept_local, focus_local):
    """(caller * width + callee codes, weight, any real call) of the distinct
    pairs counted in frames [lo, hi), which hold whole samples."""
    occ = frames.occ
    node, sample, outer = occ.node[lo:hi], occ.sample[lo:hi], occ.outer[lo:hi]
    if kept_local is not None:
        keep = kept_local[node]
        node, sample, outer = node[keep], sample[keep], outer[keep]
    # Frames are leaf first: the callee at `at`, its caller at `at + 1`; only
    # samples that draw edges (live) are looked at.
    adjacent = sample[:-1] == sample[1:]
    adjacent &= node[1:] != node[:-1]
    adjacent &= live[sample[:-1]]
    at = np.flatnonzero(adjacent)
    del adjacent
    if focus_local is not None:
        # Counting is per (sample, pair), so other pairs can be left out.
        at = at[focus_local[node[at]] | focus_local[node[at + 1]]]
    width = max(frames.table.num_nodes, 1)
    code = node[at + 1].astype(np.int32 if width * width < 1 << 31 else np.int64)
    code *= width   # in place from here: one entry per call
    code += node[at]
    distinct, pair = _distinct(code, width * width)
    del code
    sample_at = sample[at]
    # A pair repeats within a sample only if a node does (recursion): in those
    # samples only the occurrence nearest the root (the last) counts.
    rec = np.flatnonzero(frames.recursive[sample_at])
    if len(rec):
        s = sample_at[rec]
        major = np.zeros(len(rec), dtype=np.int64)
        np.cumsum(s[1:] != s[:-1], out=major[1:])
        counted = np.ones(len(at), dtype=bool)
        counted[rec] = last_of_each(major, pair[rec], len(distinct))
        at, pair, sample_at = at[counted], pair[counted], sample_at[counted]
    real_at = outer[at]
    npairs = len(distinct)
    weight = np.zeros(npairs, dtype=np.int64)
    np.add.at(weight, pair, values[sample_at])
    exists = np.bincount(pair, minlength=npairs) > 0
    real = np.bincount(pair[real_at], minlength=npairs) > 0
    return distinct[exists], weight[exists], real[exists]


def _distinct(code: np.ndarray, size: int):
    """(sorted distinct codes, index of each code among them), for codes < size."""
    if size > 1 << 24:
        # Sorting values and searching beats np.unique(return_inverse), which argsorts.
        distinct = np.unique(code)
        return distinct, np.searchsorted(distinct, code).astype(np.int32)
    # A small code space: a dense table beats sorting millions of codes.
    # int32 indices: one per call occurrence, millions in a big profile.
    seen = np.zeros(size, dtype=bool)
    seen[code] = True
    distinct = np.flatnonzero(seen)
    lookup = np.zeros(size, dtype=np.int32)
    lookup[distinct] = np.arange(len(distinct))
    return distinct, lookup[code]


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
