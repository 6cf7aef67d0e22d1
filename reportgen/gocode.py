"""What kind of code a Go function name belongs to: the program's, the
standard library's, or the runtime's. Reports put the program's own code
first, because that is what the reader can change."""

from __future__ import annotations

import re


def name_head(name: str) -> str:
    """The part of a Go name before receivers, type arguments or a file suffix."""
    return re.split(r"[(\[ ]", name, maxsplit=1)[0]


def package_of(name: str, file: str = "") -> str:
    """Import path of a Go function name ("" if it has none): net/http.(*conn).serve -> net/http."""
    head = name_head(name)
    slash = head.rfind("/")
    dot = head.find(".", slash + 1)
    if dot > 0:
        return head[:dot]
    # Assembly without a package (gogo, memeqbody): its directory under src/.
    m = re.search(r"/src/((?:[^/]+/)*?[^/.]+)/[^/]+$", file or "")
    return m.group(1) if m else ""


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
