"""The answer: the one sentence that names where a profile's value is spent.

Every card and page opens with it. The rules, by kind of profile:

- CPU, heap, allocs ...: follow the hot path by cum from the roots into the
  program's own code, skipping entry frames (runtime.main, main.main,
  goroutine wrappers, net/http's handler plumbing, which hold everything
  and say nothing), down to the program function under which the value is
  spent; then name what it calls: "main.parse holds 95% of CPU (950 ms);
  inside it strings.genSplit 95%".
- mutex and block profiles: the program function nearest the leaf of each
  stack, i.e. the caller of Lock/Unlock/Wait/chan operations, which holds
  or waits for the lock, never the runtime primitive itself.
- goroutine profiles and dumps: the largest group by its program frame and
  state (analyze.goroutines groups them).
- where the program's own code holds (almost) nothing, what the runtime or
  libraries are doing, in plain words (garbage collection, system calls,
  scheduling ...).

Pure: profiles in, an `Answer` out. Numbers are the graph's flat and cum
(pprof's), shares are of the report total.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from reportgen import units
from reportgen.analyze.frames import stack_frames
from reportgen.analyze.graph import Graph, Part, build_graph, sample_values
from reportgen.gocode import is_program_code

# Entry frames: they hold (nearly) everything and are not where a value is spent.
ENTRY = re.compile(
    r"^(runtime\.main|runtime\.goexit|main\.main|main\.init(\.\d+)*|runtime\.doInit1?"
    r"|.*\.gowrap\d+|sync\.\(\*WaitGroup\)\.Go\.func\d+|testing\.tRunner|testing\.\(\*[BT]\)\."
    r"(run1?|runN|launch|doBench)(\.func\d+)*"
    r"|net/http\.(\(\*conn\)\.serve|serverHandler\.ServeHTTP|\(\*ServeMux\)\.ServeHTTP"
    r"|HandlerFunc\.ServeHTTP|\(\*Server\)\.Serve|\(\*Server\)\.ListenAndServe))$")
# Where waiting happens, never the answer: the runtime, sync and internal packages.
PRIMITIVES = ("runtime.", "internal/", "sync.", "sync/")
_THIRD_PARTY_FILE = re.compile(r"/(vendor|pkg/mod)/")

DESCEND = 0.8     # a program callee with this share of its caller's cum is the place
INSIDE_MIN = 0.05  # callees named "inside it": at least this share of the subject
LITTLE = 0.10     # below this share, the program's own code "holds little"

# What the runtime is doing (CPU profiles), in words, by a frame anywhere on the
# stack; the first category that matches a sample takes it.
RUNTIME_WORK = (
    ("garbage collection", re.compile(
        r"^runtime\.(gcBgMarkWorker|gcAssistAlloc|gcDrain\w*|bgsweep|bgscavenge|markroot\w*"
        r"|scanobject|gcStart|GC|gcMarkDone|gcMarkTermination|runfinq|sweepone|scanstack)$")),
    ("scheduling", re.compile(
        r"^runtime\.(schedule|findRunnable|findrunnable|mcall|park_m|goschedImpl|gosched_m"
        r"|sysmon|stopm|startm|wakep|notesleep|futexsleep|mPark|stealWork|checkTimers)$")),
    ("system calls", re.compile(
        r"^(syscall\.|internal/runtime/syscall\.|runtime/internal/syscall\.|"
        r"internal/poll\.ignoringEINTR|runtime\.(read|write1?|futex|usleep|nanotime1|walltime|"
        r"epollwait|netpoll))")),
    ("memory allocation", re.compile(
        r"^runtime\.(mallocgc\w*|newobject|newarray|growslice|makeslice\w*|makemap\w*"
        r"|mapassign\w*|rawstring\w*|concatstring\w*|slicebytetostring\w*|convT\w*)$")),
)


@dataclass
class Answer:
    """The sentence and what it names.

    `functions` lists the function names the sentence names, subject first;
    `kind` is "program" (the hot path), "lock" (mutex/block), "goroutines",
    "runtime" (the program holds little) or "empty".
    """
    text: str
    kind: str
    subject: str | None = None
    value: int = 0
    total: int = 0
    unit: str = ""
    functions: list = field(default_factory=list)
    inside: list = field(default_factory=list)   # (name, value) under the subject
    work: list = field(default_factory=list)     # (words, value): what the runtime does

    def as_dict(self) -> dict:
        return {"text": self.text, "kind": self.kind, "subject": self.subject,
                "value": self.value, "total": self.total, "unit": self.unit,
                "functions": list(self.functions),
                "inside": [{"name": n, "value": v} for n, v in self.inside],
                "work": [{"what": w, "value": v} for w, v in self.work]}


def is_own_code(name: str, file: str = "") -> bool:
    """The program's own code: package main or its module, not vendored or
    module-cache code (gocode.is_program_code, minus third-party files)."""
    return is_program_code(name, file) and not _THIRD_PARTY_FILE.search(file or "")


def is_entry(name: str) -> bool:
    return bool(ENTRY.match(name))


def measure(profile, sample_index: int) -> str:
    """What a sample type measures, in words: "CPU", "allocated bytes" ..."""
    st = profile.sample_types[sample_index]
    kind = profile.profile_type
    lock = "lock" if kind == "mutex" else "blocking"
    return {
        "cpu": "CPU", "samples": "CPU samples" if kind == "cpu" else "samples",
        "alloc_space": "allocated bytes", "alloc_objects": "allocations",
        "inuse_space": "heap in use", "inuse_objects": "live heap objects",
        "contentions": f"{lock} events", "delay": f"{lock} wait" if kind == "mutex"
        else "blocked time", "goroutine": "goroutines", "goroutineleak": "leaked goroutines",
        "threadcreate": "threads created",
    }.get(st.type, st.type)


def share(value: int, total: int) -> str:
    return units.human_percent(value, total)


def _candidates(graph: Graph) -> np.ndarray:
    """Per node: the program's own code and not an entry frame."""
    return np.array([bool(k.name) and is_own_code(k.name, k.file) and not is_entry(k.name)
                     for k in graph.keys], dtype=bool)


