"""`reportgen build`: a report site from a manifest or from profile files."""

from __future__ import annotations

from reportgen.commands.args import jobs, count


def register(sub, common):
    b = sub.add_parser("build", parents=[common], help="build a report site",
                       description="Build a report from a site.yml manifest or from profile files.")
    b.add_argument("inputs", nargs="*", metavar="site.yml | PROFILE",
                   help="a manifest, or profile files (default: ./site.yml)")
    b.add_argument("-o", "--output", metavar="DIR", help="output directory (default: site/, "
                                                          "or the manifest's output)")
    b.add_argument("--flame-files", action="store_true",
                   help="also write every flame graph as a standalone SVG under flame/")
    b.add_argument("--single-file", metavar="FILE.html",
                   help="write the whole report as one HTML file (pages, data and flame "
                        "graphs inline; opens offline) instead of a directory")
    b.add_argument("--base-count", type=count, metavar="N",
                   help="bare files: units of work (requests, iterations) during the first "
                        "capture of each diff; with --target-count, diffs compare per unit")
    b.add_argument("--target-count", type=count, metavar="N",
                   help="bare files: units of work during the last capture of each diff")
    b.add_argument("-j", "--jobs", type=jobs, metavar="N",
                   help="worker processes for per-profile work (default: the CPU count; "
                        "1: serial); the output is the same for every N")
    b.add_argument("--scheduler", metavar="ADDRESS",
                   help="send per-profile work to this Dask scheduler (tcp://host:8786); "
                        "needs pip install 'reportgen[dask]'")
    b.set_defaults(run=run)


def run(args) -> int:
    from reportgen.build import build_from_args
    from reportgen.errors import UsageError

    if (args.base_count is None) != (args.target_count is None):
        raise UsageError("build", "give both --base-count and --target-count, or neither")
    if args.single_file and (args.output or args.flame_files):
        # the single file holds everything: a directory or standalone SVGs would be ignored
        other = "-o" if args.output else "--flame-files"
        raise UsageError("build", f"--single-file writes one file; it does not go with {other}")
    counts = (args.base_count, args.target_count) if args.base_count else None
    out = build_from_args(args.inputs, args.output, args.max_decompressed, counts,
                          flame_files=args.flame_files, single_file=args.single_file,
                          max_samples=args.max_samples, jobs=args.jobs,
                          scheduler=args.scheduler)
    print(f"wrote {out}")
    return 0
