"""The petition record verifier (``petition.json``, format ``saylau-petition-record/v1``).

Checks P1–P13 (docs/election-record.md §"Petition records"), in the order of
:data:`PETITION_CHECKS`.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from audit.checks import (
    _check_index,
    _check_receipt,
    check_board_log,
    prefix_roots,
)
from audit.record import (
    ENCRYPTED_TALLY,
    PARTIALS,
    PETITION,
    PETITION_FILES,
    RESULTS,
    Record,
    read_record,
)
from audit.record_io import PRODUCTION_KEY_BITS, test_keys_allowed
from audit.report import Report
from crypto.blind_rsa import IssuerPublicKey
from crypto.encoding import hex_to_bytes, hex_to_int, require
from crypto.errors import CryptoError, InvalidEncoding
from crypto.petition import PetitionParameters, petition_fingerprint
from crypto.threshold import (
    PartialDecryption,
    ThresholdPublicKey,
    combine,
    verify_partial_decryption,
)
from crypto.tree_head import petition_log_id
from tally.entry_checks import copied_ciphertexts
from tally.petition import PetitionContext, region_tally_context, verify_petition_board
from tally.petition import aggregate as aggregate_regions
from tally.progress import ProgressFn

#: tally.petition problem kinds -> report check names (in report order).
PETITION_BOARD_CHECKS = {
    "entry-format": "board-entries",
    "credential": "credentials",
    "signature": "signer-signatures",
    "region-proof": "region-proofs",
    "token-reuse": "token-uniqueness",
    "ciphertext-copy": "ciphertext-copies",
    "invalidation": "invalidations",
}
PETITION_BOARD_PASS = {
    "board-entries": "every entry is at its index, of a known kind, for this petition",
    "credentials": "every credential carries the issuer's blind signature for this petition",
    "signer-signatures": "every signature is signed (Ed25519) by its credential's key",
    "region-proofs": "every region proof verifies (batch-checked)",
    "token-uniqueness": "every credential signed at most once",
    "ciphertext-copies": "no region ciphertext appears twice (no copied signatures)",
    "invalidations": "every invalidation names an earlier, valid, not yet invalidated signature",
}
#: The checks of a petition record, in order (the last four after a region tally).
PETITION_CHECKS = ("record-format", "record-index", "petition-fingerprint", "tree-heads",
                   "board-merkle", *PETITION_BOARD_PASS, "issuance", "receipt",
                   "encrypted-tally", "partial-decryptions", "decryption", "results")


class PetitionReport(Report):
    """A :class:`Report` for a petition record: ``election_id`` holds the petition id and
    ``tally`` is ``{"regions": {region_id: count}}``."""

    kind = "petition"

    def to_json(self) -> dict[str, Any]:
        out = super().to_json()
        out["kind"] = self.kind
        out["petition_id"] = self.election_id
        return out

    def render_text(self) -> str:
        text = super().render_text()
        text = text.replace("Election record: ", "Petition record: ", 1)
        if self.election_id:
            text = text.replace(f"Election: {self.election_id}", f"Petition: {self.election_id}", 1)
        return text.replace("Verified tally:", "Verified signatures by region:", 1)


def _petition_meta(record: Record) -> tuple[PetitionParameters, ThresholdPublicKey,
                                            IssuerPublicKey, bytes, bytes, str]:
    """(params, election key, issuer key, published fingerprint, board key, log id)."""
    meta = record.get(PETITION)
    params = PetitionParameters.from_json(require(meta, "parameters", dict, PETITION))
    if require(meta, "petition_id", str, PETITION) != params.petition_id:
        raise InvalidEncoding("petition.json: petition_id differs from the parameters'")
    if require(meta, "kind", str, PETITION) != "petition":
        raise InvalidEncoding('petition.json: kind is not "petition"')
    return (params, record.election_key(),
            IssuerPublicKey.from_json(require(meta, "issuer_key", dict, PETITION)),
            hex_to_bytes(require(meta, "fingerprint", str, PETITION), "fingerprint", 32),
            record.board_public_key(), _petition_board_log_id(params.petition_id))


def _petition_board_log_id(petition_id: str) -> str:
    """``"saylau/petition/<n>"`` for ``"petition:<n>"`` (docs/protocol.md §3)."""
    prefix, _, number = petition_id.partition(":")
    if prefix != "petition" or not number.isdigit() or number != str(int(number)):
        raise InvalidEncoding(f"petition id {petition_id!r} is not petition:<number>")
    return petition_log_id(int(number))


def _is_index(value: object) -> bool:
    """A board position as JSON gives it: an integer, not a boolean (a list or object
    would make the set arithmetic below raise TypeError instead of reporting)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _ciphertext_copies(n: int, board: Sequence[Any], report_to: list[str]) -> set[int]:
    """Entries whose region ciphertext already appeared on the board (copied signatures).

    The shared copy check :func:`tally.entry_checks.copied_ciphertexts` — the server's
    ``petition_ciphertext_registry`` (UNIQUE per petition) enforces the same rule.
    """
    items: list[tuple[int, int]] = []
    for position, entry in enumerate(board):
        if not isinstance(entry, dict) or entry.get("kind") != "signature":
            continue
        sig = entry.get("signature")
        region = sig.get("region") if isinstance(sig, dict) else None
        c = region.get("ciphertext") if isinstance(region, dict) else None
        try:
            items.append((position, hex_to_int(c, "ciphertext")))
        except CryptoError:
            continue
    copies = copied_ciphertexts(n, items)
    for position, first in sorted(copies.items()):
        report_to.append(f"entry {position}: region ciphertext copied from entry {first} "
                         "(a signature copied under another credential)")
    return set(copies)


