"""One numbering of stacks across a trace's generations.

Each generation of an execution trace has its own stack table, so the same
stack has different IDs in different generations. The analyses that read a
trace a generation at a time keep a StackTable ID per distinct stack
(equal frames, equal ID) instead of holding on to every generation's
tables; 0 is the empty stack.
"""

from __future__ import annotations

from reportgen.sources.trace import spec as S

_STACK_ARG = S.STACK_ARG
_CPU_SAMPLE = S.EV_CPU_SAMPLE


class StackTable:
    """frames: [tuple of (pc, function, file, line), leaf first] indexed by stack ID."""

    def __init__(self):
        self.frames: list = [()]
        self._ids: dict = {(): 0}
        self._table = None  # the generation whose IDs _local maps
        self._local: dict = {}

    def id_of(self, ev) -> int:
        """The StackTable ID of the event's own stack (Event.stack_id() in its generation)."""
        typ = ev.typ  # ev.stack_id(), inline: called for every stretch that begins
        if typ == _CPU_SAMPLE:
            sid = ev.args[0]
        else:
            i = _STACK_ARG[typ]
            sid = ev.args[i] if i >= 0 else 0
        if sid == 0:
            return 0
        return self.id_for(ev.table, sid)

    def id_for(self, table, sid: int) -> int:
        """The StackTable ID of stack `sid` of generation `table` (a wire.Generation)."""
        if sid == 0:
            return 0
        if table is not self._table:
            self._table = table
            self._local = {}
        i = self._local.get(sid)
        if i is None:
            frames = tuple(table.frames(sid))
            i = self._ids.get(frames)
            if i is None:
                i = self._ids[frames] = len(self.frames)
                self.frames.append(frames)
            self._local[sid] = i
        return i
