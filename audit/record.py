"""The published election record: writer and reader (docs/election-record.md).

A record is a directory (or a ``.zip`` of one) of JSON files::

    manifest.json  election.json  board.json  tree-heads.json  issuance.json
    encrypted-tally.json  partial-decryptions.json  results.json   (after the tally)
    record-index.json

``record-index.json`` makes the record self-authenticating::

    {"format": "saylau-election-record/v1",
     "files": {name: SHA-256(file bytes) hex, …},
     "signature": Ed25519_board_key(canonical_json({"format": …, "files": …})) hex}

Every file is written as ``canonical_json(content) + "\\n"``; readers hash the bytes
as found, so any changed byte fails the index check.

A **petition record** (format ``saylau-petition-record/v1``) has the same layout with
``petition.json`` instead of ``manifest.json`` + ``election.json`` (see
:mod:`audit.petition_record` and docs/election-record.md §"Petition records").
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature as _PycaInvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from crypto.blind_rsa import IssuerPublicKey
from crypto.election import Manifest
from crypto.encoding import canonical_json, hex_to_bytes, require
from crypto.errors import CryptoError, InvalidEncoding, InvalidKey, InvalidSignature
from crypto.threshold import ThresholdPublicKey
from crypto.tree_head import BoardSigningKey
from tally.verify_board import ElectionContext

FORMAT = "saylau-election-record/v1"
INDEX_FILE = "record-index.json"
MANIFEST = "manifest.json"
ELECTION = "election.json"
BOARD = "board.json"
TREE_HEADS = "tree-heads.json"
ISSUANCE = "issuance.json"
ENCRYPTED_TALLY = "encrypted-tally.json"
PARTIALS = "partial-decryptions.json"
RESULTS = "results.json"
#: The files of a record, in verification order (the last three appear after the tally).
CORE_FILES = (MANIFEST, ELECTION, BOARD, TREE_HEADS, ISSUANCE)
TALLY_FILES = (ENCRYPTED_TALLY, PARTIALS, RESULTS)
#: The distributed key generation's transcript (docs §4.7.9): present iff election.json
#: says ``"key_generation": "distributed"``.
KEYGEN = "keygen.json"
FILES = CORE_FILES + TALLY_FILES
#: The issuer's RSA public exponent (RFC 9474 issuer keys in records).
ISSUER_EXPONENT = 65537
#: Election keys below this many bits are test-size keys: accepted, and reported as such.
PRODUCTION_KEY_BITS = 2048
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


@cache
def load_schema(record_format: str = FORMAT) -> dict[str, Any]:
    """The record's JSON Schema (draft 2020-12) for ``record_format``."""
    schema: dict[str, Any] = json.loads(KINDS[record_format][3].read_text(encoding="utf-8"))
    return schema


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
    """Strict JSON of a record file: UTF-8, no duplicate keys, no floats, no NaN/Infinity."""
    return json.loads(blob.decode("utf-8"), object_pairs_hook=_reject_duplicate_keys,
                      parse_float=_reject_float, parse_constant=_reject_constant)


def format_of_files(names: Iterable[str]) -> str:
    """The record format implied by the file names: a petition record has ``petition.json``."""
    return PETITION_FORMAT if PETITION in set(names) else FORMAT


def encode_file(content: object) -> bytes:
    """The bytes written for one record file: canonical JSON and a newline."""
    return canonical_json(content) + b"\n"


def index_message(files: Mapping[str, str], record_format: str = FORMAT) -> bytes:
    """The bytes the board key signs: ``canonical_json({"format", "files"})``."""
    return canonical_json({"format": record_format, "files": dict(files)})


def sign_index(raw: Mapping[str, bytes], board_key: BoardSigningKey,
               record_format: str | None = None) -> dict[str, Any]:
    """``record-index.json`` for the given file bytes (format implied by the file names)."""
    fmt = record_format or format_of_files(raw)
    files = {name: hashlib.sha256(data).hexdigest() for name, data in sorted(raw.items())}
    return {"format": fmt, "files": files,
            "signature": board_key.sign(index_message(files, fmt)).hex()}


