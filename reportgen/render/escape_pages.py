"""Escape hints in words: the reason, the suggestion, text, JSON and the report page.

The analyzer (analyze.escapes) decides the numbers, the category and which
compiler verdict explains a line; this module only phrases them.
"""

from __future__ import annotations

import posixpath
import re

from reportgen import units
from reportgen.analyze.escapes import call_verdicts

TITLES = {
    "growth": "Slice growth", "interface": "Interface conversion",
    "address": "Address of a local returned or stored", "closure": "Closure capture",
    "size": "Non-constant or too-large size", "buffer": "Buffer made per call",
    "wrapper": "Arguments held for a go or defer statement",
    "concat": "String concatenation",
    "conversion": "[]byte/string conversion", "map": "Map growth", "other": "Heap allocation",
}

# The compiler's flow reasons (escape/solve.go notes) as short phrases; the
# rest (spill, dot, reference ...) say nothing a reader can act on.
_WHY = {
    "address-of": "its address is taken ({w})",
    "interface-converted": "it is converted to an interface ({w})",
    "call parameter": "it is passed to {w}",
    "return": "it is returned",
    "assign": "it is stored by {w}",
    "assign-pair": "it is stored by {w}",
    "captured by a closure": "a closure captures it",
    "too large for stack": "it is too large for the stack",
    "non-constant size": "its size is not a constant",
    "slice-literal-element": "it becomes an element of {w}",
    "map literal value": "it becomes a value in a map literal",
    "map literal key": "it becomes a key in a map literal",
    "struct literal element": "it is stored in a struct literal",
    "array literal element": "it is stored in an array literal",
    "key of map put": "it is used as a map key",
}
_SMALL_MAKE = re.compile(r"^make\(\[\](?P<elem>[^,]+),")
# What a runtime allocation helper means in the caller's code.
_HELPER_WORDS = [("growslice", "append grew the slice past its capacity"),
                 ("makeslice", "make([]T, n) with a size known only at run time"),
                 ("concatstring", "string concatenation"),
                 ("slicebytetostring", "a []byte to string copy"),
                 ("stringtoslice", "a string to []byte copy"),
                 ("conv", "a value boxed into an interface"),
                 ("mapassign", "a map insert that grew the map"), ("makemap", "a new map"),
                 ("maps.", "map growth"), ("newobject", "a value allocated with new, &T{} or "
                                           "moved to the heap"),
                 ("unsafe_New", "a value allocated by reflection")]


def _short(where: str, limit: int = 60) -> str:
    """A compiler expression (the subject of a `from` note) in about `limit`
    characters, shortened only at the expression's own boundaries, never mid-word
    or inside a string literal: bracket groups become `(…)`, innermost first; an
    assignment keeps its left side, what stores the value (`dst = append(…)`,
    `s = …`); a list keeps whole leading operands (`a, b, …`). The full text stays
    in the JSON's `compiler` chains and the page's "What the compiler said"."""
    if where == "... argument":
        return "the ... arguments of a variadic call"
    if len(where) <= limit:
        return where
    tokens = _tokens(where)
    k = next((i for i, (t, d) in enumerate(tokens) if d == 0 and t in _ASSIGN), None)
    if k is None:
        return _fit(tokens, limit) or _collapsed(tokens)
    lhs = _fit(tokens[:k], limit - 4) or _collapsed(tokens[:k])
    op = tokens[k][0]
    return lhs + op + (_fit(tokens[k + 1:], limit - len(lhs) - len(op)) or "…")


_ASSIGN = (" := ", " = ")
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|`[^`]*`|\'(?:[^\'\\]|\\.)*\'|'
                    r'\.\.\. argument|'    # the compiler's name for a variadic call's arguments
                    r' := | = |, | \+ | |[()\[\]{}]|[^"`\'()\[\]{}, ]+|.')


def _tokens(text: str) -> list[tuple[str, int]]:
    """(token, bracket depth) of a Go expression. A string or rune literal is one
    token: its brackets, commas and spaces are not the expression's."""
    out, depth = [], 0
    for t in _TOKEN.findall(text):
        if t in (")", "]", "}"):
            depth = max(depth - 1, 0)
        out.append((t, depth))
        if t in ("(", "[", "{"):
            depth += 1
    return out


