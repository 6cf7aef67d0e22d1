"""pprof's sample identity when it merges profiles, for -base totals.

With -base, pprof merges the target and the negated base into one profile:
samples with the same locations and labels become one sample, so equal
stacks cancel before the total (sum of |value|) is taken. Locations are the
same when their mapping (size, offset, build id or file), address within the
mapping and lines agree.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np


def _location_keys(profile) -> list:
    keys = []
    for loc in profile.locations:
        mapping_key, start = None, 0
        if loc.mapping >= 0:
            m = profile.mappings[loc.mapping]
            size = m.limit - m.start
            size = (size + 0xFFF) // 0x1000 * 0x1000
            mapping_key = (size, m.offset, m.build_id or m.filename)
            start = m.start
        lines = tuple(
            ((profile.functions[ln.function] if ln.function >= 0 else None), ln.line, ln.column)
            for ln in loc.lines)
        keys.append((mapping_key, loc.address - start if loc.mapping >= 0 else loc.address,
                     loc.is_folded, lines))
    return keys


def _label_key(labels) -> tuple:
    return tuple(sorted(labels))


def _merged(parts):
    """Per part, each sample's merge key; and the summed value per key."""
    sums: dict = defaultdict(int)
    keys = []
    for part in parts:
        profile = part.profile
        loc_keys = _location_keys(profile)
        label_keys = [_label_key(ls) for ls in profile.label_sets]
        values = (profile.values[:, part.sample_index] * part.sign).tolist()
        part_keys = []
        for i in range(profile.num_samples):
            key = (tuple(loc_keys[j] for j in profile.stack(i).tolist()),
                   label_keys[profile.label_set[i]])
            sums[key] += values[i]
            part_keys.append(key)
        keys.append(part_keys)
    return keys, sums


def merged_abs_total(parts) -> int:
    """Sum of |value| after merging equal samples across all parts."""
    return sum(abs(v) for v in _merged(parts)[1].values())


def cancelled_samples(parts) -> list:
    """Per part, a bool per sample: does pprof's -base merge cancel it to zero?

    Only -base merges target and base samples (a -diff_base base carries a
    label that keeps its samples apart); a cancelled stack draws no edges.
    """
    if not any(p.sign < 0 for p in parts) or any(p.diff_base for p in parts):
        return [np.zeros(p.profile.num_samples, dtype=bool) for p in parts]
    keys, sums = _merged(parts)
    return [np.array([sums[k] == 0 for k in ks], dtype=bool).reshape(-1) for ks in keys]
