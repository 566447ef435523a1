"""ORM models: plain rows, no cryptography (that lives in :mod:`app.services`)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base

ROLES = ("official", "trustee", "voter", "moderator", "auditor")
ELECTION_STATES = ("draft", "open", "closed", "tallied")
REVOTE_POLICIES = ("last-counts", "no-revote")
#: how voters sign credential requests (docs/protocol.md §2.7); "login" = no roll (legacy,
#: ``saylau verify`` fails it: the operator alone could issue every credential)
CREDENTIAL_MODES = ("enrolled", "pki", "login")
#: when credentials are obtained (docs §"Linkability"): "period" — only in a credential
#: period that ends when voting opens (the default for new elections); "any_time" — also
#: during voting (small elections; issuance and casting may then be close in time)
CREDENTIAL_POLICIES = ("period", "any_time")
#: ``credential_issuance.issued_period`` of everything issued before voting opened
ISSUED_IN_CREDENTIAL_PERIOD = "credential-period"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    #: space-separated subset of :data:`ROLES`
    roles: Mapped[str] = mapped_column(String(100), nullable=False, default="voter")
    #: ``kk``/``ru``/``en``: the language of the e-mails this person receives (None: not chosen)
    language: Mapped[str | None] = mapped_column(String(5), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: a trustee account's trustee index (migration 1003_trustee_index): it may upload
    #: partial decryptions for that index only
    trustee_index: Mapped[int | None] = mapped_column(Integer, nullable=True)

    def has_role(self, role: str) -> bool:
        return role in self.roles.split()

    @property
    def role_list(self) -> list[str]:
        return self.roles.split()


class LoginToken(Base):
    """A one-time login link (only its SHA-256 is stored); confirmed by POST."""

    __tablename__ = "login_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class UserSession(Base):
    """A browser session, server side (migration 1002_user_sessions): the signed cookie holds
    the session id, only its SHA-256 is stored.  Deleting the rows of a user ends all of the
    user's sessions at once (logout, password change): a saved cookie opens nothing."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False,
                                         index=True)
    sid_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiToken(Base):
    """A bearer token for the voter client (only its SHA-256 is stored)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)

    user: Mapped[User] = relationship()


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    to_addr: Mapped[str] = mapped_column(String(254), nullable=False)
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Election(Base):
    __tablename__ = "elections"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # slug, also credential scope
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    manifest_json: Mapped[str] = mapped_column(Text, nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="draft")
    opens_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    closes_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revote_policy: Mapped[str] = mapped_column(String(16), nullable=False, default="no-revote")
    credential_policy: Mapped[str] = mapped_column(String(16), nullable=False, default="period")
    election_key_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    issuer_private_pem: Mapped[str] = mapped_column(Text, nullable=False)
    issuer_public_json: Mapped[str] = mapped_column(Text, nullable=False)
    board_seed_hex: Mapped[str] = mapped_column(String(64), nullable=False)
    board_public_hex: Mapped[str] = mapped_column(String(64), nullable=False)
    fingerprint_hex: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: number of board entries; incremented first in every append transaction (the lock)
    board_size: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    insecure_test_keys: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: one of :data:`CREDENTIAL_MODES`
    credential_mode: Mapped[str] = mapped_column(String(16), nullable=False, default="enrolled")
    #: the roll commitment {"mode", "size", "root"} frozen at opening (None in login mode)
    roll_commitment_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: PKI mode: the commission's secret salt of the published national-id hashes
    id_salt_hex: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: the counting rules bound into F1 at opening (:class:`crypto.election.ElectionRules`
    #: JSON: revote policy, voting window in ms, time granularity); None before opening
    rules_json: Mapped[str | None] = mapped_column(Text, nullable=True)


class RollEntry(Base):
    __tablename__ = "voter_roll"
    __table_args__ = (UniqueConstraint("election_id", "email", name="uq_roll_election_email"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[str] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    #: the optional ``language`` column of the roll CSV (the invitation's language)
    language: Mapped[str | None] = mapped_column(String(5), nullable=True)
    invited_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: PKI mode: the national id (IIN) the certificate's subject serialNumber must carry
    national_id: Mapped[str | None] = mapped_column(String(32), nullable=True)


class RollKey(Base):
    """A voter's enrolled signing key (Ed25519 raw, or a certificate's SPKI in PKI mode).

    ``roll_index`` is assigned when voting opens (keys sorted by their bytes, so the order
    says nothing about who enrolled when); until then it is NULL.
    """

    __tablename__ = "roll_keys"
    __table_args__ = (
        UniqueConstraint("election_id", "public_key_hex", name="uq_roll_key_election_key"),
        UniqueConstraint("election_id", "roll_entry_id", name="uq_roll_key_election_entry"),
        UniqueConstraint("election_id", "roll_index", name="uq_roll_key_election_index"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[str] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"), nullable=False)
    roll_entry_id: Mapped[int] = mapped_column(ForeignKey("voter_roll.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # "ed25519" | "x509"
    public_key_hex: Mapped[str] = mapped_column(String(2048), nullable=False)
    id_hash_hex: Mapped[str | None] = mapped_column(String(64), nullable=True)
    roll_index: Mapped[int | None] = mapped_column(Integer, nullable=True)


class CredentialIssuance(Base):
    """THAT a voter got a credential (never the token)."""

    __tablename__ = "credential_issuance"
    __table_args__ = (UniqueConstraint("election_id", "user_id", name="uq_issuance_election_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[str] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    #: never a precise time (it would link issuance to casting): "credential-period" if issued
    #: before voting opened, else the start of the ``ISSUANCE_TIME_GRANULARITY_S`` slot
    #: (ISO 8601, e.g. "2026-11-29T00:00:00Z")
    issued_period: Mapped[str] = mapped_column(String(32), nullable=False)
    #: published pseudonymous receipt: SHA-256 tag over (election, blinded request)
    receipt_hex: Mapped[str] = mapped_column(String(64), nullable=False)
    #: the voter-signed request (crypto.roll.SignedRequest JSON, published) and its answer,
    #: kept so that the same signed request after a lost response gets the same answer
    signed_request_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    blind_signature_hex: Mapped[str | None] = mapped_column(Text, nullable=True)


class BoardEntry(Base):
    __tablename__ = "board_entries"
    __table_args__ = (
        UniqueConstraint("election_id", "leaf_index", name="uq_board_election_index"),
        UniqueConstraint("election_id", "tracker", name="uq_board_election_tracker"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[str] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"), nullable=False)
    leaf_index: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # "ballot" | "audited"
    token_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    tracker: Mapped[str] = mapped_column(String(64), nullable=False)
    entry_json: Mapped[str] = mapped_column(Text, nullable=False)
    leaf_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    superseded: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    superseded_by: Mapped[int | None] = mapped_column(Integer, nullable=True)  # leaf index
    cast_at_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)


class UsedToken(Base):
    __tablename__ = "used_tokens"
    __table_args__ = (UniqueConstraint("election_id", "token_id", name="uq_used_token"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[str] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"), nullable=False)
    token_id: Mapped[str] = mapped_column(String(64), nullable=False)
    current_entry_id: Mapped[int] = mapped_column(ForeignKey("board_entries.id"), nullable=False)


class CiphertextRegistry(Base):
    __tablename__ = "ciphertext_registry"
    __table_args__ = (UniqueConstraint("election_id", "digest", name="uq_ciphertext"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[str] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"), nullable=False)
    digest: Mapped[str] = mapped_column(String(64), nullable=False)
    entry_id: Mapped[int] = mapped_column(ForeignKey("board_entries.id"), nullable=False)


class TreeHead(Base):
    __tablename__ = "tree_heads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[str] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"), nullable=False)
    tree_size: Mapped[int] = mapped_column(Integer, nullable=False)
    root_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    timestamp_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)
    signature: Mapped[str] = mapped_column(String(128), nullable=False)
    final: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class PartialDecryption(Base):
    __tablename__ = "partial_decryptions"
    __table_args__ = (UniqueConstraint("election_id", "trustee_index", name="uq_partial_trustee"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[str] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"), nullable=False)
    trustee_index: Mapped[int] = mapped_column(Integer, nullable=False)
    data_json: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Result(Base):
    __tablename__ = "results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[str] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"), unique=True, nullable=False)
    data_json: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


__all__ = [
    "ROLES", "ELECTION_STATES", "REVOTE_POLICIES", "CREDENTIAL_POLICIES",
    "ISSUED_IN_CREDENTIAL_PERIOD", "User", "LoginToken", "ApiToken",
    "OutboxMessage", "Election", "RollEntry", "CredentialIssuance", "BoardEntry", "UsedToken",
    "CiphertextRegistry", "TreeHead", "PartialDecryption", "Result",
]
