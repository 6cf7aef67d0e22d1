#!/usr/bin/env python3
"""Benchmark `reportgen leaks` on large goroutine dumps against the floor.

    python benchmarks/bench_dumps.py [--runs 3] [--goroutines 100000] [--records 60000]
                                     [--data DIR] [--json] [--check]

Dumps (made once by gen_dumps.py with a fixed seed, kept in benchmarks/data/,
which git ignores): a debug=2 dump of --goroutines goroutines (~150 MB at
100k) and a debug=1 dump of --records records. For each, alternately and
--runs times:

  floor:     python -c "open(F, 'rb').read().decode().split('\\n')"   (read + split into lines)
  reportgen: python -m reportgen leaks F --format json                 (stdout to /dev/null)

and prints the median wall time, CPU time (user + system, which a shared
machine does not inflate), peak RSS, goroutines (or records) per second and
the ratio to the floor. Targets: under 3 s and 600 MiB each (--check exits 1
when one is missed). Stdlib only.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

from bench_report import REPO, ChildFailed, mib, run_child

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
TARGET_S = 3.0
TARGET_RSS_MIB = 600.0
FLOOR = "import sys; open(sys.argv[1], 'rb').read().decode('utf-8', 'replace').split('\\n')"


def ensure_dump(kind: str, size: int, seed: int, data: Path = DATA) -> Path:
    path = data / f"dump-{kind}-{size}-seed{seed}.txt"
    if not path.exists():
        data.mkdir(parents=True, exist_ok=True)
        flag = "--goroutines" if kind == "debug2" else "--records"
        print(f"bench_dumps: writing {path.name} ...", file=sys.stderr)
        subprocess.run([sys.executable, str(HERE / "gen_dumps.py"), kind, str(path), flag,
                        str(size), "--seed", str(seed)], check=True)
    return path


def bench(path: Path, units: int, runs: int) -> dict:
    floor, ours = [], []
    for _ in range(runs):
        floor.append(run_child("floor", [sys.executable, "-c", FLOOR, str(path)]))
        ours.append(run_child("reportgen leaks", [sys.executable, "-m", "reportgen", "leaks",
                                                  str(path), "--format", "json"], cwd=REPO))

    def med(rows, key):
        return statistics.median(r[key] for r in rows)
    out = {"file": path.name, "bytes": path.stat().st_size, "units": units,
           "floor_wall_s": med(floor, "wall_s"), "floor_cpu_s": med(floor, "cpu_s"),
           "floor_peak_rss_mib": mib(max(r["maxrss_bytes"] for r in floor)),
           "wall_s": med(ours, "wall_s"), "cpu_s": med(ours, "cpu_s"),
           "peak_rss_mib": mib(max(r["maxrss_bytes"] for r in ours)), "runs": ours}
    out["per_second"] = units / out["wall_s"]
    out["ratio_to_floor"] = out["wall_s"] / out["floor_wall_s"]
    out["cpu_ratio_to_floor"] = out["cpu_s"] / out["floor_cpu_s"]
    out["ok"] = out["wall_s"] < TARGET_S and out["peak_rss_mib"] < TARGET_RSS_MIB
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--goroutines", type=int, default=100_000)
    ap.add_argument("--records", type=int, default=60_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", type=Path, default=DATA, help="where the dumps are kept "
                                                            "(default benchmarks/data)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args(argv)
    results = []
    try:
        for kind, size, unit in (("debug2", a.goroutines, "goroutines"),
                                 ("debug1", a.records, "records")):
            r = bench(ensure_dump(kind, size, a.seed, a.data), size, a.runs)
            r["kind"], r["unit"] = kind, unit
            results.append(r)
    except ChildFailed as e:
        print(f"bench_dumps: {e}", file=sys.stderr)
        return 2
    if a.json:
        print(json.dumps(results, indent=1))
    else:
        for r in results:
            print(f"{r['kind']}: {r['file']} ({mib(r['bytes']):.0f} MiB, {r['units']} {r['unit']})")
            print(f"  floor (read + split lines): {r['floor_wall_s']:.2f} s wall, "
                  f"{r['floor_cpu_s']:.2f} s CPU, {r['floor_peak_rss_mib']:.0f} MiB")
            print(f"  reportgen leaks:            {r['wall_s']:.2f} s wall, {r['cpu_s']:.2f} s CPU, "
                  f"{r['peak_rss_mib']:.0f} MiB peak RSS   (target < {TARGET_S:.0f} s, "
                  f"< {TARGET_RSS_MIB:.0f} MiB: {'ok' if r['ok'] else 'MISSED'})")
            print(f"  {r['per_second']:,.0f} {r['unit']}/s; {r['ratio_to_floor']:.1f}x the floor "
                  f"(wall), {r['cpu_ratio_to_floor']:.1f}x (CPU)")
    return 1 if a.check and not all(r["ok"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
