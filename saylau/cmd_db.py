"""``saylau db upgrade`` (Alembic migrations) and ``saylau db seed-demo``."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

DEMO_ELECTION = "demo-2026"
DEMO_OFFICIAL = ("official@example.org", "demo-official")
DEMO_VOTERS = [f"voter{i}@example.org" for i in range(1, 6)]
DEMO_VOTER_PASSWORD = "demo-voter"  # noqa: S105 - published demo password


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["upgrade", "seed-demo"])
    parser.add_argument("--key-bits", type=int, default=2048,
                        help="seed-demo: election key size (default 2048; 1024 = fast, INSECURE)")


def _app() -> Any:
    import os

    from app import create_app

    if not os.environ.get("SAYLAU_SECRET_KEY"):
        # db commands do not serve requests; a throwaway key lets them run without one
        import secrets

        os.environ["SAYLAU_SECRET_KEY"] = secrets.token_hex(32)
    return create_app()


def run(args: argparse.Namespace) -> int:
    from app.config import ConfigError

    try:
        application = _app()
    except ConfigError as exc:
        print(f"saylau db: {exc}", file=sys.stderr)
        return 1
    from app.db import get_engine
    from app.migrate import upgrade

    upgrade(get_engine(application))
    print(f"database at {application.config['DATABASE_URL']} is up to date")
    if args.action == "seed-demo":
        return seed_demo(application, args.key_bits)
    return 0


def seed_demo(application: Any, bits: int) -> int:
    import json
    from pathlib import Path

    from app.db import new_session
    from app.errors import ApiError
    from app.services import elections as election_service
    from app.services import roll as roll_service
    from app.services import users as user_service
    from crypto.election import Manifest

    with application.app_context():
        db = new_session(application)
        try:
            if db.get(election_service.Election, DEMO_ELECTION) is not None:
                print(f"demo election {DEMO_ELECTION} already exists; nothing to do")
                return 0
            user_service.get_or_create_user(db, DEMO_OFFICIAL[0], "Demo Official",
                                            ("official", "auditor"), password=DEMO_OFFICIAL[1])
            manifest = Manifest.from_json({
                "election_id": DEMO_ELECTION, "title": "Demo election 2026",
                "questions": [
                    {"id": "mayor", "title": "Who should be mayor?", "min_selections": 1,
                     "max_selections": 1, "options": [
                         {"id": "aigerim", "label": "Aigerim"}, {"id": "bauyrzhan", "label": "Bauyrzhan"},
                         {"id": "dana", "label": "Dana"}]},
                    {"id": "park", "title": "Build the new park?", "min_selections": 1,
                     "max_selections": 1, "options": [{"id": "yes", "label": "Yes"},
                                                      {"id": "no", "label": "No"}]},
                ]})
            print("generating the election's issuer key (RSA-2048) ...")
            election = election_service.create_election(db, manifest, revote_policy="last-counts")
            print(f"generating a {bits}-bit 2-of-3 threshold election key (safe primes; this "
                  "may take a minute) ...")
            tpk, _shares = election_service.generate_election_key(
                bits, 2, 3, allow_test_key=bits < 2048,
                progress=lambda msg: print(f"  {msg}", file=sys.stderr, flush=True))
            election_service.set_election_key(db, election, tpk.to_json(), allow_test_key=True)
            election.insecure_test_keys = True  # dealer-generated and shares discarded: demo only
            csv = "email,name\n" + "".join(f"{e},Demo Voter {i}\n"
                                           for i, e in enumerate(DEMO_VOTERS, 1))
            roll_service.import_roll(db, election, csv)
            for email in DEMO_VOTERS:
                user_service.get_or_create_user(db, email, password=DEMO_VOTER_PASSWORD)
            election_service.open_election(db, election)
            shares_path = Path(application.instance_path) / f"{DEMO_ELECTION}-DEMO-trustee-shares.json"
            shares_path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(shares_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump({"warning": "DEMO ONLY: unencrypted trustee shares of a dealer-generated "
                           "key; never use for a real election.",
                           "public_key": tpk.to_json(),
                           "shares": [share.to_json() for share in _shares]}, handle, indent=2)
            db.commit()
        except ApiError as exc:
            db.rollback()
            print(f"saylau db seed-demo: {exc.message}", file=sys.stderr)
            return 1
        finally:
            db.close()
    print(f"created official {DEMO_OFFICIAL[0]} / password {DEMO_OFFICIAL[1]!r}")
    print(f"created voters {', '.join(DEMO_VOTERS)} / password {DEMO_VOTER_PASSWORD!r}")
    print(f"created and opened election {DEMO_ELECTION!r} (2 questions: 1-of-3, yes/no; "
          "revote: last-counts). Its key is a DEMO key generated by a dealer; "
          "its trustee shares are in the instance folder, unencrypted - never use it for a real vote.")
    return 0
