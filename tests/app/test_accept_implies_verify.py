"""Property (issue 10): for generated and mutated entries, server-accept ⇒ verifier-accept.

Every ``audited`` or ``ballot`` request the server answers 201 puts an entry on the board
that :func:`tally.verify_board.verify_board` — the verifier behind ``saylau verify`` —
accepts with no problem.  Payloads are honest ones mutated at a random place (a key
dropped or added, a leaf replaced, an extra question in the secrets, two responses ``z``
replaced by ``n − z``).
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crypto.ballot import encrypt_ballot
from crypto.credentials import sign_payload
from crypto.encoding import canonical_json, hex_to_int, int_to_hex
from tally.verify_board import ElectionContext, verify_board
from tests.app.helpers import setup_election, voter

CHOICES = {"mayor": ["b"], "ref": ["yes"]}
LEAVES: list[Any] = [None, True, 0, -1, 2**31, "", "00", "zz", [], {}, "a" * 70]


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _paths(v, (*prefix, i))
    return out


def _mutate(doc: dict[str, Any], n: int, data: st.DataObject) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    op = data.draw(st.sampled_from(["none", "drop", "add", "leaf", "extra-question",
                                    "twist-z", "drop-option"]))
    if op == "none":
        return doc
    if op == "twist-z":  # two z by n − z: the ±1 ballot (valid under eq. Z5)
        proof = doc["ballot"]["contests"][0]["selections"][0]["proof"]
        proof["z"] = [int_to_hex(n - hex_to_int(z)) for z in proof["z"]]
        return doc
    if op == "extra-question" and "secrets" in doc:
        doc["secrets"]["zzz"] = copy.deepcopy(doc["secrets"]["ref"])
        return doc
    if op == "drop-option" and "secrets" in doc:
        del doc["secrets"]["mayor"]["a"]
        return doc
    paths = [p for p in _paths(doc) if p]
    path = data.draw(st.sampled_from(paths))
    parent: Any = doc
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    if op == "drop" and isinstance(parent, dict):
        del parent[last]
    elif op == "add" and isinstance(parent, dict):
        parent["extra_" + str(last)] = data.draw(st.sampled_from(LEAVES))
    else:
        parent[last] = data.draw(st.sampled_from(LEAVES))
    return doc


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_server_accept_implies_verifier_accept(app, client, data) -> None:
    if "ready" not in app.extensions:
        setup_election(app, "e1", voters=40, revote_policy="last-counts")
        app.extensions["ready"] = {"next": 1}
    state = app.extensions["ready"]
    vc = voter(client, f"voter{state['next']}@example.org")
    state["next"] += 1
    election = vc.get_election("e1")
    wallet = vc.obtain_credential(election)
    pk = election.election_key.public
    ballot, secrets_ = encrypt_ballot(pk, election.manifest, election.fingerprint,
                                      wallet.credential.token_id, CHOICES)
    if data.draw(st.booleans()):
        url = "/api/v1/elections/e1/audited-ballots"
        body = _mutate({"ballot": ballot.to_json(), "secrets": secrets_.to_json()}, pk.n, data)
    else:
        url = "/api/v1/elections/e1/ballots"
        mutated = _mutate({"ballot": ballot.to_json()}, pk.n, data)
        ballot_json = mutated.get("ballot")
        body = {"credential": wallet.credential.to_json(), "ballot": ballot_json,
                "signature": sign_payload(wallet.ballot_key,
                                          canonical_json(ballot_json)).hex()}
    response = client.post(url, json=body)
    assert response.status_code < 500, response.get_data(as_text=True)
    if response.status_code != 201:
        assert response.status_code in (400, 403, 409, 413, 415, 422)
        return
    board = client.get("/api/v1/elections/e1/board").get_json()["entries"]
    entries = [item["entry"] for item in board]
    ctx = ElectionContext(election.manifest, pk, election.issuer_key, election.fingerprint,
                          election.revote_policy)
    result = verify_board(ctx, entries, workers=1)
    assert result.problems == [], [str(p) for p in result.problems]
