"""A record whose key the trustees generated together: ``saylau verify`` and the second
verifier (Node) accept it, and both reject every tampered transcript with the
``key-generation`` check."""

from __future__ import annotations

import copy
import functools
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from audit.record import ELECTION, KEYGEN
from audit.verifier import verify_record
from crypto.dkg.errors import InvalidTranscript
from crypto.dkg.params import DkgParams
from crypto.dkg.transcript import verify_transcript
from crypto.election import ElectionRules, election_fingerprint
from crypto.encoding import hex_to_int, int_to_hex
from crypto.roll import RollCommitment
from tests.dkg.helpers import memory_run, planted
from tests.manifests import demo_manifest
from tests.recordgen import (
    CHOICES,
    GRANULARITY_S,
    ROLL_SIZE,
    WINDOW_CLOSES,
    WINDOW_OPENS,
    GeneratedElection,
    board_key,
    issuer_key,
    roll_keys,
    roll_of,
)

ROOT = Path(__file__).resolve().parents[2]
VERIFIER = ROOT / "tools" / "second-verifier" / "verify.mjs"
NODE = shutil.which("node")


@dataclass
class DkgElection(GeneratedElection):
    transcript: dict[str, Any] | None = None

    def service_data(self) -> dict[str, Any]:
        data = super().service_data()
        data["keygen_transcript"] = self.transcript
        return data


@functools.cache
def _base() -> DkgElection:
    params = DkgParams(1024, 3, 2, batch=8, allow_test_key=True)
    cls, _ = planted(params)
    results, errors = memory_run(params, {i: cls for i in (1, 2, 3)}, election="test-election")
    assert not errors, errors
    tpk = results[1].public_key
    manifest = demo_manifest("test-election")
    issuer, bkey = issuer_key(), board_key()
    keys = roll_keys(ROLL_SIZE)  # the published roll of enrolled keys (issue 11), bound into F1
    roll = roll_of(keys)
    commitment = RollCommitment.of("enrolled", roll).to_json()
    rules = ElectionRules("last-counts", WINDOW_OPENS, WINDOW_CLOSES, GRANULARITY_S).to_json()
    fp = election_fingerprint(manifest, tpk.to_json(), issuer.public_key().to_json(),
                              bkey.public_key_bytes(), commitment, rules)
    gen = DkgElection(manifest, tpk, tuple(results[i].share for i in (1, 2, 3)), issuer, bkey,
                      fp, roll_private=list(keys), roll=roll, roll_commitment=commitment,
                      rules=rules, transcript=results[1].transcript)
    for i in range(2):
        gen.cast(gen.new_voter(f"voter{i}"), CHOICES[i])
    gen.rebuild(trustees=(2, 3))
    return gen


def _gen() -> DkgElection:
    return copy.deepcopy(_base())


