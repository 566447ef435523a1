"""Signing: the blind-signed credential, then the anonymous signature appended to the board.

Signing follows the casting pattern (:mod:`app.services.casting`): cheap checks first,
proofs verified outside the write transaction, then ONE transaction that takes the
petition's append lock (``UPDATE petitions SET board_size = board_size + 1``), inserts the
board entry (``UNIQUE(petition_id, token_id)``) and a signed tree head; the receipt is
built only after the commit.  The signing transaction never touches ``petition_counts``:
counts are folded in batches by :func:`app.petitions.counts.refresh_counts`.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from typing import Any, cast

from flask import Flask
from sqlalchemy import Table, func, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from app.config import setting
from app.db import new_session
from app.errors import ApiError, crypto_error
from app.models import User, utcnow
from app.petitions import batcher, lifecycle
from app.petitions.board_log import MODELS, load_log, lock_petition, receipt, sign_head
from app.petitions.citizens import require_citizen
from app.petitions.common import get_petition
from app.petitions.fraud import _note_event
from app.petitions.models import (
    Petition,
    PetitionBoardEntry,
    PetitionCiphertext,
    PetitionFlag,
    PetitionSigner,
)
from app.petitions.parameters import (
    election_key,
    fingerprint_of,
    issuer_private,
    issuer_public,
    params_of,
    scope_id,
)
from app.security import aware
from app.services import board_core
from app.services.issuance import coarse_slot, issuance_granularity_s
from crypto.batch import ProofItem
from crypto.credentials import (
    Credential,
    issue_blind_signature,
    verify_credential,
    verify_payload_signature,
)
from crypto.encoding import canonical_json, hex_to_bytes
from crypto.errors import (
    CryptoError,
    InvalidEncoding,
)
from crypto.paillier import PublicKey
from crypto.petition import (
    EncryptedSignature,
    PetitionParameters,
    check_signature,
)
from crypto.transcript import tagged_hash
from tally.petition import PetitionContext, check_signature_entry, region_digest

SIGNER_RECEIPT_DOMAIN = "saylau/v1/petition-issuance-receipt"


def signer_receipt(petition_id: int, blinded_message: bytes) -> str:
    return tagged_hash(SIGNER_RECEIPT_DOMAIN, ("scope_id", scope_id(petition_id).encode("utf-8")),
                       ("blinded_message", blinded_message)).hex()


def signers_count(db: Session, petition_id: int) -> int:
    return int(db.scalar(select(func.count()).select_from(PetitionSigner)
                         .where(PetitionSigner.petition_id == petition_id)) or 0)


def _accepting(p: Petition, now: dt.datetime | None = None) -> None:
    if not lifecycle.accepts_signatures(p.state):
        raise ApiError(409, "not_open", f"the petition is {p.state.replace('_', ' ')}, not open")
    closes = aware(p.closes_at)
    if closes is not None and (now or utcnow()) >= closes:
        raise ApiError(409, "window_closed", "the petition's signing period has ended")


def issue_credential(app: Flask, petition_id: object, user_id: int, blinded: bytes,
                     addr: str | None) -> tuple[bytes, str]:
    """Record THAT the citizen signs (UNIQUE(petition, user)) and blind-sign the request."""
    for attempt in range(3):
        db = new_session(app)
        try:
            p = get_petition(db, petition_id)
            user = db.get(User, user_id)
            assert user is not None
            require_citizen(db, user)
            _accepting(p)
            sk = issuer_private(p)
            if len(blinded) != sk.public_key().modulus_len:
                raise ApiError(400, "invalid_blinded_message",
                               f"blinded_message must be {sk.public_key().modulus_len} bytes")
            if db.scalars(select(PetitionSigner.id).where(PetitionSigner.petition_id == p.id,
                                                          PetitionSigner.user_id == user.id)).first():
                raise ApiError(409, "already_signed", "you have already signed this petition")
            try:
                signature = issue_blind_signature(sk, blinded)
            except CryptoError as exc:
                raise ApiError(400, "invalid_blinded_message", str(exc)) from exc
            receipt = signer_receipt(p.id, blinded)
            db.rollback()  # end the read transaction; the write below takes the lock
            db.add(PetitionSigner(petition_id=p.id, user_id=user.id, receipt_hex=receipt,
                                  issued_period=coarse_slot(utcnow(), issuance_granularity_s())))
            db.flush()
            burst = _note_event(db, p.id, "credential", addr)
            if burst > int(setting("PETITION_FLAG_CREDENTIALS_PER_ADDRESS")):
                db.add(PetitionFlag(petition_id=p.id, kind="credential_burst", user_id=user.id,
                                    detail=f"{burst} credential requests from one address within "
                                    f"{setting('PETITION_FLAG_WINDOW_S')} s"))
            db.commit()
            return signature, receipt
        except IntegrityError as exc:
            db.rollback()
            raise ApiError(409, "already_signed", "you have already signed this petition") from exc
        except OperationalError as exc:
            db.rollback()
            if attempt == 2:
                raise ApiError(503, "busy", "the server is busy; retry") from exc
        finally:
            db.close()
    raise ApiError(503, "busy", "the server is busy; retry")  # pragma: no cover


def public_register(db: Session, petition_id: int) -> dict[str, Any]:
    receipts = sorted(db.scalars(select(PetitionSigner.receipt_hex).where(
        PetitionSigner.petition_id == petition_id)).all())
    return {"petition_id": petition_id, "count": len(receipts), "receipts": receipts}


def _crypto_error(exc: CryptoError) -> ApiError:
    return crypto_error(exc, ballot_code="invalid_signature_payload")


def _object(payload: dict[str, Any], key: str) -> dict[str, Any]:
    value = payload.get(key)
    if not isinstance(value, dict):
        raise ApiError(400, "invalid_body", f"field {key!r} must be a JSON object")
    return value


def _request_parts(payload: dict[str, Any]) -> tuple[Credential, dict[str, Any], bytes]:
    """The request's parts (400 for a malformed body or credential); nothing verified yet."""
    credential_obj = _object(payload, "credential")
    sig_obj = _object(payload, "signature")
    try:
        ed = hex_to_bytes(payload.get("ed25519_signature"), "ed25519_signature", 64)
    except InvalidEncoding as exc:
        raise ApiError(400, "invalid_body", "ed25519_signature must be 64 bytes of hex") from exc
    try:
        credential = Credential.from_json(credential_obj)
    except CryptoError as exc:
        raise ApiError(400, "invalid_credential", str(exc)) from exc
    return credential, sig_obj, ed


