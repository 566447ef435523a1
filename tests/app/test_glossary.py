"""The kk and ru catalogues use the glossary's words, and no kk case suffix is glued to a number.

``docs/glossary.md`` holds one table row per term: the English pattern that marks a msgid as
using the term, the Kazakh and Russian stems its translation must contain, and the words to
avoid.  The matching rule (documented in the glossary): for every entry whose msgid matches a
term (case-insensitive regular expression), every msgstr form contains each stem of one
alternative (case-insensitive substring, so inflected forms pass) and no avoided word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
GLOSSARY = ROOT / "docs" / "glossary.md"
TRANSLATIONS = ROOT / "app" / "translations"
#: Wrong terms the review found; they must not come back anywhere in kk or ru.
NEVER = ("сенім білдірілген", "доверенн", "демеуші", "спонсор", "цифрлық із", "учётные данные",
         "учетные данные", "мандат", "тіркелгі деректер")


@dataclass(frozen=True)
class Term:
    """One glossary row: ``pattern`` on the msgid; per language, alternatives of required stems."""

    name: str
    pattern: re.Pattern[str]
    stems: dict[str, tuple[tuple[str, ...], ...]]
    avoid: tuple[str, ...]


def _cells(line: str) -> list[str]:
    """A markdown table row's cells; ``\\|`` is a literal bar (inside regular expressions)."""
    parts = re.split(r"(?<!\\)\|", line.strip().strip("|"))
    return [p.strip().replace("\\|", "|") for p in parts]


def _stems(cell: str) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(s.strip().lower() for s in alt.split(",") if s.strip())
                 for alt in cell.split(" or "))


def parse_glossary(text: str) -> list[Term]:
    """The rows of the table headed ``| Term | Matches | Kazakh | kk stems | …``."""
    terms: list[Term] = []
    header: list[str] | None = None
    for line in text.splitlines():
        if not line.startswith("|"):
            header = None if terms else header
            continue
        cells = _cells(line)
        if header is None:
            if cells[:2] == ["Term", "Matches"]:
                header = cells
            continue
        if set(cells[0]) <= {"-"}:
            continue
        row = dict(zip(header, cells, strict=True))
        avoid = () if row["Avoid"] in ("", "—") else tuple(
            w.strip().lower() for w in row["Avoid"].split(","))
        terms.append(Term(row["Term"], re.compile(row["Matches"].strip("`"), re.IGNORECASE),
                          {"kk": _stems(row["kk stems"]), "ru": _stems(row["ru stems"])}, avoid))
    return terms


def _catalogue(locale: str) -> Catalog:
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle)


def _ids(message: Message) -> tuple[str, ...]:
    return tuple(message.id) if isinstance(message.id, (list, tuple)) else (message.id,)


def _forms(message: Message) -> tuple[str, ...]:
    return tuple(message.string) if isinstance(message.string, (list, tuple)) else (message.string,)


def _region_names() -> set[str]:
    from app import regions
    return {r.en for r in regions.REGIONS} | {r.en_short for r in regions.REGIONS}


#: Command lines, file names and options inside a msgid are code, not prose: not matched.
CODE = re.compile(r"\bsaylau(?:\s+[a-z][a-z-]*){1,2}|[\w.-]+\.json\b|--[a-z-]+|%\([a-z_]+\)[sd]")


def glossary_violations(terms: list[Term], catalogue: Catalog, locale: str,
                        exempt: set[str]) -> list[str]:
    """``term: msgid -> msgstr`` for every entry that breaks the glossary."""
    found: list[str] = []
    for message in catalogue:
        if not message.id:
            continue
        english = " ".join(_ids(message))
        prose = CODE.sub(" ", english)
        forms = [f.lower() for f in _forms(message)]
        for term in terms:
            if not term.pattern.search(prose):
                continue
            if term.name == "region" and (message.context == "region" or english in exempt):
                continue
            ok_stems = all(any(all(s in f for s in alt) for alt in term.stems[locale])
                           for f in forms)
            bad = [w for w in term.avoid for f in forms if w in f]
            if not ok_stems or bad:
                found.append(f"{term.name}: {english!r} -> {_forms(message)!r}"
                             + (f" (avoid {bad})" if bad else ""))
    return found


def test_glossary_parses_every_term() -> None:
    terms = parse_glossary(GLOSSARY.read_text(encoding="utf-8"))
    names = {t.name for t in terms}
    assert {"trustee", "sponsor", "credential", "fingerprint", "audited (ballot)",
            "record (election record)", "entry (board entry)", "petition signature",
            "ballot", "tracker", "receipt", "bulletin board", "tally", "voter roll",
            "election official", "moderator, moderation", "region", "revote"} <= names
    assert all(t.stems["kk"] and t.stems["ru"] for t in terms)


@pytest.mark.parametrize("locale", ["kk", "ru"])
def test_catalogue_follows_the_glossary(locale: str) -> None:
    terms = parse_glossary(GLOSSARY.read_text(encoding="utf-8"))
    found = glossary_violations(terms, _catalogue(locale), locale, _region_names())
    assert found == [], "\n".join(found)


