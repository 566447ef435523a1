"""Unit tests of audit/record.py written for mutation testing (issue #16): the writer, the
``Record`` accessors with each refusal's exact text, the schema and completeness errors, the
reader's branches and ``build_record_data`` (compared whole). The core files come from
``tests/audit/fixtures/record-core.json`` (manifest, election, issuance and two roll entries
of a generated test election), so no test generates keys or ballots."""

from __future__ import annotations

import copy
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest

import audit.record
import tally.verify_board
from audit.record import (
    Record,
    RecordError,
    RecordFormatError,
    _completeness_errors,
    _schema_errors,
    build_record_data,
    check_core,
    encode_file,
    encode_record,
    load_schema,
    read_record,
    record_from_bytes,
    verify_index,
    write_record,
)
from crypto.election import ElectionRules
from crypto.errors import InvalidEncoding
from crypto.merkle import root_hash
from crypto.roll import RollCommitment, RollEntry, SignedRequest
from crypto.threshold import ThresholdPublicKey
from crypto.tree_head import BoardSigningKey, sign_tree_head

CORE: dict[str, Any] = json.loads(
    (Path(__file__).parent / "fixtures" / "record-core.json").read_text(encoding="utf-8"))
KEY = BoardSigningKey.from_seed_hex("31" * 32)
EFORMAT = "saylau-election-record/v1"
PFORMAT = "saylau-petition-record/v1"


def _exact(text: str) -> str:
    return "^" + re.escape(text) + "$"


def _core() -> dict[str, Any]:
    return copy.deepcopy(CORE)


def _rec(files: dict[str, Any], raw: tuple[str, ...] | None = None) -> Record:
    names = tuple(files) if raw is None else raw
    return Record("src", {n: b"" for n in names}, dict(files))


# --- load_schema, encode_record, write_record -----------------------------------------


def test_load_schema() -> None:
    election = load_schema()
    assert election == load_schema(EFORMAT)
    assert "manifest.json" in election["required"]
    petition = load_schema(PFORMAT)
    assert "petition.json" in petition["required"]
    assert "manifest.json" not in petition["required"]


_MIN = {"manifest.json": {"m": 1}, "election.json": {"e": 1}, "board.json": [],
        "tree-heads.json": [], "issuance.json": {"count": 0}}


def test_encode_record() -> None:
    data = {"results.json": {"r": 1}, **_MIN, "roll.json": {"entries": []}}
    raw = encode_record(data, KEY)
    assert list(raw) == ["manifest.json", "election.json", "board.json", "tree-heads.json",
                         "issuance.json", "roll.json", "results.json", "record-index.json"]
    assert raw["election.json"] == b'{"e":1}\n'
    index = json.loads(raw["record-index.json"])
    assert raw["record-index.json"] == encode_file(index)
    assert index["format"] == EFORMAT
    assert sorted(index["files"]) == sorted(set(raw) - {"record-index.json"})
    verify_index(index, KEY.public_key_bytes())
    petition = {"petition.json": {"p": 1}, "board.json": [], "tree-heads.json": [],
                "issuance.json": {}}
    index = json.loads(encode_record(petition, KEY)["record-index.json"])
    assert index["format"] == PFORMAT
    assert encode_record({**_MIN, "keygen.json": {}}, KEY)["keygen.json"] == b"{}\n"


def test_encode_record_refusals() -> None:
    with pytest.raises(ValueError, match=_exact("not record files: a.json, b.json")):
        encode_record({**_MIN, "b.json": 1, "a.json": 2}, KEY)
    with pytest.raises(ValueError, match=_exact("not record files: keygen.json, manifest.json")):
        encode_record({"petition.json": {}, "board.json": [], "tree-heads.json": [],
                       "issuance.json": {}, "manifest.json": {}, "keygen.json": {}}, KEY)
    with pytest.raises(ValueError, match=_exact("record lacks election.json, issuance.json")):
        encode_record({k: v for k, v in _MIN.items()
                       if k not in ("issuance.json", "election.json")}, KEY)
    with pytest.raises(ValueError, match=_exact("record lacks board.json")):
        encode_record({"petition.json": {}, "tree-heads.json": [], "issuance.json": {}}, KEY)