def check_signature_request(p: Petition, payload: dict[str, Any]) -> tuple[Credential, EncryptedSignature, dict[str, Any], bytes]:
    """Steps 1–5 of signing (no proof exponentiations): shape, credential, Ed25519, token."""
    credential, sig_obj, ed = _request_parts(payload)
    try:
        verify_credential(issuer_public(p), credential, scope_id(p.id))
    except CryptoError as exc:
        raise ApiError(403, "invalid_credential", str(exc)) from exc
    try:
        verify_payload_signature(credential.ballot_public_key, canonical_json(sig_obj), ed)
    except CryptoError as exc:
        raise ApiError(403, "invalid_signature", "the Ed25519 signature does not verify under "
                       "the credential's key") from exc
    try:
        sig = EncryptedSignature.from_json(sig_obj)
        canonical = sig.to_json() == sig_obj
    except CryptoError as exc:
        raise _crypto_error(exc) from exc
    except (KeyError, TypeError, ValueError) as exc:
        raise ApiError(400, "invalid_encoding", f"malformed signature: {exc}") from exc
    if not canonical:
        raise ApiError(400, "non_canonical", "the signature is not in canonical form")
    if sig.token_id != credential.token_id:
        raise ApiError(400, "token_mismatch", "signature.token_id is not the credential's token id")
    if sig.petition_id != scope_id(p.id):
        raise ApiError(400, "wrong_petition", "the signature is for another petition")
    return credential, sig, sig_obj, ed


def _refuse_used_token(db: Session, p: Petition, credential: Credential) -> None:
    if db.scalars(select(PetitionBoardEntry.id).where(
            PetitionBoardEntry.petition_id == p.id,
            PetitionBoardEntry.token_id == credential.token_id.hex())).first():
        raise ApiError(409, "already_signed", "this credential has already signed")


