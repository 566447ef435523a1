"""Tests written for the mutants of crypto/threshold.py, threshold_keys.py and threshold_proofs.py
that survived mutation testing (docs/testing.md, "Mutation testing").

They pin what no other fast test observed: a successful run of the trusted dealer (its
progress notes, the shape of its shares: ``Σ λ_i s_i ≡ Δ·d (mod n·m)`` with ``d ≡ 0 (mod m)``,
``d ≡ 1 (mod n)``, a polynomial of degree exactly ``k − 1``), its argument checks with their
messages, the draw of ``v``, the keys of distributed key generation (``θ ≠ 1`` and
``share_bits``: range checks, JSON, fingerprint, share bound, proof size, combination), the
boundaries of the unit checks, and every field name in the JSON error messages.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import re
from pathlib import Path
from typing import Any

import gmpy2
import pytest

from crypto import paillier as P
from crypto import threshold as T
from crypto.errors import DecryptionError, InvalidEncoding, InvalidKey, InvalidShare
from crypto.threshold import (
    EqualityProof,
    KeyShare,
    PartialDecryption,
    ThresholdPublicKey,
    check_share,
    combine,
    generate_threshold_key,
    lagrange_coefficient,
    partial_decrypt,
    response_bits,
    verify_partial_decryption,
)
from tests.crypto.test_transcript_kat import bytelen, f_int, f_list, f_text

DOC = json.loads((Path(__file__).parents[1] / "fixtures" / "threshold-test-key-1024-3of5.json").read_text())
TPK = ThresholdPublicKey.from_json(DOC["public_key"])
SHARES = [KeyShare.from_json(s) for s in DOC["shares"]]
N, NN = TPK.n, TPK.nsquare
FP = bytes(range(32))
CTX = ("question", "q1", "option", "o1")

#: Two 512-bit safe primes (made with crypto.primes.generate_safe_prime; checked below).
SAFE_P = int(
    "da46b441b4087a68202bb31a1cf4bff39edbdf169f678d1fcfb680144faac55b"
    "7a0cbc718e71035ec4d36dc5d3204c84fb2f9ac2459da03674827c4b53a7d6b7", 16)
SAFE_Q = int(
    "d9237dbd617896dddbc415be1d4eec264b4753c2e638a8ca99a537d6c81ab35b"
    "ee4c55821f8bad458a5a0dd3a2002201ca34ee6bc7148b1ae6a7b7eb9d54edc3", 16)


def _enc(m: int, tpk: ThresholdPublicKey = TPK) -> int:
    return P.encrypt(tpk.public, m)[0]


def _decrypt(tpk: ThresholdPublicKey, shares: list[KeyShare], indices: tuple[int, ...], m: int) -> int:
    c = _enc(m, tpk)
    partials = [partial_decrypt(shares[i - 1], c, fingerprint=FP, context=CTX) for i in indices]
    return combine(tpk, c, partials, fingerprint=FP, context=CTX).m


# --------------------------------------------------------------------------- the dealer


def test_safe_prime_constants() -> None:
    for p in (SAFE_P, SAFE_Q):
        assert p.bit_length() == 512 and gmpy2.is_prime(p, 50) and gmpy2.is_prime((p - 1) // 2, 50)


@pytest.fixture(scope="module")
def dealt() -> tuple[ThresholdPublicKey, list[KeyShare], list[str]]:
    notes: list[str] = []
    tpk, shares = generate_threshold_key(1024, 5, 3, allow_test_key=True, progress=notes.append)
    return tpk, shares, notes


def test_dealer_makes_a_working_3_of_5_key(dealt) -> None:
    tpk, shares, notes = dealt
    assert tpk.n.bit_length() == 1024 and tpk.n % 2 == 1
    assert (tpk.threshold, tpk.trustees, tpk.delta, tpk.theta, tpk.share_bits) == (3, 5, 120, 1, None)
    assert [s.index for s in shares] == [1, 2, 3, 4, 5]
    assert all(s.public is tpk for s in shares)
    for share in shares:
        check_share(share)
    assert tpk.v != 1 and len(set(tpk.verification_keys)) == 5
    for subset in itertools.combinations(range(1, 6), 3):
        assert _decrypt(tpk, shares, subset, 4242) == 4242
    found = [note for note in notes if "found" in note]
    assert [note.split(":")[0] for note in found] == ["safe prime 1/2", "safe prime 2/2"]
    assert all(re.fullmatch(r"safe prime [12]/2: (found after )?\d+ candidates( tested)?", note)
               for note in notes[:-1])
    assert notes[-1] == "self-test"


def test_dealer_polynomial_has_degree_k_minus_1(dealt) -> None:
    """k − 1 shares must not decrypt: lowering the key's threshold to 2 makes combine fail."""
    tpk, shares, _ = dealt
    weak = dataclasses.replace(tpk, threshold=2)
    c = _enc(7, tpk)
    partials = [partial_decrypt(shares[i], c, fingerprint=FP, context=CTX) for i in (0, 1)]
    with pytest.raises(DecryptionError, match=r"^combined value is not of the form 1 \+ x·n$"):
        combine(weak, c, partials, fingerprint=FP, context=CTX)


