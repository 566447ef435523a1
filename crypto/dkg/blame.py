"""The blame round: name a trustee who deviated inside the BGW computation (docs §4.7.10).

A wrong product share (D4), a wrong ``[W]_j`` (D8), wrong biprimality values (D6) or a
wrong explicit Shamir share (D3) cannot be attributed from the messages alone: the run
only sees inconsistent opened values, a candidate that fails, or a key that fails the
confirmation decryption (D15).  Every random choice of trustee ``i`` in a run comes from a
per-run seed ``σ_i`` (:meth:`crypto.dkg.protocol.DkgParty.own_random`), its Shamir
polynomials from the pair seeds (D3), which follow from the X25519 keys; so once the run is
abandoned, the trustees reveal ``σ_i`` and their X25519 private keys (B1) and the private
messages they received in the last batch (B2), and everyone *replays* every trustee (B3):
the same protocol code, run from ``σ_i`` on the messages that trustee received, must
produce exactly the payloads it signed.  The first difference names it.

The run is discarded either way: every candidate of the run, every share, and the keys
revealed here are never used again (a new run has new ``σ_i`` and new keys).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from crypto.dkg.channel import Channel, Identity, Received, open_with_key
from crypto.dkg.errors import (
    BlameInconclusive,
    CheatingTrustee,
    DkgError,
    DkgTimeout,
    InvalidEnvelope,
)
from crypto.encoding import canonical_json
from crypto.errors import CryptoError

if TYPE_CHECKING:
    from crypto.dkg.protocol import DkgParty

BLAME_ROUND = "blame"
#: rounds the replay does not compare: their payloads carry fresh proof randomness and are
#: checked by their own proofs (D15) and signatures (D16)
STOP_ROUNDS = frozenset({"confirm", "sign"})

_KINDS = {
    "share": "wrong Shamir shares",
    "theta": "wrong Shamir shares",
    "prod": "a wrong product share",
    "bpt": "wrong biprimality values",
    "W": "a wrong [W] share",
    "commit": "wrong Feldman commitments",
    "complain": "a wrong list of complaints",
}


def describe(who: int, round_name: str, recipient: int) -> str:
    """``trustee 2 sent a wrong product share in round s3:prod``."""
    if round_name == "reshare:share":
        kind = "a wrong re-sharing share"
    else:
        kind = _KINDS.get(round_name.rsplit(":", 1)[-1], "a wrong message")
    to = f" to trustee {recipient}" if recipient else ""
    return f"trustee {who} sent {kind}{to} in round {round_name}"


class _ReplayEnd(Exception):
    """The replay reached a round beyond the recorded window (or D15): nothing to compare."""


class _Deviation(Exception):
    def __init__(self, round_name: str, recipient: int) -> None:
        super().__init__(round_name)
        self.round_name = round_name
        self.recipient = recipient


@dataclass
class Window:
    """The last batch as one honest trustee knows it after B2: every broadcast, every
    private message (its own and the revealed ones), and the rounds it completed."""

    broadcasts: dict[tuple[str, int], Received] = field(default_factory=dict)
    privates: dict[tuple[str, int, int], Received] = field(default_factory=dict)
    rounds: set[str] = field(default_factory=set)


class _NoRelay:
    def post(self, round_name: str, sender: int, recipient: int, envelope: bytes) -> None:
        raise _ReplayEnd

    def fetch(self, round_name: str, recipient: int,
              senders: list[int] | None = None) -> list[tuple[int, int, bytes]]:
        raise _ReplayEnd


class ReplayChannel(Channel):
    """Trustee ``identity.index``'s channel during a replay: sending compares with what it
    really signed (:class:`_Deviation` on the first difference); gathering returns what it
    really received."""

    def __init__(self, identity: Identity, window: Window, *, election: str, run: str,
                 sid: str, roster: dict[int, Any]) -> None:
        super().__init__(identity, _NoRelay(), election=election, run=run)
        self.sid = sid
        self.roster = dict(roster)
        self.win = window

    def new_window(self) -> None:
        return None

    def _compare(self, round_name: str, recipient: int, payload: dict[str, Any]) -> None:
        if round_name in STOP_ROUNDS or round_name not in self.win.rounds:
            raise _ReplayEnd
        actual = (self.win.broadcasts.get((round_name, self.index)) if recipient == 0
                  else self.win.privates.get((round_name, self.index, recipient)))
        if actual is None or canonical_json(actual.payload) != canonical_json(payload):
            raise _Deviation(round_name, recipient)

    def broadcast(self, round_name: str, payload: dict[str, Any]) -> None:
        self._compare(round_name, 0, payload)

    def send(self, round_name: str, recipient: int, payload: dict[str, Any]) -> None:
        self._compare(round_name, recipient, payload)

    def gather(self, round_name: str, *, private: bool,
               senders: list[int] | None = None) -> dict[int, Received]:
        if round_name not in self.win.rounds:
            raise _ReplayEnd
        out: dict[int, Received] = {}
        for s in sorted(set(senders if senders is not None else self.roster) - {self.index}):
            rec = (self.win.privates.get((round_name, s, self.index)) if private
                   else self.win.broadcasts.get((round_name, s)))
            if rec is None:
                raise _ReplayEnd
            out[s] = rec
        return out


def _gather(ch: Channel, round_name: str, senders: list[int]) -> dict[int, Received]:
    try:
        return ch.gather(round_name, private=False, senders=senders)
    except DkgTimeout as exc:
        raise CheatingTrustee(f"trustee {exc.culprit} did not take part in the blame round "
                              f"({exc})", culprit=exc.culprit) from exc


def _raw_public(key: X25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw,
                                         serialization.PublicFormat.Raw)


def _secrets_of(j: int, payload: dict[str, Any], roster: dict[int, Any]
                ) -> tuple[bytes, X25519PrivateKey]:
    """B1 checks: a 32-byte seed and the X25519 private key of the roster's ``dh_key``."""
    try:
        seed = bytes.fromhex(str(payload["seed"]))
        dh = X25519PrivateKey.from_private_bytes(bytes.fromhex(str(payload["dh"])))
    except (KeyError, TypeError, ValueError) as exc:
        raise CheatingTrustee(f"trustee {j} revealed malformed run secrets in the blame round",
                              culprit=j) from exc
    if len(seed) != 32:
        raise CheatingTrustee(f"trustee {j} revealed a run seed of {len(seed)} bytes",
                              culprit=j)
    if _raw_public(dh) != roster[j].dh_key:
        raise CheatingTrustee(f"trustee {j} revealed an X25519 key that is not its roster key",
                              culprit=j)
    return seed, dh


