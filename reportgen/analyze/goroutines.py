"""Goroutine overview: states, groups of identical stacks, and whose code they run.

A group is goroutines with the same frames (by function), the same state
and the same creator. Groups running the program's own code come first,
standard-library-only groups last; background goroutines every Go program
has (signal loops, accept loops, GC workers ...) are marked so that the leak
analysis never suspects them.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass, field

from reportgen import gocode
from reportgen.errors import UsageError
from reportgen.regex import compile_go
from reportgen.sources.goroutines import Creator, Frame, Record, Snapshot, paused_gc

TIERS = ("own", "lib", "std")  # display order

# Goroutines that are normal in a healthy program (after goleak's defaults),
# matched against any frame's function. Each comes with the reason shown.
BACKGROUND = [
    (r"^os/signal\.(signal_recv|loop|NotifyContext\.func1|Notify\.func1(\.1)?)$",
     "signal handling"),
    (r"^net/http\.\(\*Server\)\.(Serve|ListenAndServe(TLS)?)$", "HTTP accept loop"),
    (r"^testing\.(RunTests|runTests|\(\*M\)\.Run|\(\*T\)\.Run)$", "test runner"),
    (r"^runtime\.ReadTrace$|^runtime/trace\.Start\.func1$", "execution tracer"),
    (r"^runtime/pprof\.(writeGoroutineStacks|writeRuntimeProfile|profileWriter)$", "profiler"),
    (r"lumberjack.*\.\(\*Logger\)\.millRun$", "log rotation"),
    (r"(glog|klog).*\.flushDaemon$", "log flushing"),
    (r"^go\.opencensus\.io/stats/view\.\(\*worker\)\.start$", "metrics worker"),
]
_BACKGROUND = [(re.compile(p), why) for p, why in BACKGROUND]

# From the leaf: the first frame that tells what a goroutine waits on, for
# formats that print no state (debug=1, debug=0).
_STATE_BY_FRAME = [
    ("runtime.chanrecv", "chan receive"), ("runtime.chansend", "chan send"),
    ("runtime.selectgo", "select"), ("runtime.block", "select (no cases)"),
    ("runtime.netpollblock", "IO wait"), ("internal/poll.runtime_pollWait", "IO wait"),
    ("time.Sleep", "sleep"), ("sync.(*WaitGroup).Wait", "sync.WaitGroup.Wait"),
    ("sync.(*Mutex).Lock", "sync.Mutex.Lock"), ("sync.(*RWMutex).RLock", "sync.RWMutex.RLock"),
    ("sync.(*RWMutex).Lock", "sync.RWMutex.Lock"), ("sync.(*Cond).Wait", "sync.Cond.Wait"),
    ("sync.runtime_Semacquire", "semacquire"), ("os/signal.signal_recv", "syscall"),
    ("syscall.", "syscall"), ("internal/runtime/syscall.", "syscall"),
]
RUNNING_STATES = ("running", "runnable", "syscall", "")
_WRAPPER = re.compile(r"\.gowrap\d+$")


def package_of(func: str) -> str:
    """`net/http.(*Client).Do` -> `net/http`; `main.main.func1` -> `main` (gocode's rule)."""
    return gocode.package_of(func)


is_runtime = gocode.is_runtime


@functools.lru_cache(maxsize=1 << 16)
def tier_of(func: str, own: tuple = (), file: str = "") -> str:
    """own (package main, or the program's own source tree), lib (another module),
    std, or runtime.

    `own` says where the main package's files are (own_prefixes). Once it is
    known, any package built from files outside the module cache and vendor
    directories is the program's too: its module's other packages
    (/build/app/internal/x beside /build/app/cmd/app, or example.com/app/internal/x
    under -trimpath, where dependencies carry their @version)."""
    if is_runtime(func):
        return "runtime"
    if func.startswith("0x"):
        return "lib"  # an address the binary could not name: not provably ours
    pkg = package_of(func)
    if pkg == "main":
        return "own"
    std = _is_std(pkg, file)
    if own and (pkg.startswith(own) or (file and not _THIRD_PARTY_FILE.search(file) and (
            file.startswith(own) or not std))):
        return "own"
    return "std" if std else "lib"


def _is_std(pkg: str, file: str) -> bool:
    """A standard-library import path (no dot in its first element), unless its file
    is an absolute path outside any src/ tree (a module named without a dot, built
    from a checkout). Files are checked loosely: runtime code linknamed into other
    packages (internal/poll.runtime_pollWait in runtime/netpoll.go) stays std."""
    if "." in pkg.split("/", 1)[0]:
        return False
    absolute = file.startswith("/") or file[1:3] == ":/"
    return not absolute or "/src/" in file


_THIRD_PARTY_FILE = re.compile(r"/(vendor|pkg/mod)/|@v\d")


def own_prefixes(snapshot: Snapshot) -> tuple:
    """Where the main package lives: its module path when built with -trimpath
    (example.com/app/), else its directory (/home/me/app/, C:/src/app/)."""
    out = set()
    for fr in distinct_frames(snapshot):
        if fr.func.startswith("main.") and "/" in fr.file and package_of(fr.func) == "main" \
                and not _THIRD_PARTY_FILE.search(fr.file):
            out.add(fr.file.rsplit("/", 1)[0] + "/")
    return tuple(sorted(out))


def _all_stacks(snapshot):
    if snapshot.aggregated:
        return (r.frames for r in snapshot.records)
    return (g.frames for g in snapshot.goroutines)


def distinct_frames(snapshot: Snapshot) -> set:
    """Every frame of the snapshot once (stacks share their frame lists and frames)."""
    seen, out = set(), set()
    for frames in _all_stacks(snapshot):
        if id(frames) not in seen:
            seen.add(id(frames))
            out.update(frames)
    return out


def normalize(frames: list) -> list:
    """Drop leading runtime frames (park, chanrecv ...) and runtime.goexit, which
    debug=0 shows and debug=1 and debug=2 hide, so stacks compare across formats.
    A stack of runtime frames only (the runtime's own goroutines, shown in crash
    dumps) is kept whole: there is no program frame to compare by."""
    frames = [f for f in frames if f.func != "runtime.goexit"]
    # `go obj.method(args)` runs through a generated wrapper that tracebacks
    # hide but debug=1, debug=0 and GOTRACEBACK=system show.
    while len(frames) > 1 and _WRAPPER.search(frames[-1].func):
        frames = frames[:-1]
    if all(is_runtime(f.func) for f in frames):
        return frames   # the runtime's own goroutine (an M's g0 in a crash dump): all of it
    i = 0
    while i < len(frames) - 1 and is_runtime(frames[i].func):
        i += 1
    return frames[i:]


def infer_state(frames: list) -> str:
    for fr in frames:
        if state := _state_of(fr.func):
            return state
    return ""


@functools.lru_cache(maxsize=1 << 16)
def _state_of(func: str) -> str:
    return next((state for prefix, state in _STATE_BY_FRAME if func.startswith(prefix)), "")


@dataclass
class Group:
    key: tuple                   # (function names, state, creator function)
    frames: list                 # of Frame, leaf first, from the first goroutine seen
    state: str
    created_by: Creator | None
    count: int = 0
    ids: list = field(default_factory=list)
    max_wait: int = 0            # minutes
    min_wait: int = 0
    leaked: int = 0
    locked: int = 0
    truncated: int = 0
    labels: Counter = field(default_factory=Counter)   # (key, value) -> goroutines
    tier: str = "std"
    user_frame: Frame | None = None  # the code to change: see locate_user_code
    user_via: str = ""               # "stack", "creator" or "ancestry"
    user_tier: str = ""              # "own", or "lib" when the program's code is nowhere
    background: str = ""             # why it is normal, or ""

    @property
    def funcs(self) -> tuple:
        return self.key[0]

    @property
    def headline(self) -> str:
        """The frame that names the group: the program's code nearest the leaf, else
        the function the goroutine started in (readLoop, conn.serve ...)."""
        if self.user_frame and self.user_via == "stack" and self.tier == "own":
            return self.user_frame.func
        names = [f.func for f in self.frames if not is_runtime(f.func)] or [
            f.func for f in self.frames] or ["?"]   # all runtime: where it started
        return names[-1]

    @property
    def signature(self) -> str:
        text = self.headline
        if self.tier == "own" and self.frames and self.frames[0].func != text:
            text += f" → {self.frames[0].func}"  # where the program's code is blocked
        text += f" [{self.state or 'unknown state'}]"
        return text + (f" created by {self.created_by.func}" if self.created_by else "")


def group_goroutines(snapshot: Snapshot, ignore: list = (), own: tuple | None = None) -> list:
    """Groups of one snapshot, unordered; `ignore` adds background regexes.

    Per-stack work (normalize, the key) is done once per distinct frame list:
    the reader shares one list among goroutines with the same stack."""
    own = own_prefixes(snapshot) if own is None else own
    groups: dict[tuple, Group] = {}
    shapes: dict = {}  # id(frame list) -> what shape() says of it
    background = _Background(ignore)

    facts: dict = {}   # Frame -> (is runtime, state it implies, tier, BACKGROUND index, wrapper)

    def fact(fr):
        got = facts[fr] = (is_runtime(fr.func), _state_of(fr.func), tier_of(fr.func, own, fr.file),
                           _background_index(fr.func), bool(_WRAPPER.search(fr.func)))
        return got

    def shape(raw):
        """normalize(raw), its names, tiers, BACKGROUND index and whether it is all
        runtime, and (for formats without states) the state its frames imply."""
        key = id(raw)
        got = shapes.get(key)
        if got is None:
            get = facts.get
            fs = [get(fr) or fact(fr) for fr in raw]
            # As normalize(): runtime.goexit (only ever the outermost frame), then
            # wrappers of `go obj.method()`, then leading runtime frames.
            j = len(raw)
            while j and raw[j - 1].func == "runtime.goexit":
                j -= 1
            while j > 1 and fs[j - 1][4]:
                j -= 1
            i = 0
            if not all(f[0] for f in fs[:j]):   # as normalize(): all runtime is kept whole
                while i < j - 1 and fs[i][0]:
                    i += 1
            frames, kept = raw[i:j], fs[i:j]
            state = next((f[1] for f in fs if f[1]), "") if snapshot.aggregated else ""
            hits = [f[3] for f in kept if f[3] is not None]
            got = shapes[key] = (frames, tuple([f.func for f in frames]), state,
                                     [f[2] for f in kept], min(hits) if hits else None,
                                     bool(kept) and all(f[0] for f in kept))
        return got

    def new_group(key, frames, state, creator, g, tiers, bg, all_runtime):
        grp = groups[key] = Group(key, frames, state, creator, min_wait=1 << 30)
        present = set(tiers)
        if creator:
            present.add(tier_of(creator.func, own, creator.file))
        grp.tier = next((t for t in TIERS if t in present), "std")
        grp.user_frame, grp.user_via, grp.user_tier = locate_user_code(frames, creator, g, own,
                                                                       tiers)
        grp.background = background.reason(grp, bg, all_runtime)
        return grp

    with paused_gc():
        if snapshot.aggregated:
            for r in snapshot.records:
                frames, funcs, state, *facts_of = shape(r.frames)
                key = (funcs, state, "")
                grp = groups.get(key) or new_group(key, frames, state, None, None, *facts_of)
                grp.count += r.count
                for kv in r.labels.items():
                    grp.labels[kv] += r.count
        else:
            for g in snapshot.goroutines:
                frames, funcs, _, *facts_of = shape(g.frames)
                creator = g.created_by
                key = (funcs, g.state, creator.func if creator else "")
                grp = groups.get(key) or new_group(key, frames, g.state, creator, g, *facts_of)
                grp.count += 1
                if g.labels:
                    for kv in g.labels.items():
                        grp.labels[kv] += 1
                if len(grp.ids) < 20:
                    grp.ids.append(g.id)
                wait = g.wait_minutes
                if wait > grp.max_wait:
                    grp.max_wait = wait
                if wait < grp.min_wait:
                    grp.min_wait = wait
                if g.leaked or g.locked or g.truncated:
                    grp.leaked += g.leaked
                    grp.locked += g.locked
                    grp.truncated += g.truncated
    for grp in groups.values():
        grp.min_wait = min(grp.min_wait, grp.max_wait)
    return list(groups.values())


def locate_user_code(frames, creator, goroutine, own, tiers=None) -> tuple:
    """The frame the reader must change: the program's own code nearest the leaf,
    else its creator, else what GODEBUG=tracebackancestors recorded; another
    module's code only when the program's own is nowhere. `tiers`: the frames'
    tier_of, when the caller has them."""
    if tiers is None:
        tiers = [tier_of(fr.func, own, fr.file) for fr in frames]
    creator_tier = tier_of(creator.func, own, creator.file) if creator else ""
    for want in ("own", "lib"):
        if want in tiers:
            return frames[tiers.index(want)], "stack", want
        if creator_tier == want:
            return Frame(creator.func, creator.file, creator.line), "creator", want
        for anc in getattr(goroutine, "ancestors", None) or ():
            for fr in anc.frames:
                if tier_of(fr.func, own, fr.file) == want:
                    return fr, "ancestry", want
    return None, "", ""


def background_reason(group: Group, ignore=()) -> str:
    return _Background(ignore).reason(group)


class _Background:
    """Why a group is normal in a healthy program (BACKGROUND, then the `ignore`
    regexes), memoised per function name."""

    def __init__(self, ignore=()):
        self.ignore = [(rx, _ignore_rx(rx)) for rx in ignore]   # Go (RE2) syntax
        self.ignored: dict = {}

    def reason(self, group: Group, index=-1, all_runtime=None) -> str:
        """`index` (the first BACKGROUND pattern a function matches) and `all_runtime`,
        when the caller knows them."""
        if index == -1:
            hits = [i for f in group.funcs if (i := _background_index(f)) is not None]
            index = min(hits) if hits else None
        if index is not None:
            return BACKGROUND[index][1]
        funcs = list(group.funcs) + ([group.created_by.func] if group.created_by else [])
        for rx, compiled in self.ignore:
            if any(self._ignored(rx, compiled, f) for f in funcs):
                return f"ignored ({rx})"
        if all_runtime is None:
            all_runtime = bool(group.funcs) and all(is_runtime(f) for f in group.funcs)
        if all_runtime:
            return "runtime worker"
        if group.funcs == ("main.main",):
            return "the main goroutine"
        return ""

    def _ignored(self, rx, compiled, func) -> bool:
        key = (rx, func)
        hit = self.ignored.get(key)
        if hit is None:
            hit = self.ignored[key] = bool(compiled.search(func))
        return hit


@functools.lru_cache(maxsize=1 << 16)
def _background_index(func: str):
    return next((i for i, (rx, _) in enumerate(_BACKGROUND) if rx.search(func)), None)


@functools.lru_cache(maxsize=64)
def _ignore_rx(pattern: str):
    """A user's `ignore` pattern, in Go's syntax (see reportgen.regex)."""
    return compile_go(pattern, "ignore", path="--ignore")


def order_groups(groups: list) -> list:
    """Own code first, standard library last; larger groups first within a tier."""
    return sorted(groups, key=lambda g: (bool(g.background), TIERS.index(g.tier), -g.count,
                                         g.signature))


@dataclass
class Overview:
    path: str
    format: str
    kind: str
    total: int
    states: list        # (state, goroutines), most first
    groups: list        # ordered
    waits: list         # groups with the longest waits, longest first
    labels: list        # ((key, value), goroutines), most first
    warnings: list
    message: str = ""


def overview(snapshot: Snapshot, ignore=()) -> Overview:
    groups = order_groups(group_goroutines(snapshot, ignore))
    states, labels = Counter(), Counter()
    for g in groups:
        states[g.state or "unknown"] += g.count
        labels.update(g.labels)
    waits = sorted((g for g in groups if g.max_wait), key=lambda g: (-g.max_wait, -g.count))[:8]
    total = snapshot.total or sum(g.count for g in groups)
    return Overview(snapshot.path, snapshot.format, snapshot.kind, total,
                    sorted(states.items(), key=lambda kv: (-kv[1], kv[0])), groups, waits,
                    labels.most_common(12), list(snapshot.warnings), snapshot.message)


GOROUTINE_KINDS = ("goroutine", "goroutineleak", "threadcreate")


def snapshot_from_profile(profile) -> Snapshot:
    """A debug=0 (pprof) goroutine profile as aggregated records."""
    kind = profile.sample_types[0].type if len(profile.sample_types) == 1 else ""
    if kind not in GOROUTINE_KINDS:
        raise UsageError(profile.path, f"not a goroutine dump (a {profile.profile_type} profile)")
    snap = Snapshot(profile.path, "debug=0", kind, time_nanos=profile.time_nanos)
    for i in range(profile.num_samples):
        frames = []
        for li in profile.stack(i):
            loc = profile.locations[li]
            for ln in loc.lines or (None,):  # innermost (inlined) first
                fn = profile.functions[ln.function] if ln and ln.function >= 0 else None
                frames.append(Frame(fn.name, fn.filename, ln.line) if fn
                              else Frame(hex(loc.address), "", 0))
        labels = {lb.key: lb.str or str(lb.num) for lb in profile.label_sets[profile.label_set[i]]}
        snap.records.append(Record(int(profile.values[i, 0]), frames, labels))
    snap.total = sum(r.count for r in snap.records)
    return snap


def as_snapshot(profile) -> Snapshot:
    """The Snapshot of a text dump's profile, of a goroutine profile, or itself."""
    if isinstance(profile, Snapshot):
        return profile
    snap = getattr(profile, "snapshot", None)
    return snap if snap is not None else snapshot_from_profile(profile)


@dataclass
class GoroutinesAnalysis:
    profile: str
    overview: Overview


def run_goroutines(options: dict, profiles: dict, defaults: dict) -> GoroutinesAnalysis:
    name = options["profile"]
    snap = as_snapshot(profiles[name])
    return GoroutinesAnalysis(name, overview(snap, ignore_list(options.get("ignore"))))


def ignore_list(value) -> list:
    """The manifest's `ignore`: one regex, or a list of them."""
    if not value:
        return []
    return [value] if isinstance(value, str) else list(value)