def _collapsed(tokens, hidden=None) -> str:
    """The tokens as text; each run of hidden tokens (a group's contents) as `…`.
    With no `hidden`, every top-level group's contents are hidden."""
    if hidden is None:
        hidden = [d > 0 for _t, d in tokens]
    out = []
    for (t, _d), hide in zip(tokens, hidden):
        if not hide:
            out.append(t)
        elif out[-1:] != ["…"]:
            out.append("…")
    return "".join(out)


def _fit(tokens, limit: int) -> str:
    """The tokens in at most `limit` characters, or "" if even the first operand
    does not fit: bracket groups collapsed to `…`, the longest first (so
    `f[T](args)` reads `f[T](…)`), then whole leading operands kept (cut before a
    top-level `, `, ` + ` or space) and an ellipsis."""
    n = sum(len(t) for t, _d in tokens)
    if n <= limit:
        return "".join(t for t, _d in tokens)
    groups, stack = [], []
    for i, (t, _d) in enumerate(tokens):
        if t in ("(", "[", "{"):
            stack.append(i)
        elif t in (")", "]", "}") and stack:
            groups.append((stack.pop(), i))
    ends = [0]
    for t, _d in tokens:
        ends.append(ends[-1] + len(t))
    hidden = [False] * len(tokens)
    for o, c in sorted(groups, key=lambda g: (ends[g[0] + 1] - ends[g[1]], g[0])):
        size = ends[c] - ends[o + 1]
        if size <= 1 or hidden[o]:
            continue                  # "…" saves nothing; or inside a collapsed group
        hidden[o + 1:c] = [True] * (c - o - 1)
        n -= size - 1
        if n <= limit:
            return _collapsed(tokens, hidden)
    for i in range(len(tokens) - 1, 0, -1):
        t, d = tokens[i]
        if d == 0 and t in (", ", " + ", " "):
            head = _collapsed(tokens[:i], hidden[:i]) + t.rstrip() + " …"
            if len(head) <= limit:
                return head
    return ""


def chain_lines(v) -> list:
    """Each explanation as -m=2 prints it: `flow: dst ← src` and its `from` notes."""
    out = []
    for chain in v.chains:
        lines = []
        for f in chain:
            lines.append(f"flow: {f.dst} ← {f.src}")
            lines += [f"  from {s.where} ({s.why})" + (f" at {s.pos}" if s.pos else "")
                      for s in f.steps]
        out.append(lines)
    return out


def plain_flow(v) -> list[str]:
    """The first explanation as phrases: why the value cannot stay on the stack."""
    phrases: list[str] = []
    chain = v.chains[0] if v is not None and v.chains else []
    for f in chain:
        for s in f.steps:
            if s.why in _WHY:
                text = _WHY[s.why].format(w=_short(s.where))
                if text not in phrases:
                    phrases.append(text)
    if chain and chain[-1].dst == "{heap}":
        phrases.append("so it must live on the heap")
    return phrases


def _where(v) -> str:
    return f"{posixpath.basename(v.file)}:{v.line}" + (f":{v.col}" if v.col else "")


def reason(h) -> str:
    parts = []
    if h.primary is not None and h.primary.kind == "no_escape":
        parts.append(f"The compiler says “{h.primary.text}” ({_where(h.primary)}), but the "
                     "size is only known at run time: past a small limit it is allocated on "
                     "the heap anyway.")
    elif h.primary is not None and h.wrapper:
        stmt = h.wrapper if h.wrapper in ("go", "defer") else "go or defer"
        parts.append(f"The compiler says “{h.primary.text}” ({_where(h.primary)}): that func "
                     f"literal is the closure it makes for this {stmt} statement to hold the "
                     "call's arguments.")
    elif h.primary is not None:
        flow = plain_flow(h.primary)
        parts.append(f"The compiler says “{h.primary.text}” ({_where(h.primary)})"
                     + (": " + ", ".join(flow) if flow else "") + ".")
    if h.primary is None and h.caused:
        v = min(h.caused, key=lambda v: v.kind != "moved")
        flow = plain_flow(v)
        parts.append(f"The compiler says “{v.text}” ({_where(v)}) because of this line"
                     + (": " + ", ".join(flow) if flow else "") + ".")
    if h.helpers:
        name = next(iter(h.helpers))
        words = next((w for key, w in _HELPER_WORDS if key in name), "")
        parts.append(f"The bytes are allocated by {name}" + (f" ({words})" if words else "")
                     + ", called from this line.")
    if h.via:
        name = next(iter(h.via))
        most = "Most" if h.via[name] * 2 > h.value else "Some"
        parts.append(f"{most} of it is allocated inside {name}, called from this line.")
    if not parts:
        parts.append("This line allocates" + (f" ({TITLES[h.category].lower()}, judged from "
                                              "the source line)." if h.category != "other"
                                              else "."))
    return " ".join(parts)


