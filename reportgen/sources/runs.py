"""Reader of a run: one directory of evidence captured together (a night, a
commit, a release), told apart file by file by content, as `build` does.

    runs/2026-11-05/
      run.yml         optional metadata: commit, date, branch, title, labels
      cpu.pb.gz       pprof profiles of any kind (gzip or raw protobuf)
      goroutine.txt   goroutine dumps (debug=1, debug=2, panic output)
      bench.txt       `go test -bench` output
      gctrace.log     GODEBUG=gctrace=1 output (and scavtrace, schedtrace)
      notes.txt       anything else is skipped with a note naming the file

A run's id is its directory name as given (a symlink's own name, not its
target's). Files are read from the directory itself (not its
subdirectories); hidden files are ignored. A run directory or file whose
name is not valid UTF-8 is refused (UsageError naming it, bytes shown as
\\xNN): ids and file names appear in pages, JSON and CI logs, which are UTF-8.

READERS is the hook for new evidence: a reader is (kind, detect, load); the
first whose `detect(head)` says yes loads the file. A kind with no loader
yet is recognised and skipped with a note, so the run still counts and the
note says why its file was not used.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import yaml
from yaml.nodes import MappingNode, ScalarNode

import reportgen
from reportgen.errors import ManifestError, ProfileError, UsageError
from reportgen.sources.files import read_bytes
from reportgen.sources.pprof import DEFAULT_MAX_DECOMPRESSED, DEFAULT_MAX_SAMPLES, is_gzip

METADATA = ("run.yml", "run.yaml")
_META_KEYS = ("commit", "date", "branch", "title", "labels")
_BENCH_LINE = re.compile(rb"^Benchmark\S*\s+\d+\s+\S+ \S", re.M)


@dataclass
class RunMeta:
    """What run.yml says about a run; every field optional, shown where the run is named."""
    commit: str = ""
    date: str = ""
    branch: str = ""
    title: str = ""
    labels: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"commit": self.commit, "date": self.date, "branch": self.branch,
                "title": self.title, "labels": dict(self.labels)}


@dataclass
class Evidence:
    kind: str        # a READERS kind: "profile", "goroutines", "bench"
    name: str        # the file name inside the run
    data: object     # what the reader returned (Profile, BenchSet ...)


@dataclass
class Run:
    id: str
    path: Path
    meta: RunMeta
    evidence: list = field(default_factory=list)  # of Evidence, by file name
    notes: list = field(default_factory=list)     # files skipped, and why


# ---- finding runs ------------------------------------------------------------

def evidence_files(directory: Path, check: bool = True) -> list[Path]:
    """The regular, non-hidden files of a run directory, by name. Raises
    UsageError for one whose name is not UTF-8 (unless not `check`)."""
    files = sorted((p for p in directory.iterdir() if p.is_file() and not p.name.startswith(".")),
                   key=lambda p: p.name)
    for f in files if check else ():
        check_utf8_name(f, "file")
    return files


def shown_path(path) -> str:
    """A path as an error line shows it: bytes that are not UTF-8 as \\xNN."""
    return os.fsencode(str(path)).decode("utf-8", "backslashreplace")


def check_utf8_name(path: Path, what: str, name: str | None = None):
    """Refuse a name (default: path's) that is not UTF-8 (Linux allows any bytes
    but / and NUL): it could not be written into the UTF-8 pages and JSON."""
    try:
        (path.name if name is None else name).encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(shown_path(path), f"the {what} name is not valid UTF-8; rename it "
                                           "(names are shown in UTF-8 pages)") \
            from None


def run_id_of(directory) -> str:
    """A run's id: its directory's name as given (lexically absolute, so "." and
    "runs/x/" name the directory; a symlink keeps its own name)."""
    return Path(os.path.abspath(directory)).name


def find_runs(paths: list) -> list[Path]:
    """Run directories in order: as given, or by name under one parent directory.

    A single directory with subdirectories is a parent of runs, whatever
    files it also holds (a README, a stray note: stray_files lists them for a
    warning), so one file dropped beside the runs cannot turn a year of
    nights into one run. Hidden directories and report sites reportgen wrote
    (`-o runs/site`) are not runs. A directory without such subdirectories is
    one run. Raises UsageError for a missing path, a file, or no run.
    """
    dirs = []
    for given in paths:
        p = Path(given)
        if not p.exists():
            raise UsageError(given, "no such directory")
        if not p.is_dir():
            raise UsageError(given, "not a directory (give run directories, or one directory "
                                    "of runs)")
        dirs.append(p)
    if len(dirs) == 1:
        subdirs = _run_dirs(dirs[0])
        if subdirs:
            dirs = subdirs
    for d in dirs:
        check_utf8_name(d, "run directory", run_id_of(d))
    ids = [run_id_of(d) for d in dirs]
    for i, run_id in enumerate(ids):
        if run_id in ids[:i]:
            raise UsageError(dirs[i], f"a second run named {run_id!r} (a run's id is its "
                                      f"directory name)")
    if not dirs:
        raise UsageError(paths[0] if paths else ".", "no run directories")
    return dirs


def _run_dirs(parent: Path) -> list[Path]:
    from reportgen.render.sitedir import MARKER   # what marks a report reportgen wrote
    return sorted((d for d in parent.iterdir() if d.is_dir() and not d.name.startswith(".")
                   and not (d / MARKER).exists()), key=lambda d: d.name)


def stray_files(paths: list) -> list[str]:
    """Names of the files beside the runs when one directory of runs is given
    (find_runs ignores them): for a warning, bytes that are not UTF-8 as \\xNN."""
    if len(paths) != 1 or not Path(paths[0]).is_dir() or not _run_dirs(Path(paths[0])):
        return []
    return [shown_path(f.name) for f in evidence_files(Path(paths[0]), check=False)]


def run_key(directory: Path, salt: str = "") -> str:
    """sha256 of the run's file names and bytes, reportgen's version and `salt`
    (the history's: the code fingerprint, theme and input limits).

    Equal keys mean the run's analysis would come out the same: the key of
    the incremental cache.
    """
    h = hashlib.sha256(f"reportgen {reportgen.__version__}\0{salt}\0".encode())
    for f in evidence_files(directory):
        data = read_bytes(f)
        h.update(f"{f.name}\0{len(data)}\0".encode("utf-8", "surrogateescape"))
        h.update(data)
    return h.hexdigest()


# ---- metadata ----------------------------------------------------------------

MAX_META_BYTES = 64 << 10   # a few lines of metadata; a run's notes are not a document


def read_meta(path: Path) -> RunMeta:
    """run.yml: plain scalars under commit, date, branch, title; a labels mapping.

    Raises ManifestError with the file and line for anything else.
    """
    display = str(path)
    try:
        text = read_bytes(path, ManifestError, "run metadata", MAX_META_BYTES).decode("utf-8")
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except UnicodeDecodeError:
        raise ManifestError(display, "expected UTF-8 text") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise ManifestError(display, f"invalid YAML: {getattr(e, 'problem', '') or e}",
                            mark.line + 1 if mark else None) from None
    meta = RunMeta()
    if root is None:
        return meta
    if not isinstance(root, MappingNode):
        raise ManifestError(display, "expected a mapping of commit, date, branch, title, "
                                     "labels", root.start_mark.line + 1)
    seen: set = set()
    for knode, vnode in root.value:
        line = knode.start_mark.line + 1
        if not isinstance(knode, ScalarNode):
            raise ManifestError(display, "expected plain keys (commit, date, branch, title, "
                                         "labels)", line)
        key = knode.value
        if key not in _META_KEYS:
            raise ManifestError(display, f"unknown key {key!r} (allowed: "
                                         f"{', '.join(_META_KEYS)})", line)
        if key in seen:   # YAML keeps the last silently; the manifest refuses it too
            raise ManifestError(display, f"{key}: given twice", line)
        seen.add(key)
        if key == "labels":
            if not isinstance(vnode, MappingNode):
                raise ManifestError(display, "labels: expected a mapping of key: value", line)
            for k, v in vnode.value:
                if not (isinstance(k, ScalarNode) and isinstance(v, ScalarNode)):
                    raise ManifestError(display, "labels: expected plain key: value pairs",
                                        k.start_mark.line + 1)
                if k.value in meta.labels:
                    raise ManifestError(display, f"labels: {k.value!r} given twice",
                                        k.start_mark.line + 1)
                meta.labels[k.value] = v.value
        elif isinstance(vnode, ScalarNode):
            setattr(meta, key, vnode.value)  # the text as written: a date stays as typed
        else:
            raise ManifestError(display, f"{key}: expected a single value", line)
    return meta


# ---- evidence readers --------------------------------------------------------

def _is_text(head: bytes) -> bool:
    """Text unless it holds a NUL byte or is gzip: binary formats (protobuf, traces,
    images) have NULs early; text in another encoding than UTF-8 (a Latin-1 é
    in a benchmark name) is still text, read with replacement characters, as
    `reportgen bench` and `gc` read it."""
    return b"\0" not in head and not is_gzip(head)


def _from_utf16(data: bytes) -> bytes:
    """UTF-16 text with its byte-order mark (PowerShell's `>` writes it) as UTF-8;
    anything else as it is."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            return data
    return data


def _utf8(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as e:
        return e.start >= len(head) - 3  # a character cut at the edge of the head
    return True


_TRACE_HEADER = re.compile(rb"^go 1\.\d+ trace\x00")


def _load_profile(path: Path, data: bytes, limits: tuple):
    from reportgen.sources.pprof import parse_pprof
    return parse_pprof(path, data, *limits)


def _load_goroutines(path: Path, data: bytes, limits: tuple):
    from reportgen.sources.goroutines import load_goroutines
    return load_goroutines(path, data)


# What `go test -bench` prints when a benchmark fails: its results stop there.
_BENCH_FAILED = re.compile(
    rb"^(?:Benchmark\S*\s+)?(?:panic: |--- FAIL: |FAIL\s|\*\*\* Test killed)", re.M)


def _load_bench(path: Path, data: bytes, limits: tuple):
    """Benchmark output; one that ends in a failure (a panic, a timeout, b.Fatal)
    is a broken capture: its results are partial and a trend would take them as
    the night's, so it fails with the line, as a broken profile does."""
    from reportgen.sources.bench import BenchError, parse_bench
    failed = _BENCH_FAILED.search(data)
    if failed:
        line = data.count(b"\n", 0, failed.start()) + 1
        text = data[failed.start():].split(b"\n", 1)[0].decode("utf-8", "replace")
        raise BenchError(f"{path}:{line}", f"the benchmark run failed here "
                                          f"({' '.join(text.split())[:120]}); its results "
                                          f"are partial")
    return parse_bench(data.decode("utf-8", errors="replace"), str(path))


def _load_gctrace(path: Path, data: bytes, limits: tuple):
    from reportgen.sources.gctrace import load_gctrace
    return load_gctrace(path, data)


def _detect_gctrace(head: bytes) -> bool:
    from reportgen.sources.gctrace import detect_gctrace
    return _is_text(head) and detect_gctrace(head)


def _detect_goroutines(head: bytes) -> bool:
    from reportgen.sources.goroutines import detect_goroutine_text
    return detect_goroutine_text(head)


@dataclass(frozen=True)
class Reader:
    kind: str
    detect: Callable[[bytes], bool]               # on the first 64 KiB
    load: Callable | None   # (path, data, (max_decompressed, max_samples)) -> data
    skipped: str = ""                              # the note when there is no loader


READERS: list[Reader] = [
    # Benchmark results first: output that ends in a panic carries a goroutine
    # dump too (a dump never has a result line).
    Reader("bench", lambda head: _is_text(head) and bool(_BENCH_LINE.search(head)),
           _load_bench),
    Reader("goroutines", _detect_goroutines, _load_goroutines),
    # GODEBUG=gctrace/scavtrace/schedtrace logs (reportgen.sources.gctrace); their
    # numbers come from reportgen.analyze.run_metrics.EXTRACTORS["gctrace"].
    Reader("gctrace", _detect_gctrace, _load_gctrace),
    Reader("profile", lambda head: not _is_text(head), _load_profile),
]


def read_run(directory, max_decompressed: int = DEFAULT_MAX_DECOMPRESSED,
             max_samples: int = DEFAULT_MAX_SAMPLES) -> Run:
    """Every piece of evidence in one run directory, with a note for each file skipped.

    A file that looks like a profile, dump or benchmark output but does not
    parse raises its reader's error (one line naming the file): a broken
    capture should fail the job, not vanish from the trend. Only binary files
    that are not pprof at all, and text in no format we read, are skipped.
    """
    d = Path(directory)
    meta_file = next((d / m for m in METADATA if (d / m).is_file()), None)
    run = Run(run_id_of(d), d, read_meta(meta_file) if meta_file else RunMeta())
    for f in evidence_files(d):
        if f.name in METADATA:
            continue
        data = _from_utf16(read_bytes(f))
        head = data[:65536]
        if _TRACE_HEADER.match(head):
            run.notes.append(f"{f.name}: skipped, an execution trace (a history charts "
                             f"profiles, dumps, benchmarks and GC logs; `reportgen build` "
                             f"reports a trace)")
            continue
        if _named_profile(f) and not _utf8(head):   # named a profile, not text: one that broke
            reader = next(r for r in READERS if r.kind == "profile")
        else:
            reader = next((r for r in READERS if r.detect(head)), None)
        if reader is None:
            run.notes.append(f"{f.name}: skipped, text in no format reportgen reads")
            continue
        if reader.load is None:
            run.notes.append(f"{f.name}: skipped, {reader.skipped}")
            continue
        try:
            loaded = reader.load(f, data, (max_decompressed, max_samples))
        except ProfileError as e:
            # Binary data that is not pprof is skipped, unless its name says it is a
            # profile: then the capture broke, and that must fail the job.
            if reader.kind == "profile" and not is_gzip(data) and not _named_profile(f):
                run.notes.append(f"{f.name}: skipped, binary data that is not a profile "
                                 f"({e.reason})")
                continue
            raise
        kind = reader.kind
        if kind == "profile" and _is_goroutine_profile(loaded):
            kind = "goroutines"
        run.evidence.append(Evidence(kind, f.name, loaded))
    if not run.evidence:
        # A night whose capture failed must not pass the gate as "no regression".
        raise ProfileError(d, "no evidence in this run (no profile, goroutine dump, benchmark "
                              "output or gctrace log" + (f"; {'; '.join(run.notes)}"
                                                         if run.notes else "") + ")")
    return run


_PROFILE_NAME = re.compile(r"\.(pb|pb\.gz|pprof|prof|prof\.gz)$", re.I)


def _named_profile(f: Path) -> bool:
    return bool(_PROFILE_NAME.search(f.name))


def _is_goroutine_profile(profile) -> bool:
    from reportgen.analyze.goroutines import GOROUTINE_KINDS
    return (len(profile.sample_types) == 1
            and profile.sample_types[0].type in GOROUTINE_KINDS[:2])
