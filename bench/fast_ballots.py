"""Valid ballots (and petition signatures) built fast, for load tests only — **never for a
voter**.

A 5-option ballot built by :func:`crypto.ballot.encrypt_ballot` costs about 16 full
exponentiations modulo ``N = n²`` (each option: ``r^n``, the real branch's ``ρ^n``, the
simulated branch's ``z^n`` and ``u^e``; the count proof's ``ρ^n``): 0.5 s of one core at
3,072 bits, so the 60,000 ballots of a 10-minute run at 100 casts/s would take this
2-core machine nearly four hours.  Voters encrypt on their own devices, so a load test
only needs ballots the ballot box cannot tell from real ones.  This module builds them with
the same equations (docs/protocol.md §1.5, eqs. B1–B3, Z1–Z4) and the same transcripts, but
draws every ``(x, x^n mod N)`` pair from a random walk over a small pool instead of raising
a fresh ``x`` to the ``n``:

* ``NthPowerWalk``: a pool of ``K`` units ``x_k`` with ``x_k^n mod N``, and a running pair
  ``(X, X^n)`` started from a fresh unit.  Each draw multiplies the pair by a random pool
  pair: ``X ← X·x_k mod n``, ``X^n ← X^n·x_k^n mod N`` (``(ab mod n)^n ≡ a^n b^n (mod N)``,
  since ``x ≡ y (mod n)`` implies ``x^n ≡ y^n (mod n²)``).  Two draws are equal only if a
  product of random pool units is 1, so ciphertexts do not repeat (the ballot box refuses a
  copy).
* The simulated branch ``i`` of a membership proof is built without ``u_i^(−e_i)``: with
  ``(w, W = w^n)`` drawn and ``z_i = w·r^(e_i) mod n``, the commitment eq. Z2 asks for,
  ``a_i = z_i^n · u_i^(−e_i)``, is ``W · (1 − (m − m_i)·e_i·n) mod N`` because
  ``u_i = (1 + (m − m_i)·n)·r^n`` and ``(1 + x·n)^e ≡ 1 + e·x·n (mod n²)``.  ``z_i`` is
  uniform, as in :func:`crypto.proofs.prove_membership`.

What this gives up is what makes it unfit for voters: the randomness of every ballot a
builder makes is a product of the same ``K`` pool units, so whoever learns the pool (or
enough openings) learns the votes.  The proofs and the ballot's format are exactly those of
:func:`crypto.ballot.encrypt_ballot` (and of :func:`crypto.petition.encrypt_signature` for
:func:`encrypt_signature_fast`); ``tests/bench/test_fast_ballots.py`` checks them with the
ballot box's and the petition board's own checks and the verifier's.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Mapping, Sequence

import gmpy2

from crypto.ballot import (
    OPTION_VALUES,
    BallotSecrets,
    EncryptedBallot,
    EncryptedContest,
    EncryptedSelection,
    count_context,
    option_context,
)
from crypto.election import Manifest
from crypto.paillier import PublicKey, encrypt_with_rn, random_unit
from crypto.petition import (
    DOMAIN_REGION,
    EncryptedSignature,
    PetitionParameters,
    region_context,
)
from crypto.proofs import (
    DOMAIN_OPTION,
    DOMAIN_SELECTION_COUNT,
    Context,
    MembershipProof,
    membership_challenge,
)
from crypto.transcript import CHALLENGE_BITS

_T_MOD = 1 << CHALLENGE_BITS


class NthPowerWalk:
    """Pairs ``(x, x^n mod n²)`` for one key, two multiplications per draw (see above)."""

    def __init__(self, pk: PublicKey, pool: int = 64) -> None:
        self.n = gmpy2.mpz(pk.n)
        self.nn = gmpy2.mpz(pk.nsquare)
        units = [gmpy2.mpz(random_unit(pk.n)) for _ in range(pool + 1)]
        pairs = [(x, gmpy2.powmod(x, self.n, self.nn)) for x in units]
        self._x, self._xn = pairs[0]
        self._pool = pairs[1:]

    def draw(self) -> tuple[gmpy2.mpz, gmpy2.mpz]:
        x, xn = self._pool[secrets.randbelow(len(self._pool))]
        self._x = self._x * x % self.n
        self._xn = self._xn * xn % self.nn
        return self._x, self._xn


def prove_membership_fast(walk: NthPowerWalk, pk: PublicKey, c: int, r: int, m: int,
                          allowed: Sequence[int], *, domain: str, fingerprint: bytes,
                          context: Context,
                          statement_ciphertexts: Sequence[int] | None = None
                          ) -> MembershipProof:
    """The proof of :func:`crypto.proofs.prove_membership`, from the walk's pairs."""
    n, nn = walk.n, walk.nn
    j = list(allowed).index(m)
    k = len(allowed)
    a: list[int] = [0] * k
    e: list[int] = [0] * k
    z: list[int] = [0] * k
    for i, m_i in enumerate(allowed):
        if i == j:
            continue
        e[i] = secrets.randbelow(_T_MOD)
        w, w_n = walk.draw()
        z[i] = int(w * gmpy2.powmod(r, e[i], n) % n)
        a[i] = int(w_n * ((1 - (m - m_i) * e[i] * n) % nn) % nn)
    rho, rho_n = walk.draw()
    a[j] = int(rho_n)
    statement = tuple(statement_ciphertexts) if statement_ciphertexts is not None else (c,)
    challenge = membership_challenge(pk, domain, fingerprint, context, statement, c,
                                     allowed, a)
    e[j] = (challenge - sum(e[i] for i in range(k) if i != j)) % _T_MOD
    z[j] = int(rho * gmpy2.powmod(r, e[j], n) % n)
    return MembershipProof(tuple(a), tuple(e), tuple(z))


