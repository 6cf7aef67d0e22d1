"""Differential test: `reportgen top` against a real `go tool pprof -top`.

For every sample type of every committed example profile, at functions and
lines granularity, and for before/after --diff-base pairs, the rows (names,
inline marks, flat, cum, order) and the total must be identical.
"""

import json
import re
import subprocess
from pathlib import Path

import pytest

from reportgen.sources import load_profile
from tests.gotool import go_binary

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_PROFILES = sorted(p for p in (ROOT / "examples").glob("*/profiles/**/*.pb.gz"))
ROW = re.compile(r"^\s*(-?[\d.]+)[a-zA-Z]*\s+\S+\s+\S+\s+(-?[\d.]+)[a-zA-Z]*\s+\S+\s+(.*)$")
TOTAL = re.compile(r"of (-?[\d.]+)[a-zA-Z]* total")


def pprof_top(go, target, sample_index, unit, granularity, base=None):
    cmd = [go, "tool", "pprof", "-top", "-nodecount=1000000", "-nodefraction=0",
           "-edgefraction=0", f"-unit={unit}", f"-sample_index={sample_index}", f"-{granularity}"]
    if base:
        cmd.append(f"-diff_base={base}")
    out = subprocess.run(cmd + [str(target)], capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()
    header = lines.index(next(line for line in lines if line.split()[:2] == ["flat", "flat%"]))
    total = int(float(TOTAL.search(out).group(1)))
    rows = []
    for line in lines[header + 1:]:
        m = ROW.match(line)
        assert m, line
        rows.append((m.group(3), int(float(m.group(1))), int(float(m.group(2)))))
    return total, rows


def reportgen_top(run_cli, target, sample_index, granularity, base=None):
    args = ["top", str(target), "--format", "json", "--nodes", "all",
            "--sample-index", sample_index, "--granularity", granularity]
    if base:
        args += ["--diff-base", str(base)]
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    rows = [(r["name"] + (f" ({r['inline']})" if r.get("inline") else ""), r["flat"], r["cum"])
            for r in data["rows"]]
    return data["total"], rows


def unit_flag(profile, sample_index):
    unit = next(t.unit for t in profile.sample_types if t.type == sample_index)
    return "ns" if unit in ("nanoseconds", "milliseconds", "microseconds", "seconds") else "B"


def cases():
    for path in EXAMPLE_PROFILES:
        for st in load_profile(path).sample_types:
            for granularity in ("functions", "lines"):
                yield pytest.param(path, st.type, granularity,
                                   id=f"{path.relative_to(ROOT / 'examples')}:{st.type}:{granularity}")


@pytest.mark.skipif(not EXAMPLE_PROFILES, reason="no example profiles")
@pytest.mark.parametrize("path,sample_index,granularity", list(cases()))
def test_top_equals_pprof(run_cli, path, sample_index, granularity):
    go = go_binary()
    unit = unit_flag(load_profile(path), sample_index)
    expected = pprof_top(go, path, sample_index, unit, granularity)
    assert reportgen_top(run_cli, path, sample_index, granularity) == expected


def diff_pairs():
    for before in EXAMPLE_PROFILES:
        if before.parent.name != "before":
            continue
        after = before.parent.parent / "after" / before.name
        if after.exists() and before.name in ("cpu.pb.gz", "allocs.pb.gz", "heap.pb.gz"):
            for st in load_profile(before).sample_types:
                yield pytest.param(after, before, st.type,
                                   id=f"{before.parent.parent.parent.name}/{before.name}:{st.type}")


@pytest.mark.parametrize("target,base,sample_index", list(diff_pairs()))
def test_diff_base_equals_pprof(run_cli, target, base, sample_index):
    go = go_binary()
    unit = unit_flag(load_profile(target), sample_index)
    for granularity in ("functions", "lines"):
        expected = pprof_top(go, target, sample_index, unit, granularity, base=base)
        assert reportgen_top(run_cli, target, sample_index, granularity, base=base) == expected


@pytest.mark.parametrize("target,base,sample_index", list(diff_pairs()))
def test_base_normalize_equals_pprof(run_cli, target, base, sample_index):
    """reportgen diff --mode base --normalize vs pprof -base -normalize."""
    go = go_binary()
    unit = unit_flag(load_profile(target), sample_index)
    cmd = [go, "tool", "pprof", "-top", "-nodecount=1000000", "-nodefraction=0",
           "-edgefraction=0", f"-unit={unit}", f"-sample_index={sample_index}",
           f"-base={base}", "-normalize", str(target)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["flat", "flat%"])
    expected = []
    for line in lines[header + 1:]:
        m = ROW.match(line)
        expected.append((m.group(3), int(float(m.group(1))), int(float(m.group(2)))))
    proc = run_cli("diff", base, target, "--mode", "base", "--normalize",
                   "--sample-index", sample_index, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    table = json.loads(proc.stdout)["table"]
    got = [(r["name"] + (f" ({r['inline']})" if r.get("inline") else ""), r["flat"], r["cum"])
           for r in table["rows"]]
    assert got == expected
    assert table["total"] == int(float(TOTAL.search(out).group(1)))


@pytest.mark.skipif(not EXAMPLE_PROFILES, reason="no example profiles")
@pytest.mark.parametrize("path", EXAMPLE_PROFILES,
                         ids=[str(p.relative_to(ROOT / "examples")) for p in EXAMPLE_PROFILES])
def test_default_top_text_is_byte_identical(run_cli, path):
    """`reportgen top FILE` prints exactly what `go tool pprof -top FILE` prints."""
    go = go_binary()
    expected = subprocess.run([go, "tool", "pprof", "-top", str(path)], capture_output=True,
                              text=True, check=True).stdout
    proc = run_cli("top", path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == expected
