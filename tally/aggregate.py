"""Homomorphic aggregation of the counted ballots (docs/protocol.md §9.3).

For each question ``q`` and option ``o``::

    T_{q,o} = ∏_{b ∈ counted} c_{b,q,o}  mod N        (Dec(T_{q,o}) = Σ_b x_{b,q,o})

The empty product is ``1 = Enc(0; 1)``.  Counted ballots are the last valid ballot of
each token (:func:`tally.verify_board.verify_board`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from crypto.ballot import EncryptedBallot
from crypto.election import Manifest
from crypto.encoding import hex_to_int, int_to_hex, require
from crypto.errors import InvalidBallot, InvalidEncoding
from crypto.paillier import PublicKey, validate_ciphertext
from tally.verify_board import CountedBallot

#: ``{question_id: {option_id: ciphertext}}``.
TallyCiphertexts = dict[str, dict[str, int]]


@dataclass(frozen=True)
class EncryptedTally:
    """Per-option products ``T_{q,o}`` and the trackers of the ballots in them."""

    election_id: str
    tally: TallyCiphertexts
    counted: tuple[str, ...]

    def items(self) -> list[tuple[str, str, int]]:
        """``(question_id, option_id, T)`` in manifest order."""
        return [(q, o, c) for q, opts in self.tally.items() for o, c in opts.items()]

    def to_json(self) -> dict[str, Any]:
        return {
            "election_id": self.election_id,
            "ballots_counted": len(self.counted),
            "counted_trackers": list(self.counted),
            "tally": {q: {o: int_to_hex(c) for o, c in opts.items()}
                      for q, opts in self.tally.items()},
        }

    @classmethod
    def from_json(cls, obj: object, pk: PublicKey | None = None) -> EncryptedTally:
        where = "encrypted tally"
        eid = require(obj, "election_id", str, where)
        trackers = require(obj, "counted_trackers", list, where)
        if not all(isinstance(t, str) for t in trackers):
            raise InvalidEncoding(f"{where}.counted_trackers: expected strings")
        if require(obj, "ballots_counted", int, where) != len(trackers):
            raise InvalidEncoding(f"{where}: ballots_counted differs from the tracker list")
        raw = require(obj, "tally", dict, where)
        tally: TallyCiphertexts = {}
        for q, opts in raw.items():
            if not isinstance(opts, dict):
                raise InvalidEncoding(f"{where}.tally.{q}: expected an object")
            tally[q] = {}
            for o, text in opts.items():
                c = hex_to_int(text, f"{where}.tally.{q}.{o}")
                if pk is not None:
                    validate_ciphertext(pk, c)
                tally[q][o] = c
        return cls(eid, tally, tuple(trackers))


def aggregate_ballots(pk: PublicKey, manifest: Manifest,
                      ballots: Iterable[EncryptedBallot]) -> TallyCiphertexts:
    """``T_{q,o} = ∏ c_{b,q,o} mod N`` over ``ballots`` (already verified)."""
    nn = pk.nsquare
    tally: TallyCiphertexts = {q.id: dict.fromkeys(q.option_ids, 1) for q in manifest.questions}
    for ballot in ballots:
        for contest in ballot.contests:
            row = tally.get(contest.question_id)
            if row is None:
                raise InvalidBallot(f"unknown question {contest.question_id}")
            for s in contest.selections:
                if s.option_id not in row:
                    raise InvalidBallot(f"unknown option {contest.question_id}/{s.option_id}")
                row[s.option_id] = row[s.option_id] * s.ciphertext % nn
    return tally


def aggregate(pk: PublicKey, manifest: Manifest,
              counted: Sequence[CountedBallot]) -> EncryptedTally:
    """The encrypted tally of the counted ballots, with their trackers in board order."""
    ordered = sorted(counted, key=lambda b: b.index)
    return EncryptedTally(manifest.election_id,
                          aggregate_ballots(pk, manifest, (b.ballot for b in ordered)),
                          tuple(b.tracker for b in ordered))


__all__ = ["EncryptedTally", "TallyCiphertexts", "aggregate", "aggregate_ballots"]
