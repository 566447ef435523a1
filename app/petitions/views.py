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
    region_map,
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


def _region_view(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The map, its legend and the table rows (translated names, counts, shares) for the page."""
    translated = labels.translate_region_rows(rows)
    total = sum(int(r["count"]) for r in translated)
    table = [{**r, "share": (100.0 * int(r["count"]) / total) if total else 0.0} for r in translated]
    top = max([int(r["count"]) for r in translated] + [0])
    svg = region_map.region_map_svg(
        translated, title=gettext("Map of Kazakhstan: signatures by region"),
        desc=gettext("Darker regions have more signatures. The same numbers are in the table "
                     "below the map."),
        region_title=lambda name, n: gettext("%(region)s: %(num)s", region=name, num=labels.number(n)))
    return {"map": Markup(svg),  # noqa: S704 - region names and titles are escaped
            "legend": region_map.legend(top), "table": table, "total": total}


def _share_links(p: Petition) -> dict[str, str]:
    """Where to share the petition: its public URL and ready-made links (no tracking scripts)."""
    from urllib.parse import quote

    url = url_for("petitions.show", pid=p.id, _external=True)
    text = quote(f"{p.title} {url}")
    return {"url": url, "email": f"mailto:?subject={quote(p.title)}&body={quote(url)}",
            "telegram": f"https://t.me/share/url?url={quote(url, safe='')}&text={quote(p.title)}",
            "whatsapp": f"https://wa.me/?text={text}"}


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
    data["translations"] = {key: {lang: request.form.get(f"{key}_{lang}", "") for lang in ("kk", "ru", "en")}
                            for key in ("title", "action")}
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
    regions_view = _region_view(data["region_results"]["regions"]) if data["region_results"] else None
    user = current_user()
    return render_template("petitions/show.html", p=data, chart=chart, regions_view=regions_view,
                           share=_share_links(p),
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
    for key, texts in listing.translations_of(p).items():
        form.update({f"{key}_{lang}": text for lang, text in texts.items()})
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
    db = get_session()
    if request.method == "GET":
        if not citizens.token_usable(db, token):
            return render_template("petitions/confirm.html", token=token, done=False, bad=True), 400
        return render_template("petitions/confirm.html", token=token, done=False)
    try:
        citizens.confirm_token(db, token)
        db.commit()
    except ApiError:
        db.rollback()
        return render_template("petitions/confirm.html", token=token, done=False, bad=True), 400
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
            t = region_tally.request_tally(db, p)
            db.commit()
            flash(gettext("Region tally %(id)s requested over %(size)s board entries. The trustees "
                          "decrypt it on their Trustees page or with saylau trustee "
                          "petition-decrypt; the map appears here once enough have.",
                          id=t.id, size=t.tree_size), "ok")
            return redirect(url_for("petitions.show", pid=p.id))
        else:
            abort(400)
        db.commit()
        flash(gettext("Done."), "info")
    except ApiError as exc:
        db.rollback()
        flash(exc.message, "error")
    return redirect(url_for("petitions.show", pid=p.id))


# -- trustees ----------------------------------------------------------------------------------
def tallies_for_trustees(db: Any) -> list[dict[str, Any]]:
    """Region tallies of open or closed petitions, newest first, with partials in and needed."""
    import json

    from app.petitions.models import PetitionTally

    rows = db.execute(select(PetitionTally, Petition).join(Petition, Petition.id == PetitionTally.petition_id)
                      .where(Petition.state.in_(("open", "closed")))
                      .order_by(PetitionTally.id.desc()).limit(50)).all()
    out = []
    for t, p in rows:
        key = json.loads(p.election_key_json) if p.election_key_json else {}
        out.append({"id": t.id, "petition_id": p.id, "title": p.title, "tree_size": t.tree_size,
                    "count": t.count, "partials": len(json.loads(t.partials_json)),
                    "threshold": key.get("threshold", 0), "decrypted": t.results_json is not None})
    return out


@bp.get("/trustee")
@role_required("trustee")
def trustee() -> Any:
    """Petition region tallies for the trustees: what to run, and the upload form."""
    return render_template("petitions/trustee.html", tallies=tallies_for_trustees(get_session()),
                           server=request.host_url.rstrip("/"))


@bp.post("/<int:pid>/tallies/<int:tid>/partial")
@role_required("trustee")
def upload_partial(pid: int, tid: int) -> Any:
    """A trustee's ``petition-decrypt`` output (a file); the proof is checked before it is kept."""
    import json

    db = get_session()
    p = _get(pid)
    upload = request.files.get("partial_file")
    try:
        doc = json.loads(upload.read(1_000_000).decode("utf-8")) if upload else None
    except (UnicodeDecodeError, ValueError):
        doc = None
    if not isinstance(doc, dict):
        flash(gettext("That file is not a partial decryption (JSON made by saylau trustee "
                      "petition-decrypt)."), "error")
        return redirect(url_for("petitions.trustee")), 303
    if "partial" in doc and (doc.get("petition_id") != pid or doc.get("tally_id") != tid):
        flash(gettext("That file is for another petition or tally."), "error")
        return redirect(url_for("petitions.trustee")), 303
    try:
        t = region_tally.get_tally(db, p, tid)
        region_tally.add_partial(db, p, t, doc.get("partial", doc))
        db.commit()
    except ApiError as exc:
        db.rollback()
        messages = {
            "invalid_partial": gettext("The partial decryption was refused: its proof does not "
                                       "verify for this tally."),
            "duplicate_partial": gettext("Your partial decryption for this tally is already in."),
            "decrypted": gettext("This tally is already decrypted."),
        }
        flash(messages.get(exc.code, exc.message), "error")
        return redirect(url_for("petitions.trustee")), 303
    if t.results_json is not None:
        flash(gettext("Accepted. The by-region counts are published."), "ok")
        return redirect(url_for("petitions.show", pid=p.id)), 303
    flash(gettext("Accepted. Waiting for more trustees."), "ok")
    return redirect(url_for("petitions.trustee")), 303
