"""Reader for the runtime's GODEBUG traces on stderr: gctrace, scavtrace, schedtrace.

The runtime prints these lines with its own `print` (runtime/mgc.go
gcMarkTermination, mgcscavenge.go printScavTrace, proc.go schedtrace) onto
the same stream as the program's output, so the reader looks for each line
anywhere in a text line (after a log prefix, glued to a partial line of the
program's output) and counts, never fails on, what it cannot read.

Forms read (the Go release that introduced each):
- gctrace 1.5: `gc #7 @0.1s 2%: a+b+c+d+e ms clock, a+b+c+d/e/f+g ms cpu, ...`
- gctrace 1.6+: `gc 7 @0.1s 2%: a+b+c ms clock, a+b/c/d+e ms cpu, 4->5->1 MB, 5 MB goal, 4 P`
- gctrace 1.18+: `..., 5 MB goal, 0 MB stacks, 0 MB globals, 4 P`; 1.27 adds
  `(checking for goroutine leaks)` after the percentage. Any parenthesised
  marker after the percentage or at the end (`(forced)`) is kept.
- scavenger, Go ≤ 1.12 (with gctrace): `scvg3: inuse: 4, idle: 1, sys: 5, released: 0, consumed: 5 (MB)`
  and `scvg3: 0 MB released`; scavtrace 1.14-1.18: `scav 3 64 KiB work, 512 KiB total, 96% util`;
  1.19+: `scav 64 KiB work (bg), 0 KiB work (eager), 512 KiB now, 96% util`.
- schedtrace: `SCHED 1004ms: gomaxprocs=4 idleprocs=1 ... runqueue=0 [0 1 0 0]` (1.22+ spaces
  the brackets and adds `schedticks=[...]`); with scheddetail=1 the `  P0: ...`,
  `  M1: ...` and `  G1: status=4(chan receive) ...` lines under it.
The Go 1.4 form (`gc12(4): ... us, ...`) predates all of these and is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from reportgen.errors import ProfileError
from reportgen.sources.files import read_bytes

# Longer numbers than this are absurd in a trace line (the runtime prints
# 64-bit values): the line is skipped and counted, never converted.
_NUM = r"\d{1,19}"
_MS = r"\d{1,12}(?:\.\d{1,9})?"
_MARKERS = r"(?P<{}>(?: \([^()]{{1,80}}\))*)"
# A trace line may be glued to the end of a partial line of the program's
# output ("handled 17gc 3 @..."): not preceded by a letter is enough.
_START = r"(?<![A-Za-z_])"

_GC_HEAD = re.compile(
    _START + rf"gc (?P<hash>#)?(?P<n>{_NUM}) @(?P<at>{_MS})s (?P<pct>{_NUM})%" + _MARKERS.format("pre")
    + ": ")
_CLOCK = re.compile(rf"(?P<v>{_MS}(?:\+{_MS}){{2,5}}) ms clock, ")
_CPU = re.compile(rf"(?P<v>{_MS}(?:[+/]{_MS}){{4,8}}) ms cpu, ")
_HEAP = re.compile(rf"(?P<h0>{_NUM})->(?P<h1>{_NUM})->(?P<h2>{_NUM}) MB, ")
_GOAL = re.compile(rf"(?P<goal>{_NUM}) MB goal, ")
_EXTRA_MB = re.compile(rf"(?P<v>{_NUM}) MB (?P<name>[a-z]{{1,20}}), ")
_PROCS = re.compile(rf"(?P<procs>{_NUM}) P" + _MARKERS.format("post") + r"\s*$")
_PAREN = re.compile(r"\(([^()]*)\)")

_GO14 = re.compile(_START + r"gc\d+\(\d+\): [\d+]+ us, ")
_SCVG_OLD = re.compile(
    _START + rf"scvg(?P<n>-?{_NUM}): inuse: (?P<inuse>{_NUM}), idle: (?P<idle>{_NUM}), "
    rf"sys: (?P<sys>{_NUM}), released: (?P<released>{_NUM}), consumed: (?P<consumed>{_NUM}) \(MB\)")
_SCVG_RELEASED = re.compile(_START + rf"scvg(?P<n>-?{_NUM}): (?P<mb>{_NUM}) MB released")
_SCAV_114 = re.compile(
    _START + rf"scav (?:{_NUM} )?(?P<work>{_NUM}) KiB work, (?P<now>{_NUM}) KiB total, "
    rf"(?P<util>{_NUM})% util" + _MARKERS.format("post"))
_SCAV_119 = re.compile(
    _START + rf"scav (?P<work>{_NUM}) KiB work \(bg\), (?P<eager>{_NUM}) KiB work \(eager\), "
    rf"(?P<now>{_NUM}) KiB now, (?P<util>{_NUM})% util" + r"(?P<post>(?: [(\[][^()\[\]]{1,80}[)\]])*)")
_SCHED = re.compile(_START + rf"SCHED (?P<ms>{_NUM})ms: (?P<rest>.*)$")
_SCHED_HEAD = re.compile(_START + rf"SCHED {_NUM}ms: gomaxprocs=", re.M)  # for detection
_KV = re.compile(r"([a-z]+)=(-?\w+)")
_LOCAL = re.compile(r"\[((?: ?-?\d{1,19})*) ?\]")
_DETAIL_P = re.compile(rf"^\s+P(?P<id>{_NUM}): status=(?P<status>{_NUM}) .*?runqsize=(?P<q>-?{_NUM})")
_DETAIL_M = re.compile(rf"^\s+M(?P<id>{_NUM}): p=(?P<p>\w+) curg=(?P<curg>\w+)")
_DETAIL_G = re.compile(rf"^\s+G(?P<id>{_NUM}): status=(?P<status>{_NUM})\((?P<reason>.*?)\) m=")

# runtime2.go's goroutine statuses, as scheddetail prints them.
G_STATUS = {0: "idle", 1: "runnable", 2: "running", 3: "syscall", 4: "waiting", 6: "dead",
            8: "copystack", 9: "preempted"}
# runtime2.go's P statuses.
P_STATUS = {0: "idle", 1: "running", 2: "syscall", 3: "gcstop", 4: "dead"}


@dataclass
class GCCycle:
    """One `gc N` line. Times in milliseconds, heap sizes in MiB as printed (the
    runtime shifts bytes right by 20, so they are whole MiB rounded down)."""
    n: int
    at_s: float                   # start of the cycle, seconds since the program started
    cpu_percent: int              # GC's share of CPU since the program started, as printed
    clock_ms: tuple[float, ...]   # wall time per phase; first and last are stop-the-world
    cpu_ms: tuple[float, ...]     # CPU per phase as printed: STW sweep term, [1.5: scan, sync,]
    #                               assist, background, idle, STW mark term
    heap_start_mb: int
    heap_end_mb: int
    live_mb: int                  # marked (live) heap at the end of the cycle
    goal_mb: int
    procs: int
    stacks_mb: int | None = None  # Go 1.18+
    globals_mb: int | None = None
    forced: bool = False
    markers: tuple[str, ...] = ()  # every parenthesised marker, e.g. "forced"
    line: int = 0

    @property
    def stw_ms(self) -> float:
        """Stop-the-world pause: sweep termination + mark termination (wall)."""
        return self.clock_ms[0] + self.clock_ms[-1]

    @property
    def mark_ms(self) -> float:
        """Concurrent phases' wall time (mark and scan; 1.5 also has scan and sync)."""
        return sum(self.clock_ms[1:-1])

    @property
    def assist_ms(self) -> float:
        return self.cpu_ms[-4]

    @property
    def background_ms(self) -> float:
        return self.cpu_ms[-3]

    @property
    def idle_ms(self) -> float:
        return self.cpu_ms[-2]

    @property
    def gc_cpu_ms(self) -> float:
        """All CPU the cycle cost, idle-time marking included."""
        return sum(self.cpu_ms)


