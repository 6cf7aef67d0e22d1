"""Plain-text output for the CLI, laid out like `go tool pprof`."""

from __future__ import annotations

import datetime
import posixpath

from reportgen import units


def profile_header(profile, sample_type: str, total: int, sample_unit: str,
                   out_unit: str, duration_nanos: int | None = None,
                   time_nanos: int | None = None) -> list[str]:
    """The File/Type/Time/Duration lines pprof prints above a report.

    For merged profiles (diffs) pprof shows the earliest time and the summed
    durations: pass those as `time_nanos` and `duration_nanos`.
    """
    lines = []
    if profile.mappings:
        m = profile.mappings[0]
        if m.filename:
            lines.append("File: " + posixpath.basename(m.filename))
        if m.build_id:
            lines.append("Build ID: " + m.build_id)
    lines += [c for c in profile.comments if not c.startswith("#")]
    lines.append("Type: " + sample_type)
    if profile.doc_url:
        lines.append("Doc: " + profile.doc_url)
    when = profile.time_nanos if time_nanos is None else time_nanos
    if when:
        lines.append("Time: " + format_time(when))
    duration = profile.duration_nanos if duration_nanos is None else duration_nanos
    if duration:
        ratio = ""
        nanos, unit = units.scale(total, sample_unit, "nanoseconds")
        if unit == "ns" and nanos:
            ratio = "(" + units.percentage(int(nanos), duration) + ")"
        lines.append(f"Duration: {units.label(duration, 'nanoseconds')}, "
                     f"Total samples = {units.label(total, sample_unit, out_unit)} {ratio}")
    return lines


def format_time(nanos: int) -> str:
    t = datetime.datetime.fromtimestamp(nanos / 1e9, tz=datetime.timezone.utc)
    return t.strftime("%Y-%m-%d %H:%M:%S UTC")


def format_top(profile, result, unit: str = "minimum", duration_nanos: int | None = None,
               time_nanos: int | None = None) -> str:
    """`pprof -top` text for a TopResult."""
    if unit == "minimum":
        unit = units.output_unit([(r.flat, r.cum) for r in result.rows], result.total, result.unit)

    def fmt(v):
        return units.label(v, result.unit, unit)

    out = profile_header(profile, result.sample_index, result.total, result.unit, unit,
                         duration_nanos, time_nanos)
    out += [f"Warning: {w}" for w in getattr(result, "warnings", ())]
    shown = result.shown_flat
    out.append(f"Showing nodes accounting for {fmt(shown)}, "
               f"{units.percentage(shown, result.total).strip()} of {fmt(result.total)} total")
    if result.total and result.dropped_nodes:
        out.append(f"Dropped {result.dropped_nodes} node{'s' if result.dropped_nodes > 1 else ''} "
                   f"(cum <= {fmt(result.drop_cutoff)})")
    if result.total and 0 < len(result.rows) < result.nodes_total:
        out.append(f"Showing top {len(result.rows)} nodes out of {result.nodes_total}")
    out.append(f"{'flat':>10} {'flat':>5}% {'sum':>5}% {'cum':>10} {'cum':>5}%")
    running = 0
    for r in result.rows:
        running += r.flat
        inl = f" ({r.inline})" if r.inline else ""
        out.append(f"{fmt(r.flat):>10} {units.percentage(r.flat, result.total)} "
                   f"{units.percentage(running, result.total)} {fmt(r.cum):>10} "
                   f"{units.percentage(r.cum, result.total)}  {r.name}{inl}")
    return "\n".join(out) + "\n"
