"""Argument types shared by the subcommands."""

from __future__ import annotations

import argparse


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
