"""The pipeline: manifest -> sources -> analyses -> views -> site directory."""

from __future__ import annotations

import os
from pathlib import Path

from markupsafe import Markup

from reportgen.analyses import active_filters, filtered, profile_summary, run_analysis
from reportgen.analyze.answer import profile_answer, tags_answer
from reportgen.analyze.diff_answer import diff_answer
from reportgen.analyze.graph import Part
from reportgen.analyze.flame import diff_flame_tree
from reportgen.analyze.top import diff_parts, resolve_sample_index
from reportgen.compose import LEAD_RANK, PROFILE_RANK, STRONG_SUSPECT, Lead, compose, lead
from reportgen.errors import UsageError
from reportgen.manifest import default_manifest, load_manifest
from reportgen.lazy import lazy
from reportgen.render import pages, profile_pages
from reportgen.render.flamegraph import flame_svg
from reportgen.render.function_tables import table_model
from reportgen.render.site import SiteWriter, anchor, render_notes
from reportgen.parallel import SerialExecutor, make_executor
from reportgen.render.writer_spec import task_writer, writer_spec
from reportgen.sources import load_profile, read_bytes
from reportgen.sources.files import DEFAULT_MAX_SAMPLES


def _part(profiles, manifest, options) -> list[Part]:
    name = options["profile"]
    sample = options.get("sample_index") or manifest.profiles[name].sample_index
    index = resolve_sample_index(profiles[name], sample)
    return [Part(filtered(profiles[name], options), index)]


def _scope(profiles, manifest, options) -> tuple:
    """(answer text, filters view) of a page over one profile, filtered or not."""
    part = _part(profiles, manifest, options)[0]
    profile = profiles[options["profile"]]
    total = int(abs(profile.values[:, part.sample_index]).sum())
    filters = active_filters(options)
    shown = int(abs(part.profile.values[:, part.sample_index]).sum())
    unit = profile.sample_types[part.sample_index].unit
    return (pages.answer_html(profile_answer(part, total)),
            pages.filter_view(filters, shown, total, unit))


def _tags_page(w, slug, title, result, profiles, manifest, analysis):
    data = w.add_data(f"{slug}.json", {"kind": "tags", **result.as_dict()})
    answer, filters = _scope(profiles, manifest, analysis.options)
    w.add_page(f"pages/{slug}.html", "tags.html.j2", title, tags=result, data=data,
               filters=filters, answer=tags_answer(result) or answer)
    return f"{len(result.keys)} label keys"


def _top_page(w, slug, title, result, profiles, manifest, analysis):
    o = analysis.options
    calls = None
    parts = _part(profiles, manifest, o)
    if o["granularity"] in ("functions", "filefunctions"):  # callers of a function, not a line
        calls = profile_pages.calls_page(
            w, f"pages/{slug}-calls.html", f"{title}: callers and callees", parts,
            o["granularity"], back=f"{slug}.html", data=f"{slug}.json",
            answer=pages.answer_html(result.answer),
            filters=pages.filter_view(result.filters, result.shown, result.result.total,
                                      result.result.unit)).rsplit("/", 1)[-1]
    model = table_model([parts], 0, o["granularity"], calls=calls, total=result.result.total)
    return pages.top_page(w, slug, title, result, profiles[result.profile], calls=calls,
                          model=model)


def _flame_page(w, slug, title, _result, profiles, manifest, analysis):
    parts = _part(profiles, manifest, analysis.options)
    st = parts[0].profile.sample_types[parts[0].sample_index]
    figures = profile_pages.flame_figures(w, slug, parts, st.type)
    answer, filters = _scope(profiles, manifest, analysis.options)
    w.add_page(f"pages/{slug}.html", "flame.html.j2", title, flames=figures, answer=answer,
               filters=filters)
    return "flame graph and its reverse (callers of hot functions)"


