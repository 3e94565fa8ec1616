"""Site settings that administrators change at run time (provider, signatory, paper size, images).

They override the configuration of the same name. Certificates copy every printed value at issue, so a
change here never alters an issued certificate. Kept at the bottom of the import graph: areas read it, the
admin area writes it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from lms.extensions import db

#: setting key → configuration key it overrides
KEYS: dict[str, str] = {
    "provider_name": "PROVIDER_NAME",
    "signatory_name": "CERT_SIGNATORY_NAME",
    "signatory_title": "CERT_SIGNATORY_TITLE",
    "paper": "CERT_PAPER",
    "signature_image": "CERT_SIGNATURE_IMAGE",
    "logo_image": "CERT_LOGO_IMAGE",
}


class SiteSetting(db.Model):
    __tablename__ = "site_setting"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


def effective(config: Any) -> dict[str, str]:
    """Every setting: the value an administrator stored, else the configuration's (one query)."""
    stored = {key: value for key, value in db.session.execute(select(SiteSetting.key, SiteSetting.value))}
    return {key: stored.get(key, str(config.get(conf_key) or "")) for key, conf_key in KEYS.items()}


def save(values: dict[str, str | None], actor_id: int | None, now: datetime) -> list[str]:
    """Store changed values (None: back to the configuration's); returns the keys that changed. Flushes."""
    changed = []
    for key, value in values.items():
        if key not in KEYS:
            raise KeyError(key)
        row = db.session.get(SiteSetting, key)
        if value is None:
            if row is not None:
                db.session.delete(row)
                changed.append(key)
        elif row is None:
            db.session.add(SiteSetting(key=key, value=value, updated_at=now, updated_by_id=actor_id))
            changed.append(key)
        elif row.value != value:
            row.value, row.updated_at, row.updated_by_id = value, now, actor_id
            changed.append(key)
    db.session.flush()
    return changed
