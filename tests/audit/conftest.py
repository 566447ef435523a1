"""Every election record the audit tests verify from a path is verified twice: by the
streaming verifier (board.json read and checked in chunks, ``saylau verify``'s normal
path) and by the whole-file one (the record read into memory first); the two full reports
must be equal, on every tampered record of these tests (issue #13)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import audit.verifier
from audit.election_verifier import verify_election_record
from audit.record import Record, read_record

#: (streamed reports compared, of which failed) over the session, for test_verify_stream.py
COMPARED: list[tuple[str, bool]] = []


def _compared(record: Record | Any, *args: Any, **kwargs: Any) -> Any:
    report = verify_election_record(record, *args, **kwargs)
    if isinstance(record, Record) and record.board_source is not None:
        whole = verify_election_record(read_record(record.source, strict=False), *args,
                                       **kwargs)
        assert whole.to_json() == report.to_json(), (
            f"streaming and whole-file verifiers disagree on {record.source}")
        COMPARED.append((record.source, not report.valid))
    return report


@pytest.fixture(autouse=True)
def _streaming_equals_whole_file(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(audit.verifier, "verify_election_record", _compared)
    yield
