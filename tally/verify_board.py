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

import hashlib
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import gmpy2

from crypto.ballot import (
    EncryptedBallot,
    tracker_of,
    tracker_of_canonical,
    verify_audited_ballot,
)
from crypto.batch import find_invalid
from crypto.batch_open import find_invalid_openings
from crypto.encoding import canonical_member
from crypto.errors import CryptoError, InvalidBallot, InvalidEncoding
from crypto.merkle import entry_leaf_hash
from tally.board_batch import (  # noqa: F401 - re-exported names of the old API
    CHUNK,
    PARALLEL_THRESHOLD,
    WORKERS,
    find_invalid_parallel,
)
from tally.entry_checks import (
    ENTRY_KINDS,
    REVOTE_POLICIES,
    ElectionContext,
    EntryCheck,
    check_board_entry,
    unit_fault,
)
from tally.entry_shape import board_entry_errors
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
    #: the encrypted tally of the counted ballots ``{question: {option: T}}``
    tally: dict[str, dict[str, int]] = field(default_factory=dict)
    #: problems not listed, per check, beyond the first :data:`MAX_PROBLEMS` of each
    omitted: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def by_check(self, check: str) -> list[Problem]:
        """The listed problems of ``check`` (see :attr:`omitted` for the rest)."""
        return [p for p in self.problems if p.check == check]

    def overflow(self, check: str) -> list[str]:
        """One report line counting the problems of ``check`` not listed (if any)."""
        more = self.omitted.get(check, 0)
        if not more:
            return []
        return [f"entries after entry {self.by_check(check)[-1].index}: {more} more "
                "problem(s) of this check, not listed"]

    def bad_indices(self) -> set[int]:
        return {p.index for p in self.problems if p.index >= 0}


@dataclass
class EntrySummary:
    """One board entry after the checks that depend on it alone (a worker's answer).

    ``problems``: ``(check, message)`` in the order found; ``kind`` None: not parsed;
    ``digests``: SHA-256 of each ciphertext (copy check); ``ciphertexts``: ``(question,
    option, c)`` of a ``ballot`` entry (tally); ``ballot`` only when the caller keeps them.
    """

    index: int
    leaf: bytes
    problems: list[tuple[str, str]]
    kind: str | None = None
    token: bytes | None = None
    replaces: object = None
    digests: tuple[bytes, ...] = ()
    tracker: str = ""
    ciphertexts: tuple[tuple[str, str, int], ...] = ()
    ballot: EncryptedBallot | None = None
    #: structure errors (:func:`tally.entry_shape.board_entry_errors`), when asked for
    shape: list[str] = field(default_factory=list)


