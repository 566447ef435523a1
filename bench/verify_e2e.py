"""``saylau bench verify --e2e``: ``saylau verify`` end to end on a generated record.

Builds a complete, tallied record of ``ballots`` 5-option ballots with a ``bits``-bit key
(a 1-of-1 dealer key from a phe key pair: the verifier's equations are the same for any
``k``-of-``ℓ``; safe-prime generation at 3072 bits would take minutes), then runs the real
``python -m saylau verify RECORD --json`` in a child process (record reading, structure
checks, credentials, signatures, batched proofs, tally, partial decryptions — both cores)
and reports wall time, the child's CPU seconds, ballots/s, CPU seconds per ballot and the
cost per ballot in floor exponentiations ``powmod(r, n, n²)`` measured in the same run.

Uses the offline record generator of the test suite (tests/recordgen.py).
"""

from __future__ import annotations

import json
import math
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import gmpy2
from phe import paillier as phe_paillier

from bench.fast_ballots import NthPowerWalk, encrypt_ballot_fast
from crypto.ballot import EncryptedBallot
from crypto.election import ElectionRules, Manifest, election_fingerprint
from crypto.paillier import PublicKey, invert, powmod
from crypto.roll import RollCommitment
from crypto.threshold import KeyShare, ThresholdPublicKey

OPTIONS = 5
ROOT = Path(__file__).resolve().parents[1]


def manifest(election_id: str) -> Manifest:
    return Manifest.from_json({
        "election_id": election_id, "title": "Benchmark",
        "questions": [{"id": "q", "title": "Choose one", "min_selections": 1,
                       "max_selections": 1,
                       "options": [{"id": f"o{i}", "label": f"Option {i}"}
                                   for i in range(OPTIONS)]}],
    })


def dealer_key(bits: int) -> tuple[ThresholdPublicKey, tuple[KeyShare, ...]]:
    """A 1-of-1 threshold key over a phe key pair (T2 with m = φ(n))."""
    public, private = phe_paillier.generate_paillier_keypair(n_length=bits)
    n, p, q = public.n, private.p, private.q
    m = (p - 1) * (q - 1)
    d = m * invert(m, n)
    nn = n * n
    while True:
        x = secrets.randbelow(nn - 2) + 2
        if gmpy2.gcd(x, n) == 1 and x * x % nn != 1:
            v = x * x % nn
            break
    tpk = ThresholdPublicKey(PublicKey(n), 1, 1, v, (powmod(v, math.factorial(1) * d, nn),))
    return tpk, (KeyShare(1, d, tpk),)


_WALKS: dict[int, NthPowerWalk] = {}


def _encrypt(args: tuple[PublicKey, Manifest, bytes, bytes, int]) -> EncryptedBallot:
    """One voter's ballot, from this process's :class:`bench.fast_ballots.NthPowerWalk`
    (the same proofs as :func:`crypto.ballot.encrypt_ballot`, 50× cheaper to build)."""
    pk, m, fp, token, choice = args
    walk = _WALKS.get(pk.n) or _WALKS.setdefault(pk.n, NthPowerWalk(pk))
    ballot, _ = encrypt_ballot_fast(walk, pk, m, fp, token, {"q": [f"o{choice}"]})
    return ballot


