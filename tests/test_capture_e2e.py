"""End to end: the example Go program serves net/http/pprof on 127.0.0.1, `reportgen
capture` pulls a few snapshots, and the built report ranks a true leak first."""

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.gotool import go_binary

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "leaky"
TRUE_LEAKS = {"main.(*poller).resolve.func1", "net/http.(*persistConn).readLoop",
              "net/http.(*persistConn).writeLoop", "main.(*poller).expireLater.func1",
              "main.(*alertLogger).send"}


@pytest.fixture(scope="module")
def leaky_binary(tmp_path_factory):
    out = tmp_path_factory.mktemp("leaky") / "leaky"
    subprocess.run([go_binary(), "build", "-trimpath", "-o", str(out), "."], cwd=EXAMPLE,
                   check=True, capture_output=True, timeout=300)
    return out


def start(binary, *args):
    """Run the example; return the process and its pprof address (its first line)."""
    proc = subprocess.Popen([str(binary), "-addr", "127.0.0.1:0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    m = re.match(r"pprof on (http://127\.0\.0\.1:\d+)/debug/pprof/", line)
    if not m:
        proc.kill()
        raise AssertionError(f"unexpected first line: {line!r}")
    return proc, m[1]


def stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def reportgen(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "reportgen", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def test_capture_a_running_leaky_service_and_rank_its_leaks(leaky_binary, tmp_path):
    proc, url = start(leaky_binary, "-interval", "100ms")
    try:
        time.sleep(0.5)
        r = reportgen("capture", url, "--every", "1s", "--count", "3", "--goroutineleak",
                      "-o", tmp_path / "cap")
    finally:
        stop(proc)
    assert r.returncode == 0, r.stderr
    dumps = sorted((tmp_path / "cap").glob("goroutine-*.txt"))
    assert len(dumps) == 3 and len(list((tmp_path / "cap").glob("heap-*.pb.gz"))) == 3

    r = reportgen("leaks", *dumps, "--format", "json")
    assert r.returncode == 0, r.stderr
    suspects = json.loads(r.stdout)["suspects"]
    first = suspects[0]
    assert first["headline"] in TRUE_LEAKS, first
    assert first["counts"] == sorted(first["counts"]) and first["counts"][-1] > first["counts"][0]
    heads = {s["headline"] for s in suspects[:5]}
    assert len(heads & TRUE_LEAKS) >= 4, [s["signature"] for s in suspects]

    site = tmp_path / "site"
    r = reportgen("build", tmp_path / "cap" / "site.yml", "-o", site)
    assert r.returncode == 0, r.stderr
    page = (site / "pages" / "01-leaks.html").read_text()
    first_card = page[page.index('id="suspect-1"'):page.index('id="suspect-2"')]
    assert first["headline"] in first_card


def test_the_fixed_service_raises_no_alarm(leaky_binary, tmp_path):
    proc, url = start(leaky_binary, "-interval", "100ms", "-fixed")
    try:
        time.sleep(0.5)
        r = reportgen("capture", url, "--every", "1s", "--count", "3", "-o", tmp_path / "cap")
    finally:
        stop(proc)
    assert r.returncode == 0, r.stderr
    r = reportgen("leaks", *sorted((tmp_path / "cap").glob("goroutine-*.txt")), "--fail")
    assert r.returncode == 0, r.stdout
    assert "No leak suspect" in r.stdout
