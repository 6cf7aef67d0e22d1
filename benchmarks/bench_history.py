#!/usr/bin/env python3
"""Benchmark `reportgen history`: a 60-run history site built in full, then
incrementally with a 61st run, and the full build with --jobs 1 and 2.

The runs are the nightly example's ten nights (examples/nightly/runs),
repeated as night-001 ... night-061; each copy gets one extra benchmark line
so that every run's files, hence its cache key, are its own.

Prints the median wall and CPU time of each (fresh site for every full
build), the ratio incremental / full (target <= 0.1; against the --jobs 2
build, and against --jobs 1, since one new night is mostly serial) and
jobs-2 / jobs-1.
On a machine other jobs share, the CPU times are the steadier measure.

reportgen runs as installed: its modules' bytecode compiled once, into a
cache beside the runs (PYTHONPYCACHEPREFIX), as `pip install` does, even
where PYTHONDONTWRITEBYTECODE is set (then every run would compile all of
reportgen again, about 0.15 s of CPU that no installed copy pays);
--no-bytecode measures that case.

Stdlib only; runs reportgen as `python -m reportgen` from this checkout.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_report import installed_env

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
EXAMPLE = REPO / "examples" / "nightly" / "runs"
TARGET_RATIO = 0.1


def make_runs(dest: Path, count: int) -> list[Path]:
    nights = sorted(p for p in EXAMPLE.iterdir() if p.is_dir())
    out = []
    for i in range(count):
        d = dest / f"night-{i + 1:03d}"
        shutil.copytree(nights[i % len(nights)], d)
        with open(d / "bench.txt", "a") as f:  # a file of its own: its own cache key
            f.write(f"BenchmarkCopy-2  1000  {1000 + i}.0 ns/op\n")
        out.append(d)
    return out


def timed(args: list, env: dict | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds of reportgen and its worker processes)."""
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "reportgen", "history", *map(str, args)],
                          cwd=REPO, capture_output=True, text=True, env=env)
    took = time.perf_counter() - start
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):
        sys.exit(f"reportgen history failed ({proc.returncode}):\n{proc.stderr}")
    return took, (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=60, help="runs in the history (default 60)")
    ap.add_argument("--repeat", type=int, default=3, help="timings of each (default 3)")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument("--check", action="store_true",
                    help="exit 1 if the CPU ratio target is missed")
    ap.add_argument("--no-bytecode", action="store_true",
                    help="run with the environment's bytecode setting as it is (with "
                         "PYTHONDONTWRITEBYTECODE, every run compiles reportgen again)")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-history-") as tmp:
        tmp = Path(tmp)
        env = installed_env(None if a.no_bytecode else tmp / "pycache")
        runs = make_runs(tmp / "all", a.runs + 1)
        hist = tmp / "runs"
        hist.mkdir()
        for d in runs[:-1]:
            (hist / d.name).symlink_to(d)
        results: dict[str, list] = {"full_jobs1": [], "full_jobs2": [], "incremental": []}
        for rep in range(a.repeat):
            for jobs in (1, 2):
                site = tmp / f"site-{jobs}-{rep}"
                results[f"full_jobs{jobs}"].append(timed([hist, "-o", site, "--jobs", jobs],
                                                         env))
            # The 61st night arrives: rebuild the jobs-2 site in place.
            site = tmp / f"site-2-{rep}"
            (hist / runs[-1].name).symlink_to(runs[-1])
            results["incremental"].append(timed([hist, "-o", site, "--jobs", 2], env))
            (hist / runs[-1].name).unlink()
        med = {k: statistics.median(t[0] for t in v) for k, v in results.items()}
        cpu = {k: statistics.median(t[1] for t in v) for k, v in results.items()}
        out = {"runs": a.runs, "bytecode": not a.no_bytecode, "times": results,
               "medians": med, "cpu_medians": cpu,
               "incremental_over_full": med["incremental"] / med["full_jobs2"],
               "incremental_over_full_cpu": cpu["incremental"] / cpu["full_jobs2"],
               # one night is mostly serial: against a full build on one core too
               "incremental_over_full_jobs1": med["incremental"] / med["full_jobs1"],
               "incremental_over_full_jobs1_cpu": cpu["incremental"] / cpu["full_jobs1"],
               "jobs2_over_jobs1": med["full_jobs2"] / med["full_jobs1"]}
    if a.json:
        print(json.dumps(out, indent=1))
    else:
        print(f"{a.runs} runs, median of {a.repeat} (wall, and CPU of all processes):")
        for k, label in (("full_jobs1", "full build, --jobs 1"),
                         ("full_jobs2", "full build, --jobs 2"),
                         ("incremental", f"+ run {a.runs + 1} (incremental)")):
            print(f"  {label:28} {med[k]:7.2f} s  {cpu[k]:7.2f} s CPU")
        print(f"  ratio incremental / full     {out['incremental_over_full']:7.3f}  "
              f"{out['incremental_over_full_cpu']:7.3f} CPU (target <= {TARGET_RATIO})")
        print(f"    against --jobs 1           {out['incremental_over_full_jobs1']:7.3f}  "
              f"{out['incremental_over_full_jobs1_cpu']:7.3f} CPU")
        print(f"  ratio jobs 2 / jobs 1        {out['jobs2_over_jobs1']:7.3f}")
    return 1 if a.check and out["incremental_over_full_cpu"] > TARGET_RATIO else 0


if __name__ == "__main__":
    sys.exit(main())
