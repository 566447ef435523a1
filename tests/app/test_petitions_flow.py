"""The whole petition lifecycle through the HTTP API (Flask test client, SQLite)."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from app.db import get_engine, new_session
from crypto.blind_rsa import IssuerPublicKey
from crypto.merkle import InclusionProof
from crypto.petition import PetitionParameters
from crypto.threshold import ThresholdPublicKey
from crypto.tree_head import SignedTreeHead, verify_receipt_inclusion, verify_tree_head
from tally.petition import (
    EncryptedRegionTally,
    PetitionContext,
    trustee_decrypt_regions,
    verify_petition_board,
)
from tests.app.petitions_helpers import (
    build_signature,
    citizen,
    info,
    moderator,
    obtain_credential,
    open_petition,
    petition_app,
    sign,
    trustee_shares,
)


@pytest.fixture()
def papp(tmp_path: Path, issuer_test_key: Any) -> Any:
    application = petition_app(f"sqlite:///{tmp_path / 'p.db'}", tmp_path, issuer_test_key)
    yield application
    get_engine(application).dispose()


@pytest.fixture()
def pclient(papp: Any) -> Any:
    return papp.test_client()


def _board(client: Any, pid: int) -> list[dict[str, Any]]:
    return [e["entry"] for e in client.get(f"/api/v1/petitions/{pid}/board?limit=500").get_json()["entries"]]


def _context(client: Any, pid: int) -> PetitionContext:
    data = info(client, pid)
    return PetitionContext(PetitionParameters.from_json(data["parameters"]),
                           ThresholdPublicKey.from_json(data["election_public_key"]).public,
                           IssuerPublicKey.from_json(data["issuer_public_key"]),
                           bytes.fromhex(data["fingerprint"]))


def _decrypt(client: Any, pid: int, tally: dict[str, Any], trustees: tuple[int, ...] = (1, 3, 5)) -> dict[str, Any]:
    """Trustees fetch the published tally, check it against the board, post partials."""
    data = info(client, pid)
    fp = bytes.fromhex(data["fingerprint"])
    et = EncryptedRegionTally.from_json(tally["encrypted"])
    board = _board(client, pid)[: et.tree_size]
    recomputed = verify_petition_board(_context(client, pid), board)
    assert recomputed.ok and recomputed.product == et.c and recomputed.count == et.count
    shares = {s.index: s for s in trustee_shares()}
    for i, idx in enumerate(trustees):
        client.application  # noqa: B018
        headers = citizen(client.application, client, f"trustee{idx}.{pid}.{tally['id']}@example.org",
                          ("trustee",))
        partial = trustee_decrypt_regions(shares[idx], et, fingerprint=fp)
        r = client.post(f"/api/v1/petitions/{pid}/tallies/{tally['id']}/partials",
                        json={"partial": partial.to_json()}, headers=headers)
        assert r.status_code == 201, r.get_json()
        out = r.get_json()
        assert (out["results"] is None) == (i < 2)
    return out


def test_whole_lifecycle(papp, pclient):
    client = pclient
    mod = moderator(papp, client)
    creator = citizen(papp, client, "creator@example.org")
    # drafting, duplicate search, editing
    r = client.post("/api/v1/petitions", json={"title": "Plant more trees in Astana",
                                               "action": "Plant a million trees."}, headers=creator)
    assert r.status_code == 201
    pid, token = r.get_json()["id"], r.get_json()["share_token"]
    assert r.get_json()["state"] == "draft" and len(r.get_json()["regions"]) == 20
    assert client.get(f"/api/v1/petitions/{pid}").status_code == 404  # a draft is private
    assert client.get(f"/api/v1/petitions/{pid}", headers=creator).status_code == 200
    r = client.patch(f"/api/v1/petitions/{pid}", json={"details": "More shade."}, headers=creator)
    assert r.status_code == 200 and r.get_json()["details"] == "More shade."
    # sponsors: not before submit, not the creator, confirmed citizens once each
    s0 = citizen(papp, client, "s0@example.org")
    r = client.post(f"/api/v1/petitions/{pid}/sponsors", json={"token": token}, headers=s0)
    assert r.status_code == 409
    assert client.post(f"/api/v1/petitions/{pid}/submit", headers=creator).get_json()["state"] == \
        "collecting_sponsors"
    r = client.patch(f"/api/v1/petitions/{pid}", json={"title": "x"}, headers=creator)
    assert r.status_code == 409
    assert client.post(f"/api/v1/petitions/{pid}/sponsors", json={"token": token},
                       headers=creator).get_json()["error"]["code"] == "own_petition"
    assert client.post(f"/api/v1/petitions/{pid}/sponsors", json={"token": "wrong-token-123"},
                       headers=s0).status_code == 403
    assert client.post(f"/api/v1/petitions/{pid}/sponsors", json={"token": token},
                       headers=s0).status_code == 201
    assert client.post(f"/api/v1/petitions/{pid}/sponsors", json={"token": token},
                       headers=s0).get_json()["error"]["code"] == "already_sponsored"
    from tests.app.petitions_helpers import login, make_user
    make_user(papp, "unconfirmed@example.org")
    unconf = login(client, "unconfirmed@example.org")
    assert client.post(f"/api/v1/petitions/{pid}/sponsors", json={"token": token},
                       headers=unconf).get_json()["error"]["code"] == "unconfirmed"
    s1 = citizen(papp, client, "s1@example.org")
    r = client.post(f"/api/v1/petitions/{pid}/sponsors", json={"token": token}, headers=s1)
    assert r.get_json()["state"] == "pending_moderation"
    # similar search while drafting another petition
    sim = client.get("/api/v1/petitions/similar?q=trees+astana").get_json()["similar"]
    assert sim and sim[0]["id"] == pid
    # moderation: only moderators, then open
    r = client.post(f"/api/v1/petitions/{pid}/moderation", json={"decision": "approve"}, headers=s1)
    assert r.status_code == 403
    queue = client.get("/api/v1/petitions/moderation/queue", headers=mod).get_json()["petitions"]
    assert [p["id"] for p in queue] == [pid]
    r = client.post(f"/api/v1/petitions/{pid}/moderation", json={"decision": "approve"}, headers=mod)
    assert r.get_json()["state"] == "open" and r.get_json()["fingerprint"]
    assert client.post(f"/api/v1/petitions/{pid}/moderation", json={"decision": "approve"},
                       headers=mod).status_code == 409
    # signatures
    chosen = ["almaty", "astana", "almaty"]
    receipts = [sign(client, citizen(papp, client, f"signer{i}@example.org"), pid, region)
                for i, region in enumerate(chosen)]
    data = info(client, pid)
    assert data["signatures"] == 3 and data["board_size"] == 3 and data["credentials_issued"] == 3
    assert data["flags"]["response_threshold_reached"] and data["flags"]["debate_threshold_reached"]
    # receipts hold against the board's public key and the latest head
    head = SignedTreeHead.from_json(client.get(f"/api/v1/petitions/{pid}/tree-head").get_json())
    verify_tree_head(bytes.fromhex(data["board_public_key"]), head)
    for rc in receipts:
        verify_receipt_inclusion(bytes.fromhex(data["board_public_key"]),
                                 SignedTreeHead.from_json(rc["tree_head"]),
                                 bytes.fromhex(rc["leaf_hash"]), InclusionProof.from_json(rc["inclusion_proof"]))
    # on-demand region tally by a moderator, decrypted by 3 of 5 trustees
    r = client.post(f"/api/v1/petitions/{pid}/tallies", headers=mod)
    assert r.status_code == 201
    out = _decrypt(client, pid, r.get_json())
    assert out["results"]["counts"]["almaty"] == 2 and out["results"]["counts"]["astana"] == 1
    assert sum(out["results"]["counts"].values()) == 3
    # response and debate
    assert client.post(f"/api/v1/petitions/{pid}/response", json={"text": "We will."},
                       headers=s1).status_code == 403
    assert client.post(f"/api/v1/petitions/{pid}/response", json={"text": "We will plant them."},
                       headers=mod).status_code == 200
    assert client.post(f"/api/v1/petitions/{pid}/response", json={"text": "again"},
                       headers=mod).status_code == 409
    assert client.post(f"/api/v1/petitions/{pid}/debate", json={"text": "Debated on 1 May."},
                       headers=mod).status_code == 200
    # a fourth signature, then close: a final tally at close
    sign(client, citizen(papp, client, "signer3@example.org"), pid, "shymkent")
    r = client.post(f"/api/v1/petitions/{pid}/close", headers=mod)
    assert r.status_code == 200 and r.get_json()["state"] == "closed"
    final = r.get_json()["tally"]
    assert final["reason"] == "close" and final["encrypted"]["count"] == 4
    out = _decrypt(client, pid, final, trustees=(2, 4, 5))
    expected = {rid: 0 for rid in out["results"]["counts"]}
    expected.update({"almaty": 2, "astana": 1, "shymkent": 1})
    assert out["results"]["counts"] == expected
    data = info(client, pid)
    assert data["region_results"]["count"] == 4
    assert {r["id"]: r["count"] for r in data["region_results"]["regions"]} == expected
    assert data["response"]["text"] == "We will plant them." and data["debate"]
    # closed: no more credentials or signatures
    status, _, body = obtain_credential(client, citizen(papp, client, "late@example.org"), pid)
    assert status == 409 and body["error"]["code"] == "not_open"
    # list filters, CSV, results download, HTML page with the SVG chart
    for state, present in (("closed", True), ("responded", True), ("debated", True),
                           ("open", False), ("awaiting_response", False), ("rejected", False)):
        ids = [p["id"] for p in client.get(f"/api/v1/petitions?state={state}").get_json()["petitions"]]
        assert (pid in ids) == present, state
    csv_text = client.get("/api/v1/petitions.csv").get_data(as_text=True)
    assert csv_text.splitlines()[0].startswith("id,title,state,signatures")
    detail_csv = client.get(f"/api/v1/petitions/{pid}?format=csv")
    assert detail_csv.mimetype == "text/csv" and "almaty,Almaty,2" in detail_csv.get_data(as_text=True)
    assert client.get(f"/api/v1/petitions/{pid}.csv").status_code == 200
    assert client.get(f"/api/v1/petitions/{pid}/results?download=1").get_json()["count"] == 4
    page = client.get(f"/petitions/{pid}").get_data(as_text=True)
    assert "<svg" in page and "Almaty" in page and "We will plant them." in page
    assert "<script" not in page.split("<footer")[0]
    # the whole public board verifies independently
    result = verify_petition_board(_context(client, pid), _board(client, pid))
    assert result.ok and result.count == 4


def test_rejected_petition_stays_visible_with_reason(papp, pclient):
    client = pclient
    mod = moderator(papp, client)
    creator = citizen(papp, client, "c@example.org")
    pid = client.post("/api/v1/petitions", json={"title": "Ban rain", "action": "Ban it."},
                      headers=creator).get_json()["id"]
    assert client.get(f"/api/v1/petitions/{pid}").status_code == 404  # a draft is private
    token = client.post(f"/api/v1/petitions/{pid}/share-link", headers=creator).get_json()["share_token"]
    client.post(f"/api/v1/petitions/{pid}/submit", headers=creator)
    for i in range(2):
        client.post(f"/api/v1/petitions/{pid}/sponsors", json={"token": token},
                    headers=citizen(papp, client, f"sp{i}@example.org"))
    r = client.post(f"/api/v1/petitions/{pid}/moderation", json={"decision": "reject",
                                                                 "reason_code": "nonsense"}, headers=mod)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_reason"
    r = client.post(f"/api/v1/petitions/{pid}/moderation",
                    json={"decision": "reject", "reason_code": "not_responsibility",
                          "note": "Weather is not a government matter."}, headers=mod)
    assert r.get_json()["state"] == "rejected"
    data = info(client, pid)
    assert data["rejection"] == {"code": "not_responsibility", "note": "Weather is not a government matter."}
    ids = [p["id"] for p in client.get("/api/v1/petitions?state=rejected").get_json()["petitions"]]
    assert ids == [pid]
    assert "not responsibility" in client.get(f"/petitions/{pid}").get_data(as_text=True)
    status, _, body = obtain_credential(client, creator, pid)
    assert status == 409


def test_double_signing_refused(papp, pclient):
    client = pclient
    pid, _ = open_petition(papp, client, moderator(papp, client))
    alice = citizen(papp, client, "alice@example.org")
    status, wallet, _ = obtain_credential(client, alice, pid)
    assert status == 201 and wallet is not None
    status, _, body = obtain_credential(client, alice, pid)
    assert status == 409 and body["error"]["code"] == "already_signed"
    assert "already signed" in body["error"]["message"]
    payload = build_signature(client, pid, wallet, "abai")
    assert client.post(f"/api/v1/petitions/{pid}/signatures", json=payload).status_code == 201
    r = client.post(f"/api/v1/petitions/{pid}/signatures", json=payload)
    assert r.status_code == 409
    # a fresh encryption under the same credential is refused too (token UNIQUE)
    r = client.post(f"/api/v1/petitions/{pid}/signatures", json=build_signature(client, pid, wallet, "astana"))
    assert r.status_code == 409
    assert info(client, pid)["board_size"] == 1


def _parallel(fn: Any, n: int = 2) -> list[Any]:
    results: list[Any] = [None] * n
    barrier = threading.Barrier(n)

    def run(i: int) -> None:
        barrier.wait()
        results[i] = fn()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_parallel_credential_requests_exactly_one_succeeds(papp, pclient):
    client = pclient
    pid, _ = open_petition(papp, client, moderator(papp, client))
    bob = citizen(papp, client, "bob@example.org")
    statuses = _parallel(lambda: obtain_credential(papp.test_client(), bob, pid)[0])
    assert sorted(statuses) == [201, 409]
    assert info(client, pid)["credentials_issued"] == 1


def test_parallel_signature_posts_exactly_one_succeeds(papp, pclient):
    client = pclient
    pid, _ = open_petition(papp, client, moderator(papp, client))
    carol = citizen(papp, client, "carol@example.org")
    _, wallet, _ = obtain_credential(client, carol, pid)
    payload = build_signature(client, pid, wallet, "karaganda")
    statuses = _parallel(lambda: papp.test_client().post(
        f"/api/v1/petitions/{pid}/signatures", json=payload).status_code)
    assert sorted(statuses) == [201, 409]
    assert info(client, pid)["board_size"] == 1 and info(client, pid)["signatures"] == 1


def test_signature_of_one_petition_refused_on_another(papp, pclient):
    client = pclient
    mod = moderator(papp, client)
    a, _ = open_petition(papp, client, mod, title="Petition A about parks", creator_email="a@example.org")
    b, _ = open_petition(papp, client, mod, title="Petition B about roads", creator_email="b@example.org")
    dave = citizen(papp, client, "dave@example.org")
    _, wallet, _ = obtain_credential(client, dave, a)
    payload = build_signature(client, a, wallet, "atyrau")
    r = client.post(f"/api/v1/petitions/{b}/signatures", json=payload)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "invalid_credential"
    # a credential for B with a signature body encrypted for A: refused too
    _, wallet_b, _ = obtain_credential(client, dave, b)
    body_a = build_signature(client, a, wallet_b, "atyrau")
    r = client.post(f"/api/v1/petitions/{b}/signatures", json=body_a)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "wrong_petition"
    assert info(client, b)["board_size"] == 0
    assert client.post(f"/api/v1/petitions/{a}/signatures", json=payload).status_code == 201


def test_bad_input_gives_json_4xx(papp, pclient):
    client = pclient
    pid, creator = open_petition(papp, client, moderator(papp, client))
    eve = citizen(papp, client, "eve@example.org")
    _, wallet, _ = obtain_credential(client, eve, pid)
    good = build_signature(client, pid, wallet, "pavlodar")
    tampered_proof = json.loads(json.dumps(good))
    e0 = tampered_proof["signature"]["region"]["proof"]
    key = next(k for k in e0 if isinstance(e0[k], list))
    e0[key][0] = format(int(e0[key][0], 16) ^ 1, "x")
    from crypto.credentials import sign_payload
    from crypto.encoding import canonical_json
    tampered_proof["ed25519_signature"] = sign_payload(wallet.ballot_key, canonical_json(
        tampered_proof["signature"])).hex()
    bad_ed = dict(good, ed25519_signature="00" * 64)
    bad_cred = json.loads(json.dumps(good))
    bad_cred["credential"]["signature"] = "00" * 256
    cases = [
        ("post", f"/api/v1/petitions/{pid}/signatures", {"data": "x", "content_type": "text/plain"}, 415),
        ("post", f"/api/v1/petitions/{pid}/signatures", {"data": "{", "content_type": "application/json"}, 400),
        ("post", f"/api/v1/petitions/{pid}/signatures", {"json": []}, 400),
        ("post", f"/api/v1/petitions/{pid}/signatures", {"json": {"credential": 1}}, 400),
        ("post", f"/api/v1/petitions/{pid}/signatures", {"json": dict(good, ed25519_signature="zz")}, 400),
        ("post", f"/api/v1/petitions/{pid}/signatures", {"json": bad_ed}, 403),
        ("post", f"/api/v1/petitions/{pid}/signatures", {"json": bad_cred}, 403),
        ("post", f"/api/v1/petitions/{pid}/signatures", {"json": tampered_proof}, 400),
        ("post", "/api/v1/petitions/99999/signatures", {"json": good}, 404),
        ("get", "/api/v1/petitions/99999", {}, 404),
        ("get", "/api/v1/petitions/abc", {}, 404),
        ("get", "/api/v1/petitions?state=nope", {}, 400),
        ("get", "/api/v1/petitions?sort=nope", {}, 400),
        ("get", "/api/v1/petitions?page=0", {}, 400),
        ("get", "/api/v1/petitions?per_page=1000", {}, 400),
        ("get", f"/api/v1/petitions/{pid}/board?start=-1", {}, 400),
        ("get", f"/api/v1/petitions/{pid}/inclusion/5", {}, 400),
        ("get", f"/api/v1/petitions/{pid}/results", {}, 404),
        ("get", f"/api/v1/petitions/{pid}/tallies/77", {}, 404),
        ("post", "/api/v1/petitions", {"json": {"title": "t"}}, 401),
        ("post", "/api/v1/petitions", {"json": {"title": "", "action": "x"}, "headers": creator}, 400),
        ("post", "/api/v1/petitions", {"json": {"title": "t", "action": "x", "regions": ["mars"]},
                                       "headers": creator}, 400),
        ("post", "/api/v1/petitions", {"json": {"title": "t", "action": "x", "regions": []},
                                       "headers": creator}, 400),
        ("post", f"/api/v1/petitions/{pid}/credential", {"json": {"blinded_message": "xyz"},
                                                         "headers": eve}, 400),
        ("post", f"/api/v1/petitions/{pid}/credential", {"json": {"blinded_message": "00"},
                                                         "headers": citizen(papp, client, "f@example.org")}, 400),
        ("post", f"/api/v1/petitions/{pid}/moderation", {"json": {"decision": "maybe"},
                                                         "headers": moderator(papp, client, "m2@example.org")}, 400),
        ("post", "/api/v1/petitions/confirm-email/confirm", {"json": {"token": "nope-nope-nope"}}, 400),
        ("post", f"/api/v1/petitions/{pid}/tallies/1/partials", {"json": {"partial": {}},
                                                                "headers": creator}, 403),
    ]
    for method, url, kwargs, status in cases:
        r = getattr(client, method)(url, **kwargs)
        assert r.status_code == status, (url, kwargs.get("json"), r.get_json())
        assert r.is_json and "code" in r.get_json()["error"]
    assert info(client, pid)["board_size"] == 0
    assert client.post(f"/api/v1/petitions/{pid}/signatures", json=good).status_code == 201


def test_counts_are_batched_not_per_signature(papp, pclient):
    client = pclient
    pid, _ = open_petition(papp, client, moderator(papp, client))
    papp.config["PETITION_COUNT_MAX_AGE_S"] = 3600  # no refresh-on-read in this test
    from app.clock import now_ms
    from app.petitions.counts import refresh_counts
    from app.petitions.models import PetitionCount
    with papp.app_context():
        db = new_session(papp)
        db.get(PetitionCount, pid).refreshed_ms = now_ms()  # just refreshed: reads will not fold
        db.commit()
        db.close()
    for i in range(2):
        sign(client, citizen(papp, client, f"b{i}@example.org"), pid, "ulytau")
    with papp.app_context():
        db = new_session(papp)
        try:
            row = db.get(PetitionCount, pid)
            assert row.count == 0 and row.folded_size == 0  # the signing transactions left it alone
            assert refresh_counts(db) == 1
            row = db.get(PetitionCount, pid)
            assert row.count == 2 and row.folded_size == 2 and row.product_hex != "1"
            assert refresh_counts(db) == 0
        finally:
            db.close()
    data = info(client, pid)
    assert data["signatures"] == 2 and data["flags"]["response_threshold_reached"]
    assert not data["flags"]["debate_threshold_reached"]


def test_flagging_is_silent_and_invalidation_goes_on_the_board(papp, pclient):
    client = pclient
    papp.config["PETITION_FLAG_CREDENTIALS_PER_ADDRESS"] = 1
    papp.config["PETITION_FLAG_SIGNATURES_PER_ADDRESS"] = 1
    mod = moderator(papp, client)
    pid, _ = open_petition(papp, client, mod)
    regions = ["abai", "jetisu", "jetisu"]
    for i, region in enumerate(regions):
        sign(client, citizen(papp, client, f"x{i}@example.org"), pid, region)
    assert client.get("/api/v1/petitions/flags", headers=citizen(papp, client, "y@example.org")).status_code == 403
    flags = client.get("/api/v1/petitions/flags", headers=mod).get_json()["flags"]
    kinds = {f["kind"] for f in flags}
    # only the identified path (credential requests) is watched per address: the anonymous
    # signatures are never keyed on an address (docs §"Linkability")
    assert kinds == {"credential_burst"}
    public = json.dumps(info(client, pid)) + client.get(f"/api/v1/petitions/{pid}/board").get_data(as_text=True)
    assert "burst" not in public and "flag" not in public.replace('"flags"', "")
    target = 2
    assert client.post(f"/api/v1/petitions/{pid}/flags", json={"board_index": target,
                       "detail": "reported"}, headers=mod).status_code == 201  # a moderator's flag
    r = client.post(f"/api/v1/petitions/{pid}/invalidations",
                    json={"target_index": target, "reason_code": "fraud_suspected"}, headers=mod)
    assert r.status_code == 201 and r.get_json()["index"] == 3
    assert client.post(f"/api/v1/petitions/{pid}/invalidations",
                       json={"target_index": target, "reason_code": "fraud_suspected"},
                       headers=mod).status_code == 409
    assert client.post(f"/api/v1/petitions/{pid}/invalidations",
                       json={"target_index": 3, "reason_code": "fraud_suspected"},
                       headers=mod).status_code == 400
    board = _board(client, pid)
    assert board[3] == {"kind": "invalidation", "petition_id": f"petition:{pid}", "index": 3,
                        "target_index": 2, "reason_code": "fraud_suspected", "at": board[3]["at"]}
    data = info(client, pid)
    assert data["signatures"] == 2 and data["invalidated"] == 1 and data["board_size"] == 4
    result = verify_petition_board(_context(client, pid), board)
    assert result.ok and result.count == 2 and result.invalidated == {2}
    tally = client.post(f"/api/v1/petitions/{pid}/tallies", headers=mod).get_json()
    assert tally["encrypted"]["count"] == 2 and tally["encrypted"]["tree_size"] == 4
    out = _decrypt(client, pid, tally)
    assert out["results"]["counts"]["abai"] == 1 and out["results"]["counts"]["jetisu"] == 1
    statuses = {f["status"] for f in client.get("/api/v1/petitions/flags?status=all",
                                                headers=mod).get_json()["flags"] if f["board_index"] == 2}
    assert statuses == {"invalidated"}


def test_bad_partial_refused(papp, pclient):
    client = pclient
    mod = moderator(papp, client)
    pid, _ = open_petition(papp, client, mod)
    sign(client, citizen(papp, client, "z@example.org"), pid, "astana")
    tally = client.post(f"/api/v1/petitions/{pid}/tallies", headers=mod).get_json()
    et = EncryptedRegionTally.from_json(tally["encrypted"])
    share = trustee_shares()[0]
    wrong_fp = trustee_decrypt_regions(share, et, fingerprint=b"\x00" * 32)
    trustee = citizen(papp, client, "t@example.org", ("trustee",))
    r = client.post(f"/api/v1/petitions/{pid}/tallies/{tally['id']}/partials",
                    json={"partial": wrong_fp.to_json()}, headers=trustee)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_partial"
    fp = bytes.fromhex(info(client, pid)["fingerprint"])
    good = trustee_decrypt_regions(share, et, fingerprint=fp).to_json()
    assert client.post(f"/api/v1/petitions/{pid}/tallies/{tally['id']}/partials",
                       json={"partial": good}, headers=trustee).status_code == 201
    assert client.post(f"/api/v1/petitions/{pid}/tallies/{tally['id']}/partials",
                       json={"partial": good}, headers=trustee).status_code == 409


def test_html_pages(papp, pclient):
    client = pclient
    mod = moderator(papp, client)
    pid, _ = open_petition(papp, client, mod)
    assert client.get("/petitions/").status_code == 200
    assert "Plant more trees" in client.get("/petitions/?q=trees").get_data(as_text=True)
    page = client.get(f"/petitions/{pid}/sign").get_data(as_text=True)
    assert 'id="sign-app"' in page and f'data-credential-url="/api/v1/petitions/{pid}/credential"' in page
    assert client.get("/petitions/new").status_code == 302  # login first
    assert client.get("/petitions/moderation").status_code == 302
    assert client.get("/petitions/999").status_code == 404
    doc = client.get("/api/v1/openapi.json").get_json()
    assert "/petitions/{petition_id}/signatures" in doc["paths"]


def test_expired_petitions_close(papp, pclient):
    import datetime as dt

    from app.petitions import decisions
    client = pclient
    pid, _ = open_petition(papp, client, moderator(papp, client))
    with papp.app_context():
        db = new_session(papp)
        try:
            assert decisions.close_expired(db) == []
            later = dt.datetime.now(dt.UTC) + dt.timedelta(days=200)
            assert decisions.close_expired(db, later) == [pid]
            db.commit()
        finally:
            db.close()
    assert info(client, pid)["state"] == "closed"


@pytest.mark.postgres
def test_lifecycle_on_postgresql(tmp_path, issuer_test_key, pg_schema):
    from tests.conftest import PG_BASE_URL

    application = petition_app(PG_BASE_URL, tmp_path, issuer_test_key, schema=pg_schema)
    try:
        client = application.test_client()
        mod = moderator(application, client)
        pid, _ = open_petition(application, client, mod)
        for i, region in enumerate(["almaty", "almaty"]):
            sign(client, citizen(application, client, f"pg{i}@example.org"), pid, region)
        from tests.app.petitions_helpers import login
        status, _, _ = obtain_credential(client, login(client, "pg0@example.org"), pid)
        assert status == 409
        tally = client.post(f"/api/v1/petitions/{pid}/close", headers=mod).get_json()["tally"]
        out = _decrypt(client, pid, tally)
        assert out["results"]["counts"]["almaty"] == 2
    finally:
        get_engine(application).dispose()


def test_rate_limits_answer_429_json(tmp_path, issuer_test_key):
    application = petition_app(f"sqlite:///{tmp_path / 'rl.db'}", tmp_path, issuer_test_key,
                               RATELIMIT_ENABLED=True, PETITION_SIGN_LIMIT="2/minute",
                               PETITION_CREDENTIAL_LIMIT="1/minute")
    try:
        client = application.test_client()
        statuses = [client.post("/api/v1/petitions/1/signatures", json={}).status_code for _ in range(3)]
        assert statuses == [404, 404, 429]
        r = client.post("/api/v1/petitions/1/signatures", json={})
        assert r.is_json and r.get_json()["error"]["code"] == "rate_limited"
    finally:
        get_engine(application).dispose()


def test_background_count_worker(papp, pclient):
    from app.clock import now_ms
    from app.petitions.count_worker import start_count_worker
    from app.petitions.models import PetitionCount
    client = pclient
    pid, _ = open_petition(papp, client, moderator(papp, client))
    papp.config["PETITION_COUNT_MAX_AGE_S"] = 3600
    with papp.app_context():
        db = new_session(papp)
        db.get(PetitionCount, pid).refreshed_ms = now_ms()
        db.commit()
        db.close()
    sign(client, citizen(papp, client, "w@example.org"), pid, "aktobe")
    assert info(client, pid)["signatures"] == 0  # not folded yet
    stop = start_count_worker(papp, interval_s=0.05)
    try:
        import time
        deadline = time.monotonic() + 10
        while info(client, pid)["signatures"] != 1 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
    assert info(client, pid)["signatures"] == 1
