"""A flame graph as one self-contained SVG, written by hand.

The SVG carries a static picture (frames at least 1 px wide, for viewers
that run no script) plus the whole pruned tree as one escaped JSON object;
themes/default/flame.js redraws from that data and adds zoom, search,
tooltips, keyboard control and the flame/icicle toggle. Every id, CSS rule
and script state is scoped by the graph id, so several graphs share a page.

A DiffFlameTree draws as a differential flame graph: colour by each
frame's change on a blue (shrank) - white - red (grew) scale, tooltips with
before, after and delta, and a button that redraws with the base's widths.

Sizes: node structure and values are packed into one base64-alphabet VLQ
string (about 9 bytes a node) instead of per-frame markup, so a 50k-node
tree stays well under 2 MB.
"""

from __future__ import annotations

import colorsys
import html
import re
from pathlib import Path

import numpy as np

from reportgen import units
from reportgen.analyze.flame import ROOT_NAME, DiffFlameTree, FlameTree
from reportgen.gocode import family, name_head, package_of
from reportgen.render.names import show_controls
from reportgen.render.site import script_json

THEME_DIR = Path(__file__).resolve().parents[2] / "themes" / "default"
WIDTH, PAD, ROW, TOP = 1200, 10, 16, 64
FRAMES_WIDTH = WIDTH - 2 * PAD
CHAR_WIDTH = 6.7        # 11px monospace; flame.js uses the same numbers
STATIC_MIN_PX = 1.0     # the no-script picture; the script draws down to JS_MIN_PX
JS_MIN_PX = 0.5
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_VLQ = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
                     dtype=np.uint8)

# Hue family per kind of code: (hue from, hue span, saturation, lightness).
FAMILIES = {
    "app": (0, 48, (0.70, 0.85), (0.56, 0.66)),        # warm: the program's own code
    "std": (185, 45, (0.45, 0.62), (0.62, 0.72)),      # blue: standard library
    "runtime": (250, 32, (0.30, 0.48), (0.66, 0.76)),  # violet: Go runtime
    "other": (70, 40, (0.22, 0.38), (0.60, 0.70)),     # olive: native, unknown
}
FAMILY_LABELS = {"app": "program code", "std": "standard library", "runtime": "Go runtime",
                 "other": "native / unknown"}

# Diff colours: ColorBrewer RdBu (diverging, colour-blind safe), blue = shrank.
# A frame's change is (after - before) / max(before, after), from -1 (gone)
# to +1 (new); |change| below the first edge is "the same".
DIFF_PALETTE = ("#2166ac", "#4393c3", "#92c5de", "#d1e5f0", "#f7f7f7",
                "#fddbc7", "#f4a582", "#d6604d", "#b2182b")
CHANGE_EDGES = (0.02, 0.25, 0.5, 0.75)
DIFF_LABELS = ("≤ −75% (gone)", "−50…−75%", "−25…−50%", "−2…−25%", "±2%",
               "+2…+33%", "+33…+100%", "×2…×4", "≥ ×4 (new)")  # +33% is change 0.25
DARK_BINS = (0, 8)  # labels on these read better in white
WIDTH_NOTES = {
    "target": "Widths: the target (after). Colour: how each frame's total changed.",
    "base": "Widths: the base (before), so removed code shows. "
            "Colour: how each frame's total changed.",
}


def xml_text(s: str) -> str:
    """Escape for XML/HTML text and attributes; drop characters XML forbids and
    show bidi controls (render.names)."""
    return html.escape(show_controls(_XML_BAD.sub("\ufffd", s)), quote=True)


def safe_json(data) -> str:
    """script_json plus escapes for characters an XML document may not hold."""
    return _XML_BAD.sub(lambda m: "\\u%04x" % ord(m.group()), script_json(data))


# --- names: packages, families, short forms

