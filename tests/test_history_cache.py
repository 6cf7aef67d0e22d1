"""The history site's incremental cache: an incremental build writes exactly
what a full build of the same runs writes, re-analyses only new or changed
runs, redraws only the trend charts whose data changed, and ignores cache
entries of another reportgen version or damaged ones."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

import reportgen
from reportgen.analyze.history import HistoryOptions
from reportgen.history_cache import CACHE_DIR, entry_text, read_entry
from reportgen.history_site import build_history, write_history_site
from reportgen.manifest import THEMES_DIR

ROOT = Path(__file__).resolve().parent.parent
RUNS = ROOT / "examples" / "nightly" / "runs"
NIGHTS = sorted(p.name for p in RUNS.iterdir()) if RUNS.is_dir() else []
BAD = "2026-11-05"
THEME = THEMES_DIR / "default"
TITLE = "Nightly"

pytestmark = pytest.mark.skipif(len(NIGHTS) < 6, reason="needs examples/nightly/runs")


def tree(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def build(runs: Path, site: Path, title: str = TITLE, **options):
    history = build_history([str(runs)], site, HistoryOptions(**options), jobs=1,
                            theme_dir=THEME)
    write_history_site(history, site, title, THEME)
    return history


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    """Nights 3 to 6 built in full, and nights 3 to 5 built, then night 6 added
    to that site: (runs dir, full site, incremental site, the incremental build)."""
    base = tmp_path_factory.mktemp("cache")
    runs = base / "runs"
    for night in NIGHTS[2:5]:
        shutil.copytree(RUNS / night, runs / night)
    incremental = base / "incremental"
    build(runs, incremental)
    shutil.copytree(RUNS / NIGHTS[5], runs / NIGHTS[5])
    added = build(runs, incremental)
    full = base / "full"
    build(runs, full)
    return runs, full, incremental, added


def test_adding_a_night_equals_a_full_build(sites):
    runs, full, incremental, added = sites
    assert tree(incremental) == tree(full)
    assert added.analysed == [NIGHTS[5]] and added.reused == NIGHTS[2:5]
    # Every trend chart has the new night on its axis: all are drawn again.
    assert len(added.chart_cache.made) == len(added.result.series) > 5
    assert added.chart_cache.reused == []
    # The flagged night's diff page is carried over, not built again.
    assert any(p.startswith(f"diffs/{BAD}-vs-window-") for p in added.links)
    assert not any(p.startswith(f"diffs/{BAD}-") for p in added.files)


def _spy_detection(monkeypatch) -> list:
    """The `earlier` Detection each analyze_history call of the history site got."""
    import reportgen.history_site as history_site
    seen = []
    real = history_site.analyze_history

    def spy(runs, options, earlier=None):
        seen.append(earlier)
        return real(runs, options, earlier)
    monkeypatch.setattr(history_site, "analyze_history", spy)
    return seen


def test_adding_a_night_continues_the_earlier_detection(sites, tmp_path, monkeypatch):
    """Only the new night is tested against its window; a night changed before
    it, a damaged entry or other options make the detection start over. Each
    site ends the same as a full build."""
    runs, full, _incremental, _added = sites
    seen = _spy_detection(monkeypatch)
    site = tmp_path / "site"
    shutil.copytree(full, site)
    more = tmp_path / "runs"
    shutil.copytree(runs, more)
    shutil.copytree(RUNS / NIGHTS[6], more / NIGHTS[6])
    added = build(more, site)
    assert seen[-1] is not None and seen[-1].runs == 4
    assert added.detection_cache.made == ["runs"]
    fresh = tmp_path / "fresh"
    build(more, fresh)
    assert seen[-1] is None and tree(site) == tree(fresh)
    # Nothing new: the entry is carried over as it is.
    again = build(more, site)
    assert seen[-1].runs == 5 and again.detection_cache.reused == ["runs"]
    assert tree(site) == tree(fresh)
    # Other options: start over.
    build(more, site, baseline=2)
    assert seen[-1] is None
    build(more, site)
    # An earlier night changed: its key no longer matches, start over.
    log = more / NIGHTS[2] / "gctrace.log"
    log.write_text(log.read_text()[:-200])
    build(more, site)
    assert seen[-1] is None
    shutil.rmtree(fresh)
    build(more, fresh)
    assert tree(site) == tree(fresh)
    # A damaged entry is not trusted.
    _damage(site / CACHE_DIR / "detection" / "runs.json",
            lambda h, b: (h, b.replace(b'"runs": 5', b'"runs": 4', 1)))
    build(more, site)
    assert seen[-1] is None and tree(site) == tree(fresh)


def test_an_unchanged_rebuild_draws_and_analyses_nothing(sites, tmp_path):
    runs, full, _incremental, _added = sites
    site = tmp_path / "site"
    shutil.copytree(full, site)
    again = build(runs, site)
    assert again.analysed == [] and again.files == {}
    assert again.chart_cache.made == [] and again.run_cache.made == []
    assert len(again.chart_cache.reused) == len(again.result.series)
    assert again.page_cache.reused == ["index"] and again.page_cache.made == []
    assert tree(site) == tree(full)
    # Another title: the index is rendered again (its charts come from the cache).
    retitled = build(runs, site, title="Other")
    assert retitled.analysed == [] and retitled.chart_cache.made == []
    assert retitled.page_cache.made == ["index"]
    changed = {k for k, v in tree(site).items() if tree(full).get(k) != v}
    assert changed == {"index.html", f"{CACHE_DIR}/pages/index.json"}


def test_a_changed_night_redraws_only_the_charts_it_moves(sites, tmp_path):
    runs, full, _incremental, _added = sites
    site = tmp_path / "site"
    shutil.copytree(full, site)
    changed_runs = tmp_path / "runs"
    shutil.copytree(runs, changed_runs)
    # A second GC log line changes the oldest night's GC figures, not its benchmarks
    # or profiles.
    log = changed_runs / NIGHTS[2] / "gctrace.log"
    lines = log.read_text().splitlines(keepends=True)
    log.write_text("".join(lines[:len(lines) // 2]))
    again = build(changed_runs, site)
    assert again.analysed == [NIGHTS[2]]
    before = {s.key: s.as_dict() for s in _added.result.series}
    moved = [i for i, s in enumerate(again.result.series) if before.get(s.key) != s.as_dict()]
    assert moved and all(s.key.startswith("gc") for i, s in enumerate(again.result.series)
                         if i in moved)
    assert len(again.chart_cache.made) == len(moved) < len(again.result.series)
    fresh = tmp_path / "fresh"
    build(changed_runs, fresh)
    assert tree(site) == tree(fresh)


def _damage(path: Path, change):
    head, _, body = path.read_bytes().partition(b"\n")
    head, body = change(json.loads(head), body)
    path.write_bytes(json.dumps(head, sort_keys=True).encode() + b"\n" + body)


def test_damaged_entries_and_other_versions_are_not_trusted(sites, tmp_path):
    runs, full, _incremental, _added = sites
    site = tmp_path / "site"
    shutil.copytree(full, site)
    cache = site / CACHE_DIR
    # Still valid JSON, but not what was written: the checksum no longer matches.
    entry = cache / "runs" / f"{NIGHTS[3]}.json"
    _damage(entry, lambda h, b: (h, b.replace(b'"value": ', b'"value": 1', 1)))
    # Written by another reportgen version: the header says so.
    _damage(cache / "runs" / f"{NIGHTS[4]}.json", lambda h, b: ({**h, "reportgen": "0.0.1"}, b))
    chart = sorted((cache / "charts").iterdir())[0]
    _damage(chart, lambda h, b: (h, b.replace(b"<svg", b"<svg data-x=\"1\"", 1)))
    (cache / "diffs.json").write_text((cache / "diffs.json").read_text()[:-20])
    again = build(runs, site)
    assert again.analysed == [NIGHTS[3], NIGHTS[4]]
    assert again.chart_cache.made == [chart.name.removesuffix(".svg")]
    assert again.page_cache.made == ["index"]   # a chart of it was not as written
    assert any(p.startswith(f"diffs/{BAD}-vs-window-") for p in again.files)
    assert tree(site) == tree(full)
    # An index page changed after it was written is rendered again, not kept.
    with open(site / "index.html", "a") as f:
        f.write("<!-- edited -->")
    assert build(runs, site).page_cache.made == ["index"]
    assert tree(site) == tree(full)


def test_another_reportgen_version_rebuilds_everything(sites, tmp_path, monkeypatch):
    runs, full, _incremental, _added = sites
    site = tmp_path / "site"
    shutil.copytree(full, site)
    monkeypatch.setattr(reportgen, "__version__", "99.0.0")
    again = build(runs, site)
    assert again.analysed == NIGHTS[2:6] and again.reused == []
    assert again.chart_cache.reused == [] and again.run_cache.reused == []


def test_read_entry_checks_format_version_key_and_checksum(tmp_path):
    path = tmp_path / "entry"
    path.write_text(entry_text("k1", "payload\n"))
    assert read_entry(path, "k1") == ("k1", "payload\n")
    assert read_entry(path) == ("k1", "payload\n")
    assert read_entry(path, "k2") is None
    assert read_entry(tmp_path / "missing", "k1") is None
    text = path.read_text()
    for broken in (text[:-1], text.replace("payload", "paylaod"), "payload\n", "",
                   text.replace('"cache": ', '"cache": 1'), "[1]\npayload\n"):
        path.write_text(broken)
        assert read_entry(path, "k1") is None, broken
    header = {"cache": json.loads(text.partition("\n")[0])["cache"], "key": "k1",
              "reportgen": reportgen.__version__,
              "sha256": hashlib.sha256(b"\xff\n").hexdigest()}
    path.write_bytes(json.dumps(header).encode() + b"\n\xff\n")   # not UTF-8
    assert read_entry(path, "k1") is None


@pytest.mark.parametrize("step", ["written", "exchanged"])
def test_a_killed_incremental_build_loses_nothing(sites, tmp_path, step):
    """Killed (SIGKILL, in a forked child) after the new site's files are written
    and linked, or just after the swap: the target holds a complete site, the
    earlier one or the new one, and the next build goes on from it."""
    from test_site_writer import in_child, kill_at
    runs, full, _incremental, _added = sites
    site = tmp_path / "site"
    shutil.copytree(full, site)
    more = tmp_path / "runs"
    shutil.copytree(runs, more)
    shutil.copytree(RUNS / NIGHTS[6], more / NIGHTS[6])
    assert in_child(lambda: (kill_at(step), build(more, site))) < 0
    if step == "written":
        assert tree(site) == tree(full)
    after = build(more, site)
    assert after.analysed == ([NIGHTS[6]] if step == "written" else [])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs", "site"]


def _no_symlinks(site: Path) -> list:
    return [p for p in site.rglob("*") if p.is_symlink()]


def test_renaming_a_run_rebuilds_the_diff_pages_that_name_it(sites, tmp_path):
    """The flagged night's window night renamed (same files, same key): its diff
    page names the new id, as a full build's does."""
    runs, full, _incremental, added = sites
    base = next(c.window[-1] for c in added.result.regressions if c.run == BAD)
    site = tmp_path / "site"
    shutil.copytree(full, site)
    renamed = tmp_path / "runs"
    shutil.copytree(runs, renamed)
    (renamed / base).rename(renamed / f"{base}b")   # still sorts before the flagged night
    again = build(renamed, site)
    assert again.analysed == [f"{base}b"]   # its entry is under its id
    fresh = tmp_path / "fresh"
    build(renamed, fresh)
    assert tree(site) == tree(fresh)
    pages = [p for p in tree(site) if p.startswith(f"diffs/{BAD}-vs-window-")
             and p.endswith("/index.html")]
    assert pages and all(f"<h1>{BAD} against {base}b: " in (site / p).read_text() for p in pages)


