"""A per-database cache of the committed Merkle logs of the boards (elections, petitions).

Board leaves are append-only: once committed, leaf ``i`` never changes.  Appending used to
reload every leaf hash of a board (O(n) rows and hashes per cast); this cache keeps the
Merkle log of each board's committed prefix and reads only the rows added since.

* It stores only leaves read from the database, and hands out copies: a caller appends
  its own (possibly rolled-back) leaf to its copy, never to the cached log.
* Callers read the log *before* inserting anything in their transaction (the append
  paths load once, under the board's append lock), so an uncommitted row of their own is
  never cached.
* A board whose last cached leaf no longer matches the database (a test database
  recreated under the same engine) is read again from the start.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Hashable, Sequence

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from crypto.merkle import MerkleLog

#: Leaf hashes (hex) of the board's rows with ``leaf_index >= start``, in index order.
FetchFrom = Callable[[int], Sequence[str]]
#: The leaf hash (hex) of the row at ``index``, or None.
LeafAt = Callable[[int], "str | None"]


class CommittedLogs:
    """The cached logs of one database; thread-safe; stored logs are never mutated."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._logs: dict[Hashable, MerkleLog] = {}

    def log(self, key: Hashable, fetch_from: FetchFrom, leaf_at: LeafAt) -> MerkleLog:
        """A fresh copy of board ``key``'s log, extended with the rows added since."""
        with self._lock:
            cached = self._logs.get(key)
        if cached is not None and cached.size:
            last = cached.size - 1
            if leaf_at(last) != cached.leaf(last).hex():
                cached = None
        log = cached.copy() if cached is not None else MerkleLog()
        log.extend(bytes.fromhex(h) for h in fetch_from(log.size))
        with self._lock:
            current = self._logs.get(key)
            if current is None or current.size < log.size:
                self._logs[key] = log.copy()
        return log

    def forget(self, key: Hashable) -> None:
        with self._lock:
            self._logs.pop(key, None)


_BY_ENGINE: weakref.WeakKeyDictionary[Engine, CommittedLogs] = weakref.WeakKeyDictionary()
_REGISTRY_LOCK = threading.Lock()


def committed_logs(db: Session) -> CommittedLogs:
    """The cache of the database behind ``db`` (one per engine, so per app and schema)."""
    engine = db.get_bind()
    assert isinstance(engine, Engine)
    with _REGISTRY_LOCK:
        logs = _BY_ENGINE.get(engine)
        if logs is None:
            logs = _BY_ENGINE[engine] = CommittedLogs()
        return logs
