"""list: per-line flat and cum of matching functions, with their source text.

The numbers follow `go tool pprof -list REGEX`: the profile at lines
granularity, nodes grouped by function name (the regex matches the bare
function name) and then by file; a file's header sums its line nodes; the
window runs from the function's start line (else the first sampled line
minus 5) to the last sampled line plus 5, and stops at the end of the file.

Source files are looked up only under the given roots, never at the
absolute path a profile names: a profile is untrusted input.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, field
from pathlib import Path

from reportgen.analyze.frames import clean_path
from reportgen.analyze.graph import build_graph
from reportgen.analyze.graph import total as report_total
from reportgen.analyze.peek import compile_pattern
from reportgen.sources.files import read_regular

MARGIN = 5                    # pprof's lines shown around the sampled ones
MAX_SOURCE_BYTES = 16 << 20   # a "source file" bigger than this is not one
MAX_TRIED_SHOWN = 8


@dataclass
class SourceLine:
    number: int
    flat: int
    cum: int
    text: str | None  # None when the file was not found


@dataclass
class SourceFile:
    function: str
    file: str               # as the profile names it (cleaned)
    path: str | None        # the local file read (as analyze.source.shown), or None
    reason: str             # why there is no text ("" when path is set)
    flat: int               # pprof's ROUTINE header: sums over the line nodes
    cum: int
    samples: dict = field(default_factory=dict)  # line -> (flat, cum), sampled lines only
    lines: list = field(default_factory=list)    # of SourceLine: pprof's window

    def as_dict(self) -> dict:
        return {"function": self.function, "file": self.file, "path": self.path,
                "reason": self.reason, "flat": self.flat, "cum": self.cum,
                "lines": [[ln.number, ln.flat, ln.cum, ln.text] for ln in self.lines]}


@dataclass
class SourceListing:
    pattern: str
    sample_index: str
    unit: str
    total: int
    files: list = field(default_factory=list)  # of SourceFile, pprof's order

    def as_dict(self) -> dict:
        return {"pattern": self.pattern, "sample_index": self.sample_index, "unit": self.unit,
                "total": self.total, "files": [f.as_dict() for f in self.files]}


def list_source(parts: list, pattern: str, roots=()) -> SourceListing:
    """pprof -list over `parts`; `roots` is a list of {"root": dir, "strip": prefix}."""
    rx = compile_pattern(pattern)
    graph = build_graph(parts, "lines")
    per_file: dict[tuple, dict] = {}  # (function, file) -> {line: [flat, cum]}
    for n, key in enumerate(graph.keys):
        flat, cum = int(graph.flat[n]), int(graph.cum[n])
        if (flat == 0 and cum == 0) or not rx.search(key.name):
            continue
        line = per_file.setdefault((key.name, key.file), {}).setdefault(key.line, [0, 0])
        line[0] += flat
        line[1] += cum
    starts = _start_lines(parts)
    reader = _Reader(roots)
    files = []
    with_file = {name for name, file in per_file if file}
    for (name, file), samples in sorted(per_file.items()):
        if not file:
            if name in with_file:  # pprof lists only the lines it can place
                continue
            files.append(SourceFile(name, "", None, "no source information",
                                    sum(v[0] for v in samples.values()),
                                    sum(v[1] for v in samples.values()),
                                    {k: tuple(v) for k, v in samples.items()}))
            continue
        files.append(_listing(name, file, samples, starts.get((name, file), 0), reader))
    first = parts[0]
    st = first.profile.sample_types[first.sample_index]
    return SourceListing(pattern, st.type, st.unit, report_total(parts), files)


def _start_lines(parts) -> dict:
    """(function name, cleaned file) -> smallest nonzero start line in the profiles."""
    starts: dict = {}
    for part in parts:
        for fn in part.profile.functions:
            if fn.start_line > 0:
                key = (fn.name, clean_path(fn.filename))
                starts[key] = min(starts.get(key, fn.start_line), fn.start_line)
    return starts


def _listing(name, file, samples, start_line, reader) -> SourceFile:
    numbers = sorted(samples)
    start = max(start_line or numbers[0] - MARGIN, 1)
    end = numbers[-1] + MARGIN
    path, text, reason = reader.read(file)
    lines = []
    if text is not None:
        for number in range(start, min(end, len(text)) + 1):
            flat, cum = samples.get(number, (0, 0))
            lines.append(SourceLine(number, flat, cum, text[number - 1]))
    else:
        lines = [SourceLine(k, samples[k][0], samples[k][1], None) for k in numbers]
    return SourceFile(name, file, path, reason,
                      sum(v[0] for v in samples.values()), sum(v[1] for v in samples.values()),
                      {k: tuple(v) for k, v in samples.items()}, lines)


def candidates(file: str, roots) -> list[str]:
    """Local paths to try for a profile's file name, best guess first."""
    file = file.replace("\\", "/")
    comps = [c for c in file.split("/") if c and c != "."]
    out = []
    for r in roots:
        root, strip = r["root"], (r.get("strip") or "").replace("\\", "/").rstrip("/")
        if strip and (file == strip or file.startswith(strip + "/")):
            out.append(os.path.join(root, file[len(strip):].lstrip("/")))
        elif not posixpath.isabs(file) and ":" not in (comps[0] if comps else ""):
            out.append(os.path.join(root, *comps))
    # Trailing components: module paths (example.com/mod/pkg/f.go) and
    # absolute build paths both end in the path relative to some root.
    for r in roots:
        for k in range(len(comps) - 1, 0, -1):
            out.append(os.path.join(r["root"], *comps[-k:]))
    seen = set()
    return [c for c in out if not (c in seen or seen.add(c))]


