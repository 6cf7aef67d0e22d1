"""Reader for the Go benchmark data format (`go test -bench` output), as
golang.org/x/perf/benchfmt reads it.

    goos: linux                       <- configuration: applies to results after it
    pkg: example.com/gateway
    Unit text-bytes assume=exact      <- unit metadata: applies to the whole input
    BenchmarkHandler/json-8   13774   86992 ns/op   15498 B/op   249 allocs/op
    PASS                              <- anything else is ignored

The rules are benchfmt's (Reader.Scan, parseBenchmarkLine, parseKeyValueLine,
parseUnitLine, benchunit.Tidy), written here from their documented behaviour:

- Lines end at "\\n" (a trailing "\\r" is dropped); a line longer than 64 KiB
  stops the read, as bufio.Scanner does.
- A result line starts with "Benchmark" at column 0; the name is the rest of
  the first field, whatever its case (`Benchmarkuber_zap_total` is the
  benchmark `uber_zap_total`). A name alone on its line (`go test -v`) is
  skipped; anything else that does not parse is a syntax error that skips
  that line only.
- The iteration count is a Go int (`+10` is 10); values are Go floats (`NaN`,
  `+Inf`, `1_000`, `0x1p-2`); a value out of float64 range is an error.
- Values are tidied into base units: ns/op -> sec/op (x1e-9), MB/s -> B/s
  (x1e6), any `ns`/`MB` in a unit's numerator likewise. As in benchunit, a
  value the scaling leaves unchanged (0, ±Inf) keeps its original unit.
- A unit may repeat on one line; every value counts.
- `key: value` lines (key: a lower-case letter first, no space or upper case)
  set configuration for the results after them; `key:` with no value deletes
  the key. Each result carries the configuration in force, in benchfmt's order.
- `Unit NAME KEY=VALUE ...` lines give unit metadata for the whole input
  (`assume=exact`, `better=higher`); conflicting values are errors.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from reportgen.errors import ReportgenError
from reportgen.sources.files import read_bytes

EXAMPLE = "BenchmarkName-8  1000  1234 ns/op"
MAX_LINE = 64 * 1024 - 1          # bufio.Scanner's MaxScanTokenSize, less the newline
# Go's unicode.IsSpace: what separates fields (Python's str.split also splits at \x1c-\x1f).
_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_FIELDS = re.compile(f"[^{_SPACE}]+")
_IS_SPACE = re.compile(f"[{_SPACE}]")
_MAX_INT = (1 << 63) - 1
# Go float syntax as benchfmt's bytesconv accepts it ("_" only between digits, checked apart).
_DEC_FLOAT = re.compile(r"[+-]?(?:[0-9_]+\.?[0-9_]*|\.[0-9_]+)(?:[eE][+-]?[0-9][0-9_]*)?")
_HEX_FLOAT = re.compile(r"[+-]?0[xX](?:[0-9a-fA-F_]+\.?[0-9a-fA-F_]*|\.[0-9a-fA-F_]+)"
                        r"[pP][+-]?[0-9][0-9_]*")
_PLAIN_FLOAT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_SPECIAL = {"+inf": math.inf, "+infinity": math.inf, "-inf": -math.inf,
            "-infinity": -math.inf, "inf": math.inf, "infinity": math.inf, "nan": math.nan}


class BenchError(ReportgenError):
    """A benchmark file that cannot be read or holds no results."""


@dataclass(frozen=True)
class Value:
    """One measurement: tidied value and unit, and the original when tidying changed it."""
    value: float
    unit: str
    orig_value: float | None = None
    orig_unit: str | None = None


@dataclass
class BenchResult:
    """One result line (benchfmt.Result)."""
    name: str                   # the full name after "Benchmark": Handler/json-8
    iterations: int
    values: list[Value]         # in line order; a unit may repeat
    config: dict[str, str]      # the file configuration in force, in benchfmt's order
    line: int

    @property
    def pkg(self) -> str:
        return self.config.get("pkg", "")

    @property
    def display(self) -> str:
        """The name as benchstat shows it (.fullname): no "Benchmark" prefix, -PROCS kept."""
        return self.name

    @property
    def procs(self) -> int | None:
        """GOMAXPROCS from a trailing -N (benchfmt Name.splitGomaxprocs)."""
        m = re.search(r"-([0-9]+)$", self.name)
        return int(m[1]) if m and len(m[1]) <= 18 else None

    def value(self, unit: str) -> float | None:
        """The first value in `unit` (tidied: sec/op, B/s ...), or None."""
        return next((v.value for v in self.values if v.unit == unit), None)


@dataclass(frozen=True)
class UnitMeta:
    """A `Unit` line's KEY=VALUE for one unit (benchfmt.UnitMetadata)."""
    unit: str                   # tidied
    orig_unit: str
    key: str
    value: str
    line: int