def test_damaged_or_symlinked_report_files_are_not_reused(sites, tmp_path):
    """Run reports, diff pages and cache entries of the earlier site are carried
    over only when they are regular files inside the site, as written: one
    emptied, cut short, or replaced by a symlink (even to an exact copy) is
    made again and the new site holds no symlink."""
    runs, full, _incremental, _added = sites
    site = tmp_path / "site"
    shutil.copytree(full, site)
    outside = tmp_path / "outside"
    outside.mkdir()
    (site / "runs" / NIGHTS[2] / "index.html").write_text("")           # emptied
    diff_page = sorted(site.glob(f"diffs/{BAD}-vs-window-cpu-*/pages/01-diff.html"))[0]
    diff_page.write_bytes(diff_page.read_bytes()[:100])                   # cut short
    report = site / "runs" / NIGHTS[3] / "index.html"                    # a symlink to a copy
    shutil.copyfile(report, outside / "index.html")
    report.unlink()
    report.symlink_to(outside / "index.html")
    night = site / "runs" / NIGHTS[5]                                    # a directory symlink
    shutil.move(night, outside / NIGHTS[5])
    night.symlink_to(outside / NIGHTS[5], target_is_directory=True)
    chart = sorted((site / CACHE_DIR / "charts").iterdir())[0]           # a valid entry, linked
    shutil.copyfile(chart, outside / chart.name)
    chart.unlink()
    chart.symlink_to(outside / chart.name)
    again = build(runs, site)
    assert again.analysed == [NIGHTS[2], NIGHTS[3], NIGHTS[5]]
    assert any(p.endswith("/pages/01-diff.html") for p in again.files)
    assert again.chart_cache.made == [chart.name.removesuffix(".svg")]
    assert _no_symlinks(site) == []
    assert tree(site) == tree(full)
    # Nothing of the new site is a hard link to a file outside it.
    inodes = {p.stat().st_ino for p in outside.rglob("*") if p.is_file()}
    assert not any(p.stat().st_ino in inodes for p in site.rglob("*") if p.is_file())


