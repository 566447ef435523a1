"""Open data of ``/api/v1/petitions``: lists, petitions, boards, tree heads, proofs, tallies, records."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from flask.blueprints import BlueprintSetupState

from app.db import get_session
from app.errors import ApiError
from app.petitions import (
    board_log,
    common,
    counts,
    listing,
    petition_record,
    region_tally,
    signing,
)
from app.petitions.api_common import (
    _csv_response,
    _int_arg,
    _petition,
    _wants_csv,
    bp,
)


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
    """The verifiable petition record (``saylau verify``) once a region tally is decrypted."""
    p = _petition(pid)
    blob = petition_record.record_zip(get_session(), p)
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


