"""The trace page: the answer, goroutine groups, blocking profiles, GC/MMU, regions, timeline.

Lays out a TraceReport (analyze.trace_report); each non-empty blocking
profile also gets the ordinary profile page (flame graphs, top functions,
callers/callees), since it is a profile in our model like any other.
"""

from __future__ import annotations

from types import SimpleNamespace

from markupsafe import Markup

from reportgen.analyses import profile_summary
from reportgen.analyze.answer import profile_answer
from reportgen.analyze.graph import Part
from reportgen.analyze.top import resolve_sample_index
from reportgen.analyze.trace_profiles import TITLES, profile_model
from reportgen.analyze.trace_regions import type_label
from reportgen.render import profile_pages
from reportgen.render.charts import _style, chart_class, clean_svg
# strings the traced program wrote (names, logs): control characters made visible
from reportgen.render.names import one_line as shown
from reportgen.render.site import anchor

GOROUTINES_PER_GROUP = 50  # rows per group on the page (the JSON has them all)
PAUSES_SHOWN = 30
LOGS_SHOWN = 200


def _ms(ns: int) -> str:
    return f"{ns / 1e6:.3f} ms"


def _short(ns: float) -> str:
    """An axis label: 1µs, 20ms, 1.5s."""
    for unit, div in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= div:
            return f"{ns / div:.3g}{unit}"
    return f"{ns:.0f}ns"


def mmu_chart(chart_id: str, mmu: list) -> Markup | None:
    """Minimum mutator utilization against window size (log scale), as go tool trace's /mmu."""
    if not mmu:
        return None
    XY = chart_class("XY")
    chart = XY(js=[], disable_xml_declaration=True, style=_style(), width=640, height=320,
               logarithmic=True, show_legend=False, dots_size=2, margin=8,
               range=(0, 1), include_x_axis=False, x_title="window",
               y_title="minimum mutator utilization",
               x_value_formatter=_short, value_formatter=lambda v: f"{v:.0%}")
    chart.title = "MMU: the worst share of the CPU left to the program in any window"
    decades = [10 ** k for k in range(3, 12) if mmu[0][0] <= 10 ** k <= mmu[-1][0]]
    chart.x_labels = decades or [mmu[0][0], mmu[-1][0]]
    chart.add("MMU", [(w, max(u, 1e-6)) for w, u in mmu])
    return clean_svg(chart.render(is_unicode=True), chart.uuid, chart_id)


