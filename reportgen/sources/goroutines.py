"""Reader for goroutine dumps in text: debug=1 and debug=2 (panic output, runtime.Stack).

debug=1 (also `threadcreate` and Go 1.27's `goroutineleak`) aggregates stacks
into records with counts; debug=2 prints one block per goroutine with its
state, wait, labels and creator. Both become a Snapshot, and a Snapshot
becomes a model.Profile (sample type <kind>/count) so `top` works on dumps.
A dump cut short keeps what parsed and says where it stopped; it never fails.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from reportgen.model import Function, Label, Line, Location, Profile, ValueType


class Frame(NamedTuple):
    func: str
    file: str
    line: int


class Creator(NamedTuple):
    func: str
    file: str
    line: int
    parent: int  # goroutine id, 0 when the dump does not say (Go < 1.21)


@dataclass
class Ancestor:
    """An `[originating from goroutine N]:` block (GODEBUG=tracebackancestors)."""
    id: int
    frames: list
    created_by: Creator | None = None


@dataclass
class Goroutine:
    id: int
    state: str                   # wait reason or status, without the flags below
    wait_minutes: int = 0
    leaked: bool = False         # Go 1.27: proved unreachable by a leak-detecting GC
    locked: bool = False         # locked to thread
    scan: bool = False
    labels: dict = field(default_factory=dict)
    frames: list = field(default_factory=list)   # of Frame, leaf first
    created_by: Creator | None = None
    elided: int = 0              # frames left out; -1 when the dump does not say how many
    ancestors: list = field(default_factory=list)
    line: int = 0                # of the header in the file, from 1
    truncated: bool = False


@dataclass
class Record:
    """One debug=1 (or debug=0) record: `count` goroutines with the same stack and labels."""
    count: int
    frames: list
    labels: dict = field(default_factory=dict)


@dataclass
class Snapshot:
    path: str
    format: str                  # "debug=2", "debug=1" or "debug=0"
    kind: str = "goroutine"      # goroutine, threadcreate or goroutineleak
    total: int = 0               # the header's total, or goroutines read
    goroutines: list = field(default_factory=list)
    records: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    message: str = ""            # a panic or fatal error line before the dump
    time_nanos: int = 0

    @property
    def aggregated(self) -> bool:
        return self.format != "debug=2"


@dataclass
class GoroutineProfile(Profile):
    """A Profile read from a text dump, keeping the dump's own details."""
    snapshot: Snapshot | None = field(default=None, repr=False, compare=False)


_PROFILE_HEAD = re.compile(r"(goroutine|threadcreate|goroutineleak) profile: total (\d+)\s*$")
_HEADER = re.compile(r"goroutine (\d+)((?: [a-z]+=\S+)*) \[([^\]]*)\](.*):\s*$")
_HEADER_START = re.compile(rb"^goroutine \d+(?: [a-z]+=\S+)* \[", re.M)
_FILE_LINE = re.compile(r"\t(.+):(\d+)(?: .*)?$")
_CREATED = re.compile(r"created by (.+?)(?: in goroutine (\d+))?\s*$")
_ELIDED = re.compile(r"\.\.\.(\d+|additional) frames elided\.\.\.\s*$")
_ANCESTOR = re.compile(r"\[originating from goroutine (\d+)\]:\s*$")
_RECORD = re.compile(r"(\d+) @((?: 0x[0-9a-f]+)*)\s*$")


def detect_goroutine_text(data: bytes) -> bool:
    """True for a text goroutine dump of any kind (told by content, not name)."""
    start = data[:512]
    if b"\0" in start or start[:2] == b"\x1f\x8b":
        return False
    try:
        start.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.start < len(start) - 3:  # not just a character cut at the edge
            return False
    head = data[:65536]
    first = head.lstrip()[:80].decode("utf-8", "replace").split("\n", 1)[0]
    return bool(_PROFILE_HEAD.match(first) or _HEADER_START.search(head))


def load_goroutines(path, data: bytes) -> GoroutineProfile:
    return to_profile(parse_goroutines(str(path), data.decode("utf-8", "replace")))


def parse_goroutines(path: str, text: str) -> Snapshot:
    lines = text.replace("\r\n", "\n").split("\n")
    first = next((ln for ln in lines if ln.strip()), "")
    if m := _PROFILE_HEAD.match(first.strip()):
        return _parse_debug1(path, lines, m[1], int(m[2]))
    return _parse_debug2(path, lines)


def parse_labels(text: str) -> dict:
    """`{k: v, "k 2": "v"}` (Go 1.27 headers) or `{"k":"v", ...}` (debug=1)."""
    out, body = {}, text.strip()
    if body.startswith("{"):
        body = body[1:-1] if body.endswith("}") else body[1:]
    i, n = 0, len(body)
    while i < n:
        while i < n and body[i] in " ,":
            i += 1
        if i >= n:
            break
        key, i = _token(body, i, ":")
        i = body.find(":", i)
        if i < 0:
            break
        i += 1
        while i < n and body[i] == " ":
            i += 1
        value, i = _token(body, i, ",")
        out[key] = value
    return out


@functools.lru_cache(maxsize=4096)
def _cached_labels(text: str) -> tuple:
    return tuple(parse_labels(text).items())  # goroutines of a group share their labels


def _token(s: str, i: int, stop: str) -> tuple[str, int]:
    if i < len(s) and s[i] == '"':
        j = i + 1
        while j < len(s) and s[j] != '"':
            j += 2 if s[j] == "\\" else 1
        return _unquote(s[i + 1:j]), j + 1
    j = i
    while j < len(s) and s[j] != stop:
        j += 1
    return s[i:j].strip(), j


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "a": "\a",
            "b": "\b", "f": "\f", "v": "\v"}


def _unquote(s: str) -> str:
    """Go string-literal escapes; \\xNN bytes are joined back into UTF-8."""
    out, i = bytearray(), 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            e = s[i + 1]
            width = {"x": 2, "u": 4, "U": 8}.get(e)
            if width and re.fullmatch(r"[0-9a-fA-F]+", s[i + 2:i + 2 + width] or "-"):
                v = int(s[i + 2:i + 2 + width], 16)
                out += bytes([v]) if e == "x" else chr(v).encode("utf-8", "replace")
                i += 2 + width
                continue
            out += _ESCAPES.get(e, "\\" + e).encode()
            i += 2
            continue
        out += c.encode("utf-8", "surrogatepass")
        i += 1
    return out.decode("utf-8", "replace")


def _parse_debug1(path, lines, kind, total) -> Snapshot:
    snap = Snapshot(path, "debug=1", kind, total)
    rec = None
    for no, raw in enumerate(lines[1:], start=2):
        line = raw.rstrip()
        if not line:
            rec = None
            continue
        if m := _RECORD.match(line):
            rec = Record(int(m[1]), [])
            snap.records.append(rec)
        elif rec is not None and line.startswith("# labels:"):
            rec.labels = parse_labels(line[len("# labels:"):])
        elif rec is not None and line.startswith("#\t"):
            parts = [p for p in line[2:].split("\t") if p]
            if len(parts) >= 3 and (m := re.match(r"(.+)\+0x[0-9a-f]+$", parts[1])):
                file, _, ln = parts[2].rpartition(":")
                rec.frames.append(Frame(m[1], file, int(ln) if ln.isdigit() else 0))
            elif len(parts) == 1:  # an address the runtime could not symbolize
                rec.frames.append(Frame(parts[0], "", 0))
            else:
                snap.warnings.append(f"line {no}: could not read {_clip(line)!r}; skipped it")
        else:
            snap.warnings.append(f"line {no}: could not read {_clip(line)!r}; skipped it")
    for r in snap.records:
        if not r.frames:  # only `@ 0xpc ...`, as old profiles wrote: pprof's <unknown>
            r.frames.append(Frame("", "", 0))
    seen = sum(r.count for r in snap.records)
    if seen != total:
        last = max((no for no, ln in enumerate(lines, start=1) if ln.strip()), default=1)
        snap.warnings.append(f"the records account for {seen} of the {total} in the header "
                             f"(the text stops at line {last}): the dump looks truncated")
    return snap


def _parse_debug2(path, lines) -> Snapshot:
    snap = Snapshot(path, "debug=2")
    g = None       # the goroutine being read
    target = None  # where frames go: g itself or its latest ancestor
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        no = i + 1
        i += 1
        if not line.strip():
            g = target = None
            continue
        if line.startswith("goroutine ") and (m := _HEADER.match(line)):
            g = _header(m, no)
            target = g
            snap.goroutines.append(g)
            continue
        if g is None:
            if not snap.goroutines and not snap.message and line.startswith(
                    ("panic: ", "fatal error: ", "runtime: ")):
                snap.message = line.strip()
            continue  # text around the dump: panic messages, registers, exit status
        if line.startswith("[originating") and (m := _ANCESTOR.match(line)):
            target = Ancestor(int(m[1]), [])
            g.ancestors.append(target)
            continue
        if line.startswith("...") and (m := _ELIDED.match(line)):
            if target is g:  # ancestors' elisions say nothing about the goroutine itself
                g.elided = -1 if m[1] == "additional" else int(m[1])
            continue
        nxt = lines[i] if i < n else None
        fm = _FILE_LINE.match(nxt) if nxt is not None else None
        if fm:
            i += 1
            where = (fm[1], int(fm[2]))
            if line.startswith("created by ") and (cm := _CREATED.match(line)):
                target.created_by = Creator(cm[1], *where, int(cm[2] or 0))
            else:
                target.frames.append(Frame(_func_name(line), *where))
            continue
        if line.startswith("\t") and "stack unavailable" in line:
            continue  # "goroutine running on other thread; stack unavailable"
        g.truncated = True
        if i >= n - 1:
            snap.warnings.append(f"the dump ends inside goroutine {g.id} (line {no}): it "
                                 f"looks truncated; {len(snap.goroutines)} goroutines read")
        else:
            snap.warnings.append(f"line {no}: could not read {_clip(line)!r} in goroutine "
                                 f"{g.id}; skipped to the next goroutine")
        g = target = None
    if g is not None and not g.frames and not g.created_by:
        g.truncated = True
        snap.warnings.append(f"the dump ends inside goroutine {g.id} (line {g.line}): it "
                             f"looks truncated; {len(snap.goroutines)} goroutines read")
    snap.total = len(snap.goroutines)
    return snap


def _header(m, no: int) -> Goroutine:
    g = Goroutine(int(m[1]), "", line=no)
    parts = m[3].split(", ")
    g.leaked, g.scan = " (leaked)" in parts[0], " (scan)" in parts[0]
    # "(durable)" marks synctest bubbles; the state without it groups better.
    g.state = re.sub(r" \((leaked|scan|durable)\)", "", parts[0])
    for part in parts[1:]:
        if w := re.fullmatch(r"(\d+) minutes?", part):
            g.wait_minutes = int(w[1])
        elif part == "locked to thread":
            g.locked = True
    rest = m[4].strip()
    if rest.startswith("{"):
        g.labels = dict(_cached_labels(rest))
    return g


def _func_name(line: str) -> str:
    """`pkg.(*T).M(0xc0001, {0x2?, 0x3})` -> `pkg.(*T).M`; the argument list is dropped."""
    line = line.strip()
    if not line.endswith(")"):
        return line
    j = line.rfind("(")
    if j > 0 and ")" not in line[j + 1:-1]:  # Go never prints parentheses inside arguments
        return line[:j]
    depth = 0
    for j in range(len(line) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(line[j], 0)
        if depth == 0:
            return line[:j] or line
    return line


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def to_profile(snap: Snapshot) -> GoroutineProfile:
    """One sample per goroutine (debug=2) or per record, value = count."""
    if snap.aggregated:
        stacks = [(r.frames, r.count, r.labels) for r in snap.records]
    else:
        stacks = [(g.frames, 1, g.labels) for g in snap.goroutines]
    functions, locations, func_ids, loc_ids = [], [], {}, {}
    label_sets, label_ids = [()], {(): 0}
    offsets, locs, values, sets = [0], [], [], []
    for frames, count, labels in stacks:
        for fr in frames:
            if fr not in loc_ids:
                fk = (fr.func, fr.file)
                if fk not in func_ids:
                    func_ids[fk] = len(functions)
                    functions.append(Function(fr.func, fr.func, fr.file, 0))
                loc_ids[fr] = len(locations)
                locations.append(Location(0, -1, (Line(func_ids[fk], fr.line, 0),), False))
            locs.append(loc_ids[fr])
        offsets.append(len(locs))
        values.append(count)
        key = tuple(Label(k, str(v), 0, "") for k, v in sorted(labels.items()))
        sets.append(label_ids.setdefault(key, len(label_sets)))
        if sets[-1] == len(label_sets):
            label_sets.append(key)
    vt = ValueType(snap.kind, "count")
    return GoroutineProfile(
        path=snap.path, sample_types=[vt], functions=functions, locations=locations,
        mappings=[], values=np.array(values, dtype=np.int64).reshape(len(values), 1),
        stack_offsets=np.array(offsets, dtype=np.int64),
        stack_locations=np.array(locs, dtype=np.int32), label_set=np.array(sets, dtype=np.int32),
        label_sets=label_sets, period_type=vt, period=1, time_nanos=snap.time_nanos,
        kind=f"goroutine-text {snap.format}", snapshot=snap)
