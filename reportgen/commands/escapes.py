"""`reportgen escapes`: allocation hints from a heap/allocs profile and the compiler's
escape analysis (go build -gcflags=-m, -m=2 or -json=0,DIR)."""

from __future__ import annotations

import argparse
import os
import sys

from reportgen.commands.args import count_or_all, print_json


def _mapping(text: str) -> tuple[str, str]:
    old, sep, new = text.partition("=")
    if not sep or not old:
        raise argparse.ArgumentTypeError("expected FROM=TO")
    return old, new


def _check_root(root: str) -> None:
    """A --source-root must be an existing directory (as the manifest's `sources`):
    a mistyped one would silently show no source lines. Raises UsageError."""
    from reportgen.errors import UsageError
    from reportgen.sources.files import input_problem

    problem = input_problem(root, allow_dir=True) or (
        None if os.path.isdir(root) else "is a file")
    if problem:
        raise UsageError(root, f"--source-root: expected an existing directory ({problem})")


def register(sub, common):
    e = sub.add_parser(
        "escapes", parents=[common], help="rank allocation sites and explain their escapes",
        description="Rank the lines that allocate most in a heap or allocs profile (runtime "
                    "helpers such as growslice count for the line that called them), with "
                    "what the compiler's escape analysis said there and a concrete fix. "
                    "Either input alone works: a profile gives ranked lines, a compiler log "
                    "gives its escapes unranked.")
    e.add_argument("profile", nargs="?", help="heap or allocs profile (optional with "
                                              "--compiler-log)")
    e.add_argument("--compiler-log", metavar="FILE|DIR",
                   help="go build -gcflags=-m or -m=2 output, or the -json=0,DIR directory")
    e.add_argument("--sample-index", metavar="NAME",
                   help="alloc_space, alloc_objects, inuse_space or inuse_objects "
                        "(default: the profile's)")
    e.add_argument("--source-root", action="append", default=[], metavar="[PREFIX=]DIR",
                   help="where to find source files to show; repeatable")
    e.add_argument("--map", action="append", default=[], type=_mapping, metavar="FROM=TO",
                   dest="path_map", help="rewrite a compiler-log path prefix before matching "
                                         "it to the profile's files; repeatable")
    e.add_argument("--limit", type=count_or_all, default=20, metavar="N|all",
                   help="show at most N hints (default 20)")
    e.add_argument("--format", choices=["text", "json"], default="text")
    e.set_defaults(run=run)


def run(args) -> int:
    from reportgen.analyze.escapes import escape_hints
    from reportgen.errors import UsageError
    from reportgen.render.escape_pages import format_text, result_dict
    from reportgen.sources import load_profile
    from reportgen.sources.escapes import SourceTree, read_compiler_log, source_roots

    if not args.profile and not args.compiler_log:
        raise UsageError("escapes", "give a profile, --compiler-log FILE|DIR, or both")
    for root in source_roots(args.source_root):
        _check_root(root["root"])
    log = read_compiler_log(args.compiler_log) if args.compiler_log else None
    profile = (load_profile(args.profile, args.max_decompressed, args.max_samples)
               if args.profile else None)
    path_map = sorted(args.path_map, key=lambda m: -len(m[0]))
    result = escape_hints(profile, log, args.sample_index, SourceTree(args.source_root),
                          path_map, args.limit)
    if args.limit and profile is None:
        result.hints = result.hints[:args.limit]
    if args.format == "json":
        print_json(result_dict(result))
    else:
        sys.stdout.write(format_text(result))
    return 0
