"""Running `go tool trace` as the reference: its -pprof output and its goroutine pages.

Used by the differential tests only; every function needs the Go toolchain.
"""

from __future__ import annotations

import html
import re
import socket
import subprocess
import time
import urllib.parse
import urllib.request

_UNITS = {"ns": 1, "µs": 1_000, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000,
          "m": 60_000_000_000, "h": 3_600_000_000_000}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|µs|us|ms|s|m|h)")


def parse_duration(text: str) -> int:
    """Nanoseconds of Go's time.Duration.String() ("1h2m3.5s", "1.234567ms", "0s")."""
    text = text.strip()
    neg = text.startswith("-")
    text = text.lstrip("-")
    if text == "0s":
        return 0
    total = 0
    pos = 0
    for m in _PART.finditer(text):
        assert m.start() == pos, text
        whole, _, frac = m.group(1).partition(".")
        unit = _UNITS[m.group(2)]
        total += int(whole) * unit + (int(frac.ljust(18, "0")[:18]) * unit) // 10 ** 18
        pos = m.end()
    assert pos == len(text), text
    return -total if neg else total


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TraceServer:
    """`go tool trace -http=127.0.0.1:PORT TRACE`, stopped on exit."""

    def __init__(self, go: str, trace_path):
        self.port = free_port()
        self.proc = subprocess.Popen([go, "tool", "trace", f"-http=127.0.0.1:{self.port}",
                                      str(trace_path)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, env=_no_browser_env())

    def __enter__(self):
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                self.get("/goroutines")
                return self
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(self.proc.stderr.read().decode())
                time.sleep(0.2)
        raise TimeoutError("go tool trace did not start")

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.proc.stderr.close()

    def get(self, path: str) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=60) as r:
            return r.read().decode()

    def groups(self) -> list:
        """[(start, count, execution ns)] from /goroutines, in its order."""
        page = self.get("/goroutines")
        rows = re.findall(r'<a href="/goroutine\?name=[^"]*">(.*?)</a></code></td>\s*'
                          r'<td>(\d+)</td>\s*<td>([^<]*)</td>', page, re.S)
        return [(html.unescape(n), int(c), parse_duration(d)) for n, c, d in rows]

    def group(self, name: str) -> dict:
        """{goroutine id: {column: ns}} from /goroutine?name=NAME (Total and each breakdown)."""
        page = self.get("/goroutine?name=" + urllib.parse.quote(name, safe=""))
        table = page.split('<table class="details">')[1]
        headers = [html.unescape(h).strip() for h in
                   re.findall(r"<th[^>]*>([^<]*)</th>", table.split("</tr>")[0])]
        columns = [h for h in headers if h not in ("Goroutine", "Total", "")]
        out = {}
        for row in table.split("</tr>")[1:]:
            m = re.search(r'<a href="/trace\?goid=(\d+)">', row)
            if not m:
                continue
            cells = re.findall(r"<td>\s*([^<]*?)\s*</td>", row)
            vals = [parse_duration(c) for c in cells if c]
            assert len(vals) == len(columns) + 1, (row, columns)
            out[int(m.group(1))] = {"Total": vals[0], **dict(zip(columns, vals[1:]))}
        return out


def _no_browser_env():
    import os
    env = dict(os.environ)
    env["BROWSER"] = "true"  # go tool trace opens a browser otherwise
    return env
