"""`reportgen capture` against small HTTP servers on 127.0.0.1: what it writes, and its
one-line errors when the service is down, slow or not pprof."""

import socket
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from reportgen.capture import CaptureError, Capture, parse_duration, pprof_base, run_capture
from reportgen.manifest import load_manifest

ROOT = Path(__file__).resolve().parent.parent
SNAPS = ROOT / "examples" / "leaky" / "snapshots"


def _first(pattern):
    return sorted(SNAPS.glob(pattern))[0].read_bytes()


PPROF = {  # what net/http/pprof answers, from the example's capture
    "/debug/pprof/goroutine?debug=1": b"goroutine profile: total 1\n1 @ 0x1\n#\t0x1\tmain.main+0x1"
                                      b"\tmain.go:1\n\n",
    "/debug/pprof/goroutine?debug=2": _first("goroutine-*.txt"),
    "/debug/pprof/goroutine": _first("goroutine-*.pb.gz"),
    "/debug/pprof/heap?gc=1": _first("heap-*.pb.gz"),
    "/debug/pprof/profile?seconds=1": _first("heap-*.pb.gz"),  # any gzip will do here
}


@contextmanager
def serve(routes: dict, delay: float = 0.0):
    """An HTTP server on 127.0.0.1 answering `routes` (path -> bytes), 404 otherwise."""
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            time.sleep(delay)
            body = routes.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.end_headers()
            if body is not None:
                self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_durations_and_urls():
    assert parse_duration("30s") == 30 and parse_duration("1m30s") == 90
    assert parse_duration("500ms") == 0.5 and parse_duration("2") == 2
    with pytest.raises(ValueError):
        parse_duration("soon")
    assert pprof_base("127.0.0.1:6060") == "http://127.0.0.1:6060/debug/pprof/"
    assert pprof_base("http://127.0.0.1:6060/debug/pprof/goroutine?debug=2") == \
        "http://127.0.0.1:6060/debug/pprof/"
    assert pprof_base("http://127.0.0.1:6060/admin/") == "http://127.0.0.1:6060/admin/debug/pprof/"
    with pytest.raises(CaptureError):
        pprof_base("ftp://127.0.0.1/")


def test_capture_writes_sortable_files_and_a_manifest_that_validates(tmp_path):
    out = tmp_path / "cap"
    lines = []
    with serve(PPROF) as url:
        cap = run_capture(url, out, every=0.2, count=3, profile_seconds=1, progress=lines.append)
    names = sorted(p.name for p in out.iterdir())
    for kind, suffix in (("goroutine", ".txt"), ("goroutine", ".pb.gz"), ("heap", ".pb.gz"),
                         ("cpu", ".pb.gz")):
        got = [n for n in names if n.startswith(kind + "-") and n.endswith(suffix)]
        assert len(got) == 3 and got == sorted(got), names
        assert [n.split("-")[1] for n in got] == ["01", "02", "03"]
    assert "site.yml" in names and len(lines) == 3 and "goroutines" in lines[0]
    manifest = load_manifest(out / "site.yml")
    kinds = [a.kind for a in manifest.analyses]
    assert kinds[:2] == ["leaks", "goroutines"] and "diff" in kinds and "top" in kinds
    leaks = manifest.analyses[0].options
    assert leaks["snapshots"] == ["goroutine-01", "goroutine-02", "goroutine-03"]
    assert leaks["heap"] == ["heap-01", "heap-02", "heap-03"]
    assert len(cap.snapshots) == 3


def test_goroutineleak_is_skipped_when_the_service_lacks_it(tmp_path):
    with serve(PPROF) as url:
        cap = run_capture(url, tmp_path / "c", every=0.1, count=1, goroutineleak=True,
                          progress=lambda _: None)
    assert cap.notes and "1.27" in cap.notes[0]
    assert not list((tmp_path / "c").glob("goroutineleak-*"))


def test_the_manifest_is_rewritten_after_each_snapshot(tmp_path):
    with serve(PPROF) as url:
        cap = Capture(url, tmp_path / "c", count=2)
        cap.prepare()
        cap.snapshot()
        first = load_manifest(tmp_path / "c" / "site.yml")
        assert first.analyses[0].options["snapshots"] == ["goroutine-01"]
        cap.snapshot()
    assert len(load_manifest(tmp_path / "c" / "site.yml").analyses[0].options["snapshots"]) == 2


@pytest.mark.parametrize("case", ["down", "not-pprof", "404", "slow", "bad-dump"])
def test_clear_errors(tmp_path, case):
    routes = {"/debug/pprof/goroutine?debug=1": b"<html>hello</html>"} if case == "not-pprof" \
        else {} if case == "404" else dict(PPROF, **{"/debug/pprof/goroutine?debug=2": b"<html>"}) \
        if case == "bad-dump" else PPROF
    expect = {"down": "connection refused", "not-pprof": "not like Go's net/http/pprof",
              "404": "HTTP 404", "slow": "no answer within 0.3s",
              "bad-dump": "not a Go pprof goroutine profile"}[case]
    out = tmp_path / "c"
    if case == "down":
        url = f"http://127.0.0.1:{closed_port()}"
        with pytest.raises(CaptureError, match=expect):
            run_capture(url, out, every=0.1, count=1, progress=lambda _: None)
        return
    with serve(routes, delay=1.0 if case == "slow" else 0.0) as url:
        with pytest.raises(CaptureError, match=expect):
            run_capture(url, out, every=0.1, count=1, timeout=0.3, progress=lambda _: None)
    if case != "bad-dump":
        assert not out.exists()  # nothing written when the first request fails


def test_refuses_a_directory_with_files(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    with serve(PPROF) as url, pytest.raises(CaptureError, match="not an empty directory"):
        run_capture(url, tmp_path, every=0.1, count=1, progress=lambda _: None)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_capture_command_errors_are_one_line(run_cli, tmp_path):
    r = run_cli("capture", f"127.0.0.1:{closed_port()}", "--count", "1", "-o", tmp_path / "c")
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "connection refused" in r.stderr
    r = run_cli("capture", "http://127.0.0.1:1", "--every", "often")
    assert r.returncode == 2 and "not a duration" in r.stderr


def test_capture_command_and_build(run_cli, tmp_path):
    out = tmp_path / "c"
    with serve(PPROF) as url:
        r = run_cli("capture", url, "--every", "100ms", "--count", "2", "-o", out)
    assert r.returncode == 0, r.stderr
    assert "reportgen build" in r.stdout and r.stderr.count("snapshot ") == 2
    r = run_cli("build", out / "site.yml", "-o", tmp_path / "site")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "site" / "pages" / "01-leaks.html").exists()
