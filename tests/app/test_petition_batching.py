"""Group commit of petition signatures (app/petitions/batcher.py): concurrent requests share
one batched proof check, one transaction and one signed tree head; each gets its own result."""

from __future__ import annotations

import functools
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from app.db import get_engine, new_session
from app.errors import ApiError
from app.models import User, utcnow
from app.petitions import batcher, signing
from app.petitions.models import (
    PetitionBoardEntry,
    PetitionCitizen,
    PetitionFlag,
    PetitionRateEvent,
    PetitionTreeHead,
)
from crypto.blind_rsa import IssuerPublicKey
from crypto.credentials import ballot_public_key_bytes as bpk_bytes
from crypto.credentials import (
    begin_credential,
    finish_credential,
    generate_ballot_key,
    sign_payload,
)
from crypto.encoding import canonical_json, hex_to_int, int_to_hex
from crypto.merkle import InclusionProof
from crypto.petition import PetitionParameters, encrypt_signature
from crypto.threshold import ThresholdPublicKey
from crypto.tree_head import SignedTreeHead, verify_receipt_inclusion
from tests.app import test_petitions_flow as flow
from tests.app.petitions_helpers import (
    Wallet,
    info,
    make_user,
    moderator,
    open_petition,
    petition_app,
)

# The existing flow tests, run again with batching OFF (exactly today's path): they use this
# module's ``papp`` fixture below.
for _name in dir(flow):
    if _name.startswith("test_"):
        globals()[f"{_name}_unbatched"] = getattr(flow, _name)


@pytest.fixture()
def papp(tmp_path: Path, issuer_test_key: Any) -> Iterator[Any]:
    application = petition_app(f"sqlite:///{tmp_path / 'p.db'}", tmp_path, issuer_test_key,
                               PETITION_BATCH_ENABLED=False)
    yield application
    get_engine(application).dispose()


@pytest.fixture()
def pclient(papp: Any) -> Any:
    return papp.test_client()


def _app(tmp_path: Path, key: Any, **extra: Any) -> Any:
    config: dict[str, Any] = {"PETITION_BATCH_WAIT_MS": 300, "PETITION_BATCH_MAX": 32}
    config.update(extra)
    return petition_app(f"sqlite:///{tmp_path / 'b.db'}", tmp_path, key, **config)


@pytest.fixture()
def bapp(tmp_path: Path, issuer_test_key: Any) -> Iterator[Any]:
    application = _app(tmp_path, issuer_test_key)
    yield application
    get_engine(application).dispose()


class Petition:
    """An open petition, its public data, and citizens' credentials obtained directly."""

    def __init__(self, app: Any) -> None:
        self.app = app
        client = app.test_client()
        self.pid, _ = open_petition(app, client, moderator(app, client))
        self.data = info(client, self.pid)
        self.params = PetitionParameters.from_json(self.data["parameters"])
        self.pk = ThresholdPublicKey.from_json(self.data["election_public_key"]).public
        self.fp = bytes.fromhex(self.data["fingerprint"])
        self.ipk = IssuerPublicKey.from_json(self.data["issuer_public_key"])
        self.board_key = bytes.fromhex(self.data["board_public_key"])
        self._n = 0

    def wallet(self) -> Wallet:
        self._n += 1
        email = f"signer{self._n}.{self.pid}@example.org"
        make_user(self.app, email)
        with self.app.app_context():
            db = new_session(self.app)
            user_id = db.scalars(select(User.id).where(User.email == email)).one()
            db.add(PetitionCitizen(user_id=user_id, confirmed_at=utcnow()))
            db.commit()
            db.close()
            bsk = generate_ballot_key()
            blinded, state = begin_credential(self.ipk, self.data["scope_id"], bpk_bytes(bsk))
            blind_sig, _ = signing.issue_credential(self.app, self.pid, user_id, blinded, None)
        return Wallet(finish_credential(self.ipk, state, blind_sig), bsk)

    def payload(self, wallet: Wallet, region: str = "almaty", *, tamper: bool = False) -> dict[str, Any]:
        sig, _ = encrypt_signature(self.pk, self.params, self.fp, wallet.credential.token_id, region)
        sj = sig.to_json()
        if tamper:  # z_0 + 1: the challenges still sum up, the branch equation fails
            z = sj["region"]["proof"]["z"]
            z[0] = int_to_hex(hex_to_int(z[0]) + 1)
        return {"credential": wallet.credential.to_json(), "signature": sj,
                "ed25519_signature": sign_payload(wallet.ballot_key, canonical_json(sj)).hex()}

    def count(self, model: Any, *where: Any) -> int:
        db = new_session(self.app)
        try:
            return int(db.scalar(select(func.count()).select_from(model).where(
                model.petition_id == self.pid, *where)) or 0)
        finally:
            db.close()


