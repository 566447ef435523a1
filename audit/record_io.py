"""Election/petition record files: names, strict JSON (no duplicate keys, floats or NaN),
canonical file bytes, and reading/writing a record as a directory or a ``.zip``
(docs/election-record.md)."""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from crypto.encoding import canonical_json

FORMAT = "saylau-election-record/v1"
INDEX_FILE = "record-index.json"
MANIFEST = "manifest.json"
ELECTION = "election.json"
BOARD = "board.json"
TREE_HEADS = "tree-heads.json"
ISSUANCE = "issuance.json"
ROLL = "roll.json"
ENCRYPTED_TALLY = "encrypted-tally.json"
PARTIALS = "partial-decryptions.json"
RESULTS = "results.json"
#: The files of a record, in verification order (the last three appear after the tally).
CORE_FILES = (MANIFEST, ELECTION, BOARD, TREE_HEADS, ISSUANCE)
TALLY_FILES = (ENCRYPTED_TALLY, PARTIALS, RESULTS)
#: roll.json (the published roll of keys, docs/protocol.md §2.7): optional in the format,
#: required by the roll check (a record without it fails ``saylau verify``).
FILES = CORE_FILES + (ROLL,) + TALLY_FILES
#: The distributed key generation's transcript (docs §4.7.9): present iff election.json
#: says ``"key_generation": "distributed"``.
KEYGEN = "keygen.json"
#: The issuer's RSA public exponent (RFC 9474 issuer keys in records).
ISSUER_EXPONENT = 65537
#: Election keys below this many bits are test-size keys: accepted, and reported as such.
PRODUCTION_KEY_BITS = 2048
#: Environment variable equivalent to ``saylau verify --allow-test-keys`` (the test suite sets it).
ALLOW_TEST_KEYS_ENV = "SAYLAU_VERIFY_ALLOW_TEST_KEYS"


def test_keys_allowed(flag: bool | None) -> bool:
    """Keys below :data:`PRODUCTION_KEY_BITS` pass only with ``--allow-test-keys``
    (``flag=True``) or, when ``flag`` is None, with ``SAYLAU_VERIFY_ALLOW_TEST_KEYS=1``."""
    if flag is not None:
        return flag
    return os.environ.get(ALLOW_TEST_KEYS_ENV, "") == "1"
#: Refuse files above this size (a zip bomb, not a record).
MAX_FILE_BYTES = 2 << 30
SCHEMA_PATH = Path(__file__).parent / "schema" / "election-record.schema.json"
#: Petition records (kind "petition"): petition.json replaces manifest.json + election.json.
PETITION_FORMAT = "saylau-petition-record/v1"
PETITION = "petition.json"
PETITION_CORE_FILES = (PETITION, BOARD, TREE_HEADS, ISSUANCE)
PETITION_FILES = PETITION_CORE_FILES + TALLY_FILES
PETITION_SCHEMA_PATH = Path(__file__).parent / "schema" / "petition-record.schema.json"
#: format -> (record kind, files allowed, files required, schema path)
KINDS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...], Path]] = {
    FORMAT: ("election", FILES + (KEYGEN,), CORE_FILES, SCHEMA_PATH),
    PETITION_FORMAT: ("petition", PETITION_FILES, PETITION_CORE_FILES, PETITION_SCHEMA_PATH),
}


class RecordError(Exception):
    """The record cannot be read at all (no such path, not a directory or zip, no index)."""


