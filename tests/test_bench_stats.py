"""The benchstat statistics against values computed independently.

Independent sources: scipy.stats (mannwhitneyu exact/asymptotic, binom,
permutation_test, gmean), brute-force enumeration of every split, and
textbook values. scipy is a test-only dependency.
"""

from __future__ import annotations

import itertools
import math
import random

import pytest
from scipy import stats

from reportgen.analyze.benchstat import (
    CI_EXACT_MAX_N, compare, compare_samples, geomean, mann_whitney, median, median_ci,
    runs_for_ci, runs_for_test, summarize)
from reportgen.sources.bench import parse_bench


# ---- confidence interval of the median -------------------------------------

def band_level(n, lo, hi):
    """P(lo <= B < hi), B ~ Binomial(n, 1/2): the coverage of [x(lo), x(hi)], via scipy."""
    return stats.binom.cdf(hi - 1, n, 0.5) - stats.binom.cdf(lo - 1, n, 0.5)


@pytest.mark.parametrize("n", range(1, CI_EXACT_MAX_N + 1))
def test_exact_band_reaches_the_level_and_is_minimal(n):
    ci = median_ci(n, 0.95)
    level = band_level(n, ci.lo_order, ci.hi_order)
    assert ci.confidence == pytest.approx(level, rel=1e-12) and level >= 0.95
    # Grown one interval at a time from the mode: dropping either end loses the level
    # (unless that end is already infinite).
    if ci.lo_order >= 1 and ci.hi_order <= n:
        assert band_level(n, ci.lo_order + 1, ci.hi_order) < 0.95
        assert band_level(n, ci.lo_order, ci.hi_order - 1) < 0.95


def test_benchstat_band_choices():
    # Values go-moremath's QuantileCI gives (benchstat's float C(n, k) breaks ties between
    # the two neighbours differently from exact arithmetic for 21 <= n <= 30).
    assert (median_ci(24, 0.95).lo_order, median_ci(24, 0.95).hi_order) == (8, 18)
    assert (median_ci(22, 0.9).lo_order, median_ci(22, 0.9).hi_order) == (8, 16)
    assert (median_ci(10, 0.95).lo_order, median_ci(10, 0.95).hi_order) == (2, 9)
    # Above 30 runs: the normal approximation, left-biased when that still holds 95%.
    ci = median_ci(3000, 0.95)
    assert ci.confidence >= 0.95 and band_level(3000, ci.lo_order, ci.hi_order) == \
        pytest.approx(ci.confidence, abs=1e-3)
    assert runs_for_ci() == (">=", 6) and runs_for_test() == (">=", 4)


def test_summary_interval_and_warning():
    s = summarize(range(1, 11))
    assert (s.center, s.lo, s.hi) == (5.5, 2, 9)       # R8 median; orders 2 and 9
    assert s.range_text() == f"{100 * max(9 / 5.5 - 1, 1 - 2 / 5.5):.0f}%"
    few = summarize([3, 1, 2])
    assert few.center == 2 and few.range_text() == "∞"
    assert few.warnings == ["need >= 6 samples for confidence interval at level 0.95"]
    assert summarize([0] * 8).range_text() == "0%"   # constant zero: 0 ± 0%, not ± ∞


def test_assume_exact():
    s = summarize([100, 101, 101], assumption="exact")
    assert (s.center, s.lo, s.hi) == (101, 100, 101) and s.range_text() == "1%"
    assert s.warnings == ["exact distribution expected, but values range from 100 to 101"]
    row = compare_samples([100], [105], assumption="exact")
    assert row.delta == "+5.00%" and row.test.text() == "n=1" and row.significant


def test_median_and_geomean():
    assert median([3, 1, 2]) == 2 and median([4, 1, 3, 2]) == 2.5
    assert median([float("nan"), 5, 6]) == 5                   # NaN sorts first, as in Go
    xs = [62656, 25195, 1.5, 9e9]
    assert geomean(xs) == pytest.approx(stats.gmean(xs), rel=1e-12)
    assert math.isnan(geomean([1, 0])) and math.isnan(geomean([]))


# ---- Mann-Whitney U ------------------------------------------------------------

def brute_force_p(a, b):
    """Two-sided p by trying every split of the pooled runs (midranks for ties)."""
    pooled = a + b
    ranks = stats.rankdata(pooled)
    observed = sum(ranks[: len(a)])
    sums = [sum(ranks[i] for i in idx) for idx in itertools.combinations(range(len(pooled)),
                                                                          len(a))]
    # benchstat: 2 P(U <= min(U1, U2)), 1 when U1 = U2.
    n1, n2 = len(a), len(b)
    u1 = observed - n1 * (n1 + 1) / 2
    small = min(u1, n1 * n2 - u1)
    if u1 == n1 * n2 - u1:
        return 1.0
    return 2 * sum(s - n1 * (n1 + 1) / 2 <= small + 1e-9 for s in sums) / len(sums)


