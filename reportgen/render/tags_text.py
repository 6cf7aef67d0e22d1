"""`pprof -tags` text: one right-aligned table per label key.

pprof writes the report through Go's text/tabwriter (padding 1, aligned
right), so we build the same tab-separated text and lay it out the same way.
"""

from __future__ import annotations

from reportgen import units


def format_tags(profile, result) -> str:
    """Byte-for-byte what `go tool pprof -tags` prints for a TagsResult."""
    total = result.total

    def fmt(v):
        return units.label(v, result.unit, result.output_unit)

    rows = []
    for key in result.keys:
        if total > 0:
            rows.append(f"{key.key}:\t Total {fmt(key.total)} of {fmt(total)} "
                        f"({units.percentage(key.total, total)})")
        else:
            rows.append(f"{key.key}:\t Total {fmt(key.total)} of {fmt(total)}")
        for t in key.values:
            share = f" ({units.percentage(t.value, total)})" if total > 0 else ""
            rows.append(f" \t{fmt(t.value)}{share}:\t {t.name}")
        rows.append("")
    return tabwrite("".join(r + "\n" for r in rows))


def tabwrite(text: str, padding: int = 1) -> str:
    """Go's tabwriter.NewWriter(w, 0, 0, padding, ' ', AlignRight) over `text`.

    Cells are tab-terminated; a line's last cell is not part of any column.
    A column block is a run of consecutive lines that have a cell in that
    column; its width is its widest cell plus the padding.
    """
    lines = [line.split("\t") for line in text.split("\n")]
    out: list[str] = []

    def write(line0, line1, widths):
        for i in range(line0, line1):
            cells = lines[i]
            for j, cell in enumerate(cells):
                if j < len(widths):
                    out.append(" " * (widths[j] - len(cell)))
                out.append(cell)
            if i + 1 < len(lines):
                out.append("\n")

    def layout(line0, line1, widths):
        column = len(widths)
        this = line0
        while this < line1:
            if column >= len(lines[this]) - 1:
                this += 1
                continue
            write(line0, this, widths)
            line0 = this
            width = 0
            while this < line1 and column < len(lines[this]) - 1:
                width = max(width, len(lines[this][column]) + padding)
                this += 1
            layout(line0, this, widths + [width])
            line0 = this
        write(line0, line1, widths)

    layout(0, len(lines), [])
    return "".join(out)
