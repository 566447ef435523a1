"""Fast unit tests of the pure parts of the distributed key generation (docs §4.7):
``crypto/dkg/arith.py``, ``params.py`` and ``errors.py`` (no protocol run).  Known-answer
values pin the hash- and PRG-derived values every trustee and verifier must recompute alike.
"""

from __future__ import annotations

import base64
import hashlib
import math

import gmpy2
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

from crypto.dkg.arith import (
    HASH_DOMAIN,
    PRG_DOMAIN,
    combine_vectors,
    confirmation_values,
    derive_g,
    derive_v,
    hash_int,
    lagrange_at,
    pack_vec,
    parse_signed_hex,
    prg_vector,
    signed_hex,
    trial_division_ok,
    unpack_vec,
)
from crypto.dkg.errors import DkgError, InvalidCommitment, ParameterMismatch
from crypto.dkg.params import (
    BPT_ROUNDS,
    MESSAGE_BUDGET,
    STAT_BITS,
    TRIAL_DIVISION_BOUND,
    DkgParams,
    _clog2,
    next_prime_above,
    primorial,
    primorial_chunks,
)
from crypto.errors import CryptoError
from crypto.paillier import MIN_PRODUCTION_BITS

# -- vectors ----------------------------------------------------------------------------------


def test_pack_vec_is_fixed_width_big_endian_base64() -> None:
    assert pack_vec([1, 258], 2) == base64.b64encode(b"\x00\x01\x01\x02").decode()
    assert pack_vec([], 4) == ""


def test_unpack_vec_inverts_pack_vec() -> None:
    values = [0, 1, 65535, 258]
    assert unpack_vec(pack_vec(values, 2), 2, 4, 1, 65536) == values
    assert unpack_vec(pack_vec([7, 9, 300], 3), 3, 3, 1, 301) == [7, 9, 300]


def _unpack_error(text: object, width: int, count: int, who: int, bound: int) -> InvalidCommitment:
    with pytest.raises(InvalidCommitment) as info:
        unpack_vec(text, width, count, who, bound)
    assert info.value.culprit == who
    return info.value


def test_unpack_vec_rejects_non_base64() -> None:
    text = pack_vec([1, 2], 2)
    err = _unpack_error(text[:2] + "!" + text[2:], 2, 2, 3, 10)  # would decode without validate
    assert str(err) == "trustee 3: malformed vector"


def test_unpack_vec_rejects_a_wrong_length() -> None:
    assert str(_unpack_error(pack_vec([1, 2], 2), 2, 3, 2, 10)) == \
        "trustee 2: vector of the wrong length"
    assert str(_unpack_error(pack_vec([1, 2, 3], 2), 2, 2, 2, 10)) == \
        "trustee 2: vector of the wrong length"


def test_unpack_vec_bound_is_exclusive() -> None:
    assert unpack_vec(pack_vec([9, 0], 1), 1, 2, 4, 10) == [9, 0]
    assert str(_unpack_error(pack_vec([0, 10], 1), 1, 2, 4, 10)) == \
        "trustee 4: vector value out of range"


def test_signed_hex_round_trip() -> None:
    assert [signed_hex(v) for v in (0, 255, -255, -1)] == ["0", "ff", "-ff", "-1"]
    for value in (0, 1, -1, 255, -4096, 1 << 100, -(1 << 100)):
        assert parse_signed_hex(signed_hex(value), 1, 128) == value


def test_parse_signed_hex_length_bound() -> None:
    # max_bits // 4 + 2 characters at most (sign included)
    assert parse_signed_hex("-fff", 1, 8) == -4095
    assert parse_signed_hex("ffff", 1, 8) == 65535
    for text in ("-ffff", "fffff"):
        with pytest.raises(InvalidCommitment, match=r"^trustee 5: malformed integer$") as info:
            parse_signed_hex(text, 5, 8)
        assert info.value.culprit == 5


@pytest.mark.parametrize("text", [7, None, "", "-", "FF", "0x1", "00", "01", "-01", " 1", "1g",
                                  "--1", "+1", "X1", "1X"])
def test_parse_signed_hex_rejects_non_canonical(text: object) -> None:
    with pytest.raises(InvalidCommitment, match=r"^trustee 2: malformed integer$") as info:
        parse_signed_hex(text, 2, 64)
    assert info.value.culprit == 2


def test_parse_signed_hex_accepts_every_digit() -> None:
    assert parse_signed_hex("1234567890abcdef", 1, 64) == 0x1234567890ABCDEF
    assert parse_signed_hex("-0", 1, 64) == 0


# -- PRG (D3) ---------------------------------------------------------------------------------


