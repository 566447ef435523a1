"""Outgoing mail: an outbox (table + one .eml file per message) by default, SMTP by configuration."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path

from flask import current_app
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
    msg = _message(to_addr, subject, body)
    if current_app.config["MAIL_BACKEND"] == "smtp":
        cfg = current_app.config
        with smtplib.SMTP(cfg["SMTP_HOST"], int(cfg["SMTP_PORT"]), timeout=30) as smtp:
            smtp.starttls(context=ssl.create_default_context())
            if cfg.get("SMTP_USER"):
                smtp.login(cfg["SMTP_USER"], cfg["SMTP_PASSWORD"] or "")
            smtp.send_message(msg)
    else:
        outbox = Path(current_app.config["OUTBOX_DIR"])
        outbox.mkdir(parents=True, exist_ok=True)
        (outbox / f"{row.id:06d}.eml").write_bytes(bytes(msg))
    row.sent_at = utcnow()
    return row
