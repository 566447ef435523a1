"""The ``saylau`` console script.

Each subcommand lives in its own module with ``add_arguments(parser)`` and
``run(args) -> int``; the module is imported only when its subcommand runs, so
``saylau verify`` never imports Flask or SQLAlchemy.  Exit status: 0 success, 1 a
check failed, 2 usage error.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from saylau import __version__

#: name -> (module, one-line help).  Modules are imported lazily.
COMMANDS: dict[str, tuple[str, str]] = {
    "verify": ("saylau.cmd_verify", "verify a published election or petition record (no database, no server)"),
    "verify-audit": ("saylau.cmd_verify_audit", "check a Benaloh-audited (spoiled) ballot's decryption"),
    "ceremony": ("saylau.cmd_ceremony", "k-of-n trustee key ceremony: threshold Paillier key and share files"),
    "trustee": ("saylau.cmd_trustee", "trustee tools: check a share, verify the board, partially decrypt the tally"),
    "tally": ("saylau.cmd_tally", "tally a record's board offline and write results with partial decryptions"),
    "vote": ("saylau.cmd_vote", "the Python voter client: log in, get a credential, encrypt, cast, check a receipt"),
    "simulate": ("saylau.cmd_simulate", "rehearse a whole election through the real HTTP API and write its record"),
    "bench": ("saylau.cmd_bench", "benchmarks (crypto, verify, sign) as ratios to the raw gmpy2.powmod floor"),
    "serve": ("saylau.cmd_serve", "run the web application (development server)"),
    "db": ("saylau.cmd_db", "database: upgrade (Alembic migrations), seed-demo"),
}


def _usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = [
        "usage: saylau [--version] <command> [<args>]",
        "",
        "Saylau — verifiable electronic voting and e-petitions.",
        "",
        "commands:",
    ]
    lines += [f"  {name.ljust(width)}  {text}" for name, (_, text) in COMMANDS.items()]
    lines += ["", "Run 'saylau <command> --help' for a command's options."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help", "help"}:
        print(_usage())
        return 0 if args else 2
    if args[0] == "--version":
        print(f"saylau {__version__}")
        return 0
    name = args[0]
    if name not in COMMANDS:
        print(f"saylau: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module_name, text = COMMANDS[name]
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(prog=f"saylau {name}", description=text)
    module.add_arguments(parser)
    try:
        parsed = parser.parse_args(args[1:])
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    try:
        return int(module.run(parsed))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
