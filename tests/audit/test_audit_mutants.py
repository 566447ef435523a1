"""Unit tests of the small audit/ modules written for mutation testing (issue #16):
report.py (every field, verdict branch and rendered line), record_index.py (every check with
its exact message), keygen_check.py, tally_completion.py and board_pass.py (their
collaborators replaced by recording stubs)."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.board_pass import BoardUnreadable as BoardUnreadableAlias
from audit.record_index import index_message, sign_index, verify_index
from audit.report import MAX_DETAILS_SHOWN, Check, Report
from crypto.encoding import canonical_json
from crypto.errors import InvalidEncoding, InvalidKey, InvalidSignature
from crypto.tree_head import BoardSigningKey

# --- audit/report.py -------------------------------------------------------------------


def test_check_to_json_copies_the_details() -> None:
    details = ["entry 1: bad"]
    check = Check("c", False, "m", details)
    out = check.to_json()
    assert out == {"name": "c", "ok": False, "message": "m", "details": ["entry 1: bad"]}
    assert out["details"] is not details
    assert Check("d", True, "n").details == []


def test_add_returns_the_check_and_copies_the_details() -> None:
    report = Report("src")
    details = ["x"]
    item = report.add("a", False, "msg", details)
    assert item == Check("a", False, "msg", ["x"])
    assert item.details is not details
    assert report.checks == [item]
    assert report.add("b", True, "ok").details == []
    assert report.checks[1] == Check("b", True, "ok", [])


def test_valid_needs_checks_and_all_passing() -> None:
    report = Report("src")
    assert report.valid is False
    report.add("a", True, "ok")
    assert report.valid is True
    report.add("b", False, "no")
    assert report.valid is False
    assert [c.name for c in report.failed()] == ["b"]


def test_check_finds_the_first_of_a_name() -> None:
    report = Report("src")
    first = report.add("a", True, "one")
    report.add("a", False, "two")
    assert report.check("a") is first
    assert report.check("b") is None


def _fault_report(details: list[str], *, with_results: bool = True,
                  name: str = "ballot-proofs") -> Report:
    report = Report("src", operator_fault_checks=frozenset({"ballot-proofs", "signatures"}))
    report.add("record-index", True, "ok")
    report.add(name, False, "bad entries", details)
    if with_results:
        report.add("results", True, "ok")
    return report


def test_verdicts() -> None:
    valid = Report("src")
    valid.add("a", True, "ok")
    assert valid.verdict == "valid"
    assert Report("src").verdict == "invalid"
    assert _fault_report(["entry 3: bad proof"]).verdict == "operator-fault"
    assert _fault_report(["entries after entry 3: bad"]).verdict == "operator-fault"
    assert _fault_report(["entry 3: bad", "entry 4: bad"]).verdict == "operator-fault"
    assert _fault_report(["entry 3: bad", "board: bad"]).verdict == "invalid"
    assert _fault_report(["board: bad"]).verdict == "invalid"
    assert _fault_report([]).verdict == "invalid"
    assert _fault_report(["entry 3: bad"], with_results=False).verdict == "invalid"
    assert _fault_report(["entry 3: bad"], name="tally").verdict == "invalid"
    both = _fault_report(["entry 3: bad"])
    both.add("signatures", False, "bad", ["entry 5: bad signature"])
    assert both.verdict == "operator-fault"
    mixed = _fault_report(["entry 3: bad"])
    mixed.add("tally", False, "bad", ["entry 5: bad"])
    assert mixed.verdict == "invalid"


def test_operator_faults_name_only_failed_fault_checks() -> None:
    report = _fault_report(["entry 3: bad proof", "entry 4: bad proof"])
    report.add("signatures", True, "ok", ["entry 9: not failed"])
    report.add("tally", False, "bad", ["entry 5: not a fault check"])
    assert report.operator_faults == ["ballot-proofs: entry 3: bad proof",
                                      "ballot-proofs: entry 4: bad proof"]


def test_to_json_of_a_valid_report() -> None:
    report = Report("rec", tally={"q": {"yes": 2}}, election_id="e1",
                    valid_entries_tally={"q": {"yes": 1}})
    report.add("a", True, "ok")
    assert report.to_json() == {
        "valid": True, "source": "rec", "election_id": "e1",
        "checks": [{"name": "a", "ok": True, "message": "ok", "details": []}],
        "tally": {"q": {"yes": 2}}, "verdict": "valid", "operator_faults": [],
        "valid_entries_tally": None,
    }


def test_to_json_of_an_operator_fault_and_an_invalid_report() -> None:
    report = _fault_report(["entry 3: bad proof"])
    report.tally = {"q": {"yes": 9}}
    report.valid_entries_tally = {"q": {"yes": 1}}
    out = report.to_json()
    assert out["valid"] is False
    assert out["tally"] is None
    assert out["verdict"] == "operator-fault"
    assert out["operator_faults"] == ["ballot-proofs: entry 3: bad proof"]
    assert out["valid_entries_tally"] == {"q": {"yes": 1}}
    invalid = _fault_report(["board: bad"])
    invalid.valid_entries_tally = {"q": {"yes": 1}}
    assert invalid.to_json()["valid_entries_tally"] is None
    assert invalid.to_json()["verdict"] == "invalid"


def test_render_text_of_a_valid_report() -> None:
    report = Report("rec.zip", tally={"q1": {"yes": 2, "no": 1}, "q2": {"a": 0}},
                    election_id="e1")
    report.add("index", True, "signed")
    report.add("ballot-proofs", True, "all hold", ["not shown"])
    assert report.render_text() == "\n".join([
        "Election record: rec.zip",
        "Election: e1",
        "",
        "  [PASS] index          signed",
        "  [PASS] ballot-proofs  all hold",
        "",
        "RESULT: the record is VALID. Verified tally:",
        "  q1:",
        "    yes: 2",
        "    no: 1",
        "  q2:",
        "    a: 0",
    ])


def test_render_text_of_an_invalid_report_lists_at_most_the_shown_details() -> None:
    report = Report("rec")
    report.add("abc", False, "broken", [f"d{i}" for i in range(MAX_DETAILS_SHOWN + 2)])
    report.add("x", False, "also", [f"e{i}" for i in range(MAX_DETAILS_SHOWN)])
    lines = report.render_text().split("\n")
    assert lines[:3] == ["Election record: rec", "", "  [FAIL] abc  broken"]
    assert lines[3:3 + MAX_DETAILS_SHOWN] == [f"         - d{i}" for i in range(MAX_DETAILS_SHOWN)]
    assert lines[3 + MAX_DETAILS_SHOWN] == "         … and 2 more"
    rest = lines[4 + MAX_DETAILS_SHOWN:]
    assert rest[0] == "  [FAIL] x    also"
    assert rest[1:1 + MAX_DETAILS_SHOWN] == [f"         - e{i}" for i in range(MAX_DETAILS_SHOWN)]
    assert rest[1 + MAX_DETAILS_SHOWN:] == ["", "RESULT: the record is NOT valid; failed: abc, x"]
    assert MAX_DETAILS_SHOWN == 20


def test_render_text_of_an_empty_report_and_of_a_valid_one_without_tally() -> None:
    assert Report("r").render_text() == (
        "Election record: r\n\n\nRESULT: the record is NOT valid; failed: ")
    report = Report("r")
    report.add("a", True, "ok")
    assert report.render_text().split("\n")[-1] == "RESULT: the record is NOT valid; failed: "


def test_render_text_of_an_operator_fault() -> None:
    report = _fault_report(["entry 3: bad proof"])
    report.valid_entries_tally = {"q": {"yes": 1, "no": 0}}
    text = report.render_text()
    assert text.split("\n")[-4:] == [
        "RESULT: the record is NOT valid: OPERATOR FAULT — the service accepted 1 board entry "
        "that no conforming server accepts (listed above). They are excluded; the tally of the "
        "valid entries was recomputed, decrypted and checked:",
        "  q:",
        "    yes: 1",
        "    no: 0",
    ]
    two = _fault_report(["entry 3: bad proof", "entry 4: bad proof"])
    two.valid_entries_tally = {"q": {"yes": 1}}
    assert "accepted 2 board entries that no" in two.render_text()
    without = _fault_report(["entry 3: bad proof"])
    assert without.render_text().split("\n")[-1] == (
        "RESULT: the record is NOT valid; failed: ballot-proofs")


# --- audit/record_index.py -------------------------------------------------------------

_FILES = {"election.json": "11" * 32, "board.json": "22" * 32}


def test_index_message_is_canonical_json_of_format_and_files() -> None:
    assert index_message({"b": "1", "a": "2"}) == (
        b'{"files":{"a":"2","b":"1"},"format":"saylau-election-record/v1"}')
    assert index_message({}, "fmt") == b'{"files":{},"format":"fmt"}'


def test_sign_index_hashes_every_file_and_signs() -> None:
    key = BoardSigningKey.from_seed_hex("07" * 32)
    raw = {"roll.json": b"r", "election.json": b"e"}
    index = sign_index(raw, key)
    files = {"election.json": hashlib.sha256(b"e").hexdigest(),
             "roll.json": hashlib.sha256(b"r").hexdigest()}
    assert index["format"] == "saylau-election-record/v1"
    assert index["files"] == files
    assert list(index["files"]) == ["election.json", "roll.json"]
    message = b'{"files":' + b'{"election.json":"%s","roll.json":"%s"}' % (
        files["election.json"].encode(), files["roll.json"].encode()) + (
        b',"format":"saylau-election-record/v1"}')
    Ed25519PublicKey.from_public_bytes(key.public_key_bytes()).verify(
        bytes.fromhex(index["signature"]), message)
    petition = sign_index({"petition.json": b"p"}, key)
    assert petition["format"] == "saylau-petition-record/v1"
    assert sign_index(raw, key, "other")["format"] == "other"
    verify_index(petition, key.public_key_bytes(), "saylau-petition-record/v1")


def test_verify_index_accepts_the_signed_index() -> None:
    key = BoardSigningKey.from_seed_hex("08" * 32)
    index = sign_index({"a.json": b"x"}, key)
    verify_index(index, key.public_key_bytes())
    other = sign_index({"a.json": b"x"}, key, "fmt2")
    verify_index(other, key.public_key_bytes(), "fmt2")


def test_verify_index_errors_are_named() -> None:
    key = BoardSigningKey.from_seed_hex("09" * 32)
    index = sign_index({"a.json": b"x"}, key)
    pub = key.public_key_bytes()
    with pytest.raises(InvalidEncoding, match=r"^record index: expected a JSON object$"):
        verify_index([], pub)
    with pytest.raises(InvalidEncoding, match=r"^record index: missing field 'files'$"):
        verify_index({"format": index["format"]}, pub)
    with pytest.raises(InvalidEncoding, match=r"^record index\.files: expected dict$"):
        verify_index({**index, "files": []}, pub)
    with pytest.raises(InvalidEncoding, match=r"^record index: missing field 'format'$"):
        verify_index({"files": index["files"]}, pub)
    with pytest.raises(InvalidEncoding, match=r"^record index\.format: expected str$"):
        verify_index({**index, "format": 1}, pub)
    with pytest.raises(InvalidEncoding,
                       match=r"^record index: format is not saylau-election-record/v1$"):
        verify_index({**index, "format": "v0"}, pub)
    with pytest.raises(InvalidEncoding, match=r"^record index: format is not fmt2$"):
        verify_index(index, pub, "fmt2")
    with pytest.raises(InvalidEncoding, match=r"^record index: missing field 'signature'$"):
        verify_index({"files": index["files"], "format": index["format"]}, pub)
    with pytest.raises(InvalidEncoding, match=r"^record index\.signature: expected str$"):
        verify_index({**index, "signature": 5}, pub)
    with pytest.raises(InvalidEncoding, match=r"^signature: expected lowercase hex bytes$"):
        verify_index({**index, "signature": "XY"}, pub)
    with pytest.raises(InvalidEncoding, match=r"^signature: expected 64 bytes, got 63$"):
        verify_index({**index, "signature": index["signature"][:-2]}, pub)
    with pytest.raises(InvalidKey, match=r"^board public key is not an Ed25519 key$"):
        verify_index(index, pub[:31])
    with pytest.raises(InvalidSignature,
                       match=r"^record index signature does not verify under the board key$"):
        verify_index(index, BoardSigningKey.from_seed_hex("0a" * 32).public_key_bytes())
    with pytest.raises(InvalidSignature,
                       match=r"^record index signature does not verify under the board key$"):
        verify_index({**index, "files": {"a.json": "00" * 32}}, pub)
    with pytest.raises(InvalidSignature,
                       match=r"^record index signature does not verify under the board key$"):
        verify_index({**index, "files": _FILES}, pub)


# --- audit/keygen_check.py -------------------------------------------------------------
# The record and the key are stand-ins: the check reads ``election.json``, ``keygen.json``,
# ``tpk.share_bits`` and ``tpk.trustees`` only, and compares the certified key with ``!=``;
# ``verify_transcript`` (tested in tests/crypto/dkg) is replaced by a recording stub.


def _keygen(election: object, transcript: object = None, *, share_bits: int | None = None,
            certified: object = "same", fails: bool = False,
            monkeypatch: pytest.MonkeyPatch | None = None) -> tuple[Check, list[object]]:
    import crypto.dkg.transcript as dkg_transcript
    from audit.keygen_check import check_key_generation
    from audit.record import Record
    from crypto.errors import CryptoError

    tpk = SimpleNamespace(share_bits=share_bits, trustees=3)
    calls: list[object] = []

    def fake(obj: object, *, election: object = None) -> object:
        calls.append((obj, election))
        if fails:
            raise CryptoError("keygen transcript: session id mismatch")
        return tpk if certified == "same" else certified

    if monkeypatch is not None:
        monkeypatch.setattr(dkg_transcript, "verify_transcript", fake)
    files: dict[str, object] = {}
    if election is not None:
        files["election.json"] = election
    if transcript is not None:
        files["keygen.json"] = transcript
    report = Report("r")
    check_key_generation(report, Record("r", {}, files), cast(Any, tpk))
    assert [c.name for c in report.checks] == ["key-generation"]
    return report.checks[0], calls


def test_keygen_check_dealer_keys() -> None:
    assert _keygen({"election_id": "e"})[0] == Check(
        "key-generation", True, "trusted-dealer key (saylau ceremony); no transcript")
    assert _keygen(None)[0].ok is True
    assert _keygen({"key_generation": "dealer"})[0].ok is True
    assert _keygen({"key_generation": "dealer"}, {"t": 1})[0] == Check(
        "key-generation", False,
        "keygen.json is present but election.json says the key came from a dealer")
    assert _keygen({}, share_bits=4096)[0] == Check(
        "key-generation", False,
        "the election key has θ ≠ 1 (a distributed key) but election.json says it came "
        "from a dealer")


def test_keygen_check_distributed_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    election = {"key_generation": "distributed", "election_id": "e7"}
    transcript = {"candidates_tried": 12}
    check, calls = _keygen(election, transcript, monkeypatch=monkeypatch)
    assert check == Check("key-generation", True, "distributed key generation by 3 trustees "
                          "verified (12 candidates tried; no dealer)")
    assert calls == [(transcript, "e7")]
    assert _keygen(election, monkeypatch=monkeypatch)[0] == Check(
        "key-generation", False,
        "election.json says the key was generated by the trustees, but keygen.json is missing")
    assert _keygen(election, transcript, certified="other", monkeypatch=monkeypatch)[0] == Check(
        "key-generation", False, "the transcript certifies a different key than election.json's")
    assert _keygen(election, transcript, fails=True, monkeypatch=monkeypatch)[0] == Check(
        "key-generation", False, "the key-generation transcript fails",
        ["keygen transcript: session id mismatch"])


# --- audit/tally_completion.py ---------------------------------------------------------
# complete_record is plumbing between verify_board_record, TrusteePartials.from_json and
# combine_tally (each tested on real records elsewhere); here they are recording stubs, so
# every argument passed and every file written is checked.


class _Json:
    def __init__(self, value: object) -> None:
        self.value = value

    def to_json(self) -> object:
        return self.value


def _complete(monkeypatch: pytest.MonkeyPatch, *, failed: tuple[str, ...] = (),
              unusable: str = "", require_valid_board: bool | None = None
              ) -> tuple[Any, list[tuple[str, Any]]]:
    import audit.tally_completion as tc
    from audit.record import Record

    calls: list[tuple[str, Any]] = []
    report = Report("r")
    report.add("record-index", True, "ok")
    for name in failed:
        report.add(name, False, "bad")
    keys = {"tally": _Json({"enc": 1}), "tpk": "TPK", "fingerprint": b"fp"}
    if unusable:
        keys[unusable] = None
    checked = SimpleNamespace(report=report, **keys)

    def verify(record: object, *, progress: object = None) -> object:
        calls.append(("verify", (record, progress)))
        return checked

    def combine(tpk: object, tally: object, sets: object, *, fingerprint: object,
                progress: object = None) -> object:
        calls.append(("combine", (tpk, tally, sets, fingerprint, progress)))
        return SimpleNamespace(results={"q": {"yes": 1}}, rejected=[ValueError("trustee 2")])

    monkeypatch.setattr(tc, "verify_board_record", verify)
    monkeypatch.setattr(tc, "combine_tally", combine)
    monkeypatch.setattr(tc.TrusteePartials, "from_json", staticmethod(_Json))
    files = {"manifest.json": {"m": 1}, "election.json": {"e": 1}, "keygen.json": {"k": 1},
             "roll.json": {"r": 1}, "results.json": {"old": 1}, "extra.json": {"x": 1}}
    record = Record("r", {}, files)
    if require_valid_board is None:  # the default
        out = tc.complete_record(record, [{"p": 1}, {"p": 2}], progress=print)
    else:
        out = tc.complete_record(record, [{"p": 1}, {"p": 2}], progress=print,
                                 require_valid_board=require_valid_board)
    calls.append(("record", record))
    return out, calls


def test_complete_record_writes_the_tally_files(monkeypatch: pytest.MonkeyPatch) -> None:
    out, calls = _complete(monkeypatch)
    record = calls[-1][1]
    assert calls[0] == ("verify", (record, print))
    name, args = calls[1]
    tpk, tally, sets, fingerprint, progress = cast(tuple[Any, ...], args)
    assert (name, tpk, fingerprint, progress) == ("combine", "TPK", b"fp", print)
    assert tally.to_json() == {"enc": 1}
    assert [s.value for s in sets] == [{"p": 1}, {"p": 2}]
    assert out.files == {"manifest.json": {"m": 1}, "election.json": {"e": 1},
                         "keygen.json": {"k": 1}, "roll.json": {"r": 1},
                         "encrypted-tally.json": {"enc": 1},
                         "partial-decryptions.json": [{"p": 1}, {"p": 2}],
                         "results.json": {"q": {"yes": 1}}}
    assert out.results == {"q": {"yes": 1}}
    assert out.rejected == ["trustee 2"]
    assert [c.name for c in out.board_report.checks] == ["record-index"]


def test_complete_record_refuses_failed_boards_and_unusable_keys(
        monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match=r"^board checks failed: signatures, tally$"):
        _complete(monkeypatch, failed=("signatures", "tally"))
    with pytest.raises(ValueError, match=r"^board checks failed: tally$"):
        _complete(monkeypatch, failed=("tally",), require_valid_board=True)
    out, _ = _complete(monkeypatch, failed=("signatures",), require_valid_board=False)
    assert [c.name for c in out.board_report.failed()] == ["signatures"]
    for unusable in ("tally", "tpk", "fingerprint"):
        with pytest.raises(ValueError, match=r"^the record's election keys are unusable$"):
            _complete(monkeypatch, unusable=unusable, require_valid_board=False)


# --- audit/board_pass.py ---------------------------------------------------------------


def _board(tmp_path: Path, entries: list[object]) -> Path:
    (tmp_path / "board.json").write_bytes(canonical_json(entries) + b"\n")
    return tmp_path


def test_stream_board_without_keys_lists_structure_errors_up_to_the_limit(
        tmp_path: Path) -> None:
    from audit.board_pass import stream_board
    from tally.verify_board import MAX_PROBLEMS

    source = _board(tmp_path, [7] * (MAX_PROBLEMS + 2))
    result = stream_board(source, None, chunk=3)
    data = (tmp_path / "board.json").read_bytes()
    assert result.digest == hashlib.sha256(data).hexdigest()
    assert result.result is None
    assert len(result.leaves) == 0
    assert result.kept == {}
    assert result.shape_errors[:2] == ["board.json/0: not an object", "board.json/1: not an object"]
    assert result.shape_errors[MAX_PROBLEMS - 1] == f"board.json/{MAX_PROBLEMS - 1}: not an object"
    assert result.shape_errors[MAX_PROBLEMS:] == ["board.json: 2 more structure error(s), not listed"]
    assert MAX_PROBLEMS == 1000


def test_stream_board_without_keys_and_few_errors(tmp_path: Path) -> None:
    from audit.board_pass import stream_board

    result = stream_board(_board(tmp_path, [1, "x", {"kind": "ballot"}]), None)
    assert result.shape_errors[:2] == ["board.json/0: not an object",
                                       "board.json/1: not an object"]
    assert result.shape_errors[2] == "board.json/2: 'index' is required"
    assert stream_board(_board(tmp_path, []), None).shape_errors == []


def test_stream_board_unreadable(tmp_path: Path) -> None:
    from audit.board_pass import BoardUnreadable, stream_board

    (tmp_path / "board.json").write_bytes(b'{"a": 1}')
    with pytest.raises(BoardUnreadable, match=r"^board\.json is not a JSON array$"):
        stream_board(tmp_path, None)


class _Stream:
    instances: list[_Stream] = []

    def __init__(self, ctx: object, **kwargs: object) -> None:
        self.ctx, self.kwargs = ctx, kwargs
        self.fed: list[list[object]] = []
        self.closed = False
        self.leaves = bytearray(b"\x01" * 32)
        _Stream.instances.append(self)

    def feed(self, entries: list[object]) -> None:
        if entries == ["boom"]:
            raise KeyboardInterrupt
        self.fed.append(entries)

    def close(self) -> None:
        self.closed = True

    def finish(self, again: Any) -> object:
        self.again = [list(c) for c in again()]
        return "RESULT"

    def shape_report(self) -> list[str]:
        return ["shape"]


def test_stream_board_with_keys_feeds_the_stream(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import audit.board_pass as bp

    monkeypatch.setattr(bp, "BoardStream", _Stream)
    _Stream.instances.clear()
    source = _board(tmp_path, [0, 1, 2, 3, 4])
    result = bp.stream_board(source, cast(Any, "CTX"), credentials_issued=9, progress=print,
                             workers=2, scheduler="s", receipt={"index": 3},
                             expected_total=5, chunk=2)
    stream = _Stream.instances[0]
    assert stream.ctx == "CTX"
    assert stream.kwargs == {"credentials_issued": 9, "progress": print, "workers": 2,
                             "scheduler": "s", "expected_total": 5, "shape": True}
    assert stream.fed == [[0, 1], [2, 3], [4]]
    assert stream.again == [[0, 1], [2, 3], [4]]
    assert stream.closed is False
    assert result.digest == hashlib.sha256((tmp_path / "board.json").read_bytes()).hexdigest()
    assert result.leaves.packed == bytearray(b"\x01" * 32)
    assert result.shape_errors == ["shape"]
    assert result.result == "RESULT"
    assert result.kept == {3: 3}
    for index, kept in ((0, {0: 0}), (1, {1: 1}), (4, {4: 4}), (5, {}), ("3", {})):
        got = bp.stream_board(source, cast(Any, "CTX"), receipt={"index": index}, chunk=2)
        assert got.kept == kept
    assert bp.stream_board(source, cast(Any, "CTX"), receipt=cast(Any, [3])).kept == {}
    _Stream.instances.clear()
    bp.stream_board(source, cast(Any, "CTX"))
    assert _Stream.instances[0].kwargs == {"credentials_issued": None, "progress": None,
                                           "workers": None, "scheduler": None,
                                           "expected_total": 0, "shape": True}
    assert _Stream.instances[0].fed == [[0, 1, 2, 3, 4]]


def test_stream_board_closes_the_stream_on_errors(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import audit.board_pass as bp

    monkeypatch.setattr(bp, "BoardStream", _Stream)
    _Stream.instances.clear()
    with pytest.raises(KeyboardInterrupt):
        bp.stream_board(_board(tmp_path, ["boom"]), cast(Any, "CTX"))
    assert _Stream.instances[0].closed is True
    _Stream.instances.clear()
    (tmp_path / "board.json").write_bytes(b"[1, 2")
    with pytest.raises(BoardUnreadableAlias, match=r"^board\.json: the array is not closed$"):
        bp.stream_board(tmp_path, cast(Any, "CTX"))
    assert _Stream.instances[0].closed is True


# --- audit/record_stream.py ------------------------------------------------------------


def test_board_chunks_default_chunk_is_256(tmp_path: Path) -> None:
    from audit.record_stream import board_chunks

    source = _board(tmp_path, list(range(257)))
    assert [len(c) for c in board_chunks(source)] == [256, 1]


class _Reads(io.BytesIO):
    """A byte stream that records the size of every read."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.sizes: list[int | None] = []

    def read(self, size: int | None = -1, /) -> bytes:
        self.sizes.append(size)
        return super().read(size)


