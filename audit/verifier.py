"""The independent verifier behind ``saylau verify`` (docs/election-record.md §Verification).

Needs only the record (and optionally a voter's receipt): no database, no server.
Checks, in order, each reported by name in a :class:`audit.report.Report`:

 1. ``record-format``        every file is JSON and follows the JSON Schema
 2. ``record-index``         Ed25519 index signature by the board key; SHA-256 of every file
 3. ``election-fingerprint`` fingerprint recomputed from manifest + keys (eq. F1)
 4. ``tree-heads``           every STH's signature, log id, sizes and times non-decreasing
 5. ``board-merkle``         MTH of the board = last STH's root, last STH covers the board;
                             every earlier STH's root = MTH of that prefix (consistency)
 6. ``board-entries`` … ``revote-chains``  the board checks of :func:`tally.verify_board.verify_board`
 7. ``issuance``             distinct credentials on the board ≤ credentials issued
 8. ``encrypted-tally``      the tally recomputed from the board = the published one
 9. ``partial-decryptions``  every trustee's proof (T7)
10. ``decryption``           combination of k valid partials per option (T8, T9)
11. ``results``              published results = combined plaintexts
12. ``receipt``              (with a receipt) STH signature, inclusion, entry still on the board

Petition records (``petition.json``, format ``saylau-petition-record/v1``) are verified by
:func:`verify_petition_record` (dispatched from :func:`verify_record`), with the checks
listed in :data:`PETITION_CHECKS`.

Modules: :mod:`audit.checks` (record index, tree heads, Merkle prefixes, receipts),
:mod:`audit.election_verifier` (checks 1–12), :mod:`audit.petition_verifier` (petition
records), :mod:`audit.tally_completion` (``saylau tally``: completing a record's tally).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from audit.election_verifier import verify_election_record
from audit.petition_verifier import verify_petition_record
from audit.record import Record, read_record
from audit.report import Report
from tally.progress import ProgressFn


def verify_record(
    record: Record | str | Path,
    receipt: Mapping[str, Any] | None = None,
    progress: ProgressFn | None = None,
    *,
    workers: int | None = None,
    expected_fingerprint: bytes | None = None,
    scheduler: str | None = None,
    allow_test_keys: bool | None = None,
) -> Report:
    """Verify everything in a record; return the report (``report.valid``, ``report.tally``).

    Election keys below 2048 bits fail the fingerprint check unless ``allow_test_keys``
    (None: the ``SAYLAU_VERIFY_ALLOW_TEST_KEYS=1`` environment variable).
    Raises :class:`audit.record.RecordError` only when ``record`` is a path that is not a
    record at all.
    """
    if not isinstance(record, Record):
        record = read_record(record, strict=False, stream_board=True)
    if record.kind == "petition":
        return verify_petition_record(record, receipt, progress,
                                      expected_fingerprint=expected_fingerprint,
                                      allow_test_keys=allow_test_keys)
    return verify_election_record(record, receipt, progress, workers=workers,
                                  expected_fingerprint=expected_fingerprint, scheduler=scheduler,
                                  allow_test_keys=allow_test_keys)


__all__ = ["verify_record"]
