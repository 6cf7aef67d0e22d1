"""`reportgen leaks SNAPSHOT...`: rank goroutine leak suspects over dumps in time order."""

from __future__ import annotations

import sys

from reportgen.commands.args import print_json


def register(sub, common):
    p = sub.add_parser("leaks", parents=[common], help="rank goroutine leak suspects",
                       description="Goroutine dumps (debug=0, 1 or 2, panic output) in time "
                                   "order, optionally with heap profiles: the groups that grow, "
                                   "pile up or can never wake, ranked, with a likely cause and "
                                   "fix for each.")
    p.add_argument("snapshots", nargs="+", metavar="SNAPSHOT",
                   help="goroutine dumps in time order; heap profiles among them are read as "
                        "the heap series")
    p.add_argument("--ignore", action="append", default=[], metavar="REGEX",
                   help="never suspect goroutines with a frame matching REGEX (repeatable)")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--fail", action="store_true",
                   help="exit with status 1 when there is a suspect (for CI)")
    p.set_defaults(run=run)


def run(args) -> int:
    from reportgen.analyze.goroutines import as_snapshot
    from reportgen.analyze.leaks import find_leaks, pick_series
    from reportgen.render.goroutine_pages import leaks_answer
    from reportgen.errors import UsageError
    from reportgen.regex import compile_go

    for rx in args.ignore:
        compile_go(rx, "ignore", path="--ignore")
    named = {}
    for path in args.snapshots:
        named.setdefault(path, load_any(path, args.max_decompressed, args.max_samples))
    snaps, heaps, notes = pick_series(named)
    if not snaps:
        raise UsageError(args.snapshots[0], "no goroutine dump among the inputs")
    report = find_leaks([as_snapshot(named[n]) for n in snaps], snaps, args.ignore,
                        [named[n] for n in heaps], heaps)
    for note in notes:
        print(f"reportgen: {note}", file=sys.stderr)
    if args.format == "json":
        print_json(report.as_dict())
    else:
        sys.stdout.write(format_text(report, leaks_answer(report)))
    return 1 if args.fail and report.suspects else 0


def load_any(path, max_decompressed, max_samples):
    """A goroutine dump in text (as its Snapshot: leaks needs no profile arrays), or
    anything load_profile reads."""
    from reportgen.sources import load_profile, read_bytes
    from reportgen.sources.goroutines import detect_goroutine_text, parse_goroutines

    data = read_bytes(path)
    if detect_goroutine_text(data):
        return parse_goroutines(str(path), data)
    return load_profile(path, max_decompressed, max_samples)


def format_text(report, headline: str) -> str:
    out = [headline, ""]
    for name, warning in report.warnings:
        out.append(f"warning: {name}: {warning}")
    for title, items in (("Suspects", report.suspects), ("Worth a look", report.watch)):
        if not items:
            continue
        out.append(f"{title}:")
        for s in items:
            g = s.group
            out.append(f"{s.rank:3d}. score {s.score:3d}  {' → '.join(map(str, s.counts))}  "
                       f"{g.signature}")
            if s.known:
                out.append(f"     known: {s.known.title}")
            if g.user_frame:
                out.append(f"     code: {g.user_frame.func} ({g.user_frame.file}:"
                           f"{g.user_frame.line}, via {g.user_via})")
            out.append(f"     evidence: {'; '.join(s.evidence)}")
            out.append(f"     hint: {s.hint}")
        out.append("")
    if report.heap_sites:
        out.append("Heap in use, growing allocation sites:")
        for h in report.heap_sites:
            out.append(f"  +{h.growth:>12} B  {h.func}  ({h.share:.0%} of the growth)")
        out.append("")
    return "\n".join(out)
