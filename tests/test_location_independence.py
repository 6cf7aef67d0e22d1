"""The report does not depend on where its inputs live: the same inputs built
from two directories (and two working directories) give byte-identical trees,
with no absolute path of the builder's in any file."""

from __future__ import annotations

import filecmp
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from profiles import basic_builder

ROOT = Path(__file__).resolve().parent.parent


def build(manifest: Path, out: Path, cwd: Path):
    proc = subprocess.run([sys.executable, "-m", "reportgen", "build", str(manifest), "-o",
                           str(out)], cwd=cwd, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr


def tree(d: Path) -> list[str]:
    return sorted(str(p.relative_to(d)) for p in d.rglob("*"))


def assert_identical(a: Path, b: Path, *hidden: Path):
    assert tree(a) == tree(b)
    files = [rel for rel in tree(a) if (a / rel).is_file()]
    match, mismatch, errors = filecmp.cmpfiles(a, b, files, shallow=False)
    assert mismatch == [] and errors == []
    for rel in files:
        text = (a / rel).read_text(errors="replace")
        for h in hidden:
            assert str(h) not in text, (rel, h)


def test_example_built_from_two_places_is_byte_identical(tmp_path):
    one = tmp_path / "one"
    two = tmp_path / "elsewhere" / "deeper" / "two"
    for d in (one, two):
        d.mkdir(parents=True)
        shutil.copy(ROOT / "site.yml", d)
        shutil.copytree(ROOT / "examples", d / "examples")
    build(Path("site.yml"), Path("out"), cwd=one)           # relative, from its directory
    build(two / "site.yml", two / "out", cwd=tmp_path)      # absolute, from somewhere else
    assert_identical(one / "out", two / "out", tmp_path, ROOT)


@pytest.mark.slow
@pytest.mark.parametrize("example", sorted(p.parent.name for p in (ROOT / "examples").glob(
    "*/site.yml")))
def test_every_example_built_from_two_places_is_byte_identical(tmp_path, example):
    one = tmp_path / "one"
    two = tmp_path / "elsewhere" / "two"
    for d in (one, two):
        shutil.copytree(ROOT / "examples" / example, d / example)
    build(Path(example) / "site.yml", Path("out"), cwd=one)
    build(two / example / "site.yml", two / "out", cwd=ROOT)
    assert_identical(one / "out", two / "out", tmp_path, ROOT)


def test_missing_source_says_what_was_tried_relative_to_the_manifest(tmp_path):
    outs = []
    for name in ("a", "b/c"):
        d = tmp_path / name
        (d / "src").mkdir(parents=True)
        basic_builder().write(d / "p.pb.gz")
        (d / "site.yml").write_text(
            "sources: [{root: src, strip: /src}]\n"
            "profiles:\n  p: {path: p.pb.gz}\n"
            "analyses:\n  - {kind: source, profile: p, pattern: main.parse}\n")
        build(d / "site.yml", d / "out", cwd=ROOT)
        outs.append(d / "out")
    page = (outs[0] / "pages" / "01-source.html").read_text()
    assert "source not found: tried src/parse.go" in page
    assert_identical(*outs, tmp_path)
