"""Goroutine lanes for the trace timeline: state segments, merged to a pixel budget.

For each shown goroutine, every stretch between two of its state
transitions is a segment (state, reason, the stack of the event that began
it). A busy 20-second trace has millions; segments shorter than the finest
zoom step are merged into their lane's bin so the page stays small, and
the result says how many were merged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reportgen.analyze.trace_stacks import StackTable
from reportgen.analyze.trace_transitions import (EMPTY, Grouped, Reasons, Transitions,
                                                 unique_rows)
from reportgen.sources.trace import spec as S

STATE_CODES = {S.GO_RUNNING: "run", S.GO_RUNNABLE: "wait-p", S.GO_WAITING: "blocked",
               S.GO_SYSCALL: "syscall"}


@dataclass
class Timeline:
    start_ns: int
    end_ns: int
    lanes: list  # [{"id", "label", "segs": [[start, end, state, reason index, stack index]]}]
    reasons: list  # strings
    stacks: list  # strings ("func file:line" lines, leaf first)
    segments: int  # drawn
    merged: int  # segments folded into a neighbour's bin
    lanes_total: int  # goroutines in the trace
    step_ns: int  # stretches shorter than this were merged


def goroutine_timeline(events, groups, start: int, end: int, max_lanes: int = 120,
                       budget: int = 40000) -> Timeline:
    """Lanes for the goroutines with the most time (program goroutines first).

    Each lane gets budget/lanes bins (at least 400) over the trace: segments
    shorter than a bin are merged into one stretch showing its dominant
    state, and neighbouring merged stretches in the same state are joined,
    so the page holds at most about `budget` segments whatever the trace's size.
    """
    rec = SegmentRecorder(StackTable())
    rec.feed(Transitions.of_events(events, rec.stacks, rec.reasons))
    return rec.timeline(groups, start, end, max_lanes, budget)


_DRAWN = np.array(sorted(STATE_CODES), dtype=np.int64)


class SegmentRecorder:
    """Every goroutine's state segments, fed a generation's Transitions at a time.

    A segment runs from a transition into a drawn state (STATE_CODES) to the
    goroutine's next transition. Which goroutines get a lane is known only at
    the end, so each segment is kept as four integers (goroutine, begin, end,
    kind: state, reason and StackTable ID numbered together) rather than as
    events; the segments still open are carried into the next feed as rows.
    """

    def __init__(self, stacks: StackTable, reasons: Reasons | None = None):
        self.stacks = stacks
        self.reasons = reasons or Reasons()
        self._kinds: dict = {}  # (state, reason, stack ID) -> kind
        self._rows: list = []  # arrays of (goroutine, begin, end, kind)
        self._carry = Transitions.empty()  # the transitions that began the open segments

    def _kind_of(self, state, reason, stack) -> np.ndarray:
        """The kind of each (state, reason code, stack ID) row."""
        if not len(state):
            return EMPTY
        uniq, inv = unique_rows(state, reason, stack)
        kinds = self._kinds
        names = self.reasons.names
        ids = np.fromiter((kinds.setdefault((s, names[r], k), len(kinds))
                           for s, r, k in zip(*(u.tolist() for u in uniq))), dtype=np.int64,
                          count=len(uniq[0]))
        return ids[inv]

    def feed(self, tr: Transitions):
        G = Grouped(self._carry, tr)
        if not G.n:
            return
        drawn = np.isin(G.state, _DRAWN)
        # every transition ends the segment its goroutine's previous transition began
        close = np.flatnonzero(~G.first[1:] & drawn[:-1]) + 1
        begin = close - 1
        if len(close):
            kind = self._kind_of(G.state[begin], G.reason[begin], G.stack[begin])
            self._rows.append(np.stack((G.gid[close], G.time[begin], G.time[close], kind),
                                       axis=1))
        self._carry = G.rows(np.flatnonzero(G.last & drawn))

    def timeline(self, groups, start: int, end: int, max_lanes: int = 120,
                 budget: int = 40000) -> Timeline:
        """goroutine_timeline over everything fed, for a trace from `start` to `end` ns."""
        gs = [x for g in groups for x in g.goroutines]
        gs.sort(key=lambda x: (x.name.startswith("runtime.") and x.name != "runtime.main",
                               -x.stats.total_ns, x.id))
        shown = {x.id: x for x in gs[:max_lanes]}
        c = self._carry
        open_kinds = self._kind_of(c.state, c.reason, c.stack).tolist()
        kinds = list(self._kinds)
        raw: dict = {gid: [] for gid in shown}
        if self._rows:
            rows = np.concatenate(self._rows)
            rows = rows[np.isin(rows[:, 0], np.fromiter(shown, dtype=np.int64,
                                                         count=len(shown)))]
            for gid, s, e, k in rows.tolist():
                raw[gid].append((s, e, k))
        for gid, t, k in zip(c.gid.tolist(), c.time.tolist(), open_kinds):
            if gid in raw:
                raw[gid].append((t, end, k))
        frames = self.stacks.frames
        reasons: dict = {"": 0}
        stacks: dict = {"": 0}
        bins = max(400, budget // max(1, len(shown)))
        step = max(1, (end - start) // bins)
        lanes, drawn, merged = [], 0, 0
        for gid, x in shown.items():
            segs = []
            pending = None  # [start, end, {state: ns}]
            for s, e, k in raw[gid]:
                state, reason, sid = kinds[k]
                if e - s >= step:
                    if pending:
                        segs.append(_flush(pending, start))
                        pending = None
                    text = "\n".join(f"{f[1]} {f[2]}:{f[3]}" for f in frames[sid][:8])
                    segs.append([s - start, e - start, STATE_CODES[state],
                                 reasons.setdefault(reason, len(reasons)),
                                 stacks.setdefault(text, len(stacks))])
                    continue
                merged += 1
                if pending is None or s - pending[0] >= step:
                    if pending:
                        segs.append(_flush(pending, start))
                    pending = [s, e, {}]
                pending[1] = e
                code = STATE_CODES[state]
                pending[2][code] = pending[2].get(code, 0) + e - s
            if pending:
                segs.append(_flush(pending, start))
            segs = _join_merged(segs)
            drawn += len(segs)
            lanes.append({"id": gid, "label": f"G{gid} {x.name}", "segs": segs})
        return Timeline(0, end - start, lanes, list(reasons), list(stacks), drawn, merged,
                        len(gs), step)


def _join_merged(segs: list) -> list:
    """Neighbouring merged stretches in the same state become one."""
    out: list = []
    for seg in segs:
        prev = out[-1] if out else None
        if prev and seg[2][0] == "~" and prev[2] == seg[2] and prev[1] == seg[0]:
            prev[1] = seg[1]
        else:
            out.append(seg)
    return out


def _flush(p, start) -> list:
    """A merged stretch: its dominant state, marked with "~" (detail merged here)."""
    state = max(p[2].items(), key=lambda kv: (kv[1], kv[0]))[0]
    return [p[0] - start, p[1] - start, "~" + state, 0, 0]