# Per category: why it allocates, and the fix (the fix alone heads the page).
_ADVICE = {
    "interface": ("Each value passed as an interface (fmt, log, any parameters) is boxed and "
                  "escapes.", "Keep the hot path free of interface arguments: format with "
                  "strconv.Append* into a reused []byte or a strings.Builder instead of fmt, "
                  "log typed fields, and decode into a concrete struct rather than any or "
                  "map[string]any."),
    "address": ("{name} outlives the call because its address is returned or stored.",
                "Return it by value, let the caller pass a pointer to fill, or reuse one "
                "(sync.Pool)."),
    "closure": ("The closure captures {name} by reference, so both are allocated on every "
                "call.", "Create the closure once outside the hot path, pass the value as an "
                "argument, or use a struct with a method."),
    "buffer": ("{call} allocates a new {size}buffer every time it is called.",
               "Reuse it: keep one reader or writer per worker and Reset it for each new "
               "input, or take one from a sync.Pool, instead of creating it per call."),
    "size": ("A size known only at run time, or too large for the stack, is always "
             "heap-allocated.", "Reuse a buffer sized for the largest case (a field or "
             "sync.Pool), or use a constant size that fits the stack when the data is small."),
    "concat": ("Each + or += on strings, and each strconv.Itoa or FormatInt, allocates a new "
               "string.", "Build the text once with strings.Builder (Grow first), or with "
               "append and strconv.Append* into a reused []byte."),
    "conversion": ("string(b) and []byte(s) copy the data.", "Stay in one representation "
                   "(bytes functions on []byte, strings functions on the string); the compiler "
                   "only skips the copy for map lookups m[string(b)], comparisons and range "
                   "loops."),
    "map": ("The map starts small and rehashes as it grows.", "Give make a size hint, "
            "make(map[K]V, n), or clear() and reuse the map between calls."),
    "other": ("This line allocates every time it runs.", "Move the allocation out of the loop, "
              "or reuse the value (a field, sync.Pool)."),
}


