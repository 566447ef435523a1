"""The committed-log cache: incremental reads, copies only, recovery from a changed database."""

from app.board_cache import CommittedLogs
from crypto.merkle import MerkleLog, leaf_hash


class FakeBoard:
    """A board table: a list of leaf hashes (hex), counting the rows each query reads."""

    def __init__(self, n: int) -> None:
        self.rows = [leaf_hash(bytes([i])).hex() for i in range(n)]
        self.rows_read = 0

    def fetch_from(self, start: int) -> list[str]:
        out = self.rows[start:]
        self.rows_read += len(out)
        return out

    def leaf_at(self, index: int) -> str | None:
        return self.rows[index] if index < len(self.rows) else None


def test_second_load_reads_only_new_rows_and_matches_a_full_rebuild():
    cache, board = CommittedLogs(), FakeBoard(50)
    first = cache.log("b", board.fetch_from, board.leaf_at)
    assert board.rows_read == 50
    board.rows.append(leaf_hash(b"new").hex())
    second = cache.log("b", board.fetch_from, board.leaf_at)
    assert board.rows_read == 51  # one new row, not 51 again
    assert second.root() == MerkleLog(bytes.fromhex(h) for h in board.rows).root()
    assert first.size == 50


def test_callers_get_copies_so_an_uncommitted_append_never_reaches_the_cache():
    cache, board = CommittedLogs(), FakeBoard(8)
    mine = cache.log("b", board.fetch_from, board.leaf_at)
    mine.append(leaf_hash(b"rolled back"))  # the caller's transaction later rolls back
    again = cache.log("b", board.fetch_from, board.leaf_at)
    assert again.size == 8
    assert again.root() == MerkleLog(bytes.fromhex(h) for h in board.rows).root()


def test_a_changed_database_is_read_again_from_the_start():
    cache, board = CommittedLogs(), FakeBoard(10)
    cache.log("b", board.fetch_from, board.leaf_at)
    board.rows = [leaf_hash(b"other" + bytes([i])).hex() for i in range(12)]  # recreated
    fresh = cache.log("b", board.fetch_from, board.leaf_at)
    assert fresh.root() == MerkleLog(bytes.fromhex(h) for h in board.rows).root()


def test_boards_are_kept_apart():
    cache = CommittedLogs()
    a, b = FakeBoard(3), FakeBoard(5)
    assert cache.log(("election", "a"), a.fetch_from, a.leaf_at).size == 3
    assert cache.log(("election", "b"), b.fetch_from, b.leaf_at).size == 5
