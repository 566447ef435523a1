"""National-PKI mode: check a voter's X.509 certificate (docs/protocol.md §2.7 "PKI mode").

A certificate is accepted when (pyca/cryptography does every step):

1. it is directly issued by one of the configured CA certificates (signature and issuer
   name, :meth:`Certificate.verify_directly_issued_by`);
2. ``not_valid_before ≤ now < not_valid_after``;
3. its serial number is not on that CA's CRL (the CRL's own signature is checked against
   the CA and the CRL must be current: ``next_update > now``);
4. its key is RSA (≥ 2048 bits) or ECDSA P-256/P-384 — GOST 34.10 keys are out of scope;
5. its subject's ``serialNumber`` attribute is ``"IIN"`` followed by 12 digits (the
   Kazakh national CA's convention); the 12 digits are the voter's national id.

Only a one-level chain (CA → voter) is checked; a real deployment with intermediate
CAs configures the intermediates as the trusted issuers.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.x509.oid import NameOID

from crypto.errors import CryptoError
from crypto.roll import load_spki, spki_der

IIN_RE = re.compile(r"^IIN(\d{12})$")


class CertificateRejected(CryptoError):
    """The certificate fails a PKI-mode check; ``code`` says which."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class CheckedCertificate:
    national_id: str
    spki: bytes


def load_certificate(data: bytes) -> x509.Certificate:
    """A certificate from PEM or DER bytes."""
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError as exc:
        raise CertificateRejected("invalid_certificate", "not an X.509 certificate") from exc


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def check_certificate(cert: x509.Certificate, cas: Sequence[x509.Certificate],
                      crls: Sequence[x509.CertificateRevocationList],
                      now: dt.datetime) -> CheckedCertificate:
    """Steps 1–5 above; raises :class:`CertificateRejected` with a code."""
    issuer = None
    for ca in cas:
        try:
            cert.verify_directly_issued_by(ca)
        except (ValueError, TypeError, Exception) as exc:  # noqa: BLE001 (pyca raises several)
            del exc
            continue
        issuer = ca
        break
    if issuer is None:
        raise CertificateRejected("untrusted_certificate",
                                  "the certificate is not issued by the configured CA")
    if not (_aware(cert.not_valid_before_utc) <= now < _aware(cert.not_valid_after_utc)):
        raise CertificateRejected("certificate_expired",
                                  "the certificate is outside its validity period")
    issuer_crls = [c for c in crls if c.issuer == issuer.subject]
    if not issuer_crls:
        raise CertificateRejected("no_crl", "no revocation list is configured for this CA")
    for crl in issuer_crls:
        if not crl.is_signature_valid(issuer.public_key()):  # type: ignore[arg-type]
            raise CertificateRejected("bad_crl", "the CA's revocation list is not signed by it")
        next_update = crl.next_update_utc
        if next_update is not None and _aware(next_update) <= now:
            raise CertificateRejected("stale_crl", "the CA's revocation list is out of date")
        if crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None:
            raise CertificateRejected("certificate_revoked",
                                      "the certificate is revoked by the CA")
    try:
        spki = spki_der(cert.public_key())
        load_spki(spki)
    except CryptoError as exc:
        raise CertificateRejected("unsupported_key", str(exc)) from exc
    serials = cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    match = IIN_RE.fullmatch(str(serials[0].value)) if len(serials) == 1 else None
    if match is None:
        raise CertificateRejected("no_national_id",
                                  "the certificate subject has no serialNumber 'IIN' + 12 digits")
    return CheckedCertificate(match.group(1), spki)


__all__ = ["IIN_RE", "CertificateRejected", "CheckedCertificate", "check_certificate",
           "load_certificate"]
