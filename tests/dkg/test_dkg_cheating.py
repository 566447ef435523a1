"""A trustee who cheats at a step is detected and named; the run aborts everywhere."""

from __future__ import annotations

import threading

import pytest

from crypto.dkg.channel import Channel, Identity, MemoryRelay
from crypto.dkg.errors import (
    DkgError,
    FalseComplaint,
    InvalidDkgShare,
    ParameterMismatch,
    ReplayedMessage,
)
from crypto.dkg.params import DkgParams
from tests.dkg.helpers import planted, run_parties

PARAMS = DkgParams(1024, 3, 2, batch=8, allow_test_key=True)


def _run(classes, params=PARAMS, relay=None):
    relay = relay or MemoryRelay()
    return run_parties(params, lambda _i: relay, classes, timeout=8.0)


def _honest_errors(errors, cheater):
    """Every honest trustee aborted; return their errors."""
    honest = {i: e for i, e in errors.items() if i != cheater}
    assert len(honest) == PARAMS.trustees - 1, errors
    return list(honest.values())


def test_wrong_share_is_named():
    base, _ = planted(PARAMS)

    class WrongShare(base):  # type: ignore[valid-type, misc]
        def outgoing_reshare(self, shares, commitments):  # type: ignore[no-untyped-def]
            shares = dict(shares)
            shares[1] += 1  # trustee 1 gets a share off by one
            return shares, commitments

    results, errors = _run({1: base, 2: WrongShare, 3: base})
    for exc in _honest_errors(errors, 2):
        with pytest.raises(InvalidDkgShare, match="trustee 2 sent trustee 1 a share"):
            raise exc
        assert exc.culprit == 2


def test_wrong_commitment_is_named():
    base, _ = planted(PARAMS)

    class WrongCommitment(base):  # type: ignore[valid-type, misc]
        def outgoing_reshare(self, shares, commitments):  # type: ignore[no-untyped-def]
            commitments = list(commitments)
            commitments[1] = commitments[0]  # a valid unit, but not v^(a_1)
            return shares, commitments

    results, errors = _run({1: base, 2: base, 3: WrongCommitment})
    for exc in _honest_errors(errors, 3):
        with pytest.raises(InvalidDkgShare, match="trustee 3 sent trustee [12] a share"):
            raise exc
        assert exc.culprit == 3


def test_false_complaint_names_the_complainer():
    base, _ = planted(PARAMS)

    class Complainer(base):  # type: ignore[valid-type, misc]
        def _reshare(self, n, v, d_i):  # type: ignore[no-untyped-def]
            # pretend trustee 2's (correct) share failed: complain with the genuine reveal
            original = self.ch.broadcast

            def broadcast(round_name, payload):  # type: ignore[no-untyped-def]
                if round_name == "reshare:complain" and not payload["complaints"]:
                    rec = self._last_shares[2]
                    import base64

                    payload = {"complaints": [{
                        "against": 2, "envelope": base64.b64encode(rec.envelope).decode(),
                        "plaintext": base64.b64encode(rec.plaintext).decode()}]}
                return original(round_name, payload)

            gather = self.ch.gather

            def gather_and_keep(round_name, **kw):  # type: ignore[no-untyped-def]
                got = gather(round_name, **kw)
                if round_name == "reshare:share":
                    self._last_shares = got
                return got

            self.ch.broadcast = broadcast  # type: ignore[method-assign]
            self.ch.gather = gather_and_keep  # type: ignore[method-assign]
            return super()._reshare(n, v, d_i)

    results, errors = _run({1: base, 2: base, 3: Complainer})
    for exc in _honest_errors(errors, 3):
        with pytest.raises(FalseComplaint, match="trustee 3 complained about a correct share "
                                                 "from trustee 2"):
            raise exc


class ReplayRelay(MemoryRelay):
    """A relay through which the cheater re-posts its signed opening of ``N`` in a
    later round (the relay or the trustee itself replays an old message)."""

    def __init__(self, cheater: int, round_prefix: str) -> None:
        super().__init__()
        self.cheater = cheater
        self.round_prefix = round_prefix
        self.first: dict[int, bytes] = {}

    def post(self, round_name, sender, recipient, envelope):  # type: ignore[no-untyped-def]
        if sender == self.cheater and round_name.endswith(":prod") and recipient == 0:
            self.first.setdefault(recipient, envelope)
        if (sender == self.cheater and round_name.startswith(self.round_prefix)
                and recipient == 0 and 0 in self.first):
            envelope = self.first[0]  # replay the opening of N in a later round
        super().post(round_name, sender, recipient, envelope)


def test_replayed_message_is_named():
    base, _ = planted(PARAMS)
    relay = ReplayRelay(cheater=2, round_prefix="confirm")
    results, errors = _run({1: base, 2: base, 3: base}, relay=relay)
    for exc in _honest_errors(errors, 2):
        with pytest.raises(ReplayedMessage, match="trustee 2: replayed or reordered message"):
            raise exc


def test_different_parameters_are_named():
    base, _ = planted(PARAMS)
    other = DkgParams(1024, 3, 2, batch=16, allow_test_key=True)
    relay = MemoryRelay()
    errs: dict[int, BaseException] = {}

    def go(i, params):  # type: ignore[no-untyped-def]
        ident = Identity.generate(i)
        ch = Channel(ident, relay, election="e1", run="r1", timeout=5.0, poll=0.005)
        try:
            base(params, ident, ch).hello()
        except DkgError as exc:
            errs[i] = exc

    threads = [threading.Thread(target=go, args=(i, other if i == 3 else PARAMS))
               for i in (1, 2, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in (1, 2):
        with pytest.raises(ParameterMismatch, match="trustee 3 announced different parameters"):
            raise errs[i]
