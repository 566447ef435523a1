"""Distributed key generation over the real HTTP relay (a served app), end to end:
``saylau trustee keygen`` for 3 trustees, and ``saylau simulate --keygen distributed``
(3 of threshold 2, 5 of threshold 3) whose records ``saylau verify`` accepts."""

from __future__ import annotations

import json
import threading

import pytest
from werkzeug.serving import make_server

from app.db import new_session
from app.services import users as user_service
from audit.verifier import verify_record
from crypto.dkg.params import DkgParams
from saylau.cli import main
from saylau.voter_client import ServerError, VoterClient
from tests.app.helpers import OFFICIAL_EMAIL, OFFICIAL_PASSWORD, manifest_json
from tests.dkg.helpers import planted

PASSWORD = "trustee password 123"


@pytest.fixture()
def served(app):
    with app.app_context():
        db = new_session(app)
        user_service.get_or_create_user(db, OFFICIAL_EMAIL, "Official", ("official",),
                                        password=OFFICIAL_PASSWORD)
        for i in range(1, 6):
            user_service.get_or_create_user(db, f"t{i}@example.org", "Trustee", ("trustee",),
                                            password=PASSWORD)
        user_service.get_or_create_user(db, "v@example.org", "Voter", ("voter",),
                                        password=PASSWORD)
        db.commit()
        db.close()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    official = VoterClient(base)
    official.login(OFFICIAL_EMAIL, OFFICIAL_PASSWORD)
    m = manifest_json("dkg1")
    official.api("POST", "/api/v1/elections", {"id": "dkg1", "title": m["title"],
                                               "questions": m["questions"]})
    yield base
    server.shutdown()


def _stored_key(app, election_id):
    from app.models import Election

    with app.app_context():
        db = new_session(app)
        try:
            row = db.get(Election, election_id)
            return json.loads(row.election_key_json) if row.election_key_json else None
        finally:
            db.close()


