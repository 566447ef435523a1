"""Public results pages and the trustees' pages (server-rendered, no script).

* ``GET /elections/<id>/results`` — public.  Before the tally: the state and, once
  closed, how many of the ``k`` needed trustees have uploaded.  Once tallied: per
  question a horizontal bar chart as inline, accessible SVG (``<title>``/``<desc>``,
  text labels with counts and percentages) plus a plain table, the counted ballots,
  the credentials issued and how to verify everything with ``saylau verify``.
* ``GET /trustee/`` and ``GET|POST /trustee/elections/<id>`` — users with the
  ``trustee`` role: the encrypted tally's hash and size, the ``saylau trustee decrypt``
  instructions and a (CSRF-protected) upload form for the partial decryptions, checked by
  :func:`app.services.tally.accept_partials` exactly as the API does.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from markupsafe import Markup, escape
from sqlalchemy import select

from app import jsontext
from app.content import localized_manifest
from app.db import get_session
from app.errors import ApiError
from app.i18n import _
from app.models import Election
from app.security import current_user, role_required
from app.services import elections as election_service
from app.services import record as record_service
from app.services import tally as tally_service
from crypto.encoding import canonical_json

bp = Blueprint("results", __name__)

#: the largest partials file accepted through the form (the API's body limit applies too)
MAX_PARTIALS = 5 * 1024 * 1024

#: the checks ``saylau verify`` runs (``audit.verifier``), in order, as shown to the public
VERIFIER_CHECKS = (
    "record-index", "record-format", "election-fingerprint", "tree-heads", "board-merkle",
    "board-entries", "credentials", "ballot-signatures", "ballot-proofs", "audited-ballots",
    "ciphertext-copies", "revote-chains", "issuance", "encrypted-tally",
    "partial-decryptions", "decryption", "results", "receipt",
)


def verifier_checks() -> list[tuple[str, str]]:
    """(check name, what it means) in the request's language."""
    text = {
        "record-index": _("the record index is signed by the board key and lists exactly "
                          "the files in the record"),
        "record-format": _("every file follows the published JSON Schema"),
        "election-fingerprint": _("the election fingerprint, recomputed from the manifest and "
                                  "the keys, is the published one"),
        "tree-heads": _("every signed tree head carries a valid board signature"),
        "board-merkle": _("the board's Merkle tree matches every signed tree head (the board "
                          "only grew)"),
        "board-entries": _("every entry is at its index, of a known kind, for this election"),
        "credentials": _("every credential carries the issuer's blind signature for this "
                         "election"),
        "ballot-signatures": _("every ballot is signed by its credential's ballot key"),
        "ballot-proofs": _("every 0/1 and selection-count proof verifies"),
        "audited-ballots": _("every audited ballot opens to its revealed choices"),
        "ciphertext-copies": _("no ciphertext appears twice (no copied ballots)"),
        "revote-chains": _("revotes replace the same credential's previous ballot"),
        "issuance": _("ballots counted ≤ credentials issued"),
        "encrypted-tally": _("the encrypted tally is the product of exactly the counted "
                             "ballots"),
        "partial-decryptions": _("every trustee's partial decryption carries a valid proof"),
        "decryption": _("combining the partial decryptions gives the tally"),
        "results": _("the published results equal the decrypted tally"),
        "receipt": _("with --receipt: your ballot is on the board, included as your receipt "
                     "says"),
    }
    return [(name, text[name]) for name in VERIFIER_CHECKS]


def _public_election(election_id: str) -> Election:
    election = get_session().get(Election, election_id)
    if election is None or election.state == "draft":
        abort(404)
    return election


@dataclass(frozen=True)
class Bar:
    option_id: str
    label: str
    count: int
    percent: float


