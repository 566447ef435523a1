"""JSON text from untrusted requests (bodies, pasted receipts, uploaded files).

RFC 8259 JSON only: the ``NaN``/``Infinity`` literals Python's parser accepts are
refused, and so is a nesting too deep for the parser (a ``RecursionError``, which is
not a ``ValueError``, would otherwise surface as a 500).  Every malformed input raises
``ValueError`` (``UnicodeDecodeError`` for bytes that are not UTF-8/16/32 is one).
"""

from __future__ import annotations

import json
from typing import Any


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def loads(data: str | bytes) -> Any:
    """``json.loads`` for untrusted input; raises ``ValueError`` on anything malformed."""
    try:
        return json.loads(data, parse_constant=_no_constant)
    except RecursionError as exc:
        raise ValueError("JSON nested too deeply") from exc
