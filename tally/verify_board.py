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

import math
import os
from collections.abc import Hashable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from crypto.ballot import (
    BallotSecrets,
    EncryptedBallot,
    ballot_proof_items,
    tracker_of,
    verify_audited_ballot,
)
from crypto.batch import ProofItem, find_invalid
from crypto.blind_rsa import IssuerPublicKey
from crypto.credentials import Credential, verify_credential, verify_payload_signature
from crypto.election import Manifest
from crypto.encoding import canonical_json, hex_to_bytes
from crypto.errors import CryptoError, InvalidEncoding
from crypto.merkle import entry_leaf_hash
from crypto.paillier import PublicKey
from tally.progress import ProgressFn

#: Revote policies (the voting service's ``REVOTE_POLICIES``).
REVOTE_POLICIES = ("last-counts", "no-revote")
ENTRY_KINDS = ("ballot", "audited")
#: Boards with more ballots than this are batch-checked in two worker processes.
PARALLEL_THRESHOLD = 64
WORKERS = 2
#: Ballots per batch-verification chunk (a progress step).
CHUNK = 32





@dataclass(frozen=True)
class ElectionContext:
    """What a verifier needs about one election (all public)."""

    manifest: Manifest
    public_key: PublicKey
    issuer_key: IssuerPublicKey
    fingerprint: bytes
    revote_policy: str

    def __post_init__(self) -> None:
        if self.revote_policy not in REVOTE_POLICIES:
            raise InvalidEncoding(f"revote policy must be one of {REVOTE_POLICIES}")
        if len(self.fingerprint) != 32:
            raise InvalidEncoding("fingerprint must be 32 bytes")

    @property
    def election_id(self) -> str:
        return self.manifest.election_id


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


def _check_audit(ctx: ElectionContext, ballot: EncryptedBallot, secrets_json: object) -> None:
    """Benaloh audit of an ``audited`` entry (docs/protocol.md §9.2 check 5).

    ``secrets`` is ``{q: {o: {"m": 0|1, "r": hex}}}`` in canonical form, covering exactly
    the manifest's questions and options, with ``r ∈ Z*_n``; every option re-encrypts (P1).
    """
    secrets_ = BallotSecrets.from_json(secrets_json)
    if secrets_.to_json() != secrets_json:
        raise InvalidEncoding("secrets are not in canonical form (extra fields)")
    expected = {q.id: set(q.option_ids) for q in ctx.manifest.questions}
    if {q: set(opts) for q, opts in secrets_.plaintexts.items()} != expected:
        raise InvalidEncoding("secrets do not cover exactly the manifest's questions and options")
    n = ctx.public_key.n
    for opts in secrets_.randomness.values():
        for r in opts.values():
            if not 0 < r < n or math.gcd(r, n) != 1:
                raise InvalidEncoding("secrets: r is not in Z*_n")
    verify_audited_ballot(ctx.public_key, ctx.manifest, ballot, secrets_)


def _check_batch(pk: PublicKey, keyed: list[tuple[Hashable, list[ProofItem]]]) -> list[Hashable]:
    """Worker: keys of the groups whose proofs fail (batch test + bisection)."""
    return find_invalid(pk, keyed)


