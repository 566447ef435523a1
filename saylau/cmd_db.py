"""``saylau db upgrade`` (Alembic migrations) and ``saylau db seed-demo``."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

DEMO_ELECTION = "demo-2026"
DEMO_PKI_ELECTION = "demo-pki-2026"
#: a draft election in enrolled-key mode: voters put their key on its roll in the browser
DEMO_ENROLL_ELECTION = "demo-enroll-2026"
#: each demo voter's roll key card for the demo election (the seed stands in for the device)
DEMO_CARD_DIR = "demo-cards"
DEMO_OFFICIAL = ("official@example.org", "demo-official")
DEMO_VOTERS = [f"voter{i}@example.org" for i in range(1, 6)]
DEMO_VOTER_PASSWORD = "demo-voter"  # noqa: S105 - published demo password
DEMO_MODERATOR = ("moderator@example.org", "demo-moderator")
DEMO_CITIZEN = ("citizen@example.org", "demo-citizen")
DEMO_TRUSTEES = [f"trustee{i}@example.org" for i in range(1, 4)]
DEMO_TRUSTEE_PASSWORD = "demo-trustee"  # noqa: S105 - published demo password
DEMO_TRUSTEE_DIR = "demo-trustees"
DEMO_PETITION_TITLE = "Plant a million trees in our cities"


def trustee_passphrase(index: int) -> str:
    """The published demo passphrase of trustee ``index``'s share file (demo only)."""
    return f"demo-trustee-{index}"


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
    from sqlalchemy.exc import SQLAlchemyError

    from app.db import get_engine
    from app.migrate import upgrade

    try:
        upgrade(get_engine(application))
    except SQLAlchemyError as exc:
        cause = getattr(exc, "orig", None) or exc
        print(f"saylau db: cannot migrate {application.config['DATABASE_URL']}: "
              f"{type(cause).__name__}: {cause}", file=sys.stderr)
        return 1
    print(f"database at {application.config['DATABASE_URL']} is up to date")
    if args.action == "seed-demo":
        return seed_demo(application, args.key_bits)
    return 0


