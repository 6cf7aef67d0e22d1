"""reportgen top against the outputs go tool pprof printed for pprof's own test profiles."""

import pytest

from reportgen.analyze.graph import Part
from reportgen.analyze.top import diff_parts, resolve_sample_index, top
from reportgen.render.text import format_top
from reportgen.sources import load_profile

# golden file, target, base, options
CASES = [
    ("sample.cpu.top.txt", "sample.cpu", None, {}),
    ("large.cpu.top.txt", "large.cpu", None, {}),
    ("large.cpu.top_default_trim.txt", "large.cpu", None, {"node_fraction": 0.005}),
    ("sample.cpu.diff_base_large.cpu.top.txt", "sample.cpu", "large.cpu", {}),
    ("large.cpu.diff_base_sample.cpu.top.txt", "large.cpu", "sample.cpu", {}),
    ("go.nomappings.crash.top.txt", "go.nomappings.crash", None, {}),
    ("cppbench.cpu_no_samples_type.top.txt", "cppbench.cpu_no_samples_type", None, {}),
    ("synthetic/cpu.pb.gz.top.txt", "synthetic/cpu.pb.gz", None, {}),
    ("synthetic/cpu.pb.gz.cum.top.txt", "synthetic/cpu.pb.gz", None, {"cum_sort": True}),
    ("synthetic/cpu.pb.gz.lines.top.txt", "synthetic/cpu.pb.gz", None, {"granularity": "lines"}),
    ("synthetic/cpu.pb.gz.diff_base_cpusmall.top.txt", "synthetic/cpu.pb.gz",
     "synthetic/cpusmall.pb.gz", {}),
    ("synthetic/cpu.pb.gz.base_cpusmall.top.txt", "synthetic/cpu.pb.gz",
     "synthetic/cpusmall.pb.gz", {"diff_base": False}),
    ("synthetic/cpu.pb.gz.diff_base_cpusmall.normalize.top.txt", "synthetic/cpu.pb.gz",
     "synthetic/cpusmall.pb.gz", {"normalize": True}),
    ("synthetic/heap.pb.gz.top.txt", "synthetic/heap.pb.gz", None, {}),
    ("synthetic/heap.pb.gz.inuse_objects.top.txt", "synthetic/heap.pb.gz", None,
     {"sample_index": "inuse_objects"}),
]


def render(testdata, target, base, options):
    opts = dict(options)
    sample_index = opts.pop("sample_index", None)
    diff_base = opts.pop("diff_base", True)
    normalize = opts.pop("normalize", False)
    opts.setdefault("node_fraction", 0.0)
    profile = load_profile(testdata / target)
    if base:
        parts = diff_parts(profile, load_profile(testdata / base), sample_index,
                           diff_base=diff_base, normalize=normalize)
    else:
        parts = [Part(profile, resolve_sample_index(profile, sample_index))]
    result = top(parts, **opts)
    profiles = [p.profile for p in parts]
    return format_top(profile, result,
                      duration_nanos=sum(p.duration_nanos for p in profiles),
                      time_nanos=min((p.time_nanos for p in profiles if p.time_nanos), default=0))


@pytest.mark.parametrize("golden,target,base,options", CASES, ids=[c[0] for c in CASES])
def test_top_text_equals_pprof(testdata, golden, target, base, options):
    path = testdata / golden
    if not path.exists():
        pytest.skip(f"{golden} not in this copy of the corpus")
    assert render(testdata, target, base, options) == path.read_text()
