"""Casting: anonymous ballots with credentials, and Benaloh-audited (spoiled) ballots.

Checks on ``POST /api/v1/elections/<id>/ballots``, cheapest first (docs/protocol.md §5.3):

1. body shape: an object with ``credential`` (object), ``ballot`` (object), ``signature`` (hex);
2. the election exists (404), is open and inside its window (409), on its mutable columns
   read per cast (:func:`app.services.cast_context.read_state`); its frozen parts (keys,
   manifest, rules) come parsed from this process's cache
   (:func:`app.services.cast_context.context_for`);
3. the credential parses, its scope is this election and its RFC 9474 signature verifies (403);
4. the Ed25519 signature by the credential's ballot key over ``canonical_json(ballot)`` (403);
5. the ballot parses, is in canonical form, and ``ballot.token_id == credential.token_id`` (400);
6. quick duplicate checks (token already used under no-revote, ciphertext already on the board, 409);
   Before 6, a ballot whose tracker is already on the board as a ``ballot`` entry is a
   *retry* (a crash or a lost response): the receipt of the original commit is returned
   again (201, byte for byte the same), never ``already_voted``;
7. the shared entry check :func:`tally.entry_checks.check_ballot_entry` — the verifier's own
   check of the entry about to be appended (400 / 403 / 409), so that what the server
   accepts the verifier accepts; with ``BALLOT_BATCH_ENABLED`` (default) its proof
   exponentiations are deferred to group commit (:mod:`app.services.group_commit`): the
   proofs of all ballots that arrive within ``BALLOT_BATCH_WAIT_MS`` are checked with ONE
   batch equation, a failing ballot is re-checked alone with the full entry check (exactly
   the unbatched error); without batching, the full entry check per cast;
8. :func:`append_ballots` — ONE transaction for the whole batch, entries in shuffled order:
   take the election's append lock, re-check 6 per entry, insert the used token (or mark the
   token's previous ballot superseded), the ciphertext registry rows, the board entries, and
   ONE signed tree head; commit; only then build each client's own receipt.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from flask import Flask
from sqlalchemy import Table, bindparam, insert, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from app.db import new_session
from app.errors import ApiError, crypto_error
from app.models import BoardEntry, CiphertextRegistry, Election, UsedToken
from app.services import board as board_service
from app.services import board_core, cast_context, group_commit
from app.services import elections as election_service
from crypto.ballot import EncryptedBallot, has_exact_fields, tracker_of_canonical
from crypto.credentials import Credential
from crypto.encoding import hex_to_bytes
from crypto.errors import (
    CryptoError,
    InvalidBallot,
    InvalidEncoding,
    InvalidSignature,
)
from crypto.threshold import ThresholdPublicKey
from tally.entry_checks import (
    ElectionContext,
    EntryCheck,
    check_audited_entry,
    check_ballot_entry,
    check_ballot_proofs,
    ciphertext_digest,
)

PREFIX = "BALLOT_BATCH"
_EXTENSION = "saylau_ballot_committers"


@dataclass(frozen=True)
class BallotAppend:
    """A verified entry waiting for :func:`append_ballots` (``index``/``replaces`` unset)."""

    entry: dict[str, Any]
    digests: tuple[str, ...]
    token_hex: str | None
    tracker: str
    revote: bool
    #: ``canonical_json(entry["ballot"])`` from the entry check (the leaf reuses it)
    ballot_canonical: bytes | None = None


def refuse_faults(checked: EntryCheck) -> None:
    """Map the first fault of the shared entry check to its HTTP error (docs/api.md)."""
    if checked.ok:
        return
    fault = checked.faults[0]
    if fault.check == "credential":
        raise ApiError(403, "invalid_credential", fault.message)
    if fault.check == "signature" and isinstance(fault.error, InvalidSignature):
        raise ApiError(403, "invalid_signature", "the ballot signature does not verify "
                       "under the credential's ballot key")
    if fault.check == "audit":
        raise ApiError(400, "invalid_audit", fault.message)
    if fault.check == "entry-format" and fault.message.startswith("cast_at"):
        raise ApiError(409, "window_closed", fault.message)
    if fault.error is not None and fault.check != "entry-format":
        raise _crypto_error(fault.error)
    raise ApiError(400, "invalid_entry", fault.message)


def _crypto_error(exc: CryptoError) -> ApiError:
    return crypto_error(exc)


def _object(payload: object, key: str) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise ApiError(400, "invalid_body", "expected a JSON object")
    value = payload.get(key)
    if not isinstance(value, dict):
        raise ApiError(400, "invalid_body", f"field {key!r} must be a JSON object")
    return value


def _parse_ballot(obj: dict[str, Any]) -> EncryptedBallot:
    try:
        ballot = EncryptedBallot.from_json(obj)
    except CryptoError as exc:
        raise _crypto_error(exc) from exc
    except (KeyError, TypeError, ValueError) as exc:
        raise ApiError(400, "invalid_encoding", f"malformed ballot: {exc}") from exc
    canonical = has_exact_fields(obj)  # = ballot.to_json() == obj
    if not canonical:
        raise ApiError(400, "non_canonical", "the ballot is not in canonical form (extra fields "
                       "or non-canonical encodings)")
    return ballot


def _digests(tpk: ThresholdPublicKey, ballot: EncryptedBallot) -> list[str]:
    digests = [ciphertext_digest(tpk.n, c) for c in ballot.ciphertexts()]
    if len(set(digests)) != len(digests):
        raise ApiError(400, "invalid_ballot", "the ballot repeats a ciphertext")
    return digests


def _check_copies(db: Session, election_id: str, digests: list[str]) -> None:
    hit = db.execute(_COPY_SQL, {"election_id": election_id, "digests": digests}).first()
    if hit is not None:
        raise ApiError(409, "ciphertext_reused", "a ciphertext of this ballot is already on the "
                       "board (copied ballots are refused)")


def _used(db: Session, election_id: str, token_hex: str) -> UsedToken | None:
    return db.scalars(select(UsedToken).where(UsedToken.election_id == election_id,
                                              UsedToken.token_id == token_hex)).first()


def _check_entry(ctx: ElectionContext, entry: dict[str, Any]) -> None:
    """The full shared entry check (every proof), its first fault mapped to the HTTP error."""
    refuse_faults(check_ballot_entry(ctx, entry))


def _refuse_cast_faults(checked: EntryCheck) -> None:
    """:func:`refuse_faults` with the ballot box's own codes for a ballot it cannot use:
    ``non_canonical``, a malformed ballot's typed code, ``token_mismatch``."""
    if checked.ok:
        return
    fault = checked.faults[0]
    if fault.check == "entry-format" and fault.message.startswith("ballot is not in canonical"):
        raise ApiError(400, "non_canonical", "the ballot is not in canonical form (extra fields "
                       "or non-canonical encodings)")
    if fault.check == "entry-format" and fault.message.startswith("malformed ballot"):
        assert fault.error is not None
        raise _crypto_error(fault.error)
    if fault.check == "signature" and isinstance(fault.error, InvalidBallot):
        raise ApiError(400, "token_mismatch", "ballot.token_id is not the credential's token id")
    refuse_faults(checked)


