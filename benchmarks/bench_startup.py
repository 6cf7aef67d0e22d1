#!/usr/bin/env python3
"""Benchmark start-up: `reportgen top` on a small profile against `python -c pass`.

    python benchmarks/bench_startup.py [--runs 10] [--profile PATH] [--json]

Runs alternately, --runs times: `python -c pass` (the interpreter alone),
`python -c "import reportgen.cli"` (the command line, no command) and
`python -m reportgen top PROFILE` (default: the example's CPU profile, 8 KB).
Prints median wall and CPU times, the extra time over the bare interpreter,
and, from one `python -X importtime` run of `top`, the import time of each
top-level package it loads (the libraries a command pays for). Stdlib only.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
from pathlib import Path

from bench_report import REPO, ChildFailed, run_child

DEFAULT_PROFILE = REPO / "examples" / "gateway" / "profiles" / "before" / "cpu.pb.gz"
_IMPORT = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)")


def import_times(cmd: list[str]) -> dict:
    """Cumulative import time (s) of each top-level package loaded, wherever it was
    first imported (numpy by reportgen.sources.goroutines, say); reportgen's own
    includes everything it imports."""
    r = subprocess.run([sys.executable, "-X", "importtime", *cmd], cwd=REPO,
                       capture_output=True, text=True, check=True)
    out: dict = {}
    for m in _IMPORT.finditer(r.stderr):  # the outermost import of a package includes the rest
        root = m[4].split(".")[0]
        out[root] = max(out.get(root, 0.0), int(m[2]) / 1e6)
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--profile", type=Path, default=DEFAULT_PROFILE)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    cmds = {"python -c pass": [sys.executable, "-c", "pass"],
            "import reportgen.cli": [sys.executable, "-c", "import reportgen.cli"],
            "reportgen top": [sys.executable, "-m", "reportgen", "top", str(a.profile)]}
    runs: dict = {k: [] for k in cmds}
    try:
        for _ in range(a.runs):
            for label, cmd in cmds.items():
                runs[label].append(run_child(label, cmd, cwd=REPO))
    except ChildFailed as e:
        print(f"bench_startup: {e}", file=sys.stderr)
        return 2
    res = {k: {"wall_s": statistics.median(r["wall_s"] for r in v),
               "cpu_s": statistics.median(r["cpu_s"] for r in v)} for k, v in runs.items()}
    imports = import_times(["-m", "reportgen", "top", str(a.profile)])
    base = res["python -c pass"]
    if a.json:
        print(json.dumps({"medians": res, "imports_s": imports}, indent=1))
        return 0
    print(f"profile: {a.profile} ({a.profile.stat().st_size} bytes), {a.runs} runs each")
    for label, r in res.items():
        extra = "" if label == "python -c pass" else (
            f"   +{r['wall_s'] - base['wall_s']:.3f} s over the interpreter, "
            f"{r['wall_s'] / base['wall_s']:.1f}x")
        print(f"  {label:22} {r['wall_s']:.3f} s wall, {r['cpu_s']:.3f} s CPU{extra}")
    print("  imports of `reportgen top` (cumulative, one run):")
    for name, t in list(imports.items())[:8]:
        print(f"    {name:24} {t * 1000:7.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
