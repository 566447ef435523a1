"""``saylau ceremony``: the k-of-ℓ trustee key ceremony (trusted dealer).

Writes ``OUT/election-public-key.json`` and ``OUT/trustee-<i>.share.json`` (sealed with
each trustee's passphrase).  Exit 0 on success, 1 if generation fails, 2 on bad
arguments.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from crypto.errors import CryptoError
from crypto.keyfile import FAST_TEST_KDF
from crypto.paillier import DEFAULT_BITS, MIN_PRODUCTION_BITS, MIN_TEST_BITS
from crypto.threshold import MAX_TRUSTEES
from saylau.progress import Progress
from tally.ceremony import run_ceremony


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--trustees", type=int, required=True, help="number of trustees ℓ")
    parser.add_argument("--threshold", type=int, required=True, help="shares needed to decrypt k")
    parser.add_argument("--bits", type=int, default=DEFAULT_BITS, help="modulus length (default 3072)")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument(
        "--passphrase-file",
        type=Path,
        help="file with one passphrase per line, one per trustee, in order (otherwise prompts)",
    )
    parser.add_argument(
        "--test-key", action="store_true", help="allow 1024-bit keys (TESTS ONLY, never an election)"
    )
    parser.add_argument(
        "--kdf-fast", action="store_true", help="cheap Argon2id parameters (TESTS ONLY)"
    )


def _usage_error(message: str) -> int:
    print(f"saylau ceremony: error: {message}", file=sys.stderr)
    return 2


def _read_passphrases(args: argparse.Namespace) -> list[str]:
    if args.passphrase_file is not None:
        try:
            lines = args.passphrase_file.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ValueError(f"cannot read passphrase file: {exc.strerror}") from exc
        lines = [line for line in lines if line != ""]
        if len(lines) != args.trustees:
            raise ValueError(
                f"passphrase file has {len(lines)} non-empty line(s); {args.trustees} needed"
            )
        return lines
    phrases = []
    for i in range(1, args.trustees + 1):
        first = getpass.getpass(f"trustee {i} passphrase: ")
        if not first:
            raise ValueError("empty passphrase")
        if getpass.getpass(f"trustee {i} passphrase (again): ") != first:
            raise ValueError(f"trustee {i}: passphrases do not match")
        phrases.append(first)
    return phrases


def run(args: argparse.Namespace) -> int:
    floor = MIN_TEST_BITS if args.test_key else MIN_PRODUCTION_BITS
    if not 1 <= args.trustees <= MAX_TRUSTEES:
        return _usage_error(f"--trustees must be between 1 and {MAX_TRUSTEES}")
    if not 1 <= args.threshold <= args.trustees:
        return _usage_error(
            f"--threshold must be between 1 and --trustees ({args.threshold} > {args.trustees})"
            if args.threshold > args.trustees
            else "--threshold must be at least 1"
        )
    if args.bits < floor or args.bits % 2:
        hint = "" if args.test_key else " (--test-key allows 1024 for tests)"
        return _usage_error(f"--bits must be even and at least {floor}{hint}")
    out: Path = args.out
    if out.exists() and not out.is_dir():
        return _usage_error(f"{out} is not a directory")
    try:
        passphrases = _read_passphrases(args)
    except ValueError as exc:
        return _usage_error(str(exc))

    with Progress("generating key") as bar:

        def report(text: str) -> None:
            bar.note(text)

        try:
            result = run_ceremony(
                out,
                bits=args.bits,
                trustees=args.trustees,
                threshold=args.threshold,
                passphrases=passphrases,
                allow_test_key=args.test_key,
                kdf=FAST_TEST_KDF if args.kdf_fast else None,
                progress=report,
            )
        except ValueError as exc:
            return _usage_error(str(exc))
        except (CryptoError, OSError) as exc:
            print(f"saylau ceremony: failed: {exc}", file=sys.stderr)
            return 1
    del passphrases

    tpk = result.public_key
    print(f"threshold key: {tpk.threshold}-of-{tpk.trustees}, n of {tpk.n.bit_length()} bits")
    print(f"fingerprint:   {tpk.fingerprint().hex()}")
    print(f"public key:    {result.public_key_path}")
    for path in result.share_paths:
        print(f"share:         {path}")
    if args.test_key or args.kdf_fast:
        print("WARNING: test parameters — never use these files for an election")
    print("Give each trustee their share file; keep no copy. The dealer's secrets were not written.")
    return 0
