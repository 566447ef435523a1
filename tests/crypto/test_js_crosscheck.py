"""Cross-checks the browser client (app/static/js/saylau-crypto.js) against crypto/.

* Python computes deterministic vectors (tests/js_vectors.py: canonical JSON, transcript,
  Paillier, challenge, DRBG-driven proofs and a whole ballot, fingerprint, credential
  message / token id, Ed25519); a node script recomputes them; they must be identical.
* JS encrypts and proves a whole ballot with its precomputation pool (real randomness);
  Python's verify_ballot accepts it, and rejects it once tampered.
* A JS client obtains a credential from the Python issuer (RFC 9474) and Python verifies it.

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
from crypto.ballot import BallotSecrets, EncryptedBallot, verify_audited_ballot, verify_ballot
from crypto.blind_rsa import IssuerPrivateKey
from crypto.election import Manifest, election_fingerprint
from crypto.encoding import canonical_json, int_to_hex
from crypto.errors import InvalidBallot, InvalidProof, InvalidSignature
from crypto.paillier import PublicKey
from tests import js_vectors

ROOT = Path(__file__).resolve().parents[2]
JS = ROOT / "tests" / "js"
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


def _node(script: str, *args: str, stdin: Any = None) -> Any:
    assert NODE is not None
    proc = subprocess.run(
        [NODE, str(JS / script), *args],
        input=None if stdin is None else json.dumps(stdin),
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _election() -> tuple[dict[str, Any], PublicKey, Manifest, bytes]:
    manifest_json = js_vectors.sample_manifest()
    election_key = js_vectors.load_threshold_public_json()
    issuer_key = js_vectors.load_issuer_public_json()
    board_key = bytes(range(32))
    manifest = Manifest.from_json(manifest_json)
    fp = election_fingerprint(manifest, election_key, issuer_key, board_key)
    record = {"manifest": manifest_json, "election_key": election_key, "issuer_key": issuer_key,
              "board_key": board_key.hex(), "fingerprint": fp.hex()}
    return record, PublicKey(int(election_key["public"]["n"], 16)), manifest, fp


def test_static_vectors_are_current() -> None:
    """tests/fixtures/js-vectors.json is what the Python code computes today."""
    stored = json.loads((ROOT / "tests" / "fixtures" / "js-vectors.json").read_text())
    assert js_vectors.build_vectors(stored["seed"]) == stored, (
        "regenerate with: .venv/bin/python -m tests.js_vectors")


def test_fresh_vectors_js_equals_python(tmp_path: Path) -> None:
    vectors = js_vectors.build_vectors(secrets.randbits(32))
    path = tmp_path / "vectors.json"
    path.write_text(json.dumps(vectors, ensure_ascii=False))
    js = _node("vector-check.mjs", str(path))
    assert js["canonical_json"] == vectors["canonical_json"]
    assert js["transcript"]["digest"] == vectors["transcript"]["digest"]
    assert js["transcript"]["challenge"] == vectors["transcript"]["challenge"]
    assert js["paillier"] == vectors["paillier"]
    assert js["challenge_e"] == vectors["challenge"]["e"]
    assert js["proofs"] == [p["proof"] for p in vectors["proofs"]]
    assert js["fingerprint"] == vectors["election"]["fingerprint"]
    for key in ("ballot_public_key", "message", "token_id", "signature"):
        assert js["credential"][key] == vectors["credential"][key], key
    assert js["ballot"]["ballot"] == vectors["ballot"]["ballot"]
    assert js["ballot"]["secrets"] == vectors["ballot"]["secrets"]
    assert js["ballot"]["ballot_canonical_sha256"] == vectors["ballot"]["ballot_canonical_sha256"]


def test_js_ballot_verifies_in_python() -> None:
    record, pk, manifest, fp = _election()
    token_id = secrets.token_bytes(32)
    choices = {"q1": ["o4"], "q2": ["b", "c"]}
    out = _node("crosscheck-runner.mjs", "ballot",
                stdin={"election": record, "choices": choices, "token_id": token_id.hex()})
    ballot = EncryptedBallot.from_json(out["ballot"])
    assert canonical_json(ballot.to_json()).hex() == out["canonical"]
    verify_ballot(pk, manifest, fp, ballot, token_id)
    audited = verify_audited_ballot(pk, manifest, ballot, BallotSecrets.from_json(out["secrets"]))
    assert audited == {"q1": ["o4"], "q2": ["b", "c"]}
    # The Ed25519 ballot-key signature over the canonical ballot JSON verifies in Python.
    bpk = bytes.fromhex(out["ballot_public_key"])
    signature = bytes.fromhex(out["signature"])
    credentials.verify_payload_signature(bpk, canonical_json(out["ballot"]), signature)
    with pytest.raises(InvalidSignature):
        credentials.verify_payload_signature(bpk, canonical_json(out["ballot"]) + b" ", signature)
    # Tampering: another token id, a swapped ciphertext, a changed response.
    with pytest.raises(InvalidBallot):
        verify_ballot(pk, manifest, fp, ballot, secrets.token_bytes(32))
    bad = json.loads(json.dumps(out["ballot"]))
    sels = bad["contests"][0]["selections"]
    sels[0]["ciphertext"], sels[3]["ciphertext"] = sels[3]["ciphertext"], sels[0]["ciphertext"]
    with pytest.raises(InvalidProof):
        verify_ballot(pk, manifest, fp, EncryptedBallot.from_json(bad), token_id)
    bad = json.loads(json.dumps(out["ballot"]))
    z = bad["contests"][1]["count_proof"]["z"]
    z[0] = int_to_hex(int(z[0], 16) * 2 % pk.n)
    with pytest.raises(InvalidProof):
        verify_ballot(pk, manifest, fp, EncryptedBallot.from_json(bad), token_id)
    with pytest.raises(InvalidProof):
        verify_ballot(pk, manifest, bytes(32), ballot, token_id)


def test_js_credential_from_python_issuer(issuer_test_key: IssuerPrivateKey) -> None:
    issuer_pk = issuer_test_key.public_key()
    begin = _node("crosscheck-runner.mjs", "cred-begin",
                  stdin={"issuer_key": issuer_pk.to_json(), "scope_id": "demo-2025"})
    blind_sig = credentials.issue_blind_signature(issuer_test_key, bytes.fromhex(begin["blinded"]))
    cred_json = _node("crosscheck-runner.mjs", "cred-finish",
                      stdin={"issuer_key": issuer_pk.to_json(), "state": begin["state"],
                             "blind_signature": blind_sig.hex()})
    token_id = cred_json.pop("token_id")
    cred = credentials.Credential.from_json(cred_json)
    credentials.verify_credential(issuer_pk, cred, "demo-2025")
    assert cred.token_id.hex() == token_id
    assert cred.ballot_public_key.hex() == begin["state"]["ballot_public_key"]
    with pytest.raises(InvalidSignature):
        credentials.verify_credential(issuer_pk, cred, "other-election")
    # A wrong blind signature is refused by the JS Finalize (RSA-PSS verification).
    wrong = bytearray(blind_sig)
    wrong[-1] ^= 1
    assert NODE is not None
    proc = subprocess.run(
        [NODE, str(JS / "crosscheck-runner.mjs"), "cred-finish"],
        input=json.dumps({"issuer_key": issuer_pk.to_json(), "state": begin["state"],
                          "blind_signature": bytes(wrong).hex()}),
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )
    assert proc.returncode != 0 and "InvalidSignature" in proc.stderr


def test_js_signed_request_verifies_in_python() -> None:
    """§2.7 eq. R1: a request signed by the browser module verifies with crypto/roll.py."""
    from crypto.roll import RollEntry, SignedRequest, verify_request

    out = subprocess.run(
        [NODE or "node", "--test", str(JS / "credential-request.test.mjs")],
        capture_output=True, text=True, check=True, env={"SAYLAU_PRINT_SIGNED": "1",
                                                          "PATH": "/usr/bin:/bin"})
    line = next(ln.strip().lstrip("# ").strip() for ln in out.stdout.splitlines()
                if '"signature"' in ln)
    doc = json.loads(line)
    entry = RollEntry(3, "ed25519", bytes.fromhex(doc.pop("public_key")))
    signed = SignedRequest.from_json(doc)
    verify_request(entry, signed)
    tampered = SignedRequest.from_json({**doc, "request": {**doc["request"], "roll_index": 4}})
    with pytest.raises(InvalidSignature):
        verify_request(RollEntry(4, "ed25519", entry.public_key), tampered)


def test_js_roll_key_card_verifies_in_python() -> None:
    """§2.7: a roll key card made by the browser module (crypto/roll-key.js) loads in
    Python (saylau vote --roll-key reads the same file), its key signs exactly what the JS
    signed, that request verifies with crypto/roll.py, and the JS roll root is the Python one."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from crypto.roll import (
        CredentialRequest,
        RollEntry,
        SignedRequest,
        roll_root,
        sign_request,
        verify_request,
    )

    out = subprocess.run(
        [NODE or "node", "--test", str(JS / "roll-key.test.mjs")],
        capture_output=True, text=True, check=True, env={"SAYLAU_PRINT_CARD": "1",
                                                          "PATH": "/usr/bin:/bin"})
    line = next(ln.strip().lstrip("# ").strip() for ln in out.stdout.splitlines()
                if '"private_key_pkcs8"' in ln)
    doc = json.loads(line)
    card = doc["card"]
    assert card["format"] == "saylau-roll-key/1" and card["roll_index"] == 3
    key = serialization.load_der_private_key(bytes.fromhex(card["private_key_pkcs8"]), None)
    assert isinstance(key, Ed25519PrivateKey)
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert public.hex() == card["public_key"]
    signed = SignedRequest.from_json(doc["signed"])
    verify_request(RollEntry(3, "ed25519", public), signed)
    assert sign_request(key, CredentialRequest.from_json(doc["signed"]["request"])).signature \
        == signed.signature  # Ed25519 is deterministic: the same key, the same bytes signed
    with pytest.raises(InvalidSignature):
        verify_request(RollEntry(3, "ed25519", bytes(32 * [1])), signed)
    entries = [RollEntry.from_json(e) for e in doc["entries"]]
    assert roll_root(entries).hex() == doc["root"]
    assert roll_root(entries[:4]).hex() != doc["root"]
