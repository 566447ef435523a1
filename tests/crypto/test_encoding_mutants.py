"""Exact messages and boundaries of crypto/encoding.py and crypto/transcript.py.

Written to kill the survivors of ``mutmut run 'crypto.encoding.*' 'crypto.transcript.*'``
(docs/testing.md lists the mutants that remain and why they are equivalent).
"""

from __future__ import annotations

import re

import pytest

from crypto.encoding import (
    MAX_INT_BITS,
    MAX_JSON_DEPTH,
    canonical_json,
    hex_to_bytes,
    hex_to_int,
    int_to_fixed,
    int_to_hex,
    require,
)
from crypto.errors import InvalidEncoding
from crypto.transcript import Transcript


def _exact(text: str) -> str:
    return "^" + re.escape(text) + "$"


def test_int_to_hex_negative_message() -> None:
    with pytest.raises(InvalidEncoding, match=_exact("negative integers have no canonical encoding")):
        int_to_hex(-1)


def test_hex_to_int_messages_and_size_boundary() -> None:
    with pytest.raises(InvalidEncoding, match=_exact("integer: expected canonical lowercase hex")):
        hex_to_int("0x1")
    with pytest.raises(InvalidEncoding, match=_exact("c_i: expected canonical lowercase hex")):
        hex_to_int("01", "c_i")
    digits = MAX_INT_BITS // 4
    assert hex_to_int("f" * digits) == (1 << MAX_INT_BITS) - 1
    with pytest.raises(InvalidEncoding, match=_exact("integer: integer too large")):
        hex_to_int("f" * (digits + 1))
    with pytest.raises(InvalidEncoding, match=_exact("z: integer too large")):
        hex_to_int("1" + "0" * digits, "z")


def test_hex_to_bytes_messages() -> None:
    with pytest.raises(InvalidEncoding, match=_exact("bytes: expected lowercase hex bytes")):
        hex_to_bytes("ABCD")
    with pytest.raises(InvalidEncoding, match=_exact("bytes: expected 2 bytes, got 1")):
        hex_to_bytes("ab", length=2)
    with pytest.raises(InvalidEncoding, match=_exact("root: expected 32 bytes, got 33")):
        hex_to_bytes("00" * 33, "root", 32)


def test_int_to_fixed_messages() -> None:
    with pytest.raises(InvalidEncoding, match=_exact("negative integer")):
        int_to_fixed(-1, 4)
    with pytest.raises(InvalidEncoding, match=_exact("integer does not fit in 1 bytes")):
        int_to_fixed(256, 1)
    assert int_to_fixed(258, 2) == b"\x01\x02"


def test_canonical_json_names_the_path_of_a_bad_value() -> None:
    with pytest.raises(InvalidEncoding, match=_exact("$[1]: floats are not allowed in canonical JSON")):
        canonical_json([1, 1.5])
    with pytest.raises(InvalidEncoding,
                       match=_exact("$.a[1].b: floats are not allowed in canonical JSON")):
        canonical_json({"a": [1, {"b": 1.0}]})
    with pytest.raises(InvalidEncoding, match=_exact("$.x: object keys must be strings")):
        canonical_json({"x": {1: 2}})
    with pytest.raises(InvalidEncoding, match=_exact("$[0]: set is not JSON")):
        canonical_json([{1}])
    with pytest.raises(InvalidEncoding, match=_exact("$: bytes is not JSON")):
        canonical_json(b"x")
    assert canonical_json({"b": [1, None, True], "a": "ä"}) == '{"a":"ä","b":[1,null,true]}'.encode()


def test_canonical_json_refuses_a_lone_surrogate() -> None:
    # Defect fixed (#16): json.loads("\"\\ud800\"") gives a str that UTF-8 cannot encode;
    # canonical_json raised UnicodeEncodeError (not a CryptoError), which escaped the board
    # checks (tally.verify_board.check_entries) and the record verifiers.
    message = _exact("$: a string is not valid Unicode (lone surrogate)")
    with pytest.raises(InvalidEncoding, match=message):
        canonical_json({"a": ["x", "\ud800"]})
    with pytest.raises(InvalidEncoding, match=message):
        canonical_json({"\udfff": 1})
    assert canonical_json(["\U0001f600"]) == '["\U0001f600"]'.encode()


