"""A small, dependency-free SVG bar chart for benchmark results (``saylau bench --svg``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

WIDTH = 760
LABEL_W = 260
BAR_H = 22
GAP = 8


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    note: str = ""


def svg_bar_chart(title: str, bars: Sequence[Bar], *, unit: str,
                  reference: tuple[str, float] | None = None) -> str:
    """Horizontal bars (one per row), optionally with a dashed reference line."""
    top = 40
    height = top + len(bars) * (BAR_H + GAP) + 40
    span = max([b.value for b in bars] + ([reference[1]] if reference else []) + [1e-9])
    scale = (WIDTH - LABEL_W - 140) / span
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
             f'viewBox="0 0 {WIDTH} {height}" role="img" font-family="sans-serif" font-size="13">',
             f"<title>{escape(title)}</title>",
             f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
             f'<text x="12" y="24" font-size="16" font-weight="bold">{escape(title)}</text>']
    for i, bar in enumerate(bars):
        y = top + i * (BAR_H + GAP)
        w = max(1.0, bar.value * scale)
        parts.append(f'<text x="{LABEL_W - 8}" y="{y + 16}" text-anchor="end">{escape(bar.label)}</text>')
        parts.append(f'<rect x="{LABEL_W}" y="{y}" width="{w:.1f}" height="{BAR_H}" fill="#0b5cad"/>')
        text = f"{bar.value:,.1f} {unit}" + (f" ({bar.note})" if bar.note else "")
        parts.append(f'<text x="{LABEL_W + w + 6:.1f}" y="{y + 16}">{escape(text)}</text>')
    if reference:
        x = LABEL_W + reference[1] * scale
        bottom = top + len(bars) * (BAR_H + GAP)
        parts.append(f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{bottom}" '
                     'stroke="#b3261e" stroke-width="2" stroke-dasharray="6 4"/>')
        parts.append(f'<text x="{x + 4:.1f}" y="{bottom + 18}" fill="#b3261e">'
                     f"{escape(reference[0])}: {reference[1]:,.0f} {unit}</text>")
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def svg_timeline(title: str, windows: Sequence[dict[str, Any]], *, width_s: float,
                 goal: float | None = None, p99_limit_ms: float | None = None) -> str:
    """Two panels over the run's time: requests per second (with the goal as a dashed line)
    and p99 latency in ms (with its limit), one point per window of ``width_s`` seconds."""
    left, right, panel_h, top = 70, 20, 150, 40
    plot_w = WIDTH - left - right
    height = top + 2 * (panel_h + 50)
    starts = [float(w.get("start_s", i * width_s)) for i, w in enumerate(windows)]
    spans = [float(w.get("span_s", width_s)) for w in windows]
    mids = [t + d / 2 for t, d in zip(starts, spans, strict=True)]
    span_t = max([t + d for t, d in zip(starts, spans, strict=True)] + [1e-9])
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
             f'viewBox="0 0 {WIDTH} {height}" role="img" font-family="sans-serif" font-size="13">',
             f"<title>{escape(title)}</title>",
             f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
             f'<text x="12" y="24" font-size="16" font-weight="bold">{escape(title)}</text>']
    panels = (("per_s", "per second", goal, "#0b5cad"),
              ("p99_ms", "p99 latency, ms", p99_limit_ms, "#7a3e9d"))
    for k, (key, label, line, colour) in enumerate(panels):
        y0 = top + k * (panel_h + 50) + 10
        values = [float(w[key]) for w in windows]
        span_v = max(values + ([line] if line else []) + [1e-9]) * 1.1

        def at(t: float, v: float, y0: int = y0, span_v: float = span_v) -> str:
            return f"{left + t / span_t * plot_w:.1f},{y0 + panel_h - v / span_v * panel_h:.1f}"

        parts.append(f'<text x="{left}" y="{y0 - 4}">{escape(label)} '
                     f"(max {max(values, default=0):,.0f}, min {min(values, default=0):,.0f})</text>")
        parts.append(f'<rect x="{left}" y="{y0}" width="{plot_w}" height="{panel_h}" '
                     'fill="none" stroke="#888888"/>')
        points = " ".join(at(t, v) for t, v in zip(mids, values, strict=True))
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" '
                     'stroke-width="2"/>')
        if line:
            y = y0 + panel_h - line / span_v * panel_h
            parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
                         'stroke="#b3261e" stroke-width="1.5" stroke-dasharray="6 4"/>')
            parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" '
                         f'fill="#b3261e">{line:,.0f}</text>')
        parts.append(f'<text x="{left + plot_w}" y="{y0 + panel_h + 16}" text-anchor="end">'
                     f"{span_t:,.0f} s</text>")
        parts.append(f'<text x="{left}" y="{y0 + panel_h + 16}">0 s</text>')
        parts.append(f'<text x="{left - 6}" y="{y0 + panel_h + 4}" text-anchor="end">0</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _long(result: dict[str, Any]) -> bool:
    """A run of a minute or more (10-second windows, six or more): drawn over time."""
    return result.get("window_s", 0) >= 10 and len(result.get("timeline", ())) >= 6


def chart_for(suite: str, results: list[dict[str, Any]]) -> str:
    """The chart of one suite's results (the shapes returned by each bench module's ``run``)."""
    if suite == "crypto":
        bars = [Bar(f"{r['bits']}-bit {name}", row["ops_per_s"],
                    f"{row['cost_in_full_exponentiations']}× floor")
                for r in results for name, row in r["ops"].items()]
        bars += [Bar(f"{r['bits']}-bit raw powmod floor", r["floor_ops_per_s"]) for r in results]
        return svg_bar_chart("Saylau crypto: operations per second (one core)", bars, unit="/s")
    if suite == "verify":
        bars = []
        for r in results:
            bars.append(Bar(f"{r['bits']}-bit individual", r["individual_ballots_per_s"],
                            f"{r['individual_cost_in_full_exponentiations']}× floor"))
            bars.append(Bar(f"{r['bits']}-bit batch", r["batch_ballots_per_s"],
                            f"{r['batch_cost_in_full_exponentiations']}× floor"))
            if "end_to_end" in r:
                e = r["end_to_end"]
                bars.append(Bar(f"{r['bits']}-bit saylau verify (end to end)",
                                e["ballots_per_s_wall"],
                                f"{e['floor_exps_per_ballot']}× floor, {e['cores_used']} cores"))
        return svg_bar_chart(f"Board verification: {results[0]['options']}-option ballots per second",
                             bars, unit="ballots/s")
    if suite == "sign" and len(results) == 1 and _long(results[0]):
        r = results[0]  # a long run over HTTP
        return svg_timeline(f"{r['bits']}-bit petition signatures over {r['elapsed_s']:,.0f} s: "
                            f"{r['signatures_per_s']}/s, p99 {r['p99_ms']:,.0f} ms, "
                            f"{r['errors']} errors", r["timeline"], width_s=r["window_s"],
                            goal=100.0, p99_limit_ms=1000.0)
    if suite == "sign" and results and "signatures_per_s" in results[0]:  # over HTTP
        bars = []
        for r in results:
            bars.append(Bar(f"{r['bits']}-bit signatures, {r['nodes']} node(s)",
                            r["signatures_per_s"],
                            f"p99 {r['p99_ms']:.0f} ms, {r['floor_per_signature']}× floor"))
            bars.append(Bar(f"{r['bits']}-bit raw powmod floor", r["floor_ops_per_s"]))
        return svg_bar_chart("Petition signatures per second (gunicorn on PostgreSQL)", bars,
                             unit="/s", reference=("goal", 100.0))
    if suite == "sign":  # --in-process
        bars = []
        for r in results:
            bars.append(Bar(f"{r['bits']}-bit individual proofs", r["individual_per_s"]))
            bars.append(Bar(f"{r['bits']}-bit server check", r["server_per_s"]))
            bars.append(Bar(f"{r['bits']}-bit batched proofs", r["batch_per_s"]))
            if r.get("append_per_s") == r.get("append_per_s"):  # not NaN
                bars.append(Bar(f"{r['bits']}-bit board appends", r["append_per_s"]))
        return svg_bar_chart("Petition signatures accepted per second (2 cores)", bars,
                             unit="/s", reference=("Revoke-Article-50 peak",
                                                   results[0]["revoke_a50_peak"]))
    if suite == "cast" and len(results) == 1 and _long(results[0]):
        r = results[0]  # a long run: how it held its pace as the board grew
        return svg_timeline(f"{r['bits']}-bit casts over {r['elapsed_s']:,.0f} s: "
                            f"{r['casts_per_s']}/s, p99 {r['p99_ms']:,.0f} ms, "
                            f"{r['errors']} errors", r["timeline"], width_s=r["window_s"],
                            goal=100.0, p99_limit_ms=1000.0)
    if suite == "cast":
        bars = []
        for r in results:
            bars.append(Bar(f"{r['bits']}-bit casts, {r['nodes']} node(s)", r["casts_per_s"],
                            f"p99 {r['p99_ms']:.0f} ms, {r['floor_per_cast']}× floor"))
            bars.append(Bar(f"{r['bits']}-bit raw powmod floor", r["floor_ops_per_s"]))
        return svg_bar_chart("Ballots cast per second (gunicorn on PostgreSQL)", bars,
                             unit="/s", reference=("goal", 100.0))
    if suite == "size":
        bars = []
        for r in results:
            bars.append(Bar(f"{r['bits']}-bit JSON", r["json_bytes_per_ballot"],
                            f"{r['json_over_binary']}× binary"))
            bars.append(Bar(f"{r['bits']}-bit zip (deflate)", r["zip_bytes_per_ballot"],
                            f"{r['zip_over_binary']}× binary"))
            bars.append(Bar(f"{r['bits']}-bit binary numbers", r["binary_bytes_per_ballot"]))
        return svg_bar_chart("Record size per 5-option ballot", bars, unit="B")
    raise ValueError(f"no chart for {suite!r}")
