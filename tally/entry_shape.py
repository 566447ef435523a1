"""Cheap structure checks of election board entries: the ``boardEntry`` definition of
``audit/schema/election-record.schema.json``, written out by hand.

Generic JSON Schema validation of a whole board costs more than a third of ``saylau
verify``'s time on large boards (a validator dispatch and a ``$ref`` resolution per JSON
node); these checks do the same per entry with a few ``isinstance`` tests and precompiled
regular expressions, so a board can be checked entry by entry, in chunks, as it streams.
The schema stays the document of the format; ``tests/tally/test_entry_shape.py`` checks that
both accept and refuse the same entries.

Semantics follow JSON Schema draft 2020-12 as ``jsonschema`` implements it: booleans are
not integers; ``pattern`` is searched (``re.search``), and every pattern here is anchored;
unknown properties are allowed (the verifier's canonical-form checks refuse them later).
"""

from __future__ import annotations

import re

from crypto.encoding import is_hex_int

#: ``^(0|[1-9a-f][0-9a-f]*)$``, the schema's canonical hex integer, is tested with
#: :func:`crypto.encoding.is_hex_int` (no regular expression: a ballot holds 91 numbers of
#: up to 1,536 digits, and the expression cost a twentieth of the verifier's time)
_HEX_BYTES = re.compile(r"^([0-9a-f]{2})*$")
_HASH32 = re.compile(r"^[0-9a-f]{64}$")
_SIG64 = re.compile(r"^[0-9a-f]{128}$")
ENTRY_KINDS = ("ballot", "audited")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_count(value: object) -> bool:
    return _is_int(value) and value >= 0  # type: ignore[operator]


def _pattern(value: object, pattern: re.Pattern[str]) -> bool:
    return isinstance(value, str) and pattern.fullmatch(value) is not None


def _proof(where: str, proof: object, out: list[str]) -> None:
    if not isinstance(proof, dict):
        out.append(f"{where}: not an object")
        return
    for name in ("a", "e", "z"):
        if name not in proof:
            out.append(f"{where}: '{name}' is required")
            continue
        values = proof[name]
        if not isinstance(values, list):
            out.append(f"{where}/{name}: not an array")
            continue
        for i, v in enumerate(values):
            if not is_hex_int(v):
                out.append(f"{where}/{name}/{i}: not a canonical hex integer")


def _ballot(where: str, ballot: object, out: list[str]) -> None:
    if not isinstance(ballot, dict):
        out.append(f"{where}: not an object")
        return
    for name in ("election_id", "token_id", "contests"):
        if name not in ballot:
            out.append(f"{where}: '{name}' is required")
    if "election_id" in ballot and not isinstance(ballot["election_id"], str):
        out.append(f"{where}/election_id: not a string")
    if "token_id" in ballot and not _pattern(ballot["token_id"], _HASH32):
        out.append(f"{where}/token_id: not 32 bytes of lowercase hex")
    contests = ballot.get("contests")
    if "contests" not in ballot:
        return
    if not isinstance(contests, list):
        out.append(f"{where}/contests: not an array")
        return
    for ci, contest in enumerate(contests):
        cw = f"{where}/contests/{ci}"
        if not isinstance(contest, dict):
            out.append(f"{cw}: not an object")
            continue
        for name in ("question_id", "selections", "count_proof"):
            if name not in contest:
                out.append(f"{cw}: '{name}' is required")
        if "question_id" in contest and not isinstance(contest["question_id"], str):
            out.append(f"{cw}/question_id: not a string")
        if "count_proof" in contest:
            _proof(f"{cw}/count_proof", contest["count_proof"], out)
        if "selections" not in contest:
            continue
        selections = contest["selections"]
        if not isinstance(selections, list):
            out.append(f"{cw}/selections: not an array")
            continue
        for si, sel in enumerate(selections):
            sw = f"{cw}/selections/{si}"
            if not isinstance(sel, dict):
                out.append(f"{sw}: not an object")
                continue
            for name in ("option_id", "ciphertext", "proof"):
                if name not in sel:
                    out.append(f"{sw}: '{name}' is required")
            if "option_id" in sel and not isinstance(sel["option_id"], str):
                out.append(f"{sw}/option_id: not a string")
            if "ciphertext" in sel and not is_hex_int(sel["ciphertext"]):
                out.append(f"{sw}/ciphertext: not a canonical hex integer")
            if "proof" in sel:
                _proof(f"{sw}/proof", sel["proof"], out)


def _credential(where: str, credential: object, out: list[str]) -> None:
    if not isinstance(credential, dict):
        out.append(f"{where}: not an object")
        return
    for name in ("scope_id", "ballot_public_key", "randomizer", "signature"):
        if name not in credential:
            out.append(f"{where}: '{name}' is required")
    if "scope_id" in credential and not isinstance(credential["scope_id"], str):
        out.append(f"{where}/scope_id: not a string")
    for name in ("ballot_public_key", "randomizer"):
        if name in credential and not _pattern(credential[name], _HASH32):
            out.append(f"{where}/{name}: not 32 bytes of lowercase hex")
    if "signature" in credential and not _pattern(credential["signature"], _HEX_BYTES):
        out.append(f"{where}/signature: not lowercase hex bytes")


def board_entry_errors(entry: object, where: str = "board.json/0") -> list[str]:
    """The structure errors of one election board entry (empty: the schema accepts it)."""
    out: list[str] = []
    if not isinstance(entry, dict):
        return [f"{where}: not an object"]
    for name in ("kind", "index", "election_id", "ballot", "cast_at"):
        if name not in entry:
            out.append(f"{where}: '{name}' is required")
    kind = entry.get("kind")
    if "kind" in entry and kind not in ENTRY_KINDS:
        out.append(f"{where}/kind: not one of {list(ENTRY_KINDS)}")
    if "index" in entry and not _is_count(entry["index"]):
        out.append(f"{where}/index: not a non-negative integer")
    if "election_id" in entry and not isinstance(entry["election_id"], str):
        out.append(f"{where}/election_id: not a string")
    if "ballot" in entry:
        _ballot(f"{where}/ballot", entry["ballot"], out)
    if "cast_at" in entry and not _is_count(entry["cast_at"]):
        out.append(f"{where}/cast_at: not a non-negative integer")
    if "replaces" in entry:
        replaces = entry["replaces"]
        if replaces is not None and not _is_count(replaces):
            out.append(f"{where}/replaces: not a non-negative integer or null")
    if kind == "ballot":
        for name in ("credential", "signature", "replaces"):
            if name not in entry:
                out.append(f"{where}: '{name}' is required")
        if "credential" in entry:
            _credential(f"{where}/credential", entry["credential"], out)
        if "signature" in entry and not _pattern(entry["signature"], _SIG64):
            out.append(f"{where}/signature: not 64 bytes of lowercase hex")
    elif kind == "audited":
        for name in ("credential", "signature", "replaces", "secrets"):
            if name not in entry:
                out.append(f"{where}: '{name}' is required")
        for name in ("credential", "signature", "replaces"):
            if name in entry and entry[name] is not None:
                out.append(f"{where}/{name}: must be null in an audited entry")
        if "secrets" in entry and not isinstance(entry["secrets"], dict):
            out.append(f"{where}/secrets: not an object")
    return out


def board_errors(board: object) -> list[str]:
    """Structure errors of ``board.json`` (a list of entries), entry by entry."""
    if not isinstance(board, list):
        return ["board.json: not an array"]
    out: list[str] = []
    for i, entry in enumerate(board):
        out.extend(board_entry_errors(entry, f"board.json/{i}"))
    return out