def _shade(fam: str, t_hue: float, t_sat: float, t_light: float) -> str:
    """A colour of a family; each t in [0, 1] picks within the family's range."""
    hue, span, (s0, s1), (l0, l1) = FAMILIES[fam]
    r, g, b = colorsys.hls_to_rgb((hue + t_hue * span) % 360 / 360, l0 + t_light * (l1 - l0),
                                  s0 + t_sat * (s1 - s0))
    return "#%02x%02x%02x" % (round(r * 255), round(g * 255), round(b * 255))


def colour(package: str, fam: str) -> str:
    """A colour stable across runs: FNV-1a of the package picks a shade in its family."""
    h = 0x811C9DC5
    for b in package.encode("utf-8"):
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return _shade(fam, (h % 1000) / 1000, ((h >> 10) % 100) / 100, ((h >> 20) % 100) / 100)


def family_colour(fam: str) -> str:
    """The middle shade of a family, for the legend."""
    return _shade(fam, 0.5, 0.5, 0.5)


def short_forms(name: str) -> list:
    """Ever shorter forms of a name: full, without import path, without package."""
    forms = [name]
    head = name_head(name)
    cut = head.rfind("/") + 1
    if cut:
        forms.append(name[cut:])
    head = head[cut:]
    dot = head.find(".")
    if dot > 0:
        forms.append(name[cut + dot + 1:])
    return forms


def fit_name(name: str, chars: int) -> str:
    """The longest short form that fits in `chars`, else a truncation with '…'."""
    for form in short_forms(name):
        if len(form) <= chars:
            return form
    return form[:chars - 1] + "…" if chars >= 3 else ""


# --- packing the tree

def vlq(values: np.ndarray) -> str:
    """Non-negative ints as base64-alphabet VLQ: 5 bits a character, bit 6 = more follows."""
    v = np.asarray(values, dtype=np.uint64)
    if len(v) == 0:
        return ""
    ndig = np.ones(len(v), dtype=np.int64)
    rest = v >> np.uint64(5)
    while rest.any():
        ndig += rest > 0
        rest >>= np.uint64(5)
    k = np.arange(int(ndig.max()))
    digits = (v[:, None] >> (5 * k[None, :]).astype(np.uint64)) & np.uint64(31)
    digits = digits.astype(np.int64) | np.where(k[None, :] < ndig[:, None] - 1, 32, 0)
    keep = k[None, :] < ndig[:, None]
    return _VLQ[digits[keep]].tobytes().decode("ascii")


def zigzag(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.int64)
    return np.where(v < 0, -2 * v - 1, 2 * v).astype(np.uint64)


def unit_scale(unit: str) -> list:
    """[[name, factor], ...] of the unit's family (bytes or time), in sample
    units; [] for counts and units reportgen does not scale."""
    found = units._sniff(unit)
    if found is None:
        return []
    family, _default, factor = found
    return [[name, f / factor] for name, _aliases, f in family]


ROOT_COLOUR = "#c8c8c8"


class FrameStrings:
    """Names, files, lines and colour class per frame, shared by the graphs of
    one page (a profile's flame and reverse graphs hold the same frames).

    Graphs index into one table; with an `table_id` the table is written once
    into the page (`script()`) and each graph's data refers to it by id.
    """

    def __init__(self, table_id: str | None = None):
        if table_id is not None and not _ID.match(table_id):
            raise ValueError(f"table id must match {_ID.pattern}: {table_id!r}")
        self.id = table_id
        self._index: dict = {}
        self._pkg_class: dict = {}
        self.names, self.files, self.lines, self.cls, self.rules = [], [], [], [], []

    def _colour_class(self, fam, pkg) -> int:
        c = self._pkg_class.get((fam, pkg))
        if c is None:
            c = self._pkg_class[(fam, pkg)] = len(self.rules)
            self.rules.append(ROOT_COLOUR if fam is None else colour(pkg, fam))
        return c

    def add(self, tree: FlameTree, frames: np.ndarray) -> np.ndarray:
        """Table index per entry of `frames` (frame ids of `tree`, -1 = the root)."""
        used, inverse = np.unique(frames, return_inverse=True)
        local = np.empty(len(used), dtype=np.int64)
        for k, f in enumerate(used.tolist()):  # one step per distinct frame, not per node
            if f < 0:
                key = (None, "", 0)
            else:
                key = (tree.frame_names[f], tree.frame_files[f], int(tree.frame_lines[f]))
            i = self._index.get(key)
            if i is None:
                i = self._index[key] = len(self.names)
                if f < 0:
                    self.names.append(ROOT_NAME)
                    self.cls.append(self._colour_class(None, None))
                else:
                    pkg = package_of(key[0], key[1])
                    fam = family(pkg)
                    self.cls.append(self._colour_class(fam, pkg))
                    self.names.append(key[0])
                self.files.append(key[1])
                self.lines.append(key[2])
            local[k] = i
        return local[inverse.ravel()]

    def data(self) -> dict:
        return {"names": self.names, "files": self.files, "lines": self.lines, "cls": self.cls,
                "rules": self.rules}

    def script(self) -> str:
        """The table as a JSON script element for the page (needs an id)."""
        return (f'<script type="application/json" id="{self.id}">'
                f'{safe_json(self.data())}</script>')