def test_write_record(tmp_path: Path) -> None:
    raw = encode_record(_MIN, KEY)
    out = write_record(str(tmp_path / "a" / "b" / "rec"), _MIN, KEY)
    assert out == tmp_path / "a" / "b" / "rec"
    assert {p.name: p.read_bytes() for p in out.iterdir()} == raw
    assert write_record(out, _MIN, KEY) == out
    archive = write_record(tmp_path / "x" / "y" / "r.zip", _MIN, KEY)
    assert archive == tmp_path / "x" / "y" / "r.zip"
    with zipfile.ZipFile(archive) as z:
        assert {n: z.read(n) for n in z.namelist()} == raw
    assert write_record(archive, _MIN, KEY) == archive


# --- Record accessors -------------------------------------------------------------------


def test_record_names_index_format_kind() -> None:
    record = Record("s", {"election.json": b"", "record-index.json": b""},
                    {"record-index.json": {"i": 1}})
    assert record.names() == {"election.json", "record-index.json"}
    assert record.index == {"i": 1}
    assert (record.format, record.kind) == (EFORMAT, "election")
    record.board_source = Path("x")
    assert record.names() == {"election.json", "record-index.json", "board.json"}
    assert Record("s", {}).index is None
    petition = Record("s", {"petition.json": b""}, {"board.json": [1]})
    assert (petition.format, petition.kind) == (PFORMAT, "petition")
    assert petition.get("board.json") == [1]
    assert petition.get("x") is None
    assert Record("s", {}, {"petition.json": {}}).kind == "election"


def test_record_tallied() -> None:
    tally = {"encrypted-tally.json": {}, "partial-decryptions.json": [], "results.json": {}}
    assert _rec(tally).tallied is True
    for name in tally:
        assert _rec({k: v for k, v in tally.items() if k != name}).tallied is False
    assert _rec(tally, raw=()).tallied is True


def test_record_keys_and_log_id() -> None:
    core = _core()
    election = core["election.json"]
    record = _rec(core)
    assert record.election_key() == ThresholdPublicKey.from_json(election["election_key"])
    assert record.board_public_key() == bytes.fromhex(election["board_key"])
    assert record.log_id() == "saylau/election/test-election"
    petition = _rec({"petition.json": {**election, "log_id": "saylau/petition/3"},
                     "election.json": {}})
    assert petition.board_public_key() == bytes.fromhex(election["board_key"])
    assert petition.log_id() == "saylau/petition/3"
    assert petition.election_key() == record.election_key()


@pytest.mark.parametrize(("files", "call", "message"), [
    ({}, "election_key", "election.json: expected a JSON object"),
    ({"election.json": {}}, "election_key", "election.json: missing field 'election_key'"),
    ({"election.json": {"election_key": []}}, "election_key",
     "election.json.election_key: expected dict"),
    ({"election.json": {}}, "board_public_key", "election.json: missing field 'board_key'"),
    ({"election.json": {"board_key": 1}}, "board_public_key",
     "election.json.board_key: expected str"),
    ({"election.json": {"board_key": "00"}}, "board_public_key",
     "board_key: expected 32 bytes, got 1"),
    ({"election.json": {}}, "log_id", "election.json: missing field 'log_id'"),
    ({"election.json": {"log_id": 1}}, "log_id", "election.json.log_id: expected str"),
    ({"petition.json": {}, "election.json": {"log_id": "x"}}, "log_id",
     "petition.json: missing field 'log_id'"),
    ({"petition.json": {}}, "board_public_key", "petition.json: missing field 'board_key'"),
    ({"petition.json": {}}, "election_key", "petition.json: missing field 'election_key'"),
])
def test_record_key_refusals(files: dict[str, Any], call: str, message: str) -> None:
    with pytest.raises(InvalidEncoding, match=_exact(message)):
        getattr(_rec(files), call)()


