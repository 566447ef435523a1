"""The election record: writer, reader (directory and zip), schema and signed index."""

from __future__ import annotations

import copy
import functools
import json
import zipfile
from pathlib import Path

import jsonschema
import pytest

from audit.record import (
    BOARD,
    ELECTION,
    ENCRYPTED_TALLY,
    FILES,
    FORMAT,
    INDEX_FILE,
    PARTIALS,
    RESULTS,
    RecordError,
    RecordFormatError,
    build_record_data,
    encode_file,
    load_schema,
    read_record,
    sign_index,
    verify_index,
    write_record,
)
from audit.tally_completion import complete_record
from audit.verifier import verify_record
from crypto.errors import InvalidEncoding, InvalidSignature
from crypto.tree_head import BoardSigningKey
from tests.recordgen import GeneratedElection, generate


@functools.cache
def _base() -> GeneratedElection:
    return generate(3, audited=False)


@pytest.fixture()
def gen() -> GeneratedElection:
    return copy.deepcopy(_base())


def test_schema_is_valid_draft_2020_12() -> None:
    schema = load_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_directory_round_trip(gen: GeneratedElection, tmp_path: Path) -> None:
    path = gen.write(tmp_path / "rec")
    assert sorted(p.name for p in path.iterdir()) == sorted([*FILES, INDEX_FILE])
    record = read_record(path)
    assert not record.format_errors
    for name in FILES:
        assert record.files[name] == json.loads(json.dumps(gen.files[name]))
        assert record.raw[name] == encode_file(gen.files[name])
    assert record.files[ELECTION]["kind"] == "election"
    assert record.index["format"] == FORMAT == "saylau-election-record/v1"
    verify_index(record.index, gen.board_key.public_key_bytes())
    report = verify_record(record, workers=1)
    assert report.valid and report.tally == gen.expected_results()


def test_zip_round_trip(gen: GeneratedElection, tmp_path: Path) -> None:
    path = gen.write(tmp_path / "record.zip")
    assert zipfile.is_zipfile(path)
    report = verify_record(path, workers=1)
    assert report.valid, report.render_text()
    assert report.tally == gen.expected_results()


def test_zip_with_top_folder(gen: GeneratedElection, tmp_path: Path) -> None:
    src = gen.write(tmp_path / "rec")
    target = tmp_path / "nested.zip"
    with zipfile.ZipFile(target, "w") as archive:
        for child in src.iterdir():
            archive.write(child, f"election-record/{child.name}")
    assert read_record(target).files[RESULTS] == gen.files[RESULTS]


def test_index_signature_and_wrong_key(gen: GeneratedElection) -> None:
    raw = {name: encode_file(gen.files[name]) for name in FILES}
    index = sign_index(raw, gen.board_key)
    verify_index(index, gen.board_key.public_key_bytes())
    other = BoardSigningKey.generate()
    with pytest.raises(InvalidSignature):
        verify_index(index, other.public_key_bytes())
    forged = {**index, "files": {**index["files"], BOARD: "00" * 32}}
    with pytest.raises(InvalidSignature):
        verify_index(forged, gen.board_key.public_key_bytes())
    with pytest.raises(InvalidEncoding):
        verify_index({**index, "format": "v0"}, gen.board_key.public_key_bytes())


def test_index_signed_by_other_key_fails_verify(gen: GeneratedElection, tmp_path: Path) -> None:
    path = write_record(tmp_path / "rec", gen.files, BoardSigningKey.generate())
    report = verify_record(path, workers=1)
    failed = {c.name: c for c in report.failed()}
    assert set(failed) == {"record-index"}
    assert "signature" in failed["record-index"].details[0]


def test_unreadable_records(tmp_path: Path) -> None:
    with pytest.raises(RecordError, match="no such file"):
        read_record(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(RecordError, match="record-index.json"):
        read_record(tmp_path / "empty")
    (tmp_path / "plain.txt").write_text("hello")
    with pytest.raises(RecordError, match="not a record"):
        read_record(tmp_path / "plain.txt")
    bad_zip = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad_zip, "w") as archive:
        archive.writestr("readme.txt", "no index")
    with pytest.raises(RecordError, match="exactly one"):
        read_record(bad_zip)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / INDEX_FILE).write_text("{not json")
    with pytest.raises(RecordError, match="not valid JSON"):
        read_record(tmp_path / "broken")


