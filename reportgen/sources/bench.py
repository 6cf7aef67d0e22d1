"""Reader for `go test -bench` output (the Go benchmark data format).

    goos: linux                       <- configuration: applies to results after it
    pkg: example.com/gateway
    BenchmarkHandler/json-8   13774   86992 ns/op   15498 B/op   249 allocs/op
    PASS                              <- anything else is ignored

A result line is a name starting with "Benchmark", an iteration count, then
value/unit pairs. Repeated lines (-count N) are repeated runs.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from reportgen.errors import ReportgenError
from reportgen.sources.files import read_bytes

# A configuration key starts with a lower-case letter and holds no space.
_CONFIG = re.compile(r"([a-z][^\s:]*):(?:[ \t]+(.*))?$")
# "Benchmark" alone or followed by a non-lower-case character (BenchmarkFoo, Benchmark_x);
# "Benchmarking ..." is prose, not a result.
_NAME = re.compile(r"Benchmark(?![a-z])\S*$")
_PROCS = re.compile(r"^(.*)-([0-9]+)$")
_COUNT = re.compile(r"[0-9]+")
EXAMPLE = "BenchmarkName-8  1000  1234 ns/op"


class BenchError(ReportgenError):
    """A benchmark file that cannot be read or holds no results."""


@dataclass
class BenchResult:
    """One result line."""
    name: str                   # as written minus the -PROCS suffix: BenchmarkFoo/bar
    procs: int | None           # GOMAXPROCS, from the -N suffix
    iterations: int
    values: dict[str, float]    # unit -> value, in the line's order
    config: dict[str, str]      # the configuration in force at this line
    line: int

    @property
    def pkg(self) -> str:
        return self.config.get("pkg", "")

    @property
    def display(self) -> str:
        """The name as benchstat shows it: no "Benchmark" prefix, with the -PROCS suffix."""
        short = self.name.removeprefix("Benchmark") or self.name
        return short if self.procs is None else f"{short}-{self.procs}"


@dataclass
class BenchSet:
    """Every result in one file, in file order."""
    path: str
    results: list[BenchResult]
    config: dict[str, list[str]] = field(default_factory=dict)  # key -> distinct values
    malformed: list[int] = field(default_factory=list)          # result-like lines we skipped

    def samples(self) -> dict[tuple[str, str], dict[str, list[float]]]:
        """(pkg, display name) -> unit -> the runs' values, in first-seen order."""
        out: dict[tuple[str, str], dict[str, list[float]]] = {}
        for r in self.results:
            units = out.setdefault((r.pkg, r.display), {})
            for unit, v in r.values.items():
                units.setdefault(unit, []).append(v)
        return out

    def units(self) -> list[str]:
        seen: dict[str, None] = {}
        for r in self.results:
            seen.update(dict.fromkeys(r.values))
        return list(seen)


def _number(text: str) -> float | None:
    try:
        v = float(text)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def parse_result(line: str, config: dict[str, str], lineno: int) -> BenchResult | None:
    """A result line, or None when the line is not one (or is cut short)."""
    fields = line.split()
    if len(fields) < 4 or len(fields) % 2 or not _NAME.match(fields[0]):
        return None
    if not _COUNT.fullmatch(fields[1]):
        return None
    values: dict[str, float] = {}
    for text, unit in zip(fields[2::2], fields[3::2]):
        v = _number(text)
        if v is None:
            return None
        values.setdefault(unit, v)
    name, procs = fields[0], None
    if m := _PROCS.match(name):
        name, procs = m[1], int(m[2])
    return BenchResult(name, procs, int(fields[1]), values, dict(config), lineno)


def parse_bench(text: str, path: str = "<input>") -> BenchSet:
    """Parse benchmark output; raise BenchError when it holds no result."""
    config: dict[str, str] = {}
    seen: dict[str, list[str]] = {}
    out = BenchSet(str(path), [])
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line.startswith("Benchmark"):
            result = parse_result(line, config, lineno)
            if result is not None:
                out.results.append(result)
            elif len(line.split()) > 1 and _NAME.match(line.split()[0]):
                # A bare name (the benchmark logged output) is normal; a cut value is not.
                out.malformed.append(lineno)
            continue
        if m := _CONFIG.match(raw.rstrip()):
            key, value = m[1], (m[2] or "").strip()
            if value:
                config[key] = value
                if value not in seen.setdefault(key, []):
                    seen[key].append(value)
            else:
                config.pop(key, None)  # an empty value clears the key
    out.config = seen
    if not out.results:
        raise BenchError(path, f"no benchmark results (expected `go test -bench` output with "
                               f"lines like '{EXAMPLE}')")
    return out


def load_bench(path) -> BenchSet:
    """Read and parse a benchmark file, naming the file in every error."""
    data = read_bytes(path, BenchError, "benchmark output")
    if b"\0" in data[:8192]:
        raise BenchError(path, "binary data, not `go test -bench` output")
    # Benchmarks may log arbitrary bytes; a stray one must not lose the results.
    return parse_bench(data.decode("utf-8", errors="replace"), str(path))
