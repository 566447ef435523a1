"""``saylau vote``: the Python voter client on the command line.

    saylau vote --server URL --election ID --email E --password-file F \\
        --choice QID=OPT[,OPT] ... [--receipt-out FILE] [--credential-file FILE] [--revote]
    saylau vote check-receipt --server URL --receipt FILE
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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", nargs="?", default="cast", choices=["cast", "check-receipt"],
                        help="cast a ballot (default) or check a saved receipt")
    parser.add_argument("--server", required=True, help="base URL, e.g. http://127.0.0.1:5000")
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
    parser.add_argument("--delay", type=float, default=0.0, metavar="SECONDS",
                        help="wait a random time up to SECONDS between getting the credential "
                             "and casting, so that the two are harder to link by timing")
    parser.add_argument("--revote", action="store_true",
                        help="cast again with the credential kept in --credential-file")
    parser.add_argument("--receipt", type=Path, help="receipt file to check (check-receipt)")


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


def run(args: argparse.Namespace) -> int:
    from saylau.voter_client import VoterClient, VoterClientError, Wallet

    if args.delay < 0 or args.delay > 24 * 3600:
        return _usage("--delay must be between 0 and 86400 seconds")
    try:
        client = VoterClient(args.server)
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
        if not args.election or not args.email:
            return _fail("--election and --email are required to cast")
        choices = parse_choices(args.choice)
        password = _read_password(args.password_file)
        credential_file = args.credential_file or Path(f"credential-{args.election}.json")
        receipt_out = args.receipt_out or Path(f"receipt-{args.election}.json")
        client.login(args.email, password)
        election = client.get_election(args.election)
        print(f"election {election.election_id}: fingerprint {election.fingerprint.hex()} verified")
        client.check_choices(election, choices)
        if args.revote:
            if not credential_file.exists():
                return _fail(f"--revote needs the credential file {credential_file}")
            wallet = Wallet.from_json(json.loads(credential_file.read_text(encoding="utf-8")))
        else:
            if credential_file.exists():
                return _fail(f"{credential_file} exists: you already have a credential "
                             "(use --revote, or another --credential-file)")
            wallet = client.obtain_credential(election)
            _write_private(credential_file, {"election_id": election.election_id,
                                             "server": client.base_url, **wallet.to_json()})
            print(f"credential obtained; kept (with its ballot key) in {credential_file}")
        ballot = client.encrypt(election, wallet, choices)
        delay = secrets.SystemRandom().uniform(0, args.delay) if args.delay > 0 else 0.0
        receipt = client.cast(election, wallet, ballot=ballot, delay_s=delay)
        receipt_out.write_text(json.dumps(receipt, indent=2) + "\n", encoding="utf-8")
        print(f"ballot cast: tracker {receipt['tracker']}, board entry #{receipt['index']}; "
              f"receipt verified and saved to {receipt_out}")
        return 0
    except (VoterClientError, CryptoError, ValueError, OSError) as exc:
        return _fail(str(exc))
