"""One check function per board entry kind, shared by the server and the verifiers.

docs/protocol.md §9.2 ("Entry checks"): the server runs exactly these functions on the entry
it is about to append, and the verifier (:func:`tally.verify_board.verify_board`,
:func:`tally.petition.verify_petition_board`) runs them again on every entry of the
frozen board.  So "the server accepted it" implies "the verifier accepts it" for every
check that depends on the entry alone:

* :func:`check_ballot_entry`   — a ``ballot`` entry (credential, Ed25519 signature, token,
  canonical ballot, every proof, ``cast_at`` inside the voting window);
* :func:`check_audited_entry`  — an ``audited`` entry (no credential, canonical ballot and
  proofs under its own token id, ``secrets`` covering *exactly* the manifest's questions
  and options, every option re-encrypting — the Benaloh audit);
* :func:`tally.petition.check_signature_entry` — a petition ``signature`` entry (it lives
  with the petition board; this module stays below it).

Checks that depend on the rest of the board (``index`` = position, ciphertext copies,
revote chains, issuance) are made by the verifier over the whole board and by the server
under its append lock (registry tables with UNIQUE keys; :func:`ciphertext_digest`).

Each function returns an :class:`EntryCheck` holding the parsed entry and the list of
:class:`Fault` s found (all of them, not just the first); ``raise_if_faulty`` turns a
non-empty list into :class:`EntryRejected`, which carries the original typed error.
With ``verify_proofs=False`` the proof exponentiations are left to the caller, which
batches them over many entries (:func:`crypto.batch.find_invalid`); batch and
one-by-one checks accept the same proofs (eq. Z5, docs/protocol.md §1.5).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from crypto.ballot import (
    BallotSecrets,
    EncryptedBallot,
    ballot_proof_items,
    has_exact_fields,
    verify_audited_ballot,
    verify_ballot,
)
from crypto.batch import ProofItem, combined_check
from crypto.blind_rsa import IssuerPublicKey
from crypto.credentials import Credential, verify_credential, verify_payload_signature
from crypto.election import Manifest
from crypto.encoding import byte_length, canonical_json, hex_to_bytes, int_to_fixed
from crypto.errors import CryptoError, InvalidBallot, InvalidEncoding, InvalidProof
from crypto.paillier import PublicKey

#: Revote policies (the voting service's ``REVOTE_POLICIES``).
REVOTE_POLICIES = ("last-counts", "no-revote")
ENTRY_KINDS = ("ballot", "audited")


def ciphertext_digest(n: int, c: int) -> str:
    """``SHA-256(I2OSP(c, byte_length(n²)))`` hex — the registry key of a ciphertext.

    Two entries carry "the same ciphertext" iff their digests are equal (ciphertexts are
    canonical integers in ``(0, n²)``); the servers' registries (``ciphertext_registry``,
    ``petition_ciphertext_registry``) are UNIQUE on it, the verifiers compare it.
    """
    return hashlib.sha256(int_to_fixed(c, byte_length(n * n))).hexdigest()


def copied_ciphertexts(n: int, items: Sequence[tuple[int, int]]) -> dict[int, int]:
    """The copy check: ``{position: first position}`` for each ``(position, c)`` whose
    ciphertext (by :func:`ciphertext_digest`) appeared at an earlier position.

    The server enforces the same rule with a registry table UNIQUE on the digest.
    """
    seen: dict[str, int] = {}
    copies: dict[int, int] = {}
    for position, c in items:
        digest = ciphertext_digest(n, c)
        if digest in seen:
            copies[position] = seen[digest]
        else:
            seen[digest] = position
    return copies


@dataclass(frozen=True)
class ElectionContext:
    """What a verifier needs about one election (all public).

    ``opens_at_ms`` / ``closes_at_ms``: the voting window bound into the fingerprint
    (docs/protocol.md §5.1); ``None`` = unbounded on that side (records made before
    the window was bound).  A ``ballot`` or ``audited`` entry's ``cast_at`` must satisfy
    ``opens_at_ms ≤ cast_at < closes_at_ms``.
    """

    manifest: Manifest
    public_key: PublicKey
    issuer_key: IssuerPublicKey
    fingerprint: bytes
    revote_policy: str
    opens_at_ms: int | None = None
    closes_at_ms: int | None = None

    def __post_init__(self) -> None:
        if self.revote_policy not in REVOTE_POLICIES:
            raise InvalidEncoding(f"revote policy must be one of {REVOTE_POLICIES}")
        if len(self.fingerprint) != 32:
            raise InvalidEncoding("fingerprint must be 32 bytes")

    @property
    def election_id(self) -> str:
        return self.manifest.election_id


@dataclass(frozen=True)
class Fault:
    """One failed entry check: the check's name, a message, the typed error if any."""

    check: str
    message: str
    error: CryptoError | None = None


