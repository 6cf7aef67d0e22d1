"""Bad input never crashes reportgen: `reportgen top FILE` prints one line,
`reportgen: FILE: reason`, on stderr and exits 2, without a traceback."""

from __future__ import annotations

import gzip
import random
import zlib

import pytest

from profiles import (CORRUPT, ProfileBuilder, basic_builder, field_bytes, hostile_builder,
                      packed)
from reportgen.cli import make_parser
from reportgen.errors import ProfileError
from reportgen.sources import load_profile
from reportgen.sources.pprof import DEFAULT_MAX_DECOMPRESSED, parse_pprof


def assert_one_line_error(result, path, reason):
    """Exit 2, nothing on stdout, and exactly `reportgen: <path>: ...<reason>...`."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert result.stderr.endswith("\n") and result.stderr.count("\n") == 1, result.stderr
    line = result.stderr.rstrip("\n")
    assert line.startswith(f"reportgen: {path}: "), line
    assert reason.lower() in line.lower(), line
    return line


def write(tmp_path, name, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def bigger_profile() -> bytes:
    """Enough samples that the deflate stream has some length to corrupt."""
    b = hostile_builder()
    for i in range(200):
        b.sample([1 + i % 4, 2, 1], [i, i * 1024])
    return b.to_bytes(gzip=True)


# --- compression

def test_truncated_gzip(tmp_path, run_cli):
    data = bigger_profile()
    for cut in (2, 10, len(data) // 2, len(data) - 1):
        path = write(tmp_path, f"cut{cut}.pb.gz", data[:cut])
        assert_one_line_error(run_cli("top", path), path, "truncated gzip data")


@pytest.mark.parametrize("where", [0.1, 0.3, 0.5, 0.8])
def test_corrupt_gzip_stream(tmp_path, run_cli, where):
    data = bytearray(bigger_profile())
    pos = 10 + int((len(data) - 18) * where)  # inside the deflate stream
    data[pos] ^= 0xFF
    data[pos + 1] ^= 0x55
    path = write(tmp_path, "corrupt.pb.gz", bytes(data))
    assert_one_line_error(run_cli("top", path), path, "corrupt gzip data")


def test_corrupt_gzip_checksum(tmp_path, run_cli):
    data = bytearray(bigger_profile())
    data[-6] ^= 0xFF  # CRC32 in the trailer
    path = write(tmp_path, "crc.pb.gz", bytes(data))
    line = assert_one_line_error(run_cli("top", path), path, "corrupt gzip data")
    assert "crc" in line.lower()


def test_gzip_of_nothing(tmp_path, run_cli):
    path = write(tmp_path, "empty.pb.gz", gzip.compress(b""))
    assert_one_line_error(run_cli("top", path), path, "empty profile after decompression")


def test_decompression_bomb(tmp_path, run_cli):
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip framing
    chunk = bytes(1 << 20)
    bomb = b"".join(comp.compress(chunk) for _ in range(50)) + comp.flush()
    assert len(bomb) < 100_000  # 50 MiB of zeros
    path = write(tmp_path, "bomb.pb.gz", bomb)
    line = assert_one_line_error(run_cli("top", path, "--max-decompressed", "1M"), path,
                                 "decompresses to more than 1048576 bytes")
    assert "--max-decompressed" in line


def test_default_decompression_limit_is_1_gib():
    assert DEFAULT_MAX_DECOMPRESSED == 1 << 30
    assert make_parser().parse_args(["top", "x.pb.gz"]).max_decompressed == 1 << 30
    assert make_parser().parse_args(["top", "x", "--max-decompressed", "1M"]).max_decompressed \
        == 1 << 20


def test_limit_applies_to_output_not_input():
    data = basic_builder().to_bytes(gzip=True)
    size = len(basic_builder().to_bytes(gzip=False))
    parse_pprof("p", data, max_decompressed=size)  # exactly at the limit is fine
    with pytest.raises(ProfileError, match="decompresses to more than"):
        parse_pprof("p", data, max_decompressed=size - 1)


# --- protobuf

def test_truncated_raw_protobuf(tmp_path, run_cli):
    raw = hostile_builder().to_bytes(gzip=False)
    for cut in (len(raw) // 3, len(raw) // 2, len(raw) - 1):
        path = write(tmp_path, f"cut{cut}.pb", raw[:cut])
        assert_one_line_error(run_cli("top", path), path, "protobuf decoding failed")


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 5])
def test_random_bytes(tmp_path, run_cli, seed):
    rnd = random.Random(seed)
    data = bytes(rnd.randrange(256) for _ in range(rnd.choice([3, 64, 1000, 20000])))
    path = write(tmp_path, f"random{seed}.bin", data)
    line = assert_one_line_error(run_cli("top", path), path, "")
    assert "profile" in line


def test_valid_protobuf_without_sample_types(tmp_path, run_cli):
    path = write(tmp_path, "nothing.pb", field_bytes(6, b""))  # string_table = [""]
    assert_one_line_error(run_cli("top", path), path, "no sample types")


def test_string_table_must_start_empty(tmp_path, run_cli):
    path = write(tmp_path, "strings.pb", field_bytes(6, b"x"))
    assert_one_line_error(run_cli("top", path), path, "string_table[0]")


@pytest.mark.parametrize("name", sorted(CORRUPT))
@pytest.mark.parametrize("encoding", [True, False, "go"], ids=["packed", "unpacked", "go"])
def test_malformed_profile(tmp_path, run_cli, name, encoding):
    make, reason = CORRUPT[name]
    path = write(tmp_path, f"{name}.pb", make(packed=encoding))
    assert_one_line_error(run_cli("top", path), path, reason)


@pytest.mark.parametrize("name", sorted(CORRUPT))
def test_malformed_profile_gzipped_in_process(tmp_path, name):
    make, reason = CORRUPT[name]
    path = write(tmp_path, f"{name}.pb.gz", make(gzip=True))
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    assert reason in info.value.reason and info.value.path == str(path)


@pytest.mark.parametrize("field", ["sample_type", "label key", "comment", "negative"])
def test_string_index_out_of_range_anywhere(tmp_path, field):
    from profiles import corrupt_string_index
    with pytest.raises(ProfileError, match="string index"):
        parse_pprof("p", corrupt_string_index(field))


def test_truncated_varint_inside_a_packed_sample(tmp_path, run_cli):
    # The last location id of sample 0 lacks its final byte; the next sample's
    # bytes must not complete it.
    b = ProfileBuilder(sample_types=[("samples", "count")])
    f = b.function("f")
    b.location((f, 1), id=1)
    b.location((f, 2), id=129)
    sample0 = field_bytes(1, b"\x01\x81") + packed(2, [1])  # 1, then a cut-off varint
    sample1 = field_bytes(1, b"\x01") + packed(2, [1])
    raw = b.to_raw() + field_bytes(2, sample0) + field_bytes(2, sample1)
    path = write(tmp_path, "varint.pb", raw)
    assert_one_line_error(run_cli("top", path), path, "truncated varint")


def test_malformed_packed_field_in_a_partly_unpacked_profile(tmp_path, run_cli):
    # One sample unpacked sends the whole profile down the slow path; a broken
    # packed run in another sample must still be a one-line error there.
    b = ProfileBuilder(sample_types=[("samples", "count")])
    f = b.function("f")
    b.location((f, 1), id=1)
    bad = field_bytes(1, b"\x81") + packed(2, [1])
    unpacked_sample = b"\x08\x01\x10\x01"
    raw = b.to_raw() + field_bytes(2, bad) + field_bytes(2, unpacked_sample)
    path = write(tmp_path, "mixed.pb", raw)
    assert_one_line_error(run_cli("top", path), path, "malformed sample")


def test_same_profile_concatenated(tmp_path, run_cli):
    data = basic_builder().to_bytes(gzip=True)
    path = write(tmp_path, "twice.pb.gz", data + data)  # `cat a.pb.gz a.pb.gz`
    assert_one_line_error(run_cli("top", path), path, "concatenated")


def test_different_profiles_concatenated(tmp_path, run_cli):
    # `cat heap.pb.gz cpu.pb.gz`: gzip members and protobuf messages both
    # concatenate, so this decodes as one profile with four sample types and
    # merged tables. go tool pprof says "concatenated profiles detected"
    # (FORMATS.md: two non-zero time_nanos); any one clear reason will do.
    heap = basic_builder()
    cpu = ProfileBuilder(sample_types=[], period=10_000_000, time_nanos=1_700_000_001_000_000_000)
    for i in range(len(heap.strings) + 5):  # keep cpu's string indices off heap's strings
        cpu.s(f"pad{i}")
    cpu.msg.sample_type.add(type=cpu.s("samples"), unit=cpu.s("count"))
    cpu.msg.sample_type.add(type=cpu.s("cpu"), unit=cpu.s("nanoseconds"))
    f = cpu.function("main.spin", id=100)
    loc = cpu.location((f, 3), id=100)
    cpu.sample([loc], [1, 10_000_000])
    path = write(tmp_path, "two.pb.gz", heap.to_bytes() + cpu.to_bytes())
    line = assert_one_line_error(run_cli("top", path), path, "")
    assert "concatenated" in line or "has 2 values, expected 4" in line, line


# --- files that are no profile at all

def test_empty_file(tmp_path, run_cli):
    path = write(tmp_path, "empty.pb.gz", b"")
    assert_one_line_error(run_cli("top", path), path, "empty file")


def test_text_file(tmp_path, run_cli):
    path = tmp_path / "notes.txt"
    path.write_text("This is not a profile.\nJust some notes.\n")
    assert_one_line_error(run_cli("top", path), path, "not a profile (a text file")


def test_legacy_text_profile(testdata, run_cli):
    path = testdata / "gobench.heap"
    assert_one_line_error(run_cli("top", path), path, "legacy text profile format")


def test_missing_file(tmp_path, run_cli):
    path = tmp_path / "does-not-exist.pb.gz"
    assert_one_line_error(run_cli("top", path), path, "no such file")


def test_directory(tmp_path, run_cli):
    path = tmp_path / "adir"
    path.mkdir()
    assert_one_line_error(run_cli("top", path), path, "is a directory")


def test_bad_diff_base_names_the_base(tmp_path, run_cli):
    good = basic_builder().write(tmp_path / "good.pb.gz")
    base = write(tmp_path, "base.pb.gz", b"\x1f\x8b\x08\x00")
    assert_one_line_error(run_cli("top", good, "--diff-base", base), base, "truncated gzip")


def test_json_format_errors_the_same_way(tmp_path, run_cli):
    path = write(tmp_path, "dangling.pb", CORRUPT["dangling_location"][0]())
    assert_one_line_error(run_cli("top", path, "--format", "json"), path, "missing location 99")


def test_debug_shows_the_traceback(tmp_path, run_cli):
    path = write(tmp_path, "empty.pb", b"")
    result = run_cli("top", "--debug", path)
    assert result.returncode != 0
    assert "Traceback (most recent call last)" in result.stderr
    assert "ProfileError" in result.stderr and "empty file" in result.stderr


# --- no input makes the loader raise anything but ProfileError

def mutations(data: bytes, seed: int) -> bytes:
    rnd = random.Random(seed)
    d = bytearray(data)
    for _ in range(rnd.randint(1, 4)):
        if not d:
            break
        i = rnd.randrange(len(d))
        op = rnd.random()
        if op < 0.5:
            d[i] = rnd.randrange(256)
        elif op < 0.7:
            del d[i:i + rnd.randint(1, 8)]
        elif op < 0.85:
            d[i:i] = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 4)))
        else:
            del d[i:]
    return bytes(d)


@pytest.mark.parametrize("encoding", [True, False, "go"], ids=["packed", "unpacked", "go"])
def test_mutated_profiles_load_or_fail_cleanly(encoding):
    # "go" is what Go's runtime writes: lists of up to two ints unpacked.
    seeds = [basic_builder().to_raw(encoding), hostile_builder().to_raw(encoding)]
    for seed in range(1500):
        data = mutations(seeds[seed % 2], seed)
        try:
            parse_pprof("p", data)
        except ProfileError as e:
            assert "\n" not in str(e), seed
