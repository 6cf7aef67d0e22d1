"""The answer sentence: built from bare files, checked against values the test
computes itself from `reportgen top --cum` / `peek` / `leaks` JSON or from the
raw stacks — never against hard-coded sentences."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from profiles import ProfileBuilder

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT.parent / "shared" / "cases"
GATEWAY = ROOT / "examples" / "gateway" / "profiles"
ESCAPES = ROOT / "examples" / "escapes" / "profiles"
LEAKY = ROOT / "examples" / "leaky" / "snapshots"

# The test's own reading of the rules (README "The answer"), written apart from
# reportgen.analyze.answer on purpose.
ENTRY = re.compile(r"^(main\.main|main\.init.*|runtime\.main|runtime\.goexit|.*\.gowrap\d+)$")


def is_program(name: str) -> bool:
    head = re.split(r"[(\[ ]", name, maxsplit=1)[0]
    pkg = head[:head.find(".", head.rfind("/") + 1)]
    return pkg == "main" or "." in pkg.split("/")[0]


def own(name: str) -> bool:
    return is_program(name) and not ENTRY.match(name)


def cli_json(run_cli, *args):
    proc = run_cli(*args, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def expected_hot_path(run_cli, profile) -> tuple[str, int, list[str]]:
    """(subject, its cum, callees named "inside it"): the program function with
    the most cum, moved into a program callee holding 80% of it, from the CLI's JSON."""
    rows = cli_json(run_cli, "top", profile, "--cum", "--nodes", "all")["rows"]
    cum = {r["name"]: r["cum"] for r in rows}
    subject = next(r["name"] for r in rows if own(r["name"]))
    while True:
        node = cli_json(run_cli, "peek", profile, "^" + re.escape(subject) + "$")["nodes"][0]
        callees = sorted(node["callees"], key=lambda e: (-e["value"], e["name"]))
        nxt = next((e for e in callees if own(e["name"])), None)
        if nxt is None or nxt["value"] < 0.8 * cum[subject]:
            break
        subject = nxt["name"]
    inside = [e["name"] for e in callees if e["value"] >= 0.05 * cum[subject]][:3]
    return subject, cum[subject], inside


def text_of(fragment: str) -> str:
    """What a reader sees: tags (such as <bdi> around names) dropped, entities read."""
    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def answers(page: str) -> list[str]:
    found = re.findall(r'<(p|div) class="answer[^"]*">(.*?)</\1>', page, re.S)
    return [text_of(text) for _tag, text in found]


def card_answers(index: str) -> dict[str, str]:
    cards = re.findall(r'<section class="card" id="[^"]*">\s*<h3>(.*?)</h3>.*?'
                       r'<p class="answer">(.*?)</p>', index, re.S)
    return {text_of(t): text_of(a) for t, a in cards}


def page_titles(index: str) -> list[str]:
    """The index's list of analyses, in order (the navigation bar repeats them)."""
    listing = index.split("<h2>Analyses</h2>", 1)[1] if "<h2>Analyses</h2>" in index else ""
    return [text_of(t) for t in re.findall(r'<li><a href="pages/\d\d-[a-z]+\.html">(.*?)</a>',
                                           listing)]


def build(run_cli, out: Path, *files) -> str:
    proc = run_cli("build", *files, "-o", out)
    assert proc.returncode == 0, proc.stderr
    return (out / "index.html").read_text()


def nearest_program_frame(path, sample_type: str) -> str:
    """Mutex/block: the program frame nearest the leaf of each stack, by value."""
    from reportgen.sources import load_profile
    p = load_profile(path)
    t = [s.type for s in p.sample_types].index(sample_type)
    held: dict = {}
    for i in range(p.num_samples):
        for loc in p.stack(i):
            names = [p.functions[ln.function].name for ln in p.locations[loc].lines]
            hit = next((n for n in names if is_program(n)), None)
            if hit:
                held[hit] = held.get(hit, 0) + int(p.values[i, t])
                break
        else:
            continue
    return max(held, key=lambda n: (held[n], n))