def test_record_context() -> None:
    core = _core()
    ctx = _rec(core).context()
    election = core["election.json"]
    assert ctx.manifest.election_id == "test-election"
    assert ctx.public_key == ThresholdPublicKey.from_json(election["election_key"]).public
    assert ctx.issuer_key.e == 65537
    assert ctx.issuer_key.n == int(election["issuer_key"]["n"], 16)
    assert ctx.fingerprint == bytes.fromhex(election["fingerprint"])
    assert ctx.revote_policy == "last-counts"
    assert (ctx.opens_at_ms, ctx.closes_at_ms) == (1767225600000, 1767312000000)
    del core["election.json"]["rules"]
    core["election.json"]["revote_policy"] = "no-revote"
    ctx = _rec(core).context()
    assert (ctx.opens_at_ms, ctx.closes_at_ms, ctx.revote_policy) == (None, None,
                                                                       "no-revote")


def _context_error(change: Any) -> str:
    core = _core()
    change(core)
    with pytest.raises(InvalidEncoding) as info:
        _rec(core).context()
    return str(info.value)


def test_record_context_refusals() -> None:
    def other_id(c: dict[str, Any]) -> None:
        c["election.json"]["election_id"] = "other"

    def exponent(c: dict[str, Any]) -> None:
        c["election.json"]["issuer_key"]["e"] = "3"

    def policy(c: dict[str, Any]) -> None:
        c["election.json"]["revote_policy"] = "no-revote"

    def no_election(c: dict[str, Any]) -> None:
        del c["election.json"]

    def fingerprint(c: dict[str, Any]) -> None:
        c["election.json"]["fingerprint"] = "ab"

    def missing(key: str) -> Any:
        return lambda c: c["election.json"].pop(key)

    assert _context_error(other_id) == "election.json and manifest.json name different elections"
    assert _context_error(exponent) == "issuer_key: e must be 65537 (docs/protocol.md §2.2)"
    assert _context_error(policy) == (
        "election.json: revote_policy differs from rules.revote_policy")
    assert _context_error(no_election) == "election.json: expected a JSON object"
    assert _context_error(fingerprint) == "fingerprint: expected 32 bytes, got 1"
    assert _context_error(missing("election_id")) == "election.json: missing field 'election_id'"
    assert _context_error(missing("issuer_key")) == "election.json: missing field 'issuer_key'"
    assert _context_error(missing("revote_policy")) == (
        "election.json: missing field 'revote_policy'")
    assert _context_error(missing("fingerprint")) == "election.json: missing field 'fingerprint'"
    assert _context_error(missing("election_key")) == (
        "election.json: missing field 'election_key'")


def test_record_rules_and_roll_commitment() -> None:
    core = _core()
    election = core["election.json"]
    record = _rec(core)
    assert record.rules() == ElectionRules.from_json(election["rules"], "x")
    assert record.roll_commitment() == RollCommitment.from_json(election["roll"], "x")
    del election["rules"], election["roll"]
    assert record.rules() is None
    assert record.roll_commitment() is None
    election["rules"] = {}
    election["roll"] = {}
    with pytest.raises(InvalidEncoding, match=r"^election\.rules: "):
        record.rules()
    with pytest.raises(InvalidEncoding, match=r"^election\.roll: "):
        record.roll_commitment()
    for files in ({}, {"election.json": []}):
        with pytest.raises(InvalidEncoding, match=_exact("election.json: expected a JSON object")):
            _rec(files).rules()
        with pytest.raises(InvalidEncoding, match=_exact("election.json: expected a JSON object")):
            _rec(files).roll_commitment()


def test_record_roll_entries() -> None:
    core = _core()
    entries = core["roll.json"]["entries"]
    assert _rec(core).roll_entries() == [RollEntry.from_json(e, "x") for e in entries]
    assert _rec({}).roll_entries() == []
    with pytest.raises(InvalidEncoding, match=_exact("roll.json: missing field 'entries'")):
        _rec({"roll.json": {}}).roll_entries()
    core["roll.json"]["entries"][1] = {}
    with pytest.raises(InvalidEncoding, match=r"^roll\.entries\[1\]"):
        _rec(core).roll_entries()


