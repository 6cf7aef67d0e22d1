"""Frames: how locations become graph nodes, with pprof's exact identity rules.

pprof first aggregates the profile to the chosen granularity (dropping file
names, line numbers or function names) and then merges every frame whose
remaining identity is equal. Each Line of a Location is its own frame, the
innermost (inlined) first. A NodeKey keeps exactly the identity pprof keeps,
so frames merge exactly when pprof merges them.
"""

from __future__ import annotations

import posixpath
import re
from typing import NamedTuple

import numpy as np

GRANULARITIES = ("functions", "filefunctions", "lines", "files")


class NodeKey(NamedTuple):
    name: str
    file: str
    line: int
    objfile: str
    start_line: int

    def printable(self) -> str:
        """The name pprof prints for this node."""
        parts = [self.name] if self.name else []
        if self.line:
            parts.append(f"{self.file}:{self.line}")
        elif self.file:
            parts.append(self.file)
        elif self.name:
            pass
        elif self.objfile:
            parts.append("[" + posixpath.basename(self.objfile) + "]")
        else:
            parts.append("<unknown>")
        return " ".join(parts)


_TRIM_PREFIXES = ("/proc/self/cwd/./", "/proc/self/cwd/")


def clean_path(path: str) -> str:
    """pprof's file name clean-up: trim /proc/self/cwd, then Go's filepath.Clean."""
    for prefix in _TRIM_PREFIXES:
        if path.startswith(prefix):
            path = path[len(prefix):]
            break
    if not path:
        return path
    cleaned = posixpath.normpath(path)
    return re.sub(r"^/+", "/", cleaned)


class FrameTable:
    """Node keys for one profile at one granularity.

    `keys[n]` is node n; `loc_frames[l]` lists the nodes of location l, the
    innermost line first (a location without lines still yields one node).
    """

    def __init__(self, profile, granularity: str = "functions"):
        if granularity not in GRANULARITIES:
            raise ValueError(granularity)
        self.granularity = granularity
        self.keys: list[NodeKey] = []
        index: dict[NodeKey, int] = {}
        use_name = granularity in ("functions", "filefunctions", "lines")
        use_file = granularity in ("filefunctions", "lines", "files")
        use_line = granularity == "lines"
        cleaned: dict[str, str] = {}
        loc_frames = []
        for loc in profile.locations:
            objfile = profile.mappings[loc.mapping].filename if loc.mapping >= 0 else ""
            frames = []
            for ln in loc.lines or (None,):
                if ln is None or ln.function < 0:
                    key = NodeKey("", "", 0, objfile, 0)
                else:
                    fn = profile.functions[ln.function]
                    name = fn.name if use_name else ""
                    file = ""
                    if use_file and fn.filename:
                        file = cleaned.get(fn.filename)
                        if file is None:
                            file = cleaned[fn.filename] = clean_path(fn.filename)
                    # pprof keeps the binary and start line only for nameless frames.
                    nameless = name == ""
                    key = NodeKey(name, file, ln.line if use_line else 0,
                                  objfile if nameless else "", fn.start_line if nameless else 0)
                node = index.get(key)
                if node is None:
                    node = index[key] = len(self.keys)
                    self.keys.append(key)
                frames.append(node)
            loc_frames.append(frames)
        self.num_nodes = len(self.keys)
        counts = np.fromiter(map(len, loc_frames), dtype=np.int64, count=len(loc_frames))
        self.loc_count = counts.astype(np.int32)   # indexed per frame: keep it narrow
        self.loc_start = np.zeros(len(loc_frames) + 1, dtype=np.int64)
        np.cumsum(counts, out=self.loc_start[1:])
        self.frames = np.fromiter((n for fr in loc_frames for n in fr), dtype=np.int64,
                                  count=int(self.loc_start[-1]))
        self.innermost = self.frames[self.loc_start[:-1]]
        self.outermost = self.frames[self.loc_start[1:] - 1]


class Occurrences(NamedTuple):
    """Every frame of every chosen sample, leaf first, as parallel arrays."""
    node: np.ndarray    # int32: node id (widen before arithmetic)
    sample: np.ndarray  # int32: position in the chosen samples (widen before arithmetic)
    outer: np.ndarray   # bool: the outermost line of its location (not inlined)


