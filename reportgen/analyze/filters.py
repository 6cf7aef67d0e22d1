"""pprof's sample filters: -focus, -ignore, -hide, -show, -show_from, -tag*.

Name filters test a Go regexp (unanchored) against what the profile stores,
not against printed node names: each line's function name and its raw file
name, and the location's mapping file. So `-focus=libc` keeps every frame of
libc.so even unsymbolized, and `-hide=file1000` hides whole files.

- focus/ignore judge whole locations (any inlined line matching counts) and
  keep a sample with a focused location and no ignored one; they look at the
  lines as loaded, before hide/show remove any.
- hide removes the matching lines of a location (all of it when its mapping
  matches); show keeps only the matching lines (all of them when its
  mapping matches, none when it has no lines). A location left without lines leaves every stack; a sample
  left without locations is dropped.
- tag filters keep or drop whole samples by their labels (see tags.py).

Matching is done once per function, mapping and location; stacks are then
rewritten with numpy: 10^6 frames take tens of milliseconds.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np

from reportgen import units
from reportgen.analyze.tags import is_string_label, num_label_units, used_label_sets
from reportgen.regex import compile_go

# pprof's order in the "Active filters:" legend.
FILTER_NAMES = ("focus", "ignore", "hide", "show", "show_from",
                "tagfocus", "tagignore", "tagshow", "taghide")


def apply_filters(profile, focus=None, ignore=None, hide=None, show=None, tagfocus=None,
                  tagignore=None, *, show_from=None, tagshow=None, taghide=None,
                  warnings: list | None = None):
    """A new Profile filtered as pprof filters it, or `profile` itself when no
    filter is given. pprof's "... matched no samples" notes go to `warnings`."""
    warn = warnings.append if warnings is not None else (lambda _msg: None)
    rx = {name: compile_regex(name, value) for name, value in
          (("focus", focus), ("ignore", ignore), ("hide", hide), ("show", show),
           ("show_from", show_from), ("tagshow", tagshow), ("taghide", taghide))}
    key_units = num_label_units(profile) if tagfocus or tagignore else {}
    tag_focus = compile_tag_filter("tagfocus", tagfocus, key_units)
    tag_ignore = compile_tag_filter("tagignore", tagignore, key_units)
    result = profile
    if any(rx[n] for n in ("focus", "ignore", "hide", "show")):
        result = _filter_by_name(result, rx["focus"], rx["ignore"], rx["hide"], rx["show"], warn)
    if rx["show_from"]:
        result = _show_from(result, rx["show_from"], warn)
    if tag_focus or tag_ignore:
        result = _filter_by_tag(result, tag_focus, tag_ignore, warn)
    if rx["tagshow"] or rx["taghide"]:
        result = _filter_tag_names(result, rx["tagshow"], rx["taghide"], warn)
    return result


def active_filters(**options) -> list[str]:
    """The "Active filters:" legend pprof prints above a report (empty: none)."""
    shown = []
    for name in FILTER_NAMES:
        value = options.get(name)
        if value:
            text = f"{name}={value}"
            raw = text.encode()
            if len(raw) > 80:  # pprof cuts bytes, not characters
                text = raw[:80].decode("utf-8", "replace") + "…"
            shown.append("   " + text)
    return ["Active filters:", *shown] if shown else []


# --- regexps ---------------------------------------------------------------

def compile_regex(option: str, value):
    """A filter's Go regexp (RE2, see reportgen.regex), or None when not given."""
    if not value:
        return None
    return compile_go(value, option, path="-" + option)


# --- name filters ------------------------------------------------------------

class _Matcher:
    """One regexp tested once per function and mapping of a profile."""

    def __init__(self, profile, rx):
        self.fn = [bool(rx.search(f.name) or rx.search(f.filename)) for f in profile.functions]
        self.map = [bool(rx.search(m.filename)) for m in profile.mappings]

    def line(self, ln) -> bool:
        return ln.function >= 0 and self.fn[ln.function]

    def mapping(self, loc) -> bool:
        return loc.mapping >= 0 and self.map[loc.mapping]

    def location(self, loc) -> bool:
        return any(self.line(ln) for ln in loc.lines) or self.mapping(loc)