def test_exact_without_ties_matches_scipy():
    rng = random.Random(4)
    for _ in range(200):
        a = [rng.random() for _ in range(rng.randint(1, 12))]
        b = [rng.random() + rng.choice((0, 0.3)) for _ in range(rng.randint(1, 12))]
        want = stats.mannwhitneyu(a, b, method="exact")
        got = mann_whitney(a, b)
        assert got.method == "exact" and got.u == want.statistic
        assert got.p == pytest.approx(want.pvalue, rel=1e-9, abs=1e-15)


def test_exact_with_ties_matches_enumeration():
    rng = random.Random(5)
    for _ in range(40):
        a = [rng.randint(0, 4) for _ in range(rng.randint(2, 7))]
        b = [rng.randint(1, 5) for _ in range(rng.randint(2, 7))]
        if len(set(a + b)) > 1:
            assert mann_whitney(a, b).p == pytest.approx(brute_force_p(a, b), rel=1e-9)


@pytest.mark.parametrize("a, b", [
    ([1], [2]), ([5, 5, 5], [5, 6, 7]),                     # n < 4
    ([249] * 6, [32] * 6),                                  # allocs/op: all tied within a side
    ([1, 2, 2, 3], [2, 3, 3, 4]), ([0, 0, 0, 1, 1], [1, 1, 2]),
])
def test_small_and_tied_samples_by_enumeration(a, b):
    assert mann_whitney(a, b).p == pytest.approx(brute_force_p(a, b), rel=1e-9)


def test_textbook_values():
    # Complete separation: p = 2 / C(n1+n2, n1).
    assert mann_whitney(range(6), range(10, 16)).p == pytest.approx(2 / 924)
    assert mann_whitney(range(4), range(10, 14)).p == pytest.approx(2 / 70)
    assert mann_whitney(range(3), range(10, 13)).p == pytest.approx(0.1)
    # Every run equal: benchstat cannot test, p = 1 with its warning.
    equal = mann_whitney([7] * 5, [7] * 6)
    assert equal.p == 1.0 and equal.warnings == ["all samples are equal"]
    # NaN makes benchstat loop forever; here it is a warning.
    assert mann_whitney([float("nan"), 1], [2, 3]).warnings == ["NaN values cannot be ranked"]
    # U counts pairs where the first sample is larger, ties as half.
    assert mann_whitney([1, 2, 3], [2, 2]).u == 1 + 1.5 + 2 - 1.5


@pytest.mark.parametrize("ties, n1, n2, method", [
    (False, 70, 61, "normal"), (True, 70, 61, "normal"), (True, 26, 10, "normal"),
    (True, 25, 25, "exact"), (False, 50, 50, "exact"), (False, 51, 3, "normal")])
def test_size_switches(ties, n1, n2, method):
    """benchstat: exact up to 50 runs a side without ties, 25 with ties; normal beyond."""
    rng = random.Random(6)
    a = [rng.randint(0, 9) if ties else rng.random() for _ in range(n1)]
    b = [rng.randint(1, 10) if ties else rng.random() + 0.05 for _ in range(n2)]
    got = mann_whitney(a, b)
    assert got.method == method
    if method == "normal":
        want = stats.mannwhitneyu(a, b, method="asymptotic", use_continuity=True)
        assert got.u == want.statistic and got.p == pytest.approx(want.pvalue, rel=1e-9)
    elif not ties:
        assert got.p == pytest.approx(stats.mannwhitneyu(a, b, method="exact").pvalue,
                                      rel=1e-9)


def test_thousands_of_runs_stay_normal():
    assert mann_whitney([3] * 3000, [3] * 3000).warnings == ["all samples are equal"]
    assert mann_whitney(range(3000), range(1, 3001)).method == "normal"


# ---- the comparison ------------------------------------------------------------------

def runs(name, values, unit="ns/op"):
    return "".join(f"Benchmark{name}-8 100 {v} {unit}\n" for v in values)


