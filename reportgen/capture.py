"""Snapshots from a running Go service's net/http/pprof, and a site.yml to report on them.

Each snapshot is a goroutine dump in debug=2 (states, waits, creators) and
debug=0 (for go tool pprof), a heap profile taken after a GC, and
optionally a CPU profile and Go 1.27's goroutineleak profile. File names
carry the snapshot number and the UTC time, so they sort in capture order.
site.yml is rewritten after every snapshot: an interrupted capture still
builds.
"""

from __future__ import annotations

import datetime
import http.client
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import yaml

from reportgen import __version__
from reportgen.errors import ReportgenError
from reportgen.sources.goroutines import detect_goroutine_text

DEFAULT_TIMEOUT = 10.0
MARK = "# Written by `reportgen capture`"


class CaptureError(ReportgenError):
    """The service cannot be reached, or does not answer like net/http/pprof."""


def parse_duration(text: str) -> float:
    """Seconds in `30s`, `1m30s`, `500ms`, `2h` or a plain number of seconds."""
    t = text.strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", t):
        return float(t)
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", t)
    if not parts or "".join(a + b for a, b in parts) != t:
        raise ValueError(f"not a duration: {text!r} (like 30s, 1m30s, 500ms)")
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return sum(float(a) * scale[b] for a, b in parts)


def pprof_base(url: str) -> str:
    """`127.0.0.1:6060`, `http://host:6060/` or `.../debug/pprof/goroutine` ->
    `.../debug/pprof/`."""
    if "://" not in url:
        url = "http://" + url
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CaptureError(url, "expected an http:// URL of a Go service, like "
                                "http://127.0.0.1:6060")
    path = parts.path
    path = path[:path.index("/debug/pprof")] if "/debug/pprof" in path else path.rstrip("/")
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path + "/debug/pprof/", "", ""))


