"""Every failure of ``verify_inclusion`` / ``verify_consistency`` with its exact message.

Written for the survivors of ``mutmut run 'crypto.merkle.*'`` in these two verification
functions (docs/testing.md): all were message texts or the names passed to the checks.
The second part covers the survivors of the second run: the request errors of
``MerkleLog``, ``copy``, the proof builders, the size and length bounds, and the JSON
form of the proofs.
"""

from __future__ import annotations

import hashlib
import re

import pytest

from crypto.errors import InvalidEncoding, InvalidMerkleProof
from crypto.merkle import (
    EMPTY_ROOT,
    ConsistencyProof,
    InclusionProof,
    MerkleLog,
    entry_leaf_hash,
    leaf_hash,
    make_consistency_proof,
    make_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)


def _exact(text: str) -> str:
    return "^" + re.escape(text) + "$"


def _log(n: int) -> MerkleLog:
    log = MerkleLog()
    for i in range(n):
        log.append(leaf_hash(b"entry %d" % i))
    return log


H = b"\x01" * 32


def _bad(message: str, fn, *args) -> None:  # noqa: ANN001
    with pytest.raises(InvalidMerkleProof, match=_exact(message)):
        fn(*args)


def test_inclusion_messages() -> None:
    log = _log(7)
    leaf, root, proof = log.leaf(3), log.root(), log.inclusion_proof(3)
    verify_inclusion(leaf, 3, 7, proof, root)
    _bad("leaf hash must be a 32-byte hash", verify_inclusion, b"x", 3, 7, proof, root)
    _bad("leaf index must be an integer in [0, 2^64)", verify_inclusion, leaf, -1, 7, proof, root)
    _bad("tree size must be an integer in [0, 2^64)", verify_inclusion, leaf, 3, True, proof, root)
    _bad("root hash must be a 32-byte hash", verify_inclusion, leaf, 3, 7, proof, b"r")
    _bad("leaf index is not below the tree size", verify_inclusion, leaf, 7, 7, proof, root)
    _bad("inclusion proof is too long", verify_inclusion, leaf, 3, 7, [*proof, H], root)
    _bad("inclusion proof is too short", verify_inclusion, leaf, 3, 7, proof[:-1], root)
    _bad("inclusion proof does not lead to the root", verify_inclusion,
         leaf_hash(b"other"), 3, 7, proof, root)


def test_consistency_messages() -> None:
    log = _log(7)
    old, new = log.root(3), log.root(7)
    proof = log.consistency_proof(3, 7)
    verify_consistency(3, 7, old, new, proof)
    _bad("old size must be an integer in [0, 2^64)", verify_consistency, -1, 7, old, new, proof)
    _bad("new size must be an integer in [0, 2^64)", verify_consistency, 3, "7", old, new, proof)
    _bad("old root must be a 32-byte hash", verify_consistency, 3, 7, b"o", new, proof)
    _bad("new root must be a 32-byte hash", verify_consistency, 3, 7, old, None, proof)
    _bad("old size is larger than new size", verify_consistency, 7, 3, new, old, proof)
    _bad("consistency proof between equal sizes must be empty",
         verify_consistency, 7, 7, new, new, [H])
    _bad("tree heads of equal size have different roots", verify_consistency, 7, 7, new, old, [])
    _bad("the empty tree's root is SHA-256('')", verify_consistency, 0, 0, H, H, [])
    _bad("consistency proof from the empty tree must be empty",
         verify_consistency, 0, 7, EMPTY_ROOT, new, [H])
    _bad("the empty tree's root is SHA-256('')", verify_consistency, 0, 7, H, new, [])
    _bad("consistency proof is empty", verify_consistency, 3, 7, old, new, [])
    _bad("consistency proof is too long", verify_consistency, 3, 7, old, new, [*proof, H])
    _bad("consistency proof is too short", verify_consistency, 3, 7, old, new, proof[:-1])
    _bad("consistency proof does not match the old root", verify_consistency, 3, 7, H, new, proof)
    _bad("consistency proof does not match the new root", verify_consistency, 3, 7, old, H, proof)
    verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    verify_consistency(0, 7, EMPTY_ROOT, new, [])


