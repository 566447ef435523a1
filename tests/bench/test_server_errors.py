"""A long benchmark run keeps its nodes' logs (bench/cluster.py): a 500's traceback is found
in them afterwards, whole with its chained causes, and counted once."""

from __future__ import annotations

from bench.cluster import server_errors

LOG = """\
[2026-11-30 08:00:00 +0000] [1] [INFO] Booting worker with pid: 2
[2026-11-30 08:00:01,000] ERROR in errors: unhandled error on POST /api/v1/elections/x/ballots
Traceback (most recent call last):
  File "a.py", line 1, in f
    g()
KeyError: 'x'

During handling of the above exception, another exception was raised:

Traceback (most recent call last):
  File "b.py", line 2, in h
    raise
psycopg.OperationalError: boom
[2026-11-30 08:00:02 +0000] [1] [INFO] Handling signal: term
"""


def test_a_logged_traceback_is_found_whole_with_its_cause(tmp_path):
    (tmp_path / "node-0.log").write_text(LOG)
    (tmp_path / "node-1.log").write_text(
        "Traceback (most recent call last):\n  File \"c.py\", line 3, in k\nValueError: second\n")
    found = server_errors(tmp_path)
    assert found["count"] == 2
    assert found["last_lines"] == ["psycopg.OperationalError: boom", "ValueError: second"]
    first = found["first"].splitlines()
    assert first[0].endswith("unhandled error on POST /api/v1/elections/x/ballots")
    assert "KeyError: 'x'" in first and first[-1] == "psycopg.OperationalError: boom"
    assert not any("Handling signal" in line for line in first)


def test_quiet_logs_report_no_error(tmp_path):
    (tmp_path / "node-0.log").write_text(LOG.splitlines()[0] + "\n")
    assert server_errors(tmp_path) == {"count": 0, "last_lines": [], "first": ""}
    assert server_errors(tmp_path / "none")["count"] == 0
