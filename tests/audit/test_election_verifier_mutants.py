"""Unit tests of audit/election_verifier.py for mutation testing (issue #16).

Records are built in memory from two fixtures of a generated test election (1024-bit test
key, recordgen's board key): ``record-core.json`` (manifest, election, issuance, two roll
entries) and ``record-empty.json`` (a complete, valid record with an empty board, its tree
head and its tally files). The board checks (``verify_board``, ``stream_board``) and the
tally's combination are replaced by recording stubs where a test is about the plumbing; one
test verifies the empty record for real."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import audit.election_verifier as ev
import audit.keygen_check
from audit.board_pass import BoardUnreadable
from audit.election_verifier import (
    _check_request_counts,
    _check_roll_and_requests,
    _compare_tally,
    _key_size_note,
    _last_tree_size,
    _receipt_problems,
    _repeated_trustees,
    _report_partials,
    _SparseBoard,
    verify_board_record,
    verify_election_record,
)
from audit.record import Record, encode_record
from audit.report import Check, Report
from crypto.merkle import entry_leaf_hash, root_hash
from crypto.threshold import ThresholdPublicKey
from crypto.tree_head import BoardSigningKey
from tally.aggregate import EncryptedTally
from tally.decrypt import Rejected
from tally.verify_board import chunk_for

FIXTURES = Path(__file__).parent / "fixtures"
CORE: dict[str, Any] = json.loads((FIXTURES / "record-core.json").read_text(encoding="utf-8"))
EMPTY: dict[str, Any] = json.loads((FIXTURES / "record-empty.json").read_text(encoding="utf-8"))
BOARD_KEY = BoardSigningKey.from_seed_hex("5a" * 32)  # tests/recordgen.py's BOARD_SEED
FP = EMPTY["election.json"]["fingerprint"]
RESULTS = EMPTY["results.json"]


def _record(change: Any = None, *, base: dict[str, Any] = EMPTY) -> Record:
    files = copy.deepcopy(base)
    if change is not None:
        change(files)
    raw = encode_record(files, BOARD_KEY)
    parsed = {name: json.loads(blob) for name, blob in raw.items()}
    return Record("mem", raw, parsed)


def _messages(report: Report) -> list[tuple[str, bool, str]]:
    return [(c.name, c.ok, c.message) for c in report.checks]


# --- helpers ----------------------------------------------------------------------------


def test_key_size_note() -> None:
    small = SimpleNamespace(n=(1 << 1023) + 1)
    assert _key_size_note(small) == (  # type: ignore[arg-type]
        "; TEST-SIZE election key (1024 bits < 2048): not for real elections")
    assert _key_size_note(SimpleNamespace(n=(1 << 2047) + 1)) == ""  # type: ignore[arg-type]
    assert _key_size_note(SimpleNamespace(n=(1 << 2046) + 1)) == (  # type: ignore[arg-type]
        "; TEST-SIZE election key (2047 bits < 2048): not for real elections")


_H = ["0" * 63 + str(i) for i in range(1, 4)]


def test_receipt_problems() -> None:
    assert _receipt_problems(None, 3) == []
    assert _receipt_problems({"receipts": []}, 3) == []
    assert _receipt_problems({}, 3) == []
    assert _receipt_problems({"receipts": _H}, 3) == []
    bad = ["issuance receipts are not a list of 32-byte hashes (lowercase hex)"]
    for receipts in ({"a": 1}, "x", [_H[0], 5], [_H[0][:-1]], [_H[0] + "0"], ["A" * 64],
                     ["g" * 64]):
        assert _receipt_problems({"receipts": receipts}, 3) == bad
    assert _receipt_problems({"receipts": [_H[1], _H[0], _H[2]]}, 3) == [
        "issuance receipts are not sorted and distinct"]
    assert _receipt_problems({"receipts": [_H[0], _H[0]]}, 2) == [
        "issuance receipts are not sorted and distinct"]
    assert _receipt_problems({"receipts": [_H[1], _H[0]]}, 3) == [
        "issuance receipts are not sorted and distinct", "2 issuance receipts for count 3"]
    assert _receipt_problems({"receipts": _H}, 4) == ["3 issuance receipts for count 4"]
    assert _receipt_problems({"receipts": ["f" * 64]}, 1) == []


def test_last_tree_size() -> None:
    def rec(heads: Any) -> Record:
        return Record("s", {}, {"tree-heads.json": heads})

    assert _last_tree_size(rec([{"tree_size": 1}, {"tree_size": 7}])) == 7
    for heads in (None, [], {"tree_size": 3}, [{"tree_size": 1}, 5], [{"tree_size": True}],
                  [{"tree_size": "7"}], [{}]):
        assert _last_tree_size(rec(heads)) == 0


def test_sparse_board() -> None:
    board = _SparseBoard(5, {2: "x"})
    assert len(board) == 5
    assert board[2] == "x"
    with pytest.raises(KeyError):
        board[1]


def _ctx() -> Any:
    return _record(base=EMPTY).context()


def test_check_roll_and_requests() -> None:
    record = _record()
    report = Report("s")
    state = _check_roll_and_requests(report, record, record.context())
    assert state is not None
    assert report.checks == [Check("roll", True, "12 distinct enrolled keys; size and Merkle root "
                                                 "= the fingerprint's")]
    assert len(state.entries) == 12 and len(state.requests) == 1 and state.problems == []


def test_check_roll_refusals() -> None:
    ctx = _ctx()

    def run(change: Any) -> tuple[list[Check], Any]:
        record = _record(change)
        report = Report("s")
        return report.checks, _check_roll_and_requests(report, record, ctx)

    checks, state = run(lambda f: f["election.json"].__setitem__("roll", {"mode": 1}))
    assert state is None
    assert [(c.name, c.ok) for c in checks] == [("roll", False)]
    assert checks[0].message.startswith("roll.json or election.roll malformed: election.roll")
    checks, state = run(lambda f: f.pop("roll.json"))
    assert state is None
    assert checks[0].message == "the published roll is not the one the fingerprint binds"
    assert checks[0].details[0] == "roll.json is missing"
    checks, state = run(lambda f: f["roll.json"]["entries"].pop())
    assert state is None
    assert checks[0].message == "the published roll is not the one the fingerprint binds"
    assert "roll.json is missing" not in checks[0].details
    checks, state = run(lambda f: f["issuance.json"].__setitem__("requests", {}))
    assert [c.ok for c in checks] == [True]
    assert state.requests == [] and state.problems == [
        "issuance.requests malformed: issuance.requests: expected a list"]


def test_check_request_counts() -> None:
    report = Report("s")
    _check_request_counts(report, None, 1, 0)
    assert report.checks == [Check("credential-requests", False, "not checked: no valid roll")]
    state = ev._RollState(["e1", "e2", "e3"], ["r1", "r2"], [])  # type: ignore[list-item]
    report = Report("s")
    _check_request_counts(report, state, 2, 1)
    assert report.checks == [Check("credential-requests", True, "1 credentials voted ≤ 2 "
                                   "requests signed by distinct roll keys ≤ 3 on the roll")]
    report = Report("s")
    _check_request_counts(report, state, 3, 4)
    assert report.checks[0].ok is False
    assert report.checks[0].message.endswith(" problem(s) with the signed credential requests")
    assert report.checks[0].message == (f"{len(report.checks[0].details)} problem(s) with the "
                                        "signed credential requests")
    assert len(report.checks[0].details) >= 2
    bad = ev._RollState([], [], ["p1"])
    report = Report("s")
    _check_request_counts(report, bad, None, 99)
    assert report.checks == [Check("credential-requests", False,
                                   "1 problem(s) with the signed credential requests", ["p1"])]


def _tally(tally: dict[str, dict[str, int]], counted: tuple[str, ...] = (),
           eid: str = "test-election") -> EncryptedTally:
    return EncryptedTally(eid, tally, counted)


def test_compare_tally() -> None:
    ctx = _ctx()
    mine = _tally({"q": {"a": 2, "b": 3}}, ("t1",))
    assert _compare_tally(ctx, _tally({"q": {"a": 2, "b": 3}}, ("t1",)), mine) == []
    assert _compare_tally(ctx, _tally({"q": {"a": 5, "c": 1}, "r": {"x": 1}}, ("t2", "t3"),
                                      "other"), mine) == [
        "the encrypted tally names another election",
        "q/a: published ciphertext differs from the product of the counted ballots",
        "q/b: published ciphertext differs from the product of the counted ballots",
        "q/c: not an option of the manifest",
        "r/x: not an option of the manifest",
        "counted trackers differ: published 2, board gives 1",
    ]
    assert _compare_tally(ctx, _tally({"q": {"a": 2, "b": 3}}, ("t2",)), mine) == [
        "counted trackers differ: published 1, board gives 1"]


def test_repeated_trustees() -> None:
    sets = [SimpleNamespace(trustee_index=i) for i in (1, 0, 3, 1, 6, 5, 3)]
    assert _repeated_trustees(sets, 5) == [  # type: ignore[arg-type]
        "trustee file 1: trustee_index 0 outside 1..5",
        "trustee file 3: trustee 1 appears twice",
        "trustee file 4: trustee_index 6 outside 1..5",
        "trustee file 6: trustee 3 appears twice",
    ]
    assert _repeated_trustees([SimpleNamespace(trustee_index=0),  # type: ignore[list-item]
                               SimpleNamespace(trustee_index=0)], 5) == [
        "trustee file 0: trustee_index 0 outside 1..5",
        "trustee file 1: trustee_index 0 outside 1..5"]


def test_report_partials() -> None:
    report = Report("s")
    _report_partials(report, [], 3)
    assert report.checks == [Check("partial-decryptions", True,
                                   "3 trustees' proofs verify for every option")]
    report = Report("s")
    _report_partials(report, [Rejected(2, "q", "o", "bad")], 3, ["twice"])
    assert report.checks == [Check(
        "partial-decryptions", False,
        "2 partial decryption(s) fail their proofs, are missing or repeated",
        ["twice", "trustee 2, q/o: bad"])]
    report = Report("s")
    _report_partials(report, [], 3, ["twice"])
    assert report.checks[0].message == (
        "1 partial decryption(s) fail their proofs, are missing or repeated")


# --- the whole record -------------------------------------------------------------------

_BOARD_PASS = [
    ("board-entries", True, "every entry is at its index, of a known kind, for this election"),
    ("credentials", True, "every credential carries the issuer's blind signature for this "
                          "election"),
    ("ballot-signatures", True, "every ballot is signed by its credential's ballot key"),
    ("ballot-proofs", True, "every 0/1 and selection-count proof verifies"),
    ("audited-ballots", True, "every audited ballot opens to its revealed choices"),
    ("ciphertext-copies", True, "no ciphertext appears twice (no copied ballots)"),
    ("revote-chains", True, "revotes replace the same credential's previous ballot"),
    ("issuance", True, "0 credentials voted ≤ 1 issued"),
]
_VALID = [
    ("record-format", True, "9 files follow the JSON Schema"),
    ("record-index", True, "index signed by the board key; 9 file hashes match"),
    ("election-fingerprint", True, f"fingerprint {FP[:16]}… recomputed; TEST-SIZE election "
                                   "key (1024 bits < 2048): not for real elections"),
    ("key-generation", True, "trusted-dealer key (saylau ceremony); no transcript"),
    ("tree-heads", True, "1 tree heads signed by the board key"),
    ("board-merkle", True, "Merkle root of 0 entries = last tree head; 1 tree heads consistent"),
    ("roll", True, "12 distinct enrolled keys; size and Merkle root = the fingerprint's"),
    ("credential-requests", True, "0 credentials voted ≤ 1 requests signed by distinct roll "
                                  "keys ≤ 12 on the roll"),
    *_BOARD_PASS,
    ("encrypted-tally", True, "recomputed from 0 counted ballots"),
    ("partial-decryptions", True, "3 trustees' proofs verify for every option"),
    ("decryption", True, "each option decrypted from 3 of 5 trustees"),
    ("results", True, "published results = decrypted tally"),
]


def test_the_empty_record_verifies(monkeypatch: pytest.MonkeyPatch) -> None:
    _combine_stub(monkeypatch)  # the real combination: tests/audit/test_record.py and others
    report = verify_election_record(_record(), allow_test_keys=True)
    assert _messages(report) == _VALID
    assert report.valid and report.tally == RESULTS
    assert report.election_id == "test-election"
    assert report.valid_entries_tally is None


def _combine_stub(monkeypatch: pytest.MonkeyPatch, results: Any = None,
                  rejected: Any = ()) -> list[Any]:
    calls: list[Any] = []

    def combine(tpk: Any, tally: Any, sets: Any, *, fingerprint: Any, progress: Any,
                threads: int) -> Any:
        calls.append((tpk, tally, sets, fingerprint, progress, threads))
        return SimpleNamespace(results=copy.deepcopy(RESULTS) if results is None else results,
                               rejected=list(rejected))

    monkeypatch.setattr(ev, "combine_tally", combine)
    return calls


def test_tally_part_passes_its_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _combine_stub(monkeypatch)
    progress = print
    report = verify_election_record(_record(), None, progress, allow_test_keys=True)
    assert _messages(report) == _VALID
    [(tpk, tally, sets, fingerprint, given, threads)] = calls
    assert threads == 2  # the partials' proofs on both cores (tally.board_batch.WORKERS)
    assert tpk == ThresholdPublicKey.from_json(EMPTY["election.json"]["election_key"])
    assert fingerprint == bytes.fromhex(FP)
    assert given is progress
    assert [s.trustee_index for s in sets] == [1, 2, 3]
    assert tally.election_id == "test-election" and tally.counted == ()
    verify_election_record(_record(), None, progress, allow_test_keys=True, workers=1)
    assert calls[-1][-1] == 1  # --workers 1: one thread too


def test_untallied_record(monkeypatch: pytest.MonkeyPatch) -> None:
    def untallied(f: dict[str, Any]) -> None:
        del f["results.json"], f["partial-decryptions.json"], f["encrypted-tally.json"]

    report = verify_election_record(_record(untallied), allow_test_keys=True)
    assert _messages(report)[-1] == (
        "encrypted-tally", False,
        "the record has no tally yet (encrypted-tally, partial decryptions, results)")
    assert len(report.checks) == len(_VALID) - 3
    assert report.tally is None


def test_published_tally_that_differs(monkeypatch: pytest.MonkeyPatch) -> None:
    _combine_stub(monkeypatch)

    def other(f: dict[str, Any]) -> None:
        f["encrypted-tally.json"]["tally"]["budget"]["yes"] = "2"

    report = verify_election_record(_record(other), allow_test_keys=True)
    assert report.check("encrypted-tally") == Check(
        "encrypted-tally", False, "the published encrypted tally is not the board's",
        ["budget/yes: published ciphertext differs from the product of the counted ballots"])
    assert [c.name for c in report.checks][-3:] == ["partial-decryptions", "decryption",
                                                    "results"]
    assert report.tally is None

    def malformed(f: dict[str, Any]) -> None:
        f["encrypted-tally.json"]["tally"] = 5

    check = verify_election_record(_record(malformed), allow_test_keys=True).check(
        "encrypted-tally")
    assert check is not None and check.ok is False
    assert check.details[0].startswith("encrypted-tally.json malformed: ")


@pytest.mark.parametrize(("partials", "message"), [
    ({"a": 1}, "malformed: partial-decryptions.json: expected a list"),
    ([5], "malformed: trustee partials: expected a JSON object"),
])
def test_malformed_partials(partials: Any, message: str) -> None:
    report = verify_election_record(
        _record(lambda f: f.__setitem__("partial-decryptions.json", partials)),
        allow_test_keys=True)
    assert _messages(report)[-3:] == [
        ("partial-decryptions", False, message),
        ("decryption", False, "not checked: partial-decryptions.json is malformed"),
        ("results", False, "not checked: the tally could not be decrypted")]


def test_tally_that_cannot_be_decrypted(monkeypatch: pytest.MonkeyPatch) -> None:
    from crypto.errors import InvalidProof

    seen: list[bool] = []

    def check(tpk: Any, tally: Any, sets: Any, *, fingerprint: Any,
              verify_proofs: bool = True) -> list[Rejected]:
        seen.append(verify_proofs)
        return [Rejected(1, "q", "o", "proof")] if verify_proofs else []

    def combine(*args: Any, **kwargs: Any) -> Any:
        raise InvalidProof("too few valid partials")

    monkeypatch.setattr(ev, "check_partials", check)
    monkeypatch.setattr(ev, "combine_tally", combine)
    report = verify_election_record(_record(), allow_test_keys=True)
    assert seen == [False, True]
    assert report.checks[-3:] == [
        Check("partial-decryptions", False,
              "1 partial decryption(s) fail their proofs, are missing or repeated",
              ["trustee 1, q/o: proof"]),
        Check("decryption", False, "cannot decrypt the tally: too few valid partials"),
        Check("results", False, "not checked: the tally could not be decrypted")]


def test_rejected_partials_are_listed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    def check(*args: Any, **kwargs: Any) -> list[Rejected]:
        return [Rejected(1, "q", "o", "missing")]

    monkeypatch.setattr(ev, "check_partials", check)
    _combine_stub(monkeypatch, rejected=[Rejected(1, "q", "o", "missing"),
                                         Rejected(2, "q", "o", "proof")])
    report = verify_election_record(_record(), allow_test_keys=True)
    assert report.check("partial-decryptions") == Check(
        "partial-decryptions", False,
        "2 partial decryption(s) fail their proofs, are missing or repeated",
        ["trustee 1, q/o: missing", "trustee 2, q/o: proof"])
    assert report.check("decryption") == Check("decryption", True,
                                               "each option decrypted from 3 of 5 trustees")


def test_results_that_differ(monkeypatch: pytest.MonkeyPatch) -> None:
    _combine_stub(monkeypatch, results={"budget": {"yes": 0}, "mayor": {"dana": 1}})

    def change(f: dict[str, Any]) -> None:
        f["results.json"] = {"budget": {"yes": 0, "no": 2}, "extra": {"x": 0}}

    report = verify_election_record(_record(change), allow_test_keys=True)
    assert report.checks[-1] == Check(
        "results", False, "published results differ from the decrypted tally", [
            "mayor/dana: published None, decrypted 1",
            "budget/no: published but not in the tally",
            "extra/x: published but not in the tally"])


def test_results_malformed(monkeypatch: pytest.MonkeyPatch) -> None:
    _combine_stub(monkeypatch)
    report = verify_election_record(_record(lambda f: f.__setitem__("results.json", [])),
                                    allow_test_keys=True)
    assert report.checks[-1].name == "results"
    assert report.checks[-1].message.startswith("results.json malformed: ")


def test_operator_fault_keeps_the_valid_entries_tally(monkeypatch: pytest.MonkeyPatch) -> None:
    _combine_stub(monkeypatch)
    real = ev.verify_board

    class Problem:
        check = "ballot-proof"

        def __str__(self) -> str:
            return "entry 0: bad proof"

    def with_fault(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        result.problems.append(Problem())
        return result

    monkeypatch.setattr(ev, "verify_board", with_fault)
    report = verify_election_record(_record(), allow_test_keys=True)
    assert report.verdict == "operator-fault"
    assert report.check("ballot-proofs") == Check("ballot-proofs", False, "1 problem(s)",
                                                  ["entry 0: bad proof"])
    assert report.tally is None
    assert report.valid_entries_tally == RESULTS


# --- verify_board_record ----------------------------------------------------------------


def test_board_record_with_unusable_keys() -> None:
    report = verify_board_record(_record(lambda f: f["election.json"].pop("election_key")),
                                 allow_test_keys=True)
    out = _messages(report.report)
    assert out[-1] == ("election-fingerprint", False,
                       "election keys unusable: election.json: missing field 'election_key'")
    assert len(out) == 3
    assert report.report.election_id is None
    bad_board_key = verify_board_record(
        _record(lambda f: f["election.json"].__setitem__("board_key", "00")),
        allow_test_keys=True).report
    assert _messages(bad_board_key)[-1] == ("election-fingerprint", False,
                                            "election keys unusable: ")
    assert bad_board_key.election_id == "test-election"


def test_board_record_fingerprint_details() -> None:
    def refuse(**kwargs: Any) -> list[str]:
        check = verify_board_record(_record(), **kwargs).report.check("election-fingerprint")
        assert check is not None
        assert check.ok is not bool(check.details)
        return check.details

    assert refuse(allow_test_keys=True) == []
    assert refuse(allow_test_keys=True, expected_fingerprint=bytes.fromhex(FP)) == []
    assert refuse(allow_test_keys=False, expected_fingerprint=b"\x00" * 32) == [
        "the fingerprint differs from the one you expected",
        "TEST-SIZE election key (1024 bits < 2048): refused without --allow-test-keys"]

    def altered(f: dict[str, Any]) -> None:
        f["election.json"]["fingerprint"] = "00" * 32

    def no_rules(f: dict[str, Any]) -> None:
        del f["election.json"]["rules"]

    details = verify_board_record(_record(altered), allow_test_keys=True).report.check(
        "election-fingerprint")
    assert details == Check("election-fingerprint", False, "election fingerprint mismatch",
                            ["election.json's fingerprint is not the hash of manifest and keys"])
    details = verify_board_record(_record(no_rules), allow_test_keys=True).report.check(
        "election-fingerprint")
    assert details is not None and details.details == [
        "election.json's fingerprint is not the hash of manifest and keys",
        "election.json has no rules: the fingerprint binds no revote policy and voting window"]


def test_board_record_format_and_index() -> None:
    record = _record()
    record.format_errors = ["x: bad"]
    del record.files["record-index.json"]
    report = verify_board_record(record, allow_test_keys=True).report
    assert report.checks[:2] == [
        Check("record-format", False, "files do not follow the record format", ["x: bad"]),
        Check("record-index", False, "record-index.json missing")]


def _board_stub(monkeypatch: pytest.MonkeyPatch, **fields: Any) -> list[Any]:
    calls: list[Any] = []

    class Result:
        problems: list[Any] = []
        counted: list[Any] = []
        tally: dict[str, Any] = {}
        tokens = fields.get("tokens", 0)
        omitted = fields.get("omitted", {})

        def by_check(self, kind: str) -> list[str]:
            return list(fields.get("by_check", {}).get(kind, []))

        def overflow(self, kind: str) -> list[str]:
            return list(fields.get("overflow", {}).get(kind, []))

    def verify(ctx: Any, board: Any, **kwargs: Any) -> Any:
        calls.append((ctx, board, kwargs))
        return Result()

    monkeypatch.setattr(ev, "verify_board", verify)
    return calls


def test_board_checks_are_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _board_stub(monkeypatch, tokens=1,
                        by_check={"credential": ["entry 0: c"], "revote-chain": ["entry 1: r"],
                                  "issuance": ["too many"]},
                        omitted={"credential": 4}, overflow={"credential": ["and more"]})
    progress = print
    report = verify_board_record(_record(), None, progress, workers=3, scheduler="tcp://s",
                                 allow_test_keys=True).report
    [(ctx, board, kwargs)] = calls
    assert board == []
    assert ctx.fingerprint == bytes.fromhex(FP)
    assert kwargs == {"credentials_issued": 1, "progress": progress, "workers": 3,
                      "scheduler": "tcp://s"}
    got = {c.name: c for c in report.checks}
    assert got["credentials"] == Check("credentials", False, "5 problem(s)",
                                       ["entry 0: c", "and more"])
    assert got["revote-chains"] == Check("revote-chains", False, "1 problem(s)", ["entry 1: r"])
    assert got["issuance"] == Check("issuance", False, "1 problem(s)", ["too many"])
    assert got["ballot-proofs"].ok is True


def test_board_issuance_receipts_and_count(monkeypatch: pytest.MonkeyPatch) -> None:
    _board_stub(monkeypatch)

    def receipts(f: dict[str, Any]) -> None:
        f["issuance.json"]["receipts"] = [_H[1], _H[0]]

    report = verify_board_record(_record(receipts), allow_test_keys=True).report
    assert report.check("issuance") == Check("issuance", False, "2 problem(s)", [
        "issuance receipts are not sorted and distinct", "2 issuance receipts for count 1"])
    report = verify_board_record(_record(lambda f: f["issuance.json"].pop("count")),
                                 allow_test_keys=True).report
    assert report.check("issuance") == Check("issuance", False,
                                             "issuance.json has no usable count")


def test_receipt_roots(monkeypatch: pytest.MonkeyPatch) -> None:
    _board_stub(monkeypatch)
    seen: list[Any] = []

    def receipt_check(report: Report, receipt: Any, board: Any, leaves: Any, root_of: Any,
                      board_key: bytes, log_id: str) -> None:
        seen.append((receipt, list(board), list(leaves), board_key, log_id))
        seen.append([root_of(size) for size in (0, 1, 2, 3, 4)])

    monkeypatch.setattr(ev, "_check_receipt", receipt_check)
    entries = [{"a": 1}, {"b": 2}, {"c": 3}]
    record = _record(lambda f: f.__setitem__("board.json", entries))
    verify_board_record(record, {"index": 0}, allow_test_keys=True)
    leaves = [entry_leaf_hash(e) for e in entries]
    assert seen[0] == ({"index": 0}, entries, leaves, BOARD_KEY.public_key_bytes(),
                       "saylau/election/test-election")
    assert seen[1] == [root_hash([]), root_hash(leaves[:1]), root_hash(leaves[:2]),
                       root_hash(leaves), None]
    seen.clear()
    verify_board_record(record, None, allow_test_keys=True)
    assert seen == []


def test_streamed_board(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    record = _record()
    record.board_source = Path("rec")
    record.format_errors = ["a", "b"]
    record.board_errors_at = 1
    board = _board_stub(monkeypatch)

    call_meanwhile = True

    def stream(source: Any, ctx: Any, **kwargs: Any) -> Any:
        calls.append((source, ctx, kwargs))
        result = ev.verify_board(ctx, [])
        if call_meanwhile:  # as stream_board does once the board is handed out
            kwargs["meanwhile"]()
        return SimpleNamespace(digest="d" * 64, shape_errors=["s1", "s2"], result=result,
                               leaves=[], kept={})

    monkeypatch.setattr(ev, "stream_board", stream)
    receipt = {"index": 0}
    progress = print
    out = verify_board_record(record, receipt, progress, workers=2, scheduler="x",
                              allow_test_keys=True)
    [(source, ctx, kwargs)] = calls
    assert source == Path("rec")
    assert ctx.fingerprint == bytes.fromhex(FP)
    assert callable(kwargs.pop("meanwhile"))
    assert kwargs == {"credentials_issued": 1, "progress": progress, "workers": 2,
                      "scheduler": "x", "receipt": receipt, "expected_total": 0,
                      "chunk": chunk_for(0, 2)}
    assert len(board) == 1  # the stub's own call: verify_board is not run again
    # the tree heads and the roll, checked during the board pass, keep their place
    names = [c.name for c in out.report.checks]
    assert names.index("tree-heads") < names.index("board-merkle") < names.index("roll")
    call_meanwhile = False
    record.format_errors = ["a", "b"]
    again = verify_board_record(record, receipt, progress, workers=2, scheduler="x",
                                allow_test_keys=True)
    assert again.report.checks == out.report.checks
    assert record.digests["board.json"] == "d" * 64
    assert record.format_errors == ["a", "s1", "s2", "b"]
    assert out.report.checks[0] == Check("record-format", False,
                                         "files do not follow the record format",
                                         ["a", "s1", "s2", "b"])
    assert out.report.check("receipt") is not None


def test_streamed_board_expected_total(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    record = _record(lambda f: f["tree-heads.json"][0].__setitem__("tree_size", 40))
    record.board_source = Path("rec")

    def stream(source: Any, ctx: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        raise BoardUnreadable("not an array")

    reread: list[Any] = []

    def read(path: Any, *, strict: bool) -> Record:
        reread.append((path, strict))
        return _record()

    monkeypatch.setattr(ev, "stream_board", stream)
    monkeypatch.setattr(ev, "read_record", read)
    out = verify_board_record(record, None, None, workers=4, expected_fingerprint=b"f" * 32,
                              allow_test_keys=True)
    assert calls[0]["expected_total"] == 40 and calls[0]["chunk"] == chunk_for(40, 4)
    assert reread == [("mem", False)]
    check = out.report.check("election-fingerprint")
    assert check is not None
    assert check.details == ["the fingerprint differs from the one you expected"]


def test_key_generation_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []

    def check(report: Report, record: Record, tpk: Any) -> None:
        calls.append((record, tpk))
        report.add("key-generation", True, "stub")

    monkeypatch.setattr(audit.keygen_check, "check_key_generation", check)
    record = _record()
    report = verify_board_record(record, allow_test_keys=True).report
    assert calls == [(record, record.election_key())]
    assert report.check("key-generation") == Check("key-generation", True, "stub")


@pytest.mark.parametrize("change", [
    lambda f: f["manifest.json"].__setitem__("title", "\ud800"),
    lambda f: f["election.json"].__setitem__("roll", {"mode": "\ud800"}),
    lambda f: f["election.json"]["election_key"].__setitem__("x", "\ud800"),
    lambda f: f["election.json"]["issuer_key"].__setitem__("x", "\ud800"),
], ids=["manifest-title", "roll", "election-key", "issuer-key"])
def test_a_fingerprint_canonical_json_refuses_is_reported(change: Any) -> None:
    # Defect fixed (#16): election_fingerprint's canonical_json refused a lone surrogate
    # (JSON "\ud800") in the manifest or the keys, and the error escaped the verifier
    # (UnicodeEncodeError before canonical_json was fixed, InvalidEncoding after).
    files = copy.deepcopy(CORE)
    files["board.json"] = []
    files["tree-heads.json"] = []
    change(files)
    record = Record("mem", {name: b"" for name in files}, files)
    report = verify_board_record(record, allow_test_keys=True).report
    check = report.check("election-fingerprint")
    assert check is not None
    assert (check.ok, check.message) == (False, "election keys unusable: fingerprint: $: a "
                                                "string is not valid Unicode (lone surrogate)")
    assert report.checks[-1] is check


# --- killing the first run's survivors ---------------------------------------------------


def test_paths_are_read_streamed_and_not_strict(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    record = _record()

    def read(path: Any, **kwargs: Any) -> Record:
        calls.append((path, kwargs))
        return record

    monkeypatch.setattr(ev, "read_record", read)
    _combine_stub(monkeypatch)
    board = verify_board_record("some/path", allow_test_keys=True)
    assert board.report.source == "mem"
    report = verify_election_record(Path("other"), allow_test_keys=True)
    assert report.source == "mem" and report.valid
    assert calls == [("some/path", {"strict": False, "stream_board": True}),
                     (Path("other"), {"strict": False, "stream_board": True})]


def test_election_record_passes_everything_to_the_board_part(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []

    def board_part(record: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append((record, args, kwargs))
        return ev.BoardVerification(Report("x"))

    monkeypatch.setattr(ev, "verify_board_record", board_part)
    record = _record()
    progress = print
    report = verify_election_record(record, {"r": 1}, progress, workers=3,
                                    expected_fingerprint=b"f", scheduler="s",
                                    allow_test_keys=False)
    assert report.source == "x" and report.checks == []
    assert calls == [(record, ({"r": 1}, progress),
                      {"workers": 3, "expected_fingerprint": b"f", "scheduler": "s",
                       "allow_test_keys": False})]


@pytest.mark.parametrize("missing", ["ctx", "tpk", "fingerprint", "tally"])
def test_election_record_stops_without_any_board_result(monkeypatch: pytest.MonkeyPatch,
                                                        missing: str) -> None:
    real = verify_board_record(_record(), allow_test_keys=True)
    fields = {"ctx": real.ctx, "tpk": real.tpk, "fingerprint": real.fingerprint,
              "tally": real.tally}
    fields[missing] = None
    part = ev.BoardVerification(Report("x"), **fields)
    monkeypatch.setattr(ev, "verify_board_record", lambda *a, **k: part)
    assert verify_election_record(_record(), allow_test_keys=True).checks == []


def test_board_context_carries_the_voting_window(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _board_stub(monkeypatch)
    verify_board_record(_record(), allow_test_keys=True)
    ctx = calls[0][0]
    assert (ctx.opens_at_ms, ctx.closes_at_ms) == (1767225600000, 1767312000000)
    assert ctx.revote_policy == "last-counts"
    assert ctx.manifest.election_id == "test-election"


def test_unreadable_streamed_board_is_verified_again_whole(
        monkeypatch: pytest.MonkeyPatch) -> None:
    record = _record()
    record.board_source = Path("rec")
    whole = _record()
    calls: list[Any] = []
    real = ev.verify_board_record

    def spy(record: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append((record, args, kwargs))
        return real(record, *args, **kwargs)

    def stream(*args: Any, **kwargs: Any) -> Any:
        raise BoardUnreadable("not an array")

    _board_stub(monkeypatch)
    monkeypatch.setattr(ev, "verify_board_record", spy)
    monkeypatch.setattr(ev, "stream_board", stream)
    monkeypatch.setattr(ev, "read_record", lambda path, strict: whole)
    progress = print
    out = real(record, {"r": 1}, progress, workers=3, expected_fingerprint=b"f" * 32,
               scheduler="s", allow_test_keys=True)
    assert calls == [(whole, ({"r": 1}, progress),
                      {"workers": 3, "expected_fingerprint": b"f" * 32, "scheduler": "s",
                       "allow_test_keys": True})]
    assert out.report.source == "mem"


def _streamed(monkeypatch: pytest.MonkeyPatch, leaves: list[bytes], kept: dict[int, Any],
              *, expected_total: int = 0) -> tuple[Record, list[Any]]:
    record = _record()
    del record.raw["board.json"], record.files["board.json"]
    record.board_source = Path("rec")
    calls: list[Any] = []

    def stream(source: Any, ctx: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        result = ev.verify_board(ctx, [])
        return SimpleNamespace(digest=EMPTY_BOARD_DIGEST, shape_errors=[], result=result,
                               leaves=leaves, kept=kept)

    monkeypatch.setattr(ev, "stream_board", stream)
    return record, calls


EMPTY_BOARD_DIGEST = __import__("hashlib").sha256(b"[]\n").hexdigest()


def test_streamed_board_counts_its_file_and_checks_the_log(
        monkeypatch: pytest.MonkeyPatch) -> None:
    record, _ = _streamed(monkeypatch, [], {})
    report = verify_board_record(record, allow_test_keys=True).report
    assert _messages(report)[:6] == _VALID[:6]


def test_streamed_board_receipt_sees_the_kept_entries(monkeypatch: pytest.MonkeyPatch) -> None:
    leaves = [entry_leaf_hash({"a": 1}), entry_leaf_hash({"b": 2})]
    record, _ = _streamed(monkeypatch, leaves, {1: {"b": 2}})
    seen: list[Any] = []

    def receipt_check(report: Report, receipt: Any, board: Any, leaves: Any, root_of: Any,
                      board_key: bytes, log_id: str) -> None:
        seen.extend([len(board), board[1], list(leaves), [root_of(s) for s in (0, 1, 2, 3)]])

    monkeypatch.setattr(ev, "_check_receipt", receipt_check)
    verify_board_record(record, {"index": 1}, allow_test_keys=True)
    assert seen == [2, {"b": 2}, leaves,
                    [root_hash([]), root_hash(leaves[:1]), root_hash(leaves), None]]


def test_streamed_board_chunk_follows_the_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    record, calls = _streamed(monkeypatch, [], {})
    record.files["tree-heads.json"][0]["tree_size"] = 300
    verify_board_record(record, workers=1, allow_test_keys=True)
    assert calls[0]["expected_total"] == 300
    assert calls[0]["chunk"] == chunk_for(300, 1) == 150


def test_production_key_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ev, "PRODUCTION_KEY_BITS", 1024)
    check = verify_board_record(_record(), allow_test_keys=False).report.check(
        "election-fingerprint")
    assert check == Check("election-fingerprint", True, f"fingerprint {FP[:16]}… recomputed")


def test_request_counts_use_the_issued_count() -> None:
    report = verify_board_record(_record(lambda f: f["issuance.json"].__setitem__("count", 2)),
                                 allow_test_keys=True).report
    assert report.check("credential-requests") == Check(
        "credential-requests", False, "1 problem(s) with the signed credential requests",
        ["issuance.count is 2 but 1 signed requests are published"])


def test_receipt_problems_only_in_the_issuance_check(monkeypatch: pytest.MonkeyPatch) -> None:
    _board_stub(monkeypatch)
    report = verify_board_record(
        _record(lambda f: f["issuance.json"].__setitem__("receipts", ["X" * 64])),
        allow_test_keys=True).report
    assert report.check("issuance") == Check(
        "issuance", False, "1 problem(s)",
        ["issuance receipts are not a list of 32-byte hashes (lowercase hex)"])
    assert [c.name for c in report.failed()] == ["issuance"]


def test_compare_tally_with_a_question_missing() -> None:
    assert _compare_tally(_ctx(), _tally({"q": {"a": 2}}), _tally({"q": {"a": 2}, "r": {"x": 1}})
                          ) == ["r/x: published ciphertext differs from the product of the "
                                "counted ballots"]


def test_roll_refusal_is_named_and_failed() -> None:
    record = _record(lambda f: f["roll.json"]["entries"].pop())
    report = Report("s")
    assert _check_roll_and_requests(report, record, record.context()) is None
    assert [(c.name, c.ok) for c in report.checks] == [("roll", False)]
    record = _record(lambda f: f["issuance.json"].__setitem__("requests", {}))
    state = _check_roll_and_requests(Report("s"), record, record.context())
    assert state is not None and len(state.entries) == 12


def test_request_counts_keep_the_roll_problems() -> None:
    state = ev._RollState([], [], ["p1"])
    report = Report("s")
    _check_request_counts(report, state, 0, 0)
    assert report.checks == [Check("credential-requests", False,
                                   "1 problem(s) with the signed credential requests", ["p1"])]


def test_partials_are_checked_with_the_recomputed_tally(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []

    def check(tpk: Any, tally: Any, sets: Any, *, fingerprint: Any,
              verify_proofs: bool = True) -> list[Rejected]:
        calls.append((tpk, tally, [s.trustee_index for s in sets], fingerprint, verify_proofs))
        return []

    monkeypatch.setattr(ev, "check_partials", check)
    _combine_stub(monkeypatch)
    record = _record()
    verify_election_record(record, allow_test_keys=True)
    [(tpk, tally, sets, fingerprint, verify_proofs)] = calls
    assert tpk == record.election_key()
    assert tally.election_id == "test-election"
    assert (sets, fingerprint, verify_proofs) == ([1, 2, 3], bytes.fromhex(FP), False)


def test_failed_decryption_rechecks_with_proofs(monkeypatch: pytest.MonkeyPatch) -> None:
    from crypto.errors import InvalidProof

    calls: list[Any] = []

    def check(tpk: Any, tally: Any, sets: Any, *, fingerprint: Any,
              verify_proofs: bool = True) -> list[Rejected]:
        calls.append((tpk, tally, len(sets), fingerprint, verify_proofs))
        return []

    def combine(*args: Any, **kwargs: Any) -> Any:
        raise InvalidProof("no")

    monkeypatch.setattr(ev, "check_partials", check)
    monkeypatch.setattr(ev, "combine_tally", combine)
    record = _record()
    report = verify_election_record(record, allow_test_keys=True)
    assert calls[1][0] == record.election_key()
    assert calls[1][1].election_id == "test-election"
    assert calls[1][2:] == (3, bytes.fromhex(FP), True)
    assert report.check("partial-decryptions") == Check(
        "partial-decryptions", True, "3 trustees' proofs verify for every option")

    def twice(f: dict[str, Any]) -> None:
        f["partial-decryptions.json"].append(copy.deepcopy(f["partial-decryptions.json"][0]))

    report = verify_election_record(_record(twice), allow_test_keys=True)
    assert report.check("partial-decryptions") == Check(
        "partial-decryptions", False,
        "1 partial decryption(s) fail their proofs, are missing or repeated",
        ["trustee file 3: trustee 1 appears twice"])


def test_repeated_trustee_file_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    _combine_stub(monkeypatch)

    def twice(f: dict[str, Any]) -> None:
        f["partial-decryptions.json"].append(copy.deepcopy(f["partial-decryptions.json"][0]))

    report = verify_election_record(_record(twice), allow_test_keys=True)
    assert report.check("partial-decryptions") == Check(
        "partial-decryptions", False,
        "1 partial decryption(s) fail their proofs, are missing or repeated",
        ["trustee file 3: trustee 1 appears twice"])


def test_results_malformed_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    _combine_stub(monkeypatch)
    report = verify_election_record(_record(lambda f: f.__setitem__("results.json", [])),
                                    allow_test_keys=True)
    assert (report.checks[-1].name, report.checks[-1].ok) == ("results", False)
