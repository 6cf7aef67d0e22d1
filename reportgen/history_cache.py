"""The incremental cache a history site keeps under data/history/.

Every entry is one file: a header line, then the payload.

    {"cache": 4, "key": "<sha256 of the inputs>", "reportgen": "0.1.0", "sha256": "..."}
    <the payload: a run's numbers as JSON, a chart's SVG ...; "sha256" is its hash>

An entry is trusted only when the header parses, names this cache format
and this reportgen version, carries the key the caller computed from the
inputs, and the payload's sha256 matches: an entry written by another
version, cut short or altered is ignored and its content rebuilt. Checking
the payload costs one hash of its bytes, not a parse, so an unchanged entry
is hard-linked into the new site as it is (byte for byte what a full build
writes, since the payload is a deterministic function of the key's inputs).

Entries:
    runs/ID.json        a run's numbers (reportgen.history_site.RunInfo.cache_dict)
    charts/KEY.svg      a trend chart (reportgen.render.history_pages.trend_chart)
    diffs.json          the flagged runs' diff pages and their keys
    detection/runs.json the changes found so far and the state the rules carry on
                        (reportgen.analyze.history.Detection)
    pages/index.json    what the index, data/history.json and the assets were made of
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import reportgen

CACHE_DIR = "data/history"
CACHE_VERSION = 5   # of the entry format and of what a run's numbers hold: bump on change


def digest(*parts: str) -> str:
    """sha256 of the parts, NUL-separated, with this cache format and reportgen's
    version: the key of an entry whose inputs are `parts`."""
    h = hashlib.sha256(f"reportgen {reportgen.__version__}\0cache {CACHE_VERSION}".encode())
    for p in parts:
        h.update(b"\0" + p.encode())
    return h.hexdigest()


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
        raw = path.read_bytes()
    except OSError:
        return None
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
        if self.earlier is None:
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
