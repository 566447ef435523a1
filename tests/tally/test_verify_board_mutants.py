"""tally.verify_board: the per-entry worker (check_entries), the board-wide checks of
BoardStream (copies, revote chains, counted ballots, tally, problem caps) fed with hand-made
summaries, the paths that hand chunks to a process pool or a Dask client (stubs), and
verify_board's own input handling, chunking and clean-up.

Written against the mutation run of 2026-11-29 (docs/testing.md "Mutation testing"): the
board tests (tests/tally/test_tally.py) look at ``(index, check)`` pairs of whole boards.
Every message is compared exactly.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any

import distributed  # a dependency (dask[distributed]): never skipped
import pytest

import tally.verify_board as vb
from crypto.ballot import EncryptedBallot, tracker_of
from crypto.encoding import hex_to_int, int_to_hex
from crypto.errors import InvalidBallot, InvalidEncoding
from crypto.merkle import entry_leaf_hash
from tally.aggregate import aggregate_ballots
from tally.entry_checks import ElectionContext
from tally.entry_shape import board_entry_errors
from tally.verify_board import (
    BoardResult,
    BoardStream,
    CountedBallot,
    EntrySummary,
    LeafList,
    Problem,
    check_entries,
    chunk_for,
    verify_board,
)
from tests.recordgen import GeneratedElection, generate

SIG_FAILS = ("signature", "ballot signature: ballot payload signature does not verify")
PROOF_FAILS = ("ballot-proof", "ballot proof fails its verification equation")


@functools.cache
def _gen() -> GeneratedElection:
    """Board: 0 ballot (voter 0), 1 audited, 2 ballot (voter 1), 3 ballot (voter 2),
    4 ballot (voter 1, replaces 2)."""
    return generate(3)


def _ctx(policy: str = "last-counts") -> ElectionContext:
    g = _gen()
    return ElectionContext(g.manifest, g.tpk.public, g.issuer.public_key(), g.fingerprint, policy)


def _board() -> list[dict[str, Any]]:
    return copy.deepcopy(_gen().board)


def _cts(entry: dict[str, Any]) -> list[int]:
    return [hex_to_int(s["ciphertext"]) for c in entry["ballot"]["contests"]
            for s in c["selections"]]


def _break_proof(entry: dict[str, Any]) -> None:
    proof = entry["ballot"]["contests"][0]["selections"][0]["proof"]
    proof["z"][0] = int_to_hex(hex_to_int(proof["z"][0]) + 1)


def _checks(result: BoardResult) -> list[tuple[int, str, str]]:
    return [(p.index, p.check, p.message) for p in result.problems]


# ------------------------------------------------------------------ small data classes


def test_problem_text() -> None:
    assert str(Problem(3, "signature", "bad")) == "entry 3: bad"
    assert str(Problem(0, "signature", "bad")) == "entry 0: bad"
    assert str(Problem(-1, "issuance", "too many")) == "board: too many"


def test_board_result_defaults_and_helpers() -> None:
    assert BoardResult(0) == BoardResult(0, [], [], 0, 0, [], {}, {})
    assert BoardResult(0).ok
    problems = [Problem(0, "a", "x"), Problem(2, "b", "y"), Problem(-1, "a", "z"),
                Problem(5, "a", "w")]
    result = BoardResult(6, problems=list(problems))
    assert not result.ok
    assert result.by_check("a") == [problems[0], problems[2], problems[3]]
    assert result.by_check("c") == []
    assert result.bad_indices() == {0, 2, 5}
    assert result.overflow("a") == []
    result.omitted["a"] = 0
    assert result.overflow("a") == []
    result.omitted["a"] = 3
    assert result.overflow("a") == [
        "entries after entry 5: 3 more problem(s) of this check, not listed"]


def test_entry_summary_defaults() -> None:
    s = EntrySummary(0, b"", [])
    assert (s.kind, s.token, s.replaces, s.digests, s.tracker, s.ciphertexts, s.ballot,
            s.shape) == (None, None, None, (), "", (), None, [])


def test_digest_is_sha256_of_minimal_bytes() -> None:
    assert vb._digest(0) == hashlib.sha256(b"\x00").digest()
    assert vb._digest(1) == hashlib.sha256(b"\x01").digest()
    assert vb._digest(255) == hashlib.sha256(b"\xff").digest()
    assert vb._digest(256) == hashlib.sha256(b"\x01\x00").digest()
    assert vb._digest(2**64) == hashlib.sha256(b"\x01" + bytes(8)).digest()


def test_leaf_list() -> None:
    leaves = LeafList(bytearray(b"a" * 32 + b"b" * 32 + b"c"))
    assert len(leaves) == 2
    assert leaves[0] == b"a" * 32 and leaves[1] == b"b" * 32
    assert leaves[-1] == b"b" * 32 and leaves[-2] == b"a" * 32
    for bad, shown in ((2, "2"), (-3, "-1")):  # a negative index is shown shifted by len
        with pytest.raises(IndexError, match=f"^{shown}$"):
            leaves[bad]
    assert list(LeafList(bytearray(b"a" * 32 + b"b" * 32))) == [b"a" * 32, b"b" * 32]
    assert list(LeafList(bytearray())) == []


@pytest.mark.parametrize(("total", "workers", "chunk"), [
    (0, None, 64), (-5, 3, 64), (1, None, 16), (33, 1, 17), (1000, 2, 250), (1000, None, 250),
    (2000, 2, 256), (300, 0, 150), (300, -2, 150), (129, 2, 33),
])
def test_chunk_for(total: int, workers: int | None, chunk: int) -> None:
    assert chunk_for(total, workers) == chunk


def test_chunk_for_default_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vb, "WORKERS", 4)
    assert chunk_for(1000) == 125
    assert chunk_for(1000, 1) == 256


# ------------------------------------------------------------------ check_entries


def test_check_entries_on_a_valid_board() -> None:
    board = _board()
    out = check_entries(_ctx(), 0, board, keep_ballots=True, shape=True)
    assert [s.index for s in out] == [0, 1, 2, 3, 4]
    assert [s.kind for s in out] == ["ballot", "audited", "ballot", "ballot", "ballot"]
    for s, entry in zip(out, board, strict=True):
        assert s.problems == [] and s.shape == []
        assert s.leaf == entry_leaf_hash(entry)
        assert s.replaces == entry["replaces"]
        assert s.digests == tuple(vb._digest(c) for c in _cts(entry))
        assert s.ballot == EncryptedBallot.from_json(entry["ballot"])
        if entry["kind"] == "ballot":
            assert s.token == bytes.fromhex(entry["ballot"]["token_id"])
            assert s.tracker == tracker_of(entry["ballot"])
            assert s.ciphertexts == tuple(
                (c["question_id"], sel["option_id"], hex_to_int(sel["ciphertext"]))
                for c in entry["ballot"]["contests"] for sel in c["selections"])
        else:
            assert s.token is None and s.tracker == "" and s.ciphertexts == ()
    assert out[4].replaces == 2
    assert [s.ballot for s in check_entries(_ctx(), 0, board)] == [None] * 5


def test_check_entries_positions_start_at_start() -> None:
    board = _board()
    out = check_entries(_ctx(), 2, board[2:4])
    assert [(s.index, s.problems) for s in out] == [(2, []), (3, [])]
    out = check_entries(_ctx(), 0, board[2:4])
    assert [(s.index, s.problems) for s in out] == [
        (0, [("entry-format", "index 2 is not its position 0")]),
        (1, [("entry-format", "index 3 is not its position 1")])]


def test_check_entries_not_canonical() -> None:
    entry = {"kind": "ballot", "x": 1.5}
    (s,) = check_entries(_ctx(), 5, [entry], shape=True)
    assert s.index == 5 and s.leaf == bytes(32) and vb.ZERO_LEAF == bytes(32)
    assert s.problems == [("entry-format",
                           "not canonical JSON: $.x: floats are not allowed in canonical JSON")]
    assert s.shape == board_entry_errors(entry, "board.json/5") and s.shape
    assert s.kind is None
    (s,) = check_entries(_ctx(), 5, [entry])
    assert s.shape == []


def test_check_entries_unparsed_entry() -> None:
    (s,) = check_entries(_ctx(), 0, [42], shape=True)
    assert s.problems == [("entry-format", "entry is not a JSON object")]
    assert s.shape == board_entry_errors(42, "board.json/0") and s.shape
    assert s.kind is None and s.token is None and s.digests == () and s.leaf == entry_leaf_hash(42)


def test_check_entries_bad_proof_and_bad_audit() -> None:
    board = _board()
    secret = board[1]["secrets"]["mayor"]["aigerim"]
    secret["m"] = 1 - secret["m"]
    _break_proof(board[3])
    out = check_entries(_ctx(), 0, board)
    assert [s.problems for s in out] == [
        [],
        [("audit", "audited ballot does not open: question mayor, option aigerim: the "
                   "revealed plaintext and randomness do not reproduce the ciphertext")],
        [],
        [SIG_FAILS, PROOF_FAILS],
        [],
    ]
    # a faulty entry is still parsed: the board-wide checks see it
    assert out[3].kind == "ballot" and out[3].token == bytes.fromhex(board[3]["ballot"]["token_id"])
    assert out[1].kind == "audited"


def test_check_entries_audited_only() -> None:
    board = _board()
    (s,) = check_entries(_ctx(), 1, [board[1]])
    assert s.problems == [] and s.kind == "audited"
    secret = board[1]["secrets"]["budget"]["yes"]
    secret["m"] = 1 - secret["m"]
    (s,) = check_entries(_ctx(), 1, [board[1]])
    assert s.problems == [("audit", "audited ballot does not open: question budget, option yes: "
                                    "the revealed plaintext and randomness do not reproduce the "
                                    "ciphertext")]


# ------------------------------------------------------------------ BoardStream, hand-made summaries

def _s(i: int, kind: str | None = "ballot", token: bytes | None = b"A", replaces: object = None,
       digests: Sequence[bytes] = (), problems: list[tuple[str, str]] | None = None,
       cts: Sequence[tuple[str, str, int]] = (), tracker: str = "") -> EntrySummary:
    return EntrySummary(i, bytes([i + 1]) * 32, list(problems or []), kind, token, replaces,
                        tuple(digests), tracker or f"t{i}", tuple(cts))


def _stream(policy: str = "last-counts", **kw: Any) -> BoardStream:
    return BoardStream(_ctx(policy), **kw)


def _ones() -> dict[str, dict[str, int]]:
    return {q.id: dict.fromkeys(q.option_ids, 1) for q in _gen().manifest.questions}


def test_stream_starts_with_the_empty_tally() -> None:
    stream = _stream()
    assert stream.tally == _ones()
    result = stream.finish()
    assert result.tally == _ones() and result.entries == 0 and result.tokens == 0
    assert result.problems == [] and result.counted == []


def test_copy_check_messages() -> None:
    stream = _stream()
    stream._absorb([
        _s(0, token=b"A", digests=[b"d0", b"d1", b"d0"]),
        _s(1, token=b"B", digests=[b"d2", b"d1", b"d0"]),
        _s(2, kind="audited", token=None, digests=[b"d3"]),
        _s(3, token=b"C", digests=[b"d3"]),
        _s(4, token=b"C", replaces=3, digests=[b"d4"]),
        _s(5, token=b"C", replaces=4, digests=[b"d4"]),
        _s(6, token=b"D", digests=[b"d5", b"d2"]),
    ])
    assert [(p.index, p.check, p.message) for p in stream.result.problems] == [
        (0, "ciphertext-copy", "ciphertext of entry 0 repeated inside the ballot"),
        (1, "ciphertext-copy", "ciphertext of entry 0 copied under another credential"),
        (3, "ciphertext-copy", "ciphertext of entry 2 repeated"),
        (5, "ciphertext-copy", "ciphertext of entry 4 repeated"),
        (6, "ciphertext-copy", "ciphertext of entry 1 copied under another credential"),
    ]
    # the first occurrence keeps the key; a later copy does not take it over
    assert stream._seen[b"d0"] == (0, b"A") and stream._seen[b"d1"] == (0, b"A")
    assert stream._seen[b"d3"] == (2, None)
    assert sorted(stream._last_valid) == [b"C"]
    assert stream._last_valid[b"C"].index == 4


def test_audited_entry_is_counted_as_audited_only() -> None:
    stream = _stream()
    stream._absorb([_s(0, kind="audited", token=None), _s(1, token=b"A"),
                    _s(2, kind="audited", token=None)])
    result = stream.finish()
    assert result.audited == 2 and result.tokens == 1
    assert [c.index for c in result.counted] == [1] and result.problems == []


def test_unparsed_summary_takes_no_part() -> None:
    stream = _stream()
    stream._absorb([_s(0, kind=None, token=b"A", replaces=5, digests=[b"d"],
                       problems=[("entry-format", "m")]),
                    _s(1, token=b"A", digests=[b"d"])])
    result = stream.finish()
    assert _checks(result) == [(0, "entry-format", "m")]
    assert result.tokens == 1 and [c.index for c in result.counted] == [1]


@pytest.mark.parametrize(("summaries", "policy", "expected"), [
    ([_s(0, replaces=3)], "last-counts",
     [(0, "revote-chain", "first ballot of its token claims to replace 3")]),
    ([_s(0, replaces="x")], "last-counts",
     [(0, "revote-chain", "first ballot of its token claims to replace 'x'")]),
    ([_s(0, replaces=False)], "last-counts",
     [(0, "revote-chain", "first ballot of its token claims to replace False")]),
    ([_s(0), _s(1, replaces=0)], "no-revote",
     [(1, "revote-chain", "second ballot of a token (first at entry 0) under the no-revote "
                          "policy")]),
    ([_s(0), _s(1, replaces=5)], "last-counts",
     [(1, "revote-chain", "replaces 5, but the token's current ballot is entry 0")]),
    ([_s(0), _s(1, replaces=None)], "last-counts",
     [(1, "revote-chain", "replaces None, but the token's current ballot is entry 0")]),
    ([_s(0, token=b"B"), _s(1), _s(2, replaces=True)], "last-counts",
     [(2, "revote-chain", "replaces True, but the token's current ballot is entry 1")]),
    ([_s(0), _s(1, replaces=0), _s(2, replaces=0)], "last-counts",
     [(2, "revote-chain", "replaces 0, but the token's current ballot is entry 1")]),
])
def test_revote_chain(summaries: list[EntrySummary], policy: str,
                      expected: list[tuple[int, str, str]]) -> None:
    stream = _stream(policy)
    stream._absorb(copy.deepcopy(summaries))
    assert [(p.index, p.check, p.message) for p in stream.result.problems] == expected


def test_revote_chain_goes_through_a_faulty_ballot() -> None:
    """A faulty ballot is still the token's current one: the next must replace it.  The
    tally counts the token's last ballot without problems of its own (a revote-chain
    problem does not stop it being counted); only replacing a *counted* ballot makes the
    tally be taken again."""
    stream = _stream()
    stream._absorb([_s(0, problems=[SIG_FAILS], cts=[("budget", "yes", 3)]),
                    _s(1, replaces=0, cts=[("budget", "yes", 5)])])
    assert not stream._replaced and stream.tally["budget"]["yes"] == 5
    stream._absorb([_s(2, token=b"B", replaces=9, cts=[("budget", "yes", 7)])])
    assert not stream._replaced and stream.tally["budget"]["yes"] == 35
    stream._absorb([_s(3, replaces=0, cts=[("budget", "yes", 11)])])
    assert stream._replaced
    result = stream.finish(lambda: [])
    assert _checks(result) == [
        (0, *SIG_FAILS),
        (2, "revote-chain", "first ballot of its token claims to replace 9"),
        (3, "revote-chain", "replaces 0, but the token's current ballot is entry 1"),
    ]
    assert [c.index for c in result.counted] == [2, 3]


def test_counted_ballots_and_tally() -> None:
    stream = _stream(keep_ballots=True)
    nn = _ctx().public_key.nsquare
    big = nn - 2
    stream._absorb([
        _s(0, token=b"A", cts=[("budget", "yes", 3), ("mayor", "bolat", big)]),
        _s(1, token=b"B", cts=[("budget", "yes", 5), ("mayor", "bolat", big)]),
        _s(2, token=b"C", problems=[SIG_FAILS], cts=[("budget", "yes", 7)]),
        _s(3, token=b"D", cts=[("budget", "yes", 11)], digests=[b"x"]),
        _s(4, token=b"E", cts=[("budget", "yes", 13)], digests=[b"x"]),
    ])
    assert not stream._replaced
    kept = stream._last_valid[b"A"]
    assert kept.ciphertexts == () and kept.digests == ()  # the tally has them
    assert stream.result.leaf_hashes == [bytes([i + 1]) * 32 for i in range(5)]
    result = stream.finish()
    assert result.tally["budget"]["yes"] == 3 * 5 * 11
    assert result.tally["mayor"]["bolat"] == 4 and result.tally["mayor"]["dana"] == 1
    assert result.tokens == 5
    assert result.counted == [
        CountedBallot(0, "t0", (bytes([1]) * 32).hex(), None),  # type: ignore[arg-type]
        CountedBallot(1, "t1", (bytes([2]) * 32).hex(), None),  # type: ignore[arg-type]
        CountedBallot(3, "t3", (bytes([4]) * 32).hex(), None),  # type: ignore[arg-type]
    ]
    assert stream._seen == {} and stream._last_valid == {}


def test_leaf_hashes_only_when_keeping_ballots() -> None:
    stream = _stream()
    stream._absorb([_s(0), _s(1, token=b"B")])
    assert stream.result.leaf_hashes == []
    assert bytes(stream.leaves) == bytes([1]) * 32 + bytes([2]) * 32
    assert stream.leaf(1) == bytes([2]) * 32 and stream.leaf(0) == bytes([1]) * 32


def test_replaced_counted_ballot_needs_the_board_again() -> None:
    stream = _stream()
    stream._absorb([_s(0), _s(1, replaces=0)])
    assert stream._replaced
    with pytest.raises(ValueError, match="^a replaced ballot needs the board again for the "
                                         "tally$"):
        stream.finish()


def test_counted_sorted_by_index() -> None:
    stream = _stream()
    stream._absorb([_s(0, token=b"A"), _s(1, token=b"B")])
    stream._absorb([_s(2, token=b"A", replaces=0)])
    result = stream.finish(lambda: [])
    assert [c.index for c in result.counted] == [1, 2]
    assert result.tally == _ones()  # recomputed from the (empty) reread


def test_issuance_bound() -> None:
    for issued, expected in ((2, []), (3, []), (1, [
            (-1, "issuance", "2 distinct credentials voted but only 1 were issued")])):
        stream = _stream(credentials_issued=issued)
        stream._absorb([_s(0, token=b"A"), _s(1, token=b"B", problems=[SIG_FAILS])])
        result = stream.finish()
        assert _checks(result) == expected + [(1, *SIG_FAILS)]
    stream = _stream(credentials_issued=0)
    assert stream.finish().problems == []


def test_problems_sorted_by_index_then_check() -> None:
    stream = _stream()
    stream._absorb([_s(0, problems=[("zeta", "1"), ("alpha", "2")], token=b"A"),
                    _s(1, token=b"B", problems=[("beta", "3")])])
    result = stream.finish()
    assert [(p.index, p.check) for p in result.problems] == [
        (0, "alpha"), (0, "zeta"), (1, "beta")]


def test_progress() -> None:
    calls: list[tuple[str, int, int]] = []
    stream = _stream(progress=lambda *a: calls.append(a), expected_total=4)
    stream._absorb([_s(0), _s(1, token=b"B")])
    stream._absorb([])
    stream._absorb([_s(2, token=b"C"), _s(3, token=b"D"), _s(4, token=b"E")])
    assert calls == [("entries", 2, 4), ("entries", 5, 5)]
    _stream()._absorb([_s(0)])  # no progress callback: nothing to call


def test_problems_beyond_the_cap_are_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vb, "MAX_PROBLEMS", 2)
    stream = _stream()
    stream._absorb([_s(i, token=bytes([i]), problems=[("a", f"m{i}"), ("b", f"n{i}")])
                    for i in range(4)] + [_s(4, token=b"x", problems=[("c", "o")])])
    result = stream.finish()
    assert _checks(result) == [(0, "a", "m0"), (0, "b", "n0"), (1, "a", "m1"), (1, "b", "n1"),
                               (4, "c", "o")]
    assert result.omitted == {"a": 2, "b": 2}
    assert result.overflow("a") == [
        "entries after entry 1: 2 more problem(s) of this check, not listed"]


def test_default_cap() -> None:
    assert vb.MAX_PROBLEMS == 1000
    stream = _stream()
    stream._absorb([EntrySummary(i, bytes(32), [("a", "m")]) for i in range(1001)])
    assert len(stream.result.problems) == 1000 and stream.result.omitted == {"a": 1}


def test_structure_errors_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vb, "MAX_PROBLEMS", 3)
    stream = _stream(shape=True)
    assert stream.shape and stream.shape_report() == []
    for i, errors in enumerate((["e1", "e2"], [], ["e3", "e4"], ["e5"])):
        s = _s(i, token=bytes([i]))
        s.shape = errors
        stream._absorb([s])
    assert stream.shape_errors == ["e1", "e2", "e3"] and stream.shape_omitted == 2
    assert stream.shape_report() == ["e1", "e2", "e3",
                                     "board.json: 2 more structure error(s), not listed"]
    stream = _stream()
    s = _s(0)
    s.shape = ["e1"]
    stream._absorb([s])
    assert stream.shape_report() == ["e1"] and stream.shape_omitted == 0


def test_multiply_refuses_unknown_questions_and_options() -> None:
    stream = _stream()
    nn = _ctx().public_key.nsquare
    stream._multiply([("budget", "yes", nn + 2), ("budget", "yes", 3)])
    assert stream.tally["budget"]["yes"] == 6
    with pytest.raises(InvalidBallot, match="^unknown question nope$"):
        stream._multiply([("nope", "yes", 2)])
    with pytest.raises(InvalidBallot, match="^unknown option budget/no$"):
        stream._multiply([("budget", "no", 2)])


# ------------------------------------------------------------------ the pool and Dask paths


class _Pool:
    """Stands in for ProcessPoolExecutor: runs each task at once, records what it was given."""

    made: list[_Pool] = []

    def __init__(self, max_workers: int) -> None:
        self.max_workers = max_workers
        self.calls: list[tuple[Any, ...]] = []
        self.shutdowns: list[dict[str, bool]] = []
        _Pool.made.append(self)

    def submit(self, fn: Any, *args: Any, **kw: Any) -> Future[Any]:
        self.calls.append((fn, *args, kw))
        future: Future[Any] = Future()
        future.set_result(fn(*args))
        return future

    def shutdown(self, **kw: bool) -> None:
        self.shutdowns.append(kw)


@pytest.fixture()
def pool(monkeypatch: pytest.MonkeyPatch) -> type[_Pool]:
    _Pool.made = []
    monkeypatch.setattr(vb, "ProcessPoolExecutor", _Pool)
    monkeypatch.setattr(vb.os, "cpu_count", lambda: 2)
    return _Pool


def test_no_pool_unless_parallel_and_several_workers_and_cpus(
        pool: type[_Pool], monkeypatch: pytest.MonkeyPatch) -> None:
    assert _stream(workers=2)._pool is not None and pool.made[-1].max_workers == 2
    assert _stream(workers=None)._pool is not None and pool.made[-1].max_workers == vb.WORKERS
    made = len(pool.made)
    assert _stream(workers=1)._pool is None
    assert _stream(workers=2, parallel=False)._pool is None
    monkeypatch.setattr(vb.os, "cpu_count", lambda: 1)
    assert _stream(workers=2)._pool is None
    monkeypatch.setattr(vb.os, "cpu_count", lambda: None)
    assert _stream(workers=2)._pool is None
    assert len(pool.made) == made


@pytest.mark.parametrize(("workers", "in_flight"), [(None, 4), (0, 2), (1, 2), (3, 6)])
def test_in_flight(workers: int | None, in_flight: int) -> None:
    assert _stream(workers=workers)._in_flight == in_flight


def test_pool_path(pool: type[_Pool]) -> None:
    board = _board()
    stream = _stream(workers=2, keep_ballots=True, shape=True)
    ctx = stream.ctx
    pending = []
    for i in range(5):
        stream.feed(board[i:i + 1])
        pending.append(len(stream._pending))
    assert pending == [1, 2, 3, 3, 3]  # at most 2·workers − 1 left in flight after a feed
    (made,) = pool.made
    assert [c[:3] for c in made.calls] == [(check_entries, ctx, i) for i in range(5)]
    assert [c[3:] for c in made.calls] == [([board[i]], True, True, {}) for i in range(5)]
    result = stream.finish(lambda: [board])
    assert made.shutdowns == [{"wait": True, "cancel_futures": True}]
    assert stream._pool is None and stream._pending == deque_empty()
    assert result.ok and result.entries == 5 and [c.index for c in result.counted] == [0, 3, 4]
    stream.close()  # twice: nothing left to shut down
    assert made.shutdowns == [{"wait": True, "cancel_futures": True}]


def deque_empty() -> Any:
    from collections import deque
    return deque()


class _Client:
    made: list[_Client] = []
    workers: dict[str, Any] = {"w1": {}, "w2": {}, "w3": {}}

    def __init__(self, address: str, **kw: Any) -> None:
        self.address, self.kw = address, kw
        self.scattered: list[tuple[Any, dict[str, Any]]] = []
        self.submitted: list[tuple[Any, ...]] = []
        self.closed = 0
        _Client.made.append(self)

    def scatter(self, obj: Any, **kw: Any) -> str:
        self.scattered.append((obj, kw))
        return "ctx-ref"

    def scheduler_info(self) -> dict[str, Any]:
        return {"workers": self.workers}

    def submit(self, fn: Any, *args: Any, **kw: Any) -> Future[Any]:
        self.submitted.append((fn, *args, kw))
        future: Future[Any] = Future()
        future.set_result(fn(_ctx(), *args[1:]))
        return future

    def close(self) -> None:
        self.closed += 1


@pytest.fixture()
def client(monkeypatch: pytest.MonkeyPatch) -> type[_Client]:
    _Client.made = []
    _Client.workers = {"w1": {}, "w2": {}, "w3": {}}
    monkeypatch.setattr(distributed, "Client", _Client)
    return _Client


def test_dask_path(client: type[_Client], pool: type[_Pool]) -> None:
    board = _board()
    stream = _stream(scheduler="tcp://sched:8786", workers=2)
    (made,) = client.made
    assert made.address == "tcp://sched:8786" and made.kw == {"set_as_default": False}
    assert made.scattered == [(stream.ctx, {"broadcast": True})]
    assert stream._ctx_ref == "ctx-ref" and stream._in_flight == 12 and pool.made == []
    stream.feed(board[:2])
    stream.feed(board[2:])
    assert made.submitted == [(check_entries, "ctx-ref", 0, board[:2], False, False,
                               {"pure": False}),
                              (check_entries, "ctx-ref", 2, board[2:], False, False,
                               {"pure": False})]
    assert len(stream._pending) == 2
    result = stream.finish(lambda: [board])
    assert result.ok and [c.index for c in result.counted] == [0, 3, 4]
    assert made.closed == 1 and stream._client is None
    stream.close()
    assert made.closed == 1


def test_dask_in_flight_without_workers(client: type[_Client]) -> None:
    client.workers = {}
    assert _stream(scheduler="tcp://x:1")._in_flight == 4
    client.workers = {"a": {}}
    stream = _stream(scheduler="tcp://x:1")
    assert stream._in_flight == 4
    for i, entry in enumerate(_board()[:4]):
        stream.feed([entry])
        assert len(stream._pending) == min(i + 1, 3)
    stream.close()


def test_in_process_feed() -> None:
    board = _board()
    stream = _stream(keep_ballots=True, workers=1)
    stream.feed(board[:2])
    stream.feed(board[2:3])
    stream.feed(board[3:])
    assert stream._fed == 5 and not stream._pending
    result = stream.finish(lambda: [board[:1], board[1:]])
    assert result.ok and result.entries == 5
    assert result.leaf_hashes == [entry_leaf_hash(e) for e in board]


# ------------------------------------------------------------------ verify_board


@pytest.mark.parametrize("entries", ["not a board", b"[]", {"0": {}}, iter([])])
def test_unusable_input(entries: Any) -> None:
    with pytest.raises(InvalidEncoding, match="^board: expected a list of entries$"):
        verify_board(_ctx(), entries)


def test_whole_board() -> None:
    board = _board()
    calls: list[tuple[str, int, int]] = []
    result = verify_board(_ctx(), tuple(board), credentials_issued=3,
                          progress=lambda *a: calls.append(a))
    assert result.ok and result.entries == 5 and result.tokens == 3 and result.audited == 1
    assert calls == [("entries", 5, 5)]
    assert result.leaf_hashes == [entry_leaf_hash(e) for e in board]
    assert [c.index for c in result.counted] == [0, 3, 4]
    counted = [c.ballot for c in result.counted]
    assert counted == [EncryptedBallot.from_json(board[i]["ballot"]) for i in (0, 3, 4)]
    assert [c.tracker for c in result.counted] == [tracker_of(board[i]["ballot"]) for i in (0, 3, 4)]
    assert [c.leaf_hash for c in result.counted] == [entry_leaf_hash(board[i]).hex()
                                                     for i in (0, 3, 4)]
    # the revote replaced counted entry 2: the tally is taken again over the board
    assert result.tally == aggregate_ballots(_ctx().public_key, _gen().manifest, counted)
    assert verify_board(_ctx(), board, credentials_issued=2).by_check("issuance") == [
        Problem(-1, "issuance", "3 distinct credentials voted but only 2 were issued")]


def test_chunks_and_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    board = _board()
    seen: list[tuple[int, int | None]] = []

    def chunk(total: int, workers: int | None = None) -> int:
        seen.append((total, workers))
        return 2

    monkeypatch.setattr(vb, "chunk_for", chunk)
    calls: list[tuple[str, int, int]] = []
    result = verify_board(_ctx(), board, workers=1, progress=lambda *a: calls.append(a))
    assert seen == [(5, 1)] and result.ok
    assert calls == [("entries", 2, 5), ("entries", 4, 5), ("entries", 5, 5)]


def test_parallel_only_above_the_threshold(pool: type[_Pool],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    board = _board()
    monkeypatch.setattr(vb, "PARALLEL_THRESHOLD", 5)
    assert verify_board(_ctx(), board, workers=2).ok and pool.made == []
    monkeypatch.setattr(vb, "PARALLEL_THRESHOLD", 4)
    result = verify_board(_ctx(), board, workers=2)
    (made,) = pool.made
    assert result.ok and [c.index for c in result.counted] == [0, 3, 4]
    assert [c[2] for c in made.calls] == [0] and made.shutdowns


def test_scheduler_is_passed_on(client: type[_Client]) -> None:
    board = _board()
    result = verify_board(_ctx(), board, scheduler="tcp://s:1")
    assert result.ok and client.made[0].address == "tcp://s:1" and client.made[0].closed == 1


def test_failure_closes_the_stream(pool: type[_Pool], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vb, "PARALLEL_THRESHOLD", 0)

    def boom(*args: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(vb, "check_entries", boom)
    with pytest.raises(KeyboardInterrupt):
        verify_board(_ctx(), _board(), workers=2)
    assert pool.made[0].shutdowns == [{"wait": True, "cancel_futures": True}]


def test_copied_and_faulty_entries_on_a_board() -> None:
    board = _board()
    board[3]["ballot"]["contests"][2] = copy.deepcopy(board[0]["ballot"]["contests"][2])
    _break_proof(board[2])
    result = verify_board(_ctx(), board)
    assert _checks(result) == [
        (2, *PROOF_FAILS), (2, *SIG_FAILS),
        (3, "ballot-proof", "ballot proof: question budget, option yes: challenges do not sum "
                            "to the Fiat–Shamir challenge"),
        (3, "ciphertext-copy", "ciphertext of entry 0 copied under another credential"),
        (3, *SIG_FAILS),
    ]
    assert [c.index for c in result.counted] == [0, 4]


# ------------------------------------------------------------------ defect: a board entry that
# json.loads accepts but canonical_json could not write made verify_board crash


@pytest.mark.parametrize("text", ['"\\ud800"', '{"kind": "ballot", "\\udc00": 1}'])
def test_lone_surrogate_is_an_entry_format_problem(text: str) -> None:
    entry = json.loads(text)
    board = _board()[:1] + [entry]
    result = verify_board(_ctx(), board)
    assert _checks(result) == [(1, "entry-format", "not canonical JSON: $: a string is not "
                                                   "valid Unicode (lone surrogate)")]
    assert [c.index for c in result.counted] == [0]


def test_integer_too_long_to_write() -> None:
    result = verify_board(_ctx(), [{"kind": "ballot", "index": 10**5000}])
    assert _checks(result) == [(0, "entry-format", "not canonical JSON: $: an integer is too "
                                                   "long to write as JSON text")]


def _nested(depth: int) -> list[Any]:
    """``depth`` nested arrays: ``[[…[]…]]``."""
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


def test_deeply_nested_entry_is_an_entry_format_problem() -> None:
    """``json.loads`` called near the bottom of the stack (as ``saylau verify`` reads a
    record) accepts about 990 levels; checking such an entry deeper in the stack overflowed
    it (RecursionError escaped verify_board) before the nesting bound.  The entry is built
    directly: ``json.loads`` itself would overflow inside pytest's stack."""
    entry = {"kind": "ballot", "x": _nested(985)}
    result = verify_board(_ctx(), _board()[:1] + [entry])
    path = "$.x" + "[0]" * 63
    assert _checks(result) == [(1, "entry-format", f"not canonical JSON: {path}: nested deeper "
                                                   "than 64 levels")]


