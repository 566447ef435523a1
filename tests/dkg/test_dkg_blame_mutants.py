"""``run_blame`` (docs §4.7.10, ``crypto/dkg/blame.py``) driven without a protocol run.

Three trustees on a :class:`MemoryRelay`; trustee 1 runs the blame round, trustees 2 and 3
post their B1/B2 broadcasts through their own (real) channels beforehand, and the party
class replayed in B3 is a stub whose ``sieve_batch`` does what the test says (deviate,
name another trustee, or end).  These tests pin what the slow cheating runs of
``test_dkg_blame.py`` do not reach: the B1 payload, a malformed reveal, a revealed
envelope with non-base64 characters, a replayed trustee naming someone else, and the list
of further culprits.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from crypto.dkg.blame import BLAME_ROUND, run_blame
from crypto.dkg.channel import Channel, Identity, MemoryRelay, Received
from crypto.dkg.errors import BlameInconclusive, CheatingTrustee, DkgError, InvalidCommitment

SID = "sid-blame-units"
REASON = "no key after 8 candidates (the budget is 8)"

#: what the stub does when trustee ``j`` is replayed: ``behaviour[j](replay_channel)``
Behaviour = dict[int, Callable[[Channel], None]]


class StubParty:
    """What ``run_blame`` uses of a :class:`~crypto.dkg.protocol.DkgParty`; ``params`` is
    the replay behaviour (``type(party)(party.params, identity, channel)`` passes it on)."""

    def __init__(self, params: Behaviour, identity: Identity, channel: Channel) -> None:
        self.params = params
        self.identity = identity
        self.index = identity.index
        self.ch = channel
        self.seed = bytes([identity.index]) * 32
        self.window = (0, 0)

    def blame_secrets(self) -> tuple[bytes, bytes]:
        return self.seed, _raw(self.identity)

    def sieve_batch(self, attempt: int, tried: int) -> None:
        assert (attempt, tried) == (0, 0)
        self.params.get(self.index, lambda _ch: None)(self.ch)


def _raw(ident: Identity) -> bytes:
    return ident.dh.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                  serialization.NoEncryption())


class Net:
    """Trustees 1–``n`` with real channels on one relay; trustee 1 is the blamer."""

    def __init__(self, n: int = 3) -> None:
        self.relay = MemoryRelay()
        self.everyone = list(range(1, n + 1))
        self.ids = {i: Identity.generate(i) for i in self.everyone}
        roster = {i: ident.entry() for i, ident in self.ids.items()}
        self.ch: dict[int, Channel] = {}
        for i, ident in self.ids.items():
            ch = Channel(ident, self.relay, election="e1", run="r1", timeout=0.5, poll=0.001)
            ch.sid, ch.roster = SID, dict(roster)
            self.ch[i] = ch
        # private messages of round "s0:share" between every pair (what each received)
        self.envelopes: dict[tuple[int, int], bytes] = {
            (s, r): self.ch[s].seal("s0:share", r, {"from": s, "to": r})
            for s in self.everyone for r in self.everyone if s != r}

    def receive_privately(self) -> None:
        """Trustee 1's window holds the private messages of round ``s0:share``."""
        ch1 = self.ch[1]
        for s in self.everyone[1:]:
            self.relay.post("s0:share", s, 1, self.envelopes[(s, 1)])
        ch1.gather("s0:share", private=True)
        assert set(ch1.recv_log) == {("s0:share", s, 1) for s in self.everyone[1:]}

    def reveal(self, j: int, *, secrets: dict[str, Any] | None = None,
               reveals: dict[int, dict[str, Any]] | None = None) -> None:
        """Trustee ``j``'s B1 and B2 broadcasts (honest unless overridden)."""
        ch = self.ch[j]
        ch.broadcast(BLAME_ROUND, secrets if secrets is not None else {
            "reason": REASON, "seed": bytes([j]).hex() * 32, "dh": _raw(self.ids[j]).hex()})
        for s in self.everyone:
            if s == j:
                continue
            payload = (reveals or {}).get(s)
            if payload is None:
                payload = {"envelopes": {
                    rn: base64.b64encode(self.envelopes[(s, j)]).decode("ascii")
                    for rn in sorted({rn for (rn, _s, r) in self.ch[1].recv_log if r})}}
            ch.broadcast(f"{BLAME_ROUND}:{s}", payload)

    def blame(self, behaviour: Behaviour | None = None) -> None:
        run_blame(StubParty(behaviour or {}, self.ids[1], self.ch[1]), REASON)  # type: ignore[arg-type]


