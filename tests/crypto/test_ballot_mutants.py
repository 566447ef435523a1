"""Exact messages, boundaries and bindings of crypto/ballot.py.

Written to kill the survivors of ``tools/mutate … 'crypto/ballot.py'`` (docs/testing.md,
"Mutation testing", lists the mutants that remain and why they are equivalent).
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import re
from collections.abc import Callable
from typing import Any

import pytest

from crypto import paillier as P
from crypto.ballot import (
    OPTION_VALUES,
    TRACKER_DOMAIN,
    BallotSecrets,
    EncryptedBallot,
    EncryptedContest,
    ballot_proof_items,
    check_ballot,
    check_ballot_shape,
    count_context,
    encrypt_ballot,
    option_context,
    tracker_of,
    verify_audited_ballot,
    verify_ballot,
)
from crypto.batch import ProofItem
from crypto.election import Manifest, election_fingerprint
from crypto.encoding import canonical_json
from crypto.errors import InvalidBallot, InvalidCiphertext, InvalidEncoding, InvalidProof
from crypto.proofs import DOMAIN_OPTION, DOMAIN_SELECTION_COUNT, MembershipProof, verify_membership
from crypto.transcript import tagged_hash
from tests.keys import paillier_test_key
from tests.manifests import demo_manifest

KEY = paillier_test_key()
PK = KEY.public
MANIFEST = demo_manifest()
FP = election_fingerprint(MANIFEST, PK.to_json(), {"n": "ff", "e": "10001"}, bytes(32))
TOKEN = bytes([9]) * 32
CHOICE = {"mayor": ["dana"], "council": ["a", "b"], "budget": ["yes"]}

Checker = Callable[[P.PublicKey, Manifest, bytes, EncryptedBallot, bytes], Any]
CHECKERS: tuple[Checker, ...] = (verify_ballot, ballot_proof_items, check_ballot)


def _exact(text: str) -> str:
    return "^" + re.escape(text) + "$"


def _seeded(seed: bytes) -> Callable[[int], int]:
    counter = [0]

    def draw(n: int) -> int:
        counter[0] += 1
        digest = hashlib.sha512(seed + counter[0].to_bytes(8, "big")).digest() * 5
        return int.from_bytes(digest, "big") % n

    return draw


@pytest.fixture(scope="module")
def cast() -> tuple[EncryptedBallot, BallotSecrets]:
    return encrypt_ballot(PK, MANIFEST, FP, TOKEN, CHOICE)


def _replace_selection(ballot: EncryptedBallot, qi: int, oi: int, **change: Any) -> EncryptedBallot:
    contest = ballot.contests[qi]
    sels = list(contest.selections)
    sels[oi] = dataclasses.replace(sels[oi], **change)
    contests = list(ballot.contests)
    contests[qi] = dataclasses.replace(contest, selections=tuple(sels))
    return dataclasses.replace(ballot, contests=tuple(contests))


def _replace_count_proof(ballot: EncryptedBallot, qi: int, proof: MembershipProof) -> EncryptedBallot:
    contests = list(ballot.contests)
    contests[qi] = dataclasses.replace(contests[qi], count_proof=proof)
    return dataclasses.replace(ballot, contests=tuple(contests))


# --- contexts, tracker ---------------------------------------------------------------------


def test_contexts() -> None:
    assert option_context("e", "q", "o", b"\x01\xff") == (
        ("election_id", "e"), ("question_id", "q"), ("option_id", "o"), ("token_id", "01ff"))
    assert count_context("e", "q", b"\x01\xff") == (
        ("election_id", "e"), ("question_id", "q"), ("token_id", "01ff"))


def test_tracker_is_the_protocol_formula(cast: tuple[EncryptedBallot, BallotSecrets]) -> None:
    """docs/protocol.md §5.4: tracker = hex(tagged_hash("saylau/v1/tracker", ("ballot", cj)))."""
    assert TRACKER_DOMAIN == "saylau/v1/tracker"
    obj = cast[0].to_json()
    assert tracker_of(obj) == tagged_hash("saylau/v1/tracker", ("ballot", canonical_json(obj))).hex()
    assert tracker_of({"b": 1, "a": [2]}) == tagged_hash(
        "saylau/v1/tracker", ("ballot", b'{"a":[2],"b":1}')).hex()
    # the browser client's vector (tests/js/core.test.mjs, trackerOf)
    small = {"election_id": "e1", "token_id": "00" * 32, "contests": [], "note": "é中"}
    assert tracker_of(small) == "d5804a1b5253d6c3da13422a321636eab0008dda6d2df4203fd0eb13ff40800a"


# --- JSON ----------------------------------------------------------------------------------


def test_ballot_json_shape(cast: tuple[EncryptedBallot, BallotSecrets]) -> None:
    ballot = cast[0]
    obj = ballot.to_json()
    assert set(obj) == {"election_id", "token_id", "contests"}
    assert obj["token_id"] == TOKEN.hex()
    assert [set(c) for c in obj["contests"]] == [{"question_id", "selections", "count_proof"}] * 3
    sel = obj["contests"][0]["selections"][0]
    assert sel == {"option_id": "aigerim", "ciphertext": format(ballot.contests[0].selections[0].ciphertext, "x"),
                   "proof": ballot.contests[0].selections[0].proof.to_json()}
    assert EncryptedBallot.from_json(obj) == ballot


def test_ballot_json_field_errors_name_the_place(cast: tuple[EncryptedBallot, BallotSecrets]) -> None:
    obj = cast[0].to_json()
    cases: list[tuple[Callable[[dict[str, Any]], object], str]] = [
        (lambda o: o.pop("contests"), "ballot: missing field 'contests'"),
        (lambda o: o.pop("election_id"), "ballot: missing field 'election_id'"),
        (lambda o: o.pop("token_id"), "ballot: missing field 'token_id'"),
        (lambda o: o.update(token_id="00"), "ballot.token_id: expected 32 bytes, got 1"),
        (lambda o: o["contests"][1].pop("question_id"), "ballot.contests[1]: missing field 'question_id'"),
        (lambda o: o["contests"][1].pop("selections"), "ballot.contests[1]: missing field 'selections'"),
        (lambda o: o["contests"][1].pop("count_proof"), "ballot.contests[1]: missing field 'count_proof'"),
        (lambda o: o["contests"][1]["count_proof"].update(z=[]), "ballot.contests[1].count_proof.z: bad length"),
        (lambda o: o["contests"][1]["selections"][2].pop("option_id"),
         "ballot.contests[1].selections[2]: missing field 'option_id'"),
        (lambda o: o["contests"][1]["selections"][2].pop("ciphertext"),
         "ballot.contests[1].selections[2]: missing field 'ciphertext'"),
        (lambda o: o["contests"][1]["selections"][2].pop("proof"),
         "ballot.contests[1].selections[2]: missing field 'proof'"),
        (lambda o: o["contests"][1]["selections"][2].update(ciphertext="0x1"),
         "ballot.contests[1].selections[2].ciphertext: expected canonical lowercase hex"),
        (lambda o: o["contests"][1]["selections"][2]["proof"].update(a=[]),
         "ballot.contests[1].selections[2].proof.a: bad length"),
    ]
    for mutate, message in cases:
        bad = copy.deepcopy(obj)
        mutate(bad)
        with pytest.raises(InvalidEncoding, match=_exact(message)):
            EncryptedBallot.from_json(bad)


def test_selection_and_contest_count_limits(cast: tuple[EncryptedBallot, BallotSecrets]) -> None:
    obj = cast[0].to_json()
    sel = obj["contests"][0]["selections"][0]
    contest = {**obj["contests"][0], "selections": [sel] * 64}
    assert len(EncryptedBallot.from_json({**obj, "contests": [contest]}).contests[0].selections) == 64
    with pytest.raises(InvalidEncoding, match=_exact("ballot.contests[0]: too many selections")):
        EncryptedBallot.from_json({**obj, "contests": [{**contest, "selections": [sel] * 65}]})
    with pytest.raises(InvalidEncoding, match=_exact("c: too many selections")):
        EncryptedContest.from_json({**contest, "selections": [sel] * 65}, "c")
    assert len(EncryptedBallot.from_json({**obj, "contests": [obj["contests"][2]] * 64}).contests) == 64
    with pytest.raises(InvalidEncoding, match=_exact("ballot: too many contests")):
        EncryptedBallot.from_json({**obj, "contests": [obj["contests"][2]] * 65})


def test_ciphertexts_and_contest_lookup(cast: tuple[EncryptedBallot, BallotSecrets]) -> None:
    ballot = cast[0]
    assert list(ballot.ciphertexts()) == [s.ciphertext for c in ballot.contests for s in c.selections]
    assert len(list(ballot.ciphertexts())) == 7
    assert ballot.contest("council") is ballot.contests[1]
    assert ballot.contest("budget") is ballot.contests[2]
    with pytest.raises(KeyError, match="^'nosuch'$"):
        ballot.contest("nosuch")


# --- secrets -------------------------------------------------------------------------------


def test_secrets_json(cast: tuple[EncryptedBallot, BallotSecrets]) -> None:
    secrets_ = cast[1]
    obj = secrets_.to_json()
    r = secrets_.randomness["mayor"]["dana"]
    assert obj["mayor"]["dana"] == {"m": 1, "r": format(r, "x")}
    assert obj["mayor"]["bolat"]["m"] == 0
    assert BallotSecrets.from_json(obj) == secrets_
    cases: list[tuple[object, str]] = [
        ([], "ballot secrets: expected an object"),
        ({"mayor": []}, "ballot secrets: expected an object per question"),
        ({"mayor": {"dana": {"r": "1"}}}, "secrets.mayor.dana: missing field 'm'"),
        ({"mayor": {"dana": {"m": True, "r": "1"}}}, "secrets.mayor.dana.m: expected integer"),
        ({"mayor": {"dana": {"m": 2, "r": "1"}}}, "ballot secrets: m must be 0 or 1"),
        ({"mayor": {"dana": {"m": -1, "r": "1"}}}, "ballot secrets: m must be 0 or 1"),
        ({"mayor": {"dana": {"m": 1}}}, "secrets.mayor.dana: missing field 'r'"),
        ({"mayor": {"dana": {"m": 1, "r": "0x1"}}}, "r: expected canonical lowercase hex"),
        ({"mayor": {"dana": 5}}, "secrets.mayor.dana: expected a JSON object"),
    ]
    for bad, message in cases:
        with pytest.raises(InvalidEncoding, match=_exact(message)):
            BallotSecrets.from_json(bad)
    assert BallotSecrets.from_json({"q": {"o": {"m": 0, "r": "ff"}}}) == BallotSecrets(
        {"q": {"o": 0}}, {"q": {"o": 255}})


# --- encryption ----------------------------------------------------------------------------


def test_choice_messages() -> None:
    cases: list[tuple[dict[str, list[str]], str]] = [
        ({"zz": [], "nope": ["x"], "mayor": ["dana"]}, "unknown question(s): nope, zz"),
        ({"mayor": ["zed"]}, "question mayor: unknown option(s)"),
        ({"mayor": ["dana"], "council": ["a", "d"]}, "question council: unknown option(s)"),
        ({"mayor": []}, "question mayor: choose between 1 and 1"),
        ({"mayor": ["dana", "bolat"]}, "question mayor: choose between 1 and 1"),
        ({"mayor": ["dana"], "council": ["a", "b", "c"]}, "question council: choose between 1 and 2"),
        ({"mayor": ["dana"]}, "question council: choose between 1 and 2"),
    ]
    for choices, message in cases:
        with pytest.raises(InvalidBallot, match=_exact(message)):
            encrypt_ballot(PK, MANIFEST, FP, TOKEN, choices)
    for size in (31, 33):
        with pytest.raises(InvalidEncoding, match=_exact("token id must be 32 bytes")):
            encrypt_ballot(PK, MANIFEST, FP, bytes(size), CHOICE)


def test_encryption_matches_the_secrets(cast: tuple[EncryptedBallot, BallotSecrets]) -> None:
    ballot, secrets_ = cast
    assert (ballot.election_id, ballot.token_id) == ("test-election", TOKEN)
    assert secrets_.plaintexts == {"mayor": {"aigerim": 0, "bolat": 0, "dana": 1},
                                   "council": {"a": 1, "b": 1, "c": 0}, "budget": {"yes": 1}}
    for contest in ballot.contests:
        q = MANIFEST.question(contest.question_id)
        assert tuple(s.option_id for s in contest.selections) == q.option_ids
        cts = [s.ciphertext for s in contest.selections]
        for s in contest.selections:
            m = secrets_.plaintexts[q.id][s.option_id]
            assert P.encrypt(PK, m, secrets_.randomness[q.id][s.option_id])[0] == s.ciphertext
            verify_membership(PK, s.ciphertext, OPTION_VALUES, s.proof, domain=DOMAIN_OPTION,
                              fingerprint=FP,
                              context=option_context("test-election", q.id, s.option_id, TOKEN))
        verify_membership(PK, P.add(PK, *cts), q.allowed_counts, contest.count_proof,
                          domain=DOMAIN_SELECTION_COUNT, fingerprint=FP,
                          context=count_context("test-election", q.id, TOKEN),
                          statement_ciphertexts=cts)
    assert verify_audited_ballot(PK, MANIFEST, ballot, secrets_) == {
        "mayor": ["dana"], "council": ["a", "b"], "budget": ["yes"]}


def test_a_question_left_out_of_the_choices_is_an_empty_choice() -> None:
    """``budget`` (0..1 selections) absent from the choices: encrypted as all zeros."""
    ballot, secrets_ = encrypt_ballot(PK, MANIFEST, FP, TOKEN, {"mayor": ["aigerim"], "council": ["c"]})
    assert secrets_.plaintexts["budget"] == {"yes": 0}
    assert KEY.decrypt(ballot.contest("budget").selections[0].ciphertext) == 0
    verify_ballot(PK, MANIFEST, FP, ballot, TOKEN)


def test_injected_rng_makes_the_ballot_deterministic() -> None:
    one = encrypt_ballot(PK, MANIFEST, FP, TOKEN, CHOICE, rng=_seeded(b"x"))
    two = encrypt_ballot(PK, MANIFEST, FP, TOKEN, CHOICE, rng=_seeded(b"x"))
    assert one == two
    other = encrypt_ballot(PK, MANIFEST, FP, TOKEN, CHOICE, rng=_seeded(b"y"))
    assert other[0].contests[2].count_proof != one[0].contests[2].count_proof
    verify_ballot(PK, MANIFEST, FP, one[0], TOKEN)


# --- checks --------------------------------------------------------------------------------


def test_shape_messages(cast: tuple[EncryptedBallot, BallotSecrets]) -> None:
    ballot = cast[0]
    cases: list[tuple[Manifest, EncryptedBallot, bytes, str]] = [
        (demo_manifest("other"), ballot, TOKEN, "ballot is for another election"),
        (MANIFEST, ballot, bytes(32), "ballot token id does not match the credential"),
        (MANIFEST, dataclasses.replace(ballot, contests=ballot.contests[::-1]), TOKEN,
         "ballot questions do not match the manifest (order matters)"),
        (MANIFEST, dataclasses.replace(ballot, contests=ballot.contests[:2]), TOKEN,
         "ballot questions do not match the manifest (order matters)"),
        (MANIFEST, dataclasses.replace(ballot, contests=(
            ballot.contests[0], dataclasses.replace(ballot.contests[1], selections=ballot.contests[1].selections[:2]),
            ballot.contests[2])), TOKEN, "question council: options do not match the manifest"),
    ]
    for manifest, bad, token, message in cases:
        with pytest.raises(InvalidBallot, match=_exact(message)):
            check_ballot_shape(PK, manifest, bad, token)
        for checker in CHECKERS:
            with pytest.raises(InvalidBallot, match=_exact(message)):
                checker(PK, manifest, FP, bad, token)
    not_unit = _replace_selection(ballot, 1, 2, ciphertext=PK.n)
    for checker in CHECKERS:
        with pytest.raises(InvalidCiphertext,
                           match=_exact("question council, option c: ciphertext is not in Z*_{n^2}")):
            checker(PK, MANIFEST, FP, not_unit, TOKEN)


def test_proof_messages_name_the_part(cast: tuple[EncryptedBallot, BallotSecrets]) -> None:
    ballot = cast[0]
    fs = "challenges do not sum to the Fiat–Shamir challenge"
    for checker in CHECKERS:
        with pytest.raises(InvalidProof, match=_exact(f"question mayor, option aigerim: {fs}")):
            checker(PK, MANIFEST, bytes(32), ballot, TOKEN)
    # a count proof whose commitment changed: only the selection count's challenge fails
    cp = ballot.contests[1].count_proof
    moved_a = _replace_count_proof(ballot, 1, dataclasses.replace(cp, a=(cp.a[0] * 4 % PK.nsquare,) + cp.a[1:]))
    for checker in CHECKERS:
        with pytest.raises(InvalidProof, match=_exact(f"question council, selection count: {fs}")):
            checker(PK, MANIFEST, FP, moved_a, TOKEN)
    eq = "verification equation z^n = ±a·u^e fails"
    sp = ballot.contests[2].selections[0].proof
    bad_opt = _replace_selection(ballot, 2, 0, proof=dataclasses.replace(sp, z=(sp.z[0], sp.z[1] * 2 % PK.n)))
    bad_cnt = _replace_count_proof(ballot, 1, dataclasses.replace(cp, z=(cp.z[0] * 3 % PK.n,) + cp.z[1:]))
    for checker in (verify_ballot, check_ballot):
        with pytest.raises(InvalidProof, match=_exact(f"question budget, option yes: {eq}")):
            checker(PK, MANIFEST, FP, bad_opt, TOKEN)
        with pytest.raises(InvalidProof, match=_exact(f"question council, selection count: {eq}")):
            checker(PK, MANIFEST, FP, bad_cnt, TOKEN)


def test_proof_items_are_the_ballots_equations(cast: tuple[EncryptedBallot, BallotSecrets]) -> None:
    ballot = cast[0]
    expected: list[ProofItem] = []
    for contest, q in zip(ballot.contests, MANIFEST.questions, strict=True):
        expected += [ProofItem(s.ciphertext, (0, 1), s.proof) for s in contest.selections]
        options = tuple(s.ciphertext for s in contest.selections)
        expected.append(ProofItem(P.add(PK, *options), q.allowed_counts, contest.count_proof,
                                  options))
    assert ballot_proof_items(PK, MANIFEST, FP, ballot, TOKEN) == expected
    check_ballot(PK, MANIFEST, FP, ballot, TOKEN)


def test_audit_messages(cast: tuple[EncryptedBallot, BallotSecrets]) -> None:
    ballot, secrets_ = cast
    missing = BallotSecrets({q: {o: m for o, m in v.items() if o != "b"} for q, v in secrets_.plaintexts.items()},
                            secrets_.randomness)
    with pytest.raises(InvalidBallot, match=_exact("audit data lacks council/b")):
        verify_audited_ballot(PK, MANIFEST, ballot, missing)
    no_r = BallotSecrets(secrets_.plaintexts,
                         {q: {o: r for o, r in v.items() if q != "budget"} for q, v in secrets_.randomness.items()})
    with pytest.raises(InvalidBallot, match=_exact("audit data lacks budget/yes")):
        verify_audited_ballot(PK, MANIFEST, ballot, no_r)
    lie = BallotSecrets({q: dict(v) for q, v in secrets_.plaintexts.items()}, secrets_.randomness)
    lie.plaintexts["council"]["c"] = 1  # type: ignore[index]
    with pytest.raises(InvalidBallot, match=_exact(
            "question council, option c: the revealed plaintext and randomness do not "
            "reproduce the ciphertext")):
        verify_audited_ballot(PK, MANIFEST, ballot, lie)
