"""``saylau bench cast``: casting throughput and latency through gunicorn on PostgreSQL.

    saylau bench cast [--quick] [--bits 3072] [--ballots 400] [--clients 16] [--nodes 1]
                      [--rate CASTS_PER_S]

For each modulus size: a throwaway Paillier key (``phe``; the server never decrypts, so
the threshold key's verification keys are random units), an election of one 5-option
question on a fresh PostgreSQL schema, and ``--ballots`` cast requests **built
beforehand** in 2 processes (credential by RFC 9474 blind signature, ballot encryption with
its proofs, Ed25519 signature) — voters encrypt on their own devices, so the server's cores
are not spent on it.  The ballots come from :mod:`bench.fast_ballots` (valid ballots with
the same proofs, 50× cheaper to build, unfit for voters), so that a 10-minute run's 60,000
ballots take minutes to build, not hours.  Then ``--nodes`` gunicorn nodes (2 worker
processes × 8 threads each) serve ``POST /api/v1/elections/<id>/ballots`` to ``--clients`` client threads
(:mod:`bench.loadgen`), and the run prints the throughput, p50/p99 latency, the errors,
the tree heads signed (group commit: fewer heads than casts), and the raw
``gmpy2.powmod(r, n, n²)`` floor of the same run with the cost per cast in floor
exponentiations (``floor / throughput``, both cores of the machine counted once each).
The load generator runs on the same machine and takes its share of the CPU.

By default the clients are a closed loop (each sends its next ballot when the previous one is
answered), so the latency is bounded by Little's law: ``clients / throughput``.  With
``--rate R`` the load is open: ballot ``i`` is due at ``i / R`` s whatever the server does,
``--clients`` is the number of connections, and each latency runs from the ballot's due time
(:func:`bench.loadgen.post_at_rate`) — the p99 a voter would see at ``R`` casts/s offered.

Every run is also cut into windows (10 s for a run of a minute or more): casts per second,
p50, p99 and errors of each (``timeline`` in ``--json``; ``--svg`` draws a run of a
minute or more over time), so a long run shows whether it held its pace as the board grew.
The nodes' logs are read afterwards and any traceback in them reported (``server_errors``).
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import cluster, cpu, loadgen
from bench.bench_crypto import floor_rate, generate_key
from bench.fast_ballots import NthPowerWalk, encrypt_ballot_fast
from crypto.paillier import PublicKey

DEFAULT_BITS = (3072,)
QUICK_BITS = (1024,)
OPTIONS = 5
ELECTION_ID = "bench-cast"
_STATE: dict[str, Any] = {}


def manifest_json() -> dict[str, Any]:
    return {"election_id": ELECTION_ID, "title": "Benchmark",
            "questions": [{"id": "q", "title": "Choose one", "min_selections": 1,
                           "max_selections": 1,
                           "options": [{"id": f"o{i}", "label": f"Option {i}"}
                                       for i in range(OPTIONS)]}]}


def threshold_key_json(pk: PublicKey) -> dict[str, Any]:
    """A threshold public key around ``n`` (random verification keys: never decrypted)."""
    from crypto.threshold import ThresholdPublicKey

    def unit() -> int:
        return pow(secrets.randbelow(pk.n - 2) + 2, 2, pk.nsquare)

    return ThresholdPublicKey(pk, 1, 1, unit(), (unit(),)).to_json()


def setup(app: Any, pk: PublicKey) -> dict[str, Any]:
    """Create and open the benchmark election; what the ballot builders need."""
    from app.db import new_session
    from app.services import elections as election_service
    from crypto.election import Manifest

    db = new_session(app)
    try:
        # credentials are built offline with the issuer key: voting opens at once
        election = election_service.create_election(db, Manifest.from_json(manifest_json()),
                                                    credential_policy="any_time")
        election_service.set_election_key(db, election, threshold_key_json(pk),
                                          allow_test_key=True)
        election_service.open_election(db, election)
        db.commit()
        return {"n": pk.n, "manifest": manifest_json(), "fingerprint": election.fingerprint_hex,
                "issuer_pem": election.issuer_private_pem, "election_id": election.id}
    finally:
        db.close()


def _init(ctx: dict[str, Any]) -> None:
    from crypto.blind_rsa import IssuerPrivateKey
    from crypto.election import Manifest

    _STATE.update(ctx)
    _STATE["pk"] = PublicKey(ctx["n"])
    _STATE["m"] = Manifest.from_json(ctx["manifest"])
    _STATE["sk"] = IssuerPrivateKey.from_pem(ctx["issuer_pem"].encode("ascii"))
    _STATE["walk"] = NthPowerWalk(_STATE["pk"])


def new_credential(sk: Any, scope: str) -> tuple[Any, Any]:
    """A voter's ballot key and credential, blind-signed by the issuer ``sk`` for ``scope``
    (what the voter's device and the issuer do, RFC 9474)."""
    from crypto.credentials import (
        ballot_public_key_bytes,
        begin_credential,
        finish_credential,
        generate_ballot_key,
        issue_blind_signature,
    )

    ipk = sk.public_key()
    bsk = generate_ballot_key()
    blinded, state = begin_credential(ipk, scope, ballot_public_key_bytes(bsk))
    return bsk, finish_credential(ipk, state, issue_blind_signature(sk, blinded))


def _build(count: int) -> list[bytes]:
    """``count`` request bodies of ``POST …/ballots`` (in a worker process)."""
    from crypto.credentials import sign_payload
    from crypto.encoding import canonical_json

    sk, pk, m = _STATE["sk"], _STATE["pk"], _STATE["m"]
    fingerprint = bytes.fromhex(_STATE["fingerprint"])
    out = []
    for _ in range(count):
        bsk, credential = new_credential(sk, _STATE["election_id"])
        choice = f"o{secrets.randbelow(OPTIONS)}"
        ballot, _ = encrypt_ballot_fast(_STATE["walk"], pk, m, fingerprint,
                                        credential.token_id, {"q": [choice]})
        bj = ballot.to_json()
        body = {"credential": credential.to_json(), "ballot": bj,
                "signature": sign_payload(bsk, canonical_json(bj)).hex()}
        out.append(json.dumps(body).encode())
    return out


def build_bodies(ctx: dict[str, Any], count: int, processes: int = 2) -> list[bytes]:
    return cluster.build_in_processes(_init, ctx, _build, count, processes)


def _heads(app: Any) -> int:
    from sqlalchemy import func, select

    from app.db import new_session
    from app.models import TreeHead

    db = new_session(app)
    try:
        return int(db.scalar(select(func.count()).select_from(TreeHead)) or 0)
    finally:
        db.close()


def bench_bits(bits: int, ballots: int, clients: int, node_count: int, workers: int,
               threads: int, out: Callable[[str], None],
               env: dict[str, str] | None = None, rate: float | None = None) -> dict[str, Any]:
    pk = generate_key(bits)
    with tempfile.TemporaryDirectory() as tmp, cluster.pg_schema() as schema:
        app = cluster.make_app(cluster.PG_URL, schema, Path(tmp))
        ctx = setup(app, pk)
        t0 = time.perf_counter()
        bodies = build_bodies(ctx, ballots)
        out(f"  {ballots} ballots built in {time.perf_counter() - t0:.0f} s (not timed)")
        floor = floor_rate(pk, 1.0)  # just before the timed part, on the same machine state
        masters: list[int] = []
        path = f"/api/v1/elections/{ELECTION_ID}/ballots"
        with cluster.nodes(cluster.PG_URL, schema, Path(tmp), count=node_count,
                           workers=workers, threads=threads, env=env, pids=masters) as bases:
            warm = max(1, min(len(bodies) // 10, 2 * clients))  # connections, imports, caches
            loadgen.post_all(bases, path, bodies[:warm], clients)
            heads_warm = _heads(app)
            timed = cluster.timed_load(app, bases, masters, path, bodies[warm:], clients, rate)
        result = timed.result
        heads = _heads(app) - heads_warm
        logged = cluster.server_errors(Path(tmp))
        from app.db import get_engine

        get_engine(app).dispose()
    achieved = result.throughput
    ok = result.ok
    return {
        "bits": bits, "ballots": len(bodies) - warm, "options": OPTIONS, "clients": clients,
        "nodes": node_count, "workers_per_node": workers, "threads_per_worker": threads,
        "load": "closed loop" if rate is None else "open loop", "offered_per_s": rate,
        "settings": dict(env or {}),
        "casts_per_s": round(achieved, 1), "p50_ms": round(result.quantile(0.5) * 1000, 1),
        "p99_ms": round(result.quantile(0.99) * 1000, 1), "errors": result.errors,
        "statuses": {str(k): v for k, v in sorted(result.statuses.items())},
        "tree_heads": heads, "elapsed_s": round(result.elapsed, 2),
        "floor_ops_per_s": round(floor, 1),
        "floor_per_cast": round(floor / achieved, 3) if achieved else None,
        "casts_per_s_at_100_floor": round(100 * achieved / floor, 1) if floor else None,
        "load_1min": round(os.getloadavg()[0], 2),
        **cpu.figures(timed.cpu_s, ok, floor, "cast"),
        "database_sessions_opened": timed.sessions_opened,
        "server_errors": logged,
        "window_s": window_width(result.elapsed),
        "timeline": result.windows(window_width(result.elapsed)),
    }


def window_width(elapsed: float) -> float:
    """The timeline's window: 10 s for a run of a minute or more, else a tenth of the run."""
    return 10.0 if elapsed >= 60 else max(0.5, round(elapsed / 10, 1))


def run(*, quick: bool = False, bits: tuple[int, ...] | None = None, ballots: int | None = None,
        clients: int | None = None, nodes: int | None = None, workers: int | None = None,
        threads: int | None = None, batch_max: int | None = None,
        batch_wait_ms: float | None = None,
        rate: float | None = None,
        out: Callable[[str], None] = print) -> list[dict[str, Any]]:
    sizes = bits or (QUICK_BITS if quick else DEFAULT_BITS)
    count = ballots or (40 if quick else 400)
    results = []
    for b in sizes:
        out(f"{b}-bit n: {count} casts of 5-option ballots, gunicorn on PostgreSQL …")
        env = {}
        if batch_max is not None:
            env["SAYLAU_BALLOT_BATCH_MAX"] = str(batch_max)
        if batch_wait_ms is not None:
            env["SAYLAU_BALLOT_BATCH_WAIT_MS"] = str(batch_wait_ms)
        res = bench_bits(b, count, clients or 16, nodes or 1, workers or 2, threads or 8, out,
                         env, rate)
        results.append(res)
        out(f"  floor powmod(r, n, n^2): {res['floor_ops_per_s']} /s per core "
            f"(load {res['load_1min']})")
        if rate is not None:
            out(f"  open loop: {rate} casts/s offered over {res['clients']} connections")
        out(f"  {res['casts_per_s']} casts/s, p50 {res['p50_ms']} ms, p99 {res['p99_ms']} ms, "
            f"errors {res['errors']}, {res['tree_heads']} tree heads for {res['ballots']} casts")
        out(f"  cost: {res['floor_per_cast']} floor exponentiations per cast "
            f"(= {res['casts_per_s_at_100_floor']} casts/s per 100 floor/s)")
        for line in cpu.describe(res, "cast"):
            out(line)
        out(timeline_summary(res))
        if res["server_errors"]["count"]:
            out(f"  the nodes logged {res['server_errors']['count']} error(s); the first:")
            out(res["server_errors"]["first"])
    return results


def timeline_summary(res: dict[str, Any]) -> str:
    """One line on the run's windows: the slowest window's rate and the worst p99."""
    windows = res["timeline"]
    if not windows:
        return "  timeline: no requests"
    slow = min(windows, key=lambda w: w["per_s"])
    worst = max(windows, key=lambda w: w["p99_ms"])
    return (f"  timeline ({len(windows)} windows of {res['window_s']} s): slowest "
            f"{slow['per_s']}/s at {slow['start_s']:.0f} s, worst p99 {worst['p99_ms']} ms at "
            f"{worst['start_s']:.0f} s, errors {sum(w['errors'] for w in windows)}")