def test_fixture_key_also_needs_three_shares() -> None:
    weak = dataclasses.replace(TPK, threshold=2)
    c = _enc(7)
    partials = [partial_decrypt(SHARES[i], c, fingerprint=FP, context=CTX) for i in (1, 3)]
    with pytest.raises(DecryptionError, match=r"^combined value is not of the form 1 \+ x·n$"):
        combine(weak, c, partials, fingerprint=FP, context=CTX)


class _Primes:
    """Stands in for generate_safe_prime: returns SAFE_P, SAFE_P (rejected: q = p), SAFE_Q."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, str, bool]] = []
        self._values = iter([SAFE_P, SAFE_P, SAFE_Q])

    def __call__(self, bits: int, *, progress: Any = None, label: str = "safe prime") -> int:
        self.calls.append((bits, label, progress is not None))
        return next(self._values)


def test_dealer_with_known_primes(monkeypatch: pytest.MonkeyPatch) -> None:
    """With p, q known: q = p is drawn again, d ≡ 0 (mod m), d ≡ 1 (mod n), v a square."""
    fake = _Primes()
    monkeypatch.setattr(T, "generate_safe_prime", fake)
    notes: list[str] = []
    tpk, shares = generate_threshold_key(1024, 4, 3, allow_test_key=True, progress=notes.append)
    assert fake.calls == [(512, "safe prime 1/2", True), (512, "safe prime 2/2", True),
                          (512, "safe prime 2/2", True)]
    assert notes == ["self-test"]
    n = SAFE_P * SAFE_Q
    assert tpk.n == n
    m = (SAFE_P - 1) // 2 * ((SAFE_Q - 1) // 2)
    nm = n * m
    d = m * pow(m, -1, n)
    assert d % m == 0 and d % n == 1
    delta = tpk.delta
    for subset in itertools.combinations(range(1, 5), 3):
        total = sum(lagrange_coefficient(delta, i, subset) * shares[i - 1].s for i in subset)
        assert total % nm == delta * d % nm
    assert all(0 <= s.s < nm for s in shares)
    # v is a square in Z*_(n^2): its order divides n·m (the group of squares)
    assert pow(tpk.v, nm, n * n) == 1 and tpk.v != 1


def test_dealer_smallest_and_largest_trustee_counts() -> None:
    tpk, shares = generate_threshold_key(1024, 1, 1, allow_test_key=True)
    assert (tpk.threshold, tpk.trustees) == (1, 1) and _decrypt(tpk, shares, (1,), 99) == 99
    tpk, shares = generate_threshold_key(1024, 64, 1, allow_test_key=True)
    assert tpk.trustees == 64 and len(shares) == 64
    assert _decrypt(tpk, shares, (64,), 5) == 5


@pytest.mark.parametrize("bits,test_key,message", [
    (1022, True, r"^refusing to generate a 1022-bit threshold key \(minimum 1024\)$"),
    (2046, False, r"^refusing to generate a 2046-bit threshold key \(minimum 2048\)$"),
    (1024, False, r"^refusing to generate a 1024-bit threshold key \(minimum 2048\)$"),
    (True, True, r"^refusing to generate a True-bit threshold key \(minimum 1024\)$"),
    ("2048", False, r"^refusing to generate a 2048-bit threshold key \(minimum 2048\)$"),
    (1025, True, r"^the modulus length must be even$"),
])
def test_dealer_refuses_sizes(bits: Any, test_key: bool, message: str) -> None:
    with pytest.raises(InvalidKey, match=message):
        generate_threshold_key(bits, 3, 2, allow_test_key=test_key)


@pytest.mark.parametrize("trustees,threshold,message", [
    (0, 1, r"^trustees must be 1\.\.64$"),
    (65, 1, r"^trustees must be 1\.\.64$"),
    (3, 0, r"^threshold must satisfy 1 <= k <= trustees$"),
    (3, 4, r"^threshold must satisfy 1 <= k <= trustees$"),
])
def test_dealer_refuses_counts(trustees: int, threshold: int, message: str) -> None:
    with pytest.raises(InvalidKey, match=message):
        generate_threshold_key(1024, trustees, threshold, allow_test_key=True)


class _Draws:
    """Stands in for ``secrets``: randbelow records its bound and returns the given values."""

    def __init__(self, values: list[int]) -> None:
        self._values = iter(values)
        self.bounds: list[int] = []

    def randbelow(self, bound: int) -> int:
        self.bounds.append(bound)
        return next(self._values)


def test_random_square_draws_from_2_to_n2_minus_1_and_skips_bad_values(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """x = n (not a unit) and x = N − 1 (x² = 1) are drawn again; x = 3 gives v = 9."""
    n = SAFE_P * SAFE_Q
    nn = n * n
    draws = _Draws([n - 2, nn - 3, 1])
    monkeypatch.setattr(T, "secrets", draws)
    assert T._random_square(n) == 9
    assert draws.bounds == [nn - 2] * 3


def test_poly_eval_is_horner_modulo() -> None:
    assert T._poly_eval([5, 3, 2], 4, 1000) == 5 + 3 * 4 + 2 * 16
    assert T._poly_eval([5, 3, 2], 4, 11) == 49 % 11
    assert T._poly_eval([], 4, 11) == 0
    assert T._poly_eval([7], 9, 5) == 2


def test_lagrange_coefficient_refuses_a_fraction() -> None:
    assert lagrange_coefficient(2, 1, (1, 3)) == 3
    with pytest.raises(InvalidShare, match=r"^Lagrange coefficient is not an integer$"):
        lagrange_coefficient(1, 1, (1, 3))


# --------------------------------------------------------------------------- distributed keys


T_MULT = 7
SHARE_BITS = 2 * 1024 + 8


def _distributed(mult: int = T_MULT, share_bits: int = SHARE_BITS) -> tuple[ThresholdPublicKey, list[KeyShare]]:
    """The fixture's shares times ``t``: a key with ``θ = t`` (the shared exponent is ``t·d``)."""
    vks = tuple(pow(TPK.v, TPK.delta * mult * s.s, NN) for s in SHARES)
    tpk = ThresholdPublicKey(TPK.public, 3, 5, TPK.v, vks, theta=mult, share_bits=share_bits)
    return tpk, [KeyShare(s.index, s.s * mult, tpk) for s in SHARES]


