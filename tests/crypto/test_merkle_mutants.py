"""Every failure of ``verify_inclusion`` / ``verify_consistency`` with its exact message.

Written for the survivors of ``mutmut run 'crypto.merkle.*'`` in these two verification
functions (docs/testing.md): all were message texts or the names passed to the checks.
"""

from __future__ import annotations

import re

import pytest

from crypto.errors import InvalidMerkleProof
from crypto.merkle import EMPTY_ROOT, MerkleLog, leaf_hash, verify_consistency, verify_inclusion


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
