"""``saylau trustee petition-*``: a trustee's tools for a petition's by-region tally.

They mirror the election ones (``saylau trustee decrypt`` / ``upload``), but a petition's
board is read from the live service, since the verifiable petition record is published only
after the first decryption:

* ``petition-tallies --server URL --petition ID`` — list the region tallies the moderators
  asked for (tree size, signatures, partials in, decrypted or not);
* ``petition-decrypt --server URL --petition ID [--tally TID] --share FILE
  [--passphrase-file F] --out FILE`` — download the petition's public parameters and keys,
  recompute the fingerprint ``petition_fingerprint(params, election key, issuer key, board
  key)`` and compare it with the published one (and ``--fingerprint`` if given), download the
  board up to the latest signed tree head, check the head's Ed25519 signature and Merkle
  root, verify every entry of the first ``tree_size`` ones (credentials, signatures, region
  proofs, invalidations), recompute the product ``C = ∏ c_j mod n²`` of the counted
  signatures *itself*, and only if ``C`` and the count equal the tally's, write this
  trustee's partial decryption ``c_i = C^(2Δ·s_i)`` with its proof (threshold T5, T6);
* ``petition-upload --server URL --petition ID --partial FILE --email E --password-file F``
  — log in as a trustee and post it; the service checks the proof and publishes the
  by-region counts once ``k`` are in.

Exit 0 success, 1 a check failed or the service refused, 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from crypto.blind_rsa import IssuerPublicKey
from crypto.encoding import bytes_to_hex
from crypto.errors import CryptoError
from crypto.merkle import entry_leaf_hash, root_hash
from crypto.petition import PetitionParameters, petition_fingerprint
from crypto.threshold import KeyShare, ThresholdPublicKey, check_share
from crypto.tree_head import SignedTreeHead, petition_log_id, verify_tree_head
from saylau.cmd_verify import UsageError, load_json_file
from tally.petition import (
    EncryptedRegionTally,
    PetitionContext,
    trustee_decrypt_regions,
    verify_petition_board,
)

#: the file ``petition-decrypt`` writes and ``petition-upload`` (and the trustee page) read
PARTIAL_FORMAT = "saylau-petition-partial/v1"
PAGE = 500


def add_subcommands(sub: Any) -> None:
    """Add the ``petition-*`` subcommands to ``saylau trustee``'s sub-parsers."""
    ls = sub.add_parser("petition-tallies", help="list a petition's region tallies")
    ls.add_argument("--server", required=True, help="e.g. http://127.0.0.1:5000")
    ls.add_argument("--petition", type=int, required=True, help="the petition's number")
    dec = sub.add_parser("petition-decrypt",
                         help="verify a petition's board and partially decrypt its region tally")
    dec.add_argument("--server", required=True)
    dec.add_argument("--petition", type=int, required=True)
    dec.add_argument("--tally", type=int, help="tally id (default: the newest not yet decrypted)")
    dec.add_argument("--share", type=Path, required=True)
    dec.add_argument("--passphrase-file", type=Path)
    dec.add_argument("--fingerprint", help="the petition fingerprint you expect (hex)")
    dec.add_argument("--out", type=Path, required=True, help="where to write the partial JSON")
    up = sub.add_parser("petition-upload", help="upload a petition partial decryption")
    up.add_argument("--server", required=True)
    up.add_argument("--petition", type=int, required=True)
    up.add_argument("--partial", type=Path, required=True)
    up.add_argument("--email", required=True, help="the trustee's account")
    up.add_argument("--password-file", type=Path, required=True)


def _client(server: str) -> Any:
    from saylau.voter_client import VoterClient

    return VoterClient(server)


def _tallies(client: Any, pid: int) -> list[dict[str, Any]]:
    data = client._get(f"/api/v1/petitions/{pid}/tallies")
    tallies = data.get("tallies") if isinstance(data, dict) else None
    if not isinstance(tallies, list):
        raise UsageError("the service sent no tally list")
    return [t for t in tallies if isinstance(t, dict)]


