"""Goroutine dump readers: real Go 1.27 dumps (examples/leaky and tests/data/goroutines/go1.27,
written by examples/leaky/capture.sh) and hand-made fragments of older and rarer forms."""

import re
from pathlib import Path

import pytest

from reportgen.analyze.goroutines import as_snapshot, normalize, snapshot_from_profile
from reportgen.analyze.graph import Part
from reportgen.analyze.top import top
from reportgen.sources import load_profile
from reportgen.sources.goroutines import (GoroutineProfile, detect_goroutine_text,
                                          load_goroutines, parse_goroutines, parse_labels)

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "goroutines"
LEAKY = ROOT / "examples" / "leaky"
DEBUG2 = sorted([*(LEAKY / "snapshots").glob("goroutine-*.txt"),
                 *(LEAKY / "healthy").glob("goroutine-*.txt"),
                 *(DATA / "go1.27").glob("*debug2.txt"), *(DATA / "go1.27").glob("panic-*.txt"),
                 *DATA.glob("*debug2.txt")])
DEBUG1 = sorted([*(LEAKY / "snapshots").glob("goroutineleak-*.txt"),
                 *(DATA / "go1.27").glob("*debug1.txt"), DATA / "grpc-clientconn-debug1.txt"])
HEADER = re.compile(r"^goroutine \d+ .*\]( \{.*\})?:$", re.M)


def read(path):
    return load_goroutines(str(path), Path(path).read_bytes()).snapshot


def test_the_corpus_is_there():
    assert len(list((LEAKY / "snapshots").glob("goroutine-*.txt"))) >= 3
    assert (DATA / "go1.27" / "leaky-goroutineleak-debug1.txt").exists()


@pytest.mark.parametrize("path", DEBUG2, ids=lambda p: p.name)
def test_debug2_reads_one_goroutine_per_block(path):
    data = path.read_bytes()
    assert detect_goroutine_text(data)
    snap = read(path)
    assert snap.format == "debug=2" and snap.warnings == []
    assert len(snap.goroutines) == snap.total == len(HEADER.findall(data.decode()))
    assert all(g.frames or g.state == "running" for g in snap.goroutines)
    assert len({g.id for g in snap.goroutines}) == snap.total


@pytest.mark.parametrize("path", DEBUG1, ids=lambda p: p.name)
def test_debug1_record_counts_sum_to_the_header_total(path):
    snap = read(path)
    header = int(re.match(r"\w+ profile: total (\d+)", path.read_text())[1])
    assert snap.format == "debug=1" and snap.warnings == []
    assert sum(r.count for r in snap.records) == snap.total == header
    # A record of a goroutine that is only runtime.goexit prints no frame at all.
    assert all(r.frames for r in snap.records if r.count > 1)


def test_kinds_of_debug1_profiles():
    assert read(DATA / "go1.27" / "threadcreate-debug1.txt").kind == "threadcreate"
    leak = read(DATA / "go1.27" / "leaky-goroutineleak-debug1.txt")
    assert leak.kind == "goroutineleak"
    assert {r.frames[0].func for r in leak.records} == {"main.(*poller).resolve.func1"}
    assert {r.labels["device"] for r in leak.records} == {"10.0.0.1:161", "10.0.0.2:161"}


def test_go127_header_labels_are_unquoted():
    path = sorted((LEAKY / "snapshots").glob("goroutine-*.txt"))[-1]
    assert 'device: "10.0.0.1:161"' in path.read_text()  # quoted: it has a ':'
    labelled = [g for g in read(path).goroutines if g.labels]
    assert labelled and all(g.labels["component"] == "poller" for g in labelled)
    assert {"10.0.0.1:161", "10.0.0.2:161"} <= {g.labels.get("device") for g in labelled}


def test_goroutineleak_marks_match_the_profile_taken_just_before():
    for dump in sorted((LEAKY / "snapshots").glob("goroutine-*.txt")):
        leak = dump.with_name(dump.name.replace("goroutine-", "goroutineleak-"))
        marked = [g for g in read(dump).goroutines if g.leaked]
        assert len(marked) == read(leak).total
        assert all(g.state == "chan send" and g.frames[0].func == "main.(*poller).resolve.func1"
                   for g in marked)


def test_waits_of_a_minute_and_more_are_read():
    last = sorted((LEAKY / "snapshots").glob("goroutine-*.txt"))[-1]
    waits = {g.wait_minutes for g in read(last).goroutines}
    assert max(waits) >= 1 and 0 in waits
    assert re.search(r", \d+ minutes\]", last.read_text())


