"""The second, independent verifier (tools/second-verifier/verify.mjs, Node) against records.

A valid record must pass it with the same tally as ``saylau verify``; tampered copies
(operator re-signing the index, or not) must fail it, naming the failing check.
"""

from __future__ import annotations

import copy
import functools
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from audit.record import (
    ELECTION,
    INDEX_FILE,
    PARTIALS,
    RESULTS,
    TREE_HEADS,
    encode_file,
    read_record,
    sign_index,
    write_record,
)
from audit.verifier import verify_record
from crypto.encoding import hex_to_int, int_to_hex
from crypto.tree_head import sign_tree_head
from saylau.cli import main
from tests.recordgen import GeneratedElection, generate

ROOT = Path(__file__).resolve().parents[2]
VERIFIER = ROOT / "tools" / "second-verifier" / "verify.mjs"


def _node() -> str | None:
    node = shutil.which("node")
    if node is None:
        return None
    out = subprocess.run([node, "--version"], capture_output=True, text=True, check=False)
    try:
        major = int(out.stdout.strip().lstrip("v").split(".")[0])
    except ValueError:
        return None
    return node if major >= 20 else None


NODE = _node()
pytestmark = pytest.mark.skipif(NODE is None, reason="node >= 20 is not installed: "
                                "the second verifier is a Node script")


