"""Sample labels the way pprof sees them, and pprof's `-tags` report.

pprof decodes a label as a string label when it has a string value and as a
numeric one otherwise. A numeric label key gets one unit for the whole
profile (the first unit any of its values carries, else a guess from the
key), and the `-tags` report prints numeric values scaled to that unit, so
values that print alike (1638400 and 1638401 bytes are both 1.56MB) share
one row.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from reportgen import units

DIFF_BASE_LABEL = ("pprof::base", "true")  # marks the base samples of a -diff_base merge


def is_string_label(label) -> bool:
    return label.str != ""


def used_label_sets(profile) -> np.ndarray:
    """Indices of the label sets some sample has, in order of first use."""
    ids, first = np.unique(profile.label_set, return_index=True)
    return ids[np.argsort(first, kind="stable")]


def num_label_units(profile) -> dict:
    """pprof's NumLabelUnits: key -> unit of every numeric label key."""
    found: dict = {}
    for idx in used_label_sets(profile).tolist():
        for lb in profile.label_sets[idx]:
            if not is_string_label(lb) and not found.get(lb.key):
                found[lb.key] = lb.unit
    # Keys whose values never carry a unit: these two are sizes, others are their own unit.
    return {k: u or ("bytes" if k in ("alignment", "request") else k) for k, u in found.items()}


def sample_total(profile, sample_index: int) -> int:
    """pprof's report total: the sum of |value|; only the base's with -diff_base."""
    values = np.abs(profile.values[:, sample_index])
    base = [i for i, ls in enumerate(profile.label_sets)
            if any((lb.key, lb.str) == DIFF_BASE_LABEL for lb in ls)]
    if base:
        diff_total = int(values[np.isin(profile.label_set, base)].sum())
        if diff_total > 0:
            return diff_total
    return int(values.sum())


@dataclass
class TagValue:
    name: str   # the string value, or the numeric value scaled and formatted
    value: int  # summed sample value

    def as_dict(self) -> dict:
        return {"name": self.name, "value": self.value}


@dataclass
class TagKey:
    key: str
    total: int  # all values of the key; a sample with two values counts twice
    values: list = field(default_factory=list)  # of TagValue, pprof's order

    def as_dict(self) -> dict:
        return {"key": self.key, "total": self.total,
                "values": [v.as_dict() for v in self.values]}


@dataclass
class TagsResult:
    sample_index: str
    unit: str         # the sample values' unit
    output_unit: str  # pprof's -unit: how values and numeric labels are printed
    total: int        # the report total percentages are of
    keys: list = field(default_factory=list)  # of TagKey, sorted by key

    def as_dict(self) -> dict:
        return {"sample_index": self.sample_index, "unit": self.unit,
                "output_unit": self.output_unit, "total": self.total,
                "keys": [k.as_dict() for k in self.keys]}


def tags(profile, sample_index=None, unit: str = "minimum", unfiltered=None,
         relative: bool = False) -> TagsResult:
    """pprof's `-tags`: per label key, the summed sample value of each label value.

    pprof reads two things off the profile before -focus, -tagfocus etc.
    drop samples: the total percentages are of (unless -relative_percentages)
    and each numeric key's unit. Pass that profile as `unfiltered`.
    """
    si = profile.sample_index(sample_index)
    st = profile.sample_types[si]
    before = profile if unfiltered is None else unfiltered
    total = sample_total(profile if relative else before, si)
    key_units = num_label_units(before)
    # Sum values per label set once; a profile has few distinct label sets.
    sums = np.zeros(len(profile.label_sets), dtype=np.int64)
    np.add.at(sums, profile.label_set, profile.values[:, si])
    by_key: dict = {}
    for idx in used_label_sets(profile).tolist():
        value = int(sums[idx])
        for lb in profile.label_sets[idx]:
            if is_string_label(lb):
                name = lb.str
            else:
                name = units.label(lb.num, key_units.get(lb.key, ""), unit)
            values = by_key.setdefault(lb.key, {})
            values[name] = values.get(name, 0) + value
    keys = []
    for key in sorted(by_key):
        values = [TagValue(n, v) for n, v in by_key[key].items()]
        values.sort(key=lambda t: (-abs(t.value), t.name))
        keys.append(TagKey(key, sum(v.value for v in values), values))
    return TagsResult(st.type, st.unit, unit, total, keys)
