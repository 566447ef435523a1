"""A TEST certificate authority for the demo and the tests — a STAND-IN for the national CA.

NEVER for real use: its private key sits next to the files it signs. It exists so that PKI
mode (docs/protocol.md §2.7) can be tried without the national CA.

Makes a CA, voter certificates with the subject serialNumber ``IIN<12 digits>`` (the Kazakh
national CA's convention), CRLs and PKCS#12 files, with pyca/cryptography.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
TEST_CA_NAME = "Saylau TEST CA (stand-in for the national CA, NOT FOR REAL USE)"


@dataclass(frozen=True)
class TestCA:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def issue(self, iin: str, *, key: Any = None, not_before: dt.datetime | None = None,
              days: int = 365, serial: int | None = None
              ) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        """A voter certificate for ``iin`` (P-256 key unless ``key`` is given)."""
        key = key or ec.generate_private_key(ec.SECP256R1())
        start = not_before or NOW - dt.timedelta(days=1)
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([
                    x509.NameAttribute(NameOID.COMMON_NAME, f"TEST VOTER {iin}"),
                    x509.NameAttribute(NameOID.SERIAL_NUMBER, f"IIN{iin}")]))
                .issuer_name(self.cert.subject)
                .public_key(key.public_key())
                .serial_number(serial or x509.random_serial_number())
                .not_valid_before(start).not_valid_after(start + dt.timedelta(days=days))
                .sign(self.key, hashes.SHA256()))
        return key, cert

    def crl(self, revoked: tuple[int, ...] = (), *, now: dt.datetime = NOW
            ) -> x509.CertificateRevocationList:
        builder = (x509.CertificateRevocationListBuilder().issuer_name(self.cert.subject)
                   .last_update(now - dt.timedelta(days=1))
                   .next_update(now + dt.timedelta(days=3650)))
        for serial in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(serial)
                .revocation_date(now - dt.timedelta(hours=1)).build())
        return builder.sign(self.key, hashes.SHA256())


def make_ca(name: str = TEST_CA_NAME, *, now: dt.datetime = NOW) -> TestCA:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=2))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(key, hashes.SHA256()))
    return TestCA(key, cert)


def pkcs12_bytes(key: Any, cert: x509.Certificate, password: bytes) -> bytes:
    return pkcs12.serialize_key_and_certificates(
        b"saylau-test-voter", key, cert, None,
        serialization.BestAvailableEncryption(password))


__all__ = ["DEMO_PKI_DIR", "NOW", "TEST_CA_NAME", "TestCA", "make_ca", "pkcs12_bytes",
           "write_demo_pki"]


DEMO_PKI_DIR = "demo-pki-TEST-CA-not-national"


def write_demo_pki(folder: Any, voters: dict[str, str], password: str) -> dict[str, Any]:
    """The TEST CA certificate and CRL (PEM) and one PKCS#12 file per demo voter.

    ``voters``: e-mail -> IIN.  Returns the paths written.
    """
    import os
    from pathlib import Path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ca = make_ca()
    (folder / "TEST-CA-not-national.pem").write_bytes(ca.pem())
    (folder / "TEST-CA-not-national.crl.pem").write_bytes(
        ca.crl().public_bytes(serialization.Encoding.PEM))
    files = {}
    for email, iin in voters.items():
        key, cert = ca.issue(iin, days=730)
        path = folder / f"{email.split('@')[0]}-TEST.p12"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pkcs12_bytes(key, cert, password.encode()))
        files[email] = path
    return {"ca": folder / "TEST-CA-not-national.pem",
            "crl": folder / "TEST-CA-not-national.crl.pem", "pkcs12": files}
