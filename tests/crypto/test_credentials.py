"""Saylau anonymous credentials over RFC 9474 and Ed25519 ballot keys."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import blind_rsa
from crypto.blind_rsa import IssuerPrivateKey, IssuerPublicKey
from crypto.credentials import (
    CREDENTIAL_MESSAGE_DOMAIN,
    TOKEN_ID_DOMAIN,
    Credential,
    CredentialState,
    ballot_public_key_bytes,
    begin_credential,
    credential_message,
    finish_credential,
    generate_ballot_key,
    issue_blind_signature,
    sign_payload,
    verify_credential,
    verify_payload_signature,
)
from crypto.encoding import canonical_json
from crypto.errors import InvalidEncoding, InvalidSignature
from crypto.transcript import Transcript, tagged_hash

FIXTURE = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "issuer-test-key-2048.json").read_text())


@pytest.fixture(scope="module")
def sk() -> IssuerPrivateKey:
    assert FIXTURE["warning"].startswith("TEST KEY ONLY")
    return IssuerPrivateKey.from_pem(FIXTURE["private_key_pem"].encode())


@pytest.fixture(scope="module")
def pk(sk: IssuerPrivateKey) -> IssuerPublicKey:
    return sk.public_key()


def _issue(sk: IssuerPrivateKey, scope_id: str, bpk: bytes) -> Credential:
    pk = sk.public_key()
    blinded, state = begin_credential(pk, scope_id, bpk)
    return finish_credential(pk, state, issue_blind_signature(sk, blinded))


@pytest.fixture(scope="module")
def credential(sk: IssuerPrivateKey) -> Credential:
    return _issue(sk, "election-A", ballot_public_key_bytes(generate_ballot_key()))


def _flip(data: bytes, index: int = -1) -> bytes:
    out = bytearray(data)
    out[index] ^= 0x01
    return bytes(out)


# --------------------------------------------------------------------------- encodings


def test_credential_message_encoding() -> None:
    bpk = bytes(range(32))
    expected = (
        Transcript(CREDENTIAL_MESSAGE_DOMAIN)
        .bytes("scope_id", b"petition:42")
        .bytes("ballot_public_key", bpk)
        .digest()
    )
    assert credential_message("petition:42", bpk) == expected
    assert CREDENTIAL_MESSAGE_DOMAIN == "saylau/v1/credential-message"
    assert len(expected) == 32
    assert credential_message("petition:43", bpk) != expected
    assert credential_message("petition:42", _flip(bpk)) != expected


def test_credential_message_pinned() -> None:
    """Pinned by hand-built bytes so a second implementation can check itself."""
    import hashlib

    def field(kind: int, label: bytes, value: bytes) -> bytes:
        return (
            bytes([kind])
            + len(label).to_bytes(4, "big")
            + label
            + len(value).to_bytes(4, "big")
            + value
        )

    raw = (
        field(3, b"domain", b"saylau/v1/credential-message")
        + field(1, b"scope_id", b"election-1")
        + field(1, b"ballot_public_key", b"\x07" * 32)
    )
    assert credential_message("election-1", b"\x07" * 32) == hashlib.sha256(raw).digest()


def test_credential_message_rejects_bad_inputs() -> None:
    for bpk in (b"\x00" * 31, b"\x00" * 33, b""):
        with pytest.raises(InvalidEncoding):
            credential_message("e", bpk)
    with pytest.raises(InvalidEncoding):
        credential_message("", b"\x00" * 32)


# --------------------------------------------------------------------------- round trip


def test_full_round_trip(sk: IssuerPrivateKey, pk: IssuerPublicKey) -> None:
    ballot_key = generate_ballot_key()
    bpk = ballot_public_key_bytes(ballot_key)
    assert len(bpk) == 32
    blinded, state = begin_credential(pk, "election-A", bpk)
    assert isinstance(state, CredentialState)
    assert len(blinded) == pk.modulus_len
    assert "inv" not in repr(state) or str(state.inv) not in repr(state)
    blind_sig = issue_blind_signature(sk, blinded)
    cred = finish_credential(pk, state, blind_sig)
    assert cred.scope_id == "election-A" and cred.ballot_public_key == bpk
    assert len(cred.randomizer) == 32 and len(cred.signature) == pk.modulus_len
    assert cred.prepared_message == cred.randomizer + credential_message("election-A", bpk)
    verify_credential(pk, cred, "election-A")
    # The credential is a plain RFC 9474 RSABSSA-SHA384-PSS-Randomized signature.
    blind_rsa.verify(
        pk, cred.prepared_message, cred.signature, blind_rsa.RSABSSA_SHA384_PSS_RANDOMIZED
    )

    ballot = canonical_json({"scope": "election-A", "token_id": cred.token_id.hex()})
    sig = sign_payload(ballot_key, ballot)
    verify_payload_signature(cred.ballot_public_key, ballot, sig)


def test_blinded_message_hides_the_request(pk: IssuerPublicKey) -> None:
    bpk = ballot_public_key_bytes(generate_ballot_key())
    a, state_a = begin_credential(pk, "election-A", bpk)
    b, state_b = begin_credential(pk, "election-A", bpk)
    assert a != b and state_a.randomizer != state_b.randomizer


def test_json_round_trip(credential: Credential, pk: IssuerPublicKey) -> None:
    doc = credential.to_json()
    assert set(doc) == {"scope_id", "ballot_public_key", "randomizer", "signature"}
    again = Credential.from_json(json.loads(json.dumps(doc)))
    assert again == credential
    verify_credential(pk, again, "election-A")


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.pop("signature"),
        lambda d: d.update(scope_id=7),
        lambda d: d.update(scope_id=""),
        lambda d: d.update(randomizer=d["randomizer"][:-2]),
        lambda d: d.update(randomizer=d["randomizer"].upper()),
        lambda d: d.update(ballot_public_key=d["ballot_public_key"] + "00"),
        lambda d: d.update(signature="xyz"),
        lambda d: d.update(signature=""),
    ],
)
def test_from_json_rejects_malformed(credential: Credential, mutate: Any) -> None:
    doc = credential.to_json()
    mutate(doc)
    with pytest.raises(InvalidEncoding):
        Credential.from_json(doc)


def test_from_json_rejects_non_object() -> None:
    with pytest.raises(InvalidEncoding):
        Credential.from_json(["not", "an", "object"])


# --------------------------------------------------------------------------- token id


def test_token_id(credential: Credential, sk: IssuerPrivateKey) -> None:
    assert len(credential.token_id) == 32
    assert credential.token_id == credential.token_id
    assert credential.token_id == tagged_hash(
        TOKEN_ID_DOMAIN, ("prepared_message", credential.prepared_message)
    )
    assert TOKEN_ID_DOMAIN == "saylau/v1/token-id"
    # Deterministic: the same credential rebuilt from JSON has the same token id.
    assert Credential.from_json(credential.to_json()).token_id == credential.token_id
    # Distinct per credential, even for the same ballot key and scope.
    again = _issue(sk, credential.scope_id, credential.ballot_public_key)
    assert again.token_id != credential.token_id
    other = _issue(sk, credential.scope_id, ballot_public_key_bytes(generate_ballot_key()))
    assert len({credential.token_id, again.token_id, other.token_id}) == 3


def test_injected_randomness_reproduces(pk: IssuerPublicKey, sk: IssuerPrivateKey) -> None:
    bpk = b"\x05" * 32
    kwargs: dict[str, Any] = {"randomizer": b"\x01" * 32, "salt": b"\x02" * 48, "r": 12345}
    a, sa = begin_credential(pk, "e", bpk, **kwargs)
    b, sb = begin_credential(pk, "e", bpk, **kwargs)
    assert a == b and sa == sb
    ca = finish_credential(pk, sa, issue_blind_signature(sk, a))
    cb = finish_credential(pk, sb, issue_blind_signature(sk, b))
    assert ca.token_id == cb.token_id


# --------------------------------------------------------------------------- negatives


def test_scope_a_rejected_for_scope_b(credential: Credential, pk: IssuerPublicKey) -> None:
    with pytest.raises(InvalidSignature):
        verify_credential(pk, credential, "election-B")
    # Relabelling the credential does not help: the signature covers the scope.
    with pytest.raises(InvalidSignature):
        verify_credential(pk, replace(credential, scope_id="election-B"), "election-B")


def test_tampered_randomizer(credential: Credential, pk: IssuerPublicKey) -> None:
    for index in (0, 31):
        bad = replace(credential, randomizer=_flip(credential.randomizer, index))
        with pytest.raises(InvalidSignature):
            verify_credential(pk, bad, "election-A")


def test_tampered_public_key(credential: Credential, pk: IssuerPublicKey) -> None:
    bad = replace(credential, ballot_public_key=_flip(credential.ballot_public_key, 0))
    with pytest.raises(InvalidSignature):
        verify_credential(pk, bad, "election-A")
    swapped = replace(credential, ballot_public_key=ballot_public_key_bytes(generate_ballot_key()))
    with pytest.raises(InvalidSignature):
        verify_credential(pk, swapped, "election-A")


def test_tampered_signature(credential: Credential, pk: IssuerPublicKey) -> None:
    for index in (0, 100, -1):
        bad = replace(credential, signature=_flip(credential.signature, index))
        with pytest.raises(InvalidSignature):
            verify_credential(pk, bad, "election-A")
    for sig in (credential.signature[1:], credential.signature + b"\x00"):
        with pytest.raises(InvalidSignature):
            verify_credential(pk, replace(credential, signature=sig), "election-A")


def test_wrong_issuer(credential: Credential) -> None:
    other = IssuerPrivateKey.generate(bits=2048).public_key()
    with pytest.raises(InvalidSignature):
        verify_credential(other, credential, "election-A")


def test_tampered_blind_signature(sk: IssuerPrivateKey, pk: IssuerPublicKey) -> None:
    blinded, state = begin_credential(pk, "election-A", b"\x09" * 32)
    blind_sig = issue_blind_signature(sk, blinded)
    with pytest.raises(InvalidSignature):
        finish_credential(pk, state, _flip(blind_sig))
    with pytest.raises(InvalidEncoding):
        finish_credential(pk, state, blind_sig[1:])
    with pytest.raises(InvalidEncoding):
        issue_blind_signature(sk, pk.n.to_bytes(pk.modulus_len, "big"))


# --------------------------------------------------------------------------- Ed25519


@pytest.fixture(scope="module")
def signed_payload() -> tuple[bytes, bytes, bytes]:
    key = generate_ballot_key()
    payload = canonical_json({"question": "q1", "choice": ["00ff"]})
    return ballot_public_key_bytes(key), payload, sign_payload(key, payload)


def test_payload_signature(signed_payload: tuple[bytes, bytes, bytes]) -> None:
    bpk, payload, sig = signed_payload
    assert len(sig) == 64
    verify_payload_signature(bpk, payload, sig)


def test_payload_tampered(signed_payload: tuple[bytes, bytes, bytes]) -> None:
    bpk, payload, sig = signed_payload
    for bad_payload in (_flip(payload, 0), payload + b" ", payload[:-1]):
        with pytest.raises(InvalidSignature):
            verify_payload_signature(bpk, bad_payload, sig)
    for bad_sig in (_flip(sig, 0), _flip(sig, 63), sig[:-1], sig + b"\x00", b""):
        with pytest.raises(InvalidSignature):
            verify_payload_signature(bpk, payload, bad_sig)
    other = ballot_public_key_bytes(generate_ballot_key())
    with pytest.raises(InvalidSignature):
        verify_payload_signature(other, payload, sig)
    with pytest.raises(InvalidEncoding):
        verify_payload_signature(bpk[:31], payload, sig)


@settings(max_examples=20, deadline=None)
@given(payload=st.binary(max_size=300), index=st.integers(min_value=0, max_value=63))
def test_payload_signature_property(payload: bytes, index: int) -> None:
    key = generate_ballot_key()
    bpk = ballot_public_key_bytes(key)
    sig = sign_payload(key, payload)
    verify_payload_signature(bpk, payload, sig)
    with pytest.raises(InvalidSignature):
        verify_payload_signature(bpk, payload, _flip(sig, index))


def test_known_answers_in_spec() -> None:
    """The worked example of docs/sections/30-credentials.md."""
    msg = credential_message("election-1", b"\x07" * 32)
    assert msg.hex() == "ff98d57230b20ae43761d475394afe0030b171c7ea20249e061ce1459a787833"
    cred = Credential("election-1", b"\x07" * 32, b"\x01" * 32, b"\x00")
    assert cred.prepared_message == b"\x01" * 32 + msg
    assert cred.token_id.hex() == (
        "1fe6f79eacf0f6bdfc14aa3b717ef1eea9c0e193a3b98e100ef52aacae87f3f9"
    )