def cast_ballot(app: Flask, election_id: object, payload: object,
                now_ms: int | None = None) -> dict[str, Any]:
    """Verify and append a ballot; returns the receipt (after commit).

    The checks are the verifier's own (:func:`tally.entry_checks.check_ballot_entry`), run
    once, in two parts: everything but the proofs; then the copy check (a copied ballot gets
    409 ``ciphertext_reused`` before its proofs, bound to another token, are looked at); then
    the proofs (:func:`tally.entry_checks.check_ballot_proofs`), their exponentiations batched
    with other ballots' under group commit.
    """
    credential_obj = _object(payload, "credential")
    ballot_obj = _object(payload, "ballot")
    assert isinstance(payload, dict)
    try:
        signature = hex_to_bytes(payload.get("signature"), "signature", 64)
    except InvalidEncoding as exc:
        raise ApiError(400, "invalid_body", "field 'signature' must be 64 bytes of hex") from exc

    db = new_session(app)
    try:
        # the mutable columns only (fresh, per cast); the frozen context from the cache
        election = cast_context.read_state(db, election_id)
        election_service.accepting_ballots(election)
        context = cast_context.context_for(app, db, election)
        try:
            credential = Credential.from_json(credential_obj)
        except CryptoError as exc:
            raise ApiError(400, "invalid_credential", str(exc)) from exc
        entry: dict[str, Any] = {
            "kind": "ballot",
            "election_id": election.id,
            "credential": credential.to_json(),
            "ballot": ballot_obj,
            "signature": signature.hex(),
            "cast_at": board_core.coarse_ms(now_ms, context.granularity_s),
        }
        ctx = context.entry
        # The verifier's entry check but the proofs: credential, signature, canonical form,
        # token, voting window.
        checked = check_ballot_entry(ctx, entry, verify_proofs=False, proofs=False)
        _refuse_cast_faults(checked)
        assert checked.ballot is not None and checked.token is not None
        ballot = checked.ballot
        tracker = (tracker_of_canonical(checked.ballot_canonical)
                   if checked.ballot_canonical is not None else board_service.tracker_of(ballot_obj))
        # With group commit, append_ballots makes the retry and used-token checks for the
        # whole batch under the board lock (one SELECT per table) with the same outcomes: a
        # retry gets its stored receipt, a used token 409 already_voted.  Asking here too cost
        # two queries per cast.  The copy check stays here (a copied ballot gets 409
        # ciphertext_reused before its proofs, bound to another token, are looked at); a
        # committed retry also meets it, and is then answered with its stored receipt.
        batched = group_commit.enabled(app, PREFIX)
        if not batched:
            existing = board_service.by_tracker(db, election.id, tracker)
            if existing is not None and existing.kind == "ballot":  # a retry: the same receipt
                return board_service.stored_receipt(db, election, existing)
        tpk = context.tpk
        digests = _digests(tpk, ballot)
        token_hex = checked.token.hex()
        if not batched and ctx.revote_policy == "no-revote" and _used(db, election.id, token_hex):
            raise ApiError(409, "already_voted", "this credential has already cast a ballot")
        try:
            _check_copies(db, election.id, digests)
        except ApiError:
            if batched:  # a retry's ciphertexts are on the board too: its stored receipt
                existing = board_service.by_tracker(db, election.id, tracker)
                if existing is not None and existing.kind == "ballot":
                    return board_service.stored_receipt(db, election, existing)
            raise
        item = BallotAppend(entry, tuple(digests), token_hex, tracker, revote=True,
                            ballot_canonical=checked.ballot_canonical)
        eid = election.id
        # The rest of the same check: the proofs' shapes and challenges, and (unbatched) their
        # equations.  Accepted => verifiable.
        check_ballot_proofs(ctx, checked, verify_proofs=not batched)
        refuse_faults(checked)
        if batched:
            pending = group_commit.Pending(
                key=tracker, payload=item, pk=tpk.public, items=list(checked.items),
                check=functools.partial(_check_entry, ctx, entry))
            db.rollback()
            db.close()
            future = committer_for(app, eid).submit(pending)
            return group_commit.wait(
                app, PREFIX, future,
                not_recorded="the server is busy and did not record the ballot; retry",
                maybe_recorded="the server is busy; the ballot may still be recorded: retry "
                               "(the same ballot gets its receipt if it was)")
        db.rollback()  # end any read transaction before taking the write lock
        return _one(append_ballots(db, eid, [item])[0])
    finally:
        db.close()


