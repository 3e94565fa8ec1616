"""Outgoing mail: SMTP when ``LMS_SMTP_HOST`` is set, otherwise a file outbox in ``instance/outbox``.

The outbox keeps development and small installations working without a mail server; administrators read it
at /admin/outbox.
"""

from __future__ import annotations

import os
import re
import secrets
import smtplib
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime, make_msgid, parsedate_to_datetime
from pathlib import Path
from typing import Any

from flask import current_app

from lms.timeutil import utcnow


@dataclass(frozen=True)
class OutboxMessage:
    name: str
    to: str
    subject: str
    date: str
    body: str

    @property
    def sent_at(self) -> datetime | None:
        """The Date header as naive UTC (how the app stores times), for display in the site's zone."""
        try:
            parsed = parsedate_to_datetime(self.date)
        except (TypeError, ValueError):
            return None
        return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def outbox_dir(config: Any | None = None) -> Path:
    cfg = config if config is not None else current_app.config
    return Path(cfg.get("MAIL_OUTBOX") or Path(current_app.instance_path) / "outbox")


def send_mail(to: str, subject: str, body: str) -> None:
    """Send a plain-text message through the configured transport."""
    cfg = current_app.config
    msg = EmailMessage()
    msg["From"] = cfg["MAIL_SENDER"]
    msg["To"] = to
    msg["Subject"] = subject
    now = utcnow()
    msg["Date"] = format_datetime(now.replace(tzinfo=UTC))
    msg["Message-ID"] = make_msgid(domain="helix-lms")
    msg.set_content(body)
    if cfg.get("SMTP_HOST"):
        with smtplib.SMTP(cfg["SMTP_HOST"], cfg["SMTP_PORT"], timeout=20) as smtp:
            if cfg.get("SMTP_STARTTLS"):
                smtp.starttls()
            if cfg.get("SMTP_USERNAME"):
                smtp.login(cfg["SMTP_USERNAME"], cfg.get("SMTP_PASSWORD") or "")
            smtp.send_message(msg)
        return
    folder = outbox_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = f"{now.strftime('%Y%m%dT%H%M%S%f')}-{secrets.token_hex(4)}.eml"
    # 0600 from the start: messages hold sign-in and reset links, other local users must not read them.
    fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(msg.as_bytes(policy=default_policy))


#: outbox file names as send_mail writes them (anything else is refused, so no path can be smuggled in)
OUTBOX_NAME = re.compile(r"^\d{8}T\d{12}(-[0-9a-f]{8})?\.eml$")
#: the token part of an emailed link: a long URL-safe path segment
_TOKEN_LINK = re.compile(r"(https?://[^\s/]+(?:/[^\s/]+)*?/)([A-Za-z0-9_\-]{20,})(?=[\s?#]|$)")


def redact_links(body: str) -> str:
    """The message text with every token-bearing link's token hidden."""
    return _TOKEN_LINK.sub(r"\1[link hidden]", body)


def read_outbox(limit: int = 100) -> list[OutboxMessage]:
    """The newest messages in the file outbox, newest first."""
    folder = outbox_dir()
    if not folder.is_dir():
        return []
    paths = sorted((p for p in folder.glob("*.eml") if OUTBOX_NAME.match(p.name)), reverse=True)
    return [_parse(path) for path in paths[:limit]]


def read_outbox_message(name: str) -> OutboxMessage | None:
    """One message by file name, or None for a name send_mail would not have written."""
    if not OUTBOX_NAME.match(name):
        return None
    path = outbox_dir() / name
    return _parse(path) if path.is_file() else None


def _parse(path: Path) -> OutboxMessage:
    parsed = message_from_bytes(path.read_bytes(), policy=default_policy)
    body_part = parsed.get_body(preferencelist=("plain",))
    return OutboxMessage(
        name=path.name,
        to=str(parsed["To"]),
        subject=str(parsed["Subject"]),
        date=str(parsed["Date"]),
        body=body_part.get_content() if body_part else "",
    )
