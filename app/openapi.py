"""The hand-written OpenAPI 3.1 document of ``/api/v1`` (served at ``/api/v1/openapi.json``)."""

from __future__ import annotations

from typing import Any

HEX = {"type": "string", "pattern": "^([0-9a-f]{2})*$"}
HASH = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
OBJ = {"type": "object"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _op(summary: str, ok: dict[str, Any], *, status: str = "200", body: dict[str, Any] | None = None,
        errors: tuple[int, ...] = (400, 404), auth: bool = False,
        params: list[dict[str, Any]] | None = None, tag: str = "board") -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "tags": [tag],
                          "responses": {status: {"description": "success", **_json(ok)}}}
    for code in errors:
        op["responses"][str(code)] = {"description": "error", **_json(_ref("Error"))}
    if body is not None:
        op["requestBody"] = {"required": True, **_json(body)}
    op["security"] = [{"bearer": []}, {"session": []}] if auth else []
    if params:
        op["parameters"] = params
    return op


def _q(name: str, required: bool = False, desc: str = "") -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": desc,
            "schema": {"type": "integer", "minimum": 0}}


EID = {"name": "election_id", "in": "path", "required": True, "schema": {"type": "string"}}


def openapi_document() -> dict[str, Any]:
    e = "/elections/{election_id}"
    paths: dict[str, Any] = {
        "/auth/login": {"post": _op(
            "Log in with e-mail and password; returns a bearer token (only its hash is stored)",
            {"type": "object", "properties": {"token": {"type": "string"},
                                              "token_type": {"const": "Bearer"},
                                              "expires_at": {"type": "string"}, "user": OBJ}},
            body={"type": "object", "required": ["email", "password"],
                  "properties": {"email": {"type": "string"}, "password": {"type": "string"}}},
            errors=(400, 401, 415, 429), tag="auth")},
        "/me": {"get": _op("The logged-in user and the elections whose roll they are on",
                           OBJ, errors=(401,), auth=True, tag="auth")},
        "/elections": {
            "get": _op("Published (non-draft) elections", OBJ, errors=(), tag="elections"),
            "post": _op("Create an election (official)", _ref("Election"), status="201",
                        body={"type": "object", "required": ["id", "title", "questions"],
                              "properties": {"id": {"type": "string"}, "title": {"type": "string"},
                                             "questions": {"type": "array", "items": OBJ},
                                             "labels": {"type": "object", "description":
                                                        "optional translations {key: {kk|ru|en: text}}, "
                                                        "part of the manifest and fingerprint "
                                                        "(docs/protocol.md §1.4)"},
                                             "revote_policy": {"enum": ["no-revote", "last-counts"]},
                                             "credential_policy": {"enum": ["period", "any_time"]},
                                             "opens_at": {"type": "string"},
                                             "closes_at": {"type": "string"}}},
                        errors=(400, 401, 403, 409), auth=True, tag="officials"),
        },
        e: {"get": _op("Manifest, state, window, revote policy, keys, fingerprint, counts",
                       _ref("Election"), tag="elections")},
        e + "/credential": {"post": _op(
            "Blind credential issuance (RFC 9474 BlindSign) against a request signed with the "
            "voter's roll key (protocol §2.7; legacy login mode: blinded_message alone); once "
            "per roll key; the same signed request again returns the stored answer (200)",
            {"type": "object", "properties": {"blind_signature": HEX, "issuance_receipt": HASH}},
            status="201", body={"type": "object", "properties": {
                "signed_request": {"type": "object", "required": ["request", "signature"],
                                   "properties": {"request": OBJ, "signature": HEX}},
                "blinded_message": HEX}},
            errors=(400, 401, 403, 404, 409), auth=True, tag="voting")},
        e + "/enroll": {"post": _op(
            "Put the voter's signing key on the roll before opening: an Ed25519 public key "
            "(enrolled-key mode) or an X.509 certificate (PKI mode, checked against the CA)",
            {"type": "object", "properties": {"kind": {"type": "string"},
                                              "public_key": HEX, "id_hash": HASH}},
            status="201", body={"type": "object", "properties": {
                "public_key": HEX, "certificate": {"type": "string"}}},
            errors=(400, 401, 403, 404, 409), auth=True, tag="voting")},
        e + "/roll/me": {"get": _op(
            "The signed-in voter's own roll key and position (to look themselves up)",
            OBJ, errors=(401, 404), auth=True, tag="voting")},
        e + "/ballots": {"post": _op(
            "Cast a ballot anonymously (no session, no bearer); returns the receipt after commit",
            _ref("Receipt"), status="201", body=_ref("CastRequest"),
            errors=(400, 403, 404, 409, 413, 415), tag="voting")},
        e + "/audited-ballots": {"post": _op(
            "Post a Benaloh-audited (spoiled) ballot with its revealed plaintexts and randomness",
            _ref("Receipt"), status="201",
            body={"type": "object", "required": ["ballot", "secrets"],
                  "properties": {"ballot": OBJ, "secrets": OBJ}},
            errors=(400, 404, 409, 413, 415), tag="voting")},
        e + "/board": {"get": _op("Board entries in leaf order (paged)", OBJ,
                                  params=[_q("start"), _q("limit", desc="1..500, default 100")])},
        e + "/board/{tracker}": {"get": _op("One board entry by tracker", _ref("BoardEntry"),
                                            params=[{"name": "tracker", "in": "path",
                                                     "required": True, "schema": HASH}])},
        e + "/tree-head": {"get": _op("The latest signed tree head", _ref("SignedTreeHead"))},
        e + "/tree-heads": {"get": _op("Every signed tree head, oldest first", OBJ)},
        e + "/inclusion/{index}": {"get": _op(
            "Inclusion proof of a leaf (RFC 9162 §2.1.3)", _ref("InclusionProof"),
            params=[{"name": "index", "in": "path", "required": True,
                     "schema": {"type": "integer", "minimum": 0}},
                    _q("tree_size", desc="default: the current size")])},
        e + "/consistency": {"get": _op(
            "Consistency proof between two tree sizes (RFC 9162 §2.1.4)", _ref("ConsistencyProof"),
            params=[_q("old", True), _q("new", desc="default: the current size")])},
        e + "/issuance": {"get": _op(
            "The issuance register: count and pseudonymous receipts (no names, no e-mails)",
            {"type": "object", "properties": {"election_id": {"type": "string"},
                                              "count": {"type": "integer"},
                                              "receipts": {"type": "array", "items": HASH},
                                              "requests": {"type": "array", "items": OBJ}}})},
        e + "/record": {"get": _op("Everything the election record needs (public once closed)",
                                   OBJ, errors=(401, 403, 404), tag="record")},
        e + "/encrypted-tally": {"get": _op(
            "The encrypted tally recomputed from the frozen board (what trustees decrypt)",
            {"type": "object", "properties": {
                "election_id": {"type": "string"}, "ballots_counted": {"type": "integer"},
                "counted_trackers": {"type": "array", "items": HASH},
                "tally": {"type": "object", "additionalProperties": {
                    "type": "object", "additionalProperties": {"type": "string"}}}}},
            errors=(404, 409), tag="tally")},
        e + "/partial-decryptions": {"post": _op(
            "A trustee uploads partial decryptions with proofs (saylau trustee decrypt output); "
            "the results are published once k valid sets are in",
            {"type": "object", "properties": {"trustee_index": {"type": "integer"},
                                              "valid_sets": {"type": "integer"},
                                              "threshold": {"type": "integer"},
                                              "published": {"type": "boolean"}}},
            status="201", body=OBJ, errors=(400, 401, 403, 404, 409), auth=True, tag="tally")},
        e + "/record.zip": {"get": {
            "summary": "The signed election record as one .zip (check it with saylau verify)",
            "tags": ["record"], "security": [],
            "responses": {"200": {"description": "the record",
                                  "content": {"application/zip": {"schema": {
                                      "type": "string", "contentMediaType": "application/zip"}}}},
                          "404": {"description": "error", **_json(_ref("Error"))},
                          "409": {"description": "error", **_json(_ref("Error"))}}}},
        e + "/roll": {"get": _op(
            "The published roll of voter keys, frozen at opening (keys and id hashes, no names)",
            {"type": "object", "properties": {"mode": {"type": "string"},
                                              "commitment": OBJ,
                                              "entries": {"type": "array", "items": OBJ}}}),
                      "post": _op("Import a voter roll (CSV header email,name or email,name,iin); "
                                  "draft only: the roll freezes at opening", OBJ,
                                  body={"type": "object", "required": ["csv"],
                                        "properties": {"csv": {"type": "string"}}},
                                  errors=(400, 401, 403, 404, 409), auth=True, tag="officials")},
        e + "/election-key": {"post": _op("Set the threshold election public key (draft only)",
                                          _ref("Election"), body=OBJ,
                                          errors=(400, 401, 403, 404, 409), auth=True,
                                          tag="officials")},
        e + "/open": {"post": _op("Open: freeze the setup, the revote policy and the voting "
                                  "window (rules), compute the fingerprint",
                                  _ref("Election"), errors=(401, 403, 404, 409), auth=True,
                                  tag="officials")},
        e + "/start-voting": {"post": _op("End the credential period now (opens_at := now); "
                                          "409 window_bound before a scheduled opening",
                                          _ref("Election"), errors=(401, 403, 404, 409),
                                          auth=True, tag="officials")},
        e + "/close": {"post": _op("Close: sign the final tree head (frozen board)",
                                   _ref("Election"), errors=(401, 403, 404, 409), auth=True,
                                   tag="officials")},
        "/openapi.json": {"get": _op("This document", OBJ, errors=(), tag="meta")},
        "/docs": {"get": {"summary": "This document as a human-readable page (Swagger UI, HTML)",
                          "tags": ["meta"], "security": [],
                          "responses": {"200": {"description": "success",
                                                "content": {"text/html": {"schema": {"type": "string"}}}}}}},
    }
    from app.petitions.openapi import PETITION_PATHS

    paths.update(PETITION_PATHS)
    for path, item in paths.items():
        if "{election_id}" in path:
            for op in item.values():
                op.setdefault("parameters", []).insert(0, EID)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Saylau voting API", "version": "1.0.0",
                 "description": "Anonymous-credential e-voting with a Merkle bulletin board. "
                                "Errors are {\"error\": {\"code\", \"message\"}} with a 4xx status."},
        "servers": [{"url": "/api/v1"}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "saylau_session",
                            "description": "browser session; requires the X-CSRFToken header"},
            },
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                    "type": "object", "required": ["code", "message"],
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}},
                "Election": {"type": "object", "properties": {
                    "id": {"type": "string"}, "title": {"type": "string"},
                    "state": {"enum": ["draft", "open", "closed", "tallied"]}, "manifest": OBJ,
                    "opens_at": {"type": ["string", "null"]}, "closes_at": {"type": ["string", "null"]},
                    "revote_policy": {"enum": ["no-revote", "last-counts"]},
                    "credential_policy": {"enum": ["period", "any_time"]},
                    "phase": {"enum": ["draft", "credentials", "voting", "window_closed", "closed",
                                       "tallied"]},
                    "election_public_key": {"type": ["object", "null"]}, "issuer_public_key": OBJ,
                    "board_public_key": HASH, "log_id": {"type": "string"},
                    "fingerprint": {"type": ["string", "null"]},
                    "credentials_issued": {"type": "integer"}, "voters_on_roll": {"type": "integer"},
                    "board_size": {"type": "integer"}, "insecure_test_keys": {"type": "boolean"},
                    "rules": {"type": ["object", "null"], "description":
                              "eq. F1's rules frozen at opening (docs/protocol.md §1.4): "
                              "revote_policy, time_granularity_s, voting_window {opens_at, "
                              "closes_at} in ms (closes_at null = until closed)"}}},
                "CastRequest": {"type": "object", "required": ["credential", "ballot", "signature"],
                                "properties": {"credential": OBJ, "ballot": OBJ,
                                               "signature": {"type": "string",
                                                             "pattern": "^[0-9a-f]{128}$"}}},
                "SignedTreeHead": {"type": "object", "properties": {
                    "log_id": {"type": "string"}, "tree_size": {"type": "integer"},
                    "root_hash": HASH, "timestamp": {"type": "integer"}, "signature": HEX}},
                "InclusionProof": {"type": "object", "properties": {
                    "leaf_index": {"type": "integer"}, "tree_size": {"type": "integer"},
                    "path": {"type": "array", "items": HASH}}},
                "ConsistencyProof": {"type": "object", "properties": {
                    "old_size": {"type": "integer"}, "new_size": {"type": "integer"},
                    "path": {"type": "array", "items": HASH}}},
                "Receipt": {"type": "object", "required": ["tracker", "index", "leaf_hash",
                                                           "inclusion_proof", "tree_head"],
                            "properties": {"election_id": {"type": "string"}, "tracker": HASH,
                                           "index": {"type": "integer"}, "leaf_hash": HASH,
                                           "inclusion_proof": _ref("InclusionProof"),
                                           "tree_head": _ref("SignedTreeHead")}},
                "BoardEntry": {"type": "object", "properties": {
                    "index": {"type": "integer"}, "kind": {"enum": ["ballot", "audited"]},
                    "tracker": HASH, "leaf_hash": HASH, "superseded": {"type": "boolean"},
                    "superseded_by": {"type": ["integer", "null"]}, "entry": OBJ}},
            },
        },
    }
