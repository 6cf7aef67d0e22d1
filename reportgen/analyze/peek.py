"""peek: callers and callees of matching nodes, exactly like `pprof -peek`.

pprof draws an edge parent -> child between adjacent frames of a sample
(root to leaf, inlined lines included) and adds the sample's value to it
once per sample. Only the first occurrence of a pair in a sample (the one
nearest the root) counts, for the weight and for the inline mark: an edge
is "(inline)" when every counted occurrence was a call inside one location.
Zero-valued samples draw no edges; self-edges (recursion) are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from reportgen.analyze.frames import stack_frames
from reportgen.analyze.graph import Graph, _KeySpace, build_graph, sample_values
from reportgen.analyze.graph import total as report_total
from reportgen.errors import UsageError


class CallEdges(NamedTuple):
    """All call edges of a graph, one entry per (caller, callee)."""
    src: np.ndarray     # caller node id
    dst: np.ndarray     # callee node id
    weight: np.ndarray  # int64
    inline: np.ndarray  # bool


class PeekEdge(NamedTuple):
    name: str
    value: int
    inline: bool


@dataclass
class PeekNode:
    name: str
    flat: int
    cum: int
    inline: str  # "", "inline" or "partial-inline", as top labels the node
    callers: list = field(default_factory=list)  # of PeekEdge, pprof's order
    callees: list = field(default_factory=list)

    def as_dict(self) -> dict:
        def edges(es):
            return [{"name": e.name, "value": e.value, "inline": e.inline} for e in es]
        return {"name": self.name, "flat": self.flat, "cum": self.cum, "inline": self.inline,
                "callers": edges(self.callers), "callees": edges(self.callees)}


@dataclass
class PeekResult:
    pattern: str
    sample_index: str
    unit: str
    total: int
    granularity: str
    cum_sort: bool
    shown_total: int  # sum of flat over the whole graph ("Showing nodes accounting for")
    smallest: int     # smallest |flat| (else |cum|) of any node: picks pprof's output unit
    nodes: list = field(default_factory=list)  # of PeekNode
    diff: bool = False

    def as_dict(self) -> dict:
        return {"pattern": self.pattern, "sample_index": self.sample_index, "unit": self.unit,
                "total": self.total, "granularity": self.granularity,
                "sort": "cum" if self.cum_sort else "flat", "diff": self.diff,
                "shown_total": self.shown_total,
                "nodes": [n.as_dict() for n in self.nodes]}


class _Pairs(NamedTuple):
    """One profile's counted edge occurrences, independent of sample values."""
    parent: np.ndarray  # per distinct local (parent, child) pair
    child: np.ndarray
    pair: np.ndarray    # per counted occurrence: its pair
    sample: np.ndarray  # per counted occurrence: its sample
    inline: np.ndarray  # per counted occurrence: a call within one location


def _profile_pairs(profile, granularity) -> _Pairs:
    """Cached per profile and granularity: stacks only, values come per Part."""
    key = ("call_pairs", granularity)
    cached = profile.cache.get(key)
    if cached is None:
        cached = profile.cache[key] = _count_pairs(profile, granularity)
    return cached