def _one(result: dict[str, Any] | ApiError) -> dict[str, Any]:
    if isinstance(result, ApiError):
        raise ApiError(result.status, result.code, result.message)
    return result


def _commit_batch(app: Flask, election_id: str, batch: list[group_commit.Pending]) -> None:
    """Group commit of one election (:class:`app.services.group_commit.GroupCommitter`)."""
    db = new_session(app)
    try:
        results = append_ballots(db, election_id, [p.payload for p in batch])
    finally:
        db.close()
    for p, result in zip(batch, results, strict=True):
        if isinstance(result, ApiError):
            p.future.set_exception(result)
        else:
            p.future.set_result(result)


def committer_for(app: Flask, election_id: str) -> group_commit.GroupCommitter:
    """This process's group committer of the election's board."""
    return group_commit.committer_for(app, _EXTENSION, election_id,
                                      functools.partial(_commit_batch, app, election_id),
                                      PREFIX, "election")


#: Core tables of the bulk INSERTs (one executemany each, no ORM per-row work).
_USED_TOKENS = cast(Table, UsedToken.__table__)
_REGISTRY = cast(Table, CiphertextRegistry.__table__)
#: The copy check of every cast, written out (as :data:`cast_context._STATE_SQL`, for the
#: client CPU a ``select()`` spends on its compile-cache key).
_COPY_SQL = text("SELECT id FROM ciphertext_registry WHERE election_id = :election_id "
                 "AND digest IN :digests LIMIT 1").bindparams(bindparam("digests", expanding=True))
