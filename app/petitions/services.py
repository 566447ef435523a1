"""Petition services: drafts, sponsors, moderation, signing, batched counts, region tallies.

Every state change goes through :mod:`app.petitions.lifecycle`.  Signing follows the
casting pattern (:mod:`app.services.casting`): cheap checks first, proofs verified
outside the write transaction, then ONE transaction that takes the petition's append
lock (``UPDATE petitions SET board_size = board_size + 1``), inserts the board entry
(``UNIQUE(petition_id, token_id)``) and a signed tree head; the receipt is built only
after the commit.  The signing transaction never touches ``petition_counts``: counts
are folded in batches by :func:`refresh_counts`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import threading
import time
from collections.abc import Sequence
from typing import Any

from flask import Flask, current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from app.db import new_session
from app.errors import ApiError
from app.models import User, utcnow
from app.petitions import lifecycle
from app.petitions.lifecycle import Flags, IllegalTransition
from app.petitions.models import (
    Petition,
    PetitionBoardEntry,
    PetitionCitizen,
    PetitionCount,
    PetitionFlag,
    PetitionRateEvent,
    PetitionSigner,
    PetitionSponsor,
    PetitionTally,
    PetitionTreeHead,
)
from app.security import aware, new_token, token_hash
from crypto.blind_rsa import IssuerPrivateKey, IssuerPublicKey
from crypto.credentials import (
    Credential,
    issue_blind_signature,
    verify_credential,
    verify_payload_signature,
)
from crypto.election import Option
from crypto.encoding import canonical_json, hex_to_bytes, hex_to_int, int_to_hex
from crypto.errors import (
    CryptoError,
    InvalidBallot,
    InvalidCiphertext,
    InvalidEncoding,
    InvalidProof,
    InvalidSignature,
)
from crypto.merkle import MerkleLog, leaf_hash, make_consistency_proof, make_inclusion_proof
from crypto.petition import (
    EncryptedSignature,
    PetitionParameters,
    check_signature,
    petition_fingerprint,
)
from crypto.threshold import PartialDecryption, ThresholdPublicKey, verify_partial_decryption
from crypto.transcript import tagged_hash
from crypto.tree_head import BoardSigningKey, SignedTreeHead, petition_log_id, sign_tree_head
from tally import petition as ptally

#: The default region scope: Kazakhstan's 17 regions and 3 cities of republican significance.
DEFAULT_REGIONS: tuple[tuple[str, str], ...] = (
    ("abai", "Abai"), ("akmola", "Akmola"), ("aktobe", "Aktobe"),
    ("almaty-region", "Almaty Region"), ("atyrau", "Atyrau"),
    ("east-kazakhstan", "East Kazakhstan"), ("jambyl", "Jambyl"), ("jetisu", "Jetisu"),
    ("karaganda", "Karaganda"), ("kostanay", "Kostanay"), ("kyzylorda", "Kyzylorda"),
    ("mangystau", "Mangystau"), ("north-kazakhstan", "North Kazakhstan"),
    ("pavlodar", "Pavlodar"), ("turkistan", "Turkistan"), ("ulytau", "Ulytau"),
    ("west-kazakhstan", "West Kazakhstan"), ("almaty", "Almaty"), ("astana", "Astana"),
    ("shymkent", "Shymkent"),
)
SIGNER_RECEIPT_DOMAIN = "saylau/v1/petition-issuance-receipt"
ADDRESS_TAG_DOMAIN = "saylau/v1/petition-address-tag"
ISSUER_KEY_BITS = 2048
MIN_ELECTION_KEY_BITS = 2048
MAX_PAGE = 500
INVALIDATION_REASONS = ptally.INVALIDATION_REASONS

DEFAULTS: dict[str, Any] = {
    "PETITION_SPONSORS_REQUIRED": 5,
    "PETITION_OPEN_DAYS": 182,          # about 6 months
    "PETITION_RESPONSE_THRESHOLD": 10_000,
    "PETITION_DEBATE_THRESHOLD": 100_000,
    "PETITION_COUNT_MAX_AGE_S": 5.0,    # refresh on read when the count is older
    "PETITION_COUNT_INTERVAL_S": 3.0,   # background folding interval
    "PETITION_COUNT_WORKER": False,     # start the background thread in create_app callers
    "PETITION_CONFIRM_TTL_S": 72 * 3600,
    "PETITION_FLAG_WINDOW_S": 60,
    "PETITION_FLAG_CREDENTIALS_PER_ADDRESS": 20,
    "PETITION_FLAG_SIGNATURES_PER_ADDRESS": 20,
    "PETITION_ELECTION_KEY": None,      # ThresholdPublicKey JSON (the trustees' key)
    "PETITION_CREDENTIAL_LIMIT": "30/minute",
    "PETITION_SIGN_LIMIT": "60/minute",
}


def cfg(name: str) -> Any:
    return current_app.config.get(name, DEFAULTS[name])


def _iso(value: dt.datetime | None) -> str | None:
    v = aware(value)
    return v.isoformat().replace("+00:00", "Z") if v else None


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def _map_illegal(exc: IllegalTransition) -> ApiError:
    return ApiError(409, "illegal_transition", str(exc))


def flags_of(p: Petition) -> Flags:
    return Flags(response_threshold_reached=p.response_threshold_reached_at is not None,
                 debate_threshold_reached=p.debate_threshold_reached_at is not None,
                 responded=p.responded_at is not None, debated=p.debated_at is not None)


def _apply(p: Petition, event: str) -> None:
    try:
        p.state = lifecycle.transition(p.state, event)
    except IllegalTransition as exc:
        raise _map_illegal(exc) from exc


def _flag(p: Petition, flag: str) -> None:
    try:
        lifecycle.check_flag(p.state, flags_of(p), flag)
    except IllegalTransition as exc:
        raise _map_illegal(exc) from exc


# -- keys and parameters -----------------------------------------------------------------
def scope_id(petition_id: int) -> str:
    """The credential scope and ``PetitionParameters.petition_id``: ``"petition:<id>"``."""
    return f"petition:{petition_id}"


def log_id(petition_id: int) -> str:
    return petition_log_id(petition_id)


def regions_of(p: Petition) -> tuple[Option, ...]:
    return tuple(Option(r["id"], r["label"]) for r in json.loads(p.regions_json))


def params_of(p: Petition) -> PetitionParameters:
    return PetitionParameters(scope_id(p.id), p.title, regions_of(p))


def issuer_public(p: Petition) -> IssuerPublicKey:
    return IssuerPublicKey.from_json(json.loads(p.issuer_public_json))


def issuer_private(p: Petition) -> IssuerPrivateKey:
    return IssuerPrivateKey.from_pem(p.issuer_private_pem.encode("ascii"))


def board_key(p: Petition) -> BoardSigningKey:
    return BoardSigningKey.from_seed_hex(p.board_seed_hex)


def election_key(p: Petition) -> ThresholdPublicKey:
    if p.election_key_json is None:
        raise ApiError(409, "no_key", "the petition has no election key yet")
    return ThresholdPublicKey.from_json(json.loads(p.election_key_json))


def fingerprint_of(p: Petition) -> bytes:
    if p.fingerprint_hex is None:
        raise ApiError(409, "not_open", "the petition has not been opened")
    return bytes.fromhex(p.fingerprint_hex)


def compute_fingerprint(p: Petition) -> bytes:
    """``petition_fingerprint(params, election key, issuer key, board key)``."""
    assert p.election_key_json is not None
    return petition_fingerprint(params_of(p), json.loads(p.election_key_json),
                                json.loads(p.issuer_public_json), bytes.fromhex(p.board_public_hex))


def parse_election_key(key_json: object, *, allow_test_key: bool) -> ThresholdPublicKey:
    if isinstance(key_json, dict) and "shares" in key_json:
        if not isinstance(key_json.get("public_key"), dict):
            raise ApiError(400, "invalid_key", "this file holds key shares: give only the public key")
    if isinstance(key_json, dict) and isinstance(key_json.get("public_key"), dict):
        key_json = key_json["public_key"]
    try:
        key = ThresholdPublicKey.from_json(key_json)
    except (CryptoError, KeyError, TypeError, ValueError) as exc:
        raise ApiError(400, "invalid_key", f"not a threshold public key: {exc}") from exc
    if key.n.bit_length() < MIN_ELECTION_KEY_BITS and not allow_test_key:
        raise ApiError(400, "weak_key", f"election key must be at least {MIN_ELECTION_KEY_BITS} bits")
    return key


# -- citizens: e-mail confirmation (POST only) ---------------------------------------------
def is_confirmed(db: Session, user: User) -> bool:
    row = db.get(PetitionCitizen, user.id)
    return row is not None and row.confirmed_at is not None


def require_citizen(db: Session, user: User) -> None:
    if not (user.has_role("voter") or user.has_role("citizen")):
        raise ApiError(403, "forbidden", "a citizen account is required")
    if not is_confirmed(db, user):
        raise ApiError(403, "unconfirmed", "confirm your e-mail address first "
                       "(POST /api/v1/petitions/confirm-email)")


def request_confirmation(db: Session, user: User, link_base: str) -> str:
    """Create a one-time confirmation token and mail its link; returns the token (tests)."""
    from app.mail import send_mail

    token, digest = new_token()
    row = db.get(PetitionCitizen, user.id)
    if row is None:
        row = PetitionCitizen(user_id=user.id)
        db.add(row)
    row.token_hash = digest
    row.token_expires_at = utcnow() + dt.timedelta(seconds=int(cfg("PETITION_CONFIRM_TTL_S")))
    db.flush()
    send_mail(db, user.email, "Confirm your e-mail for petitions",
              "Open this link and press the button to confirm your address for signing and "
              f"sponsoring petitions:\n\n{link_base.rstrip('/')}/petitions/confirm/{token}\n\n"
              "If you did not ask for this, ignore this message.\n")
    return token


def confirm_token(db: Session, token: str) -> User:
    if not isinstance(token, str) or not 10 <= len(token) <= 100:
        raise ApiError(400, "invalid_token", "invalid or expired confirmation token")
    row = db.scalars(select(PetitionCitizen).where(
        PetitionCitizen.token_hash == token_hash(token))).first()
    expires = aware(row.token_expires_at) if row is not None else None
    if row is None or expires is None or expires < utcnow():
        raise ApiError(400, "invalid_token", "invalid or expired confirmation token")
    row.confirmed_at = row.confirmed_at or utcnow()
    row.token_hash = None
    row.token_expires_at = None
    db.flush()
    user = db.get(User, row.user_id)
    assert user is not None
    return user


# -- drafts --------------------------------------------------------------------------------
def _text(data: dict[str, Any], key: str, max_len: int, *, required: bool) -> str | None:
    value = data.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > max_len:
        raise ApiError(400, "invalid_body", f"field {key!r} must be a non-empty string of at most "
                       f"{max_len} characters")
    return value.strip()


def _regions(value: object) -> list[dict[str, str]]:
    known = dict(DEFAULT_REGIONS)
    if value is None:
        return [{"id": i, "label": label} for i, label in DEFAULT_REGIONS]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ApiError(400, "invalid_regions", "regions must be a non-empty list of region ids")
    if len(set(value)) != len(value):
        raise ApiError(400, "invalid_regions", "regions repeat")
    unknown = [v for v in value if v not in known]
    if unknown:
        raise ApiError(400, "invalid_regions", f"unknown region(s): {', '.join(unknown[:5])}")
    return [{"id": i, "label": known[i]} for i, _ in DEFAULT_REGIONS if i in value]


def get_petition(db: Session, petition_id: object) -> Petition:
    try:
        pid = int(str(petition_id))
    except ValueError:
        raise ApiError(404, "not_found", "unknown petition") from None
    p = db.get(Petition, pid) if 0 < pid < 2**31 else None
    if p is None:
        raise ApiError(404, "not_found", "unknown petition")
    return p


def visible(p: Petition, user: User | None) -> bool:
    if p.state in lifecycle.PUBLIC_STATES or p.state == "collecting_sponsors":
        return True  # (petitions gathering sponsors are reachable by id, never listed)
    return user is not None and (user.id == p.creator_id or user.has_role("moderator"))


def create_draft(db: Session, user: User, data: dict[str, Any]) -> tuple[Petition, str]:
    """A new draft with fresh issuer and board keys; returns it and the sponsor share token."""
    require_citizen(db, user)
    title = _text(data, "title", 300, required=True)
    action = _text(data, "action", 2000, required=True)
    background = _text(data, "background", 5000, required=False) or ""
    details = _text(data, "details", 10_000, required=False) or ""
    regions = _regions(data.get("regions"))
    test_key = current_app.config.get("TEST_ISSUER_KEY")
    sk = test_key if isinstance(test_key, IssuerPrivateKey) else IssuerPrivateKey.generate(ISSUER_KEY_BITS)
    board = BoardSigningKey.generate()
    token, digest = new_token()
    p = Petition(
        title=title, action=action, background=background, details=details,
        regions_json=json.dumps(regions), state="draft", creator_id=user.id,
        share_token_hash=digest, sponsors_required=int(cfg("PETITION_SPONSORS_REQUIRED")),
        response_threshold=int(cfg("PETITION_RESPONSE_THRESHOLD")),
        debate_threshold=int(cfg("PETITION_DEBATE_THRESHOLD")),
        issuer_private_pem=sk.to_pem().decode("ascii"),
        issuer_public_json=json.dumps(sk.public_key().to_json()),
        board_seed_hex=board.to_seed_hex(), board_public_hex=board.public_key_bytes().hex(),
        board_size=0, insecure_test_keys=False,
    )
    db.add(p)
    db.flush()
    params_of(p)  # validates the region list against crypto.petition's rules
    return p, token


def update_draft(db: Session, p: Petition, user: User, data: dict[str, Any]) -> None:
    if user.id != p.creator_id:
        raise ApiError(403, "forbidden", "only the creator may edit a draft")
    if not lifecycle.editable(p.state):
        raise ApiError(409, "illegal_transition", f"a petition that is {p.state} cannot be edited")
    for key, max_len in (("title", 300), ("action", 2000), ("background", 5000), ("details", 10_000)):
        value = _text(data, key, max_len, required=False)
        if value is not None:
            if key in ("title", "action") and not value:
                raise ApiError(400, "invalid_body", f"field {key!r} must not be empty")
            setattr(p, key, value)
    if "regions" in data:
        p.regions_json = json.dumps(_regions(data["regions"]))
    db.flush()


def submit(db: Session, p: Petition, user: User) -> None:
    """draft → collecting_sponsors (→ pending_moderation at once when no sponsors are needed)."""
    if user.id != p.creator_id:
        raise ApiError(403, "forbidden", "only the creator may submit a draft")
    _apply(p, "submit")
    p.submitted_at = utcnow()
    _maybe_sponsored(db, p)
    db.flush()


def sponsor_count(db: Session, petition_id: int) -> int:
    return int(db.scalar(select(func.count()).select_from(PetitionSponsor)
                         .where(PetitionSponsor.petition_id == petition_id)) or 0)


def _maybe_sponsored(db: Session, p: Petition) -> None:
    if p.state == "collecting_sponsors" and sponsor_count(db, p.id) >= p.sponsors_required:
        _apply(p, "sponsors_complete")


def check_share_token(p: Petition, token: object) -> None:
    if not isinstance(token, str) or len(token) > 100 or not hmac.compare_digest(
            token_hash(token), p.share_token_hash):
        raise ApiError(403, "invalid_share_token", "this sponsor link is not valid")


def add_sponsor(db: Session, p: Petition, user: User, token: object) -> None:
    check_share_token(p, token)
    require_citizen(db, user)
    if not lifecycle.accepts_sponsors(p.state):
        raise ApiError(409, "illegal_transition", f"a petition that is {p.state} takes no sponsors")
    if user.id == p.creator_id:
        raise ApiError(409, "own_petition", "you cannot sponsor your own petition")
    if db.scalars(select(PetitionSponsor.id).where(PetitionSponsor.petition_id == p.id,
                                                   PetitionSponsor.user_id == user.id)).first():
        raise ApiError(409, "already_sponsored", "you already sponsor this petition")
    db.add(PetitionSponsor(petition_id=p.id, user_id=user.id))
    try:
        db.flush()
    except IntegrityError as exc:
        db.rollback()
        raise ApiError(409, "already_sponsored", "you already sponsor this petition") from exc
    _maybe_sponsored(db, p)
    db.flush()


# -- moderation ----------------------------------------------------------------------------
def set_election_key(db: Session, p: Petition, key_json: object) -> None:
    if p.state in ("open", "closed", "rejected"):
        raise ApiError(409, "frozen", "the petition's keys are frozen")
    key = parse_election_key(key_json, allow_test_key=bool(current_app.config.get("ALLOW_TEST_KEYS")))
    try:
        params_of(p).check_key(key.public)
    except InvalidEncoding as exc:
        raise ApiError(400, "invalid_key", str(exc)) from exc
    p.election_key_json = json.dumps(key.to_json())
    p.insecure_test_keys = key.n.bit_length() < MIN_ELECTION_KEY_BITS
    db.flush()


def moderate(db: Session, p: Petition, moderator: User, decision: object,
             reason_code: object = None, note: object = None, now: dt.datetime | None = None) -> None:
    """pending_moderation → open (keys frozen, fingerprint, empty tree head) or → rejected."""
    if decision not in ("approve", "reject"):
        raise ApiError(400, "invalid_body", "decision must be 'approve' or 'reject'")
    if note is not None and (not isinstance(note, str) or len(note) > 5000):
        raise ApiError(400, "invalid_body", "note must be a string")
    if decision == "reject":
        if reason_code not in lifecycle.REJECTION_CODES:
            raise ApiError(400, "invalid_reason", "reason_code must be one of "
                           + ", ".join(lifecycle.REJECTION_CODES))
        _apply(p, "reject")
        p.rejection_code = str(reason_code)
        p.rejection_note = note or ""
        p.moderated_by = moderator.id
        db.flush()
        return
    if not lifecycle.can(p.state, "approve"):
        raise _map_illegal(IllegalTransition(p.state, "approve"))
    if p.election_key_json is None:
        configured = cfg("PETITION_ELECTION_KEY")
        if configured is None:
            raise ApiError(409, "no_key", "no election key: configure PETITION_ELECTION_KEY or "
                           "POST /api/v1/petitions/<id>/election-key")
        set_election_key(db, p, configured)
    _apply(p, "approve")
    now = now or utcnow()
    p.moderated_by = moderator.id
    p.opened_at = now
    p.closes_at = now + dt.timedelta(days=float(cfg("PETITION_OPEN_DAYS")))
    p.fingerprint_hex = compute_fingerprint(p).hex()
    db.add(PetitionCount(petition_id=p.id, folded_size=0, count=0, invalidated=0,
                         product_hex="1", refreshed_ms=0))
    db.flush()
    sign_head(db, p, final=False)


def set_thresholds(db: Session, p: Petition, response: object, debate: object) -> None:
    for name, value in (("response", response), ("debate", debate)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                  or not 1 <= value <= 100_000_000):
            raise ApiError(400, "invalid_body", f"{name} threshold must be a positive integer")
    if p.state in ("closed", "rejected"):
        raise ApiError(409, "illegal_transition", f"the petition is {p.state}")
    if isinstance(response, int):
        p.response_threshold = response
    if isinstance(debate, int):
        p.debate_threshold = debate
    db.flush()
    _check_thresholds(db, p)


def respond(db: Session, p: Petition, text: object) -> None:
    if not isinstance(text, str) or not text.strip() or len(text) > 50_000:
        raise ApiError(400, "invalid_body", "field 'text' must be a non-empty string")
    _flag(p, "responded")
    p.response_text = text.strip()
    p.responded_at = utcnow()
    db.flush()


def record_debate(db: Session, p: Petition, text: object) -> None:
    if not isinstance(text, str) or not text.strip() or len(text) > 50_000:
        raise ApiError(400, "invalid_body", "field 'text' must be a non-empty string")
    _flag(p, "debated")
    p.debate_text = text.strip()
    p.debated_at = utcnow()
    db.flush()


def close(db: Session, p: Petition) -> PetitionTally:
    """open → closed: final tree head, last count fold, and a region tally request."""
    if not lifecycle.can(p.state, "close"):
        raise _map_illegal(IllegalTransition(p.state, "close"))
    _fold(db, p)  # while still open, so that thresholds crossed by the last batch are marked
    db.execute(update(Petition).where(Petition.id == p.id)
               .values(board_size=Petition.board_size))  # the append lock, no new entry
    db.refresh(p)
    _apply(p, "close")
    p.closed_at = utcnow()
    sign_head(db, p, final=True)
    db.flush()
    _fold(db, p)
    return request_tally(db, p, reason="close")


def close_expired(db: Session, now: dt.datetime | None = None) -> list[int]:
    now = now or utcnow()
    ids = []
    for p in db.scalars(select(Petition).where(Petition.state == "open")).all():
        closes = aware(p.closes_at)
        if closes is not None and closes <= now:
            close(db, p)
            ids.append(p.id)
    return ids


# -- the board -----------------------------------------------------------------------------
def lock_petition(db: Session, petition_id: int) -> int:
    """Take the per-petition append lock; returns the board size before this append."""
    db.execute(update(Petition).where(Petition.id == petition_id)
               .values(board_size=Petition.board_size + 1))
    size = db.scalar(select(Petition.board_size).where(Petition.id == petition_id))
    if size is None:
        raise ApiError(404, "not_found", "unknown petition")
    return int(size) - 1


def load_log(db: Session, petition_id: int) -> MerkleLog:
    hashes = db.scalars(select(PetitionBoardEntry.leaf_hash)
                        .where(PetitionBoardEntry.petition_id == petition_id)
                        .order_by(PetitionBoardEntry.leaf_index)).all()
    return MerkleLog(bytes.fromhex(h) for h in hashes)


def sign_head(db: Session, p: Petition, *, final: bool, log: MerkleLog | None = None) -> SignedTreeHead:
    log = log if log is not None else load_log(db, p.id)
    sth = sign_tree_head(board_key(p), log_id(p.id), log.size, log.root(), now_ms())
    db.add(PetitionTreeHead(petition_id=p.id, tree_size=sth.tree_size, root_hash=sth.root_hash.hex(),
                            timestamp_ms=sth.timestamp, signature=sth.signature.hex(), final=final))
    db.flush()
    return sth


def head_json(row: PetitionTreeHead) -> dict[str, Any]:
    return SignedTreeHead(log_id(row.petition_id), row.tree_size, bytes.fromhex(row.root_hash),
                          row.timestamp_ms, bytes.fromhex(row.signature)).to_json()


def latest_head(db: Session, petition_id: int) -> PetitionTreeHead | None:
    return db.scalars(select(PetitionTreeHead).where(PetitionTreeHead.petition_id == petition_id)
                      .order_by(PetitionTreeHead.tree_size.desc(), PetitionTreeHead.id.desc())
                      .limit(1)).first()


def _append(db: Session, p: Petition, index: int, entry: dict[str, Any], *, kind: str,
            token_hex: str | None) -> tuple[PetitionBoardEntry, MerkleLog]:
    log = load_log(db, p.id)
    if log.size != index:
        raise RuntimeError("petition board size out of step with its entries")  # never expected
    leaf = leaf_hash(canonical_json(entry))
    row = PetitionBoardEntry(petition_id=p.id, leaf_index=index, kind=kind, token_id=token_hex,
                             entry_json=json.dumps(entry, sort_keys=True), leaf_hash=leaf.hex(),
                             created_ms=now_ms())
    db.add(row)
    db.flush()
    log.append(leaf)
    return row, log


def entry_public(row: PetitionBoardEntry) -> dict[str, Any]:
    return {"index": row.leaf_index, "kind": row.kind, "leaf_hash": row.leaf_hash,
            "invalidated_by": row.invalidated_by, "entry": json.loads(row.entry_json)}


def board_entries(db: Session, petition_id: int, start: int, limit: int) -> list[PetitionBoardEntry]:
    limit = max(1, min(limit, MAX_PAGE))
    return list(db.scalars(select(PetitionBoardEntry).where(
        PetitionBoardEntry.petition_id == petition_id, PetitionBoardEntry.leaf_index >= start)
        .order_by(PetitionBoardEntry.leaf_index).limit(limit)).all())


def inclusion(db: Session, petition_id: int, index: int, tree_size: int | None) -> dict[str, Any]:
    log = load_log(db, petition_id)
    size = log.size if tree_size is None else tree_size
    if not 0 <= index < size <= log.size:
        raise ApiError(400, "out_of_range", "need 0 <= index < tree_size <= board size")
    return make_inclusion_proof(log, index, size).to_json()


def consistency(db: Session, petition_id: int, old: int, new: int | None) -> dict[str, Any]:
    log = load_log(db, petition_id)
    new_size = log.size if new is None else new
    if not 0 <= old <= new_size <= log.size:
        raise ApiError(400, "out_of_range", "need 0 <= old <= new <= board size")
    return make_consistency_proof(log, old, new_size).to_json()


# -- fraud heuristics (silent) ---------------------------------------------------------------
def address_tag(addr: str | None) -> str:
    """``HMAC-SHA256(secret key, "saylau/v1/petition-address-tag" || addr)``: never the address."""
    key = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    msg = (ADDRESS_TAG_DOMAIN + "\x00" + (addr or "unknown")).encode("utf-8")
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


def _note_event(db: Session, petition_id: int, kind: str, addr: str | None) -> int:
    """Record the event; return how many events of ``kind`` this address made in the window."""
    tag = address_tag(addr)
    at = now_ms()
    db.add(PetitionRateEvent(petition_id=petition_id, kind=kind, addr_tag=tag, at_ms=at))
    db.flush()
    window_ms = int(float(cfg("PETITION_FLAG_WINDOW_S")) * 1000)
    return int(db.scalar(select(func.count()).select_from(PetitionRateEvent).where(
        PetitionRateEvent.addr_tag == tag, PetitionRateEvent.kind == kind,
        PetitionRateEvent.at_ms > at - window_ms)) or 0)


def prune_events(db: Session) -> None:
    window_ms = int(float(cfg("PETITION_FLAG_WINDOW_S")) * 1000)
    from sqlalchemy import delete
    db.execute(delete(PetitionRateEvent).where(PetitionRateEvent.at_ms < now_ms() - 10 * window_ms))


# -- signing: the credential ---------------------------------------------------------------
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
            db.add(PetitionSigner(petition_id=p.id, user_id=user.id, receipt_hex=receipt))
            db.flush()
            burst = _note_event(db, p.id, "credential", addr)
            if burst > int(cfg("PETITION_FLAG_CREDENTIALS_PER_ADDRESS")):
                db.add(PetitionFlag(petition_id=p.id, kind="credential_burst", user_id=user.id,
                                    detail=f"{burst} credential requests from one address within "
                                    f"{cfg('PETITION_FLAG_WINDOW_S')} s"))
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


# -- signing: the anonymous signature ---------------------------------------------------------
def _crypto_error(exc: CryptoError) -> ApiError:
    if isinstance(exc, InvalidProof):
        return ApiError(400, "invalid_proof", str(exc))
    if isinstance(exc, InvalidCiphertext):
        return ApiError(400, "invalid_ciphertext", str(exc))
    if isinstance(exc, InvalidBallot):
        return ApiError(400, "invalid_signature_payload", str(exc))
    if isinstance(exc, InvalidSignature):
        return ApiError(403, "invalid_signature", str(exc))
    return ApiError(400, "invalid_encoding", str(exc))


def _object(payload: dict[str, Any], key: str) -> dict[str, Any]:
    value = payload.get(key)
    if not isinstance(value, dict):
        raise ApiError(400, "invalid_body", f"field {key!r} must be a JSON object")
    return value


def check_signature_request(p: Petition, payload: dict[str, Any]) -> tuple[Credential, EncryptedSignature, dict[str, Any], bytes]:
    """Steps 1–5 of signing (no proof exponentiations): shape, credential, Ed25519, token."""
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


def sign(app: Flask, petition_id: object, payload: dict[str, Any], addr: str | None = None,
         *, verify_proof: bool = True) -> dict[str, Any]:
    """Verify and append one anonymous signature; returns the receipt after commit."""
    db = new_session(app)
    try:
        p = get_petition(db, petition_id)
        _accepting(p)
        credential, sig, sig_obj, ed = check_signature_request(p, payload)
        token_hex = credential.token_id.hex()
        if db.scalars(select(PetitionBoardEntry.id).where(
                PetitionBoardEntry.petition_id == p.id,
                PetitionBoardEntry.token_id == token_hex)).first():
            raise ApiError(409, "already_signed", "this credential has already signed")
        if verify_proof:
            try:
                check_signature(election_key(p).public, params_of(p), fingerprint_of(p), sig,
                                credential.token_id)
            except CryptoError as exc:
                raise _crypto_error(exc) from exc
        entry: dict[str, Any] = {
            "kind": "signature", "petition_id": scope_id(p.id), "credential": credential.to_json(),
            "signature": sig_obj, "ed25519_signature": ed.hex(), "signed_at": now_ms(),
        }
        db.rollback()
        return append_signatures(db, p.id, [entry], addr)[0]
    finally:
        db.close()


def append_signatures(db: Session, petition_id: int, entries: Sequence[dict[str, Any]],
                      addr: str | None = None) -> list[dict[str, Any]]:
    """ONE transaction: lock, re-check, insert the (already verified) entries, sign a head."""
    for attempt in range(3):
        try:
            rows = []
            index = -1
            p: Petition | None = None
            log = MerkleLog()
            for entry in entries:
                index = lock_petition(db, petition_id)
                p = db.get(Petition, petition_id)
                assert p is not None
                db.refresh(p)
                _accepting(p)
                token_hex = Credential.from_json(entry["credential"]).token_id.hex()
                entry["index"] = index
                row, log = _append(db, p, index, entry, kind="signature", token_hex=token_hex)
                rows.append(row)
            if p is None:
                raise ApiError(400, "invalid_body", "no signatures")
            sth = sign_head(db, p, final=False, log=log)
            burst = _note_event(db, petition_id, "signature", addr)
            if burst > int(cfg("PETITION_FLAG_SIGNATURES_PER_ADDRESS")):
                db.add(PetitionFlag(petition_id=petition_id, kind="signature_burst",
                                    board_index=index, detail=f"{burst} signatures from one "
                                    f"address within {cfg('PETITION_FLAG_WINDOW_S')} s"))
            receipts = [receipt(p, row, log, sth) for row in rows]
            db.commit()
            return receipts
        except IntegrityError as exc:
            db.rollback()
            raise ApiError(409, "already_signed", "this credential has already signed") from exc
        except OperationalError as exc:
            db.rollback()
            if attempt == 2:
                raise ApiError(503, "busy", "the board is busy; retry") from exc
        except BaseException:
            db.rollback()
            raise
    raise ApiError(503, "busy", "the board is busy; retry")  # pragma: no cover


def receipt(p: Petition, row: PetitionBoardEntry, log: MerkleLog, sth: SignedTreeHead) -> dict[str, Any]:
    return {"petition_id": p.id, "scope_id": scope_id(p.id), "index": row.leaf_index,
            "leaf_hash": row.leaf_hash,
            "inclusion_proof": make_inclusion_proof(log, row.leaf_index, sth.tree_size).to_json(),
            "tree_head": sth.to_json()}


# -- flags and invalidation -------------------------------------------------------------------
def flags(db: Session, status: str | None = "open") -> list[PetitionFlag]:
    q = select(PetitionFlag).order_by(PetitionFlag.id)
    if status:
        q = q.where(PetitionFlag.status == status)
    return list(db.scalars(q.limit(MAX_PAGE)).all())


def flag_json(f: PetitionFlag) -> dict[str, Any]:
    return {"id": f.id, "petition_id": f.petition_id, "kind": f.kind, "detail": f.detail,
            "board_index": f.board_index, "user_id": f.user_id, "status": f.status,
            "created_at": _iso(f.created_at)}


def flag_signature(db: Session, p: Petition, board_index: int, kind: str, detail: str) -> PetitionFlag:
    f = PetitionFlag(petition_id=p.id, kind=kind, board_index=board_index, detail=detail)
    db.add(f)
    db.flush()
    return f


def invalidate(db: Session, p: Petition, target_index: object, reason_code: object) -> dict[str, Any]:
    """Append ``{"kind": "invalidation", "target_index": i, "reason_code": …}`` to the board."""
    if reason_code not in INVALIDATION_REASONS:
        raise ApiError(400, "invalid_reason", "reason_code must be one of " + ", ".join(INVALIDATION_REASONS))
    if not isinstance(target_index, int) or isinstance(target_index, bool):
        raise ApiError(400, "invalid_body", "target_index must be an integer")
    if p.state not in ("open", "closed"):
        raise ApiError(409, "illegal_transition", "only signatures of open or closed petitions")
    db.rollback()
    try:
        index = lock_petition(db, p.id)
        db.refresh(p)
        target = db.scalars(select(PetitionBoardEntry).where(
            PetitionBoardEntry.petition_id == p.id, PetitionBoardEntry.leaf_index == target_index)
            .with_for_update()).first()
        if target is None or target.kind != "signature":
            raise ApiError(400, "invalid_target", "target_index is not a signature entry")
        if target.invalidated_by is not None:
            raise ApiError(409, "already_invalidated", "this signature was already invalidated")
        entry = {"kind": "invalidation", "petition_id": scope_id(p.id), "index": index,
                 "target_index": target_index, "reason_code": reason_code, "at": now_ms()}
        row, log = _append(db, p, index, entry, kind="invalidation", token_hex=None)
        target.invalidated_by = index
        sth = sign_head(db, p, final=p.state == "closed", log=log)
        for f in db.scalars(select(PetitionFlag).where(PetitionFlag.petition_id == p.id,
                                                       PetitionFlag.board_index == target_index)):
            f.status = "invalidated"
        out = receipt(p, row, log, sth)
        db.commit()
        return out
    except BaseException:
        db.rollback()
        raise


# -- counts (batched) -------------------------------------------------------------------------
def _fold(db: Session, p: Petition) -> bool:
    """Fold board entries ``[folded_size, board_size)`` into the count row (caller commits)."""
    row = db.get(PetitionCount, p.id)
    if row is None or p.election_key_json is None:
        return False
    old = row.folded_size
    new_rows = db.scalars(select(PetitionBoardEntry).where(
        PetitionBoardEntry.petition_id == p.id, PetitionBoardEntry.leaf_index >= old)
        .order_by(PetitionBoardEntry.leaf_index)).all()
    if not new_rows:
        row.refreshed_ms = now_ms()
        return False
    pk = election_key(p).public
    product, count, invalidated = hex_to_int(row.product_hex, "product"), row.count, row.invalidated
    expected = old
    for e in new_rows:
        if e.leaf_index != expected:
            break  # a gap: an append still in flight; fold the rest next time
        entry = json.loads(e.entry_json)
        if e.kind == "signature":
            product = product * hex_to_int(entry["signature"]["region"]["ciphertext"], "c") % pk.nsquare
            count += 1
        else:
            target = db.scalars(select(PetitionBoardEntry.entry_json).where(
                PetitionBoardEntry.petition_id == p.id,
                PetitionBoardEntry.leaf_index == entry["target_index"])).one()
            c = hex_to_int(json.loads(target)["signature"]["region"]["ciphertext"], "c")
            product = ptally.remove(pk, product, c)
            count -= 1
            invalidated += 1
        expected += 1
    result = db.execute(update(PetitionCount).where(PetitionCount.petition_id == p.id,
                                                    PetitionCount.folded_size == old)
                        .values(folded_size=expected, count=count, invalidated=invalidated,
                                product_hex=int_to_hex(product), refreshed_ms=now_ms()))
    if getattr(result, "rowcount", 1) != 1:
        return False  # another folder won the race; its result is the same
    db.refresh(row)
    _check_thresholds(db, p)
    return True


def _check_thresholds(db: Session, p: Petition) -> None:
    row = db.get(PetitionCount, p.id)
    if row is None or p.state != "open":
        return
    if row.count >= p.response_threshold and p.response_threshold_reached_at is None:
        _flag(p, "response_threshold_reached")
        p.response_threshold_reached_at = utcnow()
    if row.count >= p.debate_threshold and p.debate_threshold_reached_at is None:
        _flag(p, "debate_threshold_reached")
        p.debate_threshold_reached_at = utcnow()
    db.flush()


def refresh_counts(session: Session, petition_id: int | None = None) -> int:
    """Fold new board entries into ``petition_counts`` (the batch job); returns petitions updated.

    One transaction per petition; never called from the signing transaction.
    """
    q = select(Petition.id).join(PetitionCount, PetitionCount.petition_id == Petition.id).where(
        Petition.board_size > PetitionCount.folded_size)
    if petition_id is not None:
        q = q.where(Petition.id == petition_id)
    updated = 0
    for pid in list(session.scalars(q).all()):
        try:
            p = session.get(Petition, pid)
            if p is not None and _fold(session, p):
                updated += 1
            session.commit()
        except OperationalError:
            session.rollback()
    return updated


def maybe_refresh(db: Session, p: Petition) -> None:
    """Refresh-on-read when the count row is older than PETITION_COUNT_MAX_AGE_S."""
    row = db.get(PetitionCount, p.id)
    if row is None:
        return
    max_age_ms = float(cfg("PETITION_COUNT_MAX_AGE_S")) * 1000
    if p.board_size > row.folded_size and now_ms() - row.refreshed_ms >= max_age_ms:
        refresh_counts(db, p.id)
        db.refresh(p)


def start_count_worker(app: Flask, interval_s: float | None = None) -> threading.Event:
    """Background thread: ``refresh_counts`` and ``close_expired`` every few seconds.

    Returns an Event; set it to stop the thread.
    """
    stop = threading.Event()
    interval = float(interval_s if interval_s is not None
                     else app.config.get("PETITION_COUNT_INTERVAL_S", DEFAULTS["PETITION_COUNT_INTERVAL_S"]))

    def run() -> None:
        while not stop.wait(interval):
            with app.app_context():
                db = new_session(app)
                try:
                    refresh_counts(db)
                    close_expired(db)
                    prune_events(db)
                    db.commit()
                except Exception:  # noqa: BLE001 - keep the worker alive; log and retry
                    db.rollback()
                    app.logger.exception("petition count worker")
                finally:
                    db.close()

    threading.Thread(target=run, name="petition-counts", daemon=True).start()
    return stop


# -- region tallies ----------------------------------------------------------------------------
def request_tally(db: Session, p: Petition, reason: str = "on_demand") -> PetitionTally:
    """Snapshot the folded product for the trustees (moderator on demand, and at close)."""
    if p.state not in ("open", "closed"):
        raise ApiError(409, "illegal_transition", "only open or closed petitions are tallied")
    _fold(db, p)
    row = db.get(PetitionCount, p.id)
    assert row is not None
    existing = db.scalars(select(PetitionTally).where(PetitionTally.petition_id == p.id,
                                                      PetitionTally.tree_size == row.folded_size)
                          .order_by(PetitionTally.id.desc())).first()
    if existing is not None and existing.count == row.count:
        return existing
    t = PetitionTally(petition_id=p.id, tree_size=row.folded_size, count=row.count,
                      product_hex=row.product_hex, partials_json="[]", reason=reason)
    db.add(t)
    db.flush()
    return t


def encrypted_tally(p: Petition, t: PetitionTally) -> ptally.EncryptedRegionTally:
    return ptally.EncryptedRegionTally(scope_id(p.id), t.tree_size, t.count,
                                       hex_to_int(t.product_hex, "product"))


def get_tally(db: Session, p: Petition, tally_id: object) -> PetitionTally:
    t = db.get(PetitionTally, tally_id) if isinstance(tally_id, int) else None
    if t is None or t.petition_id != p.id:
        raise ApiError(404, "not_found", "unknown tally")
    return t


def add_partial(db: Session, p: Petition, t: PetitionTally, partial_json: object) -> None:
    """A trustee's partial decryption: verified now (400 if not); combined once k are in."""
    if t.results_json is not None:
        raise ApiError(409, "decrypted", "this tally is already decrypted")
    try:
        partial = PartialDecryption.from_json(partial_json)
    except (CryptoError, KeyError, TypeError, ValueError) as exc:
        raise ApiError(400, "invalid_partial", f"malformed partial decryption: {exc}") from exc
    tpk, fp, et = election_key(p), fingerprint_of(p), encrypted_tally(p, t)
    try:
        verify_partial_decryption(tpk, et.c, partial, fingerprint=fp, context=et.context)
    except CryptoError as exc:
        raise ApiError(400, "invalid_partial", str(exc)) from exc
    partials = [PartialDecryption.from_json(x) for x in json.loads(t.partials_json)]
    if any(x.index == partial.index for x in partials):
        raise ApiError(409, "duplicate_partial", "this trustee already posted a partial decryption")
    partials.append(partial)
    t.partials_json = json.dumps([x.to_json() for x in partials])
    if len(partials) >= tpk.threshold:
        try:
            result = ptally.combine_regions(tpk, params_of(p), et, partials, fingerprint=fp)
        except CryptoError as exc:
            raise ApiError(409, "decryption_failed", str(exc)) from exc
        t.results_json = json.dumps(result.to_json())
        t.decrypted_at = utcnow()
    db.flush()


