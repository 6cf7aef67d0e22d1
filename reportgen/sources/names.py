"""pprof's function-name simplification, applied once at load time.

`go tool pprof` runs every profile through its symbolizer's Demangle
(internal/symbolizer/symbolizer.go, demangleSingleFunction with the default
options NoParams, NoEnclosingParams, NoTemplateParams). For a function whose
name is empty or equal to its system name, and that is not a mangled C++
symbol, it takes the system name and, when the name "looks like demangled
C++" — it contains `<`, `>`, `[`, `]` or `::`, but neither `.<` (Java's
`class.<init>`) nor `]).` (Go's `pkg.(*T[...]).M`) — removes balanced
`(...)` groups, then balanced `<...>` groups (removeMatching: an unbalanced
closer stops the removal where it is). Go generic instantiations hit this:
`decode[go.shape.map[string]func(int) bool]` prints as
`decode[go.shape.map[string]func bool]`.

Every view shows and matches the simplified name, as pprof does; the
original stays in Function.system_name (JSON `system_name`).
Mangled names (`_Z...`) are not demangled here: pprof would demangle them.
"""

from __future__ import annotations

from reportgen.model import Function


def looks_like_demangled_cpp(name: str) -> bool:
    """pprof's looksLikeDemangledCPlusPlus."""
    if ".<" in name or "])." in name:
        return False
    return any(c in name for c in "<>[]") or "::" in name


def remove_matching(name: str, start: str, end: str) -> str:
    """pprof's removeMatching: drop each outermost balanced start..end group.

    A closer with no opener returns the name as rewritten so far; an opener
    never closed leaves its group in place.
    """
    nesting = first = 0
    current = 0
    while True:
        hits = [i for i in (name.find(start, current), name.find(end, current)) if i >= 0]
        if not hits:
            return name
        current = min(hits)
        if name[current] == start:
            nesting += 1
            if nesting == 1:
                first = current
        else:
            nesting -= 1
            if nesting < 0:
                return name
            if nesting == 0:
                name = name[:first] + name[current + 1:]
                current = first - 1
        current += 1


def simplify_name(name: str) -> str:
    """The name pprof shows for an already-demangled (or Go) system name."""
    if looks_like_demangled_cpp(name):
        name = remove_matching(name, "(", ")")
        name = remove_matching(name, "<", ">")
    return name


def simplify_functions(functions: list[Function]) -> list[Function]:
    """Functions with pprof's display names (see the module docstring); the same
    list when nothing changes."""
    out = None
    for i, fn in enumerate(functions):
        if fn.name and fn.system_name != fn.name:
            continue  # pprof: "Already demangled."
        name = simplify_name(fn.system_name)
        if name != fn.name:
            if out is None:
                out = list(functions)
            out[i] = fn._replace(name=name)
    return functions if out is None else out
