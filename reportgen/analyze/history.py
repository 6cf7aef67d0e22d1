"""History of runs: trends, regressions and improvements, with their culprits.

Pure: the runs' numbers (reportgen.analyze.run_metrics) in, a HistoryResult
out. The method, whose defaults are in HistoryOptions:

- Benchmarks: each run is compared with its window, the runs before it
  (default 3), pooled, exactly as `reportgen bench` compares two files
  (reportgen.analyze.benchstat.compare_row: medians, distribution-free 95%
  confidence intervals, two-sided Mann-Whitney U). A change is reported when
  (1) p < alpha, (2) the median moved by at least `min_change` (5%),
  (3) the two confidence intervals do not overlap (when both exist), and
  (4) the run's median is farther from the window's than any window run's
  median is. (1) is the test benchstat uses; (2) keeps a significant 0.3%
  wobble from being an alarm; (3) guards against the many comparisons a
  history makes (every night, every benchmark and unit): with no change,
  (1)-(3) hold in about 1 comparison in 500 on this machine's noise; (4)
  asks the change to exceed the night-to-night variation the window shows,
  which the pooled test cannot see (unknown with a window of one run). A detected
  change starts a new baseline: later windows do not reach back past it,
  so a regression is reported once, on the night it came, and its fix is
  an improvement.
- Profile shares: per profile kind, each function's cum share of the total
  against the median share over the window (the previous `baseline` runs
  with that profile). A share that grew by `share_points` (5 points) or more
  is a regression; the growth must also pass a two-proportion z-test at
  alpha divided by the number of functions compared (Bonferroni), since a
  short profile's shares are noisy (CPU profiles count samples; heap and
  allocs profiles have an effective count, run_metrics.heap_effective_samples).
- Goroutines: a group of identical stacks that grew at every run over the
  window and the run (baseline + 1 runs in a row, or more), by at least
  `min_goroutines` since the rise began.
- Shares add up to the total: when some functions shrink, every other one's
  share grows without its cost changing. A share's growth therefore counts
  only beyond that: after - before / (1 - moved), where `moved` is the sum
  of the flat shares that shrank (moved_away). This keeps the callers of a
  new hot function, and the rest of the profile on the night a hot function
  goes away, from being reported. One regression is reported per run and
  profile kind: the function that grew most beyond it, the program's own
  code first. A function's baseline restarts after its regression and after
  it fell back by as much (significantly, for CPU profiles), so the window
  of a function that returns after a fix holds only its fixed level. Runtime functions (GC, allocator, scheduler) move with GC
  timing from run to run and are never a share regression themselves.
- Culprits of a regression: in the same run's profiles, the functions whose
  cum share grew most (beyond the others' shrinking) against the window, the
  program's own code first (for ns/op the CPU profile, for B/op and
  allocs/op the heap/allocs profile).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from reportgen.analyze.benchstat import ALPHA, CONFIDENCE, compare_row, median, quantile, \
    summarize
from reportgen.gocode import family, is_program_code, package_of

DEFAULT_BASELINE = 3
DEFAULT_MIN_CHANGE = 5.0      # percent of the window's median
DEFAULT_SHARE_POINTS = 5.0    # percentage points of the profile's total
MIN_GOROUTINES = 10
CULPRITS = 3
SHARE_HISTORY = 10            # functions per profile kind in the share history
_ROOT_SHARE = 0.95            # functions at least this share in every run: roots


def _is_root(before: float, after: float) -> bool:
    """A root (main.main, runtime.goexit) spans the whole profile before and after;
    a new function taking 96% of it is not one, it is the news."""
    return min(before, after) >= _ROOT_SHARE * 100


@dataclass(frozen=True)
class HistoryOptions:
    baseline: int = DEFAULT_BASELINE
    min_change: float = DEFAULT_MIN_CHANGE
    share_points: float = DEFAULT_SHARE_POINTS
    alpha: float = ALPHA
    confidence: float = CONFIDENCE
    min_goroutines: int = MIN_GOROUTINES

    def as_dict(self) -> dict:
        return dict(vars(self))


def change_pct(old: float, new: float) -> float | None:
    """The change from old to new in percent, as benchstat's Row.delta_pct: 0 for
    equal values, None from 0 to anything else."""
    if old == new:
        return 0.0
    return None if old == 0 else (new / old - 1.0) * 100.0


def is_runtime(name: str) -> bool:
    """The Go runtime's own functions (GC, scheduler, allocator, profiler): their
    shares move with GC timing and scheduling from run to run, so they are
    context for culprits, never a share regression of their own."""
    return family(package_of(name)) == "runtime"


_TIME_PREFIXES = ("ns/", "us/", "µs/", "ms/", "s/", "sec/")


def is_time_unit(unit: str) -> bool:
    """Time per op: ns/op, benchstat's sec/op, custom ones such as us/op or ms/op,
    and named ones such as cpu-ns/op (CPU time per op)."""
    return unit.startswith(_TIME_PREFIXES) or any(
        unit.endswith("-" + p + "op") for p in _TIME_PREFIXES)


def lower_is_better(unit: str) -> bool | None:
    """For Go's own benchmark units: time, bytes and allocations per op shrink
    when better, rates (MB/s, B/s) grow; a custom unit says nothing (None),
    except time per op under another name (ms/op, cpu-ns/op)."""
    if unit.endswith("/s"):   # first: B/s is a rate, not bytes per op
        return False
    if is_time_unit(unit) or unit.startswith("B/") or unit == "allocs/op":
        return True
    return None


# ---- results -----------------------------------------------------------------

@dataclass
class Point:
    """One run's value of a series: median and confidence interval, or one value."""
    run: str
    value: float
    lo: float | None = None
    hi: float | None = None
    n: int = 1

    def as_dict(self) -> dict:
        return {"run": self.run, "value": self.value, "lo": self.lo, "hi": self.hi, "n": self.n}


