"""Merkle log (RFC 6962 / 9162) and signed tree heads: vectors, properties, tampering."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.errors import InvalidEncoding, InvalidKey, InvalidMerkleProof, InvalidSignature
from crypto.merkle import (
    EMPTY_ROOT,
    ConsistencyProof,
    InclusionProof,
    MerkleLog,
    leaf_hash,
    make_consistency_proof,
    make_inclusion_proof,
    node_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)
from crypto.tree_head import (
    TREE_HEAD_DOMAIN,
    BoardSigningKey,
    SignedTreeHead,
    sign_tree_head,
    tree_head_message,
    verify_receipt_inclusion,
    verify_tree_head,
    verify_tree_head_consistency,
)

VECTORS = json.loads(
    (Path(__file__).resolve().parents[1] / "vectors" / "rfc6962-merkle-test-vectors.json").read_text()
)
LEAVES = [leaf_hash(bytes.fromhex(x)) for x in VECTORS["leaves"]]
# Fixed test key (RFC 8032 §7.1 TEST 1 secret key); public key is its known value.
SEED_HEX = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
PUBLIC_HEX = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"


# -- naive reference, straight from RFC 9162 §2.1 -------------------------------------
def ref_mth(d: list[bytes]) -> bytes:
    n = len(d)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return d[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:])).digest()


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return ref_path(m, d[:k]) + [ref_mth(d[k:])]
    return ref_path(m - k, d[k:]) + [ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return ref_subproof(m, d[:k], b) + [ref_mth(d[k:])]
    return ref_subproof(m - k, d[k:], False) + [ref_mth(d[:k])]


def make_leaves(n: int, salt: int = 0) -> list[bytes]:
    return [leaf_hash(f"entry-{salt}-{i}".encode()) for i in range(n)]


def flip(h: bytes, bit: int = 0) -> bytes:
    return bytes([h[0] ^ (1 << bit)]) + h[1:]


# -- vectors ------------------------------------------------------------------------
def test_hash_prefixes() -> None:
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    a, b = b"a" * 32, b"b" * 32
    assert node_hash(a, b) == hashlib.sha256(b"\x01" + a + b).digest()


def test_vector_empty_root() -> None:
    assert EMPTY_ROOT.hex() == VECTORS["empty_tree_root"]
    assert root_hash([]).hex() == VECTORS["empty_tree_root"]
    assert MerkleLog().root().hex() == VECTORS["empty_tree_root"]


@pytest.mark.parametrize("size", sorted(int(s) for s in VECTORS["roots_by_size"]))
def test_vector_roots(size: int) -> None:
    expected = VECTORS["roots_by_size"][str(size)]
    assert root_hash(LEAVES[:size]).hex() == expected
    assert MerkleLog(LEAVES).root(size).hex() == expected  # past size from a bigger log
    assert MerkleLog(LEAVES[:size]).root().hex() == expected


@pytest.mark.parametrize(
    "vec", VECTORS["inclusion_proofs"], ids=lambda v: f"{v['leaf_index']}-{v['tree_size']}"
)
def test_vector_inclusion(vec: dict) -> None:
    log = MerkleLog(LEAVES)
    i, n = vec["leaf_index"], vec["tree_size"]
    proof = log.inclusion_proof(i, n)
    assert [p.hex() for p in proof] == vec["proof"]
    root = bytes.fromhex(VECTORS["roots_by_size"][str(n)])
    verify_inclusion(LEAVES[i], i, n, [bytes.fromhex(p) for p in vec["proof"]], root)


@pytest.mark.parametrize(
    "vec", VECTORS["consistency_proofs"], ids=lambda v: f"{v['size1']}-{v['size2']}"
)
def test_vector_consistency(vec: dict) -> None:
    log = MerkleLog(LEAVES)
    m, n = vec["size1"], vec["size2"]
    proof = log.consistency_proof(m, n)
    assert [p.hex() for p in proof] == vec["proof"]
    old_root = bytes.fromhex(VECTORS["roots_by_size"][str(m)])
    new_root = bytes.fromhex(VECTORS["roots_by_size"][str(n)])
    verify_consistency(m, n, old_root, new_root, [bytes.fromhex(p) for p in vec["proof"]])
    with pytest.raises(InvalidMerkleProof):  # swapped roots
        verify_consistency(m, n, new_root, old_root, [bytes.fromhex(p) for p in vec["proof"]])


# -- properties ---------------------------------------------------------------------
@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=1, max_value=200), st.data())
def test_inclusion_all_leaves(n: int, data: st.DataObject) -> None:
    leaves = make_leaves(n)
    log = MerkleLog(leaves)
    size = data.draw(st.integers(min_value=1, max_value=n), label="size")
    root = log.root(size)
    assert root == ref_mth(leaves[:size])
    for i in range(size):
        proof = log.inclusion_proof(i, size)
        assert proof == ref_path(i, leaves[:size])
        verify_inclusion(leaves[i], i, size, proof, root)


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=1, max_value=200), st.data())
def test_consistency_all_old_sizes(n: int, data: st.DataObject) -> None:
    leaves = make_leaves(n, salt=1)
    log = MerkleLog(leaves)
    new = data.draw(st.integers(min_value=1, max_value=n), label="new")
    new_root = log.root(new)
    for m in range(0, new + 1):
        proof = log.consistency_proof(m, new)
        if 0 < m < new:
            assert proof == ref_subproof(m, leaves[:new], True)
        else:
            assert proof == []
        verify_consistency(m, new, log.root(m), new_root, proof)


@settings(max_examples=20, deadline=None)
@given(st.integers(min_value=2, max_value=120), st.data())
def test_inclusion_negative(n: int, data: st.DataObject) -> None:
    leaves = make_leaves(n, salt=2)
    log = MerkleLog(leaves)
    i = data.draw(st.integers(min_value=0, max_value=n - 1), label="i")
    proof = log.inclusion_proof(i, n)
    root = log.root()
    verify_inclusion(leaves[i], i, n, proof, root)
    if proof:
        j = data.draw(st.integers(min_value=0, max_value=len(proof) - 1), label="j")
        bit = data.draw(st.integers(min_value=0, max_value=7), label="bit")
        bad = list(proof)
        bad[j] = flip(bad[j], bit)
        with pytest.raises(InvalidMerkleProof):
            verify_inclusion(leaves[i], i, n, bad, root)
        with pytest.raises(InvalidMerkleProof):  # truncated
            verify_inclusion(leaves[i], i, n, proof[:-1], root)
    with pytest.raises(InvalidMerkleProof):  # extended
        verify_inclusion(leaves[i], i, n, [*proof, root], root)
    with pytest.raises(InvalidMerkleProof):  # wrong index
        verify_inclusion(leaves[i], (i + 1) % n, n, proof, root)
    with pytest.raises(InvalidMerkleProof):  # wrong leaf
        verify_inclusion(leaves[(i + 1) % n], i, n, proof, root)
    with pytest.raises(InvalidMerkleProof):  # wrong size (a deeper tree), same root
        verify_inclusion(leaves[i], i, 2 * n, proof, root)
    with pytest.raises(InvalidMerkleProof):  # index >= size
        verify_inclusion(leaves[i], i, i, proof, root)
    with pytest.raises(InvalidMerkleProof):  # wrong root
        verify_inclusion(leaves[i], i, n, proof, flip(root))


@settings(max_examples=20, deadline=None)
@given(st.integers(min_value=3, max_value=120), st.data())
def test_consistency_negative(n: int, data: st.DataObject) -> None:
    leaves = make_leaves(n, salt=3)
    log = MerkleLog(leaves)
    m = data.draw(st.integers(min_value=1, max_value=n - 1), label="m")
    proof = log.consistency_proof(m, n)
    old_root, new_root = log.root(m), log.root(n)
    verify_consistency(m, n, old_root, new_root, proof)
    j = data.draw(st.integers(min_value=0, max_value=len(proof) - 1), label="j")
    bad = list(proof)
    bad[j] = flip(bad[j], data.draw(st.integers(min_value=0, max_value=7), label="bit"))
    with pytest.raises(InvalidMerkleProof):
        verify_consistency(m, n, old_root, new_root, bad)
    with pytest.raises(InvalidMerkleProof):  # truncated
        verify_consistency(m, n, old_root, new_root, proof[:-1])
    with pytest.raises(InvalidMerkleProof):  # extended
        verify_consistency(m, n, old_root, new_root, [*proof, new_root])
    with pytest.raises(InvalidMerkleProof):  # swapped roots
        verify_consistency(m, n, new_root, old_root, proof)
    with pytest.raises(InvalidMerkleProof):  # sizes out of order
        verify_consistency(n, m, new_root, old_root, proof)
    with pytest.raises(InvalidMerkleProof):  # wrong new size
        verify_consistency(m, 2 * n, old_root, new_root, proof)
    # a board that rewrote one old entry cannot prove consistency with the old head
    rewritten = list(leaves)
    rewritten[data.draw(st.integers(min_value=0, max_value=m - 1), label="k")] = leaf_hash(b"x")
    forged = MerkleLog(rewritten)
    with pytest.raises(InvalidMerkleProof):
        verify_consistency(m, n, old_root, forged.root(), forged.consistency_proof(m, n))


def test_consistency_edge_cases() -> None:
    log = MerkleLog(make_leaves(5))
    r = log.root()
    verify_consistency(5, 5, r, r, [])
    verify_consistency(0, 5, EMPTY_ROOT, r, [])
    verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    with pytest.raises(InvalidMerkleProof):
        verify_consistency(5, 5, r, flip(r), [])
    with pytest.raises(InvalidMerkleProof):
        verify_consistency(5, 5, r, r, [r])
    with pytest.raises(InvalidMerkleProof):
        verify_consistency(0, 5, r, r, [])
    with pytest.raises(InvalidMerkleProof):
        verify_consistency(0, 5, EMPTY_ROOT, r, [r])
    with pytest.raises(InvalidMerkleProof):  # empty proof for 0 < m < n
        verify_consistency(2, 5, log.root(2), r, [])
    with pytest.raises(InvalidMerkleProof):  # dropped entries: old head bigger than new
        verify_consistency(5, 3, r, log.root(3), [])


def test_inclusion_edge_cases() -> None:
    log = MerkleLog(make_leaves(1))
    verify_inclusion(log.leaf(0), 0, 1, [], log.root())
    with pytest.raises(InvalidMerkleProof):
        verify_inclusion(log.leaf(0), 1, 1, [], log.root())  # index == size
    with pytest.raises(InvalidMerkleProof):
        verify_inclusion(log.leaf(0), 0, 0, [], EMPTY_ROOT)
    with pytest.raises(InvalidMerkleProof):
        verify_inclusion(log.leaf(0), -1, 1, [], log.root())
    with pytest.raises(InvalidMerkleProof):
        verify_inclusion(log.leaf(0)[:31], 0, 1, [], log.root())  # short hash
    with pytest.raises(InvalidMerkleProof):
        verify_inclusion(log.leaf(0), True, 2, [log.leaf(0)], log.root())  # bool index


def test_log_argument_errors() -> None:
    log = MerkleLog(make_leaves(4))
    with pytest.raises(ValueError):
        log.append(b"short")
    with pytest.raises(ValueError):
        log.root(5)
    with pytest.raises(ValueError):
        log.inclusion_proof(4, 4)
    with pytest.raises(ValueError):
        log.consistency_proof(3, 2)


def test_large_log_is_incremental() -> None:
    """~100k leaves: appends are O(1) amortised and proofs O(log^2 n)."""
    log = MerkleLog()
    t0 = time.perf_counter()
    for i in range(100_000):
        log.append(hashlib.sha256(i.to_bytes(4, "big")).digest())
    roots = {}
    for size in (99_999, 100_000):
        roots[size] = log.root(size)
    for i in (0, 31_337, 99_999):
        verify_inclusion(log.leaf(i), i, 100_000, log.inclusion_proof(i), roots[100_000])
    verify_consistency(
        99_999, 100_000, roots[99_999], roots[100_000], log.consistency_proof(99_999)
    )
    t1 = time.perf_counter()
    for _ in range(1000):
        log.inclusion_proof(54_321)
        log.root()
    assert time.perf_counter() - t1 < (t1 - t0) / 2  # O(n) per call would take ~1000x


# -- JSON forms ---------------------------------------------------------------------
def test_proof_json_roundtrip() -> None:
    log = MerkleLog(make_leaves(13))
    ip = make_inclusion_proof(log, 6)
    cp = make_consistency_proof(log, 7)
    assert InclusionProof.from_json(json.loads(json.dumps(ip.to_json()))) == ip
    assert ConsistencyProof.from_json(json.loads(json.dumps(cp.to_json()))) == cp
    assert ip.to_json()["path"][0] == ip.path[0].hex()
    ip.verify(log.leaf(6), log.root())
    cp.verify(log.root(7), log.root())
    bad = [
        {**ip.to_json(), "path": [ip.path[0].hex().upper()]},
        {**ip.to_json(), "path": ["00" * 31]},
        {**ip.to_json(), "leaf_index": -1},
        {**ip.to_json(), "tree_size": True},
        {k: v for k, v in ip.to_json().items() if k != "path"},
    ]
    for obj in bad:
        with pytest.raises(InvalidEncoding):
            InclusionProof.from_json(obj)
    with pytest.raises(InvalidEncoding):
        ConsistencyProof.from_json({**cp.to_json(), "old_size": "7"})


# -- signed tree heads ----------------------------------------------------------------
@pytest.fixture(scope="module")
def key() -> BoardSigningKey:
    return BoardSigningKey.from_seed_hex(SEED_HEX)


def test_key_storage(key: BoardSigningKey) -> None:
    assert key.public_key_bytes().hex() == PUBLIC_HEX
    assert key.to_seed_hex() == SEED_HEX
    assert SEED_HEX not in repr(key)
    fresh = BoardSigningKey.generate()
    assert BoardSigningKey.from_seed_hex(fresh.to_seed_hex()).public_key_bytes() == (
        fresh.public_key_bytes()
    )
    with pytest.raises(InvalidKey):
        BoardSigningKey.from_seed_hex("00" * 31)


def test_message_layout() -> None:
    root = bytes(range(32))
    msg = tree_head_message("election:é", 5, 1_700_000_000_000, root)
    assert msg == (
        b"saylau/v1/tree-head\x00"
        + (11).to_bytes(4, "big")
        + "election:é".encode()
        + (5).to_bytes(8, "big")
        + (1_700_000_000_000).to_bytes(8, "big")
        + root
    )
    assert msg.startswith(TREE_HEAD_DOMAIN) and len(TREE_HEAD_DOMAIN) == 20


def test_sign_verify_and_tamper(key: BoardSigningKey) -> None:
    log = MerkleLog(make_leaves(10))
    sth = sign_tree_head(key, "election:42", 10, log.root(), 1_700_000_000_000)
    pk = key.public_key_bytes()
    verify_tree_head(pk, sth)
    assert SignedTreeHead.from_json(json.loads(json.dumps(sth.to_json()))) == sth
    now = sign_tree_head(key, "petition:7", 10, log.root())
    assert abs(now.timestamp - time.time() * 1000) < 60_000
    verify_tree_head(pk, now)
    tampered = [
        SignedTreeHead(sth.log_id, 9, sth.root_hash, sth.timestamp, sth.signature),
        SignedTreeHead(
            sth.log_id, sth.tree_size, flip(sth.root_hash), sth.timestamp, sth.signature
        ),
        SignedTreeHead(sth.log_id, sth.tree_size, sth.root_hash, sth.timestamp + 1, sth.signature),
        SignedTreeHead("petition:42", sth.tree_size, sth.root_hash, sth.timestamp, sth.signature),
        SignedTreeHead(
            sth.log_id, sth.tree_size, sth.root_hash, sth.timestamp, flip(sth.signature)
        ),
        SignedTreeHead(sth.log_id, sth.tree_size, sth.root_hash, sth.timestamp, sth.signature[:63]),
        SignedTreeHead(sth.log_id, sth.tree_size, sth.root_hash[:31], sth.timestamp, sth.signature),
        SignedTreeHead(sth.log_id, -1, sth.root_hash, sth.timestamp, sth.signature),
    ]
    for bad in tampered:
        with pytest.raises(InvalidSignature):
            verify_tree_head(pk, bad)
    with pytest.raises(InvalidSignature):  # wrong key
        verify_tree_head(BoardSigningKey.generate().public_key_bytes(), sth)
    with pytest.raises(InvalidKey):
        verify_tree_head(pk[:31], sth)


def test_sth_json_rejects_malformed(key: BoardSigningKey) -> None:
    sth = sign_tree_head(key, "election:1", 0, EMPTY_ROOT, 0)
    good = sth.to_json()
    cases: tuple[object, ...] = (
        {**good, "signature": good["signature"][:-2]},
        {**good, "root_hash": good["root_hash"].upper()},
        {**good, "tree_size": 2**64},
        {**good, "timestamp": 1.5},
        {**good, "log_id": ""},
        {k: v for k, v in good.items() if k != "log_id"},
        [],
    )
    for obj in cases:
        with pytest.raises(InvalidEncoding):
            SignedTreeHead.from_json(obj)


def test_receipt_inclusion(key: BoardSigningKey) -> None:
    entries = [json.dumps({"tracker": i}).encode() for i in range(11)]
    log = MerkleLog(leaf_hash(e) for e in entries)
    sth = sign_tree_head(key, "election:1", log.size, log.root(), 1)
    pk = key.public_key_bytes()
    proof = make_inclusion_proof(log, 4)
    verify_receipt_inclusion(pk, sth, leaf_hash(entries[4]), proof)
    with pytest.raises(InvalidMerkleProof):
        verify_receipt_inclusion(pk, sth, leaf_hash(entries[5]), proof)
    with pytest.raises(InvalidMerkleProof):  # proof against another size
        verify_receipt_inclusion(pk, sth, leaf_hash(entries[4]), make_inclusion_proof(log, 4, 10))
    forged = SignedTreeHead(sth.log_id, sth.tree_size, sth.root_hash, 2, sth.signature)
    with pytest.raises(InvalidSignature):
        verify_receipt_inclusion(pk, forged, leaf_hash(entries[4]), proof)


def test_tree_head_consistency(key: BoardSigningKey) -> None:
    pk = key.public_key_bytes()
    leaves = make_leaves(20, salt=9)
    log = MerkleLog(leaves)
    old = sign_tree_head(key, "election:1", 12, log.root(12), 1)
    new = sign_tree_head(key, "election:1", 20, log.root(20), 2)
    verify_tree_head_consistency(pk, old, new, make_consistency_proof(log, 12, 20))
    with pytest.raises(InvalidMerkleProof):
        verify_tree_head_consistency(pk, old, new, make_consistency_proof(log, 11, 20))
    other = sign_tree_head(key, "petition:1", 20, log.root(20), 2)
    with pytest.raises(InvalidMerkleProof):
        verify_tree_head_consistency(pk, old, other, make_consistency_proof(log, 12, 20))
    # a board that dropped entry 3 and re-signed cannot link to the old head
    dropped = MerkleLog(leaves[:3] + leaves[4:])
    bad_new = sign_tree_head(key, "election:1", 19, dropped.root(), 3)
    with pytest.raises(InvalidMerkleProof):
        verify_tree_head_consistency(pk, old, bad_new, make_consistency_proof(dropped, 12, 19))
