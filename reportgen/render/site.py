"""Writing the report directory: templates in, HTML and JSON out, atomically.

Pages are rendered in memory and handed to render.sitedir, which swaps the
whole directory in only when every page was written.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from urllib.parse import unquote

from markupsafe import Markup

from reportgen import __version__, units
from reportgen.errors import UsageError
from reportgen.render.names import display_name, finalize, show_controls_in_json
from reportgen.render.sitedir import write_report

DEFAULT_THEME = Path(__file__).resolve().parents[2] / "themes" / "default"
ASSET_CSS, ASSET_JS = "assets/report.css", "assets/report.js"


def anchor(name: str) -> str:
    """A stable, URL-safe id for a name: readable prefix plus a short hash."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", name.rsplit("/", 1)[-1]).strip("-")[:40]
    digest = hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]
    return f"{slug}-{digest}" if slug else digest


def script_json(data) -> str:
    """JSON safe to place inside <script>: no '<', '>' or '&' can end the element.

    Strings that script puts on screen show bidi controls as visible escapes
    (render.names).
    """
    text = show_controls_in_json(json.dumps(data, ensure_ascii=False, separators=(",", ":")))
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


# One environment per theme directory (resolved) and process: each template is
# compiled once, not once per SiteWriter (a history site builds a report per run).
_ENVS: dict = {}


def make_env(theme_dir: Path) -> jinja2.Environment:
    """The theme's templates, sandboxed: a theme is data, it cannot run Python.

    One environment per theme directory and process, so a process that
    writes many reports (a history's run reports, a pool worker) compiles
    each template once.

    Jinja2's SandboxedEnvironment refuses attribute access to internals
    (`__class__`, `__globals__`, `mro()` ...) and unsafe callables, so a theme
    from anywhere can only arrange the values it is given. Autoescape stays on.
    Keyed by the resolved directory; a template whose file changed since it was
    compiled (mtime or size) is compiled again.
    """
    key = os.path.realpath(theme_dir)
    env = _ENVS.get(key)
    if env is None:
        env = _ENVS[key] = _new_env(Path(key))
    return env


def _new_env(theme_dir: Path) -> jinja2.Environment:
    import jinja2  # only commands that write pages pay for it
    from jinja2.sandbox import SandboxedEnvironment

    class ThemeLoader(jinja2.FileSystemLoader):
        """Jinja's auto_reload checks the mtime alone, which a rewrite within the
        file system's timestamp tick keeps: the size is checked too."""

        def get_source(self, environment, template):
            source, filename, uptodate = super().get_source(environment, template)
            stamp = _stamp(filename)
            return source, filename, lambda: uptodate() and _stamp(filename) == stamp

    env = SandboxedEnvironment(
        loader=ThemeLoader(str(theme_dir)), auto_reload=True,
        autoescape=True, undefined=jinja2.StrictUndefined, finalize=finalize,
        bytecode_cache=template_cache(theme_dir), **_SYNTAX)
    # For people: each value in its own unit (80.6 ms, 1.01 GB), never 4.7e-05%.
    # `out` (pprof's column-wide unit) is accepted and ignored; the CLI's text keeps it.
    env.filters["value"] = lambda v, unit, out="auto": units.human(v, unit)
    env.filters["pct"] = lambda v, total: units.human_percent(v, total)
    env.filters["plural"] = lambda n, word, many=None: units.plural(n, word, many)
    env.filters["pct_value"] = lambda v, total: f"{abs(v) / total * 100:.4f}" if total else "0"
    env.filters["bar_width"] = lambda v, total: min(60, round(abs(v) / total * 60)) if total else 0
    env.filters["sign_class"] = lambda v: " pos" if v > 0 else (" neg" if v < 0 else "")
    env.filters["signed_value"] = lambda v, unit, out="auto": units.signed_human(v, unit)
    env.filters["change"] = lambda d, base: units.signed_percent(d / abs(base) * 100) if base else "new"
    env.filters["signed_percent"] = units.signed_percent
    env.filters["change_value"] = lambda d, base: f"{d / abs(base) * 100:.4f}" if base else "1e9"
    env.filters["anchor"] = anchor
    env.filters["name"] = display_name
    env.filters["script_json"] = script_json
    return env


