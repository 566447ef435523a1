"""k-of-ℓ threshold Paillier (Shoup 2000 / Damgård–Jurik 2001, s = 1, trusted dealer).

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
from dataclasses import dataclass, field
from typing import Any

import gmpy2

from crypto.encoding import byte_length, hex_to_int, int_to_hex, require
from crypto.errors import (
    CryptoError,
    DecryptionError,
    InvalidCiphertext,
    InvalidEncoding,
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
from crypto.transcript import CHALLENGE_BITS, Transcript

#: Domain tag of the partial-decryption proof transcript (T6).
PARTIAL_DECRYPTION_DOMAIN = "saylau/v1/partial-decryption"
#: Domain tag of the threshold public key fingerprint.
PUBLIC_KEY_DOMAIN = "saylau/v1/threshold-public-key"
#: Statistical hiding parameter of the proof response (bits).
HIDING_BITS = CHALLENGE_BITS
#: The largest number of trustees accepted (Δ = ℓ! must stay far below p, q).
MAX_TRUSTEES = 64

Progress = Callable[[str], None]

# --------------------------------------------------------------------------- primes

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


# --------------------------------------------------------------------------- keys


def _check_unit_mod_n2(n: int, value: int, what: str) -> None:
    if not 0 < value < n * n or gmpy2.gcd(value, n) != 1:
        raise InvalidKey(f"{what} is not in Z*_(n^2)")


@dataclass(frozen=True)
class ThresholdPublicKey:
    """The election public key: Paillier ``n``, ``k``, ``ℓ``, ``v`` and ``v_1..v_ℓ`` (T4)."""

    public: PublicKey
    threshold: int
    trustees: int
    v: int
    verification_keys: tuple[int, ...]
    #: Distributed keys only (docs §4.7, eq. D14): ``θ = d mod n`` of the shared exponent
    #: ``d`` (1 for dealer keys, T2) and the bit bound of the shares ``s_i``.
    theta: int = 1
    share_bits: int | None = None
    _fingerprint: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.trustees, int) or not 1 <= self.trustees <= MAX_TRUSTEES:
            raise InvalidKey(f"trustees must be 1..{MAX_TRUSTEES}")
        if not isinstance(self.threshold, int) or not 1 <= self.threshold <= self.trustees:
            raise InvalidKey("threshold must satisfy 1 <= k <= trustees")
        if len(self.verification_keys) != self.trustees:
            raise InvalidKey("one verification key per trustee required")
        n = self.public.n
        _check_unit_mod_n2(n, self.v, "v")
        for i, v_i in enumerate(self.verification_keys, start=1):
            _check_unit_mod_n2(n, v_i, f"v_{i}")
        if (self.share_bits is None) != (self.theta == 1) or (
            self.share_bits is not None
            and (not 0 < self.theta < n or gmpy2.gcd(self.theta, n) != 1
                 or not 2 * n.bit_length() <= self.share_bits <= 4 * n.bit_length())
        ):
            raise InvalidKey("theta/share_bits: both absent (dealer key) or both valid")
        object.__setattr__(self, "verification_keys", tuple(self.verification_keys))
        object.__setattr__(self, "_fingerprint", self._compute_fingerprint())

    @property
    def delta(self) -> int:
        """``Δ = ℓ!``."""
        return math.factorial(self.trustees)

    @property
    def n(self) -> int:
        return self.public.n

    @property
    def nsquare(self) -> int:
        return self.public.nsquare

    def verification_key(self, index: int) -> int:
        """``v_i`` for ``i ∈ 1..ℓ``; InvalidShare for any other index."""
        if isinstance(index, bool) or not isinstance(index, int) or not 1 <= index <= self.trustees:
            raise InvalidShare(f"trustee index {index!r} outside 1..{self.trustees}")
        return self.verification_keys[index - 1]

    def _compute_fingerprint(self) -> bytes:
        nn = self.public.nsquare
        t = Transcript(PUBLIC_KEY_DOMAIN)
        t.integer("n", self.public.n, byte_length(self.public.n))
        t.integer("threshold", self.threshold, 4)
        t.integer("trustees", self.trustees, 4)
        t.integer_mod("v", self.v, nn)
        t.integers_mod("verification_keys", self.verification_keys, nn)
        if self.share_bits is not None:  # distributed key (§4.7): two more fields
            t.integer("theta", self.theta, byte_length(self.public.n))
            t.integer("share_bits", self.share_bits, 4)
        return t.digest()

    def fingerprint(self) -> bytes:
        """SHA-256 transcript of ``n, k, ℓ, v, v_1..v_ℓ`` (domain saylau/v1/threshold-public-key)."""
        return self._fingerprint

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "public": self.public.to_json(),
            "threshold": self.threshold,
            "trustees": self.trustees,
            "v": int_to_hex(self.v),
            "verification_keys": [int_to_hex(v_i) for v_i in self.verification_keys],
        }
        if self.share_bits is not None:
            out["theta"] = int_to_hex(self.theta)
            out["share_bits"] = self.share_bits
        return out

    @classmethod
    def from_json(cls, obj: object) -> ThresholdPublicKey:
        where = "threshold public key"
        try:
            public = PublicKey.from_json(require(obj, "public", dict, where))
        except InvalidKey as exc:
            raise InvalidEncoding(f"{where}: {exc}") from exc
        threshold = require(obj, "threshold", int, where)
        trustees = require(obj, "trustees", int, where)
        v = hex_to_int(require(obj, "v", str, where), "v")
        raw_keys = require(obj, "verification_keys", list, where)
        keys = tuple(hex_to_int(item, "verification_keys[]") for item in raw_keys)
        theta, share_bits = 1, None
        if isinstance(obj, dict) and ("theta" in obj or "share_bits" in obj):
            theta = hex_to_int(require(obj, "theta", str, where), "theta")
            share_bits = require(obj, "share_bits", int, where)
        try:
            return cls(public, threshold, trustees, v, keys, theta, share_bits)
        except InvalidKey as exc:
            raise InvalidEncoding(f"{where}: {exc}") from exc


@dataclass(frozen=True)
class KeyShare:
    """Trustee ``i``'s secret share ``s_i = f(i) mod n·m`` (T3)."""

    index: int
    s: int = field(repr=False)
    public: ThresholdPublicKey

    def __post_init__(self) -> None:
        self.public.verification_key(self.index)  # raises InvalidShare on a bad index
        bound = self.public.nsquare if self.public.share_bits is None else 1 << self.public.share_bits
        if not isinstance(self.s, int) or not 0 <= self.s < bound:
            raise InvalidShare("share value out of range")

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "s": int_to_hex(self.s), "public": self.public.to_json()}

    @classmethod
    def from_json(cls, obj: object) -> KeyShare:
        where = "key share"
        index = require(obj, "index", int, where)
        s = hex_to_int(require(obj, "s", str, where), "s")
        public = ThresholdPublicKey.from_json(require(obj, "public", dict, where))
        try:
            return cls(index, s, public)
        except InvalidShare as exc:
            raise InvalidEncoding(f"{where}: {exc}") from exc