def _array(data: bytes, read_bytes: int | None = None) -> list[Any]:
    from audit.record_stream import iter_json_array

    if read_bytes is None:
        return list(iter_json_array(io.BytesIO(data)))
    return list(iter_json_array(io.BytesIO(data), read_bytes=read_bytes))


@pytest.mark.parametrize("read_bytes", [None, 1, 2, 3, 5])
def test_iter_json_array_elements(read_bytes: int | None) -> None:
    data = ' \n[ 1 ,{"a":[2, "€"]},\t"x" , 12345 ,[]] \r\n'.encode()
    assert _array(data, read_bytes) == [1, {"a": [2, "€"]}, "x", 12345, []]
    assert _array(b"[]", read_bytes) == []
    assert _array(b" [ \n ] ", read_bytes) == []
    assert _array(b"[7]", read_bytes) == [7]


def test_iter_json_array_hashes_every_byte_and_reads_in_default_blocks() -> None:
    from audit.record_stream import READ_BYTES, iter_json_array

    data = b"[1, 2]  \n"
    stream = _Reads(data)
    hasher = hashlib.sha256()
    assert list(iter_json_array(stream, hasher=hasher)) == [1, 2]
    assert hasher.hexdigest() == hashlib.sha256(data).hexdigest()
    assert set(stream.sizes) == {READ_BYTES}
    assert READ_BYTES == 1 << 20
    small = hashlib.sha256()
    assert list(iter_json_array(io.BytesIO(data), hasher=small, read_bytes=1)) == [1, 2]
    assert small.hexdigest() == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("read_bytes", [None, 1, 4])
