"""Unit tests of audit/record_io.py written for mutation testing (issue #16): strict JSON,
file bytes, and reading record directories and zips (every refusal with its exact text)."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest

import audit.record_io as record_io
from audit.record_io import (
    RecordError,
    RecordFormatError,
    encode_file,
    format_of_files,
    member_names,
    parse_json,
    read_dir,
    read_zip,
    zip_bytes,
)
from audit.record_io import (
    test_keys_allowed as keys_allowed,
)


def _exact(text: str) -> str:
    return "^" + re.escape(text) + "$"


@pytest.mark.parametrize(("flag", "env", "expected"), [
    (True, None, True), (False, "1", False), (None, "1", True), (None, "0", False),
    (None, "", False), (None, None, False), (None, " 1", False),
])
def test_test_keys_allowed(monkeypatch: pytest.MonkeyPatch, flag: bool | None, env: str | None,
                           expected: bool) -> None:
    if env is None:
        monkeypatch.delenv("SAYLAU_VERIFY_ALLOW_TEST_KEYS", raising=False)
    else:
        monkeypatch.setenv("SAYLAU_VERIFY_ALLOW_TEST_KEYS", env)
    assert keys_allowed(flag) is expected


def test_record_format_error_lists_the_errors() -> None:
    errors = ["a: bad", "b: worse"]
    exc = RecordFormatError(errors)
    assert str(exc) == "a: bad; b: worse"
    assert exc.errors == errors
    assert exc.errors is not errors
    assert isinstance(exc, RecordError)


def test_parse_json_is_strict() -> None:
    assert parse_json(b'{"a": [1, "\xc3\xa4", null, true], "b": {}}') == {
        "a": [1, "ä", None, True], "b": {}}
    with pytest.raises(ValueError, match=_exact("duplicate key 'a'")):
        parse_json(b'{"a": 1, "b": 2, "a": 3}')
    with pytest.raises(ValueError, match=_exact("float 1.50 (records contain no floats)")):
        parse_json(b"[1.50]")
    with pytest.raises(ValueError, match=_exact("float 1e3 (records contain no floats)")):
        parse_json(b"[1e3]")
    for constant in ("NaN", "Infinity", "-Infinity"):
        with pytest.raises(ValueError, match=_exact(f"{constant} is not JSON")):
            parse_json(b"[%s]" % constant.encode())
    with pytest.raises(UnicodeDecodeError):
        parse_json(b'["\xff"]')
    with pytest.raises(UnicodeDecodeError):
        parse_json('["ä"]'.encode("utf-16"))


def test_parse_json_of_a_nesting_too_deep() -> None:
    # Defect fixed (#16): json.loads raised RecursionError (not a ValueError), which escaped
    # read_record and so `saylau verify` on a record file of 100 000 nested arrays.
    for blob in (b"[" * 100_000, b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 100_000):
        with pytest.raises(ValueError, match=_exact("JSON nested too deeply")):
            parse_json(blob)


def test_format_of_files() -> None:
    assert format_of_files(["board.json", "petition.json"]) == "saylau-petition-record/v1"
    assert format_of_files(iter(["petition.json"])) == "saylau-petition-record/v1"
    assert format_of_files(["board.json", "election.json"]) == "saylau-election-record/v1"
    assert format_of_files([]) == "saylau-election-record/v1"


def test_encode_file() -> None:
    assert encode_file({"b": 1, "a": ["ä"]}) == '{"a":["ä"],"b":1}\n'.encode()


def test_zip_bytes() -> None:
    data = zip_bytes({"a.json": b"1" * 100, "b.json": b"2"})
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
        assert [i.filename for i in infos] == ["a.json", "b.json"]
        assert [i.compress_type for i in infos] == [zipfile.ZIP_DEFLATED] * 2
        assert archive.read("a.json") == b"1" * 100
        assert archive.read("b.json") == b"2"


def _zip(path: Path, members: dict[str, bytes], dirs: tuple[str, ...] = ()) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for d in dirs:
            archive.writestr(zipfile.ZipInfo(d), b"")
        for name, blob in members.items():
            archive.writestr(name, blob)
    return path


def test_read_zip_at_the_root(tmp_path: Path) -> None:
    path = _zip(tmp_path / "r.zip", {"record-index.json": b"i", "board.json": b"b",
                                     "sub/x.json": b"x", "roll.json": b"r"}, ("sub/",))
    assert read_zip(path) == {"record-index.json": b"i", "board.json": b"b", "roll.json": b"r"}
    assert read_zip(path, frozenset({"board.json"})) == {"record-index.json": b"i",
                                                         "roll.json": b"r"}
    assert member_names(path) == ["record-index.json", "board.json", "roll.json"]


def test_read_zip_in_a_folder(tmp_path: Path) -> None:
    path = _zip(tmp_path / "r.zip", {"rec/record-index.json": b"i", "rec/board.json": b"b",
                                     "rec/deep/x.json": b"x", "other.json": b"o",
                                     "recx.json": b"y"}, ("rec/",))
    assert read_zip(path) == {"record-index.json": b"i", "board.json": b"b"}
    assert member_names(path) == ["record-index.json", "board.json"]


def test_read_zip_two_folders_deep(tmp_path: Path) -> None:
    path = _zip(tmp_path / "r.zip", {"other.json": b"o", "a/b/board.json": b"b",
                                     "a/x.json": b"x", "a/b/record-index.json": b"i"})
    assert read_zip(path) == {"board.json": b"b", "record-index.json": b"i"}
    assert member_names(path) == ["board.json", "record-index.json"]


@pytest.mark.parametrize("members", [
    {"board.json": b"b"},
    {"record-index.json": b"i", "a/record-index.json": b"j"},
])
def test_read_zip_needs_exactly_one_index(tmp_path: Path, members: dict[str, bytes]) -> None:
    path = _zip(tmp_path / "r.zip", members)
    message = _exact(f"{path}: expected exactly one record-index.json in the zip")
    with pytest.raises(RecordError, match=message):
        read_zip(path)
    with pytest.raises(RecordError, match=message):
        member_names(path)


def test_read_zip_of_a_directory_named_like_the_index(tmp_path: Path) -> None:
    path = _zip(tmp_path / "r.zip", {"record-index.json": b"i"}, ("x/record-index.json/",))
    assert read_zip(path) == {"record-index.json": b"i"}
    assert member_names(path) == ["record-index.json"]


def test_read_zip_of_something_else(tmp_path: Path) -> None:
    path = tmp_path / "r.zip"
    path.write_bytes(b"not a zip")
    with pytest.raises(RecordError, match=r"^.*r\.zip: not a readable zip file \(File is not a "
                                          r"zip file\)$"):
        read_zip(path)
    with pytest.raises(RecordError, match=r"^.*r\.zip: not a readable zip file \(File is not a "
                                          r"zip file\)$"):
        member_names(path)
    missing = tmp_path / "none.zip"
    with pytest.raises(RecordError, match=r"^.*none\.zip: not a readable zip file \(\[Errno 2\] "):
        read_zip(missing)
    with pytest.raises(RecordError, match=r"^.*none\.zip: not a readable zip file \(\[Errno 2\] "):
        member_names(missing)


def test_read_zip_refuses_a_file_too_large(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    path = _zip(tmp_path / "r.zip", {"record-index.json": b"i", "board.json": b"1234"})
    monkeypatch.setattr(record_io, "MAX_FILE_BYTES", 4)
    assert read_zip(path) == {"record-index.json": b"i", "board.json": b"1234"}
    monkeypatch.setattr(record_io, "MAX_FILE_BYTES", 3)
    with pytest.raises(RecordError, match=_exact(f"{path}: board.json is too large")):
        read_zip(path)
    assert read_zip(path, frozenset({"board.json"})) == {"record-index.json": b"i"}


def test_read_dir(tmp_path: Path) -> None:
    (tmp_path / "record-index.json").write_bytes(b"i")
    (tmp_path / "board.json").write_bytes(b"b")
    (tmp_path / "notes.txt").write_bytes(b"t")
    (tmp_path / "sub.json").mkdir()
    raw = read_dir(tmp_path)
    assert raw == {"board.json": b"b", "record-index.json": b"i"}
    assert list(raw) == ["board.json", "record-index.json"]
    assert read_dir(tmp_path, frozenset({"board.json"})) == {"record-index.json": b"i"}
    assert member_names(tmp_path) == ["board.json", "notes.txt", "record-index.json"]


def test_read_dir_needs_the_index(tmp_path: Path) -> None:
    (tmp_path / "board.json").write_bytes(b"b")
    with pytest.raises(RecordError,
                       match=_exact(f"{tmp_path}: no record-index.json; not an election record")):
        read_dir(tmp_path)
    (tmp_path / "record-index.json").mkdir()
    with pytest.raises(RecordError,
                       match=_exact(f"{tmp_path}: no record-index.json; not an election record")):
        read_dir(tmp_path)


def test_read_dir_refuses_a_file_too_large(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "record-index.json").write_bytes(b"i")
    (tmp_path / "board.json").write_bytes(b"1234")
    monkeypatch.setattr(record_io, "MAX_FILE_BYTES", 4)
    assert read_dir(tmp_path) == {"board.json": b"1234", "record-index.json": b"i"}
    monkeypatch.setattr(record_io, "MAX_FILE_BYTES", 3)
    with pytest.raises(RecordError, match=_exact(f"{tmp_path / 'board.json'}: too large")):
        read_dir(tmp_path)
    assert read_dir(tmp_path, frozenset({"board.json"})) == {"record-index.json": b"i"}