def prepare_signature(db: Session, p: Petition, payload: dict[str, Any]
                      ) -> tuple[Credential, EncryptedSignature, dict[str, Any], ProofItem]:
    """Everything before the proof's exponentiations: open, cheap checks, token not on the board.

    The checks are the verifier's own (:func:`tally.petition.check_signature_entry`), run
    once.  Whatever :func:`check_signature_request` refuses, that check refuses too; so it
    runs only for a refused entry, to answer with its specific error (``token_mismatch``,
    ``non_canonical``, …) as before, then a used token (409), then the entry's own fault.

    Returns the credential, the parsed signature, the board entry (without ``index``) and
    the proof's item for the batch equation (:func:`crypto.batch.combined_check`, which
    also makes the proof's unit tests).
    """
    _accepting(p)
    credential, sig_obj, ed = _request_parts(payload)
    entry: dict[str, Any] = {
        "kind": "signature", "petition_id": scope_id(p.id), "credential": credential.to_json(),
        "signature": sig_obj, "ed25519_signature": ed.hex(), "signed_at": board_core.coarse_ms(),
    }
    # The verifier's own entry check (proof exponentiations left to the caller's batch).
    ctx = petition_context(p)
    checked = check_signature_entry(ctx, entry, verify_proofs=False)
    if not checked.ok:
        check_signature_request(p, payload)  # the request's own error first, as before
        _refuse_used_token(db, p, credential)
        fault = checked.faults[0]
        if checked.errors:
            raise _crypto_error(checked.errors[0])
        raise ApiError(400, "invalid_entry", fault.message)
    _refuse_used_token(db, p, credential)
    check_copy(db, p.id, region_digest(ctx.public_key.n, entry))
    assert checked.item is not None and checked.signature is not None  # noqa: S101 (no fault)
    return credential, checked.signature, entry, checked.item


_CIPHERTEXTS = cast(Table, PetitionCiphertext.__table__)


def _copied() -> ApiError:
    return ApiError(409, "ciphertext_reused", "this region ciphertext is already on the "
                    "petition's board (copied signatures are refused)")


def check_copy(db: Session, petition_id: int, digest: str) -> None:
    """The copy check (verifier P6 ``ciphertext-copies``): 409 if the ciphertext is registered."""
    check_copies(db, petition_id, [digest])


def check_copies(db: Session, petition_id: int, digests: Sequence[str]) -> None:
    """:func:`check_copy` for several digests with one query."""
    if digests and db.scalars(select(PetitionCiphertext.id).where(
            PetitionCiphertext.petition_id == petition_id,
            PetitionCiphertext.digest.in_(list(digests)))).first() is not None:
        raise _copied()


#: Parsed contexts of open petitions by fingerprint (it binds the parameters, the election
#: key, the issuer key and the board key: docs/protocol.md §11), so a signature does not
#: parse the petition's keys again.  Immutable values; a few hundred petitions at most.
_CONTEXTS: dict[str, PetitionContext] = {}
_CONTEXTS_MAX = 256
_CONTEXTS_LOCK = threading.Lock()


def petition_context(p: Petition) -> PetitionContext:
    """The :class:`tally.petition.PetitionContext` the verifier rebuilds from the record
    (cached per process for an opened petition, keyed by its fingerprint)."""
    key = p.fingerprint_hex
    if key is not None:
        with _CONTEXTS_LOCK:
            cached = _CONTEXTS.get(key)
        if cached is not None:
            return cached
    ctx = PetitionContext(params_of(p), election_key(p).public, issuer_public(p),
                          fingerprint_of(p))
    if key is not None:
        with _CONTEXTS_LOCK:
            if len(_CONTEXTS) >= _CONTEXTS_MAX:
                _CONTEXTS.clear()
            _CONTEXTS[key] = ctx
    return ctx


