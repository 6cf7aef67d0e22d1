"""site.yml loading: defaults, and one precise error (path:line: key: expectation) per mistake."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from reportgen.errors import ManifestError, ProfileError
from reportgen.manifest import (ANALYSES, FILTERS, THEMES_DIR, Analysis, Manifest, _Checker,
                                default_manifest, load_manifest)

ROOT = Path(__file__).resolve().parent.parent

NO_FILTERS = dict.fromkeys(FILTERS)  # every filter option, unset


@pytest.fixture
def site(tmp_path):
    """site(yaml_text) writes site.yml (and two profiles beside it) and returns its path."""
    (tmp_path / "prof").mkdir()
    (tmp_path / "prof" / "cpu-before.pb.gz").write_bytes(b"x")
    (tmp_path / "prof" / "cpu-after.pb.gz").write_bytes(b"x")

    def write(text: str) -> Path:
        p = tmp_path / "site.yml"
        p.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return p
    return write


PROFILES = """
profiles:
  before:
    path: prof/cpu-before.pb.gz
  after:
    path: prof/cpu-after.pb.gz
"""


def error(path) -> ManifestError:
    with pytest.raises(ManifestError) as e:
        load_manifest(path)
    return e.value


def make_theme(path: Path) -> Path:
    """A theme directory: a copy of the bundled default."""
    shutil.copytree(THEMES_DIR / "default", path)
    return path


def test_full_manifest(site, tmp_path):
    theme = make_theme(tmp_path / "mytheme")
    m = load_manifest(site("""
        title: "Gateway before/after"
        notes: |
          # Findings
          The *fix* helps.
        theme: ./mytheme
        output: out/site
        max_decompressed: 512M
        profiles:
          cpu-before:
            path: prof/cpu-before.pb.gz
            title: "CPU, before the fix"
            labels: {env: staging, build: 1.20, canary: true}
            sample_index: cpu
          cpu-after:
            path: prof/cpu-after.pb.gz
        analyses:
          - kind: top
            title: Hot functions
            profile: cpu-before
            sample_index: cpu
            granularity: lines
            cum: true
            nodes: 50
          - kind: diff
            base: cpu-before
            target: cpu-after
            sample_index: 1
            nodes: all
            normalize: yes
            mode: base
        """))
    assert isinstance(m, Manifest)
    assert m.path == tmp_path / "site.yml" and m.base_dir == tmp_path
    assert m.title == "Gateway before/after"
    assert m.notes == "# Findings\nThe *fix* helps.\n"
    assert m.theme_dir == theme
    assert m.output == tmp_path / "out" / "site"
    assert m.max_decompressed == 512 << 20
    before = m.profiles["cpu-before"]
    assert before.path == tmp_path / "prof" / "cpu-before.pb.gz" and before.path.is_absolute()
    assert before.title == "CPU, before the fix"
    assert before.labels == {"env": "staging", "build": "1.20", "canary": "true"}
    assert before.sample_index == "cpu" and before.line == 9
    assert list(m.profiles) == ["cpu-before", "cpu-after"]
    top, diff = m.analyses
    assert top == Analysis("top", "Hot functions", {
        "profile": "cpu-before", "sample_index": "cpu", "granularity": "lines", "cum": True,
        "nodes": 50, **NO_FILTERS}, 17, 0)
    assert diff == Analysis("diff", None, {
        "base": "cpu-before", "target": "cpu-after", "sample_index": "1",
        "granularity": "functions", "nodes": "all", "normalize": True, "mode": "base",
        "base_count": None, "target_count": None}, 24, 1)


def test_defaults(site, tmp_path):
    m = load_manifest(site(PROFILES + """
analyses:
  - kind: top
    profile: after
  - kind: diff
    base: before
    target: after
