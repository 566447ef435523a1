"""The election record verifier: checks 1–12 of :mod:`audit.verifier`.

:func:`verify_board_record` runs the checks up to the tally (format, index, fingerprint,
tree heads, Merkle log, board entries, issuance and the receipt) and recomputes the
encrypted tally; :func:`verify_election_record` adds the tally, the trustees' partial
decryptions, their combination and the published results.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit.board_pass import BoardPass, BoardUnreadable, stream_board
from audit.checks import (
    _check_index,
    _check_merkle,
    _check_receipt,
    _check_tree_heads,
    check_board_log,
    prefix_roots,
)
from audit.record import (
    BOARD,
    ELECTION,
    ENCRYPTED_TALLY,
    FILES,
    ISSUANCE,
    MANIFEST,
    PARTIALS,
    RESULTS,
    ROLL,
    TREE_HEADS,
    Record,
    read_record,
)
from audit.record_io import PRODUCTION_KEY_BITS, test_keys_allowed
from audit.report import Report
from crypto.election import Manifest, election_fingerprint
from crypto.errors import CryptoError, InvalidEncoding
from crypto.roll import RollEntry, SignedRequest, count_problems, request_problems, roll_problems
from crypto.threshold import ThresholdPublicKey
from crypto.tree_head import election_log_id
from tally.aggregate import EncryptedTally
from tally.board_batch import WORKERS
from tally.decrypt import (
    Rejected,
    TrusteePartials,
    check_partials,
    combine_tally,
    results_from_json,
)
from tally.progress import ProgressFn
from tally.verify_board import BoardResult, ElectionContext, chunk_for, verify_board

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
ROLL_CHECK = "roll"
REQUESTS_CHECK = "credential-requests"


#: Report checks whose failures are entry-level operator faults: the entry should never
#: have been accepted (the server runs the same entry checks, tally.entry_checks), it is
#: excluded from the counted set, and the tally of the valid entries stays checkable.
OPERATOR_FAULT_CHECKS = frozenset({
    "board-entries", "credentials", "ballot-signatures", "ballot-proofs", "audited-ballots",
    "ciphertext-copies", "revote-chains",
})


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


@dataclass
class _RollState:
    entries: list[RollEntry]
    requests: list[SignedRequest]
    problems: list[str]


def _check_roll_and_requests(report: Report, record: Record, ctx: ElectionContext
                             ) -> _RollState | None:
    """Check V-R1 (the roll is the one the fingerprint binds) and V-R2 (each request)."""
    try:
        commitment = record.roll_commitment()
        entries = record.roll_entries()
    except (CryptoError, KeyError, TypeError) as exc:
        report.add(ROLL_CHECK, False, f"roll.json or election.roll malformed: {exc}")
        return None
    problems = roll_problems(entries, commitment)
    if commitment is not None and ROLL not in record.files:
        problems.insert(0, "roll.json is missing")
    if problems:
        report.add(ROLL_CHECK, False, "the published roll is not the one the fingerprint binds",
                   problems)
        return None
    assert commitment is not None  # noqa: S101 (roll_problems fails a missing commitment)
    report.add(ROLL_CHECK, True, f"{len(entries)} distinct {commitment.mode} keys; size and "
               "Merkle root = the fingerprint's")
    try:
        requests = record.signed_requests()
    except (CryptoError, KeyError, TypeError) as exc:
        return _RollState(entries, [], [f"issuance.requests malformed: {exc}"])
    return _RollState(entries, requests, request_problems(
        entries, requests, ctx.election_id, ctx.issuer_key.modulus_len))


def _check_request_counts(report: Report, roll: _RollState | None, issued: int | None,
                          tokens: int) -> None:
    """V-R3: counted tokens ≤ signed requests = credentials issued ≤ roll size."""
    if roll is None:
        _skip(report, REQUESTS_CHECK, "no valid roll")
        return
    problems = list(roll.problems)
    if issued is not None:
        problems += count_problems(len(roll.entries), len(roll.requests), issued, tokens)
    if problems:
        report.add(REQUESTS_CHECK, False, f"{len(problems)} problem(s) with the signed "
                   "credential requests", problems)
    else:
        report.add(REQUESTS_CHECK, True, f"{tokens} credentials voted ≤ {len(roll.requests)} "
                   f"requests signed by distinct roll keys ≤ {len(roll.entries)} on the roll")


def _skip(report: Report, name: str, why: str) -> None:
    report.add(name, False, f"not checked: {why}")


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
    scheduler: str | None = None,
    allow_test_keys: bool | None = None,
) -> BoardVerification:
    """Checks 1–7 (and the receipt): everything up to the tally.

    ``result.tally`` is the encrypted tally recomputed from the counted ballots (what a
    trustee decrypts), or None if the election keys are unusable.
    """
    if not isinstance(record, Record):
        record = read_record(record, strict=False, stream_board=True)
    report = Report(record.source, operator_fault_checks=OPERATOR_FAULT_CHECKS)
    out = BoardVerification(report)

    # election context (before any check: the streamed board is checked in one pass)
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
    usable = ctx is not None and tpk is not None and board_key is not None
    recomputed = b""
    if usable:
        assert ctx is not None and board_key is not None  # noqa: S101
        election = record.get(ELECTION)
        try:
            recomputed = election_fingerprint(
                Manifest.from_json(record.get(MANIFEST)), election["election_key"],
                election["issuer_key"], board_key, election.get("roll"), election.get("rules"))
        except CryptoError as exc:  # e.g. a string canonical JSON refuses (lone surrogate)
            usable, ctx_error = False, f"fingerprint: {exc}"
    checked_ctx = ElectionContext(ctx.manifest, ctx.public_key, ctx.issuer_key, recomputed,
                                  ctx.revote_policy, ctx.opens_at_ms, ctx.closes_at_ms
                                  ) if usable and ctx is not None else None
    issued: int | None
    try:
        issued = record.credentials_issued()
    except CryptoError:
        issued = None
    streamed: BoardPass | None = None
    # The tree heads' and the roll's checks do not depend on the board: with a streamed
    # board they run while the worker processes check its last chunks (stream_board's
    # ``meanwhile``), into reports of their own that join this one in the usual order.
    early: dict[str, Any] = {}

    def meanwhile() -> None:
        if checked_ctx is None or board_key is None:
            return
        heads_report = Report(record.source)
        early["heads"] = (heads_report,
                          _check_tree_heads(heads_report, record, board_key, log_id))
        roll_report = Report(record.source)
        early["roll"] = (roll_report, _check_roll_and_requests(roll_report, record,
                                                               checked_ctx))

    if record.board_source is not None:
        try:
            expected = _last_tree_size(record)
            streamed = stream_board(record.board_source, checked_ctx, credentials_issued=issued,
                                    progress=progress, workers=workers, scheduler=scheduler,
                                    receipt=receipt, expected_total=expected,
                                    chunk=chunk_for(expected, workers), meanwhile=meanwhile)
        except BoardUnreadable:  # not a JSON array: the whole-file reader names the error
            return verify_board_record(read_record(record.source, strict=False), receipt,
                                       progress, workers=workers,
                                       expected_fingerprint=expected_fingerprint,
                                       scheduler=scheduler, allow_test_keys=allow_test_keys)
        record.digests[BOARD] = streamed.digest
        at = record.board_errors_at
        record.format_errors[at:at] = streamed.shape_errors

    # 1. format
    if record.format_errors:
        report.add("record-format", False, "files do not follow the record format",
                   record.format_errors)
    else:
        present = [name for name in FILES if name in record.files or name in record.digests]
        report.add("record-format", True, f"{len(present)} files follow the JSON Schema")

    # 2. index
    if record.index is None:
        report.add("record-index", False, "record-index.json missing")
    else:
        _check_index(report, record, board_key)

    # 3. fingerprint
    if not usable or ctx is None or tpk is None or board_key is None:
        report.add("election-fingerprint", False, f"election keys unusable: {ctx_error}")
        return out
    fp_details = []
    if not hmac.compare_digest(recomputed, ctx.fingerprint):
        fp_details.append("election.json's fingerprint is not the hash of manifest and keys")
    if election.get("rules") is None:
        fp_details.append("election.json has no rules: the fingerprint binds no revote policy "
                          "and voting window")
    if expected_fingerprint is not None and not hmac.compare_digest(recomputed,
                                                                    expected_fingerprint):
        fp_details.append("the fingerprint differs from the one you expected")
    if tpk.n.bit_length() < PRODUCTION_KEY_BITS and not test_keys_allowed(allow_test_keys):
        fp_details.append(f"TEST-SIZE election key ({tpk.n.bit_length()} bits < "
                          f"{PRODUCTION_KEY_BITS}): refused without --allow-test-keys")
    if fp_details:
        report.add("election-fingerprint", False, "election fingerprint mismatch", fp_details)
    else:
        report.add("election-fingerprint", True, f"fingerprint {recomputed.hex()[:16]}… recomputed"
                   + _key_size_note(tpk))
    assert checked_ctx is not None  # noqa: S101
    ctx = checked_ctx
    from audit.keygen_check import check_key_generation

    check_key_generation(report, record, tpk)  # docs §4.7.9: dealer or distributed key

    # 4-5. tree heads and Merkle log
    board: Sequence[Any]
    leaves: Sequence[bytes]
    if streamed is not None:
        assert streamed.result is not None  # noqa: S101 (a usable context checks the board)
        if "heads" in early:
            heads_report, heads = early["heads"]
            report.checks.extend(heads_report.checks)
        else:
            heads = _check_tree_heads(report, record, board_key, log_id)
        leaves = streamed.leaves
        roots = _check_merkle(report, leaves, heads)
        board = _SparseBoard(len(leaves), streamed.kept)
    else:
        board, leaves, heads, roots = check_board_log(report, record, board_key, log_id)

    # 6-7. board entries
    if "roll" in early:
        roll_report, roll = early["roll"]
        report.checks.extend(roll_report.checks)
    else:
        roll = _check_roll_and_requests(report, record, ctx)
    result: BoardResult = streamed.result if streamed is not None and streamed.result \
        is not None else verify_board(ctx, board, credentials_issued=issued, progress=progress,
                                      workers=workers, scheduler=scheduler)
    _check_request_counts(report, roll, issued, result.tokens)
    for kind, name in BOARD_CHECKS.items():
        details = [str(p) for p in result.by_check(kind)]
        count = len(details) + result.omitted.get(kind, 0)
        details += result.overflow(kind)
        if kind == "issuance" and issued is not None:
            receipts = _receipt_problems(record.get(ISSUANCE), issued)
            details += receipts
            count += len(receipts)
        if kind == "issuance" and issued is None:
            report.add(name, False, "issuance.json has no usable count")
        elif details:
            report.add(name, False, f"{count} problem(s)", details)
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
    out.tally = EncryptedTally(ctx.manifest.election_id, result.tally,
                               tuple(c.tracker for c in result.counted))
    return out


def _last_tree_size(record: Record) -> int:
    """The last tree head's size (the board's expected length, for progress), 0 if unknown."""
    heads = record.get(TREE_HEADS)
    size = heads[-1].get("tree_size") if isinstance(heads, list) and heads and isinstance(
        heads[-1], dict) else 0
    return size if isinstance(size, int) and not isinstance(size, bool) else 0


class _SparseBoard(Sequence[Any]):
    """A streamed board's length and the few entries kept (the receipt's)."""

    def __init__(self, length: int, kept: dict[int, Any]) -> None:
        self.length, self.kept = length, kept

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> Any:  # type: ignore[override]
        return self.kept[index]


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


def verify_election_record(
    record: Record | str | Path,
    receipt: Mapping[str, Any] | None = None,
    progress: ProgressFn | None = None,
    *,
    workers: int | None = None,
    expected_fingerprint: bytes | None = None,
    scheduler: str | None = None,
    allow_test_keys: bool | None = None,
) -> Report:
    """Checks 1–11 and the receipt of an election record (see :mod:`audit.verifier`).

    ``report.tally`` holds the decrypted results when every check passes.
    """
    if not isinstance(record, Record):
        record = read_record(record, strict=False, stream_board=True)
    board_part = verify_board_record(record, receipt, progress, workers=workers,
                                     expected_fingerprint=expected_fingerprint,
                                     scheduler=scheduler,
                                     allow_test_keys=allow_test_keys)
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
                                 progress=progress,
                                 threads=WORKERS if workers is None else max(workers, 1))
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
    elif report.verdict == "operator-fault":
        report.valid_entries_tally = combined.results
    return report


__all__ = ["BOARD_CHECKS", "OPERATOR_FAULT_CHECKS", "BOARD_PASS", "REQUESTS_CHECK", "ROLL_CHECK",
           "BoardVerification", "verify_board_record", "verify_election_record"]
