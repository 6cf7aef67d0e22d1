"""Readers for the Go compiler's escape-analysis diagnostics, and source lines.

Three shapes of the same facts (see FORMATS.md, "Escape analysis"):

- `go build -gcflags=-m`: `./f.go:12:2: moved to heap: x` lines under `# pkg`
  headers, mixed with `can inline` / `inlining call to` noise;
- `-m=2`: the same verdicts, each preceded by its explanation:
  `x escapes to heap in F:`, `  flow: ~r0 ← &x:`, `    from &x (address-of) at POS`;
- `-json=0,DIR`: DIR/<pkg>/<file>.json, a header object then one LSP
  diagnostic per line, flow steps as `escflow:` related information.

Inlining makes the compiler repeat a verdict once per call site; verdicts are
deduplicated on (position, text) and keep every distinct flow chain.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from reportgen.errors import ReportgenError
from reportgen.sources.files import input_problem, read_bytes, read_regular
from reportgen.sources.numbers import INT64_MAX, parse_int

MAX_SOURCE_BYTES = 16 << 20


class CompilerLogError(ReportgenError):
    """A compiler log that cannot be read or holds no diagnostics."""


@dataclass
class Step:
    """One `from WHERE (WHY) at POS` note of a flow."""
    where: str
    why: str
    pos: str


@dataclass
class Flow:
    """`flow: DST ← SRC`: SRC (with & or * prefixes) reaches DST, by the steps."""
    dst: str
    src: str
    steps: list = field(default_factory=list)


@dataclass
class Verdict:
    file: str        # as the compiler wrote it: ./f.go, example.com/m/f.go or /abs/f.go
    line: int
    col: int
    kind: str        # moved, escapes, leak, no_escape or capture
    value: str       # the variable, expression or parameter the verdict is about
    text: str        # the message as -m prints it
    function: str = ""   # enclosing function, when the log names it
    package: str = ""
    chains: list = field(default_factory=list)   # distinct explanations, each a list of Flow
    # "go" or "defer" (or "go/defer" when the log does not say which) for the
    # "func literal" the compiler writes around `go f(x)` / `defer f(x)` to hold
    # the call's arguments: not a closure in the program's source.
    wrapper: str = ""

    @property
    def pos(self) -> str:
        return f"{self.file}:{self.line}:{self.col}" if self.col else f"{self.file}:{self.line}"

    @property
    def escaping(self) -> bool:
        return self.kind in ("moved", "escapes", "leak")

    def as_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "col": self.col, "kind": self.kind,
                "value": self.value, "text": self.text, "function": self.function,
                "chains": [[{"dst": f.dst, "src": f.src,
                             "steps": [[s.where, s.why, s.pos] for s in f.steps]}
                            for f in chain] for chain in self.chains]}


@dataclass
class CompilerLog:
    path: str
    format: str                  # "m", "m2" or "json"
    verdicts: list = field(default_factory=list)
    packages: list = field(default_factory=list)
    noise: list = field(default_factory=list)   # inlining decisions, as "pos: text"
    duplicates: int = 0          # verdicts repeated by inlining, dropped

    @property
    def escapes(self) -> list:
        return [v for v in self.verdicts if v.escaping]


_POS = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?:(?P<col>\d+):)? (?P<msg>.*)$")
_AT = re.compile(r"^(?P<file>.+?):(?P<line>\d+)(?::(?P<col>\d+))?$")
_NOISE = re.compile(r"^(can inline|cannot inline|inlining call to) ")
_HEADER_ESC = re.compile(r"^(?P<value>.+) escapes to heap(?: in (?P<func>.+))?:$")
_HEADER_LEAK = re.compile(r"^parameter (?P<value>\S+) leaks to (?P<dst>.+?)"
                          r"(?: for (?P<func>.+))? with derefs=-?\d+:$")
_FLOW = re.compile(r"^\s*flow: (?P<dst>.*) ← (?P<src>.*):$")
_FROM = re.compile(r"^\s*from (?P<where>.*) \((?P<why>[^()]*)\)(?: at (?P<pos>.+))?$")
_VERDICTS = [
    ("moved", re.compile(r"^moved to heap: (?P<value>.+)$")),
    ("escapes", re.compile(r"^(?P<value>.+) escapes to heap$")),
    ("leak", re.compile(r"^leaking param content: (?P<value>.+)$")),
    ("leak", re.compile(r"^leaking param: (?P<value>\S+)(?: to result .*)?$")),
    ("leak", re.compile(r"^leaking closure reference (?P<value>.+)$")),
    ("no_escape", re.compile(r"^(?P<value>.+) does not escape(?:, mutate, or call)?$")),
    ("capture", re.compile(r"^(?P<func>.+) capturing by (?:value|ref): (?P<value>\S+) \(.*\)$")),
]


class _Collector:
    """Verdicts in first-seen order, deduplicated on (position, text)."""

    def __init__(self, log: CompilerLog):
        self.log = log
        self.seen: dict[tuple, Verdict] = {}
        self.chains: dict[tuple, list] = {}   # (pos, family) -> [(value, func, flows)]

    def add(self, v: Verdict):
        key = (v.file, v.line, v.col, v.text)
        old = self.seen.get(key)
        if old is None:
            self.seen[key] = v
            self.log.verdicts.append(v)
            return v
        self.log.duplicates += 1
        old.function = old.function or v.function
        for chain in v.chains:
            _merge_chain(old, chain)
        return old

    def chain(self, file, line, col, family, value, func, flows, package=""):
        self.chains.setdefault((file, line, col, family), []).append(
            (value, func, flows, package))

    def finish(self):
        """Give each verdict the explanations printed for its position."""
        claimed = set()
        for v in self.log.verdicts:
            family = "leak" if v.kind == "leak" else "escape" if v.escaping else None
            found = self.chains.get((v.file, v.line, v.col, family), []) if family else []
            same = [c for c in found if _same_value(c[0], v.value)] or found
            for value, func, flows, _ in same:
                v.function = v.function or func
                _merge_chain(v, flows)
                claimed.add(id(flows))
        # A -m=2 explanation whose verdict line is missing still says what escaped.
        for (file, line, col, family), found in self.chains.items():
            for value, func, flows, package in found:
                if id(flows) not in claimed:
                    kind = "leak" if family == "leak" else _escape_kind(value, flows)
                    text = (f"leaking param: {value}" if kind == "leak"
                            else _escape_text(kind, value))
                    # The package too: a position like ./f.go is matched through it.
                    self.add(Verdict(file, line, col, kind, value, text, func, package,
                                     chains=[flows]))
        for v in self.log.verdicts:
            if v.kind == "escapes" and v.chains and _escape_kind(v.value, v.chains[0]) == "moved":
                v.kind = "moved"
        # -json repeats each escape as a bare record with no message: keep it
        # only where nothing at the same position says more.
        said = {(v.file, v.line, v.col) for v in self.log.verdicts if v.escaping and v.value}
        bare = [v for v in self.log.verdicts
                if v.escaping and not v.value and (v.file, v.line, v.col) in said]
        if bare:
            drop = {id(v) for v in bare}
            self.log.verdicts = [v for v in self.log.verdicts if id(v) not in drop]
            self.log.duplicates += len(bare)
        mark_wrappers(self.log)


_WRAP_NAME = re.compile(r"\b(go|defer)wrap\d+\b")


def mark_wrappers(log: CompilerLog):
    """Flag the func literals the compiler made for `go f(args)` / `defer f(args)`.

    cmd/compile wraps such a call in a closure (gowrapN, deferwrapN) at the
    statement's position and evaluates the arguments into temporaries there.
    Evidence, by format: -m and -m=2 name the wrapper in their inlining lines;
    -m=2 and -json show arguments assigned to .autotmp_N at the statement's
    position, and -m=2 lists the wrapper capturing those temporaries.
    """
    kinds: dict[tuple, str] = {}
    for line in log.noise:
        m = _POS.match(line)
        w = _WRAP_NAME.search(m["msg"]) if m else None
        if w:
            kinds[(m["file"], int(m["line"]), int(m["col"] or 0))] = w[1]
    temps_at: set = set()
    for v in log.verdicts:
        if v.kind == "capture" and v.value.startswith(".autotmp_"):
            temps_at.add((v.file, v.line))
        for step in (s for chain in v.chains for f in chain for s in f.steps):
            at = parse_pos(step.pos)
            if at and step.why == "assign-pair" and step.where.startswith(".autotmp_"):
                temps_at.add((at[0], at[1], at[2]))
    for v in log.verdicts:
        if v.value != "func literal" or not v.escaping:
            continue
        kind = kinds.get((v.file, v.line, v.col))
        if kind is None and ((v.file, v.line, v.col) in temps_at or
                             ((v.file, v.line) in temps_at and not _closure_at(log, v))):
            kind = "go/defer"
        v.wrapper = kind or ""


def _closure_at(log: CompilerLog, lit: Verdict) -> bool:
    """A closure the program wrote: the log names it (F.funcN) at the literal's position."""
    pos = f"{lit.file}:{lit.line}:{lit.col}:"
    return any(n.startswith(pos) and re.search(r"\.func\d+\b", n) for n in log.noise)


