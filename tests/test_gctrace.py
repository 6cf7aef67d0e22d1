"""GODEBUG gctrace/scavtrace/schedtrace logs: reader, analysis, answers, CLI, pages."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from reportgen.analyze.gc import analyze_gc, compare_gc, num
from reportgen.errors import ProfileError
from reportgen.sources.gctrace import parse_gctrace, load_gctrace
from tests.browser import offline_browser
from tests.gotool import go_binary

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "gctrace"
LOGS = ROOT / "examples" / "gcpressure" / "logs"


def test_go15_form_field_by_field():
    log = load_gctrace(DATA / "go1.5.txt")
    assert log.form == "go1.5"
    first, second = log.cycles
    assert (first.n, first.at_s, first.cpu_percent) == (1, 0.012, 1)
    assert first.clock_ms == (0.14, 0.30, 0.078, 1.0, 0.23)
    assert first.stw_ms == pytest.approx(0.14 + 0.23)          # sweep term + mark term
    assert first.mark_ms == pytest.approx(0.30 + 0.078 + 1.0)  # scan, sync, mark
    assert (first.assist_ms, first.background_ms, first.idle_ms) == (0.63, 0.055, 0)
    assert (first.heap_start_mb, first.heap_end_mb, first.live_mb, first.goal_mb) == (4, 4, 1, 4)
    assert (first.procs, first.stacks_mb, first.forced) == (4, None, False)
    assert second.forced and second.markers == ("forced",)
    old, released = log.scav
    assert (old.form, old.inuse_mb, old.idle_mb, old.sys_mb, old.consumed_mb) == ("scvg", 3, 1, 5, 5)
    assert old.at_s == 0.012  # scavenger lines take the time of the gc line before them
    assert (released.released_kib, released.forced) == (2048, True)  # scvg-1: debug.FreeOSMemory


def test_go16_to_go117_form_and_old_schedtrace():
    log = load_gctrace(DATA / "go1.16.txt")
    assert log.form == "go1.6+"
    c = log.cycles[0]
    assert (c.n, c.at_s, c.cpu_percent, c.clock_ms) == (24, 0.252, 11, (0.016, 0.79, 0.23))
    assert c.cpu_ms == (0.13, 0.95, 1.3, 2.2, 1.8)
    assert (c.assist_ms, c.background_ms, c.idle_ms) == (0.95, 1.3, 2.2)
    assert (c.heap_start_mb, c.heap_end_mb, c.live_mb, c.goal_mb, c.procs) == (8, 9, 2, 12, 8)
    assert log.cycles[1].forced
    scav = log.scav[0]
    assert (scav.form, scav.released_kib, scav.now_released_kib, scav.util_pct) == \
        ("scav-1.14", 64, 512, 96)
    s = log.sched[0]
    assert (s.ms, s.gomaxprocs, s.idleprocs, s.threads, s.spinning, s.idlethreads) == \
        (1004, 4, 1, 9, 1, 2)
    assert (s.runqueue, s.local, s.runnable) == (3, (0, 1, 0, 2), 6)


def test_go127_form_keeps_every_marker():
    log = load_gctrace(DATA / "go1.27.txt")
    assert log.form == "go1.18+"
    a, b = log.cycles
    assert (a.stacks_mb, a.globals_mb, a.markers) == (0, 0, ())
    assert (b.stacks_mb, b.globals_mb) == (1, 2)
    assert b.markers == ("checking for goroutine leaks", "forced") and b.forced
    bg, forced = log.scav
    assert (bg.released_kib, bg.eager_kib, bg.now_released_kib, bg.util_pct) == (128, 64, 4808, 59)
    assert not bg.forced and forced.forced
    s = log.sched[0]
    assert (s.local, s.runqueue, s.runnable) == ((3, 5), 4, 12)


def test_scheddetail_lines_fold_into_their_sample():
    text = ("SCHED 508ms: gomaxprocs=2 idleprocs=0 threads=5 spinningthreads=0 needspinning=1 "
            "idlethreads=1 runqueue=1 gcwaiting=false nmidlelocked=0 stopwait=0 sysmonwait=false\n"
            "  P0: status=1 schedtick=240 syscalltick=0 m=3 runqsize=1 gfreecnt=0 timerslen=0\n"
            "  P1: status=0 schedtick=1629 syscalltick=0 m=nil runqsize=0 gfreecnt=0 timerslen=0\n"
            "  M3: p=0 curg=9 mallocing=0 throwing=0 preemptoff= locks=4 dying=0 spinning=false "
            "blocked=false lockedg=nil\n"
            "  G1: status=4(sync.WaitGroup.Wait) m=nil lockedm=nil\n"
            "  G2: status=4(force gc (idle)) m=nil lockedm=nil\n"
            "  G3: status=1(GC sweep wait) m=nil lockedm=nil\n"
            "  G8: status=2(GC assist wait) m=4 lockedm=nil\n")
    s = parse_gctrace("d.log", text).sched[0]
    assert s.local == (1, 0) and s.runnable == 2
    assert s.p_states == {"running": 1, "idle": 1}
    # a runnable or running goroutine's wait reason is stale: only waiting ones keep it
    assert s.g_states == {"waiting: sync.WaitGroup.Wait": 1, "waiting: force gc (idle)": 1,
                          "runnable": 1, "running": 1}


def test_program_output_prefixes_crlf_panics_and_a_cut_last_line():
    lines = [
        "2026/11/29 10:00:00 starting server on :8080",
        "gc 1 @0.010s 1%: 0.01+0.5+0.02 ms clock, 0.02+0.1/0.2/0+0.04 ms cpu, 4->4->1 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 2 P",
        "2026-11-29T10:00:00.5Z stderr F gc 2 @0.500s 1%: 0.01+0.5+0.02 ms clock, 0.02+0.1/0.2/0+0.04 ms cpu, 4->5->1 MB, 5 MB goal, 0 MB stacks, 0 MB globals, 2 P",
        "handled request 17gc 3 @0.900s 1%: 0.01+0.5+0.02 ms clock, 0.02+0.1/0.2/0+0.04 ms cpu, 4->5->2 MB, 5 MB goal, 0 MB stacks, 0 MB globals, 2 P",
        "panic: runtime error: index out of range [3] with length 3",
        "",
        "goroutine 1 [running]:",
        "main.main()",
        "\t/src/main.go:12 +0x1d",
        "gc 4 @1.200s 1%: 0.01+0.5+0.02 ms clock, 0.02+0.1/0.2/0+0.04 ms cpu, 4->5->2 MB, 5 MB goal, 0 MB st",
    ]
    log = parse_gctrace("mixed.log", "\r\n".join(lines))
    assert [c.n for c in log.cycles] == [1, 2, 3]
    assert log.skipped == [(10, "cut short")]
    assert log.other_lines == 6


def test_absurd_numbers_are_skipped_and_counted(tmp_path, run_cli):
    good = ("gc {n} @{t}s 1%: 0.01+0.5+0.02 ms clock, 0.02+0.1/0.2/0+0.04 ms cpu, 4->4->1 MB, "
            "4 MB goal, 0 MB stacks, 0 MB globals, 2 P")
    text = "\n".join([good.format(n=1, t="0.1"), good.format(n=2, t="0.2").replace(
        "4 MB goal", "9" * 40 + " MB goal"), "gc " + "7" * 5000 + " @0.3s 1%: 1+1+1 ms clock",
        good.format(n=4, t="0.4")]) + "\n"
    log = parse_gctrace("absurd.log", text)
    assert [c.n for c in log.cycles] == [1, 4]
    assert [n for n, _ in log.skipped] == [2, 3]
    path = tmp_path / "absurd.log"
    path.write_text(text)
    r = run_cli("build", path, "-o", tmp_path / "site")
    assert r.returncode == 0, r.stderr
    page = (tmp_path / "site" / "pages" / "01-gc.html").read_text()
    assert "2 trace lines could not be read" in page


def test_no_trace_line_is_one_line_exit_2(tmp_path, run_cli):
    path = tmp_path / "app.log"
    path.write_text("starting\nlistening on :8080\n")
    r = run_cli("gc", path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [
        f"reportgen: {path}: no gctrace, scavtrace or schedtrace line in the file"]


def test_go14_form_is_refused_with_a_clear_line(tmp_path, run_cli):
    path = tmp_path / "go14.log"
    path.write_text("gc1(1): 0+0+0+0 us, 0 -> 0 MB, 21 (21-0) objects, 2 goroutines, "
                    "15/0/0 sweeps, 0(0) handoff, 0(0) steal, 0/0/0 yields\n")
    r = run_cli("gc", path)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "Go 1.4" in r.stderr and "Go 1.5 or newer" in r.stderr
    with pytest.raises(ProfileError):
        load_gctrace(path)


# An independent reading of the Go 1.18+ line for the summary check.
_LINE = re.compile(r"^gc (\d+) @([\d.]+)s (\d+)%[^:]*: ([\d.]+)\+[\d.]+\+([\d.]+) ms clock, "
                   r".* (\d+)->(\d+)->(\d+) MB, (\d+) MB goal, .* P( \(forced\))?$", re.M)


@pytest.mark.parametrize("name", ["before.log", "after.log"])
def test_summary_equals_an_independent_reading(name, run_cli):
    rows = _LINE.findall((LOGS / name).read_text())
    r = run_cli("gc", LOGS / name, "--format", "json")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)["summary"]
    stw = [float(r[3]) + float(r[4]) for r in rows]
    assert summary["cycles"] == len(rows) > 50
    assert summary["forced"] == sum(1 for r in rows if r[9])
    assert summary["duration_s"] == float(rows[-1][1])
    assert summary["stw_ms_total"] == pytest.approx(sum(stw))
    assert summary["stw_ms_max"] == max(stw)
    assert summary["live_mb_max"] == max(int(r[7]) for r in rows)
    assert summary["goal_mb_max"] == max(int(r[8]) for r in rows)
    assert summary["gc_cpu_percent"] == int(rows[-1][2])


def test_pressure_answer_names_the_measured_numbers():
    rows = _LINE.findall((LOGS / "before.log").read_text())
    a = analyze_gc(load_gctrace(LOGS / "before.log"))
    per_s = (len(rows) - 1) / (float(rows[-1][1]) - float(rows[0][1]))
    assert a.answers[0].startswith(f"GC runs {num(per_s)} times a second and takes "
                                   f"{int(rows[-1][2])}% of CPU")
    assert "GOGC or GOMEMLIMIT is too tight" in a.answers[0]
    assert "see the allocs profile" in a.answers[0]


def _log(cycles, every_s=1.0, live=lambda i: 10, goal=lambda i: 20, clock="0.05+1.0+0.05",
         pct=lambda i: 1):
    return "\n".join(
        f"gc {i + 1} @{i * every_s:.3f}s {pct(i)}%: {clock} ms clock, 0.1+0.2/0.3/0.1+0.1 ms "
        f"cpu, {live(i) + 5}->{live(i) + 6}->{live(i)} MB, {goal(i)} MB goal, 0 MB stacks, "
        f"0 MB globals, 4 P" for i in range(cycles))


def test_leak_answer_gives_the_least_squares_slope():
    np = pytest.importorskip("numpy")
    live = lambda i: 50 + i * 3 // 10  # 18 MB a minute at one cycle a second
    a = analyze_gc(parse_gctrace("leak.log", _log(2400, live=live, goal=lambda i: 2 * live(i))))
    xs = [float(f"{i * 1.0:.3f}") for i in range(2400)]
    slope = np.polyfit(xs, [live(i) for i in range(2400)], 1)[0] * 60
    assert a.summary.live_slope_mb_per_min == pytest.approx(slope)
    assert a.answers[0].startswith(f"The live heap grows {num(slope)} MB/min across 40 minutes")
    assert "never comes back down" in a.answers[0]


def test_healthy_log_says_so():
    a = analyze_gc(parse_gctrace("ok.log", _log(120, every_s=0.5)))
    assert a.answers[0].startswith("GC is light: 120 cycles (2 cycles a second, 1% of CPU)")
    assert "Pauses are fine (max 0.1 ms)." in a.answers
    assert not any("leak" in t for t in a.answers)


def test_saturated_run_queues():
    text = "\n".join(f"SCHED {ms}ms: gomaxprocs=4 idleprocs=0 threads=9 spinningthreads=0 "
                     f"idlethreads=0 runqueue=30 [ 10 12 11 40 ]" for ms in range(0, 31000, 1000))
    a = analyze_gc(parse_gctrace("sched.log", text))
    assert a.summary is None and a.sched_summary.runnable_max == 103
    assert a.answers[0] == ("Run queues hold 103+ goroutines with no idle P for 30 s (from 0 s): "
                            "CPU saturated — more runnable work than 4 Ps can run.")


def test_two_logs_compare(run_cli):
    r = run_cli("gc", LOGS / "before.log", LOGS / "after.log", "--format", "json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    before, after = out["base"]["summary"], out["target"]["summary"]
    d = {x["field"]: x for x in out["differences"]}
    assert d["cycles_per_s"]["change_pct"] == pytest.approx(
        (after["cycles_per_s"] - before["cycles_per_s"]) / before["cycles_per_s"] * 100)
    assert d["gc_cpu_percent"]["change_pct"] is None  # percentages change in points
    assert out["answer"].startswith(f"After the change GC runs {num(after['cycles_per_s'])} times "
                                    f"a second instead of {num(before['cycles_per_s'])}")
    text = run_cli("gc", LOGS / "before.log", LOGS / "after.log").stdout
    assert text.splitlines()[0] == out["answer"]


def test_bare_build_recognises_logs_and_compares_two(tmp_path, run_cli):
    r = run_cli("build", LOGS / "before.log", LOGS / "after.log", "-o", tmp_path / "site")
    assert r.returncode == 0, r.stderr
    page = (tmp_path / "site" / "pages" / "01-gc.html").read_text()
    expected = compare_gc(analyze_gc(load_gctrace(LOGS / "before.log")),
                          analyze_gc(load_gctrace(LOGS / "after.log"))).answer
    assert re.search(r'<p class="answer">([^<]*)</p>', page)[1] == expected.replace("'", "&#39;")
    assert page.count("<svg") >= 6
    index = (tmp_path / "site" / "index.html").read_text()
    assert "GC: before.log → after.log" in index


def test_bare_build_recognises_a_schedtrace_only_log(tmp_path, run_cli):
    r = run_cli("build", LOGS / "scheddetail.log", "-o", tmp_path / "site")
    assert r.returncode == 0, r.stderr
    page = (tmp_path / "site" / "pages" / "01-gc.html").read_text()
    assert "Scheduler: Ps idle" in page


def test_manifest_kind_gc_checks_its_paths(tmp_path, run_cli):
    (tmp_path / "site.yml").write_text("analyses:\n  - kind: gc\n    log: missing.log\n")
    r = run_cli("build", tmp_path / "site.yml")
    assert r.returncode == 2
    assert r.stderr.startswith(f"reportgen: {tmp_path / 'site.yml'}:3: analyses[0].log:")


def test_example_site_builds_and_is_deterministic(tmp_path, run_cli):
    outs = []
    for name in ("a", "b"):
        r = run_cli("build", ROOT / "examples" / "gcpressure" / "site.yml", "-o", tmp_path / name)
        assert r.returncode == 0, r.stderr
        outs.append({p.relative_to(tmp_path / name): p.read_bytes()
                     for p in (tmp_path / name).rglob("*") if p.is_file()})
    assert outs[0] == outs[1]


def test_gc_page_in_chromium_offline(tmp_path, run_cli):
    r = run_cli("build", ROOT / "examples" / "gcpressure" / "site.yml", "-o", tmp_path / "site")
    assert r.returncode == 0, r.stderr
    with offline_browser() as new_page:
        w = new_page()
        for page in sorted((tmp_path / "site" / "pages").glob("*-gc.html")):
            w.open(page)
            assert w.page.locator("p.answer").inner_text()
            assert w.page.locator("figure svg").count() >= 2
        assert w.outside == [] and w.errors == []


_PROGRAM = """package main

