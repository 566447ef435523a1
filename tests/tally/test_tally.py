"""Board verification, homomorphic aggregation and threshold decryption of the tally."""

from __future__ import annotations

import copy
import functools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tally.verify_board as vb
from audit.checks import prefix_roots
from crypto.encoding import canonical_json, hex_to_int, int_to_hex
from crypto.errors import DecryptionError, InvalidEncoding
from crypto.merkle import MerkleLog, leaf_hash
from crypto.threshold import PartialDecryption
from tally.aggregate import EncryptedTally, aggregate, aggregate_ballots
from tally.decrypt import (
    TrusteePartials,
    check_partials,
    combine_tally,
    results_from_json,
    tally_context,
    trustee_decrypt,
)
from tally.verify_board import ElectionContext, verify_board
from tests.recordgen import GeneratedElection, generate


@functools.cache
def _base() -> GeneratedElection:
    return generate(4)


@pytest.fixture()
def gen() -> GeneratedElection:
    return copy.deepcopy(_base())


def _ctx(gen: GeneratedElection, policy: str | None = None) -> ElectionContext:
    return ElectionContext(gen.manifest, gen.tpk.public, gen.issuer.public_key(),
                           gen.fingerprint, policy or gen.revote_policy)


def _checks(result: vb.BoardResult) -> set[tuple[int, str]]:
    return {(p.index, p.check) for p in result.problems}


def test_valid_board(gen: GeneratedElection) -> None:
    calls: list[tuple[str, int, int]] = []
    result = verify_board(_ctx(gen), gen.board, credentials_issued=gen.issued,
                          progress=lambda *a: calls.append(a))
    assert result.ok, result.problems
    assert result.entries == 6 and result.audited == 1 and result.tokens == 4
    # the revoted first ballot of voter 1 (entry 2) is not counted; its revote (5) is
    assert [c.index for c in result.counted] == [0, 3, 4, 5]
    assert result.counted[0].leaf_hash == leaf_hash(canonical_json(gen.board[0])).hex()
    assert calls and calls[-1][1] == calls[-1][2]


def test_parallel_path_agrees(gen: GeneratedElection, monkeypatch: pytest.MonkeyPatch) -> None:
    gen.board[3]["ballot"]["contests"][1]["count_proof"]["z"][0] = int_to_hex(7)
    monkeypatch.setattr(vb, "PARALLEL_THRESHOLD", 0)
    monkeypatch.setattr(vb, "CHUNK", 2)
    result = verify_board(_ctx(gen), gen.board, workers=2)
    assert (3, "ballot-proof") in _checks(result)


def test_batch_names_the_bad_ballot(gen: GeneratedElection) -> None:
    """A wrong response z passes the Fiat–Shamir check; the batch test and bisection name it."""
    proof = gen.board[4]["ballot"]["contests"][0]["selections"][0]["proof"]
    proof["z"][0] = int_to_hex(hex_to_int(proof["z"][0]) + 1)
    result = verify_board(_ctx(gen), gen.board)
    assert _checks(result) == {(4, "ballot-proof"), (4, "signature")}
    assert 4 not in [c.index for c in result.counted]


@pytest.mark.parametrize(("mutate", "expected"), [
    (lambda b: b[2].update(index=7), (2, "entry-format")),
    (lambda b: b[2].update(kind="vote"), (2, "entry-format")),
    (lambda b: b[2].update(election_id="other"), (2, "entry-format")),
    (lambda b: b[2].update(cast_at="yesterday"), (2, "entry-format")),
    (lambda b: b[2].update(ballot=[]), (2, "entry-format")),
    (lambda b: b[2]["credential"].update(randomizer="00" * 32), (2, "credential")),
    (lambda b: b[2]["credential"].update(scope_id="other-election"), (2, "credential")),
    (lambda b: b[2].update(credential={"scope_id": 1}), (2, "credential")),
    (lambda b: b[2].update(signature="00" * 64), (2, "signature")),
    (lambda b: b[2].update(signature="zz"), (2, "signature")),
    (lambda b: b[1]["secrets"]["mayor"]["aigerim"].update(m=1 - b[1]["secrets"]["mayor"]["aigerim"]["m"]),
     (1, "audit")),
    (lambda b: b[5].update(replaces=0), (5, "revote-chain")),
    (lambda b: b[0].update(replaces=3), (0, "revote-chain")),
])
def test_entry_problems(gen: GeneratedElection, mutate: Any, expected: tuple[int, str]) -> None:
    mutate(gen.board)
    result = verify_board(_ctx(gen), gen.board)
    assert expected in _checks(result)
    assert not result.ok


