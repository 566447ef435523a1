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
    #: Checks whose failures name single board entries the server should never have
    #: accepted (docs/election-record.md §"Verdicts"); set by the election verifier.
    operator_fault_checks: frozenset[str] = frozenset()
    #: The tally of the valid entries, decrypted and checked, when the verdict is
    #: ``operator-fault`` (``tally`` stays None: the record is not valid).
    valid_entries_tally: dict[str, dict[str, int]] | None = None

    @property
    def valid(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def operator_faults(self) -> list[str]:
        """The entries named by failed operator-fault checks (``"<check>: entry N: …"``)."""
        return [f"{c.name}: {d}" for c in self.failed() if c.name in self.operator_fault_checks
                for d in c.details]

    @property
    def verdict(self) -> str:
        """``valid``; ``operator-fault`` — every failed check is an entry-level check whose
        details all name board entries (``entry N: …``), and every other check, the tally's
        included, passed; or ``invalid``."""
        if self.valid:
            return "valid"
        failed = self.failed()
        if failed and all(c.name in self.operator_fault_checks and c.details
                          and all(d.startswith(("entry ", "entries after entry "))
                                             for d in c.details) for c in failed) \
                and self.check("results") is not None:
            return "operator-fault"
        return "invalid"

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
            "verdict": self.verdict,
            "operator_faults": self.operator_faults,
            "valid_entries_tally": (self.valid_entries_tally
                                    if self.verdict == "operator-fault" else None),
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
        elif self.verdict == "operator-fault" and self.valid_entries_tally is not None:
            faults = self.operator_faults
            lines.append(f"RESULT: the record is NOT valid: OPERATOR FAULT — the service accepted "
                         f"{len(faults)} board entr{'y' if len(faults) == 1 else 'ies'} that no "
                         "conforming server accepts (listed above). They are excluded; the "
                         "tally of the valid entries was recomputed, decrypted and checked:")
            for q, opts in self.valid_entries_tally.items():
                lines.append(f"  {q}:")
                for o, count in opts.items():
                    lines.append(f"    {o}: {count}")
        else:
            names = ", ".join(c.name for c in self.failed())
            lines.append(f"RESULT: the record is NOT valid; failed: {names}")
        return "\n".join(lines)


__all__ = ["Check", "Report"]
