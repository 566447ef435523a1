"""Batch verification of many membership proofs (docs/protocol.md §7).

Every branch of every proof states ``z^n ≡ a · c^e · (1+n)^(−m·e)  (mod N)``.  After the
Fiat–Shamir challenges of all proofs have been checked one by one (cheap hashing), the
verifier picks fresh random 128-bit multipliers ``δ`` — after the proofs are fixed —
and checks the single combined equation (small-exponent batch test, Bellare–Garay–Rabin)::

    ( ∏ z^δ )^n  ≡  ∏ a^δ · ∏_c c^(Σ e·δ) · (1 + n)^(−Σ m·e·δ)      (mod N)

which costs one full exponentiation plus short ones, instead of one full
exponentiation per branch.  ``(1+n)^x mod N = 1 + (x mod n)·n``.  If the combined test
fails, the batch is bisected to name exactly the bad items; the per-item check is
always the authoritative one (:func:`crypto.proofs.verify_membership`).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

from crypto.errors import CryptoError, InvalidProof
from crypto.paillier import PublicKey, powmod
from crypto.proofs import MembershipProof, check_membership_shape

DELTA_BITS = 128


@dataclass(frozen=True)
class ProofItem:
    """One membership proof waiting for its exponentiations (challenge already checked)."""

    c: int
    allowed: tuple[int, ...]
    proof: MembershipProof


def combined_check(pk: PublicKey, items: Sequence[ProofItem],
                   rand_bits: Callable[[int], int] = secrets.randbits) -> None:
    """Check all items' verification equations at once; raise InvalidProof if any fails."""
    n, nn = pk.n, pk.nsquare
    lhs_base = 1
    rhs = 1
    plain_shift = 0
    for item in items:
        check_membership_shape(pk, item.c, item.allowed, item.proof)
        exponent_c = 0
        for m_i, a_i, e_i, z_i in zip(item.allowed, item.proof.a, item.proof.e, item.proof.z,
                                      strict=True):
            delta = rand_bits(DELTA_BITS) | 1
            lhs_base = lhs_base * powmod(z_i, delta, nn) % nn
            rhs = rhs * powmod(a_i, delta, nn) % nn
            exponent_c += e_i * delta
            plain_shift += m_i * e_i * delta
        rhs = rhs * powmod(item.c, exponent_c, nn) % nn
    rhs = rhs * (1 + ((-plain_shift) % n) * n) % nn
    if powmod(lhs_base, n, nn) != rhs:
        raise InvalidProof("batch verification equation fails")


def find_invalid(pk: PublicKey, keyed: Sequence[tuple[Hashable, Sequence[ProofItem]]],
                 rand_bits: Callable[[int], int] = secrets.randbits) -> list[Hashable]:
    """Keys of the groups (e.g. ballots) whose proofs fail, by batch test and bisection."""
    if not keyed:
        return []
    flat = [item for _, group in keyed for item in group]
    try:
        combined_check(pk, flat, rand_bits)
        return []
    except CryptoError:
        if len(keyed) == 1:
            return [keyed[0][0]]
    middle = len(keyed) // 2
    return find_invalid(pk, keyed[:middle], rand_bits) + find_invalid(pk, keyed[middle:], rand_bits)
