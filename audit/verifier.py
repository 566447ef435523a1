"""The independent verifier behind ``saylau verify`` (docs/election-record.md §Verification).

Needs only the record (and optionally a voter's receipt): no database, no server.
Checks, in order, each reported by name in a :class:`audit.report.Report`:

 1. ``record-format``        every file is JSON and follows the JSON Schema
 2. ``record-index``         Ed25519 index signature by the board key; SHA-256 of every file
 3. ``election-fingerprint`` fingerprint recomputed from manifest + keys (eq. F1)
 4. ``tree-heads``           every STH's signature, log id, sizes and times non-decreasing
 5. ``board-merkle``         MTH of the board = last STH's root, last STH covers the board;
                             every earlier STH's root = MTH of that prefix (consistency)
 6. ``board-entries`` … ``revote-chains``  the board checks of :func:`tally.verify_board.verify_board`
 7. ``issuance``             distinct credentials on the board ≤ credentials issued
 8. ``encrypted-tally``      the tally recomputed from the board = the published one
 9. ``partial-decryptions``  every trustee's proof (T7)
10. ``decryption``           combination of k valid partials per option (T8, T9)
11. ``results``              published results = combined plaintexts
12. ``receipt``              (with a receipt) STH signature, inclusion, entry still on the board

Petition records (``petition.json``, format ``saylau-petition-record/v1``) are verified by
:func:`verify_petition_record` (dispatched from :func:`verify_record`), with the checks
listed in :data:`PETITION_CHECKS`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit.record import (
    BOARD,
    ELECTION,
    ENCRYPTED_TALLY,
    FILES,
    INDEX_FILE,
    ISSUANCE,
    MANIFEST,
    PARTIALS,
    PETITION,
    PETITION_FILES,
    PRODUCTION_KEY_BITS,
    RESULTS,
    TREE_HEADS,
    Record,
    read_record,
    verify_index,
)
from audit.report import Report
from crypto.blind_rsa import IssuerPublicKey
from crypto.election import Manifest, election_fingerprint
from crypto.encoding import hex_to_bytes, hex_to_int, require
from crypto.errors import CryptoError, InvalidEncoding, InvalidMerkleProof
from crypto.merkle import InclusionProof, node_hash, root_hash
from crypto.petition import PetitionParameters, petition_fingerprint
from crypto.threshold import (
    PartialDecryption,
    ThresholdPublicKey,
    combine,
    verify_partial_decryption,
)
from crypto.tree_head import (
    SignedTreeHead,
    election_log_id,
    petition_log_id,
    verify_receipt_inclusion,
    verify_tree_head,
)
from tally.aggregate import EncryptedTally, aggregate
from tally.decrypt import (
    Rejected,
    TrusteePartials,
    check_partials,
    combine_tally,
    results_from_json,
)
from tally.petition import PetitionContext, region_tally_context, verify_petition_board
from tally.petition import aggregate as aggregate_regions
from tally.verify_board import (
    BoardResult,
    ElectionContext,
    entry_leaf_hash,
    tracker_of,
    verify_board,
)

ProgressFn = Callable[[str, int, int], None]

#: verify_board problem kinds -> report check names (in report order).
BOARD_CHECKS = {
    "entry-format": "board-entries",
    "credential": "credentials",
    "signature": "ballot-signatures",
    "ballot-proof": "ballot-proofs",
    "audit": "audited-ballots",
    "ciphertext-copy": "ciphertext-copies",
    "revote-chain": "revote-chains",
    "issuance": "issuance",
}
BOARD_PASS = {
    "board-entries": "every entry is at its index, of a known kind, for this election",
    "credentials": "every credential carries the issuer's blind signature for this election",
    "ballot-signatures": "every ballot is signed by its credential's ballot key",
    "ballot-proofs": "every 0/1 and selection-count proof verifies",
    "audited-ballots": "every audited ballot opens to its revealed choices",
    "ciphertext-copies": "no ciphertext appears twice (no copied ballots)",
    "revote-chains": "revotes replace the same credential's previous ballot",
    "issuance": "ballots counted ≤ credentials issued",
}


def prefix_roots(leaves: list[bytes], sizes: set[int]) -> dict[int, bytes]:
    """``MTH(D[0:k])`` for every ``k`` in ``sizes`` in one pass (RFC 9162 §2.1.1).

    Keeps the perfect subtrees of the prefix on a stack; the root of the prefix is the
    right fold ``node(s_1, node(s_2, … s_m))``, which equals MTH's split at the
    largest power of two.
    """
    out: dict[int, bytes] = {}
    if 0 in sizes:
        out[0] = root_hash([])
    stack: list[tuple[int, bytes]] = []
    for k, leaf in enumerate(leaves, start=1):
        stack.append((1, leaf))
        while len(stack) > 1 and stack[-1][0] == stack[-2][0]:
            (size, right), (_, left) = stack.pop(), stack.pop()
            stack.append((2 * size, node_hash(left, right)))
        if k in sizes:
            acc = stack[-1][1]
            for _, h in reversed(stack[:-1]):
                acc = node_hash(h, acc)
            out[k] = acc
    return out


def _key_size_note(tpk: ThresholdPublicKey) -> str:
    """Records may use 1024-bit test keys; the report says so (docs/election-record.md §2.3)."""
    bits = tpk.n.bit_length()
    if bits < PRODUCTION_KEY_BITS:
        return f"; TEST-SIZE election key ({bits} bits < {PRODUCTION_KEY_BITS}): not for real elections"
    return ""


def _receipt_problems(issuance: object, count: int) -> list[str]:
    """``receipts``: absent, empty, or exactly ``count`` sorted distinct 32-byte hashes."""
    receipts = issuance.get("receipts") if isinstance(issuance, dict) else None
    if not receipts:
        return []
    if not isinstance(receipts, list) or not all(
            isinstance(r, str) and len(r) == 64 and all(ch in "0123456789abcdef" for ch in r)
            for r in receipts):
        return ["issuance receipts are not a list of 32-byte hashes (lowercase hex)"]
    problems = []
    if any(a >= b for a, b in zip(receipts, receipts[1:], strict=False)):
        problems.append("issuance receipts are not sorted and distinct")
    if len(receipts) != count:
        problems.append(f"{len(receipts)} issuance receipts for count {count}")
    return problems


def _skip(report: Report, name: str, why: str) -> None:
    report.add(name, False, f"not checked: {why}")


def _check_index(report: Report, record: Record, board_key: bytes | None) -> None:
    details: list[str] = []
    index = record.index
    files = index.get("files") if isinstance(index, dict) else None
    if not isinstance(files, dict):
        report.add("record-index", False, "record-index.json has no file list")
        return
    if board_key is None:
        details.append("no usable board key in election.json to check the index signature")
    else:
        try:
            verify_index(index, board_key, record.format)
        except CryptoError as exc:
            details.append(f"index signature: {exc}")
    for name in sorted(set(record.raw) - {INDEX_FILE}):
        expected = files.get(name)
        actual = hashlib.sha256(record.raw[name]).hexdigest()
        if expected is None:
            details.append(f"{name} is not listed in the index")
        elif not isinstance(expected, str) or not hmac.compare_digest(expected, actual):
            details.append(f"{name}: SHA-256 differs from the signed index (file altered)")
    for name in sorted(set(files) - set(record.raw)):
        details.append(f"{name} is listed in the index but missing")
    if details:
        report.add("record-index", False, "the signed record index does not match the files",
                   details)
    else:
        report.add("record-index", True,
                   f"index signed by the board key; {len(files)} file hashes match")


def _check_tree_heads(report: Report, record: Record, board_key: bytes,
                      log_id: str) -> list[SignedTreeHead]:
    details: list[str] = []
    heads: list[SignedTreeHead] = []
    try:
        published = record.log_id()
    except (CryptoError, KeyError, TypeError):
        published = ""
    if published != log_id:
        details.append(f"the record names log id {published!r}; this board's log id is {log_id!r}")
    raw = record.get(TREE_HEADS)
    if not isinstance(raw, list) or not raw:
        report.add("tree-heads", False, "no signed tree heads")
        return []
    for i, obj in enumerate(raw):
        try:
            sth = SignedTreeHead.from_json(obj)
        except CryptoError as exc:
            details.append(f"tree head {i}: malformed ({exc})")
            continue
        try:
            verify_tree_head(board_key, sth)
        except CryptoError as exc:
            details.append(f"tree head {i} (size {sth.tree_size}): {exc}")
        if sth.log_id != log_id:
            details.append(f"tree head {i}: log id {sth.log_id!r} is not {log_id!r}")
        if heads and (sth.tree_size < heads[-1].tree_size or sth.timestamp < heads[-1].timestamp):
            details.append(f"tree head {i}: size or time goes backwards")
        heads.append(sth)
    if details:
        report.add("tree-heads", False, "signed tree heads do not verify", details)
    else:
        report.add("tree-heads", True, f"{len(heads)} tree heads signed by the board key")
    return heads


def _check_merkle(report: Report, leaves: list[bytes], heads: list[SignedTreeHead]
                  ) -> dict[int, bytes]:
    roots = prefix_roots(leaves, {h.tree_size for h in heads if h.tree_size <= len(leaves)}
                         | {len(leaves)})
    details: list[str] = []
    if not heads:
        report.add("board-merkle", False, "no tree head to compare the board with")
        return roots
    last = heads[-1]
    if last.tree_size != len(leaves):
        details.append(f"the last tree head covers {last.tree_size} entries; the board has "
                       f"{len(leaves)} (entries dropped or added)")
    for i, sth in enumerate(heads):
        root = roots.get(sth.tree_size)
        if root is None:
            details.append(f"tree head {i} (size {sth.tree_size}) is beyond the board's end")
        elif not hmac.compare_digest(root, sth.root_hash):
            details.append(f"tree head {i} (size {sth.tree_size}): root differs from the board "
                           "(entries rewritten or removed; not consistent)")
    if details:
        report.add("board-merkle", False, "the board does not match its signed tree heads",
                   details)
    else:
        report.add("board-merkle", True,
                   f"Merkle root of {len(leaves)} entries = last tree head; "
                   f"{len(heads)} tree heads consistent")
    return roots


def _check_receipt(report: Report, receipt: Mapping[str, Any], board: list[Any],
                   leaves: list[bytes], roots_of: Callable[[int], bytes | None],
                   board_key: bytes, log_id: str) -> None:
    details: list[str] = []
    try:
        sth = SignedTreeHead.from_json(receipt.get("tree_head"))
        proof = InclusionProof.from_json(receipt.get("inclusion_proof"))
        leaf = hex_to_bytes(receipt.get("leaf_hash"), "leaf_hash", 32)
        index = require(receipt, "index", int, "receipt")
    except (CryptoError, AttributeError) as exc:
        report.add("receipt", False, f"the receipt is malformed: {exc}")
        return
    try:
        verify_receipt_inclusion(board_key, sth, leaf, proof)
    except CryptoError as exc:
        details.append(f"receipt does not verify against its own tree head: {exc}")
    if sth.log_id != log_id:
        details.append("receipt's tree head is for another board")
    if proof.leaf_index != index:
        details.append("receipt index differs from its inclusion proof")
    if not 0 <= index < len(board):
        details.append(f"the board has no entry {index}: the receipt's ballot was DROPPED")
    elif not hmac.compare_digest(leaves[index], leaf):
        details.append(f"board entry {index} is not the receipt's ballot: it was DROPPED or "
                       "replaced")
    else:
        entry = board[index]
        tracker = receipt.get("tracker")
        ballot = entry.get("ballot") if isinstance(entry, dict) else None
        if tracker is not None and isinstance(ballot, dict) and tracker not in (
                tracker_of(ballot), leaf.hex()):
            details.append("receipt tracker does not match the ballot on the board")
    root = roots_of(sth.tree_size)
    if root is None:
        details.append("the receipt's tree head is beyond the published board")
    elif not hmac.compare_digest(root, sth.root_hash):
        details.append("the published board is not an extension of the receipt's tree head "
                       "(entries removed or rewritten)")
    if details:
        report.add("receipt", False, "the voter's receipt is not honoured by the record", details)
    else:
        report.add("receipt", True, f"ballot {index} is on the board, included as the receipt says")


@dataclass
class BoardVerification:
    """What the board checks (1–7 and the receipt) established, for the tally checks."""

    report: Report
    ctx: ElectionContext | None = None
    tpk: ThresholdPublicKey | None = None
    fingerprint: bytes | None = None
    tally: EncryptedTally | None = None


def verify_board_record(
    record: Record | str | Path,
    receipt: Mapping[str, Any] | None = None,
    progress: ProgressFn | None = None,
    *,
    workers: int | None = None,
    expected_fingerprint: bytes | None = None,
) -> BoardVerification:
    """Checks 1–7 (and the receipt): everything up to the tally.

    ``result.tally`` is the encrypted tally recomputed from the counted ballots (what a
    trustee decrypts), or None if the election keys are unusable.
    """
    if not isinstance(record, Record):
        record = read_record(record, strict=False)
    report = Report(record.source)
    out = BoardVerification(report)

    # 1. format
    if record.format_errors:
        report.add("record-format", False, "files do not follow the record format",
                   record.format_errors)
    else:
        present = [name for name in FILES if name in record.files]
        report.add("record-format", True, f"{len(present)} files follow the JSON Schema")

    # election context
    ctx: ElectionContext | None = None
    tpk: ThresholdPublicKey | None = None
    board_key: bytes | None = None
    log_id = ""
    try:
        board_key = record.board_public_key()
    except (CryptoError, KeyError, TypeError):
        board_key = None
    try:
        ctx = record.context()
        tpk = record.election_key()
        log_id = election_log_id(ctx.election_id)
        report.election_id = ctx.election_id
    except (CryptoError, KeyError, TypeError) as exc:
        ctx_error = str(exc)
    else:
        ctx_error = ""

    # 2. index
    if record.index is None:
        report.add("record-index", False, "record-index.json missing")
    else:
        _check_index(report, record, board_key)

    # 3. fingerprint
    if ctx is None or tpk is None or board_key is None:
        report.add("election-fingerprint", False, f"election keys unusable: {ctx_error}")
        return out
    election = record.get(ELECTION)
    recomputed = election_fingerprint(
        Manifest.from_json(record.get(MANIFEST)), election["election_key"],
        election["issuer_key"], board_key)
    fp_details = []
    if not hmac.compare_digest(recomputed, ctx.fingerprint):
        fp_details.append("election.json's fingerprint is not the hash of manifest and keys")
    if expected_fingerprint is not None and not hmac.compare_digest(recomputed,
                                                                    expected_fingerprint):
        fp_details.append("the fingerprint differs from the one you expected")
    if fp_details:
        report.add("election-fingerprint", False, "election fingerprint mismatch", fp_details)
    else:
        report.add("election-fingerprint", True, f"fingerprint {recomputed.hex()[:16]}… recomputed"
                   + _key_size_note(tpk))
    ctx = ElectionContext(ctx.manifest, ctx.public_key, ctx.issuer_key, recomputed,
                          ctx.revote_policy)

    # 4-5. tree heads and Merkle log
    board = record.get(BOARD)
    if not isinstance(board, list):
        board = []
    leaves: list[bytes] = []
    for entry in board:
        try:
            leaves.append(entry_leaf_hash(entry))
        except CryptoError:
            leaves.append(b"\x00" * 32)
    heads = _check_tree_heads(report, record, board_key, log_id)
    roots = _check_merkle(report, leaves, heads)

    # 6-7. board entries
    issued: int | None
    try:
        issued = record.credentials_issued()
    except CryptoError:
        issued = None
    result: BoardResult = verify_board(ctx, board, credentials_issued=issued, progress=progress,
                                       workers=workers)
    for kind, name in BOARD_CHECKS.items():
        details = [str(p) for p in result.by_check(kind)]
        if kind == "issuance" and issued is not None:
            details += _receipt_problems(record.get(ISSUANCE), issued)
        if kind == "issuance" and issued is None:
            report.add(name, False, "issuance.json has no usable count")
        elif details:
            report.add(name, False, f"{len(details)} problem(s)", details)
        elif kind == "issuance":
            report.add(name, True, f"{result.tokens} credentials voted ≤ {issued} issued")
        else:
            report.add(name, True, BOARD_PASS[name])

    # receipt (independent of the tally)
    if receipt is not None:
        def root_of(size: int) -> bytes | None:
            if size in roots:
                return roots[size]
            if size > len(leaves):
                return None
            return prefix_roots(leaves, {size})[size]
        _check_receipt(report, receipt, board, leaves, root_of, board_key, log_id)

    out.ctx, out.tpk, out.fingerprint = ctx, tpk, recomputed
    out.tally = aggregate(ctx.public_key, ctx.manifest, result.counted)
    return out


def _compare_tally(ctx: ElectionContext, published: EncryptedTally,
                   recomputed_tally: EncryptedTally) -> list[str]:
    """Differences between the published and the recomputed encrypted tally."""
    details = []
    if published.election_id != ctx.election_id:
        details.append("the encrypted tally names another election")
    for q, opts in recomputed_tally.tally.items():
        for o, c in opts.items():
            if published.tally.get(q, {}).get(o) != c:
                details.append(f"{q}/{o}: published ciphertext differs from the product "
                               "of the counted ballots")
    extra = {(q, o) for q, opts in published.tally.items() for o in opts} - {
        (q, o) for q, o, _ in recomputed_tally.items()}
    details += [f"{q}/{o}: not an option of the manifest" for q, o in sorted(extra)]
    if list(published.counted) != list(recomputed_tally.counted):
        details.append(f"counted trackers differ: published {len(published.counted)}, "
                       f"board gives {len(recomputed_tally.counted)}")
    return details


def _repeated_trustees(sets: Sequence[TrusteePartials], trustees: int) -> list[str]:
    """Each trustee index once, in ``1..ℓ`` (docs/protocol.md §9.4)."""
    out: list[str] = []
    seen: set[int] = set()
    for position, tp in enumerate(sets):
        if not 1 <= tp.trustee_index <= trustees:
            out.append(f"trustee file {position}: trustee_index {tp.trustee_index} outside "
                       f"1..{trustees}")
        elif tp.trustee_index in seen:
            out.append(f"trustee file {position}: trustee {tp.trustee_index} appears twice")
        seen.add(tp.trustee_index)
    return out


def _report_partials(report: Report, rejected: Sequence[Rejected], trustees: int,
                     repeated: Sequence[str] = ()) -> None:
    if rejected or repeated:
        report.add("partial-decryptions", False,
                   f"{len(rejected) + len(repeated)} partial decryption(s) fail their proofs, "
                   "are missing or repeated",
                   [*repeated, *(str(r) for r in rejected)])
    else:
        report.add("partial-decryptions", True,
                   f"{trustees} trustees' proofs verify for every option")


def verify_record(
    record: Record | str | Path,
    receipt: Mapping[str, Any] | None = None,
    progress: ProgressFn | None = None,
    *,
    workers: int | None = None,
    expected_fingerprint: bytes | None = None,
) -> Report:
    """Verify everything in a record; return the report (``report.valid``, ``report.tally``).

    Raises :class:`audit.record.RecordError` only when ``record`` is a path that is not a
    record at all.
    """
    if not isinstance(record, Record):
        record = read_record(record, strict=False)
    if record.kind == "petition":
        return verify_petition_record(record, receipt, progress,
                                      expected_fingerprint=expected_fingerprint)
    board_part = verify_board_record(record, receipt, progress, workers=workers,
                                     expected_fingerprint=expected_fingerprint)
    report = board_part.report
    ctx, tpk, recomputed = board_part.ctx, board_part.tpk, board_part.fingerprint
    recomputed_tally = board_part.tally
    if ctx is None or tpk is None or recomputed is None or recomputed_tally is None:
        return report

    # 8. encrypted tally
    if not record.tallied:
        report.add("encrypted-tally", False,
                   "the record has no tally yet (encrypted-tally, partial decryptions, results)")
        return report
    tally_details = []
    try:
        published = EncryptedTally.from_json(record.get(ENCRYPTED_TALLY))
    except CryptoError as exc:
        tally_details.append(f"encrypted-tally.json malformed: {exc}")
    else:
        tally_details += _compare_tally(ctx, published, recomputed_tally)
    if tally_details:
        report.add("encrypted-tally", False, "the published encrypted tally is not the board's",
                   tally_details)
    else:
        report.add("encrypted-tally", True,
                   f"recomputed from {len(recomputed_tally.counted)} counted ballots")

    # 9-10. partial decryptions and their combination (always on the recomputed tally)
    try:
        raw_sets = record.get(PARTIALS)
        if not isinstance(raw_sets, list):
            raise InvalidEncoding("partial-decryptions.json: expected a list")
        sets = [TrusteePartials.from_json(obj) for obj in raw_sets]
    except CryptoError as exc:
        report.add("partial-decryptions", False, f"malformed: {exc}")
        _skip(report, "decryption", "partial-decryptions.json is malformed")
        _skip(report, "results", "the tally could not be decrypted")
        return report
    # combine_tally verifies every partial it is given (T7) and reports the rejects;
    # check_partials adds the structural problems (missing or extra options).
    rejected = check_partials(tpk, recomputed_tally, sets, fingerprint=recomputed,
                              verify_proofs=False)
    repeated = _repeated_trustees(sets, tpk.trustees)
    try:
        combined = combine_tally(tpk, recomputed_tally, sets, fingerprint=recomputed,
                                 progress=progress)
    except CryptoError as exc:
        rejected = check_partials(tpk, recomputed_tally, sets, fingerprint=recomputed)
        _report_partials(report, rejected, len(sets), repeated)
        report.add("decryption", False, f"cannot decrypt the tally: {exc}")
        _skip(report, "results", "the tally could not be decrypted")
        return report
    seen = {str(r) for r in rejected}
    rejected += [r for r in combined.rejected if str(r) not in seen]
    _report_partials(report, rejected, len(sets), repeated)
    report.add("decryption", True,
               f"each option decrypted from {tpk.threshold} of {tpk.trustees} trustees")

    # 11. results
    try:
        results = results_from_json(record.get(RESULTS))
    except CryptoError as exc:
        report.add("results", False, f"results.json malformed: {exc}")
        return report
    result_details = []
    for q, opts in combined.results.items():
        for o, count in opts.items():
            published_count = results.get(q, {}).get(o)
            if published_count != count:
                result_details.append(f"{q}/{o}: published {published_count}, decrypted {count}")
    for q, opts in results.items():
        for o in opts:
            if o not in combined.results.get(q, {}):
                result_details.append(f"{q}/{o}: published but not in the tally")
    if result_details:
        report.add("results", False, "published results differ from the decrypted tally",
                   result_details)
    else:
        report.add("results", True, "published results = decrypted tally")
    if report.valid:
        report.tally = combined.results
    return report


# --------------------------------------------------------------------------- petitions

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


def _ciphertext_copies(board: Sequence[Any], report_to: list[str]) -> set[int]:
    """Entries whose region ciphertext already appeared on the board (copied signatures)."""
    seen: dict[str, int] = {}
    copies: set[int] = set()
    for position, entry in enumerate(board):
        if not isinstance(entry, dict) or entry.get("kind") != "signature":
            continue
        sig = entry.get("signature")
        region = sig.get("region") if isinstance(sig, dict) else None
        c = region.get("ciphertext") if isinstance(region, dict) else None
        if not isinstance(c, str):
            continue
        if c in seen:
            copies.add(position)
            report_to.append(f"entry {position}: region ciphertext copied from entry {seen[c]} "
                             "(a signature copied under another credential)")
        else:
            seen[c] = position
    return copies


def verify_petition_record(
    record: Record | str | Path,
    receipt: Mapping[str, Any] | None = None,
    progress: ProgressFn | None = None,
    *,
    expected_fingerprint: bytes | None = None,
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
    recomputed = petition_fingerprint(params, meta["election_key"], meta["issuer_key"], board_key)
    fp_details = []
    if not hmac.compare_digest(recomputed, published_fp):
        fp_details.append("petition.json's fingerprint is not the hash of the parameters and keys")
    if expected_fingerprint is not None and not hmac.compare_digest(recomputed,
                                                                    expected_fingerprint):
        fp_details.append("the fingerprint differs from the one you expected")
    try:
        params.check_key(tpk.public)
    except CryptoError as exc:
        fp_details.append(f"parameters do not fit the election key: {exc}")
    if fp_details:
        report.add("petition-fingerprint", False, "petition fingerprint mismatch", fp_details)
    else:
        report.add("petition-fingerprint", True, f"fingerprint {recomputed.hex()[:16]}… recomputed")

    # P4-P5. tree heads and the Merkle log
    board = record.get(BOARD)
    if not isinstance(board, list):
        board = []
    leaves: list[bytes] = []
    for entry in board:
        try:
            leaves.append(entry_leaf_hash(entry))
        except CryptoError:
            leaves.append(b"\x00" * 32)
    heads = _check_tree_heads(report, record, board_key, log_id)
    roots = _check_merkle(report, leaves, heads)

    # P6. the entries (region proofs batch-verified; bad entries named)
    if progress is not None:
        progress("petition board", 0, len(board))
    ctx = PetitionContext(params, tpk.public, issuer_key, recomputed)
    result = verify_petition_board(ctx, board, batch=True)
    if progress is not None:
        progress("petition board", len(board), len(board))
    copy_details: list[str] = []
    copies = _ciphertext_copies(board, copy_details)
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
                       and e.get("target_index") in result.invalidated}
    counted = sorted(i for i in valid_signatures if i < tree_size and i not in cut_invalidated)
    invalidated = sorted(i for i in valid_signatures if i < tree_size and i in cut_invalidated)
    ciphertexts = [hex_to_int(board[i]["signature"]["region"]["ciphertext"], "ciphertext")
                   for i in counted]
    product = aggregate_regions(tpk.public, ciphertexts)
    tally_details = []
    if published_pid != params.petition_id:
        tally_details.append("the encrypted tally names another petition")
    if published.get("counted") != counted:
        extra = sorted(set(published.get("counted") or []) - set(counted))
        missing = sorted(set(counted) - set(published.get("counted") or []))
        tally_details.append(f"counted entries differ: published counts {extra or 'none'} that "
                             f"must not count, omits {missing or 'none'}")
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


@dataclass
class CompletedTally:
    """The tally files of a record, computed from its board and the trustees' partials."""

    files: dict[str, Any]
    results: dict[str, dict[str, int]]
    rejected: list[str]
    board_report: Report


