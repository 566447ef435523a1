"""tally.aggregate: the encrypted tally's JSON form (every rejection by its message) and the
products of aggregate_ballots, including ballots for questions or options the manifest lacks.

Written against the mutation run of 2026-11-29 (docs/testing.md "Mutation testing").
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from crypto.ballot import EncryptedBallot, EncryptedContest, EncryptedSelection
from crypto.election import Manifest, Option, Question
from crypto.errors import InvalidBallot, InvalidCiphertext, InvalidEncoding
from crypto.paillier import PublicKey
from crypto.proofs import MembershipProof
from crypto.threshold import ThresholdPublicKey
from tally.aggregate import EncryptedTally, aggregate, aggregate_ballots
from tally.verify_board import CountedBallot

FIXTURES = Path(__file__).parents[1] / "fixtures"
PK: PublicKey = ThresholdPublicKey.from_json(
    json.loads((FIXTURES / "threshold-test-key-1024-3of5.json").read_text())["public_key"]).public
NN = PK.nsquare
NO_PROOF = MembershipProof((), (), ())

GOOD: dict[str, Any] = {
    "election_id": "e",
    "ballots_counted": 2,
    "counted_trackers": ["t1", "t2"],
    "tally": {"q": {"a": "5", "b": "1"}, "r": {"x": "7"}},
}


def _bad(**fields: Any) -> dict[str, Any]:
    return {**GOOD, **fields}


def test_from_json_keeps_every_field() -> None:
    enc = EncryptedTally.from_json(GOOD)
    assert enc == EncryptedTally("e", {"q": {"a": 5, "b": 1}, "r": {"x": 7}}, ("t1", "t2"))
    assert enc.items() == [("q", "a", 5), ("q", "b", 1), ("r", "x", 7)]
    assert EncryptedTally.from_json(enc.to_json(), PK) == enc
    assert enc.to_json() == GOOD


@pytest.mark.parametrize(("obj", "message"), [
    ([], "^encrypted tally: expected a JSON object$"),
    ({k: v for k, v in GOOD.items() if k != "election_id"},
     "^encrypted tally: missing field 'election_id'$"),
    (_bad(election_id=1), "^encrypted tally.election_id: expected str$"),
    (_bad(counted_trackers="t1"), "^encrypted tally.counted_trackers: expected list$"),
    (_bad(counted_trackers=["t1", 2]), "^encrypted tally.counted_trackers: expected strings$"),
    (_bad(ballots_counted=True), "^encrypted tally.ballots_counted: expected integer$"),
    (_bad(ballots_counted=3), "^encrypted tally: ballots_counted differs from the tracker list$"),
    (_bad(ballots_counted=1), "^encrypted tally: ballots_counted differs from the tracker list$"),
    (_bad(tally=[]), "^encrypted tally.tally: expected dict$"),
    (_bad(tally={"q": {"a": "5"}, "r": ["7"]}), r"^encrypted tally\.tally\.r: expected an object$"),
    (_bad(tally={"q": {"a": "5", "b": "0x1"}}),
     r"^encrypted tally\.tally\.q\.b: expected canonical lowercase hex$"),
])
def test_from_json_rejects_by_name(obj: object, message: str) -> None:
    with pytest.raises(InvalidEncoding, match=message):
        EncryptedTally.from_json(obj)


def test_from_json_checks_ciphertexts_only_with_a_key() -> None:
    """``0`` and ``n`` are not units mod n²: rejected with the key, kept without it."""
    for c in (0, PK.n, NN):
        obj = _bad(tally={"q": {"a": "5", "b": format(c, "x")}})
        assert EncryptedTally.from_json(obj).tally["q"]["b"] == c
        with pytest.raises(InvalidCiphertext, match=r"^ciphertext is not in Z\*_\{n\^2\}$"):
            EncryptedTally.from_json(obj, PK)
    assert EncryptedTally.from_json(_bad(tally={"q": {"b": format(NN - 1, "x")}}), PK).tally == {
        "q": {"b": NN - 1}}


def test_from_json_keeps_an_empty_question_and_no_trackers() -> None:
    enc = EncryptedTally.from_json(_bad(ballots_counted=0, counted_trackers=[], tally={"q": {}}))
    assert enc.tally == {"q": {}} and enc.counted == ()


# ------------------------------------------------------------------ aggregate_ballots


MANIFEST = Manifest("e", "Test", (
    Question("q", "Q", (Option("a", "A"), Option("b", "B")), 0, 1),
    Question("r", "R", (Option("x", "X"),), 0, 1),
))


def _ballot(*contests: tuple[str, dict[str, int]]) -> EncryptedBallot:
    return EncryptedBallot("e", bytes(32), tuple(
        EncryptedContest(q, tuple(EncryptedSelection(o, c, NO_PROOF) for o, c in opts.items()),
                         NO_PROOF)
        for q, opts in contests))


def test_products_mod_n_squared() -> None:
    big = NN - 2
    ballots = [_ballot(("q", {"a": 3, "b": big}), ("r", {"x": 5})),
               _ballot(("q", {"a": 7, "b": big})),
               _ballot(("r", {"x": 11}))]
    assert aggregate_ballots(PK, MANIFEST, ballots) == {
        "q": {"a": 21, "b": big * big % NN}, "r": {"x": 55}}
    assert aggregate_ballots(PK, MANIFEST, []) == {"q": {"a": 1, "b": 1}, "r": {"x": 1}}


def test_unknown_question_or_option_is_refused() -> None:
    with pytest.raises(InvalidBallot, match="^unknown question s$"):
        aggregate_ballots(PK, MANIFEST, [_ballot(("q", {"a": 3})), _ballot(("s", {"a": 3}))])
    with pytest.raises(InvalidBallot, match="^unknown option r/a$"):
        aggregate_ballots(PK, MANIFEST, [_ballot(("r", {"x": 3, "a": 3}))])


def test_aggregate_orders_the_counted_ballots_by_board_index() -> None:
    counted = [CountedBallot(7, "t7", "", _ballot(("q", {"a": 3}))),
               CountedBallot(2, "t2", "", _ballot(("q", {"a": 5}), ("r", {"x": 2}))),
               CountedBallot(4, "t4", "", _ballot(("r", {"x": 9})))]
    enc = aggregate(PK, MANIFEST, counted)
    assert enc == EncryptedTally("e", {"q": {"a": 15, "b": 1}, "r": {"x": 18}}, ("t2", "t4", "t7"))
    assert aggregate(PK, MANIFEST, []) == EncryptedTally(
        "e", {"q": {"a": 1, "b": 1}, "r": {"x": 1}}, ())