def test_in_process_feed_checks_the_structure() -> None:
    stream = _stream(shape=True, workers=1)
    stream.feed([42])
    assert stream.shape_report() == board_entry_errors(42, "board.json/0") != []
    stream = _stream(workers=1)
    stream.feed([42])
    assert stream.shape_report() == []


def test_workers_are_passed_on(pool: type[_Pool], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vb, "PARALLEL_THRESHOLD", 0)
    assert verify_board(_ctx(), _board(), workers=1).ok
    assert pool.made == []
    assert verify_board(_ctx(), _board(), workers=3).ok
    assert [p.max_workers for p in pool.made] == [3]


def test_check_entries_goes_on_after_an_unusable_entry() -> None:
    board = _board()
    out = check_entries(_ctx(), 0, [{"x": 1.5}, board[1], 42, board[3]], keep_ballots=True)
    assert [(s.index, s.kind) for s in out] == [(0, None), (1, "audited"), (2, None),
                                               (3, "ballot")]
    assert out[1].problems == [] and out[3].problems == []
    assert out[3].digests == tuple(vb._digest(c) for c in _cts(board[3]))


def test_check_entries_entry_with_a_malformed_credential_is_not_parsed() -> None:
    """check_ballot_entry leaves the ballot parsed but ``kind`` None: not a board ballot."""
    board = _board()
    board[0]["credential"] = {"a": 1}
    (s,) = check_entries(_ctx(), 0, board[:1], keep_ballots=True)
    assert s.problems == [("credential", "malformed credential: credential: missing field "
                                         "'scope_id'")]
    assert (s.kind, s.token, s.digests, s.ciphertexts, s.ballot) == (None, None, (), (), None)