def _parse_entry(ctx: ElectionContext, position: int, entry: object,
                 problems: list[Problem]) -> _Parsed | None:
    def bad(check: str, message: str) -> None:
        problems.append(Problem(position, check, message))

    if not isinstance(entry, dict):
        bad("entry-format", "entry is not a JSON object")
        return None
    index = entry.get("index")
    if isinstance(index, bool) or index != position:
        bad("entry-format", f"index {index!r} is not its position {position}")
    kind = entry.get("kind")
    if kind not in ENTRY_KINDS:
        bad("entry-format", f"unknown kind {kind!r}")
        return None
    if entry.get("election_id") != ctx.election_id:
        bad("entry-format", "entry is for another election")
    ballot_json = entry.get("ballot")
    try:
        if not isinstance(ballot_json, dict):
            raise InvalidEncoding("ballot: expected a JSON object")
        ballot = EncryptedBallot.from_json(ballot_json)
    except CryptoError as exc:
        bad("entry-format", f"malformed ballot: {exc}")
        return None
    cast_at = entry.get("cast_at")
    if isinstance(cast_at, bool) or not isinstance(cast_at, int):
        bad("entry-format", "cast_at must be an integer (ms)")

    if ballot.to_json() != ballot_json:
        bad("entry-format", "ballot is not in canonical form (unknown or extra fields)")
        return None
    if isinstance(cast_at, int) and not isinstance(cast_at, bool) and cast_at < 0:
        bad("entry-format", "cast_at must be non-negative")

    if kind == "audited":
        for name in ("credential", "signature", "replaces"):
            if entry.get(name) is not None:
                bad("entry-format", f"an audited entry must have {name} = null")
        try:
            _check_audit(ctx, ballot, entry.get("secrets"))
        except CryptoError as exc:
            bad("audit", f"audited ballot does not open: {exc}")
        token: bytes | None = None
        proof_token = ballot.token_id
    else:
        try:
            credential = Credential.from_json(entry.get("credential"))
        except CryptoError as exc:
            bad("credential", f"malformed credential: {exc}")
            return None
        try:
            verify_credential(ctx.issuer_key, credential, ctx.election_id)
        except CryptoError as exc:
            bad("credential", f"credential not issued by this election's issuer: {exc}")
        token = credential.token_id
        try:
            signature = hex_to_bytes(entry.get("signature"), "signature")
            verify_payload_signature(credential.ballot_public_key, canonical_json(ballot_json),
                                     signature)
        except CryptoError as exc:
            bad("signature", f"ballot signature: {exc}")
        if ballot.token_id != token:
            bad("signature", "ballot.token_id is not the credential's token id")
        proof_token = token
    try:
        items = ballot_proof_items(ctx.public_key, ctx.manifest, ctx.fingerprint, ballot,
                                   proof_token)
    except CryptoError as exc:
        bad("ballot-proof", f"ballot proof: {exc}")
        items = []
    return _Parsed(position, kind, ballot, ballot_json, token, entry.get("replaces"), items)


def _batch_verify(pk: PublicKey, parsed: Sequence[_Parsed], progress: ProgressFn | None,
                  workers: int | None) -> set[int]:
    keyed: list[tuple[Hashable, list[ProofItem]]] = [(p.index, p.items) for p in parsed if p.items]
    chunks = [keyed[i:i + CHUNK] for i in range(0, len(keyed), CHUNK)]
    bad: set[int] = set()
    total = len(keyed)
    done = 0
    if progress is not None:
        progress("ballot proofs", 0, total)
    n_workers = WORKERS if workers is None else workers
    if len(keyed) > PARALLEL_THRESHOLD and n_workers > 1 and (os.cpu_count() or 1) > 1:
        with ProcessPoolExecutor(max_workers=n_workers) as pool:
            futures = [pool.submit(_check_batch, pk, chunk) for chunk in chunks]
            for chunk, future in zip(chunks, futures, strict=True):
                bad.update(int(k) for k in future.result())  # type: ignore[call-overload]
                done += len(chunk)
                if progress is not None:
                    progress("ballot proofs", done, total)
    else:
        for chunk in chunks:
            bad.update(int(k) for k in _check_batch(pk, chunk))  # type: ignore[call-overload]
            done += len(chunk)
            if progress is not None:
                progress("ballot proofs", done, total)
    return bad


def verify_board(
    ctx: ElectionContext,
    entries: Sequence[object],
    *,
    credentials_issued: int | None = None,
    progress: ProgressFn | None = None,
    workers: int | None = None,
) -> BoardResult:
    """Check every entry of a frozen board; return the problems and the counted ballots.

    Raises only for unusable input (``entries`` not a sequence).  ``workers`` overrides
    the number of processes used for large boards (1 = no processes).
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

    for index in sorted(_batch_verify(ctx.public_key, parsed, progress, workers)):
        problems.append(Problem(index, "ballot-proof",
                                "ballot proof fails its verification equation"))

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
    "REVOTE_POLICIES",
    "BoardResult",
    "CountedBallot",
    "ElectionContext",
    "Problem",
    "verify_board",
]
