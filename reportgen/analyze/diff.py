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
            "table": self.table.as_dict(),
        }


def compare(base, target, base_name: str, target_name: str, sample_index=None,
            mode: str = "diff_base", normalize: bool = False, granularity: str = "functions",
            nodes: int | None = None) -> DiffResult:
    parts = diff_parts(target, base, sample_index, diff_base=(mode == "diff_base"),
                       normalize=normalize)
    table = top(parts, granularity, node_limit=nodes, node_fraction=0.0)
    target_part, base_part = parts[0], Part(parts[1].profile, parts[1].sample_index)
    before = _by_name(build_graph([base_part], granularity))
    after = _by_name(build_graph([target_part], granularity))
    movers = []
    for name in sorted(before.keys() | after.keys()):
        base_flat, base_cum = before.get(name, (0, 0))
        target_flat, target_cum = after.get(name, (0, 0))
        movers.append(Mover(name, base_flat, target_flat, base_cum, target_cum))
    return DiffResult(
        base=base_name, target=target_name, sample_index=table.sample_index, unit=table.unit,
        mode=mode, normalize=normalize,
        base_total=int(base.values[:, base_part.sample_index].sum()),
        target_total=int(target_part.profile.values[:, target_part.sample_index].sum()),
        table=table, movers=movers)


def _by_name(graph) -> dict[str, tuple[int, int]]:
    """(flat, cum) per printable node name, for nodes with a value."""
    return {key.printable(): (int(f), int(c))
            for key, f, c in zip(graph.keys, graph.flat, graph.cum) if f or c}