@dataclass
class Series:
    key: str             # stable id: bench:<pkg>:<name>:<unit>, total:<profile>:<type> ...
    kind: str            # "bench", "scalar", "goroutines"
    metric: str          # in words: "BenchmarkQuote-2 ns/op", "goroutines"
    unit: str
    points: list         # of Point, in run order, runs without the series left out
    note: str = ""

    def as_dict(self) -> dict:
        return {"key": self.key, "kind": self.kind, "metric": self.metric, "unit": self.unit,
                "note": self.note, "points": [p.as_dict() for p in self.points]}


@dataclass
class Culprit:
    function: str
    profile: str         # profile key: cpu, heap ...
    sample_type: str
    before: float        # cum share in percent: window median
    after: float
    own: bool            # the program's own code
    growth: float        # points grown beyond the others' shrinking: what culprits rank by

    @property
    def points(self) -> float:
        return self.after - self.before

    def as_dict(self) -> dict:
        return {"function": self.function, "profile": self.profile,
                "sample_type": self.sample_type, "before": self.before, "after": self.after,
                "points": self.points, "growth": self.growth, "own": self.own}

    @classmethod
    def from_dict(cls, d: dict) -> "Culprit":
        """The inverse of as_dict (`points` is derived)."""
        return cls(d["function"], d["profile"], d["sample_type"], d["before"], d["after"],
                   d["own"], d["growth"])


