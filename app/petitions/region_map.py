"""The petition page's map: a server-rendered choropleth of signatures per region.

The shapes are ``app/static/map/kz-regions.json`` (Natural Earth admin-1, public domain,
simplified; the 2018/2022 regions approximated — see ``app/static/map/SOURCE.md``).  The
SVG is one ``role="img"`` with a ``<title>`` and ``<desc>`` (so a screen reader reads one
name, not every path), a ``<title>`` per region for pointer users, colours by CSS class
(``map-q0`` … ``map-q4``; no inline style under the CSP), and the legend and the table
(the accessible fallback) rendered next to it by the template.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from markupsafe import escape

MAP_FILE = Path(__file__).resolve().parent.parent / "static" / "map" / "kz-regions.json"
#: number of colour classes with signatures (class 0 = no signatures)
CLASSES = 4
#: drawn as dots on top of their surrounding region
CITIES = ("almaty", "astana", "shymkent")


@dataclass(frozen=True)
class LegendEntry:
    """One colour class: CSS class and the inclusive signature range it stands for."""

    css: str
    low: int
    high: int


@lru_cache(maxsize=1)
def shapes() -> dict[str, Any]:
    """The vendored shapes: ``{"viewBox": str, "regions": {id: {"d": path, "label": [x, y]}}}``."""
    data: dict[str, Any] = json.loads(MAP_FILE.read_text(encoding="utf-8"))
    return data


def legend(top: int) -> list[LegendEntry]:
    """Class 0 for 0 signatures, then ``CLASSES`` equal ranges over ``1..top`` (fewer if ``top`` is small).

    Range ``j`` (1-based) is ``[⌊(j-1)·top/K⌋ + 1, ⌊j·top/K⌋]``; empty ranges are skipped.
    """
    entries = [LegendEntry("map-q0", 0, 0)]
    for j in range(1, CLASSES + 1):
        low, high = (j - 1) * top // CLASSES + 1, j * top // CLASSES
        if low <= high:
            entries.append(LegendEntry(f"map-q{j}", low, high))
    return entries


def css_class(count: int, entries: Sequence[LegendEntry]) -> str:
    for e in entries:
        if e.low <= count <= e.high:
            return e.css
    return entries[-1].css


def region_map_svg(rows: Sequence[dict[str, Any]], *, title: str, desc: str,
                   region_title: Callable[[str, int], str]) -> str:
    """The choropleth for ``rows`` (``{"id", "label", "count"}``, labels already translated).

    Regions of the petition with no shape (a custom region scope) are left to the table.
    """
    geo = shapes()
    top = max([int(r["count"]) for r in rows] + [0])
    entries = legend(top)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="region-map" role="img" '
             f'aria-labelledby="region-map-title region-map-desc" focusable="false" '
             f'viewBox="{geo["viewBox"]}" preserveAspectRatio="xMidYMid meet">',
             f'<title id="region-map-title">{escape(title)}</title>',
             f'<desc id="region-map-desc">{escape(desc)}</desc>']
    counts = {str(r["id"]): int(r["count"]) for r in rows}
    labels = {str(r["id"]): str(r["label"]) for r in rows}
    for rid, shape in geo["regions"].items():
        if rid not in counts:
            parts.append(f'<path class="map-none" d="{shape["d"]}"/>')
            continue
        n = counts[rid]
        parts.append(f'<path class="{css_class(n, entries)}" data-region="{escape(rid)}" d="{shape["d"]}">'
                     f"<title>{escape(region_title(labels[rid], n))}</title></path>")
    for rid in CITIES:  # cities of republican significance: a dot, or they vanish at this scale
        if rid in counts and rid in geo["regions"]:
            x, y = geo["regions"][rid]["label"]
            n = counts[rid]
            parts.append(f'<circle class="{css_class(n, entries)} map-city" cx="{x}" cy="{y}" r="7">'
                         f"<title>{escape(region_title(labels[rid], n))}</title></circle>")
    parts.append("</svg>")
    return "".join(parts)


__all__ = ["CITIES", "CLASSES", "LegendEntry", "css_class", "legend", "region_map_svg", "shapes"]
