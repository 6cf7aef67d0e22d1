"""The pipeline: manifest -> sources -> analyses -> views -> site directory."""

from __future__ import annotations

from pathlib import Path

from markupsafe import Markup

from reportgen.analyses import active_filters, filtered, profile_summary, run_analysis
from reportgen.analyze.graph import Part
from reportgen.analyze.flame import diff_flame_tree
from reportgen.analyze.top import diff_parts, resolve_sample_index
from reportgen.errors import UsageError
from reportgen.manifest import default_analysis, default_manifest, load_manifest
from reportgen.lazy import lazy
from reportgen.render import pages, profile_pages
from reportgen.render.flamegraph import flame_svg
from reportgen.render.function_tables import table_model
from reportgen.render.site import SiteWriter, anchor, render_notes
from reportgen.sources import load_profile


def _part(profiles, manifest, options) -> list[Part]:
    name = options["profile"]
    sample = options.get("sample_index") or manifest.profiles[name].sample_index
    index = resolve_sample_index(profiles[name], sample)
    return [Part(filtered(profiles[name], options), index)]


def _tags_page(w, slug, title, result, profiles, manifest, analysis):
    data = w.add_data(f"{slug}.json", {"kind": "tags", **result.as_dict()})
    w.add_page(f"pages/{slug}.html", "tags.html.j2", title, tags=result, data=data,
               filters=active_filters(analysis.options))
    return f"{len(result.keys)} label keys"


def _top_page(w, slug, title, result, profiles, manifest, analysis):
    o = analysis.options
    calls = None
    parts = _part(profiles, manifest, o)
    if o["granularity"] in ("functions", "filefunctions"):  # callers of a function, not a line
        calls = profile_pages.calls_page(
            w, f"pages/{slug}-calls.html", f"{title}: callers and callees", parts,
            o["granularity"], back=f"{slug}.html", data=f"{slug}.json").rsplit("/", 1)[-1]
    model = table_model([parts], 0, o["granularity"], calls=calls, total=result.result.total)
    return pages.top_page(w, slug, title, result, profiles[result.profile], calls=calls,
                          model=model)


def _flame_page(w, slug, title, _result, profiles, manifest, analysis):
    parts = _part(profiles, manifest, analysis.options)
    st = parts[0].profile.sample_types[parts[0].sample_index]
    figures = profile_pages.flame_figures(w, slug, parts, st.type)
    w.add_page(f"pages/{slug}.html", "flame.html.j2", title, flames=figures)
    return "flame graph and its reverse (callers of hot functions)"


def _peek_page(w, slug, title, _result, profiles, manifest, analysis):
    o = analysis.options
    calls = (f"profile-{anchor(o['profile'])}-calls.html"  # every function of the profile
             if o["granularity"] == "functions" else None)
    profile_pages.peek_page(w, f"pages/{slug}.html", title, _part(profiles, manifest, o),
                            o["granularity"], o["pattern"], calls=calls)
    return f"callers and callees of functions matching {o['pattern']}"


def _source_page(w, slug, title, _result, profiles, manifest, analysis):
    o = analysis.options
    return profile_pages.source_page(w, slug, title, _part(profiles, manifest, o),
                                     o["pattern"], manifest.sources)


def _diff_page(w, slug, title, result, profiles, manifest, analysis):
    o = analysis.options
    # The parts run_diff compared: with normalize, the target is already scaled.
    parts = diff_parts(profiles[o["target"]], profiles[o["base"]],
                       o.get("sample_index") or manifest.profiles[o["target"]].sample_index,
                       diff_base=o.get("mode", "diff_base") == "diff_base",
                       normalize=o.get("normalize", False))
    tree = diff_flame_tree(parts[:1], parts[1:], o.get("granularity", "functions"))
    gid, file = f"diff-{anchor(slug)}", None
    label = f"{result.sample_index}: {result.base} → {result.target}"
    if w.flame_files:
        file = f"flame/{slug}-diff.svg"
        w.files[file] = flame_svg(tree, gid + "-file", label, standalone=True,
                                  theme_dir=w.theme_dir)
    flame = Markup(flame_svg(tree, gid, label, theme_dir=w.theme_dir, shared_assets=True))
    return pages.diff_page(w, slug, title, result, profiles, flame=flame, flame_file=file)