def test_tree_head_message_checks_and_bounds() -> None:
    from crypto.errors import InvalidEncoding
    from crypto.tree_head import tree_head_message

    top = (1 << 64) - 1
    msg = tree_head_message("log", top, top, H)
    assert msg.endswith(b"\x00\x00\x00\x03log" + b"\xff" * 16 + H)
    for bad_id in ("", 5, None):
        with pytest.raises(InvalidEncoding, match=_exact("log_id must be a non-empty string")):
            tree_head_message(bad_id, 1, 1, H)  # type: ignore[arg-type]
    for size in (-1, 1 << 64, True):
        with pytest.raises(InvalidEncoding,
                           match=_exact("tree_size must be an integer in [0, 2^64)")):
            tree_head_message("log", size, 1, H)
    for stamp in (-1, 1 << 64, False, "1"):
        with pytest.raises(InvalidEncoding,
                           match=_exact("timestamp must be an integer in [0, 2^64)")):
            tree_head_message("log", 1, stamp, H)  # type: ignore[arg-type]
    for root in (b"\x01" * 31, "00" * 32):
        with pytest.raises(InvalidEncoding, match=_exact("root_hash must be 32 bytes")):
            tree_head_message("log", 1, 1, root)  # type: ignore[arg-type]


def test_tree_head_message_log_id_length_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    # The real bound is 2^32 - 1 bytes (the u32 length prefix); lowered to test both sides.
    from crypto import tree_head
    from crypto.errors import InvalidEncoding

    monkeypatch.setattr(tree_head, "_U32_MAX", 3)
    assert tree_head.tree_head_message("abc", 1, 1, H)
    with pytest.raises(InvalidEncoding, match=_exact("log_id too long")):
        tree_head.tree_head_message("abcd", 1, 1, H)


# --------------------------------------------------------------------------- MerkleLog helpers
# (survivors of the second run: request errors of the log, ``copy``, the proof builders)


def _bad_request(message: str, fn, *args) -> None:  # noqa: ANN001
    with pytest.raises(ValueError, match=_exact(message)):
        fn(*args)


def test_log_request_errors_are_exact() -> None:
    log = _log(5)
    _bad_request("a leaf hash is 32 bytes", log.append, b"\x00" * 31)
    _bad_request("leaf index out of range", log.leaf, 5)
    _bad_request("leaf index out of range", log.leaf, -1)
    for size in (6, -1, True, "3"):
        _bad_request("tree size out of range", log.root, size)
    for index in (True, 5, -1, "1"):
        _bad_request("leaf index out of range", log.inclusion_proof, index)
    _bad_request("leaf index out of range", log.inclusion_proof, 3, 3)
    for old in (6, -1, True, "2"):
        _bad_request("old size out of range", log.consistency_proof, old)
    _bad_request("old size out of range", log.consistency_proof, 4, 3)
    assert log.leaf(4) == leaf_hash(b"entry 4")
    assert log.size == 5  # nothing was appended by the refused call


def test_copy_is_independent() -> None:
    log = _log(5)
    twin = log.copy()
    assert isinstance(twin, MerkleLog)
    assert twin.size == 5 and twin.root() == log.root()
    twin.append(leaf_hash(b"entry 5"))
    assert (log.size, twin.size) == (5, 6)
    assert log.root() == _log(5).root() and twin.root() == _log(6).root()
    log.append(leaf_hash(b"other"))
    assert twin.root() == _log(6).root()