def hot_path(graph: Graph) -> tuple[int | None, list]:
    """(subject node, [(callee node, edge value)]): the program function under
    which the value is spent, and its callees heaviest first.

    Starts at the program function with the most cum; while one of its
    program callees takes DESCEND of its cum, moves into it. Remembered on
    the graph (graphs of one profile are cached), so top and the answer
    share one walk.
    """
    memo = graph.memo.get("hot_path")
    if memo is None:
        memo = graph.memo["hot_path"] = _walk(graph)
    return memo


def _walk(graph: Graph) -> tuple[int | None, list]:
    own = _candidates(graph)
    cum = np.abs(graph.cum)
    # An entry frame that does the work itself (main.main's own loop) counts by its flat.
    entry = np.array([bool(k.name) and is_own_code(k.name, k.file) and is_entry(k.name)
                      for k in graph.keys], dtype=bool)
    score = np.where(own, cum, np.where(entry, np.abs(graph.flat), 0))
    nodes = np.flatnonzero(score > 0)
    if not len(nodes):
        return None, []
    names = {int(n): graph.keys[n].printable() for n in nodes}
    current = min(names, key=lambda n: (-int(score[n]), not own[n], names[n]))
    if not own[current]:
        return current, _callees(graph.edges([current]), current)
    seen = {current}
    while True:
        # Edges out of one node at a time: a profile may hold thousands of program nodes.
        out = _callees(graph.edges([current]), current)
        nxt = next(((n, w) for n, w in out if own[n]), None)
        if nxt is None or nxt[0] in seen or abs(nxt[1]) < DESCEND * cum[current]:
            return current, out
        current = nxt[0]
        seen.add(current)


def _callees(edges, node: int) -> list:
    mask = edges.src == node
    pairs = sorted(zip(edges.dst[mask].tolist(), edges.weight[mask].tolist()),
                   key=lambda p: (-abs(p[1]), p[0]))
    return [(n, w) for n, w in pairs if w]


