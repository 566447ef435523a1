"""Issue 10 attacks on petitions: shared encryptions (copy registry) and differential tallies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.db import get_engine
from audit.petition_verifier import _ciphertext_copies
from crypto.credentials import sign_payload
from crypto.encoding import canonical_json
from crypto.petition import (
    DOMAIN_REGION,
    EncryptedSignature,
    PetitionParameters,
    encrypt_signature,
    petition_fingerprint,
    region_context,
)
from crypto.proofs import prove_membership
from crypto.threshold import ThresholdPublicKey
from tally.petition import (
    DifferentialTally,
    EncryptedRegionTally,
    check_differential,
    counted_set,
    trustee_decrypt_regions,
    verify_petition_board,
)
from tests.app.petitions_helpers import (
    citizen,
    info,
    moderator,
    obtain_credential,
    open_petition,
    petition_app,
)
from tests.app.test_petitions_flow import _board, _context


@pytest.fixture()
def papp(tmp_path: Path, issuer_test_key: Any) -> Any:
    application = petition_app(f"sqlite:///{tmp_path / 'p.db'}", tmp_path, issuer_test_key)
    yield application
    get_engine(application).dispose()


@pytest.fixture()
def pclient(papp: Any) -> Any:
    return papp.test_client()


def _shared_signatures(client: Any, pid: int, wallets: list[Any]) -> list[dict[str, Any]]:
    """One region encryption (same c, same r) proven under each citizen's own token."""
    data = info(client, pid)
    params = PetitionParameters.from_json(data["parameters"])
    pk = ThresholdPublicKey.from_json(data["election_public_key"]).public
    fp = petition_fingerprint(params, data["election_public_key"], data["issuer_public_key"],
                              bytes.fromhex(data["board_public_key"]))
    region = params.region_ids[0]
    first, r = encrypt_signature(pk, params, fp, wallets[0].credential.token_id, region)
    bodies = []
    for wallet in wallets:
        token = wallet.credential.token_id
        proof = prove_membership(pk, first.ciphertext, r, params.encode(region), params.allowed,
                                 domain=DOMAIN_REGION, fingerprint=fp,
                                 context=region_context(params.petition_id, token))
        sj = EncryptedSignature(params.petition_id, token, first.ciphertext, proof).to_json()
        bodies.append({"credential": wallet.credential.to_json(), "signature": sj,
                       "ed25519_signature": sign_payload(wallet.ballot_key,
                                                         canonical_json(sj)).hex()})
    return bodies


def test_two_citizens_sharing_one_encryption(papp, pclient):
    """Attack 2: the second copy is refused (409) and the petition board stays valid."""
    mod = moderator(papp, pclient)
    pid, _ = open_petition(papp, pclient, mod)
    wallets = []
    for email in ("alice@example.org", "bob@example.org"):
        status, wallet, body = obtain_credential(pclient, citizen(papp, pclient, email), pid)
        assert status == 201 and wallet is not None, body
        wallets.append(wallet)
    first, second = _shared_signatures(pclient, pid, wallets)
    assert pclient.post(f"/api/v1/petitions/{pid}/signatures", json=first).status_code == 201
    response = pclient.post(f"/api/v1/petitions/{pid}/signatures", json=second)
    assert response.status_code == 409, response.get_json()
    assert response.get_json()["error"]["code"] == "ciphertext_reused"
    board = _board(pclient, pid)
    assert len(board) == 1
    assert verify_petition_board(_context(pclient, pid), board).ok
    n = ThresholdPublicKey.from_json(info(pclient, pid)["election_public_key"]).n
    assert _ciphertext_copies(n, board, []) == set()


@pytest.fixture()
def kapp(tmp_path: Path, issuer_test_key: Any) -> Any:
    application = petition_app(f"sqlite:///{tmp_path / 'k.db'}", tmp_path, issuer_test_key,
                               PETITION_TALLY_MIN_DIFFERENCE=10)
    yield application
    get_engine(application).dispose()


def test_differential_decryption_refused(kapp):
    """Attack 4: decrypt at s, then at s + 1 (or after one invalidation) — refused (rule D1)."""
    from tests.app.petitions_helpers import sign, trustee_shares
    from tests.app.test_petitions_flow import _decrypt

    client = kapp.test_client()
    mod = moderator(kapp, client)
    pid, _ = open_petition(kapp, client, mod)
    for i, region in enumerate(("almaty", "astana")):
        sign(client, citizen(kapp, client, f"s{i}@example.org"), pid, region)
    first = client.post(f"/api/v1/petitions/{pid}/tallies", headers=mod)
    assert first.status_code == 201
    _decrypt(client, pid, first.get_json())
    # s + 1
    sign(client, citizen(kapp, client, "victim@example.org"), pid, "shymkent")
    second = client.post(f"/api/v1/petitions/{pid}/tallies", headers=mod)
    assert second.status_code == 409, second.get_json()
    assert second.get_json()["error"]["code"] == "differential_tally"
    # one invalidation instead: still fewer than K differences
    r = client.post(f"/api/v1/petitions/{pid}/invalidations",
                    json={"target_index": 0, "reason_code": "fraud_suspected"}, headers=mod)
    assert r.status_code == 201
    assert client.post(f"/api/v1/petitions/{pid}/tallies", headers=mod).status_code == 409
    # at close the tally is recorded, but no trustee partial is accepted for it
    closed = client.post(f"/api/v1/petitions/{pid}/close", headers=mod).get_json()
    final = closed["tally"]
    et = EncryptedRegionTally.from_json(final["encrypted"])
    fp = bytes.fromhex(info(client, pid)["fingerprint"])
    share = trustee_shares()[0]
    trustee = citizen(kapp, client, "t1@example.org", ("trustee",))
    r = client.post(f"/api/v1/petitions/{pid}/tallies/{final['id']}/partials",
                    json={"partial": trustee_decrypt_regions(share, et, fingerprint=fp).to_json()},
                    headers=trustee)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "differential_tally"
    # the trustee's own tool refuses too, given the verified board's counted sets
    board = _board(client, pid)
    with pytest.raises(DifferentialTally, match="differs from an already decrypted one by 2"):
        trustee_decrypt_regions(share, et, fingerprint=fp,
                                counted=counted_set(board, et.tree_size),
                                earlier=[counted_set(board, 2)], min_difference=10)


def test_differential_rule_allows_identical_or_distant_sets():
    check_differential(frozenset({1, 2}), [frozenset({1, 2})], 10)
    check_differential(frozenset(range(20)), [frozenset(range(10))], 10)
    with pytest.raises(DifferentialTally, match="by 1 signature"):
        check_differential(frozenset(range(11)), [frozenset(range(10))], 10)
