"""Outgoing mail: an outbox (table + one .eml file per message) by default, SMTP by configuration.

Every message is first recorded in the ``outbox_messages`` table; ``sent_at`` is set once
the backend accepted it.  An SMTP failure never fails the request that sent the mail
(the roll import or the confirmation stays committed): the row stays unsent, and
:func:`resend_pending` delivers what is left.  Bodies hold one-time login links, so
they are never logged.

Mails are written in the recipient's language: :func:`render_mail` renders the text template
``templates/mail/<name>.txt`` (first line ``Subject: …``) under Flask-Babel's
``force_locale``, so ``_()`` and the ``datetime_local`` filter follow that language.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path

from flask import current_app, has_request_context
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.i18n import DEFAULT_LOCALE, LOCALES, current_locale
from app.models import OutboxMessage, utcnow


def mail_language(*choices: str | None) -> str:
    """The first valid language among ``choices`` (the recipient's roll entry, then account),
    else the language of the current request, else the default."""
    for choice in choices:
        if choice in LOCALES:
            return str(choice)
    return current_locale() if has_request_context() else DEFAULT_LOCALE


def render_mail(template: str, locale: str, /, **context: object) -> tuple[str, str]:
    """``(subject, body)`` of ``mail/<template>.txt`` rendered in ``locale``."""
    with force_locale(locale):
        # the Jinja environment directly: no request needed (the CLI sends invitations too),
        # and no page context processors; ``_`` and the date filters follow ``locale``
        text = current_app.jinja_env.get_template(f"mail/{template}.txt").render(**context)
    head, _, body = text.lstrip().partition("\n")
    if not head.startswith("Subject: "):
        raise ValueError(f"mail/{template}.txt must start with a 'Subject: ' line")
    return head.removeprefix("Subject: ").strip(), body.strip("\n") + "\n"


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