def _received_broadcast(ch: Channel, round_name: str, payload: dict[str, Any]) -> None:
    ch.recv_log[(round_name, int(payload["x"]), 0)] = Received(int(payload["x"]), payload,
                                                                 b"", b"")


def _deviate(ch: Channel) -> None:
    ch.broadcast("s0:prod", {"x": ch.index, "v": "not what it signed"})


def test_honest_reveals_name_nobody_and_publish_the_reason() -> None:
    net = Net()
    net.receive_privately()
    net.reveal(2)
    net.reveal(3)
    with pytest.raises(BlameInconclusive, match=r"^the run failed \(no key after 8 candidates "
                       r"\(the budget is 8\)\); the blame round replayed every trustee's "
                       r"batch s0 and found no deviation$"):
        net.blame()
    # B1 as trustee 2 receives it: the reason, σ_1 and trustee 1's X25519 private key
    got = net.ch[2].gather(BLAME_ROUND, private=False, senders=[1])
    assert got[1].payload == {"reason": REASON, "seed": (b"\x01" * 32).hex(),
                              "dh": _raw(net.ids[1]).hex()}
    # B2: what trustee 1 received from trustees 2 and 3, re-posted byte for byte
    for s in (2, 3):
        rev = net.ch[2 if s == 3 else 3].gather(f"{BLAME_ROUND}:{s}", private=False,
                                               senders=[1])
        assert rev[1].payload == {"envelopes": {"s0:share": base64.b64encode(
            net.envelopes[(s, 1)]).decode("ascii")}}


@pytest.mark.parametrize("envelopes", [None, [], "s0:share", 7])
def test_malformed_reveal_is_named(envelopes: Any) -> None:
    net = Net()
    net.receive_privately()
    net.reveal(2)
    net.reveal(3, reveals={1: {} if envelopes is None else {"envelopes": envelopes}})
    with pytest.raises(CheatingTrustee,
                       match=r"^trustee 3 sent a malformed reveal in the blame round$") as info:
        net.blame()
    assert info.value.culprit == 3


def test_malformed_reveal_is_named_without_private_rounds() -> None:
    """No private message in the window: only the shape of the reveal is checked."""
    net = Net()
    net.reveal(2, reveals={3: {"envelopes": ["s0:share"]}})
    net.reveal(3)
    with pytest.raises(CheatingTrustee,
                       match=r"^trustee 2 sent a malformed reveal in the blame round$") as info:
        net.blame()
    assert info.value.culprit == 2


@pytest.mark.parametrize("junk", ["!", "\n", " ", "*"])
def test_revealed_envelope_must_be_strict_base64(junk: str) -> None:
    """A genuine envelope with a character outside the base64 alphabet: a lenient decoder
    would drop it and accept the message; the reveal is refused instead."""
    net = Net()
    net.receive_privately()
    net.reveal(2)
    text = base64.b64encode(net.envelopes[(1, 3)]).decode("ascii")
    net.reveal(3, reveals={1: {"envelopes": {"s0:share": text[:8] + junk + text[8:]}}})
    with pytest.raises(CheatingTrustee,
                       match=r"^trustee 3 revealed a message from trustee 1 in round s0:share "
                             r"that it did not receive$") as info:
        net.blame()
    assert info.value.culprit == 3


def test_replayed_trustee_naming_another_trustee() -> None:
    """The replay of trustee 2 raises a DkgError naming trustee 3 (a malformed message it
    received from 3): trustee 3 is named with that error's text."""
    def names_three(_ch: Channel) -> None:
        raise InvalidCommitment("trustee 3: malformed opened value in round s0:prod",
                                culprit=3)

    net = Net()
    net.reveal(2)
    net.reveal(3)
    with pytest.raises(CheatingTrustee,
                       match=r"^trustee 3: malformed opened value in round s0:prod \(blame "
                             r"round after: no key after 8 candidates \(the budget is 8\)\)$"
                       ) as info:
        net.blame({2: names_three})
    assert info.value.culprit == 3


