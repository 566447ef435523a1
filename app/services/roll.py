"""Voter roll: CSV import (all-or-nothing, per-line errors), invitations, the roll of keys."""

from __future__ import annotations

import csv
import datetime as dt
import hmac
import io
import json
import urllib.parse
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from app.errors import ApiError
from app.i18n import LOCALES
from app.mail import mail_language, render_mail, send_mail
from app.models import Election, RollEntry, RollKey, User, utcnow
from app.services.users import create_login_token, normalise_email, valid_email
from crypto.errors import CryptoError
from crypto.pki import CertificateRejected, check_certificate, load_certificate
from crypto.roll import RollCommitment, national_id_hash
from crypto.roll import RollEntry as RollKeyEntry

MAX_ROLL_ROWS = 100_000


@dataclass(frozen=True)
class RollRow:
    line: int
    email: str
    name: str
    #: ``kk``/``ru``/``en`` from the optional ``language`` column; None when absent or empty
    language: str | None = None
    #: PKI mode: the national id (IIN, 12 digits) from the optional ``iin`` column
    national_id: str | None = None


class RollError(ValueError):
    """The CSV has bad rows; ``errors`` lists ``(line number, message)``; nothing was imported."""

    def __init__(self, errors: list[tuple[int, str]]) -> None:
        super().__init__("; ".join(f"line {n}: {m}" for n, m in errors[:20]))
        self.errors = errors


def parse_roll_csv(text: str) -> list[RollRow]:
    """Parse ``email,name[,language]`` CSV (a header row ``email,name`` or
    ``email,name,language`` is required; a language is ``kk``, ``ru``, ``en`` or empty)."""
    errors: list[tuple[int, str]] = []
    rows: list[RollRow] = []
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = next(reader)
    except StopIteration:
        raise RollError([(1, "empty file: expected a header row 'email,name'")]) from None
    except csv.Error as exc:
        raise RollError([(1, f"unreadable CSV: {exc}")]) from None
    columns = [h.strip().lower() for h in header]
    if columns not in (["email", "name"], ["email", "name", "language"], ["email", "name", "iin"],
                       ["email", "name", "language", "iin"]):
        raise RollError([(1, "the header row must be exactly 'email,name' or "
                             "'email,name,language' (PKI mode: then ',iin')")])
    width = len(columns)
    seen: dict[str, int] = {}
    try:
        for record in reader:
            line = reader.line_num
            if not record or all(not f.strip() for f in record):
                continue
            if len(record) != width:
                errors.append((line, f"expected {width} columns ({','.join(columns)}), "
                                     f"got {len(record)}"))
                continue
            email, name = normalise_email(record[0]), record[1].strip()
            language = ((record[2].strip().lower() or None) if "language" in columns
                        else None)
            iin = record[columns.index("iin")].strip() if "iin" in columns else None
            if iin is not None and not (len(iin) == 12 and iin.isdigit()):
                errors.append((line, "the IIN must be 12 digits"))
            if language is not None and language not in LOCALES:
                errors.append((line, f"unknown language {record[2].strip()!r} "
                                     f"(expected one of {', '.join(LOCALES)} or empty)"))
            if not valid_email(email):
                errors.append((line, f"invalid e-mail address {record[0].strip()!r}"))
            elif email in seen:
                errors.append((line, f"duplicate e-mail {email} (first on line {seen[email]})"))
            else:
                seen[email] = line
            if not name:
                errors.append((line, "the name is empty"))
            elif len(name) > 200:
                errors.append((line, "the name is longer than 200 characters"))
            rows.append(RollRow(line, email, name, language, iin))
            if len(rows) > MAX_ROLL_ROWS:
                errors.append((line, f"more than {MAX_ROLL_ROWS} rows"))
                break
    except csv.Error as exc:
        errors.append((reader.line_num, f"unreadable CSV: {exc}"))
    if errors:
        raise RollError(errors)
    if not rows:
        raise RollError([(2, "no voters in the file")])
    return rows


#: Rows per bulk statement (IN lists and executemany batches).
BULK = 1000
#: Largest roll upload (100,000 rows of e-mail and name); the body limit of the roll routes.
ROLL_MAX_BYTES = 32 * 1024 * 1024


