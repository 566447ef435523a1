"""``saylau verify-audit --election FILE --audited FILE``: check a Benaloh-audited ballot.

``--election``: a record directory or .zip, a record's ``election.json`` (its sibling
``manifest.json`` is read too), or the service's public election JSON (with
``manifest`` and ``election_public_key``).  ``--audited``: an audited board entry
(``{"kind": "audited", "ballot", "secrets"}``) or ``{"ballot", "secrets"}``.
Re-encrypts every option with the revealed plaintext and randomness
(:func:`crypto.ballot.verify_audited_ballot`) and prints the choices.
Exit 0 the ballot opens to the printed choices, 1 it does not, 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

from audit.record import ELECTION, MANIFEST, RecordError, read_record
from crypto.ballot import BallotSecrets, EncryptedBallot, verify_audited_ballot
from crypto.election import Manifest
from crypto.errors import CryptoError
from crypto.threshold import ThresholdPublicKey
from saylau.cli_common import UsageError, load_json_file


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--election", type=Path, required=True,
                        help="record directory/.zip, election.json, or the public election JSON")
    parser.add_argument("--audited", type=Path, required=True,
                        help="the audited ballot: board entry or {ballot, secrets} JSON")
    parser.add_argument("--json", action="store_true", help="print the choices as JSON")


def load_election(path: Path) -> tuple[Manifest, ThresholdPublicKey]:
    """Manifest and election key from a record, election.json or the public election JSON."""
    try:
        if path.is_dir() or (path.is_file() and zipfile.is_zipfile(path)):
            record = read_record(path, strict=False)
            return Manifest.from_json(record.get(MANIFEST)), record.election_key()
        obj = load_json_file(path, "election")
        if not isinstance(obj, dict):
            raise UsageError(f"election {path}: expected a JSON object")
        manifest_obj: Any = obj.get("manifest")
        if manifest_obj is None:
            sibling = path.parent / MANIFEST
            if path.name != ELECTION and not sibling.exists():
                raise UsageError(f"election {path}: no manifest in it and no {MANIFEST} beside it")
            manifest_obj = load_json_file(sibling, "manifest")
        key_obj = obj.get("election_key", obj.get("election_public_key"))
        if not isinstance(key_obj, dict):
            raise UsageError(f"election {path}: no election public key")
        return Manifest.from_json(manifest_obj), ThresholdPublicKey.from_json(key_obj)
    except RecordError as exc:
        raise UsageError(str(exc)) from exc
    except CryptoError as exc:
        raise UsageError(f"election {path}: {exc}") from exc


def run(args: argparse.Namespace) -> int:
    try:
        manifest, tpk = load_election(args.election)
        audited = load_json_file(args.audited, "audited ballot")
        if not isinstance(audited, dict):
            raise UsageError("audited ballot: expected a JSON object")
        secrets_obj = audited.get("secrets", audited.get("audit"))
        try:
            ballot = EncryptedBallot.from_json(audited.get("ballot"))
            secrets_ = BallotSecrets.from_json(secrets_obj)
        except CryptoError as exc:
            raise UsageError(f"audited ballot: {exc}") from exc
    except UsageError as exc:
        print(f"saylau verify-audit: error: {exc}", file=sys.stderr)
        return 2
    if ballot.election_id != manifest.election_id:
        print("FAIL: the audited ballot is for another election", file=sys.stderr)
        return 1
    try:
        chosen = verify_audited_ballot(tpk.public, manifest, ballot, secrets_)
    except CryptoError as exc:
        print(f"FAIL: the audited ballot does not open: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"valid": True, "choices": chosen}, indent=2))
        return 0
    print("OK: the audited ballot encrypts exactly these choices:")
    for q in manifest.questions:
        labels = {o.id: o.label for o in q.options}
        picked = [labels.get(o, o) for o in chosen.get(q.id, [])]
        print(f"  {q.title}: {', '.join(picked) if picked else '(none)'}")
    print("If these are not the choices you made, your device changed your vote: report it.")
    return 0
