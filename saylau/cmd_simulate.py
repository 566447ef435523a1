"""``saylau simulate``: rehearse a whole election through the real HTTP API.

An app instance is served on 127.0.0.1 (a free port) over a fresh database (SQLite in a
temporary folder, or ``--database-url``).  Everything then goes over HTTP with real
cryptography: the key ceremony (dealer, k-of-n), the official creates the election,
imports the roll and opens it; each simulated voter logs in, gets a blind-signed
credential, encrypts and proves locally with the Python voter client and casts
anonymously; some voters first Benaloh-audit an encryption, some revote; the official
closes; each trustee downloads the record, verifies the board, recomputes the tally,
partially decrypts and uploads; the service publishes; the record is written to
``--out``.  Prints a JSON summary whose ``expected_tally`` is computed from the voters'
plaintext choices, in the shape of ``saylau verify --json``'s ``tally``.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import random
import secrets
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

from saylau.progress import Progress


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--voters", type=int, default=20)
    parser.add_argument("--options", type=int, default=3, help="options of the 1-of-K question")
    parser.add_argument("--trustees", type=int, default=3)
    parser.add_argument("--threshold", type=int, default=2)
    parser.add_argument("--bits", type=int, default=2048,
                        help="Paillier modulus bits (below 2048 only as an insecure rehearsal)")
    parser.add_argument("--out", type=Path, required=True, help="record directory or .zip")
    parser.add_argument("--database-url", help="default: SQLite in a temporary folder")
    parser.add_argument("--seed", type=int, help="seed for the voters' choices (not the crypto)")
    parser.add_argument("--revote-fraction", type=float, default=0.2)
    parser.add_argument("--audit-fraction", type=float, default=0.1)
    parser.add_argument("--election-id", default="simulation")
    parser.add_argument("--keygen", choices=("dealer", "distributed"), default="dealer",
                        help="dealer: saylau ceremony; distributed: the trustees run "
                        "saylau trustee keygen over the service's relay (docs §4.7)")


def _usage(args: argparse.Namespace) -> str | None:
    if args.voters < 1 or args.options < 2:
        return "need at least 1 voter and 2 options"
    if not 1 <= args.threshold <= args.trustees:
        return "need 1 <= threshold <= trustees"
    if args.bits < 1024 or args.bits % 2:
        return "bits must be an even number >= 1024"
    if args.out.exists():
        return f"{args.out} already exists"
    return None


def _manifest(election_id: str, options: int) -> dict[str, Any]:
    return {
        "id": election_id,
        "title": "Rehearsal election",
        "revote_policy": "last-counts",
        "questions": [
            {"id": "choice", "title": "Choose one", "min_selections": 1, "max_selections": 1,
             "options": [{"id": f"opt{i}", "label": f"Option {i}"} for i in range(1, options + 1)]},
            {"id": "referendum", "title": "Approve?", "min_selections": 0, "max_selections": 1,
             "options": [{"id": "yes", "label": "Yes"}]},
        ],
    }


def run(args: argparse.Namespace) -> int:
    problem = _usage(args)
    if problem:
        print(f"saylau simulate: error: {problem}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="saylau-sim-") as tmp:
        return _simulate(args, Path(tmp))


def _simulate(args: argparse.Namespace, tmp: Path) -> int:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from werkzeug.serving import make_server

    from app import create_app
    from app.db import get_engine, new_session
    from app.migrate import upgrade
    from app.services import users as user_service
    from audit.election_verifier import verify_board_record
    from audit.record import read_record
    from crypto.blind_rsa import IssuerPrivateKey
    from crypto.threshold import generate_threshold_key
    from saylau.voter_client import VoterClient
    from tally.decrypt import trustee_decrypt

    rng = random.Random(args.seed)
    test_keys = args.bits < 2048
    started = time.monotonic()
    distributed = getattr(args, "keygen", "dealer") == "distributed"
    if not distributed:
        with Progress("key ceremony", None) as bar:
            tpk, shares = generate_threshold_key(args.bits, args.trustees, args.threshold,
                                                 allow_test_key=test_keys,
                                                 progress=lambda text: bar.note(text[:28]))
    issuer = IssuerPrivateKey.generate(3072 if args.bits >= 3072 else 2048)
    app = create_app({
        "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": args.database_url or f"sqlite:///{tmp / 'simulation.db'}",
        "OUTBOX_DIR": str(tmp / "outbox"),
        "SESSION_COOKIE_SECURE": False,
        "ALLOW_TEST_KEYS": test_keys,
        "TEST_ISSUER_KEY": issuer,
        "RATELIMIT_ENABLED": False,
        "FAST_PASSWORD_HASH": True,
    })
    upgrade(get_engine(app))
    password = secrets.token_urlsafe(12)
    emails = [f"voter{i}@simulation.invalid" for i in range(1, args.voters + 1)]
    trustees = [f"trustee{i}@simulation.invalid" for i in range(1, args.trustees + 1)]
    with app.app_context():
        db = new_session(app)
        user_service.get_or_create_user(db, "official@simulation.invalid", "Official",
                                        ("official",), password=password)
        for i, email in enumerate(trustees, 1):
            user_service.get_or_create_user(db, email, "Trustee", ("trustee",), password=password,
                                            trustee_index=i)
        for email in emails:
            user_service.get_or_create_user(db, email, "Voter", ("voter",), password=password)
        db.commit()
        db.close()

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no per-request lines
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        official = VoterClient(base)
        official.login("official@simulation.invalid", password)
        eid = args.election_id
        official.api("POST", "/api/v1/elections", _manifest(eid, args.options))
        official.api("POST", f"/api/v1/elections/{eid}/roll",
                     {"csv": "email,name\n" + "".join(f"{e},Voter\n" for e in emails)})
        if distributed:
            from saylau.simulate_keygen import distributed_keygen

            with Progress("trustees: distributed key generation", None) as bar:
                tpk, shares, candidates = distributed_keygen(
                    base, eid, trustees, password, args.bits, args.trustees, args.threshold,
                    test_keys, progress=lambda text: bar.note(text[-28:]))
        else:
            official.api("POST", f"/api/v1/elections/{eid}/election-key", tpk.to_json())
        roll_keys = {}
        for email in emails:  # each voter enrolls a fresh Ed25519 roll key before opening
            enrolling = VoterClient(base, roll_key=Ed25519PrivateKey.generate())
            enrolling.login(email, password)
            enrolling.enroll(eid)
            roll_keys[email] = enrolling.roll_key
        official.api("POST", f"/api/v1/elections/{eid}/open")

        final: dict[str, dict[str, Any]] = {}
        receipts = []
        audited = revoted = 0
        # the default credential policy: every voter gets a voting card in the credential
        # period; the official then opens voting; voters cast with their cards, no login
        wallets = {}
        with Progress("voting cards", args.voters) as bar:
            for email in emails:
                voter = VoterClient(base, roll_key=roll_keys[email])
                voter.login(email, password)
                wallets[email] = voter.obtain_credential(voter.get_election(eid))
                bar.advance()
        official.api("POST", f"/api/v1/elections/{eid}/start-voting")
        with Progress("voters casting", args.voters) as bar:
            for email in emails:
                voter = VoterClient(base)
                election = voter.get_election(eid)
                wallet = wallets[email]
                choices = _random_choice(rng, args.options)
                if rng.random() < args.audit_fraction:
                    check = voter.audit_ballot(election, wallet, choices)
                    if check["decoded"] != {q: sorted(v) for q, v in choices.items()}:
                        raise RuntimeError("a Benaloh audit decoded other choices")
                    audited += 1
                receipts.append(voter.cast(election, wallet, choices))
                if rng.random() < args.revote_fraction:
                    choices = _random_choice(rng, args.options)
                    receipts.append(voter.cast(election, wallet, choices))
                    revoted += 1
                final[email] = choices
                bar.advance()
        official.api("POST", f"/api/v1/elections/{eid}/close")

        # trustees: each verifies the board and decrypts on its own copy of the record
        zip_path = tmp / "board.zip"
        zip_path.write_bytes(official.download(f"/api/v1/elections/{eid}/record.zip"))
        checked = verify_board_record(read_record(zip_path))
        if checked.tally is None or checked.fingerprint is None or checked.report.failed():
            raise RuntimeError("the trustees' board verification failed: "
                               + ", ".join(c.name for c in checked.report.failed()))
        outcome: dict[str, Any] = {}
        with Progress("trustees decrypting", args.threshold) as bar:
            for share, email in list(zip(shares, trustees, strict=True))[: args.threshold]:
                trustee = VoterClient(base)
                trustee.login(email, password)
                partials = trustee_decrypt(share, checked.tally, fingerprint=checked.fingerprint)
                outcome = trustee.upload_partials(eid, partials.to_json())
                bar.advance()
        if not outcome.get("published"):
            raise RuntimeError("the service did not publish results after k trustees")
        published = official.download(f"/api/v1/elections/{eid}/record.zip")
        if args.out.suffix == ".zip":
            args.out.write_bytes(published)
        else:
            with zipfile.ZipFile(io.BytesIO(published)) as archive:
                archive.extractall(args.out)
    finally:
        server.shutdown()
        get_engine(app).dispose()

    expected: dict[str, dict[str, int]] = {
        "choice": {f"opt{i}": 0 for i in range(1, args.options + 1)}, "referendum": {"yes": 0}}
    for choices in final.values():
        for q, opts in choices.items():
            for o in opts:
                expected[q][o] += 1
    summary = {
        "record": str(args.out),
        "election_id": args.election_id,
        "voters": args.voters,
        "ballots_cast": len(receipts),
        "revotes": revoted,
        "audited_ballots": audited,
        "trustees": args.trustees,
        "threshold": args.threshold,
        "bits": args.bits,
        "seconds": round(time.monotonic() - started, 1),
        "keygen": "distributed" if distributed else "dealer",
        **({"keygen_candidates": candidates} if distributed else {}),
        "expected_tally": expected,
    }
    print(json.dumps(summary, indent=1, sort_keys=True))
    return 0


def _random_choice(rng: random.Random, options: int) -> dict[str, list[str]]:
    return {"choice": [f"opt{rng.randint(1, options)}"],
            "referendum": ["yes"] if rng.random() < 0.5 else []}
