"""Trustee share files: a :class:`~crypto.threshold.KeyShare` sealed under a passphrase.

Format ``saylau-trustee-share/v1`` (docs/protocol.md, "Share files")::

    key        = Argon2id(passphrase UTF-8, salt, t, m KiB, p, 32 bytes, version 0x13)
    aad        = canonical_json(header)
    header     = {"format", "index", "public_key_fingerprint", "kdf"}
    ciphertext = AES-256-GCM(key, nonce (12 random bytes), canonical_json(share), aad)

The file is the header plus ``"aead": {"name": "aes-256-gcm", "nonce": hex}`` and
``"ciphertext": hex`` (GCM output, tag appended).  A wrong passphrase or any change to
the header, nonce or ciphertext raises :class:`~crypto.errors.DecryptionError`; a file
that is not of this form raises :class:`~crypto.errors.InvalidEncoding`.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from crypto.encoding import bytes_to_hex, canonical_json, hex_to_bytes, require
from crypto.errors import CryptoError, DecryptionError, InvalidEncoding
from crypto.threshold import KeyShare

FORMAT = "saylau-trustee-share/v1"
KDF_NAME = "argon2id"
AEAD_NAME = "aes-256-gcm"
SALT_BYTES = 16
NONCE_BYTES = 12
KEY_BYTES = 32
#: Argon2 version 1.3.
ARGON2_VERSION = 19

#: Bounds accepted when reading a file (a hostile file must not exhaust memory or time).
MAX_TIME_COST = 64
MAX_MEMORY_COST = 4 * 1024 * 1024  # KiB = 4 GiB
MAX_PARALLELISM = 16


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost parameters (defaults: t = 3, m = 64 MiB, p = 1)."""

    time_cost: int = 3
    memory_cost: int = 65536
    parallelism: int = 1

    def check(self) -> None:
        if not 1 <= self.time_cost <= MAX_TIME_COST:
            raise InvalidEncoding("kdf.time_cost out of range")
        if not 1 <= self.parallelism <= MAX_PARALLELISM:
            raise InvalidEncoding("kdf.parallelism out of range")
        if not 8 * self.parallelism <= self.memory_cost <= MAX_MEMORY_COST:
            raise InvalidEncoding("kdf.memory_cost out of range")


#: Cheap parameters for tests only (``--kdf-fast``); never for a real ceremony.
FAST_TEST_KDF = KdfParams(time_cost=1, memory_cost=8, parallelism=1)


def _derive_key(passphrase: str, salt: bytes, params: KdfParams) -> bytes:
    return hash_secret_raw(
        secret=passphrase.encode("utf-8"),
        salt=salt,
        time_cost=params.time_cost,
        memory_cost=params.memory_cost,
        parallelism=params.parallelism,
        hash_len=KEY_BYTES,
        type=Type.ID,
        version=ARGON2_VERSION,
    )


def _kdf_json(salt: bytes, params: KdfParams) -> dict[str, Any]:
    return {
        "name": KDF_NAME,
        "version": ARGON2_VERSION,
        "salt": bytes_to_hex(salt),
        "time_cost": params.time_cost,
        "memory_cost": params.memory_cost,
        "parallelism": params.parallelism,
        "hash_len": KEY_BYTES,
    }


def encrypt_share(
    share: KeyShare, passphrase: str, *, kdf: KdfParams | None = None
) -> dict[str, Any]:
    """Seal ``share`` under ``passphrase``; returns the share file's JSON object."""
    if not isinstance(passphrase, str) or not passphrase:
        raise InvalidEncoding("passphrase must be a non-empty string")
    params = kdf or KdfParams()
    params.check()
    salt = secrets.token_bytes(SALT_BYTES)
    nonce = secrets.token_bytes(NONCE_BYTES)
    header = {
        "format": FORMAT,
        "index": share.index,
        "public_key_fingerprint": bytes_to_hex(share.public.fingerprint()),
        "kdf": _kdf_json(salt, params),
    }
    key = _derive_key(passphrase, salt, params)
    sealed = AESGCM(key).encrypt(nonce, canonical_json(share.to_json()), canonical_json(header))
    del key
    return {
        **header,
        "aead": {"name": AEAD_NAME, "nonce": bytes_to_hex(nonce)},
        "ciphertext": bytes_to_hex(sealed),
    }


