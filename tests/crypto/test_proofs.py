import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import paillier as P
from crypto.errors import InvalidProof
from crypto.proofs import (
    DOMAIN_OPTION,
    DOMAIN_SELECTION_COUNT,
    MembershipProof,
    prove_decryption,
    prove_membership,
    verify_decryption,
    verify_membership,
)
from tests.keys import paillier_test_key

KEY = paillier_test_key()
PK = KEY.public
FP = bytes(range(32))
CTX = (("election_id", "e"), ("question_id", "q"), ("option_id", "o"), ("token_id", "00" * 32))


def prove(m, allowed=(0, 1), **kw):
    c, r = P.encrypt(PK, m)
    kw.setdefault("domain", DOMAIN_OPTION)
    kw.setdefault("fingerprint", FP)
    kw.setdefault("context", CTX)
    return c, prove_membership(PK, c, r, m, allowed, **kw)


def verify(c, proof, allowed=(0, 1), **kw):
    kw.setdefault("domain", DOMAIN_OPTION)
    kw.setdefault("fingerprint", FP)
    kw.setdefault("context", CTX)
    verify_membership(PK, c, allowed, proof, **kw)


@given(st.data())
@settings(max_examples=20, deadline=None)
def test_completeness(data):
    lo = data.draw(st.integers(0, 5))
    hi = data.draw(st.integers(lo, lo + 5))
    allowed = tuple(range(lo, hi + 1))
    m = data.draw(st.sampled_from(allowed))
    c, proof = prove(m, allowed)
    verify(c, proof, allowed)
    assert MembershipProof.from_json(proof.to_json()) == proof


@pytest.mark.parametrize("m", [2, PK.n - 1])  # 2 and −1
def test_no_proof_for_a_value_outside_the_set(m):
    with pytest.raises(InvalidProof, match="not in the allowed set"):
        prove(m)


@pytest.mark.parametrize("m", [2, PK.n - 1])
def test_forged_proof_for_two_or_minus_one_fails(m):
    """A cheating prover claims m ∈ {0,1} by building the 'true' branch for m itself."""
    c, r = P.encrypt(PK, m)
    forged = prove_membership(PK, c, r, m, (m, 1), domain=DOMAIN_OPTION, fingerprint=FP, context=CTX)
    with pytest.raises(InvalidProof, match="challenges do not sum"):
        verify(c, forged, (0, 1))


def _mutations(proof):
    for field in ("a", "e", "z"):
        values = getattr(proof, field)
        for i in range(len(values)):
            changed = list(values)
            changed[i] = changed[i] + 1
            yield dataclasses.replace(proof, **{field: tuple(changed)})
    yield dataclasses.replace(proof, a=proof.a[::-1])
    yield dataclasses.replace(proof, a=proof.a[:1], e=proof.e[:1], z=proof.z[:1])


def test_changing_any_field_of_the_proof_fails():
    c, proof = prove(1)
    for tampered in _mutations(proof):
        with pytest.raises(InvalidProof):
            verify(c, tampered)


def test_changing_the_ciphertext_fails():
    c, proof = prove(0)
    other, _ = P.encrypt(PK, 0)
    for bad in (other, c * (1 + PK.n) % PK.nsquare, 0, PK.nsquare):
        with pytest.raises(InvalidProof):
            verify(bad, proof)


def test_changing_context_fingerprint_domain_or_statement_fails():
    c, proof = prove(1)
    with pytest.raises(InvalidProof, match="challenges do not sum"):
        verify(c, proof, context=CTX[:-1] + (("token_id", "11" * 32),))
    with pytest.raises(InvalidProof, match="challenges do not sum"):
        verify(c, proof, fingerprint=bytes(32))
    with pytest.raises(InvalidProof, match="challenges do not sum"):
        verify(c, proof, domain=DOMAIN_SELECTION_COUNT)
    with pytest.raises(InvalidProof, match="challenges do not sum"):
        verify(c, proof, statement_ciphertexts=(c, c))
    with pytest.raises(InvalidProof, match="challenges do not sum"):
        verify(c, proof, allowed=(1, 0))


def test_proof_moved_to_another_ballots_context_fails():
    c, proof = prove(1)
    moved = (("election_id", "e"), ("question_id", "q"), ("option_id", "other"),
             ("token_id", "00" * 32))
    with pytest.raises(InvalidProof, match="challenges do not sum"):
        verify(c, proof, context=moved)


def test_out_of_range_challenge_and_response_rejected():
    c, proof = prove(1)
    with pytest.raises(InvalidProof, match="challenge out of range"):
        verify(c, dataclasses.replace(proof, e=(proof.e[0] + (1 << 256), proof.e[1])))
    with pytest.raises(InvalidProof, match=r"response is not in Z\*_n"):
        verify(c, dataclasses.replace(proof, z=(proof.z[0] + PK.n, proof.z[1])))
    with pytest.raises(InvalidProof, match="commitment not in"):
        verify(c, dataclasses.replace(proof, a=(0, proof.a[1])))


def test_single_key_decryption_proof():
    c, _ = P.encrypt(PK, 42)
    d = prove_decryption(KEY, c, fingerprint=FP, context=CTX)
    assert verify_decryption(PK, c, d, fingerprint=FP, context=CTX) == 42
    wrong = dataclasses.replace(d, m=43)
    with pytest.raises(InvalidProof):
        verify_decryption(PK, c, wrong, fingerprint=FP, context=CTX)
    with pytest.raises(InvalidProof):
        verify_decryption(PK, c, d, fingerprint=FP, context=CTX + (("x", "y"),))
