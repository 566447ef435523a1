"""Rendered outputs: the region bar chart (SVG) and CSV text without formula injection."""

from __future__ import annotations

from typing import Any


def region_chart_svg(regions: list[dict[str, Any]], width: int = 640,
                     title: str = "Signatures by region") -> str:
    """A server-rendered horizontal bar chart (no script; labels and title XML-escaped)."""
    from markupsafe import escape

    bar_h, gap, label_w = 18, 6, 170
    top = max([int(r["count"]) for r in regions] + [1])
    height = len(regions) * (bar_h + gap) + gap
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="region-chart" role="img" '
             f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
             f"<title>{escape(title)}</title>"]
    span = width - label_w - 70
    for i, r in enumerate(regions):
        y = gap + i * (bar_h + gap)
        w = int(span * int(r["count"]) / top)
        parts.append(f'<text x="{label_w - 6}" y="{y + bar_h - 5}" text-anchor="end" '
                     f'font-size="12">{escape(r["label"])}</text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar_h}" fill="#2b6cb0"/>')
        parts.append(f'<text x="{label_w + w + 6}" y="{y + bar_h - 5}" font-size="12">{int(r["count"])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def csv_text(rows: list[list[Any]]) -> str:
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for row in rows:
        writer.writerow(["'" + c if isinstance(c, str) and c[:1] in ("=", "+", "-", "@") else c
                         for c in row])  # no spreadsheet formula injection
    return buf.getvalue()
