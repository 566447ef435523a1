"""Every setting of the web app in one place: :class:`Settings` (typed, documented).

Loaded at start-up by :func:`from_environment` from, in increasing priority, the defaults
below, an optional file named by ``SAYLAU_CONFIG_FILE`` (TOML, or Python with UPPER_CASE
names like Flask's ``from_pyfile``) and ``SAYLAU_<NAME>`` environment variables (Flask's
prefixed-env convention; values are converted to the setting's type).  Unknown
``SAYLAU_*`` variables and test-only flags outside testing/demo refuse the start
(:class:`ConfigError`).  ``docs/configuration.md`` is generated from this module:
``python -m app.config`` rewrites it.
"""

from __future__ import annotations

import dataclasses
import os
import runpy
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app

MAX_CONTENT_LENGTH = 2 * 1024 * 1024  # 2 MiB
PREFIX = "SAYLAU_"
#: ``SAYLAU_*`` variables that are not settings (read by the CLI, the file loader or tests).
NOT_SETTINGS = frozenset({"SAYLAU_CONFIG_FILE", "SAYLAU_INSTANCE", "SAYLAU_TEST_PG_URL",
                          "SAYLAU_FUZZ_EXAMPLES", "SAYLAU_AXE_ALL",
                          "SAYLAU_VERIFY_ALLOW_TEST_KEYS"})
#: Older variable names that keep working: ``variable -> (setting, converter)``.
LEGACY_ENV: dict[str, tuple[str, Any]] = {
    "SAYLAU_RATELIMIT_STORAGE": ("RATELIMIT_STORAGE_URI", str),
    "SAYLAU_INSECURE_COOKIES": ("SESSION_COOKIE_SECURE", lambda v: v != "1"),
}


class ConfigError(RuntimeError):
    """The application is misconfigured and refuses to start."""


def _s(default: Any, doc: str, *, test_only: bool = False, group: str = "web") -> Any:
    return field(default=default, metadata={"doc": doc, "test_only": test_only, "group": group})


