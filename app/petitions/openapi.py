"""OpenAPI 3.1 path items of ``/api/v1/petitions`` (merged into :mod:`app.openapi`)."""

from __future__ import annotations

from typing import Any

OBJ: dict[str, Any] = {"type": "object"}
ERR = {"$ref": "#/components/schemas/Error"}
PID = {"name": "petition_id", "in": "path", "required": True, "schema": {"type": "integer"}}


def _op(summary: str, *, status: str = "200", body: dict[str, Any] | None = None,
        errors: tuple[int, ...] = (400, 404), auth: bool = False,
        params: list[dict[str, Any]] | None = None, csv: bool = False) -> dict[str, Any]:
    content: dict[str, Any] = {"application/json": {"schema": OBJ}}
    if csv:
        content["text/csv"] = {"schema": {"type": "string"}}
    op: dict[str, Any] = {"summary": summary, "tags": ["petitions"],
                          "responses": {status: {"description": "success", "content": content}}}
    for code in errors:
        op["responses"][str(code)] = {"description": "error",
                                      "content": {"application/json": {"schema": ERR}}}
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    op["security"] = [{"bearer": []}, {"session": []}] if auth else []
    op["parameters"] = list(params or [])
    return op


def _q(name: str, schema: dict[str, Any], desc: str = "") -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": desc, "schema": schema}


def _obj(*required: str) -> dict[str, Any]:
    return {"type": "object", "required": list(required)}


LIST_PARAMS = [
    _q("state", {"enum": ["open", "awaiting_response", "responded", "debated", "closed", "rejected"]}),
    _q("q", {"type": "string"}, "words in the title"),
    _q("sort", {"enum": ["signatures", "date"]}),
    _q("page", {"type": "integer", "minimum": 1}),
    _q("per_page", {"type": "integer", "minimum": 1, "maximum": 100}),
    _q("format", {"enum": ["json", "csv"]}),
]
MOD = (400, 401, 403, 404, 409)
P = "/petitions/{petition_id}"

