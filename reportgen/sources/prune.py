"""pprof's drop_frames / keep_frames: remove allocator frames at load time.

A profile may name frames that are noise (e.g. `malloc|operator new`);
pprof removes each matching frame and everything it called from every
stack, unless a caller of it is also dropped. Go's runtime never sets
these, C++ profilers do; we apply them so our numbers match pprof's.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np

from reportgen.errors import ProfileError
from reportgen.regex import compile_go

_RESERVED = ("(anonymous namespace)", "operator()")
_BRACKET = re.compile("|".join(re.escape(n) for n in (*_RESERVED, "(")))


def _simplify(name: str) -> str:
    """The function name without its argument list, as pprof matches it."""
    name = name[1:] if name.startswith(".") else name
    for m in _BRACKET.finditer(name):
        if m.group(0) not in _RESERVED:
            return name[:m.start()]
    return name


def prune_frames(profile):
    """Apply the profile's own drop_frames/keep_frames, returning a new Profile."""
    if not profile.drop_frames:
        return profile
    # pprof's RemoveUninteresting: Go regexps anchored as ^(rx)$, keep only with drop.
    drop = compile_go(profile.drop_frames, "drop_frames", anchored=True, path=profile.path,
                      error=ProfileError)
    keep = (compile_go(profile.keep_frames, "keep_frames", anchored=True, path=profile.path,
                       error=ProfileError) if profile.keep_frames else None)

    by_name: dict[str, bool] = {}   # one match per distinct name, as pprof caches it

    def judge(name: str) -> bool:
        if name not in by_name:
            simple = _simplify(name)
            by_name[name] = bool(drop.match(simple)) and not (keep and keep.match(simple))
        return by_name[name]
    judged = [bool(f.name) and judge(f.name) for f in profile.functions]

    def dropped(fn_index: int) -> bool:
        return fn_index >= 0 and judged[fn_index]

    locations = list(profile.locations)
    prune, beneath = set(), set()
    for li, loc in enumerate(locations):
        # Outermost line first: the first dropped frame cuts it and all inlined into it.
        for i in range(len(loc.lines) - 1, -1, -1):
            if dropped(loc.lines[i].function):
                beneath.add(li)
                if i == len(loc.lines) - 1:
                    prune.add(li)
                else:
                    locations[li] = loc._replace(lines=loc.lines[i + 1:])
                break
    if not beneath:
        return profile

    stacks, offsets = [], [0]
    for s in range(profile.num_samples):
        stack = profile.stack(s).tolist()
        user = False
        for i in range(len(stack) - 1, -1, -1):
            loc = stack[i]
            if loc not in beneath:
                user = True
                continue
            if not user:
                continue
            stack = stack[i + 1:] if loc in prune else stack[i:]
            break
        stacks.extend(stack)
        offsets.append(len(stacks))
    return dataclasses.replace(
        profile, locations=locations,
        stack_locations=np.array(stacks, dtype=np.int32),
        stack_offsets=np.array(offsets, dtype=np.int64), cache={})
