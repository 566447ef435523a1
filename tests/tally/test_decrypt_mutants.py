"""tally.decrypt: trustee files by their messages, the progress of each stage, the structure
faults check_partials names, and what combine_tally leaves out and why.

Written against the mutation run of 2026-11-29 (docs/testing.md "Mutation testing").
"""

from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path
from typing import Any

import pytest

from crypto.errors import DecryptionError, InvalidEncoding
from crypto.paillier import encrypt
from crypto.threshold import KeyShare, ThresholdPublicKey
from tally.aggregate import EncryptedTally
from tally.decrypt import (
    Rejected,
    TrusteePartials,
    check_partials,
    combine_tally,
    results_from_json,
    trustee_decrypt,
)

FIXTURES = Path(__file__).parents[1] / "fixtures"
FP = bytes(range(32))


@functools.cache
def _key() -> tuple[ThresholdPublicKey, tuple[KeyShare, ...]]:
    doc = json.loads((FIXTURES / "threshold-test-key-1024-3of5.json").read_text())
    return (ThresholdPublicKey.from_json(doc["public_key"]),
            tuple(KeyShare.from_json(s) for s in doc["shares"]))


@functools.cache
def _tally() -> EncryptedTally:
    pk = _key()[0].public
    return EncryptedTally("e", {"q": {"a": encrypt(pk, 3)[0], "b": encrypt(pk, 0)[0]},
                                "r": {"x": encrypt(pk, 7)[0]}}, ("t",))


@functools.cache
def _partials(i: int) -> TrusteePartials:
    return trustee_decrypt(_key()[1][i], _tally(), fingerprint=FP)


def _copy(tp: TrusteePartials, **changes: Any) -> TrusteePartials:
    return dataclasses.replace(tp, **{"partials": dict(tp.partials), **changes})


class Calls(list[tuple[str, int, int]]):
    def __call__(self, stage: str, done: int, total: int) -> None:
        self.append((stage, done, total))


# ------------------------------------------------------------------ trustee files


def test_trustee_decrypt_reports_each_option() -> None:
    calls = Calls()
    tp = trustee_decrypt(_key()[1][2], _tally(), fingerprint=FP, progress=calls)
    assert calls == [("partial decryption", 1, 3), ("partial decryption", 2, 3),
                     ("partial decryption", 3, 3)]
    assert tp.trustee_index == 3 and tp.election_id == "e"
    assert list(tp.partials) == [("q", "a"), ("q", "b"), ("r", "x")]
    assert {p.index for p in tp.partials.values()} == {3}
    assert TrusteePartials.from_json(tp.to_json()) == tp
    assert trustee_decrypt(_key()[1][2], _tally(), fingerprint=FP).trustee_index == 3


def _doc(**changes: Any) -> dict[str, Any]:
    return {**_partials(0).to_json(), **changes}


def _items() -> list[dict[str, Any]]:
    return _partials(0).to_json()["partials"]


@pytest.mark.parametrize(("build", "message"), [
    (lambda: [], "^trustee partials: expected a JSON object$"),
    (lambda: {"election_id": "e", "partials": []},
     "^trustee partials: missing field 'trustee_index'$"),
    (lambda: _doc(trustee_index="1"), r"^trustee partials\.trustee_index: expected int$"),
    (lambda: _doc(election_id=1), r"^trustee partials\.election_id: expected str$"),
    (lambda: _doc(partials={}), r"^trustee partials\.partials: expected list$"),
    (lambda: _doc(partials=[_items()[0], []]),
     r"^trustee partials\.partials\[1\]: expected a JSON object$"),
    (lambda: _doc(partials=[_items()[0], {"option_id": "a", "partial": {}}]),
     r"^trustee partials\.partials\[1\]: missing field 'question_id'$"),
    (lambda: _doc(partials=[*_items()[:2], {**_items()[2], "option_id": 1}]),
     r"^trustee partials\.partials\[2\]\.option_id: expected str$"),
    (lambda: _doc(partials=[{**_items()[0], "partial": "x"}]),
     r"^trustee partials\.partials\[0\]\.partial: expected dict$"),
    (lambda: _doc(partials=[*_items(), _items()[2]]),
     r"^trustee partials\.partials\[3\]: duplicate option r/x$"),
])
def test_trustee_partials_json_rejects(build: Any, message: str) -> None:
    with pytest.raises(InvalidEncoding, match=message):
        TrusteePartials.from_json(build())