def _concurrently(calls: list[Callable[[], Any]]) -> list[Any]:
    results: list[Any] = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run(i: int) -> None:
        barrier.wait()
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def _service(app: Any, pid: int, payload: dict[str, Any], addr: str = "203.0.113.7") -> Callable[[], tuple[int, Any]]:
    """Call the service function like the view does; ``(status, body)``."""
    def call() -> tuple[int, Any]:
        try:
            with app.app_context():
                return 201, signing.sign(app, pid, payload)
        except ApiError as exc:
            return exc.status, {"error": {"code": exc.code, "message": exc.message}}
    return call


class Server:
    """The app behind werkzeug's threaded server: truly concurrent HTTP requests."""

    def __init__(self, app: Any) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.server.server_port}"

    def post(self, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        req = urllib.request.Request(self.base + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join(10)


def test_twenty_concurrent_http_signatures_share_tree_heads(bapp):
    pet = Petition(bapp)
    payloads = [pet.payload(pet.wallet(), pet.params.region_ids[i % 20]) for i in range(20)]
    heads_before = pet.count(PetitionTreeHead)
    server = Server(bapp)
    try:
        path = f"/api/v1/petitions/{pet.pid}/signatures"
        results = _concurrently([functools.partial(server.post, path, p) for p in payloads])
    finally:
        server.close()
    assert [s for s, _ in results] == [201] * 20, results
    receipts = [body for _, body in results]
    assert sorted(r["index"] for r in receipts) == list(range(20))  # distinct and dense
    for r in receipts:
        sth = SignedTreeHead.from_json(r["tree_head"])
        assert r["index"] < sth.tree_size
        verify_receipt_inclusion(pet.board_key, sth, bytes.fromhex(r["leaf_hash"]),
                                 InclusionProof.from_json(r["inclusion_proof"]))
    assert pet.count(PetitionBoardEntry) == 20
    assert info(bapp.test_client(), pet.pid)["board_size"] == 20
    board = bapp.test_client().get(f"/api/v1/petitions/{pet.pid}/board?limit=500").get_json()["entries"]
    assert [e["index"] for e in board] == list(range(20))
    heads = pet.count(PetitionTreeHead) - heads_before
    assert 1 <= heads < 20  # batching happened: fewer signed heads than signatures
    assert len({r["tree_head"]["tree_size"] for r in receipts}) == heads
    assert pet.count(PetitionRateEvent, PetitionRateEvent.kind == "signature") == 0  # anonymous


def test_mixed_batch_valid_tampered_and_duplicate(bapp):
    pet = Petition(bapp)
    good = [pet.payload(pet.wallet()) for _ in range(5)]
    tampered = pet.payload(pet.wallet(), tamper=True)
    twin = pet.wallet()
    dup = [pet.payload(twin, "astana"), pet.payload(twin, "shymkent")]
    results = _concurrently([_service(bapp, pet.pid, p) for p in good + [tampered] + dup])
    assert [s for s, _ in results[:5]] == [201] * 5, results
    assert results[5][0] == 400 and results[5][1]["error"]["code"] == "invalid_proof"
    assert sorted(s for s, _ in results[6:]) == [201, 409], results[6:]
    loser = next(b for s, b in results[6:] if s == 409)
    assert loser["error"]["code"] == "already_signed"
    assert sorted(b["index"] for s, b in results if s == 201) == list(range(6))
    assert pet.count(PetitionBoardEntry) == 6
    # the same tampered signature is refused alike without batching (today's path)
    bapp.config["PETITION_BATCH_ENABLED"] = False
    status, body = _service(bapp, pet.pid, pet.payload(pet.wallet(), tamper=True))()
    assert status == 400 and body["error"]["code"] == "invalid_proof"


def test_conflict_with_the_board_fails_only_that_entry(bapp, monkeypatch):
    """A token that reaches the board between the pre-check and the batch (another process)."""
    pet = Petition(bapp)
    twin = pet.wallet()
    first, second = pet.payload(twin, "abai"), pet.payload(twin, "akmola")
    others = [pet.payload(pet.wallet()) for _ in range(2)]
    b = batcher.batcher_for(bapp, pet.pid)
    b.wait_s = 2.0  # hold the batch open while the "other process" appends
    outcome: list[Any] = []
    thread = threading.Thread(target=lambda: outcome.extend(
        _concurrently([_service(bapp, pet.pid, p) for p in [second, *others]])))
    thread.start()
    deadline = time.monotonic() + 10
    while len(b._queue) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(b._queue) == 3
    bapp.config["PETITION_BATCH_ENABLED"] = False  # the other process: unbatched
    assert _service(bapp, pet.pid, first)()[0] == 201
    thread.join(30)
    assert outcome[0][0] == 409 and outcome[0][1]["error"]["code"] == "already_signed"
    assert [s for s, _ in outcome[1:]] == [201, 201]
    assert sorted(body["index"] for _, body in outcome[1:]) == [1, 2]
    assert pet.count(PetitionBoardEntry) == 3


def test_failed_append_fails_every_waiter_and_commits_nothing(bapp, monkeypatch):
    pet = Petition(bapp)
    payloads = [pet.payload(pet.wallet()) for _ in range(4)]

    def broken(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(signing, "sign_head", broken)
    results = _concurrently([_service(bapp, pet.pid, p) for p in payloads])
    assert [s for s, _ in results] == [503] * 4, results
    assert pet.count(PetitionBoardEntry) == 0
    assert info(bapp.test_client(), pet.pid)["board_size"] == 0
    assert pet.count(PetitionRateEvent, PetitionRateEvent.kind == "signature") == 0
    monkeypatch.undo()
    results = _concurrently([_service(bapp, pet.pid, p) for p in payloads])  # retry works
    assert [s for s, _ in results] == [201] * 4, results
    assert sorted(b["index"] for _, b in results) == [0, 1, 2, 3]


def test_wait_timeout_is_503_and_records_nothing(tmp_path, issuer_test_key):
    app = _app(tmp_path, issuer_test_key, PETITION_BATCH_WAIT_MS=1000, PETITION_BATCH_TIMEOUT_S=0.1)
    try:
        pet = Petition(app)
        status, body = _service(app, pet.pid, pet.payload(pet.wallet()))()
        # 503 "timeout" (not 201) shows the request gave up before the batch came due;
        # no wall-clock assertion (timing belongs in benchmarks, not tests)
        assert status == 503 and body["error"]["code"] == "timeout"
        assert "did not record" in body["error"]["message"]
        time.sleep(1.2)  # the batch comes due: the cancelled signature is dropped
        assert pet.count(PetitionBoardEntry) == 0
    finally:
        get_engine(app).dispose()


def test_anonymous_signing_records_no_address_event(tmp_path, issuer_test_key):
    """Signing is anonymous: no rate event, no burst flag, nothing keyed on the address."""
    app = _app(tmp_path, issuer_test_key, PETITION_FLAG_SIGNATURES_PER_ADDRESS=0)
    try:
        pet = Petition(app)
        payloads = [pet.payload(pet.wallet()) for _ in range(4)]
        results = _concurrently([_service(app, pet.pid, p, "198.51.100.9") for p in payloads])
        assert [s for s, _ in results] == [201] * 4
        assert pet.count(PetitionRateEvent, PetitionRateEvent.kind == "signature") == 0
        assert pet.count(PetitionFlag, PetitionFlag.kind == "signature_burst") == 0
    finally:
        get_engine(app).dispose()


def test_disabled_batching_uses_no_batcher(papp):
    pet = Petition(papp)
    status, body = _service(papp, pet.pid, pet.payload(pet.wallet()))()
    assert status == 201 and body["tree_head"]["tree_size"] == 1
    assert "saylau_petition_batchers" not in papp.extensions


def test_closed_petition_fails_the_whole_batch(bapp, monkeypatch):
    pet = Petition(bapp)
    payloads = [pet.payload(pet.wallet()) for _ in range(3)]

    def closed(p: Any, now: Any = None) -> None:
        raise ApiError(409, "window_closed", "the petition's signing period has ended")

    real = signing._accepting
    calls = {"n": 0}

    def closing(p: Any, now: Any = None) -> None:  # open at the pre-check, closed at the append
        calls["n"] += 1
        if calls["n"] > 3:
            closed(p, now)
        real(p, now)

    monkeypatch.setattr(signing, "_accepting", closing)
    results = _concurrently([_service(bapp, pet.pid, p) for p in payloads])
    assert sorted(s for s, _ in results) == [409] * 3
    assert {b["error"]["code"] for _, b in results} == {"window_closed"}
    assert pet.count(PetitionBoardEntry) == 0


def test_a_batch_is_appended_with_a_constant_number_of_statements(papp):
    """append_signatures: one SELECT of the copy registry and one bulk INSERT per table for
    the whole batch, not one per signature; the receipts and the board are as before."""
    from sqlalchemy import event

    from app.petitions.models import Petition as PetitionRow
    from app.petitions.models import PetitionCiphertext

    pet = Petition(papp)
    payloads = [pet.payload(pet.wallet(), pet.params.region_ids[i]) for i in range(6)]
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    with papp.app_context():
        db = new_session(papp)
        try:
            row = db.get(PetitionRow, pet.pid)
            entries = [signing.prepare_signature(db, row, p)[2] for p in payloads]
            db.rollback()
            engine = get_engine(papp)
            event.listen(engine, "before_cursor_execute", count)
            try:
                receipts = signing.append_signatures(db, pet.pid, entries)
            finally:
                event.remove(engine, "before_cursor_execute", count)
        finally:
            db.close()
    assert [r["index"] for r in receipts] == list(range(6))
    sth = SignedTreeHead.from_json(receipts[0]["tree_head"])
    assert sth.tree_size == 6 and all(r["tree_head"] == receipts[0]["tree_head"] for r in receipts)
    for r in receipts:
        verify_receipt_inclusion(pet.board_key, sth, bytes.fromhex(r["leaf_hash"]),
                                 InclusionProof.from_json(r["inclusion_proof"]))
    assert pet.count(PetitionBoardEntry) == 6 and pet.count(PetitionCiphertext) == 6
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(inserts) == 3, [s[:60] for s in inserts]  # entries, ciphertexts, tree head
    assert len(selects) <= 6, [s[:70].replace("\n", " ") for s in selects]
    # the same ciphertexts again (a copied batch) are refused as a whole, nothing appended
    with papp.app_context():
        db = new_session(papp)
        try:
            with pytest.raises(ApiError, match="already on the petition's board") as info_:
                signing.append_signatures(db, pet.pid, [dict(e) for e in entries[:2]])
            assert info_.value.code == "ciphertext_reused"
        finally:
            db.close()
    assert pet.count(PetitionBoardEntry) == 6


@pytest.mark.parametrize("batched", [False, True])
def test_a_signature_runs_each_check_once(tmp_path: Path, issuer_test_key: Any,
                                          monkeypatch: pytest.MonkeyPatch, batched: bool) -> None:
    """The verifier's entry check is the signing path's, run once: before, a signature's
    credential (RSA) and Ed25519 signature were verified twice, its proof's shape and
    challenge three times, and the petition's keys parsed on every request."""
    import tally.petition as tally_petition

    application = _app(tmp_path, issuer_test_key, PETITION_BATCH_ENABLED=batched,
                       PETITION_BATCH_WAIT_MS=0)
    petition = Petition(application)
    payloads = [petition.payload(petition.wallet()) for _ in range(2)]
    calls: dict[str, int] = {}

    def counted(module: Any, name: str) -> None:
        real = getattr(module, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls[name] = calls.get(name, 0) + 1
            return real(*args, **kwargs)
        monkeypatch.setattr(module, name, wrapper)

    for name in ("verify_credential", "verify_payload_signature", "signature_proof_item"):
        counted(tally_petition, name)
    counted(signing, "election_key")
    for number, payload in enumerate(payloads):
        status, body = _service(application, petition.pid, payload)()
        assert status == 201, body
        expected = {"verify_credential": 1, "verify_payload_signature": 1,
                    "signature_proof_item": 1}
        if number == 0:  # the first signature of this process parses the petition's keys
            expected["election_key"] = calls.get("election_key", 0)
        assert calls == expected, (number, calls)
        calls.clear()
    get_engine(application).dispose()
