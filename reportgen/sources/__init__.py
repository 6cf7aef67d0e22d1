"""Readers: one per input format, each turning bytes into the model.

The format is told by content, not by file name. The readers (numpy,
protobuf) are imported when a profile is read, so commands that read none
(bench, escapes on a compiler log) start without them.
"""

from __future__ import annotations

import re
from pathlib import Path

from reportgen.errors import ProfileError
from reportgen.sources.files import DEFAULT_MAX_DECOMPRESSED, DEFAULT_MAX_SAMPLES, read_bytes

# Leading text of pprof's legacy text formats, which we do not read.
_LEGACY_TEXT = ("heap profile:", "--- contention", "--- mutex", "threadcreate profile:",
                "--- heapz", "--- threadz", "binary=")


def looks_like_text(data: bytes) -> bool:
    head = data[:512]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(c.isprintable() or c in "\t\r\n" for c in text)


def load_profile(path, max_decompressed: int = DEFAULT_MAX_DECOMPRESSED,
                 max_samples: int = DEFAULT_MAX_SAMPLES, data: bytes | None = None):
    """Read one profile file of any supported format (limits: see parse_pprof;
    `data`: its bytes, if already read)."""
    from reportgen.sources.goroutines import detect_goroutine_text, load_goroutines
    from reportgen.sources.pprof import is_gzip, parse_pprof

    if data is None:
        data = read_bytes(path)
    if detect_goroutine_text(data):
        return load_goroutines(path, data)
    from reportgen.sources.trace import gzipped_trace, is_trace
    if is_trace(data) or gzipped_trace(data):
        raise ProfileError(path, "an execution trace, not a profile: read it with `reportgen "
                                 "trace` (--write-profiles DIR writes its blocking profiles)")
    if data and not is_gzip(data) and looks_like_text(data):
        head = data[:64].decode("utf-8", "replace").lstrip()
        if head.startswith(_LEGACY_TEXT):
            raise ProfileError(path, "legacy text profile format is not supported; "
                                     "capture it with debug=0 (protobuf) instead")
        raise ProfileError(path, "not a profile (a text file in no format reportgen reads)")
    return parse_pprof(path, data, max_decompressed, max_samples)


# A `go test -bench` result line, and a compiler diagnostic (`./x.go:12:6: msg`).
_BENCH_LINE = re.compile(rb"^Benchmark\S*\s+\d+\s+[-+0-9.eE]+ \S+", re.M)
_COMPILER_LINE = re.compile(
    rb"^\S+\.go:\d+:\d+: (?:.* escapes to heap|moved to heap: |leaking param|"
    rb"does not escape|can inline |inlining call to |.*: flow: )", re.M)


def sniff_input(path) -> str:
    """What a bare input is, told by content: "profile" (pprof or a goroutine
    dump), "bench" (`go test -bench` output) or "compiler_log" (`-gcflags=-m`
    text or a `-json` directory). Unreadable files are left to the readers to
    refuse, as "profile"."""
    from reportgen.sources.goroutines import detect_goroutine_text
    from reportgen.sources.pprof import is_gzip

    p = Path(path)
    if p.is_dir():
        return "compiler_log" if any(p.rglob("*.json")) else "profile"
    if not p.is_file():  # a FIFO or a device: never opened here (a FIFO would block)
        return "profile"
    try:
        with open(p, "rb") as f:
            head = f.read(1 << 16)
    except OSError:
        return "profile"
    if not head or is_gzip(head) or b"\0" in head[:4096] or detect_goroutine_text(head):
        return "profile"
    if _BENCH_LINE.search(head):
        return "bench"
    if _COMPILER_LINE.search(head):
        return "compiler_log"
    return "profile"
