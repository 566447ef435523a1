"""Typed negative tests for crypto.keyfile (docs/protocol.md §4.5), each naming its check.

The header/content consistency check: a file sealed correctly (valid AEAD tag under the
right passphrase) whose authenticated header names another index or another public
key than the share inside must be refused.  Such a file is built here by hand with
Argon2id + AES-GCM, as a careless or malicious dealer would.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from argon2.low_level import Type, hash_secret_raw
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from crypto.encoding import canonical_json
from crypto.errors import DecryptionError, InvalidEncoding
from crypto.keyfile import FAST_TEST_KDF, decrypt_share, encrypt_share
from crypto.threshold import KeyShare

DOC = json.loads((Path(__file__).parents[1] / "fixtures" / "threshold-test-key-1024-3of5.json").read_text())
SHARES = [KeyShare.from_json(s) for s in DOC["shares"]]
PASS = "pass phrase"
SALT, NONCE = bytes(range(16)), bytes(range(12))


def _seal_by_hand(content: bytes, index: int, fingerprint_hex: str) -> dict:
    kdf = {"name": "argon2id", "version": 19, "salt": SALT.hex(), "time_cost": 1,
           "memory_cost": 8, "parallelism": 1, "hash_len": 32}
    header = {"format": "saylau-trustee-share/v1", "index": index,
              "public_key_fingerprint": fingerprint_hex, "kdf": kdf}
    key = hash_secret_raw(PASS.encode(), SALT, time_cost=1, memory_cost=8, parallelism=1,
                          hash_len=32, type=Type.ID, version=19)
    sealed = AESGCM(key).encrypt(NONCE, content, canonical_json(header))
    return {**header, "aead": {"name": "aes-256-gcm", "nonce": NONCE.hex()}, "ciphertext": sealed.hex()}


def test_hand_sealed_consistent_file_opens() -> None:
    share = SHARES[1]
    obj = _seal_by_hand(canonical_json(share.to_json()), 2, share.public.fingerprint().hex())
    assert decrypt_share(obj, PASS) == share


def test_header_index_differs_from_content() -> None:
    share = SHARES[1]
    obj = _seal_by_hand(canonical_json(share.to_json()), 3, share.public.fingerprint().hex())
    with pytest.raises(DecryptionError, match="^share file header does not match its content$"):
        decrypt_share(obj, PASS)


def test_header_fingerprint_differs_from_content() -> None:
    share = SHARES[1]
    obj = _seal_by_hand(canonical_json(share.to_json()), 2, "ab" * 32)
    with pytest.raises(DecryptionError, match="^share file header does not match its content$"):
        decrypt_share(obj, PASS)


@pytest.mark.parametrize("content", [b"not json", b"{}", b'{"index": 2}', b"\xff\xfe"])
def test_content_not_a_share(content: bytes) -> None:
    obj = _seal_by_hand(content, 2, SHARES[1].public.fingerprint().hex())
    with pytest.raises(DecryptionError, match="^share file content is not a valid key share$"):
        decrypt_share(obj, PASS)


@pytest.fixture(scope="module")
def sealed() -> dict:
    return encrypt_share(SHARES[0], PASS, kdf=FAST_TEST_KDF)


def test_wrong_passphrase_named(sealed) -> None:
    with pytest.raises(DecryptionError, match="wrong passphrase or the share file was altered"):
        decrypt_share(sealed, PASS + "x")


@pytest.mark.parametrize("path,value,message", [
    (("kdf", "time_cost"), 0, "kdf.time_cost out of range"),
    (("kdf", "time_cost"), 65, "kdf.time_cost out of range"),
    (("kdf", "time_cost"), -1, "kdf.time_cost out of range"),
    (("kdf", "parallelism"), 0, "kdf.parallelism out of range"),
    (("kdf", "parallelism"), 17, "kdf.parallelism out of range"),
    (("kdf", "memory_cost"), 7, "kdf.memory_cost out of range"),
    (("kdf", "memory_cost"), 4 * 1024 * 1024 + 1, "kdf.memory_cost out of range"),
    (("kdf", "version"), 16, "unsupported Argon2 version"),
    (("kdf", "hash_len"), 16, "hash_len must be 32"),
    (("kdf", "name"), "argon2i", "only argon2id"),
    (("kdf", "salt"), "00" * 15, "kdf.salt"),
    (("aead", "name"), "aes-128-gcm", "only aes-256-gcm"),
    (("aead", "nonce"), "00" * 13, "aead.nonce"),
    (("format",), "saylau-trustee-share/v2", "unknown format"),
    (("public_key_fingerprint",), "00" * 31, "public_key_fingerprint"),
    (("ciphertext",), "00" * 15, "ciphertext too short"),
])
def test_tampered_kdf_and_header_named(sealed, path, value, message) -> None:
    bad = copy.deepcopy(sealed)
    target = bad
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(InvalidEncoding, match=message):
        decrypt_share(bad, PASS)


@pytest.mark.parametrize("path,value", [
    (("kdf", "time_cost"), 2), (("kdf", "memory_cost"), 16), (("kdf", "salt"), "11" * 16),
    (("index",), 2), (("public_key_fingerprint",), "00" * 32), (("aead", "nonce"), "22" * 12),
])
def test_authenticated_header_changes_named(sealed, path, value) -> None:
    bad = copy.deepcopy(sealed)
    target = bad
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(DecryptionError, match="wrong passphrase or the share file was altered"):
        decrypt_share(bad, PASS)


def test_unexpected_fields_named(sealed) -> None:
    bad = copy.deepcopy(sealed)
    bad["kdf"]["extra"] = 1
    with pytest.raises(InvalidEncoding, match="kdf: unexpected fields"):
        decrypt_share(bad, PASS)
    bad = dict(sealed, extra=1)
    with pytest.raises(InvalidEncoding, match="trustee share file: unexpected fields"):
        decrypt_share(bad, PASS)