@pytest.fixture(scope="module")
def gateway_site(tmp_path_factory, run_cli):
    out = tmp_path_factory.mktemp("bare") / "gateway"
    # After before before, on purpose: captures are put in time order.
    files = sorted(GATEWAY.glob("after/*.pb.gz")) + sorted(GATEWAY.glob("before/*.pb.gz")) + [
        GATEWAY / "bench-after.txt", GATEWAY / "bench-before.txt", GATEWAY / "escape.txt"]
    return out, build(run_cli, out, *files)


@pytest.mark.parametrize("side", ["before", "after"])
@pytest.mark.parametrize("kind", ["cpu", "allocs", "heap"])
def test_gateway_cards_name_the_hot_path(gateway_site, run_cli, side, kind):
    _out, index = gateway_site
    subject, _cum, inside = expected_hot_path(run_cli, GATEWAY / side / f"{kind}.pb.gz")
    text = card_answers(index)[f"{side}-{kind}"]
    assert text.startswith(f"{subject} holds "), text
    for name in inside:
        assert name in text, (name, text)


@pytest.mark.parametrize("side", ["before", "after"])
@pytest.mark.parametrize("kind", ["mutex", "block"])
def test_gateway_lock_cards_name_the_program_function(gateway_site, side, kind):
    _out, index = gateway_site
    holder = nearest_program_frame(GATEWAY / side / f"{kind}.pb.gz", "delay")
    text = card_answers(index)[f"{side}-{kind}"]
    assert text.startswith(f"{holder} "), text
    assert not text.startswith(("sync.", "runtime."))


def test_gateway_bare_build_chooses_pages_and_leads_with_the_cpu_diff(gateway_site, run_cli):
    out, index = gateway_site
    titles = page_titles(index)
    assert titles[:2] == ["Leak suspects", "Goroutines: after-goroutine"]  # the latest
    assert "Heap growth: before-heap → after-heap (inuse_space)" in titles
    assert any(t.startswith("Escapes") for t in titles)
    assert "Benchmarks: bench-before.txt → bench-after.txt" in titles
    diffs = [t for t in titles if t.startswith("Diff:")]
    assert diffs[0] == "Diff: before-cpu → after-cpu"  # CPU first, base = the earlier capture
    # The renamed handler: the headline compares its caller, found here from peek.
    callers = {}
    for side, fn in (("before", "main.handleBefore"), ("after", "main.handleAfter")):
        node = cli_json(run_cli, "peek", GATEWAY / side / "cpu.pb.gz", f"^{fn}$")["nodes"][0]
        callers[side] = max(node["callers"], key=lambda e: e["value"])["name"]
    assert callers["before"] == callers["after"]
    lead = answers(index)[0]
    assert lead.startswith("Same duration")  # both captures are 3 s long
    assert f"compare the caller: {callers['before']}" in lead
    assert "main.handleBefore" in lead and "main.handleAfter" in lead


def test_hotspot_dominant_names_the_dominant_function(run_cli, tmp_path):
    case = CASES / "hotspot-dominant.pb.gz"
    if not case.exists():
        pytest.skip("../shared/cases not present")
    data = cli_json(run_cli, "top", case)
    subject, cum, inside = expected_hot_path(run_cli, case)
    assert data["program_hotspot"]["name"] == subject
    assert data["program_hotspot"]["cum"] == cum and cum / data["total"] >= 0.9
    lead = answers(build(run_cli, tmp_path / "s", case))[0]
    assert lead.startswith(f"{subject} holds 95% of CPU")
    assert all(n in lead for n in inside)


