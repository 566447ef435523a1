"""The one table of regions: stable codes in packing order, official names, display sorting."""

from __future__ import annotations

import pytest

from app import regions
from app.petitions.common import DEFAULT_REGIONS


def test_codes_and_packing_order_are_unchanged() -> None:
    """Region *i* of a default petition encrypts B^i: the table may not reorder the codes."""
    assert [r.code for r in regions.REGIONS] == [code for code, _ in DEFAULT_REGIONS]
    assert len(regions.REGIONS) == 20
    assert sum(r.city for r in regions.REGIONS) == 3


def test_official_names() -> None:
    by = regions.BY_CODE
    assert (by["jetisu"].en, by["jetisu"].kk, by["jetisu"].ru) == (
        "Zhetysu Region", "Жетісу облысы", "область Жетісу")
    assert (by["ulytau"].ru, by["abai"].ru, by["jambyl"].en) == (
        "область Ұлытау", "область Абай", "Zhambyl Region")
    assert (by["astana"].kk, by["astana"].ru, by["astana"].en) == (
        "Астана қаласы", "город Астана", "Astana City")
    assert by["akmola"].ru == "Акмолинская область"
    for r in regions.REGIONS:
        assert r.kk.endswith(" қаласы" if r.city else " облысы"), r.kk
        assert ("город " in r.ru) == r.city and ("область" in r.ru) != r.city, r.ru
        assert r.en.endswith(" City" if r.city else " Region"), r.en
    assert regions.name("no-such", "ru", "Fallback") == "Fallback"
    assert regions.name("akmola", "kk", short=True) == "Ақмола"


@pytest.mark.parametrize(("locale", "first", "last"), [
    ("en", "abai", "jetisu"),  # Zhambyl, Zhetysu
    ("kk", "abai", "shymkent"),
    ("ru", "abai", "shymkent"),
])
def test_display_order_follows_each_alphabet(locale: str, first: str, last: str) -> None:
    order = regions.display_order([r.code for r in regions.REGIONS], locale)
    assert order[0] == first and order[-1] == last
    assert sorted(order) == sorted(r.code for r in regions.REGIONS)


def test_kazakh_letters_sort_in_their_own_places() -> None:
    """Kazakh Қ is its own letter between К and Л: «Ақмола» < «Алматы», «Қарағанды» < «Қостанай»."""
    kk = regions.display_order(["almaty", "akmola", "kostanay", "karaganda", "kyzylorda"], "kk")
    assert kk == ["akmola", "almaty", "karaganda", "kostanay", "kyzylorda"]
    ru = regions.display_order(["ulytau", "turkistan", "west-kazakhstan", "jetisu", "jambyl"], "ru")
    assert ru == ["jambyl", "jetisu", "west-kazakhstan", "turkistan", "ulytau"]
    # a Unicode code-point sort puts every Kazakh letter after «я»: «Ұлытау» after «Шымкент»
    names = ["Шымкент", "Ұлытау", "Түркістан"]
    kk_order = [regions.BY_CODE[c].kk_short
                for c in regions.display_order(["shymkent", "ulytau", "turkistan"], "kk")]
    assert kk_order == ["Түркістан", "Ұлытау", "Шымкент"] != sorted(names)
