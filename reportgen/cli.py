"""Command line: `reportgen build|top ...`, in the manner of go tool pprof.

Errors the user can cause become one line on stderr and exit status 2;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import json
import sys

from reportgen.errors import ReportgenError, UsageError
from reportgen.sources.pprof import DEFAULT_MAX_DECOMPRESSED

EXIT_USAGE = 2


def _nodes(text: str):
    if text == "all":
        return None
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a number or 'all'") from None
    if n <= 0:
        raise argparse.ArgumentTypeError("must be positive")
    return n


def _size(text: str) -> int:
    """A byte count like 1073741824, 512M or 1G."""
    factors = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    t = text.strip().lower().rstrip("b")
    mult = factors.get(t[-1:], 1)
    try:
        return int(t[:-1] if mult > 1 else t) * mult
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text}") from None


def make_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    common.add_argument("--max-decompressed", type=_size, default=DEFAULT_MAX_DECOMPRESSED,
                        metavar="SIZE", help="refuse gzip input that inflates beyond SIZE "
                                             "(default 1G)")
    parser = argparse.ArgumentParser(
        prog="reportgen", description="Static report sites from Go profiles.")
    sub = parser.add_subparsers(dest="command", required=True)

    b = sub.add_parser("build", parents=[common], help="build a report site",
                       description="Build a report from a site.yml manifest or from profile files.")
    b.add_argument("inputs", nargs="*", metavar="site.yml | PROFILE",
                   help="a manifest, or profile files (default: ./site.yml)")
    b.add_argument("-o", "--output", metavar="DIR", help="output directory (default: site/, "
                                                          "or the manifest's output)")

    t = sub.add_parser("top", parents=[common], help="print the top nodes of a profile",
                       description="Like go tool pprof -top.")
    t.add_argument("profile")
    t.add_argument("--sample-index", metavar="NAME", help="sample type (default: pprof's)")
    t.add_argument("--granularity", default="functions",
                   choices=["functions", "filefunctions", "lines", "files"])
    t.add_argument("--cum", action="store_true", help="sort by cumulative value")
    t.add_argument("--nodes", type=_nodes, default=False, metavar="N|all",
                   help="show at most N nodes; 'all' shows every node, untrimmed "
                        "(default: the nodes that pass pprof's cutoff)")
    t.add_argument("--node-fraction", type=float, default=None, metavar="F",
                   help="drop nodes with cum below F of the total "
                        "(default 0.005, or 0 with --nodes all)")
    t.add_argument("--diff-base", metavar="BASE", help="show target minus BASE, "
                                                       "with BASE's total as 100%%")
    t.add_argument("--format", choices=["text", "json"], default="text")
    return parser


def cmd_top(args) -> int:
    from reportgen.analyze.graph import Part
    from reportgen.analyze.top import DEFAULT_NODE_FRACTION, diff_parts, resolve_sample_index, top
    from reportgen.render.text import format_top
    from reportgen.sources import load_profile

    profile = load_profile(args.profile, args.max_decompressed)
    if args.diff_base:
        base = load_profile(args.diff_base, args.max_decompressed)
        parts = diff_parts(profile, base, args.sample_index)
    else:
        parts = [Part(profile, resolve_sample_index(profile, args.sample_index))]
    fraction = args.node_fraction
    if fraction is None:
        fraction = 0.0 if args.nodes is None else DEFAULT_NODE_FRACTION
    limit = args.nodes or None
    result = top(parts, args.granularity, args.cum, limit, fraction)
    if args.format == "json":
        json.dump(result.as_dict(), sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        profiles = [p.profile for p in parts]
        duration = sum(p.duration_nanos for p in profiles)
        when = min((p.time_nanos for p in profiles if p.time_nanos), default=0)
        sys.stdout.write(format_top(profile, result, duration_nanos=duration, time_nanos=when))
    return 0


def cmd_build(args) -> int:
    from reportgen.build import build_from_args

    out = build_from_args(args.inputs, args.output, args.max_decompressed)
    print(f"wrote {out}")
    return 0


COMMANDS = {"top": cmd_top, "build": cmd_build}


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
        return COMMANDS[args.command](args)
    except ReportgenError as e:
        if args.debug:
            raise
        print(f"reportgen: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
