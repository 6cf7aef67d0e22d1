"""Go execution traces (runtime/trace, Go 1.22+ format): header, batches, ordering.

`load_trace(path)` reads a file into a ParsedTrace (reader.py);
`open_trace(path)` reads it a generation at a time (a TraceStream, what the
analyses use, so memory follows the largest generation, not the file). A
file that is not a trace, an old-format trace or one with no readable
generation is a TraceError (one line naming the file, exit 2).
"""

from __future__ import annotations

from reportgen.errors import ReportgenError
from reportgen.sources.files import read_bytes
from reportgen.sources.trace.wire import TraceFormatError, is_trace

__all__ = ["TraceError", "load_trace", "open_trace", "stream_trace", "is_trace", "is_trace_file",
           "parse_trace"]


class TraceError(ReportgenError):
    """An execution trace that cannot be read."""


OLD_FORMAT_HINT = ("reportgen reads the Go 1.22+ format only; capture the trace again with "
                   "Go 1.22 or newer, or open this one with that Go version's `go tool trace`")


def _check_header(path, data: bytes):
    from reportgen.sources.trace.spec import V1_VERSIONS
    from reportgen.sources.trace.wire import read_header

    try:
        ver = read_header(data)
    except TraceFormatError as e:
        raise TraceError(path, str(e)) from None
    if ver in V1_VERSIONS:
        raise TraceError(path, f"a Go 1.{ver} execution trace (the pre-1.22 format): "
                               f"{OLD_FORMAT_HINT}")


def parse_trace(path, data: bytes):
    """The ParsedTrace of `data` (read from `path`); TraceError when nothing can be read."""
    from reportgen.sources.trace.reader import read_trace

    _check_header(path, data)
    try:
        return read_trace(data)
    except TraceFormatError as e:
        raise TraceError(path, str(e)) from None
    except RecursionError:
        raise TraceError(path, "trace structure too deep") from None


class _PathStream:
    """A TraceStream whose errors are TraceErrors naming the file."""

    def __init__(self, path, stream):
        self.path = path
        self.stream = stream

    def __getattr__(self, name):
        return getattr(self.stream, name)

    def segments(self):
        try:
            yield from self.stream.segments()
        except TraceFormatError as e:
            raise TraceError(self.path, str(e)) from None
        except RecursionError:
            raise TraceError(self.path, "trace structure too deep") from None


def stream_trace(path, data: bytes):
    """A TraceStream of `data` (read from `path`): segments() yields a generation at a time.

    Raises TraceError (naming `path`) for a bad header or old format at once,
    and from segments() where parse_trace would.
    """
    from reportgen.sources.trace.reader import TraceStream

    _check_header(path, data)
    try:
        return _PathStream(path, TraceStream(data))
    except TraceFormatError as e:
        raise TraceError(path, str(e)) from None


def is_trace_file(path) -> bool:
    """True when the file starts with a Go execution trace header (any version),
    or is gzip-compressed and does once inflated (`trace.out.gz`)."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    return is_trace(head) or gzipped_trace(head)


def read_trace_bytes(path, max_decompressed: int | None = None) -> bytes:
    """The bytes of the trace file at `path`, inflated first when it is gzip-compressed
    (people save `trace.out.gz`), as profiles are: refused past `max_decompressed`
    bytes (default: --max-decompressed's). Raises TraceError naming the file."""
    from reportgen.errors import ProfileError
    from reportgen.sources.files import DEFAULT_MAX_DECOMPRESSED
    from reportgen.sources.pprof import gunzip, is_gzip

    data = read_bytes(path, TraceError, "an execution trace")
    if not is_gzip(data):
        return data
    try:
        data = gunzip(path, data, max_decompressed or DEFAULT_MAX_DECOMPRESSED)
    except ProfileError as e:
        raise TraceError(path, e.reason) from None
    if not is_trace(data[:32]):
        raise TraceError(path, "gzip-compressed, and what it holds is not a Go execution trace")
    return data


def gzipped_trace(head: bytes) -> bool:
    """True when `head` (a file's first bytes) is a gzip stream that starts,
    inflated, with a trace header (`trace.out.gz`)."""
    import zlib

    from reportgen.sources.pprof import is_gzip
    try:
        # wbits 31: a gzip stream; only the first bytes are inflated
        return is_gzip(head) and is_trace(zlib.decompressobj(31).decompress(head[:4096], 32))
    except zlib.error:
        return False


def load_trace(path):
    return parse_trace(path, read_bytes(path, TraceError, "an execution trace"))


def open_trace(path):
    """stream_trace of the file at `path`."""
    return stream_trace(path, read_bytes(path, TraceError, "an execution trace"))
