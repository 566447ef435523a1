"""Encrypted ballots: one Paillier ciphertext per option, with proofs (docs/protocol.md §1.6).

For each question ``q`` with options ``o_1 … o_k``:

* every option ciphertext ``c_i = Enc(x_i; r_i)`` carries a membership proof for
  ``S = (0, 1)`` under domain ``saylau/v1/option`` and context
  ``(election_id, question_id, option_id, token_id)``;
* the product ``C = ∏ c_i mod N`` (randomness ``R = ∏ r_i mod n``) carries a membership
  proof for ``S = (min, …, max)`` under domain ``saylau/v1/selection-count``, context
  ``(election_id, question_id, token_id)`` and statement ``(c_1, …, c_k)``.

The token id is the credential's (RFC 9474) token id, so a ballot cannot be moved to
another credential or election: its proofs would no longer verify.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from crypto.batch import ProofItem, combined_check
from crypto.election import Manifest
from crypto.encoding import (
    bytes_to_hex,
    canonical_json,
    hex_to_bytes,
    hex_to_int,
    int_to_hex,
    require,
)
from crypto.errors import InvalidBallot, InvalidCiphertext, InvalidEncoding, InvalidProof
from crypto.paillier import (
    PublicKey,
    RandBelow,
    add,
    add_randomness,
    all_units,
    encrypt,
    validate_ciphertext,
)
from crypto.proofs import (
    DOMAIN_OPTION,
    DOMAIN_SELECTION_COUNT,
    Context,
    MembershipProof,
    check_membership_challenge,
    prove_membership,
    verify_membership,
)
from crypto.transcript import tagged_hash

TRACKER_DOMAIN = "saylau/v1/tracker"
OPTION_VALUES = (0, 1)


def option_context(election_id: str, question_id: str, option_id: str, token_id: bytes) -> Context:
    return (("election_id", election_id), ("question_id", question_id),
            ("option_id", option_id), ("token_id", token_id.hex()))


def tracker_of(ballot_json: Mapping[str, Any]) -> str:
    """Ballot tracker ``tagged_hash("saylau/v1/tracker", ("ballot", canonical_json(ballot)))`` hex
    (docs/protocol.md §1.6): what the voter writes down and looks up on the board."""
    return tracker_of_canonical(canonical_json(dict(ballot_json)))


def tracker_of_canonical(ballot_canonical: bytes) -> str:
    """:func:`tracker_of` from ``canonical_json(ballot)`` already computed (the entry check
    makes it for the ballot signature)."""
    return tagged_hash(TRACKER_DOMAIN, ("ballot", ballot_canonical)).hex()


_BALLOT_FIELDS = frozenset({"election_id", "token_id", "contests"})
_CONTEST_FIELDS = frozenset({"question_id", "selections", "count_proof"})
_SELECTION_FIELDS = frozenset({"option_id", "ciphertext", "proof"})
_PROOF_FIELDS = frozenset({"a", "e", "z"})


def has_exact_fields(ballot_json: Mapping[str, Any]) -> bool:
    """``EncryptedBallot.from_json(ballot_json).to_json() == ballot_json``, for a
    ``ballot_json`` that :meth:`EncryptedBallot.from_json` accepted, without writing the
    numbers again.

    The parser already refused every number or byte string not in canonical hex
    (:func:`crypto.encoding.hex_to_int`, :func:`crypto.encoding.hex_to_bytes`: lowercase,
    no leading zero), and every value of the wrong JSON type; writing such a value back
    gives the same text.  What the parser leaves is a field it does not read: the
    canonical form has none, so the two sides are equal exactly when every object has
    exactly its fields.  ``tests/crypto/test_ballot_exact_fields.py`` compares the two on
    mutated ballots.
    """
    if ballot_json.keys() != _BALLOT_FIELDS:
        return False
    for contest in ballot_json["contests"]:
        if contest.keys() != _CONTEST_FIELDS or contest["count_proof"].keys() != _PROOF_FIELDS:
            return False
        for selection in contest["selections"]:
            if selection.keys() != _SELECTION_FIELDS or selection["proof"].keys() != _PROOF_FIELDS:
                return False
    return True


def count_context(election_id: str, question_id: str, token_id: bytes) -> Context:
    return (("election_id", election_id), ("question_id", question_id),
            ("token_id", token_id.hex()))


@dataclass(frozen=True)
class EncryptedSelection:
    option_id: str
    ciphertext: int
    proof: MembershipProof

    def to_json(self) -> dict[str, Any]:
        return {"option_id": self.option_id, "ciphertext": int_to_hex(self.ciphertext),
                "proof": self.proof.to_json()}

    @classmethod
    def from_json(cls, obj: object, where: str) -> EncryptedSelection:
        return cls(require(obj, "option_id", str, where),
                   hex_to_int(require(obj, "ciphertext", str, where), where + ".ciphertext"),
                   MembershipProof.from_json(require(obj, "proof", dict, where), where + ".proof"))


@dataclass(frozen=True)
class EncryptedContest:
    question_id: str
    selections: tuple[EncryptedSelection, ...]
    count_proof: MembershipProof

    def to_json(self) -> dict[str, Any]:
        return {"question_id": self.question_id,
                "selections": [s.to_json() for s in self.selections],
                "count_proof": self.count_proof.to_json()}

    @classmethod
    def from_json(cls, obj: object, where: str) -> EncryptedContest:
        sels = require(obj, "selections", list, where)
        if len(sels) > 64:
            raise InvalidEncoding(f"{where}: too many selections")
        return cls(require(obj, "question_id", str, where),
                   tuple(EncryptedSelection.from_json(s, f"{where}.selections[{i}]")
                         for i, s in enumerate(sels)),
                   MembershipProof.from_json(require(obj, "count_proof", dict, where),
                                             where + ".count_proof"))


@dataclass(frozen=True)
class EncryptedBallot:
    election_id: str
    token_id: bytes
    contests: tuple[EncryptedContest, ...]

    def to_json(self) -> dict[str, Any]:
        return {"election_id": self.election_id, "token_id": bytes_to_hex(self.token_id),
                "contests": [c.to_json() for c in self.contests]}

    @classmethod
    def from_json(cls, obj: object) -> EncryptedBallot:
        contests = require(obj, "contests", list, "ballot")
        if len(contests) > 64:
            raise InvalidEncoding("ballot: too many contests")
        return cls(require(obj, "election_id", str, "ballot"),
                   hex_to_bytes(require(obj, "token_id", str, "ballot"), "ballot.token_id", 32),
                   tuple(EncryptedContest.from_json(c, f"ballot.contests[{i}]")
                         for i, c in enumerate(contests)))

    def ciphertexts(self) -> Iterator[int]:
        for contest in self.contests:
            for selection in contest.selections:
                yield selection.ciphertext

    def contest(self, question_id: str) -> EncryptedContest:
        for contest in self.contests:
            if contest.question_id == question_id:
                return contest
        raise KeyError(question_id)


@dataclass(frozen=True)
class BallotSecrets:
    """What the voter's device keeps: plaintexts and randomness (for a Benaloh audit)."""

    plaintexts: Mapping[str, Mapping[str, int]]
    randomness: Mapping[str, Mapping[str, int]]

    def to_json(self) -> dict[str, Any]:
        return {
            q: {o: {"m": m, "r": int_to_hex(self.randomness[q][o])} for o, m in opts.items()}
            for q, opts in self.plaintexts.items()
        }

    @classmethod
    def from_json(cls, obj: object) -> BallotSecrets:
        if not isinstance(obj, dict):
            raise InvalidEncoding("ballot secrets: expected an object")
        plaintexts: dict[str, dict[str, int]] = {}
        randomness: dict[str, dict[str, int]] = {}
        for q, opts in obj.items():
            if not isinstance(opts, dict):
                raise InvalidEncoding("ballot secrets: expected an object per question")
            plaintexts[q] = {}
            randomness[q] = {}
            for o, entry in opts.items():
                m = require(entry, "m", int, f"secrets.{q}.{o}")
                if m not in OPTION_VALUES:
                    raise InvalidEncoding("ballot secrets: m must be 0 or 1")
                plaintexts[q][o] = m
                randomness[q][o] = hex_to_int(require(entry, "r", str, f"secrets.{q}.{o}"), "r")
        return cls(plaintexts, randomness)