def _count_pairs(profile, granularity) -> _Pairs:
    frames = stack_frames(profile, granularity)
    occ, width = frames.occ, max(frames.table.num_nodes, 1)
    child, parent = occ.node[:-1], occ.node[1:]
    at = np.flatnonzero((occ.sample[:-1] == occ.sample[1:]) & (parent != child))
    # A pair can repeat in a sample only if a node does (recursion), so only
    # those samples need the costly dedupe.
    nsamples = profile.num_samples
    repeats = (np.bincount(frames.pair_sample, minlength=nsamples)
               < np.bincount(occ.sample, minlength=nsamples))
    in_rec = repeats[occ.sample[at]]
    keep = np.concatenate([at[~in_rec], _first_from_root(at[in_rec], occ, width)])
    codes, pair = _distinct(occ.node[keep + 1] * width + occ.node[keep], width * width)
    return _Pairs(codes // width, codes % width, pair, occ.sample[keep], ~occ.outer[keep])


def _distinct(code: np.ndarray, size: int):
    """(sorted distinct codes, index of each code among them), all codes < size."""
    if size > 1 << 23:
        # Faster than np.unique(return_inverse=True), which argsorts.
        distinct = np.unique(code)
        return distinct, np.searchsorted(distinct, code)
    # Small code space: a dense table beats sorting millions of codes.
    seen = np.zeros(size, dtype=bool)
    seen[code] = True
    distinct = np.flatnonzero(seen)
    lookup = np.zeros(size, dtype=np.int64)
    lookup[distinct] = np.arange(len(distinct))
    return distinct, lookup[code]


def _first_from_root(at, occ, width):
    """Of the edge positions `at`, one per distinct (sample, parent, child):
    the one nearest the root, which pprof meets first."""
    if len(at) == 0:
        return at
    _, code = _distinct(occ.node[at + 1] * width + occ.node[at], width * width)
    key = occ.sample[at] * (int(code.max()) + 1) + code
    # occ is leaf first: the last position of a key is the root-most.
    _, first_rev = np.unique(key[::-1], return_index=True)
    return at[len(at) - 1 - first_rev]


def call_graph(parts: list, granularity: str = "functions") -> tuple[Graph, CallEdges]:
    """build_graph's nodes plus every call edge, with ids matching graph.keys."""
    graph = build_graph(parts, granularity)
    space = _KeySpace()
    space.keys = list(graph.keys)
    space.index = {k: i for i, k in enumerate(graph.keys)}
    n = max(len(graph.keys), 1)
    codes, weights, reals = [], [], []
    for part in parts:
        gmap = space.map_table(stack_frames(part.profile, granularity).table)
        pairs = _profile_pairs(part.profile, granularity)
        values = sample_values(part)
        live = values[pairs.sample] != 0
        npairs = len(pairs.parent)
        weight = np.zeros(npairs, dtype=np.int64)
        np.add.at(weight, pairs.pair[live], values[pairs.sample[live]])
        exists = np.bincount(pairs.pair[live], minlength=npairs) > 0
        real = np.bincount(pairs.pair[live & ~pairs.inline], minlength=npairs)
        codes.append(gmap[pairs.parent[exists]] * n + gmap[pairs.child[exists]])
        weights.append(weight[exists])
        reals.append(real[exists])
    distinct, inv = np.unique(np.concatenate(codes), return_inverse=True)
    inv = inv.reshape(-1)
    weight = np.zeros(len(distinct), dtype=np.int64)
    np.add.at(weight, inv, np.concatenate(weights))
    real = np.zeros(len(distinct), dtype=np.int64)
    np.add.at(real, inv, np.concatenate(reals))
    # An edge stays inline only while no counted occurrence is a real call.
    return graph, CallEdges(distinct // n, distinct % n, weight, real == 0)


def node_inline_labels(graph: Graph, edges: CallEdges) -> list[str]:
    """pprof's (inline) / (partial-inline) node marks, from the edges into each node."""
    n = len(graph.keys)
    inline = np.zeros(n, dtype=bool)
    called = np.zeros(n, dtype=bool)
    inline[edges.dst[edges.inline]] = True
    called[edges.dst[~edges.inline]] = True
    return ["" if not i else ("partial-inline" if c else "inline")
            for i, c in zip(inline.tolist(), called.tolist())]


def compile_pattern(pattern: str):
    """The peek/list regex; Go's RE2 syntax is close enough to Python's for names."""
    try:
        return re.compile(pattern)
    except re.error as e:
        raise UsageError(pattern, f"parsing argument regexp: {e}") from None


def _name_rank(names: list[str]) -> np.ndarray:
    # Python orders str by code point, which is Go's UTF-8 byte order.
    order = sorted(range(len(names)), key=names.__getitem__)
    rank = np.empty(len(names), dtype=np.int64)
    rank[order] = np.arange(len(names), dtype=np.int64)
    return rank


def _grouped(by: np.ndarray, other: np.ndarray, edges: CallEdges, rank: np.ndarray):
    """Edge indices grouped by `by`, each group in pprof's edge order:
    |weight| descending, then the other end's name."""
    order = np.lexsort((rank[other], -np.abs(edges.weight), by))
    starts = np.searchsorted(by[order], np.arange(len(rank) + 1))
    return order, starts


class _Adjacency:
    """Callers and callees of every node, in pprof's order."""

    def __init__(self, graph: Graph, edges: CallEdges):
        self.names = [k.printable() for k in graph.keys]
        self.rank = _name_rank(self.names)
        self.edges = edges
        self.in_order, self.in_starts = _grouped(edges.dst, edges.src, edges, self.rank)
        self.out_order, self.out_starts = _grouped(edges.src, edges.dst, edges, self.rank)

    def _list(self, order, starts, ends, n, limit):
        idx = order[starts[n]:starts[n + 1]]
        if limit is not None:
            idx = idx[:limit]
        e = self.edges
        return [PeekEdge(self.names[o], w, inl) for o, w, inl in
                zip(ends[idx].tolist(), e.weight[idx].tolist(), e.inline[idx].tolist())]

    def callers(self, n, limit=None):
        return self._list(self.in_order, self.in_starts, self.edges.src, n, limit)

    def callees(self, n, limit=None):
        return self._list(self.out_order, self.out_starts, self.edges.dst, n, limit)


def _sorted_nodes(graph: Graph, names: list[str], rank: np.ndarray, cum_sort: bool):
    """Nodes pprof keeps (flat or cum nonzero) in its FlatNameOrder / CumNameOrder."""
    flat, cum = np.abs(graph.flat), np.abs(graph.cum)
    present = np.flatnonzero((graph.flat != 0) | (graph.cum != 0))
    first, second = (cum, flat) if cum_sort else (flat, cum)
    order = np.lexsort((-second[present], rank[present], -first[present]))
    return present[order]


def peek(parts: list, pattern: str, granularity: str = "functions",
         cum_sort: bool = False) -> PeekResult:
    """pprof -peek REGEX: the nodes whose printable name matches, with their edges."""
    rx = compile_pattern(pattern)
    graph, edges = call_graph(parts, granularity)
    adj = _Adjacency(graph, edges)
    labels = node_inline_labels(graph, edges)
    kept = _sorted_nodes(graph, adj.names, adj.rank, cum_sort)
    nodes = [PeekNode(adj.names[n], int(graph.flat[n]), int(graph.cum[n]), labels[n],
                      adj.callers(n), adj.callees(n))
             for n in kept.tolist() if rx.search(adj.names[n])]
    probe = np.where(graph.flat[kept] != 0, np.abs(graph.flat[kept]), np.abs(graph.cum[kept]))
    first = parts[0]
    st = first.profile.sample_types[first.sample_index]
    return PeekResult(pattern=pattern, sample_index=st.type, unit=st.unit,
                      total=report_total(parts), granularity=granularity, cum_sort=cum_sort,
                      shown_total=int(graph.flat.sum()),
                      smallest=int(probe[probe > 0].min()) if (probe > 0).any() else 0,
                      nodes=nodes, diff=len(parts) > 1)


def callers_callees(parts: list, granularity: str = "functions",
                    max_edges: int | None = None, names=None) -> dict:
    """{name: {"callers": [[name, value, inline], ...], "callees": [...]}} for the
    HTML report: every node with nonzero cum (or only `names`), pprof's edge order,
    at most `max_edges` per side."""
    graph, edges = call_graph(parts, granularity)
    adj = _Adjacency(graph, edges)
    wanted = None if names is None else set(names)
    out = {}
    for n in np.flatnonzero(graph.cum != 0).tolist():
        name = adj.names[n]
        if name in out or (wanted is not None and name not in wanted):
            continue
        out[name] = {"callers": [list(e) for e in adj.callers(n, max_edges)],
                     "callees": [list(e) for e in adj.callees(n, max_edges)]}
    return out
