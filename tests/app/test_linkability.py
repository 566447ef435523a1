"""The administrator's linking attack (docs §"Linkability"): N voters follow the booth's flow,
then everything the database, the server's logs and the public record hold is used to link
ballots to voters.

Under the default policy ("period": credentials in a credential period, voting after it)
every ballot's anonymity set is the whole roll, so no strategy links better than chance
(1/N per ballot).  The same attack on the old flow ("any_time", credential and cast at
once, no delay) links every ballot — which shows the attack has teeth.  The petition figure
is reported too, with what remains.
"""

from __future__ import annotations

import datetime as dt
import http.client
import http.server
import json
import logging
import random
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select

from app.db import Base, new_session
from app.models import Election
from app.services import elections as election_service
from saylau.voter_client import VoterClient, Wallet
from tests.app.helpers import VOTER_PASSWORD, roll_key, setup_election

N_VOTERS = 12
CHOICES = ({"mayor": ["a"], "ref": ["yes"]}, {"mayor": ["b"], "ref": ["no"]},
           {"mayor": ["c"], "ref": ["yes"]})


def _address(i: int) -> str:
    return f"198.51.100.{10 + i}"


def addressed_transport(client: Any, addr: str) -> Any:
    """A voter-client transport over Flask's test client from the network address ``addr``."""

    def send(method: str, path: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, bytes]:
        response = client.open(path, method=method, data=body, headers=headers,
                               environ_base={"REMOTE_ADDR": addr})
        return response.status_code, response.get_data()

    return send


