"""Languages (kk/ru/en), keyboard-only voting, contrast and a 360px-wide screen."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.app.helpers import VOTER_PASSWORD

BOOTH = "/elections/e1/booth"
ENCRYPT_LABEL = {"kk": "Бюллетенімді шифрлау", "ru": "Зашифровать бюллетень", "en": "Encrypt my ballot"}


def test_switch_language(page, live_server, login, shot):
    login(page, live_server.voter("e1"), BOOTH)
    page.wait_for_selector("#encrypt-button:not([disabled])")
    assert page.get_attribute("html", "lang") == "en"
    for code, name in (("kk", "Қазақша"), ("ru", "Русский"), ("en", "English")):
        page.click(f".lang-switch button[data-lang={code}]")
        page.wait_for_selector(f"html[lang={code}]")
        assert page.url.endswith(BOOTH)  # back on the same page
        assert page.inner_text("#encrypt-button") == ENCRYPT_LABEL[code]
        assert page.get_attribute(f".lang-switch button[data-lang={code}]", "aria-current") == "true"
        assert page.inner_text(f".lang-switch button[data-lang={code}]") == name
        page.wait_for_selector("#encrypt-button:not([disabled])")
        # the script's messages follow the language too
        status = page.inner_text("#status")
        if code == "kk":
            assert "тексерілді" in status
            shot(page, "09-booth-kk")
        elif code == "ru":
            assert "проверен" in status
            shot(page, "10-booth-ru")
        else:
            assert "checked" in status


def test_language_from_query_and_accept_language(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="ru-RU")
    try:
        pg = context.new_page()
        pg.goto("/receipt")
        assert pg.get_attribute("html", "lang") == "ru"
        assert pg.inner_text("h1") == "Проверить мою квитанцию"
        pg.goto("/receipt?lang=kk")
        assert pg.get_attribute("html", "lang") == "kk"
        assert pg.inner_text("h1") == "Түбіртегімді тексеру"
        # an off-site "next" is refused: the switch lands on the home page
        pg.goto("/lang?lang=en&next=//evil.example/")
        assert pg.url == live_server.url + "/"
        assert pg.get_attribute("html", "lang") == "en"
    finally:
        context.close()


def tab_to(page: Any, selector: str, limit: int = 40) -> None:
    """Press Tab until the focused element matches ``selector``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_keyboard_only_voting(page, live_server, shot):
    from tests.browser.conftest import STORE_CARDS_JS, roll_cards

    kb = page.keyboard
    email = live_server.voter("e1")
    page.goto(f"/auth/login?next={BOOTH}")
    # this browser enrolled the voter's roll key before voting opened (docs/protocol.md §2.7)
    page.evaluate(STORE_CARDS_JS, roll_cards(live_server.app, email))
    tab_to(page, "input[name=email]")
    kb.type(email)
    kb.press("Tab")
    kb.type(VOTER_PASSWORD)
    kb.press("Enter")
    page.wait_for_url(f"**{BOOTH}")
    page.wait_for_selector("#encrypt-button:not([disabled])")
    page.wait_for_selector("#card-status[data-card=none]")
    tab_to(page, "#get-card-button")
    kb.press("Enter")
    page.wait_for_selector("#card-status[data-card=held]")

    tab_to(page, "#opt-mayor-a")
    kb.press("Space")
    tab_to(page, "#opt-ref-yes")
    kb.press("Space")
    # the focus outline is visible
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    shot(page, "11-keyboard-focus")
    tab_to(page, "#encrypt-button")
    kb.press("Enter")
    page.wait_for_selector("#review:not([hidden])")
    # focus moved to the new section; challenge first, by keyboard
    tab_to(page, "#challenge-button")
    kb.press("Enter")
    page.wait_for_selector("#audit-result[data-audit=ok]")
    page.wait_for_selector("#continue-button:focus")
    kb.press("Enter")
    page.wait_for_selector("#review:not([hidden])")
    tab_to(page, "#cast-button")
    kb.press("Space")
    page.wait_for_selector("#done:not([hidden])")
    receipts = json.loads(page.evaluate("localStorage.getItem('saylau.receipts')"))
    assert receipts and receipts[-1]["tracker"] == page.inner_text("#receipt-tracker")
    shot(page, "12-keyboard-done")


def _luminance(rgb: tuple[float, float, float]) -> float:
    def channel(c: float) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(x) for x in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(fg: tuple[float, float, float], bg: tuple[float, float, float]) -> float:
    a, b = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (a + 0.05) / (b + 0.05)


COLOURS_JS = """(sel) => [...document.querySelectorAll(sel)].filter((e) => e.offsetParent !== null).map((e) => {
  const parse = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  let bg = [0, 0, 0, 0]; let node = e;
  while (node && node.nodeType === 1) {
    const c = parse(getComputedStyle(node).backgroundColor);
    if (c.length === 3 || (c.length === 4 && c[3] > 0)) { bg = c; break; }
    node = node.parentElement;
  }
  if (bg.length === 4 && bg[3] === 0) bg = [255, 255, 255];
  return {sel: e.id || e.className || e.tagName, fg: parse(getComputedStyle(e).color).slice(0, 3), bg: bg.slice(0, 3)};
})"""


@pytest.mark.parametrize("width", [360])
def test_contrast_and_narrow_screen(page, live_server, login, shot, width):
    page.set_viewport_size({"width": width, "height": 800})
    login(page, live_server.voter("e1"), BOOTH)
    page.wait_for_selector("#encrypt-button:not([disabled])")
    for path in (BOOTH, "/receipt"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= width, f"{path}: the page is {overflow}px wide on a {width}px screen"
        selectors = ("button, .button, label, legend, .status, .flash, .note, .hint, .meta, p, a, "
                     "h1, h2, dt, dd")
        for item in page.evaluate(COLOURS_JS, selectors):
            ratio = _contrast(tuple(item["fg"]), tuple(item["bg"]))
            assert ratio >= 4.5, f"{path}: {item['sel']} contrast {ratio:.2f} < 4.5"
    page.goto(BOOTH)
    page.wait_for_selector("#encrypt-button:not([disabled])")
    shot(page, "13-booth-360px")
