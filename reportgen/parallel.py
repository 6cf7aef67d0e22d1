"""Running a build's independent work: in-process, on a process pool, or on Dask.

An executor maps a picklable, module-level function over a list of inputs
and returns the results as a list in input order, whatever ran where, so a
build merges them exactly as a serial build would and its output is
byte-identical for any number of workers. The first failing input (in input
order, not in finishing order) raises its exception in the caller; a
ReportgenError keeps its class and message across the process boundary
(see ReportgenError.__reduce__), any other error carries the worker's
traceback as its cause.

`submit` starts the work and returns at once (`.result()` waits), so the
caller can do its own serial part while the workers run; `map` is both.

Inputs are grouped into batches (see `batches`), largest first: a task per
input would spend more on scheduling and pickling than on work when the
inputs are thousands of small profiles, and starting the heaviest inputs
first keeps a worker from finishing alone on one big profile.

Large read-only inputs (loaded profiles) go in `shared`, one per input,
passed to the function as its second argument. A forked pool (Linux) is
started after the caller holds them, so its workers inherit them, together
with every module and compiled template the caller has loaded, instead of
unpickling a copy per task; other pools and Dask receive them pickled.

- SerialExecutor (`--jobs 1`): a plain loop in the caller.
- ProcessExecutor (`--jobs N`): concurrent.futures' process pool, started
  when there are two or more batches, so a one-profile build never pays for
  it (nor holds its profile twice).
- DaskExecutor (`--scheduler ADDRESS`): a `distributed.Client` on an existing
  cluster; needs the optional extra `reportgen[dask]`. Workers may not see
  the caller's files (`shared_files` is False), so callers send bytes.
"""

from __future__ import annotations

import math
import os
import sys
import traceback
from bisect import bisect_left
from itertools import accumulate

from reportgen.errors import ReportgenError, UsageError

# Dask's guidance is tasks of about a second or more; a batch of this much
# gzipped profile input is roughly that (about 1 s of CPU per 100 KB).
DASK_BATCH_BYTES = 1 << 20
# Enough batches per worker that a slow one does not leave the others idle.
BATCHES_PER_WORKER = 4