def _peek_page(w, slug, title, _result, profiles, manifest, analysis):
    o = analysis.options
    calls = (f"profile-{anchor(o['profile'])}-calls.html"  # every function of the profile
             if o["granularity"] == "functions" else None)
    answer, filters = _scope(profiles, manifest, o)
    profile_pages.peek_page(w, f"pages/{slug}.html", title, _part(profiles, manifest, o),
                            o["granularity"], o["pattern"], calls=calls, answer=answer,
                            filters=filters)
    return f"callers and callees of functions matching {o['pattern']}"


def _source_page(w, slug, title, _result, profiles, manifest, analysis):
    o = analysis.options
    answer, filters = _scope(profiles, manifest, o)
    return profile_pages.source_page(w, slug, title, _part(profiles, manifest, o),
                                     o["pattern"], manifest.sources, answer, filters)


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
    # Every function of the diff, so the table's filter searches all of them.
    model = table_model([parts], 0, result.table.granularity,
                        total=result.table.total)
    return pages.diff_page(w, slug, title, result, profiles, flame=flame, flame_file=file,
                           model=model)


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
                    counts: tuple | None = None, flame_files: bool = False,
                    single_file: str | None = None,
                    max_samples: int = DEFAULT_MAX_SAMPLES,
                    jobs: int | None = None, scheduler: str | None = None) -> Path:
    """`reportgen build`: a manifest, bare files, or ./site.yml.

    counts: (base, target) units of work for the diffs of a bare build.
    flame_files: also write every flame graph as a standalone SVG under flame/.
    single_file: write the whole report as this one HTML file instead of a
    directory (see reportgen.render.single_file).
    max_samples: --max-samples, unless the manifest sets max_samples.
    jobs: worker processes for the per-profile work (None: the CPU count, 1: serial);
    scheduler: a Dask scheduler's address to send that work to instead.
    """
    if not inputs:
        if not Path("site.yml").exists():
            raise UsageError("site.yml", "no such file (give a manifest or profile files)")
        inputs = ["site.yml"]
    if len(inputs) == 1 and inputs[0].endswith((".yml", ".yaml")):
        manifest = load_manifest(inputs[0])
        limit = manifest.max_decompressed
        max_samples = manifest.max_samples or max_samples
        if any(a.kind == "history" for a in manifest.analyses):  # a site of its own
            return lazy("reportgen.history_site:build_from_manifest")(manifest, output, jobs,
                                                                      max_samples)
    else:
        manifest = default_manifest(inputs, output, counts)
        limit = max_decompressed
    if single_file:
        target = Path(single_file)
    else:
        target = Path(output) if output else Path(manifest.output)
    with make_executor(jobs, scheduler) as executor:
        return build_site(manifest, target, limit, flame_files, single=bool(single_file),
                          max_samples=max_samples, executor=executor)


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
    if analysis.kind == "escapes" and not o.get("profile"):  # a compiler log alone
        return f"Escapes: {Path(o['compiler_log']).name}"
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


def build_site(manifest, target: Path, max_decompressed: int, flame_files: bool = False,
               single: bool = False, max_samples: int = DEFAULT_MAX_SAMPLES,
               executor=None) -> Path:
    writer = compose_site(manifest, max_decompressed, flame_files and not single, max_samples,
                          executor)
    if single:
        from reportgen.render.single_file import write_single_file
        return write_single_file(writer.files, target, manifest.title)
    return writer.write(target)