def test_iter_json_array_refusals(read_bytes: int | None) -> None:
    cases = [
        (b"", r"^board\.json is not a JSON array$"),
        (b"  ", r"^board\.json is not a JSON array$"),
        (b'{"a": 1}', r"^board\.json is not a JSON array$"),
        (b"[1", r"^board\.json: the array is not closed$"),
        (b"[1, 2 ", r"^board\.json: the array is not closed$"),
        (b"[1] x", r"^board\.json: data after the array$"),
        (b"[1] ]", r"^board\.json: data after the array$"),
        (b"[1]x", r"^board\.json: data after the array$"),
        (b"[]x", r"^board\.json: data after the array$"),
        (b"[", r"^Expecting value: line 1 column 1 \(char 0\)$"),
        (b"[ ", r"^Expecting value: line 1 column 1 \(char 0\)$"),
        (b'[{"a": 1, "a": 2}]', r"^duplicate key 'a'$"),
        (b"[NaN]", r"^NaN is not JSON$"),
    ]
    if read_bytes is None:  # one read; the decoder's offset is in the buffer refilled at the end
        cases += [
            (b"[1.5]", r"^float 1\.5 \(records contain no floats\)$"),
            (b"[1,]", r"^Expecting value: line 1 column 1 \(char 0\)$"),
            (b"[,1]", r"^Expecting value: line 1 column 1 \(char 0\)$"),
        ]
    else:  # a float split after its integer part is refused at the '.'
        cases += [(b"[1.5]", r"^(float 1\.5 \(records contain no floats\)|board\.json: expected "
                             r"',' or '\]' at offset \d+)$"),
                  (b"[1,]", r"^Expecting value: line 1 column \d+ \(char \d+\)$")]
    for data, message in cases:
        with pytest.raises(ValueError, match=message):
            _array(data, read_bytes)
    with pytest.raises(ValueError, match=r"^board\.json: expected ',' or ']' at offset "):
        _array(b"[1 2]", read_bytes)
    with pytest.raises(UnicodeDecodeError):
        _array(b'["\xff"]', read_bytes)
    with pytest.raises(UnicodeDecodeError):
        _array(b'["\xe2\x82', read_bytes)


