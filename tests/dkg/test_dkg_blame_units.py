"""The parts of the blame round (docs §4.7.10, ``crypto/dkg/blame.py``) that need no run:
the culprit's description, the B1 checks of revealed secrets, and the replay channel."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from crypto.dkg.blame import (
    STOP_ROUNDS,
    ReplayChannel,
    Window,
    _Deviation,
    _NoRelay,
    _ReplayEnd,
    _secrets_of,
    describe,
)
from crypto.dkg.channel import Identity, Received
from crypto.dkg.errors import CheatingTrustee


@pytest.mark.parametrize(("round_name", "recipient", "text"), [
    ("s0:share", 3, "trustee 2 sent wrong Shamir shares to trustee 3 in round s0:share"),
    ("s0:c1:theta", 1, "trustee 2 sent wrong Shamir shares to trustee 1 in round s0:c1:theta"),
    ("s3:prod", 0, "trustee 2 sent a wrong product share in round s3:prod"),
    ("s0:c0:bpt", 0, "trustee 2 sent wrong biprimality values in round s0:c0:bpt"),
    ("s0:c0:W", 0, "trustee 2 sent a wrong [W] share in round s0:c0:W"),
    ("reshare:commit", 0, "trustee 2 sent wrong Feldman commitments in round reshare:commit"),
    ("reshare:complain", 0, "trustee 2 sent a wrong list of complaints in round reshare:complain"),
    ("reshare:share", 4, "trustee 2 sent a wrong re-sharing share to trustee 4 in round "
                         "reshare:share"),
    ("hello", 0, "trustee 2 sent a wrong message in round hello"),
    ("a:b:prod:x", 0, "trustee 2 sent a wrong message in round a:b:prod:x"),
])
def test_describe(round_name: str, recipient: int, text: str) -> None:
    assert describe(2, round_name, recipient) == text


def _raw(key: X25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption())


def test_secrets_of_accepts_the_roster_key() -> None:
    ident = Identity.generate(2)
    roster = {2: ident.entry()}
    seed, dh = _secrets_of(2, {"seed": "ab" * 32, "dh": _raw(ident.dh).hex()}, roster)
    assert seed == bytes.fromhex("ab" * 32)
    assert _raw(dh) == _raw(ident.dh)


@pytest.mark.parametrize(("payload", "message"), [
    ({"dh": "00" * 32}, "trustee 2 revealed malformed run secrets in the blame round"),
    ({"seed": "ab" * 32}, "trustee 2 revealed malformed run secrets in the blame round"),
    ({"seed": "zz", "dh": "00" * 32}, "trustee 2 revealed malformed run secrets in the blame "
                                      "round"),
    ({"seed": "ab" * 32, "dh": "00" * 31}, "trustee 2 revealed malformed run secrets in the "
                                           "blame round"),
    ({"seed": "ab" * 31, "dh": "OWN"}, "trustee 2 revealed a run seed of 31 bytes"),
    ({"seed": "ab" * 33, "dh": "OWN"}, "trustee 2 revealed a run seed of 33 bytes"),
    ({"seed": "ab" * 32, "dh": "01" * 32}, "trustee 2 revealed an X25519 key that is not its "
                                           "roster key"),
])
def test_secrets_of_rejects(payload: dict[str, str], message: str) -> None:
    ident = Identity.generate(2)
    roster = {2: ident.entry()}
    if payload.get("dh") == "OWN":
        payload = {**payload, "dh": _raw(ident.dh).hex()}
    with pytest.raises(CheatingTrustee, match="^" + message.replace("[", r"\[") + "$") as info:
        _secrets_of(2, payload, roster)
    assert info.value.culprit == 2


def _rec(sender: int, payload: dict[str, int]) -> Received:
    return Received(sender, payload, b"", b"")


def _replay(window: Window) -> ReplayChannel:
    ids = {i: Identity.generate(i) for i in (1, 2, 3)}
    return ReplayChannel(ids[2], window, election="e", run="r", sid="s",
                         roster={i: ident.entry() for i, ident in ids.items()})


def test_replay_channel_compares_what_was_signed() -> None:
    win = Window(broadcasts={("a", 2): _rec(2, {"x": 1})},
                 privates={("a", 2, 3): _rec(2, {"y": 2})}, rounds={"a", "confirm"})
    ch = _replay(win)
    assert (ch.sid, ch.election, ch.run, ch.index) == ("s", "e", "r", 2)
    ch.broadcast("a", {"x": 1})
    ch.send("a", 3, {"y": 2})
    for call in (lambda: ch.broadcast("a", {"x": 2}), lambda: ch.send("a", 3, {"y": 1}),
                 lambda: ch.send("a", 1, {"y": 2})):
        with pytest.raises(_Deviation) as info:
            call()
        assert info.value.round_name == "a" and str(info.value) == "a"
    with pytest.raises(_Deviation) as info:
        ch.send("a", 1, {"y": 2})
    assert info.value.recipient == 1
    for call in (lambda: ch.broadcast("b", {}), lambda: ch.broadcast("confirm", {}),
                 lambda: ch.send("sign", 3, {})):
        with pytest.raises(_ReplayEnd):
            call()
    assert STOP_ROUNDS == {"confirm", "sign"}
    ch.new_window()  # keeps the replayed window
    ch.broadcast("a", {"x": 1})


def test_replay_channel_compares_canonical_json() -> None:
    win = Window(broadcasts={("a", 2): _rec(2, {"x": 1, "y": 2})}, rounds={"a"})
    ch = _replay(win)
    ch.broadcast("a", {"y": 2, "x": 1})
    with pytest.raises(_Deviation):
        ch.broadcast("a", {"x": 1})


def test_replay_channel_gathers_what_was_received() -> None:
    b1, b3, p1 = _rec(1, {"b": 1}), _rec(3, {"b": 3}), _rec(1, {"p": 1})
    win = Window(broadcasts={("a", 1): b1, ("a", 3): b3, ("a", 2): _rec(2, {})},
                 privates={("a", 1, 2): p1, ("a", 3, 1): _rec(3, {})}, rounds={"a", "c"})
    ch = _replay(win)
    assert ch.gather("a", private=False) == {1: b1, 3: b3}
    assert ch.gather("a", private=False, senders=[3, 2]) == {3: b3}
    assert ch.gather("a", private=True, senders=[1]) == {1: p1}
    # a message the replayed trustee never received, or a round beyond the window: the end
    for round_name, private, senders in (("a", True, None), ("a", True, [3]),
                                         ("c", False, [1, 3]), ("c", False, None),
                                         ("z", False, None)):
        with pytest.raises(_ReplayEnd):
            ch.gather(round_name, private=private, senders=senders)


def test_no_relay_ends_the_replay() -> None:
    relay = _NoRelay()
    with pytest.raises(_ReplayEnd):
        relay.post("a", 1, 0, b"")
    with pytest.raises(_ReplayEnd):
        relay.fetch("a", 1)
    with pytest.raises(_ReplayEnd):
        _replay(Window(rounds={"a"})).relay.fetch("a", 2)