def compose_site(manifest, max_decompressed: int, flame_files: bool = False,
                 max_samples: int = DEFAULT_MAX_SAMPLES, executor=None) -> SiteWriter:
    """Every page and data file of the manifest's report, not yet written. Per-profile
    work runs on `executor` (reportgen.parallel), serially by default; the result
    does not depend on the executor.

    Order of work: the profiles are read (by the caller when the executor's
    pool is forked afterwards, else on the workers); the analyses and the
    navigation are fixed; each profile's own pages start on the workers;
    the caller meanwhile runs the analyses and renders their pages, then
    collects the profile pages and writes the index. Errors come in that
    order too, whatever the executor.
    """
    executor = executor or SerialExecutor()
    # Read every input before writing anything: bad input fails fast.
    profiles = load_profiles(manifest, (max_decompressed, max_samples), executor)
    if manifest.path is None:
        manifest.analyses.extend(compose(manifest, profiles))
    defaults = {name: entry.sample_index for name, entry in manifest.profiles.items()}

    writer = SiteWriter(Path(manifest.theme_dir), manifest.title, manifest.base_dir)
    writer.flame_files = flame_files
    writer.up = manifest.up
    planned = []
    links = {name: [] for name in profiles}   # each profile's card: the pages about it
    for i, analysis in enumerate(manifest.analyses):
        slug = f"{i + 1:02d}-{analysis.kind}"
        title = analysis_title(analysis, manifest)
        planned.append((slug, title, analysis))
        writer.nav.append({"href": f"pages/{slug}.html", "title": title})
        for name in _profiles_of(analysis):
            links[name].append({"href": f"pages/{slug}.html", "title": title})

    homes = start_profile_homes(writer, manifest, profiles, links, executor)
    try:
        page_list, leads = [], []
        for slug, title, analysis in planned:
            result = _run(analysis, profiles, defaults, max_decompressed)
            summary = PAGE_BUILDERS[analysis.kind](writer, slug, title, result, profiles,
                                                   manifest, analysis)
            page_list.append({"href": f"pages/{slug}.html", "title": title, "summary": summary})
            leads.append(_page_lead(analysis, result, profiles, f"pages/{slug}.html", title,
                                    len(leads)))
    except BaseException:
        homes.cancel()
        raise

    cards = []
    for name, (files, card, answer) in zip(manifest.profiles, homes.result()):
        writer.files.update(files)
        cards.append(card)
        leads.append(Lead(pages.answer_html(answer), f"#profile-{anchor(name)}", card["title"], (
            LEAD_RANK["profile"], PROFILE_RANK.get(profiles[name].profile_type, 9), len(leads))))
    # Markup: HTML reportgen wrote and escaped itself (a history's run notes)
    notes = manifest.notes if isinstance(manifest.notes, Markup) else (
        render_notes(manifest.notes) if manifest.notes else "")
    writer.add_page("index.html", "index.html.j2", manifest.title, notes=Markup(notes),
                    cards=cards, pages=page_list, lead=lead(leads))
    return writer


def _run(analysis, profiles, defaults, max_decompressed=None):
    if analysis.kind == "bench":  # benchmark files are read here, before anything is written
        o = analysis.options
        return compare_bench(load_bench(o["base"]), load_bench(o["target"]), alpha=o["alpha"])
    if analysis.kind == "trace":  # a trace file is read here (gzip input: the same limit)
        return lazy("reportgen.analyze.trace_report:run_trace")(
            analysis.options, profiles, defaults, max_decompressed)
    return run_analysis(analysis.kind, analysis.options, profiles, defaults)


def _page_lead(analysis, result, profiles, href: str, title: str, position: int) -> Lead:
    """A page's answer as a candidate for the index's lead (compose.lead)."""
    kind, text, sub = analysis.kind, "", 0
    if kind == "leaks":
        from reportgen.render.goroutine_pages import leaks_answer
        text = leaks_answer(result.report)
        suspects = result.report.suspects
        kind = ("leaks-none" if not suspects else "leaks" if suspects[0].score >= STRONG_SUSPECT
                else "leaks-weak")
    elif kind == "diff":
        text = pages.answer_html(diff_answer(result))
        heap = result.sample_index == "inuse_space"
        kind = "diff-counted" if result.per_unit else "heap-growth" if heap else "diff"
        sub = PROFILE_RANK.get(profiles[analysis.options["target"]].profile_type, 9)
    elif kind == "goroutines":
        from reportgen.render.goroutine_pages import overview_answer
        text = overview_answer(result.overview)
    elif kind == "escapes":
        from reportgen.render.escape_pages import answer as escapes_answer
        text = escapes_answer(result)
    elif kind == "bench":
        from reportgen.render.bench_pages import verdicts
        text = "; ".join(verdicts(result))
    elif kind == "gc":
        text = getattr(result, "answer", None) or next(iter(getattr(result, "answers", [])), "")
    return Lead(text, href, title, (LEAD_RANK.get(kind, 99), sub, position))
