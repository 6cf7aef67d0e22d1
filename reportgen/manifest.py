"""site.yml: load and validate a report manifest before any profile is read.

Checks run on `yaml.compose`'s node tree (safe loader), so no tag is ever
constructed and every node keeps its line: each mistake is one error like
`site.yml:12: analyses[2].kind: expected one of top, diff (got 'flme')`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

import reportgen
from reportgen.analyze.frames import GRANULARITIES
from reportgen.errors import ManifestError, ProfileError
from reportgen.regex import valid_go
from reportgen.sources.files import (DEFAULT_MAX_DECOMPRESSED, MAX_DECOMPRESSED_LIMIT,
                                     input_problem, read_bytes)
from reportgen.sources.numbers import parse_int

THEMES_DIR = Path(reportgen.__file__).resolve().parent.parent / "themes"
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
MAX_MANIFEST_BYTES = 4 << 20   # a manifest is a page of text; notes_file has the same bound
MAX_DEPTH = 32                  # the schema nests 5 deep; YAML 2000 deep would exhaust the stack


def theme_files() -> list[str]:
    """What a theme must hold: every file the bundled default theme has."""
    return sorted(p.name for p in (THEMES_DIR / "default").iterdir() if p.is_file())


MAX_THEME_FILE = 4 << 20   # bytes; the default theme's largest file is under 20 kB


def _theme_file_problem(path: Path) -> str:
    """Why a theme file cannot be used as is, or "" (it is read into every page)."""
    try:
        if path.stat().st_size > MAX_THEME_FILE:
            return f"is over {MAX_THEME_FILE >> 20} MB"
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return "is not UTF-8 text"
    except OSError as e:
        return f"cannot be read ({e.strerror})"
    if path.name.startswith("flame.") and "]]>" in text:
        return "contains ']]>', which would end the CDATA section it is inlined in"
    return ""


@dataclass(frozen=True)
class Opt:
    """One option: `check` names a _Checker method, or is the tuple of allowed values."""
    check: str | tuple[str, ...]
    default: Any = None
    required: bool = False


# pprof's sample filters, accepted by every kind that reads one profile.
FILTERS = {name: Opt("regex") for name in (
    "focus", "ignore", "hide", "show", "show_from", "tagfocus", "tagignore", "tagshow",
    "taghide")}

# Analysis kinds and their options. A new kind (flame, peek, ...) is one more row;
# every kind also takes `kind` and `title`.
ANALYSES: dict[str, dict[str, Opt]] = {
    "top": {
        "profile": Opt("profile", required=True),
        "sample_index": Opt("sample_index"),
        "granularity": Opt(GRANULARITIES, "functions"),
        "cum": Opt("boolean", False),
        "nodes": Opt("nodes", 100),
        **FILTERS,
    },
    "tags": {
        "profile": Opt("profile", required=True),
        "sample_index": Opt("sample_index"),
        **FILTERS,
    },
    "diff": {
        "base": Opt("profile", required=True),
        "target": Opt("profile", required=True),
        "sample_index": Opt("sample_index"),
        "granularity": Opt(GRANULARITIES, "functions"),
        "nodes": Opt("nodes", 100),
        "normalize": Opt("boolean", False),
        "mode": Opt(("diff_base", "base"), "diff_base"),
        "base_count": Opt("count"),     # units of work per capture: compare per unit
        "target_count": Opt("count"),
    },
    "flame": {
        "profile": Opt("profile", required=True),
        "sample_index": Opt("sample_index"),
        **FILTERS,
    },
    "peek": {
        "profile": Opt("profile", required=True),
        "sample_index": Opt("sample_index"),
        "pattern": Opt("regex", "."),
        "granularity": Opt(GRANULARITIES, "functions"),
        **FILTERS,
    },
    "bench": {   # benchmark files: plain paths relative to the manifest, not profiles
        "base": Opt("file", required=True),
        "target": Opt("file", required=True),
        "alpha": Opt("alpha", 0.05),
    },
    "gc": {      # GODEBUG=gctrace/scavtrace/schedtrace logs: paths, not profiles
        "log": Opt("file", required=True),
        "base": Opt("file"),                # the same program's log before a change
    },
    "goroutines": {
        "profile": Opt("profile", required=True),
        "ignore": Opt("regex"),
    },
    "leaks": {
        "snapshots": Opt("profile_list"),
        "heap": Opt("profile_list"),
        "ignore": Opt("regex"),
    },
    "escapes": {
        "profile": Opt("profile", required=True),
        "compiler_log": Opt("path"),
        "sample_index": Opt("sample_index"),
        "sources": Opt("source_roots"),     # optional; otherwise the site's `sources`
        "path_map": Opt("labels"),          # FROM: TO prefix rewrites of log paths
        "limit": Opt("nodes", 50),
    },
    "source": {
        "profile": Opt("profile", required=True),
        "sample_index": Opt("sample_index"),
        "pattern": Opt("regex", required=True),
        **FILTERS,
    },
    "history": {   # a directory of runs; the whole site becomes the history (history_site)
        "runs": Opt("path", required=True),
        "baseline": Opt("count", 3),
        "min_change": Opt("percent", 5.0),
        "share_points": Opt("percent", 5.0),
        "alpha": Opt("alpha", 0.05),
        "gate": Opt(("newest", "any"), "newest"),
    },
    "trace": {   # a runtime/trace file: a plain path relative to the manifest, not a profile
        "path": Opt("file", required=True),
        "timeline": Opt("boolean", True),
    },
}
_PROFILE = {"path": Opt("file", required=True), "title": Opt("string"),
            "labels": Opt("labels"), "sample_index": Opt("sample_index")}
# Top-level keys, checked in this order: profiles before the analyses that name them.
_TOP = {"title": Opt("string", "Profile report"), "notes": Opt("string"),
        "notes_file": Opt("text_file"), "theme": Opt("theme", THEMES_DIR / "default"),
        "output": Opt("directory"), "max_decompressed": Opt("size", DEFAULT_MAX_DECOMPRESSED),
        "max_samples": Opt("count"),
        "sources": Opt("source_roots"), "profiles": Opt("profiles"),
        "analyses": Opt("analyses")}


@dataclass
class ProfileEntry:
    name: str
    path: Path                  # absolute
    title: str
    labels: dict[str, str]
    sample_index: str | None
    line: int | None            # of the name in site.yml


@dataclass
class Analysis:
    kind: str
    title: str | None
    options: dict[str, Any]     # every option of the kind, defaults filled in
    line: int | None
    index: int                  # position in analyses, from 0 as in error messages


@dataclass
class Manifest:
    path: Path | None           # None for default_manifest
    base_dir: Path
    title: str
    notes: str | None
    theme_dir: Path
    output: Path                # absolute
    max_decompressed: int
    profiles: dict[str, ProfileEntry]
    analyses: list[Analysis]
    sources: list = field(default_factory=list)  # [{"root": Path, "strip": str}]
    # Bare builds only: inputs that are not profiles, by kind ("bench",
    # "compiler_log"), and options for the pages chosen for them (counts).
    bare: dict = field(default_factory=dict)
    max_samples: int | None = None  # None: the command line's --max-samples
    # A link in every page's header to the site this report is part of ({"href",
    # "title"}, href relative to the report's root): a history site's run reports.
    up: dict | None = None


_T = "tag:yaml.org,2002:"
_PLAIN = ("str", "int", "float", "bool")   # the scalar types a label value may have
_WORDS = {"int": "integer", "float": "number", "bool": "boolean"}
_CONSTRUCT = yaml.constructor.SafeConstructor()  # used only on int and bool scalars


def _is(node: Node, *kinds: str) -> bool:
    return isinstance(node, ScalarNode) and node.tag.removeprefix(_T) in kinds


def _got(node: Node) -> str:
    if not isinstance(node, ScalarNode):
        return "a mapping" if isinstance(node, MappingNode) else "a list"
    kind = node.tag.removeprefix(_T)
    return _clip({"str": repr(node.value), "null": node.value or "nothing"}.get(
        kind, f"{_WORDS.get(kind, kind)} {node.value}"))


def _clip(text: str, limit: int = 80) -> str:
    """Values quoted in errors stay readable: a 5000-digit number is not."""
    return text if len(text) <= limit else f"{text[:limit - 1]}… ({len(text)} characters)"


class _Checker:
    """Validators take (node, key path) and return the value; the first problem raises."""

    def __init__(self, display: str, base_dir: Path):
        self.display, self.base_dir, self.profile_names = display, base_dir, []

    def fail(self, node: Node | None, reason: str):
        line = node.start_mark.line + 1 if node is not None and node.start_mark else None
        raise ManifestError(self.display, reason, line)

    def resolve(self, text: str) -> Path:
        return Path(os.path.normpath(self.base_dir / Path(text).expanduser()))

    def mapping(self, node, where, allowed=None, required=(), what=""):
        """{key: (key node, value node)} in file order; rejects duplicate and unknown keys."""
        here = where or "top level"
        if not isinstance(node, MappingNode):
            self.fail(node, f"{here}: expected a mapping (got {_got(node)})")
        out: dict[str, tuple[Node, Node]] = {}
        for knode, vnode in node.value:
            if not isinstance(knode, ScalarNode):
                self.fail(knode, f"{here}: expected plain keys (got {_got(knode)})")
            at = f"{where}.{knode.value}" if where else knode.value
            if knode.value in out:
                first = out[knode.value][0].start_mark.line + 1
                self.fail(knode, f"{at}: duplicate key; each may appear once (first on line {first})")
            if allowed is not None and knode.value not in allowed:
                self.fail(knode, f"{at}: unknown key{what} (allowed: {', '.join(allowed)})")
            out[knode.value] = (knode, vnode)
        for key in required:
            if key not in out:
                self.fail(node, f"{here}: missing required key '{key}'{what}")
        return out

    def options(self, node, where, table: dict[str, Opt], what="") -> dict[str, Any]:
        """Check a mapping against a table of options; every option comes back, defaulted."""
        keys = self.mapping(node, where, list(table), [k for k, o in table.items() if o.required],
                            what)
        out = {}
        for key, opt in table.items():
            at, value = f"{where}.{key}" if where else key, keys.get(key, (None, None))[1]
            out[key] = (opt.default if value is None else self.choice(value, at, opt.check)
                        if isinstance(opt.check, tuple) else getattr(self, opt.check)(value, at))
        return out

    def string(self, node, where) -> str:
        if not _is(node, "str"):
            hint = "; quote it" if _is(node, *_PLAIN) else ""
            self.fail(node, f"{where}: expected a string (got {_got(node)}{hint})")
        return node.value

    def choice(self, node, where, choices) -> str:
        if not (_is(node, "str") and node.value in choices):
            self.fail(node, f"{where}: expected one of {', '.join(choices)} (got {_got(node)})")
        return node.value

    def sample_index(self, node, where) -> str:
        # pprof also takes a sample type's position (-sample_index=1).
        return node.value if _is(node, "int") and node.value.isdigit() else self.string(node, where)

    def boolean(self, node, where) -> bool:
        if not _is(node, "bool"):
            self.fail(node, f"{where}: expected true or false (got {_got(node)})")
        return _CONSTRUCT.construct_yaml_bool(node)

    def _int(self, node) -> int | None:
        """An int scalar's value (0x.., 1_000 ... as YAML reads them), None for a number
        too long to be sensible (Python refuses ints over 4300 digits)."""
        if len(node.value) > 40:
            return None
        return _CONSTRUCT.construct_yaml_int(node)

    def nodes(self, node, where) -> int | str:
        if _is(node, "str") and node.value == "all":
            return "all"
        n = self._int(node) if _is(node, "int") else None
        if n is None or not 0 < n < 1 << 31:
            self.fail(node, f"{where}: expected a positive integer or 'all' (got "
                            f"{_got(node)}{'; at most 2^31-1' if n else ''})")
        return n

    def count(self, node, where) -> int:
        n = self._int(node) if _is(node, "int") else None
        if n is None or not 0 < n <= 1 << 40:
            self.fail(node, f"{where}: expected a positive integer (got {_got(node)})")
        return n

    def percent(self, node, where) -> float:
        value = _CONSTRUCT.construct_yaml_float(node) if _is(node, "int", "float") else -1.0
        if not 0 <= value <= 1000:
            self.fail(node, f"{where}: expected a number of percent (points), like 5 "
                            f"(got {_got(node)})")
        return value

    def size(self, node, where) -> int:
        n = self._int(node) if _is(node, "int") else 0
        if m := _is(node, "str") and re.fullmatch(r"\s*(\d+)\s*([kmgt]?)(i?b)?\s*", node.value,
                                                  re.I):
            digits = parse_int(m[1], self.display, node.start_mark.line + 1, what=where,
                               lo=0, error=ManifestError)
            n = digits << (10 * " kmgt".index(m[2].lower() or " "))
        if n is None or not 0 < n <= MAX_DECOMPRESSED_LIMIT:
            self.fail(node, f"{where}: expected a positive byte count up to 1T, like "
                            f"1073741824, 512M or 1G (got {_got(node)})")
        return n

    def profile(self, node, where) -> str:
        name = self.string(node, where)
        if name not in self.profile_names:
            known = (f"one of {', '.join(self.profile_names)}" if self.profile_names
                     else "defined under profiles, but the manifest has none")
            self.fail(node, f"{where}: expected a profile name {known} (got {name!r})")
        return name

    def profile_list(self, node, where) -> list[str]:
        if not (isinstance(node, SequenceNode) and node.value):
            self.fail(node, f"{where}: expected a non-empty list of profile names "
                            f"(got {_got(node)})")
        return [self.profile(item, f"{where}[{i}]") for i, item in enumerate(node.value)]

    def file(self, node, where) -> Path:
        text = self.string(node, where)
        p = self.resolve(text)
        if problem := input_problem(p):
            self.fail(node, f"{where}: expected an existing file (got "
                            f"{_clip(repr(text))}; {_clip(str(p))} {problem})")
        return p

    def text_file(self, node, where) -> str:
        p = self.file(node, where)
        try:
            return read_bytes(p, ManifestError, "a Markdown file", MAX_MANIFEST_BYTES).decode()
        except ManifestError as e:
            self.fail(node, f"{where}: {e.reason}")
        except UnicodeDecodeError:
            self.fail(node, f"{where}: expected a UTF-8 Markdown file")

    def theme(self, node, where) -> Path:
        name = self.string(node, where)
        local = self.resolve(name)
        try:
            # A bare name is a bundled theme unless the manifest's directory has one of that name.
            d = local if "/" in name or os.sep in name or local.exists() else THEMES_DIR / name
            is_dir = d.is_dir()
        except OSError as e:   # a name too long for the file system, a loop of links ...
            self.fail(node, f"{where}: expected a theme name or a path to a theme directory "
                            f"(got a path the system refuses: {e.strerror})")
        if not is_dir:
            self.fail(node, f"{where}: expected a theme name from {THEMES_DIR} or a path to a "
                            f"theme directory (got {name!r}; {d} is not a directory)")
        if missing := [f for f in theme_files() if not (d / f).is_file()]:
            listed = ", ".join(missing[:4]) + (f" and {len(missing) - 4} more"
                                               if len(missing) > 4 else "")
            self.fail(node, f"{where}: expected a theme directory with every file of the "
                            f"bundled default theme (got {name!r}, which lacks {listed})")
        for f in theme_files():
            if problem := _theme_file_problem(d / f):
                self.fail(node, f"{where}: expected a usable theme ({name!r}: {f} {problem})")
        return d

    def directory(self, node, where) -> Path:
        # Need not exist; render.site refuses to replace a directory that is not a report.
        return self.resolve(self.string(node, where))

    def path(self, node, where) -> Path:
        """A file or a directory (the compiler's -json output is a directory)."""
        text = self.string(node, where)
        p = self.resolve(text)
        if problem := input_problem(p, allow_dir=True):
            self.fail(node, f"{where}: expected an existing file or directory "
                            f"(got {_clip(repr(text))}; {_clip(str(p))} {problem})")
        return p

    def alpha(self, node, where) -> float:
        value = _CONSTRUCT.construct_yaml_float(node) if _is(node, "float") else None
        if value is None or not 0 < value < 1:
            self.fail(node, f"{where}: expected a number between 0 and 1, like 0.05 "
                            f"(got {_got(node)})")
        return value

    def regex(self, node, where) -> str:
        text = self.string(node, where)
        if reason := valid_go(text):
            self.fail(node, f"{where}: expected a regular expression in Go's syntax ({reason})")
        return text

    def source_roots(self, node, where) -> list[dict]:
        """Where to find source files: profiles carry paths from the build machine."""
        if not isinstance(node, SequenceNode):
            self.fail(node, f"{where}: expected a list of {{root, strip}} (got {_got(node)})")
        out = []
        for i, item in enumerate(node.value):
            at = f"{where}[{i}]"
            keys = self.mapping(item, at, ["root", "strip"], required=["root"])
            root = self.resolve(self.string(keys["root"][1], f"{at}.root"))
            if input_problem(root, allow_dir=True) or not root.is_dir():
                self.fail(keys["root"][1], f"{at}.root: expected an existing directory "
                                           f"(got {root})")
            strip = self.string(keys["strip"][1], f"{at}.strip") if "strip" in keys else ""
            # "shown": the root as reports print it, relative to the manifest, so the
            # output does not depend on where the inputs live.
            shown = Path(os.path.relpath(root, self.base_dir)).as_posix()
            out.append({"root": str(root), "strip": strip, "shown": shown})
        return out

    def labels(self, node, where) -> dict[str, str]:
        out = {}
        for key, (_k, value) in self.mapping(node, where).items():
            if not _is(value, *_PLAIN):
                self.fail(value, f"{where}.{key}: expected a string (got {_got(value)})")
            out[key] = value.value  # the text as written: `build: 1.20` stays "1.20"
        return out

    def profiles(self, node, where) -> dict[str, ProfileEntry]:
        out: dict[str, ProfileEntry] = {}
        folded: dict[str, Node] = {}
        for name, (knode, vnode) in self.mapping(node, where).items():
            at = f"{where}.{name}"
            if not NAME_RE.fullmatch(name):
                self.fail(knode, f"{at}: expected a name of letters, digits, '_', '.' or '-', "
                                 f"starting with a letter or digit (got {name!r})")
            # Names become file names: keep them distinct on case-insensitive file systems.
            if (first := folded.setdefault(name.lower(), knode)) is not knode:
                self.fail(knode, f"{at}: expected a unique name (same as {first.value!r} on "
                                 f"line {first.start_mark.line + 1} but for case)")
            o = self.options(vnode, at, _PROFILE)
            out[name] = ProfileEntry(name, o["path"], o["title"] or name, o["labels"] or {},
                                     o["sample_index"], knode.start_mark.line + 1)
        self.profile_names = list(out)
        return out

    def analyses(self, node, where) -> list[Analysis]:
        if not isinstance(node, SequenceNode):
            self.fail(node, f"{where}: expected a list (got {_got(node)})")
        out = []
        for i, item in enumerate(node.value):
            at, kinds = f"{where}[{i}]", tuple(ANALYSES)
            raw = self.mapping(item, at, required=["kind"], what=f" (one of {', '.join(kinds)})")
            kind = self.choice(raw["kind"][1], f"{at}.kind", kinds)
            table = {"kind": Opt(kinds), "title": Opt("string"), **ANALYSES[kind]}
            o = self.options(item, at, table, f" for kind {kind}")
            del o["kind"]
            if kind == "diff" and (o["base_count"] is None) != (o["target_count"] is None):
                self.fail(item, f"{at}: expected both base_count and target_count, or neither")
            out.append(Analysis(kind, o.pop("title"), o, item.start_mark.line + 1, i))
        return out


def load_manifest(path) -> Manifest:
    """Read and validate a site.yml; raise ManifestError naming the first problem."""
    display, p = str(path), Path(path)
    data = read_bytes(p, ManifestError, "a manifest", MAX_MANIFEST_BYTES)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ManifestError(display, "expected UTF-8 text",
                            e.object[:e.start].count(b"\n") + 1) from None
    try:
        _check_depth(display, text)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:  # _check_depth bounds nesting; this is the last guard
        raise ManifestError(display, f"nested too deeply (expected at most {MAX_DEPTH} "
                                     "levels)") from None
    except yaml.YAMLError as e:  # a MarkedYAMLError, or a ReaderError (a forbidden character)
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        line = mark.line + 1 if mark else text[:getattr(e, "position", 0)].count("\n") + 1
        reason = " ".join(filter(None, (getattr(e, "context", ""), getattr(e, "problem", ""))))
        raise ManifestError(display, f"invalid YAML: {reason or str(e).splitlines()[0]}",
                            line) from None
    check = _Checker(display, p.absolute().parent)
    root = MappingNode(_T + "map", []) if root is None else root  # empty file: all defaults
    keys = check.mapping(root, "", list(_TOP))
    if "notes" in keys and "notes_file" in keys:
        later = max(keys["notes"][0], keys["notes_file"][0], key=lambda n: n.start_mark.line)
        check.fail(later, f"{later.value}: expected either notes or notes_file, not both")
    o = check.options(root, "", _TOP)
    return Manifest(
        path=p.absolute(), base_dir=check.base_dir, title=o["title"],
        notes=o["notes_file"] if "notes_file" in keys else o["notes"], theme_dir=o["theme"],
        output=o["output"] or check.base_dir / "site", max_decompressed=o["max_decompressed"],
        profiles=o["profiles"] or {}, analyses=o["analyses"] or [], sources=o["sources"] or [],
        max_samples=o["max_samples"])


def _check_depth(display: str, text: str) -> None:
    """Refuse nesting beyond MAX_DEPTH from the parser's events, before the (recursive)
    composer sees it; names the line where it goes too deep."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise ManifestError(display, f"nested more than {MAX_DEPTH} levels deep "
                                             "(a manifest needs 5)", event.start_mark.line + 1)
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).lstrip("_.-").rstrip("-.")


def default_analysis(kind: str, index: int, **options) -> Analysis:
    """An analysis of `kind` with every option defaulted except those given."""
    defaults = {k: opt.default for k, opt in ANALYSES[kind].items()}
    return Analysis(kind, None, {**defaults, **options}, None, index)


def _abs(p: Path) -> Path:
    return Path(os.path.normpath(p.absolute()))


def _is_gc_log(p: Path) -> bool:
    """A regular file whose start holds a gctrace, scavtrace or schedtrace line."""
    from reportgen.sources.gctrace import detect_gctrace
    from reportgen.sources.pprof import is_gzip
    if not p.is_file():  # a FIFO would block; the loader refuses what is not a file
        return False
    try:
        with open(p, "rb") as f:
            head = f.read(65536)
        # Logs are read as text: a gzip stream is a profile, and searching its
        # bytes for trace lines took most of a bare build's start-up.
        return not is_gzip(head) and detect_gctrace(head)
    except OSError:
        return False  # the loader says what is wrong with it


def default_manifest(profile_paths: list[str], output: str | None = None,
                     counts: tuple | None = None) -> Manifest:
    """A manifest for bare files: every input told apart by content (profiles and
    goroutine dumps, benchmark output, compiler logs); build.py's compose step
    chooses the pages. `counts` is (base, target) units of work for the diffs."""
    from reportgen.sources import sniff_input
    from reportgen.sources.runs import check_utf8_name
    for given in profile_paths:
        check_utf8_name(Path(given), "file", str(given))   # shown in the pages
        problem = input_problem(Path(given))
        if problem and problem != "is a directory":  # a directory is left to the loader
            raise ProfileError(given, "no such file" if problem == "does not exist" else problem)
    bare: dict = {"bench": [], "compiler_log": [], "counts": counts}
    kept = []
    for given in profile_paths:
        kind = sniff_input(given)
        if kind == "profile":
            kept.append(given)
        else:
            bare[kind].append(Path(os.path.normpath(Path(given).absolute())))
    profile_paths = kept
    paths = [Path(p) for p in profile_paths]
    from reportgen.sources.trace import is_trace_file
    # told by content: execution traces, gzip-compressed or not
    traces = [p for p in paths if is_trace_file(p)]
    paths = [p for p in paths if p not in traces]
    # GC/scheduler trace logs are pages of their own, not profiles.
    logs = [p for p in paths if _is_gc_log(p)]
    paths = [p for p in paths if p not in logs]
    from reportgen.compose import in_time_order  # before/old first, after/new last
    logs = in_time_order(logs)
    stems = [_slug(re.sub(r"(\.(pb|pprof|prof|gz|out))+$", "", p.name)) or "profile"
             for p in paths]
    # Clashing file names (before/cpu.pb.gz, after/cpu.pb.gz) take their directory's name.
    folded = [s.lower() for s in stems]
    profiles: dict[str, ProfileEntry] = {}
    for p, stem in zip(paths, stems):
        parent = _slug(p.absolute().parent.name)
        if folded.count(stem.lower()) > 1 and parent:
            stem = f"{parent}-{stem}"
        name, n = stem, 2
        while name.lower() in {k.lower() for k in profiles}:
            name, n = f"{stem}-{n}", n + 1
        profiles[name] = ProfileEntry(name, Path(os.path.normpath(p.absolute())), name, {},
                                      None, None)
    # Each profile gets its own page (flame graphs, top functions linked to their
    # callers and callees) from build.py; reportgen.compose chooses the other pages
    # once the inputs are read. Line-level views are a manifest away.
    analyses: list[Analysis] = []
    # Two logs are a before/after pair; otherwise a page per log.
    pairs = [(logs[0], logs[1])] if len(logs) == 2 else [(None, log) for log in logs]
    for base_log, log in pairs:
        analyses.append(default_analysis("gc", len(analyses), log=_abs(log),
                                         base=_abs(base_log) if base_log else None))
    for trace in traces:
        analyses.append(default_analysis("trace", len(analyses), path=_abs(trace)))
    base = Path.cwd()
    return Manifest(
        path=None, base_dir=base, title="Profile report", notes=None,
        theme_dir=THEMES_DIR / "default", output=Path(os.path.normpath(base / (output or "site"))),
        max_decompressed=DEFAULT_MAX_DECOMPRESSED, profiles=profiles, analyses=analyses,
        bare=bare)
