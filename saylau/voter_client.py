"""The Python voter client library (stdlib ``urllib`` only; no Flask, no SQLAlchemy).

Everything secret stays on the voter's device: the ballot key, the blinding state and
the plaintext choices.  The server sees a blinded message (when authenticated) and,
later and anonymously, a credential with an encrypted, proven ballot.

    client = VoterClient("https://vote.example.org")
    client.login(email, password)
    election = client.get_election("demo-2026")          # recomputes the fingerprint
    wallet = client.obtain_credential(election)           # blind RFC 9474 issuance
    receipt = client.cast(election, wallet, {"q1": ["a"], "q2": ["yes"]})
    client.check_receipt(receipt)                         # later: consistency with the board

A simulator can pass ``transport=`` to talk to a Flask test client instead of HTTP.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import pkcs12

from crypto.ballot import EncryptedBallot, encrypt_ballot, tracker_of, verify_audited_ballot
from crypto.blind_rsa import IssuerPublicKey
from crypto.credentials import (
    Credential,
    ballot_public_key_bytes,
    begin_credential,
    finish_credential,
    generate_ballot_key,
    sign_payload,
    verify_credential,
)
from crypto.election import Manifest, election_fingerprint
from crypto.encoding import canonical_json, hex_to_bytes
from crypto.errors import CryptoError
from crypto.merkle import ConsistencyProof, InclusionProof, leaf_hash
from crypto.roll import (
    CredentialRequest,
    RollCommitment,
    RollEntry,
    check_roll,
    sign_request,
    spki_der,
)
from crypto.threshold import ThresholdPublicKey
from crypto.tree_head import (
    SignedTreeHead,
    verify_receipt_inclusion,
    verify_tree_head,
    verify_tree_head_consistency,
)

USER_AGENT = "saylau-voter-client/1"
#: (method, path-with-query, JSON body or None, headers) -> (status, response bytes)
Transport = Callable[[str, str, bytes | None, dict[str, str]], tuple[int, bytes]]


class VoterClientError(Exception):
    """Any failure of the voter side, with a message fit for the command line."""


class ServerError(VoterClientError):
    """The server answered with an error (``status`` and its ``code``)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"server refused ({status} {code}): {message}")
        self.status = status
        self.code = code


@dataclass(frozen=True)
class ElectionInfo:
    """A fetched election whose fingerprint was recomputed and matched."""

    election_id: str
    manifest: Manifest
    election_key: ThresholdPublicKey
    issuer_key: IssuerPublicKey
    board_public_key: bytes
    log_id: str
    fingerprint: bytes
    revote_policy: str
    state: str
    raw: dict[str, Any]


@dataclass(frozen=True)
class Wallet:
    """What the voter keeps to cast (and revote): the credential and its ballot key."""

    credential: Credential
    ballot_key: Ed25519PrivateKey

    def to_json(self) -> dict[str, Any]:
        from cryptography.hazmat.primitives.serialization import (
            Encoding,
            NoEncryption,
            PrivateFormat,
        )

        seed = self.ballot_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return {"credential": self.credential.to_json(), "ballot_private_key": seed.hex()}

    @classmethod
    def from_json(cls, obj: object) -> Wallet:
        if not isinstance(obj, dict):
            raise VoterClientError("credential file: expected a JSON object")
        try:
            credential = Credential.from_json(obj.get("credential"))
            seed = hex_to_bytes(obj.get("ballot_private_key"), "ballot_private_key", 32)
        except CryptoError as exc:
            raise VoterClientError(f"credential file is malformed: {exc}") from exc
        key = Ed25519PrivateKey.from_private_bytes(seed)
        if ballot_public_key_bytes(key) != credential.ballot_public_key:
            raise VoterClientError("credential file: the ballot key does not match the credential")
        return cls(credential, key)


