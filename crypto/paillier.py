"""Paillier encryption with g = n + 1, on raw ciphertext integers.

Encryption of ``m`` with randomness ``r ∈ Z*_n`` (docs/protocol.md §1.3, eq. P1)::

    c = (1 + m·n) · r^n  mod N,      N = n^2

Key generation and CRT decryption come from ``phe`` (over ``gmpy2``); everything
else works on plain integers so that no field from the wire (such as ``phe``'s
``exponent``) can change what a ciphertext means.  Every ciphertext and response read
from the wire is checked with :func:`validate_ciphertext` / :func:`validate_unit`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import gmpy2
from phe import paillier as _phe

from crypto.encoding import hex_to_int, int_to_hex, require
from crypto.errors import DecryptionError, InvalidCiphertext, InvalidEncoding, InvalidKey

#: Default modulus length for real elections.
DEFAULT_BITS = 3072
#: Smallest modulus accepted for anything that is not an explicitly marked test key.
MIN_PRODUCTION_BITS = 2048
#: Smallest modulus accepted at all (test keys); 2^256 challenges need |p|, |q| > 256.
MIN_TEST_BITS = 1024


def powmod(base: int, exponent: int, modulus: int) -> int:
    """``base^exponent mod modulus`` through GMP; negative exponents invert first."""
    return int(gmpy2.powmod(base, exponent, modulus))


def invert(value: int, modulus: int) -> int:
    return int(gmpy2.invert(value, modulus))


@dataclass(frozen=True)
class PublicKey:
    """Paillier public key ``n`` (generator ``g = n + 1``)."""

    n: int
    nsquare: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.n, int) or self.n < 3 or self.n % 2 == 0:
            raise InvalidKey("Paillier modulus must be an odd integer")
        object.__setattr__(self, "nsquare", self.n * self.n)

    @property
    def bits(self) -> int:
        return self.n.bit_length()

    def check_strength(self, allow_test_key: bool = False) -> None:
        """Refuse moduli below 2048 bits unless this is an explicitly marked test key."""
        floor = MIN_TEST_BITS if allow_test_key else MIN_PRODUCTION_BITS
        if self.bits < floor:
            raise InvalidKey(f"Paillier modulus of {self.bits} bits is below {floor} bits")

    def to_json(self) -> dict[str, Any]:
        return {"n": int_to_hex(self.n)}

    @classmethod
    def from_json(cls, obj: object) -> PublicKey:
        n = hex_to_int(require(obj, "n", str, "paillier public key"), "n")
        if n.bit_length() < MIN_TEST_BITS:
            raise InvalidKey("Paillier modulus too small")
        return cls(n)


@dataclass(frozen=True)
class PrivateKey:
    """Single-holder Paillier private key (tests, Benaloh audits, the dealer)."""

    public: PublicKey
    p: int = field(repr=False)
    q: int = field(repr=False)

    def __post_init__(self) -> None:
        if self.p * self.q != self.public.n:
            raise InvalidKey("p·q does not equal n")

    def _phe(self) -> _phe.PaillierPrivateKey:
        return _phe.PaillierPrivateKey(_phe.PaillierPublicKey(self.public.n), self.p, self.q)

    def decrypt(self, c: int) -> int:
        """Decrypt a raw ciphertext with CRT (phe); the result is in [0, n)."""
        validate_ciphertext(self.public, c)
        try:
            return int(self._phe().raw_decrypt(c))
        except Exception as exc:  # pragma: no cover - phe raises only on type errors
            raise DecryptionError("decryption failed") from exc

    def recover_randomness(self, c: int, m: int) -> int:
        """The ``r`` with ``c = (1+mn)·r^n mod N``: ``r = (c·(1-mn) mod n)^(n^-1 mod φ)``."""
        n = self.public.n
        u = (c * (1 - m * n)) % self.public.nsquare
        phi = (self.p - 1) * (self.q - 1)
        return powmod(u % n, invert(n, phi), n)

    def to_json(self) -> dict[str, Any]:
        return {"n": int_to_hex(self.public.n), "p": int_to_hex(self.p), "q": int_to_hex(self.q)}

    @classmethod
    def from_json(cls, obj: object) -> PrivateKey:
        n = hex_to_int(require(obj, "n", str, "paillier private key"), "n")
        p = hex_to_int(require(obj, "p", str, "paillier private key"), "p")
        q = hex_to_int(require(obj, "q", str, "paillier private key"), "q")
        return cls(PublicKey(n), p, q)


def generate_keypair(bits: int = DEFAULT_BITS, *, allow_test_key: bool = False) -> PrivateKey:
    """A fresh single-holder key pair of ``bits`` bits (phe's generator)."""
    floor = MIN_TEST_BITS if allow_test_key else MIN_PRODUCTION_BITS
    if bits < floor:
        raise InvalidKey(f"refusing to generate a {bits}-bit Paillier key (minimum {floor})")
    public, private = _phe.generate_paillier_keypair(n_length=bits)
    return PrivateKey(PublicKey(int(public.n)), int(private.p), int(private.q))


#: A source of uniform integers in [0, bound); :func:`secrets.randbelow` unless a test
#: injects a deterministic one (docs/protocol.md §10, worked examples).
RandBelow = Callable[[int], int]


def random_unit(n: int, rng: RandBelow | None = None) -> int:
    """A uniformly random element of Z*_n: draw from [0, n) until ``0 < r`` and gcd(r, n) = 1."""
    draw = rng or secrets.randbelow
    while True:
        r = draw(n)
        if r > 0 and gmpy2.gcd(r, n) == 1:
            return r


def all_units(n: int, values: Sequence[object], bounds: Sequence[int]) -> bool:
    """``True`` when every ``values[i]`` is an ``int`` (not ``bool``) with
    ``0 < values[i] < bounds[i]`` and ``gcd(values[i], n) = 1``; ``False`` otherwise.

    One ``gcd`` for all: ``gcd(∏ v mod n, n) = 1`` exactly when no prime factor of ``n``
    divides any ``v``.  A fast path only: on ``False`` the caller repeats its one-by-one
    checks (:func:`validate_ciphertext`, :func:`validate_unit`), which name the value.
    """
    product = gmpy2.mpz(1)
    for v, bound in zip(values, bounds, strict=True):
        if type(v) is not int or not 0 < v < bound:
            return False
        product = product * v % n
    return bool(gmpy2.gcd(product, n) == 1)


def validate_ciphertext(pk: PublicKey, c: object) -> int:
    """Check ``0 < c < N`` and ``gcd(c, n) = 1``; return ``c`` or raise InvalidCiphertext."""
    if not isinstance(c, int) or isinstance(c, bool):
        raise InvalidCiphertext("ciphertext must be an integer")
    if not 0 < c < pk.nsquare or gmpy2.gcd(c, pk.n) != 1:
        raise InvalidCiphertext("ciphertext is not in Z*_{n^2}")
    return c


def validate_unit(pk: PublicKey, z: object, what: str = "response") -> int:
    """Check ``0 < z < n`` and ``gcd(z, n) = 1`` for a response; raise InvalidCiphertext."""
    if not isinstance(z, int) or isinstance(z, bool):
        raise InvalidCiphertext(f"{what} must be an integer")
    if not 0 < z < pk.n or gmpy2.gcd(z, pk.n) != 1:
        raise InvalidCiphertext(f"{what} is not in Z*_n")
    return z


def encrypt(pk: PublicKey, m: int, r: int | None = None,
            rng: RandBelow | None = None) -> tuple[int, int]:
    """Encrypt ``m ∈ [0, n)``; returns ``(c, r)`` so that proofs can use ``r`` (eq. P1)."""
    if not 0 <= m < pk.n:
        raise InvalidEncoding("plaintext out of range [0, n)")
    if r is None:
        r = random_unit(pk.n, rng)
    elif not 0 < r < pk.n:
        raise InvalidEncoding("randomness out of range")
    c = (1 + m * pk.n) % pk.nsquare * powmod(r, pk.n, pk.nsquare) % pk.nsquare
    return c, r


def encrypt_with_rn(pk: PublicKey, m: int, rn: int) -> int:
    """Encrypt with a precomputed ``r^n mod N`` (client-side pools)."""
    return (1 + m * pk.n) * rn % pk.nsquare


def add(pk: PublicKey, *ciphertexts: int) -> int:
    """Homomorphic addition: ``Enc(a)·Enc(b) mod N = Enc(a + b)``."""
    total = gmpy2.mpz(1)
    for c in ciphertexts:
        total = total * c % pk.nsquare
    return int(total)


def add_randomness(pk: PublicKey, *rs: int) -> int:
    """Randomness of a product of ciphertexts: ``∏ r_i mod n``."""
    total = 1
    for r in rs:
        total = total * r % pk.n
    return total


def L(x: int, n: int) -> int:
    """``L(x) = (x - 1) / n`` (exact division for x ≡ 1 mod n)."""
    return (x - 1) // n
