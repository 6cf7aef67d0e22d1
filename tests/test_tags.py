"""pprof's -tags report: goldens from pprof's corpus and differential runs."""

import subprocess
from pathlib import Path

import pytest

from reportgen.analyze.filters import apply_filters
from reportgen.analyze.tags import num_label_units, tags
from reportgen.render.tags_text import format_tags, tabwrite
from reportgen.sources import load_profile
from tests.gotool import go_binary
from tests.test_filters import FLAG, assert_same_text, labeled_builder

ROOT = Path(__file__).resolve().parent.parent
GATEWAY = ROOT / "examples" / "gateway" / "profiles" / "before"


def tags_text(path, filters=None, unit="minimum", sample_index=None, relative=False):
    """What `go tool pprof -tags` prints: percentages are of the unfiltered
    total, unless -relative_percentages."""
    profile = load_profile(path)
    filtered = apply_filters(profile, **(filters or {}))
    result = tags(filtered, sample_index, unit=unit, unfiltered=profile, relative=relative)
    return format_tags(filtered, result)


GOLDENS = [
    ("expected/pprof.cpu.tags", "cpu.pb.gz", {}, {}),
    ("cpu.pb.gz.tags.txt", "cpu.pb.gz", {}, {}),
    ("expected/pprof.cpu.tags.focus.ignore", "cpu.pb.gz",
     {"tagignore": "tag[13]", "tagfocus": "key[12]"}, {}),
    ("expected/pprof.heap.tags", "heap.pb.gz", {}, {}),
    ("expected/pprof.heap.tags.unit", "heap.pb.gz", {}, {"unit": "bytes"}),
    ("expected/pprof.heap_request.tags.focus", "heap_request.pb.gz", {"tagfocus": "400kb:"}, {}),
    ("expected/pprof.heap_request.relative_percentages.tags.focus", "heap_request.pb.gz",
     {"tagfocus": "400kb:"}, {"relative": True}),
]


@pytest.mark.parametrize("golden,target,filters,options", GOLDENS, ids=[g[0] for g in GOLDENS])
def test_tags_goldens(testdata, golden, target, filters, options):
    synthetic = testdata / "synthetic"
    assert tags_text(synthetic / target, filters, **options) == (synthetic / golden).read_text()


def pprof_tags(path, filters=None, unit=None, sample_index=None, relative=False):
    cmd = [go_binary(), "tool", "pprof", "-symbolize=none", "-tags"]
    cmd += [f"-unit={unit}"] if unit else []
    cmd += [f"-sample_index={sample_index}"] if sample_index else []
    cmd += ["-relative_percentages"] if relative else []
    cmd += [f"{FLAG.get(k, '-' + k)}={v}" for k, v in (filters or {}).items()]
    return subprocess.run(cmd + [str(path)], capture_output=True, text=True, check=True).stdout


GATEWAY_CASES = [
    ("cpu", {}, {}),
    ("heap", {}, {}),
    ("heap", {}, {"unit": "B"}),
    ("heap", {}, {"sample_index": "inuse_objects"}),
    ("allocs", {}, {}),
    ("allocs", {}, {"unit": "kb", "sample_index": "alloc_objects"}),
    ("allocs", {"tagfocus": "1kb:"}, {}),
    ("allocs", {"tagignore": "bytes=16b", "focus": "http"}, {}),
    ("allocs", {"hide": "runtime", "tagfocus": "32b:4kb"}, {"relative": True}),
]


@pytest.mark.skipif(not GATEWAY.is_dir(), reason="no gateway example profiles")
@pytest.mark.parametrize("name,filters,options", GATEWAY_CASES,
                         ids=[f"{c[0]}:{c[1]}:{c[2]}" for c in GATEWAY_CASES])
def test_gateway_tags_equal_pprof(name, filters, options):
    path = GATEWAY / f"{name}.pb.gz"
    expected = pprof_tags(path, filters, **options)
    options.setdefault("unit", "minimum")
    assert_same_text(expected, tags_text(path, filters, **options))


LABELED_CASES = [
    ({}, {}),
    ({}, {"unit": "kb"}),                 # numeric labels of other kinds fall back to s / B
    ({}, {"unit": "ms", "sample_index": "alloc_objects"}),
    ({"tagshow": "handler|lat"}, {}),
    ({"taghide": "^(lat|bytes)$", "focus": "handle"}, {}),
    ({"tagfocus": "handler=/api"}, {"relative": True}),
    ({"tagignore": "lat=1ms:"}, {}),     # "lat" stays in ns, the unit seen before filtering
    ({"show": "nothing-matches"}, {}),    # no samples left: pprof prints nothing
]


@pytest.mark.parametrize("filters,options", LABELED_CASES, ids=[str(c) for c in LABELED_CASES])
def test_labeled_tags_equal_pprof(tmp_path, filters, options):
    path = labeled_builder().write(tmp_path / "labeled.pb.gz")
    expected = pprof_tags(path, filters, **options)
    options.setdefault("unit", "minimum")
    assert_same_text(expected, tags_text(path, filters, **options))


def test_zero_total_prints_no_percentages(tmp_path):
    b = labeled_builder()
    b.samples = [(ids, [0, 0], labels) for ids, _values, labels in b.samples]
    path = b.write(tmp_path / "zero.pb.gz")
    assert_same_text(pprof_tags(path), tags_text(path))


def test_as_dict_and_units(tmp_path):
    profile = load_profile(labeled_builder().write(tmp_path / "p.pb.gz"))
    # The first unit seen wins for the key; unitless keys are guessed.
    assert num_label_units(profile) == {"bytes": "bytes", "lat": "nanoseconds",
                                        "request": "bytes", "count": "count"}
    result = tags(profile).as_dict()
    assert result["sample_index"] == "alloc_space" and result["total"] == 52836
    handler = next(k for k in result["keys"] if k["key"] == "handler")
    assert handler == {"key": "handler", "total": 3072 + 512 + 8192 * 2, "values": [
        {"name": "/api", "value": 11264}, {"name": "/x", "value": 8192},
        {"name": "/health", "value": 512}]}
    assert [k["key"] for k in result["keys"]] == sorted(k["key"] for k in result["keys"])


def test_tabwrite_aligns_right_per_column_block():
    text = "a:\t x\n \t1:\t one\n \t22:\t two\n\nlonger:\t y\n"
    assert tabwrite(text) == " a: x\n     1: one\n    22: two\n\n longer: y\n"
