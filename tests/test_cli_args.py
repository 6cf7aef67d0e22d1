"""Option values that would reach arithmetic as NaN or infinity are refused by
argparse with one usage error, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.mark.parametrize("value", ["nan", "inf", "-0.1", "x"])
def test_node_fraction_must_be_a_finite_share(run_cli, value):
    prof = next((Path(__file__).parent / "data").rglob("*.pb.gz"))
    r = run_cli("top", prof, f"--node-fraction={value}", timeout=20)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert "argument --node-fraction" in r.stderr
