"""Time as the API shows it: milliseconds since the epoch and ISO 8601 UTC strings."""

from __future__ import annotations

import datetime as dt
import time

from app.security import aware


def now_ms() -> int:
    """Milliseconds since the Unix epoch (tree-head and board timestamps)."""
    return time.time_ns() // 1_000_000


def iso_z(value: dt.datetime | None) -> str | None:
    """``2026-01-02T03:04:05Z`` (naive values are UTC), or ``None``."""
    v = aware(value)
    return v.isoformat().replace("+00:00", "Z") if v else None
