"""The public transcript of a distributed key generation and its verifier (docs §4.7.9).

``verify_transcript(obj)`` recomputes everything that is public: the session id, the
trial division and the ``BPT_ROUNDS`` Boneh–Franklin products of the modulus, ``θ``,
the Feldman base ``v``, every verification key from the commitments, the confirmation
decryption, and every trustee's Ed25519 signature over the transcript digest.  Each
failure raises :class:`InvalidTranscript` saying which check failed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import gmpy2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from crypto.dkg.arith import confirmation_values, derive_v
from crypto.dkg.errors import InvalidTranscript, ParameterMismatch
from crypto.dkg.params import BPT_ROUNDS, STAT_BITS, TRIAL_DIVISION_BOUND, DkgParams, primorial
from crypto.encoding import canonical_json, hex_to_int
from crypto.errors import CryptoError
from crypto.paillier import powmod
from crypto.threshold import (
    PartialDecryption,
    ThresholdPublicKey,
    combine,
    verify_partial_decryption,
)

TRANSCRIPT_FORMAT = "saylau-dkg-transcript/v1"
SID_DOMAIN = b"saylau/v1/dkg-session"
DIGEST_DOMAIN = b"saylau/v1/dkg-transcript"
SIGN_DOMAIN = b"saylau/v1/dkg-sign\x00"
CONFIRM_CONTEXT = ("saylau-dkg", "confirm")

_FIELDS = {"format", "election", "run", "sid", "params", "roster", "candidates_tried",
           "modulus", "biprimality", "theta", "commitments", "confirmation", "public_key",
           "signatures"}


def session_id(election: str, run: str, params: dict[str, Any],
               roster: Sequence[dict[str, Any]]) -> str:
    """D0: ``sid = SHA-256(SID_DOMAIN ‖ 0x00 ‖ canonical_json({election, run, params,
    roster}))`` in hex."""
    body = canonical_json({"election": election, "run": run, "params": params,
                           "roster": list(roster)})
    return hashlib.sha256(SID_DOMAIN + b"\x00" + body).hexdigest()


def transcript_digest(core: dict[str, Any]) -> bytes:
    """D16: ``SHA-256(DIGEST_DOMAIN ‖ 0x00 ‖ canonical_json(transcript without
    "signatures"))``."""
    body = {k: v for k, v in core.items() if k != "signatures"}
    return hashlib.sha256(DIGEST_DOMAIN + b"\x00" + canonical_json(body)).digest()


def bpt_ok(n: int, values: Sequence[int]) -> bool:
    """D6: ``∏ v_i ≡ ±1 (mod N)``, every ``v_i`` in ``[1, N)``."""
    acc = 1
    for x in values:
        if not 0 < x < n:
            return False
        acc = acc * x % n
    return acc in (1, n - 1)


def commitment_product(row: Sequence[int], j: int, nn: int) -> int:
    """D11: ``∏_k C_ik^(j^k) mod N²`` (``= v^(f_i(j))`` for honest commitments)."""
    acc = 1
    for k, c in enumerate(row):
        acc = acc * powmod(c, j ** k, nn) % nn
    return acc


def confirmation_ciphertext(sid: str, n: int) -> tuple[int, int]:
    """D15: ``c* = (1 + N·m*)·r*^N mod N²`` and ``m*``."""
    m, r = confirmation_values(sid, n)
    nn = n * n
    return (1 + n * m) * powmod(r, n, nn) % nn, m


def _fail(message: str) -> InvalidTranscript:
    return InvalidTranscript(f"key-generation transcript: {message}")


def _index(entry: object) -> object:
    """A roster or signature entry's ``index`` (None for an entry that is not an object)."""
    return entry.get("index") if isinstance(entry, dict) else None


def verify_transcript(obj: object, *, election: str | None = None,
                      allow_test_key: bool = True) -> ThresholdPublicKey:
    """Check every public part of a transcript; return the key it certifies."""
    if not isinstance(obj, dict) or set(obj) != _FIELDS:
        raise _fail("wrong set of fields")
    if obj["format"] != TRANSCRIPT_FORMAT:
        raise _fail(f"unknown format {obj['format']!r}")
    if election is not None and obj["election"] != election:
        raise _fail("it is for another election")
    raw_params = obj["params"]
    try:
        params = DkgParams(raw_params["bits"], raw_params["trustees"], raw_params["threshold"],
                           raw_params["batch"], allow_test_key=allow_test_key)
    except (ParameterMismatch, KeyError, TypeError) as exc:
        raise _fail(f"bad parameters ({exc})") from exc
    if params.to_json() != raw_params or raw_params["stat_bits"] != STAT_BITS:
        raise _fail("parameters differ from this version's constants")
    ell = params.trustees
    roster = obj["roster"]
    if not isinstance(roster, list) or [_index(e) for e in roster] != list(range(1, ell + 1)):
        raise _fail("roster must list trustees 1..ℓ in order")
    sid = session_id(str(obj["election"]), str(obj["run"]), raw_params, roster)
    if obj["sid"] != sid:
        raise _fail("session id does not match election, run, parameters and roster")
    try:
        return _verify_values(obj, params, sid, roster)
    except (CryptoError, KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, InvalidTranscript):
            raise
        raise _fail(f"malformed ({exc})") from exc