def _node(path: Path) -> dict[str, str]:
    assert NODE is not None
    proc = subprocess.run([NODE, str(VERIFIER), str(path), "--json"], capture_output=True,
                          text=True, check=False, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads(proc.stdout)
    return {c["name"]: c["message"] + " | " + " | ".join(c["details"])
            for c in report["checks"] if not c["ok"]}


def test_distributed_record_verifies(tmp_path: Path) -> None:
    gen = _gen()
    path = gen.write(tmp_path / "rec")
    assert gen.files[ELECTION]["key_generation"] == "distributed"
    report = verify_record(path, workers=1)
    assert report.valid, [c.to_json() for c in report.failed()]
    assert report.tally == gen.expected_results()
    assert "distributed key generation by 3 trustees verified" in \
        report.check("key-generation").message  # type: ignore[union-attr]
    if NODE:
        assert _node(path) == {}


def _bump_hex(value: str) -> str:
    return int_to_hex(hex_to_int(value) + 1)


def _tamper_bpt(t: dict[str, Any]) -> None:
    t["biprimality"][0][1] = _bump_hex(t["biprimality"][0][1])


def _tamper_commitment(t: dict[str, Any]) -> None:
    t["commitments"][1][0] = t["commitments"][0][0]


def _tamper_signature(t: dict[str, Any]) -> None:
    sig = t["signatures"][1]["signature"]
    t["signatures"][1]["signature"] = ("0" if sig[0] != "0" else "1") + sig[1:]


def _tamper_theta(t: dict[str, Any]) -> None:
    t["theta"]["theta"] = _bump_hex(t["theta"]["theta"])


def _tamper_roster(t: dict[str, Any]) -> None:
    t["roster"][0]["dh_key"], t["roster"][1]["dh_key"] = (t["roster"][1]["dh_key"],
                                                          t["roster"][0]["dh_key"])


def _tamper_confirmation(t: dict[str, Any]) -> None:
    part = t["confirmation"]["partials"][2]
    part["proof"]["z"] = _bump_hex(part["proof"]["z"])


def _tamper_modulus(t: dict[str, Any]) -> None:
    n = hex_to_int(t["modulus"]["n"])
    t["modulus"]["n"] = int_to_hex(n + 3 * 5 * 7 - n % (3 * 5 * 7))  # divisible by 3, 5, 7


def _tamper_roster_entry(t: dict[str, Any]) -> None:
    t["roster"][1] = "trustee 2"  # not an object


def _tamper_signature_entry(t: dict[str, Any]) -> None:
    t["signatures"][2] = 3  # not an object


TAMPERS = {
    "bpt-product": (_tamper_bpt, "biprimality round 0: product"),
    "commitment": (_tamper_commitment, "verification key v_1 does not match the commitments"),
    "signature": (_tamper_signature, "trustee 2's signature does not verify"),
    "theta": (_tamper_theta, "θ is not W mod N"),
    "roster": (_tamper_roster, "session id does not match"),
    "roster-entry": (_tamper_roster_entry, "roster must list trustees 1..ℓ in order"),
    "signature-entry": (_tamper_signature_entry, "one signature per trustee required"),
    "confirmation": (_tamper_confirmation, "confirmation: share 3"),
    "modulus": (_tamper_modulus, "modulus fails trial division"),
}


def test_tampered_transcripts_fail_both_verifiers(tmp_path: Path) -> None:
    """Each tamper: Python's verify_transcript and ``verify.mjs --keygen`` both reject it
    (the Node processes run in parallel); one tampered copy also goes through both
    record verifiers with the record index re-signed."""
    procs = {}
    for name, (tamper, message) in sorted(TAMPERS.items()):
        t = copy.deepcopy(_base().transcript)
        assert t is not None
        tamper(t)
        with pytest.raises(InvalidTranscript, match=message):
            verify_transcript(t, election="test-election")
        if NODE:
            path = tmp_path / f"{name}.json"
            path.write_text(json.dumps(t))
            procs[name] = subprocess.Popen([NODE, str(VERIFIER), "--keygen", str(path)],
                                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                           text=True)
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 1, (name, out, err)
        assert TAMPERS[name][1].split(":")[0] in out, (name, out)
    gen = _gen()
    _tamper_theta(gen.files[KEYGEN])
    path = gen.write(tmp_path / "theta-record")  # the operator re-signs the record index
    report = verify_record(path, workers=1)
    assert [c.name for c in report.failed()] == ["key-generation"]
    if NODE:
        assert set(_node(path)) == {"key-generation"}


def test_node_accepts_the_untampered_transcript(tmp_path: Path) -> None:
    if not NODE:
        pytest.skip("node is not installed")
    path = tmp_path / "t.json"
    path.write_text(json.dumps(_base().transcript))
    proc = subprocess.run([NODE, str(VERIFIER), "--keygen", str(path)], capture_output=True,
                          text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_key_generation_mode_mismatch(tmp_path: Path) -> None:
    """election.json's key_generation must match the presence of a valid keygen.json."""
    cases = {}
    gen = _gen()
    gen.files[ELECTION]["key_generation"] = "dealer"
    cases["dealer-with-transcript"] = (gen, "keygen.json")
    gen = _gen()
    del gen.files[KEYGEN]
    cases["distributed-without-transcript"] = (gen, "missing")
    procs = {}
    for name, (g, expected) in cases.items():
        path = g.write(tmp_path / name)
        report = verify_record(path, workers=1)
        assert [c.name for c in report.failed()] == ["key-generation"]
        check = report.check("key-generation")
        assert check is not None and expected in check.message + " ".join(check.details)
        if NODE:
            procs[name] = subprocess.Popen([NODE, str(VERIFIER), str(path), "--json"],
                                           stdout=subprocess.PIPE, text=True)
    for proc in procs.values():
        out, _ = proc.communicate(timeout=300)
        failed = {c["name"] for c in json.loads(out)["checks"] if not c["ok"]}
        assert failed == {"key-generation"}