def _check_choices(manifest: Manifest, choices: Mapping[str, Collection[str]]) -> None:
    unknown = set(choices) - {q.id for q in manifest.questions}
    if unknown:
        raise InvalidBallot(f"unknown question(s): {', '.join(sorted(unknown))}")
    for q in manifest.questions:
        chosen = set(choices.get(q.id, ()))
        if not chosen <= set(q.option_ids):
            raise InvalidBallot(f"question {q.id}: unknown option(s)")
        if not q.min_selections <= len(chosen) <= q.max_selections:
            raise InvalidBallot(
                f"question {q.id}: choose between {q.min_selections} and {q.max_selections}")


def encrypt_ballot(
    pk: PublicKey,
    manifest: Manifest,
    fingerprint: bytes,
    token_id: bytes,
    choices: Mapping[str, Collection[str]],
    rng: RandBelow | None = None,
) -> tuple[EncryptedBallot, BallotSecrets]:
    """Encrypt and prove a ballot on the voter's device (eqs. B1–B3).

    With an injected ``rng`` (tests, worked examples) draws happen in this order: for
    each question, for each option: ``r`` then the option proof's draws; then the
    selection-count proof's draws.
    """
    if len(token_id) != 32:
        raise InvalidEncoding("token id must be 32 bytes")
    _check_choices(manifest, choices)
    eid = manifest.election_id
    contests = []
    plaintexts: dict[str, dict[str, int]] = {}
    randomness: dict[str, dict[str, int]] = {}
    for q in manifest.questions:
        chosen = set(choices.get(q.id, ()))
        selections = []
        plaintexts[q.id] = {}
        randomness[q.id] = {}
        for option_id in q.option_ids:
            m = 1 if option_id in chosen else 0
            c, r = encrypt(pk, m, rng=rng)
            proof = prove_membership(pk, c, r, m, OPTION_VALUES, domain=DOMAIN_OPTION,
                                     fingerprint=fingerprint, rng=rng,
                                     context=option_context(eid, q.id, option_id, token_id))
            selections.append(EncryptedSelection(option_id, c, proof))
            plaintexts[q.id][option_id] = m
            randomness[q.id][option_id] = r
        cts = [s.ciphertext for s in selections]
        total = add(pk, *cts)
        total_r = add_randomness(pk, *randomness[q.id].values())
        count_proof = prove_membership(pk, total, total_r, len(chosen), q.allowed_counts,
                                       domain=DOMAIN_SELECTION_COUNT, fingerprint=fingerprint,
                                       context=count_context(eid, q.id, token_id),
                                       statement_ciphertexts=cts, rng=rng)
        contests.append(EncryptedContest(q.id, tuple(selections), count_proof))
    return EncryptedBallot(eid, bytes(token_id), tuple(contests)), BallotSecrets(plaintexts, randomness)


