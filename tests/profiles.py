"""Build small synthetic pprof profiles (and broken ones) for tests.

    b = ProfileBuilder(sample_types=[("alloc_objects", "count"), ("alloc_space", "bytes")])
    main = b.function("main.main", "main.go")
    work = b.function("main.work", "work.go")
    loc = b.location((work, 12), (main, 30))      # innermost first: work inlined into main
    b.sample([loc], [1, 512], labels={"handler": "/api", "bytes": (512, "bytes")})
    b.write(tmp_path / "heap.pb.gz")

Ids are handed out from 1 in order; pass ``id=`` to force one (0, duplicates,
anything), the builder never validates. ``to_bytes(packed=False)`` writes every
sample's repeated ints unpacked (one tag per element), as some non-Go writers
do; ``packed="mixed"`` alternates per sample, ``packed="go"`` packs only lists
longer than two (what Go's runtime writes), ``packed="split"`` writes each
packed list as two runs (legal protobuf: a parser must concatenate them).

The ``corrupt_*`` helpers return raw profile bytes broken in one specific way.
"""

from __future__ import annotations

import gzip as _gzip
from pathlib import Path

import numpy as np

from reportgen.proto import profile_pb2

# Strings that must come out of any HTML/JSON/text view exactly as data.
HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "</script><script>alert(2)</script>",
    "{{ 7*7 }}",
    "&amp;",
]


# --- protobuf wire encoding by hand (for encodings python protobuf never writes)

def varint(n: int) -> bytes:
    """Unsigned LEB128; negative int64 values become their 10-byte two's complement."""
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def tag(field: int, wire_type: int) -> bytes:
    return varint(field << 3 | wire_type)


def field_varint(field: int, value: int) -> bytes:
    return tag(field, 0) + varint(value)


def field_bytes(field: int, payload: bytes) -> bytes:
    return tag(field, 2) + varint(len(payload)) + payload


def packed(field: int, values) -> bytes:
    return field_bytes(field, b"".join(varint(v) for v in values))


def unpacked(field: int, values) -> bytes:
    return b"".join(field_varint(field, v) for v in values)


# --- the builder