# Frames per chunk when a pass over every frame needs temporaries per frame:
# bounds those temporaries (about 30 bytes a frame) whatever the profile's size.
CHUNK_FRAMES = 1 << 22


def _expansion(profile, table: FrameTable):
    """Cached: every sample's frames as frame slots (location, line), leaf first.

    A location expands to the same slots at every granularity (one per line,
    or one when it has none); only the node of a slot differs. So the costly
    expansion is done once per profile, and each granularity maps slots to
    its nodes with one lookup. Written a chunk of samples at a time into
    arrays sized up front: the int64 temporaries of a whole-profile pass
    would be larger than the result.
    """
    cached = profile.cache.get("expansion")
    if cached is not None:
        return cached
    locs, offsets = profile.stack_locations, profile.stack_offsets
    # Per frame, int32 (sample and slot numbers are far below 2**31): these arrays
    # are a profile's largest, 30+ entries per sample, and stay cached.
    loc_start = table.loc_start.astype(np.int32)
    multi = table.loc_count > 1
    bounds = sample_chunks_by_offsets(offsets)
    # Positions of locations with inlined lines, per chunk (few in most profiles):
    # each adds loc_count - 1 slots after its first.
    hits = [np.flatnonzero(multi[locs[offsets[s0]:offsets[s1]]]) if multi.any()
            else np.zeros(0, dtype=np.int64) for s0, s1 in bounds]
    extras = [table.loc_count[locs[offsets[s0]:offsets[s1]][h]] - 1
              for (s0, s1), h in zip(bounds, hits)]
    starts = np.cumsum([0] + [int(offsets[s1] - offsets[s0]) + int(e.sum())
                              for (s0, s1), e in zip(bounds, extras)])
    slot = np.empty(int(starts[-1]), dtype=np.int32)
    sample = np.empty(len(slot), dtype=np.int32)
    outer = np.ones(len(slot), dtype=bool)
    per_sample = np.diff(offsets)   # frames per sample: its locations, plus inlined lines
    for (s0, s1), hit, extra, o, end in zip(bounds, hits, extras, starts[:-1].tolist(),
                                            starts[1:].tolist()):
        chunk = locs[offsets[s0]:offsets[s1]]
        first = loc_start[chunk]
        loc_sample = np.repeat(np.arange(s0, s1, dtype=np.int32), np.diff(offsets[s0:s1 + 1]))
        if not len(hit):
            slot[o:end] = first
            sample[o:end] = loc_sample
            continue
        # The lines after a location's first go right after it, in order
        # (np.insert keeps the order of values inserted at one index).
        at = np.repeat(hit + 1, extra)
        line = np.arange(1, len(at) + 1) - np.repeat(np.cumsum(extra) - extra, extra)
        slot[o:end] = np.insert(first, at, np.repeat(first[hit], extra) + line)
        sample[o:end] = np.insert(loc_sample, at, np.repeat(loc_sample[hit], extra))
        np.add.at(per_sample, loc_sample[hit], extra)
        # Only a location's last line is a real call; the others are inlined.
        inner = np.ones(len(chunk), dtype=bool)
        inner[hit] = False
        outer[o:end] = np.insert(inner, at, line == np.repeat(extra, extra))
    leaf = np.where(per_sample > 0, np.cumsum(per_sample) - per_sample, -1)
    cached = profile.cache["expansion"] = (slot, sample, outer, leaf, per_sample)
    return cached


def sample_chunks_by_offsets(offsets: np.ndarray, size: int | None = None) -> list[tuple[int, int]]:
    """[s0, s1) ranges of samples covering all, each with about `size` (default
    CHUNK_FRAMES) locations; `offsets` are the profile's stack_offsets."""
    size = size or CHUNK_FRAMES
    nsamples = len(offsets) - 1
    if nsamples <= 0:
        return []
    cuts = np.searchsorted(offsets, np.arange(size, int(offsets[-1]), size), "left")
    bounds = np.unique(np.concatenate(([0], np.clip(cuts, 0, nsamples), [nsamples])))
    return list(zip(bounds[:-1].tolist(), bounds[1:].tolist()))


