"""Views: turn analysis results into pages and data files.

Views format numbers the analyzers produced; they never compute new ones.
"""

from __future__ import annotations

from reportgen import units
from reportgen.analyses import DiffAnalysis, TopAnalysis
from reportgen.render.charts import horizontal_bars
from reportgen.render.site import anchor
from reportgen.render.text import format_time


def table_unit(result) -> str:
    """One unit for a whole table, chosen like pprof's -unit=minimum."""
    return units.output_unit([(r.flat, r.cum) for r in result.rows], result.total, result.unit)


def profile_facts(profile, result) -> list[tuple[str, str]]:
    facts = [("Type", profile.profile_type), ("Sample", f"{result.sample_index} ({result.unit})")]
    if profile.mappings and profile.mappings[0].filename:
        facts.append(("Binary", profile.mappings[0].filename.rsplit("/", 1)[-1]))
    if profile.time_nanos:
        facts.append(("Time", format_time(profile.time_nanos)))
    if profile.duration_nanos:
        facts.append(("Duration", units.label(profile.duration_nanos, "nanoseconds")))
    facts.append(("Total", units.label(result.total, result.unit)))
    facts.append(("Samples", str(profile.num_samples)))
    return facts


def headline(result) -> str:
    """The one sentence an on-call reader needs first."""
    if not result.rows or not result.total:
        return "This profile has no samples with a value."
    hot = max(result.rows, key=lambda r: abs(r.flat))
    return (f"Hottest: {hot.name} — {units.percentage(hot.flat, result.total).strip()} "
            f"of {units.label(result.total, result.unit)} in the function itself "
            f"({units.label(hot.flat, result.unit)}).")


def top_charts(page_id: str, result, unit: str) -> list[str]:
    """Top 10 by flat and by cum as bar charts."""
    charts = []
    for field in ("flat", "cum"):
        rows = sorted(result.rows, key=lambda r: (-abs(getattr(r, field)), r.name))[:10]
        rows = [r for r in rows if getattr(r, field)]
        if rows:
            charts.append(horizontal_bars(
                f"{page_id}-{field}", f"Top {len(rows)} by {field}", [r.name for r in rows],
                [getattr(r, field) for r in rows], result.unit, unit))
    return charts


def top_page(writer, slug: str, title: str, analysis: TopAnalysis, profile, entry_title: str):
    result = analysis.result
    unit = table_unit(result)
    data = writer.add_data(f"{slug}.json", {"kind": "top", "profile": analysis.profile,
                                            **result.as_dict()})
    shown = len(result.rows)
    summary = (f"{shown} of {result.nodes_total} nodes at {result.granularity} granularity, "
               f"sorted by {'cum' if result.cum_sort else 'flat'}.")
    writer.add_page(f"pages/{slug}.html", "top.html.j2", title, info=profile_facts(profile, result),
                    answer=headline(result), summary=summary, top=result, unit=unit,
                    charts=top_charts(slug, result, unit), data=data)
    return summary


def diff_page(writer, slug: str, title: str, analysis: DiffAnalysis, profiles: dict):
    result = analysis.result
    unit = table_unit(result)
    data = writer.add_data(f"{slug}.json", {
        "kind": "diff", "base": analysis.base, "target": analysis.target,
        "base_total": analysis.base_total, "target_total": analysis.target_total,
        "normalize": analysis.normalize, "mode": analysis.mode, **result.as_dict()})
    change = analysis.target_total - analysis.base_total
    pct = f"{change / analysis.base_total * 100:+.1f}%" if analysis.base_total else "n/a"
    info = [("Base", analysis.base), ("Target", analysis.target),
            ("Sample", f"{result.sample_index} ({result.unit})"),
            ("Base total", units.label(analysis.base_total, result.unit)),
            ("Target total", units.label(analysis.target_total, result.unit)),
            ("Change", f"{units.label(change, result.unit)} ({pct})")]
    answer = ""
    if result.rows:
        mover = max(result.rows, key=lambda r: abs(r.flat))
        direction = "grew" if mover.flat > 0 else "shrank"
        answer = (f"Largest change: {mover.name} {direction} by "
                  f"{units.label(abs(mover.flat), result.unit)} "
                  f"({units.percentage(mover.flat, result.total).strip()} of the base total).")
    summary = ("Target minus base; percentages are of the base's total "
               "(pprof -diff_base)." if analysis.mode == "diff_base" else
               "Target minus base with equal stacks cancelled; percentages of both totals "
               "(pprof -base).")
    if analysis.normalize:
        summary += " The target was scaled to the base's total first (-normalize)."
    writer.add_page(f"pages/{slug}.html", "top.html.j2", title, info=info, answer=answer,
                    summary=summary, top=result, unit=unit,
                    charts=top_charts(slug, result, unit), data=data)
    return f"{analysis.base} → {analysis.target}: {pct}"


def profile_card(name: str, entry, profile, result, links: list[dict]) -> dict:
    return {
        "name": name, "title": entry.title, "labels": sorted(entry.labels.items()),
        "facts": profile_facts(profile, result), "answer": headline(result),
        "top": result, "unit": table_unit(result), "links": links,
        "data": f"profile-{anchor(name)}.json",
    }
