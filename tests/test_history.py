"""The history analyzer on synthetic runs: false alarms, detection, effect size,
baseline restarts, shares, goroutine groups, the gate. Expected numbers are
computed here independently (numpy, scipy)."""

from __future__ import annotations

import numpy as np
import pytest

from reportgen.analyze.history import (HistoryOptions, analyze_history, gate, moved_away,
                                       two_proportion_p)


def bench_run(run_id, samples: dict, profiles=(), goroutines=None) -> dict:
    """A run's metrics: samples is {(name, unit): values}."""
    return {"id": run_id, "metrics": {
        "bench": [{"pkg": "example.com/p", "name": n, "unit": u, "values": list(map(float, v))}
                  for (n, u), v in samples.items()],
        "profiles": list(profiles), "goroutines": goroutines, "scalars": []}}


def machine_noise(rng, center: float, n: int) -> np.ndarray:
    """Timings like this shared 2-core machine's: log-normal spread (CV about 35%)
    and now and then a run several times slower (another job took the core)."""
    x = center * rng.lognormal(0.0, 0.35, n)
    spikes = rng.random(n) < 0.05
    x[spikes] *= rng.uniform(2, 5, spikes.sum())
    return np.round(x, 1)


def one_distribution_runs(seed: int, count: int = 20, n: int = 10) -> list:
    rng = np.random.default_rng(seed)
    return [bench_run(f"night-{i:02d}", {
        ("BenchmarkQuote-2", "ns/op"): machine_noise(rng, 1200, n),
        ("BenchmarkQuote-2", "B/op"): [320] * n,
        ("BenchmarkQuote-2", "allocs/op"): [2] * n,
        ("BenchmarkParse-2", "ns/op"): machine_noise(rng, 450, n),
        ("BenchmarkParse-2", "MB/s"): np.round(rng.normal(80, 8, n), 2),
    }) for i in range(count)]


@pytest.mark.parametrize("seed", range(3))
def test_no_false_alarms_on_twenty_runs_of_one_distribution(seed):
    result = analyze_history(one_distribution_runs(seed))
    assert result.regressions == []
    assert result.improvements == []
    assert gate(result, "any") == []


@pytest.mark.slow
def test_false_alarm_rate_over_a_hundred_histories():
    """100 histories of 20 runs (5,700 comparisons): the README's figures."""
    regressions = improvements = 0
    for seed in range(100, 200):
        result = analyze_history(one_distribution_runs(seed))
        regressions += len(result.regressions)
        improvements += len(result.improvements)
    assert regressions <= 5     # 4: the README's figure
    assert improvements <= 15


def test_quiet_noise_with_the_count_people_use():
    """A quiet runner (CV 2%) and -count 6: still no alarm in 20 runs."""
    rng = np.random.default_rng(7)
    runs = [bench_run(f"r{i:02d}", {("BenchmarkX-8", "ns/op"): np.round(
        1000 * rng.lognormal(0, 0.02, 6), 1)}) for i in range(20)]
    assert analyze_history(runs).regressions == []


def step_runs(factors, n=10, cv=0.03, seed=1) -> list:
    rng = np.random.default_rng(seed)
    return [bench_run(f"r{i:02d}", {("BenchmarkX-8", "ns/op"): np.round(
        1000 * f * rng.lognormal(0, cv, n), 1)}) for i, f in enumerate(factors)]


def test_a_step_is_flagged_once_and_its_fix_is_an_improvement():
    runs = step_runs([1, 1, 1, 1, 1.4, 1.4, 1.4, 1, 1, 1])
    result = analyze_history(runs)
    assert [(c.run, c.metric) for c in result.regressions] == [("r04", "BenchmarkX-8 ns/op")]
    assert [c.run for c in result.improvements] == ["r07"]
    c = result.regressions[0]
    before = np.concatenate([runs[i]["metrics"]["bench"][0]["values"] for i in (1, 2, 3)])
    after = runs[4]["metrics"]["bench"][0]["values"]
    assert c.window == ["r01", "r02", "r03"]
    assert c.before == pytest.approx(float(np.median(before)))
    assert c.after == pytest.approx(float(np.median(after)))
    assert c.change == pytest.approx((np.median(after) / np.median(before) - 1) * 100)
    assert c.n == (30, 10)
    # The improvement is judged against the runs since the regression only.
    assert result.improvements[0].window == ["r04", "r05", "r06"]