def test_token_mismatch(gen: GeneratedElection) -> None:
    """A voter's credential with another voter's (validly signed) ballot."""
    other = gen.voters[3]
    gen.board[0]["credential"] = other.credential.to_json()
    result = verify_board(_ctx(gen), gen.board)
    assert (0, "signature") in _checks(result)


def test_no_revote_policy(gen: GeneratedElection) -> None:
    result = verify_board(_ctx(gen, "no-revote"), gen.board)
    problems = result.by_check("revote-chain")
    assert [p.index for p in problems] == [5]
    assert "no-revote" in problems[0].message


def test_issuance_bound(gen: GeneratedElection) -> None:
    result = verify_board(_ctx(gen), gen.board, credentials_issued=3)
    assert (-1, "issuance") in _checks(result)
    assert "4 distinct credentials" in str(result.by_check("issuance")[0])


def test_copied_ciphertext(gen: GeneratedElection) -> None:
    gen.board[3]["ballot"]["contests"][2] = copy.deepcopy(gen.board[0]["ballot"]["contests"][2])
    result = verify_board(_ctx(gen), gen.board)
    assert (3, "ciphertext-copy") in _checks(result)


def test_unusable_input(gen: GeneratedElection) -> None:
    with pytest.raises(InvalidEncoding):
        verify_board(_ctx(gen), "not a board")
    with pytest.raises(InvalidEncoding):
        ElectionContext(gen.manifest, gen.tpk.public, gen.issuer.public_key(), gen.fingerprint,
                        "whatever")
    result = verify_board(_ctx(gen), [42, {"kind": "ballot", "index": 1, "cast_at": 1.5}])
    assert _checks(result) == {(0, "entry-format"), (1, "entry-format")}


# ------------------------------------------------------------------ aggregation + decryption


def test_aggregate_decrypts_to_plaintext_sum(gen: GeneratedElection) -> None:
    result = verify_board(_ctx(gen), gen.board)
    enc = aggregate(gen.tpk.public, gen.manifest, result.counted)
    assert enc.counted == tuple(c.tracker for c in result.counted)
    sets = [trustee_decrypt(gen.shares[i], enc, fingerprint=gen.fingerprint) for i in (4, 1, 2)]
    combined = combine_tally(gen.tpk, enc, sets, fingerprint=gen.fingerprint)
    assert combined.results == gen.expected_results()
    assert not combined.rejected
    assert set(combined.used[("mayor", "bolat")]) == {5, 2, 3}
    assert EncryptedTally.from_json(enc.to_json(), gen.tpk.public) == enc


def test_empty_tally_is_zero(gen: GeneratedElection) -> None:
    tally = aggregate_ballots(gen.tpk.public, gen.manifest, [])
    assert all(c == 1 for opts in tally.values() for c in opts.values())
    enc = EncryptedTally(gen.election_id, tally, ())
    sets = [trustee_decrypt(s, enc, fingerprint=gen.fingerprint) for s in gen.shares[:3]]
    assert combine_tally(gen.tpk, enc, sets, fingerprint=gen.fingerprint).results == {
        q.id: dict.fromkeys(q.option_ids, 0) for q in gen.manifest.questions}


def test_encrypted_tally_json_rejects() -> None:
    good = {"election_id": "e", "ballots_counted": 0, "counted_trackers": [],
            "tally": {"q": {"o": "1"}}}
    assert EncryptedTally.from_json(good).tally == {"q": {"o": 1}}
    for bad in ({**good, "ballots_counted": 2}, {**good, "tally": {"q": {"o": "0x1"}}},
                {**good, "tally": {"q": 3}}, {**good, "counted_trackers": [1]}):
        with pytest.raises(InvalidEncoding):
            EncryptedTally.from_json(bad)


