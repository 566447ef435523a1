"""Threshold decryption of the encrypted tally (docs/protocol.md §9.4, threshold §4.3–§4.4, T5–T9).

Each option's product ``T_{q,o}`` is decrypted under the context::

    ("election_id", eid, "question_id", q, "option_id", o)

which enters the Fiat–Shamir transcript of every partial-decryption proof
(:mod:`crypto.threshold`), so a partial cannot be moved to another option or election.

Trustee file (``saylau trustee decrypt`` output; one element of
``partial-decryptions.json``)::

    {"trustee_index": i, "election_id": eid,
     "partials": [{"question_id": q, "option_id": o, "partial": PartialDecryption JSON}, …]}
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import gmpy2

from crypto.encoding import require
from crypto.errors import CryptoError, DecryptionError, InvalidEncoding
from crypto.threshold import (
    KeyShare,
    PartialDecryption,
    ThresholdPublicKey,
    combine,
    partial_decrypt,
    verify_partial_decryption,
)
from tally.aggregate import EncryptedTally
from tally.progress import ProgressFn

#: ``{question_id: {option_id: count}}``.
Results = dict[str, dict[str, int]]


def tally_context(election_id: str, question_id: str, option_id: str) -> tuple[str, ...]:
    """The decryption context of one option's tally ciphertext."""
    return ("election_id", election_id, "question_id", question_id, "option_id", option_id)


@dataclass(frozen=True)
class TrusteePartials:
    """One trustee's partial decryptions of every option of the tally."""

    trustee_index: int
    election_id: str
    partials: dict[tuple[str, str], PartialDecryption]

    def to_json(self) -> dict[str, Any]:
        return {
            "trustee_index": self.trustee_index,
            "election_id": self.election_id,
            "partials": [{"question_id": q, "option_id": o, "partial": p.to_json()}
                         for (q, o), p in self.partials.items()],
        }

    @classmethod
    def from_json(cls, obj: object) -> TrusteePartials:
        where = "trustee partials"
        index = require(obj, "trustee_index", int, where)
        eid = require(obj, "election_id", str, where)
        partials: dict[tuple[str, str], PartialDecryption] = {}
        for i, item in enumerate(require(obj, "partials", list, where)):
            w = f"{where}.partials[{i}]"
            key = (require(item, "question_id", str, w), require(item, "option_id", str, w))
            if key in partials:
                raise InvalidEncoding(f"{w}: duplicate option {key[0]}/{key[1]}")
            partials[key] = PartialDecryption.from_json(require(item, "partial", dict, w))
        return cls(index, eid, partials)


def trustee_decrypt(share: KeyShare, tally: EncryptedTally, *, fingerprint: bytes,
                    progress: ProgressFn | None = None) -> TrusteePartials:
    """Partial decryptions ``c_i = T^(2Δ·s_i)`` with proofs for every option (T5, T6)."""
    items = tally.items()
    out: dict[tuple[str, str], PartialDecryption] = {}
    for done, (q, o, c) in enumerate(items, start=1):
        out[(q, o)] = partial_decrypt(share, c, fingerprint=fingerprint,
                                      context=tally_context(tally.election_id, q, o))
        if progress is not None:
            progress("partial decryption", done, len(items))
    return TrusteePartials(share.index, tally.election_id, out)


@dataclass(frozen=True)
class Rejected:
    """A partial decryption left out of the combination, and why."""

    trustee_index: int
    question_id: str
    option_id: str
    reason: str

    def __str__(self) -> str:
        return (f"trustee {self.trustee_index}, {self.question_id}/{self.option_id}: "
                f"{self.reason}")


@dataclass
class TallyDecryption:
    """Combined results, the trustees used, and every rejected partial."""

    results: Results
    used: dict[tuple[str, str], tuple[int, ...]] = field(default_factory=dict)
    rejected: list[Rejected] = field(default_factory=list)


def check_partials(tpk: ThresholdPublicKey, tally: EncryptedTally,
                   sets: Sequence[TrusteePartials], *, fingerprint: bytes,
                   progress: ProgressFn | None = None, verify_proofs: bool = True
                   ) -> list[Rejected]:
    """Verify every partial decryption proof (T7); return the failures (none = all good).

    With ``verify_proofs=False`` only the structure is checked (every option present,
    no extra option, indices consistent) — :func:`combine_tally` checks the proofs.
    """
    bad: list[Rejected] = []
    items = tally.items()
    total = len(items) * len(sets)
    done = 0
    for tp in sets:
        if tp.election_id != tally.election_id:
            bad.append(Rejected(tp.trustee_index, "*", "*", "partials are for another election"))
            continue
        extra = set(tp.partials) - {(q, o) for q, o, _ in items}
        for q, o in sorted(extra):
            bad.append(Rejected(tp.trustee_index, q, o, "option is not in the tally"))
        for q, o, c in items:
            done += 1
            partial = tp.partials.get((q, o))
            if partial is None:
                bad.append(Rejected(tp.trustee_index, q, o, "missing"))
                continue
            if partial.index != tp.trustee_index:
                bad.append(Rejected(tp.trustee_index, q, o,
                                    f"partial is signed as trustee {partial.index}"))
                continue
            if not verify_proofs:
                continue
            try:
                verify_partial_decryption(tpk, c, partial, fingerprint=fingerprint,
                                          context=tally_context(tally.election_id, q, o))
            except CryptoError as exc:
                bad.append(Rejected(tp.trustee_index, q, o, str(exc)))
            if progress is not None:
                progress("partial decryptions", done, total)
    return bad