@dataclass(frozen=True)
class SyntaxIssue:
    """A line benchfmt reports as a syntax error and skips (benchfmt.SyntaxError)."""
    line: int
    message: str


@dataclass
class BenchSet:
    """Every result in one file, in file order."""
    path: str
    results: list[BenchResult]
    config: dict[str, list[str]] = field(default_factory=dict)  # key -> distinct values
    errors: list[SyntaxIssue] = field(default_factory=list)
    unit_meta: dict[tuple[str, str], UnitMeta] = field(default_factory=dict)

    @property
    def malformed(self) -> list[int]:
        """Lines of the syntax errors."""
        return [e.line for e in self.errors]

    def samples(self) -> dict[tuple[str, str], dict[str, list[float]]]:
        """(pkg, name) -> tidied unit -> every value, in file order."""
        out: dict[tuple[str, str], dict[str, list[float]]] = {}
        for r in self.results:
            units = out.setdefault((r.pkg, r.display), {})
            for v in r.values:
                units.setdefault(v.unit, []).append(v.value)
        return out

    def units(self) -> list[str]:
        """Tidied units in order of first appearance."""
        seen: dict[str, None] = {}
        for r in self.results:
            seen.update(dict.fromkeys(v.unit for v in r.values))
        return list(seen)

    def assumption(self, unit: str) -> str:
        """"exact" when a Unit line says assume=exact, else "nothing" (benchfmt GetAssumption)."""
        meta = self.unit_meta.get((tidy_unit(unit)[0], "assume"))
        return "exact" if meta is not None and meta.value == "exact" else "nothing"


# ---- numbers and units ---------------------------------------------------------

def _underscores_ok(s: str) -> bool:
    """Go's underscoreOK: "_" only between digits (or after a base prefix)."""
    s = s[1:] if s[:1] in "+-" else s
    prefixed = s[:2].lower() in ("0x", "0b", "0o")
    saw, i = ("0", 2) if prefixed else ("^", 0)
    hexa = s[:2].lower() == "0x"
    for c in s[i:]:
        if c.isascii() and (c.isdigit() or hexa and c.lower() in "abcdef"):
            saw = "0"
        elif c == "_":
            if saw != "0":
                return False
            saw = "_"
        else:
            if saw == "_":
                return False
            saw = "!"
    return saw != "_"


def parse_go_int(text: str) -> tuple[int | None, str]:
    """(value, "") or (None, reason) as Go's strconv.Atoi on a 64-bit machine."""
    digits = text[1:] if text[:1] in "+-" else text
    if not digits or not digits.isascii() or not digits.isdigit():
        return None, "invalid syntax"
    # Bounded: a 5000-digit count is out of range without converting it.
    if len(digits.lstrip("0")) > 19:
        return None, "value out of range"
    v = int(digits)
    v = -v if text[0] == "-" else v
    if not -_MAX_INT - 1 <= v <= _MAX_INT:
        return None, "value out of range"
    return v, ""


def parse_go_float(text: str) -> tuple[float | None, str]:
    """(value, "") or (None, reason) as benchfmt's atof (Go's ParseFloat, 64 bits)."""
    if _PLAIN_FLOAT.fullmatch(text):      # the common case: no _, hex or words
        v = float(text)
        return (None, "value out of range") if math.isinf(v) else (v, "")
    special = _SPECIAL.get(text.lower())
    if special is not None:
        return special, ""
    if not text.isascii() or not _underscores_ok(text):
        return None, "invalid syntax"
    if _HEX_FLOAT.fullmatch(text):
        try:
            v = float.fromhex(text.replace("_", ""))
        except OverflowError:
            return None, "value out of range"
    elif _DEC_FLOAT.fullmatch(text) and any(c.isdigit() for c in text.split("e")[0].split("E")[0]):
        v = float(text.replace("_", ""))
    else:
        return None, "invalid syntax"
    if math.isinf(v):
        return None, "value out of range"
    return v, ""


