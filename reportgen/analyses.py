"""Running the manifest's analyses: pure functions from profiles to results.

Each kind maps to one function taking the analysis options and the loaded
profiles by name; it returns a plain result object and does no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reportgen.analyze.answer import Answer, profile_answer
from reportgen.analyze.graph import Part
from reportgen.analyze.diff import DiffResult, compare
from reportgen.analyze.top import TopResult, resolve_sample_index, top
from reportgen.lazy import lazy


@dataclass
class TopAnalysis:
    profile: str
    result: TopResult
    answer: Answer | None = None
    filters: list = field(default_factory=list)   # active filters, as "focus=regex"
    shown: int | None = None                        # filtered total, when filtered


def _limit(nodes):
    return None if nodes in ("all", None) else nodes


FILTER_OPTIONS = ("focus", "ignore", "hide", "show", "show_from", "tagfocus", "tagignore",
                  "tagshow", "taghide")


def filtered(profile, options: dict):
    """The profile with the analysis's pprof filters (-focus, -tagfocus ...) applied."""
    given = {k: options[k] for k in FILTER_OPTIONS if options.get(k)}
    if not given:
        return profile
    from reportgen.analyze.filters import apply_filters
    return apply_filters(profile, **given)


def active_filters(options: dict) -> list[str]:
    return [f"{k}={options[k]}" for k in FILTER_OPTIONS if options.get(k)]


def run_top(options: dict, profiles: dict, defaults: dict) -> TopAnalysis:
    name = options["profile"]
    profile = profiles[name]
    index = resolve_sample_index(profile, options.get("sample_index") or defaults.get(name))
    total = int(abs(profile.values[:, index]).sum())  # filters keep the whole total, as pprof
    part = Part(filtered(profile, options), index)
    result = top([part], options.get("granularity", "functions"),
                 options.get("cum", False), _limit(options.get("nodes", 100)), node_fraction=0.0,
                 total=total)
    filters = active_filters(options)
    shown = int(abs(part.profile.values[:, index]).sum()) if filters else None
    return TopAnalysis(name, result, profile_answer(part, total), filters, shown)


def run_tags(options: dict, profiles: dict, defaults: dict):
    from reportgen.analyze.tags import tags
    name = options["profile"]
    profile = profiles[name]
    resolve_sample_index(profile, options.get("sample_index") or defaults.get(name))  # checks
    return tags(filtered(profile, options), options.get("sample_index") or defaults.get(name),
                unfiltered=profile)


def run_diff(options: dict, profiles: dict, defaults: dict) -> DiffResult:
    return compare(profiles[options["base"]], profiles[options["target"]], options["base"],
                   options["target"], options.get("sample_index") or defaults.get(options["target"]),
                   mode=options.get("mode", "diff_base"), normalize=options.get("normalize", False),
                   granularity=options.get("granularity", "functions"),
                   nodes=_limit(options.get("nodes", 100)), base_count=options.get("base_count"),
                   target_count=options.get("target_count"))


def run_gc(options: dict, profiles: dict, defaults: dict):
    """A gctrace/schedtrace log, or a comparison when `base` (the log before) is given."""
    from reportgen.analyze.gc import analyze_gc, compare_gc
    from reportgen.sources.gctrace import load_gctrace
    target = analyze_gc(load_gctrace(options["log"]))
    if not options.get("base"):
        return target
    return compare_gc(analyze_gc(load_gctrace(options["base"])), target)


RUNNERS = {"gc": run_gc, "top": run_top, "diff": run_diff, "tags": run_tags,
           "escapes": lazy("reportgen.analyze.escapes:run_escapes"),
           "goroutines": lazy("reportgen.analyze.goroutines:run_goroutines"),
           "leaks": lazy("reportgen.analyze.leaks:run_leaks"),
           "trace": lazy("reportgen.analyze.trace_report:run_trace")}


def run_analysis(kind: str, options: dict, profiles: dict, defaults: dict):
    """The kind's result; None for kinds whose page runs its own analyzer (flame, peek...)."""
    runner = RUNNERS.get(kind)
    return runner(options, profiles, defaults) if runner else None


def profile_summary(profile, sample_index=None) -> TopResult:
    """The short top table shown on a profile's card."""
    return top([Part(profile, resolve_sample_index(profile, sample_index))], node_limit=100,
               node_fraction=0.0)
