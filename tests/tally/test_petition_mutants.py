"""tally.petition: the signature-entry check (every fault by check, exact message, typed
error), the board verifier's every refusal (exact problems), the region-tally JSON, the
differential-decryption rule at its bounds, and the by-region combination.

Written against the mutation run of 2026-11-29 (docs/testing.md "Mutation testing"): the
board tests (tests/tally/test_petition_tally.py) compared check names only.  Small keys: the
1024-bit threshold test key, the 2048-bit issuer test key, three regions.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import pytest

import tally.petition as tp
from crypto.blind_rsa import IssuerPrivateKey
from crypto.credentials import (
    ballot_public_key_bytes,
    begin_credential,
    finish_credential,
    generate_ballot_key,
    issue_blind_signature,
    sign_payload,
)
from crypto.election import Option
from crypto.encoding import canonical_json, hex_to_int, int_to_hex
from crypto.errors import (
    DecryptionError,
    InvalidBallot,
    InvalidCiphertext,
    InvalidEncoding,
    InvalidProof,
    InvalidSignature,
)
from crypto.merkle import entry_leaf_hash, root_hash
from crypto.paillier import encrypt
from crypto.petition import (
    EncryptedSignature,
    PetitionParameters,
    encrypt_signature,
    petition_fingerprint,
)
from crypto.threshold import KeyShare, ThresholdPublicKey
from tally.entry_checks import ciphertext_digest
from tally.petition import (
    MIN_TALLY_DIFFERENCE,
    DifferentialTally,
    EncryptedRegionTally,
    PetitionBoardResult,
    PetitionContext,
    Problem,
    RegionResult,
    SignatureCheck,
    aggregate,
    check_differential,
    check_signature_entry,
    combine_regions,
    counted_set,
    region_digest,
    region_tally_context,
    remove,
    trustee_decrypt_regions,
    verify_petition_board,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DOC = json.loads((FIXTURES / "threshold-test-key-1024-3of5.json").read_text())
TPK = ThresholdPublicKey.from_json(DOC["public_key"])
SHARES = [KeyShare.from_json(s) for s in DOC["shares"]]
PK = TPK.public
NN = PK.nsquare
ISSUER = IssuerPrivateKey.from_pem(
    json.loads((FIXTURES / "issuer-test-key-2048.json").read_text())["private_key_pem"].encode())
PARAMS = PetitionParameters("petition:1", "Trees", tuple(Option(f"r{i}", f"Region {i}")
                                                          for i in range(3)))
FP = petition_fingerprint(PARAMS, TPK.to_json(), ISSUER.public_key().to_json(), bytes(32))
CTX = PetitionContext(PARAMS, PK, ISSUER.public_key(), FP)
ED_FAILS = ("signature", "ballot payload signature does not verify")
Z_FAILS = ("region-proof", "region proof: verification equation z^n = ±a·u^e fails")


_KEYS: dict[str, Any] = {}  # credential signature -> the voter's Ed25519 key


@functools.cache
def _signed(index: int, region: str, scope: str = "petition:1") -> dict[str, Any]:
    bsk = generate_ballot_key()
    blinded, state = begin_credential(ISSUER.public_key(), scope, ballot_public_key_bytes(bsk))
    cred = finish_credential(ISSUER.public_key(), state, issue_blind_signature(ISSUER, blinded))
    sig, _ = encrypt_signature(PK, PARAMS, FP, cred.token_id, region)
    sj = sig.to_json()
    _KEYS[cred.to_json()["signature"]] = bsk
    return {"kind": "signature", "petition_id": "petition:1", "index": index,
            "credential": cred.to_json(), "signature": sj,
            "ed25519_signature": sign_payload(bsk, canonical_json(sj)).hex(), "signed_at": 1}


def _entry(index: int, region: str = "r1") -> dict[str, Any]:
    return copy.deepcopy(_signed(index, region))


def _board() -> list[dict[str, Any]]:
    return [_entry(0, "r0"), _entry(1, "r1"), _entry(2, "r1")]


def _resign(entry: dict[str, Any]) -> dict[str, Any]:
    """Sign ``entry``'s (changed) signature object again with its voter's key."""
    bsk = _KEYS[entry["credential"]["signature"]]
    entry["ed25519_signature"] = sign_payload(bsk, canonical_json(entry["signature"])).hex()
    return entry


def _ct(entry: dict[str, Any]) -> int:
    return hex_to_int(entry["signature"]["region"]["ciphertext"])


def _bump(entry: dict[str, Any], field: str) -> dict[str, Any]:
    values = entry["signature"]["region"]["proof"][field]
    values[0] = int_to_hex(hex_to_int(values[0]) + 1)
    return _resign(entry)


def _faults(out: SignatureCheck) -> list[tuple[int, str, str]]:
    return [(p.index, p.check, p.message) for p in out.faults]


def _problems(result: PetitionBoardResult) -> list[tuple[int, str, str]]:
    return [(p.index, p.check, p.message) for p in result.problems]


def _inv(index: int, target: object, reason: object = "fraud_suspected") -> dict[str, Any]:
    return {"kind": "invalidation", "petition_id": "petition:1", "index": index,
            "target_index": target, "reason_code": reason, "at": 2}


# ------------------------------------------------------------------ small parts


def test_small_parts() -> None:
    assert tp.ENTRY_KINDS == ("signature", "invalidation")
    assert region_tally_context("p", 7) == ("petition_id", "p", "tally", "regions",
                                            "tree_size", "7")
    assert str(Problem(3, "signature", "bad")) == "entry 3: signature: bad"
    assert PetitionBoardResult(0) == PetitionBoardResult(0, {}, set(), [], 1, b"")
    result = PetitionBoardResult(2, counted={0: 5, 1: 7})
    assert result.count == 2 and result.ok
    result.problems.append(Problem(0, "x", "y"))
    assert not result.ok
    assert SignatureCheck() == SignatureCheck([], None, None, None, [])
    assert SignatureCheck().ok and not SignatureCheck([Problem(0, "x", "y")]).ok


def test_aggregate_and_remove() -> None:
    a, b = encrypt(PK, 1)[0], encrypt(PK, 4)[0]
    assert aggregate(PK, []) == 1
    assert aggregate(PK, [a]) == a
    assert aggregate(PK, [a, b]) == a * b % NN
    assert remove(PK, a * b % NN, b) == a
    assert remove(PK, a, a) == 1
    for bad in (0, NN):
        with pytest.raises(InvalidCiphertext, match=r"^ciphertext is not in Z\*_\{n\^2\}$"):
            aggregate(PK, [a, bad])
        with pytest.raises(InvalidCiphertext, match=r"^ciphertext is not in Z\*_\{n\^2\}$"):
            remove(PK, a, bad)


def test_region_digest() -> None:
    entry = _entry(0, "r0")
    assert region_digest(PK.n, entry) == ciphertext_digest(PK.n, _ct(entry))
    with pytest.raises(InvalidEncoding, match="^ciphertext: expected canonical lowercase hex$"):
        region_digest(PK.n, {"signature": {"region": {"ciphertext": "0x1"}}})


@pytest.mark.parametrize(("entry", "message"), [
    (5, "^entry: expected a JSON object$"),
    ({}, "^entry: missing field 'signature'$"),
    ({"signature": 1}, r"^entry\.signature: expected dict$"),
    ({"signature": {}}, "^signature: missing field 'region'$"),
    ({"signature": {"region": 3}}, r"^signature\.region: expected dict$"),
    ({"signature": {"region": {}}}, r"^signature\.region: missing field 'ciphertext'$"),
    ({"signature": {"region": {"ciphertext": 5}}},
     r"^signature\.region\.ciphertext: expected str$"),
])
def test_region_digest_of_a_malformed_entry_is_typed(entry: object, message: str) -> None:
    """Its docstring promised InvalidEncoding; it raised KeyError / TypeError before."""
    with pytest.raises(InvalidEncoding, match=message):
        region_digest(PK.n, entry)  # type: ignore[arg-type]


# ------------------------------------------------------------------ check_signature_entry


@pytest.mark.parametrize("verify_proofs", [True, False])
def test_valid_signature_entry(verify_proofs: bool) -> None:
    entry = _entry(1)
    for position in (1, None):
        out = check_signature_entry(CTX, entry, position=position, verify_proofs=verify_proofs)
        assert out.ok and out.faults == [] and out.errors == []
        assert out.token == bytes.fromhex(entry["signature"]["token_id"])
        assert out.signature == EncryptedSignature.from_json(entry["signature"])
        assert (out.item is not None) is not verify_proofs
        if out.item is not None:
            assert out.item.c == _ct(entry) and out.item.allowed == PARAMS.allowed
    assert check_signature_entry(CTX, entry).ok  # default: proofs verified, no position


def _change(entry: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {**entry, **fields}


@pytest.mark.parametrize("make", [
    lambda e: 5,
    lambda e: [e],
    lambda e: _change(e, kind="invalidation"),
    lambda e: {k: v for k, v in e.items() if k != "kind"},
    lambda e: _change(e, petition_id="petition:2"),
    lambda e: _change(e, index=2),
    lambda e: _change(e, index=True),
])
def test_entry_format(make: Any) -> None:
    out = check_signature_entry(CTX, make(_entry(1)), position=1)
    assert _faults(out) == [(1, "entry-format", "index, kind or petition_id is wrong")]
    assert out.errors == [] and out.token is None and out.signature is None


def test_index_unchecked_without_a_position() -> None:
    assert check_signature_entry(CTX, _change(_entry(1), index=9)).ok
    out = check_signature_entry(CTX, _change(_entry(1), index=9), position=0)
    assert _faults(out) == [(0, "entry-format", "index, kind or petition_id is wrong")]


@pytest.mark.parametrize(("make", "fault", "error"), [
    (lambda e: _change(e, credential={"a": 1}),
     ("entry-format", "credential: credential: missing field 'scope_id'"), None),
    (lambda e: {k: v for k, v in e.items() if k != "credential"},
     ("entry-format", "credential: credential: expected a JSON object"), None),
    (lambda e: _change(e, credential={**e["credential"], "signature": "00" * 256}),
     ("credential", "RSABSSA-SHA384-PSS-Randomized signature does not verify"),
     InvalidSignature),
    (lambda e: _change(e, ed25519_signature="zz"),
     ("signature", "ed25519_signature: expected lowercase hex bytes"), InvalidEncoding),
    (lambda e: _change(e, ed25519_signature="00" * 63),
     ("signature", "ed25519_signature: expected 64 bytes, got 63"), InvalidEncoding),
    (lambda e: _change(e, ed25519_signature="00" * 65),
     ("signature", "ed25519_signature: expected 64 bytes, got 65"), InvalidEncoding),
    (lambda e: _change(e, ed25519_signature="00" * 64), ED_FAILS, InvalidSignature),
    (lambda e: _resign(_change(e, signature={**e["signature"], "x": 1})),
     ("entry-format", "signature: signature is not in canonical form"), InvalidEncoding),
    (lambda e: _resign(_change(e, signature=[1])),
     ("entry-format", "signature: signature: expected a JSON object"), InvalidEncoding),
    (lambda e: _resign(_change(e, signature={**e["signature"], "token_id": "zz"})),
     ("entry-format", "signature: signature.token_id: expected lowercase hex bytes"),
     InvalidEncoding),
])
def test_faults_before_the_signature_parses(make: Any, fault: tuple[str, str],
                                            error: type | None) -> None:
    out = check_signature_entry(CTX, make(_entry(1)), position=1)
    assert _faults(out) == [(1, *fault)]
    assert [type(e) for e in out.errors] == ([] if error is None else [error])
    if error is not None:
        assert str(out.errors[0]) == (fault[1].removeprefix("signature: ")
                                      if fault[0] == "entry-format" else fault[1])
    assert out.token is None and out.signature is None and out.item is None


def test_credential_for_another_scope() -> None:
    entry = copy.deepcopy(_signed(0, "r0", "petition:2"))
    out = check_signature_entry(CTX, entry, position=0)
    assert _faults(out) == [(0, "credential", "credential was issued for another scope")]
    assert [type(e) for e in out.errors] == [InvalidSignature]
    assert out.token is None and out.signature is None


def _sig(entry: dict[str, Any], **region: Any) -> dict[str, Any]:
    sig = copy.deepcopy(entry["signature"])
    sig["region"].update(region)
    return sig


@pytest.mark.parametrize(("make", "message", "error"), [
    (lambda e: _change(e, signature=_sig(e, ciphertext="0")),
     "region ciphertext: ciphertext is not in Z*_{n^2}", InvalidCiphertext),
    (lambda e: _change(e, signature={**e["signature"], "petition_id": "petition:2"}),
     "signature is for another petition", InvalidBallot),
    (lambda e: _change(e, signature={**e["signature"], "token_id": "00" * 32}),
     "signature token id does not match the credential", InvalidBallot),
])
def test_region_faults(make: Any, message: str, error: type) -> None:
    for verify_proofs in (True, False):
        entry = _resign(make(_entry(1)))
        out = check_signature_entry(CTX, entry, position=1, verify_proofs=verify_proofs)
        assert _faults(out) == [(1, "region-proof", message)]
        assert [type(e) for e in out.errors] == [error] and str(out.errors[0]) == message
        assert out.token is not None and out.signature is not None and out.item is None


def test_region_proof_response_and_challenge() -> None:
    entry = _bump(_entry(1), "z")
    out = check_signature_entry(CTX, entry, position=1)
    assert _faults(out) == [(1, *Z_FAILS)] and [type(e) for e in out.errors] == [InvalidProof]
    out = check_signature_entry(CTX, entry, position=1, verify_proofs=False)
    assert out.ok and out.item is not None  # left to the batch
    entry = _bump(_entry(1), "e")
    for verify_proofs in (True, False):
        out = check_signature_entry(CTX, entry, position=1, verify_proofs=verify_proofs)
        assert _faults(out) == [(1, "region-proof", "region proof: challenges do not sum to "
                                                    "the Fiat–Shamir challenge")]
        assert out.item is None


# ------------------------------------------------------------------ verify_petition_board


@pytest.mark.parametrize("batch", [True, False])
def test_valid_board(batch: bool) -> None:
    board = _board()
    result = verify_petition_board(CTX, board, batch=batch)
    assert result.ok and result.size == 3 and result.invalidated == set()
    assert result.counted == {i: _ct(e) for i, e in enumerate(board)}
    assert result.product == _ct(board[0]) * _ct(board[1]) * _ct(board[2]) % NN
    assert result.root == root_hash([entry_leaf_hash(e) for e in board])
    assert list(result.counted) == [0, 1, 2]


def test_empty_board() -> None:
    result = verify_petition_board(CTX, [])
    assert result == PetitionBoardResult(0, {}, set(), [], 1, root_hash([]))


def test_not_canonical_entry() -> None:
    board = _board()
    board[1] = {"x": 1.5}
    result = verify_petition_board(CTX, board)
    assert _problems(result) == [
        (1, "entry-format", "not canonical JSON: $.x: floats are not allowed in canonical JSON")]
    assert result.root == root_hash([entry_leaf_hash(board[0]), bytes(32),
                                     entry_leaf_hash(board[2])])
    assert sorted(result.counted) == [0, 2]


@pytest.mark.parametrize("make", [
    lambda e: 42,
    lambda e: _change(e, index=2),
    lambda e: _change(e, index=True),
    lambda e: _change(e, kind="ballot"),
    lambda e: _change(e, petition_id="petition:2"),
    lambda e: _change(_inv(1, 0), petition_id="petition:2"),
    lambda e: _change(_inv(1, 0), index=0),
])
def test_board_entry_format(make: Any) -> None:
    board = _board()
    board[1] = make(board[1])
    result = verify_petition_board(CTX, board)
    assert _problems(result) == [(1, "entry-format", "index, kind or petition_id is wrong")]
    assert sorted(result.counted) == [0, 2]


@pytest.mark.parametrize("inv", [
    _inv(3, "0"), _inv(3, True), _inv(3, False), _inv(3, -1), _inv(3, 3), _inv(3, 4),
    _inv(3, None), _inv(3, 1, reason=None), _inv(3, 1, reason=5),
    {k: v for k, v in _inv(3, 1).items() if k != "reason_code"},
])
def test_bad_invalidation(inv: dict[str, Any]) -> None:
    result = verify_petition_board(CTX, _board() + [inv])
    assert _problems(result) == [(3, "invalidation", "bad target or reason")]
    assert result.invalidated == set() and sorted(result.counted) == [0, 1, 2]


def test_invalidations() -> None:
    board = _board() + [_inv(3, 2), _inv(4, 0, "other")]
    result = verify_petition_board(CTX, board)
    assert result.ok and result.invalidated == {0, 2}
    assert result.counted == {1: _ct(board[1])}
    assert result.product == _ct(board[1])
    board.append(_inv(5, 0))
    board.append(_inv(6, 3))
    board.append(_inv(7, 7 - 1))
    result = verify_petition_board(CTX, board)
    assert _problems(result) == [(5, "invalidation", "target 0 is not a counted signature"),
                                 (6, "invalidation", "target 3 is not a counted signature"),
                                 (7, "invalidation", "target 6 is not a counted signature")]
    assert result.invalidated == {0, 2}


def test_invalidation_of_a_faulty_signature() -> None:
    board = _board()
    board[1]["ed25519_signature"] = "00" * 64
    board.append(_inv(3, 1))
    result = verify_petition_board(CTX, board)
    assert _problems(result) == [(1, *ED_FAILS),
                                 (3, "invalidation", "target 1 is not a counted signature")]
    assert result.invalidated == set() and sorted(result.counted) == [0, 2]


@pytest.mark.parametrize("batch", [True, False])
def test_token_reuse(batch: bool) -> None:
    board = _board()
    board.append(_change(copy.deepcopy(board[1]), index=3))
    board.append(_resign(_change(_bump(copy.deepcopy(board[0]), "z"), index=0)) | {"index": 4})
    result = verify_petition_board(CTX, board, batch=batch)
    assert _problems(result) == [(3, "token-reuse", "token already used by entry 1"),
                                 (4, "token-reuse", "token already used by entry 0")]
    assert sorted(result.counted) == [0, 1, 2]


@pytest.mark.parametrize("batch", [True, False])
def test_token_of_a_faulty_entry_is_used(batch: bool) -> None:
    board = _board()
    _bump(board[0], "e")
    board.append(_change(_entry(0, "r0"), index=3))
    result = verify_petition_board(CTX, board, batch=batch)
    assert _problems(result) == [
        (0, "region-proof", "region proof: challenges do not sum to the Fiat–Shamir challenge"),
        (3, "token-reuse", "token already used by entry 0")]
    assert sorted(result.counted) == [1, 2]


def test_faults_are_named_at_their_position() -> None:
    board = _board()
    board[2]["ed25519_signature"] = "00" * 64
    board[1]["credential"] = {"a": 1}
    result = verify_petition_board(CTX, board)
    assert _problems(result) == [
        (1, "entry-format", "credential: credential: missing field 'scope_id'"),
        (2, *ED_FAILS)]
    assert sorted(result.counted) == [0]


class _Spy:
    def __init__(self) -> None:
        self.calls: list[tuple[list[Any], dict[str, Any]]] = []

    def __call__(self, pk: Any, keyed: Any, **kw: Any) -> Any:
        self.calls.append((list(keyed), kw))
        return tp.board_batch_find(pk, keyed, **kw)


@pytest.fixture()
def spy(monkeypatch: pytest.MonkeyPatch) -> _Spy:
    s = _Spy()
    monkeypatch.setattr(tp, "board_batch_find", tp.find_invalid_parallel, raising=False)
    monkeypatch.setattr(tp, "find_invalid_parallel", s)
    return s


def test_batched_region_proofs(spy: _Spy) -> None:
    board = _board()
    _bump(board[2], "z")
    _bump(board[0], "z")
    result = verify_petition_board(CTX, board, workers=3)
    assert _problems(result) == [(0, "region-proof", "proof fails"),
                                 (2, "region-proof", "proof fails")]
    assert result.counted == {1: _ct(board[1])} and result.product == _ct(board[1])
    ((keyed, kw),) = spy.calls
    assert [k for k, _ in keyed] == [0, 1, 2] and all(len(items) == 1 for _, items in keyed)
    assert [items[0].c for _, items in keyed] == [_ct(e) for e in board]
    assert kw == {"workers": 3, "stage": "signature proofs"}
    result = verify_petition_board(CTX, board, batch=False)
    assert _problems(result) == [(0, *Z_FAILS), (2, *Z_FAILS)]
    assert len(spy.calls) == 1  # one by one: no batch


def test_no_batch_without_pending_signatures(spy: _Spy) -> None:
    board = _board()
    for e in board:
        e["ed25519_signature"] = "00" * 64
    result = verify_petition_board(CTX, board)
    assert _problems(result) == [(i, *ED_FAILS) for i in range(3)]
    assert spy.calls == [] and result.product == 1
    assert verify_petition_board(CTX, _board()[:1], workers=None).ok
    assert spy.calls[0][1] == {"workers": None, "stage": "signature proofs"}


# ------------------------------------------------------------------ region tally and decryption


def test_encrypted_region_tally_json() -> None:
    et = EncryptedRegionTally("petition:1", 5, 3, 77)
    assert et.context == region_tally_context("petition:1", 5)
    assert et.to_json() == {"petition_id": "petition:1", "tree_size": 5, "count": 3,
                            "ciphertext": int_to_hex(77)}
    assert EncryptedRegionTally.from_json(et.to_json()) == et


@pytest.mark.parametrize(("change", "message"), [
    ({"petition_id": None}, r"^region tally\.petition_id: expected str$"),
    ({"tree_size": "5"}, r"^region tally\.tree_size: expected int$"),
    ({"count": True}, r"^region tally\.count: expected integer$"),
    ({"ciphertext": 77}, r"^region tally\.ciphertext: expected str$"),
    ({"ciphertext": "0x4d"}, r"^ciphertext: expected canonical lowercase hex$"),
    ({"count": None, "petition_id": None}, r"^region tally\.petition_id: expected str$"),
])
def test_encrypted_region_tally_json_refused(change: dict[str, Any], message: str) -> None:
    obj = {**EncryptedRegionTally("petition:1", 5, 3, 77).to_json(), **change}
    with pytest.raises(InvalidEncoding, match=message):
        EncryptedRegionTally.from_json(obj)


def test_encrypted_region_tally_missing_field() -> None:
    for key in ("petition_id", "tree_size", "count", "ciphertext"):
        obj = EncryptedRegionTally("p", 5, 3, 77).to_json()
        del obj[key]
        with pytest.raises(InvalidEncoding, match=f"^region tally: missing field '{key}'$"):
            EncryptedRegionTally.from_json(obj)
    with pytest.raises(InvalidEncoding, match="^region tally: expected a JSON object$"):
        EncryptedRegionTally.from_json([])


def test_counted_set() -> None:
    entries: list[object] = [
        {"kind": "signature"}, 7, {"kind": "signature"}, {"kind": "invalidation", "target_index": 0},
        {"kind": "invalidation", "target_index": "2"}, {"kind": "signature"},
        {"kind": "invalidation", "target_index": 5}, {"kind": "other"},
    ]
    assert counted_set(entries, 8) == frozenset({2})
    assert counted_set(entries, 6) == frozenset({2, 5})
    assert counted_set(entries, 3) == frozenset({0, 2})
    assert counted_set(entries, 0) == frozenset()
    assert counted_set(entries, 100) == frozenset({2})
    # a JSON true is not the index 1 (the verifier refuses such an invalidation, §7.5)
    flagged: list[object] = [{"kind": "signature"}, {"kind": "signature"},
                             {"kind": "invalidation", "target_index": True}]
    assert counted_set(flagged, 3) == frozenset({0, 1})


def test_check_differential() -> None:
    assert MIN_TALLY_DIFFERENCE == 10
    s = frozenset(range(20))
    check_differential(s, [])
    check_differential(s, [s, frozenset(range(10)), frozenset(range(30))])
    with pytest.raises(DifferentialTally, match=r"^this tally differs from an already decrypted "
                       r"one by 9 signature\(s\) \(< K = 10\): decrypting it would reveal "
                       r"their regions$"):
        check_differential(s, [s, frozenset(range(11))])
    with pytest.raises(DifferentialTally, match=r"^this tally differs from an already decrypted "
                       r"one by 1 signature\(s\) \(< K = 10\)"):
        check_differential(s, [frozenset(range(21))])
    check_differential(s, [frozenset(range(18))], 2)
    with pytest.raises(DifferentialTally, match=r"by 1 signature\(s\) \(< K = 2\)"):
        check_differential(s, [frozenset(range(19))], 2)
    assert issubclass(DifferentialTally, tp.CryptoError)


def _tally(cs: list[int], size: int | None = None, count: int | None = None) -> EncryptedRegionTally:
    return EncryptedRegionTally("petition:1", len(cs) if size is None else size,
                                len(cs) if count is None else count, aggregate(PK, cs))


def test_trustee_decrypt_regions_applies_the_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    cs = [encrypt(PK, PARAMS.encode(r))[0] for r in ("r0", "r2", "r2")]
    et = _tally(cs)
    with pytest.raises(DifferentialTally, match="^the counted set does not match the tally's "
                                                "count$"):
        trustee_decrypt_regions(SHARES[0], et, fingerprint=FP, counted=frozenset({0, 1}))
    with pytest.raises(DifferentialTally, match=r"by 1 signature\(s\) \(< K = 10\)"):
        trustee_decrypt_regions(SHARES[0], et, fingerprint=FP, counted=frozenset({0, 1, 2}),
                                earlier=[frozenset({0, 1})])
    with pytest.raises(DifferentialTally, match=r"by 1 signature\(s\) \(< K = 2\)"):
        trustee_decrypt_regions(SHARES[0], et, fingerprint=FP, counted=frozenset({0, 1, 2}),
                                earlier=[frozenset({0, 1})], min_difference=2)
    seen: list[tuple[Any, ...]] = []
    monkeypatch.setattr(tp, "check_differential", lambda *a: seen.append(a))
    trustee_decrypt_regions(SHARES[0], et, fingerprint=FP, counted=frozenset({0, 1, 2}))
    assert seen == [(frozenset({0, 1, 2}), (), 10)]


def test_region_decryption() -> None:
    cs = [encrypt(PK, PARAMS.encode(r))[0] for r in ("r0", "r2", "r2")]
    et = _tally(cs, size=4)
    partials = [trustee_decrypt_regions(SHARES[i], et, fingerprint=FP,
                                        counted=frozenset({0, 1, 3}),
                                        earlier=[frozenset({0, 1, 3})]) for i in (0, 2, 4)]
    assert all(p.c_i == trustee_decrypt_regions(SHARES[i], et, fingerprint=FP).c_i
               for p, i in zip(partials, (0, 2, 4), strict=True))
    out = combine_regions(TPK, PARAMS, et, partials, fingerprint=FP)
    assert out == RegionResult("petition:1", 4, 3, {"r0": 1, "r1": 0, "r2": 2}, (1, 3, 5), ())
    assert out.to_json() == {"petition_id": "petition:1", "tree_size": 4, "count": 3,
                             "counts": {"r0": 1, "r1": 0, "r2": 2}, "trustees_used": [1, 3, 5]}
    # a partial for another tree size is rejected (the context is in its proof)
    other = trustee_decrypt_regions(SHARES[1], _tally(cs, size=3), fingerprint=FP)
    out = combine_regions(TPK, PARAMS, et, [other, *partials], fingerprint=FP)
    assert out.used == (1, 3, 5) and [i for i, _ in out.rejected] == [2]
    with pytest.raises(DecryptionError, match="^the tally is for another petition$"):
        combine_regions(TPK, PARAMS, EncryptedRegionTally("petition:9", 4, 3, et.c), partials,
                        fingerprint=FP)
    lying = _tally(cs, size=4, count=4)
    lying_partials = [trustee_decrypt_regions(SHARES[i], lying, fingerprint=FP) for i in (0, 1, 2)]
    with pytest.raises(DecryptionError, match="^the region counts do not add up to the number "
                                              "of signatures$"):
        combine_regions(TPK, PARAMS, lying, lying_partials, fingerprint=FP)


def test_overflowing_sum_is_a_decryption_error() -> None:
    c = encrypt(PK, 1 << (PARAMS.base_bits * 3))[0]
    et = _tally([c])
    partials = [trustee_decrypt_regions(SHARES[i], et, fingerprint=FP) for i in (0, 1, 2)]
    with pytest.raises(DecryptionError, match="^decrypted sum overflows the packed encoding$"):
        combine_regions(TPK, PARAMS, et, partials, fingerprint=FP)


def test_faults_without_a_position_are_at_minus_one() -> None:
    out = check_signature_entry(CTX, _change(_entry(1), ed25519_signature="00" * 64))
    assert _faults(out) == [(-1, *ED_FAILS)]
    out = check_signature_entry(CTX, _change(_entry(1), kind="ballot"))
    assert _faults(out) == [(-1, "entry-format", "index, kind or petition_id is wrong")]


def test_signature_parse_errors_are_kept_or_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A typed error of the signature's parser is kept as it is; any other is wrapped in
    InvalidEncoding with its text."""
    typed = InvalidBallot("typed")

    def raise_typed(obj: object) -> EncryptedSignature:
        raise typed

    monkeypatch.setattr(tp.EncryptedSignature, "from_json", staticmethod(raise_typed))
    out = check_signature_entry(CTX, _entry(1), position=1)
    assert _faults(out) == [(1, "entry-format", "signature: typed")] and out.errors == [typed]

    def raise_untyped(obj: object) -> EncryptedSignature:
        raise TypeError("untyped")

    monkeypatch.setattr(tp.EncryptedSignature, "from_json", staticmethod(raise_untyped))
    out = check_signature_entry(CTX, _entry(1), position=1)
    assert _faults(out) == [(1, "entry-format", "signature: untyped")]
    assert [type(e) for e in out.errors] == [InvalidEncoding] and str(out.errors[0]) == "untyped"