@dataclass
class Change:
    """A regression, an improvement, or a change in a unit with no better direction."""
    run: str
    kind: str            # "bench", "share", "goroutines"
    metric: str
    unit: str            # the metric's unit ("% of cpu" for shares)
    before: float        # window median (shares: median share)
    after: float
    change: float        # percent (bench, goroutines; inf from 0) or percentage points
    change_unit: str     # "%" or "points"
    series: str          # Series/ShareSeries key
    window: list         # run ids compared against
    p_value: float | None = None
    n: tuple = ()        # (runs' values in the window, in the run)
    before_ci: tuple | None = None
    after_ci: tuple | None = None
    culprits: list = field(default_factory=list)   # of Culprit
    profile: str = ""    # shares: the profile key; where a diff page can be built
    function: str = ""   # shares: the function whose share grew

    @property
    def culprit_names(self) -> list:
        return [c.function for c in self.culprits]

    def as_dict(self) -> dict:
        return {"run": self.run, "kind": self.kind, "metric": self.metric, "unit": self.unit,
                "before": self.before, "after": self.after,
                "change": self.change if math.isfinite(self.change) else None,   # from 0
                "change_unit": self.change_unit, "p_value": self.p_value, "n": list(self.n),
                "before_ci": list(self.before_ci) if self.before_ci else None,
                "after_ci": list(self.after_ci) if self.after_ci else None,
                "window": self.window, "series": self.series, "profile": self.profile,
                "function": self.function,
                "culprits": self.culprit_names,
                "culprit_details": [c.as_dict() for c in self.culprits]}

    @classmethod
    def from_dict(cls, d: dict) -> "Change":
        """The inverse of as_dict: the same Change (tuples as tuples), so that a
        change read back renders and serialises byte for byte as the original."""
        def pair(v):
            return tuple(v) if v is not None else None
        return cls(d["run"], d["kind"], d["metric"], d["unit"], d["before"], d["after"],
                   math.inf if d["change"] is None else d["change"], d["change_unit"],
                   d["series"], list(d["window"]), d["p_value"],
                   tuple(d["n"]), pair(d["before_ci"]), pair(d["after_ci"]),
                   [Culprit.from_dict(c) for c in d["culprit_details"]], d["profile"],
                   d["function"])


@dataclass
class ShareSeries:
    """A function's cum and flat share (percent) of one profile kind, run by run."""
    profile: str
    sample_type: str
    function: str
    cum: list            # per run: percent, or None when the run has no such profile
    flat: list
    own: bool

    def as_dict(self) -> dict:
        return {"profile": self.profile, "sample_type": self.sample_type,
                "function": self.function, "cum": self.cum, "flat": self.flat, "own": self.own}


_OUTCOMES = ("regressions", "improvements", "changes")


@dataclass
class Detection:
    """What the rules found in the first `runs` runs, and the state they carry
    to the runs after: where each benchmark's baseline starts (after its last
    change) and, per profile kind, where each function's does. Every rule is
    causal (a run is compared with runs before it, never after), so the same
    runs with more appended continue from here and find exactly what a
    detection over all of them finds; analyze_history(earlier=...) does that."""
    runs: int = 0
    bench_start: dict = field(default_factory=dict)   # (pkg, name, unit) -> run index
    share_start: dict = field(default_factory=dict)   # profile key -> {function: run index}
    regressions: list = field(default_factory=list)   # of Change, as analyze_history orders them
    improvements: list = field(default_factory=list)
    changes: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"runs": self.runs,
                "bench_start": [[*k, v] for k, v in sorted(self.bench_start.items())],
                "share_start": {k: dict(sorted(v.items()))
                                for k, v in sorted(self.share_start.items())},
                **{k: [c.as_dict() for c in getattr(self, k)] for k in _OUTCOMES}}

    @classmethod
    def from_dict(cls, d: dict) -> "Detection":
        """The inverse of as_dict. KeyError, TypeError or ValueError on a dict
        of another shape."""
        return cls(int(d["runs"]), {tuple(b[:3]): int(b[3]) for b in d["bench_start"]},
                   {k: {f: int(i) for f, i in v.items()} for k, v in d["share_start"].items()},
                   **{k: [Change.from_dict(c) for c in d[k]] for k in _OUTCOMES})


@dataclass
class HistoryResult:
    runs: list                    # run ids, in order
    options: HistoryOptions
    series: list                  # of Series: benchmarks, then scalars
    shares: list                  # of ShareSeries
    groups: list                  # of Series (kind goroutines): per goroutine group
    regressions: list             # of Change, in run order
    improvements: list
    changes: list                 # significant moves in units with no better direction
    detection: Detection | None = None   # for a later analysis with more runs (not shown)

    def of_run(self, run: str) -> list:
        return [c for c in self.regressions if c.run == run]

    @property
    def newest(self) -> str | None:
        return self.runs[-1] if self.runs else None

    def as_dict(self) -> dict:
        return {"options": self.options.as_dict(), "runs": list(self.runs),
                "series": [s.as_dict() for s in self.series],
                "shares": [s.as_dict() for s in self.shares],
                "goroutine_groups": [s.as_dict() for s in self.groups],
                "regressions": [c.as_dict() for c in self.regressions],
                "improvements": [c.as_dict() for c in self.improvements],
                "changes": [c.as_dict() for c in self.changes]}


