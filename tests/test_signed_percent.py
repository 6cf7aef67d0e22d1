"""Changes that round to zero print as +0.0%, never -0.0% (Python formats a small
negative as -0.0): in the units helper, the gc comparison and the diff answer."""

from __future__ import annotations

from pathlib import Path

from reportgen.units import signed_percent

GC_LOGS = Path(__file__).parent.parent / "examples" / "gcpressure" / "logs"


def test_signed_percent():
    assert signed_percent(-0.04) == "+0.0%"
    assert signed_percent(-0.4, 0) == "+0%"
    assert signed_percent(0.0) == "+0.0%"
    assert signed_percent(-0.05001) == "-0.1%"
    assert signed_percent(12.345) == "+12.3%"
    assert signed_percent(-51.2, 0) == "-51%"


def test_gc_comparison_has_no_negative_zero_and_units_beside_figures(run_cli):
    # the two example logs last 2.994 s and 2.98 s: -0.5%, which rounds to zero
    r = run_cli("gc", GC_LOGS / "before.log", GC_LOGS / "after.log")
    assert r.returncode == 0, r.stderr
    assert "-0%" not in r.stdout
    duration = next(ln for ln in r.stdout.splitlines() if ln.strip().startswith("Duration"))
    assert duration.split()[-2:] == ["s", "+0%"], duration
    cpu = next(ln for ln in r.stdout.splitlines() if "GC CPU" in ln)
    assert cpu.endswith("points") and "points %" not in cpu, cpu


def test_diff_answer_rounding_to_zero(run_cli):
    base = Path(__file__).parent.parent / "examples" / "gateway" / "profiles"
    r = run_cli("diff", base / "before" / "cpu.pb.gz", base / "after" / "cpu.pb.gz",
                "--normalize", "--mode", "base")
    assert r.returncode == 0, r.stderr
    first = r.stdout.splitlines()[0]
    assert "(-0" not in first and "s (" in first, first