_SYNTAX = {"trim_blocks": True, "lstrip_blocks": True, "keep_trailing_newline": True}


def template_cache(theme_dir: Path, base: str | None = None):
    """Jinja2's bytecode cache for a built-in theme: each template compiled once
    per user, not once per process (compiling the default theme's templates
    costs about 0.15 s, most of what adding a night to a history costs beyond
    its own report). None (compile as before) for any other theme, whose
    templates and paths are the user's, and when no private directory is to
    be had.

    The directory: $REPORTGEN_CACHE_DIR, else $XDG_CACHE_HOME/reportgen, else
    ~/.cache/reportgen (`base` for tests), then templates-<versions>; an
    empty REPORTGEN_CACHE_DIR turns the cache off. Loading a cached template
    runs its code, as Python's own __pycache__ does, so the directory must be
    this user's and writable by nobody else (made 0700; checked with lstat:
    not a symlink). Jinja2 keys an entry by the template's path and checks
    its source's sha1, and the directory name carries Jinja2's, Python's and
    reportgen's versions and the environment's syntax options: a changed
    template or setting compiles again.
    """
    from reportgen.manifest import THEMES_DIR
    if not os.path.realpath(theme_dir).startswith(os.path.realpath(THEMES_DIR) + os.sep):
        return None
    if base is None:
        base = os.environ.get("REPORTGEN_CACHE_DIR")
        if base is None:
            xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(
                os.path.expanduser("~"), ".cache")
            base = os.path.join(xdg, "reportgen") if os.path.isabs(xdg) else ""
    if not base:
        return None
    import sys

    import jinja2
    from jinja2.bccache import FileSystemBytecodeCache
    tag = hashlib.sha256(repr(sorted(_SYNTAX.items())).encode()).hexdigest()[:12]
    directory = os.path.join(base, f"templates-jinja{jinja2.__version__}-py"
                                   f"{sys.version_info[0]}.{sys.version_info[1]}-"
                                   f"reportgen{__version__}-{tag}")
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        st = os.lstat(directory)
    except OSError:
        return None
    import stat
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o077:
        return None

    class TemplateCache(FileSystemBytecodeCache):
        """Jinja2's, except that an entry it cannot read (cut short, damaged:
        Jinja2 lets pickle's errors through) is compiled again, and one it
        cannot write costs the compile next time, not the build."""

        def load_bytecode(self, bucket):
            try:
                super().load_bytecode(bucket)
            except Exception:   # noqa: BLE001 - whatever the entry holds, compile again
                bucket.reset()

        def dump_bytecode(self, bucket):
            try:
                super().dump_bytecode(bucket)
            except OSError:
                pass
    return TemplateCache(directory)


def _stamp(path: str):
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


# What notes may contain once rendered: an allow-list, so anything Markdown (or a
# later Markdown version) emits beyond it is dropped, not passed through.
NOTE_TAGS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "a", "img", "em",
             "strong", "del", "code", "pre", "blockquote", "hr", "br", "table", "thead",
             "tbody", "tr", "th", "td"}
NOTE_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"},
                   "th": {"align"}, "td": {"align"}}
LINK_SCHEMES = {"http", "https", "mailto"}
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def _url_as_browsers_read_it(value: str) -> str:
    # The URL standard drops tabs and newlines anywhere and C0/space at the ends.
    return re.sub(r"^[\x00-\x20]+|[\x00-\x20]+$", "", re.sub(r"[\t\n\r]", "", value))


def _local_path(url: str) -> bool:
    """A relative URL into the report: no scheme, no host, no '..' out of it."""
    if _SCHEME.match(url) or url.startswith(("/", "\\")) or "\\" in url:
        return False
    path = unquote(re.split(r"[?#]", url, maxsplit=1)[0])
    return ".." not in path.split("/")


def _note_attribute(tag: str, attr: str, value: str) -> str | None:
    """nh3's attribute_filter: gets values entity-decoded and scheme-checked already."""
    if (tag, attr) not in (("a", "href"), ("img", "src")):
        return value   # title, alt, align, start: text, not URLs
    url = _url_as_browsers_read_it(value)
    # Belt and braces: with every blank removed, a scheme must still be one we allow.
    scheme = _SCHEME.match(re.sub(r"[\x00-\x20]", "", url))
    if scheme and scheme[0][:-1].lower() not in LINK_SCHEMES:
        return None
    if tag == "img" and attr == "src" and not _local_path(url):
        return None   # an image would be fetched when the page opens
    if tag == "a" and attr == "href" and url.startswith(("//", "\\", "/\\", "\\/")):
        return None   # scheme-relative: file://host/ on a page opened from disk
    return value