def tally_json(p: Petition, t: PetitionTally) -> dict[str, Any]:
    return {"id": t.id, "reason": t.reason, "encrypted": encrypted_tally(p, t).to_json(),
            "context": list(encrypted_tally(p, t).context),
            "partials": json.loads(t.partials_json),
            "results": json.loads(t.results_json) if t.results_json else None,
            "created_at": _iso(t.created_at), "decrypted_at": _iso(t.decrypted_at)}


def latest_results(db: Session, p: Petition) -> tuple[PetitionTally, dict[str, Any]] | None:
    t = db.scalars(select(PetitionTally).where(PetitionTally.petition_id == p.id,
                                               PetitionTally.results_json.is_not(None))
                   .order_by(PetitionTally.tree_size.desc(), PetitionTally.id.desc())).first()
    if t is None or t.results_json is None:
        return None
    return t, json.loads(t.results_json)


def region_results_json(db: Session, p: Petition) -> dict[str, Any] | None:
    found = latest_results(db, p)
    if found is None:
        return None
    t, res = found
    labels = {r.id: r.label for r in regions_of(p)}
    return {"tally_id": t.id, "tree_size": res["tree_size"], "count": res["count"],
            "decrypted_at": _iso(t.decrypted_at), "trustees_used": res["trustees_used"],
            "regions": [{"id": rid, "label": labels.get(rid, rid), "count": n}
                        for rid, n in res["counts"].items()]}


