"""Totals beyond int64: found exactly, so they are reported instead of silently wrapped.

pprof sums sample values in int64 and wraps: two samples of 6e18 ns print as
a total of -1790762.24hrs and 186% of it. reportgen keeps pprof's numbers
(every table equals go tool pprof's) and says so loudly: the exact total is
computed here from 32-bit halves of the values (vectorized, no Python loop
over samples), and a total that does not fit in int64 becomes a warning on
the page and in the text output.
"""

from __future__ import annotations

from pathlib import PurePath

import numpy as np

INT64_MAX = (1 << 63) - 1


def exact_sum(values: np.ndarray) -> int:
    """sum(values) of an int64 array as an exact Python int.

    Each value is hi * 2^32 + lo with hi in [-2^31, 2^31) and lo in [0, 2^32);
    the two partial sums cannot overflow for fewer than 2^31 values.
    """
    v = np.asarray(values, dtype=np.int64)
    hi = int((v >> 32).sum())
    lo = int((v & 0xFFFFFFFF).sum())
    return (hi << 32) + lo


def exact_abs_total(values: np.ndarray) -> int:
    """sum(|values|) exactly (|INT64_MIN| included), as pprof's report total means it."""
    v = np.asarray(values, dtype=np.int64)
    return exact_sum(v[v > 0]) - exact_sum(v[v < 0])


def overflow_warnings(parts) -> list[str]:
    """One warning per part whose report total overflows int64 (empty: none).

    `parts` are analyze.graph.Part (profile, sample_index, sign).
    """
    out, together = [], 0
    for part in parts:
        st = part.profile.sample_types[part.sample_index]
        total = exact_abs_total(part.profile.values[:, part.sample_index])
        together += total
        if total > INT64_MAX:
            out.append(f"{PurePath(part.profile.path).name}: the {st.type} values sum to "
                       f"{total} {st.unit}, beyond int64 ({INT64_MAX}); as in go tool pprof, "
                       "totals and percentages wrap around and are wrong")
    if not out and together > INT64_MAX:
        out.append(f"the profiles' values together sum to {together}, beyond int64 "
                   f"({INT64_MAX}); as in go tool pprof, the combined numbers wrap around")
    return out
