"""Exact messages, boundaries and bindings of crypto/petition.py.

Written to kill the survivors of ``tools/mutate … 'crypto/petition.py'`` (docs/testing.md,
"Mutation testing", lists the mutants that remain and why they are equivalent).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable

import pytest

from crypto import paillier as P
from crypto.batch import ProofItem
from crypto.election import Option
from crypto.encoding import canonical_json
from crypto.errors import InvalidBallot, InvalidCiphertext, InvalidEncoding, InvalidProof
from crypto.petition import (
    DOMAIN_REGION,
    FINGERPRINT_DOMAIN,
    EncryptedSignature,
    PetitionParameters,
    check_signature,
    encrypt_signature,
    petition_fingerprint,
    region_context,
    signature_proof_item,
    verify_signature,
)
from crypto.proofs import verify_membership
from crypto.transcript import tagged_hash
from tests.keys import paillier_test_key

KEY = paillier_test_key()
PK = KEY.public
REGIONS = tuple(Option(f"r{i}", f"Region {i}") for i in range(3))
PARAMS = PetitionParameters("petition:9", "Clean rivers", REGIONS)
ISSUER = {"n": "ff", "e": "10001"}
FP = petition_fingerprint(PARAMS, PK.to_json(), ISSUER, bytes(32))
TOKEN = bytes([5]) * 32
ID_RULE = "identifiers are 1-64 characters of A-Z a-z 0-9 _ . : -"


def _exact(text: str) -> str:
    return "^" + re.escape(text) + "$"


def _regions(k: int) -> tuple[Option, ...]:
    return tuple(Option(f"r{i}", "x") for i in range(k))


# --- parameters ----------------------------------------------------------------------------


def test_parameter_bounds_and_messages() -> None:
    assert len(PetitionParameters("p", "t", _regions(64)).regions) == 64
    for k in (0, 65):
        with pytest.raises(InvalidEncoding, match=_exact("a petition needs 1..64 regions")):
            PetitionParameters("p", "t", _regions(k))
    with pytest.raises(InvalidEncoding, match=_exact("region ids must be unique")):
        PetitionParameters("p", "t", (Option("a", "A"), Option("a", "B")))
    for bits in (8, 64):
        assert PetitionParameters("p", "t", _regions(1), bits).base_bits == bits
    for bits in (7, 65):
        with pytest.raises(InvalidEncoding, match=_exact("base_bits must be 8..64")):
            PetitionParameters("p", "t", _regions(1), bits)
    with pytest.raises(InvalidEncoding, match=_exact(f"petition_id: {ID_RULE}")):
        PetitionParameters("no spaces", "t", _regions(1))
    assert PetitionParameters("p", "t", _regions(1)).base_bits == 32


def test_allowed_encode_and_unknown_region() -> None:
    params = PetitionParameters("p", "t", _regions(3), 8)
    assert params.region_ids == ("r0", "r1", "r2")
    assert params.allowed == (1, 256, 65536)
    assert [params.encode(r) for r in params.region_ids] == [1, 256, 65536]
    with pytest.raises(InvalidBallot, match=_exact("unknown region 'r3'")):
        params.encode("r3")


def test_key_size_bound_is_strict() -> None:
    params = PetitionParameters("p", "t", _regions(10), 8)  # R·b = 80
    params.check_key(P.PublicKey((1 << 81) + 1))  # 82 bits: 80 < 81
    with pytest.raises(InvalidEncoding, match=_exact("too many regions for this key size")):
        params.check_key(P.PublicKey((1 << 80) + 1))  # 81 bits: 80 = 81 − 1


def test_unpack_digits_and_overflow() -> None:
    params = PetitionParameters("p", "t", _regions(3), 8)
    assert params.unpack(0) == {"r0": 0, "r1": 0, "r2": 0}
    assert params.unpack(3 + 5 * 256 + 255 * 65536) == {"r0": 3, "r1": 5, "r2": 255}
    assert params.unpack((1 << 24) - 1) == {"r0": 255, "r1": 255, "r2": 255}
    with pytest.raises(InvalidEncoding, match=_exact("decrypted sum overflows the packed encoding")):
        params.unpack(1 << 24)


def test_parameters_json_and_field_errors() -> None:
    params = PetitionParameters("p", "t", _regions(2), 16)
    data = params.to_json()
    assert data == {"petition_id": "p", "title": "t", "base_bits": 16,
                    "regions": [{"id": "r0", "label": "x"}, {"id": "r1", "label": "x"}]}
    assert PetitionParameters.from_json(data) == params
    for field in ("regions", "petition_id", "title", "base_bits"):
        with pytest.raises(InvalidEncoding, match=_exact(f"petition: missing field {field!r}")):
            PetitionParameters.from_json({k: v for k, v in data.items() if k != field})
    with pytest.raises(InvalidEncoding, match=_exact(f"petition.regions[1].id: {ID_RULE}")):
        PetitionParameters.from_json({**data, "regions": [{"id": "a", "label": "A"},
                                                          {"id": "", "label": "B"}]})
    with pytest.raises(InvalidEncoding, match=_exact("petition.regions[0]: missing field 'label'")):
        PetitionParameters.from_json({**data, "regions": [{"id": "a"}]})


def test_fingerprint_formula_and_board_key_length() -> None:
    assert FINGERPRINT_DOMAIN == "saylau/v1/petition-fingerprint"
    ek = PK.to_json()
    assert petition_fingerprint(PARAMS, ek, ISSUER, bytes(32)) == tagged_hash(
        FINGERPRINT_DOMAIN, ("petition", canonical_json(PARAMS.to_json())),
        ("election_key", canonical_json(ek)), ("issuer_key", canonical_json(ISSUER)),
        ("board_key", bytes(32)))
    for size in (31, 33):
        with pytest.raises(InvalidEncoding, match=_exact("board public key must be 32 bytes (Ed25519)")):
            petition_fingerprint(PARAMS, ek, ISSUER, bytes(size))


# --- signatures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def signed() -> tuple[EncryptedSignature, int]:
    return encrypt_signature(PK, PARAMS, FP, TOKEN, "r1")


def test_signature_encrypts_the_region_under_its_context(signed: tuple[EncryptedSignature, int]) -> None:
    sig, r = signed
    assert (sig.petition_id, sig.token_id) == ("petition:9", TOKEN)
    assert P.encrypt(PK, 1 << 32, r)[0] == sig.ciphertext
    assert KEY.decrypt(sig.ciphertext) == 1 << 32
    assert region_context("petition:9", TOKEN) == (("petition_id", "petition:9"),
                                                   ("token_id", TOKEN.hex()))
    verify_membership(PK, sig.ciphertext, PARAMS.allowed, sig.proof, domain=DOMAIN_REGION,
                      fingerprint=FP, context=region_context("petition:9", TOKEN))
    assert DOMAIN_REGION == "saylau/v1/petition-region"
    assert signature_proof_item(PK, PARAMS, FP, sig, TOKEN) == ProofItem(
        sig.ciphertext, PARAMS.allowed, sig.proof)
    check_signature(PK, PARAMS, FP, sig, TOKEN)


def _seeded(seed: bytes) -> Callable[[int], int]:
    counter = [0]

    def draw(n: int) -> int:
        counter[0] += 1
        return int.from_bytes(hashlib.sha512(seed + counter[0].to_bytes(8, "big")).digest() * 5, "big") % n

    return draw


def test_injected_rng_makes_the_signature_deterministic() -> None:
    """Both the encryption's ``r`` and the proof's draws come from the injected ``rng``."""
    one = encrypt_signature(PK, PARAMS, FP, TOKEN, "r2", rng=_seeded(b"x"))
    assert one == encrypt_signature(PK, PARAMS, FP, TOKEN, "r2", rng=_seeded(b"x"))
    verify_signature(PK, PARAMS, FP, one[0], TOKEN)
    assert one[0].ciphertext != encrypt_signature(PK, PARAMS, FP, TOKEN, "r2", rng=_seeded(b"y"))[0].ciphertext


def test_encrypt_signature_checks(signed: tuple[EncryptedSignature, int]) -> None:
    for size in (31, 33):
        with pytest.raises(InvalidEncoding, match=_exact("token id must be 32 bytes")):
            encrypt_signature(PK, PARAMS, FP, bytes(size), "r0")
    too_many = PetitionParameters("p", "t", _regions(32))  # 32·32 = 1024 ≥ 1023
    with pytest.raises(InvalidEncoding, match=_exact("too many regions for this key size")):
        encrypt_signature(PK, too_many, FP, TOKEN, "r0")
    with pytest.raises(InvalidEncoding, match=_exact("too many regions for this key size")):
        verify_signature(PK, too_many, FP, signed[0], TOKEN)


def test_signature_json_round_trip_and_field_errors(signed: tuple[EncryptedSignature, int]) -> None:
    sig = signed[0]
    data = sig.to_json()
    assert set(data) == {"petition_id", "token_id", "region"}
    assert data["token_id"] == TOKEN.hex()
    assert set(data["region"]) == {"ciphertext", "proof"}
    assert EncryptedSignature.from_json(data) == sig
    for field, message in (("region", "signature: missing field 'region'"),
                           ("petition_id", "signature: missing field 'petition_id'"),
                           ("token_id", "signature: missing field 'token_id'")):
        with pytest.raises(InvalidEncoding, match=_exact(message)):
            EncryptedSignature.from_json({k: v for k, v in data.items() if k != field})
    with pytest.raises(InvalidEncoding, match=_exact("signature.token_id: expected 32 bytes, got 1")):
        EncryptedSignature.from_json({**data, "token_id": "00"})
    region = data["region"]
    with pytest.raises(InvalidEncoding, match=_exact("signature.region: missing field 'ciphertext'")):
        EncryptedSignature.from_json({**data, "region": {"proof": region["proof"]}})
    with pytest.raises(InvalidEncoding, match=_exact("signature.region: missing field 'proof'")):
        EncryptedSignature.from_json({**data, "region": {"ciphertext": region["ciphertext"]}})
    with pytest.raises(InvalidEncoding, match=_exact("ciphertext: expected canonical lowercase hex")):
        EncryptedSignature.from_json({**data, "region": {**region, "ciphertext": "0x1"}})
    with pytest.raises(InvalidEncoding, match=_exact("proof.e: bad length")):
        EncryptedSignature.from_json({**data, "region": {**region, "proof": {**region["proof"], "e": []}}})


def test_shape_messages(signed: tuple[EncryptedSignature, int]) -> None:
    sig = signed[0]
    other = dataclasses.replace(PARAMS, petition_id="petition:10")
    with pytest.raises(InvalidBallot, match=_exact("signature is for another petition")):
        verify_signature(PK, other, FP, sig, TOKEN)
    with pytest.raises(InvalidBallot, match=_exact("signature token id does not match the credential")):
        signature_proof_item(PK, PARAMS, FP, sig, bytes(32))
    bad_c = dataclasses.replace(sig, ciphertext=PK.n)
    for check in (verify_signature, signature_proof_item, check_signature):
        with pytest.raises(InvalidCiphertext, match=_exact("region ciphertext: ciphertext is not in Z*_{n^2}")):
            check(PK, PARAMS, FP, bad_c, TOKEN)


def test_proof_messages(signed: tuple[EncryptedSignature, int]) -> None:
    sig = signed[0]
    challenge = _exact("region proof: challenges do not sum to the Fiat–Shamir challenge")
    for check in (verify_signature, signature_proof_item, check_signature):
        with pytest.raises(InvalidProof, match=challenge):
            check(PK, PARAMS, bytes(32), sig, TOKEN)  # another fingerprint
    moved = dataclasses.replace(sig, token_id=bytes(32))
    with pytest.raises(InvalidProof, match=challenge):
        signature_proof_item(PK, PARAMS, FP, moved, bytes(32))
    with pytest.raises(InvalidProof, match=challenge):
        verify_signature(PK, dataclasses.replace(PARAMS, petition_id="petition:10"), FP,
                         dataclasses.replace(sig, petition_id="petition:10"), TOKEN)
    z = sig.proof.z
    bad = dataclasses.replace(sig, proof=dataclasses.replace(sig.proof, z=z[:-1] + (z[-1] * 5 % PK.n,)))
    equation = _exact("region proof: verification equation z^n = ±a·u^e fails")
    with pytest.raises(InvalidProof, match=equation):
        verify_signature(PK, PARAMS, FP, bad, TOKEN)
    with pytest.raises(InvalidProof, match=equation):
        check_signature(PK, PARAMS, FP, bad, TOKEN)
    assert signature_proof_item(PK, PARAMS, FP, bad, TOKEN).proof == bad.proof  # powers not checked
