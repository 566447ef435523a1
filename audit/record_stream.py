"""Streaming reader of a record's board: entries read and handed out in chunks.

``board.json`` is one JSON array (``canonical_json(entries) + "\\n"``); a national board
has millions of entries and gigabytes of hex, too much to parse at once.
:func:`iter_json_array` decodes the array element by element from a byte stream with the
record's strict JSON rules (UTF-8, no duplicate keys, no floats, no NaN/Infinity —
:func:`audit.record_io.parse_json`), holding only a read buffer and one element; while it
reads, it hashes the exact bytes (for the ``record-index.json`` check).
:func:`board_chunks` opens ``board.json`` in a record directory or ``.zip`` (streamed
out of the deflate member) and yields lists of ``chunk`` entries.  Memory is flat in the
board size (``tests/audit/test_record_stream.py`` measures it).
"""

from __future__ import annotations

import codecs
import hashlib
import json
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from audit.record_io import (
    BOARD,
    INDEX_FILE,
    RecordError,
    _reject_constant,
    _reject_duplicate_keys,
    _reject_float,
)

READ_BYTES = 1 << 20
_WHITESPACE = " \t\n\r"
_DECODER = json.JSONDecoder(object_pairs_hook=_reject_duplicate_keys, parse_float=_reject_float,
                            parse_constant=_reject_constant)


def iter_json_array(stream: IO[bytes], *, hasher: Any = None,
                    read_bytes: int = READ_BYTES) -> Iterator[Any]:
    """The elements of the JSON array in ``stream``, one at a time (ValueError if not one).

    ``hasher`` (e.g. ``hashlib.sha256()``) is updated with every byte read, including
    anything after the array, so its digest is the file's.
    """
    utf8 = codecs.getincrementaldecoder("utf-8")("strict")
    buf = ""
    pos = 0
    eof = False

    def fill() -> bool:
        nonlocal buf, pos, eof
        if eof:
            return False
        data = stream.read(read_bytes)
        if hasher is not None and data:
            hasher.update(data)
        if not data:
            eof = True
            buf = buf[pos:] + utf8.decode(b"", final=True)
        else:
            buf = buf[pos:] + utf8.decode(data)
        pos = 0
        return True

    def skip_ws() -> None:
        nonlocal pos
        while True:
            while pos < len(buf) and buf[pos] in _WHITESPACE:
                pos += 1
            if pos < len(buf) or not fill():
                return

    skip_ws()
    if pos >= len(buf) or buf[pos] != "[":
        raise ValueError("board.json is not a JSON array")
    pos += 1
    skip_ws()
    if pos < len(buf) and buf[pos] == "]":
        pos += 1
    else:
        while True:
            while True:  # one element: decode it once it is complete in the buffer
                try:
                    value, end = _DECODER.raw_decode(buf, pos)
                except json.JSONDecodeError:
                    if not fill():
                        raise
                    continue
                except RecursionError as exc:  # not a ValueError: it would escape the verifier
                    raise ValueError(f"board.json: JSON nested too deeply at offset {pos}"
                                     ) from exc
                if end >= len(buf) and fill():  # a number may continue in the next read
                    continue
                break
            pos = end
            yield value
            skip_ws()
            if pos >= len(buf):
                raise ValueError("board.json: the array is not closed")
            if buf[pos] == "]":
                pos += 1
                break
            if buf[pos] != ",":
                raise ValueError(f"board.json: expected ',' or ']' at offset {pos}")
            pos += 1
            skip_ws()
    skip_ws()
    if pos < len(buf):
        raise ValueError("board.json: data after the array")
    while fill():  # hash to the end
        pass


@contextmanager
def open_board(path: str | Path) -> Iterator[IO[bytes]]:
    """``board.json`` of a record directory or ``.zip`` as a byte stream."""
    source = Path(path)
    if source.is_dir():
        with (source / BOARD).open("rb") as handle:
            yield handle
        return
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise RecordError(f"{source}: not a readable zip file ({exc})") from exc
    with archive:
        names = [i.filename for i in archive.infolist()
                 if i.filename.rsplit("/", 1)[-1] == INDEX_FILE]
        if len(names) != 1:
            raise RecordError(f"{source}: expected exactly one {INDEX_FILE} in the zip")
        prefix = names[0][: -len(INDEX_FILE)]
        with archive.open(prefix + BOARD) as handle:
            yield handle


def board_chunks(path: str | Path, chunk: int = 256, *, hasher: Any = None
                 ) -> Iterator[list[Any]]:
    """Lists of at most ``chunk`` board entries, in board order."""
    with open_board(path) as stream:
        batch: list[Any] = []
        for entry in iter_json_array(stream, hasher=hasher):
            batch.append(entry)
            if len(batch) >= chunk:
                yield batch
                batch = []
        if batch:
            yield batch


def board_digest(path: str | Path) -> str:
    """SHA-256 (hex) of ``board.json``'s bytes, streamed."""
    h = hashlib.sha256()
    with open_board(path) as stream:
        while data := stream.read(READ_BYTES):
            h.update(data)
    return h.hexdigest()
