"""A petition's keys and parameters: scope and log ids, regions, issuer/board/election keys,
the fingerprint ``petition_fingerprint(params, election key, issuer key, board key)``."""

from __future__ import annotations

import json

from app.errors import ApiError
from app.petitions.models import Petition
from crypto.blind_rsa import IssuerPrivateKey, IssuerPublicKey
from crypto.election import Option
from crypto.errors import CryptoError
from crypto.petition import PetitionParameters, petition_fingerprint
from crypto.threshold import ThresholdPublicKey
from crypto.tree_head import BoardSigningKey, petition_log_id

MIN_ELECTION_KEY_BITS = 2048


def scope_id(petition_id: int) -> str:
    """The credential scope and ``PetitionParameters.petition_id``: ``"petition:<id>"``."""
    return f"petition:{petition_id}"


def log_id(petition_id: int) -> str:
    return petition_log_id(petition_id)


def regions_of(p: Petition) -> tuple[Option, ...]:
    return tuple(Option(r["id"], r["label"]) for r in json.loads(p.regions_json))


def params_of(p: Petition) -> PetitionParameters:
    return PetitionParameters(scope_id(p.id), p.title, regions_of(p))


def issuer_public(p: Petition) -> IssuerPublicKey:
    return IssuerPublicKey.from_json(json.loads(p.issuer_public_json))


def issuer_private(p: Petition) -> IssuerPrivateKey:
    return IssuerPrivateKey.from_pem(p.issuer_private_pem.encode("ascii"))


def board_key(p: Petition) -> BoardSigningKey:
    return BoardSigningKey.from_seed_hex(p.board_seed_hex)


def election_key(p: Petition) -> ThresholdPublicKey:
    if p.election_key_json is None:
        raise ApiError(409, "no_key", "the petition has no election key yet")
    return ThresholdPublicKey.from_json(json.loads(p.election_key_json))


def fingerprint_of(p: Petition) -> bytes:
    if p.fingerprint_hex is None:
        raise ApiError(409, "not_open", "the petition has not been opened")
    return bytes.fromhex(p.fingerprint_hex)


def compute_fingerprint(p: Petition) -> bytes:
    """``petition_fingerprint(params, election key, issuer key, board key)``."""
    assert p.election_key_json is not None
    return petition_fingerprint(params_of(p), json.loads(p.election_key_json),
                                json.loads(p.issuer_public_json), bytes.fromhex(p.board_public_hex))


def parse_election_key(key_json: object, *, allow_test_key: bool) -> ThresholdPublicKey:
    if isinstance(key_json, dict) and "shares" in key_json:
        if not isinstance(key_json.get("public_key"), dict):
            raise ApiError(400, "invalid_key", "this file holds key shares: give only the public key")
    if isinstance(key_json, dict) and isinstance(key_json.get("public_key"), dict):
        key_json = key_json["public_key"]
    try:
        key = ThresholdPublicKey.from_json(key_json)
    except (CryptoError, KeyError, TypeError, ValueError) as exc:
        raise ApiError(400, "invalid_key", f"not a threshold public key: {exc}") from exc
    if key.n.bit_length() < MIN_ELECTION_KEY_BITS and not allow_test_key:
        raise ApiError(400, "weak_key", f"election key must be at least {MIN_ELECTION_KEY_BITS} bits")
    return key
