"""Every user-visible string has a Kazakh and a Russian translation, and the .mo files are current."""

import pathlib

import pytest

babel = pytest.importorskip("babel.messages.pofile")
mofile = pytest.importorskip("babel.messages.mofile")

ROOT = pathlib.Path(__file__).resolve().parent.parent / "app" / "translations"


@pytest.mark.parametrize("locale", ["kk", "ru"])
def test_catalogue_is_complete_and_compiled(locale):
    po_path = ROOT / locale / "LC_MESSAGES" / "messages.po"
    with po_path.open("rb") as handle:
        catalogue = babel.read_po(handle)
    missing = [m.id for m in catalogue if m.id and (not m.string or m.fuzzy)]
    assert missing == [], f"untranslated in {locale}: {missing[:5]}"
    with (ROOT / locale / "LC_MESSAGES" / "messages.mo").open("rb") as handle:
        compiled = mofile.read_mo(handle)
    po_strings = {m.id: m.string for m in catalogue if m.id}
    mo_strings = {m.id: m.string for m in compiled if m.id}
    assert mo_strings == po_strings, "run: pybabel compile -d app/translations"


def test_pot_template_covers_the_catalogues():
    with (ROOT / "messages.pot").open("rb") as handle:
        template = {m.id for m in babel.read_po(handle) if m.id}
    with (ROOT / "kk" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        kk = {m.id for m in babel.read_po(handle) if m.id}
    assert template <= kk
