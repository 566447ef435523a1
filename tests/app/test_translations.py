"""Every user-visible string has a Kazakh and a Russian translation, and the .mo files are current."""

import pathlib

import pytest

babel = pytest.importorskip("babel.messages.pofile")
mofile = pytest.importorskip("babel.messages.mofile")

ROOT = pathlib.Path(__file__).resolve().parents[2] / "app" / "translations"


def _key(message):
    """(msgctxt, msgid): the same msgid may appear under several contexts (pgettext)."""
    msgid = tuple(message.id) if isinstance(message.id, (list, tuple)) else message.id
    context = message.context
    if isinstance(context, bytes):  # babel's read_mo leaves msgctxt undecoded
        context = context.decode("utf-8")
    return (context, msgid)


def _string(message):
    """Plural entries (ngettext) are read as lists from .mo and tuples from .po."""
    return tuple(message.string) if isinstance(message.string, (list, tuple)) else message.string


def _untranslated(message):
    forms = _string(message)
    return message.fuzzy or not forms or (isinstance(forms, tuple) and not all(forms))


@pytest.mark.parametrize("locale", ["kk", "ru"])
def test_catalogue_is_complete_and_compiled(locale):
    po_path = ROOT / locale / "LC_MESSAGES" / "messages.po"
    with po_path.open("rb") as handle:
        catalogue = babel.read_po(handle)
    missing = [m.id for m in catalogue if m.id and _untranslated(m)]
    assert missing == [], f"untranslated in {locale}: {missing[:5]}"
    with (ROOT / locale / "LC_MESSAGES" / "messages.mo").open("rb") as handle:
        compiled = mofile.read_mo(handle)
    po_strings = {_key(m): _string(m) for m in catalogue if m.id}
    mo_strings = {_key(m): _string(m) for m in compiled if m.id}
    assert mo_strings == po_strings, "run: pybabel compile -d app/translations"


def test_pot_template_covers_the_catalogues():
    with (ROOT / "messages.pot").open("rb") as handle:
        template = {_key(m) for m in babel.read_po(handle) if m.id}
    with (ROOT / "kk" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        kk = {_key(m) for m in babel.read_po(handle) if m.id}
    assert template <= kk
