"""crypto.ballot.has_exact_fields is ``from_json(obj).to_json() == obj`` on what the parser
accepts: the entry check and the ballot box use it instead of writing every number again."""

from __future__ import annotations

import copy
import functools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crypto.ballot import EncryptedBallot, has_exact_fields
from crypto.errors import CryptoError
from tests.recordgen import generate


@functools.cache
def _ballot() -> dict[str, Any]:
    return copy.deepcopy(generate(1, revote=False, audited=False).board[0]["ballot"])


def _objects(ballot: dict[str, Any]) -> list[dict[str, Any]]:
    """Every JSON object of the ballot (the ballot, contests, selections, proofs)."""
    def objects(value: Any) -> list[Any]:
        return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []

    out = [ballot]
    for contest in objects(ballot.get("contests")):
        out += [contest, *[p for p in [contest.get("count_proof")] if isinstance(p, dict)]]
        for selection in objects(contest.get("selections")):
            out += [selection, *[p for p in [selection.get("proof")] if isinstance(p, dict)]]
    return out


VALUES = st.one_of(st.none(), st.booleans(), st.integers(-2, 2**70), st.text(max_size=4),
                   st.just("0"), st.just("00"), st.just("A"), st.lists(st.text(max_size=2),
                                                                      max_size=2))
MUTATION = st.tuples(st.sampled_from(["add", "drop", "set"]), st.integers(0, 10**6),
                     st.sampled_from(["election_id", "token_id", "contests", "question_id",
                                      "selections", "count_proof", "option_id", "ciphertext",
                                      "proof", "a", "e", "z", "extra", ""]), VALUES)


def _same_as_writing_again(obj: dict[str, Any]) -> bool | None:
    try:
        ballot = EncryptedBallot.from_json(obj)
    except (CryptoError, KeyError, TypeError, ValueError, AttributeError):
        return None  # the parser refuses it: has_exact_fields is never asked
    return ballot.to_json() == obj


def test_the_canonical_ballot_has_exact_fields() -> None:
    assert has_exact_fields(_ballot()) and _same_as_writing_again(_ballot())


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(MUTATION, min_size=1, max_size=3))
def test_agrees_with_writing_the_ballot_again(mutations: list[tuple[str, int, str, Any]]) -> None:
    obj = copy.deepcopy(_ballot())
    for op, where, key, value in mutations:
        objects = _objects(obj)
        target = objects[where % len(objects)]
        if op == "add" or op == "set":
            target[key] = value
        elif key in target:
            del target[key]
    expected = _same_as_writing_again(obj)
    if expected is not None:
        assert has_exact_fields(obj) is expected


def test_an_extra_field_at_every_level() -> None:
    for level in range(len(_objects(_ballot()))):
        obj = copy.deepcopy(_ballot())
        _objects(obj)[level]["extra"] = 1
        assert _same_as_writing_again(obj) is False
        assert has_exact_fields(obj) is False
