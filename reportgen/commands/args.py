"""Argument types shared by the subcommands."""

from __future__ import annotations

import argparse
import math


def positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a whole number") from None
    if n <= 0:
        raise argparse.ArgumentTypeError("must be positive")
    return n


def count_or_all(text: str):
    """A positive number, or None for 'all'."""
    return None if text == "all" else positive(text)


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
