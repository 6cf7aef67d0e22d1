"""The vectorised sample decoder against the reference path (a protobuf parse
per sample): the same model for every profile, the same verdict on bad input."""

from pathlib import Path

import pytest

from reportgen.errors import ProfileError
from reportgen.sources.pprof import parse_pprof
from reportgen.sources.samples import split_records
from tests.profiles import assert_same_model, basic_builder, field_bytes, hostile_builder, packed
from tests.test_bad_input import mutations
from tests.test_loader import BUILDERS

ROOT = Path(__file__).resolve().parent.parent
TESTDATA = ROOT.parent / "shared" / "pprof-testdata"


def both(data: bytes):
    """(vectorised, reference) models, or the ProfileError each raised."""
    out = []
    for vectorised in (True, False):
        try:
            out.append(parse_pprof("p", data, vectorised=vectorised))
        except ProfileError as e:
            out.append(e)
    return out


def assert_same(data: bytes):
    fast, ref = both(data)
    if isinstance(ref, ProfileError):
        assert isinstance(fast, ProfileError), f"reference refused ({ref}), fast path read it"
    else:
        assert not isinstance(fast, ProfileError), f"fast path refused: {fast}"
        assert_same_model(fast, ref)


@pytest.mark.parametrize("builder", sorted(BUILDERS))
@pytest.mark.parametrize("encoding", [True, False, "mixed", "go", "split"])
def test_every_encoding_decodes_alike(builder, encoding):
    assert_same(BUILDERS[builder]().to_bytes(packed=encoding))


def test_go_encoding_takes_the_fast_path():
    # Go writes lists of up to two ints unpacked: the fast path must read them itself.
    from reportgen.proto import profile_pb2
    msg = profile_pb2.PackedProfile.FromString(basic_builder().to_raw("go"))
    assert split_records(list(msg.sample)) is not None


def test_unknown_sample_field_falls_back_to_the_reference():
    from reportgen.proto import profile_pb2
    b = basic_builder()
    sample = packed(1, [1]) + packed(2, [5, 6]) + field_bytes(9, b"\x01")
    data = b.to_raw() + field_bytes(2, sample)
    msg = profile_pb2.PackedProfile.FromString(data)
    assert split_records(list(msg.sample)) is None
    assert_same(data)


def test_mutated_profiles_get_the_same_verdict():
    seeds = [basic_builder().to_raw("go"), hostile_builder().to_raw(True)]
    for seed in range(600):
        assert_same(mutations(seeds[seed % 2], seed))


def _corpus():
    files = sorted(p for p in TESTDATA.glob("*") if p.is_file() and not p.suffix == ".txt")
    files += sorted((ROOT / "examples").rglob("*.pb.gz"))
    return files


@pytest.mark.parametrize("path", _corpus(), ids=lambda p: p.name)
def test_real_profiles_decode_alike(path):
    data = path.read_bytes()
    fast, ref = both(data)
    if isinstance(ref, ProfileError):  # pprof's corpus holds legacy formats we refuse
        assert isinstance(fast, ProfileError)
        return
    assert_same_model(fast, ref)