class EntryRejected(CryptoError):
    """An entry fails one or more entry checks (the server refuses it; the verifier names it)."""

    def __init__(self, faults: list[Fault]) -> None:
        self.faults = list(faults)
        super().__init__("; ".join(f"{f.check}: {f.message}" for f in self.faults))


@dataclass
class EntryCheck:
    """Outcome of one entry check: the parsed parts (``None`` if unparseable) and faults."""

    kind: str | None
    faults: list[Fault] = field(default_factory=list)
    ballot: EncryptedBallot | None = None
    ballot_json: dict[str, Any] | None = None
    #: ``canonical_json(ballot_json)`` once the signature check has made it (the tracker's
    #: input too: :func:`crypto.ballot.tracker_of_canonical`)
    ballot_canonical: bytes | None = None
    token: bytes | None = None
    items: list[ProofItem] = field(default_factory=list)
    #: an ``audited`` entry checked with ``verify_proofs=False``: its openings ``(c, m, r)``,
    #: re-encryptions left to the caller's batch (:func:`crypto.batch_open.find_invalid_openings`)
    openings: list[tuple[int, int, int]] = field(default_factory=list)
    secrets: BallotSecrets | None = None

    @property
    def ok(self) -> bool:
        return not self.faults

    def bad(self, check: str, message: str, error: CryptoError | None = None) -> None:
        self.faults.append(Fault(check, message, error))

    def raise_if_faulty(self) -> None:
        if self.faults:
            raise EntryRejected(self.faults)


def check_audit_secrets(ctx: ElectionContext, ballot: EncryptedBallot, secrets_json: object,
                        *, defer: bool = False
                        ) -> tuple[BallotSecrets, list[tuple[int, int, int]]]:
    """Benaloh audit of an ``audited`` entry (docs/protocol.md §9.2 check 5).

    ``secrets`` is ``{q: {o: {"m": 0|1, "r": hex}}}`` in canonical form, covering exactly
    the manifest's questions and options, with ``r ∈ Z*_n``; every option re-encrypts (P1).
    With ``defer`` the re-encryptions are not computed here: the openings ``(c, m, r)`` are
    returned for :func:`crypto.batch_open.find_invalid_openings` (one equation per board),
    and the caller re-checks a failing entry with ``defer=False`` for its reason.
    """
    secrets_ = BallotSecrets.from_json(secrets_json)
    if secrets_.to_json() != secrets_json:
        raise InvalidEncoding("secrets are not in canonical form (extra fields)")
    expected = {q.id: set(q.option_ids) for q in ctx.manifest.questions}
    if {q: set(opts) for q, opts in secrets_.plaintexts.items()} != expected:
        raise InvalidBallot("secrets do not cover exactly the manifest's questions and options")
    n = ctx.public_key.n
    for opts in secrets_.randomness.values():
        for r in opts.values():
            if not 0 < r < n or math.gcd(r, n) != 1:
                raise InvalidEncoding("secrets: r is not in Z*_n")
    if defer:
        try:
            openings = [(sel.ciphertext, secrets_.plaintexts[q.id][sel.option_id],
                         secrets_.randomness[q.id][sel.option_id])
                        for contest in ballot.contests
                        for q in (ctx.manifest.question(contest.question_id),)
                        for sel in contest.selections]
        except (KeyError, CryptoError):
            pass  # the one-by-one check below names the problem
        else:
            return secrets_, openings
    try:
        verify_audited_ballot(ctx.public_key, ctx.manifest, ballot, secrets_)
    except KeyError as exc:  # Manifest.question: a contest for a question it lacks
        raise InvalidBallot(f"the ballot has a question the manifest lacks: {exc.args[0]}") from exc
    return secrets_, []


def unit_fault(ctx: ElectionContext, ballot: EncryptedBallot, token: bytes) -> None:
    """Raise the first proof element that is not a unit, in the order the shape checks
    meet them (:func:`crypto.ballot.ballot_proof_items` with ``units=True``), for a ballot
    whose batch equation failed.  The entry check leaves these tests to the batch
    (``units=False``), so a failing ballot is named as if they had come first."""
    ballot_proof_items(ctx.public_key, ctx.manifest, ctx.fingerprint, ballot, token, units=True)