def verify_index(index: object, board_public_key: bytes, record_format: str = FORMAT) -> None:
    """Check the index signature by the board key; raises InvalidSignature.

    ``record_format`` is the format the reader expects (the index must name it).
    """
    files = require(index, "files", dict, "record index")
    if require(index, "format", str, "record index") != record_format:
        raise InvalidEncoding(f"record index: format is not {record_format}")
    signature = hex_to_bytes(require(index, "signature", str, "record index"), "signature", 64)
    try:
        key = Ed25519PublicKey.from_public_bytes(board_public_key)
    except ValueError as exc:
        raise InvalidKey("board public key is not an Ed25519 key") from exc
    try:
        key.verify(signature, index_message(files, record_format))
    except _PycaInvalidSignature as exc:
        raise InvalidSignature("record index signature does not verify under the board key") from exc


# --------------------------------------------------------------------------- writer


def encode_record(data: Mapping[str, Any], board_key: BoardSigningKey) -> dict[str, bytes]:
    """``{file name: bytes}`` of a record, ``record-index.json`` included (signed).

    The kind follows the file names (``petition.json`` present: a petition record).
    Unknown file names and missing core files are refused with :class:`ValueError`.
    """
    fmt = format_of_files(data)
    _, allowed, core, _ = KINDS[fmt]
    unknown = set(data) - set(allowed)
    if unknown:
        raise ValueError(f"not record files: {', '.join(sorted(unknown))}")
    missing = [name for name in core if name not in data]
    if missing:
        raise ValueError(f"record lacks {', '.join(missing)}")
    raw = {name: encode_file(data[name]) for name in allowed if name in data}
    raw[INDEX_FILE] = encode_file(sign_index(raw, board_key, fmt))
    return raw


