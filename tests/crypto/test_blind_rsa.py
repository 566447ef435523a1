"""RFC 9474 blind RSA signatures: the four published vectors, round trips, tampering."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import gmpy2
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import blind_rsa
from crypto.blind_rsa import (
    DEFAULT_VARIANT,
    VARIANTS,
    IssuerPrivateKey,
    IssuerPublicKey,
    Variant,
    blind,
    blind_sign,
    emsa_pss_encode,
    finalize,
    prepare,
    verify,
)
from crypto.errors import InvalidEncoding, InvalidKey, InvalidSignature

HERE = Path(__file__).resolve().parents[1]
VECTORS: list[dict[str, str]] = json.loads(
    (HERE / "vectors" / "rfc9474-test-vectors.json").read_text()
)["vectors"]
FIXTURE = json.loads((HERE / "fixtures" / "issuer-test-key-2048.json").read_text())


def _vector_key(v: dict[str, str]) -> IssuerPrivateKey:
    p, q, d, e, n = (int(v[k], 16) for k in ("p", "q", "d", "e", "n"))
    numbers = rsa.RSAPrivateNumbers(
        p,
        q,
        d,
        rsa.rsa_crt_dmp1(d, p),
        rsa.rsa_crt_dmq1(d, q),
        rsa.rsa_crt_iqmp(p, q),
        rsa.RSAPublicNumbers(e, n),
    )
    return IssuerPrivateKey(numbers.private_key())


@pytest.fixture(scope="module")
def sk() -> IssuerPrivateKey:
    assert FIXTURE["warning"].startswith("TEST KEY ONLY")
    return IssuerPrivateKey.from_pem(FIXTURE["private_key_pem"].encode())


@pytest.fixture(scope="module")
def other_sk() -> IssuerPrivateKey:
    return _vector_key(VECTORS[0])


def _flip(data: bytes, index: int = -1) -> bytes:
    out = bytearray(data)
    out[index] ^= 0x01
    return bytes(out)


# --------------------------------------------------------------------------- vectors


def test_vector_file_keeps_source_and_all_variants() -> None:
    doc = json.loads((HERE / "vectors" / "rfc9474-test-vectors.json").read_text())
    assert "RFC 9474" in doc["source"]
    assert {v["variant"] for v in VECTORS} == set(VARIANTS)


@pytest.mark.parametrize("v", VECTORS, ids=[v["variant"] for v in VECTORS])
def test_rfc9474_vector(v: dict[str, str]) -> None:
    raw = {k: bytes.fromhex(x) for k, x in v.items() if k not in ("variant",)}
    variant = VARIANTS[v["variant"]]
    sk = _vector_key(v)
    pk = sk.public_key()
    assert pk.n == int(v["n"], 16) and pk.e == int(v["e"], 16)

    prepared = prepare(raw["msg"], variant, randomizer=raw["msg_prefix"] or None)
    assert prepared == raw["prepared_msg"]
    assert emsa_pss_encode(prepared, pk.bits - 1, raw["salt"]) == raw["encoded_msg"]

    inv = int(v["inv"], 16)
    r = int(gmpy2.invert(inv, pk.n))
    blinded, got_inv = blind(pk, prepared, variant, salt=raw["salt"], r=r)
    assert blinded == raw["blinded_msg"]
    assert got_inv == inv

    blind_sig = blind_sign(sk, blinded)
    assert blind_sig == raw["blind_sig"]

    sig = finalize(pk, prepared, blind_sig, inv, variant)
    assert sig == raw["sig"]
    verify(pk, raw["prepared_msg"], raw["sig"], variant)

    with pytest.raises(InvalidSignature):
        verify(pk, _flip(raw["prepared_msg"]), raw["sig"], variant)
    with pytest.raises(InvalidSignature):
        verify(pk, raw["prepared_msg"], _flip(raw["sig"]), variant)


def test_vectors_reject_the_other_salt_length() -> None:
    """PSS (sLen = 48) and PSSZERO (sLen = 0) signatures are not interchangeable."""
    by_name = {v["variant"]: v for v in VECTORS}
    v = by_name["RSABSSA-SHA384-PSS-Deterministic"]
    pk = _vector_key(v).public_key()
    with pytest.raises(InvalidSignature):
        verify(
            pk,
            bytes.fromhex(v["prepared_msg"]),
            bytes.fromhex(v["sig"]),
            VARIANTS["RSABSSA-SHA384-PSSZERO-Deterministic"],
        )


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("variant", list(VARIANTS.values()), ids=list(VARIANTS))
def test_round_trip_every_variant(sk: IssuerPrivateKey, variant: Variant) -> None:
    pk = sk.public_key()
    prepared = prepare(b"hello saylau", variant)
    assert len(prepared) == len(b"hello saylau") + (32 if variant.randomized else 0)
    blinded, inv = blind(pk, prepared, variant)
    assert len(blinded) == pk.modulus_len
    sig = finalize(pk, prepared, blind_sign(sk, blinded), inv, variant)
    verify(pk, prepared, sig, variant)


def test_randomized_prepare_and_blinding_are_fresh(sk: IssuerPrivateKey) -> None:
    pk = sk.public_key()
    a, b = prepare(b"m"), prepare(b"m")
    assert a != b and a[32:] == b[32:] == b"m"
    assert blind(pk, a)[0] != blind(pk, a)[0]


@settings(max_examples=10, deadline=None)
@given(msg=st.binary(max_size=200))
def test_round_trip_property(sk: IssuerPrivateKey, msg: bytes) -> None:
    pk = sk.public_key()
    prepared = prepare(msg)
    blinded, inv = blind(pk, prepared)
    sig = finalize(pk, prepared, blind_sign(sk, blinded), inv)
    verify(pk, prepared, sig)
    with pytest.raises(InvalidSignature):
        verify(pk, prepared + b"x", sig)


# --------------------------------------------------------------------------- negatives


@pytest.fixture(scope="module")
def signed(sk: IssuerPrivateKey) -> tuple[bytes, bytes, int, bytes]:
    pk = sk.public_key()
    prepared = prepare(b"ballot key message")
    blinded, inv = blind(pk, prepared)
    blind_sig = blind_sign(sk, blinded)
    return prepared, blind_sig, inv, finalize(pk, prepared, blind_sig, inv)


def test_tampered_message(sk: IssuerPrivateKey, signed: tuple[bytes, bytes, int, bytes]) -> None:
    prepared, blind_sig, inv, sig = signed
    pk = sk.public_key()
    for index in (0, 31, 32, -1):
        with pytest.raises(InvalidSignature):
            verify(pk, _flip(prepared, index), sig)
    with pytest.raises(InvalidSignature):
        finalize(pk, _flip(prepared), blind_sig, inv)


def test_tampered_signature(sk: IssuerPrivateKey, signed: tuple[bytes, bytes, int, bytes]) -> None:
    prepared, blind_sig, inv, sig = signed
    pk = sk.public_key()
    for index in (0, 100, -1):
        with pytest.raises(InvalidSignature):
            verify(pk, prepared, _flip(sig, index))
    with pytest.raises(InvalidSignature):
        finalize(pk, prepared, _flip(blind_sig), inv)
    with pytest.raises(InvalidSignature):
        finalize(pk, prepared, blind_sig, inv + 1)


def test_wrong_key(
    sk: IssuerPrivateKey, other_sk: IssuerPrivateKey, signed: tuple[bytes, bytes, int, bytes]
) -> None:
    prepared, _, _, sig = signed
    with pytest.raises(InvalidSignature):
        verify(other_sk.public_key(), prepared, sig)
    # A 2048-bit blinded message signed by another 2048-bit key does not finalize.  The
    # blinding is redrawn until the blinded message is below both moduli and the wrong
    # blind signature below ours, so that every run reaches the signature check.
    pk = sk.public_key()
    other = IssuerPrivateKey.generate(bits=2048)
    bound = min(pk.n, other.public_key().n)
    for _ in range(200):
        blinded, inv = blind(pk, prepared)
        if int.from_bytes(blinded, "big") < bound:
            wrong = blind_sign(other, blinded)
            if int.from_bytes(wrong, "big") < pk.n:
                break
    else:  # pragma: no cover - probability below 2^-100
        raise AssertionError("no blinding below both moduli in 200 draws")
    with pytest.raises(InvalidSignature, match="signature does not verify"):
        finalize(pk, prepared, wrong, inv)


def test_signature_of_wrong_length(
    sk: IssuerPrivateKey, signed: tuple[bytes, bytes, int, bytes]
) -> None:
    prepared, blind_sig, inv, sig = signed
    pk = sk.public_key()
    for bad in (sig[1:], sig + b"\x00", b"\x00" + sig, b""):
        with pytest.raises(InvalidSignature):
            verify(pk, prepared, bad)
    with pytest.raises(InvalidEncoding):
        finalize(pk, prepared, blind_sig[1:], inv)
    with pytest.raises(InvalidEncoding):
        finalize(pk, prepared, b"\x00" + blind_sig, inv)


def test_signature_not_below_n(
    sk: IssuerPrivateKey, signed: tuple[bytes, bytes, int, bytes]
) -> None:
    prepared, _, inv, _ = signed
    pk = sk.public_key()
    big = (pk.n).to_bytes(pk.modulus_len, "big")
    with pytest.raises(InvalidSignature):
        verify(pk, prepared, big)
    with pytest.raises(InvalidEncoding):
        finalize(pk, prepared, big, inv)


def test_blinded_message_out_of_range(sk: IssuerPrivateKey) -> None:
    pk = sk.public_key()
    for z in (pk.n, pk.n + 1, (1 << (8 * pk.modulus_len)) - 1):
        with pytest.raises(InvalidEncoding):
            blind_sign(sk, z.to_bytes(pk.modulus_len, "big"))
    with pytest.raises(InvalidEncoding):
        blind_sign(sk, b"\x01" * (pk.modulus_len - 1))
    with pytest.raises(InvalidEncoding):
        blind_sign(sk, b"\x01" * (pk.modulus_len + 1))


def test_blind_sign_checks_its_result(
    sk: IssuerPrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A faulty exponentiation (Bellcore/Lenstra CRT fault) is caught by s^e == z."""
    pk = sk.public_key()
    blinded, _ = blind(pk, prepare(b"m"))
    real = IssuerPrivateKey._rsasp1
    monkeypatch.setattr(IssuerPrivateKey, "_rsasp1", lambda self, m: real(self, m) ^ 1)
    with pytest.raises(InvalidSignature):
        blind_sign(sk, blinded)