def change_bins(change: np.ndarray) -> np.ndarray:
    """Index into DIFF_PALETTE per node: 4 is unchanged, 0 shrank most, 8 grew most."""
    steps = np.searchsorted(CHANGE_EDGES, np.abs(change), side="right")
    return 4 + np.sign(change).astype(np.int64) * steps


def _pack(cols) -> str:
    return vlq(np.stack([np.asarray(c, dtype=np.uint64) for c in cols], axis=1).ravel())


def _levels_up(tree: FlameTree) -> np.ndarray:
    return np.concatenate([[0], tree.depth[:-1] - tree.depth[1:] + 1])


def _view(tree: FlameTree, orientation: str) -> dict:
    """The data keys flame.js needs for any graph, after the node table."""
    return {
        "total": int(tree.total_value), "type": tree.sample_type, "unit": tree.unit,
        "scale": unit_scale(tree.unit), "pruned": [tree.pruned_nodes, int(tree.pruned_value)],
        "reverse": tree.reverse, "orient": orientation, "maxd": int(tree.depth.max(initial=0)),
        "W": WIDTH, "pad": PAD, "top": TOP, "row": ROW, "cw": CHAR_WIDTH, "minpx": JS_MIN_PX,
    }


def _strings_keys(strings: FrameStrings, own: bool) -> dict:
    return strings.data() if own else {"strings": strings.id}


