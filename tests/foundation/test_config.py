import pytest

from evalplat import create_app
from evalplat.config import ConfigError, from_environment


@pytest.mark.parametrize(("env", "names"), [
    ({"EVALPLAT_DATABASE_URL": "not a url"}, "EVALPLAT_DATABASE_URL"),
    ({"EVALPLAT_DATABASE_URL": "mysql://x@y/z"}, "unsupported database"),
    ({"EVALPLAT_JOB_WORKERS": "two"}, "EVALPLAT_JOB_WORKERS"),
    ({"EVALPLAT_REDACTION_WORKERS": "all"}, "EVALPLAT_REDACTION_WORKERS"),
    ({"EVALPLAT_RELIABILITY_LIVE_MAX": "1e4"}, "EVALPLAT_RELIABILITY_LIVE_MAX"),
    ({"EVALPLAT_SECURE_COOKIES": "maybe"}, "EVALPLAT_SECURE_COOKIES"),
    ({"EVALPLAT_ENV": "staging"}, "EVALPLAT_ENV"),
    ({"EVALPLAT_TIMEZONE": "Beijing"}, "EVALPLAT_TIMEZONE"),
])
def test_bad_environment_variable_names_the_problem(env, names):
    with pytest.raises(ConfigError, match=names) as info:
        from_environment(env)
    assert "\n" not in str(info.value)


def test_worker_and_live_limits_come_from_the_environment():
    cfg = from_environment({"EVALPLAT_REDACTION_WORKERS": "3", "EVALPLAT_RELIABILITY_LIVE_MAX": "10000"})
    assert (cfg["EVALPLAT_REDACTION_WORKERS"], cfg["EVALPLAT_RELIABILITY_LIVE_MAX"]) == (3, 10000)


def test_postgres_url_gets_the_psycopg_driver():
    cfg = from_environment({"EVALPLAT_DATABASE_URL": "postgresql://postgres@127.0.0.1/x"})
    assert cfg["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")


def test_production_refuses_sqlite(monkeypatch):
    from evalplat.files import generate_key

    monkeypatch.setenv("EVALPLAT_DATA_KEYS", "k1:" + generate_key())
    monkeypatch.setenv("EVALPLAT_ENV", "production")
    monkeypatch.setenv("EVALPLAT_SECRET_KEY", "x" * 40)
    monkeypatch.setenv("EVALPLAT_DATABASE_URL", "sqlite:////tmp/nowhere.db")
    with pytest.raises(ConfigError, match="PostgreSQL"):
        create_app()


def test_production_refuses_missing_secret(monkeypatch):
    monkeypatch.setenv("EVALPLAT_ENV", "production")
    monkeypatch.delenv("EVALPLAT_SECRET_KEY", raising=False)
    monkeypatch.setenv("EVALPLAT_DATABASE_URL", "postgresql://postgres@127.0.0.1/x")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()


def test_production_refuses_missing_data_keys(monkeypatch):
    monkeypatch.setenv("EVALPLAT_ENV", "production")
    monkeypatch.setenv("EVALPLAT_SECRET_KEY", "x" * 40)
    monkeypatch.setenv("EVALPLAT_DATABASE_URL", "postgresql://postgres@127.0.0.1/x")
    monkeypatch.delenv("EVALPLAT_DATA_KEYS", raising=False)
    with pytest.raises(ConfigError, match="EVALPLAT_DATA_KEYS"):
        create_app()


def test_production_sets_secure_cookies(monkeypatch):
    from evalplat.files import generate_key

    monkeypatch.setenv("EVALPLAT_DATA_KEYS", "k1:" + generate_key())
    monkeypatch.setenv("EVALPLAT_ENV", "production")
    monkeypatch.setenv("EVALPLAT_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("EVALPLAT_DATABASE_URL", "postgresql://postgres@127.0.0.1/x")
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True


def test_upload_limit_must_be_positive():
    with pytest.raises(ConfigError, match="EVALPLAT_MAX_UPLOAD_MB"):
        from_environment({"EVALPLAT_MAX_UPLOAD_MB": "0"})
    assert from_environment({"EVALPLAT_MAX_UPLOAD_MB": "5"})["EVALPLAT_MAX_UPLOAD_MB"] == 5


def test_times_are_shown_in_the_configured_zone_and_stored_in_utc():
    from datetime import UTC, datetime

    from evalplat.labels import when

    stored = datetime(2025, 1, 10, 20, 30, tzinfo=UTC)
    beijing = create_app({"TESTING": True, "SECRET_KEY": "x" * 40, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with beijing.app_context():
        assert when(stored) == "2025-01-11 04:30"  # the next day in Beijing
        assert when(stored.replace(tzinfo=None)) == "2025-01-11 04:30"  # naive values are UTC
    london = create_app({"TESTING": True, "SECRET_KEY": "x" * 40, "SQLALCHEMY_DATABASE_URI": "sqlite://",
                         **from_environment({"EVALPLAT_TIMEZONE": "Europe/London"})})
    with london.app_context():
        assert when(stored) == "2025-01-10 20:30"


def test_figures_for_people_never_show_nan_or_exponents():
    from evalplat.labels import number, percent

    assert number(float("nan")) == "—"
    assert number(None, missing="too few reviews") == "too few reviews"
    assert number(1.2e-7, 3) == "0.000"
    assert number(-0.0001, 1) == "0.0"
    assert percent(0.6842) == "68%"
