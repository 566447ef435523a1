"""The voter roll of signing keys and voter-signed credential requests (docs/protocol.md §2.7).

The published roll is a list of voter *signing keys*, never names::

    entry      = {"index": i, "kind": "ed25519" | "x509",
                  "public_key": hex(raw Ed25519 key | DER SubjectPublicKeyInfo),
                  "id_hash": hex(32 bytes) | null}                       (x509: salted id hash)
    leaf_i     = tagged_hash("saylau/v1/roll-entry", ("entry", canonical_json(entry)))
    roll_root  = MTH(leaf_0 … leaf_{n-1})                      (RFC 9162, crypto/merkle.py)
    commitment = {"mode": "enrolled" | "pki", "size": n, "root": hex(roll_root)}

The commitment is bound into the election fingerprint (eq. F1, ``("roll", canonical_json
(commitment))``), so the roll cannot change after opening without changing the fingerprint.

A credential request (eq. R1) is signed by the voter's roll key::

    request    = {"election_id", "roll_index", "blinded_message": hex, "period": str}
    m          = tagged_hash("saylau/v1/credential-request", ("request", canonical_json(request)))
    signature  = Ed25519(m)                  (kind "ed25519")
               | RSASSA-PKCS1-v1_5-SHA256(m) (kind "x509", RSA key)
               | ECDSA-SHA256(m), DER         (kind "x509", P-256/P-384 key)

``period`` is coarse (a date or a credential-period id), never a fine timestamp.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature as _PycaInvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from crypto.encoding import bytes_to_hex, canonical_json, hex_to_bytes, require
from crypto.errors import CryptoError, InvalidEncoding, InvalidSignature
from crypto.merkle import root_hash
from crypto.transcript import tagged_hash

ROLL_ENTRY_DOMAIN = "saylau/v1/roll-entry"
REQUEST_DOMAIN = "saylau/v1/credential-request"
NATIONAL_ID_DOMAIN = "saylau/v1/national-id"
KINDS = ("ed25519", "x509")
MODES = ("enrolled", "pki")
MAX_PERIOD_LEN = 32
#: ``period``: a date (YYYY-MM-DD) or a credential-period id — never a time of day.
PERIOD_RE = re.compile(r"^[A-Za-z0-9._-]{1,32}$")
_FINE_TIME_RE = re.compile(r"\d{2}:\d{2}|T\d")


@dataclass(frozen=True)
class RollEntry:
    """One published roll position: a voter's signing key (and, in PKI mode, an id hash)."""

    index: int
    kind: str
    public_key: bytes
    id_hash: bytes | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.index, int) or isinstance(self.index, bool) or self.index < 0:
            raise InvalidEncoding("roll entry index must be a non-negative integer")
        if self.kind not in KINDS:
            raise InvalidEncoding(f"roll entry kind must be one of {KINDS}")
        if self.kind == "ed25519" and len(self.public_key) != 32:
            raise InvalidEncoding("an ed25519 roll key is 32 raw bytes")
        if self.kind == "x509":
            load_spki(self.public_key)
            if self.id_hash is None or len(self.id_hash) != 32:
                raise InvalidEncoding("an x509 roll entry needs a 32-byte id_hash")
        elif self.id_hash is not None:
            raise InvalidEncoding("only x509 roll entries carry an id_hash")

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "kind": self.kind,
                "public_key": bytes_to_hex(self.public_key),
                "id_hash": bytes_to_hex(self.id_hash) if self.id_hash is not None else None}

    @classmethod
    def from_json(cls, obj: object, where: str = "roll entry") -> RollEntry:
        index = require(obj, "index", int, where)
        kind = require(obj, "kind", str, where)
        key = hex_to_bytes(require(obj, "public_key", str, where), f"{where}.public_key")
        raw_hash = require(obj, "id_hash", (str, type(None)), where)
        id_hash = hex_to_bytes(raw_hash, f"{where}.id_hash", 32) if raw_hash is not None else None
        return cls(index, kind, key, id_hash)

    @property
    def leaf(self) -> bytes:
        """``tagged_hash("saylau/v1/roll-entry", ("entry", canonical_json(entry)))``."""
        return tagged_hash(ROLL_ENTRY_DOMAIN, ("entry", canonical_json(self.to_json())))


