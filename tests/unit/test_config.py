"""Configuration: classes, LMS_* variables, secret-key rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from lms import create_app
from lms.config import (
    ConfigError,
    ProductionConfig,
    check_production,
    config_from_env,
    ensure_secret_key,
    env_overrides,
)
from tests import factories


def test_env_overrides_are_typed():
    values = env_overrides(
        {
            "LMS_DATABASE_URL": "postgresql+psycopg://u@h/db",
            "LMS_RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
            "LMS_SITE_NAME": "Helix",
            "LMS_PROVIDER_NAME": "Provider",
            "LMS_SMTP_PORT": "2525",
            "LMS_SMTP_STARTTLS": "no",
        }
    )
    assert values == {
        "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://u@h/db",
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
        "SITE_NAME": "Helix",
        "PROVIDER_NAME": "Provider",
        "SMTP_PORT": 2525,
        "SMTP_STARTTLS": False,
    }


def test_config_from_env_rejects_unknown():
    assert config_from_env({"LMS_CONFIG": "production"}) is ProductionConfig
    with pytest.raises(ConfigError, match="LMS_CONFIG"):
        config_from_env({"LMS_CONFIG": "staging"})


def test_production_refuses_to_start_without_secret_key(monkeypatch, tmp_path):
    monkeypatch.delenv("LMS_SECRET_KEY", raising=False)
    monkeypatch.setenv("LMS_DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    with pytest.raises(ConfigError, match="LMS_SECRET_KEY is not set"):
        create_app(ProductionConfig)


def test_production_refuses_to_start_without_base_url(monkeypatch, tmp_path):
    monkeypatch.setenv("LMS_SECRET_KEY", "k" * 40)
    monkeypatch.delenv("LMS_BASE_URL", raising=False)
    monkeypatch.setenv("LMS_DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    with pytest.raises(ConfigError, match="LMS_BASE_URL is not set"):
        create_app(ProductionConfig)


def test_production_with_secret_key_has_secure_cookies(monkeypatch, tmp_path):
    monkeypatch.setenv("LMS_BASE_URL", "https://lms.example.org")
    monkeypatch.setenv("LMS_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("LMS_SIGNING_KEY_FILE", str(_signing_key_file(tmp_path)))
    monkeypatch.setenv("LMS_DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    monkeypatch.setenv("LMS_RATELIMIT_PER_PROCESS", "1")
    app = create_app(ProductionConfig)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def _signing_key_file(folder: Path) -> Path:
    return factories.signing_key_file(folder)


def test_env_overrides_read_the_key_store_settings():
    values = env_overrides(
        {"LMS_SIGNING_KEY_FILE": "/etc/lms/signing.pem", "LMS_KEYS_DIR": "/var/lib/lms/keys"}
    )
    assert values == {"SIGNING_KEY_FILE": "/etc/lms/signing.pem", "KEYS_DIR": "/var/lib/lms/keys"}


def test_production_refuses_to_start_without_signing_key_file(monkeypatch, tmp_path):
    monkeypatch.setenv("LMS_BASE_URL", "https://lms.example.org")
    monkeypatch.setenv("LMS_SECRET_KEY", "k" * 40)
    monkeypatch.delenv("LMS_SIGNING_KEY_FILE", raising=False)
    monkeypatch.setenv("LMS_DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    with pytest.raises(ConfigError, match="LMS_SIGNING_KEY_FILE is not set") as caught:
        create_app(ProductionConfig)
    assert "openssl genpkey" in str(caught.value)  # the message says how to make one


def test_production_refuses_a_signing_key_file_that_does_not_exist(tmp_path):
    missing = tmp_path / "nowhere.pem"
    with pytest.raises(ConfigError, match="which is not a file"):
        check_production(
            {
                "ENV_NAME": "production",
                "BASE_URL": "https://lms.example.org",
                "SIGNING_KEY_FILE": str(missing),
            }
        )


def test_production_mapping_with_signing_key_file_starts(monkeypatch, tmp_path):
    monkeypatch.setenv("LMS_DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    key_file = _signing_key_file(tmp_path)
    app = create_app(
        {
            "CONFIG_CLASS": ProductionConfig,
            "SECRET_KEY": "k" * 40,
            "BASE_URL": "https://lms.example.org",
            "SIGNING_KEY_FILE": str(key_file),
            "KEYS_DIR": str(tmp_path / "keys"),
            "RATELIMIT_PER_PROCESS": True,
        }
    )
    assert app.config["SIGNING_KEY_FILE"] == str(key_file)


def test_development_generates_secret_once_and_keeps_it(tmp_path):
    first: dict = {"ENV_NAME": "development"}
    ensure_secret_key(first, tmp_path)
    second: dict = {"ENV_NAME": "development"}
    ensure_secret_key(second, tmp_path)
    assert first["SECRET_KEY"] == second["SECRET_KEY"]
    assert len(first["SECRET_KEY"]) >= 40
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_factory_runs_no_queries(migrated, monkeypatch):
    """Building the app must not touch the database (the start-up guard would raise)."""
    from lms.startup import StartupQueryError, forbid_queries

    with pytest.raises(StartupQueryError), forbid_queries(True):
        import sqlalchemy as sa

        engine = sa.create_engine(migrated)
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("select 1"))
        finally:
            engine.dispose()
    monkeypatch.setenv("LMS_DATABASE_URL", migrated)
    from lms.config import TestingConfig

    create_app(TestingConfig)  # would raise StartupQueryError if any step queried
