"""Every function of a profile, packed for the browser: the whole top table
(all sample types) and every call edge, so a page can filter, re-sort and
switch sample type over all functions, and a callers/callees page can show
any function, while the HTML itself holds only the first rows.

Shapes (all JSON; integers packed as base64-alphabet VLQ, see
reportgen.render.flamegraph.vlq; signed values zigzag-encoded; values divided
by a per-type quantum `q`, the gcd of the values, so CPU samples of 10 ms
cost a character or two):

    table model: {"names": [name ...]  sorted by code point (index = name rank);
                  a name may be an index into the page's frame table "names_ref",
                  "types": [{"name", "unit", "total", "q", "enc"}],
                  "cur": index of the page's sample type,
                  "inline": "0012..." per name: "", "inline", "partial-inline",
                  "calls": callers/callees page or null, "gran": granularity,
                  "diff": true for target minus base (signed values), else absent}
        enc per type: (flat, cum) per name.
    calls model: {"names", "unit", "total", "q", "enc": (flat, cum) per name,
                  "edges": per distinct call, sorted by (caller, callee): the caller
                  as a step from the previous edge's, the callee as a step from the
                  previous callee when the caller is the same (else itself), and
                  zigzag(weight) * 2 + inline}

The numbers are pprof's: flat and cum as `top` (reportgen.analyze.top), the
edges as `-peek` (reportgen.analyze.graph.call_edges: each sample's value once
per (caller, callee) pair, self-calls skipped).
"""

from __future__ import annotations

import numpy as np

from reportgen.analyze.graph import Part, build_graph
from reportgen.analyze.graph import total as report_total
from reportgen.render.flamegraph import unit_scale, vlq, zigzag

INLINE_CODES = {"": "0", "inline": "1", "partial-inline": "2"}


def _quantum(*arrays) -> int:
    return int(np.gcd.reduce(np.abs(np.concatenate([*arrays, [0]])))) or 1


def _names(graph) -> list[str]:
    return [k.printable() for k in graph.keys]


def _present(graph) -> np.ndarray:
    return np.flatnonzero((graph.flat != 0) | (graph.cum != 0))


def _values_on(graph, names: list, names_index: dict, size: int
               ) -> tuple[np.ndarray, np.ndarray]:
    """flat and cum of `graph` (its node names `names`) on the model's name list."""
    flat = np.zeros(size, dtype=np.int64)
    cum = np.zeros(size, dtype=np.int64)
    present = _present(graph)
    at = np.array([names_index[names[n]] for n in present.tolist()], dtype=np.int64)
    np.add.at(flat, at, graph.flat[present])
    np.add.at(cum, at, graph.cum[present])
    return flat, cum


def _pack_pairs(a: np.ndarray, b: np.ndarray, q: int) -> str:
    return vlq(np.stack([zigzag(a // q), zigzag(b // q)], axis=1).ravel())


def table_model(parts_by_type: list[list[Part]], current: int, granularity: str = "functions",
                calls: str | None = None, total: int | None = None, strings=None) -> dict:
    """Flat and cum of every node for each sample type (`parts_by_type[i]` are
    the parts of type i; `current` is the page's), plus pprof's inline mark
    per node for the current type. `total` replaces the current type's total
    (a filtered profile keeps the unfiltered total, as pprof). `strings`: the
    page's FrameStrings (written into the page): a name it holds is sent as
    its index there ("names_ref" names the table), so the page carries each
    name once."""
    graphs = [build_graph(parts, granularity) for parts in parts_by_type]
    gnames = [_names(g) for g in graphs]
    names = sorted({gn[n] for g, gn in zip(graphs, gnames) for n in _present(g).tolist()})
    index = {name: i for i, name in enumerate(names)}
    types = []
    for parts, graph, gn in zip(parts_by_type, graphs, gnames):
        flat, cum = _values_on(graph, gn, index, len(names))
        q = _quantum(flat, cum)
        st = parts[0].profile.sample_types[parts[0].sample_index]
        types.append({"name": st.type, "unit": st.unit, "scale": unit_scale(st.unit),
                      "total": report_total(parts), "q": q, "enc": _pack_pairs(flat, cum, q)})
    if total is not None:
        types[current]["total"] = total
    graph, gnames = graphs[current], gnames[current]
    marks = ["0"] * len(names)
    present = _present(graph).tolist()
    if present:
        labels = graph.inline_labels(present)
        for n in present:
            marks[index[gnames[n]]] = INLINE_CODES[labels[n]]
    model = {"names": names, "types": types, "cur": current, "inline": "".join(marks),
             "calls": calls, "gran": granularity}
    if any(len(parts) > 1 for parts in parts_by_type):
        model["diff"] = True   # signed values: the page marks grew/shrank
    if strings is not None:
        shared: dict = {}
        for i, name in enumerate(strings.names):
            shared.setdefault(name, i)
        model["names"] = [shared.get(name, name) for name in names]
        model["names_ref"] = strings.id
    return model


def calls_model(parts: list[Part], granularity: str = "functions") -> dict:
    """Every node pprof keeps (flat or cum nonzero) with every call edge between them."""
    graph = build_graph(parts, granularity)
    gnames = _names(graph)
    present = _present(graph)
    names = sorted(gnames[n] for n in present.tolist())
    index = {name: i for i, name in enumerate(names)}
    local = np.full(len(gnames), -1, dtype=np.int64)
    local[present] = [index[gnames[n]] for n in present.tolist()]
    flat, cum = _values_on(graph, gnames, index, len(names))
    if len(present):
        edges = graph.edges(present.tolist())
        keep = (local[edges.src] >= 0) & (local[edges.dst] >= 0)
        src, dst = local[edges.src[keep]], local[edges.dst[keep]]
        weight, inline = edges.weight[keep], edges.inline[keep]
    else:
        src = dst = weight = np.zeros(0, dtype=np.int64)
        inline = np.zeros(0, dtype=bool)
    order = np.lexsort((dst, src))
    src, dst, weight, inline = src[order], dst[order], weight[order], inline[order]
    q = _quantum(flat, cum, weight)
    # Sorted by caller then callee: each edge's caller as the step from the
    # previous edge's (mostly 0), its callee as the step from the previous
    # callee of the same caller, weight and inline mark in one number.
    src_step = np.diff(src, prepend=0)
    prev_dst = np.concatenate([[0], dst[:-1]]) if len(dst) else dst
    dst_step = np.where(src_step == 0, dst - prev_dst, dst)
    cols = [src_step, dst_step, zigzag(weight // q) * 2 + inline.astype(np.uint64)]
    first = parts[0]
    st = first.profile.sample_types[first.sample_index]
    return {"names": names, "sample": st.type, "unit": st.unit, "scale": unit_scale(st.unit),
            "total": report_total(parts),
            "q": q, "enc": _pack_pairs(flat, cum, q),
            "edges": vlq(np.stack([np.asarray(c, dtype=np.uint64) for c in cols], axis=1).ravel())
            if len(src) else "", "gran": granularity}
