"""What kind of code a Go function name belongs to: the program's, the
standard library's, or the runtime's. Reports put the program's own code
first, because that is what the reader can change.

Every answer is memoised per name: a profile or a dump repeats a few
thousand names in 10^6 frames."""

from __future__ import annotations

import functools
import re

_HEAD = re.compile(r"[(\[ ]")
_ASM_DIR = re.compile(r"/src/((?:[^/]+/)*?[^/.]+)/[^/]+$")
_CACHE = 1 << 16


def name_head(name: str) -> str:
    """The part of a Go name before receivers, type arguments or a file suffix.

    Only that part can hold the import path: type arguments like
    `F[example.com/t.T]` carry slashes of their own."""
    m = _HEAD.search(name)
    return name[:m.start()] if m else name


@functools.lru_cache(maxsize=_CACHE)
def package_of(name: str, file: str = "") -> str:
    """Import path of a Go function name ("" if it has none): net/http.(*conn).serve -> net/http."""
    head = name_head(name)
    slash = head.rfind("/")
    dot = head.find(".", slash + 1)
    if dot > 0:
        return head[:dot]
    # Assembly without a package (gogo, memeqbody): its directory under src/.
    m = _ASM_DIR.search(file) if file else None
    return m.group(1) if m else ""


@functools.lru_cache(maxsize=256)
def family(package: str) -> str:
    if not package:
        return "other"
    if package == "runtime" or package.startswith(("runtime/", "internal/runtime")):
        return "runtime"
    if package != "main" and "." not in package.split("/", 1)[0]:
        return "std"
    return "app"


def is_program_code(name: str, file: str = "") -> bool:
    return family(package_of(name, file)) == "app"


@functools.lru_cache(maxsize=_CACHE)
def is_runtime(name: str) -> bool:
    """Runtime frames as goroutine tracebacks hide them: package runtime and its
    internals, `panic`/`goexit`, and names without a package (C and assembly),
    but not an address the binary could not name (`0x4a1b2c`)."""
    pkg = package_of(name)
    return (pkg == "runtime" or pkg.startswith(("internal/runtime", "runtime/internal"))
            or name in ("panic", "goexit") or (not pkg and not name.startswith("0x")))
