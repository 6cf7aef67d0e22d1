"""The history pipeline: run directories -> per-run numbers (cached, in a
process pool) -> reportgen.analyze.history -> the history site.

Incremental: the site keeps each run's numbers in data/history/runs/ID.json
(a reportgen.history_cache entry) under a key, the sha256 of the run's
files, reportgen's code (history_cache.code_fingerprint), the theme and the
input limits (reportgen.sources.runs.run_key). The entry also holds the
size of each file of the run's own report (runs/ID/). The next build
re-reads that entry, and hard-links it and the run's report from the
earlier site, for every run whose key is unchanged and whose report files
are regular files of those sizes (a file emptied, cut short or replaced
by a symlink is not trusted: the run is analysed again); only new or
changed runs are analysed. Diff pages of flagged runs are kept the same
way, keyed by both runs' ids and keys and everything the page shows, and
trend charts by what they draw (reportgen.render.history_pages). The
detection of the runs so far (reportgen.analyze.history.Detection) is kept in
data/history/detection/runs.json, keyed by the options and every run's id
and key in order: a build whose runs begin with those runs tests only the
runs after them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from reportgen.analyze.history import Detection, HistoryOptions, HistoryResult, \
    analyze_history
from reportgen.history_cache import CACHE_DIR, CACHE_VERSION, EntryCache, code_fingerprint, \
    digest, entry_text, read_entry, regular_file
from reportgen.parallel import cpu_count, make_executor
from reportgen.sources.pprof import DEFAULT_MAX_DECOMPRESSED, DEFAULT_MAX_SAMPLES
from reportgen.sources.runs import find_runs, run_id_of, run_key, stray_files

# Run reports and diff pages sit two directories below the history index
# (runs/ID/, diffs/SLUG/): their header links back to it, relatively (file://).
UP_LINK = {"href": "../../index.html", "title": "History"}


@dataclass
class RunInfo:
    """A run as the history shows it: what run.yml said, what was read and skipped."""
    id: str
    path: str
    key: str
    meta: dict
    notes: list
    evidence: list          # [{"kind", "file"}]
    metrics: dict
    report: dict = field(default_factory=dict)  # its own report's files: name -> bytes

    def as_dict(self) -> dict:
        return {"id": self.id, "meta": self.meta, "notes": self.notes,
                "evidence": self.evidence,
                "report": f"runs/{self.id}/index.html" if self.report else None}

    def cache_dict(self) -> dict:
        """What the cache keeps of a run (its key is in the entry's header)."""
        return {"id": self.id, "meta": self.meta, "notes": self.notes,
                "evidence": self.evidence, "metrics": self.metrics, "report": self.report}

    def cache_text(self) -> str:
        # keeps key order: reused numbers print the same
        return json.dumps(self.cache_dict(), indent=1, ensure_ascii=False) + "\n"


@dataclass
class History:
    runs: list              # of RunInfo, in order
    result: HistoryResult
    analysed: list          # ids of the runs analysed in this build
    reused: list            # ids of the runs whose numbers came from the earlier site
    files: dict = field(default_factory=dict)   # run reports and diffs: path -> text
    links: dict = field(default_factory=dict)   # the same, reused: path -> earlier file
    diff_cache: dict = field(default_factory=dict)  # diff dir -> {"key", "files"}
    run_cache: EntryCache | None = None     # data/history/runs/: the runs' numbers
    detection_cache: EntryCache | None = None   # data/history/detection/: the changes found
    chart_cache: EntryCache | None = None   # data/history/charts/: set by write_history_site
    page_cache: EntryCache | None = None    # data/history/pages/: the index, the same

    def as_dict(self) -> dict:
        return {**self.result.as_dict(), "runs": [r.as_dict() for r in self.runs]}


# ---- one run (runs in a worker process) --------------------------------------

def _report_notes(run, metrics):
    """The run report's notes, as HTML (markupsafe.Markup): metadata, skipped
    files, benchmark medians in one preformatted block, every value escaped.
    Written directly rather than as Markdown: names such as (*T).M show as
    they are, and a run's report does not pay for Markdown (~40 ms a process)."""
    import html

    from markupsafe import Markup

    from reportgen.analyze.benchstat import summarize
    from reportgen.render.names import show_controls
    lines = [f"Run {run.id}"]
    meta = run.meta
    for label, value in (("title", meta.title), ("commit", meta.commit), ("date", meta.date),
                         ("branch", meta.branch)):
        if value:
            lines.append(f"{label}: {value}")
    lines += [f"{k}: {v}" for k, v in sorted(meta.labels.items())]
    lines += [f"note: {n}" for n in run.notes]
    if metrics["bench"]:
        lines.append("")
        lines.append("benchmark medians:")
        for b in metrics["bench"]:
            s = summarize(b["values"])
            lines.append(f"  {b['name']}  {s.median:g} {b['unit']}  (n={s.n})")
    text = _CONTROLS.sub("", "\n".join(lines).replace("\r\n", "\n").replace("\r", "\n"))
    # Markup passes the templates' finalize hook: bidi controls made visible here.
    return Markup(f"<pre><code>{html.escape(show_controls(text), quote=False)}\n</code></pre>")


# C0 controls but tab and newline, and DEL: nothing a page should carry (Markdown
# dropped them too); bidi controls are shown by the templates' finalize hook.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _run_report(run, metrics, max_decompressed: int, theme_dir: Path,
                max_samples: int = DEFAULT_MAX_SAMPLES) -> dict:
    """The run's own full report (today's default report of its profiles), as files."""
    from reportgen.build import compose_site
    from reportgen.manifest import default_manifest
    paths = [str(run.path / ev.name) for ev in run.evidence]   # every kind `build` reads
    manifest = default_manifest(paths)
    manifest.title = f"Run {run.id}" + (f": {run.meta.title}" if run.meta.title else "")
    manifest.notes = _report_notes(run, metrics)
    manifest.theme_dir = theme_dir
    manifest.base_dir = Path(run.path).absolute()   # files named as in the run, wherever it is
    manifest.up = UP_LINK
    writer = compose_site(manifest, max_decompressed, max_samples=max_samples)
    return writer.files


