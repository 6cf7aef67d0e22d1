"""Reader for the pprof profile.proto format (gzipped or raw).

Turns bytes into a model.Profile and checks everything pprof's own decoder
checks, so a malformed profile fails here with one clear reason instead of
somewhere deep inside an analyzer.
"""

from __future__ import annotations

import gzip
import io
import zlib

import numpy as np
from google.protobuf.message import DecodeError

from reportgen.errors import ProfileError
from reportgen.model import Function, Label, Line, Location, Mapping, Profile, ValueType
from reportgen.proto import profile_pb2
from reportgen.sources.prune import prune_frames

DEFAULT_MAX_DECOMPRESSED = 1 << 30  # 1 GiB


def is_gzip(data: bytes) -> bool:
    return data[:2] == b"\x1f\x8b"


def gunzip(path, data: bytes, limit: int) -> bytes:
    """Decompress, refusing output larger than `limit` (a decompression bomb)."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as f:
            out = f.read(limit + 1)
    except EOFError:
        raise ProfileError(path, "truncated gzip data") from None
    except (OSError, zlib.error) as e:
        raise ProfileError(path, f"corrupt gzip data ({e})") from None
    if len(out) > limit:
        raise ProfileError(
            path, f"decompresses to more than {limit} bytes (limit set by --max-decompressed)")
    return out


def decode_varints(buf: bytes) -> tuple[np.ndarray, np.ndarray]:
    """All varints in `buf` as uint64, and the byte offset where each ends.

    Works one byte position at a time (ids are mostly 1-3 bytes long), so
    millions of varints cost a few vector operations each.
    """
    b = np.frombuffer(buf, dtype=np.uint8)
    more = b >= 0x80
    ends = np.flatnonzero(~more)
    if len(b) and (len(ends) == 0 or ends[-1] != len(b) - 1):
        raise ValueError("truncated varint")
    if len(b) > 1 and not (more[:-1] & more[1:]).any():
        # No varint is longer than two bytes (the usual case for ids): a two-byte
        # one is the byte before its end, when that byte says "more".
        values = b[ends].astype(np.uint64)
        two = np.flatnonzero(more[np.maximum(ends - 1, 0)] & (ends > 0))
        values[two] = (values[two] << np.uint64(7)) | (b[ends[two] - 1] & 0x7F)
        return values, ends
    starts = np.empty_like(ends)
    if len(ends):
        starts[0] = 0
        starts[1:] = ends[:-1] + 1
    lengths = ends - starts + 1
    longest = int(lengths.max()) if len(lengths) else 0
    if longest > 10:
        raise ValueError("varint longer than 10 bytes")
    values = (b[starts] & 0x7F).astype(np.uint64)
    for k in range(1, longest):
        rows = np.flatnonzero(lengths > k)
        values[rows] |= (b[starts[rows] + k] & 0x7F).astype(np.uint64) << np.uint64(7 * k)
    return values, ends


def _split_counts(buf: bytes, blobs: list, ends: np.ndarray) -> np.ndarray:
    """How many varints each blob of the concatenation `buf` holds."""
    blob_ends = np.cumsum(np.fromiter(map(len, blobs), dtype=np.int64, count=len(blobs)))
    last = blob_ends[np.fromiter(map(len, blobs), dtype=bool, count=len(blobs))] - 1
    if len(last) and (np.frombuffer(buf, dtype=np.uint8)[last] >= 0x80).any():
        raise ValueError("truncated varint")
    idx = np.searchsorted(ends, blob_ends, side="left")
    return np.diff(np.concatenate(([0], idx)))


class _Strings:
    """The string table, with pprof's range check on every lookup."""

    def __init__(self, path, table):
        self.path = path
        self.table = table

    def __call__(self, index: int, what: str) -> str:
        if index < 0 or index >= len(self.table):
            raise ProfileError(self.path, f"{what}: string index {index} out of range "
                                          f"(string table has {len(self.table)} entries)")
        return self.table[index]


