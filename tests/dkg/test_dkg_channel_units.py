"""The trustees' signed, encrypted envelopes (docs §4.7.3, ``crypto/dkg/channel.py``) without
a protocol run: the E1–E3 construction recomputed from the spec, and every receiver check
with its typed error and the trustee it names."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from crypto.dkg.channel import (
    ENVELOPE_DOMAIN,
    PROTOCOL,
    SALT_BYTES,
    SEED_DOMAIN,
    Channel,
    Identity,
    MemoryRelay,
    RosterEntry,
    decode_payload,
    encode_payload,
    open_revealed,
    open_with_key,
    signed_message,
    verify_signature,
)
from crypto.dkg.errors import DkgTimeout, InvalidEnvelope, ReplayedMessage
from crypto.encoding import canonical_json

SID = "ab" * 32


def _pub(key: X25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw,
                                         serialization.PublicFormat.Raw)


class Net:
    """Three trustees' channels on one memory relay, roster and sid set."""

    def __init__(self, **kw: Any) -> None:
        self.relay = MemoryRelay()
        self.ids = {i: Identity.generate(i) for i in (1, 2, 3)}
        self.roster = {i: ident.entry() for i, ident in self.ids.items()}
        self.ch = {i: self.channel(i, **kw) for i in (1, 2, 3)}

    def channel(self, i: int, **kw: Any) -> Channel:
        kw.setdefault("timeout", 5.0)  # a message that never comes fails the test soon
        ch = Channel(self.ids[i], self.relay, election="e1", run="r1", **kw)
        ch.sid = SID
        ch.roster = dict(self.roster)
        return ch


def _env(envelope: bytes) -> dict[str, Any]:
    obj: dict[str, Any] = json.loads(envelope)
    return obj


def _sign(ident: Identity, header: dict[str, Any], body: bytes) -> bytes:
    """An envelope signed by ``ident`` with any header and body (a cheating sender)."""
    sig = ident.sign.sign(signed_message(header, body))
    return canonical_json({"h": header, "b": base64.b64encode(body).decode(), "s": sig.hex()})


