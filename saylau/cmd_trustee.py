"""``saylau trustee``: a trustee's tools.

* ``check-share --share FILE --public-key FILE [--passphrase-file F]`` — open the share
  and check ``v^(Δ·s_i) = v_i`` against the published key;
* ``decrypt --record DIR|ZIP --share FILE [--passphrase-file F] --out FILE`` — verify the
  board (index, fingerprint, tree heads, every ballot), recompute the encrypted tally
  from the counted ballots *itself*, and write this trustee's partial decryptions with
  proofs (:class:`tally.decrypt.TrusteePartials` JSON);
* ``upload --server URL --election ID --partials FILE --email E --password-file F`` —
  log in as a trustee and upload the partials; the service checks every proof and
  publishes the results once ``k`` valid sets are in;
* ``petition-tallies`` / ``petition-decrypt`` / ``petition-upload`` — the same for a
  petition's by-region tally (:mod:`saylau.cmd_trustee_petition`).

Share files: the sealed ``saylau-trustee-share/v1`` files of the key ceremony (the
passphrase comes from ``--passphrase-file`` or a prompt), or a plain key-share JSON
(test fixtures only).  Exit 0 success, 1 a check failed, 2 usage error.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import Any

from audit.election_verifier import verify_board_record
from audit.record import RecordError, read_record
from crypto.errors import CryptoError, InvalidShare
from crypto.keyfile import FORMAT as SHARE_FORMAT
from crypto.keyfile import decrypt_share
from crypto.threshold import KeyShare, ThresholdPublicKey, check_share
from saylau.cli_common import UsageError, load_json_file
from saylau.progress import StageProgress
from tally.decrypt import trustee_decrypt


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    check = sub.add_parser("check-share", help="check a key share against the published key")
    check.add_argument("--share", type=Path, required=True)
    check.add_argument("--public-key", type=Path, required=True,
                       help="election-public-key.json, or a record's election.json")
    check.add_argument("--passphrase-file", type=Path)
    dec = sub.add_parser("decrypt", help="verify the board and partially decrypt the tally")
    dec.add_argument("--record", type=Path, required=True, help="record directory or .zip")
    dec.add_argument("--share", type=Path, required=True)
    dec.add_argument("--passphrase-file", type=Path)
    dec.add_argument("--out", type=Path, required=True, help="where to write the partials JSON")
    dec.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                     help="recompute the tally's board checks on this Dask distributed cluster")
    dec.add_argument("--force", action="store_true",
                     help="decrypt even if board checks fail (NOT recommended)")
    up = sub.add_parser("upload", help="upload partial decryptions to the voting service")
    up.add_argument("--server", required=True, help="e.g. http://127.0.0.1:5000")
    up.add_argument("--election", required=True)
    up.add_argument("--partials", type=Path, required=True)
    up.add_argument("--email", required=True, help="the trustee's account")
    up.add_argument("--password-file", type=Path, required=True)
    from saylau import cmd_trustee_petition

    cmd_trustee_petition.add_subcommands(sub)
    kg = sub.add_parser("keygen", help="generate the election key with the other trustees "
                        "(no dealer; docs §4.7)")
    from saylau.cmd_keygen import add_keygen_arguments

    add_keygen_arguments(kg)


def _passphrase(path: Path | None) -> str:
    if path is not None:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise UsageError(f"passphrase file {path}: cannot read ({exc.strerror})") from exc
        if not lines or not lines[0]:
            raise UsageError(f"passphrase file {path}: empty")
        return lines[0]
    return getpass.getpass("share passphrase: ")


def load_share(path: Path, passphrase_file: Path | None) -> KeyShare:
    """Open a sealed share file (or a plain test key share)."""
    obj = load_json_file(path, "share")
    try:
        if isinstance(obj, dict) and obj.get("format") == SHARE_FORMAT:
            return decrypt_share(obj, _passphrase(passphrase_file))
        return KeyShare.from_json(obj)
    except CryptoError as exc:
        raise UsageError(f"share {path}: {exc}") from exc


def load_public_key(path: Path) -> ThresholdPublicKey:
    obj: Any = load_json_file(path, "public key")
    if isinstance(obj, dict) and "election_key" in obj:
        obj = obj["election_key"]
    elif isinstance(obj, dict) and "election_public_key" in obj:
        obj = obj["election_public_key"]
    try:
        return ThresholdPublicKey.from_json(obj)
    except CryptoError as exc:
        raise UsageError(f"public key {path}: {exc}") from exc


def _check_share(args: argparse.Namespace) -> int:
    tpk = load_public_key(args.public_key)
    share = load_share(args.share, args.passphrase_file)
    try:
        if share.public != tpk:
            raise InvalidShare("the share belongs to a different election public key")
        check_share(share)
    except CryptoError as exc:
        print(f"FAIL: {exc}", file=sys.stderr)
        return 1
    print(f"OK: share {share.index} of {tpk.trustees} matches its verification key "
          f"({tpk.threshold} of {tpk.trustees} needed to decrypt)")
    return 0


def _decrypt(args: argparse.Namespace) -> int:
    try:
        record = read_record(args.record, strict=False)
    except RecordError as exc:
        raise UsageError(f"cannot read the record: {exc}") from exc
    share = load_share(args.share, args.passphrase_file)
    progress = StageProgress()
    checked = verify_board_record(record, progress=progress,
                                  scheduler=getattr(args, "scheduler", None))
    progress.close()
    report = checked.report
    failed = report.failed()
    for c in report.checks:
        print(f"  [{'PASS' if c.ok else 'FAIL'}] {c.name}: {c.message}")
        if not c.ok:
            for detail in c.details[:20]:
                print(f"         - {detail}")
    if checked.tally is None or checked.tpk is None or checked.fingerprint is None:
        print("FAIL: the record's election keys are unusable; nothing decrypted", file=sys.stderr)
        return 1
    if failed and not args.force:
        print(f"FAIL: board checks failed ({', '.join(c.name for c in failed)}); refusing to "
              "decrypt", file=sys.stderr)
        return 1
    if share.public != checked.tpk:
        print("FAIL: your share is not for this election's key", file=sys.stderr)
        return 1
    try:
        check_share(share)
        partials = trustee_decrypt(share, checked.tally, fingerprint=checked.fingerprint)
    except CryptoError as exc:
        print(f"FAIL: {exc}", file=sys.stderr)
        return 1
    try:
        args.out.write_text(json.dumps(partials.to_json(), indent=1, sort_keys=True) + "\n",
                            encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {args.out}: {exc.strerror}") from exc
    print(f"OK: trustee {share.index} decrypted {len(partials.partials)} tally ciphertexts of "
          f"{len(checked.tally.counted)} counted ballots -> {args.out}")
    return 0


def _upload(args: argparse.Namespace) -> int:
    from saylau.voter_client import VoterClient, VoterClientError

    partials = load_json_file(args.partials, "partials")
    try:
        password = args.password_file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise UsageError(f"cannot read {args.password_file}: {exc.strerror}") from exc
    client = VoterClient(args.server)
    try:
        client.login(args.email, password)
        outcome = client.upload_partials(args.election, partials)
    except VoterClientError as exc:
        print(f"saylau trustee upload: refused: {exc}", file=sys.stderr)
        return 1
    state = "results published" if outcome.get("published") else "waiting for more trustees"
    print(f"OK: uploaded trustee {outcome.get('trustee_index')}'s partial decryptions "
          f"({outcome.get('valid_sets')}/{outcome.get('threshold')} valid sets; {state})")
    return 0


def run(args: argparse.Namespace) -> int:
    try:
        if args.action == "check-share":
            return _check_share(args)
        if args.action == "decrypt":
            return _decrypt(args)
        if args.action.startswith("petition-"):
            from saylau import cmd_trustee_petition

            return cmd_trustee_petition.run(args, load_share)
        if args.action == "keygen":
            from saylau.cmd_keygen import keygen

            return keygen(args)
        return _upload(args)
    except UsageError as exc:
        print(f"saylau trustee {args.action}: error: {exc}", file=sys.stderr)
        return 2
