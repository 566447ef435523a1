"""Tests written for mutants that survived `make mutation` (docs/testing.md).

Each test pins behaviour that no other test in the fast crypto subset observed: error
messages that name the field, key generation at the test floor, the JSON forms of a
decryption proof, the helpers ``encrypt_with_rn`` and ``L``.
"""

from __future__ import annotations

import pytest

from crypto import paillier as P
from crypto.errors import InvalidEncoding, InvalidKey
from crypto.proofs import DecryptionProof, MembershipProof, prove_decryption, verify_decryption
from tests.keys import paillier_test_key

KEY = paillier_test_key()
PK = KEY.public
FP = bytes(32)


# --------------------------------------------------------------------------- paillier


def test_generate_keypair_at_the_test_floor() -> None:
    key = P.generate_keypair(1024, allow_test_key=True)
    assert key.public.bits == 1024 and key.p * key.q == key.public.n
    c, _ = P.encrypt(key.public, 12345)
    assert key.decrypt(c) == 12345
    with pytest.raises(InvalidKey, match=r"refusing to generate a 1022-bit Paillier key \(minimum 1024\)"):
        P.generate_keypair(1022, allow_test_key=True)
    with pytest.raises(InvalidKey, match=r"refusing to generate a 2046-bit Paillier key \(minimum 2048\)"):
        P.generate_keypair(2046)


@pytest.mark.parametrize("missing", ["n", "p", "q"])
def test_private_key_json_names_the_missing_field(missing: str) -> None:
    obj = KEY.to_json()
    assert P.PrivateKey.from_json(obj) == KEY
    del obj[missing]
    with pytest.raises(InvalidEncoding, match=f"paillier private key: missing field '{missing}'"):
        P.PrivateKey.from_json(obj)


@pytest.mark.parametrize("bad", ["n", "p", "q"])
def test_private_key_json_names_the_malformed_field(bad: str) -> None:
    obj = KEY.to_json()
    obj[bad] = "0x" + obj[bad]
    with pytest.raises(InvalidEncoding, match=f"^{bad}: expected canonical lowercase hex"):
        P.PrivateKey.from_json(obj)


def test_public_key_json_names_the_field() -> None:
    with pytest.raises(InvalidEncoding, match="paillier public key: missing field 'n'"):
        P.PublicKey.from_json({})
    with pytest.raises(InvalidEncoding, match="^n: expected canonical lowercase hex"):
        P.PublicKey.from_json({"n": "FF"})
    with pytest.raises(InvalidKey, match="Paillier modulus too small"):
        P.PublicKey.from_json({"n": format((1 << 1022) + 1, "x")})
    assert P.PublicKey.from_json({"n": format((1 << 1023) + 1, "x")}).bits == 1024


def test_encrypt_with_rn_and_L() -> None:
    r = 987654321
    rn = pow(r, PK.n, PK.nsquare)
    c = P.encrypt_with_rn(PK, 7, rn)
    assert c == P.encrypt(PK, 7, r)[0]
    assert KEY.decrypt(c) == 7
    assert P.L(1 + 5 * PK.n, PK.n) == 5
    assert P.L(1, PK.n) == 0
    big = P.L(1 + (PK.n - 1) * PK.n, PK.n)
    assert type(big) is int and big == PK.n - 1  # exact integer division, not a float


def test_random_unit_redraws_until_a_unit() -> None:
    draws = iter([0, KEY.p, 2 * KEY.q, 5])
    assert P.random_unit(PK.n, lambda bound: next(draws)) == 5


def test_add_randomness_and_add_of_nothing() -> None:
    assert P.add(PK) == 1
    assert P.add_randomness(PK) == 1
    assert P.add_randomness(PK, PK.n - 1, PK.n - 1) == 1


# --------------------------------------------------------------------------- decryption proof JSON


def test_decryption_proof_json_round_trip() -> None:
    c, _ = P.encrypt(PK, 3)
    dec = prove_decryption(KEY, c, fingerprint=FP, context=(("x", "y"),))
    obj = dec.to_json()
    assert set(obj) == {"m", "proof"} and obj["m"] == "3"
    assert set(obj["proof"]) == {"a", "e", "z"}
    again = DecryptionProof.from_json(obj)
    assert again == dec
    assert verify_decryption(PK, c, again, fingerprint=FP, context=(("x", "y"),)) == 3


@pytest.mark.parametrize("mutate,message", [
    (lambda o: o.pop("m"), "decryption: missing field 'm'"),
    (lambda o: o.__setitem__("m", 3), r"decryption\.m: expected str"),
    (lambda o: o.__setitem__("m", "03"), "^m: expected canonical lowercase hex"),
    (lambda o: o.pop("proof"), "decryption: missing field 'proof'"),
    (lambda o: o["proof"].pop("z"), "proof: missing field 'z'"),
    (lambda o: o["proof"].__setitem__("e", []), r"proof\.e: bad length"),
    (lambda o: o["proof"].__setitem__("a", ["G"]), r"proof\.a: expected canonical lowercase hex"),
])
def test_decryption_proof_json_rejects(mutate, message) -> None:
    c, _ = P.encrypt(PK, 3)
    obj = prove_decryption(KEY, c, fingerprint=FP, context=()).to_json()
    mutate(obj)
    with pytest.raises(InvalidEncoding, match=message):
        DecryptionProof.from_json(obj)


def test_membership_proof_json_limits() -> None:
    ok = {"a": ["1"] * 1024, "e": ["1"] * 1024, "z": ["1"] * 1024}
    assert len(MembershipProof.from_json(ok).a) == 1024
    with pytest.raises(InvalidEncoding, match=r"^proof\.a: bad length"):
        MembershipProof.from_json({"a": ["1"] * 1025, "e": ["1"], "z": ["1"]})
    with pytest.raises(InvalidEncoding, match=r"^sig\.z: bad length"):
        MembershipProof.from_json({"a": ["1"], "e": ["1"], "z": []}, where="sig")


def test_public_key_boundary_and_exact_messages() -> None:
    assert P.PublicKey(3).nsquare == 9  # the smallest odd modulus the type accepts
    for n in (1, 2, 4, -3):
        with pytest.raises(InvalidKey, match="^Paillier modulus must be an odd integer$"):
            P.PublicKey(n)
    with pytest.raises(InvalidKey, match="^p·q does not equal n$"):
        P.PrivateKey(PK, KEY.p, KEY.p)
    with pytest.raises(InvalidKey, match="^Paillier modulus too small$"):
        P.PublicKey.from_json({"n": "ff"})
    with pytest.raises(InvalidKey, match="^Paillier modulus of 1024 bits is below 2048 bits$"):
        PK.check_strength()