def tree_data(tree: FlameTree, orientation: str, strings: FrameStrings | None = None
              ) -> tuple[dict, list, np.ndarray]:
    """The JSON object flame.js reads, the colour rules and the class per node.

    With `strings` (a page's shared table) the names live there and the data
    names the table; without, the data carries its own.
    """
    if isinstance(tree, DiffFlameTree):
        return diff_tree_data(tree, orientation, strings)
    own = strings is None
    strings = strings or FrameStrings()
    frame = strings.add(tree, tree.frame)
    q = int(np.gcd.reduce(np.concatenate([np.abs(tree.weight), np.abs(tree.self),
                                          np.abs(tree.total), [0]])))
    q = q or 1
    signed = bool(np.any(tree.total != tree.weight))
    cols = [_levels_up(tree), frame, tree.weight // q, zigzag(tree.self // q)]
    if signed:
        cols.append(zigzag(tree.total // q))
    data = {
        "v": 1, "n": len(tree), "fields": len(cols), "q": q, "signed": signed,
        "enc": _pack(cols), **_strings_keys(strings, own), **_view(tree, orientation),
    }
    return data, strings.rules, np.asarray(strings.cls, dtype=np.int64)[frame]


def diff_tree_data(tree: DiffFlameTree, orientation: str, strings: FrameStrings | None = None
                   ) -> tuple[dict, list, np.ndarray]:
    """tree_data for a diff: both sides' values and a colour bin per node.

    Node fields: levels up, frame, after total, after self, before total,
    before self (all zigzag), colour bin. flame.js draws with one side's
    totals as widths and can switch to the other's.
    """
    own = strings is None
    strings = strings or FrameStrings()
    frame = strings.add(tree, tree.frame)
    values = [tree.after_total, tree.after_self, tree.before_total, tree.before_self]
    q = int(np.gcd.reduce(np.abs(np.concatenate(values + [[0]])))) or 1
    bins = change_bins(tree.change)
    cols = [_levels_up(tree), frame, *(zigzag(v // q) for v in values), bins]
    data = {
        "v": 1, "n": len(tree), "fields": len(cols), "q": q, "diff": True,
        "widths": tree.widths, "wnotes": WIDTH_NOTES, "dark": list(DARK_BINS),
        "enc": _pack(cols), **_strings_keys(strings, own), **_view(tree, orientation),
    }
    return data, list(DIFF_PALETTE), bins


# --- the SVG

def _row_y(depth, max_depth: int, orientation: str):
    return TOP + (depth if orientation == "icicle" else max_depth - depth) * ROW


def _num(v: float) -> str:
    text = f"{v:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _fixed1(v: np.ndarray) -> np.ndarray:
    """Numbers with at most one decimal, "12" not "12.0" (one vectorised pass)."""
    text = np.char.mod("%.1f", np.round(v, 1))
    return np.where(np.char.endswith(text, ".0"), np.char.rstrip(np.char.rstrip(text, "0"), "."),
                    text)


def _static_frames(tree: FlameTree, node_cls, orientation: str, dark=()) -> str:
    """The no-script picture: one <path> per colour class (a subpath per frame at
    least STATIC_MIN_PX wide) and labels where they fit. flame.js replaces it
    with one rect per frame when it runs."""
    total = float(tree.weight[0]) or 1.0
    px = tree.weight / total * FRAMES_WIDTH
    x = PAD + tree.offset / total * FRAMES_WIDTH
    y = _row_y(tree.depth, int(tree.depth.max(initial=0)), orientation)
    drawn = np.flatnonzero(px >= STATIC_MIN_PX)
    cls = np.asarray(node_cls)[drawn]
    order = np.argsort(cls, kind="stable")
    drawn, cls = drawn[order], cls[order]
    xs, ws = _fixed1(x[drawn]), _fixed1(px[drawn])
    ys = y[drawn].astype(str)
    sub = np.char.add(np.char.add(np.char.add(np.char.add(np.char.add(
        np.char.add("M", xs), " "), ys), "h"), ws), f"v{ROW - 1}H")
    sub = np.char.add(np.char.add(sub, xs), "z") if len(drawn) else sub
    out = []
    bounds = np.flatnonzero(np.diff(cls)) + 1 if len(cls) else []
    for group in np.split(np.arange(len(cls)), bounds) if len(cls) else []:
        out.append(f'<path class="c{cls[group[0]]}" d="{"".join(sub[group].tolist())}"/>')
    labelled = np.flatnonzero(px >= 3 * CHAR_WIDTH + 6)
    chars = ((px[labelled] - 6) // CHAR_WIDTH).astype(int)
    names, frames = tree.frame_names, tree.frame
    for n, width in zip(labelled.tolist(), chars.tolist()):
        label = fit_name(show_controls(names[frames[n]] if frames[n] >= 0 else ROOT_NAME), width)
        if label:
            dk = ' class="dk"' if node_cls[n] in dark else ""
            out.append(f'<text x="{_num(x[n] + 3)}" y="{y[n] + 11}"{dk}>{xml_text(label)}</text>')
    return "\n".join(out)


def _legend(y: int) -> str:
    out, x = [], PAD
    for fam, label in FAMILY_LABELS.items():
        out.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" '
                   f'style="fill:{family_colour(fam)}"/><text x="{x + 16}" y="{y}">{label}</text>')
        x += 30 + int(len(label) * 7)
    out.append(f'<text x="{x}" y="{y}" class="muted">shades: one per package, '
               'the same in every report; matches: magenta</text>')
    return "".join(out)


def _diff_legend(y: int) -> str:
    out, x = [f'<text x="{PAD}" y="{y}">Change, before → after:</text>'], PAD + 160
    for colour_, label in zip(DIFF_PALETTE, DIFF_LABELS):
        out.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" class="sw" '
                   f'style="fill:{colour_}"/><text x="{x + 16}" y="{y}">{xml_text(label)}</text>')
        x += 30 + len(label) * 8  # wider than the family legend's: … and − are wide
    return "".join(out)


def _diff_summary(tree: DiffFlameTree) -> str:
    before, after = int(tree.before_total[0]), int(tree.after_total[0])
    change = f"{(after - before) / before * 100:+.1f}%" if before else "new"
    return (f"{tree.sample_type} · before {units.label(before, tree.unit)} → "
            f"after {units.label(after, tree.unit)} ({change})"
            + (" · callers of each leaf (reverse)" if tree.reverse else ""))


def _pruned_note(tree: FlameTree) -> str:
    if not tree.pruned_nodes:
        return "Every frame is drawn."
    if isinstance(tree, DiffFlameTree):
        return (f"Not drawn: {tree.pruned_nodes:,} frames narrower than 1/12000 of before + "
                f"after (~0.1 px); the stacks reaching them hold "
                f"{units.label(tree.pruned_before, tree.unit)} before and "
                f"{units.label(tree.pruned_after, tree.unit)} after.")
    share = units.percentage(tree.pruned_value, int(tree.weight[0])).strip()
    value = units.label(int(tree.pruned_value), tree.unit)
    return (f"Not drawn: {tree.pruned_nodes:,} frames narrower than 1/12000 of the width "
            f"(~0.1 px); the stacks reaching them hold {value} ({share}).")


def read_theme(theme_dir: Path | None) -> tuple[str, str]:
    """(flame.js, flame.css) of a theme; both go into CDATA sections."""
    theme = Path(theme_dir) if theme_dir else THEME_DIR
    js = (theme / "flame.js").read_text(encoding="utf-8")
    css = (theme / "flame.css").read_text(encoding="utf-8")
    if "]]>" in js or "]]>" in css:
        raise ValueError("flame.js/flame.css must not contain ']]>'")
    return js, css


def flame_svg(tree: FlameTree, graph_id: str, title: str, standalone: bool = False,
              orientation: str | None = None, theme_dir: Path | None = None,
              strings: FrameStrings | None = None, shared_assets: bool = False,
              sandwich: bool = False) -> str:
    """The flame graph of `tree` (a diff one for a DiffFlameTree) as SVG markup.

    standalone=True: a complete .svg document; False: an <svg> element to
    inline into HTML. `orientation` is "flame" (root at the bottom) or
    "icicle" (root on top); the default is icicle for a reverse tree.
    `strings`: a page's shared FrameStrings (with an id; the page writes its
    script once). `shared_assets`: leave flame.js and flame.css out, the page
    loads them once for the whole site (report.js starts every graph).
    `sandwich`: a button that opens the page's sandwich view (report.js).
    """
    if not _ID.match(graph_id):
        raise ValueError(f"graph id must match {_ID.pattern}: {graph_id!r}")
    orientation = orientation or ("icicle" if tree.reverse else "flame")
    if orientation not in ("flame", "icicle"):
        raise ValueError(orientation)
    if standalone and (strings is not None or shared_assets):
        raise ValueError("a standalone SVG carries its own strings and code")
    js, css = read_theme(theme_dir)
    data, rules, node_cls = tree_data(tree, orientation, strings)
    gid = graph_id
    diff = isinstance(tree, DiffFlameTree)
    max_depth = int(tree.depth.max(initial=0))
    frames_bottom = TOP + (max_depth + 1) * ROW
    height = frames_bottom + (64 if diff else 44)
    used = np.unique(node_cls).tolist()
    if diff:  # as specific as the search highlight and later, so a match keeps its colour
        rules_css = "".join(f"#{gid} .frames .c{i}{{fill:{rules[i]}}}" for i in used)
        rules_css += f"#{gid} .frames text.dk{{fill:#ffffff}}"
        summary = _diff_summary(tree)
    else:
        rules_css = "".join(f"#{gid} .c{i}{{fill:{rules[i]}}}" for i in used)
        summary = (f"{tree.sample_type} · total {units.label(int(tree.total_value), tree.unit)}"
                   + (" · callers of each leaf (reverse)" if tree.reverse else ""))
    css = ("" if shared_assets else css) + rules_css
    size = (f'width="{WIDTH}" height="{height}"' if standalone
            else 'width="100%" style="max-width:100%;height:auto"')
    head = '<?xml version="1.0" encoding="UTF-8"?>\n' if standalone else ""
    toggle = "Flame" if orientation == "icicle" else "Icicle"
    buttons = [_button(gid, "reset", PAD, 86, "Reset zoom",
                       "Show everything, clear the search (Esc)"),
               _button(gid, "orient", PAD + 94, 70, toggle, "Root at the bottom or on top")]
    search_x = PAD + 172
    if diff:
        buttons.append(_button(gid, "widths", search_x, 100,
                               "Base widths" if tree.widths == "target" else "Target widths",
                               "Draw with the base's widths (removed code shows) "
                               "or the target's"))
        search_x += 108
    elif sandwich:
        buttons.append(_button(gid, "sandwich", search_x, 86, "Sandwich",
                               "Callers and callees of the zoomed or focused frame (s)"))
        search_x += 94
    frames = _static_frames(tree, node_cls, orientation, DARK_BINS if diff else ())
    pruned = (f'<text x="{PAD}" y="{frames_bottom + (56 if diff else 16)}" class="muted" '
              f'id="{gid}-pruned">{xml_text(_pruned_note(tree))}</text>')
    if diff:
        footer = [f'<text x="{PAD}" y="{frames_bottom + 16}" id="{gid}-wnote">'
                  f'{xml_text(WIDTH_NOTES[tree.widths])}</text>',
                  f'<g class="legend" id="{gid}-legend">{_diff_legend(frames_bottom + 36)}</g>',
                  pruned]
    else:
        footer = [pruned, f'<g class="legend">{_legend(frames_bottom + 36)}</g>']
    code = ([] if shared_assets else
            [f'<script><![CDATA[{js}\nwindow.reportgenFlame({script_json(gid)});]]></script>'])
    parts = [
        f'{head}<svg xmlns="http://www.w3.org/2000/svg" id="{gid}" '
        f'class="rgflame{" rgdiff" if diff else ""}" '
        f'viewBox="0 0 {WIDTH} {height}" {size} aria-labelledby="{gid}-title">',
        f'<title id="{gid}-title">{xml_text(title)}</title>',
        f"<style><![CDATA[{css}]]></style>",
        f'<rect class="bg" width="{WIDTH}" height="{height}"/>',
        f'<text x="{PAD}" y="20" class="ttl">{xml_text(title)}</text>',
        f'<text x="{WIDTH - PAD}" y="20" class="muted end">{xml_text(summary)}</text>',
        *buttons,
        f'<foreignObject x="{search_x}" y="30" width="260" height="24">'
        f'<input xmlns="http://www.w3.org/1999/xhtml" id="{gid}-q" type="search" '
        f'placeholder="Search regex  ( / )" aria-label="Search frames by regular expression" '
        f'spellcheck="false" autocomplete="off"/></foreignObject>',
        f'<text x="{search_x + 270}" y="46" id="{gid}-matched" aria-live="polite"></text>',
        f'<g id="{gid}-frames" class="frames">{frames}</g>',
        *footer,
        f'<script type="application/json" id="{gid}-data">{safe_json(data)}</script>',
        *code,
        "</svg>\n",
    ]
    return "\n".join(parts)


def _button(gid: str, name: str, x: int, width: int, label: str, hint: str) -> str:
    return (f'<g id="{gid}-{name}" class="btn" tabindex="0" role="button"><title>{hint}</title>'
            f'<rect x="{x}" y="30" width="{width}" height="22" rx="4"/>'
            f'<text x="{x + width / 2:g}" y="45">{label}</text></g>')
