"""`reportgen history` on the nightly example's captured runs: detection, the CI
gate, bad input, the incremental cache, determinism, the manifest form and
the history site in a browser."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from reportgen.analyze.history import HistoryOptions
from reportgen.history_site import build_history, diff_href, diff_slug, write_history_site
from reportgen.manifest import THEMES_DIR

ROOT = Path(__file__).resolve().parent.parent
RUNS = ROOT / "examples" / "nightly" / "runs"
NIGHTS = sorted(p.name for p in RUNS.iterdir()) if RUNS.is_dir() else []
BAD, FIX = "2026-11-05", "2026-11-08"
THEME = THEMES_DIR / "default"


def copy_runs(dest: Path, names) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for n in names:
        shutil.copytree(RUNS / n, dest / n)
    return dest


def tree(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def example_history():
    """The analysis of all ten nights, without a site (no run reports)."""
    return build_history([str(RUNS)], None, HistoryOptions(), jobs=1)


def test_the_example_has_ten_small_runs():
    assert len(NIGHTS) == 10
    size = sum(f.stat().st_size for f in RUNS.rglob("*") if f.is_file())
    assert size < 600_000


def test_regression_night_is_flagged_with_units_and_culprit(example_history):
    result = example_history.result
    assert {c.run for c in result.regressions} == {BAD}
    quote = {c.unit: c for c in result.regressions
             if c.kind == "bench" and c.metric.startswith("BenchmarkQuote-2 ")}
    assert {"ns/op", "B/op", "allocs/op"} <= set(quote)
    assert "main.canonicalSKU" in quote["ns/op"].culprit_names
    assert all(c.change > 0 for c in quote.values())
    assert not any("ParseOrder" in c.metric for c in result.regressions + result.improvements)
    assert any(c.kind == "share" and c.profile == "cpu" for c in result.regressions)


def test_fix_night_is_an_improvement_and_calm_nights_are_quiet(example_history):
    result = example_history.result
    improved = {(c.run, c.unit) for c in result.improvements}
    assert {(FIX, "B/op"), (FIX, "allocs/op")} <= improved
    assert {run for run, _ in improved} == {FIX}
    # Every night's gctrace log is read: its GC figures are charted, nothing skipped.
    assert all(r.notes == [] for r in example_history.runs)
    assert all(any(e["file"] == "gctrace.log" and e["kind"] == "gctrace" for e in r.evidence)
               for r in example_history.runs)
    gc = next(s for s in result.series if s.key == "gc:gc_cpu_percent")
    assert [p.run for p in gc.points] == NIGHTS and all(p.value > 0 for p in gc.points)
    assert [r.meta["commit"] for r in example_history.runs][4] == "e90c3a1"


def test_gate_exit_codes(run_cli, tmp_path):
    calm = run_cli("history", RUNS, "--fail-on-regression")
    assert calm.returncode == 0, calm.stderr
    assert f"REGRESSION {BAD} BenchmarkQuote-2 ns/op" in calm.stdout
    assert "gate: passed" in calm.stdout
    upto_bad = [RUNS / n for n in NIGHTS[:5]]
    failing = run_cli("history", *upto_bad, "--fail-on-regression")
    assert failing.returncode == 1
    assert "fail" in failing.stdout.splitlines()[-1]
    assert run_cli("history", RUNS, "--fail-on-regression", "--gate", "any").returncode == 1
    assert run_cli("history", *upto_bad).returncode == 0   # no gate asked
    missing = run_cli("history", tmp_path / "nope", "--fail-on-regression")
    assert missing.returncode == 2 and len(missing.stderr.strip().splitlines()) == 1


def test_json_output_shape(run_cli):
    out = run_cli("history", *[RUNS / n for n in NIGHTS[:6]], "--format", "json")
    data = json.loads(out.stdout)
    assert [r["id"] for r in data["runs"]] == NIGHTS[:6]
    assert data["runs"][0]["meta"]["branch"] == "main"
    reg = next(c for c in data["regressions"] if c["metric"] == "BenchmarkQuote-2 ns/op")
    for key in ("run", "metric", "unit", "before", "after", "change", "p_value", "culprits",
                "window", "n"):
        assert key in reg
    assert reg["run"] == BAD and reg["unit"] == "ns/op" and reg["p_value"] < 0.05
    assert "main.canonicalSKU" in reg["culprits"]
    assert data["gate"] == {"runs": "newest", "regressions": 0}
    assert {s["metric"] for s in data["series"]} >= {"BenchmarkQuote-2 ns/op", "goroutines"}


@pytest.mark.parametrize("breakage, where", [
    ("corrupt", "cpu.pb.gz"), ("random", "cpu.pb.gz"), ("run_yml", "run.yml:2"),
    ("empty", "no evidence in this run"), ("bench", None)])
def test_bad_run_is_one_line_and_exit_2(run_cli, tmp_path, breakage, where):
    runs = copy_runs(tmp_path / "runs", NIGHTS[:2])
    night = runs / NIGHTS[1]
    if breakage == "corrupt":
        (night / "cpu.pb.gz").write_bytes((night / "cpu.pb.gz").read_bytes()[:200])
    elif breakage == "random":  # named like a profile, but not gzip nor pprof
        (night / "cpu.pb.gz").write_bytes(bytes(range(7, 250)) * 3)
    elif breakage == "empty":  # the night's capture failed: nothing in the directory
        for f in night.iterdir():
            f.unlink()
    elif breakage == "run_yml":
        (night / "run.yml").write_text("commit: abc\nauthor: me\n")
    else:   # a file that is no evidence at all is skipped with a note, not an error
        (night / "README").write_text("captured by hand\n")
    out = run_cli("history", runs)
    if where is None:
        assert out.returncode == 0
        assert "README: skipped, text in no format reportgen reads" in out.stdout
        return
    assert out.returncode == 2, out.stdout
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and where in lines[0] and "Traceback" not in out.stderr


def test_incremental_rebuild_analyses_only_new_or_changed_runs(tmp_path):
    runs = copy_runs(tmp_path / "runs", NIGHTS[3:6])
    site = tmp_path / "site"
    first = build_history([str(runs)], site, HistoryOptions(), jobs=1, theme_dir=THEME)
    write_history_site(first, site, "Nightly", THEME)
    assert first.analysed == NIGHTS[3:6] and first.reused == []

    copy_runs(runs, NIGHTS[6:7])
    second = build_history([str(runs)], site, HistoryOptions(), jobs=1, theme_dir=THEME)
    assert second.analysed == [NIGHTS[6]]
    assert second.reused == NIGHTS[3:6]
    write_history_site(second, site, "Nightly", THEME)

    # Same runs from scratch: the incremental site is the same, byte for byte.
    fresh = tmp_path / "fresh"
    full = build_history([str(runs)], fresh, HistoryOptions(), jobs=1, theme_dir=THEME)
    write_history_site(full, fresh, "Nightly", THEME)
    assert tree(site) == tree(fresh)

    # A changed file re-analyses its run only; a removed run's report leaves the site.
    with open(runs / NIGHTS[4] / "bench.txt", "a") as f:
        f.write("BenchmarkQuote-2  1000  999.0 ns/op  320 B/op  2 allocs/op\n")
    shutil.rmtree(runs / NIGHTS[3])
    third = build_history([str(runs)], site, HistoryOptions(), jobs=1, theme_dir=THEME)
    assert third.analysed == [NIGHTS[4]] and third.reused == [NIGHTS[5], NIGHTS[6]]
    write_history_site(third, site, "Nightly", THEME)
    assert not (site / "runs" / NIGHTS[3]).exists()


def test_a_damaged_cache_entry_is_reanalysed(tmp_path):
    runs = copy_runs(tmp_path / "runs", NIGHTS[:2])
    site = tmp_path / "site"
    write_history_site(build_history([str(runs)], site, HistoryOptions(), 1, THEME), site,
                       "N", THEME)
    (site / "data" / "history" / "runs" / f"{NIGHTS[0]}.json").write_text("{not json")
    (site / "runs" / NIGHTS[1] / "index.html").unlink()
    again = build_history([str(runs)], site, HistoryOptions(), 1, THEME)
    assert again.analysed == NIGHTS[:2]


@pytest.fixture(scope="module")
def nightly_site(tmp_path_factory):
    """Nights 2 to 5 (the regression on the newest) as a history site, built with two jobs."""
    base = tmp_path_factory.mktemp("nightly")
    runs = copy_runs(base / "runs", NIGHTS[1:5])
    site = base / "site"
    history = build_history([str(runs)], site, HistoryOptions(), jobs=2, theme_dir=THEME)
    write_history_site(history, site, "Nightly <b>pages</b>", THEME)
    return site


def test_output_is_byte_identical_wherever_the_runs_live(nightly_site, tmp_path):
    runs = copy_runs(tmp_path / "elsewhere" / "deeper", NIGHTS[1:5])
    site = tmp_path / "again"
    history = build_history([str(runs)], site, HistoryOptions(), jobs=1, theme_dir=THEME)
    write_history_site(history, site, "Nightly <b>pages</b>", THEME)
    assert tree(site) == tree(nightly_site)


def test_history_index_answers_first_and_links_reports_and_diffs(nightly_site):
    html = (nightly_site / "index.html").read_text()
    main = html[html.index("<main>"):]
    answer = main[main.index('class="answer"'):main.index("</div>", main.index('class="answer"'))]
    assert f"Run {BAD} (e90c3a1)" in answer and "BenchmarkQuote-2 ns/op" in answer
    assert "The newest run regressed" in answer
    assert "Nightly &lt;b&gt;pages&lt;/b&gt;" in html and "<b>pages</b>" not in html
    for night in NIGHTS[1:5]:
        assert f'href="runs/{night}/index.html"' in html
        assert (nightly_site / "runs" / night / "index.html").is_file()
    diff = diff_href(BAD, "cpu")
    assert diff.startswith(f"diffs/{BAD}-vs-window-cpu-")
    assert f'href="{diff}"' in html
    page = (nightly_site / diff).read_text()
    assert "main.canonicalSKU" in page and "<svg" in page
    # The heap regression is in alloc_space (what B/op moves): its diff compares that,
    # not the profile's default inuse_space, where nothing moved.
    heap = nightly_site / "diffs" / diff_slug(BAD, "heap")
    assert json.loads((heap / "data" / "01-diff.json").read_text())["sample_index"] == \
        "alloc_space"
    lead = (heap / "index.html").read_text()
    lead = lead[lead.index('answer lead'):]
    assert "Biggest rise: <bdi>main.canonicalSKU</bdi>" in lead[:lead.index("</p>")]
    # A run's own report is the default report of all its files, as `build` makes it.
    pages = {p.name for p in (nightly_site / "runs" / BAD / "pages").iterdir()}
    assert {"01-gc.html", "04-bench.html"} <= pages
    data = json.loads((nightly_site / "data" / "history.json").read_text())
    assert data["regressions"][0]["run"] == BAD
    assert html.count("<svg") >= 8


def test_manifest_form(run_cli, tmp_path):
    out = run_cli("build", ROOT / "examples" / "nightly" / "site.yml", "-o", tmp_path / "s")
    assert out.returncode == 0, out.stderr
    assert "Nightly: the quote service" in (tmp_path / "s" / "index.html").read_text()
    gate = run_cli("history", ROOT / "examples" / "nightly" / "site.yml", "-o", tmp_path / "s",
                   "--fail-on-regression")
    assert gate.returncode == 0 and "reused 10" in gate.stderr
    bad = tmp_path / "bad.yml"
    bad.write_text(f"profiles:\n  cpu: {{path: {RUNS / BAD / 'cpu.pb.gz'}}}\nanalyses:\n"
                   f"  - kind: history\n    runs: {RUNS}\n")
    refused = run_cli("build", bad, "-o", tmp_path / "b")
    assert refused.returncode == 2 and "history" in refused.stderr
    wrong = tmp_path / "wrong.yml"
    wrong.write_text(f"analyses:\n  - kind: history\n    runs: {RUNS}\n    baseline: 0\n")
    out = run_cli("build", wrong)
    assert out.returncode == 2 and "wrong.yml:4" in out.stderr


def test_history_index_in_a_browser_offline(nightly_site):
    from browser import offline_browser
    with offline_browser() as new_page:
        w = new_page()
        w.open(nightly_site / "index.html")
        assert w.outside == [] and w.errors == []
        assert w.page.locator(".charts figure svg").count() >= 6
        assert w.page.locator("#regressions tbody tr").count() >= 1
        first = w.page.locator("#answer").inner_text()
        assert BAD in first
        w.page.locator(f'a[href="runs/{BAD}/index.html"]').first.click()
        w.page.wait_for_load_state("load")
        assert w.page.url.endswith(f"runs/{BAD}/index.html")
        assert w.outside == [] and w.errors == []


def test_runs_are_taken_as_given_or_by_name(tmp_path):
    from reportgen.errors import UsageError
    from reportgen.sources.runs import find_runs
    for name in ("b", "a", "c"):
        (tmp_path / "all" / name).mkdir(parents=True)
        (tmp_path / "all" / name / "bench.txt").write_text("BenchmarkX-2 10 5 ns/op\n")
    assert [d.name for d in find_runs([tmp_path / "all"])] == ["a", "b", "c"]
    given = [tmp_path / "all" / n for n in ("c", "a")]
    assert [d.name for d in find_runs(given)] == ["c", "a"]
    (tmp_path / "other" / "a").mkdir(parents=True)
    with pytest.raises(UsageError, match="second run named 'a'"):
        find_runs([tmp_path / "all" / "a", tmp_path / "other" / "a"])


def test_hostile_names_stay_text_in_the_history(tmp_path, hostile_profile):
    from profiles import HOSTILE
    runs = tmp_path / "runs"
    for i, factor in enumerate((1, 1, 1, 3)):
        night = runs / f"n{i}"
        night.mkdir(parents=True)
        shutil.copy(hostile_profile, night / "heap.pb.gz")
        lines = [f"Benchmark{HOSTILE[0]}-2 100 {1000 * factor + k} ns/op" for k in range(8)]
        (night / "bench.txt").write_text("\n".join(lines) + "\n")
        (night / "run.yml").write_text(f"commit: '{HOSTILE[1]}'\nbranch: \"a\\rb\\x00c\\x1bd\\u202e\"\n"
                                       f"labels: {{x: '{HOSTILE[3]}', y: '{HOSTILE[2]}'}}\n")
    site = tmp_path / "site"
    history = build_history([str(runs)], site, HistoryOptions(), jobs=1, theme_dir=THEME)
    assert history.result.regressions
    write_history_site(history, site, HOSTILE[2], THEME)
    html = (site / "index.html").read_text()
    for text in HOSTILE[:3]:
        assert text not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # Each run's own report shows its run.yml as text, in one preformatted block:
    # escaped, carriage returns as line ends, other control characters dropped.
    report = (site / "runs" / "n3" / "index.html").read_text()
    for text in HOSTILE[:3]:
        assert text not in report
    block = report[report.index("<pre><code>Run n3"):]
    block = block[:block.index("</code></pre>")]
    assert "commit: &#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in block or \
        'commit: "&gt;&lt;img src=x onerror=alert(1)&gt;' in block
    assert "branch: a\nb" in block and "cd" in block and "\x00" not in block
    assert "\x1b" not in block
    assert "\u202e" not in report and "d\\u202e" in block   # bidi controls shown, not applied
    assert "y: &lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in block


def test_files_beside_the_runs_do_not_make_one_run_of_them(run_cli, tmp_path):
    """A stray file in the directory of runs (a note, a README) used to make the
    whole directory one run, and the gate passed; a report site written into
    it (`-o runs/site`) is no run either."""
    runs = copy_runs(tmp_path / "runs", NIGHTS[:5])
    (runs / "bench-notes.txt").write_text("BenchmarkX-2 100 5 ns/op\n")
    out = run_cli("history", runs, "--fail-on-regression", "-o", runs / "site")
    assert out.returncode == 1, out.stdout + out.stderr
    assert f"Run {BAD}" in out.stdout
    warning = [line for line in out.stderr.splitlines() if "warning" in line]
    assert len(warning) == 1 and "bench-notes.txt" in warning[0]
    again = run_cli("history", runs, "--fail-on-regression", "-o", runs / "site")
    assert again.returncode == 1 and "reused 5" in again.stderr
    assert (runs / "site" / ".reportgen-site").is_file()


def test_text_in_another_encoding_is_read_and_a_trace_is_named(tmp_path):
    """A Latin-1 byte in a benchmark name or a GC log line does not drop the file
    from the trend; an execution trace in a run is skipped with a note that
    says what it is."""
    runs = copy_runs(tmp_path / "runs", NIGHTS[:3])
    night = runs / NIGHTS[2]
    bench = (night / "bench.txt").read_bytes()
    (night / "bench.txt").write_bytes(bench.replace(b"BenchmarkQuote", b"BenchmarkQu\xe9te", 1))
    with open(night / "gctrace.log", "ab") as f:
        f.write(b"note \xff\xfe\n")
    (night / "trace.out").write_bytes(b"go 1.26 trace\x00\x00\x00" + bytes(64))
    history = build_history([str(runs)], None, HistoryOptions(), jobs=1)
    run = history.runs[2]
    assert {e["kind"] for e in run.evidence} >= {"bench", "gctrace"}
    assert run.notes == ["trace.out: skipped, an execution trace (a history charts profiles, "
                         "dumps, benchmarks and GC logs; `reportgen build` reports a trace)"]
    ns = next(s for s in history.result.series if s.metric == "BenchmarkQuote-2 ns/op")
    assert [p.run for p in ns.points] == NIGHTS[:3]   # the other lines of the file count


def test_run_metadata_is_bounded(run_cli, tmp_path):
    runs = copy_runs(tmp_path / "runs", NIGHTS[:2])
    (runs / NIGHTS[1] / "run.yml").write_text("labels:\n" + "".join(
        f"  k{i}: v{i}\n" for i in range(20000)))
    out = run_cli("history", runs)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "run.yml" in lines[0] and "bytes" in lines[0]


def test_a_run_title_names_its_report(tmp_path):
    runs = copy_runs(tmp_path / "runs", NIGHTS[:2])
    with open(runs / NIGHTS[1] / "run.yml", "a") as f:
        f.write("title: 'Release <v2>'\n")
    site = tmp_path / "site"
    history = build_history([str(runs)], site, HistoryOptions(), jobs=1, theme_dir=THEME)
    write_history_site(history, site, "Nightly", THEME)
    report = (site / "runs" / NIGHTS[1] / "index.html").read_text()
    assert f"<title>Run {NIGHTS[1]}: Release &lt;v2&gt;" in report
    assert "title: Release &lt;v2&gt;" in report


def test_text_output_shows_bidi_controls(run_cli, tmp_path):
    runs = copy_runs(tmp_path / "runs", NIGHTS[:2])
    (runs / NIGHTS[1] / "run.yml").write_text("commit: \"ab\\u202ecd\"\n")
    out = run_cli("history", runs)
    assert out.returncode == 0
    assert "\u202e" not in out.stdout and "ab\\u202ecd" in out.stdout


@pytest.mark.parametrize("where", ["run", "file"])
def test_a_name_that_is_not_utf8_is_one_line_and_exit_2(run_cli, tmp_path, where):
    """Not exit 1 (the gate's "regression") and no traceback: the name, bytes as \\xNN."""
    import os
    runs = copy_runs(tmp_path / "runs", NIGHTS[:2])
    if where == "run":
        (runs / NIGHTS[1]).rename(runs / os.fsdecode(NIGHTS[1].encode() + b"-\xff\xfe"))
        shown = f"{NIGHTS[1]}-\\xff\\xfe: the run directory name is not valid UTF-8"
    else:
        (runs / NIGHTS[1] / "cpu.pb.gz").rename(runs / NIGHTS[1] / os.fsdecode(b"cpu-\xff.pb.gz"))
        shown = "cpu-\\xff.pb.gz: the file name is not valid UTF-8"
    for extra in ([], ["-o", tmp_path / "site"]):
        out = run_cli("history", runs, "--fail-on-regression", *extra)
        assert out.returncode == 2, out.stderr
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and shown in lines[0], out.stderr
    assert not (tmp_path / "site").exists()
    # A file beside the runs is no run's: such a name is only warned about.
    calm = copy_runs(tmp_path / "calm", NIGHTS[:2])
    (calm / os.fsdecode(b"note-\xff.txt")).write_text("stray\n")
    out = run_cli("history", calm)
    assert out.returncode == 0 and "note-\\xff.txt" in out.stderr, out.stderr


def test_max_samples_is_applied(run_cli, tmp_path):
    """As `top` takes it: a profile with more samples is refused, naming the file."""
    runs = copy_runs(tmp_path / "runs", NIGHTS[:1])
    out = run_cli("history", runs, "--max-samples", "10")
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "cpu.pb.gz: more than 10 samples" in lines[0]


def test_a_symlinked_run_is_named_by_the_link(tmp_path):
    """runs/2026-11-0N -> ../store/<hash>: the ids are the links' names, and the
    site is the one the same runs as plain directories make."""
    store, linked, plain = tmp_path / "store", tmp_path / "linked", tmp_path / "plain"
    copy_runs(plain, NIGHTS[:2])
    linked.mkdir()
    for i, night in enumerate(NIGHTS[:2]):
        shutil.copytree(RUNS / night, store / f"blob{i}")
        (linked / night).symlink_to(store / f"blob{i}", target_is_directory=True)
    sites = []
    for runs in (linked, plain):
        site = tmp_path / f"site-{runs.name}"
        history = build_history([str(runs)], site, HistoryOptions(), jobs=1, theme_dir=THEME)
        assert [r.id for r in history.runs] == NIGHTS[:2]
        write_history_site(history, site, "N", THEME)
        sites.append(tree(site))
    assert sites[0] == sites[1]
    assert sorted(p.name for p in (tmp_path / "site-linked" / "runs").iterdir()) == NIGHTS[:2]


def test_run_reports_and_diff_pages_link_back_to_the_index(nightly_site):
    import re
    pages = [p for p in nightly_site.rglob("*.html")
             if p.relative_to(nightly_site).parts[0] in ("runs", "diffs")]
    assert any(p.parts[-3] == "diffs" or "diffs" in p.parts for p in pages)
    for page in pages:
        hrefs = re.findall(r'<a class="up" href="([^"]+)">', page.read_text())
        assert len(hrefs) == 1, page
        assert (page.parent / hrefs[0]).resolve() == (nightly_site / "index.html").resolve()
    # The history index itself has none.
    assert 'class="up"' not in (nightly_site / "index.html").read_text()
