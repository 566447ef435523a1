"""Public board pages: browse entries, look up a tracker, check a receipt."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, abort, render_template, request
from sqlalchemy import select

from app.db import get_session
from app.i18n import _
from app.models import Election
from app.services import board as board_service
from app.services import elections as election_service
from app.services.receipts import ReceiptError, check_receipt_json

bp = Blueprint("board", __name__, url_prefix="/board")


def _election(election_id: str) -> Election:
    e = get_session().get(Election, election_id)
    if e is None or e.state == "draft":
        abort(404)
    return e


@bp.get("/")
def elections() -> Any:
    rows = get_session().scalars(select(Election).where(Election.state != "draft")
                                 .order_by(Election.id)).all()
    return render_template("board/elections.html", elections=rows)


@bp.get("/<election_id>")
def board(election_id: str) -> Any:
    e = _election(election_id)
    db = get_session()
    start = request.args.get("start", "0")
    start_i = int(start) if start.isdigit() and len(start) < 12 else 0
    rows = board_service.entries(db, e.id, start_i, 50)
    head = board_service.latest_head(db, e.id)
    return render_template("board/board.html", election=e, rows=rows, start=start_i,
                           head=board_service.head_json(head, e.id) if head else None,
                           info=election_service.public_json(db, e))


@bp.get("/<election_id>/t/<tracker>")
def tracker(election_id: str, tracker: str) -> Any:
    e = _election(election_id)
    row = board_service.by_tracker(get_session(), e.id, tracker.strip().lower()[:64])
    if row is None:
        abort(404)
    return render_template("board/entry.html", election=e, row=row,
                           entry=json.dumps(json.loads(row.entry_json), indent=2, sort_keys=True))


@bp.route("/<election_id>/check", methods=["GET", "POST"])
def check(election_id: str) -> Any:
    e = _election(election_id)
    result: str | None = None
    error: str | None = None
    if request.method == "POST":
        try:
            check_receipt_json(get_session(), e, request.form.get("receipt", ""))
            result = _("Your receipt holds: the ballot is on the board, and the board is "
                       "consistent with the tree head you were given.")
        except ReceiptError as exc:
            error = str(exc)
    return render_template("board/check.html", election=e, result=result, error=error)
