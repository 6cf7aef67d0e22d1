"""Command line: `reportgen COMMAND ...`, in the manner of go tool pprof.

Errors the user can cause become one line on stderr and exit status 2;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from reportgen.commands import COMMANDS
from reportgen.errors import ReportgenError
from reportgen.commands.args import count
from reportgen.sources.files import (DEFAULT_MAX_DECOMPRESSED, DEFAULT_MAX_SAMPLES,
                                     MAX_DECOMPRESSED_LIMIT)

EXIT_USAGE = 2


def _size(text: str) -> int:
    """A byte count like 1073741824, 512M or 1G, from 1 byte to MAX_DECOMPRESSED_LIMIT."""
    factors = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
    t = text.strip().lower().rstrip("b")
    mult = factors.get(t[-1:], 1)
    digits = (t[:-1] if mult > 1 else t).strip()
    shown = text if len(text) <= 40 else text[:39] + "…"
    if not digits.isascii() or not digits.isdigit():
        raise argparse.ArgumentTypeError(f"not a size: {shown}")
    n = int(digits) * mult if len(digits.lstrip("0")) <= 20 else None
    if n is None or not 0 < n <= MAX_DECOMPRESSED_LIMIT:
        raise argparse.ArgumentTypeError(f"expected 1 byte to 1T, like 512M or 1G (got {shown})")
    return n


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad option is one line like every other bad input: the
    command, the option and the problem; no usage block (`-h` shows that)."""

    def error(self, message):
        line = " ".join(message.split())  # a value with a newline stays one line
        self.exit(EXIT_USAGE, f"{self.prog}: {line}\n")


def make_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    common.add_argument("--max-decompressed", type=_size, default=DEFAULT_MAX_DECOMPRESSED,
                        metavar="SIZE", help="refuse gzip input that inflates beyond SIZE "
                                             "(default 1G)")
    common.add_argument("--max-samples", type=count, default=DEFAULT_MAX_SAMPLES,
                        metavar="N", help="refuse profiles with more than N samples, before "
                                          f"decoding them (default {DEFAULT_MAX_SAMPLES})")
    parser = _Parser(
        prog="reportgen", description="Static report sites from Go profiles.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(f"reportgen.commands.{name}").register(sub, common)
    return parser


def _keep_freed_memory():
    """Ask glibc to reuse freed memory instead of returning it to the kernel.

    Analyses allocate and free many arrays of tens of MB; by default each
    one is a fresh mmap whose page faults cost more than the arithmetic.
    """
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    libc.mallopt(m_mmap_threshold, 1 << 30)
    libc.mallopt(m_trim_threshold, 1 << 31)


def main(argv=None) -> int:
    _keep_freed_memory()
    args = make_parser().parse_args(argv)
    try:
        return args.run(args)
    except ReportgenError as e:
        if args.debug:
            raise
        print(f"reportgen: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


def run() -> None:
    """The `reportgen` command (and `python -m reportgen`): main(), then exit
    without Python's teardown.

    By then every file is written and closed and every worker joined; what
    is left is freeing the heap object by object (the analyses' results,
    numpy, pygal, jinja2), about 0.15 s of CPU after an incremental history
    build of 60 runs, which the OS does at once. atexit handlers still run
    (weakref finalizers, a Dask client's close), and stdout and stderr are
    flushed first. Tests call main() and keep their interpreter.
    """
    import atexit
    import os
    code = main()
    try:
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:   # a reader that went away (`| head`): as main does
        pass
    os._exit(code)
