"""Allocation attribution: runtime helpers and library calls count for the user line.

Expectations come from `go tool pprof` itself: per-sample stacks from
`-traces -lines` (walked here with a separate, plain-Python reading of the
rule) and per-line flat values from `-top -lines`.
"""

import re
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from profiles import ProfileBuilder
from reportgen.analyze.escapes import escape_hints, line_costs
from reportgen.analyze.top import resolve_sample_index
from reportgen.model import Function, Line, Location, Profile, ValueType
from reportgen.sources import load_profile
from tests.gotool import go_binary

ROOT = Path(__file__).resolve().parent.parent
REAL = [ROOT / "tests/data/escapes/cases/captured/mem.pb.gz",
        ROOT / "examples/escapes/profiles/mem.pb.gz",
        *sorted((ROOT / "examples/gateway/profiles").glob("*/allocs.pb.gz")),
        *sorted((ROOT / "examples/gateway/profiles").glob("*/heap.pb.gz"))]
SAMPLE_TYPES = ["alloc_objects", "alloc_space", "inuse_objects", "inuse_space"]


def old_go_profile(path: Path) -> Path:
    """A heap profile as Go wrote them before runtime frames were hidden: helpers on top."""
    b = ProfileBuilder(sample_types=[("alloc_objects", "count"), ("alloc_space", "bytes")],
                       default_sample_type="alloc_space")
    f = {}
    for name, file in [
            ("runtime.mallocgc", "/usr/local/go/src/runtime/malloc.go"),
            ("runtime.growslice", "/usr/local/go/src/runtime/slice.go"),
            ("runtime.newobject", "/usr/local/go/src/runtime/malloc.go"),
            ("runtime.makeslice", "/usr/local/go/src/runtime/slice.go"),
            ("runtime.concatstrings", "/usr/local/go/src/runtime/string.go"),
            ("runtime.concatstring2", "/usr/local/go/src/runtime/string.go"),
            ("runtime.mapassign_faststr", "/usr/local/go/src/runtime/map_faststr.go"),
            ("internal/runtime/maps.(*table).grow",
             "/usr/local/go/src/internal/runtime/maps/table.go"),
            ("runtime.convTstring", "/usr/local/go/src/runtime/iface.go"),
            ("reflect.growslice", "/usr/local/go/src/runtime/slice.go"),   # a linkname
            ("runtime.malg", "/usr/local/go/src/runtime/proc.go"),
            ("runtime.newproc1", "/usr/local/go/src/runtime/proc.go"),
            ("runtime.systemstack", "/usr/local/go/src/runtime/asm_amd64.s"),
            ("bytes.growSlice", "/usr/local/go/src/bytes/buffer.go"),
            ("bytes.(*Buffer).grow", "/usr/local/go/src/bytes/buffer.go"),
            ("bytes.(*Buffer).Write", "/usr/local/go/src/bytes/buffer.go"),
            ("reflect.Value.grow", "/usr/local/go/src/reflect/value.go"),
            ("encoding/json.Unmarshal", "/usr/local/go/src/encoding/json/decode.go"),
            ("main.filter", "/src/app/filter.go"), ("main.handle", "/src/app/handler.go"),
            ("main.helper", "/src/app/handler.go"), ("main.key", "/src/app/key.go"),
            ("main.main", "/src/app/main.go")]:
        f[name] = b.function(name, file)
    b.mapping("/src/app/app", has_functions=True)
    locs = {}

    def at(name, line, inlined_into=None):
        key = (name, line, inlined_into)
        if key not in locs:
            lines = [(f[name], line)] + ([(f[inlined_into[0]], inlined_into[1])]
                                         if inlined_into else [])
            locs[key] = b.location(*lines, address=0x1000 + 16 * len(locs), mapping=1)
        return locs[key]

    rt = {n: at(n, 1) for n in f if n.startswith(("runtime.", "internal/runtime/"))}
    rt["reflect.growslice"] = at("reflect.growslice", 373)
    root = [at("main.handle", 30), at("main.main", 5)]
    samples = [
        ([rt["runtime.mallocgc"], rt["runtime.growslice"], at("main.filter", 12)] + root, 100),
        ([rt["runtime.growslice"], at("main.filter", 12)] + root, 200),
        ([rt["runtime.newobject"], at("main.handle", 31), at("main.main", 5)], 50),
        ([at("main.filter", 13)] + root, 7),
        ([rt["runtime.concatstrings"], rt["runtime.concatstring2"], at("main.key", 8),
          at("main.handle", 32), at("main.main", 5)], 40),
        ([rt["runtime.mallocgc"], rt["runtime.makeslice"], at("bytes.growSlice", 250),
          at("bytes.(*Buffer).grow", 150), at("bytes.(*Buffer).Write", 180),
          at("main.handle", 33), at("main.main", 5)], 64),
        ([rt["internal/runtime/maps.(*table).grow"], rt["runtime.mapassign_faststr"],
          at("main.handle", 34), at("main.main", 5)], 80),
        ([rt["reflect.growslice"], at("reflect.Value.grow", 2760),
          at("encoding/json.Unmarshal", 111), at("main.handle", 35), at("main.main", 5)], 16),
        ([rt["runtime.convTstring"], at("main.handle", 36), at("main.main", 5)], 16),
        ([rt["runtime.malg"], rt["runtime.newproc1"], rt["runtime.systemstack"]], 300),
        ([rt["runtime.growslice"], at("main.helper", 20, ("main.handle", 37)),
          at("main.main", 5)], 24),
        ([rt["runtime.growslice"], at("main.filter", 12)] + root, 0),
        ([rt["runtime.newobject"], at("main.filter", 14), at("main.filter", 15),
          at("main.filter", 14)] + root, 8),
    ]
    for stack, value in samples:
        b.sample(stack, [1 if value else 0, value])
    return b.write(path)


