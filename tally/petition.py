"""Petition boards: verification, homomorphic aggregation and the by-region decryption.

Board entries (leaf ``i`` = ``leaf_hash(canonical_json(entry_i))``)::

    {"kind": "signature", "petition_id": "petition:<id>", "index": i,
     "credential": Credential JSON, "signature": EncryptedSignature JSON,
     "ed25519_signature": hex(Ed25519_bsk(canonical_json(signature))), "signed_at": ms}
    {"kind": "invalidation", "petition_id": "petition:<id>", "index": i,
     "target_index": t, "reason_code": code, "at": ms}

Counted signatures: valid ``signature`` entries not named by a later ``invalidation``.
The region tally is ``C = ∏ c_j mod n²`` over the counted entries; it encrypts
``Σ_i count_i · B^i``, decrypted by ``k`` trustees under the context
:func:`region_tally_context` and unpacked with :meth:`PetitionParameters.unpack`.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from crypto.batch import ProofItem
from crypto.blind_rsa import IssuerPublicKey
from crypto.credentials import Credential, verify_credential, verify_payload_signature
from crypto.encoding import canonical_json, hex_to_bytes, hex_to_int, int_to_hex, require
from crypto.errors import CryptoError, DecryptionError, InvalidEncoding
from crypto.merkle import entry_leaf_hash, root_hash
from crypto.paillier import PublicKey, invert, validate_ciphertext
from crypto.petition import (
    EncryptedSignature,
    PetitionParameters,
    signature_proof_item,
    verify_signature,
)
from crypto.threshold import (
    KeyShare,
    PartialDecryption,
    ThresholdPublicKey,
    combine,
    partial_decrypt,
)
from tally.board_batch import find_invalid_parallel
from tally.entry_checks import ciphertext_digest

ENTRY_KINDS = ("signature", "invalidation")
INVALIDATION_REASONS = ("fraud_suspected", "duplicate_person", "coerced", "other")



def _is_index(value: object, position: int) -> bool:
    """``value`` is the integer ``position`` (``true`` is not ``1``: the verifier of an
    election board refuses it too)."""
    return not isinstance(value, bool) and value == position


def region_tally_context(petition_id: str, tree_size: int) -> tuple[str, ...]:
    """Decryption context of the region product of the first ``tree_size`` board entries."""
    return ("petition_id", petition_id, "tally", "regions", "tree_size", str(tree_size))


def aggregate(pk: PublicKey, ciphertexts: Sequence[int]) -> int:
    """``C = ∏ c_j mod n²`` (``1`` = Enc(0; 1) for an empty board)."""
    nn = pk.nsquare
    total = 1
    for c in ciphertexts:
        total = total * validate_ciphertext(pk, c) % nn
    return total


def remove(pk: PublicKey, product: int, c: int) -> int:
    """``C · c⁻¹ mod n²``: take an invalidated signature out of a running product."""
    return product * invert(validate_ciphertext(pk, c), pk.nsquare) % pk.nsquare


@dataclass(frozen=True)
class PetitionContext:
    """What a verifier needs about one petition (all public)."""

    params: PetitionParameters
    public_key: PublicKey
    issuer_key: IssuerPublicKey
    fingerprint: bytes


@dataclass(frozen=True)
class Problem:
    index: int
    check: str
    message: str

    def __str__(self) -> str:
        return f"entry {self.index}: {self.check}: {self.message}"


@dataclass
class PetitionBoardResult:
    """Counted entries (index → ciphertext), their product, and every problem found."""

    size: int
    counted: dict[int, int] = field(default_factory=dict)
    invalidated: set[int] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)
    product: int = 1
    root: bytes = b""

    @property
    def count(self) -> int:
        return len(self.counted)

    @property
    def ok(self) -> bool:
        return not self.problems


def region_digest(n: int, entry: object) -> str:
    """Registry key of a signature entry's region ciphertext (``ciphertext_digest``, the
    copy check's key; raises :class:`InvalidEncoding` on a malformed entry)."""
    region = require(require(entry, "signature", dict, "entry"), "region", dict, "signature")
    return ciphertext_digest(n, hex_to_int(require(region, "ciphertext", str, "signature.region"),
                                           "ciphertext"))