#: Most values in one ``IN (...)`` list (SQLite and PostgreSQL bind-parameter limits).
_IN_CHUNK = 500


def _chunks(values: Sequence[str]) -> list[list[str]]:
    distinct = sorted(set(values))
    return [distinct[i:i + _IN_CHUNK] for i in range(0, len(distinct), _IN_CHUNK)]


@dataclass
class _Token:
    """A token's state in the batch: its ``used_tokens`` row (None: inserted by this batch)
    and its current ballot (an entry on the board, or ``rows[row]`` of this batch)."""

    used_id: int | None
    entry_id: int | None
    leaf_index: int
    row: int | None = None


def _on_board(db: Session, election_id: str, items: Sequence[BallotAppend]
              ) -> tuple[dict[str, BoardEntry], set[str], dict[str, _Token]]:
    """ONE query per table for the whole batch: entries by tracker, registered ciphertext
    digests, used tokens (with their current entry's leaf index)."""
    by_tracker: dict[str, BoardEntry] = {}
    for chunk in _chunks([it.tracker for it in items]):
        for row in db.scalars(select(BoardEntry).where(BoardEntry.election_id == election_id,
                                                       BoardEntry.tracker.in_(chunk))):
            by_tracker[row.tracker] = row
    registered: set[str] = set()
    for chunk in _chunks([d for it in items for d in it.digests]):
        registered.update(db.scalars(select(CiphertextRegistry.digest).where(
            CiphertextRegistry.election_id == election_id,
            CiphertextRegistry.digest.in_(chunk))))
    tokens: dict[str, _Token] = {}
    for chunk in _chunks([it.token_hex for it in items if it.token_hex is not None]):
        query = (select(UsedToken.id, UsedToken.token_id, UsedToken.current_entry_id,
                        BoardEntry.leaf_index)
                 .join(BoardEntry, BoardEntry.id == UsedToken.current_entry_id)
                 .where(UsedToken.election_id == election_id, UsedToken.token_id.in_(chunk)))
        for used_id, token, entry_id, leaf_index in db.execute(query):
            tokens[token] = _Token(used_id, entry_id, leaf_index)
    return by_tracker, registered, tokens


