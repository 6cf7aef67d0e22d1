"""Readers: one per input format, each turning bytes into the model.

The format is told by content, not by file name. The readers (numpy,
protobuf) are imported when a profile is read, so commands that read none
(bench, escapes on a compiler log) start without them.
"""

from __future__ import annotations

from reportgen.errors import ProfileError
from reportgen.sources.files import DEFAULT_MAX_DECOMPRESSED, read_bytes

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


def load_profile(path, max_decompressed: int = DEFAULT_MAX_DECOMPRESSED):
    """Read one profile file of any supported format."""
    from reportgen.sources.goroutines import detect_goroutine_text, load_goroutines
    from reportgen.sources.pprof import is_gzip, parse_pprof

    data = read_bytes(path)
    if detect_goroutine_text(data):
        return load_goroutines(path, data)
    from reportgen.sources.trace import is_trace
    if is_trace(data):
        raise ProfileError(path, "an execution trace, not a profile: read it with `reportgen "
                                 "trace` (--write-profiles DIR writes its blocking profiles)")
    if data and not is_gzip(data) and looks_like_text(data):
        head = data[:64].decode("utf-8", "replace").lstrip()
        if head.startswith(_LEGACY_TEXT):
            raise ProfileError(path, "legacy text profile format is not supported; "
                                     "capture it with debug=0 (protobuf) instead")
        raise ProfileError(path, "not a profile (a text file in no format reportgen reads)")
    return parse_pprof(path, data, max_decompressed)