def test_schema_errors_are_named(gen: GeneratedElection, tmp_path: Path) -> None:
    gen.files[BOARD][0]["ballot"]["token_id"] = "XYZ"
    del gen.files[RESULTS]["mayor"]
    gen.files[RESULTS]["council"]["a"] = -1
    path = gen.write(tmp_path / "rec")
    (path / "notes.json").write_text("[]")
    with pytest.raises(RecordFormatError) as info:
        read_record(path)
    text = "\n".join(info.value.errors)
    assert "board.json/0/ballot/token_id" in text
    assert "results.json/council/a" in text
    assert "notes.json" in text
    lenient = read_record(path, strict=False)
    assert lenient.format_errors == info.value.errors
    report = verify_record(lenient, workers=1)
    failed = {c.name for c in report.failed()}
    assert {"record-format", "record-index"} <= failed  # notes.json is not in the index


def test_invalid_json_file(gen: GeneratedElection, tmp_path: Path) -> None:
    path = gen.write(tmp_path / "rec")
    (path / RESULTS).write_bytes(b"\xff\xfe")
    record = read_record(path, strict=False)
    assert any(e.startswith("results.json: not valid JSON") for e in record.format_errors)
    report = verify_record(record, workers=1)
    assert not report.valid
    assert "results.json" in " ".join(report.check("record-index").details)  # type: ignore[union-attr]


