"""The protocol over an in-memory relay: a real (unplanted) sieve at 512 bits, and
the planted fast path at 1024 bits with the transcript verifier."""

from __future__ import annotations

import gmpy2
import pytest

from crypto.dkg.params import DkgParams
from crypto.dkg.protocol import DkgParty
from crypto.dkg.transcript import verify_transcript
from crypto.paillier import encrypt
from crypto.threshold import combine, partial_decrypt
from tests.dkg.helpers import memory_run, planted


class Recording(DkgParty):
    """Remembers its additive shares of every candidate (test only)."""

    def _candidates(self, count):  # type: ignore[no-untyped-def]
        a, b = super()._candidates(count)
        self.__class__.seen.setdefault(self.index, []).append((a, b))  # type: ignore[attr-defined]
        return a, b


def _decrypts(results, threshold):
    tpk = results[1].public_key
    m = 123456789
    c, _ = encrypt(tpk.public, m)
    fp = tpk.fingerprint()
    shares = [results[i].share for i in sorted(results)]
    for subset in (shares[:threshold], shares[-threshold:]):
        parts = [partial_decrypt(s, c, fingerprint=fp, context=("t",)) for s in subset]
        assert combine(tpk, c, parts, fingerprint=fp, context=("t",)).m == m


def test_random_sieve_512_bits_finds_a_biprime_nobody_knows():
    Recording.seen = {}  # type: ignore[attr-defined]
    params = DkgParams(512, 3, 2, batch=1024, allow_test_key=True)
    results, errors = memory_run(params, {i: Recording for i in (1, 2, 3)})
    assert not errors, errors
    r = results[1]
    assert all(results[i].public_key == r.public_key for i in results)
    assert all(results[i].transcript == r.transcript for i in results)
    n = r.public_key.n
    assert n.bit_length() == 512
    # reconstruct p, q from the trustees' additive shares (only a test can do this)
    found = False
    for batch in range(len(Recording.seen[1])):  # type: ignore[attr-defined]
        for c in range(params.batch):
            p = sum(Recording.seen[i][batch][0][c] for i in (1, 2, 3))  # type: ignore[attr-defined]
            q = sum(Recording.seen[i][batch][1][c] for i in (1, 2, 3))  # type: ignore[attr-defined]
            if p * q == n:
                found = True
                assert gmpy2.is_prime(p) and gmpy2.is_prime(q)
                assert p % 4 == 3 and q % 4 == 3
    assert found
    assert r.candidates >= 1
    _decrypts(results, 2)


@pytest.mark.parametrize(("trustees", "threshold"), [(3, 2), (5, 3)])
def test_planted_1024_verifies(trustees, threshold):
    params = DkgParams(1024, trustees, threshold, batch=16, allow_test_key=True)
    cls, n = planted(params)
    results, errors = memory_run(params, {i: cls for i in range(1, trustees + 1)})
    assert not errors, errors
    tpk = verify_transcript(results[1].transcript, election="e1")
    assert tpk == results[1].public_key and tpk.n == n
    assert tpk.theta != 1 and tpk.share_bits == params.share_bits
    _decrypts(results, threshold)
