"""The pprof loader: google/pprof's test corpus and synthetic profiles.

Expected numbers come from `go tool pprof -raw` (Go 1.27.3) on the same files;
every corpus profile is also checked against a slow, independent decode with
the plain protobuf message.
"""

from __future__ import annotations

import gzip
import random

import numpy as np
import pytest

from profiles import (HOSTILE, ProfileBuilder, assert_same_model, basic_builder, field_bytes,
                      hostile_builder, packed, varint)
from reportgen.errors import ProfileError, ReportgenError
from reportgen.model import Label, ValueType
from reportgen.proto import profile_pb2
from reportgen.sources import load_profile
from reportgen.sources.pprof import parse_pprof

CPU_TYPES = [ValueType("samples", "count"), ValueType("cpu", "nanoseconds")]
HEAP_TYPES = [ValueType("alloc_objects", "count"), ValueType("alloc_space", "bytes"),
              ValueType("inuse_objects", "count"), ValueType("inuse_space", "bytes")]
SYN_CPU_TYPES = [ValueType("samples", "count"), ValueType("cpu", "milliseconds")]
SYN_INUSE_TYPES = [ValueType("inuse_objects", "count"), ValueType("inuse_space", "bytes")]


def names(profile, loc_index):
    """Function names of one location, innermost first."""
    return [profile.functions[ln.function].name for ln in profile.locations[loc_index].lines]


def addresses(profile, i):
    return [profile.locations[j].address for j in profile.stack(i)]


# --- an independent decoder, as slow and obvious as possible

def reference_decode(data: bytes):
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    msg = profile_pb2.Profile()
    msg.ParseFromString(data)
    return msg


def assert_matches_reference(profile, msg):
    s = msg.string_table
    assert profile.sample_types == [ValueType(s[t.type], s[t.unit]) for t in msg.sample_type]
    assert profile.num_samples == len(msg.sample)
    assert profile.values.dtype == np.int64
    assert profile.values.shape == (len(msg.sample), len(msg.sample_type))
    assert profile.values.tolist() == [list(x.value) for x in msg.sample]
    index = {loc.id: i for i, loc in enumerate(msg.location)}
    for i, x in enumerate(msg.sample):
        assert profile.stack(i).tolist() == [index[ident] for ident in x.location_id], i
        expected = tuple(Label(s[lb.key], s[lb.str], lb.num, s[lb.num_unit])
                         for lb in x.label if lb.str or lb.num or lb.num_unit)
        assert profile.label_sets[profile.label_set[i]] == expected, i
    fn_index = {f.id: i for i, f in enumerate(msg.function)}
    assert [f.system_name for f in profile.functions] == [s[f.system_name] for f in msg.function]
    # Names stay as stored unless pprof would simplify them (a name empty or equal to its
    # system name: see test_names.py); then they never grow.
    for f, ref in zip(profile.functions, msg.function, strict=True):
        if s[ref.name] and s[ref.name] != s[ref.system_name]:
            assert f.name == s[ref.name]
        else:
            assert len(f.name) <= len(s[ref.system_name])
    assert [f.filename for f in profile.functions] == [s[f.filename] for f in msg.function]
    for loc, ref in zip(profile.locations, msg.location, strict=True):
        assert loc.address == ref.address
        assert [(ln.function, ln.line) for ln in loc.lines] == \
               [(fn_index.get(ln.function_id, -1), ln.line) for ln in ref.line]
    assert [m.filename for m in profile.mappings] == [s[m.filename] for m in msg.mapping]
    assert profile.period == msg.period
    assert profile.time_nanos == msg.time_nanos
    assert profile.duration_nanos == msg.duration_nanos
    assert profile.comments == [s[c] for c in msg.comment]


