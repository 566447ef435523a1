"""Attacks on a published record; each must make ``saylau verify`` exit 1 naming it.

Most attacks are played by a malicious operator who holds the board key: after changing
the board they re-sign tree heads, re-tally and re-sign the record index, so the file
hashes check out and only the deeper check can catch them.
"""

from __future__ import annotations

import copy
import functools
import json
import secrets
from pathlib import Path
from typing import Any

import pytest

from audit.record import BOARD, PARTIALS, RESULTS, read_record, write_record
from audit.verifier import verify_record
from crypto.blind_rsa import IssuerPrivateKey
from crypto.credentials import sign_payload
from crypto.encoding import canonical_json, hex_to_int, int_to_hex
from crypto.errors import DecryptionError
from crypto.threshold import KeyShare, PartialDecryption
from saylau.cli import main
from tally.aggregate import EncryptedTally
from tally.decrypt import TrusteePartials, combine_tally, trustee_decrypt
from tests.recordgen import GeneratedElection, generate, make_credential


@functools.cache
def _base() -> GeneratedElection:
    return generate(4)


@pytest.fixture()
def gen() -> GeneratedElection:
    return copy.deepcopy(_base())


def _verify_cli(path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    code = main(["verify", str(path), "--json", "--workers", "1", *extra])
    out = json.loads(capsys.readouterr().out)
    assert code == (0 if out["valid"] else 1)
    return out


def _failed(out: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["message"] + " | " + " | ".join(c["details"])
            for c in out["checks"] if not c["ok"]}


def test_untampered_record_is_valid(gen: GeneratedElection, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = _verify_cli(gen.write(tmp_path / "rec"), capsys)
    assert out["valid"] is True
    assert out["tally"] == gen.expected_results()


@pytest.mark.parametrize("name", ["manifest.json", "election.json", "board.json",
                                  "partial-decryptions.json", "record-index.json"])
def test_flipped_byte_fails_index(gen: GeneratedElection, tmp_path: Path, name: str,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    path = gen.write(tmp_path / "rec")
    raw = bytearray((path / name).read_bytes())
    # flip one hex digit inside the last hex string of the file (keeps the JSON parseable)
    pos = max(raw.rfind(c) for c in b"0123456789abcdef" if raw.rfind(c) > 0)
    raw[pos] = ord("1") if raw[pos] != ord("1") else ord("2")
    (path / name).write_bytes(bytes(raw))
    code = main(["verify", str(path), "--workers", "1"])
    text = capsys.readouterr().out
    assert code == 1
    assert "[FAIL] record-index" in text


def test_appended_byte_fails_index(gen: GeneratedElection, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = gen.write(tmp_path / "rec")
    with (path / "board.json").open("ab") as handle:
        handle.write(b" ")
    failed = _failed(_verify_cli(path, capsys))
    assert "board.json" in failed["record-index"]


def _resign(gen: GeneratedElection, path: Path) -> Path:
    return write_record(path, gen.files, gen.board_key)


def test_altered_ciphertext(gen: GeneratedElection, tmp_path: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    """c·(1+n) adds one vote for an option: signature and proofs no longer verify."""
    n = gen.tpk.n
    sel = gen.board[3]["ballot"]["contests"][0]["selections"][1]
    c = hex_to_int(sel["ciphertext"])
    sel["ciphertext"] = int_to_hex(c * (1 + n) % (n * n))
    gen.rebuild(resign_heads=True)
    failed = _failed(_verify_cli(_resign(gen, tmp_path / "rec"), capsys))
    assert "entry 3" in failed["ballot-proofs"]
    assert "entry 3" in failed["ballot-signatures"]
    assert "encrypted-tally" in failed  # the operator's tally counted the altered ballot


def test_ballot_copied_under_another_credential(gen: GeneratedElection, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """Cortier–Smyth copy: a real voter's ciphertexts re-submitted with another credential."""
    attacker = gen.new_voter("attacker")
    copied = copy.deepcopy(gen.board[0]["ballot"])
    copied["token_id"] = attacker.credential.token_id.hex()
    gen.append(gen.ballot_entry(attacker, copied))
    gen.rebuild()
    failed = _failed(_verify_cli(_resign(gen, tmp_path / "rec"), capsys))
    assert "copied under another credential" in failed["ciphertext-copies"]
    assert "ballot-proofs" in failed  # the proofs are bound to the original token


def test_injected_ballot_with_forged_credential(gen: GeneratedElection, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """The operator mints a credential with its own RSA key and stuffs a ballot."""
    rogue_issuer = IssuerPrivateKey.generate(2048)
    key, credential = make_credential(rogue_issuer, gen.election_id)
    from tests.recordgen import Voter
    stuffer = Voter("stuffer", key, credential)
    ballot, _ = gen.encrypt(stuffer, {"mayor": ["dana"], "council": ["c"], "budget": []})
    gen.append(gen.ballot_entry(stuffer, ballot.to_json()))
    gen.rebuild()
    failed = _failed(_verify_cli(_resign(gen, tmp_path / "rec"), capsys))
    assert "entry 6" in failed["credentials"]
    # the operator's tally counted the stuffed ballot; the verifier's does not
    assert "encrypted-tally" in failed


def test_dropped_ballot_named_by_receipt(gen: GeneratedElection, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """The operator removes voter 2's ballot and rebuilds a self-consistent board."""
    dropped = 3  # voter 2's ballot (entry 1 is the audited one)
    receipt = gen.receipts[dropped]
    assert gen.board[dropped]["kind"] == "ballot" and gen.board[dropped]["replaces"] is None
    del gen.board[dropped]
    for i, entry in enumerate(gen.board):
        old = entry["index"]
        entry["index"] = i
        if entry["replaces"] is not None and entry["replaces"] > dropped:
            entry["replaces"] -= 1
        assert old in (i, i + 1)
    gen.voters[2].choices = {}
    gen.rebuild(resign_heads=True)
    path = _resign(gen, tmp_path / "rec")
    # without the receipt, the rewritten record is internally consistent ...
    assert _verify_cli(path, capsys)["valid"] is True
    # ... the voter's receipt catches the dropped ballot
    receipt_file = tmp_path / "receipt.json"
    receipt_file.write_text(json.dumps(receipt))
    out = _verify_cli(path, capsys, "--receipt", str(receipt_file))
    failed = _failed(out)
    assert set(failed) == {"receipt"}
    assert "DROPPED" in failed["receipt"]


def test_receipt_of_kept_ballot_passes(gen: GeneratedElection, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    receipt_file = tmp_path / "receipt.json"
    receipt_file.write_text(json.dumps(gen.receipts[3]))
    out = _verify_cli(gen.write(tmp_path / "rec"), capsys, "--receipt", str(receipt_file))
    assert out["valid"] is True
    assert any(c["name"] == "receipt" and c["ok"] for c in out["checks"])


def test_changed_result(gen: GeneratedElection, tmp_path: Path,
                        capsys: pytest.CaptureFixture[str]) -> None:
    gen.files[RESULTS]["mayor"]["dana"] += 1
    failed = _failed(_verify_cli(_resign(gen, tmp_path / "rec"), capsys))
    assert set(failed) == {"results"}
    assert "mayor/dana" in failed["results"]


def test_wrong_partial_decryption(gen: GeneratedElection, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    partial = gen.files[PARTIALS][1]["partials"][0]["partial"]
    nn = gen.tpk.nsquare
    partial["c_i"] = int_to_hex(hex_to_int(partial["c_i"]) * 4 % nn)
    failed = _failed(_verify_cli(_resign(gen, tmp_path / "rec"), capsys))
    assert "trustee 2" in failed["partial-decryptions"]
    assert "decryption" in failed  # only 2 valid partials remain for that option


def test_wrong_partial_tolerated_with_spare_trustee(gen: GeneratedElection, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """With 4 trustees' partials, one bad one is reported but the tally still decrypts."""
    gen.rebuild(trustees=(1, 2, 3, 4))
    partial = gen.files[PARTIALS][0]["partials"][0]["partial"]
    partial["proof"]["z"] = int_to_hex(hex_to_int(partial["proof"]["z"]) + 1)
    failed = _failed(_verify_cli(_resign(gen, tmp_path / "rec"), capsys))
    assert set(failed) == {"partial-decryptions"}
    assert "trustee 1" in failed["partial-decryptions"]


@pytest.mark.parametrize("index", [2, 6])
def test_share_from_non_trustee(gen: GeneratedElection, tmp_path: Path, index: int,
                                capsys: pytest.CaptureFixture[str]) -> None:
    """Someone without a real share (claiming index 2, or an index beyond ℓ) decrypts."""
    enc = EncryptedTally.from_json(gen.files["encrypted-tally.json"])
    real = [trustee_decrypt(gen.shares[i], enc, fingerprint=gen.fingerprint) for i in (0, 2)]
    fake_share = KeyShare(2, secrets.randbelow(gen.tpk.nsquare), gen.tpk)
    fake = trustee_decrypt(fake_share, enc, fingerprint=gen.fingerprint)
    if index != 2:
        fake = TrusteePartials(index, fake.election_id, {
            k: PartialDecryption(index, p.c_i, p.proof) for k, p in fake.partials.items()})
    sets = [*real, fake]
    gen.files[PARTIALS] = [s.to_json() for s in sets]
    failed = _failed(_verify_cli(_resign(gen, tmp_path / "rec"), capsys))
    assert f"trustee {index}" in failed["partial-decryptions"]
    assert "decryption" in failed
    with pytest.raises(DecryptionError, match="valid partial"):
        combine_tally(gen.tpk, enc, sets, fingerprint=gen.fingerprint)


def test_revote_chain_rewritten(gen: GeneratedElection, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    """The operator 'undoes' a revote by claiming the second ballot replaces nothing."""
    revote = next(e for e in gen.board if e["replaces"] is not None)
    revote["replaces"] = None
    gen.rebuild(resign_heads=True)
    failed = _failed(_verify_cli(_resign(gen, tmp_path / "rec"), capsys))
    assert f"entry {revote['index']}" in failed["revote-chains"]


def test_more_ballots_than_credentials(gen: GeneratedElection, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    gen.issued = 3
    gen.rebuild()
    failed = _failed(_verify_cli(_resign(gen, tmp_path / "rec"), capsys))
    assert set(failed) == {"issuance", "credential-requests"}
    assert "issuance.count is 3 but 5 signed requests" in failed["credential-requests"]


def test_rewritten_history_breaks_old_tree_heads(gen: GeneratedElection, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """Re-signing an entry's ballot is impossible; replacing it with a fresh ballot of the
    same voter (who the operator impersonates) leaves old tree heads inconsistent."""
    voter = gen.voters[3]
    ballot, _ = gen.encrypt(voter, {"mayor": ["dana"], "council": ["a"], "budget": []})
    entry = gen.board[4]
    entry["ballot"] = ballot.to_json()
    entry["signature"] = sign_payload(voter.key, canonical_json(entry["ballot"])).hex()
    gen.rebuild()  # keep the old tree heads, append nothing
    failed = _failed(_verify_cli(_resign(gen, tmp_path / "rec"), capsys))
    assert "board-merkle" in failed


def test_board_entry_kind_unknown(gen: GeneratedElection, tmp_path: Path) -> None:
    gen.files[BOARD][0]["kind"] = "ghost"
    path = _resign(gen, tmp_path / "rec")
    report = verify_record(read_record(path, strict=False), workers=1)
    assert not report.valid
    assert {"record-format", "board-entries"} <= {c.name for c in report.failed()}


def test_tree_heads_of_another_log_are_refused(gen: GeneratedElection, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """Tree heads must name this election's log (saylau/election/<id>), not another board's."""
    from crypto.tree_head import sign_tree_head

    heads = gen.files["tree-heads.json"]
    last = heads[-1]
    forged = sign_tree_head(gen.board_key, "saylau/election/other-election", last["tree_size"],
                            bytes.fromhex(last["root_hash"]), last["timestamp"] + 1)
    heads.append(forged.to_json())
    gen.files["election.json"]["log_id"] = "saylau/election/other-election"
    failed = _failed(_verify_cli(_resign(gen, tmp_path / "rec"), capsys))
    assert "saylau/election/other-election" in failed["tree-heads"]


# --- the rules bound into F1: revote policy and voting window (docs/protocol.md §1.4) ------

def _no_revote_election() -> tuple[GeneratedElection, list[Any]]:
    """A valid no-revote election: three voters cast once each."""
    from tests.recordgen import CHOICES, new_election

    g = new_election(revote_policy="no-revote")
    people = [g.new_voter(f"voter{i}") for i in range(3)]
    for i, person in enumerate(people):
        g.cast(person, CHOICES[i])
    g.rebuild()
    return g, people


def test_no_revote_record_is_valid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    g, _ = _no_revote_election()
    assert _verify_cli(g.write(tmp_path / "rec"), capsys)["valid"] is True


def test_revote_policy_changed_after_voting(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """The operator lets a second ballot in and rewrites "no-revote" as "last-counts".

    Before the rules were bound into F1 the rewritten record verified; now the published
    fingerprint is no longer the hash of the record, and re-fingerprinting it breaks every
    proof the voters made under the published one."""
    from tests.recordgen import CHOICES

    g, people = _no_revote_election()
    published = g.fingerprint
    g.cast(people[1], CHOICES[4])  # the revote the server should have refused
    g.rebuild(resign_heads=True)
    failed = _failed(_verify_cli(_resign(g, tmp_path / "honest-policy"), capsys))
    assert "second ballot" in failed["revote-chains"]  # caught under the bound policy

    g.revote_policy = "last-counts"
    assert g.rules is not None
    g.rules["revote_policy"] = "last-counts"
    g.rebuild(resign_heads=True)
    failed = _failed(_verify_cli(_resign(g, tmp_path / "kept-fp"), capsys))
    assert "not the hash of manifest and keys" in failed["election-fingerprint"]

    g.refingerprint()
    g.rebuild(resign_heads=True)
    out = _verify_cli(_resign(g, tmp_path / "new-fp"), capsys, "--fingerprint", published.hex())
    failed = _failed(out)
    assert "differs from the one you expected" in failed["election-fingerprint"]
    assert "entry 0" in failed["ballot-proofs"]  # honest ballots were proven under the old F1


def test_policy_differs_from_bound_rules(gen: GeneratedElection, tmp_path: Path) -> None:
    from crypto.errors import InvalidEncoding

    gen.revote_policy = "no-revote"  # election.json says one thing, the bound rules another
    gen.rebuild()
    record = read_record(_resign(gen, tmp_path / "rec"), strict=False)
    with pytest.raises(InvalidEncoding, match="revote_policy differs from rules.revote_policy"):
        record.context()
    report = verify_record(record, workers=1)
    assert not report.valid
    assert "revote_policy differs" in " ".join(c.message for c in report.failed())


def _late(gen: GeneratedElection, index: int, cast_at: int) -> None:
    gen.board[index]["cast_at"] = cast_at
    gen.rebuild(resign_heads=True)


def test_ballot_after_the_window(gen: GeneratedElection, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    from tests.recordgen import WINDOW_CLOSES

    _late(gen, 3, WINDOW_CLOSES)
    failed = _failed(_verify_cli(_resign(gen, tmp_path / "rec"), capsys))
    assert "entry 3: cast_at" in failed["board-entries"]
    assert "encrypted-tally" in failed  # the operator's tally counted the late ballot
    assert "not before the window closes" in failed["board-entries"]


def test_ballot_before_the_window(gen: GeneratedElection, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    from tests.recordgen import WINDOW_OPENS

    _late(gen, 2, WINDOW_OPENS - 1)
    failed = _failed(_verify_cli(_resign(gen, tmp_path / "rec"), capsys))
    assert "entry 2: cast_at" in failed["board-entries"]
    assert "before the window opens" in failed["board-entries"]


def test_ballot_in_the_first_granule_passes(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """An honest ballot cast 10 minutes after a 00:30 opening carries the floored time
    00:00 (one-hour granularity): the verifier compares with floor(opens_at)."""
    from tests.recordgen import CHOICES, T0, new_election

    g = new_election()
    assert g.rules is not None
    g.rules["voting_window"]["opens_at"] = T0 + 1_800_000
    g.refingerprint()
    g.cast(g.new_voter("early"), CHOICES[0])
    g.board[0]["cast_at"] = T0
    g.rebuild(resign_heads=True)
    assert _verify_cli(_resign(g, tmp_path / "rec"), capsys)["valid"] is True
    g.board[0]["cast_at"] = T0 - 1
    g.rebuild(resign_heads=True)
    assert "before the window opens" in _failed(
        _verify_cli(_resign(g, tmp_path / "rec2"), capsys))["board-entries"]


def test_window_extended_to_cover_a_late_ballot(gen: GeneratedElection, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """The operator moves the close one day later so that a late ballot fits."""
    from tests.recordgen import WINDOW_CLOSES

    published = gen.fingerprint
    _late(gen, 3, WINDOW_CLOSES + 3_600_000)
    assert gen.rules is not None
    gen.rules["voting_window"]["closes_at"] = WINDOW_CLOSES + 86_400_000
    gen.rebuild(resign_heads=True)
    failed = _failed(_verify_cli(_resign(gen, tmp_path / "kept-fp"), capsys))
    assert "not the hash of manifest and keys" in failed["election-fingerprint"]
    gen.refingerprint()
    gen.rebuild(resign_heads=True)
    failed = _failed(_verify_cli(_resign(gen, tmp_path / "new-fp"), capsys,
                                 "--fingerprint", published.hex()))
    assert "election-fingerprint" in failed
    assert "ballot-proofs" in failed


def test_record_without_rules_fails(gen: GeneratedElection, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Dropping the rules (and re-fingerprinting) is no escape: the record fails."""
    gen.rules = None
    gen.refingerprint()
    gen.rebuild(resign_heads=True)
    failed = _failed(_verify_cli(_resign(gen, tmp_path / "rec"), capsys))
    assert "binds no revote policy and voting window" in failed["election-fingerprint"]
