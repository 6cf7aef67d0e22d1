"""`pprof -peek` text: callers above, callees below each matching node."""

from __future__ import annotations

from reportgen import units
from reportgen.errors import UsageError
from reportgen.render.text import profile_header

SEPARATOR = "----------------------------------------------------------+-------------"
LEGEND = "      flat  flat%   sum%        cum   cum%   calls calls% + context 	 	 "


def format_peek(profile, result, unit: str = "minimum", duration_nanos: int | None = None,
                time_nanos: int | None = None, compact_labels: bool = False) -> str:
    """Byte-for-byte what `go tool pprof -peek` prints for a PeekResult.

    pprof prints nothing but an error when no node matches; so do we
    (UsageError), leaving the exit status to the caller.
    """
    if not result.nodes:
        raise UsageError(profile.path, f"no matches found for regexp: {result.pattern}")
    if unit == "minimum":
        # pprof picks the unit from every node of the graph, not just the matches.
        unit = units.output_unit([(result.smallest, 0)], result.total, result.unit)

    def fmt(v):
        return units.label(v, result.unit, unit)

    def pct(v, of):
        return units.percentage(v, of)

    out = [] if compact_labels else profile_header(
        profile, result.sample_index, result.total, result.unit, unit, duration_nanos,
        time_nanos)
    shown = result.shown_total
    out.append(f"Showing nodes accounting for {fmt(shown)}, "
               f"{pct(shown, result.total).strip()} of {fmt(result.total)} total")
    out += [SEPARATOR, LEGEND]
    flat_sum = 0  # sum% runs over the printed (matching) nodes only
    for node in result.nodes:
        out.append(SEPARATOR)
        out += [_edge_line(e, node.cum, fmt) for e in node.callers]
        flat_sum += node.flat
        out.append(f"{fmt(node.flat):>10} {pct(node.flat, result.total)} "
                   f"{pct(flat_sum, result.total)} {fmt(node.cum):>10} "
                   f"{pct(node.cum, result.total)}                | {node.name}")
        out += [_edge_line(e, node.cum, fmt) for e in node.callees]
    out.append(SEPARATOR)
    return "\n".join(out) + "\n"


def _edge_line(edge, cum: int, fmt) -> str:
    inline = " (inline)" if edge.inline else ""
    return f"{fmt(edge.value):>50} {units.percentage(edge.value, cum)} |   {edge.name}{inline}"
