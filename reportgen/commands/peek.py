"""`reportgen peek PROFILE REGEX`: callers and callees, like go tool pprof -peek."""

from __future__ import annotations

import sys

from reportgen.commands.args import print_json


def register(sub, common):
    p = sub.add_parser("peek", parents=[common], help="callers and callees of functions",
                       description="Like go tool pprof -peek REGEX.")
    p.add_argument("profile")
    p.add_argument("regex", help="functions whose name matches (Python/RE2 syntax)")
    p.add_argument("--sample-index", metavar="NAME", help="sample type (default: pprof's)")
    p.add_argument("--granularity", default="functions",
                   choices=["functions", "filefunctions", "lines", "files"])
    p.add_argument("--cum", action="store_true", help="order functions by cum")
    p.add_argument("--diff-base", metavar="BASE", help="target minus BASE (pprof -diff_base)")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(run=run)


def run(args) -> int:
    from reportgen.analyze.graph import Part
    from reportgen.analyze.overflow import overflow_warnings
    from reportgen.analyze.peek import peek
    from reportgen.analyze.top import diff_parts, resolve_sample_index
    from reportgen.render.peek_text import format_peek
    from reportgen.sources import load_profile

    profile = load_profile(args.profile, args.max_decompressed, args.max_samples)
    if args.diff_base:
        base = load_profile(args.diff_base, args.max_decompressed, args.max_samples)
        parts = diff_parts(profile, base, args.sample_index)
    else:
        parts = [Part(profile, resolve_sample_index(profile, args.sample_index))]
    result = peek(parts, args.regex, args.granularity, args.cum)
    for warning in overflow_warnings(parts):
        print(f"reportgen: warning: {warning}", file=sys.stderr)
    if args.format == "json":
        print_json(result.as_dict(), ascii_only=True)
        return 0
    profiles = [p.profile for p in parts]
    sys.stdout.write(format_peek(
        profile, result, duration_nanos=sum(p.duration_nanos for p in profiles),
        time_nanos=min((p.time_nanos for p in profiles if p.time_nanos), default=0)))
    return 0
