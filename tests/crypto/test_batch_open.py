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