def _binary(n: int) -> str:
    """64 KiB, 4 KiB, 1.5 MiB, 48 B: an object's size as Go programmers write it."""
    for factor, unit in ((1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
        if n >= factor:
            return f"{n / factor:.4g} {unit}"
    return f"{n} B"


def _type_of(v) -> str:
    """bytes.Reader from &bytes.Reader{...} or new(bufio.Reader); "" otherwise."""
    m = re.match(r"^(?:&([\w.]+)\{|new\(([\w.]+)\))", v.value) if v is not None else None
    return (m[1] or m[2]) if m else ""


def _closure_advice(h) -> tuple[str, str]:
    """Closures name what they capture; a go/defer wrapper is the statement's arguments."""
    if h.wrapper:
        stmt = h.wrapper if h.wrapper in ("go", "defer") else "go or defer"
        args = re.search(r"\b(?:go|defer)\s+[\w.]+\((.*)\)\s*$", h.text or "")
        held = f"its arguments ({args[1]})" if args and args[1].strip() else "its arguments"
        fixes = {"go": "Start fewer goroutines: hand the work to a fixed pool of workers "
                       "over a channel.",
                 "defer": "Move the defer out of the loop (into a function called per "
                          "item) so the compiler can run it without a heap-allocated record."}
        fix = fixes.get(stmt) or f"For go: {fixes['go']} For defer: {fixes['defer']}"
        return (f"The {stmt} statement keeps the call and {held} in a closure the compiler "
                "allocates each time the statement runs.", fix)
    names = ", ".join(f"`{n}`" for n in h.captured)
    if names:
        return (f"The closure captures {names} by reference, so the closure and "
                f"{'those variables are' if len(h.captured) > 1 else 'the variable is'} "
                "allocated on every call.", _ADVICE["closure"][1])
    return ("The function literal escapes, so it and whatever it captures are allocated on "
            "every call.", _ADVICE["closure"][1])


def advice(h) -> tuple[str, str]:
    """(why it allocates, what to do), specific to the value when the compiler named it."""
    v = h.primary
    if h.category in ("closure", "wrapper"):
        return _closure_advice(h)
    if h.category == "buffer":
        own = call_verdicts(h.call, h.verdicts) if h.call else h.verdicts
        typ = next((_type_of(x) for x in own if _type_of(x)), "")
        call = h.call or (next(iter(h.via)) if h.via else "This line")
        why, fix = _ADVICE["buffer"]
        if typ:
            fix = (f"Reuse it: keep one {typ} per worker and call its Reset for each new "
                   "input, or take one from a sync.Pool, instead of creating it per call.")
        size = h.cost.via_size.get(call, 0) if h.cost is not None else 0
        return why.format(call=call, size=f"{_binary(size)} " if size else ""), fix
    if h.category in ("interface", "address") and h.call and _type_of(v):
        typ = _type_of(v)
        how = ("because it is passed on as an interface" if h.category == "interface" else
               "because it is stored or outlives the call")
        return (f"{h.call} creates a new {typ} on every call, and it escapes {how}.",
                f"Reuse one {typ}: keep it per worker and Reset it for each input (or take it "
                "from a sync.Pool), or pass the concrete type to code that does not keep it.")
    if h.category == "growth" and v is None and sum(h.via.values()) * 2 > h.value:
        return (f"{next(iter(h.via))} grows its buffer step by step, copying it each time.",
                "Give the buffer its final size once (Grow, make([]byte, 0, n), a size from "
                "Content-Length) or reuse it between calls (Reset, sync.Pool).")
    if h.category == "growth":
        m = _SMALL_MAKE.match(h.start.value) if h.start is not None else None
        why = (f"The slice starts as {h.start.value} ({_where(h.start)}) and append "
               "reallocates and copies it each time it fills up." if h.start is not None else
               "append reallocates and copies the slice each time it fills up.")
        return why, (f"Size it once: make([]{m['elem'] if m else 'T'}, 0, n) with n the number "
                     "of elements you expect (an upper bound such as the input's length), or "
                     "keep the slice between calls and reset it with s = s[:0] (a sync.Pool "
                     "for concurrent callers).")
    if h.category == "interface" and v is not None and v.kind == "moved":
        decl = re.search(rf"\bvar\s+{re.escape(v.value)}\s+([\w.\[\]*]+)", h.text)
        typ = decl[1] if decl else "T"
        return (f"&{v.value} is handed to a function through an interface, which the compiler "
                f"cannot see into, so {v.value} is allocated on every call.",
                f"Give the callee a concrete type (a method taking *{typ}), or reuse one {typ} "
                "per worker (sync.Pool) instead of declaring it on every call.")
    if h.category == "address" and v is not None and v.value.startswith(("make(", "[]")):
        return ("The slice is returned or stored, so its backing array outlives the call.",
                "Let the caller pass a slice to append into (dst []T), or reuse one between "
                "calls.")
    if h.category == "other" and h.via:
        return (f"Most of it is allocated inside {next(iter(h.via))}.",
                "Call it less often, or reuse what it returns.")
    why, fix = _ADVICE[h.category]
    return why.format(name=f"`{v.value}`" if v is not None and v.value else "The value"), fix


def suggestion(h) -> str:
    return " ".join(advice(h))


def hint_dict(h, rank: int) -> dict:
    d = {"rank": rank, "file": h.file, "line": h.line, "function": h.function,
         "value": h.value, "share": h.share, "category": h.category,
         "title": TITLES[h.category], "reason": reason(h), "suggestion": suggestion(h),
         "value_name": h.primary.value if h.primary is not None else "",
         "flat": h.flat, "helpers": h.helpers, "via": h.via, "flow": plain_flow(h.primary),
         "call": h.call, "captured": h.captured, "wrapper": h.wrapper,
         "compiler": [{"pos": v.pos, "text": v.text, "function": v.function,
                       "chains": chain_lines(v)} for v in h.verdicts + h.caused]}
    d["source"] = None if h.snippet is None else {
        "path": h.snippet.path, "line": h.snippet.line, "lines": [list(x) for x in h.snippet.lines]}
    return d


def result_dict(result) -> dict:
    return {"kind": "escapes", "profile": result.profile, "compiler_log": result.compiler_log,
            "sample_index": result.sample_index, "unit": result.unit, "total": result.total,
            "outside_user_code": result.outside, "notes": result.notes,
            "hints": [hint_dict(h, i + 1) for i, h in enumerate(result.hints)],
            "unmatched": [v.as_dict() for v in result.unmatched]}


def answer(result) -> str:
    """The first hint as one sentence: where, how much, what kind, what to do."""
    if not result.hints:
        return ("No allocations in user code." if result.profile else
                "The compiler log reports no values escaping to the heap.")
    if not result.profile:
        return (f"The compiler moved values to the heap on {len(result.hints)} lines; without "
                "a profile they are listed in file order. Add an allocs profile to rank them "
                "by cost.")
    h = result.hints[0]
    where = f"{posixpath.basename(h.file)}:{h.line}"
    func = h.function.rsplit("/", 1)[-1]
    return (f"{units.human_percent(h.value, result.total)} of {result.sample_index} "
            f"({units.human(h.value, result.unit)}) is allocated at {where} in {func}: "
            f"{TITLES[h.category].lower()}. {advice(h)[1]}")


def format_text(result) -> str:
    lines = []
    if result.profile:
        lines.append(f"Allocation hints for {result.profile} ({result.sample_index}, total "
                     f"{units.label(result.total, result.unit)})")
    else:
        lines.append(f"Escapes reported in {result.compiler_log} (no profile: unranked)")
    lines += [f"Note: {n}" for n in result.notes]
    for i, h in enumerate(result.hints, 1):
        cost = (f"{units.percentage(h.value, result.total).strip():>7} "
                f"{units.label(h.value, result.unit):>9}  " if h.share is not None else "")
        lines.append("")
        lines.append(f"{i:>3}. {cost}{h.file}:{h.line}  {h.function}".rstrip())
        lines.append(f"     [{TITLES[h.category]}] {reason(h)}")
        lines.append(f"     Fix: {suggestion(h)}")
        if h.snippet is not None:
            for n, text in h.snippet.lines:
                mark = ">" if n == h.line else " "
                lines.append(f"     {mark}{n:>5} | {text.expandtabs(4)}")
    if result.outside:
        lines += ["", f"Allocated outside your code (runtime, standard library only): "
                      f"{units.label(result.outside, result.unit)}"]
    return "\n".join(lines) + "\n"


def escapes_page(writer, slug: str, title: str, result, profiles=None, manifest=None,
                 analysis=None) -> str:
    """The page for build's PAGE_BUILDERS; returns the summary for the index."""
    if getattr(manifest, "sources", None) and not any(h.snippet for h in result.hints):
        from reportgen.analyze.escapes import attach_sources
        from reportgen.sources.escapes import SourceTree
        attach_sources(result, SourceTree(manifest.sources))
    data = {**result_dict(result), "profile": writer.shown(result.profile),
            "compiler_log": writer.shown(result.compiler_log)}
    name = writer.add_data(f"{slug}.json", data)
    info = [("Profile", posixpath.basename(result.profile or "") or "none"),
            ("Compiler log", posixpath.basename(result.compiler_log or "") or "none")]
    if result.profile:
        info += [("Sample", f"{result.sample_index} ({result.unit})"),
                 ("Total", units.human(result.total, result.unit))]
    lines = units.plural(len(result.hints), "line")
    summary = (f"{lines}, ranked by {result.sample_index}; runtime helpers and library calls "
               "count for the line of your code that called them." if result.profile else
               f"{lines} where the compiler moved values to the heap, in file order.")
    writer.add_page(f"pages/{slug}.html", "escapes.html.j2", title, info=info,
                    answer=answer(result), summary=summary, notes=result.notes,
                    hints=data["hints"], result=result, data=name)
    return answer(result)
