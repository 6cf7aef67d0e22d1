"""Decoding pprof Sample records into arrays, without a Python object per sample.

profile.proto's Sample is `1: repeated uint64 location_id`, `2: repeated int64
value`, `3: repeated Label label`. Go's encoder (runtime/pprof protobuf.go
uint64s/int64s) writes a list of three or more packed (wire type 2) and
shorter ones as single varints (wire type 0), labels as embedded messages. A
record is a short run of such fields. The fast path walks them for all
samples at once with numpy, one step per field, and gathers each field's
varints into one buffer (a packed run and a single varint encode an element
alike). Records with any other field (unknown fields, multi-byte tags) go
through the reference path: a protobuf parse per record.
"""

from __future__ import annotations

import numpy as np

from reportgen.proto import profile_pb2

LOCATIONS, VALUES, LABELS = 1, 2, 3
# Tags the fast path reads (field << 3 | wire type): 0 = one varint, 2 = length-delimited.
_PACKED = np.zeros(256, dtype=bool)
_PACKED[[0x0A, 0x12, 0x1A]] = True
_SINGLE = np.zeros(256, dtype=bool)
_SINGLE[[0x08, 0x10]] = True


class SampleFields:
    """Each field's payload bytes in sample order, and how many bytes each sample has.

    `loc_buf`/`val_buf` are the packed varints of every sample concatenated;
    `loc_bytes`/`val_bytes` (one int per sample) say where each sample's run
    ends. `labels[i]` is sample i's Label fields as raw bytes (b"" for none).
    """

    def __init__(self, loc_buf, loc_bytes, val_buf, val_bytes, labels):
        self.loc_buf, self.loc_bytes = loc_buf, loc_bytes
        self.val_buf, self.val_bytes = val_buf, val_bytes
        self.labels = labels


def split_records(records: list[bytes]) -> SampleFields | None:
    """The fast path; None when a record is not in the packed form (use the reference).

    Raises ValueError for a record whose fields run past its end.
    """
    n = len(records)
    lens = np.fromiter(map(len, records), dtype=np.int64, count=n)
    buf = b"".join(records)
    b = np.frombuffer(buf, dtype=np.uint8)
    ends = np.cumsum(lens)
    pos = ends - lens
    sample_of, field_of, at_of, start_of, stop_of = [], [], [], [], []
    live = np.flatnonzero(pos < ends)
    while live.size:
        at = pos[live]
        tags = b[at]
        packed, single = _PACKED[tags], _SINGLE[tags]
        if not (packed | single).all():
            return None
        value, after = _varint_at(b, at + 1, ends[live])
        start = np.where(packed, after, at + 1)
        stop = np.where(packed, after + value, after)
        if (stop > ends[live]).any() or (packed & (value < 0)).any():
            raise ValueError("a sample field runs past the end of its sample")
        sample_of.append(live)
        field_of.append((tags >> 3).astype(np.int64))
        at_of.append(at)
        start_of.append(start)
        stop_of.append(stop)
        pos[live] = stop
        live = live[stop < ends[live]]
    if not sample_of:
        empty = np.zeros(n, dtype=np.int64)
        return SampleFields(b"", empty, b"", empty, [b""] * n)
    sample, field = np.concatenate(sample_of), np.concatenate(field_of)
    order = np.argsort(sample, kind="stable")  # stable: a sample's fields keep their order
    sample, field = sample[order], field[order]
    at, start, stop = (np.concatenate(x)[order] for x in (at_of, start_of, stop_of))
    labels = _label_keys(buf, sample, at, stop, field == LABELS, n)
    if labels is None:
        return None
    loc_buf, loc_bytes = _gather(b, sample, start, stop, field == LOCATIONS, n)
    val_buf, val_bytes = _gather(b, sample, start, stop, field == VALUES, n)
    return SampleFields(loc_buf, loc_bytes, val_buf, val_bytes, labels)


def _varint_at(b: np.ndarray, at: np.ndarray, limit: np.ndarray):
    """The varint starting at each position (at most 10 bytes, before `limit`):
    its value and the position after it."""
    value = np.zeros(len(at), dtype=np.uint64)
    done = np.zeros(len(at), dtype=bool)
    after = at.copy()
    for k in range(10):
        p = at + k
        if (~done & (p >= limit)).any():
            raise ValueError("truncated varint in a sample")
        byte = b[np.where(done, 0, p)]
        value |= np.where(done, 0, byte & 0x7F).astype(np.uint64) << np.uint64(7 * k)
        ending = ~done & (byte < 0x80)
        after[ending] = p[ending] + 1
        done |= ending
        if done.all():
            return value.astype(np.int64), after
    raise ValueError("varint longer than 10 bytes in a sample")


def _gather(b, sample, start, stop, keep, n):
    """The bytes of the kept fields, concatenated in order, and bytes per sample."""
    start, stop, sample = start[keep], stop[keep], sample[keep]
    per_sample = np.bincount(sample, weights=stop - start, minlength=n).astype(np.int64)
    if not len(start):
        return b"", per_sample
    # A run that ends inside a varint would borrow the next run's bytes: refuse it.
    if (b[stop[stop > start] - 1] >= 0x80).any():
        raise ValueError("truncated varint")
    # Mark the kept bytes: +1 where a run starts, -1 where it stops, running sum 1.
    # Runs never overlap and a run never starts where another stops (a tag is
    # between them), so int8 holds the sum and plain assignment sets the marks.
    mark = np.zeros(len(b) + 1, dtype=np.int8)
    mark[start] = 1
    mark[stop] = -1
    return b[np.cumsum(mark[:-1], dtype=np.int8).view(bool)].tobytes(), per_sample


def _label_keys(buf: bytes, sample, at, stop, keep, n) -> list[bytes] | None:
    """Per sample, the bytes of its Label fields (tags included): equal label sets
    written alike have equal keys. None when a sample's labels are not adjacent."""
    sample, at, stop = sample[keep], at[keep], stop[keep]
    keys = [b""] * n
    if not len(sample):
        return keys
    first = np.flatnonzero(np.r_[True, sample[1:] != sample[:-1]])
    last = np.r_[first[1:], len(sample)] - 1
    span_from, span_to = at[first], stop[last]
    covered = np.add.reduceat(stop - at, first)
    if (covered != span_to - span_from).any():
        return None
    for s, a, z in zip(sample[first].tolist(), span_from.tolist(), span_to.tolist()):
        keys[s] = buf[a:z]
    return keys


def reference_fields(records: list[bytes]):
    """The reference path: each record parsed by protobuf, in any valid encoding.

    Returns per sample its location ids, its values and its raw Label messages.
    Raises google.protobuf's DecodeError for a malformed record.
    """
    ids, values, labels = [], [], []
    for raw in records:
        sample = profile_pb2.SampleList.FromString(raw)  # packed, unpacked or split runs
        ids.append(list(sample.location_id))
        values.append(list(sample.value))
        labels.append(tuple(sample.label))
    return ids, values, labels