def test_require_messages() -> None:
    with pytest.raises(InvalidEncoding, match=_exact("object: expected a JSON object")):
        require([], "a", int)
    with pytest.raises(InvalidEncoding, match=_exact("object: missing field 'a'")):
        require({}, "a", int)
    with pytest.raises(InvalidEncoding, match=_exact("object.a: expected integer")):
        require({"a": True}, "a", int)
    assert require({"a": True}, "a", bool) is True
    with pytest.raises(InvalidEncoding, match=_exact("object.a: expected str")):
        require({"a": 1}, "a", str)
    with pytest.raises(InvalidEncoding, match=_exact("w.a: expected str/NoneType")):
        require({"a": 1}, "a", (str, type(None)), "w")
    assert require({"a": None}, "a", (str, type(None))) is None


def test_challenge_bits_bounds_and_reduction() -> None:
    t = Transcript("saylau/v1/test").text("x", "y")
    digest = int.from_bytes(t.digest(), "big")
    assert t.challenge(1) == digest & 1
    assert t.challenge(8) == digest % 256
    assert t.challenge(256) == digest
    for bits in (1, 3, 8, 100, 255):
        assert t.challenge(bits) == digest % (1 << bits)
    for bad in (0, -1, 257):
        with pytest.raises(ValueError, match=_exact("challenge length must be 1..256 bits")):
            t.challenge(bad)


# canonical_json on values json.loads accepts but the encoder could not write, or Python's
# stack could not check (tally/verify_board crashed on such board entries; tests of the
# board-level behaviour: tests/tally/test_verify_board_mutants.py)


@pytest.mark.parametrize("value", ["\ud800", ["ok", "x\udc00"], {"\udfff": 1}])
def test_canonical_json_lone_surrogate(value: object) -> None:
    with pytest.raises(InvalidEncoding, match=_exact("$: a string is not valid Unicode "
                                                     "(lone surrogate)")):
        canonical_json(value)


def test_canonical_json_integer_too_long_to_write() -> None:
    assert canonical_json(10**4299) == b"1" + b"0" * 4299
    with pytest.raises(InvalidEncoding, match=_exact("$: an integer is too long to write as "
                                                     "JSON text")):
        canonical_json({"a": [10**4300]})


def _nested(depth: int) -> list[object]:
    value: list[object] = []
    for _ in range(depth - 1):
        value = [value]
    return value


def test_canonical_json_nesting_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    assert MAX_JSON_DEPTH == 64
    assert canonical_json(_nested(64)) == b"[" * 64 + b"]" * 64
    assert canonical_json({"a": _nested(63)}) == b'{"a":' + b"[" * 63 + b"]" * 63 + b"}"
    with pytest.raises(InvalidEncoding, match=_exact("$" + "[0]" * 64 + ": nested deeper "
                                                     "than 64 levels")):
        canonical_json(_nested(65))
    with pytest.raises(InvalidEncoding, match=_exact("$.a" + "[0]" * 63 + ": nested deeper "
                                                     "than 64 levels")):
        canonical_json({"a": _nested(65)})
    import crypto.encoding as encoding

    monkeypatch.setattr(encoding, "MAX_JSON_DEPTH", 3)
    assert canonical_json({"a": {"a": 1}, "b": [[1]], "c": [{}]}) == (
        b'{"a":{"a":1},"b":[[1]],"c":[{}]}')
    with pytest.raises(InvalidEncoding, match=_exact("$.a.a.a: nested deeper than 3 levels")):
        canonical_json({"a": {"a": {"a": {}}}})
    with pytest.raises(InvalidEncoding, match=_exact("$[1][0][0]: nested deeper than 3 "
                                                     "levels")):
        canonical_json([1, [[()]]])
