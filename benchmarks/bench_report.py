#!/usr/bin/env python3
"""Benchmark `reportgen build` against `go tool pprof -top` on a large profile.

Runs, alternately and --runs times each:

  (a) go tool pprof -top PROFILE            (stdout to /dev/null)
  (b) python -m reportgen build PROFILE -o OUTDIR

measuring the wall time and the peak RSS (ru_maxrss from wait4, which on
Linux covers the child and any descendants it waited for) of every child,
then prints medians, the reportgen/pprof time ratio, reportgen's peak RSS and
the size of the generated report.

Targets: ratio <= 0.10 (issue 15), reportgen peak RSS < 1024 MiB. CPU time
(user + system) is printed beside wall time: on a shared machine it is the
steadier of the two.

Stdlib only. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_PROFILE = HERE / "data" / "large.heap.pb.gz"
MAKE_PROFILE = HERE / "make_large_profile.sh"

TARGET_RATIO = 0.10   # issue 15
TARGET_RSS_MIB = 1024.0


class ChildFailed(Exception):
    def __init__(self, label: str, cmd: list[str], code: int, stderr: str):
        self.label, self.cmd, self.code, self.stderr = label, cmd, code, stderr
        tail = "\n".join(stderr.strip().splitlines()[-15:])
        super().__init__(
            f"{label} failed (exit status {code}).\n"
            f"  command: {' '.join(cmd)}\n"
            + (f"  stderr (last lines):\n    " + tail.replace("\n", "\n    ") if tail else "  (no stderr output)")
        )


def find_go(explicit: str | None) -> str:
    if explicit:
        return explicit
    go = shutil.which("go")
    if go:
        return go
    venv_go = REPO / ".venv" / "bin" / "go"
    if venv_go.exists():
        return str(venv_go)
    sys.exit("bench_report: no Go toolchain found (put `go` on PATH or pass --go)")


def maxrss_bytes(ru_maxrss: int) -> int:
    # Linux reports KiB, macOS reports bytes.
    return ru_maxrss if sys.platform == "darwin" else ru_maxrss * 1024


def installed_env(pycache: Path | None) -> dict:
    """The environment reportgen runs in: with its bytecode compiled once into
    `pycache` (as an installed package has it), even where
    PYTHONDONTWRITEBYTECODE is set, or as given (None). Compiling every module
    on every run (about 0.4 s) is a cost no installed reportgen pays; it is
    left out as `go tool pprof`'s own build is by its warm-up."""
    env = dict(os.environ)
    if pycache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "reportgen")],
                       env=env, check=True, stdout=subprocess.DEVNULL)
    return env


def reportgen_env() -> dict:
    """installed_env for the timed `reportgen build` runs: the bytecode cache in
    data/pycache, PYTHONPATH at this checkout."""
    env = installed_env(HERE / "data" / "pycache")
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def run_child(label: str, cmd: list[str], env: dict | None = None, cwd: Path | None = None) -> dict:
    """Run cmd with stdout -> /dev/null; return wall time (s), CPU time (s, user + system:
    what a shared machine does not inflate) and peak RSS (bytes).

    Raises ChildFailed on a non-zero exit status or death by signal.
    """
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=err, env=env, cwd=cwd)
        except OSError as e:
            raise ChildFailed(label, cmd, -1, f"could not start: {e}") from None
        while True:
            try:
                _, status, ru = os.wait4(proc.pid, 0)
                break
            except InterruptedError:
                continue
        wall = time.perf_counter() - t0
        code = os.waitstatus_to_exitcode(status)
        proc.returncode = code  # reaped by us; keep Popen from waiting again
        if code != 0:
            err.seek(0)
            msg = err.read().decode("utf-8", "replace")
            if code < 0:
                msg += f"\n(killed by signal {-code})"
            raise ChildFailed(label, cmd, code, msg)
    return {"wall_s": wall, "cpu_s": ru.ru_utime + ru.ru_stime,
            "maxrss_bytes": maxrss_bytes(ru.ru_maxrss)}


