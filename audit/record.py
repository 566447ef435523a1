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

import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from audit.record_index import index_message, sign_index, verify_index
from audit.record_io import (
    BOARD,
    CORE_FILES,
    ELECTION,
    ENCRYPTED_TALLY,
    FILES,
    FORMAT,
    INDEX_FILE,
    ISSUANCE,
    ISSUER_EXPONENT,
    KEYGEN,
    KINDS,
    MANIFEST,
    PARTIALS,
    PETITION,
    PETITION_CORE_FILES,
    PETITION_FILES,
    PETITION_FORMAT,
    RESULTS,
    ROLL,
    TALLY_FILES,
    TREE_HEADS,
    RecordError,
    RecordFormatError,
    encode_file,
    format_of_files,
    member_names,
    parse_json,
    read_dir,
    read_zip,
    zip_bytes,
)
from crypto.blind_rsa import IssuerPublicKey
from crypto.election import ElectionRules, Manifest
from crypto.encoding import hex_to_bytes, require
from crypto.errors import CryptoError, InvalidEncoding
from crypto.roll import RollCommitment, RollEntry, SignedRequest
from crypto.threshold import ThresholdPublicKey
from crypto.tree_head import BoardSigningKey
from tally.verify_board import ElectionContext


@cache
def load_schema(record_format: str = FORMAT) -> dict[str, Any]:
    """The record's JSON Schema (draft 2020-12) for ``record_format``."""
    schema: dict[str, Any] = json.loads(KINDS[record_format][3].read_text(encoding="utf-8"))
    return schema


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


@dataclass
class Record:
    """A record as read: raw bytes and parsed JSON per file, and any format errors."""

    source: str
    raw: dict[str, bytes]
    files: dict[str, Any] = field(default_factory=dict)
    format_errors: list[str] = field(default_factory=list)
    #: a streamed record (``read_record(stream_board=True)``): board.json is not in
    #: ``raw``/``files`` but read in chunks from this path by the verifier
    board_source: Path | None = None
    #: SHA-256 (hex) of files not held in ``raw`` (board.json once streamed)
    digests: dict[str, str] = field(default_factory=dict)
    #: where the board's structure errors go in ``format_errors`` once streamed
    board_errors_at: int = 0

    def names(self) -> set[str]:
        """The files of the record, streamed ones included."""
        names = set(self.raw)
        if self.board_source is not None:
            names.add(BOARD)
        return names

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
        revote_policy = require(election, "revote_policy", str, ELECTION)
        rules = self.rules()
        if rules is not None and rules.revote_policy != revote_policy:
            raise InvalidEncoding("election.json: revote_policy differs from rules.revote_policy")
        return ElectionContext(
            manifest=manifest,
            public_key=self.election_key().public,
            issuer_key=issuer_key,
            fingerprint=hex_to_bytes(require(election, "fingerprint", str, ELECTION),
                                     "fingerprint", 32),
            revote_policy=revote_policy,
            opens_at_ms=rules.earliest_cast_at_ms if rules is not None else None,
            closes_at_ms=rules.closes_at_ms if rules is not None else None,
        )

    def rules(self) -> ElectionRules | None:
        """election.json's ``rules`` (eq. F1's last field), None in a record without them."""
        election = self.files.get(ELECTION)
        if not isinstance(election, dict):
            raise InvalidEncoding(f"{ELECTION}: expected a JSON object")
        raw = election.get("rules")
        return ElectionRules.from_json(raw, "election.rules") if raw is not None else None

    def roll_commitment(self) -> RollCommitment | None:
        """election.json's ``roll`` (eq. F1's fifth field), None if the election has none."""
        election = self.files.get(ELECTION)
        if not isinstance(election, dict):
            raise InvalidEncoding(f"{ELECTION}: expected a JSON object")
        raw = election.get("roll")
        return RollCommitment.from_json(raw, "election.roll") if raw is not None else None

    def roll_entries(self) -> list[RollEntry]:
        """roll.json's entries (empty if the file is absent)."""
        roll = self.files.get(ROLL)
        if roll is None:
            return []
        entries = require(roll, "entries", list, ROLL)
        return [RollEntry.from_json(e, f"roll.entries[{i}]") for i, e in enumerate(entries)]

    def signed_requests(self) -> list[SignedRequest]:
        """issuance.json's ``requests`` (empty if absent)."""
        raw = self.files.get(ISSUANCE)
        requests = raw.get("requests", []) if isinstance(raw, dict) else []
        if not isinstance(requests, list):
            raise InvalidEncoding("issuance.requests: expected a list")
        return [SignedRequest.from_json(r, f"issuance.requests[{i}]")
                for i, r in enumerate(requests)]

    def credentials_issued(self) -> int:
        count = require(self.files.get(ISSUANCE), "count", int, ISSUANCE)
        if count < 0:
            raise InvalidEncoding("issuance.count is negative")
        return int(count)


