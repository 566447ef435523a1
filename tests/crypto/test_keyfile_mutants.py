"""Every message and bound of crypto/keyfile.py, anchored (``^…$``), so that a mutant that
changes the text, the ``where`` prefix or a bound is noticed.

Written to kill the survivors of ``mutmut run 'crypto.keyfile.*'`` (docs/testing.md).
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from crypto.errors import DecryptionError, InvalidEncoding
from crypto.keyfile import (
    FAST_TEST_KDF,
    MAX_MEMORY_COST,
    MAX_PARALLELISM,
    MAX_TIME_COST,
    KdfParams,
    decrypt_share,
    encrypt_share,
    load_share_file,
)
from crypto.threshold import KeyShare

DOC = json.loads((Path(__file__).parents[1] / "fixtures" / "threshold-test-key-1024-3of5.json")
                 .read_text())
SHARE = KeyShare.from_json(DOC["shares"][0])
PASS = "pass phrase"


def _exact(text: str) -> str:
    return "^" + re.escape(text) + "$"


@pytest.fixture(scope="module")
def sealed() -> dict[str, Any]:
    return encrypt_share(SHARE, PASS, kdf=FAST_TEST_KDF)


def test_kdf_bounds_are_inclusive() -> None:
    KdfParams(MAX_TIME_COST, 8, 1).check()
    KdfParams(1, 8 * MAX_PARALLELISM, MAX_PARALLELISM).check()
    KdfParams(1, MAX_MEMORY_COST, 1).check()
    KdfParams(1, 16, 2).check()
    cases = [
        (KdfParams(0, 8, 1), "kdf.time_cost out of range"),
        (KdfParams(MAX_TIME_COST + 1, 8, 1), "kdf.time_cost out of range"),
        (KdfParams(1, 8 * 17, 0), "kdf.parallelism out of range"),
        (KdfParams(1, 8 * 17, MAX_PARALLELISM + 1), "kdf.parallelism out of range"),
        (KdfParams(1, 8, 2), "kdf.memory_cost out of range"),
        (KdfParams(1, 15, 2), "kdf.memory_cost out of range"),
        (KdfParams(1, MAX_MEMORY_COST + 1, 1), "kdf.memory_cost out of range"),
    ]
    for params, message in cases:
        with pytest.raises(InvalidEncoding, match=_exact(message)):
            params.check()


def test_encrypt_share_uses_the_given_kdf(sealed: dict[str, Any]) -> None:
    kdf = sealed["kdf"]
    assert (kdf["time_cost"], kdf["memory_cost"], kdf["parallelism"]) == (1, 8, 1)
    assert (kdf["name"], kdf["version"], kdf["hash_len"]) == ("argon2id", 19, 32)
    for bad in ("", None, b"pass"):
        with pytest.raises(InvalidEncoding, match=_exact("passphrase must be a non-empty string")):
            encrypt_share(SHARE, bad, kdf=FAST_TEST_KDF)  # type: ignore[arg-type]


def _set(obj: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    target = out
    for key in path[:-1]:
        target = target[key]
    if value is _DROP:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return out


_DROP = object()
F = "trustee share file"

PARSE_CASES = [
    (("format",), 5, f"{F}.format: expected str"),
    (("format",), _DROP, f"{F}: missing field 'format'"),
    (("format",), "saylau-trustee-share/v2", f"{F}: unknown format"),
    (("index",), "1", f"{F}.index: expected int"),
    (("public_key_fingerprint",), 5, f"{F}.public_key_fingerprint: expected str"),
    (("public_key_fingerprint",), "ab", "public_key_fingerprint: expected 32 bytes, got 1"),
    (("kdf",), [], f"{F}.kdf: expected dict"),
    (("kdf", "name"), 5, "kdf.name: expected str"),
    (("kdf", "name"), "scrypt", "kdf: only argon2id is supported"),
    (("kdf", "version"), "19", "kdf.version: expected int"),
    (("kdf", "version"), 16, "kdf: unsupported Argon2 version"),
    (("kdf", "hash_len"), "32", "kdf.hash_len: expected int"),
    (("kdf", "hash_len"), 16, "kdf: hash_len must be 32"),
    (("kdf", "salt"), 5, "kdf.salt: expected str"),
    (("kdf", "salt"), "00", "kdf.salt: expected 16 bytes, got 1"),
    (("kdf", "time_cost"), "1", "kdf.time_cost: expected int"),
    (("kdf", "memory_cost"), "8", "kdf.memory_cost: expected int"),
    (("kdf", "parallelism"), "1", "kdf.parallelism: expected int"),
    (("kdf", "time_cost"), 65, "kdf.time_cost out of range"),
    (("kdf", "extra"), 1, "kdf: unexpected fields"),
    (("aead",), "x", f"{F}.aead: expected dict"),
    (("aead", "name"), 5, "aead.name: expected str"),
    (("aead", "name"), "chacha20-poly1305", "aead: only aes-256-gcm is supported"),
    (("aead", "nonce"), 5, "aead.nonce: expected str"),
    (("aead", "nonce"), "00", "aead.nonce: expected 12 bytes, got 1"),
    (("ciphertext",), 5, f"{F}.ciphertext: expected str"),
    (("ciphertext",), "XY", "ciphertext: expected lowercase hex bytes"),
    (("ciphertext",), "00" * 15, f"{F}: ciphertext too short"),
    (("extra",), 1, f"{F}: unexpected fields"),
]


@pytest.mark.parametrize(("path", "value", "message"), PARSE_CASES)
def test_parse_names_each_field(sealed: dict[str, Any], path: tuple[str, ...], value: Any,
                                message: str) -> None:
    with pytest.raises(InvalidEncoding, match=_exact(message)):
        decrypt_share(_set(sealed, path, value), PASS)


def test_sixteen_bytes_of_ciphertext_are_parsed_then_fail_to_open(sealed: dict[str, Any]) -> None:
    with pytest.raises(DecryptionError,
                       match=_exact("wrong passphrase or the share file was altered")):
        decrypt_share(_set(sealed, ("ciphertext",), "00" * 16), PASS)


def test_decrypt_messages(sealed: dict[str, Any]) -> None:
    assert decrypt_share(sealed, PASS) == SHARE
    with pytest.raises(DecryptionError,
                       match=_exact("wrong passphrase or the share file was altered")):
        decrypt_share(sealed, "other")
    with pytest.raises(InvalidEncoding, match=_exact("trustee share file is not JSON")):
        load_share_file("{not json", PASS)
    assert load_share_file(json.dumps(sealed), PASS) == SHARE
