"""Reader for the pprof profile.proto format (gzipped or raw).

Turns bytes into a model.Profile and checks everything pprof's own decoder
checks, so a malformed profile fails here with one clear reason instead of
somewhere deep inside an analyzer.
"""

from __future__ import annotations

import gzip
import io
import zlib
from itertools import chain

import numpy as np
from google.protobuf.message import DecodeError

from reportgen.errors import ProfileError
from reportgen.model import Function, Label, Line, Location, Mapping, Profile, ValueType
from reportgen.proto import profile_pb2
from reportgen.sources.files import DEFAULT_MAX_DECOMPRESSED, DEFAULT_MAX_SAMPLES
from reportgen.sources.names import simplify_functions
from reportgen.sources.prune import prune_frames
from reportgen.sources.samples import reference_fields, split_records


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

    Works from each varint's last byte (the most significant group) back,
    one vector step per byte of the longest varint, over the varints that
    are still that long: ids are mostly 1-3 bytes, so millions of varints
    cost a few passes. Raises ValueError for a cut or over-long varint.
    """
    b = np.frombuffer(buf, dtype=np.uint8)
    more = b >= 0x80
    ends = np.flatnonzero(~more)
    if len(b) and (len(ends) == 0 or ends[-1] != len(b) - 1):
        raise ValueError("truncated varint")
    values = (b[ends] & 0x7F).astype(np.uint64)
    longer = np.flatnonzero((ends > 0) & more[np.maximum(ends - 1, 0)])
    shift = np.uint64(7)
    for back in range(1, 10):
        if not longer.size:
            return values, ends
        at = ends[longer] - back
        values[longer] = (values[longer] << shift) | (b[at] & 0x7F)
        longer = longer[(at > 0) & more[np.maximum(at - 1, 0)]]
    if longer.size:
        raise ValueError("varint longer than 10 bytes")
    return values, ends


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


def is_legacy_cpu(data: bytes) -> bool:
    """The legacy (pre-protobuf, Go before 1.9) CPU profile: a header of five words
    0, 3, 0, period > 0, 0 in 32- or 64-bit, little- or big-endian (pprof's
    profile/legacy_profile.go parseCPU)."""
    for width in (4, 8):
        for order in ("little", "big"):
            if len(data) < 5 * width:
                continue
            w = [int.from_bytes(data[i * width:(i + 1) * width], order) for i in range(5)]
            if w[0] == 0 and w[1] == 3 and w[2] == 0 and w[3] > 0 and w[4] == 0:
                return True
    return False


def count_samples(buf: bytes, stop: int) -> int:
    """How many samples (top-level field 2) profile.proto bytes hold, counting no
    further than `stop` + 1; stops early at anything malformed (the decoder names it).

    Walks the top-level fields only, skipping each by its length, so it allocates
    nothing per sample: a 100 kB gzip that inflates to 10^7 samples is refused in
    about a second instead of after gigabytes of decoding.
    """
    pos, end, count = 0, len(buf), 0
    while pos < end:
        tag = buf[pos]
        if tag == 0x12 and pos + 2 < end:
            # The usual sample: tag 2 and a one- or two-byte length, read inline
            # (a call per sample was most of this walk's time).
            size = buf[pos + 1]
            if size < 0x80:
                pos += 2 + size
            elif buf[pos + 2] < 0x80:
                pos += 3 + (size & 0x7F | buf[pos + 2] << 7)
            else:
                size = None
            if size is not None:
                count += 1
                if count > stop:
                    return count
                continue
        tag, pos = _varint(buf, pos)
        wire = tag & 7
        if wire == 2:
            size, pos = _varint(buf, pos)
            pos += size
        elif wire == 0:
            _, pos = _varint(buf, pos)
        elif wire in (1, 5):
            pos += 8 if wire == 1 else 4
        else:
            return count
        if tag == 0x12:
            count += 1
            if count > stop:
                return count
    return count


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    for i in range(pos, min(pos + 10, len(buf))):
        b = buf[i]
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, i + 1
        shift += 7
    return value, len(buf) + 1   # truncated: ends the walk


def check_sample_count(path, data: bytes, max_samples: int, compressed: int | None = None):
    """Refuse profile.proto bytes with more than `max_samples` samples before decoding.

    Every sample takes at least 4 bytes (its tag and length, one value's tag and
    length) plus a byte per sample type, so small inputs need no count.
    """
    if len(data) // 5 <= max_samples:
        return
    n = count_samples(data, max_samples)
    if n > max_samples:
        inflated = f", {len(data)} bytes inflated from {compressed}" if compressed else ""
        raise ProfileError(path, f"more than {max_samples} samples (the --max-samples limit"
                                 f"{inflated}); raise --max-samples to read it")


def parse_pprof(path, data: bytes, max_decompressed: int = DEFAULT_MAX_DECOMPRESSED,
                max_samples: int = DEFAULT_MAX_SAMPLES, vectorised: bool = True) -> Profile:
    """Parse profile.proto bytes (gzip or raw) into a Profile; vectorised=False
    decodes the samples on the reference path (tests compare the two).

    Bounded: gzip output beyond `max_decompressed` bytes and profiles of more
    than `max_samples` samples are refused (ProfileError) before decoding.
    """
    if not data:
        raise ProfileError(path, "empty file")
    compressed = None
    if is_gzip(data):
        compressed = len(data)
        data = gunzip(path, data, max_decompressed)
        if not data:
            raise ProfileError(path, "empty profile after decompression")
    if is_legacy_cpu(data):
        raise ProfileError(path, "a legacy (pre-protobuf) CPU profile, as Go before 1.9 wrote "
                                 "them: not supported; convert it with `go tool pprof -proto "
                                 "FILE > FILE.pb.gz` or capture it again")
    check_sample_count(path, data, max_samples, compressed)
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
    functions = simplify_functions(functions)   # pprof's display names, before drop_frames
    locations, location_ids = _locations(path, msg, strings, mapping_index, function_index)
    values, offsets, stack, raw_labels = _samples(path, msg, len(sample_types), location_ids,
                                                  vectorised)
    label_set, label_sets = _labels(raw_labels, strings)

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


# Samples decoded at a time on the fast path. Splitting records and decoding
# varints make temporaries of a few hundred bytes per sample; a chunk bounds
# them (a 1M-sample profile stays under 2 GiB, issue 15) while each numpy
# step still runs over ~2M location ids.
SAMPLE_CHUNK = 1 << 16


def _samples(path, msg, ntypes, location_ids, vectorised=True):
    """Sample values, stack offsets, location indices (see model.Profile) and each
    sample's raw labels. The vectorised decoder (sources/samples.py) reads Go's
    encodings, SAMPLE_CHUNK samples at a time; anything else, or vectorised=False,
    takes the reference path."""
    records = list(msg.sample)
    n = len(records)
    stack = None
    try:
        chunks = []
        for first in range(0, n if vectorised else 0, SAMPLE_CHUNK):
            chunk = _fast_chunk(path, records[first:first + SAMPLE_CHUNK], first, ntypes,
                                location_ids)
            if chunk is None:   # not Go's encoding: the reference path reads every sample
                break
            chunks.append(chunk)
        if vectorised and len(chunks) * SAMPLE_CHUNK >= n:
            stack, stack_lens, raw_values, value_lens = (
                np.concatenate(part) if part else np.zeros(0, np.int64) for part in
                ([c[i] for c in chunks] for i in range(4)))
            stack = stack.astype(np.int32, copy=False)
            labels = list(chain.from_iterable(c[4] for c in chunks))
        else:
            del chunks
            id_lists, value_lists, labels = reference_fields(records)
            ids = np.fromiter(chain.from_iterable(id_lists), dtype=np.uint64)
            raw_values = np.fromiter(chain.from_iterable(value_lists), dtype=np.int64)
            stack_lens = np.fromiter(map(len, id_lists), dtype=np.int64, count=n)
            value_lens = np.fromiter(map(len, value_lists), dtype=np.int64, count=n)
    except ValueError as e:
        raise ProfileError(path, f"malformed sample ({e})") from None
    except DecodeError:
        raise ProfileError(path, "malformed sample (protobuf decoding failed)") from None
    _check_value_counts(path, value_lens, ntypes, 0)
    values = raw_values.reshape(n, ntypes)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(stack_lens, out=offsets[1:])
    if stack is None:
        stack = _location_indices(path, ids, location_ids)
    return values, offsets, stack, labels


def _fast_chunk(path, records, first, ntypes, location_ids):
    """Samples first.. (records) on the fast path: location indices, stack lengths,
    values, value counts, raw labels; None when not in Go's encoding."""
    fields = split_records(records)
    if fields is None:
        return None
    ids, ends = decode_varints(fields.loc_buf)
    stack_lens = _per_sample(ends, fields.loc_bytes)
    del ends
    raw_values, ends = decode_varints(fields.val_buf)
    value_lens = _per_sample(ends, fields.val_bytes)
    _check_value_counts(path, value_lens, ntypes, first)
    return (_location_indices(path, ids, location_ids), stack_lens, raw_values.view(np.int64),
            value_lens, fields.labels)


def _check_value_counts(path, value_lens, ntypes, first):
    if len(value_lens) and (value_lens != ntypes).any():
        bad = int(np.flatnonzero(value_lens != ntypes)[0])
        raise ProfileError(path, f"sample {first + bad} has {value_lens[bad]} values, "
                                 f"expected {ntypes} (one per sample type)")


def _per_sample(varint_ends: np.ndarray, bytes_per_sample: np.ndarray) -> np.ndarray:
    """How many of the varints (by the offset of their last byte) fall in each
    sample's run of bytes."""
    bounds = np.cumsum(bytes_per_sample)
    return np.diff(np.searchsorted(varint_ends, bounds, side="left"), prepend=0)


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
                # a key is a sample's Label fields as bytes, or a tuple of Label messages
                raws = (profile_pb2.SampleList.FromString(key).label if isinstance(key, bytes)
                        else key)
                labels = tuple(_label(strings, profile_pb2.Label.FromString(raw)) for raw in raws)
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
