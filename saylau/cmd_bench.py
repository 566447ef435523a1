"""``saylau bench crypto|verify|sign|cast|size|keygen [--quick] [--bits B …] [--json]``.

Timing figures are ratios to the raw ``gmpy2.powmod(r, n, n²)`` floor measured in the
same run, never absolute promises.  ``cast`` and ``sign`` run end to end over HTTP through
gunicorn on PostgreSQL (``sign --in-process``: the server side without HTTP).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

from bench.cli_options import add_load_arguments, check_arguments

SUITES = {"crypto": "bench.bench_crypto", "verify": "bench.bench_verify", "sign": "bench.bench_sign",
          "cast": "bench.bench_cast", "size": "bench.bench_size",
          "keygen": "bench.bench_keygen"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("suite", choices=sorted(SUITES), help="what to benchmark")
    parser.add_argument("--quick", action="store_true", help="a smoke test at 1024 bits")
    parser.add_argument("--bits", type=int, nargs="+",
                        help="modulus sizes (default 2048 3072; 3072 for 'cast' and 'sign')")
    parser.add_argument("--ballots", type=int,
                        help="'verify': board size (default 8); 'cast': casts sent (default "
                             "400, 40 with --quick); 'size': ballots (default 16)")
    add_load_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--svg", type=Path, help="also write the results as an SVG bar chart")


def run(args: argparse.Namespace) -> int:
    error = check_arguments(args, args.suite)
    if error is not None:
        print(f"saylau bench: error: {error}", file=sys.stderr)
        return 2
    module = importlib.import_module(SUITES[args.suite])
    kwargs = {"quick": args.quick, "bits": tuple(args.bits) if args.bits else None}
    if args.suite in ("verify", "cast", "size"):
        kwargs["ballots"] = args.ballots
    if args.suite in ("cast", "sign"):
        kwargs["threads"] = args.threads
        if not (args.suite == "sign" and args.in_process):
            kwargs["clients"] = args.clients
            kwargs["nodes"] = args.nodes
            kwargs["workers"] = args.workers
            kwargs["batch_max"] = args.batch_max
            kwargs["batch_wait_ms"] = args.batch_wait_ms
            kwargs["rate"] = args.rate
    if args.suite == "sign":
        kwargs["signatures"] = args.signatures
        kwargs["regions"] = args.regions
        kwargs["in_process"] = args.in_process
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
