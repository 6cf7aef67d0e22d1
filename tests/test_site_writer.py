"""The report directory writer (render.sitedir): killed at every step of the swap,
two builds at once, and the file system refusing (full disk, read-only, a
dangling symlink, an earlier report that cannot be deleted).

Crashes are real: a forked child replaces sitedir.checkpoint with a SIGKILL
at one named step, and the parent checks what is left on disk.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reportgen.errors import UsageError
from reportgen.render import sitedir
from reportgen.render.sitedir import MARKER, write_report

ROOT = Path(__file__).resolve().parent.parent
OLD = {"index.html": "old report\n", "pages/a.html": "old a\n", "data/a.json": "{}\n"}
NEW = {"index.html": "new report\n", "pages/b.html": "new b\n", "data/b.json": "[]\n"}


def report(target: Path) -> str | None:
    """'old' or 'new' when target holds that report complete, else None."""
    for name, files in (("old", OLD), ("new", NEW)):
        have = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
        if have == sorted([*files, MARKER]) and all(
                (target / rel).read_text() == text for rel, text in files.items()):
            return name
    return None


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(".site."))


def in_child(fn) -> int:
    """Run fn() in a forked child; its exit status (or -signal)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 0
        try:
            fn()
        except UsageError:
            code = 2
        except BaseException:
            code = 3
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def kill_at(step: str, no_exchange: bool = False):
    def hook(name):
        if name == step:
            os.kill(os.getpid(), signal.SIGKILL)
    sitedir.checkpoint = hook
    if no_exchange:
        sitedir.exchange = lambda a, b: False


@pytest.mark.parametrize("step", ["locked", "recovered", "written", "marked", "exchanged",
                                  "cleaned"])
def test_killed_at_any_step_of_the_exchange_leaves_a_complete_report(tmp_path, step):
    target = tmp_path / "site"
    write_report(target, OLD)

    def build():
        kill_at(step)
        write_report(target, NEW)
    assert in_child(build) == -signal.SIGKILL
    assert report(target) == ("new" if step in ("exchanged", "cleaned") else "old")
    write_report(target, NEW)
    assert report(target) == "new" and leftovers(tmp_path) == []


def test_killed_while_deleting_the_earlier_report(tmp_path):
    target = tmp_path / "site"
    write_report(target, OLD)

    def build():
        def rmtree_then_die(path, *a, **k):
            (Path(path) / "pages" / "a.html").unlink()   # part of the old copy is gone
            os.kill(os.getpid(), signal.SIGKILL)
        sitedir.shutil.rmtree = rmtree_then_die
        write_report(target, NEW)
    assert in_child(build) == -signal.SIGKILL
    assert report(target) == "new" and leftovers(tmp_path)  # the half-deleted old copy
    write_report(target, OLD)
    assert report(target) == "old" and leftovers(tmp_path) == []


@pytest.mark.parametrize("step", ["marked", "moved-old", "moved-new", "cleaned"])
def test_killed_in_the_two_rename_fallback_is_finished_by_the_next_build(tmp_path, step):
    target = tmp_path / "site"
    write_report(target, OLD)
    assert in_child(lambda: (kill_at(step, no_exchange=True), write_report(target, NEW))) \
        == -signal.SIGKILL
    if step == "moved-old":   # the one window without exchange: the next build closes it
        assert not target.exists()
        sitedir.recover(target)
    assert report(target) == ("old" if step in ("marked", "moved-old") else "new")
    write_report(target, NEW)
    assert report(target) == "new" and leftovers(tmp_path) == []


def test_first_build_killed_leaves_nothing_half_written(tmp_path):
    target = tmp_path / "site"
    assert in_child(lambda: (kill_at("written"), write_report(target, NEW))) == -signal.SIGKILL
    assert not target.exists()
    write_report(target, NEW)
    assert report(target) == "new" and leftovers(tmp_path) == []


