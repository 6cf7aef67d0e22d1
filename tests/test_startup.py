"""Commands import what they use, when they use it: `top` on a profile loads no chart,
Markdown, template or YAML library; a one-profile build draws no chart and renders no
notes, so it loads neither pygal nor Markdown (and with one batch of work, no
process pool); `bench` reads no protobuf; a history
site rebuilt with no new run keeps its index and charts and loads neither pygal nor
Jinja2."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROFILE = ROOT / "examples" / "gateway" / "profiles" / "before" / "cpu.pb.gz"
BENCH = ROOT / "examples" / "gateway" / "profiles"

PROBE = """
import json, sys
from reportgen.cli import main
import io, contextlib
with contextlib.redirect_stdout(io.StringIO()):
    code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(m for m in sys.modules if "." not in m)}))
"""


def modules_after(*args):
    r = subprocess.run([sys.executable, "-c", PROBE, *map(str, args)], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.splitlines()[-1])
    assert out["code"] == 0
    return set(out["modules"])


def test_top_loads_only_the_profile_reader():
    loaded = modules_after("top", PROFILE)
    assert {"numpy", "google"} <= loaded
    assert not loaded & {"pygal", "markdown", "jinja2", "yaml", "scipy"}


def test_a_one_profile_build_loads_no_chart_or_markdown(tmp_path):
    loaded = modules_after("build", PROFILE, "-o", tmp_path / "site")
    assert "jinja2" in loaded
    assert not loaded & {"pygal", "markdown", "scipy"}


def test_one_batch_of_work_starts_no_process_pool(tmp_path):
    # --jobs 2 with one profile (or one new history run): one batch, run in
    # the caller, so multiprocessing is not even imported
    loaded = modules_after("build", PROFILE, "-o", tmp_path / "site", "--jobs", "2")
    assert "multiprocessing" not in loaded


def test_bench_loads_no_profile_reader():
    loaded = modules_after("bench", BENCH / "bench-before.txt", BENCH / "bench-after.txt")
    assert not loaded & {"google", "pygal", "jinja2", "markdown", "yaml"}


@pytest.mark.parametrize("notes", [True, False])
def test_markdown_is_there_when_the_notes_need_it(tmp_path, notes):
    site = tmp_path / "site.yml"
    site.write_text(json.dumps({
        "title": "t", **({"notes": "**bold** note"} if notes else {}),
        "profiles": {"cpu": {"path": str(PROFILE)}},
        "analyses": [{"kind": "flame", "profile": "cpu"}]}))
    loaded = modules_after("build", site, "-o", tmp_path / "out")
    assert ("markdown" in loaded) == notes


def test_an_unchanged_history_rebuild_draws_no_chart(tmp_path):
    nights = ROOT / "examples" / "nightly" / "runs"
    if not nights.is_dir():
        pytest.skip("needs examples/nightly/runs")
    runs = tmp_path / "runs"
    for night in sorted(nights.iterdir())[:2]:
        shutil.copytree(night, runs / night.name)
    first = modules_after("history", runs, "-o", tmp_path / "site", "--jobs", "1")
    assert "pygal" in first
    again = modules_after("history", runs, "-o", tmp_path / "site", "--jobs", "1")
    assert not again & {"pygal", "jinja2", "markdown", "scipy"}
