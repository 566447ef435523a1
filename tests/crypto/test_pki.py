"""Unit tests of crypto/pki.py (PKI mode, docs/protocol.md §2.7): every rejection with its
code and message, and the boundaries of the validity period and the CRL's next update.

Written to kill the mutants of ``mutmut run 'crypto.pki.*'`` (docs/testing.md).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from crypto.errors import CryptoError
from crypto.pki import (
    CertificateRejected,
    CheckedCertificate,
    _aware,
    check_certificate,
    load_certificate,
)
from crypto.roll import spki_der
from tests.pki import NOW, make_ca
from tests.pki import TestCA as _CA

IIN = "870412300123"


def _exact(text: str) -> str:
    return "^" + re.escape(text) + "$"


@functools.cache
def _ca(name: str = "CA one") -> _CA:
    return make_ca(name)


def _reject(code: str, message: str, *args: Any) -> None:
    with pytest.raises(CertificateRejected, match=_exact(message)) as info:
        check_certificate(*args)
    assert info.value.code == code
    assert isinstance(info.value, CryptoError)


def _cert(ca: _CA, subject: list[x509.NameAttribute], key: Any = None) -> tuple[Any, x509.Certificate]:
    key = key or ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name(subject))
            .issuer_name(ca.cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - dt.timedelta(days=1))
            .not_valid_after(NOW + dt.timedelta(days=30))
            .sign(ca.key, hashes.SHA256()))
    return key, cert


def test_load_certificate_pem_der_and_garbage() -> None:
    _, cert = _ca().issue(IIN)
    pem = cert.public_bytes(serialization.Encoding.PEM)
    der = cert.public_bytes(serialization.Encoding.DER)
    assert load_certificate(pem) == cert
    assert load_certificate(b"  \n" + pem) == cert
    assert load_certificate(der) == cert
    for bad in (b"", b"garbage", b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                der[:-10]):
        with pytest.raises(CertificateRejected, match=_exact("not an X.509 certificate")) as info:
            load_certificate(bad)
        assert info.value.code == "invalid_certificate"


def test_a_good_certificate_gives_the_iin_and_the_key() -> None:
    ca = _ca()
    key, cert = ca.issue(IIN)
    checked = check_certificate(cert, [ca.cert], [ca.crl()], NOW)
    assert checked == CheckedCertificate(IIN, spki_der(key.public_key()))


def test_the_issuer_is_found_among_several_cas() -> None:
    ca, other = _ca(), _ca("CA two")
    key, cert = ca.issue(IIN)
    expected = CheckedCertificate(IIN, spki_der(key.public_key()))
    assert check_certificate(cert, [other.cert, ca.cert], [other.crl(), ca.crl()], NOW) == expected
    assert check_certificate(cert, [ca.cert, other.cert], [ca.crl()], NOW) == expected


def test_untrusted_issuer() -> None:
    ca, other = _ca(), _ca("CA two")
    _, cert = ca.issue(IIN)
    msg = "the certificate is not issued by the configured CA"
    _reject("untrusted_certificate", msg, cert, [other.cert], [other.crl()], NOW)
    _reject("untrusted_certificate", msg, cert, [], [ca.crl()], NOW)
    # Same name, another key: the signature does not verify.
    impostor = make_ca("CA one")
    _reject("untrusted_certificate", msg, cert, [impostor.cert], [impostor.crl()], NOW)


def test_validity_period_boundaries() -> None:
    ca = _ca()
    start = NOW - dt.timedelta(days=5)
    _, cert = ca.issue(IIN, not_before=start, days=10)
    end = start + dt.timedelta(days=10)
    msg = "the certificate is outside its validity period"
    assert check_certificate(cert, [ca.cert], [ca.crl()], start).national_id == IIN
    assert check_certificate(cert, [ca.cert], [ca.crl()],
                             end - dt.timedelta(seconds=1)).national_id == IIN
    _reject("certificate_expired", msg, cert, [ca.cert], [ca.crl()], end)
    _reject("certificate_expired", msg, cert, [ca.cert], [ca.crl()],
            start - dt.timedelta(seconds=1))


def test_a_crl_of_the_issuer_is_required_and_must_be_signed_by_it() -> None:
    ca, other = _ca(), _ca("CA two")
    _, cert = ca.issue(IIN)
    _reject("no_crl", "no revocation list is configured for this CA", cert, [ca.cert], [], NOW)
    _reject("no_crl", "no revocation list is configured for this CA",
            cert, [ca.cert], [other.crl()], NOW)
    impostor = make_ca("CA one")
    _reject("bad_crl", "the CA's revocation list is not signed by it",
            cert, [ca.cert], [impostor.crl()], NOW)
    _reject("bad_crl", "the CA's revocation list is not signed by it",
            cert, [ca.cert], [ca.crl(), impostor.crl()], NOW)


def test_stale_crl_boundary() -> None:
    ca = _ca()
    _, cert = ca.issue(IIN)
    crl = ca.crl(now=NOW - dt.timedelta(days=3650))   # next_update = NOW
    assert crl.next_update_utc == NOW
    _reject("stale_crl", "the CA's revocation list is out of date", cert, [ca.cert], [crl], NOW)
    checked = check_certificate(cert, [ca.cert], [crl], NOW - dt.timedelta(seconds=1))
    assert checked.national_id == IIN


def test_revoked_certificate() -> None:
    ca = _ca()
    _, cert = ca.issue(IIN)
    _reject("certificate_revoked", "the certificate is revoked by the CA",
            cert, [ca.cert], [ca.crl((cert.serial_number,))], NOW)
    _reject("certificate_revoked", "the certificate is revoked by the CA",
            cert, [ca.cert], [ca.crl(), ca.crl((cert.serial_number,))], NOW)
    assert check_certificate(cert, [ca.cert], [ca.crl((cert.serial_number + 1,))],
                             NOW).national_id == IIN


def test_unsupported_keys() -> None:
    ca = _ca()
    _, p521 = ca.issue(IIN, key=ec.generate_private_key(ec.SECP521R1()))
    _reject("unsupported_key",
            "x509 roll keys must be RSA or ECDSA P-256/P-384 (GOST is not supported)",
            p521, [ca.cert], [ca.crl()], NOW)
    _, small = ca.issue(IIN, key=rsa.generate_private_key(public_exponent=65537, key_size=1024))
    _reject("unsupported_key", "RSA roll keys must have at least 2048 bits",
            small, [ca.cert], [ca.crl()], NOW)


@pytest.mark.parametrize("serials", [
    [],
    ["IIN87041230012"],
    ["IIN8704123001234"],
    ["iin870412300123"],
    ["870412300123"],
    ["IIN87041230012X"],
    ["IIN870412300123", "IIN870412300124"],
])
def test_the_subject_must_carry_one_iin_serial_number(serials: list[str]) -> None:
    ca = _ca()
    subject = [x509.NameAttribute(NameOID.COMMON_NAME, "TEST VOTER")]
    subject += [x509.NameAttribute(NameOID.SERIAL_NUMBER, s) for s in serials]
    _, cert = _cert(ca, subject)
    _reject("no_national_id", "the certificate subject has no serialNumber 'IIN' + 12 digits",
            cert, [ca.cert], [ca.crl()], NOW)


def test_one_serial_number_among_other_attributes() -> None:
    ca = _ca()
    key, cert = _cert(ca, [x509.NameAttribute(NameOID.SERIAL_NUMBER, "IIN000000000001"),
                           x509.NameAttribute(NameOID.COMMON_NAME, "X")])
    assert check_certificate(cert, [ca.cert], [ca.crl()], NOW) == CheckedCertificate(
        "000000000001", spki_der(key.public_key()))


def test_aware_treats_a_naive_time_as_utc_and_keeps_an_aware_one() -> None:
    # pyca's *_utc properties are always aware; the helper is tested directly.
    naive = dt.datetime(2026, 3, 1, 12, 0)
    assert _aware(naive) == dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
    assert _aware(naive).tzinfo is dt.UTC
    almaty = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=5)))
    assert _aware(almaty) is almaty
