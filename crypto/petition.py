"""Petition signatures: an anonymous credential plus a Paillier-encrypted region.

**Packed region encoding** (docs/protocol.md §7.3): with ``R``
regions and base ``B = 2^b`` (``b = 32`` by default), region ``i`` is encoded as the
plaintext ``B^i`` and the signature carries ONE ciphertext ``c = Enc(B^i; r)`` with a
set-membership proof (§1.5) for ``S = (B^0, B^1, …, B^(R−1))``.  The homomorphic product
of all signatures encrypts ``Σ_i count_i · B^i``, so a single threshold decryption
yields every region's count (base-``B`` digits) while each count stays below ``B``.

Why packed rather than one ciphertext per region: a citizen's device does one
encryption and one ``R``-branch proof whose full-length exponentiations (``r^n``,
``ρ^n``, the simulated ``z_i^n``) do not depend on the region and are precomputed
while the page is read; the server verifies one proof per signature, and in batches.
Requires ``R·b < |n| − 1`` (e.g. up to 63 regions at 2048 bits with b = 32).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crypto.batch import ProofItem, combined_check
from crypto.election import Option, _check_id
from crypto.encoding import (
    bytes_to_hex,
    canonical_json,
    hex_to_bytes,
    hex_to_int,
    int_to_hex,
    require,
)
from crypto.errors import InvalidBallot, InvalidCiphertext, InvalidEncoding, InvalidProof
from crypto.paillier import PublicKey, RandBelow, encrypt, validate_ciphertext
from crypto.proofs import (
    Context,
    MembershipProof,
    check_membership_challenge,
    prove_membership,
    verify_membership,
)
from crypto.transcript import tagged_hash

DOMAIN_REGION = "saylau/v1/petition-region"
FINGERPRINT_DOMAIN = "saylau/v1/petition-fingerprint"
DEFAULT_BASE_BITS = 32
MAX_REGIONS = 64


@dataclass(frozen=True)
class PetitionParameters:
    """What a signature encodes: the petition id (credential scope) and its regions."""

    petition_id: str
    title: str
    regions: tuple[Option, ...]
    base_bits: int = DEFAULT_BASE_BITS

    def __post_init__(self) -> None:
        _check_id(self.petition_id, "petition_id")
        if not 1 <= len(self.regions) <= MAX_REGIONS:
            raise InvalidEncoding(f"a petition needs 1..{MAX_REGIONS} regions")
        ids = [r.id for r in self.regions]
        if len(set(ids)) != len(ids):
            raise InvalidEncoding("region ids must be unique")
        if not 8 <= self.base_bits <= 64:
            raise InvalidEncoding("base_bits must be 8..64")

    @property
    def region_ids(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.regions)

    @property
    def allowed(self) -> tuple[int, ...]:
        """``S = (B^0, …, B^(R−1))`` with ``B = 2^base_bits``."""
        return tuple(1 << (self.base_bits * i) for i in range(len(self.regions)))

    def encode(self, region_id: str) -> int:
        try:
            return 1 << (self.base_bits * self.region_ids.index(region_id))
        except ValueError as exc:
            raise InvalidBallot(f"unknown region {region_id!r}") from exc

    def check_key(self, pk: PublicKey) -> None:
        if len(self.regions) * self.base_bits >= pk.bits - 1:
            raise InvalidEncoding("too many regions for this key size")

    def unpack(self, m: int) -> dict[str, int]:
        """Base-``B`` digits of a decrypted sum: ``{region_id: count}``."""
        mask = (1 << self.base_bits) - 1
        counts = {rid: (m >> (self.base_bits * i)) & mask for i, rid in enumerate(self.region_ids)}
        if m >> (self.base_bits * len(self.regions)):
            raise InvalidEncoding("decrypted sum overflows the packed encoding")
        return counts

    def to_json(self) -> dict[str, Any]:
        return {"petition_id": self.petition_id, "title": self.title,
                "regions": [r.to_json() for r in self.regions], "base_bits": self.base_bits}

    @classmethod
    def from_json(cls, obj: object) -> PetitionParameters:
        regions = require(obj, "regions", list, "petition")
        return cls(require(obj, "petition_id", str, "petition"), require(obj, "title", str, "petition"),
                   tuple(Option.from_json(r, f"petition.regions[{i}]") for i, r in enumerate(regions)),
                   require(obj, "base_bits", int, "petition"))


def petition_fingerprint(params: PetitionParameters, election_key_json: dict[str, Any],
                         issuer_key_json: dict[str, Any], board_public_key: bytes) -> bytes:
    """Like the election fingerprint (F1), over the petition parameters."""
    if len(board_public_key) != 32:
        raise InvalidEncoding("board public key must be 32 bytes (Ed25519)")
    return tagged_hash(FINGERPRINT_DOMAIN,
                       ("petition", canonical_json(params.to_json())),
                       ("election_key", canonical_json(election_key_json)),
                       ("issuer_key", canonical_json(issuer_key_json)),
                       ("board_key", board_public_key))


def region_context(petition_id: str, token_id: bytes) -> Context:
    return (("petition_id", petition_id), ("token_id", token_id.hex()))


@dataclass(frozen=True)
class EncryptedSignature:
    petition_id: str
    token_id: bytes
    ciphertext: int
    proof: MembershipProof

    def to_json(self) -> dict[str, Any]:
        return {"petition_id": self.petition_id, "token_id": bytes_to_hex(self.token_id),
                "region": {"ciphertext": int_to_hex(self.ciphertext), "proof": self.proof.to_json()}}

    @classmethod
    def from_json(cls, obj: object) -> EncryptedSignature:
        region = require(obj, "region", dict, "signature")
        return cls(require(obj, "petition_id", str, "signature"),
                   hex_to_bytes(require(obj, "token_id", str, "signature"), "signature.token_id", 32),
                   hex_to_int(require(region, "ciphertext", str, "signature.region"), "ciphertext"),
                   MembershipProof.from_json(require(region, "proof", dict, "signature.region")))


def encrypt_signature(pk: PublicKey, params: PetitionParameters, fingerprint: bytes,
                      token_id: bytes, region_id: str,
                      rng: RandBelow | None = None) -> tuple[EncryptedSignature, int]:
    """Encrypt ``B^i`` for the citizen's region and prove it (returns the randomness too)."""
    params.check_key(pk)
    if len(token_id) != 32:
        raise InvalidEncoding("token id must be 32 bytes")
    m = params.encode(region_id)
    c, r = encrypt(pk, m, rng=rng)
    proof = prove_membership(pk, c, r, m, params.allowed, domain=DOMAIN_REGION,
                             fingerprint=fingerprint,
                             context=region_context(params.petition_id, token_id), rng=rng)
    return EncryptedSignature(params.petition_id, bytes(token_id), c, proof), r


