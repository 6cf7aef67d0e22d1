"""Views: turn analysis results into pages and data files.

Views format numbers the analyzers produced; they never compute new ones.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

from reportgen import units
from reportgen.analyses import TopAnalysis
from reportgen.analyze.diff_answer import diff_answer
from reportgen.render.charts import horizontal_bars
from reportgen.render.names import display_name, show_controls
from reportgen.render.site import anchor
from reportgen.render.text import format_time


def answer_html(answer) -> Markup:
    """An answer sentence as HTML: escaped, bidi controls shown, and each function it
    names isolated like every other name on the page (render.names)."""
    if answer is None:
        return Markup("")
    text = getattr(answer, "text", answer)
    names = sorted({n for n in getattr(answer, "functions", ()) if n}, key=len, reverse=True)
    if not names:
        return Markup(escape(show_controls(text)))
    out, pos = [], 0
    for m in re.finditer("|".join(re.escape(n) for n in names), text):
        out += [escape(show_controls(text[pos:m.start()])), display_name(m.group())]
        pos = m.end()
    out.append(escape(show_controls(text[pos:])))
    return Markup("").join(out)


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
        facts.append(("Duration", units.human(profile.duration_nanos, "nanoseconds")))
    facts.append(("Total", units.human(result.total, result.unit)))
    facts.append(("Samples", f"{profile.num_samples:,}"))
    return facts


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
    data = writer.add_data(f"{slug}.json", {
        "kind": "top", "profile": analysis.profile, **result.as_dict(),
        "answer": analysis.answer.as_dict() if analysis.answer else None,
        "filters": analysis.filters, "filtered_total": analysis.shown})
    shown = len(result.rows)
    summary = (f"{shown} of {units.plural(result.nodes_total, 'node')} at {result.granularity} "
               f"granularity, sorted by {'cum' if result.cum_sort else 'flat'}.")
    writer.add_page(f"pages/{slug}.html", "top.html.j2", title, info=profile_facts(profile, result),
                    answer=answer_html(analysis.answer), summary=summary,
                    top=result, unit=unit, charts=top_charts(slug, result, unit), data=data,
                    calls=calls, model=model,
                    filters=filter_view(analysis.filters, analysis.shown, result.total,
                                        result.unit))

    return summary


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
              flame_file=None, model=None):
    """The diff page; `model` (function_tables.table_model of the diff's parts)
    lets the "every function" table filter and re-sort over every function,
    not only the rows written into the page."""
    unit = table_unit(diff.table)
    data = writer.add_data(f"{slug}.json", diff.as_dict())
    change = diff.target_total - diff.base_total
    pct = units.signed_percent_change(diff.target_total, diff.base_total)
    info = [("Base", diff.base), ("Target", diff.target),
            ("Sample", f"{diff.sample_index} ({diff.unit})"),
            ("Base total", units.human(diff.base_total, diff.unit)),
            ("Target total", units.human(diff.target_total, diff.unit)),
            ("Change", f"{units.signed_human(change, diff.unit)} ({pct})")]
    if diff.per_unit:
        b, t = diff.per_unit
        info += [("Counts", f"{diff.base_count:,} → {diff.target_count:,}"),
                 ("Per unit", f"{units.human(b, diff.unit)} → {units.human(t, diff.unit)} "
                              f"({units.signed_percent_change(t, b)})")]
    summary = ("The table is target minus base; its percentages are of the base's total "
               "(pprof -diff_base)." if diff.mode == "diff_base" else
               "The table is target minus base with equal stacks cancelled; its percentages "
               "are of both totals (pprof -base).")
    if diff.normalize:
        summary += " The target was scaled to the base's total first (-normalize)."
    writer.add_page(f"pages/{slug}.html", "diff.html.j2", title, info=info,
                    answer=answer_html(diff_answer(diff)), summary=summary, diff=diff, unit=unit,
                    charts=mover_chart(slug, diff), flame=flame, flame_file=flame_file,
                    data=data, model=model)
    return f"{diff.base} → {diff.target}: {pct}"


def filter_view(filters: list, shown, total: int, unit: str) -> dict | None:
    """What a filtered page prints above its numbers, like pprof's "Active filters:"
    and "Showing nodes accounting for X, P% of Y total"."""
    if not filters:
        return None
    return {"active": list(filters), "showing": (
        f"Showing {units.human(shown, unit)} of {units.human(total, unit)} total "
        f"({units.human_percent(shown, total)})") if shown is not None else ""}


def profile_card(name: str, entry, profile, result, answer, links: list[dict]) -> dict:
    return {
        "name": name, "title": entry.title, "labels": sorted(entry.labels.items()),
        "facts": profile_facts(profile, result), "answer": answer_html(answer),
        "top": result, "unit": table_unit(result), "links": links,
        "data": f"profile-{anchor(name)}.json",
    }
