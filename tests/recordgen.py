"""Build a complete, valid election record OFFLINE (no web app) from the crypto modules.

Test keys only: the 2048-bit issuer key and the 1024-bit 3-of-5 threshold key from
tests/fixtures, and a fixed board seed.  :class:`GeneratedElection` keeps the secrets
(board key, shares, voters' ballot keys) so that tests can play a malicious operator:
change the board, then :meth:`GeneratedElection.rebuild` re-signs tree heads, re-tallies
and re-decrypts exactly as an operator holding the board key could.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.record import (
    ENCRYPTED_TALLY,
    PARTIALS,
    RESULTS,
    build_record_data,
    write_record,
)
from crypto.ballot import EncryptedBallot, encrypt_ballot, tracker_of
from crypto.blind_rsa import IssuerPrivateKey
from crypto.credentials import (
    Credential,
    ballot_public_key_bytes,
    begin_credential,
    finish_credential,
    generate_ballot_key,
    issue_blind_signature,
    sign_payload,
)
from crypto.election import ElectionRules, Manifest, election_fingerprint
from crypto.encoding import canonical_json
from crypto.merkle import MerkleLog, entry_leaf_hash, make_inclusion_proof
from crypto.roll import (
    CredentialRequest,
    RollCommitment,
    RollEntry,
    SignedRequest,
    national_id_hash,
    sign_request,
    spki_der,
)
from crypto.threshold import KeyShare, ThresholdPublicKey
from crypto.tree_head import BoardSigningKey, election_log_id, sign_tree_head
from tally.aggregate import EncryptedTally, aggregate_ballots
from tally.decrypt import TrusteePartials, combine_tally, trustee_decrypt
from tests.manifests import demo_manifest

FIXTURES = Path(__file__).parent / "fixtures"
BOARD_SEED = "5a" * 32
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z in ms
#: the voting window bound in F1 (rules): 2026-01-01T00:00Z .. 2026-01-02T00:00Z, 1-hour times
WINDOW_OPENS = T0
WINDOW_CLOSES = T0 + 86_400_000
GRANULARITY_S = 3600
PERIOD = "2026-01-01"
#: keys on a generated election's roll (enrolled-key mode)
ROLL_SIZE = 12


@functools.cache
def issuer_key() -> IssuerPrivateKey:
    doc = json.loads((FIXTURES / "issuer-test-key-2048.json").read_text())
    return IssuerPrivateKey.from_pem(doc["private_key_pem"].encode())


@functools.cache
def threshold_key() -> tuple[ThresholdPublicKey, tuple[KeyShare, ...]]:
    doc = json.loads((FIXTURES / "threshold-test-key-1024-3of5.json").read_text())
    tpk = ThresholdPublicKey.from_json(doc["public_key"])
    return tpk, tuple(KeyShare.from_json(s) for s in doc["shares"])


def board_key() -> BoardSigningKey:
    return BoardSigningKey.from_seed_hex(BOARD_SEED)


def make_credential(issuer: IssuerPrivateKey, scope_id: str
                    ) -> tuple[Ed25519PrivateKey, Credential]:
    """A voter's ballot key and the RFC 9474 credential on it (blind issuance)."""
    key, credential, _ = make_credential_blinded(issuer, scope_id)
    return key, credential


def make_credential_blinded(issuer: IssuerPrivateKey, scope_id: str
                            ) -> tuple[Ed25519PrivateKey, Credential, bytes]:
    """Like :func:`make_credential`, also returning the blinded message the issuer saw."""
    key = generate_ballot_key()
    blinded, state = begin_credential(issuer.public_key(), scope_id, ballot_public_key_bytes(key))
    return key, finish_credential(issuer.public_key(), state,
                                  issue_blind_signature(issuer, blinded)), blinded


def roll_keys(n: int) -> list[Ed25519PrivateKey]:
    """``n`` voters' enrolled Ed25519 roll keys, sorted by public key (the roll's order)."""
    keys = [Ed25519PrivateKey.generate() for _ in range(n)]
    return sorted(keys, key=ballot_public_key_bytes)


def roll_of(keys: Sequence[Ed25519PrivateKey]) -> list[RollEntry]:
    return [RollEntry(i, "ed25519", ballot_public_key_bytes(k)) for i, k in enumerate(keys)]


