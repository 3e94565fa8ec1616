"""Absolute links come from LMS_BASE_URL, never from the Host header."""

from __future__ import annotations

import re

import pytest

from lms import create_app
from lms.config import DevelopmentConfig, default_base_url
from lms.mail import read_outbox
from lms.urls import external_url
from tests import factories


def test_development_defaults_to_the_local_server_and_its_port():
    config: dict = {"ENV_NAME": "development"}
    default_base_url(config, {})
    assert config["BASE_URL"] == "http://127.0.0.1:5000"
    config = {"ENV_NAME": "development"}
    default_base_url(config, {"LMS_PORT": "8080"})
    assert config["BASE_URL"] == "http://127.0.0.1:8080"
    config = {"ENV_NAME": "production"}
    default_base_url(config, {"LMS_PORT": "8080"})
    assert "BASE_URL" not in config  # production must be told (check_production refuses to start)


def test_development_app_builds_links_without_a_request(monkeypatch, tmp_path):
    monkeypatch.setenv("LMS_DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    monkeypatch.setenv("LMS_PORT", "8080")
    monkeypatch.delenv("LMS_BASE_URL", raising=False)
    app = create_app(DevelopmentConfig)
    with app.app_context():
        assert external_url("auth.login") == "http://127.0.0.1:8080/login"


class TestForgedHost:
    @pytest.fixture
    def app_config(self):
        return {"BASE_URL": "https://lms.example.org/cme"}

    def test_mail_links_ignore_the_host_header(self, app, client):
        factories.create_user(app, email="ana@example.org")
        client.post(
            "/forgot-password",
            data={"email": "ana@example.org"},
            headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"},
        )
        with app.test_request_context():
            body = read_outbox()[0].body
        assert "evil.example" not in body
        assert re.search(r"https://lms\.example\.org/cme/reset-password/\S+", body)
