"""Append-only Merkle log of the public bulletin board (RFC 6962 / RFC 9162, SHA-256).

Hashing (RFC 9162 §2.1.1)::

    MTH({})        = SHA-256("")
    leaf_hash(d)   = SHA-256(0x00 || d)
    node_hash(l,r) = SHA-256(0x01 || l || r)
    MTH(D[n])      = node_hash(MTH(D[0:k]), MTH(D[k:n]))   k = largest power of 2 < n

Proof generation follows RFC 9162 §2.1.3.1 (PATH) and §2.1.4.1 (PROOF / SUBPROOF);
verification is the iterative algorithm of §2.1.3.2 and §2.1.4.2, and every failure
raises :class:`crypto.errors.InvalidMerkleProof` (docs/protocol.md, "Bulletin board").
Board leaves are ``leaf_hash(canonical_json(entry))``; this module only sees hashes.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from crypto.encoding import (
    bytes_to_hex,
    canonical_json,
    canonical_json_reusing,
    hex_to_bytes,
    require,
)
from crypto.errors import InvalidEncoding, InvalidMerkleProof

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
#: MTH of the empty tree: SHA-256 of the empty string.
EMPTY_ROOT = hashlib.sha256(b"").digest()
#: Tree sizes are u64 on the wire (signed tree heads); proofs never exceed 64 hashes.
MAX_TREE_SIZE = (1 << 64) - 1
MAX_PROOF_LENGTH = 64


def leaf_hash(data: bytes) -> bytes:
    """``SHA-256(0x00 || data)`` (RFC 9162 §2.1.1)."""
    return hashlib.sha256(LEAF_PREFIX + bytes(data)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)`` (RFC 9162 §2.1.1)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def _is_power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def root_hash(leaf_hashes: Sequence[bytes]) -> bytes:
    """``MTH(D[n])`` over already-hashed leaves (O(n) hashes)."""
    log = MerkleLog()
    log.extend(leaf_hashes)
    return log.root()


class MerkleLog:
    """In-memory append-only log of leaf hashes with cached complete subtrees.

    ``_levels[h][i]`` is the hash of the complete subtree over leaves
    ``[i * 2^h, (i + 1) * 2^h)``; it never changes once the subtree is full, so the
    root of any past size and every proof cost O(log^2 n) hashes, not O(n).
    Arguments out of range raise :class:`ValueError` (a request error, not a proof).
    """

    __slots__ = ("_levels",)

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = [[]]
        self.extend(leaf_hashes)

    # -- appending ---------------------------------------------------------------
    def append(self, leaf: bytes) -> int:
        """Append a 32-byte leaf hash; return its 0-based index."""
        leaf = bytes(leaf)
        if len(leaf) != HASH_SIZE:
            raise ValueError("a leaf hash is 32 bytes")
        levels = self._levels
        index = len(levels[0])
        levels[0].append(leaf)
        level, i = 0, index
        while i & 1:  # the node just written completes a pair: hash it upward
            parent = node_hash(levels[level][i - 1], levels[level][i])
            level += 1
            if len(levels) == level:
                levels.append([])
            levels[level].append(parent)
            i >>= 1
        return index

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        for leaf in leaf_hashes:
            self.append(leaf)

    def copy(self) -> MerkleLog:
        """An independent copy (appending to it leaves this log unchanged); O(n) references."""
        twin = MerkleLog()
        twin._levels = [list(level) for level in self._levels]
        return twin

    @property
    def size(self) -> int:
        return len(self._levels[0])

    def __len__(self) -> int:
        return self.size

    def leaf(self, index: int) -> bytes:
        if not 0 <= index < self.size:
            raise ValueError("leaf index out of range")
        return self._levels[0][index]

    # -- subtree hashes ----------------------------------------------------------
    def _subtree(self, start: int, n: int) -> bytes:
        """``MTH(D[start:start+n])`` from the cache; O(log n) hashes."""
        if n == 0:
            return EMPTY_ROOT
        if _is_power_of_two(n) and start % n == 0:
            height = n.bit_length() - 1
            return self._levels[height][start >> height]
        k = _split(n)
        return node_hash(self._subtree(start, k), self._subtree(start + k, n - k))

    def _check_size(self, size: int | None) -> int:
        if size is None:
            return self.size
        if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= self.size:
            raise ValueError("tree size out of range")
        return size

    def root(self, size: int | None = None) -> bytes:
        """``MTH(D[0:size])`` (default: the current size)."""
        return self._subtree(0, self._check_size(size))

    # -- proofs ------------------------------------------------------------------
    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """``PATH(index, D[0:size])`` (RFC 9162 §2.1.3.1), leaf-to-root order."""
        n = self._check_size(size)
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < n:
            raise ValueError("leaf index out of range")
        path: list[bytes] = []
        start, m = 0, index
        while n > 1:  # walk root-to-leaf, collecting the sibling of each step
            k = _split(n)
            if m < k:
                path.append(self._subtree(start + k, n - k))
                n = k
            else:
                path.append(self._subtree(start, k))
                start, m, n = start + k, m - k, n - k
        path.reverse()
        return path

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """``PROOF(old_size, D[0:new_size])`` (RFC 9162 §2.1.4.1).

        Empty when ``old_size`` is 0 or equals ``new_size`` (nothing to prove).
        """
        n = self._check_size(new_size)
        if isinstance(old_size, bool) or not isinstance(old_size, int) or not 0 <= old_size <= n:
            raise ValueError("old size out of range")
        m = old_size
        if m == 0 or m == n:
            return []
        path: list[bytes] = []
        start, complete = 0, True  # SUBPROOF(m, D[start:start+n], complete)
        while m != n:
            k = _split(n)
            if m <= k:
                path.append(self._subtree(start + k, n - k))
                n = k
            else:
                path.append(self._subtree(start, k))
                start, m, n, complete = start + k, m - k, n - k, False
        if not complete:
            path.append(self._subtree(start, n))
        path.reverse()
        return path


# -- verification (RFC 9162 §2.1.3.2 and §2.1.4.2) --------------------------------
def _check_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_TREE_SIZE:
        raise InvalidMerkleProof(f"{name} must be an integer in [0, 2^64)")
    return value


def _check_hash(value: object, name: str) -> bytes:
    if not isinstance(value, bytes | bytearray) or len(value) != HASH_SIZE:
        raise InvalidMerkleProof(f"{name} must be a 32-byte hash")
    return bytes(value)


def _check_path(proof: Sequence[bytes]) -> list[bytes]:
    if isinstance(proof, bytes | bytearray | str) or len(proof) > MAX_PROOF_LENGTH:
        raise InvalidMerkleProof("proof must be a list of at most 64 hashes")
    return [_check_hash(p, "proof element") for p in proof]


def _equal(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)


def verify_inclusion(
    leaf: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf`` is at ``index`` in the tree of ``tree_size`` with ``root``.

    RFC 9162 §2.1.3.2; raises :class:`InvalidMerkleProof` on any failure.
    """
    r = _check_hash(leaf, "leaf hash")
    index = _check_int(index, "leaf index")
    tree_size = _check_int(tree_size, "tree size")
    root = _check_hash(root, "root hash")
    path = _check_path(proof)
    if index >= tree_size:  # step 1
        raise InvalidMerkleProof("leaf index is not below the tree size")
    fn, sn = index, tree_size - 1  # step 2
    for p in path:  # step 4
        if sn == 0:
            raise InvalidMerkleProof("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:  # step 5
        raise InvalidMerkleProof("inclusion proof is too short")
    if not _equal(r, root):
        raise InvalidMerkleProof("inclusion proof does not lead to the root")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree ``(new_size, new_root)`` extends ``(old_size, old_root)``.

    RFC 9162 §2.1.4.2 for ``0 < old_size < new_size``.  Edge cases (docs): equal sizes
    need an empty proof and equal roots; ``old_size == 0`` needs an empty proof and
    ``old_root == SHA-256("")``.  Raises :class:`InvalidMerkleProof` on any failure.
    """
    old_size = _check_int(old_size, "old size")
    new_size = _check_int(new_size, "new size")
    old_root = _check_hash(old_root, "old root")
    new_root = _check_hash(new_root, "new root")
    path = _check_path(proof)
    if old_size > new_size:
        raise InvalidMerkleProof("old size is larger than new size")
    if old_size == new_size:
        if path:
            raise InvalidMerkleProof("consistency proof between equal sizes must be empty")
        if not _equal(old_root, new_root):
            raise InvalidMerkleProof("tree heads of equal size have different roots")
        if old_size == 0 and not _equal(old_root, EMPTY_ROOT):
            raise InvalidMerkleProof("the empty tree's root is SHA-256('')")
        return
    if old_size == 0:
        if path:
            raise InvalidMerkleProof("consistency proof from the empty tree must be empty")
        if not _equal(old_root, EMPTY_ROOT):
            raise InvalidMerkleProof("the empty tree's root is SHA-256('')")
        return
    if not path:  # step 1
        raise InvalidMerkleProof("consistency proof is empty")
    if _is_power_of_two(old_size):  # step 2
        path = [old_root, *path]
    fn, sn = old_size - 1, new_size - 1  # step 3
    while fn & 1:  # step 4
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]  # step 5
    for c in path[1:]:  # step 6
        if sn == 0:
            raise InvalidMerkleProof("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:  # step 7
        raise InvalidMerkleProof("consistency proof is too short")
    if not _equal(fr, old_root):
        raise InvalidMerkleProof("consistency proof does not match the old root")
    if not _equal(sr, new_root):
        raise InvalidMerkleProof("consistency proof does not match the new root")


# -- serialised proofs --------------------------------------------------------------
def _size_from_json(obj: object, key: str, where: str) -> int:
    value = require(obj, key, int, where)
    if not 0 <= value <= MAX_TREE_SIZE:
        raise InvalidEncoding(f"{where}.{key}: out of range")
    return int(value)


def _path_from_json(obj: object, where: str) -> tuple[bytes, ...]:
    items = require(obj, "path", list, where)
    if len(items) > MAX_PROOF_LENGTH:
        raise InvalidEncoding(f"{where}.path: too many hashes")
    return tuple(hex_to_bytes(h, f"{where}.path[{i}]", HASH_SIZE) for i, h in enumerate(items))


@dataclass(frozen=True)
class InclusionProof:
    """``PATH(leaf_index, D[tree_size])`` (RFC 9162 §2.1.3)."""

    leaf_index: int
    tree_size: int
    path: tuple[bytes, ...]

    def verify(self, leaf: bytes, root: bytes) -> None:
        verify_inclusion(leaf, self.leaf_index, self.tree_size, self.path, root)

    def to_json(self) -> dict[str, Any]:
        return {
            "leaf_index": self.leaf_index,
            "tree_size": self.tree_size,
            "path": [bytes_to_hex(h) for h in self.path],
        }

    @classmethod
    def from_json(cls, obj: object) -> InclusionProof:
        where = "inclusion_proof"
        return cls(
            leaf_index=_size_from_json(obj, "leaf_index", where),
            tree_size=_size_from_json(obj, "tree_size", where),
            path=_path_from_json(obj, where),
        )


@dataclass(frozen=True)
class ConsistencyProof:
    """``PROOF(old_size, D[new_size])`` (RFC 9162 §2.1.4)."""

    old_size: int
    new_size: int
    path: tuple[bytes, ...]

    def verify(self, old_root: bytes, new_root: bytes) -> None:
        verify_consistency(self.old_size, self.new_size, old_root, new_root, self.path)

    def to_json(self) -> dict[str, Any]:
        return {
            "old_size": self.old_size,
            "new_size": self.new_size,
            "path": [bytes_to_hex(h) for h in self.path],
        }

    @classmethod
    def from_json(cls, obj: object) -> ConsistencyProof:
        where = "consistency_proof"
        return cls(
            old_size=_size_from_json(obj, "old_size", where),
            new_size=_size_from_json(obj, "new_size", where),
            path=_path_from_json(obj, where),
        )


def make_inclusion_proof(log: MerkleLog, index: int, size: int | None = None) -> InclusionProof:
    n = log.size if size is None else size
    return InclusionProof(index, n, tuple(log.inclusion_proof(index, n)))


def make_consistency_proof(
    log: MerkleLog, old_size: int, new_size: int | None = None
) -> ConsistencyProof:
    n = log.size if new_size is None else new_size
    return ConsistencyProof(old_size, n, tuple(log.consistency_proof(old_size, n)))


def entry_leaf_hash(entry: object, known: dict[str, bytes] | None = None) -> bytes:
    """The board leaf of one entry: ``leaf_hash(canonical_json(entry))`` (§3.1).

    ``known``: members whose canonical JSON the caller already made
    (:func:`crypto.encoding.canonical_json_reusing`; the same bytes, the same errors)."""
    if known and isinstance(entry, dict):
        return leaf_hash(canonical_json_reusing(entry, known))
    return leaf_hash(canonical_json(entry))