def parse_pprof(path, data: bytes, max_decompressed: int = DEFAULT_MAX_DECOMPRESSED) -> Profile:
    """Parse profile.proto bytes (gzip or raw) into a Profile."""
    if not data:
        raise ProfileError(path, "empty file")
    if is_gzip(data):
        data = gunzip(path, data, max_decompressed)
        if not data:
            raise ProfileError(path, "empty profile after decompression")
    msg = profile_pb2.PackedProfile()
    try:
        msg.ParseFromString(data)
    except DecodeError:
        raise ProfileError(path, "not a pprof profile (protobuf decoding failed)") from None
    strings = _Strings(path, [raw.decode("utf-8", "replace") for raw in msg.string_table])
    if sum(1 for t in msg.time_nanos if t) > 1:
        raise ProfileError(path, "two profiles concatenated in one file")
    if not strings.table or strings.table[0] != "":
        raise ProfileError(path, "not a pprof profile (string_table[0] must be the empty string)")
    sample_types = [ValueType(strings(t.type, "sample_type"), strings(t.unit, "sample_type"))
                    for t in msg.sample_type]
    if not sample_types:
        raise ProfileError(path, "not a pprof profile (no sample types)")
    if len(set(sample_types)) != len(sample_types):
        raise ProfileError(path, "repeated sample types (two profiles concatenated?)")

    mappings, mapping_index = _mappings(path, msg, strings)
    functions, function_index = _functions(path, msg, strings)
    locations, location_ids = _locations(path, msg, strings, mapping_index, function_index)
    raw_fields = _sample_fields(msg)
    values, offsets, stack = _samples(path, msg, data, len(sample_types), location_ids,
                                      raw_fields)
    label_set, label_sets = _labels(raw_fields[2], strings)

    period_type = None
    if msg.HasField("period_type"):
        period_type = ValueType(strings(msg.period_type.type, "period_type"),
                                strings(msg.period_type.unit, "period_type"))
    return prune_frames(Profile(
        path=str(path),
        sample_types=sample_types,
        functions=functions,
        locations=locations,
        mappings=mappings,
        values=values,
        stack_offsets=offsets,
        stack_locations=stack,
        label_set=label_set,
        label_sets=label_sets,
        default_sample_type=strings(msg.default_sample_type, "default_sample_type"),
        period_type=period_type,
        period=msg.period,
        time_nanos=msg.time_nanos[-1] if msg.time_nanos else 0,
        duration_nanos=msg.duration_nanos,
        comments=[strings(c, "comment") for c in msg.comment],
        doc_url=strings(msg.doc_url, "doc_url"),
        drop_frames=strings(msg.drop_frames, "drop_frames"),
        keep_frames=strings(msg.keep_frames, "keep_frames"),
    ))


def _check_id(path, what, ident, seen):
    if ident == 0:
        raise ProfileError(path, f"{what} with id 0")
    if ident in seen:
        raise ProfileError(path, f"duplicate {what} id {ident}")


def _mappings(path, msg, strings):
    mappings, index = [], {}
    for m in msg.mapping:
        _check_id(path, "mapping", m.id, index)
        index[m.id] = len(mappings)
        mappings.append(Mapping(
            m.memory_start, m.memory_limit, m.file_offset,
            strings(m.filename, "mapping filename"), strings(m.build_id, "mapping build_id"),
            m.has_functions, m.has_filenames, m.has_line_numbers, m.has_inline_frames))
    return mappings, index


def _functions(path, msg, strings):
    functions, index = [], {}
    for f in msg.function:
        _check_id(path, "function", f.id, index)
        index[f.id] = len(functions)
        functions.append(Function(
            strings(f.name, "function name"), strings(f.system_name, "function system_name"),
            strings(f.filename, "function filename"), f.start_line))
    return functions, index


def _locations(path, msg, strings, mapping_index, function_index):
    locations, ids = [], []
    seen = set()
    for loc in msg.location:
        _check_id(path, "location", loc.id, seen)
        seen.add(loc.id)
        mapping = -1
        if loc.mapping_id:
            if loc.mapping_id not in mapping_index:
                raise ProfileError(path, f"location {loc.id} refers to missing mapping {loc.mapping_id}")
            mapping = mapping_index[loc.mapping_id]
        lines = []
        for ln in loc.line:
            fn = -1
            if ln.function_id:
                fn = function_index.get(ln.function_id, -1)
                if fn < 0:
                    raise ProfileError(path, f"location {loc.id} refers to missing function {ln.function_id}")
            lines.append(Line(fn, ln.line, ln.column))
        locations.append(Location(loc.address, mapping, tuple(lines), loc.is_folded))
        ids.append(loc.id)
    return locations, np.array(ids, dtype=np.uint64)


def _encode_varints(values) -> bytes:
    """Packed varint encoding (negative int64 as 10-byte two's complement)."""
    out = bytearray()
    for v in values:
        v &= 0xFFFFFFFFFFFFFFFF
        while v >= 0x80:
            out.append((v & 0x7F) | 0x80)
            v >>= 7
        out.append(v)
    return bytes(out)


