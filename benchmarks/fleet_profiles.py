"""A seeded synthetic fleet: N Go-shaped CPU and heap profiles of ~K distinct stacks.

    python benchmarks/fleet_profiles.py DIR [--profiles 50] [--stacks 5000] [--seed 1]

Each profile is drawn from its own seed (seed * 1000 + i), so the files are
byte-identical from run to run; existing files are kept. Even-numbered
profiles are CPU profiles (samples/count, cpu/nanoseconds), odd ones heap
profiles (alloc_*/inuse_*). The call graph is service-shaped: a handful of
entry points under main.main, each function calling a few fixed callees,
walks that pick callees with a skewed distribution, so stacks share trunks
as a real service's do and names repeat across profiles.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from profiles import ProfileBuilder  # noqa: E402

PACKAGES = ("main", "example.com/svc/api", "example.com/svc/db", "example.com/svc/cache",
            "encoding/json", "net/http", "bufio", "bytes", "strconv", "sync", "runtime")
VERBS = ("serve", "decode", "encode", "read", "write", "lookup", "scan", "flush", "merge")


def make_profile(path: Path, kind: str, stacks: int, seed: int, functions: int = 1200) -> Path:
    """Write one gzipped profile.proto with `stacks` distinct stacks (leaf first)."""
    rng = random.Random(seed)
    if kind == "cpu":
        b = ProfileBuilder(sample_types=[("samples", "count"), ("cpu", "nanoseconds")],
                           period_type=("cpu", "nanoseconds"), period=10_000_000,
                           time_nanos=1_750_000_000_000_000_000 + seed * 10**9,
                           duration_nanos=30 * 10**9)
    else:
        b = ProfileBuilder(sample_types=[("alloc_objects", "count"), ("alloc_space", "bytes"),
                                         ("inuse_objects", "count"), ("inuse_space", "bytes")],
                           default_sample_type="inuse_space", period_type=("space", "bytes"),
                           period=512 * 1024,
                           time_nanos=1_750_000_000_000_000_000 + seed * 10**9)
    m = b.mapping("/srv/bin/svc", build_id=f"{seed:08x}", start=0x400000, limit=0x2000000,
                  has_functions=True)
    locs = []
    for i in range(functions):
        pkg = PACKAGES[(i * 7) % len(PACKAGES)]
        fn = b.function(f"{pkg}.{VERBS[i % len(VERBS)]}{i}",
                        f"/src/{pkg}/{VERBS[i % len(VERBS)]}_{i % 37}.go", 10 + i % 300)
        locs.append(b.location((fn, 12 + i % 250), address=0x401000 + 32 * i, mapping=m))
    root = b.location((b.function("main.main", "/src/main/main.go", 1), 20), mapping=m,
                      address=0x400800)
    callees = [rng.sample(range(functions), rng.randint(2, 6)) for _ in range(functions)]
    entries = rng.sample(range(functions), 10)
    seen: set = set()
    while len(seen) < stacks:
        cur = entries[min(int(rng.paretovariate(1.0)) - 1, len(entries) - 1)]
        stack = [root, locs[cur]]
        for _ in range(rng.randint(5, 30)):
            options = callees[cur]
            cur = options[min(int(rng.paretovariate(0.9)) - 1, len(options) - 1)]
            stack.append(locs[cur])
        key = tuple(stack)
        if key in seen:
            continue
        seen.add(key)
        n = int(rng.paretovariate(1.2) * 2)
        if kind == "cpu":
            b.sample(stack[::-1], [n, n * 10_000_000])
        else:
            size = rng.choice((16, 48, 256, 4096, 65536))
            b.sample(stack[::-1], [n, n * size, n // 2, n // 2 * size])
    return b.write(path)


def make_fleet(directory: Path, profiles: int = 50, stacks: int = 5000, seed: int = 1) -> list[Path]:
    """The fleet's files in `directory` (kept if already there), in a stable order."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(profiles):
        kind = "cpu" if i % 2 == 0 else "heap"
        path = directory / f"{kind}-{i:03d}-{stacks}.pb.gz"
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            make_profile(tmp, kind, stacks, seed * 1000 + i)
            tmp.replace(path)
        paths.append(path)
    return paths


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir", type=Path)
    ap.add_argument("--profiles", type=int, default=50)
    ap.add_argument("--stacks", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    for p in make_fleet(a.dir, a.profiles, a.stacks, a.seed):
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