def _spec_key(shared: bytes, eph_pub: bytes, dh_pub: bytes) -> bytes:
    """E1 written out."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"saylau/v1/dkg-envelope" + eph_pub + dh_pub).derive(shared)


# -- relay, roster, identity ------------------------------------------------------------------


def test_memory_relay_fetch_filters() -> None:
    relay = MemoryRelay()
    relay.post("a", 1, 0, b"b1")
    relay.post("a", 2, 3, b"p23")
    relay.post("a", 2, 1, b"p21")
    relay.post("b", 3, 0, b"b3")
    assert sorted(relay.fetch("a", 3)) == [(1, 0, b"b1"), (2, 3, b"p23")]
    assert relay.fetch("a", 3, [2]) == [(2, 3, b"p23")]
    assert relay.fetch("a", 3, []) == []
    assert relay.fetch("b", 1) == [(3, 0, b"b3")]
    relay.post("b", 3, 0, b"b3'")  # a repost replaces
    assert relay.fetch("b", 2) == [(3, 0, b"b3'")]


def test_roster_entry_fingerprint_and_json() -> None:
    entry = RosterEntry(2, bytes(range(32)), bytes(range(32, 64)))
    digest = hashlib.sha256(bytes(range(64))).hexdigest()[:32]
    assert entry.fingerprint() == " ".join(digest[i:i + 4] for i in range(0, 32, 4))
    assert len(entry.fingerprint()) == 39
    assert entry.to_json() == {"index": 2, "sign_key": bytes(range(32)).hex(),
                               "dh_key": bytes(range(32, 64)).hex()}
    assert RosterEntry.from_json(entry.to_json()) == entry
    ident = Identity.generate(3)
    assert ident.entry() == RosterEntry(3, ident.sign.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw), _pub(ident.dh))


@pytest.mark.parametrize(("change", "message"), [
    ("no-index", "malformed roster entry: 'index'"),
    ("not-hex", "malformed roster entry: non-hexadecimal number found in fromhex() arg at "
                "position 0"),
    ("int-key", "malformed roster entry: fromhex() argument must be str, not int"),
    ("short-sign", "trustee 2: roster keys must be 32 bytes"),
    ("short-dh", "trustee 2: roster keys must be 32 bytes"),
])
def test_roster_entry_from_json_rejects(change: str, message: str) -> None:
    obj: dict[str, Any] = {"index": 2, "sign_key": "11" * 32, "dh_key": "22" * 32}
    if change == "no-index":
        del obj["index"]
    elif change == "not-hex":
        obj["sign_key"] = "zz" * 32
    elif change == "int-key":
        obj["dh_key"] = 5
    elif change == "short-sign":
        obj["sign_key"] = "11" * 31
    else:
        obj["dh_key"] = "22" * 33
    with pytest.raises(InvalidEnvelope, match="^" + re.escape(message) + "$"):
        RosterEntry.from_json(obj)


# -- signatures and payloads ------------------------------------------------------------------


def test_signed_message_and_verify_signature() -> None:
    header = {"a": 1}
    assert signed_message(header, b"xy") == b"saylau/v1/dkg-envelope\x00" + b'{"a":1}xy'
    assert ENVELOPE_DOMAIN == b"saylau/v1/dkg-envelope"
    ident = Identity.generate(4)
    key = ident.entry().sign_key
    sig = ident.sign.sign(b"msg")
    verify_signature(key, b"msg", sig, 4)
    for bad_key, bad_sig in ((key, sig[:-1] + bytes([sig[-1] ^ 1])), (key[:31], sig),
                             (Identity.generate(4).entry().sign_key, sig)):
        with pytest.raises(InvalidEnvelope, match=r"^trustee 4: bad signature$") as info:
            verify_signature(bad_key, b"msg", bad_sig, 4)
        assert info.value.culprit == 4
    with pytest.raises(InvalidEnvelope, match=r"^trustee 4: bad signature$"):
        verify_signature(key, b"msh", sig, 4)


def test_payload_encoding() -> None:
    plain = encode_payload({"b": 1, "a": [2]})
    assert SALT_BYTES == 16 and plain[16:] == b'{"a":[2],"b":1}'
    assert encode_payload({}) [:16] != encode_payload({})[:16]  # a fresh salt each time
    assert decode_payload(plain, 1) == {"a": [2], "b": 1}
    assert decode_payload(b"{" * 16 + "{\"é\":1}".encode(), 1) == {"é": 1}


@pytest.mark.parametrize(("plaintext", "message"), [
    (b"x" * 16 + b"not json", "trustee 3: payload is not JSON"),
    (b"x" * 16 + b"\xff\xfe", "trustee 3: payload is not JSON"),
    (b'{"a":1}', "trustee 3: payload is not JSON"),  # no salt: the JSON is cut
    (b"x" * 16 + b"[1]", "trustee 3: payload is not an object"),
    (b"x" * 16 + b"7", "trustee 3: payload is not an object"),
])
def test_decode_payload_rejects(plaintext: bytes, message: str) -> None:
    with pytest.raises(InvalidEnvelope, match=f"^{message}$") as info:
        decode_payload(plaintext, 3)
    assert info.value.culprit == 3


# -- sealing and opening ----------------------------------------------------------------------


def test_broadcast_envelope_layout() -> None:
    net = Net()
    ch1 = net.ch[1]
    env = ch1.seal("r", 0, {"x": 1})
    obj = _env(env)
    header, body = obj["h"], base64.b64decode(obj["b"])
    assert header == {"protocol": PROTOCOL, "sid": SID, "election": "e1", "run": "r1",
                      "round": "r", "sender": 1, "recipient": 0, "seq": 1,
                      "body_hash": hashlib.sha256(body).hexdigest(), "eph": "", "nonce": ""}
    assert PROTOCOL == "saylau-dkg/v1"
    assert body[16:] == b'{"x":1}'
    assert env == canonical_json(obj)
    verify_signature(net.roster[1].sign_key, signed_message(header, body), bytes.fromhex(obj["s"]), 1)
    assert _env(ch1.seal("r", 0, {}))["h"]["seq"] == 2


def test_private_envelope_follows_e1_e3() -> None:
    net = Net()
    env = net.ch[1].seal("r", 2, {"x": 1})
    obj = _env(env)
    header, body = obj["h"], base64.b64decode(obj["b"])
    assert (header["recipient"], header["sender"], header["seq"]) == (2, 1, 1)
    eph_pub, nonce = bytes.fromhex(header["eph"]), bytes.fromhex(header["nonce"])
    assert len(eph_pub) == 32 and len(nonce) == 12
    shared = net.ids[2].dh.exchange(X25519PublicKey.from_public_bytes(eph_pub))
    key = _spec_key(shared, eph_pub, net.roster[2].dh_key)
    plaintext = ChaCha20Poly1305(key).decrypt(nonce, body, canonical_json(header))
    assert plaintext[16:] == b'{"x":1}'
    assert header["body_hash"] == hashlib.sha256(plaintext).hexdigest()
    verify_signature(net.roster[1].sign_key, signed_message(header, body), bytes.fromhex(obj["s"]), 1)
    rec = net.ch[2].open(env, round_name="r", sender=1, private=True)
    assert (rec.sender, rec.payload, rec.envelope, rec.plaintext) == (1, {"x": 1}, env, plaintext)


def test_send_broadcast_logs_and_counts() -> None:
    net = Net()
    ch1 = net.ch[1]
    ch1.broadcast("r", {"b": 1})
    ch1.send("r", 3, {"p": 3})
    assert ch1.sent_log == {("r", 0): {"b": 1}, ("r", 3): {"p": 3}}
    posted = net.relay.messages
    assert set(posted) == {("r", 1, 0), ("r", 1, 3)}
    assert ch1.bytes_sent == sum(len(e) for e in posted.values())
    got = net.ch[3].gather("r", private=False, senders=[1])  # in the order sent (seq)
    assert got[1].payload == {"b": 1}
    assert net.ch[3].recv_log == {("r", 1, 0): got[1]}
    got = net.ch[3].gather("r", private=True, senders=[1])
    assert got[1].payload == {"p": 3}
    assert set(net.ch[3].recv_log) == {("r", 1, 3), ("r", 1, 0)}
    ch1.new_window()
    net.ch[3].new_window()
    assert ch1.sent_log == {} and net.ch[3].recv_log == {}


def _open_error(ch: Channel, env: bytes, *, sender: int, private: bool, round_name: str = "r",
                kind: type[InvalidEnvelope] = InvalidEnvelope, message: str) -> InvalidEnvelope:
    with pytest.raises(kind, match="^" + re.escape(message) + "$") as info:
        ch.open(env, round_name=round_name, sender=sender, private=private)
    assert type(info.value) is kind
    assert info.value.culprit == sender
    return info.value


@pytest.mark.parametrize("change", ["json", "no-h", "b64", "hex", "header-list"])
def test_open_malformed(change: str) -> None:
    net = Net()
    obj = _env(net.ch[1].seal("r", 0, {}))
    if change == "no-h":
        del obj["h"]
    elif change == "b64":
        obj["b"] = obj["b"][:4] + "!" + obj["b"][4:]
    elif change == "hex":
        obj["s"] = "zz"
    elif change == "header-list":
        obj["h"] = [1]
    env = b"{" if change == "json" else canonical_json(obj)
    err = _open_error(net.ch[2], env, sender=1, private=False,
                      message="trustee 1: malformed envelope")
    if change == "header-list":
        assert repr(err.__cause__) == "TypeError('header')"


def test_open_header_that_has_no_canonical_form() -> None:
    """A float in the header (canonical JSON has none): malformed, naming the sender — not an
    untyped encoding error (a relay can inject such an envelope)."""
    net = Net()
    obj = _env(net.ch[1].seal("r", 0, {}))
    obj["h"]["seq"] = 1.5
    env = json.dumps(obj).encode()
    _open_error(net.ch[2], env, sender=1, private=False, message="trustee 1: malformed envelope")
    with pytest.raises(InvalidEnvelope, match=r"^trustee 2: malformed revealed envelope$"):
        open_revealed(env, b"", net.roster, **_reveal_args(net, env))
    _with_key_error(net, env, "is malformed")


def test_open_sender_checks() -> None:
    net = Net()
    env = net.ch[1].seal("r", 0, {})
    _open_error(net.ch[2], env, sender=3, private=False,
                message="trustee 3: envelope claims sender 1")
    del net.ch[2].roster[1]
    _open_error(net.ch[2], env, sender=1, private=False,
                message="trustee 1: envelope claims sender 1")
    obj = _env(env)
    obj["h"]["sender"] = "1"
    _open_error(net.ch[2], canonical_json(obj), sender=1, private=False,
                message="trustee 1: envelope claims sender '1'")


def test_open_checks_the_signature() -> None:
    net = Net()
    obj = _env(net.ch[1].seal("r", 0, {}))
    obj["h"]["round"] = "other"
    _open_error(net.ch[2], canonical_json(obj), sender=1, private=False,
                message="trustee 1: bad signature")
    env = _sign(net.ids[3], _env(net.ch[1].seal("r", 0, {}))["h"], b"x")
    _open_error(net.ch[2], env, sender=1, private=False, message="trustee 1: bad signature")


@pytest.mark.parametrize("field", ["protocol", "sid", "election", "run"])
def test_open_rejects_another_run(field: str) -> None:
    net = Net()
    obj = _env(net.ch[1].seal("r", 0, {}))
    obj["h"][field] = obj["h"][field] + "x"
    env = _sign(net.ids[1], obj["h"], base64.b64decode(obj["b"]))
    _open_error(net.ch[2], env, sender=1, private=False, kind=ReplayedMessage,
                message="trustee 1: message from another run or session")


def test_open_rejects_another_round() -> None:
    net = Net()
    env = net.ch[1].seal("r", 0, {})
    _open_error(net.ch[2], env, sender=1, private=False, round_name="s", kind=ReplayedMessage,
                message="trustee 1: replayed or reordered message (it was signed for round "
                        "'r', not 's')")


def test_open_sequence_numbers() -> None:
    net = Net()
    ch1, ch2 = net.ch[1], net.ch[2]
    first, second = ch1.seal("r", 0, {"n": 1}), ch1.seal("r", 0, {"n": 2})
    assert ch2.open(second, round_name="r", sender=1, private=False).payload == {"n": 2}
    _open_error(ch2, first, sender=1, private=False, kind=ReplayedMessage,
                message="trustee 1: replayed message (sequence number 1 already seen)")
    _open_error(ch2, second, sender=1, private=False, kind=ReplayedMessage,
                message="trustee 1: replayed message (sequence number 2 already seen)")
    # another sender's numbers are separate; a rejected message does not advance them
    assert ch2.open(net.ch[3].seal("r", 0, {}), round_name="r", sender=3,
                    private=False).payload == {}
    bad = _env(ch1.seal("r", 0, {}))
    env = _sign(net.ids[1], {**bad["h"], "body_hash": "00"}, base64.b64decode(bad["b"]))
    _open_error(ch2, env, sender=1, private=False, message="trustee 1: body hash mismatch")
    assert ch2.open(ch1.seal("r", 0, {"n": 4}), round_name="r", sender=1,
                    private=False).payload == {"n": 4}


def test_open_names_the_sender_of_a_bad_payload() -> None:
    net = Net()
    header = _env(net.ch[1].seal("r", 0, {}))["h"]
    body = b"s" * 16 + b"[]"
    header["body_hash"] = hashlib.sha256(body).hexdigest()
    _open_error(net.ch[2], _sign(net.ids[1], header, body), sender=1, private=False,
                message="trustee 1: payload is not an object")


@pytest.mark.parametrize("seq", [0, -1, "5", None])
def test_open_rejects_bad_sequence_numbers(seq: object) -> None:
    net = Net()
    obj = _env(net.ch[1].seal("r", 0, {}))
    obj["h"]["seq"] = seq
    env = _sign(net.ids[1], obj["h"], base64.b64decode(obj["b"]))
    _open_error(net.ch[2], env, sender=1, private=False, kind=ReplayedMessage,
                message=f"trustee 1: replayed message (sequence number {seq} already seen)")


def test_open_checks_the_recipient() -> None:
    net = Net()
    ch1 = net.ch[1]
    _open_error(net.ch[3], ch1.seal("r", 2, {}), sender=1, private=True,
                message="trustee 1: message addressed to 2")
    _open_error(net.ch[2], ch1.seal("r", 2, {}), sender=1, private=False,
                message="trustee 1: message addressed to 2")
    _open_error(net.ch[2], ch1.seal("r", 0, {}), sender=1, private=True,
                message="trustee 1: message addressed to 0")


@pytest.mark.parametrize("change", ["eph", "nonce", "no-eph", "body", "eph-short"])
def test_open_private_that_does_not_decrypt(change: str) -> None:
    net = Net()
    obj = _env(net.ch[1].seal("r", 2, {"x": 1}))
    header, body = obj["h"], base64.b64decode(obj["b"])
    if change == "eph":
        header["eph"] = _pub(X25519PrivateKey.generate()).hex()
    elif change == "nonce":
        header["nonce"] = "00" * 12
    elif change == "no-eph":
        del header["eph"]
    elif change == "eph-short":
        header["eph"] = header["eph"][:-2]
    else:
        body = body[:-1] + bytes([body[-1] ^ 1])
    env = _sign(net.ids[1], header, body)
    _open_error(net.ch[2], env, sender=1, private=True,
                message="trustee 1: message does not decrypt")


def test_open_private_binds_the_header() -> None:
    """The header is the AEAD's associated data: a re-signed header with another body hash
    no longer decrypts."""
    net = Net()
    obj = _env(net.ch[1].seal("r", 2, {"x": 1}))
    header = {**obj["h"], "body_hash": "00" * 32}
    env = _sign(net.ids[1], header, base64.b64decode(obj["b"]))
    _open_error(net.ch[2], env, sender=1, private=True,
                message="trustee 1: message does not decrypt")


def test_open_private_body_hash() -> None:
    net = Net()
    ident1, dh2 = net.ids[1], net.roster[2].dh_key
    eph = X25519PrivateKey.generate()
    header = {"protocol": PROTOCOL, "sid": SID, "election": "e1", "run": "r1", "round": "r",
              "sender": 1, "recipient": 2, "seq": 1, "body_hash": "00" * 32,
              "eph": _pub(eph).hex(), "nonce": "00" * 12}
    key = _spec_key(eph.exchange(X25519PublicKey.from_public_bytes(dh2)), _pub(eph), dh2)
    body = ChaCha20Poly1305(key).encrypt(bytes(12), b"s" * 16 + b"{}", canonical_json(header))
    _open_error(net.ch[2], _sign(ident1, header, body), sender=1, private=True,
                message="trustee 1: body hash mismatch")
    header["body_hash"] = hashlib.sha256(b"s" * 16 + b"{}").hexdigest()
    body = ChaCha20Poly1305(key).encrypt(bytes(12), b"s" * 16 + b"{}", canonical_json(header))
    assert net.ch[2].open(_sign(ident1, header, body), round_name="r", sender=1,
                          private=True).payload == {}


# -- gather ----------------------------------------------------------------------------------


class SlowRelay(MemoryRelay):
    """Hands out the messages only from the ``after``-th fetch on; counts the fetches."""

    def __init__(self, after: int) -> None:
        super().__init__()
        self.after = after
        self.fetches: list[list[int] | None] = []

    def fetch(self, round_name: str, recipient: int,
              senders: list[int] | None = None) -> list[tuple[int, int, bytes]]:
        self.fetches.append(senders)
        if len(self.fetches) < self.after:
            return []
        return super().fetch(round_name, recipient, senders)


def test_gather_polls_with_growing_delays() -> None:
    net = Net()
    relay = SlowRelay(after=8)
    relay.messages = net.relay.messages
    sleeps: list[float] = []
    ch = Channel(net.ids[3], relay, election="e1", run="r1", poll=0.1, timeout=5.0,
                 sleep=sleeps.append)
    ch.sid, ch.roster = SID, dict(net.roster)
    net.ch[1].broadcast("r", {"a": 1})
    net.ch[2].broadcast("r", {"a": 2})
    got = ch.gather("r", private=False)
    assert {s: r.payload for s, r in got.items()} == {1: {"a": 1}, 2: {"a": 2}}
    assert sleeps == pytest.approx([0.1, 0.15, 0.225, 0.25, 0.25, 0.25, 0.25])
    assert relay.fetches == [[1, 2]] * 8


def test_gather_asks_only_for_the_missing() -> None:
    net = Net()
    relay = SlowRelay(after=0)
    relay.messages = net.relay.messages
    ch = Channel(net.ids[3], relay, election="e1", run="r1", timeout=5.0,
                 sleep=lambda _d: net.ch[2].broadcast("r", {"a": 2}))
    ch.sid, ch.roster = SID, dict(net.roster)
    net.ch[1].broadcast("r", {"a": 1})
    got = ch.gather("r", private=False)
    assert sorted(got) == [1, 2]
    assert relay.fetches == [[1, 2], [2]]


def test_gather_ignores_other_messages() -> None:
    net = Net()
    net.ch[1].broadcast("r", {"b": 1})
    net.ch[1].send("r", 2, {"p": 2})
    net.ch[2].send("r", 3, {"p": 3})
    net.ch[3].broadcast("r", {"mine": 3})
    got = net.ch[2].gather("r", private=False, senders=[1, 2])
    assert {s: r.payload for s, r in got.items()} == {1: {"b": 1}}
    got = net.ch[2].gather("r", private=True, senders=[1])
    assert {s: r.payload for s, r in got.items()} == {1: {"p": 2}}


class LyingRelay(MemoryRelay):
    """Ignores the recipient and sender filters: every message of the round, own ones too."""

    def fetch(self, round_name: str, recipient: int,
              senders: list[int] | None = None) -> list[tuple[int, int, bytes]]:
        return [(s, r, e) for (rn, s, r), e in self.messages.items() if rn == round_name]


def test_gather_keeps_only_wanted_senders_and_the_right_kind() -> None:
    net = Net()
    relay = LyingRelay()
    relay.messages = net.relay.messages
    ch = Channel(net.ids[2], relay, election="e1", run="r1", timeout=-1.0)
    ch.sid, ch.roster = SID, dict(net.roster)
    net.ch[2].broadcast("r", {"own": 1})
    net.ch[3].broadcast("r", {"b": 3})
    net.ch[1].send("r", 3, {"to": 3})
    with pytest.raises(DkgTimeout, match=r"^round r: no message from trustee\(s\) 1$"):
        ch.gather("r", private=False)
    net.ch[1].broadcast("r", {"b": 1})
    got = ch.gather("r", private=False)
    assert {s: r.payload for s, r in got.items()} == {1: {"b": 1}, 3: {"b": 3}}
    with pytest.raises(DkgTimeout, match=r"^round r: no message from trustee\(s\) 3$"):
        ch.gather("r", private=True, senders=[3])
    with pytest.raises(DkgTimeout, match=r"^round r: no message from trustee\(s\) 1$"):
        ch.gather("r", private=True, senders=[1])  # 1 wrote to 3, not to 2


def test_gather_times_out_naming_the_missing() -> None:
    net = Net()
    sleeps: list[float] = []
    ch = Channel(net.ids[1], net.relay, election="e1", run="r1", timeout=-1.0,
                 sleep=sleeps.append)
    ch.sid, ch.roster = SID, dict(net.roster)
    with pytest.raises(DkgTimeout, match=r"^round r: no message from trustee\(s\) 2, 3$") as info:
        ch.gather("r", private=False)
    assert info.value.culprit == 2 and sleeps == []
    net.ch[2].broadcast("r", {})
    with pytest.raises(DkgTimeout, match=r"^round r: no message from trustee\(s\) 3$") as info:
        ch.gather("r", private=False)
    assert info.value.culprit == 3
    assert ch.gather("r", private=False, senders=[2])[2].payload == {}
    assert ch.gather("r", private=False, senders=[1]) == {}  # only itself: nothing to wait for


def test_gather_deadline_on_a_fake_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The clock reads 0, 1, 2, …: with timeout 1 the deadline is 1; a poll at time 1 is
    still in time (one more sleep), the poll at time 2 is not."""
    ticks = iter(range(100))
    monkeypatch.setattr("crypto.dkg.channel.time.monotonic", lambda: float(next(ticks)))
    net = Net()
    sleeps: list[float] = []
    ch = Channel(net.ids[1], net.relay, election="e1", run="r1", timeout=1.0, poll=0.5,
                 sleep=sleeps.append)
    ch.sid, ch.roster = SID, dict(net.roster)
    with pytest.raises(DkgTimeout, match=r"^round r: no message from trustee\(s\) 2, 3$"):
        ch.gather("r", private=False)
    assert sleeps == [0.5]


