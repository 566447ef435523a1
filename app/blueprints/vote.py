"""Voter pages: the elections a voter is on the roll for (encryption happens client-side)."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, abort, render_template
from sqlalchemy import select

from app.content import localized_manifest
from app.db import get_session
from app.i18n import _
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


def roll_key_strings() -> dict[str, str]:
    """Messages roll-key-page.js shows, in the request's language."""
    return {
        "none": _("You have not put a key on this election's roll yet."),
        "here": _("Your key is on the roll, and this browser holds it."),
        "elsewhere": _("You already put a key on the roll from another browser or device. "
                       "Making a new key here replaces it: the old roll key card then no "
                       "longer works."),
        "on_roll_not_here": _("Your key is on the roll, but this browser does not hold it: load "
                              "your roll key card in the voting booth."),
        "working": _("Making your key and putting it on the roll…"),
        "enrolled": _("Your key is on the roll. Save your roll key card now."),
        "checking": _("Checking…"),
        "check_ok": _("Your key is on the published roll exactly once, at position %(index)s, "
                      "and the roll is the one the election fingerprint binds."),
        "check_none": _("Neither this browser nor the server knows a key of yours for this "
                        "election: you did not enroll before voting opened."),
        "check_differs": _("WARNING: the key the server has for you is not the key this browser "
                           "holds. Report this to the election commission."),
        "check_bad": _("The roll check FAILED:"),
        "fingerprint_bad": _("The election fingerprint does not match: do not vote here."),
        "error": _("Something went wrong:"),
    }


@bp.get("/<election_id>/roll-key")
@login_required
def roll_key(election_id: str) -> Any:
    """Enrolled-key mode (docs/protocol.md §2.7): make a roll key in this browser and put it
    on the roll (before opening), save its card, and check the published roll (after)."""
    from app.services import roll as roll_service

    db = get_session()
    user = current_user()
    e = db.get(Election, election_id)
    if e is None or user is None:
        abort(404)
    on_roll = roll_service.roll_entry_of(db, e.id, user) is not None
    if e.state == "draft" and not on_roll:
        abort(404)  # a draft is visible only to the voters on its roll
    return render_template("vote/roll_key.html", election=e, on_roll=on_roll,
                           strings=roll_key_strings())