def _verify_items(ctx: ElectionContext, out: EntryCheck, token: bytes) -> None:
    """The proof exponentiations of one entry: batched (V1), then one by one for the reason."""
    if not out.items or out.ballot is None:
        return
    try:
        combined_check(ctx.public_key, out.items)
    except InvalidProof:
        try:
            unit_fault(ctx, out.ballot, token)
            verify_ballot(ctx.public_key, ctx.manifest, ctx.fingerprint, out.ballot, token)
        except CryptoError as exc:
            out.bad("ballot-proof", f"ballot proof: {exc}", exc)
        else:  # pragma: no cover - batch and single checks share one definition (Z5)
            out.bad("ballot-proof", "ballot proof fails its verification equation",
                    InvalidProof("batch verification equation fails"))


def _common(ctx: ElectionContext, entry: object, position: int | None, kind: str,
            out: EntryCheck) -> None:
    """Fields every election board entry has: index, kind, election id, ballot, cast_at."""
    if not isinstance(entry, dict):
        out.bad("entry-format", "entry is not a JSON object", InvalidEncoding("entry"))
        out.kind = None
        return
    if position is not None:
        index = entry.get("index")
        if isinstance(index, bool) or index != position:
            out.bad("entry-format", f"index {index!r} is not its position {position}")
    if entry.get("kind") != kind:
        out.bad("entry-format", f"kind {entry.get('kind')!r} is not {kind!r}")
        out.kind = None
        return
    if entry.get("election_id") != ctx.election_id:
        out.bad("entry-format", "entry is for another election")
    ballot_json = entry.get("ballot")
    try:
        if not isinstance(ballot_json, dict):
            raise InvalidEncoding("ballot: expected a JSON object")
        ballot = EncryptedBallot.from_json(ballot_json)
    except CryptoError as exc:
        out.bad("entry-format", f"malformed ballot: {exc}", exc)
        out.kind = None
        return
    cast_at = entry.get("cast_at")
    cast_ok = not isinstance(cast_at, bool) and isinstance(cast_at, int)
    if not cast_ok:
        out.bad("entry-format", "cast_at must be an integer (ms)")
    if not has_exact_fields(ballot_json):  # = ballot.to_json() != ballot_json
        out.bad("entry-format", "ballot is not in canonical form (unknown or extra fields)",
                InvalidEncoding("non-canonical ballot"))
        out.kind = None
        return
    if cast_ok:
        assert isinstance(cast_at, int)
        if cast_at < 0:
            out.bad("entry-format", "cast_at must be non-negative")
        elif ctx.opens_at_ms is not None and cast_at < ctx.opens_at_ms:
            out.bad("entry-format", f"cast_at {cast_at} is before the window opens "
                    f"({ctx.opens_at_ms})")
        elif ctx.closes_at_ms is not None and cast_at >= ctx.closes_at_ms:
            out.bad("entry-format", f"cast_at {cast_at} is not before the window closes "
                    f"({ctx.closes_at_ms})")
    out.ballot = ballot
    out.ballot_json = ballot_json


def _proof_items(ctx: ElectionContext, out: EntryCheck, token: bytes) -> None:
    assert out.ballot is not None
    try:
        # the proofs' gcd tests are the batch equation's (one for the whole batch)
        out.items = ballot_proof_items(ctx.public_key, ctx.manifest, ctx.fingerprint, out.ballot,
                                       token, units=False)
    except CryptoError as exc:
        out.bad("ballot-proof", f"ballot proof: {exc}", exc)
        out.items = []