@pytest.mark.parametrize("culprit", [None, 2])
def test_replayed_trustee_naming_nobody_or_itself(culprit: int | None) -> None:
    """A DkgError of the replay that names nobody, or the replayed trustee itself, is no
    finding (its own error is not evidence against it; the deviations are)."""
    def fails(_ch: Channel) -> None:
        raise DkgError("trustee 2: something failed", culprit=culprit)

    net = Net()
    net.reveal(2)
    net.reveal(3)
    with pytest.raises(BlameInconclusive, match=r"^the run failed \(.*\); the blame round "
                                                r"replayed every trustee's batch s0 and "
                                                r"found no deviation$"):
        net.blame({2: fails})


def test_first_finding_wins_for_the_named_trustee() -> None:
    """Trustee 2 deviates; trustee 3's replay also names trustee 2 (a later finding): the
    message is the deviation, given once."""
    def names_two(_ch: Channel) -> None:
        raise InvalidCommitment("trustee 2: malformed opened value", culprit=2)

    net = Net()
    for j in (2, 3):
        _received_broadcast(net.ch[1], "s0:prod", {"x": j})
        net.reveal(j)
    with pytest.raises(CheatingTrustee,
                       match=r"^trustee 2 sent a wrong product share in round s0:prod "
                             r"\(blame round after: [^;]*\)$") as info:
        net.blame({2: _deviate, 3: names_two})
    assert info.value.culprit == 2


def test_every_deviating_trustee_is_listed() -> None:
    """Trustees 2 and 3 both deviate: the lowest is the culprit, the other follows."""
    net = Net()
    for j in (2, 3):
        _received_broadcast(net.ch[1], "s0:prod", {"x": j})
        net.reveal(j)
    with pytest.raises(CheatingTrustee,
                       match=r"^trustee 2 sent a wrong product share in round s0:prod \(blame "
                             r"round after: no key after 8 candidates \(the budget is 8\)\); "
                             r"trustee 3 sent a wrong product share in round s0:prod$") as info:
        net.blame({2: _deviate, 3: _deviate})
    assert info.value.culprit == 2


def test_every_further_culprit_is_listed_in_order() -> None:
    """Four trustees, 2, 3 and 4 deviate: each further finding follows with "; "."""
    net = Net(4)
    for j in (2, 3, 4):
        _received_broadcast(net.ch[1], "s0:prod", {"x": j})
        net.reveal(j)
    with pytest.raises(CheatingTrustee,
                       match=r"^trustee 2 sent a wrong product share in round s0:prod \(blame "
                             r"round after: no key after 8 candidates \(the budget is 8\)\); "
                             r"trustee 3 sent a wrong product share in round s0:prod; "
                             r"trustee 4 sent a wrong product share in round s0:prod$") as info:
        net.blame({2: _deviate, 3: _deviate, 4: _deviate})
    assert info.value.culprit == 2


def test_single_deviation_has_no_list() -> None:
    net = Net()
    for j in (2, 3):
        _received_broadcast(net.ch[1], "s0:prod", {"x": j})
        net.reveal(j)
    with pytest.raises(CheatingTrustee,
                       match=r"^trustee 3 sent a wrong product share in round s0:prod \(blame "
                             r"round after: no key after 8 candidates \(the budget is 8\)\)$"
                       ) as info:
        net.blame({3: _deviate})
    assert info.value.culprit == 3


