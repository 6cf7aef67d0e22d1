"""`reportgen top`: the top nodes of a profile, like go tool pprof -top."""

from __future__ import annotations

import sys

from reportgen.commands.args import count_or_all, fraction, print_json


def register(sub, common):
    t = sub.add_parser("top", parents=[common], help="print the top nodes of a profile",
                       description="Like go tool pprof -top.")
    t.add_argument("profile")
    t.add_argument("--sample-index", metavar="NAME", help="sample type (default: pprof's)")
    t.add_argument("--granularity", default="functions",
                   choices=["functions", "filefunctions", "lines", "files"])
    t.add_argument("--cum", action="store_true", help="sort by cumulative value")
    t.add_argument("--nodes", type=count_or_all, default=False, metavar="N|all",
                   help="show at most N nodes; 'all' shows every node, untrimmed "
                        "(default: the nodes that pass pprof's cutoff)")
    t.add_argument("--node-fraction", type=fraction, default=None, metavar="F",
                   help="drop nodes with cum below F of the total "
                        "(default 0.005, or 0 with --nodes all)")
    t.add_argument("--diff-base", metavar="BASE", help="show target minus BASE, "
                                                       "with BASE's total as 100%%")
    t.add_argument("--format", choices=["text", "json"], default="text")
    t.set_defaults(run=run)


def run(args) -> int:
    from reportgen.analyze.graph import Part
    from reportgen.analyze.top import (DEFAULT_EDGE_FRACTION, DEFAULT_NODE_FRACTION, diff_parts,
                                       resolve_sample_index, top)
    from reportgen.render.text import format_top
    from reportgen.sources import load_profile

    profile = load_profile(args.profile, args.max_decompressed, args.max_samples)
    if args.diff_base:
        base = load_profile(args.diff_base, args.max_decompressed, args.max_samples)
        parts = diff_parts(profile, base, args.sample_index)
    else:
        parts = [Part(profile, resolve_sample_index(profile, args.sample_index))]
    # `--nodes all` means every node and edge, like -nodefraction=0 -edgefraction=0.
    everything = args.nodes is None
    fraction = args.node_fraction
    if fraction is None:
        fraction = 0.0 if everything else DEFAULT_NODE_FRACTION
    edge_fraction = 0.0 if everything else DEFAULT_EDGE_FRACTION
    result = top(parts, args.granularity, args.cum, args.nodes or None, fraction, edge_fraction)
    if args.format == "json":
        print_json(result.as_dict(), ascii_only=True)
    else:
        profiles = [p.profile for p in parts]
        duration = sum(p.duration_nanos for p in profiles)
        when = min((p.time_nanos for p in profiles if p.time_nanos), default=0)
        sys.stdout.write(format_top(profile, result, duration_nanos=duration, time_nanos=when))
    return 0
