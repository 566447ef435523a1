"""Credential issuance: one RFC 9474 blind signature per voter per election.

The register records THAT a voter got a credential (``credential_issuance``, UNIQUE
per election and user), never the credential.  Its public face is the count and a list
of pseudonymous receipts ``tagged_hash("saylau/v1/issuance-receipt", ("election_id",
id), ("blinded_message", blinded))``: the voter can find theirs, and, because the
blinded message is unlinkable to the credential, the list reveals nothing about ballots.

No precise issuance time is kept (docs §"Linkability"): a row stores ``issued_period`` —
``"credential-period"`` when issued before voting opened, else the start of the
``ISSUANCE_TIME_GRANULARITY_S`` slot (default one day).  A microsecond time next to the
user would link the identified request to the anonymous ballot cast right after it.
"""

from __future__ import annotations

import datetime as dt

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import ApiError
from app.models import (
    ISSUED_IN_CREDENTIAL_PERIOD,
    CredentialIssuance,
    Election,
    User,
    utcnow,
)
from app.services import elections as election_service
from app.services.roll import on_roll
from crypto.credentials import issue_blind_signature
from crypto.errors import CryptoError
from crypto.transcript import tagged_hash

ISSUANCE_RECEIPT_DOMAIN = "saylau/v1/issuance-receipt"
DEFAULT_ISSUANCE_GRANULARITY_S = 86400


def issuance_granularity_s() -> int:
    """``ISSUANCE_TIME_GRANULARITY_S`` of the current app (default one day; at least 1)."""
    value = (current_app.config.get("ISSUANCE_TIME_GRANULARITY_S", DEFAULT_ISSUANCE_GRANULARITY_S)
             if has_app_context() else DEFAULT_ISSUANCE_GRANULARITY_S)
    return max(1, int(value))


def coarse_slot(now: dt.datetime, granularity_s: int) -> str:
    """The start of ``now``'s slot of ``granularity_s`` seconds (UTC, ISO 8601, ``Z``)."""
    epoch = int(now.timestamp())
    start = dt.datetime.fromtimestamp(epoch - epoch % max(1, granularity_s), dt.UTC)
    return start.strftime("%Y-%m-%dT%H:%M:%SZ")


def issued_period(election: Election, now: dt.datetime | None = None) -> str:
    """What the register stores instead of a time: the credential period, or a coarse slot."""
    now = now or utcnow()
    if election_service.phase(election, now) == "credentials":
        return ISSUED_IN_CREDENTIAL_PERIOD
    return coarse_slot(now, issuance_granularity_s())


def issuance_receipt(election_id: str, blinded_message: bytes) -> str:
    return tagged_hash(ISSUANCE_RECEIPT_DOMAIN, ("election_id", election_id.encode("utf-8")),
                       ("blinded_message", blinded_message)).hex()


def issue(db: Session, election: Election, user: User, blinded_message: bytes) -> tuple[bytes, str]:
    """Check eligibility, record the issuance and return ``(blind signature, receipt)``.

    The caller commits; a concurrent second request fails on the UNIQUE constraint (409).
    """
    election_service.issuing_credentials(election)
    if not on_roll(db, election.id, user):
        raise ApiError(403, "not_on_roll", "you are not on this election's voter roll")
    existing = db.scalars(select(CredentialIssuance.id).where(
        CredentialIssuance.election_id == election.id,
        CredentialIssuance.user_id == user.id)).first()
    if existing is not None:
        raise ApiError(409, "already_issued", "a credential was already issued to you for this "
                       "election; vote with the voting card you saved then (a lost card cannot "
                       "be replaced: blind issuance cannot revoke the first one)")
    sk = election_service.issuer_private(election)
    if len(blinded_message) != sk.public_key().modulus_len:
        raise ApiError(400, "invalid_blinded_message",
                       f"blinded_message must be {sk.public_key().modulus_len} bytes")
    try:
        signature = issue_blind_signature(sk, blinded_message)
    except CryptoError as exc:
        raise ApiError(400, "invalid_blinded_message", str(exc)) from exc
    receipt = issuance_receipt(election.id, blinded_message)
    db.add(CredentialIssuance(election_id=election.id, user_id=user.id, receipt_hex=receipt,
                              issued_period=issued_period(election)))
    try:
        db.flush()
    except IntegrityError as exc:
        db.rollback()
        raise ApiError(409, "already_issued", "a credential was already issued") from exc
    return signature, receipt


def public_register(db: Session, election_id: str) -> dict[str, object]:
    receipts = sorted(db.scalars(select(CredentialIssuance.receipt_hex).where(
        CredentialIssuance.election_id == election_id)).all())
    return {"election_id": election_id, "count": len(receipts), "receipts": receipts}
