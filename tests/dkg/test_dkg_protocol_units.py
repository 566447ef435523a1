"""Fast tests of one trustee's protocol (``crypto/dkg/protocol.py``, docs §4.7, D0–D16).

Whole runs here use 512-bit test keys with a planted biprime (``tests/dkg/helpers.py``) and a
candidate budget of one batch, so a run takes a fraction of a second and a broken sieve ends in
the blame round instead of searching on: the file is cheap enough to run once per mutant
(``tools/mutate``, docs/testing.md).  The expected values are computed here from the equations
of docs §4.7 (D1, D3, D6, D12, D13), not by calling the method under test.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import threading
from typing import Any

import gmpy2
import pytest
from cryptography.hazmat.primitives import serialization

from crypto.dkg.arith import (
    combine_vectors,
    derive_v,
    lagrange_at,
    pack_vec,
    prg_vector,
    signed_hex,
)
from crypto.dkg.channel import (
    Channel,
    Identity,
    MemoryRelay,
    Received,
    encode_payload,
    verify_signature,
)
from crypto.dkg.errors import (
    CheatingTrustee,
    DkgError,
    DkgTimeout,
    FalseComplaint,
    InvalidCommitment,
    InvalidDkgShare,
    InvalidEnvelope,
    KeyConfirmationFailed,
    ParameterMismatch,
)
from crypto.dkg.params import BPT_ROUNDS, TRIAL_DIVISION_BOUND, DkgParams, primorial
from crypto.dkg.protocol import (
    BUDGET_FACTOR,
    SEED_BYTES,
    DkgParty,
    DkgResult,
    _BudgetExceeded,
    commitment_product_all,
    default_budget,
    powmod_signed,
)
from crypto.dkg.transcript import (
    SIGN_DOMAIN,
    commitment_product,
    session_id,
    transcript_digest,
    verify_transcript,
)
from crypto.paillier import encrypt
from crypto.threshold import combine, partial_decrypt
from tests.dkg.helpers import additive, planted_prime

P3 = DkgParams(512, 3, 2, batch=1, allow_test_key=True)
P8 = DkgParams(1024, 3, 2, batch=8, allow_test_key=True)
P5 = DkgParams(512, 5, 3, batch=1, allow_test_key=True)


def _seed(i: int, tag: str = "") -> bytes:
    return hashlib.sha256(f"seed {tag}{i}".encode()).digest()


def planted_class(params: DkgParams, count: int = 1, base: type[DkgParty] = DkgParty,
                  fixed_seed: bool = True) -> tuple[type[DkgParty], list[tuple[int, int]]]:
    """Trustees whose first ``count`` candidates of batch 0 are planted biprimes ``p·q``;
    σ_i fixed (so the other candidates are known), budget one batch (B0)."""
    primes = [(planted_prime(params), planted_prime(params)) for _ in range(count)]
    shares = [(additive(p, params), additive(q, params)) for p, q in primes]

    class Planted(base):  # type: ignore[valid-type, misc]
        candidate_budget = params.batch

        def __init__(self, *a: Any, **kw: Any) -> None:
            super().__init__(*a, **kw)
            if fixed_seed:
                self.seed = _seed(self.index)

        def _candidates(self, n: int) -> tuple[list[int], list[int]]:
            a, b = super()._candidates(n)
            if self.batch_no == 0:
                for c, (ps, qs) in enumerate(shares):
                    a[c], b[c] = ps[self.index - 1], qs[self.index - 1]
            return a, b

    return Planted, primes


def run_all(params: DkgParams, classes: dict[int, type[DkgParty]], *, timeout: float = 4.0,
            election: str = "e1", run: str = "r1", wait_for: set[int] | None = None
            ) -> tuple[dict[int, DkgResult], dict[int, Any], dict[int, list[str]],
                       MemoryRelay]:
    relay = MemoryRelay()
    results: dict[int, DkgResult] = {}
    errors: dict[int, Any] = {}
    progress: dict[int, list[str]] = {i: [] for i in classes}

    def go(i: int) -> None:
        try:
            identity = Identity.generate(i)
            channel = Channel(identity, relay, election=election, run=run, timeout=timeout,
                              poll=0.002)
            results[i] = classes[i](params, identity, channel,
                                    progress=progress[i].append).run()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors[i] = exc

    threads = {i: threading.Thread(target=go, args=(i,), daemon=True) for i in classes}
    for t in threads.values():
        t.start()
    # a cheating trustee may wait for messages that never come: only ``wait_for`` is joined
    for i in wait_for or set(classes):
        threads[i].join()
    return results, errors, progress, relay


def expected_ns(params: DkgParams, count: int, planted: list[tuple[int, int]]) -> list[int]:
    """``N_c = (Σ_i p_ic)·(Σ_i q_ic)`` from D1 with the fixed seeds (and the planted ones)."""
    m = (params.share_range // 4).bit_length() - 1
    base = 3 << (params.half - 2)
    ns = []
    for c in range(count):
        if c < len(planted):
            ns.append(planted[c][0] * planted[c][1])
            continue
        tot_p = tot_q = 0
        for i in range(1, params.trustees + 1):
            xp = prg_vector(_seed(i), "self:s0:p", count, 1 << m)[c]
            xq = prg_vector(_seed(i), "self:s0:q", count, 1 << m)[c]
            extra = base + 3 if i == 1 else 0
            tot_p += 4 * xp + extra
            tot_q += 4 * xq + extra
        ns.append(tot_p * tot_q)
    return ns


# ---------------------------------------------------------------------------- an honest run
@pytest.fixture(scope="module")
def honest() -> tuple[dict[int, DkgResult], dict[int, list[str]], list[tuple[int, int]],
                      MemoryRelay]:
    cls, planted = planted_class(P8)

    class Spy(cls):  # type: ignore[valid-type, misc]
        def open_shares(self, shares: dict[int, list[int]], degree: int,
                        prime: int) -> list[int]:
            out = super().open_shares(shares, degree, prime)
            if len(out) == P8.batch:
                OPENED[self.index] = out
            return out

    results, errors, progress, relay = run_all(P8, {1: Spy, 2: Spy, 3: Spy})
    assert errors == {}
    return results, progress, planted, relay


#: what each trustee of the honest run opened in round s0:prod
OPENED: dict[int, list[int]] = {}


def _check_agrees_on_the_planted_key(honest: Any) -> None:
    results, _progress, planted, _relay = honest
    (p, q), = planted
    keys = {i: r.public_key for i, r in results.items()}
    assert keys[1] == keys[2] == keys[3]
    tpk = keys[1]
    assert tpk.n == p * q
    assert (tpk.threshold, tpk.trustees, tpk.share_bits) == (2, 3, P8.share_bits)
    assert results[1].transcript == results[2].transcript == results[3].transcript
    assert verify_transcript(results[1].transcript, election="e1") == tpk
    # θ of the key is Δ·θ mod N (D14), θ = W mod N the opened value (D9)
    t = results[1].transcript
    w, theta = int(t["theta"]["w"], 16), int(t["theta"]["theta"], 16)
    assert theta == w % tpk.n and math.gcd(theta, tpk.n) == 1
    assert tpk.theta == P8.delta * theta % tpk.n


def _check_shares_decrypt_in_every_pair(honest: Any) -> None:
    results, *_ = honest
    tpk = results[1].public_key
    for i, r in results.items():
        assert r.share.index == i and r.share.public == tpk
        assert 0 <= r.share.s < 1 << P8.share_bits
    fp = tpk.fingerprint()
    c, _r = encrypt(tpk.public, 4242)
    for pair in ((1, 2), (1, 3), (2, 3)):
        parts = [partial_decrypt(results[j].share, c, fingerprint=fp, context=("t",))
                 for j in pair]
        assert combine(tpk, c, parts, fingerprint=fp, context=("t",)).m == 4242


def _check_transcript_fields(honest: Any) -> None:
    results, _progress, _planted, _relay = honest
    t = results[2].transcript
    assert t["election"] == "e1" and t["run"] == "r1"
    assert t["params"] == P8.to_json()
    assert [e["index"] for e in t["roster"]] == [1, 2, 3]
    assert t["sid"] == session_id("e1", "r1", P8.to_json(), t["roster"])
    assert t["candidates_tried"] == 1 and t["modulus"]["round"] == "s0:c0"
    assert len(t["biprimality"]) == BPT_ROUNDS
    assert all(len(row) == 3 for row in t["biprimality"])
    assert len(t["commitments"]) == 3 and all(len(r) == P8.t + 1 for r in t["commitments"])
    parts = t["confirmation"]["partials"]
    assert [x["index"] for x in parts] == [1, 2, 3]
    core = {k: v for k, v in t.items() if k != "signatures"}
    digest = transcript_digest(core)
    assert [s["index"] for s in t["signatures"]] == [1, 2, 3]
    for s, entry in zip(t["signatures"], t["roster"], strict=True):
        verify_signature(bytes.fromhex(entry["sign_key"]), SIGN_DOMAIN + digest,
                         bytes.fromhex(s["signature"]), s["index"])


def _check_counters_and_progress(honest: Any) -> None:
    results, progress, planted, relay = honest
    sid = results[1].transcript["sid"]
    fp = results[1].public_key.fingerprint().hex()
    ns = expected_ns(P8, P8.batch, planted)
    td = primorial(TRIAL_DIVISION_BOUND)
    survivors = [n for n in ns if n.bit_length() == P8.bits and n % 4 == 1 and math.gcd(n, td) == 1]
    for i, r in results.items():
        assert r.candidates == 1
        sent = sum(len(e) for (_rn, s, _r), e in relay.messages.items() if s == i)
        assert r.bytes_sent == sent
        assert progress[i] == [
            f"trustee {i}: session {sid[:16]}",
            f"trustee {i}: batch 0: {len(survivors)} of 8 candidates pass trial division",
            f"trustee {i}: key fingerprint {fp[:16]}…, 1 candidates tried",
        ]


def _check_messages_of_each_round(honest: Any) -> None:
    _results, _progress, _planted, relay = honest
    rounds = {rn for (rn, _s, _r) in relay.messages}
    assert {"hello", "s0:share", "s0:prod", "s0:bpt", "s0:c0:bpt", "s0:c0:theta", "s0:c0:W",
            "reshare:commit", "reshare:share", "reshare:complain", "confirm",
            "sign"} == rounds
    # private rounds go to each other trustee; broadcasts to 0
    for rn in ("s0:share", "s0:c0:theta", "reshare:share"):
        assert sorted((s, r) for (x, s, r) in relay.messages if x == rn) == [
            (1, 2), (1, 3), (2, 1), (2, 3), (3, 1), (3, 2)]
    for rn in ("hello", "s0:prod", "confirm", "sign", "reshare:complain"):
        assert sorted((s, r) for (x, s, r) in relay.messages if x == rn) == [
            (1, 0), (2, 0), (3, 0)]


def _broadcast_body(relay: MemoryRelay, round_name: str, sender: int) -> dict[str, Any]:
    env = json.loads(relay.messages[(round_name, sender, 0)])
    return json.loads(base64.b64decode(env["b"])[16:].decode())


def _check_opened_vectors_have_fixed_width_values(honest: Any) -> None:
    """Broadcast vectors are ``bytelen(modulus)``-byte big-endian values (D4, D6, D9)."""
    results, _progress, planted, relay = honest
    n = results[1].public_key.n
    ns = expected_ns(P8, P8.batch, planted)
    td = primorial(TRIAL_DIVISION_BOUND)
    survivors = [x for x in ns if x.bit_length() == P8.bits and x % 4 == 1
                 and math.gcd(x, td) == 1]
    widths = {
        "s0:prod": (P8.batch, (P8.sieve_prime.bit_length() + 7) // 8),
        "s0:bpt": (len(survivors), max((x.bit_length() + 7) // 8 for x in survivors)),
        "s0:c0:bpt": (BPT_ROUNDS, (n.bit_length() + 7) // 8),
        "s0:c0:W": (1, (P8.theta_prime.bit_length() + 7) // 8),
    }
    assert widths["s0:c0:bpt"][1] == 128
    for round_name, (count, width) in widths.items():
        for i in (1, 2, 3):
            raw = base64.b64decode(_broadcast_body(relay, round_name, i)["v"])
            assert len(raw) == count * width, round_name


def _check_commitments_are_those_of_d10(honest: Any) -> None:
    """D9–D11 with the fixed run seeds: ``d_1 = W − N·R_1``, ``d_i = −N·R_i`` (i > 1),
    ``a_i0 = Δ·d_i``, ``a_ik = PRG(σ_i, "self:reshare:a")_k`` (k ≥ 1) and ``C_ik = v^(a_ik)``."""
    results, *_ = honest
    t = results[1].transcript
    n = results[1].public_key.n
    nn = n * n
    v = derive_v(t["sid"], n)
    w = int(t["theta"]["w"], 16)
    for i in (1, 2, 3):
        (r_i,) = prg_vector(_seed(i), "self:s0:c0:R", 1, 1 << P8.mask_bits)
        d_i = w - n * r_i if i == 1 else -n * r_i
        coeffs = [P8.delta * d_i,
                  *prg_vector(_seed(i), "self:reshare:a", P8.t, 1 << P8.coefficient_bits)]
        assert [int(c, 16) for c in t["commitments"][i - 1]] == [pow(v, a, nn) for a in coeffs]


def _check_sieve_opens_the_candidates_of_d1(honest: Any) -> None:
    """The opened ``N_c`` (D4) are the products of the summed D1 candidates."""
    results, _progress, planted, _relay = honest
    ns = expected_ns(P8, P8.batch, planted)
    assert OPENED == {1: ns, 2: ns, 3: ns}
    assert results[1].public_key.n == ns[0]


def test_honest_run(honest: Any) -> None:
    """Every check of the honest run, in ONE test: the run happens in the module fixture, and
    mutmut maps a test to the code it runs, fixture included, only for the first test that
    uses the fixture — separate tests would not be run against the mutants of the protocol."""
    _check_agrees_on_the_planted_key(honest)
    _check_shares_decrypt_in_every_pair(honest)
    _check_transcript_fields(honest)
    _check_counters_and_progress(honest)
    _check_messages_of_each_round(honest)
    _check_opened_vectors_have_fixed_width_values(honest)
    _check_commitments_are_those_of_d10(honest)
    _check_sieve_opens_the_candidates_of_d1(honest)


# ---------------------------------------------------------------------------- retry on gcd(θ, N)
def test_theta_not_coprime_moves_to_the_next_candidate() -> None:
    """D9: with ``gcd(θ, N) ≠ 1`` the candidate is dropped and the next passing one is used."""
    base, planted = planted_class(P3.__class__(512, 3, 2, batch=2, allow_test_key=True),
                                  count=2)
    (p0, _q0), (p1, q1) = planted

    class BadBeta(base):  # type: ignore[valid-type, misc]
        def own_random(self, label: str, count: int, bits: int) -> list[int]:
            if label == "s0:c0:beta":
                return [p0 if self.index == 1 else 0]  # β = p: θ = φ·p mod N shares p
            return super().own_random(label, count, bits)

    params = DkgParams(512, 3, 2, batch=2, allow_test_key=True)
    results, errors, progress, _r = run_all(params, {1: BadBeta, 2: BadBeta, 3: BadBeta})
    assert errors == {}
    assert results[1].public_key.n == p1 * q1
    assert results[1].transcript["modulus"]["round"] == "s0:c1"
    assert results[1].candidates == 2
    assert "trustee 3: gcd(θ, N) ≠ 1; continuing" in progress[3]


def test_trial_division_filter_drops_a_wrong_form_or_length() -> None:
    """D5: of three opened candidates — a good biprime, a biprime ``≡ 3 (mod 4)`` and a
    short biprime, all free of small factors — only the first goes on."""
    params = DkgParams(512, 3, 2, batch=3, allow_test_key=True)
    def prime_after(x: int, residue: int) -> int:
        x = int(gmpy2.next_prime(x))
        while x % 4 != residue:
            x = int(gmpy2.next_prime(x))
        return x

    good = (planted_prime(params), planted_prime(params))
    short = prime_after(1 << 240, 3)
    cands = [good, (prime_after(good[0], 1), good[1]), (short, prime_after(short, 3))]
    assert cands[1][0] * cands[1][1] % 4 == 3
    assert (cands[2][0] * cands[2][1]).bit_length() < 512
    assert cands[2][0] * cands[2][1] % 4 == 1
    shares = [(additive(p, params), additive(q, params)) for p, q in cands]

    class Crafted(DkgParty):
        candidate_budget = params.batch

        def _candidates(self, n: int) -> tuple[list[int], list[int]]:
            return ([ps[self.index - 1] for ps, _qs in shares],
                    [qs[self.index - 1] for _ps, qs in shares])

    results, errors, progress, _r = run_all(params, {1: Crafted, 2: Crafted, 3: Crafted})
    assert errors == {}
    assert results[1].public_key.n == good[0] * good[1]
    assert progress[1][1] == "trustee 1: batch 0: 1 of 3 candidates pass trial division"


def test_a_candidate_failing_the_full_biprimality_test_is_skipped() -> None:
    """D6–D7: when the full test fails for one candidate the next passing one is tried."""
    params = DkgParams(512, 3, 2, batch=2, allow_test_key=True)
    base, planted = planted_class(params, count=2)

    class FirstFails(base):  # type: ignore[valid-type, misc]
        def _bpt(self, round_name: str, *a: Any) -> tuple[bool, dict[int, list[int]]]:
            ok, values = super()._bpt(round_name, *a)
            return (False if round_name == "s0:c0:bpt" else ok), values

    results, errors, _p, _r = run_all(params, {1: FirstFails, 2: FirstFails, 3: FirstFails})
    assert errors == {}
    assert results[1].public_key.n == planted[1][0] * planted[1][1]
    assert results[1].transcript["modulus"]["round"] == "s0:c1"


# ---------------------------------------------------------------------------- no key: blame
def test_no_candidate_within_the_budget_starts_the_blame_round() -> None:
    params = DkgParams(512, 3, 2, batch=1, allow_test_key=True)

    class Unplanted(DkgParty):
        candidate_budget = 1

    _results, errors, progress, _r = run_all(params, {1: Unplanted, 2: Unplanted,
                                                      3: Unplanted})
    assert set(errors) == {1, 2, 3}
    for i, exc in errors.items():
        assert isinstance(exc, DkgError) and exc.culprit is None
        assert "no key after 1 candidates (the budget is 1)" in str(exc)
        assert progress[i][-1] == (f"trustee {i}: run failed (no key after 1 candidates "
                                   "(the budget is 1)); blame round")


# ---------------------------------------------------------------------------- cheating trustees
def test_wrong_reshare_share_is_named() -> None:
    base, _ = planted_class(P3)

    class WrongShare(base):  # type: ignore[valid-type, misc]
        def outgoing_reshare(self, shares: dict[int, int], commitments: list[int]
                             ) -> tuple[dict[int, int], list[int]]:
            return {**shares, 3: shares[3] + 1}, commitments

    _res, errors, _p, _r = run_all(P3, {1: base, 2: WrongShare, 3: base})
    assert set(errors) == {1, 2, 3}
    for exc in errors.values():
        with pytest.raises(InvalidDkgShare, match=r"^trustee 2 sent trustee 3 a share that does "
                                                  r"not match its commitments$"):
            raise exc
        assert exc.culprit == 2


def _wrong_share_to(base: type[DkgParty], victim: int) -> type[DkgParty]:
    class WrongShare(base):  # type: ignore[valid-type, misc]
        def outgoing_reshare(self, shares: dict[int, int], commitments: list[int]
                             ) -> tuple[dict[int, int], list[int]]:
            return {**shares, victim: shares[victim] + 1}, commitments

    return WrongShare


@pytest.mark.parametrize(("victims", "named"), [
    ({3: 1, 2: 3}, 3),  # complaints by 1 (against 3) and by 3 (against 2): accuser 1 first
    ({2: 1, 3: 1}, 2),  # two complaints by trustee 1: in the order of their senders
])
def test_complaints_are_resolved_in_the_same_order_everywhere(victims: dict[int, int],
                                                              named: int) -> None:
    """D12: everyone resolves the complaints sorted by accuser, so every trustee names the
    same sender, whoever it heard first."""
    base, _ = planted_class(P3)
    classes = {i: _wrong_share_to(base, victims[i]) if i in victims else base
               for i in (1, 2, 3)}
    _res, errors, _p, _r = run_all(P3, classes)
    assert set(errors) == {1, 2, 3}
    for exc in errors.values():
        with pytest.raises(InvalidDkgShare, match=rf"^trustee {named} sent trustee 1 a share"):
            raise exc
        assert exc.culprit == named


def test_false_complaint_is_named() -> None:
    base, _ = planted_class(P3)

    class Complainer(base):  # type: ignore[valid-type, misc]
        def _reshare(self, n: int, v: int, d_i: int) -> Any:
            original = self.ch.broadcast
            gather = self.ch.gather

            def spy_gather(round_name: str, **kw: Any) -> dict[int, Received]:
                got = gather(round_name, **kw)
                if round_name == "reshare:share":
                    self.last = got
                return got

            def broadcast(round_name: str, payload: dict[str, Any]) -> None:
                if round_name == "reshare:complain":
                    rec = self.last[1]
                    payload = {"complaints": [{
                        "against": 1,
                        "envelope": base64.b64encode(rec.envelope).decode(),
                        "plaintext": base64.b64encode(rec.plaintext).decode()}]}
                original(round_name, payload)

            self.ch.gather = spy_gather
            self.ch.broadcast = broadcast
            return super()._reshare(n, v, d_i)

    _res, errors, _p, _r = run_all(P3, {1: base, 2: base, 3: Complainer}, wait_for={1, 2})
    for exc in (errors[1], errors[2]):
        with pytest.raises(FalseComplaint, match=r"^trustee 3 complained about a correct share "
                                                 r"from trustee 1$"):
            raise exc
        assert exc.culprit == 3


def _tamper(base: type[DkgParty], round_name: str, change: Any) -> type[DkgParty]:
    class Tamper(base):  # type: ignore[valid-type, misc]
        def __init__(self, *a: Any, **kw: Any) -> None:
            super().__init__(*a, **kw)
            original = self.ch.broadcast

            def broadcast(rn: str, payload: dict[str, Any]) -> None:
                original(rn, change(payload) if rn == round_name else payload)

            self.ch.broadcast = broadcast

    return Tamper


def _tamper_send(base: type[DkgParty], round_name: str, recipient: int,
                 payload: dict[str, Any]) -> type[DkgParty]:
    class Tamper(base):  # type: ignore[valid-type, misc]
        def __init__(self, *a: Any, **kw: Any) -> None:
            super().__init__(*a, **kw)
            original = self.ch.send

            def send(rn: str, to: int, body: dict[str, Any]) -> None:
                original(rn, to, payload if (rn, to) == (round_name, recipient) else body)

            self.ch.send = send

    return Tamper


P4 = DkgParams(512, 4, 2, batch=1, allow_test_key=True)  # S + 8 ≡ 3 (mod 4)
_DIGITS = (P4.share_bits + 8) // 4 + 2  # the longest share the parser takes (D10)


@pytest.mark.parametrize(("share", "error", "message"), [
    ("zz", InvalidCommitment, r"^trustee 2: malformed integer$"),
    ("-", InvalidCommitment, r"^trustee 2: malformed integer$"),
    ("1" * (_DIGITS + 1), InvalidCommitment, r"^trustee 2: malformed integer$"),
    (5, InvalidCommitment, r"^trustee 2: malformed integer$"),
    ("1" * _DIGITS, InvalidDkgShare, r"^trustee 2 sent trustee 1 a share that does not match "
                                     r"its commitments$"),
])
def test_malformed_reshare_share_is_named_by_everyone(share: object, error: type[Exception],
                                                      message: str) -> None:
    """A re-sharing share that does not parse is complained about like a wrong one (D12):
    every trustee, not only its recipient, names the sender."""
    base, _ = planted_class(P4)
    cheat = _tamper_send(base, "reshare:share", 1, {"s": share})
    _res, errors, _p, _r = run_all(P4, {1: base, 2: cheat, 3: base, 4: base})
    assert set(errors) == {1, 2, 3, 4}
    for exc in errors.values():
        with pytest.raises(error, match=message):
            raise exc
        assert exc.culprit == 2


@pytest.mark.parametrize(("commitments", "message"), [
    (["zz", "1"], r"^trustee 3: malformed integer$"),
    (["1"], r"^trustee 3: wrong number of commitments$"),
    (["1", "0"], r"^trustee 3: commitment not in Z\*_\(N\^2\)$"),
])
def test_malformed_commitments_are_named(commitments: list[str], message: str) -> None:
    base, _ = planted_class(P3)
    cheat = _tamper(base, "reshare:commit", lambda p: {"C": commitments})
    _res, errors, _p, _r = run_all(P3, {1: base, 2: base, 3: cheat}, wait_for={1, 2})
    for i in (1, 2):
        with pytest.raises(InvalidCommitment, match=message):
            raise errors[i]
        assert errors[i].culprit == 3


@pytest.mark.parametrize(("change", "message"), [
    (lambda p: {"partial": {**p["partial"], "index": 1}},
     r"^trustee 3: invalid confirmation partial decryption \(index\)$"),
    (lambda p: {"partial": {**p["partial"], "c_i": p["partial"]["c_i"][:-1] + (
        "1" if p["partial"]["c_i"][-1] != "1" else "2")}},
     r"^trustee 3: invalid confirmation partial decryption \(.+\)$"),
    (lambda p: {"partial": "x"},
     r"^trustee 3: invalid confirmation partial decryption \(.+\)$"),
])
def test_bad_confirmation_partial_is_named(change: Any, message: str) -> None:
    base, _ = planted_class(P3)
    _res, errors, _p, _r = run_all(P3, {1: base, 2: base, 3: _tamper(base, "confirm", change)},
                                   wait_for={1, 2})
    for i in (1, 2):
        with pytest.raises(KeyConfirmationFailed, match=message):
            raise errors[i]
        assert errors[i].culprit == 3


@pytest.mark.parametrize(("change", "error", "message"), [
    (lambda p: {"signature": "zz"}, InvalidCommitment, r"^trustee 2: malformed signature$"),
    (lambda p: {"signature": "00" * 64}, InvalidEnvelope, r"^trustee 2: bad signature$"),
    (lambda p: {"signature": 12}, InvalidEnvelope, r"^trustee 2: bad signature$"),
])
def test_bad_transcript_signature_is_named(change: Any, error: type[Exception],
                                           message: str) -> None:
    base, _ = planted_class(P3)
    _res, errors, _p, _r = run_all(P3, {1: base, 2: _tamper(base, "sign", change), 3: base},
                                   wait_for={1, 3})
    for i in (1, 3):
        with pytest.raises(error, match=message):
            raise errors[i]
        assert errors[i].culprit == 2


@pytest.mark.parametrize("round_name", ["s0:prod", "s0:bpt", "s0:c0:bpt", "s0:c0:W"])
def test_malformed_opened_vector_names_the_sender(round_name: str) -> None:
    base, _ = planted_class(P3)
    cheat = _tamper(base, round_name, lambda p: {"v": "AAAA"})
    _res, errors, _p, _r = run_all(P3, {1: base, 2: base, 3: cheat}, wait_for={1, 2})
    for i in (1, 2):
        with pytest.raises(InvalidCommitment, match=r"^trustee 3: vector of the wrong "
                                                    r"length$"):
            raise errors[i]
        assert errors[i].culprit == 3


@pytest.mark.parametrize("round_name", ["s0:prod", "s0:c0:W"])
def test_wrong_opened_share_is_detected_with_a_spare_trustee(round_name: str) -> None:
    """With ``ℓ = 4 > 2t + 1 = 3`` the fourth ``[N]_j`` (D4) or ``[W]_j`` (D9) must lie on the
    degree-2t polynomial of the first three: a wrong share is detected at the opening, and
    the blame round names its sender."""
    p4 = DkgParams(512, 4, 2, batch=1, allow_test_key=True)
    base, _ = planted_class(p4)

    def bump(payload: dict[str, Any]) -> dict[str, Any]:
        raw = bytearray(base64.b64decode(payload["v"]))
        raw[-1] ^= 1
        return {"v": base64.b64encode(bytes(raw)).decode()}

    cheat = _tamper(base, round_name, bump)
    # the cheater saw consistent shares and went on to the re-sharing: it misses the blame
    # round, and that names it too
    _res, errors, progress, _r = run_all(p4, {1: base, 2: base, 3: base, 4: cheat},
                                         timeout=2.0, wait_for={1, 2, 3})
    for i in (1, 2, 3):
        assert progress[i][-1].startswith(
            f"trustee {i}: run failed (opened shares are not on one polynomial of degree 2 ")
        with pytest.raises(CheatingTrustee, match=r"^trustee 4 "):
            raise errors[i]
        assert errors[i].culprit == 4


def test_key_not_decrypting_the_confirmation_goes_to_blame() -> None:
    """A trustee whose ``d_i`` is off (D9) makes a consistent re-sharing of a wrong key: no
    share check fails, the confirmation does (D15), and the blame round names it."""
    base, _ = planted_class(P3)

    class WrongD(base):  # type: ignore[valid-type, misc]
        def _reshare(self, n: int, v: int, d_i: int) -> Any:
            return super()._reshare(n, v, d_i + 1)

    _res, errors, progress, _r = run_all(P3, {1: base, 2: WrongD, 3: base})
    for i in (1, 3):
        assert progress[i][-1] == (
            f"trustee {i}: run failed (the jointly generated key does not decrypt the "
            "confirmation ciphertext (a trustee deviated before the re-sharing)); blame round")
        assert isinstance(errors[i], DkgError)


# ---------------------------------------------------------------------------- hello (D0)
def _channels(params: DkgParams, relay: MemoryRelay, timeout: float = 0.3,
              election: str = "e1", run: str = "r1") -> dict[int, Channel]:
    return {i: Channel(Identity.generate(i), relay, election=election, run=run,
                       timeout=timeout, poll=0.002) for i in range(1, params.trustees + 1)}


def _post_hello(ch: Channel, payload: dict[str, Any]) -> None:
    ch.roster = {ch.index: ch.identity.entry()}
    ch.broadcast("hello", payload)


def _hello_of(ch: Channel, params: DkgParams = P3) -> dict[str, Any]:
    return {"params": params.to_json(), "key": ch.identity.entry().to_json()}


def test_hello_agrees_on_roster_and_sid() -> None:
    relay = MemoryRelay()
    chs = _channels(P3, relay)
    for i in (2, 3):
        _post_hello(chs[i], _hello_of(chs[i]))
    party = DkgParty(P3, chs[1].identity, chs[1])
    party.hello()
    roster = [chs[j].identity.entry().to_json() for j in (1, 2, 3)]
    assert {j: e.to_json() for j, e in chs[1].roster.items()} == dict(zip((1, 2, 3), roster,
                                                                          strict=True))
    assert chs[1].sid == session_id("e1", "r1", P3.to_json(), roster)
    # what trustee 1 broadcast is its own hello
    env = json.loads(relay.messages[("hello", 1, 0)])
    body = json.loads(base64.b64decode(env["b"])[16:].decode())
    assert body == _hello_of(chs[1])


def test_hello_with_other_parameters_names_the_trustee() -> None:
    relay = MemoryRelay()
    chs = _channels(P3, relay)
    _post_hello(chs[2], _hello_of(chs[2], DkgParams(512, 3, 2, batch=2, allow_test_key=True)))
    _post_hello(chs[3], _hello_of(chs[3]))
    with pytest.raises(ParameterMismatch, match=r"^trustee 2 announced different parameters: "
                                                r"\{'batch': 2, 'bits': 512, ") as err:
        DkgParty(P3, chs[1].identity, chs[1]).hello()
    assert err.value.culprit == 2


def test_hello_with_another_index_names_the_trustee() -> None:
    relay = MemoryRelay()
    chs = _channels(P3, relay)
    _post_hello(chs[2], _hello_of(chs[2]))
    wrong = {**_hello_of(chs[3]), "key": {**chs[3].identity.entry().to_json(), "index": 7}}
    _post_hello(chs[3], wrong)
    with pytest.raises(ParameterMismatch, match=r"^trustee 3 announced index 7$") as err:
        DkgParty(P3, chs[1].identity, chs[1]).hello()
    assert err.value.culprit == 3


def test_hello_with_a_copied_key_is_refused() -> None:
    relay = MemoryRelay()
    chs = _channels(P3, relay)
    _post_hello(chs[2], _hello_of(chs[2]))
    # trustee 3 signs with trustee 2's key and announces it
    chs[3] = Channel(Identity(3, chs[2].identity.sign, chs[2].identity.dh), relay,
                     election="e1", run="r1", timeout=0.3)
    _post_hello(chs[3], _hello_of(chs[3]))
    with pytest.raises(ParameterMismatch, match=r"^two trustees announced the same key$"):
        DkgParty(P3, chs[1].identity, chs[1]).hello()


def _forged_hello(ch: Channel, header_change: dict[str, Any] | None = None,
                  body: bytes | None = None, signer: Identity | None = None) -> bytes:
    from crypto.dkg.channel import signed_message

    payload = body if body is not None else encode_payload(_hello_of(ch))
    header = {"protocol": "x", "sid": "", "election": "e1", "run": "r1", "round": "hello",
              "sender": ch.index, "recipient": 0, "seq": 1,
              "body_hash": hashlib.sha256(payload).hexdigest(), "eph": "", "nonce": ""}
    header.update(header_change or {})
    sig = (signer or ch.identity).sign.sign(signed_message(header, payload))
    return json.dumps({"h": header, "b": base64.b64encode(payload).decode(),
                       "s": sig.hex()}).encode()


@pytest.mark.parametrize(("forge", "reason"), [
    (lambda ch: b"not json", r"Expecting value: line 1 column 1 \(char 0\)"),
    (lambda ch: _forged_hello(ch, {"round": "hellx"}), "header"),
    (lambda ch: _forged_hello(ch, {"sender": 2}), "header"),
    (lambda ch: _forged_hello(ch, {"election": "e2"}), "header"),
    (lambda ch: _forged_hello(ch, {"run": "r2"}), "header"),
    (lambda ch: _forged_hello(ch, {"body_hash": "00" * 32}), "body hash"),
    (lambda ch: _forged_hello(ch, signer=Identity.generate(3)), "trustee 3: bad signature"),
    (lambda ch: _forged_hello(ch, body=b"0" * 16 + b"\xff\xfe"), "'utf-8' codec can't decode .*"),
    (lambda ch: _forged_hello(ch, body=b"0" * 16 + b'{"params": {}}'), "'key'"),
    (lambda ch: _forged_hello(ch, body=b"0" * 16 + b'{"params": {}, "key": {"index": 3}}'),
     "malformed roster entry: 'sign_key'"),
])
def test_malformed_hello_names_the_sender(forge: Any, reason: str) -> None:
    relay = MemoryRelay()
    chs = _channels(P3, relay)
    _post_hello(chs[2], _hello_of(chs[2]))
    relay.post("hello", 3, 0, forge(chs[3]))
    with pytest.raises(ParameterMismatch, match=rf"^trustee 3: malformed hello \({reason}\)$"
                       ) as err:
        DkgParty(P3, chs[1].identity, chs[1]).hello()
    assert err.value.culprit == 3


class _SpyRelay(MemoryRelay):
    def __init__(self) -> None:
        super().__init__()
        self.fetches: list[tuple[str, int, list[int] | None]] = []

    def fetch(self, round_name: str, recipient: int,
              senders: list[int] | None = None) -> list[tuple[int, int, bytes]]:
        self.fetches.append((round_name, recipient, senders))
        return super().fetch(round_name, recipient, senders)


def test_hello_ignores_private_and_unexpected_posts() -> None:
    """Posted *before* the real hellos (the relay returns them first): a private message
    and one in my own name are skipped, and the real hellos are still read."""
    relay = _SpyRelay()
    chs = _channels(P3, relay)
    relay.post("hello", 2, 1, b"garbage addressed privately")
    relay.post("hello", 1, 0, b"garbage in my own name")
    relay.post("hello", 3, 1, b"more garbage addressed privately")
    for i in (2, 3):
        _post_hello(chs[i], _hello_of(chs[i]))
    party = DkgParty(P3, chs[1].identity, chs[1])
    party.hello()
    assert sorted(chs[1].roster) == [1, 2, 3]
    # the relay is asked for this trustee's messages from the trustees still missing
    assert relay.fetches == [("hello", 1, [2, 3])]


def test_hello_asks_only_for_the_missing_trustees() -> None:
    relay = _SpyRelay()
    chs = _channels(P3, relay, timeout=5.0)
    _post_hello(chs[2], _hello_of(chs[2]))
    timer = threading.Timer(0.05, _post_hello, args=(chs[3], _hello_of(chs[3])))
    timer.start()
    DkgParty(P3, chs[1].identity, chs[1]).hello()
    timer.join()
    assert relay.fetches[0] == ("hello", 1, [2, 3])
    assert len(relay.fetches) >= 2
    assert all(f == ("hello", 1, [3]) for f in relay.fetches[1:])


def test_hello_times_out_naming_every_missing_trustee() -> None:
    relay = MemoryRelay()
    chs = _channels(P3, relay, timeout=0.05)
    with pytest.raises(DkgTimeout, match=r"^round hello: no message from trustee\(s\) 2, 3$"
                       ) as err:
        DkgParty(P3, chs[1].identity, chs[1]).hello()
    assert err.value.culprit == 2


def test_hello_times_out_naming_the_missing_trustee() -> None:
    relay = MemoryRelay()
    chs = _channels(P3, relay, timeout=0.05)
    _post_hello(chs[3], _hello_of(chs[3]))
    with pytest.raises(DkgTimeout, match=r"^round hello: no message from trustee\(s\) 2$") as err:
        DkgParty(P3, chs[1].identity, chs[1]).hello()
    assert err.value.culprit == 2


def test_hello_waits_for_a_late_trustee() -> None:
    relay = MemoryRelay()
    chs = _channels(P3, relay, timeout=5.0)
    _post_hello(chs[2], _hello_of(chs[2]))
    timer = threading.Timer(0.05, _post_hello, args=(chs[3], _hello_of(chs[3])))
    timer.start()
    DkgParty(P3, chs[1].identity, chs[1]).hello()
    timer.join()
    assert sorted(chs[1].roster) == [1, 2, 3]


# ---------------------------------------------------------------------------- Shamir (D3)
def _party(params: DkgParams, index: int, ch: Channel | None = None) -> DkgParty:
    ch = ch or Channel(Identity.generate(index), MemoryRelay(), election="e1", run="r1")
    return DkgParty(params, ch.identity, ch)


def _connected(params: DkgParams) -> dict[int, DkgParty]:
    relay = MemoryRelay()
    chs = _channels(params, relay)
    roster = {i: ch.identity.entry() for i, ch in chs.items()}
    for ch in chs.values():
        ch.roster = dict(roster)
        ch.sid = "ab" * 32
    return {i: DkgParty(params, ch.identity, ch) for i, ch in chs.items()}


@pytest.mark.parametrize(("ell", "sender", "degree", "expected"), [
    (5, 4, 2, [5, 1]), (5, 5, 3, [1, 2, 3]), (3, 1, 1, [2]), (3, 3, 2, [1, 2]),
    (5, 1, 4, [2, 3, 4, 5]),
])
def test_seeded_trustees_follow_the_sender_cyclically(ell: int, sender: int, degree: int,
                                                      expected: list[int]) -> None:
    params = DkgParams(512, ell, 2, batch=1, allow_test_key=True)
    assert _party(params, 1)._seeded(sender, degree) == expected


@pytest.mark.parametrize("degree", [2, 4])
def test_shares_of_every_trustee_lie_on_one_polynomial(degree: int) -> None:
    """D3: ``degree`` shares come from pair seeds, the rest are explicit; any ``degree+1``
    shares interpolate to the secrets."""
    parties = _connected(P5)
    prime = P5.sieve_prime
    width = (prime.bit_length() + 7) // 8
    values = [5, 0, prime - 1]
    explicit, own = parties[2].share_out("r", "x", values, degree, prime)
    seeded = parties[2]._seeded(2, degree)
    assert sorted(explicit) == sorted(set(parties[2].others) - set(seeded))
    got = {2: own}
    for j in parties[2].others:
        payload = {"x": pack_vec(explicit[j], width)} if j in explicit else None
        got[j] = parties[j].share_in("r", "x", 2, degree, 3, prime, payload)
    # the seeded ones are the PRG values of the pair seed (D3)
    for j in seeded:
        assert got[j] == prg_vector(parties[j].ch.pair_seed(2), "r:x:2", 3, prime)
    assert parties[1].open_shares(got, degree, prime) == values
    for subset in ([1, 2, 3, 4, 5][: degree + 1], [5, 4, 3, 2, 1][: degree + 1]):
        lam = [lagrange_at(sorted(subset), 0, prime)]
        assert combine_vectors(lam[0], [got[j] for j in sorted(subset)], prime) == values
    if degree == 2:
        bad = {**got, 5: [(got[5][0] + 1) % prime, *got[5][1:]]}
        with pytest.raises(InvalidCommitment, match=r"^opened shares are not on one polynomial "
                                                    r"of degree 2 \(trustee 5 or one of "
                                                    r"\[1, 2, 3\]\)$"):
            parties[1].open_shares(bad, 2, prime)
        bad4 = {**got, 4: [(got[4][0] + 1) % prime, *got[4][1:]]}
        with pytest.raises(InvalidCommitment, match=r"\(trustee 4 or one of \[1, 2, 3\]\)$"):
            parties[1].open_shares(bad4, 2, prime)


def test_share_in_requires_the_explicit_shares() -> None:
    parties = _connected(P5)
    prime = P5.sieve_prime
    # sender 2, degree 2: trustees 3, 4 are seeded; 5 and 1 get explicit shares
    for payload in (None, {}, {"y": "AA=="}):
        with pytest.raises(InvalidCommitment, match=r"^trustee 2: missing shares 'x'$") as err:
            parties[5].share_in("r", "x", 2, 2, 1, prime, payload)
        assert err.value.culprit == 2
    with pytest.raises(InvalidCommitment, match=r"^trustee 2: vector of the wrong length$"):
        parties[1].share_in("r", "x", 2, 2, 1, prime, {"x": "AAAA"})
    width = (prime.bit_length() + 7) // 8
    assert parties[1].share_in("r", "x", 2, 2, 1, prime, {"x": pack_vec([prime - 1], width)}) \
        == [prime - 1]
    with pytest.raises(InvalidCommitment, match=r"^trustee 2: vector value out of range$"):
        parties[1].share_in("r", "x", 2, 2, 1, prime, {"x": pack_vec([prime], width)})


# ---------------------------------------------------------------------------- D1, D6, B0
@pytest.mark.parametrize("params", [P8, DkgParams(512, 4, 2, batch=1, allow_test_key=True)])
def test_candidates_have_the_d1_form(params: DkgParams) -> None:
    """D1: ``x`` uniform below ``2^m`` with ``2^m ≤ share_range/4 < 2^(m+1)`` (with 4
    trustees ``share_range/4`` is a power of two: ``2^m`` equals it)."""
    m = (params.share_range // 4).bit_length() - 1
    assert 4 << m <= params.share_range < 8 << m
    base = 3 << (params.half - 2)
    for index in (1, 2, 3):
        party = _party(params, index)
        party.batch_no = 3
        ps, qs = party._candidates(5)
        xp = prg_vector(party.seed, "self:s3:p", 5, 1 << m)
        xq = prg_vector(party.seed, "self:s3:q", 5, 1 << m)
        if index == 1:
            assert ps == [base + 4 * x + 3 for x in xp]
            assert qs == [base + 4 * x + 3 for x in xq]
        else:
            assert ps == [4 * x for x in xp] and qs == [4 * x for x in xq]


def test_own_random_is_the_labelled_prg_of_the_run_seed() -> None:
    party = _party(P3, 2)
    assert len(party.seed) == SEED_BYTES == 32
    assert party.own_random("x", 4, 10) == prg_vector(party.seed, "self:x", 4, 1 << 10)
    assert party.own_random("x", 4, 10) != prg_vector(party.seed, "x", 4, 1 << 10)
    assert _party(P3, 2).seed != party.seed


def test_bf_values_multiply_to_plus_minus_one_for_a_biprime() -> None:
    """D6: ``v_1·∏ v_i = g^((N − p − q + 1)/4) = g^(φ/4) ≡ ±1 (mod N)``."""
    p, q = planted_prime(P3), planted_prime(P3)
    n = p * q
    ps, qs = additive(p, P3), additive(q, P3)
    gs = [g for g in range(2, 200) if gmpy2.jacobi(g, n) == 1][:3]  # as derive_g picks them
    vals = {i: _party(P3, i)._bf_values(n, ps[i - 1], qs[i - 1], gs) for i in (1, 2, 3)}
    assert vals[1] == [pow(g, (n - ps[0] - qs[0] + 1) // 4, n) for g in gs]
    for i in (2, 3):
        assert vals[i] == [pow(pow(g, -1, n), (ps[i - 1] + qs[i - 1]) // 4, n) for g in gs]
    for r in range(3):
        assert vals[1][r] * vals[2][r] * vals[3][r] % n in (1, n - 1)


def test_default_budget() -> None:
    for params in (P3, DkgParams(1024, 3, 2, batch=8, allow_test_key=True)):
        expected = math.ceil(BUDGET_FACTOR * (params.half * math.log(2) / 2) ** 2)
        assert default_budget(params) == expected > params.batch
        assert _party(params, 1).budget == expected
    assert BUDGET_FACTOR == 20
    assert default_budget(P3) == 157435


def test_candidate_budget_overrides_the_default() -> None:
    class Small(DkgParty):
        candidate_budget = 3

    ch = Channel(Identity.generate(1), MemoryRelay(), election="e1", run="r1")
    assert Small(P3, ch.identity, ch).budget == 3


class _Scripted(DkgParty):
    """A trustee whose batches return scripted outcomes (for ``_sieve`` and ``run``)."""

    outcomes: list[Any] = []

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self.calls: list[tuple[int, int, tuple[int, int]]] = []
        self.windows = 0
        self.blamed: list[str] = []
        original = self.ch.new_window

        def new_window() -> None:
            self.windows += 1
            original()

        self.ch.new_window = new_window  # type: ignore[method-assign]

    def hello(self) -> None:
        self.ch.sid = "cd" * 32

    def sieve_batch(self, attempt: int, tried: int) -> DkgResult | None:
        self.calls.append((attempt, tried, self.window))
        out = self.outcomes[len(self.calls) - 1]
        if isinstance(out, BaseException):
            raise out
        return out

    def blame(self, reason: str) -> Any:
        self.blamed.append(reason)
        raise CheatingTrustee("blamed", culprit=9)


def _scripted(outcomes: list[Any], budget: int, params: DkgParams = P8) -> _Scripted:
    ch = Channel(Identity.generate(1), MemoryRelay(), election="e1", run="r1")
    cls = type("S", (_Scripted,), {"outcomes": outcomes, "candidate_budget": budget})
    return cls(params, ch.identity, ch)


def test_sieve_counts_candidates_per_batch_until_the_budget() -> None:
    party = _scripted([None] * 5, budget=24)
    with pytest.raises(_BudgetExceeded, match=r"^no key after 24 candidates \(the budget is "
                                              r"24\)$"):
        party._sieve()
    assert party.calls == [(0, 0, (0, 0)), (1, 8, (1, 8)), (2, 16, (2, 16))]
    assert party.windows == 3
    party = _scripted([None] * 5, budget=17)
    with pytest.raises(_BudgetExceeded, match=r"^no key after 24 candidates \(the budget is "
                                              r"17\)$"):
        party._sieve()
    party = _scripted([None] * 5, budget=16)
    with pytest.raises(_BudgetExceeded, match=r"^no key after 16 candidates"):
        party._sieve()
    assert len(party.calls) == 2


def test_sieve_returns_the_first_result() -> None:
    marker = object()
    party = _scripted([None, marker, None], budget=100)
    assert party._sieve() is marker
    assert [c[:2] for c in party.calls] == [(0, 0), (1, 8)]


@pytest.mark.parametrize(("outcome", "blamed"), [
    (InvalidCommitment("opened shares are not on one polynomial"),
     ["opened shares are not on one polynomial"]),
    (KeyConfirmationFailed("does not decrypt"), ["does not decrypt"]),
])
def test_run_blames_after_an_unattributed_failure(outcome: Exception, blamed: list[str]) -> None:
    party = _scripted([outcome], budget=100)
    seen: list[str] = []
    party.progress = seen.append
    with pytest.raises(CheatingTrustee, match="^blamed$"):
        party.run()
    assert party.blamed == blamed
    assert seen == [f"trustee 1: session {'cd' * 8}",
                    f"trustee 1: run failed ({blamed[0]}); blame round"]


def test_run_blames_when_the_budget_is_spent() -> None:
    party = _scripted([None, None], budget=8)
    with pytest.raises(CheatingTrustee, match="^blamed$"):
        party.run()
    assert party.blamed == ["no key after 8 candidates (the budget is 8)"]


@pytest.mark.parametrize("outcome", [
    InvalidCommitment("trustee 2: wrong number of commitments", culprit=2),
    KeyConfirmationFailed("trustee 3: invalid", culprit=3),
    InvalidDkgShare("x"),
    FalseComplaint("y", culprit=1),
])
def test_run_reraises_what_names_a_culprit_or_is_not_a_sieve_failure(outcome: Exception) -> None:
    party = _scripted([outcome], budget=100)
    with pytest.raises(type(outcome)) as err:
        party.run()
    assert err.value is outcome
    assert party.blamed == []


def test_run_returns_the_result() -> None:
    marker = object()
    party = _scripted([marker], budget=100)
    assert party.run() is marker
    assert party.blamed == []


def test_blame_secrets_are_the_seed_and_the_raw_x25519_key() -> None:
    party = _party(P3, 2)
    seed, dh = party.blame_secrets()
    assert seed == party.seed
    assert dh == party.identity.dh.private_bytes(serialization.Encoding.Raw,
                                                 serialization.PrivateFormat.Raw,
                                                 serialization.NoEncryption())
    assert len(dh) == 32


# ---------------------------------------------------------------------------- D10–D13
N_TEST = 1000003 * 1000033  # any odd modulus: the equations are checked, not factored


def test_powmod_signed() -> None:
    nn = N_TEST * N_TEST
    assert powmod_signed(7, 5, nn) == pow(7, 5, nn)
    assert powmod_signed(7, 0, nn) == 1
    assert powmod_signed(7, -5, nn) == pow(pow(7, -1, nn), 5, nn)
    assert powmod_signed(7, -1, nn) * 7 % nn == 1


def test_commitment_product_all_is_v_to_the_summed_share() -> None:
    """D13: ``∏_i ∏_k C_ik^(j^k) = v^(Σ_i f_i(j))``."""
    nn = N_TEST * N_TEST
    v = 4
    polys = [[3, -5, 7], [11, 2, -1], [0, 9, 4]]
    rows = [[powmod_signed(v, a, nn) for a in poly] for poly in polys]
    for j in (1, 2, 5):
        total = sum(sum(a * j ** k for k, a in enumerate(poly)) for poly in polys)
        assert commitment_product_all(rows, j, nn) == powmod_signed(v, total, nn)
        acc = 1
        for row in rows:
            acc = acc * commitment_product(row, j, nn) % nn
        assert commitment_product_all(rows, j, nn) == acc
    assert commitment_product_all([], 3, nn) == 1


def _rec(payload: dict[str, Any], sender: int = 2) -> Received:
    return Received(sender, payload, b"", b"")


def test_parse_commitments() -> None:
    party = _party(P3, 1)  # t = 1: two commitments per trustee
    n, nn = N_TEST, N_TEST * N_TEST
    good = [pow(4, 3, nn), pow(4, 5, nn)]
    assert party._parse_commitments(2, _rec({"C": [signed_hex(c) for c in good]}), n) == good
    assert party._parse_commitments(2, _rec({"C": ["1", signed_hex(nn - 1)]}), n) == [1, nn - 1]
    for raw in (None, "ab", [signed_hex(good[0])], [signed_hex(c) for c in good * 2]):
        with pytest.raises(InvalidCommitment, match=r"^trustee 2: wrong number of "
                                                    r"commitments$") as err:
            party._parse_commitments(2, _rec({"C": raw}), n)
        assert err.value.culprit == 2
    for bad in (0, nn, nn + 1, -1, 1000003, 1000033 * 5):
        with pytest.raises(InvalidCommitment, match=r"^trustee 2: commitment not in "
                                                    r"Z\*_\(N\^2\)$") as err:
            party._parse_commitments(2, _rec({"C": [signed_hex(good[0]), signed_hex(bad)]}), n)
        assert err.value.culprit == 2
    with pytest.raises(InvalidCommitment, match=r"^trustee 2: malformed integer$"):
        party._parse_commitments(2, _rec({"C": ["1" * (2 * nn.bit_length() // 4 + 3), "1"]}),
                                 n)


def _complaint_setup(params: DkgParams = P3
                     ) -> tuple[dict[int, DkgParty], int, int, dict[int, list[int]]]:
    parties = _connected(params)
    nn = N_TEST * N_TEST
    v = 4
    coeffs = {1: [3, 8], 2: [10, -6], 3: [1, 1]}
    all_c = {i: [powmod_signed(v, a, nn) for a in cs] for i, cs in coeffs.items()}
    return parties, v, nn, all_c


def _revealed(parties: dict[int, DkgParty], sender: int, recipient: int,
              share: int) -> dict[str, Any]:
    """What trustee ``recipient`` publishes about ``sender``'s re-sharing share (D12)."""
    ch = parties[sender].ch
    envelope = ch.seal("reshare:share", recipient, {"s": signed_hex(share)})
    got = parties[recipient].ch.open(envelope, round_name="reshare:share", sender=sender,
                                     private=True)
    return {"against": sender, "envelope": base64.b64encode(got.envelope).decode(),
            "plaintext": base64.b64encode(got.plaintext).decode()}