def _same_value(a: str, b: str) -> bool:
    return a == b or (b == "append" and a.startswith("append("))


def _merge_chain(v: Verdict, flows: list):
    if flows and repr(flows) not in {repr(c) for c in v.chains}:
        v.chains.append(flows)


def _escape_kind(value: str, flows: list) -> str:
    """A variable whose own address leaves is moved to the heap (the JSON does not say)."""
    if flows and flows[0].src == "&" + value and re.fullmatch(r"[\w.]+", value):
        return "moved"
    return "escapes"


def _escape_text(kind: str, value: str) -> str:
    if kind == "moved":
        return f"moved to heap: {value}"
    return f"{value} escapes to heap" if value else "escapes to heap"


def read_compiler_log(path) -> CompilerLog:
    """A -m / -m=2 text file, a -json file, or a -json output directory."""
    p = Path(path)
    problem = input_problem(p, allow_dir=True)
    if problem:
        raise CompilerLogError(path, "no such file or directory" if problem == "does not exist"
                               else f"{problem}; only regular files and directories are read")
    if p.is_dir():
        files = sorted(f for f in p.rglob("*.json") if f.is_file())
        if not files:
            raise CompilerLogError(path, "no .json files here (expected the directory "
                                         "given to -gcflags=-json=0,DIR)")
        log = CompilerLog(str(path), "json")
        collector = _Collector(log)
        for f in files:
            _parse_json(f, _read_text(f), log, collector)
        collector.finish()
        return log
    text = _read_text(p)
    if text.lstrip().startswith("{"):
        log = CompilerLog(str(path), "json")
        collector = _Collector(log)
        _parse_json(p, text, log, collector)
    else:
        log = CompilerLog(str(path), "m")
        collector = _Collector(log)
        _parse_text(text, log, collector)
    collector.finish()
    if not log.verdicts and not log.noise:
        raise CompilerLogError(path, "no compiler diagnostics found (expected the output of "
                                     "go build -gcflags=-m, -m=2 or -json=0,DIR)")
    return log