CORPUS = ["sample.cpu", "large.cpu", "go.nomappings.crash", "cppbench.cpu_no_samples_type",
          "synthetic/contention.pb.gz", "synthetic/cpu.mangled.pb.gz", "synthetic/cpu.pb.gz",
          "synthetic/cpusmall.pb.gz", "synthetic/heap.pb.gz", "synthetic/heap_alloc.pb.gz",
          "synthetic/heap_request.pb.gz", "synthetic/heap_sizetags.pb.gz",
          "synthetic/heap_tags.pb.gz", "synthetic/long_name_funcs.pb.gz"]


@pytest.mark.parametrize("name", CORPUS)
def test_corpus_matches_independent_decode(testdata, name):
    path = testdata / name
    profile = load_profile(path)
    assert profile.path == str(path)
    msg = reference_decode(path.read_bytes())
    if msg.drop_frames:
        # The loader applies drop_frames as pprof does (tested below); compare
        # the plain decoding here.
        msg.drop_frames = 0
        profile = parse_pprof(path, msg.SerializeToString())
    assert_matches_reference(profile, msg)


# --- real Go profiles

def test_sample_cpu(testdata):
    p = load_profile(testdata / "sample.cpu")
    assert p.sample_types == CPU_TYPES
    assert p.num_samples == 76
    assert p.period_type == ValueType("cpu", "nanoseconds")
    assert p.period == 10_000_000
    assert p.time_nanos == 1_506_718_679_257_235_370  # 2017-09-29 20:57:59.25723537 UTC
    assert p.duration_nanos == 2_002_012_950
    assert p.values.sum(axis=0).tolist() == [176, 1_760_000_000]
    assert (len(p.locations), len(p.functions), len(p.mappings)) == (86, 14, 3)
    assert p.label_sets == [()]
    assert p.profile_type == "cpu"
    assert p.sample_index() == 1
    # inlined frames stay inside their Location
    assert sum(len(loc.lines) > 1 for loc in p.locations) == 9
    assert max(len(loc.lines) for loc in p.locations) == 3
    # first sample: "2 20000000: 1 2 3 4"
    assert p.values[0].tolist() == [2, 20_000_000]
    assert p.stack(0).tolist() == [0, 1, 2, 3]


def test_large_cpu(testdata):
    p = load_profile(testdata / "large.cpu")
    assert p.sample_types == CPU_TYPES
    assert p.num_samples == 20430
    assert p.period == 10_000_000
    assert p.time_nanos == 1_666_107_597_086_748_038
    assert p.duration_nanos == 240_359_136_496
    assert p.values.sum(axis=0).tolist() == [24029, 240_290_000_000]
    assert (len(p.locations), len(p.functions), len(p.mappings)) == (23355, 23038, 4)
    assert p.stack_offsets[-1] == len(p.stack_locations)
    assert max(len(loc.lines) for loc in p.locations) == 3


def test_go_nomappings_crash(testdata):
    p = load_profile(testdata / "go.nomappings.crash")
    assert p.sample_types == HEAP_TYPES
    assert p.num_samples == 2
    assert p.period_type == ValueType("space", "bytes")
    assert p.period == 524288
    assert p.time_nanos == 1_487_351_731_621_578_004
    assert p.duration_nanos == 0
    assert p.values.tolist() == [[1, 818615, 1, 818615], [1, 947340, 1, 947340]]
    assert p.functions == []  # unsymbolized
    assert all(loc.lines == () for loc in p.locations)
    assert addresses(p, 0) == [0x103cbf8, 0x103caee, 0x10ce058, 0x10cd9fa, 0x1027bfa, 0x104e541]
    assert addresses(p, 1) == [0x1096cf7, 0x10969d5, 0x1096b01, 0x1083d19, 0x10cdff4,
                               0x10cd9fa, 0x1027bfa, 0x104e541]
    assert p.sample_index() == 3  # the last type


# --- pprof's synthetic fixtures

