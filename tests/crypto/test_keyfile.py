"""Trustee share files (crypto.keyfile): Argon2id + AES-256-GCM round trip and tampering."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from crypto.errors import DecryptionError, InvalidEncoding
from crypto.keyfile import FAST_TEST_KDF, KdfParams, decrypt_share, encrypt_share, load_share_file
from crypto.threshold import KeyShare

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "threshold-test-key-1024-3of5.json"
SHARE = KeyShare.from_json(json.loads(FIXTURE.read_text(encoding="utf-8"))["shares"][1])
PASS = "correct horse battery staple"


@pytest.fixture(scope="module")
def sealed() -> dict:
    return encrypt_share(SHARE, PASS, kdf=FAST_TEST_KDF)


def test_round_trip(sealed: dict) -> None:
    assert decrypt_share(json.loads(json.dumps(sealed)), PASS) == SHARE
    assert load_share_file(json.dumps(sealed), PASS) == SHARE


def test_file_format_has_no_plain_share(sealed: dict) -> None:
    text = json.dumps(sealed)
    assert format(SHARE.s, "x") not in text
    assert sealed["format"] == "saylau-trustee-share/v1"
    assert sealed["index"] == 2
    assert sealed["public_key_fingerprint"] == SHARE.public.fingerprint().hex()
    assert sealed["kdf"]["name"] == "argon2id" and sealed["kdf"]["memory_cost"] == 8
    assert len(bytes.fromhex(sealed["aead"]["nonce"])) == 12


def test_default_kdf_parameters() -> None:
    assert KdfParams() == KdfParams(time_cost=3, memory_cost=65536, parallelism=1)


def test_fresh_salt_and_nonce(sealed: dict) -> None:
    other = encrypt_share(SHARE, PASS, kdf=FAST_TEST_KDF)
    assert other["kdf"]["salt"] != sealed["kdf"]["salt"]
    assert other["aead"]["nonce"] != sealed["aead"]["nonce"]


def test_wrong_passphrase(sealed: dict) -> None:
    with pytest.raises(DecryptionError):
        decrypt_share(sealed, PASS + "!")
    with pytest.raises(DecryptionError):
        decrypt_share(sealed, "")


def test_flipped_ciphertext_byte(sealed: dict) -> None:
    for position in (0, len(sealed["ciphertext"]) // 2 - 1, len(sealed["ciphertext"]) // 2 - 20):
        bad = copy.deepcopy(sealed)
        raw = bytearray(bytes.fromhex(bad["ciphertext"]))
        raw[position] ^= 0x01
        bad["ciphertext"] = raw.hex()
        with pytest.raises(DecryptionError):
            decrypt_share(bad, PASS)


@pytest.mark.parametrize(
    "path, value",
    [
        (("index",), 3),
        (("public_key_fingerprint",), "00" * 32),
        (("kdf", "time_cost"), 2),
        (("kdf", "salt"), "11" * 16),
        (("aead", "nonce"), "22" * 12),
    ],
)
def test_header_tampering(sealed: dict, path: tuple[str, ...], value: object) -> None:
    bad = copy.deepcopy(sealed)
    target = bad
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(DecryptionError):
        decrypt_share(bad, PASS)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda o: o.__setitem__("format", "saylau-trustee-share/v0"),
        lambda o: o.pop("ciphertext"),
        lambda o: o.__setitem__("ciphertext", "zz"),
        lambda o: o.__setitem__("ciphertext", "00" * 8),
        lambda o: o["aead"].__setitem__("nonce", "00" * 11),
        lambda o: o["aead"].__setitem__("name", "chacha20-poly1305"),
        lambda o: o["kdf"].__setitem__("name", "scrypt"),
        lambda o: o["kdf"].__setitem__("memory_cost", 1 << 40),
        lambda o: o["kdf"].__setitem__("time_cost", 0),
        lambda o: o["kdf"].__setitem__("extra", 1),
        lambda o: o.__setitem__("extra", 1),
        lambda o: o.__setitem__("index", "2"),
    ],
)
def test_malformed_files(sealed: dict, mutate) -> None:
    bad = copy.deepcopy(sealed)
    mutate(bad)
    with pytest.raises(InvalidEncoding):
        decrypt_share(bad, PASS)


def test_not_json() -> None:
    with pytest.raises(InvalidEncoding):
        load_share_file("{not json", PASS)
    with pytest.raises(InvalidEncoding):
        decrypt_share([], PASS)


def test_empty_passphrase_refused_when_sealing() -> None:
    with pytest.raises(InvalidEncoding):
        encrypt_share(SHARE, "", kdf=FAST_TEST_KDF)
