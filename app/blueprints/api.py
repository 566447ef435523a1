"""JSON API ``/api/v1``: voter client, anonymous casting, the public board, officials.

Authentication: ``Authorization: Bearer <token>`` from ``POST /api/v1/auth/login``, or
the browser session — then the ``X-CSRFToken`` header is required too.  Casting and
the board are anonymous.  Every error is ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from flask_wtf.csrf import CSRFError

from app.db import get_session
from app.errors import ApiError
from app.extensions import csrf, limiter
from app.hardening import AUDITED_LIMIT, account_key, account_limit, json_body_or_none
from app.models import User
from app.openapi import openapi_document
from app.security import bearer_user, current_user
from app.services import board as board_service
from app.services import casting
from app.services import elections as election_service
from app.services import issuance as issuance_service
from app.services import record as record_service
from app.services import roll as roll_service
from app.services import tally as tally_service
from app.services import users as user_service
from app.services.roll import RollError
from crypto.encoding import hex_to_bytes
from crypto.errors import InvalidEncoding

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def json_body() -> dict[str, Any]:
    """The request's JSON object, or a 400/415 ApiError."""
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "send Content-Type: application/json")
    data = json_body_or_none()  # no NaN; too deep is malformed; parsed once per request
    if data is None:
        raise ApiError(400, "malformed_json", "the body is not valid JSON")
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_body", "expected a JSON object")
    return data


def _str_field(data: dict[str, Any], key: str, max_len: int = 10_000) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value or len(value) > max_len:
        raise ApiError(400, "invalid_body", f"field {key!r} must be a non-empty string")
    return value


def _int_arg(name: str, default: int | None = None, minimum: int = 0) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or len(raw) > 18:
        raise ApiError(400, "invalid_parameter", f"query parameter {name!r} must be an integer")
    value = int(raw)
    if value < minimum:
        raise ApiError(400, "invalid_parameter", f"query parameter {name!r} must be >= {minimum}")
    return value


def api_user(role: str | None = None) -> User:
    """The authenticated user (bearer token, or session + CSRF header)."""
    user = bearer_user()
    if user is None and current_user() is not None:
        try:
            csrf.protect()
        except CSRFError as exc:
            raise ApiError(400, "csrf", "the X-CSRFToken header is missing or invalid") from exc
        user = current_user()
    if user is None:
        raise ApiError(401, "unauthorized", "log in first (Authorization: Bearer <token>)")
    if role is not None and not user.has_role(role):
        raise ApiError(403, "forbidden", f"the {role} role is required")
    return user


def created(data: dict[str, Any]) -> tuple[Response, int]:
    return jsonify(data), 201


# -- authentication -------------------------------------------------------------------
@bp.post("/auth/login")
@limiter.limit("20/minute")
@limiter.limit(account_limit, key_func=account_key)  # per account, across addresses
def login() -> Any:
    data = json_body()
    email = _str_field(data, "email", 254)
    password = _str_field(data, "password", 1024)
    db = get_session()
    user = user_service.authenticate(db, email, password)
    if user is None:
        raise ApiError(401, "invalid_login", "wrong e-mail or password")
    token, expires = user_service.create_api_token(db, user, current_app.config["API_TOKEN_TTL_S"])
    db.commit()
    return jsonify({"token": token, "token_type": "Bearer",
                    "expires_at": expires.isoformat().replace("+00:00", "Z"),
                    "user": {"email": user.email, "name": user.name, "roles": user.role_list}})


@bp.get("/me")
def me() -> Any:
    user = api_user()
    db = get_session()
    from sqlalchemy import select

    from app.models import RollEntry
    ids = db.scalars(select(RollEntry.election_id).where(RollEntry.user_id == user.id)).all()
    return jsonify({"email": user.email, "name": user.name, "roles": user.role_list,
                    "elections": sorted(ids)})


# -- elections --------------------------------------------------------------------------
@bp.get("/elections")
def list_elections() -> Any:
    from sqlalchemy import select

    from app.models import Election
    db = get_session()
    rows = db.scalars(select(Election).where(Election.state != "draft").order_by(Election.id)).all()
    return jsonify({"elections": [{"id": e.id, "title": e.title, "state": e.state} for e in rows]})