def test_record_signed_requests() -> None:
    core = _core()
    requests = core["issuance.json"]["requests"]
    assert len(requests) == 2
    assert _rec(core).signed_requests() == [SignedRequest.from_json(r, "x") for r in requests]
    assert _rec({}).signed_requests() == []
    assert _rec({"issuance.json": [1]}).signed_requests() == []
    assert _rec({"issuance.json": {"count": 1}}).signed_requests() == []
    with pytest.raises(InvalidEncoding, match=_exact("issuance.requests: expected a list")):
        _rec({"issuance.json": {"requests": {}}}).signed_requests()
    core["issuance.json"]["requests"][1] = {}
    with pytest.raises(InvalidEncoding, match=r"^issuance\.requests\[1\]"):
        _rec(core).signed_requests()


def test_record_credentials_issued() -> None:
    assert _rec({"issuance.json": {"count": 0}}).credentials_issued() == 0
    assert _rec({"issuance.json": {"count": 7}}).credentials_issued() == 7
    with pytest.raises(InvalidEncoding, match=_exact("issuance.count is negative")):
        _rec({"issuance.json": {"count": -1}}).credentials_issued()
    with pytest.raises(InvalidEncoding, match=_exact("issuance.json: missing field 'count'")):
        _rec({"issuance.json": {}}).credentials_issued()
    with pytest.raises(InvalidEncoding, match=_exact("issuance.json.count: expected integer")):
        _rec({"issuance.json": {"count": True}}).credentials_issued()


# --- _schema_errors, _completeness_errors ------------------------------------------------

_REQUIRED = ["record: 'record-index.json' is a required property",
             "record: 'manifest.json' is a required property",
             "record: 'election.json' is a required property",
             "record: 'board.json' is a required property",
             "record: 'tree-heads.json' is a required property",
             "record: 'issuance.json' is a required property"]


def test_schema_errors() -> None:
    assert _schema_errors({}) == _REQUIRED
    assert _schema_errors({}, PFORMAT) == [
        "record: 'record-index.json' is a required property",
        "record: 'petition.json' is a required property",
        "record: 'board.json' is a required property",
        "record: 'tree-heads.json' is a required property",
        "record: 'issuance.json' is a required property"]
    short = _schema_errors({"election.json": "x" * 174})
    assert short[-1] == "election.json: '" + "x" * 174 + "' is not of type 'object'"
    assert len(short[-1]) == len("election.json: ") + 200
    long = _schema_errors({"election.json": "x" * 175})
    assert long[-1] == "election.json: '" + "x" * 175 + "' is not of type 'object…"


def test_schema_errors_sorted_by_path() -> None:
    files = {"record-index.json": {"format": 1, "files": {}, "signature": "00" * 64},
             "election.json": 1, "issuance.json": 2}
    assert _schema_errors(files) == [
        "record: 'manifest.json' is a required property",
        "record: 'board.json' is a required property",
        "record: 'tree-heads.json' is a required property",
        "election.json: 1 is not of type 'object'",
        "issuance.json: 2 is not of type 'object'",
        "record-index.json/format: 'saylau-election-record/v1' was expected"]


def test_schema_errors_of_the_board() -> None:
    board: list[Any] = [1, 2]
    errors = _schema_errors({"board.json": board})
    assert errors[:2] == ["board.json/0: not an object", "board.json/1: not an object"]
    assert "record: 'board.json' is a required property" not in errors
    assert len(errors) == 2 + 5
    assert board == [1, 2]
    petition = _schema_errors({"board.json": board}, PFORMAT)
    assert "board.json/0: not an object" not in petition
    assert any(e.startswith("board.json/0: ") for e in petition)
    not_list = _schema_errors({"board.json": {}})
    assert "board.json: {} is not of type 'array'" in not_list


