"""Board verification relies on crypto.batch: cancelling errors in two entries are named.

A petition board (tally.petition.verify_petition_board) whose entries 1 and 3 carry
region proofs with compensating responses (``z·k`` in one, ``z·k⁻¹`` in the other,
each entry correctly Ed25519-signed by its holder) passes the batch equation only when
the multipliers δ are not independent; with the real ones both entries are named.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import tally.board_batch as board_batch
from crypto.batch import find_invalid
from crypto.credentials import (
    ballot_public_key_bytes,
    begin_credential,
    finish_credential,
    generate_ballot_key,
    issue_blind_signature,
    sign_payload,
)
from crypto.election import Option
from crypto.encoding import canonical_json
from crypto.petition import (
    EncryptedSignature,
    PetitionParameters,
    encrypt_signature,
    petition_fingerprint,
)
from crypto.threshold import ThresholdPublicKey
from tally.petition import PetitionContext, verify_petition_board

FIXTURES = Path(__file__).parents[1] / "fixtures"
TPK = ThresholdPublicKey.from_json(
    json.loads((FIXTURES / "threshold-test-key-1024-3of5.json").read_text())["public_key"])
PK = TPK.public
PARAMS = PetitionParameters("petition:2", "Trees", tuple(Option(f"r{i}", f"R{i}") for i in range(4)))
K = 0xC0FFEE_1234_5678
K_INV = pow(K, -1, PK.n)


def _fp(issuer_sk: Any) -> bytes:
    return petition_fingerprint(PARAMS, TPK.to_json(), issuer_sk.public_key().to_json(), bytes(32))


def _entry(issuer_sk: Any, index: int, region: str,
           tamper: Callable[[EncryptedSignature], EncryptedSignature] = lambda s: s) -> dict[str, Any]:
    ipk = issuer_sk.public_key()
    bsk = generate_ballot_key()
    blinded, state = begin_credential(ipk, PARAMS.petition_id, ballot_public_key_bytes(bsk))
    cred = finish_credential(ipk, state, issue_blind_signature(issuer_sk, blinded))
    sig, _ = encrypt_signature(PK, PARAMS, _fp(issuer_sk), cred.token_id, region)
    sj = tamper(sig).to_json()
    return {"kind": "signature", "petition_id": PARAMS.petition_id, "index": index,
            "credential": cred.to_json(), "signature": sj,
            "ed25519_signature": sign_payload(bsk, canonical_json(sj)).hex(), "signed_at": 1}


def _scale_z(branch: int, factor: int) -> Callable[[EncryptedSignature], EncryptedSignature]:
    def tamper(sig: EncryptedSignature) -> EncryptedSignature:
        z = list(sig.proof.z)
        z[branch] = z[branch] * factor % PK.n
        return dataclasses.replace(sig, proof=dataclasses.replace(sig.proof, z=tuple(z)))
    return tamper


@pytest.fixture(scope="module")
def forged_board(issuer_test_key: Any) -> list[dict[str, Any]]:
    return [
        _entry(issuer_test_key, 0, "r0"),
        _entry(issuer_test_key, 1, "r1", _scale_z(2, K)),
        _entry(issuer_test_key, 2, "r2"),
        _entry(issuer_test_key, 3, "r3", _scale_z(0, K_INV)),
        _entry(issuer_test_key, 4, "r1"),
    ]


def _ctx(issuer_sk: Any) -> PetitionContext:
    return PetitionContext(PARAMS, PK, issuer_sk.public_key(), _fp(issuer_sk))


@pytest.mark.parametrize("batch", [True, False])
def test_board_names_both_entries_with_cancelling_errors(issuer_test_key, forged_board, batch):
    result = verify_petition_board(_ctx(issuer_test_key), forged_board, batch=batch)
    assert sorted(p.index for p in result.problems if p.check == "region-proof") == [1, 3], result.problems
    assert len(result.problems) == 2
    assert sorted(result.counted) == [0, 2, 4]


def test_with_delta_one_the_board_would_accept_the_forgery(issuer_test_key, forged_board,
                                                           monkeypatch):
    """The same board with every δ = 1: nothing is found — the multipliers matter.

    The board's batch check runs through tally.board_batch (chunks, in this process with
    ``workers=1``), whose chunks call :func:`crypto.batch.find_invalid`.
    """
    monkeypatch.setattr(board_batch, "find_invalid",
                        functools.partial(find_invalid, rand_bits=lambda bits: 0))
    result = verify_petition_board(_ctx(issuer_test_key), forged_board, batch=True, workers=1)
    assert result.ok and sorted(result.counted) == [0, 1, 2, 3, 4]