def test_p_value_is_the_mann_whitney_of_the_pooled_window():
    stats = pytest.importorskip("scipy.stats")
    runs = step_runs([1, 1, 1, 1.3], n=8, cv=0.05, seed=3)
    c = analyze_history(runs).regressions[0]
    before = np.concatenate([r["metrics"]["bench"][0]["values"] for r in runs[:3]])
    after = runs[3]["metrics"]["bench"][0]["values"]
    assert len(set(before) | set(after)) == len(before) + len(after)  # no ties: exact p
    want = stats.mannwhitneyu(before, after, alternative="two-sided", method="exact").pvalue
    assert c.p_value == pytest.approx(want, rel=1e-9)


def test_a_significant_wobble_under_the_minimum_effect_is_no_alarm():
    quiet = step_runs([1, 1, 1, 1.02], cv=0.001, seed=4)
    assert analyze_history(quiet).regressions == []        # 2%: significant but small
    bigger = step_runs([1, 1, 1, 1.06], cv=0.001, seed=4)
    assert [c.run for c in analyze_history(bigger).regressions] == ["r03"]
    looser = analyze_history(quiet, HistoryOptions(min_change=1.0))
    assert [c.run for c in looser.regressions] == ["r03"]


def test_direction_follows_the_unit():
    rng = np.random.default_rng(5)

    def runs(unit, factor):
        return [bench_run(f"r{i}", {("BenchmarkX-8", unit): np.round(
            100 * (factor if i == 3 else 1) * rng.lognormal(0, 0.01, 10), 3)}) for i in range(4)]
    assert analyze_history(runs("MB/s", 0.5)).regressions[0].run == "r3"   # less throughput
    assert analyze_history(runs("MB/s", 2.0)).improvements[0].run == "r3"
    custom = analyze_history(runs("widgets/op", 2.0))
    assert custom.regressions == [] and custom.improvements == []
    assert custom.changes[0].run == "r3"


def test_baseline_option_sets_the_window():
    runs = step_runs([1, 1, 1, 1, 1, 1.5])
    assert analyze_history(runs, HistoryOptions(baseline=5)).regressions[0].window == \
        ["r00", "r01", "r02", "r03", "r04"]
    assert analyze_history(runs, HistoryOptions(baseline=1)).regressions[0].window == ["r04"]


def cpu_profile(functions: dict, samples: int = 1000, key="cpu") -> dict:
    """functions: name -> (flat %, cum %) of a CPU profile with `samples` samples."""
    total = samples * 10_000_000
    return {"key": key, "file": "cpu.pb.gz", "type": "cpu", "sample_type": "cpu",
            "unit": "nanoseconds", "total": total, "samples": samples, "duration_nanos": 10**10,
            "functions": {n: [round(total * f / 100), round(total * c / 100)]
                          for n, (f, c) in functions.items()}}


CALM = {"main.main": (0, 100), "main.handle": (10, 90), "main.parse": (50, 50),
        "main.encode": (30, 30), "runtime.mallocgc": (10, 10)}


def test_a_new_hot_function_is_the_regression_and_callers_are_not():
    slow = {"main.main": (0, 100), "main.handle": (5, 95), "main.parse": (30, 30),
            "main.encode": (18, 18), "main.slowPath": (40, 42), "runtime.mallocgc": (7, 7)}
    runs = [bench_run(f"r{i}", {}, [cpu_profile(CALM)]) for i in range(3)]
    runs.append(bench_run("r3", {}, [cpu_profile(slow)]))
    result = analyze_history(runs)
    assert len(result.regressions) == 1
    c = result.regressions[0]
    assert (c.run, c.kind, c.function, c.profile) == ("r3", "share", "main.slowPath", "cpu")
    assert c.before == 0 and c.after == pytest.approx(42)
    assert c.p_value < 0.05
    # main.handle's cum grew 5 points, but only because parse and encode shrank.
    assert "main.handle" not in c.culprit_names