def shown(path: str, roots) -> str:
    """A local path as a report prints it: under the root it lies in, named as the
    root's "shown" (the manifest's own spelling), never the builder's absolute path.
    A path under no root (a profile's "../" names) is shown from the first root."""
    rels = [os.path.relpath(path, r["root"]) for r in roots]
    for r, rel in zip(roots, rels):
        if rel != os.pardir and not rel.startswith(os.pardir + os.sep):
            break
    else:
        if not roots:
            return path
        r, rel = roots[0], rels[0]
    return posixpath.normpath(posixpath.join(r.get("shown", r["root"]), Path(rel).as_posix()))


def resolve(file: str, roots) -> tuple[str | None, list[str]]:
    """(the first candidate that is a regular file inside its root, all tried)."""
    tried = candidates(file, roots)
    real_roots = [os.path.realpath(r["root"]) for r in roots]
    for cand in tried:
        real = os.path.realpath(cand)
        # No escaping a root through "..", or a symlink, named by the profile.
        inside = any(real == rr or real.startswith(rr.rstrip(os.sep) + os.sep)
                     for rr in real_roots)
        if inside and os.path.isfile(real):
            return cand, tried
    return None, tried


class _Reader:
    """Source files by profile file name, read once each."""

    def __init__(self, roots):
        self.roots = list(roots)
        self.cache: dict = {}

    def read(self, file: str):
        """(path or None, lines or None, reason)."""
        if file not in self.cache:
            self.cache[file] = self._read(file)
        return self.cache[file]

    def _read(self, file):
        if not self.roots:
            return None, None, "source not found: no source roots given"
        path, tried = resolve(file, self.roots)
        if path is None:
            listed = [shown(t, self.roots) for t in tried[:MAX_TRIED_SHOWN]]
            more = f" (and {len(tried) - len(listed)} more)" if len(tried) > len(listed) else ""
            return None, None, "source not found: tried " + ", ".join(listed) + more
        path_shown = shown(path, self.roots)
        try:
            if os.path.getsize(path) > MAX_SOURCE_BYTES:
                return None, None, (f"source not shown: {path_shown} is over "
                                    f"{MAX_SOURCE_BYTES} bytes")
            # Split on \n only, as Go's bufio.Scanner does, so stray \r or form
            # feeds never shift line numbers; a file swapped for a FIFO is refused.
            text = read_regular(path, MAX_SOURCE_BYTES).decode("utf-8", "replace")
        except OSError as e:
            return None, None, f"source not readable: {path_shown}: {e.strerror or e}"
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        return path_shown, [ln[:-1] if ln.endswith("\r") else ln for ln in lines], ""
