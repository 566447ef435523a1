"""Unit tests of crypto/roll.py: roll entries, the roll commitment, signed credential
requests and the verifier checks V-R1..V-R3, each failure with its typed error and message.

Written to kill the mutants of ``mutmut run 'crypto.roll.*'`` (docs/testing.md).
"""

from __future__ import annotations

import functools
import re

import pytest
from cryptography.exceptions import InvalidSignature as PycaInvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, x25519
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crypto.encoding import canonical_json
from crypto.errors import CryptoError, InvalidEncoding, InvalidSignature
from crypto.merkle import root_hash
from crypto.roll import (
    CredentialRequest,
    RollCheckFailed,
    RollCommitment,
    RollEntry,
    SignedRequest,
    check_requests,
    check_roll,
    count_problems,
    load_spki,
    national_id_hash,
    request_problems,
    roll_problems,
    roll_root,
    sign_request,
    spki_der,
    verify_request,
)
from crypto.transcript import tagged_hash

ID = b"\x11" * 32
ID2 = b"\x22" * 32


def _exact(text: str) -> str:
    return "^" + re.escape(text) + "$"


@functools.cache
def _rsa(bits: int) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


@functools.cache
def _ec(curve_name: str) -> ec.EllipticCurvePrivateKey:
    curve = {"p256": ec.SECP256R1(), "p384": ec.SECP384R1(), "p521": ec.SECP521R1()}[curve_name]
    return ec.generate_private_key(curve)


def _ed_raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw,
                                         serialization.PublicFormat.Raw)


def _ed_entries(n: int) -> tuple[list[Ed25519PrivateKey], list[RollEntry]]:
    keys = [Ed25519PrivateKey.generate() for _ in range(n)]
    return keys, [RollEntry(i, "ed25519", _ed_raw(k)) for i, k in enumerate(keys)]


def _request(index: int = 0, election: str = "e1", blinded: bytes = b"\x05" * 8,
             period: str = "2026-03-01") -> CredentialRequest:
    return CredentialRequest(election, index, blinded, period)


# --------------------------------------------------------------------------- RollEntry


def test_entry_index_must_be_a_non_negative_int() -> None:
    key = b"\x01" * 32
    for bad in (-1, True, "0", 1.0):
        with pytest.raises(InvalidEncoding,
                           match=_exact("roll entry index must be a non-negative integer")):
            RollEntry(bad, "ed25519", key)  # type: ignore[arg-type]
    assert RollEntry(0, "ed25519", key).index == 0


def test_entry_kind_and_key_length() -> None:
    with pytest.raises(InvalidEncoding,
                       match=_exact("roll entry kind must be one of ('ed25519', 'x509')")):
        RollEntry(0, "rsa", b"\x01" * 32)
    for length in (0, 31, 33):
        with pytest.raises(InvalidEncoding, match=_exact("an ed25519 roll key is 32 raw bytes")):
            RollEntry(0, "ed25519", b"\x01" * length)
    with pytest.raises(InvalidEncoding,
                       match=_exact("only x509 roll entries carry an id_hash")):
        RollEntry(0, "ed25519", b"\x01" * 32, ID)


def test_x509_entry_needs_a_valid_spki_and_a_32_byte_id_hash() -> None:
    spki = spki_der(_ec("p256").public_key())
    entry = RollEntry(3, "x509", spki, ID)
    assert (entry.index, entry.kind, entry.public_key, entry.id_hash) == (3, "x509", spki, ID)
    with pytest.raises(InvalidEncoding, match=_exact("not a DER SubjectPublicKeyInfo")):
        RollEntry(0, "x509", b"\x30\x00", ID)
    for bad in (None, b"\x11" * 31, b"\x11" * 33):
        with pytest.raises(InvalidEncoding,
                           match=_exact("an x509 roll entry needs a 32-byte id_hash")):
            RollEntry(0, "x509", spki, bad)


