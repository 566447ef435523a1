import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import batch
from crypto import paillier as P
from crypto.election import Option
from crypto.errors import InvalidBallot, InvalidEncoding, InvalidProof
from crypto.petition import (
    EncryptedSignature,
    PetitionParameters,
    encrypt_signature,
    petition_fingerprint,
    signature_proof_item,
    verify_signature,
)
from tests.keys import paillier_test_key

KEY = paillier_test_key()
PK = KEY.public
REGIONS = tuple(Option(f"r{i:02d}", f"Region {i}") for i in range(20))
PARAMS = PetitionParameters("petition:7", "Plant trees", REGIONS)
FP = petition_fingerprint(PARAMS, PK.to_json(), {"n": "ff", "e": "10001"}, bytes(32))


@given(st.lists(st.sampled_from([r.id for r in REGIONS]), min_size=1, max_size=6))
@settings(max_examples=6, deadline=None)
def test_packed_sum_decrypts_to_region_counts(chosen):
    sigs = [encrypt_signature(PK, PARAMS, FP, bytes([i]) * 32, rid)[0] for i, rid in enumerate(chosen)]
    for s in sigs:
        verify_signature(PK, PARAMS, FP, EncryptedSignature.from_json(s.to_json()), s.token_id)
    total = P.add(PK, *(s.ciphertext for s in sigs))
    counts = PARAMS.unpack(KEY.decrypt(total))
    assert counts == {r.id: chosen.count(r.id) for r in REGIONS}


def test_two_regions_at_once_is_not_provable_and_forgery_fails():
    m = PARAMS.encode("r01") + PARAMS.encode("r02")
    c, r = P.encrypt(PK, m)
    from crypto.petition import DOMAIN_REGION, region_context
    from crypto.proofs import prove_membership
    forged = prove_membership(PK, c, r, m, (m,) + PARAMS.allowed[1:], domain=DOMAIN_REGION,
                              fingerprint=FP, context=region_context("petition:7", bytes(32)))
    sig = EncryptedSignature("petition:7", bytes(32), c, forged)
    with pytest.raises(InvalidProof):
        verify_signature(PK, PARAMS, FP, sig, bytes(32))


def test_signature_bound_to_petition_and_token():
    sig, _ = encrypt_signature(PK, PARAMS, FP, bytes([1]) * 32, "r03")
    with pytest.raises(InvalidBallot):
        verify_signature(PK, PARAMS, FP, sig, bytes([2]) * 32)
    with pytest.raises(InvalidProof):
        verify_signature(PK, PARAMS, FP, dataclasses.replace(sig, token_id=bytes([2]) * 32), bytes([2]) * 32)
    other = dataclasses.replace(PARAMS, petition_id="petition:8")
    with pytest.raises(InvalidBallot):
        verify_signature(PK, other, FP, sig, sig.token_id)
    with pytest.raises(InvalidProof):
        verify_signature(PK, PARAMS, bytes(32), sig, sig.token_id)


def test_batch_names_the_bad_signature():
    sigs = [encrypt_signature(PK, PARAMS, FP, bytes([i]) * 32, "r05")[0] for i in range(4)]
    items = [(i, [signature_proof_item(PK, PARAMS, FP, s, s.token_id)]) for i, s in enumerate(sigs)]
    assert batch.find_invalid(PK, items) == []
    bad = items[2][1][0]
    items[2] = (2, [dataclasses.replace(bad, c=bad.c * (1 + PK.n) % PK.nsquare)])
    assert batch.find_invalid(PK, items) == [2]


def test_parameters_validation():
    with pytest.raises(InvalidEncoding):
        PetitionParameters("petition:1", "t", ())
    with pytest.raises(InvalidEncoding):
        PetitionParameters("petition:1", "t", (Option("a", "A"), Option("a", "B")))
    too_many = PetitionParameters("petition:1", "t", tuple(Option(f"r{i}", "x") for i in range(40)))
    with pytest.raises(InvalidEncoding):
        encrypt_signature(PK, too_many, FP, bytes(32), "r1")
    with pytest.raises(InvalidBallot):
        encrypt_signature(PK, PARAMS, FP, bytes(32), "nowhere")
    assert PetitionParameters.from_json(PARAMS.to_json()) == PARAMS


def test_check_signature_batched():
    from crypto.petition import check_signature

    sig, _ = encrypt_signature(PK, PARAMS, FP, bytes([3]) * 32, "r07")
    check_signature(PK, PARAMS, FP, sig, sig.token_id)
    bad = dataclasses.replace(sig, proof=dataclasses.replace(sig.proof, z=sig.proof.z[:-1] + (sig.proof.z[-1] * 5 % PK.n,)))
    with pytest.raises(InvalidProof, match="region proof"):
        check_signature(PK, PARAMS, FP, bad, sig.token_id)