def cpu_count() -> int:
    """CPUs this process may run on (its affinity mask), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def batches(weights: list[int], workers: int, max_weight: int | None = None) -> list[range]:
    """Split indices 0..len(weights)-1 into contiguous ranges of similar total weight.

    At least BATCHES_PER_WORKER * workers ranges (or one per item, if fewer
    items), more if needed to keep each range near `max_weight`.
    """
    n = len(weights)
    if n == 0:
        return []
    cum = list(accumulate(max(1, w) for w in weights))
    parts = BATCHES_PER_WORKER * max(1, workers)
    if max_weight:
        parts = max(parts, math.ceil(cum[-1] / max_weight))
    parts = min(n, parts)
    bounds = [0]
    for j in range(1, parts):
        # The end of batch j: where the running weight passes j/parts of the total,
        # leaving at least one item for each batch still to come.
        end = bisect_left(cum, cum[-1] * j / parts) + 1
        bounds.append(min(max(end, bounds[-1] + 1), n - (parts - j)))
    bounds.append(n)
    return [range(a, b) for a, b in zip(bounds, bounds[1:])]


def heaviest_first(weights: list[int], workers: int, max_weight: int | None = None) -> list[list]:
    """Batches of input indices (see `batches`), the heaviest inputs in the first ones.

    Sorting by weight (ties in input order) before cutting gives the big
    inputs batches of their own, started first, and leaves the many small
    ones for the end, where they fill the gaps (longest processing time first).
    """
    order = sorted(range(len(weights)), key=lambda i: -max(1, weights[i]))
    return [[order[k] for k in g]
            for g in batches([weights[i] for i in order], workers, max_weight)]


class RemoteTraceback(Exception):
    """The traceback of an unexpected error in a worker, as text (the error's cause)."""

    def __str__(self):
        return self.args[0]


# The `shared` list of the pool being forked: its workers read inputs' shared
# objects from here instead of receiving them pickled.
_INHERITED: list | None = None


def _run_batch(fn, entries, shared: str = "none"):
    """One task (runs in a worker): fn over (index, item, shared object) entries;
    `shared` says where an input's shared object is: "none" (fn takes the item
    alone), "shipped" (in the entry) or "inherited" (in _INHERITED, by index).

    Every entry runs even after one fails, so the caller can raise the
    failure of the lowest index. Returns [(index, ok, value or error)];
    an error that is not a ReportgenError travels with its traceback text.
    """
    out = []
    for i, item, obj in entries:
        try:
            if shared == "none":
                value = fn(item)
            else:
                value = fn(item, _INHERITED[i] if shared == "inherited" else obj)
            out.append((i, True, value))
        except Exception as e:   # noqa: BLE001 - raised again in the caller
            if not isinstance(e, ReportgenError):
                e = (e, "".join(traceback.format_exception(e)))
            out.append((i, False, e))
    return out


def _merge(batch_results, n: int) -> list:
    """Results in input order, or the lowest-index failure raised."""
    out = [None] * n
    failed = None
    for batch in batch_results:
        for i, ok, value in batch:
            if ok:
                out[i] = value
            elif failed is None or i < failed[0]:
                failed = (i, value)
    if failed is not None:
        error = failed[1]
        if isinstance(error, tuple):
            error, text = error
            raise error from RemoteTraceback(text)
        raise error
    return out


class Pending:
    """Work started by `submit`; `result()` waits for it and returns the list."""

    def __init__(self, wait, cancel=lambda: None):
        self._wait, self._cancel = wait, cancel

    def result(self) -> list:
        try:
            return self._wait()
        except BaseException:
            self._cancel()
            raise

    def cancel(self):
        self._cancel()


class SerialExecutor:
    """Everything in the caller, one input after another (`--jobs 1`)."""

    workers = 1
    shared_files = True
    inherits = False   # workers see the caller's memory as it is when work is submitted

    def submit(self, fn, items: list, weights: list[int] | None = None,
               shared: list | None = None) -> Pending:
        """Start fn over items (fn(item, shared[i]) when `shared` is given).

        Serially, the work runs when `result()` is called, so errors come in
        the same order as from a pool whose results are collected then."""
        return Pending(lambda: self._serial(fn, items, shared))

    def map(self, fn, items: list, weights: list[int] | None = None,
            shared: list | None = None) -> list:
        return self.submit(fn, items, weights, shared).result()

    @staticmethod
    def _serial(fn, items, shared):
        if shared is None:
            return [fn(item) for item in items]
        return [fn(item, s) for item, s in zip(items, shared)]

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _die_with(parent: int):
    """Worker initializer: end the worker when the caller dies, however it dies.
    A caller killed by SIGKILL or SIGTERM (a CI timeout) cannot shut its pool
    down, and its workers, each holding the others' pipes open, would wait for
    work forever. Linux: PR_SET_PDEATHSIG; elsewhere nothing (no such call)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:   # the caller died before the call above
        os._exit(1)


def _can_fork() -> bool:
    # multiprocessing offers "fork" wherever os.fork exists (POSIX); asked without
    # importing it, so a build with one batch (an incremental history build's one
    # new run) never pays for multiprocessing's import.
    return hasattr(os, "fork")


def _fork_context():
    import multiprocessing
    return (multiprocessing.get_context("fork")
            if "fork" in multiprocessing.get_all_start_methods() else None)


class ProcessExecutor(SerialExecutor):
    """A local process pool of `jobs` workers (`--jobs N`).

    With fork (Linux, macOS), a pool is started when work is submitted, so workers
    inherit what the caller has loaded by then; work with `shared` objects
    gets a pool of its own forked after them (the previous one is shut down).
    """

    def __init__(self, jobs: int):
        self.workers = jobs
        self._pool = None
        self._pool_shared = None
        self._ctx = None
        self.inherits = _can_fork()

    def _get_pool(self, shared):
        global _INHERITED
        if self._pool is not None and self.inherits and shared is not None \
                and shared is not self._pool_shared:
            self._pool.shutdown(wait=True)
            self._pool = None
        if self._pool is None:
            if self.inherits:
                _INHERITED = shared
            self._pool_shared = shared
            from concurrent.futures import ProcessPoolExecutor
            if self._ctx is None:
                self._ctx = _fork_context()
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=self._ctx,
                                             initializer=_die_with, initargs=(os.getpid(),))
        return self._pool

    def submit(self, fn, items: list, weights: list[int] | None = None,
               shared: list | None = None) -> Pending:
        groups = heaviest_first(weights or [1] * len(items), self.workers)
        if len(groups) < 2:
            return super().submit(fn, items, weights, shared)
        pool = self._get_pool(shared)
        mode = ("none" if shared is None else
                "inherited" if self.inherits and shared is self._pool_shared else "shipped")
        futures = []
        try:
            for g in groups:
                entries = [(i, items[i], shared[i] if mode == "shipped" else None) for i in g]
                futures.append(pool.submit(_run_batch, fn, entries, mode))
        except BaseException:
            for f in futures:
                f.cancel()
            raise

        def cancel():
            for f in futures:
                f.cancel()
        return Pending(lambda: _merge((f.result() for f in futures), len(items)), cancel)

    def close(self):
        global _INHERITED
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = self._pool_shared = None
            _INHERITED = None


class DaskExecutor(SerialExecutor):
    """Tasks on a Dask distributed cluster (`--scheduler ADDRESS`).

    The caller stays the client: it sends batches, gathers the results in
    input order and writes the report. Workers need reportgen (the same
    version) importable; they need none of the caller's files.
    """

    shared_files = False

    def __init__(self, address: str, timeout: float = 30):
        try:
            from distributed import Client
        except ImportError:
            raise UsageError("--scheduler", "needs Dask: pip install 'reportgen[dask]'") from None
        try:
            self.client = Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as e:
            raise UsageError(address, f"cannot connect to the Dask scheduler ({e})") from None
        self.workers = max(1, sum(self.client.nthreads().values()))

    def submit(self, fn, items: list, weights: list[int] | None = None,
               shared: list | None = None) -> Pending:
        if not items:
            return Pending(list)
        groups = heaviest_first(weights or [1] * len(items), self.workers, DASK_BATCH_BYTES)
        entries = [[(i, items[i], None if shared is None else shared[i]) for i in g]
                   for g in groups]
        mode = "none" if shared is None else "shipped"
        # pure=False: equal inputs are still separate work (no result sharing by key).
        futures = self.client.map(_run_batch, [fn] * len(groups), entries,
                                  [mode] * len(groups), pure=False)

        def wait():
            try:
                return _merge((f.result() for f in futures), len(items))
            finally:
                self.client.cancel(futures)
        return Pending(wait, lambda: self.client.cancel(futures))

    def close(self):
        self.client.close()


def make_executor(jobs: int | None = None, scheduler: str | None = None):
    """The executor a build asked for: Dask with a scheduler address, else a pool of
    `jobs` processes (default: the CPU count), serial for one job."""
    if scheduler:
        return DaskExecutor(scheduler)
    jobs = jobs or cpu_count()
    return SerialExecutor() if jobs == 1 else ProcessExecutor(jobs)