def complete_record(record: Record, partial_sets: Sequence[Mapping[str, Any]], *,
                    progress: ProgressFn | None = None, require_valid_board: bool = True
                    ) -> CompletedTally:
    """Tally a record: verify its board, recompute the encrypted tally, combine partials.

    Returns the record's files plus ``encrypted-tally.json``, ``partial-decryptions.json``
    and ``results.json`` (write them with :func:`audit.record.write_record` and the board
    key).  Raises :class:`crypto.errors.DecryptionError` if some option lacks ``k``
    valid partials, :class:`ValueError` if the board checks fail (unless
    ``require_valid_board`` is False).
    """
    checked = verify_board_record(record, progress=progress)
    failed = [c.name for c in checked.report.failed()]
    if checked.tally is None or checked.tpk is None or checked.fingerprint is None:
        raise ValueError("the record's election keys are unusable")
    if failed and require_valid_board:
        raise ValueError(f"board checks failed: {', '.join(failed)}")
    sets = [TrusteePartials.from_json(obj) for obj in partial_sets]
    combined = combine_tally(checked.tpk, checked.tally, sets, fingerprint=checked.fingerprint,
                             progress=progress)
    files = {name: record.files[name] for name in FILES if name in record.files}
    files[ENCRYPTED_TALLY] = checked.tally.to_json()
    files[PARTIALS] = [s.to_json() for s in sets]
    files[RESULTS] = combined.results
    return CompletedTally(files, combined.results, [str(r) for r in combined.rejected],
                          checked.report)


def check_receipt_only(record: Record, receipt: Mapping[str, Any]) -> Report:
    """Just the receipt check (a voter's quick check; no ballot proofs)."""
    report = Report(record.source)
    board = record.get(BOARD) if isinstance(record.get(BOARD), list) else []
    leaves = [entry_leaf_hash(e) for e in board]
    try:
        board_key = record.board_public_key()
        log_id = record.log_id()
    except CryptoError as exc:
        raise InvalidMerkleProof(f"record has no usable board key: {exc}") from exc

    def root_of(size: int) -> bytes | None:
        return None if size > len(leaves) else prefix_roots(leaves, {size})[size]

    _check_receipt(report, receipt, board, leaves, root_of, board_key, log_id)
    return report


__all__ = ["BoardVerification", "CompletedTally", "PETITION_CHECKS", "PetitionReport",
           "complete_record", "check_receipt_only", "verify_board_record", "prefix_roots",
           "verify_petition_record", "verify_record"]