def _release_gil() -> None:
    """Let this thread's gmpy2 exponentiations run without the GIL (thread initialiser)."""
    gmpy2.get_context().allow_release_gil = True


def _verdicts(tpk: ThresholdPublicKey, tally: EncryptedTally, sets: Sequence[TrusteePartials],
              fingerprint: bytes, pool: ThreadPoolExecutor
              ) -> dict[tuple[str, str, int], Future[None]]:
    """T7 for every partial of every option, on ``pool`` (key: option and ``id(partial)``)."""
    out: dict[tuple[str, str, int], Future[None]] = {}
    for q, o, c in tally.items():
        ctx = tally_context(tally.election_id, q, o)
        for tp in sets:
            partial = tp.partials.get((q, o))
            if partial is not None:
                out[(q, o, id(partial))] = pool.submit(
                    verify_partial_decryption, tpk, c, partial, fingerprint=fingerprint,
                    context=ctx)
    return out


def combine_tally(tpk: ThresholdPublicKey, tally: EncryptedTally,
                  sets: Sequence[TrusteePartials], *, fingerprint: bytes,
                  progress: ProgressFn | None = None, threads: int = 1) -> TallyDecryption:
    """Combine ``k`` valid partials per option (T8, T9); skip and report bad ones.

    Raises :class:`DecryptionError` naming the option if fewer than ``k`` valid
    partials remain for it.  With ``threads`` > 1 the partials' proofs (T7, a few full
    exponentiations each) are checked on that many threads at once, gmpy2 releasing the GIL
    during each exponentiation; the outcome is the same.
    """
    if threads > 1:
        with ThreadPoolExecutor(max_workers=threads, initializer=_release_gil) as pool:
            verdicts = _verdicts(tpk, tally, sets, fingerprint, pool)
            return _combine_tally(tpk, tally, sets, fingerprint, progress, verdicts)
    return _combine_tally(tpk, tally, sets, fingerprint, progress, None)


def _combine_tally(tpk: ThresholdPublicKey, tally: EncryptedTally,
                   sets: Sequence[TrusteePartials], fingerprint: bytes,
                   progress: ProgressFn | None,
                   verdicts: dict[tuple[str, str, int], Future[None]] | None) -> TallyDecryption:
    out = TallyDecryption(results={})
    items = tally.items()
    for done, (q, o, c) in enumerate(items, start=1):
        ctx = tally_context(tally.election_id, q, o)
        partials: list[PartialDecryption] = []
        for tp in sets:
            partial = tp.partials.get((q, o))
            if partial is None:
                continue
            if tp.election_id != tally.election_id or partial.index != tp.trustee_index:
                out.rejected.append(Rejected(tp.trustee_index, q, o,
                                             "partial does not belong to this trustee/election"))
                continue
            partials.append(partial)
        verify = None if verdicts is None else functools.partial(_verdict, verdicts, q, o)
        try:
            combined = combine(tpk, c, partials, fingerprint=fingerprint, context=ctx,
                               verify=verify)
        except DecryptionError as exc:
            raise DecryptionError(f"{q}/{o}: {exc}") from exc
        out.results.setdefault(q, {})[o] = combined.plaintext
        out.used[(q, o)] = combined.used
        out.rejected.extend(Rejected(i, q, o, reason) for i, reason in combined.rejected)
        if progress is not None:
            progress("combining", done, len(items))
    return out


def _verdict(verdicts: dict[tuple[str, str, int], Future[None]], q: str, o: str,
             partial: PartialDecryption) -> None:
    """The pre-computed T7 outcome of ``partial`` (raises what the check raised)."""
    verdicts[(q, o, id(partial))].result()


def results_from_json(obj: object) -> Results:
    """Parse ``{question_id: {option_id: count}}`` (non-negative integers)."""
    if not isinstance(obj, dict):
        raise InvalidEncoding("results: expected an object")
    out: Results = {}
    for q, opts in obj.items():
        if not isinstance(opts, dict):
            raise InvalidEncoding(f"results.{q}: expected an object")
        out[q] = {}
        for o, count in opts.items():
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise InvalidEncoding(f"results.{q}.{o}: expected a non-negative integer")
            out[q][o] = count
    return out


__all__ = [
    "Rejected",
    "Results",
    "TallyDecryption",
    "TrusteePartials",
    "check_partials",
    "combine_tally",
    "results_from_json",
    "tally_context",
    "trustee_decrypt",
]