def test_board_goes_on_after_a_bad_invalidation() -> None:
    board = [_entry(0, "r0"), _entry(1, "r1"), _inv(2, 5), _entry(3, "r2")]
    result = verify_petition_board(CTX, board)
    assert _problems(result) == [(2, "invalidation", "bad target or reason")]
    assert sorted(result.counted) == [0, 1, 3]


def test_counted_set_only_invalidations_remove() -> None:
    entries: list[object] = [{"kind": "signature"}, {"kind": "other", "target_index": 0},
                             {"target_index": 0}, {"kind": "signature", "target_index": 0}]
    assert counted_set(entries, 4) == frozenset({0, 3})


@pytest.mark.parametrize("batch", [True, False])
def test_a_non_unit_commitment_is_named_though_the_batch_finds_it(batch: bool) -> None:
    """Commitment ``a_0 = n`` with challenges that match the transcript: the entry check
    leaves the proof's gcd tests to the batch equation; the report still names it."""
    from crypto.petition import DOMAIN_REGION, region_context
    from crypto.proofs import membership_challenge
    from crypto.transcript import CHALLENGE_BITS

    board = _board()
    region = board[1]["signature"]["region"]
    proof = region["proof"]
    c = hex_to_int(region["ciphertext"])
    a = [PK.n] + [hex_to_int(x) for x in proof["a"][1:]]
    token = bytes.fromhex(board[1]["signature"]["token_id"])
    e = membership_challenge(PK, DOMAIN_REGION, FP, region_context("petition:1", token), (c,), c,
                             PARAMS.allowed, a)
    proof["a"] = [int_to_hex(x) for x in a]
    proof["e"][1] = int_to_hex((e - sum(hex_to_int(x) for i, x in enumerate(proof["e"])
                                        if i != 1)) % (1 << CHALLENGE_BITS))
    _resign(board[1])
    result = verify_petition_board(CTX, board, batch=batch)
    assert result.problems == [Problem(1, "region-proof",
                                       "region proof: commitment not in Z*_{n^2}")]
    assert list(result.counted) == [0, 2]
