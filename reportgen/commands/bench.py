"""`reportgen bench OLD NEW`: compare two `go test -bench` outputs, like benchstat."""

from __future__ import annotations

import argparse
import sys

from reportgen.commands.args import print_json


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
                                   "like benchstat: medians with 95% confidence intervals and "
                                   "a Mann-Whitney U test per benchmark and unit, with "
                                   "benchstat's numbers.")
    b.add_argument("old", metavar="OLD.txt", help="benchmark output before the change")
    b.add_argument("new", metavar="NEW.txt", nargs="?",
                   help="benchmark output after the change (omit it with --col)")
    b.add_argument("--col", metavar="KEY",
                   help="compare the two values of configuration KEY (such as note) in one "
                        "file, like benchstat -col KEY")
    b.add_argument("--alpha", type=_fraction, default=0.05, metavar="A",
                   help="significance level of the test (default 0.05)")
    b.add_argument("--confidence", type=_fraction, default=0.95, metavar="C",
                   help="confidence level of the median's interval (default 0.95)")
    b.add_argument("--format", choices=["text", "json"], default="text")
    b.set_defaults(run=run)


def run(args) -> int:
    from reportgen.analyze.benchstat import compare
    from reportgen.render.bench_pages import format_text
    from reportgen.errors import UsageError
    from reportgen.sources.bench import BenchError, load_bench, split_by

    base = load_bench(args.old)
    confidence = getattr(args, "confidence", 0.95)
    if getattr(args, "col", None):
        if args.new is not None:
            raise UsageError("bench", "--col compares two values inside one file: give one file")
        sides = split_by(base, args.col)
        if len(sides) != 2:
            found = ", ".join(s.results[0].config[args.col] for s in sides) or "none"
            raise BenchError(args.old, f"--col {args.col} needs exactly two values of "
                                       f"'{args.col}:' to compare (found {len(sides)}: {found})")
        result = compare(*sides, alpha=args.alpha, confidence=confidence)
    elif args.new is None:
        raise UsageError("bench", "give OLD.txt and NEW.txt, or one file and --col KEY")
    else:
        # benchfmt keeps Unit lines across files: the new file sees (and may conflict with)
        # the old's.
        result = compare(base, load_bench(args.new, base.unit_meta), alpha=args.alpha,
                         confidence=confidence)
    if args.format == "json":
        print_json(result.as_dict())
    else:
        sys.stdout.write(format_text(result))
    return 0