def test_the_rest_of_a_profile_growing_after_a_fix_is_no_regression():
    slow = {"main.main": (0, 100), "main.handle": (5, 95), "main.parse": (30, 30),
            "main.encode": (18, 18), "main.slowPath": (40, 42), "runtime.mallocgc": (7, 7)}
    runs = [bench_run(f"r{i}", {}, [cpu_profile(slow)]) for i in range(3)]
    runs.append(bench_run("r3", {}, [cpu_profile(CALM)]))  # parse 30 -> 50: renormalised
    assert analyze_history(runs).regressions == []
    prof = [r["metrics"]["profiles"] for r in runs]
    # flat shares that shrank: slowPath 40, handle and mallocgc nothing (they grew)... 
    lost = (40 - 0) + 0 + 0
    assert moved_away([p[0] for p in prof], 3, [0, 1, 2]) == pytest.approx(lost / 100)


def test_share_growth_within_sampling_noise_is_no_regression():
    """A 12-point move (5.2 beyond the renormalisation) in a 100-sample CPU profile is
    noise; in 10,000 samples it is not."""
    moved = dict(CALM, **{"main.parse": (62, 62), "main.encode": (18, 18)})
    for samples, flagged in ((100, False), (10_000, True)):
        runs = [bench_run(f"r{i}", {}, [cpu_profile(CALM, samples)]) for i in range(3)]
        runs.append(bench_run("r3", {}, [cpu_profile(moved, samples)]))
        assert bool(analyze_history(runs).regressions) == flagged, samples


def test_two_proportion_p_matches_a_reference():
    stats = pytest.importorskip("scipy.stats")
    k1, n1, k2, n2 = 120, 1000, 165, 1000
    pooled = (k1 + k2) / (n1 + n2)
    z = (k2 / n2 - k1 / n1) / np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    assert two_proportion_p(k1, n1, k2, n2) == pytest.approx(2 * stats.norm.sf(abs(z)))


def test_bench_regression_names_the_functions_whose_share_grew():
    slow = {"main.main": (0, 100), "main.handle": (5, 95), "main.parse": (30, 30),
            "main.encode": (18, 18), "main.slowPath": (40, 42), "runtime.mallocgc": (7, 7)}
    rng = np.random.default_rng(2)
    runs = [bench_run(f"r{i}", {("BenchmarkX-8", "ns/op"): np.round(
        1000 * (1.8 if i == 3 else 1) * rng.lognormal(0, 0.03, 10), 1)},
        [cpu_profile(slow if i == 3 else CALM)]) for i in range(4)]
    result = analyze_history(runs)
    bench = [c for c in result.regressions if c.kind == "bench"]
    assert bench[0].culprit_names[0] == "main.slowPath"
    assert bench[0].culprits[0].points == pytest.approx(42)


def goroutine_run(run_id, counts: dict) -> dict:
    r = bench_run(run_id, {})
    r["metrics"]["goroutines"] = {"file": "g.txt", "total": sum(counts.values()),
                                  "groups": counts}
    return r


def test_a_goroutine_group_that_keeps_growing_is_flagged():
    leak, calm = "main.poll → chan receive", "main.worker [select]"
    runs = [goroutine_run(f"r{i}", {leak: 5 + 8 * i, calm: 4 + i % 2}) for i in range(6)]
    result = analyze_history(runs)
    assert {c.run for c in result.regressions} == {"r3", "r4", "r5"}
    assert all(c.metric == f"goroutines: {leak}" for c in result.regressions)
    first = result.regressions[0]
    # before: the window's median count (5, 13, 21), as every rule's before
    assert (first.before, first.after) == (13, 29)
    assert first.change == pytest.approx((29 / 13 - 1) * 100)
    # Growing by one now and then is not a leak.
    slow = [goroutine_run(f"r{i}", {leak: 5 + i}) for i in range(6)]
    assert analyze_history(slow).regressions == []
    # A slow leak, +3 every night: found once it has added 10 since it began.
    creeping = [goroutine_run(f"r{i}", {leak: 100 + 3 * i, calm: 4}) for i in range(21)]
    flagged = [c.run for c in analyze_history(creeping).regressions]
    assert flagged[0] == "r4" and flagged == [f"r{i}" for i in range(4, 21)]
    # ... but not when it stopped rising for a night in between.
    paused = [goroutine_run(f"r{i}", {leak: 100 + 3 * min(i, 2) + 3 * max(i - 3, 0)})
              for i in range(6)]
    assert analyze_history(paused).regressions == []