def test_compare_rows_geomean_and_flags():
    before = parse_bench(runs("A", [100, 101, 99, 102, 98, 100]) + runs("B", [10, 11, 12])
                         + runs("C", [5, 6, 5, 6, 5, 6]) + runs("Gone", [1]), "old.txt")
    after = parse_bench(runs("A", [50, 51, 49, 52, 48, 50]) + runs("B", [10, 12, 11])
                        + runs("C", [6, 5, 6, 5, 5, 6]) + runs("New", [1]), "new.txt")
    cmp = compare(before, after)
    rows = {r.name: r for r in cmp.rows["sec/op"]}
    assert list(rows) == ["A-8", "B-8", "C-8", "Gone-8", "New-8"]
    a, b, c = rows["A-8"], rows["B-8"], rows["C-8"]
    assert a.significant and a.delta_pct == pytest.approx(-50) and a.test.p == pytest.approx(
        2 / 924)
    assert a.base.lo == 98e-9 and a.base.hi == 102e-9   # ns/op read as sec/op
    assert not b.detectable and not b.significant and not b.base.bounded  # n=3
    assert c.detectable and not c.significant and c.test.p == 1.0
    assert rows["Gone-8"].target is None and rows["New-8"].base is None
    g = cmp.geomeans["sec/op"]
    assert g.count == 3
    # Each column's geomean covers every benchmark in it, paired or not.
    assert g.base == pytest.approx(stats.gmean([100, 11, 5.5, 1]) * 1e-9)
    assert g.target == pytest.approx(stats.gmean([50, 11, 5.5, 1]) * 1e-9)
    # The change is the geomean of the per-benchmark ratios (benchstat), not of the medians.
    assert g.delta_pct == pytest.approx((stats.gmean([0.5, 1, 1]) - 1) * 100)
    assert g.target_warnings == ["benchmark set differs from baseline; geomeans may not be "
                                 "comparable"]


def test_zero_medians():
    before = parse_bench(runs("Z", [0] * 6, "allocs/op") + runs("Y", [0] * 6, "allocs/op"))
    after = parse_bench(runs("Z", [0] * 6, "allocs/op") + runs("Y", [1] * 6, "allocs/op"))
    rows = {r.name: r for r in compare(before, after).rows["allocs/op"]}
    assert rows["Z-8"].delta_pct == 0.0 and not rows["Z-8"].significant
    assert rows["Y-8"].delta_pct is None and rows["Y-8"].significant and rows["Y-8"].delta == "?"
    g = compare(before, after).geomeans["allocs/op"]    # still a row, with reasons
    assert g.base is None and g.ratio is None and g.target == 0 or g.target is None
    assert g.base_warnings == ["summaries must be >0 to compute geomean"]


def test_zero_over_zero_counts_as_no_change_in_the_geomean():
    before = parse_bench(runs("Z", [0] * 6, "B/op") + runs("Y", [100] * 6, "B/op"))
    after = parse_bench(runs("Z", [0] * 6, "B/op") + runs("Y", [50] * 6, "B/op"))
    g = compare(before, after).geomeans["B/op"]
    assert g.count == 2 and g.delta_pct == pytest.approx((math.sqrt(0.5) - 1) * 100)  # -29.29%


# ---- benchstat's number formats ----------------------------------------------------

def test_go_float_is_gos_percent_v():
    from reportgen.analyze.benchstat import go_float
    # Values Go's fmt.Sprint prints (checked with Go 1.27).
    cases = {0.95: "0.95", 1234567.0: "1.234567e+06", 100000.0: "100000", 123456.5: "123456.5",
             1e20: "1e+20", 1e-4: "0.0001", 1.5e-5: "1.5e-05", 171717171716.0: "1.71717171716e+11",
             -2.5e-7: "-2.5e-07", 1.7180000000000001e-06: "1.7180000000000001e-06",
             float("inf"): "+Inf", float("nan"): "NaN", 0.0: "0"}
    assert {x: go_float(x) for x in cases} == cases


def test_common_scale_thresholds():
    from reportgen.render.bench_pages import common_scale, scaled, scale_one
    assert scale_one(46.55e-9, "sec/op") == "46.55n" and scale_one(1.701e-6, "sec/op") == "1.701µ"
    assert scale_one(99.995, "x") == "100.0" and scale_one(99.994, "x") == "99.99"
    assert scale_one(2.001 * 2 ** 30, "B/s") == "2.001Gi" and scale_one(0, "x") == "0.000"
    # One scale per row: the smaller value decides the digits (237.50n next to 56.75n).
    scale = common_scale([237.5e-9, 56.75e-9], "decimal")
    assert [scaled(v, scale) for v in (237.5e-9, 56.75e-9)] == ["237.50n", "56.75n"]
    assert scale_one(1.5e-12, "sec/op") == "0.001500n"    # below n: 4 significant digits
