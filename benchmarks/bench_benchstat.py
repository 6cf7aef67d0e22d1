"""Times `reportgen bench` against benchstat on inputs that hit each size switch.

    python benchmarks/bench_benchstat.py [--runs N] [--benchstat PATH] [--json]

Inputs are generated into a temporary directory (nothing is committed):

- many-runs: one benchmark with 3000 runs a side (normal approximations);
- exact-no-ties: 40 benchmarks x 50 distinct runs a side (the largest exact U test);
- exact-ties: 40 benchmarks x 25 runs a side with ties (exact with ties);
- typical: 200 benchmarks x 10 runs a side, 3 units (go test -count 10).

benchstat (golang.org/x/perf/cmd/benchstat) is taken from --benchstat or PATH;
without it only reportgen's times are printed. Prints the median wall time of
each and the ratio reportgen / benchstat.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _lines(rng, names, runs, ties, shift=0.0):
    out = []
    for name in names:
        for _ in range(runs):
            v = rng.randint(100, 110) if ties else rng.uniform(100, 200)
            out.append(f"Benchmark{name}-8 1000 {v + shift:.6g} ns/op {int(v) * 8} B/op "
                       f"{int(v) // 10} allocs/op\n" if ties is None else
                       f"Benchmark{name}-8 1000 {v + shift:.6g} ns/op\n")
    return "".join(out)


def make_inputs(directory: Path) -> dict[str, tuple[Path, Path]]:
    rng = random.Random(1)
    cases = {
        "many-runs": (["X"], 3000, False),
        "exact-no-ties": ([f"N{i}" for i in range(40)], 50, False),
        "exact-ties": ([f"T{i}" for i in range(40)], 25, True),
        "typical": ([f"B{i}" for i in range(200)], 10, None),
    }
    out = {}
    for name, (names, runs, ties) in cases.items():
        old, new = directory / f"{name}-old.txt", directory / f"{name}-new.txt"
        old.write_text(_lines(rng, names, runs, ties))
        new.write_text(_lines(rng, names, runs, ties, shift=3))
        out[name] = (old, new)
    return out


def timed(cmd) -> float:
    start = time.perf_counter()
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(map(str, cmd))}\n{r.stderr[-2000:]}")
    return time.perf_counter() - start


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--benchstat", default=shutil.which("benchstat"))
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (old, new) in make_inputs(Path(tmp)).items():
            ours, theirs = [], []
            for _ in range(args.runs):
                ours.append(timed([sys.executable, "-m", "reportgen", "bench", old, new]))
                if args.benchstat:
                    theirs.append(timed([args.benchstat, old, new]))
            r = {"reportgen_s": statistics.median(ours)}
            if theirs:
                r["benchstat_s"] = statistics.median(theirs)
                r["ratio"] = r["reportgen_s"] / r["benchstat_s"]
            results[name] = r
    if args.json:
        print(json.dumps(results, indent=1))
        return 0
    for name, r in results.items():
        line = f"{name:14} reportgen {r['reportgen_s']:.3f}s"
        if "ratio" in r:
            line += f"  benchstat {r['benchstat_s']:.3f}s  ratio {r['ratio']:.1f}"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
