"""benchstat's statistics: summaries, A/B tests and geomeans of benchmark runs.

Public API (pure functions, no I/O):

- ``summarize(values, confidence, assumption) -> Summary``: the center (the
  median; the mode under ``assume=exact``), its confidence interval and warnings.
- ``mann_whitney(old, new) -> UTest``: benchstat's two-sided Mann-Whitney U test.
- ``compare_samples(old, new, alpha, confidence, assumption) -> Row``: two
  sample lists -> both summaries, the test, the change and benchstat's verdict
  text (``~``, ``-4.62%``, ``?``).
- ``compare(base_set, target_set) -> BenchComparison``: every benchmark and unit
  of two parsed files (reportgen.sources.bench), with a geomean per unit and
  benchstat's tables (one per package and unit, each with its geomean).

The rules are those of golang.org/x/perf (benchmath: AssumeNothing,
AssumeExact; cmd/benchstat/internal/benchtab: summarizeCol) and of
github.com/aclements/go-moremath/stats (QuantileCI, Sample.Quantile,
MannWhitneyUTest, UDist, GeoMean), re-derived here:

- The median is the R8 quantile (Hyndman & Fan) of the sorted runs.
- Its interval: order statistics found by growing the band of Binomial(n, 1/2)
  outwards from the mode, taking the more likely neighbour and the left one on
  a tie, until it holds `confidence` (exact for n <= 30); above 30 the normal
  approximation with continuity correction, left-biased when that still
  reaches the level. Too few runs give ±∞ and a warning.
- The U test is exact up to 50 runs a side without ties and 25 with ties
  (counting every split of the pooled runs, ties at their mid-ranks), and
  beyond that the normal approximation with tie and continuity corrections:
  p = 2 * P(U <= min(U1, U2)), or 1 when U1 = U2. Equal samples cannot be
  tested: p = 1 with "all samples are equal".
- A change is shown when p <= alpha (benchstat prints `~` only for p > alpha).
- The geomean row is benchstat's: the geomean of every center in a column
  and, for the change, the geomean of the per-benchmark ratios, where 0 -> 0
  counts as 1 and x -> 0 makes the ratio unknown.

Where benchstat misbehaves we do not follow it: NaN values make its U test
loop forever; here they give p = 1 and a warning.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from statistics import NormalDist

import numpy as np

CONFIDENCE = 0.95
ALPHA = 0.05
CI_EXACT_MAX_N = 30          # go-moremath quantileCIApproxThreshold
U_EXACT_MAX_N = 50           # go-moremath MannWhitneyExactLimit (no ties)
U_TIES_EXACT_MAX_N = 25      # go-moremath MannWhitneyTiesExactLimit
ALL_EQUAL = "all samples are equal"


# ---- formatting helpers shared with the renderer ---------------------------------

def go_float(x: float) -> str:
    """A float as Go's %v prints it: shortest digits, exponent form below 1e-4 and from 1e6."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "+Inf" if x > 0 else "-Inf"
    sign = "-" if math.copysign(1, x) < 0 else ""
    if x == 0:
        return sign + "0"
    t = Decimal(repr(abs(x))).as_tuple()
    digits = "".join(map(str, t.digits)).rstrip("0") or "0"
    exp = t.exponent + len(t.digits) - 1
    if exp < -4 or exp >= 6:
        mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mant}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if exp >= 0:
        whole, frac = digits[:exp + 1].ljust(exp + 1, "0"), digits[exp + 1:]
    else:
        whole, frac = "0", "0" * (-exp - 1) + digits
    return sign + whole + ("." + frac if frac else "")


