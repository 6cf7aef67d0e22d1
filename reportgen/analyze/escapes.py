"""Escape hints: which lines allocate most, what the compiler said there, and the fix.

Attribution walks each sample's stack from the leaf (inlined lines included):
the *site* is the first frame outside the runtime, so runtime.growslice,
makeslice, concatstrings, convT*, mapassign ... count for the line that
called them (the *helper*); the *owner* is the first frame outside the
runtime and the standard library, so bytes allocated inside fmt or
encoding/json count for the user line that made the call (the *via*).
Everything is numpy over the profile's frame arrays: 10^6 frames are cheap.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field, replace

import numpy as np

from reportgen.analyze.frames import clean_path, stack_frames
from reportgen.analyze.top import resolve_sample_index
from reportgen.errors import UsageError
from reportgen.gocode import family, package_of
from reportgen.sources.escapes import parse_pos

ALLOC_TYPES = ("alloc_space", "alloc_objects", "inuse_space", "inuse_objects")
_RUNTIME_FILE = re.compile(r"(^|/src/)(runtime/[^/]+|runtime/internal/.+|internal/runtime/.+)$")


def is_runtime(name: str, file: str) -> bool:
    """Runtime code as runtime/pprof hides it, also under a linkname (reflect.growslice
    lives in runtime/slice.go): the frames an allocation is attributed past."""
    return name.startswith(("runtime.", "internal/runtime/")) or bool(_RUNTIME_FILE.search(file))


def is_library(name: str, file: str = "") -> bool:
    """Not the program's own code (gocode's families), nor the generated test main."""
    return family(package_of(name, file)) != "app" or file.endswith("_testmain.go")


@dataclass
class LineCost:
    """What one line allocated: itself, through runtime helpers, through library calls."""
    function: str
    file: str
    line: int
    value: int
    flat: int                       # the line is the leaf: pprof -lines flat
    helpers: dict = field(default_factory=dict)   # runtime helper -> value
    via: dict = field(default_factory=dict)       # library function it called -> value
    user: bool = True               # False when no user frame was on the stack
    via_size: dict = field(default_factory=dict)  # library function -> largest object (bytes)


def line_costs(profile, sample_index: int) -> list[LineCost]:
    """Allocation cost per owner line, largest first."""
    sf = stack_frames(profile, "lines")
    keys, occ = sf.table.keys, sf.occ
    rt = np.array([is_runtime(k.name, k.file) for k in keys], dtype=bool)
    lib = np.array([is_library(k.name, k.file) for k in keys], dtype=bool) | rt
    values = profile.values[:, sample_index]
    counts = sf.counts
    live = (counts > 0) & (values != 0)
    start = sf.leaf
    site = _first(~rt[occ.node], start, counts)
    site = np.where(site < 0, start, site)           # all-runtime stacks stay at their leaf
    owner = _first(~lib[occ.node], start, counts)
    owner = np.where(owner < 0, site, owner)
    helper = np.where(site > start, site - 1, -1)     # the runtime frame the site called
    via = np.where(owner > site, owner - 1, -1)

    s = np.flatnonzero(live)
    v = values[s]
    onode = occ.node[owner[s]]
    n = max(len(keys), 1)
    total = np.zeros(n, np.int64)
    np.add.at(total, onode, v)
    flat = np.zeros(n, np.int64)
    leaf = owner[s] == start[s]
    np.add.at(flat, onode[leaf], v[leaf])
    helpers = _pairs(onode, helper[s], occ.node, v, n, (helper[s] >= 0) & (owner[s] == site[s]))
    vias = _pairs(onode, via[s], occ.node, v, n, via[s] >= 0)
    sizes = _pairs(onode, via[s], occ.node, object_sizes(profile)[s], n, via[s] >= 0,
                   np.maximum)
    out = []
    for node in np.flatnonzero(total):
        k = keys[node]
        out.append(LineCost(k.name, k.file, k.line, int(total[node]), int(flat[node]),
                            _named(helpers.get(node, {}), keys), _named(vias.get(node, {}), keys),
                            user=not lib[node],
                            via_size=_named(sizes.get(node, {}), keys, max)))
    out.sort(key=lambda c: (-abs(c.value), c.file, c.line, c.function))
    return out


def _first(mask, start, counts):
    """Per sample, the index into the frames of its first (leaf-most) frame in mask, or -1."""
    out = np.full(len(counts), -1, dtype=np.int64)
    nonempty = np.flatnonzero(counts > 0)
    if len(nonempty):
        big = len(mask)
        idx = np.where(mask, np.arange(big), big)
        first = np.minimum.reduceat(idx, start[nonempty])
        out[nonempty] = np.where(first < big, first, -1)
    return out


def object_sizes(profile) -> np.ndarray:
    """Per sample, the size of each object it counts (the heap profile's "bytes" label), or 0."""
    per_set = np.array([next((lb.num for lb in labels if lb.key == "bytes" and not lb.str), 0)
                        for labels in profile.label_sets], dtype=np.int64)
    return per_set[profile.label_set] if len(per_set) else np.zeros(profile.num_samples,
                                                                      np.int64)


def _pairs(owner_node, frame_idx, occ_node, values, n, mask, combine=np.add) -> dict:
    """{owner node: {other node: value}} for the samples in mask (summed, or `combine`d)."""
    if not mask.any():
        return {}
    key = owner_node[mask].astype(np.int64) * n + occ_node[frame_idx[mask]]   # node ids: int32
    uniq, inv = np.unique(key, return_inverse=True)
    sums = np.zeros(len(uniq), np.int64)
    combine.at(sums, inv, values[mask])
    out: dict = {}
    for k, total in zip(uniq.tolist(), sums.tolist()):
        out.setdefault(k // n, {})[k % n] = total
    return out


def _named(by_node: dict, keys, combine=lambda a, b: a + b) -> dict:
    named: dict = {}
    for node, value in by_node.items():
        name = keys[node].name
        named[name] = combine(named[name], value) if name in named else value
    return dict(sorted(named.items(), key=lambda kv: (-abs(kv[1]), kv[0])))


# --- matching compiler positions to profile lines

def _parts(path: str) -> list[str]:
    return [p for p in posixpath.normpath(path.replace("\\", "/")).split("/")
            if p not in ("", ".", "..")]


class LogIndex:
    """Compiler verdicts by line, found from a profile's file name by trailing components.

    Profiles name files absolutely or as module paths (-trimpath); the log
    names them relative to where go build ran (./f.go, ../pkg/f.go) or as
    module paths too. `path_map` rewrites log prefixes first (FROM, TO).
    """

    def __init__(self, log, path_map=()):
        self.path_map = path_map
        self.by_line: dict[tuple, list] = {}
        self.by_step: dict[tuple, list] = {}   # lines named in flow steps: where values leave
        self.captures: list = []               # (file, line where captured, verdict)
        self.literals: dict[str, list] = {}    # file -> lines of the program's func literals
        for v in log.verdicts if log else ():
            if v.value == "func literal" and not v.wrapper:
                self.literals.setdefault(v.file, []).append(v.line)
            for step in (s for chain in v.chains for f in chain for s in f.steps):
                at = parse_pos(step.pos)
                if at and step.why == "captured by a closure" and v.escaping:
                    self.captures.append((at[0], at[1], v))
            self._add(self.by_line, v.file, v.line, v.package, v)
            for step in (s for f in (v.chains[0] if v.chains else []) for s in f.steps):
                at = parse_pos(step.pos)
                if at and v.kind in ("moved", "escapes") and at[1] != v.line:
                    self._add(self.by_step, at[0], at[1], v.package, v)

    def _add(self, table, name, line, package, v):
        for old, new in self.path_map:
            if name.startswith(old):
                name = new + name[len(old):]
                break
        forms = [_parts(name)]
        if package and (name.startswith("./") or "/" not in name):
            forms.append(_parts(package) + forms[0])   # ./f.go is in its package's dir
        found = table.setdefault((forms[0][-1] if forms[0] else "", line), [])
        if all(other is not v for _, other in found):
            found.append((forms, v))

    def verdicts(self, file: str, line: int) -> list:
        want = _parts(clean_path(file))
        return self._best(want, self.by_line.get((want[-1] if want else "", line), []))

    def caused_at(self, file: str, line: int) -> list:
        """Escapes whose flow passes through this line (&req handed to a call here)."""
        want = _parts(clean_path(file))
        return self._best(want, self.by_step.get((want[-1] if want else "", line), []))

    def captured_by(self, literal) -> list[str]:
        """Variables the func literal at `literal` captures by reference (moved to heap
        with "captured by a closure" at a line of its body: before the next literal)."""
        lines = sorted(self.literals.get(literal.file, []))
        after = [n for n in lines if n > literal.line]
        end = after[0] if after else literal.line + 10_000
        names = [v.value for f, n, v in self.captures
                 if f == literal.file and literal.line <= n < end]
        return list(dict.fromkeys(names))

    def before(self, file: str, line: int, span: int = 40) -> list:
        """Verdicts in the same file up to `span` lines above `line`, nearest first."""
        want = _parts(clean_path(file))
        base = want[-1] if want else ""
        found = [x for n in range(line - 1, max(line - span, 0), -1)
                 for x in self.by_line.get((base, n), [])]
        return self._best(want, found)

    @staticmethod
    def _best(want, found) -> list:
        scored = [(max(_tail(want, f) for f in forms), v) for forms, v in found]
        best = max((s for s, _ in scored), default=0)
        return [v for s, v in scored if s == best and s > 0]


def _tail(a: list, b: list) -> int:
    n = 0
    while n < len(a) and n < len(b) and a[-1 - n] == b[-1 - n]:
        n += 1
    return n


# --- hints

@dataclass
class Hint:
    """One line worth changing: its cost, the evidence, and the category it points to."""
    file: str
    line: int
    function: str
    value: int
    share: float | None       # of the profile's total; None without a profile
    flat: int
    helpers: dict
    via: dict
    category: str
    verdicts: list            # the compiler's verdicts at this line
    primary: object = None    # the verdict that explains the allocation best
    start: object = None      # slice growth: the make([]T, 0, small) the slice starts from
    caused: list = field(default_factory=list)   # escapes elsewhere whose flow passes here
    call: str = ""            # the library call whose own allocations the verdicts name
    captured: list = field(default_factory=list)  # closure: the variables it captures
    wrapper: str = ""         # go/defer: the statement's argument-holding closure
    text: str = ""            # the source line, when a source root has it
    snippet: object = None    # sources.escapes.Snippet
    cost: object = None       # the LineCost behind it (None without a profile)


@dataclass
class EscapeResult:
    profile: str | None
    compiler_log: str | None
    sample_index: str
    unit: str
    total: int
    hints: list = field(default_factory=list)
    unmatched: list = field(default_factory=list)   # escapes on lines that allocated nothing
    outside: int = 0          # allocated with no user frame on the stack (runtime, testing ...)
    notes: list = field(default_factory=list)


def alloc_sample_index(profile, name=None) -> int:
    types = [t.type for t in profile.sample_types]
    if not any(t in ALLOC_TYPES for t in types):
        raise UsageError(profile.path, f"not a heap or allocs profile (it has: {', '.join(types)})")
    return resolve_sample_index(profile, name)


def escape_hints(profile=None, log=None, sample_index=None, sources=None, path_map=(),
                 limit: int | None = 50) -> EscapeResult:
    """Hints ranked by allocation cost; with only a compiler log, its escapes by position.

    `sources` is anything with snippet(file, line) (sources.escapes.SourceTree).
    """
    if profile is None and log is None:
        raise UsageError("escapes", "give an allocation profile, a compiler log, or both")
    if profile is None:
        return _log_only(log, sources)
    index = LogIndex(log, path_map)
    si = alloc_sample_index(profile, sample_index)
    st = profile.sample_types[si]
    costs = line_costs(profile, si)
    total = int(np.abs(profile.values[:, si]).sum())
    result = EscapeResult(profile.path, log.path if log else None, st.type, st.unit, total)
    mine = [c for c in costs if c.user] or costs
    result.outside = sum(c.value for c in costs if not c.user) if mine is not costs else 0
    used = set()
    for i, c in enumerate(mine):
        verdicts = index.verdicts(c.file, c.line)
        used.update(id(v) for v in verdicts)
        if limit is not None and i >= limit:
            continue
        hint = _hint(c, total, verdicts, sources.snippet(c.file, c.line) if sources else None)
        _closure_details(hint, index)
        if hint.category == "growth" and log is not None:
            hint.start = small_make(index, c)
        hint.caused = [v for v in index.caused_at(c.file, c.line) if v not in verdicts]
        result.hints.append(hint)
    if log:
        result.unmatched = [v for v in log.escapes if id(v) not in used and v.kind != "leak"]
    else:
        result.notes.append("No compiler log: categories come from runtime helpers, library "
                            "calls and the source text. Add go build -gcflags=-m=2 output "
                            "for the compiler's reasons.")
    return result


def _hint(c: LineCost, total: int, verdicts: list, snippet) -> Hint:
    text = dict(snippet.lines).get(c.line, "") if snippet else ""
    verdicts = [_with_wrapper(v, text) for v in verdicts]
    parts: dict = {}   # category -> value, from each piece of evidence
    calls: dict = {}   # category -> the library call that decided it
    if c.flat or not (c.helpers or c.via):
        cat = verdict_category(verdicts)
        if cat in (None, "other"):   # -m without reasons: the source line may say more
            cat = source_category(text) or cat or "other"
        parts[cat] = parts.get(cat, 0) + c.flat
    for name, value in c.helpers.items():
        parts[helper_category(name)] = parts.get(helper_category(name), 0) + value
    for name, value in c.via.items():
        cat, decided = via_category(name, verdicts)
        parts[cat] = parts.get(cat, 0) + value
        if decided:
            calls.setdefault(cat, name)
    category = max(parts.items(), key=lambda kv: (abs(kv[1]), kv[0] != "other"))[0]
    call = calls.get(category, "")
    lead = primary(call_verdicts(call, verdicts) or verdicts, category) if call else \
        primary(verdicts, category)
    wrapper = lead.wrapper if lead is not None and lead.value == "func literal" else ""
    if category == "closure" and lead is None and (kw := _STATEMENT.match(text.lstrip())):
        wrapper = kw[1]     # plain -m does not print the wrapper: the source line shows it
    if category == "closure" and wrapper:
        category = "wrapper"    # the statement's arguments, not a closure the program wrote
    return Hint(clean_path(c.file), c.line, c.function, c.value,
                c.value / total if total else 0.0, c.flat, c.helpers, c.via, category,
                verdicts, lead, call=call, wrapper=wrapper, text=text, snippet=snippet, cost=c)


def _with_wrapper(v, text: str):
    """The verdict, marked as a go/defer wrapper when the source line shows the statement
    at its position (the log alone cannot always tell `go f(x)` from `go func(){}()`)."""
    if v.value != "func literal" or v.wrapper in ("go", "defer") or not v.col:
        return v
    kw = _STATEMENT.match(text[v.col - 1:])
    return replace(v, wrapper=kw[1]) if kw else v


def attach_sources(result: EscapeResult, sources) -> EscapeResult:
    """Source lines for hints made without them; the line may also settle a category."""
    for i, h in enumerate(result.hints):
        snippet = None if h.snippet else sources.snippet(h.cost.file if h.cost else h.file, h.line)
        if snippet is None:
            continue
        if h.cost is None:
            h.snippet, h.text = snippet, dict(snippet.lines).get(h.line, "")
        else:
            result.hints[i] = _hint(h.cost, result.total, h.verdicts, snippet)
            result.hints[i].start, result.hints[i].caused = h.start, h.caused
            result.hints[i].captured = h.captured
    return result


def _closure_details(h: Hint, index: LogIndex):
    """Name the variables a closure captures."""
    v = h.primary
    if h.category == "closure" and v is not None and v.value == "func literal":
        h.captured = index.captured_by(v)


def _log_only(log, sources) -> EscapeResult:
    result = EscapeResult(None, log.path, "", "", 0)
    index = LogIndex(log)
    by_line: dict = {}
    for v in log.escapes:
        if v.kind != "leak":
            by_line.setdefault((v.file, v.line), []).append(v)
    for (file, line), verdicts in sorted(by_line.items()):
        snippet = sources.snippet(file, line) if sources else None
        text = dict(snippet.lines).get(line, "") if snippet else ""
        verdicts = [_with_wrapper(v, text) for v in verdicts]
        category = verdict_category(verdicts) or "other"
        lead = primary(verdicts, category)
        wrapper = lead.wrapper if lead.value == "func literal" else ""
        h = Hint(file, line, lead.function, 0, None, 0, {}, {},
                 "wrapper" if category == "closure" and wrapper else category, verdicts, lead,
                 wrapper=wrapper, text=text, snippet=snippet)
        _closure_details(h, index)
        result.hints.append(h)
    return result


# --- categories: what kind of allocation the evidence points to
#
# In order of trust: the compiler's verdicts for the values the allocating call
# makes (new(bufio.Reader), make([]byte, …) inside an inlined bufio.NewReaderSize),
# its verdicts for the line, the runtime helper that allocated (growslice ...), and
# only then the library function's name or the source text. A go/defer statement's
# wrapper closure gives way to its arguments when they escape too.

_PRIORITY = ["growth", "size", "buffer", "closure", "map", "concat", "conversion", "interface",
             "address"]
_HELPERS = [("map", r"mapassign|makemap|hashGrow|growWork|evacuate|internal/runtime/maps"),
            ("growth", r"growslice"), ("concat", r"concatstring|concatbyte"),
            ("conversion", r"slicebytetostring|stringtoslice|slicerunetostring|rawstring|"
                           r"rawbyteslice|rawruneslice|intstring"),
            ("interface", r"\.conv[TI]"), ("size", r"makeslice|unsafe_NewArray|newarray"),
            ("address", r"newobject|mallocgc|unsafe_New")]
_LIBRARIES = [("interface", r"^(fmt|log|log/slog|encoding/.*|reflect)$"),
              ("concat", r"^(strconv|strings)$"), ("map", r"^maps$")]
# Library functions judged by what they do, not by their package: only the ones that
# append (grow a slice) are slice growth; bufio's constructors make a fixed buffer.
_LIBRARY_FUNCS = [("growth", r"\.\(\*(Buffer|Builder)\)\.(grow|Grow|Write\w*|ReadFrom)$|"
                             r"^bytes\.growSlice$|^io\.ReadAll$|^os\.ReadFile$"),
                  ("buffer", r"^bufio\.New(Reader|Writer|ReadWriter|Scanner)\w*$")]
_STATEMENT = re.compile(r"(go|defer)\s+(?!func\b)[\w.]+(?:\[[^\]]*\])?\(")
_SOURCE = [("closure", r"^\s*(go|defer)\s+(?!func\b)[\w.]+(?:\[[^\]]*\])?\("),  # a wrapper
           ("growth", r"\bappend\("), ("map", r"\bmake\(\s*map\b|\bmap\[[^\]]*\][\w.*]+\{"),
           ("size", r"\bmake\(\s*\[\]"), ("closure", r"\bfunc\s*\("),
           ("interface", r"\b(fmt|json|log|slog)\.\w+\("),
           ("conversion", r"\bstring\(|\[\](byte|rune)\("), ("concat", r"\"\s*\+|\+\s*\"|\+="),
           ("address", r"&\w[\w.]*\s*\{|\bnew\("),
           ("map", r"^\s*[\w.]+\[[^\]]+\]\s*[-+*/|&^]?=[^=]")]   # only a map store allocates
_SMALL_MAKE = re.compile(r"^make\(\[\](?P<elem>.+), \d+, (?P<cap>\d+)\)$|"
                         r"^make\(\[\](?P<elem2>.+), (?P<len>\d+)\)$")


def helper_category(name: str) -> str:
    return next((c for c, rx in _HELPERS if re.search(rx, name)), "other")


def library_category(name: str) -> str:
    """What a call into the standard library allocates, from its name alone."""
    by_func = next((c for c, rx in _LIBRARY_FUNCS if re.search(rx, name)), None)
    if by_func:
        return by_func
    pkg = package_of(name)
    return next((c for c, rx in _LIBRARIES if re.match(rx, pkg)), "other")


def call_verdicts(name: str, verdicts) -> list:
    """The line's verdicts about values the inlined call `name` makes: the compiler
    names them with the callee's package (new(bufio.Reader), &bytes.Reader{...},
    make([]byte, max(bufio.size, 16)))."""
    pkg = package_of(name).rsplit("/", 1)[-1]
    if not pkg:
        return []
    mention = re.compile(rf"(?<![\w.]){re.escape(pkg)}\.")
    return [v for v in _explaining(verdicts) if mention.search(v.value)]


def via_category(name: str, verdicts) -> tuple[str, bool]:
    """(category, decided by the compiler's verdicts) for bytes allocated inside `name`.

    The compiler's verdicts for the values the call makes decide; then its verdicts
    for the line; the function's name only when the log says nothing.
    """
    own = call_verdicts(name, verdicts)
    if own:
        found = {_call_category(v) for v in own}
        return next(c for c in _PRIORITY + ["other"] if c in found), True
    # A leaking parameter allocates nothing here; only values that move or escape count.
    cat = verdict_category(verdicts, kinds=("moved", "escapes"))
    return (library_category(name) if cat in (None, "other") else cat), False


def _call_category(v) -> str:
    """A library call's own allocation: its make() is a buffer made per call (unless
    the compiler says the size is the problem); the rest as any verdict."""
    why = {s.why for f in (v.chains[0] if v.chains else []) for s in f.steps}
    if v.value.startswith("make([]") and not why & {"too large for stack",
                                                     "non-constant size"}:
        return "buffer"
    return _verdict_category(v)


def source_category(text: str) -> str | None:
    code = re.sub(r"//.*$", "", text or "")
    return next((c for c, rx in _SOURCE if re.search(rx, code)), None)


def _nonconstant_make(v) -> bool:
    """make([]T, n) with a run-time size: on the stack only while small (walk/builtin.go)."""
    if not v.value.startswith("make(["):
        return False
    return not all(a.strip().isdigit() for a in v.value[v.value.find(",") + 1:-1].split(","))


def _verdict_category(v) -> str:
    why = {s.why for f in (v.chains[0] if v.chains else []) for s in f.steps}
    value = v.value
    if "captured by a closure" in why or value.startswith("func literal"):
        return "closure"
    if why & {"too large for stack", "non-constant size"}:
        return "size"
    if v.kind == "moved":
        return "interface" if "interface-converted" in why else "address"
    if value == "append" or value.startswith("append("):
        return "growth"
    if value.startswith("make([]"):
        return "size" if _nonconstant_make(v) else "address"
    if value.startswith(("make(map", "map[")):
        return "map"
    if value.startswith(("string(", "([]byte)(", "([]rune)(")):
        return "conversion"
    if " + " in value and re.search(r"\"|~r\d", value):
        return "concat"
    if "interface-converted" in why or "slice-literal-element" in why:
        return "interface"
    return "address" if value.startswith(("&", "new(")) or v.kind == "leak" else "other"


def _telling(verdicts) -> list:
    """Verdicts that explain an allocation; a run-time-sized make counts even when it
    "does not escape", since past a small size it is heap-allocated anyway."""
    return [v for v in verdicts if v.escaping or (v.kind == "no_escape" and _nonconstant_make(v))]


def _explaining(verdicts) -> list:
    """The telling verdicts, without a go/defer wrapper when its arguments say more:
    `go logf("%d", i)` allocates because i is boxed, not because of a closure."""
    telling = _telling(verdicts)
    args = [v for v in telling if not v.wrapper]
    return args or telling


def _boxed(v, verdicts) -> bool:
    """Plain -m: `x escapes to heap` for a value (not &x) beside a variadic call's
    "... argument" is that value boxed into ...interface{}."""
    return (v.kind == "escapes" and not v.chains and
            bool(re.fullmatch(r"[\w.]+|\"[^\"]*\"|`[^`]*`|[\d.]+", v.value)) and
            any(o.value == "... argument" for o in verdicts))


def verdict_category(verdicts, kinds=None) -> str | None:
    """The category the line's verdicts point to (of `kinds` only, when given)."""
    found = {"interface" if _boxed(v, verdicts) else _verdict_category(v)
             for v in _explaining(verdicts) if kinds is None or v.kind in kinds}
    return next((c for c in _PRIORITY + ["other"] if c in found), None)


def primary(verdicts, category):
    """The verdict that explains the hint best: of its category, moved before escapes,
    values before constants (boxing a constant does not allocate)."""
    telling = _explaining(verdicts)
    fitting = [v for v in telling if category in (_verdict_category(v), _call_category(v))] \
        or telling
    order = {"moved": 0, "escapes": 1, "leak": 3, "no_escape": 4}
    literal = re.compile(r'^("|`|\d)')
    return min(fitting, key=lambda v: order[v.kind] + bool(literal.match(v.value)),
               default=None)


def small_make(index: LogIndex, c: LineCost):
    """The make([]T, 0, SMALL) nearest above an append: where the slice starts too small."""
    for v in index.before(c.file, c.line):
        m = _SMALL_MAKE.match(v.value)
        if m and int(m["cap"] or m["len"]) <= 64:
            return v
    return None


def run_escapes(options: dict, profiles: dict, defaults: dict) -> EscapeResult:
    """The manifest's `escapes` analysis: reads the compiler log and sources it names."""
    from reportgen.sources.escapes import SourceTree, read_compiler_log

    name = options.get("profile")
    log = read_compiler_log(options["compiler_log"]) if options.get("compiler_log") else None
    limit = options.get("limit", 50)
    return escape_hints(profiles[name] if name else None, log,
                        options.get("sample_index") or defaults.get(name),
                        SourceTree(options.get("sources") or []),
                        sorted((options.get("path_map") or {}).items(), key=lambda m: -len(m[0])),
                        None if limit == "all" else limit)
