"""Reading an input file, with the one-line errors every reader gives.

Only regular files are read (and directories where a reader takes one, like
the compiler's -json output). /dev/zero, a FIFO or a socket would hang the
build or fill memory, so they are refused before a byte is read: the path is
classified with stat() for a precise message, then opened without blocking
and the *opened* descriptor is checked again, so a file swapped for a FIFO
after the first check is refused too.
"""

from __future__ import annotations

import os
import stat

from reportgen.errors import ProfileError

DEFAULT_MAX_DECOMPRESSED = 1 << 30  # 1 GiB: the most gzip input may inflate to
MAX_DECOMPRESSED_LIMIT = 1 << 40    # the most --max-decompressed / max_decompressed take
# Go's runtime writes at most a few hundred thousand samples (one per distinct stack);
# each costs a few hundred bytes to analyse, so 2M samples is about a gigabyte.
DEFAULT_MAX_SAMPLES = 2_000_000

_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))
_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
               | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))


class NotRegularFile(OSError):
    """The path exists but is not something reportgen reads."""


class TooLarge(NotRegularFile):
    """A regular file beyond the size its kind allows."""


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "a special file")


def input_problem(path, allow_dir: bool = False) -> str | None:
    """Why `path` cannot be read as an input, or None when it is a regular file
    (or a directory, with allow_dir). Symlinks are followed."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "does not exist"
    except OSError as e:
        return f"cannot be read ({e.strerror or e})"
    if stat.S_ISREG(st.st_mode) or (allow_dir and stat.S_ISDIR(st.st_mode)):
        return None
    if stat.S_ISDIR(st.st_mode):
        return "is a directory"
    return f"is not a regular file ({_kind(st.st_mode)})"


def read_regular(path, limit: int | None = None) -> bytes:
    """The bytes of a regular file. Raises FileNotFoundError, IsADirectoryError,
    NotRegularFile (special files, checked on the opened descriptor), or
    TooLarge (a NotRegularFile) when the file holds more than `limit` bytes."""
    problem = input_problem(path)
    if problem == "does not exist":
        raise FileNotFoundError(2, "No such file or directory", str(path))
    if problem == "is a directory":
        raise IsADirectoryError(21, "Is a directory", str(path))
    if problem:
        raise NotRegularFile(problem)
    fd = os.open(path, _OPEN_FLAGS)
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(21, "Is a directory", str(path))
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile(f"is not a regular file ({_kind(st.st_mode)})")
        if limit is not None and st.st_size > limit:
            raise TooLarge(f"is {st.st_size} bytes, more than the {limit} allowed")
        data = f.read() if limit is None else f.read(limit + 1)
    if limit is not None and len(data) > limit:
        raise TooLarge(f"holds more than the {limit} bytes allowed")
    return data


def read_bytes(path, error=ProfileError, what: str = "a profile",
               limit: int | None = None) -> bytes:
    """read_regular with every failure as `error(path, reason)`."""
    try:
        return read_regular(path, limit)
    except FileNotFoundError:
        raise error(path, "no such file") from None
    except IsADirectoryError:
        raise error(path, f"is a directory, not {what}") from None
    except TooLarge as e:
        raise error(path, f"{e} for {what}") from None
    except NotRegularFile as e:
        raise error(path, f"{e}; only regular files are read") from None
    except OSError as e:
        raise error(path, f"cannot read ({e.strerror or e})") from None