def runtime_work(part: Part) -> list:
    """[(words, value)]: the share of each kind of runtime work, largest first
    (each sample counted once, under the first RUNTIME_WORK that matches).

    The kinds describe time (CPU, waits); for memory and other profiles the
    only kind is "the runtime's own memory": stacks made of runtime frames alone.
    """
    frames = stack_frames(part.profile, "functions")
    keys = frames.table.keys
    values = np.abs(sample_values(part))
    if part.profile.profile_type != "cpu":
        other = np.array([not k.name.startswith(("runtime.", "internal/runtime")) for k in keys]
                         + [False])
        mixed = np.zeros(len(values), dtype=bool)
        mixed[frames.occ.sample[other[frames.occ.node]]] = True
        v = int(values[~mixed].sum())
        return [("the runtime's own " + ("memory" if part.profile.sample_types[
            part.sample_index].unit == "bytes" else "work"), v)] if v else []
    taken = np.zeros(len(values), dtype=bool)
    out = []
    for words, rx in RUNTIME_WORK:
        match = np.array([bool(k.name) and bool(rx.match(k.name)) for k in keys] + [False])
        hit = np.zeros(len(values), dtype=bool)
        hit[frames.occ.sample[match[frames.occ.node]]] = True
        hit &= ~taken
        taken |= hit
        v = int(values[hit].sum())
        if v:
            out.append((words, v))
    return sorted(out, key=lambda wv: (-wv[1], wv[0]))


def _library_hot(graph: Graph) -> tuple[str, int] | None:
    """The non-runtime library function with the most cum, entry frames aside."""
    best = None
    for n, k in enumerate(graph.keys):
        if not k.name or is_entry(k.name) or k.name.startswith(("runtime.", "internal/runtime")):
            continue
        c = abs(int(graph.cum[n]))
        if c and (best is None or (c, ) > (best[1], )):
            best = (k.printable(), c)
    return best


def profile_answer(part: Part, total: int | None = None) -> Answer:
    """The answer for one profile (or a filtered one; `total` is then the
    unfiltered total, as pprof's percentages keep it). A total that overflows
    int64 puts a warning before the sentence: its numbers cannot be trusted."""
    from reportgen.analyze.overflow import overflow_warnings
    answer = _profile_answer(part, total)
    warning = "".join(f"Warning: {w}. " for w in overflow_warnings([part]))
    if warning:
        answer.text = warning + answer.text
    return answer


def _profile_answer(part: Part, total: int | None) -> Answer:
    profile, index = part.profile, part.sample_index
    st = profile.sample_types[index]
    values = sample_values(part)
    tot = int(np.abs(values).sum()) if total is None else total
    if not tot:
        return Answer("This profile has no samples with a value.", "empty", unit=st.unit)
    if st.type in ("goroutine", "goroutineleak") and len(profile.sample_types) == 1:
        return goroutine_answer(profile, tot)
    if is_lock_profile(profile):
        return lock_answer(part, tot)
    return program_answer(part, tot)


def program_answer(part: Part, total: int) -> Answer:
    graph = build_graph([part], "functions")
    st = part.profile.sample_types[part.sample_index]
    what = measure(part.profile, part.sample_index)
    subject, callees = hot_path(graph)
    if subject is None or abs(int(graph.cum[subject])) < LITTLE * total:
        return _runtime_answer(part, graph, total, subject)
    name = graph.keys[subject].printable()
    cum = int(graph.cum[subject])
    inside = [(graph.keys[n].printable(), int(w)) for n, w in callees
              if abs(w) >= INSIDE_MIN * abs(cum)][:3]
    text = f"{name} holds {share(cum, total)} of {what} ({units.human(cum, st.unit)})"
    flat = int(graph.flat[subject])
    parts = [f"{n} {share(v, total)}" for n, v in inside]
    if parts:
        text += "; inside it " + ", ".join(parts)
        if abs(flat) >= INSIDE_MIN * abs(cum):
            text += f", in the function itself {share(flat, total)}"
    elif flat:
        text += ", in the function itself"
    return Answer(text + ".", "program", name, cum, total, st.unit,
                  [name] + [n for n, _ in inside], inside)


def _runtime_answer(part: Part, graph: Graph, total: int, subject) -> Answer:
    st = part.profile.sample_types[part.sample_index]
    what = measure(part.profile, part.sample_index)
    work = [(w, v) for w, v in runtime_work(part) if v >= 0.01 * total]
    own = 0 if subject is None else abs(int(graph.cum[subject]))
    names = []
    if subject is None:
        text = f"The program's own code holds none of the {what}"
    else:
        names.append(graph.keys[subject].printable())
        text = (f"The program's own code holds little of the {what} "
                f"({names[0]} {share(own, total)})")
    said = [f"{w} {share(v, total)}" for w, v in work[:3]]
    lib = _library_hot(graph)
    if lib and lib[1] >= LITTLE * total and lib[0] not in names:
        names.append(lib[0])
        said.append(f"library code under {lib[0]} {share(lib[1], total)}")
    if not said and len(graph.flat):  # nothing to put in words: name the hottest frame
        n = int(np.argmax(np.abs(graph.flat)))
        if graph.flat[n]:
            said.append(f"{graph.keys[n].printable()} {share(int(graph.flat[n]), total)} "
                        f"in the function itself")
    text += ("; the runtime and libraries: " + ", ".join(said)) if said else ""
    return Answer(text + ".", "runtime", names[0] if names else None, own, total, st.unit,
                  names, work=work)


