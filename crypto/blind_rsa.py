"""RSA blind signatures, RFC 9474 (RSABSSA), all four SHA-384 variants.

Protocol (RFC 9474 §4; docs/protocol.md "Anonymous credentials")::

    client:  prepared = Prepare(msg)                 (randomized: 32 random bytes || msg)
             EM = EMSA-PSS-ENCODE(prepared, modBits - 1)   (RFC 8017 §9.1.1, SHA-384, MGF1-SHA-384)
             m = OS2IP(EM),  r <-$ Z*_n,  z = m · r^e mod n,  inv = r^-1 mod n
    issuer:  s' = z^d mod n  (CRT, constant-time powmod),  check s'^e == z  (mod n)
    client:  s = s' · inv mod n,  RSASSA-PSS-VERIFY(pk, prepared, s)

``cryptography`` verifies RSA-PSS but exposes neither raw RSA signing nor EMSA-PSS
encoding, so EMSA-PSS-ENCODE, MGF1 and the CRT exponentiation (``gmpy2.powmod_sec``) are
written here; verification of the final signature goes through ``cryptography``.

Randomness (message randomizer, PSS salt, blinding factor ``r``) comes from
:mod:`secrets`; each can be injected through keyword arguments for the RFC 9474
test vectors only.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from typing import Any

import gmpy2
from cryptography.exceptions import InvalidSignature as _PycaInvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from crypto.encoding import byte_length, hex_to_int, int_to_fixed, int_to_hex, require
from crypto.errors import InvalidEncoding, InvalidKey, InvalidSignature

#: Hash of every variant (SHA-384) and its output length hLen.
HASH_NAME = "sha384"
HASH_LEN = 48
#: Length of the message randomizer ("msg_prefix") of the randomized variants.
RANDOMIZER_LEN = 32
#: Smallest issuer modulus accepted (bits) and the default for new keys.
MIN_BITS = 2048
DEFAULT_BITS = 3072
PUBLIC_EXPONENT = 65537


@dataclass(frozen=True)
class Variant:
    """An RFC 9474 §5 variant: SHA-384, MGF1-SHA-384, salt length, randomized or not."""

    name: str
    salt_length: int
    randomized: bool


RSABSSA_SHA384_PSS_RANDOMIZED = Variant("RSABSSA-SHA384-PSS-Randomized", HASH_LEN, True)
RSABSSA_SHA384_PSSZERO_RANDOMIZED = Variant("RSABSSA-SHA384-PSSZERO-Randomized", 0, True)
RSABSSA_SHA384_PSS_DETERMINISTIC = Variant("RSABSSA-SHA384-PSS-Deterministic", HASH_LEN, False)
RSABSSA_SHA384_PSSZERO_DETERMINISTIC = Variant("RSABSSA-SHA384-PSSZERO-Deterministic", 0, False)

#: The variant Saylau uses (RFC 9474's recommended default).
DEFAULT_VARIANT = RSABSSA_SHA384_PSS_RANDOMIZED

VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        RSABSSA_SHA384_PSS_RANDOMIZED,
        RSABSSA_SHA384_PSSZERO_RANDOMIZED,
        RSABSSA_SHA384_PSS_DETERMINISTIC,
        RSABSSA_SHA384_PSSZERO_DETERMINISTIC,
    )
}


# --------------------------------------------------------------------------- keys


@dataclass(frozen=True)
class IssuerPublicKey:
    """Issuer RSA public key ``(n, e)``; JSON ``{"n": hex, "e": hex}`` (canonical hex)."""

    n: int
    e: int

    def __post_init__(self) -> None:
        if not isinstance(self.n, int) or isinstance(self.n, bool):
            raise InvalidKey("RSA modulus must be an integer")
        if not isinstance(self.e, int) or isinstance(self.e, bool):
            raise InvalidKey("RSA exponent must be an integer")
        if self.n.bit_length() < MIN_BITS or self.n % 2 == 0:
            raise InvalidKey(f"RSA modulus must be odd and at least {MIN_BITS} bits")
        if self.e < 3 or self.e % 2 == 0 or self.e >= self.n:
            raise InvalidKey("RSA public exponent must be odd, >= 3 and < n")

    @property
    def modulus_len(self) -> int:
        """``k`` = length of ``n`` in bytes (RFC 9474 ``modulus_len``)."""
        return byte_length(self.n)

    @property
    def bits(self) -> int:
        return self.n.bit_length()

    def to_cryptography(self) -> rsa.RSAPublicKey:
        return rsa.RSAPublicNumbers(self.e, self.n).public_key()

    def fingerprint(self) -> bytes:
        """SHA-256 of the DER-encoded SubjectPublicKeyInfo (32 bytes)."""
        der = self.to_cryptography().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return hashlib.sha256(der).digest()

    def to_pem(self) -> bytes:
        return self.to_cryptography().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def to_json(self) -> dict[str, Any]:
        return {"n": int_to_hex(self.n), "e": int_to_hex(self.e)}

    @classmethod
    def from_json(cls, obj: object) -> IssuerPublicKey:
        where = "issuer_public_key"
        n = hex_to_int(require(obj, "n", str, where), f"{where}.n")
        e = hex_to_int(require(obj, "e", str, where), f"{where}.e")
        try:
            return cls(n=n, e=e)
        except InvalidKey as exc:
            raise InvalidEncoding(f"{where}: {exc}") from exc

    @classmethod
    def from_cryptography(cls, key: rsa.RSAPublicKey) -> IssuerPublicKey:
        numbers = key.public_numbers()
        return cls(n=numbers.n, e=numbers.e)


class IssuerPrivateKey:
    """Issuer RSA private key (wraps ``cryptography``'s ``RSAPrivateKey``).

    Signing uses the CRT components ``p, q, dP = d mod (p-1), dQ = d mod (q-1),
    qInv = q^-1 mod p`` with ``gmpy2.powmod_sec`` (RFC 8017 §5.1.2, RSASP1 2.b).
    """

    __slots__ = ("_key", "_public", "_p", "_q", "_dp", "_dq", "_qinv")

    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        if not isinstance(key, rsa.RSAPrivateKey):
            raise InvalidKey("expected an RSA private key")
        if key.key_size < MIN_BITS:
            raise InvalidKey(f"issuer RSA key must be at least {MIN_BITS} bits")
        numbers = key.private_numbers()
        self._key = key
        self._public = IssuerPublicKey(n=numbers.public_numbers.n, e=numbers.public_numbers.e)
        self._p = gmpy2.mpz(numbers.p)
        self._q = gmpy2.mpz(numbers.q)
        self._dp = gmpy2.mpz(numbers.dmp1)
        self._dq = gmpy2.mpz(numbers.dmq1)
        self._qinv = gmpy2.mpz(numbers.iqmp)

    def __repr__(self) -> str:
        return f"IssuerPrivateKey(bits={self._public.bits})"

    @classmethod
    def generate(cls, bits: int = DEFAULT_BITS) -> IssuerPrivateKey:
        """A fresh key with ``e = 65537``; refuses ``bits < 2048``."""
        if bits < MIN_BITS:
            raise InvalidKey(f"issuer RSA key must be at least {MIN_BITS} bits")
        return cls(rsa.generate_private_key(public_exponent=PUBLIC_EXPONENT, key_size=bits))

    def public_key(self) -> IssuerPublicKey:
        return self._public

    @property
    def cryptography_key(self) -> rsa.RSAPrivateKey:
        return self._key

    def to_pem(self, password: bytes | None = None) -> bytes:
        """PKCS#8 PEM, encrypted with ``password`` when one is given."""
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password)
            if password
            else serialization.NoEncryption()
        )
        return self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )

    @classmethod
    def from_pem(cls, data: bytes, password: bytes | None = None) -> IssuerPrivateKey:
        try:
            key = serialization.load_pem_private_key(data, password=password)
        except (ValueError, TypeError) as exc:
            raise InvalidKey("cannot load issuer private key PEM") from exc
        if not isinstance(key, rsa.RSAPrivateKey):
            raise InvalidKey("PEM does not hold an RSA private key")
        return cls(key)

    def _rsasp1(self, m: int) -> int:
        """RSASP1 with CRT: s1 = m^dP mod p, s2 = m^dQ mod q, h = qInv(s1 - s2) mod p, s = s2 + q·h."""
        mm = gmpy2.mpz(m)
        s1 = gmpy2.powmod_sec(mm % self._p, self._dp, self._p)
        s2 = gmpy2.powmod_sec(mm % self._q, self._dq, self._q)
        h = (self._qinv * (s1 - s2)) % self._p
        return int(s2 + self._q * h)


