"""``saylau trustee keygen``: distributed key generation over the service's relay (§4.7).

Each trustee runs, on their own machine and logged in as their trustee account::

    saylau trustee keygen --server URL --election ID --run RUN --index i \\
        --trustees n --threshold k [--bits 3072] --email E --password-file F \\
        [--passphrase-file P] --out DIR

It prints this trustee's key fingerprint (compare it with every other trustee out of
band: the relay could otherwise substitute keys), runs the protocol, and writes
``DIR/election-public-key.json``, ``DIR/trustee-<i>.share.json`` (sealed, format
``saylau-trustee-share/v1``) and ``DIR/keygen-transcript.json``; it then uploads the
transcript, which the service verifies and adopts as the election key.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

from crypto.dkg.channel import Channel, Identity
from crypto.dkg.errors import DkgError
from crypto.dkg.params import DkgParams
from crypto.dkg.protocol import DkgParty, DkgResult
from crypto.errors import CryptoError
from crypto.keyfile import KdfParams, encrypt_share
from saylau.cmd_verify import UsageError


class HttpRelay:
    """:class:`crypto.dkg.channel.Relay` over ``/api/v1/elections/<id>/keygen/<run>``."""

    def __init__(self, client: Any, election: str, run: str) -> None:
        self.client = client
        self.base = (f"/api/v1/elections/{urllib.parse.quote(election, safe='')}/keygen/"
                     f"{urllib.parse.quote(run, safe='')}/messages")

    def post(self, round_name: str, sender: int, recipient: int, envelope: bytes) -> None:
        self.client.api("POST", self.base, {"round": round_name, "sender": sender,
                                            "recipient": recipient,
                                            "envelope": envelope.decode("utf-8")})

    def fetch(self, round_name: str, recipient: int,
              senders: list[int] | None = None) -> list[tuple[int, int, bytes]]:
        params: dict[str, Any] = {"round": round_name, "recipient": recipient}
        if senders is not None:
            params["senders"] = ",".join(map(str, senders))
        query = urllib.parse.urlencode(params)
        data = self.client.api("GET", f"{self.base}?{query}")
        return [(int(m["sender"]), int(m["recipient"]), str(m["envelope"]).encode("utf-8"))
                for m in data.get("messages", [])]


def run_trustee(client: Any, *, election: str, run: str, index: int, params: DkgParams,
                progress: Any = None, party_class: type[DkgParty] | None = None,
                timeout: float = 600.0, upload: bool = True,
                show_fingerprint: Any = None) -> DkgResult:
    """One trustee's whole run over an authenticated :class:`VoterClient`."""
    identity = Identity.generate(index)
    if show_fingerprint is not None:
        show_fingerprint(identity.entry().fingerprint())
    channel = Channel(identity, HttpRelay(client, election, run), election=election, run=run,
                      timeout=timeout)
    cls = party_class or DkgParty
    result = cls(params, identity, channel, progress=progress).run()
    if upload:
        client.api("POST", f"/api/v1/elections/{urllib.parse.quote(election, safe='')}"
                           "/keygen/transcript", {"transcript": result.transcript})
    return result


def add_keygen_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--server", required=True)
    parser.add_argument("--election", required=True)
    parser.add_argument("--run", default="main", help="run id (the same for every trustee)")
    parser.add_argument("--index", type=int, required=True, help="this trustee's number 1..n")
    parser.add_argument("--trustees", type=int, required=True)
    parser.add_argument("--threshold", type=int, required=True)
    parser.add_argument("--bits", type=int, default=3072)
    parser.add_argument("--email", required=True, help="the trustee's account")
    parser.add_argument("--password-file", type=Path, required=True)
    parser.add_argument("--passphrase-file", type=Path, help="seals the share file")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--test-key", action="store_true", help="allow moduli below 2048 bits")
    parser.add_argument("--kdf-fast", action="store_true", help="tests only")
    parser.add_argument("--batch", type=int, default=0,
                        help="sieve candidates per round (0: sized to the relay's limit)")
    parser.add_argument("--timeout", type=float, default=1800.0,
                        help="seconds to wait for the other trustees in any round")


def keygen(args: argparse.Namespace) -> int:
    from saylau.cmd_trustee import _passphrase
    from saylau.voter_client import VoterClient, VoterClientError

    try:
        params = DkgParams(args.bits, args.trustees, args.threshold, args.batch,
                           allow_test_key=args.test_key)
    except DkgError as exc:
        raise UsageError(str(exc)) from exc
    if not 1 <= args.index <= args.trustees:
        raise UsageError("--index must be 1..trustees")
    try:
        password = args.password_file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise UsageError(f"cannot read {args.password_file}: {exc.strerror}") from exc
    args.out.mkdir(parents=True, exist_ok=True)
    targets = [args.out / "election-public-key.json", args.out / f"trustee-{args.index}.share.json",
               args.out / "keygen-transcript.json"]
    for path in targets:
        if path.exists():
            raise UsageError(f"{path} exists; refusing to overwrite")
    passphrase = _passphrase(args.passphrase_file)
    client = VoterClient(args.server)
    started = time.monotonic()
    try:
        client.login(args.email, password)
        result = run_trustee(
            client, election=args.election, run=args.run, index=args.index, params=params,
            progress=lambda text: print(text, file=sys.stderr), timeout=args.timeout,
            show_fingerprint=lambda fp: print(f"trustee {args.index} key fingerprint: {fp}\n"
                                              "compare it with the other trustees out of band",
                                              file=sys.stderr))
    except (VoterClientError, CryptoError) as exc:
        print(f"saylau trustee keygen: FAIL: {exc}", file=sys.stderr)
        return 1
    kdf = KdfParams(time_cost=1, memory_cost=8, parallelism=1) if args.kdf_fast else None
    sealed = encrypt_share(result.share, passphrase, kdf=kdf)
    targets[0].write_text(json.dumps(result.public_key.to_json(), indent=1) + "\n")
    targets[1].touch(mode=0o600)
    targets[1].write_text(json.dumps(sealed, indent=1) + "\n")
    targets[2].write_text(json.dumps(result.transcript, indent=1) + "\n")
    print(f"OK: {params.bits}-bit key, {params.threshold} of {params.trustees}, "
          f"{result.candidates} candidates tried, {time.monotonic() - started:.0f} s; "
          f"fingerprint {result.public_key.fingerprint().hex()}")
    return 0
