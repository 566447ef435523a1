"""Batch check of revealed openings ``(c, m, r)`` of Paillier ciphertexts (Benaloh audits).

An audited ballot reveals, for each option, the plaintext ``m`` and randomness ``r`` of its
ciphertext ``c = (1 + m·n) · rⁿ mod N`` (eq. P1).  Checking ``k`` openings one by one costs
``k`` full exponentiations.  With ``u = c · (1 − m·n) mod N`` (``(1 + m·n)⁻¹ = 1 − m·n``
mod ``N``, since ``n² ≡ 0``), every opening states ``u ≡ rⁿ``; with fresh random odd
64-bit multipliers ``δ`` chosen after the openings are fixed, the verifier checks the one
combined equation (small-exponent batch test, Bellare–Garay–Rabin, like §1.7 V1)::

    ∏ u^δ  ≡  ( ∏ r^δ )ⁿ      (mod N)

one full exponentiation plus two multi-exponentiations of short powers.  Odd ``δ`` keep an
error of order 2 (``u = −rⁿ``) visible.  If the combined test fails, bisection names the
groups (e.g. entries) that fail; the one-by-one check stays the authoritative one.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Hashable, Sequence

from crypto.batch import DELTA_BITS, multi_exp
from crypto.paillier import PublicKey, powmod

#: ``(c, m, r)``: a ciphertext and its revealed plaintext and randomness.
Opening = tuple[int, int, int]


def openings_hold(pk: PublicKey, openings: Sequence[Opening],
                  rand_bits: Callable[[int], int] = secrets.randbits) -> bool:
    """Whether every ``c = (1 + m·n)·rⁿ mod N`` (one combined equation)."""
    n, nn = pk.n, pk.nsquare
    u_terms: list[tuple[int, int]] = []
    r_terms: list[tuple[int, int]] = []
    for c, m, r in openings:
        if not 0 < c < nn or not 0 <= m < n or not 0 < r < n:
            return False
        delta = rand_bits(DELTA_BITS) | 1
        u_terms.append((c * (1 - m * n) % nn, delta))
        r_terms.append((r, delta))
    if not u_terms:
        return True
    # ∏ r^δ only matters modulo n: (R + k·n)ⁿ ≡ Rⁿ (mod n²)
    return multi_exp(u_terms, nn) == powmod(multi_exp(r_terms, n), n, nn)


def find_invalid_openings(pk: PublicKey, keyed: Sequence[tuple[Hashable, Sequence[Opening]]],
                          rand_bits: Callable[[int], int] = secrets.randbits) -> list[Hashable]:
    """Keys of the groups whose openings fail, by one batch test and bisection."""
    if not keyed:
        return []
    if openings_hold(pk, [o for _, group in keyed for o in group], rand_bits):
        return []
    if len(keyed) == 1:
        return [keyed[0][0]]
    middle = len(keyed) // 2
    return (find_invalid_openings(pk, keyed[:middle], rand_bits)
            + find_invalid_openings(pk, keyed[middle:], rand_bits))
