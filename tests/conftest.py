"""Fixtures shared by the test suite."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TESTDATA = ROOT.parent / "shared" / "pprof-testdata"

sys.path.insert(0, str(Path(__file__).resolve().parent))  # so tests can `import profiles`

from profiles import hostile_builder  # noqa: E402


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def testdata() -> Path:
    """google/pprof's test corpus, ../shared/pprof-testdata; skips when absent."""
    if not TESTDATA.is_dir():
        pytest.skip(f"pprof test corpus not found at {TESTDATA}")
    return TESTDATA


@pytest.fixture(scope="session")
def run_cli():
    """run_cli(*args) runs `python -m reportgen *args` from the repo root."""
    def run(*args, timeout=120) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "reportgen", *map(str, args)],
                              cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    return run


@pytest.fixture(scope="session")
def example_site(tmp_path_factory) -> Path:
    """The root site.yml's report, built once for every test that only reads it."""
    out = tmp_path_factory.mktemp("example") / "site"
    subprocess.run([sys.executable, "-m", "reportgen", "build", "site.yml", "-o", str(out)],
                   cwd=ROOT, check=True, capture_output=True)
    return out


@pytest.fixture
def hostile_profile(tmp_path) -> Path:
    """A heap profile whose names, files, labels and mapping carry markup and
    template syntax (tests/profiles.py HOSTILE), with inlined frames and
    alloc_objects/count + alloc_space/bytes."""
    return hostile_builder().write(tmp_path / "hostile.pb.gz")