def _read_text(p: Path) -> str:
    data = read_bytes(p, CompilerLogError, "a compiler log")
    if b"\0" in data[:4096] or data[:2] == b"\x1f\x8b":
        raise CompilerLogError(p, "binary data, not a compiler log")
    return data.decode("utf-8", "replace")


def _parse_text(text: str, log: CompilerLog, out: _Collector):
    package = ""
    chain = None   # (file, line, col, flows) of the explanation being read
    for no, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip("\r")
        if line.startswith("# "):
            package = line[2:].strip()
            log.packages.append(package)
            continue
        m = _POS.match(line)
        if not m:
            continue
        file, ln, col = m["file"], *_line_col(m, log.path, no)
        msg = m["msg"]
        if msg.startswith(" ") and chain and chain[:3] == (file, ln, col):
            _explanation_line(msg, chain[3], log.path, no)
            continue
        chain = None
        if _NOISE.match(msg):
            log.noise.append(line)
            continue
        header = _HEADER_ESC.match(msg) or _HEADER_LEAK.match(msg)
        if header:
            log.format = "m2"
            flows: list = []
            family = "leak" if msg.startswith("parameter ") else "escape"
            out.chain(file, ln, col, family, header["value"], header["func"] or "", flows,
                      package)
            chain = (file, ln, col, flows)
            continue
        for kind, rx in _VERDICTS:
            v = rx.match(msg)
            if v:
                func = v.groupdict().get("func") or ""
                out.add(Verdict(file, ln, col, kind, v["value"], msg, func, package))
                break


