"""Batched re-encryption check of Benaloh openings (crypto/batch_open.py)."""

from __future__ import annotations

import pytest

from crypto.batch_open import find_invalid_openings, openings_hold
from crypto.paillier import encrypt
from tests.keys import paillier_test_key


@pytest.fixture(scope="module")
def pk():
    return paillier_test_key().public


def _openings(pk, count):
    out = []
    for i in range(count):
        m = i % 2
        c, r = encrypt(pk, m)
        out.append((c, m, r))
    return out


def test_valid_openings_hold(pk):
    assert openings_hold(pk, _openings(pk, 6))
    assert openings_hold(pk, [])
    assert find_invalid_openings(pk, [(i, [o]) for i, o in enumerate(_openings(pk, 5))]) == []


@pytest.mark.parametrize("how", ["plaintext", "randomness", "negated", "range"])
def test_a_wrong_opening_is_named(pk, how):
    ops = _openings(pk, 7)
    c, m, r = ops[4]
    if how == "plaintext":
        ops[4] = (c, 1 - m, r)
    elif how == "randomness":
        ops[4] = (c, m, r + 1)
    elif how == "negated":  # an error of order 2: caught because every multiplier is odd
        ops[4] = (pk.nsquare - c, m, r)
    else:
        ops[4] = (c, m, 0)
    assert not openings_hold(pk, ops)
    keyed = [(f"entry {i}", [o]) for i, o in enumerate(ops)]
    assert find_invalid_openings(pk, keyed) == ["entry 4"]



# Survivors of ``mutmut run 'crypto.batch_open.*'`` (docs/testing.md): every range bound of an
# opening, and the caller's multiplier source kept through the bisection.


@pytest.fixture(scope="module")
def sk():
    return paillier_test_key()


def test_the_smallest_valid_opening_holds(pk):
    assert openings_hold(pk, [(1, 0, 1)])           # Enc(0; r = 1) = 1
    c, r = encrypt(pk, pk.n - 1)
    assert openings_hold(pk, [(c, pk.n - 1, r)])


def test_a_plaintext_of_n_is_refused(pk):
    # (c, n, r) satisfies the equation (m·n ≡ 0 mod n²) but m is out of range.
    c, r = encrypt(pk, 0)
    assert openings_hold(pk, [(c, 0, r)])
    assert not openings_hold(pk, [(c, pk.n, r)])


def test_r_equal_to_n_is_refused(pk):
    # (n, 0, n): both sides are 0 mod n² for every multiplier ≥ 3, so only the range check stops it.
    assert not openings_hold(pk, [(pk.n, 0, pk.n)], lambda bits: 2)


def test_zero_or_n_squared_ciphertexts_and_zero_r_are_refused(pk, sk):
    # With the factors of n, non-units make both sides 0; only the range checks refuse them.
    p, q, nn = sk.p, sk.q, pk.nsquare
    assert not openings_hold(pk, [(0, 0, p), (1, 0, q)])
    assert not openings_hold(pk, [(nn, 0, p), (1, 0, q)])
    assert not openings_hold(pk, [(p * p, 0, 0), (q * q, 0, 1)])


class _Counting:
    def __init__(self):
        self.calls = 0

    def __call__(self, bits):
        self.calls += 1
        return 1


def test_bisection_uses_the_callers_multipliers(pk):
    ops = _openings(pk, 4)
    c, m, r = ops[3]
    ops[3] = (c, 1 - m, r)
    source = _Counting()
    keyed = [(i, [o]) for i, o in enumerate(ops)]
    assert find_invalid_openings(pk, keyed, source) == [3]
    # all 4, then [0, 1] (holds) and [2, 3] (fails), then [2] and [3]: 4 + 2 + 2 + 1 + 1.
    assert source.calls == 10


def test_two_groups_one_bad(pk):
    ops = _openings(pk, 2)
    c, m, r = ops[1]
    ops[1] = (c, m, r + 1)
    assert find_invalid_openings(pk, [("a", [ops[0]]), ("b", [ops[1]])]) == ["b"]
    assert find_invalid_openings(pk, [("a", [ops[1]]), ("b", [ops[0]])]) == ["a"]