def dir_stats(path: Path) -> dict:
    total = 0
    nfiles = 0
    largest = ("", 0)
    for root, _dirs, files in os.walk(path):
        for name in files:
            p = Path(root) / name
            try:
                size = p.stat().st_size
            except OSError:
                continue
            total += size
            nfiles += 1
            if size > largest[1]:
                largest = (str(p.relative_to(path)), size)
    return {"total_bytes": total, "files": nfiles,
            "largest_file": largest[0], "largest_file_bytes": largest[1]}


def mib(n: float) -> float:
    return n / (1024 * 1024)


def ensure_profile(profile: Path, default: bool) -> None:
    if profile.exists():
        return
    if not default:
        sys.exit(f"bench_report: profile {profile} does not exist")
    print(f"bench_report: {profile} missing, running {MAKE_PROFILE.name} ...", file=sys.stderr)
    r = subprocess.run(["bash", str(MAKE_PROFILE)], stdout=sys.stderr)
    if r.returncode != 0 or not profile.exists():
        sys.exit(f"bench_report: {MAKE_PROFILE} failed (exit status {r.returncode})")


def summarize(results: dict) -> dict:
    s: dict = {}
    p = results["pprof"]
    r = results["reportgen"]
    if p:
        s["pprof_median_s"] = statistics.median(x["wall_s"] for x in p)
        s["pprof_median_cpu_s"] = statistics.median(x["cpu_s"] for x in p)
        s["pprof_peak_rss_mib"] = mib(max(x["maxrss_bytes"] for x in p))
    if r:
        s["reportgen_median_s"] = statistics.median(x["wall_s"] for x in r)
        s["reportgen_median_cpu_s"] = statistics.median(x["cpu_s"] for x in r)
        s["reportgen_peak_rss_mib"] = mib(max(x["maxrss_bytes"] for x in r))
    if p and r:
        s["ratio"] = s["reportgen_median_s"] / s["pprof_median_s"]
        s["ratio_ok"] = s["ratio"] <= TARGET_RATIO
        s["cpu_ratio"] = s["reportgen_median_cpu_s"] / s["pprof_median_cpu_s"]
        s["rss_ok"] = s["reportgen_peak_rss_mib"] < TARGET_RSS_MIB
    return s


def _fmt_runs(runs: list) -> str:
    return ", ".join("%.2f" % x["wall_s"] for x in runs)


