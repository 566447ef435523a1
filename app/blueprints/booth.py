"""The voter's browser booth: vote (encrypted in the browser), receipts, receipt checks.

* ``GET /elections/<id>/booth`` — the voting page.  Login is needed only to get the voting
  card (the credential); voting with a saved card needs none, so that nothing ties the
  visit that casts to an account (docs §"Linkability").  All cryptography
  runs in the browser (``static/js/booth.js`` + ``saylau-crypto.js`` in a Web Worker);
  the page only talks to the JSON API ``/api/v1``.
* ``GET /elections/<id>/receipt/<tracker>`` — a public receipt page: the board entry's
  status and a QR code of this page's URL (inline SVG generated here, no script).
* ``GET /receipt`` — "check my receipt": verifies stored or pasted receipts against the
  board in the browser (``static/js/receipt.js``: STH signature, inclusion, consistency).
"""

from __future__ import annotations

import json
import re
from typing import Any

import qrcode
import qrcode.image.svg
from flask import Blueprint, abort, render_template, url_for
from markupsafe import Markup, escape
from sqlalchemy import select

from app.content import localized_manifest
from app.db import get_session
from app.errors import ApiError
from app.i18n import _
from app.models import Election, RollEntry
from app.security import current_user, login_required
from app.services import board as board_service
from app.services import elections as election_service

bp = Blueprint("booth", __name__)

_TRACKER_RE = re.compile(r"^[0-9a-f]{64}$")


def _public_election(election_id: str) -> Election:
    election = get_session().get(Election, election_id)
    if election is None or election.state == "draft":
        abort(404)
    return election


def booth_strings() -> dict[str, str]:
    """Messages booth.js and receipt.js show, in the request's language."""
    return {
        "loading": _("Loading the election…"),
        "fingerprint_ok": _("Election fingerprint checked."),
        "fingerprint_bad": _("The election fingerprint does not match: do not vote here."),
        "precomputing": _("Preparing encryption in the background…"),
        "precomputed": _("Ready to encrypt."),
        "choose": _("Please make a valid choice for every question."),
        "card_held": _("This device holds your voting card for this election."),
        "card_none_get": _("This device has no voting card for this election. Get your voting "
                           "card below, or import the one you saved."),
        "card_none_login": _("This device has no voting card for this election. Log in to get "
                             "your voting card, or import the one you saved."),
        "card_none_import": _("This device has no voting card for this election. Import the "
                              "voting card you saved (file or text) to vote here. A lost card "
                              "cannot be replaced."),
        "card_getting": _("Getting your voting card…"),
        "card_got": _("Your voting card is ready. Save it now (file or printout): you need it "
                      "to vote from another device, and it cannot be replaced if lost."),
        "card_imported": _("Voting card imported: this device can now vote for you."),
        "card_bad": _("This is not a valid voting card for this election."),
        "card_taken": _("A voting card was already issued to you (perhaps on another device). "
                        "Import the card you saved then: a lost card cannot be replaced, because "
                        "the issuer signed it blindly and cannot revoke it."),
        "encrypting": _("Encrypting your ballot…"),
        "encrypted": _("Your ballot is encrypted. Its tracker is shown below. Cast it, or check "
                       "that it was encrypted correctly."),
        "auditing": _("Opening the encryption to check it…"),
        "audit_ok": _("Confirmed: re-encrypting your choices gives exactly this ballot."),
        "audit_bad": _("WARNING: the encryption does NOT match your choices. Do not use this "
                       "device; report it."),
        "audit_posted": _("The checked ballot was published on the board as audited (never "
                          "counted)."),
        "casting": _("Casting your ballot…"),
        "cast_ok": _("Your ballot was cast. Keep your receipt."),
        "receipt_ok": _("The receipt verifies: your ballot is on the board."),
        "error": _("Something went wrong:"),
        "revoting": _("Choose again; your new ballot will replace the earlier one."),
        "none_selected": _("(no selection)"),
        "check_ok": _("Receipt holds: the ballot is on the board and the board is consistent "
                      "with your receipt."),
        "check_bad": _("Receipt check FAILED:"),
        "checking": _("Checking…"),
        "check_timeout": _("The check did not finish in 30 seconds. Press the button again."),
        "no_receipts": _("No receipts are stored in this browser."),
        "superseded": _("superseded by a later ballot"),
        "counted": _("counted"),
        "audited": _("audited (not counted)"),
        "check_button": _("Check against the board"),
        "view_receipt": _("Receipt page"),
        "roll_key_none": _("This browser has no roll key for this election. Load your roll key "
                           "card (the file you saved when you put your key on the roll) to get "
                           "your voting card."),
        "roll_key_held": _("This browser holds your roll key: it signs your request for the "
                           "voting card."),
        "roll_key_loaded": _("Roll key card loaded: it signs your request for the voting card."),
        "roll_key_bad": _("This is not a valid roll key card for this election."),
        "roll_key_not_on_roll": _("Your roll key is not on this election's published roll "
                                  "(keys are put on the roll before voting opens), or it is "
                                  "not the key you enrolled: no voting card can be issued "
                                  "against it."),
        "pki_needed": _("Choose your certificate file (PKCS#12) and enter its password: your "
                        "request for the voting card is signed with it."),
    }