def test_proof_builders_use_the_requested_size() -> None:
    log = _log(8)
    inc = make_inclusion_proof(log, 2, 5)
    assert inc == InclusionProof(2, 5, tuple(_log(5).inclusion_proof(2)))
    inc.verify(log.leaf(2), log.root(5))
    con = make_consistency_proof(log, 3, 6)
    assert con == ConsistencyProof(3, 6, tuple(_log(6).consistency_proof(3)))
    con.verify(log.root(3), log.root(6))
    assert make_inclusion_proof(log, 2) == InclusionProof(2, 8, tuple(log.inclusion_proof(2)))
    assert make_consistency_proof(log, 3) == ConsistencyProof(3, 8, tuple(log.consistency_proof(3)))


def test_entry_leaf_hash_is_leaf_of_canonical_json() -> None:
    # canonical_json({"b": [1, "x"], "a": 2}) = b'{"a":2,"b":[1,"x"]}'
    expected = hashlib.sha256(b'\x00{"a":2,"b":[1,"x"]}').digest()
    assert entry_leaf_hash({"b": [1, "x"], "a": 2}) == expected


# --------------------------------------------------------------------------- verification bounds


def test_largest_tree_size_and_longest_proof_are_accepted() -> None:
    top = (1 << 64) - 1
    leaf = leaf_hash(b"x")
    # 2^64 - 1 is a valid tree size: the check fails on the proof, not on the size.
    _bad("inclusion proof is too short", verify_inclusion, leaf, 0, top, [], H)
    # For leaf 0 of that tree the proof has exactly 64 hashes (the limit): it is read to the end.
    _bad("inclusion proof does not lead to the root", verify_inclusion, leaf, 0, top, [H] * 64, H)
    _bad("proof must be a list of at most 64 hashes", verify_inclusion, leaf, 0, top, [H] * 65, H)
    _bad("proof must be a list of at most 64 hashes", verify_inclusion, leaf, 0, 1, H, leaf)
    _bad("proof element must be a 32-byte hash", verify_inclusion, leaf, 0, 2, [b"\x01"], H)


# --------------------------------------------------------------------------- proof JSON


def _bad_json(message: str, cls, obj) -> None:  # noqa: ANN001
    with pytest.raises(InvalidEncoding, match=_exact(message)):
        cls.from_json(obj)


def test_proof_json_bounds() -> None:
    top = (1 << 64) - 1
    for cls, a, b in ((InclusionProof, "leaf_index", "tree_size"),
                      (ConsistencyProof, "old_size", "new_size")):
        for first, second in ((0, 0), (0, top), (top, top)):
            proof = cls.from_json({a: first, b: second, "path": ["01" * 32] * 64})
            assert (getattr(proof, a), getattr(proof, b), proof.path) == (first, second, (H,) * 64)


def test_proof_json_messages() -> None:
    for cls, where, a, b in ((InclusionProof, "inclusion_proof", "leaf_index", "tree_size"),
                             (ConsistencyProof, "consistency_proof", "old_size", "new_size")):
        good = {a: 1, b: 3, "path": ["01" * 32, "02" * 32]}
        assert cls.from_json(good).to_json() == good
        _bad_json(f"{where}: expected a JSON object", cls, [])
        _bad_json(f"{where}: missing field {a!r}", cls, {b: 3, "path": []})
        _bad_json(f"{where}.{a}: expected int", cls, {**good, a: "1"})
        _bad_json(f"{where}.{a}: out of range", cls, {**good, a: -1})
        _bad_json(f"{where}: missing field {b!r}", cls, {a: 1, "path": []})
        _bad_json(f"{where}.{b}: expected integer", cls, {**good, b: True})
        _bad_json(f"{where}.{b}: out of range", cls, {**good, b: 1 << 64})
        _bad_json(f"{where}: missing field 'path'", cls, {a: 1, b: 3})
        _bad_json(f"{where}.path: expected list", cls, {**good, "path": "01" * 32})
        _bad_json(f"{where}.path: too many hashes", cls, {**good, "path": ["01" * 32] * 65})
        _bad_json(f"{where}.path[1]: expected lowercase hex bytes", cls,
                  {**good, "path": ["01" * 32, "AB" * 32]})
        _bad_json(f"{where}.path[0]: expected 32 bytes, got 31", cls, {**good, "path": ["01" * 31]})