# --------------------------------------------------------------------------- EMSA-PSS


def _hash(data: bytes) -> bytes:
    return hashlib.sha384(data).digest()


def mgf1(seed: bytes, mask_len: int) -> bytes:
    """MGF1 with SHA-384 (RFC 8017 §B.2.1): T = H(seed || I2OSP(0,4)) || H(seed || I2OSP(1,4)) || ..."""
    if mask_len < 0 or mask_len > (1 << 32) * HASH_LEN:
        raise InvalidEncoding("MGF1 mask too long")
    out = bytearray()
    counter = 0
    while len(out) < mask_len:
        out += _hash(seed + counter.to_bytes(4, "big"))
        counter += 1
    return bytes(out[:mask_len])


def emsa_pss_encode(message: bytes, em_bits: int, salt: bytes) -> bytes:
    """EMSA-PSS-ENCODE (RFC 8017 §9.1.1) with SHA-384 / MGF1-SHA-384.

    mHash = H(M); M' = 0x00^8 || mHash || salt; H = Hash(M');
    DB = PS || 0x01 || salt; maskedDB = DB xor MGF1(H, emLen - hLen - 1) with the
    leftmost 8·emLen - emBits bits cleared; EM = maskedDB || H || 0xbc.
    """
    em_len = (em_bits + 7) // 8
    s_len = len(salt)
    m_hash = _hash(message)
    if em_len < HASH_LEN + s_len + 2:
        raise InvalidEncoding("EMSA-PSS encoding error: modulus too short for salt")
    h = _hash(b"\x00" * 8 + m_hash + salt)
    ps = b"\x00" * (em_len - s_len - HASH_LEN - 2)
    db = ps + b"\x01" + salt
    db_mask = mgf1(h, em_len - HASH_LEN - 1)
    masked = bytearray(a ^ b for a, b in zip(db, db_mask, strict=True))
    masked[0] &= 0xFF >> (8 * em_len - em_bits)
    return bytes(masked) + h + b"\xbc"