def _start(*args: str) -> subprocess.Popen[str]:
    assert NODE is not None
    return subprocess.Popen([NODE, str(VERIFIER), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _finish(proc: subprocess.Popen[str]) -> tuple[int, dict[str, Any]]:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode in (0, 1), err
    return proc.returncode, json.loads(out)


def _failed(report: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["message"] + " | " + " | ".join(c["details"])
            for c in report["checks"] if not c["ok"]}


@functools.cache
def _base() -> GeneratedElection:
    return generate(2)


def _gen() -> GeneratedElection:
    return copy.deepcopy(_base())


def test_self_test_vectors() -> None:
    """Transcript, fingerprint, proof, ballot, credential, RFC 9474 and RFC 6962 vectors."""
    code, report = _finish(_start("--self-test", "--json"))
    assert code == 0, _failed(report)


def test_usage_errors(tmp_path: Path) -> None:
    assert NODE is not None
    for args in ([], [str(tmp_path / "missing")], [str(tmp_path), "extra"]):
        proc = subprocess.run([NODE, str(VERIFIER), *args], capture_output=True, check=False)
        assert proc.returncode == 2


def test_valid_record_and_tampered_copies(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """One valid record and four tampered copies, verified in parallel."""
    valid = _gen().write(tmp_path / "valid")

    # 1. altered ciphertext (adds one vote), board, tree heads, tally and index re-signed
    g = _gen()
    n = g.tpk.n
    sel = g.board[3]["ballot"]["contests"][0]["selections"][1]
    sel["ciphertext"] = int_to_hex(hex_to_int(sel["ciphertext"]) * (1 + n) % (n * n))
    g.rebuild(resign_heads=True)
    altered = write_record(tmp_path / "altered", g.files, g.board_key)

    # 2. changed result, index re-signed
    g = _gen()
    question = next(iter(g.files[RESULTS]))
    option = next(iter(g.files[RESULTS][question]))
    g.files[RESULTS][question][option] += 1
    result = write_record(tmp_path / "result", g.files, g.board_key)

    # 3. wrong partial decryption (trustee 2's c_i squared), index re-signed
    g = _gen()
    part = g.files[PARTIALS][1]["partials"][0]["partial"]
    c_i = hex_to_int(part["c_i"])
    part["c_i"] = int_to_hex(c_i * c_i % (n * n))
    partial = write_record(tmp_path / "partial", g.files, g.board_key)

    # 4. one flipped hex digit in board.json, not re-signed
    flipped = _gen().write(tmp_path / "flipped")
    raw = bytearray((flipped / "board.json").read_bytes())
    pos = raw.rfind(b'"ciphertext":"') + len(b'"ciphertext":"') + 5
    raw[pos] = ord("1") if raw[pos] != ord("1") else ord("2")
    (flipped / "board.json").write_bytes(bytes(raw))

    procs = {name: _start(str(path), "--json") for name, path in
             [("valid", valid), ("altered", altered), ("result", result),
              ("partial", partial), ("flipped", flipped)]}
    reports = {name: _finish(proc) for name, proc in procs.items()}

    code, report = reports["valid"]
    assert code == 0, _failed(report)
    assert report["valid"] is True
    assert main(["verify", str(valid), "--json", "--workers", "1"]) == 0
    python = json.loads(capsys.readouterr().out)
    assert python["valid"] is True
    assert report["tally"] == python["tally"] == _base().expected_results()

    code, report = reports["altered"]
    failed = _failed(report)
    assert code == 1 and report["valid"] is False and report["tally"] is None
    assert "entry 3" in failed["ballot-proofs"]
    assert "entry 3" in failed["ballot-signatures"]
    assert "encrypted-tally" in failed
    assert "record-index" not in failed  # the operator re-signed it

    code, report = reports["result"]
    failed = _failed(report)
    assert code == 1
    assert set(failed) == {"results"}
    assert f"question {question} option {option}" in failed["results"]

    code, report = reports["partial"]
    failed = _failed(report)
    assert code == 1
    assert "trustee 2" in failed["partial-decryptions"]
    assert "record-index" not in failed

    code, report = reports["flipped"]
    failed = _failed(report)
    assert code == 1
    assert "board.json" in failed["record-index"]


def _python_failed(path: Path) -> dict[str, str]:
    report = verify_record(read_record(path, strict=False), workers=1)
    return {c.name: c.message + " | " + " | ".join(c.details) for c in report.failed()}


def _resign_raw(path: Path, g: GeneratedElection) -> None:
    """Re-sign record-index.json over the files as they now are (an operator with the key)."""
    raw = {p.name: p.read_bytes() for p in path.iterdir() if p.name != INDEX_FILE}
    (path / INDEX_FILE).write_bytes(encode_file(sign_index(raw, g.board_key)))


def test_spec_rules_in_both_verifiers(tmp_path: Path) -> None:
    """Rules made exact in the spec: both verifiers reject the same tampered records."""
    records: dict[str, tuple[Path, str, str]] = {}

    # duplicate key in a file (JSON edge cases, docs/election-record.md §1)
    g = _gen()
    path = g.write(tmp_path / "dupkey")
    (path / "issuance.json").write_bytes(b'{"count":2,"count":9,"receipts":[]}\n')
    _resign_raw(path, g)
    records["dupkey"] = (path, "record-format", "duplicate key")

    # the log id is bound to the election: "election:<id>" is not "saylau/election/<id>"
    g = _gen()
    g.files[ELECTION]["log_id"] = f"election:{g.election_id}"
    g.files[TREE_HEADS] = [
        sign_tree_head(g.board_key, f"election:{g.election_id}", h["tree_size"],
                       bytes.fromhex(h["root_hash"]), h["timestamp"]).to_json()
        for h in g.files[TREE_HEADS]]
    records["logid"] = (write_record(tmp_path / "logid", g.files, g.board_key), "tree-heads",
                        "saylau/election/")

    # a ballot with an extra field is not in canonical form
    g = _gen()
    g.board[2]["ballot"]["note"] = "x"
    g.rebuild(resign_heads=True)
    records["extra"] = (g.write(tmp_path / "extra"), "board-entries", "entry 2")

    # one ciphertext twice inside one ballot
    g = _gen()
    sels = g.board[2]["ballot"]["contests"][0]["selections"]
    sels[1]["ciphertext"] = sels[0]["ciphertext"]
    g.rebuild(resign_heads=True)
    records["inside"] = (g.write(tmp_path / "inside"), "ciphertext-copies", "entry 2")

    # audited entries carry "secrets" only (no "audit" alias)
    g = _gen()
    assert g.board[1]["kind"] == "audited"
    g.board[1]["audit"] = g.board[1].pop("secrets")
    g.rebuild(resign_heads=True)
    records["alias"] = (g.write(tmp_path / "alias"), "audited-ballots", "entry 1")

    # hex is the whole string: a trailing newline is not hex (Python's re.match(r"^…$") and
    # bytes.fromhex accepted it, so only the Node verifier refused this record)
    g = _gen()
    first = next(i for i, e in enumerate(g.board) if e["kind"] == "ballot")
    g.board[first]["signature"] += "\n"
    g.rebuild(resign_heads=True)
    records["newline"] = (g.write(tmp_path / "newline"), "ballot-signatures", f"entry {first}")

    # issuance receipts: empty, or exactly `count` sorted distinct hashes
    g = _gen()
    g.files["issuance.json"]["receipts"] = ["00" * 32]
    records["receipts"] = (write_record(tmp_path / "receipts", g.files, g.board_key),
                           "issuance", "receipts")

    procs = {name: _start(str(path), "--json") for name, (path, _, _) in records.items()}
    for name, (path, check, needle) in records.items():
        code, report = _finish(procs[name])
        node_failed = _failed(report)
        python_failed = _python_failed(path)
        assert code == 1, name
        assert check in node_failed, (name, node_failed)
        assert check in python_failed, (name, python_failed)
        if name != "alias":
            assert needle in node_failed[check] or needle in python_failed[check], name


def test_manifest_labels_in_both_verifiers(tmp_path: Path) -> None:
    """Translations (manifest ``labels``, §1.4): hashed into F1 and validated alike by both."""
    from crypto.election import Manifest
    from tests.manifests import demo_manifest

    data = demo_manifest().to_json()
    data["labels"] = {"title": {"kk": "Сынақ сайлауы", "ru": "Тестовые выборы"},
                      "mayor": {"kk": "Әкім"}, "mayor/aigerim": {"ru": "Айгерим"}}
    g = generate(2, manifest=Manifest.from_json(data))
    records: dict[str, tuple[Path, str | None]] = {"valid": (g.write(tmp_path / "valid"), None)}

    # a translation changed after the fingerprint was published (index re-signed)
    files = copy.deepcopy(g.files)
    files["manifest.json"]["labels"]["mayor"]["kk"] = "Басқа сұрақ"
    records["changed"] = (write_record(tmp_path / "changed", files, g.board_key), "election-fingerprint")

    # a language outside kk/ru/en
    files = copy.deepcopy(g.files)
    files["manifest.json"]["labels"]["title"]["de"] = "Testwahl"
    records["language"] = (write_record(tmp_path / "language", files, g.board_key), "record-format")

    # a key that names no question or option
    files = copy.deepcopy(g.files)
    files["manifest.json"]["labels"]["mayor/zz"] = {"kk": "x"}
    records["key"] = (write_record(tmp_path / "key", files, g.board_key), "mayor/zz")

    procs = {name: _start(str(path), "--json") for name, (path, _) in records.items()}
    for name, (path, check) in records.items():
        code, report = _finish(procs[name])
        node_failed = _failed(report)
        python_failed = _python_failed(path)
        if check is None:
            assert code == 0 and not node_failed and not python_failed, (node_failed, python_failed)
            continue
        assert code == 1, name
        if "/" in check:
            # a rule the schema cannot state (the key must name this manifest's option):
            # Python reports it as unusable election context, Node as record-format,
            # as for every other semantic manifest error; both name the key
            assert any(check in m for m in node_failed.values()), (name, node_failed)
            assert any(check in m for m in python_failed.values()), (name, python_failed)
            continue
        assert check in node_failed, (name, node_failed)
        assert check in python_failed, (name, python_failed)


def test_roll_attacks_in_both_verifiers(tmp_path: Path) -> None:
    """Issue 11: the operator's stuffing attacks fail the same check in both verifiers."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from crypto.credentials import ballot_public_key_bytes
    from crypto.roll import RollEntry
    from tests.recordgen import Voter, make_credential_blinded

    def mint(g: GeneratedElection) -> bytes:
        key, credential, blinded = make_credential_blinded(g.issuer, g.election_id)
        ghost = Voter("ghost", key, credential)
        g.voters.append(ghost)
        g.cast(ghost, {"mayor": ["dana"], "council": ["c"], "budget": []})
        g.issued += 1
        return blinded

    cases: dict[str, tuple[GeneratedElection, str, str]] = {}
    g = _gen()
    mint(g)
    cases["no-request"] = (g, "credential-requests", "issuance.count is 4 but 3 signed requests")
    g = _gen()
    blinded = mint(g)
    g.requests.append(g.signed_request(len(g.requests), blinded, key=Ed25519PrivateKey.generate()))
    cases["foreign-key"] = (g, "credential-requests", "does not verify against its roll key")
    g = _gen()
    mint(g)
    g.requests.append(g.requests[0])
    cases["twice"] = (g, "credential-requests", "a second request from roll key 0")
    g = _gen()
    blinded = mint(g)
    rogue = Ed25519PrivateKey.generate()
    g.roll.append(RollEntry(len(g.roll), "ed25519", ballot_public_key_bytes(rogue)))
    g.requests.append(g.signed_request(len(g.roll) - 1, blinded, key=rogue))
    cases["roll-changed"] = (g, "roll", "the fingerprint binds 12")

    paths = {}
    for name, (g, _, _) in cases.items():
        g.rebuild(resign_heads=True)
        paths[name] = g.write(tmp_path / name)
    procs = {name: _start(str(path), "--json") for name, path in paths.items()}
    for name, (_, check, text) in cases.items():
        code, report = _finish(procs[name])
        node_failed = _failed(report)
        py_failed = _python_failed(paths[name])
        assert code == 1, name
        assert text in node_failed[check], (name, node_failed)
        assert text in py_failed[check], (name, py_failed)
        assert set(node_failed) == set(py_failed), name


def test_rules_attacks_in_both_verifiers(tmp_path: Path) -> None:
    """Issue 10: the revote policy and voting window bound into F1 (§1.4 "Rules") are
    checked alike by both verifiers: the same checks fail on every tampered record."""
    from tests.recordgen import CHOICES, T0, WINDOW_CLOSES, WINDOW_OPENS, new_election

    cases: dict[str, tuple[GeneratedElection, str, str]] = {}
    g = _gen()
    g.board[2]["cast_at"] = WINDOW_CLOSES
    cases["late"] = (g, "board-entries", "not before the window closes")
    g = _gen()
    g.board[2]["cast_at"] = WINDOW_OPENS - 1
    cases["early"] = (g, "board-entries", "before the window opens")
    g = _gen()
    assert g.rules is not None
    g.board[2]["cast_at"] = WINDOW_CLOSES + 1
    g.rules["voting_window"]["closes_at"] = WINDOW_CLOSES + 86_400_000  # extended, F1 kept
    cases["extended"] = (g, "election-fingerprint", "")
    g = _gen()
    g.rules = None
    g.refingerprint()
    cases["no-rules"] = (g, "election-fingerprint", "binds no revote policy")
    # no-revote rewritten as last-counts after a second ballot was let in
    g = new_election(revote_policy="no-revote")
    people = [g.new_voter(f"v{i}") for i in range(2)]
    for i, person in enumerate(people):
        g.cast(person, CHOICES[i])
    g.cast(people[0], CHOICES[3])
    cases["no-revote"] = (copy.deepcopy(g), "revote-chains", "entry 2")
    g.revote_policy = "last-counts"
    assert g.rules is not None
    g.rules["revote_policy"] = "last-counts"
    cases["policy-rewritten"] = (g, "election-fingerprint", "")
    # an honest ballot in the first hour after a 00:30 opening carries cast_at 00:00
    g = new_election()
    assert g.rules is not None
    g.rules["voting_window"]["opens_at"] = T0 + 1_800_000
    g.refingerprint()
    g.cast(g.new_voter("early"), CHOICES[0])
    g.board[0]["cast_at"] = T0
    cases["first-granule"] = (g, "", "")

    paths = {}
    for name, (g, _, _) in cases.items():
        g.rebuild(resign_heads=True)
        paths[name] = g.write(tmp_path / name)
    procs = {name: _start(str(path), "--json") for name, path in paths.items()}
    for name, (_, check, text) in cases.items():
        code, report = _finish(procs[name])
        node_failed = _failed(report)
        py_failed = _python_failed(paths[name])
        assert set(node_failed) == set(py_failed), (name, node_failed, py_failed)
        if not check:
            assert code == 0 and not py_failed, (name, node_failed)
            continue
        assert code == 1, name
        assert text in node_failed[check], (name, node_failed)
        assert text in py_failed[check], (name, py_failed)

    # election.json's revote_policy differing from the bound rules: both refuse the record
    g = _gen()
    g.revote_policy = "no-revote"
    g.rebuild()
    path = g.write(tmp_path / "mismatch")
    code, report = _finish(_start(str(path), "--json"))
    assert code == 1
    assert "revote_policy differs" in _failed(report)["record-format"]
    assert "revote_policy differs" in " ".join(_python_failed(path).values())


def test_a_key_whose_v_has_order_two_in_both_verifiers(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """T4 says v ≠ 1; a reader now checks v² mod N ≠ 1 (docs/protocol.md §4.2).  With v = 1
    (or N − 1) every v_i is ±1, so T7's second equation binds no share and a trustee could
    publish any partial decryption with a valid proof.  A dealer who builds the whole record
    around such a key made a record that both verifiers accepted; both now refuse it."""
    import tests.recordgen as recordgen
    from crypto.errors import InvalidEncoding
    from crypto.threshold import KeyShare, ThresholdPublicKey

    good, shares = recordgen.threshold_key()
    nn = good.nsquare
    for v in (1, nn - 1):
        doc = good.to_json()
        doc["v"] = int_to_hex(v)
        with pytest.raises(InvalidEncoding, match=r"v has order 1 or 2"):
            ThresholdPublicKey.from_json(doc)

    def weak_key() -> tuple[ThresholdPublicKey, tuple[KeyShare, ...]]:
        tpk = copy.copy(good)  # the dealer's key with v = v_i = 1 (past the reader's check)
        object.__setattr__(tpk, "v", 1)
        object.__setattr__(tpk, "verification_keys", (1,) * good.trustees)
        object.__setattr__(tpk, "_fingerprint", tpk._compute_fingerprint())
        return tpk, tuple(KeyShare(s.index, s.s, tpk) for s in shares)

    monkeypatch.setattr(recordgen, "threshold_key", weak_key)
    path = generate(2).write(tmp_path / "weak-v")
    code, report = _finish(_start(str(path), "--json"))
    node_failed = _failed(report)
    python_failed = _python_failed(path)
    assert code == 1
    assert any("order 1 or 2" in m for m in node_failed.values()), node_failed
    assert any("order 1 or 2" in m for m in python_failed.values()), python_failed