@dataclass(frozen=True)
class Settings:
    """The app's settings; each is ``app.config[NAME]`` and ``SAYLAU_NAME`` in the environment."""

    SECRET_KEY: str | None = _s(None, "Session and CSRF key; required outside testing "
                                "(at least 16 characters).")
    DATABASE_URL: str | None = _s(None, "SQLAlchemy URL; default `sqlite:///<instance>/saylau.db`.")
    DATABASE_SCHEMA: str | None = _s(None, "PostgreSQL schema (search_path) to use.")
    DATABASE_POOL_SIZE: int = _s(16, "PostgreSQL: connections each worker process keeps open "
                                 "(SQLAlchemy `pool_size`). Give it at least the gunicorn "
                                 "`--threads` of a worker: a busy worker then never opens and "
                                 "closes a connection per request (each new PostgreSQL "
                                 "connection costs the server a process start).")
    DATABASE_MAX_OVERFLOW: int = _s(8, "PostgreSQL: connections a worker may open beyond "
                                    "`DATABASE_POOL_SIZE` in a burst, closed again when "
                                    "returned (SQLAlchemy `max_overflow`).")
    MAIL_BACKEND: str = _s("outbox", "`outbox` (files in OUTBOX_DIR) or `smtp`.")
    OUTBOX_DIR: str | None = _s(None, "Directory of the outbox mail backend; default "
                                "`<instance>/outbox`.")
    SMTP_HOST: str = _s("localhost", "SMTP server.")
    SMTP_PORT: int = _s(587, "SMTP port.")
    SMTP_USER: str | None = _s(None, "SMTP user name.")
    SMTP_PASSWORD: str | None = _s(None, "SMTP password.")
    SMTP_FROM: str = _s("saylau@localhost", "From address of the mails.")
    SMTP_STARTTLS: bool = _s(True, "Use STARTTLS.")
    RATELIMIT_STORAGE_URI: str = _s("memory://", "Flask-Limiter storage (e.g. `redis://...`); "
                                    "also `SAYLAU_RATELIMIT_STORAGE`.")
    RATELIMIT_ENABLED: bool = _s(True, "Enforce rate limits (off by default under TESTING).")
    RATELIMIT_HEADERS_ENABLED: bool = _s(True, "Send rate-limit headers.")
    BASE_URL: str | None = _s(None, "Public base URL used in mails.")
    DEMO: bool = _s(False, "Demo mode (demo data, test keys allowed).")
    TESTING: bool = _s(False, "Flask testing mode (allows the test-only flags).")
    SESSION_COOKIE_SECURE: bool = _s(True, "Secure session cookie; `SAYLAU_INSECURE_COOKIES=1` "
                                     "also turns it off.")
    SESSION_COOKIE_HTTPONLY: bool = _s(True, "HttpOnly session cookie.")
    SESSION_COOKIE_SAMESITE: str = _s("Lax", "SameSite of the session cookie.")
    SESSION_COOKIE_NAME: str = _s("saylau_session", "Name of the session cookie.")
    PERMANENT_SESSION_LIFETIME: int = _s(8 * 3600, "Session lifetime (s).")
    WTF_CSRF_TIME_LIMIT: int = _s(8 * 3600, "CSRF token lifetime (s).")
    WTF_CSRF_SSL_STRICT: bool = _s(False, "Strict Referer check of CSRF over HTTPS.")
    MAX_CONTENT_LENGTH: int = _s(MAX_CONTENT_LENGTH, "Largest request body (bytes).")
    LOGIN_TOKEN_TTL_S: int = _s(72 * 3600, "Lifetime of a login/invitation link (s).")
    API_TOKEN_TTL_S: int = _s(8 * 3600, "Lifetime of an API token (s).")
    JSON_SORT_KEYS: bool = _s(False, "Sort keys of JSON responses.")
    PKI_CA_FILE: str | None = _s(None, "PKI mode: PEM file of the trusted CA certificate(s) "
                                 "(the national CA; the demo's TEST CA is a stand-in).")
    PKI_CRL_FILE: str | None = _s(None, "PKI mode: PEM file of the CAs' current revocation "
                                  "lists (CRLs); required for PKI enrollment.")
    ALLOW_TEST_KEYS: bool = _s(False, "Accept the small test election keys.", test_only=True)
    FAST_PASSWORD_HASH: bool = _s(False, "Cheap Argon2 parameters.", test_only=True)
    ISSUANCE_TIME_GRANULARITY_S: int = _s(86400, "Credential issuance is stored only as "
                                          "\"credential-period\" or the start of a slot of this "
                                          "many seconds, never a precise time (docs: "
                                          "Linkability).")
    ACCESS_LOG: bool = _s(False, "Log one line per request (never the client address; under "
                          "`saylau serve` the path without secrets, under gunicorn method and "
                          "status only). Off by default: request addresses and times can link "
                          "a voter to their ballot.")
    CAST_LIMIT: str = _s("30000/minute", "Rate limit of anonymous casting and audited ballots: "
                         "one global bucket, never keyed on an address.")
    TRUSTEE_BINDING_REQUIRED: bool = _s(True, "A trustee account must be bound to its trustee "
                                        "index (users.trustee_index) to upload partials; "
                                        "a bound account uploads its own index only.")
    PROXY_HOPS: int = _s(0, "Trusted reverse proxies in front of the app (ProxyFix: client "
                         "address, scheme, host from X-Forwarded-*; HSTS behind TLS). 0 = none.")
    LOGIN_ACCOUNT_LIMIT: str = _s("20 per 15 minutes", "Login attempts per account (across "
                                  "addresses), on top of the per-address limit.")
    AUDITED_BALLOT_LIMIT: str = _s("600/minute;60/second", "Anonymous audited ballots: one "
                                   "service-wide bucket (no address key).")

    BOARD_TIME_GRANULARITY_S: int = _s(3600, "Stored and published board times (`cast_at`, "
                                       "`signed_at`, tree-head timestamps) are floored to this "
                                       "many seconds; the board order gives the sequence.",
                                       group="board")
    BALLOT_BATCH_ENABLED: bool = _s(True, "Group-commit concurrent casts (one proof equation, "
                                    "one transaction, one tree head per batch).", group="board")
    BALLOT_BATCH_MAX: int = _s(32, "Largest ballot batch.", group="board")
    BALLOT_BATCH_WAIT_MS: float = _s(20, "How long a ballot batch waits for more (ms).",
                                     group="board")
    BALLOT_BATCH_TIMEOUT_S: float = _s(30.0, "How long a cast waits for its batch (s).",
                                       group="board")

    PETITION_SPONSORS_REQUIRED: int = _s(5, "Sponsors needed before moderation.", group="petition")
    PETITION_OPEN_DAYS: float = _s(182, "Days a petition stays open (about 6 months).",
                                   group="petition")
    PETITION_RESPONSE_THRESHOLD: int = _s(10_000, "Signatures for a government response.",
                                          group="petition")
    PETITION_DEBATE_THRESHOLD: int = _s(100_000, "Signatures for a debate.", group="petition")
    PETITION_COUNT_MAX_AGE_S: float = _s(5.0, "Refresh the count on read when older (s).",
                                         group="petition")
    PETITION_COUNT_INTERVAL_S: float = _s(3.0, "Background count folding interval (s).",
                                          group="petition")
    PETITION_COUNT_WORKER: bool = _s(False, "Start the background count thread.", group="petition")
    PETITION_CONFIRM_TTL_S: int = _s(72 * 3600, "Lifetime of a citizen confirmation link (s).",
                                     group="petition")
    PETITION_FLAG_WINDOW_S: float = _s(60, "Window of the burst flags (s).", group="petition")
    PETITION_FLAG_CREDENTIALS_PER_ADDRESS: int = _s(20, "Credentials per address per window "
                                                    "before a flag.", group="petition")
    PETITION_FLAG_SIGNATURES_PER_ADDRESS: int = _s(20, "Signatures per address per window "
                                                   "before a flag.", group="petition")
    PETITION_ELECTION_KEY: str | None = _s(None, "Threshold public key JSON (the trustees' key).",
                                           group="petition")
    PETITION_CREDENTIAL_LIMIT: str = _s("30/minute", "Rate limit of credential issuance.",
                                        group="petition")
    PETITION_SIGN_LIMIT: str = _s("30000/minute", "Rate limit of anonymous signing: one global "
                                  "bucket, never keyed on an address.", group="petition")
    PETITION_TALLY_MIN_DIFFERENCE: int = _s(10, "K of rule D1: a region tally is decrypted only "
                                            "if its counted set equals, or differs by at least K "
                                            "signatures from, every decrypted one.",
                                            group="petition")
    PETITION_BATCH_ENABLED: bool = _s(True, "Group-commit concurrent signatures.",
                                      group="petition")
    PETITION_BATCH_MAX: int = _s(32, "Largest signature batch.", group="petition")
    PETITION_BATCH_WAIT_MS: float = _s(20, "How long a batch waits for more (ms).",
                                       group="petition")
    PETITION_BATCH_TIMEOUT_S: float = _s(30.0, "How long a request waits for its batch (s).",
                                         group="petition")