def seed_demo(application: Any, bits: int) -> int:
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
                print(f"the demo data already exists in {application.instance_path} (run "
                      "`make clean-demo` to delete it and start again)")
                _print_accounts(Path(application.instance_path) / DEMO_TRUSTEE_DIR)
                _print_state(db)
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
            # the demo lets its voters get a credential and vote at once ("any_time"); the
            # booth then says what that costs in secrecy (a real election keeps the default
            # "period": credentials first, voting later)
            election = election_service.create_election(db, manifest, revote_policy="last-counts",
                                                        credential_policy="any_time",
                                                        credential_mode="enrolled")
            print(f"generating a {bits}-bit 2-of-3 threshold election key (safe primes; this "
                  "may take a minute) ...")
            from saylau.progress import Progress

            with Progress("key ceremony") as bar:
                def progress(msg: str) -> None:
                    if bar.enabled:
                        bar.note(msg)
                    elif "found" in msg or "test" in msg:
                        print(f"  {msg}", file=sys.stderr, flush=True)

                tpk, _shares = election_service.generate_election_key(
                    bits, 2, 3, allow_test_key=bits < 2048, progress=progress)
            election_service.set_election_key(db, election, tpk.to_json(), allow_test_key=True)
            election.insecure_test_keys = True  # dealer-generated: demo only
            csv = "email,name\n" + "".join(f"{e},Demo Voter {i}\n"
                                           for i, e in enumerate(DEMO_VOTERS, 1))
            roll_service.import_roll(db, election, csv)
            voters = {email: user_service.get_or_create_user(db, email,
                                                             password=DEMO_VOTER_PASSWORD)
                      for email in DEMO_VOTERS}
            # enrollment closes when the election opens, which the seed does now: so the seed
            # stands in for each voter's device, makes their roll key and enrolls it
            keys = _enroll_demo_voters(db, election, voters)
            election_service.open_election(db, election)
            cards = _write_demo_cards(db, Path(application.instance_path) / DEMO_CARD_DIR,
                                      election, voters, keys)
            for i, email in enumerate(DEMO_TRUSTEES, 1):
                user_service.get_or_create_user(db, email, f"Demo Trustee {i}", ("trustee",),
                                                password=DEMO_TRUSTEE_PASSWORD, trustee_index=i)
            trustee_dir = _write_trustee_files(Path(application.instance_path) / DEMO_TRUSTEE_DIR,
                                               tpk, _shares)
            petition_id = _seed_petition(application, db, tpk, allow_test_key=bits < 2048)
            pki = _seed_pki_election(application, db, tpk)
            _seed_enroll_election(db, tpk)
            db.commit()
        except ApiError as exc:
            db.rollback()
            print(f"saylau db seed-demo: {exc.message}", file=sys.stderr)
            return 1
        finally:
            db.close()
    print(f"created and opened election {DEMO_ELECTION!r} (2 questions: 1-of-3, yes/no; "
          "revote: last-counts). Its key is a DEMO key generated by a dealer; "
          "never use it for a real vote.")
    print(f"created and opened petition #{petition_id} {DEMO_PETITION_TITLE!r} (same demo key)")
    _print_accounts(trustee_dir)
    print(f"created DRAFT election {DEMO_PKI_ELECTION!r} in PKI mode, with a TEST CA that stands "
          f"in for the national CA (NOT the national CA; demo only): {pki['ca']}, CRL "
          f"{pki['crl']}, one PKCS#12 file per demo voter in {pki['ca'].parent} / password "
          f"{DEMO_VOTER_PASSWORD!r}. Serve with SAYLAU_PKI_CA_FILE={pki['ca']} "
          f"SAYLAU_PKI_CRL_FILE={pki['crl']} to let voters enroll (saylau vote enroll --pkcs12).")
    print(f"{DEMO_ELECTION!r} runs in enrolled-key mode: a credential is issued only against a "
          "request signed with the voter's roll key. DEMO ONLY: the seed stood in for each "
          "voter's device, made their roll key and enrolled it before opening; each voter's roll "
          f"key card (a SECRET; load it in the booth, or `saylau vote --roll-key`) is in {cards}. "
          "In a real election each voter enrolls in their own browser before voting opens.")
    print(f"created DRAFT election {DEMO_ENROLL_ELECTION!r} in enrolled-key mode (same voters): "
          f"log in as a voter, open /vote/{DEMO_ENROLL_ELECTION}/roll-key to put a key on the roll "
          "in the browser, then the official opens it (Officials -> Open).")
    with application.app_context():
        db = new_session(application)
        try:
            _print_state(db)
        finally:
            db.close()
    return 0


def _print_accounts(trustee_dir: Any) -> None:
    """The demo accounts, every time ``seed-demo`` runs (also when the data already exists)."""
    print("demo accounts:")
    print(f"  official   {DEMO_OFFICIAL[0]} / password {DEMO_OFFICIAL[1]!r}")
    print(f"  voters     {', '.join(DEMO_VOTERS)} / password {DEMO_VOTER_PASSWORD!r} "
          "(on the roll of the demo election; confirmed citizens who can sign the petition)")
    for i, email in enumerate(DEMO_TRUSTEES, 1):
        print(f"  trustee    {email} / password {DEMO_TRUSTEE_PASSWORD!r}; share file "
              f"{trustee_dir / f'trustee-{i}.share.json'} / passphrase {trustee_passphrase(i)!r}")
    print(f"  election public key: {trustee_dir / 'election-public-key.json'} (2 of 3 trustees decrypt)")
    print(f"  moderator  {DEMO_MODERATOR[0]} / password {DEMO_MODERATOR[1]!r}")
    print(f"  citizen    {DEMO_CITIZEN[0]} / password {DEMO_CITIZEN[1]!r} (started the demo petition)")


