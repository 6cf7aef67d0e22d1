"""json.dumps(data, indent=1) text, written faster.

The standard library's C encoder does not indent (Python 3.11), and its
pure-Python one yields every token through nested generators: about half
of the rendering time of a busy trace's page goes to writing its 17 MB of
JSON data. dumps_indented writes the same text (byte for byte) with one
recursive function that handles scalars inline; anything but plain dict,
list, tuple, str, int, float, bool and None goes to json.dumps unchanged.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring, encode_basestring_ascii

_INF = float("inf")


class _Other(Exception):
    """A value whose text json.dumps decides (a subclass, an unsupported type)."""


def _float(o: float) -> str:
    # json.encoder's floatstr with allow_nan=True
    if o != o:
        return "NaN"
    if o == _INF:
        return "Infinity"
    if o == -_INF:
        return "-Infinity"
    return float.__repr__(o)


def dumps_indented(data, ensure_ascii: bool = False) -> str:
    """json.dumps(data, indent=1, ensure_ascii=ensure_ascii), the same text."""
    enc = encode_basestring_ascii if ensure_ascii else encode_basestring
    out: list = []
    append = out.append
    keys: dict = {}  # str key -> its encoding and ": " (a few names, over and over)
    int_repr = int.__repr__

    def scalar(o):
        t = type(o)
        if t is str:
            return enc(o)
        if t is int:
            return int_repr(o)
        if t is float:
            return _float(o)
        if o is None:
            return "null"
        if o is True:
            return "true"
        if o is False:
            return "false"
        return None

    def key(k):
        t = type(k)
        if t is str:
            return enc(k)
        if t is int:
            return enc(int_repr(k))
        if t is float:
            return enc(_float(k))
        if k is True:
            return '"true"'
        if k is False:
            return '"false"'
        if k is None:
            return '"null"'
        raise _Other

    def write(o, nl):
        t = type(o)
        if t is list or t is tuple:
            if not o:
                append("[]")
                return
            inner = nl + " "
            sep = "[" + inner
            for x in o:
                tx = type(x)  # the common scalars inline
                s = int_repr(x) if tx is int else enc(x) if tx is str else scalar(x)
                if s is None:
                    append(sep)
                    write(x, inner)
                else:
                    append(sep + s)
                sep = "," + inner
            append(nl + "]")
        elif t is dict:
            if not o:
                append("{}")
                return
            inner = nl + " "
            sep = "{" + inner
            for k, x in o.items():
                tx = type(x)
                s = int_repr(x) if tx is int else enc(x) if tx is str else scalar(x)
                ek = keys.get(k) if type(k) is str else None
                if ek is None:
                    ek = key(k) + ": "
                    if type(k) is str:
                        keys[k] = ek
                if s is None:
                    append(sep + ek)
                    write(x, inner)
                else:
                    append(sep + ek + s)
                sep = "," + inner
            append(nl + "}")
        else:
            s = scalar(o)
            if s is None:
                raise _Other
            append(s)

    try:
        write(data, "\n")
    except (_Other, RecursionError):
        return json.dumps(data, indent=1, ensure_ascii=ensure_ascii)
    return "".join(out)
