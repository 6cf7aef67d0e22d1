"""Argument types shared by the subcommands."""

from __future__ import annotations

import argparse
import math


MAX_JOBS = 256          # each job is a forked process: more is a fork bomb, not speed
MAX_COUNT = 1 << 40     # counts (units of work, samples, runs): the manifest's bound
MAX_ROWS = (1 << 31) - 1  # N of `N|all`: the manifest's bound


def positive(text: str, most: int | None = None) -> int:
    """A whole number from 1 to `most` (no bound if None)."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number (got {_shown(text)})") \
            from None
    if n <= 0:
        raise argparse.ArgumentTypeError("must be positive")
    if most is not None and n > most:
        raise argparse.ArgumentTypeError(f"at most {most}")
    return n


def jobs(text: str) -> int:
    """`--jobs N`: 1 to MAX_JOBS worker processes."""
    return positive(text, MAX_JOBS)


def count(text: str) -> int:
    """A count such as `--base-count`, `--max-samples`, `--baseline`: 1 to 2^40, as
    in the manifest."""
    return positive(text, MAX_COUNT)


def _shown(text: str) -> str:
    """A user's value cut to a length one error line can hold."""
    return text if len(text) <= 40 else text[:39] + "…"


def count_or_all(text: str):
    """A positive number, or None for 'all'."""
    return None if text == "all" else positive(text, MAX_ROWS)


def fraction(text: str) -> float:
    """A share of the total such as 0.005: a finite number, not negative (NaN or
    inf would reach int() in the cutoff and end in a traceback)."""
    try:
        f = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a number such as 0.005") from None
    if not math.isfinite(f) or f < 0:
        raise argparse.ArgumentTypeError("expected a finite number, 0 or more, such as 0.005")
    return f


def print_json(data, ascii_only: bool = False) -> None:
    """Every command's `--format json`: indented, one trailing newline. top, peek and
    diff keep ASCII escapes (their output has always been ASCII); the rest print UTF-8."""
    import json
    import sys

    json.dump(data, sys.stdout, indent=1, ensure_ascii=ascii_only)
    sys.stdout.write("\n")
