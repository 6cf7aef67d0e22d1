"""Views: turn analysis results into pages and data files.

Views format numbers the analyzers produced; they never compute new ones.
"""

from __future__ import annotations

from reportgen import units
from reportgen.analyses import TopAnalysis
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
    """The one sentence an on-call reader needs first (a warning before it, when the
    numbers cannot be trusted)."""
    warning = "".join(f"Warning: {w}. " for w in result.warnings)
    if not result.rows or not result.total:
        return warning + "This profile has no samples with a value."
    hot = max(result.rows, key=lambda r: abs(r.flat))
    text = (f"Hottest: {hot.name} — {units.percentage(hot.flat, result.total).strip()} "
            f"of {units.label(result.total, result.unit)} in the function itself "
            f"({units.label(hot.flat, result.unit)}).")
    top = result.program_hotspot
    if top:
        text += (f" In the program's own code, most is under {top.name} "
                 f"({units.percentage(top.cum, result.total).strip()}, "
                 f"{units.label(top.cum, result.unit)}).")
    return warning + text


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


def top_page(writer, slug: str, title: str, analysis: TopAnalysis, profile, calls=None,
             model=None):
    result = analysis.result
    unit = table_unit(result)
    data = writer.add_data(f"{slug}.json", {"kind": "top", "profile": analysis.profile,
                                            **result.as_dict()})
    shown = len(result.rows)
    summary = (f"{shown} of {result.nodes_total} nodes at {result.granularity} granularity, "
               f"sorted by {'cum' if result.cum_sort else 'flat'}.")
    writer.add_page(f"pages/{slug}.html", "top.html.j2", title, info=profile_facts(profile, result),
                    answer=headline(result), summary=summary, top=result, unit=unit,
                    charts=top_charts(slug, result, unit), data=data, calls=calls, model=model)
    return summary


def diff_answer(diff) -> str:
    """Total change first, then the function paths that moved most."""
    change = diff.target_total - diff.base_total
    pct = f" ({change / diff.base_total * 100:+.1f}%)" if diff.base_total else ""
    parts = [f"Total {diff.sample_index}: {units.label(diff.base_total, diff.unit)} → "
             f"{units.label(diff.target_total, diff.unit)}{pct}."]
    # Roots (runtime.main, main.main) carry every change; name the deepest big movers.
    biggest = max(abs(diff.base_total), abs(diff.target_total), 1)
    inner = [m for m in diff.movers if max(abs(m.base_cum), abs(m.target_cum)) < 0.9 * biggest]
    for label, sign in (("Biggest drop", -1), ("Biggest rise", 1)):
        cands = [m for m in inner if m.delta_cum * sign > 0]
        if cands:
            m = max(cands, key=lambda m: (abs(m.delta_cum), m.name))
            state = " (gone)" if not m.target_cum else " (new)" if not m.base_cum else ""
            parts.append(f"{label}: {m.name} {signed_label(m.delta_cum, diff.unit)}{state}.")
    return " ".join(parts)


def signed_label(v: int, unit: str, out: str = "auto") -> str:
    text = units.label(v, unit, out)
    return text if v <= 0 else "+" + text


def mover_chart(slug: str, diff):
    movers = sorted(diff.movers, key=lambda m: (-abs(m.delta_cum), m.name))[:12]
    movers = [m for m in movers if m.delta_cum]
    if not movers:
        return []
    return [horizontal_bars(f"{slug}-movers", "Largest changes by cum (after − before)",
                            [m.name for m in movers], [m.delta_cum for m in movers],
                            diff.unit, "auto", diverging=True)]


def diff_page(writer, slug: str, title: str, diff, profiles: dict, flame=None,
              flame_file=None):
    unit = table_unit(diff.table)
    data = writer.add_data(f"{slug}.json", diff.as_dict())
    change = diff.target_total - diff.base_total
    pct = f"{change / diff.base_total * 100:+.1f}%" if diff.base_total else "n/a"
    info = [("Base", diff.base), ("Target", diff.target),
            ("Sample", f"{diff.sample_index} ({diff.unit})"),
            ("Base total", units.label(diff.base_total, diff.unit)),
            ("Target total", units.label(diff.target_total, diff.unit)),
            ("Change", f"{signed_label(change, diff.unit)} ({pct})")]
    summary = ("The table is target minus base; its percentages are of the base's total "
               "(pprof -diff_base)." if diff.mode == "diff_base" else
               "The table is target minus base with equal stacks cancelled; its percentages "
               "are of both totals (pprof -base).")
    if diff.normalize:
        summary += " The target was scaled to the base's total first (-normalize)."
    writer.add_page(f"pages/{slug}.html", "diff.html.j2", title, info=info,
                    answer=diff_answer(diff), summary=summary, diff=diff, unit=unit,
                    charts=mover_chart(slug, diff), flame=flame, flame_file=flame_file,
                    data=data)
    return f"{diff.base} → {diff.target}: {pct}"


def profile_card(name: str, entry, profile, result, links: list[dict]) -> dict:
    return {
        "name": name, "title": entry.title, "labels": sorted(entry.labels.items()),
        "facts": profile_facts(profile, result), "answer": headline(result),
        "top": result, "unit": table_unit(result), "links": links,
        "data": f"profile-{anchor(name)}.json",
    }
