"""Election lifecycle: create (draft), configure, set the election key, open, close.

Keys: the issuer RSA key is generated when the election is created and published at
once (``GET /api/v1/elections/<id>``), before any issuance; the board's Ed25519 key
likewise.  Opening freezes the manifest and keys and computes the fingerprint
(:func:`crypto.election.election_fingerprint`).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.clock import iso_z
from app.errors import ApiError
from app.models import (
    CREDENTIAL_MODES,
    CREDENTIAL_POLICIES,
    REVOTE_POLICIES,
    CredentialIssuance,
    Election,
    RollEntry,
    utcnow,
)
from app.security import aware
from app.services import board as board_service
from app.services import board_core
from app.services import roll as roll_service
from crypto.blind_rsa import IssuerPrivateKey, IssuerPublicKey
from crypto.election import ElectionRules, Manifest, election_fingerprint
from crypto.errors import CryptoError
from crypto.threshold import ThresholdPublicKey
from crypto.tree_head import BoardSigningKey

#: smallest Paillier modulus accepted outside tests (docs/protocol.md §1.1 "Key sizes": 2048 allowed)
MIN_ELECTION_KEY_BITS = 2048
ISSUER_KEY_BITS = 2048


def manifest_from_form(election_id: str, title: str, questions: list[dict[str, Any]],
                       labels: object = None) -> Manifest:
    """Build and validate a manifest; raises :class:`ApiError` (400) with the reason.

    ``labels`` (optional, ``{key: {lang: text}}``) are the translations; ``None`` or an
    empty map means none (the field is then omitted and the fingerprint is unchanged).
    """
    data: dict[str, Any] = {"election_id": election_id, "title": title, "questions": questions}
    if labels:
        data["labels"] = labels
    try:
        return Manifest.from_json(data)
    except (CryptoError, KeyError, TypeError, ValueError) as exc:
        raise ApiError(400, "invalid_manifest", str(exc)) from exc


def get_election(db: Session, election_id: object) -> Election:
    if not isinstance(election_id, str) or len(election_id) > 64:
        raise ApiError(404, "not_found", "unknown election")
    election = db.get(Election, election_id)
    if election is None:
        raise ApiError(404, "not_found", "unknown election")
    return election


def create_election(
    db: Session,
    manifest: Manifest,
    *,
    revote_policy: str = "no-revote",
    credential_policy: str = "period",
    opens_at: dt.datetime | None = None,
    closes_at: dt.datetime | None = None,
    created_by: int | None = None,
    issuer_key: IssuerPrivateKey | None = None,
    credential_mode: str = "enrolled",
    legacy_login: bool = False,
) -> Election:
    if db.get(Election, manifest.election_id) is not None:
        raise ApiError(409, "exists", f"election {manifest.election_id!r} already exists")
    _check_policy(revote_policy)
    if credential_mode not in CREDENTIAL_MODES:
        raise ApiError(400, "invalid_mode", f"credential mode must be one of {CREDENTIAL_MODES}")
    if credential_mode == "login" and not legacy_login:
        # docs/protocol.md §2.7: without a roll the operator alone could issue every
        # credential; old login-mode elections are still read, new ones are refused
        raise ApiError(400, "login_mode_retired", "credential mode 'login' (no roll of voter "
                       "keys) is no longer accepted for new elections: use 'enrolled' (voters "
                       "enroll a key before opening) or 'pki' (national certificates)")
    _check_credential_policy(credential_policy)
    _check_window(opens_at, closes_at)
    sk = issuer_key if issuer_key is not None else IssuerPrivateKey.generate(ISSUER_KEY_BITS)
    board = BoardSigningKey.generate()
    election = Election(
        id=manifest.election_id,
        title=manifest.title,
        manifest_json=json.dumps(manifest.to_json()),
        state="draft",
        revote_policy=revote_policy,
        credential_policy=credential_policy,
        opens_at=opens_at,
        closes_at=closes_at,
        issuer_private_pem=sk.to_pem().decode("ascii"),
        issuer_public_json=json.dumps(sk.public_key().to_json()),
        board_seed_hex=board.to_seed_hex(),
        board_public_hex=board.public_key_bytes().hex(),
        created_by=created_by,
        board_size=0,
        credential_mode=credential_mode,
        id_salt_hex=secrets.token_hex(32) if credential_mode == "pki" else None,
    )
    db.add(election)
    db.flush()
    return election


def _check_policy(policy: str) -> None:
    if policy not in REVOTE_POLICIES:
        raise ApiError(400, "invalid_policy", f"revote policy must be one of {REVOTE_POLICIES}")


def _check_credential_policy(policy: str) -> None:
    if policy not in CREDENTIAL_POLICIES:
        raise ApiError(400, "invalid_policy",
                       f"credential policy must be one of {CREDENTIAL_POLICIES}")


def _check_window(opens_at: dt.datetime | None, closes_at: dt.datetime | None) -> None:
    if opens_at and closes_at and aware(closes_at) <= aware(opens_at):  # type: ignore[operator]
        raise ApiError(400, "invalid_window", "the voting window closes before it opens")


def _require_draft(election: Election) -> None:
    if election.state != "draft":
        raise ApiError(409, "frozen", "the election is no longer a draft; its setup is frozen")


def update_draft(
    db: Session, election: Election, *, manifest: Manifest | None = None,
    revote_policy: str | None = None, opens_at: dt.datetime | None = None,
    closes_at: dt.datetime | None = None, credential_policy: str | None = None,
) -> None:
    _require_draft(election)
    if credential_policy is not None:
        _check_credential_policy(credential_policy)
        election.credential_policy = credential_policy
    if manifest is not None:
        if manifest.election_id != election.id:
            raise ApiError(400, "invalid_manifest", "manifest election_id must match")
        election.manifest_json = json.dumps(manifest.to_json())
        election.title = manifest.title
    if revote_policy is not None:
        _check_policy(revote_policy)
        election.revote_policy = revote_policy
    _check_window(opens_at or election.opens_at, closes_at or election.closes_at)
    if opens_at is not None:
        election.opens_at = opens_at
    if closes_at is not None:
        election.closes_at = closes_at
    db.flush()


def set_election_key(db: Session, election: Election, key_json: object, *,
                     allow_test_key: bool = False) -> None:
    """Store the threshold public key (``election-public-key.json`` of ``saylau ceremony``)."""
    from crypto.threshold import ThresholdPublicKey

    _require_draft(election)
    if isinstance(key_json, dict) and "shares" in key_json:
        raise ApiError(400, "invalid_key", "this file holds key shares: upload only the public key")
    if isinstance(key_json, dict) and isinstance(key_json.get("public_key"), dict):
        key_json = key_json["public_key"]  # a wrapper document such as the test fixture
    try:
        key = ThresholdPublicKey.from_json(key_json)
    except (CryptoError, KeyError, TypeError, ValueError) as exc:
        raise ApiError(400, "invalid_key", f"not a threshold public key: {exc}") from exc
    bits = int(key.public.n).bit_length()
    if bits < MIN_ELECTION_KEY_BITS and not allow_test_key:
        raise ApiError(400, "weak_key", f"election key is {bits} bits; at least "
                       f"{MIN_ELECTION_KEY_BITS} required")
    election.election_key_json = json.dumps(key.to_json())
    election.insecure_test_keys = bits < MIN_ELECTION_KEY_BITS
    db.flush()


def generate_election_key(bits: int, threshold: int, trustees: int, *,
                          allow_test_key: bool = False, progress: Any = None) -> Any:
    """Dealer-generated threshold key for tests and the demo: ``(ThresholdPublicKey, shares)``.

    Only for TESTING or the demo: a real election takes its key from ``saylau ceremony``.
    """
    from crypto.threshold import generate_threshold_key

    return generate_threshold_key(bits, trustees, threshold, allow_test_key=allow_test_key,
                                  progress=progress)


def threshold_key(election: Election) -> ThresholdPublicKey:
    """The election's threshold public key (set before opening)."""
    if not election.election_key_json:
        raise ApiError(409, "no_key", "the election has no election key yet")
    return ThresholdPublicKey.from_json(json.loads(election.election_key_json))


