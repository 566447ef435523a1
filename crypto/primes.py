"""Safe primes ``p = 2p′+1`` for threshold Paillier keys (docs/protocol.md T1): a sieve
over windows of candidates, then Fermat and Miller–Rabin tests (``gmpy2.is_prime``)."""



from __future__ import annotations

import math
import secrets
from collections.abc import Callable

import gmpy2

from crypto.paillier import (
    powmod,
)

#: ``progress(note)``: a line of news while searching.
Progress = Callable[[str], None]

_SIEVE_LIMIT = 1 << 15
_SIEVE_WINDOW = 4096
_PROGRESS_EVERY = 100


def _small_primes(limit: int) -> list[int]:
    flags = bytearray([1]) * limit
    flags[0:2] = b"\x00\x00"
    for i in range(2, math.isqrt(limit - 1) + 1):
        if flags[i]:
            flags[i * i :: i] = bytes(len(range(i * i, limit, i)))
    return [i for i in range(5, limit) if flags[i]]


_SMALL_PRIMES = _small_primes(_SIEVE_LIMIT)
_INV6 = [pow(6, -1, r) for r in _SMALL_PRIMES]


def generate_safe_prime(
    bits: int, *, progress: Progress | None = None, label: str = "safe prime"
) -> int:
    """A random safe prime ``p = 2p′+1`` of exactly ``bits`` bits, top two bits set (T1).

    Candidates ``p′ ≡ 5 (mod 6)`` (so neither ``p′`` nor ``p`` is divisible by 2 or 3)
    are taken in windows of 4096 from a random start; a sieve with the primes below
    2^15 removes every ``p′`` with ``p′ ≡ 0`` or ``p ≡ 0`` modulo one of them, then a
    base-2 Fermat test on both and finally ``gmpy2.is_prime(·, 40)`` on both.
    """
    if bits < 32:
        raise ValueError("safe primes below 32 bits are not supported")
    qbits = bits - 1
    primes = [(r, inv) for r, inv in zip(_SMALL_PRIMES, _INV6, strict=True) if r < 1 << (qbits - 3)]
    tested = 0
    while True:
        x0 = secrets.randbits(qbits) | (3 << (qbits - 2))
        x0 += (5 - x0 % 6) % 6
        sieve = bytearray(_SIEVE_WINDOW)
        for r, inv6 in primes:
            a = x0 % r
            for target in (0, (r - 1) // 2):  # r | p′  or  r | 2p′+1
                j = (target - a) * inv6 % r
                if j < _SIEVE_WINDOW:
                    sieve[j::r] = b"\x01" * len(range(j, _SIEVE_WINDOW, r))
        for j in range(_SIEVE_WINDOW):
            if sieve[j]:
                continue
            x = x0 + 6 * j
            if x.bit_length() != qbits:
                break
            tested += 1
            if progress is not None and tested % _PROGRESS_EVERY == 0:
                progress(f"{label}: {tested} candidates tested")
            p = 2 * x + 1
            if powmod(2, x - 1, x) != 1 or powmod(2, p - 1, p) != 1:
                continue
            if gmpy2.is_prime(x, 40) and gmpy2.is_prime(p, 40):
                if progress is not None:
                    progress(f"{label}: found after {tested} candidates")
                return p


__all__ = ["Progress", "generate_safe_prime"]