def check_share(share: KeyShare) -> None:
    """A trustee checks ``v^(Δ·s_i) = v_i (mod N)`` against the published key (T4)."""
    tpk = share.public
    expected = tpk.verification_key(share.index)
    if powmod(tpk.v, tpk.delta * share.s, tpk.nsquare) != expected:
        raise InvalidShare(f"share {share.index} does not match its verification key")


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


# --------------------------------------------------------------------------- proofs


def response_bits(tpk: ThresholdPublicKey) -> int:
    """Bit length ``W = 2·|n| + |Δ| + 2t`` of the proof randomness ``w`` (t = 256).

    ``e·Δ·s_i < 2^t · Δ · n·m < 2^(t + |Δ| + 2|n|)``, so ``w`` uniform in ``[0, 2^W)``
    makes ``z = w + e·Δ·s_i`` statistically ``2^-t``-close to uniform: ``z`` hides
    ``s_i`` (Shoup 2000 §3: ``|N| + 2t`` bits at least).
    """
    share_bits = 2 * tpk.n.bit_length() if tpk.share_bits is None else tpk.share_bits
    return share_bits + tpk.delta.bit_length() + 2 * HIDING_BITS


@dataclass(frozen=True)
class EqualityProof:
    """Chaum–Pedersen-style proof over the integers: ``a, b`` commitments, ``e``, ``z`` (T6)."""

    a: int
    b: int
    e: int
    z: int

    def to_json(self) -> dict[str, Any]:
        return {
            "a": int_to_hex(self.a),
            "b": int_to_hex(self.b),
            "e": int_to_hex(self.e),
            "z": int_to_hex(self.z),
        }

    @classmethod
    def from_json(cls, obj: object) -> EqualityProof:
        where = "equality proof"
        return cls(
            hex_to_int(require(obj, "a", str, where), "a"),
            hex_to_int(require(obj, "b", str, where), "b"),
            hex_to_int(require(obj, "e", str, where), "e"),
            hex_to_int(require(obj, "z", str, where), "z"),
        )