def check_ballot_entry(ctx: ElectionContext, entry: object, *, position: int | None = None,
                       verify_proofs: bool = True, proofs: bool = True,
                       ballot_canonical: bytes | None = None) -> EntryCheck:
    """Every entry-local check of a ``ballot`` entry (docs/protocol.md §9.2 checks 1–4, 7).

    ``position`` = the entry's board index (``None`` before the server assigns it:
    the index check is then skipped).  Faults are named ``entry-format`` (including a
    ``cast_at`` outside the voting window), ``credential``,
    ``signature`` and ``ballot-proof``.

    ``proofs=False`` stops before the proofs (no ``ballot-proof`` check at all): the ballot
    box then makes its copy check, which must come first, and finishes the same check with
    :func:`check_ballot_proofs`.  ``verify_proofs=False`` checks the proofs' shapes and
    Fiat–Shamir challenges but leaves their exponentiations in ``items`` for a batch.
    ``ballot_canonical``: ``canonical_json(entry["ballot"])`` if the caller has made it
    (:func:`crypto.encoding.canonical_member`, for the leaf hash).
    """
    out = EntryCheck("ballot")
    _common(ctx, entry, position, "ballot", out)
    if out.kind is None or out.ballot is None:
        return out
    assert isinstance(entry, dict)
    try:
        credential = Credential.from_json(entry.get("credential"))
    except CryptoError as exc:
        out.bad("credential", f"malformed credential: {exc}", exc)
        out.kind = None
        return out
    try:
        verify_credential(ctx.issuer_key, credential, ctx.election_id)
    except CryptoError as exc:
        out.bad("credential", f"credential not issued by this election's issuer: {exc}", exc)
    out.token = credential.token_id
    try:
        signature = hex_to_bytes(entry.get("signature"), "signature")
        out.ballot_canonical = (ballot_canonical if ballot_canonical is not None
                                else canonical_json(out.ballot_json))
        verify_payload_signature(credential.ballot_public_key, out.ballot_canonical, signature)
    except CryptoError as exc:
        out.bad("signature", f"ballot signature: {exc}", exc)
    if out.ballot.token_id != out.token:
        out.bad("signature", "ballot.token_id is not the credential's token id",
                InvalidBallot("token mismatch"))
    if proofs:
        check_ballot_proofs(ctx, out, verify_proofs=verify_proofs)
    return out


def check_ballot_proofs(ctx: ElectionContext, out: EntryCheck, *,
                        verify_proofs: bool = True) -> None:
    """The ``ballot-proof`` part of :func:`check_ballot_entry` (``proofs=False``), added to
    the same result ``out``; nothing when an earlier check stopped the entry."""
    if out.kind is None or out.ballot is None or out.token is None:
        return
    _proof_items(ctx, out, out.token)
    if verify_proofs:
        _verify_items(ctx, out, out.token)


def check_audited_entry(ctx: ElectionContext, entry: object, *, position: int | None = None,
                        verify_proofs: bool = True) -> EntryCheck:
    """Every entry-local check of an ``audited`` entry (docs/protocol.md §9.2 checks 1, 4, 5, 7).

    ``credential``, ``signature`` and ``replaces`` are ``null``; the ballot's proofs verify
    under its own ``token_id``; ``secrets`` cover exactly the manifest (:func:`check_audit_secrets`).
    """
    out = EntryCheck("audited")
    _common(ctx, entry, position, "audited", out)
    if out.kind is None or out.ballot is None:
        return out
    assert isinstance(entry, dict)
    for name in ("credential", "signature", "replaces"):
        if entry.get(name) is not None:
            out.bad("entry-format", f"an audited entry must have {name} = null")
    try:
        out.secrets, out.openings = check_audit_secrets(ctx, out.ballot, entry.get("secrets"),
                                                        defer=not verify_proofs)
    except CryptoError as exc:
        out.bad("audit", f"audited ballot does not open: {exc}", exc)
    _proof_items(ctx, out, out.ballot.token_id)
    if verify_proofs:
        _verify_items(ctx, out, out.ballot.token_id)
    return out


def check_board_entry(ctx: ElectionContext, entry: object, *, position: int | None = None,
                      verify_proofs: bool = True,
                      ballot_canonical: bytes | None = None) -> EntryCheck:
    """Dispatch on ``entry["kind"]``; an unknown kind is an ``entry-format`` fault."""
    kind = entry.get("kind") if isinstance(entry, dict) else None
    if kind == "ballot":
        return check_ballot_entry(ctx, entry, position=position, verify_proofs=verify_proofs,
                                  ballot_canonical=ballot_canonical)
    if kind == "audited":
        return check_audited_entry(ctx, entry, position=position, verify_proofs=verify_proofs)
    out = EntryCheck(None)
    if not isinstance(entry, dict):
        out.bad("entry-format", "entry is not a JSON object")
        return out
    if position is not None:
        index = entry.get("index")
        if isinstance(index, bool) or index != position:
            out.bad("entry-format", f"index {index!r} is not its position {position}")
    out.bad("entry-format", f"unknown kind {kind!r}")
    return out


__all__ = [
    "ENTRY_KINDS",
    "REVOTE_POLICIES",
    "ElectionContext",
    "EntryCheck",
    "EntryRejected",
    "Fault",
    "check_audit_secrets",
    "check_audited_entry",
    "check_ballot_entry",
    "check_board_entry",
    "ciphertext_digest",
    "copied_ciphertexts",
    "unit_fault",
]
