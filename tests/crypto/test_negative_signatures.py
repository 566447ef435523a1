"""Typed negative tests for the signature checks of crypto/: blind RSA (RFC 9474),
credentials, Ed25519 ballot signatures and signed tree heads — each naming its check.
"""

from __future__ import annotations

import dataclasses

import pytest

from crypto import blind_rsa as B
from crypto.credentials import (
    Credential,
    ballot_public_key_bytes,
    begin_credential,
    finish_credential,
    generate_ballot_key,
    issue_blind_signature,
    sign_payload,
    verify_credential,
    verify_payload_signature,
)
from crypto.errors import InvalidEncoding, InvalidKey, InvalidMerkleProof, InvalidSignature
from crypto.merkle import (
    MerkleLog,
    leaf_hash,
    make_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)
from crypto.tree_head import (
    BoardSigningKey,
    sign_tree_head,
    verify_receipt_inclusion,
    verify_tree_head,
)


@pytest.fixture(scope="module")
def sk(issuer_test_key) -> B.IssuerPrivateKey:
    return issuer_test_key


@pytest.fixture(scope="module")
def credential(sk):
    bsk = generate_ballot_key()
    blinded, state = begin_credential(sk.public_key(), "election:1", ballot_public_key_bytes(bsk))
    return bsk, finish_credential(sk.public_key(), state, issue_blind_signature(sk, blinded))


# --------------------------------------------------------------------------- blind RSA


def test_verify_signature_edges(sk) -> None:
    pk = sk.public_key()
    prepared = B.prepare(b"msg")
    k = pk.modulus_len
    with pytest.raises(InvalidSignature, match=f"signature must be {k} bytes"):
        B.verify(pk, prepared, b"")
    with pytest.raises(InvalidSignature, match=f"signature must be {k} bytes"):
        B.verify(pk, prepared, bytes(k + 1))
    for value in (pk.n, pk.n + 1, (1 << (8 * k)) - 1):
        with pytest.raises(InvalidSignature, match="signature representative out of range"):
            B.verify(pk, prepared, value.to_bytes(k, "big"))
    for value in (0, 1, pk.n - 1):
        with pytest.raises(InvalidSignature, match="signature does not verify"):
            B.verify(pk, prepared, value.to_bytes(k, "big"))


def test_finalize_edges(sk) -> None:
    pk = sk.public_key()
    prepared = B.prepare(b"msg")
    blinded, inv = B.blind(pk, prepared)
    blind_sig = B.blind_sign(sk, blinded)
    k = pk.modulus_len
    with pytest.raises(InvalidEncoding, match=f"blind signature must be {k} bytes"):
        B.finalize(pk, prepared, blind_sig[1:], inv)
    with pytest.raises(InvalidEncoding, match=r"blind signature out of range \(>= n\)"):
        B.finalize(pk, prepared, pk.n.to_bytes(k, "big"), inv)
    for bad_inv in (0, -1, pk.n, pk.n + 1):
        with pytest.raises(InvalidEncoding, match="blinding inverse out of range"):
            B.finalize(pk, prepared, blind_sig, bad_inv)
    with pytest.raises(InvalidSignature, match="signature does not verify"):
        B.finalize(pk, prepared + b"x", blind_sig, inv)


def test_blind_sign_edges(sk) -> None:
    pk = sk.public_key()
    k = pk.modulus_len
    with pytest.raises(InvalidEncoding, match=f"blinded message must be {k} bytes"):
        B.blind_sign(sk, bytes(k - 1))
    for value in (pk.n, pk.n + 1):
        with pytest.raises(InvalidEncoding, match=r"out of range \(z >= n\)"):
            B.blind_sign(sk, value.to_bytes(k, "big"))


def test_blind_injected_values(sk) -> None:
    pk = sk.public_key()
    prepared = B.prepare(b"msg")
    for r in (0, -1, pk.n, pk.n + 3):
        with pytest.raises(InvalidEncoding, match=r"blinding factor must be in Z\*_n"):
            B.blind(pk, prepared, r=r)
    with pytest.raises(InvalidEncoding, match="salt must be 48 bytes"):
        B.blind(pk, prepared, salt=bytes(47))
    with pytest.raises(InvalidEncoding, match="message randomizer must be 32 bytes"):
        B.prepare(b"msg", randomizer=bytes(31))