# ---- shares ------------------------------------------------------------------

def _shares(profile: dict) -> dict:
    """function -> (flat %, cum %) of one run's profile."""
    cached = profile.get("_shares")   # see _with_shares
    if cached is not None:
        return cached
    total = abs(profile["total"])
    if not total:
        return {}
    return {name: (fc[0] / total * 100, fc[1] / total * 100)
            for name, fc in profile["functions"].items()}


def _with_shares(runs: list) -> list:
    """Copies of the runs whose profiles carry their shares, computed once: every
    run is in several windows. They share one memo of window medians (see
    _window_medians). The caller's dicts are left as they were."""
    out = []
    memo: dict = {}
    for r in runs:
        m = r["metrics"]
        profiles = [{**p, "_shares": _shares(p), "_memo": memo} for p in m["profiles"]]
        out.append({**r, "metrics": {**m, "profiles": profiles}})
    return out


def _share_median(values: list) -> float:
    """benchstat's median (R8) of shares: finite floats, so a plain sort orders
    them as sort_values does."""
    return quantile(sorted(values), 0.5)


_NO_SHARE = (0.0, 0.0)


def _window_medians(profiles: list, window: list) -> dict:
    """function -> (median flat %, median cum %) over the window's profiles, a
    function absent from a run counting as 0 there (absent from all: 0, which
    is what a lookup's default gives too). Every window is asked for by several
    runs and rules: computed once per analysis (the memo _with_shares adds)."""
    memo = profiles[window[0]].get("_memo")
    key = tuple(id(profiles[j]) for j in window)   # the profiles live as long as the memo
    if memo is not None and key in memo:
        return memo[key]
    past = [_shares(profiles[j]) for j in window]
    out = {}
    for name in set().union(*past):
        values = [s.get(name, _NO_SHARE) for s in past]
        out[name] = (_share_median([v[0] for v in values]),
                     _share_median([v[1] for v in values]))
    if memo is not None:
        memo[key] = out
    return out


def _profiles_by_key(runs: list) -> dict:
    """profile key -> per run index: the profile dict (or None)."""
    out: dict[str, list] = {}
    for i, r in enumerate(runs):
        for p in r["metrics"]["profiles"]:
            out.setdefault(p["key"], [None] * len(runs))[i] = p
    return out


def _window(indices: list, i: int, size: int, start: int = 0) -> list:
    """The last `size` of `indices` before position i, none before `start`."""
    before = [j for j in indices if start <= j < i]
    return before[-size:]


def two_proportion_p(k1: float, n1: int, k2: float, n2: int) -> float:
    """Two-sided p of a two-proportion z-test (pooled variance): k1/n1 against k2/n2."""
    if n1 <= 0 or n2 <= 0:
        return 1.0
    pooled = (k1 + k2) / (n1 + n2)
    var = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if var <= 0:
        return 1.0 if k1 / n1 == k2 / n2 else 0.0
    z = abs(k1 / n1 - k2 / n2) / math.sqrt(var)
    return math.erfc(z / math.sqrt(2))


def share_moves(profiles: list, i: int, window: list, names=None, scale: float = 1.0) -> list:
    """(function, before %, after %, p or None) for the functions of run i's
    profile and its window (or just `names`): before is the median cum share
    over the window's profiles (a function absent from a run's numbers counts
    as 0 there). When the profiles count samples (CPU), p is a two-proportion
    z-test of the run's share against the window's pooled share times `scale`
    (the growth expected from the other functions' shrinking)."""
    now = _shares(profiles[i])
    past = [_shares(profiles[j]) for j in window]
    medians = _window_medians(profiles, window)
    counted = profiles[i].get("samples") and all(profiles[j].get("samples") for j in window)
    if names is None:
        names = sorted(set(now) | set(medians))
    if counted:
        n1 = sum(profiles[j]["samples"] for j in window)
        n2 = profiles[i]["samples"]
        weights = [(s, profiles[j]["samples"]) for s, j in zip(past, window)]
    out = []
    for name in names:
        after = now.get(name, _NO_SHARE)[1]
        before = medians.get(name, _NO_SHARE)[1]
        p = None
        if counted:
            k1 = min(n1, scale * sum(s.get(name, _NO_SHARE)[1] / 100 * samples
                                     for s, samples in weights))
            p = two_proportion_p(k1, n1, after / 100 * n2, n2)
        out.append((name, before, after, p))
    return out