def analyse_run(path: str, key: str, max_decompressed: int, theme_dir: str,
                with_report: bool, max_samples: int = DEFAULT_MAX_SAMPLES) -> dict:
    """Read one run, extract its numbers and (optionally) build its report.

    Returns a plain dict (it crosses process boundaries): RunInfo fields plus
    "files". Bad input raises ReportgenError; the executors bring the first
    failing run's error back to the caller, in run order.
    """
    from reportgen.analyze.run_metrics import run_metrics
    from reportgen.sources.runs import read_run
    run = read_run(path, max_decompressed, max_samples)
    metrics = run_metrics(run.evidence)
    files = (_run_report(run, metrics, max_decompressed, Path(theme_dir), max_samples)
             if with_report else {})
    return {"id": run.id, "key": key, "meta": run.meta.as_dict(), "notes": run.notes,
            "evidence": [{"kind": ev.kind, "file": ev.name} for ev in run.evidence],
            "metrics": metrics, "report": file_sizes(files), "files": files}


def file_sizes(files: dict) -> dict:
    """{name: bytes of the file as written (UTF-8)}, by name: what a cache entry
    keeps of the files it stands for, to check them before they are reused.

    A size, not a hash: hashing every reused file (28 MB in 1,200 files for 60
    runs) cost a tenth of an incremental build; an emptied or cut-short file,
    the damage a killed copy or a full disk leaves, changes its size. An edit
    that keeps the size is not seen (README, "The history site")."""
    return {name: len(files[name].encode("utf-8")) for name in sorted(files)}


def _star(args):
    return analyse_run(*args)


def _run_size(path: Path) -> int:
    """A run's bytes on disk: its weight when runs are shared out among workers."""
    try:
        return sum(f.stat().st_size for f in Path(path).iterdir() if f.is_file())
    except OSError:
        return 0   # read_run says what is wrong with it


# ---- the earlier site --------------------------------------------------------

