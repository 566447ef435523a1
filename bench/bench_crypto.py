"""``saylau bench crypto``: encryption, proving and verifying a 0/1 option.

Each rate is reported in operations per second and as a ratio to the raw floor
``gmpy2.powmod(r, n, n²)`` (one full exponentiation) measured in the same run:
``cost = floor_rate / rate`` is the operation's cost in full exponentiations.
The Paillier key is generated in the benchmark with ``phe`` (a few seconds).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

import gmpy2
from phe import paillier as phe_paillier

from crypto.paillier import PublicKey, encrypt
from crypto.proofs import DOMAIN_OPTION, MembershipProof, prove_membership, verify_membership

DEFAULT_BITS = (2048, 3072)
QUICK_BITS = (1024,)
CONTEXT = (("election_id", "bench"), ("question_id", "q"), ("option_id", "o"),
           ("token_id", "00" * 32))


def rate(fn: Callable[[], object], seconds: float, min_ops: int = 3) -> float:
    """Operations per second of ``fn`` over about ``seconds`` (at least ``min_ops`` calls)."""
    ops = 0
    start = time.perf_counter()
    while True:
        fn()
        ops += 1
        elapsed = time.perf_counter() - start
        if ops >= min_ops and elapsed >= seconds:
            return ops / elapsed


def generate_key(bits: int) -> PublicKey:
    public, _ = phe_paillier.generate_paillier_keypair(n_length=bits)
    return PublicKey(public.n)


def floor_rate(pk: PublicKey, seconds: float) -> float:
    """Raw ``r^n mod n²`` exponentiations per second."""
    n, nn = pk.n, pk.nsquare
    r = secrets.randbelow(n - 2) + 2
    return rate(lambda: gmpy2.powmod(r, n, nn), seconds)


def bench_bits(bits: int, seconds: float) -> dict[str, Any]:
    t0 = time.perf_counter()
    pk = generate_key(bits)
    keygen = time.perf_counter() - t0
    fingerprint = secrets.token_bytes(32)
    floor = floor_rate(pk, seconds)
    c, r = encrypt(pk, 1)

    def prove() -> MembershipProof:
        return prove_membership(pk, c, r, 1, (0, 1), domain=DOMAIN_OPTION,
                                fingerprint=fingerprint, context=CONTEXT)

    proof = prove()

    def verify() -> None:
        verify_membership(pk, c, (0, 1), proof, domain=DOMAIN_OPTION, fingerprint=fingerprint,
                          context=CONTEXT)

    rows = {
        "encrypt": rate(lambda: encrypt(pk, 1), seconds),
        "prove 0/1": rate(prove, seconds),
        "verify 0/1": rate(verify, seconds),
    }
    return {
        "bits": bits,
        "keygen_s": round(keygen, 2),
        "floor_ops_per_s": round(floor, 1),
        "ops": {name: {"ops_per_s": round(value, 1),
                       "cost_in_full_exponentiations": round(floor / value, 2)}
                for name, value in rows.items()},
    }


def run(*, quick: bool = False, bits: tuple[int, ...] | None = None,
        seconds: float | None = None, out: Callable[[str], None] = print) -> list[dict[str, Any]]:
    sizes = bits or (QUICK_BITS if quick else DEFAULT_BITS)
    secs = seconds if seconds is not None else (0.05 if quick else 1.0)
    results = []
    for b in sizes:
        out(f"{b}-bit n: generating the Paillier key with phe …")
        res = bench_bits(b, secs)
        results.append(res)
        out(f"  keygen {res['keygen_s']} s; floor powmod(r, n, n^2): "
            f"{res['floor_ops_per_s']} /s")
        for name, row in res["ops"].items():
            out(f"  {name:<12} {row['ops_per_s']:>10} /s   = "
                f"{row['cost_in_full_exponentiations']:>6} × floor")
    return results