def culprits(runs: list, i: int, baseline: int, prefer: tuple = ()) -> list:
    """The functions whose cum share grew most in run i's profiles against the
    previous `baseline` runs with the same profile kind: the program's own code
    first, at most CULPRITS, each grown by at least one point. `prefer` names
    profile types to look at first (cpu for time, heap/allocs for memory)."""
    by_key = _profiles_by_key(runs)
    keys = [k for k, ps in by_key.items() if ps[i] is not None]
    preferred = [k for k in keys if by_key[k][i]["type"] in prefer]
    found = []
    for key in preferred or keys:
        profiles = by_key[key]
        present = [j for j, p in enumerate(profiles) if p is not None]
        window = _window(present, i, baseline)
        if not window:
            continue
        scale = 1 / (1 - moved_away(profiles, i, window))
        for name, before, after, _p in share_moves(profiles, i, window):
            excess = after - before * scale
            if excess >= 1.0 and not _is_root(before, after):
                found.append((not is_program_code(name), *_growth_rank(profiles, i, window,
                                                                       name, excess),
                              name, Culprit(name, key, profiles[i]["sample_type"], before,
                                            after, is_program_code(name), excess)))
    found.sort(key=lambda f: f[:4])
    return [f[4] for f in found[:CULPRITS]]


def _growth_rank(profiles: list, i: int, window: list, name: str, excess: float) -> tuple:
    """Sort key of a grown function: most growth beyond the others' shrinking
    first; of equal growth (a caller and the one callee it spends everything
    in have the same cum), the one whose own (flat) share grew, where the
    cost is."""
    flat_growth = (_shares(profiles[i]).get(name, _NO_SHARE)[0]
                   - _window_medians(profiles, window).get(name, _NO_SHARE)[0])
    return -round(excess, 6), -round(flat_growth, 6)


_PREFER = {"time": ("cpu",), "memory": ("allocs", "heap")}


def _prefer_for(unit: str) -> tuple:
    if is_time_unit(unit) or unit.endswith("/s"):
        return _PREFER["time"]
    if unit.startswith("B/") or unit == "allocs/op":
        return _PREFER["memory"]
    return ()


# ---- the analysis ------------------------------------------------------------

def _bench_series(runs: list) -> dict:
    """(pkg, name, unit) -> per run index: values (or None)."""
    out: dict[tuple, list] = {}
    for i, r in enumerate(runs):
        for b in r["metrics"]["bench"]:
            out.setdefault((b["pkg"], b["name"], b["unit"]), [None] * len(runs))[i] = b["values"]
    return out


def _metric_name(pkg: str, name: str, unit: str, many_pkgs: bool) -> str:
    return f"{pkg}.{name} {unit}" if many_pkgs and pkg else f"{name} {unit}"


def _overlap(a, b) -> bool:
    """Whether the two medians' confidence intervals overlap; False when either
    side has too few runs for an interval (the test and the effect size decide)."""
    return a.bounded and b.bounded and a.lo <= b.hi and b.lo <= a.hi