def test_read_entry_refuses_a_symlink(tmp_path):
    real = tmp_path / "real"
    real.write_text(entry_text("k1", "payload\n"))
    (tmp_path / "link").symlink_to(real)
    assert read_entry(real, "k1") is not None
    assert read_entry(tmp_path / "link", "k1") is None


@pytest.fixture
def code_copy(tmp_path, monkeypatch):
    """A copy of reportgen's package and built-in theme, made the code that
    code_fingerprint hashes (reportgen.__file__ pointed at it)."""
    from reportgen import history_cache
    copy = tmp_path / "code"
    shutil.copytree(ROOT / "reportgen", copy / "reportgen",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(THEME, copy / "themes" / "default")
    history_cache.code_fingerprint.cache_clear()
    monkeypatch.setattr(reportgen, "__file__", str(copy / "reportgen" / "__init__.py"))
    yield copy
    history_cache.code_fingerprint.cache_clear()


def test_the_code_fingerprint_tells_builds_of_one_version_apart(code_copy, monkeypatch):
    from reportgen import history_cache
    fingerprint = history_cache.code_fingerprint
    first = fingerprint()
    assert fingerprint() == first
    seen = {first}
    for changed in (code_copy / "reportgen" / "analyze" / "history.py",
                    code_copy / "themes" / "default" / "style.css"):
        with open(changed, "a") as f:
            f.write("\n")
        fingerprint.cache_clear()
        seen.add(fingerprint())
    versions = dict(history_cache._library_versions(), pygal="0.0.1")
    monkeypatch.setattr(history_cache, "_library_versions", lambda: versions)
    fingerprint.cache_clear()
    seen.add(fingerprint())
    assert len(seen) == 4
    assert history_cache._library_versions()["jinja2"] != "none"


def test_another_commit_with_the_same_version_rebuilds_everything(sites, tmp_path, code_copy):
    """__version__ unchanged, one source file of reportgen changed: nothing of
    the earlier site is trusted (runs, detection, diffs, charts, index)."""
    from reportgen import history_cache
    runs, full, _incremental, _added = sites
    site = tmp_path / "site"
    shutil.copytree(full, site)
    with open(code_copy / "reportgen" / "render" / "charts.py", "a") as f:
        f.write("# another commit\n")
    history_cache.code_fingerprint.cache_clear()
    again = build(runs, site)
    assert again.analysed == NIGHTS[2:6] and again.reused == []
    assert again.chart_cache.reused == [] and again.page_cache.reused == []
    assert again.detection_cache.reused == []
    assert any(p.startswith(f"diffs/{BAD}-vs-window-") for p in again.files)
    assert not any(p.startswith("diffs/") for p in again.links)


def test_diff_directories_of_runs_that_read_alike_differ():
    from reportgen.history_site import diff_slug
    a, b = diff_slug("bad x", "cpu"), diff_slug("bad-x", "cpu")
    assert a != b and a.startswith("bad-x-vs-window-cpu-") and b.startswith("bad-x-vs-window-cpu-")
    assert diff_slug("bad x", "cpu") == a and diff_slug("bad x", "heap") != a
    assert all(c.isalnum() or c in "-_." for c in diff_slug("../é x/\u202e", "cpu"))


def test_input_limits_are_part_of_the_run_key(sites, tmp_path):
    """A site built with the default limits, rebuilt with a --max-decompressed or
    --max-samples the runs exceed: refused, as a full build with them is."""
    from reportgen.errors import ProfileError
    runs, full, _incremental, _added = sites
    site = tmp_path / "site"
    shutil.copytree(full, site)
    for limits in ({"max_decompressed": 10000}, {"max_samples": 10}):
        with pytest.raises(ProfileError, match="--max-"):
            build_history([str(runs)], site, HistoryOptions(), jobs=1, theme_dir=THEME,
                          **limits)
