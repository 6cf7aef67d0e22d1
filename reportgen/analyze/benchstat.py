"""benchstat-style comparison of two sets of benchmark runs.

Per benchmark and unit: the median of the runs with a distribution-free 95%
confidence interval, the change of the median, and a two-sided Mann-Whitney
U test of before against after. Nothing here assumes normal data: benchmark
timings are skewed and have outliers.

Ties: benchmark values tie often (allocs/op is usually constant). Under the
null hypothesis every split of the pooled runs into "before" and "after" is
equally likely, so the exact null distribution of U *given the observed ties*
is the distribution of the mid-rank sum over all those splits. We compute
that distribution exactly (a counting recurrence over tie groups) whenever
n1 + n2 <= EXACT_MAX_N, ties or not; the no-ties table would be wrong with
ties, and the normal approximation is poor for the 6-20 runs people use.
Larger samples use the normal approximation with tie and continuity
corrections. benchstat also uses an exact distribution with ties for small
samples (up to 25 runs a side) and the same normal approximation beyond.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

CONFIDENCE = 0.95
ALPHA = 0.05
EXACT_MAX_N = 100


# ---- statistics --------------------------------------------------------------

def median(values) -> float:
    xs = sorted(values)
    n = len(xs)
    return float(xs[n // 2]) if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def binom_half_cdf(k: int, n: int) -> float:
    """P(B <= k) for B ~ Binomial(n, 1/2), from exact integers."""
    if k < 0:
        return 0.0
    return sum(math.comb(n, i) for i in range(min(k, n) + 1)) / 2 ** n


def median_ci(values, confidence: float = CONFIDENCE):
    """(lo, hi, achieved level) of the median, or None when n is too small.

    [x(k), x(n+1-k)] covers the median unless at most k-1 runs fall below it
    or at most k-1 above, so its level is 1 - 2 P(B <= k-1). We take the
    narrowest such interval whose level still reaches `confidence`.
    """
    xs = sorted(values)
    n, best = len(xs), None
    for k in range(1, n // 2 + 1):
        level = 1 - 2 * binom_half_cdf(k - 1, n)
        if level < confidence:
            break
        best = (float(xs[k - 1]), float(xs[n - k]), level)
    return best


@dataclass
class UTest:
    u: float            # pairs (before > after) + half the tied pairs
    p: float            # two-sided
    method: str         # "exact" or "normal"
    n1: int
    n2: int
    min_p: float        # the smallest p these sample sizes can give

    def as_dict(self) -> dict:
        return {"u": self.u, "p": self.p, "method": self.method, "n1": self.n1,
                "n2": self.n2, "min_p": self.min_p}


def _tie_groups(a, b) -> list[tuple[int, int]]:
    """(runs from a, runs in all) for each distinct value, smallest first."""
    pooled = sorted([(v, 0) for v in a] + [(v, 1) for v in b])
    groups: list[list] = []
    for v, side in pooled:
        if not groups or groups[-1][0] != v:
            groups.append([v, 0, 0])
        groups[-1][1] += side == 0
        groups[-1][2] += 1
    return [(g[1], g[2]) for g in groups]


def _rank_sum_counts(sizes: list[int], n1: int) -> np.ndarray:
    """counts[s]: ways to pick n1 of the pooled runs with doubled mid-rank sum s.

    Doubled so that mid-ranks like 3.5 stay integers. A tie group of t runs
    with doubled mid-rank r adds i*r to the sum in comb(t, i) ways.
    """
    total = sum(sizes)
    width = total * (total + 1) + 1
    ways = np.zeros((n1 + 1, width))  # [runs picked so far, doubled sum]
    ways[0, 0] = 1.0
    start = 0
    for t in sizes:
        r, end = 2 * start + t + 1, start + t
        # Only sums up to end*(end+1) and picks up to min(end, n1) are reachable yet.
        top, picks = end * (end + 1) + 1, min(end, n1) + 1
        nxt = np.zeros_like(ways)
        for i in range(min(t, n1) + 1):
            nxt[i:picks, i * r:top] += math.comb(t, i) * ways[:picks - i, :top - i * r]
        ways, start = nxt, end
    return ways[n1]


def mann_whitney(a, b) -> UTest:
    """Two-sided Mann-Whitney U test of a against b (needs both non-empty)."""
    n1, n2 = len(a), len(b)
    groups = _tie_groups(a, b)
    rank2 = start = 0                     # doubled mid-rank sum of a
    for in_a, t in groups:
        rank2 += in_a * (2 * start + t + 1)
        start += t
    u = rank2 / 2 - n1 * (n1 + 1) / 2
    min_p = min(1.0, 2 / math.comb(n1 + n2, n1))
    if n1 + n2 <= EXACT_MAX_N:
        counts = _rank_sum_counts([t for _, t in groups], n1)
        whole = counts.sum()
        low, high = counts[:rank2 + 1].sum() / whole, counts[rank2:].sum() / whole
        # Ties make the distribution lopsided: double the smaller tail (as scipy does).
        return UTest(u, float(min(1.0, 2 * min(low, high))), "exact", n1, n2, min_p)
    n = n1 + n2
    ties = sum(t ** 3 - t for _, t in groups)
    var = n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1)))
    if var <= 0:                          # every run has the same value
        return UTest(u, 1.0, "normal", n1, n2, min_p)
    z = (abs(u - n1 * n2 / 2) - 0.5) / math.sqrt(var)
    return UTest(u, min(1.0, math.erfc(z / math.sqrt(2))), "normal", n1, n2, min_p)


def runs_for_ci(confidence: float = CONFIDENCE) -> int:
    """The fewest runs whose widest interval [min, max] reaches `confidence` (6 for 95%)."""
    n = 1
    while 1 - 2 * binom_half_cdf(0, n) < confidence:
        n += 1
    return n


def runs_for_test(alpha: float = ALPHA) -> int:
    """The fewest runs a side with which the test can reach p < alpha (4 for 0.05)."""
    n = 1
    while 2 / math.comb(2 * n, n) >= alpha:
        n += 1
    return n


def geomean(values) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


# ---- comparison --------------------------------------------------------------

@dataclass
class Summary:
    """One side's runs of one benchmark in one unit."""
    values: list[float]
    median: float
    lo: float | None             # None: too few runs for the interval
    hi: float | None
    level: float | None          # the interval's actual confidence (>= the asked one)

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def spread_pct(self) -> float | None:
        """benchstat's "± x%": the farther interval end, relative to the median."""
        if self.lo is None or not self.median:
            return None
        return max(self.hi - self.median, self.median - self.lo) / abs(self.median) * 100

    def as_dict(self) -> dict:
        return {"n": self.n, "values": self.values, "median": self.median, "lo": self.lo,
                "hi": self.hi, "level": self.level, "spread_pct": self.spread_pct}