PAGE_BUILDERS = {
    "top": _top_page,
    "diff": _diff_page,
    "flame": _flame_page,
    "peek": _peek_page,
    "source": _source_page,
    "tags": _tags_page,
    "bench": lazy("reportgen.render.bench_pages:bench_page"),
    "escapes": lazy("reportgen.render.escape_pages:escapes_page"),
    "gc": lambda w, slug, title, result, profiles, m, a: lazy(
        "reportgen.render.gc_pages:gc_page")(w, slug, title, result, m),
    "goroutines": lambda w, slug, title, result, profiles, m, a: lazy(
        "reportgen.render.goroutine_pages:goroutines_page")(w, slug, title, result, m),
    "leaks": lambda w, slug, title, result, profiles, m, a: lazy(
        "reportgen.render.goroutine_pages:leaks_page")(w, slug, title, result, m),
    "trace": lambda w, slug, title, result, profiles, m, a: lazy(
        "reportgen.render.trace_pages:trace_page")(w, slug, title, result, m),
}
compare_bench = lazy("reportgen.analyze.benchstat:compare")
load_bench = lazy("reportgen.sources.bench:load_bench")


def build_from_args(inputs: list[str], output: str | None, max_decompressed: int,
                    flame_files: bool = False, single_file: str | None = None) -> Path:
    """`reportgen build`: a manifest, bare profiles, or ./site.yml.

    flame_files: also write every flame graph as a standalone SVG under flame/.
    single_file: write the whole report as this one HTML file instead of a
    directory (see reportgen.render.single_file).
    """
    if not inputs:
        if not Path("site.yml").exists():
            raise UsageError("site.yml", "no such file (give a manifest or profile files)")
        inputs = ["site.yml"]
    if len(inputs) == 1 and inputs[0].endswith((".yml", ".yaml")):
        manifest = load_manifest(inputs[0])
        limit = manifest.max_decompressed
        if any(a.kind == "history" for a in manifest.analyses):  # a site of its own
            return lazy("reportgen.history_site:build_from_manifest")(manifest, output)
    else:
        manifest = default_manifest(inputs, output)
        limit = max_decompressed
    if single_file:
        return build_site(manifest, Path(single_file), limit, flame_files, single=True)
    target = Path(output) if output else Path(manifest.output)
    return build_site(manifest, target, limit, flame_files)


def analysis_title(analysis, manifest) -> str:
    if analysis.title:
        return analysis.title
    o = analysis.options
    if analysis.kind == "bench":
        return f"Benchmarks: {Path(o['base']).name} → {Path(o['target']).name}"
    if analysis.kind == "diff":
        return f"Diff: {manifest.profiles[o['base']].title} → {manifest.profiles[o['target']].title}"
    if analysis.kind == "leaks":
        return "Leak suspects"
    if analysis.kind == "gc":
        log = Path(o["log"]).name
        return f"GC: {Path(o['base']).name} → {log}" if o.get("base") else f"GC: {log}"
    if analysis.kind == "trace":
        return f"Execution trace: {Path(o['path']).name}"
    what = manifest.profiles[o["profile"]].title
    if analysis.kind == "goroutines":
        return f"Goroutines: {what}"
    extra = [o[k] for k in ("sample_index",) if o.get(k)]
    if o.get("granularity", "functions") != "functions":
        extra.append("by " + o["granularity"])
    kind = {"top": "Top", "flame": "Flame graph", "peek": "Callers/callees",
            "source": "Source", "escapes": "Escapes", "tags": "Labels"}[analysis.kind]
    return f"{kind}: {what}" + (f" ({', '.join(extra)})" if extra else "")