def _filter_by_name(profile, focus, ignore, hide, show, warn):
    F, I, H, S = (_Matcher(profile, r) if r else None for r in (focus, ignore, hide, show))
    n = len(profile.locations)
    focused, ignored, hidden = (np.zeros(n, dtype=bool) for _ in range(3))
    locations = list(profile.locations)
    hm = hnm = False
    for li, loc in enumerate(profile.locations):
        if I and I.location(loc):
            ignored[li] = True
        elif F is None or F.location(loc):
            focused[li] = True
        lines = loc.lines
        if H and H.location(loc):
            hm = True
            lines = () if H.mapping(loc) else tuple(ln for ln in lines if not H.line(ln))
            hidden[li] = not lines
        if S:
            if not S.mapping(loc):
                lines = tuple(ln for ln in lines if ln.function < 0 or S.line(ln))
            hidden[li] = not lines
            hnm = hnm or bool(lines)
        if lines != loc.lines:
            locations[li] = loc._replace(lines=lines)
    for rx, matched, name in ((focus, focused.any(), "Focus"), (ignore, ignored.any(), "Ignore"),
                              (hide, hm, "Hide"), (show, hnm, "Show")):
        if rx and not matched:
            warn(f"{name} expression matched no samples")

    locs, owner = profile.stack_locations, _owner(profile)
    ns = profile.num_samples
    keep_entry = ~hidden[locs]
    keep = ((np.bincount(owner[focused[locs]], minlength=ns) > 0)
            & (np.bincount(owner[ignored[locs]], minlength=ns) == 0)
            & (np.bincount(owner[keep_entry], minlength=ns) > 0))
    return _derive(profile, keep, keep_entry, locations=locations)


def _show_from(profile, rx, warn):
    """Cut each stack above its root-most matching frame; drop samples without one."""
    M = _Matcher(profile, rx)
    matched = np.zeros(len(profile.locations), dtype=bool)
    locations = list(profile.locations)
    for li, loc in enumerate(profile.locations):
        if M.mapping(loc):
            matched[li] = True
            continue
        hits = [i for i, ln in enumerate(loc.lines) if M.line(ln)]
        if hits:
            matched[li] = True
            locations[li] = loc._replace(lines=loc.lines[:hits[-1] + 1])
    if not matched.any():
        warn("ShowFrom expression matched no samples")
    owner = _owner(profile)
    pos = np.arange(len(owner))
    hit = matched[profile.stack_locations]
    sid, at = owner[hit], pos[hit]
    # Stacks are leaf first: the last hit of each sample is its root-most.
    last = np.append(sid[1:] != sid[:-1], True) if len(sid) else np.zeros(0, dtype=bool)
    cut = np.full(profile.num_samples, -1, dtype=np.int64)
    cut[sid[last]] = at[last]
    return _derive(profile, cut >= 0, pos <= cut[owner], locations=locations)


# --- tag filters -------------------------------------------------------------

_RANGE = re.compile(r"([+-]?[0-9]+)([A-Za-z]+)?")


def parse_tag_range(text: str):
    """pprof's numeric tag filter ("32kb", ":64kb", "4mb:", "12kb:64mb") as a
    predicate (value, unit) -> bool, or None when `text` is a regexp."""
    found = [m for _, m in zip(range(2), _RANGE.finditer(text))]
    if not found:
        return None

    def scaled(m, to_unit):
        return units.scale(int(m.group(1)), m.group(2) or "", to_unit)
    low, unit = scaled(found[0], found[0].group(2) or "")
    high, op = None, None
    if len(found) == 1:
        op = {found[0].group(0): "==", found[0].group(0) + ":": ">=",
              ":" + found[0].group(0): "<="}.get(text)
        if op is None:
            return None
    elif text != found[0].group(0) + ":" + found[1].group(0):
        return None
    else:
        high, unit2 = scaled(found[1], unit)
        if unit2 != unit:
            return None

    def test(value, value_unit):
        v, u = units.scale(value, value_unit, unit)
        if u != unit:
            return False
        if high is not None:
            return low <= v <= high
        return v == low if op == "==" else v >= low if op == ">=" else v <= low
    return test