def test_schema_errors_of_a_long_board(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tally.verify_board, "MAX_PROBLEMS", 2)
    assert _schema_errors({"board.json": [1, 2]})[:3] == [
        "board.json/0: not an object", "board.json/1: not an object",
        "record: 'record-index.json' is a required property"]
    assert _schema_errors({"board.json": [1, 2, 3, 4]})[:4] == [
        "board.json/0: not an object", "board.json/1: not an object",
        "board.json: 2 more structure error(s), not listed",
        "record: 'record-index.json' is a required property"]


def test_completeness_errors() -> None:
    tally = ("encrypted-tally.json", "partial-decryptions.json", "results.json")
    assert _completeness_errors({}) == []
    assert _completeness_errors(dict.fromkeys(tally, b"")) == []
    assert _completeness_errors({"results.json": b"", "encrypted-tally.json": b""}) == [
        "tally files incomplete: only encrypted-tally.json, results.json"]
    assert _completeness_errors({"partial-decryptions.json": b""}) == [
        "tally files incomplete: only partial-decryptions.json"]


# --- read_record, record_from_bytes -----------------------------------------------------


def _write(path: Path, files: dict[str, bytes]) -> Path:
    path.mkdir()
    for name, blob in files.items():
        (path / name).write_bytes(blob)
    return path


_HEADS = [sign_tree_head(KEY, "saylau/election/test-election", 0, root_hash([]), 1).to_json()]


def _valid_raw() -> dict[str, bytes]:
    data = {**_core(), "board.json": [], "tree-heads.json": _HEADS}
    return encode_record(data, KEY)


def test_read_a_valid_record(tmp_path: Path) -> None:
    raw = _valid_raw()
    record = read_record(_write(tmp_path / "rec", raw))
    assert record.format_errors == []
    assert record.raw == raw
    assert record.files == {n: json.loads(b) for n, b in raw.items()}
    assert record.source == str(tmp_path / "rec")
    assert record.board_source is None
    assert record.board_errors_at == 0
    zipped = tmp_path / "r.zip"
    write_record(zipped, {**_core(), "board.json": [], "tree-heads.json": _HEADS}, KEY)
    assert read_record(str(zipped)).raw == raw


def test_read_a_streamed_board(tmp_path: Path) -> None:
    raw = _valid_raw()
    raw["board.json"] = b"[1]\n"
    path = _write(tmp_path / "rec", raw)
    record = read_record(path, stream_board=True)
    assert record.board_source == path
    assert "board.json" not in record.raw and "board.json" not in record.files
    assert record.format_errors == []
    assert read_record(path, strict=False).format_errors[0] == "board.json/0: not an object"
    assert read_record(path, strict=False, stream_board=False).board_source is None
    del raw["board.json"]
    nob = _write(tmp_path / "nob", raw)
    record = read_record(nob, strict=False, stream_board=True)
    assert record.board_source is None
    assert "record: 'board.json' is a required property" in record.format_errors


def test_read_a_streamed_board_from_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "r.zip"
    write_record(path, {**_core(), "board.json": [1], "tree-heads.json": _HEADS}, KEY)
    record = read_record(path, stream_board=True)
    assert record.board_source == path
    assert "board.json" not in record.raw and record.format_errors == []


def test_read_a_petition_board_is_not_streamed(tmp_path: Path) -> None:
    data = {"petition.json": {}, "board.json": [], "tree-heads.json": [], "issuance.json": {}}
    raw = encode_record(data, KEY)
    path = _write(tmp_path / "rec", raw)
    record = read_record(path, strict=False, stream_board=True)
    assert record.board_source is None
    assert record.files["board.json"] == []
    assert record.format_errors == _schema_errors(record.files, PFORMAT)
    assert "record: 'manifest.json' is a required property" not in record.format_errors
    assert record_from_bytes(raw).format_errors == record.format_errors


def test_read_record_errors_are_kept_or_raised(tmp_path: Path) -> None:
    raw = _valid_raw()
    raw["notes.json"] = b"{}"
    raw["keygen.json"] = b"[1.5]"
    raw["results.json"] = b"{}"
    path = _write(tmp_path / "rec", raw)
    record = read_record(path, strict=False)
    assert record.format_errors[:3] == [
        "keygen.json: not valid JSON (float 1.5 (records contain no floats))",
        "notes.json: not a file of the record format",
        "tally files incomplete: only results.json",
    ]
    assert record.board_errors_at == 3
    assert "notes.json" not in record.files and "keygen.json" not in record.files
    assert record.files["results.json"] == {}
    with pytest.raises(RecordFormatError) as info:
        read_record(path)
    assert info.value.errors == record.format_errors