def heap_chart(chart_id: str, gc) -> Markup | None:
    """Live heap and heap goal over the trace (HeapAlloc/HeapGoal events), at most ~400 points."""
    if len(gc.heap) < 2:
        return None
    XY = chart_class("XY")
    chart = XY(js=[], disable_xml_declaration=True, style=_style(), width=640, height=300,
               show_legend=True, legend_at_bottom=True, dots_size=0, margin=8,
               stroke_style={"width": 1.5}, x_title="time",
               x_value_formatter=_short,
               value_formatter=lambda v: f"{v / (1 << 20):.1f} MiB")
    chart.title = "Heap in use and the GC's goal"
    for name, series in (("heap", gc.heap), ("goal", gc.heap_goal)):
        step = max(1, len(series) // 400)
        if series:
            chart.add(name, [(t, v) for t, v in series[::step]] + [series[-1]])
    return clean_svg(chart.render(is_unicode=True), chart.uuid, chart_id)


NO_REASON = "Block time (no reason recorded)"


def column_label(name: str) -> str:
    """A breakdown column as shown: the empty wait reason (a goroutine already waiting
    when the trace began, or created blocked) is named, not shown as "()"."""
    return NO_REASON if name == "Block time ()" else name


def _group_parts(stats: list) -> dict:
    """The sum of the goroutines' non_overlapping() breakdowns (every column any of them
    has), added up field by field rather than through a dict per goroutine."""
    parts = {"Execution time": sum(s.exec_ns for s in stats),
             "Sched wait time": sum(s.sched_wait_ns for s in stats),
             "Syscall execution time": sum(s.syscall_ns for s in stats),
             "Block time (syscall)": sum(s.syscall_block_ns for s in stats),
             "Unknown time": sum(s.unknown_ns for s in stats)}
    for s in stats:
        for reason, dt in s.block_ns.items():
            key = "Block time (" + reason + ")"
            parts[key] = parts.get(key, 0) + dt
    return parts


def _group_rows(report) -> list:
    rows = []
    for i, g in enumerate(report.groups):
        parts = _group_parts([x.stats for x in g.goroutines])
        total = sum(x.stats.total_ns for x in g.goroutines)
        top = sorted(((v, k) for k, v in parts.items() if v), reverse=True)[:3]
        columns = sorted(parts, key=lambda k: (k != "Execution time", k))
        shown_members = g.goroutines[:GOROUTINES_PER_GROUP]
        members = [{"id": x.id, "total": x.stats.total_ns,
                    "cells": [b.get(c, 0) for c in columns]}
                   for x, b in zip(shown_members,
                                   (x.stats.non_overlapping() for x in shown_members))]
        rows.append({"start": shown(g.start) or "(Inactive, no stack trace sampled)",
                     "id": f"g-{i + 1}-{anchor(g.start or 'inactive')}", "count": g.count,
                     "execution": g.execution_ns, "total": total,
                     "parts": [(column_label(k), v, v / total if total else 0.0)
                               for v, k in top],
                     "columns": [column_label(c) for c in columns], "members": members,
                     "omitted": g.count - len(members)})
    return rows


def profile_links(writer, slug: str, report) -> list:
    """A profile page per non-empty blocking profile; [{kind, title, href, contentions, delay}]."""
    out = []
    for kind, data in report.profiles.items():
        n, delay = report.profile_totals[kind]
        item = {"kind": kind, "title": TITLES[kind], "contentions": n, "delay": delay,
                "href": None}
        if n:
            name = f"{slug}-{kind}"
            prof = profile_model(kind, data, f"{kind}.pb")
            entry = SimpleNamespace(title=f"{TITLES[kind].capitalize()} profile (trace)",
                                    labels={"trace profile": kind})
            summary = profile_summary(prof)
            parts = [Part(prof, resolve_sample_index(prof, None))]
            item["href"] = profile_pages.profile_page(
                writer, name, entry, prof, summary, parts,
                profile_answer(parts[0])).rsplit("/", 1)[-1]
        out.append(item)
    return out


def trace_page(writer, slug: str, title: str, result, manifest=None) -> str:
    """pages/SLUG.html for a TraceReport; returns the one-line summary for the index."""
    from reportgen.render.trace_timeline import timeline_data

    report = result
    data = writer.add_data(f"{slug}.json", {"kind": "trace", **report.as_dict()})
    gc = report.gc
    pauses = [{"start_ns": p.start_ns, "duration_ns": p.duration_ns, "kind": shown(p.kind)}
              for p in sorted(gc.pauses, key=lambda p: -p.duration_ns)[:PAUSES_SHOWN]]
    info = [("format", f"go 1.{report.version} trace"), ("duration", _ms(report.duration_ns)),
            ("events", str(report.events)), ("generations", str(report.generations)),
            ("goroutines", str(sum(g.count for g in report.groups)))]
    timeline = timeline_data(report.timeline, writer.theme_dir)
    writer.add_page(f"pages/{slug}.html", "trace.html.j2", title, info=info,
                    answers=report.answers, truncated=report.truncated,
                    groups=_group_rows(report), profiles=profile_links(writer, slug, report),
                    gc=gc, gc_dict=gc.as_dict(), pauses=pauses,
                    mmu=mmu_chart(f"mmu-{anchor(slug)}", gc.mmu),
                    heap=heap_chart(f"heap-{anchor(slug)}", gc),
                    regions=[{**r.as_dict(), "type": shown(type_label(r.name))}
                             for r in report.regions],
                    tasks=[{**t, "type": shown(type_label(t["type"]))} for t in report.tasks],
                    logs=[(t, g, k, shown(c), shown(m))
                          for t, g, k, c, m in report.logs[:LOGS_SHOWN]],
                    logs_total=len(report.logs), timeline=timeline, data=data, ms=_ms)
    summary = report.answers[0] if report.answers else f"{len(report.groups)} goroutine groups."
    if report.truncated:  # the index says so too, not only the page
        summary = (f"Truncated trace: {report.generations} complete generation(s) kept, the "
                   f"rest dropped (see the page). {summary}")
    return summary
