"""Charts drawn on the server as SVG: bars per week, and a heat map of cells by hour."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

PALETTE = ("#2f6fb0", "#d9822b")


def bars(rows: list[dict[str, Any]], series: list[tuple[str, str]], *, label_key: str,
         title: str, width: int = 520, height: int = 180) -> Markup:
    """Grouped bars: one group per row, one bar per (key, legend) series; labelled for readers."""
    top = max([1, *(int(row[key]) for row in rows for key, _ in series)])
    left, bottom, right = 36, 28, 8
    plot_w, plot_h = width - left - right, height - bottom - 18
    group = plot_w / max(1, len(rows))
    bar = max(2.0, (group - 6) / max(1, len(series)))
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
             f'<line x1="{left}" y1="{18 + plot_h}" x2="{width - right}" y2="{18 + plot_h}" '
             'stroke="#999"/>',
             f'<text x="{left - 4}" y="22" text-anchor="end" class="axis">{top}</text>',
             f'<text x="{left - 4}" y="{18 + plot_h}" text-anchor="end" class="axis">0</text>']
    for i, row in enumerate(rows):
        x0 = left + i * group + 3
        for j, (key, legend) in enumerate(series):
            value = int(row[key])
            h = plot_h * value / top
            parts.append(
                f'<rect x="{x0 + j * bar:.1f}" y="{18 + plot_h - h:.1f}" width="{bar - 1:.1f}" '
                f'height="{h:.1f}" fill="{PALETTE[j % len(PALETTE)]}">'
                f'<title>{escape(str(row[label_key]))} {escape(legend)}: {value}</title></rect>')
        parts.append(f'<text x="{x0 + group / 2 - 3:.1f}" y="{height - 10}" text-anchor="middle" '
                     f'class="axis">{escape(str(row[label_key]))}</text>')
    for j, (_key, legend) in enumerate(series):
        parts.append(f'<rect x="{left + j * 90}" y="2" width="10" height="10" '
                     f'fill="{PALETTE[j % len(PALETTE)]}"/><text x="{left + j * 90 + 14}" y="11" '
                     f'class="axis">{escape(legend)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def heat_map(rows: list[tuple[str, list[int]]], *, title: str, columns: list[str],
             cell: int = 22) -> Markup:
    """One row per name, one column per hour: the darker, the more visits (0 is pale red)."""
    left = 120
    width = left + cell * len(columns) + 4
    height = 20 + cell * max(1, len(rows)) + 4
    top = max([1, *(v for _, counts in rows for v in counts)])
    parts = [f'<svg class="heat" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(title)}"><title>{escape(title)}</title>']
    for c, name in enumerate(columns):
        parts.append(f'<text x="{left + c * cell + cell / 2}" y="14" text-anchor="middle" '
                     f'class="axis">{escape(name)}</text>')
    for r, (name, counts) in enumerate(rows):
        y = 20 + r * cell
        parts.append(f'<text x="{left - 6}" y="{y + cell * 0.7:.1f}" text-anchor="end" '
                     f'class="axis">{escape(name[:16])}</text>')
        for c, value in enumerate(counts):
            if value == 0:
                fill = "#f6d5d0"
            else:
                shade = 0.25 + 0.75 * value / top
                fill = f"rgba(47,111,176,{shade:.2f})"
            parts.append(f'<rect x="{left + c * cell}" y="{y}" width="{cell - 2}" '
                         f'height="{cell - 2}" fill="{fill}" data-count="{value}">'
                         f'<title>{escape(name)} {escape(columns[c])}: {value}</title></rect>')
    parts.append("</svg>")
    return Markup("".join(parts))
