"""`reportgen bench OLD NEW`: compare two `go test -bench` outputs, like benchstat."""

from __future__ import annotations

import argparse
import json
import sys


def _fraction(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text}") from None
    if not 0 < v < 1:
        raise argparse.ArgumentTypeError("must be between 0 and 1, like 0.05")
    return v


def register(sub, common):
    b = sub.add_parser("bench", parents=[common], help="compare two benchmark outputs",
                       description="Compare `go test -bench` output before and after a change, "
                                   "like benchstat: medians with 95%% confidence intervals and "
                                   "a Mann-Whitney U test per benchmark and unit, with "
                                   "benchstat's numbers.")
    b.add_argument("old", metavar="OLD.txt", help="benchmark output before the change")
    b.add_argument("new", metavar="NEW.txt", help="benchmark output after the change")
    b.add_argument("--alpha", type=_fraction, default=0.05, metavar="A",
                   help="significance level of the test (default 0.05)")
    b.add_argument("--format", choices=["text", "json"], default="text")
    b.set_defaults(run=run)


def run(args) -> int:
    from reportgen.analyze.benchstat import compare
    from reportgen.render.bench_pages import format_text
    from reportgen.sources.bench import load_bench

    base = load_bench(args.old)
    # benchfmt keeps Unit lines across files: the new file sees (and may conflict with) the old's.
    result = compare(base, load_bench(args.new, base.unit_meta), alpha=args.alpha)
    if args.format == "json":
        json.dump(result.as_dict(), sys.stdout, indent=1, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(format_text(result))
    return 0
