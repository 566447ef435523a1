"""The development server's access log never shows the secret of a one-time link."""

import logging

from saylau.cmd_serve import RedactSecretsInAccessLog


def _render(msg, *args):
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, msg, args, None)
    RedactSecretsInAccessLog().filter(record)
    return record.getMessage()


def test_login_and_confirmation_tokens_are_redacted():
    line = _render('%s - - [x] "%s" %s -', "127.0.0.1", "GET /auth/link/SeCrEtToKeN123 HTTP/1.1", "200")
    assert "SeCrEtToKeN123" not in line and "/auth/link/<redacted>" in line
    line = _render('"POST /petitions/confirm/abc-DEF_9?next=/ HTTP/1.1" 303 -')
    assert "abc-DEF_9" not in line and "/petitions/confirm/<redacted>?next=/" in line


def test_other_paths_are_left_alone():
    line = _render('%s - - "%s" %s -', "127.0.0.1", "GET /elections/demo-2026/booth HTTP/1.1", "200")
    assert "/elections/demo-2026/booth" in line


def _render_address_free(msg, *args):
    from saylau.cmd_serve import AddressFreeAccessLog
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, msg, args, None)
    AddressFreeAccessLog().filter(record)
    return record.getMessage()


def test_access_log_lines_carry_no_address_and_no_time():
    line = _render_address_free('203.0.113.9 - - [29/Nov/2026 13:45:01] "%s" %s -',
                                "POST /api/v1/elections/e/ballots HTTP/1.1", "201")
    assert "203.0.113.9" not in line and "13:45:01" not in line and "201" in line
    line = _render_address_free('%s - - "%s" %s -', "198.51.100.1", "GET / HTTP/1.1", "200")
    assert "198.51.100.1" not in line and "GET / HTTP/1.1" in line


def test_access_log_is_off_by_default_and_gunicorn_writes_none():
    import runpy
    from pathlib import Path

    from saylau.cmd_serve import configure_access_log
    configure_access_log(False)
    assert not logging.getLogger("werkzeug").isEnabledFor(logging.INFO)
    configure_access_log(True)
    assert logging.getLogger("werkzeug").isEnabledFor(logging.INFO)
    configure_access_log(False)
    conf = runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))
    assert conf["accesslog"] is None
    assert "%(h)s" not in conf["access_log_format"] and "%(r)s" not in conf["access_log_format"]
    assert "%(U)s" not in conf["access_log_format"]