DK, DK_SHARES = _distributed()


def test_distributed_key_decrypts_with_theta() -> None:
    assert _decrypt(DK, DK_SHARES, (2, 4, 5), 31337) == 31337
    for share in DK_SHARES:
        check_share(share)
    assert response_bits(DK) == SHARE_BITS + 7 + 512
    c = _enc(5, DK)
    partial = partial_decrypt(DK_SHARES[0], c, fingerprint=FP, context=CTX)
    assert partial.proof.z.bit_length() <= response_bits(DK) + 1
    verify_partial_decryption(DK, c, partial, fingerprint=FP, context=CTX)


def test_distributed_key_json_and_fingerprint() -> None:
    dk, _ = _distributed()  # built here, so that the fingerprint is computed by this run's code
    obj = dk.to_json()
    assert obj == {**TPK.to_json(), "verification_keys": [format(v, "x") for v in DK.verification_keys],
                   "theta": "7", "share_bits": SHARE_BITS}
    assert ThresholdPublicKey.from_json(json.loads(json.dumps(obj))) == dk
    out = f_text("domain", "saylau/v1/threshold-public-key")
    out += f_int("n", N, bytelen(N))
    out += f_int("threshold", 3, 4)
    out += f_int("trustees", 5, 4)
    out += f_int("v", dk.v, bytelen(NN))
    out += f_list("verification_keys", list(dk.verification_keys), bytelen(NN))
    out += f_int("theta", T_MULT, bytelen(N))
    out += f_int("share_bits", SHARE_BITS, 4)
    assert dk.fingerprint() == hashlib.sha256(out).digest()


