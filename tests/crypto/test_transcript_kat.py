"""Known answers for every Fiat–Shamir transcript, from an independent encoder.

The expected bytes are built HERE, by hand, from docs/protocol.md §1.2 (field encoding),
§1.5 (Z3, membership and selection count), §4.3 (T6, partial decryption) and §7.4
(petition region), with ``hashlib`` and ``struct`` only — never with
crypto/transcript.py or the functions under test.  Each test then checks that the
challenge the code computes (and the one inside a proof it produced) equals the
hand-built one, so that dropping, reordering or relabelling any field is noticed by
these tests and not only by a golden file the code itself regenerates.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
from pathlib import Path

import pytest

from crypto import paillier as P
from crypto.ballot import EncryptedBallot, encrypt_ballot
from crypto.election import Manifest, Option
from crypto.petition import PetitionParameters, encrypt_signature
from crypto.proofs import membership_challenge, prove_membership
from crypto.threshold import KeyShare, ThresholdPublicKey, partial_decrypt
from tests.keys import paillier_test_key

ROOT = Path(__file__).parents[2]
VECTORS = json.loads((ROOT / "tests" / "vectors" / "saylau-worked-examples.json").read_text())
PROTOCOL = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
KEY = paillier_test_key()
PK = KEY.public
T_MOD = 1 << 256


# ------------------------------------------------------------- the independent encoder (§1.2)


def field(kind: int, label: str, value: bytes) -> bytes:
    """``kind (1) ‖ u32be(len(label)) ‖ label ‖ u32be(len(value)) ‖ value``."""
    raw = label.encode("utf-8")
    return struct.pack(">B", kind) + struct.pack(">I", len(raw)) + raw + struct.pack(">I", len(value)) + value


def f_bytes(label: str, value: bytes) -> bytes:
    return field(0x01, label, value)


def f_int(label: str, value: int, width: int) -> bytes:
    assert 0 <= value < 1 << (8 * width)
    return field(0x02, label, value.to_bytes(width, "big"))


def f_text(label: str, value: str) -> bytes:
    return field(0x03, label, value.encode("utf-8"))


def f_list(label: str, values: list[int], width: int) -> bytes:
    out = f_int(label + "#count", len(values), 4)
    for index, value in enumerate(values):
        out += f_int(f"{label}[{index}]", value, width)
    return out


def bytelen(x: int) -> int:
    return (x.bit_length() + 7) // 8


def challenge(encoding: bytes) -> int:
    return int.from_bytes(hashlib.sha256(encoding).digest(), "big") % T_MOD


def membership_encoding(domain: str, fingerprint: bytes, n: int, context, statement, c: int,
                        allowed, commitments) -> bytes:
    """Z3, field by field, as the table in docs/protocol.md §1.5 lists them."""
    w_n, w_nn = bytelen(n), bytelen(n * n)
    out = f_text("domain", domain)
    out += f_bytes("fingerprint", fingerprint)
    out += f_int("n", n, w_n)
    out += f_int("context#count", len(context), 4)
    for label, value in context:
        out += f_text("context.label", label)
        out += f_text("context.value", value)
    out += f_list("statement.ciphertexts", list(statement), w_nn)
    out += f_int("statement.c", c, w_nn)
    out += f_list("statement.allowed", list(allowed), w_n)
    out += f_list("commitments", list(commitments), w_nn)
    return out


# ------------------------------------------------------------- §1.2 and §10: the docs' numbers


def _doc_value(name: str) -> str:
    """The hex value printed after ``name`` in docs/protocol.md §10."""
    section = PROTOCOL[PROTOCOL.index("## 10. Worked examples"):]
    match = re.search(rf"`?{name}`?\s*=?\s*\n?\s*`([0-9a-f]{{64}})`", section)
    assert match, f"docs/protocol.md §10 does not print {name}"
    return match.group(1)


def test_field_encoding_bytes_spelled_out() -> None:
    assert f_text("domain", "d") == bytes.fromhex("03" "00000006" "646f6d61696e" "00000001" "64")
    assert f_int("i", 5, 2) == bytes.fromhex("02" "00000001" "69" "00000002" "0005")
    assert f_bytes("b", b"\x01\x02") == bytes.fromhex("01" "00000001" "62" "00000002" "0102")


def test_transcript_example_matches_the_docs_and_the_vectors() -> None:
    ex = VECTORS["transcript_example"]
    encoding = f_text("domain", "saylau/v1/example") + f_bytes("b", b"\x01\x02") + f_int("i", 5, 2) \
        + f_text("t", "kz")
    digest = hashlib.sha256(encoding).hexdigest()
    assert digest == "040e9aa13ea119e937e6f0d07e8f94a2fa9fccc005b0ffe24c7d7c061428228e"
    assert digest == ex["digest"]
    assert digest in PROTOCOL


def test_fingerprint_example_matches_the_docs_and_the_vectors() -> None:
    ex = VECTORS["fingerprint_example"]

    def canonical(value: object) -> bytes:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    encoding = f_text("domain", "saylau/v1/election-fingerprint") \
        + f_bytes("manifest", canonical(ex["manifest"])) \
        + f_bytes("election_key", canonical(ex["election_key"])) \
        + f_bytes("issuer_key", canonical(ex["issuer_key"])) \
        + f_bytes("board_key", bytes.fromhex(ex["board_key"]))
    digest = hashlib.sha256(encoding).hexdigest()
    assert digest == ex["fingerprint"] == _doc_value("fingerprint")


def test_option_proof_example_challenge_matches_the_docs() -> None:
    """§10 item 4: the printed challenge equals the hand-built Z3 transcript's."""
    ex = VECTORS["option_proof_example"]
    fp = bytes.fromhex(VECTORS["fingerprint_example"]["fingerprint"])
    n = int(VECTORS["key"]["n"], 16)
    assert n == PK.n
    c = int(VECTORS["encryption_example"]["c"], 16)
    a = [int(x, 16) for x in ex["proof"]["a"]]
    context = [tuple(p) for p in ex["context"]]
    expected = challenge(membership_encoding("saylau/v1/option", fp, n, context, [c], c,
                                             ex["allowed"], a))
    assert f"{expected:064x}" == ex["challenge"] == _doc_value("challenge")
    assert sum(int(x, 16) for x in ex["proof"]["e"]) % T_MOD == expected
    assert membership_challenge(PK, "saylau/v1/option", fp, tuple(context), (c,), c,
                                tuple(ex["allowed"]), a) == expected


