"""Issue 10 attack 3: the ±1 ballot — every verifier agrees on one definition of Z5.

A voter replaces responses ``z`` by ``n − z``.  Before, the batched check (odd
multipliers: the −1 factors cancel in pairs) accepted a ballot that the one-by-one check
and tools/second-verifier rejected.  Now eq. Z5 is ``z^n ≡ ±a·u^e`` everywhere (sound:
``−1 = (n−1)^n`` is an n-th residue for odd ``n``), so the batch check, the one-by-one
check, ``saylau verify`` and the second verifier all accept it — and all reject a
response that is wrong in any other way.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from audit.record import read_record
from audit.verifier import verify_record
from crypto.ballot import EncryptedBallot, ballot_proof_items, encrypt_ballot, verify_ballot
from crypto.batch import combined_check, find_invalid
from crypto.credentials import sign_payload
from crypto.encoding import canonical_json, hex_to_int, int_to_hex
from crypto.errors import InvalidProof
from tests.recordgen import CHOICES, generate, new_election

ROOT = Path(__file__).resolve().parents[2]
VERIFIER = ROOT / "tools" / "second-verifier" / "verify.mjs"


def _twist(ballot_json: dict[str, Any], n: int, how: str, count: int) -> dict[str, Any]:
    """Replace ``count`` responses of the first option proof (``n − z`` or ``z + 1``)."""
    out = json.loads(json.dumps(ballot_json))
    proof = out["contests"][0]["selections"][0]["proof"]
    for i in range(count):
        z = hex_to_int(proof["z"][i])
        proof["z"][i] = int_to_hex(n - z if how == "negate" else z + 1 if z + 1 < n else z - 1)
    return out


def _checks(g: Any, ballot_json: dict[str, Any]) -> tuple[bool, bool, bool]:
    """(one-by-one accepts, batch accepts, batch-with-bisection accepts)."""
    pk = g.tpk.public
    ballot = EncryptedBallot.from_json(ballot_json)
    token = ballot.token_id
    try:
        verify_ballot(pk, g.manifest, g.fingerprint, ballot, token)
        single = True
    except InvalidProof:
        single = False
    items = ballot_proof_items(pk, g.manifest, g.fingerprint, ballot, token)
    try:
        combined_check(pk, items)
        batch = True
    except InvalidProof:
        batch = False
    bisect = find_invalid(pk, [("b", items)]) == []
    return single, batch, bisect


@pytest.mark.parametrize("count", [1, 2])
def test_negated_responses_accepted_by_batch_and_single_checks(count: int) -> None:
    g = new_election()
    voter = g.new_voter("v")
    ballot, _ = encrypt_ballot(g.tpk.public, g.manifest, g.fingerprint,
                               voter.credential.token_id, CHOICES[0])
    twisted = _twist(ballot.to_json(), g.tpk.n, "negate", count)
    assert _checks(g, twisted) == (True, True, True)


def test_wrong_responses_rejected_by_batch_and_single_checks() -> None:
    g = new_election()
    voter = g.new_voter("v")
    ballot, _ = encrypt_ballot(g.tpk.public, g.manifest, g.fingerprint,
                               voter.credential.token_id, CHOICES[0])
    assert _checks(g, _twist(ballot.to_json(), g.tpk.n, "bump", 1)) == (False, False, False)
    with pytest.raises(InvalidProof, match=r"z\^n = ±a·u\^e"):
        verify_ballot(g.tpk.public, g.manifest, g.fingerprint,
                      EncryptedBallot.from_json(_twist(ballot.to_json(), g.tpk.n, "bump", 2)),
                      voter.credential.token_id)


def _pm_one_record(tmp_path: Path) -> tuple[Path, dict[str, dict[str, int]]]:
    g = generate(2, audited=False, revote=False)
    entry = g.board[0]
    voter = next(v for v in g.voters if v.credential.to_json() == entry["credential"])
    entry["ballot"] = _twist(entry["ballot"], g.tpk.n, "negate", 2)
    entry["signature"] = sign_payload(voter.key, canonical_json(entry["ballot"])).hex()
    g.rebuild(resign_heads=True)
    return g.write(tmp_path / "pm1"), g.expected_results()


def test_both_record_verifiers_accept_the_pm_one_ballot(tmp_path: Path) -> None:
    path, expected = _pm_one_record(tmp_path)
    report = verify_record(read_record(path, strict=False), workers=1)
    assert report.valid, report.render_text()
    assert report.tally == expected
    node = shutil.which("node")
    assert node is not None, "node (tools/second-verifier) is required"
    out = subprocess.run([node, str(VERIFIER), str(path), "--json"], capture_output=True,
                         text=True, check=False, timeout=120)
    doc = json.loads(out.stdout)
    assert out.returncode == 0, [c for c in doc["checks"] if not c["ok"]]
    assert doc["valid"] is True and doc["tally"] == expected