def test_replay_receives_the_window() -> None:
    """What a replayed trustee gathers: the broadcasts of the window (the blamer's own,
    from what it signed), and the private messages its peers revealed for it (B2)."""
    net = Net()
    net.receive_privately()
    net.ch[1].broadcast("s0:prod", {"x": 1, "v": "blamer's"})
    _received_broadcast(net.ch[1], "s0:prod", {"x": 3, "v": "third's"})
    net.reveal(2)
    net.reveal(3)
    seen: dict[str, dict[int, Received]] = {}

    def gathers(ch: Channel) -> None:
        seen["broadcast"] = ch.gather("s0:prod", private=False)
        seen["private"] = ch.gather("s0:share", private=True)

    with pytest.raises(BlameInconclusive, match=r"^the run failed \(.*\); the blame round "
                                                r"replayed every trustee's batch s0 and "
                                                r"found no deviation$"):
        net.blame({2: gathers})
    assert {s: rec.payload for s, rec in seen["broadcast"].items()} == {
        1: {"x": 1, "v": "blamer's"}, 3: {"x": 3, "v": "third's"}}
    assert {s: rec.payload for s, rec in seen["private"].items()} == {
        1: {"from": 1, "to": 2}, 3: {"from": 3, "to": 2}}
    assert {s: rec.envelope for s, rec in seen["private"].items()} == {
        1: net.envelopes[(1, 2)], 3: net.envelopes[(3, 2)]}


def test_missing_b1_names_the_absent_trustee() -> None:
    net = Net()
    net.reveal(2)
    with pytest.raises(CheatingTrustee,
                       match=r"^trustee 3 did not take part in the blame round \(round blame: "
                             r"no message from trustee\(s\) 3\)$") as info:
        net.blame()
    assert info.value.culprit == 3


@pytest.mark.parametrize("reveal", [{}, {"s0:share": 5}, {"s0:other": "AAAA"}])
def test_withheld_reveal_is_named(reveal: dict[str, Any]) -> None:
    net = Net()
    net.receive_privately()
    net.reveal(2)
    net.reveal(3, reveals={1: {"envelopes": reveal}})
    with pytest.raises(CheatingTrustee,
                       match=r"^trustee 3 did not reveal the message it received from "
                             r"trustee 1 in round s0:share$") as info:
        net.blame()
    assert info.value.culprit == 3


def test_replay_runs_with_the_revealed_secrets() -> None:
    """The replayed trustee 2 has its revealed σ_2 and X25519 key and the run's ``sid``:
    its pair seeds (D3) are the ones trustee 2 really had."""
    net = Net()
    net.reveal(2)
    net.reveal(3)
    seen: dict[str, Any] = {}
    real_pair_seeds = {k: net.ch[2].pair_seed(k) for k in (1, 3)}

    class Recording(StubParty):
        def sieve_batch(self, attempt: int, tried: int) -> None:
            seen[f"seed{self.index}"] = self.seed
            seen[f"pairs{self.index}"] = {k: self.ch.pair_seed(k)
                                          for k in (1, 2, 3) if k != self.index}

    with pytest.raises(BlameInconclusive, match=r"^the run failed \(.*\); the blame round "
                                                r"replayed every trustee's batch s0 and "
                                                r"found no deviation$"):
        run_blame(Recording({}, net.ids[1], net.ch[1]), REASON)  # type: ignore[arg-type]
    assert seen["seed2"] == b"\x02" * 32 and seen["seed3"] == b"\x03" * 32
    assert seen["pairs2"] == real_pair_seeds
    assert seen["pairs3"] == {k: net.ch[3].pair_seed(k) for k in (1, 2)}


def test_private_deviation_names_its_recipient() -> None:
    """Trustee 2's replay sends trustee 3 another share than the one 3 revealed (B2)."""
    def wrong_share(ch: Channel) -> None:
        ch.send("s0:share", 3, {"from": 2, "to": 3, "extra": 1})

    net = Net()
    net.receive_privately()
    net.reveal(2)
    net.reveal(3)
    with pytest.raises(CheatingTrustee,
                       match=r"^trustee 2 sent wrong Shamir shares to trustee 3 in round "
                             r"s0:share \(blame round after: .*\)$") as info:
        net.blame({2: wrong_share})
    assert info.value.culprit == 2


def test_private_replay_that_matches_names_nobody() -> None:
    def same_share(ch: Channel) -> None:
        ch.send("s0:share", 3, {"from": 2, "to": 3})

    net = Net()
    net.receive_privately()
    net.reveal(2)
    net.reveal(3)
    with pytest.raises(BlameInconclusive, match=r"^the run failed \(.*\); the blame round "
                                                r"replayed every trustee's batch s0 and "
                                                r"found no deviation$"):
        net.blame({2: same_share})
