"""What the ``saylau`` subcommands share: the usage error (exit 2), reading JSON inputs and
a share passphrase."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Any


class UsageError(Exception):
    """A usage error: the command prints it and exits 2."""


def load_json_file(path: Path, what: str) -> Any:
    """Read a JSON file or raise :class:`UsageError` with a clear message."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise UsageError(f"{what} {path}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{what} {path}: cannot read ({exc})") from exc
    try:
        return json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{what} {path}: not valid JSON ({exc})") from exc


def read_passphrase(path: Path | None) -> str:
    """A share passphrase: the first line of ``path``, or asked on the terminal if ``None``."""
    if path is not None:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise UsageError(f"passphrase file {path}: cannot read ({exc.strerror})") from exc
        if not lines or not lines[0]:
            raise UsageError(f"passphrase file {path}: empty")
        return lines[0]
    return getpass.getpass("share passphrase: ")
