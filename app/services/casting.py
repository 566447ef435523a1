"""Casting: anonymous ballots with credentials, and Benaloh-audited (spoiled) ballots.

Checks on ``POST /api/v1/elections/<id>/ballots``, cheapest first (docs/protocol.md §5.3):

1. body shape: an object with ``credential`` (object), ``ballot`` (object), ``signature`` (hex);
2. the election exists (404), is open and inside its window (409);
3. the credential parses, its scope is this election and its RFC 9474 signature verifies (403);
4. the Ed25519 signature by the credential's ballot key over ``canonical_json(ballot)`` (403);
5. the ballot parses, is in canonical form, and ``ballot.token_id == credential.token_id`` (400);
6. quick duplicate checks (token already used under no-revote, ciphertext already on the board, 409);
7. ``check_ballot`` (every proof, powers batched) with the election fingerprint (400: invalid proof / ballot / ciphertext);
8. ONE transaction: take the election's append lock, re-check 6, insert the used token (or
   mark the token's previous ballot superseded), the ciphertext registry rows, the board
   entry and a new signed tree head; commit; only then build the receipt.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from app import clock
from app.db import new_session
from app.errors import ApiError, crypto_error
from app.models import BoardEntry, CiphertextRegistry, Election, UsedToken
from app.services import board as board_service
from app.services import elections as election_service
from crypto.ballot import (
    BallotSecrets,
    EncryptedBallot,
    check_ballot,
    tracker_of,
    verify_audited_ballot,
)
from crypto.credentials import Credential, verify_credential, verify_payload_signature
from crypto.encoding import byte_length, canonical_json, hex_to_bytes, int_to_fixed
from crypto.errors import (
    CryptoError,
    InvalidEncoding,
)
from crypto.threshold import ThresholdPublicKey


def ciphertext_digest(n: int, c: int) -> str:
    """``SHA-256(I2OSP(c, byte_length(n^2)))`` hex: the registry key of a ciphertext."""
    return hashlib.sha256(int_to_fixed(c, byte_length(n * n))).hexdigest()


def _crypto_error(exc: CryptoError) -> ApiError:
    return crypto_error(exc)


def _object(payload: object, key: str) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise ApiError(400, "invalid_body", "expected a JSON object")
    value = payload.get(key)
    if not isinstance(value, dict):
        raise ApiError(400, "invalid_body", f"field {key!r} must be a JSON object")
    return value


def _election_context(election: Election) -> tuple[ThresholdPublicKey, bytes]:
    if election.election_key_json is None or election.fingerprint_hex is None:
        raise ApiError(409, "not_open", "the election is not open")
    tpk = ThresholdPublicKey.from_json(json.loads(election.election_key_json))
    return tpk, bytes.fromhex(election.fingerprint_hex)


def _parse_ballot(obj: dict[str, Any]) -> EncryptedBallot:
    try:
        ballot = EncryptedBallot.from_json(obj)
    except CryptoError as exc:
        raise _crypto_error(exc) from exc
    except (KeyError, TypeError, ValueError) as exc:
        raise ApiError(400, "invalid_encoding", f"malformed ballot: {exc}") from exc
    try:
        canonical = ballot.to_json() == obj
    except (CryptoError, ValueError):
        canonical = False
    if not canonical:
        raise ApiError(400, "non_canonical", "the ballot is not in canonical form (extra fields "
                       "or non-canonical encodings)")
    return ballot


def _digests(tpk: ThresholdPublicKey, ballot: EncryptedBallot) -> list[str]:
    digests = [ciphertext_digest(tpk.n, c) for c in ballot.ciphertexts()]
    if len(set(digests)) != len(digests):
        raise ApiError(400, "invalid_ballot", "the ballot repeats a ciphertext")
    return digests


def _check_copies(db: Session, election_id: str, digests: list[str]) -> None:
    hit = db.scalars(select(CiphertextRegistry.id).where(
        CiphertextRegistry.election_id == election_id,
        CiphertextRegistry.digest.in_(digests))).first()
    if hit is not None:
        raise ApiError(409, "ciphertext_reused", "a ciphertext of this ballot is already on the "
                       "board (copied ballots are refused)")


def _used(db: Session, election_id: str, token_hex: str) -> UsedToken | None:
    return db.scalars(select(UsedToken).where(UsedToken.election_id == election_id,
                                              UsedToken.token_id == token_hex)).first()


def cast_ballot(app: Flask, election_id: object, payload: object,
                now_ms: int | None = None) -> dict[str, Any]:
    """Verify and append a ballot; returns the receipt (after commit)."""
    credential_obj = _object(payload, "credential")
    ballot_obj = _object(payload, "ballot")
    assert isinstance(payload, dict)
    try:
        signature = hex_to_bytes(payload.get("signature"), "signature", 64)
    except InvalidEncoding as exc:
        raise ApiError(400, "invalid_body", "field 'signature' must be 64 bytes of hex") from exc

    db = new_session(app)
    try:
        election = election_service.get_election(db, election_id)
        election_service.accepting_ballots(election)
        try:
            credential = Credential.from_json(credential_obj)
        except CryptoError as exc:
            raise ApiError(400, "invalid_credential", str(exc)) from exc
        try:
            verify_credential(election_service.issuer_public(election), credential, election.id)
        except CryptoError as exc:
            raise ApiError(403, "invalid_credential", str(exc)) from exc
        try:
            verify_payload_signature(credential.ballot_public_key, canonical_json(ballot_obj),
                                     signature)
        except CryptoError as exc:
            raise ApiError(403, "invalid_signature", "the ballot signature does not verify "
                           "under the credential's ballot key") from exc
        ballot = _parse_ballot(ballot_obj)
        token_id = credential.token_id
        if ballot.token_id != token_id:
            raise ApiError(400, "token_mismatch", "ballot.token_id is not the credential's token id")
        tpk, fingerprint = _election_context(election)
        digests = _digests(tpk, ballot)
        token_hex = token_id.hex()
        if election.revote_policy == "no-revote" and _used(db, election.id, token_hex):
            raise ApiError(409, "already_voted", "this credential has already cast a ballot")
        _check_copies(db, election.id, digests)
        try:
            check_ballot(tpk.public, election_service.manifest_of(election), fingerprint,
                         ballot, token_id)
        except CryptoError as exc:
            raise _crypto_error(exc) from exc
        db.rollback()  # end any read transaction before taking the write lock

        entry: dict[str, Any] = {
            "kind": "ballot",
            "election_id": election.id,
            "credential": credential.to_json(),
            "ballot": ballot_obj,
            "signature": signature.hex(),
            "cast_at": now_ms if now_ms is not None else clock.now_ms(),
        }
        return _append(db, election.id, entry, digests, token_hex, revote=True)
    finally:
        db.close()


def _append(db: Session, election_id: str, entry: dict[str, Any], digests: list[str],
            token_hex: str | None, *, revote: bool) -> dict[str, Any]:
    try:
        index = board_service.lock_election(db, election_id)
        election = db.get(Election, election_id)
        assert election is not None
        db.refresh(election)
        election_service.accepting_ballots(election)  # it may have closed meanwhile
        _check_copies(db, election_id, digests)
        previous: BoardEntry | None = None
        used = _used(db, election_id, token_hex) if token_hex else None
        if used is not None:
            if not revote or election.revote_policy == "no-revote":
                raise ApiError(409, "already_voted", "this credential has already cast a ballot")
            previous = db.get(BoardEntry, used.current_entry_id)
        entry["index"] = index
        entry["replaces"] = previous.leaf_index if previous is not None else None
        tracker = tracker_of(entry["ballot"])
        row, log = board_service.append_entry(db, election, index, entry, kind=entry["kind"],
                                              token_id=token_hex, tracker=tracker)
        if token_hex is not None:
            if used is None:
                db.add(UsedToken(election_id=election_id, token_id=token_hex,
                                 current_entry_id=row.id))
            else:
                used.current_entry_id = row.id
            if previous is not None:
                previous.superseded = True
                previous.superseded_by = index
        for digest in digests:
            db.add(CiphertextRegistry(election_id=election_id, digest=digest, entry_id=row.id))
        sth = board_service.sign_head(db, election, final=False, log=log)
        receipt = board_service.receipt(election, row, log, sth)
        db.commit()
    except IntegrityError as exc:
        db.rollback()
        raise ApiError(409, "conflict", "the ballot collides with one already on the board "
                       "(token or ciphertext already used)") from exc
    except OperationalError as exc:
        db.rollback()
        raise ApiError(503, "busy", "the board is busy; retry") from exc
    except BaseException:
        db.rollback()
        raise
    return receipt


def post_audited(app: Flask, election_id: object, payload: object) -> dict[str, Any]:
    """Post a Benaloh-audited (spoiled) ballot with its revealed plaintexts and randomness.

    Accepted if well-formed: the ballot parses against the manifest and its proofs verify
    under its own token id, and the revealed secrets re-encrypt to its ciphertexts.  Its
    ciphertexts enter the registry so that it can never be cast.  Never counted.
    """
    ballot_obj = _object(payload, "ballot")
    secrets_obj = _object(payload, "secrets")
    db = new_session(app)
    try:
        election = election_service.get_election(db, election_id)
        if election.state != "open":
            raise ApiError(409, "not_open", "audited ballots are accepted while the election is open")
        ballot = _parse_ballot(ballot_obj)
        tpk, fingerprint = _election_context(election)
        manifest = election_service.manifest_of(election)
        try:
            secrets_ = BallotSecrets.from_json(secrets_obj)
            if secrets_.to_json() != secrets_obj:
                raise ApiError(400, "non_canonical", "the audit secrets are not in canonical form")
            check_ballot(tpk.public, manifest, fingerprint, ballot, ballot.token_id)
            verify_audited_ballot(tpk.public, manifest, ballot, secrets_)
        except CryptoError as exc:
            raise _crypto_error(exc) from exc
        except (KeyError, TypeError, ValueError) as exc:
            raise ApiError(400, "invalid_encoding", f"malformed audit data: {exc}") from exc
        digests = _digests(tpk, ballot)
        _check_copies(db, election.id, digests)
        db.rollback()
        entry: dict[str, Any] = {
            "kind": "audited",
            "election_id": election.id,
            "credential": None,
            "ballot": ballot_obj,
            "signature": None,
            "secrets": secrets_obj,
            "cast_at": clock.now_ms(),
        }
        return _append(db, election.id, entry, digests, None, revote=False)
    finally:
        db.close()
