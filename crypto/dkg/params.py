"""Public parameters of a distributed key generation run and the bounds of docs §4.7.2.

With ``b`` the modulus length, ``h = b/2``, ``κ`` the statistical parameter
(``STAT_BITS``), ``ℓ`` trustees and threshold ``k = t+1``:

* D1  ``p_i, q_i``: ``p_1 = 3·2^(h−2) + r_1``, ``p_i = r_i`` (i > 1), with
  ``0 ≤ r_i < 2^(h−2)/ℓ``, ``r_1 ≡ 3``, ``r_i ≡ 0 (mod 4)``; so ``3·2^(h−2) ≤ p < 2^h``.
* D2  sieve field ``F_P1``, ``P1`` = the least prime ``> 2^(b+1)`` (``> N``).
* D8  ``β_i ∈ [0, 2^(b+κ))``, ``R_i ∈ [0, 2^(b+2κ+6))``; ``W = βφ + N·R < 2^(2b+2κ+13)``;
  field ``F_P2``, ``P2`` = the least prime ``> 2^(2b+2κ+16)``.
* D10 re-sharing: ``|d_i| < 2^D`` with ``D = 2b+2κ+13``; coefficients
  ``a_ik ∈ [0, 2^A)``, ``A = D + 1 + bitlen(Δ) + t·⌈log2 ℓ⌉ + κ``;
  ``0 ≤ s_j < 2^S`` with ``S = A + (t+1)·⌈log2 ℓ⌉ + 2`` (the key's ``share_bits``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import gmpy2

from crypto.dkg.errors import ParameterMismatch
from crypto.paillier import MIN_PRODUCTION_BITS

#: Statistical hiding parameter κ (bits) of every integer mask.
STAT_BITS = 128
#: Rounds of the Boneh–Franklin biprimality test on the chosen modulus (error ≤ 2^-64).
BPT_ROUNDS = 64
#: Public trial division of each opened candidate N by every odd prime below this bound.
TRIAL_DIVISION_BOUND = 1 << 15
#: The smallest test modulus accepted (tests only; production needs MIN_PRODUCTION_BITS).
MIN_DKG_TEST_BITS = 512
#: Largest encoded relay message aimed for (the service accepts 2 MiB bodies).
MESSAGE_BUDGET = 1_400_000


@lru_cache(maxsize=8)
def next_prime_above(power: int) -> int:
    """The least prime ``> 2^power`` (public, deterministic: everyone recomputes it)."""
    return int(gmpy2.next_prime(1 << power))


@lru_cache(maxsize=4)
def primorial(bound: int) -> int:
    """Product of the odd primes below ``bound`` (D5 trial division)."""
    acc, p = 1, 3
    while p < bound:
        acc *= p
        p = int(gmpy2.next_prime(p))
    return acc


@lru_cache(maxsize=4)
def primorial_chunks(bound: int, chunk_bits: int = 512) -> tuple[int, ...]:
    """The odd primes below ``bound`` multiplied in consecutive groups of about
    ``chunk_bits`` bits (same primes as :func:`primorial`; for early rejection)."""
    chunks, acc, p = [], 1, 3
    while p < bound:
        acc *= p
        if acc.bit_length() >= chunk_bits:
            chunks.append(acc)
            acc = 1
        p = int(gmpy2.next_prime(p))
    if acc > 1:
        chunks.append(acc)
    return tuple(chunks)


def _clog2(x: int) -> int:
    return max(1, (x - 1).bit_length())


@dataclass(frozen=True)
class DkgParams:
    """What every trustee must agree on before the run (checked in the hello round)."""

    bits: int
    trustees: int
    threshold: int
    batch: int = 0  # candidates per sieve round; 0 = chosen from ``bits`` and ``trustees``
    allow_test_key: bool = False

    def __post_init__(self) -> None:
        floor = MIN_DKG_TEST_BITS if self.allow_test_key else MIN_PRODUCTION_BITS
        if not isinstance(self.bits, int) or self.bits < floor or self.bits % 8:
            raise ParameterMismatch(f"modulus length {self.bits}: need a multiple of 8, >= {floor}")
        if not isinstance(self.trustees, int) or not 3 <= self.trustees <= 16:
            raise ParameterMismatch("distributed key generation needs 3..16 trustees")
        t = self.threshold - 1
        if not 2 <= self.threshold or self.trustees < 2 * t + 1:
            raise ParameterMismatch(
                f"threshold {self.threshold} of {self.trustees}: need 2 <= k and n >= 2(k-1)+1")
        if not isinstance(self.batch, int) or self.batch < 0:
            raise ParameterMismatch("batch must be >= 0")
        if self.batch == 0:
            object.__setattr__(self, "batch", self._auto_batch())

    def _auto_batch(self) -> int:
        # the largest private message carries 2·(ℓ−1−t) field elements per candidate
        per = 2 * max(1, self.trustees - 1 - self.t) * (self.sieve_prime_bytes * 4 // 3 + 1)
        per = max(per, self.sieve_prime_bytes * 4 // 3 + 1)
        return max(64, min(4096, MESSAGE_BUDGET // per))

    @property
    def t(self) -> int:
        """Polynomial degree ``t = k − 1``."""
        return self.threshold - 1

    @property
    def half(self) -> int:
        return self.bits // 2

    @property
    def delta(self) -> int:
        return math.factorial(self.trustees)

    @property
    def sieve_prime(self) -> int:
        """``P1`` (D2)."""
        return next_prime_above(self.bits + 1)

    @property
    def sieve_prime_bytes(self) -> int:
        return (self.sieve_prime.bit_length() + 7) // 8

    @property
    def theta_prime(self) -> int:
        """``P2`` (D8)."""
        return next_prime_above(2 * self.bits + 2 * STAT_BITS + 16)

    @property
    def share_range(self) -> int:
        """``2^(h−2)/ℓ`` rounded down to a multiple of 4 (D1)."""
        return ((1 << (self.half - 2)) // self.trustees) & ~3

    @property
    def beta_bits(self) -> int:
        return self.bits + STAT_BITS

    @property
    def mask_bits(self) -> int:
        return self.bits + 2 * STAT_BITS + 6

    @property
    def secret_bits(self) -> int:
        """``D`` (D10)."""
        return 2 * self.bits + 2 * STAT_BITS + 13

    @property
    def coefficient_bits(self) -> int:
        """``A`` (D10)."""
        return (self.secret_bits + 1 + self.delta.bit_length()
                + self.t * _clog2(self.trustees) + STAT_BITS)

    @property
    def share_bits(self) -> int:
        """``S`` (D10): every key share ``s_j`` is in ``[0, 2^S)``."""
        return self.coefficient_bits + (self.t + 1) * _clog2(self.trustees) + 2

    def to_json(self) -> dict[str, Any]:
        return {
            "bits": self.bits,
            "trustees": self.trustees,
            "threshold": self.threshold,
            "batch": self.batch,
            "stat_bits": STAT_BITS,
            "bpt_rounds": BPT_ROUNDS,
            "trial_division_bound": TRIAL_DIVISION_BOUND,
        }