def append_ballots(db: Session, election_id: str, items: Sequence[BallotAppend]
                   ) -> list[dict[str, Any] | ApiError]:
    """ONE transaction: lock, re-check, append the (already verified) entries in the given
    order, sign ONE tree head, commit; then each item's own receipt or error.

    Per item, under the lock: a tracker already on the board (as the same kind) or earlier
    in the batch is a retry and gets that entry's receipt; a ciphertext on the board or
    earlier in the batch is 409 ``ciphertext_reused``; a used token is 409
    ``already_voted`` (no revote) or supersedes the token's current ballot.  An error of
    the whole transaction (election closed meanwhile, database conflict) is every item's.

    A constant number of statements per batch: one SELECT per table for the whole batch
    (duplicates inside the batch are found here, in order: the first wins), one bulk
    INSERT per table, bulk UPDATEs of superseded entries and revoted tokens.
    """
    results: list[dict[str, Any] | ApiError | None] = [None] * len(items)
    same_as: dict[int, int] = {}  # position -> position of the same ballot in this batch
    stored: dict[int, BoardEntry] = {}  # position -> the entry already on the board
    try:
        start = board_service.lock_election(db, election_id, 0)
        election = db.scalars(select(Election).where(Election.id == election_id)
                              .execution_options(populate_existing=True)).one()
        election_service.accepting_ballots(election)  # it may have closed meanwhile
        log = board_service.load_log(db, election_id)
        by_tracker, registered, tokens = _on_board(db, election_id, items)
        no_revote = election.revote_policy == "no-revote"
        rows: list[tuple[dict[str, Any], dict[str, Any]]] = []
        positions: list[int] = []  # rows[i] is items[positions[i]]
        digests_of: list[tuple[str, ...]] = []
        superseded: list[dict[str, Any]] = []  # entries already on the board
        trackers: dict[str, int] = {}
        digests_seen: set[str] = set()
        index = start
        for pos, item in enumerate(items):
            kind = item.entry["kind"]
            if item.tracker in trackers:
                same_as[pos] = trackers[item.tracker]
                continue
            on_board = by_tracker.get(item.tracker)
            if on_board is not None and on_board.kind == kind:
                stored[pos] = on_board
                continue
            if not digests_seen.isdisjoint(item.digests) or not registered.isdisjoint(item.digests):
                results[pos] = _copied()
                continue
            used = tokens.get(item.token_hex) if item.token_hex is not None else None
            if used is not None and (not item.revote or no_revote):
                results[pos] = ApiError(409, "already_voted",
                                        "this credential has already cast a ballot")
                continue
            entry = dict(item.entry)
            entry["index"] = index
            entry["replaces"] = used.leaf_index if used is not None else None
            rows.append((entry, {"kind": kind, "token_id": item.token_hex,
                                 "tracker": item.tracker, "superseded": False,
                                 "superseded_by": None, "cast_at_ms": int(entry["cast_at"])}))
            if used is not None:  # the token's previous ballot is superseded by this one
                if used.row is not None:
                    rows[used.row][1].update(superseded=True, superseded_by=index)
                else:
                    superseded.append({"id": used.entry_id, "superseded": True,
                                       "superseded_by": index})
            if item.token_hex is not None:
                tokens[item.token_hex] = _Token(used.used_id if used is not None else None,
                                                None, index, row=len(rows) - 1)
            positions.append(pos)
            digests_of.append(item.digests)
            digests_seen.update(item.digests)
            trackers[item.tracker] = pos
            index += 1
        if rows:
            known: list[dict[str, bytes]] = []
            for pos in positions:
                ballot_canonical = items[pos].ballot_canonical
                known.append({} if ballot_canonical is None else {"ballot": ballot_canonical})
            leaves = board_core.append_rows(db, board_service.MODELS, election_id, log, start,
                                            rows, known)
            ids = [leaf.id for leaf in leaves]
            new_tokens, moved_tokens = [], []
            for token, state in tokens.items():
                if state.row is None:
                    continue
                if state.used_id is None:
                    new_tokens.append({"election_id": election_id, "token_id": token,
                                       "current_entry_id": ids[state.row]})
                else:
                    moved_tokens.append({"id": state.used_id,
                                         "current_entry_id": ids[state.row]})
            if superseded:
                db.execute(update(BoardEntry), superseded)
            if moved_tokens:
                db.execute(update(UsedToken), moved_tokens)
            if new_tokens:
                db.execute(insert(_USED_TOKENS), new_tokens)
            db.execute(insert(_REGISTRY),
                       [{"election_id": election_id, "digest": digest, "entry_id": entry_id}
                        for entry_id, digests in zip(ids, digests_of, strict=True)
                        for digest in digests])
            board_core.set_size(db, board_service.MODELS, election_id, index)
            sth = board_service.sign_head(db, election, final=False, log=log)
            for pos, leaf in zip(positions, leaves, strict=True):
                results[pos] = board_service.receipt(election, leaf, log, sth)
        db.commit()
    except IntegrityError as exc:
        db.rollback()
        return _all(items, ApiError(409, "conflict", "the ballot collides with one already on "
                                    "the board (token or ciphertext already used)"), exc)
    except OperationalError as exc:
        db.rollback()
        return _all(items, ApiError(503, "busy", "the board is busy; retry"), exc)
    except ApiError as exc:
        db.rollback()
        return _all(items, exc, None)
    except BaseException:
        db.rollback()
        raise
    for pos, row in stored.items():  # retries of entries committed earlier
        results[pos] = board_service.stored_receipt(db, election, row)
    db.rollback()
    for pos, first in same_as.items():
        results[pos] = results[first]
    out: list[dict[str, Any] | ApiError] = []
    for result in results:
        assert result is not None
        out.append(result)
    return out