def import_roll(db: Session, election: Election, text: str) -> int:
    """Import the CSV into the roll (creating/linking voter accounts); returns rows added.

    All-or-nothing: raises :class:`RollError` before touching the database if any row is
    bad, including e-mails already on this election's roll.  The roll is frozen when the
    election opens: outside ``draft`` it raises ``ApiError(409, "roll_frozen")``.

    Bulk: accounts are looked up ``BULK`` e-mails at a time, new accounts and the roll
    entries are inserted with one executemany per ``BULK`` rows (100,000 rows: about
    300 statements instead of 300,000).
    """
    if election.state != "draft":
        raise ApiError(409, "roll_frozen", "the roll is frozen once the election has opened")
    rows = parse_roll_csv(text)
    existing = set(db.scalars(select(RollEntry.email)
                              .where(RollEntry.election_id == election.id)).all())
    clashes = [(r.line, f"{r.email} is already on this election's roll")
               for r in rows if r.email in existing]
    if clashes:
        raise RollError(clashes)
    emails = [r.email for r in rows]
    users: dict[str, tuple[int, str]] = {}
    for i in range(0, len(emails), BULK):
        for uid, email, roles in db.execute(select(User.id, User.email, User.roles)
                                            .where(User.email.in_(emails[i:i + BULK]))):
            users[email] = (uid, roles)
    missing = [r for r in rows if r.email not in users]
    now = utcnow()
    for i in range(0, len(missing), BULK):
        db.execute(insert(User), [{"email": r.email, "name": r.name, "roles": "voter",
                                   "password_hash": None, "created_at": now,
                                   "language": r.language}
                                  for r in missing[i:i + BULK]])
    need_role = [uid for uid, roles in users.values() if "voter" not in roles.split()]
    for uid in need_role:
        db.execute(update(User).where(User.id == uid)
                   .values(roles=User.roles + " voter"))
    new_emails = [r.email for r in missing]
    for i in range(0, len(new_emails), BULK):
        for uid, email in db.execute(select(User.id, User.email)
                                     .where(User.email.in_(new_emails[i:i + BULK]))):
            users[email] = (uid, "voter")
    for i in range(0, len(rows), BULK):
        db.execute(insert(RollEntry), [{"election_id": election.id, "user_id": users[r.email][0],
                                        "email": r.email, "name": r.name,
                                        "language": r.language, "national_id": r.national_id}
                                       for r in rows[i:i + BULK]])
    db.flush()
    return len(rows)


def on_roll(db: Session, election_id: str, user: User) -> bool:
    return db.scalars(select(RollEntry.id).where(RollEntry.election_id == election_id,
                                                 RollEntry.user_id == user.id)).first() is not None


def send_invitations(db: Session, election: Election, base_url: str, ttl_s: int,
                     *, only_new: bool = True) -> int:
    """Mail each voter a one-time login link (confirmed by POST on the page it opens).

    The invitation is written in the voter's language: the roll entry's ``language``, else
    the account's, else the official's current language (:func:`app.mail.mail_language`).
    """
    query = select(RollEntry).where(RollEntry.election_id == election.id)
    if only_new:
        query = query.where(RollEntry.invited_at.is_(None))
    count = 0
    for entry in db.scalars(query).all():
        user = db.get(User, entry.user_id)
        if user is None:
            continue
        token = create_login_token(db, user, ttl_s)
        # the link leads to the booth, where the voter gets the voting card (the credential,
        # in the credential period) and can save it (docs/protocol.md §11.2)
        path = f"/elections/{election.id}/booth"
        if election.credential_mode == "pki" and election.state == "draft":
            # PKI mode (issue 11): first put one's certificate on the roll (booth.pki_enroll)
            path = f"/elections/{election.id}/enroll-certificate"
        booth = urllib.parse.quote(path, safe="/")
        link = f"{base_url.rstrip('/')}/auth/link/{token}?next={booth}"
        subject, body = render_mail(
            "invitation", mail_language(entry.language, user.language), name=entry.name,
            title=election.title, election_id=election.id, link=link,
            expires=utcnow() + dt.timedelta(seconds=ttl_s))
        send_mail(db, entry.email, subject, body)
        entry.invited_at = utcnow()
        count += 1
    db.flush()
    return count


# --------------------------------------------------------------------------- roll of keys
# docs/protocol.md §2.7: the voter's signing key, enrolled before opening, frozen at opening.


def roll_entry_of(db: Session, election_id: str, user: User) -> RollEntry | None:
    return db.scalars(select(RollEntry).where(RollEntry.election_id == election_id,
                                              RollEntry.user_id == user.id)).first()


def _require_enrollment_open(election: Election) -> None:
    if election.state != "draft":
        raise ApiError(409, "enrollment_closed", "enrollment closed when voting opened")


def _store_key(db: Session, election: Election, entry: RollEntry, kind: str, key_hex: str,
               id_hash_hex: str | None) -> RollKey:
    clash = db.scalars(select(RollKey).where(RollKey.election_id == election.id,
                                             RollKey.public_key_hex == key_hex)).first()
    if clash is not None and clash.roll_entry_id != entry.id:
        raise ApiError(409, "key_on_roll", "this key is already on the roll (for another voter)")
    if id_hash_hex is not None:
        twin = db.scalars(select(RollKey).where(RollKey.election_id == election.id,
                                                RollKey.id_hash_hex == id_hash_hex)).first()
        if twin is not None and twin.roll_entry_id != entry.id:
            raise ApiError(409, "id_on_roll", "this national id is already on the roll")
    row = db.scalars(select(RollKey).where(RollKey.election_id == election.id,
                                           RollKey.roll_entry_id == entry.id)).first()
    if row is None:
        row = RollKey(election_id=election.id, roll_entry_id=entry.id, kind=kind,
                      public_key_hex=key_hex, id_hash_hex=id_hash_hex)
        db.add(row)
    else:  # re-enrolling before opening replaces the key (a lost device)
        row.kind, row.public_key_hex, row.id_hash_hex = kind, key_hex, id_hash_hex
    db.flush()
    return row