def _urllib_transport(base_url: str, timeout: float, proxy: str | None = None) -> Transport:
    """HTTP(S) with urllib; through ``proxy`` (an HTTP proxy URL) when given.

    An anonymizing proxy hides the voter's network address from the server when casting
    (docs §"Linkability").  Without ``proxy`` the usual ``http_proxy`` / ``https_proxy``
    environment variables apply.
    """
    if proxy is not None and not proxy.startswith(("http://", "https://")):
        raise VoterClientError(f"proxy URL must start with http:// or https://: {proxy}")
    opener = (urllib.request.build_opener(urllib.request.ProxyHandler({"http": proxy, "https": proxy}))
              if proxy else urllib.request.build_opener())

    def send(method: str, path: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, bytes]:
        url = base_url.rstrip("/") + path
        if not url.startswith(("http://", "https://")):
            raise VoterClientError(f"server URL must start with http:// or https://: {base_url}")
        request = urllib.request.Request(url, data=body, method=method,  # noqa: S310 (scheme checked)
                                         headers={"User-Agent": USER_AGENT, **headers})
        try:
            with opener.open(request, timeout=timeout) as response:
                return int(response.status), response.read()
        except urllib.error.HTTPError as exc:
            return int(exc.code), exc.read()
        except (urllib.error.URLError, OSError) as exc:
            raise VoterClientError(f"cannot reach {base_url}: {exc}") from exc

    return send


