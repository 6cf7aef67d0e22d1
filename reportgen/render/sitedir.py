"""The report directory on disk: one writer at a time, swapped in whole.

A build renders into `.NAME.new-XXXX` beside the target and exchanges it
with the target in one step (Linux `renameat2(RENAME_EXCHANGE)`), so at
every instant the target holds a complete report, the earlier one or the
new one. Where there is no exchange (other systems, file systems that
refuse it) the target is moved to `.NAME.old-XXXX/site` and the new
directory renamed in; a build killed between those two renames is
finished by the next build, which puts the earlier report back.

Builds into one target take turns: `.NAME.lock` beside the target is held
with `fcntl.flock` for the whole write; a build that cannot get it within
LOCK_WAIT seconds fails with one line. Every file-system error (disk full,
no permission, a dangling symlink, an undeletable earlier report) becomes
a UsageError, after the temporary directory is removed.

The promise is for a build that is killed or fails: files are not fsynced
(that would cost more than the rest of a small build), so after a power
loss the file system's own ordering decides what survives.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import shutil
import stat
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from reportgen.errors import UsageError

MARKER = ".reportgen-site"
MARKER_TEXT = "This directory is a report written by reportgen; a new build replaces it whole.\n"
LOCK_WAIT = 30.0        # seconds a second build waits for the first one
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def checkpoint(step: str):
    """A named point of the swap. Does nothing; crash tests replace it to kill the
    process there (tests/test_site_writer.py) and check what the next build finds."""


def write_report(target: Path, files: dict[str, str], links: dict | None = None) -> Path:
    """Write `files` ({relative path: text}) as the report directory `target`, with
    `links` ({relative path: an existing file}, hard-linked, else copied: pages an
    earlier report holds unchanged, which an incremental build need not rewrite).

    Returns the target as given (absolute). A symlink target stays a symlink:
    the directory it points to is replaced. Raises UsageError for anything
    the file system refuses; the earlier report is then left as it was.
    """
    target = real = Path(os.path.abspath(target))
    try:
        real = _real_target(target)
        if real == real.parent:
            raise UsageError(target, "output cannot be the root directory")
        real.parent.mkdir(parents=True, exist_ok=True)
        with _locked(real):
            checkpoint("locked")
            recover(real)
            checkpoint("recovered")
            check_replaceable(real, shown=target)
            _swap_in(real, files, shown=target, links=links)
    except OSError as e:
        raise UsageError(target, _os_reason(e, real)) from None
    return target


def _real_target(target: Path) -> Path:
    if not target.is_symlink():
        return target
    real = Path(os.path.realpath(target))
    if not real.exists():
        raise UsageError(target, f"output is a symlink to {os.readlink(target)}, which does not "
                                 "exist; create that directory or remove the link")
    return real


def _os_reason(e: OSError, real: Path) -> str:
    what = {errno.ENOSPC: "no space left on the device",
            errno.EDQUOT: "disk quota exceeded",
            errno.EROFS: "the file system is read-only",
            errno.EACCES: "permission denied", errno.EPERM: "operation not permitted"}.get(
        e.errno, e.strerror or str(e))
    where = f" ({e.filename})" if e.filename and Path(e.filename) != real else ""
    return f"cannot write the report: {what}{where}; the earlier report is unchanged"


@contextmanager
def _locked(real: Path):
    """Hold `.NAME.lock` beside the target (flock, exclusive) for the whole write."""
    path = real.parent / f".{real.name}.lock"
    deadline = time.monotonic() + LOCK_WAIT
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            if time.monotonic() >= deadline:
                raise UsageError(real, f"another reportgen build is writing this report (it "
                                       f"holds {path.name}); gave up after {LOCK_WAIT:g} s")
            time.sleep(0.05)
            continue
        except BaseException:
            os.close(fd)
            raise
        # The holder before us removes the file while still holding it: if that
        # happened after our open, our lock is on a deleted file; lock the new one.
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        yield
    finally:
        try:
            os.unlink(path)   # while still locked, so no one else is in between
        except OSError:
            pass
        os.close(fd)


def _temp_dirs(real: Path, kind: str) -> list[Path]:
    prefix = f".{real.name}.{kind}-"
    return sorted(p for p in real.parent.iterdir() if p.name.startswith(prefix))


def recover(real: Path):
    """Finish or clean up a swap an earlier build was killed in (called under the lock).

    Target missing and an `.old-*` holding the earlier report: the kill came
    between the two renames of the fallback swap, so the earlier report goes
    back. Then every `.new-*` (an unfinished report, or an earlier report
    after an exchange) and `.old-*` is removed.
    """
    if not os.path.lexists(real):
        for old in _temp_dirs(real, "old"):
            if (old / "site" / MARKER).is_file():
                os.rename(old / "site", real)
                break
    for kind in ("new", "old"):
        for leftover in _temp_dirs(real, kind):
            _remove(leftover)


def _remove(path: Path):
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def check_replaceable(real: Path, shown: Path | None = None):
    """Refuse to replace anything that is not an earlier report of ours, or that
    could not be deleted whole once swapped out."""
    shown = shown or real
    if not os.path.lexists(real):
        return
    if not real.is_dir():
        raise UsageError(shown, "output exists and is not a directory")
    if any(real.iterdir()) and not (real / MARKER).exists():
        raise UsageError(shown, "output directory is not empty and is not a reportgen "
                                "report; refusing to replace it")
    _check_deletable(real, shown)


def _check_deletable(real: Path, shown: Path):
    """Every directory of the earlier report must be ours to empty: writable, and on
    the report's own file system (a mount point inside cannot be removed)."""
    device = real.stat().st_dev
    for dirpath, dirnames, _files in os.walk(real):
        for d in [dirpath] + [os.path.join(dirpath, n) for n in dirnames]:
            st = os.lstat(d)
            bad = ("it is a mount point" if st.st_dev != device else
                   "it is not writable" if not os.access(d, os.W_OK | os.X_OK) else "")
            if bad:
                rel = os.path.relpath(d, real)
                raise UsageError(shown, f"cannot replace the earlier report: {rel} cannot be "
                                        f"deleted ({bad}); the earlier report is unchanged")