# ------------------------------------------------------------------ check_partials


def test_check_partials_all_good_with_progress() -> None:
    tpk = _key()[0]
    calls = Calls()
    sets = [_partials(0), _partials(1)]
    assert check_partials(tpk, _tally(), sets, fingerprint=FP, progress=calls) == []
    assert calls == [("partial decryptions", i, 6) for i in range(1, 7)]
    calls.clear()
    assert check_partials(tpk, _tally(), sets, fingerprint=FP, progress=calls,
                          verify_proofs=False) == []
    assert calls == []
    assert check_partials(tpk, _tally(), sets, fingerprint=FP) == []


def test_check_partials_structure_faults() -> None:
    tpk = _key()[0]
    other = _copy(_partials(0), election_id="other")
    extra = _copy(_partials(1))
    extra.partials[("z", "z")] = extra.partials[("q", "a")]
    extra.partials[("a", "z")] = extra.partials[("q", "b")]
    missing = _copy(_partials(2))
    del missing.partials[("q", "a")]
    moved = _copy(_partials(3))
    moved.partials[("q", "b")] = _partials(2).partials[("q", "b")]
    calls = Calls()
    assert check_partials(tpk, _tally(), [other, extra, missing, moved], fingerprint=FP,
                          progress=calls) == [
        Rejected(1, "*", "*", "partials are for another election"),
        Rejected(2, "a", "z", "option is not in the tally"),
        Rejected(2, "z", "z", "option is not in the tally"),
        Rejected(3, "q", "a", "missing"),
        Rejected(4, "q", "b", "partial is signed as trustee 3"),
    ]
    # progress counts every option of every set after the first (another election)
    assert calls == [("partial decryptions", d, 12) for d in (1, 2, 3, 5, 6, 7, 9)]


def test_structure_only_check_goes_through_every_option() -> None:
    """``verify_proofs=False``: every option of every set is still checked for presence and
    index (the proofs are left to combine_tally)."""
    tpk = _key()[0]
    missing = _copy(_partials(0))
    del missing.partials[("r", "x")]
    moved = _copy(_partials(1))
    moved.partials[("q", "b")] = _partials(2).partials[("q", "b")]
    assert check_partials(tpk, _tally(), [missing, moved], fingerprint=FP,
                          verify_proofs=False) == [
        Rejected(1, "r", "x", "missing"), Rejected(2, "q", "b", "partial is signed as trustee 3")]


def test_check_partials_names_a_bad_proof() -> None:
    tpk = _key()[0]
    bad = _copy(_partials(0))
    p = bad.partials[("r", "x")]
    bad.partials[("r", "x")] = dataclasses.replace(p, c_i=p.c_i * 4 % tpk.nsquare)
    rejected = check_partials(tpk, _tally(), [bad], fingerprint=FP)
    assert rejected == [Rejected(1, "r", "x", "share 1: challenge does not match the transcript")]
    assert str(rejected[0]) == "trustee 1, r/x: share 1: challenge does not match the transcript"
    assert check_partials(tpk, _tally(), [bad], fingerprint=FP, verify_proofs=False) == []


# ------------------------------------------------------------------ combine_tally


@pytest.mark.parametrize("threads", [1, 2])
def test_combine_tally_results_progress_and_used(threads: int) -> None:
    tpk = _key()[0]
    calls = Calls()
    out = combine_tally(tpk, _tally(), [_partials(4), _partials(0), _partials(2)],
                        fingerprint=FP, progress=calls, threads=threads)
    assert out.results == {"q": {"a": 3, "b": 0}, "r": {"x": 7}}
    assert out.used == {k: (5, 1, 3) for k in (("q", "a"), ("q", "b"), ("r", "x"))}
    assert out.rejected == []
    assert calls == [("combining", 1, 3), ("combining", 2, 3), ("combining", 3, 3)]
    assert combine_tally(tpk, _tally(), [_partials(4), _partials(0), _partials(2)],
                         fingerprint=FP, threads=threads).results == out.results