def fetch(url: str, timeout: float) -> bytes:
    """GET url, with every way it can fail turned into one CaptureError line."""
    request = urllib.request.Request(url, headers={"User-Agent": f"reportgen/{__version__}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.read()
    except urllib.error.HTTPError as e:
        hint = (": is net/http/pprof imported and served at this address?"
                if e.code == 404 else "")
        raise CaptureError(url, f"HTTP {e.code} {e.reason}{hint}") from None
    except urllib.error.URLError as e:
        raise CaptureError(url, _reason(e.reason, timeout)) from None
    except (TimeoutError, socket.timeout, ConnectionError, http.client.HTTPException,
            OSError) as e:
        raise CaptureError(url, _reason(e, timeout)) from None


def _reason(err, timeout: float) -> str:
    if isinstance(err, ConnectionRefusedError):
        return "connection refused: is the service running and listening there?"
    if isinstance(err, (TimeoutError, socket.timeout)):
        return f"no answer within {timeout:g}s (--timeout)"
    if isinstance(err, socket.gaierror):
        return "unknown host"
    return str(getattr(err, "strerror", None) or err)


def check_pprof(base: str, timeout: float):
    """One small request first, so a wrong address fails before anything is written."""
    body = fetch(base + "goroutine?debug=1", timeout)
    if not body.lstrip().startswith(b"goroutine profile: total"):
        raise CaptureError(base, "answered, but not like Go's net/http/pprof (no "
                                 "'goroutine profile: total' in /debug/pprof/goroutine?debug=1)")


def _is_gzip(body: bytes) -> bool:
    return body[:2] == b"\x1f\x8b"


def _is_debug1(body: bytes) -> bool:
    return b" profile: total " in body[:80]


class Capture:
    """Takes numbered snapshots into `out` and keeps its site.yml current."""

    def __init__(self, url: str, out: Path, count: int, profile_seconds: int = 0,
                 goroutineleak: bool = False, timeout: float = DEFAULT_TIMEOUT):
        self.base = pprof_base(url)
        self.out = Path(out)
        self.width = max(2, len(str(count)))
        self.profile_seconds = profile_seconds
        self.goroutineleak = goroutineleak
        self.timeout = timeout
        self.snapshots: list[dict] = []   # per snapshot: {kind: file name, "time": datetime}
        self.notes: list[str] = []

    def prepare(self):
        if self.out.exists() and (not self.out.is_dir() or any(self.out.iterdir())):
            raise CaptureError(self.out, "output exists and is not an empty directory; "
                                         "choose a new one with -o")
        check_pprof(self.base, self.timeout)
        self.out.mkdir(parents=True, exist_ok=True)

    def plan(self) -> list:
        """(kind, query, suffix, check) in the order they are pulled."""
        steps = []
        if self.goroutineleak:  # first: the debug=2 dump after it shows the (leaked) marks
            steps.append(("goroutineleak", "goroutineleak?debug=1", ".txt", _is_debug1))
        steps += [("goroutine", "goroutine?debug=2", ".txt", detect_goroutine_text),
                  ("goroutine-pb", "goroutine", ".pb.gz", _is_gzip),
                  ("heap", "heap?gc=1", ".pb.gz", _is_gzip)]
        if self.profile_seconds:
            steps.append(("cpu", f"profile?seconds={self.profile_seconds}", ".pb.gz", _is_gzip))
        return steps

    def snapshot(self, now: datetime.datetime | None = None) -> dict:
        now = now or datetime.datetime.now(datetime.timezone.utc)
        n = len(self.snapshots) + 1
        stamp = now.strftime("%Y%m%dT%H%M%SZ")
        taken = {"time": now}
        for kind, query, suffix, check in self.plan():
            timeout = self.timeout + (self.profile_seconds if kind == "cpu" else 0)
            try:
                body = fetch(self.base + query, timeout)
            except CaptureError as e:
                if kind == "goroutineleak" and "HTTP 404" in str(e):
                    self.goroutineleak = False  # Go before 1.27: no such profile
                    self.notes.append("no goroutineleak profile here (it needs Go 1.27)")
                    continue
                raise
            if not check(body):
                raise CaptureError(self.base + query, "answered with something that is not a "
                                                      "Go pprof " + kind.split("-")[0] + " profile")
            name = f"{kind.split('-')[0]}-{n:0{self.width}d}-{stamp}{suffix}"
            (self.out / name).write_bytes(body)
            taken[kind] = name
        self.snapshots.append(taken)
        self.write_manifest()
        return taken

    def write_manifest(self):
        profiles, analyses = {}, []
        series: dict = {"goroutine": [], "heap": [], "cpu": [], "goroutineleak": []}
        titles = {"goroutine": "Goroutines", "heap": "Heap", "cpu": "CPU",
                  "goroutineleak": "Leaked goroutines"}
        last = len(self.snapshots)
        for i, snap in enumerate(self.snapshots, start=1):
            for kind, names in series.items():
                # Each goroutineleak profile is also in the next dump's (leaked) marks:
                # the last one is enough for a page of its own.
                if kind in snap and (kind != "goroutineleak" or i == last):
                    name = f"{kind}-{i:0{self.width}d}"
                    profiles[name] = {
                        "path": snap[kind], "title": f"{titles[kind]} {snap['time']:%H:%M:%SZ}",
                        "labels": {"captured": f"{snap['time']:%Y-%m-%dT%H:%M:%SZ}",
                                   "snapshot": str(i)}}
                    names.append(name)
        goroutines, heaps = series["goroutine"], series["heap"]
        analyses.append({"kind": "leaks", "title": "Leak suspects", "snapshots": goroutines,
                         **({"heap": heaps} if heaps else {})})
        analyses.append({"kind": "goroutines", "title": "Goroutines, last snapshot",
                         "profile": goroutines[-1]})
        for name in series["goroutineleak"]:
            analyses.append({"kind": "goroutines", "profile": name,
                             "title": "Goroutines the runtime proved leaked (goroutineleak)"})
        if len(goroutines) > 1:
            analyses.append({"kind": "goroutines", "title": "Goroutines, first snapshot",
                             "profile": goroutines[0]})
        if len(heaps) > 1:
            analyses.append({"kind": "diff", "title": "Heap in use: first → last snapshot",
                             "base": heaps[0], "target": heaps[-1],
                             "sample_index": "inuse_space"})
        for name in series["cpu"][-1:]:
            analyses.append({"kind": "top", "profile": name})
        host = urllib.parse.urlsplit(self.base).netloc
        doc = {"title": f"Goroutine leaks: {host}", "output": "site", "profiles": profiles,
               "analyses": analyses}
        head = (f"{MARK} from {self.base} ({len(self.snapshots)} snapshots).\n"
                f"# Build the report: reportgen build {self.out / 'site.yml'}\n"
                f"# goroutine-*.pb.gz are the same dumps in debug=0, for go tool pprof.\n")
        if series["goroutineleak"]:
            head += "# Each goroutineleak-*.txt left its (leaked) marks in the next dump.\n"
        text = head + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
        tmp = self.out / ".site.yml.tmp"
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(self.out / "site.yml")


def run_capture(url: str, out, every: float, count: int, profile_seconds: int = 0,
                goroutineleak: bool = False, timeout: float = DEFAULT_TIMEOUT,
                progress=print) -> Capture:
    cap = Capture(url, Path(out), count, profile_seconds, goroutineleak, timeout)
    cap.prepare()
    start = time.monotonic()
    for i in range(count):
        wait = start + i * every - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        taken = cap.snapshot()
        dump = (cap.out / taken["goroutine"]).read_bytes()
        progress(f"snapshot {i + 1}/{count} at {taken['time']:%H:%M:%SZ}: "
                 f"{len(re.findall(rb'(?m)^goroutine [0-9]+ ', dump))} goroutines")
    for note in cap.notes:
        progress(note)
    return cap