def costs_by_line(profile, sample_index):
    return {(c.function, c.file, c.line): (c.value, c.flat, c.helpers, c.via)
            for c in line_costs(profile, resolve_sample_index(profile, sample_index))}


def test_helpers_resolve_to_the_calling_user_line(tmp_path):
    got = costs_by_line(load_profile(old_go_profile(tmp_path / "old.pb.gz")), "alloc_space")
    h, f = "/src/app/handler.go", "/src/app/filter.go"
    assert got[("main.filter", f, 12)] == (300, 0, {"runtime.growslice": 300}, {})
    assert got[("main.filter", f, 13)] == (7, 7, {}, {})
    assert got[("main.filter", f, 14)] == (8, 0, {"runtime.newobject": 8}, {})
    assert got[("main.handle", h, 31)] == (50, 0, {"runtime.newobject": 50}, {})
    assert got[("main.key", "/src/app/key.go", 8)] == (40, 0, {"runtime.concatstring2": 40}, {})
    assert got[("main.handle", h, 33)] == (64, 0, {}, {"bytes.(*Buffer).Write": 64})
    assert got[("main.handle", h, 34)] == (80, 0, {"runtime.mapassign_faststr": 80}, {})
    assert got[("main.handle", h, 35)] == (16, 0, {}, {"encoding/json.Unmarshal": 16})
    assert got[("main.handle", h, 36)] == (16, 0, {"runtime.convTstring": 16}, {})
    # The inlined helper's own line, not the line it was inlined into.
    assert got[("main.helper", h, 20)] == (24, 0, {"runtime.growslice": 24}, {})
    # A stack with nothing but runtime frames stays on its leaf.
    assert got[("runtime.malg", "/usr/local/go/src/runtime/proc.go", 1)] == (300, 300, {}, {})
    assert sum(v[0] for v in got.values()) == 905


def test_helper_categories_without_a_compiler_log(tmp_path):
    result = escape_hints(load_profile(old_go_profile(tmp_path / "old.pb.gz")), limit=None)
    kinds = {(Path(h.file).name, h.line): h.category for h in result.hints}
    assert kinds == {("filter.go", 12): "growth", ("filter.go", 13): "other",
                     ("filter.go", 14): "address", ("handler.go", 31): "address",
                     ("key.go", 8): "concat", ("handler.go", 33): "growth",
                     ("handler.go", 34): "map", ("handler.go", 35): "interface",
                     ("handler.go", 36): "interface", ("handler.go", 20): "growth"}
    assert result.outside == 300     # runtime.malg: no user frame on the stack
    assert [h.line for h in result.hints[:2]] == [12, 34]


# --- the same numbers from go tool pprof

LABEL = re.compile(r"^\s*\S+:  ")
FRAME = re.compile(r"^ *(?P<value>-?\d+(?:\.\d+)?[a-zA-Z]*)?   (?P<frame>\S.*)$")
PLACE = re.compile(r"^(?P<name>.*) (?P<file>\S+):(?P<line>\d+)$")
STDLIB_ROOTS = {"bufio", "bytes", "context", "compress", "crypto", "encoding", "errors", "fmt",
                "internal", "io", "log", "math", "net", "os", "reflect", "regexp", "runtime",
                "sort", "strconv", "strings", "sync", "syscall", "testing", "time", "unicode",
                "vendor", "path", "mime", "slices", "maps", "container", "hash", "iter"}


