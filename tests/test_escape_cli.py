"""`reportgen escapes` end to end, and the escape page.

The command runs in a subprocess; a small shim registers it when
reportgen.commands.COMMANDS does not list it yet.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from profiles import HOSTILE, ProfileBuilder
from reportgen.analyze.escapes import escape_hints, run_escapes
from reportgen.render.escape_pages import escapes_page, result_dict
from reportgen.render.site import SiteWriter
from reportgen.sources import load_profile
from reportgen.sources.escapes import SourceTree, read_compiler_log

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "escapes"
PROFILE = EXAMPLE / "profiles" / "mem.pb.gz"
M2 = EXAMPLE / "profiles" / "escape-m2.txt"
THEME = ROOT / "themes" / "default"
SHIM = ("import sys, reportgen.commands as c\n"
        "'escapes' in c.COMMANDS or c.COMMANDS.append('escapes')\n"
        "from reportgen.cli import main\n"
        "raise SystemExit(main(sys.argv[1:]))\n")
FIELDS = {"rank", "file", "line", "function", "value", "share", "category", "reason",
          "suggestion"}


def escapes(*args):
    return subprocess.run([sys.executable, "-c", SHIM, "escapes", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def escapes_json(*args):
    proc = escapes(*args, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.parametrize("log", ["escape-m2.txt", "escape-json", "escape-m.txt"])
def test_example_first_hint_is_the_culprit(log):
    data = escapes_json(PROFILE, "--compiler-log", EXAMPLE / "profiles" / log,
                        "--source-root", EXAMPLE, "--limit", "all")
    hints = data["hints"]
    assert all(FIELDS <= set(h) for h in hints)
    assert [h["rank"] for h in hints] == list(range(1, len(hints) + 1))
    assert [h["value"] for h in hints] == sorted((h["value"] for h in hints), reverse=True)
    first, second = hints[0], hints[1]
    assert (Path(first["file"]).name, first["line"], first["category"]) == ("adserver.go", 89,
                                                                            "growth")
    assert first["function"] == "example.com/adserver.(*Server).match"
    assert first["share"] > 0.9
    assert "make([]int32, 0, 8)" in first["suggestion"]
    assert "make([]int32, 0, n)" in first["suggestion"]
    assert (Path(second["file"]).name, second["line"]) == ("adserver.go", 73)
    assert "moved to heap: req" in second["reason"]
    assert second["value"] == 2000 * 40960          # one 40 kB object per request
    if log != "escape-m.txt":                        # the flow says why: an interface call
        assert second["category"] == "interface"
        assert "*BidRequest" in second["suggestion"]
        assert "s.dec.Decode(msg, &req)" in second["reason"]
    assert first["source"]["lines"][3] == [89, "\t\t\teligible = append(eligible, int32(i))"]


def test_text_output_with_source():
    proc = escapes(PROFILE, "--compiler-log", M2, "--source-root", EXAMPLE, "--limit", "2")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.startswith("Allocation hints for ")
    assert re.search(r"^  1\.\s+92\.\d\d%.*adserver\.go:89", out, re.M)
    assert ">   89 |             eligible = append(eligible, int32(i))" in out
    assert "[Slice growth]" in out and "[Interface conversion]" in out
    assert "  3. " not in out


def test_compiler_log_alone_is_unranked():
    data = escapes_json("--compiler-log", EXAMPLE / "profiles" / "escape-json")
    assert data["profile"] is None and data["hints"]
    assert all(h["share"] is None for h in data["hints"])
    lines = [h["line"] for h in data["hints"]]
    assert lines == sorted(lines) and {73, 89} <= set(lines)


def test_profile_alone_and_other_sample_types():
    data = escapes_json(PROFILE, "--sample-index", "alloc_objects")
    assert data["sample_index"] == "alloc_objects" and data["unit"] == "count"
    assert data["notes"] and "No compiler log" in data["notes"][0]
    assert (Path(data["hints"][0]["file"]).name, data["hints"][0]["line"]) == ("adserver.go", 89)


@pytest.mark.parametrize("args,message", [
    ([], "give a profile, --compiler-log FILE|DIR, or both"),
    (["nope.pb.gz"], "nope.pb.gz: no such file"),
    ([ROOT / "examples/gateway/profiles/before/cpu.pb.gz"], "not a heap or allocs profile"),
    ([PROFILE, "--sample-index", "delay"], "no sample type 'delay'"),
    ([PROFILE, "--compiler-log", "missing-log.txt"], "missing-log.txt: no such file"),
    ([PROFILE, "--compiler-log", PROFILE], "binary data, not a compiler log"),
    ([PROFILE, "--source-root", "/nonexistent"],
     "/nonexistent: --source-root: expected an existing directory (does not exist)"),
    ([PROFILE, "--source-root", "x=/nonexistent/y"], "/nonexistent/y: --source-root"),
    ([PROFILE, "--source-root", EXAMPLE, "--source-root", PROFILE],
     f"{PROFILE}: --source-root: expected an existing directory (is a file)"),
])
def test_errors_are_one_line_and_exit_2(args, message):
    proc = escapes(*args)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("reportgen: ")
    assert message in proc.stderr


def render(result, tmp_path, slug="01-escapes", manifest=None):
    writer = SiteWriter(THEME, "Escapes")
    summary = escapes_page(writer, slug, "Escapes", result, {}, manifest, None)
    writer.files["index.html"] = "<!doctype html>"
    site = writer.write(tmp_path / "site")
    return summary, (site / "pages" / f"{slug}.html").read_text(), site


def test_page_answer_table_and_details(tmp_path):
    result = escape_hints(load_profile(PROFILE), read_compiler_log(M2), None,
                          SourceTree([EXAMPLE]))
    summary, html, site = render(result, tmp_path)
    from reportgen import units
    top = result.hints[0]
    assert summary.startswith(f"{units.human_percent(top.value, result.total)} of alloc_space "
                              f"({units.human(top.value, result.unit)}) is allocated at "
                              f"adserver.go:89")
    assert summary.startswith("92.4% of alloc_space (957 MB)")  # readable, per value
    assert f'<p class="answer">{summary}</p>' in html.replace("&#39;", "'")
    assert html.count('<tr id="hint-') == len(result.hints)
    assert html.count("<details open>") == 1           # the first hint is open
    assert 'class="hit">   89  \t\t\teligible = append(eligible, int32(i))</span>' in html
    assert "flow: {heap} ← &amp;req" in html
    data = json.loads((site / "data" / "01-escapes.json").read_text())
    expected = json.loads(json.dumps(result_dict(result)))
    for key in ("profile", "compiler_log"):   # shown relative, not as the builder's paths
        shown, full = data.pop(key), expected.pop(key)
        assert not Path(shown).is_absolute() and Path(shown).name == Path(full).name
    assert data == expected
    log_only = escape_hints(None, read_compiler_log(M2))
    _, html, _ = render(log_only, tmp_path / "b")
    assert "<th class=\"num\">share</th>" not in html and 'id="hint-1"' in html


def test_page_escapes_hostile_names(tmp_path):
    b = ProfileBuilder(sample_types=[("alloc_objects", "count"), ("alloc_space", "bytes")])
    for i, text in enumerate(HOSTILE):
        fn = b.function(f"example.com/x.F{i}", f"example.com/x/{text}.go")
        b.sample([b.location((fn, 10 + i))], [1, 100 + i])
    path = b.write(tmp_path / "hostile.pb.gz")
    log = tmp_path / "m.txt"
    log.write_text("".join(f"./{t}.go:{10 + i}:2: moved to heap: {t}\n"
                           for i, t in enumerate(HOSTILE)))
    result = escape_hints(load_profile(path), read_compiler_log(log))
    assert len(result.hints) == len(HOSTILE)
    _, html, site = render(result, tmp_path)
    for text in HOSTILE:
        if "<" in text or '"' in text:
            assert text not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "moved to heap: {{ 7*7 }}" in html          # shown as data, never evaluated
    assert "&amp;amp;" in html


def test_manifest_runner_takes_the_sites_source_roots(tmp_path):
    options = {"profile": "mem", "compiler_log": M2, "sample_index": None, "path_map": None,
               "limit": 50}
    result = run_escapes(options, {"mem": load_profile(PROFILE)}, {"mem": None})
    assert result.hints[0].snippet is None and result.hints[0].line == 89

    class Manifest:
        sources = [{"root": str(EXAMPLE), "strip": ""}]

    _, html, _ = render(result, tmp_path, manifest=Manifest())
    assert html.count('class="hit"') == len(result.hints)
    assert "a method taking *BidRequest" in html     # the source line names the type


def test_manifest_build_when_wired(tmp_path):
    from reportgen import manifest
    if "escapes" not in manifest.ANALYSES:
        pytest.skip("the escapes analysis is not wired into the manifest yet")
    from reportgen.build import build_site
    m = manifest.load_manifest(EXAMPLE / "site.yml")
    site = build_site(m, tmp_path / "site", m.max_decompressed)
    page = next((site / "pages").glob("*-escapes.html")).read_text()
    assert "adserver.go:89" in page
