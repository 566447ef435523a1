"""Petition records built offline from crypto + tally; ``saylau verify`` checks them.

Tampering tests play a malicious operator holding the board key: after changing the
board it re-signs the tree heads, re-tallies, has the trustees' shares re-decrypt and
re-signs the record index, so only the deeper check named in each test can catch it.
"""

from __future__ import annotations

import copy
import functools
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from audit.petition_record import (
    build_petition_record_data,
    counted_entries,
    petition_record_zip,
    read_petition_record,
    write_petition_record,
)
from audit.petition_verifier import PETITION_CHECKS
from audit.record import (
    ENCRYPTED_TALLY,
    PARTIALS,
    PETITION,
    PETITION_FORMAT,
    RESULTS,
    load_schema,
    read_record,
)
from crypto.blind_rsa import IssuerPrivateKey
from crypto.credentials import (
    Credential,
    ballot_public_key_bytes,
    begin_credential,
    finish_credential,
    generate_ballot_key,
    issue_blind_signature,
    sign_payload,
)
from crypto.election import Option
from crypto.encoding import canonical_json, hex_to_int, int_to_hex
from crypto.merkle import MerkleLog, entry_leaf_hash
from crypto.petition import PetitionParameters, encrypt_signature, petition_fingerprint
from crypto.threshold import KeyShare, ThresholdPublicKey, combine
from crypto.tree_head import BoardSigningKey, sign_tree_head
from saylau.cli import main
from tally.petition import (
    EncryptedRegionTally,
    RegionResult,
    aggregate,
    trustee_decrypt_regions,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
T0 = 1_767_225_600_000
PID = "petition:7"
REGIONS = tuple(Option(f"r{i}", f"Region {i}") for i in range(5))
CHOSEN = ["r0", "r2", "r2", "r4", "r1"]


@functools.cache
def _issuer() -> IssuerPrivateKey:
    doc = json.loads((FIXTURES / "issuer-test-key-2048.json").read_text())
    return IssuerPrivateKey.from_pem(doc["private_key_pem"].encode())


@functools.cache
def _threshold() -> tuple[ThresholdPublicKey, tuple[KeyShare, ...]]:
    doc = json.loads((FIXTURES / "threshold-test-key-1024-3of5.json").read_text())
    return (ThresholdPublicKey.from_json(doc["public_key"]),
            tuple(KeyShare.from_json(s) for s in doc["shares"]))


def _credential(issuer: IssuerPrivateKey, scope: str) -> tuple[Any, Credential]:
    key = generate_ballot_key()
    blinded, state = begin_credential(issuer.public_key(), scope, ballot_public_key_bytes(key))
    return key, finish_credential(issuer.public_key(), state, issue_blind_signature(issuer, blinded))


@dataclass
class GeneratedPetition:
    """A petition board with its secrets, so that tests can play the operator."""

    params: PetitionParameters
    tpk: ThresholdPublicKey
    shares: tuple[KeyShare, ...]
    issuer: IssuerPrivateKey
    board_key: BoardSigningKey
    fingerprint: bytes
    board: list[dict[str, Any]] = field(default_factory=list)
    keys: dict[int, Any] = field(default_factory=dict)
    issued: int = 0
    tree_size: int | None = None
    trustees: tuple[int, ...] = (0, 2, 4)
    files: dict[str, Any] = field(default_factory=dict)

    @property
    def log_id(self) -> str:
        return "saylau/petition/7"

    def signature_entry(self, region: str, credential: Any = None) -> dict[str, Any]:
        if credential is None:
            key, cred = _credential(self.issuer, PID)
            self.issued += 1
        else:
            key, cred = credential
        sig, _ = encrypt_signature(self.tpk.public, self.params, self.fingerprint,
                                   cred.token_id, region)
        sj = sig.to_json()
        self.keys[len(self.board)] = key
        return {"kind": "signature", "petition_id": PID, "index": len(self.board),
                "credential": cred.to_json(), "signature": sj,
                "ed25519_signature": sign_payload(key, canonical_json(sj)).hex(),
                "signed_at": T0 + len(self.board)}

    def invalidation(self, target: int) -> dict[str, Any]:
        return {"kind": "invalidation", "petition_id": PID, "index": len(self.board),
                "target_index": target, "reason_code": "fraud_suspected", "at": T0 + len(self.board)}

    def rebuild(self, *, counted: Callable[[list[dict[str, Any]], int], tuple[list[int], list[int]]]
                = counted_entries) -> None:
        """Re-sign tree heads, re-tally (the operator's way), re-decrypt; like the service."""
        log = MerkleLog()
        heads = [sign_tree_head(self.board_key, self.log_id, 0, log.root(), T0).to_json()]
        for i, entry in enumerate(self.board):
            log.append(entry_leaf_hash(entry))
            heads.append(sign_tree_head(self.board_key, self.log_id, log.size, log.root(),
                                        T0 + 10 * (i + 1)).to_json())
        size = len(self.board) if self.tree_size is None else self.tree_size
        ids, invalidated = counted(self.board, size)
        product = aggregate(self.tpk.public, [
            hex_to_int(self.board[i]["signature"]["region"]["ciphertext"]) for i in ids])
        et = EncryptedRegionTally(PID, size, len(ids), product)
        partials = [trustee_decrypt_regions(self.shares[i], et, fingerprint=self.fingerprint)
                    for i in self.trustees]
        combined = combine(self.tpk, et.c, partials, fingerprint=self.fingerprint,
                           context=et.context)  # (no count check: the operator may lie)
        result = RegionResult(PID, size, len(ids), self.params.unpack(combined.m), combined.used)
        self.files = build_petition_record_data(
            parameters=self.params.to_json(), election_key=self.tpk.to_json(),
            issuer_key=self.issuer.public_key().to_json(),
            board_key=self.board_key.public_key_bytes().hex(), log_id=self.log_id,
            fingerprint=self.fingerprint.hex(), board=self.board, tree_heads=heads,
            issuance={"count": self.issued},
            encrypted_tally={**et.to_json(), "counted": ids, "invalidated": invalidated},
            partials=[p.to_json() for p in partials], results=result.to_json(),
            info={"state": "open", "opened_at": "2026-01-01T00:00:00Z", "closes_at": None})

    def write(self, path: Path) -> Path:
        return write_petition_record(path, self.files, self.board_key)


@functools.cache
def _base() -> GeneratedPetition:
    tpk, shares = _threshold()
    issuer = _issuer()
    params = PetitionParameters(PID, "Plant more trees", REGIONS)
    board_key = BoardSigningKey.from_seed_hex("6b" * 32)
    fp = petition_fingerprint(params, tpk.to_json(), issuer.public_key().to_json(),
                              board_key.public_key_bytes())
    gen = GeneratedPetition(params, tpk, shares, issuer, board_key, fp)
    for region in CHOSEN:
        gen.board.append(gen.signature_entry(region))
    gen.rebuild()
    return gen


@pytest.fixture()
def gen() -> GeneratedPetition:
    base = _base()
    clone = GeneratedPetition(base.params, base.tpk, base.shares, base.issuer, base.board_key,
                              base.fingerprint, copy.deepcopy(base.board), dict(base.keys),
                              base.issued)
    clone.files = copy.deepcopy(base.files)
    return clone


def _verify_cli(path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code = main(["verify", str(path), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == (0 if out["valid"] else 1)
    return out


def _failed(out: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["message"] + " | " + " | ".join(c["details"])
            for c in out["checks"] if not c["ok"]}


def _expected(regions: list[str]) -> dict[str, int]:
    return {r.id: regions.count(r.id) for r in REGIONS}


# --------------------------------------------------------------------------- valid records


def test_valid_record_verifies_with_the_chosen_regions(gen: GeneratedPetition, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    out = _verify_cli(gen.write(tmp_path / "rec"), capsys)
    assert out["valid"] is True, _failed(out)
    assert out["kind"] == "petition" and out["petition_id"] == PID == out["election_id"]
    assert out["tally"] == {"regions": _expected(CHOSEN)}
    assert [c["name"] for c in out["checks"]] == [c for c in PETITION_CHECKS if c != "receipt"]


def test_zip_and_text_output(gen: GeneratedPetition, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "petition-7-record.zip"
    path.write_bytes(petition_record_zip(gen.files, gen.board_key))
    with zipfile.ZipFile(path) as archive:
        assert set(archive.namelist()) == {PETITION, "board.json", "tree-heads.json",
                                           "issuance.json", ENCRYPTED_TALLY, PARTIALS, RESULTS,
                                           "record-index.json"}
    record = read_petition_record(path)
    assert record.kind == "petition" and record.index["format"] == PETITION_FORMAT
    assert main(["verify", str(path)]) == 0
    text = capsys.readouterr().out
    assert "Petition record:" in text and "Verified signatures by region:" in text
    assert "r2: 2" in text


def test_schema_validates_and_refuses_bad_shapes(gen: GeneratedPetition) -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(load_schema(PETITION_FORMAT))
    files = {**copy.deepcopy(gen.files), "record-index.json": {
        "format": PETITION_FORMAT, "files": {}, "signature": "00" * 64}}
    validator.validate(files)
    files[PETITION]["kind"] = "election"
    assert not validator.is_valid(files)


def test_invalidation_is_excluded_from_the_tally(gen: GeneratedPetition, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    gen.board.append(gen.invalidation(1))
    gen.rebuild()
    out = _verify_cli(gen.write(tmp_path / "rec"), capsys)
    assert out["valid"] is True, _failed(out)
    assert out["tally"]["regions"] == _expected(["r0", "r2", "r4", "r1"])


def test_tally_over_a_prefix_of_the_board(gen: GeneratedPetition, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """Signatures after the tally's tree size are verified but not counted."""
    gen.tree_size = 3
    gen.board.append(gen.signature_entry("r3"))
    gen.board.append(gen.invalidation(0))  # after the cut: does not change the tally
    gen.rebuild()
    out = _verify_cli(gen.write(tmp_path / "rec"), capsys)
    assert out["valid"] is True, _failed(out)
    assert out["tally"]["regions"] == _expected(CHOSEN[:3])


def test_untallied_record_is_not_valid(gen: GeneratedPetition, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    for name in (ENCRYPTED_TALLY, PARTIALS, RESULTS):
        del gen.files[name]
    failed = _failed(_verify_cli(gen.write(tmp_path / "rec"), capsys))
    assert set(failed) == {"encrypted-tally"}


def test_receipt_checked(gen: GeneratedPetition, tmp_path: Path,
                         capsys: pytest.CaptureFixture[str]) -> None:
    from crypto.merkle import make_inclusion_proof
    from crypto.tree_head import SignedTreeHead

    log = MerkleLog(entry_leaf_hash(e) for e in gen.board[:3])
    sth = SignedTreeHead.from_json(gen.files["tree-heads.json"][3])
    receipt = {"index": 1, "leaf_hash": entry_leaf_hash(gen.board[1]).hex(),
               "inclusion_proof": make_inclusion_proof(log, 1, 3).to_json(),
               "tree_head": sth.to_json()}
    path = gen.write(tmp_path / "rec")
    (tmp_path / "receipt.json").write_text(json.dumps(receipt))
    assert main(["verify", str(path), "--receipt", str(tmp_path / "receipt.json")]) == 0
    assert "[PASS] receipt" in capsys.readouterr().out


def test_expected_fingerprint(gen: GeneratedPetition, tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    path = gen.write(tmp_path / "rec")
    assert main(["verify", str(path), "--fingerprint", gen.fingerprint.hex()]) == 0
    capsys.readouterr()
    assert main(["verify", str(path), "--fingerprint", "00" * 32]) == 1
    assert "[FAIL] petition-fingerprint" in capsys.readouterr().out


# --------------------------------------------------------------------------- tampering


def _resigned(gen: GeneratedPetition, tmp_path: Path, capsys: pytest.CaptureFixture[str]
              ) -> dict[str, str]:
    return _failed(_verify_cli(gen.write(tmp_path / "rec"), capsys))


def test_altered_region_ciphertext(gen: GeneratedPetition, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    """``c·(1+n)`` adds one to the plaintext: the signer's signature and the proof break."""
    n = gen.tpk.n
    region = gen.board[3]["signature"]["region"]
    region["ciphertext"] = int_to_hex(hex_to_int(region["ciphertext"]) * (1 + n) % (n * n))
    gen.rebuild()
    failed = _resigned(gen, tmp_path, capsys)
    assert "entry 3" in failed["signer-signatures"]
    assert "encrypted-tally" in failed


def test_altered_ciphertext_re_signed_by_the_signer_fails_the_region_proof(
        gen: GeneratedPetition, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    n = gen.tpk.n
    sig = gen.board[2]["signature"]
    sig["region"]["ciphertext"] = int_to_hex(hex_to_int(sig["region"]["ciphertext"]) * (1 + n)
                                             % (n * n))
    gen.board[2]["ed25519_signature"] = sign_payload(gen.keys[2], canonical_json(sig)).hex()
    gen.rebuild()
    failed = _resigned(gen, tmp_path, capsys)
    assert "entry 2" in failed["region-proofs"]
    assert set(failed) == {"region-proofs", "encrypted-tally", "partial-decryptions",
                           "decryption"}


def test_signature_copied_under_another_credential(gen: GeneratedPetition, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """A real signer's region ciphertext and proof re-submitted with a fresh credential."""
    key, cred = _credential(gen.issuer, PID)
    gen.issued += 1
    copied = copy.deepcopy(gen.board[0]["signature"])
    copied["token_id"] = cred.token_id.hex()
    gen.board.append({"kind": "signature", "petition_id": PID, "index": len(gen.board),
                      "credential": cred.to_json(), "signature": copied,
                      "ed25519_signature": sign_payload(key, canonical_json(copied)).hex(),
                      "signed_at": T0 + 99})
    gen.rebuild()
    failed = _resigned(gen, tmp_path, capsys)
    assert "entry 5" in failed["ciphertext-copies"] and "entry 0" in failed["ciphertext-copies"]
    assert "entry 5" in failed["region-proofs"]  # the proof is bound to the original token


def test_injected_signature_with_forged_credential(gen: GeneratedPetition, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """The operator mints a credential with its own RSA key and stuffs a signature."""
    rogue = IssuerPrivateKey.generate(2048)
    gen.board.append(gen.signature_entry("r3", _credential(rogue, PID)))
    gen.issued += 1  # and even claims to have issued it
    gen.rebuild()
    failed = _resigned(gen, tmp_path, capsys)
    assert "entry 5" in failed["credentials"]
    assert "encrypted-tally" in failed


def test_token_reused(gen: GeneratedPetition, tmp_path: Path,
                      capsys: pytest.CaptureFixture[str]) -> None:
    """The same credential signs twice (a fresh, valid encryption each time)."""
    cred = Credential.from_json(gen.board[1]["credential"])
    gen.board.append(gen.signature_entry("r4", (gen.keys[1], cred)))
    gen.rebuild()
    failed = _resigned(gen, tmp_path, capsys)
    assert "entry 5" in failed["token-uniqueness"]


def test_invalidation_ignored_by_the_tally(gen: GeneratedPetition, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    gen.board.append(gen.invalidation(2))

    def ignoring(board: list[dict[str, Any]], size: int) -> tuple[list[int], list[int]]:
        return [i for i, e in enumerate(board[:size]) if e["kind"] == "signature"], []

    gen.rebuild(counted=ignoring)
    failed = _resigned(gen, tmp_path, capsys)
    assert "invalidation ignored or invented" in failed["encrypted-tally"]
    assert "partial-decryptions" in failed  # the trustees decrypted the wrong product


def test_invalidation_listed_but_not_reflected(gen: GeneratedPetition, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """The tally says entry 2 is invalidated, yet still multiplies it in."""
    gen.board.append(gen.invalidation(2))
    gen.rebuild()
    full = aggregate(gen.tpk.public, [hex_to_int(e["signature"]["region"]["ciphertext"])
                                      for e in gen.board if e["kind"] == "signature"])
    gen.files[ENCRYPTED_TALLY]["ciphertext"] = int_to_hex(full)
    failed = _resigned(gen, tmp_path, capsys)
    assert "not the product" in failed["encrypted-tally"]


def test_invented_invalidation(gen: GeneratedPetition, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    """The tally drops an unwelcome signature with no invalidation on the board."""

    def dropping(board: list[dict[str, Any]], size: int) -> tuple[list[int], list[int]]:
        counted, _ = counted_entries(board, size)
        return [i for i in counted if i != 4], [4]

    gen.rebuild(counted=dropping)
    failed = _resigned(gen, tmp_path, capsys)
    assert "invalidated entries differ" in failed["encrypted-tally"]


def test_invalidation_of_a_missing_entry(gen: GeneratedPetition, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    entry = gen.invalidation(0)
    entry["target_index"] = 5  # itself: no signature there
    gen.board.append(entry)
    gen.rebuild()
    failed = _resigned(gen, tmp_path, capsys)
    assert "entry 5" in failed["invalidations"]


def test_changed_region_result(gen: GeneratedPetition, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    gen.files[RESULTS]["counts"]["r0"] += 1
    gen.files[RESULTS]["counts"]["r2"] -= 1
    failed = _resigned(gen, tmp_path, capsys)
    assert set(failed) == {"results"}
    assert "r0: published 2, decrypted 1" in failed["results"]


def test_wrong_partial_decryption(gen: GeneratedPetition, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    """Trustee 2's partial is for another board size (context): its proof fails."""
    et = EncryptedRegionTally.from_json(gen.files[ENCRYPTED_TALLY])
    wrong = EncryptedRegionTally(PID, et.tree_size + 1, et.count, et.c)
    gen.files[PARTIALS][1] = trustee_decrypt_regions(gen.shares[2], wrong,
                                                     fingerprint=gen.fingerprint).to_json()
    failed = _resigned(gen, tmp_path, capsys)
    assert "trustee 3" in failed["partial-decryptions"]
    assert "decryption" in failed  # only 2 of the 3 needed partials are left


def test_altered_partial_value_with_a_spare_trustee(gen: GeneratedPetition, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    et = EncryptedRegionTally.from_json(gen.files[ENCRYPTED_TALLY])
    gen.files[PARTIALS].append(trustee_decrypt_regions(gen.shares[1], et,
                                                       fingerprint=gen.fingerprint).to_json())
    c_i = hex_to_int(gen.files[PARTIALS][0]["c_i"])
    gen.files[PARTIALS][0]["c_i"] = int_to_hex(c_i * c_i % gen.tpk.nsquare)
    failed = _resigned(gen, tmp_path, capsys)
    assert set(failed) == {"partial-decryptions"} and "trustee 1" in failed["partial-decryptions"]


def test_changed_fingerprint_or_parameters(gen: GeneratedPetition, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    gen.files[PETITION]["parameters"]["regions"][0]["label"] = "Elsewhere"
    failed = _resigned(gen, tmp_path, capsys)
    assert "petition-fingerprint" in failed


def test_dropped_entry_breaks_the_tree_heads(gen: GeneratedPetition, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    heads = gen.files["tree-heads.json"]
    del gen.files["board.json"][4]
    gen.files["tree-heads.json"] = heads
    failed = _resigned(gen, tmp_path, capsys)
    assert "board-merkle" in failed


@pytest.mark.parametrize("name", [PETITION, "board.json", "tree-heads.json", "issuance.json",
                                  ENCRYPTED_TALLY, PARTIALS, RESULTS, "record-index.json"])
def test_flipped_byte_fails_the_index(gen: GeneratedPetition, tmp_path: Path, name: str,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    path = gen.write(tmp_path / "rec")
    raw = bytearray((path / name).read_bytes())
    pos = max(raw.rfind(c) for c in b"0123456789abcdef")
    raw[pos] = ord("1") if raw[pos] != ord("1") else ord("2")
    (path / name).write_bytes(bytes(raw))
    assert main(["verify", str(path)]) == 1
    assert "[FAIL] record-index" in capsys.readouterr().out


def test_index_from_an_election_format_refused(gen: GeneratedPetition, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    from audit.record import FORMAT, encode_file, index_message

    path = gen.write(tmp_path / "rec")
    index = json.loads((path / "record-index.json").read_text())
    index["format"] = FORMAT
    index["signature"] = gen.board_key.sign(index_message(index["files"], FORMAT)).hex()
    (path / "record-index.json").write_bytes(encode_file(index))
    failed = _failed(_verify_cli(path, capsys))
    assert "record-index" in failed and "record-format" in failed


def test_more_signatures_than_credentials(gen: GeneratedPetition, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    gen.issued = 3
    gen.rebuild()
    failed = _resigned(gen, tmp_path, capsys)
    assert set(failed) == {"issuance"}


def test_builder_and_reader_refuse_misuse(gen: GeneratedPetition, tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        build_petition_record_data(
            parameters=gen.params.to_json(), election_key=gen.tpk.to_json(),
            issuer_key=gen.issuer.public_key().to_json(), board_key="00" * 32, log_id="x",
            fingerprint="00" * 32, board=[], tree_heads=[], issuance={"count": 0},
            encrypted_tally={"petition_id": PID, "tree_size": 0, "count": 0, "ciphertext": "1"})
    with pytest.raises(ValueError):
        write_petition_record(tmp_path / "x", {"board.json": []}, gen.board_key)
    from tests.recordgen import generate

    election = generate(1)
    path = election.write(tmp_path / "election")
    with pytest.raises(ValueError):
        read_petition_record(path)
    assert read_record(path).kind == "election"
