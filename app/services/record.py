"""What the election record needs, as plain JSON-able data, and where tally results go.

The tally/record engineer plugs in here: :func:`record_data` returns everything the
record holds from the web side; :func:`store_partial_decryption` and
:func:`store_result` keep trustee partial decryptions and the results.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import ApiError
from app.models import BoardEntry, PartialDecryption, Result
from app.services import board as board_service
from app.services import elections as election_service
from app.services import issuance as issuance_service
from app.services.keygen import stored_transcript


def record_data(db: Session, election_id: str) -> dict[str, Any]:
    """Manifest, keys, every board entry in order, every STH, issuance register, fingerprint."""
    election = election_service.get_election(db, election_id)
    rows = db.scalars(select(BoardEntry).where(BoardEntry.election_id == election_id)
                      .order_by(BoardEntry.leaf_index)).all()
    return {
        "election": election_service.public_json(db, election),
        "manifest": json.loads(election.manifest_json),
        "election_public_key": json.loads(election.election_key_json)
        if election.election_key_json else None,
        "issuer_public_key": json.loads(election.issuer_public_json),
        "board_public_key": election.board_public_hex,
        "log_id": board_service.log_id(election.id),
        "fingerprint": election.fingerprint_hex,
        "state": election.state,
        "revote_policy": election.revote_policy,
        "rules": json.loads(election.rules_json) if election.rules_json else None,
        "board": [board_service.entry_public(r) for r in rows],
        "tree_heads": board_service.all_heads(db, election_id),
        "issuance": issuance_service.public_register(db, election_id),
        "credential_mode": election.credential_mode,
        "roll_commitment": election_service.roll_commitment(election),
        "roll": issuance_service.public_roll(db, election)["entries"]
        if election.credential_mode != "login" else None,
        "partial_decryptions": list_partial_decryptions(db, election_id),
        "results": get_result(db, election_id),
        "keygen_transcript": _keygen_transcript(db, election_id),
    }


def _keygen_transcript(db: Session, election_id: str) -> dict[str, Any] | None:
    return stored_transcript(db, election_id)


def counted_entries(db: Session, election_id: str) -> list[dict[str, Any]]:
    """The entries that count: kind "ballot" and not superseded (last-counts revoting)."""
    rows = db.scalars(select(BoardEntry).where(
        BoardEntry.election_id == election_id, BoardEntry.kind == "ballot",
        BoardEntry.superseded.is_(False)).order_by(BoardEntry.leaf_index)).all()
    return [json.loads(r.entry_json) for r in rows]


def store_partial_decryption(db: Session, election_id: str, trustee_index: int,
                             data: dict[str, Any]) -> None:
    election = election_service.get_election(db, election_id)
    if election.state not in {"closed", "tallied"}:
        raise ApiError(409, "not_closed", "partial decryptions are accepted after closing")
    db.add(PartialDecryption(election_id=election_id, trustee_index=trustee_index,
                             data_json=json.dumps(data, sort_keys=True)))
    db.flush()


def list_partial_decryptions(db: Session, election_id: str) -> list[dict[str, Any]]:
    rows = db.scalars(select(PartialDecryption).where(PartialDecryption.election_id == election_id)
                      .order_by(PartialDecryption.trustee_index)).all()
    return [{"trustee_index": r.trustee_index, "data": json.loads(r.data_json)} for r in rows]


def store_result(db: Session, election_id: str, data: dict[str, Any]) -> None:
    """Store the results and mark the election tallied."""
    election = election_service.get_election(db, election_id)
    if election.state != "closed":
        raise ApiError(409, "not_closed", "results are stored for a closed election")
    db.add(Result(election_id=election_id, data_json=json.dumps(data, sort_keys=True)))
    election.state = "tallied"
    db.flush()


def get_result(db: Session, election_id: str) -> dict[str, Any] | None:
    row = db.scalars(select(Result).where(Result.election_id == election_id)).first()
    return json.loads(row.data_json) if row is not None else None
