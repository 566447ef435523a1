"""Signed, end-to-end encrypted envelopes between trustees over an untrusted relay (§4.7.3).

Envelope (JSON, carried by the relay as opaque bytes)::

    {"h": header, "b": base64(body), "s": hex(Ed25519 signature)}

``header = {protocol, sid, election, run, round, sender, recipient, seq, body_hash,
eph, nonce}``; ``recipient = 0`` is a broadcast (``body`` = the plaintext, ``eph`` and
``nonce`` empty).  For a private message (E1–E3):

* E1 ``eph`` fresh X25519 key; ``K = HKDF-SHA256(X25519(eph, dh_recipient), salt = ∅,
  info = "saylau/v1/dkg-envelope" ‖ eph_pub ‖ dh_recipient_pub)``, 32 bytes;
* E2 ``body = ChaCha20-Poly1305(K, nonce (12 random bytes), plaintext,
  AAD = canonical_json(header))``;
* E3 ``body_hash = SHA-256(plaintext)`` (the plaintext starts with 16 random bytes), so
  a recipient can later *reveal* the plaintext and anyone can check it against the
  sender's signature (complaints, D12).

The signature is ``Ed25519(sign_key, "saylau/v1/dkg-envelope" ‖ 0x00 ‖
canonical_json(header) ‖ body)``.  A receiver checks the signature under the sender's
roster key, ``sid``/``election``/``run``/``round``/``recipient``, and that ``seq`` is larger
than every earlier ``seq`` it accepted from that sender; anything else names the sender.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from crypto.dkg.errors import DkgTimeout, InvalidEnvelope, ReplayedMessage
from crypto.encoding import canonical_json
from crypto.errors import InvalidEncoding

PROTOCOL = "saylau-dkg/v1"
ENVELOPE_DOMAIN = b"saylau/v1/dkg-envelope"
SEED_DOMAIN = b"saylau/v1/dkg-pair-seed"
SALT_BYTES = 16


class Relay(Protocol):
    """The untrusted message relay (HTTP in production, a dict in unit tests)."""

    def post(self, round_name: str, sender: int, recipient: int, envelope: bytes) -> None: ...

    def fetch(self, round_name: str, recipient: int,
              senders: list[int] | None = None) -> list[tuple[int, int, bytes]]:
        """Every ``(sender, recipient, envelope)`` of ``round_name`` addressed to
        ``recipient`` or broadcast (recipient 0), from ``senders`` if given; never blocks."""
        ...


class MemoryRelay:
    """An in-process relay (unit tests; the protocol does not trust it either)."""

    def __init__(self) -> None:
        self.messages: dict[tuple[str, int, int], bytes] = {}

    def post(self, round_name: str, sender: int, recipient: int, envelope: bytes) -> None:
        self.messages[(round_name, sender, recipient)] = envelope

    def fetch(self, round_name: str, recipient: int,
              senders: list[int] | None = None) -> list[tuple[int, int, bytes]]:
        return [(s, r, e) for (rn, s, r), e in list(self.messages.items())
                if rn == round_name and r in (0, recipient)
                and (senders is None or s in senders)]


def _raw_public(key: Ed25519PublicKey | X25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass(frozen=True)
class RosterEntry:
    """A trustee's public keys for one run: Ed25519 (signing) and X25519 (encryption)."""

    index: int
    sign_key: bytes
    dh_key: bytes

    def fingerprint(self) -> str:
        """``SHA-256(sign_key ‖ dh_key)``, first 16 bytes, in groups of 4 hex digits —
        compared out of band between trustees (the relay could substitute keys)."""
        digest = hashlib.sha256(self.sign_key + self.dh_key).hexdigest()[:32]
        return " ".join(digest[i:i + 4] for i in range(0, 32, 4))

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "sign_key": self.sign_key.hex(), "dh_key": self.dh_key.hex()}

    @classmethod
    def from_json(cls, obj: Any) -> RosterEntry:
        try:
            entry = cls(int(obj["index"]), bytes.fromhex(obj["sign_key"]),
                        bytes.fromhex(obj["dh_key"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidEnvelope(f"malformed roster entry: {exc}") from exc
        if len(entry.sign_key) != 32 or len(entry.dh_key) != 32:
            raise InvalidEnvelope(f"trustee {entry.index}: roster keys must be 32 bytes")
        return entry


@dataclass(frozen=True)
class Identity:
    """A trustee's secret keys for one run (fresh per run; never written to disk)."""

    index: int
    sign: Ed25519PrivateKey = field(repr=False)
    dh: X25519PrivateKey = field(repr=False)

    @classmethod
    def generate(cls, index: int) -> Identity:
        return cls(index, Ed25519PrivateKey.generate(), X25519PrivateKey.generate())

    def entry(self) -> RosterEntry:
        return RosterEntry(self.index, _raw_public(self.sign.public_key()),
                           _raw_public(self.dh.public_key()))


def signed_message(header: dict[str, Any], body: bytes) -> bytes:
    """The bytes an envelope signature covers."""
    return ENVELOPE_DOMAIN + b"\x00" + canonical_json(header) + body


def verify_signature(sign_key: bytes, message: bytes, signature: bytes, who: int) -> None:
    try:
        Ed25519PublicKey.from_public_bytes(sign_key).verify(signature, message)
    except (InvalidSignature, ValueError) as exc:
        raise InvalidEnvelope(f"trustee {who}: bad signature", culprit=who) from exc


def _envelope_key(shared: bytes, eph_pub: bytes, dh_pub: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=ENVELOPE_DOMAIN + eph_pub + dh_pub).derive(shared)


def encode_payload(payload: dict[str, Any]) -> bytes:
    """``16 random bytes ‖ canonical_json(payload)`` (E3: the salt hides the hash)."""
    return secrets.token_bytes(SALT_BYTES) + canonical_json(payload)


def decode_payload(plaintext: bytes, who: int) -> dict[str, Any]:
    try:
        obj = json.loads(plaintext[SALT_BYTES:].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidEnvelope(f"trustee {who}: payload is not JSON", culprit=who) from exc
    if not isinstance(obj, dict):
        raise InvalidEnvelope(f"trustee {who}: payload is not an object", culprit=who)
    return obj


@dataclass(frozen=True)
class Received:
    """An accepted message: its payload, and (private ones) what a complaint reveals."""

    sender: int
    payload: dict[str, Any]
    envelope: bytes
    plaintext: bytes


def open_revealed(envelope: bytes, plaintext: bytes, roster: dict[int, RosterEntry],
                  *, sid: str, round_name: str, sender: int, recipient: int) -> dict[str, Any]:
    """Check a revealed private message (D12): the sender's signature, the header, and
    ``SHA-256(plaintext) = body_hash``.  Raises InvalidEnvelope naming the *revealer*
    (``recipient``) if the reveal does not match what the sender signed."""
    try:
        obj = json.loads(envelope)
        header, body, sig = obj["h"], base64.b64decode(obj["b"]), bytes.fromhex(obj["s"])
        signed = signed_message(header, body)
    except (ValueError, KeyError, TypeError, InvalidEncoding) as exc:
        raise InvalidEnvelope(f"trustee {recipient}: malformed revealed envelope",
                              culprit=recipient) from exc
    try:
        verify_signature(roster[sender].sign_key, signed, sig, sender)
    except InvalidEnvelope as exc:
        raise InvalidEnvelope(f"trustee {recipient}: revealed envelope is not signed by "
                              f"trustee {sender}", culprit=recipient) from exc
    if (header.get("sid"), header.get("round"), header.get("sender"), header.get("recipient")) != (
            sid, round_name, sender, recipient):
        raise InvalidEnvelope(f"trustee {recipient}: revealed envelope is for another message",
                              culprit=recipient)
    if hashlib.sha256(plaintext).hexdigest() != header.get("body_hash"):
        raise InvalidEnvelope(f"trustee {recipient}: revealed plaintext does not match the "
                              f"signed hash", culprit=recipient)
    return decode_payload(plaintext, sender)


class Channel:
    """One trustee's endpoint: seals, signs, posts, collects and checks messages."""

    def __init__(self, identity: Identity, relay: Relay, *, election: str, run: str,
                 poll: float = 0.02, timeout: float = 600.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.identity = identity
        self.index = identity.index
        self.relay = relay
        self.election = election
        self.run = run
        self.sid = ""
        self.roster: dict[int, RosterEntry] = {}
        self.poll = poll
        self.timeout = timeout
        self._sleep = sleep
        self._seq = 0
        self._last_seq: dict[int, int] = {}
        self.bytes_sent = 0
        # the current blame window (docs §4.7.10): what this trustee sent and accepted
        # since :meth:`new_window`; kept so that a blame round can replay it
        self.sent_log: dict[tuple[str, int], dict[str, Any]] = {}
        self.recv_log: dict[tuple[str, int, int], Received] = {}

    def new_window(self) -> None:
        """Forget the messages of the previous sieve batch (its candidates are discarded)."""
        self.sent_log = {}
        self.recv_log = {}

    # -- sending ------------------------------------------------------------------------
    def _header(self, round_name: str, recipient: int, body_hash: str,
                eph: str = "", nonce: str = "") -> dict[str, Any]:
        self._seq += 1
        return {"protocol": PROTOCOL, "sid": self.sid, "election": self.election,
                "run": self.run, "round": round_name, "sender": self.index,
                "recipient": recipient, "seq": self._seq, "body_hash": body_hash,
                "eph": eph, "nonce": nonce}

    def _sign(self, header: dict[str, Any], body: bytes) -> bytes:
        sig = self.identity.sign.sign(signed_message(header, body))
        return canonical_json({"h": header, "b": base64.b64encode(body).decode("ascii"),
                               "s": sig.hex()})

    def seal(self, round_name: str, recipient: int, payload: dict[str, Any]) -> bytes:
        """The envelope for ``payload`` (private if ``recipient > 0``)."""
        plaintext = encode_payload(payload)
        body_hash = hashlib.sha256(plaintext).hexdigest()
        if recipient == 0:
            return self._sign(self._header(round_name, 0, body_hash), plaintext)
        eph = X25519PrivateKey.generate()
        eph_pub = _raw_public(eph.public_key())
        dh_pub = self.roster[recipient].dh_key
        key = _envelope_key(eph.exchange(X25519PublicKey.from_public_bytes(dh_pub)),
                            eph_pub, dh_pub)
        nonce = secrets.token_bytes(12)
        header = self._header(round_name, recipient, body_hash, eph_pub.hex(), nonce.hex())
        body = ChaCha20Poly1305(key).encrypt(nonce, plaintext, canonical_json(header))
        return self._sign(header, body)

    def post_envelope(self, round_name: str, recipient: int, envelope: bytes) -> None:
        self.bytes_sent += len(envelope)
        self.relay.post(round_name, self.index, recipient, envelope)

    def broadcast(self, round_name: str, payload: dict[str, Any]) -> None:
        self.sent_log[(round_name, 0)] = payload
        self.post_envelope(round_name, 0, self.seal(round_name, 0, payload))

    def send(self, round_name: str, recipient: int, payload: dict[str, Any]) -> None:
        self.sent_log[(round_name, recipient)] = payload
        self.post_envelope(round_name, recipient, self.seal(round_name, recipient, payload))

    # -- receiving ----------------------------------------------------------------------
    def open(self, envelope: bytes, *, round_name: str, sender: int,
             private: bool) -> Received:
        """Check and open one envelope that the relay says ``sender`` posted."""
        try:
            obj = json.loads(envelope)
            header, body = obj["h"], base64.b64decode(obj["b"], validate=True)
            sig = bytes.fromhex(obj["s"])
            if not isinstance(header, dict):
                raise TypeError("header")
            signed = signed_message(header, body)  # InvalidEncoding: e.g. a float in it
        except (ValueError, KeyError, TypeError, InvalidEncoding) as exc:
            raise InvalidEnvelope(f"trustee {sender}: malformed envelope", culprit=sender) from exc
        claimed = header.get("sender")
        if claimed != sender or sender not in self.roster:
            raise InvalidEnvelope(f"trustee {sender}: envelope claims sender {claimed!r}",
                                  culprit=sender)
        verify_signature(self.roster[sender].sign_key, signed, sig, sender)
        # from here on the header is what trustee `sender` signed
        expected = (PROTOCOL, self.sid, self.election, self.run)
        got = (header.get("protocol"), header.get("sid"), header.get("election"),
               header.get("run"))
        if got != expected:
            raise ReplayedMessage(f"trustee {sender}: message from another run or session",
                                  culprit=sender)
        if header.get("round") != round_name:
            raise ReplayedMessage(f"trustee {sender}: replayed or reordered message (it was "
                                  f"signed for round {header.get('round')!r}, not "
                                  f"{round_name!r})", culprit=sender)
        seq = header.get("seq")
        if not isinstance(seq, int) or seq <= self._last_seq.get(sender, 0):
            raise ReplayedMessage(f"trustee {sender}: replayed message (sequence number {seq} "
                                  f"already seen)", culprit=sender)
        recipient = header.get("recipient")
        if recipient != (self.index if private else 0):
            raise InvalidEnvelope(f"trustee {sender}: message addressed to {recipient!r}",
                                  culprit=sender)
        if private:
            try:
                eph_pub = bytes.fromhex(header["eph"])
                nonce = bytes.fromhex(header["nonce"])
                shared = self.identity.dh.exchange(X25519PublicKey.from_public_bytes(eph_pub))
                key = _envelope_key(shared, eph_pub, self.roster[self.index].dh_key)
                plaintext = ChaCha20Poly1305(key).decrypt(nonce, body, canonical_json(header))
            except (InvalidTag, ValueError, KeyError, TypeError) as exc:
                raise InvalidEnvelope(f"trustee {sender}: message does not decrypt",
                                      culprit=sender) from exc
        else:
            plaintext = body
        if hashlib.sha256(plaintext).hexdigest() != header.get("body_hash"):
            raise InvalidEnvelope(f"trustee {sender}: body hash mismatch", culprit=sender)
        self._last_seq[sender] = seq
        return Received(sender, decode_payload(plaintext, sender), envelope, plaintext)

    def gather(self, round_name: str, *, private: bool,
               senders: list[int] | None = None) -> dict[int, Received]:
        """Wait until every other trustee's message of ``round_name`` is in; check them all."""
        wanted = set(senders if senders is not None else self.roster) - {self.index}
        deadline = time.monotonic() + self.timeout
        delay = self.poll
        raw: dict[int, bytes] = {}
        while True:
            missing_now = sorted(wanted - set(raw))
            raw.update({s: e for s, r, e in self.relay.fetch(round_name, self.index,
                                                                missing_now)
                        if s in wanted and r == (self.index if private else 0)})
            if len(raw) == len(wanted):
                break
            if time.monotonic() > deadline:
                missing = sorted(wanted - set(raw))
                raise DkgTimeout(f"round {round_name}: no message from trustee(s) "
                                 f"{', '.join(map(str, missing))}",
                                 culprit=missing[0] if missing else None)
            self._sleep(delay)
            delay = min(delay * 1.5, 0.25)
        out = {s: self.open(raw[s], round_name=round_name, sender=s, private=private)
               for s in sorted(raw)}
        for s, rec in out.items():
            self.recv_log[(round_name, s, self.index if private else 0)] = rec
        return out

    # -- pair seeds (D3) ----------------------------------------------------------------
    def pair_seed(self, other: int) -> bytes:
        """``HKDF(X25519(dh_i, dh_j), info = SEED_DOMAIN ‖ sid ‖ min ‖ max)`` — known to
        trustees ``i`` and ``j`` only."""
        shared = self.identity.dh.exchange(
            X25519PublicKey.from_public_bytes(self.roster[other].dh_key))
        lo, hi = sorted((self.index, other))
        info = SEED_DOMAIN + self.sid.encode() + lo.to_bytes(2, "big") + hi.to_bytes(2, "big")
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(shared)


def open_with_key(envelope: bytes, dh_private: X25519PrivateKey,
                  roster: dict[int, RosterEntry], *, sid: str, round_name: str, sender: int,
                  recipient: int) -> Received:
    """Open a private message that ``recipient`` revealed in a blame round, with
    ``recipient``'s revealed X25519 key (§4.7.10).  The envelope must be signed by
    ``sender`` for exactly this ``sid``/round/recipient and decrypt; any failure is
    :class:`InvalidEnvelope` naming the *revealer* (who accepted it during the run)."""
    def bad(what: str, exc: BaseException | None = None) -> InvalidEnvelope:
        err = InvalidEnvelope(f"trustee {recipient}: revealed message from trustee {sender} "
                              f"in round {round_name} {what}", culprit=recipient)
        if exc is not None:
            err.__cause__ = exc
        return err

    try:
        obj = json.loads(envelope)
        header, body = obj["h"], base64.b64decode(obj["b"], validate=True)
        sig = bytes.fromhex(obj["s"])
        if not isinstance(header, dict):
            raise TypeError("header")
        signed = signed_message(header, body)
    except (ValueError, KeyError, TypeError, InvalidEncoding) as exc:
        raise bad("is malformed", exc) from exc
    try:
        verify_signature(roster[sender].sign_key, signed, sig, sender)
    except InvalidEnvelope as exc:
        raise bad("is not signed by its sender", exc) from exc
    if (header.get("protocol"), header.get("sid"), header.get("round"), header.get("sender"),
            header.get("recipient")) != (PROTOCOL, sid, round_name, sender, recipient):
        raise bad("is for another message")
    try:
        eph_pub = bytes.fromhex(header["eph"])
        nonce = bytes.fromhex(header["nonce"])
        shared = dh_private.exchange(X25519PublicKey.from_public_bytes(eph_pub))
        key = _envelope_key(shared, eph_pub, roster[recipient].dh_key)
        plaintext = ChaCha20Poly1305(key).decrypt(nonce, body, canonical_json(header))
    except (InvalidTag, ValueError, KeyError, TypeError) as exc:
        raise bad("does not decrypt", exc) from exc
    if hashlib.sha256(plaintext).hexdigest() != header.get("body_hash"):
        raise bad("does not match its signed hash")
    return Received(sender, decode_payload(plaintext, sender), envelope, plaintext)