def test_gate_newest_or_any():
    result = analyze_history(step_runs([1, 1, 1, 1.5, 1.5]))
    assert gate(result, "newest") == []
    assert [c.run for c in gate(result, "any")] == ["r03"]
    assert [c.run for c in gate(analyze_history(step_runs([1, 1, 1, 1.5])))] == ["r03"]


def test_series_carry_median_and_interval_per_run():
    runs = step_runs([1, 1])
    series = analyze_history(runs).series[0]
    values = runs[1]["metrics"]["bench"][0]["values"]
    p = series.points[1]
    assert p.value == pytest.approx(float(np.median(values)))
    xs = sorted(values)
    assert (p.lo, p.hi) == (xs[1], xs[8])   # n=10: [x(2), x(9)] is the 95% interval


def _mixed_history() -> list:
    """Benchmark steps (a regression, its fix), a new hot function in the CPU
    profile, and a goroutine group that keeps growing: every rule fires, and
    two of them carry state from run to run (baselines restart after a change)."""
    slow = {"main.main": (0, 100), "main.handle": (5, 95), "main.parse": (30, 30),
            "main.encode": (18, 18), "main.slowPath": (40, 42), "runtime.mallocgc": (7, 7)}
    factors = [1, 1, 1, 1, 1.5, 1.5, 1.5, 1, 1, 1, 1.3, 1.3]
    runs = step_runs(factors, seed=9)
    for i, r in enumerate(runs):
        r["metrics"]["profiles"] = [cpu_profile(slow if factors[i] > 1 else CALM, 5000)]
        r["metrics"]["goroutines"] = {"file": "g.txt", "total": 0,
                                      "groups": {"main.poll → chan receive": 5 + 9 * i}}
    return runs


def test_continuing_a_detection_finds_what_detecting_all_runs_finds():
    """Every rule is causal: the detection of the first m runs, written out and
    read back, continued with the rest equals one analysis of all runs, for
    every m, with the same changes in the same order."""
    import json

    from reportgen.analyze.history import Detection
    runs = _mixed_history()
    whole = analyze_history(runs)
    assert {c.kind for c in whole.regressions} == {"bench", "share", "goroutines"}
    assert whole.improvements
    want = json.dumps(whole.as_dict(), sort_keys=True)
    for m in range(len(runs) + 1):
        earlier = analyze_history(runs[:m]).detection
        assert earlier.runs == m
        read_back = Detection.from_dict(json.loads(json.dumps(earlier.as_dict())))
        assert read_back == earlier
        continued = analyze_history(runs, earlier=read_back)
        assert json.dumps(continued.as_dict(), sort_keys=True) == want, m
        assert continued.detection == whole.detection
    with pytest.raises(ValueError):
        analyze_history(runs[:3], earlier=whole.detection)


def test_a_continued_detection_tests_only_the_new_runs(monkeypatch):
    """What makes adding a night cheap: the runs the earlier detection covered
    are not compared again."""
    import reportgen.analyze.history as history
    runs = _mixed_history()
    earlier = analyze_history(runs[:-1]).detection
    compared = []
    real = history.summarize

    def counting(values, *a, **k):
        compared.append(len(values))
        return real(values, *a, **k)
    monkeypatch.setattr(history, "summarize", counting)
    analyze_history(runs, earlier=earlier)
    continued = len(compared)
    compared.clear()
    analyze_history(runs)
    # The series' points are summarised for every run either way; the window
    # comparisons (two summaries each) only for the new run when continued.
    points = len(runs)
    assert continued - points <= 2 < len(compared) - points


