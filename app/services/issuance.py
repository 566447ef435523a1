"""Credential issuance: one RFC 9474 blind signature per roll key per election.

In enrolled-key and PKI mode (docs/protocol.md §2.7) a credential is issued only against a
request (eq. R1) that the voter signed with their roll key; the register publishes every
signed request (roll position, never a name), so an observer can check ``counted tokens ≤
requests ≤ roll size`` and each request's signature.  The issuer key still signs the
blinded message blindly: issuance and ballot stay unlinkable.

The same signed request sent again (a lost response) gets the stored blind signature back
(200, idempotent); a different request from the same roll key is refused (409).

Login mode (legacy, no roll) records only THAT a voter got a credential; ``saylau verify``
fails such a record, since the operator alone could have issued every credential.
Receipts: ``tagged_hash("saylau/v1/issuance-receipt", ("election_id", id), ("blinded_message",
blinded))``.

No precise issuance time is kept (docs §"Linkability"): a row stores ``issued_period`` —
``"credential-period"`` when issued before voting opened, else the start of the
``ISSUANCE_TIME_GRANULARITY_S`` slot (default one day).  A microsecond time next to the
user would link the identified request to the anonymous ballot cast right after it.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
from typing import Any

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
from app.services.roll import on_roll, published_roll, roll_key_of
from crypto.credentials import issue_blind_signature
from crypto.encoding import hex_to_bytes
from crypto.errors import CryptoError, InvalidEncoding, InvalidSignature
from crypto.roll import RollEntry as RollKeyEntry
from crypto.roll import SignedRequest, verify_request
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


def parse_request_body(election: Election, data: dict[str, Any]) -> tuple[bytes, SignedRequest | None]:
    """``(blinded message, signed request or None)`` from the API body; 400 if malformed."""
    if election.credential_mode == "login":
        try:
            return hex_to_bytes(data.get("blinded_message"), "blinded_message"), None
        except InvalidEncoding as exc:
            raise ApiError(400, "invalid_body", "blinded_message must be lowercase hex") from exc
    if "signed_request" not in data:
        raise ApiError(400, "unsigned_request", "this election issues credentials only against "
                       "a request signed with your roll key (field 'signed_request')")
    try:
        signed = SignedRequest.from_json(data["signed_request"])
    except (CryptoError, KeyError, TypeError) as exc:
        raise ApiError(400, "invalid_request", f"malformed signed_request: {exc}") from exc
    return signed.request.blinded_message, signed


def _check_signed(db: Session, election: Election, user: User, signed: SignedRequest) -> None:
    key = roll_key_of(db, election.id, user)
    if key is None or key.roll_index is None:
        raise ApiError(403, "not_enrolled", "you have no key on this election's published roll "
                       "(enrollment closed when voting opened)")
    req = signed.request
    if req.election_id != election.id:
        raise ApiError(400, "invalid_request", "the request names another election")
    if req.roll_index != key.roll_index:
        raise ApiError(403, "wrong_roll_index", "the request names another roll position")
    entry = RollKeyEntry(key.roll_index, key.kind, bytes.fromhex(key.public_key_hex),
                         bytes.fromhex(key.id_hash_hex) if key.id_hash_hex else None)
    try:
        verify_request(entry, signed)
    except (InvalidSignature, InvalidEncoding) as exc:
        raise ApiError(403, "bad_request_signature", str(exc)) from exc


def issue(db: Session, election: Election, user: User, blinded_message: bytes,
          signed: SignedRequest | None = None) -> tuple[bytes, str, bool]:
    """Check eligibility (and the signed request), record the issuance.

    Returns ``(blind signature, receipt, fresh)``; ``fresh`` is False when the same signed
    request was answered before (the stored answer is returned).  The caller commits; a
    concurrent second request fails on the UNIQUE constraint (409).
    """
    election_service.issuing_credentials(election)
    if not on_roll(db, election.id, user):
        raise ApiError(403, "not_on_roll", "you are not on this election's voter roll")
    if election.credential_mode != "login":
        if signed is None:
            raise ApiError(400, "unsigned_request", "a signed request is required")
        _check_signed(db, election, user, signed)
    existing = db.scalars(select(CredentialIssuance).where(
        CredentialIssuance.election_id == election.id,
        CredentialIssuance.user_id == user.id)).first()
    if existing is not None:
        if (signed is not None and existing.signed_request_json is not None
                and existing.blind_signature_hex is not None
                and hmac.compare_digest(existing.signed_request_json,
                                        json.dumps(signed.to_json(), sort_keys=True))):
            return bytes.fromhex(existing.blind_signature_hex), existing.receipt_hex, False
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
    db.add(CredentialIssuance(
        election_id=election.id, user_id=user.id, receipt_hex=receipt,
        issued_period=issued_period(election),
        signed_request_json=json.dumps(signed.to_json(), sort_keys=True) if signed else None,
        blind_signature_hex=signature.hex() if signed else None))
    try:
        db.flush()
    except IntegrityError as exc:
        db.rollback()
        raise ApiError(409, "already_issued", "a credential was already issued") from exc
    return signature, receipt, True


def signed_requests(db: Session, election_id: str) -> list[dict[str, Any]]:
    """Every published signed request, sorted by roll index (never by time)."""
    rows = db.scalars(select(CredentialIssuance.signed_request_json).where(
        CredentialIssuance.election_id == election_id,
        CredentialIssuance.signed_request_json.is_not(None))).all()
    requests = [json.loads(r) for r in rows if r]
    return sorted(requests, key=lambda r: int(r["request"]["roll_index"]))


def public_register(db: Session, election_id: str) -> dict[str, object]:
    receipts = sorted(db.scalars(select(CredentialIssuance.receipt_hex).where(
        CredentialIssuance.election_id == election_id)).all())
    return {"election_id": election_id, "count": len(receipts), "receipts": receipts,
            "requests": signed_requests(db, election_id)}


def public_roll(db: Session, election: Election) -> dict[str, Any]:
    """``GET /elections/<id>/roll``: the frozen roll (keys, id hashes) and its commitment."""
    return {"election_id": election.id, "mode": election.credential_mode,
            "commitment": election_service.roll_commitment(election),
            "entries": [e.to_json() for e in published_roll(db, election.id)]}