FIELDS: dict[str, dataclasses.Field[Any]] = {f.name: f for f in dataclasses.fields(Settings)}
#: Every setting's default (``name -> value``).
DEFAULTS: Mapping[str, Any] = {name: f.default for name, f in FIELDS.items()}
TEST_ONLY = frozenset(name for name, f in FIELDS.items() if f.metadata["test_only"])


def setting(name: str) -> Any:
    """The current app's value of a setting (its default when the app config lacks it)."""
    return current_app.config.get(name, DEFAULTS[name])


def _convert(name: str, raw: str) -> Any:
    """``SAYLAU_<NAME>`` text -> the setting's type."""
    kind = str(FIELDS[name].type)
    text = raw.strip()
    if "None" in kind and text == "":
        return None
    try:
        if kind.startswith("bool"):
            if text.lower() in {"1", "true", "yes", "on"}:
                return True
            if text.lower() in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(raw)
        if kind.startswith("int"):
            return int(text)
        if kind.startswith("float"):
            return float(text)
    except ValueError as exc:
        raise ConfigError(f"{PREFIX}{name}={raw!r}: not a valid {kind.split(' ')[0]}") from exc
    return raw


def _from_file(path: Path) -> dict[str, Any]:
    try:
        if path.suffix == ".toml":
            data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
        else:
            data = {k: v for k, v in runpy.run_path(str(path)).items() if k.isupper()}
    except (OSError, tomllib.TOMLDecodeError, SyntaxError) as exc:
        raise ConfigError(f"SAYLAU_CONFIG_FILE {path}: cannot read ({exc})") from exc
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise ConfigError(f"SAYLAU_CONFIG_FILE {path}: unknown settings {unknown}")
    return data


