"""Configuration from the environment (``SAYLAU_*``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

MAX_CONTENT_LENGTH = 2 * 1024 * 1024  # 2 MiB


class ConfigError(RuntimeError):
    """The application is misconfigured and refuses to start."""


def from_environment(instance_path: str, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    env = os.environ if env is None else env
    db_default = "sqlite:///" + str(Path(instance_path) / "saylau.db")
    return {
        "SECRET_KEY": env.get("SAYLAU_SECRET_KEY"),
        "DATABASE_URL": env.get("SAYLAU_DATABASE_URL", db_default),
        "DATABASE_SCHEMA": env.get("SAYLAU_DATABASE_SCHEMA") or None,
        "MAIL_BACKEND": env.get("SAYLAU_MAIL_BACKEND", "outbox"),
        "OUTBOX_DIR": env.get("SAYLAU_OUTBOX_DIR", str(Path(instance_path) / "outbox")),
        "SMTP_HOST": env.get("SAYLAU_SMTP_HOST", "localhost"),
        "SMTP_PORT": int(env.get("SAYLAU_SMTP_PORT", "587")),
        "SMTP_USER": env.get("SAYLAU_SMTP_USER"),
        "SMTP_PASSWORD": env.get("SAYLAU_SMTP_PASSWORD"),
        "SMTP_FROM": env.get("SAYLAU_SMTP_FROM", "saylau@localhost"),
        "SMTP_STARTTLS": env.get("SAYLAU_SMTP_STARTTLS", "1") != "0",
        "RATELIMIT_STORAGE_URI": env.get("SAYLAU_RATELIMIT_STORAGE", "memory://"),
        "BASE_URL": env.get("SAYLAU_BASE_URL"),
        "DEMO": env.get("SAYLAU_DEMO", "") == "1",
        "SESSION_COOKIE_SECURE": env.get("SAYLAU_INSECURE_COOKIES", "") != "1",
        # trusted reverse proxies in front of the app (X-Forwarded-For/Proto/Host/Port)
        "PROXY_HOPS": _int(env.get("SAYLAU_PROXY_HOPS", "0"), "SAYLAU_PROXY_HOPS"),
    }


def _int(value: str, name: str) -> int:
    try:
        out = int(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer") from exc
    if not 0 <= out <= 10:
        raise ConfigError(f"{name} must be between 0 and 10")
    return out


def defaults() -> dict[str, Any]:
    return {
        "MAX_CONTENT_LENGTH": MAX_CONTENT_LENGTH,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_NAME": "saylau_session",
        "PERMANENT_SESSION_LIFETIME": 8 * 3600,
        "WTF_CSRF_TIME_LIMIT": 8 * 3600,
        "WTF_CSRF_SSL_STRICT": False,
        "RATELIMIT_HEADERS_ENABLED": True,
        "LOGIN_TOKEN_TTL_S": 72 * 3600,
        "API_TOKEN_TTL_S": 8 * 3600,
        "ALLOW_TEST_KEYS": False,
        "JSON_SORT_KEYS": False,
    }


def check(config: Mapping[str, Any]) -> None:
    """Refuse unsafe configurations (DESIGN §6.8: no default secret key)."""
    secret = config.get("SECRET_KEY")
    if not config.get("TESTING"):
        if not secret:
            raise ConfigError(
                "SAYLAU_SECRET_KEY is not set: refusing to start. Set it to a long random value, "
                "e.g. SAYLAU_SECRET_KEY=$(python -c 'import secrets; print(secrets.token_hex(32))')"
            )
        if len(str(secret)) < 16:
            raise ConfigError("SAYLAU_SECRET_KEY is too short (at least 16 characters)")
    if config.get("MAIL_BACKEND") not in {"outbox", "smtp"}:
        raise ConfigError("SAYLAU_MAIL_BACKEND must be 'outbox' or 'smtp'")
