"""The pipeline: manifest -> sources -> analyses -> views -> site directory."""

from __future__ import annotations

from pathlib import Path

from markupsafe import Markup

from reportgen.analyses import profile_summary, run_analysis
from reportgen.errors import UsageError
from reportgen.manifest import default_manifest, load_manifest
from reportgen.render import pages
from reportgen.render.site import SiteWriter, render_notes
from reportgen.sources import load_profile

PAGE_BUILDERS = {
    "top": lambda w, slug, title, a, profiles, m: pages.top_page(
        w, slug, title, a, profiles[a.profile], m.profiles[a.profile].title),
    "diff": lambda w, slug, title, a, profiles, m: pages.diff_page(w, slug, title, a, profiles),
}


def build_from_args(inputs: list[str], output: str | None, max_decompressed: int) -> Path:
    """`reportgen build`: a manifest, bare profiles, or ./site.yml."""
    if not inputs:
        if not Path("site.yml").exists():
            raise UsageError("site.yml", "no such file (give a manifest or profile files)")
        inputs = ["site.yml"]
    if len(inputs) == 1 and inputs[0].endswith((".yml", ".yaml")):
        manifest = load_manifest(inputs[0])
        limit = manifest.max_decompressed
    else:
        manifest = default_manifest(inputs, output)
        limit = max_decompressed
    target = Path(output) if output else Path(manifest.output)
    return build_site(manifest, target, limit)


def analysis_title(analysis, manifest) -> str:
    if analysis.title:
        return analysis.title
    o = analysis.options
    if analysis.kind == "diff":
        return f"Diff: {manifest.profiles[o['base']].title} → {manifest.profiles[o['target']].title}"
    what = manifest.profiles[o["profile"]].title
    extra = [o[k] for k in ("sample_index",) if o.get(k)]
    if o.get("granularity", "functions") != "functions":
        extra.append("by " + o["granularity"])
    return f"Top: {what}" + (f" ({', '.join(extra)})" if extra else "")


def build_site(manifest, target: Path, max_decompressed: int) -> Path:
    # Read every input before writing anything: bad input fails fast.
    profiles = {name: load_profile(entry.path, max_decompressed)
                for name, entry in manifest.profiles.items()}
    defaults = {name: entry.sample_index for name, entry in manifest.profiles.items()}
    results = [run_analysis(a.kind, a.options, profiles, defaults) for a in manifest.analyses]

    writer = SiteWriter(Path(manifest.theme_dir), manifest.title)
    planned = []
    for i, (analysis, result) in enumerate(zip(manifest.analyses, results)):
        slug = f"{i + 1:02d}-{analysis.kind}"
        title = analysis_title(analysis, manifest)
        planned.append((slug, title, analysis, result))
        writer.nav.append({"href": f"pages/{slug}.html", "title": title})

    page_list, links = [], {name: [] for name in profiles}
    for slug, title, analysis, result in planned:
        summary = PAGE_BUILDERS[analysis.kind](writer, slug, title, result, profiles, manifest)
        page_list.append({"href": f"pages/{slug}.html", "title": title, "summary": summary})
        for name in _profiles_of(analysis):
            links[name].append({"href": f"pages/{slug}.html", "title": title})

    cards = []
    for name, entry in manifest.profiles.items():
        summary = profile_summary(profiles[name], entry.sample_index)
        card = pages.profile_card(name, entry, profiles[name], summary, links[name])
        writer.add_data(card["data"], {"name": name, "title": entry.title,
                                       "labels": entry.labels, "path": Path(entry.path).name,
                                       "facts": dict(card["facts"]), **summary.as_dict()})
        cards.append(card)
    notes = render_notes(manifest.notes) if manifest.notes else ""
    writer.add_page("index.html", "index.html.j2", manifest.title, notes=Markup(notes),
                    cards=cards, pages=page_list)
    return writer.write(target)


def _profiles_of(analysis) -> list[str]:
    o = analysis.options
    return [o[k] for k in ("profile", "base", "target") if k in o]
