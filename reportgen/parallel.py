"""Running a build's independent work in order: in-process, on a process pool, or on Dask.

An executor maps a picklable, module-level function over a list of inputs
and returns the results as a list in input order, whatever ran where, so a
build merges them exactly as a serial build would and its output is
byte-identical for any number of workers. The first failing input (in input
order, not in finishing order) raises its exception in the caller; a
ReportgenError keeps its class and message across the process boundary
(see ReportgenError.__reduce__).

Inputs are grouped into contiguous batches (see `batches`): a task per input
would spend more on scheduling and pickling than on work when the inputs are
thousands of small profiles.

- SerialExecutor (`--jobs 1`): a plain loop in the caller.
- ProcessExecutor (`--jobs N`): concurrent.futures' process pool, started on
  first use and only when there are two or more batches, so a one-profile
  build never pays for it (nor holds its profile twice).
- DaskExecutor (`--scheduler ADDRESS`): a `distributed.Client` on an existing
  cluster; needs the optional extra `reportgen[dask]`. Workers may not see
  the caller's files (`shared_files` is False), so callers send bytes.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from itertools import accumulate
import os

from reportgen.errors import UsageError

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
    items), more if needed to keep each range near `max_weight`. Contiguous
    ranges in order keep the reassembly trivial and deterministic.
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


def _run_batch(fn, items):
    """One task: fn over a batch of inputs (runs in a worker)."""
    return [fn(item) for item in items]


class SerialExecutor:
    """Everything in the caller, one input after another (`--jobs 1`)."""

    workers = 1
    shared_files = True

    def map(self, fn, items: list, weights: list[int] | None = None) -> list:
        return [fn(item) for item in items]

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class ProcessExecutor(SerialExecutor):
    """A local process pool of `jobs` workers (`--jobs N`)."""

    def __init__(self, jobs: int):
        self.workers = jobs
        self._pool = None

    def _get_pool(self):
        if self._pool is None:
            # fork: workers start in milliseconds with reportgen already imported;
            # the caller has started no threads of its own at this point.
            # Loaded here: a build with one batch (an incremental history build's one
            # new run) never pays for multiprocessing's import.
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor
            methods = multiprocessing.get_all_start_methods()
            ctx = multiprocessing.get_context("fork" if "fork" in methods else None)
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx)
        return self._pool

    def map(self, fn, items: list, weights: list[int] | None = None) -> list:
        groups = batches(weights or [1] * len(items), self.workers)
        if len(groups) < 2:
            return super().map(fn, items)
        pool = self._get_pool()
        futures = [pool.submit(_run_batch, fn, [items[i] for i in g]) for g in groups]
        out = []
        try:
            for f in futures:
                out.extend(f.result())
        except BaseException:
            for f in futures:
                f.cancel()
            raise
        return out

    def close(self):
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


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

    def map(self, fn, items: list, weights: list[int] | None = None) -> list:
        if not items:
            return []
        groups = batches(weights or [1] * len(items), self.workers, DASK_BATCH_BYTES)
        # pure=False: equal inputs are still separate work (no result sharing by key).
        futures = self.client.map(_run_batch, [fn] * len(groups),
                                  [[items[i] for i in g] for g in groups], pure=False)
        out = []
        try:
            for f in futures:
                out.extend(f.result())
        finally:
            self.client.cancel(futures)
        return out

    def close(self):
        self.client.close()


def make_executor(jobs: int | None = None, scheduler: str | None = None):
    """The executor a build asked for: Dask with a scheduler address, else a pool of
    `jobs` processes (default: the CPU count), serial for one job."""
    if scheduler:
        return DaskExecutor(scheduler)
    jobs = jobs or cpu_count()
    return SerialExecutor() if jobs == 1 else ProcessExecutor(jobs)
