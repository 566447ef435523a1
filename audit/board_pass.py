"""One streaming pass over a record's ``board.json`` (``saylau verify``'s normal path).

:func:`stream_board` reads the board in chunks (:func:`audit.record_stream.board_chunks`,
a directory or a ``.zip``), hashes its bytes for the record index, and feeds every chunk to
:class:`tally.verify_board.BoardStream`: the per-entry checks (structure, leaf hash,
credential, signature, proofs, audited ballots) run in worker processes, the board-wide
ones (copies, revote chains, counted ballots, tally) here.  Memory stays flat in the board
size but for a few dozen bytes per entry (``tests/audit/test_verify_stream.py``).

A board that is not a JSON array of strict JSON raises :class:`BoardUnreadable`; the
verifier then reads the record whole, so the report names the same parse error as before.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit.record_stream import board_chunks
from tally.entry_checks import ElectionContext
from tally.entry_shape import board_entry_errors
from tally.progress import ProgressFn
from tally.verify_board import MAX_PROBLEMS, STREAM_CHUNK, BoardResult, BoardStream, LeafList


class BoardUnreadable(Exception):
    """board.json is not a JSON array of strict JSON values."""


@dataclass
class BoardPass:
    """What one pass over the board found."""

    digest: str
    leaves: LeafList
    shape_errors: list[str]
    result: BoardResult | None
    kept: dict[int, Any] = field(default_factory=dict)


def _chunks(source: Path, hasher: Any, chunk: int) -> Iterator[list[Any]]:
    try:
        yield from board_chunks(source, chunk, hasher=hasher)
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError included
        raise BoardUnreadable(str(exc)) from exc


def stream_board(source: Path, ctx: ElectionContext | None, *,
                 credentials_issued: int | None = None, progress: ProgressFn | None = None,
                 workers: int | None = None, scheduler: str | None = None,
                 receipt: Mapping[str, Any] | None = None, expected_total: int = 0,
                 chunk: int = STREAM_CHUNK,
                 meanwhile: Callable[[], None] | None = None) -> BoardPass:
    """Check the board of the record at ``source`` in one pass (``ctx`` None: the election
    keys are unusable, only the structure and the digest are taken).

    ``meanwhile`` is called once the whole board has been handed out, while the worker
    processes still check the last chunks: work of the caller's that does not depend on
    the board (the tree heads' and the roll's signatures) then runs beside them instead of
    after them, on a core that would otherwise wait."""
    hasher = hashlib.sha256()
    want = receipt.get("index") if isinstance(receipt, Mapping) else None
    kept: dict[int, Any] = {}
    if ctx is None:
        shape: list[str] = []
        more = 0
        position = 0
        for entries in _chunks(source, hasher, chunk):
            for entry in entries:
                errors = board_entry_errors(entry, f"board.json/{position}")
                room = max(MAX_PROBLEMS - len(shape), 0)
                shape.extend(errors[:room])
                more += len(errors) - len(errors[:room])
                position += 1
        if more:
            shape.append(f"board.json: {more} more structure error(s), not listed")
        if meanwhile is not None:
            meanwhile()
        return BoardPass(hasher.hexdigest(), LeafList(bytearray()), shape, None)
    stream = BoardStream(ctx, credentials_issued=credentials_issued, progress=progress,
                         workers=workers, scheduler=scheduler, expected_total=expected_total,
                         shape=True)
    position = 0
    try:
        for entries in _chunks(source, hasher, chunk):
            if isinstance(want, int) and position <= want < position + len(entries):
                kept[want] = entries[want - position]
            position += len(entries)
            stream.feed(entries)
        if meanwhile is not None:
            meanwhile()
    except BaseException:
        stream.close()
        raise
    result = stream.finish(lambda: board_chunks(source, chunk))
    return BoardPass(hasher.hexdigest(), LeafList(stream.leaves), stream.shape_report(), result,
                     kept)


__all__ = ["BoardPass", "BoardUnreadable", "stream_board"]