def test_entry_json_and_leaf() -> None:
    raw = bytes(range(32))
    entry = RollEntry(2, "ed25519", raw)
    expected = {"index": 2, "kind": "ed25519", "public_key": raw.hex(), "id_hash": None}
    assert entry.to_json() == expected
    assert RollEntry.from_json(expected) == entry
    assert entry.leaf == tagged_hash("saylau/v1/roll-entry", ("entry", canonical_json(expected)))
    spki = spki_der(_ec("p256").public_key())
    x = RollEntry(0, "x509", spki, ID)
    xj = {"index": 0, "kind": "x509", "public_key": spki.hex(), "id_hash": ID.hex()}
    assert x.to_json() == xj
    assert RollEntry.from_json(xj) == x
    assert x.leaf == tagged_hash("saylau/v1/roll-entry", ("entry", canonical_json(xj)))


def test_entry_from_json_names_the_field() -> None:
    good = {"index": 0, "kind": "x509", "public_key": spki_der(_ec("p256").public_key()).hex(),
            "id_hash": ID.hex()}
    with pytest.raises(InvalidEncoding, match=_exact("roll entry: missing field 'index'")):
        RollEntry.from_json({k: v for k, v in good.items() if k != "index"})
    with pytest.raises(InvalidEncoding, match=_exact("roll entry: missing field 'kind'")):
        RollEntry.from_json({k: v for k, v in good.items() if k != "kind"})
    with pytest.raises(InvalidEncoding, match=_exact("roll entry: missing field 'id_hash'")):
        RollEntry.from_json({k: v for k, v in good.items() if k != "id_hash"})
    with pytest.raises(InvalidEncoding,
                       match=_exact("roll entry.public_key: expected lowercase hex bytes")):
        RollEntry.from_json({**good, "public_key": "XY"})
    with pytest.raises(InvalidEncoding,
                       match=_exact("roll entry.public_key: expected str")):
        RollEntry.from_json({**good, "public_key": 5})
    with pytest.raises(InvalidEncoding, match=_exact("roll entry.id_hash: expected 32 bytes, got 31")):
        RollEntry.from_json({**good, "id_hash": (b"\x11" * 31).hex()})
    with pytest.raises(InvalidEncoding, match=_exact("entry 7.id_hash: expected 32 bytes, got 1")):
        RollEntry.from_json({**good, "id_hash": "11"}, "entry 7")


# --------------------------------------------------------------------------- keys


def test_load_spki_accepts_rsa_2048_and_p256_p384() -> None:
    for key in (_rsa(2048), _ec("p256"), _ec("p384")):
        loaded = load_spki(spki_der(key.public_key()))
        assert spki_der(loaded) == spki_der(key.public_key())


def test_load_spki_rejects_small_rsa_other_curves_and_garbage() -> None:
    with pytest.raises(InvalidEncoding, match=_exact("RSA roll keys must have at least 2048 bits")):
        load_spki(spki_der(_rsa(1024).public_key()))
    unsupported = _exact("x509 roll keys must be RSA or ECDSA P-256/P-384 (GOST is not supported)")
    with pytest.raises(InvalidEncoding, match=unsupported):
        load_spki(spki_der(_ec("p521").public_key()))
    with pytest.raises(InvalidEncoding, match=unsupported):
        load_spki(spki_der(Ed25519PrivateKey.generate().public_key()))
    for bad in (b"", b"\x30\x03\x02\x01\x01", bytearray(b"junk")):
        with pytest.raises(InvalidEncoding, match=_exact("not a DER SubjectPublicKeyInfo")):
            load_spki(bad)  # type: ignore[arg-type]


def test_spki_der_is_der_subject_public_key_info() -> None:
    pub = _ec("p256").public_key()
    der = spki_der(pub)
    assert isinstance(der, bytes)
    assert der == pub.public_bytes(serialization.Encoding.DER,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)


# --------------------------------------------------------------------------- roll root, commitment


def test_roll_root_is_the_merkle_root_of_the_leaves() -> None:
    _, entries = _ed_entries(3)
    assert roll_root(entries) == root_hash([e.leaf for e in entries])
    assert roll_root([]) == root_hash([])
    swapped = [entries[1], entries[0], entries[2]]
    with pytest.raises(InvalidEncoding, match=_exact("roll entry 0 has index 1")):
        roll_root(swapped)
    with pytest.raises(InvalidEncoding, match=_exact("roll entry 2 has index 1")):
        roll_root([entries[0], entries[1], entries[1]])


