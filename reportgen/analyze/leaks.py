"""Leak suspects: goroutine groups that grow, pile up or can never wake.

Every group of the last snapshot earns points for each piece of evidence
(growth across the series, goroutines the runtime marked leaked, blocks that
can never end, more parked at one place than a healthy program has, long
waits, a known signature, the program's own code); the score is their sum,
capped at 100. Instances, waits, signatures and ownership are weighed
together: a known signature with no more instances than a healthy program
has (one gRPC ClientConn) scores nothing. Groups at or above THRESHOLD are
suspects; the evidence is kept as sentences so the reader can check it.
Background goroutines (analyze.goroutines.BACKGROUND) are never scored.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field

import numpy as np

from reportgen.analyze.goroutines import (Group, as_snapshot, group_goroutines, ignore_list,
                                          own_prefixes, package_of, tier_of)
from reportgen.analyze.graph import Part
from reportgen.analyze.top import top
from reportgen.errors import UsageError
from reportgen.sources.goroutines import Frame, Snapshot
from reportgen.units import plural

THRESHOLD = 30   # a suspect from here up
WATCH = 10       # worth a look from here up
HEALTHY = 5      # identical goroutines a healthy program may park at one place (a pool)
NEVER_WAKE = ("chan receive (nil chan)", "chan send (nil chan)", "select (no cases)")


@dataclass(frozen=True)
class Known:
    id: str
    title: str
    cause: str
    fix: str
    weight: int  # causes weigh more than symptoms
    healthy: int  # goroutines of each of its groups a healthy program has


KNOWN = {k.id: k for k in (
    Known("grpc-clientconn-per-call", "a grpc.ClientConn per call, never closed",
          "each grpc.Dial/NewClient keeps a balancer watcher, a loopy writer and a reader "
          "running until Close", "dial once and share the ClientConn (or a fixed-size pool); "
          "Close every one you create", 25, 4),
    Known("http-transport-per-call", "an http.Transport per request, or bodies not closed",
          "every Transport keeps its keep-alive connections, each with a readLoop and a "
          "writeLoop goroutine", "share one http.Client; close resp.Body; call "
          "CloseIdleConnections on a Transport you drop", 20, 8),
    Known("goroutine-per-alert", "a goroutine per log line or alert",
          "a `go` statement per message spawns without bound while the receiver is slow",
          "send through a bounded queue drained by a fixed number of workers; drop or batch "
          "when it is full; give the client a timeout", 25, 2),
    Known("timer-waiter-per-item", "a goroutine per item waiting on a timer or channel",
          "per-item goroutines that only wait (like `<-time.After(d)`) outlive the work",
          "use one expiry goroutine or time.AfterFunc, and stop waiting on ctx.Done()", 20, 2),
    Known("idle-server-connections", "server connections held open by idle clients",
          "keep-alive connections that clients never reuse or close (often a Transport per "
          "call in the client)", "set Server.IdleTimeout and ReadTimeout; fix the client", 5, 16),
)}

_FEWEST_HEALTHY = min(HEALTHY, *(k.healthy for k in KNOWN.values()))

_GRPC = re.compile(r"grpc.*\.\(\*(ccBalancerWrapper|ccResolverWrapper|addrConn|loopyWriter|"
                   r"http2Client|CallbackSerializer)\)\.")
_PERSIST = re.compile(r"^net/http\.\(\*persistConn\)\.(readLoop|writeLoop)$|"
                      r"http2.*\(\*(http2)?ClientConn\)\.readLoop$")
_NETWORK = re.compile(r"^net/http\.\(\*(Client|Transport)\)\.|^net\.\(\*Dialer\)\.|grpc\.")
_ALERT_WORDS = {"log", "logger", "logf", "alert", "alerts", "notify", "notifier", "notification",
                "webhook", "slack", "chat", "pager", "errorf", "warnf", "warningf", "infof",
                "debugf"}
_CLOSURE = re.compile(r"\.(func|gowrap)\d+(\.\d+)*$")

_BY_STATE = {  # (cause, fix) when no signature is known
    "chan send": ("senders nobody receives from: the receiver gave up (a timeout, a return)",
                  "give the channel a buffer of 1, or select on ctx.Done() when sending"),
    "chan receive": ("receivers waiting for a value or a close that never comes",
                     "close the channel when the producer is done, or select on ctx.Done()"),
    "select": ("waiting in a select none of whose cases will fire",
               "add a ctx.Done() case, and make sure every loop has a way out"),
    "IO wait": ("network reads on connections nobody closes", "close connections and set "
                                                              "deadlines or timeouts"),
    "sleep": ("sleeping loops started per item", "stop them with a context or a ticker you "
                                                  "stop"),
}
_LOCKED = ("a lock, WaitGroup or condition that is never released",
           "check that every path unlocks, calls Done or signals")
_LEAKED = ("blocked forever: the runtime proved no other goroutine can reach what they wait on",
           "let the goroutine finish when its partner leaves: a buffer of 1 or a ctx.Done() case")
_NEVER = ("blocked forever on a nil channel or an empty select",
          "make the channel before use, or return instead of blocking")


def known_signature(group: Group, own=()) -> Known | None:
    funcs = group.funcs
    creator = group.created_by
    traits = [_traits(f) for f in funcs]
    if any(t[0] for t in traits):
        return KNOWN["grpc-clientconn-per-call"]
    if any(t[1] for t in traits):
        return KNOWN["http-transport-per-call"]
    if any(t[2] for t in traits) and any(
            _traits(f.func)[3] for f in (*group.frames, creator)
            if f and tier_of(f.func, own, f.file) == "own"):
        return KNOWN["goroutine-per-alert"]
    if group.state in ("chan receive", "select") and funcs and len(funcs) <= 2 \
            and _CLOSURE.search(funcs[0]) and group.tier == "own":
        return KNOWN["timer-waiter-per-item"]
    if "net/http.(*conn).serve" in funcs and group.state in ("IO wait", ""):
        return KNOWN["idle-server-connections"]
    return None


@functools.lru_cache(maxsize=1 << 16)
def _traits(func: str) -> tuple:
    """(gRPC transport, http.Transport connection, network call, alert words) of a name."""
    return (bool(_GRPC.search(func)), bool(_PERSIST.search(func)), bool(_NETWORK.search(func)),
            bool(_words(func) & _ALERT_WORDS))


def _words(func: str) -> set:
    """Lower-case words of a function's own name: `(*alertLogger).Errorf` -> alert,
    logger, errorf."""
    name = func[len(package_of(func)):]
    return {w.lower() for w in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+", name)}


@dataclass
class Suspect:
    group: Group             # as in the last snapshot
    counts: list             # one per snapshot
    score: int
    evidence: list
    known: Known | None
    cause: str
    fix: str
    growth: int = 0
    per_snapshot: float = 0.0
    share: float = 0.0       # of all goroutine growth
    rising: int = 0          # steps in which it grew
    steps: int = 0
    companions: list = field(default_factory=list)
    rank: int = 0
    points: float = 0.0      # the score before the cap: orders suspects that both reach 100

    @property
    def hint(self) -> str:
        return f"{self.cause[:1].upper()}{self.cause[1:]}. Fix: {self.fix}."

    def as_dict(self) -> dict:
        g = self.group
        uf = g.user_frame
        return {
            "rank": self.rank, "score": self.score, "signature": g.signature,
            "headline": g.headline,
            "known": self.known.id if self.known else None,
            "title": self.known.title if self.known else None,
            "frames": [f.func for f in g.frames],
            "stack": [{"func": f.func, "file": f.file, "line": f.line} for f in g.frames],
            "created_by": g.created_by.func if g.created_by else None,
            "created_at": f"{g.created_by.file}:{g.created_by.line}" if g.created_by else None,
            "user_code": {"func": uf.func, "file": uf.file, "line": uf.line,
                          "via": g.user_via, "tier": g.user_tier} if uf else None,
            "counts": self.counts, "state": g.state, "hint": self.hint, "cause": self.cause,
            "fix": self.fix, "evidence": self.evidence, "growth": self.growth,
            "growth_per_snapshot": round(self.per_snapshot, 2), "share_of_growth":
                round(self.share, 3), "rising_steps": self.rising, "steps": self.steps,
            "max_wait_minutes": g.max_wait, "leaked": g.leaked, "companions": self.companions,
            "labels": sorted([k, v, n] for (k, v), n in g.labels.items()),
        }


@dataclass
class HeapSite:
    func: str
    values: list             # inuse_space per heap profile
    growth: int
    share: float
    rising: int
    steps: int
    caller: object = None    # Frame nearest the site in the program's code, else the
    caller_tier: str = ""    # first caller outside the runtime ("own", "lib" or "std")


@dataclass
class LeakReport:
    names: list              # snapshot names, in time order
    formats: list
    totals: list
    suspects: list
    watch: list
    background: int          # goroutines in background groups, last snapshot
    states: list             # {state: goroutines} per snapshot
    series: list             # (Suspect, counts) to chart
    heap_names: list = field(default_factory=list)
    heap_totals: list = field(default_factory=list)
    heap_sites: list = field(default_factory=list)
    warnings: list = field(default_factory=list)   # (snapshot name, text)
    threshold: int = THRESHOLD

    def as_dict(self) -> dict:
        return {
            "kind": "leaks", "snapshots": self.names, "formats": self.formats,
            "totals": self.totals, "threshold": self.threshold,
            "suspects": [s.as_dict() for s in self.suspects],
            "watch": [s.as_dict() for s in self.watch],
            "background_goroutines": self.background, "states": self.states,
            "heap": {"profiles": self.heap_names, "totals": self.heap_totals, "sites": [
                {"function": h.func, "inuse_space": h.values, "growth": h.growth,
                 "share_of_growth": round(h.share, 3), "rising_steps": h.rising,
                 "steps": h.steps, "caller": h.caller.func if h.caller else None,
                 "caller_tier": h.caller_tier}
                for h in self.heap_sites]},
            "warnings": [{"snapshot": n, "text": t} for n, t in self.warnings],
        }


def find_leaks(snapshots: list, names: list, ignore=(), heaps=(), heap_names=()) -> LeakReport:
    """Rank leak suspects over snapshots given in time order (one is enough)."""
    coarse = any(s.aggregated for s in snapshots)
    own = tuple(sorted({p for s in snapshots for p in own_prefixes(s)}))
    per_snap = []
    for snap in snapshots:
        by_key: dict = {}
        for g in group_goroutines(snap, ignore, own):
            by_key.setdefault((g.funcs,) if coarse else g.key, []).append(g)
        per_snap.append(by_key)
    last = per_snap[-1]
    keys = list(dict.fromkeys(k for snap in per_snap for k in snap))
    counts = {k: [sum(g.count for g in snap.get(k, ())) for snap in per_snap] for k in keys}
    live = [k for k in last if not last[k][0].background]
    pos_growth = sum(max(0, counts[k][-1] - counts[k][0]) for k in live) or 1
    # Only these can earn a point (see _score): skip the rest of 10^4 one-off stacks.
    scored = [_score(_merged(last[k]), counts[k], pos_growth, own) for k in live
              if counts[k][-1] > _FEWEST_HEALTHY or counts[k][-1] > counts[k][0]
              or any(g.leaked or g.state in NEVER_WAKE for g in last[k])]
    scored.sort(key=lambda s: (-s.score, -s.points, -s.counts[-1], s.group.signature))
    _companions(scored)
    suspects = [s for s in scored if s.score >= THRESHOLD]
    watch = [s for s in scored if WATCH <= s.score < THRESHOLD]
    for i, s in enumerate(suspects + watch, start=1):
        s.rank = i
    states = []
    for snap in per_snap:
        st: dict = {}
        for groups in snap.values():
            for g in groups:
                st[g.state or "unknown"] = st.get(g.state or "unknown", 0) + g.count
        states.append(dict(sorted(st.items(), key=lambda kv: (-kv[1], kv[0]))))
    report = LeakReport(
        list(names), [s.format for s in snapshots],
        [s.total or sum(r.count for r in s.records) for s in snapshots], suspects, watch,
        sum(g.count for groups in last.values() for g in groups if g.background), states,
        [(s, s.counts) for s in (suspects + watch)[:8]],
        warnings=[(n, w) for n, s in zip(names, snapshots) for w in s.warnings])
    if heaps:
        report.heap_names = list(heap_names)
        report.heap_totals, report.heap_sites = heap_growth(list(heaps), own)
    return report


def _merged(groups: list) -> Group:
    """Groups that fall under one key when formats are mixed, as one."""
    if len(groups) == 1:
        return groups[0]
    first = max(groups, key=lambda g: g.count)
    merged = Group(first.key, first.frames, first.state, first.created_by, tier=first.tier,
                   user_frame=first.user_frame, user_via=first.user_via,
                   user_tier=first.user_tier, background=first.background)
    for g in groups:
        merged.count += g.count
        merged.leaked += g.leaked
        merged.max_wait = max(merged.max_wait, g.max_wait)
        merged.labels.update(g.labels)
    return merged


def _score(g: Group, counts: list, pos_growth: int, own) -> Suspect:
    """Points for each piece of evidence, summed (see the module's docstring).

    Instances count only beyond what a healthy program has (HEALTHY identical
    goroutines at one place, or the known signature's own number: one gRPC
    ClientConn is three healthy goroutines), on a log scale that saturates at
    64 beyond; wait time and the program's ownership count in proportion."""
    points, evidence = 0.0, []

    def add(p, text):
        nonlocal points
        points += p
        evidence.append(text)

    last, steps = counts[-1], len(counts) - 1
    growth = last - counts[0]
    diffs = [b - a for a, b in zip(counts, counts[1:])]
    rising, falling = sum(d > 0 for d in diffs), sum(d < 0 for d in diffs)
    rate = growth / steps if steps else 0.0
    share = max(0, growth) / pos_growth
    known = known_signature(g, own)
    healthy = known.healthy if known else HEALTHY
    excess = max(0, last - healthy)
    many = _saturating(excess)
    if steps and growth > 0:
        trend = max(0.0, (rising - falling) / steps)
        add(45 * min(1.0, rate / 4) * trend,
            f"grew {counts[0]} → {last} ({rate:+.1f} per snapshot, rising in {rising} of "
            f"{plural(steps, 'step')})")
        add(15 * share * min(1.0, rate / 4), f"{share:.0%} of all goroutine growth")
    if g.leaked:
        add(45, f"{g.leaked} marked (leaked) by the runtime: no other goroutine can wake them")
    if g.state in NEVER_WAKE and g.funcs != ("main.main",):
        add(40, f"blocked in {g.state}, which never ends")
    if g.state not in ("running", "runnable") and excess:
        add(25 * many, f"{last} goroutines parked at the same place"
                       f"{' (' + g.state + ')' if g.state else ''}, {excess} more than the "
                       f"{healthy} a healthy program has")
    if g.max_wait and excess:
        add(15 * min(1.0, g.max_wait / 5) * many,
            f"waiting for up to {g.max_wait} minute{'s' if g.max_wait > 1 else ''}")
    if known and (excess or growth >= 2):
        add(known.weight * max(many, min(1.0, growth / 10)),
            f"known signature: {known.title}")
    if g.tier == "own" and (excess or growth > 0) and points:
        add(10 * max(many, min(1.0, max(0, growth) / 10)),
            "in the program's own code, where the fix is")
    if g.leaked:
        cause, fix = _LEAKED
    elif g.state in NEVER_WAKE:
        cause, fix = _NEVER
    elif known:
        cause, fix = known.cause, known.fix
    else:
        cause, fix = _BY_STATE.get(g.state, _LOCKED if g.state.startswith(("sync.", "sema"))
                                   else ("goroutines stuck at the same place",
                                         "make sure each one has a way to finish"))
    return Suspect(g, counts, min(100, round(points)), evidence, known, cause, fix, growth,
                   rate, share, rising, steps, points=points)


def _saturating(excess: int) -> float:
    """0 for none, ~0.6 for 10, 1 from 64 beyond healthy: the tenth goroutine too many
    says more than the thousandth."""
    return min(1.0, math.log2(1 + excess) / 6.0)


def _companions(scored: list):
    """Groups of one known signature grow together; say so on each."""
    by_known: dict = {}
    for s in scored:
        if s.known and s.score >= WATCH:
            by_known.setdefault(s.known.id, []).append(s)
    for same in by_known.values():
        for s in same:
            s.companions = [o.group.signature for o in same if o is not s]


def heap_growth(heaps: list, own=()) -> tuple[list, list]:
    """inuse_space totals, and allocation sites (by function, flat) that keep growing."""
    flats, totals = [], []
    for p in heaps:
        r = top([Part(p, p.sample_index("inuse_space"))], "functions", node_fraction=0.0)
        flats.append({row.name: row.flat for row in r.rows})
        totals.append(r.total)
    steps = len(heaps) - 1
    if steps < 1 or totals[-1] <= totals[0] * 1.1:
        return totals, []  # the heap did not grow: no site "keeps growing"
    rows = []
    for func in set().union(*flats):
        v = [f.get(func, 0) for f in flats]
        diffs = [b - a for a, b in zip(v, v[1:])]
        if v[-1] > v[0]:
            rows.append((func, v, v[-1] - v[0], sum(d > 0 for d in diffs),
                         sum(d < 0 for d in diffs)))
    grown = sum(r[2] for r in rows) or 1
    sites = [HeapSite(func, v, g, g / grown, up, steps)
             for func, v, g, up, down in sorted(rows, key=lambda r: (-r[2], r[0]))
             if (up - down) / steps >= 0.5 and g / grown >= 0.05 and g >= 0.02 * totals[-1]][:10]
    for site in sites:
        site.caller, site.caller_tier = _allocating_code(heaps[-1], site.func, own)
    return totals, sites


def _allocating_code(profile, func: str, own) -> tuple:
    """The frame that allocates at `func`, weighted by bytes in use: the program's own
    code nearest the leaf, else another module's, else the first standard-library
    caller (which at least says who asked: net/http for bufio, say)."""
    index = profile.sample_index("inuse_space")
    names = [fn.name for fn in profile.functions]
    leaf_func = np.array([loc.lines[0].function if loc.lines else -1
                          for loc in profile.locations] + [-1], dtype=np.int64)
    offsets = profile.stack_offsets
    nonempty = offsets[1:] > offsets[:-1]
    leaves = np.full(profile.num_samples, len(profile.locations))
    leaves[nonempty] = profile.stack_locations[offsets[:-1][nonempty]]
    wanted = [i for i, n in enumerate(names) if n == func]
    hits = np.flatnonzero(np.isin(leaf_func[leaves], wanted) & (profile.values[:, index] != 0))
    weight: dict = {}
    for i in hits[:2000]:
        frames = [(names[ln.function], profile.functions[ln.function].filename, ln.line)
                  for loc in profile.stack(i) for ln in profile.locations[loc].lines
                  if ln.function >= 0]
        for want in ("own", "lib", "std"):
            hit = next((Frame(*f) for f in frames if package_of(f[0]) != package_of(func)
                        and tier_of(f[0], own, f[1]) == want), None)
            if hit:
                key = (hit, want)
                weight[key] = weight.get(key, 0) + int(profile.values[i, index])
                break
    if not weight:
        return None, "runtime" if len(hits) else ""
    rank = {"own": 0, "lib": 1, "std": 2}
    return min(weight, key=lambda k: (rank[k[1]], -weight[k], k[0]))


def pick_series(named: dict) -> tuple[list, list, list]:
    """From profiles (or dump Snapshots) by name, in order: goroutine snapshots, heap
    profiles, notes.

    Goroutine dumps come first, goroutineleak profiles only when there is no
    goroutine dump. When one capture holds a series in several formats, the
    richest is used: debug=2 text over debug=1 over debug=0.
    """
    found: dict = {}  # kind -> format -> names
    heaps, notes = [], []
    for name, p in named.items():
        snap = p if isinstance(p, Snapshot) else getattr(p, "snapshot", None)
        kind = snap.kind if snap is not None else p.profile_type
        if kind in ("goroutine", "goroutineleak"):
            fmt = snap.format if snap is not None else "debug=0"
            found.setdefault(kind, {}).setdefault(fmt, []).append(name)
        elif kind == "heap":
            heaps.append(name)
    by_format = found.get("goroutine") or found.get("goroutineleak") or {}
    chosen = next((f for f in ("debug=2", "debug=1", "debug=0") if f in by_format), None)
    for f, names in by_format.items():
        if f != chosen:
            notes.append(f"left out {len(names)} {f} dump(s): the {chosen} ones cover the "
                         f"same series with more detail")
    return by_format.get(chosen, []), heaps, notes


@dataclass
class LeaksAnalysis:
    report: LeakReport
    notes: list


def run_leaks(options: dict, profiles: dict, defaults: dict) -> LeaksAnalysis:
    snaps, heaps, notes = pick_series(profiles)
    snaps = options.get("snapshots") or snaps
    heaps = options.get("heap") or heaps
    if not snaps:
        raise UsageError("leaks", "no goroutine dump to analyse (give snapshots)")
    for name in heaps:
        if profiles[name].profile_type != "heap":
            raise UsageError(name, f"not a heap profile (a {profiles[name].profile_type} one)")
    report = find_leaks([as_snapshot(profiles[n]) for n in snaps], snaps,
                        ignore_list(options.get("ignore")), [profiles[n] for n in heaps], heaps)
    return LeaksAnalysis(report, notes if not options.get("snapshots") else [])