def go_fixed(x: float, prec: int) -> str:
    """strconv.FormatFloat(x, 'f', prec): Python's rounding, Go's NaN/±Inf spelling."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "+Inf" if x > 0 else "-Inf"
    return f"{x:.{prec}f}"


# ---- order statistics ------------------------------------------------------------

def sort_values(values) -> list[float]:
    """Ascending, NaN first (Go's sort.Float64s)."""
    return sorted((float(v) for v in values), key=lambda v: (not math.isnan(v), v))


def quantile(xs: list[float], q: float) -> float:
    """The R8 quantile of sorted xs (go-moremath Sample.Quantile), same float steps."""
    if not xs:
        return math.nan
    if q <= 0:
        return xs[0]
    if q >= 1:
        return xs[-1]
    n = 1 / 3.0 + q * (len(xs) + 1 / 3.0)
    frac, kf = math.modf(n)
    k = int(kf)
    if k <= 0:
        return xs[0]
    if k >= len(xs):
        return xs[-1]
    return xs[k - 1] + frac * (xs[k] - xs[k - 1])


def median(values) -> float:
    return quantile(sort_values(values), 0.5)


# benchstat's C(n, k) for 21 <= n <= 30 is exp(lgamma(n+1) - lgamma(k+1) - lgamma(n-k+1))
# in Go's float64 math (go-moremath mathx.Choose), a few ulps off the true value; the
# band's left/right choice in median_ci depends on those ulps. Offsets in ulps from the
# exact C(n, k), k = 1..n-1, measured from Go 1.27 math on amd64.
_GO_CHOOSE_ULPS = {
    21: (39, 31, 47, 11, 29, 71, 64, 18, 17, 22, 22, 17, 6, 78, 58, 29, 34, 47, 44, 39),
    22: (-20, 12, 22, 9, 18, 12, 25, 34, -26, -26, 12, -6, -26, 24, 35, 3, 18, 37, 22, 26, -20),
    23: (0, -46, 30, -2, 25, 21, 3, 48, 27, -3, 4, 4, -21, 27, 33, 18, 9, 25, 15, 30, -31, 0),
    24: (-74, -62, -123, -64, -42, -24, -59, -57, -43, -40, -73, -69, -53, -70, -43, -69, -48,
         -32, -42, -43, -123, -54, -74),
    25: (89, -1, 11, -34, 45, 36, 47, 20, 10, 3, 29, -12, -32, 29, 28, 10, 12, 62, 26, 45, -9,
         11, 9, 89),
    26: (-41, 29, -20, -59, -28, 8, -9, 11, -25, -52, -1, -5, -81, -5, -1, -32, -25, -2, 1, -7,
         -28, -30, -20, 40, -41),
    27: (-53, -90, 2, -69, -55, -65, -61, -34, -40, -70, -77, -40, -79, -60, -40, -52, -54,
         -40, -42, -48, -74, -55, -52, 2, -79, -53),
    28: (101, 25, 4, 53, 19, 21, -10, 42, 24, 1, 14, 3, -12, 46, 6, 32, 14, 26, 24, 30, -1, 10,
         19, 73, 4, 37, 101),
    29: (5, 82, 54, -17, 59, -27, 13, 0, 23, -5, 27, 12, -26, 45, 45, 6, 12, 27, 14, 23, -8,
         25, 17, 117, 6, 54, 94, 5),
    30: (19, 7, 144, 40, -15, 51, 37, -8, 0, 16, 49, 40, -21, 34, 54, 51, 7, 40, 49, 45, 0, 25,
         53, 78, 19, 67, 144, 21, 19),
}


def _go_choose(n: int, k: int) -> float:
    """C(n, k) as benchstat's float64 computation gives it (exact below n = 21)."""
    exact = float(math.comb(n, k))
    ulps = _GO_CHOOSE_ULPS.get(n)
    if ulps is None or k in (0, n):
        return exact
    step = math.inf if ulps[k - 1] > 0 else -math.inf
    for _ in range(abs(ulps[k - 1])):
        exact = math.nextafter(exact, step)
    return exact


def _pmf_half(n: int, k: int) -> float:
    """P(B = k), B ~ Binomial(n, 1/2), with benchstat's float C(n, k)."""
    if k < 0 or k > n:
        return 0.0
    return _go_choose(n, k) * 0.5 ** k * 0.5 ** (n - k)


@dataclass(frozen=True)
class MedianCI:
    """Order statistics bounding the median (1-based; 0 or n+1 mean ∓∞) and the level."""
    lo_order: int
    hi_order: int
    confidence: float


@lru_cache(maxsize=512)
def median_ci(n: int, confidence: float = CONFIDENCE) -> MedianCI:
    """go-moremath QuantileCI(n, 0.5, confidence): exact up to n = 30, normal above."""
    if confidence >= 1:
        return MedianCI(0, n + 1, 1.0)
    if n <= CI_EXACT_MAX_N:
        x = math.ceil((n + 1) * 0.5) - 1
        accum = _pmf_half(n, x)
        lo, hi = x, x + 1                 # the band [lo, hi) of intervals between runs
        lp, rp = _pmf_half(n, lo - 1), _pmf_half(n, hi)
        while accum < confidence and (lp > 0 or rp > 0):
            if lp >= rp:                  # left-biased on a tie
                accum += lp
                lo -= 1
                lp = _pmf_half(n, lo - 1)
            else:
                accum += rp
                hi += 1
                rp = _pmf_half(n, hi)
        level = accum
    else:
        mu, sigma = n * 0.5, math.sqrt(n * 0.5 * 0.5)
        norm = NormalDist(mu, sigma)
        l1 = norm.inv_cdf((1 - confidence) / 2) if confidence > 0 else mu
        r1 = 2 * mu - l1
        lo = math.floor(math.floor(l1 - 0.5) + 0.5) + 1
        hi = math.floor(math.ceil(r1 - 0.5) + 0.5) + 1

        def cover(a: int, b: int) -> float:
            return _norm_cdf(b - 0.5, mu, sigma) - _norm_cdf(a - 0.5, mu, sigma)

        level = cover(lo, hi)
        biased = cover(lo, hi - 1)
        if confidence <= biased < level:
            level, hi = biased, hi - 1
        if lo <= 0 and hi >= n + 1:
            level = 1.0
    return MedianCI(max(lo, 0), min(hi, n + 1), level)


def _norm_cdf(x: float, mu: float = 0.0, sigma: float = 1.0) -> float:
    return math.erfc(-(x - mu) / (sigma * math.sqrt(2))) / 2


@lru_cache(maxsize=64)
def runs_for_ci(confidence: float = CONFIDENCE) -> tuple[str, int]:
    """(">=", n): the fewest runs with a finite interval (benchmath medianSamples)."""
    for n in range(2, 51):
        ci = median_ci(n, confidence)
        if 0 < ci.lo_order and ci.hi_order <= n:
            return ">=", n
    return ">", 50


def runs_for_test(alpha: float = ALPHA) -> tuple[str, int]:
    """(">=", n): the fewest runs a side whose U test can reach alpha (benchmath uTestSamples)."""
    for n in range(1, 10):
        if 2 / math.comb(2 * n, n) <= alpha:
            return ">=", n
    return ">", 10


# ---- summaries -------------------------------------------------------------------

@dataclass
class Summary:
    """One side's runs of one benchmark in one unit (benchmath.Summary)."""
    values: list[float]          # in run order
    center: float                # the median (the mode under assume=exact)
    lo: float                    # interval bounds; ±inf when there are too few runs
    hi: float
    level: float                 # the interval's actual confidence (>= the asked one)
    warnings: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def median(self) -> float:
        return self.center

    @property
    def bounded(self) -> bool:
        return not (math.isinf(self.lo) or math.isinf(self.hi))

    @property
    def spread_pct(self) -> float | None:
        """The farther interval end relative to the center, in %; None when unbounded."""
        if not self.bounded or _sign(self.center) != _sign(self.lo) or \
                _sign(self.center) != _sign(self.hi):
            return None
        if self.center == 0:
            return 0.0
        return 100 * max(self.hi / self.center - 1, 1 - self.lo / self.center)

    def range_text(self) -> str:
        """benchstat's "± x%" part (Summary.PctRangeString): "9%", "∞" or "?"."""
        if not self.bounded:
            return "∞"
        spread = self.spread_pct
        return "?" if spread is None else go_fixed(spread, 0) + "%"

    def as_dict(self) -> dict:
        return {"n": self.n, "values": [_json_float(v) for v in self.values],
                "center": _json_float(self.center), "lo": _json_float(self.lo),
                "hi": _json_float(self.hi), "level": self.level,
                "range": self.range_text(), "warnings": self.warnings}


def _sign(x: float) -> int:
    return -1 if x < 0 else 1 if x > 0 else 0


def _json_float(x: float | None) -> float | str | None:
    """JSON has no NaN or ±Inf: those become the strings Go prints ("NaN", "+Inf")."""
    return x if x is None or math.isfinite(x) else go_float(x)


def summarize(values, confidence: float = CONFIDENCE, assumption: str = "nothing") -> Summary:
    """Summary of a non-empty list of runs.

    assumption "nothing" (the default): median and its order-statistic interval.
    assumption "exact" (a `Unit X assume=exact` line): the most frequent value,
    [min, max] as the range, and a warning when the runs differ.
    """
    xs = sort_values(values)
    runs = [float(v) for v in values]
    if assumption == "exact":
        mode, best, cur, count = xs[0], 1, xs[0], 1
        for v in xs[1:]:
            if v == cur:
                count += 1
                if count > best:
                    mode, best = cur, count
            else:
                cur, count = v, 1
        s = Summary(runs, mode, xs[0], xs[-1], 1.0)
        if best != len(xs):
            s.warnings.append(f"exact distribution expected, but values range from "
                              f"{go_float(xs[0])} to {go_float(xs[-1])}")
        return s
    ci = median_ci(len(xs), confidence)
    lo = xs[ci.lo_order - 1] if ci.lo_order >= 1 else -math.inf
    hi = xs[ci.hi_order - 1] if ci.hi_order - 1 < len(xs) else math.inf
    s = Summary(runs, quantile(xs, 0.5), lo, hi, ci.confidence)
    if math.isinf(lo) or math.isinf(hi):
        op, need = runs_for_ci(confidence)
        s.warnings.append(f"need {op} {need} samples for confidence interval at level "
                          f"{go_float(confidence)}")
    return s


# ---- the U test ------------------------------------------------------------------

@dataclass
class UTest:
    """A benchstat comparison (benchmath.Comparison) of two samples."""
    p: float                     # two-sided; 0 under assume=exact (no test is needed)
    n1: int
    n2: int
    alpha: float                 # 0 under assume=exact, as in benchstat
    method: str                  # "exact", "normal", "assume-exact" or "none" (untestable)
    u: float | None = None       # pairs (old > new) + half the tied pairs
    warnings: list[str] = field(default_factory=list)

    @property
    def significant(self) -> bool:
        """benchstat shows the change unless p > alpha."""
        return not self.p > self.alpha

    def text(self) -> str:
        """benchstat's "(p=0.008 n=10)" part, without the parentheses (Comparison.String)."""
        p = f"p={self.p:.3f} " if self.p != 0 else ""
        return p + (f"n={self.n1}" if self.n1 == self.n2 else f"n={self.n1}+{self.n2}")

    def as_dict(self) -> dict:
        return {"p": self.p, "n1": self.n1, "n2": self.n2, "alpha": self.alpha,
                "method": self.method, "u": self.u, "warnings": self.warnings}


def _rank_sum_counts(sizes: list[int], n1: int, limit: int) -> np.ndarray:
    """counts[s] for s <= limit: ways to pick n1 of the pooled runs whose doubled mid-rank
    sum is s (doubled so that mid-ranks like 3.5 stay integers).

    A tie group of t runs with doubled mid-rank r adds i*r to the sum in comb(t, i)
    ways. Only sums up to `limit` (the observed tail) are kept: the test needs no more.
    Counts are floats: every step adds positive numbers, so they stay accurate to a
    few ulps even past 2^53.
    """
    width = limit + 1
    ways = np.zeros((n1 + 1, width))  # [runs picked so far, doubled sum]
    ways[0, 0] = 1.0
    start = 0
    for t in sizes:
        r, end = 2 * start + t + 1, start + t
        picks = min(end, n1) + 1
        nxt = np.zeros_like(ways)
        for i in range(min(t, n1) + 1):
            shift = i * r
            if shift < width:
                nxt[i:picks, shift:] += math.comb(t, i) * ways[:picks - i, :width - shift]
        ways, start = nxt, end
    return ways[n1]


@lru_cache(maxsize=64)
def _u_pmf_no_ties(n1: int, n2: int) -> np.ndarray:
    """P(U = u) without ties for u up to n1*n2/2 (the smaller tail, all a test needs),
    by Mann and Whitney's recurrence p[n][m](U) = (n p[n-1][m](U-m) + m p[n][m-1](U))
    / (n+m), as go-moremath's UDist.p. Cached: a suite's benchmarks share run counts."""
    width = n1 * n2 // 2 + 1
    prev = np.zeros((n1 + 1, width))     # p[n][m-1], for every n
    for m in range(n2 + 1):
        cur = np.zeros((n1 + 1, width))
        cur[:, 0] = 1.0 if m == 0 else 0.0
        cur[0, 0] = 1.0
        for n in range(1, n1 + 1 if m else 0):
            left = np.zeros(width)
            if m < width:
                left[m:] = cur[n - 1, :width - m]
            cur[n] = (n * left + m * prev[n]) / (n + m)
        prev = cur
    pmf = prev[n1]
    pmf.flags.writeable = False
    return pmf


def mann_whitney(old, new, alpha: float = ALPHA) -> UTest:
    """benchstat's two-sided Mann-Whitney U test (go-moremath MannWhitneyUTest).

    Both samples must be non-empty. Exact below the size switches
    (U_EXACT_MAX_N, U_TIES_EXACT_MAX_N), normal approximation above.
    """
    x1, x2 = sort_values(old), sort_values(new)
    n1, n2 = len(x1), len(x2)
    if any(math.isnan(v) for v in x1 + x2):
        return UTest(1.0, n1, n2, alpha, "none", warnings=["NaN values cannot be ranked"])
    # Merge, x2 first among equal values (as labeledMerge), into tie groups.
    merged = sorted([(v, 1) for v in x2] + [(v, 0) for v in x1], key=lambda e: e[0])
    groups: list[tuple[int, int]] = []      # (runs from old, size)
    i = 0
    while i < len(merged):
        j, from1 = i, 0
        while j < len(merged) and merged[j][0] == merged[i][0]:
            from1 += merged[j][1] == 0
            j += 1
        groups.append((from1, j - i))
        i = j
    r1 = start = 0.0
    for from1, t in groups:
        if from1:
            r1 += (2 * start + t + 1) / 2 * from1
        start += t
    u1 = r1 - n1 * (n1 + 1) / 2
    u2 = n1 * n2 - u1
    usmall = min(u1, u2)
    ties = any(t > 1 for _, t in groups)
    limit = U_TIES_EXACT_MAX_N if ties else U_EXACT_MAX_N
    if n1 <= limit and n2 <= limit:
        if len(groups) == 1:
            return UTest(1.0, n1, n2, alpha, "none", u1, [ALL_EQUAL])
        if u1 == u2:
            return UTest(1.0, n1, n2, alpha, "exact", u1)
        if not ties:
            pmf = _u_pmf_no_ties(min(n1, n2), max(n1, n2))
            return UTest(float(pmf[:int(usmall) + 1].sum()) * 2, n1, n2, alpha, "exact", u1)
        # U1 <= usmall  <=>  doubled rank sum <= 2*usmall + n1(n1+1)
        cut = int(round(2 * usmall)) + n1 * (n1 + 1)
        counts = _rank_sum_counts([t for _, t in groups], n1, cut)
        p = float(counts.sum() / math.comb(n1 + n2, n1)) * 2
        return UTest(p, n1, n2, alpha, "exact", u1)
    tie = float(sum(t * t * t - t for _, t in groups))
    n = float(n1 + n2)
    sigma = math.sqrt(float(n1 * n2) * ((n + 1) - tie / (n * (n - 1))) / 12)
    if sigma == 0:
        return UTest(1.0, n1, n2, alpha, "none", u1, [ALL_EQUAL])
    numer = u1 - float(n1 * n2) / 2
    numer -= _sign(numer) * 0.5
    z = numer / sigma
    p = 2 * min(_norm_cdf(z), 1 - _norm_cdf(z))
    return UTest(p, n1, n2, alpha, "normal", u1)


def compare_test(old, new, alpha: float = ALPHA, assumption: str = "nothing") -> UTest:
    """The test for an assumption (benchmath Assumption.Compare), with its warnings."""
    if assumption == "exact":
        return UTest(0.0, len(old), len(new), 0.0, "assume-exact")
    test = mann_whitney(old, new, alpha)
    if test.method != "none" and test.p > alpha:  # a failed test carries only its error
        op, need = runs_for_test(alpha)
        if test.n1 < need and test.n2 < need:
            test.warnings.append(f"need {op} {need} samples to detect a difference at "
                                 f"alpha level {go_float(alpha)}")
    return test


# ---- comparison --------------------------------------------------------------------

def delta_text(test: UTest, old: float, new: float) -> str:
    """benchstat's change column (Comparison.FormatDelta): ~, 0.00%, ? or +12.34%."""
    if test.p > test.alpha:
        return "~"
    if old == new:
        return "0.00%"
    if old == 0:
        return "?"
    return f"{((new / old) - 1.0) * 100.0:+.2f}%"


@dataclass
class Row:
    pkg: str
    name: str                    # as benchstat shows it (.fullname): Handler-2
    unit: str                    # tidied: sec/op, B/op, B/s ...
    base: Summary | None         # None: not in the base file
    target: Summary | None
    test: UTest | None
    warnings: list[str] = field(default_factory=list)   # e.g. benchmarks vary in goarch

    @property
    def delta_pct(self) -> float | None:
        """The change of the center in %; 0 for 0 -> 0, None for x -> 0 or no pair."""
        if self.base is None or self.target is None:
            return None
        old, new = self.base.center, self.target.center
        if old == new:
            return 0.0
        return None if old == 0 else ((new / old) - 1.0) * 100.0

    @property
    def delta(self) -> str:
        """benchstat's verdict text for this row."""
        if self.test is None:
            return ""
        return delta_text(self.test, self.base.center, self.target.center)

    @property
    def significant(self) -> bool:
        return self.test is not None and self.test.significant

    @property
    def detectable(self) -> bool:
        """False when benchstat warns there are too few runs to detect a difference."""
        return self.test is not None and not any(w.startswith("need ")
                                                 for w in self.test.warnings)

    def as_dict(self) -> dict:
        return {"pkg": self.pkg, "name": self.name, "unit": self.unit,
                "base": self.base and self.base.as_dict(),
                "target": self.target and self.target.as_dict(),
                "delta_pct": _json_float(self.delta_pct), "delta": self.delta,
                "test": self.test and self.test.as_dict(),
                "significant": self.significant, "detectable": self.detectable,
                "warnings": self.warnings}


def compare_row(pkg: str, name: str, unit: str, old, new, alpha: float = ALPHA,
                confidence: float = CONFIDENCE, assumption: str = "nothing") -> Row:
    """One benchmark in one unit; either side may be empty."""
    base = summarize(old, confidence, assumption) if len(old) else None
    target = summarize(new, confidence, assumption) if len(new) else None
    test = compare_test(old, new, alpha, assumption) if base and target else None
    return Row(pkg, name, unit, base, target, test)


def compare_samples(old, new, alpha: float = ALPHA, confidence: float = CONFIDENCE,
                    assumption: str = "nothing") -> Row:
    """Two lists of runs -> summaries, test and verdict, exactly as benchstat.

    ``row.base.center`` / ``.lo`` / ``.hi`` / ``.range_text()``, ``row.test.p``,
    ``row.delta`` ("~", "-4.62%", "?", "0.00%"), ``row.significant``.
    """
    return compare_row("", "", "", old, new, alpha, confidence, assumption)


def geomean(values) -> float:
    """go-moremath GeoMean: NaN when empty or any value <= 0 (running mean of logs)."""
    if not values:
        return math.nan
    m = 0.0
    for i, x in enumerate(values):
        if not x > 0:
            return math.nan
        m += (math.log(x) - m) / float(i + 1)
    return math.exp(m)


@dataclass
class Geomean:
    """benchstat's geomean row for one unit (benchtab summarizeCol)."""
    unit: str
    base: float | None           # geomean of every base center; None when one is <= 0
    target: float | None
    ratio: float | None          # geomean of the per-benchmark ratios; None when unknown
    count: int                   # ratios in it (benchmarks in both files)
    base_warnings: list[str] = field(default_factory=list)
    target_warnings: list[str] = field(default_factory=list)

    @property
    def delta_pct(self) -> float | None:
        return None if self.ratio is None else (self.ratio - 1) * 100

    def delta_text(self) -> str:
        return "?" if self.ratio is None else f"{(self.ratio - 1) * 100:+.2f}%"

    def as_dict(self) -> dict:
        return {"unit": self.unit, "base": _json_float(self.base),
                "target": _json_float(self.target), "ratio": _json_float(self.ratio),
                "delta_pct": _json_float(self.delta_pct), "count": self.count,
                "base_warnings": self.base_warnings, "target_warnings": self.target_warnings}


def geomean_row(unit: str, rows: list[Row]) -> Geomean:
    """The geomean row: centers of each column; ratios where both sides ran."""
    g = Geomean(unit, None, None, None, 0)
    base = [r.base.center for r in rows if r.base]
    gm = geomean(base)
    if math.isnan(gm):
        g.base_warnings.append("summaries must be >0 to compute geomean")
    else:
        g.base = gm
    ratios, bad = [], False
    for r in rows:
        if r.target and r.base:
            a, b = r.target.center, r.base.center
            if a == b:
                ratios.append(1.0)        # 0 -> 0 counts as no change
            elif b == 0:
                bad = True
                ratios.append(0.0)
            else:
                ratios.append(a / b)
    if len(base) != len(ratios):
        g.target_warnings.append("benchmark set differs from baseline; geomeans may not be "
                                 "comparable")
    gm = geomean([r.target.center for r in rows if r.target])
    if math.isnan(gm):
        g.target_warnings.append("summaries must be >0 to compute geomean")
    else:
        g.target = gm
    g.count = len(ratios)
    if not bad:
        gm = geomean(ratios)
        if math.isnan(gm):
            g.target_warnings.append("ratios must be >0 to compute geomean")
        else:
            g.ratio = gm
    return g


@dataclass
class Table:
    """benchstat's table: one package and one unit, with its own geomean row."""
    pkg: str
    unit: str
    rows: list[Row]
    geomean: Geomean

    def as_dict(self) -> dict:
        return {"pkg": self.pkg, "unit": self.unit, "names": [r.name for r in self.rows],
                "geomean": self.geomean.as_dict()}


@dataclass
class BenchComparison:
    base: str
    target: str
    alpha: float
    confidence: float
    units: list[str]
    rows: dict[str, list[Row]]   # unit -> rows in first-seen order, every package
    geomeans: dict[str, Geomean]  # unit -> over every package's benchmarks
    tables: list[Table] = field(default_factory=list)   # as benchstat splits them
    assumptions: dict[str, str] = field(default_factory=dict)   # unit -> nothing|exact
    base_config: dict[str, list[str]] = field(default_factory=dict)
    target_config: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, list] = field(default_factory=dict)  # "base"|"target" -> [(line, msg)]

    @property
    def malformed(self) -> dict[str, list[int]]:
        return {side: [line for line, _ in errs] for side, errs in self.errors.items()}

    def as_dict(self) -> dict:
        return {"kind": "bench", "base": self.base, "target": self.target,
                "alpha": self.alpha, "confidence": self.confidence, "units": self.units,
                "assumptions": self.assumptions,
                "rows": {u: [r.as_dict() for r in rs] for u, rs in self.rows.items()},
                "geomeans": {u: g.as_dict() for u, g in self.geomeans.items()},
                "tables": [t.as_dict() for t in self.tables],
                "base_config": self.base_config, "target_config": self.target_config,
                "errors": {s: [{"line": ln, "message": m} for ln, m in e]
                           for s, e in self.errors.items()}}


