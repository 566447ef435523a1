"""``saylau verify --scheduler``: the batched proof checks on a Dask distributed cluster give
the same report as the local path, on a valid and on a tampered record."""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import distributed  # a dependency (dask[distributed]): never skipped
import pytest

from audit.record import write_record
from audit.verifier import verify_record
from crypto.encoding import hex_to_int, int_to_hex
from tests.recordgen import GeneratedElection, generate


@functools.cache
def _gen() -> GeneratedElection:
    return generate(3)


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        yield cluster.scheduler_address


def _reports(path: Path, scheduler: str) -> tuple[dict[str, Any], dict[str, Any]]:
    local = verify_record(path, workers=1).to_json()
    remote = verify_record(path, workers=1, scheduler=scheduler).to_json()
    return local, remote


def test_same_report_on_a_valid_record(tmp_path: Path, scheduler: str) -> None:
    gen = _gen()
    local, remote = _reports(write_record(tmp_path / "rec", gen.files, gen.board_key), scheduler)
    assert local == remote
    assert local["valid"] is True


def test_same_report_on_a_tampered_record(tmp_path: Path, scheduler: str) -> None:
    gen = copy.deepcopy(_gen())
    z = gen.board[2]["ballot"]["contests"][0]["selections"][0]["proof"]["z"]
    z[0] = int_to_hex(hex_to_int(z[0]) + 1)  # the challenges still sum up; the equation fails
    gen.rebuild(resign_heads=True)
    local, remote = _reports(write_record(tmp_path / "rec", gen.files, gen.board_key), scheduler)
    assert local == remote
    assert local["valid"] is False
    failed = {c["name"]: c for c in local["checks"] if not c["ok"]}
    assert any("entry 2" in d for d in failed["ballot-proofs"]["details"])


def test_cli_option(tmp_path: Path, scheduler: str, capsys: pytest.CaptureFixture[str]) -> None:
    from saylau.cli import main

    gen = _gen()
    path = write_record(tmp_path / "rec", gen.files, gen.board_key)
    assert main(["verify", str(path), "--json", "--scheduler", scheduler]) == 0
    assert '"valid": true' in capsys.readouterr().out
