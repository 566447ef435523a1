"""Every check of the key-generation transcript verifier (docs §4.7.9,
``crypto/dkg/transcript.py``) on a stored 1024-bit transcript
(``tests/fixtures/dkg-transcript-1024-2of3.json``, see its generator): each test breaks one
part and expects the message of exactly the check that must catch it."""

from __future__ import annotations

import copy
import hashlib
import json
import math
import re
from pathlib import Path
from typing import Any

import gmpy2
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crypto.dkg.arith import confirmation_values, derive_v
from crypto.dkg.errors import InvalidTranscript
from crypto.dkg.transcript import (
    CONFIRM_CONTEXT,
    DIGEST_DOMAIN,
    SID_DOMAIN,
    SIGN_DOMAIN,
    bpt_ok,
    commitment_product,
    confirmation_ciphertext,
    session_id,
    transcript_digest,
    verify_transcript,
)
from crypto.encoding import canonical_json, hex_to_int, int_to_hex
from crypto.threshold import KeyShare, ThresholdPublicKey, partial_decrypt

FIXTURE = json.loads((Path(__file__).parents[1] / "fixtures" / "dkg-transcript-1024-2of3.json")
                     .read_text(encoding="utf-8"))
PREFIX = "key-generation transcript: "


def _t() -> dict[str, Any]:
    return copy.deepcopy(FIXTURE["transcript"])


def _n(t: dict[str, Any]) -> int:
    return hex_to_int(t["modulus"]["n"])


def _resign(t: dict[str, Any]) -> None:
    digest = transcript_digest(t)
    for i in (1, 2, 3):
        key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(FIXTURE["sign_keys"][str(i)]))
        t["signatures"][i - 1]["signature"] = key.sign(SIGN_DOMAIN + digest).hex()


def _fails(t: object, message: str, **kw: Any) -> InvalidTranscript:
    with pytest.raises(InvalidTranscript, match="^" + re.escape(PREFIX + message) + "$") as info:
        verify_transcript(t, **kw)
    assert info.value.culprit is None
    return info.value


def test_the_stored_transcript_verifies() -> None:
    t = _t()
    tpk = verify_transcript(t, election="units")
    assert tpk == ThresholdPublicKey.from_json(t["public_key"])
    assert verify_transcript(t) == tpk  # no election given: not compared; test keys allowed
    assert tpk.n == _n(t) and tpk.n.bit_length() == 1024
    assert t == FIXTURE["transcript"]  # not modified


def test_helpers_follow_the_spec() -> None:
    t = _t()
    body = canonical_json({"election": "units", "run": "r1", "params": t["params"],
                           "roster": t["roster"]})
    assert session_id("units", "r1", t["params"], t["roster"]) == t["sid"] == \
        hashlib.sha256(SID_DOMAIN + b"\x00" + body).hexdigest()
    core = {k: v for k, v in t.items() if k != "signatures"}
    assert transcript_digest(t) == hashlib.sha256(DIGEST_DOMAIN + b"\x00"
                                                  + canonical_json(core)).digest()
    nn = 35 * 35
    assert commitment_product([2, 3, 4], 5, nn) == 2 * 3 ** 5 * 4 ** 25 % nn
    assert commitment_product([], 5, nn) == 1
    n = _n(t)
    m, r = confirmation_values(t["sid"], n)
    assert confirmation_ciphertext(t["sid"], n) == ((1 + n * m) * pow(r, n, n * n) % (n * n), m)


def test_bpt_ok() -> None:
    assert bpt_ok(15, [2, 8])  # 16 ≡ 1
    assert bpt_ok(15, [2, 7])  # 14 ≡ −1
    assert bpt_ok(15, [14])
    assert bpt_ok(15, [1])
    assert bpt_ok(15, [])
    assert not bpt_ok(15, [2, 4])
    assert not bpt_ok(15, [0, 1])
    assert not bpt_ok(15, [16])  # ≡ 1 but not in [1, N)
    assert not bpt_ok(15, [-14])  # ≡ 1 but not in [1, N)
    assert not bpt_ok(15, [15, 1])


