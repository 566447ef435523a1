"""Tests written for the mutants of crypto/proofs.py, crypto/batch.py and crypto/paillier.py
that survived the 2026-11-29 mutation run (docs/testing.md, "Mutation testing").

They pin what the other tests left open: the exact messages of the batch verifier's
range checks (``check_membership_ranges``) and of ``combined_check``, the bounds of those
range checks (``c = 1``, ``a = 1``, ``e = 0``, ``z = 1`` are in range; ``0`` and ``n²`` /
``n`` are not, and are refused *before* any later item is looked at), booleans refused as
integers, and the oddness of the batch multipliers ``δ`` (an even ``δ`` would accept a
branch off by a non-trivial square root of 1 mod N).
"""

from __future__ import annotations

import dataclasses

import pytest

from crypto import paillier as P
from crypto.batch import ProofItem, combined_check, find_invalid
from crypto.errors import InvalidCiphertext, InvalidEncoding, InvalidProof
from crypto.proofs import DOMAIN_OPTION, MembershipProof, prove_membership, verify_membership
from tests.keys import paillier_test_key

KEY = paillier_test_key()
PK = KEY.public
N, NN = PK.n, PK.nsquare
FP = bytes(range(32))
CTX = (("question_id", "q"),)
T = 1 << 256

MSG_C = r"^statement ciphertext invalid: ciphertext is not in Z\*_\{n\^2\}$"
MSG_A = r"^commitment not in Z\*_\{n\^2\}$"
MSG_E = r"^challenge out of range \[0, 2\^t\)$"
MSG_Z = r"^response is not in Z\*_n$"
MSG_EQ = r"^batch verification equation fails$"


def _item(m: int = 1, allowed: tuple[int, ...] = (0, 1)) -> ProofItem:
    c, r = P.encrypt(PK, m)
    proof = prove_membership(PK, c, r, m, allowed, domain=DOMAIN_OPTION, fingerprint=FP,
                             context=CTX)
    return ProofItem(c, allowed, proof)


GOOD = _item()


def _with(item: ProofItem, **fields: object) -> ProofItem:
    """``item`` with branch 0 of ``a``/``e``/``z`` (or ``c``) replaced."""
    if "c" in fields:
        item = dataclasses.replace(item, c=fields.pop("c"))
    proof = item.proof
    for key, value in fields.items():
        values = list(getattr(proof, key))
        values[0] = value
        proof = dataclasses.replace(proof, **{key: tuple(values)})
    return dataclasses.replace(item, proof=proof)


# --------------------------------------------------------------------------- exact messages


@pytest.mark.parametrize("fields,message", [
    ({"c": 0}, MSG_C),
    ({"c": NN}, MSG_C),
    ({"c": True}, MSG_C),
    ({"a": 0}, MSG_A),
    ({"a": NN}, MSG_A),
    ({"e": T}, MSG_E),
    ({"e": -1}, MSG_E),
    ({"z": 0}, MSG_Z),
    ({"z": N}, MSG_Z),
    ({"z": True}, MSG_Z),
])
def test_range_checks_of_the_batch_name_the_element(fields: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidProof, match=message):
        combined_check(PK, [GOOD, _with(GOOD, **fields)])


@pytest.mark.parametrize("fields,message", [
    # the first failing check of the first bad item is the one reported, even when the
    # element would later also fail the gcd test on the product
    ({"c": 0, "e": T}, MSG_C),
    ({"c": NN, "e": T}, MSG_C),
    ({"a": 0, "e": T}, MSG_A),
    ({"a": NN, "e": T}, MSG_A),
])
def test_out_of_range_element_is_refused_before_later_checks(fields: dict[str, object],
                                                               message: str) -> None:
    with pytest.raises(InvalidProof, match=message):
        combined_check(PK, [_with(GOOD, **fields)])


@pytest.mark.parametrize("z", [0, N])
def test_out_of_range_response_is_refused_before_the_next_item(z: int) -> None:
    with pytest.raises(InvalidProof, match=MSG_Z):
        combined_check(PK, [_with(GOOD, z=z), _with(GOOD, c=0)])


