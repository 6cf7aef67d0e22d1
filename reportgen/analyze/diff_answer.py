"""The headline of a before/after comparison (analyze.diff.DiffResult).

The same rules as analyze.answer, applied to a change: what moved, in the
program's terms. With counts of work per side the comparison is per unit;
with captures of equal duration, shares of each total lead; a function
renamed between captures is compared through its caller; heap in use that
grew names the allocation site that grew.
"""

from __future__ import annotations

from reportgen import units
from reportgen.analyze.answer import SAMPLE_WORDS, Answer, is_entry


def diff_answer(diff) -> Answer:
    """The headline of a before/after comparison (analyze.diff.DiffResult).

    With counts of work per side, values per unit of work are compared; with
    captures of equal duration, shares of each total lead; a function renamed
    between captures (analyze.diff.find_renames) is compared through its caller.
    """
    unit, what = diff.unit, SAMPLE_WORDS.get(diff.sample_index, diff.sample_index)
    per_unit = diff.per_unit
    b_tot, t_tot = diff.base_total, diff.target_total
    total_change = units.signed_percent_change(t_tot, b_tot)
    names, lead = [], []
    if per_unit:
        b, t = per_unit
        lead.append(f"{what[:1].upper()}{what[1:]} per unit of work: {units.human(b, unit)} → "
                    f"{units.human(t, unit)} ({units.signed_percent_change(t, b)}; counts "
                    f"{diff.base_count:,} → {diff.target_count:,}); in total "
                    f"{units.human(b_tot, unit)} → {units.human(t_tot, unit)} ({total_change}).")
    elif diff.same_duration and not diff.normalize:
        lead.append(f"Same duration ({units.human(diff.target_duration, 'nanoseconds')}), "
                    f"so compare shares:")
    elif diff.normalize and diff.target_raw_total is not None:
        # pprof -normalize scales the target to the base's total: equal by
        # construction, so the real totals are said and the moves are shares.
        raw = diff.target_raw_total
        lead.append(f"Normalized (pprof -normalize): {diff.target} is scaled to the same total "
                    f"as {diff.base}, so what follows compares shares; the real totals were "
                    f"{units.human(b_tot, unit)} → {units.human(raw, unit)} "
                    f"({units.signed_percent_change(raw, b_tot)}).")
    else:
        lead.append(f"Total {what}: {units.human(b_tot, unit)} → {units.human(t_tot, unit)} "
                    f"({total_change}).")

    def scaled(m_base, m_target):
        """(before, after) on the scale the headline compares."""
        if per_unit:
            return m_base / diff.base_count, m_target / diff.target_count
        return m_base, m_target

    def said(before, after):
        if diff.same_duration and not per_unit:
            text = (f"{units.human_percent(before, b_tot)} → "
                    f"{units.human_percent(after, t_tot)} of {what}")
        else:
            text = f"{units.human(before, unit)} → {units.human(after, unit)}"
        if not before or not after:
            return text + (" (gone)" if before else " (new)")
        if diff.same_duration and not per_unit:
            return text
        return text + f" ({units.signed_percent_change(after, before)})"

    sites = [h for h in diff.heap_sites if h.growth > 0] if t_tot > b_tot and not per_unit else []
    if sites:
        h = sites[0]
        via = f", allocated from {h.caller.func}" if h.caller else ""
        names += [h.func] + ([h.caller.func] if h.caller else [])
        lead.insert(0, f"Heap in use grew {units.human(b_tot, unit)} → {units.human(t_tot, unit)} "
                       f"({total_change}); growing most: {h.func} "
                       f"{units.human(h.values[0], unit)} → {units.human(h.values[-1], unit)}{via}.")
        if lead[1].startswith("Total "):
            del lead[1]
    # A move said in the headline: (names it says, its sentence, its size).
    rename, renamed = None, set()
    if diff.renames:
        r = diff.renames[0]
        renamed = {r.gone, r.new}
        rename = ([r.parent, r.gone, r.new],
                  f"{r.gone} is gone and {r.new} is new under the same caller, so compare the "
                  f"caller: {r.parent} {said(*scaled(r.parent_base_cum, r.parent_target_cum))}.",
                  max(abs(r.base_cum), abs(r.target_cum)))
    biggest = max(abs(b_tot), abs(t_tot), 1)
    inner = [m for m in diff.movers if m.name not in renamed and not is_entry(m.name.split(" ")[0])
             and max(abs(m.base_cum), abs(m.target_cum)) < 0.9 * biggest]
    if diff.same_duration and not per_unit:
        def delta(m):
            return m.target_cum / (t_tot or 1) - m.base_cum / (b_tot or 1)
    else:
        def delta(m):
            before, after = scaled(m.base_cum, m.target_cum)
            return after - before
    moves = []
    for label, sign in (("Biggest drop", -1), ("Biggest rise", 1)) if not sites else ():
        cands = [m for m in inner if delta(m) * sign > 0]
        if cands:
            m = max(cands, key=lambda m: (abs(delta(m)), m.name))
            moves.append(([m.name], f"{label}: {m.name} {said(*scaled(m.base_cum, m.target_cum))}.",
                          max(abs(m.base_cum), abs(m.target_cum))))
    if rename:
        # A rename leads only when it is the largest move: a renamed 1% runtime
        # function must not push a new 50% function to the end of the sentence.
        moves.insert(0 if all(rename[2] >= size for *_, size in moves) else len(moves), rename)
    for said_names, text, _size in moves:
        names += said_names
        lead.append(text)
    if diff.same_duration and not per_unit and not diff.normalize:  # the total comes last
        lead.append(f"Total {what}: {units.human(b_tot, unit)} → {units.human(t_tot, unit)} "
                    f"({total_change}).")
    text = " ".join(lead)
    return Answer(text, "diff", names[0] if names else None, t_tot - b_tot, b_tot, unit, names)