def check_ballot_shape(pk: PublicKey, manifest: Manifest, ballot: EncryptedBallot,
                       token_id: bytes) -> None:
    """Structure checks: election, token, exactly the manifest's questions and options."""
    if ballot.election_id != manifest.election_id:
        raise InvalidBallot("ballot is for another election")
    if ballot.token_id != token_id:
        raise InvalidBallot("ballot token id does not match the credential")
    if [c.question_id for c in ballot.contests] != [q.id for q in manifest.questions]:
        raise InvalidBallot("ballot questions do not match the manifest (order matters)")
    cts = [s.ciphertext for contest in ballot.contests for s in contest.selections]
    units = all_units(pk.n, cts, (pk.nsquare,) * len(cts))  # one gcd; one by one if not
    for contest, q in zip(ballot.contests, manifest.questions, strict=True):
        if tuple(s.option_id for s in contest.selections) != q.option_ids:
            raise InvalidBallot(f"question {q.id}: options do not match the manifest")
        for s in contest.selections if not units else ():
            try:
                validate_ciphertext(pk, s.ciphertext)
            except InvalidCiphertext as exc:
                raise InvalidCiphertext(f"question {q.id}, option {s.option_id}: {exc}") from exc


def verify_ballot(pk: PublicKey, manifest: Manifest, fingerprint: bytes,
                  ballot: EncryptedBallot, token_id: bytes) -> None:
    """Verify every proof of a ballot one by one; raise a typed error naming the part."""
    check_ballot_shape(pk, manifest, ballot, token_id)
    eid = manifest.election_id
    for contest, q in zip(ballot.contests, manifest.questions, strict=True):
        for s in contest.selections:
            try:
                verify_membership(pk, s.ciphertext, OPTION_VALUES, s.proof, domain=DOMAIN_OPTION,
                                  fingerprint=fingerprint,
                                  context=option_context(eid, q.id, s.option_id, token_id))
            except InvalidProof as exc:
                raise InvalidProof(f"question {q.id}, option {s.option_id}: {exc}") from exc
        cts = [s.ciphertext for s in contest.selections]
        try:
            verify_membership(pk, add(pk, *cts), q.allowed_counts, contest.count_proof,
                              domain=DOMAIN_SELECTION_COUNT, fingerprint=fingerprint,
                              context=count_context(eid, q.id, token_id),
                              statement_ciphertexts=cts)
        except InvalidProof as exc:
            raise InvalidProof(f"question {q.id}, selection count: {exc}") from exc


