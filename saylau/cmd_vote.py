"""``saylau vote``: the Python voter client on the command line.

    saylau vote credential --server URL --election ID --email E --password-file F \\
        [--credential-file CARD] [--qr CARD.svg]        # in the credential period
    saylau vote --server URL --election ID --card CARD \\
        --choice QID=OPT[,OPT] ... [--receipt-out FILE] [--delay S] [--proxy URL]
    saylau vote --server URL --election ID --email E --password-file F \\
        --choice QID=OPT[,OPT] ...    # "any_time" elections: credential, wait, cast
    saylau vote card export --credential-file CARD [--out FILE] [--qr FILE.svg]
    saylau vote card import --card FILE|- [--credential-file CARD] [--server URL]
    saylau vote check-receipt --server URL --receipt FILE
    saylau vote enroll --server URL --election ID --email E --password-file F [--roll-key FILE]
    saylau vote check-roll --server URL --election ID [--roll-key FILE | --pkcs12 FILE]

Roll keys (docs/protocol.md §2.7): ``enroll`` makes an Ed25519 key and keeps it under
``~/.saylau/roll-keys/`` (0600) unless ``--roll-key`` names the file; in PKI mode
``--pkcs12 FILE`` (with ``--pkcs12-password-file``) signs with the personal certificate.

The voting card (``format: saylau-voting-card/1``) is the credential with its ballot key:
whoever holds it can vote in your name, and it cannot be replaced if lost (blind issuance
cannot revoke a credential it never saw).  Casting with a card needs no login.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from pathlib import Path
from typing import Any

from crypto.errors import CryptoError

#: ``--delay`` when the credential was obtained in the same run (seconds; a random wait
#: up to this): casting right after issuance links the two by timing (docs: Linkability)
DEFAULT_DELAY_AFTER_ISSUANCE_S = 300.0
CARD_FORMAT = "saylau-voting-card/1"

def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", nargs="?", default="cast",
                        choices=["cast", "credential", "card", "check-receipt", "enroll",
                                 "check-roll"],
                        help="cast a ballot (default), obtain the credential only (the voting "
                             "card), export/import a voting card, check a saved receipt, put "
                             "your key on an election's roll (before it opens) or check that it "
                             "is on the published roll exactly once")
    parser.add_argument("card_action", nargs="?", choices=["export", "import"],
                        help="with 'card': export the card of --credential-file, or import --card")
    parser.add_argument("--server", help="base URL, e.g. http://127.0.0.1:5000")
    parser.add_argument("--election", help="election id (cast)")
    parser.add_argument("--email", help="your e-mail address (cast)")
    parser.add_argument("--password-file", type=Path,
                        help="file holding your password (first line); '-' reads stdin")
    parser.add_argument("--choice", action="append", default=[], metavar="QID=OPT[,OPT]",
                        help="your choice for one question (repeat per question)")
    parser.add_argument("--receipt-out", type=Path, help="where to save the receipt "
                        "(default: receipt-<election>.json)")
    parser.add_argument("--credential-file", type=Path, help="where the credential and ballot "
                        "key are kept for revoting (default: credential-<election>.json)")
    parser.add_argument("--delay", type=float, default=None, metavar="SECONDS",
                        help="wait a random time up to SECONDS before casting, so that getting "
                             "the credential and casting are harder to link by timing (default: "
                             f"{DEFAULT_DELAY_AFTER_ISSUANCE_S:.0f} when the credential is "
                             "obtained in the same run, else 0)")
    parser.add_argument("--card", type=Path, help="cast with this saved voting card (no login "
                        "needed); with 'card import': the card to import ('-' reads stdin)")
    parser.add_argument("--out", type=Path, help="card export: where to write the card")
    parser.add_argument("--qr", type=Path, help="also write the card as an SVG QR code (to print)")
    parser.add_argument("--proxy", help="send every request through this HTTP proxy, e.g. an "
                        "anonymizing proxy (http://127.0.0.1:8118), so the server does not see "
                        "your address when you cast")
    parser.add_argument("--revote", action="store_true",
                        help="cast again with the credential kept in --credential-file")
    parser.add_argument("--receipt", type=Path, help="receipt file to check (check-receipt)")
    parser.add_argument("--roll-key", type=Path, help="your roll key card (saylau-roll-key/1, "
                        "the file the browser's enrollment page downloads) or PEM key (default: "
                        "the card `enroll` saved under ~/.saylau/roll-keys/)")
    parser.add_argument("--pkcs12", type=Path, help="PKI mode: your personal certificate and "
                        "key as a PKCS#12 file")
    parser.add_argument("--pkcs12-password-file", type=Path,
                        help="file holding the PKCS#12 password (first line)")


def _load_roll_key(client: Any, args: argparse.Namespace) -> int | None:
    """Set ``client.roll_key`` (and certificate) from --pkcs12, --roll-key or the default file."""
    from saylau.voter_client import load_pkcs12, load_roll_key, roll_key_path

    if args.pkcs12 is not None:
        password = (args.pkcs12_password_file.read_text(encoding="utf-8").splitlines() or [""])[0] \
            if args.pkcs12_password_file else None
        client.roll_key, client.certificate = load_pkcs12(
            args.pkcs12.read_bytes(), password.encode() if password else None)
        return None
    path = args.roll_key or roll_key_path(args.server, args.election, args.email or "")
    if path.exists():
        client.roll_key = load_roll_key(path, args.election)
    elif args.action == "check-roll" or (args.roll_key is not None and args.action != "enroll"):
        return _fail(f"no roll key at {path} (enroll first, or give --roll-key / --pkcs12)")
    return None


def _enroll(client: Any, args: argparse.Namespace) -> int:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from saylau.voter_client import roll_key_path, save_roll_key

    if not args.election or not args.email:
        return _fail("--election and --email are required to enroll")
    path = args.roll_key or roll_key_path(args.server, args.election, args.email)
    if client.roll_key is None:
        client.roll_key = Ed25519PrivateKey.generate()
        save_roll_key(path, client.roll_key, args.election)
        print(f"new Ed25519 roll key card saved to {path} (a SECRET: keep it; your credential "
              "request is signed with it)")
    client.login(args.email, _read_password(args.password_file))
    answer = client.enroll(args.election)
    print(f"enrolled in {args.election}: {answer['kind']} key {answer['public_key'][:16]}…; "
          "after opening, run `saylau vote check-roll` to see it on the published roll")
    return 0


def _fail(message: str) -> int:
    print(f"saylau vote: {message}", file=sys.stderr)
    return 1


def _usage(message: str) -> int:
    print(f"saylau vote: error: {message}", file=sys.stderr)
    return 2


def parse_choices(items: list[str]) -> dict[str, list[str]]:
    choices: dict[str, list[str]] = {}
    for item in items:
        qid, sep, opts = item.partition("=")
        if not sep or not qid.strip():
            raise ValueError(f"--choice {item!r}: expected QID=OPT[,OPT]")
        if qid.strip() in choices:
            raise ValueError(f"--choice: question {qid.strip()!r} given twice")
        choices[qid.strip()] = [o.strip() for o in opts.split(",") if o.strip()]
    return choices


def _read_password(path: Path | None) -> str:
    if path is None:
        raise ValueError("--password-file is required")
    text = sys.stdin.readline() if str(path) == "-" else path.read_text(encoding="utf-8")
    password = text.splitlines()[0] if text.splitlines() else ""
    if not password:
        raise ValueError("the password file is empty")
    return password


def _write_private(path: Path, data: dict[str, Any]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
        handle.write("\n")


def card_json(election_id: str, server: str, wallet_json: dict[str, Any]) -> dict[str, Any]:
    """The voting card document (also the ``--credential-file`` format)."""
    return {"format": CARD_FORMAT, "election_id": election_id, "server": server, **wallet_json}


def read_card(text: str) -> dict[str, Any]:
    """Parse a voting card (JSON); raises ValueError with a reason."""
    try:
        card = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"the voting card is not JSON: {exc}") from exc
    if not isinstance(card, dict) or not isinstance(card.get("election_id"), str):
        raise ValueError("the voting card has no election_id")
    if card.get("format", CARD_FORMAT) != CARD_FORMAT:
        raise ValueError(f"unknown voting card format {card.get('format')!r}")
    return card


def write_qr(path: Path, card: dict[str, Any]) -> None:
    """The card's compact JSON as an SVG QR code (the qrcode library, on this machine only)."""
    import qrcode
    import qrcode.image.svg

    data = json.dumps(card, separators=(",", ":"), sort_keys=True)
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage,
                        error_correction=qrcode.constants.ERROR_CORRECT_L)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        image.save(handle)