def manifest_of(election: Election) -> Manifest:
    return Manifest.from_json(json.loads(election.manifest_json))


def issuer_public(election: Election) -> IssuerPublicKey:
    return IssuerPublicKey.from_json(json.loads(election.issuer_public_json))


def issuer_private(election: Election) -> IssuerPrivateKey:
    return IssuerPrivateKey.from_pem(election.issuer_private_pem.encode("ascii"))


def roll_commitment(election: Election) -> dict[str, Any] | None:
    """The frozen roll commitment ``{"mode", "size", "root"}`` (None before opening / login)."""
    return json.loads(election.roll_commitment_json) if election.roll_commitment_json else None


def rules_of(election: Election) -> ElectionRules | None:
    """The counting rules bound into F1 at opening (None before opening / older elections)."""
    return ElectionRules.from_json(json.loads(election.rules_json)) if election.rules_json else None


def _ms(moment: dt.datetime) -> int:
    return int(aware(moment).timestamp() * 1000)  # type: ignore[union-attr]


def freeze_rules(election: Election, now: dt.datetime | None = None) -> ElectionRules:
    """The rules bound at opening (docs/protocol.md §1.4, "Rules").

    ``opens_at``: the scheduled ``opens_at`` if the official set one, else the moment of
    opening (under the "period" credential policy voting starts later, when an official
    starts it; the bound window then starts earlier than voting does).  ``closes_at``:
    the scheduled close, or None = until an official closes the election (the final tree
    head).  ``time_granularity_s``: ``BOARD_TIME_GRANULARITY_S``.
    """
    now = now or utcnow()
    closes = aware(election.closes_at)
    if closes is not None and closes <= aware(now):  # type: ignore[operator]
        raise ApiError(409, "invalid_window", "the scheduled close of voting has already passed")
    opens = _ms(election.opens_at) if election.opens_at is not None else _ms(now)
    try:
        rules = ElectionRules(election.revote_policy, opens,
                              _ms(closes) if closes is not None else None,
                              board_core.time_granularity_s())
    except CryptoError as exc:
        raise ApiError(400, "invalid_window", str(exc)) from exc
    election.rules_json = json.dumps(rules.to_json())
    return rules