def _line_col(m, path, no) -> tuple[int, int]:
    """A position's line and column, bounded (see numbers.parse_int)."""
    return (parse_int(m["line"], path, no, what="line number", lo=0, error=CompilerLogError),
            parse_int(m["col"] or "0", path, no, what="column", lo=0, error=CompilerLogError))


def _explanation_line(msg: str, flows: list, path="", no=None):
    m = _FLOW.match(msg)
    if m:
        flows.append(Flow(m["dst"], m["src"]))
        return
    m = _FROM.match(msg)
    if m and flows:
        if m["pos"] and (at := _AT.match(m["pos"].strip())):
            _line_col(at, path, no)  # checked here, so parse_pos never meets a wild number
        flows[-1].steps.append(Step(m["where"], m["why"], m["pos"] or ""))


def _parse_json(path: Path, text: str, log: CompilerLog, out: _Collector):
    lines = text.splitlines()
    header = _json_line(path, 1, lines[0]) if lines else {}
    if not isinstance(header, dict) or not isinstance(header.get("file"), str):
        raise CompilerLogError(f"{path}:1", "expected a header object with a string 'file' "
                                            "(-gcflags=-json)")
    package, file = str(header.get("package", "")), header["file"]
    if package and package not in log.packages:
        log.packages.append(package)
    for n, raw in enumerate(lines[1:], start=2):
        if not raw.strip():
            continue
        d = _json_line(path, n, raw)
        try:
            _check_diagnostic(d)
        except _Shape as e:
            raise CompilerLogError(f"{path}:{n}", f"not a diagnostic object: {e}") from None
        start = d["range"]["start"]
        code, msg = d.get("code") or "", d.get("message") or ""
        ln, col = start["line"], start["character"]
        if code in ("escape", "escapes", "leak"):
            _json_verdict(d, code, msg, file, ln, col, package, out)
        elif "inline" in code.lower():
            log.noise.append(f"{file}:{ln}:{col}: {code} {msg}".rstrip())
        elif code == "iteration-variable-to-heap":
            out.add(Verdict(file, ln, col, "moved", msg, f"moved to heap: {msg} (loop variable)",
                            package=package))


def _json_line(path, n: int, raw: str):
    try:
        return json.loads(raw)
    except RecursionError:
        raise CompilerLogError(f"{path}:{n}", "JSON nested too deeply (expected one "
                                              "diagnostic object per line)") from None
    except ValueError as e:
        reason = e.msg if isinstance(e, json.JSONDecodeError) else str(e).split(";")[0]
        raise CompilerLogError(f"{path}:{n}", f"not JSON ({reason}; expected what "
                                              "-gcflags=-json writes)") from None


class _Shape(ValueError):
    """A JSON value of the wrong type; the message says where and what was expected."""


_KINDS = {dict: "an object", list: "a list", str: "a string", int: "an integer"}


def _member(obj: dict, key: str, want: type, at: str, required: bool = False):
    """obj[key] when it has type `want` (null or absent -> None unless required)."""
    v = obj.get(key)
    if v is None:
        if required:
            raise _Shape(f"{at}{key}: missing (expected {_KINDS[want]})")
        return None
    if not isinstance(v, want) or isinstance(v, bool):
        got = {bool: "a boolean", float: "a number", dict: "an object", list: "a list",
               str: "a string", int: "an integer"}.get(type(v), type(v).__name__)
        raise _Shape(f"{at}{key}: expected {_KINDS[want]} (got {got})")
    if want is int and not 0 <= v <= INT64_MAX:
        raise _Shape(f"{at}{key}: expected 0 to {INT64_MAX} (got {v})")
    return v


def _position(obj: dict, at: str, required: bool):
    rng = _member(obj, "range", dict, at, required)
    start = _member(rng, "start", dict, at + "range.", required) if rng is not None else None
    if start is not None:
        for key in ("line", "character"):
            _member(start, key, int, at + "range.start.", required)


def _check_diagnostic(d) -> None:
    """The shape of one LSP diagnostic as -gcflags=-json writes it; raises _Shape."""
    if not isinstance(d, dict):
        raise _Shape(f"expected an object (got {type(d).__name__})")
    _position(d, "", required=True)
    _member(d, "code", str, "")
    _member(d, "message", str, "")
    for i, info in enumerate(_member(d, "relatedInformation", list, "") or ()):
        at = f"relatedInformation[{i}]."
        if not isinstance(info, dict):
            raise _Shape(f"{at[:-1]}: expected an object")
        _member(info, "message", str, at)
        loc = _member(info, "location", dict, at)
        if loc is not None:
            _member(loc, "uri", str, at + "location.")
            _position(loc, at + "location.", required=False)