ID_SALT = bytes(range(32))


def pki_roll(n: int) -> tuple[list[Any], list[RollEntry]]:
    """PKI mode: ``n`` P-256 certificate keys of the TEST CA's voters and their roll entries."""
    from cryptography.hazmat.primitives.asymmetric import ec

    keys = sorted((ec.generate_private_key(ec.SECP256R1()) for _ in range(n)),
                  key=lambda k: spki_der(k.public_key()))
    entries = [RollEntry(i, "x509", spki_der(k.public_key()),
                         national_id_hash(ID_SALT, f"{900101300000 + i:012d}"))
               for i, k in enumerate(keys)]
    return keys, entries


@dataclass
class Voter:
    name: str
    key: Ed25519PrivateKey
    credential: Credential
    choices: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class GeneratedElection:
    manifest: Manifest
    tpk: ThresholdPublicKey
    shares: tuple[KeyShare, ...]
    issuer: IssuerPrivateKey
    board_key: BoardSigningKey
    fingerprint: bytes
    revote_policy: str = "last-counts"
    board: list[dict[str, Any]] = field(default_factory=list)
    voters: list[Voter] = field(default_factory=list)
    receipts: dict[int, dict[str, Any]] = field(default_factory=dict)
    tree_heads: list[dict[str, Any]] = field(default_factory=list)
    issued: int = 0
    files: dict[str, Any] = field(default_factory=dict)
    #: the voters' enrolled roll keys (index = roll position) and the published roll
    roll_private: list[Any] = field(default_factory=list)
    roll: list[RollEntry] = field(default_factory=list)
    roll_commitment: dict[str, Any] | None = None
    requests: list[SignedRequest] = field(default_factory=list)
    #: eq. F1's counting rules (revote policy, voting window, granularity); None = unbound
    rules: dict[str, Any] | None = None

    def refingerprint(self) -> None:
        """Recompute F1 from the current manifest, keys, roll commitment and rules
        (as an operator who rewrites the record would)."""
        self.fingerprint = election_fingerprint(
            self.manifest, self.tpk.to_json(), self.issuer.public_key().to_json(),
            self.board_key.public_key_bytes(), self.roll_commitment, self.rules)

    def signed_request(self, roll_index: int, blinded: bytes,
                       key: Any = None) -> SignedRequest:
        """eq. R1 signed with roll key ``roll_index`` (or with ``key``)."""
        request = CredentialRequest(self.election_id, roll_index, blinded, PERIOD)
        return sign_request(key if key is not None else self.roll_private[roll_index], request)

    @property
    def election_id(self) -> str:
        return self.manifest.election_id

    @property
    def log_id(self) -> str:
        return election_log_id(self.election_id)

    # ----------------------------------------------------------------- voting

    def new_voter(self, name: str) -> Voter:
        """A voter with the next unused roll key: a signed request, then blind issuance."""
        key, credential, blinded = make_credential_blinded(self.issuer, self.election_id)
        voter = Voter(name, key, credential)
        self.voters.append(voter)
        self.requests.append(self.signed_request(len(self.requests), blinded))
        self.issued += 1
        return voter

    def encrypt(self, voter: Voter, choices: Mapping[str, Collection[str]]
                ) -> tuple[EncryptedBallot, Any]:
        return encrypt_ballot(self.tpk.public, self.manifest, self.fingerprint,
                              voter.credential.token_id, choices)

    def ballot_entry(self, voter: Voter, ballot_json: dict[str, Any],
                     replaces: int | None = None) -> dict[str, Any]:
        return {
            "kind": "ballot",
            "index": len(self.board),
            "election_id": self.election_id,
            "credential": voter.credential.to_json(),
            "ballot": ballot_json,
            "signature": sign_payload(voter.key, canonical_json(ballot_json)).hex(),
            "replaces": replaces,
            "cast_at": T0 + 1000 * len(self.board),
        }

    def append(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Append an entry, sign a tree head, return the receipt (like the cast API)."""
        self.board.append(entry)
        log = MerkleLog(entry_leaf_hash(e) for e in self.board)
        sth = sign_tree_head(self.board_key, self.log_id, log.size, log.root(),
                             T0 + 1000 * log.size + 500)
        self.tree_heads.append(sth.to_json())
        index = len(self.board) - 1
        receipt = {
            "election_id": self.election_id,
            "tracker": tracker_of(entry["ballot"]),
            "index": index,
            "leaf_hash": log.leaf(index).hex(),
            "inclusion_proof": make_inclusion_proof(log, index).to_json(),
            "tree_head": sth.to_json(),
        }
        self.receipts[index] = receipt
        return receipt

    def current_index(self, voter: Voter) -> int | None:
        token = voter.credential.to_json()
        found = None
        for e in self.board:
            if e["kind"] == "ballot" and e["credential"] == token:
                found = e["index"]
        return found

    def cast(self, voter: Voter, choices: Mapping[str, Collection[str]]) -> dict[str, Any]:
        ballot, _ = self.encrypt(voter, choices)
        voter.choices = {q: sorted(opts) for q, opts in choices.items()}
        entry = self.ballot_entry(voter, ballot.to_json(), self.current_index(voter))
        return self.append(entry)

    def audit(self, voter: Voter, choices: Mapping[str, Collection[str]]) -> dict[str, Any]:
        ballot, secrets_ = self.encrypt(voter, choices)
        entry = {
            "kind": "audited",
            "index": len(self.board),
            "election_id": self.election_id,
            "credential": None,
            "ballot": ballot.to_json(),
            "signature": None,
            "secrets": secrets_.to_json(),
            "replaces": None,
            "cast_at": T0 + 1000 * len(self.board),
        }
        return self.append(entry)

    # ----------------------------------------------------------------- results

    def expected_results(self) -> dict[str, dict[str, int]]:
        out = {q.id: dict.fromkeys(q.option_ids, 0) for q in self.manifest.questions}
        for voter in self.voters:
            if self.current_index(voter) is None:
                continue
            for q, opts in voter.choices.items():
                for o in opts:
                    out[q][o] += 1
        return out

    def naive_tally(self) -> EncryptedTally:
        """What an operator tallies: the last ``ballot`` entry per token, unverified."""
        last: dict[str, dict[str, Any]] = {}
        for e in self.board:
            if e.get("kind") == "ballot":
                last[e["ballot"]["token_id"]] = e
        chosen = sorted(last.values(), key=lambda e: e["index"])
        ballots = [EncryptedBallot.from_json(e["ballot"]) for e in chosen]
        return EncryptedTally(self.election_id,
                              aggregate_ballots(self.tpk.public, self.manifest, ballots),
                              tuple(tracker_of(e["ballot"]) for e in chosen))

    def service_data(self) -> dict[str, Any]:
        """The same shape as the voting service's ``record_data()``."""
        return {
            "election": {"title": self.manifest.title, "opens_at": "2026-01-01T00:00:00Z",
                         "closes_at": "2026-01-02T00:00:00Z"},
            "manifest": self.manifest.to_json(),
            "election_public_key": self.tpk.to_json(),
            "issuer_public_key": self.issuer.public_key().to_json(),
            "board_public_key": self.board_key.public_key_bytes().hex(),
            "log_id": self.log_id,
            "fingerprint": self.fingerprint.hex(),
            "revote_policy": self.revote_policy,
            "rules": self.rules,
            "board": [{"index": e["index"], "kind": e["kind"], "entry": e} for e in self.board],
            "tree_heads": list(self.tree_heads),
            "issuance": {"election_id": self.election_id, "count": self.issued,
                         "receipts": [],
                         "requests": [r.to_json() for r in self.requests]},
            "credential_mode": self.roll_commitment["mode"] if self.roll_commitment is not None
            else "login",
            "roll_commitment": self.roll_commitment,
            "roll": [e.to_json() for e in self.roll] if self.roll_commitment is not None
            else None,
        }

    def rebuild(self, *, resign_heads: bool = False, trustees: Sequence[int] = (1, 2, 3),
                tally: bool = True) -> dict[str, Any]:
        """Recompute the record files from the current board.

        ``resign_heads``: replace the tree heads by fresh ones (one per entry), as an
        operator holding the board key would after rewriting the board.
        """
        if resign_heads:
            self.tree_heads = []
            log = MerkleLog()
            for e in self.board:
                log.append(entry_leaf_hash(e))
                self.tree_heads.append(sign_tree_head(
                    self.board_key, self.log_id, log.size, log.root(),
                    T0 + 1000 * log.size + 500).to_json())
        if not tally:
            self.files = build_record_data(self.service_data())
            return self.files
        enc = self.naive_tally()
        sets = [trustee_decrypt(self.shares[i - 1], enc, fingerprint=self.fingerprint)
                for i in trustees]
        combined = combine_tally(self.tpk, enc, sets, fingerprint=self.fingerprint)
        self.files = build_record_data(self.service_data(), [s.to_json() for s in sets],
                                       combined.results, enc.to_json())
        return self.files

    def set_tally_files(self, enc: EncryptedTally, sets: Sequence[TrusteePartials],
                        results: Mapping[str, Any]) -> None:
        self.files[ENCRYPTED_TALLY] = enc.to_json()
        self.files[PARTIALS] = [s.to_json() for s in sets]
        self.files[RESULTS] = dict(results)

    def write(self, path: str | Path) -> Path:
        return write_record(path, self.files, self.board_key)


def new_election(election_id: str = "test-election", revote_policy: str = "last-counts",
                 manifest: Manifest | None = None, roll_size: int = ROLL_SIZE,
                 mode: str = "enrolled") -> GeneratedElection:
    """An opened election (``mode`` "enrolled" or "pki") with ``roll_size`` keys on its roll."""
    manifest = manifest if manifest is not None else demo_manifest(election_id)
    tpk, shares = threshold_key()
    issuer = issuer_key()
    bkey = board_key()
    keys: list[Any]
    if mode == "pki":
        keys, roll = pki_roll(roll_size)
    else:
        keys = list(roll_keys(roll_size))
        roll = roll_of(keys)
    commitment = RollCommitment.of(mode, roll).to_json()
    rules = ElectionRules(revote_policy, WINDOW_OPENS, WINDOW_CLOSES, GRANULARITY_S).to_json()
    fp = election_fingerprint(manifest, tpk.to_json(), issuer.public_key().to_json(),
                              bkey.public_key_bytes(), commitment, rules)
    return GeneratedElection(manifest, tpk, shares, issuer, bkey, fp, revote_policy,
                             roll_private=keys, roll=roll, roll_commitment=commitment,
                             rules=rules)


CHOICES: tuple[dict[str, list[str]], ...] = (
    {"mayor": ["aigerim"], "council": ["a", "b"], "budget": ["yes"]},
    {"mayor": ["bolat"], "council": ["c"], "budget": []},
    {"mayor": ["aigerim"], "council": ["b"], "budget": ["yes"]},
    {"mayor": ["dana"], "council": ["a", "c"], "budget": []},
    {"mayor": ["bolat"], "council": ["a"], "budget": ["yes"]},
)


def generate(voters: int = 4, *, revote: bool = True, audited: bool = True,
             extra_credentials: int = 1, manifest: Manifest | None = None,
             mode: str = "enrolled") -> GeneratedElection:
    """A complete, valid, tallied election: ``voters`` ballots, a revote, an audited entry.

    Board: voter 0..n-1 cast; voter 1 revotes (if ``revote``); voter 0 audits a
    ballot (Benaloh; never counted).  ``extra_credentials`` voters get a credential
    but do not vote (so ``ballots ≤ credentials`` is not tight).
    """
    gen = new_election(manifest=manifest, mode=mode)
    people = [gen.new_voter(f"voter{i}") for i in range(voters)]
    for _ in range(extra_credentials):
        gen.new_voter("abstainer")
    for i, voter in enumerate(people):
        if audited and i == 1:
            gen.audit(people[0], CHOICES[3])
        gen.cast(voter, CHOICES[i % len(CHOICES)])
    if revote and voters > 1:
        gen.cast(people[1], CHOICES[4])
    gen.rebuild()
    return gen


__all__ = ["CHOICES", "GeneratedElection", "Voter", "generate", "make_credential",
           "make_credential_blinded", "new_election", "roll_keys", "roll_of"]
