"""Check plumbing shared by the election and the petition verifier.

The signed record index, the signed tree heads, the board's Merkle prefixes and a
voter's (or signer's) receipt; each check adds its result to a :class:`audit.report.Report`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from audit.record import BOARD, INDEX_FILE, TREE_HEADS, Record, verify_index
from audit.report import Report
from crypto.ballot import tracker_of
from crypto.encoding import hex_to_bytes, require
from crypto.errors import CryptoError, InvalidMerkleProof
from crypto.merkle import InclusionProof, entry_leaf_hash, node_hash, root_hash
from crypto.tree_head import SignedTreeHead, verify_receipt_inclusion, verify_tree_head


def prefix_roots(leaves: Sequence[bytes], sizes: set[int]) -> dict[int, bytes]:
    """``MTH(D[0:k])`` for every ``k`` in ``sizes`` in one pass (RFC 9162 §2.1.1).

    Keeps the perfect subtrees of the prefix on a stack; the root of the prefix is the
    right fold ``node(s_1, node(s_2, … s_m))``, which equals MTH's split at the
    largest power of two.
    """
    out: dict[int, bytes] = {}
    if 0 in sizes:
        out[0] = root_hash([])
    stack: list[tuple[int, bytes]] = []
    for k, leaf in enumerate(leaves, start=1):
        stack.append((1, leaf))
        while len(stack) > 1 and stack[-1][0] == stack[-2][0]:
            (size, right), (_, left) = stack.pop(), stack.pop()
            stack.append((2 * size, node_hash(left, right)))
        if k in sizes:
            acc = stack[-1][1]
            for _, h in reversed(stack[:-1]):
                acc = node_hash(h, acc)
            out[k] = acc
    return out


def _check_index(report: Report, record: Record, board_key: bytes | None) -> None:
    details: list[str] = []
    index = record.index
    files = index.get("files") if isinstance(index, dict) else None
    if not isinstance(files, dict):
        report.add("record-index", False, "record-index.json has no file list")
        return
    if board_key is None:
        details.append("no usable board key in election.json to check the index signature")
    else:
        try:
            verify_index(index, board_key, record.format)
        except CryptoError as exc:
            details.append(f"index signature: {exc}")
    for name in sorted(record.names() - {INDEX_FILE}):
        expected = files.get(name)
        actual = record.digests.get(name) or hashlib.sha256(record.raw[name]).hexdigest()
        if expected is None:
            details.append(f"{name} is not listed in the index")
        elif not isinstance(expected, str) or not hmac.compare_digest(
                expected.encode("utf-8", "surrogatepass"), actual.encode()):
            # bytes: compare_digest raises TypeError on str with non-ASCII characters
            details.append(f"{name}: SHA-256 differs from the signed index (file altered)")
    for name in sorted(set(files) - record.names()):
        details.append(f"{name} is listed in the index but missing")
    if details:
        report.add("record-index", False, "the signed record index does not match the files",
                   details)
    else:
        report.add("record-index", True,
                   f"index signed by the board key; {len(files)} file hashes match")


def _check_tree_heads(report: Report, record: Record, board_key: bytes,
                      log_id: str) -> list[SignedTreeHead]:
    details: list[str] = []
    heads: list[SignedTreeHead] = []
    try:
        published = record.log_id()
    except (CryptoError, KeyError, TypeError):
        published = ""
    if published != log_id:
        details.append(f"the record names log id {published!r}; this board's log id is {log_id!r}")
    raw = record.get(TREE_HEADS)
    if not isinstance(raw, list) or not raw:
        report.add("tree-heads", False, "no signed tree heads")
        return []
    for i, obj in enumerate(raw):
        try:
            sth = SignedTreeHead.from_json(obj)
        except CryptoError as exc:
            details.append(f"tree head {i}: malformed ({exc})")
            continue
        try:
            verify_tree_head(board_key, sth)
        except CryptoError as exc:
            details.append(f"tree head {i} (size {sth.tree_size}): {exc}")
        if sth.log_id != log_id:
            details.append(f"tree head {i}: log id {sth.log_id!r} is not {log_id!r}")
        if heads and (sth.tree_size < heads[-1].tree_size or sth.timestamp < heads[-1].timestamp):
            details.append(f"tree head {i}: size or time goes backwards")
        heads.append(sth)
    if details:
        report.add("tree-heads", False, "signed tree heads do not verify", details)
    else:
        report.add("tree-heads", True, f"{len(heads)} tree heads signed by the board key")
    return heads


def _check_merkle(report: Report, leaves: Sequence[bytes], heads: list[SignedTreeHead]
                  ) -> dict[int, bytes]:
    roots = prefix_roots(leaves, {h.tree_size for h in heads if h.tree_size <= len(leaves)}
                         | {len(leaves)})
    details: list[str] = []
    if not heads:
        report.add("board-merkle", False, "no tree head to compare the board with")
        return roots
    last = heads[-1]
    if last.tree_size != len(leaves):
        details.append(f"the last tree head covers {last.tree_size} entries; the board has "
                       f"{len(leaves)} (entries dropped or added)")
    for i, sth in enumerate(heads):
        root = roots.get(sth.tree_size)
        if root is None:
            details.append(f"tree head {i} (size {sth.tree_size}) is beyond the board's end")
        elif not hmac.compare_digest(root, sth.root_hash):
            details.append(f"tree head {i} (size {sth.tree_size}): root differs from the board "
                           "(entries rewritten or removed; not consistent)")
    if details:
        report.add("board-merkle", False, "the board does not match its signed tree heads",
                   details)
    else:
        report.add("board-merkle", True,
                   f"Merkle root of {len(leaves)} entries = last tree head; "
                   f"{len(heads)} tree heads consistent")
    return roots


def check_board_log(report: Report, record: Record, board_key: bytes, log_id: str
                    ) -> tuple[list[Any], list[bytes], list[SignedTreeHead], dict[int, bytes]]:
    """Checks "tree-heads" and "board-merkle": the board's entries, their leaves, the signed
    heads and the roots of every prefix a head names (an unhashable entry gets a zero leaf,
    so the Merkle check fails rather than the verifier)."""
    board = record.get(BOARD)
    if not isinstance(board, list):
        board = []
    leaves: list[bytes] = []
    for entry in board:
        try:
            leaves.append(entry_leaf_hash(entry))
        except CryptoError:
            leaves.append(b"\x00" * 32)
    heads = _check_tree_heads(report, record, board_key, log_id)
    roots = _check_merkle(report, leaves, heads)
    return board, leaves, heads, roots


def _check_receipt(report: Report, receipt: Mapping[str, Any], board: Sequence[Any],
                   leaves: Sequence[bytes], roots_of: Callable[[int], bytes | None],
                   board_key: bytes, log_id: str) -> None:
    details: list[str] = []
    try:
        sth = SignedTreeHead.from_json(receipt.get("tree_head"))
        proof = InclusionProof.from_json(receipt.get("inclusion_proof"))
        leaf = hex_to_bytes(receipt.get("leaf_hash"), "leaf_hash", 32)
        index = require(receipt, "index", int, "receipt")
    except (CryptoError, AttributeError) as exc:
        report.add("receipt", False, f"the receipt is malformed: {exc}")
        return
    try:
        verify_receipt_inclusion(board_key, sth, leaf, proof)
    except CryptoError as exc:
        details.append(f"receipt does not verify against its own tree head: {exc}")
    if sth.log_id != log_id:
        details.append("receipt's tree head is for another board")
    if proof.leaf_index != index:
        details.append("receipt index differs from its inclusion proof")
    if not 0 <= index < len(board):
        details.append(f"the board has no entry {index}: the receipt's ballot was DROPPED")
    elif not hmac.compare_digest(leaves[index], leaf):
        details.append(f"board entry {index} is not the receipt's ballot: it was DROPPED or "
                       "replaced")
    else:
        entry = board[index]
        tracker = receipt.get("tracker")
        ballot = entry.get("ballot") if isinstance(entry, dict) else None
        if tracker is not None and isinstance(ballot, dict) and tracker not in (
                tracker_of(ballot), leaf.hex()):
            details.append("receipt tracker does not match the ballot on the board")
    root = roots_of(sth.tree_size)
    if root is None:
        details.append("the receipt's tree head is beyond the published board")
    elif not hmac.compare_digest(root, sth.root_hash):
        details.append("the published board is not an extension of the receipt's tree head "
                       "(entries removed or rewritten)")
    if details:
        report.add("receipt", False, "the voter's receipt is not honoured by the record", details)
    else:
        report.add("receipt", True, f"ballot {index} is on the board, included as the receipt says")


def check_receipt_only(record: Record, receipt: Mapping[str, Any]) -> Report:
    """Just the receipt check (a voter's quick check; no ballot proofs)."""
    report = Report(record.source)
    board = record.get(BOARD) if isinstance(record.get(BOARD), list) else []
    leaves = [entry_leaf_hash(e) for e in board]
    try:
        board_key = record.board_public_key()
        log_id = record.log_id()
    except CryptoError as exc:
        raise InvalidMerkleProof(f"record has no usable board key: {exc}") from exc

    def root_of(size: int) -> bytes | None:
        return None if size > len(leaves) else prefix_roots(leaves, {size})[size]

    _check_receipt(report, receipt, board, leaves, root_of, board_key, log_id)
    return report


__all__ = ["check_receipt_only", "prefix_roots"]
