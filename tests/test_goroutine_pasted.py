"""Goroutine dumps as they arrive in tickets and chats: behind log prefixes and indents,
with CRLF line ends or tabs expanded to spaces, inside test output, after 64 KiB of
other text, with frames from C code and frames printed without arguments.

Each pasted form of one dump must read as that dump: as many goroutines as
there are `goroutine N [` headers, and every frame the text shows."""

import re
from pathlib import Path

import pytest

from reportgen.sources.goroutines import detect_goroutine_text, load_goroutines, parse_goroutines

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT.parent / "shared" / "cases"
HEADERS = re.compile(r"goroutine \d+(?: [a-z]+=\S+)* \[[^\]\n]*\][^\n]*:\r?$", re.M)

DUMP = """\
goroutine 1 [running]:
runtime/pprof.writeGoroutineStacks({0x5e0568, 0xc00001e008})
\truntime/pprof/pprof.go:816 +0x69
main.main()
\t/home/dev/svc/main.go:24 +0x145

goroutine 18 [chan receive, 3 minutes]:
main.waitForever(...)
\t/home/dev/svc/main.go:10
created by main.main in goroutine 1
\t/home/dev/svc/main.go:19 +0x65

goroutine 22 [sync.Mutex.Lock] {tenant: acme}:
sync.(*Mutex).Lock(...)
\tsync/mutex.go:46
main.main.func1()
\t/home/dev/svc/main.go:22 +0x2c
created by main.main in goroutine 1
\t/home/dev/svc/main.go:22 +0x10e
"""

# (id, state, [(function, file, line)], creator or None) for each goroutine of DUMP.
WANT = [
    (1, "running", [("runtime/pprof.writeGoroutineStacks", "runtime/pprof/pprof.go", 816),
                    ("main.main", "/home/dev/svc/main.go", 24)], None),
    (18, "chan receive", [("main.waitForever", "/home/dev/svc/main.go", 10)],
     ("main.main", "/home/dev/svc/main.go", 19, 1)),
    (22, "sync.Mutex.Lock", [("sync.(*Mutex).Lock", "sync/mutex.go", 46),
                             ("main.main.func1", "/home/dev/svc/main.go", 22)],
     ("main.main", "/home/dev/svc/main.go", 22, 1)),
]


def shape(snap):
    return [(g.id, g.state, [tuple(f) for f in g.frames],
             tuple(g.created_by) if g.created_by else None) for g in snap.goroutines]


def read(text: str, name="pasted.txt"):
    data = text.encode()
    assert detect_goroutine_text(data)
    return load_goroutines(name, data).snapshot


def log_prefixed(text):
    """Each line behind a log prefix whose time stamp moves on."""
    return "".join(f"2026-11-28T03:12:{i % 60:02d}.{i * 37 % 1000}Z app[4711]: {line}\n"
                   for i, line in enumerate(text.splitlines()))


def tabs_expanded(text, indent="    "):
    return "".join(indent + line.expandtabs(8) + "\n" for line in text.splitlines())


def goconvey(text):
    """A failure report of goconvey: its lines indented by two spaces, tabs expanded."""
    report = ("=== RUN   TestArchive\n\nFailures:\n\n  * /home/dev/svc/archive_test.go\n"
              "  Line 209:\n  Expected: 'nil'\n  Actual:   'context canceled'\n"
              "  (Should resemble)!\n")
    return report + tabs_expanded(text, "  ") + "\n\n1 total assertion\n--- FAIL: TestArchive\n"


FORMS = {
    "as written": lambda t: t,
    "log-prefixed": log_prefixed,
    "crlf": lambda t: t.replace("\n", "\r\n"),
    "tabs-expanded": tabs_expanded,
    "goconvey": goconvey,
    "crlf-log-prefixed": lambda t: log_prefixed(t).replace("\n", "\r\n"),
    "after-64KiB": lambda t: "".join(f"--- PASS: TestCase{i} (0.00s)\n" for i in range(4000))
    + "panic: test timed out after 10m0s\n\n" + t,
}


@pytest.mark.parametrize("form", FORMS)
def test_each_pasted_form_reads_every_goroutine_and_frame(form):
    text = FORMS[form](DUMP)
    snap = read(text)
    assert len(snap.goroutines) == snap.total == len(HEADERS.findall(text)) == 3
    assert shape(snap) == WANT
    assert snap.warnings == []
    assert snap.goroutines[2].labels == {"tenant": "acme"}
    assert snap.goroutines[1].wait_minutes == 3


def test_the_far_header_is_found_past_64_kib():
    text = FORMS["after-64KiB"](DUMP)
    assert text.index("goroutine 1 [") > 65536
    assert read(text).message == "panic: test timed out after 10m0s"