def _list(args: argparse.Namespace) -> int:
    client = _client(args.server)
    info = client._get(f"/api/v1/petitions/{args.petition}")
    tpk = info.get("election_public_key") or {}
    k = tpk.get("threshold", "?") if isinstance(tpk, dict) else "?"
    rows = _tallies(client, args.petition)
    if not rows:
        print(f"petition {args.petition}: no region tally requested yet")
    for t in rows:
        enc = t.get("encrypted", {})
        state = "decrypted" if t.get("results") else f"{len(t.get('partials', []))}/{k} partials"
        print(f"tally {t.get('id')}: {enc.get('count')} signatures over {enc.get('tree_size')} "
              f"board entries ({t.get('reason')}); {state}")
    return 0


def _board(client: Any, pid: int, size: int) -> list[Any]:
    entries: list[Any] = []
    while len(entries) < size:
        page = client._get(f"/api/v1/petitions/{pid}/board?start={len(entries)}&limit={PAGE}")
        got = page.get("entries") if isinstance(page, dict) else None
        if not isinstance(got, list) or not got:
            raise UsageError(f"the board ends at {len(entries)} entries, the tree head says {size}")
        entries.extend(item.get("entry") if isinstance(item, dict) else None for item in got)
    return entries[:size]


def decrypt(client: Any, pid: int, tally_id: int | None, load_share: Callable[[], KeyShare],
            expected_fp: str | None) -> tuple[dict[str, Any], str]:
    """Verify and decrypt; returns the partial file's JSON and a one-line summary.

    ``load_share`` opens the trustee's share (asking for the passphrase) only after every
    check passed.  Raises :class:`CheckFailed` when a check fails (nothing is decrypted then).
    """
    info = client._get(f"/api/v1/petitions/{pid}")
    if not isinstance(info, dict) or not info.get("election_public_key"):
        raise CheckFailed("the petition has no election key (not opened?)")
    try:
        params = PetitionParameters.from_json(info["parameters"])
        tpk = ThresholdPublicKey.from_json(info["election_public_key"])
        issuer = IssuerPublicKey.from_json(info["issuer_public_key"])
        board_key = bytes.fromhex(str(info["board_public_key"]))
        fp = petition_fingerprint(params, info["election_public_key"], info["issuer_public_key"],
                                  board_key)
    except (CryptoError, KeyError, TypeError, ValueError) as exc:
        raise CheckFailed(f"the petition's public data is malformed: {exc}") from exc
    if bytes_to_hex(fp) != info.get("fingerprint"):
        raise CheckFailed("the published fingerprint is not the hash of the published parameters and keys")
    if expected_fp is not None and expected_fp.lower() != bytes_to_hex(fp):
        raise CheckFailed("the petition fingerprint differs from the one you expected")
    if params.petition_id != f"petition:{pid}":
        raise CheckFailed("the parameters are for another petition")
    rows = _tallies(client, pid)
    if tally_id is None:
        waiting = [t for t in rows if not t.get("results")]
        if not waiting:
            raise CheckFailed("no region tally is waiting for decryption")
        chosen = waiting[-1]
    else:
        matching = [t for t in rows if t.get("id") == tally_id]
        if not matching:
            raise CheckFailed(f"the petition has no tally {tally_id}")
        chosen = matching[0]
    try:
        et = EncryptedRegionTally.from_json(chosen.get("encrypted"))
        head = SignedTreeHead.from_json(client._get(f"/api/v1/petitions/{pid}/tree-head"))
        if head.log_id != petition_log_id(pid):
            raise CheckFailed("the signed tree head is for another log")
        verify_tree_head(board_key, head)
    except CryptoError as exc:
        raise CheckFailed(f"signed tree head: {exc}") from exc
    if et.petition_id != params.petition_id:
        raise CheckFailed("the tally is for another petition")
    if head.tree_size < et.tree_size:
        raise CheckFailed(f"the latest signed tree head covers {head.tree_size} entries, "
                          f"fewer than the tally's {et.tree_size}")
    entries = _board(client, pid, head.tree_size)
    try:
        root = root_hash([entry_leaf_hash(e) for e in entries])
    except (CryptoError, TypeError, ValueError) as exc:
        raise CheckFailed(f"board entry not canonical JSON: {exc}") from exc
    if root != head.root_hash:
        raise CheckFailed("the board's Merkle root differs from the signed tree head's")
    ctx = PetitionContext(params, tpk.public, issuer, fp)
    result = verify_petition_board(ctx, entries[:et.tree_size])
    if not result.ok:
        raise CheckFailed("board checks failed: " + "; ".join(str(p) for p in result.problems[:10]))
    if result.count != et.count or result.product != et.c:
        raise CheckFailed(f"the tally does not match the board: recomputed {result.count} counted "
                          f"signatures and their product; the service says {et.count}")
    share = load_share()
    if share.public != tpk:
        raise CheckFailed("your share is not for this petition's election key")
    try:
        check_share(share)
        partial = trustee_decrypt_regions(share, et, fingerprint=fp)
    except CryptoError as exc:
        raise CheckFailed(str(exc)) from exc
    doc = {"format": PARTIAL_FORMAT, "petition_id": pid, "tally_id": chosen["id"],
           "encrypted": et.to_json(), "partial": partial.to_json()}
    summary = (f"trustee {share.index} decrypted tally {chosen['id']} of petition {pid}: "
               f"{et.count} signatures over {et.tree_size} board entries, all verified")
    return doc, summary


