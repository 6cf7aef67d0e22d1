"""The nightly-fleet workload: 50 bare profiles (25 CPU + 25 heap) of ~5k stacks.

    python benchmarks/fleet.py [--profiles 50] [--stacks 5000] [--seed 1] [--keep]
                               [--flame-files] [--single-file]

Generates the profiles with a seeded synthetic generator (a service-shaped
call tree: a few handlers, a shared library layer, the runtime below), runs
`python -m reportgen build` on the bare files and prints the site's total
size, file count and largest file against issue 16's targets (<= 40 MB in
all, no file over 1 MB). Not a timed test: a measurement to read.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.profiles import ProfileBuilder  # noqa: E402

TOTAL_TARGET = 40 * 2**20
FILE_TARGET = 2**20

PACKAGES = ["main", "example.com/svc/api", "example.com/svc/store", "example.com/svc/cache",
            "encoding/json", "net/http", "bufio", "strings", "sort", "sync", "compress/gzip",
            "github.com/lib/pq", "google.golang.org/grpc", "runtime"]


def _functions(rng: random.Random, count: int) -> list[tuple[str, str]]:
    out = []
    for i in range(count):
        pkg = rng.choice(PACKAGES)
        recv = rng.choice(["", "(*Server).", "(*Conn).", "(*decodeState).", "(*Pool)."])
        name = f"{pkg}.{recv}{rng.choice(['handle', 'read', 'write', 'parse', 'encode', 'lookup', 'flush', 'scan', 'merge', 'walk'])}{i}"
        out.append((name, f"/src/{pkg.replace('.', '_')}/f{i % 40}.go"))
    return out


def make_profile(path: Path, kind: str, stacks: int, seed: int, shape: str = "service") -> Path:
    """One synthetic CPU or heap profile with `stacks` distinct stacks; `shape`
    "service" (each function calls a few others) or "wide" (any may call any)."""
    rng = random.Random(seed)
    if kind == "cpu":
        b = ProfileBuilder(sample_types=[("samples", "count"), ("cpu", "nanoseconds")],
                           period_type=("cpu", "nanoseconds"), period=10_000_000,
                           time_nanos=1_700_000_000_000_000_000 + seed,
                           duration_nanos=30_000_000_000)
    else:
        b = ProfileBuilder(sample_types=[("alloc_objects", "count"), ("alloc_space", "bytes"),
                                         ("inuse_objects", "count"), ("inuse_space", "bytes")],
                           period_type=("space", "bytes"), period=524288,
                           time_nanos=1_700_000_000_000_000_000 + seed)
    funcs = _functions(rng, 1500)
    fids = [b.function(n, f, 10 + i) for i, (n, f) in enumerate(funcs)]
    locs = [b.location((fid, 12 + i % 50), address=0x400000 + 16 * i) for i, fid in enumerate(fids)]
    main = b.location((b.function("main.main", "/src/main.go", 1), 5))
    # A service-shaped call graph: each function calls a few others (its
    # callees fixed per profile), so stacks share prefixes the way a
    # service's do; walks pick callees with a skewed distribution.
    callees = [[rng.randrange(len(locs)) for _ in range(rng.randint(2, 7))] for _ in locs]
    handlers = [rng.randrange(len(locs)) for _ in range(12)]
    seen = set()
    while len(seen) < stacks:
        depth = rng.randint(6, 28)
        if shape == "wide":
            # Any function may call any other a level down: every function has
            # hundreds of callers and callees (the worst case for call tables).
            stack, width = [main], 20
            for d in range(depth):
                stack.append(locs[(d * 53 + int(rng.paretovariate(1.2) * width)) % len(locs)])
                width = min(width + 40, 1500)
        else:
            cur = handlers[min(int(rng.paretovariate(1.0)) - 1, len(handlers) - 1)]
            stack = [main, locs[cur]]
            for _ in range(depth):
                options = callees[cur]
                cur = options[min(int(rng.paretovariate(0.8)) - 1, len(options) - 1)]
                stack.append(locs[cur])
        key = tuple(stack)
        if key in seen:
            continue
        seen.add(key)
        weight = int(rng.paretovariate(1.1) * 3)
        leafward = list(reversed(stack))
        if kind == "cpu":
            b.sample(leafward, [weight, weight * 10_000_000])
        else:
            size = rng.choice([16, 64, 512, 4096, 32768])
            b.sample(leafward, [weight, weight * size, weight // 3, weight // 3 * size])
    return b.write(path)


def site_size(out: Path) -> tuple[int, int, tuple[int, str]]:
    files = [p for p in out.rglob("*") if p.is_file()]
    sizes = [(p.stat().st_size, str(p.relative_to(out))) for p in files]
    return sum(s for s, _ in sizes), len(sizes), max(sizes)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--profiles", type=int, default=50)
    ap.add_argument("--stacks", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--shape", choices=["service", "wide"], default="service",
                    help="call graph of the generated profiles (default: service)")
    ap.add_argument("--dir", type=Path, help="where to keep the profiles (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the site and print its path")
    ap.add_argument("--build-args", default="", help="extra arguments for reportgen build")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="fleet-"))
    pdir = args.dir or work / "profiles"
    pdir.mkdir(parents=True, exist_ok=True)
    inputs = []
    for i in range(args.profiles):
        kind = "cpu" if i % 2 == 0 else "heap"
        path = pdir / f"{kind}-{i:02d}.pb.gz"
        if not path.exists():
            make_profile(path, kind, args.stacks, args.seed * 1000 + i, args.shape)
        inputs.append(str(path))
    out = work / "site"
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "reportgen", "build", *inputs, "-o", str(out),
                    *args.build_args.split()], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    took = time.perf_counter() - start
    total, count, (largest, name) = site_size(out)
    print(f"profiles: {args.profiles} x ~{args.stacks} stacks ({args.shape}); "
          f"build {took:.1f} s")
    print(f"site: {total / 2**20:.1f} MB in {count} files "
          f"(target <= {TOTAL_TARGET / 2**20:.0f} MB: {total / TOTAL_TARGET:.2f} of it)")
    print(f"largest file: {name} {largest / 2**20:.2f} MB "
          f"(target <= 1 MB: {largest / FILE_TARGET:.2f} of it)")
    if args.keep:
        print(f"kept: {out}")
    else:
        import shutil
        shutil.rmtree(work)
    return 0 if total <= TOTAL_TARGET and largest <= FILE_TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