# --------------------------------------------------------------------------- protocol


def prepare(
    msg: bytes, variant: Variant = DEFAULT_VARIANT, *, randomizer: bytes | None = None
) -> bytes:
    """RFC 9474 §4.1 Prepare: randomized variants return ``random(32) || msg``, others ``msg``.

    ``randomizer`` is for test vectors only.
    """
    msg = bytes(msg)
    if not variant.randomized:
        if randomizer:
            raise InvalidEncoding("deterministic variants take no randomizer")
        return msg
    if randomizer is None:
        randomizer = secrets.token_bytes(RANDOMIZER_LEN)
    if len(randomizer) != RANDOMIZER_LEN:
        raise InvalidEncoding(f"message randomizer must be {RANDOMIZER_LEN} bytes")
    return bytes(randomizer) + msg


def blind(
    pk: IssuerPublicKey,
    prepared_msg: bytes,
    variant: Variant = DEFAULT_VARIANT,
    *,
    salt: bytes | None = None,
    r: int | None = None,
) -> tuple[bytes, int]:
    """RFC 9474 §4.2 Blind: ``z = OS2IP(EMSA-PSS-ENCODE(msg)) · r^e mod n``.

    Returns ``(blinded_msg, inv)`` with ``blinded_msg = I2OSP(z, k)`` and
    ``inv = r^-1 mod n``.  ``salt`` and ``r`` are for test vectors only.
    """
    if salt is None:
        salt = secrets.token_bytes(variant.salt_length)
    if len(salt) != variant.salt_length:
        raise InvalidEncoding(f"{variant.name}: salt must be {variant.salt_length} bytes")
    encoded = emsa_pss_encode(bytes(prepared_msg), pk.bits - 1, bytes(salt))
    m = int.from_bytes(encoded, "big")
    if math.gcd(m, pk.n) != 1:
        raise InvalidEncoding("encoded message is not invertible modulo n")
    if r is None:
        while True:
            r = 1 + secrets.randbelow(pk.n - 1)
            if math.gcd(r, pk.n) == 1:
                break
    elif not 0 < r < pk.n or math.gcd(r, pk.n) != 1:
        raise InvalidEncoding("blinding factor must be in Z*_n")
    inv = int(gmpy2.invert(r, pk.n))
    z = m * int(gmpy2.powmod(r, pk.e, pk.n)) % pk.n
    return int_to_fixed(z, pk.modulus_len), inv


