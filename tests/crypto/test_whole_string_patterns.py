"""Every ``^…$`` rule of the spec holds for the whole string (docs/protocol.md §1.1).

Python's ``re.match(r"^…$", s)`` also accepts ``s`` with one trailing newline (``$`` matches
before it), and ``int(s, 16)`` / ``bytes.fromhex(s)`` then ignore the newline.  The Node
verifier's patterns (ECMAScript: ``$`` is the end of the input) refused such values, so the
two verifiers disagreed on a record the operator wrote with ``"signature": "<hex>\\n"``.
"""

from __future__ import annotations

import pytest

from crypto.election import Manifest
from crypto.encoding import hex_to_bytes, hex_to_int, is_hex_bytes, is_hex_int
from crypto.errors import CryptoError, InvalidEncoding


@pytest.mark.parametrize("text", ["ab\n", "0\n", "ab\r", "\nab", "a b", " ab", "ab ", "",
                                  "0ab", "AB", "0x1f", "1_0", "+1", "-1", "ab\x00", "٣",
                                  "ab\u2028"])
def test_hex_int_refuses_anything_but_canonical_hex(text: str) -> None:
    assert not is_hex_int(text)
    with pytest.raises(InvalidEncoding, match=r"^x: expected canonical lowercase hex$"):
        hex_to_int(text, "x")


@pytest.mark.parametrize(("text", "value"), [("0", 0), ("1", 1), ("f", 15), ("10", 16),
                                             ("abcdef0123456789", 0xabcdef0123456789)])
def test_hex_int_accepts_canonical_hex(text: str, value: int) -> None:
    assert is_hex_int(text)
    assert hex_to_int(text) == value


@pytest.mark.parametrize("text", ["ab\n", "ab\r\n", "a", "abc", "AB", "ab cd", " ab", "ab ",
                                  "0x", "zz", "ab\x00"])
def test_hex_bytes_refuses_anything_but_whole_lowercase_bytes(text: str) -> None:
    assert not is_hex_bytes(text)
    with pytest.raises(InvalidEncoding, match=r"^b: expected lowercase hex bytes$"):
        hex_to_bytes(text, "b")


def test_hex_bytes_accepts_bytes() -> None:
    assert hex_to_bytes("") == b""
    assert hex_to_bytes("00ff10") == b"\x00\xff\x10"
    assert not is_hex_bytes(3) and not is_hex_int(3) and not is_hex_int(None)


def _manifest(election_id: str = "e1", question_id: str = "q") -> dict[str, object]:
    return {"election_id": election_id, "title": "T",
            "questions": [{"id": question_id, "title": "Q", "min_selections": 1,
                           "max_selections": 1,
                           "options": [{"id": "a", "label": "A"}, {"id": "b", "label": "B"}]}]}


def test_identifiers_refuse_a_trailing_newline() -> None:
    Manifest.from_json(_manifest())
    for bad in (_manifest("e1\n"), _manifest(question_id="q\n")):
        with pytest.raises(CryptoError, match=r"^.*identifier"):
            Manifest.from_json(bad)


def test_roll_period_refuses_a_trailing_newline() -> None:
    from crypto.roll import CredentialRequest

    CredentialRequest("e1", 0, b"x", "2026-11-30")
    with pytest.raises(InvalidEncoding, match=r"^request\.period must be a coarse period"):
        CredentialRequest("e1", 0, b"x", "2026-11-30\n")


def test_app_patterns_refuse_a_trailing_newline() -> None:
    from app.errors import ApiError
    from app.keygen_relay import _name
    from app.services.users import valid_email

    assert valid_email("voter@example.org")
    assert not valid_email("voter@example.org\n")
    assert _name("alice", "name") == "alice"
    with pytest.raises(ApiError, match=r"^name must be 1-64 characters"):
        _name("alice\n", "name")
