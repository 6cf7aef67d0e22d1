"""`reportgen gc LOG [LOG]`: what a GODEBUG=gctrace/scavtrace/schedtrace log says."""

from __future__ import annotations

import sys

from reportgen.commands.args import print_json

from reportgen.units import signed_percent


def register(sub, common):
    p = sub.add_parser("gc", parents=[common], help="summarise GC and scheduler trace logs",
                       description="Read a GODEBUG=gctrace=1 log (scavtrace and schedtrace "
                                   "lines too, with the program's own output mixed in) and "
                                   "print the answers and a summary; with two logs (before, "
                                   "after a change), their differences.")
    p.add_argument("logs", nargs="+", metavar="LOG", help="one log, or two: before and after")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(run=run)


def run(args) -> int:
    from reportgen.analyze.gc import analyze_gc, compare_gc
    from reportgen.errors import UsageError
    from reportgen.sources.gctrace import load_gctrace

    if len(args.logs) > 2:
        raise UsageError(args.logs[2], "give one log, or two (before and after)")
    runs = [analyze_gc(load_gctrace(path), path) for path in args.logs]
    result = compare_gc(*runs) if len(runs) == 2 else runs[0]
    if args.format == "json":
        print_json(result.as_dict())
    else:
        sys.stdout.write(format_text(result))
    return 0


def format_text(result) -> str:
    from reportgen.analyze.gc import GCComparison
    from reportgen.render.gc_pages import summary_rows

    out = []
    if isinstance(result, GCComparison):
        out += [result.answer, ""]
        width = max(len(d["label"]) for d in result.deltas) if result.deltas else 0
        for d in result.deltas:
            change = (signed_percent(d["change_pct"], 0) if d["change_pct"] is not None
                      else f"{d['change']:+g} points" if d["unit"] == "%" else f"{d['change']:+g}")
            # the unit belongs to the two figures, not to the change (-51%, -3 points)
            out.append(f"  {d['label']:<{width}}  {d['base']:>10.4g} → {d['target']:<10.4g} "
                       f"{d['unit']:<5} {change}".rstrip())
        out.append("")
        runs = [("before", result.base), ("after", result.target)]
    else:
        runs = [("", result)]
    for label, a in runs:
        if label:
            out.append(f"{label}: {a.path}")
        out += a.answers
        for k, v in summary_rows(a):
            out.append(f"  {k}: {v}")
        if a.skipped:
            out.append(f"  {len(a.skipped)} trace lines skipped (first: line {a.skipped[0][0]}, "
                       f"{a.skipped[0][1]})")
        out.append("")
    return "\n".join(out)