def test_panic_output_under_gotraceback_all_and_system():
    for level in ("all", "system"):
        snap = read(DATA / "go1.27" / f"panic-{level}.txt")
        assert snap.message == "panic: giving up after 3 passes"
        running = [g for g in snap.goroutines if g.state == "running"]
        assert running[0].frames[0].func == "main.(*poller).run" or level == "system"
        assert any(f.func in ("main.(*poller).run", "panic") for f in running[0].frames)
    system = (DATA / "go1.27" / "panic-system.txt").read_text()
    assert " gp=0x" in system and " fp=0x" in system  # headers and frames carry more there
    snap = read(DATA / "go1.27" / "panic-system.txt")
    assert any(f.func == "runtime.gopark" for g in snap.goroutines for f in g.frames)
    assert all(not f.file.endswith("+0x") and f.line > 0 for g in snap.goroutines
               for f in g.frames)


def test_tracebackancestors_blocks_lead_to_the_callers_code():
    snap = read(DATA / "go1.27" / "ancestors-debug2.txt")
    loops = [g for g in snap.goroutines if g.frames[-1].func == "net/http.(*persistConn).readLoop"]
    assert loops and all(g.ancestors for g in loops)
    chain = [f.func for a in loops[0].ancestors for f in a.frames]
    assert "main.(*poller).checkDevice" in chain


def test_go120_fragment_without_parent_ids():
    snap = read(DATA / "go1.20-waiters-debug2.txt")
    by_id = {g.id: g for g in snap.goroutines}
    g = by_id[7305]
    assert (g.state, g.wait_minutes) == ("chan receive", 3)
    assert g.created_by.func == "git.example.com/netops/poller/watch.WatchPingOnce"
    assert g.created_by.parent == 0 and g.created_by.line == 86
    assert by_id[18].locked and by_id[18].wait_minutes == 12
    assert by_id[93].elided == -1  # "...additional frames elided..."
    assert by_id[91].frames[2] == ("sync.(*Mutex).Lock", "/usr/local/go/src/sync/mutex.go", 90)


def test_windows_paths_and_question_marked_arguments():
    snap = read(DATA / "windows-debug2.txt")
    g = snap.goroutines[1]
    assert g.frames[0] == ("net/http.(*persistConn).roundTrip",
                           "C:/Program Files/Go/src/net/http/transport.go", 2652)
    assert g.frames[3].func == "net/http.send"
    assert g.created_by.file == "C:/Users/dev/src/alerts/logx/logger.go"


def test_go127_states_flags_and_headers():
    snap = read(DATA / "states-go127-debug2.txt")
    by_id = {g.id: g for g in snap.goroutines}
    assert by_id[21].state == "chan receive (nil chan)" and by_id[21].wait_minutes == 7
    assert by_id[22].state == "select (no cases)"
    assert by_id[22].frames[0] == ("example.com/svc/worker.forever",
                                   "example.com/svc/worker/pool.go", 97)  # inlined: (...)
    g = by_id[23]
    assert g.leaked and g.state == "chan send" and g.wait_minutes == 2
    assert g.labels == {"tenant": "acme", "req id": 'r-17 "x"'}
    assert by_id[24].scan and by_id[24].state == "sync.Mutex.Lock"
    assert by_id[25].state == "chan receive"  # "(durable)" is synctest's, the wait is the same
    assert by_id[26].locked and by_id[26].state == "sleep"
    assert by_id[27].frames == [] and by_id[27].created_by.parent == 19
    assert snap.warnings == []


def test_elided_frames_and_ancestry_fragment():
    snap = read(DATA / "elided-ancestry-debug2.txt")
    g = snap.goroutines[0]
    assert g.elided == 60 and g.frames[-1].func == "example.com/tree.Walk.func1"
    assert [a.id for a in g.ancestors] == [34, 1]
    assert g.ancestors[0].created_by.func == "net/http.(*Server).Serve"
    assert g.created_by.parent == 34


def test_label_syntaxes():
    assert parse_labels('{"component":"poller", "device":"10.0.0.1:161"}') == {
        "component": "poller", "device": "10.0.0.1:161"}
    assert parse_labels('{k: v, "a b": "c\\"d", u: "\\xe2\\x9c\\x93 \\u00e9"}') == {
        "k": "v", "a b": 'c"d', "u": "✓ é"}
    assert parse_labels("{}") == {}


