"""PKI mode in the browser (issue 11, §2.7): a voter enrolls the certificate of their PKCS#12
file on the enrollment page, then the booth opens the same file (PKI.js + WebCrypto, in
the page) and signs the credential request; the server accepts it and issues the card,
and the voter casts a ballot with it (the booth's eq. F1 includes the roll commitment).

Its own server (the shared ``live_server`` has no CA configured): a TEST CA
(tests/pki.py), ``PKI_CA_FILE`` / ``PKI_CRL_FILE``, a PKI-mode election ``p1``.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from tests.app.helpers import (
    OFFICIAL_EMAIL,
    OFFICIAL_PASSWORD,
    VOTER_PASSWORD,
    manifest_json,
    threshold_public_json,
)
from tests.conftest import make_test_app
from tests.pki import make_ca, pkcs12_bytes

P12_PASSWORD = "p12-paßwort"
VOTERS = {"pki1@example.org": "900101300011", "pki2@example.org": "900101300012",
          "pki3@example.org": "900101300013"}  # pki3 never enrolls


@dataclass
class PkiServer:
    url: str
    app: Any
    files: dict[str, Path]  # email -> .p12 file
    foreign: Path  # a PKCS#12 file for voter pki2 issued by another CA


@pytest.fixture(scope="module")
def pki_server(issuer_test_key: Any) -> Iterator[PkiServer]:
    from werkzeug.serving import make_server

    from app.db import get_engine, new_session
    from app.services import elections as election_service
    from app.services import roll as roll_service
    from app.services import users as user_service
    from crypto.election import Manifest

    tmp = Path(tempfile.mkdtemp(prefix="saylau-pki-browser-"))
    ca, other_ca = make_ca(), make_ca("Some other CA")
    (tmp / "ca.pem").write_bytes(ca.pem())
    (tmp / "crl.pem").write_bytes(ca.crl().public_bytes(serialization.Encoding.PEM))
    files = {}
    for email, iin in VOTERS.items():
        key, cert = ca.issue(iin)
        files[email] = tmp / f"{email.split('@')[0]}.p12"
        files[email].write_bytes(pkcs12_bytes(key, cert, P12_PASSWORD.encode()))
    key, cert = other_ca.issue(VOTERS["pki2@example.org"])
    foreign = tmp / "foreign.p12"
    foreign.write_bytes(pkcs12_bytes(key, cert, P12_PASSWORD.encode()))
    app = make_test_app(f"sqlite:///{tmp / 'pki.db'}", tmp, issuer_test_key,
                        PKI_CA_FILE=str(tmp / "ca.pem"), PKI_CRL_FILE=str(tmp / "crl.pem"))
    with app.app_context():
        db = new_session(app)
        user_service.get_or_create_user(db, OFFICIAL_EMAIL, "Official", ("official",),
                                        password=OFFICIAL_PASSWORD)
        for election_id in ("p1", "p2"):  # p2 stays a draft (the accessibility audit)
            election = election_service.create_election(
                db, Manifest.from_json(manifest_json(election_id)),
                issuer_key=app.config["TEST_ISSUER_KEY"], credential_mode="pki",
                credential_policy="any_time")
            election_service.set_election_key(db, election, threshold_public_json(),
                                              allow_test_key=True)
            roll_service.import_roll(db, election, "email,name,iin\n" + "".join(
                f"{e},Voter,{iin}\n" for e, iin in VOTERS.items()))
        for e in VOTERS:
            user_service.get_or_create_user(db, e, password=VOTER_PASSWORD)
        db.commit()
        db.close()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="pki-server", daemon=True)
    thread.start()
    try:
        yield PkiServer(f"http://127.0.0.1:{server.server_port}", app, files, foreign)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        get_engine(app).dispose()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture()
def pki_page(browser: Any, pki_server: PkiServer) -> Iterator[Any]:
    context = browser.new_context(base_url=pki_server.url, locale="en-US")
    context.set_default_timeout(30_000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield pg
    finally:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def _login(pg: Any, email: str, next_path: str) -> None:
    pg.goto(f"/auth/login?next={next_path}")
    pg.fill("input[name=email]", email)
    pg.fill("input[name=password]", VOTER_PASSWORD)
    pg.click("main form button[type=submit]")
    pg.wait_for_load_state()


def _requests(app: Any) -> int:
    client = app.test_client()
    response = client.get("/api/v1/elections/p1/issuance")
    assert response.status_code == 200, response.get_data(as_text=True)
    return len(response.get_json()["requests"])


def _open(app: Any) -> None:
    from app.db import new_session
    from app.services import elections as election_service

    with app.app_context():
        db = new_session(app)
        election_service.open_election(db, election_service.get_election(db, "p1"))
        db.commit()
        db.close()


def test_pki_enroll_then_get_card_in_the_booth(pki_page: Any, pki_server: PkiServer,
                                               browser: Any, shot: Any) -> None:
    pg = pki_page
    # 1. enrollment (draft): the certificate of the PKCS#12 file goes on the roll
    for email in ("pki1@example.org", "pki2@example.org"):
        _login(pg, email, "/elections/p1/enroll-certificate")
        assert pg.url.endswith("/elections/p1/enroll-certificate")
        # a wrong password: refused on the device, nothing is sent
        pg.set_input_files("#pki-file", str(pki_server.files[email]))
        pg.fill("#pki-password", "not-the-password")
        pg.click("#pki-enroll-button")
        pg.wait_for_selector("#pki-status[data-state=error]")
        assert "Wrong password" in pg.inner_text("#pki-status")
        if email == "pki2@example.org":
            # a certificate from another CA: the server refuses it (untrusted_certificate)
            pg.set_input_files("#pki-file", str(pki_server.foreign))
            pg.fill("#pki-password", P12_PASSWORD)
            pg.click("#pki-enroll-button")
            pg.wait_for_selector("#pki-status[data-state=error] >> text=certification authority")
        pg.set_input_files("#pki-file", str(pki_server.files[email]))
        pg.fill("#pki-password", P12_PASSWORD)
        pg.click("#pki-enroll-button")
        pg.wait_for_selector("#pki-status[data-state=ok] >> text=on the voter roll")
        assert pg.input_value("#pki-password") == ""  # the password is not kept
        shot(pg, "pki-enrolled")
        pg.context.clear_cookies()
    _open(pki_server.app)
    assert _requests(pki_server.app) == 0

    # 2. the booth: voter 3 enrolled nothing; voter 1 opens the file again, and the signed
    # request gets the card
    _login(pg, "pki3@example.org", "/elections/p1/booth")
    pg.wait_for_selector("#card-status[data-card]")
    pg.set_input_files("#pki-file", str(pki_server.files["pki3@example.org"]))
    pg.fill("#pki-password", P12_PASSWORD)
    pg.click("#get-card-button")
    pg.wait_for_selector("#pki-status[data-state=error] >> text=No certificate of yours")
    pg.context.clear_cookies()
    _login(pg, "pki1@example.org", "/elections/p1/booth")
    pg.wait_for_selector("#card-status[data-card]")
    assert pg.is_visible("#pki-card")
    pg.set_input_files("#pki-file", str(pki_server.files["pki1@example.org"]))
    pg.fill("#pki-password", "wrong")
    pg.click("#get-card-button")
    pg.wait_for_selector("#card-status[data-card=error]")
    assert _requests(pki_server.app) == 0
    # voter 2's file is not the certificate enrolled for voter 1
    pg.set_input_files("#pki-file", str(pki_server.files["pki2@example.org"]))
    pg.fill("#pki-password", P12_PASSWORD)
    pg.click("#get-card-button")
    pg.wait_for_selector("#pki-status[data-state=error] >> text=not the one on the voter roll")
    assert _requests(pki_server.app) == 0
    pg.set_input_files("#pki-file", str(pki_server.files["pki1@example.org"]))
    pg.fill("#pki-password", P12_PASSWORD)
    pg.click("#get-card-button")
    pg.wait_for_selector("#card-status[data-card=held]")
    shot(pg, "pki-booth-card")
    assert _requests(pki_server.app) == 1
    issuance = pki_server.app.test_client().get("/api/v1/elections/p1/issuance").get_json()
    roll = pki_server.app.test_client().get("/api/v1/elections/p1/roll").get_json()
    signed = issuance["requests"][0]
    assert roll["mode"] == "pki"
    assert roll["entries"][signed["request"]["roll_index"]]["kind"] == "x509"

    # 3. the booth checked eq. F1 with the roll commitment; the card casts a ballot
    pg.wait_for_selector("#encrypt-button:not([disabled])")
    pg.check("#opt-mayor-a")
    pg.check("#opt-ref-yes")
    pg.click("#encrypt-button")
    pg.wait_for_selector("#review:not([hidden])")
    pg.click("#cast-button")
    pg.wait_for_selector("#done:not([hidden])")
    tracker = pg.inner_text("#receipt-tracker")
    entry = pki_server.app.test_client().get(f"/api/v1/elections/p1/board/{tracker}")
    assert entry.status_code == 200, entry.get_data(as_text=True)


@pytest.mark.parametrize("lang", ["en", "kk"])
def test_pki_enroll_page_accessibility(browser: Any, pki_server: PkiServer, lang: str) -> None:
    """axe-core finds no serious or critical violation on the enrollment page (and its error)."""
    from tests.browser.test_axe import audit

    context = browser.new_context(base_url=pki_server.url, locale="en-US", bypass_csp=True)
    try:
        pg = context.new_page()
        _login(pg, "pki2@example.org", f"/elections/p2/enroll-certificate?lang={lang}")
        pg.goto(f"/elections/p2/enroll-certificate?lang={lang}")
        pg.wait_for_selector("#pki-card")
        assert audit(pg) == []
        pg.click("#pki-enroll-button")  # no file chosen: the typed error, translated
        pg.wait_for_selector("#pki-status[data-state=error]")
        if lang == "kk":
            assert "Сертификат файлыңызды таңдап" in pg.inner_text("#pki-status")
        assert audit(pg) == []
    finally:
        context.close()
