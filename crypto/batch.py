"""Batch verification of many membership proofs (docs/protocol.md §1.7).

Every branch of every proof states ``z^n ≡ a · c^e · (1+n)^(−m·e)  (mod N)``.  After the
Fiat–Shamir challenges of all proofs have been checked one by one (cheap hashing), the
verifier picks fresh random 128-bit multipliers ``δ`` — after the proofs are fixed —
and checks the single combined equation (small-exponent batch test, Bellare–Garay–Rabin)::

    ( ∏ z^δ )^n  ≡  ∏ a^δ · ∏_c c^(Σ e·δ) · (1 + n)^(−Σ m·e·δ)      (mod N)

with the sign free, exactly as in eq. Z5 (``z^n ≡ ±a·u^e``): the multipliers are odd, so
a branch whose equation holds up to the sign contributes a factor ±1 either way; both checks
accept the same proofs.  This costs one full exponentiation plus short ones, instead of one full
exponentiation per branch.  ``(1+n)^x mod N = 1 + (x mod n)·n``.  The three products of
short powers are multi-exponentiations (:func:`multi_exp`, Pippenger's bucket method),
which share the squarings between all bases of a batch.  The membership of every ``c``,
``a`` and ``z`` in the unit group is checked with ONE gcd, of their product mod ``n``
(coprime to ``n = pq`` iff every factor is).  If the combined test
fails, the batch is bisected to name exactly the bad items; the per-item check is
always the authoritative one (:func:`crypto.proofs.verify_membership`).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import gmpy2

from crypto.errors import CryptoError, InvalidProof
from crypto.paillier import PublicKey, powmod
from crypto.proofs import (
    MembershipProof,
    check_membership_ranges,
    check_membership_shape,
    equal_up_to_sign,
)

DELTA_BITS = 128


@dataclass(frozen=True)
class ProofItem:
    """One membership proof waiting for its exponentiations (challenge already checked)."""

    c: int
    allowed: tuple[int, ...]
    proof: MembershipProof


def multi_exp(pairs: Sequence[tuple[int, int]], modulus: int) -> int:
    """``∏ base^exponent mod modulus`` for non-negative exponents (Pippenger buckets).

    For ``k`` bases and ``b``-bit exponents with window ``w`` this costs about
    ``(b/w)·(k + 2^(w+1)) + b`` multiplications instead of ``k·b·(1 + 1/w')``.
    """
    if not pairs:
        return 1 % modulus
    m = gmpy2.mpz(modulus)
    bits = max(e.bit_length() for _, e in pairs)
    if bits == 0:
        return 1 % modulus
    if len(pairs) < 4:
        out = gmpy2.mpz(1)
        for base, e in pairs:
            out = out * gmpy2.powmod(base, e, m) % m
        return int(out)
    w = max(2, min(8, len(pairs).bit_length() - 3))
    mask = (1 << w) - 1
    bases = [gmpy2.mpz(b) % m for b, _ in pairs]
    exps = [e for _, e in pairs]
    result = gmpy2.mpz(1)
    for shift in range((bits - 1) // w * w, -1, -w):
        for _ in range(w):
            result = result * result % m
        buckets: list[gmpy2.mpz | None] = [None] * (mask + 1)
        for base, e in zip(bases, exps, strict=True):
            digit = (e >> shift) & mask
            if digit:
                current = buckets[digit]
                buckets[digit] = base if current is None else current * base % m
        running: gmpy2.mpz | None = None
        window: gmpy2.mpz | None = None
        for digit in range(mask, 0, -1):
            bucket = buckets[digit]
            if bucket is not None:
                running = bucket if running is None else running * bucket % m
            if running is not None:
                window = running if window is None else window * running % m
        if window is not None:
            result = result * window % m
    return int(result)


def combined_check(pk: PublicKey, items: Sequence[ProofItem],
                   rand_bits: Callable[[int], int] = secrets.randbits) -> None:
    """Check all items' verification equations at once (V1); raise InvalidProof if any fails."""
    n, nn = pk.n, pk.nsquare
    z_terms: list[tuple[int, int]] = []
    a_terms: list[tuple[int, int]] = []
    c_terms: list[tuple[int, int]] = []
    plain_shift = 0
    units = gmpy2.mpz(1)  # ∏ (c, a_i, z_i) mod n: coprime to n iff every one is
    nz = gmpy2.mpz(n)
    for item in items:
        check_membership_ranges(pk, item.c, item.allowed, item.proof)
        units = units * item.c % nz
        for a_i, z_i in zip(item.proof.a, item.proof.z, strict=True):
            units = units * a_i % nz * z_i % nz
        exponent_c = 0
        for m_i, a_i, e_i, z_i in zip(item.allowed, item.proof.a, item.proof.e, item.proof.z,
                                      strict=True):
            delta = rand_bits(DELTA_BITS) | 1
            z_terms.append((z_i, delta))
            a_terms.append((a_i, delta))
            exponent_c += e_i * delta
            plain_shift += m_i * e_i * delta
        c_terms.append((item.c, exponent_c))
    if gmpy2.gcd(units, nz) != 1:  # name the element, as the one-by-one checks do
        for item in items:
            check_membership_shape(pk, item.c, item.allowed, item.proof)
        raise InvalidProof("a ciphertext, commitment or response is not a unit mod n")
    lhs = powmod(multi_exp(z_terms, nn), n, nn)
    rhs = multi_exp(a_terms, nn) * multi_exp(c_terms, nn) % nn
    rhs = rhs * (1 + ((-plain_shift) % n) * n) % nn
    if not equal_up_to_sign(lhs, rhs, nn):
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