_FILE_FIELDS = {"format", "index", "public_key_fingerprint", "kdf", "aead", "ciphertext"}


def _parse(obj: object) -> tuple[dict[str, Any], KdfParams, bytes, bytes, bytes]:
    where = "trustee share file"
    if isinstance(obj, dict) and not set(obj) <= _FILE_FIELDS:
        raise InvalidEncoding(f"{where}: unexpected fields")
    if require(obj, "format", str, where) != FORMAT:
        raise InvalidEncoding(f"{where}: unknown format")
    index = require(obj, "index", int, where)
    fingerprint = require(obj, "public_key_fingerprint", str, where)
    hex_to_bytes(fingerprint, "public_key_fingerprint", 32)
    kdf = require(obj, "kdf", dict, where)
    if require(kdf, "name", str, "kdf") != KDF_NAME:
        raise InvalidEncoding("kdf: only argon2id is supported")
    if require(kdf, "version", int, "kdf") != ARGON2_VERSION:
        raise InvalidEncoding("kdf: unsupported Argon2 version")
    if require(kdf, "hash_len", int, "kdf") != KEY_BYTES:
        raise InvalidEncoding("kdf: hash_len must be 32")
    salt = hex_to_bytes(require(kdf, "salt", str, "kdf"), "kdf.salt", SALT_BYTES)
    params = KdfParams(
        require(kdf, "time_cost", int, "kdf"),
        require(kdf, "memory_cost", int, "kdf"),
        require(kdf, "parallelism", int, "kdf"),
    )
    params.check()
    if set(kdf) != {"name", "version", "salt", "time_cost", "memory_cost", "parallelism", "hash_len"}:
        raise InvalidEncoding("kdf: unexpected fields")
    aead = require(obj, "aead", dict, where)
    if require(aead, "name", str, "aead") != AEAD_NAME:
        raise InvalidEncoding("aead: only aes-256-gcm is supported")
    nonce = hex_to_bytes(require(aead, "nonce", str, "aead"), "aead.nonce", NONCE_BYTES)
    sealed = hex_to_bytes(require(obj, "ciphertext", str, where), "ciphertext")
    if len(sealed) < 16:
        raise InvalidEncoding(f"{where}: ciphertext too short")
    header = {
        "format": FORMAT,
        "index": index,
        "public_key_fingerprint": fingerprint,
        "kdf": kdf,
    }
    return header, params, salt, nonce, sealed


def decrypt_share(obj: object, passphrase: str) -> KeyShare:
    """Open a share file; DecryptionError on a wrong passphrase or any tampering."""
    header, params, salt, nonce, sealed = _parse(obj)
    key = _derive_key(passphrase, salt, params)
    try:
        plain = AESGCM(key).decrypt(nonce, sealed, canonical_json(header))
    except InvalidTag as exc:
        raise DecryptionError("wrong passphrase or the share file was altered") from exc
    finally:
        del key
    try:
        share = KeyShare.from_json(json.loads(plain.decode("utf-8")))
    except (CryptoError, ValueError) as exc:
        raise DecryptionError("share file content is not a valid key share") from exc
    if share.index != header["index"] or (
        bytes_to_hex(share.public.fingerprint()) != header["public_key_fingerprint"]
    ):
        raise DecryptionError("share file header does not match its content")
    return share


def load_share_file(text: str, passphrase: str) -> KeyShare:
    """Parse a share file's JSON text and open it (InvalidEncoding if not JSON)."""
    try:
        obj = json.loads(text)
    except ValueError as exc:
        raise InvalidEncoding("trustee share file is not JSON") from exc
    return decrypt_share(obj, passphrase)
