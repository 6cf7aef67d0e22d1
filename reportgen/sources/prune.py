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
    try:
        drop = re.compile(f"^({profile.drop_frames})$")
        keep = re.compile(f"^({profile.keep_frames})$") if profile.keep_frames else None
    except re.error as e:
        raise ProfileError(profile.path, f"bad drop_frames/keep_frames regexp ({e})") from None

    def dropped(fn_index: int) -> bool:
        if fn_index < 0:
            return False
        name = profile.functions[fn_index].name
        if not name:
            return False
        simple = _simplify(name)
        return bool(drop.match(simple)) and not (keep and keep.match(simple))

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