def load_spki(der: bytes) -> rsa.RSAPublicKey | ec.EllipticCurvePublicKey:
    """An RSA (≥ 2048 bits) or ECDSA (P-256/P-384) key from DER SubjectPublicKeyInfo."""
    try:
        key = serialization.load_der_public_key(bytes(der))
    except (ValueError, TypeError) as exc:
        raise InvalidEncoding("not a DER SubjectPublicKeyInfo") from exc
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < 2048:
            raise InvalidEncoding("RSA roll keys must have at least 2048 bits")
        return key
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name in ("secp256r1", "secp384r1"):
        return key
    raise InvalidEncoding("x509 roll keys must be RSA or ECDSA P-256/P-384 (GOST is not supported)")


def spki_der(key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey | Any) -> bytes:
    return bytes(key.public_bytes(serialization.Encoding.DER,
                                  serialization.PublicFormat.SubjectPublicKeyInfo))


def roll_root(entries: Sequence[RollEntry]) -> bytes:
    """``MTH(leaf_0 … leaf_{n-1})``; raises if the entries are not at indexes 0..n-1."""
    for position, entry in enumerate(entries):
        if entry.index != position:
            raise InvalidEncoding(f"roll entry {position} has index {entry.index}")
    return root_hash([e.leaf for e in entries])


@dataclass(frozen=True)
class RollCommitment:
    """What the fingerprint binds: the credential mode, the roll's size and Merkle root."""

    mode: str
    size: int
    root: bytes

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise InvalidEncoding(f"roll mode must be one of {MODES}")
        if self.size < 0 or len(self.root) != 32:
            raise InvalidEncoding("roll commitment: bad size or root")

    def to_json(self) -> dict[str, Any]:
        return {"mode": self.mode, "size": self.size, "root": bytes_to_hex(self.root)}

    @classmethod
    def from_json(cls, obj: object, where: str = "roll") -> RollCommitment:
        return cls(require(obj, "mode", str, where), require(obj, "size", int, where),
                   hex_to_bytes(require(obj, "root", str, where), f"{where}.root", 32))

    @classmethod
    def of(cls, mode: str, entries: Sequence[RollEntry]) -> RollCommitment:
        return cls(mode, len(entries), roll_root(entries))


def national_id_hash(salt: bytes, national_id: str) -> bytes:
    """``tagged_hash("saylau/v1/national-id", ("salt", salt), ("id", UTF-8(id)))``.

    The salt is the election commission's secret (32 random bytes): an IIN has little
    entropy (birth date + serial), so a public salt would let anyone invert the hash.
    """
    return tagged_hash(NATIONAL_ID_DOMAIN, ("salt", bytes(salt)), ("id", national_id.encode()))


# --------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class CredentialRequest:
    """eq. R1: what the voter signs with their roll key."""

    election_id: str
    roll_index: int
    blinded_message: bytes
    period: str

    def __post_init__(self) -> None:
        if not isinstance(self.election_id, str) or not self.election_id:
            raise InvalidEncoding("request.election_id must be a non-empty string")
        if (not isinstance(self.roll_index, int) or isinstance(self.roll_index, bool)
                or self.roll_index < 0):
            raise InvalidEncoding("request.roll_index must be a non-negative integer")
        if not isinstance(self.blinded_message, bytes) or not self.blinded_message:
            raise InvalidEncoding("request.blinded_message must be non-empty bytes")
        if (not isinstance(self.period, str) or not PERIOD_RE.fullmatch(self.period)
                or _FINE_TIME_RE.search(self.period)):
            raise InvalidEncoding("request.period must be a coarse period (a date or a period "
                                  "id, 1-32 of [A-Za-z0-9._-], no time of day)")

    def to_json(self) -> dict[str, Any]:
        return {"election_id": self.election_id, "roll_index": self.roll_index,
                "blinded_message": bytes_to_hex(self.blinded_message), "period": self.period}

    @classmethod
    def from_json(cls, obj: object, where: str = "request") -> CredentialRequest:
        if isinstance(obj, dict) and set(obj) != {"election_id", "roll_index",
                                                  "blinded_message", "period"}:
            raise InvalidEncoding(f"{where}: expected exactly election_id, roll_index, "
                                  "blinded_message, period")
        return cls(require(obj, "election_id", str, where), require(obj, "roll_index", int, where),
                   hex_to_bytes(require(obj, "blinded_message", str, where),
                                f"{where}.blinded_message"),
                   require(obj, "period", str, where))

    def message(self) -> bytes:
        """``m = tagged_hash("saylau/v1/credential-request", ("request", canonical_json))``."""
        return tagged_hash(REQUEST_DOMAIN, ("request", canonical_json(self.to_json())))


