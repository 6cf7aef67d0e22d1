"""The default report for bare files: which pages to build, told by content.

`reportgen build FILES...` has no manifest to say what matters, so the
inputs decide (rules in order; the first pages come first in the report):

- goroutine dumps or goroutine profiles: several → leak suspects (the same
  analysis as `reportgen leaks`), then the goroutine overview of the last;
  one → the goroutine overview, then its suspects;
- several heap profiles → heap growth (inuse_space, first → last);
- two or more profiles of another kind → a diff, first → last;
- a compiler log → escape hints (ranked by an allocation profile if one is given);
- benchmark output → the benchmark comparison (first → last file).

Pure: the manifest and the loaded profiles in, analyses out. The index's
lead (`lead`) is the most important of the pages' answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reportgen.analyze.goroutines import GOROUTINE_KINDS
from reportgen.analyze.leaks import pick_series
from reportgen.manifest import Analysis, default_analysis


def _kind(profile) -> str:
    snap = getattr(profile, "snapshot", None)
    return snap.kind if snap is not None else profile.profile_type


# Which profile's answer matters most, and which diff comes first.
PROFILE_RANK = {"cpu": 0, "allocs": 1, "heap": 2, "mutex": 3, "block": 4, "goroutine": 5}
_EARLY = ("before", "old", "base", "baseline", "prev")
_LATE = ("after", "new", "target", "fixed", "next")


def in_time_order(names: list, profiles: dict | None = None) -> list:
    """First → last: by capture time when every profile has one, else by words in
    the file names (before/old/base first, after/new last), else as given."""
    if profiles and all(profiles[n].time_nanos for n in names):
        return sorted(names, key=lambda n: profiles[n].time_nanos)

    def rank(n):
        tail = "/".join(str(n).replace("\\", "/").split("/")[-2:])  # file and its directory
        words = set(re.split(r"[^a-z]+", tail.lower()))
        return 0 if words & set(_EARLY) else 2 if words & set(_LATE) else 1
    return sorted(names, key=rank)


def compose(manifest, profiles: dict) -> list[Analysis]:
    """The analyses of a bare build, in page order (see the module docstring)."""
    out: list[tuple[str, str | None, dict]] = []   # (kind, title, options)
    snaps, heaps, _notes = pick_series(profiles)
    snaps, heaps = in_time_order(snaps, profiles), in_time_order(heaps, profiles)
    if len(snaps) > 1:
        out.append(("leaks", None, {"snapshots": snaps, "heap": heaps or None}))
        out.append(("goroutines", None, {"profile": snaps[-1]}))
    elif snaps:
        out.append(("goroutines", None, {"profile": snaps[0]}))
        out.append(("leaks", None, {"snapshots": snaps, "heap": None}))
    if len(heaps) > 1:
        first, last = manifest.profiles[heaps[0]].title, manifest.profiles[heaps[-1]].title
        out.append(("diff", f"Heap growth: {first} → {last} (inuse_space)",
                    {"base": heaps[0], "target": heaps[-1], "sample_index": "inuse_space"}))
    counts = manifest.bare.get("counts") or (None, None)
    groups: dict = {}
    for name, profile in profiles.items():
        kind = _kind(profile)
        if kind in GOROUTINE_KINDS or (kind == "heap" and len(heaps) > 1):
            continue  # covered by the leak and heap growth pages
        groups.setdefault((kind, tuple(profile.sample_types)), []).append(name)
    for (kind, _types), names in sorted(groups.items(), key=lambda kv: (
            PROFILE_RANK.get(kv[0][0], 9), kv[0][0])):
        names = in_time_order(names, profiles)
        if len(names) > 1:
            out.append(("diff", None, {"base": names[0], "target": names[-1],
                                       "base_count": counts[0], "target_count": counts[1]}))
    logs = manifest.bare.get("compiler_log") or []
    allocs = ([n for n, p in profiles.items() if _kind(p) == "allocs"]
              or [n for n, p in profiles.items() if _kind(p) == "heap"])
    if logs:
        # With an allocs profile, hints ranked by cost (the latest capture: the code as
        # it is); without one, the compiler's verdicts in file order.
        allocs = in_time_order(allocs, profiles)
        out.append(("escapes", None, {"profile": allocs[-1] if allocs else None,
                                      "compiler_log": logs[-1],
                                      "sample_index": "alloc_space" if allocs else None}))
    bench = in_time_order(manifest.bare.get("bench") or [])
    if bench:
        out.append(("bench", None, {"base": bench[0], "target": bench[-1]}))
    start = len(manifest.analyses)
    analyses = []
    for i, (kind, title, options) in enumerate(out):
        a = default_analysis(kind, start + i, **options)
        a.title = title
        analyses.append(a)
    return analyses


# How much a page's answer matters on the index, most first.
LEAD_RANK = {"leaks": 0, "diff-counted": 1, "diff": 2, "heap-growth": 3, "leaks-weak": 4,
             "gc": 5, "escapes": 6, "bench": 7, "profile": 8, "goroutines": 9, "leaks-none": 10}
STRONG_SUSPECT = 50  # a leak suspect scoring this much leads the index


@dataclass
class Lead:
    text: str
    href: str
    title: str
    rank: tuple = ()


def lead(candidates: list[Lead]) -> Lead | None:
    """The most important answer across all pages and cards (lowest rank; the
    earlier page on a tie)."""
    ranked = [c for c in candidates if c.text]
    return min(ranked, key=lambda c: c.rank) if ranked else None