def _bars(question: dict[str, Any], counts: dict[str, int], ballots: int) -> list[Bar]:
    bars = []
    for option in question["options"]:
        count = int(counts.get(option["id"], 0))
        percent = 100.0 * count / ballots if ballots else 0.0
        bars.append(Bar(option["id"], option["label"], count, percent))
    return bars


def _fmt_percent(value: float) -> str:
    return f"{value:.1f}%"


def bar_chart_svg(chart_id: str, title: str, bars: list[Bar], ballots: int) -> Markup:
    """A horizontal bar chart as inline SVG (presentation attributes only: CSP-safe).

    Each bar's width is proportional to its count (the longest bar is the largest count);
    every bar has a text label with the option, the count and the percentage of ballots.
    """
    label_w, bar_w, row_h, pad = 200, 300, 34, 8
    width = label_w + bar_w + 150
    height = pad * 2 + row_h * max(len(bars), 1)
    top = max((b.count for b in bars), default=0)
    desc = "; ".join(_("%(label)s: %(count)s votes (%(percent)s)", label=b.label, count=b.count,
                       percent=_fmt_percent(b.percent)) for b in bars)
    desc = _("%(n)s ballots counted.", n=ballots) + " " + desc
    parts = [
        f'<svg class="chart" id="{escape(chart_id)}" role="img" viewBox="0 0 {width} {height}" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" aria-labelledby="{escape(chart_id)}-title '
        f'{escape(chart_id)}-desc">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(desc)}</desc>',
    ]
    for i, b in enumerate(bars):
        y = pad + i * row_h
        length = round(bar_w * b.count / top) if top else 0
        label = b.label if len(b.label) <= 26 else b.label[:25] + "…"
        parts.append(
            f'<g class="bar" data-option="{escape(b.option_id)}">'
            f'<text class="bar-label" x="{label_w - 8}" y="{y + row_h / 2 + 5}" '
            f'text-anchor="end" fill="#1b1f24" font-size="15">{escape(label)}</text>'
            f'<rect class="bar-track" x="{label_w}" y="{y + 5}" width="{bar_w}" '
            f'height="{row_h - 10}" rx="3" fill="#eaeef2"/>'
            f'<rect class="bar-fill" x="{label_w}" y="{y + 5}" width="{length}" '
            f'height="{row_h - 10}" rx="3" fill="#0b5cad"/>'
            f'<text class="bar-value" x="{label_w + bar_w + 8}" y="{y + row_h / 2 + 5}" '
            f'fill="#1b1f24" font-size="15">'
            f'{b.count} ({escape(_fmt_percent(b.percent))})</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated value is escaped


def tally_progress(db: Any, election: Election) -> dict[str, Any]:
    """How many trustees uploaded, out of ``k`` needed (of ``ℓ``)."""
    key = json.loads(election.election_key_json) if election.election_key_json else {}
    uploaded = [row["trustee_index"]
                for row in record_service.list_partial_decryptions(db, election.id)]
    return {"threshold": key.get("threshold"), "trustees": key.get("trustees"),
            "uploaded": len(uploaded), "uploaded_indices": uploaded}


@bp.get("/elections/<election_id>/results")
def results(election_id: str) -> Any:
    db = get_session()
    election = _public_election(election_id)
    info = election_service.public_json(db, election)
    manifest = localized_manifest(json.loads(election.manifest_json))
    stored = record_service.get_result(db, election.id) if election.state == "tallied" else None
    questions: list[dict[str, Any]] = []
    ballots = 0
    if stored is not None:
        ballots = int(stored.get("encrypted_tally", {}).get("ballots_counted", 0))
        for number, q in enumerate(manifest["questions"], start=1):
            bars = _bars(q, stored["results"].get(q["id"], {}), ballots)
            questions.append({"id": q["id"], "title": q["title"], "bars": bars,
                              "percents": [_fmt_percent(b.percent) for b in bars],
                              "svg": bar_chart_svg(f"chart-{number}", q["title"], bars, ballots)})
    return render_template(
        "results/results.html", election=election, info=info, questions=questions,
        ballots=ballots, progress=tally_progress(db, election), checks=verifier_checks(),
        record_name=f"{election.id}-record.zip")


# -- trustees ------------------------------------------------------------------------
def tally_summary(db: Any, election: Election) -> dict[str, Any]:
    """SHA-256 of the encrypted tally's canonical JSON, its size; or the reason it failed."""
    try:
        tally = tally_service.encrypted_tally(db, election.id)
    except ApiError as exc:
        return {"error": exc.message}
    data = canonical_json(tally.to_json())
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data),
            "ciphertexts": len(tally.items()), "ballots": len(tally.counted)}