class ProfileBuilder:
    def __init__(self, sample_types=(("alloc_objects", "count"), ("alloc_space", "bytes")),
                 default_sample_type=None, period_type=None, period=0, time_nanos=0,
                 duration_nanos=0, doc_url=None, drop_frames=None, keep_frames=None):
        self.strings = [""]
        self._string_index = {"": 0}
        self.msg = profile_pb2.Profile()
        for typ, unit in sample_types:
            self.msg.sample_type.add(type=self.s(typ), unit=self.s(unit))
        if default_sample_type:
            self.msg.default_sample_type = self.s(default_sample_type)
        if period_type:
            self.msg.period_type.type = self.s(period_type[0])
            self.msg.period_type.unit = self.s(period_type[1])
        self.msg.period = period
        self.msg.time_nanos = time_nanos
        self.msg.duration_nanos = duration_nanos
        if doc_url:
            self.msg.doc_url = self.s(doc_url)
        if drop_frames:
            self.msg.drop_frames = self.s(drop_frames)
        if keep_frames:
            self.msg.keep_frames = self.s(keep_frames)
        self.samples = []  # (location ids, values, [Label messages])
        self._next = {"function": 1, "location": 1, "mapping": 1}

    def s(self, text: str) -> int:
        """Index of `text` in the string table, adding it if new."""
        idx = self._string_index.get(text)
        if idx is None:
            idx = self._string_index[text] = len(self.strings)
            self.strings.append(text)
        return idx

    def _id(self, kind, ident):
        if ident is None:
            ident = self._next[kind]
        self._next[kind] = max(self._next[kind], ident + 1)
        return ident

    def function(self, name, filename="", start_line=0, system_name="", id=None) -> int:
        ident = self._id("function", id)
        self.msg.function.add(id=ident, name=self.s(name), system_name=self.s(system_name),
                              filename=self.s(filename), start_line=start_line)
        return ident

    def mapping(self, filename, build_id="", start=0, limit=0, offset=0, id=None,
                has_functions=True, has_filenames=True, has_line_numbers=True,
                has_inline_frames=True) -> int:
        ident = self._id("mapping", id)
        self.msg.mapping.add(id=ident, memory_start=start, memory_limit=limit, file_offset=offset,
                             filename=self.s(filename), build_id=self.s(build_id),
                             has_functions=has_functions, has_filenames=has_filenames,
                             has_line_numbers=has_line_numbers,
                             has_inline_frames=has_inline_frames)
        return ident

    def location(self, *lines, address=0, mapping=None, is_folded=False, id=None) -> int:
        """`lines` are (function_id, line[, column]) tuples, innermost (inlined) first."""
        ident = self._id("location", id)
        loc = self.msg.location.add(id=ident, address=address, mapping_id=mapping or 0,
                                    is_folded=is_folded)
        for ln in lines:
            fn, line, column = (tuple(ln) + (0,))[:3]
            loc.line.add(function_id=fn, line=line, column=column)
        return ident

    def sample(self, location_ids, values, labels=None):
        """`location_ids` leaf first; `labels`: {key: "str"} or {key: (num, unit)} or
        {key: num}, or a list of (key, value) pairs to repeat a key."""
        items = labels.items() if isinstance(labels, dict) else (labels or [])
        msgs = []
        for key, value in items:
            lb = profile_pb2.Label(key=self.s(key))
            if isinstance(value, str):
                lb.str = self.s(value)
            elif isinstance(value, tuple):
                lb.num = value[0]
                if value[1]:
                    lb.num_unit = self.s(value[1])
            else:
                lb.num = value
            msgs.append(lb)
        self.samples.append((list(location_ids), list(values), msgs))
        return self

    def comment(self, text):
        self.msg.comment.append(self.s(text))
        return self

    # --- output

    def to_message(self) -> profile_pb2.Profile:
        """The whole profile as a protobuf message (samples included)."""
        msg = self._header()
        for ids, values, labels in self.samples:
            msg.sample.add(location_id=ids, value=values, label=labels)
        return msg

    def _header(self) -> profile_pb2.Profile:
        msg = profile_pb2.Profile()
        msg.CopyFrom(self.msg)
        del msg.string_table[:]
        msg.string_table.extend(self.strings)
        return msg

    def to_raw(self, packed=True) -> bytes:
        """Uncompressed profile.proto bytes."""
        if packed is True:
            return self.to_message().SerializeToString()
        # Everything but the samples, then the samples encoded by hand: a
        # protobuf message may list its fields in any order.
        out = [self._header().SerializeToString()]
        for i, sample in enumerate(self.samples):
            mode = packed
            if packed == "mixed":
                mode = True if i % 2 == 0 else False
            out.append(field_bytes(2, encode_sample(*sample, mode=mode)))
        return b"".join(out)

    def to_bytes(self, gzip=True, packed=True) -> bytes:
        raw = self.to_raw(packed)
        return _gzip.compress(raw, mtime=0) if gzip else raw

    def write(self, path, gzip=True, packed=True) -> Path:
        path = Path(path)
        path.write_bytes(self.to_bytes(gzip=gzip, packed=packed))
        return path


def encode_sample(location_ids, values, labels, mode=True) -> bytes:
    """One Sample message. mode: True (packed), False (unpacked), "go" (packed
    only when a list has more than two entries, as Go's runtime writes) or
    "split" (each list of two or more as two packed runs)."""
    body = encode_list(1, location_ids, mode) + encode_list(2, values, mode)
    return body + b"".join(field_bytes(3, lb.SerializeToString()) for lb in labels)


def encode_list(field, items, mode) -> bytes:
    if mode is True:
        return packed(field, items)
    if mode is False:
        return unpacked(field, items)
    if mode == "go":
        return packed(field, items) if len(items) > 2 else unpacked(field, items)
    if mode == "split":
        if len(items) < 2:
            return packed(field, items)
        half = len(items) // 2
        return packed(field, items[:half]) + packed(field, items[half:])
    raise ValueError(mode)


