"""The timeline's data and script for the trace page (drawn on a canvas by timeline.js)."""

from __future__ import annotations

from markupsafe import Markup

from reportgen.render.names import one_line
from reportgen.render.site import script_json

LANE_HEIGHT = 14


def timeline_data(t, theme_dir) -> dict | None:
    """{json, js, height, note} for trace.html.j2 from a Timeline, or None when it is empty."""
    if t is None or not t.lanes:
        return None
    # names and reasons come from the traced program: control characters made visible
    # (a stack's lines stay lines)
    lanes = [{**lane, "label": one_line(lane["label"])} for lane in t.lanes]
    stacks = ["\n".join(map(one_line, s.split("\n"))) for s in t.stacks]
    payload = {"end": t.end_ns, "lanes": lanes, "reasons": list(map(one_line, t.reasons)),
               "stacks": stacks}
    note = (f"{len(t.lanes)} of {t.lanes_total} goroutines (the program's, longest-lived first); "
            f"{t.segments} segments drawn.")
    if t.merged:
        note += (f" {t.merged} stretches shorter than {t.step_ns / 1e6:.3g} ms were merged into "
                 f"the state that dominates them (drawn lighter); exact times are in the "
                 f"goroutine tables above.")
    js = (theme_dir / "timeline.js").read_text(encoding="utf-8")
    return {"json": Markup(script_json(payload)), "js": Markup(js),
            "height": 24 + LANE_HEIGHT * len(t.lanes), "note": note}
