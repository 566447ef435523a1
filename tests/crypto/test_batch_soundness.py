"""Soundness of the batch verifier (crypto/batch.py, docs/protocol.md §1.7, eq. V1).

The batch test multiplies every branch equation ``z^n = ±a·u^e`` (eq. Z5: the sign is
free, ``−1 = (n−1)^n`` being an n-th residue) by its own random odd 64-bit ``δ`` before
multiplying them together.  Without fresh independent ``δ`` (for
example ``δ = 1``, or one ``δ`` for every branch) two wrong responses whose errors cancel
— ``z_0·k`` in one equation and ``z_1·k⁻¹`` in another — leave the product unchanged, so
the forgery would pass: ``(z_0 k)^n (z_1 k⁻¹)^n = (z_0 z_1)^n``.  The responses are not
in the Fiat–Shamir transcript, so such a forgery also passes every challenge check.

Each test below shows both sides: an injected ``rand_bits`` that makes every ``δ = 1``
(``rand_bits → 0``, then ``| 1``) accepts the forgery, and the real multipliers reject
it.  With ``δ`` fixed to 1 inside crypto/batch.py these tests fail.

The compensating factor ``k`` is never ``±1 (mod n)``: ``z·(−1) = n − z`` in two branches
is a *valid* proof by eq. Z5 (the honest branch with response ``n − z``), which every
check accepts (last test of the first section; tests/audit/test_pm_one_ballot.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Sequence

import pytest

from crypto import batch
from crypto import paillier as P
from crypto.ballot import ballot_proof_items, check_ballot, encrypt_ballot, verify_ballot
from crypto.batch import ProofItem, combined_check, find_invalid
from crypto.election import Option, election_fingerprint
from crypto.errors import InvalidProof
from crypto.petition import (
    PetitionParameters,
    check_signature,
    encrypt_signature,
    petition_fingerprint,
    signature_proof_item,
    verify_signature,
)
from crypto.proofs import (
    DOMAIN_OPTION,
    MembershipProof,
    check_membership_challenge,
    prove_membership,
    verify_membership,
)
from tests.keys import paillier_test_key
from tests.manifests import demo_manifest

KEY = paillier_test_key()
PK = KEY.public
N, NN = PK.n, PK.nsquare
MANIFEST = demo_manifest()
FP = election_fingerprint(MANIFEST, PK.to_json(), {"n": "ff", "e": "10001"}, bytes(32))
CHOICE = {"mayor": ["bolat"], "council": ["a", "c"], "budget": []}
REGIONS = tuple(Option(f"r{i:02d}", f"Region {i}") for i in range(6))
PARAMS = PetitionParameters("petition:9", "Plant trees", REGIONS)
PFP = petition_fingerprint(PARAMS, PK.to_json(), {"n": "ff", "e": "10001"}, bytes(32))
CTX = (("question_id", "q"), ("option_id", "o"))
K = 0x1D_5A7_0BAD_C0DE  # the compensating factor k (any unit k ≠ ±1 mod n)
K_INV = pow(K, -1, N)


def delta_one(bits: int) -> int:
    """A broken multiplier source: every δ = 0 | 1 = 1."""
    assert bits == batch.DELTA_BITS
    return 0


def delta_constant(bits: int) -> int:
    """Another broken source: one (large) δ shared by every branch."""
    return (1 << (bits - 1)) + 12345


def _with_z(proof: MembershipProof, branch: int, factor: int) -> MembershipProof:
    z = list(proof.z)
    z[branch] = z[branch] * factor % N
    return dataclasses.replace(proof, z=tuple(z))


def _option_proof(m: int, context=CTX) -> tuple[int, MembershipProof]:
    c, r = P.encrypt(PK, m)
    return c, prove_membership(PK, c, r, m, (0, 1), domain=DOMAIN_OPTION, fingerprint=FP,
                               context=context)


def _items(ballot) -> list[ProofItem]:
    return ballot_proof_items(PK, MANIFEST, FP, ballot, ballot.token_id)


def _replace_item_z(item: ProofItem, branch: int, factor: int) -> ProofItem:
    return dataclasses.replace(item, proof=_with_z(item.proof, branch, factor))


# --------------------------------------------------------------------------- within one proof


def test_compensating_responses_across_branches_of_one_proof() -> None:
    c, proof = _option_proof(1)
    forged = _with_z(_with_z(proof, 0, K), 1, K_INV)
    # Nothing before the powers notices: z is not hashed.
    check_membership_challenge(PK, c, (0, 1), forged, domain=DOMAIN_OPTION, fingerprint=FP,
                               context=CTX)
    with pytest.raises(InvalidProof, match=r"verification equation z\^n = ±a·u\^e fails"):
        verify_membership(PK, c, (0, 1), forged, domain=DOMAIN_OPTION, fingerprint=FP, context=CTX)
    item = ProofItem(c, (0, 1), forged)
    combined_check(PK, [item], rand_bits=delta_one)  # δ = 1: the forgery would pass
    combined_check(PK, [item], rand_bits=delta_constant)  # so would one shared δ
    with pytest.raises(InvalidProof, match="batch verification equation fails"):
        combined_check(PK, [item])
    assert find_invalid(PK, [("forged", [item])]) == ["forged"]
    assert find_invalid(PK, [("forged", [item])], rand_bits=delta_one) == []


def test_compensation_by_minus_one_is_a_valid_proof() -> None:
    """k = −1 is no forgery: ``(n − z)^n ≡ −z^n (mod N)`` meets the ``−`` sign of eq. Z5.

    The boundary of the tests here: every check, one by one or batched with any δ, accepts
    it — so the forgeries above use a k with ``k^n ≢ ±1 (mod N)``.
    """
    assert K % N not in (1, N - 1) and pow(K, N, NN) not in (1, NN - 1)
    c, proof = _option_proof(1)
    negated = _with_z(_with_z(proof, 0, N - 1), 1, N - 1)
    verify_membership(PK, c, (0, 1), negated, domain=DOMAIN_OPTION, fingerprint=FP, context=CTX)
    item = ProofItem(c, (0, 1), negated)
    combined_check(PK, [item])
    combined_check(PK, [item], rand_bits=delta_one)
    assert find_invalid(PK, [("negated", [item])]) == []


def test_compensating_responses_with_a_large_allowed_set() -> None:
    """The errors may sit in any two of many branches (first and last here)."""
    allowed = tuple(range(0, 40, 3))
    c, r = P.encrypt(PK, 9)
    proof = prove_membership(PK, c, r, 9, allowed, domain=DOMAIN_OPTION, fingerprint=FP,
                             context=CTX)
    forged = _with_z(_with_z(proof, 0, K), len(allowed) - 1, K_INV)
    item = ProofItem(c, allowed, forged)
    combined_check(PK, [item], rand_bits=delta_one)
    with pytest.raises(InvalidProof, match="batch verification equation fails"):
        combined_check(PK, [item])


def test_compensating_commitment_and_response_shift_is_caught() -> None:
    """Errors split between branches' z in three places: k, k, k⁻²."""
    allowed = (0, 1, 2)
    c, r = P.encrypt(PK, 2)
    proof = prove_membership(PK, c, r, 2, allowed, domain=DOMAIN_OPTION, fingerprint=FP,
                             context=CTX)
    forged = _with_z(_with_z(_with_z(proof, 0, K), 1, K), 2, K_INV * K_INV % N)
    item = ProofItem(c, allowed, forged)
    combined_check(PK, [item], rand_bits=delta_one)
    with pytest.raises(InvalidProof, match="batch verification equation fails"):
        combined_check(PK, [item])


