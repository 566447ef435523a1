"""Benchmarks run (quick mode) and draw their results as an SVG chart."""

import xml.etree.ElementTree as ET

from bench.chart import Bar, chart_for, svg_bar_chart
from saylau.cli import main

SVG = "{http://www.w3.org/2000/svg}"


def test_bar_lengths_are_proportional_and_reference_line_drawn():
    root = ET.fromstring(svg_bar_chart("t", [Bar("a", 10), Bar("b", 20)], unit="/s",
                                       reference=("peak", 40)))
    widths = [float(r.get("width")) for r in root.iter(f"{SVG}rect")][1:]
    assert widths[1] == 2 * widths[0]
    assert root.find(f"{SVG}line") is not None


def test_quick_crypto_benchmark_writes_a_chart(tmp_path, capsys):
    out = tmp_path / "crypto.svg"
    assert main(["bench", "crypto", "--quick", "--svg", str(out)]) == 0
    assert "× floor" in capsys.readouterr().out
    root = ET.fromstring(out.read_text())
    labels = [t.text for t in root.iter(f"{SVG}text")]
    assert "1024-bit verify 0/1" in labels and "1024-bit raw powmod floor" in labels


def test_chart_for_unknown_suite():
    import pytest

    with pytest.raises(ValueError):
        chart_for("nope", [])


def test_a_long_cast_run_is_drawn_as_a_timeline():
    """Ten windows: both panels get one point per window, with the goal and the p99 limit as
    dashed lines; a short run keeps the bar chart."""
    windows = [{"start_s": 10.0 * i, "per_s": 90.0 + i, "p50_ms": 500.0, "p99_ms": 800.0 + 50 * i,
                "errors": 0} for i in range(10)]
    run = {"bits": 3072, "elapsed_s": 100.0, "casts_per_s": 94.5, "p99_ms": 1200.0, "errors": 0,
           "window_s": 10.0, "timeline": windows, "nodes": 1, "floor_per_cast": 0.3,
           "floor_ops_per_s": 30.0}
    root = ET.fromstring(chart_for("cast", [run]))
    lines = list(root.iter(f"{SVG}polyline"))
    assert [len(p.get("points").split()) for p in lines] == [10, 10]
    ys = [float(xy.split(",")[1]) for xy in lines[0].get("points").split()]
    assert ys == sorted(ys, reverse=True)  # the rate rises, so its points climb
    assert len(list(root.iter(f"{SVG}line"))) == 2
    short = ET.fromstring(chart_for("cast", [{**run, "timeline": windows[:3]}]))
    assert not list(short.iter(f"{SVG}polyline")) and list(short.iter(f"{SVG}rect"))
    # a 12-second run cut into ten 1.2-second windows is not a long run: bars
    brief = ET.fromstring(chart_for("cast", [{**run, "window_s": 1.2, "elapsed_s": 12.0}]))
    assert not list(brief.iter(f"{SVG}polyline"))
    signing = {**run, "signatures_per_s": 99.0}
    assert len(list(ET.fromstring(chart_for("sign", [signing])).iter(f"{SVG}polyline"))) == 2