def encrypt_ballot_fast(walk: NthPowerWalk, pk: PublicKey, manifest: Manifest,
                        fingerprint: bytes, token_id: bytes,
                        choices: Mapping[str, Collection[str]]
                        ) -> tuple[EncryptedBallot, BallotSecrets]:
    """What :func:`crypto.ballot.encrypt_ballot` returns (eqs. B1–B3), from the walk."""
    eid = manifest.election_id
    contests = []
    plaintexts: dict[str, dict[str, int]] = {}
    randomness: dict[str, dict[str, int]] = {}
    for q in manifest.questions:
        chosen = set(choices.get(q.id, ()))
        selections = []
        plaintexts[q.id], randomness[q.id] = {}, {}
        total, total_r = gmpy2.mpz(1), gmpy2.mpz(1)
        for option_id in q.option_ids:
            m = 1 if option_id in chosen else 0
            r, r_n = walk.draw()
            c = encrypt_with_rn(pk, m, int(r_n))
            proof = prove_membership_fast(walk, pk, c, int(r), m, OPTION_VALUES,
                                          domain=DOMAIN_OPTION, fingerprint=fingerprint,
                                          context=option_context(eid, q.id, option_id,
                                                                 token_id))
            selections.append(EncryptedSelection(option_id, c, proof))
            plaintexts[q.id][option_id], randomness[q.id][option_id] = m, int(r)
            total, total_r = total * c % walk.nn, total_r * r % walk.n
        count_proof = prove_membership_fast(
            walk, pk, int(total), int(total_r), len(chosen), q.allowed_counts,
            domain=DOMAIN_SELECTION_COUNT, fingerprint=fingerprint,
            context=count_context(eid, q.id, token_id),
            statement_ciphertexts=[s.ciphertext for s in selections])
        contests.append(EncryptedContest(q.id, tuple(selections), count_proof))
    return (EncryptedBallot(eid, bytes(token_id), tuple(contests)),
            BallotSecrets(plaintexts, randomness))


def encrypt_signature_fast(walk: NthPowerWalk, pk: PublicKey, params: PetitionParameters,
                           fingerprint: bytes, token_id: bytes, region_id: str
                           ) -> tuple[EncryptedSignature, int]:
    """What :func:`crypto.petition.encrypt_signature` returns: ``B^i`` for the region with
    its ``R``-branch membership proof, from the walk (``R − 1`` simulated branches)."""
    m = params.encode(region_id)
    r, r_n = walk.draw()
    c = encrypt_with_rn(pk, m, int(r_n))
    proof = prove_membership_fast(walk, pk, c, int(r), m, params.allowed, domain=DOMAIN_REGION,
                                  fingerprint=fingerprint,
                                  context=region_context(params.petition_id, token_id))
    return EncryptedSignature(params.petition_id, bytes(token_id), c, proof), int(r)
