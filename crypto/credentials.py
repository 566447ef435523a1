"""Saylau's anonymous credentials: an RFC 9474 blind signature on a ballot key.

Construction (docs/protocol.md §2.3 "The Saylau credential")::

    (bsk, bpk)  = fresh Ed25519 key pair of the voter ("ballot key"), bpk = 32 raw bytes
    msg         = tagged_hash("saylau/v1/credential-message",
                              ("scope_id", UTF-8(scope_id)), ("ballot_public_key", bpk))
    prepared    = randomizer (32 random bytes) || msg          (RFC 9474 Prepare)
    signature   = RSABSSA-SHA384-PSS-Randomized blind signature on ``prepared``
    token_id    = tagged_hash("saylau/v1/token-id", ("prepared_message", prepared))

``scope_id`` is the election id, or ``"petition:<id>"`` for a petition.  The issuer
sees only the blinded message; a ballot carries the credential, ``bpk`` and an Ed25519
signature over the canonical ballot JSON made with ``bsk``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature as _PycaInvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from crypto import blind_rsa
from crypto.blind_rsa import IssuerPrivateKey, IssuerPublicKey
from crypto.encoding import bytes_to_hex, hex_to_bytes, require
from crypto.errors import InvalidEncoding, InvalidSignature
from crypto.transcript import tagged_hash

CREDENTIAL_MESSAGE_DOMAIN = "saylau/v1/credential-message"
TOKEN_ID_DOMAIN = "saylau/v1/token-id"  # noqa: S105 (a domain tag, not a secret)
#: The RFC 9474 variant of every Saylau credential.
VARIANT = blind_rsa.RSABSSA_SHA384_PSS_RANDOMIZED
BALLOT_PUBLIC_KEY_LEN = 32
ED25519_SIGNATURE_LEN = 64
RANDOMIZER_LEN = blind_rsa.RANDOMIZER_LEN


def _check_scope(scope_id: object) -> str:
    if not isinstance(scope_id, str) or not scope_id:
        raise InvalidEncoding("scope_id must be a non-empty string")
    return scope_id


def _check_ballot_key(ballot_public_key: object) -> bytes:
    if (
        not isinstance(ballot_public_key, bytes | bytearray)
        or len(ballot_public_key) != BALLOT_PUBLIC_KEY_LEN
    ):
        raise InvalidEncoding(f"ballot public key must be {BALLOT_PUBLIC_KEY_LEN} raw bytes")
    return bytes(ballot_public_key)


def credential_message(scope_id: str, ballot_public_key: bytes) -> bytes:
    """``msg = tagged_hash("saylau/v1/credential-message", scope_id, ballot_public_key)``."""
    scope = _check_scope(scope_id)
    bpk = _check_ballot_key(ballot_public_key)
    return tagged_hash(
        CREDENTIAL_MESSAGE_DOMAIN,
        ("scope_id", scope.encode("utf-8")),
        ("ballot_public_key", bpk),
    )


# --------------------------------------------------------------------------- ballot key


def generate_ballot_key() -> Ed25519PrivateKey:
    """A fresh Ed25519 ballot key (one per voter and scope)."""
    return Ed25519PrivateKey.generate()


def ballot_public_key_bytes(private_key: Ed25519PrivateKey) -> bytes:
    """The 32 raw bytes of the ballot public key (RFC 8032 encoding)."""
    return private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def sign_payload(ballot_private_key: Ed25519PrivateKey, payload: bytes) -> bytes:
    """Ed25519 signature (64 bytes) over ``payload`` (the canonical ballot JSON)."""
    return ballot_private_key.sign(bytes(payload))


def verify_payload_signature(ballot_public_key: bytes, payload: bytes, signature: bytes) -> None:
    """Verify an Ed25519 payload signature; raises :class:`InvalidSignature` on failure.

    A ballot public key that is not 32 bytes raises :class:`InvalidEncoding`.
    """
    bpk = _check_ballot_key(ballot_public_key)
    if not isinstance(signature, bytes | bytearray) or len(signature) != ED25519_SIGNATURE_LEN:
        raise InvalidSignature(f"Ed25519 signature must be {ED25519_SIGNATURE_LEN} bytes")
    try:
        key = Ed25519PublicKey.from_public_bytes(bpk)
    except ValueError as exc:
        raise InvalidEncoding("malformed Ed25519 public key") from exc
    try:
        key.verify(bytes(signature), bytes(payload))
    except _PycaInvalidSignature as exc:
        raise InvalidSignature("ballot payload signature does not verify") from exc


# --------------------------------------------------------------------------- credential


@dataclass(frozen=True)
class Credential:
    """An unblinded credential: RFC 9474 signature on ``randomizer || msg(scope_id, bpk)``."""

    scope_id: str
    ballot_public_key: bytes
    randomizer: bytes
    signature: bytes

    def __post_init__(self) -> None:
        _check_scope(self.scope_id)
        _check_ballot_key(self.ballot_public_key)
        if not isinstance(self.randomizer, bytes) or len(self.randomizer) != RANDOMIZER_LEN:
            raise InvalidEncoding(f"randomizer must be {RANDOMIZER_LEN} bytes")
        if not isinstance(self.signature, bytes) or not self.signature:
            raise InvalidEncoding("signature must be non-empty bytes")

    @property
    def message(self) -> bytes:
        return credential_message(self.scope_id, self.ballot_public_key)

    @property
    def prepared_message(self) -> bytes:
        """``randomizer || credential_message(scope_id, ballot_public_key)`` (64 bytes)."""
        return self.randomizer + self.message

    @property
    def token_id(self) -> bytes:
        """``tagged_hash("saylau/v1/token-id", ("prepared_message", prepared_message))``."""
        return tagged_hash(TOKEN_ID_DOMAIN, ("prepared_message", self.prepared_message))

    def to_json(self) -> dict[str, Any]:
        return {
            "scope_id": self.scope_id,
            "ballot_public_key": bytes_to_hex(self.ballot_public_key),
            "randomizer": bytes_to_hex(self.randomizer),
            "signature": bytes_to_hex(self.signature),
        }

    @classmethod
    def from_json(cls, obj: object) -> Credential:
        where = "credential"
        scope_id = require(obj, "scope_id", str, where)
        bpk = hex_to_bytes(
            require(obj, "ballot_public_key", str, where),
            f"{where}.ballot_public_key",
            BALLOT_PUBLIC_KEY_LEN,
        )
        randomizer = hex_to_bytes(
            require(obj, "randomizer", str, where), f"{where}.randomizer", RANDOMIZER_LEN
        )
        signature = hex_to_bytes(require(obj, "signature", str, where), f"{where}.signature")
        return cls(
            scope_id=scope_id, ballot_public_key=bpk, randomizer=randomizer, signature=signature
        )


@dataclass(frozen=True)
class CredentialState:
    """Client state between :func:`begin_credential` and :func:`finish_credential`.

    ``inv`` links the blinded request to the credential: keep it secret, then discard it.
    """

    scope_id: str
    ballot_public_key: bytes
    randomizer: bytes = field(repr=False)
    inv: int = field(repr=False)

    @property
    def prepared_message(self) -> bytes:
        return self.randomizer + credential_message(self.scope_id, self.ballot_public_key)


def begin_credential(
    issuer_pk: IssuerPublicKey,
    scope_id: str,
    ballot_public_key: bytes,
    *,
    randomizer: bytes | None = None,
    salt: bytes | None = None,
    r: int | None = None,
) -> tuple[bytes, CredentialState]:
    """Client: Prepare then Blind ``credential_message(scope_id, bpk)``.

    Returns ``(blinded_message, state)``; ``randomizer``, ``salt`` and ``r`` are
    for tests only (fresh randomness from :mod:`secrets` otherwise).
    """
    msg = credential_message(scope_id, ballot_public_key)
    prepared = blind_rsa.prepare(msg, VARIANT, randomizer=randomizer)
    blinded, inv = blind_rsa.blind(issuer_pk, prepared, VARIANT, salt=salt, r=r)
    state = CredentialState(
        scope_id=scope_id,
        ballot_public_key=bytes(ballot_public_key),
        randomizer=prepared[:RANDOMIZER_LEN],
        inv=inv,
    )
    return blinded, state


def issue_blind_signature(issuer_sk: IssuerPrivateKey, blinded_message: bytes) -> bytes:
    """Issuer: RFC 9474 BlindSign (the caller records that this voter got one)."""
    return blind_rsa.blind_sign(issuer_sk, blinded_message)


def finish_credential(
    issuer_pk: IssuerPublicKey, state: CredentialState, blind_signature: bytes
) -> Credential:
    """Client: Finalize (unblind and verify) into a :class:`Credential`."""
    signature = blind_rsa.finalize(
        issuer_pk, state.prepared_message, blind_signature, state.inv, VARIANT
    )
    return Credential(
        scope_id=state.scope_id,
        ballot_public_key=state.ballot_public_key,
        randomizer=state.randomizer,
        signature=signature,
    )


def verify_credential(
    issuer_pk: IssuerPublicKey, credential: Credential, expected_scope_id: str
) -> None:
    """Check the scope and the RFC 9474 signature; raises :class:`InvalidSignature`."""
    if credential.scope_id != expected_scope_id:
        raise InvalidSignature("credential was issued for another scope")
    blind_rsa.verify(issuer_pk, credential.prepared_message, credential.signature, VARIANT)
