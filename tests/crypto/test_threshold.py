"""Threshold Paillier (crypto.threshold) against the 1024-bit 3-of-5 TEST key fixture."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
from pathlib import Path

import gmpy2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import paillier
from crypto.errors import DecryptionError, InvalidEncoding, InvalidKey, InvalidShare
from crypto.threshold import (
    CombinedDecryption,
    KeyShare,
    PartialDecryption,
    ThresholdPublicKey,
    check_share,
    combine,
    generate_safe_prime,
    generate_threshold_key,
    lagrange_coefficient,
    partial_decrypt,
    partial_decrypt_many,
    response_bits,
    verify_partial_decryption,
)

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "threshold-test-key-1024-3of5.json"
FP = bytes(range(32))
CTX = ("question", "q1", "option", "o2")


def _load() -> tuple[ThresholdPublicKey, list[KeyShare]]:
    doc = json.loads(FIXTURE.read_text(encoding="utf-8"))
    assert doc["warning"].startswith("TEST KEY ONLY")
    tpk = ThresholdPublicKey.from_json(doc["public_key"])
    shares = [KeyShare.from_json(s) for s in doc["shares"]]
    assert doc["fingerprint"] == tpk.fingerprint().hex()
    return tpk, shares


TPK, SHARES = _load()


def _enc(m: int) -> int:
    return paillier.encrypt(TPK.public, m)[0]


def _partials(c: int, indices: tuple[int, ...] = (1, 2, 3, 4, 5), ctx=CTX, fp=FP):
    return [partial_decrypt(SHARES[i - 1], c, fingerprint=fp, context=ctx) for i in indices]


# --------------------------------------------------------------------------- key material


def test_fixture_shape() -> None:
    assert TPK.threshold == 3 and TPK.trustees == 5 and TPK.delta == 120
    assert TPK.n.bit_length() == 1024
    assert [s.index for s in SHARES] == [1, 2, 3, 4, 5]
    for share in SHARES:
        check_share(share)
        assert share.public == TPK


def test_public_key_json_round_trip_and_no_secrets() -> None:
    obj = TPK.to_json()
    assert set(obj) == {"public", "threshold", "trustees", "v", "verification_keys"}
    assert set(obj["public"]) == {"n"}
    again = ThresholdPublicKey.from_json(json.loads(json.dumps(obj)))
    assert again == TPK and again.fingerprint() == TPK.fingerprint()


def test_fingerprint_covers_every_field() -> None:
    variants = [
        dataclasses.replace(TPK, threshold=2),
        dataclasses.replace(TPK, v=TPK.v * 4 % TPK.nsquare),
        dataclasses.replace(TPK, verification_keys=TPK.verification_keys[::-1]),
    ]
    for other in variants:
        assert other.fingerprint() != TPK.fingerprint()


@pytest.mark.parametrize(
    "mutate",
    [
        lambda o: o.pop("v"),
        lambda o: o.__setitem__("threshold", 6),
        lambda o: o.__setitem__("threshold", "3"),
        lambda o: o.__setitem__("verification_keys", o["verification_keys"][:4]),
        lambda o: o.__setitem__("v", "0"),
        lambda o: o.__setitem__("v", "ABC"),
        lambda o: o.__setitem__("public", {"n": "f" * 100}),
    ],
)
def test_public_key_from_json_rejects(mutate) -> None:
    obj = TPK.to_json()
    mutate(obj)
    with pytest.raises(InvalidEncoding):
        ThresholdPublicKey.from_json(obj)


def test_share_json_round_trip_and_bad_index() -> None:
    obj = SHARES[1].to_json()
    assert KeyShare.from_json(obj) == SHARES[1]
    obj["index"] = 6
    with pytest.raises(InvalidEncoding):
        KeyShare.from_json(obj)
    with pytest.raises(InvalidShare):
        KeyShare(0, 5, TPK)


def test_check_share_rejects_wrong_share() -> None:
    with pytest.raises(InvalidShare):
        check_share(KeyShare(2, SHARES[0].s, TPK))
    with pytest.raises(InvalidShare):
        check_share(KeyShare(1, SHARES[0].s + 1, TPK))


def test_key_floor_and_arguments() -> None:
    with pytest.raises(InvalidKey):
        generate_threshold_key(1024, 5, 3)  # no allow_test_key
    with pytest.raises(InvalidKey):
        generate_threshold_key(512, 5, 3, allow_test_key=True)
    with pytest.raises(InvalidKey):
        generate_threshold_key(2048, 3, 4)
    with pytest.raises(InvalidKey):
        generate_threshold_key(2048, 3, 0)


@pytest.mark.parametrize("bits", [64, 128])
def test_safe_prime_generation(bits: int) -> None:
    notes: list[str] = []
    p = generate_safe_prime(bits, progress=notes.append)
    assert p.bit_length() == bits and p >> (bits - 2) == 3
    assert gmpy2.is_prime(p, 50) and gmpy2.is_prime((p - 1) // 2, 50)
    assert notes and "found" in notes[-1]


# --------------------------------------------------------------------------- decryption


@settings(max_examples=5, deadline=None)
@given(st.integers(min_value=0, max_value=(1 << 1022)))
def test_every_3_subset_decrypts(m: int) -> None:
    c = _enc(m)
    partials = _partials(c)
    for subset in itertools.combinations(range(5), 3):
        chosen = [partials[i] for i in subset]
        result = combine(TPK, c, chosen, fingerprint=FP, context=CTX)
        assert result.m == m == result.plaintext
        assert result.used == tuple(i + 1 for i in subset) and result.rejected == ()


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=6))
def test_homomorphic_sum(values: list[int]) -> None:
    total = paillier.add(TPK.public, *(_enc(v) for v in values))
    result = combine(TPK, total, _partials(total, (5, 2, 4)), fingerprint=FP, context=CTX)
    assert result.m == sum(values)


def test_lagrange_coefficients_interpolate_zero() -> None:
    for subset in itertools.combinations(range(1, 6), 3):
        lams = [lagrange_coefficient(120, i, subset) for i in subset]
        # Σ λ_i · i^j = Δ·[j = 0] for j < k
        for power in range(3):
            assert sum(lam * i**power for lam, i in zip(lams, subset, strict=True)) == (
                120 if power == 0 else 0
            )


def test_partial_json_round_trip_and_many() -> None:
    c1, c2 = _enc(1), _enc(0)
    items = [(c1, ("option", "a")), (c2, ("option", "b"))]
    many = partial_decrypt_many(SHARES[0], items, fingerprint=FP)
    assert len(many) == 2
    for partial, (c, ctx) in zip(many, items, strict=True):
        again = PartialDecryption.from_json(json.loads(json.dumps(partial.to_json())))
        assert again == partial
        verify_partial_decryption(TPK, c, again, fingerprint=FP, context=ctx)
    assert many[0].proof.z.bit_length() <= response_bits(TPK) + 1


def test_proof_randomness_hides_the_share() -> None:
    # W = 2|n| + |Δ| + 2t, far above |e·Δ·s_i| ≤ 256 + |Δ| + 2|n|.
    assert response_bits(TPK) == 2 * 1024 + 7 + 512
    assert response_bits(TPK) >= 2 * 1024 + 2 * 256


def _tamper(partial: PartialDecryption, **changes) -> PartialDecryption:
    proof_changes = {k: v for k, v in changes.items() if k in {"a", "b", "e", "z"}}
    top = {k: v for k, v in changes.items() if k in {"index", "c_i"}}
    return dataclasses.replace(
        partial, proof=dataclasses.replace(partial.proof, **proof_changes), **top
    )


@pytest.fixture(scope="module")
def sample() -> tuple[int, PartialDecryption]:
    c = _enc(7)
    return c, partial_decrypt(SHARES[2], c, fingerprint=FP, context=CTX)


def test_valid_partial_verifies(sample) -> None:
    c, partial = sample
    verify_partial_decryption(TPK, c, partial, fingerprint=FP, context=CTX)


@pytest.mark.parametrize(
    "field", ["c_i", "a", "b", "e", "z"],
)
def test_tampered_partial_rejected(sample, field: str) -> None:
    c, partial = sample
    value = getattr(partial, field) if field == "c_i" else getattr(partial.proof, field)
    bad = _tamper(partial, **{field: value + 1 if field in {"e", "z"} else value * 4 % TPK.nsquare})
    message = r"proof fails \(c\^4\)\^z" if field == "z" else "challenge does not match the transcript"
    with pytest.raises(InvalidShare, match=message):
        verify_partial_decryption(TPK, c, bad, fingerprint=FP, context=CTX)


def test_oversized_response_rejected(sample) -> None:
    c, partial = sample
    huge = partial.proof.z + (1 << (response_bits(TPK) + 1))
    with pytest.raises(InvalidShare, match="response out of range"):
        verify_partial_decryption(TPK, c, _tamper(partial, z=huge), fingerprint=FP, context=CTX)
    with pytest.raises(InvalidShare, match="challenge out of range"):
        verify_partial_decryption(TPK, c, _tamper(partial, e=1 << 256), fingerprint=FP, context=CTX)


def test_c_i_outside_units_rejected(sample) -> None:
    c, partial = sample
    for value in (0, TPK.nsquare, TPK.n, TPK.nsquare + partial.c_i):
        with pytest.raises(InvalidShare, match=r"c_i is not in Z\*_\(n\^2\)"):
            verify_partial_decryption(TPK, c, _tamper(partial, c_i=value), fingerprint=FP, context=CTX)


def test_wrong_context_fingerprint_ciphertext_index(sample) -> None:
    c, partial = sample
    with pytest.raises(InvalidShare, match="challenge does not match"):
        verify_partial_decryption(TPK, c, partial, fingerprint=FP, context=("question", "q1"))
    with pytest.raises(InvalidShare, match="challenge does not match"):
        verify_partial_decryption(TPK, c, partial, fingerprint=bytes(32), context=CTX)
    with pytest.raises(InvalidShare, match="challenge does not match"):
        verify_partial_decryption(TPK, _enc(7), partial, fingerprint=FP, context=CTX)
    for index in (1, 0, 6, -1):
        with pytest.raises(InvalidShare):
            verify_partial_decryption(TPK, c, _tamper(partial, index=index), fingerprint=FP, context=CTX)


def test_bad_ciphertext_rejected() -> None:
    with pytest.raises(paillier.InvalidCiphertext):
        partial_decrypt(SHARES[0], TPK.n, fingerprint=FP, context=CTX)
    with pytest.raises(DecryptionError):
        combine(TPK, 0, [], fingerprint=FP, context=CTX)


def test_share_claiming_non_trustee_index_rejected(sample) -> None:
    c, partial = sample
    # share 3's values presented as trustee 1 (a real trustee, wrong v_i) and as 9.
    with pytest.raises(InvalidShare):
        verify_partial_decryption(TPK, c, _tamper(partial, index=9), fingerprint=FP, context=CTX)
    # A "share" from a key with more trustees (index 6) does not verify under ours.
    result = combine(
        TPK, c, [_tamper(partial, index=6)] + _partials(c, (1, 2, 4)), fingerprint=FP, context=CTX
    )
    assert result.m == 7 and result.rejected[0][0] == 6 and result.used == (1, 2, 4)


def test_combine_tolerates_two_bad_shares() -> None:
    c = _enc(12345)
    good = _partials(c)
    bad1 = _tamper(good[0], c_i=good[0].c_i * 4 % TPK.nsquare)
    bad2 = _tamper(good[3], z=good[3].proof.z + 1)
    result = combine(TPK, c, [bad1, good[1], bad2, good[2], good[4]], fingerprint=FP, context=CTX)
    assert isinstance(result, CombinedDecryption)
    assert result.m == 12345
    assert result.used == (2, 3, 5)
    assert [index for index, _ in result.rejected] == [1, 4]


def test_combine_rejects_duplicates_and_needs_k() -> None:
    c = _enc(3)
    good = _partials(c)
    result = combine(TPK, c, [good[0], good[0], good[1], good[4]], fingerprint=FP, context=CTX)
    assert result.m == 3 and result.rejected == ((1, "duplicate share"),)
    with pytest.raises(DecryptionError, match="only 2 valid"):
        combine(TPK, c, [good[0], good[0], good[1]], fingerprint=FP, context=CTX)
    bad = _tamper(good[2], e=good[2].proof.e ^ 1)
    with pytest.raises(DecryptionError, match="only 2 valid"):
        combine(TPK, c, [good[0], good[1], bad], fingerprint=FP, context=CTX)


def test_partial_from_malformed_json() -> None:
    obj = _partials(_enc(1), (1,))[0].to_json()
    obj["proof"]["z"] = "0x12"
    with pytest.raises(InvalidEncoding):
        PartialDecryption.from_json(obj)


def test_delta_is_factorial() -> None:
    assert TPK.delta == math.factorial(5)
