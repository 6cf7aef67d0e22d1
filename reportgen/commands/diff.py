"""`reportgen diff BASE TARGET`: what changed between two profiles."""

from __future__ import annotations

import sys

from reportgen.commands.args import print_json, count


def register(sub, common):
    d = sub.add_parser("diff", parents=[common], help="compare two profiles",
                       description="Target minus base, like go tool pprof -diff_base, with "
                                   "the functions that grew and shrank most.")
    d.add_argument("base")
    d.add_argument("target")
    d.add_argument("--sample-index", metavar="NAME", help="sample type (default: pprof's)")
    d.add_argument("--normalize", action="store_true",
                   help="scale the target to the base's total first (pprof -normalize)")
    d.add_argument("--mode", choices=["diff_base", "base"], default="diff_base",
                   help="diff_base: percentages of the base total (default); "
                        "base: equal stacks cancel (pprof -base)")
    d.add_argument("--granularity", default="functions",
                   choices=["functions", "filefunctions", "lines", "files"])
    d.add_argument("--base-count", type=count, metavar="N",
                   help="units of work during the base capture (requests, iterations): "
                        "with --target-count, compare values per unit")
    d.add_argument("--target-count", type=count, metavar="N",
                   help="units of work during the target capture")
    d.add_argument("--format", choices=["text", "json"], default="text")
    d.set_defaults(run=run)


def run(args) -> int:
    from reportgen.analyze.diff_answer import diff_answer
    from reportgen.analyze.diff import compare
    from reportgen.errors import UsageError
    from reportgen.render.pages import signed_label
    from reportgen.render.text import format_top
    from reportgen.sources import load_profile

    base = load_profile(args.base, args.max_decompressed, args.max_samples)
    target = load_profile(args.target, args.max_decompressed, args.max_samples)
    if (args.base_count is None) != (args.target_count is None):
        raise UsageError("diff", "give both --base-count and --target-count, or neither")
    diff = compare(base, target, args.base, args.target, args.sample_index, args.mode,
                   args.normalize, args.granularity, base_count=args.base_count,
                   target_count=args.target_count)
    if args.format == "json":
        print_json({**diff.as_dict(), "answer": diff_answer(diff).as_dict()}, ascii_only=True)
        return 0
    sys.stdout.write(diff_answer(diff).text + "\n\n")
    for title, movers in (("Shrank most (cum)", diff.shrank("cum", 10)),
                          ("Grew most (cum)", diff.grew("cum", 10))):
        sys.stdout.write(title + ":\n")
        for m in movers:
            sys.stdout.write(f"  {signed_label(m.delta_cum, diff.unit):>12}  {m.name}\n")
    sys.stdout.write("\n")
    sys.stdout.write(format_top(target, diff.table,
                                duration_nanos=base.duration_nanos + target.duration_nanos,
                                time_nanos=min((p.time_nanos for p in (base, target)
                                                if p.time_nanos), default=0)))
    return 0
