"""Goroutine lanes for the trace timeline: state segments, merged to a pixel budget.

For each shown goroutine, every stretch between two of its state
transitions is a segment (state, reason, the stack of the event that began
it). A busy 20-second trace has millions; segments shorter than the finest
zoom step are merged into their lane's bin so the page stays small, and
the result says how many were merged.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter

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
            kind = self._kind_of(G.state[begin], G.take("reason", begin),
                                 G.take("stack", begin))
            self._rows.append(np.stack((G.gid[close], G.take("time", begin),
                                        G.take("time", close), kind), axis=1))
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
        ids = np.fromiter(shown, dtype=np.int64, count=len(shown))
        rows = np.concatenate(self._rows) if self._rows else np.zeros((0, 4), np.int64)
        rows = rows[np.isin(rows[:, 0], ids)]
        # the segments still open at the end run to it; each goroutine's come last
        keep = np.isin(c.gid, ids)
        rows = np.concatenate((rows, np.stack((c.gid[keep], c.time[keep],
                                               np.full(int(keep.sum()), end, dtype=np.int64),
                                               np.array(open_kinds, dtype=np.int64)[keep]),
                                              axis=1).reshape(-1, 4)))
        rows = rows[np.argsort(rows[:, 0], kind="stable")]  # by lane, in time order within
        bounds = np.searchsorted(rows[:, 0], ids), np.searchsorted(rows[:, 0], ids, "right")
        # per kind: its drawn state's column among _CODES (a merged stretch shows the state
        # with the most time, ties to the later name: _CODES runs in reverse name order)
        code_of = np.array([_CODES.index(STATE_CODES[st]) for st, _, _ in kinds] or [0],
                           dtype=np.int64)
        frames = self.stacks.frames
        texts: dict = {}
        reasons: dict = {"": 0}
        stacks: dict = {"": 0}
        bins = max(400, budget // max(1, len(shown)))
        step = max(1, (end - start) // bins)
        lanes, drawn, merged = [], 0, 0
        for (gid, x), lo, hi in zip(shown.items(), bounds[0].tolist(), bounds[1].tolist()):
            segs = []
            S, E, K = rows[lo:hi, 1], rows[lo:hi, 2], rows[lo:hi, 3]
            short = (E - S) < step
            merged += int(short.sum())
            for i in np.flatnonzero(~short).tolist():  # a segment of its own
                state, reason, sid = kinds[K[i]]
                text = texts.get(sid)
                if text is None:
                    text = texts[sid] = "\n".join(f"{f[1]} {f[2]}:{f[3]}"
                                                   for f in frames[sid][:8])
                segs.append((i, [int(S[i]) - start, int(E[i]) - start, STATE_CODES[state],
                                 reasons.setdefault(reason, len(reasons)),
                                 stacks.setdefault(text, len(stacks))]))
            segs += _merged_stretches(S, E, code_of[K], short, step, start)
            segs.sort(key=_first)
            segs = _join_merged([seg for _, seg in segs])
            drawn += len(segs)
            lanes.append({"id": gid, "label": f"G{gid} {x.name}", "segs": segs})
        return Timeline(0, end - start, lanes, list(reasons), list(stacks), drawn, merged,
                        len(gs), step)


_CODES = sorted(set(STATE_CODES.values()), reverse=True)
_first = itemgetter(0)


def _merged_stretches(S, E, code, short, step: int, start: int) -> list:
    """[(index of its first segment, [start, end, "~" + dominant state, 0, 0])] for a lane's
    short segments (S, E: their times; code: their state's column in _CODES).

    A stretch begins at a short segment and takes the short ones after it that begin
    less than `step` after it, up to the next segment of its own; its state is the one
    with the most time in it.
    """
    idx = np.flatnonzero(short)
    if not len(idx):
        return []
    starts = S[idx]
    # where each run of consecutive short segments ends (a long one comes between)
    run_end = np.flatnonzero(np.diff(idx) != 1) + 1
    run_end = np.append(run_end, len(idx))
    first = []
    i, r = 0, 0
    n = len(idx)
    ends = run_end.tolist()
    while i < n:
        while ends[r] <= i:
            r += 1
        first.append(i)
        i = min(int(np.searchsorted(starts, starts[i] + step, "left")), ends[r])
    first = np.array(first, dtype=np.int64)
    last = np.append(first[1:], n) - 1
    group = np.zeros(n, dtype=np.int64)
    group[first[1:]] = 1
    group = np.cumsum(group)
    ns = np.zeros((len(first), len(_CODES)), dtype=np.int64)
    np.add.at(ns, (group, code[idx]), E[idx] - S[idx])
    seen = np.zeros((len(first), len(_CODES)), dtype=bool)
    seen[group, code[idx]] = True
    dominant = np.argmax(np.where(seen, ns, -1), axis=1)
    return [(int(idx[a]), [int(S[idx[a]]) - start, int(E[idx[b]]) - start, "~" + _CODES[c], 0, 0])
            for a, b, c in zip(first.tolist(), last.tolist(), dominant.tolist())]


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
