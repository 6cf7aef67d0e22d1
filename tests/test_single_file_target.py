"""--single-file replaces only an earlier single-file report, as a directory
target must be empty or a report: an existing file of anything else is refused
and left as it was."""

from __future__ import annotations

from pathlib import Path


def some_profile() -> Path:
    return next((Path(__file__).parent / "data").rglob("*.pb.gz"))


def test_refuses_to_overwrite_another_file(run_cli, tmp_path):
    notes = tmp_path / "notes.md"
    notes.write_text("precious\n")
    r = run_cli("build", some_profile(), "--single-file", notes)
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("\n") == 1 and "refusing to replace it" in r.stderr, r.stderr
    assert notes.read_text() == "precious\n"


def test_replaces_an_earlier_single_file_report(run_cli, tmp_path):
    out = tmp_path / "report.html"
    for _ in range(2):
        r = run_cli("build", some_profile(), "--single-file", out)
        assert r.returncode == 0, r.stderr
    assert out.read_text().startswith("<!doctype html>")


def test_single_file_with_an_output_directory_or_flame_files_is_refused(run_cli, tmp_path):
    for extra in (["-o", tmp_path / "dir"], ["--flame-files"]):
        r = run_cli("build", some_profile(), "--single-file", tmp_path / "r.html", *extra)
        assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
        assert "does not go with" in r.stderr
        assert not (tmp_path / "r.html").exists() and not (tmp_path / "dir").exists()
