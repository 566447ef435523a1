"""``saylau serve``: run the web application with the development server."""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--debug", action="store_true", help="Flask debug mode (never in production)")


def run(args: argparse.Namespace) -> int:
    from app import create_app
    from app.config import ConfigError

    try:
        application = create_app()
    except ConfigError as exc:
        print(f"saylau serve: {exc}", file=sys.stderr)
        return 1
    from app.petitions.services import start_count_worker

    start_count_worker(application)  # batched petition counts and closing of expired petitions
    print(f"Saylau on http://{args.host}:{args.port}/ (development server; use gunicorn "
          "'app:create_app()' in production)")
    application.run(host=args.host, port=args.port, debug=args.debug, use_reloader=False)
    return 0
