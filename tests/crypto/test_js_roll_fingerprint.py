"""eq. F1 with the roll commitment (§2.7) in the browser client equals crypto/election.py.

The booth recomputes the fingerprint before encrypting; in enrolled and PKI mode the
published fingerprint binds ``("roll", canonical_json({mode, size, root}))``, so the JS
must append it too (and a different roll must give a different fingerprint).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from crypto.election import Manifest, election_fingerprint
from tests import js_vectors
from tests.manifests import demo_manifest

ROOT = Path(__file__).resolve().parents[2]
NODE = shutil.which("node")


def test_js_fingerprint_binds_the_roll_commitment() -> None:
    election_key = js_vectors.load_threshold_public_json()
    issuer_key = js_vectors.load_issuer_public_json()
    board_key = bytes(range(32))
    manifest = demo_manifest().to_json()
    rolls = [None, {"mode": "pki", "size": 2, "root": "ab" * 32},
             {"mode": "pki", "size": 3, "root": "ab" * 32},
             {"mode": "enrolled", "size": 2, "root": "ab" * 32}]
    cases = [{"manifest": manifest, "election_key": election_key, "issuer_key": issuer_key,
              "board_key": board_key.hex(), **({"roll": r} if r else {})} for r in rolls]
    assert NODE is not None, "node >= 20 is required (the browser client's JS)"
    proc = subprocess.run([NODE, str(ROOT / "tests" / "js" / "manifest-runner.mjs")],
                          input=json.dumps(cases), capture_output=True, text=True, timeout=60,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)
    m = Manifest.from_json(manifest)
    expected = [election_fingerprint(m, election_key, issuer_key, board_key, r).hex()
                for r in rolls]
    assert [r["fingerprint"] for r in results] == expected
    assert len(set(expected)) == len(rolls)  # the roll (mode, size) changes the fingerprint
