"""top: flat and cum per node, sorted and trimmed exactly like `pprof -top`."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from reportgen.analyze.answer import hot_path, is_lock_profile, lock_holder
from reportgen.analyze.graph import Graph, Part, build_graph, total as report_total
from reportgen.analyze.overflow import overflow_warnings
from reportgen.errors import UsageError

DEFAULT_NODE_FRACTION = 0.005
DEFAULT_EDGE_FRACTION = 0.001


@dataclass
class TopRow:
    name: str      # the node's name as pprof prints it
    flat: int
    cum: int
    inline: str = ""  # "", "inline" or "partial-inline"
    function: str = ""
    file: str = ""
    line: int = 0
    system_name: str = ""  # the name as the profile stores it, when pprof's display differs


    def as_dict(self, granularity: str) -> dict:
        """Every row has the same keys: `file`, `line` and `inline` are null when the
        granularity drops them or the node has none (README, "JSON rows")."""
        keeps_file = granularity in ("lines", "files", "filefunctions")
        return {"name": self.name, "flat": self.flat, "cum": self.cum,
                "function": self.function or None,
                "file": (self.file or None) if keeps_file else None,
                "line": (self.line or None) if granularity == "lines" else None,
                "inline": self.inline or None,
                # the name as the profile stores it, when pprof's display name differs
                "system_name": self.system_name or None}


@dataclass
class TopResult:
    sample_index: str
    unit: str
    total: int
    granularity: str
    cum_sort: bool
    rows: list = field(default_factory=list)
    nodes_total: int = 0       # nodes left after the cutoff, before the node limit
    program_hotspot: TopRow | None = None  # the answer's subject (_hotspot)
    dropped_nodes: int = 0
    drop_cutoff: int = 0       # as pprof reports it: total * node_fraction
    diff: bool = False
    warnings: list = field(default_factory=list)  # totals beyond int64 (analyze/overflow.py)

    @property
    def shown_flat(self) -> int:
        return sum(r.flat for r in self.rows)

    def as_dict(self) -> dict:
        return {
            "sample_index": self.sample_index,
            "unit": self.unit,
            "total": self.total,
            "granularity": self.granularity,
            "sort": "cum" if self.cum_sort else "flat",
            "diff": self.diff,
            "nodes_total": self.nodes_total,
            "dropped_nodes": self.dropped_nodes,
            "drop_cutoff": self.drop_cutoff,
            "program_hotspot": (self.program_hotspot.as_dict(self.granularity)
                                if self.program_hotspot else None),
            "rows": [r.as_dict(self.granularity) for r in self.rows],
            **({"warnings": self.warnings} if self.warnings else {}),
        }


def resolve_sample_index(profile, name) -> int:
    try:
        return profile.sample_index(name)
    except KeyError:
        names = ", ".join(t.type for t in profile.sample_types)
        shown = name if len(name) <= 40 else name[:39] + "…"
        raise UsageError(profile.path, f"no sample type {shown!r} (it has: {names})") from None


def diff_parts(target, base, sample_index=None, diff_base=True,
               normalize=False) -> list[Part]:
    """Target plus the negated base, the way pprof merges -diff_base / -base.

    With `normalize`, the target is first scaled to the base's total, as
    pprof's -normalize does, so profiles of different length compare.
    """
    ti = resolve_sample_index(target, sample_index)
    want = target.sample_types[ti]
    if want not in base.sample_types:
        raise UsageError(base.path, f"cannot compare with {target.path}: a "
                                    f"{base.profile_type} profile has no {want.type}/{want.unit} "
                                    f"samples (the two profiles are of different kinds)")
    bi = base.sample_types.index(want)
    if normalize:
        target = _scaled_to(target, ti, int(base.values[:, bi].sum()))
    return [Part(target, ti), Part(base, bi, sign=-1, diff_base=diff_base)]


def _scaled_to(profile, index: int, want_total: int):
    """A copy of `profile` whose values of type `index` sum to about `want_total`."""
    have = int(profile.values[:, index].sum())
    ratio = want_total / have if have else 0.0
    values = profile.values.copy()
    scaled = values[:, index] * ratio
    # Go's math.Round: halves away from zero.
    values[:, index] = (np.sign(scaled) * np.floor(np.abs(scaled) + 0.5)).astype(np.int64)
    # Fresh cache: cached graphs hold the unscaled values.
    return dataclasses.replace(profile, values=values, cache={})


def top(parts: list[Part], granularity: str = "functions", cum_sort: bool = False,
        node_limit: int | None = None, node_fraction: float = DEFAULT_NODE_FRACTION,
        edge_fraction: float = 0.0, total: int | None = None) -> TopResult:
    """pprof's top over one profile or a signed combination of profiles."""
    graph = build_graph(parts, granularity)
    # A filtered profile keeps the unfiltered total, as pprof's percentages do.
    tot = report_total(parts) if total is None else total
    first = parts[0]
    st = first.profile.sample_types[first.sample_index]
    present = [n for n in range(len(graph.keys)) if graph.flat[n] or graph.cum[n]]

    # pprof's cutoff uses the sum of flat values, its label uses the total.
    flat_sum = int(graph.flat.sum())
    cutoff = abs(int(float(flat_sum) * node_fraction))
    kept = [n for n in present if abs(int(graph.cum[n])) >= cutoff] if cutoff > 0 else present
    edge_cutoff = abs(int(float(flat_sum) * edge_fraction))
    mask = None
    if len(kept) < len(present):
        mask = np.zeros(len(graph.keys), dtype=bool)
        mask[kept] = True
    names = {n: graph.keys[n].printable() for n in kept}
    if cum_sort:
        kept.sort(key=lambda n: (-abs(int(graph.cum[n])), names[n], -abs(int(graph.flat[n]))))
    else:
        kept.sort(key=lambda n: (-abs(int(graph.flat[n])), names[n], -abs(int(graph.cum[n]))))
    originals = _system_names(parts)
    hotspot = None
    if len(parts) == 1:  # in a diff, the answer is the diff's (analyze.answer.diff_answer)
        node = _hotspot(parts[0], graph, granularity)
        if node is not None:
            hotspot = _row(graph, node, graph.keys[node].printable(), "", originals)
    shown = kept if node_limit is None else kept[:node_limit]
    labels = graph.inline_labels(shown, mask, edge_cutoff)
    rows = [_row(graph, n, names[n], labels[n], originals) for n in shown]
    return TopResult(
        sample_index=st.type, unit=st.unit, total=tot, granularity=granularity,
        cum_sort=cum_sort, rows=rows, nodes_total=len(kept),
        dropped_nodes=len(present) - len(kept), program_hotspot=hotspot,
        drop_cutoff=abs(int(float(tot) * node_fraction)),
        diff=len(parts) > 1, warnings=overflow_warnings(parts))


def _hotspot(part: Part, graph: Graph, granularity: str) -> int | None:
    """The node the profile's answer names: the lock holder of a mutex/block
    profile (answer.lock_holder), else where the hot path leaves the program."""
    if is_lock_profile(part.profile):
        found = lock_holder(part, granularity)
        return None if found is None else graph.keys.index(found[0])
    return hot_path(graph)[0]


def _system_names(parts: list[Part]) -> dict[str, str]:
    """Display name -> the first system name it was simplified from (sources/names.py)."""
    out: dict[str, str] = {}
    for part in parts:
        for fn in part.profile.functions:
            if fn.system_name and fn.system_name != fn.name:
                out.setdefault(fn.name, fn.system_name)
    return out


def _row(graph: Graph, n: int, name: str, label: str, originals: dict) -> TopRow:
    key = graph.keys[n]
    return TopRow(name=name, flat=int(graph.flat[n]), cum=int(graph.cum[n]),
                  inline=label, function=key.name, file=key.file, line=key.line,
                  system_name=originals.get(key.name, ""))