def test_resolve_blames_the_sender_of_a_wrong_share() -> None:
    parties, v, nn, all_c = _complaint_setup()
    # f_2(3) = 10 − 6·3 = −8; trustee 2 sent −7
    complaint = _revealed(parties, 2, 3, -7)
    with pytest.raises(InvalidDkgShare, match=r"^trustee 2 sent trustee 3 a share that does not "
                                              r"match its commitments$") as err:
        parties[1]._resolve(3, complaint, all_c, v, nn)
    assert err.value.culprit == 2


def test_resolve_blames_the_accuser_of_a_correct_share() -> None:
    parties, v, nn, all_c = _complaint_setup()
    complaint = _revealed(parties, 2, 3, -8)
    with pytest.raises(FalseComplaint, match=r"^trustee 3 complained about a correct share "
                                             r"from trustee 2$") as err:
        parties[1]._resolve(3, complaint, all_c, v, nn)
    assert err.value.culprit == 3


@pytest.mark.parametrize(("change", "message"), [
    ({"against": None}, r"^trustee 3: malformed complaint$"),
    ({"against": "x"}, r"^trustee 3: malformed complaint$"),
    ({"envelope": 5}, r"^trustee 3: malformed complaint$"),
    ({"plaintext": 5}, r"^trustee 3: malformed complaint$"),
    ({"against": 3}, r"^trustee 3: complaint against 3$"),
    ({"against": 7}, r"^trustee 3: complaint against 7$"),
    ({"against": 0}, r"^trustee 3: complaint against 0$"),
])
def test_resolve_rejects_malformed_complaints(change: dict[str, Any], message: str) -> None:
    parties, v, nn, all_c = _complaint_setup()
    complaint = {**_revealed(parties, 2, 3, -7), **change}
    with pytest.raises(FalseComplaint, match=message) as err:
        parties[1]._resolve(3, complaint, all_c, v, nn)
    assert err.value.culprit == 3