def _print_state(db: Any) -> None:
    """Where the demo stands: the election's state and board, the petition's state and count."""
    from sqlalchemy import func, select

    from app.models import BoardEntry, Election
    from app.petitions.counts import count_of
    from app.petitions.models import Petition

    election = db.get(Election, DEMO_ELECTION)
    if election is not None:
        entries = db.scalar(select(func.count()).select_from(BoardEntry)
                            .where(BoardEntry.election_id == DEMO_ELECTION)) or 0
        print(f"demo state: election {DEMO_ELECTION!r} is {election.state}, {entries} board entries "
              f"(/elections/{DEMO_ELECTION}/booth, /board/{DEMO_ELECTION})")
    petition = db.scalars(select(Petition).where(Petition.title == DEMO_PETITION_TITLE)
                          .order_by(Petition.id)).first()
    if petition is not None:
        count, _ = count_of(db, petition)
        print(f"demo state: petition #{petition.id} is {petition.state}, {count} signatures "
              f"(/petitions/{petition.id})")


def _enroll_demo_voters(db: Any, election: Any, voters: dict[str, Any]) -> dict[str, Any]:
    """Each demo voter's Ed25519 roll key, enrolled (the seed stands in for their device)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from app.services import roll as roll_service
    from crypto.credentials import ballot_public_key_bytes

    keys = {email: Ed25519PrivateKey.generate() for email in voters}
    for email, user in voters.items():
        roll_service.enroll_key(db, election, user, ballot_public_key_bytes(keys[email]))
    return keys


def _write_demo_cards(db: Any, folder: Any, election: Any, voters: dict[str, Any],
                      keys: dict[str, Any]) -> Any:
    """``<folder>/<email>.json``: each voter's roll key card, with its (frozen) roll index."""
    from app.services import roll as roll_service
    from saylau.voter_client import save_roll_key

    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    for email, user in voters.items():
        row = roll_service.roll_key_of(db, election.id, user)
        path = folder / f"{email}.json"
        if path.exists():
            path.unlink()
        save_roll_key(path, keys[email], election.id, row.roll_index if row else None)
    return folder


def _seed_enroll_election(db: Any, tpk: Any) -> None:
    """A draft election in enrolled-key mode whose roll is the demo voters (browser enrollment)."""
    from app.services import elections as election_service
    from app.services import roll as roll_service
    from crypto.election import Manifest

    manifest = Manifest.from_json({
        "election_id": DEMO_ENROLL_ELECTION, "title": "Demo: enroll your key in the browser",
        "questions": [{"id": "library", "title": "Open the library on Sundays?",
                       "min_selections": 1, "max_selections": 1,
                       "options": [{"id": "yes", "label": "Yes"}, {"id": "no", "label": "No"}]}]})
    election = election_service.create_election(db, manifest, revote_policy="last-counts",
                                                credential_policy="any_time",
                                                credential_mode="enrolled")
    election_service.set_election_key(db, election, tpk.to_json(), allow_test_key=True)
    election.insecure_test_keys = True
    roll_service.import_roll(db, election, "email,name\n" + "".join(
        f"{e},Demo Voter {i}\n" for i, e in enumerate(DEMO_VOTERS, 1)))