def test_commitment_checks_mode_size_and_root() -> None:
    with pytest.raises(InvalidEncoding, match=_exact("roll mode must be one of ('enrolled', 'pki')")):
        RollCommitment("open", 1, b"\x00" * 32)
    for size, root in ((-1, b"\x00" * 32), (1, b"\x00" * 31), (1, b"\x00" * 33)):
        with pytest.raises(InvalidEncoding, match=_exact("roll commitment: bad size or root")):
            RollCommitment("pki", size, root)
    assert RollCommitment("enrolled", 0, b"\x00" * 32).size == 0


def test_commitment_json_and_of() -> None:
    _, entries = _ed_entries(2)
    c = RollCommitment.of("enrolled", entries)
    assert (c.mode, c.size, c.root) == ("enrolled", 2, roll_root(entries))
    j = {"mode": "enrolled", "size": 2, "root": roll_root(entries).hex()}
    assert c.to_json() == j
    assert RollCommitment.from_json(j) == c
    with pytest.raises(InvalidEncoding, match=_exact("roll: missing field 'mode'")):
        RollCommitment.from_json({"size": 2, "root": j["root"]})
    with pytest.raises(InvalidEncoding, match=_exact("roll.size: expected int")):
        RollCommitment.from_json({**j, "size": "2"})
    with pytest.raises(InvalidEncoding, match=_exact("roll.root: expected 32 bytes, got 1")):
        RollCommitment.from_json({**j, "root": "00"})
    with pytest.raises(InvalidEncoding, match=_exact("roll.root: expected str")):
        RollCommitment.from_json({**j, "root": 5})
    with pytest.raises(InvalidEncoding, match=_exact("r.root: expected 32 bytes, got 1")):
        RollCommitment.from_json({**j, "root": "00"}, "r")


def test_national_id_hash_known_answer() -> None:
    salt = bytes(range(32))
    expected = tagged_hash("saylau/v1/national-id", ("salt", salt), ("id", b"870412300123"))
    assert national_id_hash(salt, "870412300123") == expected
    assert national_id_hash(bytearray(salt), "870412300123") == expected  # type: ignore[arg-type]
    assert national_id_hash(salt, "870412300124") != expected


# --------------------------------------------------------------------------- requests


def test_request_fields_are_checked() -> None:
    with pytest.raises(InvalidEncoding,
                       match=_exact("request.election_id must be a non-empty string")):
        _request(election="")
    with pytest.raises(InvalidEncoding,
                       match=_exact("request.election_id must be a non-empty string")):
        CredentialRequest(b"e1", 0, b"\x01", "p1")  # type: ignore[arg-type]
    for bad in (-1, True, "0"):
        with pytest.raises(InvalidEncoding,
                           match=_exact("request.roll_index must be a non-negative integer")):
            _request(index=bad)  # type: ignore[arg-type]
    assert _request(index=0).roll_index == 0
    for bad_blinded in (b"", "05", bytearray(b"\x05")):
        with pytest.raises(InvalidEncoding,
                           match=_exact("request.blinded_message must be non-empty bytes")):
            _request(blinded=bad_blinded)  # type: ignore[arg-type]
    period_msg = _exact("request.period must be a coarse period (a date or a period id, 1-32 of "
                        "[A-Za-z0-9._-], no time of day)")
    for bad_period in ("", "a" * 33, "2026-03-01 10:00", "2026-03-01T10", "12:30", "a b", 5):
        with pytest.raises(InvalidEncoding, match=period_msg):
            _request(period=bad_period)  # type: ignore[arg-type]
    for good_period in ("2026-03-01", "a" * 32, "p.1_x-Y"):
        assert _request(period=good_period).period == good_period