LOCK_PROFILES = ("mutex", "block", "contention")


def is_lock_profile(profile) -> bool:
    """Mutex, block (and pprof's contention) profiles: answered by lock_holder."""
    return profile.profile_type in LOCK_PROFILES


def lock_holder(part: Part, granularity: str = "functions"):
    """Mutex/block: (NodeKey, value, {callee name: value}) of the program frame
    nearest the leaf that holds the most of the part's value, or None when no
    stack has program code. Each sample counts for the program frame nearest its
    leaf (the caller of Lock/Unlock/Wait or a channel operation), entry frames
    included (main.main may take the lock itself); the callee map says how
    (which Unlock, Wait or library call). Ties go to the larger name. `top`'s
    program_hotspot and the mutex/block card both use it."""
    return _lock_holder(part, granularity)[0]


def _lock_holder(part: Part, granularity: str):
    frames = stack_frames(part.profile, granularity)
    keys = frames.table.keys
    own = np.array([bool(k.name) and is_own_code(k.name, k.file) for k in keys] + [False])
    values = np.abs(sample_values(part))
    held, via = _nearest(frames, own, values)
    found = None
    if held:
        node = max(held, key=lambda n: (held[n], keys[n].printable()))
        found = keys[node], held[node], via.get(node, {})
    return found, sum(held.values()), (frames, own, values)


def lock_answer(part: Part, total: int) -> Answer:
    """Mutex/block: the program function nearest the leaf holds or waits for the
    lock (lock_holder); the frame it calls (Unlock, Wait, a chan op, a library
    call) says how."""
    profile = part.profile
    st = profile.sample_types[part.sample_index]
    what = measure(profile, part.sample_index)
    found, held, (frames, own, values) = _lock_holder(part, "functions")
    if found is None:
        graph = build_graph([part], "functions")
        return _runtime_answer(part, graph, total, None)
    key, value, how = found
    name = key.printable()
    prim = max(how.items(), key=lambda kv: (kv[1], kv[0]))[0] if how else ""
    verb = ("holds the contended lock" if profile.profile_type == "mutex"
            else "waits longest")
    text = (f"{name} {verb}: {share(value, total)} of {what} "
            f"({units.human(value, st.unit)})")
    if prim:
        text += f", in {prim}"
    rest = total - held
    if rest >= LITTLE * total:
        lib = _library_leaf(frames, own, values)
        if lib:
            text += (f"; {share(rest, total)} is outside the program's code, mostly "
                     f"{lib}")
    names = [name] + ([prim] if prim else [])
    return Answer(text + ".", "lock", name, value, total, st.unit, names,
                  inside=[(prim, value)] if prim else [])


def _nearest(frames, own, values):
    """Per program frame (node of frames.table): the value of samples whose
    program frame nearest the leaf it is; and per such node, the value by the
    name of the frame it called."""
    occ = frames.occ
    keys = frames.table.keys
    hit = np.flatnonzero(own[occ.node])
    samples, first = np.unique(occ.sample[hit], return_index=True)
    held, via = {}, {}
    for s, pos in zip(samples.tolist(), hit[first].tolist()):
        v = int(values[s])
        if not v:
            continue
        node = int(occ.node[pos])
        held[node] = held.get(node, 0) + v
        if pos > 0 and occ.sample[pos - 1] == s:
            callee = keys[occ.node[pos - 1]].printable()
            d = via.setdefault(node, {})
            d[callee] = d.get(callee, 0) + v
    return held, via