@pytest.mark.parametrize("drop", ["theta", "share_bits"])
def test_distributed_key_json_needs_both_fields(drop: str) -> None:
    obj = DK.to_json()
    del obj[drop]
    with pytest.raises(InvalidEncoding, match=f"^threshold public key: missing field '{drop}'$"):
        ThresholdPublicKey.from_json(obj)


def test_distributed_key_json_field_errors_named() -> None:
    obj = DK.to_json()
    obj["theta"] = "07"
    with pytest.raises(InvalidEncoding, match="^theta: expected canonical lowercase hex$"):
        ThresholdPublicKey.from_json(obj)
    obj = DK.to_json()
    obj["theta"] = 7
    with pytest.raises(InvalidEncoding, match=r"^threshold public key\.theta: expected str$"):
        ThresholdPublicKey.from_json(obj)
    obj = DK.to_json()
    obj["share_bits"] = "2056"
    with pytest.raises(InvalidEncoding, match=r"^threshold public key\.share_bits: expected int$"):
        ThresholdPublicKey.from_json(obj)
    obj = DK.to_json()
    obj["share_bits"] = 2 * 1024 - 1
    with pytest.raises(InvalidEncoding, match=r"^threshold public key: theta/share_bits: both absent "
                                              r"\(dealer key\) or both valid$"):
        ThresholdPublicKey.from_json(obj)


THETA_MESSAGE = r"^theta/share_bits: both absent \(dealer key\) or both valid$"


@pytest.mark.parametrize("theta,share_bits", [
    (7, None), (1, SHARE_BITS), (0, SHARE_BITS), (N, SHARE_BITS), (N + 7, SHARE_BITS), (-7, SHARE_BITS),
    (7, 2 * 1024 - 1), (7, 4 * 1024 + 1), (7, 0),
])
def test_theta_and_share_bits_refused(theta: int, share_bits: int | None) -> None:
    with pytest.raises(InvalidKey, match=THETA_MESSAGE):
        ThresholdPublicKey(TPK.public, 3, 5, TPK.v, TPK.verification_keys, theta=theta,
                           share_bits=share_bits)


def test_theta_must_be_a_unit() -> None:
    pub = P.PublicKey(SAFE_P * SAFE_Q)
    with pytest.raises(InvalidKey, match=THETA_MESSAGE):
        ThresholdPublicKey(pub, 1, 1, 4, (4,), theta=SAFE_P, share_bits=2048)
    ThresholdPublicKey(pub, 1, 1, 4, (4,), theta=SAFE_P + 1, share_bits=2048)


@pytest.mark.parametrize("theta,share_bits", [
    (2, 2 * 1024), (N - 1, 4 * 1024), (T_MULT, SHARE_BITS),
])
def test_theta_and_share_bits_accepted_at_the_edges(theta: int, share_bits: int) -> None:
    tpk = ThresholdPublicKey(TPK.public, 3, 5, TPK.v, TPK.verification_keys, theta=theta,
                             share_bits=share_bits)
    assert (tpk.theta, tpk.share_bits) == (theta, share_bits)


def test_share_bound_follows_share_bits() -> None:
    assert KeyShare(1, NN, DK).s == NN  # above n² but below 2^share_bits
    assert KeyShare(1, (1 << SHARE_BITS) - 1, DK).s == (1 << SHARE_BITS) - 1
    assert KeyShare(1, 0, DK).s == 0 and KeyShare(1, 0, TPK).s == 0
    assert KeyShare(1, NN - 1, TPK).s == NN - 1
    for bad, key in (((1 << SHARE_BITS), DK), (-1, DK), (NN, TPK)):
        with pytest.raises(InvalidShare, match="^share value out of range$"):
            KeyShare(1, bad, key)
    with pytest.raises(InvalidShare, match="^share value out of range$"):
        KeyShare(1, "5", TPK)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- public key checks


def test_public_key_counts_at_the_edges() -> None:
    one = ThresholdPublicKey(TPK.public, 1, 1, TPK.v, TPK.verification_keys[:1])
    assert (one.threshold, one.trustees) == (1, 1)
    full = ThresholdPublicKey(TPK.public, 5, 5, TPK.v, TPK.verification_keys)
    assert full.threshold == 5
    many = ThresholdPublicKey(TPK.public, 64, 64, TPK.v, (TPK.v,) * 64)
    assert many.trustees == 64