def zip_bytes(raw: Mapping[str, bytes]) -> bytes:
    """A ``.zip`` archive of the record files (at the archive root)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, blob in raw.items():
            archive.writestr(name, blob)
    return buffer.getvalue()


def write_record(path: str | Path, data: Mapping[str, Any], board_key: BoardSigningKey) -> Path:
    """Write ``data`` ({file name: JSON content}) as a record directory or ``.zip``.

    Unknown file names are refused; the index is signed with ``board_key``.
    """
    raw = encode_record(data, board_key)
    target = Path(path)
    if target.suffix == ".zip":
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(zip_bytes(raw))
    else:
        target.mkdir(parents=True, exist_ok=True)
        for name, blob in raw.items():
            (target / name).write_bytes(blob)
    return target


# --------------------------------------------------------------------------- reader


@dataclass
class Record:
    """A record as read: raw bytes and parsed JSON per file, and any format errors."""

    source: str
    raw: dict[str, bytes]
    files: dict[str, Any] = field(default_factory=dict)
    format_errors: list[str] = field(default_factory=list)

    @property
    def index(self) -> Any:
        return self.files.get(INDEX_FILE)

    @property
    def format(self) -> str:
        """The format the files imply (``petition.json`` present: a petition record)."""
        return format_of_files(self.raw)

    @property
    def kind(self) -> str:
        """``"election"`` or ``"petition"``."""
        return KINDS[self.format][0]

    @property
    def _meta(self) -> str:
        return PETITION if self.kind == "petition" else ELECTION

    def get(self, name: str) -> Any:
        return self.files.get(name)

    @property
    def tallied(self) -> bool:
        return all(name in self.files for name in TALLY_FILES)

    def election_key(self) -> ThresholdPublicKey:
        return ThresholdPublicKey.from_json(require(self.files.get(self._meta), "election_key",
                                                    dict, self._meta))

    def board_public_key(self) -> bytes:
        return hex_to_bytes(require(self.files.get(self._meta), "board_key", str, self._meta),
                            "board_key", 32)

    def log_id(self) -> str:
        return str(require(self.files.get(self._meta), "log_id", str, self._meta))

    def context(self) -> ElectionContext:
        """The election context (manifest, keys, published fingerprint, revote policy)."""
        election = self.files.get(ELECTION)
        manifest = Manifest.from_json(self.files.get(MANIFEST))
        if require(election, "election_id", str, ELECTION) != manifest.election_id:
            raise InvalidEncoding("election.json and manifest.json name different elections")
        issuer_key = IssuerPublicKey.from_json(require(election, "issuer_key", dict, ELECTION))
        if issuer_key.e != ISSUER_EXPONENT:
            raise InvalidEncoding("issuer_key: e must be 65537 (docs/protocol.md §2.2)")
        return ElectionContext(
            manifest=manifest,
            public_key=self.election_key().public,
            issuer_key=issuer_key,
            fingerprint=hex_to_bytes(require(election, "fingerprint", str, ELECTION),
                                     "fingerprint", 32),
            revote_policy=require(election, "revote_policy", str, ELECTION),
        )

    def credentials_issued(self) -> int:
        count = require(self.files.get(ISSUANCE), "count", int, ISSUANCE)
        if count < 0:
            raise InvalidEncoding("issuance.count is negative")
        return int(count)


def _read_zip(path: Path) -> dict[str, bytes]:
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
            if "/" in name:
                continue
            if info.file_size > MAX_FILE_BYTES:
                raise RecordError(f"{path}: {name} is too large")
            raw[name] = archive.read(info)
    return raw


def _read_dir(path: Path) -> dict[str, bytes]:
    if not (path / INDEX_FILE).is_file():
        raise RecordError(f"{path}: no {INDEX_FILE}; not an election record")
    raw: dict[str, bytes] = {}
    for child in sorted(path.iterdir()):
        if child.is_file() and child.suffix == ".json":
            if child.stat().st_size > MAX_FILE_BYTES:
                raise RecordError(f"{child}: too large")
            raw[child.name] = child.read_bytes()
    return raw


def _schema_errors(files: Mapping[str, Any], record_format: str = FORMAT) -> list[str]:
    import jsonschema  # imported lazily: only the reader needs it

    validator = jsonschema.Draft202012Validator(load_schema(record_format))
    errors = []
    for error in sorted(validator.iter_errors(dict(files)), key=lambda e: list(e.path)):
        where = "/".join(str(p) for p in error.path) or "record"
        message = error.message if len(error.message) <= 200 else error.message[:200] + "…"
        errors.append(f"{where}: {message}")
    return errors


def _completeness_errors(raw: Mapping[str, bytes]) -> list[str]:
    """The three tally files come together or not at all (docs/election-record.md §1)."""
    present = [name for name in TALLY_FILES if name in raw]
    if present and len(present) != len(TALLY_FILES):
        return [f"tally files incomplete: only {', '.join(present)}"]
    return []


def read_record(path: str | Path, *, strict: bool = True) -> Record:
    """Read a record directory or zip, parse every file, validate the JSON Schema.

    Raises :class:`RecordError` if the path is not a record at all.  With ``strict``
    (the default) raises :class:`RecordFormatError` listing every malformed file;
    otherwise the errors are kept in ``Record.format_errors`` for the verifier.
    """
    source = Path(path)
    if not source.exists():
        raise RecordError(f"{source}: no such file or directory")
    try:
        if source.is_dir():
            raw = _read_dir(source)
        elif zipfile.is_zipfile(source):
            raw = _read_zip(source)
        else:
            raise RecordError(f"{source}: not a record directory or .zip")
    except OSError as exc:
        raise RecordError(f"{source}: cannot read ({exc.strerror or exc})") from exc
    record = Record(str(source), raw)
    allowed = KINDS[record.format][1]
    for name, blob in raw.items():
        if name != INDEX_FILE and name not in allowed:
            record.format_errors.append(f"{name}: not a file of the record format")
            continue
        try:
            record.files[name] = parse_json(blob)
        except (UnicodeDecodeError, ValueError) as exc:
            record.format_errors.append(f"{name}: not valid JSON ({exc})")
    if INDEX_FILE not in record.files:
        raise RecordError(f"{source}: {INDEX_FILE} is not valid JSON")
    record.format_errors.extend(_completeness_errors(record.raw))
    record.format_errors.extend(_schema_errors(record.files, record.format))
    if strict and record.format_errors:
        raise RecordFormatError(record.format_errors)
    return record


def record_from_bytes(raw: Mapping[str, bytes], source: str = "<memory>") -> Record:
    """A :class:`Record` from in-memory file bytes (schema-checked, not strict)."""
    record = Record(source, dict(raw))
    for name, blob in raw.items():
        try:
            record.files[name] = parse_json(blob)
        except (UnicodeDecodeError, ValueError) as exc:
            record.format_errors.append(f"{name}: not valid JSON ({exc})")
    record.format_errors.extend(_completeness_errors(record.raw))
    record.format_errors.extend(_schema_errors(record.files, record.format))
    return record


# --------------------------------------------------------------------------- building


def build_record_data(
    service_data: Mapping[str, Any],
    partials: Sequence[Mapping[str, Any]] | None = None,
    results: Mapping[str, Any] | None = None,
    encrypted_tally: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Turn the voting service's ``record_data()`` into ``{file name: content}``.

    ``service_data`` keys: ``manifest``, ``election`` (public JSON: title, opens_at,
    closes_at), ``election_public_key``, ``issuer_public_key``, ``board_public_key``,
    ``log_id``, ``fingerprint``, ``revote_policy``, ``board`` (entries, or the
    service's ``{"entry": …}`` wrappers), ``tree_heads``, ``issuance`` (``count``, optional
    ``receipts``).  ``partials``: trustee partial files (:class:`tally.decrypt.TrusteePartials`
    JSON, or the service's ``{"trustee_index", "data"}`` rows); ``results`` and
    ``encrypted_tally`` as published.  Pass all three tally parts or none.
    """
    manifest = dict(service_data["manifest"])
    public = service_data.get("election") or {}
    election = {
        "kind": "election",
        "election_id": manifest["election_id"],
        "title": manifest.get("title", public.get("title", "")),
        "fingerprint": service_data["fingerprint"],
        "election_key": service_data["election_public_key"],
        "issuer_key": service_data["issuer_public_key"],
        "board_key": service_data["board_public_key"],
        "log_id": service_data["log_id"],
        "revote_policy": service_data["revote_policy"],
        "opens_at": public.get("opens_at"),
        "closes_at": public.get("closes_at"),
        "key_generation": "distributed" if service_data.get("keygen_transcript") else "dealer",
    }
    board = [dict(item["entry"]) if isinstance(item, Mapping) and isinstance(item.get("entry"),
                                                                              Mapping)
             else dict(item) for item in service_data["board"]]
    issuance = service_data["issuance"]
    data: dict[str, Any] = {
        MANIFEST: manifest,
        ELECTION: election,
        BOARD: board,
        TREE_HEADS: list(service_data["tree_heads"]),
        ISSUANCE: {"count": int(issuance["count"]),
                   **({"receipts": list(issuance["receipts"])} if "receipts" in issuance
                      else {})},
    }
    if service_data.get("keygen_transcript"):
        data[KEYGEN] = dict(service_data["keygen_transcript"])
    parts = (partials is not None, results is not None, encrypted_tally is not None)
    if any(parts) and not all(parts):
        raise ValueError("pass the encrypted tally, the partials and the results together")
    if partials is not None and results is not None and encrypted_tally is not None:
        data[ENCRYPTED_TALLY] = dict(encrypted_tally)
        data[PARTIALS] = [dict(p["data"]) if "data" in p and "partials" not in p else dict(p)
                          for p in partials]
        data[RESULTS] = dict(results)
    return data


def check_core(record: Record) -> None:
    """Raise :class:`CryptoError`/:class:`InvalidEncoding` unless the core files parse."""
    try:
        record.context()
        record.board_public_key()
        record.credentials_issued()
    except (CryptoError, KeyError, TypeError) as exc:
        raise InvalidEncoding(f"record: {exc}") from exc


__all__ = [
    "BOARD",
    "CORE_FILES",
    "ELECTION",
    "ENCRYPTED_TALLY",
    "FILES",
    "KEYGEN",
    "FORMAT",
    "INDEX_FILE",
    "ISSUANCE",
    "KINDS",
    "MANIFEST",
    "PARTIALS",
    "PETITION",
    "PETITION_CORE_FILES",
    "PETITION_FILES",
    "PETITION_FORMAT",
    "RESULTS",
    "TALLY_FILES",
    "TREE_HEADS",
    "Record",
    "RecordError",
    "RecordFormatError",
    "build_record_data",
    "encode_file",
    "encode_record",
    "format_of_files",
    "index_message",
    "load_schema",
    "parse_json",
    "read_record",
    "record_from_bytes",
    "sign_index",
    "verify_index",
    "write_record",
    "zip_bytes",
]