def test_resolve_blames_the_accuser_for_an_undecodable_reveal() -> None:
    parties, v, nn, all_c = _complaint_setup()
    complaint = {**_revealed(parties, 2, 3, -7), "envelope": "%%%"}
    with pytest.raises(InvalidEnvelope, match=r"^trustee 3: malformed revealed envelope$") as err:
        parties[1]._resolve(3, complaint, all_c, v, nn)
    assert err.value.culprit == 3


@pytest.mark.parametrize("missing", ["against", "envelope", "plaintext"])
def test_resolve_rejects_a_complaint_missing_a_field(missing: str) -> None:
    parties, v, nn, all_c = _complaint_setup()
    complaint = {k: x for k, x in _revealed(parties, 2, 3, -7).items() if k != missing}
    with pytest.raises(FalseComplaint, match=r"^trustee 3: malformed complaint$"):
        parties[1]._resolve(3, complaint, all_c, v, nn)
    with pytest.raises(FalseComplaint, match=r"^trustee 3: malformed complaint$"):
        parties[1]._resolve(3, "not an object", all_c, v, nn)


def test_resolve_checks_the_reveal_against_the_named_pair() -> None:
    """A reveal of a message to trustee 1 cannot back trustee 3's complaint."""
    parties, v, nn, all_c = _complaint_setup()
    complaint = _revealed(parties, 2, 1, -7)
    with pytest.raises(InvalidEnvelope, match=r"^trustee 3: revealed envelope is for another "
                                              r"message$") as err:
        parties[1]._resolve(3, complaint, all_c, v, nn)
    assert err.value.culprit == 3


@pytest.mark.parametrize("params", [P3, DkgParams(512, 4, 2, batch=1, allow_test_key=True)])
def test_a_share_beyond_its_bound_is_refused(params: DkgParams) -> None:
    """The revealed share is parsed with the bound ``S + 8`` bits (D10): ``(S+8)//4 + 2`` hex
    digits at most (the integer parser's rule); one digit more is malformed.  (With 4
    trustees ``S + 8 ≡ 3 (mod 4)``, so ``S + 9`` would allow one digit more.)"""
    parties, v, nn, all_c = _complaint_setup(params)
    digits = (params.share_bits + 8) // 4 + 2
    complaint = _revealed(parties, 2, 3, 1 << (4 * digits))
    with pytest.raises(InvalidCommitment, match=r"^trustee 2: malformed integer$") as err:
        parties[1]._resolve(3, complaint, all_c, v, nn)
    assert err.value.culprit == 2
    longest = _revealed(parties, 2, 3, (1 << (4 * digits)) - 1)
    with pytest.raises(InvalidDkgShare, match=r"^trustee 2 sent trustee 3 a share"):
        parties[1]._resolve(3, longest, all_c, v, nn)