def test_trustee_keygen_cli_over_the_relay(app, served, tmp_path, monkeypatch):
    params = DkgParams(1024, 3, 2, allow_test_key=True)
    cls, n = planted(params)
    monkeypatch.setattr("saylau.cmd_keygen.DkgParty", cls)
    (tmp_path / "pw").write_text(PASSWORD + "\n")
    (tmp_path / "pp").write_text("share passphrase\n")
    codes: dict[int, int] = {}

    def trustee(i: int) -> None:
        codes[i] = main(["trustee", "keygen", "--server", served, "--election", "dkg1",
                         "--run", "r1", "--index", str(i), "--trustees", "3", "--threshold",
                         "2", "--bits", "1024", "--test-key", "--kdf-fast", "--batch", "32",
                         "--email", f"t{i}@example.org", "--password-file",
                         str(tmp_path / "pw"), "--passphrase-file", str(tmp_path / "pp"),
                         "--out", str(tmp_path / f"t{i}"), "--timeout", "60"])

    threads = [threading.Thread(target=trustee, args=(i,)) for i in (1, 2, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == {1: 0, 2: 0, 3: 0}
    keys = [json.loads((tmp_path / f"t{i}" / "election-public-key.json").read_text())
            for i in (1, 2, 3)]
    assert keys[0] == keys[1] == keys[2] and int(keys[0]["public"]["n"], 16) == n
    for i in (1, 2, 3):
        share = tmp_path / f"t{i}" / f"trustee-{i}.share.json"
        assert json.loads(share.read_text())["format"] == "saylau-trustee-share/v1"
        assert main(["trustee", "check-share", "--share", str(share), "--public-key",
                     str(tmp_path / "t1" / "election-public-key.json"),
                     "--passphrase-file", str(tmp_path / "pp")]) == 0
    # the service verified the transcript and adopted the key
    assert _stored_key(app, "dkg1") == keys[0]
    stored = VoterClient(served)._request("GET", "/api/v1/elections/dkg1/keygen/transcript")[1]
    assert stored["transcript"]["public_key"] == keys[0]


def test_relay_refuses_replacing_a_message_and_non_trustees(served):
    trustee = VoterClient(served)
    trustee.login("t1@example.org", PASSWORD)
    path = "/api/v1/elections/dkg1/keygen/r1/messages"
    body = {"round": "hello", "sender": 1, "recipient": 0, "envelope": "{}"}
    trustee.api("POST", path, body)
    with pytest.raises(ServerError, match="already posted") as err:
        trustee.api("POST", path, {**body, "envelope": "{\"other\":1}"})
    assert err.value.status == 409
    got = trustee.api("GET", path + "?round=hello&recipient=2")
    assert got["messages"] == [{"sender": 1, "recipient": 0, "envelope": "{}"}]
    voter = VoterClient(served)
    voter.login("v@example.org", PASSWORD)
    with pytest.raises(ServerError) as err:
        voter.api("GET", path + "?round=hello&recipient=2")
    assert err.value.status == 403
    for bad in ({**body, "round": "x" * 65}, {**body, "sender": 0}, {**body, "recipient": 99},
                {**body, "envelope": 5}):
        with pytest.raises(ServerError) as err:
            trustee.api("POST", path, bad)
        assert err.value.status == 400
    with pytest.raises(ServerError, match="invalid_transcript|transcript") as err:
        trustee.api("POST", "/api/v1/elections/dkg1/keygen/transcript", {"transcript": {}})
    assert err.value.status == 400


@pytest.mark.parametrize(("trustees", "threshold"), [(3, 2), (5, 3)])
def test_simulate_distributed_record_verifies(tmp_path, monkeypatch, trustees, threshold):
    params = DkgParams(1024, trustees, threshold, allow_test_key=True)
    cls, n = planted(params)
    monkeypatch.setattr("saylau.simulate_keygen.PARTY_CLASS", cls)
    monkeypatch.setattr("saylau.simulate_keygen.BATCH", 32)
    out = tmp_path / "record"
    assert main(["simulate", "--voters", "1", "--trustees", str(trustees), "--threshold",
                 str(threshold), "--bits", "1024", "--keygen", "distributed", "--out",
                 str(out), "--seed", "7", "--election-id", f"dkg-{trustees}"]) == 0
    election = json.loads((out / "election.json").read_text())
    assert election["key_generation"] == "distributed"
    assert int(election["election_key"]["public"]["n"], 16) == n
    assert (out / "keygen.json").exists()
    report = verify_record(out)
    assert not report.failed(), [c.to_json() for c in report.failed()]
    assert report.check("key-generation").ok  # type: ignore[union-attr]
    assert main(["verify", str(out)]) == 0


def test_blame_round_over_the_relay_names_the_cheater(app, served):
    """A wrong [W]_j (D8) over the HTTP relay: the key fails D15, the blame round (§4.7.10)
    runs through the service's relay and every honest trustee names trustee 2."""
    from crypto.dkg.errors import CheatingTrustee
    from saylau.cmd_keygen import run_trustee

    params = DkgParams(1024, 3, 2, batch=16, allow_test_key=True)
    base, _ = planted(params)

    class WrongW(base):  # type: ignore[valid-type, misc]
        def _open(self, round_name, mine, degree, prime):
            if round_name.endswith(":W"):
                mine = [(mine[0] + 1) % prime]
            return super()._open(round_name, mine, degree, prime)

    errors: dict[int, BaseException] = {}

    def trustee(i: int) -> None:
        client = VoterClient(served)
        client.login(f"t{i}@example.org", PASSWORD)
        try:
            run_trustee(client, election="dkg1", run="blame1", index=i, params=params,
                        party_class=WrongW if i == 2 else base, timeout=30.0)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors[i] = exc

    threads = [threading.Thread(target=trustee, args=(i,)) for i in (1, 2, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in (1, 3):
        with pytest.raises(CheatingTrustee, match=r"^trustee 2 sent a wrong \[W\] share"):
            raise errors[i]
    assert _stored_key(app, "dkg1") is None  # no key was adopted
