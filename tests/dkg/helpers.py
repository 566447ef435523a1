"""Helpers for the distributed key generation tests.

``planted(params)`` makes trustee classes whose *first* candidate of the first sieve batch
is a planted biprime ``p·q`` (each trustee holds an additive share of ``p`` and ``q`` of
the D1 form); everything else — BGW, the opening of ``N``, trial division, the
Boneh–Franklin test, θ, the re-sharing and the confirmation — runs unchanged.  This
keeps a 1024-bit run to a few seconds instead of ~30 000 random candidates
(the unplanted sieve is tested at 512 bits and measured in bench/bench_keygen.py).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from typing import Any

import gmpy2

from crypto.dkg.channel import Channel, Identity, MemoryRelay, Relay
from crypto.dkg.params import DkgParams
from crypto.dkg.protocol import DkgParty, DkgResult


def planted_prime(params: DkgParams) -> int:
    """A prime ``≡ 3 (mod 4)`` in the lower half of ``[3·2^(h−2), 3·2^(h−2) + range)``."""
    base = 3 << (params.half - 2)
    x = base + params.share_range // 4 + secrets.randbelow(params.share_range // 4)
    while True:
        x = int(gmpy2.next_prime(x))
        if x % 4 == 3:
            return x


def additive(total: int, params: DkgParams) -> list[int]:
    """Shares of D1 form: ``p_i ≡ 0 (mod 4)`` small for ``i > 1``; ``p_1`` the rest."""
    small = params.share_range // (4 * params.trustees)
    rest = [4 * secrets.randbelow(small // 4) for _ in range(params.trustees - 1)]
    return [total - sum(rest), *rest]


def planted(params: DkgParams, base: type[DkgParty] = DkgParty) -> tuple[type[DkgParty], int]:
    """A party class planting one biprime, and that biprime ``N``."""
    p, q = planted_prime(params), planted_prime(params)
    ps, qs = additive(p, params), additive(q, params)

    class Planted(base):  # type: ignore[valid-type, misc]
        _planted = False

        def _candidates(self, count: int) -> tuple[list[int], list[int]]:
            a, b = super()._candidates(count)
            if not self._planted:
                self._planted = True
                a[0], b[0] = ps[self.index - 1], qs[self.index - 1]
            return a, b

    return Planted, p * q


def run_parties(params: DkgParams, relay_for: Callable[[int], Relay],
                classes: dict[int, type[DkgParty]], *, election: str = "e1",
                run: str = "r1", timeout: float = 60.0,
                runner: Callable[[int, Any], DkgResult] | None = None
                ) -> tuple[dict[int, DkgResult], dict[int, BaseException]]:
    """Run every trustee in its own thread; return results and errors by index."""
    results: dict[int, DkgResult] = {}
    errors: dict[int, BaseException] = {}

    def go(i: int) -> None:
        try:
            if runner is not None:
                results[i] = runner(i, classes[i])
                return
            identity = Identity.generate(i)
            channel = Channel(identity, relay_for(i), election=election, run=run,
                              timeout=timeout, poll=0.005)
            results[i] = classes[i](params, identity, channel).run()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors[i] = exc

    threads = [threading.Thread(target=go, args=(i,)) for i in classes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


def memory_run(params: DkgParams, classes: dict[int, type[DkgParty]], **kw: Any
               ) -> tuple[dict[int, DkgResult], dict[int, BaseException]]:
    relay = MemoryRelay()
    return run_parties(params, lambda _i: relay, classes, **kw)
