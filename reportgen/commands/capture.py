"""`reportgen capture URL`: goroutine dumps and profiles over time from net/http/pprof."""

from __future__ import annotations

import argparse

from reportgen.commands.args import positive
import datetime
import sys


MAX_SECONDS = 24 * 3600   # a day: longer waits overflow sleep() and socket timeouts


def _duration(text: str) -> float:
    from reportgen.capture import parse_duration

    try:
        seconds = parse_duration(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError("must be positive")
    if seconds > MAX_SECONDS:
        raise argparse.ArgumentTypeError("at most 24h")
    return seconds


def _seconds(text: str) -> int:
    return positive(text, MAX_SECONDS)


def register(sub, common):
    p = sub.add_parser(
        "capture", parents=[common], help="pull goroutine dumps and profiles from a service",
        description="Pull /debug/pprof/goroutine (debug=2 and debug=0) and the heap profile "
                    "from a running Go service every --every, --count times, into files "
                    "named by snapshot and UTC time, plus a site.yml that builds the leak "
                    "report.")
    p.add_argument("url", help="the service's address, like http://127.0.0.1:6060 "
                               "(/debug/pprof/ is added when missing)")
    p.add_argument("--every", type=_duration, default=30.0, metavar="DURATION",
                   help="time between snapshots, like 30s, 1m or 500ms (default 30s)")
    p.add_argument("--count", type=positive, default=5, metavar="N",
                   help="number of snapshots (default 5)")
    p.add_argument("--profile-seconds", type=_seconds, default=0, metavar="N",
                   help="also take an N-second CPU profile with each snapshot")
    p.add_argument("--goroutineleak", action="store_true",
                   help="also pull Go 1.27's goroutineleak profile (runs a leak-detecting "
                        "GC; later dumps mark the goroutines it proved leaked)")
    p.add_argument("--timeout", type=_duration, default=10.0, metavar="DURATION",
                   help="give up on a request after this long (default 10s)")
    p.add_argument("-o", "--output", metavar="DIR",
                   help="a new directory for the files (default capture-<UTC time>)")
    p.set_defaults(run=run)


def run(args) -> int:
    from reportgen.capture import run_capture

    out = args.output or datetime.datetime.now(datetime.timezone.utc).strftime(
        "capture-%Y%m%dT%H%M%SZ")
    cap = run_capture(args.url, out, args.every, args.count, args.profile_seconds,
                      args.goroutineleak, args.timeout,
                      progress=lambda line: print(line, file=sys.stderr))
    print(f"wrote {len(cap.snapshots)} snapshots and {cap.out / 'site.yml'}; build the "
          f"report with: reportgen build {cap.out / 'site.yml'}")
    return 0