# -- structure, parameters, session id ---------------------------------------------------------


@pytest.mark.parametrize("change", ["list", "extra", "missing"])
def test_wrong_set_of_fields(change: str) -> None:
    t: Any = _t()
    if change == "list":
        t = list(t)
    elif change == "extra":
        t["extra"] = 1
    else:
        del t["candidates_tried"]
    _fails(t, "wrong set of fields")


def test_unknown_format() -> None:
    t = _t()
    t["format"] = "saylau-dkg-transcript/v2"
    _fails(t, "unknown format 'saylau-dkg-transcript/v2'")


def test_another_election() -> None:
    _fails(_t(), "it is for another election", election="other")


@pytest.mark.parametrize(("change", "message"), [
    ("no-bits", "bad parameters ('bits')"),
    ("list", "bad parameters (list indices must be integers or slices, not str)"),
    ("trustees", "bad parameters (distributed key generation needs 3..16 trustees)"),
    ("bpt_rounds", "parameters differ from this version's constants"),
    ("stat_bits", "parameters differ from this version's constants"),
    ("batch", "parameters differ from this version's constants"),
    ("extra", "parameters differ from this version's constants"),
])
def test_bad_parameters(change: str, message: str) -> None:
    t = _t()
    if change == "no-bits":
        del t["params"]["bits"]
    elif change == "list":
        t["params"] = [1]
    elif change == "trustees":
        t["params"]["trustees"] = 2
    elif change == "batch":
        t["params"]["batch"] = 0  # DkgParams chooses one: no longer what was published
    elif change == "extra":
        t["params"]["x"] = 1
    else:
        t["params"][change] -= 1
    _fails(t, message)


def test_test_keys_refused_when_not_allowed() -> None:
    _fails(_t(), "bad parameters (modulus length 1024: need a multiple of 8, >= 2048)",
           allow_test_key=False)


@pytest.mark.parametrize("roster", [
    "dict", "reversed", "short", "not-entries"])
def test_roster_must_list_trustees_in_order(roster: str) -> None:
    t = _t()
    if roster == "dict":
        t["roster"] = {"1": t["roster"][0]}
    elif roster == "reversed":
        t["roster"].reverse()
    elif roster == "short":
        t["roster"].pop()
    else:
        t["roster"] = [1, 2, 3]
    _fails(t, "roster must list trustees 1..ℓ in order")


@pytest.mark.parametrize("field", ["sid", "run", "election", "roster"])
def test_session_id_must_match(field: str) -> None:
    t = _t()
    if field == "roster":
        t["roster"][0]["sign_key"] = t["roster"][1]["sign_key"]
    else:
        t[field] = t[field] + "x"
    _fails(t, "session id does not match election, run, parameters and roster")


# -- the modulus (D5) --------------------------------------------------------------------------

TRIAL = "modulus fails trial division (or is a perfect power, or N ≢ 1 mod 4)"


def _with_n(n: int) -> dict[str, Any]:
    t = _t()
    t["modulus"]["n"] = int_to_hex(n)
    return t


def _prime_from(x: int, mod4: int) -> int:
    while True:
        x = int(gmpy2.next_prime(x))
        if x % 4 == mod4:
            return x


def test_modulus_size() -> None:
    _fails(_with_n((9 << 1020) - 1), "modulus has the wrong size")  # 1024 bits, too small
    _fails(_with_n((1 << 1023) - 1), "modulus has the wrong size")  # 1023 bits
    _fails(_with_n((1 << 1024) + 1), "modulus has the wrong size")  # 1025 bits
    _fails(_with_n(9 << 1020), TRIAL)  # the smallest allowed size: the next check fails


