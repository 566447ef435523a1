"""The web side of the tally: the encrypted tally, trustees' uploads, publication.

Crypto stays in ``tally/`` and ``audit/``; this module only moves data between the
database and those packages.  After closing, the server recomputes the encrypted
tally from the frozen board exactly as an auditor would (``audit.election_verifier``), each
trustee uploads partial decryptions with proofs (checked on upload against the
trustee's verification key), and once ``k`` valid sets are in the results are
combined, stored and the election becomes *tallied*.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from app.errors import ApiError
from app.models import User
from app.services import board as board_service
from app.services import elections as election_service
from app.services import record as record_service
from app.services import users as user_service
from audit.election_verifier import OPERATOR_FAULT_CHECKS, verify_board_record
from audit.record import Record, build_record_data, read_record, write_record
from audit.tally_completion import complete_record
from crypto.errors import CryptoError
from tally.aggregate import EncryptedTally
from tally.decrypt import TrusteePartials, check_partials

_cache_lock = threading.Lock()
_tally_cache: dict[tuple[str, int, str | None], EncryptedTally] = {}


def _record_files(db: Session, election_id: str, *, with_tally: bool) -> dict[str, Any]:
    """The record's files (``audit.record`` format) from the service's data."""
    service = record_service.record_data(db, election_id)
    stored = service.get("results")
    if with_tally and stored is not None:
        return build_record_data(service, service["partial_decryptions"], stored["results"],
                                 stored["encrypted_tally"])
    return build_record_data(service)


def _board_record(db: Session, election_id: str, workdir: Path) -> Record:
    """The record up to the board (no tally files), signed and read back as an auditor would."""
    election = election_service.get_election(db, election_id)
    path = write_record(workdir / "record", _record_files(db, election_id, with_tally=False),
                        board_service.board_key(election))
    return read_record(path)


def encrypted_tally(db: Session, election_id: str) -> EncryptedTally:
    """Verify the frozen board and recompute the encrypted tally (cached per board size)."""
    election = election_service.get_election(db, election_id)
    if election.state not in {"closed", "tallied"}:
        raise ApiError(409, "not_closed", "the encrypted tally exists once the election is closed")
    # the fingerprint too: two databases in one process may reuse an election id
    key = (election_id, election.board_size, election.fingerprint_hex)
    with _cache_lock:
        cached = _tally_cache.get(key)
    if cached is not None:
        return cached
    with tempfile.TemporaryDirectory() as tmp:
        # the key size policy was applied when the election key was set (set_election_key)
        checked = verify_board_record(_board_record(db, election_id, Path(tmp)),
                                      allow_test_keys=True)
    # Entry-level operator faults (entries no conforming server accepts) never block the
    # tally: they are excluded from the counted set and named in the verifier's report.
    failed = [c.name for c in checked.report.failed()
              if c.name not in OPERATOR_FAULT_CHECKS
              or not all(d.startswith("entry ") for d in c.details)]
    if checked.tally is None or failed:
        raise ApiError(409, "board_invalid", "the board does not verify: " + ", ".join(failed))
    with _cache_lock:
        _tally_cache[key] = checked.tally
    return checked.tally


def accept_partials(db: Session, election_id: str, data: object,
                    uploader: User | None = None) -> dict[str, Any]:
    """Check one trustee's partial decryptions against the tally; store; publish at k.

    ``uploader``: the trustee account; it may upload its own trustee index only (403).
    """
    election = election_service.get_election(db, election_id)
    tally = encrypted_tally(db, election_id)
    if election.state == "tallied":
        raise ApiError(409, "already_tallied", "the results are already published")
    try:
        partials = TrusteePartials.from_json(data)
        tpk = election_service.threshold_key(election)
        if uploader is not None:
            user_service.check_trustee_index(uploader, partials.trustee_index)
        if not 1 <= partials.trustee_index <= tpk.trustees:
            raise ApiError(400, "not_a_trustee",
                           f"trustee index {partials.trustee_index} is not one of 1..{tpk.trustees}")
        rejected = check_partials(tpk, tally, [partials],
                                  fingerprint=election_service.compute_fingerprint(election))
    except CryptoError as exc:
        raise ApiError(400, "invalid_partials", str(exc)) from exc
    if rejected:
        raise ApiError(400, "invalid_partials", "; ".join(str(r) for r in rejected[:10]))
    existing = {row["trustee_index"] for row in record_service.list_partial_decryptions(db, election_id)}
    if partials.trustee_index in existing:
        raise ApiError(409, "duplicate", f"trustee {partials.trustee_index} already uploaded")
    record_service.store_partial_decryption(db, election_id, partials.trustee_index,
                                            partials.to_json())
    stored = record_service.list_partial_decryptions(db, election_id)
    published = False
    if len(stored) >= tpk.threshold:
        with tempfile.TemporaryDirectory() as tmp:
            record = _board_record(db, election_id, Path(tmp))
            completed = complete_record(record, [row["data"] for row in stored])
        record_service.store_result(db, election_id, {
            "results": completed.results,
            "encrypted_tally": completed.files["encrypted-tally.json"],
        })
        published = True
    return {"trustee_index": partials.trustee_index, "valid_sets": len(stored),
            "threshold": tpk.threshold, "published": published}


def record_zip(db: Session, election_id: str) -> bytes:
    """The signed election record as one .zip (tally files included once tallied)."""
    election = election_service.get_election(db, election_id)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_record(Path(tmp) / "record.zip", _record_files(db, election_id, with_tally=True),
                            board_service.board_key(election))
        return path.read_bytes()