class _Capture(logging.Handler):
    """The server's logs, as an operator would keep them (everything, DEBUG and up)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # noqa: BLE001 - a log line that cannot format is still no leak
            self.lines.append(str(record.msg))


@pytest.fixture()
def server_logs() -> Iterator[_Capture]:
    handler = _Capture()
    root = logging.getLogger()
    old = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old)


@dataclass
class AdminView:
    """Everything the operator holds after the election: database, logs, public record."""

    tables: dict[str, list[dict[str, Any]]]
    logs: list[str]
    record: list[dict[str, Any]]
    emails: list[str] = field(default_factory=list)


def _dump(app: Any) -> dict[str, list[dict[str, Any]]]:
    with app.app_context():
        db = new_session(app)
        try:
            return {t.name: [dict(r._mapping) for r in db.execute(select(t)).all()]
                    for t in Base.metadata.sorted_tables}
        finally:
            db.close()


def _times(row: dict[str, Any]) -> list[float]:
    """Every time-like value of a row, as seconds since the epoch (the attacker's reading)."""
    out: list[float] = []
    for key, value in row.items():
        if isinstance(value, dt.datetime):
            v = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
            out.append(v.timestamp())
        elif isinstance(value, int) and key.endswith("_ms"):
            out.append(value / 1000)
        elif isinstance(value, str) and len(value) >= 10 and value[:4].isdigit() and value[4] == "-":
            try:
                v = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            out.append((v if v.tzinfo else v.replace(tzinfo=dt.UTC)).timestamp())
    return out


@dataclass(frozen=True)
class Linking:
    """The attack's outcome: per-ballot anonymity sets and the hits of concrete strategies."""

    n: int
    anonymity: list[int]   # per ballot: voters consistent with every hard constraint
    time_hits: int          # nearest preceding identified event
    order_hits: int         # issuance order == board order
    address_hits: int       # a voter's address seen next to the ballot

    @property
    def best_hits(self) -> int:
        return max(self.time_hits, self.order_hits, self.address_hits)


def attack(view: AdminView, truth: dict[int, int], *, user_table: str, issuance_table: str,
           board_table: str, ballot_kind: str, addresses: dict[int, str]) -> Linking:
    """Link board entries (leaf index) to user ids with everything in ``view``.

    ``truth`` (leaf index -> user id) is only used to score the guesses.
    """
    users = {r["id"]: r for r in view.tables[user_table]}
    voters = sorted(set(truth.values()))
    # identified events: every row that names a voter (user_id), with its times
    events: dict[int, list[float]] = {v: [] for v in voters}
    for name, rows in view.tables.items():
        for row in rows:
            uid = row.get("user_id")
            if uid in events and name != user_table:
                events[uid].extend(_times(row))
    issuance = {r["user_id"]: r for r in view.tables[issuance_table] if r["user_id"] in events}
    ballots = sorted((r for r in view.tables[board_table] if r["kind"] == ballot_kind),
                     key=lambda r: r["leaf_index"])
    ballot_time = {r["leaf_index"]: max(_times(r) or [0.0]) for r in ballots}
    # hard constraint: the voter's credential existed before the ballot (a coarse period or
    # slot start can only say "not after")
    anonymity = []
    for b in ballots:
        ok = 0
        for v in voters:
            period = issuance[v].get("issued_period")
            issued = _times({"p": period}) if isinstance(period, str) else []
            if not issued or issued[0] <= ballot_time[b["leaf_index"]]:
                ok += 1
        anonymity.append(ok)
    # strategy 1: the voter whose latest identified event most closely precedes the ballot
    time_hits = 0
    for b in ballots:
        t = ballot_time[b["leaf_index"]]
        best, best_t = None, -1.0
        for v in voters:
            before = [e for e in events[v] if e <= t]
            if before and max(before) > best_t:
                best, best_t = v, max(before)
        time_hits += int(best == truth[b["leaf_index"]])
    # strategy 2: the k-th credential issued is the k-th ballot on the board
    by_issuance = sorted(voters, key=lambda v: issuance[v]["id"])
    order_hits = sum(int(by_issuance[k] == truth[b["leaf_index"]])
                     for k, b in enumerate(ballots) if k < len(by_issuance))
    # strategy 3: a voter's address anywhere in the logs or the database
    haystack = "\n".join(view.logs) + json.dumps(view.tables, default=str)
    address_hits = sum(int(addresses[v] in haystack) for v in voters)
    del users
    return Linking(len(voters), anonymity, time_hits, order_hits, address_hits)


def _report(label: str, result: Linking) -> str:
    line = (f"{label}: {result.n} voters; anonymity set per ballot min {min(result.anonymity)} "
            f"of {result.n}; ballots linked: by time {result.time_hits}/{result.n}, by order "
            f"{result.order_hits}/{result.n}, by address {result.address_hits}/{result.n}; "
            f"chance = 1/{result.n} per ballot ({100 / result.n:.1f} %)")
    print(line)
    return line


def _run_election(app: Any, policy: str, seed: int) -> tuple[AdminView, dict[int, int], dict[int, str]]:
    """N voters through the booth's flow (the Python client); returns the admin's view."""
    rng = random.Random(seed)
    emails = setup_election(app, voters=N_VOTERS, credential_policy=policy)
    http = app.test_client()
    with app.app_context():
        db = new_session(app)
        try:
            uid = {e: db.scalar(select(Base.metadata.tables["users"].c.id).where(
                Base.metadata.tables["users"].c.email == e)) for e in emails}
        finally:
            db.close()
    addresses = {uid[e]: _address(i) for i, e in enumerate(emails)}
    wallets: dict[str, Wallet] = {}
    truth: dict[int, int] = {}

    def client_of(email: str) -> VoterClient:
        return VoterClient("http://localhost",
                           transport=addressed_transport(http, addresses[uid[email]]),
                           roll_key=roll_key(email))

    def cast(email: str, wallet: Wallet) -> None:
        vc = client_of(email)  # anonymous: no login
        election = vc.get_election("e1")
        receipt = vc.cast(election, wallet, CHOICES[rng.randrange(len(CHOICES))])
        truth[receipt["index"]] = uid[email]

    if policy == "period":
        # the credential period: each voter, at a moment of their choosing, saves a card
        for email in rng.sample(emails, len(emails)):
            vc = client_of(email)
            vc.login(email, VOTER_PASSWORD)
            wallets[email] = vc.obtain_credential(vc.get_election("e1"))
        with app.app_context():
            db = new_session(app)
            try:
                election_service.start_voting(db, db.get(Election, "e1"))
                db.commit()
            finally:
                db.close()
        # voting: each voter casts with their card, whenever they like
        for email in rng.sample(emails, len(emails)):
            cast(email, wallets[email])
    else:
        # the old flow: log in, get the credential and cast at once, one voter after another
        for email in rng.sample(emails, len(emails)):
            vc = client_of(email)
            vc.login(email, VOTER_PASSWORD)
            wallet = vc.obtain_credential(vc.get_election("e1"))
            cast(email, wallet)
    record = http.get("/api/v1/elections/e1/board?limit=500").get_json()["entries"]
    return AdminView(_dump(app), [], record, emails), truth, addresses


def test_admin_cannot_link_ballots_under_the_default_policy(app, server_logs, capsys):
    view, truth, addresses = _run_election(app, "period", seed=12)
    view.logs = list(server_logs.lines)
    result = attack(view, truth, user_table="users", issuance_table="credential_issuance",
                    board_table="board_entries", ballot_kind="ballot", addresses=addresses)
    with capsys.disabled():
        _report("elections, default policy (credential period)", result)
    assert len(truth) == N_VOTERS
    # every ballot could be anyone's: the best any strategy can do is chance (1/N)
    assert result.anonymity == [N_VOTERS] * N_VOTERS
    assert result.address_hits == 0
    issued = {r["issued_period"] for r in view.tables["credential_issuance"]}
    assert issued == {"credential-period"}
    # nearest-preceding-time collapses onto one voter: at most their own ballot is right
    assert result.time_hits <= 1


def test_the_attack_links_everything_when_credential_and_cast_come_together(app, server_logs,
                                                                             capsys):
    """The old flow (any time, no delay): the same attack links every ballot."""
    view, truth, addresses = _run_election(app, "any_time", seed=12)
    view.logs = list(server_logs.lines)
    result = attack(view, truth, user_table="users", issuance_table="credential_issuance",
                    board_table="board_entries", ballot_kind="ballot", addresses=addresses)
    with capsys.disabled():
        _report("elections, any_time, credential and cast at once", result)
    # board times are coarse (BOARD_TIME_GRANULARITY_S), but the order still gives it away
    assert result.order_hits == N_VOTERS
    # what we removed still holds here: no microsecond issuance time, no address
    assert result.address_hits == 0
    assert all(r["issued_period"].endswith("T00:00:00Z")
               for r in view.tables["credential_issuance"])


def test_petition_linking_figure(tmp_path, issuer_test_key, server_logs, capsys):
    """Petitions: the page signs right after obtaining the credential.  No address and no
    precise issuance time is kept, but the order of the signers' register and of the board
    still match, and so do the login times: this is what remains (docs)."""
    from app.db import get_engine
    from tests.app.petitions_helpers import citizen, moderator, open_petition, sign

    application = petition_app_for(tmp_path, issuer_test_key)
    try:
        http = application.test_client()
        mod = moderator(application, http)
        pid, _ = open_petition(application, http, mod)
        rng = random.Random(7)
        emails = [f"signer{i}@example.org" for i in range(N_VOTERS)]
        headers = {e: citizen(application, http, e) for e in emails}
        truth: dict[int, int] = {}
        dump = _dump(application)
        uid = {r["email"]: r["id"] for r in dump["users"]}
        addresses = {uid[e]: _address(i) for i, e in enumerate(emails)}
        for email in rng.sample(emails, len(emails)):
            receipt = sign(http, headers[email], pid, "almaty")
            truth[receipt["index"]] = uid[email]
        view = AdminView(_dump(application), list(server_logs.lines), [])
        result = attack(view, truth, user_table="users", issuance_table="petition_signers",
                        board_table="petition_board", ballot_kind="signature",
                        addresses=addresses)
        with capsys.disabled():
            _report("petitions, sign right after the credential", result)
        assert result.address_hits == 0
        assert not any(r["kind"] == "signature" for r in view.tables["petition_rate_events"])
        assert all(r["issued_period"].endswith("T00:00:00Z") for r in view.tables["petition_signers"])
    finally:
        get_engine(application).dispose()


def petition_app_for(tmp_path: Any, issuer_key: Any) -> Any:
    from tests.app.petitions_helpers import petition_app

    return petition_app(f"sqlite:///{tmp_path / 'link.db'}", tmp_path, issuer_key)


# -- casting through an anonymizing proxy ----------------------------------------------------
class _ForwardingProxy(http.server.ThreadingHTTPServer):
    seen: list[str]


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
    """A minimal forwarding HTTP proxy (absolute-URI requests), standing for Tor/a VPN."""

    server: _ForwardingProxy

    def _forward(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        self.server.seen.append(f"{self.command} {url.path}")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port or 80, timeout=60)
        path = url.path + (f"?{url.query}" if url.query else "")
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in {"proxy-connection", "connection", "host"}}
        conn.request(self.command, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        self.send_response(response.status)
        for key, value in response.getheaders():
            if key.lower() not in {"transfer-encoding", "connection", "content-length"}:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        conn.close()

    do_GET = _forward
    do_POST = _forward

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return


def test_casting_works_through_an_http_proxy(app, tmp_path, monkeypatch):
    from tests.app.test_concurrency import _serve

    for name in ("no_proxy", "NO_PROXY", "http_proxy", "HTTP_PROXY"):
        monkeypatch.delenv(name, raising=False)
    setup_election(app, credential_policy="period")
    server, url = _serve(app)
    proxy = _ForwardingProxy(("127.0.0.1", 0), _ProxyHandler)
    proxy.seen = []
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    proxy_url = f"http://127.0.0.1:{proxy.server_address[1]}"
    try:
        direct = VoterClient(url, roll_key=roll_key("voter1@example.org"))
        direct.login("voter1@example.org", VOTER_PASSWORD)
        wallet = direct.obtain_credential(direct.get_election("e1"))
        with app.app_context():
            db = new_session(app)
            try:
                election_service.start_voting(db, db.get(Election, "e1"))
                db.commit()
            finally:
                db.close()
        via = VoterClient(url, proxy=proxy_url)
        receipt = via.cast(via.get_election("e1"), wallet, {"mayor": ["a"], "ref": ["yes"]})
        assert receipt["index"] == 0
        assert "POST /api/v1/elections/e1/ballots" in proxy.seen
        via.check_receipt(receipt)
    finally:
        proxy.shutdown()
        server.shutdown()
