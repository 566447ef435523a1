"""Deterministic cross-check vectors for the browser client (app/static/js/saylau-crypto.js).

Everything here is computed by the *Python reference implementation* (crypto/…) with its
randomness injected from the test DRBG (tests/drbg.py, seeds stored in the vectors), so
the JS code, drawing from the same DRBG (tests/js/drbg.mjs), must produce byte-identical
output.

Regenerate the static copy used by ``node --test tests/js/``::

    .venv/bin/python -m tests.js_vectors          # writes tests/fixtures/js-vectors.json
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crypto import credentials
from crypto.ballot import encrypt_ballot
from crypto.election import Manifest, election_fingerprint
from crypto.encoding import canonical_json, int_to_hex
from crypto.paillier import PublicKey, encrypt
from crypto.proofs import (
    DOMAIN_OPTION,
    DOMAIN_SELECTION_COUNT,
    membership_challenge,
    prove_membership,
)
from crypto.transcript import Transcript
from tests.drbg import DRBG

FIXTURES = Path(__file__).parent / "fixtures"
OUT = FIXTURES / "js-vectors.json"


def load_paillier_public() -> PublicKey:
    doc = json.loads((FIXTURES / "paillier-test-key-1024.json").read_text())
    return PublicKey(int(doc["private"]["n"], 16))


def load_threshold_public_json() -> dict[str, Any]:
    doc = json.loads((FIXTURES / "threshold-test-key-1024-3of5.json").read_text())
    return dict(doc["public_key"])


def load_issuer_public_json() -> dict[str, Any]:
    doc = json.loads((FIXTURES / "issuer-test-key-2048.json").read_text())
    return dict(doc["public_key"])


def sample_manifest() -> dict[str, Any]:
    return {
        "election_id": "demo-2025",
        "title": "Сайлау — demo \u00e9lection \"quoted\" \\ \U0001f5f3",
        "questions": [
            {"id": "q1", "title": "Mayor", "min_selections": 1, "max_selections": 1,
             "options": [{"id": f"o{i}", "label": f"Candidate {i}"} for i in range(1, 6)]},
            {"id": "q2", "title": "Council (up to 2)", "min_selections": 0, "max_selections": 2,
             "options": [{"id": "a", "label": "A"}, {"id": "b", "label": "B"},
                         {"id": "c", "label": "C"}]},
        ],
    }


CANONICAL_CASES: list[Any] = [
    {"b": 1, "a": [True, False, None], "c": {"z": "", "y": -5}},
    {"\U0001f600": 1, "\uffff": 2, "a": 3, "A": 4, "é": 5},
    "control \u0000\u0001\u001f\u007f \n\r\t\b\f \" \\ / \u2028 ü 日本",
    [0, 1, -1, 9007199254740991, [], {}],
]


def build_vectors(seed: int) -> dict[str, Any]:
    """All cross-check vectors, deterministic in ``seed``."""
    rnd = random.Random(seed)
    pk = load_paillier_public()
    n, nn = pk.n, pk.nsquare
    out: dict[str, Any] = {"seed": seed, "paillier_n": int_to_hex(n)}

    out["canonical_json"] = [{"value": v, "hex": canonical_json(v).hex()} for v in CANONICAL_CASES]

    # Transcript: a sequence of every field kind.
    vals = [rnd.randrange(nn) for _ in range(3)]
    t = Transcript("saylau/v1/test")
    t.bytes("raw", bytes(range(7))).text("text", "Қазақ ✓").integer("int", 258, 4)
    t.integer_mod("mod", vals[0], nn).integers_mod("list", vals, nn).integers_mod("empty", [], n)
    out["transcript"] = {"domain": "saylau/v1/test", "raw": bytes(range(7)).hex(),
                         "text": "Қазақ ✓", "values": [int_to_hex(v) for v in vals],
                         "digest": t.digest().hex(), "challenge": int_to_hex(t.challenge())}

    # Paillier encryption for given (m, r).
    encs = []
    for m in (0, 1, 7, n - 1):
        r = rnd.randrange(1, n)
        c, _ = encrypt(pk, m, r)
        encs.append({"m": int_to_hex(m), "r": int_to_hex(r), "c": int_to_hex(c)})
    out["paillier"] = encs

    fingerprint = bytes(rnd.getrandbits(8) for _ in range(32))
    context = (("election_id", "demo-2025"), ("question_id", "q1"), ("token_id", "ab" * 32))
    statement = [rnd.randrange(1, nn) for _ in range(3)]
    commitments = [rnd.randrange(1, nn) for _ in range(3)]
    allowed = (0, 1, 2)
    out["challenge"] = {
        "domain": DOMAIN_SELECTION_COUNT, "fingerprint": fingerprint.hex(),
        "context": [list(p) for p in context],
        "statement": [int_to_hex(x) for x in statement], "c": int_to_hex(statement[0]),
        "allowed": [int_to_hex(x) for x in allowed],
        "commitments": [int_to_hex(x) for x in commitments],
        "e": int_to_hex(membership_challenge(pk, DOMAIN_SELECTION_COUNT, fingerprint, context,
                                             statement, statement[0], allowed, commitments)),
    }

    # Membership proofs with DRBG randomness (3-element set, true index in the middle).
    proofs = []
    for m, allowed_set in ((1, (0, 1, 2)), (0, (0, 1)), (2, (2,))):
        drbg_seed = rnd.randbytes(16)
        c, r = encrypt(pk, m, rng=rnd.randrange)
        proof = prove_membership(pk, c, r, m, allowed_set, domain=DOMAIN_OPTION,
                                 fingerprint=fingerprint, context=context, rng=DRBG(drbg_seed))
        proofs.append({
            "m": m, "allowed": list(allowed_set), "c": int_to_hex(c), "r": int_to_hex(r),
            "drbg_seed": drbg_seed.hex(),
            "domain": DOMAIN_OPTION, "fingerprint": fingerprint.hex(),
            "context": [list(p) for p in context], "proof": proof.to_json(),
        })
    out["proofs"] = proofs

    # Election fingerprint.
    manifest_json = sample_manifest()
    manifest = Manifest.from_json(manifest_json)
    board_key = bytes(rnd.getrandbits(8) for _ in range(32))
    election_key = load_threshold_public_json()
    issuer_key = load_issuer_public_json()
    fp = election_fingerprint(manifest, election_key, issuer_key, board_key)
    out["election"] = {"manifest": manifest_json, "election_key": election_key,
                       "issuer_key": issuer_key, "board_key": board_key.hex(),
                       "fingerprint": fp.hex()}

    # Credential message / token id, Ed25519 signature.
    seed_bytes = bytes(rnd.getrandbits(8) for _ in range(32))
    sk = Ed25519PrivateKey.from_private_bytes(seed_bytes)
    bpk = sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    randomizer = bytes(rnd.getrandbits(8) for _ in range(32))
    msg = credentials.credential_message("demo-2025", bpk)
    out["credential"] = {
        "scope_id": "demo-2025", "seed": seed_bytes.hex(), "ballot_public_key": bpk.hex(),
        "randomizer": randomizer.hex(), "message": msg.hex(),
        "token_id": credentials.Credential("demo-2025", bpk, randomizer, b"\x01").token_id.hex(),
        "payload": canonical_json(manifest_json).hex(),
        "signature": credentials.sign_payload(sk, canonical_json(manifest_json)).hex(),
    }

    # A whole ballot with DRBG randomness (the real encrypt_ballot).
    token_id = bytes(rnd.getrandbits(8) for _ in range(32))
    choices = {"q1": ["o3"], "q2": ["a", "c"]}
    drbg_seed = rnd.randbytes(16)
    ballot, secrets_ = encrypt_ballot(pk, manifest, fp, token_id, choices, rng=DRBG(drbg_seed))
    out["ballot"] = {
        "token_id": token_id.hex(), "choices": choices, "drbg_seed": drbg_seed.hex(),
        "ballot": ballot.to_json(), "secrets": secrets_.to_json(),
        "ballot_canonical_sha256": hashlib.sha256(canonical_json(ballot.to_json())).hexdigest(),
    }
    return out


def main() -> None:
    OUT.write_text(json.dumps(build_vectors(20251125), indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
