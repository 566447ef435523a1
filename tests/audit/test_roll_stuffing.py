"""Issue 11: the operator alone cannot stuff the ballot box.

Each attack is played by an operator holding EVERY server key (the issuer's RSA private
key and the board key): it mints a credential, casts a valid ballot with it, raises every
count and re-signs tree heads, tally and record index.  Before the roll of voter keys and
the voter-signed requests, such a record verified as VALID.  Now ``saylau verify`` exits 1
naming the roll / credential-requests check, in enrolled-key and in PKI mode, and the
typed checks of :mod:`crypto.roll` raise :class:`RollCheckFailed`.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.record import read_record
from crypto.roll import (
    RollCheckFailed,
    RollCommitment,
    RollEntry,
    check_requests,
    check_roll,
    spki_der,
)
from saylau.cli import main
from tests.recordgen import GeneratedElection, Voter, generate, make_credential_blinded

MODES = ("enrolled", "pki")


@functools.cache
def _base(mode: str) -> GeneratedElection:
    return generate(3, mode=mode)


@pytest.fixture(params=MODES)
def gen(request: pytest.FixtureRequest) -> GeneratedElection:
    return copy.deepcopy(_base(request.param))


def _verify(gen: GeneratedElection, tmp_path: Path, capsys: pytest.CaptureFixture[str],
            *extra: str) -> dict[str, str]:
    gen.rebuild(resign_heads=True)
    path = gen.write(tmp_path / "rec")
    code = main(["verify", str(path), "--json", "--workers", "1", *extra])
    out = json.loads(capsys.readouterr().out)
    assert code == (0 if out["valid"] else 1)
    return {c["name"]: c["message"] + " | " + " | ".join(c["details"])
            for c in out["checks"] if not c["ok"]}


def _mint_and_cast(gen: GeneratedElection) -> tuple[Voter, bytes]:
    """The operator blind-signs a credential for nobody with the issuer key and votes."""
    key, credential, blinded = make_credential_blinded(gen.issuer, gen.election_id)
    ghost = Voter("ghost", key, credential)
    gen.voters.append(ghost)
    gen.cast(ghost, {"mayor": ["dana"], "council": ["c"], "budget": []})
    gen.issued += 1  # "raise every count"
    return ghost, blinded


def _typed_checks(gen: GeneratedElection) -> None:
    """Run V-R1..V-R3 on the rebuilt record as typed checks (raise on the first failure)."""
    gen.rebuild(resign_heads=True)
    record_files = gen.files
    commitment = RollCommitment.from_json(record_files["election.json"]["roll"])
    entries = [RollEntry.from_json(e) for e in record_files["roll.json"]["entries"]]
    check_roll(entries, commitment)
    from crypto.roll import SignedRequest

    requests = [SignedRequest.from_json(r) for r in record_files["issuance.json"]["requests"]]
    tokens = len({e["ballot"]["token_id"] for e in gen.board if e["kind"] == "ballot"})
    check_requests(entries, requests, gen.election_id, gen.issuer.public_key().modulus_len,
                   issued=record_files["issuance.json"]["count"], tokens=tokens)


def test_honest_record_is_valid(gen: GeneratedElection, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    assert _verify(gen, tmp_path, capsys) == {}
    _typed_checks(gen)  # raises nothing


def test_operator_mints_and_casts_without_a_request(gen: GeneratedElection, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """Every server key, a valid ballot, every count raised, all re-signed: still caught."""
    _mint_and_cast(gen)
    failed = _verify(gen, tmp_path, capsys)
    assert set(failed) == {"credential-requests"}
    assert "issuance.count is 5 but 4 signed requests" in failed["credential-requests"]
    with pytest.raises(RollCheckFailed, match="issuance.count is 5 but 4 signed requests"):
        _typed_checks(gen)


def test_operator_signs_the_request_with_a_key_not_on_the_roll(
        gen: GeneratedElection, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The operator also publishes a request, signed with its own key, for an unused slot."""
    _, blinded = _mint_and_cast(gen)
    unused = len(gen.requests)  # a real voter's roll position that asked for nothing
    rogue: Any = (Ed25519PrivateKey.generate() if gen.roll[0].kind == "ed25519"
                  else ec.generate_private_key(ec.SECP256R1()))
    gen.requests.append(gen.signed_request(unused, blinded, key=rogue))
    failed = _verify(gen, tmp_path, capsys)
    assert set(failed) == {"credential-requests"}
    assert "signature does not verify against its roll key" in failed["credential-requests"]
    with pytest.raises(RollCheckFailed, match="does not verify against its roll key"):
        _typed_checks(gen)


