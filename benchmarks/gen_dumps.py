#!/usr/bin/env python3
"""Seeded synthetic goroutine dumps for the dump benchmark (bench_dumps.py).

    python benchmarks/gen_dumps.py debug2 OUT.txt [--goroutines 100000] [--seed 1]
    python benchmarks/gen_dumps.py debug1 OUT.txt [--records 60000] [--seed 1]

debug=2: a service of ~100k goroutines as `/debug/pprof/goroutine?debug=2`
prints them: a few hundred distinct call paths (program, library and
standard-library code, 3-60 frames, some inlined `(...)` frames and some
`...N frames elided...`), skewed so that a handful of paths hold most
goroutines (as in a leak), every goroutine with its own argument values,
wait times on the parked ones, Go 1.27 labels on some, a creator on all
but the main goroutine. ~1.5 KB per goroutine: 100k make ~156 MB.

debug=1: records with distinct stacks over a call graph of a few thousand
functions (random walks 5-25 deep), counts mostly 1 (a few in the
thousands: the leaks), labels on a fifth.

Same arguments, same bytes: the generator uses its own random.Random(seed).
"""

from __future__ import annotations

import argparse
import random
import sys

STATES = [("chan receive", 30), ("select", 25), ("IO wait", 20), ("sync.Mutex.Lock", 5),
          ("sleep", 5), ("chan send", 5), ("sync.WaitGroup.Wait", 3), ("semacquire", 2),
          ("runnable", 3), ("syscall", 2)]
LEAVES = {
    "chan receive": [("runtime.chanrecv1", "runtime/chan.go", 489)],  # (function, file, line)
    "chan send": [("runtime.chansend1", "runtime/chan.go", 161)],
    "select": [("runtime.selectgo", "runtime/select.go", 351)],
    "IO wait": [("internal/poll.runtime_pollWait", "runtime/netpoll.go", 351),
                ("internal/poll.(*pollDesc).wait", "internal/poll/fd_poll_runtime.go", 84),
                ("internal/poll.(*pollDesc).waitRead", "internal/poll/fd_poll_runtime.go", 89),
                ("internal/poll.(*FD).Read", "internal/poll/fd_unix.go", 165),
                ("net.(*netFD).Read", "net/fd_posix.go", 68),
                ("net.(*conn).Read", "net/net.go", 194),
                ("bufio.(*Reader).fill", "bufio/bufio.go", 113)],
    "sync.Mutex.Lock": [("internal/sync.runtime_SemacquireMutex", "runtime/sema.go", 95),
                        ("internal/sync.(*Mutex).lockSlow", "internal/sync/mutex.go", 149),
                        ("sync.(*Mutex).Lock", "sync/mutex.go", 46)],
    "sleep": [("time.Sleep", "runtime/time.go", 363)],
    "sync.WaitGroup.Wait": [("sync.runtime_SemacquireWaitGroup", "runtime/sema.go", 114),
                            ("sync.(*WaitGroup).Wait", "sync/waitgroup.go", 118)],
    "semacquire": [("sync.runtime_Semacquire", "runtime/sema.go", 71)],
    "runnable": [], "syscall": [("syscall.Syscall", "syscall/syscall_linux.go", 73)],
}
WORDS = ("poll fetch sync resolve expire handle serve watch dispatch flush encode decode "
         "retry probe sweep index store cache query batch notify merge apply commit").split()
TYPES = "Server Client Pool Store Cache Worker Poller Queue Router Conn Session Index".split()


def _program_funcs(rnd: random.Random, n: int) -> list:
    """(func, file, line) in the program, a library module, or the standard library."""
    out = []
    for i in range(n):
        kind = rnd.random()
        word, typ = rnd.choice(WORDS), rnd.choice(TYPES)
        if kind < 0.5:
            pkg = f"example.com/fleet/internal/{rnd.choice(WORDS)}{i % 17}"
            name = f"{pkg}.(*{typ}).{word.capitalize()}{i}"
            file = f"/build/fleet/internal/{pkg.rsplit('/', 1)[1]}/{word}.go"
        elif kind < 0.6:
            name, file = f"main.{word}{i}", "/build/fleet/cmd/fleetd/main.go"
        elif kind < 0.8:
            mod = rnd.choice(["google.golang.org/grpc@v1.60.1", "github.com/redis/go-redis/v9@v9.5.1",
                              "go.uber.org/zap@v1.27.0"])
            path = mod.split("@")[0]
            name = f"{path}/internal/{word}.(*{typ}).{word}{i}"
            file = f"/go/pkg/mod/{mod}/internal/{word}/{word}.go"
        else:
            pkg = rnd.choice(["net/http", "encoding/json", "database/sql", "context", "io"])
            name = f"{pkg}.(*{typ}).{word}{i}"
            file = f"/usr/local/go/src/{pkg}/{word}.go"
        out.append((name, file, rnd.randint(20, 2400), rnd.getrandbits(10)))
        if rnd.random() < 0.15:  # a closure of the one before
            out.append((f"{name}.func{rnd.randint(1, 4)}", file, rnd.randint(20, 2400),
                        rnd.getrandbits(10)))
    return out  # (function, file, line, offset of the call in the function)


