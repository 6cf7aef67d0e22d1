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
    binom_half_cdf, compare, geomean, mann_whitney, median, median_ci, runs_for_ci,
    runs_for_test)
from reportgen.sources.bench import parse_bench


# ---- confidence interval of the median -------------------------------------

def expected_ci(xs, confidence=0.95):
    """Largest k with P(k <= B <= n-k) >= confidence, B ~ Binomial(n, 1/2), via scipy."""
    xs, n, best = sorted(xs), len(xs), None
    for k in range(1, n // 2 + 1):
        level = stats.binom.cdf(n - k, n, 0.5) - stats.binom.cdf(k - 1, n, 0.5)
        if level >= confidence:
            best = (xs[k - 1], xs[n - k], level)
    return best


@pytest.mark.parametrize("n", range(1, 41))
def test_median_ci_matches_binomial(n):
    xs = [float(i * 7 % 41) for i in range(n)]  # distinct, shuffled
    got, want = median_ci(xs), expected_ci(xs)
    if want is None:
        assert got is None
    else:
        assert got[:2] == want[:2] and got[2] == pytest.approx(want[2], rel=1e-12)


def test_median_ci_textbook():
    xs = list(range(1, 21))
    # n=6: [min, max] at 1 - 2/64; n=20: [x(6), x(15)] at 1 - 2*P(B<=5) = 0.9586.
    assert median_ci(range(1, 7)) == (1, 6, 1 - 2 / 64)
    lo, hi, level = median_ci(xs)
    assert (lo, hi) == (6, 15) and level == pytest.approx(0.9586, abs=1e-4)
    assert median_ci(range(5)) is None                # n=5 cannot reach 95%
    assert runs_for_ci() == 6 and runs_for_test() == 4


def test_binomial_cdf():
    for n in (1, 6, 17, 60):
        for k in range(-1, n + 1):
            assert binom_half_cdf(k, n) == pytest.approx(stats.binom.cdf(k, n, 0.5), rel=1e-12)


def test_median_and_geomean():
    assert median([3, 1, 2]) == 2 and median([4, 1, 3, 2]) == 2.5
    xs = [62656, 25195, 1.5, 9e9]
    assert geomean(xs) == pytest.approx(stats.gmean(xs), rel=1e-12)


# ---- Mann-Whitney U ------------------------------------------------------------

def brute_force_p(a, b):
    """Two-sided p by trying every split of the pooled runs (midranks for ties)."""
    pooled = a + b
    ranks = stats.rankdata(pooled)
    observed = sum(ranks[: len(a)])
    sums = [sum(ranks[i] for i in idx) for idx in itertools.combinations(range(len(pooled)),
                                                                          len(a))]
    low = sum(s <= observed + 1e-9 for s in sums) / len(sums)
    high = sum(s >= observed - 1e-9 for s in sums) / len(sums)
    return min(1.0, 2 * min(low, high))


def test_exact_without_ties_matches_scipy():
    rng = random.Random(4)
    for _ in range(200):
        a = [rng.random() for _ in range(rng.randint(1, 12))]
        b = [rng.random() + rng.choice((0, 0.3)) for _ in range(rng.randint(1, 12))]
        want = stats.mannwhitneyu(a, b, method="exact")
        got = mann_whitney(a, b)
        assert got.method == "exact" and got.u == want.statistic
        assert got.p == pytest.approx(want.pvalue, rel=1e-9, abs=1e-15)


def test_exact_with_ties_matches_permutation_test():
    rng = random.Random(5)
    for _ in range(60):
        a = [rng.randint(0, 4) for _ in range(rng.randint(2, 7))]
        b = [rng.randint(1, 5) for _ in range(rng.randint(2, 7))]
        want = stats.permutation_test(
            (a, b), lambda x, y, axis: stats.mannwhitneyu(x, y, axis=axis).statistic,
            vectorized=True, permutation_type="independent", n_resamples=math.inf,
            alternative="two-sided")
        assert mann_whitney(a, b).p == pytest.approx(want.pvalue, rel=1e-9)


@pytest.mark.parametrize("a, b", [
    ([1], [2]), ([1, 1], [1]), ([5, 5, 5], [5, 6, 7]),      # n < 4
    ([249] * 6, [32] * 6),                                  # allocs/op: all tied within a side
    ([1, 2, 2, 3], [2, 3, 3, 4]), ([0, 0, 0, 1, 1], [1, 1, 2]),
])
def test_small_and_tied_samples_by_enumeration(a, b):
    assert mann_whitney(a, b).p == pytest.approx(brute_force_p(a, b), rel=1e-9)


def test_textbook_values():
    # Complete separation: p = 2 / C(n1+n2, n1).
    assert mann_whitney(range(6), range(10, 16)).p == pytest.approx(2 / 924)
    assert mann_whitney(range(4), range(10, 14)).p == pytest.approx(2 / 70)
    t = mann_whitney(range(3), range(10, 13))
    assert t.p == pytest.approx(0.1) and t.min_p == pytest.approx(0.1)
    # Every run equal: no evidence at all.
    assert mann_whitney([7] * 5, [7] * 6).p == 1.0
    # U counts pairs where the first sample is larger, ties as half.
    assert mann_whitney([1, 2, 3], [2, 2]).u == 1 + 1.5 + 2 - 1.5


def test_large_samples_use_the_normal_approximation():
    rng = random.Random(6)
    for ties in (False, True):
        a = [rng.randint(0, 9) if ties else rng.random() for _ in range(70)]
        b = [rng.randint(1, 10) if ties else rng.random() + 0.05 for _ in range(61)]
        want = stats.mannwhitneyu(a, b, method="asymptotic", use_continuity=True)
        got = mann_whitney(a, b)
        assert got.method == "normal" and got.u == want.statistic
        assert got.p == pytest.approx(want.pvalue, rel=1e-9)
    assert mann_whitney([3] * 60, [3] * 60).p == 1.0


def test_exact_at_the_limit_is_fast_and_agrees():
    rng = random.Random(7)
    a = [rng.random() for _ in range(50)]
    b = [rng.random() + 0.1 for _ in range(50)]
    assert mann_whitney(a, b).p == pytest.approx(
        stats.mannwhitneyu(a, b, method="exact").pvalue, rel=1e-9)


# ---- the comparison ------------------------------------------------------------------

def runs(name, values, unit="ns/op"):
    return "".join(f"Benchmark{name}-8 100 {v} {unit}\n" for v in values)


def test_compare_rows_geomean_and_flags():
    before = parse_bench(runs("A", [100, 101, 99, 102, 98, 100]) + runs("B", [10, 11, 12])
                         + runs("C", [5, 6, 5, 6, 5, 6]) + runs("Gone", [1]), "old.txt")
    after = parse_bench(runs("A", [50, 51, 49, 52, 48, 50]) + runs("B", [10, 12, 11])
                        + runs("C", [6, 5, 6, 5, 5, 6]) + runs("New", [1]), "new.txt")
    cmp = compare(before, after)
    rows = {r.name: r for r in cmp.rows["ns/op"]}
    assert list(rows) == ["A-8", "B-8", "C-8", "Gone-8", "New-8"]
    a, b, c = rows["A-8"], rows["B-8"], rows["C-8"]
    assert a.significant and a.delta_pct == pytest.approx(-50) and a.test.p == pytest.approx(
        2 / 924)
    assert a.base.lo == 98 and a.base.hi == 102
    assert not b.detectable and not b.significant and b.base.lo is None  # n=3: no CI, no test
    assert c.detectable and not c.significant and c.test.p == 1.0
    assert rows["Gone-8"].target is None and rows["New-8"].base is None
    g = cmp.geomeans["ns/op"]
    assert g.count == 3
    assert g.base == pytest.approx(stats.gmean([100, 11, 5.5]))
    assert g.target == pytest.approx(stats.gmean([50, 11, 5.5]))
    assert g.delta_pct == pytest.approx((g.target / g.base - 1) * 100)


def test_zero_medians():
    before = parse_bench(runs("Z", [0] * 6, "allocs/op") + runs("Y", [0] * 6, "allocs/op"))
    after = parse_bench(runs("Z", [0] * 6, "allocs/op") + runs("Y", [1] * 6, "allocs/op"))
    rows = {r.name: r for r in compare(before, after).rows["allocs/op"]}
    assert rows["Z-8"].delta_pct == 0.0 and not rows["Z-8"].significant
    assert rows["Y-8"].delta_pct is None and rows["Y-8"].significant
    assert "allocs/op" not in compare(before, after).geomeans   # needs medians > 0
