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
    """Outcome of :func:`post_all`: statuses, latencies (s, sorted) and the wall time;
    ``completions``: ``(answered at, latency, status)`` of every request, in seconds from
    the start, in the order they were answered."""

    statuses: dict[int, int]
    latencies: tuple[float, ...]
    elapsed: float
    bodies: list[bytes] = field(default_factory=list, compare=False)
    completions: tuple[tuple[float, float, int], ...] = field(default=(), compare=False)

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
        return _quantile(self.latencies, q)

    def windows(self, width: float) -> list[dict[str, float]]:
        """Per window of ``width`` seconds (by when a request was answered): its start and
        length, the requests answered ok per second, their p50 and p99 latency (ms) and the
        errors — whether a long run held its pace as the board grew.  The last window runs
        to the end (a stretch shorter than half a window is not a window of its own)."""
        if width <= 0:
            raise ValueError("width must be positive")
        # a last stretch shorter than half a window joins the window before it
        count = max(1, int(self.elapsed / width + 0.5))
        latencies: list[list[float]] = [[] for _ in range(count)]
        errors = [0] * count
        for at, latency, status in self.completions:
            w = min(count - 1, max(0, int(at // width)))  # an answer just before the start: 0
            if 200 <= status < 300:
                latencies[w].append(latency)
            else:
                errors[w] += 1
        out = []
        for w in range(count):
            span = (width if w < count - 1 else self.elapsed - w * width) or width
            ok = sorted(latencies[w])
            out.append({"start_s": round(w * width, 3), "span_s": round(span, 3),
                        "per_s": round(len(ok) / span, 2),
                        "p50_ms": round(_quantile(ok, 0.5) * 1000, 1),
                        "p99_ms": round(_quantile(ok, 0.99) * 1000, 1),
                        "errors": errors[w]})
        return out


def _quantile(ordered: Sequence[float], q: float) -> float:
    """The nearest-rank quantile of an ascending sequence (0.0 when empty)."""
    if not ordered:
        return 0.0
    i = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[i]


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
    answered: list[tuple[float, float, int]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def client(number: int) -> None:
        base = bases[number % len(bases)]
        conn = _connection(base)
        mine: list[tuple[int, float, float]] = []
        barrier.wait()
        for i in shares[number]:
            sent = time.perf_counter()
            conn, status, data = _post(conn, base, path, bodies[i])
            done = time.perf_counter()
            mine.append((status, done - sent, done))
            if keep_responses:
                responses[i] = data
        conn.close()
        with lock:
            for status, latency, done in mine:
                statuses[status] += 1
                latencies.append(latency)
                answered.append((done, latency, status))

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    return LoadResult(dict(statuses), tuple(sorted(latencies)), elapsed,
                      responses if keep_responses else [], _from_start(answered, start))


def _from_start(answered: list[tuple[float, float, int]], start: float
                ) -> tuple[tuple[float, float, int], ...]:
    return tuple(sorted((done - start, latency, status) for done, latency, status in answered))


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
    answered: list[tuple[float, float, int]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(connections + 1)
    start_box: list[float] = []

    def worker(number: int) -> None:
        base = bases[number % len(bases)]
        conn = _connection(base)
        mine: list[tuple[int, float, float]] = []
        barrier.wait()
        while (i := due.get()) is not None:
            scheduled = start_box[0] + i / rate
            conn, status, _data = _post(conn, base, path, bodies[i])
            done = clock()
            mine.append((status, done - scheduled, done))
        conn.close()
        with lock:
            for status, latency, done in mine:
                statuses[status] += 1
                latencies.append(latency)
                answered.append((done, latency, status))

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
    return LoadResult(dict(statuses), tuple(sorted(latencies)), clock() - start,
                      completions=_from_start(answered, start))
