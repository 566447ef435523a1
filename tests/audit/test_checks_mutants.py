"""Unit tests of audit/checks.py written for mutation testing (issue #16): the record index,
tree-head, Merkle and receipt checks on small in-memory records, each result compared whole
(name, verdict, message, every detail in order)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from audit.checks import (
    _check_index,
    _check_merkle,
    _check_receipt,
    _check_tree_heads,
    check_board_log,
    check_receipt_only,
    prefix_roots,
)
from audit.record import Record
from audit.record_index import sign_index
from audit.record_io import parse_json
from audit.report import Check, Report
from crypto.ballot import tracker_of
from crypto.errors import InvalidMerkleProof
from crypto.merkle import MerkleLog, entry_leaf_hash, leaf_hash, make_inclusion_proof, root_hash
from crypto.tree_head import BoardSigningKey, SignedTreeHead, sign_tree_head
from tally.verify_board import check_entries

KEY = BoardSigningKey.from_seed_hex("11" * 32)
OTHER = BoardSigningKey.from_seed_hex("12" * 32)
PUB = KEY.public_key_bytes()
LOG = "saylau/election/e1"


# --- prefix_roots -----------------------------------------------------------------------


def test_prefix_roots_equal_the_root_of_each_prefix() -> None:
    leaves = [leaf_hash(bytes([i])) for i in range(9)]
    every = set(range(10))
    assert prefix_roots(leaves, every) == {k: root_hash(leaves[:k]) for k in every}
    assert prefix_roots(leaves, {3, 5}) == {3: root_hash(leaves[:3]), 5: root_hash(leaves[:5])}
    assert prefix_roots(leaves, {0}) == {0: root_hash([])}
    assert prefix_roots(leaves, set()) == {}
    assert prefix_roots([], {0, 1}) == {0: root_hash([])}


# --- _check_index -----------------------------------------------------------------------

_RAW = {"election.json": b"e", "board.json": b"b"}


def _indexed(raw: dict[str, bytes], index: Any) -> Record:
    return Record("src", {**raw, "record-index.json": b"{}"}, {"record-index.json": index})


def _index_check(record: Record, key: bytes | None = PUB) -> list[Check]:
    report = Report("src")
    _check_index(report, record, key)
    return report.checks


def test_index_that_matches() -> None:
    record = _indexed(_RAW, sign_index(_RAW, KEY))
    assert _index_check(record) == [
        Check("record-index", True, "index signed by the board key; 2 file hashes match")]


@pytest.mark.parametrize("index", [None, [], {"files": []}, {"format": "x"}])
def test_index_without_a_file_list(index: Any) -> None:
    record = Record("src", {**_RAW, "record-index.json": b"x"}, {"record-index.json": index})
    assert _index_check(record) == [
        Check("record-index", False, "record-index.json has no file list")]


def test_index_without_a_board_key_or_with_another_key() -> None:
    record = _indexed(_RAW, sign_index(_RAW, KEY))
    fail = "the signed record index does not match the files"
    assert _index_check(record, None) == [Check("record-index", False, fail, [
        "no usable board key in election.json to check the index signature"])]
    assert _index_check(record, OTHER.public_key_bytes()) == [Check("record-index", False, fail, [
        "index signature: record index signature does not verify under the board key"])]


def test_index_names_each_file_that_differs() -> None:
    index = sign_index(_RAW, KEY)
    index["files"]["board.json"] = hashlib.sha256(b"other").hexdigest()
    index["files"]["manifest.json"] = 5
    index["files"]["results.json"] = "00" * 32
    raw = {**_RAW, "manifest.json": b"m", "roll.json": b"r"}
    assert _index_check(_indexed(raw, index)) == [Check(
        "record-index", False, "the signed record index does not match the files", [
            "index signature: record index signature does not verify under the board key",
            "board.json: SHA-256 differs from the signed index (file altered)",
            "manifest.json: SHA-256 differs from the signed index (file altered)",
            "roll.json is not listed in the index",
            "results.json is listed in the index but missing",
        ])]


@pytest.mark.parametrize(("digest", "signature"), [
    ("é" * 64, "record index signature does not verify under the board key"),
    ("\ud800" * 64, "$: a string is not valid Unicode (lone surrogate)"),
], ids=["non-ascii", "lone-surrogate"])
def test_index_hash_that_is_not_ascii_is_a_mismatch(digest: str, signature: str) -> None:
    # Defect fixed (#16): hmac.compare_digest raised TypeError on a non-ASCII str, so such an
    # index stopped the verifier instead of failing the record-index check.
    index = sign_index(_RAW, KEY)
    index["files"]["board.json"] = digest
    assert _index_check(_indexed(_RAW, index), None) == [Check(
        "record-index", False, "the signed record index does not match the files", [
            "no usable board key in election.json to check the index signature",
            "board.json: SHA-256 differs from the signed index (file altered)"])]
    assert _index_check(_indexed(_RAW, index)) == [Check(
        "record-index", False, "the signed record index does not match the files", [
            f"index signature: {signature}", "board.json: SHA-256 differs from the signed index (file altered)"])]


def test_index_of_a_petition_record_is_checked_as_one() -> None:
    raw = {"petition.json": b"p", "board.json": b"b"}
    record = _indexed(raw, sign_index(raw, KEY))
    assert record.format == "saylau-petition-record/v1"
    assert _index_check(record) == [
        Check("record-index", True, "index signed by the board key; 2 file hashes match")]
    election = _indexed(raw, sign_index(raw, KEY, "saylau-election-record/v1"))
    assert _index_check(election) == [Check(
        "record-index", False, "the signed record index does not match the files",
        ["index signature: record index: format is not saylau-petition-record/v1"])]


def test_index_of_a_streamed_board_uses_its_digest() -> None:
    index = sign_index(_RAW, KEY)
    record = _indexed({"election.json": b"e"}, index)
    record.board_source = Path("record")
    record.digests["board.json"] = hashlib.sha256(b"b").hexdigest()
    assert _index_check(record) == [
        Check("record-index", True, "index signed by the board key; 2 file hashes match")]
    record.digests["board.json"] = hashlib.sha256(b"c").hexdigest()
    assert _index_check(record) == [Check(
        "record-index", False, "the signed record index does not match the files",
        ["board.json: SHA-256 differs from the signed index (file altered)"])]


# --- _check_tree_heads ------------------------------------------------------------------


def _heads_record(heads: Any, election: Any = None) -> Record:
    files = {"tree-heads.json": heads}
    if election is not None:
        files["election.json"] = election
    return Record("src", {}, files)


def _run_heads(record: Record) -> tuple[list[Check], list[SignedTreeHead]]:
    report = Report("src")
    heads = _check_tree_heads(report, record, PUB, LOG)
    return report.checks, heads


def _sth(size: int, ts: int, *, key: BoardSigningKey = KEY, log: str = LOG) -> SignedTreeHead:
    return sign_tree_head(key, log, size, bytes([size]) * 32, ts)


def test_tree_heads_that_verify() -> None:
    heads = [_sth(1, 5), _sth(1, 5), _sth(2, 6)]
    checks, out = _run_heads(_heads_record([h.to_json() for h in heads], {"log_id": LOG}))
    assert checks == [Check("tree-heads", True, "3 tree heads signed by the board key")]
    assert out == heads


@pytest.mark.parametrize("raw", [None, [], {"a": 1}])
def test_no_tree_heads(raw: Any) -> None:
    checks, out = _run_heads(_heads_record(raw, {"log_id": "other"}))
    assert checks == [Check("tree-heads", False, "no signed tree heads")]
    assert out == []


def test_tree_heads_details() -> None:
    good = _sth(2, 5)
    heads = [{"log_id": ""}, good.to_json(), _sth(3, 5, key=OTHER).to_json(),
             _sth(1, 6).to_json(), _sth(4, 4).to_json(), _sth(5, 7, log="other").to_json()]
    checks, out = _run_heads(_heads_record(heads, {"log_id": "other"}))
    assert checks == [Check("tree-heads", False, "signed tree heads do not verify", [
        "the record names log id 'other'; this board's log id is 'saylau/election/e1'",
        "tree head 0: malformed (signed_tree_head.log_id: empty)",
        "tree head 2 (size 3): tree-head signature does not verify",
        "tree head 3: size or time goes backwards",
        "tree head 4: size or time goes backwards",
        "tree head 5: log id 'other' is not 'saylau/election/e1'",
    ])]
    assert [h.tree_size for h in out] == [2, 3, 1, 4, 5]


@pytest.mark.parametrize("election", [None, {"log_id": 5}, {"board_key": "x"}])
def test_tree_heads_of_a_record_without_a_log_id(election: Any) -> None:
    checks, _ = _run_heads(_heads_record([_sth(1, 1).to_json()], election))
    assert checks == [Check("tree-heads", False, "signed tree heads do not verify", [
        "the record names log id ''; this board's log id is 'saylau/election/e1'"])]


# --- _check_merkle ----------------------------------------------------------------------

_LEAVES = [leaf_hash(bytes([i])) for i in range(3)]


def _head(size: int, root: bytes | None = None) -> SignedTreeHead:
    return SignedTreeHead(LOG, size, root_hash(_LEAVES[:size]) if root is None else root, 1,
                          b"\x00" * 64)


def _run_merkle(heads: list[SignedTreeHead]) -> tuple[list[Check], dict[int, bytes]]:
    report = Report("src")
    roots = _check_merkle(report, _LEAVES, heads)
    return report.checks, roots


def test_merkle_without_heads() -> None:
    assert _run_merkle([]) == (
        [Check("board-merkle", False, "no tree head to compare the board with")],
        {3: root_hash(_LEAVES)})


def test_merkle_that_matches() -> None:
    assert _run_merkle([_head(1), _head(3)]) == (
        [Check("board-merkle", True,
               "Merkle root of 3 entries = last tree head; 2 tree heads consistent")],
        {1: root_hash(_LEAVES[:1]), 3: root_hash(_LEAVES)})


def test_merkle_details() -> None:
    fail = "the board does not match its signed tree heads"
    checks, roots = _run_merkle([_head(1, b"\x01" * 32), _head(4, b"\x02" * 32), _head(2)])
    assert checks == [Check("board-merkle", False, fail, [
        "the last tree head covers 2 entries; the board has 3 (entries dropped or added)",
        "tree head 0 (size 1): root differs from the board (entries rewritten or removed; "
        "not consistent)",
        "tree head 1 (size 4) is beyond the board's end",
    ])]
    assert roots == {1: root_hash(_LEAVES[:1]), 2: root_hash(_LEAVES[:2]),
                     3: root_hash(_LEAVES)}
    checks, _ = _run_merkle([_head(2), _head(4, b"\x02" * 32)])
    assert checks == [Check("board-merkle", False, fail, [
        "the last tree head covers 4 entries; the board has 3 (entries dropped or added)",
        "tree head 1 (size 4) is beyond the board's end",
    ])]


# --- check_board_log --------------------------------------------------------------------


def test_board_log_hashes_every_entry() -> None:
    board = [{"a": 1}, {"b": 1.5}, [2]]
    leaves = [entry_leaf_hash({"a": 1}), b"\x00" * 32, entry_leaf_hash([2])]
    head = sign_tree_head(KEY, LOG, 3, root_hash(leaves), 1)
    record = Record("src", {}, {"board.json": board, "tree-heads.json": [head.to_json()],
                                "election.json": {"log_id": LOG}})
    report = Report("src")
    out = check_board_log(report, record, PUB, LOG)
    assert out == (board, leaves, [head], {3: root_hash(leaves)})
    assert [c.ok for c in report.checks] == [True, True]
    assert [c.name for c in report.checks] == ["tree-heads", "board-merkle"]


def test_board_entry_with_a_lone_surrogate() -> None:
    # Defect fixed (#16, crypto/encoding.py): such an entry (JSON "\\ud800") made
    # entry_leaf_hash raise UnicodeEncodeError, which check_board_log and
    # tally.verify_board.check_entries (catching CryptoError) let escape.
    entry = parse_json(b'{"a": "\\ud800"}')
    head = sign_tree_head(KEY, LOG, 1, root_hash([b"\x00" * 32]), 1)
    record = Record("src", {}, {"board.json": [entry], "tree-heads.json": [head.to_json()],
                                "election.json": {"log_id": LOG}})
    report = Report("src")
    assert check_board_log(report, record, PUB, LOG)[1] == [b"\x00" * 32]
    [summary] = check_entries(cast(Any, SimpleNamespace(public_key=None)), 0, [entry])
    assert summary.problems == [("entry-format", "not canonical JSON: $: a string is not "
                               "valid Unicode (lone surrogate)")]


def test_board_log_of_a_board_that_is_not_a_list() -> None:
    head = sign_tree_head(KEY, LOG, 0, root_hash([]), 1)
    record = Record("src", {}, {"board.json": {"a": 1}, "tree-heads.json": [head.to_json()],
                                "election.json": {"log_id": LOG}})
    report = Report("src")
    assert check_board_log(report, record, PUB, LOG) == ([], [], [head], {0: root_hash([])})
    assert report.checks[1] == Check(
        "board-merkle", True, "Merkle root of 0 entries = last tree head; 1 tree heads consistent")


# --- _check_receipt ---------------------------------------------------------------------

_BOARD: list[Any] = [{"ballot": {"x": 0}}, {"ballot": {"x": 1}}, {"ballot": {"x": 2}}]
_BL = [entry_leaf_hash(e) for e in _BOARD]


def _receipt(index: int = 1, *, size: int = 3, key: BoardSigningKey = KEY, log: str = LOG,
             board: list[Any] = _BOARD) -> dict[str, Any]:
    leaves = [entry_leaf_hash(e) for e in board]
    merkle = MerkleLog(leaves)
    sth = sign_tree_head(key, log, size, merkle.root(size), 7)
    out = {"tree_head": sth.to_json(),
           "inclusion_proof": make_inclusion_proof(merkle, index, size).to_json(),
           "leaf_hash": leaves[index].hex(), "index": index}
    entry = board[index]
    if isinstance(entry, dict) and isinstance(entry.get("ballot"), dict):
        out["tracker"] = tracker_of(entry["ballot"])
    return out


def _roots_of(size: int) -> bytes | None:
    return None if size > len(_BL) else root_hash(_BL[:size])


def _run_receipt(receipt: Any, board: list[Any] = _BOARD, roots_of: Any = _roots_of) -> list[Check]:
    report = Report("src")
    leaves = [entry_leaf_hash(e) for e in board]
    _check_receipt(report, receipt, board, leaves, roots_of, PUB, LOG)
    return report.checks


_NOT_HONOURED = "the voter's receipt is not honoured by the record"


def _ok(index: int) -> list[Check]:
    return [Check("receipt", True, f"ballot {index} is on the board, included as the receipt says")]


def test_receipts_that_hold() -> None:
    for index in (0, 1, 2):
        assert _run_receipt(_receipt(index)) == _ok(index)
    by_leaf = _receipt(1)
    by_leaf["tracker"] = by_leaf["leaf_hash"]
    assert _run_receipt(by_leaf) == _ok(1)
    del by_leaf["tracker"]
    assert _run_receipt(by_leaf) == _ok(1)
    odd: list[Any] = [{"ballot": 5}, [1], {"ballot": {"x": 2}}]
    for index in (0, 1):
        receipt = _receipt(index, board=odd)
        receipt["tracker"] = "ff" * 32
        assert _run_receipt(receipt, odd, lambda s: root_hash([entry_leaf_hash(e) for e in odd])
                            ) == _ok(index)


def test_receipt_with_another_tracker() -> None:
    receipt = _receipt(1)
    receipt["tracker"] = tracker_of({"x": 0})
    assert _run_receipt(receipt) == [Check("receipt", False, _NOT_HONOURED, [
        "receipt tracker does not match the ballot on the board"])]


@pytest.mark.parametrize(("change", "message"), [
    ({"tree_head": None}, "signed_tree_head: expected a JSON object"),
    ({"inclusion_proof": 1}, "inclusion_proof: expected a JSON object"),
    ({"leaf_hash": "AB"}, "leaf_hash: expected lowercase hex bytes"),
    ({"leaf_hash": "00" * 31}, "leaf_hash: expected 32 bytes, got 31"),
    ({"index": "1"}, "receipt.index: expected int"),
    ({"index": True}, "receipt.index: expected integer"),
])
def test_malformed_receipts(change: dict[str, Any], message: str) -> None:
    receipt = {**_receipt(1), **change}
    assert _run_receipt(receipt) == [
        Check("receipt", False, f"the receipt is malformed: {message}")]


def test_receipt_that_is_not_an_object() -> None:
    assert _run_receipt([1]) == [Check(
        "receipt", False, "the receipt is malformed: 'list' object has no attribute 'get'")]


def test_receipt_signed_by_another_key_or_for_another_log() -> None:
    assert _run_receipt(_receipt(1, key=OTHER)) == [Check("receipt", False, _NOT_HONOURED, [
        "receipt does not verify against its own tree head: tree-head signature does not "
        "verify"])]
    assert _run_receipt(_receipt(1, log="other")) == [Check("receipt", False, _NOT_HONOURED, [
        "receipt's tree head is for another board"])]


def test_receipt_index_other_than_its_proof() -> None:
    receipt = _receipt(1)
    receipt["index"] = 2
    assert _run_receipt(receipt) == [Check("receipt", False, _NOT_HONOURED, [
        "receipt index differs from its inclusion proof",
        "board entry 2 is not the receipt's ballot: it was DROPPED or replaced"])]
    receipt["index"] = -1
    assert _run_receipt(receipt) == [Check("receipt", False, _NOT_HONOURED, [
        "receipt index differs from its inclusion proof",
        "the board has no entry -1: the receipt's ballot was DROPPED"])]


def test_receipt_of_a_dropped_ballot() -> None:
    receipt = _receipt(2)
    assert _run_receipt(receipt, _BOARD[:2], lambda s: None) == [
        Check("receipt", False, _NOT_HONOURED, [
            "the board has no entry 2: the receipt's ballot was DROPPED",
            "the receipt's tree head is beyond the published board"])]
    replaced = [_BOARD[0], {"ballot": {"x": 9}}, _BOARD[2]]
    leaves = [entry_leaf_hash(e) for e in replaced]
    assert _run_receipt(_receipt(1), replaced, lambda s: root_hash(leaves[:s])) == [
        Check("receipt", False, _NOT_HONOURED, [
            "board entry 1 is not the receipt's ballot: it was DROPPED or replaced",
            "the published board is not an extension of the receipt's tree head "
            "(entries removed or rewritten)"])]


def test_receipt_checks_the_root_of_its_own_size() -> None:
    asked: list[int] = []

    def roots_of(size: int) -> bytes | None:
        asked.append(size)
        return _roots_of(size)

    assert _run_receipt(_receipt(1, size=2), roots_of=roots_of) == _ok(1)
    assert asked == [2]


# --- check_receipt_only -----------------------------------------------------------------


def _receipt_record(board: Any, election: Any = None) -> Record:
    if election is None:
        election = {"board_key": PUB.hex(), "log_id": LOG}
    return Record("rec", {}, {"board.json": board, "election.json": election})


def test_receipt_only() -> None:
    report = check_receipt_only(_receipt_record(_BOARD), _receipt(1))
    assert report.source == "rec"
    assert report.checks == _ok(1)
    assert check_receipt_only(_receipt_record(_BOARD), _receipt(1, size=2)).checks == _ok(1)
    assert check_receipt_only(_receipt_record(_BOARD[:2]), _receipt(1)).checks == [
        Check("receipt", False, _NOT_HONOURED,
              ["the receipt's tree head is beyond the published board"])]
    assert check_receipt_only(_receipt_record({"a": 1}), _receipt(0)).checks == [
        Check("receipt", False, _NOT_HONOURED, [
            "the board has no entry 0: the receipt's ballot was DROPPED",
            "the receipt's tree head is beyond the published board"])]


@pytest.mark.parametrize(("election", "message"), [
    ({"log_id": LOG}, "election.json: missing field 'board_key'"),
    ({"board_key": PUB.hex()}, "election.json: missing field 'log_id'"),
])
def test_receipt_only_needs_the_board_key_and_log_id(election: Any, message: str) -> None:
    with pytest.raises(InvalidMerkleProof, match=rf"^record has no usable board key: {message}$"):
        check_receipt_only(_receipt_record(_BOARD, election), _receipt(1))