def compute_fingerprint(election: Election) -> bytes:
    if election.election_key_json is None:
        raise ApiError(409, "no_key", "set the election public key first")
    rules = rules_of(election)
    return election_fingerprint(
        manifest_of(election),
        json.loads(election.election_key_json),
        json.loads(election.issuer_public_json),
        bytes.fromhex(election.board_public_hex),
        roll_commitment(election),
        rules.to_json() if rules is not None else None,
    )


def open_election(db: Session, election: Election) -> None:
    """draft -> open: freeze the setup, compute the fingerprint, sign the empty tree head."""
    _require_draft(election)
    if election.election_key_json is None:
        raise ApiError(409, "no_key", "set the election public key before opening")
    freeze_rules(election)  # revote policy and voting window: bound into F1 from now on
    roll_service.freeze_roll(db, election)  # enrollment closes: the roll is numbered and committed to
    election.fingerprint_hex = compute_fingerprint(election).hex()
    election.state = "open"
    db.flush()
    board_service.sign_head(db, election, final=False)


def close_election(db: Session, election: Election) -> None:
    """open -> closed: sign the final tree head (the frozen board)."""
    if election.state != "open":
        raise ApiError(409, "not_open", "only an open election can be closed")
    board_service.lock_election(db, election.id, 0)  # the lock only: no entry
    db.refresh(election)
    election.state = "closed"
    board_service.sign_head(db, election, final=True)
    db.flush()


class Phased(Protocol):
    """What :func:`phase` reads: an :class:`Election` row or the per-cast
    :class:`app.services.cast_context.ElectionState`."""

    @property
    def state(self) -> str: ...
    @property
    def opens_at(self) -> dt.datetime | None: ...
    @property
    def closes_at(self) -> dt.datetime | None: ...
    @property
    def credential_policy(self) -> str: ...


