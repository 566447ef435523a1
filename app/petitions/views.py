"""HTML pages under ``/petitions``: list, petition, drafts, sponsors, moderation, sign placeholder.

Forms post with a CSRF token; e-mail confirmation is a POST (the GET only shows a button,
since mail scanners follow links).  No inline scripts: the signing page is a
``<div id="sign-app" data-…>`` for the browser client that talks to the JSON API.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from markupsafe import Markup
from sqlalchemy import select

from app.db import get_session
from app.errors import ApiError
from app.petitions import (
    citizens,
    common,
    counts,
    decisions,
    drafting,
    exports,
    fraud,
    labels,
    lifecycle,
    listing,
    parameters,
    region_tally,
)
from app.petitions.models import Petition
from app.security import current_user, login_required, role_required

bp = Blueprint("petitions", __name__, url_prefix="/petitions")
#: how many similar petitions the draft page lists (server-side, without JavaScript)
SIMILAR_LIMIT = 5


@bp.context_processor
def _label_helpers() -> dict[str, Any]:
    """``state_label``, ``reason_label``, ``region_label``… in the petition templates."""
    return dict(labels.TEMPLATE_HELPERS)


def _chart(regions: list[dict[str, Any]]) -> Markup:
    """The by-region bar chart with translated region names and title."""
    svg = exports.region_chart_svg(labels.translate_region_rows(regions),
                                   title=gettext("Signatures by region"))
    return Markup(svg)  # noqa: S704 - every label and the title are escaped


def _similar_to(db: Any, p: Petition | None) -> list[dict[str, Any]]:
    """Open (and pending) petitions like the draft's title, the draft itself left out."""
    if p is None or not p.title:
        return []
    return [s for s in listing.similar(db, p.title, limit=SIMILAR_LIMIT + 1) if s["id"] != p.id][:SIMILAR_LIMIT]


def _get(pid: int) -> Petition:
    db = get_session()
    try:
        p = common.get_petition(db, pid)
    except ApiError:
        abort(404)
    if not common.visible(p, current_user()):
        abort(404)
    return p


def _form() -> dict[str, Any]:
    data: dict[str, Any] = {k: request.form.get(k, "") for k in ("title", "action", "background", "details")}
    regions = request.form.getlist("regions")
    data["regions"] = regions or None
    return data


@bp.get("/")
def index() -> Any:
    db = get_session()
    state = request.args.get("state") or None
    q = (request.args.get("q") or "").strip()[:200] or None
    sort = request.args.get("sort", "signatures")
    page = request.args.get("page", "1")
    page_no = int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1
    try:
        rows, total = listing.list_petitions(db, state=state, q=q, sort=sort, page=page_no, per_page=20)
    except ApiError as exc:
        flash(exc.message, "error")
        rows, total = [], 0
    return render_template("petitions/list.html", petitions=[listing.summary_json(db, p) for p in rows],
                           total=total, page=page_no, state=state or "", q=q or "", sort=sort,
                           filters=lifecycle.PUBLIC_FILTERS)


@bp.get("/<int:pid>")
def show(pid: int) -> Any:
    db = get_session()
    p = _get(pid)
    counts.maybe_refresh(db, p)
    data = listing.public_json(db, p)
    chart = _chart(data["region_results"]["regions"]) if data["region_results"] else None
    user = current_user()
    return render_template("petitions/show.html", p=data, chart=chart,
                           is_creator=user is not None and user.id == p.creator_id,
                           is_moderator=user is not None and user.has_role("moderator"),
                           reasons=lifecycle.REJECTION_CODES)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> Any:
    regions = common.DEFAULT_REGIONS
    if request.method == "GET":
        return render_template("petitions/edit.html", form={}, regions=labels.region_options(regions),
                               selected=None, p=None, similar=[])
    db = get_session()
    user = current_user()
    assert user is not None
    try:
        p, token = drafting.create_draft(db, user, _form())
    except ApiError as exc:
        db.rollback()
        flash(exc.message, "error")
        return render_template("petitions/edit.html", form=request.form,
                               regions=labels.region_options(regions),
                               selected=request.form.getlist("regions"), p=None, similar=[]), exc.status
    db.commit()
    flash(gettext("Draft saved. Share this sponsor link once you submit it: %(link)s",
                  link=url_for("petitions.sponsor", pid=p.id, token=token, _external=True)),
          "info")
    return redirect(url_for("petitions.edit", pid=p.id))


