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


# A bad option value is one line naming the option and the problem, exit 2, like
# every other bad input: never argparse's usage block.
BAD_OPTIONS = [
    (["top", "p", "--max-decompressed", "99999999999G"], "--max-decompressed", "1T"),
    (["top", "p", "--max-decompressed", "1.5G"], "--max-decompressed", "not a size"),
    (["top", "p", "--max-decompressed", "0"], "--max-decompressed", "1 byte"),
    (["top", "p", "--max-samples", "0"], "--max-samples", "positive"),
    (["top", "p", "--max-samples", str(1 << 41)], "--max-samples", "at most"),
    (["top", "p", "--nodes", "-1"], "--nodes", "positive"),
    (["top", "p", "--nodes", str(1 << 31)], "--nodes", "at most"),
    (["top", "p", "--node-fraction", "nan"], "--node-fraction", "finite"),
    (["build", "--jobs", "0", "/nonexistent"], "--jobs", "positive"),
    (["build", "--jobs", "-3", "/nonexistent"], "--jobs", "positive"),
    # a forked process each: unbounded, this was a fork bomb
    (["build", "--jobs", "100000", "/nonexistent"], "--jobs", "at most 256"),
    (["build", "--base-count", "1.5", "/nonexistent"], "--base-count", "whole number"),
    (["diff", "a", "b", "--target-count", str(1 << 41)], "--target-count", "at most"),
    (["history", "r", "--baseline", "0"], "--baseline", "positive"),
    (["history", "r", "--jobs", "257"], "--jobs", "at most"),
    (["history", "r", "--min-change", "nan"], "--min-change", "percent"),
    (["history", "r", "--alpha", "1"], "--alpha", "between 0 and 1"),
    (["bench", "a", "--confidence", "x"], "--confidence", "not a number"),
    (["escapes", "--limit", "0"], "--limit", "positive"),
    (["capture", "u", "--every", "99999999999999999999h"], "--every", "at most 24h"),
    (["capture", "u", "--timeout", "0s"], "--timeout", "positive"),
    (["capture", "u", "--profile-seconds", "99999999999999999999"], "--profile-seconds",
     "at most"),
    (["capture", "u", "--count", "x\ny"], "--count", "whole number"),
    (["top", "p", "--format", "xml"], "--format", "invalid choice"),
    (["top", "p", "--nodecount", "-1"], "--nodecount", "unrecognized"),
    (["top"], "profile", "required"),
]


@pytest.mark.parametrize("argv,option,problem", BAD_OPTIONS)
def test_bad_option_is_one_line(capsys, argv, option, problem):
    from reportgen.cli import main

    with pytest.raises(SystemExit) as e:
        main(argv)
    err = capsys.readouterr().err
    assert e.value.code == 2
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith("reportgen") and "usage" not in err
    assert option in err and problem in err, err


def test_bad_option_from_the_shell_is_one_line(run_cli):
    r = run_cli("top", "--max-decompressed", "99999999999G", "x.pb.gz", timeout=20)
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    assert r.stderr.startswith("reportgen top: argument --max-decompressed:")
