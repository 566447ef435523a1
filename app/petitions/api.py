"""JSON API ``/api/v1/petitions`` (open data, citizens, moderators, trustees, anonymous signing).

Authentication as in :mod:`app.blueprints.api` (bearer token, or session + ``X-CSRFToken``).
Signing (``POST /<id>/signatures``) is anonymous and looks at no session.  Every error is
``{"error": {"code", "message"}}`` with a 4xx status.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from flask.blueprints import BlueprintSetupState
from flask_limiter.util import get_remote_address

from app.blueprints.api import api_user, json_body
from app.config import setting
from app.db import get_session
from app.errors import ApiError
from app.extensions import limiter
from app.models import User
from app.petitions import (
    board_log,
    citizens,
    common,
    counts,
    decisions,
    drafting,
    exports,
    fraud,
    lifecycle,
    listing,
    parameters,
    region_tally,
    signing,
)
from app.petitions.models import Petition, PetitionFlag
from app.security import bearer_user, current_user
from app.services import users as user_service
from crypto.encoding import hex_to_bytes
from crypto.errors import InvalidEncoding

bp = Blueprint("petitions_api", __name__, url_prefix="/api/v1/petitions")


def _app() -> Flask:
    return current_app._get_current_object()  # type: ignore[attr-defined]


def _account_key() -> str:
    user = bearer_user() or current_user()
    return f"user:{user.id}" if user is not None else f"addr:{get_remote_address()}"


def _credential_limit() -> str:
    return str(setting("PETITION_CREDENTIAL_LIMIT"))


def _sign_limit() -> str:
    return str(setting("PETITION_SIGN_LIMIT"))


def _int_arg(name: str, default: int, minimum: int = 0, maximum: int = 2**31 - 1) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or len(raw) > 10 or not minimum <= int(raw) <= maximum:
        raise ApiError(400, "invalid_parameter", f"query parameter {name!r} must be an integer "
                       f"in [{minimum}, {maximum}]")
    return int(raw)


def _optional_user() -> User | None:
    return bearer_user() or current_user()


def _petition(pid: int, *, public: bool = True) -> Petition:
    db = get_session()
    p = common.get_petition(db, pid)
    if public and not common.visible(p, _optional_user()):
        raise ApiError(404, "not_found", "unknown petition")
    return p


def _csv_response(rows: list[list[Any]], name: str) -> Response:
    return Response(exports.csv_text(rows), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _wants_csv() -> bool:
    return request.args.get("format") == "csv" or request.path.endswith(".csv")


# -- open data ---------------------------------------------------------------------------------
@bp.get("")
def list_petitions() -> Any:
    db = get_session()
    state = request.args.get("state") or None
    q = (request.args.get("q") or "").strip()[:200] or None
    sort = request.args.get("sort", "signatures")
    page = _int_arg("page", 1, minimum=1, maximum=1_000_000)
    per_page = _int_arg("per_page", 20, minimum=1, maximum=100)
    rows, total = listing.list_petitions(db, state=state, q=q, sort=sort, page=page, per_page=per_page)
    items = [listing.summary_json(db, p) for p in rows]
    if _wants_csv():
        header = ["id", "title", "state", "signatures", "created_at", "opened_at", "closes_at",
                  "response_threshold_reached", "responded", "debated", "rejection_code"]
        return _csv_response([header] + [[i[k] for k in header] for i in items], "petitions.csv")
    return jsonify({"petitions": items, "page": page, "per_page": per_page, "total": total})


@bp.record_once
def _csv_alias(state: BlueprintSetupState) -> None:
    state.app.add_url_rule("/api/v1/petitions.csv", endpoint="petitions_api.list_csv",
                           view_func=list_petitions, methods=["GET"])


@bp.get("/regions")
def regions() -> Any:
    return jsonify({"regions": [{"id": i, "label": label} for i, label in common.DEFAULT_REGIONS]})


@bp.get("/similar")
def similar() -> Any:
    q = (request.args.get("q") or "").strip()
    if len(q) > 300:
        raise ApiError(400, "invalid_parameter", "q is too long")
    return jsonify({"q": q, "similar": listing.similar(get_session(), q)})


@bp.get("/<int:pid>.csv", endpoint="get_petition_csv")
@bp.get("/<int:pid>")
def get_petition(pid: int) -> Any:
    db = get_session()
    p = _petition(pid)
    counts.maybe_refresh(db, p)
    data = listing.public_json(db, p)
    if _wants_csv():
        rows: list[list[Any]] = [["field", "value"]]
        for key in ("id", "title", "state", "signatures", "board_size", "credentials_issued",
                    "opened_at", "closes_at", "closed_at"):
            rows.append([key, data[key]])
        rows.append(["response_threshold", p.response_threshold])
        rows.append(["debate_threshold", p.debate_threshold])
        for flag, value in data["flags"].items():
            rows.append([flag, value])
        if data["region_results"]:
            rows.append([])
            rows.append(["region_id", "region", "signatures"])
            for r in data["region_results"]["regions"]:
                rows.append([r["id"], r["label"], r["count"]])
        return _csv_response(rows, f"petition-{p.id}.csv")
    return jsonify(data)


@bp.get("/<int:pid>/results")
def results(pid: int) -> Any:
    """The latest decrypted by-region results (JSON download)."""
    db = get_session()
    p = _petition(pid)
    data = region_tally.region_results_json(db, p)
    if data is None:
        raise ApiError(404, "not_found", "no decrypted region results yet")
    response = jsonify({"petition_id": p.id, **data})
    if request.args.get("download"):
        response.headers["Content-Disposition"] = f'attachment; filename="petition-{p.id}-regions.json"'
    return response


@bp.get("/<int:pid>/record.zip")
def record_zip(pid: int) -> Any:
    """The verifiable petition record (``saylau verify``) once a region tally is decrypted.

    Read in this order so that every part covers the one before: the latest decrypted
    tally, the tree heads, the board up to the last head, the issuance register.
    """
    from sqlalchemy import select

    from app.petitions.models import PetitionBoardEntry, PetitionTreeHead
    from audit.petition_record import build_petition_record_data, petition_record_zip

    db = get_session()
    p = _petition(pid)
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
    blob = petition_record_zip(data, parameters.board_key(p))
    return Response(blob, mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="petition-{p.id}-record.zip"'})


@bp.get("/<int:pid>/board")
def board(pid: int) -> Any:
    db = get_session()
    p = _petition(pid)
    start = _int_arg("start", 0)
    limit = _int_arg("limit", 100, minimum=1, maximum=common.MAX_PAGE)
    rows = board_log.board_entries(db, p.id, start, limit)
    nxt = rows[-1].leaf_index + 1 if rows and rows[-1].leaf_index + 1 < p.board_size else None
    return jsonify({"petition_id": p.id, "size": p.board_size, "start": start,
                    "entries": [board_log.entry_public(r) for r in rows], "next_start": nxt})


@bp.get("/<int:pid>/tree-head")
def tree_head(pid: int) -> Any:
    db = get_session()
    p = _petition(pid)
    row = board_log.latest_head(db, p.id)
    if row is None:
        raise ApiError(404, "not_found", "no tree head yet")
    return jsonify(board_log.head_json(row))


@bp.get("/<int:pid>/inclusion/<int:index>")
def inclusion(pid: int, index: int) -> Any:
    p = _petition(pid)
    size = request.args.get("tree_size")
    return jsonify(board_log.inclusion(get_session(), p.id, index,
                                       _int_arg("tree_size", 0) if size else None))


@bp.get("/<int:pid>/consistency")
def consistency(pid: int) -> Any:
    p = _petition(pid)
    new = request.args.get("new")
    return jsonify(board_log.consistency(get_session(), p.id, _int_arg("old", 0),
                                         _int_arg("new", 0) if new else None))


@bp.get("/<int:pid>/issuance")
def issuance(pid: int) -> Any:
    p = _petition(pid)
    return jsonify(signing.public_register(get_session(), p.id))


@bp.get("/<int:pid>/tallies")
def tallies(pid: int) -> Any:
    from sqlalchemy import select

    from app.petitions.models import PetitionTally
    db = get_session()
    p = _petition(pid)
    rows = db.scalars(select(PetitionTally).where(PetitionTally.petition_id == p.id)
                      .order_by(PetitionTally.id)).all()
    return jsonify({"tallies": [region_tally.tally_json(p, t) for t in rows]})


@bp.get("/<int:pid>/tallies/<int:tid>")
def tally(pid: int, tid: int) -> Any:
    db = get_session()
    p = _petition(pid)
    return jsonify(region_tally.tally_json(p, region_tally.get_tally(db, p, tid)))


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


# -- moderators ----------------------------------------------------------------------------------
@bp.get("/moderation/queue")
def moderation_queue() -> Any:
    from sqlalchemy import select

    api_user("moderator")
    db = get_session()
    rows = db.scalars(select(Petition).where(Petition.state == "pending_moderation")
                      .order_by(Petition.submitted_at)).all()
    return jsonify({"petitions": [listing.summary_json(db, p) for p in rows]})


@bp.post("/<int:pid>/moderation")
def moderation(pid: int) -> Any:
    user = api_user("moderator")
    data = json_body()
    db = get_session()
    p = common.get_petition(db, pid)
    decisions.moderate(db, p, user, data.get("decision"), data.get("reason_code"), data.get("note"))
    db.commit()
    return jsonify(listing.public_json(db, p))


@bp.post("/<int:pid>/election-key")
def election_key(pid: int) -> Any:
    api_user("moderator")
    db = get_session()
    p = common.get_petition(db, pid)
    decisions.set_election_key(db, p, json_body())
    db.commit()
    return jsonify(listing.public_json(db, p))


@bp.post("/<int:pid>/thresholds")
def thresholds(pid: int) -> Any:
    api_user("moderator")
    data = json_body()
    db = get_session()
    p = common.get_petition(db, pid)
    decisions.set_thresholds(db, p, data.get("response"), data.get("debate"))
    db.commit()
    return jsonify(listing.public_json(db, p))


@bp.post("/<int:pid>/response")
def response(pid: int) -> Any:
    api_user("moderator")
    db = get_session()
    p = common.get_petition(db, pid)
    counts.maybe_refresh(db, p)
    decisions.respond(db, p, json_body().get("text"))
    db.commit()
    return jsonify(listing.public_json(db, p))


@bp.post("/<int:pid>/debate")
def debate(pid: int) -> Any:
    api_user("moderator")
    db = get_session()
    p = common.get_petition(db, pid)
    counts.maybe_refresh(db, p)
    decisions.record_debate(db, p, json_body().get("text"))
    db.commit()
    return jsonify(listing.public_json(db, p))


@bp.post("/<int:pid>/close")
def close(pid: int) -> Any:
    api_user("moderator")
    db = get_session()
    p = common.get_petition(db, pid)
    t = decisions.close(db, p)
    db.commit()
    data = listing.public_json(db, p)
    data["tally"] = region_tally.tally_json(p, t)
    return jsonify(data)


@bp.post("/<int:pid>/tallies")
def request_tally(pid: int) -> Any:
    api_user("moderator")
    db = get_session()
    p = common.get_petition(db, pid)
    t = region_tally.request_tally(db, p)
    db.commit()
    return jsonify(region_tally.tally_json(p, t)), 201


@bp.post("/<int:pid>/tallies/<int:tid>/partials")
def post_partial(pid: int, tid: int) -> Any:
    user = api_user("trustee")
    data = json_body()
    db = get_session()
    p = common.get_petition(db, pid)
    t = region_tally.get_tally(db, p, tid)
    partial = data.get("partial")
    if isinstance(partial, dict) and isinstance(partial.get("index"), int):
        user_service.check_trustee_index(user, partial["index"])
    region_tally.add_partial(db, p, t, data.get("partial"))
    db.commit()
    return jsonify(region_tally.tally_json(p, t)), 201


@bp.get("/flags")
def list_flags() -> Any:
    api_user("moderator")
    status = request.args.get("status", "open")
    if status not in ("open", "dismissed", "invalidated", "all"):
        raise ApiError(400, "invalid_parameter", "status must be open, dismissed, invalidated or all")
    rows = fraud.flags(get_session(), None if status == "all" else status)
    return jsonify({"flags": [fraud.flag_json(f) for f in rows]})


@bp.post("/<int:pid>/flags")
def add_flag(pid: int) -> Any:
    """A moderator flags a board entry for review by hand."""
    api_user("moderator")
    data = json_body()
    db = get_session()
    p = common.get_petition(db, pid)
    index = data.get("board_index")
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < p.board_size:
        raise ApiError(400, "invalid_body", "board_index must be an index on the board")
    detail = data.get("detail", "")
    f = fraud.flag_signature(db, p, index, "manual", detail if isinstance(detail, str) else "")
    db.commit()
    return jsonify(fraud.flag_json(f)), 201


@bp.post("/flags/<int:fid>/dismiss")
def dismiss_flag(fid: int) -> Any:
    api_user("moderator")
    db = get_session()
    f = db.get(PetitionFlag, fid)
    if f is None:
        raise ApiError(404, "not_found", "unknown flag")
    f.status = "dismissed"
    db.commit()
    return jsonify(fraud.flag_json(f))


@bp.post("/<int:pid>/invalidations")
def invalidate(pid: int) -> Any:
    """Append an invalidation entry for a (flagged) signature; returns its receipt."""
    api_user("moderator")
    data = json_body()
    db = get_session()
    p = common.get_petition(db, pid)
    out = fraud.invalidate(db, p, data.get("target_index"), data.get("reason_code"))
    return jsonify(out), 201


__all__ = ["bp", "lifecycle"]