"""))
    assert m.title == "Profile report" and m.notes is None
    assert m.theme_dir == THEMES_DIR / "default"
    assert m.output == tmp_path / "site"
    assert m.max_decompressed == 1 << 30
    assert m.profiles["before"].title == "before"
    assert m.profiles["before"].labels == {} and m.profiles["before"].sample_index is None
    assert m.analyses[0].options == {"profile": "after", "sample_index": None,
                                     "granularity": "functions", "cum": False, "nodes": 100,
                                     **NO_FILTERS}
    assert m.analyses[1].options == {"base": "before", "target": "after", "sample_index": None,
                                     "granularity": "functions", "nodes": 100,
                                     "normalize": False, "mode": "diff_base",
                                     "base_count": None, "target_count": None}
    assert m.analyses[0].title is None


def test_empty_manifest_is_all_defaults(site):
    m = load_manifest(site(""))
    assert m.profiles == {} and m.analyses == [] and m.title == "Profile report"


def test_max_decompressed_forms(site):
    for text, want in [("1G", 1 << 30), ("64k", 64 << 10), ("2MiB", 2 << 20), ("1000", 1000)]:
        assert load_manifest(site(f"max_decompressed: {text}\n")).max_decompressed == want


def test_every_option_names_a_check():
    assert set(ANALYSES) >= {"top", "diff"}
    for row in ANALYSES.values():
        for opt in row.values():
            assert isinstance(opt.check, tuple) or callable(getattr(_Checker, opt.check))


def test_missing_manifest(tmp_path):
    e = error(tmp_path / "nope.yml")
    assert e.line is None and str(e) == f"{tmp_path / 'nope.yml'}: no such file"


def test_error_message_format(site):
    p = site(PROFILES + """analyses:
  - kind: top
    profile: before
  - kind: flme
