#!/usr/bin/env python3
"""Where a parallel build's time goes: the fleet build's CPU per process and phase,
its serial part and the speed-up that leaves on idle cores (Amdahl).

    python benchmarks/bench_parallel.py [--profiles 50] [--stacks 5000] [--rounds 3] [--jobs 2]

Wall-clock speed-ups on a machine other jobs share say little (the cores are
not ours); CPU time does not depend on how busy the machine is, so this
script measures CPU and predicts the wall time on idle cores from it.

Each round runs `reportgen build` of fleet.py's profiles (bench_fleet.py's
workload) in a fresh child process, once with `--jobs 1` and once with
`--jobs N`, with probes (this file's `_child`) that stamp process CPU and
wall time at the build's phase boundaries:

  A  start-up: imports, the manifest (sniffing the inputs)     parent only
  B  loading the profiles                                      workers (parent waits, unpickles)
  C  default analyses, navigation, forking the page pool       parent only
  D  each profile's pages on the workers, while the parent     parent and workers
     runs the analyses and renders their pages
  E  collecting the pages, the index, writing the directory    parent only

Workers' CPU is RUSAGE_CHILDREN after each pool is shut down (so it counts
their start-up, unpickling and pickling too). Printed, per configuration,
the minimum over rounds of each figure (the least disturbed run), then:

  overhead   total CPU (parent + workers) of --jobs N over --jobs 1
  serial     the parent-only CPU (A + C + E, and the parent's share of B)
             as a fraction of the --jobs 1 build's CPU
  predicted  --jobs 1 CPU / (serial + max(parallel CPU / N, parent's part of D)),
             the wall-time speed-up on N idle cores
  measured   the wall-time speed-up of the same rounds, with the load average

Stdlib only (plus reportgen from this checkout).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def _cpu(who=resource.RUSAGE_SELF) -> float:
    ru = resource.getrusage(who)
    return ru.ru_utime + ru.ru_stime


def _child(files: list[str], out: str, jobs: int) -> dict:
    """One build in this process, with probes at its phase boundaries."""
    stamps = []

    def stamp(name):
        stamps.append((name, time.perf_counter(), _cpu(), _cpu(resource.RUSAGE_CHILDREN)))
    stamp("start")
    sys.path.insert(0, str(REPO))
    from reportgen import build, parallel

    def probe(fn, before=None, after=None):
        def wrapped(*a, **k):
            if before:
                stamp(before)
            try:
                return fn(*a, **k)
            finally:
                if after:
                    stamp(after)
        return wrapped

    load = build.load_profiles
    build.load_profiles = probe(load, "A", "B")
    build.start_profile_homes = probe(build.start_profile_homes, "C", "C-forked")
    # The pages' pool is collected by Pending.result after the parent's own work.
    parallel.Pending.result = probe(parallel.Pending.result, "D-parent")
    build.build_from_args(files, out, 1 << 30, jobs=jobs)
    stamp("E")
    return {"stamps": stamps}


def run_child(files: list[str], out: Path, jobs: int) -> dict:
    code = (f"import sys, json; sys.path.insert(0, {str(HERE)!r}); import bench_parallel as b; "
            f"print(json.dumps(b._child({files!r}, {str(out)!r}, {jobs})))")
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(REPO)))
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        sys.exit(f"bench_parallel: the build failed:\n{proc.stderr[-2000:]}")
    stamps = json.loads(proc.stdout.splitlines()[-1])["stamps"]
    return {"wall_total": wall, **phases(stamps)}


def phases(stamps: list) -> dict:
    """CPU of the parent and of the workers per phase, from the probes' stamps."""
    at = {}
    for name, wall, cpu, children in stamps:
        at[name] = (wall, cpu, children)  # Pending.result runs for the loads too: the last
    order = ["start", "A", "B", "C", "C-forked", "D-parent", "E"]
    missing = [n for n in order if n not in at]
    if missing:
        raise SystemExit(f"bench_parallel: probes missing: {missing} (the build changed shape)")
    out = {}
    for a, b in zip(order, order[1:]):
        out[f"{b}_wall"] = at[b][0] - at[a][0]
        out[f"{b}_parent"] = at[b][1] - at[a][1]
    # A pool's workers count once reaped: the loading pool's when the pages' pool
    # replaces it (inside start_profile_homes), the pages' pool's at the end.
    out["B_workers"] = at["C-forked"][2] - at["start"][2]
    out["D_workers"] = at["E"][2] - at["C-forked"][2]
    out["C_parent"] += out.pop("C-forked_parent")
    out["C_wall"] += out.pop("C-forked_wall")
    out["wall"] = at["E"][0] - at["start"][0]
    out["parent"] = at["E"][1] - at["start"][1]
    out["workers"] = at["E"][2] - at["start"][2]
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--profiles", type=int, default=50)
    ap.add_argument("--stacks", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--json", action="store_true", help="print every round as JSON too")
    a = ap.parse_args(argv)
    sys.path.insert(0, str(HERE))
    from bench_fleet import make_fleet
    files = [str(p) for p in make_fleet(HERE / "data" / "fleet", a.profiles, a.stacks)]
    runs: dict = {1: [], a.jobs: []}
    load = []
    work = Path(tempfile.mkdtemp(prefix="reportgen-parallel-"))
    try:
        for i in range(a.rounds):
            for jobs in runs:
                r = run_child(files, work / f"j{jobs}-{i}", jobs)
                runs[jobs].append(r)
                load.append(os.getloadavg()[0])
                print(f"bench_parallel: round {i + 1} --jobs {jobs}: {r['wall']:.2f} s wall, "
                      f"parent {r['parent']:.2f} s + workers {r['workers']:.2f} s CPU",
                      file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    best = {jobs: {k: min(r[k] for r in rs) for k in rs[0]} for jobs, rs in runs.items()}
    n = a.jobs
    one, par = best[1], best[n]
    print(f"{len(files)} profiles of ~{a.stacks} stacks; minimum over {a.rounds} rounds "
          f"(seconds):")
    print(f"  {'phase':<44} {'--jobs 1':>9} {'--jobs ' + str(n) + ' parent':>16} "
          f"{'workers':>8}")
    names = {"A": "A start-up, manifest", "B": "B load profiles",
             "C": "C analyses chosen, nav, fork", "D-parent": "D pages (parent: analyses)",
             "E": "E collect, index, write"}
    for key, label in names.items():
        workers = par.get(key[0] + "_workers")
        print(f"  {label:<44} {one[key + '_parent']:9.2f} {par[key + '_parent']:16.2f} "
              + (f"{workers:8.2f}" if workers is not None else ""))
    print("  (--jobs 1 renders the profiles' pages in E: its pool is the caller itself)")
    t1 = one["parent"] + one["workers"]
    tn = par["parent"] + par["workers"]
    serial = sum(par[k + "_parent"] for k in ("A", "B", "C", "E"))
    overlapped = par["D-parent_parent"]
    parallel = par["workers"] + overlapped
    predicted = t1 / (serial + max(parallel / n, overlapped))
    print(f"  {'total CPU':<44} {t1:9.2f} {par['parent']:16.2f} {par['workers']:8.2f}")
    print(f"overhead: --jobs {n} spends {tn / t1:.3f}x the CPU of --jobs 1 "
          f"({(tn / t1 - 1) * 100:+.1f}%)")
    print(f"serial part (parent alone: A + B + C + E): {serial:.2f} s = "
          f"{serial / t1 * 100:.1f}% of the --jobs 1 CPU")
    print(f"predicted speed-up on {n} idle cores: {predicted:.2f}x "
          f"(Amdahl with the CPU above)")
    print(f"measured wall speed-up: {one['wall'] / par['wall']:.2f}x (fastest rounds), load "
          f"average {min(load):.1f}-{max(load):.1f} on {os.cpu_count()} CPUs")
    if a.json:
        print(json.dumps({"runs": runs, "best": best, "load": load}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