# -- public views -------------------------------------------------------------------------------
def count_of(db: Session, p: Petition) -> tuple[int, int]:
    row = db.get(PetitionCount, p.id)
    return (row.count, row.folded_size) if row is not None else (0, 0)


def summary_json(db: Session, p: Petition) -> dict[str, Any]:
    count, _ = count_of(db, p)
    return {"id": p.id, "title": p.title, "state": p.state, "signatures": count,
            "created_at": _iso(p.created_at), "opened_at": _iso(p.opened_at),
            "closes_at": _iso(p.closes_at), "response_threshold_reached": p.response_threshold_reached_at is not None,
            "responded": p.responded_at is not None, "debated": p.debated_at is not None,
            "rejection_code": p.rejection_code}


def public_json(db: Session, p: Petition) -> dict[str, Any]:
    count, folded = count_of(db, p)
    row = db.get(PetitionCount, p.id)
    return {
        "id": p.id, "scope_id": scope_id(p.id), "title": p.title, "action": p.action,
        "background": p.background, "details": p.details, "state": p.state,
        "regions": [r.to_json() for r in regions_of(p)],
        "flags": {"response_threshold_reached": p.response_threshold_reached_at is not None,
                  "debate_threshold_reached": p.debate_threshold_reached_at is not None,
                  "responded": p.responded_at is not None, "debated": p.debated_at is not None},
        "signatures": count, "counted_board_size": folded,
        "invalidated": row.invalidated if row is not None else 0,
        "counted_at_ms": row.refreshed_ms if row is not None else None,
        "board_size": p.board_size, "credentials_issued": signers_count(db, p.id),
        "sponsors": {"required": p.sponsors_required, "count": sponsor_count(db, p.id)},
        "thresholds": {
            "response": {"threshold": p.response_threshold, "reached_at": _iso(p.response_threshold_reached_at)},
            "debate": {"threshold": p.debate_threshold, "reached_at": _iso(p.debate_threshold_reached_at)}},
        "response": {"text": p.response_text, "at": _iso(p.responded_at)} if p.response_text else None,
        "debate": {"text": p.debate_text, "at": _iso(p.debated_at)} if p.debate_text else None,
        "rejection": {"code": p.rejection_code, "note": p.rejection_note} if p.state == "rejected" else None,
        "created_at": _iso(p.created_at), "opened_at": _iso(p.opened_at),
        "closes_at": _iso(p.closes_at), "closed_at": _iso(p.closed_at),
        "parameters": params_of(p).to_json(),
        "issuer_public_key": json.loads(p.issuer_public_json),
        "board_public_key": p.board_public_hex, "log_id": log_id(p.id),
        "election_public_key": json.loads(p.election_key_json) if p.election_key_json else None,
        "fingerprint": p.fingerprint_hex, "insecure_test_keys": p.insecure_test_keys,
        "region_results": region_results_json(db, p),
    }


