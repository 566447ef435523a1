"""Typed negative tests for crypto.threshold: each names the check that failed (T4–T9).

A tampered field is re-hashed into a consistent transcript where that is possible,
so that the test reaches — and names — the equation behind the challenge check:
``(c⁴)^z = a·(c_i²)^e`` or ``v^z = b·v_i^e``.  The cheating trustee publishes a
partial decryption under a wrong share with a proof that is consistent for that
wrong share: only the second equation (against the published ``v_i``) catches it.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from crypto import paillier as P
from crypto.errors import DecryptionError, InvalidEncoding, InvalidKey, InvalidShare
from crypto.threshold import (
    EqualityProof,
    KeyShare,
    PartialDecryption,
    ThresholdPublicKey,
    _challenge,
    check_share,
    combine,
    partial_decrypt,
    response_bits,
    verify_partial_decryption,
)

DOC = json.loads((Path(__file__).parents[1] / "fixtures" / "threshold-test-key-1024-3of5.json").read_text())
TPK = ThresholdPublicKey.from_json(DOC["public_key"])
SHARES = [KeyShare.from_json(s) for s in DOC["shares"]]
N, NN = TPK.n, TPK.nsquare
FP = bytes(range(32))
CTX = ("question", "q1", "option", "o1")


@pytest.fixture(scope="module")
def sample() -> tuple[int, PartialDecryption]:
    c = P.encrypt(TPK.public, 99)[0]
    return c, partial_decrypt(SHARES[1], c, fingerprint=FP, context=CTX)


def _verify(c: int, partial: PartialDecryption, *, fp: bytes = FP, ctx=CTX) -> None:
    verify_partial_decryption(TPK, c, partial, fingerprint=fp, context=ctx)


def _rehash(c: int, partial: PartialDecryption, **changes: int) -> PartialDecryption:
    """Apply changes to c_i / a / b and recompute e so that the transcript is consistent."""
    c_i = changes.get("c_i", partial.c_i)
    a = changes.get("a", partial.proof.a)
    b = changes.get("b", partial.proof.b)
    e = _challenge(TPK, c, c_i, partial.index, a, b, fingerprint=FP, context=CTX)
    return PartialDecryption(partial.index, c_i, EqualityProof(a, b, e, partial.proof.z))


# --------------------------------------------------------------------------- cheating trustee


def test_cheating_trustee_wrong_share_with_consistent_proof(sample) -> None:
    """Trustee 2 uses s' ≠ s_2 throughout: c_i, a, b, e, z all consistent with s'."""
    c, honest = sample
    cheat_share = dataclasses.replace(SHARES[1], s=SHARES[1].s + 1)
    cheat = partial_decrypt(cheat_share, c, fingerprint=FP, context=CTX)
    assert cheat.c_i != honest.c_i
    # the first equation holds for the cheater's own c_i ...
    c4 = pow(c, 4, NN)
    assert pow(c4, cheat.proof.z, NN) == cheat.proof.a * pow(cheat.c_i ** 2 % NN, cheat.proof.e, NN) % NN
    # ... so only v^z = b·v_i^e against the published v_i names the lie
    with pytest.raises(InvalidShare, match=r"share 2: proof fails v\^z = b·v_i\^e"):
        _verify(c, cheat)
    with pytest.raises(InvalidShare, match="share 2 does not match its verification key"):
        check_share(cheat_share)
    result = combine(TPK, c, [cheat] + [partial_decrypt(SHARES[i], c, fingerprint=FP, context=CTX)
                                        for i in (0, 2, 4)], fingerprint=FP, context=CTX)
    assert result.m == 99 and result.used == (1, 3, 5)
    assert result.rejected == ((2, "share 2: proof fails v^z = b·v_i^e"),)


def test_cheating_trustee_alone_cannot_reach_the_threshold(sample) -> None:
    c, _ = sample
    cheat = partial_decrypt(dataclasses.replace(SHARES[1], s=SHARES[1].s * 2), c, fingerprint=FP,
                            context=CTX)
    good = [partial_decrypt(SHARES[i], c, fingerprint=FP, context=CTX) for i in (0, 3)]
    with pytest.raises(DecryptionError, match="only 2 valid partial decryption"):
        combine(TPK, c, good + [cheat], fingerprint=FP, context=CTX)


# --------------------------------------------------------------------------- each equation named


def test_tampered_c_i_with_consistent_challenge_fails_the_first_equation(sample) -> None:
    c, partial = sample
    bad = _rehash(c, partial, c_i=partial.c_i * (1 + N) % NN)
    with pytest.raises(InvalidShare, match=r"share 2: proof fails \(c\^4\)\^z = a·\(c_i\^2\)\^e"):
        _verify(c, bad)


def test_tampered_a_with_consistent_challenge_fails_the_first_equation(sample) -> None:
    c, partial = sample
    bad = _rehash(c, partial, a=partial.proof.a * 4 % NN)
    with pytest.raises(InvalidShare, match=r"proof fails \(c\^4\)\^z"):
        _verify(c, bad)


def test_wrong_b_with_consistent_challenge_fails_the_second_equation(sample) -> None:
    """Trustee 2 knows s_2 and proves honestly, except that b = v^w·4 (so e covers that b)."""
    c, partial = sample
    x = TPK.delta * SHARES[1].s
    w = 123456789 << 600
    a = pow(pow(c, 4, NN), w, NN)
    b = pow(TPK.v, w, NN) * 4 % NN
    e = _challenge(TPK, c, partial.c_i, 2, a, b, fingerprint=FP, context=CTX)
    bad = PartialDecryption(2, partial.c_i, EqualityProof(a, b, e, w + e * x))
    with pytest.raises(InvalidShare, match=r"share 2: proof fails v\^z = b·v_i\^e"):
        _verify(c, bad)
    honest = PartialDecryption(2, partial.c_i, EqualityProof(a, b * pow(4, -1, NN) % NN, 0, 0))
    e = _challenge(TPK, c, honest.c_i, 2, honest.proof.a, honest.proof.b, fingerprint=FP, context=CTX)
    _verify(c, dataclasses.replace(honest, proof=dataclasses.replace(honest.proof, e=e, z=w + e * x)))


@pytest.mark.parametrize("field", ["c_i", "a", "b", "e"])
def test_tampered_field_without_rehash_fails_at_the_challenge(sample, field: str) -> None:
    c, partial = sample
    if field == "e":
        bad = dataclasses.replace(partial, proof=dataclasses.replace(partial.proof, e=partial.proof.e ^ 1))
    elif field == "c_i":
        bad = dataclasses.replace(partial, c_i=partial.c_i * 4 % NN)
    else:
        bad = dataclasses.replace(partial, proof=dataclasses.replace(
            partial.proof, **{field: getattr(partial.proof, field) * 4 % NN}))
    with pytest.raises(InvalidShare, match="share 2: challenge does not match the transcript"):
        _verify(c, bad)


def test_tampered_z_fails_the_first_equation(sample) -> None:
    c, partial = sample
    bad = dataclasses.replace(partial, proof=dataclasses.replace(partial.proof, z=partial.proof.z + 1))
    with pytest.raises(InvalidShare, match=r"proof fails \(c\^4\)\^z"):
        _verify(c, bad)


# --------------------------------------------------------------------------- ranges and edges


@pytest.mark.parametrize("value", [0, N, 2 * N, NN, NN + 1, -1, -NN])
def test_c_i_out_of_units_named(sample, value: int) -> None:
    c, partial = sample
    with pytest.raises(InvalidShare, match=r"share 2: c_i is not in Z\*_\(n\^2\)"):
        _verify(c, dataclasses.replace(partial, c_i=value))


@pytest.mark.parametrize("which", ["a", "b"])
@pytest.mark.parametrize("value", [0, N, NN, -5])
def test_commitment_out_of_units_named(sample, which: str, value: int) -> None:
    c, partial = sample
    bad = dataclasses.replace(partial, proof=dataclasses.replace(partial.proof, **{which: value}))
    with pytest.raises(InvalidShare, match=r"share 2: commitment is not in Z\*_\(n\^2\)"):
        _verify(c, bad)


@pytest.mark.parametrize("value", [-1, 1 << 256, (1 << 256) + 5])
def test_challenge_out_of_range_named(sample, value: int) -> None:
    c, partial = sample
    with pytest.raises(InvalidShare, match="share 2: challenge out of range"):
        _verify(c, dataclasses.replace(partial, proof=dataclasses.replace(partial.proof, e=value)))


def test_response_edges(sample) -> None:
    c, partial = sample
    top = 1 << (response_bits(TPK) + 1)
    for value in (-1, top, top + 1):
        with pytest.raises(InvalidShare, match="share 2: response out of range"):
            _verify(c, dataclasses.replace(partial, proof=dataclasses.replace(partial.proof, z=value)))
    # the largest allowed z is in range: it fails at the equation, not at the range check
    with pytest.raises(InvalidShare, match=r"proof fails \(c\^4\)\^z"):
        _verify(c, dataclasses.replace(partial, proof=dataclasses.replace(partial.proof, z=top - 1)))


@pytest.mark.parametrize("c", [0, -1, N, NN, NN + 1, 3 * N])
def test_ciphertext_out_of_units_named(sample, c: int) -> None:
    _, partial = sample
    with pytest.raises(InvalidShare, match=r"ciphertext invalid: ciphertext is not in Z\*_\{n\^2\}"):
        _verify(c, partial)
    with pytest.raises(DecryptionError, match="ciphertext invalid"):
        combine(TPK, c, [partial], fingerprint=FP, context=CTX)


@pytest.mark.parametrize("index", [0, -1, 6, 64, True])
def test_index_outside_trustees_named(sample, index) -> None:
    c, partial = sample
    with pytest.raises(InvalidShare, match=r"trustee index .* outside 1\.\.5"):
        _verify(c, dataclasses.replace(partial, index=index))


def test_wrong_fingerprint_context_or_key(sample) -> None:
    c, partial = sample
    with pytest.raises(InvalidShare, match="challenge does not match"):
        _verify(c, partial, fp=bytes(32))
    with pytest.raises(InvalidShare, match="challenge does not match"):
        _verify(c, partial, ctx=CTX[:2])
    with pytest.raises(InvalidEncoding, match="context must be a tuple of strings"):
        _verify(c, partial, ctx=list(CTX))  # type: ignore[arg-type]
    with pytest.raises(InvalidEncoding, match="^fingerprint must be bytes$"):
        _verify(c, partial, fp="00" * 32)  # type: ignore[arg-type]
    other = ThresholdPublicKey(TPK.public, TPK.threshold, TPK.trustees, TPK.v,
                               TPK.verification_keys[::-1])
    with pytest.raises(InvalidShare, match="share 2"):
        verify_partial_decryption(other, c, partial, fingerprint=FP, context=CTX)


# --------------------------------------------------------------------------- keys and shares


@pytest.mark.parametrize("value", [0, TPK.n, TPK.nsquare, -1])
def test_public_key_v_out_of_units(value: int) -> None:
    with pytest.raises(InvalidKey, match=r"v is not in Z\*_\(n\^2\)"):
        ThresholdPublicKey(TPK.public, 3, 5, value, TPK.verification_keys)
    with pytest.raises(InvalidKey, match=r"v_3 is not in Z\*_\(n\^2\)"):
        keys = list(TPK.verification_keys)
        keys[2] = value
        ThresholdPublicKey(TPK.public, 3, 5, TPK.v, tuple(keys))


@pytest.mark.parametrize("threshold,trustees,message", [
    (0, 5, "threshold must satisfy"), (6, 5, "threshold must satisfy"),
    (1, 0, "trustees must be 1..64"), (1, 65, "trustees must be 1..64"),
    (3, 4, "one verification key per trustee"),
])
def test_public_key_counts(threshold: int, trustees: int, message: str) -> None:
    with pytest.raises(InvalidKey, match=message):
        ThresholdPublicKey(TPK.public, threshold, trustees, TPK.v, TPK.verification_keys)


@pytest.mark.parametrize("s", [-1, TPK.nsquare, TPK.nsquare + 1])
def test_share_value_out_of_range(s: int) -> None:
    with pytest.raises(InvalidShare, match="share value out of range"):
        KeyShare(1, s, TPK)


def test_share_from_json_out_of_range_is_encoding_error() -> None:
    obj = SHARES[0].to_json()
    obj["index"] = 9
    with pytest.raises(InvalidEncoding, match=r"key share: trustee index 9 outside 1\.\.5"):
        KeyShare.from_json(obj)


def test_partial_with_a_non_integer_index_is_rejected_as_minus_one(sample) -> None:
    c, partial = sample
    good = [partial_decrypt(SHARES[i], c, fingerprint=FP, context=CTX) for i in (0, 2, 3)]
    result = combine(TPK, c, [dataclasses.replace(partial, index="2")] + good,  # type: ignore[arg-type]
                     fingerprint=FP, context=CTX)
    assert result.m == 99 and result.used == (1, 3, 4)
    assert result.rejected == ((-1, "trustee index '2' outside 1..5"),)


def test_zero_challenge_and_zero_response_are_in_range(sample) -> None:
    """e = 0 and z = 0 pass the range checks (0 ≤ e, 0 ≤ z) and fail where they should."""
    c, partial = sample
    with pytest.raises(InvalidShare, match="share 2: challenge does not match the transcript"):
        _verify(c, dataclasses.replace(partial, proof=dataclasses.replace(partial.proof, e=0)))
    with pytest.raises(InvalidShare, match=r"share 2: proof fails \(c\^4\)\^z"):
        _verify(c, dataclasses.replace(partial, proof=dataclasses.replace(partial.proof, z=0)))