def test_a_function_returning_after_its_fix_is_a_regression_again():
    """The reviewer's night 10: main.slowPath came (r3), was fixed (r7), came back
    (r9). Its window at r9 must hold only the fixed runs (r7, r8), not r6 too:
    against a window of one slow and two fixed runs the pooled test of a short
    profile with many functions (Bonferroni) did not reach significance."""
    slow = {"main.main": (0, 100), "main.handle": (5, 95), "main.parse": (30, 30),
            "main.encode": (18, 18), "main.slowPath": (40, 42), "runtime.mallocgc": (7, 7)}
    tiny = {f"main.helper{k}": (0.1, 0.1) for k in range(100)}
    shapes = [CALM] * 3 + [slow] * 4 + [CALM] * 2 + [slow]
    runs = [bench_run(f"r{i}", {}, [cpu_profile({**p, **tiny}, 30)])
            for i, p in enumerate(shapes)]
    result = analyze_history(runs)
    assert [(c.run, c.function) for c in result.regressions] == [
        ("r3", "main.slowPath"), ("r9", "main.slowPath")]
    assert result.regressions[1].window == ["r7", "r8"]


@pytest.mark.parametrize("seed", range(3))
def test_no_share_alarms_on_twenty_runs_of_sampling_noise(seed):
    """CPU profiles of 300 samples drawn from one program: shares wobble by
    several points from run to run, and nothing is flagged."""
    rng = np.random.default_rng(seed)
    names = ["main.parse", "main.encode", "main.validate", "main.write", "runtime.mallocgc"]
    weights = np.array([0.35, 0.25, 0.2, 0.12, 0.08])
    runs = []
    for i in range(20):
        counts = rng.multinomial(300, weights)
        shares = {n: (c / 3, c / 3) for n, c in zip(names, counts)}
        shares["main.main"] = (0, 100)
        runs.append(bench_run(f"r{i:02d}", {}, [cpu_profile(shares, 300)]))
    assert analyze_history(runs).regressions == []


@pytest.mark.parametrize("nights", [10, 40])
def test_trend_chart_dots_each_run_only_while_they_stand_apart(nights):
    from reportgen.render.history_pages import DOTS_UP_TO, trend_chart
    factors = [1.0] * (nights - 1) + [2.0]
    result = analyze_history(step_runs(factors))
    series = next(s for s in result.series if s.metric.endswith("ns/op"))
    flagged = {c.run for c in result.regressions if c.series == series.key}
    assert flagged == {result.runs[-1]}
    svg = str(trend_chart("t", series, result.runs, flagged, set()))
    dots = svg.count("<circle")
    # every run a dot up to DOTS_UP_TO runs, else only the flagged run's mark
    assert dots == (nights + 1 if nights <= DOTS_UP_TO else 1)


@pytest.mark.parametrize("factors, regressed, improved", [
    ([1, 1, 1, 1, 2, 4], ["r04", "r05"], []),                 # a second step the next night
    ([1, 1, 1, 1, 2, 1, 2], ["r04", "r06"], ["r05"]),          # reverted, then re-landed
    ([1, 1, 1, 1, 0.5, 1.5, 1.5, 1.5], ["r05"], ["r04"]),      # a fast blip, then slower for good
    ([1, 10], ["r01"], []),                                    # two runs: the second is tested
])
def test_the_night_after_a_change_is_tested_against_that_night(factors, regressed, improved):
    result = analyze_history(step_runs(factors))
    assert [c.run for c in result.regressions] == regressed
    assert [c.run for c in result.improvements] == improved
    if regressed and regressed[-1] == f"r{len(factors) - 1:02d}":
        assert gate(result, "newest")


def test_a_benchmark_that_starts_allocating_is_a_regression():
    """0 -> 1 allocs/op (a value escaped to the heap): the largest change there is."""
    runs = [bench_run(f"r{i}", {("BenchmarkX-8", "allocs/op"): [0 if i < 4 else 1] * 10,
                                ("BenchmarkX-8", "B/op"): [0 if i < 4 else 48] * 10})
            for i in range(5)]
    result = analyze_history(runs)
    assert sorted(c.metric for c in result.regressions) == ["BenchmarkX-8 B/op",
                                                             "BenchmarkX-8 allocs/op"]
    c = result.regressions[0]
    assert (c.before, c.after, c.change) == (0, c.after, float("inf"))
    assert c.as_dict()["change"] is None       # JSON has no infinity
    from reportgen.analyze.history import Change
    from reportgen.render.history_pages import change_text
    assert Change.from_dict(c.as_dict()) == c
    assert change_text(c) == "from 0"


