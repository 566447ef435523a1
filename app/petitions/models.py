"""Petition tables (plain rows, no cryptography; created by migration 0100)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models import utcnow


class Petition(Base):
    __tablename__ = "petitions"
    __table_args__ = (Index("ix_petitions_state", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    action: Mapped[str] = mapped_column(Text, nullable=False, default="")
    background: Mapped[str] = mapped_column(Text, nullable=False, default="")
    details: Mapped[str] = mapped_column(Text, nullable=False, default="")
    #: JSON {"title"|"action": {"kk"|"ru"|"en": text}} or NULL: display-only translations,
    #: not part of the petition parameters nor of the fingerprint (docs/protocol.md §7.2)
    translations_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: JSON list of {"id", "label"}: the region scope
    regions_json: Mapped[str] = mapped_column(Text, nullable=False)
    state: Mapped[str] = mapped_column(String(24), nullable=False, default="draft")
    creator_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    #: SHA-256 of the sponsor share token (the link holds the token itself)
    share_token_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    sponsors_required: Mapped[int] = mapped_column(Integer, nullable=False, default=5)
    response_threshold: Mapped[int] = mapped_column(Integer, nullable=False, default=10_000)
    debate_threshold: Mapped[int] = mapped_column(Integer, nullable=False, default=100_000)
    response_threshold_reached_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    debate_threshold_reached_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    rejection_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    rejection_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    moderated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    response_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    responded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    debate_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    debated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    opened_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    closes_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # keys (generated when the petition is created; frozen when it opens)
    issuer_private_pem: Mapped[str] = mapped_column(Text, nullable=False)
    issuer_public_json: Mapped[str] = mapped_column(Text, nullable=False)
    board_seed_hex: Mapped[str] = mapped_column(String(64), nullable=False)
    board_public_hex: Mapped[str] = mapped_column(String(64), nullable=False)
    election_key_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    fingerprint_hex: Mapped[str | None] = mapped_column(String(64), nullable=True)
    insecure_test_keys: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    #: number of board entries; incremented first in every append transaction (the lock)
    board_size: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class PetitionCitizen(Base):
    """A citizen's petitions e-mail confirmation (a token confirmed by POST)."""

    __tablename__ = "petition_citizens"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    token_expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class PetitionSponsor(Base):
    __tablename__ = "petition_sponsors"
    __table_args__ = (UniqueConstraint("petition_id", "user_id", name="uq_sponsor_petition_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PetitionSigner(Base):
    """THAT a citizen obtained this petition's signing credential (never the credential)."""

    __tablename__ = "petition_signers"
    __table_args__ = (UniqueConstraint("petition_id", "user_id", name="uq_signer_petition_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    receipt_hex: Mapped[str] = mapped_column(String(64), nullable=False)
    #: the ``ISSUANCE_TIME_GRANULARITY_S`` slot (ISO 8601), never a precise time: a precise
    #: time would link the identified request to the anonymous signature that follows it
    issued_period: Mapped[str] = mapped_column(String(32), nullable=False)


class PetitionBoardEntry(Base):
    __tablename__ = "petition_board"
    __table_args__ = (
        UniqueConstraint("petition_id", "leaf_index", name="uq_pboard_petition_index"),
        UniqueConstraint("petition_id", "token_id", name="uq_pboard_petition_token"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"), nullable=False)
    leaf_index: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # "signature" | "invalidation"
    token_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    entry_json: Mapped[str] = mapped_column(Text, nullable=False)
    leaf_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    invalidated_by: Mapped[int | None] = mapped_column(Integer, nullable=True)  # leaf index
    created_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)


class PetitionTreeHead(Base):
    __tablename__ = "petition_tree_heads"
    __table_args__ = (Index("ix_petition_tree_heads_petition", "petition_id", "tree_size"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"), nullable=False)
    tree_size: Mapped[int] = mapped_column(Integer, nullable=False)
    root_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    timestamp_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)
    signature: Mapped[str] = mapped_column(String(128), nullable=False)
    final: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class PetitionCount(Base):
    """The batch-folded count: entries ``[0, folded_size)`` are in ``count`` and ``product_hex``."""

    __tablename__ = "petition_counts"

    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"), primary_key=True)
    folded_size: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    invalidated: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: homomorphic product of the counted signatures' region ciphertexts (hex; "1" if none)
    product_hex: Mapped[str] = mapped_column(Text, nullable=False, default="1")
    refreshed_ms: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


class PetitionRateEvent(Base):
    """Short-lived log for fraud heuristics: keyed hash of the address, never the address."""

    __tablename__ = "petition_rate_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # "credential" | "signature"
    addr_tag: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    at_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)


class PetitionFlag(Base):
    """A silent fraud flag for moderator review (never published)."""

    __tablename__ = "petition_flags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    detail: Mapped[str] = mapped_column(Text, nullable=False, default="")
    board_index: Mapped[int | None] = mapped_column(Integer, nullable=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="open")  # open|dismissed|invalidated
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PetitionTally(Base):
    """A by-region decryption of the product at ``tree_size`` (partials posted by trustees)."""

    __tablename__ = "petition_tallies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"), nullable=False)
    tree_size: Mapped[int] = mapped_column(Integer, nullable=False)
    count: Mapped[int] = mapped_column(Integer, nullable=False)
    product_hex: Mapped[str] = mapped_column(Text, nullable=False)
    partials_json: Mapped[str] = mapped_column(Text, nullable=False, default="[]")
    results_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    reason: Mapped[str] = mapped_column(String(16), nullable=False, default="on_demand")  # |"close"
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decrypted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


__all__ = [
    "Petition", "PetitionCitizen", "PetitionSponsor", "PetitionSigner", "PetitionBoardEntry",
    "PetitionTreeHead", "PetitionCount", "PetitionRateEvent", "PetitionFlag", "PetitionTally",
]


class PetitionCiphertext(Base):
    """Registry of the region ciphertexts on a petition's board (migration 1001_petition_ciphertexts).

    UNIQUE(petition_id, digest): a ciphertext may appear once per petition — the copy
    check the petition verifier makes (P6 ``ciphertext-copies``), enforced at append time.
    ``digest`` = :func:`tally.entry_checks.ciphertext_digest` of the region ciphertext.
    """

    __tablename__ = "petition_ciphertext_registry"
    __table_args__ = (
        UniqueConstraint("petition_id", "digest", name="uq_pciphertext_petition_digest"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"),
                                             nullable=False)
    digest: Mapped[str] = mapped_column(String(64), nullable=False)
    leaf_index: Mapped[int] = mapped_column(Integer, nullable=False)
