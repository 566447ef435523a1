"""tally.petition: board verification, aggregation and the by-region threshold decryption."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.credentials import (
    ballot_public_key_bytes,
    begin_credential,
    finish_credential,
    generate_ballot_key,
    issue_blind_signature,
    sign_payload,
)
from crypto.election import Option
from crypto.encoding import canonical_json
from crypto.errors import DecryptionError, InvalidEncoding
from crypto.merkle import entry_leaf_hash
from crypto.petition import PetitionParameters, encrypt_signature, petition_fingerprint
from crypto.threshold import KeyShare, ThresholdPublicKey
from tally.petition import (
    EncryptedRegionTally,
    PetitionContext,
    aggregate,
    combine_regions,
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
REGIONS = tuple(Option(f"r{i}", f"Region {i}") for i in range(6))
PARAMS = PetitionParameters("petition:1", "Trees", REGIONS)


@pytest.fixture(scope="module")
def issuer(request: Any) -> Any:
    return request.getfixturevalue("issuer_test_key")


def _fp(issuer_sk: Any) -> bytes:
    return petition_fingerprint(PARAMS, TPK.to_json(), issuer_sk.public_key().to_json(), bytes(32))


def _entry(issuer_sk: Any, index: int, region: str, params: PetitionParameters = PARAMS) -> dict[str, Any]:
    ipk = issuer_sk.public_key()
    bsk = generate_ballot_key()
    blinded, state = begin_credential(ipk, params.petition_id, ballot_public_key_bytes(bsk))
    cred = finish_credential(ipk, state, issue_blind_signature(issuer_sk, blinded))
    sig, _ = encrypt_signature(PK, params, _fp(issuer_sk), cred.token_id, region)
    sj = sig.to_json()
    return {"kind": "signature", "petition_id": params.petition_id, "index": index,
            "credential": cred.to_json(), "signature": sj,
            "ed25519_signature": sign_payload(bsk, canonical_json(sj)).hex(), "signed_at": 1}


@pytest.fixture(scope="module")
def board(issuer: Any) -> list[dict[str, Any]]:
    return [_entry(issuer, i, r) for i, r in enumerate(["r0", "r2", "r2", "r5"])]


def _ctx(issuer: Any) -> PetitionContext:
    return PetitionContext(PARAMS, PK, issuer.public_key(), _fp(issuer))


@pytest.mark.parametrize("batch", [True, False])
def test_valid_board_counts_everything(issuer, board, batch):
    result = verify_petition_board(_ctx(issuer), board, batch=batch)
    assert result.ok and result.count == 4 and sorted(result.counted) == [0, 1, 2, 3]
    assert result.product == aggregate(PK, [result.counted[i] for i in range(4)])
    from crypto.merkle import root_hash
    assert result.root == root_hash([entry_leaf_hash(e) for e in board])


def _decrypt(issuer: Any, result: Any, size: int, trustees: tuple[int, ...] = (0, 2, 4)) -> Any:
    et = EncryptedRegionTally(PARAMS.petition_id, size, result.count, result.product)
    assert EncryptedRegionTally.from_json(et.to_json()) == et
    partials = [trustee_decrypt_regions(SHARES[i], et, fingerprint=_fp(issuer)) for i in trustees]
    return et, partials


def test_region_tally_decrypts_to_the_chosen_regions(issuer, board):
    result = verify_petition_board(_ctx(issuer), board)
    et, partials = _decrypt(issuer, result, len(board))
    out = combine_regions(TPK, PARAMS, et, partials, fingerprint=_fp(issuer))
    assert out.counts == {"r0": 1, "r1": 0, "r2": 2, "r3": 0, "r4": 0, "r5": 1}
    assert len(out.used) == 3 and out.to_json()["count"] == 4


def test_invalidation_is_excluded(issuer, board):
    inv = {"kind": "invalidation", "petition_id": "petition:1", "index": 4, "target_index": 1,
           "reason_code": "fraud_suspected", "at": 2}
    result = verify_petition_board(_ctx(issuer), board + [inv])
    assert result.ok and result.invalidated == {1} and sorted(result.counted) == [0, 2, 3]
    full = verify_petition_board(_ctx(issuer), board)
    assert remove(PK, full.product, full.counted[1]) == result.product
    et, partials = _decrypt(issuer, result, 5)
    out = combine_regions(TPK, PARAMS, et, partials, fingerprint=_fp(issuer))
    assert out.counts["r2"] == 1 and sum(out.counts.values()) == 3


@pytest.mark.parametrize("mutate,check", [
    (lambda b: b[1].__setitem__("index", 7), "entry-format"),
    (lambda b: b[1].__setitem__("petition_id", "petition:2"), "entry-format"),
    (lambda b: b[1].__setitem__("kind", "ballot"), "entry-format"),
    (lambda b: b[1]["credential"].__setitem__("signature", "00" * 256), "credential"),
    (lambda b: b[1].__setitem__("ed25519_signature", "11" * 64), "signature"),
    (lambda b: b[1]["signature"]["region"].__setitem__("ciphertext", b[2]["signature"]["region"]["ciphertext"]), "signature"),
    (lambda b: b.append(dict(copy.deepcopy(b[1]), index=4)), "token-reuse"),
    (lambda b: b.append({"kind": "invalidation", "petition_id": "petition:1", "index": 4,
                         "target_index": 9, "reason_code": "x", "at": 1}), "invalidation"),
    (lambda b: b.extend([{"kind": "invalidation", "petition_id": "petition:1", "index": 4,
                          "target_index": 0, "reason_code": "x", "at": 1},
                         {"kind": "invalidation", "petition_id": "petition:1", "index": 5,
                          "target_index": 0, "reason_code": "x", "at": 1}]), "invalidation"),
])
def test_tampered_boards_are_reported(issuer, board, mutate, check):
    b = copy.deepcopy(board)
    mutate(b)
    result = verify_petition_board(_ctx(issuer), b)
    assert not result.ok and check in {p.check for p in result.problems}, result.problems
    assert 1 not in result.counted or check in ("token-reuse", "invalidation")


def _signed_entry(issuer_sk: Any, index: int, region: str) -> tuple[dict[str, Any], Any]:
    ipk = issuer_sk.public_key()
    bsk = generate_ballot_key()
    blinded, state = begin_credential(ipk, PARAMS.petition_id, ballot_public_key_bytes(bsk))
    cred = finish_credential(ipk, state, issue_blind_signature(issuer_sk, blinded))
    sig, _ = encrypt_signature(PK, PARAMS, _fp(issuer_sk), cred.token_id, region)
    return {"kind": "signature", "petition_id": PARAMS.petition_id, "index": index,
            "credential": cred.to_json(), "signature": sig.to_json(), "signed_at": 1}, bsk


@pytest.mark.parametrize("field", ["z", "a"])
def test_forged_region_proof_caught_by_batch_and_single(issuer, board, field):
    """A well-signed entry whose proof was altered: only the proof check can catch it."""
    entry, bsk = _signed_entry(issuer, 2, "r1")
    values = entry["signature"]["region"]["proof"][field]
    values[1] = format(int(values[1], 16) + 2, "x")
    entry["ed25519_signature"] = sign_payload(bsk, canonical_json(entry["signature"])).hex()
    b = copy.deepcopy(board[:2]) + [entry] + copy.deepcopy(board[3:])
    for batch in (True, False):
        result = verify_petition_board(_ctx(issuer), b, batch=batch)
        assert 2 not in result.counted and sorted(result.counted) == [0, 1, 3]
        assert {(p.index, p.check) for p in result.problems} == {(2, "region-proof")}


def test_signature_from_another_petition_refused(issuer):
    other_params = PetitionParameters("petition:2", "Roads", REGIONS)
    entry = _entry(issuer, 0, "r0", other_params)
    entry["petition_id"] = "petition:1"
    result = verify_petition_board(_ctx(issuer), [entry])
    assert {p.check for p in result.problems} == {"credential"}


def test_combine_needs_k_valid_partials_and_matching_count(issuer, board):
    result = verify_petition_board(_ctx(issuer), board)
    et, partials = _decrypt(issuer, result, len(board))
    with pytest.raises(DecryptionError):
        combine_regions(TPK, PARAMS, et, partials[:2], fingerprint=_fp(issuer))
    wrong_ctx = EncryptedRegionTally(PARAMS.petition_id, 3, result.count, result.product)
    bad = [trustee_decrypt_regions(SHARES[1], wrong_ctx, fingerprint=_fp(issuer))]
    out = combine_regions(TPK, PARAMS, et, bad + partials, fingerprint=_fp(issuer))
    assert [i for i, _ in out.rejected] == [2]
    lying = EncryptedRegionTally(PARAMS.petition_id, len(board), 5, result.product)
    lying_partials = [trustee_decrypt_regions(SHARES[i], lying, fingerprint=_fp(issuer)) for i in (0, 1, 2)]
    with pytest.raises(DecryptionError, match="add up"):
        combine_regions(TPK, PARAMS, lying, lying_partials, fingerprint=_fp(issuer))
    elsewhere = EncryptedRegionTally("petition:9", len(board), 4, result.product)
    with pytest.raises(DecryptionError):
        combine_regions(TPK, PARAMS, elsewhere, partials, fingerprint=_fp(issuer))


def test_context_and_json_validation():
    assert region_tally_context("petition:1", 3) == ("petition_id", "petition:1", "tally", "regions",
                                                     "tree_size", "3")
    with pytest.raises(InvalidEncoding):
        EncryptedRegionTally.from_json({"petition_id": "p", "tree_size": 1, "count": 1})
    with pytest.raises(InvalidEncoding):
        EncryptedRegionTally.from_json({"petition_id": "p", "tree_size": 1, "count": 1, "ciphertext": "0x1"})


@given(st.lists(st.integers(min_value=0, max_value=5), min_size=0, max_size=5))
@settings(max_examples=8, deadline=None)
def test_packed_product_decrypts_to_counts(choices):
    """Direct encryptions (no credentials): the tally unpacks to the multiset of regions."""
    from crypto.paillier import encrypt
    cs = [encrypt(PK, PARAMS.encode(f"r{i}"))[0] for i in choices]
    product = aggregate(PK, cs)
    et = EncryptedRegionTally("petition:1", len(cs), len(cs), product)
    fp = b"\x01" * 32
    partials = [trustee_decrypt_regions(SHARES[i], et, fingerprint=fp) for i in (1, 2, 3)]
    out = combine_regions(TPK, PARAMS, et, partials, fingerprint=fp)
    assert out.counts == {f"r{i}": choices.count(i) for i in range(6)}