@pytest.mark.parametrize("threads", [1, 2])
def test_combine_tally_leaves_out_foreign_partials(threads: int) -> None:
    tpk = _key()[0]
    foreign = _copy(_partials(1), election_id="other")
    relabelled = _copy(_partials(3))
    relabelled.partials[("q", "a")] = _partials(2).partials[("q", "a")]
    short = _copy(_partials(4))
    del short.partials[("r", "x")]
    out = combine_tally(tpk, _tally(), [foreign, relabelled, short, _partials(0), _partials(2)],
                        fingerprint=FP, threads=threads)
    assert out.results == {"q": {"a": 3, "b": 0}, "r": {"x": 7}}
    reason = "partial does not belong to this trustee/election"
    assert out.rejected == [Rejected(2, "q", "a", reason), Rejected(4, "q", "a", reason),
                            Rejected(2, "q", "b", reason), Rejected(2, "r", "x", reason)]
    assert out.used[("q", "b")] == (4, 5, 1) and out.used[("r", "x")] == (4, 1, 3)
    assert out.used[("q", "a")] == (5, 1, 3)


@pytest.mark.parametrize("threads", [1, 2])
def test_combine_tally_reports_bad_partials_and_too_few(threads: int) -> None:
    tpk = _key()[0]
    bad = _copy(_partials(0))
    p = bad.partials[("q", "b")]
    bad.partials[("q", "b")] = dataclasses.replace(p, c_i=p.c_i * 4 % tpk.nsquare)
    out = combine_tally(tpk, _tally(), [bad, _partials(1), _partials(2), _partials(3)],
                        fingerprint=FP, threads=threads)
    assert out.results == {"q": {"a": 3, "b": 0}, "r": {"x": 7}}
    assert out.rejected == [
        Rejected(1, "q", "b", "share 1: challenge does not match the transcript")]
    with pytest.raises(DecryptionError,
                       match=r"^q/b: only 2 valid partial decryption\(s\); 3 needed$"):
        combine_tally(tpk, _tally(), [bad, _partials(1), _partials(2)], fingerprint=FP,
                      threads=threads)


def test_combine_tally_checks_proofs_on_threads_without_the_gil(monkeypatch) -> None:
    """threads=2: every partial's T7 check runs once, off the calling thread, with gmpy2
    releasing the GIL; combine uses those verdicts (none is checked twice)."""
    import threading

    import gmpy2

    import tally.decrypt as decrypt

    seen: list[tuple[int, bool]] = []
    real = decrypt.verify_partial_decryption

    def spy(*args: Any, **kwargs: Any) -> None:
        seen.append((threading.get_ident(), gmpy2.get_context().allow_release_gil))
        real(*args, **kwargs)

    monkeypatch.setattr(decrypt, "verify_partial_decryption", spy)
    tpk = _key()[0]
    out = combine_tally(tpk, _tally(), [_partials(4), _partials(0), _partials(2)],
                        fingerprint=FP, threads=2)
    assert out.results == {"q": {"a": 3, "b": 0}, "r": {"x": 7}}
    assert len(seen) == 9  # 3 options × 3 trustees, once each
    assert all(ident != threading.get_ident() and released for ident, released in seen)
    assert not gmpy2.get_context().allow_release_gil  # the caller's context is untouched


# ------------------------------------------------------------------ results


@pytest.mark.parametrize(("obj", "message"), [
    ([], "^results: expected an object$"),
    ({"q": {"o": 1}, "r": []}, r"^results\.r: expected an object$"),
    ({"q": {"o": 1, "p": -1}}, r"^results\.q\.p: expected a non-negative integer$"),
    ({"q": {"o": True}}, r"^results\.q\.o: expected a non-negative integer$"),
    ({"q": {"o": "1"}}, r"^results\.q\.o: expected a non-negative integer$"),
])
def test_results_from_json_rejects(obj: object, message: str) -> None:
    with pytest.raises(InvalidEncoding, match=message):
        results_from_json(obj)


def test_results_from_json_accepts() -> None:
    assert results_from_json({"q": {"o": 0, "p": 2}, "r": {}}) == {"q": {"o": 0, "p": 2}, "r": {}}