class StackFrames(NamedTuple):
    """All samples' frames at one granularity, computed once per profile.

    A node counts once per sample however often recursion repeats it (pprof's
    cum): `dup` lists the frames whose node occurs again nearer the root of
    the same sample, so summing over every frame but those gives cum.
    Only samples marked `recursive` have such frames; few do, so both stay
    small, unlike a list of every distinct (node, sample) pair.
    """
    table: FrameTable
    occ: Occurrences
    leaf: np.ndarray       # per sample: index of its leaf frame in occ, -1 if no frames
    counts: np.ndarray     # per sample: how many frames it has (int64)
    dup: np.ndarray        # int32 frame positions: a node already seen in its sample
    recursive: np.ndarray  # bool per sample: some node occurs twice on its stack


def sample_chunks(sample: np.ndarray, size: int | None = None) -> list[tuple[int, int]]:
    """[lo, hi) ranges of about `size` (default CHUNK_FRAMES) frames that cover
    `sample` (each frame's sample, non-decreasing), never splitting a sample."""
    size = size or CHUNK_FRAMES
    n = len(sample)
    if n <= size:
        return [(0, n)] if n else []
    starts = np.searchsorted(sample, sample[np.arange(size, n, size)], "left")
    bounds = np.unique(np.concatenate(([0], starts, [n])))
    return list(zip(bounds[:-1].tolist(), bounds[1:].tolist()))


def last_of_each(major: np.ndarray, minor: np.ndarray, minor_size: int) -> np.ndarray:
    """Bool per position: the last position of its (major, minor) key.

    `major` is non-decreasing (a sample number), 0 <= minor < minor_size.
    Sorts one int64 per position, the key and its position packed together
    (numpy's sort of plain integers is several times faster than a stable
    argsort); falls back to lexsort when the packed key would not fit.
    """
    n = len(major)
    out = np.zeros(n, dtype=bool)
    if n == 0:
        return out
    pos_bits = max(int(n - 1).bit_length(), 1)
    base = int(major[0])
    span = int(major[-1]) - base + 1
    if (span * minor_size).bit_length() + pos_bits <= 62:
        key = major.astype(np.int64)
        key -= base
        key *= minor_size
        key += minor
        key <<= pos_bits
        key |= np.arange(n, dtype=np.int64)
        key.sort()
        pos = key & ((1 << pos_bits) - 1)
        key >>= pos_bits
        last = np.ones(n, dtype=bool)
        last[:-1] = key[1:] != key[:-1]
        out[pos[last]] = True
        return out
    order = np.lexsort((np.arange(n), minor, major))
    last = np.ones(n, dtype=bool)
    last[:-1] = (major[order][1:] != major[order][:-1]) | (minor[order][1:] != minor[order][:-1])
    out[order[last]] = True
    return out


def _repeated(sample: np.ndarray, node: np.ndarray, width: int) -> np.ndarray:
    """int32 positions of frames whose node occurs again nearer the root of the
    same sample. A plain sort of (sample, node) keys finds the samples with a
    repeat; only their frames get the costlier search for positions."""
    if not len(sample):
        return np.zeros(0, dtype=np.int32)
    base = int(sample[0])
    span = int(sample[-1]) - base + 1
    key = sample.astype(np.int32 if span * width < 1 << 31 else np.int64)
    key -= base
    key *= width
    key += node
    key.sort()
    again = key[1:][key[1:] == key[:-1]]
    if not len(again):
        return np.zeros(0, dtype=np.int32)
    recursive = np.zeros(span, dtype=bool)
    recursive[again // width] = True
    cand = np.flatnonzero(recursive[sample - base])
    once = last_of_each(sample[cand], node[cand], width)
    return cand[~once].astype(np.int32)


def stack_frames(profile, granularity: str = "functions") -> StackFrames:
    key = ("stack_frames", granularity)
    cached = profile.cache.get(key)
    if cached is None:
        cached = profile.cache[key] = _stack_frames(profile, granularity)
    return cached


def _stack_frames(profile, granularity):
    table = FrameTable(profile, granularity)
    slot, sample, outer, leaf, counts = _expansion(profile, table)
    occ = Occurrences(table.frames.astype(np.int32)[slot], sample, outer)
    width = max(table.num_nodes, 1)
    dups = [_repeated(sample[lo:hi], occ.node[lo:hi], width) + np.int32(lo)
            for lo, hi in sample_chunks(sample)]
    dup = np.concatenate(dups) if dups else np.zeros(0, dtype=np.int32)
    recursive = np.zeros(len(leaf), dtype=bool)
    recursive[sample[dup]] = True
    return StackFrames(table, occ, leaf, counts, dup, recursive)