@bp.get("/elections/<election_id>")
def get_election(election_id: str) -> Any:
    db = get_session()
    election = election_service.get_election(db, election_id)
    if election.state == "draft":
        user = bearer_user() or current_user()
        if user is None or not user.has_role("official"):
            raise ApiError(404, "not_found", "unknown election")
    return jsonify(election_service.public_json(db, election))


@bp.post("/elections/<election_id>/credential")
@limiter.limit("30/minute")
def credential(election_id: str) -> Any:
    """Blind issuance against a request signed with the voter's roll key (§2.7).

    Body ``{"signed_request": {"request": {...}, "signature": hex}}`` (enrolled/PKI mode) or
    ``{"blinded_message": hex}`` (legacy login mode).  The same signed request again
    returns the stored answer with 200; a first issuance answers 201.
    """
    user = api_user()
    data = json_body()
    db = get_session()
    election = election_service.get_election(db, election_id)
    blinded, signed = issuance_service.parse_request_body(election, data)
    signature, receipt, fresh = issuance_service.issue(db, election, user, blinded, signed)
    db.commit()
    body = {"blind_signature": signature.hex(), "issuance_receipt": receipt}
    return created(body) if fresh else jsonify(body)


@bp.post("/elections/<election_id>/enroll")
@limiter.limit("30/minute")
def enroll(election_id: str) -> Any:
    """Put the voter's signing key on the roll (before opening).

    Enrolled-key mode: ``{"public_key": hex(32-byte Ed25519)}``; PKI mode:
    ``{"certificate": PEM or base64 DER}`` checked against PKI_CA_FILE / PKI_CRL_FILE.
    """
    import base64
    import binascii

    user = api_user()
    data = json_body()
    db = get_session()
    election = election_service.get_election(db, election_id)
    if election.credential_mode == "pki":
        raw = _str_field(data, "certificate", 20_000)
        if raw.lstrip().startswith("-----BEGIN"):
            cert = raw.encode("ascii", "replace")
        else:
            try:
                cert = base64.b64decode(raw, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ApiError(400, "invalid_certificate",
                               "certificate must be PEM or base64 DER") from exc
        cas, crls = roll_service.load_pki_trust(current_app.config.get("PKI_CA_FILE"),
                                                current_app.config.get("PKI_CRL_FILE"))
        row = roll_service.enroll_certificate(db, election, user, cert, cas, crls)
    else:
        try:
            key = hex_to_bytes(data.get("public_key"), "public_key", 32)
        except InvalidEncoding as exc:
            raise ApiError(400, "invalid_key", "public_key must be 32 bytes of lowercase hex") from exc
        row = roll_service.enroll_key(db, election, user, key)
    db.commit()
    return created({"election_id": election.id, "kind": row.kind,
                    "public_key": row.public_key_hex, "id_hash": row.id_hash_hex})


@bp.get("/elections/<election_id>/roll")
def roll(election_id: str) -> Any:
    """The published roll of keys (frozen at opening): no names, only keys and id hashes."""
    db, election = _public_election(election_id)
    return jsonify(issuance_service.public_roll(db, election))


@bp.get("/elections/<election_id>/roll/me")
def roll_me(election_id: str) -> Any:
    """The signed-in voter's own roll key and position (to check against the public roll)."""
    user = api_user()
    db = get_session()
    election = election_service.get_election(db, election_id)
    row = roll_service.roll_key_of(db, election.id, user)
    if row is None:
        raise ApiError(404, "not_enrolled", "you have no key on this election's roll")
    return jsonify({"election_id": election.id, "kind": row.kind,
                    "public_key": row.public_key_hex, "roll_index": row.roll_index,
                    "id_hash": row.id_hash_hex})


def _anonymous_key() -> str:
    """One global bucket for anonymous requests: never keyed on the address (docs §"Linkability")."""
    return "anonymous-casting"


def _cast_limit() -> str:
    return str(current_app.config.get("CAST_LIMIT", "30000/minute"))


@bp.post("/elections/<election_id>/ballots")
@limiter.limit(_cast_limit, key_func=_anonymous_key)
def cast(election_id: str) -> Any:
    """Anonymous: no session or bearer needed (and none is looked at).

    Rate-limited by one global token bucket (``CAST_LIMIT``), never per address.
    """
    return created(casting.cast_ballot(current_app._get_current_object(),  # type: ignore[attr-defined]
                                       election_id, json_body()))


@bp.post("/elections/<election_id>/audited-ballots")
@limiter.limit(AUDITED_LIMIT, key_func=lambda: "audited-ballots")  # global: no address key
def audited(election_id: str) -> Any:
    """Anonymous: no session, no address logged; one service-wide token bucket."""
    return created(casting.post_audited(current_app._get_current_object(),  # type: ignore[attr-defined]
                                        election_id, json_body()))


# -- the public board ---------------------------------------------------------------------
def _public_election(election_id: str) -> Any:
    db = get_session()
    election = election_service.get_election(db, election_id)
    if election.state == "draft":
        raise ApiError(404, "not_found", "unknown election")
    return db, election


@bp.get("/elections/<election_id>/board")
def board(election_id: str) -> Any:
    db, election = _public_election(election_id)
    start = _int_arg("start", 0) or 0
    limit = _int_arg("limit", 100, minimum=1) or 100
    rows = board_service.entries(db, election.id, start, limit)
    next_start = rows[-1].leaf_index + 1 if rows and rows[-1].leaf_index + 1 < election.board_size else None
    return jsonify({"election_id": election.id, "size": election.board_size, "start": start,
                    "entries": [board_service.entry_public(r) for r in rows],
                    "next_start": next_start})


@bp.get("/elections/<election_id>/board/<tracker>")
def board_entry(election_id: str, tracker: str) -> Any:
    db, election = _public_election(election_id)
    row = board_service.by_tracker(db, election.id, tracker.strip().lower())
    if row is None:
        raise ApiError(404, "not_found", "no board entry with this tracker")
    return jsonify(board_service.entry_public(row))


@bp.get("/elections/<election_id>/tree-head")
def tree_head(election_id: str) -> Any:
    db, election = _public_election(election_id)
    row = board_service.latest_head(db, election.id)
    if row is None:
        raise ApiError(404, "not_found", "no tree head yet")
    return jsonify(board_service.head_json(row, election.id))


@bp.get("/elections/<election_id>/tree-heads")
def tree_heads(election_id: str) -> Any:
    db, election = _public_election(election_id)
    return jsonify({"tree_heads": board_service.all_heads(db, election.id)})


@bp.get("/elections/<election_id>/inclusion/<int:index>")
def inclusion(election_id: str, index: int) -> Any:
    db, election = _public_election(election_id)
    return jsonify(board_service.inclusion(db, election.id, index, _int_arg("tree_size")))


@bp.get("/elections/<election_id>/consistency")
def consistency(election_id: str) -> Any:
    db, election = _public_election(election_id)
    old = _int_arg("old")
    if old is None:
        raise ApiError(400, "invalid_parameter", "query parameter 'old' is required")
    return jsonify(board_service.consistency(db, election.id, old, _int_arg("new")))


@bp.get("/elections/<election_id>/issuance")
def issuance(election_id: str) -> Any:
    db, election = _public_election(election_id)
    return jsonify(issuance_service.public_register(db, election.id))


@bp.get("/elections/<election_id>/record")
def record(election_id: str) -> Any:
    """Everything the election record needs from the web side (after closing)."""
    db, election = _public_election(election_id)
    if election.state not in {"closed", "tallied"}:
        api_user("official")
    return jsonify(record_service.record_data(db, election.id))


@bp.get("/elections/<election_id>/encrypted-tally")
def encrypted_tally(election_id: str) -> Any:
    """The encrypted tally recomputed from the frozen board (what trustees decrypt)."""
    db, election = _public_election(election_id)
    return jsonify(tally_service.encrypted_tally(db, election.id).to_json())


@bp.post("/elections/<election_id>/partial-decryptions")
def upload_partials(election_id: str) -> Any:
    """A trustee's partial decryptions with proofs; results are published at k valid sets."""
    user = api_user("trustee")
    db = get_session()
    outcome = tally_service.accept_partials(db, election_id, json_body(), uploader=user)
    db.commit()
    return created(outcome)


@bp.get("/elections/<election_id>/record.zip")
def record_zip(election_id: str) -> Any:
    """The signed election record (check it with ``saylau verify record.zip``)."""
    db, election = _public_election(election_id)
    if election.state not in {"closed", "tallied"}:
        raise ApiError(409, "not_closed", "the record is published after closing")
    body = tally_service.record_zip(db, election.id)
    return Response(body, mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{election.id}-record.zip"'})


# -- officials (JSON counterparts of the admin pages) -----------------------------------
@bp.post("/elections")
def create_election() -> Any:
    user = api_user("official")
    data = json_body()
    election_id = _str_field(data, "id", 64)
    title = _str_field(data, "title", 300)
    questions = data.get("questions")
    if not isinstance(questions, list):
        raise ApiError(400, "invalid_body", "field 'questions' must be a list")
    manifest = election_service.manifest_from_form(election_id, title, questions, data.get("labels"))
    db = get_session()
    election = election_service.create_election(
        db, manifest,
        revote_policy=data.get("revote_policy", "no-revote") if isinstance(
            data.get("revote_policy", "no-revote"), str) else "",
        credential_policy=data.get("credential_policy", "period") if isinstance(
            data.get("credential_policy", "period"), str) else "",
        opens_at=election_service.parse_datetime(data.get("opens_at"), "opens_at"),
        closes_at=election_service.parse_datetime(data.get("closes_at"), "closes_at"),
        created_by=user.id, issuer_key=current_app.config.get("TEST_ISSUER_KEY"),
        credential_mode=data.get("credential_mode", "enrolled") if isinstance(
            data.get("credential_mode", "enrolled"), str) else "")
    db.commit()
    return created(election_service.public_json(db, election))


@bp.post("/elections/<election_id>/roll")
def import_roll(election_id: str) -> Any:
    api_user("official")
    data = json_body()
    db = get_session()
    election = election_service.get_election(db, election_id)
    try:
        added = roll_service.import_roll(db, election,
                                         _str_field(data, "csv", roll_service.ROLL_MAX_BYTES))
    except RollError as exc:
        db.rollback()
        return jsonify({"error": {"code": "invalid_roll", "message": str(exc),
                                  "rows": [{"line": n, "message": m} for n, m in exc.errors]}}), 400
    db.commit()
    return jsonify({"added": added, "voters_on_roll": election_service.roll_count(db, election.id)})


@bp.post("/elections/<election_id>/election-key")
def set_key(election_id: str) -> Any:
    api_user("official")
    data = json_body()
    db = get_session()
    election = election_service.get_election(db, election_id)
    election_service.set_election_key(db, election, data,
                                      allow_test_key=bool(current_app.config.get("ALLOW_TEST_KEYS")))
    db.commit()
    return jsonify(election_service.public_json(db, election))


@bp.post("/elections/<election_id>/open")
def open_election(election_id: str) -> Any:
    api_user("official")
    db = get_session()
    election = election_service.get_election(db, election_id)
    election_service.open_election(db, election)
    db.commit()
    return jsonify(election_service.public_json(db, election))


@bp.post("/elections/<election_id>/start-voting")
def start_voting(election_id: str) -> Any:
    """End the credential period now (``opens_at`` := now); ballots are accepted from now."""
    api_user("official")
    db = get_session()
    election = election_service.get_election(db, election_id)
    election_service.start_voting(db, election)
    db.commit()
    return jsonify(election_service.public_json(db, election))


@bp.post("/elections/<election_id>/close")
def close_election(election_id: str) -> Any:
    api_user("official")
    db = get_session()
    election = election_service.get_election(db, election_id)
    election_service.close_election(db, election)
    db.commit()
    return jsonify(election_service.public_json(db, election))


@bp.get("/openapi.json")
def openapi() -> Any:
    doc = openapi_document()
    # other blueprints under /api/v1 (petitions, …) add their paths here at registration
    doc["paths"].update(current_app.extensions.get("saylau_openapi_paths", {}))
    return jsonify(doc)


@bp.get("/docs")
def docs() -> Any:
    """A human-readable page for the OpenAPI document (vendored Swagger UI, read-only)."""
    from flask import render_template

    return render_template("api_docs.html")
