"""`reportgen trace TRACE`: go tool trace's goroutine analysis and blocking profiles, offline."""

from __future__ import annotations

import sys
from pathlib import Path

from reportgen.commands.args import print_json


def register(sub, common):
    p = sub.add_parser("trace", parents=[common], help="analyze a Go execution trace",
                       description="A runtime/trace file (Go 1.22 or newer): goroutines grouped "
                                   "by start function with the breakdown of their time, the "
                                   "four blocking profiles, GC pauses and utilization, user "
                                   "regions. No Go toolchain needed.")
    p.add_argument("trace", metavar="TRACE", help="the trace file (curl .../debug/pprof/trace, "
                                                   "go test -trace, runtime/trace)")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--write-profiles", metavar="DIR",
                   help="write the blocking profiles as DIR/{net,sync,syscall,sched}.pb.gz "
                        "(go tool trace -pprof=KIND, gzipped) for go tool pprof")
    p.set_defaults(run=run)


def run(args) -> int:
    from reportgen.analyze.trace_report import analyze_trace_file

    # only what is printed or written: no timeline lanes, no heap series (the page's)
    report = analyze_trace_file(args.trace, timeline=False,
                                max_decompressed=args.max_decompressed, heap=False)
    if args.write_profiles:
        write_profiles(report, Path(args.write_profiles))
    if report.truncated:
        print(f"reportgen: {args.trace}: truncated: {report.truncated}", file=sys.stderr)
    if args.format == "json":
        print_json(report.as_dict())
    else:
        sys.stdout.write(format_text(report))
    return 0


def write_profiles(report, directory: Path):
    from reportgen.analyze.trace_profiles import gzipped
    from reportgen.errors import UsageError

    try:
        directory.mkdir(parents=True, exist_ok=True)
        for kind, data in report.profiles.items():
            (directory / f"{kind}.pb.gz").write_bytes(gzipped(data))
    except OSError as e:
        raise UsageError(directory, f"cannot write profiles ({e.strerror})") from None


def _ms(ns: int) -> str:
    return f"{ns / 1e6:.3f}ms"


def format_text(report) -> str:
    from reportgen.analyze.trace_profiles import TITLES
    from reportgen.analyze.trace_regions import type_label
    from reportgen.render.names import one_line as shown

    out = list(report.answers)
    if report.truncated:
        out.append(f"TRUNCATED: {report.truncated}")
    out += ["", f"go 1.{report.version} trace, {_ms(report.duration_ns)}, {report.events} events, "
                f"{report.generations} generation(s)", "",
            "Goroutine groups (by total execution time, as go tool trace):",
            f"{'count':>6} {'execution':>14} {'sched wait':>14} {'blocked':>14} {'syscall':>14}"
            f"  start"]
    for g in report.groups:
        sw = sum(x.stats.sched_wait_ns for x in g.goroutines)
        bl = sum(sum(x.stats.block_ns.values()) + x.stats.syscall_block_ns for x in g.goroutines)
        sc = sum(x.stats.syscall_ns for x in g.goroutines)
        out.append(f"{g.count:>6} {_ms(g.execution_ns):>14} {_ms(sw):>14} {_ms(bl):>14} "
                   f"{_ms(sc):>14}  {shown(g.start) or '(Inactive, no stack trace sampled)'}")
    out += ["", "Blocking profiles (go tool trace -pprof=KIND):"]
    for kind, (n, d) in report.profile_totals.items():
        out.append(f"  {kind:<8} {n:>8} waits {_ms(d):>14}  ({TITLES[kind]})")
    gc = report.gc
    out += ["", f"GC: {len(gc.cycles)} cycles, {len(gc.pauses)} stop-the-world pauses totalling "
                f"{_ms(gc.stw_ns)}, GC CPU {gc.gc_cpu_fraction:.1%}"]
    if gc.mmu:
        out.append("MMU: " + ", ".join(f"{_ms(w)} {u:.0%}" for w, u in gc.mmu))
    if report.regions:
        out += ["", "User regions:"]
        for r in report.regions:
            d = r.as_dict()
            out.append(f"  {r.count:>6} x {shown(type_label(r.name))}: total "
                       f"{_ms(r.total_ns)}, mean {_ms(d['mean_ns'])}, p99 {_ms(d['p99_ns'])}")
    if report.tasks:
        out += ["", "User tasks:"]
        for t in report.tasks:
            out.append(f"  {t['count']:>6} x {shown(type_label(t['type']))}: total "
                       f"{_ms(t['total_ns'])}, {t['logs']} logs")
    return "\n".join(out) + "\n"