@pytest.mark.parametrize("threshold,trustees,keys,message", [
    (0, 5, 5, r"^threshold must satisfy 1 <= k <= trustees$"),
    (6, 5, 5, r"^threshold must satisfy 1 <= k <= trustees$"),
    ("3", 5, 5, r"^threshold must satisfy 1 <= k <= trustees$"),
    (1, 0, 0, r"^trustees must be 1\.\.64$"),
    (1, 65, 65, r"^trustees must be 1\.\.64$"),
    (1, "5", 5, r"^trustees must be 1\.\.64$"),
    (3, 5, 4, r"^one verification key per trustee required$"),
    (3, 5, 6, r"^one verification key per trustee required$"),
])
def test_public_key_counts_messages(threshold: Any, trustees: Any, keys: int, message: str) -> None:
    with pytest.raises(InvalidKey, match=message):
        ThresholdPublicKey(TPK.public, threshold, trustees, TPK.v, (TPK.v,) * keys)


def test_unit_check_is_exactly_z_star() -> None:
    """1 and n² − 1 are units (accepted as v_i); 0, n² and multiples of a factor are not.
    As v, 1 and n² − 1 are refused for their order (v² ≡ 1, docs/protocol.md §4.2)."""
    pub = P.PublicKey(SAFE_P * SAFE_Q)
    nn = pub.nsquare
    assert ThresholdPublicKey(pub, 1, 1, 4, (nn - 1,)).verification_keys == (nn - 1,)
    assert ThresholdPublicKey(pub, 1, 1, 4, (1,)).verification_keys == (1,)
    for weak in (1, nn - 1):
        with pytest.raises(InvalidKey, match=r"^v has order 1 or 2 in Z\*_\(n\^2\)"):
            ThresholdPublicKey(pub, 1, 1, weak, (4,))
    for bad in (0, nn, SAFE_P, SAFE_Q * 5, nn + 4):
        with pytest.raises(InvalidKey, match=r"^v is not in Z\*_\(n\^2\)$"):
            ThresholdPublicKey(pub, 1, 1, bad, (4,))
        with pytest.raises(InvalidKey, match=r"^v_1 is not in Z\*_\(n\^2\)$"):
            ThresholdPublicKey(pub, 1, 1, 4, (bad,))


def test_verification_keys_become_a_tuple() -> None:
    tpk = ThresholdPublicKey(TPK.public, 3, 5, TPK.v, list(TPK.verification_keys))  # type: ignore[arg-type]
    assert type(tpk.verification_keys) is tuple and tpk == TPK
    assert hash(tpk.verification_keys) == hash(TPK.verification_keys)


@pytest.mark.parametrize("index", [0, 6, True, "1", 1.0])
def test_verification_key_index_named(index: Any) -> None:
    with pytest.raises(InvalidShare, match=rf"^trustee index {re.escape(repr(index))} outside 1\.\.5$"):
        TPK.verification_key(index)


def test_verification_key_edges() -> None:
    assert TPK.verification_key(1) == TPK.verification_keys[0]
    assert TPK.verification_key(5) == TPK.verification_keys[4]


# --------------------------------------------------------------------------- JSON field names


def _missing(obj: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k != key}


PUBLIC_FIELDS = [("public", dict), ("threshold", int), ("trustees", int), ("v", str),
                 ("verification_keys", list)]


@pytest.mark.parametrize("key,kind", PUBLIC_FIELDS)
def test_public_key_json_field_names(key: str, kind: type) -> None:
    obj = TPK.to_json()
    with pytest.raises(InvalidEncoding, match=f"^threshold public key: missing field '{key}'$"):
        ThresholdPublicKey.from_json(_missing(obj, key))
    wrong = 5 if kind is not int else "5"
    with pytest.raises(InvalidEncoding, match=rf"^threshold public key\.{key}: expected {kind.__name__}$"):
        ThresholdPublicKey.from_json({**obj, key: wrong})