_WORD = re.compile(r"\w{3,}", re.UNICODE)


def _tokens(text: str) -> list[str]:
    return sorted({w.lower() for w in _WORD.findall(text)})[:12]


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def similar(db: Session, q: str, limit: int = 10) -> list[dict[str, Any]]:
    """Open (and pending) petitions sharing words with ``q``, ranked by token overlap."""
    words = _tokens(q)
    if not words:
        return []
    rows = db.scalars(select(Petition).where(
        Petition.state.in_(("open", "pending_moderation", "collecting_sponsors")),
        or_(*[func.lower(Petition.title).like(_like(w), escape="\\") for w in words])).limit(200)).all()
    scored = []
    for p in rows:
        title_words = set(_tokens(p.title))
        overlap = len(title_words & set(words)) + sum(0.5 for w in words if w in p.title.lower())
        scored.append((overlap / max(1, len(words)), p))
    scored.sort(key=lambda x: (-x[0], -x[1].id))
    return [{"id": p.id, "title": p.title, "state": p.state, "score": round(s, 3)}
            for s, p in scored[:limit]]


def list_petitions(db: Session, *, state: str | None, q: str | None, sort: str, page: int,
                   per_page: int) -> tuple[list[Petition], int]:
    query = select(Petition).outerjoin(PetitionCount, PetitionCount.petition_id == Petition.id).where(
        Petition.state.in_(lifecycle.PUBLIC_STATES))
    if state:
        if state not in lifecycle.PUBLIC_FILTERS:
            raise ApiError(400, "invalid_parameter", "state must be one of " + ", ".join(lifecycle.PUBLIC_FILTERS))
        if state == "awaiting_response":
            query = query.where(Petition.state.in_(("open", "closed")),
                                Petition.response_threshold_reached_at.is_not(None),
                                Petition.responded_at.is_(None))
        elif state == "responded":
            query = query.where(Petition.responded_at.is_not(None))
        elif state == "debated":
            query = query.where(Petition.debated_at.is_not(None))
        else:
            query = query.where(Petition.state == state)
    if q:
        words = _tokens(q) or [q.strip().lower()]
        for w in words:
            query = query.where(func.lower(Petition.title).like(_like(w), escape="\\"))
    if sort not in ("signatures", "date"):
        raise ApiError(400, "invalid_parameter", "sort must be 'signatures' or 'date'")
    total = int(db.scalar(select(func.count()).select_from(query.subquery())) or 0)
    order = ((func.coalesce(PetitionCount.count, 0).desc(), Petition.id.desc()) if sort == "signatures"
             else (Petition.created_at.desc(), Petition.id.desc()))
    rows = db.scalars(query.order_by(*order).offset((page - 1) * per_page).limit(per_page)).all()
    return list(rows), total