def test_write_record_refuses(gen: GeneratedElection, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not record files"):
        write_record(tmp_path / "x", {**gen.files, "extra.json": {}}, gen.board_key)
    files = dict(gen.files)
    del files[BOARD]
    with pytest.raises(ValueError, match="lacks board.json"):
        write_record(tmp_path / "x", files, gen.board_key)


def test_build_record_data_accepts_service_shapes(gen: GeneratedElection) -> None:
    service = gen.service_data()
    service["board"] = list(gen.board)  # plain entries instead of {"entry": …} wrappers
    rows = [{"trustee_index": p["trustee_index"], "data": p}
            for p in gen.files["partial-decryptions.json"]]
    data = build_record_data(service, rows, gen.files[RESULTS],
                             gen.files["encrypted-tally.json"])
    assert data == gen.files
    with pytest.raises(ValueError, match="together"):
        build_record_data(service, rows, None, None)


def test_untallied_record_and_complete_record(gen: GeneratedElection, tmp_path: Path) -> None:
    untallied = gen.rebuild(tally=False)
    path = write_record(tmp_path / "pre", untallied, gen.board_key)
    record = read_record(path)
    assert not record.tallied
    report = verify_record(record, workers=1)
    assert [c.name for c in report.failed()] == ["encrypted-tally"]
    assert "no tally yet" in report.check("encrypted-tally").message  # type: ignore[union-attr]

    full = _base().files
    done = complete_record(record, full["partial-decryptions.json"])
    assert done.results == gen.expected_results()
    assert done.files["encrypted-tally.json"] == full["encrypted-tally.json"]
    out = write_record(tmp_path / "post.zip", done.files, gen.board_key)
    assert verify_record(out, workers=1).valid


# ---------------------------------------------------------------- rules made exact in the spec


@functools.cache
def _audited_base() -> GeneratedElection:
    return generate(2)


@pytest.fixture()
def audited_gen() -> GeneratedElection:
    """Board: 0 ballot, 1 audited, 2 ballot, 3 revote of 2."""
    return copy.deepcopy(_audited_base())


def _failed(path: Path) -> dict[str, str]:
    report = verify_record(read_record(path, strict=False), workers=1)
    return {c.name: c.message + " | " + " | ".join(c.details) for c in report.failed()}


def test_json_duplicate_keys_and_floats_are_refused(gen: GeneratedElection,
                                                    tmp_path: Path) -> None:
    path = gen.write(tmp_path / "r")
    for blob, needle in ((b'{"count":2,"count":9}\n', "duplicate key"),
                         (b'{"count":2.0}\n', "float"), (b'{"count":NaN}\n', "NaN")):
        (path / "issuance.json").write_bytes(blob)
        with pytest.raises(RecordFormatError, match=needle):
            read_record(path)


def test_tally_files_come_together(gen: GeneratedElection, tmp_path: Path) -> None:
    files = dict(gen.files)
    del files[RESULTS]
    path = write_record(tmp_path / "r", files, gen.board_key)
    with pytest.raises(RecordFormatError, match="tally files incomplete"):
        read_record(path)


def test_key_objects_carry_only_their_fields(gen: GeneratedElection, tmp_path: Path) -> None:
    gen.files[ELECTION]["issuer_key"]["kid"] = "x"
    gen.files[ELECTION]["election_key"]["public"]["g"] = "2"
    path = write_record(tmp_path / "r", gen.files, gen.board_key)
    with pytest.raises(RecordFormatError) as info:
        read_record(path)
    assert len(info.value.errors) == 2


def test_issuer_exponent_must_be_65537(gen: GeneratedElection, tmp_path: Path) -> None:
    gen.files[ELECTION]["issuer_key"]["e"] = "3"
    failed = _failed(write_record(tmp_path / "r", gen.files, gen.board_key))
    assert "record-format" in failed and "election-fingerprint" in failed


def test_test_size_key_is_reported(gen: GeneratedElection, tmp_path: Path) -> None:
    report = verify_record(gen.write(tmp_path / "r"), workers=1)
    assert report.valid
    assert "TEST-SIZE" in report.check("election-fingerprint").message  # type: ignore[union-attr]


def test_audited_entry_fields_must_be_null(audited_gen: GeneratedElection, tmp_path: Path
        ) -> None:
    assert audited_gen.board[1]["kind"] == "audited"
    audited_gen.board[1]["replaces"] = 0
    audited_gen.board[1]["signature"] = "00" * 64
    audited_gen.rebuild(resign_heads=True)
    failed = _failed(audited_gen.write(tmp_path / "r"))
    assert "entry 1" in failed["board-entries"]
    assert "replaces = null" in failed["board-entries"]
    assert "signature = null" in failed["board-entries"]


def test_audit_secrets_cover_exactly_the_manifest(audited_gen: GeneratedElection, tmp_path: Path
        ) -> None:
    secrets_ = audited_gen.board[1]["secrets"]
    q = next(iter(secrets_))
    secrets_["not-a-question"] = secrets_[q]
    audited_gen.rebuild(resign_heads=True)
    failed = _failed(audited_gen.write(tmp_path / "r"))
    assert "exactly the manifest" in failed["audited-ballots"]


def test_audit_secrets_extra_field_refused(audited_gen: GeneratedElection, tmp_path: Path
        ) -> None:
    secrets_ = audited_gen.board[1]["secrets"]
    q = next(iter(secrets_))
    o = next(iter(secrets_[q]))
    secrets_[q][o]["note"] = 1
    audited_gen.rebuild(resign_heads=True)
    failed = _failed(audited_gen.write(tmp_path / "r"))
    assert "canonical" in failed["audited-ballots"]


def test_copy_detected_after_an_earlier_copy(gen: GeneratedElection, tmp_path: Path) -> None:
    """Every ciphertext of a copying entry is remembered: a third entry reusing one fails."""
    first = gen.board[0]["ballot"]["contests"][0]["selections"]
    second = gen.board[2]["ballot"]["contests"][0]["selections"]
    third = gen.board[3]["ballot"]["contests"][0]["selections"]
    second[0]["ciphertext"] = first[0]["ciphertext"]
    third[1]["ciphertext"] = second[1]["ciphertext"]
    gen.rebuild(resign_heads=True)
    failed = _failed(gen.write(tmp_path / "r"))
    assert "entry 2" in failed["ciphertext-copies"]
    assert "entry 3" in failed["ciphertext-copies"]
    assert "entry 0:" not in failed["ciphertext-copies"]  # the first occurrence stands


def test_repeated_trustee_is_refused(gen: GeneratedElection, tmp_path: Path) -> None:
    gen.files[PARTIALS].append(copy.deepcopy(gen.files[PARTIALS][0]))
    failed = _failed(write_record(tmp_path / "r", gen.files, gen.board_key))
    assert "appears twice" in failed["partial-decryptions"]
    assert set(failed) == {"partial-decryptions"}


def test_results_not_checked_when_decryption_fails(gen: GeneratedElection,
                                                   tmp_path: Path) -> None:
    gen.files[PARTIALS] = gen.files[PARTIALS][:2]
    failed = _failed(write_record(tmp_path / "r", gen.files, gen.board_key))
    assert set(failed) == {"decryption", "results"}
    assert "not checked" in failed["results"]


def test_malformed_encrypted_tally_still_decrypts(gen: GeneratedElection,
                                                  tmp_path: Path) -> None:
    gen.files[ENCRYPTED_TALLY]["tally"] = "nonsense"
    path = write_record(tmp_path / "r", gen.files, gen.board_key)
    report = verify_record(read_record(path, strict=False), workers=1)
    names = {c.name: c.ok for c in report.checks}
    assert names["encrypted-tally"] is False
    assert names["decryption"] is True and names["results"] is True
