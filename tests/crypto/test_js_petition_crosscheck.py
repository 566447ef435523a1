"""Cross-checks the browser client's petition signing (saylau-crypto.js) against crypto/petition.py.

* Same randomness (the DRBG of tests/drbg.py and tests/js/drbg.mjs): the JS signature JSON
  and fingerprint are byte-identical to Python's ``encrypt_signature`` / ``petition_fingerprint``.
* Real randomness with the precomputation pool: ``verify_signature`` accepts the JS
  signature (and the Ed25519 signature over its canonical JSON) and rejects it once tampered.

Skipped, with the reason, when ``node`` (>= 20) is not installed.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from crypto import credentials
from crypto.election import Option
from crypto.encoding import canonical_json, int_to_hex
from crypto.errors import InvalidBallot, InvalidProof, InvalidSignature
from crypto.paillier import PublicKey
from crypto.petition import (
    EncryptedSignature,
    PetitionParameters,
    encrypt_signature,
    petition_fingerprint,
    verify_signature,
)
from tests import js_vectors
from tests.drbg import DRBG

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "tests" / "js" / "petition-runner.mjs"
NODE = shutil.which("node")


def _node_major() -> int:
    if NODE is None:
        return 0
    out = subprocess.run([NODE, "--version"], capture_output=True, text=True, check=True)
    return int(out.stdout.strip().lstrip("v").split(".")[0])


pytestmark = pytest.mark.skipif(
    NODE is None or _node_major() < 20,
    reason="node >= 20 is not installed (needed to run the browser client's JS in tests)",
)

PARAMS = PetitionParameters("petition:42", "Plant a million trees — Қазақстан", (
    Option("abai", "Abai"), Option("almaty", "Алматы"), Option("astana", "Astana"),
    Option("shymkent", "Shymkent"), Option("turkistan", "Turkistan")))


def _setup() -> tuple[dict[str, Any], PublicKey, bytes, bytes]:
    election_key = js_vectors.load_threshold_public_json()
    issuer_key = js_vectors.load_issuer_public_json()
    board_key = bytes(range(32))
    fp = petition_fingerprint(PARAMS, election_key, issuer_key, board_key)
    request = {"params": PARAMS.to_json(), "election_key": election_key, "issuer_key": issuer_key,
               "board_key": board_key.hex()}
    return request, PublicKey(int(election_key["public"]["n"], 16)), fp, board_key


def _node(request: dict[str, Any]) -> dict[str, Any]:
    assert NODE is not None
    proc = subprocess.run([NODE, str(RUNNER)], input=json.dumps(request, ensure_ascii=False),
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    out: dict[str, Any] = json.loads(proc.stdout)
    return out


@pytest.mark.parametrize("region", ["abai", "astana", "turkistan"])
def test_same_randomness_same_bytes(region: str) -> None:
    request, pk, fp, _ = _setup()
    seed = secrets.token_bytes(16)
    token_id = secrets.token_bytes(32)
    out = _node({**request, "token_id": token_id.hex(), "region": region, "seed": seed.hex()})
    assert out["fingerprint"] == fp.hex()
    sig, _r = encrypt_signature(pk, PARAMS, fp, token_id, region, rng=DRBG(seed))
    assert out["signature"] == sig.to_json()
    assert bytes.fromhex(out["canonical"]) == canonical_json(sig.to_json())


def test_js_signature_verifies_in_python() -> None:
    request, pk, fp, _ = _setup()
    token_id = secrets.token_bytes(32)
    out = _node({**request, "token_id": token_id.hex(), "region": "shymkent"})
    sig = EncryptedSignature.from_json(out["signature"])
    assert sig.to_json() == out["signature"]
    verify_signature(pk, PARAMS, fp, sig, token_id)
    # The Ed25519 signature the client posts is over canonical_json(signature).
    bpk = bytes.fromhex(out["ballot_public_key"])
    ed = bytes.fromhex(out["ed25519_signature"])
    credentials.verify_payload_signature(bpk, canonical_json(out["signature"]), ed)
    with pytest.raises(InvalidSignature):
        credentials.verify_payload_signature(bpk, canonical_json(out["signature"]) + b" ", ed)
    # Tampering.
    with pytest.raises(InvalidBallot):
        verify_signature(pk, PARAMS, fp, sig, secrets.token_bytes(32))
    with pytest.raises(InvalidProof):
        verify_signature(pk, PARAMS, bytes(32), sig, token_id)
    other = PetitionParameters(PARAMS.petition_id, PARAMS.title, PARAMS.regions[:4])
    with pytest.raises(InvalidProof):
        verify_signature(pk, other, fp, sig, token_id)
    bad = json.loads(json.dumps(out["signature"]))
    bad["region"]["proof"]["e"][0] = int_to_hex((int(bad["region"]["proof"]["e"][0], 16) + 1) % 2**256)
    with pytest.raises(InvalidProof):
        verify_signature(pk, PARAMS, fp, EncryptedSignature.from_json(bad), token_id)
    shifted = json.loads(json.dumps(out["signature"]))
    c = int(shifted["region"]["ciphertext"], 16)
    shifted["region"]["ciphertext"] = int_to_hex(c * (1 + (1 << 32) * pk.n) % pk.nsquare)
    with pytest.raises(InvalidProof):
        verify_signature(pk, PARAMS, fp, EncryptedSignature.from_json(shifted), token_id)
