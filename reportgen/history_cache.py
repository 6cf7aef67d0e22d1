"""The incremental cache a history site keeps under data/history/.

Every entry is one file: a header line, then the payload.

    {"cache": 7, "key": "<sha256 of the inputs>", "reportgen": "0.1.0", "sha256": "..."}
    <the payload: a run's numbers as JSON, a chart's SVG ...; "sha256" is its hash>

Every key (digest) includes code_fingerprint(): a hash of reportgen's own
source and built-in theme and the versions of the libraries whose output
lands in the files, so a site built by another commit of reportgen, or
with another pygal or Jinja2, is rebuilt even when __version__ is the same.

An entry is trusted only when the header parses, names this cache format
and this reportgen version, carries the key the caller computed from the
inputs, and the payload's sha256 matches: an entry written by another
version, cut short or altered is ignored and its content rebuilt. Checking
the payload costs one hash of its bytes, not a parse, so an unchanged entry
is hard-linked into the new site as it is (byte for byte what a full build
writes, since the payload is a deterministic function of the key's inputs).

The files an entry stands for (a run's report, a diff's pages, the index)
are reused only when they are regular files inside the site of the size
the entry recorded (reportgen.history_site._old_files).

Entries:
    runs/ID.json        a run's numbers and its report files' sizes
                        (reportgen.history_site.RunInfo.cache_dict)
    charts/KEY.svg      a trend chart (reportgen.render.history_pages.trend_chart)
    diffs.json          the flagged runs' diff pages: their keys and files' sizes
    detection/runs.json the changes found so far and the state the rules carry on
                        (reportgen.analyze.history.Detection)
    pages/index.json    what the index, data/history.json and the assets were made of
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import stat
from pathlib import Path

import reportgen

CACHE_DIR = "data/history"
CACHE_VERSION = 7   # of the entry format (a change of the code is in code_fingerprint)

# The libraries whose output lands in a site's files (pages, charts, notes):
# another version of one may write other bytes.
OUTPUT_LIBRARIES = ("jinja2", "markupsafe", "pygal", "markdown", "nh3", "numpy", "protobuf",
                    "pyyaml", "google_re2")


def _library_versions() -> dict:
    """{distribution name, normalised: version} of OUTPUT_LIBRARIES, from the
    names of the *.dist-info directories on sys.path, first found first (as
    import finds them): a directory listing, where importlib.metadata.version
    takes ~20 ms a library."""
    import re
    import sys
    found: dict = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            m = re.fullmatch(r"(.+?)-([^-]+)\.dist-info", name)
            if m:
                found.setdefault(re.sub(r"[-_.]+", "_", m[1]).lower(), m[2])
    return {lib: found.get(lib, "none") for lib in OUTPUT_LIBRARIES}


@functools.cache
def code_fingerprint() -> str:
    """sha256 of reportgen's source (the package's .py files and the built-in
    theme's files, by relative path) and of the versions of OUTPUT_LIBRARIES.

    Read once per process (~1 MB of source, ~10 ms): __version__ alone does not tell
    two commits apart, and a cached number or page must come from the code
    that runs now.
    """
    package = Path(reportgen.__file__).resolve().parent
    h = hashlib.sha256()
    for root, pattern in ((package, "*.py"), (package.parent / "themes" / "default", "*")):
        for f in sorted(p for p in root.rglob(pattern) if p.is_file()
                        and "__pycache__" not in p.parts):
            data = f.read_bytes()
            h.update(f"{root.name}/{f.relative_to(root).as_posix()}\0{len(data)}\0".encode())
            h.update(data)
    for lib, found in _library_versions().items():
        h.update(f"{lib} {found}\0".encode())
    return h.hexdigest()


def digest(*parts: str) -> str:
    """sha256 of the parts, NUL-separated, with this cache format, reportgen's
    version and code_fingerprint(): the key of an entry whose inputs are `parts`."""
    h = hashlib.sha256(f"reportgen {reportgen.__version__}\0cache {CACHE_VERSION}\0"
                       f"{code_fingerprint()}".encode())
    for p in parts:
        h.update(b"\0" + p.encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def regular_file(root: Path, rel: str, real_dirs: dict | None = None,
                 size: int | None = None) -> Path | None:
    """root/rel when it is a regular file (lstat) reached without a symlink on
    the way (its directory's real path is root's real path joined with rel's
    directory) and, when `size` is given, of that many bytes; else None.
    `real_dirs` caches directories' real paths for one build (a run report's
    ~20 files share 3 directories).

    What an incremental build may carry over from the earlier site: a symlink
    (to a file outside the site, or to a directory) is never linked or copied.
    """
    path = root / rel
    try:
        st = os.lstat(path)
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(st.st_mode) or (size is not None and st.st_size != size):
        return None
    real_dirs = {} if real_dirs is None else real_dirs
    parent = os.path.dirname(os.path.normpath(rel))
    for d in (".", parent):
        if d not in real_dirs:
            real_dirs[d] = os.path.realpath(root / d)
    if real_dirs[parent] != os.path.normpath(os.path.join(real_dirs["."], parent)):
        return None
    return path


def entry_text(key: str, payload: str) -> str:
    """The file of an entry: its header line, then the payload."""
    header = {"cache": CACHE_VERSION, "key": key, "reportgen": reportgen.__version__,
              "sha256": hashlib.sha256(payload.encode()).hexdigest()}
    return json.dumps(header, sort_keys=True) + "\n" + payload


def read_entry(path: Path, key: str | None = None) -> tuple[str, str] | None:
    """(key, payload) of the entry at `path`, or None when it is missing,
    unreadable, of another format or reportgen version, of another key (when
    `key` is given), or its payload does not match its checksum."""
    try:
        # O_NOFOLLOW and fstat: an entry replaced by a symlink or a FIFO is not one
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except (OSError, ValueError):
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(fd, "rb", closefd=False) as f:
            raw = f.read()
    except OSError:
        return None
    finally:
        os.close(fd)
    head, sep, body = raw.partition(b"\n")
    try:
        header = json.loads(head)
    except ValueError:
        return None
    if not (sep and isinstance(header, dict) and header.get("cache") == CACHE_VERSION
            and header.get("reportgen") == reportgen.__version__
            and isinstance(header.get("key"), str) and (key is None or header["key"] == key)
            and header.get("sha256") == hashlib.sha256(body).hexdigest()):
        return None
    try:
        return header["key"], body.decode("utf-8")
    except UnicodeDecodeError:
        return None


class EntryCache:
    """Entries of one kind (a directory under data/history/) for one build:
    found in the earlier site, or made now. `files` and `links` go to the site
    writer: a reused entry is hard-linked from the earlier site, a new one
    written; entries no longer asked for are not carried over, so the cache
    holds exactly what a full build of the same runs would write."""

    def __init__(self, earlier: Path | None, kind: str, suffix: str):
        self.dir = f"{CACHE_DIR}/{kind}"
        self.earlier = earlier
        self.suffix = suffix
        self.files: dict[str, str] = {}
        self.links: dict[str, Path] = {}
        self.made: list[str] = []      # names of the entries computed in this build
        self.reused: list[str] = []    # names of the entries taken from the earlier site

    def path(self, name: str) -> str:
        return f"{self.dir}/{name}{self.suffix}"

    def get(self, name: str, key: str) -> str | None:
        """The payload of entry `name` if the earlier site holds it under `key`,
        else None. keep(name) then carries it into the new site."""
        if self.earlier is None or regular_file(self.earlier, self.path(name)) is None:
            return None
        entry = read_entry(self.earlier / self.path(name), key)
        return None if entry is None else entry[1]

    def keep(self, name: str):
        """Carry the earlier site's entry `name` over unchanged (hard-linked)."""
        self.links[self.path(name)] = self.earlier / self.path(name)
        self.reused.append(name)

    def put(self, name: str, key: str, payload: str):
        self.files[self.path(name)] = entry_text(key, payload)
        self.made.append(name)

    def cached(self, name: str, key: str, make) -> str:
        """The payload of `name` under `key`: from the earlier site, else make()."""
        found = self.get(name, key)
        if found is not None:
            self.keep(name)
            return found
        found = make()
        self.put(name, key, found)
        return found
