"""The verifier's report: named checks with pass/fail and messages (``saylau verify``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_DETAILS_SHOWN = 20


@dataclass
class Check:
    """One named check: ``ok`` and a one-line ``message``; ``details`` name what failed."""

    name: str
    ok: bool
    message: str
    details: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "message": self.message,
                "details": list(self.details)}


@dataclass
class Report:
    """All checks of one record; ``valid`` iff every check passed; ``tally`` then set."""

    source: str
    checks: list[Check] = field(default_factory=list)
    tally: dict[str, dict[str, int]] | None = None
    election_id: str | None = None

    @property
    def valid(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def check(self, name: str) -> Check | None:
        for c in self.checks:
            if c.name == name:
                return c
        return None

    def add(self, name: str, ok: bool, message: str, details: list[str] | None = None) -> Check:
        item = Check(name, ok, message, list(details or []))
        self.checks.append(item)
        return item

    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def to_json(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "source": self.source,
            "election_id": self.election_id,
            "checks": [c.to_json() for c in self.checks],
            "tally": self.tally if self.valid else None,
        }

    def render_text(self) -> str:
        lines = [f"Election record: {self.source}"]
        if self.election_id:
            lines.append(f"Election: {self.election_id}")
        lines.append("")
        width = max((len(c.name) for c in self.checks), default=10)
        for c in self.checks:
            mark = "PASS" if c.ok else "FAIL"
            lines.append(f"  [{mark}] {c.name.ljust(width)}  {c.message}")
            if not c.ok:
                for detail in c.details[:MAX_DETAILS_SHOWN]:
                    lines.append(f"         - {detail}")
                if len(c.details) > MAX_DETAILS_SHOWN:
                    lines.append(f"         … and {len(c.details) - MAX_DETAILS_SHOWN} more")
        lines.append("")
        if self.valid and self.tally is not None:
            lines.append("RESULT: the record is VALID. Verified tally:")
            for q, opts in self.tally.items():
                lines.append(f"  {q}:")
                for o, count in opts.items():
                    lines.append(f"    {o}: {count}")
        else:
            names = ", ".join(c.name for c in self.failed())
            lines.append(f"RESULT: the record is NOT valid; failed: {names}")
        return "\n".join(lines)


__all__ = ["Check", "Report"]