def make_record(path: Path, bits: int, ballots: int, workers: int = 2) -> Path:
    sys.path.insert(0, str(ROOT))
    from tests.recordgen import (  # the offline generator of the test suite
        GRANULARITY_S,
        WINDOW_CLOSES,
        WINDOW_OPENS,
        GeneratedElection,
        Voter,
        board_key,
        issuer_key,
        make_credential_blinded,
        roll_keys,
        roll_of,
    )

    m = manifest("bench-e2e")
    tpk, shares = dealer_key(bits)
    issuer, bkey = issuer_key(), board_key()
    keys = list(roll_keys(ballots + 1))
    roll = roll_of(keys)
    commitment = RollCommitment.of("enrolled", roll).to_json()
    rules = ElectionRules("last-counts", WINDOW_OPENS, WINDOW_CLOSES, GRANULARITY_S).to_json()
    fp = election_fingerprint(m, tpk.to_json(), issuer.public_key().to_json(),
                              bkey.public_key_bytes(), commitment, rules)
    gen = GeneratedElection(m, tpk, shares, issuer, bkey, fp, roll_private=keys, roll=roll,
                            roll_commitment=commitment, rules=rules)
    voters = []
    for i in range(ballots):
        key, credential, blinded = make_credential_blinded(issuer, m.election_id)
        voter = Voter(f"v{i}", key, credential)
        gen.voters.append(voter)
        gen.requests.append(gen.signed_request(i, blinded))
        gen.issued += 1
        voters.append(voter)
    jobs = [(tpk.public, m, fp, v.credential.token_id, i % OPTIONS) for i, v in enumerate(voters)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        encrypted = list(pool.map(_encrypt, jobs, chunksize=32))
    for i, (voter, ballot) in enumerate(zip(voters, encrypted, strict=True)):
        voter.choices = {"q": [f"o{i % OPTIONS}"]}
        gen.board.append(gen.ballot_entry(voter, ballot.to_json()))
    gen.rebuild(resign_heads=True, trustees=(1,))
    return gen.write(path)


def run_verify(record: Path, workers: int | None = None, test_key: bool = False
               ) -> dict[str, Any]:
    """``python -m saylau verify RECORD --json`` in a child; wall and CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    cmd = [sys.executable, "-m", "saylau", "verify", str(record), "--json"]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    if test_key:
        cmd.append("--allow-test-keys")
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "SAYLAU_VERIFY_ALLOW_TEST_KEYS": "0"})
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"exit": proc.returncode, "wall_s": wall, "cpu_s": cpu,
            "valid": '"valid": true' in proc.stdout, "stderr": proc.stderr[-500:]}


def floor_cpu_rate(pk: PublicKey, cpu_seconds: float = 1.0) -> float:
    """``powmod(r, n, n²)`` per CPU second of this process (robust on a loaded machine)."""
    r = secrets.randbelow(pk.n - 2) + 2
    n, nn = pk.n, pk.nsquare
    count = 0
    start = time.process_time()
    while (spent := time.process_time() - start) < cpu_seconds:
        gmpy2.powmod(r, n, nn)
        count += 1
    return count / spent


def bench_e2e(bits: int, ballots: int, workers: int | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="saylau-bench-verify-") as tmp:
        t0 = time.perf_counter()
        record = make_record(Path(tmp) / "record", bits, ballots)
        generated = time.perf_counter() - t0
        pk = ThresholdPublicKey.from_json(
            json.loads((record / "election.json").read_text())["election_key"]).public
        floor = floor_cpu_rate(pk)
        res = run_verify(record, workers, test_key=bits < 2048)
        floor_after = floor_cpu_rate(pk)
    floor = (floor + floor_after) / 2
    cpu_per_ballot = res["cpu_s"] / ballots
    return {
        "bits": bits, "ballots": ballots, "options": OPTIONS,
        "record_generation_s": round(generated, 1),
        "verify_exit": res["exit"], "verify_valid": res["valid"],
        "verify_wall_s": round(res["wall_s"], 2), "verify_cpu_s": round(res["cpu_s"], 2),
        "cores_used": round(res["cpu_s"] / res["wall_s"], 2),
        "ballots_per_s_wall": round(ballots / res["wall_s"], 1),
        "ballots_per_s_per_cpu_s": round(ballots / res["cpu_s"], 1),
        "cpu_ms_per_ballot": round(1000 * cpu_per_ballot, 2),
        "floor_ops_per_cpu_s": round(floor, 1),
        "floor_exps_per_ballot": round(cpu_per_ballot * floor, 2),
        "projected_ballots_per_s_on_2_free_cores": round(2 / cpu_per_ballot, 1),
        "stderr": res["stderr"] if res["exit"] not in (0,) else "",
    }