@pytest.mark.parametrize("unit, lower", [("ns/op", True), ("sec/op", True), ("ms/op", True),
                                         ("us/op", True), ("cpu-ns/op", True), ("B/op", True),
                                         ("allocs/op", True), ("MB/s", False), ("B/s", False),
                                         ("ops/s", False), ("widgets/op", None)])
def test_which_way_is_better_per_unit(unit, lower):
    from reportgen.analyze.history import lower_is_better
    assert lower_is_better(unit) is lower
    result = analyze_history([bench_run(f"r{i}", {("BenchmarkX-8", unit): np.round(
        1000 * (2 if i == 4 else 1) * np.random.default_rng(i).lognormal(0, 0.01, 10), 2)})
        for i in range(5)])
    outcome = ("regressions" if lower else "improvements" if lower is False else "changes")
    assert [c.run for c in getattr(result, outcome)] == ["r4"]


def test_a_new_function_taking_nearly_all_the_profile_is_found():
    """96% of CPU in a new function: not a root (main.main spans every run), the news."""
    slow = {"main.main": (0, 100), "main.handle": (0, 99), "main.retryLoop": (96, 96),
            "main.parse": (2, 2), "main.encode": (1, 1), "runtime.mallocgc": (1, 1)}
    rng = np.random.default_rng(1)
    runs = [bench_run(f"r{i}", {("BenchmarkH-2", "ns/op"): np.round(
        1000 * (20 if i == 4 else 1) * rng.lognormal(0, .02, 10), 1)},
        [cpu_profile(slow if i == 4 else CALM)]) for i in range(5)]
    result = analyze_history(runs)
    bench = next(c for c in result.regressions if c.kind == "bench")
    assert bench.culprit_names[0] == "main.retryLoop"
    share = next(c for c in result.regressions if c.kind == "share")
    assert share.function == "main.retryLoop" and share.after == pytest.approx(96)
    assert "main.main" not in bench.culprit_names


def test_of_equal_growth_the_callee_leads_the_culprits():
    """A caller that only passes its time on has the callee's cum: the callee,
    whose flat grew, is named first, whatever the names' order."""
    calm = {"main.main": (0, 100), "main.zzServe": (60, 60), "main.work": (40, 40)}
    slow = {"main.main": (0, 100), "main.zzServe": (30, 30), "main.work": (20, 20),
            "main.aaLookup": (0, 50), "main.zzSlow": (50, 50)}
    runs = [bench_run(f"r{i}", {}, [cpu_profile(slow if i == 4 else calm, 100_000)])
            for i in range(5)]
    share = next(c for c in analyze_history(runs).regressions if c.kind == "share")
    assert share.function == "main.zzSlow"
    assert share.culprit_names[0] == "main.aaLookup"
    assert share.culprits[0].growth == pytest.approx(50 - 0)


def test_a_partial_recovery_says_what_is_still_slow():
    from types import SimpleNamespace

    from reportgen.render.history_pages import answer
    rng = np.random.default_rng(3)

    def night(i, ns, allocs):
        return bench_run(f"n{i:02d}", {
            ("BenchmarkQ-2", "ns/op"): np.round(1000 * ns * rng.lognormal(0, .02, 10), 1),
            ("BenchmarkQ-2", "allocs/op"): [allocs] * 10})
    runs = [night(i, 1, 2) for i in range(4)] + [night(4, 2, 4), night(5, 2, 4),
                                                  night(6, 2, 2), night(7, 2, 2)]
    result = analyze_history(runs)
    assert {c.run for c in result.regressions} == {"n04"}
    history = SimpleNamespace(result=result, runs=[SimpleNamespace(id=r["id"], meta={})
                                                   for r in runs])
    sentence = answer(history)[1]
    assert sentence.endswith("BenchmarkQ-2 allocs/op back at the earlier level by run n06; "
                             "BenchmarkQ-2 ns/op not yet."), sentence
    runs += [night(8, 1, 2)]
    history.result = analyze_history(runs)
    history.runs.append(SimpleNamespace(id="n08", meta={}))
    assert answer(history)[1].endswith(" Back at the earlier level by run n08."), answer(history)