@dataclass
class SignatureCheck:
    """Outcome of :func:`check_signature_entry`: token, parsed signature, proof item, faults."""

    faults: list[Problem] = field(default_factory=list)
    token: bytes | None = None
    signature: EncryptedSignature | None = None
    item: ProofItem | None = None
    errors: list[CryptoError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.faults


def check_signature_entry(ctx: PetitionContext, entry: object, *, position: int | None = None,
                          verify_proofs: bool = True) -> SignatureCheck:
    """Every entry-local check of a petition ``signature`` entry (docs/protocol.md §11).

    The server runs it on the entry it is about to append (``position=None``: the index
    is assigned under the append lock), the verifier on every board entry, so that an
    accepted signature is a verifiable one.  Checks, named as the verifier reports them:
    ``entry-format`` (object, index, kind, petition id, canonical signature), ``credential``
    (RFC 9474, scope = petition id), ``signature`` (Ed25519 over
    ``canonical_json(signature)``, token = the credential's), ``region-proof`` (shape and
    challenge; with ``verify_proofs`` the exponentiations too — else ``item`` is left for a
    batch check, which accepts exactly the same proofs, eq. Z5).
    """
    out = SignatureCheck()
    where = -1 if position is None else position

    def bad(check: str, message: str, error: CryptoError | None = None) -> None:
        out.faults.append(Problem(where, check, message))
        if error is not None:
            out.errors.append(error)

    if not isinstance(entry, dict) or entry.get("kind") != "signature" \
            or entry.get("petition_id") != ctx.params.petition_id \
            or (position is not None and not _is_index(entry.get("index"), position)):
        bad("entry-format", "index, kind or petition_id is wrong")
        return out
    try:
        credential = Credential.from_json(entry.get("credential"))
    except (CryptoError, TypeError, ValueError) as exc:
        bad("entry-format", f"credential: {exc}")
        return out
    try:
        verify_credential(ctx.issuer_key, credential, ctx.params.petition_id)
    except CryptoError as exc:
        bad("credential", str(exc), exc)
        return out
    sig_obj = entry.get("signature")
    try:
        ed = hex_to_bytes(entry.get("ed25519_signature"), "ed25519_signature", 64)
        verify_payload_signature(credential.ballot_public_key, canonical_json(sig_obj), ed)
    except CryptoError as exc:
        bad("signature", str(exc), exc)
        return out
    try:
        sig = EncryptedSignature.from_json(sig_obj)
        if sig.to_json() != sig_obj:
            raise InvalidEncoding("signature is not in canonical form")
    except (CryptoError, TypeError, ValueError) as exc:
        bad("entry-format", f"signature: {exc}",
            exc if isinstance(exc, CryptoError) else InvalidEncoding(str(exc)))
        return out
    out.token, out.signature = credential.token_id, sig
    try:
        if verify_proofs:
            verify_signature(ctx.public_key, ctx.params, ctx.fingerprint, sig, credential.token_id)
        else:
            # the proof's gcd tests are the batch equation's (one for the whole batch)
            out.item = signature_proof_item(ctx.public_key, ctx.params, ctx.fingerprint, sig,
                                            credential.token_id, units=False)
    except CryptoError as exc:
        bad("region-proof", str(exc), exc)
    return out


def _batch_fault(ctx: PetitionContext, sig: EncryptedSignature) -> str:
    """The report's message for a signature the batch equation refused: a proof element that
    is not a unit is named as the shape check names it (the entry check left those tests to
    the batch), anything else is ``proof fails``."""
    try:
        signature_proof_item(ctx.public_key, ctx.params, ctx.fingerprint, sig, sig.token_id,
                             units=True)
    except CryptoError as exc:
        return str(exc)
    return "proof fails"


def verify_petition_board(ctx: PetitionContext, entries: Sequence[object], *,
                          batch: bool = True, workers: int | None = None) -> PetitionBoardResult:
    """Check every entry; the result lists problems instead of stopping at the first.

    Checks: ``index`` = position, kind known, ``petition_id`` = this petition;
    credential (RFC 9474, scope = petition id); Ed25519 over ``canonical_json(signature)``;
    ``signature.token_id`` = credential token; token unique on the board; region proof
    (batched with :func:`crypto.batch.find_invalid`, or one by one); invalidations name
    an earlier, valid, not yet invalidated signature.
    """
    result = PetitionBoardResult(size=len(entries))
    leaves: list[bytes] = []
    tokens: dict[bytes, int] = {}
    pending: dict[int, tuple[EncryptedSignature, ProofItem | None]] = {}
    invalidations: list[tuple[int, int]] = []
    pk, params = ctx.public_key, ctx.params
    for position, entry in enumerate(entries):
        try:
            leaves.append(entry_leaf_hash(entry))
        except (CryptoError, TypeError, ValueError) as exc:
            result.problems.append(Problem(position, "entry-format", f"not canonical JSON: {exc}"))
            leaves.append(b"\x00" * 32)
            continue
        if not isinstance(entry, dict) or not _is_index(entry.get("index"), position) \
                or entry.get("kind") not in ENTRY_KINDS \
                or entry.get("petition_id") != params.petition_id:
            result.problems.append(Problem(position, "entry-format",
                                           "index, kind or petition_id is wrong"))
            continue
        if entry["kind"] == "invalidation":
            target = entry.get("target_index")
            if not isinstance(target, int) or isinstance(target, bool) or not 0 <= target < position \
                    or not isinstance(entry.get("reason_code"), str):
                result.problems.append(Problem(position, "invalidation", "bad target or reason"))
                continue
            invalidations.append((position, target))
            continue
        checked = check_signature_entry(ctx, entry, position=position, verify_proofs=not batch)
        if checked.token is None or checked.signature is None:
            result.problems.extend(checked.faults)
            continue
        token, sig = checked.token, checked.signature
        if token in tokens:
            result.problems.append(Problem(position, "token-reuse",
                                           f"token already used by entry {tokens[token]}"))
            continue
        tokens[token] = position
        if checked.faults:
            result.problems.extend(checked.faults)
        else:
            pending[position] = (sig, checked.item)
    if batch and pending:
        keyed: list[tuple[Hashable, Sequence[ProofItem]]] = [
            (i, [item]) for i, (_, item) in pending.items() if item is not None]
        for i in sorted(find_invalid_parallel(pk, keyed, workers=workers,  # type: ignore[type-var]
                                              stage="signature proofs")):
            assert isinstance(i, int)
            result.problems.append(Problem(i, "region-proof", _batch_fault(ctx, pending[i][0])))
            del pending[i]
    for position, target in invalidations:
        if target not in pending or target in result.invalidated:
            result.problems.append(Problem(position, "invalidation",
                                           f"target {target} is not a counted signature"))
            continue
        result.invalidated.add(target)
    result.counted = {i: sig.ciphertext for i, (sig, _) in sorted(pending.items())
                      if i not in result.invalidated}
    result.product = aggregate(pk, list(result.counted.values()))
    result.root = root_hash(leaves)
    return result


@dataclass(frozen=True)
class EncryptedRegionTally:
    """The product ``C`` of the ``count`` counted signatures among the first ``tree_size`` entries."""

    petition_id: str
    tree_size: int
    count: int
    c: int

    @property
    def context(self) -> tuple[str, ...]:
        return region_tally_context(self.petition_id, self.tree_size)

    def to_json(self) -> dict[str, Any]:
        return {"petition_id": self.petition_id, "tree_size": self.tree_size,
                "count": self.count, "ciphertext": int_to_hex(self.c)}

    @classmethod
    def from_json(cls, obj: object) -> EncryptedRegionTally:
        w = "region tally"
        return cls(require(obj, "petition_id", str, w), require(obj, "tree_size", int, w),
                   require(obj, "count", int, w),
                   hex_to_int(require(obj, "ciphertext", str, w), "ciphertext"))


#: Default ``K`` of the differential-decryption rule (docs/protocol.md §11.6).
MIN_TALLY_DIFFERENCE = 10


class DifferentialTally(CryptoError):
    """Decrypting this region tally would reveal the regions of fewer than K signers."""


def counted_set(entries: Sequence[object], tree_size: int) -> frozenset[int]:
    """The counted signatures of the first ``tree_size`` entries: indices of ``signature``
    entries not named by an ``invalidation`` entry before ``tree_size`` (unverified; the
    caller verifies the board)."""
    sigs: set[int] = set()
    for i, entry in enumerate(entries[:tree_size]):
        if not isinstance(entry, dict):
            continue
        if entry.get("kind") == "signature":
            sigs.add(i)
        elif entry.get("kind") == "invalidation" and type(entry.get("target_index")) is int:
            sigs.discard(entry["target_index"])
    return frozenset(sigs)


def check_differential(counted: frozenset[int], earlier: Sequence[frozenset[int]],
                       min_difference: int = MIN_TALLY_DIFFERENCE) -> None:
    """The differential-decryption rule (docs/protocol.md §11.6, rule D1).

    A region tally over the counted set ``S`` may be decrypted only if, for every counted
    set ``S'`` of a region tally of the same petition already decrypted (or with a partial
    decryption published), ``|S Δ S'| = 0`` or ``|S Δ S'| ≥ K``.  Invalidations count: an
    invalidated signature leaves the set.  Otherwise the difference of the two decrypted
    breakdowns would be the regions of fewer than ``K`` signers (with ``s`` then ``s + 1``:
    one signer's region).  Raises :class:`DifferentialTally`.
    """
    for other in earlier:
        diff = len(counted ^ other)
        if 0 < diff < min_difference:
            raise DifferentialTally(
                f"this tally differs from an already decrypted one by {diff} signature(s) "
                f"(< K = {min_difference}): decrypting it would reveal their regions")


def trustee_decrypt_regions(share: KeyShare, tally: EncryptedRegionTally, *,
                            fingerprint: bytes, counted: frozenset[int] | None = None,
                            earlier: Sequence[frozenset[int]] = (),
                            min_difference: int = MIN_TALLY_DIFFERENCE) -> PartialDecryption:
    """Trustee ``i``: ``c_i = C^(2Δ·s_i)`` with its equality proof (threshold T5, T6).

    With ``counted`` (the tally's counted set, from the verified board) and ``earlier``
    (the counted sets of the tallies already decrypted), the trustee first applies the
    differential-decryption rule (:func:`check_differential`) and refuses to help.
    """
    if counted is not None:
        if len(counted) != tally.count:
            raise DifferentialTally("the counted set does not match the tally's count")
        check_differential(counted, earlier, min_difference)
    return partial_decrypt(share, tally.c, fingerprint=fingerprint, context=tally.context)


@dataclass(frozen=True)
class RegionResult:
    """Decrypted by-region counts with the trustees used and the partials rejected."""

    petition_id: str
    tree_size: int
    count: int
    counts: dict[str, int]
    used: tuple[int, ...]
    rejected: tuple[tuple[int, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"petition_id": self.petition_id, "tree_size": self.tree_size,
                "count": self.count, "counts": dict(self.counts), "trustees_used": list(self.used)}


def combine_regions(tpk: ThresholdPublicKey, params: PetitionParameters,
                    tally: EncryptedRegionTally, partials: Sequence[PartialDecryption], *,
                    fingerprint: bytes) -> RegionResult:
    """Verify the partials, combine ``k`` of them (T7–T9), unpack the base-``B`` digits.

    Raises :class:`DecryptionError` if fewer than ``k`` partials verify or the digits do
    not add up to the published count.
    """
    if tally.petition_id != params.petition_id:
        raise DecryptionError("the tally is for another petition")
    combined = combine(tpk, tally.c, partials, fingerprint=fingerprint, context=tally.context)
    try:
        counts = params.unpack(combined.m)
    except InvalidEncoding as exc:
        raise DecryptionError(str(exc)) from exc
    if sum(counts.values()) != tally.count:
        raise DecryptionError("the region counts do not add up to the number of signatures")
    return RegionResult(params.petition_id, tally.tree_size, tally.count, counts,
                        combined.used, combined.rejected)


__all__ = [
    "ENTRY_KINDS", "INVALIDATION_REASONS", "EncryptedRegionTally", "PetitionBoardResult",
    "PetitionContext", "Problem", "RegionResult", "SignatureCheck", "aggregate",
    "DifferentialTally", "MIN_TALLY_DIFFERENCE", "check_differential", "check_signature_entry",
    "combine_regions", "counted_set",
    "region_tally_context", "remove", "trustee_decrypt_regions",
    "verify_petition_board",
]
