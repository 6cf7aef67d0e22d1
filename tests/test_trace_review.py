"""The trace page's review items: what a cut trace dropped, readable labels and
strings, the index's note on a truncated trace, gzip-compressed traces.

oddnames.trace comes from tests/trace/scenarios (mode `oddnames`): a task and
a region with an empty name, a user log whose category and message hold a
NUL, an ESC, a C1 control and a tab.
"""

from __future__ import annotations

import gzip
import json
import re

import pytest

from reportgen.sources.trace import open_trace, parse_trace
from reportgen.sources.trace import spec as S
from reportgen.sources.trace.wire import read_batch
from tests.test_trace_reader import DATA, batch_bounds

ODD = DATA / "oddnames.trace"
# what a batch that holds no events starts with (tables, frequency, sync, end of generation)
NOT_EVENTS = {S.EV_STACKS, S.EV_STRINGS, S.EV_CPU_SAMPLES, S.EV_FREQUENCY, S.EV_SYNC,
              S.EV_END_OF_GENERATION, -1}


def _gen_of_batches(data: bytes) -> list:
    """[(offset, generation number, batch)] of every batch in the file."""
    out = []
    for b in batch_bounds(data)[:-1]:
        batch, gen, _ = read_batch(data, b)
        out.append((b, gen, batch))
    return out


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    """generations.trace with one byte of a second-generation event batch changed so that
    reading stops inside that generation, after its opening sync was handed out: the
    reader has then read the whole generation's bytes, but only the first is complete."""
    data = (DATA / "generations.trace").read_bytes()
    batches = _gen_of_batches(data)
    second = min(off for off, gen, _ in batches if gen == 2)  # where generation 2 begins
    clean = [len(seg) for seg, _ in open_trace(DATA / "generations.trace").segments()]
    for off, gen, batch in batches:
        if gen != 2 or batch.first() in NOT_EVENTS:  # event batches only
            continue
        end = off + (read_batch(data, off)[2] - off)
        for pos in range(end - len(batch.data) + 1, end):
            bad = bytearray(data)
            bad[pos] = 0x7F
            try:
                parsed = parse_trace("t", bytes(bad))
            except Exception:  # noqa: BLE001 - not the kind of break wanted here
                continue
            if parsed.error and len(parsed.all_events) > len(parsed.events) > clean[0]:
                path = tmp_path_factory.mktemp("broken") / "broken.trace"
                path.write_bytes(bytes(bad))
                return {"path": path, "size": len(data), "kept_bytes": second,
                        "events": clean[0] + clean[1],
                        "read_after": len(parsed.all_events) - len(parsed.events)}
    pytest.fail("no corruption found that breaks off inside generation 2")


