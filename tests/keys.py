"""Loaders for the pre-generated TEST keys in tests/fixtures (small, never for elections)."""

from __future__ import annotations

import functools
import json
import pathlib

from crypto.paillier import PrivateKey

FIXTURES = pathlib.Path(__file__).parent / "fixtures"


@functools.cache
def paillier_test_key() -> PrivateKey:
    data = json.loads((FIXTURES / "paillier-test-key-1024.json").read_text())
    return PrivateKey.from_json(data["private"])
