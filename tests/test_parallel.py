"""Parallel builds: --jobs N and --scheduler (Dask) give the serial build's bytes and errors."""

from __future__ import annotations

import filecmp
import pickle
import subprocess
import sys
import time

import pytest

from reportgen.errors import ManifestError, ProfileError, ReportgenError, UsageError
from reportgen.parallel import ProcessExecutor, SerialExecutor, batches

from conftest import ROOT


def same_tree(a, b) -> list[str]:
    """Paths that differ between two directories (missing on either side, or other bytes)."""
    diff = []

    def walk(c, prefix=""):
        diff.extend(prefix + n for n in c.left_only + c.right_only + c.funny_files)
        _, mismatch, errors = filecmp.cmpfiles(c.left, c.right, c.common_files, shallow=False)
        diff.extend(prefix + n for n in mismatch + errors)
        for name, sub in c.subdirs.items():
            walk(sub, f"{prefix}{name}/")
    walk(filecmp.dircmp(a, b))
    return diff


@pytest.fixture(scope="module")
def dask_scheduler():
    """A 2-worker Dask LocalCluster on 127.0.0.1 (threads in this process: it starts
    in a second; the build under test is still a separate client process)."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                       protocol="tcp://", host="127.0.0.1",
                                       dashboard_address="127.0.0.1:0")
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


def build(run_cli, out, *args):
    r = run_cli("build", "site.yml", "-o", out, *args, timeout=300)
    assert r.returncode == 0, r.stderr
    return out


def test_example_site_identical_for_jobs_and_dask(run_cli, tmp_path, dask_scheduler):
    # --flame-files: workers must write the profile pages' standalone SVGs too.
    serial = build(run_cli, tmp_path / "j1", "--jobs", "1", "--flame-files")
    for name, args in (("j2", ("--jobs", "2")),
                       ("dask", ("--scheduler", dask_scheduler))):
        other = build(run_cli, tmp_path / name, *args, "--flame-files")
        assert same_tree(serial, other) == [], name
    assert len(list(serial.rglob("*.html"))) > 10
    assert len(list(serial.glob("flame/profile-*.svg"))) >= 2 * 6


BAD = b"\x0a\x05hello\xff\xff"   # a truncated protobuf field: not a profile


@pytest.mark.parametrize("where", ["jobs1", "jobs2", "dask"])
def test_bad_profile_among_good_is_one_line(run_cli, tmp_path, where, request):
    good = [ROOT / "examples/gateway/profiles/before/cpu.pb.gz",
            ROOT / "examples/gateway/profiles/after/cpu.pb.gz",
            ROOT / "examples/gateway/profiles/after/heap.pb.gz"]
    bad = tmp_path / "broken.pb.gz"
    bad.write_bytes(BAD)
    later_bad = tmp_path / "zz-broken.pb.gz"   # a second bad file: the first one is named
    later_bad.write_bytes(b"not a profile at all\n")
    args = {"jobs1": ["--jobs", "1"], "jobs2": ["--jobs", "2"],
            "dask": ["--scheduler", request.getfixturevalue("dask_scheduler")]}[where]
    r = run_cli("build", good[0], bad, *good[1:], later_bad, "-o", tmp_path / "out", *args)
    assert r.returncode == 2
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith(f"reportgen: {bad}: "), lines[0]
    assert not (tmp_path / "out").exists()


def test_scheduler_without_distributed_is_one_line(tmp_path):
    code = ("import sys; sys.modules['distributed'] = None\n"
            "from reportgen.cli import main\n"
            f"sys.exit(main(['build', 'site.yml', '-o', {str(tmp_path / 'o')!r}, "
            "'--scheduler', 'tcp://127.0.0.1:9']))")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 2
    assert r.stderr.splitlines() == [
        "reportgen: --scheduler: needs Dask: pip install 'reportgen[dask]'"]


@pytest.mark.parametrize("error", [ProfileError("a.pb.gz", "bad varint"),
                                   UsageError("--jobs", "no"),
                                   ManifestError("site.yml", "unknown key", line=4),
                                   ManifestError("site.yml", "no line")])
def test_errors_cross_processes_as_themselves(error):
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is type(error)
    assert (str(back), back.path, back.reason) == (str(error), error.path, error.reason)
    assert getattr(back, "line", None) == getattr(error, "line", None)


@pytest.mark.parametrize("n,workers,max_weight", [(1, 2, None), (3, 2, None), (50, 2, None),
                                                  (50, 1, None), (1000, 2, 10), (7, 8, None)])
def test_batches_are_contiguous_and_cover_everything(n, workers, max_weight):
    weights = [(i * 37) % 11 for i in range(n)]   # zeros too: they still count as one
    groups = batches(weights, workers, max_weight)
    assert [i for g in groups for i in g] == list(range(n))
    assert all(len(g) for g in groups)
    assert len(groups) == min(n, max(4 * workers, -(-sum(max(1, w) for w in weights)
                                                   // max_weight) if max_weight else 0))


def test_batches_balance_weight():
    groups = batches([100] + [1] * 99, 1)   # one heavy item: it gets a batch to itself
    assert groups[0] == range(0, 1)
    assert len(groups) == 4


def _slow_square(x):
    if x == 3:
        time.sleep(0.3)   # finishes after the failure of 7 below
        raise ProfileError(f"p{x}", "first bad one")
    if x == 7:
        raise ProfileError(f"p{x}", "second bad one")
    return x * x


def test_process_executor_keeps_order_and_raises_first_failure():
    with ProcessExecutor(2) as ex:
        assert ex.map(_slow_square, [9, 1, 5, 2, 8, 4]) == [81, 1, 25, 4, 64, 16]
        with pytest.raises(ProfileError, match="p3: first bad one"):
            ex.map(_slow_square, list(range(10)))
    with pytest.raises(ReportgenError, match="p3: first bad one"):
        SerialExecutor().map(_slow_square, list(range(10)))


def test_first_failure_in_input_order_even_when_a_heavier_input_runs_first():
    # Heaviest first: input 7 (weight 100) is started first and fails first; input 3
    # fails later, but it comes first in input order, so it is the error raised.
    weights = [1] * 10
    weights[7] = 100
    with ProcessExecutor(2) as ex:
        with pytest.raises(ProfileError, match="p3: first bad one"):
            ex.map(_slow_square, list(range(10)), weights)
        assert ex.map(_slow_square, [9, 1, 5, 2, 8, 4], [1, 1, 50, 1, 9, 1]) == \
            [81, 1, 25, 4, 64, 16]


def test_heaviest_first_puts_big_inputs_first_and_covers_everything():
    from reportgen.parallel import heaviest_first
    weights = [5, 1, 90, 1, 40, 1, 1, 1, 1, 1]
    groups = heaviest_first(weights, 2)
    assert sorted(i for g in groups for i in g) == list(range(10))
    assert groups[0] == [2] and groups[1] == [4]


def _boom(x):
    if x == 2:
        raise ValueError("not a user error")
    return x


def test_unexpected_worker_error_keeps_its_traceback():
    from reportgen.parallel import RemoteTraceback
    with ProcessExecutor(2) as ex:
        with pytest.raises(ValueError, match="not a user error") as info:
            ex.map(_boom, [0, 1, 2, 3])
    assert isinstance(info.value.__cause__, RemoteTraceback)
    assert "_boom" in str(info.value.__cause__)


class _Unpicklable:
    """Shared state that cannot be pickled: a worker can only have inherited it."""

    def __init__(self, factor):
        self.factor = factor

    def __reduce__(self):
        raise TypeError("shared objects must not be pickled on a forked pool")


def _times_shared(x, shared):
    return x * shared.factor


def test_forked_workers_inherit_shared_objects_instead_of_unpickling_them():
    ex = ProcessExecutor(2)
    if not ex.inherits:
        pytest.skip("no fork on this platform")
    with ex:
        first = [_Unpicklable(i) for i in range(6)]
        assert ex.map(_times_shared, [10] * 6, shared=first) == [0, 10, 20, 30, 40, 50]
        # New shared objects: a pool forked after them (the first one is replaced).
        second = [_Unpicklable(-1)] * 6
        assert ex.map(_times_shared, list(range(6)), shared=second) == [0, -1, -2, -3, -4, -5]
    assert SerialExecutor().map(_times_shared, [1, 2], shared=second[:2]) == [-1, -2]


def test_serial_submit_runs_when_the_result_is_asked_for():
    ran = []
    pending = SerialExecutor().submit(ran.append, [1, 2])
    assert ran == []
    pending.result()
    assert ran == [1, 2]


def test_a_theme_error_on_a_worker_is_one_line(run_cli, tmp_path):
    # The profiles' own pages render on the workers: a broken profile template
    # fails there and must still end the build with the serial build's one line.
    page = _theme_copy(tmp_path) / "profile.html.j2"
    page.write_text(page.read_text().replace("{% block main %}",
                                             "{% block main %}{{ no_such_value }}", 1))
    errors = _build_with_jobs(run_cli, tmp_path, 3)
    assert all("profile.html.j2" in e and "theme template error" in e for e in errors)
    assert not any((tmp_path / f"out{jobs}").exists() for jobs in ("1", "2"))


def test_unpickled_profile_owns_its_arrays():
    from profiles import basic_builder
    from reportgen.sources.pprof import parse_pprof
    profile = parse_pprof("p.pb.gz", basic_builder().to_bytes())
    back = pickle.loads(pickle.dumps(profile))
    for name in ("values", "stack_offsets", "stack_locations", "label_set"):
        array = getattr(back, name)
        assert array.flags.owndata and array.flags.writeable, name
        assert (array == getattr(profile, name)).all(), name
    assert back.functions == profile.functions and back.locations == profile.locations


class _Factor:
    def __init__(self, factor):
        self.factor = factor


def test_spawned_workers_receive_shared_objects_pickled():
    # Where there is no fork (macOS, Windows defaults), shared objects travel with
    # their inputs; the results are the same.
    import multiprocessing
    ex = ProcessExecutor(2)
    ex._ctx, ex.inherits = multiprocessing.get_context("spawn"), False
    with ex:
        shared = [_Factor(i) for i in range(4)]
        assert ex.map(_times_shared, [3] * 4, [1, 9, 1, 5], shared=shared) == [0, 3, 6, 9]
        with pytest.raises(ProfileError, match="p3: first bad one"):
            ex.map(_slow_square, list(range(10)))


def test_a_syntax_error_in_a_profile_template_is_one_line_with_jobs(run_cli, tmp_path):
    # The pool's templates are compiled before it forks; a broken one must still
    # fail where it is used, as in a serial build.
    (_theme_copy(tmp_path) / "profile.html.j2").write_text("line 1\n{% if %}\n")
    errors = _build_with_jobs(run_cli, tmp_path, 2)
    assert all("profile.html.j2:2: theme template error" in e for e in errors)


def _theme_copy(tmp_path):
    import shutil
    from reportgen.manifest import THEMES_DIR
    theme = tmp_path / "theme"
    shutil.copytree(THEMES_DIR / "default", theme)
    return theme


def _build_with_jobs(run_cli, tmp_path, count):
    """Build `count` example profiles with tmp_path/theme under --jobs 1 and 2; both
    must fail with exit 2 and the same single line, which is returned twice."""
    profiles = [ROOT / "examples/gateway/profiles/before/cpu.pb.gz",
                ROOT / "examples/gateway/profiles/after/cpu.pb.gz",
                ROOT / "examples/gateway/profiles/after/heap.pb.gz"][:count]
    (tmp_path / "site.yml").write_text(
        f"theme: {tmp_path / 'theme'}\nprofiles:\n" + "".join(f"  p{i}: {{path: {p}}}\n"
                                                             for i, p in enumerate(profiles)))
    errors = []
    for jobs in ("1", "2"):
        r = run_cli("build", tmp_path / "site.yml", "-o", tmp_path / f"out{jobs}", "--jobs", jobs)
        assert r.returncode == 2 and len(r.stderr.splitlines()) == 1, r.stderr
        errors.append(r.stderr)
    assert errors[0] == errors[1]
    return errors


def _children(pid: int) -> list[int]:
    from pathlib import Path
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
@pytest.mark.parametrize("signal_name", ["SIGKILL", "SIGTERM"])
def test_workers_end_when_the_caller_is_killed(signal_name):
    """A CI job's timeout kills the build: its pool's workers must not live on."""
    import os
    import signal
    script = ("import os, sys, time\n"
              "from reportgen.parallel import ProcessExecutor\n"
              "def slow(x):\n    time.sleep(120)\n"
              "ex = ProcessExecutor(2)\n"
              "pending = ex.submit(slow, [1, 2])\n"
              "print('started', flush=True)\n"
              "time.sleep(120)\n")
    caller = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert caller.stdout.readline().strip() == "started"
        deadline = time.monotonic() + 30
        while len(workers := _children(caller.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(workers) >= 2
        time.sleep(0.3)   # the workers have run their initializer
        caller.send_signal(getattr(signal, signal_name))
        caller.wait(timeout=30)
        deadline = time.monotonic() + 10
        alive = workers
        while alive and time.monotonic() < deadline:
            time.sleep(0.05)
            alive = [w for w in workers if os.path.exists(f"/proc/{w}")
                     and open(f"/proc/{w}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"]
        assert alive == []
    finally:
        caller.kill()
        caller.wait()