def test_escapes_example_bare(run_cli, tmp_path):
    index = build(run_cli, tmp_path / "s", ESCAPES / "mem.pb.gz", ESCAPES / "escape-m2.txt",
                  ESCAPES / "bench.txt")
    assert page_titles(index)[:2] == ["Escapes: mem (alloc_space)", "Benchmarks: bench.txt"
                                                                    " → bench.txt"]
    subject, _cum, _inside = expected_hot_path(run_cli, ESCAPES / "mem.pb.gz")
    assert card_answers(index)["mem"].startswith(f"{subject} holds")
    hint = cli_json(run_cli, "escapes", ESCAPES / "mem.pb.gz", "--compiler-log",
                    ESCAPES / "escape-m2.txt")["hints"][0]
    lead = answers(index)[0]  # the escapes page's answer leads: the costliest line
    assert f"{Path(hint['file']).name}:{hint['line']}" in lead


def _first_suspect(run_cli, files) -> str:
    suspect = cli_json(run_cli, "leaks", *files)["suspects"][0]
    return (suspect["user_code"] or {}).get("func") or suspect["headline"]


def test_several_dumps_lead_with_leak_suspects(run_cli, tmp_path):
    dumps = sorted(LEAKY.glob("goroutine-0*.txt"))
    index = build(run_cli, tmp_path / "s", *dumps)
    assert page_titles(index)[:2] == ["Leak suspects", f"Goroutines: {dumps[-1].name}"]
    assert _first_suspect(run_cli, dumps) in answers(index)[0]
    leaks_page = (tmp_path / "s" / "pages" / "01-leaks.html").read_text()
    assert _first_suspect(run_cli, dumps) in answers(leaks_page)[0]


def test_several_goroutine_profiles_lead_with_leak_suspects(run_cli, tmp_path):
    profiles = sorted(LEAKY.glob("goroutine-0*.pb.gz"))
    index = build(run_cli, tmp_path / "s", *profiles)
    assert page_titles(index)[0] == "Leak suspects"
    suspect = cli_json(run_cli, "leaks", *profiles)["suspects"][0]
    assert suspect["headline"] in answers(index)[0]


def test_one_dump_gives_the_overview_with_suspects(run_cli, tmp_path):
    dump = sorted(LEAKY.glob("goroutine-0*.txt"))[-1]
    index = build(run_cli, tmp_path / "s", dump)
    assert page_titles(index) == [f"Goroutines: {dump.name}", "Leak suspects"]
    assert _first_suspect(run_cli, [dump]) in answers(index)[0]
    # The card names the largest group by its frame and state, counted here from the
    # overview's JSON data file.
    data = json.loads((tmp_path / "s" / "data" / "01-goroutines.json").read_text())
    mine = [g for g in data["groups"] if not g["background"]]
    biggest = max(g["count"] for g in mine)
    card = next(iter(card_answers(index).values()))
    assert card.startswith(f"Largest group: {biggest} of {data['total']} goroutines")


def test_several_heap_profiles_give_heap_growth(run_cli, tmp_path):
    heaps = sorted(LEAKY.glob("heap-0*.pb.gz"))
    index = build(run_cli, tmp_path / "s", *heaps)
    assert page_titles(index)[0].startswith("Heap growth")
    first, last = ({r["name"]: r["flat"] for r in cli_json(
        run_cli, "top", p, "--sample-index", "inuse_space", "--nodes", "all")["rows"]}
        for p in (heaps[0], heaps[-1]))
    grown = max(last, key=lambda n: (last[n] - first.get(n, 0), n))
    lead = answers(index)[0]
    assert lead.startswith("Heap in use grew") and f"growing most: {grown} " in lead


def test_one_bench_file_is_described_not_compared(run_cli, tmp_path):
    index = build(run_cli, tmp_path / "s", GATEWAY / "bench-before.txt")
    assert page_titles(index) == ["Benchmarks: bench-before.txt → bench-before.txt"]
    assert "one set of runs" in answers(index)[0]


def _percent(change: float) -> str:
    text = f"{abs(change):.1f}" if abs(change) >= 9.995 else f"{abs(change):.2f}"
    return ("+" if change > 0 else "-") + text.rstrip("0").rstrip(".") + "%"