def _check_shape(pk: PublicKey, params: PetitionParameters, sig: EncryptedSignature,
                 token_id: bytes) -> None:
    params.check_key(pk)
    if sig.petition_id != params.petition_id:
        raise InvalidBallot("signature is for another petition")
    if sig.token_id != token_id:
        raise InvalidBallot("signature token id does not match the credential")
    try:
        validate_ciphertext(pk, sig.ciphertext)
    except InvalidCiphertext as exc:
        raise InvalidCiphertext(f"region ciphertext: {exc}") from exc


def verify_signature(pk: PublicKey, params: PetitionParameters, fingerprint: bytes,
                     sig: EncryptedSignature, token_id: bytes) -> None:
    """Verify a petition signature's region proof; raise a typed error."""
    _check_shape(pk, params, sig, token_id)
    try:
        verify_membership(pk, sig.ciphertext, params.allowed, sig.proof, domain=DOMAIN_REGION,
                          fingerprint=fingerprint,
                          context=region_context(params.petition_id, token_id))
    except InvalidProof as exc:
        raise InvalidProof(f"region proof: {exc}") from exc


def signature_proof_item(pk: PublicKey, params: PetitionParameters, fingerprint: bytes,
                         sig: EncryptedSignature, token_id: bytes, *,
                         units: bool = True) -> ProofItem:
    """Shape and challenge checks; the exponentiations are left for batch checking.

    ``units=False`` leaves the proof's unit tests to :func:`crypto.batch.combined_check`
    too, as :func:`crypto.ballot.ballot_proof_items` does (a ``2R + 1``-value product per
    signature saved); the region ciphertext is tested either way."""
    _check_shape(pk, params, sig, token_id)
    try:
        check_membership_challenge(pk, sig.ciphertext, params.allowed, sig.proof,
                                   domain=DOMAIN_REGION, fingerprint=fingerprint,
                                   context=region_context(params.petition_id, token_id),
                                   units=units)
    except InvalidProof as exc:
        raise InvalidProof(f"region proof: {exc}") from exc
    return ProofItem(sig.ciphertext, params.allowed, sig.proof)


def check_signature(pk: PublicKey, params: PetitionParameters, fingerprint: bytes,
                    sig: EncryptedSignature, token_id: bytes) -> None:
    """What the server runs on signing: :func:`verify_signature` with batched powers (V1).

    The R branch equations cost one full exponentiation plus short ones instead of R
    full ones; on failure the proof is re-verified branch by branch to name the error.
    """
    item = signature_proof_item(pk, params, fingerprint, sig, token_id)
    try:
        combined_check(pk, [item])
    except InvalidProof:
        verify_signature(pk, params, fingerprint, sig, token_id)
        raise