def test_modulus_form_and_trial_division() -> None:
    big = _prime_from(10 << 1020, 3)
    _fails(_with_n(big), TRIAL)  # prime, but ≡ 3 (mod 4)
    assert big % 4 == 3
    for small in (3, 32749):  # the smallest and the largest odd prime below 2^15
        y = _prime_from((10 << 1020) // small, 1 if small % 4 == 1 else 3)
        assert (small * y) % 4 == 1 and (small * y).bit_length() == 1024
        _fails(_with_n(small * y), TRIAL)
    x = _prime_from(3 << 510, 1)
    assert (x * x).bit_length() == 1024 and x * x % 4 == 1
    _fails(_with_n(x * x), TRIAL)  # a square of a prime above the bound


def test_malformed_values() -> None:
    t = _t()
    t["modulus"] = {}
    _fails(t, "malformed ('n')")
    t = _t()
    t["modulus"]["n"] = "0x1"
    _fails(t, "malformed (n: expected canonical lowercase hex)")
    t = _t()
    t["theta"] = []
    _fails(t, "malformed (list indices must be integers or slices, not str)")
    t = _t()
    t["biprimality"][0][0] = 5
    _fails(t, "malformed (bpt: expected canonical lowercase hex)")
    for where, name in (("w", "w"), ("theta", "theta")):
        t = _t()
        t["theta"][where] = "0x1"
        _fails(t, f"malformed ({name}: expected canonical lowercase hex)")
    t = _t()
    t["commitments"][0][1] = "0x1"
    _fails(t, "malformed (C: expected canonical lowercase hex)")


# -- biprimality (D6) ------------------------------------------------------------------------


@pytest.mark.parametrize("rounds", ["dict", 63, 65])
def test_biprimality_round_count(rounds: Any) -> None:
    t = _t()
    if rounds == "dict":
        t["biprimality"] = {}
    elif rounds == 63:
        t["biprimality"].pop()
    else:
        t["biprimality"].append(t["biprimality"][0])
    _fails(t, "biprimality test must have 64 rounds")


def test_biprimality_row_shape() -> None:
    t = _t()
    t["biprimality"][3].pop()
    _fails(t, "biprimality round 3: one value per trustee required")
    t = _t()
    t["biprimality"][5] = "abc"
    _fails(t, "biprimality round 5: one value per trustee required")


@pytest.mark.parametrize("value", ["zero", "n", "bump"])
def test_biprimality_values(value: str) -> None:
    t = _t()
    n = _n(t)
    row = t["biprimality"][7]
    row[1] = {"zero": "0", "n": int_to_hex(n),
              "bump": int_to_hex((hex_to_int(row[1]) + 1) % n)}[value]
    _fails(t, "biprimality round 7: product of the values is not ±1 mod N")


def test_biprimality_values_that_keep_the_product_pass_this_check() -> None:
    t = _t()
    n = _n(t)
    row = t["biprimality"][0]
    a, b = hex_to_int(row[0]), hex_to_int(row[1])
    row[0], row[1] = int_to_hex(a * 2 % n), int_to_hex(b * pow(2, -1, n) % n)
    _fails(t, "trustee 1's signature does not verify")  # the signatures cover the values


# -- θ (D9) ----------------------------------------------------------------------------------

THETA = "θ is not W mod N, or gcd(θ, N) ≠ 1"


def _set_theta(t: dict[str, Any], w: int, theta: int | None = None) -> None:
    t["theta"]["w"] = int_to_hex(w)
    t["theta"]["theta"] = int_to_hex(w % _n(t) if theta is None else theta)


def test_theta_checks() -> None:
    w_bound = 1 << (2 * 1024 + 2 * 128 + 16)
    t = _t()
    _set_theta(t, w_bound)
    _fails(t, THETA)
    t = _t()
    _set_theta(t, w_bound - 1)  # in range and θ = W mod N: the public key's θ differs now
    _fails(t, "public key's θ is not Δ·θ mod N")
    t = _t()
    w = hex_to_int(t["theta"]["w"])
    _set_theta(t, w, (w + 1) % _n(t))
    _fails(t, THETA)
    t = _t()
    _set_theta(t, 5 * _n(t))  # θ = 0
    _fails(t, THETA)
    t = _t()
    _set_theta(t, 0, 0)
    _fails(t, THETA)


# -- commitments and the public key (D11, D13) ------------------------------------------------


def test_commitment_rows() -> None:
    t = _t()
    t["commitments"].pop()
    _fails(t, "one commitment row per trustee required")
    t = _t()
    t["commitments"] = {}
    _fails(t, "one commitment row per trustee required")
    t = _t()
    t["commitments"][1].append(t["commitments"][1][0])
    _fails(t, "trustee 2: 2 commitments required")
    t = _t()
    t["commitments"][2] = "ab"
    _fails(t, "trustee 3: 2 commitments required")


@pytest.mark.parametrize("value", ["zero", "nn", "n", "one-off", "one"])
def test_commitment_values(value: str) -> None:
    t = _t()
    n = _n(t)
    nn = n * n
    t["commitments"][1][1] = int_to_hex({"zero": 0, "nn": nn, "n": n, "one-off": nn - 1,
                                         "one": 1}[value])
    if value in ("one-off", "one"):  # units mod N²: only the verification keys show it
        _fails(t, "verification key v_1 does not match the commitments")
    else:
        _fails(t, "trustee 2: commitment not in Z*_(N^2)")


def test_last_verification_key_is_checked() -> None:
    t = _t()
    n = _n(t)
    nn = n * n
    v = hex_to_int(t["public_key"]["v"])
    keys = t["public_key"]["verification_keys"]
    keys[2] = int_to_hex(hex_to_int(keys[2]) * v % nn)
    _fails(t, "verification key v_3 does not match the commitments")


@pytest.mark.parametrize("field", ["threshold", "share_bits", "n"])
def test_public_key_must_match_the_parameters(field: str) -> None:
    t = _t()
    pk = t["public_key"]
    if field == "n":
        other = _prime_from(10 << 1020, 1)
        pk["public"]["n"] = int_to_hex(other)
        for name in ("v",):
            pk[name] = int_to_hex(4)
        pk["verification_keys"] = [int_to_hex(4)] * 3
        pk["theta"] = int_to_hex(2)
    elif field == "threshold":
        pk["threshold"] = 3
    else:
        pk["share_bits"] += 1
    _fails(t, "public key does not match the modulus and parameters")


def test_public_key_trustees_must_match() -> None:
    t = _t()
    pk = t["public_key"]
    pk["trustees"] = 4
    pk["verification_keys"].append(pk["verification_keys"][0])
    _fails(t, "public key does not match the modulus and parameters")


def test_public_key_malformed() -> None:
    t = _t()
    del t["public_key"]["v"]
    _fails(t, "public key: threshold public key: missing field 'v'")


def test_public_key_v_and_theta() -> None:
    t = _t()
    n = _n(t)
    v = hex_to_int(t["public_key"]["v"])
    t["public_key"]["v"] = int_to_hex(v * v % (n * n))
    _fails(t, "public key's v is not the transcript-derived base")
    assert derive_v(t["sid"], n) == v
    t = _t()
    theta = hex_to_int(t["public_key"]["theta"])
    t["public_key"]["theta"] = int_to_hex(theta * 2 % n)
    _fails(t, "public key's θ is not Δ·θ mod N")
    assert theta == math.factorial(3) * hex_to_int(t["theta"]["theta"]) % n


# -- confirmation (D15) -----------------------------------------------------------------------


def test_confirmation_shape() -> None:
    t = _t()
    t["confirmation"]["partials"].pop()
    _fails(t, "one confirmation partial decryption per trustee required")
    t = _t()
    t["confirmation"]["partials"] = {}
    _fails(t, "one confirmation partial decryption per trustee required")
    t = _t()
    parts = t["confirmation"]["partials"]
    parts[1], parts[2] = parts[2], parts[1]
    _fails(t, "confirmation partials must be in trustee order")


def test_confirmation_proofs() -> None:
    t = _t()
    part = t["confirmation"]["partials"][2]
    part["proof"]["z"] = int_to_hex(hex_to_int(part["proof"]["z"]) + 1)
    err = _fails(t, "confirmation: share 3: proof fails (c^4)^z = a·(c_i^2)^e")
    assert err.__cause__ is not None
    t = _t()
    del t["confirmation"]["partials"][0]["proof"]
    _fails(t, "malformed (partial decryption: missing field 'proof')")


def _partials(t: dict[str, Any]) -> list[dict[str, Any]]:
    tpk = ThresholdPublicKey.from_json(t["public_key"])
    c_star, _ = confirmation_ciphertext(t["sid"], tpk.n)
    return [partial_decrypt(KeyShare(j, int(FIXTURE["shares"][str(j)], 16), tpk), c_star,
                            fingerprint=tpk.fingerprint(), context=CONFIRM_CONTEXT).to_json()
            for j in (1, 2, 3)]


def test_fresh_partials_of_the_stored_shares_verify() -> None:
    t = _t()
    t["confirmation"]["partials"] = _partials(t)
    _fails(t, "trustee 1's signature does not verify")  # all checks before D16 pass
    _resign(t)
    verify_transcript(t, election="units")


def test_a_key_that_does_not_decrypt_the_confirmation() -> None:
    """θ (and W) changed consistently: every partial proof verifies (they do not involve θ),
    but combining gives a wrong plaintext."""
    t = _t()
    n = _n(t)
    w = hex_to_int(t["theta"]["w"]) + 1
    _set_theta(t, w)
    t["public_key"]["theta"] = int_to_hex(6 * (w % n) % n)
    t["confirmation"]["partials"] = _partials(t)
    _fails(t, "the key does not decrypt the confirmation ciphertext")


# -- signatures (D16) -------------------------------------------------------------------------


@pytest.mark.parametrize("change", ["dict", "short", "order"])
def test_signature_list(change: str) -> None:
    t = _t()
    if change == "dict":
        t["signatures"] = {}
    elif change == "short":
        t["signatures"].pop()
    else:
        t["signatures"].reverse()
    _fails(t, "one signature per trustee required, in order")


def test_signature_entries_must_be_objects() -> None:
    t = _t()
    t["signatures"] = [1, 2, 3]
    _fails(t, "one signature per trustee required, in order")


@pytest.mark.parametrize("change", ["flip", "not-hex", "short"])
def test_bad_signature(change: str) -> None:
    t = _t()
    sig = t["signatures"][1]["signature"]
    t["signatures"][1]["signature"] = {
        "flip": ("0" if sig[0] != "0" else "1") + sig[1:], "not-hex": "zz" + sig[2:],
        "short": sig[:-2]}[change]
    _fails(t, "trustee 2's signature does not verify")


def test_signature_missing() -> None:
    t = _t()
    del t["signatures"][2]["signature"]
    _fails(t, "malformed ('signature')")


def test_signatures_cover_the_whole_transcript() -> None:
    t = _t()
    t["candidates_tried"] = 2
    _fails(t, "trustee 1's signature does not verify")
    _resign(t)
    verify_transcript(t)
    t["signatures"][0]["signature"] = _t()["signatures"][0]["signature"]
    _fails(t, "trustee 1's signature does not verify")


@pytest.mark.parametrize("value", [0, -1, "1", [1], None])
def test_candidates_tried(value: object) -> None:
    t = _t()
    t["candidates_tried"] = value
    _resign(t)
    _fails(t, "candidates_tried must be a positive integer")
