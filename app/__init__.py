"""The Saylau web application (Flask app factory, Flask-tutorial style).

``create_app(test_config=None)`` reads ``SAYLAU_*`` environment variables (see
:mod:`app.config`), refuses to start without a secret key outside testing, and
registers the blueprints: auth, admin (officials), vote (voters), board (public) and
api (``/api/v1``).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter


class _DbInteger(IntegerConverter):
    """``<int:…>`` capped at the databases' 32-bit INTEGER: a larger id is a 404, not a 500."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    from app import config as config_mod
    from app import db, errors, hardening, security
    from app.extensions import csrf, limiter

    app = Flask(__name__, instance_relative_config=True)
    app.url_map.converters["int"] = _DbInteger  # before any route is added
    app.config.update(config_mod.from_environment(app.instance_path))
    if test_config is not None:
        app.config.update(test_config)
    if app.config.get("TESTING"):
        app.config.setdefault("SECRET_KEY", None)
        if not app.config["SECRET_KEY"]:
            app.config["SECRET_KEY"] = secrets.token_hex(32)  # per-process, testing only
        app.config.setdefault("RATELIMIT_ENABLED", False)
    config_mod.check(app.config)
    os.makedirs(app.instance_path, exist_ok=True)

    db.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    security.register(app)
    errors.register(app)
    hardening.init_app(app)  # ProxyFix (PROXY_HOPS) and the edge input guard

    from app.blueprints import admin, api, auth, board, vote

    app.register_blueprint(auth.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(vote.bp)
    app.register_blueprint(board.bp)
    app.register_blueprint(api.bp)
    csrf.exempt(api.bp)  # JSON API: CSRF enforced per endpoint when the session authenticates

    app.add_url_rule("/", endpoint="index", view_func=vote.index)

    from app import i18n
    from app.blueprints import booth, results

    i18n.init_app(app)  # Flask-Babel (kk/ru/en) and /lang
    app.register_blueprint(booth.bp)  # /elections/<id>/booth, receipts
    app.register_blueprint(results.bp)  # results with charts, trustees' uploads

    from app.petitions import api as petitions_api
    from app.petitions import views as petitions_views

    app.register_blueprint(petitions_views.bp)  # /petitions
    app.register_blueprint(petitions_api.bp)  # /api/v1/petitions
    from app.petitions.batcher import APPEND_EXTENSION
    from app.petitions.signing import append_signatures

    app.extensions[APPEND_EXTENSION] = append_signatures  # injected: batcher never imports signing
    csrf.exempt(petitions_api.bp)  # JSON API: CSRF enforced per endpoint (app.blueprints.api.api_user)

    from app import keygen_relay

    app.register_blueprint(keygen_relay.bp)  # distributed key generation relay (docs §4.7)
    csrf.exempt(keygen_relay.bp)
    return app