def enroll_key(db: Session, election: Election, user: User, public_key: bytes) -> RollKey:
    """Enrolled-key mode: record the voter's Ed25519 roll key (draft only)."""
    _require_enrollment_open(election)
    if election.credential_mode != "enrolled":
        raise ApiError(409, "wrong_mode", f"this election uses {election.credential_mode} mode")
    entry = roll_entry_of(db, election.id, user)
    if entry is None:
        raise ApiError(403, "not_on_roll", "you are not on this election's voter roll")
    try:
        RollKeyEntry(0, "ed25519", public_key)
        Ed25519PublicKey.from_public_bytes(public_key)
    except (CryptoError, ValueError) as exc:
        raise ApiError(400, "invalid_key", "public_key must be a 32-byte Ed25519 key (hex)") from exc
    return _store_key(db, election, entry, "ed25519", public_key.hex(), None)


def load_pki_trust(ca_file: str | None, crl_file: str | None
                   ) -> tuple[list[x509.Certificate], list[x509.CertificateRevocationList]]:
    """The configured CA certificates and CRLs (PKI_CA_FILE, PKI_CRL_FILE)."""
    if not ca_file or not crl_file:
        raise ApiError(409, "pki_not_configured",
                       "PKI mode needs PKI_CA_FILE and PKI_CRL_FILE to be configured")
    with open(ca_file, "rb") as fh:
        cas = x509.load_pem_x509_certificates(fh.read())
    with open(crl_file, "rb") as fh:
        blob = fh.read()
    crls = [x509.load_pem_x509_crl(b"-----BEGIN X509 CRL-----" + part)
            for part in blob.split(b"-----BEGIN X509 CRL-----")[1:]]
    return cas, crls


def enroll_certificate(db: Session, election: Election, user: User, certificate: bytes,
                       cas: list[x509.Certificate], crls: list[x509.CertificateRevocationList],
                       now: dt.datetime | None = None) -> RollKey:
    """PKI mode: check the certificate (chain, validity, CRL, IIN = the roll's) and enroll it."""
    _require_enrollment_open(election)
    if election.credential_mode != "pki":
        raise ApiError(409, "wrong_mode", f"this election uses {election.credential_mode} mode")
    entry = roll_entry_of(db, election.id, user)
    if entry is None:
        raise ApiError(403, "not_on_roll", "you are not on this election's voter roll")
    try:
        checked = check_certificate(load_certificate(certificate), cas, crls, now or utcnow())
    except CertificateRejected as exc:
        raise ApiError(400, exc.code, str(exc)) from exc
    if entry.national_id is None or not hmac.compare_digest(entry.national_id,
                                                            checked.national_id):
        raise ApiError(403, "national_id_mismatch",
                       "the certificate's IIN is not the one on your roll entry")
    salt = bytes.fromhex(election.id_salt_hex or "")
    id_hash = national_id_hash(salt, checked.national_id).hex()
    return _store_key(db, election, entry, "x509", checked.spki.hex(), id_hash)


def freeze_roll(db: Session, election: Election) -> RollCommitment | None:
    """At opening: number the enrolled keys (sorted by key bytes) and commit to them."""
    if election.credential_mode == "login":
        return None
    rows = sorted(db.scalars(select(RollKey).where(RollKey.election_id == election.id)).all(),
                  key=lambda r: bytes.fromhex(r.public_key_hex))
    for index, row in enumerate(rows):
        row.roll_index = index
    db.flush()
    commitment = RollCommitment.of(election.credential_mode, published_roll(db, election.id))
    election.roll_commitment_json = json.dumps(commitment.to_json())
    return commitment


def published_roll(db: Session, election_id: str) -> list[RollKeyEntry]:
    """The public roll: keys (and id hashes) by roll index; no names."""
    rows = db.scalars(select(RollKey).where(RollKey.election_id == election_id,
                                            RollKey.roll_index.is_not(None))
                      .order_by(RollKey.roll_index)).all()
    return [RollKeyEntry(int(r.roll_index or 0), r.kind, bytes.fromhex(r.public_key_hex),
                         bytes.fromhex(r.id_hash_hex) if r.id_hash_hex else None) for r in rows]


def roll_key_of(db: Session, election_id: str, user: User) -> RollKey | None:
    entry = roll_entry_of(db, election_id, user)
    if entry is None:
        return None
    return db.scalars(select(RollKey).where(RollKey.election_id == election_id,
                                            RollKey.roll_entry_id == entry.id)).first()
