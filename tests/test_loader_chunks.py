"""The fast sample decoder works in chunks of samples (bounded memory): any chunk
size gives the same model and the same errors as the reference path."""

from __future__ import annotations

import pytest

from profiles import CORRUPT, assert_same_model
from reportgen.errors import ProfileError
from reportgen.sources import pprof
from reportgen.sources.pprof import parse_pprof
from test_loader import BUILDERS


@pytest.mark.parametrize("builder", sorted(BUILDERS))
@pytest.mark.parametrize("chunk", [1, 7, 64])
def test_any_chunk_size_gives_the_reference_model(builder, chunk, monkeypatch):
    data = BUILDERS[builder]().to_bytes(packed="go")
    reference = parse_pprof("p", data, vectorised=False)
    monkeypatch.setattr(pprof, "SAMPLE_CHUNK", chunk)
    chunked = parse_pprof("p", data)
    assert_same_model(reference, chunked)
    assert chunked.stack_locations.dtype == reference.stack_locations.dtype


def test_mixed_encoding_in_a_later_chunk_falls_back_to_the_reference(monkeypatch):
    b = BUILDERS["random1"]()
    data = b.to_bytes(packed="mixed")   # every other sample unpacked: not Go's form
    monkeypatch.setattr(pprof, "SAMPLE_CHUNK", 1)
    assert_same_model(parse_pprof("p", data, vectorised=False), parse_pprof("p", data))


@pytest.mark.parametrize("name", sorted(CORRUPT))
def test_errors_name_the_same_sample_in_any_chunk(name, monkeypatch):
    make, _ = CORRUPT[name]
    data = make(packed=True)
    with pytest.raises(ProfileError) as reference:
        parse_pprof("p", data, vectorised=False)
    monkeypatch.setattr(pprof, "SAMPLE_CHUNK", 1)
    with pytest.raises(ProfileError) as chunked:
        parse_pprof("p", data)
    assert str(chunked.value) == str(reference.value)
