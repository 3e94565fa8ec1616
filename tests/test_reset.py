"""``flask reset`` (``make reset``): development only, asks first, keeps the keys unless --all."""

from __future__ import annotations

import pytest

from lms import create_app
from lms.config import DevelopmentConfig, ProductionConfig


@pytest.fixture
def dev_app(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    instance.mkdir()
    monkeypatch.setenv("LMS_DATABASE_URL", f"sqlite:///{instance / 'lms.sqlite3'}")
    app = create_app(DevelopmentConfig)
    app.instance_path = str(instance)
    (instance / "lms.sqlite3").write_bytes(b"db")
    (instance / "outbox").mkdir()
    (instance / "outbox" / "m.eml").write_text("mail")
    (instance / "secret_key").write_text("k")
    (instance / "keys").mkdir()
    (instance / "keys" / "signing.pem").write_text("private")
    return app, instance


def _names(instance):
    return sorted(p.relative_to(instance).as_posix() for p in instance.rglob("*"))


def test_reset_asks_and_keeps_the_keys(dev_app):
    app, instance = dev_app
    runner = app.test_cli_runner()
    declined = runner.invoke(args=["reset"], input="n\n")
    assert "Nothing deleted" in declined.output
    assert "lms.sqlite3" in _names(instance)
    result = runner.invoke(args=["reset"], input="y\n")
    assert result.exit_code == 0, result.output
    assert _names(instance) == ["keys", "keys/signing.pem", "secret_key"]


def test_reset_all_deletes_the_keys_too(dev_app):
    app, instance = dev_app
    result = app.test_cli_runner().invoke(args=["reset", "--all", "--yes"])
    assert result.exit_code == 0, result.output
    assert "no credential issued so far can be verified" in result.output
    assert _names(instance) == []


def test_reset_refuses_production(monkeypatch, tmp_path):
    from tests import factories

    monkeypatch.setenv("LMS_SIGNING_KEY_FILE", str(factories.signing_key_file(tmp_path)))
    monkeypatch.setenv("LMS_KEYS_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("LMS_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("LMS_BASE_URL", "https://lms.example.org")
    monkeypatch.setenv("LMS_RATELIMIT_PER_PROCESS", "1")
    monkeypatch.setenv("LMS_DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    app = create_app(ProductionConfig)
    result = app.test_cli_runner().invoke(args=["reset", "--yes"])
    assert result.exit_code == 1
    assert "development only" in result.output
