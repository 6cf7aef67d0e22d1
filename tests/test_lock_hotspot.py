"""`reportgen top --format json` on mutex and block profiles names the lock holder
(the program frame nearest the leaf, by value) as program_hotspot, the same
function the profile's card names, not the hot path by cum."""

import gzip
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from profiles import ProfileBuilder
from reportgen.proto import profile_pb2

ROOT = Path(__file__).resolve().parent.parent
GATEWAY = ROOT / "examples" / "gateway" / "profiles"


def top_json(path, *args):
    proc = subprocess.run([sys.executable, "-m", "reportgen", "top", str(path), *args,
                           "--format", "json"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def nearest_program_frame(path: Path, sample_type: str) -> tuple[str, int]:
    """Computed from the protobuf alone: per sample, the first `main.` function from
    the leaf (inlined frames innermost first); the function with the most value."""
    data = path.read_bytes()
    msg = profile_pb2.Profile()
    msg.ParseFromString(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data)
    st = msg.string_table
    index = [st[t.type] for t in msg.sample_type].index(sample_type)
    funcs = {f.id: st[f.name] for f in msg.function}
    locs = {loc.id: [funcs[ln.function_id] for ln in loc.line] for loc in msg.location}
    held = Counter()
    for s in msg.sample:
        names = [n for loc in s.location_id for n in locs[loc]]
        first = next((n for n in names if n.startswith("main.")), None)
        if first and s.value[index]:
            held[first] += abs(s.value[index])
    name, value = max(held.items(), key=lambda kv: (kv[1], kv[0]))
    return name, value


def mutex_profile(path: Path) -> Path:
    """main.serve -> main.handle (all of it), which spends 60% in main.lockA (its
    Unlock) and 40% in main.helper -> main.lockB: the hot path by cum stops at
    main.handle (no program callee holds 80%), the lock holder is main.lockA."""
    b = ProfileBuilder(sample_types=[("contentions", "count"), ("delay", "nanoseconds")],
                       period_type=("contentions", "count"), period=1)
    f = {n: b.function(n, f"/src/{n.split('.')[-1]}.go") for n in (
        "main.main", "main.serve", "main.handle", "main.lockA", "main.helper", "main.lockB",
        "sync.(*Mutex).Unlock")}
    loc = {n: b.location((fid, 10)) for n, fid in f.items()}
    base = [loc["main.handle"], loc["main.serve"], loc["main.main"]]
    b.sample([loc["sync.(*Mutex).Unlock"], loc["main.lockA"], *base], [6, 6_000])
    b.sample([loc["sync.(*Mutex).Unlock"], loc["main.lockB"], loc["main.helper"], *base],
             [4, 4_000])
    return b.write(path / "mutex.pb.gz")


def test_synthetic_mutex_hotspot_is_the_lock_holder(tmp_path):
    path = mutex_profile(tmp_path)
    for sample_type in ("contentions", "delay"):
        name, _value = nearest_program_frame(path, sample_type)
        assert name == "main.lockA"
        got = top_json(path, "--sample-index", sample_type)["program_hotspot"]
        assert got["name"] == name, got
    # The card says the same.
    out = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "reportgen", "build", "-o", str(out), str(path),
                    "--jobs", "1"], cwd=ROOT, check=True, capture_output=True, timeout=120)
    card = re.sub(r"<[^>]+>", "", (out / "index.html").read_text())
    assert "main.lockA holds the contended lock: 60% of lock wait" in card


@pytest.mark.parametrize("kind", ["mutex", "block"])
@pytest.mark.parametrize("sample_type", ["contentions", "delay"])
def test_gateway_hotspot_is_the_lock_holder(kind, sample_type):
    path = GATEWAY / "before" / f"{kind}.pb.gz"
    name, _value = nearest_program_frame(path, sample_type)
    got = top_json(path, "--sample-index", sample_type)["program_hotspot"]
    assert got["name"] == name


def test_cpu_hotspot_is_still_the_hot_path(tmp_path):
    """The same stacks as a CPU profile: the hot path by cum stops at main.handle."""
    b = ProfileBuilder(sample_types=[("samples", "count"), ("cpu", "nanoseconds")],
                       period_type=("cpu", "nanoseconds"), period=10_000_000)
    f = {n: b.function(n, f"/src/{n.split('.')[-1]}.go") for n in (
        "main.main", "main.serve", "main.handle", "main.lockA", "main.helper")}
    loc = {n: b.location((fid, 10)) for n, fid in f.items()}
    base = [loc["main.handle"], loc["main.serve"], loc["main.main"]]
    b.sample([loc["main.lockA"], *base], [6, 60_000_000])
    b.sample([loc["main.helper"], *base], [4, 40_000_000])
    assert top_json(b.write(tmp_path / "cpu.pb.gz"))["program_hotspot"]["name"] == "main.handle"
