"""The report site: complete, self-contained, deterministic, safe to rebuild."""

import json
import re
from html.parser import HTMLParser
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
OUTSIDE_REF = re.compile(r"""(?:src|href|xlink:href|action)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?(?:https?:)?//|@import""", re.I)


def build(run_cli, *args):
    proc = run_cli("build", *args)
    assert proc.returncode == 0, proc.stderr
    return proc


def site_files(site: Path):
    return sorted(p for p in site.rglob("*") if p.is_file())


def test_example_site_has_index_pages_and_data(example_site):
    names = {p.relative_to(example_site).as_posix() for p in site_files(example_site)}
    assert "index.html" in names
    analyses = sorted(n for n in names if re.fullmatch(r"pages/\d\d-[a-z]+\.html", n))
    from reportgen.manifest import load_manifest
    kinds = [a.kind for a in load_manifest(ROOT / "site.yml").analyses]
    assert [Path(n).stem.split("-")[1] for n in analyses] == kinds
    profiles = sorted(n for n in names if re.fullmatch(r"pages/profile-[^/]*[0-9a-f]\.html", n))
    assert len(profiles) == 6  # one per profile in site.yml
    for page in profiles:
        stem = Path(page).stem
        assert f"pages/{stem}-calls.html" in names
    # Each flame graph once: inline in its page, no standalone copies unless asked.
    assert not [n for n in names if n.startswith("flame/")]
    assert {"assets/report.css", "assets/report.js"} <= names
    tops = [a for a in load_manifest(ROOT / "site.yml").analyses if a.kind == "top"]
    for page, top in zip([n for n in analyses if n.endswith("-top.html")], tops):
        has_calls = page.replace(".html", "-calls.html") in names
        assert has_calls == (top.options["granularity"] == "functions"), page
    for page in analyses + profiles:
        stem = Path(page).stem
        assert f"data/{stem}.json" in names
        data = json.loads((example_site / "data" / f"{stem}.json").read_text())
        if data.get("kind") == "bench":
            assert data["units"]
            continue
        if data.get("kind") == "tags":
            assert data["keys"] and data["keys"][0]["values"]
            continue
        if data.get("kind") == "escapes":
            assert data["hints"]
            continue
        if "files" in data:  # a source listing
            assert data["files"] and all(f["lines"] for f in data["files"])
            continue
        table = data["table"] if data.get("kind") == "diff" else data
        assert {"sample_index", "unit", "total", "rows"} <= table.keys()


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs = []

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ("src", "href", "xlink:href", "action", "poster", "data") and v:
                self.refs.append(v)


def test_no_file_references_anything_outside_the_site(example_site):
    for path in site_files(example_site):
        text = path.read_text(encoding="utf-8")
        assert not OUTSIDE_REF.search(text), path
        if path.suffix == ".html":
            parser = _Refs()
            parser.feed(text)
            for ref in parser.refs:
                if ref.startswith("#"):
                    continue
                assert ":" not in ref.split("/")[0], (path, ref)
                target = (path.parent / ref.split("#")[0]).resolve()
                assert target.is_relative_to(example_site.resolve()), (path, ref)
                assert target.exists(), (path, ref)


def test_same_inputs_give_byte_identical_sites(run_cli, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    build(run_cli, "site.yml", "-o", a)
    build(run_cli, "site.yml", "-o", b)
    files_a = [p.relative_to(a) for p in site_files(a)]
    assert files_a == [p.relative_to(b) for p in site_files(b)]
    for rel in files_a:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel


def test_bare_profiles_get_a_default_report(run_cli, tmp_path):
    before = ROOT / "examples/gateway/profiles/before/heap.pb.gz"
    after = ROOT / "examples/gateway/profiles/after/heap.pb.gz"
    out = tmp_path / "out"
    build(run_cli, before, after, "-o", out, "--flame-files")
    index = (out / "index.html").read_text()
    assert "before-heap" in index and "after-heap" in index
    # Two profiles of one kind: the default report compares them.
    diff = json.loads(next((out / "data").glob("*-diff.json")).read_text())
    assert (diff["base"], diff["target"]) == ("before-heap", "after-heap")
    assert len(list((out / "flame").glob("*.svg"))) == 5  # 2 per profile, 1 for the diff
    for page in (out / "pages").glob("*.html"):  # every page links its copies
        text = page.read_text()
        for ref in re.findall(r'href="\.\./(flame/[^"]+)"', text):
            assert (out / ref).is_file(), (page, ref)
    linked = {ref for p in (out / "pages").glob("*.html")
              for ref in re.findall(r'href="\.\./(flame/[^"]+)"', p.read_text())}
    assert len(linked) == 5


def test_rebuild_replaces_only_an_earlier_report(run_cli, tmp_path):
    out = tmp_path / "site"
    build(run_cli, "site.yml", "-o", out)
    (out / "stale.html").write_text("old")
    build(run_cli, "site.yml", "-o", out)
    assert not (out / "stale.html").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".site.")]


def test_refuses_to_replace_a_directory_that_is_not_a_report(run_cli, tmp_path):
    precious = tmp_path / "home"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    proc = run_cli("build", "site.yml", "-o", precious)
    assert proc.returncode == 2
    assert "refusing to replace" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert (precious / "thesis.tex").read_text() == "years of work"


def test_failed_build_leaves_the_earlier_report_untouched(run_cli, tmp_path):
    out = tmp_path / "site"
    good = ROOT / "examples/gateway/profiles/before/cpu.pb.gz"
    build(run_cli, good, "-o", out)
    snapshot = {p: p.read_bytes() for p in site_files(out)}
    broken = tmp_path / "broken.pb.gz"
    broken.write_bytes(good.read_bytes()[:200])
    proc = run_cli("build", good, broken, "-o", out)
    assert proc.returncode == 2
    assert str(broken) in proc.stderr and "Traceback" not in proc.stderr
    assert {p: p.read_bytes() for p in site_files(out)} == snapshot
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.pb.gz", "site"]


def test_hostile_names_render_as_text(run_cli, tmp_path, hostile_profile):
    out = tmp_path / "site"
    build(run_cli, hostile_profile, "-o", out)
    for path in site_files(out):
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".json":
            json.loads(text)  # still valid JSON, names carried as data
            continue
        for bad in ("<script>alert", "<img src=x", "onerror=alert(1)>"):
            assert bad not in text, (path, bad)
        # Every script element is one of ours: the page's code and, in a flame
        # graph, its code and its data; a name never opens or closes one.
        opened = len(re.findall(r"<script\b", text))
        assert opened == text.count("</script>"), path
        assert opened <= 1 + 2 * text.count('class="rgflame"') + 2, path
    index = (out / "index.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in index
    assert "main.render{{ 7*7 }}" in index  # template syntax in a name is not evaluated
    names = "\n".join(row["name"] for p in (out / "data").glob("*.json")
                      for row in json.loads(p.read_text()).get("rows", []))
    assert "</script><script>alert(2)</script>" in names  # kept verbatim, as data