def _swap_in(real: Path, files: dict[str, str], shown: Path, links: dict | None = None):
    tmp = Path(tempfile.mkdtemp(prefix=f".{real.name}.new-", dir=real.parent))
    old = None
    try:
        os.chmod(tmp, 0o755)
        made = {str(tmp)}   # each directory made once, not once per file in it

        def place(rel: str) -> str:
            path = os.path.join(tmp, rel)
            parent = os.path.dirname(path)
            if parent not in made:
                os.makedirs(parent, exist_ok=True)
                made.add(parent)
            return path
        for rel, text in sorted(files.items()):
            with open(place(rel), "w", encoding="utf-8") as f:
                f.write(text)
        for rel, source in sorted((links or {}).items()):
            # Only a regular file is linked or copied: a symlink (to a file outside
            # the report) never is, whatever the caller checked before.
            if not stat.S_ISREG(os.lstat(source).st_mode):
                raise OSError(errno.EINVAL, "not a regular file", str(source))
            path = place(rel)
            try:
                os.link(source, path, follow_symlinks=False)
            except OSError:
                shutil.copyfile(source, path, follow_symlinks=False)
        checkpoint("written")
        (tmp / MARKER).write_text(MARKER_TEXT, encoding="utf-8")  # last: complete when present
        checkpoint("marked")
        if not os.path.lexists(real):
            os.rename(tmp, real)
            checkpoint("renamed")
            return
        if exchange(tmp, real):
            checkpoint("exchanged")   # tmp now holds the earlier report
            leftover = tmp
        else:
            old = Path(tempfile.mkdtemp(prefix=f".{real.name}.old-", dir=real.parent))
            os.rename(real, old / "site")
            checkpoint("moved-old")   # the window `recover` closes
            os.rename(tmp, real)
            checkpoint("moved-new")
            leftover = old
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None:
            if not os.path.lexists(real) and (old / "site").is_dir():
                os.rename(old / "site", real)
            shutil.rmtree(old, ignore_errors=True)
        raise
    try:
        shutil.rmtree(leftover)
    except OSError as e:
        raise UsageError(shown, f"the new report is in place, but the earlier one could not be "
                                f"removed from {leftover.name} ({e.strerror or e})") from None
    checkpoint("cleaned")


def exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (renameat2 RENAME_EXCHANGE); False where the
    platform or file system has no such call, so the caller falls back."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))
