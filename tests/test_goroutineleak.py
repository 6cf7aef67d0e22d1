"""Go's goroutineleak profile (runtime/pprof, Go 1.26+): every goroutine in it was
proved leaked by the runtime's leak-detecting GC, and the answer says so.

tests/data/goroutines/go1.27/goroutineleak holds a small program and what it
captured with Go 1.27 (no GOEXPERIMENT needed there): 30 of 40 workers block
forever sending on a channel their caller dropped, 5 more wait on a channel a
global keeps reachable (those are not leaked).
"""

import gzip
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reportgen.analyze.answer import goroutine_answer
from reportgen.proto import profile_pb2
from reportgen.sources import load_profile
from tests.gotool import go_binary

ROOT = Path(__file__).resolve().parent.parent
CAPTURED = ROOT / "tests" / "data" / "goroutines" / "go1.27" / "goroutineleak"


def expected(directory: Path) -> tuple[str, str, int, int]:
    """(sample type, period type, leaked count, the debug=1 text's program frame
    and line), read independently of reportgen: protobuf and the text form."""
    msg = profile_pb2.Profile()
    msg.ParseFromString(gzip.decompress((directory / "goroutineleak.pb.gz").read_bytes()))
    st = msg.string_table
    text = (directory / "goroutineleak-debug1.txt").read_text()
    total = int(re.match(r"goroutineleak profile: total (\d+)\n", text)[1])
    assert total == sum(s.value[0] for s in msg.sample)
    frame = re.search(r"#\t0x[0-9a-f]+\t(main\.\w+)\+0x[0-9a-f]+\t\S+/(main\.go:\d+)", text)
    return (st[msg.sample_type[0].type], st[msg.period_type.type], total, frame[1], frame[2])


def assert_proved_sentence(directory: Path):
    sample_type, period_type, total, func, where = expected(directory)
    assert (sample_type, period_type) == ("goroutineleak", "goroutineleak")
    profile = load_profile(directory / "goroutineleak.pb.gz")
    assert profile.profile_type == "goroutineleak"
    text = goroutine_answer(profile).text
    assert text.startswith(f"The runtime proved {total} goroutines leaked: blocked forever "
                           "on objects no running goroutine can reach"), text
    assert f"All {total} wait in {func} [chan send] ({where})" in text
    # A plain goroutine profile of the same program says nothing of the kind.
    plain = goroutine_answer(load_profile(directory / "goroutine.pb.gz")).text
    assert "proved" not in plain and plain.startswith("Largest group:")


def test_captured_goroutineleak_profile_says_proved_leaked():
    assert_proved_sentence(CAPTURED)


@pytest.mark.parametrize("name", ["goroutineleak-debug1.txt", "goroutineleak.pb.gz"])
def test_debug1_text_and_pages_say_proved_leaked(tmp_path, name):
    *_, total, func, where = expected(CAPTURED)
    text = goroutine_answer(load_profile(CAPTURED / name)).text
    assert text.startswith(f"The runtime proved {total} goroutines leaked")
    out = tmp_path / "site"
    proc = subprocess.run([sys.executable, "-m", "reportgen", "build", "-o", out,
                           CAPTURED / name, "--jobs", "1"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    said = f"The runtime proved {total} goroutines leaked"
    assert said in (out / "index.html").read_text()
    assert any(said in page.read_text() for page in (out / "pages").glob("*.html"))


def test_empty_goroutineleak_profile(tmp_path):
    empty = tmp_path / "goroutineleak-debug1.txt"
    empty.write_text("goroutineleak profile: total 0\n")
    text = goroutine_answer(load_profile(empty)).text
    assert text == "The runtime's leak-detecting GC found no leaked goroutines " \
                   "(goroutineleak profile)."


@pytest.mark.slow
def test_fresh_capture_says_proved_leaked(tmp_path):
    """Today's Go writes the same profile: capture it again and check the sentence."""
    go = go_binary()
    work = tmp_path / "gleak"
    shutil.copytree(CAPTURED, work, ignore=shutil.ignore_patterns("*.pb.gz", "*.txt"))
    subprocess.run([go, "run", "-trimpath", "."], cwd=work, check=True, capture_output=True,
                   timeout=300)
    assert_proved_sentence(work)