LOST_CARD = ("keep this voting card private and safe (file, printout): it is your only way to "
             "vote; a lost card cannot be replaced, because the blind issuer cannot revoke it")


def _card_command(args: argparse.Namespace) -> int:
    from saylau.voter_client import Wallet

    if args.card_action == "export":
        if args.credential_file is None:
            return _fail("card export needs --credential-file")
        card = read_card(args.credential_file.read_text(encoding="utf-8"))
        Wallet.from_json(card)
        card = card_json(card["election_id"], str(card.get("server", "")),
                         {k: card[k] for k in ("credential", "ballot_private_key")})
        out = args.out or Path(f"voting-card-{card['election_id']}.json")
        _write_private(out, card)
        if args.qr:
            write_qr(args.qr, card)
        print(f"voting card written to {out}" + (f" and {args.qr}" if args.qr else "") +
              f"; {LOST_CARD}")
        return 0
    if args.card_action == "import":
        if args.card is None:
            return _fail("card import needs --card FILE (or '-')")
        text = sys.stdin.read() if str(args.card) == "-" else args.card.read_text(encoding="utf-8")
        card = read_card(text)
        wallet = Wallet.from_json(card)
        if args.server:
            from crypto.credentials import verify_credential
            from saylau.voter_client import VoterClient

            client = VoterClient(args.server, proxy=args.proxy)
            election = client.get_election(card["election_id"])
            try:
                verify_credential(election.issuer_key, wallet.credential, election.election_id)
            except CryptoError as exc:
                return _fail(f"the card's credential does not verify for this election: {exc}")
        target = args.credential_file or Path(f"credential-{card['election_id']}.json")
        if target.exists():
            return _fail(f"{target} exists: not overwriting it")
        _write_private(target, card_json(card["election_id"], str(card.get("server", "")),
                                         wallet.to_json()))
        print(f"voting card imported into {target}")
        return 0
    return _usage("card: say 'export' or 'import'")


