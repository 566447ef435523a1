"""app/config.py: one typed registry of settings, from SAYLAU_* variables and an optional file."""

import pathlib

import pytest

from app import create_app
from app.config import DEFAULTS, ConfigError, docs_markdown, from_environment

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_configuration_md_is_generated_from_app_config():
    committed = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert committed == docs_markdown(), "docs/configuration.md is stale: run python -m app.config"


def test_every_petition_setting_is_in_the_one_registry():
    for name in ("PETITION_SPONSORS_REQUIRED", "PETITION_BATCH_MAX", "PETITION_BATCH_TIMEOUT_S",
                 "PETITION_SIGN_LIMIT", "PETITION_ELECTION_KEY"):
        assert name in DEFAULTS


def test_prefixed_environment_variables_are_converted_to_the_setting_type(tmp_path):
    values = from_environment(str(tmp_path), {
        "SAYLAU_PETITION_BATCH_MAX": "7", "SAYLAU_PETITION_BATCH_ENABLED": "false",
        "SAYLAU_PETITION_OPEN_DAYS": "30.5", "SAYLAU_SMTP_PORT": "25",
        "SAYLAU_DATABASE_SCHEMA": ""})
    assert values["PETITION_BATCH_MAX"] == 7
    assert values["PETITION_BATCH_ENABLED"] is False
    assert values["PETITION_OPEN_DAYS"] == 30.5
    assert values["SMTP_PORT"] == 25
    assert values["DATABASE_SCHEMA"] is None
    assert values["DATABASE_URL"] == f"sqlite:///{tmp_path / 'saylau.db'}"


def test_old_variable_names_keep_working(tmp_path):
    values = from_environment(str(tmp_path), {"SAYLAU_RATELIMIT_STORAGE": "redis://x",
                                              "SAYLAU_INSECURE_COOKIES": "1", "SAYLAU_DEMO": "1"})
    assert values["RATELIMIT_STORAGE_URI"] == "redis://x"
    assert values["SESSION_COOKIE_SECURE"] is False
    assert values["DEMO"] is True


def test_a_bad_value_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="SAYLAU_PETITION_BATCH_MAX='many': not a valid int"):
        from_environment(str(tmp_path), {"SAYLAU_PETITION_BATCH_MAX": "many"})
    with pytest.raises(ConfigError, match="not a valid bool"):
        from_environment(str(tmp_path), {"SAYLAU_DEMO": "perhaps"})


def test_an_unknown_variable_is_refused_at_start_up(tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match="unknown setting SAYLAU_PETITION_BATCH_MAXX"):
        from_environment(str(tmp_path), {"SAYLAU_PETITION_BATCH_MAXX": "7"})
    monkeypatch.setenv("SAYLAU_SECRT_KEY", "x" * 32)
    with pytest.raises(ConfigError, match="unknown setting SAYLAU_SECRT_KEY"):
        create_app({"TESTING": True})


def test_test_only_flags_are_refused_outside_testing_or_demo(tmp_path):
    with pytest.raises(ConfigError, match=r"test-only settings \['ALLOW_TEST_KEYS'\]"):
        from_environment(str(tmp_path), {"SAYLAU_ALLOW_TEST_KEYS": "1"})
    assert from_environment(str(tmp_path), {"SAYLAU_ALLOW_TEST_KEYS": "1",
                                            "SAYLAU_DEMO": "1"})["ALLOW_TEST_KEYS"] is True
    assert from_environment(str(tmp_path), {"SAYLAU_FAST_PASSWORD_HASH": "1",
                                            "SAYLAU_TESTING": "1"})["FAST_PASSWORD_HASH"] is True


def test_a_toml_file_under_the_environment(tmp_path):
    path = tmp_path / "saylau.toml"
    path.write_text('PETITION_BATCH_MAX = 9\nPETITION_SIGN_LIMIT = "5/minute"\n')
    values = from_environment(str(tmp_path), {"SAYLAU_CONFIG_FILE": str(path),
                                              "SAYLAU_PETITION_SIGN_LIMIT": "6/minute"})
    assert values["PETITION_BATCH_MAX"] == 9
    assert values["PETITION_SIGN_LIMIT"] == "6/minute"  # the variable wins


def test_a_python_file_and_its_unknown_names(tmp_path):
    path = tmp_path / "saylau_cfg.py"
    path.write_text("PETITION_OPEN_DAYS = 10\nhelper = 1\n")
    assert from_environment(str(tmp_path), {"SAYLAU_CONFIG_FILE": str(path)})[
        "PETITION_OPEN_DAYS"] == 10
    path.write_text("PETITION_OPEN_DAYZ = 10\n")
    with pytest.raises(ConfigError, match=r"unknown settings \['PETITION_OPEN_DAYZ'\]"):
        from_environment(str(tmp_path), {"SAYLAU_CONFIG_FILE": str(path)})


def test_the_app_sees_petition_settings_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SAYLAU_PETITION_BATCH_MAX", "3")
    monkeypatch.setenv("SAYLAU_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    app = create_app({"TESTING": True})
    assert app.config["PETITION_BATCH_MAX"] == 3
    assert app.config["RATELIMIT_ENABLED"] is False  # the testing default still applies


def test_the_postgresql_pool_follows_the_settings(tmp_path, pg_schema):
    """A worker keeps DATABASE_POOL_SIZE connections open: with SQLAlchemy's default of 5, a
    worker with 32 request threads opened and closed a PostgreSQL connection (a server
    process) for most requests under load."""
    from app import create_app
    from app.db import get_engine
    from tests.conftest import PG_BASE_URL

    app = create_app({"TESTING": True, "DATABASE_URL": PG_BASE_URL, "DATABASE_SCHEMA": pg_schema,
                      "OUTBOX_DIR": str(tmp_path / "outbox"), "DATABASE_POOL_SIZE": 24,
                      "DATABASE_MAX_OVERFLOW": 3})
    pool = get_engine(app).pool
    assert (pool.size(), pool._max_overflow) == (24, 3)  # type: ignore[attr-defined]
    get_engine(app).dispose()
    default = create_app({"TESTING": True, "DATABASE_URL": PG_BASE_URL,
                          "DATABASE_SCHEMA": pg_schema, "OUTBOX_DIR": str(tmp_path / "outbox")})
    assert get_engine(default).pool.size() == DEFAULTS["DATABASE_POOL_SIZE"] == 16  # type: ignore[attr-defined]
    get_engine(default).dispose()


@pytest.mark.parametrize(("name", "value"), [("DATABASE_POOL_SIZE", 0), ("DATABASE_POOL_SIZE", "8"),
                                             ("DATABASE_MAX_OVERFLOW", -1),
                                             ("DATABASE_MAX_OVERFLOW", True)])
def test_a_bad_pool_setting_stops_the_start(tmp_path, name, value):
    from app import create_app

    with pytest.raises(ConfigError, match=rf"^SAYLAU_{name} must be an integer of at least"):
        create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
                    "OUTBOX_DIR": str(tmp_path / "outbox"), name: value})
