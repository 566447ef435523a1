"""k-of-ℓ threshold Paillier (Shoup 2000 / Damgård–Jurik 2001, s = 1, trusted dealer).

The trusted dealer and the combination of partial decryptions; the public face of the
scheme (it re-exports the key types of :mod:`crypto.threshold_keys` and the proofs of
:mod:`crypto.threshold_proofs`; safe primes are in :mod:`crypto.primes`).

Equations (docs/protocol.md, "Threshold decryption"; eq. numbers T1..T9):

* T1  safe primes ``p = 2p′+1``, ``q = 2q′+1``; ``n = pq``, ``N = n²``, ``m = p′q′``.
* T2  ``d ≡ 0 (mod m)``, ``d ≡ 1 (mod n)``, i.e. ``d = m·(m⁻¹ mod n)``.
* T3  ``f(X) = d + Σ_{j=1}^{k−1} a_j X^j`` over ``Z_{n·m}``; share ``s_i = f(i)``.
* T4  ``Δ = ℓ!``; ``v = x² mod N``; verification key ``v_i = v^(Δ·s_i) mod N``.
* T5  partial decryption ``c_i = c^(2Δ·s_i) mod N``.
* T6  proof of ``log_{c⁴}(c_i²) = log_v(v_i)``: ``a = (c⁴)^w``, ``b = v^w``,
  ``e = H(...) mod 2^256``, ``z = w + e·Δ·s_i`` over the integers.
* T7  verify ``(c⁴)^z = a·(c_i²)^e`` and ``v^z = b·v_i^e (mod N)``.
* T8  ``λ_i = Δ·∏_{j∈S∖{i}} j/(j−i)`` (an integer).
* T9  ``c′ = ∏ c_i^(2λ_i) = (1+n)^(4Δ²·M) mod N``, ``M = L(c′)·(4Δ²)⁻¹ mod n``.

The public key never contains ``p, q, p′, q′, m`` or ``d``; the dealer's secrets
live only in local variables of :func:`generate_threshold_key`.
"""


from __future__ import annotations

import math
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import gmpy2

from crypto.errors import (
    CryptoError,
    DecryptionError,
    InvalidCiphertext,
    InvalidKey,
    InvalidShare,
)
from crypto.paillier import (
    MIN_PRODUCTION_BITS,
    MIN_TEST_BITS,
    PublicKey,
    encrypt,
    invert,
    powmod,
    validate_ciphertext,
)
from crypto.primes import Progress, generate_safe_prime
from crypto.threshold_keys import (
    HIDING_BITS,
    MAX_TRUSTEES,
    PARTIAL_DECRYPTION_DOMAIN,
    PUBLIC_KEY_DOMAIN,
    KeyShare,
    ThresholdPublicKey,
    check_share,
)
from crypto.threshold_proofs import (
    EqualityProof,
    PartialDecryption,
    partial_decrypt,
    partial_decrypt_many,
    response_bits,
    verify_partial_decryption,
)

# --------------------------------------------------------------------------- dealer


def _random_square(n: int) -> int:
    nn = n * n
    while True:
        x = secrets.randbelow(nn - 2) + 2
        if gmpy2.gcd(x, n) == 1:
            v = x * x % nn
            if v != 1:
                return v


def generate_threshold_key(
    bits: int,
    trustees: int,
    threshold: int,
    *,
    allow_test_key: bool = False,
    progress: Progress | None = None,
) -> tuple[ThresholdPublicKey, list[KeyShare]]:
    """The trusted dealer (T1–T4): a ``k``-of-``ℓ`` key with an exactly ``bits``-bit ``n``.

    Ends with a self-test: each share is checked against ``v_i`` and a random
    plaintext is decrypted through the first ``k`` partial decryptions.
    """
    floor = MIN_TEST_BITS if allow_test_key else MIN_PRODUCTION_BITS
    if isinstance(bits, bool) or not isinstance(bits, int) or bits < floor:
        raise InvalidKey(f"refusing to generate a {bits}-bit threshold key (minimum {floor})")
    if bits % 2:
        raise InvalidKey("the modulus length must be even")
    if not 1 <= trustees <= MAX_TRUSTEES:
        raise InvalidKey(f"trustees must be 1..{MAX_TRUSTEES}")
    if not 1 <= threshold <= trustees:
        raise InvalidKey("threshold must satisfy 1 <= k <= trustees")

    half = bits // 2
    p = generate_safe_prime(half, progress=progress, label="safe prime 1/2")
    while True:
        q = generate_safe_prime(half, progress=progress, label="safe prime 2/2")
        if q != p:
            break
    n = p * q
    pp, qq = (p - 1) // 2, (q - 1) // 2
    m = pp * qq
    if n.bit_length() != bits or gmpy2.gcd(n, m) != 1:  # pragma: no cover - impossible by sizes
        raise InvalidKey("key generation failed; try again")
    nm = n * m
    d = m * invert(m, n)  # T2: d ≡ 0 mod m, d ≡ 1 mod n
    coefficients = [d] + [secrets.randbelow(nm) for _ in range(threshold - 1)]
    shares_s = [_poly_eval(coefficients, i, nm) for i in range(1, trustees + 1)]
    del p, q, pp, qq, m, d, coefficients

    delta = math.factorial(trustees)
    nn = n * n
    v = _random_square(n)
    vks = tuple(powmod(v, delta * s_i, nn) for s_i in shares_s)
    tpk = ThresholdPublicKey(PublicKey(n), threshold, trustees, v, vks)
    shares = [KeyShare(i, s_i, tpk) for i, s_i in enumerate(shares_s, start=1)]
    del shares_s, nm

    if progress is not None:
        progress("self-test")
    for share in shares:
        check_share(share)
    message = secrets.randbelow(n)
    c, _ = encrypt(tpk.public, message)
    fp = tpk.fingerprint()
    ctx = ("key-ceremony", "self-test")
    partials = [partial_decrypt(sh, c, fingerprint=fp, context=ctx) for sh in shares[:threshold]]
    if combine(tpk, c, partials, fingerprint=fp, context=ctx).m != message:  # pragma: no cover
        raise InvalidKey("threshold key self-test failed")
    return tpk, shares