def test_exchange_swaps_two_directories(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("a")
    (b / "x").write_text("b")
    if not sitedir.exchange(a, b):
        pytest.skip("no renameat2(RENAME_EXCHANGE) here")
    assert (a / "x").read_text() == "b" and (b / "x").read_text() == "a"


def test_a_second_build_waits_for_the_first(tmp_path):
    target = tmp_path / "site"
    write_report(target, OLD)

    def slow():
        sitedir.checkpoint = lambda name: name == "locked" and time.sleep(1.0)
        write_report(target, NEW)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            slow()
        finally:
            os._exit(0)
    time.sleep(0.3)   # the child holds the lock now
    start = time.monotonic()
    write_report(target, OLD)
    waited = time.monotonic() - start
    os.waitpid(pid, 0)
    assert waited > 0.4 and report(target) == "old" and leftovers(tmp_path) == []


def test_a_second_build_gives_up_with_one_line(tmp_path, monkeypatch):
    target = tmp_path / "site"
    write_report(target, OLD)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        sitedir.checkpoint = lambda name: name == "locked" and time.sleep(1.5)
        write_report(target, NEW)
        os._exit(0)
    time.sleep(0.3)
    monkeypatch.setattr(sitedir, "LOCK_WAIT", 0.2)
    with pytest.raises(UsageError, match="another reportgen build is writing"):
        write_report(target, OLD)
    os.waitpid(pid, 0)
    assert report(target) == "new" and leftovers(tmp_path) == []


def test_two_concurrent_cli_builds(tmp_path):
    from profiles import basic_builder
    profile = basic_builder().write(tmp_path / "p.pb.gz")
    out = tmp_path / "site"
    cmd = [sys.executable, "-m", "reportgen", "build", str(profile), "-o", str(out)]
    procs = [subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    assert [code for code, _ in results] == [0, 0], results
    assert (out / MARKER).is_file() and (out / "index.html").is_file()
    assert leftovers(tmp_path) == []


def test_symlinked_target_keeps_pointing_where_it_pointed(tmp_path):
    real = tmp_path / "reports" / "site"
    write_report(real, OLD)
    link = tmp_path / "site"
    link.symlink_to("reports/site")
    assert write_report(link, NEW) == link
    assert link.is_symlink() and os.readlink(link) == "reports/site"
    assert report(real) == "new" and leftovers(tmp_path / "reports") == []
    assert leftovers(tmp_path) == []


def test_dangling_symlink_target_is_one_line_exit_2(tmp_path):
    from profiles import basic_builder
    profile = basic_builder().write(tmp_path / "p.pb.gz")
    (tmp_path / "site").symlink_to("gone")
    proc = subprocess.run([sys.executable, "-m", "reportgen", "build", str(profile), "-o",
                           str(tmp_path / "site")], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "does not exist" in proc.stderr and "Traceback" not in proc.stderr
    assert os.readlink(tmp_path / "site") == "gone" and leftovers(tmp_path) == []


def test_refuses_the_root_directory(tmp_path):
    (tmp_path / "root").symlink_to("/")
    for target in (Path("/"), tmp_path / "root"):
        with pytest.raises(UsageError, match="cannot be the root directory"):
            write_report(target, NEW)
    assert not Path("/..lock").exists()


def test_refuses_what_is_not_a_report(tmp_path):
    target = tmp_path / "site"
    target.mkdir()
    (target / "mine.txt").write_text("keep")
    with pytest.raises(UsageError, match="refusing to replace"):
        write_report(target, NEW)
    assert (target / "mine.txt").read_text() == "keep" and leftovers(tmp_path) == []


# --- the file system refuses

def mount_tmpfs(path: Path, size: str, request):
    path.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True)
    if proc.returncode:
        pytest.skip("cannot mount a tmpfs here (not root?)")
    request.addfinalizer(lambda: subprocess.run(["umount", "-l", str(path)]))
    return path


def test_disk_full_keeps_the_earlier_report(tmp_path, request):
    disk = mount_tmpfs(tmp_path / "disk", "256k", request)
    target = disk / "site"
    write_report(target, OLD)
    big = {**NEW, "data/big.json": "x" * (1 << 20)}
    with pytest.raises(UsageError, match="no space left on the device"):
        write_report(target, big)
    assert report(target) == "old" and leftovers(disk) == []


def test_read_only_parent_is_a_user_error(tmp_path, request):
    disk = mount_tmpfs(tmp_path / "disk", "1m", request)
    target = disk / "site"
    write_report(target, OLD)
    if subprocess.run(["mount", "-o", "remount,ro", str(disk)]).returncode:
        pytest.skip("cannot remount read-only")
    with pytest.raises(UsageError, match="read-only"):
        write_report(target, NEW)
    assert report(target) == "old" and leftovers(disk) == []


def test_undeletable_report_subdirectory_is_refused_before_anything_changes(tmp_path, request):
    target = tmp_path / "site"
    write_report(target, OLD)
    mount_tmpfs(target / "pages" / "mnt", "64k", request)   # rmdir would fail: EBUSY
    with pytest.raises(UsageError, match=r"pages/mnt cannot be deleted \(it is a mount point\)"):
        write_report(target, NEW)
    assert (target / "index.html").read_text() == OLD["index.html"] and leftovers(tmp_path) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_unwritable_report_subdirectory_is_refused(tmp_path):
    target = tmp_path / "site"
    write_report(target, OLD)
    (target / "pages").chmod(0o555)
    try:
        with pytest.raises(UsageError, match="pages cannot be deleted"):
            write_report(target, NEW)
        assert report(target) == "old" and leftovers(tmp_path) == []
    finally:
        (target / "pages").chmod(0o755)


def snapshot(d: Path) -> dict:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def test_real_builds_killed_at_random_moments(tmp_path):
    """`reportgen build` SIGKILLed at spread-out moments: the target is always
    one whole report, and the next build leaves nothing beside it."""
    from profiles import basic_builder, hostile_builder
    a = basic_builder().write(tmp_path / "a.pb.gz")
    b = hostile_builder().write(tmp_path / "b.pb.gz")

    def cmd(profile, out):
        return [sys.executable, "-m", "reportgen", "build", str(profile), "-o", str(out)]
    for profile, out in ((a, "ref-a"), (b, "ref-b")):
        subprocess.run(cmd(profile, tmp_path / out), cwd=tmp_path, check=True,
                       capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    refs = [snapshot(tmp_path / "ref-a"), snapshot(tmp_path / "ref-b")]
    work = tmp_path / "w"
    work.mkdir()
    target = work / "site"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run(cmd(a, target), cwd=tmp_path, check=True, capture_output=True, env=env)
    for delay in (0.5, 1.0, 1.5):
        proc = subprocess.Popen(cmd(b, target), cwd=tmp_path, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert snapshot(target) in refs, delay
        subprocess.run(cmd(a, target), cwd=tmp_path, check=True, capture_output=True, env=env)
        assert snapshot(target) == refs[0] and leftovers(work) == []


def test_links_are_regular_files_only(tmp_path):
    """A file to reuse that is a symlink (to a file outside the report) is neither
    linked nor copied: one line, the earlier report left as it was."""
    target = tmp_path / "site"
    write_report(target, OLD)
    outside = tmp_path / "secret.txt"
    outside.write_text("outside\n")
    (tmp_path / "kept.html").write_text("kept\n")
    write_report(target, NEW, {"pages/kept.html": tmp_path / "kept.html"})
    assert (target / "pages" / "kept.html").read_text() == "kept\n"
    before = {p: p.read_bytes() for p in target.rglob("*") if p.is_file()}
    link = tmp_path / "link.html"
    link.symlink_to(outside)
    with pytest.raises(UsageError, match="not a regular file"):
        write_report(target, OLD, {"pages/kept.html": link})
    assert {p: p.read_bytes() for p in target.rglob("*") if p.is_file()} == before
    assert leftovers(tmp_path) == []
    assert not any(p.is_symlink() for p in target.rglob("*"))
