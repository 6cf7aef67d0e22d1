"""A SiteWriter described by picklable values, so pages can be rendered in a worker.

A build that renders per-profile pages on other processes (`--jobs`) or
machines (`--scheduler`) sends a WriterSpec with each task; the worker
rebuilds the writer once per process (its compiled templates are reused by
later tasks) and each task gets a fresh copy with no files, whose pages the
caller merges in input order.
"""

from __future__ import annotations

import copy
import hashlib
import os
import tempfile
from pathlib import Path
from typing import NamedTuple

from reportgen.render.site import SiteWriter


class WriterSpec(NamedTuple):
    theme_dir: str
    title: str
    base_dir: str
    nav: tuple          # of {"href", "title"}: the site's navigation, fixed before pages
    flame_files: bool   # standalone flame graph SVGs too (SiteWriter.flame_files)
    # The theme's files as (name, text), for workers that cannot read the
    # caller's theme_dir (a Dask cluster); empty when they share the file system.
    theme: tuple = ()


def writer_spec(writer: SiteWriter, ship_theme: bool) -> WriterSpec:
    """What a worker needs to render pages exactly as `writer` would."""
    theme = ()
    if ship_theme:
        from reportgen.manifest import theme_files
        theme = tuple((name, (writer.theme_dir / name).read_text(encoding="utf-8"))
                      for name in theme_files())
    spec = WriterSpec(str(writer.theme_dir), writer.title, str(writer.base_dir),
                      tuple(writer.nav), writer.flame_files, theme)
    if not theme:   # tasks run here (or in forks) reuse this writer's compiled templates
        base = copy.copy(writer)
        base.files, base.nav = {}, []
        _WRITERS[spec._replace(nav=(), flame_files=False)] = base
    return spec


_WRITERS: dict = {}   # per worker process: spec without nav -> SiteWriter


def _local_theme(files: tuple) -> Path:
    """The shipped theme as a directory on this machine, named by its content's hash."""
    digest = hashlib.sha256(repr(files).encode("utf-8")).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"reportgen-theme-{os.getuid()}-{digest}"
    if not path.is_dir():
        tmp = Path(tempfile.mkdtemp(prefix=path.name + ".", dir=path.parent))
        for name, text in files:
            (tmp / name).write_text(text, encoding="utf-8")
        try:
            tmp.rename(path)
        except OSError:   # another worker got there first with the same content
            for name, _ in files:
                (tmp / name).unlink()
            tmp.rmdir()
    return path


def task_writer(spec: WriterSpec) -> SiteWriter:
    """A writer for one task: the process's writer for `spec`, with no files yet."""
    key = spec._replace(nav=(), flame_files=False)
    base = _WRITERS.get(key)
    if base is None:
        theme_dir = _local_theme(spec.theme) if spec.theme else Path(spec.theme_dir)
        base = _WRITERS[key] = SiteWriter(theme_dir, spec.title, Path(spec.base_dir))
    writer = copy.copy(base)
    writer.files, writer.nav, writer.flame_files = {}, list(spec.nav), spec.flame_files
    return writer
