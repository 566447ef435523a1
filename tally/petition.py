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

ENTRY_KINDS = ("signature", "invalidation")
INVALIDATION_REASONS = ("fraud_suspected", "duplicate_person", "coerced", "other")



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


def _parse_signature(ctx: PetitionContext, position: int, entry: dict[str, Any],
                     problems: list[Problem]) -> tuple[bytes, EncryptedSignature] | None:
    def bad(check: str, message: str) -> None:
        problems.append(Problem(position, check, message))

    try:
        credential = Credential.from_json(entry.get("credential"))
    except (CryptoError, TypeError, ValueError) as exc:
        bad("entry-format", f"credential: {exc}")
        return None
    try:
        verify_credential(ctx.issuer_key, credential, ctx.params.petition_id)
    except CryptoError as exc:
        bad("credential", str(exc))
        return None
    sig_obj = entry.get("signature")
    try:
        ed = hex_to_bytes(entry.get("ed25519_signature"), "ed25519_signature", 64)
        verify_payload_signature(credential.ballot_public_key, canonical_json(sig_obj), ed)
    except CryptoError as exc:
        bad("signature", str(exc))
        return None
    try:
        sig = EncryptedSignature.from_json(sig_obj)
        if sig.to_json() != sig_obj:
            raise InvalidEncoding("signature is not in canonical form")
    except (CryptoError, TypeError, ValueError) as exc:
        bad("entry-format", f"signature: {exc}")
        return None
    return credential.token_id, sig


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
        if not isinstance(entry, dict) or entry.get("index") != position \
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
        parsed = _parse_signature(ctx, position, entry, result.problems)
        if parsed is None:
            continue
        token, sig = parsed
        if token in tokens:
            result.problems.append(Problem(position, "token-reuse",
                                           f"token already used by entry {tokens[token]}"))
            continue
        tokens[token] = position
        try:
            if batch:
                pending[position] = (sig, signature_proof_item(pk, params, ctx.fingerprint, sig, token))
            else:
                verify_signature(pk, params, ctx.fingerprint, sig, token)
                pending[position] = (sig, None)
        except CryptoError as exc:
            result.problems.append(Problem(position, "region-proof", str(exc)))
    if batch and pending:
        keyed: list[tuple[Hashable, Sequence[ProofItem]]] = [
            (i, [item]) for i, (_, item) in pending.items() if item is not None]
        for i in sorted(find_invalid_parallel(pk, keyed, workers=workers,  # type: ignore[type-var]
                                              stage="signature proofs")):
            assert isinstance(i, int)
            result.problems.append(Problem(i, "region-proof", "proof fails"))
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


def trustee_decrypt_regions(share: KeyShare, tally: EncryptedRegionTally, *,
                            fingerprint: bytes) -> PartialDecryption:
    """Trustee ``i``: ``c_i = C^(2Δ·s_i)`` with its equality proof (threshold T5, T6)."""
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
    "PetitionContext", "Problem", "RegionResult", "aggregate", "combine_regions",
    "region_tally_context", "remove", "trustee_decrypt_regions",
    "verify_petition_board",
]
