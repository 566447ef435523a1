"""``/api/v1/petitions`` for citizens: e-mail confirmation, drafting, sponsors, credentials and anonymous signing."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request
from flask_limiter.util import get_remote_address

from app.blueprints.api import api_user, json_body
from app.db import get_session
from app.errors import ApiError
from app.extensions import limiter
from app.petitions import (
    citizens,
    common,
    drafting,
    listing,
    signing,
)
from app.petitions.api_common import (
    _account_key,
    _app,
    _credential_limit,
    _sign_limit,
    bp,
)
from crypto.encoding import hex_to_bytes
from crypto.errors import InvalidEncoding


# -- citizens ----------------------------------------------------------------------------------
@bp.post("/confirm-email")
@limiter.limit("5/hour", key_func=_account_key)
def request_confirmation() -> Any:
    user = api_user()
    db = get_session()
    if citizens.is_confirmed(db, user):
        return jsonify({"confirmed": True})
    base = current_app.config.get("BASE_URL") or request.host_url
    citizens.request_confirmation(db, user, base)
    db.commit()
    return jsonify({"confirmed": False, "sent": True}), 202


@bp.post("/confirm-email/confirm")
@limiter.limit("30/minute")
def confirm_email() -> Any:
    data = json_body()
    db = get_session()
    user = citizens.confirm_token(db, data.get("token"))  # type: ignore[arg-type]
    db.commit()
    return jsonify({"confirmed": True, "email": user.email})


@bp.post("")
@limiter.limit("20/hour", key_func=_account_key)
def create() -> Any:
    user = api_user()
    db = get_session()
    p, token = drafting.create_draft(db, user, json_body())
    db.commit()
    data = listing.public_json(db, p)
    data["share_token"] = token
    data["share_url"] = f"/petitions/{p.id}/sponsor/{token}"
    return jsonify(data), 201


@bp.patch("/<int:pid>")
def edit(pid: int) -> Any:
    user = api_user()
    db = get_session()
    p = common.get_petition(db, pid)
    drafting.update_draft(db, p, user, json_body())
    db.commit()
    return jsonify(listing.public_json(db, p))


@bp.post("/<int:pid>/submit")
def submit(pid: int) -> Any:
    user = api_user()
    db = get_session()
    p = common.get_petition(db, pid)
    drafting.submit(db, p, user)
    db.commit()
    return jsonify(listing.public_json(db, p))


@bp.post("/<int:pid>/share-link")
def share_link(pid: int) -> Any:
    """The creator gets a fresh sponsor link (the old one stops working)."""
    from app.security import new_token

    user = api_user()
    db = get_session()
    p = common.get_petition(db, pid)
    if user.id != p.creator_id:
        raise ApiError(403, "forbidden", "only the creator")
    token, digest = new_token()
    p.share_token_hash = digest
    db.commit()
    return jsonify({"share_token": token, "share_url": f"/petitions/{p.id}/sponsor/{token}"})


@bp.post("/<int:pid>/sponsors")
@limiter.limit("30/minute", key_func=_account_key)
def sponsor(pid: int) -> Any:
    user = api_user()
    db = get_session()
    p = common.get_petition(db, pid)
    drafting.add_sponsor(db, p, user, json_body().get("token"))
    db.commit()
    return jsonify(listing.public_json(db, p)), 201


# -- signing ------------------------------------------------------------------------------------
@bp.post("/<int:pid>/credential")
@limiter.limit(_credential_limit, key_func=_account_key)
@limiter.limit(_credential_limit)
def credential(pid: int) -> Any:
    """Blind-sign the citizen's credential request (once per citizen and petition)."""
    user = api_user()
    data = json_body()
    try:
        blinded = hex_to_bytes(data.get("blinded_message"), "blinded_message")
    except InvalidEncoding as exc:
        raise ApiError(400, "invalid_body", "blinded_message must be lowercase hex") from exc
    signature, receipt = signing.issue_credential(_app(), pid, user.id, blinded, get_remote_address())
    return jsonify({"blind_signature": signature.hex(), "issuance_receipt": receipt}), 201


def _anonymous_key() -> str:
    """One global bucket: an anonymous request is never keyed on its address or account."""
    return "anonymous-signing"


@bp.post("/<int:pid>/signatures")
@limiter.limit(_sign_limit, key_func=_anonymous_key)
def sign(pid: int) -> Any:
    """Anonymous: ``{credential, signature, ed25519_signature}`` → receipt (after commit).

    Rate-limited by one global token bucket (``PETITION_SIGN_LIMIT``), never per address.
    """
    return jsonify(signing.sign(_app(), pid, json_body())), 201


