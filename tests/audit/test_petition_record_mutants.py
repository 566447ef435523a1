"""Unit tests of audit/petition_record.py written for mutation testing (issue #16): the record
data built from the service's parts (compared whole), the counted/invalidated sets, the byte,
zip and directory writers and the reader's kind check."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

import audit.petition_record
from audit.petition_record import (
    _unwrap,
    build_petition_record_data,
    counted_entries,
    petition_record_bytes,
    petition_record_zip,
    read_petition_record,
    write_petition_record,
)
from audit.record import Record
from audit.record_index import verify_index
from crypto.tree_head import BoardSigningKey

KEY = BoardSigningKey.from_seed_hex("21" * 32)


def _exact(text: str) -> str:
    return "^" + re.escape(text) + "$"


def test_unwrap() -> None:
    inner = {"kind": "signature"}
    out = _unwrap({"entry": inner, "index": 3})
    assert out == inner and out is not inner
    assert _unwrap(MappingProxyType({"entry": MappingProxyType(inner)})) == inner
    assert _unwrap({"entry": 5, "a": 1}) == {"entry": 5, "a": 1}
    plain = {"kind": "invalidation"}
    assert _unwrap(plain) == plain and _unwrap(plain) is not plain
    assert _unwrap([("a", 1)]) == {"a": 1}


def test_counted_entries() -> None:
    board = [{"kind": "signature"}, {"kind": "signature"}, {"kind": "invalidation",
                                                             "target_index": 1},
             {"kind": "other", "target_index": 0}, {"kind": "signature"},
             {"kind": "invalidation", "target_index": 0}, {"kind": "signature"}]
    assert counted_entries(board, 5) == ([0, 4], [1])
    assert counted_entries(board, 6) == ([4], [0, 1])
    assert counted_entries(board, 7) == ([4, 6], [0, 1])
    assert counted_entries(board, 2) == ([0, 1], [])
    assert counted_entries(board, 0) == ([], [])


_PARAMS = {"petition_id": "p1", "title": "Params title", "threshold": 2}


def _base(**extra: Any) -> dict[str, Any]:
    return build_petition_record_data(
        parameters=_PARAMS, election_key={"n": "ab"}, issuer_key={"n": "cd"},
        board_key="ee" * 32, log_id="saylau/petition/1", fingerprint="ff" * 32,
        board=[{"entry": {"kind": "signature"}}, {"kind": "signature"},
               {"kind": "invalidation", "target_index": 0}],
        tree_heads=[MappingProxyType({"tree_size": 3})],
        issuance={"count": True, "receipts": ({"r": 1},)}, **extra)


def test_build_without_a_tally() -> None:
    data = _base()
    assert data == {
        "petition.json": {
            "kind": "petition", "petition_id": "p1", "title": "Params title",
            "parameters": _PARAMS, "fingerprint": "ff" * 32, "election_key": {"n": "ab"},
            "issuer_key": {"n": "cd"}, "board_key": "ee" * 32, "log_id": "saylau/petition/1"},
        "board.json": [{"kind": "signature"}, {"kind": "signature"},
                       {"kind": "invalidation", "target_index": 0}],
        "tree-heads.json": [{"tree_size": 3}],
        "issuance.json": {"count": 1, "receipts": [{"r": 1}]},
    }
    assert type(data["issuance.json"]["count"]) is int
    assert type(data["tree-heads.json"][0]) is dict
    assert data["petition.json"]["parameters"] is not _PARAMS
    no_receipts = build_petition_record_data(
        parameters={"petition_id": "p2"}, election_key={}, issuer_key={}, board_key="",
        log_id="", fingerprint="", board=[], tree_heads=[], issuance={"count": "7"})
    assert no_receipts["issuance.json"] == {"count": 7}
    assert no_receipts["petition.json"]["title"] == ""


def test_build_with_info() -> None:
    info = {"title": 12, "state": "closed", "opened_at": 1, "closes_at": 2, "closed_at": 3,
            "other": 4}
    petition = _base(info=info)["petition.json"]
    assert petition["title"] == "12"
    assert {k: petition[k] for k in ("state", "opened_at", "closes_at", "closed_at")} == {
        "state": "closed", "opened_at": 1, "closes_at": 2, "closed_at": 3}
    assert "other" not in petition
    assert "state" not in _base(info={"title": "t"})["petition.json"]
    assert _base(info={"state": "open"})["petition.json"]["title"] == "Params title"


_TALLY = {"petition_id": "p1", "tree_size": "3", "count": {"c": 1}, "ciphertext": "11",
          "extra": 1}


def test_build_with_a_tally() -> None:
    data = _base(encrypted_tally=_TALLY, partials=[MappingProxyType({"t": 1})],
                 results={"r": 2})
    assert data["encrypted-tally.json"] == {
        "petition_id": "p1", "tree_size": "3", "count": {"c": 1}, "ciphertext": "11",
        "counted": [1], "invalidated": [0]}
    assert data["partial-decryptions.json"] == [{"t": 1}]
    assert type(data["partial-decryptions.json"][0]) is dict
    assert data["results.json"] == {"r": 2}
    given = _base(encrypted_tally={**_TALLY, "tree_size": 2, "counted": (5,),
                                   "invalidated": (6,)}, partials=[], results={})
    assert given["encrypted-tally.json"]["counted"] == [5]
    assert given["encrypted-tally.json"]["invalidated"] == [6]
    short = _base(encrypted_tally={**_TALLY, "tree_size": 2}, partials=[], results={})
    assert short["encrypted-tally.json"]["counted"] == [0, 1]
    assert short["encrypted-tally.json"]["invalidated"] == []


@pytest.mark.parametrize("parts", [
    {"encrypted_tally": _TALLY}, {"partials": []}, {"results": {}},
    {"encrypted_tally": _TALLY, "partials": []}, {"partials": [], "results": {}},
    {"encrypted_tally": _TALLY, "results": {}},
])
def test_build_needs_all_three_tally_parts(parts: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=_exact(
            "pass the encrypted tally, the partials and the results together")):
        _base(**parts)


_DATA = {"petition.json": {"kind": "petition"}, "board.json": [], "tree-heads.json": [],
         "issuance.json": {"count": 0}}


def test_record_bytes_and_zip() -> None:
    raw = petition_record_bytes(_DATA, KEY)
    assert sorted(raw) == ["board.json", "issuance.json", "petition.json", "record-index.json",
                           "tree-heads.json"]
    assert raw["petition.json"] == b'{"kind":"petition"}\n'
    verify_index(json.loads(raw["record-index.json"]), KEY.public_key_bytes(),
                 "saylau-petition-record/v1")
    with zipfile.ZipFile(io.BytesIO(petition_record_zip(_DATA, KEY))) as archive:
        assert {n: archive.read(n) for n in archive.namelist()} == raw
    election = {k: v for k, v in _DATA.items() if k != "petition.json"}
    for call in (petition_record_bytes, petition_record_zip):
        with pytest.raises(ValueError, match=_exact("a petition record needs petition.json")):
            call(election, KEY)


def test_write(tmp_path: Path) -> None:
    out = write_petition_record(tmp_path / "rec", _DATA, KEY)
    assert out == tmp_path / "rec"
    assert (out / "petition.json").read_bytes() == b'{"kind":"petition"}\n'
    assert zipfile.is_zipfile(write_petition_record(str(tmp_path / "r.zip"), _DATA, KEY))
    election = {k: v for k, v in _DATA.items() if k != "petition.json"}
    with pytest.raises(ValueError, match=_exact("a petition record needs petition.json")):
        write_petition_record(tmp_path / "e", election, KEY)
    assert not (tmp_path / "e").exists()


def test_read(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[object, bool]] = []
    kinds = {"p": Record("p", {"petition.json": b"{}"}), "e": Record("e", {})}

    def read(path: str, *, strict: bool) -> Record:
        calls.append((path, strict))
        return kinds[path]

    monkeypatch.setattr(audit.petition_record, "read_record", read)
    assert read_petition_record("p") is kinds["p"]
    assert read_petition_record("p", strict=False) is kinds["p"]
    with pytest.raises(ValueError, match=_exact("e: not a petition record")):
        read_petition_record("e")
    assert calls == [("p", True), ("p", False), ("e", True)]