def _check_proof(pk: PublicKey, params: PetitionParameters, fingerprint: bytes,
                 sig: EncryptedSignature, token_id: bytes) -> None:
    """:func:`crypto.petition.check_signature`, its typed error mapped to the HTTP error."""
    try:
        check_signature(pk, params, fingerprint, sig, token_id)
    except CryptoError as exc:
        raise _crypto_error(exc) from exc


def sign(app: Flask, petition_id: object, payload: dict[str, Any], *,
         verify_proof: bool = True) -> dict[str, Any]:
    """Verify and append one anonymous signature; returns the receipt after commit.

    Anonymous: nothing about the request (address, account) is looked at or recorded
    (docs §"Linkability"); a credential signs at most once (UNIQUE token id).

    With ``PETITION_BATCH_ENABLED`` (default) the proof check and the append are group
    committed with other concurrent signatures of the petition (:mod:`app.petitions.batcher`).
    """
    db = new_session(app)
    try:
        p = get_petition(db, petition_id)
        credential, sig, entry, item = prepare_signature(db, p, payload)
        if verify_proof and batching_enabled(app):
            ctx = petition_context(p)
            pk, params, fp = ctx.public_key, ctx.params, ctx.fingerprint
            token = credential.token_id
            pending = batcher.PendingSignature(
                token_hex=token.hex(), entry=entry, pk=pk, item=item,
                check=lambda: _check_proof(pk, params, fp, sig, token))
            pid = p.id
            db.rollback()
            db.close()
            return batcher.submit_and_wait(app, pid, pending, append_signatures)
        if verify_proof:
            ctx = petition_context(p)
            _check_proof(ctx.public_key, ctx.params, ctx.fingerprint, sig,
                         credential.token_id)
        db.rollback()
        return append_signatures(db, p.id, [entry])[0]
    finally:
        db.close()


def batching_enabled(app: Flask) -> bool:
    return bool(app.config.get("PETITION_BATCH_ENABLED", True))


def append_signatures(db: Session, petition_id: int,
                      entries: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """ONE transaction: lock, re-check, insert the (already verified) entries, sign a head.

    No rate event is recorded: the signing path is anonymous, and an address-keyed event
    next to the entry would link it to the identified credential request.
    """
    for attempt in range(3):
        try:
            if not entries:
                raise ApiError(400, "invalid_body", "no signatures")
            start = lock_petition(db, petition_id, len(entries))  # one lock for the batch
            p: Petition | None = db.get(Petition, petition_id)
            assert p is not None
            db.refresh(p)
            _accepting(p)
            n = petition_context(p).public_key.n
            digests = [region_digest(n, entry) for entry in entries]
            if len(set(digests)) != len(digests):
                raise _copied()
            check_copies(db, petition_id, digests)  # ONE query for the batch
            log = load_log(db, petition_id)
            created_ms = board_core.coarse_ms()
            batch = []
            for index, entry in enumerate(entries, start):
                token_hex = Credential.from_json(entry["credential"]).token_id.hex()
                entry["index"] = index
                batch.append((entry, {"kind": "signature", "token_id": token_hex,
                                      "created_ms": created_ms}))
            rows = board_core.append_rows(db, MODELS, petition_id, log, start, batch)
            db.execute(insert(_CIPHERTEXTS),  # one INSERT (executemany)
                       [{"petition_id": petition_id, "digest": digest,
                         "leaf_index": row.leaf_index}
                        for digest, row in zip(digests, rows, strict=True)])
            sth = sign_head(db, p, final=False, log=log)
            receipts = [receipt(p, row, log, sth) for row in rows]
            db.commit()
            return receipts
        except IntegrityError as exc:
            db.rollback()
            if "ciphertext_registry" in str(exc.orig) or "digest" in str(exc.orig):
                raise ApiError(409, "ciphertext_reused", "this region ciphertext is already on "
                               "the petition's board (copied signatures are refused)") from exc
            raise ApiError(409, "already_signed", "this credential has already signed") from exc
        except OperationalError as exc:
            db.rollback()
            if attempt == 2:
                raise ApiError(503, "busy", "the board is busy; retry") from exc
        except BaseException:
            db.rollback()
            raise
    raise ApiError(503, "busy", "the board is busy; retry")  # pragma: no cover