SYNTHETIC = {
    # file: (sample types, period type, period, duration, comments)
    "cpu.pb.gz": (SYN_CPU_TYPES, ("cpu", "milliseconds"), 1, 10_000_000_000, []),
    "cpu.mangled.pb.gz": (SYN_CPU_TYPES, ("cpu", "milliseconds"), 1, 10_000_000_000, []),
    "cpusmall.pb.gz": (SYN_CPU_TYPES, ("cpu", "milliseconds"), 1, 10_000_000_000, []),
    "long_name_funcs.pb.gz": (SYN_CPU_TYPES, ("cpu", "milliseconds"), 1, 10_000_000_000, []),
    "heap.pb.gz": (SYN_INUSE_TYPES, ("allocations", "bytes"), 524288, 0,
                   ["comment", "#hidden comment"]),
    "heap_alloc.pb.gz": ([ValueType("alloc_objects", "count"), ValueType("alloc_space", "bytes")],
                         ("allocations", "bytes"), 524288, 0, ["comment", "#hidden comment"]),
    "heap_request.pb.gz": (SYN_INUSE_TYPES, ("allocations", "bytes"), 524288, 0,
                           ["comment", "#hidden comment"]),
    "heap_sizetags.pb.gz": (SYN_INUSE_TYPES, ("allocations", "bytes"), 524288, 0,
                            ["comment", "#hidden comment"]),
    "heap_tags.pb.gz": (SYN_INUSE_TYPES, ("allocations", "bytes"), 524288, 0,
                        ["comment", "#hidden comment"]),
    "contention.pb.gz": ([ValueType("contentions", "count"), ValueType("delay", "nanoseconds")],
                         ("contentions", "count"), 524288, 0, ["Comment #1", "Comment #2"]),
}


@pytest.mark.parametrize("name", sorted(SYNTHETIC))
def test_synthetic_header(testdata, name):
    types, period_type, period, duration, comments = SYNTHETIC[name]
    p = load_profile(testdata / "synthetic" / name)
    assert p.sample_types == types
    assert p.period_type == ValueType(*period_type)
    assert p.period == period
    assert p.duration_nanos == duration
    assert p.time_nanos == 0
    assert p.comments == comments
    assert p.num_samples == (3 if name == "long_name_funcs.pb.gz" else 4)


def test_synthetic_cpu_string_labels_and_inlining(testdata):
    p = load_profile(testdata / "synthetic" / "cpu.pb.gz")
    assert p.values.tolist() == [[1000, 1000], [100, 100], [10, 10], [10, 10]]
    assert [addresses(p, i) for i in range(4)] == [
        [0x1000, 0x2000, 0x3000], [0x1000, 0x3001], [0x2000, 0x3002], [0x3000]]
    labels = [p.label_sets[i] for i in p.label_set]
    assert labels == [
        (Label("key1", "tag1", 0, ""), Label("key2", "tag1", 0, "")),
        (Label("key1", "tag2", 0, ""), Label("key3", "tag2", 0, "")),
        (Label("key1", "tag3", 0, ""), Label("key2", "tag2", 0, "")),
        (Label("key1", "tag4", 0, ""), Label("key2", "tag1", 0, "")),
    ]
    by_address = {loc.address: i for i, loc in enumerate(p.locations)}
    assert names(p, by_address[0x3000]) == ["line3002", "line3001", "line3000"]
    assert [ln.line for ln in p.locations[by_address[0x3000]].lines] == [2, 5, 6]
    assert names(p, by_address[0x2000]) == ["line2001", "line2000"]
    assert names(p, by_address[0x1000]) == ["line1000"]
    fn = p.functions[p.locations[by_address[0x1000]].lines[0].function]
    assert (fn.system_name, fn.filename) == ("mangled1000", "testdata/file1000.src")
    m = p.mappings[p.locations[by_address[0x1000]].mapping]
    assert (m.start, m.limit, m.filename) == (0x1000, 0x4000, "/path/to/testbinary")
    assert (m.has_functions, m.has_filenames, m.has_line_numbers, m.has_inline_frames) == \
           (True, True, True, True)


