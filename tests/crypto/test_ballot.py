import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import batch
from crypto import paillier as P
from crypto.ballot import (
    BallotSecrets,
    EncryptedBallot,
    ballot_proof_items,
    encrypt_ballot,
    verify_audited_ballot,
    verify_ballot,
)
from crypto.election import Manifest, election_fingerprint
from crypto.errors import InvalidBallot, InvalidCiphertext, InvalidEncoding, InvalidProof
from tests.keys import paillier_test_key
from tests.manifests import demo_manifest

KEY = paillier_test_key()
PK = KEY.public
MANIFEST = demo_manifest()
FP = election_fingerprint(MANIFEST, PK.to_json(), {"n": "ff", "e": "10001"}, bytes(32))
TOKEN = bytes([7]) * 32
CHOICE = {"mayor": ["bolat"], "council": ["a", "c"], "budget": []}


def choices_strategy():
    def for_question(q):
        return st.sets(st.sampled_from(q.option_ids), min_size=q.min_selections,
                       max_size=q.max_selections).map(sorted)
    return st.fixed_dictionaries({q.id: for_question(q) for q in MANIFEST.questions})


@given(choices_strategy())
@settings(max_examples=8, deadline=None)
def test_ballot_completeness_and_json_round_trip(choices):
    ballot, secrets_ = encrypt_ballot(PK, MANIFEST, FP, TOKEN, choices)
    again = EncryptedBallot.from_json(ballot.to_json())
    assert again == ballot
    verify_ballot(PK, MANIFEST, FP, again, TOKEN)
    assert verify_audited_ballot(PK, MANIFEST, ballot, BallotSecrets.from_json(secrets_.to_json())) == {
        q: sorted(v) for q, v in choices.items()}
    for contest in ballot.contests:
        for s in contest.selections:
            assert KEY.decrypt(s.ciphertext) == (s.option_id in choices[contest.question_id])


def test_invalid_choices_cannot_be_encrypted():
    for bad in ({"mayor": ["bolat", "dana"]}, {"mayor": []}, {"mayor": ["zed"]},
                {"mayor": ["bolat"], "council": ["a"], "nope": ["x"]}):
        with pytest.raises(InvalidBallot):
            encrypt_ballot(PK, MANIFEST, FP, TOKEN, bad)


def test_overvote_with_valid_option_proofs_fails_the_count_proof():
    """Two options each provably 0/1 but both 1 on a 1-of-3 question."""
    two = Manifest.from_json({**MANIFEST.to_json(), "questions": [
        {**MANIFEST.questions[0].to_json(), "max_selections": 2}]})
    ballot, _ = encrypt_ballot(PK, two, FP, TOKEN, {"mayor": ["bolat", "dana"]})
    one = Manifest.from_json({**MANIFEST.to_json(), "questions": [MANIFEST.questions[0].to_json()]})
    with pytest.raises(InvalidProof, match="selection count"):
        verify_ballot(PK, one, FP, ballot, TOKEN)


def test_ballot_bound_to_token_fingerprint_and_election():
    ballot, _ = encrypt_ballot(PK, MANIFEST, FP, TOKEN, CHOICE)
    other_token = bytes([8]) * 32
    with pytest.raises(InvalidBallot):
        verify_ballot(PK, MANIFEST, FP, ballot, other_token)
    # relabel the ballot with another token: the proofs' contexts no longer match
    moved = dataclasses.replace(ballot, token_id=other_token)
    with pytest.raises(InvalidProof):
        verify_ballot(PK, MANIFEST, FP, moved, other_token)
    with pytest.raises(InvalidProof):
        verify_ballot(PK, MANIFEST, bytes(32), ballot, TOKEN)
    with pytest.raises(InvalidBallot):
        verify_ballot(PK, demo_manifest("other-election"), FP, ballot, TOKEN)


def test_swapped_or_missing_selections_fail():
    ballot, _ = encrypt_ballot(PK, MANIFEST, FP, TOKEN, CHOICE)
    contest = ballot.contests[0]
    swapped = dataclasses.replace(contest, selections=contest.selections[::-1])
    with pytest.raises(InvalidBallot):
        verify_ballot(PK, MANIFEST, FP, dataclasses.replace(ballot, contests=(swapped,) + ballot.contests[1:]), TOKEN)
    # swap ciphertexts but keep option ids: proofs are bound to the option id
    s0, s1 = contest.selections[0], contest.selections[1]
    crossed = dataclasses.replace(contest, selections=(
        dataclasses.replace(s0, ciphertext=s1.ciphertext, proof=s1.proof),
        dataclasses.replace(s1, ciphertext=s0.ciphertext, proof=s0.proof)) + contest.selections[2:])
    with pytest.raises(InvalidProof):
        verify_ballot(PK, MANIFEST, FP, dataclasses.replace(ballot, contests=(crossed,) + ballot.contests[1:]), TOKEN)
    with pytest.raises(InvalidBallot):
        verify_ballot(PK, MANIFEST, FP, dataclasses.replace(ballot, contests=ballot.contests[:-1]), TOKEN)