def test_request_json_and_message() -> None:
    req = _request(4, "elec", b"\xab\xcd", "p7")
    j = {"election_id": "elec", "roll_index": 4, "blinded_message": "abcd", "period": "p7"}
    assert req.to_json() == j
    assert CredentialRequest.from_json(j) == req
    assert req.message() == tagged_hash("saylau/v1/credential-request",
                                        ("request", canonical_json(j)))
    with pytest.raises(InvalidEncoding, match=_exact(
            "request: expected exactly election_id, roll_index, blinded_message, period")):
        CredentialRequest.from_json({**j, "extra": 1})
    with pytest.raises(InvalidEncoding, match=_exact(
            "req 2: expected exactly election_id, roll_index, blinded_message, period")):
        CredentialRequest.from_json({k: v for k, v in j.items() if k != "period"}, "req 2")
    with pytest.raises(InvalidEncoding, match=_exact("request: expected a JSON object")):
        CredentialRequest.from_json([1])
    with pytest.raises(InvalidEncoding, match=_exact("request.roll_index: expected int")):
        CredentialRequest.from_json({**j, "roll_index": "4"})
    with pytest.raises(InvalidEncoding,
                       match=_exact("request.blinded_message: expected lowercase hex bytes")):
        CredentialRequest.from_json({**j, "blinded_message": "ABCD"})
    with pytest.raises(InvalidEncoding, match=_exact("request.blinded_message: expected str")):
        CredentialRequest.from_json({**j, "blinded_message": 5})
    with pytest.raises(InvalidEncoding, match=_exact("request.period: expected str")):
        CredentialRequest.from_json({**j, "period": 5})


def test_signed_request_json() -> None:
    key = Ed25519PrivateKey.generate()
    signed = sign_request(key, _request())
    j = signed.to_json()
    assert j == {"request": _request().to_json(), "signature": signed.signature.hex()}
    assert SignedRequest.from_json(j) == signed
    with pytest.raises(InvalidEncoding,
                       match=_exact("signed request: expected exactly request and signature")):
        SignedRequest.from_json({**j, "x": 1})
    with pytest.raises(InvalidEncoding, match=_exact("signed request: expected a JSON object")):
        SignedRequest.from_json([])
    with pytest.raises(InvalidEncoding, match=_exact(
            "signed request: expected exactly election_id, roll_index, blinded_message, period")):
        SignedRequest.from_json({**j, "request": {**j["request"], "x": 1}})
    with pytest.raises(InvalidEncoding,
                       match=_exact("signed request.signature: expected str")):
        SignedRequest.from_json({**j, "signature": 7})
    with pytest.raises(InvalidEncoding,
                       match=_exact("signed request.signature: expected lowercase hex bytes")):
        SignedRequest.from_json({**j, "signature": "XY"})
    for length in (0, 1025):
        with pytest.raises(InvalidEncoding, match=_exact("s.signature: 1..1024 bytes")):
            SignedRequest.from_json({**j, "signature": "ab" * length}, "s")
    for length in (1, 1024):
        assert len(SignedRequest.from_json({**j, "signature": "ab" * length}).signature) == length


def test_sign_request_uses_the_documented_algorithms() -> None:
    req = _request()
    m = req.message()
    ed = Ed25519PrivateKey.generate()
    ed_sig = sign_request(ed, req)
    assert ed_sig.request == req
    ed.public_key().verify(ed_sig.signature, m)
    r = _rsa(2048)
    r_sig = sign_request(r, req)
    r.public_key().verify(r_sig.signature, m, padding.PKCS1v15(), hashes.SHA256())
    e = _ec("p256")
    e_sig = sign_request(e, req)
    e.public_key().verify(e_sig.signature, m, ec.ECDSA(hashes.SHA256()))
    with pytest.raises(InvalidEncoding,
                       match=_exact("unsupported signing key (Ed25519, RSA or ECDSA)")):
        sign_request(x25519.X25519PrivateKey.generate(), req)


def _x509_entry(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, index: int = 0) -> RollEntry:
    return RollEntry(index, "x509", spki_der(key.public_key()), ID)


