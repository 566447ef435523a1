"""E-mails in the recipient's language, localized dates, translated error sentences.

The language comes from the roll CSV's optional ``language`` column, else the account
(``User.language``: chosen at registration, by the language switcher while logged in, or the
page a citizen asked from), else the sender's request.  Mails are read back from the outbox
(the ``.eml`` files the outbox backend writes).
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
import secrets
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.db import new_session
from app.models import OutboxMessage, RollEntry, User, UserSession
from app.security import token_hash
from app.services import elections as election_service
from app.services import roll as roll_service
from app.services import users as user_service
from crypto.election import Manifest
from tests.app.helpers import OFFICIAL_EMAIL, OFFICIAL_PASSWORD, manifest_json
from tests.app.petitions_helpers import login, make_user, petition_app

ISO = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


@pytest.fixture()
def app(tmp_path: Path, issuer_test_key: Any) -> Any:
    return petition_app(f"sqlite:///{tmp_path / 'mail.db'}", tmp_path, issuer_test_key)


def _eml(app: Any, to: str) -> email.message.EmailMessage:
    """The newest .eml in the outbox addressed to ``to``."""
    outbox = Path(app.config["OUTBOX_DIR"])
    for path in sorted(outbox.glob("*.eml"), reverse=True):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if msg["To"] == to:
            return msg  # type: ignore[return-value]
    raise AssertionError(f"no mail to {to}")


def _body(msg: email.message.EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return _spaces(str(part.get_content()))


def _spaces(text: str) -> str:
    """Babel writes dates with (narrow) no-break spaces; compare with plain ones."""
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def _election_with_roll(app: Any, csv: str) -> None:
    with app.app_context():
        db = new_session(app)
        election = election_service.create_election(
            db, Manifest.from_json(manifest_json("lang1")), revote_policy="no-revote",
            issuer_key=app.config["TEST_ISSUER_KEY"])
        roll_service.import_roll(db, election, csv)
        roll_service.send_invitations(db, election, "http://127.0.0.1:5000", 3600)
        db.commit()
        db.close()


def test_invitations_follow_the_roll_language(app: Any) -> None:
    _election_with_roll(app, "email,name,language\n"
                             "aigerim@example.org,Айгерім,kk\n"
                             "ivan@example.org,Иван,RU\n"
                             "john@example.org,John,\n")
    kk, ru, en = (_eml(app, a) for a in ("aigerim@example.org", "ivan@example.org",
                                         "john@example.org"))
    assert kk["Subject"] == "Дауыс беруге шақыру: Test election lang1"
    body = _body(kk)
    assert "Құрметті Айгерім!" in body and "сайлаушылар тізіміне" in body
    assert "«Кіру» батырмасын" in body and "/auth/link/" in body
    assert " ж." in body and not ISO.search(body)  # «2026 ж. 29 қараша, 14:05»
    assert ru["Subject"] == "Приглашение к голосованию: Test election lang1"
    body = _body(ru)
    assert "Здравствуйте, Иван!" in body and "список избирателей" in body
    assert re.search(r"действительна до \d{1,2} [а-я]+ \d{4} г\., \d{2}:\d{2}", body)
    assert en["Subject"] == "Your invitation to vote: Test election lang1"
    assert "Hello John," in _body(en) and not ISO.search(_body(en))
    with app.app_context():
        db = new_session(app)
        langs = dict(db.execute(select(RollEntry.email, RollEntry.language)).all())
        users = dict(db.execute(select(User.email, User.language)).all())
        db.close()
    assert langs == {"aigerim@example.org": "kk", "ivan@example.org": "ru",
                     "john@example.org": None}
    assert users["aigerim@example.org"] == "kk" and users["john@example.org"] is None


def test_the_account_language_is_the_fallback(app: Any) -> None:
    with app.app_context():
        db = new_session(app)
        user_service.get_or_create_user(db, "dana@example.org", "Dana", language="ru")
        db.commit()
        db.close()
    _election_with_roll(app, "email,name\ndana@example.org,Dana\n")
    assert _eml(app, "dana@example.org")["Subject"].startswith("Приглашение к голосованию")


@pytest.mark.parametrize(("csv", "message"), [
    ("email,name,language\na@example.org,A,de\n", "unknown language 'de'"),
    ("email,name,language\na@example.org,A\n", "expected 3 columns"),
    ("email,name,lang\na@example.org,A,kk\n", "email,name,language"),
])
def test_bad_language_column_is_a_line_error(csv: str, message: str) -> None:
    with pytest.raises(roll_service.RollError, match=message):
        roll_service.parse_roll_csv(csv)


def test_unknown_language_at_registration_is_refused(app: Any) -> None:
    with app.app_context():
        db = new_session(app)
        with pytest.raises(ValueError, match="unknown language 'fr'"):
            user_service.get_or_create_user(db, "x@example.org", "X", language="fr")
        db.close()


def _request_confirmation(app: Any, client: Any, email_addr: str, lang: str) -> None:
    headers = login(client, email_addr)
    r = client.post("/api/v1/petitions/confirm-email", headers={**headers,
                                                                 "Accept-Language": lang})
    assert r.status_code == 202, r.get_json()


def test_petition_confirmation_in_the_citizens_language(app: Any) -> None:
    client = app.test_client()
    make_user(app, "saule@example.org")
    _request_confirmation(app, client, "saule@example.org", "kk")
    msg = _eml(app, "saule@example.org")
    assert msg["Subject"] == "Петицияларға арналған электрондық поштаңызды растаңыз"
    body = _body(msg)
    assert "қосалқы бастамашысы" in body and "/petitions/confirm/" in body
    assert "Сілтеменің жарамдылық мерзімі: " in body and not ISO.search(body)
    # the page's language became the account's: a later request from an English page keeps kk
    _request_confirmation(app, client, "saule@example.org", "en")
    assert _eml(app, "saule@example.org")["Subject"].startswith("Петицияларға")


def test_switching_language_while_logged_in_sets_the_mail_language(app: Any) -> None:
    make_user(app, "oleg@example.org")
    client = app.test_client()
    with app.app_context():
        db = new_session(app)
        uid = db.scalars(select(User.id).where(User.email == "oleg@example.org")).one()
        # a browser session is server side (app.security.login_user): the cookie's sid must
        # have its row, or the person counts as logged out
        sid = secrets.token_urlsafe(32)
        db.add(UserSession(user_id=uid, sid_hash=token_hash(sid)))
        db.commit()
        db.close()
    with client.session_transaction() as session:
        session["user_id"] = uid
        session["sid"] = sid
    assert client.get("/lang?lang=ru&next=/").status_code == 303
    with app.app_context():
        db = new_session(app)
        user = db.scalars(select(User).where(User.email == "oleg@example.org")).one()
        assert user.language == "ru"
        db.close()
    client.post("/api/v1/petitions/confirm-email",
                headers=login(client, "oleg@example.org"))
    msg = _eml(app, "oleg@example.org")
    assert msg["Subject"] == "Подтвердите адрес электронной почты для петиций"
    assert "соинициатором" in _body(msg)


def test_outbox_table_matches_the_eml(app: Any) -> None:
    _election_with_roll(app, "email,name,language\nasel@example.org,Асель,kk\n")
    with app.app_context():
        db = new_session(app)
        row = db.scalars(select(OutboxMessage)).one()
        db.close()
    assert row.subject == _eml(app, "asel@example.org")["Subject"]


# -- dates -------------------------------------------------------------------------------

MOMENT = dt.datetime(2026, 11, 29, 9, 5, 7, 123456, tzinfo=dt.UTC)


@pytest.mark.parametrize(("locale", "expected_dt", "expected_d"), [
    ("kk", "2026 ж. 29 қараша, 14:05", "2026 ж. 29 қараша"),
    ("ru", "29 ноября 2026 г., 14:05", "29 ноября 2026 г."),
    ("en", "November 29, 2026, 2:05 PM", "November 29, 2026"),
])
def test_date_filters(app: Any, locale: str, expected_dt: str, expected_d: str) -> None:
    from app.i18n import date_local, datetime_local

    with app.test_request_context(f"/?lang={locale}"):
        assert _spaces(datetime_local(MOMENT)) == expected_dt  # Asia/Almaty, UTC+5; no seconds
        assert _spaces(datetime_local(MOMENT.isoformat())) == expected_dt
        assert _spaces(datetime_local("2026-11-29T09:05:07")) == expected_dt  # naive = UTC
        assert _spaces(date_local(MOMENT)) == expected_d
        assert datetime_local(None) == "" and date_local("") == ""


def test_error_pages_and_catalogue_are_translated(app: Any) -> None:
    client = app.test_client()
    page = client.get("/petitions/987654?lang=kk").get_data(as_text=True)
    assert "Бұл мекенжай бойынша ештеңе табылмады." in page or "Мұндай бет жоқ." in page
    assert "not found" not in page.lower().replace("nothing was found", "")
    from flask import render_template

    with app.test_request_context("/?lang=ru"):
        block = render_template("_page_locale.html")
    match = re.search(r'<script type="application/json" id="saylau-error-messages">(.*?)</script>',
                      block)
    assert match
    import json
    messages = json.loads(match.group(1))
    assert messages["already_signed"].startswith("Вы уже подписали эту петицию")
    assert messages["not_on_roll"] == "Вас нет в списке избирателей этих выборов."
    assert messages["status:429"].startswith("Слишком много запросов")
    assert all(re.search("[а-яё]", v) for v in messages.values())
    templates = Path(__file__).resolve().parents[2] / "app" / "templates"
    for page in ("booth/booth.html", "petitions/sign.html"):  # the pages that call the API
        assert '{% include "_page_locale.html" %}' in (templates / page).read_text()


def test_official_login_page_still_english_by_default(app: Any) -> None:
    with app.app_context():
        db = new_session(app)
        user_service.get_or_create_user(db, OFFICIAL_EMAIL, "Official", ("official",),
                                        password=OFFICIAL_PASSWORD)
        db.commit()
        db.close()
    assert "Log in" in app.test_client().get("/auth/login").get_data(as_text=True)


@pytest.mark.parametrize(("locale", "template", "november"), [
    ("kk", "{y} ж. {d} {MMMM}, {HH}:{mm}", "қараша"),
    ("ru", "{d} {MMMM} {y} г., {HH}:{mm}", "ноября"),
])
def test_date_format_data_for_browsers_without_the_locale(app: Any, locale: str, template: str,
                                                         november: str) -> None:
    from app.i18n import date_format_data

    with app.test_request_context(f"/?lang={locale}"):
        data = date_format_data()
    assert _spaces(data["template"]) == template
    assert len(data["months"]) == 12 and data["months"][10] == november


@pytest.mark.parametrize(("locale", "expected"), [("kk", "10 000"), ("ru", "10 000"),
                                                  ("en", "10,000")])
def test_number_filter(app: Any, locale: str, expected: str) -> None:
    from app.i18n import number_local

    with app.test_request_context(f"/?lang={locale}"):
        assert _spaces(number_local(10_000)) == expected and number_local(None) == ""
        assert number_local(7) == "7"
    with app.test_request_context(f"/?lang={locale}"):
        from flask import render_template_string
        html = render_template_string(
            "{{ ngettext('%(num)s signature', '%(num)s signatures', n, num=n|number_local) }}",
            n=12_345)
    assert _spaces(html).startswith(expected.replace("10", "12").replace("000", "345"))