@dataclass
class ScavLine:
    """One scavenger line. `released_kib` is what this line's work returned to the
    OS; `retained_kib`/`util_pct` exist in the scavtrace forms, the MB fields in
    the old scvg form."""
    line: int
    at_s: float | None            # time of the last gc line before it (scav lines carry none)
    released_kib: int
    eager_kib: int | None = None
    now_released_kib: int | None = None  # total released to the OS so far
    util_pct: int | None = None
    inuse_mb: int | None = None
    idle_mb: int | None = None
    sys_mb: int | None = None
    consumed_mb: int | None = None
    forced: bool = False
    form: str = "scav"            # "scav" (1.19+), "scav-1.14", "scvg"


@dataclass
class SchedSample:
    """One `SCHED Nms:` line, with its scheddetail lines when present."""
    ms: int
    gomaxprocs: int
    idleprocs: int
    threads: int
    spinning: int
    idlethreads: int
    runqueue: int                       # the global run queue
    local: tuple[int, ...]              # per-P run queue lengths
    line: int
    g_states: dict[str, int] = field(default_factory=dict)   # scheddetail: "waiting: chan receive" → n
    p_states: dict[str, int] = field(default_factory=dict)

    @property
    def runnable(self) -> int:
        """Goroutines waiting for a P: global + per-P queues."""
        return self.runqueue + sum(self.local)