def test_gather_checks_what_it_collects() -> None:
    net = Net()
    net.relay.post("r", 2, 0, b"junk")
    net.ch[3].broadcast("r", {})
    with pytest.raises(InvalidEnvelope, match=r"^trustee 2: malformed envelope$"):
        net.ch[1].gather("r", private=False)


def test_channel_defaults() -> None:
    net = Net()
    ch = Channel(net.ids[1], net.relay, election="e1", run="r1")
    assert (ch.poll, ch.timeout, ch.sid, ch.roster, ch.bytes_sent) == (0.02, 600.0, "", {}, 0)
    assert (ch.index, ch.election, ch.run, ch.relay, ch.identity) == (1, "e1", "r1", net.relay,
                                                                      net.ids[1])


# -- pair seeds (D3) -------------------------------------------------------------------------


def test_pair_seed_is_shared_and_follows_d3() -> None:
    net = Net()
    s12 = net.ch[1].pair_seed(2)
    assert s12 == net.ch[2].pair_seed(1)
    assert s12 != net.ch[1].pair_seed(3) and len(s12) == 32
    shared = net.ids[1].dh.exchange(X25519PublicKey.from_public_bytes(net.roster[2].dh_key))
    info = b"saylau/v1/dkg-pair-seed" + SID.encode() + b"\x00\x01\x00\x02"
    assert SEED_DOMAIN == b"saylau/v1/dkg-pair-seed"
    assert s12 == HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(shared)
    net.ch[1].sid = "other"
    assert net.ch[1].pair_seed(2) != s12


