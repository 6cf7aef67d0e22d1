"""site.yml: load and validate a report manifest before any profile is read.

Validation runs on the node tree of `yaml.compose` (safe loader), never on
constructed objects: nothing is ever instantiated from a tag, and every node
keeps its line, so each mistake becomes one error of the form
`site.yml:12: analyses[2].kind: expected one of top, diff (got 'flme')`.
Analysis indexes in key paths count from 0.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

import reportgen
from reportgen.analyze.frames import GRANULARITIES
from reportgen.errors import ManifestError, ProfileError
from reportgen.sources.pprof import DEFAULT_MAX_DECOMPRESSED

THEMES_DIR = Path(reportgen.__file__).resolve().parent.parent / "themes"
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_T = "tag:yaml.org,2002:"
_TAG_WORDS = {"str": "string", "int": "integer", "float": "number", "bool": "boolean",
              "timestamp": "date"}
_PLAIN_SCALARS = {_T + t for t in ("str", "int", "float", "bool")}
_CONSTRUCT = yaml.constructor.SafeConstructor()  # only for int/bool scalars, never tags


# Validators take (ctx, node, where) and return the Python value or call ctx.fail.

def _got(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if node.tag == _T + "null":
        return "nothing" if node.value in ("", "~") else node.value
    if node.tag == _T + "str":
        return repr(node.value)
    return f"{_TAG_WORDS.get(node.tag.removeprefix(_T), node.tag)} {node.value}"


def _string(ctx, node, where) -> str:
    if not (isinstance(node, ScalarNode) and node.tag == _T + "str"):
        hint = "; quote it" if isinstance(node, ScalarNode) and node.tag in _PLAIN_SCALARS else ""
        ctx.fail(node, f"{where}: expected a string (got {_got(node)}{hint})")
    return node.value


def _sample_index(ctx, node, where) -> str:
    # pprof also takes a sample type's position (-sample_index=1), so allow an int.
    if isinstance(node, ScalarNode) and node.tag == _T + "int" and node.value.isdigit():
        return node.value
    return _string(ctx, node, where)


def _bool(ctx, node, where) -> bool:
    if not (isinstance(node, ScalarNode) and node.tag == _T + "bool"):
        ctx.fail(node, f"{where}: expected true or false (got {_got(node)})")
    return _CONSTRUCT.construct_yaml_bool(node)


def _nodes(ctx, node, where) -> int | None:
    """A positive node limit, or None for 'all' (as analyze.top expects)."""
    if isinstance(node, ScalarNode) and node.tag == _T + "str" and node.value == "all":
        return None
    if isinstance(node, ScalarNode) and node.tag == _T + "int":
        n = _CONSTRUCT.construct_yaml_int(node)
        if n > 0:
            return n
    ctx.fail(node, f"{where}: expected a positive integer or 'all' (got {_got(node)})")


def _one_of(*choices: str) -> Callable:
    def check(ctx, node, where):
        if not (isinstance(node, ScalarNode) and node.tag == _T + "str" and node.value in choices):
            ctx.fail(node, f"{where}: expected one of {', '.join(choices)} (got {_got(node)})")
        return node.value
    return check


def _profile_ref(ctx, node, where) -> str:
    name = _string(ctx, node, where)
    if name not in ctx.profile_names:
        known = (f"one of {', '.join(ctx.profile_names)}" if ctx.profile_names
                 else "defined under profiles, but the manifest has none")
        ctx.fail(node, f"{where}: expected a profile name {known} (got {name!r})")
    return name


@dataclass(frozen=True)
class Opt:
    check: Callable[..., Any]
    default: Any = None
    required: bool = False


def _req(check) -> Opt:
    return Opt(check, required=True)


# Analysis kinds and their options. A new kind (flame, peek, ...) is one more row;
# every kind also accepts `kind` and `title`.
ANALYSES: dict[str, dict[str, Opt]] = {
    "top": {
        "profile": _req(_profile_ref),
        "sample_index": Opt(_sample_index),
        "granularity": Opt(_one_of(*GRANULARITIES), "functions"),
        "cum": Opt(_bool, False),
        "nodes": Opt(_nodes, 100),
    },
    "diff": {
        "base": _req(_profile_ref),
        "target": _req(_profile_ref),
        "sample_index": Opt(_sample_index),
        "granularity": Opt(_one_of(*GRANULARITIES), "functions"),
        "nodes": Opt(_nodes, 100),
        "normalize": Opt(_bool, False),
        "mode": Opt(_one_of("diff_base", "base"), "diff_base"),
    },
}
_TOP_KEYS = ("title", "notes", "notes_file", "theme", "output", "max_decompressed",
             "profiles", "analyses")
_PROFILE_KEYS = ("path", "title", "labels", "sample_index")


@dataclass
class ProfileEntry:
    name: str
    path: Path                  # absolute
    title: str
    labels: dict[str, str]
    sample_index: str | None
    line: int | None


@dataclass
class Analysis:
    kind: str
    title: str | None
    options: dict[str, Any]     # every option of the kind, defaults filled in
    line: int | None
    index: int


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


class _Ctx:
    def __init__(self, display: str, base_dir: Path):
        self.display, self.base_dir, self.profile_names = display, base_dir, []

    def fail(self, node: Node | None, reason: str):
        line = node.start_mark.line + 1 if node is not None and node.start_mark else None
        raise ManifestError(self.display, reason, line)

    def mapping(self, node, where, allowed=None, required=(), what=""):
        """{key: (key node, value node)} in file order; rejects duplicates and unknown keys."""
        if not isinstance(node, MappingNode):
            self.fail(node, f"{where or 'top level'}: expected a mapping (got {_got(node)})")
        out: dict[str, tuple[Node, Node]] = {}
        for knode, vnode in node.value:
            at = f"{where}.{knode.value}" if where else str(knode.value)
            if not isinstance(knode, ScalarNode):
                self.fail(knode, f"{where or 'top level'}: expected plain keys (got {_got(knode)})")
            if knode.value in out:
                first = out[knode.value][0].start_mark.line + 1
                self.fail(knode, f"{at}: duplicate key; each may appear once (first on line {first})")
            if allowed is not None and knode.value not in allowed:
                self.fail(knode, f"{at}: unknown key{what} (allowed: {', '.join(allowed)})")
            out[knode.value] = (knode, vnode)
        for key in required:
            if key not in out:
                self.fail(node, f"{where or 'top level'}: missing required key '{key}'{what}")
        return out

    def file_path(self, node, where) -> Path:
        text = _string(self, node, where)
        p = Path(os.path.normpath(self.base_dir / Path(text).expanduser()))
        if not p.is_file():
            problem = "is a directory" if p.is_dir() else "does not exist"
            self.fail(node, f"{where}: expected an existing file (got {text!r}; {p} {problem})")
        return p


def load_manifest(path) -> Manifest:
    """Read and validate a site.yml; raise ManifestError naming the first problem."""
    display, p = str(path), Path(path)
    try:
        text = p.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ManifestError(display, "no such file") from None
    except IsADirectoryError:
        raise ManifestError(display, "is a directory, not a manifest") from None
    except UnicodeDecodeError as e:
        line = e.object[:e.start].count(b"\n") + 1
        raise ManifestError(display, "expected UTF-8 text", line) from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        reason = " ".join(s for s in (e.context, e.problem) if s)
        raise ManifestError(display, f"invalid YAML: {reason}",
                            mark.line + 1 if mark else None) from None
    except yaml.YAMLError as e:  # ReaderError: a character YAML forbids
        line = text[:getattr(e, "position", 0)].count("\n") + 1
        raise ManifestError(display, f"invalid YAML: {e}", line) from None
    ctx = _Ctx(display, p.absolute().parent)
    if root is None:  # an empty file: all defaults
        root = MappingNode(_T + "map", [])
    top = ctx.mapping(root, "", _TOP_KEYS)

    def value(key, check, default=None):
        return check(ctx, top[key][1], key) if key in top else default

    # Profiles first: analyses may refer to them wherever they appear in the file.
    profiles = _profiles(ctx, top["profiles"][1]) if "profiles" in top else {}
    ctx.profile_names = list(profiles)
    notes = value("notes", _string)
    if "notes_file" in top:
        if notes is not None:
            later = max(top["notes"][0], top["notes_file"][0], key=lambda n: n.start_mark.line)
            ctx.fail(later, f"{later.value}: expected either notes or notes_file, not both")
        node = top["notes_file"][1]
        try:
            notes = ctx.file_path(node, "notes_file").read_text(encoding="utf-8")
        except UnicodeDecodeError:
            ctx.fail(node, "notes_file: expected a UTF-8 Markdown file")
    theme = _theme_dir(ctx, top["theme"][1]) if "theme" in top else THEMES_DIR / "default"
    output = _output(ctx, top["output"][1]) if "output" in top else ctx.base_dir / "site"
    return Manifest(
        path=p.absolute(), base_dir=ctx.base_dir, title=value("title", _string, "Profile report"),
        notes=notes, theme_dir=theme, output=output,
        max_decompressed=value("max_decompressed", _size, DEFAULT_MAX_DECOMPRESSED),
        profiles=profiles, analyses=_analyses(ctx, top["analyses"][1]) if "analyses" in top else [])


def _size(ctx, node, where) -> int:
    if isinstance(node, ScalarNode) and node.tag == _T + "int":
        n = _CONSTRUCT.construct_yaml_int(node)
    elif m := (isinstance(node, ScalarNode) and node.tag == _T + "str" and
               re.fullmatch(r"\s*(\d+)\s*([kmgt]?)(i?b)?\s*", node.value, re.I)):
        n = int(m[1]) << (10 * " kmgt".index(m[2].lower() or " "))
    else:
        n = 0
    if n <= 0:
        ctx.fail(node, f"{where}: expected a positive byte count like 1073741824, 512M "
                       f"or 1G (got {_got(node)})")
    return n


def _theme_dir(ctx, node) -> Path:
    name = _string(ctx, node, "theme")
    local = Path(os.path.normpath(ctx.base_dir / Path(name).expanduser()))
    # A bare name is a bundled theme unless the manifest's directory has one of that name.
    d = local if "/" in name or os.sep in name or local.exists() else THEMES_DIR / name
    if not d.is_dir():
        ctx.fail(node, f"theme: expected a theme name from {THEMES_DIR} or a path to a theme "
                       f"directory (got {name!r}; {d} is not a directory)")
    return d


def _output(ctx, node) -> Path:
    text = _string(ctx, node, "output")
    out = Path(os.path.normpath(ctx.base_dir / Path(text).expanduser()))
    # The site goes in a directory of its own, never over the manifest and its inputs.
    if not text.strip() or out == ctx.base_dir or out in ctx.base_dir.parents:
        ctx.fail(node, f"output: expected a directory below or beside the manifest's "
                       f"(got {text!r}, which contains the manifest)")
    return out


def _profiles(ctx, node) -> dict[str, ProfileEntry]:
    out: dict[str, ProfileEntry] = {}
    folded: dict[str, Node] = {}
    for name, (knode, vnode) in ctx.mapping(node, "profiles").items():
        where = f"profiles.{name}"
        if not NAME_RE.fullmatch(name):
            ctx.fail(knode, f"{where}: expected a name of letters, digits, '_', '.' or '-', "
                            f"starting with a letter or digit (got {name!r})")
        # Names become file names; keep them distinct on case-insensitive file systems.
        if name.lower() in folded:
            first = folded[name.lower()]
            ctx.fail(knode, f"{where}: expected a unique name (same as {first.value!r} on "
                            f"line {first.start_mark.line + 1} but for case)")
        folded[name.lower()] = knode
        keys = ctx.mapping(vnode, where, _PROFILE_KEYS, required=("path",))
        labels = {}
        if "labels" in keys:
            for k, (lk, lv) in ctx.mapping(keys["labels"][1], f"{where}.labels").items():
                if not (isinstance(lv, ScalarNode) and lv.tag in _PLAIN_SCALARS):
                    ctx.fail(lv, f"{where}.labels.{k}: expected a string (got {_got(lv)})")
                labels[str(k)] = lv.value  # the text as written: build: 1.20 stays "1.20"
        get = {k: v for k, (_kn, v) in keys.items()}
        out[name] = ProfileEntry(
            name=name, path=ctx.file_path(get["path"], f"{where}.path"),
            title=_string(ctx, get["title"], f"{where}.title") if "title" in get else name,
            labels=labels, line=knode.start_mark.line + 1,
            sample_index=(_sample_index(ctx, get["sample_index"], f"{where}.sample_index")
                          if "sample_index" in get else None))
    return out


def _analyses(ctx, node) -> list[Analysis]:
    if not isinstance(node, SequenceNode):
        ctx.fail(node, f"analyses: expected a list (got {_got(node)})")
    out = []
    for i, item in enumerate(node.value):
        where = f"analyses[{i}]"
        raw = ctx.mapping(item, where)
        if "kind" not in raw:
            ctx.fail(item, f"{where}: missing required key 'kind' (one of {', '.join(ANALYSES)})")
        kind = _one_of(*ANALYSES)(ctx, raw["kind"][1], f"{where}.kind")
        row = ANALYSES[kind]
        required = [k for k, opt in row.items() if opt.required]
        keys = ctx.mapping(item, where, ["kind", "title", *row], required, f" for kind {kind}")
        options = {k: opt.check(ctx, keys[k][1], f"{where}.{k}") if k in keys else opt.default
                   for k, opt in row.items()}
        title = _string(ctx, keys["title"][1], f"{where}.title") if "title" in keys else None
        out.append(Analysis(kind, title, options, item.start_mark.line + 1, i))
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).lstrip("_.-").rstrip("-.")


def default_manifest(profile_paths: list[str], output: str | None = None) -> Manifest:
    """A manifest for bare profile files: a top page per profile, by function and by line."""
    paths = [Path(p) for p in profile_paths]
    for given, p in zip(profile_paths, paths):
        if not p.is_file():
            raise ProfileError(given, "is a directory, not a profile" if p.is_dir()
                               else "no such file")
    stems = [_slug(re.sub(r"(\.(pb|pprof|prof|gz|out))+$", "", p.name)) or "profile"
             for p in paths]
    # Clashing file names (before/cpu.pb.gz, after/cpu.pb.gz) take their directory's name.
    clash = {s.lower() for s in stems if [t.lower() for t in stems].count(s.lower()) > 1}
    profiles: dict[str, ProfileEntry] = {}
    for p, stem in zip(paths, stems):
        if stem.lower() in clash and _slug(p.absolute().parent.name):
            stem = f"{_slug(p.absolute().parent.name)}-{stem}"
        name, n = stem, 2
        while name.lower() in {k.lower() for k in profiles}:
            name, n = f"{stem}-{n}", n + 1
        profiles[name] = ProfileEntry(name, Path(os.path.normpath(p.absolute())), name, {},
                                      None, None)
    analyses = []
    for name in profiles:
        for granularity in ("functions", "lines"):
            options = {k: opt.default for k, opt in ANALYSES["top"].items()}
            options.update(profile=name, granularity=granularity)
            analyses.append(Analysis("top", None, options, None, len(analyses)))
    base = Path.cwd()
    return Manifest(
        path=None, base_dir=base, title="Profile report", notes=None,
        theme_dir=THEMES_DIR / "default", output=Path(os.path.normpath(base / (output or "site"))),
        max_decompressed=DEFAULT_MAX_DECOMPRESSED, profiles=profiles, analyses=analyses)