def test_read_record_of_a_file_nested_too_deeply(tmp_path: Path) -> None:
    # Defect fixed (#16, audit/record_io.parse_json): a RecursionError escaped read_record.
    raw = _valid_raw()
    raw["results.json"] = b"[" * 100_000
    record = read_record(_write(tmp_path / "rec", raw), strict=False)
    assert record.format_errors[0] == "results.json: not valid JSON (JSON nested too deeply)"


def test_read_record_of_a_petition_names_election_files(tmp_path: Path) -> None:
    data = {"petition.json": {}, "board.json": [], "tree-heads.json": [], "issuance.json": {}}
    raw = encode_record(data, KEY)
    raw["keygen.json"] = b"{}"
    record = read_record(_write(tmp_path / "rec", raw), strict=False)
    assert record.format_errors[0] == "keygen.json: not a file of the record format"


def test_read_record_refusals(tmp_path: Path) -> None:
    with pytest.raises(RecordError, match=_exact(f"{tmp_path / 'none'}: no such file or directory")):
        read_record(tmp_path / "none")
    plain = tmp_path / "plain.json"
    plain.write_bytes(b"{}")
    with pytest.raises(RecordError, match=_exact(f"{plain}: not a record directory or .zip")):
        read_record(plain)
    raw = _valid_raw()
    raw["record-index.json"] = b"{"
    bad = _write(tmp_path / "bad", raw)
    with pytest.raises(RecordError, match=_exact(f"{bad}: record-index.json is not valid JSON")):
        read_record(bad, strict=False)


@pytest.mark.parametrize(("exc", "text"), [
    (PermissionError(13, "Permission denied"), "Permission denied"),
    (OSError("plain"), "plain"),
])
def test_read_record_of_an_unreadable_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           exc: OSError, text: str) -> None:
    def fail(*args: Any) -> Any:
        raise exc

    path = _write(tmp_path / "rec", _valid_raw())
    monkeypatch.setattr(audit.record, "read_dir", fail)
    with pytest.raises(RecordError, match=_exact(f"{path}: cannot read ({text})")):
        read_record(path)


def test_record_from_bytes() -> None:
    raw = _valid_raw()
    record = record_from_bytes(raw)
    assert record.source == "<memory>"
    assert record.format_errors == []
    assert record.files == {n: json.loads(b) for n, b in raw.items()}
    raw["board.json"] = b"[1]"
    raw["results.json"] = b"NaN"
    record = record_from_bytes(raw, "mem")
    assert record.source == "mem"
    assert record.raw == raw and record.raw is not raw
    assert record.format_errors[:3] == [
        "results.json: not valid JSON (NaN is not JSON)",
        "tally files incomplete: only results.json",
        "board.json/0: not an object"]
    raw["results.json"] = b"\xff"
    assert record_from_bytes(raw).format_errors[0].startswith(
        "results.json: not valid JSON ('utf-8' codec can't decode byte 0xff")


# --- build_record_data ------------------------------------------------------------------


def _service(**extra: Any) -> dict[str, Any]:
    out = {
        "manifest": {"election_id": "e1", "title": "Manifest title"},
        "election": {"title": "Public title", "opens_at": "o", "closes_at": "c"},
        "fingerprint": "fp", "election_public_key": {"k": 1}, "issuer_public_key": {"i": 1},
        "board_public_key": "bk", "log_id": "log", "revote_policy": "last-counts",
        "board": [{"entry": {"a": 1}, "index": 0}, {"b": 2}, {"entry": 5}],
        "tree_heads": ({"t": 1},), "issuance": {"count": "3"},
    }
    out.update(extra)
    return out


