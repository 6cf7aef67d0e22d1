"""User annotations in a trace: regions and tasks by type, and user logs.

Mirrors go tool trace's "User-defined regions" and "User-defined tasks"
pages (cmd/trace regions.go, tasks.go): regions grouped by (type, start
location) with count and a duration distribution; tasks by type with count
and durations. A region or task without a start or end in the trace is
measured from the trace's start or to its end, as go tool trace does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EMPTY_NAME = "(empty name)"  # how a region or task type "" is shown (the JSON keeps "")


def type_label(name: str) -> str:
    """A region or task type as shown on the page and in text: "" is made visible."""
    return name if name else EMPTY_NAME


@dataclass
class RegionType:
    name: str
    count: int
    total_ns: int
    durations: list  # ns, ascending
    exec_ns: int
    block_ns: int  # all block reasons and syscall blocking
    sched_wait_ns: int
    syscall_ns: int

    def as_dict(self) -> dict:
        d = np.array(self.durations or [0], dtype=np.int64)
        return {"type": self.name, "count": self.count, "total_ns": self.total_ns,
                "mean_ns": int(d.sum() // max(1, self.count)),
                "p50_ns": int(np.percentile(d, 50, method="lower")),
                "p99_ns": int(np.percentile(d, 99, method="lower")),
                "max_ns": int(d.max()), "execution_ns": self.exec_ns,
                "block_ns": self.block_ns, "sched_wait_ns": self.sched_wait_ns,
                "syscall_ns": self.syscall_ns}


def region_types(summary, start_ns: int, end_ns: int) -> list:
    """RegionType per region name over every goroutine's regions, most total time first."""
    by: dict = {}
    for g in summary.goroutines.values():
        for r in g.regions:
            if r.inherited:
                continue  # the task-inheriting stub of a goroutine created in a region
            s = r.start_ns if r.start_ns is not None else start_ns
            e = r.end_ns if r.end_ns is not None else end_ns
            by.setdefault(r.name, []).append((e - s, r.stats))
    out = []
    for name, items in by.items():
        durs = sorted(d for d, _ in items)
        st = [s for _, s in items]
        out.append(RegionType(name, len(items), sum(durs), durs, sum(s.exec_ns for s in st),
                              sum(sum(s.block_ns.values()) + s.syscall_block_ns for s in st),
                              sum(s.sched_wait_ns for s in st), sum(s.syscall_ns for s in st)))
    out.sort(key=lambda r: (-r.total_ns, r.name))
    return out


def task_types(summary, start_ns: int, end_ns: int) -> list:
    """[{type, count, complete, total_ns, max_ns, logs}] per task name, most total time first."""
    by: dict = {}
    for t in summary.tasks.values():
        if t.start_ns is None and t.end_ns is None and not t.name:
            continue  # a task only referenced by a region or log (the background task)
        s = t.start_ns if t.start_ns is not None else start_ns
        e = t.end_ns if t.end_ns is not None else end_ns
        row = by.setdefault(t.name, {"type": t.name, "count": 0, "complete": 0, "total_ns": 0,
                                     "max_ns": 0, "logs": 0})
        row["count"] += 1
        row["complete"] += t.start_ns is not None and t.end_ns is not None
        row["total_ns"] += e - s
        row["max_ns"] = max(row["max_ns"], e - s)
        row["logs"] += len(t.logs)
    return sorted(by.values(), key=lambda r: (-r["total_ns"], r["type"]))