def test_batch_equation_message_is_exact() -> None:
    bad = _with(GOOD, z=GOOD.proof.z[0] * 2 % N)
    with pytest.raises(InvalidProof, match=MSG_EQ):
        combined_check(PK, [GOOD, bad])


# --------------------------------------------------------------------------- lower bounds are in range


def test_ciphertext_one_is_a_valid_statement() -> None:
    """``c = 1 = Enc(0; r = 1)``: in range, and its proof passes both verifiers."""
    c, r = P.encrypt(PK, 0, 1)
    assert c == 1
    proof = prove_membership(PK, c, r, 0, (0, 1), domain=DOMAIN_OPTION, fingerprint=FP,
                             context=CTX)
    verify_membership(PK, c, (0, 1), proof, domain=DOMAIN_OPTION, fingerprint=FP, context=CTX)
    item = ProofItem(c, (0, 1), proof)
    combined_check(PK, [item])
    assert find_invalid(PK, [("one", [item])]) == []
    # a bool is no integer, even when the proof is the one for c = 1
    with pytest.raises(InvalidProof, match=MSG_C):
        combined_check(PK, [dataclasses.replace(item, c=True)])


def test_commitment_and_response_one_are_in_range() -> None:
    """``a = 1`` and ``z = 1`` pass the range checks; only the equation refuses them."""
    with pytest.raises(InvalidProof, match=MSG_EQ):
        combined_check(PK, [_with(GOOD, a=1)])
    with pytest.raises(InvalidProof, match=MSG_EQ):
        combined_check(PK, [_with(GOOD, z=1)])
    with pytest.raises(InvalidProof, match=MSG_EQ):
        combined_check(PK, [_with(GOOD, a=NN - 1)])
    with pytest.raises(InvalidProof, match=MSG_EQ):
        combined_check(PK, [_with(GOOD, z=N - 1)])


def test_zero_challenge_in_a_simulated_branch_is_valid() -> None:
    """``e_i = 0`` is in ``[0, 2^t)``: a proof whose simulated branch drew 0 verifies."""
    units = iter([5, 7])

    def rng(bound: int) -> int:
        return 0 if bound == T else next(units)

    c, r = P.encrypt(PK, 1)
    proof = prove_membership(PK, c, r, 1, (0, 1), domain=DOMAIN_OPTION, fingerprint=FP,
                             context=CTX, rng=rng)
    assert proof.e[0] == 0 and proof.z[0] == 5
    verify_membership(PK, c, (0, 1), proof, domain=DOMAIN_OPTION, fingerprint=FP, context=CTX)
    combined_check(PK, [ProofItem(c, (0, 1), proof)])


# --------------------------------------------------------------------------- odd multipliers


def _nontrivial_root_of_one() -> int:
    """y with y² ≡ 1 (mod n), y ≡ 1 (mod p), y ≡ −1 (mod q): neither 1 nor −1."""
    p, q = KEY.p, KEY.q
    y = 1 + p * ((-2 * pow(p, -1, q)) % q)
    assert y * y % N == 1 and y not in (1, N - 1)
    return y


def test_multipliers_are_made_odd() -> None:
    """A response times y (y² ≡ 1, y ≢ ±1 mod n) puts η = y^n mod N into the branch
    equation: η² = 1 but η ≠ ±1, so the one-by-one check fails, and the batch sees it only
    because each δ is odd (η^δ = η) — an even δ would turn the error into 1."""
    y = _nontrivial_root_of_one()
    eta = pow(y, N, NN)
    assert eta * eta % NN == 1 and eta not in (1, NN - 1)
    bad = _with(GOOD, z=GOOD.proof.z[0] * y % N)
    with pytest.raises(InvalidProof, match=r"^verification equation z\^n = ±a·u\^e fails$"):
        verify_membership(PK, bad.c, bad.allowed, bad.proof, domain=DOMAIN_OPTION,
                          fingerprint=FP, context=CTX)
    for source in (lambda bits: 0, lambda bits: 2, lambda bits: (1 << bits) - 2):
        with pytest.raises(InvalidProof, match=MSG_EQ):
            combined_check(PK, [bad], rand_bits=source)