# --------------------------------------------------------------------------- within one ballot


def test_compensating_errors_across_proofs_of_one_ballot() -> None:
    ballot, _ = encrypt_ballot(PK, MANIFEST, FP, bytes([3]) * 32, CHOICE)
    items = _items(ballot)
    assert len(items) >= 4
    # option proof #0 gets z·k, the selection-count proof of the first question z·k⁻¹
    count_index = len(MANIFEST.questions[0].options)
    forged = list(items)
    forged[0] = _replace_item_z(items[0], 1, K)
    forged[count_index] = _replace_item_z(items[count_index], 0, K_INV)
    combined_check(PK, forged, rand_bits=delta_one)
    with pytest.raises(InvalidProof, match="batch verification equation fails"):
        combined_check(PK, forged)
    assert find_invalid(PK, [("ballot", forged)]) == ["ballot"]


def test_check_ballot_rejects_compensating_errors_and_names_the_proof() -> None:
    ballot, _ = encrypt_ballot(PK, MANIFEST, FP, bytes([4]) * 32, CHOICE)
    q0 = ballot.contests[0]
    s0, s1 = q0.selections[0], q0.selections[1]
    s0 = dataclasses.replace(s0, proof=_with_z(s0.proof, 0, K))
    s1 = dataclasses.replace(s1, proof=_with_z(s1.proof, 1, K_INV))
    contest = dataclasses.replace(q0, selections=(s0, s1) + q0.selections[2:])
    forged = dataclasses.replace(ballot, contests=(contest,) + ballot.contests[1:])
    combined_check(PK, _items(forged), rand_bits=delta_one)
    message = f"question {q0.question_id}, option {s0.option_id}: verification equation"
    with pytest.raises(InvalidProof, match=message):
        check_ballot(PK, MANIFEST, FP, forged, forged.token_id)
    with pytest.raises(InvalidProof, match=message):
        verify_ballot(PK, MANIFEST, FP, forged, forged.token_id)