def summarize(values, confidence: float = CONFIDENCE) -> Summary:
    ci = median_ci(values, confidence)
    lo, hi, level = ci if ci else (None, None, None)
    return Summary([float(v) for v in values], median(values), lo, hi, level)


@dataclass
class Row:
    pkg: str
    name: str                    # as benchstat shows it: Handler-2
    unit: str
    base: Summary | None         # None: not in the base file
    target: Summary | None
    delta_pct: float | None      # change of the median; None when undefined
    test: UTest | None
    significant: bool
    detectable: bool             # can these run counts reach p < alpha at all?

    def as_dict(self) -> dict:
        return {"pkg": self.pkg, "name": self.name, "unit": self.unit,
                "base": self.base and self.base.as_dict(),
                "target": self.target and self.target.as_dict(), "delta_pct": self.delta_pct,
                "test": self.test and self.test.as_dict(), "significant": self.significant,
                "detectable": self.detectable}


@dataclass
class Geomean:
    unit: str
    base: float
    target: float
    delta_pct: float
    count: int                   # benchmarks in it: in both files, medians > 0

    def as_dict(self) -> dict:
        return dict(vars(self))


@dataclass
class BenchComparison:
    base: str
    target: str
    alpha: float
    confidence: float
    units: list[str]
    rows: dict[str, list[Row]]   # unit -> rows in file order
    geomeans: dict[str, Geomean]
    base_config: dict[str, list[str]] = field(default_factory=dict)
    target_config: dict[str, list[str]] = field(default_factory=dict)
    malformed: dict[str, list[int]] = field(default_factory=dict)  # "base"|"target" -> lines

    def as_dict(self) -> dict:
        return {"kind": "bench", "base": self.base, "target": self.target,
                "alpha": self.alpha, "confidence": self.confidence, "units": self.units,
                "rows": {u: [r.as_dict() for r in rs] for u, rs in self.rows.items()},
                "geomeans": {u: g.as_dict() for u, g in self.geomeans.items()},
                "base_config": self.base_config, "target_config": self.target_config,
                "malformed": self.malformed}


def change_pct(old: float, new: float) -> float | None:
    if old == 0:
        return 0.0 if new == 0 else None
    return (new - old) / abs(old) * 100


def compare_row(pkg, name, unit, old, new, alpha, confidence) -> Row:
    base = summarize(old, confidence) if old else None
    target = summarize(new, confidence) if new else None
    if base is None or target is None:
        return Row(pkg, name, unit, base, target, None, None, False, False)
    test = mann_whitney(old, new)
    detectable = test.min_p < alpha
    return Row(pkg, name, unit, base, target, change_pct(base.median, target.median), test,
               detectable and test.p < alpha, detectable)


def compare(base, target, alpha: float = ALPHA, confidence: float = CONFIDENCE) -> BenchComparison:
    """Compare two BenchSets (reportgen.sources.bench), benchmark by benchmark."""
    old, new = base.samples(), target.samples()
    units = list(dict.fromkeys(base.units() + target.units()))
    keys = list(dict.fromkeys(list(old) + list(new)))
    rows: dict[str, list[Row]] = {}
    for unit in units:
        for pkg, name in keys:
            a = old.get((pkg, name), {}).get(unit, [])
            b = new.get((pkg, name), {}).get(unit, [])
            if a or b:
                rows.setdefault(unit, []).append(
                    compare_row(pkg, name, unit, a, b, alpha, confidence))
    geomeans = {}
    for unit, rs in rows.items():
        pairs = [(r.base.median, r.target.median) for r in rs
                 if r.base and r.target and r.base.median > 0 and r.target.median > 0]
        if pairs:
            g0, g1 = geomean([p[0] for p in pairs]), geomean([p[1] for p in pairs])
            geomeans[unit] = Geomean(unit, g0, g1, change_pct(g0, g1), len(pairs))
    return BenchComparison(base.path, target.path, alpha, confidence, units, rows, geomeans,
                           base.config, target.config,
                           {"base": base.malformed, "target": target.malformed})
