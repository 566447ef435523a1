"""tally.entry_checks: each entry check called directly, every fault by check name, exact
message and error type; the voting-window bounds; the audit secrets; the copy check.

The board tests (tests/tally/test_tally.py) see these faults through verify_board's
``(index, check)`` pairs only.  Written against the mutation run of 2026-11-29
(docs/testing.md "Mutation testing").
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from crypto.encoding import hex_to_int, int_to_hex
from crypto.errors import InvalidBallot, InvalidEncoding, InvalidProof, InvalidSignature
from crypto.paillier import PrivateKey
from tally.entry_checks import (
    ElectionContext,
    EntryCheck,
    EntryRejected,
    Fault,
    check_audit_secrets,
    check_audited_entry,
    check_ballot_entry,
    check_board_entry,
    ciphertext_digest,
    copied_ciphertexts,
)
from tests.recordgen import GeneratedElection, generate

OPENS = 1_767_225_600_000
CLOSES = 1_767_312_000_000
SIGNATURE_FAILS = ("signature", "ballot signature: ballot payload signature does not verify")


@functools.cache
def _gen() -> GeneratedElection:
    return generate(3)


def _ctx(opens: int | None = None, closes: int | None = None) -> ElectionContext:
    g = _gen()
    return ElectionContext(g.manifest, g.tpk.public, g.issuer.public_key(), g.fingerprint,
                           "last-counts", opens, closes)


def _entry(index: int) -> dict[str, Any]:
    """Board entry 0 is a ballot, entry 1 the audited one."""
    return copy.deepcopy(_gen().board[index])


def _faults(out: EntryCheck) -> list[tuple[str, str]]:
    return [(f.check, f.message) for f in out.faults]


def _errors(out: EntryCheck) -> list[type | None]:
    return [None if f.error is None else type(f.error) for f in out.faults]


# ------------------------------------------------------------------ valid entries


@pytest.mark.parametrize("verify_proofs", [True, False])
def test_valid_ballot_entry(verify_proofs: bool) -> None:
    entry = _entry(0)
    out = check_ballot_entry(_ctx(OPENS, CLOSES), entry, position=0, verify_proofs=verify_proofs)
    assert out.ok and out.faults == [] and out.kind == "ballot"
    assert out.ballot_json == entry["ballot"] and out.ballot is not None
    assert out.ballot.to_json() == entry["ballot"]
    assert out.token == bytes.fromhex(entry["ballot"]["token_id"])
    assert len(out.items) == 3 + 3 + 1 + 3  # one proof per selection, one per question
    assert out.openings == [] and out.secrets is None
    assert check_board_entry(_ctx(), entry, verify_proofs=verify_proofs).ok


@pytest.mark.parametrize("verify_proofs", [True, False])
def test_valid_audited_entry(verify_proofs: bool) -> None:
    entry = _entry(1)
    out = check_board_entry(_ctx(OPENS, CLOSES), entry, position=1, verify_proofs=verify_proofs)
    assert out.ok and out.kind == "audited" and out.token is None
    assert out.secrets is not None and out.secrets.to_json() == entry["secrets"]
    assert len(out.items) == 10
    expected = [(hex_to_int(s["ciphertext"]), entry["secrets"][c["question_id"]][s["option_id"]]["m"],
                 hex_to_int(entry["secrets"][c["question_id"]][s["option_id"]]["r"]))
                for c in entry["ballot"]["contests"] for s in c["selections"]]
    assert out.openings == ([] if verify_proofs else expected)


# ------------------------------------------------------------------ fields of every entry


def test_entry_not_an_object() -> None:
    for check in (check_ballot_entry, check_audited_entry):
        out = check(_ctx(), [1], position=0)
        assert _faults(out) == [("entry-format", "entry is not a JSON object")]
        assert _errors(out) == [InvalidEncoding] and out.kind is None and out.ballot is None
        assert str(out.faults[0].error) == "entry"
    out = check_board_entry(_ctx(), [1], position=0)
    assert _faults(out) == [("entry-format", "entry is not a JSON object")]
    assert _errors(out) == [None] and out.kind is None


def test_index_and_kind() -> None:
    entry = _entry(0)
    out = check_ballot_entry(_ctx(), entry, position=3)
    assert _faults(out) == [("entry-format", "index 0 is not its position 3")]
    assert out.kind == "ballot"
    entry["index"] = True
    assert _faults(check_ballot_entry(_ctx(), entry, position=1)) == [
        ("entry-format", "index True is not its position 1")]
    assert check_ballot_entry(_ctx(), entry).ok  # no position yet: not checked
    out = check_ballot_entry(_ctx(), _entry(1), position=1)
    assert _faults(out) == [("entry-format", "kind 'audited' is not 'ballot'")]
    assert out.kind is None and out.ballot is None
    assert _faults(check_audited_entry(_ctx(), _entry(0))) == [
        ("entry-format", "kind 'ballot' is not 'audited'")]


def test_unknown_kind() -> None:
    entry = _entry(0)
    entry["kind"] = "vote"
    out = check_board_entry(_ctx(), entry, position=2)
    assert _faults(out) == [("entry-format", "index 0 is not its position 2"),
                            ("entry-format", "unknown kind 'vote'")]
    assert out.kind is None
    entry["index"] = True
    assert _faults(check_board_entry(_ctx(), entry, position=1)) == [
        ("entry-format", "index True is not its position 1"), ("entry-format", "unknown kind 'vote'")]
    del entry["kind"]
    assert _faults(check_board_entry(_ctx(), entry)) == [("entry-format", "unknown kind None")]
    entry["index"] = 4
    assert _faults(check_board_entry(_ctx(), entry, position=4)) == [
        ("entry-format", "unknown kind None")]


def test_other_election_and_malformed_ballot() -> None:
    entry = _entry(0)
    entry["election_id"] = "other"
    out = check_ballot_entry(_ctx(), entry)
    assert _faults(out) == [("entry-format", "entry is for another election")]
    assert out.kind == "ballot" and out.ballot is not None
    entry = _entry(0)
    entry["ballot"] = []
    out = check_ballot_entry(_ctx(), entry)
    assert _faults(out) == [("entry-format", "malformed ballot: ballot: expected a JSON object")]
    assert _errors(out) == [InvalidEncoding] and out.kind is None and out.ballot is None
    entry["ballot"] = {**_entry(0)["ballot"], "contests": 5}
    assert _faults(check_ballot_entry(_ctx(), entry)) == [
        ("entry-format", "malformed ballot: ballot.contests: expected list")]


def test_non_canonical_ballot() -> None:
    entry = _entry(0)
    entry["ballot"]["note"] = 1
    entry["cast_at"] = "now"
    out = check_ballot_entry(_ctx(), entry)
    assert _faults(out) == [
        ("entry-format", "cast_at must be an integer (ms)"),
        ("entry-format", "ballot is not in canonical form (unknown or extra fields)")]
    assert _errors(out) == [None, InvalidEncoding]
    assert str(out.faults[1].error) == "non-canonical ballot"
    assert out.kind is None and out.ballot is None and out.ballot_json is None


@pytest.mark.parametrize(("cast_at", "window", "faults"), [
    (OPENS, (OPENS, CLOSES), []),
    (CLOSES - 1, (OPENS, CLOSES), []),
    (0, (None, None), []),
    (OPENS - 1, (OPENS, CLOSES),
     [f"cast_at {OPENS - 1} is before the window opens ({OPENS})"]),
    (CLOSES, (OPENS, CLOSES),
     [f"cast_at {CLOSES} is not before the window closes ({CLOSES})"]),
    (CLOSES, (OPENS, None), []),
    (OPENS - 1, (None, CLOSES), []),
    (-1, (None, None), ["cast_at must be non-negative"]),
    (-1, (OPENS, CLOSES), ["cast_at must be non-negative"]),
    (True, (None, None), ["cast_at must be an integer (ms)"]),
    (1.5, (None, None), ["cast_at must be an integer (ms)"]),
])
def test_cast_at_and_the_voting_window(cast_at: Any, window: tuple[int | None, int | None],
                                       faults: list[str]) -> None:
    entry = _entry(0)
    entry["cast_at"] = cast_at
    out = check_ballot_entry(_ctx(*window), entry)
    assert _faults(out) == [("entry-format", m) for m in faults]
    assert out.kind == "ballot" and out.ballot is not None and out.token is not None


# ------------------------------------------------------------------ ballot entries


def test_credential_faults() -> None:
    entry = _entry(0)
    entry["credential"] = "x"
    out = check_ballot_entry(_ctx(), entry)
    assert _faults(out) == [("credential", "malformed credential: credential: expected a JSON object")]
    assert _errors(out) == [InvalidEncoding]
    assert out.kind is None and out.token is None and out.items == []
    entry = _entry(0)
    entry["credential"]["scope_id"] = "other"
    out = check_ballot_entry(_ctx(), entry)
    assert _faults(out) == [
        ("credential", "credential not issued by this election's issuer: "
                       "credential was issued for another scope"),
        ("signature", "ballot.token_id is not the credential's token id"),
        ("ballot-proof", "ballot proof: ballot token id does not match the credential")]
    assert _errors(out) == [InvalidSignature, InvalidBallot, InvalidBallot]
    assert str(out.faults[1].error) == "token mismatch"
    assert out.kind == "ballot"


def test_signature_faults() -> None:
    entry = _entry(0)
    entry["signature"] = "zz"
    out = check_ballot_entry(_ctx(), entry)
    assert _faults(out) == [("signature", "ballot signature: signature: expected lowercase hex bytes")]
    assert _errors(out) == [InvalidEncoding]
    entry["signature"] = "00" * 64
    out = check_ballot_entry(_ctx(), entry)
    assert _faults(out) == [SIGNATURE_FAILS] and _errors(out) == [InvalidSignature]
    assert out.items  # the proofs are still checked


def test_token_of_another_credential() -> None:
    entry = _entry(0)
    entry["credential"] = _entry(2)["credential"]
    out = check_ballot_entry(_ctx(), entry)
    assert _faults(out) == [
        SIGNATURE_FAILS,
        ("signature", "ballot.token_id is not the credential's token id"),
        ("ballot-proof", "ballot proof: ballot token id does not match the credential")]
    assert out.token == bytes.fromhex(_entry(2)["ballot"]["token_id"])


def _bump_z(entry: dict[str, Any], path: tuple[Any, ...]) -> None:
    proof: Any = entry["ballot"]
    for key in path:
        proof = proof[key]
    proof["z"][0] = int_to_hex(hex_to_int(proof["z"][0]) + 1)


@pytest.mark.parametrize(("path", "message"), [
    (("contests", 0, "selections", 0, "proof"),
     "ballot proof: question mayor, option aigerim: verification equation z^n = ±a·u^e fails"),
    (("contests", 0, "count_proof"),
     "ballot proof: question mayor, selection count: verification equation z^n = ±a·u^e fails"),
])
def test_failing_proof_is_named_one_by_one(path: tuple[Any, ...], message: str) -> None:
    entry = _entry(0)
    _bump_z(entry, path)
    out = check_ballot_entry(_ctx(), entry)
    assert _faults(out) == [SIGNATURE_FAILS, ("ballot-proof", message)]
    assert _errors(out) == [InvalidSignature, InvalidProof]
    deferred = check_ballot_entry(_ctx(), entry, verify_proofs=False)
    assert _faults(deferred) == [SIGNATURE_FAILS]  # the caller batches the exponentiations
    assert len(deferred.items) == 10


def test_proofs_of_another_question_list() -> None:
    entry = _entry(0)
    entry["ballot"]["contests"] = entry["ballot"]["contests"][:2]
    out = check_ballot_entry(_ctx(), entry)
    assert _faults(out) == [SIGNATURE_FAILS, (
        "ballot-proof", "ballot proof: ballot questions do not match the manifest (order matters)")]
    assert out.items == []


# ------------------------------------------------------------------ audited entries


def test_audited_entry_fields_must_be_null() -> None:
    entry = _entry(1)
    entry.update(credential={}, signature="", replaces=0)
    out = check_audited_entry(_ctx(), entry)
    assert _faults(out) == [("entry-format", f"an audited entry must have {n} = null")
                            for n in ("credential", "signature", "replaces")]
    assert out.kind == "audited" and out.secrets is not None
    entry.update(credential=None, replaces=None)
    assert _faults(check_audited_entry(_ctx(), entry)) == [
        ("entry-format", "an audited entry must have signature = null")]


def _secrets_fault(mutate: Any, verify_proofs: bool = True) -> EntryCheck:
    entry = _entry(1)
    mutate(entry["secrets"])
    return check_audited_entry(_ctx(), entry, verify_proofs=verify_proofs)


@pytest.mark.parametrize("verify_proofs", [True, False])
@pytest.mark.parametrize(("mutate", "message", "error"), [
    (lambda s: s["mayor"]["aigerim"].update(m=1),
     "question mayor, option aigerim: the revealed plaintext and randomness do not reproduce "
     "the ciphertext", InvalidBallot),
    (lambda s: s["mayor"]["aigerim"].update(x=1),
     "secrets are not in canonical form (extra fields)", InvalidEncoding),
    (lambda s: s["mayor"].pop("aigerim"),
     "secrets do not cover exactly the manifest's questions and options", InvalidBallot),
    (lambda s: s.update(extra=s["budget"]),
     "secrets do not cover exactly the manifest's questions and options", InvalidBallot),
    (lambda s: s["budget"]["yes"].update(r="0"), "secrets: r is not in Z*_n", InvalidEncoding),
])
def test_audit_faults(mutate: Any, message: str, error: type, verify_proofs: bool) -> None:
    if error is InvalidBallot and "reproduce" in message and not verify_proofs:
        # deferred: the opening is returned for the caller's batch; the caller re-checks a
        # failing entry with verify_proofs=True for its reason
        out = _secrets_fault(mutate, verify_proofs)
        assert out.ok and (hex_to_int(_entry(1)["ballot"]["contests"][0]["selections"][0]
                                      ["ciphertext"]), 1) == out.openings[0][:2]
        return
    out = _secrets_fault(mutate, verify_proofs)
    assert _faults(out) == [("audit", f"audited ballot does not open: {message}")]
    assert _errors(out) == [error] and out.secrets is None and out.openings == []


def test_audit_secrets_not_an_object() -> None:
    entry = _entry(1)
    entry["secrets"] = None
    assert _faults(check_audited_entry(_ctx(), entry)) == [
        ("audit", "audited ballot does not open: ballot secrets: expected an object")]


FIXTURES = Path(__file__).parents[1] / "fixtures"


@functools.cache
def _factored() -> PrivateKey:
    return PrivateKey.from_json(
        json.loads((FIXTURES / "paillier-test-key-1024.json").read_text())["private"])


@pytest.mark.parametrize("r", ["p", "q", "n", "n+1", "n-1", "1"])
def test_secrets_randomness_must_be_a_unit(r: str) -> None:
    """``r`` of every option must lie in Z*_n: checked before any re-encryption (a key with
    known factors gives non-units inside ``(0, n)``)."""
    sk = _factored()
    n = sk.public.n
    value = {"p": sk.p, "q": sk.q, "n": n, "n+1": n + 1, "n-1": n - 1, "1": 1}[r]
    ctx = dataclasses.replace(_ctx(), public_key=sk.public)
    entry = _entry(1)
    secrets = entry["secrets"]
    for opts in secrets.values():
        for opening in opts.values():
            opening["r"] = "1"
    secrets["council"]["b"]["r"] = int_to_hex(value)
    ballot = check_audited_entry(_ctx(), _entry(1)).ballot
    assert ballot is not None
    if r in ("n-1", "1"):  # units: the range check passes, the openings are returned
        _, openings = check_audit_secrets(ctx, ballot, secrets, defer=True)
        assert [o[2] for o in openings] == [1, 1, 1, 1, value if r == "n-1" else 1, 1, 1]
        return
    with pytest.raises(InvalidEncoding, match=r"^secrets: r is not in Z\*_n$"):
        check_audit_secrets(ctx, ballot, secrets, defer=True)


@pytest.mark.parametrize("defer", [True, False])
def test_audit_of_a_ballot_with_an_unknown_question(defer: bool) -> None:
    """An opening that cannot be listed (a contest the manifest lacks) falls back to the
    one-by-one audit, which names the problem (it raised KeyError before: verify_board
    stopped on such an audited entry instead of reporting it)."""
    entry = _entry(1)
    ballot = check_audited_entry(_ctx(), entry).ballot
    assert ballot is not None
    odd = dataclasses.replace(ballot, contests=(
        dataclasses.replace(ballot.contests[0], question_id="nope"),) + ballot.contests[1:])
    with pytest.raises(InvalidBallot, match="^the ballot has a question the manifest lacks: nope$"):
        check_audit_secrets(_ctx(), odd, entry["secrets"], defer=defer)
    secrets, openings = check_audit_secrets(_ctx(), ballot, entry["secrets"], defer=False)
    assert openings == [] and secrets.to_json() == entry["secrets"]


def test_board_with_such_an_audited_entry_is_reported() -> None:
    from tally.verify_board import verify_board

    board = copy.deepcopy(_gen().board)
    board[1]["ballot"]["contests"][0]["question_id"] = "nope"
    result = verify_board(_ctx(), board)
    assert [(p.index, p.check, p.message) for p in result.problems] == [
        (1, "audit", "audited ballot does not open: the ballot has a question the manifest "
                     "lacks: nope"),
        (1, "ballot-proof", "ballot proof: ballot questions do not match the manifest "
                            "(order matters)")]


def test_audit_secrets_are_checked_at_once_by_default() -> None:
    entry = _entry(1)
    ballot = check_audited_entry(_ctx(), entry).ballot
    assert ballot is not None
    secrets, openings = check_audit_secrets(_ctx(), ballot, entry["secrets"])
    assert openings == [] and secrets.to_json() == entry["secrets"]
    entry["secrets"]["mayor"]["aigerim"]["m"] = 1
    with pytest.raises(InvalidBallot, match="^question mayor, option aigerim: the revealed "
                                            "plaintext and randomness do not reproduce the "
                                            "ciphertext$"):
        check_audit_secrets(_ctx(), ballot, entry["secrets"])


# ------------------------------------------------------------------ context, errors, copies


def test_context_checks() -> None:
    g = _gen()
    with pytest.raises(InvalidEncoding, match=r"^revote policy must be one of \('last-counts', 'no-revote'\)$"):
        ElectionContext(g.manifest, g.tpk.public, g.issuer.public_key(), g.fingerprint, "x")
    for fp in (g.fingerprint[:31], g.fingerprint + b"\0"):
        with pytest.raises(InvalidEncoding, match="^fingerprint must be 32 bytes$"):
            ElectionContext(g.manifest, g.tpk.public, g.issuer.public_key(), fp, "no-revote")
    assert _ctx().election_id == g.manifest.election_id == "test-election"
    assert _ctx().opens_at_ms is None and _ctx().closes_at_ms is None


def test_entry_rejected() -> None:
    out = EntryCheck("ballot")
    out.raise_if_faulty()
    error = InvalidBallot("x")
    out.bad("signature", "first")
    out.bad("audit", "second", error)
    assert out.faults == [Fault("signature", "first", None), Fault("audit", "second", error)]
    assert not out.ok
    with pytest.raises(EntryRejected, match="^signature: first; audit: second$") as info:
        out.raise_if_faulty()
    assert info.value.faults == out.faults and info.value.faults is not out.faults


def test_ciphertext_digest_and_copies() -> None:
    n = _gen().tpk.public.n
    size = (2 * n.bit_length() + 7) // 8
    assert ciphertext_digest(n, 5) == hashlib.sha256((5).to_bytes(size, "big")).hexdigest()
    assert len(bytes.fromhex(ciphertext_digest(n, n * n - 1))) == 32
    assert copied_ciphertexts(n, [(0, 7), (1, 9), (2, 7), (5, 7), (8, 9), (9, 3)]) == {
        2: 0, 5: 0, 8: 1}
    assert copied_ciphertexts(n, []) == {}


def test_defaults_check_everything_at_once() -> None:
    """Without ``verify_proofs`` every check runs here: proofs one entry at a time, the
    audit re-encrypted (nothing left to a caller's batch)."""
    ballot = _entry(0)
    _bump_z(ballot, ("contests", 0, "selections", 0, "proof"))
    message = "ballot proof: question mayor, option aigerim: verification equation z^n = ±a·u^e fails"
    assert _faults(check_board_entry(_ctx(), ballot)) == [SIGNATURE_FAILS, ("ballot-proof", message)]
    audited = _entry(1)
    audited["secrets"]["mayor"]["aigerim"]["m"] = 1
    assert _faults(check_audited_entry(_ctx(), audited)) == [
        ("audit", "audited ballot does not open: question mayor, option aigerim: the revealed "
                  "plaintext and randomness do not reproduce the ciphertext")]


def test_audited_entry_index_and_proofs() -> None:
    entry = _entry(1)
    assert _faults(check_audited_entry(_ctx(), entry, position=4)) == [
        ("entry-format", "index 1 is not its position 4")]
    _bump_z(entry, ("contests", 0, "selections", 0, "proof"))
    out = check_audited_entry(_ctx(), entry, position=1)
    assert _faults(out) == [(
        "ballot-proof",
        "ballot proof: question mayor, option aigerim: verification equation z^n = ±a·u^e fails")]
    assert _errors(out) == [InvalidProof]


def test_dispatch_passes_position_and_verify_proofs() -> None:
    assert _faults(check_board_entry(_ctx(), _entry(0), position=3)) == [
        ("entry-format", "index 0 is not its position 3")]
    assert _faults(check_board_entry(_ctx(), _entry(1), position=3)) == [
        ("entry-format", "index 1 is not its position 3")]
    entry = _entry(0)
    _bump_z(entry, ("contests", 0, "count_proof"))
    assert _faults(check_board_entry(_ctx(), entry, verify_proofs=False)) == [SIGNATURE_FAILS]
