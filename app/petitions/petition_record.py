"""The verifiable petition record (docs/election-record.md, petition kind) built from the database.

Read in this order so that every part covers the one before: the latest decrypted tally,
the tree heads, the board up to the last head, the issuance register.
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import ApiError
from app.petitions import board_log, listing, parameters, region_tally, signing
from app.petitions.models import Petition, PetitionBoardEntry, PetitionTreeHead
from audit.petition_record import build_petition_record_data, petition_record_zip


def record_zip(db: Session, p: Petition) -> bytes:
    """The signed petition record as a zip; 409 ``not_decrypted`` before the first decryption."""
    found = region_tally.latest_results(db, p)
    if found is None:
        raise ApiError(409, "not_decrypted", "no region tally of this petition has been "
                       "decrypted yet; the record is published after the first one")
    t, results = found
    heads = db.scalars(select(PetitionTreeHead).where(PetitionTreeHead.petition_id == p.id)
                       .order_by(PetitionTreeHead.id)).all()
    size = max((h.tree_size for h in heads), default=0)
    rows = db.scalars(select(PetitionBoardEntry).where(
        PetitionBoardEntry.petition_id == p.id, PetitionBoardEntry.leaf_index < size)
        .order_by(PetitionBoardEntry.leaf_index)).all()
    register = signing.public_register(db, p.id)
    public = listing.public_json(db, p)
    data = build_petition_record_data(
        parameters=public["parameters"], election_key=public["election_public_key"],
        issuer_key=public["issuer_public_key"], board_key=p.board_public_hex,
        log_id=parameters.log_id(p.id), fingerprint=parameters.fingerprint_of(p).hex(),
        board=[board_log.entry_public(r)["entry"] for r in rows],
        tree_heads=[board_log.head_json(h) for h in heads],
        issuance={"count": register["count"], "receipts": register["receipts"]},
        encrypted_tally=region_tally.encrypted_tally(p, t).to_json(),
        partials=json.loads(t.partials_json), results=results,
        info={k: public[k] for k in ("title", "state", "opened_at", "closes_at", "closed_at")})
    return petition_record_zip(data, parameters.board_key(p))
