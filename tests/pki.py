"""The TEST CA helpers (a stand-in for the national CA): see :mod:`saylau.demo_pki`."""

from saylau.demo_pki import NOW, TEST_CA_NAME, TestCA, make_ca, pkcs12_bytes

__all__ = ["NOW", "TEST_CA_NAME", "TestCA", "make_ca", "pkcs12_bytes"]