# --- a small realistic profile to start from

def basic_builder(**kwargs) -> ProfileBuilder:
    """A small heap profile: 3 mappings-worth of realism, inlined frames, labels."""
    kwargs.setdefault("sample_types", [("alloc_objects", "count"), ("alloc_space", "bytes")])
    kwargs.setdefault("period_type", ("space", "bytes"))
    kwargs.setdefault("period", 524288)
    kwargs.setdefault("time_nanos", 1_700_000_000_000_000_000)
    b = ProfileBuilder(**kwargs)
    exe = b.mapping("/usr/local/bin/server", build_id="abc123", start=0x400000, limit=0x800000)
    main = b.function("main.main", "/src/main.go", 10)
    serve = b.function("main.serve", "/src/serve.go", 20)
    parse = b.function("main.parse", "/src/parse.go", 30)
    grow = b.function("runtime.growslice", "/go/src/runtime/slice.go", 155)
    l_main = b.location((main, 15), address=0x401000, mapping=exe)
    l_serve = b.location((parse, 33), (serve, 25), address=0x402000, mapping=exe)  # parse inlined
    l_grow = b.location((grow, 160), address=0x403000, mapping=exe)
    b.sample([l_grow, l_serve, l_main], [3, 3072], labels={"handler": "/api"})
    b.sample([l_serve, l_main], [1, 512], labels={"bytes": (512, "bytes")})
    b.sample([l_main], [7, 7 * 4096])
    b.sample([l_grow, l_serve, l_main], [2, 2048], labels={"handler": "/api"})
    return b


def hostile_builder() -> ProfileBuilder:
    """Every string a view prints contains markup, template syntax or entities."""
    h1, h2, h3, h4, h5 = HOSTILE
    b = ProfileBuilder(sample_types=[("alloc_objects", "count"), ("alloc_space", "bytes")],
                       period_type=("space", "bytes"), period=524288,
                       time_nanos=1_700_000_000_000_000_000, duration_nanos=10_000_000_000)
    b.comment(f"comment {h1}")
    m = b.mapping(f"/bin/{h2}", build_id=h5)
    f_main = b.function(f"main.main{h1}", f"/src/{h3}/main.go", 1)
    f_handler = b.function(f'main.(*Server).Handle{h2}', f"/src/{h1}.go", 10)
    f_inl = b.function(f"main.render{h4}", f"/src/{h2}.go", 20)
    f_leaf = b.function(f"encoding/json.Marshal{h3}", f"/go/src/{h4}.go", 30)
    f_amp = b.function(f"pkg.{h5}", f"/src/{h5}.go", 40)
    f_grow = b.function("runtime.growslice", "/go/src/runtime/slice.go", 155)
    l_main = b.location((f_main, 5), address=0x1000, mapping=m)
    l_handler = b.location((f_inl, 22), (f_handler, 12), address=0x2000, mapping=m)  # inlined
    l_leaf = b.location((f_grow, 160), (f_leaf, 33), address=0x3000, mapping=m)      # inlined
    l_amp = b.location((f_amp, 41), address=0x4000, mapping=m)
    labels = {h1: h2, h3: h4, "handler": h5, "bytes": (4096, "bytes")}
    b.sample([l_leaf, l_handler, l_main], [10, 40960], labels=labels)
    b.sample([l_amp, l_handler, l_main], [5, 20480], labels={h4: h1})
    b.sample([l_handler, l_main], [2, 8192])
    b.sample([l_leaf, l_amp, l_main], [1, 4096], labels={"handler": h3})
    b.sample([l_main], [3, 12288], labels={h5: h5})
    return b


# --- corrupt variants: (description, raw bytes); each broken in exactly one way

def _mutated(mutate, packed=True, gzip=False) -> bytes:
    b = basic_builder()
    mutate(b)
    return b.to_bytes(gzip=gzip, packed=packed)


def corrupt_dangling_location(packed=True, gzip=False) -> bytes:
    """A sample names location 99, which does not exist."""
    return _mutated(lambda b: b.sample([99, 1], [1, 1]), packed, gzip)


