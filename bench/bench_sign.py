"""``saylau bench sign``: petition signing throughput, end to end over HTTP or in-process.

    saylau bench sign [--quick] [--bits 3072] [--signatures 400] [--regions 20] [--clients 16]
                      [--nodes 1] [--threads 8] [--batch-max N] [--batch-wait-ms MS]
                      [--rate SIGNATURES_PER_S]
    saylau bench sign --in-process [--quick] [--bits 3072] [--signatures 32] [--regions 20]
                      [--threads 8]
    python -m bench.bench_sign [the same options] [--chunk 16] [--no-db] [--json]

**By default** (:mod:`bench.bench_sign_http`, like ``saylau bench cast``): a petition with a
throwaway Paillier key on a fresh PostgreSQL schema, ``--signatures`` request bodies of
``POST /api/v1/petitions/<id>/signatures`` built beforehand in 2 processes (citizens
encrypt on their own devices), ``--nodes`` gunicorn nodes (2 worker processes ×
``--threads`` threads), and ``--clients`` client threads (:mod:`bench.loadgen`; closed loop,
or open loop at ``--rate`` signatures per second offered).  Prints signatures per second,
p50/p99 latency, errors, the tree heads signed (group commit), the signatures on the board
afterwards, and the raw ``gmpy2.powmod(r, n, n²)`` floor measured just before the timed part
with the cost per signature in floor exponentiations.

**With** ``--in-process``, the server side on 2 cores without HTTP: for each modulus size a
throwaway Paillier key (``phe``), a 2048-bit issuer key, and ``--signatures`` signatures
built as the browser would (blind credential, packed region ciphertext with its ``R``-branch
membership proof, Ed25519 over the canonical JSON).  The server-side checks of
``POST /api/v1/petitions/<id>/signatures`` are then timed in two worker processes:

* **individual** — credential (RFC 9474), Ed25519, parsing, and
  :func:`crypto.petition.verify_signature` per signature (``R`` full exponentiations);
* **server** — what ``POST …/signatures`` runs: the same cheap checks and
  :func:`crypto.petition.check_signature` per signature (the ``R`` branch equations
  combined: one full exponentiation plus a multi-exponentiation of short powers);
* **batch** — the same cheap checks and :func:`crypto.petition.signature_proof_item`
  per signature, then :func:`crypto.batch.find_invalid` per chunk of ``--chunk``
  signatures (one full exponentiation per chunk plus 64-bit ones);
* **append** — the board transaction alone (lock, insert, signed tree head, commit;
  one writer, SQLite WAL) via :func:`app.petitions.signing.append_signatures`;
* **e2e off / e2e on** — the real endpoint path end to end: :func:`app.petitions.signing.sign`
  (every check, the proof, the append, the receipt after commit) called concurrently from
  ``--threads`` threads in each of the 2 worker processes (like 2 gunicorn workers with
  threads) against one SQLite file, with ``PETITION_BATCH_ENABLED`` off (one proof check and
  one transaction per signature) and on (group commit, :mod:`app.petitions.batcher`).

Printed next to the Revoke-Article-50 peak (about 33 signatures per second) and the
raw ``gmpy2.powmod(r, n, n²)`` floor measured in the same run (per core, and ×2).
``--chunk`` and ``--no-db`` (skip the append and end-to-end parts) are options of
``python -m bench.bench_sign --in-process`` only.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from bench import bench_sign_http
from bench.bench_crypto import floor_rate, generate_key
from bench.bench_sign_http import DEFAULT_BITS, QUICK_BITS, REVOKE_A50_PEAK
from bench.cli_options import add_load_arguments, check_arguments
from crypto.batch import find_invalid
from crypto.blind_rsa import IssuerPrivateKey, IssuerPublicKey
from crypto.credentials import (
    Credential,
    ballot_public_key_bytes,
    begin_credential,
    finish_credential,
    generate_ballot_key,
    issue_blind_signature,
    sign_payload,
    verify_credential,
    verify_payload_signature,
)
from crypto.election import Option
from crypto.encoding import canonical_json, hex_to_bytes
from crypto.paillier import PublicKey
from crypto.petition import (
    EncryptedSignature,
    PetitionParameters,
    check_signature,
    encrypt_signature,
    signature_proof_item,
    verify_signature,
)

WORKERS = 2
SCOPE = "petition:1"

_STATE: dict[str, Any] = {}


def _params(regions: int) -> PetitionParameters:
    return PetitionParameters(SCOPE, "Benchmark", tuple(Option(f"r{i}", f"R{i}") for i in range(regions)))


def _init(n: int, issuer_json: dict[str, Any], regions: int, fingerprint: bytes) -> None:
    _STATE.update(pk=PublicKey(n), ipk=IssuerPublicKey.from_json(issuer_json),
                  params=_params(regions), fp=fingerprint)


def _make(jobs: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """Client side (untimed): encrypt and prove a signature for each ``(token_id, region)``."""
    pk, params, fp = _STATE["pk"], _STATE["params"], _STATE["fp"]
    return [encrypt_signature(pk, params, fp, bytes.fromhex(token), region)[0].to_json()
            for token, region in jobs]


def _cheap(payload: dict[str, Any]) -> tuple[Credential, EncryptedSignature]:
    """The server's checks before the proof: credential, Ed25519, parse, token match."""
    credential = Credential.from_json(payload["credential"])
    verify_credential(_STATE["ipk"], credential, SCOPE)
    sig_obj = payload["signature"]
    verify_payload_signature(credential.ballot_public_key, canonical_json(sig_obj),
                             hex_to_bytes(payload["ed25519_signature"], "ed", 64))
    sig = EncryptedSignature.from_json(sig_obj)
    if sig.to_json() != sig_obj or sig.token_id != credential.token_id:
        raise ValueError("non-canonical or token mismatch")
    return credential, sig