# --------------------------------------------------------------------------- across ballots


def _ballots(count: int) -> list[tuple[Hashable, Sequence[ProofItem]]]:
    out: list[tuple[Hashable, Sequence[ProofItem]]] = []
    for i in range(count):
        ballot, _ = encrypt_ballot(PK, MANIFEST, FP, bytes([16 + i]) * 32, CHOICE)
        out.append((f"b{i}", _items(ballot)))
    return out


@pytest.fixture(scope="module")
def ballots() -> list[tuple[Hashable, Sequence[ProofItem]]]:
    return _ballots(6)


def test_compensating_errors_across_two_ballots_name_both(ballots) -> None:
    keyed = list(ballots)
    assert find_invalid(PK, keyed) == []
    key1, items1 = keyed[1]
    key4, items4 = keyed[4]
    keyed[1] = (key1, [_replace_item_z(items1[0], 0, K)] + list(items1[1:]))
    keyed[4] = (key4, list(items4[:-1]) + [_replace_item_z(items4[-1], 0, K_INV)])
    flat = [item for _, group in keyed for item in group]
    combined_check(PK, flat, rand_bits=delta_one)
    assert find_invalid(PK, keyed, rand_bits=delta_one) == []
    with pytest.raises(InvalidProof, match="batch verification equation fails"):
        combined_check(PK, flat)
    assert find_invalid(PK, keyed) == ["b1", "b4"]


def test_find_invalid_names_three_bad_ballots_among_many(ballots) -> None:
    keyed = list(ballots)
    for index, branch in ((0, 0), (2, 1), (5, 0)):
        key, items = keyed[index]
        keyed[index] = (key, [items[0], _replace_item_z(items[1], branch, 2)] + list(items[2:]))
    assert find_invalid(PK, keyed) == ["b0", "b2", "b5"]


def test_find_invalid_of_nothing_and_all_bad(ballots) -> None:
    assert find_invalid(PK, []) == []
    keyed = [(key, [_replace_item_z(items[0], 0, 3)] + list(items[1:])) for key, items in ballots]
    assert find_invalid(PK, keyed) == [key for key, _ in ballots]


# --------------------------------------------------------------------------- malformed items