def _unit_tokens(unit: str):
    """(token, start, in denominator) as benchunit's parser splits a unit."""
    denom, i, n = False, 0, len(unit)
    while i < n:
        c = unit[i]
        if c == "*":
            denom, i = False, i + 1
        elif c == "/":
            denom, i = True, i + 1
        elif c == "-" or _IS_SPACE.match(c):
            i += 1
        else:
            j = i
            while j < n and unit[j] not in "*/-" and not _IS_SPACE.match(unit[j]):
                j += 1
            yield unit[i:j], i, denom
            i = j


def tidy_unit(unit: str) -> tuple[str, float]:
    """(base unit, factor) as benchunit.Tidy: ns/op -> sec/op x1e-9, MB/s -> B/s x1e6."""
    fast = {"ns/op": ("sec/op", 1e-9), "MB/s": ("B/s", 1e6)}
    if unit in fast:
        return fast[unit]
    if "ns" not in unit and "MB" not in unit:
        return unit, 1.0
    factor, out, last = 1.0, [], 0
    for tok, start, denom in _unit_tokens(unit):
        if denom or tok not in ("ns", "MB"):
            continue
        out += [unit[last:start], "sec" if tok == "ns" else "B"]
        last = start + 2
        factor = factor / 1e9 if tok == "ns" else factor * 1e6
    return "".join(out) + unit[last:], factor


def unit_class(unit: str) -> str:
    """"binary" when bytes are in the numerator (benchunit.ClassOf), else "decimal"."""
    if any(tok in ("B", "MB", "bytes") and not denom for tok, _, denom in _unit_tokens(unit)):
        return "binary"
    return "decimal"


# ---- lines ---------------------------------------------------------------------

def parse_result(line: str, config: dict[str, str], lineno: int) -> BenchResult | str | None:
    """A result, None for a bare name (go test -v), or the syntax error's message.

    The caller has checked that the line starts with "Benchmark".
    """
    rest = line[len("Benchmark"):]
    fields = _FIELDS.findall(rest)
    name = fields[0] if fields and not _IS_SPACE.match(rest[:1] or "x") else ""
    if name:
        fields = fields[1:]
    if not fields:
        if name == rest:
            return None
        return "missing iteration count"
    iters, why = parse_go_int(fields[0])
    if iters is None:
        return f"parsing iteration count: {why}"
    values: list[Value] = []
    pairs = fields[1:]
    if not pairs:
        return "missing measurements"
    for i in range(0, len(pairs), 2):
        v, why = parse_go_float(pairs[i])
        if v is None:
            return f"parsing measurement: {why}"
        if i + 1 >= len(pairs):
            return "missing units"
        unit = pairs[i + 1]
        tidied, factor = tidy_unit(unit)
        t = v * factor
        # benchfmt compares the scaled value with the original: 0 and ±Inf stay as written.
        values.append(Value(v, unit) if t == v else Value(t, tidied, v, unit))
    return BenchResult(name, iters, values, dict(config), lineno)


def _key_value(line: str) -> tuple[str, str] | None:
    """benchfmt's parseKeyValueLine: ("key", "value") or None."""
    colon = line.find(":")
    if colon <= 0:
        return None
    key = line[:colon]
    if not key[0].islower() or any(c.isupper() or _IS_SPACE.match(c) for c in key):
        return None
    value = line[colon + 1:]
    if not value:
        return key, ""
    stripped = value.lstrip(" \t")
    if stripped == value:
        return None  # "key:value" without a space is not configuration
    return key, stripped