def _spec_prg(seed: bytes, label: str, count: int, modulus: int) -> list[int]:
    """D3 written out: blocks of bytelen(modulus) + 16 bytes of ChaCha20 keystream."""
    width = (modulus.bit_length() + 7) // 8 + 16
    nonce = hashlib.sha256(b"saylau/v1/dkg-prg" + label.encode()).digest()[:16]
    enc = Cipher(algorithms.ChaCha20(seed, nonce), mode=None).encryptor()
    return [int.from_bytes(enc.update(bytes(width)), "big") % modulus for _ in range(count)]


def test_prg_vector_known_answers() -> None:
    seed = bytes(range(32))
    assert PRG_DOMAIN == b"saylau/v1/dkg-prg"
    assert prg_vector(seed, "lbl", 3, 1000003) == [295834, 517083, 177133]
    assert prg_vector(seed, "lbl", 2, (1 << 70) + 25) == [608519548263693700341,
                                                          875574895604153591704]
    for modulus in (1000003, (1 << 64) - 59, (1 << 64) + 13, 255, 256, 257):
        assert prg_vector(seed, "x", 5, modulus) == _spec_prg(seed, "x", 5, modulus)
    assert prg_vector(seed, "lbl", 3, 1000003) != prg_vector(seed, "lbm", 3, 1000003)
    assert prg_vector(seed, "lbl", 0, 1000003) == []


# -- interpolation and combination ------------------------------------------------------------


def test_lagrange_at_reconstructs_a_polynomial() -> None:
    prime = 1000003
    coeffs = [12345, 678, 91011]

    def f(x: int) -> int:
        return sum(c * x ** k for k, c in enumerate(coeffs)) % prime

    for points in ([1, 2, 3], [2, 4, 5], [5, 3, 1]):
        for x in (0, 7, points[0]):
            basis = lagrange_at(points, x, prime)
            assert sum(b * f(m) for b, m in zip(basis, points, strict=True)) % prime == f(x)
    assert lagrange_at([1, 2, 3], 2, prime) == [0, 1, 0]
    assert lagrange_at([1, 2], 0, 7) == [2, 6]  # 2 = (0-2)/(1-2), -1 = (0-1)/(2-1) mod 7


def test_combine_vectors_both_paths() -> None:
    vectors = [[1, 2, 3], [4, 5, 6]]
    assert combine_vectors([1, 1], vectors, 7) == [5, 0, 2]
    assert combine_vectors([2, 3], vectors, 7) == [0, 5, 3]  # 14, 19, 24 mod 7
    assert combine_vectors([1, 2], vectors, 100) == [9, 12, 15]
    assert combine_vectors([2, 2], vectors, 100) == [10, 14, 18]  # not the all-ones shortcut
    with pytest.raises(ValueError, match=r"^zip\(\) argument 2 is shorter than argument 1$"):
        combine_vectors([1, 1], [[1, 2], [3]], 7)
    with pytest.raises(ValueError, match=r"^zip\(\) argument 2 is shorter than argument 1$"):
        combine_vectors([1, 2], [[1, 2], [3]], 7)


def test_trial_division_ok() -> None:
    chunks = primorial_chunks(100, 16)
    assert trial_division_ok(101 * 103, chunks)
    assert not trial_division_ok(97 * 101, chunks)
    assert not trial_division_ok(3 * 101, chunks)
    assert trial_division_ok(2 * 101, chunks)  # odd primes only


# -- hash-derived values ----------------------------------------------------------------------


def test_hash_int_known_answer_and_encoding_of_parts() -> None:
    assert HASH_DOMAIN == b"saylau/v1/dkg-hash"
    assert hash_int("lbl", b"ab", "cd", 255, bits=64) == 0xFE74A68039F0237CF2909843C6C362978667D11BA2371E24
    # an int part is its lowercase hex, a str its UTF-8: the same bytes
    assert hash_int("l", 255, bits=64) == hash_int("l", "ff", bits=64) == hash_int("l", b"ff", bits=64)
    # parts are length-prefixed, and the label is separated from them
    assert hash_int("l", "a", "bc", bits=64) != hash_int("l", "ab", "c", bits=64)
    assert hash_int("la", "b", bits=64) != hash_int("l", "ab", bits=64)
    assert hash_int("l", "", bits=64) != hash_int("l", bits=64)