def _malformed(item: ProofItem) -> dict[str, tuple[ProofItem, str]]:
    p = item.proof
    return {
        "c zero": (dataclasses.replace(item, c=0), "statement ciphertext invalid"),
        "c = n": (dataclasses.replace(item, c=N), "statement ciphertext invalid"),
        "c = n^2": (dataclasses.replace(item, c=NN), "statement ciphertext invalid"),
        "c negative": (dataclasses.replace(item, c=-item.c), "statement ciphertext invalid"),
        "allowed empty": (dataclasses.replace(item, allowed=()), "non-empty and without repeats"),
        "allowed repeated": (dataclasses.replace(item, allowed=(1, 1)), "without repeats"),
        "allowed = n": (dataclasses.replace(item, allowed=(0, N)), r"lie in \[0, n\)"),
        "allowed negative": (dataclasses.replace(item, allowed=(-1, 1)), r"lie in \[0, n\)"),
        "one branch short": (dataclasses.replace(item, proof=dataclasses.replace(p, z=p.z[:1])),
                             "exactly 2 branches"),
        "a = 0": (dataclasses.replace(item, proof=dataclasses.replace(p, a=(0, p.a[1]))),
                  r"commitment not in Z\*_\{n\^2\}"),
        "a multiple of n": (dataclasses.replace(item, proof=dataclasses.replace(p, a=(N, p.a[1]))),
                            r"commitment not in Z\*_\{n\^2\}"),
        "e = 2^t": (dataclasses.replace(item, proof=dataclasses.replace(p, e=(1 << 256, p.e[1]))),
                    r"challenge out of range \[0, 2\^t\)"),
        "e negative": (dataclasses.replace(item, proof=dataclasses.replace(p, e=(-1, p.e[1]))),
                       r"challenge out of range"),
        "z = 0": (dataclasses.replace(item, proof=dataclasses.replace(p, z=(0, p.z[1]))),
                  r"response is not in Z\*_n"),
        "z = n": (dataclasses.replace(item, proof=dataclasses.replace(p, z=(N, p.z[1]))),
                  r"response is not in Z\*_n"),
    }


@pytest.mark.parametrize("case", list(_malformed(ProofItem(3, (0, 1), MembershipProof((1, 1), (0, 0), (1, 1))))))
def test_malformed_item_inside_a_batch(ballots, case: str) -> None:
    keyed = [(key, list(items)) for key, items in ballots[:4]]
    bad, message = _malformed(keyed[2][1][0])[case]
    keyed[2][1][0] = bad
    flat = [item for _, group in keyed for item in group]
    with pytest.raises(InvalidProof, match=message):
        combined_check(PK, flat)
    with pytest.raises(InvalidProof, match=message):
        combined_check(PK, flat, rand_bits=delta_one)
    assert find_invalid(PK, keyed) == ["b2"]


# --------------------------------------------------------------------------- petition batches


def _signature(i: int, region: str = "r02"):
    sig, _ = encrypt_signature(PK, PARAMS, PFP, bytes([40 + i]) * 32, region)
    return sig


def test_petition_signature_with_compensating_branches_is_rejected() -> None:
    sig = _signature(0)
    forged = dataclasses.replace(sig, proof=_with_z(_with_z(sig.proof, 0, K), 5, K_INV))
    item = signature_proof_item(PK, PARAMS, PFP, forged, forged.token_id)
    combined_check(PK, [item], rand_bits=delta_one)
    with pytest.raises(InvalidProof, match=r"region proof: verification equation z\^n"):
        check_signature(PK, PARAMS, PFP, forged, forged.token_id)
    with pytest.raises(InvalidProof, match=r"region proof: verification equation z\^n"):
        verify_signature(PK, PARAMS, PFP, forged, forged.token_id)


def test_petition_batch_names_two_signatures_with_cancelling_errors() -> None:
    sigs = [_signature(i, REGIONS[i % len(REGIONS)].id) for i in range(5)]
    items = [signature_proof_item(PK, PARAMS, PFP, s, s.token_id) for s in sigs]
    keyed: list[tuple[Hashable, Sequence[ProofItem]]] = [(i, [it]) for i, it in enumerate(items)]
    assert find_invalid(PK, keyed) == []
    keyed[0] = (0, [_replace_item_z(items[0], 3, K)])
    keyed[3] = (3, [_replace_item_z(items[3], 1, K_INV)])
    assert find_invalid(PK, keyed, rand_bits=delta_one) == []
    assert find_invalid(PK, keyed) == [0, 3]


# --------------------------------------------------------------------------- the multipliers


