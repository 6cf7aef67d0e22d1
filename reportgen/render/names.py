"""Names as a reader sees them: bidirectional controls shown, each name isolated.

Function, file, label and profile names are untrusted. A U+202E (right-to-
left override) or U+2066..U+2069 (isolates) inside one can make the name,
and the text after it, read in another order than it is stored ("Trojan
Source", CVE-2021-42574). Every name a page or SVG shows therefore has its
bidi controls replaced by a visible escape (`\\u202e`), and in HTML sits in
its own `<bdi>` so right-to-left letters cannot reorder the numbers or words
next to it. The stored names (data/*.json, `--format json`) stay exact.
"""

from __future__ import annotations

import re

from markupsafe import Markup

# Unicode's explicit directional formatting characters (UAX #9, table 4) plus
# the implicit marks: ALM, LRM, RLM, LRE..RLO, LRI..PDI.
BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def show_controls(text: str) -> str:
    """`text` with each bidi control written as a visible `\\uXXXX` escape."""
    return BIDI_CONTROLS.sub(lambda m: "\\u%04x" % ord(m[0]), text)


# C0 controls but tab, DEL and C1 controls: a line break inside a name would start a
# line of its own in a log ("gate: passed" from a run's name), the others are
# invisible, or change what follows them in a terminal (ESC), or are lost in a page (NUL).
_LINE_CONTROLS = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def one_line(text: str) -> str:
    """`text` as one line of a log or a table cell: line breaks and other control
    characters written as visible escapes (\\n, \\x1b, \\x85), bidi controls as
    show_controls does. For strings from the input (run names; a traced program's logs,
    region and task names)."""
    return show_controls(_LINE_CONTROLS.sub(
        lambda m: {"\n": "\\n", "\r": "\\r"}.get(m[0], "\\x%02x" % ord(m[0])), text))


def show_controls_in_json(text: str) -> str:
    """show_controls for JSON text (ensure_ascii=False): a raw control can only sit
    inside a string there, where the visible escape's backslash is escaped too."""
    return BIDI_CONTROLS.sub(lambda m: "\\\\u%04x" % ord(m[0]), text)


def display_name(name) -> Markup:
    """HTML for a name: escaped, controls visible, isolated in `<bdi>` (the
    `name` filter of every theme)."""
    return Markup("<bdi>%s</bdi>") % show_controls(str(name))


def finalize(value):
    """Jinja2 `finalize`: no template expression outputs a raw bidi control,
    in text or in an attribute. Markup is HTML made in Python and left alone."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return show_controls(value)
    return value
