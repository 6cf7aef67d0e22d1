"""peek against pprof's own -peek goldens and against a real `go tool pprof -peek`."""

import json
import re
import subprocess
from pathlib import Path

import pytest

from profiles import ProfileBuilder
from reportgen.analyze.graph import Part
from reportgen.analyze.peek import peek
from reportgen.analyze.top import diff_parts, resolve_sample_index
from reportgen.errors import UsageError
from reportgen.render.peek_text import format_peek
from reportgen.sources import load_profile
from tests.gotool import go_binary

ROOT = Path(__file__).resolve().parent.parent
GATEWAY = ROOT / "examples" / "gateway" / "profiles"

# golden, profile, regex, format_peek options
GOLDENS = [
    ("sample.cpu.peek_busyLoop.txt", "sample.cpu", "busyLoop", {}),
    ("synthetic/cpu.pb.gz.peek_line3001.txt", "synthetic/cpu.pb.gz", "line3001", {}),
    # COMMANDS.tsv: -peek=line.*01 plus -compact_labels -unit=minimum (and trim
    # flags that peek ignores).
    ("synthetic/expected/pprof.cpu.peek", "synthetic/cpu.pb.gz", "line.*01",
     {"compact_labels": True}),
]


def render(parts, regex, granularity="functions", unit="minimum", cum_sort=False, **options):
    result = peek(parts, regex, granularity, cum_sort=cum_sort)
    profiles = [p.profile for p in parts]
    return format_peek(parts[0].profile, result, unit=unit,
                       duration_nanos=sum(p.duration_nanos for p in profiles),
                       time_nanos=min((p.time_nanos for p in profiles if p.time_nanos), default=0),
                       **options)


def single(path, sample_index=None):
    profile = load_profile(path)
    return [Part(profile, resolve_sample_index(profile, sample_index))]


@pytest.mark.parametrize("golden,target,regex,options", GOLDENS, ids=[g[0] for g in GOLDENS])
def test_peek_text_equals_pprof_golden(testdata, golden, target, regex, options):
    path = testdata / golden
    if not path.exists():
        pytest.skip(f"{golden} not in this copy of the corpus")
    assert render(single(testdata / target), regex, **options) == path.read_text()


def pprof_peek(regex, target, unit, sample_index=None, granularity="functions", base=None,
               cum=False, base_flag="-diff_base"):
    cmd = [go_binary(), "tool", "pprof", "-symbolize=none", f"-peek={regex}", f"-unit={unit}",
           "-nodefraction=0", "-edgefraction=0", f"-{granularity}"]
    if sample_index:
        cmd.append(f"-sample_index={sample_index}")
    if base:
        cmd.append(f"{base_flag}={base}")
    if cum:
        cmd.append("-cum")
    return subprocess.run(cmd + [str(target)], capture_output=True, text=True, check=True).stdout


DIFFERENTIAL = [(f, rx, g) for f, unit in (("cpu.pb.gz", "ns"), ("heap.pb.gz", "B"))
                for rx in (r"^main\.", "json", "runtime.mallocgc", "Handler|Serve")
                for g in ("functions", "lines")]


@pytest.mark.skipif(not GATEWAY.is_dir(), reason="no example profiles")
@pytest.mark.parametrize("name,regex,granularity", DIFFERENTIAL,
                         ids=[f"{f}:{rx}:{g}" for f, rx, g in DIFFERENTIAL])
def test_peek_equals_go_tool_pprof(name, regex, granularity):
    unit = "ns" if name == "cpu.pb.gz" else "B"
    target = GATEWAY / "before" / name
    expected = pprof_peek(regex, target, unit, granularity=granularity)
    assert render(single(target), regex, granularity, unit=unit) == expected


@pytest.mark.skipif(not GATEWAY.is_dir(), reason="no example profiles")
@pytest.mark.parametrize("sample_index", ["alloc_space", "inuse_objects"])
def test_peek_other_sample_types_and_cum_sort(sample_index):
    target = GATEWAY / "before" / "heap.pb.gz"
    unit = "B" if sample_index.endswith("space") else "ns"  # counts ignore -unit
    expected = pprof_peek(".", target, unit, sample_index=sample_index, cum=True)
    assert render(single(target, sample_index), ".", unit=unit, cum_sort=True) == expected


