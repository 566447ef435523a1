"""One trustee's side of the distributed key generation (docs §4.7, eqs. D1–D16).

Rounds (every message signed; private ones end-to-end encrypted, :mod:`crypto.dkg.channel`):

=====================  =========  ==========================================================
round                  kind       content
=====================  =========  ==========================================================
``hello``              broadcast  params, Ed25519 and X25519 public keys (roster)
``s<a>:share``         private    explicit Shamir shares of ``p_i, q_i`` and a zero-sharing
``s<a>:prod``          broadcast  ``[N]_j`` for every candidate of batch ``a`` (D4)
``s<a>:bpt``           broadcast  one BF value per candidate that survived trial division
``s<a>:c<c>:bpt``      broadcast  ``BPT_ROUNDS`` BF values for candidate ``c`` (D6)
``s<a>:c<c>:theta``    private    shares of ``φ_i, β_i, R_i`` and a zero-sharing (D8)
``s<a>:c<c>:W``        broadcast  ``[W]_j`` (D9)
``reshare:commit``     broadcast  Feldman commitments ``C_ik = v^(a_ik)`` (D10, D11)
``reshare:share``      private    ``f_i(j)`` over the integers
``reshare:complain``   broadcast  complaints, each revealing the signed share (D12)
``confirm``            broadcast  partial decryption of the confirmation ciphertext (D15)
``sign``               broadcast  Ed25519 signature over the transcript digest (D16)
``blame``              broadcast  only after a non-attributable abort: the run seed ``σ_i``
                                  and the X25519 private key (B1)
``blame:<s>``          broadcast  the private messages received from trustee ``s`` in the
                                  last batch (B2); then everyone replays everyone (B3)
=====================  =========  ==========================================================

All of a trustee's own randomness (``p_i, q_i``, ``β_i``, ``R_i``, ``a_ik``) comes from a
per-run 32-byte seed ``σ_i`` through :func:`~crypto.dkg.arith.prg_vector` (labels
``self:…``, §4.7.10), so that a blame round can replay it (:mod:`crypto.dkg.blame`).

Honest-majority BGW (``ℓ ≥ 2t+1``) over ``F_P1`` (sieve) and ``F_P2`` (θ); the key shares
are Shoup shares of ``Δ·β·φ`` so the existing partial decryption and proofs (T5–T7) apply,
with ``θ`` in the combination (T9′).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

import gmpy2
from cryptography.hazmat.primitives import serialization

from crypto.dkg.arith import (
    combine_vectors,
    derive_g,
    derive_v,
    lagrange_at,
    pack_vec,
    parse_signed_hex,
    prg_vector,
    signed_hex,
    trial_division_ok,
    unpack_vec,
)
from crypto.dkg.channel import (
    SALT_BYTES,
    Channel,
    Identity,
    Received,
    RosterEntry,
    open_revealed,
    signed_message,
    verify_signature,
)
from crypto.dkg.errors import (
    DkgError,
    DkgTimeout,
    FalseComplaint,
    InvalidCommitment,
    InvalidDkgShare,
    KeyConfirmationFailed,
    ParameterMismatch,
)
from crypto.dkg.params import BPT_ROUNDS, TRIAL_DIVISION_BOUND, DkgParams, primorial_chunks
from crypto.dkg.transcript import (
    CONFIRM_CONTEXT,
    SIGN_DOMAIN,
    TRANSCRIPT_FORMAT,
    bpt_ok,
    commitment_product,
    confirmation_ciphertext,
    session_id,
    transcript_digest,
)
from crypto.encoding import int_to_hex
from crypto.errors import CryptoError
from crypto.paillier import PublicKey, powmod
from crypto.threshold import (
    KeyShare,
    PartialDecryption,
    ThresholdPublicKey,
    check_share,
    combine,
    partial_decrypt,
    verify_partial_decryption,
)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class DkgResult:
    """What a run leaves with trustee ``share.index``: the public key, the share, the
    public transcript, and counters for the benchmark."""

    public_key: ThresholdPublicKey
    share: KeyShare = field(repr=False)
    transcript: dict[str, Any]
    candidates: int
    bytes_sent: int


class _Retry(Exception):
    """The chosen candidate failed ``gcd(θ, N) = 1`` (D9): continue the sieve."""


class _BudgetExceeded(Exception):
    """More candidates tried than :attr:`DkgParty.candidate_budget` (B0)."""


#: B0: the blame round also starts after this many times the expected number of candidates
BUDGET_FACTOR = 20
SEED_BYTES = 32


def default_budget(params: DkgParams) -> int:
    """``BUDGET_FACTOR · (h·ln 2 / 2)²`` candidates (§4.7.4), at least one batch."""
    expected = (params.half * math.log(2) / 2) ** 2
    return max(params.batch, math.ceil(BUDGET_FACTOR * expected))


class DkgParty:
    """Trustee ``identity.index`` of a run; :meth:`run` returns a :class:`DkgResult`.

    Tests subclass it and override :meth:`outgoing_reshare` (or any step) to cheat.
    """

    #: candidates after which the run stops and blames (B0); ``None``: :func:`default_budget`
    candidate_budget: int | None = None

    def __init__(self, params: DkgParams, identity: Identity, channel: Channel, *,
                 progress: Progress | None = None) -> None:
        self.params = params
        self.identity = identity
        self.index = identity.index
        self.ch = channel
        self.progress = progress or (lambda _msg: None)
        self.others: list[int] = [j for j in range(1, params.trustees + 1) if j != self.index]
        # σ_i: every random choice of this trustee in this run is derived from it (§4.7.10)
        self.seed = secrets.token_bytes(SEED_BYTES)
        self.budget = self.candidate_budget or default_budget(params)
        self.batch_no = 0
        self.window: tuple[int, int] = (0, 0)

    def own_random(self, label: str, count: int, bits: int) -> list[int]:
        """``count`` values uniform in ``[0, 2^bits)``: ``PRG(σ_i, "self:" ‖ label)``."""
        return prg_vector(self.seed, f"self:{label}", count, 1 << bits)

    # ------------------------------------------------------------------ hello (roster)
    def hello(self) -> None:
        """Broadcast params and keys; agree on the roster and ``sid`` (D0)."""
        entry = self.identity.entry()
        self.ch.roster = {self.index: entry}
        mine = {"params": self.params.to_json(), "key": entry.to_json()}
        self.ch.broadcast("hello", mine)
        # hello messages are self-signed: the keys in them are compared out of band
        got = self._gather_hello()
        for j, payload in got.items():
            if payload.get("params") != mine["params"]:
                raise ParameterMismatch(f"trustee {j} announced different parameters: "
                                        f"{payload.get('params')!r}", culprit=j)
            key = RosterEntry.from_json(payload.get("key"))
            if key.index != j:
                raise ParameterMismatch(f"trustee {j} announced index {key.index}", culprit=j)
            self.ch.roster[j] = key
        signs = {e.sign_key for e in self.ch.roster.values()}
        if len(signs) != self.params.trustees:
            raise ParameterMismatch("two trustees announced the same key")
        self.ch.sid = session_id(self.ch.election, self.ch.run, self.params.to_json(),
                                 [self.ch.roster[j].to_json() for j in sorted(self.ch.roster)])

    def _gather_hello(self) -> dict[int, dict[str, Any]]:
        """Collect every other trustee's hello, each checked under the key it announces."""
        out: dict[int, dict[str, Any]] = {}
        pending = set(self.others)
        deadline = time.monotonic() + self.ch.timeout
        delay = self.ch.poll
        while pending:
            for s, r, envelope in self.ch.relay.fetch("hello", self.index, sorted(pending)):
                if s not in pending or r != 0:
                    continue
                try:
                    obj = json.loads(envelope)
                    header, body = obj["h"], base64.b64decode(obj["b"])
                    payload = json.loads(body[SALT_BYTES:].decode())
                    key = RosterEntry.from_json(payload["key"])
                    verify_signature(key.sign_key, signed_message(header, body),
                                     bytes.fromhex(obj["s"]), s)
                    if (header.get("round"), header.get("sender"), header.get("election"),
                            header.get("run")) != ("hello", s, self.ch.election, self.ch.run):
                        raise ValueError("header")
                    if hashlib.sha256(body).hexdigest() != header.get("body_hash"):
                        raise ValueError("body hash")
                    out[s] = payload
                except (ValueError, KeyError, TypeError, UnicodeDecodeError, DkgError) as exc:
                    raise ParameterMismatch(f"trustee {s}: malformed hello ({exc})",
                                            culprit=s) from exc
                pending.discard(s)
            if pending:
                if time.monotonic() > deadline:
                    raise DkgTimeout(f"round hello: no message from trustee(s) "
                                     f"{', '.join(map(str, sorted(pending)))}",
                                     culprit=min(pending))
                time.sleep(delay)
                delay = min(delay * 1.5, 0.25)
        return out

    # ------------------------------------------------------------------ Shamir over F_P (D3)
    def _seeded(self, sender: int, degree: int) -> list[int]:
        """The ``degree`` trustees whose shares from ``sender`` come from pair seeds:
        the first ``degree`` indices after ``sender`` (cyclically)."""
        ell = self.params.trustees
        return [((sender - 1 + k) % ell) + 1 for k in range(1, degree + 1)]

    def share_out(self, round_name: str, what: str, secrets_vec: Sequence[int], degree: int,
                  prime: int) -> tuple[dict[int, list[int]], list[int]]:
        """Share each value of ``secrets_vec`` with a random degree-``degree`` polynomial;
        returns ``({j: explicit shares}, own share)`` (D3)."""
        seeded = self._seeded(self.index, degree)
        label = f"{round_name}:{what}:{self.index}"
        ys = [prg_vector(self.ch.pair_seed(j), label, len(secrets_vec), prime) for j in seeded]
        points = [0, *seeded]
        vectors = [list(secrets_vec), *ys]
        explicit: dict[int, list[int]] = {}
        for j in self.others:
            if j not in seeded:
                explicit[j] = combine_vectors(lagrange_at(points, j, prime), vectors, prime)
        own = combine_vectors(lagrange_at(points, self.index, prime), vectors, prime)
        return explicit, own

    def share_in(self, round_name: str, what: str, sender: int, degree: int, count: int,
                 prime: int, explicit: dict[str, Any] | None) -> list[int]:
        """My share of ``sender``'s sharing ``what``: from our pair seed or explicit."""
        if self.index in self._seeded(sender, degree):
            return prg_vector(self.ch.pair_seed(sender), f"{round_name}:{what}:{sender}",
                              count, prime)
        if explicit is None or what not in explicit:
            raise InvalidCommitment(f"trustee {sender}: missing shares {what!r}", culprit=sender)
        width = (prime.bit_length() + 7) // 8
        return unpack_vec(explicit[what], width, count, sender, prime)

    def open_shares(self, shares: dict[int, list[int]], degree: int, prime: int) -> list[int]:
        """Interpolate at 0 from the first ``degree+1`` trustees; every further trustee's
        share must lie on the same polynomial (D4: detects, cannot attribute)."""
        idx = sorted(shares)
        base = idx[: degree + 1]
        values = combine_vectors(lagrange_at(base, 0, prime), [shares[j] for j in base], prime)
        for extra in idx[degree + 1:]:
            predicted = combine_vectors(lagrange_at(base, extra, prime),
                                        [shares[j] for j in base], prime)
            if predicted != shares[extra]:
                raise InvalidCommitment("opened shares are not on one polynomial of degree "
                                        f"{degree} (trustee {extra} or one of {base})")
        return values

    # ------------------------------------------------------------------ sieve (D1–D7)
    def _candidates(self, count: int) -> tuple[list[int], list[int]]:
        """D1: ``r_i = 4·x + (3 if i = 1 else 0)`` with ``x`` uniform below
        ``2^m ≤ share_range/4``; ``p_1 = 3·2^(h−2) + r_1``, ``p_i = r_i``."""
        m = (self.params.share_range // 4).bit_length() - 1
        base = 3 << (self.params.half - 2) if self.index == 1 else 0
        rem = 3 if self.index == 1 else 0
        rn = f"s{self.batch_no}"
        ps = [base + 4 * x + rem for x in self.own_random(f"{rn}:p", count, m)]
        qs = [base + 4 * x + rem for x in self.own_random(f"{rn}:q", count, m)]
        return ps, qs

    def _exchange(self, round_name: str, parts: dict[str, tuple[Sequence[int], int]],
                  prime: int) -> dict[str, dict[int, list[int]]]:
        """Share every named vector (``{name: (values, degree)}``), send the explicit shares,
        and return ``{name: {sender: my share}}`` including my own."""
        width = (prime.bit_length() + 7) // 8
        own: dict[str, list[int]] = {}
        outgoing: dict[int, dict[str, str]] = {j: {} for j in self.others}
        for name, (values, degree) in parts.items():
            explicit, mine = self.share_out(round_name, name, values, degree, prime)
            own[name] = mine
            for j, vec in explicit.items():
                outgoing[j][name] = pack_vec(vec, width)
        for j in self.others:
            self.ch.send(round_name, j, outgoing[j])
        got = self.ch.gather(round_name, private=True)
        result: dict[str, dict[int, list[int]]] = {}
        for name, (values, degree) in parts.items():
            result[name] = {self.index: own[name]}
            for j in self.others:
                result[name][j] = self.share_in(round_name, name, j, degree, len(values), prime,
                                                got[j].payload)
        return result

    def _open(self, round_name: str, mine: list[int], degree: int,
              prime: int) -> list[int]:
        width = (prime.bit_length() + 7) // 8
        self.ch.broadcast(round_name, {"v": pack_vec(mine, width)})
        got = self.ch.gather(round_name, private=False)
        shares = {self.index: mine}
        for j, rec in got.items():
            shares[j] = unpack_vec(rec.payload.get("v"), width, len(mine), j, prime)
        return self.open_shares(shares, degree, prime)

    def _bf_values(self, n: int, p_i: int, q_i: int, gs: Sequence[int]) -> list[int]:
        """D6: ``v_1 = g^((N − p_1 − q_1 + 1)/4)``, ``v_i = g^(−(p_i + q_i)/4)``."""
        if self.index == 1:
            e = (n - p_i - q_i + 1) // 4
            return [powmod(g, e, n) for g in gs]
        e = (p_i + q_i) // 4
        return [powmod(pow(g, -1, n), e, n) for g in gs]

    def _bpt(self, round_name: str, n: int, p_i: int, q_i: int,
             gs: Sequence[int]) -> tuple[bool, dict[int, list[int]]]:
        width = (n.bit_length() + 7) // 8
        mine = self._bf_values(n, p_i, q_i, gs)
        self.ch.broadcast(round_name, {"v": pack_vec(mine, width)})
        got = self.ch.gather(round_name, private=False)
        values = {self.index: mine}
        for j, rec in got.items():
            values[j] = unpack_vec(rec.payload.get("v"), width, len(gs), j, n)
        ok = all(bpt_ok(n, [values[j][r] for j in sorted(values)]) for r in range(len(gs)))
        return ok, values

    def run(self) -> DkgResult:
        self.hello()
        self.progress(f"trustee {self.index}: session {self.ch.sid[:16]}")
        try:
            return self._sieve()
        except (InvalidCommitment, KeyConfirmationFailed) as exc:
            if exc.culprit is not None:
                raise
            reason = str(exc)
        except _BudgetExceeded as exc:
            reason = str(exc)
        self.progress(f"trustee {self.index}: run failed ({reason}); blame round")
        self.blame(reason)

    def blame(self, reason: str) -> NoReturn:
        """The blame round (§4.7.10); always raises, naming a trustee when one deviated."""
        from crypto.dkg.blame import run_blame

        run_blame(self, reason)

    def blame_secrets(self) -> tuple[bytes, bytes]:
        """What this trustee reveals in B1: ``σ_i`` and its raw X25519 private key."""
        return self.seed, self.identity.dh.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
            serialization.NoEncryption())

    def _sieve(self) -> DkgResult:
        tried = 0
        attempt = 0
        while True:
            self.ch.new_window()
            self.window = (attempt, tried)
            result = self.sieve_batch(attempt, tried)
            if result is not None:
                return result
            tried += self.params.batch
            attempt += 1
            if tried >= self.budget:
                raise _BudgetExceeded(f"no key after {tried} candidates (the budget is "
                                      f"{self.budget})")

    def sieve_batch(self, attempt: int, tried: int) -> DkgResult | None:
        """Batch ``attempt`` (D1–D7), and the key (D8–D16) if one of its candidates passes."""
        p = self.params
        td = primorial_chunks(TRIAL_DIVISION_BOUND)
        rn = f"s{attempt}"
        self.batch_no = attempt
        ps, qs = self._candidates(p.batch)
        zero = [0] * p.batch
        sh = self._exchange(f"{rn}:share", {"p": (ps, p.t), "q": (qs, p.t),
                                            "z": (zero, 2 * p.t)}, p.sieve_prime)
        prime = p.sieve_prime
        sum_p = combine_vectors([1] * p.trustees, list(sh["p"].values()), prime)
        sum_q = combine_vectors([1] * p.trustees, list(sh["q"].values()), prime)
        sum_z = combine_vectors([1] * p.trustees, list(sh["z"].values()), prime)
        mine = [(a * b + z) % prime for a, b, z in zip(sum_p, sum_q, sum_z, strict=True)]
        ns = self._open(f"{rn}:prod", mine, 2 * p.t, prime)
        survivors = [c for c, n in enumerate(ns)
                     if n.bit_length() == p.bits and n % 4 == 1 and trial_division_ok(n, td)]
        self.progress(f"trustee {self.index}: batch {attempt}: {len(survivors)} of "
                      f"{p.batch} candidates pass trial division")
        passing: list[int] = []
        if survivors:
            gs = [derive_g(self.ch.sid, ns[c], f"s{attempt}:c{c}:pre") for c in survivors]
            width = max((ns[c].bit_length() + 7) // 8 for c in survivors)
            mine_v = [self._bf_values(ns[c], ps[c], qs[c], [g])[0]
                      for c, g in zip(survivors, gs, strict=True)]
            self.ch.broadcast(f"{rn}:bpt", {"v": pack_vec(mine_v, width)})
            got = self.ch.gather(f"{rn}:bpt", private=False)
            cols = {self.index: mine_v}
            for j, rec in got.items():
                cols[j] = unpack_vec(rec.payload.get("v"), width, len(survivors), j,
                                     1 << (8 * width))
            for k, c in enumerate(survivors):
                if bpt_ok(ns[c], [cols[j][k] % ns[c] for j in sorted(cols)]):
                    passing.append(c)
        for c in passing:
            n = ns[c]
            gs = [derive_g(self.ch.sid, n, f"bpt:{r}") for r in range(BPT_ROUNDS)]
            ok, values = self._bpt(f"{rn}:c{c}:bpt", n, ps[c], qs[c], gs)
            if not ok:
                continue
            try:
                return self._finish(n, ps[c], qs[c], values, f"{rn}:c{c}", tried + c + 1)
            except _Retry:
                self.progress(f"trustee {self.index}: gcd(θ, N) ≠ 1; continuing")
                continue
        return None

    # ------------------------------------------------------------------ θ (D8–D9)
    def _theta(self, rn: str, n: int, p_i: int, q_i: int) -> tuple[int, int, int]:
        p = self.params
        prime = p.theta_prime
        phi_i = (n - p_i - q_i + 1) if self.index == 1 else -(p_i + q_i)
        (beta_i,) = self.own_random(f"{rn}:beta", 1, p.beta_bits)
        (r_i,) = self.own_random(f"{rn}:R", 1, p.mask_bits)
        sh = self._exchange(f"{rn}:theta", {"phi": ([phi_i % prime], p.t),
                                           "beta": ([beta_i], p.t), "r": ([r_i], p.t),
                                           "z": ([0], 2 * p.t)}, prime)
        tot = {k: sum(v[0] for v in sh[k].values()) % prime for k in sh}
        mine = (tot["phi"] * tot["beta"] + n * tot["r"] + tot["z"]) % prime
        (w,) = self._open(f"{rn}:W", [mine], 2 * p.t, prime)
        theta = w % n
        if gmpy2.gcd(theta, n) != 1:
            raise _Retry
        d_i = (w - n * r_i) if self.index == 1 else -n * r_i
        return w, theta, d_i

    # ------------------------------------------------------------------ re-sharing (D10–D12)
    def outgoing_reshare(self, shares: dict[int, int],
                         commitments: list[int]) -> tuple[dict[int, int], list[int]]:
        """Hook for tests (a cheating trustee alters what it sends)."""
        return shares, commitments

    def _reshare(self, n: int, v: int, d_i: int) -> tuple[int, list[list[int]]]:
        p = self.params
        nn = n * n
        coeffs = [p.delta * d_i, *self.own_random("reshare:a", p.t, p.coefficient_bits)]
        commitments = [powmod(v, a, nn) if a >= 0 else powmod(pow(v, -1, nn), -a, nn)
                       for a in coeffs]
        shares = {j: sum(a * j ** k for k, a in enumerate(coeffs))
                  for j in range(1, p.trustees + 1)}
        own = shares[self.index]
        shares, commitments = self.outgoing_reshare(shares, commitments)
        self.ch.broadcast("reshare:commit", {"C": [int_to_hex(c) for c in commitments]})
        for j in self.others:
            self.ch.send("reshare:share", j, {"s": signed_hex(shares[j])})
        got_c = self.ch.gather("reshare:commit", private=False)
        got_s = self.ch.gather("reshare:share", private=True)
        all_c: dict[int, list[int]] = {self.index: commitments}
        for j, rec in got_c.items():
            all_c[j] = self._parse_commitments(j, rec, n)
        complaints = []
        received: dict[int, int] = {}
        for j, rec in got_s.items():
            # a malformed share is complained about like a wrong one (D12), so that every
            # trustee names its sender instead of only this one (the others would time out)
            try:
                s_ji: int | None = parse_signed_hex(rec.payload.get("s"), j, p.share_bits + 8)
            except InvalidCommitment:
                s_ji = None
            if s_ji is None or (powmod_signed(v, s_ji, nn)
                                != commitment_product(all_c[j], self.index, nn)):
                complaints.append({"against": j,
                                   "envelope": base64.b64encode(rec.envelope).decode(),
                                   "plaintext": base64.b64encode(rec.plaintext).decode()})
            else:
                received[j] = s_ji
        self.ch.broadcast("reshare:complain", {"complaints": complaints})
        got_k = self.ch.gather("reshare:complain", private=False)
        accusations = [(self.index, c) for c in complaints]
        accusations += [(j, c) for j, rec in got_k.items()
                        for c in (rec.payload.get("complaints") or [])]
        for accuser, complaint in sorted(accusations, key=lambda x: x[0]):
            self._resolve(accuser, complaint, all_c, v, nn)
        s_own = own + sum(received.values())
        return s_own, [all_c[j] for j in sorted(all_c)]

    def _parse_commitments(self, j: int, rec: Received, n: int) -> list[int]:
        raw = rec.payload.get("C")
        nn = n * n
        if not isinstance(raw, list) or len(raw) != self.params.t + 1:
            raise InvalidCommitment(f"trustee {j}: wrong number of commitments", culprit=j)
        out = []
        for item in raw:
            c = parse_signed_hex(item, j, 2 * nn.bit_length())
            if not 0 < c < nn or math.gcd(c, n) != 1:
                raise InvalidCommitment(f"trustee {j}: commitment not in Z*_(N^2)", culprit=j)
            out.append(c)
        return out

    def _resolve(self, accuser: int, complaint: Any, all_c: dict[int, list[int]], v: int,
                 nn: int) -> None:
        """D12: check the revealed, signed share; blame the sender or the accuser."""
        try:
            against = int(complaint["against"])
            envelope = base64.b64decode(complaint["envelope"])
            plaintext = base64.b64decode(complaint["plaintext"])
        except (KeyError, TypeError, ValueError) as exc:
            raise FalseComplaint(f"trustee {accuser}: malformed complaint",
                                 culprit=accuser) from exc
        if against not in all_c or against == accuser:
            raise FalseComplaint(f"trustee {accuser}: complaint against {against!r}",
                                 culprit=accuser)
        payload = open_revealed(envelope, plaintext, self.ch.roster, sid=self.ch.sid,
                                round_name="reshare:share", sender=against, recipient=accuser)
        share = parse_signed_hex(payload.get("s"), against, self.params.share_bits + 8)
        if powmod_signed(v, share, nn) != commitment_product(all_c[against], accuser, nn):
            raise InvalidDkgShare(f"trustee {against} sent trustee {accuser} a share that does "
                                  f"not match its commitments", culprit=against)
        raise FalseComplaint(f"trustee {accuser} complained about a correct share from "
                             f"trustee {against}", culprit=accuser)

    # ------------------------------------------------------------------ finish (D13–D16)
    def _finish(self, n: int, p_i: int, q_i: int, bpt_values: dict[int, list[int]], rn: str,
                tried: int) -> DkgResult:
        p = self.params
        w, theta, d_i = self._theta(rn, n, p_i, q_i)
        del p_i, q_i
        nn = n * n
        v = derive_v(self.ch.sid, n)
        s_own, commitments = self._reshare(n, v, d_i)
        del d_i
        vks = tuple(powmod(commitment_product_all(commitments, j, nn), p.delta, nn)
                    for j in range(1, p.trustees + 1))
        tpk = ThresholdPublicKey(PublicKey(n), p.threshold, p.trustees, v, vks,
                                 p.delta * theta % n, p.share_bits)
        share = KeyShare(self.index, s_own, tpk)
        check_share(share)
        c_star, m_star = confirmation_ciphertext(self.ch.sid, n)
        fp = tpk.fingerprint()
        mine = partial_decrypt(share, c_star, fingerprint=fp, context=CONFIRM_CONTEXT)
        self.ch.broadcast("confirm", {"partial": mine.to_json()})
        got = self.ch.gather("confirm", private=False)
        partials = {self.index: mine}
        for j, rec in got.items():
            try:
                part = PartialDecryption.from_json(rec.payload.get("partial"))
                if part.index != j:
                    raise InvalidCommitment("index")
                verify_partial_decryption(tpk, c_star, part, fingerprint=fp,
                                          context=CONFIRM_CONTEXT)
            except (CryptoError, TypeError, ValueError) as exc:
                raise KeyConfirmationFailed(f"trustee {j}: invalid confirmation partial "
                                            f"decryption ({exc})", culprit=j) from exc
            partials[j] = part
        ordered = [partials[j] for j in sorted(partials)]
        for subset in (ordered[: p.threshold], ordered[-p.threshold:]):
            try:
                m_got = combine(tpk, c_star, subset, fingerprint=fp, context=CONFIRM_CONTEXT).m
            except CryptoError:  # with a wrong d the combination is not even 1 + x·n
                m_got = None
            if m_got != m_star:
                raise KeyConfirmationFailed("the jointly generated key does not decrypt the "
                                            "confirmation ciphertext (a trustee deviated "
                                            "before the re-sharing)")
        core: dict[str, Any] = {
            "format": TRANSCRIPT_FORMAT,
            "election": self.ch.election,
            "run": self.ch.run,
            "sid": self.ch.sid,
            "params": p.to_json(),
            "roster": [self.ch.roster[j].to_json() for j in sorted(self.ch.roster)],
            "candidates_tried": tried,
            "modulus": {"n": int_to_hex(n), "round": rn},
            "biprimality": [[int_to_hex(bpt_values[j][r]) for j in sorted(bpt_values)]
                            for r in range(BPT_ROUNDS)],
            "theta": {"w": int_to_hex(w), "theta": int_to_hex(theta)},
            "commitments": [[int_to_hex(c) for c in row] for row in commitments],
            "confirmation": {"partials": [x.to_json() for x in ordered]},
            "public_key": tpk.to_json(),
        }
        digest = transcript_digest(core)
        sig = self.identity.sign.sign(SIGN_DOMAIN + digest)
        self.ch.broadcast("sign", {"signature": sig.hex()})
        got = self.ch.gather("sign", private=False)
        sigs = {self.index: sig.hex()}
        for j, rec in got.items():
            raw = rec.payload.get("signature")
            try:
                sig_j = bytes.fromhex(str(raw))
            except ValueError as exc:
                raise InvalidCommitment(f"trustee {j}: malformed signature", culprit=j) from exc
            verify_signature(self.ch.roster[j].sign_key, SIGN_DOMAIN + digest, sig_j, j)
            sigs[j] = raw if isinstance(raw, str) else ""
        transcript = {**core, "signatures": [{"index": j, "signature": sigs[j]}
                                             for j in sorted(sigs)]}
        self.progress(f"trustee {self.index}: key fingerprint {fp.hex()[:16]}…, "
                      f"{tried} candidates tried")
        return DkgResult(tpk, share, transcript, tried, self.ch.bytes_sent)


def powmod_signed(base: int, exp: int, modulus: int) -> int:
    """``base^exp mod modulus`` for any integer ``exp`` (negative: via the inverse)."""
    if exp >= 0:
        return powmod(base, exp, modulus)
    return powmod(pow(base, -1, modulus), -exp, modulus)


def commitment_product_all(rows: Sequence[Sequence[int]], j: int, nn: int) -> int:
    """``∏_i ∏_k C_ik^(j^k) = v^(s_j) mod N²`` (D13)."""
    acc = 1
    for row in rows:
        acc = acc * commitment_product(row, j, nn) % nn
    return acc

