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