@dataclass
class GCLog:
    """Everything read from one log. `skipped` holds (line, reason) for trace lines
    that could not be read (absurd numbers, cut short); other text is `other_lines`."""
    path: str
    cycles: list[GCCycle]
    scav: list[ScavLine]
    sched: list[SchedSample]
    skipped: list[tuple[int, str]]
    other_lines: int
    form: str                           # "go1.5", "go1.6+", "go1.18+" (the newest seen), "" without gc lines


def detect_gctrace(data: bytes) -> bool:
    """True when the first 64 KiB hold a gctrace, scavtrace or schedtrace line."""
    head = data[:65536].decode("utf-8", "replace")
    return bool(_GC_HEAD.search(head) or _SCHED_HEAD.search(head) or _SCVG_OLD.search(head)
                or _SCAV_119.search(head) or _SCAV_114.search(head) or _GO14.search(head))


def load_gctrace(path, data: bytes | None = None) -> GCLog:
    """Read a log file. Raises ProfileError when it holds no trace line at all,
    or only Go 1.4's form."""
    if data is None:
        data = read_bytes(path, what="a log")
    return parse_gctrace(path, data.decode("utf-8", "replace"))


def parse_gctrace(path, text: str) -> GCLog:
    """The trace lines of `text` (any line ends); see the module doc for the forms."""
    cycles, scav, sched, skipped = [], [], [], []
    other, go14, last_at, current = 0, 0, None, None
    lines = text.splitlines()
    for i, raw in enumerate(lines, 1):
        line = raw.rstrip("\r")
        if current is not None and line[:1] == " " and _detail(line, current):
            continue
        head = _GC_HEAD.search(line)
        if head:
            cycle = _gc_line(line, head, i)
            if cycle is None:
                skipped.append((i, "cut short" if i == len(lines) else "unreadable gc line"))
            else:
                cycles.append(cycle)
                last_at = cycle.at_s
            continue
        s = _scav_line(line, i, last_at)
        if s is not None:
            scav.append(s)
            continue
        m = _SCHED.search(line)
        if m:
            current = _sched_line(m, i)
            if current is None:
                skipped.append((i, "unreadable SCHED line"))
            else:
                sched.append(current)
            continue
        if _GO14.search(line):
            go14 += 1
        elif "gc " in line and "ms clock" in line or "SCHED " in line:
            skipped.append((i, "trace line with numbers out of range"))
        else:
            other += 1
    if not (cycles or scav or sched):
        if go14:
            raise ProfileError(path, "Go 1.4's gctrace form (gcN(P): ... us) is not supported; "
                                     "capture the log with Go 1.5 or newer")
        raise ProfileError(path, "no gctrace, scavtrace or schedtrace line in the file")
    form = ("" if not cycles else "go1.18+" if any(c.stacks_mb is not None for c in cycles)
            else "go1.5" if any(len(c.clock_ms) == 5 for c in cycles) else "go1.6+")
    return GCLog(str(path), cycles, scav, sched, skipped, other, form)


def _floats(text: str, seps: str) -> tuple[float, ...]:
    return tuple(float(x) for x in re.split(f"[{re.escape(seps)}]", text))


