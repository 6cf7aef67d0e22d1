"""Escape reasons quote the compiler's expressions whole: shortened only at the
expression's own boundaries (a bracket group as `(…)`, an assignment's right
side, trailing operands), never mid-word or inside a string literal, and the
full text stays in the JSON's `compiler` chains."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reportgen.render.escape_pages import _short
from tests.gotool import go_binary

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "cases"
IDENT = re.compile(r"[\w.~]+")
STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def assert_whole(short: str, full: str, limit: int = 60):
    """`short` keeps whole identifiers and string literals of `full`, in order, and
    balanced brackets: nothing of `full` is cut mid-word."""
    words = IDENT.findall(STRING.sub(" ", full))
    for w in IDENT.findall(STRING.sub(" ", short)):
        assert w in words, f"{w!r} of {short!r} is not a whole word of {full!r}"
    for s in STRING.findall(short):
        assert s in full, f"{s!r} of {short!r} is a cut string literal"
    bare = STRING.sub("", short)
    for o, c in ("()", "[]", "{}"):
        assert bare.count(o) == bare.count(c), short
    assert short == full or "…" in short
    if len(full) > limit:
        assert short != full or not re.search(r"[(\[{]|, | = | := ", full)


# (compiler text of a `from` note, its shortening): seen in -m=2 logs of the
# shared bufio case and of encoding/json and net/http.
CASES = [
    ("bufio.b, bufio.buf, bufio.r := bufio.r, make([]byte, max(bufio.size, 16))",
     "bufio.b, bufio.buf, bufio.r := bufio.r, make(…)"),
    ('s = "json: cannot unmarshal " + e.Value + " into " + intoWhat + e.Struct + "." + e.Field',
     's = "json: cannot unmarshal " + e.Value + " into " + …'),
    ("dst = append(dst, byte(92), byte(117), byte(48), byte(48), hex[c>>4], hex[c&15])",
     "dst = append(…)"),
    ("jsontext.AppendFormat[go.shape.[]uint8](dst, src, jsonflags.Bools(549755813889), opts...)",
     "jsontext.AppendFormat[go.shape.[]uint8](…)"),
    ('fmt.format, fmt.a := "net/http: invalid scheme %q with more words", ... argument',
     "fmt.format, fmt.a := …"),
    ("textproto.h[textproto.CanonicalMIMEHeaderKey(textproto.key)] = []string{textproto.value}",
     "textproto.h[…] = []string{textproto.value}"),
    ("a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q, r, s, t, u, v, w, x, y, z, aa",
     "a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q, r, s, …"),
    ('f("a (string) literal, with [brackets] and commas, that is long", x)', "f(…)"),
    ("short(x)", "short(x)"),
]


@pytest.mark.parametrize("full,expected", CASES)
def test_short_keeps_whole_phrases(full, expected):
    got = _short(full)
    assert got == expected
    assert_whole(got, full)
    assert len(got) <= 60


def test_short_is_bounded_on_hostile_text():
    for full in ["x := " + "f(a, " * 5000 + ")" * 5000, "(" * 3000 + ")" * 10, '"' * 9999,
                 ")" * 80 + "(" * 80]:
        assert len(_short(full)) <= len(full)


def reasons_and_compiler(args):
    proc = subprocess.run([sys.executable, "-m", "reportgen", "escapes", *map(str, args),
                           "--format", "json", "--limit", "all"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)["hints"]


def assert_reasons_whole(hints):
    """Every flow phrase of every hint quotes a whole (or wholly shortened) `from`
    note of its compiler chains, which keep the full text."""
    checked = 0
    for h in hints:
        notes = [re.sub(r"^\s*from (.*) \([^()]*\)( at \S+)?$", r"\1", line)
                 for c in h["compiler"] for chain in c["chains"] for line in chain
                 if line.lstrip().startswith("from ")]
        for phrase in h["flow"]:
            if "…" not in phrase:
                continue
            checked += 1
            where = next((n for n in notes if _short(n) in phrase), None)
            assert where is not None, (phrase, notes)
            assert_whole(_short(where), where)
            assert _short(where) in h["reason"]
    return checked


def test_shared_bufio_case_reason_is_whole():
    if not SHARED.is_dir():
        pytest.skip("../shared/cases not found")
    hints = reasons_and_compiler([SHARED / "escape-bufio-allocs.pb.gz", "--compiler-log",
                                  SHARED / "escape-bufio-m2.txt"])
    reason = next(h["reason"] for h in hints if "make([]byte, max(bufio.size, 16))" in
                  h["reason"])
    assert "it is stored by bufio.b, bufio.buf, bufio.r := bufio.r, make(…)," in reason
    assert "max(bu…" not in reason
    assert assert_reasons_whole(hints) >= 1


@pytest.mark.slow
def test_standard_library_reasons_are_whole(tmp_path):
    """Go's own encoding/json and net/http, compiled with -m=2: long assignments,
    format strings and generic calls in the `from` notes."""
    go = go_binary()
    log = tmp_path / "m2.txt"
    proc = subprocess.run([go, "build", "-gcflags=encoding/json=-m=2", "-gcflags=net/http=-m=2",
                           "encoding/json", "net/http"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    log.write_text(proc.stderr)
    assert assert_reasons_whole(reasons_and_compiler(["--compiler-log", log])) > 50
    shutil.rmtree(tmp_path, ignore_errors=True)
