"""Tests written for the mutants of crypto/primes.py that survived mutation testing.

The search of :func:`crypto.primes.generate_safe_prime` is made deterministic by replacing
its random start (``secrets.randbits``): for a given start, the result and the number of
candidates that pass the sieve ("found after N candidates") are fixed, and an independent
reference here (trial division by the primes 5..2^15 − 1, gmpy2 for primality) computes both.
That pins the start ``x0`` (top two bits set, ``≡ 5 mod 6``), the step, the sieve (it must
remove exactly the candidates with a small factor in ``p′`` or ``2p′ + 1``, no fewer, no more),
the end of the ``bits``-bit range, the progress notes, and the primality tests.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import gmpy2
import pytest

from crypto import primes
from crypto.primes import generate_safe_prime

SMALL = [r for r in range(5, 1 << 15) if gmpy2.is_prime(r)]
PRODUCT = math.prod(SMALL)

#: A 63-bit start whose window holds a safe prime: the 27th sieve survivor (offset j = 781).
#: Its top two bits are clear and it is ≡ 2 (mod 6): the search sets both bits and steps it up
#: by 3 to x0 = 0x7cbce825f47aebdd ≡ 5 (mod 6).
START = 0x1CBCE825F47AEBDA
FOUND = 0xF979D04BE8F5FC57
#: The largest 63-bit start: x0 = 2^63 + 3 after the ≡ 5 (mod 6) step, out of range at once.
TOP = (1 << 63) - 1


def _reference(raw: int, qbits: int) -> tuple[int | None, int]:
    """The documented search of one window: (safe prime or None, sieve survivors tested)."""
    x0 = raw | (3 << (qbits - 2))
    x0 += (5 - x0 % 6) % 6
    tested = 0
    for j in range(4096):
        x = x0 + 6 * j
        if x.bit_length() != qbits:
            return None, tested
        if math.gcd(x * (2 * x + 1), PRODUCT) != 1:
            continue
        tested += 1
        if gmpy2.is_prime(x, 40) and gmpy2.is_prime(2 * x + 1, 40):
            return 2 * x + 1, tested
    return None, tested


class _Draws:
    """Stands in for the ``secrets`` module: ``randbits`` returns the given values in turn."""

    def __init__(self, values: list[int]) -> None:
        self._values: Iterator[int] = iter(values)
        self.widths: list[int] = []

    def randbits(self, k: int) -> int:
        self.widths.append(k)
        return next(self._values)


def test_small_primes_table() -> None:
    assert primes._small_primes(30) == [5, 7, 11, 13, 17, 19, 23, 29]
    assert primes._small_primes(29) == [5, 7, 11, 13, 17, 19, 23]
    assert primes._small_primes(26) == [5, 7, 11, 13, 17, 19, 23]  # 25 = 5² is the last entry
    assert primes._small_primes(50) == [r for r in SMALL if r < 50]
    assert primes._small_primes(1 << 15) == SMALL
    assert primes._SMALL_PRIMES == SMALL
    assert len(primes._INV6) == len(SMALL)
    assert all(6 * inv % r == 1 for r, inv in zip(SMALL, primes._INV6, strict=True))


def test_reference_agrees_with_the_recorded_start() -> None:
    assert _reference(START, 63) == (FOUND, 27)
    assert START >> 61 == 0 and START % 6 == 2
    assert _reference(TOP, 63) == (None, 0)


def test_deterministic_search_finds_the_reference_prime(monkeypatch: pytest.MonkeyPatch) -> None:
    draws = _Draws([START])
    monkeypatch.setattr(primes, "secrets", draws)
    notes: list[str] = []
    assert generate_safe_prime(64, progress=notes.append, label="p") == FOUND
    assert draws.widths == [63]
    assert notes == ["p: found after 27 candidates"]


def test_progress_notes_count_the_sieve_survivors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(primes, "secrets", _Draws([START]))
    monkeypatch.setattr(primes, "_PROGRESS_EVERY", 10)
    notes: list[str] = []
    assert generate_safe_prime(64, progress=notes.append, label="safe prime 1/2") == FOUND
    assert notes == [
        "safe prime 1/2: 10 candidates tested",
        "safe prime 1/2: 20 candidates tested",
        "safe prime 1/2: found after 27 candidates",
    ]


def test_default_label_and_no_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(primes, "secrets", _Draws([START, START]))
    monkeypatch.setattr(primes, "_PROGRESS_EVERY", 10)
    notes: list[str] = []
    assert generate_safe_prime(64, progress=notes.append) == FOUND
    assert notes[-1] == "safe prime: found after 27 candidates"
    assert generate_safe_prime(64) == FOUND  # progress=None: no call


def test_a_start_past_the_range_is_drawn_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """x0 = 2^63 + 3 has 64 bits: that window is left at once, a new start is drawn."""
    draws = _Draws([TOP, START])
    monkeypatch.setattr(primes, "secrets", draws)
    notes: list[str] = []
    p = generate_safe_prime(64, progress=notes.append, label="p")
    assert p == FOUND and p.bit_length() == 64
    assert draws.widths == [63, 63]
    assert notes == ["p: found after 27 candidates"]


def test_miller_rabin_runs_only_after_fermat_on_both(monkeypatch: pytest.MonkeyPatch) -> None:
    """``gmpy2.is_prime(·, 40)`` is reached only by candidates that pass base-2 Fermat."""
    calls: list[tuple[int, int]] = []

    class _Gmpy2:
        @staticmethod
        def is_prime(value: int, reps: int) -> bool:
            calls.append((value, reps))
            return bool(gmpy2.is_prime(value, reps))

    monkeypatch.setattr(primes, "secrets", _Draws([START]))
    monkeypatch.setattr(primes, "gmpy2", _Gmpy2)
    assert generate_safe_prime(64) == FOUND
    x = (FOUND - 1) // 2
    assert calls == [(x, 40), (FOUND, 40)]


@pytest.mark.parametrize("reject", ["p'", "p"])
def test_a_fermat_pseudoprime_is_skipped(monkeypatch: pytest.MonkeyPatch, reject: str) -> None:
    """Miller–Rabin rejecting either half (as for a base-2 pseudoprime) moves the search on."""
    x = (FOUND - 1) // 2
    fake = x if reject == "p'" else FOUND

    class _Gmpy2:
        @staticmethod
        def is_prime(value: int, reps: int) -> bool:
            return value != fake and bool(gmpy2.is_prime(value, reps))

    monkeypatch.setattr(primes, "secrets", _Draws([START]))
    monkeypatch.setattr(primes, "gmpy2", _Gmpy2)
    notes: list[str] = []
    p = generate_safe_prime(64, progress=notes.append, label="p")
    # the next safe prime of the same window, after the recorded one
    nxt, tested = _reference((x + 6) & ((1 << 63) - 1), 63)
    assert nxt is not None and p == nxt and p > FOUND
    assert notes == [f"p: found after {27 + tested} candidates"]


@pytest.mark.parametrize("bits", [32, 33, 64])
def test_sizes_and_the_32_bit_floor(bits: int) -> None:
    p = generate_safe_prime(bits)
    assert p.bit_length() == bits and p >> (bits - 2) == 3
    assert gmpy2.is_prime(p, 50) and gmpy2.is_prime((p - 1) // 2, 50)
    assert (p - 1) // 2 % 6 == 5


@pytest.mark.parametrize("bits", [31, 2, 0, -5])
def test_below_32_bits_refused(bits: int) -> None:
    with pytest.raises(ValueError, match=r"^safe primes below 32 bits are not supported$"):
        generate_safe_prime(bits)


@pytest.mark.parametrize("raw", [0, 1, 3, 4, 6 * 12345 + 2])
def test_every_residue_of_the_start_is_stepped_up_to_5_mod_6(
        monkeypatch: pytest.MonkeyPatch, raw: int) -> None:
    """Starts ≡ 0, 1, 3, 4, 2 (mod 6) (with the top bits set) lead to the reference prime."""
    want, tested = _reference(raw, 63)
    assert want is not None
    monkeypatch.setattr(primes, "secrets", _Draws([raw]))
    notes: list[str] = []
    assert generate_safe_prime(64, progress=notes.append, label="p") == want
    assert notes == [f"p: found after {tested} candidates"]
