"""Kazakhstan's 17 regions and 3 cities of republican significance (after the 2022 reform).

One table, the only source of the names people read.  ``code`` is the stable id stored in
petitions (``regions_json``), the API and every form value; the *order* of a petition's
regions is its Paillier packing order (region *i* encrypts ``B^i``) and lives in that
petition's record, so nothing here reorders a petition: only the display is sorted.
:data:`app.petitions.common.DEFAULT_REGIONS` keeps its codes, order and English record
labels (the labels are hashed into each petition's fingerprint), and a test holds this table
to the same codes in the same order.

Names are the official ones: Kazakh «… облысы» / «… қаласы», Russian «… область» and, for
the regions named after a proper noun in 2022, «область Абай», «область Жетісу», «область
Ұлытау» (the spelling of the decree, with the Kazakh letters); cities «город …».  English
follows the government's romanization (Zhetysu, Zhambyl, Ulytau, Abai).  Every name has a
short form (the proper name alone, used for sorting and narrow displays) and a full form.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    """One administrative unit: a region (``облыс``) or a city of republican significance."""

    code: str
    city: bool
    en_short: str
    en: str
    kk_short: str
    kk: str
    ru_short: str
    ru: str

    def name(self, locale: str, short: bool = False) -> str:
        """The full (default) or short name in ``locale`` (``kk``, ``ru``, anything else: en)."""
        lang = locale if locale in ("kk", "ru") else "en"
        return str(getattr(self, f"{lang}_short" if short else lang))


def _r(code: str, en: str, kk: str, ru: str, ru_full: str) -> Region:
    return Region(code, False, en, f"{en} Region", kk, f"{kk} облысы", ru, ru_full)


def _c(code: str, en: str, kk: str, ru: str) -> Region:
    return Region(code, True, en, f"{en} City", kk, f"{kk} қаласы", ru, f"город {ru}")


#: In the order of ``DEFAULT_REGIONS`` (the packing order of petitions that use the default).
REGIONS: tuple[Region, ...] = (
    _r("abai", "Abai", "Абай", "Абай", "область Абай"),
    _r("akmola", "Akmola", "Ақмола", "Акмолинская", "Акмолинская область"),
    _r("aktobe", "Aktobe", "Ақтөбе", "Актюбинская", "Актюбинская область"),
    _r("almaty-region", "Almaty", "Алматы", "Алматинская", "Алматинская область"),
    _r("atyrau", "Atyrau", "Атырау", "Атырауская", "Атырауская область"),
    _r("east-kazakhstan", "East Kazakhstan", "Шығыс Қазақстан", "Восточно-Казахстанская",
       "Восточно-Казахстанская область"),
    _r("jambyl", "Zhambyl", "Жамбыл", "Жамбылская", "Жамбылская область"),
    _r("jetisu", "Zhetysu", "Жетісу", "Жетісу", "область Жетісу"),
    _r("karaganda", "Karaganda", "Қарағанды", "Карагандинская", "Карагандинская область"),
    _r("kostanay", "Kostanay", "Қостанай", "Костанайская", "Костанайская область"),
    _r("kyzylorda", "Kyzylorda", "Қызылорда", "Кызылординская", "Кызылординская область"),
    _r("mangystau", "Mangystau", "Маңғыстау", "Мангистауская", "Мангистауская область"),
    _r("north-kazakhstan", "North Kazakhstan", "Солтүстік Қазақстан", "Северо-Казахстанская",
       "Северо-Казахстанская область"),
    _r("pavlodar", "Pavlodar", "Павлодар", "Павлодарская", "Павлодарская область"),
    _r("turkistan", "Turkistan", "Түркістан", "Туркестанская", "Туркестанская область"),
    _r("ulytau", "Ulytau", "Ұлытау", "Ұлытау", "область Ұлытау"),
    _r("west-kazakhstan", "West Kazakhstan", "Батыс Қазақстан", "Западно-Казахстанская",
       "Западно-Казахстанская область"),
    _c("almaty", "Almaty", "Алматы", "Алматы"),
    _c("astana", "Astana", "Астана", "Астана"),
    _c("shymkent", "Shymkent", "Шымкент", "Шымкент"),
)
BY_CODE: dict[str, Region] = {r.code: r for r in REGIONS}

#: Alphabetical order of each language's Cyrillic (Kazakh letters in their own places:
#: А Ә … Г Ғ … К Қ … Н Ң … О Ө … У Ұ Ү … Х Һ … Ы І …); Latin for English.
_ALPHABETS: dict[str, str] = {
    "kk": "аәбвгғдеёжзийкқлмнңоөпрстуұүфхһцчшщъыіьэюя",
    "ru": "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
}
#: Kazakh letters inside Russian names (Жетісу, Ұлытау) sort with their Russian look-alikes.
_RU_FOLD = str.maketrans({"ә": "а", "ғ": "г", "қ": "к", "ң": "н", "ө": "о", "ұ": "у",
                          "ү": "у", "һ": "х", "і": "и"})


def sort_key(text: str, locale: str) -> tuple[tuple[int, int, str], ...]:
    """A collation key for ``text`` in ``locale`` (the alphabet's order, then the character)."""
    lowered = text.lower()
    if locale == "ru":
        lowered = lowered.translate(_RU_FOLD)
    alphabet = _ALPHABETS.get(locale, "")
    return tuple((0, alphabet.index(ch), ch) if ch in alphabet else
                 ((1, 0, ch) if ch.isalpha() else (2, 0, ch)) for ch in lowered)


def name(code: str, locale: str, fallback: str | None = None, short: bool = False) -> str:
    """The display name of ``code``; an unknown code shows ``fallback`` (or the code)."""
    region = BY_CODE.get(code)
    if region is None:
        return fallback if fallback is not None else code
    return region.name(locale, short)


def display_order(codes: list[str], locale: str) -> list[str]:
    """``codes`` sorted by their short names in ``locale`` (unknown codes last, as given)."""
    known = [c for c in codes if c in BY_CODE]
    known.sort(key=lambda c: sort_key(BY_CODE[c].name(locale, short=True), locale))
    return known + [c for c in codes if c not in BY_CODE]
