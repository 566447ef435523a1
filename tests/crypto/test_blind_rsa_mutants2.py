"""The draw of the blinding factor in crypto/blind_rsa.py ``blind``, with a scripted source.

Written for the mutants of ``blind``'s draw loop (docs/testing.md, "Mutation testing"),
then for the other survivors of the second ``blind_rsa`` run (EMSA-PSS and MGF1 bounds,
key and verification messages).
``r = 1 + randbelow(n - 1)`` is redrawn until ``gcd(r, n) = 1``.  Mutants of the loop
condition (``gcd(n) == 1``, ``gcd(r) == 1``, ``== 2``) never accept a draw and loop for
ever on real randomness; ``!= 1`` accepts only non-units.  The source here serves a fixed
script and raises once it is exhausted, so such a mutant fails at once instead of running
until mutmut's time limit.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crypto import blind_rsa
from crypto.blind_rsa import IssuerPrivateKey, IssuerPublicKey, blind, emsa_pss_encode, verify
from crypto.errors import InvalidEncoding, InvalidKey, InvalidSignature

FIXTURE = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "issuer-test-key-2048.json")
                     .read_text())
SALT = bytes(range(48))


class ScriptExhausted(Exception):
    """The code under test asked for more random draws than the script holds."""


class ScriptedRandbelow:
    """Stands in for ``secrets.randbelow``: serves ``draws`` in order, for one bound only."""

    def __init__(self, bound: int, draws: list[int]) -> None:
        self.bound = bound
        self.draws = list(draws)
        self.calls = 0

    def __call__(self, bound: int) -> int:
        if bound != self.bound:
            raise ScriptExhausted(f"randbelow({bound}) asked, script is for randbelow({self.bound})")
        if self.calls == len(self.draws):
            raise ScriptExhausted(f"more than {len(self.draws)} draws")
        self.calls += 1
        return self.draws[self.calls - 1]


@pytest.fixture(scope="module")
def sk() -> IssuerPrivateKey:
    return IssuerPrivateKey.from_pem(FIXTURE["private_key_pem"].encode())


def _p(sk: IssuerPrivateKey) -> int:
    return sk.cryptography_key.private_numbers().p


def _expected(sk: IssuerPrivateKey, msg: bytes, r: int) -> tuple[bytes, int]:
    pk = sk.public_key()
    m = int.from_bytes(emsa_pss_encode(msg, pk.bits - 1, SALT), "big")
    z = m * pow(r, pk.e, pk.n) % pk.n
    return z.to_bytes(pk.modulus_len, "big"), pow(r, -1, pk.n)


def test_non_unit_blinding_factor_is_redrawn(sk: IssuerPrivateKey, monkeypatch: pytest.MonkeyPatch) -> None:
    pk = sk.public_key()
    p = _p(sk)
    # First draw gives r = 1 + (p - 1) = p, a factor of n; the second gives r = 2.
    source = ScriptedRandbelow(pk.n - 1, [p - 1, 1])
    monkeypatch.setattr(blind_rsa.secrets, "randbelow", source)
    assert blind(pk, b"msg", salt=SALT) == _expected(sk, b"msg", 2)
    assert source.calls == 2


def test_first_unit_blinding_factor_is_kept(sk: IssuerPrivateKey, monkeypatch: pytest.MonkeyPatch) -> None:
    pk = sk.public_key()
    # The extreme draws: 0 gives r = 1, n - 2 gives r = n - 1; both are units and taken at once.
    for draw, r in ((0, 1), (pk.n - 2, pk.n - 1)):
        source = ScriptedRandbelow(pk.n - 1, [draw])
        monkeypatch.setattr(blind_rsa.secrets, "randbelow", source)
        assert blind(pk, b"msg", salt=SALT) == _expected(sk, b"msg", r)
        assert source.calls == 1


def test_scripted_source_refuses_extra_draws() -> None:
    source = ScriptedRandbelow(10, [3])
    assert source(10) == 3
    with pytest.raises(ScriptExhausted, match="^more than 1 draws$"):
        source(10)
    with pytest.raises(ScriptExhausted, match="^" + re.escape("randbelow(9) asked, script is for randbelow(10)") + "$"):
        source(9)


def test_injected_non_unit_blinding_factor_is_refused(sk: IssuerPrivateKey) -> None:
    pk = sk.public_key()
    with pytest.raises(InvalidEncoding, match="^blinding factor must be in Z\\*_n$"):
        blind(pk, b"msg", salt=SALT, r=_p(sk))


# --------------------------------------------------------------------------- EMSA-PSS bounds


def _unmask(em: bytes, em_bits: int) -> bytes:
    """DB of an EMSA-PSS encoding (RFC 8017 §9.1.2 steps 5-9)."""
    h = em[-1 - blind_rsa.HASH_LEN:-1]
    mask = blind_rsa.mgf1(h, len(em) - blind_rsa.HASH_LEN - 1)
    db = bytes(a ^ b for a, b in zip(em[:-1 - blind_rsa.HASH_LEN], mask, strict=True))
    return bytes([db[0] & (0xFF >> (8 * len(em) - em_bits))]) + db[1:]


def test_emsa_pss_shortest_encoding() -> None:
    # emLen = hLen + sLen + 2 = 98 bytes is the shortest that holds a 48-byte salt: PS is empty.
    salt = bytes(range(100, 148))
    em = emsa_pss_encode(b"abc", 98 * 8, salt)
    assert len(em) == 98 and em[-1] == 0xBC
    assert _unmask(em, 98 * 8) == b"\x01" + salt
    with pytest.raises(InvalidEncoding, match="^EMSA-PSS encoding error: modulus too short for salt$"):
        emsa_pss_encode(b"abc", 97 * 8, salt)
    # Without a salt (the PSSZERO variants) 50 bytes are enough.
    em = emsa_pss_encode(b"abc", 50 * 8 - 1, b"")
    assert len(em) == 50 and _unmask(em, 50 * 8 - 1) == b"\x01"
    with pytest.raises(InvalidEncoding, match="^EMSA-PSS encoding error: modulus too short for salt$"):
        emsa_pss_encode(b"abc", 49 * 8, b"")


def test_mgf1_length_bounds() -> None:
    for bad in (-1, -49):
        with pytest.raises(InvalidEncoding, match="^MGF1 mask too long$"):
            blind_rsa.mgf1(b"seed", bad)
    # (No test asks for more than 2^32 * hLen bytes: under a mutant that raises the bound it
    # would allocate hundreds of GB before mutmut's time limit stops it.)
    # RFC 8017's bound is 2^32 * hLen bytes; a mask just above 2^32 / hLen (89 478 486 bytes,
    # about 1.9 million SHA-384 blocks) is allowed and ends with the block of its last counter.
    length = (1 << 32) // blind_rsa.HASH_LEN + 1
    mask = blind_rsa.mgf1(b"seed", length)
    last = (length - 1) // blind_rsa.HASH_LEN
    block = hashlib.sha384(b"seed" + last.to_bytes(4, "big")).digest()
    assert len(mask) == length
    assert mask[last * blind_rsa.HASH_LEN:] == block[:length - last * blind_rsa.HASH_LEN]


# --------------------------------------------------------------------------- key and verify messages


def test_key_type_messages(sk: IssuerPrivateKey) -> None:
    pk = sk.public_key()
    with pytest.raises(InvalidKey, match="^RSA modulus must be an integer$"):
        IssuerPublicKey(n=str(pk.n), e=pk.e)  # type: ignore[arg-type]
    with pytest.raises(InvalidKey, match="^RSA modulus must be an integer$"):
        IssuerPublicKey(n=True, e=pk.e)
    with pytest.raises(InvalidKey, match="^RSA exponent must be an integer$"):
        IssuerPublicKey(n=pk.n, e=float(pk.e))  # type: ignore[arg-type]
    with pytest.raises(InvalidKey, match="^expected an RSA private key$"):
        IssuerPrivateKey(Ed25519PrivateKey.generate())  # type: ignore[arg-type]
    short = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(InvalidKey, match="^issuer RSA key must be at least 2048 bits$"):
        IssuerPrivateKey(short)


def test_verify_out_of_range_message(sk: IssuerPrivateKey) -> None:
    pk = sk.public_key()
    for value in (pk.n, (1 << (8 * pk.modulus_len)) - 1):
        with pytest.raises(InvalidSignature, match="^signature representative out of range$"):
            verify(pk, b"msg", value.to_bytes(pk.modulus_len, "big"))