def _cells(bench) -> dict[tuple[str, str, str], tuple[list[float], list[dict]]]:
    """(pkg, name, unit) -> (values, the configuration of each value's result)."""
    out: dict[tuple[str, str, str], tuple[list[float], list[dict]]] = {}
    for r in bench.results:
        for v in r.values:
            values, configs = out.setdefault((r.pkg, r.display, v.unit), ([], []))
            values.append(v.value)
            configs.append(r.config)
    return out


def _vary(configs: list[dict]) -> list[str]:
    """Configuration keys (but pkg) whose value differs within one cell."""
    keys = list(dict.fromkeys(k for c in configs for k in c if k != "pkg"))
    return [k for k in keys if len({c.get(k, "") for c in configs}) > 1]


def compare(base, target, alpha: float = ALPHA, confidence: float = CONFIDENCE) -> BenchComparison:
    """Compare two BenchSets benchmark by benchmark, unit by unit, like benchstat.

    Rows are keyed by package and full name (other configuration does not split
    them: the files may differ in any of it); units follow the Unit lines of
    either file (the base's win, as benchfmt keeps the first).
    """
    meta = {**target.unit_meta, **base.unit_meta}
    old, new = _cells(base), _cells(target)
    keys = list(dict.fromkeys(list(old) + list(new)))
    units = list(dict.fromkeys(k[2] for k in keys))
    assumptions = {}
    for unit in units:
        m = meta.get((unit, "assume"))
        assumptions[unit] = "exact" if m is not None and m.value == "exact" else "nothing"
    rows: dict[str, list[Row]] = {u: [] for u in units}
    for key in keys:
        pkg, name, unit = key
        a, ca = old.get(key, ([], []))
        b, cb = new.get(key, ([], []))
        row = compare_row(pkg, name, unit, a, b, alpha, confidence, assumptions[unit])
        for configs in (ca, cb):
            if vary := _vary(configs):
                row.warnings.append("benchmarks vary in " + ", ".join(vary))
        rows[unit].append(row)
    geomeans = {u: geomean_row(u, rs) for u, rs in rows.items()}
    # benchstat's tables: the package (part of its .config key) first, then the unit.
    tables = []
    for pkg in dict.fromkeys(k[0] for k in keys):
        for unit in units:
            mine = [r for r in rows[unit] if r.pkg == pkg]
            if mine:
                tables.append(Table(pkg, unit, mine, geomean_row(unit, mine)))
    return BenchComparison(base.path, target.path, alpha, confidence, units, rows, geomeans,
                           tables, assumptions, base.config, target.config,
                           {"base": [(e.line, e.message) for e in base.errors],
                            "target": [(e.line, e.message) for e in target.errors]})