def _copied() -> ApiError:
    return ApiError(409, "ciphertext_reused", "a ciphertext of this ballot is already on the "
                    "board (copied ballots are refused)")


def _all(items: Sequence[BallotAppend], error: ApiError, cause: BaseException | None
         ) -> list[dict[str, Any] | ApiError]:
    if cause is not None:
        error.__cause__ = cause
    return [error for _ in items]


def post_audited(app: Flask, election_id: object, payload: object,
                 now_ms: int | None = None) -> dict[str, Any]:
    """Post a Benaloh-audited (spoiled) ballot with its revealed plaintexts and randomness.

    Accepted if well-formed: the ballot parses against the manifest and its proofs verify
    under its own token id, and the revealed secrets re-encrypt to its ciphertexts.  Its
    ciphertexts enter the registry so that it can never be cast.  Never counted.  Posting
    the same audited ballot again returns its receipt.
    """
    ballot_obj = _object(payload, "ballot")
    secrets_obj = _object(payload, "secrets")
    db = new_session(app)
    try:
        election = cast_context.read_state(db, election_id)
        if election.state != "open":
            raise ApiError(409, "not_open", "audited ballots are accepted while the election is open")
        ballot = _parse_ballot(ballot_obj)
        context = cast_context.context_for(app, db, election)
        digests = _digests(context.tpk, ballot)
        tracker = board_service.tracker_of(ballot_obj)
        existing = board_service.by_tracker(db, election.id, tracker)
        if existing is not None and existing.kind == "audited":
            return board_service.stored_receipt(db, election, existing)
        entry: dict[str, Any] = {
            "kind": "audited",
            "election_id": election.id,
            "credential": None,
            "ballot": ballot_obj,
            "signature": None,
            "secrets": secrets_obj,
            "cast_at": board_core.coarse_ms(now_ms, context.granularity_s),
        }
        # The verifier's own entry check: the secrets must cover exactly the manifest.
        refuse_faults(check_audited_entry(context.entry, entry))
        _check_copies(db, election.id, digests)
        db.rollback()
        item = BallotAppend(entry, tuple(digests), None, tracker, revote=False)
        return _one(append_ballots(db, election.id, [item])[0])
    finally:
        db.close()