def test_bad_partials_are_skipped_and_reported(gen: GeneratedElection) -> None:
    enc = EncryptedTally.from_json(gen.files["encrypted-tally.json"])
    sets = [trustee_decrypt(s, enc, fingerprint=gen.fingerprint) for s in gen.shares[:4]]
    key = ("council", "b")
    p = sets[0].partials[key]
    sets[0].partials[key] = PartialDecryption(p.index, p.c_i * 2 % gen.tpk.nsquare, p.proof)
    combined = combine_tally(gen.tpk, enc, sets, fingerprint=gen.fingerprint)
    assert combined.results == gen.expected_results()
    assert [(r.trustee_index, r.question_id, r.option_id) for r in combined.rejected] == [
        (1, "council", "b")]
    assert [str(r) for r in check_partials(gen.tpk, enc, sets, fingerprint=gen.fingerprint)] == [
        str(combined.rejected[0])]
    # with only 3 partials, one of them bad, the option cannot be decrypted
    with pytest.raises(DecryptionError, match="council/b"):
        combine_tally(gen.tpk, enc, sets[:3], fingerprint=gen.fingerprint)


def test_partial_bound_to_its_option(gen: GeneratedElection) -> None:
    """A partial moved to another option (or election) fails: the context is in its proof."""
    enc = EncryptedTally.from_json(gen.files["encrypted-tally.json"])
    tp = trustee_decrypt(gen.shares[0], enc, fingerprint=gen.fingerprint)
    tp.partials[("mayor", "dana")] = tp.partials[("mayor", "bolat")]
    bad = check_partials(gen.tpk, enc, [tp], fingerprint=gen.fingerprint)
    assert [(r.question_id, r.option_id) for r in bad] == [("mayor", "dana")]
    other = EncryptedTally("other-election", enc.tally, enc.counted)
    assert check_partials(gen.tpk, other, [tp], fingerprint=gen.fingerprint)[0].reason == (
        "partials are for another election")


def test_check_partials_structure(gen: GeneratedElection) -> None:
    enc = EncryptedTally.from_json(gen.files["encrypted-tally.json"])
    tp = trustee_decrypt(gen.shares[0], enc, fingerprint=gen.fingerprint)
    del tp.partials[("budget", "yes")]
    tp.partials[("budget", "no")] = tp.partials[("mayor", "dana")]
    tp2 = TrusteePartials(3, tp.election_id, dict(tp.partials))
    reasons = {(r.trustee_index, r.question_id, r.option_id, r.reason.split(" ")[0])
               for r in check_partials(gen.tpk, enc, [tp, tp2], fingerprint=gen.fingerprint,
                                       verify_proofs=False)}
    assert (1, "budget", "yes", "missing") in reasons
    assert (1, "budget", "no", "option") in reasons
    assert (3, "mayor", "aigerim", "partial") in reasons


def test_trustee_partials_json() -> None:
    assert tally_context("e", "q", "o") == ("election_id", "e", "question_id", "q",
                                            "option_id", "o")
    gen = _base()
    tp = TrusteePartials.from_json(gen.files["partial-decryptions.json"][0])
    assert TrusteePartials.from_json(tp.to_json()) == tp
    dup = tp.to_json()
    dup["partials"].append(dup["partials"][0])
    with pytest.raises(InvalidEncoding, match="duplicate"):
        TrusteePartials.from_json(dup)
    with pytest.raises(InvalidEncoding):
        TrusteePartials.from_json({"trustee_index": "1", "election_id": "e", "partials": []})


def test_results_from_json() -> None:
    assert results_from_json({"q": {"o": 3}}) == {"q": {"o": 3}}
    bads: list[object] = [[], {"q": []}, {"q": {"o": -1}}, {"q": {"o": True}}, {"q": {"o": 1.0}}]
    for bad in bads:
        with pytest.raises(InvalidEncoding):
            results_from_json(bad)


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=0, max_value=40), st.data())
def test_prefix_roots_match_rfc9162(size: int, data: st.DataObject) -> None:
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    sizes = set(data.draw(st.lists(st.integers(min_value=0, max_value=size), max_size=6)))
    log = MerkleLog(leaves)
    roots = prefix_roots(leaves, sizes)
    assert set(roots) == sizes
    for k in sizes:
        assert roots[k] == log.root(k)
