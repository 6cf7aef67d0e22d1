"""Reading an input file, with the one-line errors every reader gives."""

from __future__ import annotations

from pathlib import Path

from reportgen.errors import ProfileError

DEFAULT_MAX_DECOMPRESSED = 1 << 30  # 1 GiB: the most gzip input may inflate to


def read_bytes(path, error=ProfileError, what: str = "a profile") -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise error(path, "no such file") from None
    except IsADirectoryError:
        raise error(path, f"is a directory, not {what}") from None
    except OSError as e:
        raise error(path, f"cannot read ({e.strerror})") from None