def _cached_run(cache: EntryCache, run_id: str, key: str) -> dict | None:
    """The earlier site's numbers of a run under `key`, or None: a damaged entry,
    or one of another version, is re-analysed, not trusted."""
    text = cache.get(run_id, key)
    if text is None:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not (isinstance(data, dict) and data.get("id") == run_id
            and isinstance(data.get("report"), dict)):
        return None
    return {**data, "key": key}


def _old_files(target: Path, prefix: str, sizes) -> dict | None:
    """prefix/name -> its path in the earlier site, for each name of `sizes`
    ({name: bytes}); None if any is gone, is not a plain relative path, is
    not a regular file inside the site (history_cache.regular_file: never a
    symlink) or is not as long as the build that wrote it recorded.

    The new site hard-links them: a reused run's report is neither read nor
    rendered nor written again."""
    if not isinstance(sizes, dict):
        return None
    out = {}
    real_dirs: dict = {}
    for name, size in sizes.items():
        if not isinstance(name, str) or Path(name).is_absolute() or ".." in Path(name).parts:
            return None
        rel = f"{prefix}/{name}" if prefix else name
        path = regular_file(target, rel, real_dirs, size) if type(size) is int else None
        if path is None:
            return None
        out[rel] = path
    return out


# ---- the pipeline ------------------------------------------------------------

