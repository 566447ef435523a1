"""``saylau bench sign``: end to end over HTTP (gunicorn on PostgreSQL) by default, the
in-process measurements with ``--in-process``, the usage errors, and the chart.

The runs are quick (1024 bits, a few dozen signatures) and assert what happened, never
how fast."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bench import cluster
from bench.bench_sign import main as bench_sign_main
from bench.chart import chart_for
from saylau.cli import main
from tests.conftest import PG_BASE_URL

SVG = "{http://www.w3.org/2000/svg}"
HTTP_KEYS = {"bits", "signatures", "warm_up", "regions", "clients", "nodes", "workers_per_node",
             "threads_per_worker", "load", "offered_per_s", "settings", "signatures_per_s",
             "p50_ms", "p99_ms", "errors", "statuses", "warm_up_errors", "tree_heads",
             "board_signatures", "elapsed_s", "floor_ops_per_s", "floor_per_signature",
             "signatures_per_s_at_100_floor", "revoke_a50_peak", "load_1min"}


def _count(schema: str, sql: str) -> int:
    import sqlalchemy

    engine = sqlalchemy.create_engine(PG_BASE_URL)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sqlalchemy.text(sql.format(s=f'"{schema}"'))).scalar_one())
    finally:
        engine.dispose()


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.parametrize("load", ["closed", "open"])
def test_http_sign_run_accepts_every_signature_and_the_board_holds_them(
        load: str, pg_schema: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A --quick run through one gunicorn node: every signature 201, no error, group commit
    (tree heads ≤ signatures), and afterwards the petition's board in the database holds
    exactly the signatures sent (warm-up included), each under its own token."""
    pytest.importorskip("gunicorn")

    @contextmanager
    def keep_schema(url: str = PG_BASE_URL, prefix: str = "b_") -> Iterator[str]:
        yield pg_schema  # the fixture's schema, dropped by the fixture after the counts below

    monkeypatch.setattr(cluster, "PG_URL", PG_BASE_URL)
    monkeypatch.setattr(cluster, "pg_schema", keep_schema)
    svg = tmp_path / "sign.svg"
    extra = ["--rate", "200", "--workers", "3"] if load == "open" else []
    assert main(["bench", "sign", "--quick", "--signatures", "24", "--clients", "4",
                 "--regions", "5", "--batch-max", "8", *extra, "--json",
                 "--svg", str(svg)]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert HTTP_KEYS <= set(row)
    assert (row["bits"], row["regions"], row["nodes"]) == (1024, 5, 1)
    assert row["workers_per_node"] == (3 if load == "open" else 2)
    assert row["load"] == ("open loop" if load == "open" else "closed loop")
    assert row["settings"] == {"SAYLAU_PETITION_BATCH_MAX": "8"}
    warm, timed = row["warm_up"], row["signatures"]
    assert warm >= 1 and warm + timed == 24
    assert row["errors"] == 0 and row["warm_up_errors"] == 0
    assert row["statuses"] == {"201": timed}
    assert 1 <= row["tree_heads"] <= timed
    assert row["signatures_per_s"] > 0 and 0 < row["p50_ms"] <= row["p99_ms"]
    assert row["floor_ops_per_s"] > 0 and row["floor_per_signature"] > 0
    assert row["board_signatures"] == 24
    # counted again here, in the schema the nodes wrote to
    assert _count(pg_schema, "SELECT count(*) FROM {s}.petitions") == 1
    assert _count(pg_schema, "SELECT count(*) FROM {s}.petition_board "
                             "WHERE kind = 'signature'") == 24
    assert _count(pg_schema, "SELECT count(*) FROM {s}.petition_board") == 24
    assert _count(pg_schema, "SELECT count(DISTINCT token_id) FROM {s}.petition_board") == 24
    assert _count(pg_schema, "SELECT count(*) FROM {s}.petition_ciphertext_registry") == 24
    heads = _count(pg_schema, "SELECT count(*) FROM {s}.petition_tree_heads")
    assert row["tree_heads"] < heads <= 1 + 24  # the opening head, then one per batch at most
    labels = [t.text for t in ET.fromstring(svg.read_text()).iter(f"{SVG}text")]
    assert "1024-bit signatures, 1 node(s)" in labels


@pytest.mark.slow
def test_in_process_run_still_measures_every_part(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "sign", "--in-process", "--quick", "--signatures", "4",
                 "--regions", "3", "--threads", "2", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["bits"], row["signatures"], row["regions"], row["threads"]) == (1024, 4, 3, 2)
    for key in ("individual_per_s", "server_per_s", "batch_per_s", "append_per_s",
                "e2e_off_per_s", "e2e_on_per_s"):
        assert row[key] > 0, key


@pytest.mark.parametrize(("args", "message"), [
    (["--rate", "0"], "--rate must be positive and finite"),
    (["--rate", "-3"], "--rate must be positive and finite"),
    (["--rate", "nan"], "--rate must be positive and finite"),
    (["--rate", "inf"], "--rate must be positive and finite"),
    (["--signatures", "0"], "--signatures must be at least 1"),
    (["--clients", "0"], "--clients must be at least 1"),
    (["--nodes", "0"], "--nodes must be at least 1"),
    (["--workers", "0"], "--workers must be at least 1"),
    (["--threads", "0"], "--threads must be at least 1"),
    (["--regions", "0"], "--regions must be at least 1"),
    (["--batch-max", "0"], "--batch-max must be at least 1"),
    (["--batch-wait-ms", "-1"], "--batch-wait-ms must be finite and not negative"),
    (["--regions", "65"], "--regions must be at most 64"),
    (["--quick", "--regions", "32"], "--regions: 32 regions do not fit a 1024-bit key (at most 31)"),
    (["--ballots", "10"], "'sign' counts --signatures, not --ballots"),
    (["--in-process", "--rate", "5"], "--rate applies to the HTTP run, not to --in-process"),
    (["--in-process", "--clients", "4"], "--clients applies to the HTTP run, not to --in-process"),
    (["--in-process", "--workers", "3"], "--workers applies to the HTTP run, not to --in-process"),
    (["--in-process", "--batch-max", "4"],
     "--batch-max applies to the HTTP run, not to --in-process"),
    (["--bits", "1000"], "--bits must be even and at least 1024"),
])
def test_bench_sign_usage_errors(args: list[str], message: str,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "sign", *args]) == 2
    assert capsys.readouterr().err == f"saylau bench: error: {message}\n"


