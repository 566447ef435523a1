"""Stored key-generation data (docs §4.7): the relayed messages and the verified transcript.

The relay's HTTP endpoints are in :mod:`app.keygen_relay`; the record export
(:mod:`app.services.record`) reads the transcript through :func:`stored_transcript`.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import DateTime, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.db import Base
from app.models import utcnow


class KeygenMessage(Base):
    """One relayed envelope (opaque to the service)."""

    __tablename__ = "keygen_messages"
    __table_args__ = (UniqueConstraint("election_id", "run_id", "round", "sender", "recipient",
                                       name="uq_keygen_message"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    run_id: Mapped[str] = mapped_column(String(64), nullable=False)
    round: Mapped[str] = mapped_column(String(64), nullable=False)
    sender: Mapped[int] = mapped_column(Integer, nullable=False)
    recipient: Mapped[int] = mapped_column(Integer, nullable=False)
    body: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class KeygenTranscript(Base):
    """The verified transcript of an election's distributed key generation."""

    __tablename__ = "keygen_transcripts"

    election_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    transcript_json: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def stored_transcript(db: Session, election_id: str) -> dict[str, Any] | None:
    """The election's key-generation transcript, or None for a dealer key."""
    stored = db.get(KeygenTranscript, election_id)
    return None if stored is None else dict(json.loads(stored.transcript_json))