def test_injected_randomness_is_validated(sk: IssuerPrivateKey) -> None:
    pk = sk.public_key()
    with pytest.raises(InvalidEncoding):
        prepare(b"m", randomizer=b"\x00" * 31)
    with pytest.raises(InvalidEncoding):
        blind(pk, b"m", salt=b"\x00" * 47)
    with pytest.raises(InvalidEncoding):
        blind(pk, b"m", VARIANTS["RSABSSA-SHA384-PSSZERO-Randomized"], salt=b"\x00")
    for r in (0, pk.n, pk.n + 5):
        with pytest.raises(InvalidEncoding):
            blind(pk, b"m", r=r)


def test_emsa_pss_encode_shape() -> None:
    em = emsa_pss_encode(b"abc", 2047, b"\x11" * 48)
    assert len(em) == 256 and em[-1] == 0xBC and em[0] < 0x80
    with pytest.raises(InvalidEncoding):
        emsa_pss_encode(b"abc", 8 * (48 + 48 + 1), b"\x00" * 48)


def test_mgf1_matches_definition() -> None:
    seed = b"seed"
    expected = (
        hashlib.sha384(seed + b"\x00\x00\x00\x00").digest()
        + hashlib.sha384(seed + b"\x00\x00\x00\x01").digest()
    )
    assert blind_rsa.mgf1(seed, 60) == expected[:60]
    assert blind_rsa.mgf1(seed, 0) == b""


