"""Log in with a password or a one-time link (confirmed by POST), log out."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from app.db import get_session
from app.extensions import limiter
from app.hardening import account_key, account_limit, safe_next
from app.security import login_user, logout_user
from app.services import users as user_service

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _safe_next(target: str | None) -> str:
    return safe_next(target, url_for("index"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("20/minute", methods=["POST"])
@limiter.limit(account_limit, key_func=account_key, methods=["POST"])  # per account too
def login() -> Any:
    if request.method == "POST":
        email = request.form.get("email", "")
        password = request.form.get("password", "")
        db = get_session()
        user = user_service.authenticate(db, email, password) if email and password else None
        if user is None:
            flash(gettext("Wrong e-mail or password."), "error")
            return render_template("auth/login.html", email=email), 401
        login_user(user)
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", email="")


@bp.route("/link/<token>", methods=["GET", "POST"])
@limiter.limit("30/minute", methods=["POST"])
def link(token: str) -> Any:
    """GET shows a confirm button and consumes nothing (mail scanners follow links)."""
    db = get_session()
    if len(token) > 100:
        abort(404)
    if request.method == "GET":
        row = user_service.peek_login_token(db, token)
        return render_template("auth/link.html", valid=row is not None, token=token)
    user = user_service.consume_login_token(db, token)
    if user is None:
        db.rollback()
        return render_template("auth/link.html", valid=False, token=token), 400
    db.commit()
    login_user(user)
    current_app.logger.info("one-time link login for user %s", user.id)
    return redirect(_safe_next(request.args.get("next")))


@bp.post("/logout")
def logout() -> Any:
    logout_user()
    return redirect(url_for("index"))
