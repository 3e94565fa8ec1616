"""Role checks in one place, shared by routes (decorators) and templates (``has_role``)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import abort
from flask_login import current_user, login_required

F = TypeVar("F", bound=Callable[..., Any])


def has_role(user: Any, role: str) -> bool:
    """True when ``user`` is logged in, active and holds ``role`` (every account is a learner)."""
    return bool(getattr(user, "is_authenticated", False)) and user.is_active and user.has_role(role)


def role_required(*roles: str) -> Callable[[F], F]:
    """Let the request through only for a logged-in user holding at least one of ``roles`` (else 403)."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not any(has_role(current_user, r) for r in roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def is_safe_next(target: str | None) -> bool:
    """Only same-host absolute paths ("/courses?x=1") are safe redirect targets after login.

    Anything with a scheme, a host, a protocol-relative prefix ("//evil") or a backslash trick is refused.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(c) < 32 for c in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc
