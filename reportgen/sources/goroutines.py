"""Reader for goroutine dumps in text: debug=1 and debug=2 (panic output, runtime.Stack).

debug=1 (also `threadcreate` and Go 1.27's `goroutineleak`) aggregates stacks
into records with counts; debug=2 prints one block per goroutine with its
state, wait, labels and creator. Both become a Snapshot, and a Snapshot
becomes a model.Profile (sample type <kind>/count) so `top` works on dumps.
A dump cut short keeps what parsed and says where it stopped; it never fails.
"""

from __future__ import annotations

import contextlib
import gc
import re
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from reportgen.errors import ProfileError
from reportgen.model import Function, Label, Line, Location, Profile, ValueType
from reportgen.sources.numbers import parse_int


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
    """One goroutine of a debug=2 dump. Goroutines with the same stack may share
    one `frames` list: treat it as read-only."""
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
# A header anywhere in a line (behind an indent or a log prefix); the literal
# start keeps the search over a whole file at memchr speed.
_HEADER_IN_TEXT = re.compile(r"goroutine \d+(?: [a-z]+=\S+)* \[[^\]\n]*\][^\n]*:[ \t]*$", re.M)
_HEADER_IN_BYTES = re.compile(_HEADER_IN_TEXT.pattern.encode().replace(b"[ \\t]", b"[ \\t\\r]"),
                              re.M)
_FILE_LINE = re.compile(r"[\t ]+(.+):(\d+)(?: .*)?$")
_ELIDED = re.compile(r"\.\.\.(\d+|additional) frames elided\.\.\.\s*$")
_ANCESTOR = re.compile(r"\[originating from goroutine (\d+)\]:\s*$")
# Registers printed after a crashing thread's frames (runtime.dumpregs): `rax    0x0`.
_REGISTER = re.compile(r"[a-z][a-z0-9]*\s+0x[0-9a-f]+\s*$")
_RECORD = re.compile(r"(\d+) @((?: 0x[0-9a-f]+)*)\s*$")
_RECORD_FRAME = re.compile(r"#\s+0x[0-9a-f]+\s+(.+?)\+0x[0-9a-f]+\s+(.+):(\d+)\s*$")
_RECORD_PC = re.compile(r"#\s+(0x[0-9a-f]+)\s*$")  # an address the runtime could not symbolize
_BARE_NAME = re.compile(r"[A-Za-z_][\w./*()\[\]$·%-]*")  # `crosscall2`, `main.handler`
_UNKNOWN_FILES = ("?", "??")  # C frames without debug information: `?:0`


def detect_goroutine_text(data: bytes) -> bool:
    """True for a text goroutine dump of any kind (told by content, not name).

    The first header may be anywhere in the file (test output, logs) and
    behind an indent or a log prefix, as long as the line after it carries
    the same prefix."""
    start = data[:512]
    if b"\0" in start or start[:2] == b"\x1f\x8b":
        return False
    try:
        start.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.start < len(start) - 3:  # not just a character cut at the edge
            return False
    first = data.lstrip()[:200].decode("utf-8", "replace").split("\n", 1)[0]
    if _PROFILE_HEAD.search(first):
        return True
    for i, m in enumerate(_HEADER_IN_BYTES.finditer(data)):
        line_start = data.rfind(b"\n", 0, m.start()) + 1
        prefix = data[line_start:m.start()].decode("utf-8", "replace")
        eol = data.find(b"\n", m.end() + 1)
        nxt = data[m.end() + 1:eol if eol >= 0 else len(data)].decode("utf-8", "replace")
        if not prefix or _strip_prefix(nxt, prefix, _prefix_shape(prefix)) is not None:
            return True
        if i >= 100:
            return False
    return False


def load_goroutines(path, data: bytes) -> GoroutineProfile:
    return to_profile(parse_goroutines(str(path), data))


@contextlib.contextmanager
def paused_gc():
    """No cyclic garbage collection inside: reading 10^5 goroutines makes ~10^6
    containers and no cycles, and each collection would walk all of them again
    (a third of the time of a large dump)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def parse_goroutines(path: str, text) -> Snapshot:
    with paused_gc():
        try:
            return _parse(path, text)
        except _NumberOutOfRange as e:   # one line naming the file and the line
            raw = text if isinstance(text, str) else bytes(text).decode("utf-8", "replace")
            at = raw.find(e.digits)
            raise ProfileError(f"{path}:{raw.count(chr(10), 0, max(at, 0)) + 1}",
                               e.reason) from None


def _parse(path: str, text) -> Snapshot:
    """A debug=1 or debug=2 dump (str, or UTF-8 bytes) as a Snapshot.

    Reads dumps as pasted too: CRLF line ends, every line behind an indent or
    a log prefix (the text before the first `goroutine N [` header, digits
    free to vary), tabs expanded to spaces, text before and after the dump.
    """
    if isinstance(text, (bytearray, memoryview)):
        text = bytes(text)
    if isinstance(text, bytes):
        # Blocks are decoded one at a time: no second copy of a 150 MB dump, unless
        # its lines need rewriting (CRLF, prefixes).
        if b"\r" in text or _has_prefixed_header(text):
            text = text.decode("utf-8", "replace")
    if isinstance(text, str) and "\r" in text:
        text = text.replace("\r", "")
    first = _first_line(text)
    if m := _PROFILE_HEAD.search(first):
        if m.start():
            text = _unprefix(_as_str(text), first[:m.start()], convert_tabs=False)
        return _parse_debug1(path, text, m[1], _number(m[2]))
    if isinstance(text, str) and _has_prefixed_header(text):
        text = _unprefix(text)
    return _parse_debug2(path, text)


def _as_str(text) -> str:
    return text.decode("utf-8", "replace") if isinstance(text, bytes) else text


def _first_line(text) -> str:
    """The first line that is not blank."""
    m = re.search(rb"\S" if isinstance(text, bytes) else r"\S", text)
    if m is None:
        return ""
    nl = b"\n" if isinstance(text, bytes) else "\n"
    begin, end = text.rfind(nl, 0, m.start()) + 1, text.find(nl, m.start())
    return _as_str(text[begin:end if end >= 0 else len(text)])


class _NumberOutOfRange(Exception):
    def __init__(self, digits: str, reason: str):
        super().__init__(reason)
        self.digits, self.reason = digits, reason


def _number(digits: str) -> int:
    """A number of the dump, bounded (numbers.parse_int): counts, ids and line numbers
    become int64 model values, and 5000 digits would exceed Python's int conversion."""
    try:
        return parse_int(digits, "", lo=0, what="number")
    except ProfileError as e:
        raise _NumberOutOfRange(digits[:64], e.reason) from None


def _prefix_shape(prefix: str):
    """A log prefix as a pattern: its digits (time stamps, pids) may vary from line to line."""
    return re.compile(re.sub(r"\\d\+", r"\\d+(?:[.,]\\d+)?", re.sub(r"\d+", r"\\d+", re.escape(prefix))))


def _strip_prefix(line: str, prefix: str, shape) -> str | None:
    """The line without the dump's prefix; None when it does not carry it (the dump ended)."""
    if line.startswith(prefix):
        return line[len(prefix):]
    if not line.strip() and (not prefix.strip() or not line):
        return ""  # blank separators lose an indent's or a log prefix's trailing spaces
    if (m := shape.match(line)) or (m := shape.match(line + " ")):
        return line[m.end():]
    return None


def _has_prefixed_header(text) -> bool:
    """Is any `goroutine N [` header behind an indent or a prefix? (str or bytes)"""
    binary = isinstance(text, bytes)
    rx, newline = (_HEADER_IN_BYTES, 10) if binary else (_HEADER_IN_TEXT, "\n")
    for m in rx.finditer(text):
        if m.start() and text[m.start() - 1] != newline:
            return True
    return False


def _unprefix(text: str, prefix: str | None = None, convert_tabs: bool = True) -> str:
    """The dump as Go printed it: each header's prefix (indent, log prefix) removed from
    it and the lines after it, and lines indented with spaces (tabs expanded) as
    `\\t` lines. Text outside the dump is kept as it is."""
    out = []
    shape = _prefix_shape(prefix) if prefix is not None else None
    before = 0  # lines before the first header, retried with its prefix
    for line in text.split("\n"):
        m = _HEADER_IN_TEXT.search(line)
        if m and (m.start() == 0 or line[m.start() - 1] in " \t:]>|"):
            if prefix is None and before == len(out):
                first_shape = _prefix_shape(line[:m.start()])
                out = [_strip_prefix(ln, line[:m.start()], first_shape) or ln for ln in out]
            prefix, shape = line[:m.start()], _prefix_shape(line[:m.start()])
            out.append(line[m.start():])
            before = -1
            continue
        if prefix is None:
            out.append(line)
            before += before >= 0
            continue
        rest = _strip_prefix(line, prefix, shape)
        if rest is None:
            out.append(line)  # the dump ended
            prefix = shape = None
            continue
        if convert_tabs and rest[:1] in (" ", "\t"):
            rest = "\t" + rest.lstrip(" \t") if rest.strip() else ""
        out.append(rest)
    return "\n".join(out)


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
                if e != "x" and (v > 0x10FFFF or 0xD800 <= v <= 0xDFFF):
                    v = 0xFFFD  # not a code point: Go's strconv would refuse it
                out += bytes([v]) if e == "x" else chr(v).encode("utf-8")
                i += 2 + width
                continue
            out += _ESCAPES.get(e, "\\" + e).encode()
            i += 2
            continue
        out += c.encode("utf-8", "surrogatepass")
        i += 1
    return out.decode("utf-8", "replace")


def _blocks(text):
    """(number of its first line, its lines) of each run of lines between blank lines;
    from bytes, each block is decoded on its own (UTF-8 never splits across lines)."""
    binary = isinstance(text, bytes)
    sep, newline = (b"\n\n", 10) if binary else ("\n\n", "\n")
    pos, no, n = 0, 1, len(text)
    find = text.find
    while pos < n:
        if text[pos] == newline:
            pos += 1
            no += 1
            continue
        end = find(sep, pos)
        if end < 0:
            end = n
        block = text[pos:end]
        lines = (block.decode("utf-8", "replace") if binary else block).split("\n")
        yield no, lines
        no += len(lines)
        pos = end + 1


def _parse_debug1(path, text, kind, total) -> Snapshot:
    snap = Snapshot(path, "debug=1", kind, total)
    frames_of = {}  # frame line -> Frame: a program's frames repeat across records
    get = frames_of.get
    labels_of = {}
    last, first = 1, True
    for no, lines in _blocks(text):
        last = no + len(lines) - 1
        if first:
            lines, no, first = lines[1:], no + 1, False  # the profile header
            if not lines:
                continue
        body = lines[1:]
        labels = body[0][len("# labels:"):] if body and body[0].startswith("# labels:") else None
        frames = [get(ln) or _record_frame(ln, frames_of) for ln in body[labels is not None:]]
        m = _RECORD.match(lines[0])
        if m is None or None in frames:
            # Not one record with its frames: records without blank lines between them
            # (old profiles), or lines that are no frame.
            _read_records(snap, no, lines, frames_of, labels_of)
            continue
        rec = Record(_number(m[1]), frames)
        if labels is not None:
            rec.labels = _labels(labels, labels_of)
        snap.records.append(rec)
    for r in snap.records:
        if not r.frames:  # only `@ 0xpc ...`, as old profiles wrote: pprof's <unknown>
            r.frames.append(Frame("", "", 0))
    seen = sum(r.count for r in snap.records)
    if seen != total:
        snap.warnings.append(f"the records account for {seen} of the {total} in the header "
                             f"(the text stops at line {last}): the dump looks truncated")
    return snap


def _read_records(snap, no: int, lines: list, frames_of: dict, labels_of: dict):
    """The records of a block line by line; what is not a record, frame or label is
    skipped with a warning."""
    rec = None
    for i, ln in enumerate(lines):
        if m := _RECORD.match(ln):
            rec = Record(_number(m[1]), [])
            snap.records.append(rec)
        elif rec is not None and ln.startswith("# labels:"):
            rec.labels = _labels(ln[len("# labels:"):], labels_of)
        elif rec is not None and (fr := frames_of.get(ln) or _record_frame(ln, frames_of)):
            rec.frames.append(fr)
        elif ln.strip():
            snap.warnings.append(f"line {no + i}: could not read {_clip(ln)!r}; skipped it")


def _labels(text: str, cache: dict) -> dict:
    items = cache.get(text)
    if items is None:
        items = cache[text] = tuple(parse_labels(text).items())
    return dict(items)


def _record_frame(line: str, cache: dict):
    """`#\t0x4d2026\tpkg.f+0x26\t\tfile.go:84` (tabs or spaces) -> Frame, cached by line."""
    if m := _RECORD_FRAME.match(line):
        fr = cache[line] = Frame(m[1], m[2], _number(m[3]))
        return fr
    if m := _RECORD_PC.match(line):
        fr = cache[line] = Frame(m[1], "", 0)
        return fr
    return None


class _Debug2:
    """State of one debug=2 read: caches shared by every goroutine of the dump.

    Most blocks are a header, (function line, file line) pairs and a creator:
    they are read in bulk, with file lines, frames and headers memoised (a
    dump repeats a few thousand of each in 10^5 goroutines). Any other block
    (C frames without a file line, elisions, ancestors, registers, text
    around the dump) goes through the line-by-line reader."""

    def __init__(self, snap: Snapshot):
        self.snap = snap
        self.where = {}      # file line -> (file, line)
        self.frames = {}     # (function, file line) -> Frame
        self.by_file = {}    # file line -> the Frame first seen with it
        self.unique = {}     # Frame -> itself
        self.headers = {}    # header text after the id -> parsed fields
        self.stacks = {}     # ids of a stack's frames -> its one frame list
        self.by_files = {}   # a stack's file lines -> its frame list
        self.creators = {}   # (created by line, its file line) -> Creator

    def block(self, no: int, lines: list, last: bool = False, cut: bool = False):
        """Read one block; the `last` one of the text may end inside a goroutine, and
        one that is `cut` (no line end) may end inside a line."""
        if not last and len(lines) % 2 and (g := self.header(lines[0], no)):
            funcs, files = lines[1::2], lines[2::2]
            creator = None
            if funcs and funcs[-1].startswith("created by "):
                creator, creator_file = funcs.pop(), files.pop()
            # The file lines (`\tpath:line +0xoff`: a call site in one function) name the
            # stack; the leaf's name is checked too, for dumps whose lines carry no offset.
            known = self.by_files.get(tuple(files))
            if known is not None and (not funcs or known[0].func == _leaf_name(funcs[0])):
                frames = known
            else:
                frames = self.frames_of(funcs, files)
                if frames is None:
                    return self.lines(no, lines, last, cut)
            if creator is not None:
                created = self.creators.get((creator, creator_file))
                if created is None:
                    where = self.where.get(creator_file) or self.file_line(creator_file)
                    if where is None:
                        return self.lines(no, lines, last, cut)
                    func, parent = _created(creator)
                    created = self.creators[(creator, creator_file)] = Creator(func, *where,
                                                                               parent)
                g.created_by = created
            g.frames = frames
            self.snap.goroutines.append(g)
            return None
        return self.lines(no, lines, last, cut)

    def frames_of(self, funcs: list, files: list):
        """The frames of (function line, file line) pairs, as a list shared by every
        goroutine with that stack; None when a line is not what it should be."""
        names = [ln[:ln.rfind("(")] if ln[-1:] == ")" else ln for ln in funcs]
        # A file line almost always belongs to one function: look the frame up by it,
        # then check the name.
        get, new = self.by_file.get, self.frame
        frames = [fr if (fr := get(f)) is not None and fr.func == n else new(n, f)
                  for n, f in zip(names, files)]
        if None in frames or "" in names:
            return None
        # Goroutines with one stack share one list (frames are unique objects).
        frames = self.stacks.setdefault(tuple(map(id, frames)), frames)
        self.by_files.setdefault(tuple(files), frames)
        return frames

    def header(self, line: str, no: int):
        """A Goroutine for a `goroutine N [state...]:` line, else None."""
        if not line.startswith("goroutine "):
            return None
        j = line.find(" ", 10)
        digits, rest = line[10:j], line[j:]
        fields = self.headers.get(rest)
        if fields is None or not (digits.isascii() and digits.isdigit()):
            if not (m := _HEADER.match(line)):
                return None
            fields = self.headers[rest] = _header_fields(m[3], m[4])
        state, wait, leaked, scan, locked, labels = fields
        return Goroutine(_number(digits), state, wait, leaked, locked, scan,
                         dict(labels) if labels else {}, [], None, 0, [], no)

    def file_line(self, line: str):
        """(file, line) of a `\tpath:line +0xoff` line, else None."""
        m = _FILE_LINE.match(line)
        if not m:
            return None
        file = m[1].strip()
        w = self.where[line] = ("", 0) if file in _UNKNOWN_FILES else (file, _number(m[2]))
        return w

    def frame(self, name: str, file_line: str, where: tuple | None = None) -> Frame | None:
        """The one Frame of a function at a file line (None when it is no file line)."""
        key = (name, file_line)
        fr = self.frames.get(key)
        if fr is None:
            if where is None and (where := self.where.get(file_line)
                                  or self.file_line(file_line)) is None:
                return None
            fr = Frame(name, *where)
            fr = self.frames[key] = self.unique.setdefault(fr, fr)  # one object per value
            self.by_file.setdefault(file_line, fr)
        return fr

    def lines(self, no: int, lines: list, last: bool, cut: bool):
        """The line-by-line reader, for every block the bulk reader does not take."""
        snap = self.snap
        g = target = None  # the goroutine being read; where frames go (it or an ancestor)
        n = len(lines)
        i = 0
        while i < n:
            line = lines[i]
            at = no + i
            i += 1
            if not line.strip():
                g = target = None
                continue
            if line.startswith("goroutine ") and (h := self.header(line, at)):
                g = target = h
                snap.goroutines.append(g)
                continue
            if g is None:
                if not snap.goroutines and not snap.message and line.startswith(
                        ("panic: ", "fatal error: ", "runtime: ", "SIG")):
                    snap.message = line.strip()
                continue  # text around the dump: panic messages, registers, exit status
            if line.startswith("[originating") and (m := _ANCESTOR.match(line)):
                target = Ancestor(_number(m[1]), [])
                g.ancestors.append(target)
                continue
            if line.startswith("...") and (m := _ELIDED.match(line)):
                if target is g:  # ancestors' elisions say nothing about the goroutine itself
                    g.elided = -1 if m[1] == "additional" else _number(m[1])
                continue
            if line[:1] in "\t " and "stack unavailable" in line:
                continue  # "goroutine running on other thread; stack unavailable"
            if _REGISTER.match(line):
                g = target = None  # a crashing thread's registers follow its frames
                continue
            nxt = lines[i] if i < n else ""
            where = (self.where.get(nxt) or self.file_line(nxt)) if nxt[:1] in "\t " else None
            partial = cut and i >= n and not where  # the text may end inside this line
            if line.startswith("created by ") and not partial:
                i += where is not None
                func, parent = _created(line)
                target.created_by = Creator(func, *(where or ("", 0)), parent)
                continue
            name = _func_name(line)
            if where is not None or (name and not partial and _looks_like_call(line)):
                # A frame from C code may have no file line at all (or `?:0`).
                i += where is not None
                target.frames.append(self.frame(name, nxt if where else "", where or ("", 0)))
                continue
            g.truncated = True
            if last and i >= n - 1:
                snap.warnings.append(f"the dump ends inside goroutine {g.id} (line {at}): it "
                                     f"looks truncated; {len(snap.goroutines)} goroutines read")
            else:
                snap.warnings.append(f"line {at}: could not read {_clip(line)!r} in goroutine "
                                     f"{g.id}; skipped to the next goroutine")
            g = target = None
        if last and g is not None and not g.frames and not g.created_by:
            g.truncated = True
            snap.warnings.append(f"the dump ends inside goroutine {g.id} (line {g.line}): it "
                                 f"looks truncated; {len(snap.goroutines)} goroutines read")


def _parse_debug2(path, text) -> Snapshot:  # text: str or bytes
    snap = Snapshot(path, "debug=2")
    reader = _Debug2(snap)
    blocks = _blocks(text)
    prev = next(blocks, None)
    for cur in blocks:
        reader.block(*prev)
        prev = cur
    if prev is not None:
        # An unterminated last line may be cut anywhere: it is not taken for a C frame.
        reader.block(*prev, last=True,
                     cut=not text.endswith(b"\n" if isinstance(text, bytes) else "\n"))
    snap.total = len(snap.goroutines)
    return snap


def _leaf_name(line: str) -> str:
    return line[:line.rfind("(")] if line[-1:] == ")" else line


def _created(line: str) -> tuple[str, int]:
    """`created by pkg.f in goroutine 12` -> (pkg.f, 12); Go < 1.21 names no goroutine (0)."""
    body = line[len("created by "):].rstrip()
    func, sep, parent = body.rpartition(" in goroutine ")
    if sep and parent.isascii() and parent.isdigit():
        return func, _number(parent)
    return body, 0


def _header_fields(bracket: str, rest: str) -> tuple:
    """(state, wait minutes, leaked, scan, locked, labels) of `[state, N minutes, ...] {labels}`."""
    parts = bracket.split(", ")
    leaked, scan = " (leaked)" in parts[0], " (scan)" in parts[0]
    # "(durable)" marks synctest bubbles; the state without it groups better.
    state = re.sub(r" \((leaked|scan|durable)\)", "", parts[0])
    wait, locked = 0, False
    for part in parts[1:]:
        if w := re.fullmatch(r"(\d+) minutes?", part):
            wait = _number(w[1])
        elif part == "locked to thread":
            locked = True
    rest = rest.strip()
    labels = tuple(parse_labels(rest).items()) if rest.startswith("{") else ()
    return state, wait, leaked, scan, locked, labels


def _looks_like_call(line: str) -> bool:
    """A function line without its file line: `pkg.f(0x1, ...)`, `f()` or a bare `pkg.f`."""
    s = line.strip()
    if s.endswith(")") and s.find("(") > 0:
        return True
    return bool(_BARE_NAME.fullmatch(s))


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
    with paused_gc():
        return _to_profile(snap)


def _to_profile(snap: Snapshot) -> GoroutineProfile:
    if snap.aggregated:
        stacks = ((r.frames, r.count, r.labels) for r in snap.records)
    else:
        stacks = ((g.frames, 1, g.labels) for g in snap.goroutines)
    functions, locations, func_ids, loc_ids = [], [], {}, {}
    label_sets, label_ids, labels_of = [()], {(): 0}, {}
    by_list = {}  # id(frame list) -> location ids: goroutines share their stack's list
    locs, lengths, values, sets = [], [], [], []

    def location(fr):
        loc = loc_ids.get(fr)
        if loc is None:
            fk = (fr.func, fr.file)
            if fk not in func_ids:
                func_ids[fk] = len(functions)
                functions.append(Function(fr.func, fr.func, fr.file, 0))
            loc = loc_ids[fr] = len(locations)
            locations.append(Location(0, -1, (Line(func_ids[fk], fr.line, 0),), False))
        return loc

    for frames, count, labels in stacks:
        ids = by_list.get(id(frames))
        if ids is None:
            ids = by_list[id(frames)] = [location(fr) for fr in frames]
        locs.extend(ids)
        lengths.append(len(ids))
        values.append(count)
        if not labels:
            sets.append(0)
            continue
        items = tuple(labels.items())
        set_id = labels_of.get(items)
        if set_id is None:
            # A label with an empty value carries nothing: pprof drops it (never a numeric 0).
            key = tuple(Label(k, str(v), 0, "") for k, v in sorted(items) if v != "")
            set_id = labels_of[items] = label_ids.setdefault(key, len(label_sets))
            if set_id == len(label_sets):
                label_sets.append(key)
        sets.append(set_id)
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    vt = ValueType(snap.kind, "count")
    return GoroutineProfile(
        path=snap.path, sample_types=[vt], functions=functions, locations=locations,
        mappings=[], values=np.array(values, dtype=np.int64).reshape(len(values), 1),
        stack_offsets=offsets,
        stack_locations=np.array(locs, dtype=np.int32), label_set=np.array(sets, dtype=np.int32),
        label_sets=label_sets, period_type=vt, period=1, time_nanos=snap.time_nanos,
        kind=f"goroutine-text {snap.format}", snapshot=snap)