@bp.route("/<int:pid>/edit", methods=["GET", "POST"])
@login_required
def edit(pid: int) -> Any:
    db = get_session()
    p = _get(pid)
    user = current_user()
    assert user is not None
    if user.id != p.creator_id:
        abort(403)
    selected = [r.id for r in parameters.regions_of(p)]
    if request.method == "POST":
        try:
            drafting.update_draft(db, p, user, _form())
            db.commit()
            flash(gettext("Draft saved."), "info")
            return redirect(url_for("petitions.edit", pid=p.id))
        except ApiError as exc:
            db.rollback()
            flash(exc.message, "error")
    form = {"title": p.title, "action": p.action, "background": p.background, "details": p.details}
    return render_template("petitions/edit.html", form=form,
                           regions=labels.region_options(common.DEFAULT_REGIONS),
                           selected=selected, p=p, similar=_similar_to(db, p))


@bp.post("/<int:pid>/submit")
@login_required
def submit(pid: int) -> Any:
    db = get_session()
    p = _get(pid)
    user = current_user()
    assert user is not None
    try:
        drafting.submit(db, p, user)
        db.commit()
        flash(gettext("Submitted: now share the sponsor link."), "info")
    except ApiError as exc:
        db.rollback()
        flash(exc.message, "error")
    return redirect(url_for("petitions.show", pid=p.id))


@bp.route("/<int:pid>/sponsor/<token>", methods=["GET", "POST"])
def sponsor(pid: int, token: str) -> Any:
    db = get_session()
    p = _get(pid)
    try:
        drafting.check_share_token(p, token)
    except ApiError:
        abort(404)
    if request.method == "POST":
        user = current_user()
        if user is None:
            return redirect(url_for("auth.login", next=request.path))
        try:
            drafting.add_sponsor(db, p, user, token)
            db.commit()
            flash(gettext("Thank you: you sponsor this petition."), "info")
        except ApiError as exc:
            db.rollback()
            flash(exc.message, "error")
        return redirect(url_for("petitions.sponsor", pid=p.id, token=token))
    return render_template("petitions/sponsor.html", p=listing.public_json(db, p), token=token)


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str) -> Any:
    if len(token) > 100:
        abort(404)
    if request.method == "GET":
        return render_template("petitions/confirm.html", token=token, done=False)
    db = get_session()
    try:
        citizens.confirm_token(db, token)
        db.commit()
    except ApiError as exc:
        db.rollback()
        flash(exc.message, "error")
        return render_template("petitions/confirm.html", token=token, done=False), 400
    return render_template("petitions/confirm.html", token=token, done=True)


@bp.post("/confirm-request")
@login_required
def confirm_request() -> Any:
    db = get_session()
    user = current_user()
    assert user is not None
    if not citizens.is_confirmed(db, user):
        citizens.request_confirmation(db, user, request.host_url)
        db.commit()
        flash(gettext("We sent you a confirmation link."), "info")
    return redirect(request.referrer or url_for("petitions.index"))


@bp.get("/<int:pid>/sign")
def sign(pid: int) -> Any:
    db = get_session()
    p = _get(pid)
    user = current_user()
    data = listing.public_json(db, p)
    data["regions"] = labels.translate_region_rows(data["regions"])
    return render_template("petitions/sign.html", p=data,
                           confirmed=user is not None and citizens.is_confirmed(db, user))


@bp.get("/moderation")
@role_required("moderator")
def moderation() -> Any:
    db = get_session()
    rows = db.scalars(select(Petition).where(Petition.state == "pending_moderation")
                      .order_by(Petition.submitted_at)).all()
    return render_template("petitions/moderation.html", petitions=[listing.public_json(db, p) for p in rows],
                           reasons=lifecycle.REJECTION_CODES,
                           flags=[fraud.flag_json(f) for f in fraud.flags(db)])


@bp.post("/<int:pid>/moderate")
@role_required("moderator")
def moderate(pid: int) -> Any:
    db = get_session()
    p = _get(pid)
    user = current_user()
    assert user is not None
    action = request.form.get("action", "")
    try:
        if action in ("approve", "reject"):
            decisions.moderate(db, p, user, action, request.form.get("reason_code") or None,
                               request.form.get("note", ""))
        elif action == "close":
            decisions.close(db, p)
        elif action == "respond":
            counts.maybe_refresh(db, p)
            decisions.respond(db, p, request.form.get("text", ""))
        elif action == "debate":
            counts.maybe_refresh(db, p)
            decisions.record_debate(db, p, request.form.get("text", ""))
        elif action == "tally":
            region_tally.request_tally(db, p)
        else:
            abort(400)
        db.commit()
        flash(gettext("Done."), "info")
    except ApiError as exc:
        db.rollback()
        flash(exc.message, "error")
    return redirect(url_for("petitions.show", pid=p.id))
