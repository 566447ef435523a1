"""Public board pages: browse entries, look up a tracker, check a receipt."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from sqlalchemy import select

from app.db import get_session
from app.i18n import _
from app.models import BoardEntry, Election
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


_HEX = re.compile(r"^[0-9a-f]{1,64}$")
#: the shortest tracker prefix the search accepts (8 hex digits = 32 bits)
MIN_PREFIX = 8


def _not_found(e: Election, tracker: str) -> Any:
    """The translated "no such tracker" page (404) with the search form again."""
    return render_template("board/not_found.html", election=e, tracker=tracker[:64]), 404


def audit_view(e: Election, row: BoardEntry) -> dict[str, Any] | None:
    """An audited entry opened *on the server* with the Python checker (not the booth's JS).

    Re-encrypts every option with the revealed plaintext and randomness
    (:func:`crypto.ballot.verify_audited_ballot`, eq. P1) and names the revealed choices
    with the manifest's labels, in the reader's language when the manifest has them.
    """
    if row.kind != "audited":
        return None
    from app.content import label_in
    from crypto.ballot import BallotSecrets, EncryptedBallot, verify_audited_ballot
    from crypto.errors import CryptoError

    manifest = election_service.manifest_of(e)
    labels = json.loads(e.manifest_json).get("labels")
    try:
        entry = json.loads(row.entry_json)
        chosen = verify_audited_ballot(
            election_service.threshold_key(e).public, manifest,
            EncryptedBallot.from_json(entry.get("ballot")), BallotSecrets.from_json(entry.get("secrets")))
    except (CryptoError, KeyError, TypeError, ValueError) as exc:
        return {"ok": False, "error": str(exc), "choices": []}
    choices = []
    for q in manifest.questions:
        picked = [label_in(labels, f"{q.id}/{o.id}", o.label) for o in q.options if o.id in chosen.get(q.id, [])]
        choices.append({"question": label_in(labels, q.id, q.title), "options": picked})
    return {"ok": True, "error": None, "choices": choices}


@bp.get("/<election_id>/t/<tracker>")
def tracker(election_id: str, tracker: str) -> Any:
    e = _election(election_id)
    tracker = tracker.strip().lower()[:64]
    row = board_service.by_tracker(get_session(), e.id, tracker)
    if row is None:
        return _not_found(e, tracker)
    audit = audit_view(e, row)
    qr = None
    if audit is not None:
        from app.blueprints.booth import qr_svg

        qr = qr_svg(url_for("board.tracker", election_id=e.id, tracker=row.tracker, _external=True),
                    _("QR code of this check page's address"))
    return render_template("board/entry.html", election=e, row=row, audit=audit, qr=qr,
                           entry=json.dumps(json.loads(row.entry_json), indent=2, sort_keys=True))


@bp.get("/<election_id>/t/<tracker>.json")
def tracker_json(election_id: str, tracker: str) -> Any:
    """The entry itself, as a file (``saylau verify-audit --audited`` reads it)."""
    e = _election(election_id)
    row = board_service.by_tracker(get_session(), e.id, tracker.strip().lower()[:64])
    if row is None:
        return _not_found(e, tracker)
    return Response(row.entry_json, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="{row.kind}-{row.tracker[:12]}.json"'})


@bp.get("/<election_id>/search")
def search(election_id: str) -> Any:
    """Find an entry by its tracker, or by its first 8+ hex digits (what a voter writes down)."""
    e = _election(election_id)
    text = re.sub(r"[\s:-]", "", request.args.get("tracker", "")).lower()[:64]
    if not _HEX.fullmatch(text) or len(text) < MIN_PREFIX:
        return render_template("board/not_found.html", election=e, tracker=text,
                               short=True), 400
    rows = get_session().scalars(select(BoardEntry).where(
        BoardEntry.election_id == e.id, BoardEntry.tracker.startswith(text, autoescape=True))
        .order_by(BoardEntry.leaf_index).limit(20)).all()
    if len(rows) == 1:
        target = url_for("board.tracker", election_id=e.id, tracker=rows[0].tracker)
        lang = request.args.get("lang", "")
        if lang.isalpha() and len(lang) <= 8:  # keep the reader's language across the redirect
            target += f"?lang={lang}"
        return redirect(target)
    if not rows:
        return _not_found(e, text)
    return render_template("board/not_found.html", election=e, tracker=text, matches=rows)


def _receipt_text() -> str:
    upload = request.files.get("receipt_file")
    if upload is not None and upload.filename:
        try:
            return upload.read(200_000).decode("utf-8")
        except UnicodeDecodeError:
            return ""
    return request.form.get("receipt", "")


@bp.route("/<election_id>/check", methods=["GET", "POST"])
def check(election_id: str) -> Any:
    e = _election(election_id)
    result: str | None = None
    error: str | None = None
    if request.method == "POST":
        try:
            check_receipt_json(get_session(), e, _receipt_text())
            result = _("Your receipt holds: the ballot is on the board, and the board is "
                       "consistent with the tree head you were given.")
        except ReceiptError as exc:
            error = str(exc)
    return render_template("board/check.html", election=e, result=result, error=error)
