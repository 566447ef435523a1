"""The open-redirect guard for ``next=`` targets, shared by the login pages
(:mod:`app.blueprints.auth`, through :mod:`app.hardening`) and the language switch
(:mod:`app.i18n`).  No app imports: the modules below the request layer may use it.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

#: Every C0 control character and DEL.
CONTROL_STRICT = re.compile(r"[\x00-\x1f\x7f]")


def safe_next(target: str | None, default: str) -> str:
    """``target`` if it is a same-site absolute path, else ``default`` (open-redirect guard).

    Checked as given and percent-decoded: no control character, no backslash, starts
    with exactly one ``/`` (so no scheme, no host, no ``//host``).
    """
    if not target or not isinstance(target, str):
        return default
    for candidate in (target, unquote(target)):
        if CONTROL_STRICT.search(candidate) or "\\" in candidate:
            return default
        if not candidate.startswith("/") or candidate.startswith("//"):
            return default
    return target


__all__ = ["CONTROL_STRICT", "safe_next"]
