"""Before/after comparison of two profiles of the same kind.

The node table is pprof's -diff_base (or -base) top; on top of it, each
function's own before and after values tell what grew, what shrank, what is
new and what is gone, by flat and by cum.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reportgen.analyze.graph import Part, build_graph
from reportgen.analyze.top import TopResult, diff_parts, top


@dataclass
class Mover:
    name: str
    base_flat: int
    target_flat: int
    base_cum: int
    target_cum: int

    @property
    def delta_flat(self) -> int:
        return self.target_flat - self.base_flat

    @property
    def delta_cum(self) -> int:
        return self.target_cum - self.base_cum

    def as_dict(self) -> dict:
        return {"name": self.name, "base_flat": self.base_flat, "target_flat": self.target_flat,
                "base_cum": self.base_cum, "target_cum": self.target_cum,
                "delta_flat": self.delta_flat, "delta_cum": self.delta_cum}


@dataclass
class Rename:
    """A function gone from the base and one new in the target under the same
    caller: most likely one function renamed (handleBefore -> handleAfter)."""
    gone: str
    new: str
    parent: str
    base_cum: int      # the gone function's cum in the base
    target_cum: int    # the new function's cum in the target
    parent_base_cum: int
    parent_target_cum: int

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class DiffResult:
    base: str
    target: str
    sample_index: str
    unit: str
    mode: str          # "diff_base" or "base"
    normalize: bool
    base_total: int    # sum of the sample type in the base
    target_total: int  # ... in the target (after normalizing, if asked)
    table: TopResult   # pprof's -diff_base / -base top
    movers: list = field(default_factory=list)  # every function present in either
    base_count: int | None = None    # units of work per side (requests, iterations), if given
    target_count: int | None = None
    base_duration: int = 0           # nanoseconds, from the profiles
    target_duration: int = 0
    renames: list = field(default_factory=list)  # of Rename
    heap_sites: list = field(default_factory=list)  # analyze.leaks.HeapSite, inuse_space growth
    target_raw_total: int | None = None   # the target's own total, before normalizing

    @property
    def per_unit(self) -> tuple[float, float] | None:
        """(base, target) totals per counted unit, when both counts are given."""
        if not (self.base_count and self.target_count):
            return None
        return self.base_total / self.base_count, self.target_total / self.target_count

    @property
    def same_duration(self) -> bool:
        """Both captures last as long (within 1%): totals compare, and so do shares."""
        a, b = self.base_duration, self.target_duration
        return bool(a and b) and abs(a - b) <= 0.01 * max(a, b)

    def _ranked(self, attr, sign, limit):
        chosen = [m for m in self.movers if getattr(m, attr) * sign > 0]
        chosen.sort(key=lambda m: (-abs(getattr(m, attr)), m.name))
        return chosen[:limit]

    def grew(self, by="cum", limit=15):
        return self._ranked(f"delta_{by}", 1, limit)

    def shrank(self, by="cum", limit=15):
        return self._ranked(f"delta_{by}", -1, limit)

    def new(self, limit=15):
        found = [m for m in self.movers if m.base_cum == 0 and m.target_cum]
        return sorted(found, key=lambda m: (-abs(m.target_cum), m.name))[:limit]

    def gone(self, limit=15):
        found = [m for m in self.movers if m.target_cum == 0 and m.base_cum]
        return sorted(found, key=lambda m: (-abs(m.base_cum), m.name))[:limit]

    def as_dict(self) -> dict:
        def rows(ms):
            return [m.as_dict() for m in ms]
        return {
            "kind": "diff", "base": self.base, "target": self.target,
            "sample_index": self.sample_index, "unit": self.unit, "mode": self.mode,
            "normalize": self.normalize, "base_total": self.base_total,
            "target_total": self.target_total,
            "grew_flat": rows(self.grew("flat")), "shrank_flat": rows(self.shrank("flat")),
            "grew_cum": rows(self.grew("cum")), "shrank_cum": rows(self.shrank("cum")),
            "new": rows(self.new()), "gone": rows(self.gone()),
            "base_count": self.base_count, "target_count": self.target_count,
            "per_unit": list(self.per_unit) if self.per_unit else None,
            "base_duration": self.base_duration, "target_duration": self.target_duration,
            "same_duration": self.same_duration,
            "renames": [r.as_dict() for r in self.renames],
            "heap_growth": [{"function": h.func, "inuse_space": h.values, "growth": h.growth,
                             "caller": h.caller.func if h.caller else None}
                            for h in self.heap_sites],
            "table": self.table.as_dict(),
        }


def compare(base, target, base_name: str, target_name: str, sample_index=None,
            mode: str = "diff_base", normalize: bool = False, granularity: str = "functions",
            nodes: int | None = None, base_count: int | None = None,
            target_count: int | None = None) -> DiffResult:
    """Target against base (pprof -diff_base / -base, optionally -normalize).

    `base_count` and `target_count` are units of work done during each capture
    (requests served, benchmark iterations); with both, the answer compares
    values per unit. Raises UsageError when the profiles are of different kinds.
    """
    parts = diff_parts(target, base, sample_index, diff_base=(mode == "diff_base"),
                       normalize=normalize)
    table = top(parts, granularity, node_limit=nodes, node_fraction=0.0)
    target_part, base_part = parts[0], Part(parts[1].profile, parts[1].sample_index)
    base_graph = build_graph([base_part], granularity)
    target_graph = build_graph([target_part], granularity)
    before, after = _by_name(base_graph), _by_name(target_graph)
    movers = []
    for name in sorted(before.keys() | after.keys()):
        base_flat, base_cum = before.get(name, (0, 0))
        target_flat, target_cum = after.get(name, (0, 0))
        movers.append(Mover(name, base_flat, target_flat, base_cum, target_cum))
    base_total = int(base.values[:, base_part.sample_index].sum())
    target_total = int(target_part.profile.values[:, target_part.sample_index].sum())
    return DiffResult(
        base=base_name, target=target_name, sample_index=table.sample_index, unit=table.unit,
        mode=mode, normalize=normalize, base_total=base_total, target_total=target_total,
        table=table, movers=movers, base_count=base_count, target_count=target_count,
        base_duration=base.duration_nanos, target_duration=target.duration_nanos,
        renames=find_renames(movers, base_graph, target_graph, base_total, target_total),
        heap_sites=_heap_sites(base, target, table.sample_index, normalize),
        target_raw_total=int(target.values[:, target_part.sample_index].sum()))


def _heap_sites(base, target, sample_index: str, normalize: bool) -> list:
    """For heap in use: the allocation sites that grew (analyze.leaks.heap_growth)."""
    if sample_index != "inuse_space" or normalize:
        return []
    from reportgen.analyze.leaks import heap_growth
    return heap_growth([base, target])[1]


RENAME_MIN = 0.01  # of its side's total: smaller functions are not worth a headline


def find_renames(movers, base_graph, target_graph, base_total: int,
                 target_total: int) -> list[Rename]:
    """Pairs (gone, new) whose heaviest caller is the same function: the same
    stack position under a new name. Larger pairs first; each function once."""
    gone = [m for m in movers if not m.target_cum and abs(m.base_cum) >= RENAME_MIN * abs(base_total)]
    new = [m for m in movers if not m.base_cum and abs(m.target_cum) >= RENAME_MIN * abs(target_total)]
    if not gone or not new:
        return []
    gone_parent = _heaviest_callers(base_graph, {m.name for m in gone})
    new_parent = _heaviest_callers(target_graph, {m.name for m in new})
    before, after = _by_name(base_graph), _by_name(target_graph)
    out, used = [], set()
    for g in sorted(gone, key=lambda m: (-abs(m.base_cum), m.name)):
        parent = gone_parent.get(g.name)
        match = [n for n in sorted(new, key=lambda m: (-abs(m.target_cum), m.name))
                 if n.name not in used and parent and new_parent.get(n.name) == parent]
        if match:
            n = match[0]
            used.add(n.name)
            out.append(Rename(g.name, n.name, parent, g.base_cum, n.target_cum,
                              before.get(parent, (0, 0))[1], after.get(parent, (0, 0))[1]))
    return out


def _heaviest_callers(graph, names: set) -> dict:
    """{name: printable name of its heaviest caller} for nodes named in `names`."""
    nodes = [n for n, k in enumerate(graph.keys) if k.printable() in names]
    if not nodes:
        return {}
    edges = graph.edges(nodes)
    best: dict = {}
    for src, dst, w in zip(edges.src.tolist(), edges.dst.tolist(), edges.weight.tolist()):
        if dst in nodes and (dst not in best or (abs(w), -src) > (abs(best[dst][1]), -best[dst][0])):
            best[dst] = (src, w)
    return {graph.keys[d].printable(): graph.keys[s].printable() for d, (s, _w) in best.items()}


def _by_name(graph) -> dict[str, tuple[int, int]]:
    """(flat, cum) per printable node name, for nodes with a value."""
    return {key.printable(): (int(f), int(c))
            for key, f, c in zip(graph.keys, graph.flat, graph.cum) if f or c}