def same_kind_diffs(manifest, profiles) -> list:
    """For bare files: a diff of the first and last profile of each kind given twice."""
    groups: dict = {}
    for name, profile in profiles.items():
        groups.setdefault(tuple(profile.sample_types), []).append(name)
    start = len(manifest.analyses)
    pairs = [(names[0], names[-1]) for names in groups.values() if len(names) > 1]
    return [default_analysis("diff", start + i, base=a, target=b)
            for i, (a, b) in enumerate(pairs)]


def build_site(manifest, target: Path, max_decompressed: int, flame_files: bool = False,
               single: bool = False) -> Path:
    writer = compose_site(manifest, max_decompressed, flame_files and not single)
    if single:
        from reportgen.render.single_file import write_single_file
        return write_single_file(writer.files, target, manifest.title)
    return writer.write(target)


def compose_site(manifest, max_decompressed: int, flame_files: bool = False) -> SiteWriter:
    """Every page and data file of the manifest's report, not yet written."""
    # Read every input before writing anything: bad input fails fast.
    profiles = {name: load_profile(entry.path, max_decompressed)
                for name, entry in manifest.profiles.items()}
    if manifest.path is None:
        manifest.analyses.extend(same_kind_diffs(manifest, profiles))
    defaults = {name: entry.sample_index for name, entry in manifest.profiles.items()}

    def run(a):
        if a.kind == "bench":  # benchmark files are read here, before anything is written
            o = a.options
            return compare_bench(load_bench(o["base"]), load_bench(o["target"]), alpha=o["alpha"])
        return run_analysis(a.kind, a.options, profiles, defaults)
    results = [run(a) for a in manifest.analyses]

    writer = SiteWriter(Path(manifest.theme_dir), manifest.title, manifest.base_dir)
    writer.flame_files = flame_files
    planned = []
    for i, (analysis, result) in enumerate(zip(manifest.analyses, results)):
        slug = f"{i + 1:02d}-{analysis.kind}"
        title = analysis_title(analysis, manifest)
        planned.append((slug, title, analysis, result))
        writer.nav.append({"href": f"pages/{slug}.html", "title": title})

    page_list, links = [], {name: [] for name in profiles}
    for slug, title, analysis, result in planned:
        summary = PAGE_BUILDERS[analysis.kind](writer, slug, title, result, profiles, manifest,
                                               analysis)
        page_list.append({"href": f"pages/{slug}.html", "title": title, "summary": summary})
        for name in _profiles_of(analysis):
            links[name].append({"href": f"pages/{slug}.html", "title": title})

    cards = []
    for name, entry in manifest.profiles.items():
        profile = profiles[name]
        summary = profile_summary(profile, entry.sample_index)
        parts = [Part(profile, resolve_sample_index(profile, entry.sample_index))]
        home = profile_pages.profile_page(writer, name, entry, profile, summary, parts)
        links[name].insert(0, {"href": home, "title": "Flame graph and top functions"})
        card = pages.profile_card(name, entry, profile, summary, links[name])
        writer.add_data(card["data"], {"name": name, "title": entry.title,
                                       "labels": entry.labels, "path": Path(entry.path).name,
                                       "facts": dict(card["facts"]), **summary.as_dict()})
        cards.append(card)
    notes = render_notes(manifest.notes) if manifest.notes else ""
    writer.add_page("index.html", "index.html.j2", manifest.title, notes=Markup(notes),
                    cards=cards, pages=page_list)
    return writer


def _profiles_of(analysis) -> list[str]:
    if analysis.kind in ("bench", "gc"):
        return []
    o = analysis.options
    return ([o[k] for k in ("profile", "base", "target") if k in o]
            + [n for k in ("snapshots", "heap") for n in (o.get(k) or ())])

