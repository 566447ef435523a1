"""Exact messages and bounds of crypto/tree_head.py outside ``tree_head_message``.

Written for the survivors of ``tools/mutate ... 'crypto/merkle.py crypto/tree_head.py'``
(docs/testing.md, "Mutation testing"): the JSON form of a signed tree head, the board
key's seed, and the errors of the verification functions.
"""

from __future__ import annotations

import re

import pytest

from crypto.errors import InvalidEncoding, InvalidKey, InvalidMerkleProof, InvalidSignature
from crypto.merkle import (
    ConsistencyProof,
    InclusionProof,
    MerkleLog,
    leaf_hash,
    make_consistency_proof,
    make_inclusion_proof,
)
from crypto.tree_head import (
    BoardSigningKey,
    SignedTreeHead,
    sign_tree_head,
    verify_receipt_inclusion,
    verify_tree_head,
    verify_tree_head_consistency,
)

SEED_HEX = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"  # RFC 8032 7.1 test 1
TOP = (1 << 64) - 1


def _exact(text: str) -> str:
    return "^" + re.escape(text) + "$"


@pytest.fixture(scope="module")
def key() -> BoardSigningKey:
    return BoardSigningKey.from_seed_hex(SEED_HEX)


def _log(n: int) -> MerkleLog:
    return MerkleLog(leaf_hash(b"entry %d" % i) for i in range(n))


def test_sth_json_bounds(key: BoardSigningKey) -> None:
    root = _log(3).root()
    for size, stamp in ((0, 0), (TOP, TOP), (0, TOP), (TOP, 0)):
        sth = sign_tree_head(key, "log", size, root, stamp)
        again = SignedTreeHead.from_json(sth.to_json())
        assert again == sth
        verify_tree_head(key.public_key_bytes(), again)


def test_sth_json_messages(key: BoardSigningKey) -> None:
    good = sign_tree_head(key, "log", 3, _log(3).root(), 7).to_json()
    cases: list[tuple[object, str]] = [
        ([], "signed_tree_head: expected a JSON object"),
        ({k: v for k, v in good.items() if k != "log_id"}, "signed_tree_head: missing field 'log_id'"),
        ({**good, "log_id": 5}, "signed_tree_head.log_id: expected str"),
        ({**good, "log_id": ""}, "signed_tree_head.log_id: empty"),
        ({k: v for k, v in good.items() if k != "tree_size"},
         "signed_tree_head: missing field 'tree_size'"),
        ({**good, "tree_size": "3"}, "signed_tree_head.tree_size: expected int"),
        ({**good, "tree_size": -1}, "signed_tree_head.tree_size: out of range"),
        ({**good, "tree_size": TOP + 1}, "signed_tree_head.tree_size: out of range"),
        ({k: v for k, v in good.items() if k != "timestamp"},
         "signed_tree_head: missing field 'timestamp'"),
        ({**good, "timestamp": True}, "signed_tree_head.timestamp: expected integer"),
        ({**good, "timestamp": -1}, "signed_tree_head.timestamp: out of range"),
        ({**good, "timestamp": TOP + 1}, "signed_tree_head.timestamp: out of range"),
        ({k: v for k, v in good.items() if k != "root_hash"},
         "signed_tree_head: missing field 'root_hash'"),
        ({**good, "root_hash": 1}, "signed_tree_head.root_hash: expected str"),
        ({**good, "root_hash": "AB" * 32}, "root_hash: expected lowercase hex bytes"),
        ({**good, "root_hash": "ab" * 31}, "root_hash: expected 32 bytes, got 31"),
        ({**good, "root_hash": "ab" * 64}, "root_hash: expected 32 bytes, got 64"),
        ({k: v for k, v in good.items() if k != "signature"},
         "signed_tree_head: missing field 'signature'"),
        ({**good, "signature": None}, "signed_tree_head.signature: expected str"),
        ({**good, "signature": "0"}, "signature: expected lowercase hex bytes"),
        ({**good, "signature": "ab" * 32}, "signature: expected 64 bytes, got 32"),
    ]
    for obj, message in cases:
        with pytest.raises(InvalidEncoding, match=_exact(message)):
            SignedTreeHead.from_json(obj)


def test_seed_hex_errors() -> None:
    message = _exact("board signing key: expected 32-byte seed in lowercase hex")
    for text, cause in (("00" * 31, "seed: expected 32 bytes, got 31"),
                        (SEED_HEX.upper(), "seed: expected lowercase hex bytes"),
                        (None, "seed: expected lowercase hex bytes")):
        with pytest.raises(InvalidKey, match=message) as info:
            BoardSigningKey.from_seed_hex(text)  # type: ignore[arg-type]
        assert isinstance(info.value.__cause__, InvalidEncoding)
        assert str(info.value.__cause__) == cause


def test_verify_tree_head_messages(key: BoardSigningKey) -> None:
    pk = key.public_key_bytes()
    sth = sign_tree_head(key, "log", 3, _log(3).root(), 7)
    for bad_key in (pk[:31], pk + b"\x00", pk.hex()):
        with pytest.raises(InvalidKey, match=_exact("board public key must be 32 bytes")):
            verify_tree_head(bad_key, sth)  # type: ignore[arg-type]
    cases = [
        (SignedTreeHead("", 3, sth.root_hash, 7, sth.signature), "malformed signed tree head"),
        (SignedTreeHead("log", 3, sth.root_hash, 7, sth.signature[:63]),
         "tree-head signature must be 64 bytes"),
        (SignedTreeHead("log", 3, sth.root_hash, 7, sth.signature.hex()),  # type: ignore[arg-type]
         "tree-head signature must be 64 bytes"),
        (SignedTreeHead("log", 3, sth.root_hash, 8, sth.signature),
         "tree-head signature does not verify"),
    ]
    for bad, message in cases:
        with pytest.raises(InvalidSignature, match=_exact(message)):
            verify_tree_head(pk, bad)


def test_receipt_and_consistency_messages(key: BoardSigningKey) -> None:
    pk = key.public_key_bytes()
    log = _log(9)
    sth = sign_tree_head(key, "log", 9, log.root(), 7)
    with pytest.raises(InvalidMerkleProof,
                       match=_exact("inclusion proof is for another tree size than the STH")):
        verify_receipt_inclusion(pk, sth, log.leaf(2), make_inclusion_proof(log, 2, 8))
    verify_receipt_inclusion(pk, sth, log.leaf(2), make_inclusion_proof(log, 2))
    assert isinstance(make_inclusion_proof(log, 2), InclusionProof)

    old = sign_tree_head(key, "log", 4, log.root(4), 1)
    other = sign_tree_head(key, "other-log", 9, log.root(), 7)
    proof = make_consistency_proof(log, 4, 9)
    assert isinstance(proof, ConsistencyProof)
    verify_tree_head_consistency(pk, old, sth, proof)
    with pytest.raises(InvalidMerkleProof, match=_exact("tree heads belong to different logs")):
        verify_tree_head_consistency(pk, old, other, proof)
    for wrong in (make_consistency_proof(log, 5, 9), make_consistency_proof(log, 4, 8)):
        with pytest.raises(InvalidMerkleProof,
                           match=_exact("consistency proof is for other tree sizes than the STHs")):
            verify_tree_head_consistency(pk, old, sth, wrong)
