"""Exact messages, ``where`` prefixes and bounds of crypto/blind_rsa.py and crypto/credentials.py.

Written to kill the survivors of ``mutmut run 'crypto.blind_rsa.*' 'crypto.credentials.*'``
(docs/testing.md lists those that remain and why).
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crypto import blind_rsa
from crypto.blind_rsa import (
    RSABSSA_SHA384_PSS_DETERMINISTIC,
    IssuerPrivateKey,
    IssuerPublicKey,
    blind,
    blind_sign,
    finalize,
    prepare,
    verify,
)
from crypto.credentials import (
    Credential,
    ballot_public_key_bytes,
    begin_credential,
    finish_credential,
    generate_ballot_key,
    issue_blind_signature,
    verify_credential,
    verify_payload_signature,
)
from crypto.encoding import int_to_fixed, int_to_hex
from crypto.errors import InvalidEncoding, InvalidKey, InvalidSignature

FIXTURE = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "issuer-test-key-2048.json")
                     .read_text())


def _exact(text: str) -> str:
    return "^" + re.escape(text) + "$"


@pytest.fixture(scope="module")
def sk() -> IssuerPrivateKey:
    return IssuerPrivateKey.from_pem(FIXTURE["private_key_pem"].encode())


def test_public_key_pem_and_cryptography(sk: IssuerPrivateKey) -> None:
    pk = sk.public_key()
    loaded = serialization.load_pem_public_key(pk.to_pem())
    assert loaded.public_numbers().n == pk.n  # type: ignore[union-attr]
    assert pk.to_pem().startswith(b"-----BEGIN PUBLIC KEY-----")
    assert IssuerPublicKey.from_cryptography(sk.cryptography_key.public_key()) == pk
    assert IssuerPublicKey.from_cryptography(loaded) == IssuerPublicKey(n=pk.n, e=pk.e)  # type: ignore[arg-type]


def test_public_key_json_names_the_field(sk: IssuerPrivateKey) -> None:
    pk = sk.public_key()
    j = pk.to_json()
    cases = [
        ({**j, "n": 5}, "issuer_public_key.n: expected str"),
        ({**j, "n": "0x1"}, "issuer_public_key.n: expected canonical lowercase hex"),
        ({**j, "e": 5}, "issuer_public_key.e: expected str"),
        ({**j, "e": "01"}, "issuer_public_key.e: expected canonical lowercase hex"),
    ]
    for obj, message in cases:
        with pytest.raises(InvalidEncoding, match=_exact(message)):
            IssuerPublicKey.from_json(obj)
    assert IssuerPublicKey.from_json({"n": int_to_hex(pk.n), "e": int_to_hex(pk.e)}) == pk


def test_private_key_messages() -> None:
    with pytest.raises(InvalidKey, match=_exact("issuer RSA key must be at least 2048 bits")):
        IssuerPrivateKey.generate(1024)
    with pytest.raises(InvalidKey, match=_exact("cannot load issuer private key PEM")):
        IssuerPrivateKey.from_pem(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    ed_pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    with pytest.raises(InvalidKey, match=_exact("PEM does not hold an RSA private key")):
        IssuerPrivateKey.from_pem(ed_pem)


def test_prepare_messages() -> None:
    with pytest.raises(InvalidEncoding, match=_exact("deterministic variants take no randomizer")):
        prepare(b"m", RSABSSA_SHA384_PSS_DETERMINISTIC, randomizer=b"\x00" * 32)
    assert len(prepare(b"m")) == 33


def test_blind_refuses_a_non_invertible_encoding(sk: IssuerPrivateKey,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    pk = sk.public_key()
    p = sk.cryptography_key.private_numbers().p
    monkeypatch.setattr(blind_rsa, "emsa_pss_encode",
                        lambda msg, bits, salt: int_to_fixed(p, pk.modulus_len))
    with pytest.raises(InvalidEncoding, match=_exact("encoded message is not invertible modulo n")):
        blind(pk, prepare(b"m"))


def test_blind_sign_and_finalize_messages(sk: IssuerPrivateKey,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    pk = sk.public_key()
    k = pk.modulus_len
    with pytest.raises(InvalidEncoding,
                       match=_exact("blinded message representative out of range (z >= n)")):
        blind_sign(sk, int_to_fixed(pk.n, k))
    msg = prepare(b"m")
    blinded, inv = blind(pk, msg)
    with pytest.raises(InvalidEncoding, match=_exact("blind signature out of range (>= n)")):
        finalize(pk, msg, int_to_fixed(pk.n, k), inv)
    for bad_inv in (0, pk.n):
        with pytest.raises(InvalidEncoding, match=_exact("blinding inverse out of range")):
            finalize(pk, msg, blind_sign(sk, blinded), bad_inv)
    real = IssuerPrivateKey._rsasp1
    monkeypatch.setattr(IssuerPrivateKey, "_rsasp1", lambda self, m: real(self, m) ^ 1)
    with pytest.raises(InvalidSignature, match=_exact("blind signing failure: s^e != z (mod n)")):
        blind_sign(sk, blinded)


def test_blinding_factor_one_gives_inverse_one(sk: IssuerPrivateKey) -> None:
    pk = sk.public_key()
    msg = prepare(b"m")
    blinded, inv = blind(pk, msg, r=1)
    assert inv == 1
    sig = finalize(pk, msg, blind_sign(sk, blinded), inv)
    verify(pk, msg, sig)


def _credential(sk: IssuerPrivateKey, scope: str = "election-A") -> Credential:
    pk = sk.public_key()
    blinded, state = begin_credential(pk, scope, ballot_public_key_bytes(generate_ballot_key()))
    return finish_credential(pk, state, issue_blind_signature(sk, blinded))


def test_credential_messages(sk: IssuerPrivateKey) -> None:
    cred = _credential(sk)
    j = cred.to_json()
    cases = [
        ({**j, "scope_id": 5}, "credential.scope_id: expected str"),
        ({**j, "ballot_public_key": 5}, "credential.ballot_public_key: expected str"),
        ({**j, "ballot_public_key": "00"}, "credential.ballot_public_key: expected 32 bytes, got 1"),
        ({**j, "randomizer": 5}, "credential.randomizer: expected str"),
        ({**j, "randomizer": "00"}, "credential.randomizer: expected 32 bytes, got 1"),
        ({**j, "signature": 5}, "credential.signature: expected str"),
        ({**j, "signature": "XY"}, "credential.signature: expected lowercase hex bytes"),
        ([], "credential: expected a JSON object"),
    ]
    for obj, message in cases:
        with pytest.raises(InvalidEncoding, match=_exact(message)):
            Credential.from_json(obj)
    with pytest.raises(InvalidEncoding, match=_exact("scope_id must be a non-empty string")):
        replace(cred, scope_id="")
    with pytest.raises(InvalidEncoding, match=_exact("signature must be non-empty bytes")):
        replace(cred, signature=b"")
    with pytest.raises(InvalidSignature, match=_exact("credential was issued for another scope")):
        verify_credential(sk.public_key(), cred, "election-B")


def test_payload_signature_message() -> None:
    key = generate_ballot_key()
    bpk = ballot_public_key_bytes(key)
    sig = key.sign(b"payload")
    verify_payload_signature(bpk, b"payload", sig)
    with pytest.raises(InvalidSignature, match=_exact("ballot payload signature does not verify")):
        verify_payload_signature(bpk, b"payload!", sig)
