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
    """All varints in `buf` as uint64, and the byte offset where each ends."""
    b = np.frombuffer(buf, dtype=np.uint8)
    ends = np.flatnonzero(b < 0x80)
    if len(b) and (len(ends) == 0 or ends[-1] != len(b) - 1):
        raise ValueError("truncated varint")
    starts = np.empty_like(ends)
    if len(ends):
        starts[0] = 0
        starts[1:] = ends[:-1] + 1
    lengths = ends - starts + 1
    if len(lengths) and lengths.max() > 10:
        raise ValueError("varint longer than 10 bytes")
    pos = np.arange(len(b), dtype=np.int64) - np.repeat(starts, lengths)
    parts = (b & 0x7F).astype(np.uint64) << (7 * pos).astype(np.uint64)
    if len(starts) == 0:
        return np.zeros(0, dtype=np.uint64), ends
    return np.add.reduceat(parts, starts), ends


def _split_counts(blobs: list, ends: np.ndarray) -> np.ndarray:
    """How many varints each blob holds, given where every varint ends."""
    blob_ends = np.cumsum(np.fromiter(map(len, blobs), dtype=np.int64, count=len(blobs)))
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
    strings = _Strings(path, list(msg.string_table))
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
    values, offsets, stack = _samples(path, msg, data, len(sample_types), location_ids)
    label_set, label_sets = _labels(msg, strings)

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
        time_nanos=msg.time_nanos,
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


def _samples(path, msg, data, ntypes, location_ids):
    """Sample values and stacks as arrays (see model.Profile)."""
    samples = msg.sample
    n = len(samples)
    loc_blobs = [s.location_id for s in samples]
    val_blobs = [s.value for s in samples]
    if n and not (all(val_blobs) and all(loc_blobs)):
        return _samples_unpacked(path, data, ntypes, location_ids)
    try:
        ids, ends = decode_varints(b"".join(loc_blobs))
        stack_lens = _split_counts(loc_blobs, ends)
        raw_values, ends = decode_varints(b"".join(val_blobs))
        value_lens = _split_counts(val_blobs, ends)
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


def _samples_unpacked(path, data, ntypes, location_ids):
    """Slow path for writers that do not pack repeated ints."""
    full = profile_pb2.Profile()
    full.ParseFromString(data)
    n = len(full.sample)
    offsets = np.zeros(n + 1, dtype=np.int64)
    ids, values = [], []
    for i, s in enumerate(full.sample):
        if len(s.value) != ntypes:
            raise ProfileError(path, f"sample {i} has {len(s.value)} values, "
                                     f"expected {ntypes} (one per sample type)")
        ids.extend(s.location_id)
        values.extend(s.value)
        offsets[i + 1] = len(ids)
    return (np.array(values, dtype=np.int64).reshape(n, ntypes), offsets,
            _location_indices(path, np.array(ids, dtype=np.uint64), location_ids))


def _location_indices(path, ids, location_ids):
    """Map location ids to indices into Profile.locations, rejecting dangling ids."""
    order = np.argsort(location_ids, kind="stable")
    sorted_ids = location_ids[order]
    pos = np.searchsorted(sorted_ids, ids)
    pos_clipped = np.minimum(pos, max(len(sorted_ids) - 1, 0))
    if len(ids) and (len(sorted_ids) == 0 or (sorted_ids[pos_clipped] != ids).any()):
        if len(sorted_ids) == 0:
            bad = ids[0]
        else:
            bad = ids[np.flatnonzero(sorted_ids[pos_clipped] != ids)[0]]
        raise ProfileError(path, f"sample refers to missing location {int(bad)}")
    return order[pos_clipped].astype(np.int32) if len(ids) else np.zeros(0, dtype=np.int32)


def _labels(msg, strings):
    """Intern each sample's labels; label_set[i] indexes label_sets."""
    sets = {(): 0}
    label_sets = [()]
    n = len(msg.sample)
    label_set = np.zeros(n, dtype=np.int32)
    for i, s in enumerate(msg.sample):
        if not s.label:
            continue
        labels = tuple(
            Label(strings(lb.key, "label key"), strings(lb.str, "label value"), lb.num,
                  strings(lb.num_unit, "label unit"))
            for lb in s.label if lb.str or lb.num or lb.num_unit)
        idx = sets.get(labels)
        if idx is None:
            idx = sets[labels] = len(label_sets)
            label_sets.append(labels)
        label_set[i] = idx
    return label_set, label_sets
