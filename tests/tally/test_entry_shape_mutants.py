"""tally.entry_shape: every structure error by its exact text and path, in order.

tests/tally/test_entry_shape.py checks that the hand-written checks and the JSON Schema
accept and refuse the same entries; these pin *what* each refusal says (the verifier's report
and ``saylau verify`` show these lines) and that the checks go on after one error.
Written against the mutation run of 2026-11-29 (docs/testing.md "Mutation testing").
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tally.entry_shape import board_entry_errors, board_errors

H32 = "ab" * 32
PROOF: dict[str, Any] = {"a": ["1f", "0"], "e": ["2"], "z": []}
BALLOT: dict[str, Any] = {
    "election_id": "e",
    "token_id": H32,
    "contests": [
        {"question_id": "q", "count_proof": PROOF,
         "selections": [{"option_id": "o", "ciphertext": "ff", "proof": PROOF}]},
    ],
}
CREDENTIAL = {"scope_id": "e", "ballot_public_key": H32, "randomizer": "00" * 32,
              "signature": "0a0b"}
BALLOT_ENTRY: dict[str, Any] = {"kind": "ballot", "index": 0, "election_id": "e",
                                "ballot": BALLOT, "cast_at": 0, "credential": CREDENTIAL,
                                "signature": "cd" * 64, "replaces": None}
AUDITED_ENTRY: dict[str, Any] = {"kind": "audited", "index": 0, "election_id": "e",
                                 "ballot": BALLOT, "cast_at": 0, "credential": None,
                                 "signature": None, "replaces": None, "secrets": {}}
W = "board.json/0"
B = f"{W}/ballot"
C0 = f"{B}/contests/0"
S0 = f"{C0}/selections/0"


_DROP = object()


def _with(entry: dict[str, Any], **fields: Any) -> dict[str, Any]:
    out = copy.deepcopy(entry)
    for key, value in fields.items():
        if value is _DROP:
            del out[key]
        else:
            out[key] = value
    return out


def test_valid_entries_have_no_errors() -> None:
    assert board_entry_errors(BALLOT_ENTRY) == []
    assert board_entry_errors(AUDITED_ENTRY) == []
    assert board_entry_errors(_with(BALLOT_ENTRY, index=7, cast_at=2**40, replaces=3)) == []
    assert board_entry_errors(_with(BALLOT_ENTRY, extra="allowed")) == []
    assert board_errors([BALLOT_ENTRY, AUDITED_ENTRY]) == []


@pytest.mark.parametrize(("entry", "errors"), [
    (None, [f"{W}: not an object"]),
    ([], [f"{W}: not an object"]),
    ({}, [f"{W}: '{n}' is required" for n in ("kind", "index", "election_id", "ballot",
                                               "cast_at")]),
    ({"kind": "vote", "index": -1, "election_id": 3, "ballot": [], "cast_at": True,
      "replaces": "0"},
     [f"{W}/kind: not one of ['ballot', 'audited']",
      f"{W}/index: not a non-negative integer",
      f"{W}/election_id: not a string",
      f"{B}: not an object",
      f"{W}/cast_at: not a non-negative integer",
      f"{W}/replaces: not a non-negative integer or null"]),
    (_with(BALLOT_ENTRY, index=True, cast_at=-1, replaces=-1),
     [f"{W}/index: not a non-negative integer",
      f"{W}/cast_at: not a non-negative integer",
      f"{W}/replaces: not a non-negative integer or null"]),
    (_with(BALLOT_ENTRY, index="0", cast_at=1.0, replaces=True),
     [f"{W}/index: not a non-negative integer",
      f"{W}/cast_at: not a non-negative integer",
      f"{W}/replaces: not a non-negative integer or null"]),
    (_with(BALLOT_ENTRY, credential=_DROP, signature=_DROP, replaces=_DROP),
     [f"{W}: '{n}' is required" for n in ("credential", "signature", "replaces")]),
    (_with(BALLOT_ENTRY, credential=None, signature="cd" * 63),
     [f"{W}/credential: not an object",
      f"{W}/signature: not 64 bytes of lowercase hex"]),
    (_with(BALLOT_ENTRY, credential={}, signature=None),
     [f"{W}/credential: '{n}' is required"
      for n in ("scope_id", "ballot_public_key", "randomizer", "signature")]
     + [f"{W}/signature: not 64 bytes of lowercase hex"]),
    (_with(BALLOT_ENTRY, credential={"scope_id": 1, "ballot_public_key": "AB" * 32,
                                     "randomizer": H32 + "00", "signature": "abc"}),
     [f"{W}/credential/scope_id: not a string",
      f"{W}/credential/ballot_public_key: not 32 bytes of lowercase hex",
      f"{W}/credential/randomizer: not 32 bytes of lowercase hex",
      f"{W}/credential/signature: not lowercase hex bytes"]),
    (_with(BALLOT_ENTRY, credential={**CREDENTIAL, "randomizer": 5, "signature": 5}),
     [f"{W}/credential/randomizer: not 32 bytes of lowercase hex",
      f"{W}/credential/signature: not lowercase hex bytes"]),
    (_with(AUDITED_ENTRY, credential=_DROP, signature=_DROP, replaces=_DROP, secrets=_DROP),
     [f"{W}: '{n}' is required" for n in ("credential", "signature", "replaces", "secrets")]),
    (_with(AUDITED_ENTRY, credential={}, signature="", replaces=0, secrets=[]),
     [f"{W}/{n}: must be null in an audited entry"
      for n in ("credential", "signature", "replaces")] + [f"{W}/secrets: not an object"]),
    (_with(AUDITED_ENTRY, signature=False),
     [f"{W}/signature: must be null in an audited entry"]),
])
def test_entry_errors(entry: object, errors: list[str]) -> None:
    assert board_entry_errors(entry) == errors


def _ballot(ballot: object) -> list[str]:
    return board_entry_errors(_with(BALLOT_ENTRY, ballot=ballot))


def test_ballot_errors() -> None:
    assert _ballot({}) == [f"{B}: '{n}' is required"
                           for n in ("election_id", "token_id", "contests")]
    assert _ballot({"election_id": None, "token_id": H32[:-2], "contests": {}}) == [
        f"{B}/election_id: not a string",
        f"{B}/token_id: not 32 bytes of lowercase hex",
        f"{B}/contests: not an array"]
    assert _ballot({"election_id": "e", "token_id": 7, "contests": []}) == [
        f"{B}/token_id: not 32 bytes of lowercase hex"]
    assert _ballot({"election_id": "e", "token_id": H32, "contests": [
        "x", {}, {"question_id": 1, "selections": {}, "count_proof": None},
        {"question_id": "q", "count_proof": PROOF, "selections": [
            3, {}, {"option_id": 4, "ciphertext": "0ab", "proof": []},
            {"option_id": "o", "ciphertext": 10, "proof": PROOF}]},
        {"count_proof": {}},
    ]}) == [
        f"{B}/contests/0: not an object",
        f"{B}/contests/1: 'question_id' is required",
        f"{B}/contests/1: 'selections' is required",
        f"{B}/contests/1: 'count_proof' is required",
        f"{B}/contests/2/question_id: not a string",
        f"{B}/contests/2/count_proof: not an object",
        f"{B}/contests/2/selections: not an array",
        f"{B}/contests/3/selections/0: not an object",
        f"{B}/contests/3/selections/1: 'option_id' is required",
        f"{B}/contests/3/selections/1: 'ciphertext' is required",
        f"{B}/contests/3/selections/1: 'proof' is required",
        f"{B}/contests/3/selections/2/option_id: not a string",
        f"{B}/contests/3/selections/2/ciphertext: not a canonical hex integer",
        f"{B}/contests/3/selections/2/proof: not an object",
        f"{B}/contests/3/selections/3/ciphertext: not a canonical hex integer",
        f"{B}/contests/4: 'question_id' is required",
        f"{B}/contests/4: 'selections' is required",
        f"{B}/contests/4/count_proof: 'a' is required",
        f"{B}/contests/4/count_proof: 'e' is required",
        f"{B}/contests/4/count_proof: 'z' is required",
    ]


def test_proof_errors() -> None:
    proof = {"e": "ab", "z": ["0", "01", "A", 5, "ab\n", "1"]}
    entry = _with(BALLOT_ENTRY, ballot={**BALLOT, "contests": [
        {"question_id": "q", "count_proof": proof, "selections": [
            {"option_id": "o", "ciphertext": "ab", "proof": {"a": {}, "e": [], "z": ["x"]}}]}]})
    assert board_entry_errors(entry, "board.json/9") == [
        "board.json/9/ballot/contests/0/count_proof: 'a' is required",
        "board.json/9/ballot/contests/0/count_proof/e: not an array",
        "board.json/9/ballot/contests/0/count_proof/z/1: not a canonical hex integer",
        "board.json/9/ballot/contests/0/count_proof/z/2: not a canonical hex integer",
        "board.json/9/ballot/contests/0/count_proof/z/3: not a canonical hex integer",
        # a trailing newline is not hex: the pattern holds for the whole string (§1.1)
        "board.json/9/ballot/contests/0/count_proof/z/4: not a canonical hex integer",
        "board.json/9/ballot/contests/0/selections/0/proof/a: not an array",
        "board.json/9/ballot/contests/0/selections/0/proof/z/0: not a canonical hex integer",
    ]


def test_selections_missing_still_checks_the_next_contest() -> None:
    entry = _with(BALLOT_ENTRY, ballot={**BALLOT, "contests": [
        {"question_id": "q", "count_proof": PROOF},
        {"question_id": "r", "count_proof": PROOF, "selections": ["s"]}]})
    assert board_entry_errors(entry) == [
        f"{C0}: 'selections' is required",
        f"{B}/contests/1/selections/0: not an object"]


def test_ballot_without_contests_reports_its_other_fields() -> None:
    assert _ballot({"election_id": "e", "token_id": "zz"}) == [
        f"{B}: 'contests' is required",
        f"{B}/token_id: not 32 bytes of lowercase hex"]


def test_board_errors_name_each_entry() -> None:
    assert board_errors({}) == ["board.json: not an array"]
    assert board_errors([BALLOT_ENTRY, 5, _with(AUDITED_ENTRY, cast_at=None)]) == [
        "board.json/1: not an object",
        "board.json/2/cast_at: not a non-negative integer"]
    assert board_entry_errors(_with(BALLOT_ENTRY, kind=_DROP)) == [f"{W}: 'kind' is required"]