def run(args: argparse.Namespace) -> int:
    from saylau.voter_client import VoterClient, VoterClientError, Wallet

    if args.delay is not None and (args.delay < 0 or args.delay > 24 * 3600):
        return _usage("--delay must be between 0 and 86400 seconds")
    try:
        if args.action == "card":
            return _card_command(args)
        if not args.server:
            return _usage("--server is required")
        client = VoterClient(args.server, proxy=args.proxy)
        if args.action in ("enroll", "check-roll", "cast", "credential") and args.election:
            code = _load_roll_key(client, args)
            if code is not None:
                return code
        if args.action == "enroll":
            return _enroll(client, args)
        if args.action == "check-roll":
            election = client.get_election(args.election or "")
            index = client.check_roll(election)
            print(f"your key is on the published roll of {election.election_id} exactly once, "
                  f"at position {index}; the roll is the one the fingerprint binds")
            return 0
        if args.action == "check-receipt":
            if args.receipt is None:
                return _fail("--receipt FILE is required")
            receipt = json.loads(args.receipt.read_text(encoding="utf-8"))
            if not isinstance(receipt, dict):
                return _fail("the receipt file is not a JSON object")
            head = client.check_receipt(receipt)
            print(f"receipt OK: ballot {receipt.get('tracker')} is entry #{receipt.get('index')}; "
                  f"the board (now {head.tree_size} entries) is consistent with your receipt")
            return 0
        if not args.election:
            return _fail("--election is required")
        credential_file = args.credential_file or Path(f"credential-{args.election}.json")
        if args.action == "credential":
            if not args.email:
                return _fail("--email is required to obtain a credential")
            if credential_file.exists():
                return _fail(f"{credential_file} exists: you already have a credential")
            client.login(args.email, _read_password(args.password_file))
            election = client.get_election(args.election)
            wallet = client.obtain_credential(election)
            card = card_json(election.election_id, client.base_url, wallet.to_json())
            _write_private(credential_file, card)
            if args.qr:
                write_qr(args.qr, card)
            print(f"credential obtained: your voting card is {credential_file}"
                  + (f" (QR code: {args.qr})" if args.qr else "") + f"; {LOST_CARD}")
            return 0
        choices = parse_choices(args.choice)
        receipt_out = args.receipt_out or Path(f"receipt-{args.election}.json")
        fresh = False
        card_path = args.card or (credential_file if args.revote else None)
        if card_path is not None:
            if not card_path.exists():
                return _fail(f"no voting card at {card_path}")
            card = read_card(card_path.read_text(encoding="utf-8"))
            if card["election_id"] != args.election:
                return _fail(f"the voting card is for election {card['election_id']!r}")
            wallet = Wallet.from_json(card)
            election = client.get_election(args.election)  # public: no login when casting
        else:
            if not args.email:
                return _fail("--email is required to obtain a credential (or cast with --card)")
            if credential_file.exists():
                return _fail(f"{credential_file} exists: you already have a credential "
                             "(cast with --card, or use another --credential-file)")
            password = _read_password(args.password_file)
            election = client.get_election(args.election)
            if election.raw.get("phase") == "credentials":
                return _fail("voting has not opened yet (credential period): get your voting "
                             "card now with 'saylau vote credential', and cast with --card "
                             "once voting opens")
            client.check_choices(election, choices)
            client.login(args.email, password)
            wallet = client.obtain_credential(election)
            _write_private(credential_file, card_json(election.election_id, client.base_url,
                                                      wallet.to_json()))
            client.token = None  # casting is anonymous
            fresh = True
            print(f"credential obtained; your voting card (with its ballot key) is "
                  f"{credential_file}; {LOST_CARD}")
        print(f"election {election.election_id}: fingerprint {election.fingerprint.hex()} verified")
        client.check_choices(election, choices)
        ballot = client.encrypt(election, wallet, choices)
        limit = args.delay if args.delay is not None else (
            DEFAULT_DELAY_AFTER_ISSUANCE_S if fresh else 0.0)
        delay = secrets.SystemRandom().uniform(0, limit) if limit > 0 else 0.0
        if delay > 0:
            print(f"waiting {delay:.0f} s before casting, so that getting the credential and "
                  "casting are not close in time (--delay 0 to skip)")
        elif fresh:
            print("warning: casting right after getting the credential lets the operator link "
                  "the two by timing (see --delay)", file=sys.stderr)
        receipt = client.cast(election, wallet, ballot=ballot, delay_s=delay)
        receipt_out.write_text(json.dumps(receipt, indent=2) + "\n", encoding="utf-8")
        print(f"ballot cast: tracker {receipt['tracker']}, board entry #{receipt['index']}; "
              f"receipt verified and saved to {receipt_out}")
        return 0
    except (VoterClientError, CryptoError, ValueError, OSError) as exc:
        return _fail(str(exc))
