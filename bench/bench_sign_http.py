"""``saylau bench sign`` (the default, HTTP): petition signing through gunicorn on PostgreSQL.

The petition counterpart of :mod:`bench.bench_cast`.  For each modulus size: a throwaway
Paillier key (``phe``; the server never decrypts, so the threshold key's verification keys
are random units), a petition created, submitted, given that key and approved by the
service's own functions (:mod:`app.petitions.drafting`, :mod:`app.petitions.decisions`) on a
fresh PostgreSQL schema with ``--regions`` regions (the first of the 20 default regions,
then synthetic ones), and ``--signatures`` request bodies of
``POST /api/v1/petitions/<id>/signatures`` **built beforehand** in 2 processes — credential
blind-signed with the petition's issuer key (the ``/credential`` step is skipped: its
result only is needed), the region encrypted with its ``R``-branch membership proof, and
Ed25519 over the canonical JSON, as the browser does (the encryption and proof from
:mod:`bench.fast_ballots`: the same equations, 50× cheaper to build, unfit for citizens).
Then ``--nodes`` gunicorn nodes (2 worker processes × ``--threads`` threads each; ``PETITION_BATCH_MAX`` /
``PETITION_BATCH_WAIT_MS`` from ``--batch-max`` / ``--batch-wait-ms``) serve the requests
to ``--clients`` client threads (:mod:`bench.loadgen`, closed loop, or open loop with
``--rate``), after a warm-up of a tenth of the bodies (at most ``2 × --clients``).

Printed: signatures per second, p50/p99 latency, errors and statuses, the tree heads signed
during the timed part (group commit: fewer heads than signatures), the signatures on the
board afterwards (counted in the database), and the raw ``gmpy2.powmod(r, n, n²)`` floor
measured just before the timed part with the cost per signature in floor exponentiations.
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
from bench.bench_cast import new_credential, threshold_key_json, timeline_summary, window_width
from bench.bench_crypto import floor_rate, generate_key
from bench.fast_ballots import NthPowerWalk, encrypt_signature_fast
from crypto.paillier import PublicKey

DEFAULT_BITS = (3072,)
QUICK_BITS = (1024,)
REVOKE_A50_PEAK = 33.0
#: the goal of issue #13: petition signing at the rate of casting
GOAL_PER_S = 100.0
_STATE: dict[str, Any] = {}


def regions_json(regions: int) -> list[dict[str, str]]:
    """The first ``regions`` default regions, then synthetic ``extra-<i>`` ones."""
    from app.petitions.common import DEFAULT_REGIONS

    out = [{"id": i, "label": label} for i, label in DEFAULT_REGIONS[:regions]]
    out += [{"id": f"extra-{i}", "label": f"Extra {i}"} for i in range(regions - len(out))]
    return out


def setup(app: Any, pk: PublicKey, regions: int) -> dict[str, Any]:
    """Create and open the benchmark petition; what the body builders need."""
    from app.db import new_session
    from app.models import utcnow
    from app.petitions import decisions, drafting
    from app.petitions.common import DEFAULT_REGIONS
    from app.petitions.models import PetitionCitizen
    from app.petitions.parameters import scope_id
    from app.services import users as user_service

    db = new_session(app)
    try:
        with app.app_context():
            user = user_service.get_or_create_user(db, "bench@example.org")
            db.add(PetitionCitizen(user_id=user.id, confirmed_at=utcnow()))
            db.flush()
            wanted = regions_json(regions)
            p, _ = drafting.create_draft(db, user, {
                "title": "Benchmark", "action": "Benchmark",
                "regions": [r["id"] for r in wanted[:len(DEFAULT_REGIONS)]]})
            if regions > len(DEFAULT_REGIONS):
                p.regions_json = json.dumps(wanted)
            drafting.submit(db, p, user)  # no sponsors needed (PETITION_SPONSORS_REQUIRED=0)
            decisions.set_election_key(db, p, threshold_key_json(pk))
            decisions.moderate(db, p, user, "approve")  # open: fingerprint, empty tree head
            db.commit()
            return {"n": pk.n, "petition_id": p.id, "scope": scope_id(p.id), "title": p.title,
                    "regions": json.loads(p.regions_json), "fingerprint": p.fingerprint_hex,
                    "issuer_pem": p.issuer_private_pem}
    finally:
        db.close()


def _init(ctx: dict[str, Any]) -> None:
    from crypto.blind_rsa import IssuerPrivateKey
    from crypto.election import Option
    from crypto.petition import PetitionParameters

    _STATE.update(ctx)
    _STATE["pk"] = PublicKey(ctx["n"])
    _STATE["params"] = PetitionParameters(ctx["scope"], ctx["title"],
                                          tuple(Option(r["id"], r["label"])
                                                for r in ctx["regions"]))
    _STATE["sk"] = IssuerPrivateKey.from_pem(ctx["issuer_pem"].encode("ascii"))
    _STATE["walk"] = NthPowerWalk(_STATE["pk"])


def _build(count: int) -> list[bytes]:
    """``count`` request bodies of ``POST …/signatures`` (in a worker process)."""
    from crypto.credentials import sign_payload
    from crypto.encoding import canonical_json

    sk, pk, params = _STATE["sk"], _STATE["pk"], _STATE["params"]
    fingerprint = bytes.fromhex(_STATE["fingerprint"])
    out = []
    for _ in range(count):
        bsk, credential = new_credential(sk, _STATE["scope"])
        region = params.region_ids[secrets.randbelow(len(params.region_ids))]
        sig, _ = encrypt_signature_fast(_STATE["walk"], pk, params, fingerprint,
                                        credential.token_id, region)
        sj = sig.to_json()
        body = {"credential": credential.to_json(), "signature": sj,
                "ed25519_signature": sign_payload(bsk, canonical_json(sj)).hex()}
        out.append(json.dumps(body).encode())
    return out


def build_bodies(ctx: dict[str, Any], count: int, processes: int = 2) -> list[bytes]:
    return cluster.build_in_processes(_init, ctx, _build, count, processes)


def counts(app: Any, petition_id: int) -> tuple[int, int]:
    """(tree heads, signature entries) of the petition's board, counted in the database."""
    from sqlalchemy import func, select

    from app.db import new_session
    from app.petitions.models import PetitionBoardEntry, PetitionTreeHead

    db = new_session(app)
    try:
        heads = db.scalar(select(func.count()).select_from(PetitionTreeHead)
                          .where(PetitionTreeHead.petition_id == petition_id))
        entries = db.scalar(select(func.count()).select_from(PetitionBoardEntry)
                            .where(PetitionBoardEntry.petition_id == petition_id,
                                   PetitionBoardEntry.kind == "signature"))
        return int(heads or 0), int(entries or 0)
    finally:
        db.close()