def test_membership_proof_type_round_trips() -> None:
    """The JSON form keeps every branch (the batch reads ``a`` back from it)."""
    again = MembershipProof.from_json(GOOD.proof.to_json())
    assert again == GOOD.proof
    combined_check(PK, [ProofItem(GOOD.c, GOOD.allowed, again)])


# --------------------------------------------------------------------------- one-by-one messages


def _verify(item: ProofItem, fingerprint: bytes = FP) -> None:
    verify_membership(PK, item.c, item.allowed, item.proof, domain=DOMAIN_OPTION,
                      fingerprint=fingerprint, context=CTX)


@pytest.mark.parametrize("fields,message", [
    ({"c": 0}, MSG_C),
    ({"c": NN}, MSG_C),
    ({"a": 0}, MSG_A),
    ({"a": NN}, MSG_A),
    ({"a": N}, MSG_A),
    ({"e": T}, MSG_E),
    ({"e": -1}, MSG_E),
    ({"z": 0}, MSG_Z),
    ({"z": N}, MSG_Z),
])
def test_shape_checks_of_one_proof_name_the_element(fields: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidProof, match=message):
        _verify(_with(GOOD, **fields))


def test_challenge_sum_message_is_exact() -> None:
    _verify(GOOD)
    with pytest.raises(InvalidProof, match="^challenges do not sum to the Fiat–Shamir challenge$"):
        _verify(GOOD, fingerprint=bytes(32))


def test_response_one_is_a_unit_and_fails_only_the_equation() -> None:
    assert P.validate_unit(PK, 1) == 1 and P.validate_unit(PK, N - 1) == N - 1
    with pytest.raises(InvalidProof, match=r"^verification equation z\^n = ±a·u\^e fails$"):
        _verify(_with(GOOD, z=1))


def test_no_proof_for_a_plaintext_outside_the_set_exact_message() -> None:
    c, r = P.encrypt(PK, 2)
    with pytest.raises(InvalidProof, match="^the plaintext is not in the allowed set; no proof exists$"):
        prove_membership(PK, c, r, 2, (0, 1), domain=DOMAIN_OPTION, fingerprint=FP, context=CTX)


# --------------------------------------------------------------------------- paillier bounds and messages


def test_one_is_a_unit_ciphertext_and_randomness() -> None:
    assert P.validate_ciphertext(PK, 1) == 1 and P.validate_ciphertext(PK, NN - 1) == NN - 1
    assert P.encrypt(PK, 5, 1) == ((1 + 5 * N) % NN, 1)
    draws = iter([0, 1, 5])
    assert P.random_unit(N, lambda bound: next(draws)) == 1


@pytest.mark.parametrize("value", [True, 1.0, "1", None])
def test_non_integer_ciphertext_exact_message(value: object) -> None:
    with pytest.raises(InvalidCiphertext, match="^ciphertext must be an integer$"):
        P.validate_ciphertext(PK, value)


def test_encrypt_range_messages_are_exact() -> None:
    with pytest.raises(InvalidEncoding, match=r"^plaintext out of range \[0, n\)$"):
        P.encrypt(PK, N)
    with pytest.raises(InvalidEncoding, match="^randomness out of range$"):
        P.encrypt(PK, 1, N)


@pytest.mark.parametrize("allowed,message", [
    ((), "^allowed set must be non-empty and without repeats$"),
    ((1, 1), "^allowed set must be non-empty and without repeats$"),
    ((0, N), r"^allowed values must lie in \[0, n\)$"),
    ((-1, 1), r"^allowed values must lie in \[0, n\)$"),
])
def test_allowed_set_messages_are_exact(allowed: tuple[int, ...], message: str) -> None:
    with pytest.raises(InvalidProof, match=message):
        verify_membership(PK, GOOD.c, allowed, GOOD.proof, domain=DOMAIN_OPTION,
                          fingerprint=FP, context=CTX)
    with pytest.raises(InvalidProof, match=message):
        combined_check(PK, [dataclasses.replace(GOOD, allowed=allowed)])