@pytest.mark.parametrize("option", [["--signatures", "5"], ["--regions", "5"], ["--in-process"]])
def test_sign_options_are_refused_for_cast(option: list[str],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "cast", *option]) == 2
    name = option[0]
    assert capsys.readouterr().err == f"saylau bench: error: {name} applies to 'sign' only\n"


@pytest.mark.parametrize(("args", "message"), [
    (["--chunk", "4"], "--chunk and --no-db apply to --in-process only"),
    (["--no-db"], "--chunk and --no-db apply to --in-process only"),
    (["--in-process", "--chunk", "0"], "--chunk must be at least 1"),
    (["--rate", "0"], "--rate must be positive and finite"),
])
def test_python_m_bench_sign_usage_errors(args: list[str], message: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_sign_main(args) == 2
    assert capsys.readouterr().err == f"bench_sign: error: {message}\n"


def test_chart_of_an_http_sign_run() -> None:
    row = {"bits": 2048, "nodes": 2, "signatures_per_s": 40.0, "p99_ms": 812.4,
           "floor_per_signature": 1.5, "floor_ops_per_s": 60.0}
    root = ET.fromstring(chart_for("sign", [row]))
    labels = [t.text for t in root.iter(f"{SVG}text")]
    assert labels[0] == "Petition signatures per second (gunicorn on PostgreSQL)"
    assert "2048-bit signatures, 2 node(s)" in labels
    assert "40.0 /s (p99 812 ms, 1.5× floor)" in labels
    assert "goal: 100 /s" in labels
    widths = [float(r.get("width")) for r in root.iter(f"{SVG}rect")][1:]
    assert widths[1] == pytest.approx(1.5 * widths[0], abs=0.1)


def test_chart_of_an_in_process_sign_run() -> None:
    row = {"bits": 1024, "individual_per_s": 10.0, "server_per_s": 20.0, "batch_per_s": 30.0,
           "append_per_s": float("nan"), "revoke_a50_peak": 33.0}
    labels = [t.text for t in ET.fromstring(chart_for("sign", [row])).iter(f"{SVG}text")]
    assert labels[0] == "Petition signatures accepted per second (2 cores)"
    assert "1024-bit batched proofs" in labels and "1024-bit board appends" not in labels