def test_diff_with_counts_compares_per_unit(run_cli):
    before, after = GATEWAY / "before" / "cpu.pb.gz", GATEWAY / "after" / "cpu.pb.gz"
    tb = cli_json(run_cli, "top", before)["total"]
    ta = cli_json(run_cli, "top", after)["total"]
    data = cli_json(run_cli, "diff", before, after, "--base-count", "1000",
                    "--target-count", "1600")
    assert data["per_unit"] == [tb / 1000, ta / 1600]
    change = (ta / 1600 - tb / 1000) / (tb / 1000) * 100
    text = data["answer"]["text"]
    assert text.startswith("CPU per unit of work") and f"({_percent(change)};" in text
    plain = run_cli("diff", before, after, "--base-count", "1000", "--target-count", "1600")
    assert plain.stdout.splitlines()[0] == text
    one = run_cli("diff", before, after, "--base-count", "1000")
    assert one.returncode == 2 and len(one.stderr.strip().splitlines()) == 1


def test_build_with_counts_leads_per_unit(run_cli, tmp_path):
    before, after = GATEWAY / "before" / "cpu.pb.gz", GATEWAY / "after" / "cpu.pb.gz"
    proc = run_cli("build", before, after, "--base-count", "10", "--target-count", "20",
                   "-o", tmp_path / "s")
    assert proc.returncode == 0, proc.stderr
    index = (tmp_path / "s" / "index.html").read_text()
    assert answers(index)[0].startswith("CPU per unit of work")
    page = (tmp_path / "s" / "pages" / "01-diff.html").read_text()
    assert "Per unit:" in page and "Counts: <b>10 → 20</b>" in page


