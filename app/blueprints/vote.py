"""Voter pages: the elections a voter is on the roll for (encryption happens client-side)."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, abort, render_template
from sqlalchemy import select

from app.content import localized_manifest
from app.db import get_session
from app.models import Election, RollEntry
from app.security import current_user, login_required
from app.services import elections as election_service

bp = Blueprint("vote", __name__, url_prefix="/vote")


def index() -> Any:
    user = current_user()
    elections: list[Election] = []
    if user is not None:
        db = get_session()
        elections = list(db.scalars(select(Election).join(
            RollEntry, RollEntry.election_id == Election.id).where(
            RollEntry.user_id == user.id).order_by(Election.id)).all())
    return render_template("index.html", elections=elections)


@bp.get("/<election_id>")
@login_required
def election(election_id: str) -> Any:
    db = get_session()
    user = current_user()
    e = db.get(Election, election_id)
    if e is None or e.state == "draft" or user is None:
        abort(404)
    on_roll = db.scalars(select(RollEntry.id).where(RollEntry.election_id == e.id,
                                                    RollEntry.user_id == user.id)).first()
    return render_template("vote/election.html", election=e, on_roll=on_roll is not None,
                           manifest=localized_manifest(json.loads(e.manifest_json)),
                           info=election_service.public_json(db, e))
