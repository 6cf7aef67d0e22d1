#!/usr/bin/env python3
"""Benchmark `reportgen trace` against `go tool trace -pprof=sched` on a large trace.

Runs, alternately and --runs times each:

  (a) go tool trace -pprof=sched TRACE                  (stdout to /dev/null)
  (b) python -m reportgen trace TRACE --write-profiles DIR
  (c) python -m reportgen build TRACE -o OUTDIR         (the full trace page)

and prints the medians, the reportgen/go time ratios (wall and CPU), and
reportgen's peak RSS. The trace comes from benchmarks/busytrace (a busy
service: loopback HTTP, a contended mutex, a channel pipeline, GC), made
on first use with --seconds of tracing (20 s gives about 20 MB).

Targets (issue 14): ratio <= 1, peak RSS < 2 GiB.

Stdlib only; shares the child runner of bench_report.py. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from bench_report import ChildFailed, find_go, mib, reportgen_env, run_child  # noqa: E402

DEFAULT_TRACE = HERE / "data" / "busy.trace"
TARGET_RATIO = 1.0
TARGET_RSS_MIB = 2048.0


def ensure_trace(path: Path, go: str, seconds: int):
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    binary = path.parent / "busytrace"
    print(f"bench_trace: building busytrace and tracing it for {seconds}s ...", file=sys.stderr)
    subprocess.run([go, "build", "-o", str(binary), "."], cwd=HERE / "busytrace", check=True)
    subprocess.run([str(binary), str(path), str(seconds)], check=True)


def cpu_seconds() -> float:
    r = os.times()
    return r.children_user + r.children_system


def timed(label, cmd, env, cwd=None) -> dict:
    before = cpu_seconds()
    out = run_child(label, cmd, env=env, cwd=cwd)
    out["cpu_s"] = cpu_seconds() - before
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--trace", type=Path,
                    help="trace to bench (default benchmarks/data/busy.trace, made if missing)")
    ap.add_argument("--seconds", type=int, default=20, help="trace length when making it")
    ap.add_argument("--go", help="go binary (default: `go` on PATH)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = ap.parse_args(argv)
    go = find_go(args.go)
    trace = (args.trace or DEFAULT_TRACE).resolve()
    if args.trace is None:
        ensure_trace(trace, go, args.seconds)
    env = reportgen_env()   # bytecode compiled once, as installed
    go_env = dict(os.environ, GOTOOLCHAIN="local", GOPROXY="off")
    go_cmd = [go, "tool", "trace", "-pprof=sched", str(trace)]
    work = Path(tempfile.mkdtemp(prefix="reportgen-bench-trace-"))
    runs = {"go": [], "trace": [], "build": []}
    try:
        run_child("go tool trace (warm-up)", go_cmd, env=go_env)
        for i in range(args.runs):
            runs["go"].append(timed("go tool trace -pprof=sched", go_cmd, go_env))
            runs["trace"].append(timed("reportgen trace --write-profiles", [
                sys.executable, "-m", "reportgen", "trace", str(trace), "--write-profiles",
                str(work / f"p{i}")], env, REPO))
            runs["build"].append(timed("reportgen build", [
                sys.executable, "-m", "reportgen", "build", str(trace), "-o",
                str(work / f"s{i}")], env, REPO))
            print(f"bench_trace: run {i + 1}/{args.runs}: go {runs['go'][-1]['wall_s']:.2f}s, "
                  f"trace {runs['trace'][-1]['wall_s']:.2f}s, build "
                  f"{runs['build'][-1]['wall_s']:.2f}s", file=sys.stderr)
        site = sum(f.stat().st_size for f in (work / f"s{args.runs - 1}").rglob("*")
                   if f.is_file())
    except ChildFailed as e:
        print(e, file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(work, ignore_errors=True)
    med = {k: {m: statistics.median(r[m] for r in v) for m in ("wall_s", "cpu_s")}
           for k, v in runs.items()}
    rss = {k: mib(max(r["maxrss_bytes"] for r in v)) for k, v in runs.items()}
    summary = {
        "trace_mib": mib(trace.stat().st_size), "median": med, "peak_rss_mib": rss,
        "ratio_trace_wall": med["trace"]["wall_s"] / med["go"]["wall_s"],
        "ratio_build_wall": med["build"]["wall_s"] / med["go"]["wall_s"],
        "ratio_trace_cpu": med["trace"]["cpu_s"] / med["go"]["cpu_s"],
        "ratio_build_cpu": med["build"]["cpu_s"] / med["go"]["cpu_s"],
        "site_mib": mib(site),
    }
    # CPU, not wall: on a shared machine the wall ratio moves with the load.
    summary["ok"] = (max(summary["ratio_trace_cpu"], summary["ratio_build_cpu"]) <= TARGET_RATIO
                     and max(rss["trace"], rss["build"]) < TARGET_RSS_MIB)
    if args.json:
        print(json.dumps({"trace": str(trace), "summary": summary, "runs": runs}, indent=1))
    else:
        print(f"trace                      {trace} ({summary['trace_mib']:.1f} MiB)")
        for k, label in (("go", "go tool trace -pprof=sched"), ("trace", "reportgen trace -w"),
                         ("build", "reportgen build (page)")):
            print(f"{label:<26} {med[k]['wall_s']:7.2f} s wall  {med[k]['cpu_s']:7.2f} s cpu  "
                  f"{rss[k]:6.0f} MiB peak")
        print(f"ratio trace/go             {summary['ratio_trace_wall']:.2f} wall, "
              f"{summary['ratio_trace_cpu']:.2f} cpu   (target <= {TARGET_RATIO})")
        print(f"ratio build/go             {summary['ratio_build_wall']:.2f} wall, "
              f"{summary['ratio_build_cpu']:.2f} cpu")
        print(f"report size                {summary['site_mib']:.2f} MiB")
    return 1 if args.check and not summary["ok"] else 0


if __name__ == "__main__":
    sys.exit(main())