def _digest(c: int) -> bytes:
    """A ciphertext's copy-check key: SHA-256 of its minimal big-endian bytes (injective)."""
    return hashlib.sha256(c.to_bytes((c.bit_length() + 7) // 8 or 1, "big")).digest()


def check_entries(ctx: ElectionContext, start: int, entries: Sequence[object],
                  keep_ballots: bool = False, shape: bool = False) -> list[EntrySummary]:
    """Worker: the per-entry checks of ``entries`` (board positions ``start…``): leaf hash,
    :func:`tally.entry_checks.check_board_entry`, the proofs in one batch and the audited
    ballots in one combined equation."""
    out: list[EntrySummary] = []
    parsed: list[tuple[EntrySummary, Any]] = []
    for offset, entry in enumerate(entries):
        position = start + offset
        shape_errors = board_entry_errors(entry, f"board.json/{position}") if shape else []
        ballot_canonical = _ballot_canonical(entry)
        try:
            leaf = entry_leaf_hash(entry, None if ballot_canonical is None
                                   else {"ballot": ballot_canonical})
        except CryptoError as exc:
            out.append(EntrySummary(position, ZERO_LEAF,
                                    [("entry-format", f"not canonical JSON: {exc}")],
                                    shape=shape_errors))
            continue
        checked = check_board_entry(ctx, entry, position=position, verify_proofs=False,
                                    ballot_canonical=ballot_canonical)
        summary = EntrySummary(position, leaf, [(f.check, f.message) for f in checked.faults],
                               shape=shape_errors)
        out.append(summary)
        if checked.kind is None or checked.ballot is None or checked.ballot_json is None:
            continue
        if checked.kind == "ballot" and checked.token is None:
            continue
        assert isinstance(entry, dict)  # noqa: S101 (check_board_entry parsed it)
        ballot = checked.ballot
        summary.kind, summary.token, summary.replaces = checked.kind, checked.token, \
            entry.get("replaces")
        summary.digests = tuple(_digest(c) for c in ballot.ciphertexts())
        if checked.kind == "ballot":
            summary.tracker = (tracker_of_canonical(checked.ballot_canonical)
                               if checked.ballot_canonical is not None
                               else tracker_of(checked.ballot_json))
            summary.ciphertexts = tuple((contest.question_id, s.option_id, s.ciphertext)
                                        for contest in ballot.contests
                                        for s in contest.selections)
        if keep_ballots:
            summary.ballot = ballot
        parsed.append((summary, checked))
    keyed = [(s.index, c.items) for s, c in parsed if c.items]
    bad = {int(k) for k in find_invalid(ctx.public_key, keyed)}  # type: ignore[call-overload]
    opened = [(s.index, c.openings) for s, c in parsed if c.openings]
    failing = set(find_invalid_openings(ctx.public_key, opened)) if opened else set()
    for s, c in parsed:
        if s.index in bad:
            s.problems.append(("ballot-proof", _batch_fault(ctx, c)))
        if s.index in failing and c.secrets is not None:
            try:
                verify_audited_ballot(ctx.public_key, ctx.manifest, c.ballot, c.secrets)
            except CryptoError as exc:
                s.problems.append(("audit", f"audited ballot does not open: {exc}"))
            else:  # never expected: the batch test and the one-by-one check disagree
                s.problems.append(("audit", "audited ballot does not open"))
    return out


def _ballot_canonical(entry: object) -> bytes | None:
    """A ``ballot`` entry's ``canonical_json(ballot)``, made once for its leaf hash and its
    signature check; ``None`` if it has none (the full checks then name the problem)."""
    if not isinstance(entry, dict) or entry.get("kind") != "ballot" \
            or not isinstance(entry.get("ballot"), dict):
        return None
    try:
        return canonical_member(entry, "ballot")
    except CryptoError:
        return None


def _batch_fault(ctx: ElectionContext, checked: EntryCheck) -> str:
    """The report's message for an entry the batch equation refused: a proof element that
    is not a unit is named (the entry check left those tests to the batch), anything else
    is the equation's."""
    assert checked.ballot is not None  # noqa: S101 (it has proof items)
    token = checked.token if checked.kind == "ballot" and checked.token is not None \
        else checked.ballot.token_id
    try:
        unit_fault(ctx, checked.ballot, token)
    except CryptoError as exc:
        return f"ballot proof: {exc}"
    return "ballot proof fails its verification equation"


ZERO_LEAF = b"\x00" * 32


class BoardStream:
    """The board checks of :func:`verify_board`, fed chunk by chunk in board order.

    Memory is flat in the board size but for a few dozen bytes per entry (the leaf hash,
    one copy-check key per ciphertext, the last entry of each token, the counted trackers):
    parsed ballots are dropped once their chunk is checked and the tally is multiplied as
    the ballots come.  ``feed`` hands each chunk to a worker process (``workers`` > 1, at
    most ``2·workers`` chunks in flight) or to a Dask ``scheduler``; the board-wide checks
    (copies, revote chains, counted ballots, tally) run here, in board order.  When a
    token's counted ballot is replaced by a later one, ``finish`` recomputes the tally over
    the counted ballots from ``reread`` (a new iterator of the board's chunks).
    """

    def __init__(self, ctx: ElectionContext, *, credentials_issued: int | None = None,
                 progress: ProgressFn | None = None, workers: int | None = None,
                 scheduler: str | None = None, keep_ballots: bool = False,
                 parallel: bool = True, expected_total: int = 0, shape: bool = False) -> None:
        self.ctx = ctx
        self.shape = shape
        #: structure errors of the entries (``shape=True``), in board order
        self.shape_errors: list[str] = []
        self.shape_omitted = 0
        self._listed: dict[str, int] = {}
        self.credentials_issued = credentials_issued
        self.progress = progress
        self.keep_ballots = keep_ballots
        self.expected_total = expected_total
        self.result = BoardResult(entries=0)
        self.leaves = bytearray()
        self._seen: dict[bytes, tuple[int, bytes | None]] = {}
        self._last: dict[bytes, int] = {}
        self._last_valid: dict[bytes, EntrySummary] = {}
        self._replaced = False
        self._pending: deque[Any] = deque()
        self._fed = 0
        self._done = 0
        # the running products are gmpy2 integers: a Python-int product and remainder of
        # 6,144-bit numbers cost about eight times as much (0.37 against 0.05 ms per ballot)
        self._nn = gmpy2.mpz(ctx.public_key.nsquare)
        self.tally: dict[str, dict[str, int]] = {
            q.id: dict.fromkeys(q.option_ids, 1) for q in ctx.manifest.questions}
        n_workers = WORKERS if workers is None else workers
        self._pool: Any = None
        self._client: Any = None
        self._ctx_ref: Any = ctx
        self._in_flight = 2 * max(n_workers, 1)
        if scheduler is not None:
            from distributed import Client  # imported lazily: only this path needs Dask

            self._client = Client(scheduler, set_as_default=False)
            self._ctx_ref = self._client.scatter(ctx, broadcast=True)
            self._in_flight = 4 * max(len(self._client.scheduler_info()["workers"]), 1)
        elif parallel and n_workers > 1 and (os.cpu_count() or 1) > 1:
            self._pool = ProcessPoolExecutor(max_workers=n_workers)

    def feed(self, entries: Sequence[object]) -> None:
        """Check the next ``entries`` of the board (positions continue from the last feed)."""
        start = self._fed
        self._fed += len(entries)
        if self._client is not None:
            self._pending.append(self._client.submit(check_entries, self._ctx_ref, start,
                                                     list(entries), self.keep_ballots,
                                                     self.shape, pure=False))
        elif self._pool is not None:
            self._pending.append(self._pool.submit(check_entries, self.ctx, start,
                                                   list(entries), self.keep_ballots, self.shape))
        else:
            self._absorb(check_entries(self.ctx, start, entries, self.keep_ballots, self.shape))
            return
        while len(self._pending) >= self._in_flight:
            self._absorb(self._pending.popleft().result())

    def _absorb(self, summaries: list[EntrySummary]) -> None:
        result = self.result
        add = self._add
        for s in summaries:
            self.leaves += s.leaf
            if s.shape:
                self._shape(s.shape)
            if self.keep_ballots:
                result.leaf_hashes.append(s.leaf)
            for check, message in s.problems:
                add(Problem(s.index, check, message))
            if s.kind is None:
                continue
            bad = bool(s.problems)
            # Copy attack: a ciphertext may appear once on the whole board; the later fails.
            message = ""
            for d in s.digests:
                if d in self._seen:
                    first, first_token = self._seen[d]
                    if first == s.index:
                        what = "repeated inside the ballot"
                    elif s.token is not None and first_token is not None \
                            and first_token != s.token:
                        what = "copied under another credential"
                    else:
                        what = "repeated"
                    message = message or f"ciphertext of entry {first} {what}"
                else:
                    self._seen[d] = (s.index, s.token)
            if message:
                add(Problem(s.index, "ciphertext-copy", message))
                bad = True
            # Revote chains and counted ballots.
            if s.kind == "audited":
                result.audited += 1
                continue
            assert s.token is not None  # noqa: S101 (a parsed ballot entry has a token)
            previous = self._last.get(s.token)
            replaces = s.replaces
            if previous is None:
                if replaces is not None:
                    add(Problem(s.index, "revote-chain",
                                f"first ballot of its token claims to replace "
                                            f"{replaces!r}"))
            elif self.ctx.revote_policy == "no-revote":
                add(Problem(s.index, "revote-chain",
                            f"second ballot of a token (first at entry {previous}) "
                            "under the no-revote policy"))
            elif isinstance(replaces, bool) or replaces != previous:
                add(Problem(s.index, "revote-chain",
                            f"replaces {replaces!r}, but the token's current ballot "
                            f"is entry {previous}"))
            self._last[s.token] = s.index
            if not bad:
                self._replaced = self._replaced or s.token in self._last_valid
                self._last_valid[s.token] = s
                self._multiply(s.ciphertexts)
                s.ciphertexts = ()  # the tally has them; keep the summary small
                s.digests = ()
            self._done += 1
        if self.progress is not None and summaries:
            done = summaries[-1].index + 1
            self.progress("entries", done, max(done, self.expected_total))

    def _add(self, problem: Problem) -> None:
        """List ``problem`` unless its check already lists :data:`MAX_PROBLEMS` (then count
        it): a board of a million faulty entries must not need a million report lines."""
        listed = self._listed.get(problem.check, 0)
        if listed < MAX_PROBLEMS:
            self._listed[problem.check] = listed + 1
            self.result.problems.append(problem)
        else:
            omitted = self.result.omitted
            omitted[problem.check] = omitted.get(problem.check, 0) + 1

    def _shape(self, errors: list[str]) -> None:
        room = MAX_PROBLEMS - len(self.shape_errors)
        self.shape_errors.extend(errors[:max(room, 0)])
        self.shape_omitted += max(len(errors) - max(room, 0), 0)

    def shape_report(self) -> list[str]:
        """The listed structure errors and a line counting the rest."""
        more = [f"board.json: {self.shape_omitted} more structure error(s), not listed"] \
            if self.shape_omitted else []
        return self.shape_errors + more

    def _multiply(self, ciphertexts: Sequence[tuple[str, str, int]]) -> None:
        nn = self._nn
        for q, o, c in ciphertexts:
            row = self.tally.get(q)
            if row is None:
                raise InvalidBallot(f"unknown question {q}")
            if o not in row:
                raise InvalidBallot(f"unknown option {q}/{o}")
            row[o] = row[o] * c % nn

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._client is not None:
            self._client.close()
            self._client = None

    def finish(self, reread: Callable[[], Iterable[Sequence[object]]] | None = None
               ) -> BoardResult:
        """The board's :class:`BoardResult` (``result.tally`` holds the encrypted tally)."""
        try:
            while self._pending:
                self._absorb(self._pending.popleft().result())
        finally:
            self.close()
        result, problems = self.result, self.result.problems
        result.entries = self._fed
        result.tokens = len(self._last)
        if self.credentials_issued is not None and result.tokens > self.credentials_issued:
            self._add(Problem(-1, "issuance",
                              f"{result.tokens} distinct credentials voted but only "
                              f"{self.credentials_issued} were issued"))
        counted = sorted(self._last_valid.values(), key=lambda x: x.index)
        if self._replaced:  # a counted ballot was replaced: multiply the counted ones again
            if reread is None:
                raise ValueError("a replaced ballot needs the board again for the tally")
            self.tally = {q.id: dict.fromkeys(q.option_ids, 1)
                          for q in self.ctx.manifest.questions}
            wanted = {s.index for s in counted}
            position = 0
            for chunk in reread():
                for entry in chunk:
                    if position in wanted:
                        ballot = EncryptedBallot.from_json(entry["ballot"])  # type: ignore[index]
                        self._multiply([(c.question_id, s.option_id, s.ciphertext)
                                        for c in ballot.contests for s in c.selections])
                    position += 1
        for s in counted:
            result.counted.append(CountedBallot(s.index, s.tracker, self.leaf(s.index).hex(),
                                                s.ballot))  # type: ignore[arg-type]
        result.tally = {q: {o: int(c) for o, c in row.items()} for q, row in self.tally.items()}
        self._seen.clear()
        self._last_valid.clear()
        problems.sort(key=lambda x: (x.index, x.check))
        return result

    def leaf(self, index: int) -> bytes:
        return bytes(self.leaves[32 * index:32 * index + 32])


class LeafList(Sequence[bytes]):
    """The board's leaf hashes, 32 bytes each in one ``bytearray``."""

    def __init__(self, packed: bytearray) -> None:
        self.packed = packed

    def __len__(self) -> int:
        return len(self.packed) // 32

    def __getitem__(self, index: int) -> bytes:  # type: ignore[override]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return bytes(self.packed[32 * index:32 * index + 32])

    def __iter__(self) -> Iterator[bytes]:
        packed = self.packed
        for i in range(0, len(packed), 32):
            yield bytes(packed[i:i + 32])


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
    distributed scheduler address) runs the per-entry checks on that cluster instead.
    The streaming verifier (:class:`BoardStream`) does the same checks chunk by chunk.
    """
    if isinstance(entries, str | bytes) or not isinstance(entries, Sequence):
        raise InvalidEncoding("board: expected a list of entries")
    stream = BoardStream(ctx, credentials_issued=credentials_issued, progress=progress,
                         workers=workers, scheduler=scheduler, keep_ballots=True,
                         parallel=len(entries) > PARALLEL_THRESHOLD,
                         expected_total=len(entries))
    try:
        step = chunk_for(len(entries), workers)
        for i in range(0, len(entries), step):
            stream.feed(entries[i:i + step])
    except BaseException:
        stream.close()
        raise
    return stream.finish(lambda: [entries])


#: Problems listed per check (the rest are counted: :attr:`BoardResult.omitted`).
MAX_PROBLEMS = 1000
#: Entries per chunk of the streaming verifier (one worker task, one proof batch).
STREAM_CHUNK = 64
#: Largest chunk: the multi-exponentiations cost fewer products per ballot in bigger
#: batches (about 14 % less CPU for 96-ballot than for 32-ballot chunks at 3072 bits).
MAX_CHUNK = 256


def chunk_for(total: int, workers: int | None = None) -> int:
    """Entries per chunk for a board of ``total`` entries: as large as possible (≤
    :data:`MAX_CHUNK`) while every worker still gets two chunks; :data:`STREAM_CHUNK` if
    the size is unknown."""
    if total <= 0:
        return STREAM_CHUNK
    n = max(WORKERS if workers is None else workers, 1)
    return max(16, min(MAX_CHUNK, -(-total // (2 * n))))


__all__ = [
    "ENTRY_KINDS",
    "REVOTE_POLICIES",
    "BoardResult",
    "CountedBallot",
    "ElectionContext",
    "Problem",
    "verify_board",
]
