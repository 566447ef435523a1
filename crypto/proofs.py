"""Zero-knowledge proofs over Paillier ciphertexts (docs/protocol.md §1.5).

**Set membership** — ``c`` encrypts one of ``S = (m_1, …, m_k)`` — a disjunction of
proofs of n-th residuosity (Baudron–Fouque–Pointcheval–Poupard–Stern; Damgård–Jurik)::

    u_i = c · (1 − m_i·n)  mod N                 (so u_j = r^n for the true index j)
    i ≠ j:  e_i ←$ [0, 2^t),  z_i ←$ Z*_n,   a_i = z_i^n · u_i^(−e_i)  mod N
    i = j:  ρ ←$ Z*_n,                       a_j = ρ^n                 mod N
    e   = H(transcript) mod 2^t
    e_j = e − Σ_{i≠j} e_i  mod 2^t,          z_j = ρ · r^(e_j)          mod n
    verify:  Σ e_i ≡ e (mod 2^t)  and  z_i^n ≡ ±a_i · u_i^(e_i)  (mod N)  for every i   (Z5)

Eq. Z5 accepts either sign.  Sound: ``n`` is odd, so ``−1 = (n − 1)^n mod N`` is itself
an n-th residue (``x ≡ y (mod n)`` implies ``x^n ≡ y^n (mod n²)``), and a response with
``z^n ≡ −a·u^e`` is the response ``n − z`` with ``(n − z)^n ≡ a·u^e``; two accepting
transcripts still give ``u^(e − e')`` = ± an n-th power, hence ``u`` an n-th residue.
It is also what the batched check (:mod:`crypto.batch`, eq. V1) can establish — its odd
multipliers cannot tell ``x`` from ``−x`` — so batch and one-by-one checks accept exactly
the same proofs (docs/protocol.md §1.5, §1.7).

The proof keeps its commitments ``a_i`` so that many proofs can be checked at once by
:mod:`crypto.batch`.  A decryption proof for a single-key decryption is the same proof
with ``S = (m,)`` (the verifier learns ``m`` and that ``c·(1 − m·n)`` is an n-th power).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gmpy2

from crypto.encoding import byte_length, hex_to_int, int_to_hex, require
from crypto.errors import InvalidCiphertext, InvalidEncoding, InvalidProof
from crypto.paillier import (
    PrivateKey,
    PublicKey,
    RandBelow,
    all_units,
    invert,
    powmod,
    random_unit,
    validate_ciphertext,
    validate_unit,
)
from crypto.transcript import CHALLENGE_BITS, Transcript

DOMAIN_OPTION = "saylau/v1/option"
DOMAIN_SELECTION_COUNT = "saylau/v1/selection-count"
DOMAIN_DECRYPTION = "saylau/v1/decryption"

#: A proof's context: ordered (label, value) pairs, e.g. (("question_id", "q1"), …).
Context = tuple[tuple[str, str], ...]

_T_MOD = 1 << CHALLENGE_BITS


@dataclass(frozen=True)
class MembershipProof:
    """Commitments ``a``, challenges ``e`` and responses ``z``, one per allowed value."""

    a: tuple[int, ...]
    e: tuple[int, ...]
    z: tuple[int, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "a": [int_to_hex(x) for x in self.a],
            "e": [int_to_hex(x) for x in self.e],
            "z": [int_to_hex(x) for x in self.z],
        }

    @classmethod
    def from_json(cls, obj: object, where: str = "proof") -> MembershipProof:
        parts = []
        for key in ("a", "e", "z"):
            items = require(obj, key, list, where)
            if not 1 <= len(items) <= 1024:
                raise InvalidEncoding(f"{where}.{key}: bad length")
            parts.append(tuple(hex_to_int(x, f"{where}.{key}") for x in items))
        return cls(parts[0], parts[1], parts[2])


def membership_challenge(
    pk: PublicKey,
    domain: str,
    fingerprint: bytes,
    context: Context,
    statement_ciphertexts: Sequence[int],
    c: int,
    allowed: Sequence[int],
    commitments: Sequence[int],
) -> int:
    """``e = H(domain, fingerprint, n, context, statement, c, S, a) mod 2^t`` (eq. Z3)."""
    t = Transcript(domain)
    t.bytes("fingerprint", fingerprint)
    t.integer("n", pk.n, byte_length(pk.n))
    t.integer("context#count", len(context), 4)
    for label, value in context:
        t.text("context.label", label)
        t.text("context.value", value)
    t.integers_mod("statement.ciphertexts", statement_ciphertexts, pk.nsquare)
    t.integer_mod("statement.c", c, pk.nsquare)
    t.integers_mod("statement.allowed", allowed, pk.n)
    t.integers_mod("commitments", commitments, pk.nsquare)
    return t.challenge(CHALLENGE_BITS)


def equal_up_to_sign(x: int, y: int, modulus: int) -> bool:
    """``x ≡ ±y (mod modulus)`` for ``x, y`` reduced mod ``modulus`` (eqs. Z5, V1)."""
    return x == y or (x + y) % modulus == 0


def _u(pk: PublicKey, c: int, m: int) -> int:
    """``u = c · (1 − m·n) mod N`` — ``c`` with the plaintext ``m`` removed (eq. Z1)."""
    return c * ((1 - m * pk.n) % pk.nsquare) % pk.nsquare


def _check_allowed(pk: PublicKey, allowed: Sequence[int]) -> None:
    if not allowed or len(set(allowed)) != len(allowed):
        raise InvalidProof("allowed set must be non-empty and without repeats")
    if any(not 0 <= m < pk.n for m in allowed):
        raise InvalidProof("allowed values must lie in [0, n)")


def prove_membership(
    pk: PublicKey,
    c: int,
    r: int,
    m: int,
    allowed: Sequence[int],
    *,
    domain: str,
    fingerprint: bytes,
    context: Context,
    statement_ciphertexts: Sequence[int] | None = None,
    rng: RandBelow | None = None,
) -> MembershipProof:
    """Prove that ``c = (1+mn)·r^n`` encrypts a member of ``allowed`` (eqs. Z1–Z4).

    Randomness is drawn in this order: for each simulated branch ``i ≠ j`` in
    increasing ``i``, ``e_i = rng(2^t)`` then ``z_i`` (unit); then ``ρ`` (unit).
    """
    draw = rng or secrets.randbelow
    allowed = tuple(allowed)
    _check_allowed(pk, allowed)
    if m not in allowed:
        raise InvalidProof("the plaintext is not in the allowed set; no proof exists")
    j = allowed.index(m)
    nn = pk.nsquare
    k = len(allowed)
    a = [0] * k
    e = [0] * k
    z = [0] * k
    for i, m_i in enumerate(allowed):
        if i == j:
            continue
        e[i] = draw(_T_MOD)
        z[i] = random_unit(pk.n, draw)
        u_i = _u(pk, c, m_i)
        a[i] = powmod(z[i], pk.n, nn) * invert(powmod(u_i, e[i], nn), nn) % nn
    rho = random_unit(pk.n, draw)
    a[j] = powmod(rho, pk.n, nn)
    statement = tuple(statement_ciphertexts) if statement_ciphertexts is not None else (c,)
    challenge = membership_challenge(pk, domain, fingerprint, context, statement, c, allowed, a)
    e[j] = (challenge - sum(e[i] for i in range(k) if i != j)) % _T_MOD
    z[j] = rho * powmod(r, e[j], pk.n) % pk.n
    return MembershipProof(tuple(a), tuple(e), tuple(z))


def check_membership_ranges(pk: PublicKey, c: int, allowed: Sequence[int],
                            proof: MembershipProof) -> None:
    """:func:`check_membership_shape` without the ``gcd(·, n) = 1`` tests: the batch
    verifier makes those on the product of all elements at once (:mod:`crypto.batch`)."""
    if not isinstance(c, int) or isinstance(c, bool) or not 0 < c < pk.nsquare:
        raise InvalidProof("statement ciphertext invalid: ciphertext is not in Z*_{n^2}")
    _check_allowed(pk, allowed)
    k = len(allowed)
    if not len(proof.a) == len(proof.e) == len(proof.z) == k:
        raise InvalidProof(f"proof must have exactly {k} branches")
    for a_i in proof.a:
        if not isinstance(a_i, int) or not 0 < a_i < pk.nsquare:
            raise InvalidProof("commitment not in Z*_{n^2}")
    for e_i in proof.e:
        if not 0 <= e_i < _T_MOD:
            raise InvalidProof("challenge out of range [0, 2^t)")
    for z_i in proof.z:
        if not isinstance(z_i, int) or isinstance(z_i, bool) or not 0 < z_i < pk.n:
            raise InvalidProof("response is not in Z*_n")


def check_membership_shape(pk: PublicKey, c: int, allowed: Sequence[int],
                           proof: MembershipProof) -> None:
    """Range and length checks every verifier makes before any exponentiation.

    ``c`` and every ``a_i`` in ``Z*_{n²}``, every ``z_i`` in ``Z*_n``, every ``e_i`` in
    ``[0, 2^t)``.  The units are first tested together (:func:`crypto.paillier.all_units`:
    one ``gcd`` instead of ``2k + 1``); only when that fails are they tested one by one, to
    name the bad one.
    """
    k = len(allowed)
    nn = pk.nsquare
    if (len(proof.a) == len(proof.e) == len(proof.z) == k
            and all(type(e_i) is int and 0 <= e_i < _T_MOD for e_i in proof.e)
            and all_units(pk.n, (c, *proof.a, *proof.z), (nn,) * (k + 1) + (pk.n,) * k)):
        _check_allowed(pk, allowed)
        return
    try:
        validate_ciphertext(pk, c)
    except InvalidCiphertext as exc:
        raise InvalidProof(f"statement ciphertext invalid: {exc}") from exc
    _check_allowed(pk, allowed)
    k = len(allowed)
    if not len(proof.a) == len(proof.e) == len(proof.z) == k:
        raise InvalidProof(f"proof must have exactly {k} branches")
    for a_i in proof.a:
        if not 0 < a_i < pk.nsquare or gmpy2.gcd(a_i, pk.n) != 1:
            raise InvalidProof("commitment not in Z*_{n^2}")
    for e_i in proof.e:
        if not 0 <= e_i < _T_MOD:
            raise InvalidProof("challenge out of range [0, 2^t)")
    for z_i in proof.z:
        try:
            validate_unit(pk, z_i)
        except InvalidCiphertext as exc:
            raise InvalidProof(str(exc)) from exc


def check_membership_challenge(
    pk: PublicKey,
    c: int,
    allowed: Sequence[int],
    proof: MembershipProof,
    *,
    domain: str,
    fingerprint: bytes,
    context: Context,
    statement_ciphertexts: Sequence[int] | None = None,
    units: bool = True,
) -> None:
    """Shape checks plus ``Σ e_i ≡ H(transcript) (mod 2^t)`` — everything but the powers.

    ``units=False`` leaves out the ``gcd(·, n) = 1`` tests (:func:`check_membership_ranges`
    instead of :func:`check_membership_shape`), for a caller whose proofs then go to
    :func:`crypto.batch.combined_check`: it makes those tests on the product of every
    element of the batch, and names the bad element with this full check when they fail.
    """
    allowed = tuple(allowed)
    if units:
        check_membership_shape(pk, c, allowed, proof)
    else:
        check_membership_ranges(pk, c, allowed, proof)
    statement = tuple(statement_ciphertexts) if statement_ciphertexts is not None else (c,)
    expected = membership_challenge(pk, domain, fingerprint, context, statement, c, allowed, proof.a)
    if sum(proof.e) % _T_MOD != expected:
        raise InvalidProof("challenges do not sum to the Fiat–Shamir challenge")


def verify_membership(
    pk: PublicKey,
    c: int,
    allowed: Sequence[int],
    proof: MembershipProof,
    *,
    domain: str,
    fingerprint: bytes,
    context: Context,
    statement_ciphertexts: Sequence[int] | None = None,
) -> None:
    """Verify a set-membership proof (eq. Z5: ``z^n ≡ ±a·u^e``); raise :class:`InvalidProof`."""
    allowed = tuple(allowed)
    check_membership_challenge(pk, c, allowed, proof, domain=domain, fingerprint=fingerprint,
                               context=context, statement_ciphertexts=statement_ciphertexts)
    nn = pk.nsquare
    for m_i, a_i, e_i, z_i in zip(allowed, proof.a, proof.e, proof.z, strict=True):
        if not equal_up_to_sign(powmod(z_i, pk.n, nn), a_i * powmod(_u(pk, c, m_i), e_i, nn) % nn,
                                nn):
            raise InvalidProof("verification equation z^n = ±a·u^e fails")


@dataclass(frozen=True)
class DecryptionProof:
    """A single-key decryption: plaintext ``m`` and a proof that ``c`` encrypts ``m``."""

    m: int
    proof: MembershipProof

    def to_json(self) -> dict[str, Any]:
        return {"m": int_to_hex(self.m), "proof": self.proof.to_json()}

    @classmethod
    def from_json(cls, obj: object) -> DecryptionProof:
        return cls(hex_to_int(require(obj, "m", str, "decryption"), "m"),
                   MembershipProof.from_json(require(obj, "proof", dict, "decryption")))


def prove_decryption(sk: PrivateKey, c: int, *, fingerprint: bytes,
                     context: Context) -> DecryptionProof:
    """Decrypt ``c`` and prove it (membership in ``S = (m,)``, domain ``…/decryption``)."""
    m = sk.decrypt(c)
    r = sk.recover_randomness(c, m)
    proof = prove_membership(sk.public, c, r, m, (m,), domain=DOMAIN_DECRYPTION,
                             fingerprint=fingerprint, context=context)
    return DecryptionProof(m, proof)


def verify_decryption(pk: PublicKey, c: int, decryption: DecryptionProof, *,
                      fingerprint: bytes, context: Context) -> int:
    """Check a single-key decryption proof; return the proven plaintext."""
    verify_membership(pk, c, (decryption.m,), decryption.proof, domain=DOMAIN_DECRYPTION,
                      fingerprint=fingerprint, context=context)
    return decryption.m