def load_profiles(manifest, limits: tuple, executor) -> dict:
    """Every profile of the manifest by name, in manifest order.
    limits: (max_decompressed, max_samples) as load_profile takes them.

    With a forked pool (`executor.inherits`) the caller reads them itself:
    the pool that renders their pages is forked afterwards and inherits
    them as read. Loading them on workers instead costs more than it saves:
    a profile sent back is unpickled by the caller (about a third of the
    time it takes to read it), and pages of unpickled profiles rendered
    markedly slower in the workers (benchmarks/bench_parallel.py). Other
    executors read them on their workers; those that cannot see the
    caller's files get the bytes.
    """
    entries = list(manifest.profiles.values())
    jobs = [(e.path, limits, None if executor.shared_files else read_bytes(e.path))
            for e in entries]
    if executor.inherits:
        loaded = [_load_task(job) for job in jobs]
    else:
        loaded = executor.map(_load_task, jobs, [_size(e.path) for e in entries])
    return dict(zip(manifest.profiles, loaded))


def _load_task(job):
    path, limits, data = job
    return load_profile(path, *limits, data=data)


# The templates of a profile's own pages (profile_pages.profile_page).
PROFILE_TEMPLATES = ("base.html.j2", "macros.html.j2", "profile.html.j2", "callgraph.html.j2")


def start_profile_homes(writer, manifest, profiles, links, executor):
    """Start rendering each profile's own pages and card data on `executor`'s workers.

    Returns a parallel.Pending whose result is, per profile in manifest
    order, (files, card, answer); the caller merges the files into `writer`.
    The profiles go as `shared` objects: forked workers inherit them (and
    the writer's compiled templates) rather than unpickling copies.
    """
    if executor.inherits:
        writer.compile(PROFILE_TEMPLATES)
    spec = writer_spec(writer, ship_theme=not executor.shared_files)
    jobs = [(spec, name, entry, links[name]) for name, entry in manifest.profiles.items()]
    return executor.submit(_profile_home_task, jobs,
                           [len(profiles[n].stack_locations) for n in manifest.profiles],
                           shared=[profiles[n] for n in manifest.profiles])


def _profile_home_task(job, profile):
    """One profile's page, its callers/callees page and its card (runs in a worker)."""
    spec, name, entry, links = job
    writer = task_writer(spec)
    summary = profile_summary(profile, entry.sample_index)
    parts = [Part(profile, resolve_sample_index(profile, entry.sample_index))]
    answer = profile_answer(parts[0])
    home = profile_pages.profile_page(writer, name, entry, profile, summary, parts, answer)
    links = [{"href": home, "title": "Flame graph and top functions"}, *links]
    card = pages.profile_card(name, entry, profile, summary, answer, links)
    writer.add_data(card["data"], {"name": name, "title": entry.title,
                                   "labels": entry.labels, "path": Path(entry.path).name,
                                   "facts": dict(card["facts"]), **summary.as_dict(),
                                   "answer": answer.as_dict()})
    return writer.files, card, answer


def _size(path) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0   # the loader reports it


def _profiles_of(analysis) -> list[str]:
    if analysis.kind in ("bench", "gc"):
        return []
    o = analysis.options
    return ([o[k] for k in ("profile", "base", "target") if o.get(k)]
            + [n for k in ("snapshots", "heap") for n in (o.get(k) or ())])

