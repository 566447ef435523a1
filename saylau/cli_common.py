"""What the ``saylau`` subcommands share: the usage error (exit 2) and reading JSON inputs."""

from __future__ import annotations

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
