"""Generates tests/vectors/saylau-worked-examples.json — deterministic worked examples
for docs/protocol.md §10, recomputed by tests/crypto/test_worked_examples.py.

Randomness comes from tests.drbg.DRBG (SHA-256 counter mode with rejection sampling),
the key from tests/fixtures/paillier-test-key-1024.json (TEST KEY ONLY).
Run: .venv/bin/python tests/vectors/make_worked_examples.py
"""

from __future__ import annotations

import json
import pathlib

from crypto import paillier
from crypto.ballot import encrypt_ballot
from crypto.election import Manifest, election_fingerprint
from crypto.encoding import int_to_hex
from crypto.proofs import DOMAIN_OPTION, membership_challenge, prove_membership
from crypto.transcript import Transcript
from tests.drbg import DRBG
from tests.keys import paillier_test_key

SEED = b"saylau worked example v1"
MANIFEST = {
    "election_id": "worked-example",
    "title": "Worked example",
    "questions": [{"id": "q1", "title": "Pick one", "min_selections": 1, "max_selections": 1,
                   "options": [{"id": "a", "label": "A"}, {"id": "b", "label": "B"}]}],
}
ISSUER_KEY = {"n": "c5", "e": "10001"}
BOARD_KEY = bytes(range(32))
TOKEN_ID = bytes([0xAB]) * 32


def build() -> dict:
    key = paillier_test_key()
    pk = key.public
    manifest = Manifest.from_json(MANIFEST)
    fingerprint = election_fingerprint(manifest, pk.to_json(), ISSUER_KEY, BOARD_KEY)
    transcript = Transcript("saylau/v1/example").bytes("b", b"\x01\x02").integer("i", 5, 2).text("t", "kz")

    rng = DRBG(SEED)
    c, r = paillier.encrypt(pk, 1, rng=rng)
    context = (("election_id", "worked-example"), ("question_id", "q1"), ("option_id", "a"),
               ("token_id", TOKEN_ID.hex()))
    proof = prove_membership(pk, c, r, 1, (0, 1), domain=DOMAIN_OPTION, fingerprint=fingerprint,
                             context=context, rng=rng)
    challenge = membership_challenge(pk, DOMAIN_OPTION, fingerprint, context, (c,), c, (0, 1), proof.a)
    ballot, _ = encrypt_ballot(pk, manifest, fingerprint, TOKEN_ID, {"q1": ["b"]}, rng=DRBG(SEED + b"/ballot"))
    return {
        "note": "Deterministic worked examples for docs/protocol.md §10; TEST KEY ONLY. "
                "Randomness: DRBG(seed) = SHA-256(seed || u64be(counter)) blocks, rejection sampling.",
        "key": {"n": int_to_hex(pk.n)},
        "drbg_seed": SEED.decode(),
        "transcript_example": {"domain": "saylau/v1/example",
                               "fields": [["bytes", "b", "0102"], ["int", "i", 5, 2], ["text", "t", "kz"]],
                               "digest": transcript.digest().hex()},
        "fingerprint_example": {"manifest": MANIFEST, "election_key": pk.to_json(),
                                "issuer_key": ISSUER_KEY, "board_key": BOARD_KEY.hex(),
                                "fingerprint": fingerprint.hex()},
        "encryption_example": {"m": 1, "r": int_to_hex(r), "c": int_to_hex(c)},
        "option_proof_example": {"context": [list(p) for p in context], "allowed": [0, 1],
                                 "challenge": int_to_hex(challenge), "proof": proof.to_json()},
        "ballot_example": {"choices": {"q1": ["b"]}, "drbg_seed": (SEED + b"/ballot").decode(),
                           "token_id": TOKEN_ID.hex(), "ballot": ballot.to_json()},
    }


if __name__ == "__main__":
    out = pathlib.Path(__file__).with_name("saylau-worked-examples.json")
    out.write_text(json.dumps(build(), indent=1) + "\n")
    print("wrote", out)