def bench_bits(bits: int, signatures: int, regions: int, clients: int, node_count: int,
               workers: int, threads: int, out: Callable[[str], None],
               env: dict[str, str] | None = None, rate: float | None = None) -> dict[str, Any]:
    pk = generate_key(bits)
    with tempfile.TemporaryDirectory() as tmp, cluster.pg_schema() as schema:
        app = cluster.make_app(cluster.PG_URL, schema, Path(tmp), PETITION_SPONSORS_REQUIRED=0)
        ctx = setup(app, pk, regions)
        pid = ctx["petition_id"]
        path = f"/api/v1/petitions/{pid}/signatures"
        t0 = time.perf_counter()
        bodies = build_bodies(ctx, signatures)
        out(f"  {signatures} signatures built in {time.perf_counter() - t0:.0f} s (not timed)")
        masters: list[int] = []
        with cluster.nodes(cluster.PG_URL, schema, Path(tmp), count=node_count,
                           workers=workers, threads=threads, env=env, pids=masters) as bases:
            warm = max(1, min(len(bodies) // 10, 2 * clients))  # connections, imports, caches
            warm_result = loadgen.post_all(bases, path, bodies[:warm], clients)
            heads_warm, _ = counts(app, pid)
            floor = floor_rate(pk, 1.0)  # just before the timed part, on the same machine state
            timed = cluster.timed_load(app, bases, masters, path, bodies[warm:], clients, rate)
        result = timed.result
        heads_after, on_board = counts(app, pid)
        logged = cluster.server_errors(Path(tmp))
        from app.db import get_engine

        get_engine(app).dispose()
    achieved = result.throughput
    return {
        "bits": bits, "signatures": len(bodies) - warm, "warm_up": warm, "regions": regions,
        "clients": clients, "nodes": node_count, "workers_per_node": workers,
        "threads_per_worker": threads,
        "load": "closed loop" if rate is None else "open loop", "offered_per_s": rate,
        "settings": dict(env or {}),
        "server_errors": logged,
        "signatures_per_s": round(achieved, 1), "p50_ms": round(result.quantile(0.5) * 1000, 1),
        "p99_ms": round(result.quantile(0.99) * 1000, 1), "errors": result.errors,
        "statuses": {str(k): v for k, v in sorted(result.statuses.items())},
        "warm_up_errors": warm_result.errors,
        "tree_heads": heads_after - heads_warm, "board_signatures": on_board,
        "elapsed_s": round(result.elapsed, 2),
        "floor_ops_per_s": round(floor, 1),
        "floor_per_signature": round(floor / achieved, 3) if achieved else None,
        "signatures_per_s_at_100_floor": round(100 * achieved / floor, 1) if floor else None,
        "revoke_a50_peak": REVOKE_A50_PEAK,
        "load_1min": round(os.getloadavg()[0], 2),
        **cpu.figures(timed.cpu_s, result.ok, floor, "signature"),
        "database_sessions_opened": timed.sessions_opened,
        "window_s": window_width(result.elapsed),
        "timeline": result.windows(window_width(result.elapsed)),
    }


def run(*, quick: bool = False, bits: tuple[int, ...] | None = None,
        signatures: int | None = None, regions: int = 20, clients: int | None = None,
        nodes: int | None = None, workers: int | None = None, threads: int | None = None,
        batch_max: int | None = None,
        batch_wait_ms: float | None = None, rate: float | None = None,
        out: Callable[[str], None] = print) -> list[dict[str, Any]]:
    sizes = bits or (QUICK_BITS if quick else DEFAULT_BITS)
    count = signatures or (40 if quick else 400)
    env = {}
    if batch_max is not None:
        env["SAYLAU_PETITION_BATCH_MAX"] = str(batch_max)
    if batch_wait_ms is not None:
        env["SAYLAU_PETITION_BATCH_WAIT_MS"] = str(batch_wait_ms)
    results = []
    for b in sizes:
        out(f"{b}-bit n: {count} petition signatures with {regions} regions, "
            "gunicorn on PostgreSQL …")
        res = bench_bits(b, count, regions, clients or 16, nodes or 1, workers or 2, threads or 8,
                         out, env, rate)
        results.append(res)
        out(f"  floor powmod(r, n, n^2): {res['floor_ops_per_s']} /s per core "
            f"(load {res['load_1min']})")
        if rate is not None:
            out(f"  open loop: {rate} signatures/s offered over {res['clients']} connections")
        out(f"  {res['signatures_per_s']} signatures/s, p50 {res['p50_ms']} ms, "
            f"p99 {res['p99_ms']} ms, errors {res['errors']}, {res['tree_heads']} tree heads "
            f"for {res['signatures']} signatures, {res['board_signatures']} on the board")
        out(f"  cost: {res['floor_per_signature']} floor exponentiations per signature "
            f"(= {res['signatures_per_s_at_100_floor']} signatures/s per 100 floor/s; "
            f"Revoke-Article-50 peak {REVOKE_A50_PEAK:.0f}/s)")
        for line in cpu.describe(res, "signature"):
            out(line)
        out(timeline_summary(res))
        if res["server_errors"]["count"]:
            out(f"  the nodes logged {res['server_errors']['count']} error(s); the first:")
            out(res["server_errors"]["first"])
    return results