def _schema_errors(files: Mapping[str, Any], record_format: str = FORMAT) -> list[str]:
    """JSON Schema errors of the record; an election board's entries are checked by the
    equivalent, much cheaper :func:`tally.entry_shape.board_errors` instead."""
    from tally.entry_shape import board_errors
    from tally.verify_board import MAX_PROBLEMS

    validator = _validator(record_format)
    errors = []
    document = dict(files)
    board = document.get(BOARD)
    if record_format == FORMAT and isinstance(board, list):
        document[BOARD] = []
        shape = board_errors(board)
        if len(shape) > MAX_PROBLEMS:  # listed as the streaming verifier lists them
            shape[MAX_PROBLEMS:] = [f"board.json: {len(shape) - MAX_PROBLEMS} more structure "
                                    "error(s), not listed"]
        errors.extend(shape)
    for error in sorted(validator.iter_errors(document), key=lambda e: list(e.path)):
        where = "/".join(str(p) for p in error.path) or "record"
        message = error.message if len(error.message) <= 200 else error.message[:200] + "…"
        errors.append(f"{where}: {message}")
    return errors


@cache
def _validator(record_format: str) -> Any:
    """A validator of the record schema with its ``$ref``s written out
    (:mod:`audit.schema_inline`: the same errors, in half the time), or of the schema as
    published if that cannot be done."""
    import jsonschema

    from audit.schema_inline import CannotInline, inline_refs

    schema = load_schema(record_format)
    try:
        return jsonschema.Draft202012Validator(inline_refs(schema))
    except CannotInline:
        return jsonschema.Draft202012Validator(schema)


def _completeness_errors(raw: Mapping[str, bytes]) -> list[str]:
    """The three tally files come together or not at all (docs/election-record.md §1)."""
    present = [name for name in TALLY_FILES if name in raw]
    if present and len(present) != len(TALLY_FILES):
        return [f"tally files incomplete: only {', '.join(present)}"]
    return []


def read_record(path: str | Path, *, strict: bool = True, stream_board: bool = False) -> Record:
    """Read a record directory or zip, parse every file, validate the JSON Schema.

    ``stream_board`` (election records): board.json is left on disk for the verifier to
    read in chunks (``Record.board_source``); its structure errors and SHA-256 are filled
    in as it streams (:func:`audit.election_verifier.verify_board_record`).

    Raises :class:`RecordError` if the path is not a record at all.  With ``strict``
    (the default) raises :class:`RecordFormatError` listing every malformed file;
    otherwise the errors are kept in ``Record.format_errors`` for the verifier.
    """
    source = Path(path)
    if not source.exists():
        raise RecordError(f"{source}: no such file or directory")
    streamed = False
    try:
        if source.is_dir():
            kind = source
        elif zipfile.is_zipfile(source):
            kind = None
        else:
            raise RecordError(f"{source}: not a record directory or .zip")
        if stream_board:
            names = member_names(source)
            streamed = BOARD in names and format_of_files(names) == FORMAT
        skip = frozenset({BOARD}) if streamed else frozenset()
        raw = read_dir(source, skip) if kind is not None else read_zip(source, skip)
    except OSError as exc:
        raise RecordError(f"{source}: cannot read ({exc.strerror or exc})") from exc
    record = Record(str(source), raw)
    if streamed:
        record.board_source = source
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
    record.board_errors_at = len(record.format_errors)
    files = {**record.files, BOARD: []} if streamed else record.files
    record.format_errors.extend(_schema_errors(files, record.format))
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
    ``receipts`` and ``requests``), and optionally ``credential_mode``, ``roll_commitment``
    and ``roll`` (the entries of roll.json), and ``rules`` (eq. F1's counting rules).  ``partials``: trustee partial files (:class:`tally.decrypt.TrusteePartials`
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
    if service_data.get("rules") is not None:
        election["rules"] = service_data["rules"]
    if "credential_mode" in service_data:
        election["credential_mode"] = service_data["credential_mode"]
        election["roll"] = service_data.get("roll_commitment")
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
                      else {}),
                   **({"requests": list(issuance["requests"])} if "requests" in issuance
                      else {})},
    }
    if service_data.get("roll") is not None:
        data[ROLL] = {"entries": list(service_data["roll"])}
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
    "ROLL",
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