def _args(rnd: random.Random) -> str:
    n = rnd.choice((0, 1, 1, 2, 3, 4))
    parts = []
    for _ in range(n):
        if rnd.random() < 0.3:
            parts.append("{" + f"0x{rnd.getrandbits(40):x}?, 0x{rnd.getrandbits(8):x}" + "}")
        else:
            parts.append(f"0x{0xc000000000 + rnd.getrandbits(28):x}" +
                         ("?" if rnd.random() < 0.3 else ""))
    return ", ".join(parts)


def gen_debug2(out, goroutines: int, seed: int) -> None:
    rnd = random.Random(seed)
    funcs = _program_funcs(rnd, 1500)
    paths = []
    for _ in range(400):
        state = rnd.choices([s for s, _ in STATES], [w for _, w in STATES])[0]
        depth = rnd.randint(2, 16) if rnd.random() < 0.92 else rnd.randint(30, 60)
        body = [rnd.choice(funcs) for _ in range(depth)]
        creator = rnd.choice(funcs)
        inline = {i for i in range(depth) if rnd.random() < 0.08}
        labels = rnd.random() < 0.2
        leaves = [(*leaf, 0x25 + 0x10 * i) for i, leaf in enumerate(LEAVES[state])]
        paths.append((state, leaves + body, creator, inline, labels))
    weights = [1.0 / (i + 1) ** 1.1 for i in range(len(paths))]
    write = out.write
    write("goroutine 1 [select, 42 minutes]:\nmain.main()\n\t/build/fleet/cmd/fleetd/main.go:88"
          " +0x3d5\n\n")
    for gid in range(2, goroutines + 1):
        state, frames, creator, inline, labels = rnd.choices(paths, weights)[0]
        wait = rnd.choice((0, 0, 1, 3, 12, 47)) if state not in ("runnable",) else 0
        head = f"goroutine {gid * 7 + 3} [{state}{f', {wait} minutes' if wait else ''}]"
        if labels:
            head += f' {{tenant: "t{rnd.randint(1, 40)}", route: /api/{rnd.choice(WORDS)}}}'
        lines = [head + ":"]
        shown = frames[:100]
        for i, (func, file, line, off) in enumerate(shown):
            if i in inline:
                lines.append(f"{func}(...)\n\t{file}:{line}")
            else:
                lines.append(f"{func}({_args(rnd)})\n\t{file}:{line} +0x{off:x}")
        if len(frames) > 50 and rnd.random() < 0.1:
            lines.append(f"...{rnd.randint(1, 40)} frames elided...")
        cf, cfile, cline, coff = creator
        lines.append(f"created by {cf} in goroutine {rnd.randint(1, gid)}\n\t{cfile}:{cline}"
                     f" +0x{coff:x}")
        write("\n".join(lines))
        write("\n\n")


def gen_debug1(out, records: int, seed: int) -> None:
    rnd = random.Random(seed)
    funcs = _program_funcs(rnd, 3000)
    pcs = {}

    def pc(f):
        if f not in pcs:
            pcs[f] = 0x400000 + len(pcs) * 0x40 + rnd.randint(0, 0x3f)
        return pcs[f]
    callees = {f: rnd.sample(funcs, 4) for f in funcs}
    roots = rnd.sample(funcs, 40)
    seen = set()
    total_lines, total = [], 0
    while len(seen) < records:
        f = rnd.choice(roots)
        stack = [f]
        for _ in range(rnd.randint(4, 24)):
            f = rnd.choice(callees[f])
            stack.append(f)
        key = tuple(stack)
        if key in seen:
            continue
        seen.add(key)
        roll = rnd.random()  # most stacks are one-offs; a few places pile up (the leaks)
        count = 1 if roll < 0.95 else rnd.randint(2, 5) if roll < 0.997 else rnd.randint(10, 2000)
        total += count
        leaf_first = stack[::-1]
        rec = [f"{count} @ " + " ".join(f"0x{pc(x) + 1:x}" for x in leaf_first)]
        if rnd.random() < 0.2:
            rec.append(f'# labels: {{"tenant":"t{rnd.randint(1, 40)}"}}')
        for site in leaf_first:
            func, file, line, off = site
            rec.append(f"#\t0x{pc(site):x}\t{func}+0x{off:x}\t\t{file}:{line}")
        total_lines.append("\n".join(rec))
    out.write(f"goroutine profile: total {total}\n")
    for rec in total_lines:
        out.write(rec)
        out.write("\n\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("format", choices=["debug1", "debug2"])
    ap.add_argument("out")
    ap.add_argument("--goroutines", type=int, default=100_000)
    ap.add_argument("--records", type=int, default=60_000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    with open(a.out, "w", encoding="utf-8", newline="\n") as out:
        if a.format == "debug2":
            gen_debug2(out, a.goroutines, a.seed)
        else:
            gen_debug1(out, a.records, a.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
