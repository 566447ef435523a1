import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import paillier as P
from crypto.errors import InvalidCiphertext, InvalidEncoding, InvalidKey
from tests.keys import paillier_test_key

KEY = paillier_test_key()
PK = KEY.public


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=0, max_value=10**12))
@settings(max_examples=25, deadline=None)
def test_homomorphic_addition(a, b):
    ca, _ = P.encrypt(PK, a)
    cb, _ = P.encrypt(PK, b)
    assert KEY.decrypt(P.add(PK, ca, cb)) == a + b


@given(st.lists(st.integers(min_value=0, max_value=1), min_size=1, max_size=12))
@settings(max_examples=20, deadline=None)
def test_randomness_of_a_sum_is_the_product(bits):
    pairs = [P.encrypt(PK, m) for m in bits]
    total = P.add(PK, *(c for c, _ in pairs))
    r = P.add_randomness(PK, *(r for _, r in pairs))
    assert P.encrypt(PK, sum(bits), r)[0] == total
    assert KEY.recover_randomness(total, sum(bits)) == r


def test_encryption_matches_the_equation():
    c, r = P.encrypt(PK, 7, 12345)
    assert c == (1 + 7 * PK.n) * pow(12345, PK.n, PK.nsquare) % PK.nsquare
    assert KEY.decrypt(c) == 7


def test_encryption_is_randomised():
    assert P.encrypt(PK, 1)[0] != P.encrypt(PK, 1)[0]


def test_invalid_ciphertexts_rejected_list():
    for bad in [0, -1, PK.nsquare, PK.nsquare + 5, PK.n, 2 * PK.n, "12", 1.0, True]:
        with pytest.raises(InvalidCiphertext):
            P.validate_ciphertext(PK, bad)
        with pytest.raises(InvalidCiphertext):
            KEY.decrypt(bad)  # type: ignore[arg-type]


def test_invalid_responses_rejected():
    for bad in [0, PK.n, PK.n + 1, KEY.p, -3]:
        with pytest.raises(InvalidCiphertext):
            P.validate_unit(PK, bad)


def test_plaintext_and_randomness_range():
    with pytest.raises(InvalidEncoding):
        P.encrypt(PK, PK.n)
    with pytest.raises(InvalidEncoding):
        P.encrypt(PK, -1)
    with pytest.raises(InvalidEncoding):
        P.encrypt(PK, 1, 0)


def test_key_floor():
    with pytest.raises(InvalidKey):
        P.generate_keypair(1024)
    with pytest.raises(InvalidKey):
        PK.check_strength()
    PK.check_strength(allow_test_key=True)


def test_key_json_round_trip_and_mismatch():
    assert P.PublicKey.from_json(PK.to_json()) == PK
    assert P.PrivateKey.from_json(KEY.to_json()).public == PK
    with pytest.raises(InvalidKey):
        P.PrivateKey(PK, KEY.p, KEY.q + 2)


def test_all_units_is_one_gcd_for_many_values():
    """The fast path of the shape checks: True only when every value is an int unit in range."""
    c1, _ = P.encrypt(PK, 1)
    c2, _ = P.encrypt(PK, 0)
    r = P.random_unit(PK.n)
    bounds = (PK.nsquare, PK.nsquare, PK.n)
    assert P.all_units(PK.n, (c1, c2, r), bounds)
    assert P.all_units(PK.n, (), ())
    for bad in (KEY.p * 5, KEY.q, PK.n, 0, -r, PK.nsquare, True, "12", 1.0):
        for i in range(3):
            values = [c1, c2, r]
            values[i] = bad
            assert not P.all_units(PK.n, values, bounds), (bad, i)
    assert not P.all_units(PK.n, (c1, c2, r + PK.n), bounds)  # z must be below n
    with pytest.raises(ValueError):
        P.all_units(PK.n, (c1,), bounds)