def verify_petition_record(
    record: Record | str | Path,
    receipt: Mapping[str, Any] | None = None,
    progress: ProgressFn | None = None,
    *,
    expected_fingerprint: bytes | None = None,
    allow_test_keys: bool | None = None,
) -> PetitionReport:
    """Verify a petition record (docs/election-record.md §"Petition records", checks P1–P13).

    ``report.tally`` is ``{"regions": {region_id: count}}`` when every check passes.
    """
    if not isinstance(record, Record):
        record = read_record(record, strict=False)
    report = PetitionReport(record.source)

    # P1. format
    if record.format_errors:
        report.add("record-format", False, "files do not follow the petition record format",
                   record.format_errors)
    else:
        present = [name for name in PETITION_FILES if name in record.files]
        report.add("record-format", True, f"{len(present)} files follow the JSON Schema")

    try:
        board_key: bytes | None = record.board_public_key()
    except (CryptoError, KeyError, TypeError):
        board_key = None
    try:
        params, tpk, issuer_key, published_fp, _, log_id = _petition_meta(record)
        report.election_id = params.petition_id
    except (CryptoError, KeyError, TypeError, ValueError) as exc:
        meta_error = str(exc)
        params = None
    # P2. index
    if record.index is None:
        report.add("record-index", False, "record-index.json missing")
    else:
        _check_index(report, record, board_key)
    # P3. fingerprint
    if params is None or board_key is None:
        report.add("petition-fingerprint", False, f"petition keys unusable: {meta_error if params is None else 'board key'}")
        return report
    meta = record.get(PETITION)
    try:
        recomputed = petition_fingerprint(params, meta["election_key"], meta["issuer_key"],
                                          board_key)
    except CryptoError as exc:  # e.g. a string canonical JSON refuses (lone surrogate)
        report.add("petition-fingerprint", False, f"petition keys unusable: fingerprint: {exc}")
        return report
    fp_details = []
    if not hmac.compare_digest(recomputed, published_fp):
        fp_details.append("petition.json's fingerprint is not the hash of the parameters and keys")
    if expected_fingerprint is not None and not hmac.compare_digest(recomputed,
                                                                    expected_fingerprint):
        fp_details.append("the fingerprint differs from the one you expected")
    if tpk.n.bit_length() < PRODUCTION_KEY_BITS and not test_keys_allowed(allow_test_keys):
        fp_details.append(f"TEST-SIZE election key ({tpk.n.bit_length()} bits < "
                          f"{PRODUCTION_KEY_BITS}): refused without --allow-test-keys")
    try:
        params.check_key(tpk.public)
    except CryptoError as exc:
        fp_details.append(f"parameters do not fit the election key: {exc}")
    if fp_details:
        report.add("petition-fingerprint", False, "petition fingerprint mismatch", fp_details)
    else:
        report.add("petition-fingerprint", True, f"fingerprint {recomputed.hex()[:16]}… recomputed")

    # P4-P5. tree heads and the Merkle log
    board, leaves, heads, roots = check_board_log(report, record, board_key, log_id)

    # P6. the entries (region proofs batch-verified; bad entries named)
    if progress is not None:
        progress("petition board", 0, len(board))
    ctx = PetitionContext(params, tpk.public, issuer_key, recomputed)
    result = verify_petition_board(ctx, board, batch=True)
    if progress is not None:
        progress("petition board", len(board), len(board))
    copy_details: list[str] = []
    copies = _ciphertext_copies(tpk.n, board, copy_details)
    for kind, name in PETITION_BOARD_CHECKS.items():
        details = (copy_details if kind == "ciphertext-copy"
                   else [str(p) for p in result.problems if p.check == kind])
        if details:
            report.add(name, False, f"{len(details)} problem(s)", details)
        else:
            report.add(name, True, PETITION_BOARD_PASS[name])
    # P7. issuance
    valid_signatures = {i for i in set(result.counted) | result.invalidated if i not in copies}
    try:
        issued: int | None = record.credentials_issued()
    except (CryptoError, KeyError, TypeError):
        issued = None
    if issued is None:
        report.add("issuance", False, "issuance.json has no usable count")
    elif len(valid_signatures) > issued:
        report.add("issuance", False, "more signatures than credentials issued",
                   [f"{len(valid_signatures)} signatures > {issued} credentials issued"])
    else:
        report.add("issuance", True, f"{len(valid_signatures)} signatures ≤ {issued} credentials "
                   "issued")
    # receipt (optional)
    if receipt is not None:
        def root_of(size: int) -> bytes | None:
            if size in roots:
                return roots[size]
            return None if size > len(leaves) else prefix_roots(leaves, {size})[size]
        _check_receipt(report, receipt, board, leaves, root_of, board_key, log_id)

    # P8. encrypted tally (recomputed over the valid entries before tree_size)
    if not record.tallied:
        report.add("encrypted-tally", False, "the record has no decrypted region tally yet")
        return report
    published = record.get(ENCRYPTED_TALLY)
    try:
        tree_size = int(require(published, "tree_size", int, ENCRYPTED_TALLY))
        published_c = hex_to_int(require(published, "ciphertext", str, ENCRYPTED_TALLY),
                                 "ciphertext")
        published_count = require(published, "count", int, ENCRYPTED_TALLY)
        published_pid = require(published, "petition_id", str, ENCRYPTED_TALLY)
    except CryptoError as exc:
        report.add("encrypted-tally", False, f"encrypted-tally.json malformed: {exc}")
        return report
    if not 0 <= tree_size <= len(board):
        report.add("encrypted-tally", False,
                   f"the tally covers {tree_size} entries; the board has {len(board)}")
        return report
    # The valid invalidations before tree_size: the earliest well-formed invalidation of
    # each target that the whole-board check accepted.
    cut_invalidated = {e["target_index"] for e in board[:tree_size]
                       if isinstance(e, dict) and e.get("kind") == "invalidation"
                       and _is_index(e.get("target_index"))
                       and e["target_index"] in result.invalidated}
    counted = sorted(i for i in valid_signatures if i < tree_size and i not in cut_invalidated)
    invalidated = sorted(i for i in valid_signatures if i < tree_size and i in cut_invalidated)
    ciphertexts = [hex_to_int(board[i]["signature"]["region"]["ciphertext"], "ciphertext")
                   for i in counted]
    product = aggregate_regions(tpk.public, ciphertexts)
    tally_details = []
    if published_pid != params.petition_id:
        tally_details.append("the encrypted tally names another petition")
    listed = published.get("counted")
    if listed != counted:
        if listed is not None and (not isinstance(listed, list)
                                   or not all(_is_index(i) for i in listed)):
            tally_details.append("counted entries differ: published counted is not a list of "
                                 "entry positions")
        else:
            extra = sorted(set(listed or []) - set(counted))
            missing = sorted(set(counted) - set(listed or []))
            tally_details.append(f"counted entries differ: published counts {extra or 'none'} "
                                 f"that must not count, omits {missing or 'none'}")
    if published.get("invalidated") != invalidated:
        tally_details.append(f"invalidated entries differ: published "
                             f"{published.get('invalidated')}, board gives {invalidated} "
                             "(an invalidation ignored or invented)")
    if published_count != len(counted):
        tally_details.append(f"count: published {published_count}, board gives {len(counted)}")
    if published_c != product:
        tally_details.append("the ciphertext is not the product of the counted signatures")
    if tally_details:
        report.add("encrypted-tally", False, "the published region tally is not the board's",
                   tally_details)
    else:
        report.add("encrypted-tally", True,
                   f"recomputed from {len(counted)} counted signatures of the first {tree_size} "
                   f"entries ({len(invalidated)} invalidated)")

    # P9-P10. partial decryptions (always of the recomputed product) and combination
    context = region_tally_context(params.petition_id, tree_size)
    raw_partials = record.get(PARTIALS)
    try:
        if not isinstance(raw_partials, list):
            raise InvalidEncoding("partial-decryptions.json: expected a list")
        partials = [PartialDecryption.from_json(obj) for obj in raw_partials]
    except CryptoError as exc:
        report.add("partial-decryptions", False, f"malformed: {exc}")
        return report
    partial_details = []
    seen_indices: set[int] = set()
    for position, partial in enumerate(partials):
        if partial.index in seen_indices:
            partial_details.append(f"partial {position}: trustee {partial.index} appears twice")
            continue
        seen_indices.add(partial.index)
        try:
            verify_partial_decryption(tpk, product, partial, fingerprint=recomputed,
                                      context=context)
        except CryptoError as exc:
            partial_details.append(f"trustee {partial.index}: {exc}")
        if progress is not None:
            progress("partial decryptions", position + 1, len(partials))
    if partial_details:
        report.add("partial-decryptions", False,
                   f"{len(partial_details)} partial decryption(s) fail their proofs",
                   partial_details)
    else:
        report.add("partial-decryptions", True,
                   f"{len(partials)} trustees' proofs verify for the region product")
    try:
        combined = combine(tpk, product, partials, fingerprint=recomputed, context=context)
        counts = params.unpack(combined.m)
    except CryptoError as exc:
        report.add("decryption", False, f"cannot decrypt the region tally: {exc}")
        return report
    if sum(counts.values()) != len(counted):
        report.add("decryption", False, "the decrypted region counts do not add up to the "
                   f"{len(counted)} counted signatures")
        return report
    report.add("decryption", True,
               f"decrypted from {tpk.threshold} of {tpk.trustees} trustees "
               f"({', '.join(str(i) for i in combined.used)})")

    # P11. results
    results = record.get(RESULTS)
    result_details = []
    if not isinstance(results, dict) or not isinstance(results.get("counts"), dict):
        report.add("results", False, "results.json malformed")
        return report
    published_counts = results["counts"]
    for rid, count in counts.items():
        if published_counts.get(rid) != count:
            result_details.append(f"{rid}: published {published_counts.get(rid)}, decrypted {count}")
    result_details += [f"{rid}: published but not a region of the petition"
                       for rid in published_counts if rid not in counts]
    if results.get("count") != len(counted):
        result_details.append(f"count: published {results.get('count')}, decrypted {len(counted)}")
    if results.get("tree_size") != tree_size or results.get("petition_id") != params.petition_id:
        result_details.append("the results name another petition or board size")
    if result_details:
        report.add("results", False, "published results differ from the decrypted tally",
                   result_details)
    else:
        report.add("results", True, "published region counts = decrypted tally")
    if report.valid:
        report.tally = {"regions": counts}
    return report


__all__ = ["PETITION_BOARD_CHECKS", "PETITION_BOARD_PASS", "PETITION_CHECKS", "PetitionReport", "verify_petition_record"]