@pytest.mark.parametrize("locale", ["kk", "ru"])
def test_no_wrong_term_anywhere(locale: str) -> None:
    bad = [(m.id, f) for m in _catalogue(locale) if m.id for f in _forms(m)
           if any(w in f.lower() for w in NEVER)]
    assert bad == []


def test_the_glossary_test_catches_a_wrong_word() -> None:
    """Negative test: a catalogue that says «доверенное лицо» for a trustee fails."""
    terms = parse_glossary(GLOSSARY.read_text(encoding="utf-8"))
    bad = Catalog(locale="ru")
    bad.add("Trustee", "Доверенное лицо")
    bad.add("Sponsor this petition", "Стать спонсором этой петиции")
    bad.add("The checked ballot was published on the board as audited (never counted).",
            "Проверенный бюллетень опубликован на доске как проверочный.")
    bad.add("Trustees uploaded", "Загрузили хранители ключей")
    found = glossary_violations(terms, bad, "ru", set())
    assert len(found) == 3
    assert any(f.startswith("trustee: 'Trustee'") for f in found)
    assert any(f.startswith("sponsor:") for f in found)
    assert any("avoid ['проверочн']" in f for f in found)
    kk = Catalog(locale="kk")
    kk.add(("%(num)s signature", "%(num)s signatures"), ("%(num)s қолтаңба", "%(num)s қолтаңба"))
    assert glossary_violations(terms, kk, "kk", set()) == [
        "petition signature: '%(num)s signature %(num)s signatures' -> "
        "('%(num)s қолтаңба', '%(num)s қолтаңба') (avoid ['қолтаңба', 'қолтаңба'])"]


# -- numbers: no kk case suffix glued to a placeholder -------------------------------------

PLACEHOLDER = r"%\([a-z_]+\)[sd]"
#: ``%(x)s-ден`` (hyphen and a letter), ``%(x)sден`` (a Cyrillic letter straight after), or a
#: postposition that governs a case ending of the number/date before it (``%(date)s дейін``).
GLUED = re.compile(PLACEHOLDER + r"(?:-\w|[\u0400-\u04FF]|\s+(?:дейін|кейін|бері|бастап|ішінен)\b)")


def glued_suffixes(catalogue: Catalog) -> list[tuple[str, str]]:
    return [(" ".join(_ids(m)), f) for m in catalogue if m.id for f in _forms(m)
            if GLUED.search(f)]


def test_no_kk_suffix_after_a_placeholder() -> None:
    assert glued_suffixes(_catalogue("kk")) == []


def test_the_suffix_test_catches_glued_suffixes() -> None:
    bad = Catalog(locale="kk")
    bad.add("choose %(min)s to %(max)s", "%(min)s-ден %(max)s-ге дейін таңдаңыз")
    bad.add("open until %(date)s", "%(date)s дейін ашық")
    bad.add("line %(n)s", "%(n)sжол")
    bad.add("Sponsors: %(count)s of %(required)s", "Қосалқы бастамашылар: %(required)s ішінен %(count)s")
    bad.add("Fine: %(n)s", "Жүктелгені: %(n)s")
    assert [m for m, _ in glued_suffixes(bad)] == [
        "choose %(min)s to %(max)s", "open until %(date)s", "line %(n)s",
        "Sponsors: %(count)s of %(required)s"]


def test_ru_counts_use_plural_forms_or_a_label() -> None:
    """A Russian count in running text before a plural noun (``%(k)s действительных``) is wrong
    for 1, 2–4, 21…: such counts go through ngettext or ``Label: N``."""
    genitive_plural = re.compile(PLACEHOLDER + r"\s+[а-яё]+(?:ых|их|ей|ов)\b")
    bad = [(m.id, f) for m in _catalogue("ru") if m.id and not isinstance(m.id, (list, tuple))
           for f in _forms(m) if genitive_plural.search(f)]
    assert bad == []


@pytest.mark.parametrize("locale", ["kk", "ru", "en"])
def test_catalogue_headers_are_filled_in(locale: str) -> None:
    head = (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").read_text(encoding="utf-8")[:1500]
    for placeholder in ("FULL NAME", "EMAIL@ADDRESS", "YEAR-MO-DA", "ORGANIZATION", "VERSION\\n"):
        assert placeholder not in head
    catalogue = _catalogue(locale)
    assert catalogue.last_translator and catalogue.revision_date.year >= 2026


@pytest.mark.parametrize("locale", ["kk", "ru"])
def test_petition_messages_do_not_talk_about_elections(locale: str) -> None:
    """The ru test-key warning once pasted the election sentence after the petition one."""
    election = {"kk": "сайлау", "ru": "выбор"}[locale]
    bad = [(m.id, f) for m in _catalogue(locale) if m.id for f in _forms(m)
           if re.search(r"\bpetition", " ".join(_ids(m)), re.I)
           and not re.search(r"\b(election|vot)", " ".join(_ids(m)), re.I)
           and election in f.lower()]
    assert bad == []
    ru = _catalogue("ru").get("This petition uses INSECURE test keys (demo only).")
    assert ru is not None and ru.string.count("(") == 1