def _detect_bench(runs, key, per_run, metric, opts, out, start: int = 0, first: int = 0) -> int:
    """Changes of one benchmark and unit in runs `first` on, the baseline starting
    at run `start`; returns where the baseline starts after the last run."""
    pkg, name, unit = key
    ids = [r["id"] for r in runs]
    present = [i for i, v in enumerate(per_run) if v]
    for i in present:
        if i < first:
            continue
        window = _window(present, i, opts.baseline, start)
        if not window:   # one run after a change is a window too: the next night is tested
            continue
        before = [v for j in window for v in per_run[j]]
        # The cheap conditions first: the exact test is computed only for the
        # few comparisons that pass them (it is the costly part of a history).
        a, b = summarize(before, opts.confidence), summarize(per_run[i], opts.confidence)
        delta = _pct_or_inf(a.median, b.median)
        if not (abs(delta) >= opts.min_change and not _overlap(a, b)
                and beyond_window_spread(b.median, a.median, [per_run[j] for j in window])):
            continue
        row = compare_row(pkg, name, unit, before, per_run[i], opts.alpha, opts.confidence)
        if not row.significant:
            continue
        start = i  # a new baseline from this run on
        change = Change(ids[i], "bench", metric, unit, row.base.median, row.target.median,
                        delta, "%", f"bench:{pkg}:{name}:{unit}", [ids[j] for j in window],
                        row.test.p, (row.base.n, row.target.n), _ci(row.base), _ci(row.target))
        better = lower_is_better(unit)
        if better is None:
            out["changes"].append(change)
        elif (delta < 0) == better:
            out["improvements"].append(change)
        else:
            change.culprits = culprits(runs, i, opts.baseline, _prefer_for(unit))
            out["regressions"].append(change)
    return start


def _pct_or_inf(old: float, new: float) -> float:
    """change_pct, with a change from 0 infinite: 0 -> 1 allocs/op (a value that
    escaped to the heap) is the largest change there is, not none."""
    pct = change_pct(old, new)
    return pct if pct is not None else math.copysign(math.inf, new)


def beyond_window_spread(after: float, before: float, window_values: list) -> bool:
    """Whether the run's median is farther from the window's pooled median than
    any single window run's median is: the change must exceed the night-to-night
    variation the window itself shows, which the pooled test cannot see (with
    a window of one run, the pooled median is that run's: always true)."""
    return all(abs(after - before) > abs(median(v) - before) for v in window_values)


def _ci(s) -> tuple | None:
    """(lo, hi) of a Summary's interval; None with too few runs for one (±inf)."""
    return (s.lo, s.hi) if s.bounded else None


def moved_away(profiles: list, i: int, window: list) -> float:
    """The fraction of run i's profile total that other functions gave up: the
    sum of the flat shares that shrank against the window's median. Shares
    add up to the total, so when some functions shrink, every other one's
    share grows by the factor 1 / (1 - moved) without its cost changing."""
    now = _shares(profiles[i])
    medians = _window_medians(profiles, window)
    names = sorted(set(now) | set(medians))  # a fixed order: the same sum
    lost = sum(max(0.0, medians.get(n, _NO_SHARE)[0] - now.get(n, _NO_SHARE)[0])
               for n in names)
    return min(lost / 100, 0.99)


def _detect_shares(runs, opts, out, starts: dict, first: int = 0):
    """One regression per run (from run `first` on) and profile kind: the function
    whose cum share grew most beyond what the others' shrinking explains, the
    others as culprits. starts: profile key -> {function: its baseline's first
    run (after a change)}, updated."""
    ids = [r["id"] for r in runs]
    for key, profiles in _profiles_by_key(runs).items():
        present = [j for j, p in enumerate(profiles) if p is not None]
        start = starts.setdefault(key, {})
        for i in present:
            if i < first:
                continue
            window = _window(present, i, opts.baseline)
            if not window:
                continue
            moved = {tuple(window): moved_away(profiles, i, window)}
            moves = share_moves(profiles, i, window, scale=1 / (1 - moved[tuple(window)]))
            tested = len(moves) or 1
            grown, dropped = [], []
            for move in moves:
                name = move[0]
                since = start.get(name, 0)   # the window, unless a change of name's is in it
                own = window if since <= window[0] else _window(present, i, opts.baseline, since)
                if not own:
                    continue
                if tuple(own) not in moved:
                    moved[tuple(own)] = moved_away(profiles, i, own)
                if own != window:    # compare with the runs since its last change only
                    move = share_moves(profiles, i, own, [name], 1 / (1 - moved[tuple(own)]))[0]
                _name, before, after, p = move
                significant = p is None or p < opts.alpha / tested
                if before - after >= opts.share_points and significant:
                    # It fell back (a fix): later windows start here, so a window
                    # never mixes the runs before and after the fall, and the
                    # function coming back is measured against its fixed level.
                    dropped.append(name)
                excess = after - before / (1 - moved[tuple(own)])
                if excess < opts.share_points or _is_root(before, after) or is_runtime(name):
                    continue
                if not significant:
                    continue
                grown.append((not is_program_code(name),
                              *_growth_rank(profiles, i, own, name, excess),
                              name, before, after, p, own))
            for name in dropped:
                start[name] = i
            if not grown:
                continue
            grown.sort()
            for g in grown:
                start[g[3]] = i
            _, _, _, name, before, after, p, own = grown[0]
            prof = profiles[i]
            c = Change(ids[i], "share", share_metric(key, prof["sample_type"], name),
                       f"% of {prof['sample_type']}", before, after, after - before, "points",
                       f"share:{key}:{name}", [ids[j] for j in own], p, (len(own), 1),
                       profile=key, function=name)
            c.culprits = [m for m in culprits(runs, i, opts.baseline, (prof["type"],))
                          if m.function != name][:CULPRITS]
            out["regressions"].append(c)