@dataclass(frozen=True)
class PartialDecryption:
    """Trustee ``index``'s ``c_i = c^(2Δ·s_i) mod N`` with its proof (T5, T6)."""

    index: int
    c_i: int
    proof: EqualityProof

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "c_i": int_to_hex(self.c_i), "proof": self.proof.to_json()}

    @classmethod
    def from_json(cls, obj: object) -> PartialDecryption:
        where = "partial decryption"
        return cls(
            require(obj, "index", int, where),
            hex_to_int(require(obj, "c_i", str, where), "c_i"),
            EqualityProof.from_json(require(obj, "proof", dict, where)),
        )


def _challenge(
    tpk: ThresholdPublicKey,
    c: int,
    c_i: int,
    index: int,
    a: int,
    b: int,
    *,
    fingerprint: bytes,
    context: tuple[str, ...],
) -> int:
    """``e = SHA-256(transcript) mod 2^256`` over the fields in the documented order."""
    if not isinstance(fingerprint, bytes):
        raise InvalidEncoding("fingerprint must be bytes")
    nn = tpk.nsquare
    t = Transcript(PARTIAL_DECRYPTION_DOMAIN)
    t.bytes("fingerprint", fingerprint)
    t.integer("n", tpk.n, byte_length(tpk.n))
    t.integer_mod("c", c, nn)
    t.integer_mod("c_i", c_i, nn)
    t.integer_mod("v", tpk.v, nn)
    t.integer_mod("v_i", tpk.verification_key(index), nn)
    t.integer("index", index, 4)
    t.integer("context#count", len(context), 4)
    for position, item in enumerate(context):
        t.text(f"context[{position}]", item)
    t.integer_mod("a", a, nn)
    t.integer_mod("b", b, nn)
    return t.challenge(CHALLENGE_BITS)


def _check_context(context: object) -> tuple[str, ...]:
    if not isinstance(context, tuple) or not all(isinstance(x, str) for x in context):
        raise InvalidEncoding("context must be a tuple of strings")
    return context