@bp.get("/elections/<election_id>/booth")
def booth(election_id: str) -> Any:
    db = get_session()
    election = _public_election(election_id)
    user = current_user()
    on_roll = user is not None and db.scalars(select(RollEntry.id).where(
        RollEntry.election_id == election.id, RollEntry.user_id == user.id)).first() is not None
    info = election_service.public_json(db, election)
    try:
        election_service.issuing_credentials(election)
        issuing = True
    except ApiError:
        issuing = False
    return render_template(
        "booth/booth.html", election=election, on_roll=on_roll, logged_in=user is not None,
        can_get_card=issuing and on_roll, phase=info["phase"],
        manifest=localized_manifest(json.loads(election.manifest_json)), info=info,
        strings=booth_strings())


def qr_svg(data: str, label: str) -> Markup:
    """An inline, accessible SVG QR code of ``data`` (no style attributes, CSP-safe)."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=4)
    svg = image.to_string(encoding="unicode")
    svg = re.sub(r"^<\?xml[^>]*>\s*", "", svg)
    svg = re.sub(r'\swidth="[^"]*"\sheight="[^"]*"', "", svg, count=1)
    svg = svg.replace("<svg ", f'<svg class="qr" role="img" aria-label="{escape(label)}" ', 1)
    return Markup(svg)  # noqa: S704 - generated by qrcode from escaped input only


@bp.get("/elections/<election_id>/receipt/<tracker>")
def receipt(election_id: str, tracker: str) -> Any:
    election = _public_election(election_id)
    tracker = tracker.strip().lower()
    if not _TRACKER_RE.fullmatch(tracker):
        abort(404)
    row = board_service.by_tracker(get_session(), election.id, tracker)
    if row is None:
        abort(404)
    url = url_for("booth.receipt", election_id=election.id, tracker=tracker, _external=True)
    return render_template(
        "booth/receipt.html", election=election, row=row, url=url,
        qr=qr_svg(url, _("QR code of this receipt's address")), strings=booth_strings())


@bp.get("/receipt")
def check_receipt() -> Any:
    rows = get_session().scalars(select(Election).where(Election.state != "draft")
                                 .order_by(Election.id)).all()
    return render_template("booth/check.html", elections=rows, strings=booth_strings())


# -- PKI mode (issue 11, docs/protocol.md §2.7): enrolling a certificate from the browser --
@bp.get("/elections/<election_id>/enroll-certificate")
@login_required
def pki_enroll(election_id: str) -> Any:
    """The voter puts their certificate on the roll (PKI mode, before voting opens).

    The PKCS#12 file is opened in the browser (``static/js/pki-card.js``): only the
    certificate is POSTed to ``/api/v1/elections/<id>/enroll``; the key and password never
    leave the device.  A draft election is shown only to a logged-in voter on its roll.
    """
    db = get_session()
    election = db.get(Election, election_id)
    user = current_user()
    on_roll = election is not None and user is not None and db.scalars(select(RollEntry.id).where(
        RollEntry.election_id == election.id, RollEntry.user_id == user.id)).first() is not None
    if election is None or (election.state == "draft" and not on_roll):
        abort(404)
    return render_template("booth/pki_enroll.html", election=election, on_roll=on_roll)