def test_altered_ciphertext_fails():
    ballot, _ = encrypt_ballot(PK, MANIFEST, FP, TOKEN, CHOICE)
    s = ballot.contests[0].selections[1]
    flipped = dataclasses.replace(s, ciphertext=s.ciphertext * (1 + PK.n) % PK.nsquare)
    contest = dataclasses.replace(ballot.contests[0], selections=(ballot.contests[0].selections[0], flipped, ballot.contests[0].selections[2]))
    with pytest.raises(InvalidProof):
        verify_ballot(PK, MANIFEST, FP, dataclasses.replace(ballot, contests=(contest,) + ballot.contests[1:]), TOKEN)
    bad = dataclasses.replace(s, ciphertext=PK.n)
    contest = dataclasses.replace(ballot.contests[0], selections=(ballot.contests[0].selections[0], bad, ballot.contests[0].selections[2]))
    with pytest.raises(InvalidCiphertext):
        verify_ballot(PK, MANIFEST, FP, dataclasses.replace(ballot, contests=(contest,) + ballot.contests[1:]), TOKEN)


def test_malformed_json_rejected():
    ballot, _ = encrypt_ballot(PK, MANIFEST, FP, TOKEN, CHOICE)
    obj = ballot.to_json()
    for mutate in (lambda o: o.pop("contests"), lambda o: o.update(token_id="zz"),
                   lambda o: o.update(token_id="00"), lambda o: o["contests"][0].update(selections="x"),
                   lambda o: o["contests"][0]["selections"][0].update(ciphertext=5),
                   lambda o: o["contests"][0]["count_proof"].update(a=[])):
        bad = EncryptedBallot.to_json(ballot)
        mutate(bad)
        with pytest.raises(InvalidEncoding):
            EncryptedBallot.from_json(bad)
    assert EncryptedBallot.from_json(obj) == ballot


def test_benaloh_audit_detects_a_lying_device():
    ballot, secrets_ = encrypt_ballot(PK, MANIFEST, FP, TOKEN, CHOICE)
    lie = BallotSecrets({q: dict(v) for q, v in secrets_.plaintexts.items()}, secrets_.randomness)
    lie.plaintexts["mayor"]["bolat"], lie.plaintexts["mayor"]["dana"] = 0, 1  # type: ignore[index]
    with pytest.raises(InvalidBallot):
        verify_audited_ballot(PK, MANIFEST, ballot, lie)


def test_batch_verification_accepts_valid_and_names_the_bad_ballot():
    ballots = [encrypt_ballot(PK, MANIFEST, FP, bytes([i]) * 32, CHOICE)[0] for i in range(6)]
    keyed = [(i, ballot_proof_items(PK, MANIFEST, FP, b, b.token_id)) for i, b in enumerate(ballots)]
    assert batch.find_invalid(PK, keyed) == []
    items = list(keyed[4][1])
    items[1] = dataclasses.replace(items[1], proof=dataclasses.replace(
        items[1].proof, z=(items[1].proof.z[0], items[1].proof.z[1] * 2 % PK.n)))
    keyed[4] = (4, items)
    assert batch.find_invalid(PK, keyed) == [4]
    with pytest.raises(InvalidProof):
        batch.combined_check(PK, items)


def test_batch_rejects_a_proof_off_by_a_plaintext_shift():
    """z^n = a·u^e·(1+n): equations that differ by an encryption of 1 must fail the batch."""
    c, r = P.encrypt(PK, 1)
    from crypto.proofs import DOMAIN_OPTION, prove_membership
    proof = prove_membership(PK, c, r, 1, (0, 1), domain=DOMAIN_OPTION, fingerprint=FP, context=())
    shifted = batch.ProofItem(c, (1, 0), dataclasses.replace(proof, a=proof.a[::-1], e=proof.e[::-1], z=proof.z[::-1]))
    batch.combined_check(PK, [shifted])  # same equations, reordered with their values: valid
    wrong = batch.ProofItem(c * (1 + PK.n) % PK.nsquare, (0, 1), proof)
    with pytest.raises(InvalidProof):
        batch.combined_check(PK, [wrong])


def test_multi_exp_matches_separate_powers():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @given(st.lists(st.tuples(st.integers(0, PK.nsquare - 1), st.integers(0, 1 << 400)),
                    min_size=0, max_size=40))
    @settings(max_examples=30, deadline=None)
    def check(pairs):
        expected = 1
        for b, e in pairs:
            expected = expected * pow(b, e, PK.nsquare) % PK.nsquare
        assert batch.multi_exp(pairs, PK.nsquare) == expected % PK.nsquare

    check()


def test_check_ballot_batched_accepts_valid_and_names_the_bad_part():
    from crypto.ballot import check_ballot

    ballot, _ = encrypt_ballot(PK, MANIFEST, FP, TOKEN, CHOICE)
    check_ballot(PK, MANIFEST, FP, ballot, TOKEN)
    contest = ballot.contests[1]
    s = contest.selections[2]
    bad_sel = dataclasses.replace(s, proof=dataclasses.replace(s.proof, z=(s.proof.z[0], s.proof.z[1] * 3 % PK.n)))
    bad = dataclasses.replace(ballot, contests=(ballot.contests[0], dataclasses.replace(
        contest, selections=contest.selections[:2] + (bad_sel,)), ballot.contests[2]))
    with pytest.raises(InvalidProof, match="question council, option c"):
        check_ballot(PK, MANIFEST, FP, bad, TOKEN)
