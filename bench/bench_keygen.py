"""``saylau bench keygen``: distributed key generation (docs §4.7) over a real HTTP relay.

The app is served on 127.0.0.1 (SQLite in a temporary folder); each trustee is its own
**process** (as on separate machines), logs in with its trustee account and runs
``saylau trustee keygen``'s code.  Reported per modulus size: wall-clock seconds,
candidates tried, bytes each trustee sent, and the time as a ratio to the raw
``gmpy2.powmod(r, n, n²)`` floor of that size (DESIGN §7).  The candidate count is
random (geometric): single runs vary by a factor of several.  ``cpu_seconds_all_processes``
(server + trustees) does not depend on the machine's load; the wall time does.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import secrets
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gmpy2

PASSWORD = "bench trustee password"


def _powmod_floor(bits: int) -> float:
    n = gmpy2.next_prime(secrets.randbits(bits // 2) | (1 << (bits // 2 - 1))) * \
        gmpy2.next_prime(secrets.randbits(bits // 2) | (1 << (bits // 2 - 1)))
    nn = n * n
    r = secrets.randbelow(int(n))
    times = []
    for _ in range(7):
        t0 = time.perf_counter()
        gmpy2.powmod(r, n, nn)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _trustee(base: str, election: str, index: int, bits: int, trustees: int, threshold: int,
             queue: Any) -> None:
    from crypto.dkg.params import DkgParams
    from saylau.cmd_keygen import run_trustee
    from saylau.voter_client import VoterClient

    try:
        client = VoterClient(base, timeout=600)
        client.login(f"t{index}@bench.invalid", PASSWORD)
        params = DkgParams(bits, trustees, threshold, allow_test_key=bits < 2048)
        t0, cpu0 = time.monotonic(), time.process_time()
        result = run_trustee(client, election=election, run="bench", index=index,
                             params=params, upload=False, timeout=3600,
                             progress=(lambda text: print(text, flush=True))
                             if index == 1 else None)
        queue.put((index, {"seconds": time.monotonic() - t0, "candidates": result.candidates,
                           "cpu_seconds": time.process_time() - cpu0,
                           "bytes_sent": result.bytes_sent,
                           "fingerprint": result.public_key.fingerprint().hex()}))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        queue.put((index, {"error": repr(exc)}))


def measure(bits: int, trustees: int = 3, threshold: int = 2) -> dict[str, Any]:
    """One run at ``bits`` bits; the trustees are separate processes."""
    import logging

    from werkzeug.serving import make_server

    from app import create_app
    from app.db import get_engine, new_session
    from app.migrate import upgrade
    from app.services import users as user_service
    from saylau.voter_client import VoterClient

    with tempfile.TemporaryDirectory(prefix="saylau-bench-keygen-") as tmp:
        app = create_app({"SECRET_KEY": secrets.token_hex(16),
                          "DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.db'}",
                          "OUTBOX_DIR": str(Path(tmp) / "outbox"), "TESTING": True,
                          "FAST_PASSWORD_HASH": True, "RATELIMIT_ENABLED": False,
                          "SESSION_COOKIE_SECURE": False, "ALLOW_TEST_KEYS": True})
        upgrade(get_engine(app))
        with app.app_context():
            db = new_session(app)
            user_service.get_or_create_user(db, "official@bench.invalid", "Official",
                                            ("official",), password=PASSWORD)
            for i in range(1, trustees + 1):
                user_service.get_or_create_user(db, f"t{i}@bench.invalid", "Trustee",
                                                ("trustee",), password=PASSWORD)
            db.commit()
            db.close()
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        base = f"http://127.0.0.1:{server.server_port}"
        try:
            official = VoterClient(base)
            official.login("official@bench.invalid", PASSWORD)
            official.api("POST", "/api/v1/elections", {
                "id": "bench", "title": "bench", "questions": [
                    {"id": "q", "title": "q", "min_selections": 1, "max_selections": 1,
                     "options": [{"id": "a", "label": "a"}, {"id": "b", "label": "b"}]}]})
            ctx = mp.get_context("spawn")
            queue = ctx.Queue()
            t0, cpu0 = time.monotonic(), time.process_time()
            procs = [ctx.Process(target=_trustee, args=(base, "bench", i, bits, trustees,
                                                        threshold, queue))
                     for i in range(1, trustees + 1)]
            for p in procs:
                p.start()
            outcome = dict(queue.get() for _ in procs)
            for p in procs:
                p.join()
            wall = time.monotonic() - t0
            server_cpu = time.process_time() - cpu0
        finally:
            server.shutdown()
            get_engine(app).dispose()
    errors = {i: o["error"] for i, o in outcome.items() if "error" in o}
    if errors:
        raise RuntimeError(f"trustee errors: {errors}")
    if len({o["fingerprint"] for o in outcome.values()}) != 1:
        raise RuntimeError("trustees ended with different keys")
    floor = _powmod_floor(bits)
    return {"bits": bits, "trustees": trustees, "threshold": threshold,
            "seconds": round(wall, 1), "candidates": outcome[1]["candidates"],
            "cpu_seconds_all_processes": round(server_cpu + sum(o["cpu_seconds"]
                                                                for o in outcome.values()), 1),
            "load_average_1min": round(os.getloadavg()[0], 1),
            "bytes_sent_per_trustee": max(o["bytes_sent"] for o in outcome.values()),
            "powmod_floor_s": floor, "ratio_to_floor": round(wall / floor)}


def run(*, quick: bool = False, bits: tuple[int, ...] | None = None,
        out: Callable[[str], None] = print) -> list[dict[str, Any]]:
    sizes = (512,) if quick else (bits or (2048, 3072))
    results = []
    for b in sizes:
        out(f"distributed key generation, {b} bits, 3 trustees (threshold 2) ...")
        res = measure(b)
        out(f"  {res['seconds']} s, {res['candidates']} candidates, "
            f"{res['bytes_sent_per_trustee'] / 1e6:.1f} MB sent per trustee, "
            f"{res['ratio_to_floor']}x the powmod floor")
        results.append(res)
    return results
