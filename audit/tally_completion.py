"""Completing a record's tally: verify its board, recompute the encrypted tally and combine
the trustees' partial decryptions into the tally files (``saylau tally``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from audit.election_verifier import verify_board_record
from audit.record import ENCRYPTED_TALLY, FILES, KEYGEN, PARTIALS, RESULTS, Record
from audit.report import Report
from tally.decrypt import TrusteePartials, combine_tally
from tally.progress import ProgressFn


@dataclass
class CompletedTally:
    """The tally files of a record, computed from its board and the trustees' partials."""

    files: dict[str, Any]
    results: dict[str, dict[str, int]]
    rejected: list[str]
    board_report: Report


def complete_record(record: Record, partial_sets: Sequence[Mapping[str, Any]], *,
                    progress: ProgressFn | None = None, require_valid_board: bool = True
                    ) -> CompletedTally:
    """Tally a record: verify its board, recompute the encrypted tally, combine partials.

    Returns the record's files plus ``encrypted-tally.json``, ``partial-decryptions.json``
    and ``results.json`` (write them with :func:`audit.record.write_record` and the board
    key).  Raises :class:`crypto.errors.DecryptionError` if some option lacks ``k``
    valid partials, :class:`ValueError` if the board checks fail (unless
    ``require_valid_board`` is False).
    """
    checked = verify_board_record(record, progress=progress)
    failed = [c.name for c in checked.report.failed()]
    if checked.tally is None or checked.tpk is None or checked.fingerprint is None:
        raise ValueError("the record's election keys are unusable")
    if failed and require_valid_board:
        raise ValueError(f"board checks failed: {', '.join(failed)}")
    sets = [TrusteePartials.from_json(obj) for obj in partial_sets]
    combined = combine_tally(checked.tpk, checked.tally, sets, fingerprint=checked.fingerprint,
                             progress=progress)
    files = {name: record.files[name] for name in (*FILES, KEYGEN) if name in record.files}
    files[ENCRYPTED_TALLY] = checked.tally.to_json()
    files[PARTIALS] = [s.to_json() for s in sets]
    files[RESULTS] = combined.results
    return CompletedTally(files, combined.results, [str(r) for r in combined.rejected],
                          checked.report)


__all__ = ["CompletedTally", "complete_record"]
