#!/usr/bin/env python3
"""Many profiles: one `reportgen build` of 50 profiles of ~5k stacks, serial, parallel, on Dask.

    python benchmarks/bench_fleet.py [--profiles 50] [--stacks 5000] [--runs 2] [--no-dask]

The profiles are fleet.py's (seeded, service-shaped, CPU and heap in turn),
kept in benchmarks/data/fleet/. Each round runs, one after another: `reportgen
build --jobs 1`, `--jobs 2`, `--scheduler` on a 2-worker Dask LocalCluster
(processes, 127.0.0.1) started by this script, and `go tool pprof -top` on
each of the files in turn. Printed: median wall and CPU time of each
(CPU: user + system of the build and its pool workers; for Dask also the
workers' CPU), the --jobs 2 speed-up (issue 15's target: >= 1.7 on 2
cores), Dask's overhead against --jobs 2, and the serial build against the
50 pprof runs. The three builds must write byte-identical reports; the
script checks it. Not a timed test: a measurement to read.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import resource
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_report import REPO, find_go, reportgen_env, run_child  # noqa: E402
from fleet import make_profile  # noqa: E402


def make_fleet(directory: Path, profiles: int, stacks: int, seed: int = 1) -> list[Path]:
    """fleet.py's profiles (CPU and heap in turn, seeded), kept in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(profiles):
        kind = "cpu" if i % 2 == 0 else "heap"
        path = directory / f"{kind}-{i:03d}-{stacks}.pb.gz"
        if not path.exists():
            tmp = path.with_name(path.name + ".tmp")
            make_profile(tmp, kind, stacks, seed * 1000 + i)
            tmp.replace(path)
        paths.append(path)
    return paths


def _cpu_self() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def identical(a: Path, b: Path) -> bool:
    c = filecmp.dircmp(a, b)
    stack = [c]
    while stack:
        d = stack.pop()
        if d.left_only or d.right_only or d.funny_files:
            return False
        if filecmp.cmpfiles(d.left, d.right, d.common_files, shallow=False)[1:] != ([], []):
            return False
        stack.extend(d.subdirs.values())
    return True


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--profiles", type=int, default=50)
    ap.add_argument("--stacks", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=2, help="rounds (default 2)")
    ap.add_argument("--no-dask", action="store_true", help="skip the Dask LocalCluster build")
    ap.add_argument("--go", help="go binary (default: `go` on PATH)")
    a = ap.parse_args(argv)
    go = find_go(a.go)
    files = [str(p) for p in make_fleet(HERE / "data" / "fleet", a.profiles, a.stacks)]
    env = reportgen_env()   # bytecode compiled once, as installed
    go_env = dict(os.environ, GOTOOLCHAIN="local", GOPROXY="off")
    build = [sys.executable, "-m", "reportgen", "build", *files]
    configs = {"jobs1": ["--jobs", "1"], "jobs2": ["--jobs", "2"]}
    cluster = client = None
    if not a.no_dask:
        from distributed import Client, LocalCluster
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address="127.0.0.1:0")
        client = Client(cluster)
        configs["dask"] = ["--scheduler", cluster.scheduler_address]

    def workers_cpu() -> float:
        return sum(client.run(_cpu_self).values()) if client else 0.0

    load = [os.getloadavg()[0]]
    results: dict = {name: [] for name in [*configs, "pprof"]}
    work = Path(tempfile.mkdtemp(prefix="reportgen-fleet-"))
    try:
        run_child("go tool pprof (warm-up)", [go, "tool", "pprof", "-top", files[0]], env=go_env)
        for i in range(a.runs):
            for name, extra in configs.items():
                out = work / f"{name}-{i}"
                before = workers_cpu() if name == "dask" else 0.0
                r = run_child(f"reportgen build {' '.join(extra)}", [*build, "-o", str(out), *extra],
                              env=env, cwd=REPO)
                if name == "dask":
                    r["cpu_s"] += workers_cpu() - before
                results[name].append(r)
                print(f"bench_fleet: round {i + 1} {name}: {r['wall_s']:.1f} s wall, "
                      f"{r['cpu_s']:.1f} s CPU", file=sys.stderr)
            for name in configs:
                if name != "jobs1" and not identical(work / f"jobs1-{i}", work / f"{name}-{i}"):
                    print(f"bench_fleet: ERROR: {name} report differs from --jobs 1", file=sys.stderr)
                    return 1
            total = {"wall_s": 0.0, "cpu_s": 0.0, "maxrss_bytes": 0}
            for f in files:
                r = run_child("go tool pprof -top", [go, "tool", "pprof", "-top", f], env=go_env)
                total["wall_s"] += r["wall_s"]
                total["cpu_s"] += r["cpu_s"]
            results["pprof"].append(total)
            print(f"bench_fleet: round {i + 1} {len(files)} x pprof -top: {total['wall_s']:.1f} s "
                  f"wall, {total['cpu_s']:.1f} s CPU", file=sys.stderr)
            load.append(os.getloadavg()[0])
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if client:
            client.close()
            cluster.close()

    med = {name: {m: statistics.median(r[m] for r in runs) for m in ("wall_s", "cpu_s")}
           for name, runs in results.items()}
    label = {"jobs1": "reportgen build --jobs 1", "jobs2": "reportgen build --jobs 2",
             "dask": "reportgen build, Dask 2 workers", "pprof": f"{len(files)} x go tool pprof -top"}
    print(f"{len(files)} profiles of ~{a.stacks} stacks, medians of {a.runs} rounds:")
    for name, m in med.items():
        print(f"  {label[name]:<34} {m['wall_s']:7.2f} s wall {m['cpu_s']:7.2f} s CPU")
    j1, j2 = med["jobs1"], med["jobs2"]
    print(f"speed-up --jobs 2 over --jobs 1: {j1['wall_s'] / j2['wall_s']:.2f}x wall "
          f"(target >= 1.7); CPU {j2['cpu_s'] / j1['cpu_s']:.2f}x of serial "
          f"(so at best {2 * j1['cpu_s'] / j2['cpu_s']:.2f}x on 2 idle cores)")
    if "dask" in med:
        d = med["dask"]
        print(f"Dask overhead against --jobs 2: {d['wall_s'] / j2['wall_s']:.2f}x wall, "
              f"{d['cpu_s'] / j2['cpu_s']:.2f}x CPU")
    p = med["pprof"]
    print(f"serial build against {len(files)} x pprof -top: {j1['wall_s'] / p['wall_s']:.2f} wall, "
          f"{j1['cpu_s'] / p['cpu_s']:.2f} CPU; --jobs 2: {j2['wall_s'] / p['wall_s']:.2f} wall")
    print(f"load average during the runs: {min(load):.1f}-{max(load):.1f} on {os.cpu_count()} "
          f"CPUs (wall-time ratios mean little above the CPU count)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
