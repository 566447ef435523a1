"""The blame round (docs §4.7.10): a trustee who deviates inside the BGW computation —
where no single message can be checked — is named by replaying it from its revealed run
seed; a trustee who reveals a wrong key, or nothing, is named too."""

from __future__ import annotations

import pytest

from crypto.dkg.errors import BlameInconclusive, CheatingTrustee
from crypto.dkg.params import BPT_ROUNDS, DkgParams
from crypto.dkg.protocol import DkgParty
from tests.dkg.helpers import memory_run, planted

P3 = DkgParams(1024, 3, 2, batch=8, allow_test_key=True)  # ℓ = 2t+1: no redundancy
P4 = DkgParams(1024, 4, 2, batch=8, allow_test_key=True)  # ℓ > 2t+1: detected at opening
P5 = DkgParams(1024, 5, 3, batch=8, allow_test_key=True)  # ℓ = 2t+1, t = 2


def _planted(params: DkgParams) -> type[DkgParty]:
    base, _ = planted(params)

    class Budgeted(base):  # type: ignore[valid-type, misc]
        candidate_budget = params.batch  # blame after the first batch (B0)

    return Budgeted


def _named(params: DkgParams, classes: dict[int, type[DkgParty]], cheater: int,
           match: str) -> None:
    results, errors = memory_run(params, classes, timeout=20.0)
    assert not results, results
    honest = {i: e for i, e in errors.items() if i != cheater}
    assert len(honest) == params.trustees - 1, errors
    for exc in honest.values():
        with pytest.raises(CheatingTrustee, match=match):
            raise exc
        assert isinstance(exc, CheatingTrustee) and exc.culprit == cheater


def _wrong_product(base: type[DkgParty]) -> type[DkgParty]:
    class WrongProduct(base):  # type: ignore[valid-type, misc]
        def _open(self, round_name, mine, degree, prime):
            if round_name.endswith(":prod"):
                mine = [(mine[0] + 1) % prime, *mine[1:]]
            return super()._open(round_name, mine, degree, prime)

    return WrongProduct


@pytest.mark.parametrize(("params", "cheater"), [(P3, 2), (P4, 3), (P5, 4)])
def test_wrong_product_share_is_named(params, cheater):
    base = _planted(params)
    classes = {i: base for i in range(1, params.trustees + 1)}
    classes[cheater] = _wrong_product(base)
    _named(params, classes, cheater,
           rf"^trustee {cheater} sent a wrong product share in round s0:prod")


def test_wrong_w_share_is_named():
    base = _planted(P3)

    class WrongW(base):  # type: ignore[valid-type, misc]
        def _open(self, round_name, mine, degree, prime):
            if round_name.endswith(":W"):
                mine = [(mine[0] + 12345) % prime]
            return super()._open(round_name, mine, degree, prime)

    _named(P3, {1: base, 2: base, 3: WrongW}, 3,
           r"^trustee 3 sent a wrong \[W\] share in round s0:c0:W .*confirmation")


def test_wrong_biprimality_value_is_named():
    base = _planted(P3)

    class WrongV(base):  # type: ignore[valid-type, misc]
        def _bf_values(self, n, p_i, q_i, gs):
            vals = super()._bf_values(n, p_i, q_i, gs)
            if len(gs) == BPT_ROUNDS:  # the final candidate's test: it fails, no key
                vals[5] = vals[5] * 2 % n
            return vals

    _named(P3, {1: WrongV, 2: base, 3: base}, 1,
           r"^trustee 1 sent wrong biprimality values in round s0:c0:bpt")


def _wrong_explicit(base: type[DkgParty]) -> type[DkgParty]:
    class WrongExplicit(base):  # type: ignore[valid-type, misc]
        def share_out(self, round_name, what, secrets_vec, degree, prime):
            explicit, own = super().share_out(round_name, what, secrets_vec, degree, prime)
            if what == "p":
                j = min(explicit)
                explicit = {**explicit, j: [(explicit[j][0] + 1) % prime, *explicit[j][1:]]}
            return explicit, own

    return WrongExplicit


@pytest.mark.parametrize(("params", "cheater", "victim"), [(P3, 2, 1), (P4, 1, 3)])
def test_wrong_explicit_shamir_share_is_named(params, cheater, victim):
    base = _planted(params)
    classes = {i: base for i in range(1, params.trustees + 1)}
    classes[cheater] = _wrong_explicit(base)
    _named(params, classes, cheater,
           rf"^trustee {cheater} sent wrong Shamir shares to trustee {victim} in round s0:share")


def test_wrong_revealed_dh_key_is_named():
    base = _planted(P3)
    cheat = _wrong_product(base)

    class Liar(cheat):  # type: ignore[valid-type, misc]
        def blame_secrets(self):
            seed, _dh = super().blame_secrets()
            return seed, bytes(range(32))

    _named(P3, {1: base, 2: base, 3: Liar}, 3,
           "trustee 3 revealed an X25519 key that is not its roster key")


def test_refusing_to_reveal_is_named():
    base = _planted(P3)
    cheat = _wrong_product(base)

    class Refuser(cheat):  # type: ignore[valid-type, misc]
        def blame(self, reason):
            raise RuntimeError("I reveal nothing")

    results, errors = memory_run(P3, {1: base, 2: Refuser, 3: base}, timeout=3.0)
    for i in (1, 3):
        with pytest.raises(CheatingTrustee, match="trustee 2 did not take part in the blame "
                                                  "round"):
            raise errors[i]
        assert errors[i].culprit == 2  # type: ignore[attr-defined]


def test_honest_budget_exhaustion_names_nobody():
    """No planted biprime, a one-batch budget: the run stops, everyone is replayed, and
    nobody is blamed (every honest replay reproduces the signed messages)."""

    class Honest(DkgParty):
        candidate_budget = P3.batch

    results, errors = memory_run(P3, {i: Honest for i in (1, 2, 3)}, timeout=20.0)
    assert not results and len(errors) == 3
    for exc in errors.values():
        with pytest.raises(BlameInconclusive, match="found no deviation"):
            raise exc


class _OneBatch(DkgParty):
    candidate_budget = P3.batch  # no planted biprime: the budget (B0) starts the blame round


def test_withheld_reveal_is_named():
    class Withholder(_OneBatch):
        def blame(self, reason):
            key = next(k for k in self.ch.recv_log if k[1] == 1 and k[2] == self.index)
            del self.ch.recv_log[key]  # does not reveal what trustee 1 sent it
            super().blame(reason)

    _named(P3, {1: _OneBatch, 2: _OneBatch, 3: Withholder}, 3,
           "trustee 3 did not reveal the message it received from trustee 1 in round s0:share")


def test_substituted_reveal_is_named():
    from dataclasses import replace

    class Substituter(_OneBatch):
        def blame(self, reason):
            log = self.ch.recv_log
            key = next(k for k in log if k[1] == 1 and k[2] == self.index)
            # reveal another (genuinely signed) message of trustee 1 in its place
            other = log[("s0:prod", 1, 0)]
            log[key] = replace(log[key], envelope=other.envelope)
            super().blame(reason)

    _named(P3, {1: _OneBatch, 2: Substituter, 3: _OneBatch}, 2,
           "trustee 2 revealed a message from trustee 1 in round s0:share that it did not "
           "receive")
