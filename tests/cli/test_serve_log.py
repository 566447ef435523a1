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