def print_table(profile: Path, runs: int, results: dict, summary: dict, output: dict | None) -> None:
    def ok(flag):
        return "" if flag is None else ("  OK" if flag else "  MISSED")

    size = profile.stat().st_size
    rows = [("profile", f"{profile} ({mib(size):.2f} MiB)"),
            ("runs", f"{len(results['pprof'])} pprof / {len(results['reportgen'])} reportgen (requested {runs})")]
    if "pprof_median_s" in summary:
        rows.append(("pprof -top median", f"{summary['pprof_median_s']:.3f} s"
                     f"   (runs: {_fmt_runs(results['pprof'])})"))
        rows.append(("pprof peak RSS", f"{summary['pprof_peak_rss_mib']:.0f} MiB"))
    if "reportgen_median_s" in summary:
        rows.append(("reportgen median", f"{summary['reportgen_median_s']:.3f} s"
                     f"   (runs: {_fmt_runs(results['reportgen'])})"))
    if "ratio" in summary:
        rows.append(("ratio reportgen/pprof", f"{summary['ratio']:.2f}   (target <= {TARGET_RATIO}){ok(summary['ratio_ok'])}"))
        rows.append(("CPU ratio", f"{summary['cpu_ratio']:.2f}   (CPU medians: pprof "
                     f"{summary['pprof_median_cpu_s']:.2f} s, reportgen "
                     f"{summary['reportgen_median_cpu_s']:.2f} s)"))
    if "reportgen_peak_rss_mib" in summary:
        rows.append(("reportgen peak RSS", f"{summary['reportgen_peak_rss_mib']:.0f} MiB   "
                     f"(target < {TARGET_RSS_MIB:.0f}){ok(summary.get('rss_ok'))}"))
    if output:
        rows.append(("output total", f"{mib(output['total_bytes']):.2f} MiB in {output['files']} files"))
        rows.append(("largest output file", f"{mib(output['largest_file_bytes']):.2f} MiB ({output['largest_file']})"))
    w = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{w}}  {v}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="timed runs of each command (default 5)")
    ap.add_argument("--profile", type=Path, help="profile to bench (default benchmarks/data/large.heap.pb.gz, "
                    "generated if missing)")
    ap.add_argument("--json", action="store_true", help="print results as JSON")
    ap.add_argument("--go", help="go binary (default: `go` on PATH, else .venv/bin/go)")
    ap.add_argument("--keep", action="store_true", help="keep the last report output directory and print its path")
    ap.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = ap.parse_args(argv)
    if args.runs < 1:
        ap.error("--runs must be >= 1")

    profile = (args.profile or DEFAULT_PROFILE).resolve()
    ensure_profile(profile, default=args.profile is None)
    go = find_go(args.go)

    pprof_cmd = [go, "tool", "pprof", "-top", str(profile)]
    env = reportgen_env()
    go_env = dict(os.environ, GOTOOLCHAIN="local", GOPROXY="off")

    results: dict = {"pprof": [], "reportgen": []}
    output = None
    error = None
    workdir = Path(tempfile.mkdtemp(prefix="reportgen-bench-"))
    kept = None
    try:
        # Warm-up: `go tool pprof` builds/caches itself on first use.
        print("bench_report: warm-up go tool pprof ...", file=sys.stderr)
        run_child("go tool pprof (warm-up)", pprof_cmd, env=go_env)
        for i in range(args.runs):
            results["pprof"].append(run_child("go tool pprof -top", pprof_cmd, env=go_env))
            out = workdir / f"run{i}"
            rg_cmd = [sys.executable, "-m", "reportgen", "build", str(profile), "-o", str(out)]
            results["reportgen"].append(run_child("reportgen build", rg_cmd, env=env, cwd=REPO))
            print(f"bench_report: run {i + 1}/{args.runs}: pprof {results['pprof'][-1]['wall_s']:.2f}s, "
                  f"reportgen {results['reportgen'][-1]['wall_s']:.2f}s", file=sys.stderr)
            if out.exists():
                output = dir_stats(out)
                if i < args.runs - 1 or not args.keep:
                    shutil.rmtree(out, ignore_errors=True)
                else:
                    kept = out
            else:
                output = None
    except ChildFailed as e:
        error = e
    except KeyboardInterrupt:
        print("bench_report: interrupted", file=sys.stderr)
        return 130
    finally:
        if kept is None:
            shutil.rmtree(workdir, ignore_errors=True)

    summary = summarize(results)
    if args.json:
        doc = {
            "profile": str(profile),
            "profile_bytes": profile.stat().st_size,
            "runs_requested": args.runs,
            "targets": {"ratio_max": TARGET_RATIO, "reportgen_peak_rss_mib_max": TARGET_RSS_MIB},
            "summary": summary,
            "runs": results,
            "output": output,
            "output_dir": str(kept) if kept else None,
            "error": None if error is None else {
                "step": error.label, "command": error.cmd, "exit_status": error.code,
                "stderr_tail": error.stderr.strip().splitlines()[-30:]},
        }
        print(json.dumps(doc, indent=2))
    else:
        print_table(profile, args.runs, results, summary, output)
        if kept:
            print(f"report kept at {kept}")
    if error is not None:
        print(f"\nbench_report: ERROR: {error}", file=sys.stderr)
        return 2
    if args.check and not (summary.get("ratio_ok") and summary.get("rss_ok")):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
