import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.encoding import (
    canonical_json,
    hex_to_bytes,
    hex_to_int,
    int_to_fixed,
    int_to_hex,
)
from crypto.errors import InvalidEncoding
from crypto.transcript import Transcript, tagged_hash


@given(st.integers(min_value=0, max_value=1 << 4096))
@settings(max_examples=50, deadline=None)
def test_hex_round_trip(value):
    assert hex_to_int(int_to_hex(value)) == value


@pytest.mark.parametrize("bad", ["", "0x10", "00ff", "FF", " 1", "1 ", 17, None, "g1", "-1"])
def test_non_canonical_hex_rejected(bad):
    with pytest.raises(InvalidEncoding):
        hex_to_int(bad)


def test_hex_bytes_length_checked():
    assert hex_to_bytes("00ff", length=2) == b"\x00\xff"
    with pytest.raises(InvalidEncoding):
        hex_to_bytes("00ff", length=3)
    with pytest.raises(InvalidEncoding):
        hex_to_bytes("0", length=None)


def test_fixed_width_overflow_raises():
    assert int_to_fixed(1, 2) == b"\x00\x01"
    with pytest.raises(InvalidEncoding):
        int_to_fixed(1 << 16, 2)


def test_canonical_json_sorted_compact_and_no_floats():
    assert canonical_json({"b": 1, "a": ["é", True, None]}) == '{"a":["é",true,null],"b":1}'.encode()
    with pytest.raises(InvalidEncoding):
        canonical_json({"a": 1.5})


def test_transcript_encoding_is_exactly_the_documented_bytes():
    t = Transcript("saylau/v1/test").bytes("b", b"\x01\x02").integer("i", 5, 2).text("t", "kz")
    expected = b"".join([
        b"\x03" + (6).to_bytes(4, "big") + b"domain" + (14).to_bytes(4, "big") + b"saylau/v1/test",
        b"\x01" + (1).to_bytes(4, "big") + b"b" + (2).to_bytes(4, "big") + b"\x01\x02",
        b"\x02" + (1).to_bytes(4, "big") + b"i" + (2).to_bytes(4, "big") + b"\x00\x05",
        b"\x03" + (1).to_bytes(4, "big") + b"t" + (2).to_bytes(4, "big") + b"kz",
    ])
    assert t.digest() == hashlib.sha256(expected).digest()
    assert t.challenge(256) == int.from_bytes(hashlib.sha256(expected).digest(), "big")


def test_transcript_is_unambiguous_across_field_boundaries():
    a = Transcript("d").bytes("x", b"ab").bytes("y", b"c").digest()
    b = Transcript("d").bytes("x", b"a").bytes("y", b"bc").digest()
    c = Transcript("d").text("x", "ab").bytes("y", b"c").digest()
    assert len({a, b, c}) == 3


def test_domain_tag_separates_transcripts():
    assert tagged_hash("saylau/v1/a", ("x", b"1")) != tagged_hash("saylau/v1/b", ("x", b"1"))


def test_challenge_length_bounds():
    with pytest.raises(ValueError):
        Transcript("d").challenge(0)
    assert Transcript("d").challenge(8) < 256
