"""Batch verification of many membership proofs (docs/protocol.md §1.7).

Every branch of every proof states ``z^n ≡ a · c^e · (1+n)^(−m·e)  (mod N)``.  After the
Fiat–Shamir challenges of all proofs have been checked one by one (cheap hashing), the
verifier picks fresh random odd 64-bit multipliers ``δ`` — after the proofs are fixed —
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

#: Length of the multipliers δ: a set holding a false equation passes one combined check
#: with probability ≤ 2⁻⁶³, over δ drawn afresh per check (docs/protocol.md §1.7 says why
#: 64 and not the key generation's statistical 128).
DELTA_BITS = 64


@dataclass(frozen=True)
class ProofItem:
    """One membership proof waiting for its exponentiations (challenge already checked).

    ``factors``, when given, are ciphertexts whose product mod ``N`` is ``c`` (a selection
    count proof is about the product of the option ciphertexts): the batch check then raises
    the factors, which already appear in the batch, instead of ``c`` — the same equation with
    one base fewer (``c^E = ∏ f^E``).
    """

    c: int
    allowed: tuple[int, ...]
    proof: MembershipProof
    factors: tuple[int, ...] = ()


def _window(count: int, bits: int) -> int:
    """The bucket width ``w`` minimising ``⌈bits/w⌉·(count + 2^(w+1))`` multiplications."""
    return min(range(1, 17), key=lambda w: (-(-bits // w)) * (count + (2 << w)))


def multi_exp(pairs: Sequence[tuple[int, int]], modulus: int) -> int:
    """``∏ base^exponent mod modulus`` for non-negative exponents (Pippenger buckets).

    For ``k`` bases and ``b``-bit exponents with window ``w`` this costs about
    ``(b/w)·(k + 2^(w+1)) + b`` multiplications instead of ``k·b·(1 + 1/w')``; ``w`` is
    chosen by that count.  Bases whose exponents are shorter than the longest only take part
    in the windows their exponent reaches, so short and long exponents share one run.
    """
    if not pairs:
        return 1 % modulus
    m = gmpy2.mpz(modulus)
    ordered = sorted(((e.bit_length(), e, b) for b, e in pairs if e),
                     key=lambda t: t[0], reverse=True)
    if not ordered:
        return 1 % modulus
    bits = ordered[0][0]
    if len(ordered) < 4:
        out = gmpy2.mpz(1)
        for _, e, base in ordered:
            out = out * gmpy2.powmod(base, e, m) % m
        return int(out)
    # the window from the average exponent length: the bucket work is Σ ⌈bits_i/w⌉ additions
    average = -(-sum(t[0] for t in ordered) // len(ordered))
    w = _window(len(ordered) * average // bits or 1, bits)
    mask = (1 << w) - 1
    lengths = [t[0] for t in ordered]
    exps = [t[1] for t in ordered]
    bases = [gmpy2.mpz(t[2]) % m for t in ordered]
    result = gmpy2.mpz(1)
    active = 0  # the bases whose exponents reach the current window (the longest first)
    for shift in range((bits - 1) // w * w, -1, -w):
        for _ in range(w):
            result = result * result % m
        while active < len(lengths) and lengths[active] > shift:
            active += 1
        buckets: list[gmpy2.mpz | None] = [None] * (mask + 1)
        for i in range(active):
            digit = (exps[i] >> shift) & mask
            if digit:
                current = buckets[digit]
                buckets[digit] = bases[i] if current is None else current * bases[i] % m
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
    rhs_terms: list[tuple[int, int]] = []  # a^δ and c^(Σ e·δ): one multi-exponentiation
    c_exponents: dict[int, int] = {}
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
            rhs_terms.append((a_i, delta))
            exponent_c += e_i * delta
            plain_shift += m_i * e_i * delta
        if item.factors:
            product = gmpy2.mpz(1)
            for f in item.factors:
                product = product * f % nn
            if product != item.c:
                raise InvalidProof("the ciphertext is not the product of its factors")
            for f in item.factors:
                c_exponents[f] = c_exponents.get(f, 0) + exponent_c
        else:
            c_exponents[item.c] = c_exponents.get(item.c, 0) + exponent_c
    if gmpy2.gcd(units, nz) != 1:  # name the element, as the one-by-one checks do
        for item in items:
            check_membership_shape(pk, item.c, item.allowed, item.proof)
        raise InvalidProof("a ciphertext, commitment or response is not a unit mod n")  # pragma: no cover
    rhs_terms.extend(c_exponents.items())
    # (Z + k·n)ⁿ ≡ Zⁿ (mod n²) (binomial theorem), so ∏ z^δ is only needed modulo n: that
    # multi-exponentiation runs on numbers half as long (docs/protocol.md §1.7)
    lhs = powmod(multi_exp(z_terms, n), n, nn)
    rhs = multi_exp(rhs_terms, nn) * (1 + ((-plain_shift) % n) * n) % nn
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
