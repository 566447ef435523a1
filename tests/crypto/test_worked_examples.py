"""The worked examples printed in docs/protocol.md §10 are recomputed here."""

import json
import pathlib

from crypto.ballot import EncryptedBallot, verify_ballot
from crypto.election import Manifest
from crypto.encoding import hex_to_int
from crypto.proofs import DOMAIN_OPTION, MembershipProof, verify_membership
from tests.keys import paillier_test_key
from tests.vectors.make_worked_examples import build

VECTORS = json.loads((pathlib.Path(__file__).resolve().parents[1] / "vectors" / "saylau-worked-examples.json").read_text())


def test_worked_examples_are_reproduced_exactly():
    assert build() == VECTORS


def test_worked_example_proof_and_ballot_verify():
    pk = paillier_test_key().public
    fp = bytes.fromhex(VECTORS["fingerprint_example"]["fingerprint"])
    ex = VECTORS["option_proof_example"]
    c = hex_to_int(VECTORS["encryption_example"]["c"])
    verify_membership(pk, c, (0, 1), MembershipProof.from_json(ex["proof"]), domain=DOMAIN_OPTION,
                      fingerprint=fp, context=tuple(tuple(p) for p in ex["context"]))
    ballot = EncryptedBallot.from_json(VECTORS["ballot_example"]["ballot"])
    manifest = Manifest.from_json(VECTORS["fingerprint_example"]["manifest"])
    verify_ballot(pk, manifest, fp, ballot, ballot.token_id)