@pytest.mark.parametrize("n,e,message", [
    (1 << 2047 | 1, 2, "odd, >= 3 and < n"), (1 << 2047 | 1, 1, "odd, >= 3 and < n"),
    (1 << 2047 | 1, 1 << 2047 | 1, "odd, >= 3 and < n"), (1 << 2047, 65537, "odd and at least 2048"),
    ((1 << 2046) | 1, 65537, "odd and at least 2048"), (True, 65537, "modulus must be an integer"),
    (1 << 2047 | 1, True, "exponent must be an integer"),
])
def test_issuer_public_key_rejects(n, e, message) -> None:
    with pytest.raises(InvalidKey, match=message):
        B.IssuerPublicKey(n, e)


def test_wrong_issuer_key_fingerprint_differs(sk) -> None:
    pk = sk.public_key()
    other = B.IssuerPublicKey(pk.n, 3)
    assert other.fingerprint() != pk.fingerprint()
    with pytest.raises(InvalidEncoding, match=r"issuer_public_key: RSA public exponent"):
        B.IssuerPublicKey.from_json({"n": format(pk.n, "x"), "e": "2"})


# --------------------------------------------------------------------------- credentials


def test_credential_wrong_scope_and_key(sk, credential) -> None:
    _, cred = credential
    verify_credential(sk.public_key(), cred, "election:1")
    with pytest.raises(InvalidSignature, match="credential was issued for another scope"):
        verify_credential(sk.public_key(), cred, "election:2")
    moved = dataclasses.replace(cred, scope_id="election:2")
    with pytest.raises(InvalidSignature, match="signature does not verify"):
        verify_credential(sk.public_key(), moved, "election:2")
    other_key = bytes(reversed(cred.ballot_public_key))
    with pytest.raises((InvalidSignature, InvalidEncoding)):
        verify_credential(sk.public_key(), dataclasses.replace(cred, ballot_public_key=other_key),
                          "election:1")
    with pytest.raises(InvalidSignature, match="signature does not verify"):
        verify_credential(sk.public_key(), dataclasses.replace(cred, randomizer=bytes(32)),
                          "election:1")


@pytest.mark.parametrize("field,value,message", [
    ("scope_id", "", "scope_id must be a non-empty string"),
    ("ballot_public_key", bytes(31), "ballot public key must be 32 raw bytes"),
    ("randomizer", bytes(33), "randomizer must be 32 bytes"),
    ("signature", b"", "signature must be non-empty bytes"),
])
def test_credential_fields(credential, field, value, message) -> None:
    _, cred = credential
    with pytest.raises(InvalidEncoding, match=message):
        dataclasses.replace(cred, **{field: value})


def test_ed25519_payload_signature(credential) -> None:
    bsk, cred = credential
    sig = sign_payload(bsk, b"payload")
    verify_payload_signature(cred.ballot_public_key, b"payload", sig)
    with pytest.raises(InvalidSignature, match="ballot payload signature does not verify"):
        verify_payload_signature(cred.ballot_public_key, b"payloaD", sig)
    with pytest.raises(InvalidSignature, match="Ed25519 signature must be 64 bytes"):
        verify_payload_signature(cred.ballot_public_key, b"payload", sig[:63])
    with pytest.raises(InvalidSignature, match="ballot payload signature does not verify"):
        verify_payload_signature(ballot_public_key_bytes(generate_ballot_key()), b"payload", sig)
    with pytest.raises(InvalidEncoding, match="ballot public key must be 32 raw bytes"):
        verify_payload_signature(bytes(33), b"payload", sig)
    assert isinstance(cred, Credential)


# --------------------------------------------------------------------------- tree heads, Merkle


@pytest.fixture(scope="module")
def board() -> tuple[BoardSigningKey, MerkleLog]:
    log = MerkleLog(leaf_hash(bytes([i])) for i in range(7))
    return BoardSigningKey.generate(), log