def _seed_pki_election(application: Any, db: Any, tpk: Any) -> dict[str, Any]:
    """A draft election in PKI mode: roll with the demo voters' IINs, TEST CA files."""
    from pathlib import Path

    from app.services import elections as election_service
    from app.services import roll as roll_service
    from crypto.election import Manifest
    from saylau.demo_pki import DEMO_PKI_DIR, write_demo_pki

    iins = {email: f"90010130{i:04d}" for i, email in enumerate(DEMO_VOTERS, 1)}
    manifest = Manifest.from_json({
        "election_id": DEMO_PKI_ELECTION, "title": "Demo: union ballot signed with a (TEST) "
        "national certificate", "questions": [
            {"id": "strike", "title": "Call a strike?", "min_selections": 1,
             "max_selections": 1, "options": [{"id": "yes", "label": "Yes"},
                                              {"id": "no", "label": "No"}]}]})
    # like the demo election: credentials and voting at once ("any_time")
    election = election_service.create_election(db, manifest, revote_policy="last-counts",
                                                credential_policy="any_time",
                                                credential_mode="pki")
    election_service.set_election_key(db, election, tpk.to_json(), allow_test_key=True)
    election.insecure_test_keys = True
    roll_service.import_roll(db, election, "email,name,iin\n" + "".join(
        f"{e},Demo Voter {i},{iins[e]}\n" for i, e in enumerate(DEMO_VOTERS, 1)))
    return write_demo_pki(Path(application.instance_path) / DEMO_PKI_DIR, iins,
                          DEMO_VOTER_PASSWORD)


def _write_trustee_files(folder: Any, tpk: Any, shares: Any) -> Any:
    """Each trustee's share sealed (crypto.keyfile) under its demo passphrase, plus the public key."""
    import json

    from crypto.keyfile import encrypt_share

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "election-public-key.json").write_text(json.dumps(tpk.to_json(), indent=2) + "\n",
                                                     encoding="utf-8")
    for share in shares:
        sealed = encrypt_share(share, trustee_passphrase(share.index))
        path = folder / f"trustee-{share.index}.share.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(sealed, handle, indent=2)
            handle.write("\n")
    return folder


def _seed_petition(application: Any, db: Any, tpk: Any, *, allow_test_key: bool) -> int:
    """An OPEN demo petition: citizen creator → sponsors → moderator approval (same key)."""
    from app.models import User, utcnow
    from app.petitions import decisions, drafting
    from app.petitions.models import PetitionCitizen
    from app.services import users as user_service

    def confirmed(email: str, name: str, roles: tuple[str, ...], password: str) -> User:
        user: User = user_service.get_or_create_user(db, email, name, roles, password=password)
        db.flush()
        row = db.get(PetitionCitizen, user.id)
        if row is None:
            db.add(PetitionCitizen(user_id=user.id, confirmed_at=utcnow()))
        elif row.confirmed_at is None:
            row.confirmed_at = utcnow()
        db.flush()
        return user

    saved = application.config.get("ALLOW_TEST_KEYS")
    if allow_test_key:
        application.config["ALLOW_TEST_KEYS"] = True  # the small demo key, only while seeding
    try:
        creator = confirmed(DEMO_CITIZEN[0], "Demo Citizen", ("voter",), DEMO_CITIZEN[1])
        moderator = user_service.get_or_create_user(db, DEMO_MODERATOR[0], "Demo Moderator",
                                                    ("moderator",), password=DEMO_MODERATOR[1])
        p, _token = drafting.create_draft(db, creator, {
            "title": DEMO_PETITION_TITLE,
            "action": "Plant a million trees in Kazakhstan's cities by 2030 and publish where.",
            "background": "Trees give shade in summer, shelter from wind in winter and cleaner air.",
        })
        drafting.submit(db, p, creator)
        sponsors = list(DEMO_VOTERS) + [f"sponsor{i}@example.org"
                                        for i in range(1, max(0, p.sponsors_required - len(DEMO_VOTERS)) + 1)]
        for i, email in enumerate(sponsors, 1):
            user = confirmed(email, f"Demo Voter {i}", ("voter",), DEMO_VOTER_PASSWORD)
            if p.state == "collecting_sponsors":
                drafting.add_sponsor(db, p, user, _token)
        decisions.set_election_key(db, p, tpk.to_json())
        decisions.moderate(db, p, moderator, "approve")
        p.insecure_test_keys = True  # dealer-generated demo key
        db.flush()
        return int(p.id)
    finally:
        if saved is None:
            application.config.pop("ALLOW_TEST_KEYS", None)
        else:
            application.config["ALLOW_TEST_KEYS"] = saved
