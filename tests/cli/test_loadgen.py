"""The load generator of ``saylau bench cast`` (bench/loadgen.py) against a small local server:
every body is sent exactly once, statuses are counted, and the open-loop mode keeps its
schedule and counts the time a request waits for a connection as latency."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.loadgen import post_all, post_at_rate
from saylau.cli import main


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    received: list[bytes]
    delay: float


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append(body)
        time.sleep(self.server.delay)
        status = 201 if int(body) % 2 == 0 else 409
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server(("127.0.0.1", 0), _Handler)
    srv.received = []
    srv.delay = 0.0
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _base(srv: _Server) -> str:
    return f"http://127.0.0.1:{srv.server_address[1]}"


BODIES = [str(i).encode() for i in range(12)]


def test_closed_loop_sends_every_body_once(server: _Server) -> None:
    result = post_all([_base(server)], "/x", BODIES, clients=3)
    assert sorted(server.received, key=int) == BODIES
    assert result.statuses == {201: 6, 409: 6}
    assert (result.ok, result.errors) == (6, 6)
    assert len(result.latencies) == 12


def test_open_loop_sends_every_body_once(server: _Server) -> None:
    result = post_at_rate([_base(server)], "/x", BODIES, rate=200.0, connections=3)
    assert sorted(server.received, key=int) == BODIES
    assert result.statuses == {201: 6, 409: 6}
    assert len(result.latencies) == 12
    assert list(result.latencies) == sorted(result.latencies)


def test_open_loop_keeps_its_schedule(server: _Server) -> None:
    """Body ``i`` is not sent before ``i / rate``: 10 bodies at 20/s take at least 0.45 s
    even though the server answers at once."""
    result = post_at_rate([_base(server)], "/x", BODIES[:10], rate=20.0, connections=4)
    assert result.elapsed >= 9 / 20
    assert result.throughput <= 20.0
    assert len(server.received) == 10


def test_open_loop_counts_the_wait_for_a_connection(server: _Server) -> None:
    """One connection, a server taking 50 ms, 8 bodies due within 35 ms: the last one cannot
    be answered before 8 × 50 ms, so its latency (from its due time) is at least 0.4 − 0.035 s;
    a closed loop would have measured about 50 ms for every request."""
    server.delay = 0.05
    result = post_at_rate([_base(server)], "/x", BODIES[:8], rate=200.0, connections=1)
    assert result.latencies[-1] >= 8 * 0.05 - 7 / 200
    closed = post_all([_base(server)], "/x", BODIES[:8], clients=1)
    assert closed.latencies[-1] < result.latencies[-1]


def test_open_loop_counts_connection_failures() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    result = post_at_rate([f"http://127.0.0.1:{port}"], "/x", BODIES[:3], rate=100.0,
                          connections=2)
    assert result.statuses == {599: 3}
    assert result.ok == 0 and result.throughput == 0.0


def test_open_loop_spreads_connections_over_nodes(server: _Server) -> None:
    other = _Server(("127.0.0.1", 0), _Handler)
    other.received, other.delay = [], 0.0
    thread = threading.Thread(target=other.serve_forever, daemon=True)
    thread.start()
    try:
        post_at_rate([_base(server), _base(other)], "/x", BODIES, rate=500.0, connections=2)
    finally:
        other.shutdown()
        other.server_close()
    assert sorted(server.received + other.received, key=int) == BODIES
    assert server.received and other.received


@pytest.mark.parametrize("rate", [0.0, -1.0])
def test_open_loop_refuses_a_rate_that_is_not_positive(rate: float) -> None:
    with pytest.raises(ValueError, match=r"^rate must be positive$"):
        post_at_rate(["http://127.0.0.1:1"], "/x", BODIES, rate=rate, connections=1)


@pytest.mark.parametrize("value", ["0", "-5", "nan"])
def test_bench_cast_refuses_a_rate_that_is_not_positive(value: str,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    assert main(["bench", "cast", "--rate", value]) == 2
    assert "saylau bench: error: --rate must be positive" in capsys.readouterr().err


class _ClosingHandler(_Handler):
    """Answers over HTTP/1.1 without ``Connection: close`` and then closes the connection,
    as a server does whose keep-alive timeout ran out between two requests."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        super().do_POST()
        self.close_connection = True


@pytest.mark.parametrize("open_loop", [False, True])
def test_a_connection_the_server_closed_is_reopened(open_loop: bool) -> None:
    srv = _Server(("127.0.0.1", 0), _ClosingHandler)
    srv.received, srv.delay = [], 0.0
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        if open_loop:
            result = post_at_rate([_base(srv)], "/x", BODIES, rate=500.0, connections=2)
        else:
            result = post_all([_base(srv)], "/x", BODIES, clients=2)
    finally:
        srv.shutdown()
        srv.server_close()
    assert result.statuses == {201: 6, 409: 6}
    assert sorted(srv.received, key=int) == BODIES


def test_every_answer_is_on_the_timeline_in_its_window(server: _Server) -> None:
    """10 bodies at 20/s: each answer is kept with when it came and its status, and the
    per-window figures of a long run (``bench cast``'s timeline) add up to the totals."""
    result = post_at_rate([_base(server)], "/x", BODIES[:10], rate=20.0, connections=2)
    assert len(result.completions) == 10
    assert [s for _, _, s in result.completions].count(201) == 5
    assert sorted(lat for _, lat, _ in result.completions) == list(result.latencies)
    ats = [at for at, _, _ in result.completions]
    assert ats == sorted(ats) and 0 <= ats[0] and ats[-1] <= result.elapsed + 1e-6
    windows = result.windows(0.1)
    assert sum(w["errors"] for w in windows) == 5
    assert sum(round(w["per_s"] * w["span_s"]) for w in windows) == 5
    assert abs(sum(w["span_s"] for w in windows) - result.elapsed) < 1e-2
    closed = post_all([_base(server)], "/x", BODIES[:4], clients=2)
    assert len(closed.completions) == 4


def test_windows_split_a_run_by_answer_time() -> None:
    from bench.loadgen import LoadResult

    completions = ((0.5, 0.1, 201), (0.7, 0.3, 201), (1.2, 2.0, 201), (1.9, 0.2, 500))
    result = LoadResult({201: 3, 500: 1}, tuple(sorted(c[1] for c in completions)), 2.0,
                        completions=completions)
    first, second = result.windows(1.0)
    assert (first["start_s"], first["per_s"], first["errors"]) == (0.0, 2.0, 0)
    assert (first["p50_ms"], first["p99_ms"]) == (100.0, 300.0)
    assert (second["per_s"], second["p99_ms"], second["errors"]) == (1.0, 2000.0, 1)
    # 2.3 s in windows of 1 s: the last 0.3 s joins the second window
    longer = LoadResult(result.statuses, result.latencies, 2.3,
                        completions=completions + ((2.2, 0.4, 201),))
    assert [(w["start_s"], w["span_s"]) for w in longer.windows(1.0)] == [(0.0, 1.0), (1.0, 1.3)]
    assert longer.windows(1.0)[1]["per_s"] == round(2 / 1.3, 2)
    # an answer timed just before the start (a refused connection) falls in the first window
    early = LoadResult({599: 1}, (0.001,), 1.0, completions=((-0.002, 0.001, 599),))
    assert [w["errors"] for w in early.windows(0.5)] == [1, 0]
    with pytest.raises(ValueError):
        result.windows(0)
