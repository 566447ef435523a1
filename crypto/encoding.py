"""Canonical encodings shared by every protocol object.

* Big integers in JSON: lowercase hexadecimal strings, no ``0x`` prefix, no leading
  zeros (zero is ``"0"``).  :func:`int_to_hex` / :func:`hex_to_int`.
* Bytes in JSON (hashes, signatures, keys): lowercase hexadecimal of the exact bytes.
* Canonical JSON (what is hashed and signed): keys sorted, no insignificant
  whitespace, UTF-8, only strings, integers, lists, objects, booleans and null
  (no floats).  :func:`canonical_json`.
"""

from __future__ import annotations

import json
from typing import Any

from crypto.errors import InvalidEncoding

#: ``text.translate(_NOT_HEX)`` is what is left of ``text`` once every lowercase hex digit is
#: removed: empty exactly when ``text`` has no other character.  (A regular expression
#: ``^[0-9a-f]*$`` with ``re.match`` also accepted a trailing newline, since ``$`` matches
#: before one; this test does not, and it is four times faster on a 6,144-bit number.)
_NOT_HEX = str.maketrans("", "", "0123456789abcdef")


def is_hex_int(text: object) -> bool:
    """``text`` is canonical lowercase hex of an integer: ``0`` or no leading zero."""
    return (isinstance(text, str) and text != "" and not text.translate(_NOT_HEX)
            and (text[0] != "0" or text == "0"))


def is_hex_bytes(text: object) -> bool:
    """``text`` is lowercase hex of whole bytes (two digits each; empty is no bytes)."""
    return isinstance(text, str) and len(text) % 2 == 0 and not text.translate(_NOT_HEX)

#: The largest integer accepted from the wire (bits); far above any modulus square.
MAX_INT_BITS = 16384


def int_to_hex(value: int) -> str:
    """Encode a non-negative integer as canonical lowercase hex."""
    if value < 0:
        raise InvalidEncoding("negative integers have no canonical encoding")
    return format(value, "x")


def hex_to_int(text: object, name: str = "integer") -> int:
    """Decode canonical lowercase hex; reject anything else with :class:`InvalidEncoding`."""
    if not is_hex_int(text):
        raise InvalidEncoding(f"{name}: expected canonical lowercase hex")
    assert isinstance(text, str)
    if len(text) * 4 > MAX_INT_BITS:
        raise InvalidEncoding(f"{name}: integer too large")
    return int(text, 16)


def bytes_to_hex(value: bytes) -> str:
    return value.hex()


def hex_to_bytes(text: object, name: str = "bytes", length: int | None = None) -> bytes:
    """Decode lowercase hex bytes, optionally of an exact length."""
    if not is_hex_bytes(text):
        raise InvalidEncoding(f"{name}: expected lowercase hex bytes")
    assert isinstance(text, str)
    raw = bytes.fromhex(text)
    if length is not None and len(raw) != length:
        raise InvalidEncoding(f"{name}: expected {length} bytes, got {len(raw)}")
    return raw


def int_to_fixed(value: int, width: int) -> bytes:
    """Fixed-width big-endian encoding (I2OSP); raises if it does not fit."""
    if value < 0:
        raise InvalidEncoding("negative integer")
    try:
        return value.to_bytes(width, "big")
    except OverflowError as exc:
        raise InvalidEncoding(f"integer does not fit in {width} bytes") from exc


def byte_length(modulus: int) -> int:
    """Number of bytes needed for residues modulo ``modulus``."""
    return (int(modulus).bit_length() + 7) // 8


#: Deepest nesting of arrays and objects canonical JSON accepts (protocol objects nest
#: under 10 levels; ``json.loads`` accepts about 990, deeper than Python's stack allows here).
MAX_JSON_DEPTH = 64


#: Exact types of JSON leaves that need no check (the usual case; subclasses take the
#: general path of :func:`_check_json`)
_PLAIN_LEAVES = frozenset({str, int, bool, type(None)})


