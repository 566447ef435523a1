"""``saylau serve``: run the web application with the development server."""

from __future__ import annotations

import argparse
import logging
import re
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--debug", action="store_true", help="Flask debug mode (never in production)")
    parser.add_argument("--access-log", action="store_true",
                        help="log one line per request (method, path without secrets, status; "
                             "never the client address). Off by default: addresses and times of "
                             "requests could link a voter to their ballot (docs: Linkability)")


class RedactSecretsInAccessLog(logging.Filter):
    """One-time login and confirmation links carry a secret in their path: never log it."""

    _secret_path = re.compile(r"(/(?:auth/link|petitions/confirm)/)[^\s/?\"]+")

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self._secret_path.sub(r"\1<redacted>", str(record.msg))
        if record.args:
            record.args = tuple(self._secret_path.sub(r"\1<redacted>", a) if isinstance(a, str)
                                else a for a in record.args)
        return True


class AddressFreeAccessLog(logging.Filter):
    """Drop the client address and the request time from each access-log line."""

    _prefix = re.compile(r"^\S+ - - \[[^\]]*\] ")
    _prefix_args = re.compile(r"^%s - - (?:\[[^\]]*\] )?")

    def filter(self, record: logging.LogRecord) -> bool:
        msg = str(record.msg)
        if self._prefix_args.match(msg) and isinstance(record.args, tuple) and record.args:
            record.msg = self._prefix_args.sub("", msg)
            record.args = record.args[1:]
        else:
            record.msg = self._prefix.sub("", msg)
        return True


def configure_access_log(enabled: bool) -> None:
    """``saylau serve``'s request log: off by default; when on, address- and secret-free."""
    logger = logging.getLogger("werkzeug")
    logger.addFilter(RedactSecretsInAccessLog())
    logger.addFilter(AddressFreeAccessLog())
    logger.setLevel(logging.INFO if enabled else logging.WARNING)


def run(args: argparse.Namespace) -> int:
    from app import create_app
    from app.config import ConfigError

    try:
        application = create_app()
    except ConfigError as exc:
        print(f"saylau serve: {exc}", file=sys.stderr)
        return 1
    from app.petitions.count_worker import start_count_worker

    configure_access_log(bool(args.access_log or application.config.get("ACCESS_LOG")))
    start_count_worker(application)  # batched petition counts and closing of expired petitions
    print(f"Saylau on http://{args.host}:{args.port}/ (development server; use gunicorn "
          "'app:create_app()' in production)")
    application.run(host=args.host, port=args.port, debug=args.debug, use_reloader=False)
    return 0
