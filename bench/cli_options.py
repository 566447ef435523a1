"""The options of ``saylau bench cast|sign`` (:mod:`saylau.cmd_bench`) and of
``python -m bench.bench_sign``, and their usage checks, in one place."""

from __future__ import annotations

import argparse
import math

#: the options of 'sign' alone, and those of the HTTP runs ('cast', 'sign' without --in-process)
SIGN_ONLY = ("signatures", "regions", "in_process")
HTTP_ONLY = ("clients", "nodes", "workers", "batch_max", "batch_wait_ms", "rate")


def add_load_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the HTTP load runs and of 'sign' (also ``python -m bench.bench_sign``)."""
    parser.add_argument("--signatures", type=int,
                        help="'sign': signatures sent (default 400, 40 with --quick; "
                             "--in-process: 32, 16 with --quick); 'cast' counts --ballots")
    parser.add_argument("--regions", type=int,
                        help="'sign': regions of the petition (default 20, at most 64 and "
                             "fewer than (bits - 1) / 32)")
    parser.add_argument("--in-process", action="store_true",
                        help="'sign': the server-side checks, board appends and signing.sign() "
                             "in 2 processes on SQLite, without HTTP (the default is end to "
                             "end through gunicorn on PostgreSQL, like 'cast')")
    parser.add_argument("--clients", type=int,
                        help="'cast', 'sign': client threads (connections with --rate; "
                             "default 16)")
    parser.add_argument("--nodes", type=int, help="'cast', 'sign': gunicorn nodes (default 1)")
    parser.add_argument("--workers", type=int,
                        help="'cast', 'sign': gunicorn worker processes per node (default 2)")
    parser.add_argument("--threads", type=int,
                        help="'cast', 'sign': threads per gunicorn worker, or per worker "
                             "process with 'sign --in-process' (default 8)")
    parser.add_argument("--batch-max", type=int,
                        help="BALLOT_BATCH_MAX ('cast') or PETITION_BATCH_MAX ('sign') of the "
                             "nodes (default: the setting's)")
    parser.add_argument("--batch-wait-ms", type=float,
                        help="BALLOT_BATCH_WAIT_MS ('cast') or PETITION_BATCH_WAIT_MS ('sign') "
                             "of the nodes (default: the setting's)")
    parser.add_argument("--rate", type=float,
                        help="'cast', 'sign': open-loop load, requests offered per second "
                             "(default: closed loop, each client waits for its answer)")


def _sign_bits(args: argparse.Namespace) -> tuple[int, ...]:
    from bench.bench_sign_http import DEFAULT_BITS, QUICK_BITS

    return tuple(args.bits) if args.bits else (QUICK_BITS if args.quick else DEFAULT_BITS)


def check_arguments(args: argparse.Namespace, suite: str) -> str | None:
    """The usage error in ``args`` for ``suite``, or None."""
    if args.bits and any(b < 1024 or b % 2 for b in args.bits):
        return "--bits must be even and at least 1024"
    for name in ("ballots", "signatures", "regions", "clients", "nodes", "workers", "threads",
                 "batch_max"):
        value = getattr(args, name, None)
        if value is not None and value < 1:
            return f"--{name.replace('_', '-')} must be at least 1"
    rate = getattr(args, "rate", None)
    if rate is not None and not (rate > 0 and math.isfinite(rate)):
        return "--rate must be positive and finite"
    wait = getattr(args, "batch_wait_ms", None)
    if wait is not None and not (wait >= 0 and math.isfinite(wait)):
        return "--batch-wait-ms must be finite and not negative"
    if suite != "sign":
        given = [name for name in SIGN_ONLY if getattr(args, name, None) not in (None, False)]
        if given:
            return f"--{given[0].replace('_', '-')} applies to 'sign' only"
        return None
    if getattr(args, "ballots", None) is not None:
        return "'sign' counts --signatures, not --ballots"
    if args.in_process:
        given = [name for name in HTTP_ONLY if getattr(args, name, None) is not None]
        if given:
            return (f"--{given[0].replace('_', '-')} applies to the HTTP run, "
                    "not to --in-process")
    if args.regions is not None:
        from crypto.petition import DEFAULT_BASE_BITS, MAX_REGIONS

        if args.regions > MAX_REGIONS:
            return f"--regions must be at most {MAX_REGIONS}"
        for bits in _sign_bits(args):
            most = (bits - 2) // DEFAULT_BASE_BITS  # R·32 < bits − 1
            if args.regions > most:
                return f"--regions: {args.regions} regions do not fit a {bits}-bit key (at most {most})"
    return None