@dataclass(frozen=True)
class SignedRequest:
    request: CredentialRequest
    signature: bytes

    def to_json(self) -> dict[str, Any]:
        return {"request": self.request.to_json(), "signature": bytes_to_hex(self.signature)}

    @classmethod
    def from_json(cls, obj: object, where: str = "signed request") -> SignedRequest:
        if isinstance(obj, dict) and set(obj) != {"request", "signature"}:
            raise InvalidEncoding(f"{where}: expected exactly request and signature")
        request = CredentialRequest.from_json(require(obj, "request", dict, where), where)
        signature = hex_to_bytes(require(obj, "signature", str, where), f"{where}.signature")
        if not 1 <= len(signature) <= 1024:
            raise InvalidEncoding(f"{where}.signature: 1..1024 bytes")
        return cls(request, signature)


def sign_request(private_key: Any, request: CredentialRequest) -> SignedRequest:
    """Sign eq. R1 with an Ed25519, RSA (PKCS#1 v1.5, SHA-256) or ECDSA (SHA-256) key."""
    m = request.message()
    if isinstance(private_key, Ed25519PrivateKey):
        sig = private_key.sign(m)
    elif isinstance(private_key, rsa.RSAPrivateKey):
        sig = private_key.sign(m, padding.PKCS1v15(), hashes.SHA256())
    elif isinstance(private_key, ec.EllipticCurvePrivateKey):
        sig = private_key.sign(m, ec.ECDSA(hashes.SHA256()))
    else:
        raise InvalidEncoding("unsupported signing key (Ed25519, RSA or ECDSA)")
    return SignedRequest(request, sig)


def verify_request(entry: RollEntry, signed: SignedRequest) -> None:
    """Check ``signed`` against the roll key of ``entry``; raises :class:`InvalidSignature`."""
    if signed.request.roll_index != entry.index:
        raise InvalidSignature("request names another roll position")
    m = signed.request.message()
    try:
        if entry.kind == "ed25519":
            Ed25519PublicKey.from_public_bytes(entry.public_key).verify(signed.signature, m)
        else:
            key = load_spki(entry.public_key)
            if isinstance(key, rsa.RSAPublicKey):
                key.verify(signed.signature, m, padding.PKCS1v15(), hashes.SHA256())
            else:
                key.verify(signed.signature, m, ec.ECDSA(hashes.SHA256()))
    except (_PycaInvalidSignature, ValueError) as exc:
        raise InvalidSignature("credential request signature does not verify "
                               "against its roll key") from exc


# --------------------------------------------------------------------------- verifier checks


