"""The whole report as one HTML file, for a ticket: `reportgen build --single-file`.

The file is a small shell (a frame and a router) holding every page, every
data file and the theme's CSS and JS once, each in an inert
`<script type="text/html">` element. The router shows one page at a time
in an `<iframe srcdoc>`, so every page keeps its own ids, scripts and
fragment links exactly as in the directory form; the theme's assets are
put back into a page when it is shown. Links between pages become
`data-rg-page="PATH#FRAGMENT"` and travel through the shell's URL fragment
(`#PATH!FRAGMENT`), so the back button and shared links work. Data files
show as text pages. Nothing is fetched: it opens offline from file://.
"""

from __future__ import annotations

import html
import os
import posixpath
import re
import tempfile
from pathlib import Path

from reportgen.errors import UsageError
from reportgen.render.site import ASSET_CSS, ASSET_JS, script_json

_HREF = re.compile(r'\bhref="([^"]*)"')
_CLOSE = re.compile(r"</(script)", re.I)
_COMMENT = re.compile(r"<!--")

# Each page's <base> makes its own "#fragment" links stay inside its frame
# (a srcdoc document otherwise resolves them against the shell's URL).
_PAGE_HEAD = '<base href="about:srcdoc">'
# Links drawn by the page's script after load (rows of a filtered table ...)
# are relative to the page's path: resolved here the way the build resolves
# the static ones.
_LINKS = """<script>(function () {
  var here = HERE;
  function resolve(href) {
    var parts = here.split("/").slice(0, -1), cut = href.indexOf("#");
    var path = cut < 0 ? href : href.slice(0, cut), frag = cut < 0 ? "" : href.slice(cut);
    path.split("/").forEach(function (p) {
      if (p === "..") parts.pop(); else if (p && p !== ".") parts.push(p);
    });
    return parts.join("/") + frag;
  }
  document.addEventListener("click", function (e) {
    var a = e.target.closest && e.target.closest("a[href]");
    if (!a) return;
    var page = a.getAttribute("data-rg-page"), href = a.getAttribute("href");
    if (!page && (!href || href.charAt(0) === "#" || /^[a-z][a-z0-9+.-]*:/i.test(href))) return;
    e.preventDefault();
    parent.postMessage({ rgPage: page || resolve(href) }, "*");
  });
})();</script>"""


def _embed(text: str) -> str:
    """Text safe inside <script type="text/html">: nothing can close or
    re-open script parsing. The shell undoes exactly these two escapes."""
    if "<\\/" in text or "<\\!--" in text:
        raise ValueError("page text holds an escape sequence the shell would undo")
    return _COMMENT.sub("<\\\\!--", _CLOSE.sub(lambda m: "<\\/" + m.group(1), text))


def _rewrite(path: str, text: str, known: set) -> str:
    """A page's links for the single file: assets as placeholders, links to
    other pages and data as data-rg-page, fragment-only links unchanged."""
    folder = posixpath.dirname(path)
    prefix = "../" * path.count("/")
    text = text.replace(f'<link rel="stylesheet" href="{prefix}{ASSET_CSS}">',
                        f'<style data-rg-asset="{ASSET_CSS}"></style>')
    text = text.replace(f'<script src="{prefix}{ASSET_JS}"></script>',
                        f'<script data-rg-asset="{ASSET_JS}"></script>')

    def link(m):
        href = html.unescape(m.group(1))
        if not href or href.startswith("#") or re.match(r"^[a-z][a-z0-9+.-]*:", href, re.I):
            return m.group(0)  # in-page, or outside the report (notes may link anywhere)
        target, _, frag = href.partition("#")
        resolved = posixpath.normpath(posixpath.join(folder, target))
        if resolved not in known:
            return m.group(0)
        value = resolved + ("#" + frag if frag else "")
        return f'href="#" data-rg-page="{html.escape(value, quote=True)}"'
    text = _HREF.sub(link, text)
    head = text.find("<head>")
    if head >= 0:
        text = text[:head + 6] + _PAGE_HEAD + text[head + 6:]
    links = _LINKS.replace("HERE", script_json(path))
    end = text.rfind("</body>")
    return text[:end] + links + text[end:] if end >= 0 else text + links


def _data_page(path: str, text: str) -> str:
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(path)}</title>"
            f'<style data-rg-asset="{ASSET_CSS}"></style></head><body><main>'
            f"<h1>{html.escape(path)}</h1><pre>{html.escape(text)}</pre></main></body></html>")


