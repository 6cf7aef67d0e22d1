"""peek: callers and callees of matching nodes, exactly like `pprof -peek`.

pprof draws an edge parent -> child between adjacent frames of a sample
(root to leaf, inlined lines included) and adds the sample's value to it
once per sample. Only the first occurrence of a pair in a sample (the one
nearest the root) counts, for the weight and for the inline mark: an edge
is "(inline)" when every counted occurrence was a call inside one location.
Zero-valued samples draw no edges; self-edges (recursion) are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from reportgen.analyze.graph import Edges, Graph, build_graph
from reportgen.analyze.graph import total as report_total
from reportgen.regex import compile_go


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
            return [{"name": e.name, "value": e.value, "inline": "inline" if e.inline else None}
                    for e in es]
        # `inline` is a string or null everywhere, as in top's rows.
        return {"name": self.name, "flat": self.flat, "cum": self.cum,
                "inline": self.inline or None,
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


def compile_pattern(pattern: str, option: str = "argument"):
    """The peek/list regex, in Go's syntax as pprof reads it (see reportgen.regex)."""
    return compile_go(pattern, option, path=pattern)


def _name_rank(names: list[str]) -> np.ndarray:
    # Python orders str by code point, which is Go's UTF-8 byte order.
    order = sorted(range(len(names)), key=names.__getitem__)
    rank = np.empty(len(names), dtype=np.int64)
    rank[order] = np.arange(len(names), dtype=np.int64)
    return rank


def _grouped(by: np.ndarray, other: np.ndarray, edges: Edges, rank: np.ndarray):
    """Edge indices grouped by `by`, each group in pprof's edge order:
    |weight| descending, then the other end's name."""
    order = np.lexsort((rank[other], -np.abs(edges.weight), by))
    starts = np.searchsorted(by[order], np.arange(len(rank) + 1))
    return order, starts


class _Adjacency:
    """Callers and callees of every node, in pprof's order."""

    def __init__(self, graph: Graph, edges: Edges):
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


def _sorted_nodes(graph: Graph, rank: np.ndarray, cum_sort: bool):
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
    graph = build_graph(parts, granularity)
    names = [k.printable() for k in graph.keys]
    kept = _sorted_nodes(graph, _name_rank(names), cum_sort)
    matched = [n for n in kept.tolist() if rx.search(names[n])]
    adj = _Adjacency(graph, graph.edges(matched))
    labels = graph.inline_labels(matched)
    nodes = [PeekNode(adj.names[n], int(graph.flat[n]), int(graph.cum[n]), labels[n],
                      adj.callers(n), adj.callees(n)) for n in matched]
    probe = np.where(graph.flat[kept] != 0, np.abs(graph.flat[kept]), np.abs(graph.cum[kept]))
    first = parts[0]
    st = first.profile.sample_types[first.sample_index]
    return PeekResult(pattern=pattern, sample_index=st.type, unit=st.unit,
                      total=report_total(parts), granularity=granularity, cum_sort=cum_sort,
                      shown_total=int(graph.flat.sum()),
                      smallest=int(probe[probe > 0].min()) if (probe > 0).any() else 0,
                      nodes=nodes, diff=len(parts) > 1)