def _verify_individual(payloads: Sequence[dict[str, Any]]) -> int:
    for p in payloads:
        credential, sig = _cheap(p)
        verify_signature(_STATE["pk"], _STATE["params"], _STATE["fp"], sig, credential.token_id)
    return len(payloads)


def _verify_server(payloads: Sequence[dict[str, Any]]) -> int:
    for p in payloads:
        credential, sig = _cheap(p)
        check_signature(_STATE["pk"], _STATE["params"], _STATE["fp"], sig, credential.token_id)
    return len(payloads)


def _verify_batch(payloads: Sequence[dict[str, Any]]) -> int:
    keyed = []
    for i, p in enumerate(payloads):
        credential, sig = _cheap(p)
        keyed.append((i, [signature_proof_item(_STATE["pk"], _STATE["params"], _STATE["fp"], sig,
                                               credential.token_id)]))
    bad = find_invalid(_STATE["pk"], keyed)
    return len(payloads) - len(bad)


def _timed(pool: ProcessPoolExecutor, fn: Callable[[Sequence[dict[str, Any]]], int],
           chunks: list[list[dict[str, Any]]]) -> tuple[float, int]:
    start = time.perf_counter()
    accepted = sum(pool.map(fn, chunks))
    return accepted / (time.perf_counter() - start), accepted


def _append_rate(template: Path, payloads: Sequence[dict[str, Any]], secret: str) -> float:
    """Board appends per second (one writer, SQLite WAL, a signed tree head per append), on a
    copy of the end-to-end database's open petition ``petition:1``."""
    import shutil

    from app import clock, create_app
    from app.db import get_engine, new_session
    from app.petitions import parameters, signing

    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "bench.db"
        shutil.copy(template, db_path)
        app = create_app({"TESTING": True, "SECRET_KEY": secret,
                          "DATABASE_URL": f"sqlite:///{db_path}",
                          "OUTBOX_DIR": str(Path(tmp) / "outbox"), "RATELIMIT_ENABLED": False})
        with app.app_context():
            db = new_session(app)
            entries = [{"kind": "signature", "petition_id": parameters.scope_id(1),
                        "credential": x["credential"], "signature": x["signature"],
                        "ed25519_signature": x["ed25519_signature"], "signed_at": clock.now_ms()}
                       for x in payloads]
            start = time.perf_counter()
            for entry in entries:
                signing.append_signatures(db, 1, [entry])
            rate = len(entries) / (time.perf_counter() - start)
            db.close()
        get_engine(app).dispose()
    return rate