def test_multipliers_are_fresh_odd_and_full_length() -> None:
    """combined_check asks for one 64-bit δ per branch (docs/protocol.md §1.7), and forces it odd."""
    c, proof = _option_proof(0)
    seen: list[int] = []

    def spy(bits: int) -> int:
        seen.append(bits)
        return 2 * len(seen)  # even: the batch must make it odd

    item = ProofItem(c, (0, 1), proof)
    combined_check(PK, [item, item], rand_bits=spy)
    assert seen == [batch.DELTA_BITS] * 4
    assert batch.DELTA_BITS == 64


def test_bisection_uses_the_injected_multipliers(ballots) -> None:
    """Every combined check of the bisection draws its δ from the caller's source."""
    import secrets

    keyed = [(key, list(items)) for key, items in ballots[:2]]
    keyed[0][1][0] = _replace_item_z(keyed[0][1][0], 0, 2)
    branches = sum(len(item.allowed) for _, group in keyed for item in group)
    calls: list[int] = []

    def counting(bits: int) -> int:
        calls.append(bits)
        return secrets.randbits(bits)

    assert find_invalid(PK, keyed, rand_bits=counting) == ["b0"]
    # top level (all branches), then each half once
    assert len(calls) == 2 * branches


# --------------------------------------------------------------------------- count proof factors


def test_count_proof_is_checked_through_its_factors() -> None:
    """The selection-count item names the option ciphertexts whose product it proves about."""
    ballot, _ = encrypt_ballot(PK, MANIFEST, FP, bytes([5]) * 32, CHOICE)
    items = _items(ballot)
    count_index = len(MANIFEST.questions[0].options)
    count = items[count_index]
    options = [s.ciphertext for s in ballot.contests[0].selections]
    assert count.factors == tuple(options)
    combined_check(PK, items)
    # a count proof about a different product fails even though its factors are the options
    other = dataclasses.replace(count, c=count.c * (1 + N) % NN)
    with pytest.raises(InvalidProof, match="^the ciphertext is not the product of its factors$"):
        combined_check(PK, items[:count_index] + [other] + items[count_index + 1:])
    # factors that multiply to c but are not the options: the proof equation decides
    c0, r0 = P.encrypt(PK, 0)
    shifted = (options[0] * c0 % NN,) + tuple(options[1:-1]) + (options[-1] * pow(c0, -1, NN) % NN,)
    combined_check(PK, items[:count_index] + [dataclasses.replace(count, factors=shifted)]
                   + items[count_index + 1:])
    # a forged count proof is caught through the factors as it was through the product
    forged = _replace_item_z(count, 0, K)
    with pytest.raises(InvalidProof, match="^batch verification equation fails$"):
        combined_check(PK, items[:count_index] + [forged] + items[count_index + 1:])
    combined_check(PK, items[:count_index] + [_replace_item_z(forged, 0, K_INV)]
                   + items[count_index + 1:])


def test_count_proof_compensated_through_an_option_is_caught() -> None:
    """The folded exponent of an option (own proof + count proof) keeps both δ's apart."""
    ballot, _ = encrypt_ballot(PK, MANIFEST, FP, bytes([6]) * 32, CHOICE)
    items = _items(ballot)
    count_index = len(MANIFEST.questions[0].options)
    forged = list(items)
    forged[0] = _replace_item_z(items[0], 0, K)
    forged[count_index] = _replace_item_z(items[count_index], 0, K_INV)
    combined_check(PK, forged, rand_bits=delta_one)
    with pytest.raises(InvalidProof, match="^batch verification equation fails$"):
        combined_check(PK, forged)


def test_multi_exp_with_short_long_and_zero_exponents() -> None:
    """Exponents of 0, 1, 128 and 384 bits in one call (bases join at their own windows)."""
    import secrets

    pairs = [(secrets.randbelow(NN), secrets.randbits(128)) for _ in range(40)]
    pairs += [(secrets.randbelow(NN), secrets.randbits(384) | 1 << 383) for _ in range(9)]
    pairs += [(secrets.randbelow(NN), 0), (secrets.randbelow(NN), 1), (NN - 1, 3), (0, 5)]
    expected = 1
    for b, e in pairs:
        expected = expected * pow(b, e, NN) % NN
    assert batch.multi_exp(pairs, NN) == expected
    assert batch.multi_exp(pairs[::-1], NN) == expected
    assert batch.multi_exp([(7, 0)] * 5, NN) == 1