def test_build_record_data_minimal() -> None:
    assert build_record_data(_service()) == {
        "manifest.json": {"election_id": "e1", "title": "Manifest title"},
        "election.json": {
            "kind": "election", "election_id": "e1", "title": "Manifest title",
            "fingerprint": "fp", "election_key": {"k": 1}, "issuer_key": {"i": 1},
            "board_key": "bk", "log_id": "log", "revote_policy": "last-counts",
            "opens_at": "o", "closes_at": "c", "key_generation": "dealer"},
        "board.json": [{"a": 1}, {"b": 2}, {"entry": 5}],
        "tree-heads.json": [{"t": 1}],
        "issuance.json": {"count": 3},
    }


def test_build_record_data_titles_and_public_data() -> None:
    service = _service(manifest={"election_id": "e1"})
    assert build_record_data(service)["election.json"]["title"] == "Public title"
    service["election"] = None
    election = build_record_data(service)["election.json"]
    assert (election["title"], election["opens_at"], election["closes_at"]) == ("", None, None)
    del service["election"]
    assert build_record_data(service)["election.json"]["title"] == ""


def test_build_record_data_optional_parts() -> None:
    service = _service(rules={"r": 1}, credential_mode="enrolled", roll_commitment={"c": 1},
                       roll=({"e": 1},), keygen_transcript={"t": 1},
                       issuance={"count": 2, "receipts": ({"r": 1},), "requests": ({"q": 1},)})
    data = build_record_data(service)
    election = data["election.json"]
    assert election["rules"] == {"r": 1}
    assert election["credential_mode"] == "enrolled"
    assert election["roll"] == {"c": 1}
    assert election["key_generation"] == "distributed"
    assert data["roll.json"] == {"entries": [{"e": 1}]}
    assert data["keygen.json"] == {"t": 1}
    assert data["issuance.json"] == {"count": 2, "receipts": [{"r": 1}], "requests": [{"q": 1}]}
    only = build_record_data(_service(credential_mode="open", rules=None, roll=None,
                                      keygen_transcript={}))
    assert only["election.json"]["credential_mode"] == "open"
    assert only["election.json"]["roll"] is None
    assert "rules" not in only["election.json"]
    assert only["election.json"]["key_generation"] == "dealer"
    assert "roll.json" not in only and "keygen.json" not in only
    assert build_record_data(_service(issuance={"count": 1, "requests": []}))[
        "issuance.json"] == {"count": 1, "requests": []}


def test_build_record_data_with_the_tally() -> None:
    partials = [{"trustee_index": 1, "data": {"p": 1}}, {"data": {"x": 1}, "partials": [2]},
                {"p": 3}]
    data = build_record_data(_service(), partials, {"r": 1}, {"t": 1})
    assert data["encrypted-tally.json"] == {"t": 1}
    assert data["partial-decryptions.json"] == [{"p": 1}, {"data": {"x": 1}, "partials": [2]},
                                                {"p": 3}]
    assert data["results.json"] == {"r": 1}
    for parts in ((partials, None, None), (None, {"r": 1}, None), (None, None, {"t": 1}),
                  (partials, {"r": 1}, None), (None, {"r": 1}, {"t": 1}),
                  (partials, None, {"t": 1})):
        with pytest.raises(ValueError, match=_exact(
                "pass the encrypted tally, the partials and the results together")):
            build_record_data(_service(), *parts)


# --- check_core -------------------------------------------------------------------------


def test_check_core() -> None:
    core = _core()
    check_core(_rec(core))
    del core["issuance.json"]["count"]
    with pytest.raises(InvalidEncoding, match=_exact("record: issuance.json: missing field 'count'")):
        check_core(_rec(core))
    core = _core()
    core["election.json"]["board_key"] = "00"
    with pytest.raises(InvalidEncoding, match=_exact("record: board_key: expected 32 bytes, got 1")):
        check_core(_rec(core))
    core = _core()
    core["election.json"]["election_id"] = "x"
    with pytest.raises(InvalidEncoding, match=_exact(
            "record: election.json and manifest.json name different elections")):
        check_core(_rec(core))