def phase(election: Phased, now: dt.datetime | None = None) -> str:
    """Where an election stands for voters (docs §"Linkability", credential policies).

    ``"draft"``, ``"closed"``, ``"tallied"`` (the state), or, while open:
    ``"credentials"`` — the credential period: credentials are issued, ballots are not
    accepted (until ``opens_at``; under the "period" policy an open election without
    ``opens_at`` stays here until an official starts voting); ``"voting"``; or
    ``"window_closed"`` once ``closes_at`` has passed.
    """
    if election.state != "open":
        return election.state
    now = now or utcnow()
    opens, closes = aware(election.opens_at), aware(election.closes_at)
    if closes is not None and now >= closes:
        return "window_closed"
    if opens is not None and now < opens:
        return "credentials"
    if opens is None and election.credential_policy == "period":
        return "credentials"
    return "voting"


def accepting_ballots(election: Phased, now: dt.datetime | None = None) -> None:
    """Raise 409 unless the election is open and ``now`` is inside its voting window."""
    current = phase(election, now)
    if current == "credentials":
        raise ApiError(409, "not_open", "voting has not opened yet (credential period)")
    if current == "window_closed":
        raise ApiError(409, "window_closed", "the voting window has closed")
    if current != "voting":
        raise ApiError(409, "not_open", f"the election is {election.state}, not open")


def issuing_credentials(election: Election, now: dt.datetime | None = None) -> None:
    """Raise 409 unless a credential may be issued now under the election's policy.

    "period": only in the credential period, which ends when voting opens; "any_time":
    in the credential period and during voting.
    """
    current = phase(election, now)
    if current == "credentials":
        return
    if current == "voting" and election.credential_policy == "any_time":
        return
    if current == "voting":
        raise ApiError(409, "credential_period_over",
                       "the credential period ended when voting opened; vote with the voting "
                       "card you saved then")
    if current == "window_closed":
        raise ApiError(409, "window_closed", "the voting window has closed")
    raise ApiError(409, "not_open", f"the election is {election.state}, not open")


def start_voting(db: Session, election: Election, now: dt.datetime | None = None) -> None:
    """End the credential period now: ``opens_at`` := now (an official's action)."""
    if phase(election, now) != "credentials":
        raise ApiError(409, "not_in_credential_period", "the election is not in its credential period")
    now = now or utcnow()
    rules = rules_of(election)
    if rules is not None and _ms(now) < rules.opens_at_ms:
        raise ApiError(409, "window_bound", "voting cannot start before the scheduled opening "
                       "bound in the election fingerprint")
    election.opens_at = now
    db.flush()


def issuance_count(db: Session, election_id: str) -> int:
    return int(db.scalar(select(func.count()).select_from(CredentialIssuance)
                         .where(CredentialIssuance.election_id == election_id)) or 0)


def roll_count(db: Session, election_id: str) -> int:
    return int(db.scalar(select(func.count()).select_from(RollEntry)
                         .where(RollEntry.election_id == election_id)) or 0)


def public_json(db: Session, election: Election) -> dict[str, Any]:
    """What ``GET /api/v1/elections/<id>`` publishes."""
    return {
        "id": election.id,
        "title": election.title,
        "state": election.state,
        "manifest": json.loads(election.manifest_json),
        "opens_at": iso_z(election.opens_at),
        "closes_at": iso_z(election.closes_at),
        "revote_policy": election.revote_policy,
        "credential_mode": election.credential_mode,
        "roll": roll_commitment(election),
        "rules": json.loads(election.rules_json) if election.rules_json else None,
        "credential_policy": election.credential_policy,
        "phase": phase(election),
        "election_public_key": json.loads(election.election_key_json)
        if election.election_key_json else None,
        "issuer_public_key": json.loads(election.issuer_public_json),
        "board_public_key": election.board_public_hex,
        "log_id": board_service.log_id(election.id),
        "fingerprint": election.fingerprint_hex,
        "credentials_issued": issuance_count(db, election.id),
        "voters_on_roll": roll_count(db, election.id),
        "board_size": election.board_size,
        "insecure_test_keys": election.insecure_test_keys,
    }


def parse_datetime(value: object, name: str) -> dt.datetime | None:
    """ISO 8601 (``Z`` or offset; naive = UTC); empty -> None; raises ApiError 400."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ApiError(400, "invalid_datetime", f"{name}: expected an ISO 8601 string")
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ApiError(400, "invalid_datetime", f"{name}: expected an ISO 8601 date-time") from exc
    return aware(parsed)