def test_log_prefixed_panic_message_loses_its_prefix():
    snap = read(log_prefixed("panic: boom\n\n" + DUMP))
    assert snap.message == "panic: boom" and shape(snap) == WANT


def test_line_numbers_count_the_pasted_lines():
    for form in ("log-prefixed", "crlf", "tabs-expanded"):
        snap = read(FORMS[form](DUMP))
        assert [g.line for g in snap.goroutines] == [1, 7, 13], form


def test_text_after_an_indented_dump_is_not_read_as_frames():
    snap = read(goconvey(DUMP))
    assert all(f.func != "1 total assertion" for g in snap.goroutines for f in g.frames)


C_FRAMES = """\
SIGQUIT: quit
PC=0x46c1a1 m=0 sigcode=0

goroutine 0 gp=0x9c2f80 m=0 mp=0x9c3b40 [idle]:
runtime.epollwait(0x4, 0x7ffd1c7a9e58, 0xffffffff00000080, 0x0, ...)
\t?:0 +0x52
runtime.netpoll(0x0)
\truntime/netpoll_epoll.go:118 +0xd2
rip    0x46c1a1
rsp    0x7ffd1c7a9e10

goroutine 1 [syscall]:
example.com/store/engine._Cfunc_DBSeek(0x7f3a1c00a0c0)
 ??:0 +0x6d
example.com/store/engine.(*iterator).Seek(0xc0000b2000)
\texample.com/store/engine/iter.go:77 +0x9a
main.main()
\texample.com/store/cmd/main.go:31 +0x1d4

goroutine 9 [syscall]:
runtime.cgocall(0x4b5a40, 0xc000051d48)
runtime.asmcgocall()
\truntime/asm_amd64.s:918 +0x42
crosscall2
_cgoexp_f3a1c
\t_cgo_gotypes.go:88 +0x31
rax    0xfffffffffffffffc
rbx    0x4

goroutine 10 [running]:
panic
\truntime/panic.go:770 +0x132
main.handler
\t/srv/app/handler.go:41 +0x1b
created by main.serve
\t/srv/app/main.go:30 +0x55
"""


def test_c_frames_without_file_lines_and_registers_after_them():
    snap = read(C_FRAMES)
    by_id = {g.id: [tuple(f) for f in g.frames] for g in snap.goroutines}
    assert list(by_id) == [0, 1, 9, 10] == [int(h.split()[1]) for h in HEADERS.findall(C_FRAMES)]
    assert by_id[0] == [("runtime.epollwait", "", 0),
                        ("runtime.netpoll", "runtime/netpoll_epoll.go", 118)]
    assert by_id[1][0] == ("example.com/store/engine._Cfunc_DBSeek", "", 0)
    assert len(by_id[1]) == 3
    assert by_id[9] == [("runtime.cgocall", "", 0),
                        ("runtime.asmcgocall", "runtime/asm_amd64.s", 918),
                        ("crosscall2", "", 0), ("_cgoexp_f3a1c", "_cgo_gotypes.go", 88)]
    # A panic whose frames lack their argument lists.
    assert by_id[10] == [("panic", "runtime/panic.go", 770),
                         ("main.handler", "/srv/app/handler.go", 41)]
    assert snap.goroutines[3].created_by.func == "main.serve"
    assert snap.warnings == [] and snap.message == "SIGQUIT: quit"


def test_c_frames_pasted_behind_a_log_prefix():
    assert shape(read(log_prefixed(C_FRAMES))) == shape(read(C_FRAMES))


def test_a_cut_last_line_is_not_taken_for_a_c_frame():
    snap = parse_goroutines("cut.txt", DUMP + "\ngoroutine 30 [select]:\nmain.(*poll")
    assert len(snap.goroutines) == 4 and snap.goroutines[-1].frames == []
    assert any("truncated" in w for w in snap.warnings)


def test_a_prefixed_debug1_profile():
    text = ("goroutine profile: total 3\n"
            "2 @ 0x48c86a 0x6c003e\n"
            "#\t0x6c003d\tmain.(*poller).resolve.func1+0x3d\texample.com/leaky/main.go:216\n\n"
            "1 @ 0x48c86a 0x6c0123\n"
            "#\t0x6c0122\tmain.main+0x22\texample.com/leaky/main.go:86\n")
    for pasted in (text, tabs_expanded(text), log_prefixed(text), text.replace("\n", "\r\n")):
        snap = read(pasted)
        assert snap.format == "debug=1" and snap.warnings == []
        assert [(r.count, [tuple(f) for f in r.frames]) for r in snap.records] == [
            (2, [("main.(*poller).resolve.func1", "example.com/leaky/main.go", 216)]),
            (1, [("main.main", "example.com/leaky/main.go", 86)])]


