"""The SMTP backend against a real SMTP server on loopback (aiosmtpd), and its failure mode."""

import email
import email.policy
import socket

import pytest
from sqlalchemy import select

from tests.conftest import make_test_app

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def smtp_server():
    received = []

    class Recorder:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
            received.append(envelope)
            return "250 OK"

    controller = aiosmtpd_controller.Controller(Recorder(), hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller.port, received
    controller.stop()


def _smtp_app(tmp_path, issuer_test_key, port):
    return make_test_app(f"sqlite:///{tmp_path / 'mail.db'}", tmp_path, issuer_test_key,
                         MAIL_BACKEND="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=port,
                         SMTP_STARTTLS=False, SMTP_FROM="elections@example.org")


def test_invitations_go_out_over_smtp(tmp_path, issuer_test_key, smtp_server):
    from app.db import new_session
    from app.models import OutboxMessage
    from app.services import elections as election_service
    from app.services import roll as roll_service
    from tests.app.helpers import setup_election

    port, received = smtp_server
    app = _smtp_app(tmp_path, issuer_test_key, port)
    emails = setup_election(app, "mail1", voters=2, open_it=False)
    with app.app_context():
        db = new_session(app)
        election = election_service.get_election(db, "mail1")
        roll_service.send_invitations(db, election, "http://127.0.0.1:5000", 3600)
        db.commit()
        rows = db.scalars(select(OutboxMessage)).all()
        assert len(rows) == 2 and all(r.sent_at is not None for r in rows)
        db.close()
    assert sorted(e.rcpt_tos[0] for e in received) == sorted(emails)
    message = email.message_from_bytes(received[0].content, policy=email.policy.default)
    assert message["From"] == "elections@example.org"
    assert "Test election mail1" in message["Subject"]
    assert "http://127.0.0.1:5000/" in message.get_content()


def test_smtp_failure_keeps_the_message_for_resending(tmp_path, issuer_test_key, smtp_server):
    from app.db import new_session
    from app.mail import resend_pending, send_mail
    from app.models import OutboxMessage

    port, received = smtp_server
    app = _smtp_app(tmp_path, issuer_test_key, _free_port())  # nothing listens there
    with app.app_context():
        db = new_session(app)
        row = send_mail(db, "voter@example.org", "Hello", "secret link https://x/login/abc")
        db.commit()
        assert row.sent_at is None
        app.config["SMTP_PORT"] = port
        assert resend_pending(db) == 1
        db.commit()
        assert db.scalars(select(OutboxMessage)).one().sent_at is not None
        db.close()
    assert len(received) == 1
