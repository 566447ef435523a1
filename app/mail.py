"""Outgoing mail: an outbox (table + one .eml file per message) by default, SMTP by configuration.

Every message is first recorded in the ``outbox_messages`` table; ``sent_at`` is set once
the backend accepted it.  An SMTP failure never fails the request that sent the mail
(the roll import or the confirmation stays committed): the row stays unsent, and
:func:`resend_pending` delivers what is left.  Bodies hold one-time login links, so
they are never logged.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import OutboxMessage, utcnow


def _message(to_addr: str, subject: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = current_app.config["SMTP_FROM"]
    msg["To"] = to_addr
    msg["Subject"] = subject
    msg.set_content(body)
    return msg


def send_mail(db: Session, to_addr: str, subject: str, body: str) -> OutboxMessage:
    """Record the message in the outbox table and deliver it with the configured backend.

    The caller commits ``db``.  Outbox backend: also writes ``<OUTBOX_DIR>/<id>.eml``.
    """
    row = OutboxMessage(to_addr=to_addr, subject=subject, body=body)
    db.add(row)
    db.flush()
    _deliver(row)
    return row


def _deliver(row: OutboxMessage) -> None:
    msg = _message(row.to_addr, row.subject, row.body)
    if current_app.config["MAIL_BACKEND"] == "smtp":
        cfg = current_app.config
        try:
            with smtplib.SMTP(cfg["SMTP_HOST"], int(cfg["SMTP_PORT"]), timeout=30) as smtp:
                if cfg.get("SMTP_STARTTLS", True):
                    smtp.starttls(context=ssl.create_default_context())
                if cfg.get("SMTP_USER"):
                    smtp.login(cfg["SMTP_USER"], cfg["SMTP_PASSWORD"] or "")
                smtp.send_message(msg)
        except (smtplib.SMTPException, OSError) as exc:
            current_app.logger.warning("outbox message %s not delivered by SMTP (%s); kept for "
                                       "resending", row.id, type(exc).__name__)
            return
    else:
        outbox = Path(current_app.config["OUTBOX_DIR"])
        outbox.mkdir(parents=True, exist_ok=True)
        (outbox / f"{row.id:06d}.eml").write_bytes(bytes(msg))
    row.sent_at = utcnow()


def resend_pending(db: Session) -> int:
    """Try again to deliver every unsent outbox message; returns how many went out."""
    sent = 0
    for row in db.scalars(select(OutboxMessage).where(OutboxMessage.sent_at.is_(None))
                          .order_by(OutboxMessage.id)).all():
        _deliver(row)
        sent += row.sent_at is not None
    return sent
