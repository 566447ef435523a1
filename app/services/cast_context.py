"""The election as a cast sees it: its mutable state, read per cast, and its frozen context,
parsed once per process.

A cast used to load the whole election row and parse its election key, manifest, issuer
key and rules JSON on every request (docs/performance.md, "where a cast's time goes").
Once an election is open, everything the cast checks verify against is frozen and bound
into its fingerprint (eq. F1): the manifest, the threshold public key, the issuer key, the
rules (revote policy, voting window, time granularity).  So:

* :func:`read_state` — per cast, ONE narrow ``SELECT`` of the columns that may still change
  (``state``, ``opens_at``, ``closes_at``, ``credential_policy``, ``fingerprint_hex``): no
  JSON column is read, nothing is parsed.  The phase check (open, inside the window) runs
  on these fresh values, so an election closed on any node is refused by the next cast on
  every node; the append under the board lock checks the state in the database once more
  (:func:`app.services.casting.append_ballots`);
* :func:`context_for` — the parsed frozen context from this process's cache, keyed by
  ``(election id, state, fingerprint)``: a different election, a state change or another
  fingerprint (an election recreated under the same id) is a miss, and the context is
  rebuilt from the full row.  Only an open election with a fingerprint has a context.

The cache lives in ``app.extensions`` (one per app, so per database), holds one entry per
election and hands out immutable objects (frozen dataclasses), so threads share them freely.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from typing import cast

from flask import Flask
from sqlalchemy import Table, select, text
from sqlalchemy.orm import Session

from app.errors import ApiError
from app.models import Election
from app.services import elections as election_service
from crypto.blind_rsa import IssuerPublicKey
from crypto.threshold import ThresholdPublicKey
from tally.entry_checks import ElectionContext

_EXTENSION = "saylau_cast_contexts"
_ELECTIONS = cast(Table, Election.__table__)
#: :func:`read_state`'s statement, written out: a ``select()`` of the same columns cost twice
#: the client CPU (SQLAlchemy's compile-cache key per execution), about 0.4 ms of a cast's
#: 15.  The result columns keep their types (``DateTime`` on SQLite is stored as text).
_STATE_SQL = text("SELECT id, state, opens_at, closes_at, credential_policy, fingerprint_hex "
                  "FROM elections WHERE id = :id").columns(
    *(_ELECTIONS.c[name] for name in ("id", "state", "opens_at", "closes_at",
                                      "credential_policy", "fingerprint_hex")))
_LOCK = threading.Lock()


@dataclass(frozen=True)
class ElectionState:
    """The election's columns that may change while it is open (read per cast)."""

    id: str
    state: str
    opens_at: dt.datetime | None
    closes_at: dt.datetime | None
    credential_policy: str
    fingerprint_hex: str | None

    @property
    def key(self) -> tuple[str, str, str | None]:
        """What a cached context must match: election id, state, fingerprint."""
        return (self.id, self.state, self.fingerprint_hex)


@dataclass(frozen=True)
class CastContext:
    """The frozen part of an open election, parsed once (immutable; shared by threads)."""

    key: tuple[str, str, str | None]
    tpk: ThresholdPublicKey
    fingerprint: bytes
    issuer: IssuerPublicKey
    #: ``time_granularity_s`` of the rules bound at opening (None: no rules, older elections)
    granularity_s: int | None
    #: what :func:`tally.entry_checks.check_ballot_entry` needs (manifest, keys, window)
    entry: ElectionContext

    @property
    def election_id(self) -> str:
        return self.key[0]


def read_state(db: Session, election_id: object) -> ElectionState:
    """The election's mutable columns (404 ``not_found`` as :func:`elections.get_election`)."""
    if not isinstance(election_id, str) or len(election_id) > 64:
        raise ApiError(404, "not_found", "unknown election")
    row = db.execute(_STATE_SQL, {"id": election_id}).first()
    if row is None:
        raise ApiError(404, "not_found", "unknown election")
    return ElectionState(*row)


def build(election: Election) -> CastContext:
    """Parse the frozen context of an open election's row (the JSON columns)."""
    if election.election_key_json is None or election.fingerprint_hex is None:
        raise ApiError(409, "not_open", "the election is not open")
    tpk = election_service.threshold_key(election)
    fingerprint = bytes.fromhex(election.fingerprint_hex)
    issuer = election_service.issuer_public(election)
    rules = election_service.rules_of(election)
    entry = ElectionContext(election_service.manifest_of(election), tpk.public, issuer,
                            fingerprint, election.revote_policy,
                            rules.earliest_cast_at_ms if rules is not None else None,
                            rules.closes_at_ms if rules is not None else None)
    return CastContext((election.id, election.state, election.fingerprint_hex), tpk,
                       fingerprint, issuer, rules.time_granularity_s if rules is not None
                       else None, entry)


def _cache(app: Flask) -> dict[str, CastContext]:
    cache: dict[str, CastContext] = app.extensions.setdefault(_EXTENSION, {})
    return cache


def context_for(app: Flask, db: Session, state: ElectionState) -> CastContext:
    """The election's frozen context: from this process's cache if it was built for the same
    election, state and fingerprint; else built from the full row (and cached)."""
    if state.fingerprint_hex is None:
        raise ApiError(409, "not_open", "the election is not open")
    with _LOCK:
        cached = _cache(app).get(state.id)
    if cached is not None and cached.key == state.key and cached.entry.election_id == state.id:
        return cached
    election = db.scalars(select(Election).where(Election.id == state.id)
                          .execution_options(populate_existing=True)).first()
    if election is None:  # deleted since read_state
        raise ApiError(404, "not_found", "unknown election")
    context = build(election)
    if context.key == state.key and context.entry.election_id == state.id:
        with _LOCK:
            _cache(app)[state.id] = context
    return context

