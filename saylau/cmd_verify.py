"""``saylau verify RECORD [--receipt FILE] [--json]``: the independent verifier.

Imports only :mod:`audit`, :mod:`tally` and :mod:`crypto` (never Flask, SQLAlchemy or
the web app).  Exit status: 0 every check passed, 1 a check failed (each named), 2 usage
error (missing file, unreadable record).

Election and petition records are told apart by their files (``petition.json``: a
petition record, format ``saylau-petition-record/v1``).  ``--json`` prints
``{"valid", "election_id", "checks", "tally"}``; a petition record adds ``"kind":
"petition"`` and ``"petition_id"`` (``"petition:<n>"``, also in ``election_id``) and its
``tally`` is ``{"regions": {region_id: count}}``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from audit.record import RecordError, read_record
from audit.verifier import verify_record
from crypto.encoding import hex_to_bytes
from crypto.errors import CryptoError
from saylau.cli_common import UsageError, load_json_file
from saylau.progress import StageProgress


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("record", type=Path,
                        help="election or petition record directory or .zip")
    parser.add_argument("--receipt", type=Path,
                        help="a voter's receipt (JSON from the cast API) to check as well")
    parser.add_argument("--json", action="store_true",
                        help='machine-readable output: {"valid", "checks", "tally"}')
    parser.add_argument("--fingerprint",
                        help="the election fingerprint (hex) you expect, e.g. from your ballot")
    parser.add_argument("--allow-test-keys", action="store_true",
                        help="accept election keys below 2048 bits (test records only)")
    parser.add_argument("--workers", type=int, default=None,
                        help="processes for ballot-proof checking (default 2; 1 = none)")
    parser.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                        help="check the ballot proofs on this Dask distributed cluster")


def run(args: argparse.Namespace) -> int:
    try:
        receipt = load_json_file(args.receipt, "receipt") if args.receipt else None
        if receipt is not None and not isinstance(receipt, dict):
            raise UsageError(f"receipt {args.receipt}: expected a JSON object")
        expected = None
        if args.fingerprint:
            try:
                expected = hex_to_bytes(args.fingerprint.strip().lower(), "fingerprint", 32)
            except CryptoError as exc:
                raise UsageError(f"--fingerprint: {exc}") from exc
        if args.workers is not None and args.workers < 1:
            raise UsageError("--workers must be at least 1")
        record = read_record(args.record, strict=False, stream_board=True)
    except UsageError as exc:
        print(f"saylau verify: error: {exc}", file=sys.stderr)
        return 2
    except RecordError as exc:
        print(f"saylau verify: error: cannot read the record: {exc}", file=sys.stderr)
        return 2
    progress = StageProgress(enabled=False if args.json else None)
    try:
        report = verify_record(record, receipt, progress, workers=args.workers,
                               expected_fingerprint=expected, scheduler=args.scheduler,
                               allow_test_keys=True if args.allow_test_keys else None)
    except (CryptoError, ValueError, KeyError, TypeError) as exc:
        progress.close()
        print(f"saylau verify: verification could not complete: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # a malformed record must never end in a traceback
        progress.close()
        print(f"saylau verify: verification could not complete ({type(exc).__name__}): {exc}",
              file=sys.stderr)
        return 1
    progress.close()
    if args.json:
        out = report.to_json()
        doc = {"valid": out["valid"], "election_id": out["election_id"],
               "checks": out["checks"], "tally": out["tally"], "verdict": out["verdict"]}
        if out["verdict"] == "operator-fault":
            doc.update(operator_faults=out["operator_faults"],
                       valid_entries_tally=out["valid_entries_tally"])
        if record.kind == "petition":
            doc.update(kind="petition", petition_id=out["election_id"])
        print(json.dumps(doc, indent=2))
    else:
        print(report.render_text())
    return 0 if report.valid else 1