def test_audit_batch_and_single_check_disagree(monkeypatch: pytest.MonkeyPatch) -> None:
    """The batch test names an entry whose one-by-one audit passes (never expected: they
    accept the same openings); the entry is still reported, with the generic message."""
    calls: list[list[Any]] = []

    def batch(pk: Any, keyed: Any) -> list[Any]:
        calls.append(list(keyed))
        return [k for k, _ in keyed]

    monkeypatch.setattr(vb, "find_invalid_openings", batch)
    board = _board()
    out = check_entries(_ctx(), 0, board)
    assert [s.problems for s in out] == [[], [("audit", "audited ballot does not open")], [],
                                         [], []]
    assert [k for k, _ in calls[0]] == [1]
    calls.clear()
    check_entries(_ctx(), 0, board[2:3])
    assert calls == []  # no audited entry: no batch


def _non_unit_commitment(entry: dict[str, Any], g: GeneratedElection) -> str:
    """Commitment ``a_0 = n`` (``gcd(a_0, n) = n``) in the first option proof, with challenges
    that match the transcript: only the unit test can refuse it.  Returns the option id."""
    from crypto.ballot import DOMAIN_OPTION, OPTION_VALUES, option_context
    from crypto.proofs import membership_challenge
    from crypto.transcript import CHALLENGE_BITS

    contest = entry["ballot"]["contests"][0]
    selection = contest["selections"][0]
    proof = selection["proof"]
    c = hex_to_int(selection["ciphertext"])
    a = [g.tpk.public.n] + [hex_to_int(x) for x in proof["a"][1:]]
    token = bytes.fromhex(entry["ballot"]["token_id"])
    challenge = membership_challenge(
        g.tpk.public, DOMAIN_OPTION, g.fingerprint,
        option_context(g.manifest.election_id, contest["question_id"], selection["option_id"],
                       token), (c,), c, OPTION_VALUES, a)
    proof["a"] = [int_to_hex(x) for x in a]
    proof["e"][1] = int_to_hex((challenge - hex_to_int(proof["e"][0])) % (1 << CHALLENGE_BITS))
    return f"{contest['question_id']}, option {selection['option_id']}"


def test_a_non_unit_commitment_is_named_though_the_batch_finds_it() -> None:
    """The entry check leaves the proofs' gcd tests to the batch equation; the report still
    names the element, as the shape check did when it made them itself."""
    board = _board()
    where = _non_unit_commitment(board[1], _gen())  # audited: no signature to redo
    out = check_entries(_ctx(), 0, board)
    assert [s.problems for s in out] == [
        [], [("ballot-proof", f"ballot proof: question {where}: commitment not in Z*_{{n^2}}")],
        [], [], []]
    # the entry's own full check (what the ballot box runs on a ballot its batch refused)
    from tally.entry_checks import check_board_entry

    checked = check_board_entry(_ctx(), board[1], position=1)
    assert [(f.check, f.message) for f in checked.faults] == [
        ("ballot-proof", f"ballot proof: question {where}: commitment not in Z*_{{n^2}}")]
