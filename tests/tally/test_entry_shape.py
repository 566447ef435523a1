"""The hand-written board-entry structure checks (tally/entry_shape.py) and the JSON Schema
(audit/schema/election-record.schema.json, ``boardEntry``) accept and refuse the same
entries."""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Callable
from typing import Any

import jsonschema
import pytest

from audit.record import load_schema, read_record
from tally.entry_shape import board_entry_errors, board_errors
from tests.recordgen import generate


@functools.cache
def _board() -> list[dict[str, Any]]:
    return generate(3).board


def _ecma_pattern(validator: Any, pattern: str, instance: object,
                  schema: dict[str, Any]) -> Any:
    """JSON Schema's ``pattern`` with ECMA-262 semantics (what the schema means, docs §1.1):
    ``$`` is the end of the string.  The jsonschema library uses Python's ``re.search``, whose
    ``$`` also matches before a trailing newline, so ``"ab\n"`` would pass ``^[0-9a-f]+$``."""
    if isinstance(instance, str) and not re.search(
            pattern[:-1] + r"\Z" if pattern.endswith("$") else pattern, instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


@functools.cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = dict(load_schema())
    schema = {"$defs": schema["$defs"], "$ref": "#/$defs/boardEntry"}
    ecma = jsonschema.validators.extend(jsonschema.Draft202012Validator,
                                        {"pattern": _ecma_pattern})
    return ecma(schema)  # type: ignore[no-any-return]


def test_patterns_end_at_the_end_of_the_string() -> None:
    """The checks' patterns and the schema's (read as ECMA-262) refuse a trailing newline:
    Python's ``re.match(r"^…$")`` accepted ``"ab\n"``, the Node verifier did not."""
    entry = _entry("ballot")
    for path in (SEL + ("ciphertext",), ("ballot", "token_id"), ("signature",),
                 ("credential", "ballot_public_key")):
        bad = copy.deepcopy(entry)
        _set(path, _get(entry, path) + "\n")(bad)
        assert board_entry_errors(bad), path
        assert not _schema_ok(bad), path


def _schema_ok(entry: object) -> bool:
    return not list(_validator().iter_errors(entry))


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(entry: dict[str, Any]) -> None:
        target: Any = entry
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return mutate


def _get(entry: dict[str, Any], path: tuple[Any, ...]) -> Any:
    target: Any = entry
    for key in path:
        target = target[key]
    return target


def _drop(path: tuple[Any, ...]) -> Callable[[dict[str, Any]], None]:
    def mutate(entry: dict[str, Any]) -> None:
        target: Any = entry
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return mutate


SEL = ("ballot", "contests", 0, "selections", 0)
MUTATIONS: dict[str, Callable[[dict[str, Any]], None]] = {
    "kind unknown": _set(("kind",), "vote"),
    "index negative": _set(("index",), -1),
    "index bool": _set(("index",), True),
    "index string": _set(("index",), "0"),
    "no cast_at": _drop(("cast_at",)),
    "cast_at negative": _set(("cast_at",), -5),
    "cast_at bool": _set(("cast_at",), False),
    "election_id number": _set(("election_id",), 7),
    "no ballot": _drop(("ballot",)),
    "ballot list": _set(("ballot",), []),
    "token upper": _set(("ballot", "token_id"), "AB" * 32),
    "token short": _set(("ballot", "token_id"), "ab" * 31),
    "no contests": _drop(("ballot", "contests")),
    "contests object": _set(("ballot", "contests"), {}),
    "contest string": _set(("ballot", "contests", 0), "x"),
    "no count proof": _drop(("ballot", "contests", 0, "count_proof")),
    "question id number": _set(("ballot", "contests", 0, "question_id"), 1),
    "selections null": _set(("ballot", "contests", 0, "selections"), None),
    "ciphertext leading zero": _set(SEL + ("ciphertext",), "0ab"),
    "ciphertext upper": _set(SEL + ("ciphertext",), "AB"),
    "ciphertext int": _set(SEL + ("ciphertext",), 12),
    "ciphertext newline": _set(SEL + ("ciphertext",), "ab\n"),
    "token newline": _set(("ballot", "token_id"), "ab" * 32 + "\n"),
    "no proof": _drop(SEL + ("proof",)),
    "proof z string": _set(SEL + ("proof", "z"), "ab"),
    "proof e item": _set(SEL + ("proof", "e", 0), "xyz"),
    "proof no a": _drop(SEL + ("proof", "a")),
    "option id null": _set(SEL + ("option_id",), None),
    "replaces string": _set(("replaces",), "0"),
    "replaces negative": _set(("replaces",), -1),
    "extra field (allowed by the schema)": _set(("note",), "hi"),
    "ciphertext zero (allowed by the schema)": _set(SEL + ("ciphertext",), "0"),
}
BALLOT_ONLY = {
    "no credential": _drop(("credential",)),
    "credential null": _set(("credential",), None),
    "credential key upper": _set(("credential", "ballot_public_key"), "AB" * 32),
    "credential no scope": _drop(("credential", "scope_id")),
    "credential signature odd": _set(("credential", "signature"), "abc"),
    "signature short": _set(("signature",), "ab" * 63),
    "signature null": _set(("signature",), None),
    "no replaces": _drop(("replaces",)),
}
AUDITED_ONLY = {
    "no secrets": _drop(("secrets",)),
    "secrets list": _set(("secrets",), []),
    "credential present": _set(("credential",), {"scope_id": "x"}),
    "signature present": _set(("signature",), "ab" * 64),
    "replaces set": _set(("replaces",), 0),
}


def _entry(kind: str) -> dict[str, Any]:
    return copy.deepcopy(next(e for e in _board() if e["kind"] == kind))


@pytest.mark.parametrize("kind", ["ballot", "audited"])
def test_valid_entries_pass_both(kind: str) -> None:
    entry = _entry(kind)
    assert _schema_ok(entry)
    assert board_entry_errors(entry) == []


def _mutations(kind: str) -> dict[str, Callable[[dict[str, Any]], None]]:
    """The mutations that apply to an entry of ``kind`` (the shared ones and its own)."""
    return {**MUTATIONS, **(BALLOT_ONLY if kind == "ballot" else AUDITED_ONLY)}


@pytest.mark.parametrize(("kind", "name"), [(kind, name) for kind in ("ballot", "audited")
                                            for name in sorted(_mutations(kind))])
def test_both_agree_on_malformed_entries(kind: str, name: str) -> None:
    entry = _entry(kind)
    _mutations(kind)[name](entry)  # every listed mutation applies to its kind's entry
    expected = _schema_ok(entry)
    assert (board_entry_errors(entry) == []) == expected, (name, board_entry_errors(entry))
    if "allowed" not in name:
        assert not expected, name  # every other mutation is a real malformation


def test_non_objects_and_whole_boards() -> None:
    for bad in (None, 3, "x", [], True):
        assert not _schema_ok(bad) and board_entry_errors(bad)
    assert board_errors({}) == ["board.json: not an array"]
    board = copy.deepcopy(_board())
    board[1]["index"] = -1
    errors = board_errors(board)
    assert errors and all(e.startswith("board.json/1") for e in errors)


def test_record_reader_reports_a_malformed_entry(tmp_path: Any) -> None:
    gen = generate(2, revote=False, audited=False)
    gen.board[1]["cast_at"] = -1
    gen.rebuild()
    from audit.record import write_record

    record = read_record(write_record(tmp_path / "rec", gen.files, gen.board_key), strict=False)
    assert any(e.startswith("board.json/1/cast_at") for e in record.format_errors)
