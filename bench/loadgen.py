"""A small HTTP load generator: pre-built request bodies POSTed by many client threads.

Clients encrypt on their own devices, so a load test of the ballot box must not spend the
server's cores on encryption: the bodies are built beforehand and only sent here.  Each
client thread keeps one HTTP/1.1 connection (``http.client``) to one node (round robin
over the nodes) and sends its share of the bodies one after another; the latency of each
request is from just before sending to the end of the response (closed loop,
:func:`post_all`).

:func:`post_at_rate` is the open-loop variant: request ``i`` is *due* at ``i / rate`` seconds
after the start, whatever happened to the earlier ones, and its latency is counted from that
due time to the end of its response, so time spent waiting for a free connection counts too
(no "coordinated omission": a slow server cannot hide its queue by slowing the client down).
"""

from __future__ import annotations

import http.client
import queue
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class LoadResult:
    """Outcome of :func:`post_all`: statuses, latencies (s, sorted) and the wall time."""

    statuses: dict[int, int]
    latencies: tuple[float, ...]
    elapsed: float
    bodies: list[bytes] = field(default_factory=list, compare=False)

    @property
    def ok(self) -> int:
        return sum(v for k, v in self.statuses.items() if 200 <= k < 300)

    @property
    def errors(self) -> int:
        return sum(self.statuses.values()) - self.ok

    @property
    def throughput(self) -> float:
        return self.ok / self.elapsed if self.elapsed > 0 else 0.0

    def quantile(self, q: float) -> float:
        if not self.latencies:
            return 0.0
        i = min(len(self.latencies) - 1, max(0, round(q * (len(self.latencies) - 1))))
        return self.latencies[i]


def _connection(base: str) -> http.client.HTTPConnection:
    parts = urllib.parse.urlsplit(base)
    return http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=120)


#: what a kept-alive connection that the server has closed in the meantime raises before any
#: response: the request is sent again once on a new connection, as HTTP clients do (a cast
#: is idempotent: a retry gets the same receipt)
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


def _post(conn: http.client.HTTPConnection, base: str, path: str,
          body: bytes) -> tuple[http.client.HTTPConnection, int, bytes]:
    """One POST on ``conn``; a stale kept-alive connection is replaced and the POST sent once
    more.  Returns the connection to go on with, the status (599: no response) and the body."""
    for attempt in (0, 1):
        try:
            conn.request("POST", urllib.parse.urlsplit(base).path + path, body=body,
                         headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            return conn, response.status, response.read()
        except _STALE:
            conn.close()
            conn = _connection(base)
            if attempt == 1:
                return conn, 599, b""
        except (OSError, http.client.HTTPException):
            conn.close()
            return _connection(base), 599, b""
    raise AssertionError("unreachable")  # pragma: no cover


def post_all(bases: Sequence[str], path: str, bodies: Sequence[bytes], clients: int,
             *, keep_responses: bool = False) -> LoadResult:
    """POST every body once (``clients`` threads, connections spread over ``bases``)."""
    clients = max(1, min(clients, len(bodies)))
    shares = [list(range(i, len(bodies), clients)) for i in range(clients)]
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    responses: list[bytes] = [b""] * len(bodies)
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def client(number: int) -> None:
        base = bases[number % len(bases)]
        conn = _connection(base)
        mine: list[tuple[int, float]] = []
        barrier.wait()
        for i in shares[number]:
            start = time.perf_counter()
            conn, status, data = _post(conn, base, path, bodies[i])
            mine.append((status, time.perf_counter() - start))
            if keep_responses:
                responses[i] = data
        conn.close()
        with lock:
            for status, latency in mine:
                statuses[status] += 1
                latencies.append(latency)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    return LoadResult(dict(statuses), tuple(sorted(latencies)), elapsed,
                      responses if keep_responses else [])


def post_at_rate(bases: Sequence[str], path: str, bodies: Sequence[bytes], rate: float,
                 connections: int, *, clock: Callable[[], float] = time.perf_counter,
                 sleep: Callable[[float], None] = time.sleep) -> LoadResult:
    """POST every body once, open loop: body ``i`` is due at ``start + i / rate``.

    ``connections`` threads (spread over ``bases``) each hold one HTTP/1.1 connection and take
    the next due request; a request that finds every connection busy waits, and that wait is
    part of its latency (measured from its due time).  ``elapsed`` runs from the start to the
    last response, so ``throughput`` is what the server sustained, at most ``rate``.
    """
    if rate <= 0:
        raise ValueError("rate must be positive")
    connections = max(1, min(connections, len(bodies)))
    due: queue.Queue[int | None] = queue.Queue()
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(connections + 1)
    start_box: list[float] = []

    def worker(number: int) -> None:
        base = bases[number % len(bases)]
        conn = _connection(base)
        mine: list[tuple[int, float]] = []
        barrier.wait()
        while (i := due.get()) is not None:
            scheduled = start_box[0] + i / rate
            conn, status, _data = _post(conn, base, path, bodies[i])
            mine.append((status, clock() - scheduled))
        conn.close()
        with lock:
            for status, latency in mine:
                statuses[status] += 1
                latencies.append(latency)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True)
               for i in range(connections)]
    for t in threads:
        t.start()
    start_box.append(clock())
    barrier.wait()
    start = start_box[0]
    for i in range(len(bodies)):
        wait = start + i / rate - clock()
        if wait > 0:
            sleep(wait)
        due.put(i)
    for _ in threads:
        due.put(None)
    for t in threads:
        t.join()
    return LoadResult(dict(statuses), tuple(sorted(latencies)), clock() - start)
