"""``saylau bench size``: bytes per ballot entry in the record, against the binary size of
its numbers, plain and as a ``.zip`` (deflate).

Board entries are built as the server stores them (credential, 5-option ballot with its
proofs, Ed25519 signature, cast_at, index, replaces) for ``--ballots`` voters with a
throwaway key of each size.  The *binary size* counts every number at its fixed width —
ciphertexts and proof commitments ``a`` as ``|n²|`` bytes, responses ``z`` as ``|n|`` bytes,
challenges ``e`` as 32 bytes, token id, ballot key, randomizer 32 bytes, the RSA credential
signature as the issuer modulus' bytes, the Ed25519 signature 64 bytes — i.e. what a
dense binary encoding would need, without field names.  ``zip`` is ``board.json`` in a
deflate ``.zip`` (level 9), per entry.
"""

from __future__ import annotations

import io
import json
import secrets
import zipfile
from collections.abc import Callable
from typing import Any

from bench.bench_crypto import generate_key
from crypto.ballot import encrypt_ballot
from crypto.blind_rsa import IssuerPrivateKey
from crypto.credentials import (
    ballot_public_key_bytes,
    begin_credential,
    finish_credential,
    generate_ballot_key,
    issue_blind_signature,
    sign_payload,
)
from crypto.election import Manifest
from crypto.encoding import byte_length, canonical_json
from crypto.paillier import PublicKey

DEFAULT_BITS = (2048, 3072)
QUICK_BITS = (1024,)
OPTIONS = 5


def manifest() -> Manifest:
    return Manifest.from_json({
        "election_id": "bench", "title": "Benchmark",
        "questions": [{"id": "q", "title": "Choose one", "min_selections": 1,
                       "max_selections": 1,
                       "options": [{"id": f"o{i}", "label": f"Option {i}"}
                                   for i in range(OPTIONS)]}]})


def entry_binary_size(pk: PublicKey, entry: dict[str, Any], issuer_bytes: int) -> int:
    """Bytes of the entry's numbers at their fixed widths (see the module docstring)."""
    nn_bytes, n_bytes = byte_length(pk.nsquare), byte_length(pk.n)
    total = 32 + 32 + 32 + issuer_bytes + 64 + 8 + 4 + 4  # token, key, randomizer, sigs, ints

    def proof(p: dict[str, Any]) -> int:
        return len(p["a"]) * nn_bytes + len(p["e"]) * 32 + len(p["z"]) * n_bytes

    for contest in entry["ballot"]["contests"]:
        total += proof(contest["count_proof"])
        for s in contest["selections"]:
            total += nn_bytes + proof(s["proof"])
    return total


def bench_bits(bits: int, count: int) -> dict[str, Any]:
    pk = generate_key(bits)
    m = manifest()
    sk = IssuerPrivateKey.generate(2048)
    ipk = sk.public_key()
    fingerprint = secrets.token_bytes(32)
    entries = []
    for i in range(count):
        bsk = generate_ballot_key()
        blinded, state = begin_credential(ipk, "bench", ballot_public_key_bytes(bsk))
        credential = finish_credential(ipk, state, issue_blind_signature(sk, blinded))
        ballot, _ = encrypt_ballot(pk, m, fingerprint, credential.token_id,
                                   {"q": [f"o{i % OPTIONS}"]})
        bj = ballot.to_json()
        entries.append({"kind": "ballot", "index": i, "election_id": "bench",
                        "credential": credential.to_json(), "ballot": bj,
                        "signature": sign_payload(bsk, canonical_json(bj)).hex(),
                        "replaces": None, "cast_at": 1_700_000_000_000})
    board = canonical_json(entries) + b"\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("board.json", board)
    zipped = len(buffer.getvalue())
    binary = sum(entry_binary_size(pk, e, byte_length(ipk.n)) for e in entries) / count
    per_json = len(board) / count
    per_zip = zipped / count
    return {"bits": bits, "ballots": count, "options": OPTIONS,
            "json_bytes_per_ballot": round(per_json), "binary_bytes_per_ballot": round(binary),
            "zip_bytes_per_ballot": round(per_zip),
            "json_over_binary": round(per_json / binary, 3),
            "zip_over_binary": round(per_zip / binary, 3)}


def run(*, quick: bool = False, bits: tuple[int, ...] | None = None, ballots: int | None = None,
        out: Callable[[str], None] = print) -> list[dict[str, Any]]:
    sizes = bits or (QUICK_BITS if quick else DEFAULT_BITS)
    count = ballots or (4 if quick else 16)
    results = []
    for b in sizes:
        out(f"{b}-bit n: {count} ballot entries of {OPTIONS} options …")
        r = bench_bits(b, count)
        results.append(r)
        out(f"  JSON {r['json_bytes_per_ballot']} B/ballot ({r['json_over_binary']}× binary), "
            f"zip {r['zip_bytes_per_ballot']} B ({r['zip_over_binary']}× binary), "
            f"binary {r['binary_bytes_per_ballot']} B")
    return results


if __name__ == "__main__":
    print(json.dumps(run(quick=True), indent=2))