PETITION_PATHS: dict[str, Any] = {
    "/petitions": {
        "get": _op("Public petitions (open data; ?format=csv)", params=LIST_PARAMS, csv=True, errors=(400,)),
        "post": _op("Create a draft (confirmed citizen); returns the sponsor share token",
                    status="201", auth=True, errors=(400, 401, 403, 415),
                    body={"type": "object", "required": ["title", "action"], "properties": {
                        "title": {"type": "string"}, "action": {"type": "string"},
                        "background": {"type": "string"}, "details": {"type": "string"},
                        "regions": {"type": "array", "items": {"type": "string"}},
                        "translations": {"type": "object", "description":
                                         "display-only {title|action: {kk|ru|en: text}}, not "
                                         "fingerprinted (docs/protocol.md §7.2)"}}}),
    },
    "/petitions.csv": {"get": _op("Public petitions as CSV", params=LIST_PARAMS, csv=True, errors=(400,))},
    "/petitions/regions": {"get": _op("The default region list", errors=())},
    "/petitions/similar": {"get": _op("Duplicate search over open petitions' titles",
                                      params=[_q("q", {"type": "string"})], errors=(400,))},
    "/petitions/confirm-email": {"post": _op("Mail a confirmation link (confirmed by POST)",
                                             status="202", auth=True, errors=(401, 429))},
    "/petitions/confirm-email/confirm": {"post": _op("Confirm the e-mail token", body=_obj("token"),
                                                     errors=(400, 415))},
    "/petitions/moderation/queue": {"get": _op("Petitions awaiting moderation", auth=True, errors=(401, 403))},
    "/petitions/flags": {"get": _op("Silent fraud flags (moderator)", auth=True, errors=(400, 401, 403),
                                    params=[_q("status", {"enum": ["open", "dismissed", "invalidated", "all"]})])},
    "/petitions/flags/{flag_id}/dismiss": {"post": _op("Dismiss a flag", auth=True, errors=MOD, params=[
        {"name": "flag_id", "in": "path", "required": True, "schema": {"type": "integer"}}])},
    P: {"get": _op("A petition: state, counts, thresholds, response, region results, keys",
                   params=[PID, _q("format", {"enum": ["json", "csv"]})], csv=True),
        "patch": _op("Edit a draft (creator)", auth=True, errors=MOD, params=[PID], body=OBJ)},
    P + ".csv": {"get": _op("A petition as CSV", params=[PID], csv=True)},
    P + "/submit": {"post": _op("draft → collecting_sponsors", auth=True, errors=MOD, params=[PID])},
    P + "/share-link": {"post": _op("New sponsor link (creator)", auth=True, errors=MOD, params=[PID])},
    P + "/sponsors": {"post": _op("Sponsor with the share token", status="201", auth=True, errors=MOD,
                                  params=[PID], body=_obj("token"))},
    P + "/moderation": {"post": _op("Approve or reject with a coded reason (moderator)", auth=True,
                                    errors=MOD, params=[PID], body={
                                        "type": "object", "required": ["decision"], "properties": {
                                            "decision": {"enum": ["approve", "reject"]},
                                            "reason_code": {"enum": ["duplicate", "not_responsibility",
                                                                     "offensive", "unclear",
                                                                     "already_exists", "other"]},
                                            "note": {"type": "string"}}})},
    P + "/election-key": {"post": _op("Set the threshold public key before opening (moderator)",
                                      auth=True, errors=MOD, params=[PID], body=OBJ)},
    P + "/thresholds": {"post": _op("Set response/debate thresholds (moderator)", auth=True,
                                    errors=MOD, params=[PID], body=OBJ)},
    P + "/response": {"post": _op("Publish the government's response (moderator)", auth=True,
                                  errors=MOD, params=[PID], body=_obj("text"))},
    P + "/debate": {"post": _op("Record the debate outcome (moderator)", auth=True, errors=MOD,
                                params=[PID], body=_obj("text"))},
    P + "/close": {"post": _op("Close: final tree head, last count, region tally request", auth=True,
                               errors=MOD, params=[PID])},
    P + "/credential": {"post": _op("Blind-sign the signing credential (once per citizen)", status="201",
                                    auth=True, errors=(400, 401, 403, 404, 409, 429), params=[PID],
                                    body=_obj("blinded_message"))},
    P + "/signatures": {"post": _op("Sign anonymously; returns the receipt after commit", status="201",
                                    errors=(400, 403, 404, 409, 415, 429), params=[PID],
                                    body=_obj("credential", "signature", "ed25519_signature"))},
    P + "/issuance": {"get": _op("Credential issuance register (count, pseudonymous receipts)", params=[PID])},
    P + "/board": {"get": _op("Board entries", params=[PID, _q("start", {"type": "integer"}),
                                                         _q("limit", {"type": "integer"})])},
    P + "/tree-head": {"get": _op("Latest signed tree head", params=[PID])},
    P + "/inclusion/{index}": {"get": _op("Inclusion proof", params=[
        PID, {"name": "index", "in": "path", "required": True, "schema": {"type": "integer"}},
        _q("tree_size", {"type": "integer"})])},
    P + "/consistency": {"get": _op("Consistency proof", params=[PID, _q("old", {"type": "integer"}),
                                                                 _q("new", {"type": "integer"})])},
    P + "/results": {"get": _op("Latest decrypted by-region results (JSON download)", params=[PID])},
    P + "/record.zip": {"get": {
        "summary": "The verifiable petition record (.zip; check it with `saylau verify`), "
                   "published once a region tally has been decrypted",
        "tags": ["petitions"], "security": [], "parameters": [PID],
        "responses": {
            "200": {"description": "the record (docs/election-record.md, Petition records)",
                    "content": {"application/zip": {"schema": {"type": "string",
                                                               "format": "binary"}}}},
            **{str(code): {"description": "error", "content": {"application/json": {"schema": ERR}}}
               for code in (404, 409)}}}},
    P + "/tallies": {"get": _op("Region tallies with partial decryptions", params=[PID]),
                     "post": _op("Request a region tally (moderator)", status="201", auth=True,
                                 errors=MOD, params=[PID])},
    P + "/tallies/{tally_id}": {"get": _op("One region tally", params=[
        PID, {"name": "tally_id", "in": "path", "required": True, "schema": {"type": "integer"}}])},
    P + "/tallies/{tally_id}/partials": {"post": _op(
        "Post a trustee's partial decryption with its proof (trustee)", status="201", auth=True,
        errors=MOD, body=_obj("partial"), params=[
            PID, {"name": "tally_id", "in": "path", "required": True, "schema": {"type": "integer"}}])},
    P + "/flags": {"post": _op("Flag a board entry for review (moderator)", status="201", auth=True,
                               errors=MOD, params=[PID], body=_obj("board_index"))},
    P + "/invalidations": {"post": _op("Invalidate a signature: appends an invalidation entry",
                                       status="201", auth=True, errors=MOD, params=[PID],
                                       body=_obj("target_index", "reason_code"))},
}