_SHELL_JS = """
(function () {
  "use strict";
  var frame = document.getElementById("rg-view"), shown = null;
  function text(id) {
    var el = document.getElementById(id);
    return el && el.textContent.replace(/<\\\\\\/(script)/gi, "</$1").replace(/<\\\\!--/g, "\\x3C!--");
  }
  function page(path) {
    var body = text("rg:" + path);
    if (body === null || body === undefined) return null;
    [ASSETS].forEach(function (a) {
      var tag = a.slice(-4) === ".css" ? "style" : "script";
      body = body.split('<' + tag + ' data-rg-asset="' + a + '"></' + tag + '>')
        .join('<' + tag + '>' + text("rg:" + a) + '</' + tag + '>');
    });
    return body;
  }
  function route() {
    var h = decodeURIComponent(location.hash.slice(1)), cut = h.indexOf("!");
    var path = (cut < 0 ? h : h.slice(0, cut)) || "index.html";
    var frag = cut < 0 ? "" : h.slice(cut + 1);
    var body = page(path);
    if (body === null) { path = "index.html"; body = page(path); frag = ""; }
    if (path === shown) { frame.contentWindow.location.hash = frag; return; }
    shown = path;
    frame.removeAttribute("data-shown");
    frame.onload = function () {
      frame.setAttribute("data-shown", path);
      document.title = frame.contentDocument.title || document.title;
      if (frag) frame.contentWindow.location.hash = frag;
    };
    frame.srcdoc = body;
  }
  window.addEventListener("message", function (e) {
    if (e.source !== frame.contentWindow || !e.data || typeof e.data.rgPage !== "string") return;
    var p = e.data.rgPage, cut = p.indexOf("#");
    location.hash = cut < 0 ? p : p.slice(0, cut) + "!" + p.slice(cut + 1);
  });
  window.addEventListener("hashchange", route);
  route();
})();
"""


def single_file_html(files: dict[str, str], title: str = "Profile report") -> str:
    """The report of `files` (site path -> text, as SiteWriter collects them) as one page."""
    pages = sorted(p for p in files if p.endswith(".html"))
    data = sorted(p for p in files if p.endswith(".json"))
    known = set(pages) | set(data)
    out = ['<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
           '<meta name="viewport" content="width=device-width, initial-scale=1">'
           f"<title>{html.escape(title)}</title><style>html,body{{margin:0;height:100%;"
           "overflow:hidden}#rg-view{border:0;width:100%;height:100%;display:block}</style>"
           '</head><body><iframe id="rg-view" title="Report"></iframe>\n']
    for path in pages:
        out.append(f'<script type="text/html" id="rg:{html.escape(path)}">'
                   f"{_embed(_rewrite(path, files[path], known))}</script>\n")
    for path in data:
        out.append(f'<script type="text/html" id="rg:{html.escape(path)}">'
                   f"{_embed(_data_page(path, files[path]))}</script>\n")
    for path in (ASSET_CSS, ASSET_JS):
        out.append(f'<script type="text/html" id="rg:{path}">{_embed(files[path])}</script>\n')
    out.append("<script>" + _SHELL_JS.replace("[ASSETS]", script_json([ASSET_CSS, ASSET_JS]))
               + "</script></body></html>\n")
    return "".join(out)


def write_single_file(files: dict[str, str], target: Path, title: str = "Profile report") -> Path:
    """Write the one-file report atomically (a temporary file beside it, then a rename)."""
    target = Path(os.path.abspath(target))
    if target.is_dir():
        raise UsageError(target, "--single-file needs a file name, this is a directory")
    if target.exists() and not _is_single_file_report(target):
        # As a directory target must be empty or a report: a slip such as
        # --single-file notes.md must not destroy the notes.
        raise UsageError(target, "exists and is not a single-file reportgen report; "
                                 "refusing to replace it")
    text = single_file_html(files, title)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


SHELL_MARK = b'<iframe id="rg-view" title="Report">'


def _is_single_file_report(path: Path) -> bool:
    """Whether `path` is a regular file that an earlier --single-file build wrote
    (its shell's iframe opens the file, before the first embedded page)."""
    from reportgen.sources.files import input_problem
    if input_problem(path):
        return False
    try:
        with open(path, "rb") as f:
            return SHELL_MARK in f.read(4096)
    except OSError:
        return False