def from_environment(instance_path: str, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Defaults < ``SAYLAU_CONFIG_FILE`` < ``SAYLAU_*`` variables; refuses unknown variables
    and test-only flags set outside TESTING/DEMO."""
    env = os.environ if env is None else env
    values: dict[str, Any] = dict(DEFAULTS)
    values["DATABASE_URL"] = "sqlite:///" + str(Path(instance_path) / "saylau.db")
    values["OUTBOX_DIR"] = str(Path(instance_path) / "outbox")
    given: dict[str, Any] = {}
    if env.get("SAYLAU_CONFIG_FILE"):
        given.update(_from_file(Path(env["SAYLAU_CONFIG_FILE"])))
    for key, raw in env.items():
        if not key.startswith(PREFIX) or key in NOT_SETTINGS:
            continue
        if key in LEGACY_ENV:
            name, convert = LEGACY_ENV[key]
            given[name] = convert(raw)
        elif key[len(PREFIX):] in FIELDS:
            given[key[len(PREFIX):]] = _convert(key[len(PREFIX):], raw)
        else:
            raise ConfigError(f"unknown setting {key}: see docs/configuration.md")
    if given.get("DATABASE_SCHEMA") == "":
        given["DATABASE_SCHEMA"] = None
    flags = sorted(n for n in TEST_ONLY if given.get(n))
    if flags and not (given.get("TESTING") or given.get("DEMO")):
        raise ConfigError(f"test-only settings {flags} are refused outside TESTING or DEMO")
    values.update(given)
    for name in ("TESTING", "RATELIMIT_ENABLED"):  # unset: Flask's / create_app's default rules
        if name not in given:
            values.pop(name)
    return values


def check(config: Mapping[str, Any]) -> None:
    """Refuse unsafe configurations (docs/protocol.md: no default secret key)."""
    secret = config.get("SECRET_KEY")
    if not config.get("TESTING"):
        if not secret:
            raise ConfigError(
                "SAYLAU_SECRET_KEY is not set: refusing to start. Set it to a long random value, "
                "e.g. SAYLAU_SECRET_KEY=$(python -c 'import secrets; print(secrets.token_hex(32))')"
            )
        if len(str(secret)) < 16:
            raise ConfigError("SAYLAU_SECRET_KEY is too short (at least 16 characters)")
    for name, low in (("DATABASE_POOL_SIZE", 1), ("DATABASE_MAX_OVERFLOW", 0)):
        value = config.get(name, DEFAULTS[name])
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ConfigError(f"{PREFIX}{name} must be an integer of at least {low}")
    if config.get("MAIL_BACKEND") not in {"outbox", "smtp"}:
        raise ConfigError("SAYLAU_MAIL_BACKEND must be 'outbox' or 'smtp'")


def docs_markdown() -> str:
    """docs/configuration.md (generated: ``python -m app.config``)."""
    lines = ["# Configuration", "",
             "<!-- generated from app/config.py by `python -m app.config`; do not edit -->", "",
             "Every setting is `app.config[NAME]` and is set by the environment variable "
             "`SAYLAU_NAME` (booleans: `1/0`, `true/false`, `yes/no`, `on/off`; empty = unset "
             "for optional values) or by a file named in `SAYLAU_CONFIG_FILE` (`.toml`, or "
             "Python with UPPER_CASE names). Variables win over the file. An unknown "
             "`SAYLAU_*` variable, or a test-only setting without `TESTING`/`DEMO`, stops the "
             "start with an error.", ""]
    for group, title in (("web", "Web app"), ("board", "Bulletin board"), ("petition", "Petitions")):
        lines += [f"## {title}", "", "| Setting | Type | Default | Meaning |", "|---|---|---|---|"]
        for name, f in FIELDS.items():
            if f.metadata["group"] != group:
                continue
            doc = f.metadata["doc"] + (" **Test only.**" if f.metadata["test_only"] else "")
            lines.append(f"| `SAYLAU_{name}` | {f.type} | `{f.default!r}` | {doc} |")
        lines.append("")
    legacy = ", ".join(f"`{k}` → `{v[0]}`" for k, v in LEGACY_ENV.items())
    lines += [f"Older names that keep working: {legacy}.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    target = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"
    target.write_text(docs_markdown(), encoding="utf-8")
    sys.stdout.write(f"wrote {target}\n")