def run_blame(party: DkgParty, reason: str) -> NoReturn:
    """B1–B3 for ``party`` after a non-attributable abort; always raises
    :class:`CheatingTrustee` (or :class:`BlameInconclusive` when nobody deviated)."""
    ch = party.ch
    me = party.index
    roster = ch.roster
    everyone = sorted(roster)
    others = [j for j in everyone if j != me]

    win = Window()
    for (rn, s, r), rec in ch.recv_log.items():
        win.rounds.add(rn)
        if r == 0:
            win.broadcasts[(rn, s)] = rec
        else:
            win.privates[(rn, s, r)] = rec
    for (rn, r), payload in ch.sent_log.items():
        if r == 0:
            win.broadcasts[(rn, me)] = Received(me, payload, b"", b"")
    private_rounds = sorted({rn for (rn, _s, _r) in win.privates})

    # B1: the run seed and the X25519 private key
    seed, dh_raw = party.blame_secrets()
    ch.broadcast(BLAME_ROUND, {"reason": reason, "seed": seed.hex(), "dh": dh_raw.hex()})
    # B2: the private messages received from each trustee in the last batch
    for s in others:
        ch.broadcast(f"{BLAME_ROUND}:{s}", {"envelopes": {
            rn: base64.b64encode(rec.envelope).decode("ascii")
            for (rn, s2, _r), rec in sorted(win.privates.items()) if s2 == s}})
    got = _gather(ch, BLAME_ROUND, others)
    seeds = {me: party.seed}
    keys = {me: party.identity.dh}
    for j in others:
        seeds[j], keys[j] = _secrets_of(j, got[j].payload, roster)
    for s in everyone:
        revealers = [j for j in everyone if j not in (s, me)]
        reveals = _gather(ch, f"{BLAME_ROUND}:{s}", revealers)
        for j, rec in reveals.items():
            envelopes = rec.payload.get("envelopes")
            if not isinstance(envelopes, dict):
                raise CheatingTrustee(f"trustee {j} sent a malformed reveal in the blame round",
                                      culprit=j)
            for rn in private_rounds:
                raw = envelopes.get(rn)
                if not isinstance(raw, str):
                    raise CheatingTrustee(f"trustee {j} did not reveal the message it received "
                                          f"from trustee {s} in round {rn}", culprit=j)
                try:
                    win.privates[(rn, s, j)] = open_with_key(
                        base64.b64decode(raw, validate=True), keys[j], roster, sid=ch.sid,
                        round_name=rn, sender=s, recipient=j)
                except (InvalidEnvelope, ValueError) as exc:
                    raise CheatingTrustee(f"trustee {j} revealed a message from trustee {s} "
                                          f"in round {rn} that it did not receive",
                                          culprit=j) from exc

    # B3: replay every other trustee on the messages it received
    attempt, tried = party.window
    found: dict[int, str] = {}
    for j in others:
        identity = Identity(j, Ed25519PrivateKey.generate(), keys[j])
        rch = ReplayChannel(identity, win, election=ch.election, run=ch.run, sid=ch.sid,
                            roster=roster)
        replay = type(party)(party.params, identity, rch)
        replay.seed = seeds[j]
        try:
            replay.sieve_batch(attempt, tried)
        except _Deviation as dev:
            found.setdefault(j, describe(j, dev.round_name, dev.recipient))
        except _ReplayEnd:
            pass
        except DkgError as exc:
            # the replayed trustee would have named someone: a malformed message it received
            if exc.culprit is not None and exc.culprit != j:
                found.setdefault(exc.culprit, str(exc))
        except (CryptoError, ValueError, ArithmeticError):
            pass
    if found:
        culprit = min(found)
        raise CheatingTrustee(f"{found[culprit]} (blame round after: {reason})"
                              + "".join(f"; {found[j]}" for j in sorted(found) if j != culprit),
                              culprit=culprit)
    raise BlameInconclusive(f"the run failed ({reason}); the blame round replayed every "
                            f"trustee's batch s{attempt} and found no deviation")