def share_metric(profile: str, sample_type: str, function: str) -> str:
    """cpu profile, cpu: share of main.F (cum)."""
    return f"{profile} profile, {sample_type}: share of {function} (cum)"


def _detect_goroutines(runs, groups: dict, opts, out, first: int = 0):
    ids = [r["id"] for r in runs]
    span = opts.baseline + 1
    for signature, counts in groups.items():
        for i in range(max(span - 1, first), len(runs)):
            seq = counts[i - span + 1:i + 1]
            if any(c is None for c in seq):
                continue
            # Where the rise that ends here began: a slow leak (+3 a night) reaches
            # min_goroutines over more nights than the window holds.
            rise = i
            while rise > 0 and counts[rise - 1] is not None and counts[rise] > counts[rise - 1]:
                rise -= 1
            if i - rise >= span - 1 and counts[i] - counts[rise] >= opts.min_goroutines:
                before = median([float(c) for c in seq[:-1]])   # the window's, as for the others
                out["regressions"].append(Change(
                    ids[i], "goroutines", f"goroutines: {signature}", "goroutines",
                    before, float(seq[-1]), _pct_or_inf(before, seq[-1]), "%",
                    f"goroutines:{signature}", ids[i - span + 1:i], None, (span - 1, 1),
                    culprits=culprits(runs, i, opts.baseline)))


def analyze_history(runs: list, options: HistoryOptions = HistoryOptions(),
                    earlier: Detection | None = None) -> HistoryResult:
    """Trends and changes over runs in order.

    runs: [{"id": str, "metrics": run_metrics dict}], oldest first.
    Returns series for the charts (benchmarks with each run's median and
    confidence interval; scalars such as profile totals and goroutines),
    share histories of the top functions per profile kind, and the
    regressions, improvements and direction-less changes (see the module
    docstring for the rules), with the Detection a later call can continue.

    earlier: the `detection` of an analysis of the first earlier.runs of these
    runs, with the same options (the caller vouches for both, e.g. by a hash
    of the runs' files): only the runs after them are tested, with the same
    result as testing all. ValueError when it holds more runs than given.
    """
    earlier = earlier or Detection()
    if earlier.runs > len(runs):
        raise ValueError(f"a detection of {earlier.runs} runs continued with {len(runs)}")
    first = earlier.runs
    runs = _with_shares(runs)
    ids = [r["id"] for r in runs]
    out = {k: list(getattr(earlier, k)) for k in _OUTCOMES}
    bench_start = dict(earlier.bench_start)
    share_start = {k: dict(v) for k, v in earlier.share_start.items()}
    series = []
    bench = _bench_series(runs)
    many_pkgs = len({k[0] for k in bench}) > 1
    for key, per_run in bench.items():
        metric = _metric_name(*key, many_pkgs)
        points = []
        for run_id, values in zip(ids, per_run):
            if values:
                s = summarize(values, options.confidence)
                lo, hi = _ci(s) or (None, None)
                points.append(Point(run_id, s.median, lo, hi, s.n))
        series.append(Series(f"bench:{key[0]}:{key[1]}:{key[2]}", "bench", metric, key[2],
                             points))
        bench_start[key] = _detect_bench(runs, key, per_run, metric, options, out,
                                         bench_start.get(key, 0), first)
    series += _scalar_series(runs)
    _detect_shares(runs, options, out, share_start, first)
    groups = _group_counts(runs)
    _detect_goroutines(runs, groups, options, out, first)
    order = {run_id: i for i, run_id in enumerate(ids)}
    for k in out:   # stable: the earlier runs' changes keep their order
        out[k].sort(key=lambda c: (order[c.run], {"bench": 0, "share": 1}.get(c.kind, 2),
                                   -abs(c.change), c.metric))
    detection = Detection(len(runs), bench_start, share_start,
                          *(list(out[k]) for k in _OUTCOMES))
    return HistoryResult(ids, options, series, share_history(runs, out["regressions"]),
                         _group_series(ids, groups), out["regressions"], out["improvements"],
                         out["changes"], detection)