def test_synthetic_heap_numeric_labels(testdata):
    p = load_profile(testdata / "synthetic" / "heap.pb.gz")
    labels = [p.label_sets[i] for i in p.label_set]
    assert labels == [(Label("bytes", "", n, ""),) for n in (102400, 204800, 1638400, 409600)]
    assert p.values.tolist() == [[10, 1024000], [20, 4096000], [40, 65536000], [80, 32768000]]
    assert p.drop_frames == ".*operator new.*|malloc"
    # ... applied as pprof does: `-raw` lists location 0x1000 as line1000 only
    by_address = {loc.address: i for i, loc in enumerate(p.locations)}
    assert names(p, by_address[0x1000]) == ["line1000"]
    assert names(p, by_address[0x3000]) == ["line3002", "line3001", "line3000"]
    assert [addresses(p, i) for i in range(4)] == [
        [0x1000, 0x2000, 0x3000], [0x1000, 0x3001], [0x2000, 0x3002], [0x3000]]
    assert p.mappings[0].build_id == "buildid"


def test_synthetic_heap_repeated_label_keys(testdata):
    p = load_profile(testdata / "synthetic" / "heap_sizetags.pb.gz")
    first = p.label_sets[p.label_set[0]]
    assert [lb.num for lb in first] == [102400, 2, 4, 8, 16, 32, 64, 128, 256]
    assert {lb.key for lb in first} == {"bytes"}
    tags = load_profile(testdata / "synthetic" / "heap_tags.pb.gz")
    assert tags.label_sets[tags.label_set[0]] == (
        Label("key1", "tag", 0, ""), Label("bytes", "", 102400, ""),
        Label("request", "", 102400, ""))


def test_cppbench_without_sample_type_names(testdata):
    p = load_profile(testdata / "cppbench.cpu_no_samples_type")
    assert p.sample_types == [ValueType("cpu", "nanoseconds")]
    assert p.num_samples == 52
    assert p.drop_frames.startswith("ProfileData::Add|")


def test_old_threadcreate_text_reads_like_pprof(testdata, run_cli):
    """go.godoc.thread is debug=1 text without symbols: pprof shows all of it as <unknown>."""
    proc = run_cli("top", testdata / "go.godoc.thread")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1].split() == ["7", "100%", "100%", "7", "100%", "<unknown>"]


@pytest.mark.parametrize("name", ["gobench.heap", "cppbench.contention",
                                  "cppbench.small.contention"])
def test_legacy_text_formats_are_refused_clearly(testdata, name):
    path = testdata / name
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    assert info.value.path == str(path)
    assert "legacy text profile format is not supported" in info.value.reason
    assert "\n" not in str(info.value)


# --- synthetic profiles: every encoding gives the same model

def random_builder(seed, nsamples=300) -> ProfileBuilder:
    """Random stacks over random, non-contiguous ids, with labels and negative values."""
    rnd = random.Random(seed)
    b = ProfileBuilder(sample_types=[("alloc_objects", "count"), ("alloc_space", "bytes"),
                                     ("inuse_space", "bytes")],
                       default_sample_type="alloc_space", period_type=("space", "bytes"),
                       period=524288, time_nanos=rnd.randrange(1 << 62),
                       duration_nanos=rnd.randrange(1 << 40))
    maps = [b.mapping(f"/lib/m{i}.so", build_id=f"b{i}", start=i << 20, limit=(i + 1) << 20,
                      id=1000 + 7 * i) for i in range(3)]
    fns = [b.function(f"pkg{i % 7}.F{i}", f"/src/f{i % 5}.go", i, id=ident)
           for i, ident in enumerate(rnd.sample(range(1, 1 << 40), 40))]
    locs = [5 * i + 3 for i in range(120)]
    rnd.shuffle(locs)  # ids need be neither dense nor sorted
    for ident in locs:
        lines = [(rnd.choice(fns), rnd.randrange(1, 2000))
                 for _ in range(rnd.choice([0, 1, 1, 2, 3]))]
        b.location(*lines, address=rnd.randrange(1 << 48), mapping=rnd.choice(maps + [None]),
                   id=ident)
    for _ in range(nsamples):
        stack = [rnd.choice(locs) for _ in range(rnd.randrange(1, 30))]
        labels = rnd.choice([None, {"k": "v"}, {"bytes": (rnd.randrange(1 << 20), "bytes")},
                             [("k", "a"), ("k", "b"), ("n", 5)]])
        values = [rnd.randrange(-100, 100), rnd.randrange(-(1 << 62), 1 << 62),
                  rnd.randrange(1 << 40)]
        b.sample(stack, values, labels)
    return b


