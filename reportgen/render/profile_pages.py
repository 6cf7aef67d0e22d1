"""A page per profile (flame graphs + top table) and its callers/callees page."""

from __future__ import annotations

import re

from markupsafe import Markup

from reportgen import units
from reportgen.analyze.flame import flame_tree
from reportgen.analyze.peek import peek
from reportgen.analyze.source import list_source
from reportgen.render.flamegraph import FrameStrings, flame_svg
from reportgen.render.pages import headline, profile_facts, table_unit
from reportgen.render.site import anchor


def peek_page(writer, path: str, title: str, parts, granularity: str, pattern: str,
              back: str | None = None) -> str:
    """Callers and callees of the functions matching `pattern`, as `pprof -peek`."""
    result = peek(parts, pattern, granularity)
    writer.add_page(path, "calls.html.j2", title, functions=result.nodes, total=result.total,
                    unit=result.unit, back=back, present={n.name for n in result.nodes})
    return path


def calls_page(writer, path: str, title: str, parts, granularity: str, names: list[str],
               back: str | None = None) -> str:
    """Callers and callees of exactly the functions in `names` (a top table's rows)."""
    pattern = "^(?:" + "|".join(re.escape(n) for n in names) + ")$" if names else "^$"
    return peek_page(writer, path, title, parts, granularity, pattern, back)


def flame_figures(writer, slug: str, parts, sample: str, sandwich: bool = False) -> dict:
    """Forward and reverse (bottom-up) flame graphs inline, sharing one table of
    frame names; standalone .svg copies only when the build asks for them
    (`writer.flame_files`). Returns {"figures": [...], "strings": script}."""
    figures = []
    strings = FrameStrings(f"fs-{anchor(slug)}")
    for reverse, label in ((False, "flame graph"), (True, "callers of hot functions")):
        tree = flame_tree(parts, reverse=reverse)
        gid = f"{'rev' if reverse else 'fg'}-{anchor(slug)}"
        title = f"{sample}: {label}"
        file = None
        if getattr(writer, "flame_files", False):
            file = f"flame/{slug}{'-reverse' if reverse else ''}.svg"
            writer.files[file] = flame_svg(tree, gid + "-file", title, standalone=True,
                                           theme_dir=writer.theme_dir)
        svg = flame_svg(tree, gid, title, theme_dir=writer.theme_dir, strings=strings,
                        shared_assets=True, sandwich=sandwich and not reverse)
        figures.append({"svg": Markup(svg), "file": file, "label": label, "id": gid})
    return {"figures": figures, "strings": Markup(strings.script())}


def profile_page(writer, name: str, entry, profile, result, parts) -> str:
    """The home page of one profile: answer, flame graphs, top table linked to calls."""
    slug = f"profile-{anchor(name)}"
    path = f"pages/{slug}.html"
    calls = calls_page(writer, f"pages/{slug}-calls.html", f"{entry.title}: callers and callees",
                       parts, "functions", [r.name for r in result.rows[:100]],
                       back=f"{slug}.html")
    data = writer.add_data(f"{slug}.json", {"kind": "profile", "profile": name,
                                            **result.as_dict()})
    summary = (f"{min(len(result.rows), 100)} of {result.nodes_total} functions by flat "
               f"({result.sample_index}).")
    writer.add_page(path, "profile.html.j2", entry.title, labels=sorted(entry.labels.items()),
                    info=profile_facts(profile, result), answer=headline(result),
                    flames=flame_figures(writer, slug, parts, result.sample_index),
                    sample=f"{result.sample_index} ({units.label(result.total, result.unit)})",
                    summary=summary, top=result, unit=table_unit(result),
                    calls=calls.rsplit("/", 1)[-1], data=data)
    return path


def source_page(writer, slug: str, title: str, parts, pattern: str, roots) -> str:
    listing = list_source(parts, pattern, roots)
    data = writer.add_data(f"{slug}.json", listing.as_dict())
    writer.add_page(f"pages/{slug}.html", "source.html.j2", title, listing=listing,
                    unit=listing.unit, data=data)
    found = sum(1 for f in listing.files if f.path)
    return f"{len(listing.files)} functions, source found for {found}."