class _Config:
    """The configuration in force, in benchfmt's order (a deleted key's slot takes the last)."""

    def __init__(self):
        self.keys: list[str] = []
        self.values: dict[str, str] = {}

    def set(self, key: str, value: str):
        if key not in self.values:
            self.keys.append(key)
        self.values[key] = value

    def delete(self, key: str):
        if key in self.values:
            pos = self.keys.index(key)
            self.keys[pos] = self.keys[-1]
            self.keys.pop()
            del self.values[key]

    def snapshot(self) -> dict[str, str]:
        return {k: self.values[k] for k in self.keys}


def _unit_line(fields: list[str], lineno: int, out: BenchSet):
    if not fields:
        out.errors.append(SyntaxIssue(lineno, "missing unit"))
        return
    unit = fields[0]
    tidied = tidy_unit(unit)[0]
    for f in fields[1:]:
        eq = f.find("=")
        if eq <= 0:
            out.errors.append(SyntaxIssue(lineno, "expected key=value"))
            continue
        key, value = f[:eq], f[eq + 1:]
        have = out.unit_meta.get((tidied, key))
        if have is not None:
            if have.value != value:
                out.errors.append(SyntaxIssue(
                    lineno, f"metadata {key} of unit {unit} already set to {have.value}"))
            continue
        out.unit_meta[(tidied, key)] = UnitMeta(tidied, unit, key, value, lineno)


def _lines(data: bytes, path):
    """(number, text) per line as bufio.Scanner splits them; a line over 64 KiB is an error."""
    raw = data.split(b"\n")
    if raw and raw[-1] == b"":
        raw.pop()
    for lineno, b in enumerate(raw, 1):
        if len(b) > MAX_LINE:
            raise BenchError(path, f"line {lineno}: longer than 64 KiB (bufio.Scanner: "
                                   f"token too long, as benchstat reads it)")
        if b.endswith(b"\r"):
            b = b[:-1]
        yield lineno, b.decode("utf-8", errors="replace")


def parse_bench(text: str | bytes, path: str = "<input>",
                unit_meta: dict | None = None) -> BenchSet:
    """Parse benchmark output; raise BenchError when it holds no result.

    `unit_meta` carries Unit lines over from files read before (benchfmt
    keeps them across files); conflicts with it are syntax errors here.
    """
    data = text.encode("utf-8", errors="surrogateescape") if isinstance(text, str) else text
    config = _Config()
    seen: dict[str, list[str]] = {}
    out = BenchSet(str(path), [], unit_meta=dict(unit_meta or {}))
    for lineno, line in _lines(data, path):
        if line.startswith("Benchmark"):
            result = parse_result(line, config.snapshot(), lineno)
            if isinstance(result, BenchResult):
                out.results.append(result)
            elif result is not None:
                out.errors.append(SyntaxIssue(lineno, result))
            continue
        if line.startswith("U"):
            fields = _FIELDS.findall(line)
            if fields[0] == "Unit":
                _unit_line(fields[1:], lineno, out)
                continue
        kv = _key_value(line)
        if kv is None:
            continue
        key, value = kv
        if value:
            config.set(key, value)
            if value not in seen.setdefault(key, []):
                seen[key].append(value)
        else:
            config.delete(key)
    out.config = seen
    if not out.results:
        raise BenchError(path, f"no benchmark results (expected `go test -bench` output with "
                               f"lines like '{EXAMPLE}')")
    return out


def split_by(bench: BenchSet, key: str) -> list[BenchSet]:
    """One set per value of configuration `key`, in order of first appearance, like
    benchstat's `-col KEY` on one file (results without the key are dropped)."""
    out: dict[str, BenchSet] = {}
    for r in bench.results:
        value = r.config.get(key)
        if value is None:
            continue
        if value not in out:
            out[value] = BenchSet(f"{bench.path} ({key}: {value})", [], {}, [],
                                  dict(bench.unit_meta))
        part = out[value]
        part.results.append(r)
        for k, v in r.config.items():
            if v not in part.config.setdefault(k, []):
                part.config[k].append(v)
    return list(out.values())


def load_bench(path, unit_meta: dict | None = None) -> BenchSet:
    """Read and parse a benchmark file, naming the file in every error."""
    data = read_bytes(path, BenchError, "benchmark output")
    if b"\0" in data[:8192]:
        raise BenchError(path, "binary data, not `go test -bench` output")
    return parse_bench(data, str(path), unit_meta)
