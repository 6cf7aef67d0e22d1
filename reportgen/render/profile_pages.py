"""A page per profile (flame graphs + top table) and its callers/callees page."""

from __future__ import annotations

import re

from markupsafe import Markup

from reportgen import units
from reportgen.analyze.flame import flame_tree
from reportgen.analyze.graph import Part
from reportgen.analyze.peek import peek
from reportgen.analyze.source import list_source
from reportgen.render.flamegraph import FrameStrings, flame_svg
from reportgen.render.function_tables import calls_model, table_model
from reportgen.render.pages import answer_html, profile_facts, table_unit
from reportgen.render.site import anchor


def peek_page(writer, path: str, title: str, parts, granularity: str, pattern: str,
              back: str | None = None, calls: str | None = None, answer: str = "",
              filters=None) -> str:
    """Callers and callees of the functions matching `pattern`, as `pprof -peek`.
    A name without a section here links to `calls` (the profile's page of
    every function), when given."""
    result = peek(parts, pattern, granularity)
    writer.add_page(path, "calls.html.j2", title, functions=result.nodes, total=result.total,
                    unit=result.unit, back=back, present={n.name for n in result.nodes},
                    calls=calls, answer=answer, filters=filters)
    return path


def calls_page(writer, path: str, title: str, parts, granularity: str,
               back: str | None = None, data: str | None = None, answer: str = "",
               filters=None) -> str:
    """Callers and callees of every function of `parts` (each one a section,
    every name a link to its section), drawn in the browser from the packed
    edges of reportgen.render.function_tables.calls_model."""
    model = calls_model(parts, granularity)
    writer.add_page(path, "callgraph.html.j2", title, model=model, count=len(model["names"]),
                    sample=model["sample"], total=model["total"], unit=model["unit"],
                    back=back, data=data, answer=answer, filters=filters)
    return path


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
    return {"figures": figures, "strings": Markup(strings.script()), "strings_id": strings.id,
            "table": strings}


def profile_page(writer, name: str, entry, profile, result, parts, answer) -> str:
    """The home page of one profile: answer, flame graphs with a sandwich view,
    the top table (filter, sort and sample type over every function) linked
    to the callers/callees page."""
    slug = f"profile-{anchor(name)}"
    path = f"pages/{slug}.html"
    calls = calls_page(writer, f"pages/{slug}-calls.html", f"{entry.title}: callers and callees",
                       parts, "functions", back=f"{slug}.html", data=f"{slug}.json",
                       answer=answer_html(answer))
    data = writer.add_data(f"{slug}.json", {"kind": "profile", "profile": name,
                                            **result.as_dict(), "answer": answer.as_dict()})
    flames = flame_figures(writer, slug, parts, result.sample_index, sandwich=True)
    by_type = [[Part(profile, i)] for i in range(len(profile.sample_types))]
    model = table_model(by_type, parts[0].sample_index, "functions",
                        calls=calls.rsplit("/", 1)[-1], strings=flames["table"])
    summary = (f"{min(len(result.rows), 100)} of "
               f"{units.plural(result.nodes_total, 'function')} by flat ({result.sample_index}).")
    writer.add_page(path, "profile.html.j2", entry.title, labels=sorted(entry.labels.items()),
                    info=profile_facts(profile, result), answer=answer_html(answer),
                    flames=flames,
                    sample=f"{result.sample_index} ({units.human(result.total, result.unit)})",
                    summary=summary, top=result, unit=table_unit(result),
                    calls=calls.rsplit("/", 1)[-1], data=data, model=model)
    return path


def source_page(writer, slug: str, title: str, parts, pattern: str, roots, answer: str = "",
                filters=None) -> str:
    listing = list_source(parts, pattern, roots)
    data = writer.add_data(f"{slug}.json", listing.as_dict())
    writer.add_page(f"pages/{slug}.html", "source.html.j2", title, listing=listing,
                    unit=listing.unit, data=data, answer=answer, filters=filters)
    found = sum(1 for f in listing.files if f.path)
    return f"{units.plural(len(listing.files), 'function')}, source found for {found}."