def test_public_key_json_hex_and_wrapped_errors_named() -> None:
    obj = TPK.to_json()
    with pytest.raises(InvalidEncoding, match="^v: expected canonical lowercase hex$"):
        ThresholdPublicKey.from_json({**obj, "v": "0x4"})
    keys = list(obj["verification_keys"])
    keys[1] = "AB"
    with pytest.raises(InvalidEncoding, match=r"^verification_keys\[\]: expected canonical lowercase hex$"):
        ThresholdPublicKey.from_json({**obj, "verification_keys": keys})
    with pytest.raises(InvalidEncoding, match="^threshold public key: Paillier modulus too small$"):
        ThresholdPublicKey.from_json({**obj, "public": {"n": "f" * 100}})
    with pytest.raises(InvalidEncoding, match=r"^threshold public key: threshold must satisfy 1 <= k <= trustees$"):
        ThresholdPublicKey.from_json({**obj, "threshold": 6})
    with pytest.raises(InvalidEncoding, match="^threshold public key: expected a JSON object$"):
        ThresholdPublicKey.from_json([obj])


@pytest.mark.parametrize("key,kind", [("index", int), ("s", str), ("public", dict)])
def test_key_share_json_field_names(key: str, kind: type) -> None:
    obj = SHARES[0].to_json()
    assert obj == {"index": 1, "s": format(SHARES[0].s, "x"), "public": TPK.to_json()}
    with pytest.raises(InvalidEncoding, match=f"^key share: missing field '{key}'$"):
        KeyShare.from_json(_missing(obj, key))
    wrong = 5 if kind is not int else "5"
    with pytest.raises(InvalidEncoding, match=rf"^key share\.{key}: expected {kind.__name__}$"):
        KeyShare.from_json({**obj, key: wrong})


def test_key_share_json_hex_and_range_named() -> None:
    obj = SHARES[0].to_json()
    with pytest.raises(InvalidEncoding, match="^s: expected canonical lowercase hex$"):
        KeyShare.from_json({**obj, "s": "0x1"})
    with pytest.raises(InvalidEncoding, match="^key share: share value out of range$"):
        KeyShare.from_json({**obj, "s": format(NN, "x")})


@pytest.mark.parametrize("key", ["a", "b", "e", "z"])
def test_equality_proof_json_field_names(key: str) -> None:
    proof = partial_decrypt(SHARES[0], _enc(1), fingerprint=FP, context=CTX).proof
    obj = proof.to_json()
    assert obj == {k: format(getattr(proof, k), "x") for k in "abez"}
    assert EqualityProof.from_json(obj) == proof
    with pytest.raises(InvalidEncoding, match=f"^equality proof: missing field '{key}'$"):
        EqualityProof.from_json(_missing(obj, key))
    with pytest.raises(InvalidEncoding, match=rf"^equality proof\.{key}: expected str$"):
        EqualityProof.from_json({**obj, key: 5})
    with pytest.raises(InvalidEncoding, match=f"^{key}: expected canonical lowercase hex$"):
        EqualityProof.from_json({**obj, key: "0x5"})


@pytest.mark.parametrize("key,kind", [("index", int), ("c_i", str), ("proof", dict)])
def test_partial_decryption_json_field_names(key: str, kind: type) -> None:
    partial = partial_decrypt(SHARES[0], _enc(1), fingerprint=FP, context=CTX)
    obj = partial.to_json()
    assert obj == {"index": 1, "c_i": format(partial.c_i, "x"), "proof": partial.proof.to_json()}
    with pytest.raises(InvalidEncoding, match=f"^partial decryption: missing field '{key}'$"):
        PartialDecryption.from_json(_missing(obj, key))
    wrong = 5 if kind is not int else "5"
    with pytest.raises(InvalidEncoding, match=rf"^partial decryption\.{key}: expected {kind.__name__}$"):
        PartialDecryption.from_json({**obj, key: wrong})
    with pytest.raises(InvalidEncoding, match="^c_i: expected canonical lowercase hex$"):
        PartialDecryption.from_json({**obj, "c_i": "0x5"})


# --------------------------------------------------------------------------- unit boundaries in proofs


@pytest.mark.parametrize("context", [["question"], ("question", 1), "question"])
def test_context_type_named(context: Any) -> None:
    with pytest.raises(InvalidEncoding, match="^context must be a tuple of strings$"):
        partial_decrypt(SHARES[0], _enc(1), fingerprint=FP, context=context)


def test_ciphertext_one_decrypts_to_zero() -> None:
    """c = 1 (0 with r = 1) is valid: c_i = 1 and a = 1 are units, not out-of-range values."""
    partials = [partial_decrypt(SHARES[i], 1, fingerprint=FP, context=CTX) for i in (0, 2, 4)]
    assert all(p.c_i == 1 and p.proof.a == 1 for p in partials)
    assert combine(TPK, 1, partials, fingerprint=FP, context=CTX).m == 0