BUILDERS = {
    "basic": basic_builder,
    "hostile": hostile_builder,
    "random1": lambda: random_builder(1),
    "random2": lambda: random_builder(2),
}


@pytest.mark.parametrize("builder", sorted(BUILDERS))
@pytest.mark.parametrize("encoding", [False, "mixed", "go"])
def test_unpacked_encodings_give_identical_models(builder, encoding):
    b = BUILDERS[builder]()
    packed = parse_pprof("p", b.to_bytes(packed=True))
    other = parse_pprof("p", b.to_bytes(packed=encoding))
    assert_same_model(packed, other)
    assert_matches_reference(packed, b.to_message())


@pytest.mark.parametrize("builder", sorted(BUILDERS))
def test_packed_fields_split_in_two_runs_give_identical_models(builder):
    # Protobuf lets a writer emit one packed repeated field as several runs;
    # a parser must concatenate them (the Go decoder pprof uses does).
    b = BUILDERS[builder]()
    assert_same_model(parse_pprof("p", b.to_bytes(packed=True)),
                      parse_pprof("p", b.to_bytes(packed="split")))


def test_location_ids_split_in_two_runs_are_not_dropped():
    b = ProfileBuilder(sample_types=[("samples", "count")])
    f, g = b.function("f"), b.function("g")
    leaf, root = b.location((f, 1)), b.location((g, 2))
    sample = packed(1, [leaf]) + packed(1, [root]) + packed(2, [5])
    p = parse_pprof("p", b.to_raw() + field_bytes(2, sample))
    assert p.stack(0).tolist() == [0, 1]
    assert p.values.tolist() == [[5]]


@pytest.mark.parametrize("builder", sorted(BUILDERS))
def test_gzip_and_raw_give_identical_models(builder):
    b = BUILDERS[builder]()
    assert_same_model(parse_pprof("p", b.to_bytes(gzip=True)),
                      parse_pprof("p", b.to_bytes(gzip=False)))


def test_real_profile_reencoded_unpacked_gives_identical_model(testdata):
    path = testdata / "sample.cpu"
    msg = reference_decode(path.read_bytes())
    samples = list(msg.sample)
    del msg.sample[:]
    raw = msg.SerializeToString()
    for s in samples:  # one tag per element: the encoding the fallback path reads
        body = b"".join(b"\x08" + varint(v) for v in s.location_id)
        body += b"".join(b"\x10" + varint(v) for v in s.value)
        raw += field_bytes(2, body)
    assert_same_model(load_profile(path), parse_pprof(path, raw), ignore_path=False)


def test_stack_and_label_arrays_have_documented_shapes():
    b = random_builder(3, nsamples=50)
    p = parse_pprof("p", b.to_bytes())
    assert p.num_samples == 50
    assert p.stack_offsets.shape == (51,) and p.stack_offsets[0] == 0
    assert p.stack_offsets[-1] == len(p.stack_locations)
    assert p.label_set.shape == (50,)
    assert p.label_sets[0] == ()
    assert 0 <= p.stack_locations.min() and p.stack_locations.max() < len(p.locations)


# --- fields kept as written