def _gc_line(line: str, head: re.Match, n: int) -> GCCycle | None:
    """The fields after `gc N @Ts P%: `, in the order the runtime prints them."""
    pos = head.end()
    parts = {}
    for name, rx in (("clock", _CLOCK), ("cpu", _CPU), ("heap", _HEAP), ("goal", _GOAL)):
        m = rx.match(line, pos)
        if not m:
            return None
        parts[name], pos = m, m.end()
    extra = {}
    while (m := _EXTRA_MB.match(line, pos)):
        extra[m["name"]], pos = int(m["v"]), m.end()
    m = _PROCS.match(line, pos)
    if not m:
        return None
    clock = _floats(parts["clock"]["v"], "+")
    cpu = _floats(parts["cpu"]["v"], "+/")
    if len(clock) not in (3, 5) or len(cpu) != len(clock) + 2:
        return None
    markers = tuple(_PAREN.findall(head["pre"])) + tuple(_PAREN.findall(m["post"]))
    h = parts["heap"]
    return GCCycle(
        n=int(head["n"]), at_s=float(head["at"]), cpu_percent=int(head["pct"]), clock_ms=clock,
        cpu_ms=cpu, heap_start_mb=int(h["h0"]), heap_end_mb=int(h["h1"]), live_mb=int(h["h2"]),
        goal_mb=int(parts["goal"]["goal"]), procs=int(m["procs"]), stacks_mb=extra.get("stacks"),
        globals_mb=extra.get("globals"), forced="forced" in markers, markers=markers, line=n)


def _scav_line(line: str, n: int, at: float | None) -> ScavLine | None:
    if (m := _SCAV_119.search(line)):
        return ScavLine(n, at, int(m["work"]), eager_kib=int(m["eager"]),
                        now_released_kib=int(m["now"]), util_pct=int(m["util"]),
                        forced="forced" in m["post"])
    if (m := _SCAV_114.search(line)):
        return ScavLine(n, at, int(m["work"]), now_released_kib=int(m["now"]),
                        util_pct=int(m["util"]), forced="forced" in m["post"], form="scav-1.14")
    if (m := _SCVG_OLD.search(line)):
        return ScavLine(n, at, 0, inuse_mb=int(m["inuse"]), idle_mb=int(m["idle"]),
                        sys_mb=int(m["sys"]), consumed_mb=int(m["consumed"]),
                        now_released_kib=int(m["released"]) << 10, forced=m["n"] == "-1",
                        form="scvg")
    if (m := _SCVG_RELEASED.search(line)):
        return ScavLine(n, at, int(m["mb"]) << 10, forced=m["n"] == "-1", form="scvg")
    return None


def _sched_line(m: re.Match, n: int) -> SchedSample | None:
    rest = m["rest"]
    kv = dict(_KV.findall(rest))
    local = _LOCAL.search(rest)
    try:
        return SchedSample(
            ms=int(m["ms"]), gomaxprocs=int(kv["gomaxprocs"]), idleprocs=int(kv["idleprocs"]),
            threads=int(kv["threads"]), spinning=int(kv.get("spinningthreads", 0)),
            idlethreads=int(kv.get("idlethreads", 0)), runqueue=int(kv["runqueue"]),
            local=tuple(int(x) for x in local[1].split()) if local else (), line=n)
    except (KeyError, ValueError):
        return None


def _detail(line: str, sample: SchedSample) -> bool:
    """Fold one scheddetail line into the sample it follows; False if it is none."""
    if (m := _DETAIL_G.match(line)):
        status = G_STATUS.get(int(m["status"]), f"status {m['status']}")
        # The wait reason is current only while waiting; a runnable goroutine keeps its last one.
        key = f"{status}: {m['reason']}" if status == "waiting" and m["reason"] else status
        sample.g_states[key] = sample.g_states.get(key, 0) + 1
        return True
    if (m := _DETAIL_P.match(line)):
        status = P_STATUS.get(int(m["status"]), f"status {m['status']}")
        sample.p_states[status] = sample.p_states.get(status, 0) + 1
        if len(sample.local) < sample.gomaxprocs:  # detailed mode prints no [..] list
            sample.local = sample.local + (max(int(m["q"]), 0),)
        return True
    return bool(_DETAIL_M.match(line))