def pprof_traces(path, sample_index):
    cmd = [go_binary(), "tool", "pprof", "-traces", "-lines", "-unit=B", "-symbolize=none",
           f"-sample_index={sample_index}", str(path)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    samples, frames, value, started = [], None, 0, False
    for line in out.splitlines():
        if line.startswith("-----------+"):
            if frames:
                samples.append((value, frames))
            frames, started = [], True
            continue
        if not started or LABEL.match(line):
            continue
        m = FRAME.match(line)
        assert m, line
        if m["value"] is not None:
            value = int(re.match(r"-?\d+", m["value"])[0])
        place = PLACE.match(m["frame"].removesuffix(" (inline)"))
        frames.append((place["name"], place["file"], int(place["line"])))
    return samples


def runtime_frame(name, file):
    in_runtime_dir = re.search(r"(^|/src/)runtime/[^/]+$", file) or "internal/runtime/" in file
    return name.startswith(("runtime.", "internal/runtime/")) or bool(in_runtime_dir)


def library_frame(name, file):
    pkg = name.split("(")[0]
    pkg = pkg[:pkg.find(".", pkg.rfind("/") + 1)]
    first = pkg.split("/")[0]
    return (first in STDLIB_ROOTS) or file.endswith("_testmain.go") or runtime_frame(name, file)


def expected_costs(samples):
    """Owner line per sample by walking the frames from the leaf, in plain Python."""
    out = {}
    for value, frames in samples:
        if value == 0:
            continue
        site = next((i for i, fr in enumerate(frames) if not runtime_frame(*fr[:2])), None)
        helper = frames[site - 1][0] if site else None
        site = 0 if site is None else site
        owner = next((i for i, fr in enumerate(frames) if not library_frame(*fr[:2])), site)
        line = out.setdefault(frames[owner], [0, 0, {}, {}])
        helpers, via = line[2], line[3]
        line[0] += value
        if owner == 0:
            line[1] += value
        if owner == site and helper:
            helpers[helper] = helpers.get(helper, 0) + value
        if owner > site:
            name = frames[owner - 1][0]
            via[name] = via.get(name, 0) + value
    return {k: (v[0], v[1], v[2], v[3]) for k, v in out.items()}


def pprof_flat(path, sample_index):
    cmd = [go_binary(), "tool", "pprof", "-top", "-lines", "-unit=B", "-nodecount=1000000",
           "-nodefraction=0", "-edgefraction=0", "-symbolize=none",
           f"-sample_index={sample_index}", str(path)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    flat = {}
    for line in out.splitlines():
        m = re.match(r"^\s*(-?\d+)[a-zA-Z]*\s+\S+\s+\S+\s+-?\d+[a-zA-Z]*\s+\S+\s+(.*)$", line)
        if m:
            place = PLACE.match(re.sub(r" \((partial-)?inline\)$", "", m[2]))
            flat[(place["name"], place["file"], int(place["line"]))] = int(m[1])
    return flat


def check_against_pprof(path, sample_index):
    profile = load_profile(path)
    got = costs_by_line(profile, sample_index)
    want = expected_costs(pprof_traces(path, sample_index))
    assert got == want
    # What a user line allocates itself is exactly pprof's flat for that line.
    flat = pprof_flat(path, sample_index)
    user = [key for key in got if not library_frame(*key[:2])]
    assert user
    assert {k: got[k][1] for k in user} == {k: flat.get(k, 0) for k in user}


def test_synthetic_helpers_equal_pprof(tmp_path):
    path = old_go_profile(tmp_path / "old.pb.gz")
    for sample_index in ("alloc_space", "alloc_objects"):
        check_against_pprof(path, sample_index)


@pytest.mark.parametrize("sample_index", SAMPLE_TYPES)
@pytest.mark.parametrize("path", REAL, ids=[str(p.relative_to(ROOT)) for p in REAL])
def test_real_profiles_equal_pprof(path, sample_index):
    check_against_pprof(path, sample_index)


def test_a_million_frames_stay_fast():
    rng = np.random.default_rng(7)
    functions = [Function(f"runtime.helper{i}", "runtime/x.go", "", 0) for i in range(20)]
    functions += [Function(f"fmt.F{i}", "fmt/print.go", "", 0) for i in range(50)]
    functions += [Function(f"example.com/app.F{i}", "example.com/app/f.go", "", 0)
                  for i in range(2000)]
    locations = [Location(0, -1, (Line(i % len(functions), 10 + i % 300, 0),), False)
                 for i in range(8000)]
    locations += [Location(0, -1, (Line(100 + i, 5, 0), Line(200 + i, 6, 0)), False)
                  for i in range(500)]
    nsamples, depth = 200_000, 5
    stacks = rng.integers(0, len(locations), size=(nsamples, depth))
    stacks[::3, 0] = rng.integers(0, 20, size=len(stacks[::3]))    # runtime leaves
    values = rng.integers(1, 1 << 20, size=(nsamples, 2), dtype=np.int64)
    profile = Profile("big", [ValueType("alloc_objects", "count"),
                              ValueType("alloc_space", "bytes")], functions, locations, [],
                      values, np.arange(0, nsamples * depth + 1, depth, dtype=np.int64),
                      stacks.reshape(-1).astype(np.int64), np.zeros(nsamples, np.int64))
    start = time.perf_counter()
    costs = line_costs(profile, 1)
    elapsed = time.perf_counter() - start
    assert sum(c.value for c in costs) == int(values[:, 1].sum())
    assert elapsed < 10, elapsed
