"""The record schemas with their local ``$ref``s written out (validation speed only).

``jsonschema`` resolves every ``"$ref": "#/$defs/…"`` through its reference registry each
time an instance reaches it; on a record of 1,024 ballots that was half of the 0.3 s spent
validating the roll, the issuance requests and the tree heads, before the board pass starts.
:func:`inline_refs` returns the same schema with each such reference replaced by a copy of
its target: a ``{"$ref": X}`` object becomes X itself, and a ``$ref`` beside other keywords
becomes ``"allOf": [X]`` in the same position.  Draft 2020-12 applies ``$ref`` like an
``allOf`` of one subschema, so an instance is valid against both or against neither, and
each failing keyword yields the same error, at the same instance path, with the same
message (``tests/audit/test_schema_inline.py`` compares them on mutated records).  The
published schema (audit/schema/*.schema.json) is unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_LOCAL = "#/$defs/"


class CannotInline(ValueError):
    """A ``$defs`` entry refers back to itself, or a ``$ref`` stands beside an ``allOf``."""


def inline_refs(schema: Mapping[str, Any]) -> dict[str, Any]:
    """``schema`` with every local ``$ref`` into ``$defs`` replaced by its target (and no
    ``$defs``).  Raises :class:`CannotInline` when that cannot be done."""
    defs = schema.get("$defs", {})
    out = _inline({k: v for k, v in schema.items() if k != "$defs"}, defs, ())
    assert isinstance(out, dict)  # noqa: S101 (a schema object stays an object)
    return out


def _inline(node: Any, defs: Mapping[str, Any], stack: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [_inline(item, defs, stack) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str) and value.startswith(_LOCAL) \
                and value[len(_LOCAL):] in defs:
            name = value[len(_LOCAL):]
            if name in stack:
                raise CannotInline(f"$defs/{name} refers to itself")
            if "allOf" in node:
                raise CannotInline("a $ref beside an allOf")
            target = _inline(defs[name], defs, (*stack, name))
            if len(node) == 1:
                return target
            out["allOf"] = [target]
        else:
            out[key] = _inline(value, defs, stack)
    return out


__all__ = ["CannotInline", "inline_refs"]
