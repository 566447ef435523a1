"""Verification of one election's frozen bulletin board (docs/protocol.md §9.2–§9.3).

:func:`verify_board` checks every entry and returns a :class:`BoardResult` listing the
problems per entry instead of stopping at the first one:

* ``entry-format``   — the entry's ``index`` is its position, its ``kind`` is known, its
  ``election_id`` is this election's, its fields parse;
* ``credential``     — RFC 9474 signature of the issuer on the credential, scope = election id;
* ``signature``      — Ed25519 signature by ``credential.ballot_public_key`` over
  ``canonical_json(ballot)``; ``ballot.token_id == credential.token_id``;
* ``ballot-proof``   — shape, Fiat–Shamir challenges and (batched) exponentiations of every
  0/1 and selection-count proof (:func:`crypto.ballot.ballot_proof_items`,
  :func:`crypto.batch.find_invalid`);
* ``audit``          — an audited (spoiled) entry's revealed plaintexts and randomness
  re-encrypt to its ciphertexts (:func:`crypto.ballot.verify_audited_ballot`);
* ``ciphertext-copy`` — no ciphertext appears twice on the board, in two entries or twice in
  one entry (copy attack, Cortier–Smyth); the later occurrence fails;
* ``revote-chain``   — a token's first ballot has ``replaces = null``; each later one names
  the token's previous ballot; under ``no-revote`` a token appears once;
* ``issuance``       — distinct tokens of the parsed ``ballot`` entries ≤ credentials issued.

An entry is *parsed* when it is an object of a known kind whose ballot (and, for a
``ballot`` entry, credential) JSON parses and the ballot is in canonical form; only parsed
entries take part in the copy, revote and issuance checks.  Counted ballots: for each
token, its last parsed ``ballot`` entry with no problem other than ``revote-chain``.  Leaf ``i`` of the
board = ``leaf_hash(canonical_json(entry_i))`` (:mod:`crypto.merkle`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from crypto.ballot import BallotSecrets, EncryptedBallot, tracker_of, verify_audited_ballot
from crypto.batch import ProofItem
from crypto.batch_open import find_invalid_openings
from crypto.errors import CryptoError, InvalidEncoding
from crypto.merkle import entry_leaf_hash
from crypto.paillier import PublicKey
from tally.board_batch import (  # noqa: F401 - re-exported names of the old API
    CHUNK,
    PARALLEL_THRESHOLD,
    WORKERS,
    find_invalid_parallel,
)
from tally.entry_checks import ENTRY_KINDS, REVOTE_POLICIES, ElectionContext, check_board_entry
from tally.progress import ProgressFn


@dataclass(frozen=True)
class Problem:
    """One failed check of one board entry (``index`` = -1 for board-wide problems)."""

    index: int
    check: str
    message: str

    def __str__(self) -> str:
        where = f"entry {self.index}" if self.index >= 0 else "board"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class CountedBallot:
    """A counted ballot: board index, tracker, leaf hash and the parsed ballot."""

    index: int
    tracker: str
    leaf_hash: str
    ballot: EncryptedBallot


@dataclass
class BoardResult:
    """Outcome of :func:`verify_board`."""

    entries: int
    problems: list[Problem] = field(default_factory=list)
    counted: list[CountedBallot] = field(default_factory=list)
    tokens: int = 0
    audited: int = 0
    leaf_hashes: list[bytes] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def by_check(self, check: str) -> list[Problem]:
        return [p for p in self.problems if p.check == check]

    def bad_indices(self) -> set[int]:
        return {p.index for p in self.problems if p.index >= 0}


@dataclass
class _Parsed:
    index: int
    kind: str
    ballot: EncryptedBallot
    ballot_json: dict[str, Any]
    token: bytes | None
    replaces: object
    items: list[ProofItem]
    #: an audited entry's openings ``(c, m, r)``, re-encryptions checked in one batch
    openings: list[tuple[int, int, int]] = field(default_factory=list)
    secrets: BallotSecrets | None = None




def _parse_entry(ctx: ElectionContext, position: int, entry: object,
                 problems: list[Problem]) -> _Parsed | None:
    """The shared entry check (:func:`tally.entry_checks.check_board_entry`), proofs deferred."""
    checked = check_board_entry(ctx, entry, position=position, verify_proofs=False)
    problems.extend(Problem(position, f.check, f.message) for f in checked.faults)
    if checked.kind is None or checked.ballot is None or checked.ballot_json is None:
        return None
    if checked.kind == "ballot" and checked.token is None:
        return None
    assert isinstance(entry, dict)
    parsed = _Parsed(position, checked.kind, checked.ballot, checked.ballot_json, checked.token,
                     entry.get("replaces"), checked.items)
    if checked.kind == "audited":
        parsed.openings, parsed.secrets = checked.openings, checked.secrets
    return parsed


def _batch_verify(pk: PublicKey, parsed: Sequence[_Parsed], progress: ProgressFn | None,
                  workers: int | None, scheduler: str | None = None) -> set[int]:
    """The entries whose proofs fail (:func:`tally.board_batch.find_invalid_parallel`)."""
    bad = find_invalid_parallel(pk, [(p.index, p.items) for p in parsed], progress=progress,
                                workers=workers, scheduler=scheduler)
    return {int(k) for k in bad}  # type: ignore[call-overload]


def _batch_audits(ctx: ElectionContext, parsed: Sequence[_Parsed],
                  problems: list[Problem]) -> None:
    """The audited entries' re-encryptions in ONE combined equation (crypto.batch_open);
    a failing entry is re-checked one by one for its message (problems stay in entry order
    within the ``audit`` check)."""
    keyed = [(p.index, p.openings) for p in parsed if p.openings]
    failing = set(find_invalid_openings(ctx.public_key, keyed))
    for p in parsed:
        if p.index in failing and p.secrets is not None:
            try:
                verify_audited_ballot(ctx.public_key, ctx.manifest, p.ballot, p.secrets)
            except CryptoError as exc:
                problems.append(Problem(p.index, "audit", f"audited ballot does not open: {exc}"))
            else:  # never expected: the batch test and the one-by-one check disagree
                problems.append(Problem(p.index, "audit", "audited ballot does not open"))
    slots = [i for i, problem in enumerate(problems) if problem.check == "audit"]
    ordered = sorted((problems[i] for i in slots), key=lambda problem: problem.index)
    for i, problem in zip(slots, ordered, strict=True):  # entry order, as if checked in turn
        problems[i] = problem


def verify_board(
    ctx: ElectionContext,
    entries: Sequence[object],
    *,
    credentials_issued: int | None = None,
    progress: ProgressFn | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
) -> BoardResult:
    """Check every entry of a frozen board; return the problems and the counted ballots.

    Raises only for unusable input (``entries`` not a sequence).  ``workers`` overrides
    the number of processes used for large boards (1 = no processes); ``scheduler`` (a Dask
    distributed scheduler address) runs the batched proof checks on that cluster instead.
    """
    if isinstance(entries, str | bytes) or not isinstance(entries, Sequence):
        raise InvalidEncoding("board: expected a list of entries")
    result = BoardResult(entries=len(entries))
    problems = result.problems
    parsed: list[_Parsed] = []
    for position, entry in enumerate(entries):
        try:
            result.leaf_hashes.append(entry_leaf_hash(entry))
        except CryptoError as exc:
            problems.append(Problem(position, "entry-format", f"not canonical JSON: {exc}"))
            result.leaf_hashes.append(b"")
            continue
        item = _parse_entry(ctx, position, entry, problems)
        if item is not None:
            parsed.append(item)
        if progress is not None and (position + 1) % 16 == 0:
            progress("entries", position + 1, len(entries))
    if progress is not None:
        progress("entries", len(entries), len(entries))

    for index in sorted(_batch_verify(ctx.public_key, parsed, progress, workers, scheduler)):
        problems.append(Problem(index, "ballot-proof",
                                "ballot proof fails its verification equation"))
    _batch_audits(ctx, parsed, problems)

    # Copy attack: a ciphertext may appear once on the whole board; the later one fails.
    seen: dict[int, tuple[int, bytes | None]] = {}
    for p in parsed:
        message = ""
        for c in p.ballot.ciphertexts():
            if c in seen:
                first, first_token = seen[c]
                if first == p.index:
                    what = "repeated inside the ballot"
                elif p.token is not None and first_token is not None and first_token != p.token:
                    what = "copied under another credential"
                else:
                    what = "repeated"
                message = message or f"ciphertext of entry {first} {what}"
            else:
                seen[c] = (p.index, p.token)
        if message:
            problems.append(Problem(p.index, "ciphertext-copy", message))

    # Revote chains and counted ballots.
    bad = result.bad_indices()
    last: dict[bytes, int] = {}
    last_valid: dict[bytes, _Parsed] = {}
    for p in parsed:
        if p.kind == "audited":
            result.audited += 1
            continue
        assert p.token is not None
        previous = last.get(p.token)
        replaces = p.replaces
        if previous is None:
            if replaces is not None:
                problems.append(Problem(p.index, "revote-chain",
                                        f"first ballot of its token claims to replace {replaces!r}"))
        else:
            if ctx.revote_policy == "no-revote":
                problems.append(Problem(p.index, "revote-chain",
                                        f"second ballot of a token (first at entry {previous}) "
                                        "under the no-revote policy"))
            elif isinstance(replaces, bool) or replaces != previous:
                problems.append(Problem(p.index, "revote-chain",
                                        f"replaces {replaces!r}, but the token's current ballot "
                                        f"is entry {previous}"))
        last[p.token] = p.index
        if p.index not in bad:
            last_valid[p.token] = p
    result.tokens = len(last)
    if credentials_issued is not None and result.tokens > credentials_issued:
        problems.append(Problem(-1, "issuance",
                                f"{result.tokens} distinct credentials voted but only "
                                f"{credentials_issued} were issued"))
    for p in sorted(last_valid.values(), key=lambda x: x.index):
        result.counted.append(CountedBallot(p.index, tracker_of(p.ballot_json),
                                            result.leaf_hashes[p.index].hex(), p.ballot))
    problems.sort(key=lambda x: (x.index, x.check))
    return result


__all__ = [
    "ENTRY_KINDS",
    "REVOTE_POLICIES",
    "BoardResult",
    "CountedBallot",
    "ElectionContext",
    "Problem",
    "verify_board",
]