# -- revealed messages (D12, §4.7.10) -------------------------------------------------------


def _reveal_args(net: Net, env: bytes, **kw: Any) -> dict[str, Any]:
    args: dict[str, Any] = {"sid": SID, "round_name": "r", "sender": 1, "recipient": 2}
    args.update(kw)
    return args


def test_open_revealed() -> None:
    net = Net()
    env = net.ch[1].seal("r", 2, {"x": 1})
    rec = net.ch[2].open(env, round_name="r", sender=1, private=True)
    assert open_revealed(env, rec.plaintext, net.roster, **_reveal_args(net, env)) == {"x": 1}


@pytest.mark.parametrize(("change", "message"), [
    ("json", "trustee 2: malformed revealed envelope"),
    ("no-s", "trustee 2: malformed revealed envelope"),
    ("sig", "trustee 2: revealed envelope is not signed by trustee 1"),
    ("sid", "trustee 2: revealed envelope is for another message"),
    ("round", "trustee 2: revealed envelope is for another message"),
    ("sender", "trustee 2: revealed envelope is not signed by trustee 3"),
    ("recipient", "trustee 2: revealed envelope is for another message"),
    ("plaintext", "trustee 2: revealed plaintext does not match the signed hash"),
])
def test_open_revealed_rejects(change: str, message: str) -> None:
    net = Net()
    env = net.ch[1].seal("r", 2, {"x": 1})
    plaintext = net.ch[2].open(env, round_name="r", sender=1, private=True).plaintext
    kw: dict[str, Any] = {}
    if change == "json":
        env = b"{"
    elif change == "no-s":
        obj = _env(env)
        del obj["s"]
        env = canonical_json(obj)
    elif change == "sig":
        obj = _env(env)
        obj["h"]["seq"] = 7
        env = canonical_json(obj)
    elif change == "sid":
        kw["sid"] = "cd" * 32
    elif change == "round":
        kw["round_name"] = "s"
    elif change == "sender":
        kw["sender"] = 3
    elif change == "recipient":
        env = _sign(net.ids[1], {**_env(env)["h"], "recipient": 3}, b"")
    else:
        plaintext = plaintext[:-1] + b" "
    with pytest.raises(InvalidEnvelope, match="^" + re.escape(message) + "$") as info:
        open_revealed(env, plaintext, net.roster, **_reveal_args(net, env, **kw))
    assert info.value.culprit == 2
    if change in ("sig", "sender"):
        assert str(info.value.__cause__) == f"trustee {kw.get('sender', 1)}: bad signature"