def _poly_eval(coefficients: Sequence[int], x: int, modulus: int) -> int:
    acc = 0
    for coefficient in reversed(coefficients):
        acc = (acc * x + coefficient) % modulus
    return acc


# --------------------------------------------------------------------------- combine


def lagrange_coefficient(delta: int, index: int, subset: Iterable[int]) -> int:
    """``λ_i = Δ·∏_{j∈S∖{i}} j/(j−i)`` — exact, since ``Δ = ℓ!`` clears the denominator (T8)."""
    numerator, denominator = delta, 1
    for j in subset:
        if j != index:
            numerator *= j
            denominator *= j - index
    quotient, remainder = divmod(numerator, denominator)
    if remainder:  # pragma: no cover - impossible for indices in 1..ℓ
        raise InvalidShare("Lagrange coefficient is not an integer")
    return quotient


@dataclass(frozen=True)
class CombinedDecryption:
    """The plaintext ``M``, the trustee indices used, and ``(index, reason)`` for rejects."""

    m: int
    used: tuple[int, ...]
    rejected: tuple[tuple[int, str], ...]

    @property
    def plaintext(self) -> int:
        return self.m


def combine(
    tpk: ThresholdPublicKey,
    c: int,
    partials: Sequence[PartialDecryption],
    *,
    fingerprint: bytes,
    context: tuple[str, ...],
    verify: Callable[[PartialDecryption], None] | None = None,
) -> CombinedDecryption:
    """Verify every partial, keep the first ``k`` valid distinct ones, apply T8–T9.

    ``verify`` replaces the T7 check of one partial (it must raise :class:`CryptoError`
    exactly when :func:`verify_partial_decryption` would, e.g. by returning a verdict that
    function computed earlier, on another thread).
    """
    try:
        validate_ciphertext(tpk.public, c)
    except InvalidCiphertext as exc:
        raise DecryptionError(f"ciphertext invalid: {exc}") from exc
    valid: dict[int, int] = {}
    rejected: list[tuple[int, str]] = []
    for partial in partials:
        index = partial.index
        if isinstance(index, int) and index in valid:
            rejected.append((index, "duplicate share"))
            continue
        try:
            if verify is None:
                verify_partial_decryption(tpk, c, partial, fingerprint=fingerprint,
                                          context=context)
            else:
                verify(partial)
        except CryptoError as exc:
            rejected.append((index if isinstance(index, int) else -1, str(exc)))
            continue
        valid[index] = partial.c_i
    if len(valid) < tpk.threshold:
        raise DecryptionError(
            f"only {len(valid)} valid partial decryption(s); {tpk.threshold} needed"
        )
    used = tuple(list(valid)[: tpk.threshold])
    nn, n, delta = tpk.nsquare, tpk.n, tpk.delta
    c_prime = 1
    for i in used:
        lam = lagrange_coefficient(delta, i, used)
        base = valid[i] if lam >= 0 else invert(valid[i], nn)
        c_prime = c_prime * powmod(base, 2 * abs(lam), nn) % nn
    if c_prime % n != 1:  # only with a key whose threshold is below the polynomial's degree + 1
        raise DecryptionError("combined value is not of the form 1 + x·n")
    m = (c_prime - 1) // n * invert(4 * delta * delta * tpk.theta % n, n) % n  # θ = 1: dealer
    return CombinedDecryption(m, used, tuple(rejected))


__all__ = [
    "HIDING_BITS",
    "MAX_TRUSTEES",
    "PARTIAL_DECRYPTION_DOMAIN",
    "PUBLIC_KEY_DOMAIN",
    "CombinedDecryption",
    "EqualityProof",
    "KeyShare",
    "PartialDecryption",
    "Progress",
    "ThresholdPublicKey",
    "check_share",
    "combine",
    "generate_safe_prime",
    "generate_threshold_key",
    "lagrange_coefficient",
    "partial_decrypt",
    "partial_decrypt_many",
    "response_bits",
    "verify_partial_decryption",
]