def test_truncation_note_says_what_was_dropped(broken, run_cli, tmp_path):
    size, kept = broken["size"], broken["kept_bytes"]
    proc = run_cli("trace", broken["path"], "--format", "json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    note = out["truncated"]
    assert out["generations"] == 1 and out["events"] == broken["events"]
    assert (f"kept 1 complete generation(s) ({broken['events']} events, the first {kept} of "
            f"{size} bytes), dropped the remaining {size - kept} bytes, of which "
            f"{broken['read_after']} events were read before the error") in note
    assert "dropped 0" not in note and size - kept > 0
    assert note in proc.stderr
    text = run_cli("trace", broken["path"]).stdout
    assert f"TRUNCATED: {note}" in text and "go 1.26 trace" in text and "1 generation(s)" in text
    site = tmp_path / "site"
    assert run_cli("build", broken["path"], "-o", site).returncode == 0
    page = (site / "pages" / "01-trace.html").read_text()
    assert f"the first {kept} of {size} bytes), dropped the remaining {size - kept} bytes" in page
    # the site index says the trace is truncated too
    index = (site / "index.html").read_text()
    entry = re.search(r'<li><a href="pages/01-trace.html">[^<]*</a> <span.*?</li>', index,
                      re.S).group(0)  # the Analyses list (not the navigation)
    assert "Truncated trace: 1 complete generation(s) kept" in entry


def test_trace_cut_in_its_first_generation_keeps_none(run_cli, tmp_path):
    data = bytearray((DATA / "channels.trace").read_bytes())
    first_events = next(off for off, gen, b in _gen_of_batches(bytes(data))
                        if b.first() not in NOT_EVENTS)
    cut = tmp_path / "cut.trace"
    for pos in range(first_events + 8, first_events + 200):
        bad = bytearray(data)
        bad[pos] ^= 0x55
        try:
            parsed = parse_trace("t", bytes(bad))
        except Exception:  # noqa: BLE001
            continue
        if parsed.error and len(parsed.events) == 1:  # only the opening sync is complete
            cut.write_bytes(bytes(bad))
            break
    else:
        pytest.fail("no corruption found inside the first generation")
    out = json.loads(run_cli("trace", cut, "--format", "json").stdout)
    assert out["generations"] == 0
    assert (f"kept 0 complete generation(s) (1 events, the first 16 of {len(data)} bytes), "
            f"dropped the remaining {len(data) - 16} bytes") in out["truncated"]


@pytest.fixture(scope="module")
def odd_site(tmp_path_factory, run_cli):
    site = tmp_path_factory.mktemp("odd") / "site"
    proc = run_cli("build", ODD, "-o", site)
    assert proc.returncode == 0, proc.stderr
    return site


def test_empty_wait_reason_has_a_label(odd_site):
    page = (odd_site / "pages" / "01-trace.html").read_text()
    data = json.loads((odd_site / "data" / "01-trace.json").read_text())
    # goroutines already waiting when the trace began carry the reason "" in the JSON
    assert any("" in x["block_ns"] for g in data["groups"] for x in g["goroutines"])
    assert "Block time ()" not in page and "Block time (no reason recorded)" in page


def test_control_characters_in_logs_are_shown_escaped(odd_site, run_cli):
    page = (odd_site / "pages" / "01-trace.html").read_text()
    data = json.loads((odd_site / "data" / "01-trace.json").read_text())
    log = data["logs"][0]  # the JSON keeps the program's strings as they are
    assert log["category"] == "cat\x00egory"
    assert log["message"] == "nul \x00 esc \x1b[31m c1 \x85 tab \t end"
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", page)
    # (a tab stays a tab: white space in a table cell)
    assert "cat\\x00egory" in page and "nul \\x00 esc \\x1b[31m c1 \\x85 tab \t end" in page


def test_empty_region_and_task_names_are_listed(odd_site, run_cli):
    data = json.loads((odd_site / "data" / "01-trace.json").read_text())
    assert {r["type"]: r["count"] for r in data["regions"]} == {"": 1, "named": 1}
    assert [t["type"] for t in data["tasks"]] == [""]
    page = (odd_site / "pages" / "01-trace.html").read_text()
    regions = page.split('id="regions"', 1)[1].split("</table>", 2)
    assert "(empty name)" in regions[0] and "named" in regions[0]  # the regions table
    assert "(empty name)" in regions[1]  # the tasks table
    text = run_cli("trace", ODD).stdout
    assert "1 x (empty name): total" in text and "1 x named: total" in text


def test_gzip_compressed_trace_is_read(run_cli, tmp_path):
    plain = DATA / "regions.trace"
    packed = tmp_path / "regions.trace.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes(), mtime=0))
    want = run_cli("trace", plain, "--format", "json")
    got = run_cli("trace", packed, "--format", "json")
    assert got.returncode == 0, got.stderr
    assert got.stdout == want.stdout
    site = tmp_path / "site"
    proc = run_cli("build", packed, "-o", site)  # told a trace by its inflated header
    assert proc.returncode == 0, proc.stderr
    data = json.loads((site / "data" / "01-trace.json").read_text())
    assert data["kind"] == "trace" and data["groups"] == json.loads(want.stdout)["groups"]
    # bounded as gzip profiles are, and a gzip file that holds no trace says so
    proc = run_cli("trace", packed, "--max-decompressed", "1000")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert str(packed) in proc.stderr and "--max-decompressed" in proc.stderr
    other = tmp_path / "notes.gz"
    other.write_bytes(gzip.compress(b"hello\n" * 10, mtime=0))
    proc = run_cli("trace", other)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "gzip-compressed" in proc.stderr and "not a Go execution trace" in proc.stderr


def test_a_profile_command_on_a_gzipped_trace_says_what_it_is(run_cli, tmp_path):
    """`reportgen top trace.out.gz` names the trace and the command that reads it,
    as for a plain trace, instead of "not a pprof profile"."""
    packed = tmp_path / "regions.trace.gz"
    packed.write_bytes(gzip.compress((DATA / "regions.trace").read_bytes(), mtime=0))
    for path in (DATA / "regions.trace", packed):
        proc = run_cli("top", path)
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
        assert "an execution trace, not a profile" in proc.stderr and "reportgen trace" in proc.stderr
