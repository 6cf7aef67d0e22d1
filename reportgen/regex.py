"""Go's regular expressions, for every pattern a user or a profile supplies.

pprof compiles drop_frames/keep_frames, -focus/-ignore/-hide/-show/-show_from,
the -tag* filters and the -peek/-list patterns with Go's regexp package, whose
syntax is RE2's: POSIX classes (`[[:alpha:]]`), Unicode classes (`\\pL`,
`\\p{Greek}`), `\\Q...\\E` quoting, and linear-time matching (no
backreferences, no catastrophic backtracking). Python's `re` differs on all
of these, so such patterns are compiled here, with Google's RE2 binding
(`google-re2`), and nowhere else. Patterns written into reportgen itself
keep using `re`.

A pattern RE2 rejects is a user error naming the option and RE2's reason.
"""

from __future__ import annotations

import re2

from reportgen.errors import UsageError

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False   # RE2 would print every rejected pattern to stderr


def compile_go(pattern: str, option: str, *, anchored: bool = False, path=None,
               error: type = UsageError):
    """`pattern` compiled with Go's (RE2) syntax and semantics.

    anchored: match whole names, as pprof's `^(rx)$` for drop_frames and
    keep_frames (profile.RemoveUninteresting). The result has Python's
    search/match/fullmatch methods. A rejected pattern raises `error(path or
    option, "parsing OPTION regexp 'PATTERN': REASON")`.
    """
    text = f"^({pattern})$" if anchored else pattern
    try:
        return re2.compile(text, _OPTIONS)
    except re2.error as e:
        reason = e.args[0] if e.args else "invalid"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        shown = pattern if len(pattern) <= 80 else pattern[:79] + "…"
        raise error(path or option, f"parsing {option} regexp {shown!r}: {reason}") from None


def valid_go(pattern: str) -> str | None:
    """None when RE2 accepts `pattern`, else its reason (for validators with their own
    error shape, like the manifest's)."""
    try:
        compile_go(pattern, "")
    except UsageError as e:
        return e.reason.split("': ", 1)[-1]
    return None