def _e2e_database(path: Path, pk: PublicKey, issuer: IssuerPrivateKey, regions: int,
                  secret: str) -> bytes:
    """An open petition ``petition:1`` whose keys are the benchmark's; returns its fingerprint."""
    from app import create_app
    from app.db import get_engine, new_session
    from app.migrate import upgrade
    from app.models import utcnow
    from app.petitions import drafting, parameters
    from app.petitions.models import PetitionCitizen
    from app.services import users as user_service
    from crypto.paillier import random_unit
    from crypto.threshold import ThresholdPublicKey

    app = create_app({"TESTING": True, "SECRET_KEY": secret, "DATABASE_URL": f"sqlite:///{path}",
                      "OUTBOX_DIR": str(path.parent / "outbox"), "TEST_ISSUER_KEY": issuer,
                      "RATELIMIT_ENABLED": False})
    upgrade(get_engine(app))
    with app.app_context():
        db = new_session(app)
        user = user_service.get_or_create_user(db, "bench@example.org")
        db.add(PetitionCitizen(user_id=user.id, confirmed_at=utcnow()))
        db.flush()
        p, _ = drafting.create_draft(db, user, {"title": "Benchmark", "action": "Benchmark"})
        if parameters.scope_id(p.id) != SCOPE:
            raise RuntimeError("the benchmark petition must be petition:1")
        # a 1-of-1 "threshold" key around the benchmark's n (nothing is ever decrypted)
        key = ThresholdPublicKey(pk, 1, 1, random_unit(pk.nsquare), (random_unit(pk.nsquare),))
        p.regions_json = json.dumps([{"id": r.id, "label": r.label} for r in _params(regions).regions])
        p.election_key_json = json.dumps(key.to_json())
        p.fingerprint_hex = parameters.compute_fingerprint(p).hex()
        p.state = "open"
        p.opened_at = utcnow()
        db.commit()
        fp = bytes.fromhex(p.fingerprint_hex)
        db.close()
    get_engine(app).dispose()
    return fp


def _e2e_worker(db_path: str, secret: str, batching: bool, payloads: Sequence[dict[str, Any]],
                threads: int, start_at: float) -> tuple[int, float, float, int]:
    """One server process: ``threads`` threads call :func:`signing.sign` over ``payloads``."""
    import threading

    from app import create_app
    from app.db import get_engine
    from app.errors import ApiError
    from app.petitions import signing

    app = create_app({"TESTING": True, "SECRET_KEY": secret, "DATABASE_URL": f"sqlite:///{db_path}",
                      "OUTBOX_DIR": str(Path(db_path).parent / "outbox"), "RATELIMIT_ENABLED": False,
                      "PETITION_BATCH_ENABLED": batching})
    lock = threading.Lock()
    todo = list(payloads)
    ok = [0]

    def serve(t: int) -> None:
        while True:
            with lock:
                if not todo:
                    return
                payload = todo.pop()
            try:
                with app.app_context():
                    signing.sign(app, 1, payload)
                with lock:
                    ok[0] += 1
            except ApiError:
                pass

    pool = [threading.Thread(target=serve, args=(t,)) for t in range(threads)]
    time.sleep(max(0.0, start_at - time.time()))
    start = time.time()
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    end = time.time()
    batches = sum(b.batches for b in app.extensions.get("saylau_petition_batchers", {}).values())
    get_engine(app).dispose()
    return ok[0], start, end, batches


def _e2e_rate(template: Path, payloads: Sequence[dict[str, Any]], secret: str, batching: bool,
              threads: int) -> tuple[float, int]:
    """Signatures per second through :func:`signing.sign`, 2 processes × ``threads`` threads."""
    import shutil

    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "e2e.db"
        shutil.copy(template, db_path)
        start_at = time.time() + 3.0  # both processes set up before the clock starts
        with ProcessPoolExecutor(WORKERS) as pool:
            futures = [pool.submit(_e2e_worker, str(db_path), secret, batching,
                                   list(payloads[i::WORKERS]), threads, start_at)
                       for i in range(WORKERS)]
            results = [f.result() for f in futures]
    accepted = sum(r[0] for r in results)
    if accepted != len(payloads):
        raise RuntimeError(f"end to end: {len(payloads) - accepted} valid signatures refused")
    elapsed = max(r[2] for r in results) - min(r[1] for r in results)
    return accepted / elapsed, sum(r[3] for r in results)


