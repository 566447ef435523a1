"""Threshold Paillier key types: the public key (with ``Δ = ℓ!``, ``v``, ``v_i``; T4) and a
trustee's key share (docs/protocol.md, "Threshold decryption")."""



from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import gmpy2

from crypto.encoding import byte_length, hex_to_int, int_to_hex, require
from crypto.errors import (
    InvalidEncoding,
    InvalidKey,
    InvalidShare,
)
from crypto.paillier import (
    PublicKey,
    powmod,
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
        if self.v * self.v % (n * n) == 1:  # T4: v ≠ 1; an order ≤ 2 voids T7's v-equation
            raise InvalidKey("v has order 1 or 2 in Z*_(n^2) (v² ≡ 1): the partial decryption "
                             "proofs would bind nothing")
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


__all__ = [
    "HIDING_BITS",
    "MAX_TRUSTEES",
    "PARTIAL_DECRYPTION_DOMAIN",
    "PUBLIC_KEY_DOMAIN",
    "KeyShare",
    "ThresholdPublicKey",
    "check_share",
]