def tie_insensitive(text):
    """Sort runs of edge lines with equal |weight|.

    pprof sorts edges with `w1 != w2 -> |w1| > |w2|`, so +x and -x compare
    equal and their order depends on Go map iteration: it varies run to run.
    """
    out, run = [], []

    def flush():
        out.extend(sorted(run))
        run.clear()
    for line in text.splitlines():
        m = re.match(r"^\s+(-?[\d.]+\w*) .*\|   ", line)
        if m and not line.lstrip().startswith("flat"):
            key = m.group(1).lstrip("-")
            if run and re.match(r"^\s+(-?[\d.]+\w*)", run[0]).group(1).lstrip("-") != key:
                flush()
            run.append(line)
        else:
            flush()
            out.append(line)
    flush()
    return out


@pytest.mark.skipif(not GATEWAY.is_dir(), reason="no example profiles")
@pytest.mark.parametrize("name,unit", [("cpu.pb.gz", "ns"), ("allocs.pb.gz", "B")])
@pytest.mark.parametrize("diff_base", [True, False], ids=["diff_base", "base"])
def test_peek_diff_equals_go_tool_pprof(name, unit, diff_base):
    """-diff_base keeps base samples apart; -base merges equal stacks, which
    then cancel and draw no (zero-weight) edges."""
    target, base = GATEWAY / "after" / name, GATEWAY / "before" / name
    expected = pprof_peek(".", target, unit, base=base,
                          base_flag="-diff_base" if diff_base else "-base")
    parts = diff_parts(load_profile(target), load_profile(base), diff_base=diff_base)
    assert tie_insensitive(render(parts, ".", unit=unit)) == tie_insensitive(expected)


def recursive_profile(path):
    """B is inlined into A, then later (deeper) called for real from A, in one
    sample: pprof counts only the first (root-most) A->B, so the edge and B
    stay inline. Plus self recursion and zero-valued samples."""
    b = ProfileBuilder(sample_types=[("samples", "count"), ("cpu", "nanoseconds")],
                       period_type=("cpu", "nanoseconds"), period=10)
    m = b.mapping("/bin/app")
    main, fa, fb, fc = (b.function(f"main.{n}", f"{n.lower()}.go", 1)
                        for n in ("main", "A", "B", "C"))
    l_main = b.location((main, 5), mapping=m, address=0x1000)
    l_ab = b.location((fb, 21), (fa, 11), mapping=m, address=0x2000)
    l_c = b.location((fc, 31), mapping=m, address=0x3000)
    l_a = b.location((fa, 12), mapping=m, address=0x4000)
    l_b = b.location((fb, 22), mapping=m, address=0x5000)
    l_aa = b.location((fa, 13), mapping=m, address=0x6000)
    b.sample([l_b, l_a, l_c, l_ab, l_main], [1, 10])
    b.sample([l_aa, l_a, l_main], [1, 20])           # A -> A: no self edge
    b.sample([l_c, l_ab, l_main], [0, 0])            # zero: no edges at all
    b.sample([l_c, l_a, l_c, l_a, l_main], [2, 0])   # zero for cpu only; C->A twice
    return b.write(path)


@pytest.mark.parametrize("sample_index", ["cpu", "samples"])
@pytest.mark.parametrize("granularity", ["functions", "lines"])
def test_peek_recursion_and_inline_marks_equal_pprof(tmp_path, sample_index, granularity):
    path = recursive_profile(tmp_path / "rec.pb.gz")
    parts = single(path, sample_index)
    expected = pprof_peek(".", path, "minimum", sample_index, granularity)
    assert render(parts, ".", granularity) == expected
    # The node marks pprof -top prints come from the same edges.
    top = subprocess.run([go_binary(), "tool", "pprof", "-symbolize=none", "-top",
                          f"-sample_index={sample_index}", f"-{granularity}", str(path)],
                         capture_output=True, text=True, check=True).stdout
    rows = [line.split(None, 5)[5] for line in top.splitlines() if "main." in line]
    marks = {}
    for row in rows:
        m = re.fullmatch(r"(.*?)(?: \((inline|partial-inline)\))?", row)
        marks[m.group(1)] = m.group(2) or ""
    got = {n.name: n.inline for n in peek(parts, ".", granularity).nodes}
    assert got == marks


@pytest.mark.skipif(not GATEWAY.is_dir(), reason="no example profiles")
def test_no_match_is_a_usage_error(tmp_path):
    parts = single(recursive_profile(tmp_path / "rec.pb.gz"))
    result = peek(parts, "nomatch")
    assert result.nodes == []
    with pytest.raises(UsageError, match="no matches found for regexp: nomatch"):
        format_peek(parts[0].profile, result)
    with pytest.raises(UsageError):
        peek(parts, "(unclosed")
    assert json.loads(json.dumps(peek(parts, "main").as_dict()))["nodes"]
