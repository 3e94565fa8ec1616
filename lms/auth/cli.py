"""``flask users ...``: account administration for scripts and first set-up."""

from __future__ import annotations

import secrets
import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from lms.auth import services
from lms.auth.models import GRANTABLE_ROLES, User
from lms.extensions import db

users_cli = AppGroup("users", help="Create and manage accounts.")

DEMO_ACCOUNTS = (
    ("learner@example.org", "Demo Learner", (), "nurse"),
    ("educator@example.org", "Demo Educator", ("educator",), "physician"),
    ("admin@example.org", "Demo Administrator", ("admin",), "other"),
)


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def _user_or_fail(email: str) -> User:
    user = services.get_user_by_email(email)
    if user is None:
        _fail(f"no account with email {email}.")
    return user


@users_cli.command("create")
@click.argument("email")
@click.option("--name", "full_name", required=True, help="Full name as on certificates.")
@click.option("--role", "roles", multiple=True, type=click.Choice(GRANTABLE_ROLES))
@click.option("--profession", default="other", show_default=True)
@click.option("--country", default="US", show_default=True, help="ISO 3166 alpha-2 code.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_command(
    email: str,
    full_name: str,
    roles: tuple[str, ...],
    profession: str,
    country: str,
    password_stdin: bool,
) -> None:
    """Create an account (learner, plus any --role given)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        generated = False
    else:
        password = secrets.token_urlsafe(12)
        generated = True
    try:
        user = services.create_user(email, full_name, password, roles, profession=profession, country=country)
    except services.AccountError as exc:
        db.session.rollback()
        _fail(exc.message)
    db.session.commit()
    click.echo(f"Created {user.email} with roles: {', '.join(sorted(user.roles))}.")
    if generated:
        click.echo(f"Password (shown once): {password}")


@users_cli.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
def set_password_command(email: str, password_stdin: bool) -> None:
    """Set a new password for an account (an operator's reset). Ends its sessions and reset links."""
    user = _user_or_fail(email)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        generated = False
    else:
        password = secrets.token_urlsafe(12)
        generated = True
    try:
        services.set_password(user, password)
    except services.AccountError as exc:
        db.session.rollback()
        _fail(exc.message)
    services.audit(None, "password_set_by_operator", "user", user.id, "flask users set-password")
    db.session.commit()
    click.echo(f"New password set for {user.email}; every session of this account has ended.")
    if generated:
        click.echo(f"Password (shown once): {password}")


@users_cli.command("grant")
@click.argument("email")
@click.argument("role", type=click.Choice(GRANTABLE_ROLES))
def grant_command(email: str, role: str) -> None:
    """Give an account a role."""
    user = _user_or_fail(email)
    changed = services.grant_role(user, role)
    db.session.commit()
    click.echo(f"{user.email} {'now has' if changed else 'already had'} the {role} role.")


@users_cli.command("revoke")
@click.argument("email")
@click.argument("role", type=click.Choice(GRANTABLE_ROLES))
def revoke_command(email: str, role: str) -> None:
    """Take a role away from an account."""
    user = _user_or_fail(email)
    changed = services.revoke_role(user, role)
    db.session.commit()
    click.echo(f"{user.email} {'no longer has' if changed else 'did not have'} the {role} role.")


@users_cli.command("disable")
@click.argument("email")
@click.option("--reason", required=True, help="Kept in the audit trail.")
def disable_command(email: str, reason: str) -> None:
    """Stop an account from logging in (its records are kept)."""
    user = _user_or_fail(email)
    try:
        services.disable_user(user, reason)
    except services.AccountError as exc:
        db.session.rollback()
        _fail(exc.message)
    db.session.commit()
    click.echo(f"{user.email} is disabled.")


@users_cli.command("enable")
@click.argument("email")
def enable_command(email: str) -> None:
    """Let a disabled account log in again."""
    user = _user_or_fail(email)
    services.enable_user(user)
    db.session.commit()
    click.echo(f"{user.email} is enabled.")


@users_cli.command("list")
def list_command() -> None:
    """List accounts with their roles and status."""
    users = db.session.scalars(select(User).order_by(User.email)).all()
    if not users:
        click.echo("No accounts yet.")
        return
    for user in users:
        status = "disabled" if user.disabled_at else "active"
        click.echo(f"{user.email}\t{user.full_name}\t{','.join(sorted(user.roles))}\t{status}")


@users_cli.command("demo")
def demo_command() -> None:
    """Create demo learner, educator and admin accounts if there are no accounts yet."""
    if services.count_users() > 0:
        click.echo("Accounts already exist: no demo accounts created.")
        return
    created = []
    for email, name, roles, profession in DEMO_ACCOUNTS:
        password = secrets.token_urlsafe(12)
        services.create_user(email, name, password, roles, profession=profession)
        created.append((email, password, ", ".join(("learner", *roles))))
    db.session.commit()
    click.echo("Demo accounts (passwords are shown only this once):")
    for email, password, roles in created:
        click.echo(f"  {email:<24} {password}   ({roles})")