def corrupt_dangling_function(packed=True, gzip=False) -> bytes:
    """A location's line names function 77, which does not exist."""
    return _mutated(lambda b: b.location((77, 1), address=0x9000), packed, gzip)


def corrupt_dangling_mapping(packed=True, gzip=False) -> bytes:
    """A location names mapping 55, which does not exist."""
    return _mutated(lambda b: b.location((1, 1), mapping=55), packed, gzip)


def corrupt_string_index(field="function name", packed=True, gzip=False) -> bytes:
    """One string reference points past the end of the string table."""
    b = basic_builder()
    msg = b.to_message()
    big = len(b.strings) + 1000
    if field == "function name":
        msg.function[0].name = big
    elif field == "sample_type":
        msg.sample_type[0].type = big
    elif field == "label key":
        msg.sample[0].label[0].key = big
    elif field == "comment":
        msg.comment.append(big)
    elif field == "negative":
        msg.function[0].filename = -1
    else:
        raise ValueError(field)
    raw = msg.SerializeToString()
    return _gzip.compress(raw, mtime=0) if gzip else raw


def corrupt_id_zero(kind="location", packed=True, gzip=False) -> bytes:
    """A location, function or mapping with id 0."""
    def mutate(b):
        if kind == "location":
            b.location((1, 1), id=0)
        elif kind == "function":
            b.function("f0", id=0)
        elif kind == "mapping":
            b.mapping("/bin/zero", id=0)
        else:
            raise ValueError(kind)
    return _mutated(mutate, packed, gzip)


def corrupt_duplicate_id(kind="location", packed=True, gzip=False) -> bytes:
    """Two locations, functions or mappings with id 1."""
    def mutate(b):
        if kind == "location":
            b.location((1, 99), id=1)
        elif kind == "function":
            b.function("dup", id=1)
        elif kind == "mapping":
            b.mapping("/bin/dup", id=1)
        else:
            raise ValueError(kind)
    return _mutated(mutate, packed, gzip)


def corrupt_value_count(packed=True, gzip=False) -> bytes:
    """A sample with 3 values in a profile with 2 sample types."""
    return _mutated(lambda b: b.sample([1], [1, 2, 3]), packed, gzip)


CORRUPT = {
    # name: (bytes, a word the error reason must contain)
    "dangling_location": (corrupt_dangling_location, "missing location 99"),
    "dangling_function": (corrupt_dangling_function, "missing function 77"),
    "dangling_mapping": (corrupt_dangling_mapping, "missing mapping 55"),
    "string_index": (corrupt_string_index, "string index"),
    "location_id_zero": (lambda **kw: corrupt_id_zero("location", **kw), "location with id 0"),
    "function_id_zero": (lambda **kw: corrupt_id_zero("function", **kw), "function with id 0"),
    "mapping_id_zero": (lambda **kw: corrupt_id_zero("mapping", **kw), "mapping with id 0"),
    "duplicate_location": (lambda **kw: corrupt_duplicate_id("location", **kw),
                           "duplicate location id 1"),
    "duplicate_function": (lambda **kw: corrupt_duplicate_id("function", **kw),
                           "duplicate function id 1"),
    "duplicate_mapping": (lambda **kw: corrupt_duplicate_id("mapping", **kw),
                          "duplicate mapping id 1"),
    "value_count": (corrupt_value_count, "3 values, expected 2"),
}


# --- comparing models

def assert_same_model(a, b, ignore_path=True):
    """Every table and array of two model.Profile objects is equal."""
    for name in vars(a):
        if ignore_path and name == "path":
            continue
        x, y = getattr(a, name), getattr(b, name)
        if isinstance(x, np.ndarray):
            assert isinstance(y, np.ndarray), name
            assert x.shape == y.shape, f"{name}: shape {x.shape} != {y.shape}"
            assert x.dtype == y.dtype, f"{name}: dtype {x.dtype} != {y.dtype}"
            assert np.array_equal(x, y), f"{name} differs"
        else:
            assert x == y, f"{name}: {x!r} != {y!r}"