def test_iter_json_array_names_the_offset() -> None:
    with pytest.raises(ValueError, match=r"^board\.json: expected ',' or ']' at offset 3$"):
        _array(b"[1 2]")
    with pytest.raises(ValueError, match=r"^board\.json: expected ',' or ']' at offset 6$"):
        _array(b"[1, 2 3]")


def test_iter_json_array_of_a_nesting_too_deep() -> None:
    # Defect fixed (#16): raw_decode raised RecursionError (not a ValueError), which escaped
    # stream_board and `saylau verify` on a board with an entry of 100 000 nested arrays.
    with pytest.raises(ValueError, match=r"^board\.json: JSON nested too deeply at offset 4$"):
        _array(b"[1, " + b"[" * 100_000 + b"]" * 100_000 + b"]")


def test_open_board_of_a_directory_and_zips(tmp_path: Path) -> None:
    from audit.record_io import RecordError
    from audit.record_stream import board_digest, open_board

    data = b"[1, 2]\n"
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "board.json").write_bytes(data)
    with open_board(str(tmp_path / "dir")) as handle:
        assert handle.read() == data
    assert board_digest(tmp_path / "dir") == hashlib.sha256(data).hexdigest()
    nested = tmp_path / "nested.zip"
    with zipfile.ZipFile(nested, "w") as archive:
        archive.writestr("rec/record-index.json", "{}")
        archive.writestr("rec/board.json", data)
        archive.writestr("board.json", b"[9]")
    with open_board(nested) as handle:
        assert handle.read() == data
    assert board_digest(nested) == hashlib.sha256(data).hexdigest()
    flat = tmp_path / "flat.zip"
    with zipfile.ZipFile(flat, "w") as archive:
        archive.writestr("record-index.json", "{}")
        archive.writestr("board.json", data)
    with open_board(flat) as handle:
        assert handle.read() == data
    (tmp_path / "none.zip").write_bytes(b"not a zip")
    with pytest.raises(RecordError, match=r"^.*none\.zip: not a readable zip file \(File is "
                                          r"not a zip file\)$"), open_board(tmp_path / "none.zip"):
        pass
    for names in ([], ["a/record-index.json", "b/record-index.json"], ["record-index.json.bak"]):
        bad = tmp_path / "bad.zip"
        with zipfile.ZipFile(bad, "w") as archive:
            for name in names:
                archive.writestr(name, "{}")
            archive.writestr("board.json", data)
        with pytest.raises(RecordError, match=r"^.*bad\.zip: expected exactly one "
                                              r"record-index\.json in the zip$"), open_board(bad):
            pass


def test_board_chunks_sizes_and_hash(tmp_path: Path) -> None:
    from audit.record_stream import board_chunks

    source = _board(tmp_path, [0, 1, 2, 3, 4])
    hasher = hashlib.sha256()
    assert list(board_chunks(source, 2, hasher=hasher)) == [[0, 1], [2, 3], [4]]
    assert hasher.hexdigest() == hashlib.sha256((tmp_path / "board.json").read_bytes()).hexdigest()
    assert list(board_chunks(source, 5)) == [[0, 1, 2, 3, 4]]
    assert list(board_chunks(source, 1))[-1] == [4]
    assert list(board_chunks(_board(tmp_path, []), 3)) == []
