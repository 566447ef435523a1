"""Shared hypothesis strategies that reach the edges of every range the crypto checks.

Random integers in a 1024-bit range almost never land on 0, 1, ``n − 1``, ``n``, ``n²``
or a negative; these strategies put those values first (``st.sampled_from`` of the edges,
then uniform draws) so that a few examples already cover the boundaries.

Profiles (tests/conftest.py): ``ci`` — derandomized, the fast default under CI;
``dev`` — random seeds; ``thorough`` — random seeds and :func:`scaled` multiplies
every example budget by :data:`THOROUGH_FACTOR` (``make test-thorough`` sets
``HYPOTHESIS_PROFILE=thorough``).
"""

from __future__ import annotations

import os

from hypothesis import strategies as st

#: Budget multiplier of the thorough profile (20 examples become 500).
THOROUGH_FACTOR = 25


def profile() -> str:
    """The hypothesis profile in force (see tests/conftest.py)."""
    return os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")


def scaled(examples: int) -> int:
    """``examples`` in the fast profiles; ``examples · THOROUGH_FACTOR`` in ``thorough``."""
    return examples * THOROUGH_FACTOR if profile() == "thorough" else examples


def edges(n: int) -> list[int]:
    """Every boundary of ``[0, n)`` and ``[0, n²)``: 0, 1, 2, n−1, n, n+1, n²−1, n², negatives."""
    nn = n * n
    return [0, 1, 2, n - 1, n, n + 1, 2 * n, nn - 1, nn, nn + 1, -1, -n, -nn]


def any_integer(n: int) -> st.SearchStrategy[int]:
    """Edges first, then anything from ``−n²`` to ``2·n²``."""
    nn = n * n
    return st.one_of(st.sampled_from(edges(n)), st.integers(min_value=-nn, max_value=2 * nn))


def plaintexts(n: int) -> st.SearchStrategy[int]:
    """Valid plaintexts ``[0, n)``, with 0, 1 and ``n − 1`` (the largest allowed) first."""
    return st.one_of(st.sampled_from([0, 1, n - 1, n - 2, n // 2]),
                     st.integers(min_value=0, max_value=n - 1))


def out_of_range_plaintexts(n: int) -> st.SearchStrategy[int]:
    """Values a plaintext may never take: negatives, ``n`` and above (``n²`` included)."""
    return st.one_of(st.sampled_from([-1, -n, n, n + 1, n * n]),
                     st.integers(max_value=-1), st.integers(min_value=n, max_value=n * n * 2))


def non_ciphertexts(n: int, p: int | None = None) -> st.SearchStrategy[int]:
    """Values outside ``Z*_{n²}``: ``≤ 0``, ``≥ n²`` and (given a factor ``p``) non-units."""
    nn = n * n
    fixed = [0, -1, -nn, nn, nn + 1, 2 * nn, n, 2 * n, nn - n]
    if p is not None:
        fixed += [p, (n // p), p * (n // p - 1), p * p]
    return st.one_of(st.sampled_from(fixed), st.integers(max_value=0),
                     st.integers(min_value=nn, max_value=4 * nn),
                     st.integers(min_value=1, max_value=n - 1).map(lambda k: k * n))


def non_units_mod_n(n: int, p: int | None = None) -> st.SearchStrategy[int]:
    """Values outside ``Z*_n`` (responses ``z`` must be in it): 0, n, negatives, multiples of p."""
    fixed = [0, -1, n, n + 1, 2 * n, n * n]
    if p is not None:
        fixed += [p, 2 * p, n // p]
    return st.one_of(st.sampled_from(fixed), st.integers(max_value=0),
                     st.integers(min_value=n, max_value=n * n))


def allowed_sets(n: int, max_size: int = 6) -> st.SearchStrategy[tuple[int, ...]]:
    """Distinct allowed values in ``[0, n)`` reaching 0, 1 and ``n − 1``."""
    return st.lists(plaintexts(n), min_size=1, max_size=max_size, unique=True).map(tuple)


def bad_allowed_sets(n: int) -> st.SearchStrategy[tuple[int, ...]]:
    """Empty, repeated, negative or ``≥ n`` allowed sets."""
    return st.one_of(
        st.just(()),
        plaintexts(n).map(lambda m: (m, m)),
        st.lists(plaintexts(n), min_size=0, max_size=3).flatmap(
            lambda good: out_of_range_plaintexts(n).map(lambda bad: (*good, bad))
            if len(set(good)) == len(good) else st.just((*good, -1))),
    )
