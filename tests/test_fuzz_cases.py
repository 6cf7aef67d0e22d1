"""Every input in ../shared/cases/fuzz (found by mutation fuzzing) ends in a correct
report or in exit 2 with one line naming the file: never a traceback, a hang or
unbounded memory. Run in-process (reportgen.cli.main), so a traceback fails the test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reportgen.cli import main

ROOT = Path(__file__).resolve().parent.parent
FUZZ = ROOT.parent / "shared" / "cases" / "fuzz"


def _command(case: Path, out: Path) -> list[str]:
    """The command the fuzz README gives for a case folder."""
    kind = case.parent.name
    inputs = sorted(p for p in case.rglob("*") if p.is_file() and p.suffix != ".py")
    first = str(inputs[0])
    if kind in ("debug1", "debug2", "panic"):
        return ["leaks", first]
    if kind == "bench":
        return ["bench", first, first]
    if kind in ("mlog", "m2log"):
        return ["escapes", "--compiler-log", first]
    if kind == "json_dir":
        return ["escapes", "--compiler-log", str(case / "j")]
    if kind == "site_yml":
        return ["build", str(case / "s.yml"), "-o", str(out)]
    if kind == "pprof_gz":
        gz = [p for p in inputs if p.name.endswith(".pb.gz")][0]
        return ["build", str(gz), "-o", str(out)] if "flame" in case.name else ["top", str(gz)]
    raise AssertionError(f"no command known for {case}")


CASES = sorted(p for p in FUZZ.glob("*/*") if p.is_dir()) if FUZZ.is_dir() else []

# Cases whose right answer is a report (the input is valid, only big or extreme).
REPORTS = {"bench/many-runs-cpu", "pprof_gz/int64-overflow-flame",
           "debug2/labels-escape-out-of-range"}   # the label reads as U+FFFD


@pytest.mark.skipif(not CASES, reason="../shared/cases/fuzz not present")
@pytest.mark.parametrize("case", CASES, ids=[f"{c.parent.name}/{c.name}" for c in CASES])
def test_fuzz_case_is_a_report_or_one_line(case, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)   # anything written outside -o would land here
    out = tmp_path / "out"
    code = main(_command(case, out))
    stdout, stderr = capsys.readouterr()
    name = f"{case.parent.name}/{case.name}"
    if name in REPORTS:
        assert code == 0, stderr
    else:
        assert code == 2, (stdout, stderr)
        assert stderr.count("\n") == 1 and stderr.startswith("reportgen: "), stderr
        assert str(FUZZ) in stderr and len(stderr) < 600, stderr
    assert "Traceback" not in stderr
    assert {p.name for p in tmp_path.iterdir()} <= {"out"}
    if name == "pprof_gz/int64-overflow-flame":
        assert "beyond int64" in (out / "index.html").read_text()