def test_verify_request_each_kind() -> None:
    req = _request(0)
    bad = _exact("credential request signature does not verify against its roll key")
    keys: list[Ed25519PrivateKey | rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey] = [
        Ed25519PrivateKey.generate(), _rsa(2048), _ec("p256"), _ec("p384")]
    for key in keys:
        entry = (RollEntry(0, "ed25519", _ed_raw(key)) if isinstance(key, Ed25519PrivateKey)
                 else _x509_entry(key))
        signed = sign_request(key, req)
        verify_request(entry, signed)
        tampered = SignedRequest(_request(0, period="2026-03-02"), signed.signature)
        with pytest.raises(InvalidSignature, match=bad):
            verify_request(entry, tampered)
        flipped = bytes([signed.signature[0] ^ 1]) + signed.signature[1:]
        with pytest.raises(InvalidSignature, match=bad):
            verify_request(entry, SignedRequest(req, flipped))
    # An ECDSA signature over SHA-384 is not the documented SHA-256 one.
    e = _ec("p256")
    wrong_hash = e.sign(req.message(), ec.ECDSA(hashes.SHA384()))
    with pytest.raises(InvalidSignature, match=bad):
        verify_request(_x509_entry(e), SignedRequest(req, wrong_hash))
    # A PSS RSA signature is not PKCS#1 v1.5.
    r = _rsa(2048)
    pss = r.sign(req.message(), padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
    with pytest.raises(InvalidSignature, match=bad):
        verify_request(_x509_entry(r), SignedRequest(req, pss))
    with pytest.raises(PycaInvalidSignature):
        r.public_key().verify(pss, req.message(), padding.PKCS1v15(), hashes.SHA256())


def test_verify_request_checks_the_roll_position() -> None:
    keys, entries = _ed_entries(2)
    signed = sign_request(keys[1], _request(1))
    verify_request(entries[1], signed)
    with pytest.raises(InvalidSignature, match=_exact("request names another roll position")):
        verify_request(entries[0], signed)
    # Signed by the right key for position 0 but naming position 1.
    other = sign_request(keys[0], _request(1))
    with pytest.raises(InvalidSignature, match=_exact("request names another roll position")):
        verify_request(entries[0], other)


# --------------------------------------------------------------------------- V-R1


def test_roll_problems_accepts_a_good_roll() -> None:
    _, entries = _ed_entries(3)
    assert roll_problems(entries, RollCommitment.of("enrolled", entries)) == []
    check_roll(entries, RollCommitment.of("enrolled", entries))
    xs = [_x509_entry(_ec("p256"), 0), RollEntry(1, "x509", spki_der(_ec("p384").public_key()), ID2)]
    assert roll_problems(xs, RollCommitment.of("pki", xs)) == []
    assert roll_problems([], RollCommitment.of("pki", [])) == []


def test_roll_problems_without_a_commitment() -> None:
    _, entries = _ed_entries(1)
    expected = ["the election has no voter roll: credentials were issued on the operator's "
                "word alone"]
    assert roll_problems(entries, None) == expected
    with pytest.raises(RollCheckFailed, match=_exact(expected[0])) as info:
        check_roll(entries, None)
    assert info.value.problems == expected
    assert isinstance(info.value, CryptoError)


def test_roll_problems_lists_every_fault() -> None:
    keys, entries = _ed_entries(2)
    dup = RollEntry(2, "ed25519", entries[0].public_key)
    dup2 = RollEntry(3, "ed25519", entries[0].public_key)
    misplaced = RollEntry(9, "ed25519", _ed_raw(Ed25519PrivateKey.generate()))
    roll = [*entries, dup, dup2, misplaced]
    commitment = RollCommitment("enrolled", 4, roll_root(entries[:1]))
    expected = [
        "roll entry 2: the key of entry 0 again",
        "roll entry 3: the key of entry 0 again",
        "roll entry 4 has index 9",
        "the roll has 5 entries; the fingerprint binds 4",
    ]
    assert roll_problems(roll, commitment) == expected
    with pytest.raises(RollCheckFailed, match=_exact("; ".join(expected))) as info:
        check_roll(roll, commitment)
    assert info.value.problems == expected


def test_roll_problems_kind_must_match_the_mode() -> None:
    _, entries = _ed_entries(1)
    assert roll_problems(entries, RollCommitment.of("pki", entries)) == [
        "roll entry 0: kind ed25519 in pki mode"]
    xs = [_x509_entry(_ec("p256"))]
    assert roll_problems(xs, RollCommitment.of("enrolled", xs)) == [
        "roll entry 0: kind x509 in enrolled mode"]


def test_roll_problems_duplicate_id_hashes() -> None:
    xs = [RollEntry(0, "x509", spki_der(_ec("p256").public_key()), ID),
          RollEntry(1, "x509", spki_der(_ec("p384").public_key()), ID),
          RollEntry(2, "x509", spki_der(_rsa(2048).public_key()), ID)]
    assert roll_problems(xs, RollCommitment.of("pki", xs)) == [
        "roll entry 1: the id hash of entry 0 again",
        "roll entry 2: the id hash of entry 0 again",
    ]


def test_roll_problems_root_checked_only_when_all_else_holds() -> None:
    _, entries = _ed_entries(2)
    wrong_root = RollCommitment("enrolled", 2, roll_root(entries[:1]))
    assert roll_problems(entries, wrong_root) == [
        "the roll's Merkle root differs from the one bound in the fingerprint"]
    swapped = RollCommitment("enrolled", 2, roll_root([RollEntry(0, "ed25519", entries[1].public_key),
                                                      RollEntry(1, "ed25519", entries[0].public_key)]))
    assert roll_problems(entries, swapped) == [
        "the roll's Merkle root differs from the one bound in the fingerprint"]


# --------------------------------------------------------------------------- V-R2, V-R3


def test_request_problems_accepts_good_requests() -> None:
    keys, entries = _ed_entries(3)
    requests = [sign_request(keys[i], _request(i)) for i in (2, 0)]
    assert request_problems(entries, requests, "e1", 8) == []
    check_requests(entries, requests, "e1", 8, issued=2, tokens=2)
    check_requests(entries, requests, "e1", 8, issued=2, tokens=0)


def test_request_problems_lists_every_fault() -> None:
    keys, entries = _ed_entries(2)
    requests = [
        sign_request(keys[0], _request(0, election="other")),
        sign_request(keys[1], _request(1, blinded=b"\x05" * 7)),
        sign_request(keys[1], _request(2)),               # beyond the roll (2 entries)
        sign_request(keys[1], _request(5)),
        sign_request(keys[1], _request(1)),               # second request of key 1
        sign_request(keys[0], _request(1)),               # third request of key 1, bad signature
    ]
    assert request_problems(entries, requests, "e1", 8) == [
        "request 0: for election 'other'",
        "request 1: blinded_message is not 8 bytes",
        "request 2: roll_index 2 is not on the roll (2 entries)",
        "request 3: roll_index 5 is not on the roll (2 entries)",
        "request 4: a second request from roll key 1 (first: request 1)",
        "request 5: a second request from roll key 1 (first: request 1)",
        "request 5: credential request signature does not verify against its roll key",
    ]


def test_request_problems_report_a_bad_key_as_a_problem() -> None:
    # An entry whose key cannot be loaded (built without __post_init__) is reported, not raised.
    entry = object.__new__(RollEntry)
    object.__setattr__(entry, "index", 0)
    object.__setattr__(entry, "kind", "x509")
    object.__setattr__(entry, "public_key", b"\x30\x00")
    object.__setattr__(entry, "id_hash", ID)
    signed = SignedRequest(_request(0), b"\x01" * 64)
    assert request_problems([entry], [signed], "e1", 8) == [
        "request 0: not a DER SubjectPublicKeyInfo"]


def test_count_problems_boundaries() -> None:
    assert count_problems(3, 3, 3, 3) == []
    assert count_problems(3, 2, 2, 0) == []
    assert count_problems(0, 0, 0, 0) == []
    assert count_problems(3, 2, 1, 0) == [
        "issuance.count is 1 but 2 signed requests are published"]
    assert count_problems(3, 4, 4, 1) == ["4 signed requests for a roll of 3 keys"]
    assert count_problems(3, 2, 2, 3) == ["3 credentials voted but only 2 signed requests"]
    assert count_problems(1, 2, 3, 4) == [
        "issuance.count is 3 but 2 signed requests are published",
        "2 signed requests for a roll of 1 keys",
        "4 credentials voted but only 2 signed requests",
    ]


def test_check_requests_joins_request_and_count_problems() -> None:
    keys, entries = _ed_entries(2)
    requests = [sign_request(keys[0], _request(0, election="x"))]
    expected = ["request 0: for election 'x'",
                "issuance.count is 2 but 1 signed requests are published",
                "2 credentials voted but only 1 signed requests"]
    with pytest.raises(RollCheckFailed, match=_exact("; ".join(expected))) as info:
        check_requests(entries, requests, "e1", 8, issued=2, tokens=2)
    assert info.value.problems == expected
    good = [sign_request(keys[0], _request(0))]
    with pytest.raises(RollCheckFailed,
                       match=_exact("2 credentials voted but only 1 signed requests")):
        check_requests(entries, good, "e1", 8, issued=1, tokens=2)