class CheckFailed(Exception):
    """A check of the petition's board or keys failed: nothing was decrypted."""


def _decrypt(args: argparse.Namespace, load_share: Callable[[Path, Path | None], KeyShare]) -> int:
    from saylau.voter_client import VoterClientError

    try:
        doc, summary = decrypt(_client(args.server), args.petition, args.tally,
                               lambda: load_share(args.share, args.passphrase_file), args.fingerprint)
    except (CheckFailed, VoterClientError) as exc:
        print(f"FAIL: {exc}", file=sys.stderr)
        return 1
    try:
        args.out.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {args.out}: {exc.strerror}") from exc
    print(f"OK: {summary} -> {args.out}")
    return 0


def _upload(args: argparse.Namespace) -> int:
    from saylau.voter_client import VoterClientError

    doc = load_json_file(args.partial, "partial")
    if not isinstance(doc, dict) or doc.get("format") != PARTIAL_FORMAT:
        raise UsageError(f"{args.partial}: not a {PARTIAL_FORMAT} file (made by petition-decrypt)")
    if doc.get("petition_id") != args.petition:
        raise UsageError(f"{args.partial} is for petition {doc.get('petition_id')}, not {args.petition}")
    try:
        password = args.password_file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise UsageError(f"cannot read {args.password_file}: {exc.strerror}") from exc
    client = _client(args.server)
    try:
        client.login(args.email, password)
        out = client.api("POST", f"/api/v1/petitions/{args.petition}/tallies/{doc.get('tally_id')}/partials",
                         {"partial": doc.get("partial")})
    except VoterClientError as exc:
        print(f"saylau trustee petition-upload: refused: {exc}", file=sys.stderr)
        return 1
    if isinstance(out, dict) and out.get("results"):
        counts = out["results"].get("counts", {})
        print(f"OK: uploaded; the by-region counts are published ({sum(counts.values())} signatures)")
    else:
        n = len(out.get("partials", [])) if isinstance(out, dict) else "?"
        print(f"OK: uploaded ({n} partial decryptions in; waiting for more trustees)")
    return 0


def run(args: argparse.Namespace, load_share: Callable[[Path, Path | None], KeyShare]) -> int:
    """Dispatch a ``petition-*`` action (usage errors are reported by ``saylau trustee``).

    ``load_share`` is :func:`saylau.cmd_trustee.load_share` (passed in: no import cycle).
    """
    if args.action == "petition-tallies":
        from saylau.voter_client import VoterClientError

        try:
            return _list(args)
        except VoterClientError as exc:
            print(f"FAIL: {exc}", file=sys.stderr)
            return 1
    if args.action == "petition-decrypt":
        return _decrypt(args, load_share)
    return _upload(args)
