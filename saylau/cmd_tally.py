"""``saylau tally --record DIR --partials F1 F2 F3 --out DIR [--board-key FILE]``.

Verifies the board, recomputes the encrypted tally from the counted ballots, checks and
combines the trustees' partial decryptions (bad ones are skipped and reported) and
writes the completed record (results, encrypted tally, partials) to ``--out``.  The
record index is signed with the board key (``--board-key``: a file holding the 32-byte
Ed25519 seed in hex); without it only the three tally files are written, unsigned.
Exit 0 success, 1 a check or the decryption failed, 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from audit.record import ENCRYPTED_TALLY, PARTIALS, RESULTS, RecordError, read_record, write_record
from audit.tally_completion import complete_record
from crypto.errors import CryptoError
from crypto.tree_head import BoardSigningKey
from saylau.cli_common import UsageError, load_json_file
from saylau.progress import StageProgress


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--record", type=Path, required=True, help="record directory or .zip")
    parser.add_argument("--partials", type=Path, nargs="+", required=True,
                        help="trustees' partial-decryption files (saylau trustee decrypt)")
    parser.add_argument("--out", type=Path, required=True,
                        help="output record directory (or .zip)")
    parser.add_argument("--board-key", type=Path,
                        help="file with the board's Ed25519 seed (hex) to sign the record index")


def run(args: argparse.Namespace) -> int:
    try:
        try:
            record = read_record(args.record, strict=False)
        except RecordError as exc:
            raise UsageError(f"cannot read the record: {exc}") from exc
        partials = [load_json_file(p, "partials") for p in args.partials]
        key = None
        if args.board_key is not None:
            try:
                key = BoardSigningKey.from_seed_hex(
                    args.board_key.read_text(encoding="utf-8").strip())
            except OSError as exc:
                raise UsageError(f"board key {args.board_key}: {exc.strerror}") from exc
            except CryptoError as exc:
                raise UsageError(f"board key {args.board_key}: {exc}") from exc
    except UsageError as exc:
        print(f"saylau tally: error: {exc}", file=sys.stderr)
        return 2
    progress = StageProgress()
    try:
        done = complete_record(record, partials, progress=progress)
    except (CryptoError, ValueError) as exc:
        progress.close()
        print(f"saylau tally: FAIL: {exc}", file=sys.stderr)
        return 1
    progress.close()
    for reason in done.rejected:
        print(f"  rejected partial: {reason}", file=sys.stderr)
    try:
        if key is not None:
            if key.public_key_bytes() != record.board_public_key():
                print("saylau tally: error: --board-key is not this election's board key",
                      file=sys.stderr)
                return 2
            write_record(args.out, done.files, key)
        else:
            args.out.mkdir(parents=True, exist_ok=True)
            for name in (ENCRYPTED_TALLY, PARTIALS, RESULTS):
                (args.out / name).write_text(json.dumps(done.files[name], sort_keys=True) + "\n",
                                             encoding="utf-8")
            print("note: no --board-key: wrote the tally files only (not a signed record)",
                  file=sys.stderr)
    except OSError as exc:
        print(f"saylau tally: error: cannot write {args.out}: {exc.strerror}", file=sys.stderr)
        return 2
    print("Results:")
    for q, opts in done.results.items():
        print(f"  {q}: " + ", ".join(f"{o}={n}" for o, n in opts.items()))
    print(f"written to {args.out}")
    return 0