def _theme_salt(theme_dir: Path) -> str:
    """The theme's files, hashed: a changed template invalidates cached run reports."""
    h = hashlib.sha256()
    for f in sorted(p for p in theme_dir.rglob("*") if p.is_file()):
        h.update(f.relative_to(theme_dir).as_posix().encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def _run_salt(theme_dir: Path, max_decompressed: int, max_samples: int,
              with_reports: bool) -> str:
    """What a run's numbers and report depend on besides its files: the cache
    format, reportgen's code, the theme and the input limits (a build with
    another --max-samples may refuse a file this one reads)."""
    return (f"{CACHE_VERSION}:{code_fingerprint()}:{max_decompressed}:{max_samples}:"
            + (_theme_salt(theme_dir) if with_reports else "no-report"))


def collect_runs(paths: list, target: Path | None, jobs: int, theme_dir: Path,
                 max_decompressed: int = DEFAULT_MAX_DECOMPRESSED, with_reports: bool = True,
                 max_samples: int = DEFAULT_MAX_SAMPLES):
    """RunInfo per run in order, reusing the earlier site's numbers where the key
    matches; returns (runs, analysed ids, reused ids, files of new run reports,
    links to the reused ones, the runs' cache entries)."""
    dirs = find_runs(paths)
    salt = _run_salt(theme_dir, max_decompressed, max_samples, with_reports)
    keys = [run_key(d, salt) for d in dirs]
    cache = EntryCache(target, "runs", ".json")
    results: dict[int, dict] = {}
    files: dict[str, str] = {}
    links: dict[str, Path] = {}
    todo = []
    for i, (d, key) in enumerate(zip(dirs, keys)):
        run_id = run_id_of(d)
        hit = _cached_run(cache, run_id, key)
        if hit:
            old = _old_files(target, f"runs/{run_id}", hit["report"])
            if old is not None:
                results[i] = hit
                links.update(old)
                cache.keep(run_id)
                continue
        todo.append(i)
    args = [(str(dirs[i]), keys[i], max_decompressed, str(theme_dir), with_reports,
             max_samples) for i in todo]
    # the same executors as `build --jobs` (reportgen.parallel): results in input order
    with make_executor(min(jobs, max(len(args), 1))) as executor:
        if executor.inherits:   # forked workers start with the run readers imported
            import reportgen.analyze.run_metrics  # noqa: F401
            import reportgen.build  # noqa: F401
            import reportgen.sources.runs  # noqa: F401
        done = executor.map(_star, args, [_run_size(dirs[i]) for i in todo])
    for i, res in zip(todo, done):
        for name, text in res.pop("files").items():
            files[f"runs/{res['id']}/{name}"] = text
        results[i] = res
    runs = [RunInfo(r["id"], str(dirs[i]), r["key"], r["meta"], r["notes"], r["evidence"],
                    r["metrics"], r.get("report") or {})
            for i, r in sorted(results.items())]
    for i in todo if with_reports else ():   # a site to write: it keeps the new numbers
        cache.put(runs[i].id, runs[i].key, runs[i].cache_text())
    analysed = [runs[i].id for i in todo]
    reused = [r.id for i, r in enumerate(runs) if i not in set(todo)]
    return runs, analysed, reused, files, links, cache


def build_history(paths: list, target: Path | None, options: HistoryOptions,
                  jobs: int | None = None, theme_dir: Path | None = None,
                  max_decompressed: int = DEFAULT_MAX_DECOMPRESSED,
                  max_samples: int = DEFAULT_MAX_SAMPLES) -> History:
    """Analyse the runs (incrementally when `target` holds an earlier history
    site) and, with a target, compose the run reports and diff pages."""
    from reportgen.manifest import THEMES_DIR
    theme_dir = theme_dir or THEMES_DIR / "default"
    jobs = jobs or cpu_count()
    stray = stray_files(paths)
    if stray:   # on stderr: the JSON and the gate's lines stay as they are
        shown = ", ".join(stray[:5]) + (f" and {len(stray) - 5} more" if len(stray) > 5 else "")
        print(f"reportgen: warning: {paths[0]}: files beside the run directories are not "
              f"part of any run: {shown}", file=sys.stderr)
    existing = target if target is not None and target.is_dir() else None
    runs, analysed, reused, files, links, cache = collect_runs(
        paths, existing, jobs, theme_dir, max_decompressed, target is not None, max_samples)
    detections = EntryCache(existing, "detection", ".json") if target is not None else None
    earlier = _earlier_detection(detections, runs, options)
    result = analyze_history([{"id": r.id, "metrics": r.metrics} for r in runs], options,
                             earlier)
    if detections is not None:
        key = _detection_key(runs, len(runs), options)
        if earlier is not None and earlier.runs == len(runs):
            detections.keep(DETECTION_ENTRY)
        else:
            detections.put(DETECTION_ENTRY, key, json.dumps(
                result.detection.as_dict(), sort_keys=True, ensure_ascii=False) + "\n")
    history = History(runs, result, analysed, reused, files, links, run_cache=cache,
                      detection_cache=detections)
    if target is not None:
        _add_diffs(history, existing, theme_dir, max_decompressed, max_samples)
    return history


DETECTION_ENTRY = "runs"


def _detection_key(runs: list, count: int, options: HistoryOptions) -> str:
    """The key of the detection of the first `count` runs: the options and those
    runs' ids and keys (their files, reportgen's code), in order."""
    return digest("detection", json.dumps(options.as_dict(), sort_keys=True), str(count),
                  *[f"{r.id}\0{r.key}" for r in runs[:count]])


def _earlier_detection(cache: EntryCache | None, runs: list, options: HistoryOptions):
    """The earlier site's Detection when the runs it covered are the first runs
    now, with the same options (its key says so); else None (all runs are
    tested)."""
    if cache is None or cache.earlier is None \
            or regular_file(cache.earlier, cache.path(DETECTION_ENTRY)) is None:
        return None
    entry = read_entry(cache.earlier / cache.path(DETECTION_ENTRY))
    if entry is None:
        return None
    try:
        found = Detection.from_dict(json.loads(entry[1]))
    except (ValueError, KeyError, TypeError, IndexError, AttributeError):
        return None
    if not 0 < found.runs <= len(runs) or entry[0] != _detection_key(runs, found.runs, options):
        return None
    return found


# ---- diffs of flagged runs ---------------------------------------------------

def diff_slug(run: str, profile: str) -> str:
    """The directory of a flagged run's diff: readable (the run id and profile
    key, other characters as -) and unique (a short hash of both: "bad x" and
    "bad-x" read the same but are two runs)."""
    tag = hashlib.sha256(f"{run}\0{profile}".encode("utf-8", "surrogateescape")).hexdigest()[:8]
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{run}-vs-window-{profile}").strip("-.")
    return f"{readable[:80]}-{tag}"


def flagged_diffs(history: History) -> list:
    """(run, base run, profile key) for each flagged run and profile kind its
    regressions point at: the run against the newest run of its window that
    has that profile."""
    by_id = {r.id: r for r in history.runs}
    out = []
    for c in history.result.regressions:
        key = c.profile or (c.culprits[0].profile if c.culprits else "")
        if not key:
            continue
        has = [w for w in c.window if any(p["key"] == key for p in by_id[w].metrics["profiles"])]
        if has and (c.run, has[-1], key) not in out:
            out.append((c.run, has[-1], key))
    return out


def _profile_meta(run: RunInfo, key: str) -> dict:
    """The run's numbers of its profile `key` (file, type, sample_type ...)."""
    return next(p for p in run.metrics["profiles"] if p["key"] == key)


def _profile_file(run: RunInfo, key: str) -> str:
    return _profile_meta(run, key)["file"]


def _add_diffs(history: History, existing: Path | None, theme_dir: Path,
               max_decompressed: int, max_samples: int = DEFAULT_MAX_SAMPLES):
    """diffs/RUN-vs-window-KIND-HASH/ (diff_slug): the diff page and diff flame graph of the flagged
    run's profile against the window's newest one, scaled to the same total
    (pprof -normalize: the runs' profiles may differ in length), in the sample
    type the history compares (run_metrics: alloc_space for heap profiles)."""
    from reportgen.build import compose_site
    from reportgen.manifest import Manifest, ProfileEntry, default_analysis
    by_id = {r.id: r for r in history.runs}
    old = {}
    entry = read_entry(existing / DIFFS_ENTRY, DIFFS_KEY) if existing is not None else None
    if entry is not None:
        try:
            old = json.loads(entry[1])
        except ValueError:
            old = {}
    kept = {}
    theme = _theme_salt(theme_dir)
    for run_id, base_id, key in flagged_diffs(history):
        run, base = by_id[run_id], by_id[base_id]
        slug = diff_slug(run_id, key)
        # The sample type the history compares (heap: alloc_space, what B/op moves),
        # not the profile's default (inuse_space).
        sample_type = _profile_meta(run, key)["sample_type"]
        # Everything the pages show or are made of: both runs (ids, files), the
        # profile, the sample type, the theme, the limits, the link back.
        dkey = digest("diff", run_id, base_id, base.key, run.key, key, sample_type,
                      _profile_file(base, key), _profile_file(run, key), theme,
                      str(max_decompressed), str(max_samples), json.dumps(UP_LINK))
        entry = old.get(slug) if isinstance(old, dict) else None
        if isinstance(entry, dict) and entry.get("key") == dkey:
            files = _old_files(existing, f"diffs/{slug}", entry.get("files"))
            if files is not None:
                history.links.update(files)
                kept[slug] = entry
                continue
        profiles = {}
        for name, r in (("window", base), ("run", run)):
            path = Path(os.path.normpath(Path(r.path).absolute() / _profile_file(r, key)))
            profiles[name] = ProfileEntry(name, path, f"{key} of {r.id}", {}, None, None)
        manifest = Manifest(path=None, base_dir=Path.cwd(), title=f"{run_id} against {base_id}: "
                            f"{key}", notes=None, theme_dir=theme_dir, output=Path("."),
                            max_decompressed=max_decompressed, profiles=profiles,
                            analyses=[default_analysis("diff", 0, base="window", target="run",
                                                       normalize=True, sample_index=sample_type)])
        # A manifest path marks it as not bare files: build adds no default diffs.
        manifest.path = Path("history")
        manifest.up = UP_LINK
        files = compose_site(manifest, max_decompressed, max_samples=max_samples).files
        for name, text in files.items():
            history.files[f"diffs/{slug}/{name}"] = text
        kept[slug] = {"key": dkey, "files": file_sizes(files)}
    history.diff_cache = kept


DIFFS_ENTRY = f"{CACHE_DIR}/diffs.json"
DIFFS_KEY = digest("diffs")


def diff_href(run: str, profile: str) -> str:
    """Where the diff page of a flagged run's profile is: its one analysis page."""
    return f"diffs/{diff_slug(run, profile)}/pages/01-diff.html"


def _index_key(history: History, title: str, notes: str | None, theme_dir: Path) -> str:
    """What the index, data/history.json and the theme's assets are made of: the
    runs in order (ids and keys: their numbers, reports and metadata), the
    options, the title, the notes and the theme."""
    return digest("index", json.dumps(history.result.options.as_dict(), sort_keys=True),
                  title, notes or "", _theme_salt(theme_dir),
                  *[f"{r.id}\0{r.key}" for r in history.runs])


def _kept_index(pages: EntryCache, key: str, charts: EntryCache) -> dict | None:
    """The earlier site's index files ({path: earlier file}) when it was made of
    the same (`key`), its files are as that build wrote them and its charts
    are still cached; else None (the index is rendered again)."""
    text = pages.get("index", key)
    if text is None:
        return None
    try:
        data = json.loads(text)
        files, chart_keys = dict(data["files"]), list(data["charts"])
    except (ValueError, KeyError, TypeError):
        return None
    out = _old_files(pages.earlier, "", files)
    if out is None:
        return None
    if any(not isinstance(k, str) or charts.get(k, k) is None for k in chart_keys):
        return None
    for k in chart_keys:
        charts.keep(k)
    pages.keep("index")
    return out


def write_history_site(history: History, target: Path, title: str, theme_dir: Path,
                       notes: str | None = None) -> Path:
    """Write the history site: the index (rendered, or kept from the earlier site
    when nothing it shows changed), the run reports and diffs, the cache."""
    from reportgen.render.sitedir import write_report
    files = dict(history.files)
    links = dict(history.links)
    for cache in (history.run_cache, history.detection_cache):
        if cache is not None:
            files.update(cache.files)
            links.update(cache.links)
    files[DIFFS_ENTRY] = entry_text(DIFFS_KEY, json.dumps(
        history.diff_cache, indent=1, sort_keys=True) + "\n")
    earlier = target if target.is_dir() else None
    history.chart_cache = charts = EntryCache(earlier, "charts", ".svg")
    history.page_cache = pages = EntryCache(earlier, "pages", ".json")
    key = _index_key(history, title, notes, theme_dir)
    kept = _kept_index(pages, key, charts)
    if kept is not None:
        links.update(kept)
    else:
        from reportgen.render.history_pages import history_pages
        from reportgen.render.site import SiteWriter
        writer = SiteWriter(theme_dir, title)
        history_pages(writer, history, notes, charts)
        files.update(writer.files)
        pages.put("index", key, json.dumps(
            {"files": file_sizes(writer.files),
             "charts": sorted(charts.made + charts.reused)}, indent=1, sort_keys=True) + "\n")
    for cache in (charts, pages):
        files.update(cache.files)
        links.update(cache.links)
    return write_report(target, files, links)


# ---- the manifest form -------------------------------------------------------

def manifest_history(manifest):
    """(runs directory, HistoryOptions, gate) of a manifest's one `history` analysis.

    A history is a site of its own: the manifest may hold nothing else.
    """
    from reportgen.errors import ManifestError
    found = [a for a in manifest.analyses if a.kind == "history"]
    other = [a for a in manifest.analyses if a.kind != "history"] + found[1:]
    if other or manifest.profiles:
        where = other[0].line if other else None
        raise ManifestError(manifest.path, "a manifest with a history analysis builds a "
                                           "history site and holds nothing else (no profiles, "
                                           "no other analyses)", where)
    o = found[0].options
    return o["runs"], HistoryOptions(baseline=o["baseline"], min_change=o["min_change"],
                                     share_points=o["share_points"], alpha=o["alpha"]), o["gate"]


def build_from_manifest(manifest, output: str | None = None, jobs: int | None = None,
                        max_samples: int = DEFAULT_MAX_SAMPLES) -> Path:
    """`reportgen build site.yml` for a history manifest (max_samples: the
    manifest's, else --max-samples)."""
    runs, options, _gate = manifest_history(manifest)
    target = Path(output) if output else Path(manifest.output)
    history = build_history([runs], target, options, jobs, Path(manifest.theme_dir),
                            manifest.max_decompressed, max_samples)
    return write_history_site(history, target, manifest.title, Path(manifest.theme_dir),
                              manifest.notes)