""")
    e = error(p)
    assert str(e) == (f"{p}:9: analyses[1].kind: expected one of {', '.join(ANALYSES)} (got 'flme')")
    assert e.path == str(p) and e.line == 9


@pytest.mark.parametrize("text, line, needles", [
    # YAML syntax: the line comes from the parser's mark.
    ("title: x\nprofiles:\n  a: [1, 2\n", None, ["invalid YAML"]),
    ("title: x\nnotes: a: b\n", 2, ["invalid YAML", "mapping values are not allowed"]),
    ("title: x\n\tnotes: y\n", 2, ["invalid YAML"]),
    # Unknown keys, naming the allowed ones.
    ("title: x\ntheme_dir: y\n", 2, ["theme_dir: unknown key", "allowed: title, notes"]),
    (PROFILES + "    colour: red\n", 6, ["profiles.after.colour: unknown key",
                                         "allowed: path, title, labels, sample_index"]),
    (PROFILES + "analyses:\n  - kind: top\n    profile: before\n    mode: base\n", 9,
     ["analyses[0].mode: unknown key for kind top", "allowed: kind, title, profile"]),
    # Wrong types.
    ("title: [a, b]\n", 1, ["title: expected a string (got a list)"]),
    ("title: 2024\n", 1, ["title: expected a string (got integer 2024; quote it)"]),
    ("profiles: [a]\n", 1, ["profiles: expected a mapping (got a list)"]),
    ("profiles:\n  a: a.pb.gz\n", 2, ["profiles.a: expected a mapping (got 'a.pb.gz')"]),
    (PROFILES + "    labels: {env: [a]}\n", 6, ["profiles.after.labels.env: expected a string"]),
    (PROFILES + "analyses: {kind: top}\n", 6, ["analyses: expected a list (got a mapping)"]),
    (PROFILES + "analyses:\n  - top\n", 7, ["analyses[0]: expected a mapping (got 'top')"]),
    (PROFILES + "analyses:\n  - kind: top\n    profile: before\n    cum: 'no'\n", 9,
     ["analyses[0].cum: expected true or false (got 'no')"]),
    (PROFILES + "analyses:\n  - kind: top\n    profile: before\n    nodes: 0\n", 9,
     ["analyses[0].nodes: expected a positive integer or 'all' (got integer 0)"]),
    ("max_decompressed: 1.5G\n", 1, ["max_decompressed: expected a positive byte count",
                                     "(got '1.5G')"]),
    ("title: !!python/object/apply:os.system [echo hi]\n", 1, ["title: expected a string"]),
    # Bad enum values.
    (PROFILES + "analyses:\n  - kind: top\n    profile: before\n    granularity: funcs\n", 9,
     ["analyses[0].granularity: expected one of functions, filefunctions, lines, files",
      "(got 'funcs')"]),
    (PROFILES + "analyses:\n  - {kind: diff, base: before, target: after, mode: delta}\n", 7,
     ["analyses[0].mode: expected one of diff_base, base (got 'delta')"]),
    # Missing required keys: the line of the mapping that lacks them.
    ("profiles:\n  a:\n    title: A\n", 3, ["profiles.a: missing required key 'path'"]),
    (PROFILES + "analyses:\n  - title: x\n", 7, ["analyses[0]: missing required key 'kind'",
                                                 "one of " + ", ".join(ANALYSES)]),
    (PROFILES + "analyses:\n  - kind: diff\n    base: before\n", 7,
     ["analyses[0]: missing required key 'target' for kind diff"]),
    # Missing files, relative to the manifest's directory.
    ("profiles:\n  a:\n    path: prof/gone.pb.gz\n", 3,
     ["profiles.a.path: expected an existing file (got 'prof/gone.pb.gz'", "does not exist"]),
    ("profiles:\n  a:\n    path: prof\n", 3, ["profiles.a.path: expected an existing file",
                                             "is a directory"]),
    ("notes_file: notes.md\n", 1, ["notes_file: expected an existing file", "notes.md"]),
    ("theme: nosuchtheme\n", 1, ["theme: expected a theme name", "(got 'nosuchtheme'"]),
    ("theme: ./nodir\n", 1, ["theme: expected", "nodir is not a directory"]),
    # Undefined profile names.
    (PROFILES + "analyses:\n  - kind: top\n    profile: befor\n", 8,
     ["analyses[0].profile: expected a profile name one of before, after (got 'befor')"]),
    ("analyses:\n  - {kind: top, profile: cpu}\n", 2,
     ["analyses[0].profile: expected a profile name", "the manifest has none", "(got 'cpu')"]),
    (PROFILES + "analyses:\n  - kind: diff\n    base: before\n    target: nope\n", 9,
     ["analyses[0].target: expected a profile name"]),
    # Duplicate names and keys.
    (PROFILES + "  before:\n    path: prof/cpu-after.pb.gz\n", 6,
     ["profiles.before: duplicate key", "first on line 2"]),
    (PROFILES + "  Before:\n    path: prof/cpu-after.pb.gz\n", 6,
     ["profiles.Before: expected a unique name", "'before' on line 2"]),
    ("title: a\ntitle: b\n", 2, ["title: duplicate key", "first on line 1"]),
    # Other checks.
    ("profiles:\n  -bad:\n    path: prof/cpu-after.pb.gz\n", 2,
     ["profiles.-bad: expected a name of letters"]),
    ("notes: hi\nnotes_file: n.md\n", 2, ["notes_file: expected either notes or notes_file"]),
    ("output: [a]\n", 1, ["output: expected a string (got a list)"]),
    ("- a\n- b\n", 1, ["top level: expected a mapping (got a list)"]),
])
def test_errors(site, text, line, needles):
    e = error(site(text))
    msg = str(e)
    if line is not None:
        assert e.line == line, msg
        assert msg.startswith(f"{e.path}:{line}: "), msg
    for needle in needles:
        assert needle in msg, msg


def test_yaml_error_line_is_the_parsers(site):
    e = error(site("title: x\nprofiles:\n  a: [1, 2\n"))
    assert e.line == 4 and "invalid YAML" in e.reason  # unclosed flow sequence ends at EOF


def test_non_utf8_manifest(tmp_path):
    p = tmp_path / "site.yml"
    p.write_bytes(b"title: ok\nnotes: \xff\n")
    e = error(p)
    assert e.line == 2 and "UTF-8" in e.reason


def test_notes_file(site, tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.md").write_text("# Über\n\nDetails.\n", encoding="utf-8")
    m = load_manifest(site("notes_file: docs/notes.md\n"))
    assert m.notes == "# Über\n\nDetails.\n"


def test_notes_file_not_utf8(site, tmp_path):
    (tmp_path / "n.md").write_bytes(b"\xff\xfe")
    e = error(site("title: t\nnotes_file: n.md\n"))
    assert e.line == 2 and "notes_file: expected a UTF-8" in e.reason


def test_theme_by_path_and_by_local_name(site, tmp_path):
    make_theme(tmp_path / "themes" / "dark")
    assert load_manifest(site("theme: themes/dark\n")).theme_dir == tmp_path / "themes" / "dark"
    make_theme(tmp_path / "plain")
    # A bare name that exists beside the manifest is a path, not a bundled theme.
    assert load_manifest(site("theme: plain\n")).theme_dir == tmp_path / "plain"
    absolute = make_theme(tmp_path / "abs-theme")
    assert load_manifest(site(f"theme: {absolute}\n")).theme_dir == absolute


def test_theme_by_bundled_name(site):
    if not (THEMES_DIR / "default").is_dir():
        pytest.skip("themes/default not present yet")
    assert load_manifest(site("theme: default\n")).theme_dir == THEMES_DIR / "default"


def test_default_manifest(tmp_path, monkeypatch):
    for d in ("before", "after", "x"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "cpu.pb.gz").write_bytes(b"x")
    (tmp_path / "heap profile.pprof").write_bytes(b"x")
    monkeypatch.chdir(tmp_path)
    paths = ["before/cpu.pb.gz", "after/cpu.pb.gz", "heap profile.pprof"]
    m = default_manifest(paths, None)
    assert list(m.profiles) == ["before-cpu", "after-cpu", "heap-profile"]
    assert default_manifest(paths, None).profiles == m.profiles  # deterministic
    assert m.profiles["before-cpu"].path == tmp_path / "before" / "cpu.pb.gz"
    assert m.title == "Profile report" and m.path is None
    assert m.theme_dir == THEMES_DIR / "default"
    assert m.output == tmp_path / "site"
    # Each profile's own page (flame graphs, top functions) comes from build.py.
    assert m.analyses == []
    assert default_manifest(paths, "out").output == tmp_path / "out"
    # The same file twice, or clashing names in same-named directories, still get unique names.
    names = list(default_manifest(["x/cpu.pb.gz"] * 3).profiles)
    assert names == ["x-cpu", "x-cpu-2", "x-cpu-3"]


def test_default_manifest_missing_file(tmp_path):
    with pytest.raises(ProfileError) as e:
        default_manifest([str(tmp_path / "gone.pb.gz")], None)
    assert e.value.reason == "no such file" and e.value.path == str(tmp_path / "gone.pb.gz")


@pytest.mark.parametrize("theme", ["/", "./t"])
def test_a_directory_that_is_not_a_theme_is_a_manifest_error(site, tmp_path, theme):
    (tmp_path / "t").mkdir()
    e = error(site(f"title: x\ntheme: {theme}\n"))
    assert e.line == 2 and "theme: expected a theme directory" in e.reason
    assert "lacks base.html.j2" in e.reason


@pytest.mark.parametrize("file, content, problem", [
    ("style.css", b"\xff\xfe", "style.css is not UTF-8 text"),
    ("flame.js", b"var s = ']]>';", "flame.js contains ']]>'"),
])
def test_a_theme_file_that_cannot_be_inlined_is_a_manifest_error(site, tmp_path, file, content,
                                                                  problem):
    (make_theme(tmp_path / "t") / file).write_bytes(content)
    e = error(site("theme: ./t\n"))
    assert e.line == 1 and problem in e.reason


def test_a_theme_path_too_long_is_a_manifest_error(site):
    e = error(site("title: x\ntheme: " + "t" * 300 + "\n"))
    assert e.line == 2 and "File name too long" in e.reason


def test_a_theme_missing_one_file_names_it(site, tmp_path):
    (make_theme(tmp_path / "t") / "flame.js").unlink()
    e = error(site("theme: ./t\n"))
    assert e.line == 1 and e.reason.endswith("which lacks flame.js)")


@pytest.mark.parametrize("case", ["theme-tmp", "theme-without-files"])
def test_fuzz_theme_cases(case):
    path = ROOT.parent / "shared" / "cases" / "fuzz" / "site_yml" / case / "s.yml"
    if not path.is_file():
        pytest.skip(f"{path} not present")
    e = error(path)
    assert e.line == 1 and "theme: expected a theme directory" in e.reason