def test_manifest_counts_come_in_pairs(run_cli, tmp_path):
    (tmp_path / "site.yml").write_text(
        f"profiles:\n  a: {{path: {GATEWAY / 'before/cpu.pb.gz'}}}\n"
        f"  b: {{path: {GATEWAY / 'after/cpu.pb.gz'}}}\n"
        "analyses:\n  - {kind: diff, base: a, target: b, base_count: 5}\n")
    proc = run_cli("build", tmp_path / "site.yml", "-o", tmp_path / "out")
    assert proc.returncode == 2
    assert "site.yml:5:" in proc.stderr and "target_count" in proc.stderr
    (tmp_path / "site.yml").write_text(
        (tmp_path / "site.yml").read_text().replace("base_count: 5", "base_count: 5, "
                                                                     "target_count: 8"))
    proc = run_cli("build", tmp_path / "site.yml", "-o", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    data = json.loads((tmp_path / "out" / "data" / "01-diff.json").read_text())
    assert (data["base_count"], data["target_count"]) == (5, 8)


def _cpu(tmp_path, name, stacks, period_type=("cpu", "nanoseconds")):
    b = ProfileBuilder(sample_types=[("samples", "count"), ("cpu", "nanoseconds")],
                       period_type=period_type, period=10_000_000)
    funcs: dict = {}
    for stack, value in stacks:
        locs = [b.location((funcs.setdefault(f, b.function(f, "x.go")), 1)) for f in stack]
        b.sample(locs, [value // 10_000_000, value])
    return b.write(tmp_path / name)


def test_runtime_work_in_plain_words(run_cli, tmp_path):
    path = _cpu(tmp_path, "gc.pb.gz", [
        (["runtime.scanobject", "runtime.gcDrain", "runtime.gcBgMarkWorker"], 600_000_000),
        (["syscall.Syscall", "os.(*File).Write", "main.flush", "main.main"], 50_000_000),
        (["runtime.futex", "runtime.findRunnable", "runtime.schedule"], 300_000_000),
        (["main.tiny", "main.main"], 50_000_000)])
    rows = cli_json(run_cli, "top", path, "--cum", "--nodes", "all")["rows"]
    total = sum(r["flat"] for r in rows)
    biggest = max((r for r in rows if own(r["name"])), key=lambda r: r["cum"])
    assert biggest["cum"] < 0.1 * total
    lead = answers(build(run_cli, tmp_path / "s", path))[0]
    assert lead.startswith("The program's own code holds little of the CPU")
    assert biggest["name"] in lead
    assert "garbage collection 60%" in lead and "scheduling 30%" in lead


def test_mutex_names_the_caller_not_the_primitive(run_cli, tmp_path):
    b = ProfileBuilder(sample_types=[("contentions", "count"), ("delay", "nanoseconds")],
                       period_type=("contentions", "count"), period=1)
    unlock, get, main = (b.function(n, "x.go") for n in
                         ("sync.(*Mutex).Unlock", "main.(*cache).get", "main.main"))
    put = b.function("main.(*cache).put", "x.go")
    b.sample([b.location((unlock, 1)), b.location((get, 2)), b.location((main, 3))], [9, 900])
    b.sample([b.location((unlock, 1)), b.location((put, 4)), b.location((main, 3))], [1, 100])
    path = b.write(tmp_path / "mutex.pb.gz")
    holder = nearest_program_frame(path, "delay")
    lead = answers(build(run_cli, tmp_path / "s", path))[0]
    assert lead.startswith(f"{holder} holds the contended lock: 90%")
    assert "sync.(*Mutex).Unlock" in lead


def test_filtered_page_prints_active_filters(example_site, run_cli):
    """The root site.yml's last top page focuses on main.handleBefore."""
    from reportgen import units
    rows = cli_json(run_cli, "top", GATEWAY / "before" / "cpu.pb.gz", "--nodes", "all")
    cum = next(r["cum"] for r in rows["rows"] if r["name"] == "main.handleBefore")
    pages = sorted((example_site / "pages").glob("*-top.html"))
    page = pages[-1].read_text()
    assert "Active filters:" in page and "<code>focus=main\\.handleBefore</code>" in page
    assert (f"Showing {units.human(cum, 'nanoseconds')} of "
            f"{units.human(rows['total'], 'nanoseconds')} total") in page
    data = json.loads((example_site / "data" / (pages[-1].stem + ".json")).read_text())
    assert data["filters"] == ["focus=main\\.handleBefore"] and data["filtered_total"] == cum


def test_every_example_page_opens_with_an_answer(example_site):
    for page in sorted(example_site.glob("pages/*.html")):
        text = page.read_text()
        assert answers(text) and answers(text)[0], page.name
        # Readable numbers: no exponent percentages anywhere on the pages.
        assert not re.search(r"\de-\d+%", text), page.name


def test_every_filtered_page_kind_prints_its_filters(run_cli, tmp_path):
    from reportgen import units
    cpu = GATEWAY / "before" / "cpu.pb.gz"
    (tmp_path / "site.yml").write_text(
        f"sources: [{{root: {ROOT / 'examples/gateway'}, strip: example.com/gateway}}]\n"
        f"profiles:\n  cpu: {{path: {cpu}}}\n"
        "analyses:\n"
        "  - {kind: flame, profile: cpu, focus: 'main\\.handleBefore'}\n"
        "  - {kind: peek, profile: cpu, pattern: 'json', focus: 'main\\.handleBefore'}\n"
        "  - {kind: tags, profile: cpu, focus: 'main\\.handleBefore'}\n"
        "  - {kind: source, profile: cpu, pattern: '^main\\.handle', focus: 'main\\.handleBefore'}\n")
    proc = run_cli("build", tmp_path / "site.yml", "-o", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    rows = cli_json(run_cli, "top", cpu, "--nodes", "all")
    cum = next(r["cum"] for r in rows["rows"] if r["name"] == "main.handleBefore")
    showing = (f"Showing {units.human(cum, 'nanoseconds')} of "
               f"{units.human(rows['total'], 'nanoseconds')} total")
    pages = sorted((tmp_path / "out" / "pages").glob("0*.html"))
    assert [p.stem.split("-")[1] for p in pages] == ["flame", "peek", "tags", "source"]
    for page in pages:
        text = page.read_text()
        assert "Active filters:" in text and "focus=main\\.handleBefore" in text, page.name
        assert showing in text, page.name
        assert answers(text)[0].startswith("main.handleBefore holds"), page.name


def test_gc_logs_pair_before_after(run_cli, tmp_path):
    logs = ROOT / "examples" / "gcpressure" / "logs"
    index = build(run_cli, tmp_path / "s", logs / "after.log", logs / "before.log")
    assert page_titles(index) == ["GC: before.log → after.log"]
    assert answers(index)[0]  # the GC comparison's answer leads


def test_bare_build_does_not_depend_on_where_inputs_live(gateway_site, tmp_path):
    """The same files, moved with the directory the build runs in, give the same bytes
    (inputs are named relative to it)."""
    import os
    import shutil
    import subprocess
    import sys
    out, _index = gateway_site
    rel = GATEWAY.relative_to(ROOT)
    copy = shutil.copytree(GATEWAY, tmp_path / "moved" / rel)
    files = sorted(copy.glob("after/*.pb.gz")) + sorted(copy.glob("before/*.pb.gz")) + [
        copy / "bench-after.txt", copy / "bench-before.txt", copy / "escape.txt"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "reportgen", "build", *map(str, files), "-o",
                           str(tmp_path / "s")], cwd=tmp_path / "moved", env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    ours = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    theirs = sorted(p.relative_to(tmp_path / "s") for p in (tmp_path / "s").rglob("*")
                    if p.is_file())
    assert ours == theirs
    for name in ours:
        assert (out / name).read_bytes() == (tmp_path / "s" / name).read_bytes(), name


@pytest.mark.parametrize("files", [
    ["examples/gcpressure/logs/before-allocs.pb.gz", "examples/gcpressure/logs/after-allocs.pb.gz"],
    ["examples/leaky/snapshots/heap-05-20261127T004616Z.pb.gz",
     "examples/leaky/healthy/heap-05-20261127T004616Z.pb.gz"],
], ids=["gcpressure-allocs", "leaky-heaps"])
def test_example_profile_cards_name_the_hot_path(run_cli, tmp_path, files):
    paths = [ROOT / f for f in files]
    cards = card_answers(build(run_cli, tmp_path / "s", *paths))
    assert len(cards) == len(paths)
    for path, text in zip(paths, cards.values()):
        subject, cum, inside = expected_hot_path(run_cli, path)
        if cum < 0.1 * cli_json(run_cli, "top", path)["total"]:  # the program holds little
            assert text.startswith("The program's own code holds little"), (path.name, text)
            assert f"({subject} " in text, (path.name, text)
            continue
        assert text.startswith(f"{subject} holds"), (path.name, text)
        assert all(n in text for n in inside), (path.name, text)


def test_main_doing_the_work_itself_is_named(run_cli, tmp_path):
    path = _cpu(tmp_path, "cpu.pb.gz", [
        (["main.main", "runtime.main"], 900_000_000),
        (["main.helper", "main.main", "runtime.main"], 100_000_000)])
    rows = {r["name"]: r for r in cli_json(run_cli, "top", path, "--nodes", "all")["rows"]}
    lead = answers(build(run_cli, tmp_path / "s", path))[0]
    share = rows["main.main"]["flat"] / sum(r["flat"] for r in rows.values())
    assert lead.startswith("main.main holds 100% of CPU")
    assert f"in the function itself {share:.0%}" in lead and "main.helper 10%" in lead


def test_sniffing_bare_inputs_never_opens_a_fifo(tmp_path):
    import os
    import subprocess
    import sys
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    code = ("from reportgen.sources import sniff_input; import sys; "
            "print(sniff_input(sys.argv[1]))")
    proc = subprocess.run([sys.executable, "-c", code, str(fifo)], cwd=ROOT, timeout=30,
                          capture_output=True, text=True)
    assert proc.stdout.strip() == "profile"


@pytest.mark.parametrize("name, kind", [
    ("examples/gateway/profiles/bench-before.txt", "bench"),
    ("examples/gateway/profiles/escape.txt", "compiler_log"),
    ("examples/escapes/profiles/escape-json", "compiler_log"),
    ("examples/leaky/snapshots/goroutine-01-20261127T004416Z.txt", "profile"),
    ("examples/gateway/profiles/before/cpu.pb.gz", "profile")])
def test_bare_inputs_are_told_apart_by_content(name, kind, tmp_path):
    from reportgen.sources import sniff_input
    import shutil
    src = ROOT / name
    renamed = tmp_path / "input"  # content decides, not the file name
    (shutil.copytree if src.is_dir() else shutil.copy)(src, renamed)
    assert sniff_input(renamed) == kind


def test_compiler_log_alone_gives_escapes_in_file_order(run_cli, tmp_path):
    index = build(run_cli, tmp_path / "s", GATEWAY / "escape.txt")
    assert page_titles(index) == ["Escapes: escape.txt"]
    hints = cli_json(run_cli, "escapes", "--compiler-log", GATEWAY / "escape.txt",
                     "--limit", "all")["hints"]
    assert f"on {len(hints)} lines" in answers(index)[0]


def test_answer_names_are_escaped_and_isolated(run_cli, tmp_path):
    evil = "main.<script>alert(1)</script>\u202eevil"
    path = _cpu(tmp_path, "cpu.pb.gz", [([evil, "main.main"], 900_000_000),
                                        (["main.other", "main.main"], 100_000_000)])
    index = build(run_cli, tmp_path / "s", path)
    assert "<script>alert(1)" not in index and "\u202e" not in index
    lead = re.search(r'<p class="answer lead">(.*?)</p>', index, re.S)[1]
    assert lead.startswith("<bdi>main.&lt;script&gt;alert(1)&lt;/script&gt;\\u202eevil</bdi> holds")


def _human(pprof_total: str) -> tuple:
    """pprof's "1.47s" / "660ms" as our "1.47", "s" / "660", "ms"."""
    m = re.fullmatch(r"([0-9.]+)([a-zµ]+)", pprof_total)
    return m[1], m[2]


def test_normalized_diff_of_equal_durations_states_the_total_once(run_cli):
    before, after = (ROOT / "examples" / "gateway" / "profiles" / side / "cpu.pb.gz"
                     for side in ("before", "after"))
    out = run_cli("diff", before, after, "--normalize", "--mode", "base")
    assert out.returncode == 0, out.stderr
    headline = out.stdout.splitlines()[0]
    # Normalized totals are equal by construction: the real ones are said, once.
    assert headline.startswith("Normalized (pprof -normalize): ")
    assert headline.count("the real totals were") == 1 and "Total CPU" not in headline
    tops = [run_cli("top", p).stdout for p in (before, after)]
    real = [re.search(r"Total samples = (\S+)", t)[1] for t in tops]
    assert re.search(r"real totals were (\S+) (\S+) → (\S+) (\S+)", headline).groups() == (
        *_human(real[0]), *_human(real[1]))


def test_a_small_rename_does_not_lead_a_diff_whose_largest_move_is_elsewhere(run_cli):
    """The nightly example's regression night: the runtime renamed a 1% sweep
    function between the two captures, while main.canonicalSKU went 0 -> 50%
    of CPU. The new hot function comes first; the rename is said after it."""
    nights = ROOT / "examples" / "nightly" / "runs"
    base, target = nights / "2026-11-04" / "cpu.pb.gz", nights / "2026-11-05" / "cpu.pb.gz"
    if not base.exists():
        pytest.skip("needs examples/nightly/runs")
    text = run_cli("diff", base, target, "--normalize").stdout.splitlines()[0]
    rise = text.index("Biggest rise: main.canonicalSKU")
    assert "is gone and" in text and rise < text.index("is gone and")