def _json_verdict(d, code, msg, file, ln, col, package, out: _Collector):
    flows = []
    for info in d.get("relatedInformation") or []:
        text = info.get("message") or ""
        if not text.startswith("escflow:"):
            continue
        step = text[len("escflow:"):]
        if _FLOW.match(step):
            _explanation_line(step, flows)
        elif (m := _FROM.match(step)) and flows:  # shape checked by _check_diagnostic
            flows[-1].steps.append(Step(m["where"], m["why"], _json_pos(info)))
    if code == "leak":
        m = re.match(r"^parameter (\S+) leaks to", msg)
        value = m[1] if m else msg
        out.add(Verdict(file, ln, col, "leak", value, f"leaking param: {value}",
                        package=package, chains=[flows] if flows else []))
        return
    value = msg[:-len(" escapes to heap")] if msg.endswith(" escapes to heap") else ""
    kind = _escape_kind(value, flows)
    out.add(Verdict(file, ln, col, kind, value, _escape_text(kind, value), package=package,
                    chains=[flows] if flows else []))


def _json_pos(info) -> str:
    loc = info.get("location") or {}
    uri = str(loc.get("uri", ""))
    path = unquote(uri[len("file://"):]) if uri.startswith("file://") else uri
    if re.match(r"^/[A-Za-z]:/", path):   # file:///C:/x.go
        path = path[1:]
    start = (loc.get("range") or {}).get("start") or {}
    return f"{path}:{start.get('line', 0)}:{start.get('character', 0)}"


def parse_pos(pos: str):
    """'./f.go:13:9' -> ('./f.go', 13, 9); None when it is not a position (or its
    numbers are out of range: the readers refuse those, see _line_col)."""
    m = _AT.match(pos.strip())
    try:
        return (m["file"], *_line_col(m, "", None)) if m else None
    except CompilerLogError:
        return None


# --- source lines

@dataclass
class Snippet:
    path: str          # the local file read, as analyze.source.shown prints it
    line: int          # the line the hint is about
    lines: list        # [(number, text)] around it


def source_roots(roots) -> list[dict]:
    """Roots as the manifest's `sources` has them, {"root": DIR, "strip": PREFIX}, from
    such dicts, plain directories, or the command line's PREFIX=DIR."""
    out = []
    for r in roots or ():
        if isinstance(r, dict):
            out.append({"root": str(r["root"]), "strip": r.get("strip") or "",
                        **({"shown": r["shown"]} if "shown" in r else {})})
            continue
        prefix, sep, target = str(r).partition("=")
        if sep and prefix and not os.path.isdir(str(r)):
            out.append({"root": target, "strip": prefix})
        else:
            out.append({"root": str(r), "strip": ""})
    return out


class SourceTree:
    """Source lines found under the given roots, the way `source` pages find them
    (analyze.source.resolve: never outside a root). Missing files give None."""

    def __init__(self, roots=()):
        self.roots = source_roots(roots)
        self.cache: dict[str, list | None] = {}

    def snippet(self, file: str, line: int, context: int = 3) -> Snippet | None:
        from reportgen.analyze.source import resolve, shown

        if not self.roots:
            return None
        if file not in self.cache:
            path, _ = resolve(file, self.roots)
            self.cache[file] = None if path is None else _read_lines(path)
        found = self.cache[file]
        if not found or not 0 < line <= len(found[1]):
            return None
        path, text = found
        lo, hi = max(1, line - context), min(len(text), line + context)
        return Snippet(shown(path, self.roots), line,
                       [(n, text[n - 1]) for n in range(lo, hi + 1)])


def _read_lines(path: str):
    try:   # a regular file only (never a FIFO swapped in), and not a huge one
        text = read_regular(path, MAX_SOURCE_BYTES).decode("utf-8", "replace")
    except OSError:
        return None
    lines = text.split("\n")   # \n only, as Go counts lines
    return path, [ln.removesuffix("\r") for ln in lines]