def test_encryption_example_prefix_printed_in_the_docs() -> None:
    """§10 item 3 prints the first 20 hex digits of r; the vectors' r and c agree (P1)."""
    ex = VECTORS["encryption_example"]
    r, c, m = int(ex["r"], 16), int(ex["c"], 16), ex["m"]
    assert re.search(r"`r` begins\s+`" + ex["r"][:20] + "…`", PROTOCOL)
    assert c == (1 + m * PK.n) * pow(r, PK.n, PK.nsquare) % PK.nsquare


# ------------------------------------------------------------- membership (§1.5)


@pytest.mark.parametrize("allowed,m", [((0, 1), 1), ((0, 1), 0), ((3, 7, 11, 200), 11),
                                       ((5,), 5)])
def test_membership_challenge_kat(allowed, m) -> None:
    fp = bytes(range(32))
    context = (("election_id", "e1"), ("question_id", "q"), ("token_id", "ab" * 32))
    c, r = P.encrypt(PK, m)
    proof = prove_membership(PK, c, r, m, allowed, domain="saylau/v1/option", fingerprint=fp,
                             context=context)
    expected = challenge(membership_encoding("saylau/v1/option", fp, PK.n, context, [c], c,
                                             allowed, proof.a))
    assert sum(proof.e) % T_MOD == expected
    assert membership_challenge(PK, "saylau/v1/option", fp, context, (c,), c, allowed,
                                proof.a) == expected


def test_membership_challenge_depends_on_every_field() -> None:
    """Hand-built transcripts that lack one field differ from the real one."""
    fp, context, c, allowed, a = bytes(32), (("k", "v"),), 12345, [0, 1], [777, 888]
    full = membership_encoding("saylau/v1/option", fp, PK.n, context, [c], c, allowed, a)
    real = membership_challenge(PK, "saylau/v1/option", fp, context, (c,), c, tuple(allowed), a)
    assert challenge(full) == real
    w_n = bytelen(PK.n)
    without_allowed = full.replace(f_list("statement.allowed", allowed, w_n), b"")
    assert challenge(without_allowed) != real


# ------------------------------------------------------------- selection count (§1.6)


def test_selection_count_challenge_kat_from_the_worked_ballot() -> None:
    ex = VECTORS["ballot_example"]
    manifest = Manifest.from_json(VECTORS["fingerprint_example"]["manifest"])
    fp = bytes.fromhex(VECTORS["fingerprint_example"]["fingerprint"])
    ballot = EncryptedBallot.from_json(ex["ballot"])
    _check_ballot_challenges(manifest, fp, ballot)


def test_selection_count_challenge_kat_fresh_ballot() -> None:
    from tests.manifests import demo_manifest

    manifest = demo_manifest()
    fp = bytes([9]) * 32
    token = bytes([5]) * 32
    choices = {q.id: list(q.option_ids[: q.min_selections or 1]) for q in manifest.questions}
    ballot, _ = encrypt_ballot(PK, manifest, fp, token, choices)
    _check_ballot_challenges(manifest, fp, ballot)