def test_truncated_debug1_keeps_what_parsed():
    snap = read(DATA / "truncated-debug1.txt")
    assert [r.count for r in snap.records] == [148, 107, 106]
    assert any("truncated" in w for w in snap.warnings)
    assert any("line 15" in w for w in snap.warnings)


@pytest.mark.parametrize("cut", [0.31, 0.5, 0.77, 0.999])
def test_a_dump_cut_anywhere_keeps_its_complete_goroutines(cut):
    full = sorted((LEAKY / "snapshots").glob("goroutine-*.txt"))[-1].read_text()
    at = int(len(full) * cut)
    snap = parse_goroutines("cut.txt", full[:at])
    complete = len(HEADER.findall(full[:at].rsplit("\n\n", 1)[0]))
    assert complete <= len(snap.goroutines) <= complete + 1
    if not full[:at].endswith("\n"):
        assert any("truncated" in w for w in snap.warnings), snap.warnings


def test_garbage_inside_a_block_is_skipped_with_a_warning():
    text = ("goroutine 1 [running]:\nmain.main()\n\t/x/main.go:3 +0x1\n\n"
            "goroutine 2 [select]:\nmain.f()\nthis is not a frame\n\ngoroutine 3 [sleep]:\n"
            "time.Sleep(0x1)\n\truntime/time.go:1 +0x1\n")
    snap = parse_goroutines("g.txt", text)
    assert [g.id for g in snap.goroutines] == [1, 2, 3]
    assert len(snap.warnings) == 1 and "goroutine 2" in snap.warnings[0]


def test_detection_is_by_content():
    assert detect_goroutine_text(b"goroutine profile: total 3\n1 @ 0x1\n")
    assert detect_goroutine_text(b"goroutineleak profile: total 0\n")
    assert detect_goroutine_text(b"panic: boom\n\ngoroutine 1 [running]:\nmain.main()\n")
    assert not detect_goroutine_text(b"heap profile: 1: 2 [3: 4] @ heap/1048576\n")
    assert not detect_goroutine_text(b"\x1f\x8b\x08\x00goroutine 1 [running]:")
    assert not detect_goroutine_text(b"hello\ngoroutines are great [really]\n")
    assert not detect_goroutine_text((ROOT / "examples" / "leaky" / "main.go").read_bytes())


def test_load_profile_reads_text_dumps_and_top_works_on_them():
    path = sorted((LEAKY / "snapshots").glob("goroutine-*.txt"))[-1]
    profile = load_profile(path)
    assert isinstance(profile, GoroutineProfile) and profile.profile_type == "goroutine"
    snap = profile.snapshot
    assert int(profile.values.sum()) == snap.total == profile.num_samples
    result = top([Part(profile, 0)], node_fraction=0.0)
    assert result.total == snap.total
    flat = {r.name: r.flat for r in result.rows}
    leaf = sum(1 for g in snap.goroutines if g.frames and
               g.frames[0].func == "main.(*poller).expireLater.func1")
    assert flat["main.(*poller).expireLater.func1"] == leaf > 0
    leaky1 = load_profile(DATA / "go1.27" / "leaky-debug1.txt")
    assert int(leaky1.values.sum()) == leaky1.snapshot.total


def test_debug0_profile_as_records_matches_the_text_dump():
    """debug=0 and debug=2 of one snapshot, pulled moments apart, agree on the leaks."""
    pb = sorted((LEAKY / "snapshots").glob("goroutine-*.pb.gz"))[-1]
    snap0 = snapshot_from_profile(load_profile(pb))
    snap2 = read(pb.with_name(pb.name.replace(".pb.gz", ".txt")))
    assert snap0.format == "debug=0" and snap0.kind == "goroutine"
    assert abs(snap0.total - snap2.total) <= 3

    def count(snap, func):
        stacks = ([(r.frames, r.count) for r in snap.records] if snap.aggregated
                  else [(g.frames, 1) for g in snap.goroutines])
        return sum(n for frames, n in stacks if normalize(frames)[0].func == func)
    for func in ("main.(*poller).expireLater.func1", "main.(*poller).resolve.func1"):
        assert abs(count(snap0, func) - count(snap2, func)) <= 2
    # debug=0 keeps the runtime frames that text dumps hide; normalize drops them.
    assert any(r.frames[0].func == "runtime.gopark" for r in snap0.records)
    assert as_snapshot(load_profile(pb)).total == snap0.total