def _spec_hash_int(label: str, parts: list[bytes], bits: int) -> int:
    h = hashlib.sha256(b"saylau/v1/dkg-hash\x00" + label.encode() + b"\x00")
    for data in parts:
        h.update(len(data).to_bytes(4, "big") + data)
    base = h.digest()
    need = -(-(bits + 128) // 256)
    stream = b"".join(hashlib.sha256(base + i.to_bytes(4, "big")).digest() for i in range(need))
    return int.from_bytes(stream, "big") >> (need * 256 - bits - 128)


@pytest.mark.parametrize("bits", [1, 64, 127, 128, 129, 384, 512, 1000])
def test_hash_int_has_bits_plus_128_bits(bits: int) -> None:
    value = hash_int("w", "x", bits=bits)
    assert value == _spec_hash_int("w", [b"x"], bits)
    assert value < 1 << (bits + 128)


def test_derive_g_known_answers() -> None:
    sids = [f"s{i}" for i in range(12)]
    assert [derive_g(s, 15, "x") for s in sids] == [4, 2, 2, 2, 4, 8, 4, 4, 2, 2, 2, 4]
    # counter 0 of s1 gives an excluded value, so its g comes from a later counter
    first = hash_int("bpt-g", "s1", 15, "x", 0, bits=4) % 15
    assert first in (0, 1, 14) or gmpy2.jacobi(first, 15) != 1
    n = 3 * 5 * 7 * 11 * 13 * 17 * 19 * 23
    assert [derive_g(f"s{i}", n, "x") for i in range(3)] == [14916886, 5772251, 63814756]


def test_derive_g_skips_excluded_values() -> None:
    for n in (15, 21, 35, 33):
        for i in range(40):
            g = derive_g(f"t{i}", n, "y")
            assert g not in (0, 1, n - 1) and gmpy2.jacobi(g, n) == 1
            counter = 0
            while True:
                x = hash_int("bpt-g", f"t{i}", n, "y", counter, bits=n.bit_length()) % n
                if x not in (0, 1, n - 1) and gmpy2.jacobi(x, n) == 1:
                    break
                counter += 1
            assert g == x


def test_derive_v_and_confirmation_values_known_answers() -> None:
    n = 1000003 * 1000033
    assert derive_v("sid", n) == 258752476956264639694695
    x = hash_int("feldman-v", "sid", n, bits=(n * n).bit_length()) % (n * n)
    assert derive_v("sid", n) == x * x % (n * n)
    assert confirmation_values("sid", n) == (374249991079, 372436103654)
    assert confirmation_values("sid", n) == (
        hash_int("confirm-m", "sid", n, bits=n.bit_length()) % n,
        hash_int("confirm-r", "sid", n, bits=n.bit_length()) % n)


# -- params -----------------------------------------------------------------------------------


def test_next_prime_above_and_primorial() -> None:
    assert next_prime_above(4) == 17
    assert next_prime_above(3) == 11
    assert next_prime_above(5) == 37
    assert primorial(12) == 3 * 5 * 7 * 11
    assert primorial(11) == 3 * 5 * 7
    assert primorial(4) == 3
    assert primorial(3) == 1


def test_primorial_chunks() -> None:
    # 3·5·7·11 = 1155 (11 bits), 13·17 = 221 (8 bits), 19·23 = 437, then 29 alone
    assert primorial_chunks(30, 8) == (1155, 221, 437, 29)
    assert primorial_chunks(24, 8) == (1155, 221, 437)
    assert primorial_chunks(3, 8) == ()
    chunks = primorial_chunks(TRIAL_DIVISION_BOUND)
    assert chunks == primorial_chunks(TRIAL_DIVISION_BOUND, 512)
    assert math.prod(chunks) == primorial(TRIAL_DIVISION_BOUND)
    assert all(512 <= c.bit_length() < 512 + 16 for c in chunks[:-1])
    assert chunks[-1] % 32749 == 0  # the largest prime below 2^15


def test_clog2() -> None:
    assert [_clog2(x) for x in (1, 2, 3, 4, 5, 8, 9, 16, 17)] == [1, 1, 2, 2, 3, 3, 4, 4, 5]


def test_params_derived_values() -> None:
    p = DkgParams(512, 5, 3, batch=10, allow_test_key=True)
    assert (p.t, p.half, p.delta, p.batch) == (2, 256, 120, 10)
    assert p.sieve_prime == int(gmpy2.next_prime(1 << 513))
    assert p.sieve_prime_bytes == 65
    assert p.theta_prime == int(gmpy2.next_prime(1 << (1024 + 256 + 16)))
    assert p.share_range == ((1 << 254) // 5) & ~3
    assert p.share_range % 4 == 0 and p.share_range <= (1 << 254) // 5 < p.share_range + 4
    assert (p.beta_bits, p.mask_bits, p.secret_bits) == (640, 774, 1293)
    # A = D + 1 + bitlen(120) + t·⌈log2 5⌉ + κ; S = A + (t+1)·⌈log2 5⌉ + 2
    assert p.coefficient_bits == 1293 + 1 + 7 + 2 * 3 + 128
    assert p.share_bits == 1435 + 3 * 3 + 2
    assert p.to_json() == {"bits": 512, "trustees": 5, "threshold": 3, "batch": 10,
                           "stat_bits": STAT_BITS, "bpt_rounds": BPT_ROUNDS,
                           "trial_division_bound": TRIAL_DIVISION_BOUND}
    q = DkgParams(520, 3, 2, batch=1, allow_test_key=True)
    assert (q.half, q.share_range) == (260, ((1 << 258) // 3) & ~3)


def test_params_auto_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    # per candidate: 2·(ℓ−1−t)·(⌊4·bytes/3⌋ + 1), clamped to [64, 4096]; 87 at 512 bits
    assert DkgParams(512, 3, 2, allow_test_key=True).batch == 4096  # 1.4e6 // 174
    assert DkgParams(512, 16, 2, allow_test_key=True).batch == MESSAGE_BUDGET // (2 * 14 * 87)
    assert DkgParams(512, 16, 8, allow_test_key=True).batch == MESSAGE_BUDGET // (2 * 8 * 87)
    assert DkgParams(512, 15, 8, allow_test_key=True).batch == MESSAGE_BUDGET // (2 * 7 * 87)
    assert DkgParams(2048, 16, 2).batch == MESSAGE_BUDGET // (2 * 14 * (257 * 4 // 3 + 1))
    monkeypatch.setattr("crypto.dkg.params.MESSAGE_BUDGET", 174 * 65 - 1)
    assert DkgParams(512, 3, 2, allow_test_key=True).batch == 64
    monkeypatch.setattr("crypto.dkg.params.MESSAGE_BUDGET", 174 * 65)
    assert DkgParams(512, 3, 2, allow_test_key=True).batch == 65
    monkeypatch.setattr("crypto.dkg.params.MESSAGE_BUDGET", 174 * 4097)
    assert DkgParams(512, 3, 2, allow_test_key=True).batch == 4096
    monkeypatch.setattr("crypto.dkg.params.MESSAGE_BUDGET", 174 * 4095 + 173)
    assert DkgParams(512, 3, 2, allow_test_key=True).batch == 4095


def test_params_floors() -> None:
    assert DkgParams(512, 3, 2, allow_test_key=True).bits == 512
    assert DkgParams(MIN_PRODUCTION_BITS, 3, 2).bits == MIN_PRODUCTION_BITS
    with pytest.raises(ParameterMismatch, match=r"^modulus length 2040: need a multiple of 8, >= 2048$"):
        DkgParams(2040, 3, 2)
    with pytest.raises(ParameterMismatch, match=r"^modulus length 504: need a multiple of 8, >= 512$"):
        DkgParams(504, 3, 2, allow_test_key=True)
    with pytest.raises(ParameterMismatch, match=r"^modulus length 516: need a multiple of 8, >= 512$"):
        DkgParams(516, 3, 2, allow_test_key=True)
    with pytest.raises(ParameterMismatch, match=r"^modulus length 512.0: need a multiple of 8, >= 512$"):
        DkgParams(512.0, 3, 2, allow_test_key=True)  # type: ignore[arg-type]


@pytest.mark.parametrize(("trustees", "threshold"), [(3, 2), (16, 2), (16, 8), (5, 3), (4, 2)])
def test_params_accepts(trustees: int, threshold: int) -> None:
    p = DkgParams(512, trustees, threshold, batch=1, allow_test_key=True)
    assert (p.trustees, p.threshold, p.batch) == (trustees, threshold, 1)


@pytest.mark.parametrize(("trustees", "threshold", "message"), [
    (2, 2, "distributed key generation needs 3..16 trustees"),
    (17, 2, "distributed key generation needs 3..16 trustees"),
    (3.0, 2, "distributed key generation needs 3..16 trustees"),
    (3, 1, r"threshold 1 of 3: need 2 <= k and n >= 2\(k-1\)\+1"),
    (4, 3, r"threshold 3 of 4: need 2 <= k and n >= 2\(k-1\)\+1"),
    (16, 9, r"threshold 9 of 16: need 2 <= k and n >= 2\(k-1\)\+1"),
])
def test_params_rejects(trustees: int, threshold: int, message: str) -> None:
    with pytest.raises(ParameterMismatch, match=f"^{message}$") as info:
        DkgParams(512, trustees, threshold, allow_test_key=True)
    assert info.value.culprit is None


@pytest.mark.parametrize("batch", [-1, 1.5, "8"])
def test_params_rejects_batch(batch: object) -> None:
    with pytest.raises(ParameterMismatch, match=r"^batch must be >= 0$"):
        DkgParams(512, 3, 2, batch=batch, allow_test_key=True)  # type: ignore[arg-type]


# -- errors -----------------------------------------------------------------------------------


def test_dkg_error_carries_message_and_culprit() -> None:
    err = DkgError("trustee 2: x", culprit=2)
    assert str(err) == "trustee 2: x" and err.culprit == 2 and err.args == ("trustee 2: x",)
    plain = ParameterMismatch("y")
    assert plain.culprit is None and str(plain) == "y"
    assert isinstance(plain, CryptoError)