def test_window_minimises_the_multiplication_count() -> None:
    for count, bits in [(1, 128), (88, 128), (704, 128), (5632, 128), (192, 384), (10**6, 128)]:
        w = batch._window(count, bits)

        def cost(v: int, count: int = count, bits: int = bits) -> int:
            return -(-bits // v) * (count + (2 << v))

        assert all(cost(w) <= cost(v) for v in range(1, 17)), (count, bits, w)
    assert batch._window(5632, 128) >= 8
    assert batch._window(4, 128) <= 3
    assert batch._window(5, 1) == 1  # a 1-bit exponent: no window beats one bit
    # the bucket list is bounded: at most 2^16 buckets, even where a 17-bit window would
    # count fewer multiplications (17-bit exponents and a million bases: one window)
    assert batch._window(10**6, 17) <= 16


def test_odd_multipliers_catch_a_nontrivial_square_root_of_one() -> None:
    """Why δ is forced odd: a response multiplied by x with x² ≡ 1 but x ≠ ±1 (mod n)
    (built here from the test key's factors) puts w = xⁿ, of order 2 and w ≠ ±1, into one
    branch.  An odd δ keeps w (the batch fails); an even δ would turn it into 1."""
    p, q = KEY.p, KEY.q
    x = (p * pow(p, -1, q) * (q - 1) + q * pow(q, -1, p)) % N  # 1 mod p, −1 mod q
    assert x * x % N == 1 and x not in (1, N - 1)
    c, proof = _option_proof(1)
    forged = ProofItem(c, (0, 1), _with_z(proof, 1, x))
    with pytest.raises(InvalidProof, match=r"^verification equation z\^n = ±a·u\^e fails$"):
        verify_membership(PK, c, (0, 1), forged.proof, domain=DOMAIN_OPTION,
                          fingerprint=FP, context=CTX)
    for source in (delta_one, secrets_source):
        with pytest.raises(InvalidProof, match="^batch verification equation fails$"):
            combined_check(PK, [forged], rand_bits=source)

    def even(bits: int) -> int:
        return 2

    with pytest.raises(InvalidProof, match="^batch verification equation fails$"):
        combined_check(PK, [forged], rand_bits=even)  # made odd (3): w survives


def secrets_source(bits: int) -> int:
    import secrets

    return secrets.randbits(bits)


def test_the_left_hand_side_needs_its_product_only_modulo_n() -> None:
    """(Z + k·n)ⁿ ≡ Zⁿ (mod n²): the batch check takes ∏ z^δ (and ∏ r^δ of the openings)
    modulo n, on numbers half as long (docs/protocol.md §1.7)."""
    import secrets as _secrets

    import gmpy2

    from crypto import batch, batch_open

    n, nn = PK.n, PK.nsquare
    for _ in range(20):
        z, k = _secrets.randbelow(n), _secrets.randbelow(n)
        assert gmpy2.powmod(z + k * n, n, nn) == gmpy2.powmod(z, n, nn)
    moduli: list[int] = []
    real = batch.multi_exp

    def spy(pairs, modulus):  # type: ignore[no-untyped-def]
        moduli.append(modulus)
        return real(pairs, modulus)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(batch, "multi_exp", spy)
        mp.setattr(batch_open, "multi_exp", spy)
        c, r = P.encrypt(PK, 1)
        proof = prove_membership(PK, c, r, 1, (0, 1), domain=DOMAIN_OPTION, fingerprint=FP,
                                 context=CTX)
        batch.combined_check(PK, [ProofItem(c, (0, 1), proof)])
        assert moduli == [n, nn]
        moduli.clear()
        assert batch_open.openings_hold(PK, [(c, 1, r)])
        assert sorted(moduli) == [n, nn]