def region_chart_svg(regions: list[dict[str, Any]], width: int = 640,
                     title: str = "Signatures by region") -> str:
    """A server-rendered horizontal bar chart (no script; labels and title XML-escaped)."""
    from markupsafe import escape

    bar_h, gap, label_w = 18, 6, 170
    top = max([int(r["count"]) for r in regions] + [1])
    height = len(regions) * (bar_h + gap) + gap
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="region-chart" role="img" '
             f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
             f"<title>{escape(title)}</title>"]
    span = width - label_w - 70
    for i, r in enumerate(regions):
        y = gap + i * (bar_h + gap)
        w = int(span * int(r["count"]) / top)
        parts.append(f'<text x="{label_w - 6}" y="{y + bar_h - 5}" text-anchor="end" '
                     f'font-size="12">{escape(r["label"])}</text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar_h}" fill="#2b6cb0"/>')
        parts.append(f'<text x="{label_w + w + 6}" y="{y + bar_h - 5}" font-size="12">{int(r["count"])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def csv_text(rows: list[list[Any]]) -> str:
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for row in rows:
        writer.writerow(["'" + c if isinstance(c, str) and c[:1] in ("=", "+", "-", "@") else c
                         for c in row])  # no spreadsheet formula injection
    return buf.getvalue()