def compile_tag_filter(option: str, value, key_units: dict):
    """pprof's -tagfocus/-tagignore value as a predicate over one label set."""
    if not value:
        return None
    want, _, spec = value.partition("=") if "=" in value else ("", "", value)
    numeric = parse_tag_range(spec)
    if numeric:
        def by_number(labels):
            return any(numeric(lb.num, key_units.get(lb.key, "")) for lb in labels
                       if not is_string_label(lb) and (not want or lb.key == want))
        return by_number
    rxs = [compile_go(part, option, path="-" + option) for part in spec.split(",")]
    if want:
        def by_key(labels):
            vals = [lb.str for lb in labels if lb.key == want and is_string_label(lb)]
            return any(rx.search(v) for rx in rxs for v in vals)
        return by_key

    def by_pair(labels):
        # Every regexp must match some "key:value" of the sample.
        pairs = [f"{lb.key}:{lb.str}" for lb in labels if is_string_label(lb)]
        return all(any(rx.search(p) for p in pairs) for rx in rxs)
    return by_pair


def _filter_by_tag(profile, focus, ignore, warn):
    def per_sample(test, default):
        # Judged once per distinct label set, then looked up per sample.
        per_set = [test(ls) if test else default for ls in profile.label_sets]
        return np.array(per_set, dtype=bool)[profile.label_set]
    focused, ignored = per_sample(focus, True), per_sample(ignore, False)
    if focus and not focused.any():
        warn("TagFocus expression matched no samples")
    if ignore and not ignored.any():
        warn("TagIgnore expression matched no samples")
    return _derive(profile, focused & ~ignored)


def _filter_tag_names(profile, show, hide, warn):
    """-tagshow / -taghide: remove label keys (not samples)."""
    keys = {lb.key for idx in used_label_sets(profile).tolist() for lb in profile.label_sets[idx]}
    if show and not any(show.search(k) for k in keys):
        warn("TagShow expression matched no samples")
    if hide and not any(hide.search(k) for k in keys):
        warn("TagHide expression matched no samples")
    drop = {k for k in keys if (show and not show.search(k)) or (hide and hide.search(k))}
    label_sets = [tuple(lb for lb in ls if lb.key not in drop) for ls in profile.label_sets]
    return dataclasses.replace(profile, label_sets=label_sets, cache={})


# --- rewriting stacks --------------------------------------------------------

def _owner(profile) -> np.ndarray:
    """The sample of every entry of stack_locations."""
    return np.repeat(np.arange(profile.num_samples, dtype=np.int64),
                     np.diff(profile.stack_offsets))


def _derive(profile, keep_sample, keep_entry=None, locations=None):
    """A new Profile with the kept samples, each keeping its kept stack entries."""
    owner = _owner(profile)
    entry = keep_sample[owner] if keep_entry is None else keep_sample[owner] & keep_entry
    counts = np.bincount(owner[entry], minlength=profile.num_samples)[keep_sample]
    offsets = np.zeros(len(counts) + 1, dtype=profile.stack_offsets.dtype)
    np.cumsum(counts, out=offsets[1:])
    return dataclasses.replace(
        profile, locations=profile.locations if locations is None else locations,
        values=profile.values[keep_sample], label_set=profile.label_set[keep_sample],
        stack_locations=profile.stack_locations[entry], stack_offsets=offsets, cache={})