class RecordFormatError(RecordError):
    """Files of the record are not valid JSON or do not follow the JSON Schema."""

    def __init__(self, errors: Sequence[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = list(errors)


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook``: a JSON object may name each key once (docs/election-record.md §1)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _reject_float(text: str) -> Any:
    raise ValueError(f"float {text} (records contain no floats)")


def _reject_constant(text: str) -> Any:
    raise ValueError(f"{text} is not JSON")


def parse_json(blob: bytes) -> Any:
    """Strict JSON of a record file: UTF-8, no duplicate keys, no floats, no NaN/Infinity.

    Raises ``ValueError`` (``UnicodeDecodeError`` is one) on anything else, a nesting too
    deep for the parser included (a ``RecursionError`` would escape the readers).
    """
    try:
        return json.loads(blob.decode("utf-8"), object_pairs_hook=_reject_duplicate_keys,
                          parse_float=_reject_float, parse_constant=_reject_constant)
    except RecursionError as exc:
        raise ValueError("JSON nested too deeply") from exc


def format_of_files(names: Iterable[str]) -> str:
    """The record format implied by the file names: a petition record has ``petition.json``."""
    return PETITION_FORMAT if PETITION in set(names) else FORMAT


def encode_file(content: object) -> bytes:
    """The bytes written for one record file: canonical JSON and a newline."""
    return canonical_json(content) + b"\n"


def zip_bytes(raw: Mapping[str, bytes]) -> bytes:
    """A ``.zip`` archive of the record files (at the archive root)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, blob in raw.items():
            archive.writestr(name, blob)
    return buffer.getvalue()


def read_zip(path: Path, skip: frozenset[str] = frozenset()) -> dict[str, bytes]:
    """The record files of a ``.zip`` (names in ``skip`` are left unread)."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise RecordError(f"{path}: not a readable zip file ({exc})") from exc
    with archive:
        names = [i for i in archive.infolist() if not i.is_dir()]
        prefix = ""
        index_names = [i.filename for i in names if i.filename.rsplit("/", 1)[-1] == INDEX_FILE]
        if len(index_names) != 1:
            raise RecordError(f"{path}: expected exactly one {INDEX_FILE} in the zip")
        if "/" in index_names[0]:
            prefix = index_names[0].rsplit("/", 1)[0] + "/"
        raw: dict[str, bytes] = {}
        for info in names:
            if not info.filename.startswith(prefix):
                continue
            name = info.filename[len(prefix):]
            if "/" in name or name in skip:
                continue
            if info.file_size > MAX_FILE_BYTES:
                raise RecordError(f"{path}: {name} is too large")
            raw[name] = archive.read(info)
    return raw


def member_names(path: Path) -> list[str]:
    """The file names of a record directory or ``.zip`` (at the index's level)."""
    if path.is_dir():
        return sorted(c.name for c in path.iterdir() if c.is_file())
    try:
        with zipfile.ZipFile(path) as archive:
            names = [i.filename for i in archive.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError) as exc:
        raise RecordError(f"{path}: not a readable zip file ({exc})") from exc
    index = [n for n in names if n.rsplit("/", 1)[-1] == INDEX_FILE]
    if len(index) != 1:
        raise RecordError(f"{path}: expected exactly one {INDEX_FILE} in the zip")
    prefix = index[0][: -len(INDEX_FILE)]
    return [n[len(prefix):] for n in names
            if n.startswith(prefix) and "/" not in n[len(prefix):]]


def read_dir(path: Path, skip: frozenset[str] = frozenset()) -> dict[str, bytes]:
    """The record files of a directory (names in ``skip`` are left unread)."""
    if not (path / INDEX_FILE).is_file():
        raise RecordError(f"{path}: no {INDEX_FILE}; not an election record")
    raw: dict[str, bytes] = {}
    for child in sorted(path.iterdir()):
        if child.is_file() and child.suffix == ".json" and child.name not in skip:
            if child.stat().st_size > MAX_FILE_BYTES:
                raise RecordError(f"{child}: too large")
            raw[child.name] = child.read_bytes()
    return raw


__all__ = [
    "BOARD",
    "CORE_FILES",
    "ELECTION",
    "ENCRYPTED_TALLY",
    "FILES",
    "FORMAT",
    "INDEX_FILE",
    "ISSUANCE",
    "ISSUER_EXPONENT",
    "KINDS",
    "MANIFEST",
    "MAX_FILE_BYTES",
    "PARTIALS",
    "PETITION",
    "PETITION_CORE_FILES",
    "PETITION_FILES",
    "PETITION_FORMAT",
    "PETITION_SCHEMA_PATH",
    "ALLOW_TEST_KEYS_ENV",
    "PRODUCTION_KEY_BITS",
    "test_keys_allowed",
    "RESULTS",
    "SCHEMA_PATH",
    "TALLY_FILES",
    "TREE_HEADS",
    "RecordError",
    "RecordFormatError",
    "encode_file",
    "format_of_files",
    "parse_json",
    "member_names",
    "read_dir",
    "read_zip",
    "zip_bytes",
]
