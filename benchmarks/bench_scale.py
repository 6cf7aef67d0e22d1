#!/usr/bin/env python3
"""Scaling: `reportgen build` vs `go tool pprof -top` at 1x to 8x the large heap profile.

    python benchmarks/bench_scale.py [--sizes 1,2,4,6,8] [--runs 2]

The profiles are benchmarks/largeheap's walks with -walks 175000*k
(benchmarks/data/large-Kx.heap.pb.gz, git-ignored; 1x is large.heap.pb.gz
from make_large_profile.sh), generated on first use. For each size, the two
commands run alternately --runs times; the table shows per size the samples,
median wall and CPU time of each, the reportgen/pprof ratios and peak RSS,
then the growth exponent of each tool's CPU time in the number of samples
(least squares on log-log; 1.0 is linear). Issue 15's targets: ratio <= 0.10
at 1x, linear growth, peak RSS under 2 GiB for the 1M-sample profile (6x).
Not a timed test: a measurement to read.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_report import MAKE_PROFILE, REPO, find_go, mib, reportgen_env, run_child  # noqa: E402

DATA = HERE / "data"
WALKS = 175_000
RSS_TARGET_MIB = 2048


def profile_for(k: int, go: str) -> Path:
    """The k-times profile, generated (deterministically: fixed seeds) if missing."""
    if k == 1:
        path = DATA / "large.heap.pb.gz"
        if not path.exists():
            subprocess.run(["bash", str(MAKE_PROFILE)], check=True, stdout=sys.stderr)
        return path
    path = DATA / f"large-{k}x.heap.pb.gz"
    if path.exists():
        return path
    binary = DATA / "largeheap-bin"
    env = dict(os.environ, GOTOOLCHAIN="local", GOPROXY="off", GOFLAGS="-mod=mod")
    if not binary.exists():
        src = HERE / "largeheap"
        subprocess.run([go, "run", "gen.go", "-o", "funcs_gen.go"], cwd=src, env=env, check=True)
        subprocess.run([go, "build", "-o", str(binary), "."], cwd=src, env=env, check=True)
    tmp = path.with_suffix(".tmp")
    print(f"bench_scale: generating {path.name} ...", file=sys.stderr)
    subprocess.run([str(binary), "-walks", str(WALKS * k), "-o", str(tmp)], check=True,
                   stdout=sys.stderr)
    tmp.replace(path)
    return path


def count_samples(path: Path) -> int:
    code = ("import sys; from reportgen.sources import load_profile; "
            "print(load_profile(sys.argv[1], 1 << 32).num_samples)")
    out = subprocess.run([sys.executable, "-c", code, str(path)], cwd=REPO, check=True,
                         capture_output=True, text=True)
    return int(out.stdout)


def exponent(xs: list[float], ys: list[float]) -> float:
    """Slope of log y against log x (least squares)."""
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    mx, my = statistics.fmean(lx), statistics.fmean(ly)
    return (sum((a - mx) * (b - my) for a, b in zip(lx, ly))
            / sum((a - mx) ** 2 for a in lx))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="1,2,4,6,8",
                    help="multiples of 175k walks (default 1,2,4,6,8; 6x is ~1M samples)")
    ap.add_argument("--runs", type=int, default=2, help="alternating runs per size (default 2)")
    ap.add_argument("--go", help="go binary (default: `go` on PATH)")
    ap.add_argument("--jobs", default="1", help="reportgen build --jobs (default 1)")
    a = ap.parse_args(argv)
    go = find_go(a.go)
    go_env = dict(os.environ, GOTOOLCHAIN="local", GOPROXY="off")
    env = reportgen_env()
    sizes = [int(k) for k in a.sizes.split(",")]
    profiles = {k: profile_for(k, go) for k in sizes}
    run_child("go tool pprof (warm-up)", [go, "tool", "pprof", "-top", str(profiles[sizes[0]])],
              env=go_env)
    rows = []
    work = Path(tempfile.mkdtemp(prefix="reportgen-scale-"))
    try:
        for k in sizes:
            path = profiles[k]
            res = {"pprof": [], "reportgen": []}
            for i in range(a.runs):
                res["pprof"].append(run_child("go tool pprof -top",
                                              [go, "tool", "pprof", "-top", str(path)], env=go_env))
                out = work / f"{k}-{i}"
                res["reportgen"].append(run_child(
                    "reportgen build", [sys.executable, "-m", "reportgen", "build", str(path),
                                        "-o", str(out), "--jobs", a.jobs], env=env, cwd=REPO))
                shutil.rmtree(out, ignore_errors=True)
                print(f"bench_scale: {k}x run {i + 1}: pprof {res['pprof'][-1]['cpu_s']:.2f} s CPU, "
                      f"reportgen {res['reportgen'][-1]['cpu_s']:.2f} s CPU", file=sys.stderr)
            med = {t: {m: statistics.median(x[m] for x in runs) for m in ("wall_s", "cpu_s")}
                   for t, runs in res.items()}
            rss = {t: max(x["maxrss_bytes"] for x in runs) for t, runs in res.items()}
            rows.append((k, count_samples(path), path.stat().st_size, med, rss))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"{'size':>4} {'samples':>9} {'gz MiB':>6} | {'pprof wall':>10} {'cpu':>7} "
          f"{'RSS MiB':>7} | {'reportgen wall':>14} {'cpu':>7} {'RSS MiB':>7} | "
          f"{'ratio wall':>10} {'ratio cpu':>9}")
    for k, n, size, med, rss in rows:
        p, r = med["pprof"], med["reportgen"]
        print(f"{k:>3}x {n:>9} {mib(size):>6.1f} | {p['wall_s']:>9.2f}s {p['cpu_s']:>6.2f}s "
              f"{mib(rss['pprof']):>7.0f} | {r['wall_s']:>13.2f}s {r['cpu_s']:>6.2f}s "
              f"{mib(rss['reportgen']):>7.0f} | {r['wall_s'] / p['wall_s']:>10.3f} "
              f"{r['cpu_s'] / p['cpu_s']:>9.3f}")
    if len(rows) > 1:
        ns = [n for _, n, *_ in rows]
        for tool in ("pprof", "reportgen"):
            e = exponent(ns, [med[tool]["cpu_s"] for *_, med, _ in rows])
            print(f"growth exponent of {tool} CPU time in samples: {e:.2f} (1.0 = linear)")
    big = [(n, rss["reportgen"]) for _, n, _, _, rss in rows if n >= 1_000_000]
    for n, r in big:
        print(f"reportgen peak RSS at {n} samples: {mib(r):.0f} MiB "
              f"(target < {RSS_TARGET_MIB} MiB: {'OK' if mib(r) < RSS_TARGET_MIB else 'MISSED'})")
    print(f"targets: ratio <= 0.10 (issue 15); load average now {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs (wall times are unreliable when it exceeds the CPUs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