def _scalar_series(runs: list) -> list:
    by_key: dict[str, Series] = {}
    durations: dict[str, set] = {}
    for r in runs:
        for s in r["metrics"]["scalars"]:
            series = by_key.setdefault(s["key"], Series(s["key"], "scalar", s["label"], s["unit"],
                                                        []))
            series.points.append(Point(r["id"], float(s["value"])))
            if s.get("duration_nanos") is not None:
                durations.setdefault(s["key"], set()).add(s["duration_nanos"])
    for key, ds in durations.items():
        lo, hi = min(ds), max(ds)
        if hi and (hi - lo) > 0.05 * hi:
            by_key[key].note = ("the profiles' durations differ by more than 5%: compare "
                                "their shares, not these totals")
    return list(by_key.values())


def _group_counts(runs: list) -> dict:
    """goroutine group signature -> per run: count (None where the run has no dump)."""
    out: dict[str, list] = {}
    for i, r in enumerate(runs):
        g = r["metrics"].get("goroutines")
        if not g:
            continue
        for sig in g["groups"]:
            out.setdefault(sig, [None] * len(runs))
    for i, r in enumerate(runs):
        g = r["metrics"].get("goroutines")
        if g:
            for sig, counts in out.items():
                counts[i] = g["groups"].get(sig, 0)
    return out


def _group_series(ids: list, groups: dict, limit: int = SHARE_HISTORY) -> list:
    """The largest goroutine groups (by their highest count) as series."""
    ranked = sorted(groups.items(), key=lambda kv: (-max(c or 0 for c in kv[1]), kv[0]))
    return [Series(f"goroutines:{sig}", "goroutines", sig, "goroutines",
                   [Point(run_id, float(c)) for run_id, c in zip(ids, counts) if c is not None])
            for sig, counts in ranked[:limit]]


def share_history(runs: list, regressions: list, limit: int = SHARE_HISTORY) -> list:
    """Per profile kind, the functions with the largest cum share in any run
    (roots that hold nearly everything in every run left out), plus every
    function named by a regression."""
    named = {(c.profile, c.function) for c in regressions if c.function}
    named |= {(m.profile, m.function) for c in regressions for m in c.culprits}
    out = []
    for key, profiles in _profiles_by_key(runs).items():
        shares = [_shares(p) if p else None for p in profiles]
        peak: dict[str, float] = {}
        for s in shares:
            for name, (_flat, cum) in (s or {}).items():
                peak[name] = max(peak.get(name, 0.0), cum)
        roots = {n for n in peak
                 if all(s is None or s.get(n, (0, 0))[1] >= _ROOT_SHARE * 100 for s in shares)}
        ranked = sorted((n for n in peak if n not in roots), key=lambda n: (-peak[n], n))
        chosen = ranked[:limit] + sorted(n for (k, n) in named if k == key and n in peak
                                         and n not in ranked[:limit])
        sample_type = next(p["sample_type"] for p in profiles if p)
        for name in chosen:
            out.append(ShareSeries(key, sample_type, name,
                                   [None if s is None else s.get(name, (0.0, 0.0))[1]
                                    for s in shares],
                                   [None if s is None else s.get(name, (0.0, 0.0))[0]
                                    for s in shares],
                                   is_program_code(name)))
    return out


def gate(result: HistoryResult, which: str = "newest") -> list:
    """The regressions that fail a CI job: those of the newest run, or of any run."""
    if which == "any":
        return list(result.regressions)
    return result.of_run(result.newest) if result.newest else []