def verify_audited_ballot(pk: PublicKey, manifest: Manifest, ballot: EncryptedBallot,
                          secrets_: BallotSecrets) -> dict[str, list[str]]:
    """Benaloh audit: re-encrypt with the revealed randomness; return the chosen options."""
    chosen: dict[str, list[str]] = {}
    for contest in ballot.contests:
        q = manifest.question(contest.question_id)
        chosen[q.id] = []
        for s in contest.selections:
            try:
                m = secrets_.plaintexts[q.id][s.option_id]
                r = secrets_.randomness[q.id][s.option_id]
            except KeyError as exc:
                raise InvalidBallot(f"audit data lacks {q.id}/{s.option_id}") from exc
            c, _ = encrypt(pk, m, r)
            if c != s.ciphertext:
                raise InvalidBallot(
                    f"question {q.id}, option {s.option_id}: the revealed plaintext and "
                    "randomness do not reproduce the ciphertext")
            if m:
                chosen[q.id].append(s.option_id)
    return chosen


def ballot_proof_items(pk: PublicKey, manifest: Manifest, fingerprint: bytes,
                       ballot: EncryptedBallot, token_id: bytes, *,
                       units: bool = True) -> list[ProofItem]:
    """Shape and Fiat–Shamir checks of a ballot, returning its proofs for batch checking.

    Raises like :func:`verify_ballot` for everything but the exponentiations, which
    :func:`crypto.batch.combined_check` then does for many ballots at once.

    ``units=False`` also leaves the proofs' unit tests (``gcd(a_i, n) = gcd(z_i, n) = 1``)
    to ``combined_check``, which makes them on the product of every element of its batch:
    for a caller that hands the items to ``combined_check`` (or
    :func:`crypto.batch.find_invalid`) before it accepts the ballot, and that names a
    failing ballot's fault with ``units=True`` or :func:`verify_ballot`.  The ciphertexts
    are tested either way (:func:`check_ballot_shape`).
    """
    check_ballot_shape(pk, manifest, ballot, token_id)
    eid = manifest.election_id
    items: list[ProofItem] = []
    for contest, q in zip(ballot.contests, manifest.questions, strict=True):
        for s in contest.selections:
            try:
                check_membership_challenge(pk, s.ciphertext, OPTION_VALUES, s.proof,
                                           domain=DOMAIN_OPTION, fingerprint=fingerprint,
                                           context=option_context(eid, q.id, s.option_id, token_id),
                                           units=units)
            except InvalidProof as exc:
                raise InvalidProof(f"question {q.id}, option {s.option_id}: {exc}") from exc
            items.append(ProofItem(s.ciphertext, OPTION_VALUES, s.proof))
        cts = [s.ciphertext for s in contest.selections]
        total = add(pk, *cts)
        try:
            check_membership_challenge(pk, total, q.allowed_counts, contest.count_proof,
                                       domain=DOMAIN_SELECTION_COUNT, fingerprint=fingerprint,
                                       context=count_context(eid, q.id, token_id),
                                       statement_ciphertexts=cts, units=units)
        except InvalidProof as exc:
            raise InvalidProof(f"question {q.id}, selection count: {exc}") from exc
        items.append(ProofItem(total, q.allowed_counts, contest.count_proof, tuple(cts)))
    return items


def check_ballot(pk: PublicKey, manifest: Manifest, fingerprint: bytes,
                 ballot: EncryptedBallot, token_id: bytes) -> None:
    """What the ballot box runs on cast: :func:`verify_ballot` with batched powers.

    All of the ballot's proof equations are checked together (eq. V1: one full
    exponentiation instead of two per option).  If the combined check fails, the
    ballot is verified proof by proof so that the error names the failing part.
    """
    items = ballot_proof_items(pk, manifest, fingerprint, ballot, token_id)
    try:
        combined_check(pk, items)
    except InvalidProof:
        verify_ballot(pk, manifest, fingerprint, ballot, token_id)
        raise