def test_comments_doc_url_and_frame_filters_kept():
    b = basic_builder(doc_url="https://go.dev/doc/diagnostics#profiling",
                      drop_frames="runtime\\..*", keep_frames="main\\..*",
                      default_sample_type="alloc_objects", duration_nanos=30_000_000_000)
    b.comment("captured by reportgen tests").comment("second comment")
    p = parse_pprof("p", b.to_bytes())
    assert p.comments == ["captured by reportgen tests", "second comment"]
    assert p.doc_url == "https://go.dev/doc/diagnostics#profiling"
    assert (p.drop_frames, p.keep_frames) == ("runtime\\..*", "main\\..*")
    assert p.default_sample_type == "alloc_objects"
    assert p.sample_index() == 0
    assert p.time_nanos == 1_700_000_000_000_000_000
    assert p.duration_nanos == 30_000_000_000
    assert p.period_type == ValueType("space", "bytes") and p.period == 524288


def test_hostile_strings_are_kept_verbatim(hostile_profile):
    p = load_profile(hostile_profile)
    strings = {f.name for f in p.functions} | {f.filename for f in p.functions}
    labels = [lb for s in p.label_sets for lb in s]
    strings |= {lb.key for lb in labels} | {lb.str for lb in labels}
    strings |= {m.filename for m in p.mappings} | {m.build_id for m in p.mappings}
    strings |= set(p.comments)
    for h in HOSTILE:
        assert any(h in s for s in strings), h
    assert p.sample_types == [ValueType("alloc_objects", "count"),
                              ValueType("alloc_space", "bytes")]
    assert p.num_samples == 5
    assert sum(len(loc.lines) > 1 for loc in p.locations) == 2


def test_empty_labels_dropped_and_numeric_units_kept():
    b = ProfileBuilder(sample_types=[("samples", "count")])
    f = b.function("f")
    loc = b.location((f, 1))
    b.sample([loc], [1], labels={"empty": 0, "size": (64, "bytes"), "n": 3, "s": "x"})
    p = parse_pprof("p", b.to_bytes())
    assert p.label_sets[p.label_set[0]] == (Label("size", "", 64, "bytes"), Label("n", "", 3, ""),
                                            Label("s", "x", 0, ""))


@pytest.mark.parametrize("encoding", [True, False, "go"])
def test_edge_shapes(encoding):
    b = ProfileBuilder(sample_types=[("samples", "count"), ("cpu", "nanoseconds")])
    f = b.function("f")
    bare = b.location(address=0xdead)  # unsymbolized: no lines, no mapping
    big = b.location((f, 7), id=(1 << 63) + 5)
    b.sample([bare, big], [1, 10])
    b.sample([], [2, 20])  # a sample without a stack
    b.sample([big], [-(1 << 63), (1 << 63) - 1])
    p = parse_pprof("p", b.to_bytes(packed=encoding))
    assert p.values.tolist() == [[1, 10], [2, 20], [-(1 << 63), (1 << 63) - 1]]
    assert [p.stack(i).tolist() for i in range(3)] == [[0, 1], [], [1]]
    assert p.locations[0].lines == () and p.locations[0].mapping == -1
    assert p.locations[0].address == 0xdead


def test_profile_without_samples():
    b = ProfileBuilder(sample_types=[("goroutine", "count")])
    p = parse_pprof("p", b.to_bytes())
    assert p.num_samples == 0
    assert p.values.shape == (0, 1)
    assert p.profile_type == "goroutine"


def test_non_utf8_strings_are_read_like_pprof_does():
    # go tool pprof accepts any bytes in the string table (C++ and old Go
    # binaries put Latin-1 file names there); reportgen must not call such a
    # profile "not a pprof profile".
    b = basic_builder()
    b.function("placeholder", id=50)
    msg = b.to_message()
    msg.function[-1].name = len(b.strings)  # the string appended below
    raw = msg.SerializeToString() + field_bytes(6, b"main.caf\xe9")
    p = parse_pprof("p", raw)
    name = p.functions[-1].name
    assert name.startswith("main.caf") and len(name) == len("main.caf") + 1


def test_errors_are_reportgen_errors_naming_the_file(tmp_path):
    path = tmp_path / "x.pb"
    path.write_bytes(b"")
    with pytest.raises(ReportgenError) as info:
        load_profile(path)
    assert isinstance(info.value, ProfileError)
    assert str(info.value) == f"{path}: empty file"