# --------------------------------------------------------------------------- keys


def test_generate_refuses_short_keys() -> None:
    with pytest.raises(InvalidKey):
        IssuerPrivateKey.generate(bits=1024)
    short = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(InvalidKey):
        IssuerPrivateKey(short)
    with pytest.raises(InvalidKey):
        IssuerPublicKey(n=short.public_key().public_numbers().n, e=65537)


def test_default_bits() -> None:
    assert blind_rsa.DEFAULT_BITS == 3072
    assert DEFAULT_VARIANT.name == "RSABSSA-SHA384-PSS-Randomized"


def test_pem_round_trip(sk: IssuerPrivateKey) -> None:
    again = IssuerPrivateKey.from_pem(sk.to_pem())
    assert again.public_key() == sk.public_key()
    locked = sk.to_pem(password=b"correct horse")
    assert (
        IssuerPrivateKey.from_pem(locked, password=b"correct horse").public_key() == sk.public_key()
    )
    with pytest.raises(InvalidKey):
        IssuerPrivateKey.from_pem(locked, password=b"wrong")
    with pytest.raises(InvalidKey):
        IssuerPrivateKey.from_pem(b"not a pem")
    assert "PRIVATE" not in repr(sk) and str(sk.public_key().bits) in repr(sk)


def test_public_key_json(sk: IssuerPrivateKey) -> None:
    pk = sk.public_key()
    doc = pk.to_json()
    assert doc == FIXTURE["public_key"] and doc["e"] == "10001"
    assert IssuerPublicKey.from_json(json.loads(json.dumps(doc))) == pk
    bad: list[Any] = [
        {"n": doc["n"]},
        {"n": doc["n"], "e": 65537},
        {"n": doc["n"].upper(), "e": "10001"},
        {"n": "0" + doc["n"], "e": "10001"},
        {"n": doc["n"], "e": "2"},
        {"n": "ff", "e": "10001"},
        [],
    ]
    for obj in bad:
        with pytest.raises(InvalidEncoding):
            IssuerPublicKey.from_json(obj)


def test_fingerprint_is_sha256_of_spki(sk: IssuerPrivateKey) -> None:
    pk = sk.public_key()
    der = sk.cryptography_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert pk.fingerprint() == hashlib.sha256(der).digest()
    assert pk.fingerprint().hex() == FIXTURE["fingerprint"]
    assert pk.fingerprint() != _vector_key(VECTORS[0]).public_key().fingerprint()
