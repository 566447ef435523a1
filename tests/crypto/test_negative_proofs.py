"""Typed negative tests for crypto.paillier and crypto.proofs at the edges (P4, Z5).

Every value is drawn by tests/strategies.py, which puts 0, 1, n − 1, n, n², negatives
and non-units first; every rejection names its check with ``match=``.
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crypto import paillier as P
from crypto.errors import InvalidCiphertext, InvalidEncoding, InvalidKey, InvalidProof
from crypto.proofs import (
    DOMAIN_DECRYPTION,
    DOMAIN_OPTION,
    DOMAIN_SELECTION_COUNT,
    DecryptionProof,
    MembershipProof,
    prove_decryption,
    prove_membership,
    verify_decryption,
    verify_membership,
)
from tests import strategies as S
from tests.keys import paillier_test_key

KEY = paillier_test_key()
PK = KEY.public
N, NN = PK.n, PK.nsquare
FP = bytes(range(32))
CTX = (("question_id", "q"),)
SETTINGS = settings(max_examples=S.scaled(20), deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def _prove(m: int, allowed: tuple[int, ...]) -> tuple[int, MembershipProof]:
    c, r = P.encrypt(PK, m)
    return c, prove_membership(PK, c, r, m, allowed, domain=DOMAIN_OPTION, fingerprint=FP, context=CTX)


def _verify(c: int, allowed, proof: MembershipProof, **kw) -> None:
    args = {"domain": DOMAIN_OPTION, "fingerprint": FP, "context": CTX, **kw}
    verify_membership(PK, c, allowed, proof, **args)


VALID = _prove(1, (0, 1))


# --------------------------------------------------------------------------- paillier (P1, P4)


@given(S.non_ciphertexts(N, KEY.p))
@SETTINGS
def test_validate_ciphertext_rejects_non_units(value: int) -> None:
    with pytest.raises(InvalidCiphertext, match=r"ciphertext is not in Z\*_\{n\^2\}"):
        P.validate_ciphertext(PK, value)
    with pytest.raises(InvalidCiphertext, match=r"not in Z\*_\{n\^2\}"):
        KEY.decrypt(value)


@given(S.non_units_mod_n(N, KEY.p))
@SETTINGS
def test_validate_unit_rejects_non_units(value: int) -> None:
    with pytest.raises(InvalidCiphertext, match=r"response is not in Z\*_n"):
        P.validate_unit(PK, value)


@pytest.mark.parametrize("value", [True, 1.0, "1", None])
def test_validators_reject_non_integers(value) -> None:
    with pytest.raises(InvalidCiphertext, match="ciphertext must be an integer"):
        P.validate_ciphertext(PK, value)
    with pytest.raises(InvalidCiphertext, match="z must be an integer"):
        P.validate_unit(PK, value, "z")


@given(S.plaintexts(N), S.plaintexts(N))
@SETTINGS
def test_homomorphic_addition_at_the_edges(a: int, b: int) -> None:
    ca, ra = P.encrypt(PK, a)
    cb, rb = P.encrypt(PK, b)
    total = P.add(PK, ca, cb)
    assert KEY.decrypt(total) == (a + b) % N
    assert KEY.recover_randomness(total, (a + b) % N) == P.add_randomness(PK, ra, rb)


@given(S.out_of_range_plaintexts(N))
@SETTINGS
def test_encrypt_rejects_out_of_range_plaintexts(m: int) -> None:
    with pytest.raises(InvalidEncoding, match=r"plaintext out of range \[0, n\)"):
        P.encrypt(PK, m)


@pytest.mark.parametrize("r", [0, -1, N, N + 1])
def test_encrypt_rejects_out_of_range_randomness(r: int) -> None:
    with pytest.raises(InvalidEncoding, match="randomness out of range"):
        P.encrypt(PK, 1, r)


@pytest.mark.parametrize("n,message", [(0, "odd integer"), (1, "odd integer"), (4, "odd integer"),
                                       (-7, "odd integer")])
def test_public_key_rejects_bad_moduli(n: int, message: str) -> None:
    with pytest.raises(InvalidKey, match=message):
        P.PublicKey(n)


def test_key_mismatch_and_strength() -> None:
    with pytest.raises(InvalidKey, match=r"p·q does not equal n"):
        P.PrivateKey(PK, KEY.p, KEY.q + 2)
    with pytest.raises(InvalidKey, match="below 2048 bits"):
        PK.check_strength()
    PK.check_strength(allow_test_key=True)
    with pytest.raises(InvalidKey, match="too small"):
        P.PublicKey.from_json({"n": "ff"})


# --------------------------------------------------------------------------- membership (Z5)


@given(S.allowed_sets(N), st.data())
@SETTINGS
def test_completeness_with_edge_allowed_sets(allowed, data) -> None:
    m = data.draw(st.sampled_from(allowed))
    c, proof = _prove(m, allowed)
    _verify(c, allowed, proof)
    with pytest.raises(InvalidProof):
        _verify(c, allowed, proof, domain=DOMAIN_SELECTION_COUNT)


@given(S.bad_allowed_sets(N))
@SETTINGS
def test_bad_allowed_sets_rejected_by_name(allowed) -> None:
    c, proof = VALID
    message = (r"non-empty and without repeats" if not allowed or len(set(allowed)) != len(allowed)
               else r"allowed values must lie in \[0, n\)")
    with pytest.raises(InvalidProof, match=message):
        _verify(c, allowed, proof)
    with pytest.raises(InvalidProof, match=message):
        _prove_any(allowed)


def _prove_any(allowed) -> None:
    c, r = P.encrypt(PK, 0)
    prove_membership(PK, c, r, 0, allowed, domain=DOMAIN_OPTION, fingerprint=FP, context=CTX)


def test_no_proof_for_a_plaintext_outside_the_set() -> None:
    c, r = P.encrypt(PK, N - 1)
    with pytest.raises(InvalidProof, match="not in the allowed set; no proof exists"):
        prove_membership(PK, c, r, N - 1, (0, 1), domain=DOMAIN_OPTION, fingerprint=FP, context=CTX)


def test_largest_plaintext_is_provable() -> None:
    allowed = (0, N - 1)
    c, proof = _prove(N - 1, allowed)
    _verify(c, allowed, proof)
    with pytest.raises(InvalidProof, match=r"verification equation z\^n = ±a·u\^e fails"):
        _verify_rehashed_allowed(c, (0, N - 2), proof)


def _verify_rehashed_allowed(c, allowed, proof) -> None:
    """Same commitments under another allowed set: re-derive one challenge to pass Σe."""
    from crypto.proofs import membership_challenge

    e = membership_challenge(PK, DOMAIN_OPTION, FP, CTX, (c,), c, allowed, proof.a)
    es = (proof.e[0], (e - proof.e[0]) % (1 << 256))
    _verify(c, allowed, dataclasses.replace(proof, e=es))


@given(S.non_ciphertexts(N, KEY.p))
@SETTINGS
def test_statement_ciphertext_outside_units(c: int) -> None:
    _, proof = VALID
    with pytest.raises(InvalidProof, match=r"statement ciphertext invalid: ciphertext is not in"):
        _verify(c, (0, 1), proof)


@given(S.non_ciphertexts(N, KEY.p), st.integers(0, 1))
@SETTINGS
def test_commitment_outside_units(a: int, branch: int) -> None:
    c, proof = VALID
    values = list(proof.a)
    values[branch] = a
    with pytest.raises(InvalidProof, match=r"commitment not in Z\*_\{n\^2\}"):
        _verify(c, (0, 1), dataclasses.replace(proof, a=tuple(values)))


@given(st.one_of(st.sampled_from([-1, 1 << 256, (1 << 256) + 1, -(1 << 256)]),
                 st.integers(min_value=1 << 256), st.integers(max_value=-1)), st.integers(0, 1))
@SETTINGS
def test_challenge_outside_range(e: int, branch: int) -> None:
    c, proof = VALID
    values = list(proof.e)
    values[branch] = e
    with pytest.raises(InvalidProof, match=r"challenge out of range \[0, 2\^t\)"):
        _verify(c, (0, 1), dataclasses.replace(proof, e=tuple(values)))


@given(S.non_units_mod_n(N, KEY.p), st.integers(0, 1))
@SETTINGS
def test_response_outside_units(z: int, branch: int) -> None:
    c, proof = VALID
    values = list(proof.z)
    values[branch] = z
    with pytest.raises(InvalidProof, match=r"response is not in Z\*_n"):
        _verify(c, (0, 1), dataclasses.replace(proof, z=tuple(values)))


@pytest.mark.parametrize("cut", ["a", "e", "z"])
def test_branch_count_mismatch(cut: str) -> None:
    c, proof = VALID
    with pytest.raises(InvalidProof, match="proof must have exactly 2 branches"):
        _verify(c, (0, 1), dataclasses.replace(proof, **{cut: getattr(proof, cut)[:1]}))
    with pytest.raises(InvalidProof, match="proof must have exactly 3 branches"):
        _verify(c, (0, 1, 2), proof)


def test_wrong_key_fingerprint_context_statement() -> None:
    c, proof = VALID
    for kw in ({"fingerprint": bytes(32)}, {"context": ()}, {"domain": DOMAIN_DECRYPTION},
               {"statement_ciphertexts": (c, c)}):
        with pytest.raises(InvalidProof, match="challenges do not sum to the Fiat–Shamir challenge"):
            _verify(c, (0, 1), proof, **kw)
    other = P.PublicKey(N + 2)
    with pytest.raises(InvalidProof):
        verify_membership(other, c, (0, 1), proof, domain=DOMAIN_OPTION, fingerprint=FP, context=CTX)


def test_challenge_shifted_between_branches_fails_the_equation() -> None:
    """Σ e is kept, so only the branch equation (Z5) can notice."""
    c, proof = VALID
    shifted = dataclasses.replace(proof, e=((proof.e[0] + 1) % (1 << 256), (proof.e[1] - 1) % (1 << 256)))
    with pytest.raises(InvalidProof, match=r"verification equation z\^n = ±a·u\^e fails"):
        _verify(c, (0, 1), shifted)


@pytest.mark.parametrize("bad", [
    {"a": ["1"], "e": ["1"]},
    {"a": [], "e": [], "z": []},
    {"a": ["1"] * 1025, "e": ["1"] * 1025, "z": ["1"] * 1025},
    {"a": ["-1"], "e": ["1"], "z": ["1"]},
    {"a": ["01"], "e": ["1"], "z": ["1"]},
])
def test_proof_json_rejected(bad) -> None:
    with pytest.raises(InvalidEncoding):
        MembershipProof.from_json(bad)


# --------------------------------------------------------------------------- decryption proof


@pytest.mark.parametrize("m", [0, 1, N - 1])
def test_decryption_proof_edges(m: int) -> None:
    c, _ = P.encrypt(PK, m)
    dec = prove_decryption(KEY, c, fingerprint=FP, context=CTX)
    assert verify_decryption(PK, c, dec, fingerprint=FP, context=CTX) == m
    lie = DecryptionProof((m + 1) % N, dec.proof)
    with pytest.raises(InvalidProof, match="challenges do not sum"):
        verify_decryption(PK, c, lie, fingerprint=FP, context=CTX)
    with pytest.raises(InvalidProof, match=r"allowed values must lie in \[0, n\)"):
        verify_decryption(PK, c, DecryptionProof(N, dec.proof), fingerprint=FP, context=CTX)


def test_zero_and_largest_challenge_are_in_range() -> None:
    """e_i = 0 and e_i = 2^t − 1 pass the range check (0 ≤ e < 2^t) and fail at the sum."""
    c, proof = VALID
    for value in (0, (1 << 256) - 1):
        bad = dataclasses.replace(proof, e=(value, proof.e[1]))
        with pytest.raises(InvalidProof, match="challenges do not sum to the Fiat–Shamir challenge"):
            _verify(c, (0, 1), bad)


def test_largest_response_and_commitment_are_in_range() -> None:
    c, proof = VALID
    with pytest.raises(InvalidProof, match=r"verification equation z\^n = ±a·u\^e fails"):
        _verify(c, (0, 1), dataclasses.replace(proof, z=(N - 1, proof.z[1])))
    with pytest.raises(InvalidProof, match="challenges do not sum"):
        _verify(c, (0, 1), dataclasses.replace(proof, a=(NN - 1, proof.a[1])))
    with pytest.raises(InvalidProof, match="challenges do not sum"):
        _verify(c, (0, 1), dataclasses.replace(proof, a=(1, proof.a[1])))
