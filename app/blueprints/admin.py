"""Official pages: create and configure elections, roll, key, invitations, open, close."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app import jsontext
from app.db import get_session
from app.errors import ApiError
from app.i18n import _
from app.models import Election
from app.security import current_user, role_required
from app.services import elections as election_service
from app.services import roll as roll_service

bp = Blueprint("admin", __name__, url_prefix="/admin")

MAX_UPLOAD = 20 * 1024 * 1024


def parse_questions(text: str) -> list[dict[str, Any]]:
    """One question per line: ``id | title | min | max | opt=Label; opt=Label`` or ``id | title | yesno``."""
    questions: list[dict[str, Any]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 3 and parts[2].lower() in {"yesno", "yes/no"}:
            questions.append({"id": parts[0], "title": parts[1], "min_selections": 1,
                              "max_selections": 1, "options": [{"id": "yes", "label": "Yes"},
                                                               {"id": "no", "label": "No"}]})
            continue
        if len(parts) != 5 or not parts[2].isdigit() or not parts[3].isdigit():
            raise ApiError(400, "invalid_manifest", f"question line {number}: expected "
                           "'id | title | min | max | opt=Label; opt=Label' or 'id | title | yesno'")
        options = []
        for item in parts[4].split(";"):
            if not item.strip():
                continue
            oid, _, label = item.partition("=")
            options.append({"id": oid.strip(), "label": (label or oid).strip()})
        questions.append({"id": parts[0], "title": parts[1], "min_selections": int(parts[2]),
                          "max_selections": int(parts[3]), "options": options})
    if not questions:
        raise ApiError(400, "invalid_manifest", "add at least one question")
    return questions


#: the languages of the "Translations" section of the new-election form
TRANSLATION_LANGUAGES = ("kk", "ru", "en")


def parse_labels(form: Any) -> dict[str, dict[str, str]]:
    """The "Translations" section: ``title_<lang>`` and ``labels_<lang>`` (``key = text`` lines).

    Keys are a question id or ``question id/option id`` (docs/protocol.md §1.4); blank
    fields are skipped.  Returns the manifest's ``labels`` map (empty: no translations).
    """
    labels: dict[str, dict[str, str]] = {}
    for lang in TRANSLATION_LANGUAGES:
        title = (form.get(f"title_{lang}") or "").strip()
        if title:
            labels.setdefault("title", {})[lang] = title
        for number, raw in enumerate((form.get(f"labels_{lang}") or "").splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            key, sep, text = line.partition("=")
            if not sep or not key.strip() or not text.strip():
                raise ApiError(400, "invalid_manifest",
                               f"translations ({lang}) line {number}: expected 'id = text' or 'id/option = text'")
            labels.setdefault(key.strip(), {})[lang] = text.strip()
    return labels


@bp.context_processor
def _tally_context() -> dict[str, Any]:
    """``tally_progress(election)`` for the election page (trustees' uploads, k of ℓ)."""
    from app.blueprints.results import tally_progress

    return {"tally_progress": lambda e: tally_progress(get_session(), e)}


def _form_error(exc: ApiError, template: str, status: int = 400, **context: Any) -> Any:
    flash(exc.message, "error")
    return render_template(template, **context), status


@bp.get("/")
@role_required("official")
def index() -> Any:
    rows = get_session().scalars(select(Election).order_by(Election.created_at.desc())).all()
    return render_template("admin/index.html", elections=rows)


@bp.route("/elections/new", methods=["GET", "POST"])
@role_required("official")
def new() -> Any:
    form = request.form
    if request.method == "GET":
        return render_template("admin/new.html", form={})
    db = get_session()
    try:
        manifest = election_service.manifest_from_form(
            form.get("id", "").strip(), form.get("title", "").strip(),
            parse_questions(form.get("questions", "")), parse_labels(form))
        user = current_user()
        election = election_service.create_election(
            db, manifest, revote_policy=form.get("revote_policy", "no-revote"),
            credential_policy=form.get("credential_policy", "period"),
            opens_at=election_service.parse_datetime(form.get("opens_at"), "opens at"),
            closes_at=election_service.parse_datetime(form.get("closes_at"), "closes at"),
            created_by=user.id if user else None,
            issuer_key=current_app.config.get("TEST_ISSUER_KEY"),
            credential_mode=form.get("credential_mode", "enrolled"))
    except ApiError as exc:
        db.rollback()
        return _form_error(exc, "admin/new.html", form=form)
    db.commit()
    flash(_("Election %(id)s created (draft). Its issuer key is published.", id=election.id), "ok")
    return redirect(url_for("admin.election", election_id=election.id))


def _load(election_id: str) -> Election:
    return election_service.get_election(get_session(), election_id)


@bp.get("/elections/<election_id>")
@role_required("official")
def election(election_id: str) -> Any:
    e = _load(election_id)
    db = get_session()
    return render_template("admin/election.html", election=e,
                           info=election_service.public_json(db, e),
                           can_generate=bool(current_app.config.get("TESTING")
                                             or current_app.config.get("DEMO")))


def _action(election_id: str, fn: Any, ok: str) -> Any:
    db = get_session()
    e = _load(election_id)
    try:
        fn(db, e)
    except ApiError as exc:
        db.rollback()
        flash(exc.message, "error")
        return render_template("admin/election.html", election=e,
                               info=election_service.public_json(db, e),
                               can_generate=bool(current_app.config.get("TESTING")
                                                 or current_app.config.get("DEMO"))), exc.status
    db.commit()
    flash(ok, "ok")
    return redirect(url_for("admin.election", election_id=election_id))


@bp.post("/elections/<election_id>/settings")
@role_required("official")
def settings(election_id: str) -> Any:
    form = request.form

    def apply(db: Any, e: Election) -> None:
        election_service.update_draft(
            db, e, revote_policy=form.get("revote_policy") or None,
            credential_policy=form.get("credential_policy") or None,
            opens_at=election_service.parse_datetime(form.get("opens_at"), "opens at"),
            closes_at=election_service.parse_datetime(form.get("closes_at"), "closes at"))

    return _action(election_id, apply, _("Settings saved."))


@bp.post("/elections/<election_id>/key")
@role_required("official")
def key(election_id: str) -> Any:
    upload = request.files.get("key_file")
    text = upload.read(MAX_UPLOAD).decode("utf-8", "replace") if upload else \
        request.form.get("key_json", "")

    def apply(db: Any, e: Election) -> None:
        try:
            data = jsontext.loads(text)
        except ValueError as exc:
            raise ApiError(400, "invalid_key", "the key file is not JSON") from exc
        election_service.set_election_key(
            db, e, data, allow_test_key=bool(current_app.config.get("ALLOW_TEST_KEYS")))

    return _action(election_id, apply, _("Election public key stored."))


@bp.post("/elections/<election_id>/generate-test-key")
@role_required("official")
def generate_test_key(election_id: str) -> Any:
    if not (current_app.config.get("TESTING") or current_app.config.get("DEMO")):
        flash(_("Test keys are available only in testing or demo mode."), "error")
        return redirect(url_for("admin.election", election_id=election_id))

    def apply(db: Any, e: Election) -> None:
        bits = int(current_app.config.get("TEST_ELECTION_KEY_BITS", 2048))
        tpk, _shares = election_service.generate_election_key(bits, 2, 3, allow_test_key=True)
        election_service.set_election_key(db, e, tpk.to_json(), allow_test_key=True)
        e.insecure_test_keys = True  # the dealer's shares were discarded: demo only

    return _action(election_id, apply, _("A TEST election key was generated (demo only)."))


@bp.post("/elections/<election_id>/roll")
@role_required("official")
def roll(election_id: str) -> Any:
    upload = request.files.get("roll_file")
    text = upload.read(MAX_UPLOAD).decode("utf-8", "replace") if upload and upload.filename \
        else request.form.get("roll_csv", "")
    db = get_session()
    e = _load(election_id)
    try:
        added = roll_service.import_roll(db, e, text)
    except roll_service.RollError as exc:
        db.rollback()
        return render_template("admin/election.html", election=e,
                               info=election_service.public_json(db, e), roll_errors=exc.errors,
                               can_generate=bool(current_app.config.get("TESTING")
                                                 or current_app.config.get("DEMO"))), 400
    db.commit()
    flash(_("%(n)s voters imported.", n=added), "ok")
    return redirect(url_for("admin.election", election_id=election_id))


@bp.post("/elections/<election_id>/invite")
@role_required("official")
def invite(election_id: str) -> Any:
    base = current_app.config.get("BASE_URL") or request.host_url

    def apply(db: Any, e: Election) -> None:
        n = roll_service.send_invitations(db, e, base, current_app.config["LOGIN_TOKEN_TTL_S"])
        flash(_("%(n)s invitations sent.", n=n), "ok")

    return _action(election_id, apply, _("Invitations done."))


@bp.post("/elections/<election_id>/open")
@role_required("official")
def open_(election_id: str) -> Any:
    return _action(election_id, election_service.open_election,
                   _("The election is open; its setup is frozen and its fingerprint published."))


@bp.post("/elections/<election_id>/start-voting")
@role_required("official")
def start_voting(election_id: str) -> Any:
    return _action(election_id, election_service.start_voting,
                   _("The credential period is over; voting is open."))


@bp.post("/elections/<election_id>/close")
@role_required("official")
def close(election_id: str) -> Any:
    if request.form.get("confirm") != "yes":  # the page's check box: closing cannot be undone
        flash(_("Not closed: tick the box to confirm that you want to close the election."), "error")
        return redirect(url_for("admin.election", election_id=election_id))
    return _action(election_id, election_service.close_election,
                   _("The election is closed; the final tree head is signed (frozen board)."))