def _library_leaf(frames, own, values) -> str:
    """The non-runtime frame nearest the leaf of samples without program code,
    by value: who waits when the program does not (net/http's writeLoop ...)."""
    occ = frames.occ
    keys = frames.table.keys
    has_own = np.zeros(len(values), dtype=bool)
    has_own[occ.sample[own[occ.node]]] = True
    lib = np.array([bool(k.name) and not k.name.startswith(PRIMITIVES) and not is_entry(k.name)
                    for k in keys] + [False])
    hit = np.flatnonzero(lib[occ.node] & ~has_own[occ.sample])
    samples, first = np.unique(occ.sample[hit], return_index=True)
    by: dict = {}
    for s, pos in zip(samples.tolist(), hit[first].tolist()):
        name = keys[occ.node[pos]].printable()
        by[name] = by.get(name, 0) + int(values[s])
    return max(by.items(), key=lambda kv: (kv[1], kv[0]))[0] if by else ""


def goroutine_answer(profile, total: int | None = None) -> Answer:
    """Goroutine profiles and dumps: the largest group by program frame and state."""
    from reportgen.analyze.goroutines import as_snapshot, overview
    ov = overview(as_snapshot(profile))
    return overview_answer(ov)


def overview_answer(ov) -> Answer:
    """The largest group of a goroutine overview, by the program frame that names
    it (Group.headline) and its state; background goroutines only if nothing else."""
    total = ov.total or sum(g.count for g in ov.groups)
    proved = ov.kind == "goroutineleak"
    if not ov.groups or not total:
        return Answer("The runtime's leak-detecting GC found no leaked goroutines "
                      "(goroutineleak profile)." if proved else
                      "This dump holds no goroutines.", "empty", unit="goroutines")
    mine = [g for g in ov.groups if not g.background] or ov.groups
    merged: dict = {}
    for g in mine:
        key = (g.headline, g.state or "unknown state")
        merged.setdefault(key, []).append(g)
    (head, state), groups = min(merged.items(),
                                key=lambda kv: (-sum(g.count for g in kv[1]), kv[0]))
    count = sum(g.count for g in groups)
    g = max(groups, key=lambda g: g.count)
    where = g.user_frame
    if proved:
        # Go 1.26+ runtime/pprof "goroutineleak": the GC found these goroutines
        # blocked on channels, locks or wait groups that no live goroutine can
        # reach, so nothing can ever wake them (runtime.goroutineLeakGC).
        groups_n = len(ov.groups)
        text = (f"The runtime proved {units.plural(total, 'goroutine')} leaked: blocked "
                f"forever on objects no running goroutine can reach (goroutineleak "
                f"profile){f', in {groups_n} groups' if groups_n > 1 else ''}. "
                + (f"All {count} wait in {head} [{state}]" if count == total else
                   f"Largest group: {count} ({share(count, total)}) in {head} [{state}]"))
    else:
        text = (f"Largest group: {count} of {units.plural(total, 'goroutine')} "
                f"({share(count, total)}) in {head} [{state}]")
    if g.frames and g.frames[0].func != head:
        text += f" at {g.frames[0].func}"
    if g.created_by and g.created_by.func != head:
        text += f", created by {g.created_by.func}"
    names = [head]
    if where and g.user_tier == "own":
        if where.func == head:
            text += f" ({where.file.rsplit('/', 1)[-1]}:{where.line})" if where.file else ""
        else:
            text += f"; the program's code behind it: {where.func}"
            names.append(where.func)
    leaked = sum(x.leaked for x in ov.groups)
    if leaked and not proved:
        text += f"; {units.plural(leaked, 'goroutine')} marked (leaked) by the runtime"
    return Answer(text + ".", "goroutines", head, count, total, "goroutines", names)


SAMPLE_WORDS = {"cpu": "CPU", "samples": "samples", "alloc_space": "allocated bytes",
                 "alloc_objects": "allocations", "inuse_space": "heap in use",
                 "inuse_objects": "live heap objects", "contentions": "contentions",
                 "delay": "wait time", "goroutine": "goroutines"}


def tags_answer(result) -> str:
    """A labels page: the label value carrying the largest share of the total."""
    best = None
    for k in result.keys:
        for v in k.values[:1]:
            if v.value and (best is None or abs(v.value) > abs(best[1].value)):
                best = (k.key, v)
    if best is None or not result.total:
        return ""
    key, v = best
    return (f"Label {key}={v.name} carries {share(v.value, result.total)} of "
            f"{SAMPLE_WORDS.get(result.sample_index, result.sample_index)} "
            f"({units.human(v.value, result.unit)}).")