def test_open_revealed_names_the_sender_for_a_bad_payload() -> None:
    net = Net()
    header = _env(net.ch[1].seal("r", 2, {}))["h"]
    plaintext = b"s" * 16 + b"[]"
    header["body_hash"] = hashlib.sha256(plaintext).hexdigest()
    env = _sign(net.ids[1], header, b"")
    with pytest.raises(InvalidEnvelope, match=r"^trustee 1: payload is not an object$") as info:
        open_revealed(env, plaintext, net.roster, **_reveal_args(net, env))
    assert info.value.culprit == 1


def test_open_with_key() -> None:
    net = Net()
    env = net.ch[1].seal("r", 2, {"x": 1})
    rec = open_with_key(env, net.ids[2].dh, net.roster, **_reveal_args(net, env))
    assert (rec.sender, rec.payload, rec.envelope) == (1, {"x": 1}, env)
    assert rec.plaintext == net.ch[2].open(env, round_name="r", sender=1, private=True).plaintext


def _with_key_error(net: Net, env: bytes, what: str, *, dh: X25519PrivateKey | None = None,
                    cause: bool = True, **kw: Any) -> InvalidEnvelope:
    args = _reveal_args(net, env, **kw)
    message = (f"trustee {args['recipient']}: revealed message from trustee {args['sender']} "
               f"in round {args['round_name']} {what}")
    with pytest.raises(InvalidEnvelope, match="^" + re.escape(message) + "$") as info:
        open_with_key(env, dh or net.ids[2].dh, net.roster, **args)
    assert info.value.culprit == args["recipient"]
    assert (info.value.__cause__ is not None) == cause
    return info.value