class VoterClient:
    """The voter's side of the protocol over the ``/api/v1`` JSON API."""

    def __init__(self, base_url: str, *, transport: Transport | None = None,
                 timeout: float = 60.0, proxy: str | None = None, roll_key: Any = None,
                 certificate: bytes | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._send = transport or _urllib_transport(self.base_url, timeout, proxy)
        self.token: str | None = None
        #: the voter's roll signing key: Ed25519 (enrolled-key mode) or the certificate's
        #: RSA/ECDSA key (PKI mode, from a PKCS#12 file); ``certificate``: its DER bytes
        self.roll_key = roll_key
        self.certificate = certificate

    # -- HTTP ---------------------------------------------------------------------------
    def _request(self, method: str, path: str, payload: Any = None, *, auth: bool = False
                 ) -> tuple[int, Any]:
        headers = {"Accept": "application/json"}
        body = None
        if payload is not None:
            body = json.dumps(payload).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if auth:
            if self.token is None:
                raise VoterClientError("log in first")
            headers["Authorization"] = f"Bearer {self.token}"
        status, raw = self._send(method, path, body, headers)
        try:
            data = json.loads(raw.decode("utf-8")) if raw else None
        except (UnicodeDecodeError, ValueError) as exc:
            raise VoterClientError(f"{method} {path}: the server sent no JSON ({status})") from exc
        if status >= 400:
            err = data.get("error", {}) if isinstance(data, dict) else {}
            raise ServerError(status, str(err.get("code", "error")),
                              str(err.get("message", "no message")))
        return status, data

    def api(self, method: str, path: str, payload: Any = None) -> Any:
        """An authenticated JSON call (officials' and trustees' tools use it)."""
        return self._request(method, path, payload, auth=True)[1]

    def download(self, path: str) -> bytes:
        """Raw bytes of a public GET (e.g. the record .zip)."""
        status, raw = self._send("GET", path, None, {"Accept": "*/*"})
        if status >= 400:
            raise ServerError(status, "download_failed", f"GET {path} answered {status}")
        return raw

    def _get(self, path: str) -> Any:
        return self._request("GET", path)[1]

    @staticmethod
    def _eid(election_id: str) -> str:
        return urllib.parse.quote(election_id, safe="")

    # -- steps --------------------------------------------------------------------------
    def login(self, email: str, password: str) -> None:
        _, data = self._request("POST", "/api/v1/auth/login", {"email": email, "password": password})
        if not isinstance(data, dict) or not isinstance(data.get("token"), str):
            raise VoterClientError("login: malformed answer")
        self.token = data["token"]

    def audit_ballot(self, election: ElectionInfo, wallet: Wallet,
                     choices: Mapping[str, Collection[str]]) -> dict[str, Any]:
        """Benaloh "check this encryption": encrypt, reveal, check locally, post as audited.

        The audited ballot is never cast; a fresh encryption must follow.  Returns the
        choices the revealed randomness decodes to and the server's answer.
        """
        self.check_choices(election, choices)
        ballot, secrets_ = encrypt_ballot(election.election_key.public, election.manifest,
                                          election.fingerprint, wallet.credential.token_id,
                                          choices)
        decoded = verify_audited_ballot(election.election_key.public, election.manifest, ballot,
                                        secrets_)
        _, data = self._request(
            "POST", f"/api/v1/elections/{self._eid(election.election_id)}/audited-ballots",
            {"ballot": ballot.to_json(), "secrets": secrets_.to_json()})
        return {"decoded": decoded, "board": data}

    def upload_partials(self, election_id: str, partials: Any) -> dict[str, Any]:
        """A trustee's partial decryptions (``tally.decrypt.TrusteePartials`` JSON)."""
        _, data = self._request(
            "POST", f"/api/v1/elections/{self._eid(election_id)}/partial-decryptions", partials,
            auth=True)
        return data if isinstance(data, dict) else {}

    def get_election(self, election_id: str) -> ElectionInfo:
        """Fetch the election and recompute its fingerprint from the published parts."""
        data = self._get(f"/api/v1/elections/{self._eid(election_id)}")
        try:
            manifest = Manifest.from_json(data["manifest"])
            election_key = ThresholdPublicKey.from_json(data["election_public_key"])
            issuer_key = IssuerPublicKey.from_json(data["issuer_public_key"])
            board_pk = hex_to_bytes(data["board_public_key"], "board_public_key", 32)
            published = hex_to_bytes(data["fingerprint"], "fingerprint", 32)
        except (CryptoError, KeyError, TypeError) as exc:
            raise VoterClientError(f"the election {election_id!r} is not ready or malformed: {exc}") from exc
        if manifest.election_id != election_id or data.get("id") != election_id:
            raise VoterClientError("the server answered for another election")
        rules = data.get("rules")
        try:
            fingerprint = election_fingerprint(manifest, election_key.to_json(),
                                               issuer_key.to_json(), board_pk, data.get("roll"),
                                               rules)
        except (CryptoError, KeyError, TypeError) as exc:
            raise VoterClientError(f"the election {election_id!r} publishes malformed rules: "
                                   f"{exc}") from exc
        if rules is not None and rules.get("revote_policy") != data.get("revote_policy"):
            raise VoterClientError("the published revote policy is not the one the fingerprint "
                                   "binds: do not vote with this server")
        if fingerprint != published:
            raise VoterClientError("the published election fingerprint does not match the "
                                   "manifest and keys: do not vote with this server")
        return ElectionInfo(election_id, manifest, election_key, issuer_key, board_pk,
                            str(data.get("log_id", "")), fingerprint,
                            str(data.get("revote_policy")), str(data.get("state")), data)

    # -- the roll of keys (docs/protocol.md §2.7) -----------------------------------------
    def roll_public_key(self) -> tuple[str, bytes]:
        """``(kind, public key bytes)`` of :attr:`roll_key` as the roll publishes it."""
        if self.roll_key is None:
            raise VoterClientError("no roll key: enroll first (saylau vote enroll) or give "
                                   "--roll-key / --pkcs12")
        if isinstance(self.roll_key, Ed25519PrivateKey):
            return "ed25519", ballot_public_key_bytes(self.roll_key)
        return "x509", spki_der(self.roll_key.public_key())

    def enroll(self, election_id: str) -> dict[str, Any]:
        """Put :attr:`roll_key` (or :attr:`certificate`) on the election's roll (before opening)."""
        kind, public = self.roll_public_key()
        payload: dict[str, Any]
        if kind == "ed25519":
            payload = {"public_key": public.hex()}
        else:
            if self.certificate is None:
                raise VoterClientError("PKI mode needs the certificate (from the PKCS#12 file)")
            payload = {"certificate": base64.b64encode(self.certificate).decode("ascii")}
        _, data = self._request("POST", f"/api/v1/elections/{self._eid(election_id)}/enroll",
                                payload, auth=True)
        return dict(data)

    def check_roll(self, election: ElectionInfo) -> int:
        """Check that our key is on the published roll exactly once and that the roll is the
        one the fingerprint binds; returns our roll index."""
        data = self._get(f"/api/v1/elections/{self._eid(election.election_id)}/roll")
        try:
            entries = [RollEntry.from_json(e) for e in data["entries"]]
            commitment = election.raw.get("roll")
            check_roll(entries, RollCommitment.from_json(commitment) if commitment else None)
        except (CryptoError, KeyError, TypeError) as exc:
            raise VoterClientError(f"the published roll does not check: {exc}") from exc
        _, public = self.roll_public_key()
        mine = [e.index for e in entries if e.public_key == public]
        if len(mine) != 1:
            raise VoterClientError(f"your key is on the published roll {len(mine)} times "
                                   "(expected exactly once): report this to the commission")
        return mine[0]

    def obtain_credential(self, election: ElectionInfo, *, period: str | None = None,
                          retries: int = 2) -> Wallet:
        """Fresh Ed25519 ballot key, blind request (signed with the roll key unless the
        election is in legacy login mode), finalize and verify the credential.

        A lost response is retried with the SAME signed request: the server answers it
        with the stored blind signature (idempotent), never a second credential.
        """
        key = generate_ballot_key()
        blinded, state = begin_credential(election.issuer_key, election.election_id,
                                          ballot_public_key_bytes(key))
        payload: dict[str, Any] = {"blinded_message": blinded.hex()}
        if election.raw.get("credential_mode", "login") != "login":
            index = self.check_roll(election)
            request = CredentialRequest(election.election_id, index, blinded,
                                        period or _dt.datetime.now(_dt.UTC).date().isoformat())
            payload = {"signed_request": sign_request(self.roll_key, request).to_json()}
        path = f"/api/v1/elections/{self._eid(election.election_id)}/credential"
        for attempt in range(retries + 1):
            try:
                _, data = self._request("POST", path, payload, auth=True)
                break
            except ServerError:
                raise
            except (OSError, VoterClientError):
                if attempt == retries:
                    raise
        try:
            blind_sig = hex_to_bytes(data["blind_signature"], "blind_signature")
            credential = finish_credential(election.issuer_key, state, blind_sig)
            verify_credential(election.issuer_key, credential, election.election_id)
        except (CryptoError, KeyError, TypeError) as exc:
            raise VoterClientError(f"the issuer's blind signature does not verify: {exc}") from exc
        return Wallet(credential, key)

    @staticmethod
    def check_choices(election: ElectionInfo, choices: Mapping[str, Collection[str]]) -> None:
        """Check choices against the manifest before anything is requested from the server."""
        questions = {q.id: q for q in election.manifest.questions}
        for qid in choices:
            if qid not in questions:
                raise VoterClientError(f"unknown question {qid!r} (questions: "
                                       f"{', '.join(questions)})")
        for q in election.manifest.questions:
            chosen = set(choices.get(q.id, ()))
            unknown = chosen - set(q.option_ids)
            if unknown:
                raise VoterClientError(f"question {q.id}: unknown option(s) "
                                       f"{', '.join(sorted(unknown))} (options: "
                                       f"{', '.join(q.option_ids)})")
            if not q.min_selections <= len(chosen) <= q.max_selections:
                raise VoterClientError(f"question {q.id}: choose between {q.min_selections} and "
                                       f"{q.max_selections} option(s)")

    def encrypt(self, election: ElectionInfo, wallet: Wallet,
                choices: Mapping[str, Collection[str]]) -> EncryptedBallot:
        """Encrypt and prove locally (the tracker of the result can be shown before casting)."""
        self.check_choices(election, choices)
        try:
            ballot, _secrets = encrypt_ballot(election.election_key.public, election.manifest,
                                              election.fingerprint, wallet.credential.token_id,
                                              choices)
        except CryptoError as exc:
            raise VoterClientError(f"invalid choices: {exc}") from exc
        return ballot

    def cast(self, election: ElectionInfo, wallet: Wallet,
             choices: Mapping[str, Collection[str]] | None = None, *,
             ballot: EncryptedBallot | None = None, delay_s: float = 0.0) -> dict[str, Any]:
        """Sign and cast anonymously, then verify the receipt; returns the receipt document."""
        if ballot is None:
            if choices is None:
                raise VoterClientError("give choices or a ballot")
            ballot = self.encrypt(election, wallet, choices)
        if delay_s > 0:  # decorrelate issuance and casting in time (docs/protocol.md §5.7)
            time.sleep(delay_s)
        ballot_json = ballot.to_json()
        signature = sign_payload(wallet.ballot_key, canonical_json(ballot_json))
        payload = {"credential": wallet.credential.to_json(), "ballot": ballot_json,
                   "signature": signature.hex()}
        eid = self._eid(election.election_id)
        # anonymous: no Authorization header on this request
        _, data = self._request("POST", f"/api/v1/elections/{eid}/ballots", payload)
        receipt = {
            "server": self.base_url,
            "election_id": election.election_id,
            "board_public_key": election.board_public_key.hex(),
            "fingerprint": election.fingerprint.hex(),
            **(data if isinstance(data, dict) else {}),
        }
        self.verify_receipt(receipt, expected_ballot=ballot_json)
        return receipt

    def verify_receipt(self, receipt: Mapping[str, Any],
                       expected_ballot: Mapping[str, Any] | None = None) -> SignedTreeHead:
        """The STH is signed by the board key and the leaf is included; the entry holds our ballot."""
        try:
            board_pk = hex_to_bytes(receipt["board_public_key"], "board_public_key", 32)
            sth = SignedTreeHead.from_json(receipt["tree_head"])
            proof = InclusionProof.from_json(receipt["inclusion_proof"])
            leaf = hex_to_bytes(receipt["leaf_hash"], "leaf_hash", 32)
            tracker = str(receipt["tracker"])
            index = receipt["index"]
            verify_receipt_inclusion(board_pk, sth, leaf, proof)
        except (CryptoError, KeyError, TypeError) as exc:
            raise VoterClientError(f"the receipt does not verify: {exc}") from exc
        if proof.leaf_index != index:
            raise VoterClientError("the receipt's index and inclusion proof disagree")
        if expected_ballot is not None:
            if tracker_of(expected_ballot) != tracker:
                raise VoterClientError("the receipt's tracker is not our ballot's tracker")
            eid = self._eid(str(receipt["election_id"]))
            entry = self._get(f"/api/v1/elections/{eid}/board/{tracker}")
            body = entry.get("entry") if isinstance(entry, dict) else None
            if not isinstance(body, dict) or body.get("ballot") != dict(expected_ballot):
                raise VoterClientError("the board entry does not hold our ballot")
            if leaf_hash(canonical_json(body)).hex() != leaf.hex() or body.get("index") != index:
                raise VoterClientError("the board entry does not hash to the receipt's leaf")
        return sth

    def check_receipt(self, receipt: Mapping[str, Any]) -> SignedTreeHead:
        """Later check: the receipt holds and the board's latest STH is consistent with it."""
        old = self.verify_receipt(receipt)
        board_pk = bytes.fromhex(str(receipt["board_public_key"]))
        eid = self._eid(str(receipt["election_id"]))
        try:
            new = SignedTreeHead.from_json(self._get(f"/api/v1/elections/{eid}/tree-head"))
            verify_tree_head(board_pk, new)
            if new.tree_size < old.tree_size:
                raise VoterClientError("the board shrank since your receipt: report this")
            proof = ConsistencyProof.from_json(self._get(
                f"/api/v1/elections/{eid}/consistency?old={old.tree_size}&new={new.tree_size}"))
            verify_tree_head_consistency(board_pk, old, new, proof)
        except CryptoError as exc:
            raise VoterClientError(f"the board is NOT consistent with your receipt: {exc}") from exc
        return new


# --------------------------------------------------------------------------- roll keys on disk


#: the roll key card: the same JSON file the browser's enrollment page downloads
#: (app/static/js/crypto/roll-key.js) and ``saylau vote --roll-key`` reads
ROLL_KEY_FORMAT = "saylau-roll-key/1"
ROLL_KEY_WARNING = ("SECRET: this file holds the private key that signs your credential "
                    "request. Whoever has it can ask for your credential. Keep it private "
                    "and offline.")


def roll_key_path(server: str, election_id: str, email: str) -> Path:
    """Where ``saylau vote enroll`` keeps the roll key card: the user's own directory, 0600."""
    tag = hashlib.sha256(f"{server.rstrip('/')}|{election_id}|{email.lower()}".encode()).hexdigest()
    return Path.home() / ".saylau" / "roll-keys" / f"{election_id}-{tag[:16]}.json"


def roll_key_card(election_id: str, key: Ed25519PrivateKey,
                  roll_index: int | None = None) -> dict[str, Any]:
    """The roll key card (``saylau-roll-key/1``) of ``key`` for ``election_id``."""
    pkcs8 = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())
    return {"format": ROLL_KEY_FORMAT, "election_id": election_id, "kind": "ed25519",
            "public_key": ballot_public_key_bytes(key).hex(), "private_key_pkcs8": pkcs8.hex(),
            "roll_index": roll_index, "warning": ROLL_KEY_WARNING}


