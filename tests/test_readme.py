"""The README answers a newcomer's first questions (issue 9, point 13)."""

from __future__ import annotations

from pathlib import Path

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_readme_covers_roles_port_password_reset_mail_and_instance_keys():
    for needed in (
        "| **learner**",
        "| **educator**",
        "| **admin**",
        "make run PORT=8080",
        "users set-password",
        "instance/outbox/",
        "destroys those keys",
        "make reset",
        "ARGS=--all",
        "only the\nruntime dependencies",
    ):
        assert needed in README, needed
