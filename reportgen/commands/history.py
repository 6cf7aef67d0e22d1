"""`reportgen history RUN_DIR...`: trends over runs, regressions with their
culprits, a history site, and a CI gate."""

from __future__ import annotations

import argparse
import sys

from reportgen.commands.args import count, jobs, print_json


def _percent(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text}") from None
    if not 0 <= v <= 1000:
        raise argparse.ArgumentTypeError("expected percent (points), like 5")
    return v


def _fraction(text: str) -> float:
    from reportgen.commands.bench import _fraction as fraction
    return fraction(text)


def register(sub, common):
    h = sub.add_parser(
        "history", parents=[common], help="trends and regressions over runs (nightly pages)",
        description="Compare each run (a directory of profiles, goroutine dumps, benchmark "
                    "output captured together) with the runs before it: benchmarks as "
                    "`reportgen bench` does, functions' shares of each profile, growing "
                    "goroutine groups. Prints one line per regression; with -o, builds the "
                    "history site (incrementally).")
    h.add_argument("runs", nargs="+", metavar="RUN_DIR",
                   help="run directories oldest first, or one directory of runs (taken in "
                        "name order), or a site.yml with a history analysis")
    h.add_argument("-o", "--output", metavar="DIR",
                   help="build the history site into DIR (reusing the numbers of the runs "
                        "an earlier build there analysed)")
    h.add_argument("--format", choices=["text", "json"], default="text")
    h.add_argument("--fail-on-regression", action="store_true",
                   help="exit with status 1 when the gated run has a regression (for CI)")
    h.add_argument("--gate", choices=["newest", "any"], default=None,
                   help="which runs' regressions fail: the newest run's (default) or any run's")
    h.add_argument("--baseline", type=count, default=None, metavar="N",
                   help="compare each run with the N runs before it (default 3)")
    h.add_argument("--min-change", type=_percent, default=None, metavar="PCT",
                   help="smallest change of a benchmark's median that counts (default 5)")
    h.add_argument("--share-points", type=_percent, default=None, metavar="POINTS",
                   help="smallest growth of a function's share of a profile that counts, in "
                        "percentage points (default 5)")
    h.add_argument("--alpha", type=_fraction, default=None, metavar="A",
                   help="significance level (default 0.05)")
    h.add_argument("--jobs", type=jobs, default=None, metavar="N",
                   help="analyse up to N runs at once (default: the number of CPUs)")
    h.add_argument("--title", default=None, help="the site's title (default: Performance history)")
    h.set_defaults(run=run)


def run(args) -> int:
    from pathlib import Path

    from reportgen.analyze.history import HistoryOptions, gate
    from reportgen.history_site import build_history, manifest_history, write_history_site
    from reportgen.manifest import THEMES_DIR, load_manifest
    from reportgen.render.history_pages import format_text

    paths, title, notes, theme = args.runs, args.title, None, THEMES_DIR / "default"
    output, limit, which = args.output, args.max_decompressed, "newest"
    max_samples = args.max_samples
    options = HistoryOptions()
    if len(paths) == 1 and paths[0].endswith((".yml", ".yaml")) and Path(paths[0]).is_file():
        manifest = load_manifest(paths[0])
        runs_dir, options, which = manifest_history(manifest)
        paths, notes, theme = [str(runs_dir)], manifest.notes, Path(manifest.theme_dir)
        title = title or manifest.title
        output = output or str(manifest.output)
        limit = manifest.max_decompressed
        max_samples = manifest.max_samples or max_samples   # as `build` takes it
    given = {k: v for k, v in (("baseline", args.baseline), ("min_change", args.min_change),
                               ("share_points", args.share_points), ("alpha", args.alpha))
             if v is not None}
    options = HistoryOptions(**{**options.as_dict(), **given})
    which = args.gate or which
    target = Path(output) if output else None
    history = build_history(paths, target, options, args.jobs, theme, limit, max_samples)
    if target is not None:
        out = write_history_site(history, target, title or "Performance history", theme, notes)
        print(f"reportgen: wrote {out} (analysed {len(history.analysed)} run(s), reused "
              f"{len(history.reused)})", file=sys.stderr)
    failing = gate(history.result, which)
    if args.format == "json":
        data = history.as_dict()
        data["gate"] = {"runs": which, "regressions": len(failing)}
        print_json(data)
    else:
        # A CI log is read by people too: controls in names shown, not applied
        # (format_text writes every line with render.names.one_line).
        sys.stdout.write(format_text(history, failing if args.fail_on_regression else None))
    return 1 if args.fail_on_regression and failing else 0
