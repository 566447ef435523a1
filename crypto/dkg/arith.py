"""Arithmetic helpers of the distributed key generation (docs §4.7): vectors on the wire,
the pair-seeded pseudo-random Shamir sharing (D3), Lagrange interpolation over ``F_P``,
and the public hash-derived values ``g`` (D6), ``v`` (D11) and the confirmation
ciphertext (D15).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from operator import mul

import gmpy2
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

from crypto.dkg.errors import InvalidCommitment

PRG_DOMAIN = b"saylau/v1/dkg-prg"
HASH_DOMAIN = b"saylau/v1/dkg-hash"


# -- vectors -----------------------------------------------------------------------------
def pack_vec(values: Sequence[int], width: int) -> str:
    """Non-negative integers as fixed-width big-endian bytes, concatenated, base64."""
    return base64.b64encode(b"".join(int(v).to_bytes(width, "big") for v in values)).decode()


def unpack_vec(text: object, width: int, count: int, who: int, bound: int) -> list[int]:
    """Inverse of :func:`pack_vec`; every value must be ``< bound``."""
    try:
        raw = base64.b64decode(str(text), validate=True)
    except ValueError as exc:
        raise InvalidCommitment(f"trustee {who}: malformed vector", culprit=who) from exc
    if len(raw) != width * count:
        raise InvalidCommitment(f"trustee {who}: vector of the wrong length", culprit=who)
    out = [int.from_bytes(raw[i:i + width], "big") for i in range(0, len(raw), width)]
    if any(v >= bound for v in out):
        raise InvalidCommitment(f"trustee {who}: vector value out of range", culprit=who)
    return out


def signed_hex(value: int) -> str:
    return ("-" if value < 0 else "") + format(abs(value), "x")


def parse_signed_hex(text: object, who: int, max_bits: int) -> int:
    if not isinstance(text, str) or not text or len(text) > max_bits // 4 + 2:
        raise InvalidCommitment(f"trustee {who}: malformed integer", culprit=who)
    body = text[1:] if text.startswith("-") else text
    if not body or any(c not in "0123456789abcdef" for c in body) or (
            len(body) > 1 and body[0] == "0"):
        raise InvalidCommitment(f"trustee {who}: malformed integer", culprit=who)
    value = int(body, 16)
    return -value if text.startswith("-") else value


# -- PRG (D3) ------------------------------------------------------------------------------
def prg_vector(seed: bytes, label: str, count: int, modulus: int) -> list[int]:
    """``count`` values ``ChaCha20(seed, nonce = SHA-256(label)[:16])`` blocks of
    ``bytelen(modulus) + 16`` bytes, each reduced mod ``modulus`` (bias ≤ 2^-128)."""
    width = (modulus.bit_length() + 7) // 8 + 16
    nonce = hashlib.sha256(PRG_DOMAIN + label.encode()).digest()[:16]
    stream = Cipher(algorithms.ChaCha20(seed, nonce), mode=None).encryptor().update(
        bytes(width * count))
    return [int.from_bytes(stream[i:i + width], "big") % modulus
            for i in range(0, width * count, width)]


def lagrange_at(points: Sequence[int], x: int, prime: int) -> list[int]:
    """Basis values ``L_m(x)`` for interpolation through ``points`` over ``F_prime``."""
    out = []
    for m in points:
        num, den = 1, 1
        for o in points:
            if o != m:
                num = num * (x - o) % prime
                den = den * (m - o) % prime
        out.append(num * pow(den, -1, prime) % prime)
    return out


def combine_vectors(coeffs: Sequence[int], vectors: Sequence[Sequence[int]],
                    prime: int) -> list[int]:
    """``Σ_m coeffs[m]·vectors[m]`` elementwise mod ``prime``."""
    if all(c == 1 for c in coeffs):
        return [sum(col) % prime for col in zip(*vectors, strict=True)]
    cs = list(coeffs)
    return [sum(map(mul, cs, col)) % prime for col in zip(*vectors, strict=True)]


def trial_division_ok(n: int, chunks: Sequence[int]) -> bool:
    """D5: ``gcd(N, r) = 1`` for every odd prime ``r`` below the bound; ``chunks`` are
    products of consecutive primes (smallest first), so most candidates stop early."""
    return all(gmpy2.gcd(n, chunk) == 1 for chunk in chunks)


# -- hash-derived public values --------------------------------------------------------------
def hash_int(label: str, *parts: bytes | str | int, bits: int) -> int:
    """SHA-256 in counter mode over ``HASH_DOMAIN ‖ label ‖ parts`` to ``bits + 128`` bits."""
    h = hashlib.sha256(HASH_DOMAIN + b"\x00" + label.encode() + b"\x00")
    for part in parts:
        if isinstance(part, int):
            part = format(part, "x")
        data = part.encode() if isinstance(part, str) else part
        h.update(len(data).to_bytes(4, "big") + data)
    base = h.digest()
    need = (bits + 128 + 255) // 256
    stream = b"".join(hashlib.sha256(base + i.to_bytes(4, "big")).digest() for i in range(need))
    return int.from_bytes(stream, "big") >> (need * 256 - bits - 128)


def derive_g(sid: str, n: int, label: str) -> int:
    """D6: the first ``g = hash_int("bpt-g", sid, N, label, counter) mod N`` (counter
    0, 1, …) with Jacobi symbol ``(g/N) = 1`` and ``g ∉ {0, ±1}``."""
    counter = 0
    while True:
        g = hash_int("bpt-g", sid, n, label, counter, bits=n.bit_length()) % n
        if g not in (0, 1, n - 1) and gmpy2.jacobi(g, n) == 1:
            return g
        counter += 1


def derive_v(sid: str, n: int) -> int:
    """D11: ``v = (hash_int("feldman-v", sid, N) mod N²)² mod N²``."""
    nn = n * n
    x = hash_int("feldman-v", sid, n, bits=nn.bit_length()) % nn
    return x * x % nn


def confirmation_values(sid: str, n: int) -> tuple[int, int]:
    """D15: ``m* = hash_int("confirm-m", sid, N) mod N``, ``r* = hash_int("confirm-r",
    sid, N) mod N`` (a unit with overwhelming probability)."""
    m = hash_int("confirm-m", sid, n, bits=n.bit_length()) % n
    r = hash_int("confirm-r", sid, n, bits=n.bit_length()) % n
    return m, r
