"""The load tests' fast ballot builder (bench/fast_ballots.py) makes ballots that the ballot
box and the verifier accept, that decrypt and open to what was chosen, and that never
repeat a ciphertext; a tampered one is refused like any other."""

from __future__ import annotations

import secrets
from dataclasses import replace

import gmpy2
import pytest

from bench.fast_ballots import NthPowerWalk, encrypt_ballot_fast
from crypto.ballot import EncryptedBallot, check_ballot, verify_audited_ballot, verify_ballot
from crypto.errors import InvalidProof
from crypto.paillier import encrypt
from tests.keys import paillier_test_key
from tests.manifests import demo_manifest

FINGERPRINT = bytes(range(32))
CHOICES = (
    {"mayor": ["bolat"], "council": ["a", "c"], "budget": []},
    {"mayor": ["aigerim"], "council": ["b"], "budget": ["yes"]},
    {"mayor": ["dana"], "council": ["a", "b"], "budget": ["yes"]},
)


@pytest.fixture(scope="module")
def walk() -> NthPowerWalk:
    return NthPowerWalk(paillier_test_key().public, pool=8)


@pytest.mark.parametrize("choices", CHOICES)
def test_fast_ballots_pass_the_ballot_box_and_the_verifier(walk, choices):
    sk = paillier_test_key()
    m = demo_manifest()
    token = secrets.token_bytes(32)
    ballot, opened = encrypt_ballot_fast(walk, sk.public, m, FINGERPRINT, token, choices)
    ballot = EncryptedBallot.from_json(ballot.to_json())
    check_ballot(sk.public, m, FINGERPRINT, ballot, token)
    verify_ballot(sk.public, m, FINGERPRINT, ballot, token)
    verify_audited_ballot(sk.public, m, ballot, opened)
    for contest in ballot.contests:
        chosen = set(choices[contest.question_id])
        for s in contest.selections:
            m_i = int(s.option_id in chosen)
            assert sk.decrypt(s.ciphertext) == m_i
            assert encrypt(sk.public, m_i, opened.randomness[contest.question_id][s.option_id])[0] \
                == s.ciphertext


def test_a_tampered_fast_ballot_is_refused(walk):
    sk = paillier_test_key()
    m = demo_manifest()
    token = secrets.token_bytes(32)
    ballot, _ = encrypt_ballot_fast(walk, sk.public, m, FINGERPRINT, token, CHOICES[0])
    contest = ballot.contests[0]
    s = contest.selections[1]
    z = (s.proof.z[0] * 2 % sk.public.n,) + s.proof.z[1:]
    bad = replace(s, proof=replace(s.proof, z=z))
    selections = (contest.selections[0], bad) + contest.selections[2:]
    tampered = replace(ballot, contests=(replace(contest, selections=selections),)
                       + ballot.contests[1:])
    with pytest.raises(InvalidProof, match="option bolat"):
        check_ballot(sk.public, m, FINGERPRINT, tampered, token)


def test_the_walk_never_repeats_and_keeps_its_pairs(walk):
    pk = paillier_test_key().public
    seen = set()
    for _ in range(300):
        x, x_n = walk.draw()
        assert gmpy2.powmod(x, pk.n, pk.nsquare) == x_n
        seen.add(int(x))
    assert len(seen) == 300


def test_fast_petition_signatures_pass_the_petition_board_checks(walk):
    """Signatures for the first, a middle and the last of 20 regions: the board's check and
    the one-by-one verification accept them, and the packed sum decrypts to the regions."""
    from bench.fast_ballots import encrypt_signature_fast
    from crypto.election import Option
    from crypto.paillier import add
    from crypto.petition import (
        EncryptedSignature,
        PetitionParameters,
        check_signature,
        verify_signature,
    )

    sk = paillier_test_key()
    params = PetitionParameters("petition:7", "Plant trees",
                                tuple(Option(f"r{i:02d}", f"Region {i}") for i in range(20)))
    chosen = ("r00", "r07", "r19", "r07")
    sigs = []
    for region in chosen:
        token = secrets.token_bytes(32)
        sig, r = encrypt_signature_fast(walk, sk.public, params, FINGERPRINT, token, region)
        sig = EncryptedSignature.from_json(sig.to_json())
        check_signature(sk.public, params, FINGERPRINT, sig, token)
        verify_signature(sk.public, params, FINGERPRINT, sig, token)
        assert encrypt(sk.public, params.encode(region), r)[0] == sig.ciphertext
        sigs.append(sig)
    counts = params.unpack(sk.decrypt(add(sk.public, *(s.ciphertext for s in sigs))))
    assert counts == {rid: chosen.count(rid) for rid in params.region_ids}
    bad = replace(sigs[0], proof=replace(sigs[0].proof, e=(sigs[0].proof.e[0] ^ 1,)
                                         + sigs[0].proof.e[1:]))
    with pytest.raises(InvalidProof):
        check_signature(sk.public, params, FINGERPRINT, bad, sigs[0].token_id)