def _check_ballot_challenges(manifest: Manifest, fp: bytes, ballot: EncryptedBallot) -> None:
    eid, tok = manifest.election_id, ballot.token_id.hex()
    for contest, q in zip(ballot.contests, manifest.questions, strict=True):
        cts = [s.ciphertext for s in contest.selections]
        for s in contest.selections:
            ctx = [("election_id", eid), ("question_id", q.id), ("option_id", s.option_id),
                   ("token_id", tok)]
            want = challenge(membership_encoding("saylau/v1/option", fp, PK.n, ctx, [s.ciphertext],
                                                 s.ciphertext, [0, 1], s.proof.a))
            assert sum(s.proof.e) % T_MOD == want
        total = 1
        for x in cts:
            total = total * x % PK.nsquare
        allowed = list(range(q.min_selections, q.max_selections + 1))
        ctx = [("election_id", eid), ("question_id", q.id), ("token_id", tok)]
        want = challenge(membership_encoding("saylau/v1/selection-count", fp, PK.n, ctx, cts, total,
                                             allowed, contest.count_proof.a))
        assert sum(contest.count_proof.e) % T_MOD == want


# ------------------------------------------------------------- petition region (§7.3, §7.4)


def test_petition_region_challenge_kat() -> None:
    params = PetitionParameters("petition:3", "T", tuple(Option(f"r{i}", "R") for i in range(5)))
    fp, token = bytes([1]) * 32, bytes([0xCD]) * 32
    sig, _ = encrypt_signature(PK, params, fp, token, "r3")
    allowed = [1 << (32 * i) for i in range(5)]
    ctx = [("petition_id", "petition:3"), ("token_id", token.hex())]
    want = challenge(membership_encoding("saylau/v1/petition-region", fp, PK.n, ctx, [sig.ciphertext],
                                         sig.ciphertext, allowed, sig.proof.a))
    assert sum(sig.proof.e) % T_MOD == want


# ------------------------------------------------------------- partial decryption (§4.3)

THRESHOLD_DOC = json.loads((ROOT / "tests" / "fixtures" / "threshold-test-key-1024-3of5.json").read_text())
TPK = ThresholdPublicKey.from_json(THRESHOLD_DOC["public_key"])
SHARES = [KeyShare.from_json(s) for s in THRESHOLD_DOC["shares"]]


def partial_encoding(fingerprint: bytes, c: int, c_i: int, index: int, context, a: int, b: int) -> bytes:
    """T6's table, rows 1..11, in order."""
    n, nn = TPK.n, TPK.nsquare
    w_n, w_nn = bytelen(n), bytelen(nn)
    out = f_text("domain", "saylau/v1/partial-decryption")
    out += f_bytes("fingerprint", fingerprint)
    out += f_int("n", n, w_n)
    out += f_int("c", c, w_nn)
    out += f_int("c_i", c_i, w_nn)
    out += f_int("v", TPK.v, w_nn)
    out += f_int("v_i", TPK.verification_keys[index - 1], w_nn)
    out += f_int("index", index, 4)
    out += f_int("context#count", len(context), 4)
    for position, item in enumerate(context):
        out += f_text(f"context[{position}]", item)
    out += f_int("a", a, w_nn)
    out += f_int("b", b, w_nn)
    return out


@pytest.mark.parametrize("index,context", [(1, ("question", "q1", "option", "o2")), (5, ()),
                                           (3, ("petition", "petition:1", "regions"))])
def test_partial_decryption_challenge_kat(index, context) -> None:
    fp = bytes(range(32))
    c = P.encrypt(TPK.public, 42)[0]
    partial = partial_decrypt(SHARES[index - 1], c, fingerprint=fp, context=context)
    want = challenge(partial_encoding(fp, c, partial.c_i, index, context, partial.proof.a,
                                      partial.proof.b))
    assert partial.proof.e == want


def test_threshold_public_key_fingerprint_kat() -> None:
    nn = TPK.nsquare
    out = f_text("domain", "saylau/v1/threshold-public-key")
    out += f_int("n", TPK.n, bytelen(TPK.n))
    out += f_int("threshold", TPK.threshold, 4)
    out += f_int("trustees", TPK.trustees, 4)
    out += f_int("v", TPK.v, bytelen(nn))
    out += f_list("verification_keys", list(TPK.verification_keys), bytelen(nn))
    assert hashlib.sha256(out).digest() == TPK.fingerprint()
    assert THRESHOLD_DOC["fingerprint"] == hashlib.sha256(out).hexdigest()
