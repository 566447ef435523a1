"""Unit tests of audit/petition_verifier.py for mutation testing (issue #16).

Records are built in memory from ``tests/audit/fixtures/petition-record.json`` (the valid
record of tests/audit/test_petition_record.py: five signatures in regions r0, r2, r2, r4,
r1, tallied by trustees 1, 3, 5; board key seed ``6b…``). The board check
(``verify_petition_board``) is replaced by a stub where a test is about the plumbing."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import audit.petition_verifier as pv
from audit.petition_verifier import (
    PetitionReport,
    _ciphertext_copies,
    _petition_board_log_id,
    _petition_meta,
    verify_petition_record,
)
from audit.record import Record, encode_record
from audit.report import Check
from crypto.errors import CryptoError, InvalidEncoding
from crypto.merkle import entry_leaf_hash, root_hash
from crypto.tree_head import BoardSigningKey
from tally.petition import Problem

FIXTURES = Path(__file__).parent / "fixtures"
PET: dict[str, Any] = json.loads((FIXTURES / "petition-record.json").read_text(encoding="utf-8"))
KEY = BoardSigningKey.from_seed_hex("6b" * 32)
FP = PET["petition.json"]["fingerprint"]
COUNTS = {"r0": 1, "r1": 1, "r2": 2, "r3": 0, "r4": 1}


#: Results of the partial-decryption proofs and the combination, by every argument (the
#: record's three partials are checked in most tests; a changed argument is a new key, so a
#: mutant that passes another product, fingerprint or context still meets the real check).
_MEMO: dict[Any, Any] = {}


def _memo(key: Any, call: Any) -> Any:
    if key not in _MEMO:
        try:
            _MEMO[key] = (True, call())
        except CryptoError as exc:
            _MEMO[key] = (False, exc)
    ok, value = _MEMO[key]
    if not ok:
        raise value
    return value


@pytest.fixture(autouse=True)
def _cached_threshold_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    real_verify, real_combine = pv.verify_partial_decryption, pv.combine

    def verify(tpk: Any, product: int, partial: Any, *, fingerprint: bytes,
               context: Any) -> None:
        _memo(("verify", tpk.n, product, repr(partial), fingerprint, context),
              lambda: real_verify(tpk, product, partial, fingerprint=fingerprint,
                                  context=context))

    def combine(tpk: Any, product: int, partials: Any, *, fingerprint: bytes,
                context: Any) -> Any:
        return _memo(("combine", tpk.n, product, tuple(map(repr, partials)), fingerprint,
                      context),
                     lambda: real_combine(tpk, product, partials, fingerprint=fingerprint,
                                          context=context))

    monkeypatch.setattr(pv, "verify_partial_decryption", verify)
    monkeypatch.setattr(pv, "combine", combine)


def _record(change: Any = None) -> Record:
    files = copy.deepcopy(PET)
    if change is not None:
        change(files)
    raw = encode_record(files, KEY)
    return Record("mem", raw, {name: json.loads(blob) for name, blob in raw.items()})


def _verify(change: Any = None, *args: Any, **kwargs: Any) -> PetitionReport:
    kwargs.setdefault("allow_test_keys", True)
    return verify_petition_record(_record(change), *args, **kwargs)


def _messages(report: PetitionReport) -> list[tuple[str, bool, str]]:
    return [(c.name, c.ok, c.message) for c in report.checks]


_VALID = [
    ("record-format", True, "7 files follow the JSON Schema"),
    ("record-index", True, "index signed by the board key; 7 file hashes match"),
    ("petition-fingerprint", True, f"fingerprint {FP[:16]}… recomputed"),
    ("tree-heads", True, "6 tree heads signed by the board key"),
    ("board-merkle", True, "Merkle root of 5 entries = last tree head; 6 tree heads consistent"),
    ("board-entries", True, "every entry is at its index, of a known kind, for this petition"),
    ("credentials", True, "every credential carries the issuer's blind signature for this "
                          "petition"),
    ("signer-signatures", True, "every signature is signed (Ed25519) by its credential's key"),
    ("region-proofs", True, "every region proof verifies (batch-checked)"),
    ("token-uniqueness", True, "every credential signed at most once"),
    ("ciphertext-copies", True, "no region ciphertext appears twice (no copied signatures)"),
    ("invalidations", True, "every invalidation names an earlier, valid, not yet invalidated "
                            "signature"),
    ("issuance", True, "5 signatures ≤ 5 credentials issued"),
    ("encrypted-tally", True, "recomputed from 5 counted signatures of the first 5 entries "
                              "(0 invalidated)"),
    ("partial-decryptions", True, "3 trustees' proofs verify for the region product"),
    ("decryption", True, "decrypted from 3 of 5 trustees (1, 3, 5)"),
    ("results", True, "published region counts = decrypted tally"),
]


def test_the_record_verifies() -> None:
    steps: list[tuple[str, int, int]] = []
    report = _verify(None, None, lambda *a: steps.append(a))
    assert _messages(report) == _VALID
    assert report.valid and report.tally == {"regions": COUNTS}
    assert report.election_id == "petition:7"
    assert steps == [("petition board", 0, 5), ("petition board", 5, 5),
                     ("partial decryptions", 1, 3), ("partial decryptions", 2, 3),
                     ("partial decryptions", 3, 3)]
    out = report.to_json()
    assert (out["kind"], out["petition_id"], out["valid"]) == ("petition", "petition:7", True)
    text = report.render_text()
    assert text.startswith("Petition record: mem\nPetition: petition:7\n")
    assert "Verified signatures by region:" in text
    assert "Election" not in text and "Verified tally:" not in text


def test_report_text_without_an_id() -> None:
    report = PetitionReport("src")
    report.add("a", True, "ok")
    report.tally = {"regions": {"r": 1}}
    text = report.render_text()
    assert text.split("\n")[:2] == ["Petition record: src", ""]
    report.election_id = "Election: x"
    text = report.render_text()
    assert text.split("\n")[:2] == ["Petition record: src", "Petition: Election: x"]


# --- _petition_meta, _petition_board_log_id, _ciphertext_copies -------------------------


def test_petition_meta() -> None:
    params, tpk, issuer, fp, board_key, log_id = _petition_meta(_record())
    assert params.petition_id == "petition:7"
    assert fp == bytes.fromhex(FP)
    assert board_key == KEY.public_key_bytes()
    assert log_id == "saylau/petition/7"
    assert issuer.e == 65537 and tpk.threshold == 3


@pytest.mark.parametrize(("change", "message"), [
    (lambda p: p.__setitem__("petition_id", "petition:8"),
     "petition.json: petition_id differs from the parameters'"),
    (lambda p: p.__setitem__("kind", "election"), 'petition.json: kind is not "petition"'),
    (lambda p: p.pop("kind"), "petition.json: missing field 'kind'"),
    (lambda p: p.pop("issuer_key"), "petition.json: missing field 'issuer_key'"),
    (lambda p: p.pop("fingerprint"), "petition.json: missing field 'fingerprint'"),
    (lambda p: p.pop("parameters"), "petition.json: missing field 'parameters'"),
    (lambda p: p.pop("petition_id"), "petition.json: missing field 'petition_id'"),
])
def test_petition_meta_refusals(change: Any, message: str) -> None:
    record = _record(lambda f: change(f["petition.json"]))
    with pytest.raises(InvalidEncoding, match="^" + message.replace("(", r"\(") + "$"):
        _petition_meta(record)
    report = verify_petition_record(record, allow_test_keys=True)
    assert report.checks[-1] == Check("petition-fingerprint", False,
                                      f"petition keys unusable: {message}")
    assert [c.name for c in report.checks] == ["record-format", "record-index",
                                               "petition-fingerprint"]


def test_board_log_id() -> None:
    assert _petition_board_log_id("petition:0") == "saylau/petition/0"
    assert _petition_board_log_id("petition:12") == "saylau/petition/12"
    for bad in ("petition:", "petition:01", "petition:x", "poll:1", "petition:-1", "1",
                "petition:1:2"):
        with pytest.raises(InvalidEncoding, match="^petition id " + repr(bad) +
                           " is not petition:<number>$"):
            _petition_board_log_id(bad)


def _sig(c: Any) -> dict[str, Any]:
    return {"kind": "signature", "signature": {"region": {"ciphertext": c}}}


def test_ciphertext_copies() -> None:
    n = 1000003
    board = [_sig("a"), {"kind": "invalidation"}, _sig("b"), 5, _sig("a"),
             {"kind": "signature", "signature": 1}, {"kind": "signature",
                                                     "signature": {"region": 2}},
             _sig("0a"), _sig("b"), _sig("a"), {"kind": "invalidation",
                                                "signature": {"region": {"ciphertext": "a"}}}]
    details: list[str] = ["before"]
    assert _ciphertext_copies(n, board, details) == {4, 8, 9}
    assert details == [
        "before",
        "entry 4: region ciphertext copied from entry 0 (a signature copied under another "
        "credential)",
        "entry 8: region ciphertext copied from entry 2 (a signature copied under another "
        "credential)",
        "entry 9: region ciphertext copied from entry 0 (a signature copied under another "
        "credential)",
    ]
    assert _ciphertext_copies(n, [_sig("a"), _sig("b")], []) == set()


# --- fingerprint ------------------------------------------------------------------------


def test_fingerprint_details() -> None:
    def fp_check(change: Any = None, **kwargs: Any) -> Check | None:
        return _verify(change, **kwargs).check("petition-fingerprint")

    assert fp_check(expected_fingerprint=bytes.fromhex(FP)) == Check(
        "petition-fingerprint", True, f"fingerprint {FP[:16]}… recomputed")
    assert fp_check(expected_fingerprint=b"\x00" * 32, allow_test_keys=False) == Check(
        "petition-fingerprint", False, "petition fingerprint mismatch", [
            "the fingerprint differs from the one you expected",
            "TEST-SIZE election key (1024 bits < 2048): refused without --allow-test-keys"])
    assert fp_check(lambda f: f["petition.json"].__setitem__("fingerprint", "00" * 32)) == Check(
        "petition-fingerprint", False, "petition fingerprint mismatch",
        ["petition.json's fingerprint is not the hash of the parameters and keys"])


def test_fingerprint_parameters_that_do_not_fit_the_key() -> None:
    def many_regions(f: dict[str, Any]) -> None:
        params = f["petition.json"]["parameters"]
        params["regions"] = [{"id": f"x{i}", "label": f"x{i}"} for i in range(16)]
        params["base_bits"] = 64

    check = _verify(many_regions).check("petition-fingerprint")
    assert check is not None and check.ok is False
    assert check.details[-1] == ("parameters do not fit the election key: too many regions for "
                                 "this key size")


def test_board_key_unusable() -> None:
    report = _verify(lambda f: f["petition.json"].__setitem__("board_key", "00"))
    assert report.checks[-1] == Check(
        "petition-fingerprint", False,
        "petition keys unusable: board_key: expected 32 bytes, got 1")
    assert report.check("record-index") == Check(
        "record-index", False, "the signed record index does not match the files",
        ["no usable board key in election.json to check the index signature"])


def test_format_and_index() -> None:
    record = _record()
    record.format_errors = ["x: bad"]
    del record.files["record-index.json"]
    report = verify_petition_record(record, allow_test_keys=True)
    assert report.checks[:2] == [
        Check("record-format", False, "files do not follow the petition record format",
              ["x: bad"]),
        Check("record-index", False, "record-index.json missing")]


# --- board checks with a stub ------------------------------------------------------------


def _board_stub(monkeypatch: pytest.MonkeyPatch, *, counted: Any = None,
                invalidated: Any = (), problems: Any = ()) -> list[Any]:
    calls: list[Any] = []
    real = pv.verify_petition_board

    def verify(ctx: Any, board: Any, *, batch: bool) -> Any:
        calls.append((ctx, list(board), batch))
        result = real(ctx, board, batch=batch)
        if counted is not None:
            result.counted = dict.fromkeys(counted, 0)
        result.invalidated = set(invalidated)
        result.problems = list(problems)
        return result

    monkeypatch.setattr(pv, "verify_petition_board", verify)
    return calls


def test_board_problems_are_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _board_stub(monkeypatch, problems=[Problem(1, "credential", "bad"),
                                               Problem(3, "credential", "worse"),
                                               Problem(2, "invalidation", "no")])
    report = _verify()
    [(ctx, board, batch)] = calls
    assert batch is True
    assert board == PET["board.json"]
    assert ctx.fingerprint == bytes.fromhex(FP)
    assert ctx.params.petition_id == "petition:7"
    got = {c.name: c for c in report.checks}
    assert got["credentials"] == Check("credentials", False, "2 problem(s)",
                                       [str(Problem(1, "credential", "bad")),
                                        str(Problem(3, "credential", "worse"))])
    assert got["invalidations"] == Check("invalidations", False, "1 problem(s)",
                                         [str(Problem(2, "invalidation", "no"))])
    assert got["region-proofs"].ok is True


def test_copied_ciphertexts_are_reported_and_not_counted(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    def copy_first(f: dict[str, Any]) -> None:
        f["board.json"][3]["signature"]["region"] = copy.deepcopy(
            f["board.json"][0]["signature"]["region"])

    report = _verify(copy_first)
    assert report.check("ciphertext-copies") == Check(
        "ciphertext-copies", False, "1 problem(s)",
        ["entry 3: region ciphertext copied from entry 0 (a signature copied under another "
         "credential)"])
    assert report.check("issuance") == Check("issuance", True,
                                             "4 signatures ≤ 5 credentials issued")


def test_issuance(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _verify(lambda f: f["issuance.json"].__setitem__("count", 4)).check(
        "issuance") == Check("issuance", False, "more signatures than credentials issued",
                             ["5 signatures > 4 credentials issued"])
    assert _verify(lambda f: f["issuance.json"].pop("count")).check("issuance") == Check(
        "issuance", False, "issuance.json has no usable count")
    _board_stub(monkeypatch, counted=[0, 1], invalidated=[2, 0])
    assert _verify().check("issuance") == Check("issuance", True,
                                                "3 signatures ≤ 5 credentials issued")


def test_receipt_roots(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []

    def receipt_check(report: Any, receipt: Any, board: Any, leaves: Any, root_of: Any,
                      board_key: bytes, log_id: str) -> None:
        seen.append((receipt, board_key, log_id, list(leaves)))
        seen.append([root_of(size) for size in range(7)])

    monkeypatch.setattr(pv, "_check_receipt", receipt_check)
    _verify(None, {"index": 1})
    leaves = [entry_leaf_hash(e) for e in PET["board.json"]]
    assert seen[0] == ({"index": 1}, KEY.public_key_bytes(), "saylau/petition/7", leaves)
    assert seen[1] == [root_hash(leaves[:k]) for k in range(6)] + [None]
    seen.clear()
    _verify()
    assert seen == []


# --- the encrypted tally ----------------------------------------------------------------


def _tally_check(change: Any) -> Check | None:
    return _verify(lambda f: change(f["encrypted-tally.json"])).check("encrypted-tally")


def test_untallied_record() -> None:
    def untallied(f: dict[str, Any]) -> None:
        del f["results.json"], f["partial-decryptions.json"], f["encrypted-tally.json"]

    report = _verify(untallied)
    assert report.checks[-1] == Check("encrypted-tally", False,
                                      "the record has no decrypted region tally yet")
    assert len(report.checks) == len(_VALID) - 3


@pytest.mark.parametrize(("key", "value", "message"), [
    ("tree_size", "5", "encrypted-tally.json.tree_size: expected int"),
    ("ciphertext", 5, "encrypted-tally.json.ciphertext: expected str"),
    ("ciphertext", "0x1", "ciphertext: expected canonical lowercase hex"),
    ("count", "5", "encrypted-tally.json.count: expected int"),
    ("petition_id", 7, "encrypted-tally.json.petition_id: expected str"),
])
def test_tally_malformed(key: str, value: Any, message: str) -> None:
    report = _verify(lambda f: f["encrypted-tally.json"].__setitem__(key, value))
    assert report.checks[-1] == Check("encrypted-tally", False,
                                      f"encrypted-tally.json malformed: {message}")


@pytest.mark.parametrize("size", [-1, 6])
def test_tally_beyond_the_board(size: int) -> None:
    report = _verify(lambda f: f["encrypted-tally.json"].__setitem__("tree_size", size))
    assert report.checks[-1] == Check("encrypted-tally", False,
                                      f"the tally covers {size} entries; the board has 5")


def test_tally_details() -> None:
    def change(t: dict[str, Any]) -> None:
        t["petition_id"] = "petition:8"
        t["counted"] = [0, 1, 2, 3, 9]
        t["invalidated"] = [4]
        t["count"] = 4
        t["ciphertext"] = "1"

    assert _tally_check(change) == Check(
        "encrypted-tally", False, "the published region tally is not the board's", [
            "the encrypted tally names another petition",
            "counted entries differ: published counts [9] that must not count, omits [4]",
            "invalidated entries differ: published [4], board gives [] (an invalidation "
            "ignored or invented)",
            "count: published 4, board gives 5",
            "the ciphertext is not the product of the counted signatures"])
    assert _tally_check(lambda t: t.__setitem__("counted", [0, 1, 2, 3, 4, 4])) == Check(
        "encrypted-tally", False, "the published region tally is not the board's",
        ["counted entries differ: published counts none that must not count, omits none"])
    assert _tally_check(lambda t: t.pop("counted")) == Check(
        "encrypted-tally", False, "the published region tally is not the board's",
        ["counted entries differ: published counts none that must not count, "
         "omits [0, 1, 2, 3, 4]"])


@pytest.mark.parametrize("counted", [[[1]], 5, ["a", 99], [True, 1], {"a": 1}],
                         ids=["nested", "int", "mixed", "bool", "object"])
def test_tally_with_a_counted_list_that_is_not_positions(counted: Any) -> None:
    # Defect fixed (#16): a published "counted" that is not a list of integers made the set
    # arithmetic raise TypeError (unhashable / not iterable / unorderable) out of the verifier
    # (nested, int, mixed); a boolean or an object was compared as if it listed positions.
    assert _tally_check(lambda t: t.__setitem__("counted", counted)) == Check(
        "encrypted-tally", False, "the published region tally is not the board's",
        ["counted entries differ: published counted is not a list of entry positions"])


def test_tally_of_a_prefix_with_invalidations(monkeypatch: pytest.MonkeyPatch) -> None:
    def board(f: dict[str, Any]) -> None:
        f["board.json"].append({"kind": "invalidation", "target_index": 1})
        f["board.json"].append({"kind": "invalidation", "target_index": [2]})
        f["board.json"].append({"kind": "invalidation", "target_index": True})
        f["board.json"].append(7)
        f["encrypted-tally.json"]["tree_size"] = 9
        f["encrypted-tally.json"]["counted"] = [0, 2, 3, 4]
        f["encrypted-tally.json"]["invalidated"] = [1]

    _board_stub(monkeypatch, invalidated=[1, 3])
    # Defect fixed (#16): an invalidation whose target_index is a list raised TypeError
    # ("unhashable type") in the set of invalidated targets.
    check = _verify(board).check("encrypted-tally")
    assert check is not None
    assert check.details[:2] == [
        "count: published 5, board gives 4",
        "the ciphertext is not the product of the counted signatures"]


def test_tally_of_a_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    def board(f: dict[str, Any]) -> None:
        f["board.json"].append({"kind": "invalidation", "target_index": 1})
        f["encrypted-tally.json"]["tree_size"] = 5
        f["encrypted-tally.json"]["counted"] = [0, 2, 3, 4]
        f["encrypted-tally.json"]["invalidated"] = [1]

    _board_stub(monkeypatch, invalidated=[1])
    check = _verify(board).check("encrypted-tally")
    assert check is not None and check.details[0] == (
        "counted entries differ: published counts none that must not count, omits [1]")
    assert check.details[1] == ("invalidated entries differ: published [1], board gives [] "
                                "(an invalidation ignored or invented)")


# --- partial decryptions, combination, results ------------------------------------------


@pytest.mark.parametrize(("partials", "message"), [
    ({"a": 1}, "malformed: partial-decryptions.json: expected a list"),
    ([5], "malformed: partial decryption: expected a JSON object"),
])
def test_partials_malformed(partials: Any, message: str) -> None:
    report = _verify(lambda f: f.__setitem__("partial-decryptions.json", partials))
    assert report.checks[-1] == Check("partial-decryptions", False, message)


def test_partials_repeated_or_wrong() -> None:
    def change(f: dict[str, Any]) -> None:
        parts = f["partial-decryptions.json"]
        parts.append(copy.deepcopy(parts[0]))
        parts[1]["c_i"] = parts[2]["c_i"]

    report = _verify(change)
    check = report.check("partial-decryptions")
    assert check is not None and check.ok is False
    assert check.message == "2 partial decryption(s) fail their proofs"
    assert check.details[0].startswith("trustee 3: ")
    assert check.details[1] == "partial 3: trustee 1 appears twice"


def test_decryption_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    report = _verify(lambda f: f.__setitem__("partial-decryptions.json",
                                             f["partial-decryptions.json"][:2]))
    assert report.checks[-1].name == "decryption"
    assert report.checks[-1].message.startswith("cannot decrypt the region tally: ")
    monkeypatch.setattr(pv, "combine", lambda *a, **k: SimpleNamespace(m=0, used=(1, 2, 3)))
    assert _verify().checks[-1] == Check(
        "decryption", False,
        "the decrypted region counts do not add up to the 5 counted signatures")


@pytest.mark.parametrize("results", [[], {"counts": []}, {}])
def test_results_malformed(results: Any) -> None:
    assert _verify(lambda f: f.__setitem__("results.json", results)).checks[-1] == Check(
        "results", False, "results.json malformed")


def test_results_details() -> None:
    def change(f: dict[str, Any]) -> None:
        f["results.json"] = {"petition_id": "petition:8", "tree_size": 5, "count": 4,
                             "counts": {"r0": 1, "r1": 2, "r2": 2, "r4": 1, "r9": 0}}

    report = _verify(change)
    assert report.checks[-1] == Check(
        "results", False, "published results differ from the decrypted tally", [
            "r1: published 2, decrypted 1", "r3: published None, decrypted 0",
            "r9: published but not a region of the petition",
            "count: published 4, decrypted 5",
            "the results name another petition or board size"])
    assert report.tally is None
    other_size = _verify(lambda f: f["results.json"].__setitem__("tree_size", 4))
    assert other_size.checks[-1].details == ["the results name another petition or board size"]


def test_invalid_record_has_no_tally() -> None:
    report = _verify(lambda f: f["issuance.json"].__setitem__("count", 4))
    assert report.checks[-1] == Check("results", True, "published region counts = decrypted tally")
    assert report.tally is None


@pytest.mark.parametrize("change", [
    lambda f: f["petition.json"]["election_key"].__setitem__("x", "\ud800"),
    lambda f: f["petition.json"]["issuer_key"].__setitem__("x", "\ud800"),
], ids=["election-key", "issuer-key"])
def test_a_fingerprint_canonical_json_refuses_is_reported(change: Any) -> None:
    # Defect fixed (#16): petition_fingerprint's canonical_json refused a lone surrogate
    # (JSON "\ud800") in a key, and the error escaped the verifier.
    files = copy.deepcopy(PET)
    change(files)
    record = Record("mem", {name: b"" for name in files}, files)
    report = verify_petition_record(record, allow_test_keys=True)
    check = report.check("petition-fingerprint")
    assert check is not None
    assert (check.ok, check.message) == (False, "petition keys unusable: fingerprint: $: a "
                                                "string is not valid Unicode (lone surrogate)")
    assert report.checks[-1] is check


# --- killing the first run's survivors ---------------------------------------------------


def test_report_text_replaces_only_the_first_occurrence() -> None:
    report = PetitionReport("src", election_id="p")
    report.add("a", False, "Election record: x; Election: p", ["Verified tally: 1",
                                                               "Verified tally: 2"])
    lines = report.render_text().split("\n")
    assert lines[:4] == ["Petition record: src", "Petition: p", "",
                         "  [FAIL] a  Election record: x; Election: p"]
    assert lines[4:6] == ["         - Verified signatures by region: 1",
                          "         - Verified tally: 2"]
    valid = _verify()
    assert valid.render_text().split("\n")[-7] == (
        "RESULT: the record is VALID. Verified signatures by region:")


def test_malformed_fingerprint_is_named() -> None:
    report = _verify(lambda f: f["petition.json"].__setitem__("fingerprint", "ab"))
    assert report.checks[-1] == Check("petition-fingerprint", False,
                                      "petition keys unusable: fingerprint: expected 32 bytes, "
                                      "got 1")


def test_paths_are_read_not_strict(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    record = _record()

    def read(path: Any, **kwargs: Any) -> Record:
        calls.append((path, kwargs))
        return record

    monkeypatch.setattr(pv, "read_record", read)
    report = verify_petition_record("a/path", allow_test_keys=True)
    assert report.valid and report.source == "mem"
    assert calls == [("a/path", {"strict": False})]


def test_production_key_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pv, "PRODUCTION_KEY_BITS", 1024)
    assert _verify(allow_test_keys=False).check("petition-fingerprint") == Check(
        "petition-fingerprint", True, f"fingerprint {FP[:16]}… recomputed")


def test_receipt_roots_of_sizes_without_a_head(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []

    def receipt_check(report: Any, receipt: Any, board: Any, leaves: Any, root_of: Any,
                      board_key: bytes, log_id: str) -> None:
        seen.append([root_of(size) for size in range(7)])

    monkeypatch.setattr(pv, "_check_receipt", receipt_check)
    _verify(lambda f: f.__setitem__("tree-heads.json", f["tree-heads.json"][-1:]), {"index": 1})
    leaves = [entry_leaf_hash(e) for e in PET["board.json"]]
    assert seen == [[root_hash(leaves[:k]) for k in range(6)] + [None]]


def test_a_real_receipt() -> None:
    from crypto.merkle import MerkleLog, make_inclusion_proof

    leaves = [entry_leaf_hash(e) for e in PET["board.json"]]
    receipt = {"tree_head": PET["tree-heads.json"][-1], "index": 1,
               "inclusion_proof": make_inclusion_proof(MerkleLog(leaves), 1).to_json(),
               "leaf_hash": leaves[1].hex()}
    report = _verify(None, receipt)
    assert report.check("receipt") == Check(
        "receipt", True, "ballot 1 is on the board, included as the receipt says")
    assert [c.name for c in report.checks].index("receipt") == 13


def test_tally_of_no_entries() -> None:
    def empty(f: dict[str, Any]) -> None:
        f["encrypted-tally.json"].update(tree_size=0, counted=[], invalidated=[], count=0,
                                         ciphertext="1")

    assert _verify(empty).check("encrypted-tally") == Check(
        "encrypted-tally", True,
        "recomputed from 0 counted signatures of the first 0 entries (0 invalidated)")


def test_tally_of_a_prefix_stops_before_tree_size(monkeypatch: pytest.MonkeyPatch) -> None:
    def prefix(f: dict[str, Any]) -> None:
        f["encrypted-tally.json"].update(tree_size=4, counted=[0, 1, 2, 3], invalidated=[],
                                         count=4)

    check = _verify(prefix).check("encrypted-tally")
    assert check is not None
    assert check.details == ["the ciphertext is not the product of the counted signatures"]

    def target_at_the_cut(f: dict[str, Any]) -> None:
        f["board.json"][3] = {"kind": "invalidation", "target_index": 4}
        f["encrypted-tally.json"].update(tree_size=4, counted=[0, 1, 2], invalidated=[],
                                         count=3)

    _board_stub(monkeypatch, counted=[0, 1, 2, 4], invalidated=[4])
    check = _verify(target_at_the_cut).check("encrypted-tally")
    assert check is not None
    assert check.details == ["the ciphertext is not the product of the counted signatures"]


def test_partials_after_a_repeated_one_are_still_checked() -> None:
    def change(f: dict[str, Any]) -> None:
        parts = f["partial-decryptions.json"]
        parts[2]["c_i"] = parts[1]["c_i"]
        parts.insert(1, copy.deepcopy(parts[0]))

    check = _verify(change).check("partial-decryptions")
    assert check is not None
    assert check.details[0] == "partial 1: trustee 1 appears twice"
    assert len(check.details) == 2 and check.details[1].startswith("trustee 5: ")


def test_decryption_failure_fails() -> None:
    report = _verify(lambda f: f.__setitem__("partial-decryptions.json",
                                             f["partial-decryptions.json"][:2]))
    assert (report.checks[-1].name, report.checks[-1].ok) == ("decryption", False)
