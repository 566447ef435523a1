"""End to end: simulate an election over the real HTTP API, then verify its record."""

import json
import subprocess
import sys

import pytest

from saylau.cli import main


def test_simulate_then_verify_gives_the_same_tally(tmp_path, capsys):
    out = tmp_path / "record"
    assert main(["simulate", "--voters", "7", "--options", "3", "--trustees", "3",
                 "--threshold", "2", "--bits", "1024", "--seed", "4", "--audit-fraction", "0.5",
                 "--revote-fraction", "0.4", "--out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["audited_ballots"] > 0 and summary["revotes"] > 0
    assert summary["ballots_cast"] == 7 + summary["revotes"]

    # the verifier runs in its own process, as an auditor would run it
    proc = subprocess.run([sys.executable, "-m", "saylau", "verify", str(out), "--json"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["valid"] is True
    assert report["tally"] == summary["expected_tally"]

    # a published result changed after the fact is caught (index no longer matches)
    results = out / "results.json"
    data = json.loads(results.read_text())
    data["choice"]["opt1"] = data["choice"]["opt1"] + 1
    results.write_text(json.dumps(data))
    proc = subprocess.run([sys.executable, "-m", "saylau", "verify", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert "record-index" in proc.stdout


@pytest.mark.parametrize("argv", [
    ["--threshold", "4", "--trustees", "3"],
    ["--bits", "512"],
    ["--options", "1"],
])
def test_simulate_usage_errors(tmp_path, argv, capsys):
    assert main(["simulate", "--out", str(tmp_path / "r"), *argv]) == 2
    assert "error" in capsys.readouterr().err