def test_source_that_mentions_a_header_is_not_a_dump():
    assert not detect_goroutine_text(b'msg := "goroutine 1 [running]:"\nfmt.Println(msg)\n')
    assert not detect_goroutine_text(b"note: goroutine 1 [running]:\nnothing else follows\n")


# The handed cases in ../shared/cases, read in place.

DUMPER = [  # the same dump, pasted three ways
    (1, "running", ["runtime/pprof.writeGoroutineStacks", "runtime/pprof.writeGoroutine",
                    "runtime/pprof.(*Profile).WriteTo", "main.main"]),
    (18, "chan receive", ["main.waitForever"]),
    (19, "chan receive", ["main.waitForever"]),
    (20, "chan receive", ["main.waitForever"]),
    (21, "sleep", ["time.Sleep", "main.sleeper"]),
    (22, "sync.Mutex.Lock", ["internal/sync.runtime_SemacquireMutex",
                             "internal/sync.(*Mutex).lockSlow", "internal/sync.(*Mutex).Lock",
                             "sync.(*Mutex).Lock", "main.main.func1"]),
]


def case(name):
    path = CASES / name
    if not path.exists():
        pytest.skip(f"{path} is not here")
    return path


@pytest.mark.parametrize("name", ["dump-log-prefixed.debug2.txt", "dump-crlf.debug2.txt",
                                  "dump-tabs-expanded.debug2.txt"])
def test_handed_pasted_dumps(name):
    path = case(name)
    text = path.read_bytes().decode()
    snap = read(text, str(path))
    assert len(snap.goroutines) == len(HEADERS.findall(text)) == len(DUMPER)
    assert [(g.id, g.state, [f.func for f in g.frames]) for g in snap.goroutines] == DUMPER
    assert snap.goroutines[-1].frames[-1] == ("main.main.func1", "example.com/dumper/main.go", 22)
    assert snap.goroutines[1].created_by == ("main.main", "example.com/dumper/main.go", 19, 1)
    assert snap.warnings == []


def test_handed_cgo_dump():
    path = case("dump-cgo-frames.txt")
    text = path.read_text()
    snap = read(text, str(path))
    assert len(snap.goroutines) == len(HEADERS.findall(text)) == 3
    by_id = {g.id: [tuple(f) for f in g.frames] for g in snap.goroutines}
    assert by_id[0][0] == ("runtime.epollwait", "", 0)
    assert [f[0] for f in by_id[0]] == ["runtime.epollwait", "runtime.netpoll",
                                        "runtime.findRunnable", "runtime.schedule",
                                        "runtime.park_m", "runtime.mcall"]
    assert by_id[1][0] == ("example.com/store/engine._Cfunc_DBIterSeek", "_cgo_gotypes.go", 415)
    assert len(by_id[1]) == 3
    assert by_id[7] == [("example.com/store/engine.(*compactor).loop",
                         "example.com/store/engine/compact.go", 58)]
    assert snap.warnings == []



def test_handed_cgo_dump_groups_keep_every_frame():
    """In the goroutine groups too: goroutine 0 [idle] is runtime frames only (an
    M's g0), kept whole and named by where it began, not "?"."""
    from reportgen.analyze.goroutines import group_goroutines
    path = case("dump-cgo-frames.txt")
    groups = group_goroutines(read(path.read_text(), str(path)))
    idle = next(g for g in groups if g.state == "idle")
    assert [f.func for f in idle.frames] == ["runtime.epollwait", "runtime.netpoll",
                                             "runtime.findRunnable", "runtime.schedule",
                                             "runtime.park_m", "runtime.mcall"]
    assert idle.signature == "runtime.mcall [idle]"
    assert sum(len(g.frames) for g in groups) == 10   # every frame line of the dump


def test_debug1_records_without_blank_lines_between_them():
    """Old profiles (pprof's go.godoc.thread) print one record a line, no frames."""
    text = ("threadcreate profile: total 3\n1 @ 0x44cb3 0x45045\n"
            "2 @ 0x440e2 0x5191a\n# labels: {\"k\":\"v\"}\n#\t0x440e1\tmain.f+0x1\t/x/main.go:3\n")
    snap = parse_goroutines("t.txt", text)
    assert [r.count for r in snap.records] == [1, 2] and snap.warnings == []
    assert snap.records[0].frames == [("", "", 0)]  # pprof's <unknown>
    assert snap.records[1].frames == [("main.f", "/x/main.go", 3)]
    assert snap.records[1].labels == {"k": "v"}
