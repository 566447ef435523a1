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


class RedactSecretsInAccessLog(logging.Filter):
    """One-time login and confirmation links carry a secret in their path: never log it."""

    _secret_path = re.compile(r"(/(?:auth/link|petitions/confirm)/)[^\s/?\"]+")

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self._secret_path.sub(r"\1<redacted>", str(record.msg))
        if record.args:
            record.args = tuple(self._secret_path.sub(r"\1<redacted>", a) if isinstance(a, str)
                                else a for a in record.args)
        return True


def run(args: argparse.Namespace) -> int:
    from app import create_app
    from app.config import ConfigError

    try:
        application = create_app()
    except ConfigError as exc:
        print(f"saylau serve: {exc}", file=sys.stderr)
        return 1
    from app.petitions.count_worker import start_count_worker

    logging.getLogger("werkzeug").addFilter(RedactSecretsInAccessLog())
    start_count_worker(application)  # batched petition counts and closing of expired petitions
    print(f"Saylau on http://{args.host}:{args.port}/ (development server; use gunicorn "
          "'app:create_app()' in production)")
    application.run(host=args.host, port=args.port, debug=args.debug, use_reloader=False)
    return 0
