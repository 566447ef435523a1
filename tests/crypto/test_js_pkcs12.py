"""PKI mode in the browser (§2.7): the booth's PKCS#12 signer against crypto/roll.py.

PKCS#12 files made here by the TEST CA (tests/pki.py: pyca/cryptography's default
encryption, PBES2 AES-256 + PBKDF2-HMAC-SHA256, HMAC-SHA256 MAC) and the demo's files
(saylau/demo_pki.py write_demo_pki) are opened by app/static/js/crypto/pkcs12.js (PKI.js +
WebCrypto, via tests/js/pkcs12-runner.mjs); the credential requests it signs must verify
with :func:`crypto.roll.verify_request`, and the certificate must pass
:func:`crypto.pki.check_certificate`.  A wrong password or a tampered file is refused.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from crypto.errors import InvalidSignature
from crypto.pki import check_certificate, load_certificate
from crypto.roll import RollEntry, SignedRequest, spki_der, verify_request
from saylau.demo_pki import write_demo_pki
from tests.pki import NOW, make_ca, pkcs12_bytes

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "tests" / "js" / "pkcs12-runner.mjs"
NODE = shutil.which("node")
PASSWORD = "vote-paßwörd-2026"
ROLL_INDEX = 5
REQUEST: dict[str, Any] = {"election_id": "pki-e1", "roll_index": ROLL_INDEX,
                           "blinded_message": "ab" * 256, "period": "2026-11-29"}


def _run(files: dict[str, bytes], password: str = PASSWORD) -> dict[str, Any]:
    assert NODE is not None, "node >= 20 is required (the browser client's JS)"
    proc = subprocess.run(
        [NODE, str(RUNNER)], capture_output=True, text=True, timeout=120, cwd=ROOT,
        input=json.dumps({"password": password, "request": REQUEST,
                          "files": {k: base64.b64encode(v).decode() for k, v in files.items()}}))
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def _check_signed(out: dict[str, Any], cert_der: bytes) -> None:
    assert "error" not in out, out
    cert = load_certificate(cert_der)
    assert bytes.fromhex(out["certificate"]) == cert_der
    assert bytes.fromhex(out["public_key"]) == spki_der(cert.public_key())
    entry = RollEntry(ROLL_INDEX, "x509", bytes.fromhex(out["public_key"]),
                      bytes(32))
    signed = SignedRequest.from_json(out["signed"])
    assert signed.request.to_json() == REQUEST
    verify_request(entry, signed)
    # the same signature over another request, or a flipped bit, does not verify
    moved = SignedRequest.from_json({**out["signed"],
                                     "request": {**REQUEST, "period": "2026-11-30"}})
    with pytest.raises(InvalidSignature, match="does not verify"):
        verify_request(entry, moved)
    sig = bytearray(signed.signature)
    sig[len(sig) // 2] ^= 1
    with pytest.raises(InvalidSignature, match="does not verify"):
        verify_request(entry, SignedRequest(signed.request, bytes(sig)))


def test_js_signs_with_rsa_and_ecdsa_pkcs12_files() -> None:
    """RSA-2048, P-256, P-384 keys in pyca's default PKCS#12 encryption."""
    from cryptography.hazmat.primitives import serialization

    ca = make_ca()
    keys = {"rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "p256": ec.generate_private_key(ec.SECP256R1()),
            "p384": ec.generate_private_key(ec.SECP384R1())}
    files, certs = {}, {}
    for name, key in keys.items():
        key, cert = ca.issue("870412450017", key=key)
        files[name] = pkcs12_bytes(key, cert, PASSWORD.encode())
        certs[name] = cert.public_bytes(serialization.Encoding.DER)
    out = _run(files)
    for name, cert_der in certs.items():
        _check_signed(out[name], cert_der)
        checked = check_certificate(load_certificate(bytes.fromhex(out[name]["certificate"])),
                                    [ca.cert], [ca.crl()], NOW)
        assert checked.national_id == "870412450017"


def test_js_opens_the_demo_pkcs12_files(tmp_path: Path) -> None:
    """The files `saylau demo` writes for PKI mode (saylau/demo_pki.py)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    paths = write_demo_pki(tmp_path, {"alice@example.org": "900101300123",
                                      "bob@example.org": "851230400456"}, PASSWORD)
    ca = x509.load_pem_x509_certificate(paths["ca"].read_bytes())
    crl = x509.load_pem_x509_crl(paths["crl"].read_bytes())
    files = {email: Path(p).read_bytes() for email, p in paths["pkcs12"].items()}
    out = _run(files)
    for email, data in files.items():
        from cryptography.hazmat.primitives.serialization import pkcs12

        loaded = pkcs12.load_pkcs12(data, PASSWORD.encode())
        assert loaded.cert is not None
        _check_signed(out[email], loaded.cert.certificate.public_bytes(
            serialization.Encoding.DER))
        checked = check_certificate(load_certificate(bytes.fromhex(out[email]["certificate"])),
                                    [ca], [crl], NOW)
        assert checked.national_id in ("900101300123", "851230400456")


def test_js_refuses_wrong_password_and_tampered_files() -> None:
    ca = make_ca()
    key, cert = ca.issue("900101300123")
    data = pkcs12_bytes(key, cert, PASSWORD.encode())
    tampered = bytearray(data)
    tampered[len(data) // 2] ^= 0x40
    out = _run({"wrong": data, "tampered": bytes(tampered), "truncated": data[:300],
                "garbage": b"MIIB not a pkcs12"}, password=PASSWORD)
    assert "signed" not in out["tampered"] and out["tampered"]["error"] == "Pkcs12Error"
    assert out["truncated"]["code"] == "invalid_file"
    assert out["garbage"]["code"] == "invalid_file"
    wrong = _run({"wrong": data}, password="vote-password-2026")["wrong"]
    assert wrong["error"] == "Pkcs12Error" and wrong["code"] == "wrong_password", wrong
    assert "signed" not in wrong