def partial_decrypt(
    share: KeyShare, c: int, *, fingerprint: bytes, context: tuple[str, ...]
) -> PartialDecryption:
    """``c_i = c^(2Δ·s_i) mod N`` and the proof ``log_{c⁴}(c_i²) = log_v(v_i)`` (T5, T6)."""
    tpk = share.public
    validate_ciphertext(tpk.public, c)
    _check_context(context)
    nn = tpk.nsquare
    x = tpk.delta * share.s  # the common discrete log Δ·s_i
    c_i = powmod(c, 2 * x, nn)
    c4 = powmod(c, 4, nn)
    w = secrets.randbits(response_bits(tpk))
    a = powmod(c4, w, nn)
    b = powmod(tpk.v, w, nn)
    e = _challenge(tpk, c, c_i, share.index, a, b, fingerprint=fingerprint, context=context)
    z = w + e * x
    del w, x
    return PartialDecryption(share.index, c_i, EqualityProof(a, b, e, z))


def partial_decrypt_many(
    share: KeyShare,
    items: Sequence[tuple[int, tuple[str, ...]]],
    *,
    fingerprint: bytes,
) -> list[PartialDecryption]:
    """:func:`partial_decrypt` for each ``(c, context)`` (one per tally option)."""
    return [partial_decrypt(share, c, fingerprint=fingerprint, context=ctx) for c, ctx in items]


def _in_units(n: int, value: object) -> bool:
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and 0 < value < n * n
        and gmpy2.gcd(value, n) == 1
    )


def verify_partial_decryption(
    tpk: ThresholdPublicKey,
    c: int,
    partial: PartialDecryption,
    *,
    fingerprint: bytes,
    context: tuple[str, ...],
) -> None:
    """Recompute ``e`` and check T7; raise InvalidShare on any failure."""
    try:
        validate_ciphertext(tpk.public, c)
    except InvalidCiphertext as exc:
        raise InvalidShare(f"ciphertext invalid: {exc}") from exc
    _check_context(context)
    index = partial.index
    v_i = tpk.verification_key(index)
    n, nn = tpk.n, tpk.nsquare
    proof = partial.proof
    if not _in_units(n, partial.c_i):
        raise InvalidShare(f"share {index}: c_i is not in Z*_(n^2)")
    if not _in_units(n, proof.a) or not _in_units(n, proof.b):
        raise InvalidShare(f"share {index}: commitment is not in Z*_(n^2)")
    if not isinstance(proof.e, int) or not 0 <= proof.e < 1 << CHALLENGE_BITS:
        raise InvalidShare(f"share {index}: challenge out of range")
    if not isinstance(proof.z, int) or not 0 <= proof.z < 1 << (response_bits(tpk) + 1):
        raise InvalidShare(f"share {index}: response out of range")
    e = _challenge(
        tpk, c, partial.c_i, index, proof.a, proof.b, fingerprint=fingerprint, context=context
    )
    if e != proof.e:
        raise InvalidShare(f"share {index}: challenge does not match the transcript")
    c4 = powmod(c, 4, nn)
    ci2 = partial.c_i * partial.c_i % nn
    if powmod(c4, proof.z, nn) != proof.a * powmod(ci2, e, nn) % nn:
        raise InvalidShare(f"share {index}: proof fails (c^4)^z = a·(c_i^2)^e")
    if powmod(tpk.v, proof.z, nn) != proof.b * powmod(v_i, e, nn) % nn:
        raise InvalidShare(f"share {index}: proof fails v^z = b·v_i^e")


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
) -> CombinedDecryption:
    """Verify every partial, keep the first ``k`` valid distinct ones, apply T8–T9."""
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
            verify_partial_decryption(tpk, c, partial, fingerprint=fingerprint, context=context)
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
    if c_prime % n != 1:  # pragma: no cover - cannot happen with verified shares
        raise DecryptionError("combined value is not of the form 1 + x·n")
    m = (c_prime - 1) // n * invert(4 * delta * delta * tpk.theta % n, n) % n  # θ = 1: dealer
    return CombinedDecryption(m, used, tuple(rejected))


__all__ = [
    "PARTIAL_DECRYPTION_DOMAIN",
    "PUBLIC_KEY_DOMAIN",
    "CombinedDecryption",
    "EqualityProof",
    "KeyShare",
    "PartialDecryption",
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
