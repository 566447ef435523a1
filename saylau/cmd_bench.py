"""``saylau bench crypto|verify|sign|cast|size [--quick] [--bits B …] [--json]``.

Timing figures are ratios to the raw ``gmpy2.powmod(r, n, n²)`` floor measured in the
same run, never absolute promises.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

SUITES = {"crypto": "bench.bench_crypto", "verify": "bench.bench_verify", "sign": "bench.bench_sign",
          "cast": "bench.bench_cast", "size": "bench.bench_size",
          "keygen": "bench.bench_keygen"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("suite", choices=sorted(SUITES), help="what to benchmark")
    parser.add_argument("--quick", action="store_true", help="a smoke test at 1024 bits")
    parser.add_argument("--bits", type=int, nargs="+", help="modulus sizes (default 2048 3072)")
    parser.add_argument("--ballots", type=int, help="board size for 'verify' (default 8)")
    parser.add_argument("--clients", type=int, help="client threads for 'cast' (default 16)")
    parser.add_argument("--nodes", type=int, help="gunicorn nodes for 'cast' (default 1)")
    parser.add_argument("--threads", type=int,
                        help="threads per gunicorn worker for 'cast' (default 8)")
    parser.add_argument("--batch-max", type=int,
                        help="BALLOT_BATCH_MAX of the nodes for 'cast' (default: the setting's)")
    parser.add_argument("--batch-wait-ms", type=float,
                        help="BALLOT_BATCH_WAIT_MS of the nodes for 'cast' (default: the setting's)")
    parser.add_argument("--rate", type=float,
                        help="'cast': open-loop load, casts offered per second (default: "
                             "closed loop, each client waits for its answer)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--svg", type=Path, help="also write the results as an SVG bar chart")


def run(args: argparse.Namespace) -> int:
    if args.bits and any(b < 1024 or b % 2 for b in args.bits):
        print("saylau bench: error: --bits must be even and at least 1024", file=sys.stderr)
        return 2
    for name in ("ballots", "clients", "nodes", "threads", "batch_max"):
        value = getattr(args, name, None)
        if value is not None and value < 1:
            print(f"saylau bench: error: --{name.replace('_', '-')} must be at least 1",
                  file=sys.stderr)
            return 2
    if getattr(args, "rate", None) is not None and not args.rate > 0:
        print("saylau bench: error: --rate must be positive", file=sys.stderr)
        return 2
    if getattr(args, "batch_wait_ms", None) is not None and args.batch_wait_ms < 0:
        print("saylau bench: error: --batch-wait-ms must not be negative", file=sys.stderr)
        return 2
    module = importlib.import_module(SUITES[args.suite])
    kwargs = {"quick": args.quick, "bits": tuple(args.bits) if args.bits else None}
    if args.suite in ("verify", "cast", "size"):
        kwargs["ballots"] = args.ballots
    if args.suite == "cast":
        kwargs["clients"] = args.clients
        kwargs["nodes"] = args.nodes
        kwargs["threads"] = args.threads
        kwargs["batch_max"] = args.batch_max
        kwargs["batch_wait_ms"] = args.batch_wait_ms
        kwargs["rate"] = args.rate
    if args.json:
        results = module.run(**kwargs, out=lambda _line: None)
        print(json.dumps(results, indent=2))
    else:
        results = module.run(**kwargs)
    if args.svg:
        from bench.chart import chart_for

        args.svg.write_text(chart_for(args.suite, results), encoding="utf-8")
        if not args.json:
            print(f"chart written to {args.svg}")
    return 0