def _check_json(value: Any, path: str = "$", depth: int = 0) -> None:
    kind = type(value)
    if kind is dict or kind is list:  # the common containers: leaves checked inline
        if depth >= MAX_JSON_DEPTH:
            raise InvalidEncoding(f"{path}: nested deeper than {MAX_JSON_DEPTH} levels")
        if kind is dict:
            for key, item in value.items():
                if not isinstance(key, str):
                    raise InvalidEncoding(f"{path}: object keys must be strings")
                if type(item) not in _PLAIN_LEAVES:
                    _check_json(item, f"{path}.{key}", depth + 1)
        else:
            for i, item in enumerate(value):
                if type(item) not in _PLAIN_LEAVES:
                    _check_json(item, f"{path}[{i}]", depth + 1)
        return
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, int):
        return
    if isinstance(value, float):
        raise InvalidEncoding(f"{path}: floats are not allowed in canonical JSON")
    if isinstance(value, list | tuple | dict) and depth >= MAX_JSON_DEPTH:
        raise InvalidEncoding(f"{path}: nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_json(item, f"{path}[{i}]", depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidEncoding(f"{path}: object keys must be strings")
            _check_json(item, f"{path}.{key}", depth + 1)
        return
    raise InvalidEncoding(f"{path}: {type(value).__name__} is not JSON")


def canonical_json(value: Any) -> bytes:
    """Canonical JSON bytes: sorted keys, compact separators, UTF-8, no floats."""
    _check_json(value)
    return _dumps(value)


def _dumps(value: Any) -> bytes:
    try:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate ("\\ud800" is valid JSON text)
        raise InvalidEncoding("$: a string is not valid Unicode (lone surrogate)") from exc
    except ValueError as exc:  # an integer beyond sys.get_int_max_str_digits() digits
        raise InvalidEncoding("$: an integer is too long to write as JSON text") from exc


def canonical_member(value: dict[str, Any], key: str) -> bytes:
    """``canonical_json(value[key])``, checked as a member of ``value`` (one level deeper,
    errors named ``$.key…``): what :func:`canonical_json_reusing` takes in ``known``."""
    member = value[key]
    _check_json(member, f"$.{key}", 1)
    return _dumps(member)


def canonical_json_reusing(value: dict[str, Any], known: dict[str, bytes]) -> bytes:
    """``canonical_json(value)`` for an object some of whose members' canonical JSON is
    already at hand: ``known[key]`` must be :func:`canonical_member` ``(value, key)`` (or
    ``canonical_json(value[key])`` of a member nested fewer than ``MAX_JSON_DEPTH - 1``
    levels deep, such as a parsed ballot).  A board entry and its ballot: the entry check
    makes the ballot's bytes for its signature, and the leaf hash needs the entry's.

    Canonical JSON is written member by member (``{`` key ``:`` value ``,`` … ``}``, keys
    sorted), so the object's bytes are its members' bytes joined.  On any error this falls
    back to :func:`canonical_json`, so the error and its path are the same.
    ``tests/crypto/test_encoding_reuse.py`` compares the two.
    """
    try:
        parts = []
        for key in sorted(value):
            if not isinstance(key, str):
                raise InvalidEncoding("$: object keys must be strings")
            member = known.get(key)
            if member is None:
                member = canonical_member(value, key)
            parts.append(_dumps(key) + b":" + member)
        return b"{" + b",".join(parts) + b"}"
    except (InvalidEncoding, TypeError):
        return canonical_json(value)  # raises with the whole object's path


def require(obj: object, key: str, kind: type | tuple[type, ...], where: str = "object") -> Any:
    """Fetch ``obj[key]`` and check its JSON type, raising :class:`InvalidEncoding`."""
    if not isinstance(obj, dict):
        raise InvalidEncoding(f"{where}: expected a JSON object")
    if key not in obj:
        raise InvalidEncoding(f"{where}: missing field {key!r}")
    value = obj[key]
    if isinstance(value, bool) and kind is int:
        raise InvalidEncoding(f"{where}.{key}: expected integer")
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise InvalidEncoding(f"{where}.{key}: expected {names}")
    return value
