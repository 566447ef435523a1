"""Unit tests of audit/verifier.py written for mutation testing (issue #16): which verifier
``verify_record`` calls, how it reads a path, and every argument it passes on (the two
verifiers replaced by recording stubs; they are tested on real records elsewhere)."""

from __future__ import annotations

from typing import Any

import pytest

import audit.verifier
from audit.record import Record
from audit.verifier import verify_record


def _stubs(monkeypatch: pytest.MonkeyPatch, record: Record) -> list[tuple[str, tuple[Any, ...],
                                                                          dict[str, Any]]]:
    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def read(*args: Any, **kwargs: Any) -> Record:
        calls.append(("read", args, kwargs))
        return record

    def fake(name: str) -> Any:
        def verify(*args: Any, **kwargs: Any) -> str:
            calls.append((name, args, kwargs))
            return name
        return verify

    monkeypatch.setattr(audit.verifier, "read_record", read)
    monkeypatch.setattr(audit.verifier, "verify_election_record", fake("election"))
    monkeypatch.setattr(audit.verifier, "verify_petition_record", fake("petition"))
    return calls


def test_an_election_record_path(monkeypatch: pytest.MonkeyPatch) -> None:
    record = Record("rec", {"election.json": b"{}"})
    calls = _stubs(monkeypatch, record)
    progress = print
    out = verify_record("rec", {"r": 1}, progress, workers=3, expected_fingerprint=b"f",
                        scheduler="tcp://s", allow_test_keys=True)
    assert out == "election"
    assert calls == [
        ("read", ("rec",), {"strict": False, "stream_board": True}),
        ("election", (record, {"r": 1}, progress),
         {"workers": 3, "expected_fingerprint": b"f", "scheduler": "tcp://s",
          "allow_test_keys": True}),
    ]


def test_a_petition_record(monkeypatch: pytest.MonkeyPatch) -> None:
    record = Record("rec", {"petition.json": b"{}"})
    calls = _stubs(monkeypatch, record)
    progress = print
    out = verify_record(record, {"r": 2}, progress, workers=3, expected_fingerprint=b"g",
                        scheduler="tcp://s", allow_test_keys=False)
    assert out == "petition"
    assert calls == [("petition", (record, {"r": 2}, progress),
                      {"expected_fingerprint": b"g", "allow_test_keys": False})]


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    record = Record("rec", {})
    calls = _stubs(monkeypatch, record)
    assert verify_record(record) == "election"
    assert calls == [("election", (record, None, None),
                      {"workers": None, "expected_fingerprint": None, "scheduler": None,
                       "allow_test_keys": None})]
    calls.clear()
    petition = Record("rec", {"petition.json": b"{}"})
    assert verify_record(petition) == "petition"
    assert calls == [("petition", (petition, None, None),
                      {"expected_fingerprint": None, "allow_test_keys": None})]