@bp.get("/trustee/")
@role_required("trustee")
def trustee_index() -> Any:
    rows = get_session().scalars(select(Election).where(Election.state.in_(("closed", "tallied")))
                                 .order_by(Election.id)).all()
    db = get_session()
    return render_template("trustee/index.html", elections=rows,
                           progress={e.id: tally_progress(db, e) for e in rows})


def _upload_error_message(exc: ApiError) -> str:
    if exc.code == "invalid_partials":
        return _("The partial decryptions were rejected: they do not verify against this "
                 "election's tally and your verification key (%(detail)s).", detail=exc.message)
    if exc.code == "not_a_trustee":
        return _("The file names a trustee index that is not one of this election's "
                 "trustees.")
    if exc.code == "duplicate":
        return _("This trustee's partial decryptions were already uploaded.")
    if exc.code == "already_tallied":
        return _("The results are already published; no more uploads are needed.")
    if exc.code in {"not_closed", "board_invalid", "no_key"}:
        return _("Partial decryptions cannot be accepted now: %(detail)s", detail=exc.message)
    return _("The upload was refused: %(detail)s", detail=exc.message)


@bp.route("/trustee/elections/<election_id>", methods=["GET", "POST"])
@role_required("trustee")
def trustee_election(election_id: str) -> Any:
    db = get_session()
    election = _public_election(election_id)
    if request.method == "POST":
        return _upload(db, election)
    summary = tally_summary(db, election) if election.state in {"closed", "tallied"} else None
    return render_template("trustee/election.html", election=election,
                           info=election_service.public_json(db, election),
                           summary=summary, progress=tally_progress(db, election))


def _upload(db: Any, election: Election) -> Any:
    back = redirect(url_for("results.trustee_election", election_id=election.id), code=303)
    upload = request.files.get("partials_file")
    raw = upload.read(MAX_PARTIALS + 1) if upload is not None and upload.filename else b""
    if not raw:
        flash(_("Choose the partials JSON file written by saylau trustee decrypt."), "error")
        return back
    if len(raw) > MAX_PARTIALS:
        flash(_("The file is too large to be a partials file."), "error")
        return back
    try:
        data = jsontext.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        flash(_("The file is not JSON. Upload the partials.json file written by saylau "
                "trustee decrypt."), "error")
        return back
    if isinstance(data, dict) and data.get("election_id") not in (None, election.id):
        flash(_("This file is for another election (%(other)s).",
                other=str(data.get("election_id"))[:64]), "error")
        return back
    try:
        outcome = tally_service.accept_partials(db, election.id, data, uploader=current_user())
    except ApiError as exc:
        db.rollback()
        flash(_upload_error_message(exc), "error")
        return back
    db.commit()
    if outcome["published"]:
        flash(_("Trustee %(index)s's partial decryptions verify and were stored. With them "
                "%(k)s valid sets are in: the results are published.",
                index=outcome["trustee_index"], k=outcome["valid_sets"]), "ok")
    else:
        flash(_("Trustee %(index)s's partial decryptions verify and were stored "
                "(%(n)s of %(k)s needed).", index=outcome["trustee_index"],
                n=outcome["valid_sets"], k=outcome["threshold"]), "ok")
    return back
