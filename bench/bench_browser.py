"""Encrypt and prove a 5-option ballot in headless Chromium vs the Python voter client.

    .venv/bin/python -m bench.bench_browser [--bits 2048 3072] [--runs 3] [--quick]

For each modulus size: a throwaway Paillier key (``phe``), the 1-of-5 manifest of
``bench.bench_verify``, and the same ballot encrypted and proven

* by the Python client (``crypto.ballot.encrypt_ballot``, what ``VoterClient.encrypt`` runs),
* in Chromium by ``saylau-crypto.js`` ``encryptBallot`` — cold (every exponentiation
  at vote time) and warm (after ``PrecomputePool.fill``: what the booth does while
  the voter reads, leaving only the vote-dependent work),

plus one raw ``r^n mod n²`` in each (the floor, fastest of a few).  Medians of ``--runs`` runs, printed
as a table.  The static files are served by a local ``http.server`` on 127.0.0.1 (ES
modules need an http origin); Chromium is ``/usr/bin/chromium`` (never downloaded).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import secrets
import statistics
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import gmpy2

from bench.bench_crypto import generate_key
from bench.bench_verify import OPTIONS, manifest
from crypto.ballot import encrypt_ballot, verify_ballot
from crypto.paillier import PublicKey

STATIC = Path(__file__).resolve().parent.parent / "app" / "static"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

JS_BENCH = """async ({n, manifest, fingerprint, tokenId, choices, runs}) => {
  const sc = await import('/js/saylau-crypto.js');
  const pk = new sc.PaillierPublicKey(BigInt('0x' + n));
  const fp = sc.hexToBytes(fingerprint, 32);
  const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
  const r = sc.randomUnit(pk.n);
  let t;
  let floor = Infinity;
  for (let i = 0; i < 3; i++) {
    t = performance.now();
    sc.modPow(r, pk.n, pk.nsquare);
    floor = Math.min(floor, performance.now() - t);
  }
  const cold = [], warm = [], pre = [];
  let ballot = null;
  for (let i = 0; i < runs; i++) {
    t = performance.now();
    ballot = (await sc.encryptBallot(pk, manifest, fp, tokenId, choices)).ballot;
    cold.push(performance.now() - t);
    const pool = new sc.PrecomputePool(pk);
    const need = sc.poolNeeds(sc.normalizeManifest(manifest));
    t = performance.now();
    await pool.fill(need);
    pre.push(performance.now() - t);
    t = performance.now();
    await sc.encryptBallot(pk, manifest, fp, tokenId, choices, { pool });
    warm.push(performance.now() - t);
  }
  return { floor, cold: median(cold), warm: median(warm), precompute: median(pre), ballot };
}"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass


@contextmanager
def static_server() -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(STATIC))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def python_times(pk: PublicKey, runs: int, fingerprint: bytes, token: bytes,
                 choices: dict[str, list[str]]) -> tuple[float, float]:
    """(median ms of encrypt_ballot, ms of one raw powmod)."""
    m = manifest()
    r = secrets.randbelow(pk.n - 2) + 2
    floor = float("inf")
    for _ in range(5):  # the fastest of five: least disturbed by other load
        t0 = time.perf_counter()
        gmpy2.powmod(r, pk.n, pk.nsquare)
        floor = min(floor, (time.perf_counter() - t0) * 1000)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        encrypt_ballot(pk, m, fingerprint, token, choices)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), floor


def run(bits: Sequence[int], runs: int, out: Any = print) -> list[dict[str, Any]]:
    from playwright.sync_api import sync_playwright

    from crypto.ballot import EncryptedBallot

    rows: list[dict[str, Any]] = []
    m = manifest()
    choices = {"q": ["o2"]}
    with static_server() as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page()
            page.goto(base + "/css/saylau.css")  # any page of the origin
            for b in bits:
                out(f"{b}-bit n: generating a throwaway key …")
                pk = generate_key(b)
                fingerprint, token = secrets.token_bytes(32), secrets.token_bytes(32)
                py_ms, py_floor = python_times(pk, runs, fingerprint, token, choices)
                out(f"{b}-bit n: Chromium ({runs} runs) …")
                js = page.evaluate(JS_BENCH, {
                    "n": format(pk.n, "x"), "manifest": m.to_json(), "fingerprint": fingerprint.hex(),
                    "tokenId": token.hex(), "choices": choices, "runs": runs})
                # the browser's ballot is a valid ballot for the Python verifier
                verify_ballot(pk, m, fingerprint, EncryptedBallot.from_json(js["ballot"]), token)
                rows.append({"bits": b, "python_ms": py_ms, "python_floor_ms": py_floor,
                             "js_cold_ms": js["cold"], "js_warm_ms": js["warm"],
                             "js_precompute_ms": js["precompute"], "js_floor_ms": js["floor"]})
        finally:
            browser.close()
    return rows


def table(rows: Sequence[dict[str, Any]]) -> str:
    head = ("bits", "Python ms", "Chromium cold ms", "Chromium warm ms", "(precompute ms)",
            "cold/Python", "1 powmod Py/JS ms")
    lines = [" | ".join(head), " | ".join("-" * len(h) for h in head)]
    for r in rows:
        lines.append(" | ".join((
            str(r["bits"]), f"{r['python_ms']:.0f}", f"{r['js_cold_ms']:.0f}", f"{r['js_warm_ms']:.0f}",
            f"{r['js_precompute_ms']:.0f}", f"{r['js_cold_ms'] / r['python_ms']:.1f}x",
            f"{r['python_floor_ms']:.1f}/{r['js_floor_ms']:.1f}")))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--bits", type=int, nargs="+", default=[2048, 3072])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="1024 bits, one run")
    args = parser.parse_args(argv)
    bits, runs = ([1024], 1) if args.quick else (args.bits, max(1, args.runs))
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is not installed", file=sys.stderr)
        return 2
    rows = run(bits, runs, out=lambda s: print(s, file=sys.stderr))
    print(f"Encrypt + prove one {OPTIONS}-option (1-of-{OPTIONS}) ballot, median of {runs}:")
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