@pytest.mark.parametrize("change", ["json", "b64", "hex", "header-list", "no-h"])
def test_open_with_key_malformed(change: str) -> None:
    net = Net()
    obj = _env(net.ch[1].seal("r", 2, {}))
    if change == "b64":
        obj["b"] = obj["b"][:4] + "!" + obj["b"][4:]
    elif change == "hex":
        obj["s"] = "zz"
    elif change == "header-list":
        obj["h"] = [1]
    elif change == "no-h":
        del obj["h"]
    env = b"{" if change == "json" else canonical_json(obj)
    err = _with_key_error(net, env, "is malformed")
    if change == "header-list":
        assert repr(err.__cause__) == "TypeError('header')"


def test_open_with_key_checks() -> None:
    net = Net()
    env = net.ch[1].seal("r", 2, {"x": 1})
    err = _with_key_error(net, env, "is not signed by its sender", sender=3)
    assert str(err.__cause__) == "trustee 3: bad signature"
    for field in ("protocol", "sid", "round", "sender", "recipient"):
        obj = _env(env)
        obj["h"][field] = {"sender": 3, "recipient": 3}.get(field, "x")
        _with_key_error(net, _sign(net.ids[1], obj["h"], base64.b64decode(obj["b"])),
                        "is for another message", cause=False)
    _with_key_error(net, env, "is for another message", cause=False, sid="x")
    _with_key_error(net, env, "is for another message", cause=False, round_name="x")
    _with_key_error(net, env, "does not decrypt", dh=X25519PrivateKey.generate())
    obj = _env(env)
    obj["h"]["nonce"] = "zz"
    _with_key_error(net, _sign(net.ids[1], obj["h"], base64.b64decode(obj["b"])),
                    "does not decrypt")
    obj = _env(env)
    del obj["h"]["eph"]
    _with_key_error(net, _sign(net.ids[1], obj["h"], base64.b64decode(obj["b"])),
                    "does not decrypt")