def bench_bits(bits: int, count: int, regions: int, chunk: int, *, db: bool = True,
               threads: int = 8) -> dict[str, Any]:
    pk = generate_key(bits)
    issuer = IssuerPrivateKey.generate(2048)
    ipk = issuer.public_key()
    params = _params(regions)
    params.check_key(pk)
    secret = secrets.token_hex(16)
    tmpdir = tempfile.TemporaryDirectory()
    template = Path(tmpdir.name) / "template.db"
    # the petition's fingerprint binds the signatures to the e2e database's petition:1
    fp = _e2e_database(template, pk, issuer, regions, secret) if db else secrets.token_bytes(32)
    floor = floor_rate(pk, 0.5)
    init = (pk.n, ipk.to_json(), regions, fp)
    with ProcessPoolExecutor(WORKERS, initializer=_init, initargs=init) as pool:
        # client side, untimed: credentials (blind-signed by the issuer), then the region
        # encryptions and proofs bound to each credential's token id, in both processes
        wallets = []
        for _ in range(count):
            bsk = generate_ballot_key()
            blinded, state = begin_credential(ipk, SCOPE, ballot_public_key_bytes(bsk))
            wallets.append((bsk, finish_credential(ipk, state, issue_blind_signature(issuer, blinded))))
        jobs = [(cred.token_id.hex(), params.region_ids[i % regions])
                for i, (_, cred) in enumerate(wallets)]
        parts = list(pool.map(_make, [jobs[i::WORKERS] for i in range(WORKERS)]))
        sigs = [parts[i % WORKERS][i // WORKERS] for i in range(count)]
        payloads = [{"credential": cred.to_json(), "signature": sj,
                     "ed25519_signature": sign_payload(bsk, canonical_json(sj)).hex()}
                    for (bsk, cred), sj in zip(wallets, sigs, strict=True)]
        per_worker = [payloads[i::WORKERS] for i in range(WORKERS)]
        individual, ok1 = _timed(pool, _verify_individual, per_worker)
        server, ok3 = _timed(pool, _verify_server, per_worker)
        batch_chunks = [payloads[i:i + chunk] for i in range(0, len(payloads), chunk)]
        batch, ok2 = _timed(pool, _verify_batch, batch_chunks)
    if ok1 != count or ok2 != count or ok3 != count:
        raise RuntimeError("a valid signature was rejected")
    append = _append_rate(template, payloads, secret) if db else float("nan")
    nan = float("nan")
    e2e_off, _ = _e2e_rate(template, payloads, secret, False, threads) if db else (nan, 0)
    e2e_on, batches = _e2e_rate(template, payloads, secret, True, threads) if db else (nan, 0)
    tmpdir.cleanup()
    return {"e2e_off_per_s": e2e_off, "e2e_on_per_s": e2e_on, "e2e_batches": batches,
            "threads": threads, "bits": bits, "regions": regions, "signatures": count, "chunk": chunk,
            "floor_per_core": floor, "floor_2_cores": floor * WORKERS,
            "individual_per_s": individual, "server_per_s": server, "batch_per_s": batch,
            "append_per_s": append,
            "end_to_end_individual": min(individual, append) if db else individual,
            "end_to_end_server": min(server, append) if db else server,
            "end_to_end_batch": min(batch, append) if db else batch,
            "revoke_a50_peak": REVOKE_A50_PEAK}


def _table(rows: list[dict[str, Any]], out: Callable[[str], None]) -> None:
    out(f"{'bits':>5} {'R':>3} {'floor/core':>10} {'floor×2':>8} {'indiv/s':>8} {'server/s':>8} "
        f"{'batch/s':>8} {'append/s':>9} {'e2e server':>10} {'e2e off':>8} {'e2e on':>8} "
        f"{'A50 peak':>8} {'on/A50':>7}")
    for r in rows:
        out(f"{r['bits']:>5} {r['regions']:>3} {r['floor_per_core']:>10.1f} {r['floor_2_cores']:>8.1f} "
            f"{r['individual_per_s']:>8.1f} {r['server_per_s']:>8.1f} {r['batch_per_s']:>8.1f} "
            f"{r['append_per_s']:>9.1f} {r['end_to_end_server']:>10.1f} {r['e2e_off_per_s']:>8.1f} "
            f"{r['e2e_on_per_s']:>8.1f} {r['revoke_a50_peak']:>8.0f} "
            f"{r['e2e_on_per_s'] / r['revoke_a50_peak']:>7.2f}")
    out("indiv/s, server/s, batch/s: signatures per second verified in 2 worker processes "
        "(reference check, the server's check, chunks of --chunk); append/s: board "
        "transactions (1 writer); e2e server = min(server check, append).")
    out("e2e off/on: signing.sign() end to end from 2 processes × --threads threads on one "
        "SQLite file, PETITION_BATCH_ENABLED off/on (on: "
        + ", ".join(f"{r['e2e_batches']} batches for {r['signatures']}" for r in rows) + ").")
    out("Ratios to the floor: individual ≈ floor×2/indiv full exponentiations per signature.")


def run_in_process(*, quick: bool = False, bits: tuple[int, ...] | None = None,
                   signatures: int | None = None, regions: int = 20, chunk: int = 16,
                   db: bool = True, threads: int = 8,
                   out: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """The in-process measurements (``--in-process``; see the module docstring)."""
    sizes = bits or (QUICK_BITS if quick else DEFAULT_BITS)
    count = signatures or (16 if quick else 32)
    rows = []
    for b in sizes:
        out(f"[{b} bits] generating a key and {count} signatures with {regions} regions …")
        rows.append(bench_bits(b, count, regions, chunk, db=db, threads=threads))
    _table(rows, out)
    return rows


def run(*, quick: bool = False, bits: tuple[int, ...] | None = None, signatures: int | None = None,
        regions: int | None = None, in_process: bool = False, chunk: int = 16, db: bool = True,
        clients: int | None = None, nodes: int | None = None, workers: int | None = None,
        threads: int | None = None, batch_max: int | None = None,
        batch_wait_ms: float | None = None, rate: float | None = None,
        out: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """``saylau bench sign``: end to end over HTTP (:mod:`bench.bench_sign_http`), or the
    in-process measurements with ``in_process`` (then the HTTP options must be unset)."""
    if in_process:
        http_only = {"clients": clients, "nodes": nodes, "workers": workers,
                     "batch_max": batch_max,
                     "batch_wait_ms": batch_wait_ms, "rate": rate}
        given = [k for k, v in http_only.items() if v is not None]
        if given:
            raise ValueError(f"not with in_process: {', '.join(given)}")
        return run_in_process(quick=quick, bits=bits, signatures=signatures,
                              regions=20 if regions is None else regions, chunk=chunk, db=db,
                              threads=threads or 8, out=out)
    return bench_sign_http.run(quick=quick, bits=bits, signatures=signatures,
                               regions=20 if regions is None else regions, clients=clients,
                               nodes=nodes, workers=workers, threads=threads,
                               batch_max=batch_max,
                               batch_wait_ms=batch_wait_ms, rate=rate, out=out)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bench.bench_sign``: the options of ``saylau bench sign`` (checked the same
    way), plus ``--chunk`` and ``--no-db`` for ``--in-process``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1024-bit smoke test")
    parser.add_argument("--bits", type=int, nargs="+")
    add_load_arguments(parser)
    parser.add_argument("--chunk", type=int, default=16,
                        help="--in-process: signatures per batch-verification chunk")
    parser.add_argument("--no-db", action="store_true",
                        help="--in-process: skip the board-append and end-to-end measurements")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    error = check_arguments(args, "sign")
    if error is None and args.chunk < 1:
        error = "--chunk must be at least 1"
    if error is None and (args.chunk != 16 or args.no_db) and not args.in_process:
        error = "--chunk and --no-db apply to --in-process only"
    if error is not None:
        print(f"bench_sign: error: {error}", file=sys.stderr)
        return 2
    os.environ.setdefault("PYTHONHASHSEED", "0")
    rows = run(quick=args.quick, bits=tuple(args.bits) if args.bits else None,
               signatures=args.signatures, regions=args.regions, in_process=args.in_process,
               chunk=args.chunk, db=not args.no_db, clients=args.clients, nodes=args.nodes,
               workers=args.workers, threads=args.threads, batch_max=args.batch_max,
               batch_wait_ms=args.batch_wait_ms, rate=args.rate,
               out=(lambda _l: None) if args.json else print)
    if args.json:
        print(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
