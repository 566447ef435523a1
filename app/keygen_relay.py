"""The key-generation relay: trustees exchange opaque, signed and encrypted messages
(docs §4.7.3, ``saylau trustee keygen``) and publish the signed transcript (§4.7.9).

The service learns nothing: private messages are end-to-end encrypted between trustees,
and every message is signed; the relay only stores and returns bytes.

* ``POST /api/v1/elections/<id>/keygen/<run>/messages`` (trustee) —
  ``{"round", "sender", "recipient", "envelope"}``; 201; 409 if that
  ``(round, sender, recipient)`` was already posted (a message is never replaced);
* ``GET  /api/v1/elections/<id>/keygen/<run>/messages?round=R&recipient=J[&senders=1,3]``
  (trustee) — ``{"messages": [{"sender", "recipient", "envelope"}]}``, recipient ``J`` or 0
  (only from ``senders`` if given: a poller asks only for what it still misses);
* ``POST /api/v1/elections/<id>/keygen/transcript`` (trustee or official) —
  ``{"transcript": …}``: verified in full, then its public key becomes the election key;
* ``GET  /api/v1/elections/<id>/keygen/transcript`` — the stored transcript (public).
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import get_session
from app.errors import ApiError
from app.models import Election
from app.services.keygen import KeygenMessage, KeygenTranscript

bp = Blueprint("keygen_relay", __name__, url_prefix="/api/v1/elections")

#: Largest relay message (bytes); a sieve round of a 3072-bit run stays below it.
MAX_ENVELOPE_BYTES = 12 * 1024 * 1024
MAX_TRUSTEES = 16
_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def _user(*roles: str) -> Any:
    from app.blueprints.api import api_user

    user = api_user()
    if not any(user.has_role(r) for r in roles):
        raise ApiError(403, "forbidden", f"the {' or '.join(roles)} role is required")
    return user


def _draft_election(db: Session, election_id: str) -> Election:
    from app.services.elections import get_election

    election = get_election(db, election_id)
    if election.state != "draft":
        raise ApiError(409, "frozen", "the election is no longer a draft; its key is fixed")
    return election


def _name(value: object, what: str) -> str:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise ApiError(400, "invalid_body", f"{what} must be 1-64 characters [A-Za-z0-9_.:-]")
    return value


def _index(value: object, what: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= MAX_TRUSTEES:
        raise ApiError(400, "invalid_body", f"{what} must be an integer {low}..{MAX_TRUSTEES}")
    return value


@bp.post("/<election_id>/keygen/<run_id>/messages")
def post_message(election_id: str, run_id: str) -> Any:
    _user("trustee")
    request.max_content_length = MAX_ENVELOPE_BYTES + 4096
    from app.blueprints.api import json_body

    data = json_body()
    run = _name(run_id, "run")
    round_name = _name(data.get("round"), "round")
    sender = _index(data.get("sender"), "sender", 1)
    recipient = _index(data.get("recipient"), "recipient", 0)
    envelope = data.get("envelope")
    if not isinstance(envelope, str) or not envelope or len(envelope) > MAX_ENVELOPE_BYTES:
        raise ApiError(400, "invalid_body", "envelope must be a non-empty string")
    db = get_session()
    _draft_election(db, election_id)
    exists = db.scalar(select(KeygenMessage.id).where(
        KeygenMessage.election_id == election_id, KeygenMessage.run_id == run,
        KeygenMessage.round == round_name, KeygenMessage.sender == sender,
        KeygenMessage.recipient == recipient))
    if exists is not None:
        raise ApiError(409, "duplicate", "this message was already posted")
    db.add(KeygenMessage(election_id=election_id, run_id=run, round=round_name, sender=sender,
                         recipient=recipient, body=envelope.encode("utf-8")))
    db.commit()
    return jsonify({"stored": True}), 201


@bp.get("/<election_id>/keygen/<run_id>/messages")
def get_messages(election_id: str, run_id: str) -> Any:
    _user("trustee")
    run = _name(run_id, "run")
    round_name = _name(request.args.get("round"), "round")
    raw = request.args.get("recipient", "")
    if not raw.isdigit() or len(raw) > 3:
        raise ApiError(400, "invalid_parameter", "recipient must be an integer")
    recipient = _index(int(raw), "recipient", 1)
    senders_raw = request.args.get("senders")
    senders: list[int] | None = None
    if senders_raw is not None:
        parts = senders_raw.split(",") if senders_raw else []
        if len(parts) > MAX_TRUSTEES or not all(x.isdigit() and len(x) <= 2 for x in parts):
            raise ApiError(400, "invalid_parameter", "senders must be a comma-separated list")
        senders = [_index(int(x), "sender", 1) for x in parts]
    db = get_session()
    from app.services.elections import get_election

    get_election(db, election_id)
    rows = db.execute(select(KeygenMessage.sender, KeygenMessage.recipient, KeygenMessage.body)
                      .where(KeygenMessage.election_id == election_id,
                             KeygenMessage.run_id == run, KeygenMessage.round == round_name,
                             KeygenMessage.recipient.in_((0, recipient)),
                             *([KeygenMessage.sender.in_(senders)] if senders is not None
                               else []))
                      .order_by(KeygenMessage.id)).all()
    return jsonify({"messages": [{"sender": s, "recipient": r, "envelope": b.decode("utf-8")}
                                 for s, r, b in rows]})


@bp.post("/<election_id>/keygen/transcript")
def post_transcript(election_id: str) -> Any:
    _user("trustee", "official")
    request.max_content_length = MAX_ENVELOPE_BYTES
    from app.blueprints.api import json_body
    from app.services.elections import public_json, set_election_key
    from crypto.dkg.transcript import verify_transcript
    from crypto.errors import CryptoError

    data = json_body()
    transcript = data.get("transcript")
    db = get_session()
    election = _draft_election(db, election_id)
    stored = db.get(KeygenTranscript, election_id)
    if stored is not None:
        if json.loads(stored.transcript_json) == transcript:
            return jsonify(public_json(db, election))
        raise ApiError(409, "exists", "another key-generation transcript is already stored")
    try:
        tpk = verify_transcript(transcript, election=election_id)
    except CryptoError as exc:
        raise ApiError(400, "invalid_transcript", str(exc)) from exc
    set_election_key(db, election, tpk.to_json(),
                     allow_test_key=bool(current_app.config.get("ALLOW_TEST_KEYS")))
    db.add(KeygenTranscript(election_id=election_id, transcript_json=json.dumps(transcript)))
    try:
        db.commit()
    except IntegrityError:  # every trustee uploads the same transcript at the same time
        db.rollback()
        stored = db.get(KeygenTranscript, election_id)
        if stored is None or json.loads(stored.transcript_json) != transcript:
            raise ApiError(409, "exists", "another key-generation transcript is already "
                           "stored") from None
        return jsonify(public_json(db, _draft_election(db, election_id)))
    return jsonify(public_json(db, election)), 201


@bp.get("/<election_id>/keygen/transcript")
def get_transcript(election_id: str) -> Any:
    db = get_session()
    stored = db.get(KeygenTranscript, election_id)
    if stored is None:
        raise ApiError(404, "not_found", "no distributed key generation for this election")
    return jsonify({"transcript": json.loads(stored.transcript_json)})
