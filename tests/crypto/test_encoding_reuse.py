"""crypto.encoding.canonical_json_reusing: the same bytes and the same errors as
canonical_json, with members' bytes made beforehand (a board entry's ballot)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.encoding import (
    MAX_JSON_DEPTH,
    canonical_json,
    canonical_json_reusing,
    canonical_member,
)
from crypto.errors import InvalidEncoding

LEAVES = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=6),
                   st.floats(allow_nan=False), st.just("\ud800"))
JSONISH = st.recursive(LEAVES, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)),
    max_leaves=12)


def _outcome(fn: Any, *args: Any) -> tuple[str, object]:
    try:
        return "ok", fn(*args)
    except InvalidEncoding as exc:
        return "error", str(exc)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.text(max_size=4), JSONISH, max_size=5), st.data())
def test_same_bytes_and_errors_as_canonical_json(value: dict[str, Any], data: Any) -> None:
    reused = data.draw(st.lists(st.sampled_from(sorted(value)), unique=True)) if value else []
    known = {}
    for key in reused:
        kind, member = _outcome(canonical_member, value, key)
        if kind == "ok":
            assert member == canonical_json(value[key])
            known[key] = member
    assert _outcome(canonical_json_reusing, value, known) == _outcome(canonical_json, value)


def _nested(depth: int) -> Any:
    value: Any = 0
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH - 2, MAX_JSON_DEPTH - 1, MAX_JSON_DEPTH])
def test_a_member_is_as_deep_as_it_is_in_the_object(depth: int) -> None:
    """A member is checked one level down: nested 63 deep it is refused as part of the
    object (64 levels), although alone it would pass."""
    value = {"ballot": _nested(depth), "kind": "ballot"}
    member = _outcome(canonical_member, value, "ballot")
    whole = _outcome(canonical_json, value)
    assert member[0] == whole[0]
    if member[0] == "ok":
        assert _outcome(canonical_json_reusing, value, {"ballot": member[1]}) == whole
    else:
        assert member[1] == whole[1] and "nested deeper" in str(member[1])


def test_the_board_entry_of_a_ballot() -> None:
    from tests.recordgen import generate

    entry = generate(1, revote=False, audited=False).board[0]
    reused = canonical_json_reusing(entry, {"ballot": canonical_member(entry, "ballot")})
    assert reused == canonical_json(entry)
    assert reused.startswith(b'{"ballot":{')


def test_keys_that_are_not_strings_fall_back_to_the_same_error() -> None:
    value = {1: "a", "b": 2}
    assert _outcome(canonical_json_reusing, value, {"b": b"2"}) == _outcome(canonical_json, value)
    assert _outcome(canonical_json, value)[0] == "error"
