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
        self.loc_count = counts
        self.loc_start = np.zeros(len(loc_frames) + 1, dtype=np.int64)
        np.cumsum(counts, out=self.loc_start[1:])
        self.frames = np.fromiter((n for fr in loc_frames for n in fr), dtype=np.int64,
                                  count=int(self.loc_start[-1]))
        self.innermost = self.frames[self.loc_start[:-1]]
        self.outermost = self.frames[self.loc_start[1:] - 1]


class Occurrences(NamedTuple):
    """Every frame of every chosen sample, leaf first, as parallel arrays."""
    node: np.ndarray    # node id
    sample: np.ndarray  # position in the chosen samples
    outer: np.ndarray   # bool: the outermost line of its location (not inlined)


def stack_occurrences(profile, table: FrameTable, samples: np.ndarray) -> Occurrences:
    """Expand the stacks of `samples` into frames (inlined lines included)."""
    if len(samples) == profile.num_samples:
        locs = profile.stack_locations
        lens = np.diff(profile.stack_offsets)
    else:
        starts = profile.stack_offsets[samples]
        lens = profile.stack_offsets[samples + 1] - starts
        locs = profile.stack_locations[_ranges(starts, lens)]
    loc_sample = np.repeat(np.arange(len(samples), dtype=np.int64), lens)
    counts = table.loc_count[locs]
    if len(counts) == 0 or counts.max() == 1:
        return Occurrences(table.innermost[locs], loc_sample, np.ones(len(locs), dtype=bool))
    node = table.frames[_ranges(table.loc_start[locs], counts)]
    outer = np.zeros(len(node), dtype=bool)
    outer[np.cumsum(counts) - 1] = True
    return Occurrences(node, np.repeat(loc_sample, counts), outer)


class StackFrames(NamedTuple):
    """All samples' frames at one granularity, computed once per profile.

    The pair arrays list each distinct (node, sample) once: summing sample
    values over them gives pprof's cum, which counts a node once per sample
    however often recursion repeats it.
    """
    table: FrameTable
    occ: Occurrences
    leaf: np.ndarray         # per sample: index of its leaf frame in occ, -1 if no frames
    pair_node: np.ndarray
    pair_sample: np.ndarray


def stack_frames(profile, granularity: str = "functions") -> StackFrames:
    key = ("stack_frames", granularity)
    cached = profile.cache.get(key)
    if cached is None:
        cached = profile.cache[key] = _stack_frames(profile, granularity)
    return cached


def _stack_frames(profile, granularity):
    table = FrameTable(profile, granularity)
    nsamples = profile.num_samples
    occ = stack_occurrences(profile, table, np.arange(nsamples))
    counts = np.bincount(occ.sample, minlength=nsamples)
    leaf = np.where(counts > 0, np.cumsum(counts) - counts, -1)
    width = max(table.num_nodes, 1)
    keys = np.sort(occ.sample * width + occ.node)
    distinct = np.ones(len(keys), dtype=bool)
    distinct[1:] = keys[1:] != keys[:-1]
    keys = keys[distinct]
    return StackFrames(table, occ, leaf, keys % width, keys // width)


def _ranges(starts: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """Concatenation of arange(s, s + n) for each (s, n), without a Python loop."""
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(lens)
    offsets = np.repeat(starts - (ends - lens), lens)
    return np.arange(total, dtype=np.int64) + offsets