def roll_key_from_card(card: Any, election_id: str | None = None) -> Ed25519PrivateKey:
    """The Ed25519 key of a roll key card (dict or JSON text); checks the format, the
    election (when given) and that the private key matches the card's public key."""
    if isinstance(card, (str, bytes)):
        try:
            card = json.loads(card)
        except ValueError as exc:
            raise VoterClientError("a roll key card is JSON") from exc
    if not isinstance(card, dict) or card.get("format") != ROLL_KEY_FORMAT:
        raise VoterClientError(f"not a roll key card (format {ROLL_KEY_FORMAT})")
    if card.get("kind") != "ed25519":
        raise VoterClientError("only ed25519 roll key cards are supported")
    if election_id is not None and card.get("election_id") != election_id:
        raise VoterClientError(f"this roll key card is for election {card.get('election_id')!r}, "
                               f"not {election_id!r}")
    try:
        key = serialization.load_der_private_key(
            bytes.fromhex(str(card.get("private_key_pkcs8", ""))), password=None)
    except ValueError as exc:
        raise VoterClientError("the card's private_key_pkcs8 is not a PKCS#8 key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise VoterClientError("the card's private key is not an Ed25519 key")
    if ballot_public_key_bytes(key).hex() != card.get("public_key"):
        raise VoterClientError("the card's private key does not match its public key")
    return key


def _write_secret(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def save_roll_key(path: Path, key: Ed25519PrivateKey, election_id: str | None = None,
                  roll_index: int | None = None) -> None:
    """Write the roll key (0600, never over an existing file): the roll key card when
    ``election_id`` is given, else a bare PKCS#8 PEM (read too, for older files)."""
    if election_id is not None:
        card = roll_key_card(election_id, key, roll_index)
        _write_secret(path, (json.dumps(card, indent=2) + "\n").encode())
        return
    _write_secret(path, key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))


def load_roll_key(path: Path, election_id: str | None = None) -> Ed25519PrivateKey:
    """A roll key card (``saylau-roll-key/1``, as the browser downloads it) or a PEM key."""
    data = path.read_bytes()
    if data.lstrip().startswith(b"{"):
        try:
            return roll_key_from_card(data, election_id)
        except VoterClientError as exc:
            raise VoterClientError(f"{path}: {exc}") from exc
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except ValueError as exc:
        raise VoterClientError(f"{path}: neither a roll key card nor a PEM key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise VoterClientError(f"{path}: not an Ed25519 roll key")
    return key


def load_pkcs12(data: bytes, password: bytes | None) -> tuple[Any, bytes]:
    """``(private key, certificate DER)`` from a PKCS#12 file (PKI mode)."""
    try:
        key, cert, _ = pkcs12.load_key_and_certificates(data, password)
    except ValueError as exc:
        raise VoterClientError(f"cannot open the PKCS#12 file: {exc}") from exc
    if key is None or cert is None:
        raise VoterClientError("the PKCS#12 file holds no key and certificate")
    return key, cert.public_bytes(serialization.Encoding.DER)