def _verify_values(obj: dict[str, Any], params: DkgParams, sid: str,
                   roster: list[dict[str, Any]]) -> ThresholdPublicKey:
    ell = params.trustees
    n = hex_to_int(obj["modulus"]["n"], "n")
    nn = n * n
    # D5: size, form and trial division of the modulus
    if n.bit_length() != params.bits or n < 9 << (params.bits - 4):
        raise _fail("modulus has the wrong size")
    if n % 4 != 1 or gmpy2.gcd(n, primorial(TRIAL_DIVISION_BOUND)) != 1 or gmpy2.is_power(n):
        raise _fail("modulus fails trial division (or is a perfect power, or N ≢ 1 mod 4)")
    # D6: the Boneh–Franklin test, BPT_ROUNDS rounds
    rounds = obj["biprimality"]
    if not isinstance(rounds, list) or len(rounds) != BPT_ROUNDS:
        raise _fail(f"biprimality test must have {BPT_ROUNDS} rounds")
    for r, row in enumerate(rounds):
        if not isinstance(row, list) or len(row) != ell:
            raise _fail(f"biprimality round {r}: one value per trustee required")
        values = [hex_to_int(x, "bpt") for x in row]
        if not bpt_ok(n, values):
            raise _fail(f"biprimality round {r}: product of the values is not ±1 mod N")
    # D9: θ
    w = hex_to_int(obj["theta"]["w"], "w")
    theta = hex_to_int(obj["theta"]["theta"], "theta")
    w_bound = 1 << (2 * params.bits + 2 * STAT_BITS + 16)  # < P2 (D2); honest W < 2^(2b+2κ+11)
    if not 0 <= w < w_bound or theta != w % n or gmpy2.gcd(theta, n) != 1:
        raise _fail("θ is not W mod N, or gcd(θ, N) ≠ 1")
    # D11/D13: commitments and verification keys
    rows = obj["commitments"]
    if not isinstance(rows, list) or len(rows) != ell:
        raise _fail("one commitment row per trustee required")
    commitments = []
    for i, row in enumerate(rows, start=1):
        if not isinstance(row, list) or len(row) != params.t + 1:
            raise _fail(f"trustee {i}: {params.t + 1} commitments required")
        vals = [hex_to_int(x, "C") for x in row]
        if any(not 0 < c < nn or gmpy2.gcd(c, n) != 1 for c in vals):
            raise _fail(f"trustee {i}: commitment not in Z*_(N^2)")
        commitments.append(vals)
    v = derive_v(sid, n)
    try:
        tpk = ThresholdPublicKey.from_json(obj["public_key"])
    except CryptoError as exc:
        raise _fail(f"public key: {exc}") from exc
    if (tpk.n, tpk.trustees, tpk.threshold, tpk.share_bits) != (
            n, ell, params.threshold, params.share_bits):
        raise _fail("public key does not match the modulus and parameters")
    if tpk.v != v:
        raise _fail("public key's v is not the transcript-derived base")
    if tpk.theta != params.delta * theta % n:
        raise _fail("public key's θ is not Δ·θ mod N")
    for j in range(1, ell + 1):
        acc = 1
        for row in commitments:
            acc = acc * commitment_product(row, j, nn) % nn
        if powmod(acc, params.delta, nn) != tpk.verification_key(j):
            raise _fail(f"verification key v_{j} does not match the commitments")
    # D15: key confirmation
    c_star, m_star = confirmation_ciphertext(sid, n)
    fp = tpk.fingerprint()
    parts = obj["confirmation"]["partials"]
    if not isinstance(parts, list) or len(parts) != ell:
        raise _fail("one confirmation partial decryption per trustee required")
    partials = [PartialDecryption.from_json(x) for x in parts]
    for j, part in enumerate(partials, start=1):
        if part.index != j:
            raise _fail("confirmation partials must be in trustee order")
        try:
            verify_partial_decryption(tpk, c_star, part, fingerprint=fp, context=CONFIRM_CONTEXT)
        except CryptoError as exc:
            raise _fail(f"confirmation: {exc}") from exc
    for subset in (partials[: params.threshold], partials[-params.threshold:]):
        if combine(tpk, c_star, subset, fingerprint=fp, context=CONFIRM_CONTEXT).m != m_star:
            raise _fail("the key does not decrypt the confirmation ciphertext")
    # D16: signatures
    digest = transcript_digest(obj)
    sigs = obj["signatures"]
    if not isinstance(sigs, list) or [_index(s) for s in sigs] != list(range(1, ell + 1)):
        raise _fail("one signature per trustee required, in order")
    for entry, sig in zip(roster, sigs, strict=True):
        try:
            Ed25519PublicKey.from_public_bytes(bytes.fromhex(entry["sign_key"])).verify(
                bytes.fromhex(sig["signature"]), SIGN_DOMAIN + digest)
        except (InvalidSignature, ValueError) as exc:
            raise _fail(f"trustee {entry['index']}'s signature does not verify") from exc
    if not isinstance(obj["candidates_tried"], int) or obj["candidates_tried"] < 1:
        raise _fail("candidates_tried must be a positive integer")
    return tpk