def test_two_requests_from_one_roll_key(gen: GeneratedElection, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """The operator replays a voter's genuine signed request to justify a second credential."""
    _mint_and_cast(gen)
    gen.requests.append(gen.requests[0])
    failed = _verify(gen, tmp_path, capsys)
    assert set(failed) == {"credential-requests"}
    assert "a second request from roll key 0" in failed["credential-requests"]
    with pytest.raises(RollCheckFailed, match="a second request from roll key 0"):
        _typed_checks(gen)


def test_a_request_for_a_position_beyond_the_roll(gen: GeneratedElection, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    _, blinded = _mint_and_cast(gen)
    gen.requests.append(gen.signed_request(len(gen.roll), blinded, key=gen.roll_private[0]))
    failed = _verify(gen, tmp_path, capsys)
    assert "is not on the roll" in failed["credential-requests"]
    with pytest.raises(RollCheckFailed, match="is not on the roll"):
        _typed_checks(gen)


def _operator_key_entry(gen: GeneratedElection) -> tuple[Any, RollEntry]:
    index = len(gen.roll)
    if gen.roll[0].kind == "ed25519":
        key: Any = Ed25519PrivateKey.generate()
        from crypto.credentials import ballot_public_key_bytes

        return key, RollEntry(index, "ed25519", ballot_public_key_bytes(key))
    key = ec.generate_private_key(ec.SECP256R1())
    return key, RollEntry(index, "x509", spki_der(key.public_key()), bytes(32))


def test_roll_changed_after_opening(gen: GeneratedElection, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    """The operator appends its own key to the published roll and signs a request with it."""
    _, blinded = _mint_and_cast(gen)
    key, entry = _operator_key_entry(gen)
    gen.roll.append(entry)
    gen.roll_private.append(key)
    gen.requests.append(gen.signed_request(entry.index, blinded))
    failed = _verify(gen, tmp_path, capsys)
    assert set(failed) == {"roll", "credential-requests"}
    assert "the fingerprint binds 12" in failed["roll"]
    with pytest.raises(RollCheckFailed, match="the roll has 13 entries; the fingerprint binds 12"):
        _typed_checks(gen)


def test_roll_changed_and_fingerprint_recomputed(gen: GeneratedElection, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """Re-committing the grown roll changes the fingerprint: every ballot proof made under the
    published one fails, and a voter's expected fingerprint differs."""
    published = gen.fingerprint
    _, blinded = _mint_and_cast(gen)
    key, entry = _operator_key_entry(gen)
    gen.roll.append(entry)
    gen.roll_private.append(key)
    gen.requests.append(gen.signed_request(entry.index, blinded))
    gen.roll_commitment = RollCommitment.of(gen.roll_commitment["mode"],  # type: ignore[index]
                                            gen.roll).to_json()
    gen.refingerprint()
    failed = _verify(gen, tmp_path, capsys, "--fingerprint", published.hex())
    assert "election-fingerprint" in failed
    assert "ballot-proofs" in failed  # the honest ballots were proven under the old one


def test_record_without_a_roll_fails(gen: GeneratedElection, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    """Dropping the roll (legacy login mode) is no escape: the roll check fails."""
    gen.roll_commitment = None
    gen.refingerprint()
    failed = _verify(gen, tmp_path, capsys)
    assert "credentials were issued on the operator's word alone" in failed["roll"]
    with pytest.raises(RollCheckFailed, match="operator's word alone"):
        check_roll([], None)


def test_roll_with_a_key_twice_fails() -> None:
    key = Ed25519PrivateKey.generate()
    from crypto.credentials import ballot_public_key_bytes

    entries = [RollEntry(0, "ed25519", ballot_public_key_bytes(key)),
               RollEntry(1, "ed25519", ballot_public_key_bytes(key))]
    commitment = RollCommitment.of("enrolled", entries)
    with pytest.raises(RollCheckFailed, match="the key of entry 0 again"):
        check_roll(entries, commitment)


def test_record_reader_exposes_roll(gen: GeneratedElection, tmp_path: Path) -> None:
    gen.rebuild()
    record = read_record(gen.write(tmp_path / "rec"))
    assert len(record.roll_entries()) == 12
    assert record.roll_commitment() == RollCommitment.from_json(gen.roll_commitment)
    assert len(record.signed_requests()) == 4