def roll_problems(entries: Sequence[RollEntry], commitment: RollCommitment | None) -> list[str]:
    """Check V-R1: indexes 0..n-1, no key or id hash twice, size and root = the fingerprint's."""
    problems: list[str] = []
    if commitment is None:
        return ["the election has no voter roll: credentials were issued on the operator's "
                "word alone"]
    seen_keys: dict[bytes, int] = {}
    seen_ids: dict[bytes, int] = {}
    for position, entry in enumerate(entries):
        if entry.index != position:
            problems.append(f"roll entry {position} has index {entry.index}")
        if entry.kind != ("ed25519" if commitment.mode == "enrolled" else "x509"):
            problems.append(f"roll entry {position}: kind {entry.kind} in {commitment.mode} mode")
        if entry.public_key in seen_keys:
            problems.append(f"roll entry {position}: the key of entry "
                            f"{seen_keys[entry.public_key]} again")
        seen_keys.setdefault(entry.public_key, position)
        if entry.id_hash is not None:
            if entry.id_hash in seen_ids:
                problems.append(f"roll entry {position}: the id hash of entry "
                                f"{seen_ids[entry.id_hash]} again")
            seen_ids.setdefault(entry.id_hash, position)
    if len(entries) != commitment.size:
        problems.append(f"the roll has {len(entries)} entries; the fingerprint binds "
                        f"{commitment.size}")
    if not problems and root_hash([e.leaf for e in entries]) != commitment.root:
        problems.append("the roll's Merkle root differs from the one bound in the fingerprint")
    return problems


def request_problems(entries: Sequence[RollEntry], requests: Sequence[SignedRequest],
                     election_id: str, blinded_len: int) -> list[str]:
    """Check V-R2: every request signed by its roll key, for this election, one per key."""
    problems: list[str] = []
    used: dict[int, int] = {}
    for position, signed in enumerate(requests):
        req = signed.request
        where = f"request {position}"
        if req.election_id != election_id:
            problems.append(f"{where}: for election {req.election_id!r}")
        if len(req.blinded_message) != blinded_len:
            problems.append(f"{where}: blinded_message is not {blinded_len} bytes")
        if req.roll_index >= len(entries):
            problems.append(f"{where}: roll_index {req.roll_index} is not on the roll "
                            f"({len(entries)} entries)")
            continue
        if req.roll_index in used:
            problems.append(f"{where}: a second request from roll key {req.roll_index} "
                            f"(first: request {used[req.roll_index]})")
        used.setdefault(req.roll_index, position)
        try:
            verify_request(entries[req.roll_index], signed)
        except (InvalidSignature, InvalidEncoding) as exc:
            problems.append(f"{where}: {exc}")
    return problems


__all__ = [
    "KINDS",
    "check_requests",
    "check_roll",
    "count_problems",
    "MODES",
    "NATIONAL_ID_DOMAIN",
    "REQUEST_DOMAIN",
    "ROLL_ENTRY_DOMAIN",
    "CredentialRequest",
    "RollCheckFailed",
    "RollCommitment",
    "RollEntry",
    "SignedRequest",
    "load_spki",
    "national_id_hash",
    "request_problems",
    "roll_problems",
    "roll_root",
    "sign_request",
    "spki_der",
    "verify_request",
]


class RollCheckFailed(CryptoError):
    """A roll or credential-request check failed; ``problems`` lists why (V-R1, V-R2)."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


def check_roll(entries: Sequence[RollEntry], commitment: RollCommitment | None) -> None:
    """V-R1 as an exception: raises :class:`RollCheckFailed`."""
    problems = roll_problems(entries, commitment)
    if problems:
        raise RollCheckFailed(problems)


def check_requests(entries: Sequence[RollEntry], requests: Sequence[SignedRequest],
                   election_id: str, blinded_len: int, *, issued: int,
                   tokens: int) -> None:
    """V-R2 and V-R3: every request valid, one per key, ``tokens ≤ requests = issued ≤ roll``."""
    problems = request_problems(entries, requests, election_id, blinded_len)
    problems += count_problems(len(entries), len(requests), issued, tokens)
    if problems:
        raise RollCheckFailed(problems)


def count_problems(roll_size: int, requests: int, issued: int, tokens: int) -> list[str]:
    """V-R3: ``counted tokens ≤ signed requests = credentials issued ≤ roll size``."""
    problems = []
    if issued != requests:
        problems.append(f"issuance.count is {issued} but {requests} signed requests are published")
    if requests > roll_size:
        problems.append(f"{requests} signed requests for a roll of {roll_size} keys")
    if tokens > requests:
        problems.append(f"{tokens} credentials voted but only {requests} signed requests")
    return problems
