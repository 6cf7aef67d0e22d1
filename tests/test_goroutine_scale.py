"""The dump reader's bulk path (blocks of frame pairs, memoised lines) gives exactly what
its line-by-line reader gives, on the benchmark's seeded synthetic dumps; frames and
stacks are shared, not copied; large dumps stay within their time and memory (slow)."""

import importlib.util
import io
import re
from pathlib import Path

import pytest

from reportgen.analyze.leaks import find_leaks
from reportgen.sources import goroutines as G

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("gen_dumps", ROOT / "benchmarks" / "gen_dumps.py")
gen_dumps = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen_dumps)


def synthetic(kind: str, n: int, seed: int = 7) -> str:
    out = io.StringIO()
    (gen_dumps.gen_debug2 if kind == "debug2" else gen_dumps.gen_debug1)(out, n, seed)
    return out.getvalue()


def line_by_line(text: str) -> G.Snapshot:
    snap = G.Snapshot("x", "debug=2")
    reader = G._Debug2(snap)
    for no, lines in G._blocks(text):
        reader.lines(no, lines, last=False, cut=False)
    snap.total = len(snap.goroutines)
    return snap


def test_bulk_and_line_by_line_readers_agree():
    text = synthetic("debug2", 3000)
    bulk = G.parse_goroutines("x", text.encode())
    slow = line_by_line(text)
    assert bulk.total == slow.total == len(re.findall(r"^goroutine \d+ \[", text, re.M)) == 3000
    assert bulk.goroutines == slow.goroutines
    assert bulk.warnings == slow.warnings == []


def test_stacks_and_frames_are_shared():
    snap = G.parse_goroutines("x", synthetic("debug2", 3000).encode())
    lists = {id(g.frames) for g in snap.goroutines}
    frames = {id(f) for g in snap.goroutines for f in g.frames}
    assert len(lists) < len(snap.goroutines) / 5
    assert len(frames) == len({f for g in snap.goroutines for f in g.frames})


def test_debug1_records_count_to_the_header():
    text = synthetic("debug1", 2000)
    snap = G.parse_goroutines("x", text.encode())
    assert len(snap.records) == 2000 and snap.warnings == []
    assert sum(r.count for r in snap.records) == snap.total == int(text.split()[3])
    assert find_leaks([snap], ["x"]).totals == [snap.total]


@pytest.mark.slow
def test_100k_goroutines_in_seconds(tmp_path):
    """A loose bound for CI (the benchmark measures the real figures)."""
    import resource
    import time
    path = tmp_path / "d2.txt"
    with open(path, "w") as out:
        gen_dumps.gen_debug2(out, 100_000, 1)
    data = path.read_bytes()
    t = time.process_time()
    snap = G.parse_goroutines(str(path), data)
    report = find_leaks([snap], ["d2"])
    assert time.process_time() - t < 15
    assert snap.total == 100_000 and report.suspects
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss < 2 * 1024 * 1024  # KiB