def render_notes(text: str) -> str:
    """Markdown notes as sanitised HTML.

    Raw HTML in the notes is shown as text. The rendered HTML then passes
    nh3 (ammonia) with an allow-list: NOTE_TAGS, NOTE_ATTRIBUTES, links to
    http, https and mailto URLs or relative ones, images only from relative
    paths inside the report, so no note can run script or fetch anything.
    """
    import markdown  # only reports with notes pay for Markdown and nh3
    import nh3
    from markdown.extensions.fenced_code import FencedCodeExtension
    from markdown.extensions.tables import TableExtension

    # Extensions as objects: a name would make Markdown scan every installed
    # package's entry points (importlib.metadata) to find it.
    md = markdown.Markdown(extensions=[TableExtension(use_align_attribute=True),
                                       FencedCodeExtension()])
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    return nh3.clean(md.convert(text), tags=NOTE_TAGS, attributes=NOTE_ATTRIBUTES,
                     url_schemes=LINK_SCHEMES, attribute_filter=_note_attribute,
                     link_rel="noopener noreferrer")


class SiteWriter:
    """Collects pages and data files, then writes them in one go."""

    def __init__(self, theme_dir: Path, title: str, base_dir: Path | None = None):
        self.theme_dir = theme_dir
        self.base_dir = base_dir or Path.cwd()   # the manifest's directory
        self.env = make_env(theme_dir)
        self.title = title
        self.files: dict[str, str] = {}
        self.nav: list[dict] = []
        self.flame_files = False  # standalone flame graph SVGs under flame/ too
        self.up: dict | None = None   # the enclosing site's link ({"href", "title"}), if any
        # The theme's CSS and JS once per site, every page links them.
        read = lambda name: (theme_dir / name).read_text(encoding="utf-8")  # noqa: E731
        self.files[ASSET_CSS] = read("style.css") + read("flame.css")
        self.files[ASSET_JS] = read("flame.js") + read("report.js")

    def shown(self, path) -> str | None:
        """An input's path as the report prints it: relative to the manifest, so the
        output does not depend on where the inputs live."""
        if path is None:
            return None
        return Path(os.path.relpath(os.path.abspath(path), self.base_dir)).as_posix()

    def compile(self, templates):
        """Compile `templates` now (Jinja2 compiles on first use): done before a pool
        forks, every worker inherits them compiled instead of compiling its own.
        A broken template is left to fail where it is used (add_page), so the
        error is the one a serial build gives, at the same point."""
        import jinja2
        for name in templates:
            try:
                self.env.get_template(name)
            except jinja2.TemplateError:
                pass

    def add_data(self, name: str, data) -> str:
        # Compact, by the standard library's C encoder: data files are for programs
        # (indenting would take the pure-Python encoder, half the time of a busy
        # trace's page, and a third more bytes).
        self.files["data/" + name] = json.dumps(data, ensure_ascii=False,
                                                separators=(",", ":")) + "\n"
        return name

    def add_page(self, path: str, template: str, page_title: str, **context):
        import jinja2  # loaded by make_env already
        from jinja2.sandbox import SecurityError

        root = "../" * path.count("/")
        try:
            html = self.env.get_template(template).render(
                site={"title": self.title, "pages": self.nav, "up": self.up},
                page_title=page_title,
                root=root, version=__version__, **context)
        except (jinja2.TemplateSyntaxError, jinja2.UndefinedError, SecurityError) as e:
            if self.theme_dir.resolve() == DEFAULT_THEME:
                raise   # our own template: a bug, keep the traceback
            where = getattr(e, "filename", None) or str(self.theme_dir / template)
            line = getattr(e, "lineno", None)
            raise UsageError(f"{where}:{line}" if line else where,
                             f"theme template error: {e.message}") from None
        self.files[path] = html

    def write(self, target: Path) -> Path:
        return write_report(target, self.files)
