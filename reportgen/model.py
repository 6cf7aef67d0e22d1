"""The one profile shape every analyzer reads.

Functions, locations and mappings are small tables of plain tuples; samples
are numpy arrays so that profiles with 10^5-10^6 samples stay cheap:

- ``values[i, t]``: value of sample i for sample type t;
- ``stack_locations[stack_offsets[i]:stack_offsets[i + 1]]``: the location
  indices of sample i, leaf first;
- ``label_set[i]``: index into ``label_sets`` (0 is the empty set).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np


class ValueType(NamedTuple):
    type: str
    unit: str


class Function(NamedTuple):
    name: str
    system_name: str
    filename: str
    start_line: int


class Line(NamedTuple):
    function: int  # index into Profile.functions, -1 when absent
    line: int
    column: int


class Location(NamedTuple):
    address: int
    mapping: int  # index into Profile.mappings, -1 when absent
    lines: tuple  # of Line; lines[0] is the innermost (inlined) frame
    is_folded: bool


class Mapping(NamedTuple):
    start: int
    limit: int
    offset: int
    filename: str
    build_id: str
    has_functions: bool
    has_filenames: bool
    has_line_numbers: bool
    has_inline_frames: bool


class Label(NamedTuple):
    key: str
    str: str  # "" for numeric labels
    num: int
    unit: str


@dataclass
class Profile:
    path: str
    sample_types: list
    functions: list
    locations: list
    mappings: list
    values: np.ndarray
    stack_offsets: np.ndarray
    stack_locations: np.ndarray
    label_set: np.ndarray
    label_sets: list = field(default_factory=lambda: [()])
    default_sample_type: str = ""
    period_type: ValueType | None = None
    period: int = 0
    time_nanos: int = 0
    duration_nanos: int = 0
    comments: list = field(default_factory=list)
    doc_url: str = ""
    drop_frames: str = ""
    keep_frames: str = ""
    kind: str = "pprof"  # which reader produced it
    # Derived tables that depend only on stacks (see analyze.frames.stack_frames).
    cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __setstate__(self, state):
        # Unpickled arrays are views of the pickle's byte strings; the pages of
        # such profiles rendered far slower on --jobs and Dask workers than
        # those of profiles read there (benchmarks/bench_parallel.py), so each
        # array gets memory of its own again (a copy: cheap next to reading).
        for name, value in state.items():
            if isinstance(value, np.ndarray) and not value.flags.owndata:
                state[name] = value.copy()
        self.__dict__.update(state)

    @property
    def num_samples(self) -> int:
        return len(self.stack_offsets) - 1

    def stack(self, i: int) -> np.ndarray:
        return self.stack_locations[self.stack_offsets[i]:self.stack_offsets[i + 1]]

    def sample_index(self, name: str | None = None) -> int:
        """Index of the sample type called `name`, or pprof's default."""
        names = [t.type for t in self.sample_types]
        if name is None or name == "":
            if self.default_sample_type in names:
                return names.index(self.default_sample_type)
            return len(names) - 1
        if name in names:
            return names.index(name)
        if name.isascii() and name.isdigit() and len(name) < 10 and int(name) < len(names):
            return int(name)   # a position, as pprof's -sample_index=1 (bounded: no 5000 digits)
        raise KeyError(name)

    @property
    def profile_type(self) -> str:
        """A short human name: cpu, heap, goroutine, block, mutex ..."""
        types = {t.type for t in self.sample_types}
        if self.period_type is not None and self.period_type.type == "cpu":
            return "cpu"
        if "inuse_space" in types:
            return "allocs" if self.default_sample_type == "alloc_space" else "heap"
        if "alloc_space" in types:
            return "allocs"
        if "contentions" in types or "delay" in types:
            if self.period_type is not None and self.period_type.type == "contentions":
                return "mutex" if "mutex" in self.path.lower() else "block"
            return "contention"
        if len(self.sample_types) == 1:
            return self.sample_types[0].type
        return self.sample_types[-1].type if self.sample_types else "unknown"