def _repack_unpacked(path, msg, data, loc_blobs, val_blobs):
    """Give samples written unpacked the packed bytes the fast path decodes."""
    need = [i for i, (a, b) in enumerate(zip(loc_blobs, val_blobs)) if not a or not b]
    if not need:
        return
    try:
        if len(need) * 20 < len(loc_blobs):
            # A few samples (Go packs only lists of three or more): re-read just those.
            lists = [profile_pb2.SampleList.FromString(msg.sample[i].SerializeToString())
                     for i in need]
        else:
            whole = profile_pb2.SampleLists()
            whole.ParseFromString(data)
            lists = [whole.sample[i] for i in need]
    except DecodeError:
        raise ProfileError(path, "malformed sample (protobuf decoding failed)") from None
    for i, sample in zip(need, lists):
        loc_blobs[i] = loc_blobs[i] or _encode_varints(sample.location_id)
        val_blobs[i] = val_blobs[i] or _encode_varints(sample.value)


def _sample_fields(msg) -> tuple[list, list, list]:
    """Each sample's packed locations, packed values and raw labels, in one pass.

    Every access to a sample creates a Python wrapper, so they are read once.
    """
    join = b"".join
    locs, vals, labels = [], [], []
    for s in msg.sample:
        locs.append(join(s.location_id))
        vals.append(join(s.value))
        labels.append(tuple(s.label))
    return locs, vals, labels


def _samples(path, msg, data, ntypes, location_ids, raw_fields):
    """Sample values and stacks as arrays (see model.Profile)."""
    n = len(msg.sample)
    loc_blobs, val_blobs = raw_fields[0], raw_fields[1]
    _repack_unpacked(path, msg, data, loc_blobs, val_blobs)
    try:
        buf = b"".join(loc_blobs)
        ids, ends = decode_varints(buf)
        stack_lens = _split_counts(buf, loc_blobs, ends)
        buf = b"".join(val_blobs)
        raw_values, ends = decode_varints(buf)
        value_lens = _split_counts(buf, val_blobs, ends)
    except ValueError as e:
        raise ProfileError(path, f"malformed sample ({e})") from None
    if n and (value_lens != ntypes).any():
        bad = int(np.flatnonzero(value_lens != ntypes)[0])
        raise ProfileError(path, f"sample {bad} has {value_lens[bad]} values, "
                                 f"expected {ntypes} (one per sample type)")
    values = raw_values.view(np.int64).reshape(n, ntypes)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(stack_lens, out=offsets[1:])
    return values, offsets, _location_indices(path, ids, location_ids)


def _location_indices(path, ids, location_ids):
    """Map location ids to indices into Profile.locations, rejecting dangling ids."""
    if len(ids) == 0:
        return np.zeros(0, dtype=np.int32)
    top = int(max(ids.max(), location_ids.max(initial=0)))
    if top <= 4 * len(location_ids) + 1024:
        # Ids are nearly always small and dense: a lookup table is O(n).
        lut = np.full(top + 1, -1, dtype=np.int64)
        lut[location_ids.astype(np.int64)] = np.arange(len(location_ids))
        idx = lut[ids.astype(np.int64)]
        missing = idx < 0
    else:
        order = np.argsort(location_ids, kind="stable")
        sorted_ids = location_ids[order]
        pos = np.minimum(np.searchsorted(sorted_ids, ids), max(len(sorted_ids) - 1, 0))
        missing = sorted_ids[pos] != ids if len(sorted_ids) else np.ones(len(ids), bool)
        idx = order[pos] if len(sorted_ids) else np.zeros(len(ids), np.int64)
    if missing.any():
        bad = int(ids[np.flatnonzero(missing)[0]])
        raise ProfileError(path, f"sample refers to missing location {bad}")
    return idx.astype(np.int32)


def _labels(keys, strings):
    """Intern each sample's labels; label_set[i] indexes label_sets.

    Labels arrive as raw bytes, so equal label sets are found by comparing
    bytes and each distinct set is decoded once.
    """
    raw_index = {(): 0}
    label_sets = [()]
    decoded = {(): 0}
    label_set = np.zeros(len(keys), dtype=np.int32)
    for i, key in enumerate(keys):
        if not key:
            continue
        idx = raw_index.get(key)
        if idx is None:
            try:
                labels = tuple(_label(strings, profile_pb2.Label.FromString(raw)) for raw in key)
            except DecodeError:
                raise ProfileError(strings.path, "malformed sample label") from None
            labels = tuple(lb for lb in labels if lb is not None)
            idx = decoded.get(labels)
            if idx is None:
                idx = decoded[labels] = len(label_sets)
                label_sets.append(labels)
            raw_index[key] = idx
        label_set[i] = idx
    return label_set, label_sets


def _label(strings, lb):
    if not (lb.str or lb.num or lb.num_unit):
        return None  # pprof drops labels that carry nothing
    return Label(strings(lb.key, "label key"), strings(lb.str, "label value"), lb.num,
                 strings(lb.num_unit, "label unit"))
