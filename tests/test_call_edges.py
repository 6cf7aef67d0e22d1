"""Flat, cum and call edges against a plain per-sample reading of pprof's rules,
whatever the chunking of frames, and the shared edge set against a focused count.

The reference walks every sample in Python: each location expands to its lines
(innermost first, the last one a real call), cum counts a node once per
sample, and a (caller, callee) pair counts once per sample at its occurrence
nearest the root, whose callee frame decides the inline mark.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from reportgen.analyze import frames as frames_mod
from reportgen.analyze.frames import FrameTable, sample_chunks, stack_frames
from reportgen.analyze.graph import Part, build_graph, call_edges
from reportgen.sources import load_profile
from tests.profiles import ProfileBuilder


def _random_profile(tmp_path, seed: int):
    """Recursion (a function repeated on a stack, also inlined into itself),
    multi-line locations, zero and negative-free values, empty stacks."""
    rng = random.Random(seed)
    b = ProfileBuilder()
    fns = [b.function(f"pkg.f{i}", "pkg/f.go") for i in range(9)]
    locs = []
    for i in range(16):
        nlines = rng.choice((1, 1, 1, 2, 3))
        locs.append(b.location(*[(rng.choice(fns), 10 + j) for j in range(nlines)],
                               address=0x1000 + i))
    for _ in range(rng.randint(20, 60)):
        depth = rng.randint(0, 9)
        stack = [rng.choice(locs) for _ in range(depth)]
        value = rng.choice((0, 1, 3, 7, 1 << 40))
        b.sample(stack, [rng.randint(0, 5), value])
    path = tmp_path / f"p{seed}.pb.gz"
    b.write(path)
    return load_profile(str(path))


def _sample_frames(profile, table):
    """Per sample: [(node, outer)] leaf first."""
    out = []
    for i in range(profile.num_samples):
        frames = []
        for loc in profile.stack(i).tolist():
            lo, hi = int(table.loc_start[loc]), int(table.loc_start[loc + 1])
            frames += [(int(table.frames[k]), k == hi - 1) for k in range(lo, hi)]
        out.append(frames)
    return out


def _reference(profile, index, kept=None):
    table = FrameTable(profile)
    n = table.num_nodes
    flat, cum = [0] * n, [0] * n
    weight, real, seen = {}, {}, set()
    for frames, value in zip(_sample_frames(profile, table), profile.values[:, index].tolist()):
        if value == 0:
            continue
        if frames:
            flat[frames[0][0]] += value
        for node in {f for f, _ in frames}:
            cum[node] += value
        if kept is not None:
            frames = [f for f in frames if kept[f[0]]]
        counted = {}
        for i in range(len(frames) - 1):
            (callee, outer), (caller, _) = frames[i], frames[i + 1]
            if callee != caller:
                counted[(caller, callee)] = outer   # later = nearer the root wins
        for pair, outer in counted.items():
            weight[pair] = weight.get(pair, 0) + value
            real[pair] = real.get(pair, False) or outer
            seen.add(pair)
    edges = sorted(seen)
    return flat, cum, [(s, d, weight[(s, d)], not real[(s, d)]) for s, d in edges]


def _as_list(edges):
    return list(zip(edges.src.tolist(), edges.dst.tolist(), edges.weight.tolist(),
                    edges.inline.tolist()))


@pytest.mark.parametrize("chunk", [1, 5, None])
@pytest.mark.parametrize("seed", range(6))
def test_graph_and_edges_match_the_per_sample_rules(tmp_path, monkeypatch, seed, chunk):
    if chunk:
        monkeypatch.setattr(frames_mod, "CHUNK_FRAMES", chunk)
    profile = _random_profile(tmp_path, seed)
    graph = build_graph([Part(profile, 1)])
    flat, cum, edges = _reference(profile, 1)
    assert graph.flat.tolist() == flat
    assert graph.cum.tolist() == cum
    assert _as_list(graph.all_edges()) == edges
    kept = np.array([i % 3 != 1 for i in range(len(graph.keys))])
    _f, _c, kept_edges = _reference(profile, 1, kept)
    assert _as_list(call_edges(graph.pieces, len(graph.keys), kept)) == kept_edges


@pytest.mark.parametrize("seed", range(4))
def test_shared_edges_filtered_equal_a_focused_count(tmp_path, seed):
    profile = _random_profile(tmp_path, seed)
    graph = build_graph([Part(profile, 1)])
    n = len(graph.keys)
    for focus in ([0], [1, 4], list(range(0, n, 2)), list(range(n))):
        mask = np.zeros(n, dtype=bool)
        mask[focus] = True
        assert _as_list(graph.edges(focus)) == _as_list(call_edges(graph.pieces, n, focus=mask))


def test_chunks_cover_every_frame_and_never_split_a_sample():
    sample = np.repeat(np.arange(50, dtype=np.int32), [random.Random(i).randint(0, 9)
                                                         for i in range(50)])
    for size in (1, 3, 8, 1000):
        chunks = sample_chunks(sample, size)
        assert chunks[0][0] == 0 and chunks[-1][1] == len(sample)
        for (lo, hi), (lo2, _hi2) in zip(chunks, chunks[1:]):
            assert hi == lo2 and sample[hi - 1] != sample[hi]


def test_repeated_frames_are_exactly_the_recursive_ones(tmp_path, monkeypatch):
    monkeypatch.setattr(frames_mod, "CHUNK_FRAMES", 4)
    profile = _random_profile(tmp_path, 3)
    sf = stack_frames(profile)
    node, sample = sf.occ.node.tolist(), sf.occ.sample.tolist()
    want = [i for i in range(len(node))
            if any(node[j] == node[i] and sample[j] == sample[i] for j in range(i + 1, len(node)))]
    assert sf.dup.tolist() == want
    assert sf.recursive.tolist() == [s in {sample[i] for i in want}
                                     for s in range(profile.num_samples)]
