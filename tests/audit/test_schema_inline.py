"""audit.schema_inline: the record schemas with their $refs written out give the same errors.

The verifier validates the non-board files with the inlined schema (half the time on large
rolls, issuance files and tree heads).  Each test below mutates a generated record at many
places (wrong types, missing and extra keys, bad hex, bad numbers) and checks that the
published schema and the inlined one report exactly the same (path, message) pairs, in the
order ``audit.record._schema_errors`` lists them.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from audit.record import FORMAT, PETITION_FORMAT, _validator, load_schema
from audit.schema_inline import CannotInline, inline_refs

#: What a value is replaced by (every JSON type, an out-of-range number, a non-hex string).
REPLACEMENTS: tuple[Any, ...] = (None, True, -1, 1.5, "", "zz", "00ff", [], {}, {"x": 1})


def _paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node[:3]):  # the first few items of a list
            yield from _paths(value, (*path, i))


def _mutations(document: dict[str, Any], count: int, seed: int
               ) -> Iterator[tuple[str, dict[str, Any]]]:
    rng = random.Random(seed)
    paths = [p for p in _paths(document) if p]
    for _ in range(count):
        path = rng.choice(paths)
        mutated = copy.deepcopy(document)
        parent = mutated
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        how = rng.randrange(3)
        if how == 0 and isinstance(parent, dict):
            del parent[last]
            yield f"delete {path}", mutated
        elif how == 1 and isinstance(parent, dict):
            parent[f"extra_{rng.randrange(99)}"] = rng.choice(REPLACEMENTS)
            yield f"extra key beside {path}", mutated
        else:
            parent[last] = rng.choice(REPLACEMENTS)
            yield f"replace {path}", mutated


def _errors(validator: Any, document: dict[str, Any]) -> list[tuple[str, str]]:
    """As ``_schema_errors`` lists them: sorted by path, message."""
    return [("/".join(str(p) for p in e.path), e.message)
            for e in sorted(validator.iter_errors(document), key=lambda e: list(e.path))]


def _election_document() -> dict[str, Any]:
    from tests.recordgen import generate

    g = generate(2)
    files = copy.deepcopy(g.files)
    files["board.json"] = []  # checked by tally.entry_shape, not by the schema
    files["record-index.json"] = {"format": FORMAT, "files": {}, "signature": "00" * 64}
    return files


def _petition_document() -> dict[str, Any]:
    from tests.audit.test_petition_record import _base

    files = copy.deepcopy(_base().files)
    files["record-index.json"] = {"format": PETITION_FORMAT, "files": {}, "signature": "00" * 64}
    return files


@pytest.mark.parametrize(("record_format", "make"), [(FORMAT, _election_document),
                                                     (PETITION_FORMAT, _petition_document)])
def test_inlined_schema_reports_the_same_errors(record_format: str, make: Any) -> None:
    published = jsonschema.Draft202012Validator(load_schema(record_format))
    inlined = _validator(record_format)
    assert "$defs" not in inlined.schema and "$ref" not in str(inlined.schema)
    document = make()
    assert _errors(published, document) == _errors(inlined, document) == []
    differing = []
    failing = 0
    for what, mutated in _mutations(document, 250, seed=20261130):
        expected = _errors(published, mutated)
        failing += bool(expected)
        if _errors(inlined, mutated) != expected:
            differing.append(what)
    assert differing == []
    assert failing >= 150  # the mutations do reach the schema's rules


def test_a_ref_beside_other_keywords_becomes_all_of_in_place() -> None:
    schema = {"$defs": {"hex": {"type": "string", "pattern": "^[0-9a-f]+$"}},
              "type": "object",
              "properties": {"a": {"$ref": "#/$defs/hex"},
                             "b": {"$ref": "#/$defs/hex", "maxLength": 4}}}
    assert inline_refs(schema) == {
        "type": "object",
        "properties": {"a": {"type": "string", "pattern": "^[0-9a-f]+$"},
                       "b": {"allOf": [{"type": "string", "pattern": "^[0-9a-f]+$"}],
                             "maxLength": 4}}}


def test_what_cannot_be_inlined_is_refused() -> None:
    cycle = {"$defs": {"node": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
             "$ref": "#/$defs/node"}
    with pytest.raises(CannotInline, match=r"^\$defs/node refers to itself$"):
        inline_refs(cycle)
    beside = {"$defs": {"x": {"type": "string"}}, "$ref": "#/$defs/x", "allOf": [{}]}
    with pytest.raises(CannotInline, match=r"^a \$ref beside an allOf$"):
        inline_refs(beside)