def test_tree_head_signature_edges(board) -> None:
    key, log = board
    sth = sign_tree_head(key, "saylau/election/e", log.size, log.root(), timestamp=5)
    verify_tree_head(key.public_key_bytes(), sth)
    with pytest.raises(InvalidSignature, match="tree-head signature does not verify"):
        verify_tree_head(BoardSigningKey.generate().public_key_bytes(), sth)
    with pytest.raises(InvalidSignature, match="tree-head signature does not verify"):
        verify_tree_head(key.public_key_bytes(), dataclasses.replace(sth, tree_size=6))
    with pytest.raises(InvalidSignature, match="tree-head signature must be 64 bytes"):
        verify_tree_head(key.public_key_bytes(), dataclasses.replace(sth, signature=sth.signature[:-1]))
    with pytest.raises(InvalidSignature, match="malformed signed tree head"):
        verify_tree_head(key.public_key_bytes(), dataclasses.replace(sth, tree_size=-1))
    with pytest.raises(InvalidSignature, match="malformed signed tree head"):
        verify_tree_head(key.public_key_bytes(), dataclasses.replace(sth, root_hash=bytes(31)))
    with pytest.raises(InvalidKey, match="board public key must be 32 bytes"):
        verify_tree_head(bytes(31), sth)


def test_receipt_inclusion_edges(board) -> None:
    key, log = board
    sth = sign_tree_head(key, "saylau/election/e", log.size, log.root(), timestamp=5)
    proof = make_inclusion_proof(log, 3)
    verify_receipt_inclusion(key.public_key_bytes(), sth, log.leaf(3), proof)
    with pytest.raises(InvalidMerkleProof, match="inclusion proof does not lead to the root"):
        verify_receipt_inclusion(key.public_key_bytes(), sth, log.leaf(4), proof)
    smaller = make_inclusion_proof(log, 3, 6)
    with pytest.raises(InvalidMerkleProof, match="for another tree size than the STH"):
        verify_receipt_inclusion(key.public_key_bytes(), sth, log.leaf(3), smaller)


@pytest.mark.parametrize("index,size,message", [
    (7, 7, "leaf index is not below the tree size"), (-1, 7, r"leaf index must be an integer in \[0, 2\^64\)"),
    (0, 1 << 64, r"tree size must be an integer in \[0, 2\^64\)"), (0, 0, "not below the tree size"),
])
def test_inclusion_argument_edges(board, index, size, message) -> None:
    _, log = board
    with pytest.raises(InvalidMerkleProof, match=message):
        verify_inclusion(log.leaf(0), index, size, log.inclusion_proof(0), log.root())


def test_inclusion_path_length_edges(board) -> None:
    _, log = board
    path = log.inclusion_proof(2)
    with pytest.raises(InvalidMerkleProof, match="inclusion proof is too short"):
        verify_inclusion(log.leaf(2), 2, 7, path[:-1], log.root())
    with pytest.raises(InvalidMerkleProof, match="inclusion proof is too long"):
        verify_inclusion(log.leaf(2), 2, 7, path + [bytes(32)], log.root())
    with pytest.raises(InvalidMerkleProof, match="proof must be a list of at most 64 hashes"):
        verify_inclusion(log.leaf(2), 2, 7, [bytes(32)] * 65, log.root())
    with pytest.raises(InvalidMerkleProof, match="leaf hash must be a 32-byte hash"):
        verify_inclusion(bytes(33), 2, 7, path, log.root())


def test_consistency_edges(board) -> None:
    _, log = board
    proof = log.consistency_proof(3, 7)
    verify_consistency(3, 7, log.root(3), log.root(), proof)
    with pytest.raises(InvalidMerkleProof, match="old size is larger than new size"):
        verify_consistency(7, 3, log.root(), log.root(3), proof)
    with pytest.raises(InvalidMerkleProof, match="does not match the old root"):
        verify_consistency(3, 7, log.root(4), log.root(), proof)
    with pytest.raises(InvalidMerkleProof, match="does not match the new root"):
        verify_consistency(3, 7, log.root(3), log.root(6), proof)
    with pytest.raises(InvalidMerkleProof, match="consistency proof is empty"):
        verify_consistency(3, 7, log.root(3), log.root(), [])
    with pytest.raises(InvalidMerkleProof, match="between equal sizes must be empty"):
        verify_consistency(7, 7, log.root(), log.root(), proof)
    with pytest.raises(InvalidMerkleProof, match="tree heads of equal size have different roots"):
        verify_consistency(7, 7, log.root(), log.root(6), [])