def test_heap_effective_samples_undo_the_runtimes_scaling():
    """Records scaled as runtime/pprof scaleHeapSample does: small objects (size
    << rate) weigh one sample each; one huge object weighs its size alone."""
    from types import SimpleNamespace

    from reportgen.analyze.run_metrics import heap_effective_samples
    rate = 512 * 1024

    def record(raw: int, size: int):
        scale = 1 / (1 - np.exp(-size / rate))
        return [raw * scale, raw * scale * size]
    types = [SimpleNamespace(type="alloc_objects"), SimpleNamespace(type="alloc_space")]
    even = SimpleNamespace(sample_types=types, period=rate,
                           values=np.array([record(100, 64), record(200, 64)]))
    assert heap_effective_samples(even) == pytest.approx(300, abs=1)
    # 299 small samples (each standing for about `rate` bytes) and one 64 MiB
    # object, a third of the bytes: about 11 samples' worth of certainty.
    lopsided = SimpleNamespace(sample_types=types, period=rate,
                               values=np.array([record(299, 64), record(1, 64 << 20)]))
    small, big = lopsided.values[0, 1], lopsided.values[1, 1]
    kish = (small + big) ** 2 / (small ** 2 / 299 + big ** 2)
    assert heap_effective_samples(lopsided) == int(kish) and int(kish) < 20


def test_a_runs_heap_profile_carries_its_effective_sample_count():
    from pathlib import Path

    from reportgen.analyze.run_metrics import heap_effective_samples, profile_metrics
    from reportgen.sources import load_profile
    from reportgen.sources.runs import Evidence
    path = Path(__file__).parent.parent / "examples/nightly/runs/2026-11-05/heap.pb.gz"
    profile = load_profile(path)
    heap = profile_metrics([Evidence("profile", "heap.pb.gz", profile)])["profiles"][0]
    assert heap["type"] == "heap" and heap["samples"] == heap_effective_samples(profile) > 1000


def test_heap_share_noise_is_tested_as_cpu_sampling_noise_is():
    """Allocation profiles of one program, 300 sampled allocations a night (as
    heap_effective_samples counts them): their shares' noise is tested as the
    same draws in CPU samples are. Untested, 17 of 20 such histories alarmed."""
    names = ["main.parse", "main.encode", "main.validate", "main.write"]
    flagged = {"cpu": 0, "heap": 0}
    for kind in flagged:
        for seed in range(10):
            rng = np.random.default_rng(seed)
            runs = []
            for i in range(20):
                counts = rng.multinomial(300, [0.35, 0.25, 0.25, 0.15])
                p = cpu_profile({"main.main": (0, 100), **{n: (c / 3, c / 3) for n, c in
                                                           zip(names, counts)}}, 300, key=kind)
                if kind == "heap":
                    p.update(type="heap", sample_type="alloc_space", unit="bytes")
                runs.append(bench_run(f"r{i:02d}", {}, [p]))
            flagged[kind] += len(analyze_history(runs).regressions)
    assert flagged["heap"] == flagged["cpu"] <= 3   # 3 in 200 nights of a 3-second profile


def test_an_improvement_back_to_a_later_spikes_level_is_no_fix():
    """100 x4, a slower step to 150, a one-night spike to 300, back to 150: the
    spike was fixed, the step was not."""
    from types import SimpleNamespace

    from reportgen.render.history_pages import answer
    runs = step_runs([1, 1, 1, 1, 1.5, 1.5, 3, 1.5, 1.5])
    result = analyze_history(runs)
    assert [c.run for c in result.regressions] == ["r04", "r06"]
    history = SimpleNamespace(result=result, runs=[SimpleNamespace(id=r["id"], meta={})
                                                   for r in runs])
    said = answer(history)
    assert said[1].endswith("Back at the earlier level by run r07.") and "r06" in said[1]
    assert said[2].startswith("Run r04") and "earlier level" not in said[2]