import (
	"fmt"
	"runtime"
	"time"
)

var sink [][]byte

func main() {
	end := time.Now().Add(700 * time.Millisecond)
	for i := 0; time.Now().Before(end); i++ {
		sink = append(sink, make([]byte, 64<<10))
		if len(sink) > 64 {
			sink = sink[:0]
		}
		if i%5000 == 0 {
			fmt.Println("tick", i)
		}
	}
	runtime.GC()
}
"""


@pytest.mark.slow
def test_logs_captured_with_go(tmp_path):
    go = go_binary()
    (tmp_path / "main.go").write_text(_PROGRAM)
    (tmp_path / "go.mod").write_text("module gcprobe\n\ngo 1.22\n")
    subprocess.run([go, "build", "-o", "probe", "."], cwd=tmp_path, check=True, timeout=300)
    env = {"GODEBUG": "gctrace=1,scavtrace=1,schedtrace=100,scheddetail=1", "GOMAXPROCS": "2",
           "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    run = subprocess.run(["./probe"], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=120)
    text = run.stdout + run.stderr
    log = parse_gctrace("probe.log", text)
    whole = re.findall(r"^gc (\d+) @.* P( \(forced\))?$", text, re.M)
    assert [c.n for c in log.cycles] == [int(n) for n, _ in whole] and len(whole) > 5
    assert [c.forced for c in log.cycles] == [bool(f) for _, f in whole]
    assert len(log.scav) == len(re.findall(r"^scav ", text, re.M))
    assert len(log.sched) == len(re.findall(r"^SCHED ", text, re.M)) > 2
    assert all(s.p_states and s.g_states for s in log.sched)
    assert not log.skipped
    assert analyze_gc(log).answers


def test_reader_never_fails_on_mutated_lines():
    """Random edits of real lines: the reader reads, skips or refuses with ProfileError."""
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies
    seed = (DATA / "go1.27.txt").read_text() + (DATA / "go1.5.txt").read_text()

    @hypothesis.settings(max_examples=300, deadline=None, derandomize=True)
    @hypothesis.given(st.lists(st.tuples(st.integers(0, len(seed)), st.integers(0, 8),
                                         st.text(max_size=6)), max_size=6))
    def check(edits):
        text = seed
        for at, cut, insert in edits:
            text = text[:at] + insert + text[at + cut:]
        try:
            log = parse_gctrace("fuzz.log", text)
        except ProfileError:
            return
        analyze_gc(log)  # every figure computes

    check()


def test_bare_build_does_not_take_a_gzip_stream_for_a_gc_log(tmp_path):
    # Logs are read as text: a gzip file is a profile, not searched for trace lines.
    from reportgen.manifest import _is_gc_log
    line = (b"gc 1 @0.010s 1%: 0.01+0.5+0.02 ms clock, 0.02+0.1/0.2/0+0.04 ms cpu, "
            b"4->4->1 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 2 P\n")
    text, gz = tmp_path / "gc.log", tmp_path / "profile.pb.gz"
    text.write_bytes(line)
    gz.write_bytes(b"\x1f\x8b\x08\x00" + b"\n" + line)
    assert _is_gc_log(text)
    assert not _is_gc_log(gz)