def test_open_with_key_body_hash() -> None:
    net = Net()
    dh2 = net.roster[2].dh_key
    eph = X25519PrivateKey.generate()
    header = {"protocol": PROTOCOL, "sid": SID, "election": "e1", "run": "r1", "round": "r",
              "sender": 1, "recipient": 2, "seq": 1, "body_hash": "00" * 32,
              "eph": _pub(eph).hex(), "nonce": "00" * 12}
    key = _spec_key(eph.exchange(X25519PublicKey.from_public_bytes(dh2)), _pub(eph), dh2)
    body = ChaCha20Poly1305(key).encrypt(bytes(12), b"s" * 16 + b"{}", canonical_json(header))
    _with_key_error(net, _sign(net.ids[1], header, body), "does not match its signed hash",
                    cause=False)
    # a well-formed message whose payload is not an object: the sender is named
    header["body_hash"] = hashlib.sha256(b"s" * 16 + b"[]").hexdigest()
    body = ChaCha20Poly1305(key).encrypt(bytes(12), b"s" * 16 + b"[]", canonical_json(header))
    env = _sign(net.ids[1], header, body)
    with pytest.raises(InvalidEnvelope, match=r"^trustee 1: payload is not an object$") as info:
        open_with_key(env, net.ids[2].dh, net.roster, **_reveal_args(net, env))
    assert info.value.culprit == 1
