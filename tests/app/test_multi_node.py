"""Two app nodes (separate gunicorn instances on separate ports, standing for separate
machines) behind one PostgreSQL: racing casts across the nodes, a retry on the other node,
and the frozen board verifies (the append lock holds across processes)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from bench import cluster
from tests.app.helpers import (
    OFFICIAL_EMAIL,
    OFFICIAL_PASSWORD,
    VOTER_PASSWORD,
    roll_key,
    setup_election,
)
from tests.conftest import PG_BASE_URL, make_test_app

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture()
def two_nodes(tmp_path: Path, issuer_test_key: Any, pg_schema: str):
    pytest.importorskip("gunicorn")
    setup_app = make_test_app(PG_BASE_URL, tmp_path, issuer_test_key, schema=pg_schema)
    emails = setup_election(setup_app, "multi", voters=6)
    from app.db import get_engine

    get_engine(setup_app).dispose()
    with cluster.nodes(PG_BASE_URL, pg_schema, tmp_path, count=2, workers=1, threads=8,
                       env={"SAYLAU_BOARD_TIME_GRANULARITY_S": "60"}) as bases:
        yield bases, emails


def _together(calls: list[Any]) -> list[Any]:
    out: list[Any] = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run(i: int) -> None:
        barrier.wait()
        out[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return out


def test_racing_casts_across_two_nodes_and_a_verified_board(two_nodes, tmp_path):
    from audit.election_verifier import verify_board_record
    from audit.record import read_record
    from crypto.credentials import sign_payload
    from crypto.encoding import canonical_json
    from saylau.voter_client import ServerError, VoterClient

    bases, emails = two_nodes
    prepared = []
    for i, email in enumerate(emails):
        vc = VoterClient(bases[i % 2], roll_key=roll_key(email))
        vc.login(email, VOTER_PASSWORD)
        election = vc.get_election("multi")
        wallet = vc.obtain_credential(election)
        prepared.append((vc, election, wallet))

    def cast_on(base: str, item: Any, ballot: Any) -> Any:
        _, election, wallet = item

        def call() -> Any:
            try:
                return VoterClient(base).cast(election, wallet, ballot=ballot)
            except ServerError as exc:
                return exc.status
        return call

    # five voters at once, alternating nodes; the sixth casts two ballots, one per node
    calls, ballots = [], []
    for i, item in enumerate(prepared[:5]):
        vc, election, wallet = item
        ballot = vc.encrypt(election, wallet, {"mayor": ["abc"[i % 3]], "ref": ["yes"]})
        ballots.append(ballot)
        calls.append(cast_on(bases[i % 2], item, ballot))
    racer = prepared[5]
    twins = [racer[0].encrypt(racer[1], racer[2], {"mayor": ["a"], "ref": ["no"]})
             for _ in range(2)]
    calls += [cast_on(bases[0], racer, twins[0]), cast_on(bases[1], racer, twins[1])]
    outcomes = _together(calls)
    receipts = outcomes[:5]
    assert all(isinstance(r, dict) for r in receipts), outcomes
    assert sorted(o if isinstance(o, int) else 201 for o in outcomes[5:]) == [201, 409]
    winner = next(o for o in outcomes[5:] if isinstance(o, dict))
    indexes = sorted([r["index"] for r in receipts] + [winner["index"]])
    assert indexes == list(range(6))  # dense across both nodes

    # a retry of voter 1's ballot (cast on node 0) sent to node 1: the same receipt
    _, election, wallet = prepared[0]
    ballot_json = ballots[0].to_json()
    payload = {"credential": wallet.credential.to_json(), "ballot": ballot_json,
               "signature": sign_payload(wallet.ballot_key, canonical_json(ballot_json)).hex()}
    _, again = VoterClient(bases[1])._request("POST", "/api/v1/elections/multi/ballots", payload)
    assert again == {k: v for k, v in receipts[0].items() if k in again}
    assert set(again) >= {"index", "leaf_hash", "inclusion_proof", "tree_head", "tracker"}
    prepared[0][0].check_receipt(receipts[0])  # still consistent with the latest head

    # node 0 has cast (its election context is cached): a second ballot of voter 1 there
    # is already_voted while open, and not_open at once after node 1 closes the election
    vc1, election1, wallet1 = prepared[0]
    second = vc1.encrypt(election1, wallet1, {"mayor": ["c"], "ref": ["no"]})
    with pytest.raises(ServerError, match=r"^server refused \(409 already_voted\)"):
        VoterClient(bases[0]).cast(election1, wallet1, ballot=second)
    official = VoterClient(bases[1])
    official.login(OFFICIAL_EMAIL, OFFICIAL_PASSWORD)
    official.api("POST", "/api/v1/elections/multi/close")
    with pytest.raises(ServerError, match=r"^server refused \(409 not_open\)"):
        VoterClient(bases[0]).cast(election1, wallet1, ballot=second)
    zipped = tmp_path / "board.zip"
    zipped.write_bytes(official.download("/api/v1/elections/multi/record.zip"))
    checked = verify_board_record(read_record(zipped))
    assert not checked.report.failed(), [c.name for c in checked.report.failed()]
    assert checked.tally is not None and len(checked.tally.counted) == 6