def blind_sign(sk: IssuerPrivateKey, blinded_msg: bytes) -> bytes:
    """RFC 9474 §4.3 BlindSign: ``s = z^d mod n`` (CRT), then check ``s^e == z`` (mod n).

    Raises :class:`InvalidEncoding` when ``blinded_msg`` is not ``k`` bytes or
    ``z >= n``, and :class:`InvalidSignature` if the self-check fails (fault attack).
    """
    pk = sk.public_key()
    if not isinstance(blinded_msg, bytes | bytearray) or len(blinded_msg) != pk.modulus_len:
        raise InvalidEncoding(f"blinded message must be {pk.modulus_len} bytes")
    z = int.from_bytes(blinded_msg, "big")
    if z >= pk.n:
        raise InvalidEncoding("blinded message representative out of range (z >= n)")
    s = sk._rsasp1(z)
    if int(gmpy2.powmod(s, pk.e, pk.n)) != z:
        raise InvalidSignature("blind signing failure: s^e != z (mod n)")
    return int_to_fixed(s, pk.modulus_len)


def finalize(
    pk: IssuerPublicKey,
    prepared_msg: bytes,
    blind_sig: bytes,
    inv: int,
    variant: Variant = DEFAULT_VARIANT,
) -> bytes:
    """RFC 9474 §4.4 Finalize: ``s = blind_sig · inv mod n``, then RSASSA-PSS-VERIFY.

    Raises :class:`InvalidEncoding` if ``blind_sig`` is not ``k`` bytes or is ``>= n``,
    :class:`InvalidSignature` if the unblinded signature does not verify.
    """
    if not isinstance(blind_sig, bytes | bytearray) or len(blind_sig) != pk.modulus_len:
        raise InvalidEncoding(f"blind signature must be {pk.modulus_len} bytes")
    z = int.from_bytes(blind_sig, "big")
    if z >= pk.n:
        raise InvalidEncoding("blind signature out of range (>= n)")
    if not 0 < inv < pk.n:
        raise InvalidEncoding("blinding inverse out of range")
    sig = int_to_fixed(z * inv % pk.n, pk.modulus_len)
    verify(pk, prepared_msg, sig, variant)
    return sig


def verify(
    pk: IssuerPublicKey,
    prepared_msg: bytes,
    sig: bytes,
    variant: Variant = DEFAULT_VARIANT,
) -> None:
    """RFC 9474 §4.5 Verify: RSASSA-PSS-VERIFY (SHA-384, MGF1-SHA-384, variant's sLen).

    Every failure, including a signature of the wrong length or ``>= n``, raises
    :class:`InvalidSignature`.
    """
    if not isinstance(sig, bytes | bytearray) or len(sig) != pk.modulus_len:
        raise InvalidSignature(f"signature must be {pk.modulus_len} bytes")
    if int.from_bytes(sig, "big") >= pk.n:
        raise InvalidSignature("signature representative out of range")
    try:
        pk.to_cryptography().verify(
            bytes(sig),
            bytes(prepared_msg),
            padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=variant.salt_length),
            hashes.SHA384(),
        )
    except _PycaInvalidSignature as exc:
        raise InvalidSignature(f"{variant.name} signature does not verify") from exc
