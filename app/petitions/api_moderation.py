"""``/api/v1/petitions`` for moderators and trustees: keys, thresholds, responses, closing, tallies, flags."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from app.blueprints.api import api_user, json_body
from app.db import get_session
from app.errors import ApiError
from app.petitions import (
    common,
    counts,
    decisions,
    fraud,
    lifecycle,
    listing,
    region_tally,
)
from app.petitions.api_common import (
    bp,
)
from app.petitions.models import Petition, PetitionFlag
from app.services import users as user_service


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

